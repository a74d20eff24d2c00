/* rollout.h - the rolling-upgrade engine: one state machine per server,
 * batches run one after the other, a capacity floor checked before every
 * batch, and every side effect behind an ops table so the machine can be
 * tested with fakes (tests/unit/test_rollout.c) and run for real
 * (src/rollout_ops.c).
 *
 * Per server, strategy "drain":
 *
 *   pending -> before_drain -> draining -> wait_idle -> after_drain -> maint
 *     -> upgrading -> probing -> before_enable -> enabling -> after_enable
 *     -> watching -> done
 *
 * strategy "in-place" (hot upgrade, the server keeps its traffic):
 *
 *   pending -> upgrading -> probing -> watching -> done
 *
 * Hook states without commands pass straight through. At the drain
 * deadline wait_idle applies the plan's policy: fail -> restoring (the
 * server goes back in service, the run stops), proceed -> after_drain,
 * kill -> killing (shutdown sessions) -> after_drain, shed -> shedding
 * (closed one by one at drain.shed_rate) -> after_drain. Any other failure
 * -> failing (maint on every LB) -> on_failure (hook) -> failed. An interrupt
 * while draining -> restoring.
 */
#ifndef CUT_ROLLOUT_H
#define CUT_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "plan.h"
#include "stat.h"

enum roll_state {
	ROLL_ST_PENDING = 0,
	ROLL_ST_BEFORE_DRAIN,
	ROLL_ST_DRAINING,
	ROLL_ST_WAIT_IDLE,
	ROLL_ST_KILLING,
	ROLL_ST_SHEDDING,
	ROLL_ST_AFTER_DRAIN,
	ROLL_ST_MAINT,
	ROLL_ST_UPGRADING,
	ROLL_ST_PROBING,
	ROLL_ST_BEFORE_ENABLE,
	ROLL_ST_ENABLING,
	ROLL_ST_AFTER_ENABLE,
	ROLL_ST_WATCHING,
	ROLL_ST_DONE,		/* final: upgraded and back */
	ROLL_ST_RESTORING,	/* putting an un-upgraded server back */
	ROLL_ST_RESTORED,	/* final: back in service, not upgraded */
	ROLL_ST_FAILING,	/* taking a failed server out of rotation */
	ROLL_ST_ON_FAILURE,	/* the plan's on_failure hook */
	ROLL_ST_FAILED,		/* final: out of rotation (maint) */
	ROLL_ST_COUNT		/* keep last */
};

const char *roll_state_name(enum roll_state s);
bool roll_state_final(enum roll_state s);
/* By name ("draining"); false if unknown. */
bool roll_state_parse(const char *name, enum roll_state *out);

/* Where `resume` picks a server up, from the last state the journal
 * recorded for it (reached or announced):
 *   pending, before_drain .. shedding, restoring, restored -> pending (the
 *     whole sequence again: it was not upgraded)
 *   after_drain -> after_drain;  maint, upgrading -> maint (the upgrade hook
 *     runs again: hooks must be idempotent);  probing, before_enable ->
 *     probing;  enabling, after_enable -> enabling;  watching -> watching
 *   failing, on_failure, failed -> maint (drain strategy: the upgrade is
 *     tried again) or failing (in-place: it stays out of rotation)
 *   done -> done (nothing to do).
 * For in-place: upgrading -> upgrading, probing -> probing, watching ->
 * watching. */
enum roll_state roll_resume_point(const struct plan *plan,
				  enum roll_state last);

/* What an op reports back; every async completion becomes one. */
enum roll_ev_kind {
	ROLL_EV_OK = 0,
	ROLL_EV_FAIL,		/* the op failed: err says why */
	ROLL_EV_TIMEOUT,	/* the op's deadline passed (drain wait) */
	ROLL_EV_CANCELED,	/* stopped by an interrupt */
	ROLL_EV_KIND_COUNT	/* keep last */
};

struct roll_srv;

/* Side effects. Each starts one operation for one server and returns 0
 * (then roll_op_done() is called exactly once, later, from the loop) or
 * an error (then it is never called). */
