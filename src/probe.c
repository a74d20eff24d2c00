/* probe.c - is a server healthy (see probe.h): the env, the tries with
 * their rise count and deadline, the tcp and exec checks. The http check
 * and libcurl's multi interface live in probe_http.c.
 *
 *   probe_start --tick (0 ms)--> on_tick: every check at once
 *        ^                          |  http (curl), tcp (uv_tcp), exec (hook)
 *        |                          v
 *        +--- tick (interval) --- try_end: progress(); passes++ or = 0;
 *                                   |  passes == rise -> probe_finish(0)
 *   deadline timer, probe_cancel, probe_env_free --> probe_finish(status)
 *
 * probe_finish() is the one exit: it aborts the checks in flight and
 * closes the probe's handles; when the last one is closed (and a running
 * exec child has been reaped) done() runs, from a loop callback, and the
 * probe is freed. So done() never runs inside probe_start or
 * probe_cancel, and runs once.
 *
 * Each check reports once per try through probe_check_done(). A tcp check
 * reports from its handle's close callback, so the handle is always
 * closed before the next try reuses it; a name lookup cannot be stopped,
 * so it lives in its own struct tcp_resolve that is abandoned (back
 * pointer cleared) when the try no longer wants it.
 *
 * Settings are copied at start (URL, host, port and argv expanded, vars
 * deep-copied): a probe never points into the plan or the caller's vars.
 */
#include "probe.h"
#include "log.h"
#include "probe_int.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_EXEC_GRACE_MS 1000	/* exec timeout: TERM -> KILL */

static const char *const state_names[PROBE_ST_COUNT] = {
	[PROBE_ST_WAITING] = "waiting",
	[PROBE_ST_TRYING] = "trying",
	[PROBE_ST_FINISHING] = "finishing",
};

static const char *const check_names[PROBE_CHECK_COUNT] = {
	[PROBE_CHECK_HTTP] = "http",
	[PROBE_CHECK_TCP] = "tcp",
	[PROBE_CHECK_EXEC] = "exec",
};

struct tcp_resolve {
	uv_getaddrinfo_t req;
	struct probe *p;	/* NULL once abandoned */
};

static void tcp_start(struct probe *p);
static void tcp_abort(struct probe *p);
static void exec_start(struct probe *p);
static void exec_abort(struct probe *p);

/* ---- env ------------------------------------------------------------- */

static void env_maybe_free(struct probe_env *env)
{
	if (!env->freeing || env->pending > 0 || env->probes != NULL ||
	    env->multi != NULL)
		return;
	if (env->curl_global)
		curl_global_cleanup();
	free(env);
}

void probe_env_unref(struct probe_env *env)
{
	env->pending--;
	env_maybe_free(env);
}

struct probe_env *probe_env_new(uv_loop_t *loop, struct cut_err *err)
{
	struct probe_env *env = calloc(1, sizeof(*env));

	if (env == NULL) {
		cut_err_set(err, UV_ENOMEM, "probe", "out of memory");
		return NULL;
	}
	env->loop = loop;
	if (probe_curl_init(env, err) != 0) {
		if (env->multi != NULL)
			curl_multi_cleanup(env->multi);
		if (env->curl_global)
			curl_global_cleanup();
		free(env);
		return NULL;
	}
	return env;
}

static void probe_finish(struct probe *p, int status, const char *reason);

void probe_env_free(struct probe_env *env)
{
	struct probe *p, *next;

	if (env == NULL || env->freeing)
		return;
	env->freeing = true;
	for (p = env->probes; p != NULL; p = next) {
		next = p->next;
		probe_finish(p, CUT_ECANCELED, "cancelled");
	}
	probe_curl_teardown(env);	/* deferred if inside curl */
	env_maybe_free(env);
}

/* ---- probe lifetime -------------------------------------------------- */

static void probe_set_state(struct probe *p, enum probe_state st)
{
	if (p->st == st)
		return;
	LOG_DEBUG("probe %p: %s -> %s (try %u, %u/%u passed)", (void *)p,
		  state_names[p->st], state_names[st], p->tries, p->passes,
		  p->rise);
	p->st = st;
}

static void vars_free(struct hook_vars *v)
{
	free((char *)v->server);
	free((char *)v->backend);
	free((char *)v->addr);
	free((char *)v->port);
	free((char *)v->peer);
	free((char *)v->stage);
	memset(v, 0, sizeof(*v));
}

