/* rtapi.c - persistent, asynchronous runtime-API connection (see rtapi.h).
 *
 * Connection states:
 *
 *   CLOSED --send--> RESOLVING --> CONNECTING --> HANDSHAKE --> READY
 *      ^                                                          |
 *      +------------------- CLOSING <--- error, timeout, EOF -----+
 *
 * In HANDSHAKE the client sends its own four commands (prompt, severity,
 * level, info) before any queued user request. Exactly one request is on
 * the wire at a time (`inflight`); its reply ends with the prompt "\n> ".
 * Any failure goes through conn_fail(), which fails every pending request
 * once and closes the handle; the next send reconnects.
 */
#include "rtapi.h"
#include "buf.h"
#include "log.h"
#include "strutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

enum conn_state {
	CONN_CLOSED = 0,
	CONN_RESOLVING,
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_READY,
	CONN_CLOSING,
	CONN_STATE_COUNT	/* keep last */
};

enum hs_step {
	HS_PROMPT = 0,
	HS_SEVERITY,
	HS_LEVEL,
	HS_INFO,
	HS_DONE			/* keep last */
};

/* Lines sent by the handshake; static, so they outlive their uv_write. */
static const char *const hs_lines[HS_DONE] = {
	[HS_PROMPT] = "prompt\n",
	[HS_SEVERITY] = "set severity-output number\n",
	[HS_LEVEL] = "show cli level\n",
	[HS_INFO] = "show info\n",
};

struct rtapi_req {
	struct rtapi_req *next;
	rtapi_reply_fn *cb;
	void *arg;
	uint64_t deadline;	/* uv_now() ms */
	size_t len;		/* line length including '\n' */
	char line[];		/* copy of the line + '\n' */
};

struct rtapi {
	uv_loop_t *loop;
	struct rtapi_addr addr;
	struct rtapi_opts opts;
	enum conn_state st;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} conn;
	uv_connect_t connect_req;
	uv_getaddrinfo_t gai_req;
	uv_write_t write_req;
	uv_timer_t timer;	/* deadline of what is pending */
	uv_timer_t kick;	/* runs conn_pump() from the loop */
	struct buf rx;
	enum hs_step hs;
	bool hs_inflight;	/* a handshake line is on the wire */
	uint64_t hs_deadline;
	struct rtapi_req *inflight;
	struct rtapi_req *q_head, *q_tail;
	enum rtapi_level level;
	struct haproxy_info info;
	bool have_info;
	uint64_t info_at;	/* uv_now() of the last `show info` */
	bool rechecking;	/* HS_INFO sent on a ready connection */
	unsigned generation;
	rtapi_reload_fn *on_reload;
	void *reload_arg;
	bool freeing;
	int pending;		/* open handles + getaddrinfo in flight */
	char last_error[240];
	char readbuf[64 * 1024];
};

static void conn_pump(struct rtapi *api);
static void conn_fail(struct rtapi *api, int status, const char *why);
static void start_connect(struct rtapi *api);
static void conn_retire(struct rtapi *api);
static void on_handle_closed(uv_handle_t *h);

/* ---- addresses ------------------------------------------------------- */

int rtapi_addr_parse(const char *spec, struct rtapi_addr *out,
		     struct cut_err *err)
{
	const char *rest, *colon;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || *spec == '\0')
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "empty load balancer address");
	if (!str_copy(out->spec, sizeof(out->spec), spec, strlen(spec)))
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "load balancer address too long");
	if (strncmp(spec, "unix:", 5) == 0 || spec[0] == '/') {
		rest = spec[0] == '/' ? spec : spec + 5;
		out->kind = RTAPI_ADDR_UNIX;
		if (*rest == '\0' ||
		    !str_copy(out->path, sizeof(out->path), rest, strlen(rest)))
			return cut_err_set(err, CUT_EUSAGE, spec,
					   "bad unix socket path (empty or "
					   "longer than %zu bytes)",
					   sizeof(out->path) - 1);
		return 0;
	}
	if (strncmp(spec, "tcp:", 4) != 0)
		return cut_err_set(err, CUT_EUSAGE, spec,
				   "load balancer address must be unix:PATH "
				   "or tcp:HOST:PORT");
	rest = spec + 4;
	out->kind = RTAPI_ADDR_TCP;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');

		if (close == NULL || close[1] != ':')
			return cut_err_set(err, CUT_EUSAGE, spec,
					   "bad IPv6 address, expected "
					   "tcp:[ADDR]:PORT");
		str_copy(out->host, sizeof(out->host), rest + 1,
			 (size_t)(close - rest - 1));
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL || colon == rest)
			return cut_err_set(err, CUT_EUSAGE, spec,
					   "expected tcp:HOST:PORT");
		if (!str_copy(out->host, sizeof(out->host), rest,
			      (size_t)(colon - rest)))
			return cut_err_set(err, CUT_EUSAGE, spec,
					   "host name too long");
	}
	{
		long port;

		if (str_parse_long(colon + 1, 1, 65535, &port) != 0)
			return cut_err_set(err, CUT_EUSAGE, spec,
					   "bad port '%s' (1-65535)",
					   colon + 1);
		snprintf(out->port, sizeof(out->port), "%ld", port);
	}
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

