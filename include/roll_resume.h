/* roll_resume.h - `cutover resume [--abort]`: find the journal of a
 * rollout that did not finish, say what it recorded next to what every LB
 * reports now, and either let the rollout engine finish the run (each
 * server picked up where roll_resume_point() says) or, with --abort, put
 * back the servers that were only drained and leave out, reported, those
 * whose upgrade had begun. */
#ifndef CUT_ROLL_RESUME_H
#define CUT_ROLL_RESUME_H

#include <stdbool.h>

#include "app.h"
#include "fleet.h"
#include "journal.h"
#include "plan.h"
#include "rollout.h"

/* Which journal: `arg` NULL -> the newest unfinished one (an error lists
 * them if several backends have one); a path to a .jsonl file; a run id;
 * or a plan file -> the newest unfinished run of that plan. Blocking:
 * before the loop. */
int roll_resume_find(const char *arg, struct journal_run *out,
		     struct cut_err *err);

/* Hooks the crashed run left running (their process groups still exist):
 * wait for them to end (checked every 100 ms), at most `timeout_ms`, then
 * TERM and, `grace_ms` later, KILL their groups. done() runs once, from
 * the loop. A hook re-run on resume must never race its previous run. */
typedef void roll_hooks_fn(void *arg);
int roll_resume_wait_hooks(uv_loop_t *loop, struct journal_run *jr,
			   uint64_t timeout_ms, uint64_t grace_ms,
			   roll_hooks_fn *done, void *arg);

/* The state the journal recorded for a server ("pending" if none). */
enum roll_state roll_resume_last(struct journal_run *jr, const char *server);

/* Print, per server of the run, the journal's last state, what the LBs
 * report and what resume (or --abort) will do. */
void roll_resume_report(struct journal_run *jr, const struct plan *plan,
			const struct fleet_view *v, bool abort);

/* --abort: run asynchronously; done(exit code) once every server is where
 * it should be and the journal is closed with an "aborted" end. */
typedef void roll_abort_fn(int exit_code, void *arg);
int roll_resume_abort(struct app *a, const struct plan *plan,
		      struct journal_run *jr, struct journal *j,
		      const struct fleet_view *v, roll_abort_fn *done,
		      void *arg);

#endif
