/* cmd_shed.c - `cutover shed BACKEND/SERVER --rate 50/s [--jitter 20%]
 * [--budget N] [--timeout DUR]`: close a server's remaining sessions one
 * by one at the given pace, on every LB, until none is left.
 *
 *   READ + RESOLVE (exactly one server, admin level on every LB)
 *     -> DRAIN first where it is still ready (nobody new comes in)
 *     -> SHED (progress on a terminal) -> summary
 *
 * Safe to interrupt: the server stays drained and the sessions not yet
 * closed stay open (exit 5).
 */
#include "app.h"
#include "shed.h"
#include "strutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shed_cmd {
	struct app *a;
	struct fleet_targets tg;
	struct shed *shed;
	bool interrupted;
	bool progress_shown;
};

static void cmd_done(struct shed_cmd *c, int exit_code)
{
	struct app *a = c->a;

	fleet_targets_free(&c->tg);
	a->cmd = NULL;
	free(c);
	app_finish(a, exit_code);
}

static void on_progress(struct shed *sh, int status, const struct cut_err *err,
			void *arg)
{
	struct shed_cmd *c = arg;
	const struct shed_stats *st = shed_stats(sh);
	char el[32], eta[32];

	if (c->a->opt->json || c->a->opt->quiet || !c->a->out.err_tty)
		return;
	str_format_duration(st->elapsed_ms, el, sizeof(el));
	str_format_duration(st->eta_ms, eta, sizeof(eta));
	fprintf(stderr, "\r\033[Kshedding %s/%s: %lld left, %lld closed "
		"(%.1f/s)%s, %s, ETA %s", c->tg.t[0].backend, c->tg.t[0].server,
		(long long)st->left, (long long)st->closed, st->rate,
		st->paused ? ", PAUSED: clients not back yet" : "", el,
		st->left_known ? eta : "?");
	fflush(stderr);
	c->progress_shown = true;
}

static void print_result(struct shed_cmd *c, const struct shed_stats *st,
			 int status)
{
	const struct fleet_target *t = &c->tg.t[0];
	int64_t back = st->others_now - st->others_start;
	char el[32];

	if (c->progress_shown)
		fprintf(stderr, "\r\033[K");
	if (c->a->opt->json) {
		json_t *doc = json_pack(
			"{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:f, s:f}",
			"backend", t->backend, "server", t->server, "ok",
			status == 0, "result",
			status == 0 ? "done" : cut_strerror(status), "closed",
			(json_int_t)st->closed, "gone", (json_int_t)st->gone,
			"left", (json_int_t)st->left, "others_rise",
			(json_int_t)back, "rate", st->rate, "target_rate",
			c->a->opt->rate);
		char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(doc);
		return;
	}
	str_format_duration(st->elapsed_ms, el, sizeof(el));
	printf("%s/%s: %lld session%s closed in %s (%.1f/s, asked %.1f/s), "
	       "%lld closed by themselves first, %lld left; other servers' "
	       "sessions %+lld\n", t->backend, t->server, (long long)st->closed,
	       st->closed == 1 ? "" : "s", el, st->rate, c->a->opt->rate,
	       (long long)st->gone, (long long)st->left, (long long)back);
	if (status == 0 && st->closed > 0 && back < st->closed / 2)
		printf("note: fewer clients came back on the other servers (%+lld) "
		       "than were closed (%lld) so far\n", (long long)back,
		       (long long)st->closed);
	fflush(stdout);
}

static void on_done(struct shed *sh, int status, const struct cut_err *err,
		    void *arg)
{
	struct shed_cmd *c = arg;

	c->shed = NULL;
	print_result(c, shed_stats(sh), status);
	if (status == CUT_ECANCELED) {
		fprintf(stderr, "cutover: interrupted; %s/%s stays drained\n",
			c->tg.t[0].backend, c->tg.t[0].server);
		cmd_done(c, EXIT_INTERRUPTED);
		return;
	}
	if (status != 0) {
		out_error(&c->a->out, err);
		cmd_done(c, status == CUT_ETIMEOUT ? EXIT_TIMEOUT
						   : cli_exit_for(status));
		return;
	}
	cmd_done(c, EXIT_OK);
}

static void start_shed(struct shed_cmd *c)
{
	struct shed_opts o = {
		.rate = c->a->opt->rate,
		.jitter = c->a->opt->jitter,
		.timeout_ms = c->a->opt->timeout_set ? c->a->opt->timeout_ms : 0,
		.budget = c->a->opt->budget,
	};
	struct cut_err err;

	if (c->interrupted) {
		cmd_done(c, EXIT_INTERRUPTED);
		return;
	}
	c->shed = shed_start(c->a->fleet, &c->tg, &o, on_progress, on_done, c,
			     &err);
	if (c->shed == NULL) {
		out_error(&c->a->out, &err);
		cmd_done(c, cli_exit_for(err.code));
	}
}

static void on_drained(int status, const struct cut_err *err, void *arg)
{
	struct shed_cmd *c = arg;

	if (status != 0) {
		out_error(&c->a->out, err);
		cmd_done(c, cli_exit_for(status));
		return;
	}
	if (!c->a->opt->json && !c->a->opt->quiet)
		printf("%s/%s: drained first (it was still in service)\n",
		       c->tg.t[0].backend, c->tg.t[0].server);
	start_shed(c);
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct shed_cmd *c = arg;
	struct fleet_action act = { .kind = FLEET_ACT_STATE,
				    .state = SRV_ADMIN_DRAIN,
				    .keep_maint = true };
	struct cut_err err;
	bool ready = false;
	size_t j;
	int rc;

	cut_err_clear(&err);
	rc = fleet_resolve(v, c->a->opt->args, 1, RTAPI_LEVEL_ADMIN, &c->tg,
			   &err);
	fleet_view_free(v);
	if (rc == 0 && c->tg.n != 1)
		rc = cut_err_set(&err, CUT_EUSAGE, c->a->opt->args[0],
				 "'%s' is in %zu backends: name one as "
				 "BACKEND/SERVER", c->a->opt->args[0], c->tg.n);
	if (rc != 0) {
		out_error(&c->a->out, &err);
		cmd_done(c, cli_exit_for(rc));
		return;
	}
	for (j = 0; j < c->tg.nlb; j++)
		if (c->tg.t[0].lb[j].admin == SRV_ADMIN_READY)
			ready = true;
	if (!ready) {
		start_shed(c);
		return;
	}
	rc = fleet_apply(c->a->fleet, &c->tg, &act, on_drained, c);
	if (rc != 0) {
		cut_err_set(&err, rc, "drain", NULL);
		out_error(&c->a->out, &err);
		cmd_done(c, cli_exit_for(rc));
	}
}

static int shed_cmd_start(struct app *a)
{
	struct shed_cmd *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return EXIT_FAILED;
	c->a = a;
	a->cmd = c;
	rc = fleet_read(a->fleet, NULL, FLEET_READ_STATE, on_view, c);
	if (rc != 0) {
		a->cmd = NULL;
		free(c);
		return cli_exit_for(rc);
	}
	return 0;
}

static void shed_cmd_signal(struct app *a, int count)
{
	struct shed_cmd *c = a->cmd;

	if (c == NULL)
		return;
	c->interrupted = true;
	if (c->shed != NULL)
		shed_cancel(c->shed);
}

const struct app_cmd_ops cmd_shed_ops = {
	.start = shed_cmd_start,
	.signal = shed_cmd_signal,
};
