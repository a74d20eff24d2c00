/* roll_run.h - one `cutover rollout` run: the plan, the engine, the real
 * side effects (fleet, hooks, probes) and the output, tied together.
 * cmd_rollout.c validates and starts it; rollout_ops.c implements the
 * ops table over the fleet, hook and probe modules. */
#ifndef CUT_ROLL_RUN_H
#define CUT_ROLL_RUN_H

#include <stdbool.h>
#include <uv.h>

#include "app.h"
#include "fleet.h"
#include "hook.h"
#include "journal.h"
#include "plan.h"
#include "probe.h"
#include "roll_out.h"
#include "rollout.h"
#include "shed.h"

/* What the ops keep per server. */
struct roll_srv_ops {
	struct roll_run *run;
	struct roll_srv *s;
	struct fleet_targets tg;	/* this server on every LB */
	char addr[64];
	char port[16];
	char peer[STAT_NAME_MAX];
	struct hook_vars vars;
	/* the op in progress */
	enum plan_hook_stage stage;
	struct hook_stage *hook;
	struct fleet_wait *wait;
	struct probe *probe;
	struct shed *shed;
	int step;			/* multi-step ops (verified comeback) */
	/* waiting for the journal before starting the op */
	bool gated, gate_cancelled;
	int (*gate_start)(struct roll_srv_ops *so);
	bool cancelled;
	/* watch: counters at the start of the window, per LB */
	int64_t (*base)[6];
	bool have_base;
};

struct roll_run {
	struct app *a;
	struct plan *plan;
	struct rollout ro;
	struct roll_out *out;
	struct probe_env *penv;
	struct roll_srv_ops *per;	/* one per server, ro order */
	uv_timer_t pause;		/* between batches */
	struct journal *journal;	/* NULL: not journaled (dry run) */
};

extern const struct roll_ops roll_real_ops;

/* Fill per-server data for the servers resolved in `view` (their
 * addresses, the LB targets). Returns 0 or a CUT_E* with *err. */
int roll_run_prepare(struct roll_run *r, const struct fleet_view *view,
		     struct cut_err *err);
void roll_run_release(struct roll_run *r);

#endif
