/* fakelb.c - a fake HAProxy runtime API (stats socket) that misbehaves on
 * purpose, for the fault-injection end-to-end tests.
 *
 *   fakelb --unix PATH [--tcp PORT] [--backend NAME]
 *          [--server NAME[:ready|drain|maint[:WEIGHT]]]...
 *          [--fault MODE] [--on PREFIX] [--after N] [--delay MS]
 *          [--size BYTES] [--seed N] [--pidfile F]
 *
 * It speaks enough of HAProxy 2.6's CLI for cutover: `prompt`, `set
 * severity-output number|string|none`, `show cli level` (admin), `show
 * info`, `show stat [-1|BE] [4] [-1|SID]`, `show servers state [BE]`, `set
 * server B/S state ready|drain|maint`, `set server B/S health up|down`,
 * `set weight B/S N[%]`, `get weight B/S`, `show sess`, `shutdown sessions
 * server B/S` and `quit`, answering from a model of one backend (default
 * `app` with servers s1 and s2, weight 1, ready and UP). The replies are
 * built from captures of a real HAProxy 2.6.12 (tests/unit/data/stat and
 * stat_sess): the same header lines, columns, error texts and framing
 * (output, then "\n", then "> " in prompt mode; without prompt mode the
 * connection closes after one reply, as HAProxy's does).
 *
 * A fault applies to commands starting with --on PREFIX (by default every
 * command; for `error` the commands that change a server: set server, set
 * weight, shutdown; for `wrong-pid` show info) once N of them (--after N,
 * default 0) got a good reply on the same connection, so `--after 4` lets
 * cutover's four handshake commands through. A command that gets a fault
 * does not change the model (`prompt` and `set severity-output` still
 * switch the connection's mode). Modes:
 *
 *   garbled     random bytes; for show stat / show servers state the real
 *               header, then rows cut short with random bytes after them;
 *               framed as usual, so the client has to parse it
 *   truncated   the first half of the reply (cut inside a line), then close
 *   slow        every byte of every later reply one --delay (default
 *               500 ms) after the previous one
 *   oversized   an endless reply (rows of CSV, no empty line) until the
 *               client goes away; with --size, a reply of that many bytes,
 *               properly framed
 *   disconnect  close the connection on receipt, without answering
 *   noprompt    the reply and its "\n" but not the "> " prompt, then
 *               silence (the connection stays open, reads nothing more)
 *   wrong-pid   `show info` reports another Pid and Start_time_sec each time
 *   error       "[3]: No such server." (or the matching 2.6 error text) to
 *               set commands, as HAProxy does for a server that vanished
 *   nul         the reply with a NUL byte in the middle
 *
 * Every command received and every fault goes to stderr as one line
 * ("fakelb: conn 3: cmd 'set server app/s1 state drain'", "... fault
 * truncated ..."), so a test can tell what reached this LB. "listening
 * PATH" goes to stdout once the sockets listen. SIGTERM or SIGINT: close
 * everything, unlink the socket, exit 0. Plain poll() and non-blocking
 * sockets: this is a test tool, not part of cutover.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define MAX_SERVERS 16
#define NAME_MAX_LEN 64
#define LINE_CAP 16384		/* HAProxy ignores longer request lines */
#define ENDLESS_LOW (64 * 1024)	/* refill an endless reply below this */

enum fault_mode {
	FAULT_NONE = 0,
	FAULT_GARBLED,
	FAULT_TRUNCATED,
	FAULT_SLOW,
	FAULT_OVERSIZED,
	FAULT_DISCONNECT,
	FAULT_NOPROMPT,
	FAULT_WRONG_PID,
	FAULT_ERROR,
	FAULT_NUL,
	FAULT_COUNT		/* keep last */
};

static const char *const fault_names[FAULT_COUNT] = {
	[FAULT_NONE] = "none",
	[FAULT_GARBLED] = "garbled",
	[FAULT_TRUNCATED] = "truncated",
	[FAULT_SLOW] = "slow",
	[FAULT_OVERSIZED] = "oversized",
	[FAULT_DISCONNECT] = "disconnect",
	[FAULT_NOPROMPT] = "noprompt",
	[FAULT_WRONG_PID] = "wrong-pid",
	[FAULT_ERROR] = "error",
	[FAULT_NUL] = "nul",
};

enum admin_state {
	ADM_READY = 0,
	ADM_DRAIN,
	ADM_MAINT,
	ADM_COUNT		/* keep last */
};

static const char *const admin_names[ADM_COUNT] = {
	[ADM_READY] = "ready",
	[ADM_DRAIN] = "drain",
	[ADM_MAINT] = "maint",
};

enum sev_mode {
	SEV_NONE = 0,
	SEV_NUMBER,
	SEV_STRING,
};

