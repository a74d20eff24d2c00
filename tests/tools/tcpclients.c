/* tcpclients.c - long-lived TCP clients for the end-to-end tests: N
 * connections on one libuv loop to a loopback port (an HAProxy TCP
 * frontend in front of `backend --tcp`), to see what shedding sessions
 * does to clients: who was cut, how fast they came back, and where to.
 *
 *   tcpclients --port P --clients N [--host 127.x.x.x]
 *              [--reconnect-delay DUR] [--jitter DUR] [--until-file F]
 *              [--duration DUR] [--report FILE] [--events FILE]
 *              [--seed N]
 *
 *   --clients N          connections to hold, 1..20000
 *   --reconnect-delay D  wait D after the peer closed a connection before
 *                        connecting again (default 0)
 *   --jitter D           add a uniform random 0..D to each such wait
 *                        (default 0; --seed N makes it repeatable)
 *   --until-file F       stop once F exists (polled every 50 ms with an
 *                        asynchronous uv_fs_stat)
 *   --duration D         stop after D; the first of the two stops the run
 *   --report FILE        also write the result line to FILE (written to
 *                        FILE.tmp.PID, then renamed, so FILE appears whole)
 *   --events FILE        write one line per event: "t_ms kind client
 *                        version": the version of the connection that
 *                        came up or went down, "-" for a fail
 * DUR: a number with units ms, s, m, h, d ("1m30s"); a bare number is
 * seconds. Only 127.x.x.x hosts are accepted (default 127.0.0.1).
 *
 * Each client connects, sends "hello <id>\n" and reads the one-line reply,
 * which the test backend sends as "<version> hello <id>". Only then is the
 * client connected (HAProxy accepts a TCP connection even when no server
 * can take it), and the version is recorded. The connection is then held,
 * reading, until the peer closes or resets it.
 *
 * Events (t_ms = CLOCK_MONOTONIC milliseconds since start, uv_hrtime):
 *   connect     the first successful connection of a client
 *   disconnect  the peer closed (or reset) a connected connection
 *   reconnect   a client that had been connected is connected again
 *   fail        an attempt failed before the reply (refused, closed or
 *               reset early, bad reply); it is retried after
 *               max(--reconnect-delay, 100 ms) + jitter
 * A disconnected client that fails a few attempts and then gets through
 * counts one disconnect and one reconnect.
 *
 * Stopping: --until-file, --duration, SIGTERM or SIGINT. The state at that
 * moment is reported, then every handle is closed and the loop must close
 * cleanly. To stdout, and to --report, goes the one line
 *   clients=N connected=N disconnects=D reconnects=R lost=L
 *   peak_reconnects_100ms=K versions=v1:3,v2:497
 * connected: clients connected at the stop; lost = clients - connected;
 * versions: of the connected clients, sorted by name. peak_reconnects_100ms
 * is the largest number of reconnect events in any sliding 100 ms window
 * (t_last - t_first < 100 over the millisecond timestamps), not in fixed
 * buckets. A summary goes to stderr: the stop reason and time, the
 * connect and fail counts, and the first..last disconnect and reconnect
 * times (-1..-1 when none).
 *
 * RLIMIT_NOFILE is raised (soft to hard) at start; if N connections cannot
 * fit the tool refuses to run. Exit status: 0, 1 on a runtime error, 2 on
 * a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "strutil.h"

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define CLIENTS_MAX 20000
#define POLL_MS 50			/* --until-file poll interval */
#define FAIL_DELAY_MIN_MS 100		/* retry after a failed attempt */
#define REPLY_MAX 128			/* "<version> hello <id>\n" */
#define VERSION_MAX 32
#define FD_SPARE 64			/* fds besides the clients' */
#define EVENTS_MAX (4u << 20)		/* kept in memory; more are counted */
#define PEAK_WINDOW_MS 100
#define REPORT_MAX 4096

