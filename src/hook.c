/* hook.c - operator commands run as child processes (see hook.h).
 *
 * A struct hook embeds its four uv handles: the process, one pipe each for
 * stdout and stderr, and one timer that in turn measures the timeout, the
 * TERM -> KILL grace and the last wait for the pipes. Signals go to the
 * child's process group (UV_PROCESS_DETACHED: the child called setsid()).
 *
 *   RUNNING --timeout, hook_kill--> TERM_SENT --grace--> KILL_SENT
 *      |    \------------- hook_kill_now ---------------->   |
 *      +------------------ exit (any state) -----------------+
 *                               |
 *         after a TERM/KILL: SIGKILL the group's leftovers
 *                               |
 *         both pipes at EOF, or DRAIN_MS later --> hook_finish() --> DONE
 *
 * hook_finish() runs once: it delivers partial lines, calls the done
 * callback, then closes every handle; the last close callback frees.
 * A normal exit's leftover processes are not signalled (a daemon started
 * by an upgrade script is legitimate), but their hold on our pipes is only
 * honoured for DRAIN_MS.
 */
#include "hook.h"
#include "buf.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define HOOK_LINE_MAX 4096		/* longer lines come in pieces */
#define HOOK_READ_SIZE (16 * 1024)
#define HOOK_GRACE_DEFAULT_MS 5000
#define HOOK_DRAIN_MS 1000		/* pipes kept open after the exit */
#define HOOK_EXPAND_MAX (64 * 1024)	/* one expanded argument */
#define HOOK_NHANDLES 4

enum hook_state {
	HOOK_ST_RUNNING = 0,	/* no signal sent */
	HOOK_ST_TERM_SENT,	/* SIGTERM sent to the group; grace timer on */
	HOOK_ST_KILL_SENT,	/* SIGKILL sent to the group */
	HOOK_ST_DONE,		/* callback ran (or spawn failed); closing */
	HOOK_ST_COUNT		/* keep last */
};

/* Why the hook was stopped; the first cause wins. */
enum hook_cause {
	HOOK_CAUSE_NONE = 0,
	HOOK_CAUSE_TIMEOUT,	/* -> CUT_ETIMEOUT */
	HOOK_CAUSE_KILL,	/* hook_kill(), hook_kill_now() -> CUT_ECANCELED */
	HOOK_CAUSE_COUNT	/* keep last */
};

struct hook_out {
	uv_pipe_t pipe;
	struct hook *h;
	enum hook_stream s;
	bool eof;			/* reading stopped */
	size_t len;			/* bytes in line */
	char line[HOOK_LINE_MAX + 1];	/* + NUL for the callback's comfort */
	char rbuf[HOOK_READ_SIZE];
};

struct hook {
	uv_process_t proc;
	struct hook_out out[HOOK_STREAM_COUNT];
	uv_timer_t timer;
	enum hook_state st;
	enum hook_cause cause;
	bool exited;
	int64_t exit_status;
	int term_signal;
	int pid;
	int open_handles;	/* freed when this drops to 0 */
	uint64_t kill_grace_ms;
	hook_line_fn *on_line;
	void *line_arg;
	hook_done_fn *cb;
	void *arg;
};

static const char *const hook_state_names[HOOK_ST_COUNT] = {
	[HOOK_ST_RUNNING] = "running",
	[HOOK_ST_TERM_SENT] = "term-sent",
	[HOOK_ST_KILL_SENT] = "kill-sent",
	[HOOK_ST_DONE] = "done",
};

/* Placeholders and variables in struct hook_vars order; the stage has no
 * placeholder. */
#define HOOK_NVARS 6
static const char *const ph_names[HOOK_NVARS] = {
	"server", "backend", "addr", "port", "peer", NULL
};
static const char *const env_names[HOOK_NVARS] = {
	"CUTOVER_SERVER", "CUTOVER_BACKEND", "CUTOVER_ADDR", "CUTOVER_PORT",
	"CUTOVER_PEER", "CUTOVER_STAGE"
};

static void vars_values(const struct hook_vars *v, const char *out[HOOK_NVARS])
{
	static const struct hook_vars none;

	if (v == NULL)
		v = &none;
	out[0] = v->server;
	out[1] = v->backend;
	out[2] = v->addr;
	out[3] = v->port;
	out[4] = v->peer;
	out[5] = v->stage;
}

/* ---- templates ------------------------------------------------------- */

