/* cmd_switch.c - `cutover switch PLAN [--to green|blue] [--dry-run]
 * [--yes] [--json]`: a blue/green switchover as the plan's switch: section
 * says, on every load balancer at once (bluegreen.c does the work).
 *
 *   load the plan -> read every LB -> resolve blue and green
 *     -> --dry-run: print the steps and commands, change nothing
 *     -> confirm on a terminal (or --yes) -> run -> exit
 *
 * Exit: 0 done (or switched back with --to blue as asked); 1 failed or
 * rolled back after a breach (the last lines say where traffic is); 5
 * interrupted; 7 a change could not be undone on some LB.
 */
#include "app.h"
#include "bluegreen.h"
#include "confirm.h"
#include "rtapi_cmd.h"
#include "cmd_plan.h"
#include "strutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct switch_cmd {
	struct app *a;
	struct plan *plan;
	struct probe_env *penv;
	struct bg *bg;
	struct confirm *ask;
	struct fleet_view *view;	/* kept until the run starts */
	struct runlock lock;
	bool to_blue;
	bool interrupted;
};

static void cmd_end(struct switch_cmd *c, int exit_code)
{
	struct app *a = c->a;

	if (c->ask != NULL)
		confirm_cancel(c->ask);
	runlock_release(&c->lock);
	bg_free(c->bg);
	fleet_view_free(c->view);
	probe_env_free(c->penv);
	plan_free(c->plan);
	a->cmd = NULL;
	free(c);
	app_finish(a, exit_code);
}

