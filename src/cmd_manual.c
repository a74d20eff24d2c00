/* cmd_manual.c - drain, undrain, maint, weight and wait: thin sequences
 * over the fleet.
 *
 *   READ (show servers state on every LB)
 *     -> RESOLVE (names exist everywhere, admin level)   errors: exit 2/3
 *     -> APPLY   (all LBs in parallel, undone on failure) skipped by `wait`
 *     -> WAIT    (--wait, --wait-up, `wait --until`)
 *     -> THEN    (drain --then maint)
 *     -> done
 *
 * Interrupting (SIGINT/SIGTERM) during a wait stops waiting and leaves
 * the change in place (a drained server stays drained: that was the
 * order); during an apply it lets the apply finish (milliseconds, and a
 * half-applied change is worse), then stops.
 */
#include "app.h"
#include "log.h"
#include "strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum man_phase {
	MAN_PH_READ = 0,
	MAN_PH_APPLY,
	MAN_PH_WAIT,
	MAN_PH_THEN,
	MAN_PH_DONE,
	MAN_PH_COUNT		/* keep last */
};

struct manual {
	struct app *a;
	enum man_phase phase;
	struct fleet_targets tg;
	struct fleet_action act;
	bool has_act;
	enum fleet_cond cond;
	bool has_wait;
	const char *act_text;	/* "drained", "in maintenance", ... */
	size_t nnames;
	struct fleet_wait *wait;
	bool interrupted;
};

static void man_done(struct manual *m, int exit_code)
{
	struct app *a = m->a;

	m->phase = MAN_PH_DONE;
	fleet_targets_free(&m->tg);
	a->cmd = NULL;
	free(m);
	app_finish(a, exit_code);
}

static void man_fail(struct manual *m, int code, const struct cut_err *err)
{
	struct cut_err e;

	if (err == NULL) {
		cut_err_set(&e, code, "", NULL);
		err = &e;
	}
	out_error(&m->a->out, err);
	man_done(m, cli_exit_for(code));
}

static void start_wait(struct manual *m);
static void start_then(struct manual *m);

static void after_apply(struct manual *m)
{
	if (m->interrupted) {
		fprintf(stderr, "cutover: interrupted after the change was "
			"applied on every load balancer; not waiting\n");
		man_done(m, EXIT_INTERRUPTED);
		return;
	}
	if (m->has_wait)
		start_wait(m);
	else
		man_done(m, EXIT_OK);
}

static void on_applied(int status, const struct cut_err *err, void *arg)
{
	struct manual *m = arg;

	if (status != 0) {
		man_fail(m, status, err);
		return;
	}
	if (m->phase == MAN_PH_THEN) {
		out_applied(&m->a->out, m->a->fleet, &m->tg, "in maintenance");
		man_done(m, m->interrupted ? EXIT_INTERRUPTED : EXIT_OK);
		return;
	}
	out_applied(&m->a->out, m->a->fleet, &m->tg, m->act_text);
	after_apply(m);
}

static void on_wait_progress(struct fleet_wait *w, int status,
			     const struct cut_err *err, void *arg)
{
	struct manual *m = arg;

	out_wait_progress(&m->a->out, w, fleet_cond_name(m->cond));
}

static void on_wait_done(struct fleet_wait *w, int status,
			 const struct cut_err *err, void *arg)
{
	struct manual *m = arg;
	struct app *a = m->a;

	m->wait = NULL;
	out_wait_result(&a->out, a->fleet, w, status, fleet_cond_name(m->cond));
	if (status == CUT_ECANCELED) {
		fprintf(stderr, "cutover: interrupted while waiting; the "
			"servers are left as they are now (%s)\n",
			m->has_act ? m->act_text : "unchanged");
		man_done(m, EXIT_INTERRUPTED);
		return;
	}
	if (status == CUT_ETIMEOUT) {
		fprintf(stderr, "cutover: %s; the servers are left as they are "
			"now%s\n", err->msg,
			m->has_act ? " (the change stays applied)" : "");
		man_done(m, EXIT_TIMEOUT);
		return;
	}
	if (status != 0) {
		man_fail(m, status, err);
		return;
	}
	if (a->opt->then_maint) {
		start_then(m);
		return;
	}
	man_done(m, EXIT_OK);
}

static void start_wait(struct manual *m)
{
	struct app *a = m->a;

	m->phase = MAN_PH_WAIT;
	m->wait = fleet_wait_start(a->fleet, &m->tg, m->cond,
				   a->opt->timeout_ms, a->opt->poll_ms,
				   on_wait_progress, on_wait_done, m);
	if (m->wait == NULL)
		man_fail(m, UV_ENOMEM, NULL);
}

