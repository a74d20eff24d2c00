/* output.h - everything cutover prints on stdout goes through here: the
 * status table, its JSON form, progress lines and results. Errors go to
 * stderr through out_error(). Other modules return structs and never
 * print. */
#ifndef CUT_OUTPUT_H
#define CUT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "fleet.h"
#include "status.h"

struct out {
	bool json;		/* --json: machine output only */
	bool tty;		/* stdout is a terminal */
	bool err_tty;		/* stderr is a terminal (progress line) */
	bool progress_shown;	/* a progress line is on screen */
	int quiet;
};

void out_init(struct out *o, bool json, int quiet);

/* Render a status report into b (text table or one JSON document). */
int out_status_render(const struct out *o, const struct status_report *r,
		      struct buf *b);

/* Progress of a wait: on a terminal one line rewritten in place (stderr),
 * otherwise nothing (the result line says it all). */
void out_wait_progress(struct out *o, const struct fleet_wait *w,
		       const char *verb);
/* The result of a wait: one line per target, or one JSON document. */
void out_wait_result(struct out *o, const struct fleet *f,
		     const struct fleet_wait *w, int status,
		     const char *verb);
/* The result of a change (drain, maint, weight...). */
void out_applied(struct out *o, const struct fleet *f,
		 const struct fleet_targets *tg, const char *what);

void out_error(struct out *o, const struct cut_err *err);
void out_clear_progress(struct out *o);

#endif
