/* cmd_switch.h - `cutover resume` of a switch run: cmd_rollout.c finds the
 * journal and, when it is a switch's, hands it over here. */
#ifndef CUT_CMD_SWITCH_H
#define CUT_CMD_SWITCH_H

#include "app.h"
#include "journal.h"

/* Finish (or with --abort, undo) the switch journaled in *jr, which is
 * taken (freed here in every case). Like app_cmd_ops.start: 0 or an exit
 * code. */
int cmd_switch_resume(struct app *a, struct journal_run *jr);

#endif