static void emit_json(json_t *ev)
{
	char *text;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(ev, "ts", json_real((double)ts.tv_sec +
						(double)ts.tv_nsec / 1e9));
	text = json_dumps(ev, JSON_COMPACT);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(ev);
	fflush(stdout);
}

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void line(const char *fmt, ...)
{
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	localtime_r(&now, &tm);
	printf("%02d:%02d:%02d ", tm.tm_hour, tm.tm_min, tm.tm_sec);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void on_step(void *arg, enum bg_step from, enum bg_step to,
		    const char *reason)
{
	struct switch_cmd *c = arg;

	if (c->a->opt->json) {
		emit_json(json_pack("{s:s, s:s, s:s, s:s}", "event", "step",
				    "from", bg_step_name(from), "to",
				    bg_step_name(to), "reason", reason));
		return;
	}
	if (from == to)
		line("switch: %s%s%s", bg_step_name(to), reason[0] ? " - " : "",
		     reason);
	else
		line("switch: %s -> %s%s%s", bg_step_name(from), bg_step_name(to),
		     reason[0] ? " - " : "", reason);
}

static void on_log(void *arg, const char *kind, const char *msg)
{
	struct switch_cmd *c = arg;

	if (c->a->opt->json)
		emit_json(json_pack("{s:s, s:s, s:s}", "event", "log", "kind",
				    kind, "message", msg));
	else
		line("[%s] %s", kind, msg);
}

static void on_end(void *arg, int status, const char *reason)
{
	struct switch_cmd *c = arg;
	int code = status == 0		    ? EXIT_OK
		   : status == CUT_EUNDO	    ? EXIT_UNSAFE
		   : c->interrupted	    ? EXIT_INTERRUPTED
					    : EXIT_FAILED;

	if (c->a->opt->json)
		emit_json(json_pack("{s:s, s:b, s:s, s:s}", "event", "end", "ok",
				    status == 0, "result",
				    status == 0		     ? "done"
				    : status == CUT_ECHANGED ? "rolled back"
							     : "failed",
				    "reason", reason));
	else if (status == 0)
		printf("\nswitch done: traffic is on %s\n",
		       c->to_blue ? "blue" : "green");
	else if (status == CUT_ECHANGED)
		printf("\nswitch ROLLED BACK: traffic is back on blue: %s\n",
		       reason);
	else
		printf("\nswitch FAILED: %s\n", reason);
	fflush(stdout);
	cmd_end(c, code);
}

/* ---- dry run --------------------------------------------------------------- */

static void print_side(const char *side, const struct fleet_targets *tg)
{
	size_t i;

	printf("  %s:", side);
	for (i = 0; i < tg->n; i++)
		printf(" %s/%s", tg->t[i].backend, tg->t[i].server);
	printf("\n");
}

static void dry_run(struct switch_cmd *c)
{
	const struct plan *p = c->plan;
	const struct plan_switch *sw = &p->sw;
	struct rtcmd cmd;
	char d[32];
	size_t i;

	printf("dry run: nothing is changed.\n");
	printf("switch (%s) on %zu load balancer%s:\n",
	       plan_switch_mode_name(sw->mode), fleet_size(c->a->fleet),
	       fleet_size(c->a->fleet) == 1 ? "" : "s");
	print_side("blue", bg_blue(c->bg));
	print_side("green", bg_green(c->bg));
	printf("\n1. verify green: UP on every LB (%s), ",
	       sw->min_green ? "at least min_green" : "all of them");
	printf("%s\n", p->probe.http || p->probe.tcp || p->probe.exec
			       ? "the plan's probes pass on each green server"
			       : "no probe in the plan");
	if (sw->mode == PLAN_SWITCH_MAP) {
		rtcmd_get_map(&cmd, sw->map, sw->key);
		printf("   on every LB: %s (must be %s or %s)\n", cmd.text,
		       sw->blue_backend, sw->green_backend);
	}
	printf("2. hooks before_switch: %zu command%s\n",
	       p->hooks[PLAN_HOOK_BEFORE_SWITCH].n,
	       p->hooks[PLAN_HOOK_BEFORE_SWITCH].n == 1 ? "" : "s");
	if (sw->mode == PLAN_SWITCH_MAP) {
		rtcmd_set_map(&cmd, sw->map, sw->key,
			      c->to_blue ? sw->blue_backend : sw->green_backend);
		printf("3. on every LB at once: %s%s\n", cmd.text,
		       sw->write_file ? "; then the map file rewritten on disk "
					"(temp file + rename)"
				      : "");
	} else {
		for (i = 0; i < sw->nsteps; i++)
			printf("3.%zu green at %u%% of its weight%s, watch\n", i + 1,
			       sw->steps[i],
			       sw->steps[i] == 100 ? ", blue drained"
						   : ", blue at the rest");
	}
	str_format_duration(p->watch.for_ms, d, sizeof(d));
	printf("4. watch green %s on HAProxy's counters; on a breach switch "
	       "back to blue on every LB and run on_rollback\n", d);
	str_format_duration(p->drain_timeout_ms, d, sizeof(d));
	printf("5. wait until blue has 0 sessions on every LB (deadline %s, "
	       "then %s)\n", d, plan_on_timeout_name(p->on_timeout));
	printf("6. hooks after_switch, then retire (%zu command%s)\n",
	       p->hooks[PLAN_HOOK_RETIRE].n,
	       p->hooks[PLAN_HOOK_RETIRE].n == 1 ? "" : "s");
	fflush(stdout);
}

/* ---- start ------------------------------------------------------------------ */

static void run(struct switch_cmd *c)
{
	const struct bg_notify n = { on_step, on_log, on_end, c };
	struct cut_err err;

	c->bg = bg_new(c->a->loop, c->a->fleet, c->plan, c->view, c->to_blue,
		       c->penv, &n, &err);
	fleet_view_free(c->view);
	c->view = NULL;
	if (c->bg == NULL) {
		out_error(&c->a->out, &err);
		cmd_end(c, cli_exit_for(err.code));
		return;
	}
	bg_run(c->bg);
}

static void on_answer(bool yes, void *arg)
{
	struct switch_cmd *c = arg;

	c->ask = NULL;
	if (!yes) {
		fprintf(stderr, "cutover: not confirmed; nothing was changed\n");
		cmd_end(c, EXIT_INTERRUPTED);
		return;
	}
	run(c);
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct switch_cmd *c = arg;
	const struct bg_notify quiet = { NULL, NULL, NULL, NULL };
	struct cut_err err;
	char q[512];
	size_t j;

	c->view = v;
	for (j = 0; j < v->n; j++)
		if (v->lb[j].status != 0) {
			cut_err_set(&err, CUT_EUNKNOWN, v->lb[j].name,
				    "%s %s: %s", v->lb[j].name,
				    fleet_lb_failure(v->lb[j].status),
				    v->lb[j].err.msg);
			out_error(&c->a->out, &err);
			cmd_end(c, EXIT_LB);
			return;
		}
	if (c->a->opt->dry_run) {
		/* Resolve both sides, print, start nothing. */
		c->bg = bg_new(c->a->loop, c->a->fleet, c->plan, v, c->to_blue,
			       c->penv, &quiet, &err);
		if (c->bg == NULL) {
			out_error(&c->a->out, &err);
			cmd_end(c, cli_exit_for(err.code));
			return;
		}
		dry_run(c);
		cmd_end(c, EXIT_OK);
		return;
	}
	if (c->a->opt->yes) {
		run(c);
		return;
	}
	snprintf(q, sizeof(q), "Switch traffic to %s on %zu load balancer%s "
		 "(cutover switch %s --dry-run shows every step)?",
		 c->to_blue ? "blue" : "green", v->n, v->n == 1 ? "" : "s",
		 c->plan->path);
	c->ask = confirm_ask(c->a->loop, q, on_answer, c);
	if (c->ask == NULL) {
		fprintf(stderr, "cutover: standard input is not a terminal: add "
			"--yes to switch without confirmation (nothing was "
			"changed)\n");
		cmd_end(c, EXIT_USAGE);
	}
}

static int switch_start(struct app *a)
{
	struct switch_cmd *c;
	struct cut_err err;
	struct plan *plan;
	int rc;

	if ((rc = cmd_plan_load(a, true, &plan)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		plan_free(plan);
		return EXIT_FAILED;
	}
	c->a = a;
	c->plan = plan;
	c->lock.fd = -1;
	c->to_blue = a->opt->to_blue;
	a->cmd = c;
	c->penv = probe_env_new(a->loop, &err);
	if (c->penv == NULL) {
		out_error(&a->out, &err);
		cmd_end(c, EXIT_FAILED);
		return 0;
	}
	rc = cmd_plan_lock(a, plan, "switch", &c->lock);
	if (rc == 0)
		rc = cli_exit_for(fleet_read(a->fleet, NULL, FLEET_READ_STATE,
					     on_view, c));
	if (rc != 0)
		cmd_end(c, rc);
	return 0;
}

static void switch_signal(struct app *a, int count)
{
	struct switch_cmd *c = a->cmd;

	if (c == NULL)
		return;
	c->interrupted = true;
	if (c->ask != NULL) {
		confirm_cancel(c->ask);
		return;
	}
	if (c->bg != NULL)
		bg_interrupt(c->bg);
}

const struct app_cmd_ops cmd_switch_ops = {
	.start = switch_start,
	.signal = switch_signal,
};