/* Index of placeholder name[0..len), or -1. */
static int ph_find(const char *name, size_t len)
{
	int i;

	for (i = 0; i < HOOK_NVARS; i++)
		if (ph_names[i] != NULL && strlen(ph_names[i]) == len &&
		    memcmp(ph_names[i], name, len) == 0)
			return i;
	return -1;
}

char *hook_expand_str(const char *tmpl, const struct hook_vars *v,
		      struct cut_err *err)
{
	const char *vals[HOOK_NVARS];
	const char *p, *q, *close;
	struct buf b;
	int i, rc;

	if (tmpl == NULL) {
		cut_err_set(err, CUT_EUSAGE, "hook", "no template");
		return NULL;
	}
	vars_values(v, vals);
	buf_init(&b, HOOK_EXPAND_MAX);
	rc = buf_append(&b, "", 0);	/* "" expands to a real string */
	for (p = tmpl; rc == 0 && *p != '\0'; p = q) {
		q = p + strcspn(p, "{}");
		rc = buf_append(&b, p, (size_t)(q - p));
		if (rc != 0 || *q == '\0')
			break;
		if (q[1] == q[0]) {	/* "{{" or "}}" */
			rc = buf_append(&b, q, 1);
			q += 2;
		} else if (*q == '}') {
			rc = cut_err_set(err, CUT_EUSAGE, "hook",
					 "single '}' in '%s' (write }} for a "
					 "brace)", tmpl);
		} else if ((close = strchr(q + 1, '}')) == NULL) {
			rc = cut_err_set(err, CUT_EUSAGE, "hook",
					 "unclosed '{' in '%s' (write {{ for a "
					 "brace)", tmpl);
		} else if ((i = ph_find(q + 1, (size_t)(close - q - 1))) < 0) {
			rc = cut_err_set(err, CUT_EUSAGE, "hook",
					 "unknown placeholder '%.*s' in '%s' "
					 "(known: {server} {backend} {addr} "
					 "{port} {peer}; {{ and }} are braces)",
					 (int)(close - q + 1), q, tmpl);
		} else {
			p = vals[i] != NULL ? vals[i] : "";
			rc = buf_append(&b, p, strlen(p));
			q = close + 1;
		}
	}
	if (rc == UV_ENOMEM || rc == CUT_ETOOBIG)
		cut_err_set(err, rc, "hook", "cannot expand '%.64s': %s",
			    tmpl, cut_strerror(rc));
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

char **hook_expand_argv(const struct plan_argv *tmpl, const struct hook_vars *v,
			struct cut_err *err)
{
	char **argv;
	size_t i;