struct rtapi *rtapi_new(uv_loop_t *loop, const struct rtapi_addr *addr,
			const struct rtapi_opts *opts)
{
	struct rtapi *api = calloc(1, sizeof(*api));

	if (api == NULL)
		return NULL;
	api->loop = loop;
	api->addr = *addr;
	api->opts.timeout_ms = RTAPI_DEFAULT_TIMEOUT_MS;
	api->opts.reply_max = RTAPI_DEFAULT_REPLY_MAX;
	if (opts != NULL) {
		if (opts->timeout_ms > 0)
			api->opts.timeout_ms = opts->timeout_ms;
		if (opts->reply_max > 0)
			api->opts.reply_max = opts->reply_max;
	}
	api->level = RTAPI_LEVEL_UNKNOWN;
	buf_init(&api->rx, api->opts.reply_max + 3);
	uv_timer_init(loop, &api->timer);
	uv_timer_init(loop, &api->kick);
	api->timer.data = api;
	api->kick.data = api;
	api->pending = 2;
	return api;
}

static void api_release(struct rtapi *api)
{
	buf_free(&api->rx);
	free(api);
}

/* Drop one pending handle or request; the last one frees the client. */
static bool api_unref(struct rtapi *api)
{
	if (--api->pending > 0)
		return false;
	api_release(api);
	return true;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct rtapi *api = h->data;
	bool is_conn = h == &api->conn.handle;

	if (is_conn)
		api->st = CONN_CLOSED;
	if (api_unref(api))
		return;
	if (is_conn && !api->freeing && api->q_head != NULL)
		conn_pump(api);
}

void rtapi_free(struct rtapi *api)
{
	if (api == NULL || api->freeing)
		return;
	api->freeing = true;
	conn_fail(api, CUT_ECANCELED, "client closed");
	uv_close((uv_handle_t *)&api->timer, on_handle_closed);
	uv_close((uv_handle_t *)&api->kick, on_handle_closed);
}

const struct rtapi_addr *rtapi_addr(const struct rtapi *api)
{
	return &api->addr;
}

enum rtapi_level rtapi_level(const struct rtapi *api)
{
	return api->level;
}

const struct haproxy_info *rtapi_info(const struct rtapi *api)
{
	return api->have_info ? &api->info : NULL;
}

void rtapi_on_reload(struct rtapi *api, rtapi_reload_fn *fn, void *arg)
{
	api->on_reload = fn;
	api->reload_arg = arg;
}

int rtapi_send_first(struct rtapi *api, const char *line, rtapi_reply_fn *cb,
		     void *arg)
{
	struct rtapi_req *tail = api->q_tail, *r;
	int rc = rtapi_send(api, line, cb, arg);

	if (rc != 0 || tail == NULL)
		return rc;
	/* Move the new last request to the front. */
	r = api->q_tail;
	tail->next = NULL;
	api->q_tail = tail;
	r->next = api->q_head;
	api->q_head = r;
	return 0;
}

unsigned rtapi_generation(const struct rtapi *api)
{
	return api->generation;
}

const char *rtapi_last_error(const struct rtapi *api)
{
	return api->last_error;
}

/* ---- failure: the one exit of a connection ----------------------------- */

