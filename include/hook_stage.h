/* hook_stage.h - run the commands of one hook stage of a plan, one after
 * the other (each expanded with the server's values, run by hook.c), and
 * report the first failure in words an operator can act on. Used by the
 * rollout (per server) and by blue/green switches (once per run). */
#ifndef CUT_HOOK_STAGE_H
#define CUT_HOOK_STAGE_H

#include <uv.h>

#include "err.h"
#include "hook.h"
#include "plan.h"

struct hook_stage;

/* status: 0 every command exited 0; CUT_EHOOK one failed (non-zero exit,
 * killed, timed out, or could not start); CUT_ECANCELED stopped by
 * hook_stage_kill(). err says which command and how ("upgrade hook 'x'
 * exited with status 3"); NULL when status is 0. */
typedef void hook_stage_fn(int status, const struct cut_err *err, void *arg);

/* Called before each command, with its program name. */
typedef void hook_stage_start_fn(const char *prog, bool more_args, void *arg);

/* Called once a command runs, with its pid (= its process group). */
typedef void hook_stage_spawn_fn(int pid, void *arg);

struct hook_stage_cbs {
	hook_line_fn *on_line;		/* each line of output; may be NULL */
	hook_stage_start_fn *on_start;	/* may be NULL */
	hook_stage_spawn_fn *on_spawn;	/* may be NULL */
	void *arg;			/* for on_line and on_start */
	hook_stage_fn *done;
	void *done_arg;
};

/* Run stage `st` of plan `p` (which must have at least one command).
 * `vars` is copied (its strings are borrowed until done); its stage field
 * is set here. Returns NULL with *err if the first command cannot start
 * (done never runs then); otherwise done runs once, from the loop. */
struct hook_stage *hook_stage_run(uv_loop_t *loop, const struct plan *p,
				  enum plan_hook_stage st,
				  const struct hook_vars *vars,
				  const struct hook_stage_cbs *cbs,
				  struct cut_err *err);
/* Stop the running command: TERM then KILL to its group (now: KILL). */
void hook_stage_kill(struct hook_stage *hs, bool now);

#endif