/* One client's connection, from the first connect to the stop. */
enum cl_state {
	CL_ST_WAIT = 0,		/* no connection; timer runs for the next try */
	CL_ST_CONNECTING,	/* uv_tcp_connect pending */
	CL_ST_HELLO,		/* connected, hello sent, waiting for the reply */
	CL_ST_UP,		/* reply seen: connected to a version */
	CL_ST_CLOSING,		/* uv_close on the tcp handle pending */
	CL_ST_STOPPED,		/* run over; nothing more happens */
};

enum ev_kind {
	EV_CONNECT = 0,
	EV_DISCONNECT,
	EV_RECONNECT,
	EV_FAIL,
	EV_KIND_COUNT		/* keep last */
};

static const char *const ev_names[EV_KIND_COUNT] = {
	[EV_CONNECT] = "connect",
	[EV_DISCONNECT] = "disconnect",
	[EV_RECONNECT] = "reconnect",
	[EV_FAIL] = "fail",
};

struct event {
	uint64_t t_ms;
	uint32_t client;
	uint8_t kind;		/* enum ev_kind */
	char version[VERSION_MAX];
};

struct tc_config {
	const char *host;
	unsigned port;
	unsigned clients;
	uint64_t reconnect_delay_ms;
	uint64_t jitter_ms;
	uint64_t duration_ms;		/* 0: none */
	const char *until_file;		/* borrowed from argv or NULL */
	const char *report;
	const char *events;
	uint64_t seed;
	bool seeded;
};

struct tc;

struct client {
	struct tc *tc;
	unsigned id;
	enum cl_state state;
	bool ever_up;		/* connected once: the next up is a reconnect */
	bool tcp_open;		/* tcp initialised and not yet closed */
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect_req;
	uv_write_t write_req;
	char hello[32];
	size_t hello_len;
	char reply[REPLY_MAX];
	size_t reply_len;
	char version[VERSION_MAX];	/* of the current or last connection */
	uint64_t next_delay_ms;	/* wait before the next try, once closed */
	bool up_at_stop;	/* snapshot taken when the run stopped */
};

enum tc_state {
	TC_ST_RUNNING = 0,
	TC_ST_STOPPING,		/* handles closing; uv_run about to return */
};

struct tc {
	struct tc_config cfg;
	uv_loop_t loop;
	uv_signal_t sig_term, sig_int;
	uv_timer_t duration_timer, poll_timer;
	uv_fs_t stat_req;
	bool stat_pending;
	enum tc_state state;
	const char *stop_reason;
	struct sockaddr_in addr;
	uint64_t t0;		/* uv_hrtime() at start, ns */
	uint64_t t_stop_ms;
	uint64_t rng;
	struct client *clients;
	/* counters */
	uint64_t n_ev[EV_KIND_COUNT];
	int64_t first_ms[EV_KIND_COUNT], last_ms[EV_KIND_COUNT];	/* -1 */
	uint64_t events_dropped;
	struct event *events;
	size_t nevents, events_cap;
	uint64_t *reconnect_ms;	/* timestamps of EV_RECONNECT */
	size_t nreconnect, reconnect_cap;
	bool oom;
	/* snapshot at the stop */
	unsigned connected_at_stop;
	char read_buf[64 * 1024];	/* shared: read callbacks copy out */
};

/* ---------------------------------------------------------------------- */
/* Time, randomness, events */

static uint64_t now_ms(const struct tc *tc)
{
	return (uv_hrtime() - tc->t0) / 1000000u;
}

/* xorshift64*: jitter only, nothing that must be unpredictable. */
static uint64_t rnd(struct tc *tc)
{
	tc->rng ^= tc->rng >> 12;
	tc->rng ^= tc->rng << 25;
	tc->rng ^= tc->rng >> 27;
	return tc->rng * 2685821657736338717ULL;
}

static bool push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		size_t ncap = *cap != 0 ? *cap * 2 : 1024;
		uint64_t *p = realloc(*arr, ncap * sizeof(**arr));

		if (p == NULL)
			return false;
		*arr = p;
		*cap = ncap;
	}
	(*arr)[(*n)++] = v;
	return true;
}

