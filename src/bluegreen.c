/* bluegreen.c - one blue/green switch run (see bluegreen.h).
 *
 * The steps form a table: each has a name and an enter function that
 * starts one operation; the operation's callback calls bg_next() with the
 * step to go to. One setter, bg_set(), makes every change and reports it.
 */
#include "bluegreen.h"
#include "fleet_map.h"
#include "hook_stage.h"
#include "log.h"
#include "mapfile.h"
#include "shed.h"
#include "strutil.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bg {
	uv_loop_t *loop;
	struct fleet *f;
	const struct plan *p;
	struct probe_env *penv;
	struct bg_notify n;
	enum bg_step step;
	bool to_blue;
	bool interrupted;
	bool ended;
	size_t canary;			/* index in p->sw.steps */
	struct fleet_targets green, blue;
	char green_be[STAT_NAME_MAX], blue_be[STAT_NAME_MAX];
	char **prev;			/* map mode: value per LB before */
	char **green_vals;		/* map mode: green per LB (undo of back) */
	/* the operation in flight */
	struct fleet_wait *wait;
	struct probe **probes;
	size_t probes_left, probes_failed;
	struct hook_stage *hook;
	enum plan_hook_stage hook_stage;
	struct hook_vars vars;
	int apply_step;
	size_t shed_index;
	struct shed *shed;
	struct fleet_targets one;	/* the blue server being shed */
	char (*addrs)[64], (*ports)[16];	/* per green server */
	bool unsafe;			/* a change could not be undone */
	int64_t (*base)[4];		/* watch baseline per (green srv, LB) */
	char reason[400];
	int status;
};

static void bg_set(struct bg *b, enum bg_step to, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct bg *b, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct bg *b, const char *kind, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->n.log != NULL)
		b->n.log(b->n.arg, kind, msg);
}

/* ---- resolving the two sides ---------------------------------------------- */

static int add_names(const struct fleet_view *v, const char *be,
		     const struct plan_srvset *set, char ***names, size_t *n)
{
	const struct srvstate_table *st = &v->lb[0].state;
	size_t i, k;

	for (i = 0; i < st->n; i++) {
		const struct srvstate_row *r = &st->rows[i];
		bool want = false;

		if (strcmp(r->be_name, be) != 0)
			continue;
		if (set == NULL || set->kind == PLAN_SERVERS_ALL)
			want = true;
		else if (set->kind == PLAN_SERVERS_PATTERN)
			want = fnmatch(set->pattern, r->srv_name, 0) == 0;
		else
			for (k = 0; k < set->n; k++)
				if (strcmp(set->names[k], r->srv_name) == 0)
					want = true;
		if (!want)
			continue;
		*names = realloc(*names, (*n + 1) * sizeof(**names));
		if (*names == NULL)
			return UV_ENOMEM;
		(*names)[*n] = malloc(2 * STAT_NAME_MAX + 2);
		if ((*names)[*n] == NULL)
			return UV_ENOMEM;
		snprintf((*names)[*n], 2 * STAT_NAME_MAX + 2, "%s/%s", be,
			 r->srv_name);
		(*n)++;
	}
	return 0;
}