static void start_then(struct manual *m)
{
	struct fleet_action act = { .kind = FLEET_ACT_STATE,
				    .state = SRV_ADMIN_MAINT };
	int rc;

	m->phase = MAN_PH_THEN;
	/* The targets' recorded state is what undo restores: drained. */
	for (size_t i = 0; i < m->tg.n; i++)
		for (size_t j = 0; j < m->tg.nlb; j++)
			if (m->tg.t[i].lb[j].admin == SRV_ADMIN_READY)
				m->tg.t[i].lb[j].admin = SRV_ADMIN_DRAIN;
	rc = fleet_apply(m->a->fleet, &m->tg, &act, on_applied, m);
	if (rc == CUT_EALREADY)
		man_done(m, EXIT_OK);
	else if (rc != 0)
		man_fail(m, rc, NULL);
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct manual *m = arg;
	struct app *a = m->a;
	const char *const *names = a->opt->args;
	struct cut_err err;
	int rc;

	cut_err_clear(&err);
	rc = fleet_resolve(v, names, m->nnames,
			   m->has_act ? RTAPI_LEVEL_ADMIN : RTAPI_LEVEL_USER,
			   &m->tg, &err);
	fleet_view_free(v);
	if (rc != 0) {
		man_fail(m, rc, &err);
		return;
	}
	if (m->interrupted) {
		fprintf(stderr, "cutover: interrupted before any change\n");
		man_done(m, EXIT_INTERRUPTED);
		return;
	}
	if (!m->has_act) {
		start_wait(m);
		return;
	}
	m->phase = MAN_PH_APPLY;
	rc = fleet_apply(a->fleet, &m->tg, &m->act, on_applied, m);
	if (rc == CUT_EALREADY) {
		out_applied(&a->out, a->fleet, &m->tg, "already in maintenance");
		after_apply(m);
	} else if (rc != 0) {
		man_fail(m, rc, NULL);
	}
}

static int parse_action(struct manual *m, const struct cli_opts *o)
{
	m->nnames = o->nargs;
	m->has_act = true;
	m->act.kind = FLEET_ACT_STATE;
	switch (o->cmd) {
	case CMD_DRAIN:
		m->act.state = SRV_ADMIN_DRAIN;
		m->act.keep_maint = true;
		m->act_text = "drained";
		m->has_wait = o->wait;
		m->cond = FLEET_UNTIL_DRAINED;
		break;
	case CMD_UNDRAIN:
		m->act.state = SRV_ADMIN_READY;
		m->act_text = "ready";
		m->has_wait = o->wait_up;
		m->cond = FLEET_UNTIL_UP;
		break;
	case CMD_MAINT:
		m->act.state = SRV_ADMIN_MAINT;
		m->act_text = "in maintenance";
		break;
	case CMD_WEIGHT: {
		const char *w = o->args[o->nargs - 1];

		m->nnames = o->nargs - 1;
		m->act.kind = FLEET_ACT_WEIGHT;
		if (str_parse_weight(w, &m->act.weight, &m->act.percent) != 0) {
			fprintf(stderr, "cutover: weight: '%s' is not 0-256 or "
				"0%%-100%%\n", w);
			return EXIT_USAGE;
		}
		m->act_text = "weight set";
		break;
	}
	case CMD_WAIT:
		m->has_act = false;
		m->has_wait = true;
		m->cond = o->until;
		break;
	default:
		return EXIT_USAGE;
	}
	return 0;
}

static int manual_start(struct app *a)
{
	struct manual *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL)
		return EXIT_FAILED;
	m->a = a;
	rc = parse_action(m, a->opt);
	if (rc != 0) {
		free(m);
		return rc;
	}
	a->cmd = m;
	m->phase = MAN_PH_READ;
	rc = fleet_read(a->fleet, NULL, FLEET_READ_STATE, on_view, m);
	if (rc != 0) {
		struct cut_err err;

		cut_err_set(&err, rc, "read", NULL);
		out_error(&a->out, &err);
		a->cmd = NULL;
		free(m);
		return cli_exit_for(rc);
	}
	return 0;
}

static void manual_signal(struct app *a, int count)
{
	struct manual *m = a->cmd;

	if (m == NULL)
		return;
	m->interrupted = true;
	if (m->wait != NULL) {
		fleet_wait_cancel(m->wait);
		return;
	}
	if (count >= 2) {
		fprintf(stderr, "cutover: second interrupt: exiting now; a "
			"change may be applied on some load balancers only, "
			"check with 'cutover status'\n");
		exit(EXIT_INTERRUPTED);
	}
}

const struct app_cmd_ops cmd_manual_ops = {
	.start = manual_start,
	.signal = manual_signal,
};
