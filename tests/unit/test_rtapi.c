/* test_rtapi.c - the runtime-API client against a scripted fake HAProxy
 * CLI on a unix socket in the same loop: the handshake, replies split in
 * pieces, queue order, and every hostile case (silence, oversized reply,
 * NUL bytes, a connection dropped mid-reply, a reply without its prompt,
 * garbage in the handshake, unsolicited data, a refused connection, a
 * restart behind the socket), with the message each one leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "err.h"
#include "rtapi.h"

enum fake_mode {
	FAKE_OK = 0,	/* "show stat" answered in three pieces */
	FAKE_SILENT,	/* user commands get no answer */
	FAKE_BIG,	/* 5000-byte answer */
	FAKE_DROP,	/* half an answer, then close */
	FAKE_NUL,	/* an answer with a NUL byte */
	FAKE_ECHO,	/* "echo:<line>" */
	FAKE_CHATTY,	/* unsolicited bytes right after the handshake */
	FAKE_BADLEVEL,	/* `show cli level` answers nonsense */
	FAKE_NOPROMPT,	/* an answer without the prompt, then silence */
	FAKE_GARBLED,	/* `prompt` answered with escape sequences */
};

struct fake_srv {
	uv_pipe_t listener;
	char dir[64];
	char path[108];
	enum fake_mode mode;
	int pid;
	int accepted;
	int lines;
};

struct fake_conn {
	uv_pipe_t pipe;
	struct fake_srv *srv;
	char buf[8192];
	size_t len;
};

static void on_conn_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_fake_write(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
}

static void fake_send(struct fake_conn *c, const char *data, size_t len)
{
	uv_write_t *w = malloc(sizeof(*w));
	char *copy = malloc(len);
	uv_buf_t b;

	memcpy(copy, data, len);
	w->data = copy;
	b = uv_buf_init(copy, (unsigned)len);
	if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, on_fake_write) != 0) {
		free(copy);
		free(w);
	}
}

static void fake_puts(struct fake_conn *c, const char *s)
{
	fake_send(c, s, strlen(s));
}

static void fake_close(struct fake_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void fake_line(struct fake_conn *c, const char *line)
{
	struct fake_srv *s = c->srv;
	char tmp[512];

	s->lines++;
	if (strcmp(line, "prompt") == 0 && s->mode == FAKE_GARBLED) {
		fake_puts(c, "\x1b[2Jjunk\n\n> ");
		return;
	}
	if (strcmp(line, "prompt") == 0 ||
	    strcmp(line, "set severity-output number") == 0) {
		fake_puts(c, "\n> ");
		return;
	}
	if (strcmp(line, "show cli level") == 0) {
		fake_puts(c, s->mode == FAKE_BADLEVEL ? "[6]: root\n\n> "
						      : "[6]: admin\n\n> ");
		return;
	}
	if (strcmp(line, "show info") == 0) {
		snprintf(tmp, sizeof(tmp),
			 "Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nPid: %d\n"
			 "Uptime_sec: 5\nStart_time_sec: %d\n\n> ",
			 s->pid, 1000 + s->pid);
		fake_puts(c, tmp);
		if (s->mode == FAKE_CHATTY)
			fake_puts(c, "surprise\n");
		return;
	}
	switch (s->mode) {
	case FAKE_OK:
		fake_puts(c, "# pxname,svname\n");
		fake_puts(c, "app,web1\n");
		fake_puts(c, "\n> ");
		break;
	case FAKE_SILENT:
		break;
	case FAKE_BIG: {
		char *big = malloc(5004);

		memset(big, 'x', 5000);
		memcpy(big + 5000, "\n\n> ", 4);
		fake_send(c, big, 5004);
		free(big);
		break;
	}
	case FAKE_DROP:
		fake_puts(c, "# pxname,svn");
		fake_close(c);
		break;
	case FAKE_NUL:
		fake_send(c, "a\0b\n\n> ", 7);
		break;
	case FAKE_NOPROMPT:
		fake_puts(c, "partial\n");
		break;
	case FAKE_ECHO:
	case FAKE_CHATTY:
	case FAKE_BADLEVEL:
	case FAKE_GARBLED:
		snprintf(tmp, sizeof(tmp), "echo:%s\n\n> ", line);
		fake_puts(c, tmp);
		break;
	}
}

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fake_conn *c = h->data;

	b->base = c->buf + c->len;
	b->len = sizeof(c->buf) - c->len;
}