static int resolve_side(const struct fleet_view *v, const char *be,
			const struct plan_srvset *set, const char *side,
			struct fleet_targets *out, struct cut_err *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int rc = add_names(v, be, set, &names, &n);

	if (rc == 0 && set != NULL && set->kind == PLAN_SERVERS_LIST && n != set->n)
		rc = cut_err_set(err, CUT_ENOSERVER, side, "switch.%s names %zu "
				 "server%s but only %zu %s in backend '%s' on %s",
				 side, set->n, set->n == 1 ? "" : "s", n,
				 n == 1 ? "is" : "are", be, v->lb[0].name);
	else if (rc == 0 && n == 0)
		rc = cut_err_set(err, CUT_ENOSERVER, side, "no %s server: backend "
				 "'%s' has none that matches on %s", side, be,
				 v->lb[0].name);
	if (rc == 0)
		rc = fleet_resolve(v, (const char *const *)names, n,
				   RTAPI_LEVEL_ADMIN, out, err);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- the end --------------------------------------------------------------- */

static void bg_end(struct bg *b, int status)
{
	if (b->ended)
		return;
	b->ended = true;
	b->status = status;
	if (b->n.end != NULL)
		b->n.end(b->n.arg, status, b->reason);
}

/* ---- hooks (run once per run) -------------------------------------------- */

static void on_hook_line(struct hook *h, enum hook_stream st, const char *line,
			 size_t len, void *arg)
{
	struct bg *b = arg;

	logf_(b, plan_hook_stage_name(b->hook_stage), "%s%.*s",
	      st == HOOK_STDERR ? "! " : "", (int)len, line);
}

static enum bg_step after_hook(const struct bg *b)
{
	switch (b->hook_stage) {
	case PLAN_HOOK_BEFORE_SWITCH:
		return BG_BASELINE;
	case PLAN_HOOK_AFTER_SWITCH:
		return BG_DRAIN_BLUE;
	case PLAN_HOOK_RETIRE:
		return BG_DONE;
	default:
		return BG_ROLLED_BACK;
	}
}

static void on_hook_done(int status, const struct cut_err *err, void *arg)
{
	struct bg *b = arg;

	b->hook = NULL;
	if (status == 0) {
		bg_set(b, after_hook(b), "%s", "");
		return;
	}
	snprintf(b->reason, sizeof(b->reason), "%s", err->msg);
	/* A failed hook before the switch stops with traffic on blue; one
	 * after it leaves traffic on green (the switch itself succeeded). */
	if (b->hook_stage == PLAN_HOOK_ON_ROLLBACK)
		bg_set(b, BG_ROLLED_BACK, "%s", b->reason);
	else
		bg_set(b, BG_FAILED, "%s", b->reason);
}

/* Start the stage's commands; false if it has none (nothing to wait for). */
static bool run_hook(struct bg *b, enum plan_hook_stage st)
{
	const struct hook_stage_cbs cbs = {
		.on_line = on_hook_line,
		.arg = b,
		.done = on_hook_done,
		.done_arg = b,
	};
	struct cut_err err;

	b->hook_stage = st;
	if (b->p->hooks[st].n == 0)
		return false;
	b->vars.backend = st == PLAN_HOOK_RETIRE || st == PLAN_HOOK_ON_ROLLBACK
				  ? b->blue_be
				  : b->green_be;
	b->hook = hook_stage_run(b->loop, b->p, st, &b->vars, &cbs, &err);
	if (b->hook == NULL)
		bg_set(b, st == PLAN_HOOK_ON_ROLLBACK ? BG_ROLLED_BACK : BG_FAILED,
		       "%s", err.msg);
	return true;
}

/* ---- verify ------------------------------------------------------------------ */

static void on_probe_done(struct probe *pr, int status, const char *reason,
			  void *arg);
static void watch_passed(struct bg *b);

/* The plan's probes on every green server: before the switch (verify),
 * and again at the end of each watch window, when green has carried
 * traffic (a failure then switches back to blue). After a watch they get
 * a short deadline: rise tries, plus slack, not the verify's minutes. */
static void start_probes(struct bg *b)
{
	const struct plan_probe *pp = &b->p->probe;
	struct plan_probe after = *pp;
	bool watching = b->step == BG_WATCH;
	size_t i;

	if (!pp->http && !pp->tcp && !pp->exec) {
		if (watching)
			watch_passed(b);
		else
			bg_set(b, BG_BEFORE_SWITCH, "green verified (no probe in "
			       "the plan; HAProxy reports it UP)");
		return;
	}
	if (watching) {
		after.deadline_ms = (uint64_t)after.rise * after.interval_ms +
				    2 * after.timeout_ms;
		pp = &after;
	}
	b->probes_failed = 0;
	b->probes = calloc(b->green.n, sizeof(*b->probes));
	if (b->probes == NULL) {
		bg_set(b, BG_FAILED, "out of memory");
		return;
	}
	b->probes_left = b->green.n;
	for (i = 0; i < b->green.n; i++) {
		struct hook_vars v = { .server = b->green.t[i].server,
				       .backend = b->green.t[i].backend,
				       .addr = b->addrs[i], .port = b->ports[i] };
		struct cut_err err;

		b->probes[i] = probe_start(b->penv, pp, &v, NULL, on_probe_done,
					   b, &err);
		if (b->probes[i] == NULL) {
			b->probes_failed++;
			logf_(b, "probe", "%s: %s", b->green.t[i].server, err.msg);
			if (--b->probes_left == 0)
				bg_set(b, BG_FAILED, "green probes could not start");
		}
	}
}

static void on_probe_done(struct probe *pr, int status, const char *reason,
			  void *arg)
{
	struct bg *b = arg;
	size_t i;

	for (i = 0; i < b->green.n; i++)
		if (b->probes[i] == pr) {
			b->probes[i] = NULL;
			if (status != 0) {
				b->probes_failed++;
				logf_(b, "probe", "%s/%s: %s", b->green.t[i].backend,
				      b->green.t[i].server,
				      reason ? reason : cut_strerror(status));
			}
		}
	if (--b->probes_left > 0)
		return;
	free(b->probes);
	b->probes = NULL;
	if (b->step == BG_WATCH) {
		if (b->probes_failed > 0)
			bg_set(b, BG_ROLLBACK, "after the watch %zu green server%s "
			       "failed the plan's probes: switching back to blue",
			       b->probes_failed,
			       b->probes_failed == 1 ? "" : "s");
		else
			watch_passed(b);
		return;
	}
	if (b->probes_failed > 0)
		bg_set(b, BG_FAILED, "%zu green server%s not healthy: traffic "
		       "stays on blue", b->probes_failed,
		       b->probes_failed == 1 ? "" : "s");
	else
		bg_set(b, BG_BEFORE_SWITCH, "green verified: %zu server%s healthy",
		       b->green.n, b->green.n == 1 ? "" : "s");
}

static void on_map_read(const struct fleet_map_value *vals, void *arg)
{
	struct bg *b = arg;
	const struct plan_switch *sw = &b->p->sw;
	size_t j, nlb = fleet_size(b->f), on_green = 0;

	for (j = 0; j < nlb; j++) {
		if (vals[j].status != 0) {
			bg_set(b, BG_FAILED, "map %s on %s: %s", sw->map,
			       fleet_lb_name(b->f, j), vals[j].msg);
			return;
		}
		if (!vals[j].found) {
			bg_set(b, BG_FAILED, "map %s has no entry '%s' on %s (add "
			       "'%s %s' to the map file)", sw->map, sw->key,
			       fleet_lb_name(b->f, j), sw->key, sw->blue_backend);
			return;
		}
		if (strcmp(vals[j].value, sw->blue_backend) != 0 &&
		    strcmp(vals[j].value, sw->green_backend) != 0) {
			bg_set(b, BG_FAILED, "map %s: '%s' is '%s' on %s, neither "
			       "blue (%s) nor green (%s): not touching it",
			       sw->map, sw->key, vals[j].value,
			       fleet_lb_name(b->f, j), sw->blue_backend,
			       sw->green_backend);
			return;
		}
		snprintf(b->prev[j], MAP_KEY_MAX, "%s", vals[j].value);
		if (strcmp(vals[j].value, sw->green_backend) == 0)
			on_green++;
	}
	if (b->to_blue) {
		bg_set(b, BG_ROLLBACK, "switching back to blue as asked");
		return;
	}
	if (on_green == nlb)
		logf_(b, "verify", "every LB already sends traffic to green");
	start_probes(b);
}

/* Green must be up (in service or drained: checks passing) on every LB,
 * at least min_green of its servers (all by default). */
static bool status_up(const char *status)
{
	return strcmp(status, "UP") == 0 || strcmp(status, "DRAIN") == 0 ||
	       strcmp(status, "no check") == 0;
}

static void on_green_view(struct fleet_view *v, void *arg)
{
	struct bg *b = arg;
	size_t i, j, up = 0, need;

	for (i = 0; i < b->green.n; i++) {
		bool all = true;

		for (j = 0; j < v->n; j++) {
			const struct stat_row *r = stat_table_find(
				&v->lb[j].stat, b->green.t[i].backend,
				b->green.t[i].server);

			if (v->lb[j].status != 0 || r == NULL ||
			    !status_up(r->status))
				all = false;
		}
		if (all)
			up++;
	}
	fleet_view_free(v);
	need = b->p->sw.min_green ? b->p->sw.min_green : b->green.n;
	if (b->interrupted) {
		bg_set(b, BG_FAILED, "interrupted while verifying green");
		return;
	}
	if (!b->to_blue && up < need) {
		bg_set(b, BG_FAILED, "only %zu of %zu green servers UP on every "
		       "LB (%zu needed): traffic stays on blue", up, b->green.n,
		       need);
		return;
	}
	logf_(b, "verify", "%zu of %zu green server%s UP on every LB", up,
	      b->green.n, b->green.n == 1 ? "" : "s");
	if (b->p->sw.mode == PLAN_SWITCH_MAP) {
		if (fleet_map_get(b->f, b->p->sw.map, b->p->sw.key, on_map_read,
				  b) != 0)
			bg_set(b, BG_FAILED, "cannot read map %s", b->p->sw.map);
		return;
	}
	if (b->to_blue) {
		bg_set(b, BG_ROLLBACK, "switching back to blue as asked");
		return;
	}
	start_probes(b);
}

static void enter_verify(struct bg *b)
{
	if (fleet_read(b->f, b->green_be, FLEET_READ_STAT, on_green_view, b) != 0)
		bg_set(b, BG_FAILED, "cannot read the load balancers");
}

/* ---- switching --------------------------------------------------------------- */

struct apply_seq {
	const struct fleet_targets *tg;
	struct fleet_action act;
};

static void after_switch_applied(struct bg *b, bool back);

static void on_file_written(int status, const struct cut_err *err, void *arg)
{
	struct bg *b = arg;
	bool back = b->step == BG_ROLLBACK;

	if (status != 0)
		logf_(b, "map", "WARNING: the switch is live on every LB but "
		      "the map file was not rewritten (%s): a reload would go "
		      "back to the file's value", err->msg);
	else
		logf_(b, "map", "%s rewritten on disk: %s %s", b->p->sw.map,
		      b->p->sw.key, back ? b->p->sw.blue_backend
					 : b->p->sw.green_backend);
	after_switch_applied(b, back);
}

static void on_map_set(int status, const struct cut_err *err, void *arg)
{
	struct bg *b = arg;
	bool back = b->step == BG_ROLLBACK;
	const char *value = back ? b->p->sw.blue_backend : b->p->sw.green_backend;

	if (status != 0) {
		snprintf(b->reason, sizeof(b->reason), "%s", err->msg);
		if (status == CUT_EUNDO) {
			b->unsafe = true;
			bg_set(b, BG_FAILED, "%s", err->msg);
			return;
		}
		bg_set(b, BG_FAILED, "%s refused, every LB left as it was: %s",
		       back ? "switching back" : "the switch", err->msg);
		return;
	}
	logf_(b, "switch", "map %s: %s -> %s on %zu LB%s", b->p->sw.map,
	      b->p->sw.key, value, fleet_size(b->f),
	      fleet_size(b->f) == 1 ? "" : "s");
	if (b->p->sw.write_file &&
	    mapfile_set(b->loop, b->p->sw.map, b->p->sw.key, value,
			on_file_written, b) == 0)
		return;
	after_switch_applied(b, back);
}

/* Servers mode: the changes of one step, applied one after the other
 * (each on every LB at once). */
static size_t servers_plan(const struct bg *b, bool back, unsigned pct,
			   struct apply_seq *seq)
{
	size_t n = 0;

	if (back) {
		seq[n++] = (struct apply_seq){ &b->blue,
			{ .kind = FLEET_ACT_WEIGHT, .weight = 100, .percent = true } };
		seq[n++] = (struct apply_seq){ &b->blue,
			{ .kind = FLEET_ACT_STATE, .state = SRV_ADMIN_READY } };
		seq[n++] = (struct apply_seq){ &b->green,
			{ .kind = FLEET_ACT_STATE, .state = SRV_ADMIN_DRAIN } };
		seq[n++] = (struct apply_seq){ &b->green,
			{ .kind = FLEET_ACT_WEIGHT, .weight = 100, .percent = true } };
		return n;
	}
	seq[n++] = (struct apply_seq){ &b->green,
		{ .kind = FLEET_ACT_WEIGHT, .weight = (int)pct, .percent = true } };
	seq[n++] = (struct apply_seq){ &b->green,
		{ .kind = FLEET_ACT_STATE, .state = SRV_ADMIN_READY } };
	if (pct < 100) {
		seq[n++] = (struct apply_seq){ &b->blue,
			{ .kind = FLEET_ACT_WEIGHT, .weight = (int)(100 - pct),
			  .percent = true } };
	} else {
		seq[n++] = (struct apply_seq){ &b->blue,
			{ .kind = FLEET_ACT_STATE, .state = SRV_ADMIN_DRAIN } };
		seq[n++] = (struct apply_seq){ &b->blue,
			{ .kind = FLEET_ACT_WEIGHT, .weight = 100, .percent = true } };
	}
	return n;
}

static void servers_apply_next(struct bg *b);

static void on_servers_applied(int status, const struct cut_err *err,
			       void *arg)
{
	struct bg *b = arg;
	bool back = b->step == BG_ROLLBACK;

	if (status != 0) {
		if (back || status == CUT_EUNDO) {
			b->unsafe = status == CUT_EUNDO || back;
			bg_set(b, BG_FAILED, "%s", err->msg);
			return;
		}
		/* Part of a step is live: go back to blue entirely. */
		snprintf(b->reason, sizeof(b->reason), "%s", err->msg);
		bg_set(b, BG_ROLLBACK, "switch step failed: %s", err->msg);
		return;
	}
	b->apply_step++;
	servers_apply_next(b);
}

static void servers_apply_next(struct bg *b)
{
	bool back = b->step == BG_ROLLBACK;
	unsigned pct = back ? 0 : b->p->sw.steps[b->canary];
	struct apply_seq seq[6];
	size_t n = servers_plan(b, back, pct, seq);
	int rc;

	if ((size_t)b->apply_step >= n) {
		if (!back)
			logf_(b, "switch", "green at %u%%%s on every LB", pct,
			      pct == 100 ? ", blue drained" : "");
		else
			logf_(b, "switch", "blue back in service, green drained "
			      "on every LB");
		after_switch_applied(b, back);
		return;
	}
	rc = fleet_apply(b->f, seq[b->apply_step].tg, &seq[b->apply_step].act,
			 on_servers_applied, b);
	if (rc == CUT_EALREADY) {
		b->apply_step++;
		servers_apply_next(b);
	} else if (rc != 0) {
		bg_set(b, back ? BG_FAILED : BG_ROLLBACK, "cannot apply: %s",
		       cut_strerror(rc));
	}
}

static void enter_switch(struct bg *b)
{
	const char *const *prev;

	if (b->p->sw.mode == PLAN_SWITCH_SERVERS) {
		b->apply_step = 0;
		servers_apply_next(b);
		return;
	}
	if (b->step == BG_ROLLBACK) {
		/* Undo of the way back: the value each LB has now. */
		prev = (const char *const *)b->green_vals;
		if (fleet_map_set(b->f, b->p->sw.map, b->p->sw.key,
				  b->p->sw.blue_backend, prev, on_map_set, b) != 0)
			bg_set(b, BG_FAILED, "cannot switch back");
		return;
	}
	if (fleet_map_set(b->f, b->p->sw.map, b->p->sw.key,
			  b->p->sw.green_backend, (const char *const *)b->prev,
			  on_map_set, b) != 0)
		bg_set(b, BG_FAILED, "cannot switch");
}

static void after_switch_applied(struct bg *b, bool back)
{
	if (back) {
		bg_set(b, BG_ON_ROLLBACK, "%s", "");
		return;
	}
	bg_set(b, BG_WATCH, "%s", "");
}

/* ---- baseline and watch ------------------------------------------------------- */

static void on_baseline(struct fleet_view *v, void *arg)
{
	struct bg *b = arg;
	size_t i, j;

	for (i = 0; i < b->green.n; i++)
		for (j = 0; j < v->n; j++) {
			const struct stat_row *r = stat_table_find(
				&v->lb[j].stat, b->green.t[i].backend,
				b->green.t[i].server);
			int64_t *c = b->base[i * v->n + j];

			c[0] = r ? r->stot : -1;
			c[1] = r ? r->hrsp_5xx : -1;
			c[2] = r ? r->econ + r->eresp : -1;
			c[3] = r ? r->chkfail + r->chkdown : -1;
		}
	fleet_view_free(v);
	if (b->interrupted) {
		bg_set(b, BG_FAILED, "interrupted before the switch: traffic "
		       "stays on blue");
		return;
	}
	bg_set(b, BG_SWITCH, "step %zu/%zu: %u%%", b->canary + 1,
	       b->p->sw.nsteps, b->p->sw.steps[b->canary]);
}

static bool breach(struct bg *b, struct fleet_wait *w, char *why, size_t n)
{
	const struct plan_watch *pw = &b->p->watch;
	int64_t d[4] = { 0 };
	size_t i, j, k;

	for (i = 0; i < b->green.n; i++)
		for (j = 0; j < b->green.nlb; j++) {
			const struct fleet_obs *o = fleet_wait_obs(w, i, j);
			const int64_t *c = b->base[i * b->green.nlb + j];
			int64_t cur[4];

			if (!o->known || c[0] < 0)
				continue;
			cur[0] = o->stot;
			cur[1] = o->hrsp_5xx;
			cur[2] = o->econ + o->eresp;
			cur[3] = o->chkfail + o->chkdown;
			for (k = 0; k < 4; k++)
				if (cur[k] >= c[k])
					d[k] += cur[k] - c[k];
		}
	if (pw->max_5xx >= 0 && d[1] > pw->max_5xx)
		return snprintf(why, n, "green answered %lld 5xx (limit %ld)",
				(long long)d[1], pw->max_5xx) > 0;
	if (pw->max_5xx_pct >= 0 && d[0] > 0 &&
	    100.0 * (double)d[1] / (double)d[0] > pw->max_5xx_pct)
		return snprintf(why, n, "green answered %lld 5xx of %lld (limit "
				"%g%%)", (long long)d[1], (long long)d[0],
				pw->max_5xx_pct) > 0;
	if (pw->max_errors >= 0 && d[2] > pw->max_errors)
		return snprintf(why, n, "%lld connection/response errors on "
				"green (limit %ld)", (long long)d[2],
				pw->max_errors) > 0;
	if (pw->max_check_fails >= 0 && d[3] > pw->max_check_fails)
		return snprintf(why, n, "%lld failed checks on green (limit %ld)",
				(long long)d[3], pw->max_check_fails) > 0;
	return false;
}

static void on_watch_round(struct fleet_wait *w, int status,
			   const struct cut_err *err, void *arg)
{
	struct bg *b = arg;
	char why[300];

	if (!breach(b, w, why, sizeof(why)))
		return;
	snprintf(b->reason, sizeof(b->reason), "%s", why);
	b->apply_step = -1;	/* marks the breach for on_watch_done */
	fleet_wait_cancel(w);
}

static void on_watch_done(struct fleet_wait *w, int status,
			  const struct cut_err *err, void *arg)
{
	struct bg *b = arg;
	char why[300];

	b->wait = NULL;
	if (b->apply_step == -1 || breach(b, w, why, sizeof(why))) {
		if (b->apply_step != -1)
			snprintf(b->reason, sizeof(b->reason), "%s", why);
		bg_set(b, BG_ROLLBACK, "watch: %s: switching back to blue",
		       b->reason);
		return;
	}
	if (status == CUT_ECANCELED && b->interrupted) {
		watch_passed(b);	/* says where traffic is, stops */
		return;
	}
	start_probes(b);	/* green, after carrying traffic */
}

/* The window is over, counters and probes fine: next step or on. */
static void watch_passed(struct bg *b)
{
	if (b->interrupted) {
		bg_set(b, BG_FAILED, "interrupted while watching: traffic left "
		       "at step %zu (%u%% green)", b->canary + 1,
		       b->p->sw.steps[b->canary]);
		return;
	}
	if (++b->canary < b->p->sw.nsteps) {
		bg_set(b, BG_BASELINE, "step %zu/%zu watched", b->canary,
		       b->p->sw.nsteps);
		return;
	}
	bg_set(b, BG_AFTER_SWITCH, "green watched: no breach");
}

static void enter_watch(struct bg *b)
{
	uint64_t ms = b->p->watch.for_ms;

	b->apply_step = 0;
	if (ms == 0) {
		if (++b->canary < b->p->sw.nsteps)
			bg_set(b, BG_BASELINE, "no watch in the plan");
		else
			bg_set(b, BG_AFTER_SWITCH, "no watch in the plan");
		return;
	}
	b->wait = fleet_wait_start(b->f, &b->green, FLEET_OBSERVE, ms,
				   b->p->watch.interval_ms, on_watch_round,
				   on_watch_done, b);
	if (b->wait == NULL)
		bg_set(b, BG_ROLLBACK, "out of memory");
}

/* ---- draining blue ------------------------------------------------------------ */

static void on_blue_idle(struct fleet_wait *w, int status,
			 const struct cut_err *err, void *arg)
{
	struct bg *b = arg;
	int64_t left = 0;
	size_t i, j;

	b->wait = NULL;
	for (i = 0; i < b->blue.n; i++)
		for (j = 0; j < b->blue.nlb; j++)
			left += fleet_wait_obs(w, i, j)->sessions;
	if (status == 0) {
		bg_set(b, BG_RETIRE, "blue has no session left");
		return;
	}
	if (status == CUT_ECANCELED) {
		bg_set(b, BG_FAILED, "interrupted while blue drained: traffic is "
		       "on green, blue not retired (%lld sessions left)",
		       (long long)left);
		return;
	}
	switch (b->p->on_timeout) {
	case PLAN_ON_TIMEOUT_PROCEED:
		bg_set(b, BG_RETIRE, "drain deadline: %lld sessions left on blue; "
		       "retiring anyway (on_timeout: proceed)", (long long)left);
		return;
	case PLAN_ON_TIMEOUT_KILL:
	case PLAN_ON_TIMEOUT_SHED:
		bg_set(b, BG_BLUE_DEADLINE, "drain deadline: %lld sessions left "
		       "on blue (on_timeout: %s)", (long long)left,
		       plan_on_timeout_name(b->p->on_timeout));
		return;
	default:
		bg_set(b, BG_FAILED, "blue still has %lld sessions after the "
		       "drain deadline (on_timeout: fail): traffic is on green, "
		       "blue NOT retired", (long long)left);
	}
}

static void enter_drain_blue(struct bg *b)
{
	b->wait = fleet_wait_start(b->f, &b->blue, FLEET_UNTIL_IDLE,
				   b->p->drain_timeout_ms, 50, NULL, on_blue_idle,
				   b);
	if (b->wait == NULL)
		bg_set(b, BG_FAILED, "out of memory");
}

static void shed_next_blue(struct bg *b);

static void on_blue_shed(struct shed *sh, int status, const struct cut_err *err,
			 void *arg)
{
	struct bg *b = arg;

	b->shed = NULL;
	if (status != 0) {
		bg_set(b, BG_FAILED, "shedding blue: %s", err ? err->msg : "?");
		return;
	}
	logf_(b, "shed", "%s/%s: %lld closed at %.1f/s",
	      b->blue.t[b->shed_index].backend, b->blue.t[b->shed_index].server,
	      (long long)shed_stats(sh)->closed, shed_stats(sh)->rate);
	b->shed_index++;
	shed_next_blue(b);
}

/* One blue server after the other, each at the plan's rate. */
static void shed_next_blue(struct bg *b)
{
	struct shed_opts o = { .rate = b->p->shed_rate, .jitter = 0.2,
			       .stall_ms = 10000, .budget = -1 };
	struct cut_err err;

	if (b->shed_index >= b->blue.n) {
		bg_set(b, BG_RETIRE, "blue shed");
		return;
	}
	b->one.n = 1;
	b->one.nlb = b->blue.nlb;
	b->one.t = &b->blue.t[b->shed_index];
	b->shed = shed_start(b->f, &b->one, &o, NULL, on_blue_shed, b, &err);
	if (b->shed == NULL)
		bg_set(b, BG_FAILED, "cannot shed blue: %s", err.msg);
}

static void on_blue_killed(int status, const struct cut_err *err, void *arg)
{
	struct bg *b = arg;

	if (status != 0)
		bg_set(b, BG_FAILED, "closing blue's sessions: %s", err->msg);
	else
		bg_set(b, BG_RETIRE, "blue's sessions closed");
}

static void enter_blue_deadline(struct bg *b)
{
	struct fleet_action act = { .kind = FLEET_ACT_SHUTDOWN };

	if (b->p->on_timeout == PLAN_ON_TIMEOUT_SHED) {
		b->shed_index = 0;
		shed_next_blue(b);
		return;
	}
	if (fleet_apply(b->f, &b->blue, &act, on_blue_killed, b) != 0)
		bg_set(b, BG_FAILED, "cannot close blue's sessions");
}

/* ---- the table and the setter ------------------------------------------------- */

static void enter_before_switch(struct bg *b)
{
	if (!run_hook(b, PLAN_HOOK_BEFORE_SWITCH))
		bg_set(b, BG_BASELINE, "%s", "");
}

static void enter_baseline(struct bg *b)
{
	if (fleet_read(b->f, b->green_be, FLEET_READ_STAT, on_baseline, b) != 0)
		bg_set(b, BG_FAILED, "cannot read green's counters");
}

static void enter_after_switch(struct bg *b)
{
	if (!run_hook(b, PLAN_HOOK_AFTER_SWITCH))
		bg_set(b, BG_DRAIN_BLUE, "%s", "");
}

static void enter_retire(struct bg *b)
{
	if (!run_hook(b, PLAN_HOOK_RETIRE))
		bg_set(b, BG_DONE, "%s", "");
}

static void enter_on_rollback(struct bg *b)
{
	if (!run_hook(b, PLAN_HOOK_ON_ROLLBACK))
		bg_set(b, BG_ROLLED_BACK, "%s", "");
}

static void enter_final(struct bg *b)
{
	if (b->step == BG_DONE)
		bg_end(b, 0);
	else if (b->step == BG_ROLLED_BACK)
		bg_end(b, b->to_blue ? 0 : CUT_ECHANGED);
	else
		bg_end(b, b->unsafe ? CUT_EUNDO : CUT_EREFUSED);
}

static const struct {
	const char *name;
	void (*enter)(struct bg *b);
} steps[BG_STEP_COUNT] = {
	[BG_VERIFY] = { "verify", enter_verify },
	[BG_BEFORE_SWITCH] = { "before_switch", enter_before_switch },
	[BG_BASELINE] = { "baseline", enter_baseline },
	[BG_SWITCH] = { "switch", enter_switch },
	[BG_WATCH] = { "watch", enter_watch },
	[BG_AFTER_SWITCH] = { "after_switch", enter_after_switch },
	[BG_DRAIN_BLUE] = { "drain_blue", enter_drain_blue },
	[BG_BLUE_DEADLINE] = { "blue_deadline", enter_blue_deadline },
	[BG_RETIRE] = { "retire", enter_retire },
	[BG_DONE] = { "done", enter_final },
	[BG_ROLLBACK] = { "rollback", enter_switch },
	[BG_ON_ROLLBACK] = { "on_rollback", enter_on_rollback },
	[BG_ROLLED_BACK] = { "rolled_back", enter_final },
	[BG_FAILED] = { "failed", enter_final },
};

const char *bg_step_name(enum bg_step s)
{
	return s < BG_STEP_COUNT ? steps[s].name : "?";
}

static void bg_set(struct bg *b, enum bg_step to, const char *fmt, ...)
{
	enum bg_step from = b->step;
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (to == BG_FAILED || to == BG_ROLLBACK)
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
	/* An interrupt starts nothing new that changes traffic. */
	if (b->interrupted && (to == BG_BEFORE_SWITCH || to == BG_BASELINE ||
			       to == BG_RETIRE || to == BG_AFTER_SWITCH)) {
		snprintf(b->reason, sizeof(b->reason), "interrupted before %s%s",
			 steps[to].name,
			 from >= BG_SWITCH ? ": traffic is on green"
					   : ": traffic stays on blue");
		to = BG_FAILED;
	}
	b->step = to;
	if (b->n.step != NULL)
		b->n.step(b->n.arg, from, to, reason);
	steps[to].enter(b);
}

/* ---- start and stop ------------------------------------------------------------ */

struct bg *bg_new(uv_loop_t *loop, struct fleet *f, const struct plan *p,
		  const struct fleet_view *view, bool to_blue,
		  struct probe_env *penv, const struct bg_notify *n,
		  struct cut_err *err)
{
	const struct plan_switch *sw = &p->sw;
	struct bg *b = calloc(1, sizeof(*b));
	size_t j;
	int rc;

	if (b == NULL) {
		cut_err_set(err, UV_ENOMEM, "switch", NULL);
		return NULL;
	}
	b->loop = loop;
	b->f = f;
	b->p = p;
	b->penv = penv;
	b->n = *n;
	b->to_blue = to_blue;
	if (sw->mode == PLAN_SWITCH_MAP) {
		snprintf(b->green_be, sizeof(b->green_be), "%s", sw->green_backend);
		snprintf(b->blue_be, sizeof(b->blue_be), "%s", sw->blue_backend);
		rc = resolve_side(view, b->green_be, NULL, "green", &b->green, err);
		if (rc == 0)
			rc = resolve_side(view, b->blue_be, NULL, "blue", &b->blue,
					  err);
	} else {
		snprintf(b->green_be, sizeof(b->green_be), "%s", p->backend);
		snprintf(b->blue_be, sizeof(b->blue_be), "%s", p->backend);
		rc = resolve_side(view, p->backend, &sw->green, "green", &b->green,
				  err);
		if (rc == 0)
			rc = resolve_side(view, p->backend, &sw->blue, "blue",
					  &b->blue, err);
	}
	b->addrs = calloc(b->green.n + 1, sizeof(*b->addrs));
	b->ports = calloc(b->green.n + 1, sizeof(*b->ports));
	for (j = 0; rc == 0 && b->addrs && b->ports && j < b->green.n; j++) {
		const struct srvstate_row *r = srvstate_find(
			&view->lb[0].state, b->green.t[j].backend,
			b->green.t[j].server);

		snprintf(b->addrs[j], sizeof(b->addrs[0]), "%s", r ? r->addr : "");
		snprintf(b->ports[j], sizeof(b->ports[0]), "%lld",
			 r ? (long long)r->port : 0LL);
	}
	b->prev = calloc(fleet_size(f), sizeof(*b->prev));
	b->green_vals = calloc(fleet_size(f), sizeof(*b->green_vals));
	b->base = calloc(b->green.n * fleet_size(f) + 1, sizeof(*b->base));
	for (j = 0; rc == 0 && b->prev && b->green_vals && j < fleet_size(f); j++) {
		b->prev[j] = calloc(1, MAP_KEY_MAX);
		b->green_vals[j] = strdup(sw->green_backend ? sw->green_backend : "");
		if (b->prev[j] == NULL || b->green_vals[j] == NULL)
			rc = UV_ENOMEM;
	}
	if (rc == 0 && (b->prev == NULL || b->green_vals == NULL ||
			b->base == NULL || b->addrs == NULL || b->ports == NULL))
		rc = cut_err_set(err, UV_ENOMEM, "switch", NULL);
	if (rc != 0) {
		bg_free(b);
		return NULL;
	}
	b->step = BG_VERIFY;
	return b;
}

void bg_run(struct bg *b)
{
	if (b->n.step != NULL)
		b->n.step(b->n.arg, BG_VERIFY, BG_VERIFY, "");
	steps[BG_VERIFY].enter(b);
}

const struct fleet_targets *bg_green(const struct bg *b)
{
	return &b->green;
}

const struct fleet_targets *bg_blue(const struct bg *b)
{
	return &b->blue;
}

void bg_interrupt(struct bg *b)
{
	b->interrupted = true;
	if (b->wait != NULL && (b->step == BG_WATCH || b->step == BG_DRAIN_BLUE))
		fleet_wait_cancel(b->wait);
	else if (b->shed != NULL)
		shed_cancel(b->shed);
}

void bg_free(struct bg *b)
{
	size_t j;

	if (b == NULL)
		return;
	fleet_targets_free(&b->green);
	fleet_targets_free(&b->blue);
	for (j = 0; b->prev != NULL && j < fleet_size(b->f); j++)
		free(b->prev[j]);
	for (j = 0; b->green_vals != NULL && j < fleet_size(b->f); j++)
		free(b->green_vals[j]);
	free(b->prev);
	free(b->green_vals);
	free(b->base);
	free(b->addrs);
	free(b->ports);
	free(b->probes);
	free(b);
}
