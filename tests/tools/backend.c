/* backend.c - test backend for the end-to-end tests: a small HTTP/1.1 (or
 * line-echo TCP) server on one libuv loop, bound to loopback only.
 *
 *   backend --port N --version STR [--host 127.x.x.x] [--pidfile F]
 *           [--fail-file F] [--status-code N] [--tcp] [--quiet]
 *
 * HTTP endpoints (GET or HEAD; every response carries Content-Length and
 * X-Backend-Version: STR):
 *   /            200 "version=STR\n" (with --status-code N: status N,
 *                same body; e.g. 500 for a new version that breaks)
 *   /slow?ms=N   holds the request N ms on a uv timer, then 200
 *                "version=STR slow=N\n"
 *   /health      200 "ok\n", or 503 "fail\n" while the --fail-file exists
 *                (looked up per request with an asynchronous uv_fs_stat)
 *   /version     200 "STR\n"
 *   other paths  404; other methods 405
 * Connections are kept alive (HTTP/1.1 default, or "Connection:
 * keep-alive" on 1.0) and may pipeline: a connection serves one request at
 * a time and parses the next only after answering, so responses leave in
 * order. A request head must fit in HEAD_MAX bytes, else 400 and close.
 * Content-Length bodies are read and thrown away; Transfer-Encoding is
 * refused with 400.
 *
 * With --tcp every connection stays open and each line received is echoed
 * back prefixed with "STR " (long-lived sessions).
 *
 * The first SIGTERM or SIGINT closes the listener and idle connections and
 * lets requests in flight finish (their responses say Connection: close);
 * the process exits 0 once every handle is closed. A second signal exits
 * at once with status 128 + signal.
 *
 * "listening HOST:PORT" goes to stdout, flushed, once the socket listens
 * (PORT is the real one, so --port 0 works). Unless --quiet, one line per
 * answered request, and one when a /slow request starts waiting, goes to
 * stderr; that stdio write is the one place the
 * tool accepts a possibly blocking call, as stderr is a log file in tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uv.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define HEAD_MAX (16 * 1024)		/* request head cap = read buffer size */
#define WRITE_QUEUE_MAX (256 * 1024)	/* stop reading above this backlog */
#define SLOW_MAX_MS 600000L
#define VERSION_MAX 256
#define TARGET_LOG_MAX 128

struct server {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_signal_t sig_term;
	uv_signal_t sig_int;
	const char *version;	/* borrowed from argv */
	const char *fail_file;	/* borrowed from argv, may be NULL */
	int root_status;	/* status of GET /, 200 unless --status-code */
	int tcp_mode;
	int quiet;
	int stopping;		/* first signal seen */
	int signals_closed;
	unsigned int nconns;
	struct conn *conns;	/* every connection not yet freed */
};

/* Lifecycle of a connection. A request in flight is tracked apart, by
 * conn.busy, because it only exists while the connection is OPEN. */
enum conn_state {
	CONN_ST_OPEN = 0,	/* reading and answering */
	CONN_ST_SHUTDOWN,	/* uv_shutdown sent: flushing writes, then close */
	CONN_ST_CLOSING,	/* uv_close started on both handles */
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;		/* /slow */
	uv_fs_t stat_req;		/* /health with --fail-file */
	uv_shutdown_t shutdown_req;
	struct server *srv;
	struct conn *prev;
	struct conn *next;
	enum conn_state state;
	int busy;		/* a request waits on the timer or the stat */
	int stat_pending;	/* stat_req belongs to the threadpool */
	int reading;
	int peer_eof;
	int pending_closes;
	int keep_alive;		/* of the request being answered */
	int head_only;		/* HEAD: headers without the body */
	long slow_ms;
	uint64_t body_left;	/* Content-Length bytes still to discard */
	char method[8];
	char target[TARGET_LOG_MAX];
	char peer[64];
	size_t len;
	char buf[HEAD_MAX];
};

/* One queued write; freed in its callback. */
struct out {
	uv_write_t req;
	struct conn *c;
	size_t len;
	char data[];
};

static void conn_process(struct conn *c);
static void server_maybe_done(struct server *srv);

/* ---------------------------------------------------------------------- */
/* Connection lifecycle */

static void conn_maybe_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->pending_closes > 0 || c->stat_pending)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	srv->nconns--;
	server_maybe_done(srv);
}

static void on_conn_close(uv_handle_t *handle)
{
	struct conn *c = handle->data;

	c->pending_closes--;
	conn_maybe_free(c);
}