static bool dup_or_null(const char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return true;
	*dst = strdup(src);
	return *dst != NULL;
}

static bool vars_copy(struct hook_vars *dst, const struct hook_vars *src)
{
	bool ok = true;

	memset(dst, 0, sizeof(*dst));
	if (src == NULL)
		return true;
	ok = dup_or_null(&dst->server, src->server) && ok;
	ok = dup_or_null(&dst->backend, src->backend) && ok;
	ok = dup_or_null(&dst->addr, src->addr) && ok;
	ok = dup_or_null(&dst->port, src->port) && ok;
	ok = dup_or_null(&dst->peer, src->peer) && ok;
	ok = dup_or_null(&dst->stage, src->stage) && ok;
	return ok;
}

/* Frees what probe_setup made; handles are closed already (or never
 * opened). */
static void probe_free_mem(struct probe *p)
{
	probe_http_cleanup(p);
	free(p->url);
	free(p->url_safe);
	free(p->http_body);
	free(p->http_ca);
	free(p->tcp_host);
	free(p->tcp_port);
	free(p->tcp_label);
	if (p->exec_argv != NULL)
		hook_argv_free(p->exec_argv);
	vars_free(&p->vars);
	free(p);
}

static int nomem(struct cut_err *err)
{
	return cut_err_set(err, UV_ENOMEM, "probe", "out of memory");
}

static int setup_http(struct probe *p, const struct plan_probe *cfg,
		      struct cut_err *err)
{
	if (cfg->http_url == NULL || cfg->http_url[0] == '\0')
		return cut_err_set(err, CUT_EUSAGE, "probe",
				   "http probe without a url");
	p->url = hook_expand_str(cfg->http_url, &p->vars, err);
	if (p->url == NULL) {
		cut_err_prefix(err, "http probe url: ");
		return err != NULL ? err->code : UV_ENOMEM;
	}
	p->url_safe = probe_redact_url(p->url);
	if (p->url_safe == NULL)
		return nomem(err);
	p->http_expect = cfg->http_expect > 0 ? cfg->http_expect : 200;
	p->http_insecure = cfg->http_insecure;
	if (cfg->http_ca != NULL) {
		p->http_ca = strdup(cfg->http_ca);
		if (p->http_ca == NULL)
			return nomem(err);
	}
	if (cfg->http_body != NULL) {
		p->http_body = strdup(cfg->http_body);
		if (p->http_body == NULL)
			return nomem(err);
	}
	return probe_http_setup(p, err);
}

static int setup_tcp(struct probe *p, const struct plan_probe *cfg,
		     struct cut_err *err)
{
	const char *ht = cfg->tcp_host != NULL ? cfg->tcp_host : "{addr}";
	const char *pt = cfg->tcp_port != NULL ? cfg->tcp_port : "{port}";
	size_t n, lsz;
	char *h;

	p->tcp_host = hook_expand_str(ht, &p->vars, err);
	if (p->tcp_host != NULL)
		p->tcp_port = hook_expand_str(pt, &p->vars, err);
	if (p->tcp_host == NULL || p->tcp_port == NULL) {
		cut_err_prefix(err, "tcp probe: ");
		return err != NULL ? err->code : UV_ENOMEM;
	}
	h = p->tcp_host;
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {	/* "[::1]" */
		memmove(h, h + 1, n - 2);
		h[n - 2] = '\0';
	}
	if (h[0] == '\0' || p->tcp_port[0] == '\0')
		return cut_err_set(err, CUT_EUSAGE, "probe",
				   "tcp probe: empty host or port");
	lsz = strlen(h) + strlen(p->tcp_port) + 4;
	p->tcp_label = malloc(lsz);
	if (p->tcp_label == NULL)
		return nomem(err);
	snprintf(p->tcp_label, lsz, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s",
		 h, p->tcp_port);
	return 0;
}

