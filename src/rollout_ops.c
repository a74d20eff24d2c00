/* rollout_ops.c - the real side effects of a rollout, behind the ops table
 * of rollout.h: changes and waits through the fleet (every LB at once),
 * hooks as child processes, probes, the capacity floor and the watch
 * window. Every operation ends in exactly one roll_op_done(). */
#include "roll_run.h"
#include "hook_stage.h"
#include "journal.h"
#include "shed.h"
#include "log.h"
#include "strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

enum watch_counter {
	WC_STOT = 0,
	WC_5XX,
	WC_ECON,
	WC_ERESP,
	WC_CHKFAIL,
	WC_CHKDOWN,
	WC_COUNT		/* keep last */
};

static struct roll_srv_ops *so_of(struct roll_run *r, struct roll_srv *s)
{
	return &r->per[s->index];
}

static void done_ok(struct roll_srv_ops *so)
{
	roll_op_done(so->s, ROLL_EV_OK, NULL);
}

static void done_err(struct roll_srv_ops *so, enum roll_ev_kind kind,
		     int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void done_err(struct roll_srv_ops *so, enum roll_ev_kind kind,
		     int code, const char *fmt, ...)
{
	struct cut_err err;
	va_list ap;

	cut_err_set(&err, code, so->s->server, "%s", "");
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	roll_op_done(so->s, kind, &err);
}

/* ---- the journal gate ------------------------------------------------------- */

/* Every action (a change on the LBs, a hook) is announced in the journal
 * and starts only once that intent is on disk, so that after a crash
 * `resume` knows what may have happened. Putting a server back or taking
 * it out after a failure goes ahead even if the journal cannot be
 * written: it only makes things safer. */
static bool safety_state(enum roll_state st)
{
	return st == ROLL_ST_RESTORING || st == ROLL_ST_FAILING;
}

static void on_gate_open(int status, const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;
	int rc;

	so->gated = false;
	if (so->gate_cancelled) {
		so->gate_cancelled = false;
		done_err(so, ROLL_EV_CANCELED, CUT_ECANCELED, "interrupted");
		return;
	}
	if (status != 0 && !safety_state(so->s->state)) {
		done_err(so, ROLL_EV_FAIL, status, "not started: %s",
			 err ? err->msg : cut_strerror(status));
		return;
	}
	rc = so->gate_start(so);
	if (rc != 0)
		done_err(so, ROLL_EV_FAIL, rc, "%s", cut_strerror(rc));
}

/* Journal "about to do `what`", then run start(so). */
static int gate(struct roll_srv_ops *so, const char *what,
		int (*start)(struct roll_srv_ops *so))
{
	struct journal *j = so->run->journal;
	json_t *rec;

	if (j == NULL)
		return start(so);
	rec = json_pack("{s:s, s:s, s:s, s:s}", "ev", "intent", "server",
			so->s->server, "state", roll_state_name(so->s->state),
			"do", what);
	if (rec == NULL)
		return UV_ENOMEM;
	so->gate_start = start;
	so->gated = true;
	so->gate_cancelled = false;
	if (journal_intent(j, rec, on_gate_open, so) != 0) {
		so->gated = false;
		return safety_state(so->s->state) ? start(so) : UV_EIO;
	}
	return 0;
}

/* ---- admin state on every LB ---------------------------------------------- */

/* After a change went through, the recorded state is what an undo of the
 * next change must restore. */
static void record_admin(struct roll_srv_ops *so, enum srv_admin to)
{
	size_t j;

	for (j = 0; j < so->tg.nlb; j++)
		so->tg.t[0].lb[j].admin = to;
}

static void on_set_admin(int status, const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;

	if (status != 0) {
		roll_op_done(so->s, ROLL_EV_FAIL, err);
		return;
	}
	record_admin(so, (enum srv_admin)so->step);
	done_ok(so);
}

static int start_set_admin(struct roll_srv_ops *so)
{
	struct fleet_action act = { .kind = FLEET_ACT_STATE,
				    .state = (enum srv_admin)so->step };
	int rc;

	rc = fleet_apply(so->run->a->fleet, &so->tg, &act, on_set_admin, so);
	return rc == CUT_EALREADY ? UV_EINVAL : rc;
}

static int op_set_admin(void *ctx, struct roll_srv *s, enum srv_admin to)
{
	struct roll_srv_ops *so = so_of(ctx, s);
	static const char *const what[] = {
		[SRV_ADMIN_READY] = "set state ready",
		[SRV_ADMIN_DRAIN] = "set state drain",
		[SRV_ADMIN_MAINT] = "set state maint",
	};

	so->step = (int)to;
	return gate(so, (unsigned)to < 3 ? what[to] : "set state",
		    start_set_admin);
}

/* ---- waiting for the sessions to end ------------------------------------- */

static void report_sessions(struct roll_srv_ops *so, struct fleet_wait *w)
{
	int64_t per[64];
	size_t j, n = so->tg.nlb < 64 ? so->tg.nlb : 64;

	for (j = 0; j < n; j++) {
		const struct fleet_obs *ob = fleet_wait_obs(w, 0, j);

		per[j] = ob->known ? ob->sessions : -1;
	}
	roll_out_sessions(so->run->out, so->s, per, n);
}

static void on_drain_progress(struct fleet_wait *w, int status,
			      const struct cut_err *err, void *arg)
{
	report_sessions(arg, w);
}

static void on_drain_done(struct fleet_wait *w, int status,
			  const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;

	so->wait = NULL;
	report_sessions(so, w);
	if (status == 0)
		done_ok(so);
	else if (status == CUT_ETIMEOUT)
		roll_op_done(so->s, ROLL_EV_TIMEOUT, err);
	else if (status == CUT_ECANCELED)
		roll_op_done(so->s, ROLL_EV_CANCELED, err);
	else
		roll_op_done(so->s, ROLL_EV_FAIL, err);
}

static int op_wait_drained(void *ctx, struct roll_srv *s, uint64_t timeout_ms)
{
	struct roll_srv_ops *so = so_of(ctx, s);
	struct roll_run *r = ctx;

	so->wait = fleet_wait_start(r->a->fleet, &so->tg, FLEET_UNTIL_DRAINED,
				    timeout_ms, r->a->opt->poll_ms,
				    on_drain_progress, on_drain_done, so);
	return so->wait == NULL ? UV_ENOMEM : 0;
}

static void on_killed(int status, const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;

	if (status != 0)
		roll_op_done(so->s, ROLL_EV_FAIL, err);
	else
		done_ok(so);
}

static int start_kill(struct roll_srv_ops *so)
{
	struct fleet_action act = { .kind = FLEET_ACT_SHUTDOWN };

	return fleet_apply(so->run->a->fleet, &so->tg, &act, on_killed, so);
}

static int op_kill_sessions(void *ctx, struct roll_srv *s)
{
	return gate(so_of(ctx, s), "shutdown sessions", start_kill);
}

/* ---- shedding at the drain deadline -------------------------------------------- */

static void on_shed_progress(struct shed *sh, int status,
			     const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;
	const struct shed_stats *st = shed_stats(sh);
	int64_t left = st->left_known ? st->left : -1;

	roll_out_sessions(so->run->out, so->s, &left, 1);
}

static void on_shed_done(struct shed *sh, int status, const struct cut_err *err,
			 void *arg)
{
	struct roll_srv_ops *so = arg;
	const struct shed_stats *st = shed_stats(sh);

	so->shed = NULL;
	roll_out_log(so->run->out, so->s, "shed", "%lld closed at %.1f/s, %lld "
		     "left", (long long)st->closed, st->rate,
		     (long long)st->left);
	if (status == 0)
		done_ok(so);
	else if (status == CUT_ECANCELED)
		roll_op_done(so->s, ROLL_EV_CANCELED, err);
	else
		roll_op_done(so->s, ROLL_EV_FAIL, err);
}

static int start_shed(struct roll_srv_ops *so)
{
	struct roll_run *r = so->run;
	struct shed_opts o = {
		.rate = r->plan->shed_rate,
		.jitter = 0.2,
		/* No deadline: however many there are, they go at the rate.
		 * But if none closes or ends for 10 s, something holds them:
		 * put the server back and stop. */
		.stall_ms = 10000,
		.budget = -1,
	};
	struct cut_err err;

	so->shed = shed_start(r->a->fleet, &so->tg, &o, on_shed_progress,
			      on_shed_done, so, &err);
	return so->shed == NULL ? (err.code ? err.code : UV_ENOMEM) : 0;
}

static int op_shed(void *ctx, struct roll_srv *s)
{
	return gate(so_of(ctx, s), "shed sessions", start_shed);
}

/* ---- hooks ------------------------------------------------------------------- */

static void on_hook_line(struct hook *h, enum hook_stream st, const char *line,
			 size_t len, void *arg)
{
	struct roll_srv_ops *so = arg;

	roll_out_log(so->run->out, so->s, plan_hook_stage_name(so->stage),
		     "%s%.*s", st == HOOK_STDERR ? "! " : "", (int)len, line);
}

static void on_hook_start(const char *prog, bool more_args, void *arg)
{
	struct roll_srv_ops *so = arg;

	roll_out_log(so->run->out, so->s, plan_hook_stage_name(so->stage),
		     "run %s%s", prog, more_args ? " ..." : "");
}

/* Journaled so that resume can wait for a hook a crashed run left. */
static void on_hook_spawn(int pid, void *arg)
{
	struct roll_srv_ops *so = arg;

	journal_note(so->run->journal,
		     json_pack("{s:s, s:s, s:i}", "ev", "hook", "server",
			       so->s->server, "pid", pid));
}

static void on_hook_stage_done(int status, const struct cut_err *err,
			       void *arg)
{
	struct roll_srv_ops *so = arg;

	so->hook = NULL;
	roll_op_done(so->s, status == 0		     ? ROLL_EV_OK
			    : status == CUT_ECANCELED ? ROLL_EV_CANCELED
						      : ROLL_EV_FAIL,
		     err);
}

static int start_hook(struct roll_srv_ops *so)
{
	const struct hook_stage_cbs cbs = {
		.on_line = on_hook_line,
		.on_start = on_hook_start,
		.on_spawn = on_hook_spawn,
		.arg = so,
		.done = on_hook_stage_done,
		.done_arg = so,
	};
	struct cut_err err;

	cut_err_clear(&err);
	so->hook = hook_stage_run(so->run->a->loop, so->run->plan, so->stage,
				  &so->vars, &cbs, &err);
	if (so->hook == NULL) {
		roll_out_log(so->run->out, so->s, plan_hook_stage_name(so->stage),
			     "%s", err.msg);
		return err.code ? err.code : UV_ENOMEM;
	}
	return 0;
}

static int op_run_hook(void *ctx, struct roll_srv *s, enum plan_hook_stage st)
{
	struct roll_srv_ops *so = so_of(ctx, s);
	char what[64];

	so->stage = st;
	snprintf(what, sizeof(what), "run hook %s", plan_hook_stage_name(st));
	return gate(so, what, start_hook);
}

/* ---- probes ---------------------------------------------------------------- */

static void on_probe_try(struct probe *p, int status, const char *reason,
			 void *arg)
{
	struct roll_srv_ops *so = arg;

	if (status != 1)
		roll_out_log(so->run->out, so->s, "probe", "%s", reason);
}

static void on_probe_done(struct probe *p, int status, const char *reason,
			  void *arg)
{
	struct roll_srv_ops *so = arg;

	so->probe = NULL;
	if (status == 0)
		done_ok(so);
	else if (status == CUT_ECANCELED)
		done_err(so, ROLL_EV_CANCELED, status, "probe stopped");
	else
		done_err(so, ROLL_EV_FAIL, CUT_EPROBE,
			 "not healthy before the probe deadline: %s",
			 reason ? reason : "?");
}

static int op_probe(void *ctx, struct roll_srv *s)
{
	struct roll_srv_ops *so = so_of(ctx, s);
	struct roll_run *r = ctx;
	struct cut_err err;

	cut_err_clear(&err);
	so->probe = probe_start(r->penv, &r->plan->probe, &so->vars,
				on_probe_try, on_probe_done, so, &err);
	if (so->probe == NULL) {
		roll_out_log(r->out, s, "probe", "%s", err.msg);
		return err.code ? err.code : UV_ENOMEM;
	}
	return 0;
}

/* ---- enabling: ready, or HAProxy's verified comeback ------------------------- */

enum enable_step {
	EN_DRAIN = 0,		/* maint -> drain (checks resume) */
	EN_HEALTH_DOWN,		/* needs `rise` passing checks to be UP */
	EN_WAIT_CHECKED,	/* status exactly DRAIN on every LB */
	EN_BASELINE,		/* the watch's counters, before any traffic */
	EN_READY,
	EN_WEIGHT,		/* put the weight back if it changed */
	EN_DONE,
};

static void enable_step(struct roll_srv_ops *so);

static void on_enable_apply(int status, const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;

	if (status != 0) {
		roll_op_done(so->s, ROLL_EV_FAIL, err);
		return;
	}
	if (so->step == EN_DRAIN)
		record_admin(so, SRV_ADMIN_DRAIN);
	else if (so->step == EN_READY)
		record_admin(so, SRV_ADMIN_READY);
	so->step++;
	enable_step(so);
}

static void on_checked(struct fleet_wait *w, int status,
		       const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;

	so->wait = NULL;
	if (status == CUT_ECANCELED) {
		roll_op_done(so->s, ROLL_EV_CANCELED, err);
		return;
	}
	if (status != 0) {
		done_err(so, ROLL_EV_FAIL, status, "HAProxy's health check did "
			 "not pass on every LB: %s", err ? err->msg : "?");
		return;
	}
	so->step = EN_BASELINE;
	enable_step(so);
}

static void read_counters(const struct fleet_obs *ob, int64_t *c);

/* The watch window starts when the server gets traffic again: take its
 * counters now, while it still gets none, so that nothing served after
 * `ready` (during an after_enable hook, say) escapes the watch. */
static void on_baseline(struct fleet_view *v, void *arg)
{
	struct roll_srv_ops *so = arg;
	const struct fleet_target *t = &so->tg.t[0];
	size_t j;

	so->have_base = true;
	for (j = 0; j < v->n && j < so->tg.nlb; j++) {
		const struct stat_row *row =
			stat_table_find(&v->lb[j].stat, t->backend, t->server);
		struct fleet_obs ob = { .known = row != NULL };

		if (row == NULL) {
			so->have_base = false;	/* the watch starts later */
			continue;
		}
		ob.stot = row->stot;
		ob.hrsp_5xx = row->hrsp_5xx;
		ob.econ = row->econ;
		ob.eresp = row->eresp;
		ob.chkfail = row->chkfail;
		ob.chkdown = row->chkdown;
		read_counters(&ob, so->base[j]);
	}
	fleet_view_free(v);
	so->step = EN_READY;
	enable_step(so);
}

/* HAProxy's `ready` does not restore a weight (HAPROXY.md §1.3): if an
 * agent, the upgrade or anyone changed the server's user weight while it
 * was out, put back the weight it had before the run. */
static void on_weight_view(struct fleet_view *v, void *arg)
{
	struct roll_srv_ops *so = arg;
	const struct fleet_target *t = &so->tg.t[0];
	struct fleet_action act = { .kind = FLEET_ACT_WEIGHT };
	bool changed = false, uniform = true;
	size_t j;
	int rc;

	for (j = 0; j < v->n && j < so->tg.nlb; j++) {
		const struct srvstate_row *row =
			srvstate_find(&v->lb[j].state, t->backend, t->server);

		if (t->lb[j].uweight != t->lb[0].uweight)
			uniform = false;
		if (row != NULL && row->uweight != t->lb[j].uweight)
			changed = true;
	}
	fleet_view_free(v);
	so->step = EN_DONE;
	if (!changed) {
		enable_step(so);
		return;
	}
	if (!uniform) {
		roll_out_log(so->run->out, so->s, "enabling", "its weight changed "
			     "while it was out, but it had different weights on "
			     "the LBs before: left as it is");
		enable_step(so);
		return;
	}
	act.weight = (int)t->lb[0].uweight;
	roll_out_log(so->run->out, so->s, "enabling", "weight changed while it "
		     "was out: setting it back to %d", act.weight);
	rc = fleet_apply(so->run->a->fleet, &so->tg, &act, on_enable_apply, so);
	if (rc != 0)
		done_err(so, ROLL_EV_FAIL, rc, "restoring the weight: %s",
			 cut_strerror(rc));
}

static void enable_step(struct roll_srv_ops *so)
{
	struct roll_run *r = so->run;
	struct fleet_action act = { .kind = FLEET_ACT_STATE };
	int rc = 0;

	switch (so->step) {
	case EN_DRAIN:
		act.state = SRV_ADMIN_DRAIN;
		break;
	case EN_HEALTH_DOWN:
		act.kind = FLEET_ACT_HEALTH_DOWN;
		break;
	case EN_WAIT_CHECKED:
		so->wait = fleet_wait_start(r->a->fleet, &so->tg,
					    FLEET_UNTIL_CHECKED,
					    r->plan->probe.deadline_ms,
					    r->a->opt->poll_ms, NULL,
					    on_checked, so);
		if (so->wait == NULL)
			done_err(so, ROLL_EV_FAIL, UV_ENOMEM, "out of memory");
		return;
	case EN_BASELINE:
		so->have_base = false;
		if (r->plan->watch.for_ms == 0) {
			so->step = EN_READY;
			enable_step(so);
			return;
		}
		rc = fleet_read(r->a->fleet, so->tg.t[0].backend,
				FLEET_READ_STAT, on_baseline, so);
		if (rc != 0)
			done_err(so, ROLL_EV_FAIL, rc, "enabling: %s",
				 cut_strerror(rc));
		return;
	case EN_READY:
		act.state = SRV_ADMIN_READY;
		break;
	case EN_WEIGHT:
		rc = fleet_read(r->a->fleet, so->tg.t[0].backend,
				FLEET_READ_STATE, on_weight_view, so);
		if (rc != 0)
			done_err(so, ROLL_EV_FAIL, rc, "enabling: %s",
				 cut_strerror(rc));
		return;
	default:
		done_ok(so);
		return;
	}
	rc = fleet_apply(r->a->fleet, &so->tg, &act, on_enable_apply, so);
	if (rc != 0)
		done_err(so, ROLL_EV_FAIL, rc, "enabling: %s", cut_strerror(rc));
}

static int start_enable(struct roll_srv_ops *so)
{
	struct roll_run *r = so->run;
	struct fleet_action act = { .kind = FLEET_ACT_STATE,
				    .state = SRV_ADMIN_DRAIN };

	/* The first step is started here so that a failure to start is
	 * returned (no callback); the rest chain from the callbacks. */
	if (r->plan->probe.haproxy) {
		so->step = EN_DRAIN;
		return fleet_apply(r->a->fleet, &so->tg, &act, on_enable_apply,
				   so);
	}
	if (r->plan->watch.for_ms > 0) {
		so->step = EN_BASELINE;
		so->have_base = false;
		return fleet_read(r->a->fleet, so->tg.t[0].backend,
				  FLEET_READ_STAT, on_baseline, so);
	}
	so->step = EN_READY;
	act.state = SRV_ADMIN_READY;
	return fleet_apply(r->a->fleet, &so->tg, &act, on_enable_apply, so);
}

static int op_enable(void *ctx, struct roll_srv *s)
{
	return gate(so_of(ctx, s), "enable", start_enable);
}

/* ---- watching ------------------------------------------------------------- */

static void read_counters(const struct fleet_obs *ob, int64_t *c)
{
	c[WC_STOT] = ob->stot;
	c[WC_5XX] = ob->hrsp_5xx;
	c[WC_ECON] = ob->econ;
	c[WC_ERESP] = ob->eresp;
	c[WC_CHKFAIL] = ob->chkfail;
	c[WC_CHKDOWN] = ob->chkdown;
}

/* A breach of the plan's limits, described in `why`; false if none. */
static bool watch_breach(struct roll_srv_ops *so, struct fleet_wait *w,
			 char *why, size_t whysz)
{
	const struct plan_watch *pw = &so->run->plan->watch;
	int64_t d[WC_COUNT] = { 0 }, cur[WC_COUNT];
	size_t j, k;

	for (j = 0; j < so->tg.nlb; j++) {
		const struct fleet_obs *ob = fleet_wait_obs(w, 0, j);

		if (!ob->known)
			continue;
		read_counters(ob, cur);
		for (k = 0; k < WC_COUNT; k++)
			if (cur[k] >= so->base[j][k] && so->base[j][k] >= 0)
				d[k] += cur[k] - so->base[j][k];
	}
	if (pw->max_5xx >= 0 && d[WC_5XX] > pw->max_5xx) {
		snprintf(why, whysz, "%lld 5xx responses (limit %ld)",
			 (long long)d[WC_5XX], pw->max_5xx);
		return true;
	}
	if (pw->max_5xx_pct >= 0 && d[WC_STOT] > 0 &&
	    100.0 * (double)d[WC_5XX] / (double)d[WC_STOT] > pw->max_5xx_pct) {
		snprintf(why, whysz, "%lld 5xx of %lld requests (limit %g%%)",
			 (long long)d[WC_5XX], (long long)d[WC_STOT],
			 pw->max_5xx_pct);
		return true;
	}
	if (pw->max_errors >= 0 && d[WC_ECON] + d[WC_ERESP] > pw->max_errors) {
		snprintf(why, whysz, "%lld connection/response errors (limit %ld)",
			 (long long)(d[WC_ECON] + d[WC_ERESP]), pw->max_errors);
		return true;
	}
	if (pw->max_check_fails >= 0 &&
	    d[WC_CHKFAIL] + d[WC_CHKDOWN] > pw->max_check_fails) {
		snprintf(why, whysz, "%lld failed health checks (limit %ld)",
			 (long long)(d[WC_CHKFAIL] + d[WC_CHKDOWN]),
			 pw->max_check_fails);
		return true;
	}
	return false;
}

static void on_watch_progress(struct fleet_wait *w, int status,
			      const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;
	char why[200];
	size_t j;

	if (!so->have_base) {
		for (j = 0; j < so->tg.nlb; j++) {
			const struct fleet_obs *ob = fleet_wait_obs(w, 0, j);

			if (ob->known)
				read_counters(ob, so->base[j]);
			else
				memset(so->base[j], 0xff, sizeof(so->base[j]));
		}
		so->have_base = true;
		return;
	}
	if (!watch_breach(so, w, why, sizeof(why)))
		return;
	roll_out_log(so->run->out, so->s, "watch", "%s", why);
	snprintf(so->s->reason, sizeof(so->s->reason), "watch: %s", why);
	so->step = 1;		/* breached: the cancel below means failure */
	fleet_wait_cancel(w);
}

static void on_watch_done(struct fleet_wait *w, int status,
			  const struct cut_err *err, void *arg)
{
	struct roll_srv_ops *so = arg;
	char why[200];

	so->wait = NULL;
	if (so->step == 1) {
		done_err(so, ROLL_EV_FAIL, CUT_EPROBE, "%s", so->s->reason);
		return;
	}
	if (status == CUT_ECANCELED) {
		roll_op_done(so->s, ROLL_EV_CANCELED, err);
		return;
	}
	/* The window ended (the "timeout" of an observe-only wait). */
	if (so->have_base && watch_breach(so, w, why, sizeof(why))) {
		done_err(so, ROLL_EV_FAIL, CUT_EPROBE, "watch: %s", why);
		return;
	}
	done_ok(so);
}

static int op_watch(void *ctx, struct roll_srv *s)
{
	struct roll_srv_ops *so = so_of(ctx, s);
	struct roll_run *r = ctx;

	/* Drain strategy: the baseline was taken just before `ready`. In
	 * place, the server never left: the window starts now. */
	if (r->plan->strategy == PLAN_STRATEGY_IN_PLACE)
		so->have_base = false;
	so->step = 0;
	so->wait = fleet_wait_start(r->a->fleet, &so->tg, FLEET_OBSERVE,
				    r->plan->watch.for_ms,
				    r->plan->watch.interval_ms, on_watch_progress,
				    on_watch_done, so);
	return so->wait == NULL ? UV_ENOMEM : 0;
}

/* ---- cancel, pause, time, notifications -------------------------------------- */

static void op_cancel(void *ctx, struct roll_srv *s)
{
	struct roll_srv_ops *so = so_of(ctx, s);

	if (so->gated) {
		so->gate_cancelled = true;
	} else if (so->wait != NULL) {
		fleet_wait_cancel(so->wait);
	} else if (so->shed != NULL) {
		shed_cancel(so->shed);
	} else if (so->probe != NULL) {
		probe_cancel(so->probe);
	} else if (so->hook != NULL) {
		hook_stage_kill(so->hook, so->cancelled);
	}
	so->cancelled = true;
}

static void on_pause(uv_timer_t *t)
{
	struct roll_run *r = container_of(t, struct roll_run, pause);

	roll_pause_done(&r->ro);
}

static int op_pause(void *ctx, uint64_t ms)
{
	struct roll_run *r = ctx;

	return uv_timer_start(&r->pause, on_pause, ms, 0);
}

static uint64_t op_now(void *ctx)
{
	struct roll_run *r = ctx;

	return uv_now(r->a->loop);
}

static void op_on_state(void *ctx, const struct roll_srv *s,
			enum roll_state from, const char *reason)
{
	struct roll_run *r = ctx;

	roll_out_state(r->out, s, from, reason);
	journal_note(r->journal, json_pack("{s:s, s:s, s:s, s:s, s:s}", "ev",
					   "state", "server", s->server,
					   "state", roll_state_name(s->state),
					   "from", roll_state_name(from),
					   "reason", reason));
}

/* Defined in cmd_rollout.c: capacity checks and the end of the run need
 * the command's view of the fleet. */
int roll_check_capacity(void *ctx, struct roll_srv *const *batch, size_t n);
void roll_run_end(void *ctx, int status);

const struct roll_ops roll_real_ops = {
	.set_admin = op_set_admin,
	.wait_drained = op_wait_drained,
	.kill_sessions = op_kill_sessions,
	.shed = op_shed,
	.run_hook = op_run_hook,
	.probe = op_probe,
	.enable = op_enable,
	.watch = op_watch,
	.cancel = op_cancel,
	.check_capacity = roll_check_capacity,
	.on_state = op_on_state,
	.on_run_end = roll_run_end,
	.now_ms = op_now,
	.pause = op_pause,
};

/* ---- per-server data ---------------------------------------------------- */

int roll_run_prepare(struct roll_run *r, const struct fleet_view *view,
		     struct cut_err *err)
{
	size_t i;
	int rc;

	r->per = calloc(r->ro.n ? r->ro.n : 1, sizeof(*r->per));
	if (r->per == NULL)
		return cut_err_set(err, UV_ENOMEM, "rollout", NULL);
	for (i = 0; i < r->ro.n; i++) {
		struct roll_srv_ops *so = &r->per[i];
		struct roll_srv *s = &r->ro.srv[i];
		char name[2 * STAT_NAME_MAX + 2];
		const char *names[1] = { name };
		const struct srvstate_row *row;

		so->run = r;
		so->s = s;
		snprintf(name, sizeof(name), "%s/%s", s->backend, s->server);
		rc = fleet_resolve(view, names, 1, RTAPI_LEVEL_ADMIN, &so->tg,
				   err);
		if (rc != 0)
			return rc;
		so->base = calloc(view->n, sizeof(*so->base));
		if (so->base == NULL)
			return cut_err_set(err, UV_ENOMEM, "rollout", NULL);
		row = srvstate_find(&view->lb[0].state, s->backend, s->server);
		snprintf(so->addr, sizeof(so->addr), "%s", row->addr);
		snprintf(so->port, sizeof(so->port), "%lld",
			 (long long)row->port);
		so->vars.server = s->server;
		so->vars.backend = s->backend;
		so->vars.addr = so->addr;
		so->vars.port = so->port;
		so->vars.peer = so->peer;
	}
	return 0;
}

void roll_run_release(struct roll_run *r)
{
	size_t i;

	if (r->per == NULL)
		return;
	for (i = 0; i < r->ro.n; i++) {
		fleet_targets_free(&r->per[i].tg);
		free(r->per[i].base);
	}
	free(r->per);
	r->per = NULL;
}