/* Abrupt end: pending writes are cancelled. Safe to call more than once. */
static void conn_close(struct conn *c)
{
	if (c->state == CONN_ST_CLOSING)
		return;
	c->state = CONN_ST_CLOSING;
	c->pending_closes = 2;
	uv_close((uv_handle_t *)&c->tcp, on_conn_close);
	uv_close((uv_handle_t *)&c->timer, on_conn_close);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = container_of(req, struct conn, shutdown_req);

	(void)status;
	conn_close(c);
}

/* Graceful end: flush what is queued, send FIN, then close. */
static void conn_finish(struct conn *c)
{
	if (c->state != CONN_ST_OPEN)
		return;
	c->state = CONN_ST_SHUTDOWN;
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
			on_shutdown) != 0)
		conn_close(c);
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = handle->data;

	(void)suggested;
	buf->base = c->buf + c->len;
	buf->len = sizeof(c->buf) - c->len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* Read while there is buffer room and the peer is not behind on replies. */
static void update_reading(struct conn *c)
{
	int want;

	if (c->state != CONN_ST_OPEN || c->peer_eof)
		return;
	want = c->len < sizeof(c->buf) &&
	       uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <
		       WRITE_QUEUE_MAX;
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc,
				  on_read) != 0) {
			conn_close(c);
			return;
		}
		c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	(void)buf;
	if (nread == UV_EOF) {
		c->peer_eof = 1;
		uv_read_stop(stream);
		c->reading = 0;
		conn_process(c);
		return;
	}
	if (nread == UV_ENOBUFS) {
		/* Buffer full: update_reading() stops until it drains. */
		conn_process(c);
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	conn_process(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct out *o = container_of(req, struct out, req);
	struct conn *c = o->c;

	free(o);
	if (status != 0) {
		conn_close(c);
		return;
	}
	if (c->state == CONN_ST_OPEN && !c->busy)
		conn_process(c);
}

static void conn_send(struct conn *c, const char *head, size_t head_len,
		      const char *body, size_t body_len)
{
	struct out *o;
	uv_buf_t b;

	o = malloc(sizeof(*o) + head_len + body_len);
	if (o == NULL) {
		conn_close(c);
		return;
	}
	o->c = c;
	o->len = head_len + body_len;
	memcpy(o->data, head, head_len);
	if (body_len > 0)
		memcpy(o->data + head_len, body, body_len);
	b = uv_buf_init(o->data, (unsigned int)o->len);
	if (uv_write(&o->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
		free(o);
		conn_close(c);
	}
}

/* ---------------------------------------------------------------------- */
/* HTTP */

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* The one exit of a request: writes the response and ends the request. */
static void respond(struct conn *c, int status, const char *body)
{
	struct server *srv = c->srv;
	char head[512 + VERSION_MAX];
	size_t body_len = strlen(body);
	int keep = c->keep_alive && !srv->stopping && !c->peer_eof;
	int n;

	c->busy = 0;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Backend-Version: %s\r\n"
		     "Connection: %s\r\n"
		     "\r\n",
		     status, status_text(status), body_len, srv->version,
		     keep ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		conn_close(c);
		return;
	}
	if (!srv->quiet)
		fprintf(stderr, "backend %s: %s %s %s -> %d\n", srv->version,
			c->peer, c->method, c->target, status);
	conn_send(c, head, (size_t)n, body, c->head_only ? 0 : body_len);
	if (!keep)
		conn_finish(c);
}

static void on_slow(uv_timer_t *timer)
{
	struct conn *c = container_of(timer, struct conn, timer);
	char body[64 + VERSION_MAX];

	snprintf(body, sizeof(body), "version=%s slow=%ld\n", c->srv->version,
		 c->slow_ms);
	respond(c, 200, body);
	conn_process(c);
}

static void on_stat(uv_fs_t *req)
{
	struct conn *c = container_of(req, struct conn, stat_req);
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	c->stat_pending = 0;
	if (c->state == CONN_ST_CLOSING) {
		conn_maybe_free(c);
		return;
	}
	if (result == 0)
		respond(c, 503, "fail\n");
	else if (result == UV_ENOENT || result == UV_ENOTDIR)
		respond(c, 200, "ok\n");
	else
		respond(c, 500, "stat error\n");
	conn_process(c);
}

/* Returns the length of the request head (through its empty line) or 0 if
 * the head is not complete yet. Bare LF line ends are accepted. */
static size_t find_head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Splits the NUL-terminated line at *pos, strips its CR, advances *pos. */
static char *next_line(char **pos)
{
	char *line = *pos;
	char *nl = strchr(line, '\n');
	size_t n;

	if (nl == NULL) {
		*pos = line + strlen(line);
	} else {
		*nl = '\0';
		*pos = nl + 1;
	}
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

static int token_in(const char *value, const char *token)
{
	size_t tlen = strlen(token);
	const char *p = value;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, token, tlen) == 0 &&
		    (p[tlen] == '\0' || p[tlen] == ',' || p[tlen] == ' ' ||
		     p[tlen] == '\t'))
			return 1;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

/* Parses a decimal string of at most 15 digits; -1 if it is not one. */
static long long parse_number(const char *s)
{
	long long v = 0;
	size_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++, n++) {
		if (*s < '0' || *s > '9' || n >= 15)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Value of the "ms" parameter in a query string, or -1. */
static long query_ms(char *query)
{
	char *param = query;
	long long v;

	while (param != NULL && *param != '\0') {
		char *amp = strchr(param, '&');

		if (amp != NULL)
			*amp = '\0';
		if (strncmp(param, "ms=", 3) == 0) {
			v = parse_number(param + 3);
			return v >= 0 && v <= SLOW_MAX_MS ? (long)v : -1;
		}
		param = amp != NULL ? amp + 1 : NULL;
	}
	return -1;
}

/* Parses the head in c->buf[0..head_len) in place; -1 if it is malformed.
 * Fills method, target (for the log), keep_alive, body_left and returns
 * the path and query through the out parameters (pointing into c->buf). */
static int parse_head(struct conn *c, size_t head_len, char **path,
		      char **query)
{
	char *pos, *line, *sp1, *sp2, *q;
	int minor;

	c->buf[head_len - 1] = '\0';	/* the last '\n' */
	pos = c->buf;
	line = next_line(&pos);
	sp1 = strchr(line, ' ');
	if (sp1 == NULL)
		return -1;
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL)
		return -1;
	*sp2 = '\0';
	snprintf(c->method, sizeof(c->method), "%s", line);
	snprintf(c->target, sizeof(c->target), "%s", sp1 + 1);
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		minor = 0;
	else
		return -1;
	c->keep_alive = minor == 1;
	c->body_left = 0;

	while (*pos != '\0') {
		char *colon, *value;

		line = next_line(&pos);
		if (*line == '\0')
			break;
		if (*line == ' ' || *line == '\t')
			return -1;	/* obsolete line folding */
		colon = strchr(line, ':');
		if (colon == NULL)
			return -1;
		*colon = '\0';
		value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		if (strcasecmp(line, "Content-Length") == 0) {
			long long v = parse_number(value);

			if (v < 0)
				return -1;
			c->body_left = (uint64_t)v;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			return -1;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (token_in(value, "close"))
				c->keep_alive = 0;
			else if (token_in(value, "keep-alive"))
				c->keep_alive = 1;
		}
	}

	*path = sp1 + 1;
	q = strchr(*path, '?');
	if (q != NULL) {
		*q = '\0';
		*query = q + 1;
	} else {
		*query = NULL;
	}
	return 0;
}

/* Starts answering a parsed request; path and query are borrowed. */
static void dispatch(struct conn *c, const char *path, char *query)
{
	struct server *srv = c->srv;
	char body[64 + VERSION_MAX];

	if (strcmp(c->method, "HEAD") == 0) {
		c->head_only = 1;
	} else if (strcmp(c->method, "GET") != 0) {
		respond(c, 405, "method not allowed\n");
		return;
	}

	if (strcmp(path, "/") == 0) {
		snprintf(body, sizeof(body), "version=%s\n", srv->version);
		respond(c, srv->root_status, body);
	} else if (strcmp(path, "/version") == 0) {
		snprintf(body, sizeof(body), "%s\n", srv->version);
		respond(c, 200, body);
	} else if (strcmp(path, "/health") == 0) {
		if (srv->fail_file == NULL) {
			respond(c, 200, "ok\n");
			return;
		}
		if (uv_fs_stat(&srv->loop, &c->stat_req, srv->fail_file,
			       on_stat) != 0) {
			respond(c, 500, "stat error\n");
			return;
		}
		c->stat_pending = 1;
	} else if (strcmp(path, "/slow") == 0) {
		c->slow_ms = query != NULL ? query_ms(query) : -1;
		if (c->slow_ms < 0) {
			respond(c, 400, "bad ms\n");
			return;
		}
		if (uv_timer_start(&c->timer, on_slow, (uint64_t)c->slow_ms,
				   0) != 0) {
			respond(c, 500, "timer error\n");
			return;
		}
		/* Tests wait for this line before signalling the backend. */
		if (!srv->quiet)
			fprintf(stderr, "backend %s: %s %s %s holding %ld ms\n",
				srv->version, c->peer, c->method, c->target,
				c->slow_ms);
	} else {
		respond(c, 404, "not found\n");
	}
}

/* Handles the complete head at the start of c->buf: the request is busy
 * until respond() runs, now or from the timer or stat callback. */
static void handle_request(struct conn *c, size_t head_len)
{
	char *path = NULL, *query = NULL;

	c->busy = 1;
	c->head_only = 0;
	c->keep_alive = 0;
	snprintf(c->method, sizeof(c->method), "-");
	snprintf(c->target, sizeof(c->target), "-");
	if (parse_head(c, head_len, &path, &query) == 0)
		dispatch(c, path, query);
	else {
		c->keep_alive = 0;
		respond(c, 400, "bad request\n");
	}
	/* Only now: path and query point into the head in c->buf. */
	consume(c, head_len);
}

static void process_http(struct conn *c)
{
	while (c->state == CONN_ST_OPEN && !c->busy) {
		size_t head_len;

		if (c->body_left > 0) {
			size_t n = c->len;

			if (n > c->body_left)
				n = (size_t)c->body_left;
			consume(c, n);
			c->body_left -= n;
			if (c->body_left > 0) {
				if (c->peer_eof)
					conn_finish(c);
				break;
			}
		}
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >=
		    WRITE_QUEUE_MAX)
			break;
		head_len = find_head_end(c->buf, c->len);
		if (head_len == 0) {
			if (c->len == sizeof(c->buf)) {
				c->keep_alive = 0;
				snprintf(c->method, sizeof(c->method), "-");
				snprintf(c->target, sizeof(c->target),
					 "(head over %d bytes)", HEAD_MAX);
				respond(c, 400, "request head too large\n");
			} else if (c->peer_eof || c->srv->stopping) {
				conn_finish(c);
			}
			break;
		}
		handle_request(c, head_len);
	}
}