static void fake_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct fake_conn *c = st->data;
	char *nl;

	if (n < 0) {
		fake_close(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		*nl = '\0';
		fake_line(c, c->buf);
		if (uv_is_closing((uv_handle_t *)&c->pipe))
			return;
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len);
	}
}

static void fake_accept(uv_stream_t *l, int status)
{
	struct fake_srv *s = l->data;
	struct fake_conn *c = calloc(1, sizeof(*c));

	c->srv = s;
	uv_pipe_init(l->loop, &c->pipe, 0);
	c->pipe.data = c;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&c->pipe), 0);
	s->accepted++;
	uv_read_start((uv_stream_t *)&c->pipe, fake_alloc, fake_read);
}

static void fake_start(uv_loop_t *loop, struct fake_srv *s, enum fake_mode m)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/cutover-rtapi-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/admin.sock", s->dir);
	s->mode = m;
	s->pid = 42;
	uv_pipe_init(loop, &s->listener, 0);
	s->listener.data = s;
	assert_int_equal(uv_pipe_bind(&s->listener, s->path), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 8, fake_accept), 0);
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, h->data == arg ? NULL : on_conn_closed);
}

static void fake_stop(uv_loop_t *loop, struct fake_srv *s)
{
	uv_close((uv_handle_t *)&s->listener, NULL);
	/* Close the fake's connections (their data is a fake_conn). */
	uv_walk(loop, close_any, s);
	uv_run(loop, UV_RUN_DEFAULT);
	unlink(s->path);
	rmdir(s->dir);
}

/* ---- client side --------------------------------------------------------- */

struct result {
	int calls;
	int status;
	char reply[8192];
	int order;
};

static int order_counter;

static void on_reply(int status, const char *reply, size_t len, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	r->order = ++order_counter;
	snprintf(r->reply, sizeof(r->reply), "%.*s", (int)len, reply);
}

static struct rtapi *client(uv_loop_t *loop, const char *path,
			    uint64_t timeout_ms, size_t reply_max)
{
	struct rtapi_opts o = { timeout_ms, reply_max };
	struct rtapi_addr a;
	char spec[160];

	snprintf(spec, sizeof(spec), "unix:%s", path);
	assert_int_equal(rtapi_addr_parse(spec, &a, NULL), 0);
	return rtapi_new(loop, &a, &o);
}

static void run_until(uv_loop_t *loop, const int *calls, int want)
{
	uint64_t start = uv_now(loop);

	while (*calls < want && uv_now(loop) - start < 5000)
		uv_run(loop, UV_RUN_ONCE);
	assert_int_equal(*calls, want);
}

static void finish(uv_loop_t *loop, struct rtapi *api, struct fake_srv *s)
{
	rtapi_free(api);
	fake_stop(loop, s);
	assert_int_equal(uv_loop_close(loop), 0);	/* nothing left open */
}

static void test_handshake_and_reply(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_OK);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	assert_int_equal(r.calls, 0);	/* never from inside send */
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.reply, "# pxname,svname\napp,web1\n");
	assert_int_equal(rtapi_level(api), RTAPI_LEVEL_ADMIN);
	assert_non_null(rtapi_info(api));
	assert_int_equal(rtapi_info(api)->pid, 42);
	assert_int_equal(s.accepted, 1);
	finish(&loop, api, &s);
}

static void test_queue_order_one_connection(void **state)
{
	struct result r[3] = { { 0 } };
	int calls = 0;
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;
	int i;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_ECHO);
	api = client(&loop, s.path, 2000, 0);
	order_counter = 0;
	assert_int_equal(rtapi_send(api, "one", on_reply, &r[0]), 0);
	assert_int_equal(rtapi_send(api, "two", on_reply, &r[1]), 0);
	assert_int_equal(rtapi_send(api, "three", on_reply, &r[2]), 0);
	while (calls < 3 && uv_run(&loop, UV_RUN_ONCE) >= 0)
		calls = r[0].calls + r[1].calls + r[2].calls;
	for (i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].order, i + 1);
	}
	assert_string_equal(r[2].reply, "echo:three\n");
	assert_int_equal(s.accepted, 1);	/* kept connection */
	finish(&loop, api, &s);
}