static void record(struct tc *tc, const struct client *c, enum ev_kind kind)
{
	uint64_t t = now_ms(tc);
	struct event *e;

	tc->n_ev[kind]++;
	if (tc->first_ms[kind] < 0)
		tc->first_ms[kind] = (int64_t)t;
	tc->last_ms[kind] = (int64_t)t;
	if (kind == EV_RECONNECT &&
	    !push_u64(&tc->reconnect_ms, &tc->nreconnect, &tc->reconnect_cap,
		      t))
		tc->oom = true;
	if (tc->cfg.events == NULL)
		return;
	if (tc->nevents == EVENTS_MAX) {
		tc->events_dropped++;
		return;
	}
	if (tc->nevents == tc->events_cap) {
		size_t ncap = tc->events_cap != 0 ? tc->events_cap * 2 : 1024;

		e = realloc(tc->events, ncap * sizeof(*e));
		if (e == NULL) {
			tc->oom = true;
			tc->events_dropped++;
			return;
		}
		tc->events = e;
		tc->events_cap = ncap;
	}
	e = &tc->events[tc->nevents++];
	e->t_ms = t;
	e->client = c->id;
	e->kind = (uint8_t)kind;
	snprintf(e->version, sizeof(e->version), "%s",
		 kind != EV_FAIL && c->version[0] != '\0' ? c->version : "-");
}

/* ---------------------------------------------------------------------- */
/* Client lifecycle: WAIT -> CONNECTING -> HELLO -> UP, and from any of the
 * last three through conn_end() to CLOSING and back to WAIT. */

static void client_connect(struct client *c);

static void on_timer(uv_timer_t *timer)
{
	client_connect(container_of(timer, struct client, timer));
}

/* Wait delay_ms (+ jitter), then connect. */
static void schedule(struct client *c, uint64_t delay_ms)
{
	struct tc *tc = c->tc;

	if (tc->cfg.jitter_ms > 0)
		delay_ms += rnd(tc) % (tc->cfg.jitter_ms + 1);
	c->state = CL_ST_WAIT;
	uv_timer_start(&c->timer, on_timer, delay_ms, 0);
}

static void on_tcp_closed(uv_handle_t *handle)
{
	struct client *c = container_of(handle, struct client, tcp);

	c->tcp_open = false;
	if (c->tc->state != TC_ST_RUNNING) {
		c->state = CL_ST_STOPPED;
		return;
	}
	schedule(c, c->next_delay_ms);
}

/* The one exit of a connection: record why, close, and (from the close
 * callback) schedule the next try. Ignored once the connection is already
 * closing, e.g. for the cancelled callbacks uv_close() brings. */