/* Fail the request on the wire and every queued one with `status`, and
 * close the connection. Callbacks run after the lists are detached, so a
 * callback may queue a new request (it will use a new connection). */
static void conn_fail(struct rtapi *api, int status, const char *why)
{
	struct rtapi_req *list, *r;

	if (why != NULL && status != CUT_ECANCELED) {
		snprintf(api->last_error, sizeof(api->last_error), "%s", why);
		LOG_DEBUG("lb=%s connection failed: %s", api->addr.spec, why);
	}
	uv_timer_stop(&api->timer);
	buf_reset(&api->rx);
	api->hs_inflight = false;
	if (api->st != CONN_CLOSED && api->st != CONN_CLOSING) {
		if (api->st == CONN_RESOLVING) {
			/* The getaddrinfo callback sees CLOSING and stops. */
			uv_cancel((uv_req_t *)&api->gai_req);
		} else {
			api->conn.handle.data = api;
			uv_close(&api->conn.handle, on_handle_closed);
		}
		api->st = CONN_CLOSING;
	}
	list = api->inflight;
	api->inflight = NULL;
	if (list != NULL)
		list->next = api->q_head;
	else
		list = api->q_head;
	api->q_head = api->q_tail = NULL;
	while (list != NULL) {
		r = list;
		list = r->next;
		r->cb(status, "", 0, r->arg);
		free(r);
	}
}

/* Close a healthy connection without failing what is queued: the next
 * pump (once the handle is closed) connects again. */
static void conn_retire(struct rtapi *api)
{
	uv_timer_stop(&api->timer);
	buf_reset(&api->rx);
	api->hs_inflight = false;
	api->conn.handle.data = api;
	uv_close(&api->conn.handle, on_handle_closed);
	api->st = CONN_CLOSING;
}

/* The command whose reply is awaited, for messages ("" if none). */
static void awaited_cmd(const struct rtapi *api, char *out, size_t outsz)
{
	const char *line = "";
	size_t n;

	if (api->hs_inflight)
		line = hs_lines[api->hs];
	else if (api->inflight != NULL)
		line = api->inflight->line;
	n = strcspn(line, "\n");
	if (n > 64)
		snprintf(out, outsz, "%.60s...", line);
	else
		snprintf(out, outsz, "%.*s", (int)n, line);
}

/* ---- timer -------------------------------------------------------------- */

static void on_timeout(uv_timer_t *t)
{
	struct rtapi *api = container_of(t, struct rtapi, timer);
	unsigned long long ms = (unsigned long long)api->opts.timeout_ms;
	char why[200], cmd[72];

	awaited_cmd(api, cmd, sizeof(cmd));
	if (api->st == CONN_CONNECTING || api->st == CONN_RESOLVING)
		snprintf(why, sizeof(why), "cannot connect within %llu ms", ms);
	else if (api->rx.len > 0)
		snprintf(why, sizeof(why), "timed out after %llu ms in the "
			 "middle of the reply to '%s' (%zu byte%s, no prompt)",
			 ms, cmd, api->rx.len, api->rx.len == 1 ? "" : "s");
	else
		snprintf(why, sizeof(why), "timed out after %llu ms waiting "
			 "for the reply to '%s'", ms, cmd);
	conn_fail(api, CUT_ETIMEOUT, why);
}

/* Arm the timer for the earliest deadline among what is pending. */
static void arm_timer(struct rtapi *api)
{
	uint64_t now = uv_now(api->loop), deadline = UINT64_MAX;

	if (api->st == CONN_CONNECTING || api->st == CONN_RESOLVING ||
	    api->st == CONN_HANDSHAKE)
		deadline = api->hs_deadline;
	if (api->inflight != NULL && api->inflight->deadline < deadline)
		deadline = api->inflight->deadline;
	if (api->q_head != NULL && api->q_head->deadline < deadline)
		deadline = api->q_head->deadline;
	if (deadline == UINT64_MAX) {
		uv_timer_stop(&api->timer);
		return;
	}
	uv_timer_start(&api->timer, on_timeout,
		       deadline > now ? deadline - now : 0, 0);
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct rtapi *api = h->data;

	b->base = api->readbuf;
	b->len = sizeof(api->readbuf);
}

