/* shed.h - paced shedding: close a drained server's remaining sessions one
 * by one, at a rate the operator chooses, on every LB, instead of all at
 * once (`shutdown sessions server` sends every client back in the same
 * instant: a reconnect storm on the servers that remain).
 *
 * The sessions are listed with `show sess` on each LB (again every
 * refresh), merged round-robin over the LBs, and closed with `shutdown
 * session <ptr>` at `rate` per second in all, each interval varied by
 * +/- jitter. It ends when the server has 0 sessions on every LB.
 * Optionally a reconnect budget: do not run more than `budget` closes
 * ahead of the other servers' session counts rising (the clients coming
 * back elsewhere); at the end it reports how many came back.
 */
#ifndef CUT_SHED_H
#define CUT_SHED_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "fleet.h"

struct shed_opts {
	double rate;		/* sessions closed per second, over all LBs */
	double jitter;		/* 0..1: each gap is 1/rate * (1 +/- jitter) */
	uint64_t refresh_ms;	/* re-list the sessions; default 1000 */
	uint64_t timeout_ms;	/* 0: none */
	uint64_t stall_ms;	/* fail if sessions remain and none closed
				 * or ended for this long; 0: never */
	long budget;		/* < 0: off */
};

struct shed_stats {
	int64_t left;		/* scur + qcur over every LB, last read */
	bool left_known;	/* every LB answered the last read */
	int64_t listed;		/* sessions seen in the last show sess */
	int64_t closed;		/* shutdown session accepted */
	int64_t gone;		/* had closed by themselves before our turn */
	int64_t others_start;	/* other servers' sessions at the start */
	int64_t others_now;	/* ... now: their rise is clients back */
	bool paused;		/* waiting for the budget */
	uint64_t elapsed_ms;
	double rate;		/* achieved: closed / elapsed */
	uint64_t eta_ms;	/* left / rate; 0 if unknown */
};

struct shed;

/* status for `done`: 0 (no session left), CUT_ETIMEOUT (deadline or
 * stall), CUT_ECANCELED,
 * or an error (an LB refused a command). `progress` runs after every
 * refresh. */
typedef void shed_fn(struct shed *sh, int status, const struct cut_err *err,
		     void *arg);

/* Shed the sessions of the single target of `tg` (which must stay alive).
 * Returns NULL with *err if it cannot start (callbacks never run). */
struct shed *shed_start(struct fleet *f, const struct fleet_targets *tg,
			const struct shed_opts *opts, shed_fn *progress,
			shed_fn *done, void *arg, struct cut_err *err);
void shed_cancel(struct shed *sh);
const struct shed_stats *shed_stats(const struct shed *sh);

/* "50/s", "50", "3000/m", "2.5/s" -> per second (> 0). 0 or CUT_EUSAGE. */
int shed_parse_rate(const char *s, double *per_sec);

#endif