static void conn_end(struct client *c, enum ev_kind kind)
{
	struct tc *tc = c->tc;
	uint64_t delay = tc->cfg.reconnect_delay_ms;

	if (c->state != CL_ST_CONNECTING && c->state != CL_ST_HELLO &&
	    c->state != CL_ST_UP)
		return;
	record(tc, c, kind);
	if (kind == EV_FAIL && delay < FAIL_DELAY_MIN_MS)
		delay = FAIL_DELAY_MIN_MS;
	c->next_delay_ms = delay;
	c->state = CL_ST_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* The connection ends by the peer: a disconnect if it was up, else a
 * failed attempt. */
static void conn_lost(struct client *c)
{
	conn_end(c, c->state == CL_ST_UP ? EV_DISCONNECT : EV_FAIL);
}

/* "<version> hello <id>", without the newline: true and the version set,
 * or false for anything else. */
static bool parse_reply(struct client *c, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	size_t vn = sp != NULL ? (size_t)(sp - line) : 0, i;

	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (vn == 0 || vn >= sizeof(c->version) ||
	    n - vn - 1 != c->hello_len - 1 ||
	    memcmp(sp + 1, c->hello, c->hello_len - 1) != 0)
		return false;
	for (i = 0; i < vn; i++)
		if (line[i] < 0x21 || line[i] > 0x7e)
			return false;
	memcpy(c->version, line, vn);
	c->version[vn] = '\0';
	return true;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct client *c = container_of(handle, struct client, tcp);

	(void)suggested;
	buf->base = c->tc->read_buf;
	buf->len = sizeof(c->tc->read_buf);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = container_of(stream, struct client, tcp);
	size_t room, take;
	const char *nl;

	if (nread < 0) {
		conn_lost(c);	/* UV_EOF, ECONNRESET, ... */
		return;
	}
	if (nread == 0 || c->state != CL_ST_HELLO)
		return;		/* once up, more data is ignored */
	room = sizeof(c->reply) - c->reply_len;
	take = (size_t)nread < room ? (size_t)nread : room;
	memcpy(c->reply + c->reply_len, buf->base, take);
	c->reply_len += take;
	nl = memchr(c->reply, '\n', c->reply_len);
	if (nl == NULL) {
		if (c->reply_len == sizeof(c->reply))
			conn_end(c, EV_FAIL);	/* no line within the cap */
		return;
	}
	if (!parse_reply(c, c->reply, (size_t)(nl - c->reply))) {
		conn_end(c, EV_FAIL);
		return;
	}
	c->state = CL_ST_UP;
	record(c->tc, c, c->ever_up ? EV_RECONNECT : EV_CONNECT);
	c->ever_up = true;
}

static void on_write(uv_write_t *req, int status)
{
	struct client *c = container_of(req, struct client, write_req);

	if (status != 0)
		conn_lost(c);	/* ignored if already closing */
}

static void on_connect(uv_connect_t *req, int status)
{
	struct client *c = container_of(req, struct client, connect_req);
	uv_buf_t b;

	if (status == UV_ECANCELED || c->state != CL_ST_CONNECTING)
		return;		/* closed meanwhile (stop) */
	if (status != 0) {
		conn_end(c, EV_FAIL);
		return;
	}
	c->state = CL_ST_HELLO;
	c->reply_len = 0;
	uv_tcp_nodelay(&c->tcp, 1);
	b = uv_buf_init(c->hello, (unsigned int)c->hello_len);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0 ||
	    uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1,
		     on_write) != 0)
		conn_end(c, EV_FAIL);
}

static void client_connect(struct client *c)
{
	struct tc *tc = c->tc;
	int rc;

	if (tc->state != TC_ST_RUNNING || c->state != CL_ST_WAIT)
		return;
	rc = uv_tcp_init(&tc->loop, &c->tcp);
	if (rc != 0) {
		record(tc, c, EV_FAIL);
		schedule(c, FAIL_DELAY_MIN_MS);
		return;
	}
	c->tcp_open = true;
	c->state = CL_ST_CONNECTING;
	rc = uv_tcp_connect(&c->connect_req, &c->tcp,
			    (const struct sockaddr *)&tc->addr, on_connect);
	if (rc != 0)
		conn_end(c, EV_FAIL);	/* e.g. EMFILE: close, retry later */
}

/* ---------------------------------------------------------------------- */
/* Run control */