/* A reply is complete when the buffer is exactly "\n> " (silent success)
 * or ends with "\n\n> ": HAProxy never puts an empty line inside a reply,
 * so this cannot occur in the middle of one. */
static bool reply_complete(const struct buf *rx)
{
	if (rx->len == 3 && memcmp(rx->data, "\n> ", 3) == 0)
		return true;
	return rx->len >= 4 && memcmp(rx->data + rx->len - 4, "\n\n> ", 4) == 0;
}

static void handshake_reply(struct rtapi *api, const char *text, size_t len)
{
	struct reply_class rc;
	struct cut_err err;
	char why[200], cmd[72];
	bool reloaded = false;
	int level;

	switch (api->hs) {
	case HS_PROMPT:
	case HS_SEVERITY:
		if (len != 0) {
			stat_classify_reply(text, len, &rc);
			snprintf(cmd, sizeof(cmd), "%.*s",
				 (int)strcspn(hs_lines[api->hs], "\n"),
				 hs_lines[api->hs]);
			snprintf(why, sizeof(why), "unexpected reply to '%s': "
				 "\"%.100s\"", cmd, rc.msg);
			conn_fail(api, CUT_EPROTO, why);
			return;
		}
		break;
	case HS_LEVEL:
		if (stat_parse_cli_level(text, len, &level) != 0) {
			stat_classify_reply(text, len, &rc);
			snprintf(why, sizeof(why), "unexpected reply to 'show "
				 "cli level': \"%.100s\"", rc.msg);
			conn_fail(api, CUT_EPROTO, why);
			return;
		}
		api->level = (enum rtapi_level)level;
		break;
	case HS_INFO: {
		struct haproxy_info info;

		if (stat_parse_info(text, len, &info, &err) != 0) {
			conn_fail(api, CUT_EPROTO, err.msg);
			return;
		}
		bool other = api->have_info &&
			     (info.pid != api->info.pid ||
			      info.start_time_sec != api->info.start_time_sec);

		api->info_at = uv_now(api->loop);
		if (api->rechecking && (other || info.stopping == 1)) {
			/* The kept connection outlived a reload: it talks to
			 * an old worker that is soft-stopping (and that our
			 * connection would keep alive). Reconnect: the socket
			 * now belongs to the new worker. */
			LOG_INFO("lb=%s: worker %lld is %s: reconnecting",
				 api->addr.spec, (long long)api->info.pid,
				 info.stopping == 1 ? "stopping (HAProxy was "
						      "reloaded)"
						    : "gone");
			api->rechecking = false;
			conn_retire(api);
			return;
		}
		if (other)
			api->generation++;
		reloaded = other;
		api->info = info;
		api->have_info = true;
		break;
	}
	case HS_DONE:
		break;
	}
	api->hs++;
	if (api->hs == HS_DONE) {
		api->st = CONN_READY;
		api->rechecking = false;
		LOG_DEBUG("lb=%s connected: pid=%lld level=%d", api->addr.spec,
			  (long long)api->info.pid, (int)api->level);
	}
	/* Before anything queued goes to the new process. */
	if (reloaded && api->on_reload != NULL)
		api->on_reload(api, api->reload_arg);
	conn_pump(api);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct rtapi *api = s->data;
	struct rtapi_req *r;
	char why[200], cmd[72];
	int rc;

	if (nread == 0)
		return;
	awaited_cmd(api, cmd, sizeof(cmd));
	if (nread < 0) {
		if (nread != UV_EOF)
			snprintf(why, sizeof(why), "%s",
				 uv_strerror((int)nread));
		else if (api->rx.len > 0)
			snprintf(why, sizeof(why), "connection closed by "
				 "HAProxy in the middle of the reply to '%s' "
				 "(%zu byte%s)", cmd, api->rx.len,
				 api->rx.len == 1 ? "" : "s");
		else if (cmd[0] != '\0')
			snprintf(why, sizeof(why), "connection closed by "
				 "HAProxy before it answered '%s'", cmd);
		else
			snprintf(why, sizeof(why), "connection closed by "
				 "HAProxy");
		conn_fail(api, nread == UV_EOF ? CUT_ECLOSED : (int)nread, why);
		return;
	}
	if (!api->hs_inflight && api->inflight == NULL) {
		conn_fail(api, CUT_EPROTO, "data received with no request");
		return;
	}
	rc = buf_append(&api->rx, b->base, (size_t)nread);
	if (rc != 0) {
		if (rc == CUT_ETOOBIG)
			snprintf(why, sizeof(why), "reply to '%s' too large "
				 "(over %zu bytes)", cmd, api->opts.reply_max);
		else
			snprintf(why, sizeof(why), "out of memory");
		conn_fail(api, rc, why);
		return;
	}
	if (memchr(b->base, '\0', (size_t)nread) != NULL) {
		snprintf(why, sizeof(why), "garbled reply to '%s': NUL byte",
			 cmd);
		conn_fail(api, CUT_EPROTO, why);
		return;
	}
	if (!reply_complete(&api->rx))
		return;
	/* Strip the final "\n> ": "X\n\n> " -> "X\n", "\n> " -> "". */
	api->rx.len -= 3;
	api->rx.data[api->rx.len] = '\0';
	if (api->hs_inflight) {
		api->hs_inflight = false;
		handshake_reply(api, api->rx.data, api->rx.len);
		buf_reset(&api->rx);
		return;
	}
	r = api->inflight;
	api->inflight = NULL;
	r->cb(0, api->rx.data, api->rx.len, r->arg);
	free(r);
	buf_reset(&api->rx);
	conn_pump(api);
}