struct fsrv {
	char name[NAME_MAX_LEN];
	int id;
	enum admin_state admin;
	bool down;		/* `set server ... health down` */
	int uweight, iweight;
};

/* A growable output buffer. */
struct obuf {
	char *data;
	size_t len, cap;
};

struct conn {
	int fd;
	unsigned id;
	bool prompt;
	enum sev_mode sev;
	char in[LINE_CAP];
	size_t inlen;
	bool skipping;		/* inside an over-long line */
	struct obuf out;
	size_t out_off;		/* bytes of out already written */
	bool close_after;	/* close once out is written */
	bool mute;		/* read and ignore everything from now on */
	bool endless;		/* oversized: keep the reply going */
	bool trickle;		/* slow: one byte per delay */
	uint64_t next_byte_ms;
	unsigned good;		/* good replies to matching commands */
};

struct fake {
	char backend[NAME_MAX_LEN];
	int be_id;
	struct fsrv srv[MAX_SERVERS];
	size_t nsrv;
	long pid;
	long start_time;
	unsigned info_count;
	enum fault_mode fault;
	const char *on;
	unsigned after;
	unsigned delay_ms;
	size_t size;
	uint64_t rng;
	unsigned next_conn_id;
	struct conn *conns[MAX_CONNS];
};

static volatile sig_atomic_t stop_signal;

/* ---- captured text (HAProxy 2.6.12-1+deb12u4) ----------------------------- */

/* tests/unit/data/stat/show_stat_be_app.csv, line 1 */
static const char stat_header[] =
	"# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,"
	"ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,"
	"lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
	"rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
	"hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,"
	"req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,"
	"comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,"
	"agent_status,agent_code,agent_duration,check_desc,agent_desc,"
	"check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,"
	"addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,"
	"dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,"
	"src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,"
	"safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
	"agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,"
	"ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,"
	"h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
	"h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,"
	"h2_open_connections,h2_backend_open_streams,h2_total_connections,"
	"h2_backend_total_streams,h1_open_connections,h1_open_streams,"
	"h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
	"h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

/* A server row of the same capture (web1, UP, L7OK), split by the writer
 * into pieces around the fields the model fills in: pxname, svname, status,
 * weight, iid, sid, addr, uweight. */
static const char row_a[] = ",0,0,0,1,,1,82,182,,0,,0,0,0,0,";	/* after svname */
static const char row_b[] = ",1,0,0,0,6,0,,1,";			/* after weight */
static const char row_c[] = ",,1,,2,0,,1,L7OK,200,1,0,1,0,0,0,0,,,,1,0,0,,,,,3,"
	",,0,0,1,1,,,,Layer7 check passed,,3,2,4,,,,";		/* after sid */
static const char row_d[] = ",,http,,,,,,,,0,1,0,,,0,,0,0,1,1,0,0,0,0,1,";
static const char row_e[] = ",,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n";	/* after uweight */

/* tests/unit/data/stat/show_servers_state_be_app.txt, lines 1-2 */
static const char state_header[] =
	"1\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
	"srv_admin_state srv_uweight srv_iweight srv_time_since_last_change "
	"srv_check_status srv_check_result srv_check_health srv_check_state "
	"srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port "
	"srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
	"srv_agent_port\n";

/* tests/unit/data/stat/show_info.txt, with Pid, Uptime, Uptime_sec and
 * Start_time_sec filled in. */
static const char info_a[] =
	"Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2026/10/17\n"
	"Nbthread: 2\nNbproc: 1\nProcess_num: 1\n";
static const char info_b[] =
	"Memmax_MB: 0\nPoolAlloc_MB: 0\nPoolUsed_MB: 0\nPoolFailed: 0\n"
	"Ulimit-n: 20000\nMaxsock: 20000\nMaxconn: 9973\nHard_maxconn: 9973\n"
	"CurrConns: 2\nCumConns: 123\nCumReq: 32\nMaxSslConns: 0\n"
	"CurrSslConns: 0\nCumSslConns: 0\nMaxpipes: 0\nPipesUsed: 0\n"
	"PipesFree: 0\nConnRate: 0\nConnRateLimit: 0\nMaxConnRate: 8\n"
	"SessRate: 0\nSessRateLimit: 0\nMaxSessRate: 8\nSslRate: 0\n"
	"SslRateLimit: 0\nMaxSslRate: 0\nSslFrontendKeyRate: 0\n"
	"SslFrontendMaxKeyRate: 0\nSslFrontendSessionReuse_pct: 0\n"
	"SslBackendKeyRate: 0\nSslBackendMaxKeyRate: 0\nSslCacheLookups: 0\n"
	"SslCacheMisses: 0\nCompressBpsIn: 0\nCompressBpsOut: 0\n"
	"CompressBpsRateLim: 0\nTasks: 33\nRun_queue: 0\nIdle_pct: 100\n"
	"node: vm\nStopping: 0\nJobs: 9\nUnstoppable Jobs: 0\nListeners: 5\n"
	"ActivePeers: 0\nConnectedPeers: 0\nDroppedLogs: 0\nBusyPolling: 0\n"
	"FailedResolutions: 0\nTotalBytesOut: 331766\n"
	"TotalSplicdedBytesOut: 0\nBytesOutRate: 322304\n"
	"DebugCommandsIssued: 0\nCumRecvLogs: 0\n"
	"Build info: 2.6.12-1+deb12u4\nMemmax_bytes: 0\n"
	"PoolAlloc_bytes: 153112\nPoolUsed_bytes: 153112\n";

