/* loadgen.c - continuous HTTP/1.1 load generator for the end-to-end tests:
 * N clients on one libuv loop send GET requests to one loopback URL and
 * classify every outcome, to prove "0 failed requests during a rolling
 * upgrade".
 *
 *   loadgen --url http://127.x.x.x[:PORT][/PATH] [--clients N]
 *           [--keepalive | --no-keepalive] [--duration DUR]
 *           [--until-file F] [--rate R] [--timeout DUR] [--report FILE]
 *           [--stats-every DUR]
 *
 *   --clients N       concurrent clients, one connection each (default 8)
 *   --keepalive       reuse connections (default)
 *   --no-keepalive    one connection per request ("Connection: close")
 *   --duration DUR    stop after DUR
 *   --until-file F    stop once F exists (polled every 50 ms with an
 *                     asynchronous uv_fs_stat); with --duration too, the
 *                     first of the two stops the run
 *   --rate R          R requests/s over all clients, 0 = as fast as
 *                     possible (default 0)
 *   --timeout DUR     limit per request, connect and a retry included
 *                     (default 10s)
 *   --report FILE     also write the result line to FILE (written to
 *                     FILE.tmp.PID, then renamed, so FILE appears whole)
 *   --stats-every DUR progress line on stderr every DUR
 * DUR is a number with an optional unit: ms, s (default), m or h.
 * Only plain http to a 127.x.x.x address is accepted.
 *
 * Each client loops: connect if needed, send "GET PATH HTTP/1.1" with a
 * Host header (and "Connection: close" with --no-keepalive), read the
 * response (Content-Length, chunked or close-delimited body), record it.
 * A response with "Connection: close" (or HTTP/1.0 without keep-alive)
 * makes the next request use a new connection.
 *
 * Outcomes. ok: a complete 2xx response. Failed: connect error, timeout,
 * reset (connection closed or reset before the response was complete),
 * http5xx, another non-2xx status, malformed response. One exception, the
 * keep-alive race: when a request sent on a reused connection sees the
 * peer close it before any byte of the response, the request is sent once
 * more on a new connection and counted as retried (as browsers do for
 * idempotent requests); the request then counts as ok or failed by the
 * second attempt. A client that failed rests 10 ms before its next
 * request, so a dead target is not hammered in a tight loop.
 *
 * The X-Backend-Version header of every ok response is counted by value
 * ("-" when absent). Latency percentiles cover ok responses, measured from
 * the start of the request (connect and retry included), in a log-linear
 * histogram with under 1% error.
 *
 * Stopping: --duration, --until-file, SIGTERM or SIGINT end the run;
 * requests in flight finish (bounded by --timeout), then the tool prints
 * to stdout, and to --report, the one line
 *   requests=N ok=N failed=N http5xx=N retried=N connect_errors=N
 *   timeouts=N resets=N versions=V1:N,V2:N p50_ms=X p99_ms=X max_ms=X
 * (requests = ok + failed). To stderr go a summary with requests/s and,
 * per failure kind, "failures kind=K count=N" and the first 5 details as
 * "failure: t=1.234s client=3 connect: connection refused". A second
 * signal aborts the requests in flight (counted as failed, kind aborted).
 * Exit status: 0 if failed=0, 1 otherwise or on a runtime error, 2 on a
 * usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
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

#define RESP_BUF_MAX (16 * 1024)	/* response head cap = read buffer */
#define LINE_MAX_LEN 1024		/* chunk-size and trailer lines */
#define VERSION_MAX 64			/* X-Backend-Version bytes kept */
#define VERSIONS_MAX 32			/* version names counted apart */
#define DETAILS_MAX 5			/* failure details kept per kind */
#define DETAIL_LEN 256
#define URL_PART_MAX 1024
#define CLIENTS_MAX 4096
#define RATE_MAX 1e7
#define FAIL_PAUSE_MS 10		/* rest of a client after a failure */
#define POLL_MS 50			/* --until-file poll interval */
#define DURATION_MAX_MS (30ULL * 24 * 3600 * 1000)
#define HIST_SUB 128			/* sub-buckets per power of two */
#define HIST_SIZE (2 * HIST_SUB + 56 * HIST_SUB)
#define REPORT_MAX (VERSIONS_MAX * (VERSION_MAX + 24) + 512)

/* Why a request failed; FAIL_NONE is success. */
enum fail_kind {
	FAIL_NONE = 0,
	FAIL_CONNECT,		/* connect() failed */
	FAIL_TIMEOUT,		/* no complete response within --timeout */
	FAIL_RESET,		/* closed or reset before the response end */
	FAIL_HTTP5XX,		/* complete response, status 5xx */
	FAIL_HTTP_STATUS,	/* complete response, other non-2xx status */
	FAIL_MALFORMED,		/* not a valid HTTP/1.x response */
	FAIL_ABORTED,		/* cut short by a second signal */
	FAIL_COUNT		/* number of kinds, keep last */
};

static const char *const fail_names[FAIL_COUNT] = {
	[FAIL_NONE] = "none",
	[FAIL_CONNECT] = "connect",
	[FAIL_TIMEOUT] = "timeout",
	[FAIL_RESET] = "reset",
	[FAIL_HTTP5XX] = "http5xx",
	[FAIL_HTTP_STATUS] = "http_status",
	[FAIL_MALFORMED] = "malformed",
	[FAIL_ABORTED] = "aborted",
};

/* The client's TCP connection. Kept apart from the request: a request may
 * outlive a connection (retry) and a connection many requests. */
enum conn_state {
	CONN_ST_NONE = 0,	/* tcp handle not initialised */
	CONN_ST_CONNECTING,	/* connect_req in flight */
	CONN_ST_OPEN,		/* connected and reading */
	CONN_ST_CLOSING,	/* uv_close started, waiting for on_tcp_close */
};

/* The client's request slot. */
enum req_state {
	REQ_ST_IDLE = 0,	/* between two requests (never seen by a cb) */
	REQ_ST_PACING,		/* timer waits for the next start */
	REQ_ST_ACTIVE,		/* request in flight; timer = timeout */
	REQ_ST_DONE,		/* client shut down, handles closing */
};