/* Everything that can fail, before any handle exists. */
static int probe_setup(struct probe *p, const struct plan_probe *cfg,
		       const struct hook_vars *vars, struct cut_err *err)
{
	int rc;

	if (!vars_copy(&p->vars, vars))
		return nomem(err);
	p->check[PROBE_CHECK_HTTP] = cfg->http;
	p->check[PROBE_CHECK_TCP] = cfg->tcp;
	p->check[PROBE_CHECK_EXEC] = cfg->exec;
	p->rise = cfg->rise > 0 ? cfg->rise : 1;
	p->interval_ms = cfg->interval_ms;
	p->timeout_ms = cfg->timeout_ms;
	p->deadline_ms = cfg->deadline_ms;
	if (cfg->http) {
		rc = setup_http(p, cfg, err);
		if (rc != 0)
			return rc;
	}
	if (cfg->tcp) {
		rc = setup_tcp(p, cfg, err);
		if (rc != 0)
			return rc;
	}
	if (cfg->exec) {
		if (cfg->exec_argv.argc == 0)
			return cut_err_set(err, CUT_EUSAGE, "probe",
					   "exec probe without a command");
		p->exec_argv = hook_expand_argv(&cfg->exec_argv, &p->vars, err);
		if (p->exec_argv == NULL) {
			cut_err_prefix(err, "exec probe: ");
			return err != NULL ? err->code : UV_ENOMEM;
		}
	}
	return 0;
}

static void on_tick(uv_timer_t *t);
static void on_deadline(uv_timer_t *t);

struct probe *probe_start(struct probe_env *env, const struct plan_probe *cfg,
			  const struct hook_vars *vars, probe_fn *progress,
			  probe_fn *done, void *arg, struct cut_err *err)
{
	struct probe *p;

	if (env == NULL || cfg == NULL || done == NULL) {
		cut_err_set(err, CUT_EUSAGE, "probe", "probe_start: missing "
			    "env, settings or callback");
		return NULL;
	}
	if (env->freeing) {
		cut_err_set(err, CUT_ECANCELED, "probe", "shutting down");
		return NULL;
	}
	if (!cfg->http && !cfg->tcp && !cfg->exec) {
		cut_err_set(err, CUT_EUSAGE, "probe",
			    "no http, tcp or exec check to run");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		nomem(err);
		return NULL;
	}
	p->env = env;
	if (probe_setup(p, cfg, vars, err) != 0) {
		probe_free_mem(p);
		return NULL;
	}
	p->progress = progress;
	p->done = done;
	p->arg = arg;
	/* Nothing below fails. */
	uv_timer_init(env->loop, &p->tick);
	uv_timer_init(env->loop, &p->deadline);
	uv_timer_init(env->loop, &p->tcp.timer);
	p->refs = 3;
	p->next = env->probes;
	if (p->next != NULL)
		p->next->pprev = &p->next;
	p->pprev = &env->probes;
	env->probes = p;
	uv_timer_start(&p->tick, on_tick, 0, 0);	/* first try: now */
	if (p->deadline_ms > 0)
		uv_timer_start(&p->deadline, on_deadline, p->deadline_ms, 0);
	return p;
}

static void probe_unref(struct probe *p)
{
	struct probe_env *env = p->env;

	if (--p->refs > 0)
		return;
	*p->pprev = p->next;
	if (p->next != NULL)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
	LOG_DEBUG("probe %p: done: %s (%s)", (void *)p,
		  cut_strerror(p->status), p->final_reason);
	p->done(p, p->status, p->final_reason, p->arg);
	probe_free_mem(p);
	env_maybe_free(env);
}

static void on_tick_closed(uv_handle_t *h)
{
	probe_unref(container_of((uv_timer_t *)h, struct probe, tick));
}

static void on_deadline_closed(uv_handle_t *h)
{
	probe_unref(container_of((uv_timer_t *)h, struct probe, deadline));
}

static void on_tcp_timer_closed(uv_handle_t *h)
{
	probe_unref(container_of((uv_timer_t *)h, struct probe, tcp.timer));
}

/* The one exit. Runs once; done() follows from the last close. */
static void probe_finish(struct probe *p, int status, const char *reason)
{
	if (p->st == PROBE_ST_FINISHING)
		return;
	probe_set_state(p, PROBE_ST_FINISHING);
	p->status = status;
	snprintf(p->final_reason, sizeof(p->final_reason), "%s", reason);
	probe_http_abort(p);
	tcp_abort(p);
	exec_abort(p);
	uv_close((uv_handle_t *)&p->tick, on_tick_closed);
	uv_close((uv_handle_t *)&p->deadline, on_deadline_closed);
	uv_close((uv_handle_t *)&p->tcp.timer, on_tcp_timer_closed);
}

void probe_cancel(struct probe *p)
{
	if (p != NULL)
		probe_finish(p, CUT_ECANCELED, "cancelled");
}

