/* plan.h - the rollout plan file (YAML, read with libyaml) as an
 * immutable, fully validated struct. Every mistake is reported as
 * "FILE:LINE:COLUMN: what is wrong" before anything is touched; a loaded
 * plan never changes afterwards.
 *
 * Example (every key is documented in docs/plan.md):
 *
 *   load_balancers: [unix:/run/haproxy/admin.sock, tcp:10.0.0.2:9999]
 *   backend: app
 *   servers: all                  # or [web1, web2], or "web*"
 *   strategy: drain               # or in-place
 *   rolling: { batch: 1, min_serving: 2 }
 *   drain: { timeout: 10m, on_timeout: fail }   # fail|proceed|kill|shed
 *   hooks:
 *     timeout: 15m
 *     upgrade:
 *       - [ssh, "{addr}", sudo, /usr/local/bin/upgrade-node]
 *   probe:
 *     http: { url: "http://{addr}:{port}/health", expect: 200 }
 *     rise: 3
 *     interval: 500ms
 *     timeout: 2s
 *     deadline: 5m
 *   watch: { for: 30s, max_5xx: 1%, max_errors: 0 }
 */
#ifndef CUT_PLAN_H
#define CUT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* One command: an argv whose elements may hold placeholders {server}
 * {backend} {addr} {port} {peer} (checked at load; "{{" and "}}" are
 * literal braces). Never run through a shell. In the blue/green stages
 * (run once per run) only {backend} is set; the others are empty. */
struct plan_argv {
	char **argv;		/* argc elements, then NULL */
	size_t argc;
	int line, col;		/* where it was written */
};

/* A hook stage: commands run one after the other; the first non-zero
 * exit fails the server. */
struct plan_hook {
	struct plan_argv *cmds;
	size_t n;
};

enum plan_hook_stage {
	PLAN_HOOK_BEFORE_DRAIN = 0,
	PLAN_HOOK_AFTER_DRAIN,
	PLAN_HOOK_UPGRADE,
	PLAN_HOOK_BEFORE_ENABLE,
	PLAN_HOOK_AFTER_ENABLE,
	PLAN_HOOK_ON_FAILURE,
	/* blue/green (a plan with a switch: section) */
	PLAN_HOOK_BEFORE_SWITCH,	/* green verified, before the switch */
	PLAN_HOOK_AFTER_SWITCH,		/* every step switched and watched */
	PLAN_HOOK_RETIRE,		/* blue drained: e.g. stop the old cluster */
	PLAN_HOOK_ON_ROLLBACK,		/* traffic was switched back to blue */
	PLAN_HOOK_STAGE_COUNT	/* keep last */
};

/* YAML key of a stage: "before_drain", "after_drain", "upgrade",
 * "before_enable", "after_enable", "on_failure", "before_switch",
 * "after_switch", "retire", "on_rollback". */
const char *plan_hook_stage_name(enum plan_hook_stage s);

enum plan_servers_kind {
	PLAN_SERVERS_ALL = 0,	/* servers: all */
	PLAN_SERVERS_LIST,	/* servers: [a, b] (order kept) */
	PLAN_SERVERS_PATTERN,	/* servers: "web*" (fnmatch(3) glob) */
	PLAN_SERVERS_KIND_COUNT	/* keep last */
};

enum plan_strategy {
	PLAN_STRATEGY_DRAIN = 0,	/* drain -> wait -> maint -> upgrade ... */
	PLAN_STRATEGY_IN_PLACE,		/* no drain: hot upgrade under traffic */
	PLAN_STRATEGY_COUNT		/* keep last */
};

enum plan_on_timeout {
	PLAN_ON_TIMEOUT_FAIL = 0,	/* put the server back, stop the run */
	PLAN_ON_TIMEOUT_PROCEED,	/* go on with sessions still open */
	PLAN_ON_TIMEOUT_KILL,		/* shutdown sessions server, go on */
	PLAN_ON_TIMEOUT_SHED,		/* close them at shed_rate, go on */
	PLAN_ON_TIMEOUT_COUNT		/* keep last */
};

const char *plan_strategy_name(enum plan_strategy s);	/* "drain" "in-place" */
const char *plan_on_timeout_name(enum plan_on_timeout t);	/* "fail" ... */

struct plan_probe {
	/* http: GET url (placeholders allowed); healthy if the status is
	 * http_expect and, when http_body is set, the body contains it.
	 * HTTPS verifies certificates (against http_ca when set, else the
	 * system's CA store) unless http_insecure. */
	bool http;
	char *http_url;
	long http_expect;		/* default 200 */
	char *http_body;		/* NULL: not checked */
	bool http_insecure;
	char *http_ca;			/* NULL: the system's CA store */
	/* tcp: a connection to tcp_host:tcp_port is accepted. */
	bool tcp;
	char *tcp_host;			/* default "{addr}" */
	char *tcp_port;			/* default "{port}" */
	/* exec: the command exits 0 (e.g. "node is back in the cluster"). */
	bool exec;
	struct plan_argv exec_argv;
	/* haproxy: HAProxy's own health check passes on every LB, checked
	 * with the verified comeback (drain, health down, wait for the rise
	 * checks, ready). */
	bool haproxy;
	unsigned rise;			/* consecutive passes needed; default 1 */
	uint64_t interval_ms;		/* between tries; default 1s */
	uint64_t timeout_ms;		/* one try; default 2s */
	uint64_t deadline_ms;		/* all tries; default 5m */
};

