/* test_probe.c - probes against real servers on 127.0.0.1 in the test's
 * own loop: a tiny HTTP server (status, body, delay or silence, a script
 * of statuses per request), a bound but not listening port (connection
 * refused), a full accept queue (a connect that hangs), and real child
 * processes for the exec check. No timed asserts: tests count tries and
 * compare reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <uv.h>

#include "err.h"
#include "log.h"
#include "probe.h"

/* ---- a tiny HTTP server ---------------------------------------------- */

#define SRV_SCRIPT_MAX 16

struct srv {
	uv_tcp_t listener;
	int port;
	char portstr[8];
	int status;			/* after the script */
	int script[SRV_SCRIPT_MAX];	/* statuses of the first requests */
	int nscript;
	char *body;			/* owned */
	size_t body_len;
	int delay_ms;			/* -1: never answer */
	int requests;
	char last_request[256];		/* first line of the last request */
	struct conn *conns;
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct srv *s;
	struct conn *next, **pprev;
	int status;
	int closes;
	bool closing;
	size_t len;
	char buf[4096];
};

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (++c->closes == 2)
		free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	struct conn *c = w->handle->data;

	free(w);
	conn_close(c);
}

static void conn_respond(struct conn *c)
{
	struct srv *s = c->s;
	char head[256];
	uv_write_t *w;
	uv_buf_t b[2];
	char *mem;
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d Whatever\r\nContent-Type: text/plain\r\n"
		     "%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     c->status,
		     c->status == 302 ? "Location: http://127.0.0.1:9/\r\n" : "",
		     s->body_len);
	w = malloc(sizeof(*w) + (size_t)n);
	assert_non_null(w);
	mem = (char *)(w + 1);
	memcpy(mem, head, (size_t)n);
	b[0] = uv_buf_init(mem, (unsigned)n);
	b[1] = uv_buf_init(s->body, (unsigned)s->body_len);
	if (uv_write(w, (uv_stream_t *)&c->tcp, b, s->body_len > 0 ? 2 : 1,
		     on_written) != 0) {
		free(w);
		conn_close(c);
	}
}

static void on_delay(uv_timer_t *t)
{
	conn_respond(t->data);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	b->base = c->buf + c->len;
	b->len = sizeof(c->buf) - 1 - c->len;
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = st->data;
	struct srv *s = c->s;
	int i;

	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (c->status != 0 || strstr(c->buf, "\r\n\r\n") == NULL)
		return;
	i = s->requests++;
	c->status = i < s->nscript ? s->script[i] : s->status;
	snprintf(s->last_request, sizeof(s->last_request), "%.*s",
		 (int)strcspn(c->buf, "\r\n"), c->buf);
	if (s->delay_ms < 0)
		return;		/* never answer; close on the client's EOF */
	uv_timer_start(&c->timer, on_delay, (uint64_t)s->delay_ms, 0);
}