/* ---- tries ----------------------------------------------------------- */

static void try_end(struct probe *p)
{
	char why[PROBE_REASON_MAX] = "";
	uint64_t elapsed, delay = 0;
	size_t used = 0;
	bool pass = true;
	int c;

	/* Every failed check, in a fixed order: "http 503; exec exit 1". */
	for (c = 0; c < PROBE_CHECK_COUNT; c++) {
		if (!p->check[c] || p->ok[c])
			continue;
		pass = false;
		if (used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used,
						 "%s%s", used > 0 ? "; " : "",
						 p->reason[c]);
	}
	if (pass) {
		p->passes++;
		snprintf(why, sizeof(why), "ok");
	} else {
		p->passes = 0;
		snprintf(p->last_fail, sizeof(p->last_fail), "%s", why);
	}
	probe_set_state(p, PROBE_ST_WAITING);
	if (p->progress != NULL)
		p->progress(p, pass ? 1 : 0, why, p->arg);
	if (p->st != PROBE_ST_WAITING)
		return;		/* cancelled from progress() */
	if (pass && p->passes >= p->rise) {
		probe_finish(p, 0, "ok");
		return;
	}
	/* Tries start every interval; one that ran over delays the next. */
	elapsed = uv_now(p->env->loop) - p->try_started;
	if (elapsed < p->interval_ms)
		delay = p->interval_ms - elapsed;
	uv_timer_start(&p->tick, on_tick, delay, 0);
}

static void try_release(struct probe *p)
{
	if (--p->try_pending == 0)
		try_end(p);
}

void probe_check_done(struct probe *p, enum probe_check c, bool ok,
		      const char *reason)
{
	if (p->st != PROBE_ST_TRYING)
		return;		/* an aborted try */
	LOG_DEBUG("probe %p: %s%s%s%s", (void *)p, ok ? check_names[c] : reason,
		  ok ? " ok" : "", c == PROBE_CHECK_HTTP ? " GET " : "",
		  c == PROBE_CHECK_HTTP ? p->url_safe : "");
	p->ok[c] = ok;
	if (!ok)
		snprintf(p->reason[c], sizeof(p->reason[c]), "%s", reason);
	try_release(p);
}

static void on_tick(uv_timer_t *t)
{
	struct probe *p = container_of(t, struct probe, tick);
	int c;

	probe_set_state(p, PROBE_ST_TRYING);
	p->try_started = uv_now(p->env->loop);
	p->tries++;
	/* Hold one count while starting, so a check that answers at once
	 * cannot end the try before the others have started. */
	p->try_pending = 1;
	for (c = 0; c < PROBE_CHECK_COUNT; c++) {
		p->ok[c] = true;
		p->reason[c][0] = '\0';
		if (p->check[c])
			p->try_pending++;
	}
	if (p->check[PROBE_CHECK_HTTP])
		probe_http_start(p);
	if (p->check[PROBE_CHECK_TCP])
		tcp_start(p);
	if (p->check[PROBE_CHECK_EXEC])
		exec_start(p);
	try_release(p);
}

static void on_deadline(uv_timer_t *t)
{
	struct probe *p = container_of(t, struct probe, deadline);
	char why[PROBE_REASON_MAX];

	if (p->last_fail[0] != '\0')
		snprintf(why, sizeof(why), "%s", p->last_fail);
	else if (p->passes > 0)
		snprintf(why, sizeof(why), "%u of %u passing tries before the "
			 "deadline", p->passes, p->rise);
	else
		snprintf(why, sizeof(why), "no try finished before the "
			 "deadline (%llu ms)",
			 (unsigned long long)p->deadline_ms);
	probe_finish(p, CUT_ETIMEOUT, why);
}

/* ---- tcp check ------------------------------------------------------- */

/* Single exit of a tcp check: the handle is closed (or was never open). */
static void tcp_report(struct probe *p, int rc)
{
	struct probe_tcp *t = &p->tcp;
	char why[PROBE_REASON_MAX] = "";

	uv_timer_stop(&t->timer);
	t->st = PROBE_TCP_IDLE;
	if (t->timed_out)
		snprintf(why, sizeof(why), "tcp %s: timed out after %llu ms",
			 p->tcp_label, (unsigned long long)p->timeout_ms);
	else if (rc != 0)
		snprintf(why, sizeof(why), "tcp %s: %s", p->tcp_label,
			 uv_strerror(rc));
	probe_check_done(p, PROBE_CHECK_TCP, rc == 0 && !t->timed_out, why);
}