static void close_own(uv_handle_t *handle)
{
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

/* Snapshot who is connected, then close every handle so that uv_run()
 * returns (after a pending --until-file stat, if any). */
static void tc_stop(struct tc *tc, const char *reason)
{
	unsigned i;

	if (tc->state != TC_ST_RUNNING)
		return;
	tc->state = TC_ST_STOPPING;
	tc->stop_reason = reason;
	tc->t_stop_ms = now_ms(tc);
	for (i = 0; i < tc->cfg.clients; i++) {
		struct client *c = &tc->clients[i];

		c->up_at_stop = c->state == CL_ST_UP;
		tc->connected_at_stop += c->up_at_stop;
		close_own((uv_handle_t *)&c->timer);
		if (c->tcp_open) {
			/* CLOSING makes the cancelled connect and write
			 * callbacks no-ops; on_tcp_closed -> STOPPED. */
			c->state = CL_ST_CLOSING;
			close_own((uv_handle_t *)&c->tcp);
		} else {
			c->state = CL_ST_STOPPED;
		}
	}
	close_own((uv_handle_t *)&tc->sig_term);
	close_own((uv_handle_t *)&tc->sig_int);
	close_own((uv_handle_t *)&tc->duration_timer);
	close_own((uv_handle_t *)&tc->poll_timer);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	tc_stop(handle->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_duration(uv_timer_t *timer)
{
	tc_stop(container_of(timer, struct tc, duration_timer), "duration");
}

static void on_stat(uv_fs_t *req)
{
	struct tc *tc = container_of(req, struct tc, stat_req);
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	tc->stat_pending = false;
	if (result == 0)
		tc_stop(tc, "until-file");
}

static void on_poll(uv_timer_t *timer)
{
	struct tc *tc = container_of(timer, struct tc, poll_timer);

	if (tc->stat_pending || tc->state != TC_ST_RUNNING)
		return;
	if (uv_fs_stat(&tc->loop, &tc->stat_req, tc->cfg.until_file,
		       on_stat) == 0)
		tc->stat_pending = true;
}

/* ---------------------------------------------------------------------- */
/* Report */

/* Most reconnects within any PEAK_WINDOW_MS sliding window; t is sorted
 * (events are recorded in time order). */
static size_t peak_window(const uint64_t *t, size_t n)
{
	size_t i = 0, j, best = 0;

	for (j = 0; j < n; j++) {
		while (t[j] - t[i] >= PEAK_WINDOW_MS)
			i++;
		if (j - i + 1 > best)
			best = j - i + 1;
	}
	return best;
}

struct vcount {
	const char *version;
	unsigned n;
};

static int vcount_cmp(const void *a, const void *b)
{
	const struct vcount *x = a, *y = b;

	return strcmp(x->version, y->version);
}

/* "v1:3,v2:497" over the clients connected at the stop, "-" if none. */
static int format_versions(const struct tc *tc, char *out, size_t size)
{
	struct vcount *vc;
	size_t nv = 0, k, off = 0;
	unsigned i;

	vc = calloc(tc->cfg.clients, sizeof(*vc));
	if (vc == NULL)
		return UV_ENOMEM;
	for (i = 0; i < tc->cfg.clients; i++) {
		const struct client *c = &tc->clients[i];

		if (!c->up_at_stop)
			continue;
		for (k = 0; k < nv; k++)
			if (strcmp(vc[k].version, c->version) == 0)
				break;
		if (k == nv)
			vc[nv++].version = c->version;
		vc[k].n++;
	}
	qsort(vc, nv, sizeof(*vc), vcount_cmp);
	out[0] = '\0';
	for (k = 0; k < nv && off < size; k++)
		off += (size_t)snprintf(out + off, size - off, "%s%s:%u",
					k > 0 ? "," : "", vc[k].version,
					vc[k].n);
	if (nv == 0)
		snprintf(out, size, "-");
	free(vc);
	return off < size ? 0 : UV_E2BIG;
}

/* Writes text to path via a temporary file and rename(). Runs after the
 * loop has ended, so blocking I/O is fine here. */
static int write_file(const char *path, const struct tc *tc,
		      const char *line)
{
	char tmp[4096];
	FILE *f;
	size_t i;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	if (line != NULL)
		fprintf(f, "%s\n", line);
	for (i = 0; line == NULL && i < tc->nevents; i++)
		fprintf(f, "%" PRIu64 " %s %" PRIu32 " %s\n",
			tc->events[i].t_ms, ev_names[tc->events[i].kind],
			tc->events[i].client, tc->events[i].version);
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

/* ---------------------------------------------------------------------- */
/* Options and main */

static void usage(FILE *f)
{
	fprintf(f, "usage: tcpclients --port P --clients N [--host 127.x.x.x]"
		"\n                  [--reconnect-delay DUR] [--jitter DUR] "
		"[--until-file F]\n                  [--duration DUR] "
		"[--report FILE] [--events FILE] [--seed N]\n"
		"DUR: number with units ms, s, m, h, d; bare number = "
		"seconds\n");
}

static int parse_args(int argc, char **argv, struct tc_config *cfg)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "clients", required_argument, NULL, 'n' },
		{ "reconnect-delay", required_argument, NULL, 'r' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "until-file", required_argument, NULL, 'u' },
		{ "duration", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'R' },
		{ "events", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char ip[4];
	long v;
	int opt;

	cfg->host = "127.0.0.1";
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'p':
			bad = str_parse_long(optarg, 1, 65535, &v) != 0;
			cfg->port = (unsigned)v;
			break;
		case 'H':
			cfg->host = optarg;
			break;
		case 'n':
			bad = str_parse_long(optarg, 1, CLIENTS_MAX, &v) != 0;
			cfg->clients = (unsigned)v;
			break;
		case 'r':
			bad = str_parse_duration_ms(optarg,
						    &cfg->reconnect_delay_ms) != 0;
			break;
		case 'j':
			bad = str_parse_duration_ms(optarg, &cfg->jitter_ms) != 0;
			break;
		case 'u':
			cfg->until_file = optarg;
			bad = optarg[0] == '\0';
			break;
		case 'd':
			bad = str_parse_duration_ms(optarg, &cfg->duration_ms) != 0
			      || cfg->duration_ms == 0;
			break;
		case 'R':
			cfg->report = optarg;
			break;
		case 'e':
			cfg->events = optarg;
			break;
		case 's':
			bad = str_parse_long(optarg, 0, LONG_MAX, &v) != 0;
			cfg->seed = (uint64_t)v;
			cfg->seeded = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "tcpclients: bad value '%s'\n", optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || cfg->port == 0 || cfg->clients == 0) {
		usage(stderr);
		return 2;
	}
	if (uv_inet_pton(AF_INET, cfg->host, ip) != 0 || ip[0] != 127) {
		fprintf(stderr, "tcpclients: refusing host '%s': only "
			"127.x.x.x addresses are allowed\n", cfg->host);
		return 2;
	}
	return 0;
}

/* Soft RLIMIT_NOFILE up to the hard one; 0 if the clients fit. */
static int raise_nofile(unsigned clients)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return -errno;
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)clients + FD_SPARE > rl.rlim_cur) {
		fprintf(stderr, "tcpclients: %u clients need %u fds, "
			"RLIMIT_NOFILE allows %llu\n", clients,
			clients + FD_SPARE, (unsigned long long)rl.rlim_cur);
		return UV_EMFILE;
	}
	return 0;
}

