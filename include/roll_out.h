/* roll_out.h - what a rollout shows: on a terminal a live view (one line
 * per server: phase, sessions left per LB, elapsed, ETA of the drain from
 * its decay) with log lines scrolling above it; plain timestamped lines
 * when not a terminal; one JSON event per line with --json; and a final
 * summary table. The JSON event schema is documented in README.md. */
#ifndef CUT_ROLL_OUT_H
#define CUT_ROLL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rollout.h"

struct roll_out;

enum roll_out_mode {
	ROLL_OUT_LIVE = 0,	/* terminal: live view */
	ROLL_OUT_PLAIN,		/* lines */
	ROLL_OUT_JSON,		/* JSON events */
	ROLL_OUT_MODE_COUNT	/* keep last */
};

struct roll_out *roll_out_new(uv_loop_t *loop, enum roll_out_mode mode,
			      const struct rollout *ro, const char *const *lbs,
			      size_t nlb);
/* Stops the refresh timer; frees once it is closed. */
void roll_out_free(struct roll_out *o);

void roll_out_run_start(struct roll_out *o, const char *plan_path);
void roll_out_state(struct roll_out *o, const struct roll_srv *s,
		    enum roll_state from, const char *reason);
/* Sessions left on each LB (-1: unknown) while waiting for a drain. */
void roll_out_sessions(struct roll_out *o, const struct roll_srv *s,
		       const int64_t *per_lb, size_t nlb);
/* A line of hook output, or a probe try, or any note about a server. */
void roll_out_log(struct roll_out *o, const struct roll_srv *s,
		  const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A note about the run as a whole (capacity, refusal...). */
void roll_out_note(struct roll_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void roll_out_run_end(struct roll_out *o, int status, const char *reason);

#endif