static void tcp_connect_next(struct probe *p);

static void on_tcp_closed(uv_handle_t *h)
{
	struct probe *p = container_of((uv_tcp_t *)h, struct probe,
				       tcp.handle);
	struct probe_tcp *t = &p->tcp;

	t->st = PROBE_TCP_IDLE;
	if (p->st == PROBE_ST_FINISHING) {
		probe_unref(p);
		return;
	}
	p->refs--;	/* never the last: the timers are open */
	if (t->err != 0 && !t->timed_out && t->next < t->naddr)
		tcp_connect_next(p);
	else
		tcp_report(p, t->err);
}

static void tcp_close(struct probe *p)
{
	p->tcp.st = PROBE_TCP_CLOSING;
	uv_close((uv_handle_t *)&p->tcp.handle, on_tcp_closed);
}

static void on_connected(uv_connect_t *req, int status)
{
	struct probe *p = container_of(req, struct probe, tcp.req);

	if (p->tcp.st != PROBE_TCP_CONNECTING)
		return;		/* closed under it: UV_ECANCELED */
	p->tcp.err = status;
	tcp_close(p);
}

static void tcp_connect_next(struct probe *p)
{
	struct probe_tcp *t = &p->tcp;
	int rc;

	rc = uv_tcp_init(p->env->loop, &t->handle);
	if (rc != 0) {
		tcp_report(p, rc);
		return;
	}
	p->refs++;
	t->st = PROBE_TCP_CONNECTING;
	rc = uv_tcp_connect(&t->req, &t->handle,
			    (const struct sockaddr *)&t->addrs[t->next++],
			    on_connected);
	if (rc != 0) {
		t->err = rc;
		tcp_close(p);
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
			struct addrinfo *res)
{
	struct tcp_resolve *r = container_of(req, struct tcp_resolve, req);
	struct probe *p = r->p;
	struct probe_tcp *t;
	struct addrinfo *ai;

	free(r);
	if (p == NULL) {		/* abandoned: timed out or finished */
		uv_freeaddrinfo(res);
		return;
	}
	t = &p->tcp;
	t->resolve = NULL;
	if (status != 0) {
		tcp_report(p, status);
		return;
	}
	t->naddr = 0;
	for (ai = res; ai != NULL && t->naddr < PROBE_TCP_ADDRS;
	     ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(t->addrs[0]))
			continue;
		memcpy(&t->addrs[t->naddr++], ai->ai_addr, ai->ai_addrlen);
	}
	uv_freeaddrinfo(res);
	if (t->naddr == 0) {
		tcp_report(p, UV_EAI_NONAME);
		return;
	}
	tcp_connect_next(p);
}

static void tcp_abandon_resolve(struct probe *p)
{
	struct tcp_resolve *r = p->tcp.resolve;

	if (r == NULL)
		return;
	r->p = NULL;
	p->tcp.resolve = NULL;
	uv_cancel((uv_req_t *)&r->req);	/* callback runs either way */
}

static void on_tcp_timeout(uv_timer_t *tm)
{
	struct probe *p = container_of(tm, struct probe, tcp.timer);
	struct probe_tcp *t = &p->tcp;

	if (t->st == PROBE_TCP_RESOLVING) {
		t->timed_out = true;
		tcp_abandon_resolve(p);
		tcp_report(p, UV_ETIMEDOUT);
	} else if (t->st == PROBE_TCP_CONNECTING) {
		t->timed_out = true;
		tcp_close(p);
	}
}

/* A numeric address needs no lookup (and no threadpool). */
static bool tcp_numeric(struct probe *p)
{
	struct probe_tcp *t = &p->tcp;
	char *end;
	long port = strtol(p->tcp_port, &end, 10);

	if (*end != '\0' || port < 0 || port > 65535)
		return false;
	if (uv_ip4_addr(p->tcp_host, (int)port,
			(struct sockaddr_in *)&t->addrs[0]) != 0 &&
	    uv_ip6_addr(p->tcp_host, (int)port,
			(struct sockaddr_in6 *)&t->addrs[0]) != 0)
		return false;
	t->naddr = 1;
	return true;
}

