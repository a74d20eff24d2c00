/* fleet.h - several HAProxy load balancers acted on as one.
 *
 * Reads fan out to every LB in parallel and come back as a per-LB view; an
 * LB that did not answer is "unknown" in it, never "drained" or "up".
 * Changes are validated against a fresh view of every LB first (names
 * exist everywhere, socket at admin level), then applied to all LBs in
 * parallel; if any LB refuses or fails, what was applied is put back to
 * the state seen at validation and the error says so (CUT_EPARTIAL, or
 * CUT_EUNDO when even the undo failed).
 *
 * Every asynchronous function follows the rtapi rule: an error return
 * means its callback never runs; otherwise the callback runs exactly once,
 * from the loop.
 */
#ifndef CUT_FLEET_H
#define CUT_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "rtapi.h"
#include "stat.h"

struct fleet;

struct fleet_opts {
	uint64_t timeout_ms;	/* per runtime-API request */
	size_t reply_max;	/* cap on one reply */
	/* fleet_apply: an LB that does not answer (no connection, timeout,
	 * dropped) is tried again with backoff (100 ms doubling to 2 s)
	 * for up to this long before the change counts as failed; 0: no
	 * retry. A refusal is never retried. */
	uint64_t retry_ms;
};

/* Address specs ("unix:PATH", "tcp:HOST:PORT", either followed by
 * ",master=ADDR", see master.h) are parsed and checked here; nothing
 * connects yet. Returns NULL with *err set. */
struct fleet *fleet_new(uv_loop_t *loop, const char *const *specs, size_t n,
			const struct fleet_opts *opts, struct cut_err *err);
void fleet_free(struct fleet *f);
size_t fleet_size(const struct fleet *f);
const char *fleet_lb_name(const struct fleet *f, size_t i);
struct rtapi *fleet_lb_api(struct fleet *f, size_t i);
uv_loop_t *fleet_loop(const struct fleet *f);
/* The master CLI address given for LB i, or NULL. */
const struct rtapi_addr *fleet_lb_master(const struct fleet *f, size_t i);
/* Per-request timeout and reply cap, for commands on the master. */
uint64_t fleet_timeout_ms(const struct fleet *f);
size_t fleet_reply_max(const struct fleet *f);

/* ---- reading ------------------------------------------------------------ */

enum fleet_read_what {
	FLEET_READ_STATE = 1 << 0,	/* show servers state */
	FLEET_READ_STAT = 1 << 1,	/* show stat (servers) */
};

struct fleet_lb_view {
	const char *name;		/* borrowed from the fleet */
	int status;			/* 0: answered; < 0: unknown */
	struct cut_err err;		/* why, when status < 0 */
	enum rtapi_level level;
	struct haproxy_info info;	/* valid when status == 0 */
	struct srvstate_table state;	/* empty unless FLEET_READ_STATE */
	struct stat_table stat;		/* empty unless FLEET_READ_STAT */
};

struct fleet_view {
	size_t n;
	struct fleet_lb_view *lb;
};

/* The view is handed over to the callback, which must fleet_view_free()
 * it. `backend` NULL reads every backend; an unknown backend makes that
 * LB's status CUT_ENOBACKEND. */
typedef void fleet_view_fn(struct fleet_view *view, void *arg);
int fleet_read(struct fleet *f, const char *backend, unsigned what,
	       fleet_view_fn *cb, void *arg);
void fleet_view_free(struct fleet_view *v);
/* Number of LBs that did not answer (status < 0). */
size_t fleet_view_unknown(const struct fleet_view *v);
/* How messages say that an LB of a view failed with `status`: "sent a bad
 * reply" (garbage, a reply too large), "answered with an error" (an error
 * reply to a read) or "did not answer" (no connection, closed, timed out). */
const char *fleet_lb_failure(int status);

/* ---- resolving names ---------------------------------------------------- */

/* What one server looked like on one LB when it was resolved. */
struct fleet_srv_lb {
	int64_t sid;
	enum srv_admin admin;
	unsigned admin_bits;
	enum srv_op op;
	int64_t uweight, iweight;
};

struct fleet_target {
	char backend[STAT_NAME_MAX];
	char server[STAT_NAME_MAX];
	struct fleet_srv_lb *lb;	/* one per LB, fleet order */
};

struct fleet_targets {
	size_t n, nlb;
	struct fleet_target *t;
};

/* Resolve operator names against a view that has FLEET_READ_STATE. A name
 * is "BACKEND/SERVER" or "SERVER" (every backend that has it). Checks:
 * every LB answered (else CUT_EUNKNOWN naming the LB), the socket level is
 * at least `min_level` (else CUT_EPERM), the backend and the server exist
 * on every LB (else CUT_ENOBACKEND / CUT_ENOSERVER naming the LB), a bare
 * server name matches at least one backend on some LB and the same set on
 * all of them. Pure: no I/O. */