struct roll_ops {
	int (*set_admin)(void *ctx, struct roll_srv *s, enum srv_admin to);
	int (*wait_drained)(void *ctx, struct roll_srv *s, uint64_t timeout_ms);
	int (*kill_sessions)(void *ctx, struct roll_srv *s);
	int (*shed)(void *ctx, struct roll_srv *s);
	int (*run_hook)(void *ctx, struct roll_srv *s, enum plan_hook_stage st);
	int (*probe)(void *ctx, struct roll_srv *s);
	/* Back in service: with plan probe.haproxy the verified comeback
	 * (drain, health down, wait for HAProxy's rise checks, ready),
	 * otherwise ready; the weight put back if it changed. */
	int (*enable)(void *ctx, struct roll_srv *s);
	int (*watch)(void *ctx, struct roll_srv *s);
	/* Stop the server's running op (interrupt): it then completes with
	 * ROLL_EV_CANCELED. */
	void (*cancel)(void *ctx, struct roll_srv *s);
	/* Before each batch: may these servers go out of service? Calls
	 * roll_capacity_done() once. */
	int (*check_capacity)(void *ctx, struct roll_srv *const *batch,
			      size_t n);
	/* Notifications (output, journal). */
	void (*on_state)(void *ctx, const struct roll_srv *s,
			 enum roll_state from, const char *reason);
	void (*on_run_end)(void *ctx, int status);
	uint64_t (*now_ms)(void *ctx);
	/* Start a timer that calls roll_pause_done() (pause between batches). */
	int (*pause)(void *ctx, uint64_t ms);
};

/* One server being rolled. */
struct roll_srv {
	struct rollout *ro;
	size_t index;
	char backend[STAT_NAME_MAX];
	char server[STAT_NAME_MAX];
	enum roll_state state;
	enum roll_state failed_in;	/* where it was when it failed */
	enum roll_state resume_at;	/* pending, or where resume starts it */
	char reason[256];		/* last failure or note */
	uint64_t started_ms, ended_ms;
	uint64_t state_since_ms;
	bool busy;			/* an op is running */
	bool unsure;			/* restoring/failing could not confirm
					 * its change on every LB */
	void *ops_data;			/* for the ops implementation */
};

enum roll_run_state {
	ROLL_RUN_IDLE = 0,
	ROLL_RUN_CHECKING,	/* capacity check of the next batch */
	ROLL_RUN_BATCH,		/* a batch is running */
	ROLL_RUN_PAUSING,
	ROLL_RUN_ENDED,
	ROLL_RUN_STATE_COUNT	/* keep last */
};

struct rollout {
	const struct plan *plan;
	const struct roll_ops *ops;
	void *ctx;
	struct roll_srv *srv;		/* in rollout order */
	size_t n;
	size_t batch_start, batch_len;	/* current batch */
	enum roll_run_state run;
	bool interrupted;
	bool stop;			/* a failure: start nothing new */
	int status;			/* 0, CUT_EHOOK ... (first failure) */
	char stop_reason[320];
};

/* Set up (servers given in rollout order); nothing starts yet. */
int roll_init(struct rollout *ro, const struct plan *plan,
	      const struct roll_ops *ops, void *ctx, const char *const *servers,
	      size_t n);
void roll_free(struct rollout *ro);
/* Resume: start server i at `at` (roll_resume_point()) instead of at the
 * beginning. Call before roll_start(). CUT_EUSAGE for a state a server
 * cannot start at: done servers are left out of a resumed run. */
int roll_resume_at(struct rollout *ro, size_t i, enum roll_state at);
/* Start the first batch (after its capacity check). */
void roll_start(struct rollout *ro);
/* First SIGINT/SIGTERM: start nothing new, put back servers being
 * drained, let running hooks finish. */
void roll_interrupt(struct rollout *ro);

/* Completions from the ops. */
void roll_op_done(struct roll_srv *s, enum roll_ev_kind kind,
		  const struct cut_err *err);
/* ok false: the batch may not start; err says why (the run stops). */
void roll_capacity_done(struct rollout *ro, bool ok, const struct cut_err *err);
void roll_pause_done(struct rollout *ro);

/* Outcome: 0 all done; CUT_ECANCELED interrupted; CUT_EUNDO a server's
 * final state could not be confirmed on every LB; otherwise failed. */
int roll_status(const struct rollout *ro);

#endif