static void tcp_start(struct probe *p)
{
	struct probe_tcp *t = &p->tcp;
	struct tcp_resolve *r;
	struct addrinfo hints;
	int rc;

	t->err = 0;
	t->timed_out = false;
	t->naddr = 0;
	t->next = 0;
	if (p->timeout_ms > 0)
		uv_timer_start(&t->timer, on_tcp_timeout, p->timeout_ms, 0);
	if (tcp_numeric(p)) {
		tcp_connect_next(p);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		tcp_report(p, UV_ENOMEM);
		return;
	}
	r->p = p;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = uv_getaddrinfo(p->env->loop, &r->req, on_resolved, p->tcp_host,
			    p->tcp_port, &hints);
	if (rc != 0) {
		free(r);
		tcp_report(p, rc);
		return;
	}
	t->resolve = r;
	t->st = PROBE_TCP_RESOLVING;
}

static void tcp_abort(struct probe *p)
{
	switch (p->tcp.st) {
	case PROBE_TCP_RESOLVING:
		tcp_abandon_resolve(p);
		p->tcp.st = PROBE_TCP_IDLE;
		break;
	case PROBE_TCP_CONNECTING:
		tcp_close(p);	/* on_tcp_closed drops the ref */
		break;
	case PROBE_TCP_IDLE:
	case PROBE_TCP_CLOSING:
	case PROBE_TCP_STATE_COUNT:
		break;
	}
}

/* ---- exec check ------------------------------------------------------ */

/* The last line the check wrote goes into the reason of a failure
 * ("exec exit 1: node2 is not in the cluster"): its last line on stderr,
 * or on stdout if it wrote nothing to stderr. */
static void on_exec_line(struct hook *h, enum hook_stream s, const char *line,
			 size_t len, void *arg)
{
	struct probe *p = arg;

	LOG_DEBUG("probe %p: exec %s %s: %.*s", (void *)p, p->exec_argv[0],
		  s == HOOK_STDOUT ? "stdout" : "stderr", (int)len, line);
	if (len == 0 || (s == HOOK_STDOUT && p->exec_said_err))
		return;
	snprintf(p->exec_said, sizeof(p->exec_said), "%.*s", (int)len, line);
	p->exec_said_err = s == HOOK_STDERR;
}

static void on_exec_done(struct hook *h, int status, int64_t exit_code,
			 int term_signal, void *arg)
{
	struct probe *p = arg;
	char why[PROBE_REASON_MAX];

	p->hook = NULL;
	if (p->st == PROBE_ST_FINISHING) {
		probe_unref(p);
		return;
	}
	p->refs--;	/* never the last: the timers are open */
	if (status == 0)
		why[0] = '\0';
	else if (status == CUT_ETIMEOUT)
		snprintf(why, sizeof(why), "exec timed out");
	else if (status == CUT_EHOOK && term_signal != 0)
		snprintf(why, sizeof(why), "exec killed by signal %d",
			 term_signal);
	else if (status == CUT_EHOOK)
		snprintf(why, sizeof(why), "exec exit %lld%s%s",
			 (long long)exit_code, p->exec_said[0] ? ": " : "",
			 p->exec_said);
	else
		snprintf(why, sizeof(why), "exec: %s", cut_strerror(status));
	probe_check_done(p, PROBE_CHECK_EXEC, status == 0, why);
}

static void exec_start(struct probe *p)
{
	struct hook_opts o;
	struct cut_err e;
	char why[PROBE_REASON_MAX];

	memset(&o, 0, sizeof(o));
	o.timeout_ms = p->timeout_ms;
	o.kill_grace_ms = PROBE_EXEC_GRACE_MS;
	o.vars = &p->vars;
	o.on_line = on_exec_line;
	o.line_arg = p;
	p->exec_said[0] = '\0';
	p->exec_said_err = false;
	cut_err_clear(&e);
	p->hook = hook_run(p->env->loop, p->exec_argv, &o, on_exec_done, p, &e);
	if (p->hook == NULL) {
		snprintf(why, sizeof(why), "exec: %s",
			 e.msg[0] != '\0' ? e.msg : cut_strerror(e.code));
		probe_check_done(p, PROBE_CHECK_EXEC, false, why);
		return;
	}
	p->refs++;
}

/* The child is killed now; done() waits for on_exec_done. */
static void exec_abort(struct probe *p)
{
	if (p->hook != NULL)
		hook_kill_now(p->hook);
}