	argv = calloc(tmpl->argc + 1, sizeof(*argv));
	if (argv == NULL) {
		cut_err_set(err, UV_ENOMEM, "hook", NULL);
		return NULL;
	}
	for (i = 0; i < tmpl->argc; i++) {
		argv[i] = hook_expand_str(tmpl->argv[i], v, err);
		if (argv[i] == NULL) {
			hook_argv_free(argv);
			return NULL;
		}
	}
	return argv;
}

void hook_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* ---- environment ----------------------------------------------------- */

static bool is_hook_var(const char *entry)
{
	size_t i, n;

	if (strncmp(entry, "CUTOVER_", 8) != 0)
		return false;
	for (i = 0; i < HOOK_NVARS; i++) {
		n = strlen(env_names[i]);
		if (strncmp(entry, env_names[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

/* The parent's environment without any inherited CUTOVER_<var> (a NULL
 * value means "not set"), then ours. The first *nowned entries are ours
 * to free; the others are borrowed from environ. */
static char **env_build(const struct hook_vars *v, size_t *nowned)
{
	const char *vals[HOOK_NVARS];
	size_t i, n = 0, k = 0;
	char **env;

	vars_values(v, vals);
	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + HOOK_NVARS + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < HOOK_NVARS; i++) {
		if (vals[i] == NULL)
			continue;
		if (asprintf(&env[k], "%s=%s", env_names[i], vals[i]) < 0) {
			while (k > 0)
				free(env[--k]);
			free(env);
			return NULL;
		}
		k++;
	}
	*nowned = k;
	for (i = 0; i < n; i++)
		if (!is_hook_var(environ[i]))
			env[k++] = environ[i];
	return env;
}

static void env_free(char **env, size_t nowned)
{
	size_t i;

	for (i = 0; i < nowned; i++)
		free(env[i]);
	free(env);
}

/* ---- the child ------------------------------------------------------- */

static void on_closed(uv_handle_t *hd)
{
	struct hook *h = hd->data;

	if (--h->open_handles == 0)
		free(h);
}

static void close_all(struct hook *h)
{
	uv_handle_t *hs[HOOK_NHANDLES] = {
		(uv_handle_t *)&h->proc,
		(uv_handle_t *)&h->out[HOOK_STDOUT].pipe,
		(uv_handle_t *)&h->out[HOOK_STDERR].pipe,
		(uv_handle_t *)&h->timer,
	};
	size_t i;

	for (i = 0; i < HOOK_NHANDLES; i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], on_closed);
}

static void set_state(struct hook *h, enum hook_state st)
{
	if (h->st == st)
		return;
	LOG_DEBUG("hook pid=%d state %s -> %s", h->pid,
		  hook_state_names[h->st], hook_state_names[st]);
	h->st = st;
}

/* The child called setsid() before uv_spawn() returned, so its pid names
 * its group, and stays reserved while the group has members, even after
 * the child itself was reaped. ESRCH (nobody left) is fine. */
static void signal_group(struct hook *h, int sig)
{
	(void)kill(-h->pid, sig);
}

static void out_emit(struct hook_out *o)
{
	struct hook *h = o->h;
	size_t len = o->len;

	o->line[len] = '\0';
	o->len = 0;
	if (h->on_line != NULL)
		h->on_line(h, o->s, o->line, len, h->line_arg);
}

/* Split into lines; a line reaching HOOK_LINE_MAX is delivered as a piece
 * as soon as a byte other than its newline follows. */
static void out_feed(struct hook_out *o, const char *p, size_t n)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		if (o->len == HOOK_LINE_MAX && *p != '\n')
			out_emit(o);
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) : n;
		if (take > HOOK_LINE_MAX - o->len)
			take = HOOK_LINE_MAX - o->len;
		memcpy(o->line + o->len, p, take);
		o->len += take;
		p += take;
		n -= take;
		if (n > 0 && *p == '\n') {
			out_emit(o);
			p++;
			n--;
		}
	}
}

/* Stop reading; a last line without its newline is delivered now. */
static void out_stop(struct hook_out *o)
{
	if (o->eof)
		return;
	o->eof = true;
	uv_read_stop((uv_stream_t *)&o->pipe);
	if (o->len > 0)
		out_emit(o);
}

static void hook_finish(struct hook *h)
{
	int status;
	int64_t code;

	if (h->st == HOOK_ST_DONE)
		return;
	set_state(h, HOOK_ST_DONE);
	uv_timer_stop(&h->timer);
	out_stop(&h->out[HOOK_STDOUT]);
	out_stop(&h->out[HOOK_STDERR]);
	if (h->cause == HOOK_CAUSE_TIMEOUT)
		status = CUT_ETIMEOUT;
	else if (h->cause == HOOK_CAUSE_KILL)
		status = CUT_ECANCELED;
	else if (h->term_signal != 0 || h->exit_status != 0)
		status = CUT_EHOOK;
	else
		status = 0;
	code = h->term_signal != 0 ? -1 : h->exit_status;
	LOG_DEBUG("hook pid=%d done status=%s exit=%lld signal=%d", h->pid,
		  cut_strerror(status), (long long)code, h->term_signal);
	h->cb(h, status, code, h->term_signal, h->arg);
	close_all(h);
}

static void maybe_finish(struct hook *h)
{
	if (h->exited && h->out[HOOK_STDOUT].eof && h->out[HOOK_STDERR].eof)
		hook_finish(h);
}

static void on_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *b)
{
	struct hook_out *o = container_of(hd, struct hook_out, pipe);

	(void)hint;	/* our buffer is fixed */
	*b = uv_buf_init(o->rbuf, sizeof(o->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct hook_out *o = container_of(s, struct hook_out, pipe);

	if (nread > 0) {
		out_feed(o, b->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return;
	out_stop(o);		/* UV_EOF, or a read error: same outcome */
	maybe_finish(o->h);
}

/* The process is gone but something still holds a pipe open. */
static void on_drain(uv_timer_t *t)
{
	hook_finish(container_of(t, struct hook, timer));
}

static void on_grace(uv_timer_t *t)
{
	struct hook *h = container_of(t, struct hook, timer);

	signal_group(h, SIGKILL);
	set_state(h, HOOK_ST_KILL_SENT);
}

static void send_term(struct hook *h)
{
	signal_group(h, SIGTERM);
	set_state(h, HOOK_ST_TERM_SENT);
	uv_timer_start(&h->timer, on_grace, h->kill_grace_ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
	struct hook *h = container_of(t, struct hook, timer);

	if (h->cause == HOOK_CAUSE_NONE)
		h->cause = HOOK_CAUSE_TIMEOUT;
	send_term(h);
}

static void on_proc_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct hook *h = container_of(p, struct hook, proc);

	h->exited = true;
	h->exit_status = exit_status;
	h->term_signal = term_signal;
	/* Stopped on purpose: what is left of the group goes too. */
	if (h->st == HOOK_ST_TERM_SENT || h->st == HOOK_ST_KILL_SENT)
		signal_group(h, SIGKILL);
	uv_timer_start(&h->timer, on_drain, HOOK_DRAIN_MS, 0);
	maybe_finish(h);
}

struct hook *hook_run(uv_loop_t *loop, char *const *argv,
		      const struct hook_opts *opts, hook_done_fn *cb, void *arg,
		      struct cut_err *err)
{
	static const struct hook_opts no_opts;
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	struct hook *h;
	char **env;
	size_t nowned = 0;
	int i, rc;

	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0' ||
	    cb == NULL) {
		cut_err_set(err, CUT_EUSAGE, "hook", "empty command");
		return NULL;
	}
	if (opts == NULL)
		opts = &no_opts;
	h = calloc(1, sizeof(*h));
	env = env_build(opts->vars, &nowned);
	if (h == NULL || env == NULL) {
		free(h);
		if (env != NULL)
			env_free(env, nowned);
		cut_err_set(err, UV_ENOMEM, argv[0], NULL);
		return NULL;
	}
	h->kill_grace_ms = opts->kill_grace_ms ? opts->kill_grace_ms :
						 HOOK_GRACE_DEFAULT_MS;
	h->on_line = opts->on_line;
	h->line_arg = opts->line_arg;
	h->cb = cb;
	h->arg = arg;
	h->open_handles = HOOK_NHANDLES;
	h->proc.data = h;
	h->timer.data = h;
	uv_timer_init(loop, &h->timer);
	for (i = 0; i < HOOK_STREAM_COUNT; i++) {
		h->out[i].h = h;
		h->out[i].s = (enum hook_stream)i;
		h->out[i].pipe.data = h;
		uv_pipe_init(loop, &h->out[i].pipe, 0);
		stdio[1 + i].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[1 + i].data.stream = (uv_stream_t *)&h->out[i].pipe;
	}
	stdio[0].flags = UV_IGNORE;	/* libuv opens /dev/null */
	memset(&po, 0, sizeof(po));
	po.exit_cb = on_proc_exit;
	po.file = argv[0];
	po.args = (char **)argv;
	po.env = env;
	po.flags = UV_PROCESS_DETACHED;	/* setsid(): own process group */
	po.stdio_count = 3;
	po.stdio = stdio;
	rc = uv_spawn(loop, &h->proc, &po);
	env_free(env, nowned);
	if (rc != 0) {
		cut_err_set(err, rc, argv[0], "cannot run '%s': %s", argv[0],
			    uv_strerror(rc));
		h->st = HOOK_ST_DONE;
		close_all(h);	/* frees h from the loop */
		return NULL;
	}
	h->pid = h->proc.pid;
	for (i = 0; i < HOOK_STREAM_COUNT; i++)
		if (uv_read_start((uv_stream_t *)&h->out[i].pipe, on_alloc,
				  on_read) != 0)
			h->out[i].eof = true;
	if (opts->timeout_ms > 0)
		uv_timer_start(&h->timer, on_timeout, opts->timeout_ms, 0);
	LOG_DEBUG("hook pid=%d started: %s", h->pid, argv[0]);
	return h;
}

/* Nothing to signal once finished; once exited, stop waiting for the
 * output of leftovers (from the loop: the callback never runs in here). */
static bool kill_done(struct hook *h)
{
	if (h == NULL || h->st == HOOK_ST_DONE)
		return true;
	if (h->exited)
		uv_timer_start(&h->timer, on_drain, 0, 0);
	return h->exited;
}

void hook_kill(struct hook *h)
{
	if (kill_done(h) || h->st != HOOK_ST_RUNNING)
		return;
	h->cause = HOOK_CAUSE_KILL;
	send_term(h);
}

void hook_kill_now(struct hook *h)
{
	if (kill_done(h) || h->st == HOOK_ST_KILL_SENT)
		return;
	if (h->cause == HOOK_CAUSE_NONE)
		h->cause = HOOK_CAUSE_KILL;
	uv_timer_stop(&h->timer);
	signal_group(h, SIGKILL);
	set_state(h, HOOK_ST_KILL_SENT);
}

int hook_pid(const struct hook *h)
{
	return h != NULL ? h->pid : 0;
}