/* ---- writing ------------------------------------------------------------ */

static void on_write(uv_write_t *w, int status)
{
	struct rtapi *api = container_of(w, struct rtapi, write_req);

	if (status == UV_ECANCELED)
		return;		/* handle closed under it: already failed */
	if (status != 0)
		conn_fail(api, status, uv_strerror(status));
}

static int write_line(struct rtapi *api, const char *line, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)line, (unsigned)len);

	return uv_write(&api->write_req, &api->conn.stream, &b, 1, on_write);
}

/* Send whatever comes next, if the wire is free. */
static void conn_pump(struct rtapi *api)
{
	int rc;

	if (api->freeing)
		return;
	switch (api->st) {
	case CONN_CLOSED:
		if (api->q_head != NULL)
			start_connect(api);
		return;
	case CONN_HANDSHAKE:
		if (api->hs_inflight)
			break;
		api->hs_inflight = true;
		rc = write_line(api, hs_lines[api->hs], strlen(hs_lines[api->hs]));
		if (rc != 0) {
			conn_fail(api, rc, uv_strerror(rc));
			return;
		}
		break;
	case CONN_READY:
		if (api->inflight != NULL || api->q_head == NULL)
			break;
		if (uv_now(api->loop) - api->info_at >= RTAPI_RECHECK_MS) {
			/* Is it still the current worker? One `show info`
			 * at most once a second, before the next request. */
			api->st = CONN_HANDSHAKE;
			api->hs = HS_INFO;
			api->rechecking = true;
			api->hs_deadline = uv_now(api->loop) + api->opts.timeout_ms;
			conn_pump(api);
			return;
		}
		api->inflight = api->q_head;
		api->q_head = api->q_head->next;
		if (api->q_head == NULL)
			api->q_tail = NULL;
		api->inflight->next = NULL;
		rc = write_line(api, api->inflight->line, api->inflight->len);
		if (rc != 0) {
			conn_fail(api, rc, uv_strerror(rc));
			return;
		}
		break;
	default:
		break;
	}
	arm_timer(api);
}

/* ---- connecting --------------------------------------------------------- */

static void on_connect(uv_connect_t *c, int status)
{
	struct rtapi *api = container_of(c, struct rtapi, connect_req);
	char why[300];
	int rc;

	if (status == UV_ECANCELED || api->st != CONN_CONNECTING)
		return;
	if (status != 0) {
		snprintf(why, sizeof(why), "cannot connect: %s",
			 uv_strerror(status));
		conn_fail(api, status, why);
		return;
	}
	rc = uv_read_start(&api->conn.stream, on_alloc, on_read);
	if (rc != 0) {
		conn_fail(api, rc, uv_strerror(rc));
		return;
	}
	api->st = CONN_HANDSHAKE;
	api->hs = HS_PROMPT;
	conn_pump(api);
}

