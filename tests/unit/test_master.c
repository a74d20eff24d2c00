/* test_master.c - unit tests for src/master.c: LB specs that carry the
 * master CLI address ("ADDR,master=ADDR"), and master_run() on a real
 * loop against a fake master on a unix socket that answers only once the
 * client has half-closed, as HAProxy's master does (HAPROXY.md §3.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

static void test_spec_plain(void **state)
{
	struct lb_spec s;
	struct cut_err err = { 0 };

	(void)state;
	assert_int_equal(lb_spec_parse("unix:/run/haproxy/admin.sock", &s, &err), 0);
	assert_false(s.has_master);
	assert_string_equal(s.lb.path, "/run/haproxy/admin.sock");
	assert_int_equal(lb_spec_parse("tcp:127.0.0.1:9999", &s, &err), 0);
	assert_false(s.has_master);
	assert_int_equal(s.lb.kind, RTAPI_ADDR_TCP);
}

static void test_spec_master(void **state)
{
	struct lb_spec s;
	struct cut_err err = { 0 };

	(void)state;
	assert_int_equal(lb_spec_parse("unix:/run/haproxy/admin.sock,"
				       "master=unix:/run/haproxy-master.sock",
				       &s, &err), 0);
	assert_true(s.has_master);
	assert_string_equal(s.lb.spec, "unix:/run/haproxy/admin.sock");
	assert_string_equal(s.master.path, "/run/haproxy-master.sock");
	assert_string_equal(s.master.spec, "unix:/run/haproxy-master.sock");
	assert_int_equal(lb_spec_parse("tcp:[::1]:9999,master=tcp:lb1:9998",
				       &s, &err), 0);
	assert_true(s.has_master);
	assert_string_equal(s.lb.host, "::1");
	assert_int_equal(s.master.kind, RTAPI_ADDR_TCP);
	assert_string_equal(s.master.host, "lb1");
	assert_string_equal(s.master.port, "9998");
	assert_int_equal(lb_spec_parse("/a.sock,master=/m.sock", &s, &err), 0);
	assert_string_equal(s.master.path, "/m.sock");
}

static void test_spec_bad(void **state)
{
	static const char *const bad[] = {
		"",
		",master=unix:/m",
		"unix:/a,",
		"unix:/a,master=",
		"unix:/a,master=nowhere",
		"unix:/a,master=unix:",
		"unix:/a,master=tcp:127.0.0.1",
		"unix:/a,master=tcp:h:0",
		"unix:/a,primary=unix:/m",
		"unix:/a,master=unix:/m,master=unix:/n",
		"unix:/a,master=unix:/m,",
		"udp:/a,master=unix:/m",
	};
	struct lb_spec s;
	struct cut_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(lb_spec_parse(bad[i], &s, &err), CUT_EUSAGE);
		assert_true(strlen(err.msg) > 0);
		if (strstr(bad[i], "master=") != NULL && bad[i][0] == 'u' &&
		    strncmp(bad[i], "udp", 3) != 0)
			assert_non_null(strstr(err.msg, bad[i]));
	}
}

/* ---- master_run on a real loop ----------------------------------------- */

struct fake {
	uv_pipe_t server;
	uv_pipe_t peer;
	char got[256];
	size_t gotlen;
	const char *answer;
	bool eof_seen;
	uv_write_t wr;
};

struct result {
	int calls, status;
	char reply[256];
	char msg[CUT_ERR_MSG_MAX];
};

static void on_peer_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_answer_written(uv_write_t *r, int status)
{
	struct fake *fk = r->data;

	(void)status;
	uv_close((uv_handle_t *)&fk->peer, on_peer_closed);
}

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char slab[512];

	(void)h;
	(void)hint;
	b->base = slab;
	b->len = sizeof(slab);
}

/* Answer only at EOF: a client that does not half-close gets nothing. */
static void fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fake *fk = s->data;
	uv_buf_t out;

	if (n > 0 && fk->gotlen + (size_t)n < sizeof(fk->got)) {
		memcpy(fk->got + fk->gotlen, b->base, (size_t)n);
		fk->gotlen += (size_t)n;
	} else if (n == UV_EOF) {
		fk->eof_seen = true;
		uv_read_stop(s);
		out = uv_buf_init((char *)fk->answer,
				  (unsigned)strlen(fk->answer));
		fk->wr.data = fk;
		uv_write(&fk->wr, s, &out, 1, on_answer_written);
	}
}

static void fake_conn(uv_stream_t *srv, int status)
{
	struct fake *fk = srv->data;

	assert_int_equal(status, 0);
	uv_pipe_init(srv->loop, &fk->peer, 0);
	fk->peer.data = fk;
	assert_int_equal(uv_accept(srv, (uv_stream_t *)&fk->peer), 0);
	uv_read_start((uv_stream_t *)&fk->peer, fake_alloc, fake_read);
}

static void on_done(int status, const char *reply, size_t len,
		    const struct cut_err *err, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	snprintf(r->reply, sizeof(r->reply), "%.*s", (int)len, reply);
	if (err != NULL)
		snprintf(r->msg, sizeof(r->msg), "%s", err->msg);
}

static void test_run_real_loop(void **state)
{
	uv_loop_t loop;
	struct fake fk = { .answer = "#<PID> <type>\n1 master\n\n" };
	struct rtapi_addr addr;
	struct result r = { 0 };
	char path[108];

	(void)state;
	snprintf(path, sizeof(path), "/tmp/cutover-test-master-%ld.sock",
		 (long)getpid());
	unlink(path);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_pipe_init(&loop, &fk.server, 0), 0);
	fk.server.data = &fk;
	assert_int_equal(uv_pipe_bind(&fk.server, path), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&fk.server, 4, fake_conn), 0);
	assert_int_equal(rtapi_addr_parse(path, &addr, NULL), 0);
	assert_int_equal(master_run(&loop, &addr, "show proc", 5000, 1024,
				    on_done, &r), 0);
	assert_int_equal(r.calls, 0);	/* never from inside master_run */
	while (r.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.reply, fk.answer);
	assert_true(fk.eof_seen);
	assert_int_equal(fk.gotlen, strlen("show proc\n"));
	assert_memory_equal(fk.got, "show proc\n", fk.gotlen);

	/* A reply over the cap is an error that names the master. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(master_run(&loop, &addr, "show proc", 5000, 4,
				    on_done, &r), 0);
	while (r.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(r.status, CUT_ETOOBIG);
	assert_non_null(strstr(r.msg, path));
	assert_non_null(strstr(r.msg, "show proc"));

	/* Nobody listening: an error naming the master, once. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(rtapi_addr_parse("unix:/nonexistent/m.sock", &addr,
					  NULL), 0);
	assert_int_equal(master_run(&loop, &addr, "show proc", 5000, 1024,
				    on_done, &r), 0);
	uv_close((uv_handle_t *)&fk.server, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 1);
	assert_true(r.status < 0);
	assert_non_null(strstr(r.msg, "unix:/nonexistent/m.sock"));
	assert_int_equal(master_run(&loop, &addr, "two\nlines", 5000, 1024,
				    on_done, &r), CUT_EUSAGE);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_plain),
		cmocka_unit_test(test_spec_master),
		cmocka_unit_test(test_spec_bad),
		cmocka_unit_test(test_run_real_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