static int tc_init(struct tc *tc)
{
	unsigned i;
	int rc, n;

	rc = uv_loop_init(&tc->loop);
	if (rc != 0)
		return rc;
	uv_signal_init(&tc->loop, &tc->sig_term);
	uv_signal_init(&tc->loop, &tc->sig_int);
	uv_timer_init(&tc->loop, &tc->duration_timer);
	uv_timer_init(&tc->loop, &tc->poll_timer);
	tc->sig_term.data = tc;
	tc->sig_int.data = tc;
	for (i = 0; i < tc->cfg.clients; i++) {
		struct client *c = &tc->clients[i];

		c->tc = tc;
		c->id = i;
		uv_timer_init(&tc->loop, &c->timer);
		n = snprintf(c->hello, sizeof(c->hello), "hello %u\n", i);
		c->hello_len = (size_t)n;
	}
	rc = uv_ip4_addr(tc->cfg.host, (int)tc->cfg.port, &tc->addr);
	if (rc == 0)
		rc = uv_signal_start(&tc->sig_term, on_signal, SIGTERM);
	if (rc == 0)
		rc = uv_signal_start(&tc->sig_int, on_signal, SIGINT);
	return rc;
}

static void close_any(uv_handle_t *handle, void *arg)
{
	(void)arg;
	close_own(handle);
}

static void tc_free(struct tc *tc)
{
	free(tc->events);
	free(tc->reconnect_ms);
	free(tc->clients);
	free(tc);
}