static void connect_tcp(struct rtapi *api, const struct sockaddr *sa)
{
	int rc;

	uv_tcp_init(api->loop, &api->conn.tcp);
	api->pending++;		/* released by on_handle_closed() */
	api->conn.handle.data = api;
	api->st = CONN_CONNECTING;
	uv_tcp_nodelay(&api->conn.tcp, 1);
	rc = uv_tcp_connect(&api->connect_req, &api->conn.tcp, sa, on_connect);
	if (rc != 0)
		conn_fail(api, rc, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct rtapi *api = container_of(g, struct rtapi, gai_req);
	char why[300];

	if (api_unref(api)) {
		uv_freeaddrinfo(res);
		return;		/* the client was freed meanwhile */
	}
	if (api->st != CONN_RESOLVING) {
		/* Cancelled by conn_fail(): that made us CLOSING. */
		uv_freeaddrinfo(res);
		if (api->st == CONN_CLOSING) {
			api->st = CONN_CLOSED;
			if (!api->freeing && api->q_head != NULL)
				conn_pump(api);
		}
		return;
	}
	if (status != 0 || res == NULL) {
		snprintf(why, sizeof(why), "cannot resolve '%s': %s",
			 api->addr.host, uv_strerror(status));
		uv_freeaddrinfo(res);
		api->st = CONN_CLOSED;
		conn_fail(api, status != 0 ? status : UV_EAI_NONAME, why);
		return;
	}
	connect_tcp(api, res->ai_addr);
	uv_freeaddrinfo(res);
}

static void start_connect(struct rtapi *api)
{
	struct sockaddr_storage ss;
	struct addrinfo hints;
	long port = 0;
	int rc;

	api->hs_deadline = uv_now(api->loop) + api->opts.timeout_ms;
	buf_reset(&api->rx);
	if (api->addr.kind == RTAPI_ADDR_UNIX) {
		uv_pipe_init(api->loop, &api->conn.pipe, 0);
		api->pending++;	/* released by on_handle_closed() */
		api->conn.handle.data = api;
		api->st = CONN_CONNECTING;
		uv_pipe_connect(&api->connect_req, &api->conn.pipe,
				api->addr.path, on_connect);
		arm_timer(api);
		return;
	}
	str_parse_long(api->addr.port, 1, 65535, &port);	/* checked by parse */
	if (uv_ip4_addr(api->addr.host, (int)port,
			(struct sockaddr_in *)&ss) == 0 ||
	    uv_ip6_addr(api->addr.host, (int)port,
			(struct sockaddr_in6 *)&ss) == 0) {
		connect_tcp(api, (struct sockaddr *)&ss);
		arm_timer(api);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	api->st = CONN_RESOLVING;
	api->pending++;
	rc = uv_getaddrinfo(api->loop, &api->gai_req, on_resolved,
			    api->addr.host, api->addr.port, &hints);
	if (rc != 0) {
		api->pending--;
		api->st = CONN_CLOSED;
		conn_fail(api, rc, uv_strerror(rc));
		return;
	}
	arm_timer(api);
}

/* ---- public send ------------------------------------------------------- */

static void on_kick(uv_timer_t *t)
{
	conn_pump(t->data);
}

int rtapi_send(struct rtapi *api, const char *line, rtapi_reply_fn *cb,
	       void *arg)
{
	struct rtapi_req *r;
	size_t n;

	if (api->freeing)
		return CUT_ECANCELED;
	n = strlen(line);
	if (n == 0 || n >= 15000 || memchr(line, '\n', n) != NULL)
		return CUT_EUSAGE;
	r = malloc(sizeof(*r) + n + 2);
	if (r == NULL)
		return UV_ENOMEM;
	r->next = NULL;
	r->cb = cb;
	r->arg = arg;
	r->deadline = uv_now(api->loop) + api->opts.timeout_ms;
	memcpy(r->line, line, n);
	r->line[n] = '\n';
	r->line[n + 1] = '\0';
	r->len = n + 1;
	if (api->q_tail != NULL)
		api->q_tail->next = r;
	else
		api->q_head = r;
	api->q_tail = r;
	/* Pump from the loop, never from here: a failure while connecting
	 * or writing must not run a callback inside rtapi_send(). */
	if (!uv_is_active((uv_handle_t *)&api->kick))
		uv_timer_start(&api->kick, on_kick, 0, 0);
	return 0;
}
