/* confirm.c - a yes/no question on the terminal (confirm.h). */
#include "confirm.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct confirm {
	uv_tty_t tty;
	confirm_fn *cb;
	void *arg;
	bool answered;
	char line[256];
};

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void answer(struct confirm *c, bool yes)
{
	if (c->answered)
		return;
	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tty);
	uv_tty_reset_mode();
	uv_close((uv_handle_t *)&c->tty, on_closed);
	c->cb(yes, c->arg);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct confirm *c = h->data;

	b->base = c->line;
	b->len = sizeof(c->line);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct confirm *c = s->data;

	if (n == 0)
		return;
	answer(c, n > 0 && (b->base[0] == 'y' || b->base[0] == 'Y'));
}

struct confirm *confirm_ask(uv_loop_t *loop, const char *question,
			    confirm_fn *cb, void *arg)
{
	struct confirm *c;

	if (!isatty(STDIN_FILENO) || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (uv_tty_init(loop, &c->tty, STDIN_FILENO, 1) != 0) {
		free(c);
		return NULL;
	}
	c->tty.data = c;
	c->cb = cb;
	c->arg = arg;
	printf("%s [y/N] ", question);
	fflush(stdout);
	uv_read_start((uv_stream_t *)&c->tty, on_alloc, on_read);
	return c;
}

void confirm_cancel(struct confirm *c)
{
	answer(c, false);
}