static void test_timeout_then_reconnect(void **state)
{
	struct result r = { 0 }, r2 = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_SILENT);
	api = client(&loop, s.path, 150, 0);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_ETIMEOUT);
	assert_non_null(strstr(rtapi_last_error(api), "150 ms"));
	assert_non_null(strstr(rtapi_last_error(api),
			       "waiting for the reply to 'show stat'"));
	s.mode = FAKE_ECHO;
	assert_int_equal(rtapi_send(api, "again", on_reply, &r2), 0);
	run_until(&loop, &r2.calls, 1);
	assert_int_equal(r2.status, 0);
	assert_string_equal(r2.reply, "echo:again\n");
	assert_int_equal(s.accepted, 2);
	finish(&loop, api, &s);
}

static void test_oversized_reply(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_BIG);
	api = client(&loop, s.path, 2000, 1000);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_ETOOBIG);
	assert_string_equal(r.reply, "");
	assert_string_equal(rtapi_last_error(api), "reply to 'show stat' too "
			    "large (over 1000 bytes)");
	finish(&loop, api, &s);
}

static void test_drop_mid_reply(void **state)
{
	struct result r = { 0 }, r2 = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_DROP);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	assert_int_equal(rtapi_send(api, "queued", on_reply, &r2), 0);
	run_until(&loop, &r2.calls, 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, CUT_ECLOSED);
	assert_int_equal(r2.status, CUT_ECLOSED);	/* the queue fails too */
	assert_string_equal(rtapi_last_error(api), "connection closed by "
			    "HAProxy in the middle of the reply to 'show stat' "
			    "(12 bytes)");
	finish(&loop, api, &s);
}

static void test_nul_in_reply(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_NUL);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_EPROTO);
	assert_string_equal(rtapi_last_error(api),
			    "garbled reply to 'show stat': NUL byte");
	finish(&loop, api, &s);
}

/* A reply that never reaches its prompt times out, and says so. */
static void test_incomplete_reply(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_NOPROMPT);
	api = client(&loop, s.path, 150, 0);
	assert_int_equal(rtapi_send(api, "show stat", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_ETIMEOUT);
	assert_string_equal(rtapi_last_error(api), "timed out after 150 ms in "
			    "the middle of the reply to 'show stat' (8 bytes, "
			    "no prompt)");
	finish(&loop, api, &s);
}

/* Garbage in the handshake: refused, quoted without its escape bytes. */
static void test_garbled_handshake(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_GARBLED);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "x", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_EPROTO);
	assert_string_equal(rtapi_last_error(api),
			    "unexpected reply to 'prompt': \"?[2Jjunk\"");
	finish(&loop, api, &s);
}

static void test_unsolicited_data(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_CHATTY);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "x", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	/* Either the garbage arrives before the reply (EPROTO) or glued
	 * to it, making an answer that does not end at a prompt: the
	 * client must not take it as the reply to "x". */
	assert_true(r.status == CUT_EPROTO || r.status == CUT_ETIMEOUT ||
		    (r.status == 0 && strcmp(r.reply, "echo:x\n") == 0));
	finish(&loop, api, &s);
}

static void test_bad_level(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_BADLEVEL);
	api = client(&loop, s.path, 2000, 0);
	assert_int_equal(rtapi_send(api, "x", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, CUT_EPROTO);
	finish(&loop, api, &s);
}

