/* probe_int.h - what probe.c (env, tries, tcp, exec) and probe_http.c
 * (libcurl multi on libuv, the http check) share. Not for other modules:
 * use probe.h.
 */
#ifndef CUT_PROBE_INT_H
#define CUT_PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <uv.h>

#include "buf.h"
#include "probe.h"

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define PROBE_REASON_MAX 256
#define PROBE_EXEC_SAID_MAX 160		/* an exec check's last line kept */
#define PROBE_BODY_MAX (64 * 1024)	/* cap on a response body */
#define PROBE_TCP_ADDRS 8		/* addresses tried per tcp check */

enum probe_check {
	PROBE_CHECK_HTTP = 0,
	PROBE_CHECK_TCP,
	PROBE_CHECK_EXEC,
	PROBE_CHECK_COUNT	/* keep last */
};

/* Probe life: WAITING (between tries) <-> TRYING, either -> FINISHING
 * (handles closing, child stopping) -> done() and free. */
enum probe_state {
	PROBE_ST_WAITING = 0,
	PROBE_ST_TRYING,
	PROBE_ST_FINISHING,
	PROBE_ST_COUNT		/* keep last */
};

/* One per socket libcurl asks us to watch; freed in its close callback. */
struct probe_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct probe_env *env;
	struct probe_sock *next, **pprev;
};

struct probe_env {
	uv_loop_t *loop;
	CURLM *multi;			/* NULL once torn down */
	uv_timer_t timer;		/* curl's TIMERFUNCTION */
	struct probe_sock *socks;	/* live poll contexts */
	struct probe *probes;		/* every probe not yet freed */
	int pending;			/* env handles not yet closed */
	int busy;			/* inside socket_action + drain */
	bool freeing;
	bool curl_global;		/* curl_global_init succeeded */
};

/* A tcp check in flight: resolve (detachable, see struct tcp_resolve in
 * probe.c), then connect to each address in turn over one uv_tcp_t. */
enum probe_tcp_state {
	PROBE_TCP_IDLE = 0,
	PROBE_TCP_RESOLVING,
	PROBE_TCP_CONNECTING,
	PROBE_TCP_CLOSING,		/* handle closing; result read in close cb */
	PROBE_TCP_STATE_COUNT		/* keep last */
};

struct probe_tcp {
	enum probe_tcp_state st;
	uv_tcp_t handle;
	uv_connect_t req;
	uv_timer_t timer;		/* the per-try timeout */
	struct tcp_resolve *resolve;	/* while PROBE_TCP_RESOLVING */
	struct sockaddr_storage addrs[PROBE_TCP_ADDRS];
	size_t naddr, next;
	int err;			/* last error (uv code), 0 = connected */
	bool timed_out;
};

struct probe {
	struct probe_env *env;
	struct probe *next, **pprev;	/* env->probes */
	enum probe_state st;

	/* Settings: copied from the plan, placeholders expanded. */
	bool check[PROBE_CHECK_COUNT];
	unsigned rise;
	uint64_t interval_ms, timeout_ms, deadline_ms;
	long http_expect;
	char *http_body;		/* NULL: not checked */
	bool http_insecure;
	char *http_ca;			/* NULL: the system's CA store */
	char *url;			/* may hold credentials: never print */
	char *url_safe;			/* probe_redact_url(url) */
	char *tcp_host, *tcp_port;
	char *tcp_label;		/* "host:port", "[v6]:port" */
	char **exec_argv;
	struct hook_vars vars;		/* deep copy, for CUTOVER_* */

	probe_fn *progress, *done;
	void *arg;

	/* Tries. */
	uv_timer_t tick;		/* next try */
	uv_timer_t deadline;
	uint64_t try_started;		/* uv_now() */
	unsigned tries, passes;
	int try_pending;		/* checks of this try still running */
	bool ok[PROBE_CHECK_COUNT];
	char reason[PROBE_CHECK_COUNT][PROBE_REASON_MAX];
	char last_fail[PROBE_REASON_MAX];
	int status;			/* for done(), once FINISHING */
	char final_reason[PROBE_REASON_MAX];
	int refs;			/* open handles + running hook */

	/* http */
	CURL *easy;
	bool http_active;		/* easy is in the multi */
	bool body_too_big;
	struct buf body;
	char errbuf[CURL_ERROR_SIZE];

	struct probe_tcp tcp;

	/* exec */
	struct hook *hook;		/* running child, or NULL */
	char exec_said[PROBE_EXEC_SAID_MAX];	/* last line, for the reason */
	bool exec_said_err;		/* exec_said came from stderr */
};

/* probe.c: a check of the current try has its answer (`reason` is copied;
 * ignored when ok). */
void probe_check_done(struct probe *p, enum probe_check c, bool ok,
		      const char *reason);

/* probe_http.c: curl multi setup/teardown on env, and the http check. */
int probe_curl_init(struct probe_env *env, struct cut_err *err);
void probe_curl_teardown(struct probe_env *env);
int probe_http_setup(struct probe *p, struct cut_err *err);
void probe_http_start(struct probe *p);
void probe_http_abort(struct probe *p);
void probe_http_cleanup(struct probe *p);

/* probe.c: an env handle finished closing (timer or poll context). */
void probe_env_unref(struct probe_env *env);

#endif
