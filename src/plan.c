/* plan.c - the rollout plan: a YAML file (composed by plan_yaml.c from
 * libyaml events) checked key by key against the schema of plan.h into an
 * immutable struct plan. The first mistake stops the load and is reported
 * as "FILE:LINE:COLUMN: what is wrong", pointing at the offending node
 * (at the enclosing mapping for a missing key). The switch: section
 * (blue/green) is read by plan_switch.c. The reference for operators is
 * docs/plan.md.
 */
#include "plan.h"
#include "master.h"
#include "plan_int.h"
#include "plan_yaml.h"
#include "rtapi.h"
#include "strutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define PLAN_FILE_MAX (1024 * 1024)
#define NAME_MAX_LEN 127	/* HAProxy's limit on proxy/server names */

/* ---- enum names ------------------------------------------------------ */

static const char *const hook_stage_names[PLAN_HOOK_STAGE_COUNT] = {
	[PLAN_HOOK_BEFORE_DRAIN] = "before_drain",
	[PLAN_HOOK_AFTER_DRAIN] = "after_drain",
	[PLAN_HOOK_UPGRADE] = "upgrade",
	[PLAN_HOOK_BEFORE_ENABLE] = "before_enable",
	[PLAN_HOOK_AFTER_ENABLE] = "after_enable",
	[PLAN_HOOK_ON_FAILURE] = "on_failure",
	[PLAN_HOOK_BEFORE_SWITCH] = "before_switch",
	[PLAN_HOOK_AFTER_SWITCH] = "after_switch",
	[PLAN_HOOK_RETIRE] = "retire",
	[PLAN_HOOK_ON_ROLLBACK] = "on_rollback",
};

static const char *const strategy_names[PLAN_STRATEGY_COUNT] = {
	[PLAN_STRATEGY_DRAIN] = "drain",
	[PLAN_STRATEGY_IN_PLACE] = "in-place",
};

static const char *const on_timeout_names[PLAN_ON_TIMEOUT_COUNT] = {
	[PLAN_ON_TIMEOUT_FAIL] = "fail",
	[PLAN_ON_TIMEOUT_PROCEED] = "proceed",
	[PLAN_ON_TIMEOUT_KILL] = "kill",
	[PLAN_ON_TIMEOUT_SHED] = "shed",
};

const char *plan_hook_stage_name(enum plan_hook_stage s)
{
	return (unsigned)s < PLAN_HOOK_STAGE_COUNT ? hook_stage_names[s] : "?";
}

const char *plan_strategy_name(enum plan_strategy s)
{
	return (unsigned)s < PLAN_STRATEGY_COUNT ? strategy_names[s] : "?";
}

const char *plan_on_timeout_name(enum plan_on_timeout t)
{
	return (unsigned)t < PLAN_ON_TIMEOUT_COUNT ? on_timeout_names[t] : "?";
}

/* ---- keys of each mapping -------------------------------------------- */

enum top_key {
	TOP_K_LBS = 0, TOP_K_BACKEND, TOP_K_SERVERS, TOP_K_STRATEGY,
	TOP_K_ROLLING, TOP_K_DRAIN, TOP_K_HOOKS, TOP_K_PROBE, TOP_K_WATCH,
	TOP_K_SWITCH,
	TOP_K_COUNT	/* keep last */
};
static const char *const top_keys[TOP_K_COUNT] = {
	[TOP_K_LBS] = "load_balancers", [TOP_K_BACKEND] = "backend",
	[TOP_K_SERVERS] = "servers", [TOP_K_STRATEGY] = "strategy",
	[TOP_K_ROLLING] = "rolling", [TOP_K_DRAIN] = "drain",
	[TOP_K_HOOKS] = "hooks", [TOP_K_PROBE] = "probe",
	[TOP_K_WATCH] = "watch", [TOP_K_SWITCH] = "switch",
};

enum rolling_key {
	ROLL_K_BATCH = 0, ROLL_K_MIN_SERVING, ROLL_K_PAUSE,
	ROLL_K_COUNT	/* keep last */
};
static const char *const rolling_keys[ROLL_K_COUNT] = {
	[ROLL_K_BATCH] = "batch", [ROLL_K_MIN_SERVING] = "min_serving",
	[ROLL_K_PAUSE] = "pause",
};

enum drain_key {
	DRAIN_K_TIMEOUT = 0, DRAIN_K_ON_TIMEOUT, DRAIN_K_SHED_RATE,
	DRAIN_K_COUNT	/* keep last */
};
static const char *const drain_keys[DRAIN_K_COUNT] = {
	[DRAIN_K_TIMEOUT] = "timeout", [DRAIN_K_ON_TIMEOUT] = "on_timeout",
	[DRAIN_K_SHED_RATE] = "shed_rate",
};