int main(int argc, char **argv)
{
	char versions[REPORT_MAX - 256], line[REPORT_MAX];
	struct tc *tc;
	int rc, status = 0;
	unsigned i;

	tc = calloc(1, sizeof(*tc));
	if (tc == NULL) {
		fprintf(stderr, "tcpclients: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &tc->cfg);
	if (rc != 0) {
		free(tc);
		return rc < 0 ? 0 : rc;
	}
	rc = raise_nofile(tc->cfg.clients);
	if (rc != 0) {
		if (rc != UV_EMFILE)
			fprintf(stderr, "tcpclients: RLIMIT_NOFILE: %s\n",
				uv_strerror(rc));
		free(tc);
		return 1;
	}
	tc->clients = calloc(tc->cfg.clients, sizeof(*tc->clients));
	if (tc->clients == NULL) {
		fprintf(stderr, "tcpclients: out of memory\n");
		free(tc);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	tc->rng = tc->cfg.seeded ? tc->cfg.seed : uv_hrtime() ^
		  ((uint64_t)getpid() << 32);
	if (tc->rng == 0)
		tc->rng = 0x9e3779b97f4a7c15ULL;

	rc = tc_init(tc);
	if (rc != 0) {
		fprintf(stderr, "tcpclients: start-up: %s\n", uv_strerror(rc));
		uv_walk(&tc->loop, close_any, NULL);
		uv_run(&tc->loop, UV_RUN_DEFAULT);
		uv_loop_close(&tc->loop);
		tc_free(tc);
		return 1;
	}
	for (i = 0; i < EV_KIND_COUNT; i++) {
		tc->first_ms[i] = -1;
		tc->last_ms[i] = -1;
	}
	tc->t0 = uv_hrtime();
	if (tc->cfg.duration_ms > 0)
		uv_timer_start(&tc->duration_timer, on_duration,
			       tc->cfg.duration_ms, 0);
	if (tc->cfg.until_file != NULL)
		uv_timer_start(&tc->poll_timer, on_poll, 0, POLL_MS);
	for (i = 0; i < tc->cfg.clients; i++)
		client_connect(&tc->clients[i]);	/* state WAIT (zeroed) */

	uv_run(&tc->loop, UV_RUN_DEFAULT);

	rc = uv_loop_close(&tc->loop);
	if (rc != 0) {
		fprintf(stderr, "tcpclients: uv_loop_close: %s\n",
			uv_strerror(rc));
		status = 1;
	}
	if (format_versions(tc, versions, sizeof(versions)) != 0) {
		fprintf(stderr, "tcpclients: versions do not fit the report\n");
		status = 1;
	}
	snprintf(line, sizeof(line), "clients=%u connected=%u disconnects=%"
		 PRIu64 " reconnects=%" PRIu64 " lost=%u "
		 "peak_reconnects_100ms=%zu versions=%s", tc->cfg.clients,
		 tc->connected_at_stop, tc->n_ev[EV_DISCONNECT],
		 tc->n_ev[EV_RECONNECT],
		 tc->cfg.clients - tc->connected_at_stop,
		 peak_window(tc->reconnect_ms, tc->nreconnect), versions);
	printf("%s\n", line);
	fflush(stdout);
	fprintf(stderr, "tcpclients: stopped by %s at t=%" PRIu64 "ms: "
		"connects=%" PRIu64 " fails=%" PRIu64 " disconnect_ms=%" PRId64
		"..%" PRId64 " reconnect_ms=%" PRId64 "..%" PRId64
		" events_dropped=%" PRIu64 "\n",
		tc->stop_reason != NULL ? tc->stop_reason : "?",
		tc->t_stop_ms, tc->n_ev[EV_CONNECT], tc->n_ev[EV_FAIL],
		tc->first_ms[EV_DISCONNECT], tc->last_ms[EV_DISCONNECT],
		tc->first_ms[EV_RECONNECT], tc->last_ms[EV_RECONNECT],
		tc->events_dropped);
	if (tc->oom) {
		fprintf(stderr, "tcpclients: out of memory while recording\n");
		status = 1;
	}
	if (tc->cfg.report != NULL) {
		rc = write_file(tc->cfg.report, tc, line);
		if (rc != 0) {
			fprintf(stderr, "tcpclients: --report %s: %s\n",
				tc->cfg.report, strerror(-rc));
			status = 1;
		}
	}
	if (tc->cfg.events != NULL) {
		rc = write_file(tc->cfg.events, tc, NULL);
		if (rc != 0) {
			fprintf(stderr, "tcpclients: --events %s: %s\n",
				tc->cfg.events, strerror(-rc));
			status = 1;
		}
	}
	tc_free(tc);
	return status;
}