int fleet_resolve(const struct fleet_view *v, const char *const *names,
		  size_t nnames, enum rtapi_level min_level,
		  struct fleet_targets *out, struct cut_err *err);
void fleet_targets_free(struct fleet_targets *tg);

/* ---- changing ----------------------------------------------------------- */

enum fleet_act_kind {
	FLEET_ACT_STATE = 0,	/* set server B/S state ready|drain|maint */
	FLEET_ACT_WEIGHT,	/* set weight B/S N[%] */
	FLEET_ACT_HEALTH_DOWN,	/* set server B/S health down: needs `rise`
				 * passing checks to come back (undo: up) */
	FLEET_ACT_SHUTDOWN,	/* shutdown sessions server B/S (no undo) */
	FLEET_ACT_KIND_COUNT	/* keep last */
};

struct fleet_action {
	enum fleet_act_kind kind;
	enum srv_admin state;
	int weight;
	bool percent;
	/* Leave a server that is in maint on an LB as it is there: `set
	 * server ... state drain` would take it OUT of maint (HAPROXY.md
	 * §1.2), which is not what "drain" means to an operator. */
	bool keep_maint;
};

/* err is borrowed for the duration of the call; NULL when status is 0. */
typedef void fleet_done_fn(int status, const struct cut_err *err, void *arg);

/* Apply `act` to every target on every LB, in parallel; undo on partial
 * failure (see top). The targets must stay alive until the callback.
 * Returns CUT_EALREADY (no callback) when keep_maint left nothing to
 * send. */
int fleet_apply(struct fleet *f, const struct fleet_targets *tg,
		const struct fleet_action *act, fleet_done_fn *cb, void *arg);

/* ---- reloads (fleet_reload.c) -------------------------------------------- */

/* Remember a state or weight set on `lb` (fleet_apply does it for every
 * change that went through): after an HAProxy reload or restart of that
 * LB it is sent again before anything else. */
void fleet_remember(struct fleet *f, size_t lb, const char *be,
		    const char *srv, const struct fleet_action *act);

/* ---- waiting ------------------------------------------------------------ */

enum fleet_cond {
	FLEET_UNTIL_DRAINED = 0,	/* drain|maint and scur+qcur == 0 */
	FLEET_UNTIL_UP,			/* ready, UP and no check transition */
	FLEET_UNTIL_CHECKED,		/* drain and status exactly "DRAIN": up,
					 * with its rise checks passed */
	FLEET_OBSERVE,			/* never met: poll counters until the
					 * timeout (watching a server) */
	FLEET_UNTIL_IDLE,		/* scur+qcur == 0 whatever the admin
					 * state (a blue backend the map no
					 * longer selects) */
	FLEET_COND_COUNT		/* keep last */
};

const char *fleet_cond_name(enum fleet_cond c);

/* The last observation of one target on one LB. */
struct fleet_obs {
	bool known;		/* the LB answered at the last poll */
	enum srv_admin admin;
	int64_t sessions;	/* scur + qcur, old workers' included */
	int64_t old_sessions;	/* of which on old workers (counted through
				 * the LB's master CLI after a reload) */
	int64_t old_pid;	/* an old worker holding some, or 0 */
	char status[32];
	char check_status[24];
	bool met;		/* condition met on this LB */
	/* Counters, for watching a server after it is back. */
	int64_t stot, hrsp_5xx, econ, eresp, chkfail, chkdown;
};

struct fleet_wait;

/* Called after every poll round (progress) and once at the end (done).
 * In `done`, status is 0, CUT_ETIMEOUT, CUT_ECHANGED (for DRAINED: the
 * server went back to ready on some LB) or CUT_ECANCELED. */
typedef void fleet_wait_fn(struct fleet_wait *w, int status,
			   const struct cut_err *err, void *arg);

/* Poll every `poll_ms` (one `show stat B 4 SID` per target per LB on the
 * kept connections; for DRAINED and IDLE, on an LB with a master CLI, also
 * `show proc` and `@!PID show stat B 4 -1` per old worker and target, so
 * that sessions an old worker keeps after a reload count too) until the condition holds for every target on every
 * LB, or `timeout_ms` passes (0: no deadline). */
struct fleet_wait *fleet_wait_start(struct fleet *f,
				    const struct fleet_targets *tg,
				    enum fleet_cond cond, uint64_t timeout_ms,
				    uint64_t poll_ms, fleet_wait_fn *progress,
				    fleet_wait_fn *done, void *arg);
/* Stop waiting: `done` runs with CUT_ECANCELED. */
void fleet_wait_cancel(struct fleet_wait *w);
/* Observation of target i on LB j at the last completed poll. */
const struct fleet_obs *fleet_wait_obs(const struct fleet_wait *w, size_t i,
				       size_t j);
const struct fleet_targets *fleet_wait_targets(const struct fleet_wait *w);
uint64_t fleet_wait_elapsed_ms(const struct fleet_wait *w);

#endif