static void srv_accept(uv_stream_t *l, int status)
{
	struct srv *s = l->data;
	struct conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->s = s;
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->next = s->conns;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	c->pprev = &s->conns;
	s->conns = c;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void srv_start(uv_loop_t *loop, struct srv *s, int status,
		      const char *body)
{
	struct sockaddr_in a;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	memset(s, 0, sizeof(*s));
	s->status = status;
	if (body != NULL) {
		s->body = strdup(body);
		s->body_len = strlen(body);
	}
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &a), 0);
	assert_int_equal(uv_tcp_bind(&s->listener, (struct sockaddr *)&a, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 64,
				   srv_accept), 0);
	assert_int_equal(uv_tcp_getsockname(&s->listener,
					    (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	snprintf(s->portstr, sizeof(s->portstr), "%d", s->port);
}

static void srv_stop(struct srv *s)
{
	while (s->conns != NULL)
		conn_close(s->conns);
	uv_close((uv_handle_t *)&s->listener, NULL);
	free(s->body);
	s->body = NULL;
}

/* A port that refuses connections: bound, never listening. */
struct refuser {
	uv_tcp_t tcp;
	char portstr[8];
};

static void refuser_start(uv_loop_t *loop, struct refuser *r)
{
	struct sockaddr_in a;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	uv_tcp_init(loop, &r->tcp);
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &a), 0);
	assert_int_equal(uv_tcp_bind(&r->tcp, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_tcp_getsockname(&r->tcp, (struct sockaddr *)&ss,
					    &len), 0);
	snprintf(r->portstr, sizeof(r->portstr), "%d",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

/* A port where connect() hangs: backlog 0 and a full accept queue (Linux
 * drops further SYNs). Plain sockets: this runs before the loop. */
struct hanger {
	int fds[3];
	char portstr[8];
};

static void hanger_start(struct hanger *h)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int i;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(h->fds[0] >= 0);
	assert_int_equal(bind(h->fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(h->fds[0], 0), 0);
	assert_int_equal(getsockname(h->fds[0], (struct sockaddr *)&a, &len),
			 0);
	snprintf(h->portstr, sizeof(h->portstr), "%d", ntohs(a.sin_port));
	for (i = 1; i < 3; i++) {
		h->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(h->fds[i] >= 0);
		connect(h->fds[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(20 * 1000);	/* let the first handshake land in the queue */
}

static void hanger_stop(struct hanger *h)
{
	int i;

	for (i = 0; i < 3; i++)
		close(h->fds[i]);
}

/* ---- probe side ------------------------------------------------------ */

struct res {
	int ok, fail;			/* progress calls */
	char seq[64];			/* "10111": progress statuses */
	char last_reason[256];
	int done_calls;
	int done_status;
	char done_reason[256];
	bool cancel_in_progress;
	struct probe_env *free_env;	/* probe_env_free from progress */
	bool secret_seen;
};

static void on_progress(struct probe *p, int status, const char *reason,
			void *arg)
{
	struct res *r = arg;
	size_t n = strlen(r->seq);

	if (status == 1)
		r->ok++;
	else
		r->fail++;
	if (n + 1 < sizeof(r->seq)) {
		r->seq[n] = status == 1 ? '1' : '0';
		r->seq[n + 1] = '\0';
	}
	snprintf(r->last_reason, sizeof(r->last_reason), "%s", reason);
	if (strstr(reason, "s3cret") != NULL)
		r->secret_seen = true;
	if (r->free_env != NULL) {
		probe_env_free(r->free_env);
		r->free_env = NULL;
	}
	if (r->cancel_in_progress) {
		probe_cancel(p);
		probe_cancel(p);	/* a second cancel is harmless */
	}
}

static void on_done(struct probe *p, int status, const char *reason,
		    void *arg)
{
	struct res *r = arg;

	r->done_calls++;
	r->done_status = status;
	snprintf(r->done_reason, sizeof(r->done_reason), "%s", reason);
	if (strstr(reason, "s3cret") != NULL)
		r->secret_seen = true;
}

static struct plan_probe cfg_base(void)
{
	struct plan_probe c;

	memset(&c, 0, sizeof(c));
	c.http_expect = 200;
	c.rise = 1;
	c.interval_ms = 20;
	c.timeout_ms = 1000;
	c.deadline_ms = 10000;
	return c;
}

static struct hook_vars vars_for(const char *port)
{
	struct hook_vars v;

	memset(&v, 0, sizeof(v));
	v.server = "web1";
	v.backend = "app";
	v.addr = "127.0.0.1";
	v.port = port;
	return v;
}

static void run_until(uv_loop_t *loop, const int *calls, int want)
{
	uint64_t start = uv_now(loop);

	while (*calls < want && uv_now(loop) - start < 20000)
		uv_run(loop, UV_RUN_ONCE);
	assert_int_equal(*calls, want);
}

/* Start one probe; its done must not have run yet. */
static struct probe *start(struct probe_env *env, const struct plan_probe *c,
			   const char *port, struct res *r)
{
	struct hook_vars v = vars_for(port);
	struct cut_err e;
	struct probe *p;

	cut_err_clear(&e);
	p = probe_start(env, c, &v, on_progress, on_done, r, &e);
	if (p == NULL)
		fail_msg("probe_start: %s", e.msg);
	assert_int_equal(r->done_calls, 0);	/* never from inside start */
	return p;
}

/* Start, run to the end, check the outcome. */
static void run_probe(uv_loop_t *loop, struct probe_env *env,
		      const struct plan_probe *c, const char *port,
		      struct res *r, int status, const char *reason)
{
	start(env, c, port, r);
	run_until(loop, &r->done_calls, 1);
	assert_int_equal(r->done_status, status);
	if (reason != NULL)
		assert_string_equal(r->done_reason, reason);
}

static void finish(uv_loop_t *loop, struct probe_env *env)
{
	probe_env_free(env);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);	/* nothing left open */
}

static struct probe_env *env_new(uv_loop_t *loop)
{
	struct probe_env *env;

	assert_int_equal(uv_loop_init(loop), 0);
	env = probe_env_new(loop, NULL);
	assert_non_null(env);
	return env;
}

static void set_url(struct plan_probe *c, char *buf, size_t n,
		    const char *port, const char *path)
{
	snprintf(buf, n, "http://127.0.0.1:%s%s", port, path);
	c->http = true;
	c->http_url = buf;
}

/* ---- http ------------------------------------------------------------ */

static void test_http_rise(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok\n");
	c.http = true;
	c.http_url = "http://{addr}:{port}/health?srv={server}";
	c.rise = 3;
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	assert_string_equal(r.seq, "111");
	assert_string_equal(r.last_reason, "ok");
	assert_int_equal(s.requests, 3);
	assert_string_equal(s.last_request, "GET /health?srv=web1 HTTP/1.1");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_503_deadline(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 503, "down\n");
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.deadline_ms = 300;
	c.interval_ms = 50;
	run_probe(&loop, env, &c, s.portstr, &r, CUT_ETIMEOUT, "http 503");
	assert_int_equal(r.ok, 0);
	assert_true(r.fail >= 1);
	assert_string_equal(r.last_reason, "http 503");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_body_match(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "{\"status\": \"ok\"}\n");
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.http_body = "\"ok\"";
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_body_mismatch(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "degraded\n");
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.http_body = "ok";
	c.deadline_ms = 200;
	run_probe(&loop, env, &c, s.portstr, &r, CUT_ETIMEOUT,
		  "http: body does not contain 'ok'");
	assert_int_equal(r.ok, 0);
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_empty_body_mismatch(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, NULL);
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.http_body = "ok";
	c.deadline_ms = 200;
	run_probe(&loop, env, &c, s.portstr, &r, CUT_ETIMEOUT,
		  "http: body does not contain 'ok'");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_healthy_after_n(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.script[0] = s.script[1] = s.script[2] = 503;
	s.nscript = 3;
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.rise = 2;
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	assert_string_equal(r.seq, "00011");
	assert_int_equal(s.requests, 5);
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_rise_resets_on_failure(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.script[0] = 200;
	s.script[1] = 200;
	s.script[2] = 500;
	s.nscript = 3;
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.rise = 3;
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	assert_string_equal(r.seq, "110111");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_other_expect_and_no_redirect(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	struct srv s1, s2;
	char url1[128], url2[128];

	env = env_new(&loop);
	srv_start(&loop, &s1, 204, NULL);
	srv_start(&loop, &s2, 302, NULL);
	set_url(&c, url1, sizeof(url1), s1.portstr, "/");
	c.http_expect = 204;
	run_probe(&loop, env, &c, s1.portstr, &r1, 0, "ok");
	/* A redirect is not followed: it is just a status. */
	c = cfg_base();
	set_url(&c, url2, sizeof(url2), s2.portstr, "/");
	c.deadline_ms = 150;
	c.interval_ms = 50;
	run_probe(&loop, env, &c, s2.portstr, &r2, CUT_ETIMEOUT, "http 302");
	/* One request per try (the deadline may cut the last one short). */
	assert_true(s2.requests >= r2.fail && s2.requests <= r2.fail + 1);
	srv_stop(&s1);
	srv_stop(&s2);
	finish(&loop, env);
}

static void test_http_refused(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct refuser rf;
	uv_loop_t loop;
	char url[128];

	env = env_new(&loop);
	refuser_start(&loop, &rf);
	set_url(&c, url, sizeof(url), rf.portstr, "/");
	c.deadline_ms = 200;
	run_probe(&loop, env, &c, rf.portstr, &r, CUT_ETIMEOUT,
		  "http: connection refused");
	assert_true(r.fail >= 1);
	uv_close((uv_handle_t *)&rf.tcp, NULL);
	finish(&loop, env);
}

static void test_http_try_timeout(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.delay_ms = -1;
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.timeout_ms = 100;
	c.deadline_ms = 350;
	run_probe(&loop, env, &c, s.portstr, &r, CUT_ETIMEOUT,
		  "http: timed out after 100 ms");
	assert_true(r.fail >= 2);	/* each try ends at its own timeout */
	assert_int_equal(r.ok, 0);
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_slow_but_in_time(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.delay_ms = 50;
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.rise = 2;
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	assert_string_equal(r.seq, "11");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_body_too_large(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, NULL);
	s.body_len = 100 * 1024;
	s.body = malloc(s.body_len);
	assert_non_null(s.body);
	memset(s.body, 'x', s.body_len);
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.deadline_ms = 200;
	run_probe(&loop, env, &c, s.portstr, &r, CUT_ETIMEOUT, NULL);
	assert_int_equal(strncmp(r.done_reason, "http: body too large", 20),
			 0);
	srv_stop(&s);
	finish(&loop, env);
}

static void test_http_credentials_stay_hidden(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	struct refuser rf;
	uv_loop_t loop;
	char url[128];

	env = env_new(&loop);
	refuser_start(&loop, &rf);
	snprintf(url, sizeof(url), "http://admin:s3cret@127.0.0.1:%s/",
		 rf.portstr);
	c.http = true;
	c.http_url = url;
	c.deadline_ms = 150;
	run_probe(&loop, env, &c, rf.portstr, &r1, CUT_ETIMEOUT, NULL);
	assert_false(r1.secret_seen);
	c.http_url = "http://admin:s3cret@no-such-host.invalid/";
	c.timeout_ms = 300;
	c.deadline_ms = 400;
	run_probe(&loop, env, &c, rf.portstr, &r2, CUT_ETIMEOUT, NULL);
	assert_false(r2.secret_seen);
	assert_int_equal(strncmp(r2.done_reason, "http: ", 6), 0);
	uv_close((uv_handle_t *)&rf.tcp, NULL);
	finish(&loop, env);
}

/* ---- tcp ------------------------------------------------------------- */

static void test_tcp_ok(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	c.tcp = true;		/* tcp_host/tcp_port NULL: {addr}:{port} */
	c.rise = 2;
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	assert_string_equal(r.seq, "11");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_tcp_by_name(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	c.tcp = true;
	/* A name goes through uv_getaddrinfo. Where "localhost" also
	 * resolves to ::1 (first), the check goes on to 127.0.0.1. */
	c.tcp_host = "localhost";
	c.tcp_port = "{port}";
	run_probe(&loop, env, &c, s.portstr, &r, 0, "ok");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_tcp_refused(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct refuser rf;
	uv_loop_t loop;
	char want[128];

	env = env_new(&loop);
	refuser_start(&loop, &rf);
	c.tcp = true;
	c.deadline_ms = 150;
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%s: connection refused",
		 rf.portstr);
	run_probe(&loop, env, &c, rf.portstr, &r, CUT_ETIMEOUT, want);
	assert_true(r.fail >= 1);
	uv_close((uv_handle_t *)&rf.tcp, NULL);
	finish(&loop, env);
}

static void test_tcp_timeout(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct hanger h;
	uv_loop_t loop;
	char want[128];

	hanger_start(&h);
	env = env_new(&loop);
	c.tcp = true;
	c.timeout_ms = 100;
	c.deadline_ms = 350;
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%s: timed out after "
		 "100 ms", h.portstr);
	run_probe(&loop, env, &c, h.portstr, &r, CUT_ETIMEOUT, want);
	assert_true(r.fail >= 2);
	finish(&loop, env);
	hanger_stop(&h);
}

/* ---- exec ------------------------------------------------------------ */

static void set_exec(struct plan_probe *c, struct plan_argv *a, char **argv)
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	memset(a, 0, sizeof(*a));
	a->argv = argv;
	a->argc = n;
	c->exec = true;
	c->exec_argv = *a;
}

static void test_exec_ok(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;

	env = env_new(&loop);
	set_exec(&c, &a, argv);
	c.rise = 2;
	run_probe(&loop, env, &c, "80", &r, 0, "ok");
	assert_string_equal(r.seq, "11");
	finish(&loop, env);
}

/* A deadline a child process must beat (at least one exec try has to end
 * before it), scaled like the end-to-end waits by E2E_TIME_MULT: make
 * valgrind sets 4, and forking from a process under valgrind on a busy
 * machine can take longer than 150 ms. */
static uint64_t exec_deadline(uint64_t ms)
{
	const char *m = getenv("E2E_TIME_MULT");
	double f = m != NULL ? strtod(m, NULL) : 1.0;

	return f > 1.0 ? (uint64_t)((double)ms * f) : ms;
}

static void test_exec_exit_codes(void **state)
{
	char *f[] = { "/bin/false", NULL };
	char *sh[] = { "sh", "-c", "exit 2", NULL };
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;

	env = env_new(&loop);
	set_exec(&c, &a, f);
	c.deadline_ms = exec_deadline(150);
	run_probe(&loop, env, &c, "80", &r1, CUT_ETIMEOUT, "exec exit 1");
	assert_true(r1.fail >= 1);
	set_exec(&c, &a, sh);
	run_probe(&loop, env, &c, "80", &r2, CUT_ETIMEOUT, "exec exit 2");
	finish(&loop, env);
}

/* A failed check's last line (stderr first) is in the reason. */
static void test_exec_says_why(void **state)
{
	char *err[] = { "sh", "-c", "echo checking; echo node2 is not in the "
			"cluster >&2; echo done; exit 3", NULL };
	char *out[] = { "sh", "-c", "echo first; echo; echo last; exit 1",
			NULL };
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;

	env = env_new(&loop);
	c.deadline_ms = 150;
	set_exec(&c, &a, err);
	run_probe(&loop, env, &c, "80", &r1, CUT_ETIMEOUT,
		  "exec exit 3: node2 is not in the cluster");
	set_exec(&c, &a, out);
	run_probe(&loop, env, &c, "80", &r2, CUT_ETIMEOUT, "exec exit 1: last");
	finish(&loop, env);
}

static void test_exec_vars(void **state)
{
	char *argv[] = { "sh", "-c",
			 "test \"$CUTOVER_ADDR\" = 127.0.0.1 && "
			 "test \"$CUTOVER_SERVER\" = web1 && test {port} = 8080",
			 NULL };
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;

	env = env_new(&loop);
	set_exec(&c, &a, argv);
	run_probe(&loop, env, &c, "8080", &r, 0, "ok");
	finish(&loop, env);
}

static void test_exec_timeout(void **state)
{
	char *argv[] = { "sleep", "10", NULL };
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;

	env = env_new(&loop);
	set_exec(&c, &a, argv);
	c.timeout_ms = 100;
	c.deadline_ms = 5000;
	c.interval_ms = 5000;	/* one try, then the deadline */
	start(env, &c, "80", &r);
	run_until(&loop, &r.fail, 1);
	assert_string_equal(r.last_reason, "exec timed out");
	probe_env_free(env);
	run_until(&loop, &r.done_calls, 1);
	assert_int_equal(r.done_status, CUT_ECANCELED);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- several checks, several probes, cancel -------------------------- */

static void test_all_checks_in_one_try(void **state)
{
	char *f[] = { "/bin/false", NULL };
	char *t[] = { "/bin/true", NULL };
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 503, NULL);
	set_url(&c, url, sizeof(url), s.portstr, "/");
	c.tcp = true;
	set_exec(&c, &a, f);
	c.deadline_ms = exec_deadline(150);
	/* Every failure is named, in a fixed order; tcp passed. */
	run_probe(&loop, env, &c, s.portstr, &r1, CUT_ETIMEOUT,
		  "http 503; exec exit 1");
	s.status = 200;
	set_exec(&c, &a, t);
	c.rise = 2;
	c.deadline_ms = 10000;
	run_probe(&loop, env, &c, s.portstr, &r2, 0, "ok");
	assert_string_equal(r2.seq, "11");
	srv_stop(&s);
	finish(&loop, env);
}

static void test_many_probes_one_env(void **state)
{
	char *t[] = { "/bin/true", NULL };
	struct plan_probe ch = cfg_base(), ct = cfg_base(), ce = cfg_base();
	struct plan_probe cbad = cfg_base();
	struct res r[6];
	struct probe_env *env;
	struct plan_argv a;
	struct srv s[3];
	struct refuser rf;
	uv_loop_t loop;
	int i, done;

	memset(r, 0, sizeof(r));
	env = env_new(&loop);
	refuser_start(&loop, &rf);
	ch.http = true;
	ch.http_url = "http://{addr}:{port}/";
	ch.rise = 3;
	for (i = 0; i < 3; i++) {
		srv_start(&loop, &s[i], 200, "ok");
		s[i].delay_ms = 10 * i;
		start(env, &ch, s[i].portstr, &r[i]);
	}
	ct.tcp = true;
	ct.rise = 2;
	start(env, &ct, s[0].portstr, &r[3]);
	set_exec(&ce, &a, t);
	ce.rise = 2;
	start(env, &ce, "80", &r[4]);
	cbad.http = true;
	cbad.http_url = "http://{addr}:{port}/";
	cbad.deadline_ms = 300;
	start(env, &cbad, rf.portstr, &r[5]);
	done = 0;
	while (done < 6) {
		uv_run(&loop, UV_RUN_ONCE);
		for (done = 0, i = 0; i < 6; i++)
			done += r[i].done_calls;
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(r[i].done_calls, 1);
		assert_int_equal(r[i].done_status, 0);
	}
	assert_string_equal(r[0].seq, "111");
	assert_int_equal(s[0].requests + s[1].requests + s[2].requests, 9);
	assert_int_equal(r[5].done_status, CUT_ETIMEOUT);
	assert_string_equal(r[5].done_reason, "http: connection refused");
	for (i = 0; i < 3; i++)
		srv_stop(&s[i]);
	uv_close((uv_handle_t *)&rf.tcp, NULL);
	finish(&loop, env);
}

static void on_cancel_timer(uv_timer_t *t)
{
	probe_cancel(t->data);
	uv_close((uv_handle_t *)t, NULL);
}

static void test_cancel(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	uv_timer_t t;
	uv_loop_t loop;
	char url[128];
	struct srv s;

	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.delay_ms = -1;
	set_url(&c, url, sizeof(url), s.portstr, "/");
	uv_timer_init(&loop, &t);
	t.data = start(env, &c, s.portstr, &r);
	uv_timer_start(&t, on_cancel_timer, 50, 0);
	run_until(&loop, &r.done_calls, 1);
	assert_int_equal(r.done_status, CUT_ECANCELED);
	assert_int_equal(r.ok + r.fail, 0);	/* the try was cut short */
	srv_stop(&s);
	finish(&loop, env);
}

static void test_cancel_is_async(void **state)
{
	char *argv[] = { "sleep", "10", NULL };
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct plan_argv a;
	struct probe *p;
	uv_loop_t loop;

	env = env_new(&loop);
	set_exec(&c, &a, argv);
	c.tcp = true;
	c.tcp_host = "localhost";	/* a lookup, maybe in flight */
	p = start(env, &c, "1", &r);
	uv_run(&loop, UV_RUN_NOWAIT);	/* the first try is running */
	probe_cancel(p);
	assert_int_equal(r.done_calls, 0);	/* done runs from the loop */
	run_until(&loop, &r.done_calls, 1);
	assert_int_equal(r.done_status, CUT_ECANCELED);
	assert_string_equal(r.done_reason, "cancelled");
	finish(&loop, env);
}

static void test_cancel_from_progress(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct probe_env *env;
	struct refuser rf;
	uv_loop_t loop;

	env = env_new(&loop);
	refuser_start(&loop, &rf);
	c.tcp = true;
	r.cancel_in_progress = true;
	run_probe(&loop, env, &c, rf.portstr, &r, CUT_ECANCELED, "cancelled");
	assert_int_equal(r.fail, 1);
	uv_close((uv_handle_t *)&rf.tcp, NULL);
	finish(&loop, env);
}

static void test_env_free_cancels_running(void **state)
{
	char *argv[] = { "sleep", "10", NULL };
	struct plan_probe ch = cfg_base(), ce = cfg_base(), ct = cfg_base();
	struct res r[3];
	struct probe_env *env;
	struct plan_argv a;
	struct hanger h;
	uv_loop_t loop;
	struct srv s;
	int i;

	memset(r, 0, sizeof(r));
	hanger_start(&h);
	env = env_new(&loop);
	srv_start(&loop, &s, 200, "ok");
	s.delay_ms = -1;
	ch.http = true;
	ch.http_url = "http://{addr}:{port}/";
	start(env, &ch, s.portstr, &r[0]);
	set_exec(&ce, &a, argv);
	start(env, &ce, "80", &r[1]);
	ct.tcp = true;
	start(env, &ct, h.portstr, &r[2]);
	run_until(&loop, &s.requests, 1);	/* everything is in flight */
	probe_env_free(env);
	for (i = 0; i < 3; i++)
		assert_int_equal(r[i].done_calls, 0);
	srv_stop(&s);
	uv_run(&loop, UV_RUN_DEFAULT);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r[i].done_calls, 1);
		assert_int_equal(r[i].done_status, CUT_ECANCELED);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
	hanger_stop(&h);
}

/* The env goes away from a progress callback that curl's completion
 * queue runs, with another transfer in the same multi. */
static void test_env_free_from_progress(void **state)
{
	struct plan_probe c = cfg_base();
	struct res r1 = { 0 }, r2 = { 0 };
	struct probe_env *env;
	uv_loop_t loop;
	struct srv s1, s2;

	env = env_new(&loop);
	srv_start(&loop, &s1, 503, NULL);
	srv_start(&loop, &s2, 200, "ok");
	s2.delay_ms = -1;
	c.http = true;
	c.http_url = "http://{addr}:{port}/";
	r1.free_env = env;
	start(env, &c, s1.portstr, &r1);
	start(env, &c, s2.portstr, &r2);
	run_until(&loop, &r1.done_calls, 1);
	run_until(&loop, &r2.done_calls, 1);
	assert_int_equal(r1.fail, 1);
	assert_int_equal(r1.done_status, CUT_ECANCELED);
	assert_int_equal(r2.done_status, CUT_ECANCELED);
	srv_stop(&s1);
	srv_stop(&s2);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- start errors, redaction ----------------------------------------- */

static void test_start_errors(void **state)
{
	char *argv[] = { "x{nope}", NULL };
	struct plan_probe c = cfg_base();
	struct res r = { 0 };
	struct hook_vars v = vars_for("80");
	struct probe_env *env;
	struct plan_argv a;
	struct cut_err e;
	uv_loop_t loop;

	env = env_new(&loop);
	cut_err_clear(&e);
	assert_null(probe_start(env, &c, &v, on_progress, on_done, &r, &e));
	assert_int_equal(e.code, CUT_EUSAGE);	/* no check at all */
	c.http = true;
	assert_null(probe_start(env, &c, &v, on_progress, on_done, &r, &e));
	assert_int_equal(e.code, CUT_EUSAGE);	/* http without url */
	c.http_url = "http://{addr}:{nope}/";
	cut_err_clear(&e);
	assert_null(probe_start(env, &c, &v, on_progress, on_done, &r, &e));
	assert_int_not_equal(e.code, 0);
	c = cfg_base();
	set_exec(&c, &a, argv);
	cut_err_clear(&e);
	assert_null(probe_start(env, &c, &v, on_progress, on_done, &r, &e));
	assert_int_not_equal(e.code, 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(r.done_calls + r.ok + r.fail, 0);
	finish(&loop, env);
	assert_int_equal(r.done_calls, 0);
}

static void check_redact(const char *in, const char *want)
{
	char *out = probe_redact_url(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_redact_url(void **state)
{
	check_redact("http://user:secret@h/x", "http://user:***@h/x");
	check_redact("https://admin:p%40ss@example.com:8443/health?x=1",
		     "https://admin:***@example.com:8443/health?x=1");
	check_redact("http://h:8080/health", "http://h:8080/health");
	check_redact("https://example.com/", "https://example.com/");
	check_redact("http://user@h/x", "http://user@h/x");
	check_redact("http://user:@h/x", "http://user:@h/x");
	check_redact("http://u:p@ss@h/x", "http://u:***@h/x");
	check_redact("http://h/x?next=a:b@c", "http://h/x?next=a:b@c");
	check_redact("http://u:pw@h", "http://u:***@h");
	check_redact("u:pw@h:80/x", "u:***@h:80/x");
	check_redact("", "");
	assert_null(probe_redact_url(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_rise),
		cmocka_unit_test(test_http_503_deadline),
		cmocka_unit_test(test_http_body_match),
		cmocka_unit_test(test_http_body_mismatch),
		cmocka_unit_test(test_http_empty_body_mismatch),
		cmocka_unit_test(test_http_healthy_after_n),
		cmocka_unit_test(test_http_rise_resets_on_failure),
		cmocka_unit_test(test_http_other_expect_and_no_redirect),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_try_timeout),
		cmocka_unit_test(test_http_slow_but_in_time),
		cmocka_unit_test(test_http_body_too_large),
		cmocka_unit_test(test_http_credentials_stay_hidden),
		cmocka_unit_test(test_tcp_ok),
		cmocka_unit_test(test_tcp_by_name),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_timeout),
		cmocka_unit_test(test_exec_ok),
		cmocka_unit_test(test_exec_exit_codes),
		cmocka_unit_test(test_exec_says_why),
		cmocka_unit_test(test_exec_vars),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_all_checks_in_one_try),
		cmocka_unit_test(test_many_probes_one_env),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_is_async),
		cmocka_unit_test(test_cancel_from_progress),
		cmocka_unit_test(test_env_free_cancels_running),
		cmocka_unit_test(test_env_free_from_progress),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_redact_url),
	};

	if (getenv("PROBE_TEST_DEBUG") != NULL)	/* trace tries on stderr */
		log_current_level = LOG_LVL_DEBUG;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