/* ---------------------------------------------------------------------- */
/* TCP echo */

static void process_tcp(struct conn *c)
{
	const char *version = c->srv->version;
	char *nl;

	while (c->state == CONN_ST_OPEN &&
	       (nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t line_len = (size_t)(nl - c->buf) + 1;
		size_t vlen = strlen(version);
		char prefix[VERSION_MAX + 2];

		memcpy(prefix, version, vlen);
		prefix[vlen] = ' ';
		conn_send(c, prefix, vlen + 1, c->buf, line_len);
		consume(c, line_len);
	}
	if (c->state != CONN_ST_OPEN)
		return;
	if (c->len == sizeof(c->buf)) {
		fprintf(stderr, "backend %s: %s line over %d bytes, closing\n",
			version, c->peer, HEAD_MAX);
		conn_close(c);
	} else if (c->peer_eof || c->srv->stopping) {
		conn_finish(c);
	}
}

static void conn_process(struct conn *c)
{
	if (c->state != CONN_ST_OPEN)
		return;
	if (c->srv->tcp_mode)
		process_tcp(c);
	else
		process_http(c);
	update_reading(c);
}

/* ---------------------------------------------------------------------- */
/* Server */

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;
	struct sockaddr_storage ss;
	int namelen = sizeof(ss);
	struct conn *c;
	char ip[48];

	if (status != 0) {
		fprintf(stderr, "backend: accept: %s\n", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fprintf(stderr, "backend: out of memory\n");
		return;
	}
	c->srv = srv;
	uv_tcp_init(&srv->loop, &c->tcp);
	uv_timer_init(&srv->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	snprintf(c->peer, sizeof(c->peer), "?");

	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss,
			       &namelen) == 0 && ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&ss;

		uv_ip4_name(sin, ip, sizeof(ip));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", ip,
			 (unsigned int)ntohs(sin->sin_port));
	}
	uv_tcp_nodelay(&c->tcp, 1);
	update_reading(c);
}

