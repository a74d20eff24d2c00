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
 *
 * Every run is journaled (journal.h): the first record (kind "switch",
 * the plan's text, the LBs, the direction "to") is durable before the
 * loop runs, "start" is durable before the first step, and every step
 * change is recorded through the notify hook of bluegreen's one setter.
 * `cutover resume` of a switch comes here (cmd_switch_resume): the plan
 * and LBs come from the journal and the switch runs again in the same
 * direction (every step is idempotent), or, with --abort, in the other.
 */
#include "app.h"
#include "bluegreen.h"
#include "cmd_switch.h"
#include "confirm.h"
#include "fleet_map.h"
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
	struct runlock lock;
	struct journal *journal;	/* NULL on --dry-run */
	struct journal_run jr;		/* resume: the run being finished */
	bool resuming;			/* cutover resume */
	bool aborting;			/* resume --abort, or a resume of a
					 * killed one: back where it was */
	bool started;			/* "start"/"resume" is durable */
	bool to_blue;
	bool interrupted;
	int code;			/* exit code, once the run ended */
};

static void cmd_end(struct switch_cmd *c, int exit_code)
{
	struct app *a = c->a;
	struct journal_run jr = c->jr;	/* the fleet borrows its LB names */

	if (c->ask != NULL)
		confirm_cancel(c->ask);
	if (c->journal != NULL) {
		/* A run that never began leaves no journal behind. */
		if (c->started || c->resuming)
			journal_close(c->journal, NULL, NULL);
		else
			journal_discard(c->journal);
		c->journal = NULL;
	}
	runlock_release(&c->lock);
	bg_free(c->bg);
	probe_env_free(c->penv);
	plan_free(c->plan);
	a->cmd = NULL;
	free(c);
	app_finish(a, exit_code);
	journal_run_free(&jr);
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

	journal_note(c->journal, json_pack("{s:s, s:s, s:s, s:s}", "ev", "step",
					   "step", bg_step_name(to), "from",
					   bg_step_name(from), "reason", reason));
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

static void on_end_durable(int status, const struct cut_err *err, void *arg)
{
	struct switch_cmd *c = arg;

	if (status != 0)
		fprintf(stderr, "cutover: warning: %s\n",
			err ? err->msg : "journal");
	cmd_end(c, c->code);
}

/* The journal says how the run ended and where traffic is. */
static int journal_end(struct switch_cmd *c, int status, const char *reason)
{
	const char *name = c->code == EXIT_OK
				   ? (c->aborting ? "aborted" : "ok")
			   : c->code == EXIT_UNSAFE      ? "unsafe"
			   : c->code == EXIT_INTERRUPTED ? "interrupted"
							 : "failed";

	return journal_intent(c->journal,
			      json_pack("{s:s, s:s, s:s, s:s}", "ev", "end",
					"status", name, "reason", reason,
					"result", status == 0 ? "done"
						  : status == CUT_ECHANGED
						  ? "rolled back" : "failed"),
			      on_end_durable, c);
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
	c->code = code;
	if (c->journal != NULL && c->started &&
	    journal_end(c, status, reason) == 0)
		return;
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

static void on_started(int status, const struct cut_err *err, void *arg)
{
	struct switch_cmd *c = arg;

	if (status != 0) {
		fprintf(stderr, "cutover: error: %s (nothing was changed)\n",
			err ? err->msg : "journal");
		cmd_end(c, EXIT_FAILED);
		return;
	}
	if (c->interrupted) {
		fprintf(stderr, "cutover: interrupted before any change\n");
		cmd_end(c, EXIT_INTERRUPTED);
		return;
	}
	c->started = true;
	bg_run(c->bg);
}

/* The run begins once its "start" (or "resume") record is on disk. */
static void run(struct switch_cmd *c)
{
	json_t *rec = c->resuming
			      ? json_pack("{s:s, s:I, s:b, s:s}", "ev", "resume",
					  "pid", (json_int_t)getpid(), "abort",
					  c->aborting, "to",
					  c->to_blue ? "blue" : "green")
			      : json_pack("{s:s}", "ev", "start");
	int rc = journal_intent(c->journal, rec, on_started, c);

	if (rc != 0) {
		fprintf(stderr, "cutover: error: journal: %s (nothing was "
			"changed)\n", cut_strerror(rc));
		cmd_end(c, EXIT_FAILED);
	}
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

/* After the LBs are read (and for resume, reported): dry run, --yes or
 * ask. */
static void proceed(struct switch_cmd *c)
{
	char q[512];
	size_t n = fleet_size(c->a->fleet);

	if (c->a->opt->dry_run) {
		dry_run(c);
		cmd_end(c, EXIT_OK);
		return;
	}
	if (c->a->opt->yes) {
		run(c);
		return;
	}
	if (c->resuming)
		snprintf(q, sizeof(q), "%s run %s: switch traffic to %s on %zu "
			 "load balancer%s?", c->aborting ? "Abort" : "Finish",
			 c->jr.id, c->to_blue ? "blue" : "green", n,
			 n == 1 ? "" : "s");
	else
		snprintf(q, sizeof(q), "Switch traffic to %s on %zu load "
			 "balancer%s (cutover switch %s --dry-run shows every "
			 "step)?", c->to_blue ? "blue" : "green", n,
			 n == 1 ? "" : "s", c->plan->path);
	c->ask = confirm_ask(c->a->loop, q, on_answer, c);
	if (c->ask == NULL) {
		fprintf(stderr, "cutover: standard input is not a terminal: add "
			"--yes to switch without confirmation (nothing was "
			"changed)\n");
		cmd_end(c, EXIT_USAGE);
	}
}

static void on_map_report(const struct fleet_map_value *values, void *arg)
{
	struct switch_cmd *c = arg;
	const struct plan_switch *sw = &c->plan->sw;
	size_t j;

	for (j = 0; j < fleet_size(c->a->fleet); j++)
		fprintf(stderr, "  %-20s map %s %s: %s\n",
			fleet_lb_name(c->a->fleet, j), sw->map, sw->key,
			values[j].status != 0 ? values[j].msg
			: values[j].found     ? values[j].value
					      : "(no entry)");
	proceed(c);
}

/* Resume: what the journal says, and what every LB reports now. */
static void resume_report(struct switch_cmd *c, const struct fleet_view *v)
{
	const struct fleet_targets *side[2] = { bg_blue(c->bg), bg_green(c->bg) };
	const char *side_name[2] = { "blue", "green" };
	size_t j, k, i;

	fprintf(stderr, "cutover: %s switch run %s of %s (to %s, started by "
		"pid %lld on %s)\n", c->aborting ? "aborting" : "resuming",
		c->jr.id, c->jr.plan_path, c->jr.sw_to, c->jr.pid, c->jr.host);
	fprintf(stderr, "  journal: last step %s%s%s\n",
		c->jr.sw_step[0] ? c->jr.sw_step : "(none)",
		c->jr.ended ? ", ended " : "", c->jr.ended ? c->jr.end_status : "");
	for (j = 0; j < v->n; j++)
		for (k = 0; k < 2; k++)
			for (i = 0; i < side[k]->n; i++) {
				const struct fleet_target *t = &side[k]->t[i];
				const struct srvstate_row *r = srvstate_find(
					&v->lb[j].state, t->backend, t->server);

				if (r == NULL)
					continue;
				fprintf(stderr, "  %-20s %-5s %s/%s %s/%s weight "
					"%d\n", v->lb[j].name, side_name[k],
					t->backend, t->server,
					srv_admin_name(r->admin),
					srv_op_name(r->op_state), (int)r->uweight);
			}
	fprintf(stderr, "  -> %s\n", c->to_blue
		? "switching traffic back to blue on every LB"
		: "switching traffic to green again on every LB (verify, "
		  "switch, watch, drain blue, retire)");
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct switch_cmd *c = arg;
	const struct bg_notify quiet = { NULL, NULL, NULL, NULL };
	const struct bg_notify n = { on_step, on_log, on_end, c };
	struct cut_err err;
	size_t j;
	int rc;

	for (j = 0; j < v->n; j++)
		if (v->lb[j].status != 0) {
			cut_err_set(&err, CUT_EUNKNOWN, v->lb[j].name,
				    "%s %s: %s", v->lb[j].name,
				    fleet_lb_failure(v->lb[j].status),
				    v->lb[j].err.msg);
			fleet_view_free(v);
			out_error(&c->a->out, &err);
			cmd_end(c, EXIT_LB);
			return;
		}
	/* Dry run: resolve both sides, print, start nothing. */
	c->bg = bg_new(c->a->loop, c->a->fleet, c->plan, v, c->to_blue,
		       c->penv, c->a->opt->dry_run ? &quiet : &n, &err);
	if (c->bg == NULL) {
		fleet_view_free(v);
		out_error(&c->a->out, &err);
		cmd_end(c, cli_exit_for(err.code));
		return;
	}
	if (c->resuming)
		resume_report(c, v);
	fleet_view_free(v);
	if (c->resuming && c->plan->sw.mode == PLAN_SWITCH_MAP) {
		rc = fleet_map_get(c->a->fleet, c->plan->sw.map, c->plan->sw.key,
				   on_map_report, c);
		if (rc != 0)
			cmd_end(c, cli_exit_for(rc));
		return;
	}
	proceed(c);
}

/* The run's journal: a new one (with the direction), or the resumed
 * run's. */
static int journal_open(struct switch_cmd *c)
{
	c->journal = cmd_plan_journal(c->a, c->plan, "switch",
				      c->resuming ? c->jr.path : NULL,
				      json_pack("{s:s}", "to", c->to_blue
							       ? "blue"
							       : "green"));
	return c->journal != NULL ? 0 : EXIT_FAILED;
}

/* Takes `plan` and `jr` (NULL for a new run). */
static int begin(struct app *a, struct plan *plan, struct journal_run *jr)
{
	struct switch_cmd *c;
	struct cut_err err;
	int rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		plan_free(plan);
		journal_run_free(jr);
		return EXIT_FAILED;
	}
	c->a = a;
	c->plan = plan;
	c->lock.fd = -1;
	if (jr != NULL) {
		c->jr = *jr;
		c->resuming = true;
		/* Abort (and the resume of an abort): the other way. */
		c->aborting = a->opt->abort || jr->sw_aborting;
		c->to_blue = (strcmp(jr->sw_to, "blue") == 0) != c->aborting;
	} else {
		c->to_blue = a->opt->to_blue;
	}
	a->cmd = c;
	c->penv = probe_env_new(a->loop, &err);
	if (c->penv == NULL) {
		out_error(&a->out, &err);
		cmd_end(c, EXIT_FAILED);
		return 0;
	}
	rc = cmd_plan_lock(a, plan, c->resuming ? "resume" : "switch",
			   &c->lock);
	if (rc == 0 && !a->opt->dry_run)
		rc = journal_open(c);
	if (rc == 0)
		rc = cli_exit_for(fleet_read(a->fleet, NULL, FLEET_READ_STATE,
					     on_view, c));
	if (rc != 0)
		cmd_end(c, rc);
	return 0;
}

static int switch_start(struct app *a)
{
	struct plan *plan;
	int rc;

	if ((rc = cmd_plan_load(a, true, &plan)) != 0)
		return rc;
	return begin(a, plan, NULL);
}

int cmd_switch_resume(struct app *a, struct journal_run *jr)
{
	struct cut_err err;
	struct plan *p = NULL, *plan;
	int rc;

	cut_err_clear(&err);
	if (plan_load_buf(jr->plan_path, jr->plan_text, strlen(jr->plan_text),
			  &p, &err) != 0) {
		out_error(&a->out, &err);
		journal_run_free(jr);
		return EXIT_USAGE;
	}
	/* The run's own LBs; the plan's must not override them. */
	if (!a->opt->lbs_from_cli && jr->nlb > 0) {
		if (cmd_plan_use_lbs(a, jr->lbs, jr->nlb) != 0) {
			plan_free(p);
			journal_run_free(jr);
			return EXIT_FAILED;
		}
		a->opt->lbs_from_cli = true;
	}
	if ((rc = cmd_plan_setup(a, p, true, &plan)) != 0) {
		journal_run_free(jr);
		return rc;
	}
	a->ops = &cmd_switch_ops;	/* signals go to the switch */
	return begin(a, plan, jr);
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