struct plan_watch {
	uint64_t for_ms;		/* 0: no watch */
	uint64_t interval_ms;		/* counter reads; default 1s */
	/* Limits over the watch window, from the server's HAProxy counters
	 * summed over every LB; -1 = not checked. */
	double max_5xx_pct;		/* hrsp_5xx / responses, in percent */
	long max_5xx;			/* absolute hrsp_5xx */
	long max_errors;		/* econ + eresp */
	long max_check_fails;		/* chkfail + down transitions */
};

/* Blue/green: how traffic moves from the old cluster (blue) to the new one
 * (green). YAML:
 *
 *   switch:                      # mode map (the frontend picks its backend
 *     mode: map                  #   through a map entry)
 *     map: /etc/haproxy/bg.map   # the map, as HAProxy names it (its file)
 *     key: active                # the entry (default "active")
 *     blue: be_blue              # its value before / after the switch
 *     green: be_green
 *     write_file: true           # also rewrite the file on disk (default)
 *
 *   switch:                      # mode servers (blue and green servers in
 *     mode: servers              #   plan.backend)
 *     blue: [web1, web2]         # or a glob "blue-*"
 *     green: "green-*"
 *     min_green: 2               # green servers UP needed (default: all)
 *     steps: [10%, 50%, 100%]    # canary by weights (default [100%])
 *
 * Green is verified (exists on every LB, plan.probe passes on each green
 * server, HAProxy reports them UP on every LB), switched on every LB at
 * once, watched (plan.watch) after every step; on a breach traffic goes
 * back to blue automatically. Then blue is drained (plan.drain: timeout
 * and on_timeout, shed included) and the retire hook runs. */
enum plan_switch_mode {
	PLAN_SWITCH_MAP = 0,
	PLAN_SWITCH_SERVERS,
	PLAN_SWITCH_MODE_COUNT	/* keep last */
};

const char *plan_switch_mode_name(enum plan_switch_mode m); /* "map" ... */

/* A set of servers named in the plan: all / a list / a glob. */
struct plan_srvset {
	enum plan_servers_kind kind;	/* ALL is not allowed for blue/green */
	char **names;			/* LIST */
	size_t n;
	char *pattern;			/* PATTERN */
	int line, col;
};

struct plan_switch {
	bool present;			/* the plan has a switch: section */
	enum plan_switch_mode mode;
	int line, col;			/* of the switch: key */
	/* map mode */
	char *map;			/* map file name as HAProxy shows it */
	char *key;			/* default "active" */
	char *blue_backend, *green_backend;
	bool write_file;		/* default true */
	/* servers mode (servers of plan.backend) */
	struct plan_srvset blue, green;
	unsigned min_green;		/* 0: every green server */
	unsigned *steps;		/* percentages, increasing, last 100 */
	size_t nsteps;			/* default 1 step: 100 (map mode too) */
};

struct plan {
	char *path;			/* as given, for messages */
	char *text;			/* the file as read (for the journal) */
	char **lbs;			/* may be empty: --lb / CUTOVER_LB then */
	size_t nlb;
	int lbs_line;
	char *backend;			/* map-mode switch: the green backend */
	enum plan_servers_kind servers_kind;
	char **servers;			/* LIST: names */
	int *server_pos;		/* LIST: line, col of each name (2 ints) */
	size_t nservers;
	char *pattern;			/* PATTERN */
	int servers_line, servers_col;
	enum plan_strategy strategy;
	unsigned batch;			/* default 1 */
	unsigned min_serving;		/* default 1 */
	uint64_t pause_ms;		/* between batches; default 0 */
	uint64_t drain_timeout_ms;	/* default 10m */
	enum plan_on_timeout on_timeout;	/* default fail */
	double shed_rate;		/* sessions/s for SHED; default 0 */
	uint64_t hook_timeout_ms;	/* default 15m */
	uint64_t hook_kill_grace_ms;	/* TERM -> KILL; default 10s */
	struct plan_hook hooks[PLAN_HOOK_STAGE_COUNT];
	struct plan_probe probe;
	struct plan_watch watch;
	struct plan_switch sw;		/* blue/green; sw.present false if none */
};

/* Load and validate. On error returns CUT_EUSAGE (bad content: the message
 * starts with "FILE:LINE:COLUMN: "), a -errno/uv code for I/O, or
 * UV_ENOMEM; *out stays NULL. */
int plan_load(const char *path, struct plan **out, struct cut_err *err);
/* The same from memory; `name` stands for the file name in messages. */
int plan_load_buf(const char *name, const char *text, size_t len,
		  struct plan **out, struct cut_err *err);
void plan_free(struct plan *p);

#endif