/* Where the response parser stands. */
enum resp_phase {
	RESP_PH_HEAD = 0,	/* status line and headers */
	RESP_PH_BODY_LENGTH,	/* Content-Length body */
	RESP_PH_CHUNK_SIZE,	/* chunk-size line */
	RESP_PH_CHUNK_DATA,	/* chunk bytes */
	RESP_PH_CHUNK_END,	/* CRLF after chunk bytes */
	RESP_PH_TRAILER,	/* trailer lines after the last chunk */
	RESP_PH_BODY_EOF,	/* body delimited by the connection close */
	RESP_PH_DONE,		/* response complete */
	RESP_PH_COUNT		/* number of phases, keep last */
};

static const char *const resp_phase_names[RESP_PH_COUNT] = {
	[RESP_PH_HEAD] = "head",
	[RESP_PH_BODY_LENGTH] = "body",
	[RESP_PH_CHUNK_SIZE] = "chunk size",
	[RESP_PH_CHUNK_DATA] = "chunk data",
	[RESP_PH_CHUNK_END] = "chunk end",
	[RESP_PH_TRAILER] = "trailer",
	[RESP_PH_BODY_EOF] = "body to close",
	[RESP_PH_DONE] = "done",
};

/* Run state of the whole tool. */
enum lg_state {
	LG_ST_RUNNING = 0,	/* clients start new requests */
	LG_ST_STOPPING,		/* in-flight requests finish, no new */
	LG_ST_ABORTING,		/* second signal: in-flight ones cut */
	LG_ST_CLOSING,		/* clients closed; own handles closing */
};

/* Options; never changes once parsed. */
struct lg_config {
	char host[INET_ADDRSTRLEN];
	char authority[URL_PART_MAX];	/* Host header, as in the URL */
	char path[URL_PART_MAX];
	unsigned int port;
	unsigned int clients;
	int keepalive;
	uint64_t duration_ms;		/* 0: no limit */
	const char *until_file;		/* borrowed from argv or NULL */
	double rate;			/* 0: as fast as possible */
	uint64_t timeout_ms;
	const char *report;		/* borrowed from argv, may be NULL */
	uint64_t stats_every_ms;	/* 0: no progress lines */
};

struct resp {
	enum resp_phase phase;
	int status;
	int close;		/* the server closes after this response */
	int has_length;
	uint64_t left;		/* body or chunk bytes still to read */
	char version[VERSION_MAX];
};

struct version_count {
	char name[VERSION_MAX];
	uint64_t count;
};

struct stats {
	uint64_t requests;	/* ok + failed */
	uint64_t ok;
	uint64_t failed;
	uint64_t retried;
	uint64_t by_kind[FAIL_COUNT];
	unsigned int ndetails[FAIL_COUNT];
	char details[FAIL_COUNT][DETAILS_MAX][DETAIL_LEN];
	unsigned int nversions;
	struct version_count versions[VERSIONS_MAX];
	uint64_t other_versions;	/* beyond VERSIONS_MAX names */
	uint64_t samples;
	uint64_t max_us;
	uint64_t hist[HIST_SIZE];	/* latency of ok requests, in us */
};

struct client {
	uv_tcp_t tcp;
	uv_timer_t timer;		/* pacing, failure rest, timeout */
	uv_connect_t connect_req;
	uv_write_t write_req;
	struct loadgen *lg;
	unsigned int id;
	enum conn_state conn;
	enum req_state req;
	int connect_after_close;	/* attempt waits for the old close */
	int write_pending;		/* write_req belongs to libuv */
	int send_after_write;		/* send once write_req is back */
	int reused;			/* attempt sent on a reused conn */
	int got_bytes;			/* attempt got response bytes */
	int retried;			/* request was retried already */
	int pending_closes;		/* once REQ_ST_DONE */
	unsigned int conn_responses;	/* responses on this conn */
	uint64_t t_start;		/* uv_hrtime() at request start */
	struct resp resp;
	size_t len;
	char buf[RESP_BUF_MAX];
};

struct loadgen {
	uv_loop_t loop;
	uv_signal_t sig_term;
	uv_signal_t sig_int;
	uv_timer_t duration_timer;
	uv_timer_t stats_timer;
	uv_timer_t poll_timer;
	uv_fs_t stat_req;
	int stat_pending;		/* stat_req is in the threadpool */
	enum lg_state state;
	const char *stop_reason;	/* static string */
	struct lg_config cfg;
	struct sockaddr_in addr;
	char request[2 * URL_PART_MAX + 64];
	size_t request_len;
	uint64_t t0;			/* uv_hrtime() at start */
	uint64_t t_end;			/* uv_hrtime() at the end */
	uint64_t slot_ns;		/* 1e9 / rate, 0 without --rate */
	uint64_t next_slot;		/* uv_hrtime() of next rate slot */
	uint64_t last_stats_t;
	uint64_t last_stats_requests;
	unsigned int inflight;
	unsigned int clients_done;
	struct client *clients;		/* cfg.clients entries */
	struct stats st;
};

static void client_next(struct client *c, uint64_t pause_ms);
static void attempt_start(struct client *c);
static void connect_start(struct client *c);
static void lg_maybe_done(struct loadgen *lg);
static void on_timer(uv_timer_t *timer);

/* ---------------------------------------------------------------------- */
/* Statistics */

static double seconds_since(const struct loadgen *lg, uint64_t t)
{
	return (double)(t - lg->t0) / 1e9;
}

/* Log-linear bucket: exact below 2 * HIST_SUB us, then HIST_SUB buckets
 * per power of two. */
static unsigned int hist_index(uint64_t us)
{
	unsigned int b, shift;

	if (us < 2 * HIST_SUB)
		return (unsigned int)us;
	b = 63 - (unsigned int)__builtin_clzll(us);
	shift = b - 7;
	return 2 * HIST_SUB + (b - 8) * HIST_SUB +
	       (unsigned int)((us >> shift) - HIST_SUB);
}