/* tests/unit/data/stat_sess/show_sess_young.txt: the CLI's own stream */
static const char sess_line[] =
	"0x56120d4eafb0: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> "
	"srv=<none> ts=00 epoch=0x1 age=0s calls=2 rate=1 cpu=0 lat=0 "
	"rq[f=c0c020h,i=0,an=00h,rx=,wx=,ax=] "
	"rp[f=80008002h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=30] "
	"scb=[8,1h,fd=-1] exp=10m rc=0 c_exp=\n";

/* tests/unit/data/stat/reply_num_unknown_cmd.txt, without its tag */
static const char unknown_cmd[] =
	"Unknown command, but maybe one of the following ones is a better "
	"match:\n"
	"  add acl [@<ver>] <acl> <pattern>        : add an acl entry\n"
	"  show fd [num]                           : dump list of file "
	"descriptors in use or a specific one\n"
	"  show info [desc|json|typed|float]*      : report information about "
	"the running process\n"
	"  trace [<module>|0] [cmd [args...]]      : manage live tracing "
	"(empty to list, 0 to stop all)\n"
	"  user                                    : lower the level of the "
	"current CLI session to user\n"
	"  help [<command>]                        : list matching or all "
	"commands\n"
	"  prompt                                  : toggle interactive mode "
	"with prompt\n"
	"  quit                                    : disconnect\n";

/* ---- small helpers --------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fakelb: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void die(const char *what)
{
	fprintf(stderr, "fakelb: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t rnd(struct fake *fk)
{
	/* xorshift64: the same bytes for the same --seed */
	fk->rng ^= fk->rng << 13;
	fk->rng ^= fk->rng >> 7;
	fk->rng ^= fk->rng << 17;
	return fk->rng;
}

static void ob_reserve(struct obuf *b, size_t extra)
{
	size_t ncap;
	char *p;

	if (b->len + extra <= b->cap)
		return;
	ncap = b->cap ? b->cap : 4096;
	while (ncap < b->len + extra)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (p == NULL) {
		fprintf(stderr, "fakelb: out of memory\n");
		exit(1);
	}
	b->data = p;
	b->cap = ncap;
}

