/* cmd_plan.h - what the plan-driven commands (rollout, switch) do before
 * anything else: load the plan, choose the load balancers, build the
 * fleet, take the run lock. Runs before the loop starts. */
#ifndef CUT_CMD_PLAN_H
#define CUT_CMD_PLAN_H

#include <stdbool.h>

#include "app.h"
#include "journal.h"
#include "plan.h"
#include "runlock.h"

/* Load opt->args[0]; it must (want_switch) or must not have a switch:
 * section. The LBs are --lb, else the plan's, else CUTOVER_LB; the fleet
 * is built on them. Returns 0 with *out set, or an exit code (the error is
 * printed, nothing is left allocated). */
int cmd_plan_load(struct app *a, bool want_switch, struct plan **out);
/* Act on these LBs (borrowed: they must outlive the run), not on those
 * of --lb or CUTOVER_LB. 0 or UV_ENOMEM. */
int cmd_plan_use_lbs(struct app *a, char *const *lbs, size_t n);
/* The same for a plan already loaded (resume: from the journal); takes
 * `plan` (freed on error). */
int cmd_plan_setup(struct app *a, struct plan *plan, bool want_switch,
		   struct plan **out);

/* Unless --dry-run, take the run lock of the plan's backend on these LBs
 * for `verb` ("rollout", "switch"). 0 or an exit code (error printed). */
int cmd_plan_lock(struct app *a, const struct plan *p, const char *verb,
		  struct runlock *lock);

/* The run's journal: with `resume_path`, reopen it to append; otherwise
 * create one whose first record holds all resume needs (kind, the plan's
 * absolute path and text, backend, LBs, pid, host, then the keys of
 * `extra`, which is taken and may be NULL). Blocking: before the loop.
 * NULL with the error printed. */
struct journal *cmd_plan_journal(struct app *a, const struct plan *p,
				 const char *kind, const char *resume_path,
				 json_t *extra);

#endif
