/* cmd_status.c - `cutover status [FILTER] [--watch] [--json]`: read every
 * LB in parallel, merge, render. With --watch, redraw in place on a
 * terminal every --interval until interrupted (exit 0). */
#include "app.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct status_cmd {
	struct app *a;
	const char *filter;
	uv_timer_t timer;
	bool reading;
	bool stopping;
};

static void status_read(struct status_cmd *sc);

static void on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void status_stop(struct status_cmd *sc, int exit_code)
{
	struct app *a = sc->a;

	sc->stopping = true;
	a->cmd = NULL;
	uv_close((uv_handle_t *)&sc->timer, on_timer_closed);
	app_finish(a, exit_code);
}

static void on_tick(uv_timer_t *t)
{
	status_read(t->data);
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct status_cmd *sc = arg;
	struct app *a = sc->a;
	struct status_report r;
	struct buf b;
	size_t unknown = fleet_view_unknown(v);
	int exit_code = unknown > 0 ? EXIT_LB : EXIT_OK;

	sc->reading = false;
	if (sc->stopping) {
		fleet_view_free(v);
		return;
	}
	buf_init(&b, 256u << 20);
	if (status_build(v, sc->filter, &r) != 0) {
		fleet_view_free(v);
		buf_free(&b);
		status_stop(sc, EXIT_FAILED);
		return;
	}
	if (a->opt->watch && a->out.tty && !a->out.json)
		buf_appendf(&b, "\033[H\033[2J");
	out_status_render(&a->out, &r, &b);
	if (b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_free(&b);
	if (sc->filter != NULL && r.n == 0 && unknown < v->n) {
		fprintf(stderr, "cutover: no backend or server matches '%s'\n",
			sc->filter);
		exit_code = EXIT_USAGE;
	} else if (unknown > 0) {
		for (size_t j = 0; j < v->n; j++)
			if (v->lb[j].status != 0)
				fprintf(stderr, "cutover: %s: %s\n",
					v->lb[j].name, v->lb[j].err.msg);
	}
	status_report_free(&r);
	fleet_view_free(v);
	if (!a->opt->watch) {
		status_stop(sc, exit_code);
		return;
	}
	uv_timer_start(&sc->timer, on_tick, a->opt->interval_ms, 0);
}

static void status_read(struct status_cmd *sc)
{
	int rc;

	sc->reading = true;
	rc = fleet_read(sc->a->fleet, NULL, FLEET_READ_STATE | FLEET_READ_STAT,
			on_view, sc);
	if (rc != 0) {
		sc->reading = false;
		fprintf(stderr, "cutover: %s\n", cut_strerror(rc));
		status_stop(sc, cli_exit_for(rc));
	}
}

static int status_start(struct app *a)
{
	struct status_cmd *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		return EXIT_FAILED;
	sc->a = a;
	sc->filter = a->opt->nargs > 0 ? a->opt->args[0] : NULL;
	uv_timer_init(a->loop, &sc->timer);
	sc->timer.data = sc;
	a->cmd = sc;
	status_read(sc);
	return 0;
}

static void status_signal(struct app *a, int count)
{
	struct status_cmd *sc = a->cmd;

	if (sc == NULL || sc->stopping)
		return;
	/* Leaving a watch is the normal way out of it. */
	status_stop(sc, a->opt->watch ? EXIT_OK : EXIT_INTERRUPTED);
}

const struct app_cmd_ops cmd_status_ops = {
	.start = status_start,
	.signal = status_signal,
};