static void ob_add(struct obuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* p may be NULL (an empty buffer's data) */
	ob_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void ob_puts(struct obuf *b, const char *s)
{
	ob_add(b, s, strlen(s));
}

static void ob_printf(struct obuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ob_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void ob_free(struct obuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the model --------------------------------------------------------------- */

static struct fsrv *find_server(struct fake *fk, const char *be_srv,
				const char **err)
{
	const char *slash = strchr(be_srv, '/');
	size_t i, belen;

	if (slash == NULL) {
		*err = "Require 'backend/server'.";
		return NULL;
	}
	belen = (size_t)(slash - be_srv);
	if (belen != strlen(fk->backend) ||
	    strncmp(be_srv, fk->backend, belen) != 0) {
		*err = "No such backend.";
		return NULL;
	}
	for (i = 0; i < fk->nsrv; i++)
		if (strcmp(fk->srv[i].name, slash + 1) == 0)
			return &fk->srv[i];
	*err = "No such server.";
	return NULL;
}

static const char *stat_status(const struct fsrv *s)
{
	if (s->admin == ADM_MAINT)
		return "MAINT";
	if (s->down)
		return "DOWN";
	return s->admin == ADM_DRAIN ? "DRAIN" : "UP";
}

static void stat_row(struct fake *fk, struct obuf *b, const struct fsrv *s)
{
	ob_printf(b, "%s,%s%s%s,%d%s%d,%d%s127.0.0.1:%d%s%d%s", fk->backend,
		  s->name, row_a, stat_status(s), s->uweight, row_b, fk->be_id,
		  s->id, row_c, 27100 + s->id, row_d, s->uweight, row_e);
}

static void state_row(struct fake *fk, struct obuf *b, const struct fsrv *s)
{
	static const int admin_bits[ADM_COUNT] = {
		[ADM_READY] = 0, [ADM_DRAIN] = 8, [ADM_MAINT] = 1,
	};
	int op = s->admin == ADM_MAINT || s->down ? 0 : 2;

	ob_printf(b, "%d %s %d %s 127.0.0.1 %d %d %d %d 6 15 3 %d 6 0 0 0 - %d "
		  "- 0 0 - - 0\n", fk->be_id, fk->backend, s->id, s->name, op,
		  admin_bits[s->admin], s->uweight, s->iweight,
		  op == 2 ? 4 : 0, 27100 + s->id);
}

static void show_info(struct fake *fk, struct obuf *b, bool new_pid)
{
	if (new_pid) {
		fk->info_count++;
		fk->pid = 4731 + (long)fk->info_count;
		fk->start_time += 1;
	}
	ob_puts(b, info_a);
	ob_printf(b, "Pid: %ld\nUptime: 0d 0h00m05s\nUptime_sec: 5\n", fk->pid);
	ob_puts(b, info_b);
	ob_printf(b, "Start_time_sec: %ld\nTainted: 0\n", fk->start_time);
}

/* ---- replies ------------------------------------------------------------------ */

/* An error or informational message, tagged as severity-output says. */
static void msg(const struct conn *c, struct obuf *b, int sev, const char *text)
{
	static const char *const sev_names[8] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug",
	};

	if (c->sev == SEV_NUMBER)
		ob_printf(b, "[%d]: ", sev);
	else if (c->sev == SEV_STRING)
		ob_printf(b, "[%s]: ", sev_names[sev]);
	ob_puts(b, text);
	ob_puts(b, "\n");
}

static void cmd_show_stat(struct fake *fk, struct conn *c, struct obuf *b,
			  char **w, int nw)
{
	long sid = -1;
	size_t i;

	/* show stat | show stat -1 4 -1 | show stat BE 4 SID */
	if (nw >= 3 && strcmp(w[2], "-1") != 0 && strcmp(w[2], fk->backend) != 0) {
		msg(c, b, 3, "No such proxy.");
		return;
	}
	if (nw >= 5)
		sid = strtol(w[4], NULL, 10);
	ob_puts(b, stat_header);
	for (i = 0; i < fk->nsrv; i++)
		if (sid < 0 || fk->srv[i].id == sid)
			stat_row(fk, b, &fk->srv[i]);
}

static void cmd_show_state(struct fake *fk, struct conn *c, struct obuf *b,
			   char **w, int nw)
{
	size_t i;

	if (nw >= 4 && strcmp(w[3], fk->backend) != 0) {
		msg(c, b, 3, "Can't find backend.");
		return;
	}
	ob_puts(b, state_header);
	for (i = 0; i < fk->nsrv; i++)
		state_row(fk, b, &fk->srv[i]);
}

static void cmd_set_server(struct fake *fk, struct conn *c, struct obuf *b,
			   char **w, int nw)
{
	const char *err = NULL;
	struct fsrv *s;
	int a;

	if (nw < 4) {
		msg(c, b, 3, "Require 'backend/server'.");
		return;
	}
	if ((s = find_server(fk, w[2], &err)) == NULL) {
		msg(c, b, 3, err);
		return;
	}
	if (strcmp(w[3], "state") == 0) {
		for (a = 0; a < ADM_COUNT; a++)
			if (nw >= 5 && strcmp(w[4], admin_names[a]) == 0)
				break;
		if (a == ADM_COUNT) {
			msg(c, b, 3, "'set server <srv> state' expects 'ready', "
			    "'drain' and 'maint'.");
			return;
		}
		s->admin = (enum admin_state)a;
		return;
	}
	if (strcmp(w[3], "health") == 0 && nw >= 5 &&
	    (strcmp(w[4], "up") == 0 || strcmp(w[4], "down") == 0 ||
	     strcmp(w[4], "stopping") == 0)) {
		s->down = strcmp(w[4], "down") == 0;
		return;
	}
	msg(c, b, 3, "usage: set server <backend>/<server> addr | agent | "
	    "agent-addr | agent-port | agent-send | check-addr | check-port | "
	    "fqdn | health | ssl | state | weight");
}

static void cmd_set_weight(struct fake *fk, struct conn *c, struct obuf *b,
			   char **w, int nw)
{
	const char *err = NULL;
	struct fsrv *s;
	char *end;
	long v;

	if (nw < 4) {
		msg(c, b, 3, "Require 'backend/server'.");
		return;
	}
	if ((s = find_server(fk, w[2], &err)) == NULL) {
		msg(c, b, 3, err);
		return;
	}
	v = strtol(w[3], &end, 10);
	if (end == w[3] || (*end != '\0' && strcmp(end, "%") != 0)) {
		msg(c, b, 3, "Empty weight string empty or preceded by garbage");
		return;
	}
	if (*end == '%')
		v = v < 0 || v > 100 ? -1 : s->iweight * v / 100;
	if (v < 0 || v > 256) {
		msg(c, b, 3, "Absolute weight can only be between 0 and 256 "
		    "inclusive.");
		return;
	}
	s->uweight = (int)v;
}

/* The normal reply to one command line, into b. Returns false when the
 * command closes the connection (quit). */
static bool run_command(struct fake *fk, struct conn *c, struct obuf *b,
			const char *line, bool new_pid)
{
	char copy[LINE_CAP], *w[8], *save = NULL, *tok;
	const char *err = NULL;
	struct fsrv *s;
	int nw = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (tok = strtok_r(copy, " ", &save); tok != NULL && nw < 8;
	     tok = strtok_r(NULL, " ", &save))
		w[nw++] = tok;
	if (nw == 0)
		return true;
	if (nw == 1 && strcmp(w[0], "prompt") == 0) {
		c->prompt = !c->prompt;
	} else if (nw == 1 && strcmp(w[0], "quit") == 0) {
		return false;
	} else if (nw == 3 && starts_with(line, "set severity-output ")) {
		c->sev = strcmp(w[2], "number") == 0   ? SEV_NUMBER
			 : strcmp(w[2], "string") == 0 ? SEV_STRING
						       : SEV_NONE;
	} else if (strcmp(line, "show cli level") == 0) {
		msg(c, b, 6, "admin");
	} else if (strcmp(line, "show info") == 0) {
		show_info(fk, b, new_pid);
	} else if (starts_with(line, "show stat")) {
		cmd_show_stat(fk, c, b, w, nw);
	} else if (starts_with(line, "show servers state")) {
		cmd_show_state(fk, c, b, w, nw);
	} else if (strcmp(line, "show sess") == 0) {
		ob_puts(b, sess_line);
	} else if (starts_with(line, "set server ")) {
		cmd_set_server(fk, c, b, w, nw);
	} else if (starts_with(line, "set weight ")) {
		cmd_set_weight(fk, c, b, w, nw);
	} else if (starts_with(line, "get weight ") && nw == 3) {
		if ((s = find_server(fk, w[2], &err)) == NULL)
			msg(c, b, 3, err);
		else
			ob_printf(b, "%d (initial %d)\n", s->uweight, s->iweight);
	} else if (starts_with(line, "shutdown sessions server ") && nw == 4) {
		if (find_server(fk, w[3], &err) == NULL)
			msg(c, b, 3, err);
	} else {
		msg(c, b, 6, unknown_cmd);
		b->len--;	/* unknown_cmd ends with its own '\n' */
	}
	return true;
}

/* What HAProxy 2.6 answers when the object a command names is gone. */
static const char *error_text(const char *line)
{
	if (starts_with(line, "show stat"))
		return "No such proxy.";
	if (starts_with(line, "show servers state"))
		return "Can't find backend.";
	if (starts_with(line, "set ") || starts_with(line, "get weight") ||
	    starts_with(line, "shutdown sessions"))
		return "No such server.";
	return "Permission denied";
}

/* Random bytes, never '\n' twice in a row and never NUL, ending in '\n'. */
static void garbage(struct fake *fk, struct obuf *b, size_t n)
{
	size_t i, col = 0;
	char ch;

	for (i = 0; i < n; i++) {
		if (col > 8 && rnd(fk) % 48 == 0) {
			ch = '\n';
			col = 0;
		} else {
			do
				ch = (char)(rnd(fk) % 255 + 1);
			while (ch == '\n');
			col++;
		}
		ob_add(b, &ch, 1);
	}
	if (col > 0)
		ob_puts(b, "\n");
}

/* A table reply with its header intact and every row cut at a random
 * byte, followed by random bytes: broken CSV / broken state lines. */
static void garble_table(struct fake *fk, struct obuf *b, const struct obuf *good)
{
	const char *p = good->data, *end = good->data + good->len, *nl;
	bool header = true;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (header) {
			ob_add(b, p, (size_t)(nl - p));
			ob_puts(b, "\n");
			header = *p != '#';	/* up to the "# " line */
		} else if (nl > p) {
			ob_add(b, p, 1 + rnd(fk) % (size_t)(nl - p));
			garbage(fk, b, 8 + rnd(fk) % 24);
		}
		p = nl + 1;
	}
}

/* ---- connections --------------------------------------------------------------- */

static void conn_close(struct fake *fk, size_t slot, const char *why)
{
	struct conn *c = fk->conns[slot];

	say("conn %u: closed (%s)", c->id, why);
	close(c->fd);
	ob_free(&c->out);
	free(c);
	fk->conns[slot] = NULL;
}

/* Frame a reply: output, "\n", and the prompt in prompt mode. */
static void frame(const struct conn *c, struct obuf *b)
{
	ob_puts(b, "\n");
	if (c->prompt)
		ob_puts(b, "> ");
}

/* Keep an endless reply going: rows of CSV without an empty line. */
static void endless_refill(struct fake *fk, struct conn *c)
{
	if (c->out_off >= 1024 * 1024) {
		memmove(c->out.data, c->out.data + c->out_off,
			c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	while (c->out.len - c->out_off < 4 * ENDLESS_LOW)
		stat_row(fk, &c->out, &fk->srv[0]);
}

static void queue(struct conn *c, const struct obuf *b)
{
	if (c->out_off > 0 && c->out_off == c->out.len)
		c->out.len = c->out_off = 0;
	ob_add(&c->out, b->data, b->len);
}

static bool changes_model(const char *line)
{
	return starts_with(line, "set server ") ||
	       starts_with(line, "set weight ") ||
	       starts_with(line, "shutdown ");
}

/* Handle one line; returns false if the connection must close now. */
static bool handle_line(struct fake *fk, struct conn *c, const char *line)
{
	struct obuf body = { 0 }, full = { 0 }, tmp = { 0 };
	bool match, faulty, keep = true;
	size_t cut;

	if (fk->on != NULL)
		match = starts_with(line, fk->on);
	else if (fk->fault == FAULT_ERROR)
		match = changes_model(line);
	else if (fk->fault == FAULT_WRONG_PID)
		match = strcmp(line, "show info") == 0;
	else
		match = true;
	match = match && fk->fault != FAULT_NONE;
	faulty = match && c->good >= fk->after;
	say("conn %u: cmd '%s'%s%s", c->id, line, faulty ? " fault " : "",
	      faulty ? fault_names[fk->fault] : "");
	if (!faulty) {
		keep = run_command(fk, c, &body, line, false);
		if (match)
			c->good++;
		if (!keep)
			return false;
		ob_add(&full, body.data, body.len);
		frame(c, &full);
		queue(c, &full);
		if (!c->prompt)
			c->close_after = true;
		ob_free(&body);
		ob_free(&full);
		return true;
	}
	if (fk->fault == FAULT_DISCONNECT)
		return false;
	/* The reply is spoiled, but `prompt` and `set severity-output` still
	 * switch the connection's mode, and reads still read: only a change
	 * to the model is left undone. */
	if (!changes_model(line))
		keep = run_command(fk, c, &tmp, line,
				   fk->fault == FAULT_WRONG_PID);
	switch (fk->fault) {
	case FAULT_GARBLED:
		if (starts_with(line, "show stat") ||
		    starts_with(line, "show servers state")) {
			garble_table(fk, &body, &tmp);
		} else {
			garbage(fk, &body, 200 + rnd(fk) % 400);
		}
		break;
	case FAULT_ERROR:
		msg(c, &body, 3, error_text(line));
		break;
	case FAULT_OVERSIZED:
		if (fk->size == 0) {
			ob_puts(&body, stat_header);
			queue(c, &body);
			c->endless = true;
			c->mute = true;
			endless_refill(fk, c);
			ob_free(&body);
			ob_free(&tmp);
			return true;
		}
		ob_puts(&body, stat_header);
		while (body.len < fk->size)
			stat_row(fk, &body, &fk->srv[0]);
		break;
	default:
		/* The rest alter the reply on its way out. */
		ob_add(&body, tmp.data, tmp.len);
		break;
	}
	ob_free(&tmp);
	if (!keep) {
		ob_free(&body);
		return false;
	}
	if (fk->fault == FAULT_NUL) {
		cut = body.len / 2;
		ob_add(&full, body.data, cut);
		ob_add(&full, "", 1);
		ob_add(&full, body.data + cut, body.len - cut);
		frame(c, &full);
	} else if (fk->fault == FAULT_NOPROMPT) {
		/* The output and its "\n", but no "> " (in non-interactive
		 * mode: no close either). */
		ob_add(&full, body.data, body.len);
		ob_puts(&full, "\n");
		c->mute = true;
	} else {
		ob_add(&full, body.data, body.len);
		frame(c, &full);
	}
	if (fk->fault == FAULT_TRUNCATED) {
		/* Cut inside a line: never right after a '\n'. */
		cut = full.len / 2;
		while (cut > 1 && full.data[cut - 1] == '\n')
			cut--;
		full.len = cut > 0 ? cut : 1;
		c->close_after = true;
	}
	if (fk->fault == FAULT_SLOW) {
		c->trickle = true;
		c->next_byte_ms = now_ms() + fk->delay_ms;
	}
	queue(c, &full);
	if (!c->prompt && fk->fault != FAULT_NOPROMPT)
		c->close_after = true;
	ob_free(&body);
	ob_free(&full);
	return true;
}

/* Read what is there; false if the connection must close. */
static bool conn_read(struct fake *fk, struct conn *c)
{
	char buf[4096], *nl;
	ssize_t n;
	size_t i;

	n = read(c->fd, buf, sizeof(buf));
	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (c->mute)
		return true;
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] != '\n') {
			if (c->inlen + 1 < sizeof(c->in))
				c->in[c->inlen++] = buf[i];
			else
				c->skipping = true;
			continue;
		}
		c->in[c->inlen] = '\0';
		nl = c->in;
		if (c->inlen > 0 && c->in[c->inlen - 1] == '\r')
			c->in[--c->inlen] = '\0';
		c->inlen = 0;
		if (c->skipping) {
			/* HAProxy never answers an over-long line. */
			c->skipping = false;
			c->mute = true;
			return true;
		}
		if (!handle_line(fk, c, nl))
			return false;
		if (c->mute || c->close_after)
			return true;
	}
	return true;
}

/* Write what is due; false if the connection must close. */
static bool conn_write(struct fake *fk, struct conn *c)
{
	size_t left = c->out.len - c->out_off;
	ssize_t n;

	if (left == 0)
		return !c->close_after;
	if (c->trickle) {
		if (now_ms() < c->next_byte_ms)
			return true;
		left = 1;
	}
	n = write(c->fd, c->out.data + c->out_off, left);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->out_off += (size_t)n;
	if (c->trickle)
		c->next_byte_ms = now_ms() + fk->delay_ms;
	if (c->endless)
		endless_refill(fk, c);
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->close_after)
			return false;
	}
	return true;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl");
}