/* Middle of a bucket, in us. */
static double hist_value(unsigned int idx)
{
	unsigned int k, b, shift;
	uint64_t lo;

	if (idx < 2 * HIST_SUB)
		return idx;
	k = idx - 2 * HIST_SUB;
	b = k / HIST_SUB + 8;
	shift = b - 7;
	lo = (uint64_t)(HIST_SUB + k % HIST_SUB) << shift;
	return (double)lo + (double)((uint64_t)1 << shift) / 2.0;
}

static void record_latency(struct stats *st, uint64_t us)
{
	st->hist[hist_index(us)]++;
	st->samples++;
	if (us > st->max_us)
		st->max_us = us;
}

static double percentile_ms(const struct stats *st, double p)
{
	uint64_t rank, seen = 0;
	unsigned int i;
	double v;

	if (st->samples == 0)
		return 0.0;
	rank = (uint64_t)ceil(p * (double)st->samples);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_SIZE; i++) {
		seen += st->hist[i];
		if (seen >= rank)
			break;
	}
	v = i < HIST_SIZE ? hist_value(i) : (double)st->max_us;
	if (v > (double)st->max_us)
		v = (double)st->max_us;
	return v / 1000.0;
}

static void count_version(struct stats *st, const char *name)
{
	unsigned int i;

	if (name[0] == '\0')
		name = "-";
	for (i = 0; i < st->nversions; i++) {
		if (strcmp(st->versions[i].name, name) == 0) {
			st->versions[i].count++;
			return;
		}
	}
	if (st->nversions == VERSIONS_MAX) {
		st->other_versions++;
		return;
	}
	snprintf(st->versions[i].name, sizeof(st->versions[i].name), "%s",
		 name);
	st->versions[i].count = 1;
	st->nversions++;
}

/* Appends to out[*off..size); output past the end is cut. */
static void appendf(char *out, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void appendf(char *out, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off += (size_t)n;
	if (*off >= size)
		*off = size - 1;
}

static void format_versions(const struct stats *st, char *out, size_t size,
			    size_t *off)
{
	unsigned int i;

	for (i = 0; i < st->nversions; i++)
		appendf(out, size, off, "%s%s:%" PRIu64, i > 0 ? "," : "",
			st->versions[i].name, st->versions[i].count);
	if (st->other_versions > 0)
		appendf(out, size, off, "%sother:%" PRIu64,
			st->nversions > 0 ? "," : "", st->other_versions);
}

/* The result line, without newline. */
static void format_report(const struct stats *st, char *out, size_t size)
{
	size_t off = 0;

	out[0] = '\0';
	appendf(out, size, &off, "requests=%" PRIu64 " ok=%" PRIu64
		" failed=%" PRIu64 " http5xx=%" PRIu64 " retried=%" PRIu64
		" connect_errors=%" PRIu64 " timeouts=%" PRIu64
		" resets=%" PRIu64 " versions=", st->requests, st->ok,
		st->failed, st->by_kind[FAIL_HTTP5XX], st->retried,
		st->by_kind[FAIL_CONNECT], st->by_kind[FAIL_TIMEOUT],
		st->by_kind[FAIL_RESET]);
	format_versions(st, out, size, &off);
	appendf(out, size, &off, " p50_ms=%.1f p99_ms=%.1f max_ms=%.1f",
		percentile_ms(st, 0.50), percentile_ms(st, 0.99),
		(double)st->max_us / 1000.0);
}

static void record_failure(struct client *c, enum fail_kind kind,
			   const char *detail)
{
	struct loadgen *lg = c->lg;
	struct stats *st = &lg->st;
	unsigned int n = st->ndetails[kind];

	st->failed++;
	st->by_kind[kind]++;
	if (n >= DETAILS_MAX)
		return;
	snprintf(st->details[kind][n], DETAIL_LEN, "t=%.3fs client=%u %s: %s%s",
		 seconds_since(lg, uv_hrtime()), c->id, fail_names[kind],
		 detail, c->retried ? " (after a retry)" : "");
	st->ndetails[kind]++;
}

/* ---------------------------------------------------------------------- */
/* Connection */

static void client_closed_one(struct client *c)
{
	struct loadgen *lg = c->lg;

	if (--c->pending_closes > 0)
		return;
	lg->clients_done++;
	lg_maybe_done(lg);
}

static void on_tcp_close(uv_handle_t *handle)
{
	struct client *c = handle->data;

	c->conn = CONN_ST_NONE;
	c->len = 0;
	if (c->req == REQ_ST_DONE) {
		client_closed_one(c);
		return;
	}
	if (c->connect_after_close) {
		c->connect_after_close = 0;
		connect_start(c);
	}
}

/* Starts closing the connection, if there is one. Pending connect and
 * write requests come back with UV_ECANCELED before on_tcp_close. */
static void conn_close(struct client *c)
{
	if (c->conn == CONN_ST_NONE || c->conn == CONN_ST_CLOSING)
		return;
	c->conn = CONN_ST_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, on_tcp_close);
}

/* ---------------------------------------------------------------------- */
/* Request */

static void on_timer_close(uv_handle_t *handle)
{
	struct client *c = handle->data;

	client_closed_one(c);
}

/* Ends the client: no more requests; handles close. */
static void client_shutdown(struct client *c)
{
	c->req = REQ_ST_DONE;
	c->connect_after_close = 0;
	c->pending_closes = 1;
	uv_close((uv_handle_t *)&c->timer, on_timer_close);
	if (c->conn != CONN_ST_NONE) {
		c->pending_closes++;
		conn_close(c);
	}
}

/* The one exit of a request: counts it, keeps or closes the connection
 * and schedules the next request. detail is borrowed (NULL if ok). */
static void request_finish(struct client *c, enum fail_kind kind,
			   const char *detail)
{
	struct loadgen *lg = c->lg;
	int keep;

	uv_timer_stop(&c->timer);
	c->req = REQ_ST_IDLE;
	c->connect_after_close = 0;
	c->send_after_write = 0;
	lg->inflight--;
	lg->st.requests++;
	if (kind == FAIL_NONE) {
		lg->st.ok++;
		record_latency(&lg->st, (uv_hrtime() - c->t_start) / 1000);
		count_version(&lg->st, c->resp.version);
	} else {
		record_failure(c, kind, detail);
	}
	keep = c->conn == CONN_ST_OPEN && c->resp.phase == RESP_PH_DONE &&
	       !c->resp.close && lg->cfg.keepalive;
	if (keep)
		c->conn_responses++;
	else
		conn_close(c);
	client_next(c, kind == FAIL_NONE ? 0 : FAIL_PAUSE_MS);
}

