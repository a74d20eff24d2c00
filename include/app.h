/* app.h - the state of one cutover invocation: options, loop, fleet,
 * output, signals and the exit code. Passed to the command handlers; there
 * is no global state besides the log level. */
#ifndef CUT_APP_H
#define CUT_APP_H

#include <uv.h>

#include "cli.h"
#include "fleet.h"
#include "output.h"

struct app;

/* A command: start() runs before the loop (0 or an exit code); signal()
 * is called for each SIGINT/SIGTERM, with the count so far. */
struct app_cmd_ops {
	int (*start)(struct app *a);
	void (*signal)(struct app *a, int count);
};

struct app {
	uv_loop_t *loop;
	struct cli_opts *opt;
	struct out out;
	struct fleet *fleet;
	int exit_code;
	int signals;
	uv_signal_t sig_int, sig_term;
	const struct app_cmd_ops *ops;
	void *cmd;		/* the command's own state */
};

/* Stop: record the exit code, close what keeps the loop alive. */
void app_finish(struct app *a, int exit_code);

extern const struct app_cmd_ops cmd_status_ops;
extern const struct app_cmd_ops cmd_manual_ops;
extern const struct app_cmd_ops cmd_rollout_ops;
extern const struct app_cmd_ops cmd_shed_ops;
extern const struct app_cmd_ops cmd_switch_ops;

#endif