static void test_refused_is_async(void **state)
{
	struct result r = { 0 };
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	api = client(&loop, "/nonexistent/cutover.sock", 2000, 0);
	assert_int_equal(rtapi_send(api, "show info", on_reply, &r), 0);
	assert_int_equal(r.calls, 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(r.status, UV_ENOENT);
	assert_non_null(strstr(rtapi_last_error(api), "cannot connect"));
	rtapi_free(api);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_restart_detected(void **state)
{
	struct result r = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_DROP);
	api = client(&loop, s.path, 2000, 0);
	s.mode = FAKE_ECHO;
	assert_int_equal(rtapi_send(api, "a", on_reply, &r), 0);
	run_until(&loop, &r.calls, 1);
	assert_int_equal(rtapi_generation(api), 0);
	s.mode = FAKE_DROP;	/* the old process goes away */
	assert_int_equal(rtapi_send(api, "b", on_reply, &r2), 0);
	run_until(&loop, &r2.calls, 1);
	s.mode = FAKE_ECHO;
	s.pid = 43;		/* a new process answers */
	assert_int_equal(rtapi_send(api, "c", on_reply, &r3), 0);
	run_until(&loop, &r3.calls, 1);
	assert_int_equal(r3.status, 0);
	assert_int_equal(rtapi_info(api)->pid, 43);
	assert_int_equal(rtapi_generation(api), 1);
	finish(&loop, api, &s);
}

static void test_free_cancels_pending(void **state)
{
	struct result r = { 0 };
	struct fake_srv s;
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	fake_start(&loop, &s, FAKE_SILENT);
	api = client(&loop, s.path, 5000, 0);
	assert_int_equal(rtapi_send(api, "x", on_reply, &r), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	rtapi_free(api);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, CUT_ECANCELED);
	fake_stop(&loop, &s);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_lines_refused(void **state)
{
	struct result r = { 0 };
	struct rtapi *api;
	uv_loop_t loop;

	uv_loop_init(&loop);
	api = client(&loop, "/nonexistent/x.sock", 100, 0);
	assert_int_equal(rtapi_send(api, "", on_reply, &r), CUT_EUSAGE);
	assert_int_equal(rtapi_send(api, "a\nb", on_reply, &r), CUT_EUSAGE);
	rtapi_free(api);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_addr_parse(void **state)
{
	struct rtapi_addr a;
	struct cut_err err;

	assert_int_equal(rtapi_addr_parse("unix:/run/haproxy/admin.sock", &a, &err), 0);
	assert_int_equal(a.kind, RTAPI_ADDR_UNIX);
	assert_string_equal(a.path, "/run/haproxy/admin.sock");
	assert_int_equal(rtapi_addr_parse("/run/x.sock", &a, &err), 0);
	assert_int_equal(a.kind, RTAPI_ADDR_UNIX);
	assert_int_equal(rtapi_addr_parse("tcp:127.0.0.1:9999", &a, &err), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "9999");
	assert_int_equal(rtapi_addr_parse("tcp:[::1]:9999", &a, &err), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(rtapi_addr_parse("tcp:lb1.example:80", &a, &err), 0);
	assert_string_equal(a.host, "lb1.example");
	assert_int_equal(rtapi_addr_parse("tcp:127.0.0.1", &a, &err), CUT_EUSAGE);
	assert_int_equal(rtapi_addr_parse("tcp:h:0", &a, &err), CUT_EUSAGE);
	assert_int_equal(rtapi_addr_parse("tcp:h:70000", &a, &err), CUT_EUSAGE);
	assert_non_null(strstr(err.msg, "bad port"));
	assert_int_equal(rtapi_addr_parse("http://x", &a, &err), CUT_EUSAGE);
	assert_int_equal(rtapi_addr_parse("unix:", &a, &err), CUT_EUSAGE);
	assert_int_equal(rtapi_addr_parse("", &a, &err), CUT_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_reply),
		cmocka_unit_test(test_queue_order_one_connection),
		cmocka_unit_test(test_timeout_then_reconnect),
		cmocka_unit_test(test_oversized_reply),
		cmocka_unit_test(test_drop_mid_reply),
		cmocka_unit_test(test_nul_in_reply),
		cmocka_unit_test(test_incomplete_reply),
		cmocka_unit_test(test_garbled_handshake),
		cmocka_unit_test(test_unsolicited_data),
		cmocka_unit_test(test_bad_level),
		cmocka_unit_test(test_refused_is_async),
		cmocka_unit_test(test_restart_detected),
		cmocka_unit_test(test_free_cancels_pending),
		cmocka_unit_test(test_bad_lines_refused),
		cmocka_unit_test(test_addr_parse),
	};

	return cmocka_run_group_tests_name("rtapi", tests, NULL, NULL);
}
