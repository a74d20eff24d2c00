/* runlock.h - one run at a time per backend on the same load balancers.
 *
 * A rollout or a switch takes an exclusive flock(2) on a file in the
 * state directory named after the backend and the set of LBs; a second
 * run is refused (exit 6) with who holds it: pid, host, start time, plan.
 * The kernel releases the lock when the process ends, however it ends, so
 * a crash never leaves a stale lock. Taken before the event loop starts
 * (the only place cutover does blocking file I/O).
 *
 * State directory: $CUTOVER_STATE_DIR, else $XDG_STATE_HOME/cutover, else
 * /var/lib/cutover as root, else ~/.local/state/cutover; created 0700,
 * files 0600. */
#ifndef CUT_RUNLOCK_H
#define CUT_RUNLOCK_H

#include <stddef.h>

#include "err.h"

struct runlock {
	int fd;			/* -1: not held */
	char path[512];
};

/* The state directory, created if missing. 0 or a -errno code. */
int runlock_state_dir(char *out, size_t outsz, struct cut_err *err);

/* Take the lock for (backend, lbs). 0, CUT_ELOCKED (err says who holds
 * it) or an I/O error. `what` describes the run ("rollout plan.yaml"). */
int runlock_take(struct runlock *l, const char *backend,
		 const char *const *lbs, size_t nlb, const char *what,
		 struct cut_err *err);
void runlock_release(struct runlock *l);

#endif