static void accept_one(struct fake *fk, int lfd)
{
	struct conn *c;
	size_t slot;
	int fd;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return;
	for (slot = 0; slot < MAX_CONNS; slot++)
		if (fk->conns[slot] == NULL)
			break;
	if (slot == MAX_CONNS) {
		close(fd);
		return;
	}
	set_nonblock(fd);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = ++fk->next_conn_id;
	fk->conns[slot] = c;
	say("conn %u: accepted", c->id);
}

/* ---- setup ------------------------------------------------------------------------ */

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fakelb: socket path too long: %s\n", path);
		exit(2);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die(path);
	if (listen(fd, 16) != 0)
		die("listen");
	set_nonblock(fd);
	return fd;
}

static int listen_tcp(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("bind 127.0.0.1");
	if (listen(fd, 16) != 0)
		die("listen");
	set_nonblock(fd);
	return fd;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void add_server(struct fake *fk, const char *spec)
{
	struct fsrv *s;
	char copy[NAME_MAX_LEN * 2], *state, *weight;
	int a;

	if (fk->nsrv == MAX_SERVERS) {
		fprintf(stderr, "fakelb: at most %d servers\n", MAX_SERVERS);
		exit(2);
	}
	snprintf(copy, sizeof(copy), "%s", spec);
	s = &fk->srv[fk->nsrv];
	memset(s, 0, sizeof(*s));
	s->id = (int)fk->nsrv + 1;
	s->uweight = s->iweight = 1;
	state = strchr(copy, ':');
	weight = NULL;
	if (state != NULL) {
		*state++ = '\0';
		weight = strchr(state, ':');
		if (weight != NULL)
			*weight++ = '\0';
		for (a = 0; a < ADM_COUNT; a++)
			if (strcmp(state, admin_names[a]) == 0)
				s->admin = (enum admin_state)a;
		if (*state != '\0' && strcmp(state, admin_names[s->admin]) != 0) {
			fprintf(stderr, "fakelb: bad state in --server %s\n", spec);
			exit(2);
		}
		if (weight != NULL)
			s->uweight = s->iweight = atoi(weight);
	}
	if (copy[0] == '\0' || strlen(copy) >= NAME_MAX_LEN) {
		fprintf(stderr, "fakelb: bad --server %s\n", spec);
		exit(2);
	}
	snprintf(s->name, sizeof(s->name), "%s", copy);
	fk->nsrv++;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fakelb --unix PATH [--tcp PORT] [--backend NAME]\n"
		"              [--server NAME[:ready|drain|maint[:WEIGHT]]]...\n"
		"              [--fault MODE] [--on PREFIX] [--after N]\n"
		"              [--delay MS] [--size BYTES] [--seed N] "
		"[--pidfile F]\n"
		"MODE: garbled truncated slow oversized disconnect noprompt "
		"wrong-pid error nul\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unix", required_argument, NULL, 'u' },
		{ "tcp", required_argument, NULL, 't' },
		{ "backend", required_argument, NULL, 'b' },
		{ "server", required_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'f' },
		{ "on", required_argument, NULL, 'o' },
		{ "after", required_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 'z' },
		{ "seed", required_argument, NULL, 'r' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct pollfd pfd[MAX_CONNS + 2];
	struct sigaction sa;
	struct fake fk;
	const char *path = NULL, *pidfile = NULL;
	int tcp_port = 0, lfd[2] = { -1, -1 }, nl = 0, opt, i;
	size_t slot, np;
	int f;

	memset(&fk, 0, sizeof(fk));
	snprintf(fk.backend, sizeof(fk.backend), "app");
	fk.be_id = 3;
	fk.pid = 4731;
	fk.start_time = 1795319651;
	fk.delay_ms = 500;
	fk.rng = 88172645463325252ull;
	fk.on = NULL;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			path = optarg;
			break;
		case 't':
			tcp_port = atoi(optarg);
			break;
		case 'b':
			snprintf(fk.backend, sizeof(fk.backend), "%s", optarg);
			break;
		case 's':
			add_server(&fk, optarg);
			break;
		case 'f':
			for (f = 0; f < FAULT_COUNT; f++)
				if (strcmp(optarg, fault_names[f]) == 0)
					break;
			if (f == FAULT_COUNT)
				usage();
			fk.fault = (enum fault_mode)f;
			break;
		case 'o':
			fk.on = optarg;
			break;
		case 'a':
			fk.after = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			fk.delay_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			fk.size = (size_t)strtoull(optarg, NULL, 10);
			break;
		case 'r':
			fk.rng = strtoull(optarg, NULL, 10) | 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	if (fk.nsrv == 0) {
		add_server(&fk, "s1");
		add_server(&fk, "s2");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd[nl++] = listen_unix(path);
	if (tcp_port > 0)
		lfd[nl++] = listen_tcp(tcp_port);
	if (pidfile != NULL) {
		FILE *pf = fopen(pidfile, "w");

		if (pf == NULL)
			die(pidfile);
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	say("fault %s on '%s' after %u, backend %s with %zu servers",
	      fault_names[fk.fault], fk.on != NULL ? fk.on : "(default)",
	      fk.after, fk.backend, fk.nsrv);
	printf("listening %s\n", path);
	fflush(stdout);

	while (stop_signal == 0) {
		uint64_t now = now_ms();
		int timeout = 100;
		struct conn *map[MAX_CONNS];

		np = 0;
		for (i = 0; i < nl; i++) {
			pfd[np].fd = lfd[i];
			pfd[np].events = POLLIN;
			np++;
		}
		for (slot = 0; slot < MAX_CONNS; slot++) {
			struct conn *c = fk.conns[slot];

			if (c == NULL)
				continue;
			pfd[np].fd = c->fd;
			pfd[np].events = POLLIN;
			if (c->out.len > c->out_off) {
				if (!c->trickle || c->next_byte_ms <= now)
					pfd[np].events |= POLLOUT;
				else if (c->next_byte_ms - now < (uint64_t)timeout)
					timeout = (int)(c->next_byte_ms - now);
			}
			map[np - (size_t)nl] = c;
			np++;
		}
		if (poll(pfd, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(&fk, lfd[i]);
		for (slot = (size_t)nl; slot < np; slot++) {
			struct conn *c = map[slot - (size_t)nl];
			size_t k;
			bool ok = true;
			const char *why = "by the client";

			for (k = 0; k < MAX_CONNS; k++)
				if (fk.conns[k] == c)
					break;
			if (k == MAX_CONNS)
				continue;
			if (pfd[slot].revents & (POLLIN | POLLHUP | POLLERR))
				ok = conn_read(&fk, c);
			if (!ok && c->out.len == c->out_off && !c->close_after)
				why = "by the client or a fault";
			if (ok && (c->out.len > c->out_off || c->close_after)) {
				ok = conn_write(&fk, c);
				if (!ok)
					why = "reply sent";
			}
			if (!ok)
				conn_close(&fk, k, why);
		}
	}
	for (slot = 0; slot < MAX_CONNS; slot++)
		if (fk.conns[slot] != NULL)
			conn_close(&fk, slot, "stopping");
	for (i = 0; i < nl; i++)
		close(lfd[i]);
	unlink(path);
	say("signal %d, stopped", (int)stop_signal);
	return 0;
}
