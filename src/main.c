/* main.c - cutover's entry point: parse the command line, build the fleet,
 * run one libuv loop until the command is done, exit with its code. */
#include "app.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *a = s->data;

	a->signals++;
	LOG_INFO("signal %d received (%d so far)", signum, a->signals);
	if (a->ops != NULL && a->ops->signal != NULL)
		a->ops->signal(a, a->signals);
}

void app_finish(struct app *a, int exit_code)
{
	a->exit_code = exit_code;
	uv_signal_stop(&a->sig_int);
	uv_signal_stop(&a->sig_term);
	fleet_free(a->fleet);
	a->fleet = NULL;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int main(int argc, char **argv)
{
	struct cli_opts opt;
	struct cut_err err;
	struct app a;
	int rc;

	rc = cli_parse(argc, argv, &opt);
	if (rc != 0 || opt.cmd == CMD_HELP || opt.cmd == CMD_VERSION) {
		cli_opts_free(&opt);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	log_current_level = opt.quiet ? LOG_LVL_ERROR
				      : (enum log_level)(LOG_LVL_WARN + opt.verbose);
	if (log_current_level >= LOG_LVL_COUNT)
		log_current_level = LOG_LVL_DEBUG;

	memset(&a, 0, sizeof(a));
	a.loop = uv_default_loop();
	a.opt = &opt;
	out_init(&a.out, opt.json, opt.quiet);
	cut_err_clear(&err);
	/* A rollout takes its load balancers from the plan too: it builds
	 * the fleet itself once the plan is read. */
	if (opt.cmd != CMD_ROLLOUT && opt.cmd != CMD_SWITCH &&
	    opt.cmd != CMD_RESUME) {
		a.fleet = fleet_new(a.loop, opt.lbs, opt.nlb,
				    &(struct fleet_opts){ opt.lb_timeout_ms, 0,
						   opt.lb_retry_ms },
				    &err);
		if (a.fleet == NULL) {
			out_error(&a.out, &err);
			cli_opts_free(&opt);
			return EXIT_USAGE;
		}
	}
	a.ops = opt.cmd == CMD_STATUS    ? &cmd_status_ops
		: opt.cmd == CMD_ROLLOUT ? &cmd_rollout_ops
		: opt.cmd == CMD_RESUME ? &cmd_rollout_ops
		: opt.cmd == CMD_SHED	 ? &cmd_shed_ops
		: opt.cmd == CMD_SWITCH	 ? &cmd_switch_ops
					 : &cmd_manual_ops;
	uv_signal_init(a.loop, &a.sig_int);
	uv_signal_init(a.loop, &a.sig_term);
	a.sig_int.data = &a;
	a.sig_term.data = &a;
	uv_signal_start(&a.sig_int, on_signal, SIGINT);
	uv_signal_start(&a.sig_term, on_signal, SIGTERM);
	/* Signal handles must not keep the loop alive on their own. */
	uv_unref((uv_handle_t *)&a.sig_int);
	uv_unref((uv_handle_t *)&a.sig_term);

	rc = a.ops->start(&a);
	if (rc != 0)
		app_finish(&a, rc);
	uv_run(a.loop, UV_RUN_DEFAULT);

	uv_walk(a.loop, close_walk, NULL);
	uv_run(a.loop, UV_RUN_DEFAULT);
	uv_loop_close(a.loop);
	cli_opts_free(&opt);
	fflush(stdout);
	return a.exit_code;
}