/* The stage keys follow enum plan_hook_stage, from HOOKS_K_STAGE. */
enum hooks_key {
	HOOKS_K_TIMEOUT = 0, HOOKS_K_KILL_GRACE, HOOKS_K_STAGE,
	HOOKS_K_COUNT = HOOKS_K_STAGE + PLAN_HOOK_STAGE_COUNT	/* keep last */
};
static const char *const hooks_keys[HOOKS_K_COUNT] = {
	[HOOKS_K_TIMEOUT] = "timeout", [HOOKS_K_KILL_GRACE] = "kill_grace",
	[HOOKS_K_STAGE + PLAN_HOOK_BEFORE_DRAIN] = "before_drain",
	[HOOKS_K_STAGE + PLAN_HOOK_AFTER_DRAIN] = "after_drain",
	[HOOKS_K_STAGE + PLAN_HOOK_UPGRADE] = "upgrade",
	[HOOKS_K_STAGE + PLAN_HOOK_BEFORE_ENABLE] = "before_enable",
	[HOOKS_K_STAGE + PLAN_HOOK_AFTER_ENABLE] = "after_enable",
	[HOOKS_K_STAGE + PLAN_HOOK_ON_FAILURE] = "on_failure",
	[HOOKS_K_STAGE + PLAN_HOOK_BEFORE_SWITCH] = "before_switch",
	[HOOKS_K_STAGE + PLAN_HOOK_AFTER_SWITCH] = "after_switch",
	[HOOKS_K_STAGE + PLAN_HOOK_RETIRE] = "retire",
	[HOOKS_K_STAGE + PLAN_HOOK_ON_ROLLBACK] = "on_rollback",
};

enum probe_key {
	PROBE_K_HTTP = 0, PROBE_K_TCP, PROBE_K_EXEC, PROBE_K_HAPROXY,
	PROBE_K_RISE, PROBE_K_INTERVAL, PROBE_K_TIMEOUT, PROBE_K_DEADLINE,
	PROBE_K_COUNT	/* keep last */
};
static const char *const probe_keys[PROBE_K_COUNT] = {
	[PROBE_K_HTTP] = "http", [PROBE_K_TCP] = "tcp",
	[PROBE_K_EXEC] = "exec", [PROBE_K_HAPROXY] = "haproxy",
	[PROBE_K_RISE] = "rise", [PROBE_K_INTERVAL] = "interval",
	[PROBE_K_TIMEOUT] = "timeout", [PROBE_K_DEADLINE] = "deadline",
};

enum http_key {
	HTTP_K_URL = 0, HTTP_K_EXPECT, HTTP_K_BODY, HTTP_K_INSECURE, HTTP_K_CA,
	HTTP_K_COUNT	/* keep last */
};
static const char *const http_keys[HTTP_K_COUNT] = {
	[HTTP_K_URL] = "url", [HTTP_K_EXPECT] = "expect",
	[HTTP_K_BODY] = "body", [HTTP_K_INSECURE] = "insecure",
	[HTTP_K_CA] = "ca",
};

enum tcp_key {
	TCP_K_HOST = 0, TCP_K_PORT,
	TCP_K_COUNT	/* keep last */
};
static const char *const tcp_keys[TCP_K_COUNT] = {
	[TCP_K_HOST] = "host", [TCP_K_PORT] = "port",
};

enum watch_key {
	WATCH_K_FOR = 0, WATCH_K_INTERVAL, WATCH_K_MAX_5XX, WATCH_K_MAX_ERRORS,
	WATCH_K_MAX_CHECK_FAILS,
	WATCH_K_COUNT	/* keep last */
};
static const char *const watch_keys[WATCH_K_COUNT] = {
	[WATCH_K_FOR] = "for", [WATCH_K_INTERVAL] = "interval",
	[WATCH_K_MAX_5XX] = "max_5xx", [WATCH_K_MAX_ERRORS] = "max_errors",
	[WATCH_K_MAX_CHECK_FAILS] = "max_check_fails",
};

/* ---- values ----------------------------------------------------------- */

/* A strict non-negative decimal number ("0.5", "50"; no sign, no inf),
 * followed by `suffix` when it is not NULL ("50/s", "1%"). */
static int parse_number(const char *s, const char *suffix, double *out)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return CUT_EUSAGE;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v) ||
	    strcmp(end, suffix != NULL ? suffix : "") != 0)
		return CUT_EUSAGE;
	*out = v;
	return 0;
}

bool plan_name_ok(const char *s, bool glob)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("_.:-", ch) != NULL ||
		      (glob && strchr("*?[]!^", ch) != NULL)))
			return false;
	}
	return true;
}

/* ---- sections --------------------------------------------------------- */

#define LB_WHAT "unix:PATH, tcp:HOST:PORT or /PATH"