/* Once stopping and every connection is gone, the signal handles are the
 * last ones open; closing them lets uv_run() return. */
static void server_maybe_done(struct server *srv)
{
	if (!srv->stopping || srv->nconns > 0 || srv->signals_closed)
		return;
	srv->signals_closed = 1;
	uv_close((uv_handle_t *)&srv->sig_term, NULL);
	uv_close((uv_handle_t *)&srv->sig_int, NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct server *srv = handle->data;
	struct conn *c;

	if (srv->stopping) {
		fprintf(stderr, "backend %s: signal %d again, exiting now\n",
			srv->version, signum);
		_exit(128 + signum);
	}
	srv->stopping = 1;
	if (!srv->quiet)
		fprintf(stderr, "backend %s: signal %d, stopping (%u "
			"connections)\n", srv->version, signum, srv->nconns);
	uv_close((uv_handle_t *)&srv->listener, NULL);
	for (c = srv->conns; c != NULL; c = c->next)
		if (!c->busy)
			conn_finish(c);
	server_maybe_done(srv);
}

static void close_any(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

/* Only used before any connection exists (start-up errors). */
static void close_loop(struct server *srv)
{
	uv_walk(&srv->loop, close_any, NULL);
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	uv_loop_close(&srv->loop);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: backend --port N --version STR [--host 127.x.x.x] "
		"[--pidfile F] [--fail-file F] [--status-code N] [--tcp] "
		"[--quiet]\n");
}

static int valid_version(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VERSION_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "version", required_argument, NULL, 'v' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "fail-file", required_argument, NULL, 'f' },
		{ "status-code", required_argument, NULL, 's' },
		{ "tcp", no_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv;
	const char *host = "127.0.0.1";
	const char *pidfile = NULL;
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	unsigned char ip[4];
	long long port = -1;
	int namelen = sizeof(bound);
	int opt, rc;

	memset(&srv, 0, sizeof(srv));
	srv.root_status = 200;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = parse_number(optarg);
			break;
		case 'H':
			host = optarg;
			break;
		case 'v':
			srv.version = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'f':
			srv.fail_file = optarg;
			break;
		case 's': {
			long long code = parse_number(optarg);

			if (code < 100 || code > 599) {
				fprintf(stderr, "backend: --status-code must be "
					"100-599\n");
				return 2;
			}
			srv.root_status = (int)code;
			break;
		}
		case 't':
			srv.tcp_mode = 1;
			break;
		case 'q':
			srv.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || port < 0 || port > 65535 ||
	    srv.version == NULL) {
		usage(stderr);
		return 2;
	}
	if (!valid_version(srv.version)) {
		fprintf(stderr, "backend: --version must be 1-%d printable "
			"characters without spaces\n", VERSION_MAX);
		return 2;
	}
	if (uv_inet_pton(AF_INET, host, ip) != 0 || ip[0] != 127) {
		fprintf(stderr, "backend: refusing host '%s': only 127.x.x.x "
			"addresses are allowed\n", host);
		return 2;
	}
	uv_ip4_addr(host, (int)port, &addr);
	signal(SIGPIPE, SIG_IGN);

	rc = uv_loop_init(&srv.loop);
	if (rc != 0) {
		fprintf(stderr, "backend: uv_loop_init: %s\n", uv_strerror(rc));
		return 1;
	}
	uv_tcp_init(&srv.loop, &srv.listener);
	uv_signal_init(&srv.loop, &srv.sig_term);
	uv_signal_init(&srv.loop, &srv.sig_int);
	srv.listener.data = &srv;
	srv.sig_term.data = &srv;
	srv.sig_int.data = &srv;

	rc = uv_tcp_bind(&srv.listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv.listener, 128,
			       on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv.listener,
					(struct sockaddr *)&bound, &namelen);
	if (rc != 0) {
		fprintf(stderr, "backend: cannot listen on %s:%lld: %s\n",
			host, port, uv_strerror(rc));
		close_loop(&srv);
		return 1;
	}
	rc = uv_signal_start(&srv.sig_term, on_signal, SIGTERM);
	if (rc == 0)
		rc = uv_signal_start(&srv.sig_int, on_signal, SIGINT);
	if (rc != 0) {
		fprintf(stderr, "backend: uv_signal_start: %s\n",
			uv_strerror(rc));
		close_loop(&srv);
		return 1;
	}
	if (pidfile != NULL) {
		rc = write_pidfile(pidfile);
		if (rc != 0) {
			fprintf(stderr, "backend: pidfile %s: %s\n", pidfile,
				strerror(-rc));
			close_loop(&srv);
			return 1;
		}
	}
	printf("listening %s:%u\n", host,
	       (unsigned int)ntohs(((struct sockaddr_in *)&bound)->sin_port));
	fflush(stdout);

	uv_run(&srv.loop, UV_RUN_DEFAULT);

	rc = uv_loop_close(&srv.loop);
	if (pidfile != NULL)
		unlink(pidfile);
	if (rc != 0) {
		fprintf(stderr, "backend: uv_loop_close: %s\n", uv_strerror(rc));
		return 1;
	}
	return 0;
}
