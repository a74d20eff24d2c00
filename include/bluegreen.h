/* bluegreen.h - switching traffic from an old cluster (blue) to a new one
 * (green) on every load balancer at once, as a plan's switch: section says
 * (see plan.h). One run moves through these steps:
 *
 *   verify -> before_switch -> [baseline -> switch -> watch] per step
 *     -> after_switch -> drain_blue -> (deadline policy) -> retire -> done
 *
 * verify: green exists on every LB, HAProxy reports enough green servers
 * UP on every LB, the plan's probes pass on each, and (map mode) the map
 * entry exists everywhere. switch: the map entry (map mode, plus the file
 * on disk) or the weights and states (servers mode, canary steps) on every
 * LB in parallel, undone where it landed if one LB fails. watch: green's
 * HAProxy counters; over a limit -> rollback: traffic back to blue on every
 * LB, the on_rollback hook, exit 1. `cutover switch PLAN --to blue` runs
 * the rollback alone.
 */
#ifndef CUT_BLUEGREEN_H
#define CUT_BLUEGREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"
#include "plan.h"
#include "probe.h"

enum bg_step {
	BG_VERIFY = 0,
	BG_BEFORE_SWITCH,
	BG_BASELINE,		/* green's counters before it gets traffic */
	BG_SWITCH,
	BG_WATCH,
	BG_AFTER_SWITCH,
	BG_DRAIN_BLUE,
	BG_BLUE_DEADLINE,	/* kill or shed what is left on blue */
	BG_RETIRE,
	BG_DONE,		/* final */
	BG_ROLLBACK,
	BG_ON_ROLLBACK,
	BG_ROLLED_BACK,		/* final */
	BG_FAILED,		/* final */
	BG_STEP_COUNT		/* keep last */
};

const char *bg_step_name(enum bg_step s);

struct bg;

/* Notifications: a step change (`reason` says why), a log line. */
struct bg_notify {
	void (*step)(void *arg, enum bg_step from, enum bg_step to,
		     const char *reason);
	void (*log)(void *arg, const char *kind, const char *msg);
	/* The run is over: 0 done, CUT_ECHANGED rolled back, CUT_EUNDO a
	 * switch that could not be undone, other errors: failed. */
	void (*end)(void *arg, int status, const char *reason);
	void *arg;
};

/* A run on `f` with the plan's switch section; nothing starts yet.
 * to_blue: only switch back to blue. The servers of each side are resolved
 * from `view` (which must have FLEET_READ_STATE; borrowed for the call).
 * Returns NULL with *err if the plan does not fit the LBs. */
struct bg *bg_new(uv_loop_t *loop, struct fleet *f, const struct plan *p,
		  const struct fleet_view *view, bool to_blue,
		  struct probe_env *penv, const struct bg_notify *n,
		  struct cut_err *err);
/* Start the steps; n->end runs once at the end, from the loop. */
void bg_run(struct bg *b);
/* First interrupt: stop after the current step, leaving traffic where it
 * is (switching back automatically could be worse); the end says where. */
void bg_interrupt(struct bg *b);
void bg_free(struct bg *b);

/* For --dry-run: the servers of each side. */
const struct fleet_targets *bg_green(const struct bg *b);
const struct fleet_targets *bg_blue(const struct bg *b);

#endif