/* A list of addresses, or one address alone. */
static int parse_lbs(const struct plan_yctx *y, struct plan *p,
		     const struct plan_ynode *n)
{
	size_t i, count = n->kind == PLAN_YNODE_SEQ ? n->n : 1;

	if (n->kind != PLAN_YNODE_SEQ && !plan_yaml_is_str(n))
		return plan_yaml_expected(y, n, "load_balancers",
					  "a list of " LB_WHAT);
	p->lbs = calloc(count > 0 ? count : 1, sizeof(*p->lbs));
	if (p->lbs == NULL)
		return plan_yaml_oom(y);
	p->nlb = count;
	p->lbs_line = n->line;
	for (i = 0; i < count; i++) {
		const struct plan_ynode *one = n;
		struct lb_spec spec;
		struct cut_err sub = { 0 };
		char path[64], got[80];
		int rc;

		snprintf(path, sizeof(path), "load_balancers");
		if (n->kind == PLAN_YNODE_SEQ) {
			one = n->kids[i];
			snprintf(path, sizeof(path), "load_balancers[%zu]", i);
		}
		rc = plan_yaml_scalar(y, one, path, LB_WHAT);
		if (rc != 0)
			return rc;
		if (strncmp(one->text, "unix:", 5) != 0 &&
		    strncmp(one->text, "tcp:", 4) != 0 && one->text[0] != '/')
			return plan_yaml_expected(y, one, path, LB_WHAT);
		if (lb_spec_parse(one->text, &spec, &sub) != 0)
			return plan_yaml_node_err(y, one, "%s: %s, in %s", path,
						  sub.msg,
						  plan_yaml_describe(one, got,
								     sizeof(got)));
		rc = plan_yaml_get_str(y, one, path, LB_WHAT, &p->lbs[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int parse_backend(const struct plan_yctx *y, struct plan *p,
			 const struct plan_ynode *n)
{
	if (!plan_yaml_is_str(n) || !plan_name_ok(n->text, false))
		return plan_yaml_expected(y, n, "backend", PLAN_NAME_WHAT);
	return plan_yaml_get_str(y, n, "backend", PLAN_NAME_WHAT, &p->backend);
}

static int cmp_name_index(const void *a, const void *b, void *arg)
{
	char *const *names = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int r = strcmp(names[ia], names[ib]);

	if (r != 0)
		return r;
	return ia < ib ? -1 : ia > ib;
}

/* Sorting (name, index) pairs puts each name's first use at the start of
 * its run and its first repeat right after; a list may be long, so no
 * comparing every pair. */
int plan_find_duplicate(char **names, size_t n, size_t *dup, size_t *orig)
{
	size_t *idx, i;

	*dup = n;
	idx = malloc((n > 0 ? n : 1) * sizeof(*idx));
	if (idx == NULL)
		return UV_ENOMEM;
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_name_index, names);
	for (i = 1; i < n; i++) {
		bool run_start = i == 1 ||
			strcmp(names[idx[i - 2]], names[idx[i - 1]]) != 0;

		if (run_start && idx[i] < *dup &&
		    strcmp(names[idx[i - 1]], names[idx[i]]) == 0) {
			*dup = idx[i];
			*orig = idx[i - 1];
		}
	}
	free(idx);
	return 0;
}

#define SERVERS_WHAT "all, a server name, a list of names or a glob like web*"

/* all | [names] | "glob" | one name (a one-element list). */
static int parse_servers(const struct plan_yctx *y, struct plan *p,
			 const struct plan_ynode *n)
{
	const struct plan_ynode *item = n;
	size_t i, count = n->kind == PLAN_YNODE_SEQ ? n->n : 1, dup, orig = 0;
	char path[64];
	int rc;

	p->servers_line = n->line;
	p->servers_col = n->col;
	if (plan_yaml_is_str(n) && strcmp(n->text, "all") == 0)
		return 0;
	if (plan_yaml_is_str(n) && strpbrk(n->text, "*?[") != NULL &&
	    plan_name_ok(n->text, true)) {
		p->servers_kind = PLAN_SERVERS_PATTERN;
		return plan_yaml_get_str(y, n, "servers", "", &p->pattern);
	}
	if (n->kind != PLAN_YNODE_SEQ &&
	    !(plan_yaml_is_str(n) && plan_name_ok(n->text, false)))
		return plan_yaml_expected(y, n, "servers", SERVERS_WHAT);
	if (count == 0)
		return plan_yaml_node_err(y, n, "servers: the list is empty "
					  "(write all, or leave servers out, "
					  "for every server)");
	p->servers_kind = PLAN_SERVERS_LIST;
	p->servers = calloc(count, sizeof(*p->servers));
	p->server_pos = calloc(2 * count, sizeof(*p->server_pos));
	if (p->servers == NULL || p->server_pos == NULL)
		return plan_yaml_oom(y);
	p->nservers = count;
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "servers");
		if (n->kind == PLAN_YNODE_SEQ) {
			item = n->kids[i];
			snprintf(path, sizeof(path), "servers[%zu]", i);
		}
		if (!plan_yaml_is_str(item) || !plan_name_ok(item->text, false))
			return plan_yaml_expected(y, item, path,
						  PLAN_NAME_WHAT);
		rc = plan_yaml_get_str(y, item, path, "", &p->servers[i]);
		if (rc != 0)
			return rc;
		p->server_pos[2 * i] = item->line;
		p->server_pos[2 * i + 1] = item->col;
	}
	if (plan_find_duplicate(p->servers, count, &dup, &orig) != 0)
		return plan_yaml_oom(y);
	if (dup < count)
		return plan_yaml_node_err(y, n->kids[dup], "servers[%zu]: "
					  "duplicate server '%s' (first at "
					  "%d:%d)", dup, p->servers[dup],
					  n->kids[orig]->line,
					  n->kids[orig]->col);
	return 0;
}

static int parse_rolling(const struct plan_yctx *y, struct plan *p,
			 const struct plan_ynode *n)
{
	const struct plan_ynode *v[ROLL_K_COUNT];
	int rc;

	rc = plan_yaml_map(y, n, "rolling", rolling_keys, ROLL_K_COUNT, v);
	if (rc == 0 && v[ROLL_K_BATCH] != NULL)
		rc = plan_yaml_get_uint(y, v[ROLL_K_BATCH], "rolling.batch",
					1, &p->batch);
	if (rc == 0 && v[ROLL_K_MIN_SERVING] != NULL)
		rc = plan_yaml_get_uint(y, v[ROLL_K_MIN_SERVING],
					"rolling.min_serving", 0,
					&p->min_serving);
	if (rc == 0 && v[ROLL_K_PAUSE] != NULL)
		rc = plan_yaml_get_duration(y, v[ROLL_K_PAUSE],
					    "rolling.pause", false,
					    &p->pause_ms);
	return rc;
}

#define RATE_WHAT "a rate above 0 like 50/s"

static int parse_drain(const struct plan_yctx *y, struct plan *p,
		       const struct plan_ynode *n)
{
	const struct plan_ynode *v[DRAIN_K_COUNT], *r;
	unsigned e;
	int rc;

	rc = plan_yaml_map(y, n, "drain", drain_keys, DRAIN_K_COUNT, v);
	if (rc == 0 && v[DRAIN_K_TIMEOUT] != NULL)
		rc = plan_yaml_get_duration(y, v[DRAIN_K_TIMEOUT],
					    "drain.timeout", false,
					    &p->drain_timeout_ms);
	if (rc == 0 && v[DRAIN_K_ON_TIMEOUT] != NULL) {
		rc = plan_yaml_get_enum(y, v[DRAIN_K_ON_TIMEOUT],
					"drain.on_timeout", on_timeout_names,
					PLAN_ON_TIMEOUT_COUNT, &e);
		if (rc == 0)
			p->on_timeout = (enum plan_on_timeout)e;
	}
	r = v[DRAIN_K_SHED_RATE];
	if (rc == 0 && r != NULL &&
	    (!plan_yaml_is_str(r) ||
	     (parse_number(r->text, "/s", &p->shed_rate) != 0 &&
	      parse_number(r->text, NULL, &p->shed_rate) != 0) ||
	     !(p->shed_rate > 0)))
		rc = plan_yaml_expected(y, r, "drain.shed_rate", RATE_WHAT);
	if (rc == 0 && p->on_timeout == PLAN_ON_TIMEOUT_SHED && r == NULL)
		rc = plan_yaml_node_err(y, v[DRAIN_K_ON_TIMEOUT],
					"drain.on_timeout: shed needs "
					"drain.shed_rate (e.g. shed_rate: "
					"50/s)");
	return rc;
}

#define ARGV_WHAT "a command as a list like [prog, arg] (no shell is " \
		  "involved)"
#define HOOK_WHAT "a command as a list like [prog, arg] or a list of " \
		  "commands (no shell is involved)"

static int parse_argv(const struct plan_yctx *y, const struct plan_ynode *n,
		      const char *path, struct plan_argv *a)
{
	char ipath[96];
	size_t i;
	int rc;

	if (n->kind != PLAN_YNODE_SEQ)
		return plan_yaml_expected(y, n, path, ARGV_WHAT);
	if (n->n == 0)
		return plan_yaml_node_err(y, n, "%s: empty command (it needs "
					  "at least the program)", path);
	a->line = n->line;
	a->col = n->col;
	a->argv = calloc(n->n + 1, sizeof(*a->argv));
	if (a->argv == NULL)
		return plan_yaml_oom(y);
	a->argc = n->n;
	for (i = 0; i < n->n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		rc = plan_yaml_get_template(y, n->kids[i], ipath, "a string",
					    &a->argv[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* One argv ([prog, arg]) or a list of them ([[prog, arg], [prog]]). */
static int parse_hook(const struct plan_yctx *y, const struct plan_ynode *n,
		      const char *path, struct plan_hook *h)
{
	bool one = n->kind != PLAN_YNODE_SEQ || n->n == 0 ||
		   n->kids[0]->kind != PLAN_YNODE_SEQ;
	char ipath[64];
	size_t i;
	int rc;

	if (n->kind != PLAN_YNODE_SEQ)
		return plan_yaml_expected(y, n, path, HOOK_WHAT);
	h->cmds = calloc(one ? 1 : n->n, sizeof(*h->cmds));
	if (h->cmds == NULL)
		return plan_yaml_oom(y);
	h->n = one ? 1 : n->n;
	if (one)
		return parse_argv(y, n, path, &h->cmds[0]);
	for (i = 0; i < n->n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		rc = parse_argv(y, n->kids[i], ipath, &h->cmds[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int parse_hooks(const struct plan_yctx *y, struct plan *p,
		       const struct plan_ynode *n)
{
	const struct plan_ynode *v[HOOKS_K_COUNT];
	char path[64];
	size_t s;
	int rc;

	rc = plan_yaml_map(y, n, "hooks", hooks_keys, HOOKS_K_COUNT, v);
	if (rc == 0 && v[HOOKS_K_TIMEOUT] != NULL)
		rc = plan_yaml_get_duration(y, v[HOOKS_K_TIMEOUT],
					    "hooks.timeout", true,
					    &p->hook_timeout_ms);
	if (rc == 0 && v[HOOKS_K_KILL_GRACE] != NULL)
		rc = plan_yaml_get_duration(y, v[HOOKS_K_KILL_GRACE],
					    "hooks.kill_grace", false,
					    &p->hook_kill_grace_ms);
	for (s = 0; rc == 0 && s < PLAN_HOOK_STAGE_COUNT; s++) {
		if (v[HOOKS_K_STAGE + s] == NULL)
			continue;
		snprintf(path, sizeof(path), "hooks.%s", hook_stage_names[s]);
		rc = parse_hook(y, v[HOOKS_K_STAGE + s], path, &p->hooks[s]);
	}
	return rc;
}

static int parse_http(const struct plan_yctx *y, struct plan_probe *pr,
		      const struct plan_ynode *n)
{
	const struct plan_ynode *v[HTTP_K_COUNT], *u;
	int rc;

	rc = plan_yaml_map(y, n, "probe.http", http_keys, HTTP_K_COUNT, v);
	if (rc != 0)
		return rc;
	u = v[HTTP_K_URL];
	if (u == NULL)
		return plan_yaml_missing(y, n, "probe.http", "url");
	if (!plan_yaml_is_str(u) || (strncmp(u->text, "http://", 7) != 0 &&
				     strncmp(u->text, "https://", 8) != 0))
		return plan_yaml_expected(y, u, "probe.http.url", "a URL "
					  "starting with http:// or https://");
	rc = plan_yaml_get_template(y, u, "probe.http.url", "a URL",
				    &pr->http_url);
	if (rc == 0 && v[HTTP_K_EXPECT] != NULL)
		rc = plan_yaml_get_long(y, v[HTTP_K_EXPECT],
					"probe.http.expect", 100, 599,
					"an HTTP status from 100 to 599",
					&pr->http_expect);
	if (rc == 0 && v[HTTP_K_BODY] != NULL)
		rc = plan_yaml_get_str(y, v[HTTP_K_BODY], "probe.http.body",
				       "a string", &pr->http_body);
	if (rc == 0 && v[HTTP_K_INSECURE] != NULL)
		rc = plan_yaml_get_bool(y, v[HTTP_K_INSECURE],
					"probe.http.insecure",
					&pr->http_insecure);
	if (rc == 0 && v[HTTP_K_CA] != NULL) {
		rc = plan_yaml_get_str(y, v[HTTP_K_CA], "probe.http.ca",
				       "a file of CA certificates (PEM)",
				       &pr->http_ca);
		/* Checked now, so a typo stops the run before any drain
		 * rather than failing every probe after the upgrade. */
		if (rc == 0 && access(pr->http_ca, R_OK) != 0)
			rc = plan_yaml_node_err(y, v[HTTP_K_CA],
						"probe.http.ca: cannot read "
						"'%s': %s", pr->http_ca,
						strerror(errno));
	}
	pr->http = rc == 0;
	return rc;
}

#define PORT_WHAT "a port (1-65535) or a placeholder like {port}"

/* tcp: true (defaults), false, or { host, port }. */
static int parse_tcp(const struct plan_yctx *y, struct plan_probe *pr,
		     const struct plan_ynode *n)
{
	const struct plan_ynode *v[TCP_K_COUNT] = { NULL };
	long port;
	int rc = 0;

	if (n->kind == PLAN_YNODE_MAP)
		rc = plan_yaml_map(y, n, "probe.tcp", tcp_keys, TCP_K_COUNT, v);
	else if (n->kind != PLAN_YNODE_SCALAR ||
		 plan_yaml_get_bool(y, n, "probe.tcp", &pr->tcp) != 0)
		return plan_yaml_expected(y, n, "probe.tcp",
					  "true or a mapping { host, port }");
	if (rc != 0 || (n->kind == PLAN_YNODE_SCALAR && !pr->tcp))
		return rc;
	pr->tcp = true;
	if (v[TCP_K_HOST] != NULL && v[TCP_K_HOST]->len == 0) {
		rc = plan_yaml_expected(y, v[TCP_K_HOST], "probe.tcp.host",
					"a host name");
	} else if (v[TCP_K_HOST] != NULL) {
		rc = plan_yaml_get_template(y, v[TCP_K_HOST], "probe.tcp.host",
					    "a host name", &pr->tcp_host);
	} else {
		pr->tcp_host = strdup("{addr}");
		rc = pr->tcp_host == NULL ? plan_yaml_oom(y) : 0;
	}
	if (rc != 0)
		return rc;
	if (v[TCP_K_PORT] == NULL) {
		pr->tcp_port = strdup("{port}");
		return pr->tcp_port == NULL ? plan_yaml_oom(y) : 0;
	}
	if (plan_yaml_is_str(v[TCP_K_PORT]) &&
	    strchr(v[TCP_K_PORT]->text, '{') == NULL &&
	    str_parse_long(v[TCP_K_PORT]->text, 1, 65535, &port) != 0)
		return plan_yaml_expected(y, v[TCP_K_PORT], "probe.tcp.port",
					  PORT_WHAT);
	return plan_yaml_get_template(y, v[TCP_K_PORT], "probe.tcp.port",
				      PORT_WHAT, &pr->tcp_port);
}

static int parse_probe(const struct plan_yctx *y, struct plan_probe *pr,
		       const struct plan_ynode *n)
{
	const struct plan_ynode *v[PROBE_K_COUNT];
	int rc;

	rc = plan_yaml_map(y, n, "probe", probe_keys, PROBE_K_COUNT, v);
	if (rc == 0 && v[PROBE_K_HTTP] != NULL)
		rc = parse_http(y, pr, v[PROBE_K_HTTP]);
	if (rc == 0 && v[PROBE_K_TCP] != NULL)
		rc = parse_tcp(y, pr, v[PROBE_K_TCP]);
	if (rc == 0 && v[PROBE_K_EXEC] != NULL) {
		rc = parse_argv(y, v[PROBE_K_EXEC], "probe.exec",
				&pr->exec_argv);
		pr->exec = rc == 0;
	}
	if (rc == 0 && v[PROBE_K_HAPROXY] != NULL)
		rc = plan_yaml_get_bool(y, v[PROBE_K_HAPROXY], "probe.haproxy",
					&pr->haproxy);
	if (rc == 0 && v[PROBE_K_RISE] != NULL)
		rc = plan_yaml_get_uint(y, v[PROBE_K_RISE], "probe.rise", 1,
					&pr->rise);
	if (rc == 0 && v[PROBE_K_INTERVAL] != NULL)
		rc = plan_yaml_get_duration(y, v[PROBE_K_INTERVAL],
					    "probe.interval", true,
					    &pr->interval_ms);
	if (rc == 0 && v[PROBE_K_TIMEOUT] != NULL)
		rc = plan_yaml_get_duration(y, v[PROBE_K_TIMEOUT],
					    "probe.timeout", true,
					    &pr->timeout_ms);
	if (rc == 0 && v[PROBE_K_DEADLINE] != NULL)
		rc = plan_yaml_get_duration(y, v[PROBE_K_DEADLINE],
					    "probe.deadline", true,
					    &pr->deadline_ms);
	if (rc == 0 && !pr->http && !pr->tcp && !pr->exec && !pr->haproxy)
		rc = plan_yaml_node_err(y, n, "probe: no check enabled (give "
					"http, tcp, exec or haproxy, or leave "
					"probe out)");
	return rc;
}

#define MAX_5XX_WHAT "a count like 5 or a share like 1%"

static int parse_watch(const struct plan_yctx *y, struct plan_watch *w,
		       const struct plan_ynode *n)
{
	const struct plan_ynode *v[WATCH_K_COUNT], *m;
	int rc;

	rc = plan_yaml_map(y, n, "watch", watch_keys, WATCH_K_COUNT, v);
	if (rc == 0 && v[WATCH_K_FOR] != NULL)
		rc = plan_yaml_get_duration(y, v[WATCH_K_FOR], "watch.for",
					    false, &w->for_ms);
	if (rc == 0 && v[WATCH_K_INTERVAL] != NULL)
		rc = plan_yaml_get_duration(y, v[WATCH_K_INTERVAL],
					    "watch.interval", true,
					    &w->interval_ms);
	m = v[WATCH_K_MAX_5XX];
	if (rc == 0 && m != NULL &&
	    (!plan_yaml_is_str(m) ||
	     (m->len > 0 && m->text[m->len - 1] == '%' ?
	      parse_number(m->text, "%", &w->max_5xx_pct) != 0 ||
	      w->max_5xx_pct > 100 :
	      str_parse_long(m->text, 0, LONG_MAX, &w->max_5xx) != 0)))
		rc = plan_yaml_expected(y, m, "watch.max_5xx", MAX_5XX_WHAT);
	if (rc == 0 && v[WATCH_K_MAX_ERRORS] != NULL)
		rc = plan_yaml_get_long(y, v[WATCH_K_MAX_ERRORS],
					"watch.max_errors", 0, LONG_MAX,
					"an integer >= 0", &w->max_errors);
	if (rc == 0 && v[WATCH_K_MAX_CHECK_FAILS] != NULL)
		rc = plan_yaml_get_long(y, v[WATCH_K_MAX_CHECK_FAILS],
					"watch.max_check_fails", 0, LONG_MAX,
					"an integer >= 0",
					&w->max_check_fails);
	return rc;
}

/* With strategy in-place the server never leaves service: the hooks
 * around draining and enabling, and HAProxy's verified comeback, would
 * never run. Say so instead of ignoring them. */
static int check_in_place(const struct plan_yctx *y, const struct plan *p,
			  const struct plan_ynode *strategy)
{
	static const enum plan_hook_stage drain_side[] = {
		PLAN_HOOK_BEFORE_DRAIN, PLAN_HOOK_AFTER_DRAIN,
		PLAN_HOOK_BEFORE_ENABLE, PLAN_HOOK_AFTER_ENABLE,
	};
	size_t i;

	for (i = 0; i < sizeof(drain_side) / sizeof(drain_side[0]); i++) {
		const struct plan_hook *h = &p->hooks[drain_side[i]];

		if (h->n > 0)
			return plan_yaml_err(y->err, y->name, h->cmds[0].line,
					     h->cmds[0].col,
					     "hooks.%s does not apply to strategy "
					     "in-place (the server never leaves "
					     "service); use upgrade",
					     plan_hook_stage_name(drain_side[i]));
	}
	if (p->probe.haproxy)
		return plan_yaml_node_err(y, strategy, "probe.haproxy does not "
					  "apply to strategy in-place (it checks "
					  "the comeback of a server taken out of "
					  "service)");
	return 0;
}

static int parse_plan(const struct plan_yctx *y, struct plan *p,
		      const struct plan_ynode *root)
{
	const struct plan_ynode *v[TOP_K_COUNT];
	char got[80];
	unsigned e;
	int rc;

	if (root->kind != PLAN_YNODE_MAP)
		return plan_yaml_node_err(y, root, "a plan is a mapping of keys "
					  "(backend: ..., servers: ...), got %s",
					  plan_yaml_describe(root, got,
							     sizeof(got)));
	rc = plan_yaml_map(y, root, NULL, top_keys, TOP_K_COUNT, v);
	if (rc == 0 && v[TOP_K_BACKEND] == NULL && v[TOP_K_SWITCH] == NULL)
		rc = plan_yaml_missing(y, root, NULL, "backend");
	if (rc == 0 && v[TOP_K_LBS] != NULL)
		rc = parse_lbs(y, p, v[TOP_K_LBS]);
	if (rc == 0 && v[TOP_K_SWITCH] != NULL)
		rc = plan_switch_parse(y, &p->sw, plan_yaml_find_key(root,
					"switch", NULL), v[TOP_K_SWITCH]);
	if (rc == 0)	/* what a switch changes; sets backend in map mode */
		rc = plan_switch_check(y, p, root);
	if (rc == 0 && v[TOP_K_BACKEND] != NULL)
		rc = parse_backend(y, p, v[TOP_K_BACKEND]);
	if (rc == 0 && v[TOP_K_SERVERS] != NULL)
		rc = parse_servers(y, p, v[TOP_K_SERVERS]);
	if (rc == 0 && v[TOP_K_STRATEGY] != NULL) {
		rc = plan_yaml_get_enum(y, v[TOP_K_STRATEGY], "strategy",
					strategy_names, PLAN_STRATEGY_COUNT,
					&e);
		if (rc == 0)
			p->strategy = (enum plan_strategy)e;
	}
	if (rc == 0 && v[TOP_K_ROLLING] != NULL)
		rc = parse_rolling(y, p, v[TOP_K_ROLLING]);
	if (rc == 0 && v[TOP_K_DRAIN] != NULL)
		rc = parse_drain(y, p, v[TOP_K_DRAIN]);
	if (rc == 0 && v[TOP_K_HOOKS] != NULL)
		rc = parse_hooks(y, p, v[TOP_K_HOOKS]);
	if (rc == 0 && v[TOP_K_PROBE] != NULL)
		rc = parse_probe(y, &p->probe, v[TOP_K_PROBE]);
	if (rc == 0 && v[TOP_K_WATCH] != NULL)
		rc = parse_watch(y, &p->watch, v[TOP_K_WATCH]);
	if (rc == 0 && p->strategy == PLAN_STRATEGY_IN_PLACE)
		rc = check_in_place(y, p, v[TOP_K_STRATEGY]);
	return rc;
}

/* ---- load and free ---------------------------------------------------- */

static void set_defaults(struct plan *p)
{
	p->servers_kind = PLAN_SERVERS_ALL;
	p->strategy = PLAN_STRATEGY_DRAIN;
	p->batch = 1;
	p->min_serving = 1;
	p->drain_timeout_ms = 10 * 60 * 1000;
	p->on_timeout = PLAN_ON_TIMEOUT_FAIL;
	p->hook_timeout_ms = 15 * 60 * 1000;
	p->hook_kill_grace_ms = 10 * 1000;
	p->probe.http_expect = 200;
	p->probe.rise = 1;
	p->probe.interval_ms = 1000;
	p->probe.timeout_ms = 2000;
	p->probe.deadline_ms = 5 * 60 * 1000;
	p->watch.interval_ms = 1000;
	p->watch.max_5xx_pct = -1;
	p->watch.max_5xx = -1;
	p->watch.max_errors = -1;
	p->watch.max_check_fails = -1;
}

int plan_load_buf(const char *name, const char *text, size_t len,
		  struct plan **out, struct cut_err *err)
{
	struct plan_yctx y = { .name = name != NULL ? name : "plan",
			       .err = err };
	struct plan_ynode *root = NULL;
	struct plan *p;
	int rc;

	*out = NULL;
	if (len > PLAN_FILE_MAX)
		return plan_yaml_err(err, y.name, 1, 1, "plan file too large "
				     "(the limit is 1 MiB)");
	rc = plan_yaml_load(y.name, text, len, &root, err);
	if (rc != 0)
		return rc;
	if (root == NULL || (root->kind == PLAN_YNODE_SCALAR && root->null)) {
		rc = plan_yaml_err(err, y.name, root != NULL ? root->line : 1,
				   root != NULL ? root->col : 1, "empty plan");
		plan_yaml_free(root);
		return rc;
	}
	p = calloc(1, sizeof(*p));
	if (p != NULL) {
		set_defaults(p);
		p->path = strdup(y.name);
		p->text = strndup(text, len);
	}
	if (p == NULL || p->path == NULL || p->text == NULL)
		rc = plan_yaml_oom(&y);
	else
		rc = parse_plan(&y, p, root);
	plan_yaml_free(root);
	if (rc != 0) {
		plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int plan_load(const char *path, struct plan **out, struct cut_err *err)
{
	size_t len = 0;
	char *buf = NULL;
	int rc;

	*out = NULL;
	rc = plan_yaml_read_file(path, PLAN_FILE_MAX, &buf, &len);
	if (rc != 0)
		return cut_err_set(err, rc, path, "cannot read plan file "
				   "'%s': %s", path, uv_strerror(rc));
	rc = plan_load_buf(path, buf, len, out, err);
	free(buf);
	return rc;
}

static void argv_free(struct plan_argv *a)
{
	size_t i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

void plan_free(struct plan *p)
{
	size_t i, s;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlb; i++)
		free(p->lbs[i]);
	free(p->lbs);
	free(p->text);
	for (i = 0; i < p->nservers; i++)
		free(p->servers[i]);
	free(p->servers);
	free(p->server_pos);
	free(p->pattern);
	free(p->backend);
	for (s = 0; s < PLAN_HOOK_STAGE_COUNT; s++) {
		for (i = 0; i < p->hooks[s].n; i++)
			argv_free(&p->hooks[s].cmds[i]);
		free(p->hooks[s].cmds);
	}
	free(p->probe.http_url);
	free(p->probe.http_body);
	free(p->probe.http_ca);
	free(p->probe.tcp_host);
	free(p->probe.tcp_port);
	argv_free(&p->probe.exec_argv);
	plan_switch_free(&p->sw);
	free(p->path);
	free(p);
}