static void request_failf(struct client *c, enum fail_kind kind,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void request_failf(struct client *c, enum fail_kind kind,
			  const char *fmt, ...)
{
	char detail[DETAIL_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	request_finish(c, kind, detail);
}

/* The transport failed during an attempt: the connection is dropped, and
 * the keep-alive race (reused connection, closed before any response
 * byte) is retried once on a new connection. */
static void attempt_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void attempt_error(struct client *c, const char *fmt, ...)
{
	char detail[DETAIL_LEN];
	va_list ap;

	conn_close(c);
	if (c->reused && !c->got_bytes && !c->retried) {
		c->retried = 1;
		c->lg->st.retried++;
		attempt_start(c);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	request_finish(c, FAIL_RESET, detail);
}

static void request_start(struct client *c)
{
	struct loadgen *lg = c->lg;

	c->req = REQ_ST_ACTIVE;
	c->retried = 0;
	c->t_start = uv_hrtime();
	lg->inflight++;
	uv_timer_start(&c->timer, on_timer, lg->cfg.timeout_ms, 0);
	attempt_start(c);
}

/* Decides when the client's next request starts: after pause_ms, and not
 * before the next --rate slot. */
static void client_next(struct client *c, uint64_t pause_ms)
{
	struct loadgen *lg = c->lg;
	uint64_t now, start, slot;

	if (lg->state != LG_ST_RUNNING) {
		client_shutdown(c);
		return;
	}
	now = uv_hrtime();
	start = now + pause_ms * 1000000;
	if (lg->slot_ns > 0) {
		slot = lg->next_slot > now ? lg->next_slot : now;
		lg->next_slot = slot + lg->slot_ns;
		if (slot > start)
			start = slot;
	}
	/* Below a millisecond the timer cannot wait precisely; the slot
	 * accounting above keeps the average rate. */
	if ((start - now) / 1000000 == 0) {
		request_start(c);
		return;
	}
	c->req = REQ_ST_PACING;
	uv_timer_start(&c->timer, on_timer, (start - now) / 1000000, 0);
}

/* ---------------------------------------------------------------------- */
/* Attempt: one try of a request on one connection */

static void on_write(uv_write_t *req, int status);
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void send_request(struct client *c)
{
	struct loadgen *lg = c->lg;
	uv_buf_t b;
	int rc;

	c->reused = c->conn_responses > 0;
	if (c->write_pending) {
		/* The previous request's write callback has not run yet. */
		c->send_after_write = 1;
		return;
	}
	b = uv_buf_init(lg->request, (unsigned int)lg->request_len);
	rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc != 0) {
		attempt_error(c, "write: %s", uv_strerror(rc));
		return;
	}
	c->write_pending = 1;
}

static void on_write(uv_write_t *req, int status)
{
	struct client *c = container_of(req, struct client, write_req);

	c->write_pending = 0;
	if (c->send_after_write) {
		c->send_after_write = 0;
		if (c->conn == CONN_ST_OPEN && c->req == REQ_ST_ACTIVE)
			send_request(c);
		return;
	}
	if (status == 0 || status == UV_ECANCELED)
		return;
	if (c->conn != CONN_ST_OPEN || c->req != REQ_ST_ACTIVE)
		return;
	attempt_error(c, "write: %s", uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status)
{
	struct client *c = container_of(req, struct client, connect_req);
	int rc;

	if (c->conn != CONN_ST_CONNECTING)
		return;		/* closed meanwhile: UV_ECANCELED */
	if (status != 0) {
		conn_close(c);
		request_failf(c, FAIL_CONNECT, "%s", uv_strerror(status));
		return;
	}
	c->conn = CONN_ST_OPEN;
	uv_tcp_nodelay(&c->tcp, 1);
	rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc != 0) {
		conn_close(c);
		request_failf(c, FAIL_CONNECT, "read start: %s",
			      uv_strerror(rc));
		return;
	}
	send_request(c);
}

static void connect_start(struct client *c)
{
	struct loadgen *lg = c->lg;
	int rc;

	c->reused = 0;
	c->conn_responses = 0;
	c->len = 0;
	rc = uv_tcp_init(&lg->loop, &c->tcp);
	if (rc != 0) {
		request_failf(c, FAIL_CONNECT, "tcp init: %s", uv_strerror(rc));
		return;
	}
	c->tcp.data = c;
	c->conn = CONN_ST_CONNECTING;
	rc = uv_tcp_connect(&c->connect_req, &c->tcp,
			    (const struct sockaddr *)&lg->addr, on_connect);
	if (rc != 0) {
		conn_close(c);
		request_failf(c, FAIL_CONNECT, "%s", uv_strerror(rc));
	}
}

static void attempt_start(struct client *c)
{
	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.phase = RESP_PH_HEAD;
	c->got_bytes = 0;
	switch (c->conn) {
	case CONN_ST_OPEN:
		send_request(c);
		break;
	case CONN_ST_NONE:
		connect_start(c);
		break;
	case CONN_ST_CLOSING:
		c->connect_after_close = 1;
		break;
	case CONN_ST_CONNECTING:
		/* Not reachable: a finished request never leaves a connect
		 * behind, it closes the connection. */
		break;
	}
}

/* What the attempt was doing, for a timeout message. */
static const char *attempt_phase(const struct client *c)
{
	if (c->conn == CONN_ST_CONNECTING)
		return "connecting";
	if (c->conn != CONN_ST_OPEN)
		return "reconnecting";
	if (c->resp.phase == RESP_PH_HEAD && !c->got_bytes)
		return "waiting for the response";
	return resp_phase_names[c->resp.phase];
}

static void on_timer(uv_timer_t *timer)
{
	struct client *c = container_of(timer, struct client, timer);
	const char *phase;

	if (c->req == REQ_ST_PACING) {
		request_start(c);
		return;
	}
	if (c->req != REQ_ST_ACTIVE)
		return;
	phase = attempt_phase(c);
	conn_close(c);
	request_failf(c, FAIL_TIMEOUT, "no complete response after %" PRIu64
		      " ms (%s)", c->lg->cfg.timeout_ms, phase);
}

/* ---------------------------------------------------------------------- */
/* Response parsing */

static void consume(struct client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Length of the head through its empty line, or 0 if incomplete. Bare LF
 * line ends are accepted. */
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

/* Length of the first line through its '\n', or 0 if incomplete. */
static size_t find_line(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	return nl != NULL ? (size_t)(nl - buf) + 1 : 0;
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

/* Decimal of at most 15 digits; -1 if it is not one. */
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

/* Hex chunk size of a chunk-size line (extensions after ';' ignored). */
static int parse_chunk_size(const char *line, size_t len, uint64_t *size)
{
	uint64_t v = 0;
	size_t i, digits = 0;

	for (i = 0; i < len; i++) {
		char ch = line[i];
		int d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			break;
		if (++digits > 15)
			return -1;
		v = v * 16 + (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	for (; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			break;
	if (i < len && line[i] != ';' && line[i] != '\r' && line[i] != '\n')
		return -1;
	*size = v;
	return 0;
}

/* Keeps the header value as a version name: characters that would break
 * the "name:count,..." list become '_'. */
static void copy_version(char *dst, size_t size, const char *value)
{
	size_t i;

	for (i = 0; i + 1 < size && value[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)value[i];

		dst[i] = ch > 0x20 && ch < 0x7f && ch != ',' && ch != ':' &&
			 ch != '=' ? (char)ch : '_';
	}
	dst[i] = '\0';
}

/* Parses the head in c->buf[0..head_len) in place and sets the body
 * phase; -1 with *msg set if it is malformed. */
static int parse_head(struct client *c, size_t head_len, const char **msg)
{
	struct resp *r = &c->resp;
	char *pos, *line;
	int minor, chunked = 0;

	r->status = 0;
	r->close = 0;
	r->has_length = 0;
	r->left = 0;
	r->version[0] = '\0';
	c->buf[head_len - 1] = '\0';	/* the last '\n' */
	pos = c->buf;
	line = next_line(&pos);
	if (strncmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' ||
	    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
	    (line[12] != ' ' && line[12] != '\0')) {
		*msg = "bad status line";
		return -1;
	}
	minor = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
		    (line[11] - '0');
	r->close = minor == 0;

	while (*pos != '\0') {
		char *colon, *value, *end;

		line = next_line(&pos);
		if (*line == '\0')
			break;
		if (*line == ' ' || *line == '\t') {
			*msg = "obsolete header line folding";
			return -1;
		}
		colon = strchr(line, ':');
		if (colon == NULL || colon == line) {
			*msg = "header line without a name";
			return -1;
		}
		*colon = '\0';
		value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (strcasecmp(line, "Content-Length") == 0) {
			long long v = parse_number(value);

			if (v < 0 ||
			    (r->has_length && r->left != (uint64_t)v)) {
				*msg = "bad Content-Length";
				return -1;
			}
			r->has_length = 1;
			r->left = (uint64_t)v;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			size_t n = strlen(value);

			if (n < 7 ||
			    strcasecmp(value + n - 7, "chunked") != 0) {
				*msg = "unsupported Transfer-Encoding";
				return -1;
			}
			chunked = 1;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (token_in(value, "close"))
				r->close = 1;
			else if (token_in(value, "keep-alive"))
				r->close = 0;
		} else if (strcasecmp(line, "X-Backend-Version") == 0) {
			copy_version(r->version, sizeof(r->version), value);
		}
	}

	if (r->status == 101) {
		*msg = "unexpected 101 Switching Protocols";
		return -1;
	}
	if (r->status < 200) {
		/* Interim response: the final one follows. */
		r->phase = RESP_PH_HEAD;
	} else if (r->status == 204 || r->status == 304) {
		r->phase = RESP_PH_DONE;
	} else if (chunked) {
		/* With Content-Length too the framing is doubtful: do not
		 * reuse the connection (RFC 9112 6.3). */
		if (r->has_length)
			r->close = 1;
		r->left = 0;
		r->phase = RESP_PH_CHUNK_SIZE;
	} else if (r->has_length) {
		r->phase = r->left > 0 ? RESP_PH_BODY_LENGTH : RESP_PH_DONE;
	} else {
		r->close = 1;
		r->phase = RESP_PH_BODY_EOF;
	}
	return 0;
}

/* Eats body bytes; returns 1 once r->left reached 0. */
static int consume_left(struct client *c)
{
	struct resp *r = &c->resp;
	size_t n = c->len;

	if (n > r->left)
		n = (size_t)r->left;
	consume(c, n);
	r->left -= n;
	return r->left == 0;
}

/* Runs the parser over c->buf: 0 = needs more bytes, 1 = response
 * complete, -1 = malformed (*msg set). */
static int resp_feed(struct client *c, const char **msg)
{
	struct resp *r = &c->resp;
	size_t n;

	for (;;) {
		switch (r->phase) {
		case RESP_PH_HEAD:
			n = find_head_end(c->buf, c->len);
			if (n == 0) {
				if (c->len == sizeof(c->buf)) {
					*msg = "response head too large";
					return -1;
				}
				return 0;
			}
			if (parse_head(c, n, msg) != 0)
				return -1;
			consume(c, n);
			break;
		case RESP_PH_BODY_LENGTH:
			if (!consume_left(c))
				return 0;
			r->phase = RESP_PH_DONE;
			break;
		case RESP_PH_CHUNK_SIZE:
		case RESP_PH_CHUNK_END:
		case RESP_PH_TRAILER:
			n = find_line(c->buf, c->len);
			if (n == 0) {
				if (c->len > LINE_MAX_LEN) {
					*msg = "chunk framing line too long";
					return -1;
				}
				return 0;
			}
			if (r->phase == RESP_PH_CHUNK_SIZE) {
				if (parse_chunk_size(c->buf, n,
						     &r->left) != 0) {
					*msg = "bad chunk size";
					return -1;
				}
				r->phase = r->left > 0 ? RESP_PH_CHUNK_DATA :
							 RESP_PH_TRAILER;
			} else {
				int empty = n == 1 ||
					    (n == 2 && c->buf[0] == '\r');

				if (r->phase == RESP_PH_CHUNK_END && !empty) {
					*msg = "no CRLF after chunk data";
					return -1;
				}
				if (r->phase == RESP_PH_CHUNK_END)
					r->phase = RESP_PH_CHUNK_SIZE;
				else if (empty)
					r->phase = RESP_PH_DONE;
			}
			consume(c, n);
			break;
		case RESP_PH_CHUNK_DATA:
			if (!consume_left(c))
				return 0;
			r->phase = RESP_PH_CHUNK_END;
			break;
		case RESP_PH_BODY_EOF:
			consume(c, c->len);
			return 0;
		case RESP_PH_DONE:
			if (c->len > 0) {
				*msg = "bytes after the end of the response";
				return -1;
			}
			return 1;
		case RESP_PH_COUNT:
			*msg = "internal: bad parser phase";
			return -1;
		}
	}
}

static void response_complete(struct client *c)
{
	int status = c->resp.status;

	if (status >= 200 && status <= 299)
		request_finish(c, FAIL_NONE, NULL);
	else if (status >= 500)
		request_failf(c, FAIL_HTTP5XX, "status %d", status);
	else
		request_failf(c, FAIL_HTTP_STATUS, "status %d", status);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct client *c = handle->data;

	(void)suggested;
	buf->base = c->buf + c->len;
	buf->len = sizeof(c->buf) - c->len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = stream->data;
	const char *msg = NULL;
	int rc;

	(void)buf;
	if (nread == 0)
		return;
	if (c->req != REQ_ST_ACTIVE || c->conn != CONN_ST_OPEN) {
		/* Idle connection: the server closed it, or sent bytes
		 * nobody asked for. The next request connects anew. */
		conn_close(c);
		return;
	}
	if (nread < 0) {
		if (nread == UV_EOF && c->resp.phase == RESP_PH_BODY_EOF) {
			c->resp.phase = RESP_PH_DONE;
			response_complete(c);
		} else if (nread == UV_EOF && !c->got_bytes) {
			attempt_error(c, "connection closed before the "
				      "response");
		} else if (nread == UV_EOF) {
			attempt_error(c, "connection closed in the response "
				      "%s", resp_phase_names[c->resp.phase]);
		} else {
			attempt_error(c, "read: %s", uv_strerror((int)nread));
		}
		return;
	}
	c->got_bytes = 1;
	c->len += (size_t)nread;
	rc = resp_feed(c, &msg);
	if (rc < 0) {
		conn_close(c);
		request_failf(c, FAIL_MALFORMED, "%s", msg);
	} else if (rc > 0) {
		response_complete(c);
	}
}

/* ---------------------------------------------------------------------- */
/* Run control */

static void close_own(uv_handle_t *handle)
{
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

/* Once every client is closed, the tool's own handles close and
 * uv_run() returns (after a pending --until-file stat, if any). */
static void lg_maybe_done(struct loadgen *lg)
{
	if (lg->state == LG_ST_RUNNING || lg->state == LG_ST_CLOSING ||
	    lg->clients_done < lg->cfg.clients)
		return;
	lg->state = LG_ST_CLOSING;
	lg->t_end = uv_hrtime();
	close_own((uv_handle_t *)&lg->sig_term);
	close_own((uv_handle_t *)&lg->sig_int);
	close_own((uv_handle_t *)&lg->duration_timer);
	close_own((uv_handle_t *)&lg->stats_timer);
	close_own((uv_handle_t *)&lg->poll_timer);
}

static void lg_stop(struct loadgen *lg, const char *reason)
{
	unsigned int i;

	if (lg->state != LG_ST_RUNNING)
		return;
	lg->state = LG_ST_STOPPING;
	lg->stop_reason = reason;
	uv_timer_stop(&lg->duration_timer);
	uv_timer_stop(&lg->poll_timer);
	fprintf(stderr, "loadgen: stopping (%s) at t=%.3fs, %u requests in "
		"flight\n", reason, seconds_since(lg, uv_hrtime()),
		lg->inflight);
	for (i = 0; i < lg->cfg.clients; i++) {
		struct client *c = &lg->clients[i];

		if (c->req == REQ_ST_PACING) {
			uv_timer_stop(&c->timer);
			client_shutdown(c);
		}
	}
	lg_maybe_done(lg);
}

/* Second signal: requests in flight are cut and counted as aborted. */
static void lg_abort(struct loadgen *lg)
{
	unsigned int i;

	lg->state = LG_ST_ABORTING;
	fprintf(stderr, "loadgen: aborting %u requests in flight\n",
		lg->inflight);
	for (i = 0; i < lg->cfg.clients; i++) {
		struct client *c = &lg->clients[i];

		if (c->req != REQ_ST_ACTIVE)
			continue;
		conn_close(c);
		request_failf(c, FAIL_ABORTED, "aborted by a second signal");
	}
	lg_maybe_done(lg);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct loadgen *lg = handle->data;

	if (lg->state == LG_ST_RUNNING)
		lg_stop(lg, signum == SIGTERM ? "SIGTERM" : "SIGINT");
	else if (lg->state == LG_ST_STOPPING)
		lg_abort(lg);
}

static void on_duration(uv_timer_t *timer)
{
	struct loadgen *lg = container_of(timer, struct loadgen,
					  duration_timer);

	lg_stop(lg, "duration");
}

static void on_stat(uv_fs_t *req)
{
	struct loadgen *lg = container_of(req, struct loadgen, stat_req);
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	lg->stat_pending = 0;
	if (result == 0)
		lg_stop(lg, "until-file");
}

static void on_poll(uv_timer_t *timer)
{
	struct loadgen *lg = container_of(timer, struct loadgen, poll_timer);
	int rc;

	if (lg->stat_pending || lg->state != LG_ST_RUNNING)
		return;
	rc = uv_fs_stat(&lg->loop, &lg->stat_req, lg->cfg.until_file, on_stat);
	if (rc == 0)
		lg->stat_pending = 1;
}

static void on_stats(uv_timer_t *timer)
{
	struct loadgen *lg = container_of(timer, struct loadgen, stats_timer);
	uint64_t now = uv_hrtime();
	double dt = (double)(now - lg->last_stats_t) / 1e9;
	char versions[REPORT_MAX];
	size_t off = 0;

	versions[0] = '\0';
	format_versions(&lg->st, versions, sizeof(versions), &off);
	fprintf(stderr, "progress t=%.1fs requests=%" PRIu64 " ok=%" PRIu64
		" failed=%" PRIu64 " retried=%" PRIu64 " rps=%.0f "
		"inflight=%u versions=%s\n", seconds_since(lg, now),
		lg->st.requests, lg->st.ok, lg->st.failed, lg->st.retried,
		dt > 0 ? (double)(lg->st.requests - lg->last_stats_requests) /
				 dt : 0.0, lg->inflight, versions);
	lg->last_stats_t = now;
	lg->last_stats_requests = lg->st.requests;
}

/* ---------------------------------------------------------------------- */
/* Options */

static void usage(FILE *f)
{
	fprintf(f, "usage: loadgen --url http://127.x.x.x[:PORT][/PATH] "
		"[--clients N] [--keepalive|--no-keepalive]\n"
		"               [--duration DUR] [--until-file F] [--rate R] "
		"[--timeout DUR]\n"
		"               [--report FILE] [--stats-every DUR]\n"
		"DUR: number with unit ms, s (default), m or h\n");
}

/* Parses "1.5s", "200ms", "2m", "1h" or "3" (seconds) into ms >= 1. */
static int parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	double v, mult;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000.0;
	else if (strcmp(end, "ms") == 0)
		mult = 1.0;
	else if (strcmp(end, "m") == 0)
		mult = 60000.0;
	else if (strcmp(end, "h") == 0)
		mult = 3600000.0;
	else
		return -1;
	v = v * mult + 0.5;
	if (v < 1.0 || v > (double)DURATION_MAX_MS)
		return -1;
	*ms = (uint64_t)v;
	return 0;
}

/* Splits http://HOST[:PORT][/PATH] into cfg; only 127.x.x.x literals.
 * Fills err and returns -1 on refusal. */
static int parse_url(const char *url, struct lg_config *cfg, char *err,
		     size_t errlen)
{
	const char *auth = url + 7, *auth_end, *colon, *p;
	unsigned char ip[4];
	size_t host_len;
	long long port = 80;

	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(err, errlen, "only plain http is supported");
		return -1;
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "the URL must start with http://");
		return -1;
	}
	auth_end = auth + strcspn(auth, "/?#");
	if ((size_t)(auth_end - auth) >= sizeof(cfg->authority)) {
		snprintf(err, errlen, "host part too long");
		return -1;
	}
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL ||
	    auth[0] == '[') {
		snprintf(err, errlen, "only a 127.x.x.x address is allowed as "
			 "host");
		return -1;
	}
	memcpy(cfg->authority, auth, (size_t)(auth_end - auth));
	cfg->authority[auth_end - auth] = '\0';
	colon = strchr(cfg->authority, ':');
	host_len = colon != NULL ? (size_t)(colon - cfg->authority) :
				   strlen(cfg->authority);
	if (colon != NULL) {
		port = parse_number(colon + 1);
		if (port < 1 || port > 65535) {
			snprintf(err, errlen, "bad port in URL");
			return -1;
		}
	}
	if (host_len == 0 || host_len >= sizeof(cfg->host)) {
		snprintf(err, errlen, "only a 127.x.x.x address is allowed as "
			 "host");
		return -1;
	}
	memcpy(cfg->host, cfg->authority, host_len);
	cfg->host[host_len] = '\0';
	if (uv_inet_pton(AF_INET, cfg->host, ip) != 0 || ip[0] != 127) {
		snprintf(err, errlen, "refusing host '%s': only 127.x.x.x "
			 "addresses are allowed", cfg->host);
		return -1;
	}
	cfg->port = (unsigned int)port;

	if (*auth_end == '#') {
		snprintf(err, errlen, "no fragment allowed in the URL");
		return -1;
	}
	if (strlen(auth_end) + 2 >= sizeof(cfg->path)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s%s",
		 *auth_end == '/' ? "" : "/", auth_end);
	for (p = cfg->path; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '#') {
			snprintf(err, errlen, "the path must be printable "
				 "ASCII without spaces or '#'");
			return -1;
		}
	}
	return 0;
}

/* Returns 0, or 2 after printing why the command line is refused. */
static int parse_args(int argc, char **argv, struct lg_config *cfg)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "clients", required_argument, NULL, 'c' },
		{ "keepalive", no_argument, NULL, 'k' },
		{ "no-keepalive", no_argument, NULL, 'K' },
		{ "duration", required_argument, NULL, 'd' },
		{ "until-file", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "report", required_argument, NULL, 'o' },
		{ "stats-every", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL;
	char err[256];
	long long n;
	char *end;
	int opt;

	cfg->clients = 8;
	cfg->keepalive = 1;
	cfg->timeout_ms = 10000;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			url = optarg;
			break;
		case 'c':
			n = parse_number(optarg);
			if (n < 1 || n > CLIENTS_MAX) {
				fprintf(stderr, "loadgen: --clients must be "
					"1-%d\n", CLIENTS_MAX);
				return 2;
			}
			cfg->clients = (unsigned int)n;
			break;
		case 'k':
			cfg->keepalive = 1;
			break;
		case 'K':
			cfg->keepalive = 0;
			break;
		case 'd':
			if (parse_duration(optarg, &cfg->duration_ms) != 0) {
				fprintf(stderr, "loadgen: bad --duration "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			if (optarg[0] == '\0') {
				fprintf(stderr,
					"loadgen: empty --until-file\n");
				return 2;
			}
			cfg->until_file = optarg;
			break;
		case 'r':
			errno = 0;
			cfg->rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    !isfinite(cfg->rate) || cfg->rate < 0 ||
			    cfg->rate > RATE_MAX) {
				fprintf(stderr, "loadgen: bad --rate '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_duration(optarg, &cfg->timeout_ms) != 0) {
				fprintf(stderr, "loadgen: bad --timeout "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			cfg->report = optarg;
			break;
		case 's':
			if (parse_duration(optarg, &cfg->stats_every_ms) != 0) {
				fprintf(stderr, "loadgen: bad --stats-every "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || url == NULL) {
		usage(stderr);
		return 2;
	}
	if (parse_url(url, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "loadgen: %s\n", err);
		return 2;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Main */

static void close_any(uv_handle_t *handle, void *arg)
{
	(void)arg;
	close_own(handle);
}

/* Writes line + "\n" to path via a temporary file and rename(). Runs after
 * the loop has ended, so blocking I/O is fine here. */
static int write_report(const char *path, const char *line)
{
	char tmp[4096];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%s\n", line);
	if (fclose(f) != 0) {
		n = -errno;
		unlink(tmp);
		return n;
	}
	if (rename(tmp, path) != 0) {
		n = -errno;
		unlink(tmp);
		return n;
	}
	return 0;
}

static void print_failures(const struct stats *st)
{
	unsigned int k, i;

	for (k = FAIL_NONE + 1; k < FAIL_COUNT; k++) {
		if (st->by_kind[k] == 0)
			continue;
		fprintf(stderr, "failures kind=%s count=%" PRIu64 "\n",
			fail_names[k], st->by_kind[k]);
		for (i = 0; i < st->ndetails[k]; i++)
			fprintf(stderr, "failure: %s\n", st->details[k][i]);
	}
}

/* Initialises every handle; returns 0 or a uv error. */
static int lg_init(struct loadgen *lg)
{
	unsigned int i;
	int rc, n;

	rc = uv_loop_init(&lg->loop);
	if (rc != 0)
		return rc;
	uv_signal_init(&lg->loop, &lg->sig_term);
	uv_signal_init(&lg->loop, &lg->sig_int);
	uv_timer_init(&lg->loop, &lg->duration_timer);
	uv_timer_init(&lg->loop, &lg->stats_timer);
	uv_timer_init(&lg->loop, &lg->poll_timer);
	lg->sig_term.data = lg;
	lg->sig_int.data = lg;
	for (i = 0; i < lg->cfg.clients; i++) {
		struct client *c = &lg->clients[i];

		c->lg = lg;
		c->id = i;
		uv_timer_init(&lg->loop, &c->timer);
		c->timer.data = c;
	}
	uv_ip4_addr(lg->cfg.host, (int)lg->cfg.port, &lg->addr);
	n = snprintf(lg->request, sizeof(lg->request),
		     "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", lg->cfg.path,
		     lg->cfg.authority,
		     lg->cfg.keepalive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof(lg->request))
		return UV_E2BIG;
	lg->request_len = (size_t)n;
	if (lg->cfg.rate > 0) {
		lg->slot_ns = (uint64_t)(1e9 / lg->cfg.rate);
		if (lg->slot_ns == 0)
			lg->slot_ns = 1;
	}
	rc = uv_signal_start(&lg->sig_term, on_signal, SIGTERM);
	if (rc == 0)
		rc = uv_signal_start(&lg->sig_int, on_signal, SIGINT);
	return rc;
}

int main(int argc, char **argv)
{
	struct loadgen *lg;
	char line[REPORT_MAX];
	unsigned int i;
	double secs;
	int rc, status;

	lg = calloc(1, sizeof(*lg));
	if (lg == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &lg->cfg);
	if (rc != 0) {
		free(lg);
		return rc;
	}
	lg->clients = calloc(lg->cfg.clients, sizeof(*lg->clients));
	if (lg->clients == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		free(lg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	rc = lg_init(lg);
	if (rc != 0) {
		fprintf(stderr, "loadgen: start-up: %s\n", uv_strerror(rc));
		uv_walk(&lg->loop, close_any, NULL);
		uv_run(&lg->loop, UV_RUN_DEFAULT);
		uv_loop_close(&lg->loop);
		free(lg->clients);
		free(lg);
		return 1;
	}
	fprintf(stderr, "loadgen: %u %s clients -> http://%s%s, rate %g/s "
		"(0 = unlimited), timeout %" PRIu64 " ms\n", lg->cfg.clients,
		lg->cfg.keepalive ? "keep-alive" : "no-keep-alive",
		lg->cfg.authority, lg->cfg.path, lg->cfg.rate,
		lg->cfg.timeout_ms);

	lg->t0 = uv_hrtime();
	lg->next_slot = lg->t0;
	lg->last_stats_t = lg->t0;
	if (lg->cfg.duration_ms > 0)
		uv_timer_start(&lg->duration_timer, on_duration,
			       lg->cfg.duration_ms, 0);
	if (lg->cfg.until_file != NULL)
		uv_timer_start(&lg->poll_timer, on_poll, 0, POLL_MS);
	if (lg->cfg.stats_every_ms > 0)
		uv_timer_start(&lg->stats_timer, on_stats,
			       lg->cfg.stats_every_ms, lg->cfg.stats_every_ms);
	for (i = 0; i < lg->cfg.clients; i++)
		client_next(&lg->clients[i], 0);

	uv_run(&lg->loop, UV_RUN_DEFAULT);

	rc = uv_loop_close(&lg->loop);
	if (rc != 0)
		fprintf(stderr, "loadgen: uv_loop_close: %s\n",
			uv_strerror(rc));
	status = rc != 0 ? 1 : 0;

	format_report(&lg->st, line, sizeof(line));
	printf("%s\n", line);
	fflush(stdout);
	secs = seconds_since(lg, lg->t_end);
	fprintf(stderr, "loadgen: stopped by %s after %.3fs: %" PRIu64
		" requests, %.0f requests/s\n",
		lg->stop_reason != NULL ? lg->stop_reason : "?", secs,
		lg->st.requests, secs > 0 ? (double)lg->st.requests / secs :
		0.0);
	print_failures(&lg->st);
	if (lg->cfg.report != NULL) {
		rc = write_report(lg->cfg.report, line);
		if (rc != 0) {
			fprintf(stderr, "loadgen: --report %s: %s\n",
				lg->cfg.report, strerror(-rc));
			status = 1;
		}
	}
	if (lg->st.failed > 0)
		status = 1;
	free(lg->clients);
	free(lg);
	return status;
}
