/* rollout.c - the rolling-upgrade state machines (see rollout.h).
 *
 * Every server moves through a table of states: each row has a name, an
 * enter action (start one operation through the ops table, or say there is
 * nothing to do), an event handler (where to go when the operation
 * completes) and the set of states it may go to. One setter, set_state(),
 * makes every change: it checks the move is allowed, reports it (output,
 * journal) and runs the enter action. Callbacks never touch the state:
 * they call roll_op_done(), which goes through the table.
 *
 * The run moves batch by batch: capacity check, all servers of the batch
 * in parallel, and on to the next batch only if every server of this one
 * is done. A failure, a refused capacity check or an interrupt starts
 * nothing new; servers not yet touched stay untouched.
 */
#include "rollout.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BIT(s) (1u << (s))

enum enter_result {
	ENTER_STARTED = 0,	/* an op runs; roll_op_done() follows */
	ENTER_SKIP,		/* nothing to do here: move on at once */
	ENTER_FAILED,		/* could not start: handled as ROLL_EV_FAIL */
};

struct roll_ev {
	enum roll_ev_kind kind;
	const struct cut_err *err;
};

struct state_desc {
	const char *name;
	/* true: nothing to do here for this plan (a hook stage without
	 * commands, no probe, no watch): the state is passed over. */
	bool (*skip)(const struct roll_srv *s);
	enum enter_result (*enter)(struct roll_srv *s, struct cut_err *err);
	enum roll_state (*on_event)(struct roll_srv *s, const struct roll_ev *ev);
	unsigned next;		/* BIT() of the states it may go to */
};

static const struct state_desc states[ROLL_ST_COUNT];

const char *roll_state_name(enum roll_state s)
{
	return s < ROLL_ST_COUNT ? states[s].name : "?";
}

bool roll_state_final(enum roll_state s)
{
	return s == ROLL_ST_DONE || s == ROLL_ST_RESTORED || s == ROLL_ST_FAILED;
}

static void batch_check(struct rollout *ro);

bool roll_state_parse(const char *name, enum roll_state *out)
{
	int i;

	for (i = 0; i < ROLL_ST_COUNT; i++)
		if (strcmp(states[i].name, name) == 0) {
			*out = (enum roll_state)i;
			return true;
		}
	return false;
}

enum roll_state roll_resume_point(const struct plan *plan,
				  enum roll_state last)
{
	bool in_place = plan->strategy == PLAN_STRATEGY_IN_PLACE;

	switch (last) {
	case ROLL_ST_AFTER_DRAIN:
		return ROLL_ST_AFTER_DRAIN;
	case ROLL_ST_MAINT:
		return ROLL_ST_MAINT;
	case ROLL_ST_UPGRADING:
		return in_place ? ROLL_ST_UPGRADING : ROLL_ST_MAINT;
	case ROLL_ST_PROBING:
	case ROLL_ST_BEFORE_ENABLE:
		return ROLL_ST_PROBING;
	case ROLL_ST_ENABLING:
	case ROLL_ST_AFTER_ENABLE:
		return ROLL_ST_ENABLING;
	case ROLL_ST_WATCHING:
		return ROLL_ST_WATCHING;
	case ROLL_ST_DONE:
		return ROLL_ST_DONE;
	case ROLL_ST_FAILING:
	case ROLL_ST_ON_FAILURE:
	case ROLL_ST_FAILED:
		return in_place ? ROLL_ST_FAILING : ROLL_ST_MAINT;
	default:
		return ROLL_ST_PENDING;
	}
}

/* ---- the sequences ------------------------------------------------------ */

static const enum roll_state seq_drain[] = {
	ROLL_ST_PENDING, ROLL_ST_BEFORE_DRAIN, ROLL_ST_DRAINING,
	ROLL_ST_WAIT_IDLE, ROLL_ST_AFTER_DRAIN, ROLL_ST_MAINT,
	ROLL_ST_UPGRADING, ROLL_ST_PROBING, ROLL_ST_BEFORE_ENABLE,
	ROLL_ST_ENABLING, ROLL_ST_AFTER_ENABLE, ROLL_ST_WATCHING,
	ROLL_ST_DONE,
};

static const enum roll_state seq_in_place[] = {
	ROLL_ST_PENDING, ROLL_ST_UPGRADING, ROLL_ST_PROBING, ROLL_ST_WATCHING,
	ROLL_ST_DONE,
};

/* The state after `cur` on the happy path of the plan's strategy. */
static enum roll_state next_in_sequence(const struct roll_srv *s,
					enum roll_state cur)
{
	const enum roll_state *seq = seq_drain;
	size_t n = sizeof(seq_drain) / sizeof(seq_drain[0]), i;

	if (s->ro->plan->strategy == PLAN_STRATEGY_IN_PLACE) {
		seq = seq_in_place;
		n = sizeof(seq_in_place) / sizeof(seq_in_place[0]);
	}
	if (cur == ROLL_ST_KILLING || cur == ROLL_ST_SHEDDING)
		return ROLL_ST_AFTER_DRAIN;
	if (cur == ROLL_ST_ON_FAILURE)
		return ROLL_ST_FAILED;
	for (i = 0; i + 1 < n; i++)
		if (seq[i] == cur)
			return seq[i + 1];
	return ROLL_ST_FAILING;
}

/* Has the upgrade begun (the server may be changed)? Before that, an
 * interrupted or failed drain only needs the server put back. */
static bool upgrade_begun(enum roll_state s)
{
	return s >= ROLL_ST_UPGRADING && s <= ROLL_ST_WATCHING;
}

/* ---- the one setter -------------------------------------------------------- */

static void note(struct roll_srv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct roll_srv *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

static void set_state(struct roll_srv *s, enum roll_state next,
		      const char *reason)
{
	struct rollout *ro = s->ro;
	struct cut_err err;
	enum enter_result er;
	enum roll_state from;

	for (;;) {
		from = s->state;
		if (!(states[from].next & BIT(next))) {
			LOG_ERR("srv %s/%s: %s -> %s is not allowed", s->backend,
				s->server, states[from].name, states[next].name);
			note(s, "internal error: %s -> %s not allowed",
			     states[from].name, states[next].name);
			next = ROLL_ST_FAILING;
			reason = s->reason;
			if (!(states[from].next & BIT(next)))
				next = ROLL_ST_FAILED;
		}
		/* The move is checked against the table above; states with
		 * nothing to do on the way are then passed over. */
		while (states[next].skip != NULL && states[next].skip(s))
			next = next_in_sequence(s, next);
		if (next == ROLL_ST_FAILING || next == ROLL_ST_RESTORING)
			s->failed_in = from;
		s->state = next;
		s->state_since_ms = ro->ops->now_ms(ro->ctx);
		if (ro->ops->on_state != NULL)
			ro->ops->on_state(ro->ctx, s, from, reason ? reason : "");
		if (roll_state_final(next)) {
			s->ended_ms = s->state_since_ms;
			batch_check(ro);
			return;
		}
		cut_err_clear(&err);
		er = states[next].enter(s, &err);
		if (er == ENTER_STARTED) {
			s->busy = true;
			return;
		}
		if (er == ENTER_SKIP) {
			reason = "nothing to do";
			next = next_in_sequence(s, next);
			continue;
		}
		{
			struct roll_ev ev = { ROLL_EV_FAIL, &err };

			note(s, "%s: %s", states[next].name,
			     err.msg[0] ? err.msg : cut_strerror(err.code));
			reason = s->reason;
			next = states[next].on_event(s, &ev);
		}
	}
}

void roll_op_done(struct roll_srv *s, enum roll_ev_kind kind,
		  const struct cut_err *err)
{
	struct roll_ev ev = { kind, err };
	enum roll_state next;
	const char *reason = "";

	s->busy = false;
	if (kind != ROLL_EV_OK && err != NULL && err->msg[0] != '\0') {
		note(s, "%s: %s", states[s->state].name, err->msg);
		reason = s->reason;
	} else if (kind == ROLL_EV_CANCELED) {
		note(s, "%s: interrupted", states[s->state].name);
		reason = s->reason;
	}
	next = states[s->state].on_event(s, &ev);
	set_state(s, next, reason);
}

/* ---- enter actions ------------------------------------------------------ */

static enum enter_result started(int rc, struct cut_err *err)
{
	if (rc == 0)
		return ENTER_STARTED;
	if (err->code == 0)
		cut_err_set(err, rc, "", NULL);
	return ENTER_FAILED;
}

static bool no_hook(const struct roll_srv *s, enum plan_hook_stage st)
{
	return s->ro->plan->hooks[st].n == 0;
}

static bool skip_before_drain(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_BEFORE_DRAIN);
}

static bool skip_after_drain(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_AFTER_DRAIN);
}

static bool skip_upgrading(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_UPGRADE);
}

static bool skip_before_enable(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_BEFORE_ENABLE);
}

static bool skip_after_enable(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_AFTER_ENABLE);
}

static bool skip_on_failure(const struct roll_srv *s)
{
	return no_hook(s, PLAN_HOOK_ON_FAILURE);
}

static bool skip_probing(const struct roll_srv *s)
{
	const struct plan_probe *p = &s->ro->plan->probe;

	return !p->http && !p->tcp && !p->exec;
}

static bool skip_watching(const struct roll_srv *s)
{
	return s->ro->plan->watch.for_ms == 0;
}

static enum enter_result enter_nothing(struct roll_srv *s, struct cut_err *err)
{
	return ENTER_SKIP;
}

static enum enter_result run_stage(struct roll_srv *s,
				   enum plan_hook_stage st, struct cut_err *err)
{
	if (s->ro->plan->hooks[st].n == 0)
		return ENTER_SKIP;
	return started(s->ro->ops->run_hook(s->ro->ctx, s, st), err);
}

static enum enter_result enter_before_drain(struct roll_srv *s,
					    struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_BEFORE_DRAIN, err);
}

static enum enter_result enter_draining(struct roll_srv *s,
					struct cut_err *err)
{
	return started(s->ro->ops->set_admin(s->ro->ctx, s, SRV_ADMIN_DRAIN), err);
}

static enum enter_result enter_wait_idle(struct roll_srv *s,
					 struct cut_err *err)
{
	return started(s->ro->ops->wait_drained(s->ro->ctx, s,
						s->ro->plan->drain_timeout_ms),
		       err);
}

static enum enter_result enter_killing(struct roll_srv *s, struct cut_err *err)
{
	return started(s->ro->ops->kill_sessions(s->ro->ctx, s), err);
}

static enum enter_result enter_shedding(struct roll_srv *s, struct cut_err *err)
{
	return started(s->ro->ops->shed(s->ro->ctx, s), err);
}

static enum enter_result enter_after_drain(struct roll_srv *s,
					   struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_AFTER_DRAIN, err);
}

static enum enter_result enter_maint(struct roll_srv *s, struct cut_err *err)
{
	return started(s->ro->ops->set_admin(s->ro->ctx, s, SRV_ADMIN_MAINT), err);
}

static enum enter_result enter_upgrading(struct roll_srv *s,
					 struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_UPGRADE, err);
}

static enum enter_result enter_probing(struct roll_srv *s, struct cut_err *err)
{
	const struct plan_probe *p = &s->ro->plan->probe;

	if (!p->http && !p->tcp && !p->exec)
		return ENTER_SKIP;
	return started(s->ro->ops->probe(s->ro->ctx, s), err);
}

static enum enter_result enter_before_enable(struct roll_srv *s,
					     struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_BEFORE_ENABLE, err);
}

static enum enter_result enter_enabling(struct roll_srv *s, struct cut_err *err)
{
	return started(s->ro->ops->enable(s->ro->ctx, s), err);
}

static enum enter_result enter_after_enable(struct roll_srv *s,
					    struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_AFTER_ENABLE, err);
}

static enum enter_result enter_watching(struct roll_srv *s, struct cut_err *err)
{
	if (s->ro->plan->watch.for_ms == 0)
		return ENTER_SKIP;
	return started(s->ro->ops->watch(s->ro->ctx, s), err);
}

static enum enter_result enter_restoring(struct roll_srv *s,
					 struct cut_err *err)
{
	return started(s->ro->ops->set_admin(s->ro->ctx, s, SRV_ADMIN_READY), err);
}

static enum enter_result enter_failing(struct roll_srv *s, struct cut_err *err)
{
	return started(s->ro->ops->set_admin(s->ro->ctx, s, SRV_ADMIN_MAINT), err);
}

static enum enter_result enter_on_failure(struct roll_srv *s,
					  struct cut_err *err)
{
	return run_stage(s, PLAN_HOOK_ON_FAILURE, err);
}

/* ---- event handlers ----------------------------------------------------- */

/* The common case: success goes on (or back, if interrupted before the
 * upgrade began); anything else fails the server. */
static enum roll_state on_step(struct roll_srv *s, const struct roll_ev *ev)
{
	if (ev->kind != ROLL_EV_OK)
		return upgrade_begun(s->state) || s->state == ROLL_ST_MAINT
			       ? ROLL_ST_FAILING
			       : ROLL_ST_RESTORING;
	if (s->ro->interrupted) {
		if (!upgrade_begun(s->state) && s->state != ROLL_ST_PENDING)
			return ROLL_ST_RESTORING;
		if (upgrade_begun(s->state) && s->state < ROLL_ST_ENABLING) {
			note(s, "interrupted after %s: left out of rotation",
			     states[s->state].name);
			return ROLL_ST_FAILING;
		}
	}
	return next_in_sequence(s, s->state);
}

static enum roll_state on_wait_idle(struct roll_srv *s,
				    const struct roll_ev *ev)
{
	switch (ev->kind) {
	case ROLL_EV_OK:
		return on_step(s, ev);
	case ROLL_EV_TIMEOUT:
		switch (s->ro->plan->on_timeout) {
		case PLAN_ON_TIMEOUT_PROCEED:
			note(s, "drain deadline passed; proceeding as planned "
				"(on_timeout: proceed)");
			return ROLL_ST_AFTER_DRAIN;
		case PLAN_ON_TIMEOUT_KILL:
			note(s, "drain deadline passed; closing the remaining "
				"sessions (on_timeout: kill)");
			return ROLL_ST_KILLING;
		case PLAN_ON_TIMEOUT_SHED:
			note(s, "drain deadline passed; closing the remaining "
				"sessions one by one at %g/s (on_timeout: shed)",
			     s->ro->plan->shed_rate);
			return ROLL_ST_SHEDDING;
		default:
			if (ev->err != NULL)
				note(s, "drain deadline passed (on_timeout: "
					"fail): %s", ev->err->msg);
			return ROLL_ST_RESTORING;
		}
	default:
		return ROLL_ST_RESTORING;
	}
}

/* Restoring and failing end where they must even if their op failed:
 * the reason says what could not be done. */
static enum roll_state on_restoring(struct roll_srv *s,
				    const struct roll_ev *ev)
{
	if (ev->kind != ROLL_EV_OK) {
		s->unsure = true;
		note(s, "could not put it back in service: %s",
		     ev->err ? ev->err->msg : "?");
	}
	return ROLL_ST_RESTORED;
}

static enum roll_state on_failing(struct roll_srv *s, const struct roll_ev *ev)
{
	if (ev->kind != ROLL_EV_OK) {
		s->unsure = true;
		note(s, "could not put it in maintenance: %s",
		     ev->err ? ev->err->msg : "?");
	}
	if (s->ro->interrupted)
		return ROLL_ST_FAILED;	/* no on_failure hook then */
	return ROLL_ST_ON_FAILURE;
}

static enum roll_state on_on_failure(struct roll_srv *s,
				     const struct roll_ev *ev)
{
	return ROLL_ST_FAILED;
}

static enum roll_state on_final(struct roll_srv *s, const struct roll_ev *ev)
{
	return s->state;
}

#define OUT_OF_ROTATION (BIT(ROLL_ST_FAILING) | BIT(ROLL_ST_RESTORING))
/* Where roll_resume_point() may start a server. */
#define RESUMABLE (BIT(ROLL_ST_AFTER_DRAIN) | BIT(ROLL_ST_MAINT) | \
		   BIT(ROLL_ST_PROBING) | BIT(ROLL_ST_ENABLING) | \
		   BIT(ROLL_ST_WATCHING) | BIT(ROLL_ST_FAILING))

static const struct state_desc states[ROLL_ST_COUNT] = {
	[ROLL_ST_PENDING] = { "pending", NULL, enter_nothing, on_step,
		BIT(ROLL_ST_BEFORE_DRAIN) | BIT(ROLL_ST_UPGRADING) | RESUMABLE },
	[ROLL_ST_BEFORE_DRAIN] = { "before_drain", skip_before_drain,
		enter_before_drain, on_step,
		BIT(ROLL_ST_DRAINING) | OUT_OF_ROTATION },
	[ROLL_ST_DRAINING] = { "draining", NULL, enter_draining, on_step,
		BIT(ROLL_ST_WAIT_IDLE) | OUT_OF_ROTATION },
	[ROLL_ST_WAIT_IDLE] = { "wait_idle", NULL, enter_wait_idle,
		on_wait_idle, BIT(ROLL_ST_AFTER_DRAIN) | BIT(ROLL_ST_KILLING) |
		BIT(ROLL_ST_SHEDDING) | OUT_OF_ROTATION },
	[ROLL_ST_KILLING] = { "killing", NULL, enter_killing, on_step,
		BIT(ROLL_ST_AFTER_DRAIN) | OUT_OF_ROTATION },
	[ROLL_ST_SHEDDING] = { "shedding", NULL, enter_shedding, on_step,
		BIT(ROLL_ST_AFTER_DRAIN) | OUT_OF_ROTATION },
	[ROLL_ST_AFTER_DRAIN] = { "after_drain", skip_after_drain,
		enter_after_drain, on_step, BIT(ROLL_ST_MAINT) | OUT_OF_ROTATION },
	[ROLL_ST_MAINT] = { "maint", NULL, enter_maint, on_step,
		BIT(ROLL_ST_UPGRADING) | OUT_OF_ROTATION },
	[ROLL_ST_UPGRADING] = { "upgrading", skip_upgrading, enter_upgrading,
		on_step, BIT(ROLL_ST_PROBING) | BIT(ROLL_ST_FAILING) },
	[ROLL_ST_PROBING] = { "probing", skip_probing, enter_probing, on_step,
		BIT(ROLL_ST_BEFORE_ENABLE) | BIT(ROLL_ST_WATCHING) |
		BIT(ROLL_ST_FAILING) },
	[ROLL_ST_BEFORE_ENABLE] = { "before_enable", skip_before_enable,
		enter_before_enable, on_step,
		BIT(ROLL_ST_ENABLING) | BIT(ROLL_ST_FAILING) },
	[ROLL_ST_ENABLING] = { "enabling", NULL, enter_enabling, on_step,
		BIT(ROLL_ST_AFTER_ENABLE) | BIT(ROLL_ST_FAILING) },
	[ROLL_ST_AFTER_ENABLE] = { "after_enable", skip_after_enable,
		enter_after_enable, on_step,
		BIT(ROLL_ST_WATCHING) | BIT(ROLL_ST_FAILING) },
	[ROLL_ST_WATCHING] = { "watching", skip_watching, enter_watching,
		on_step, BIT(ROLL_ST_DONE) | BIT(ROLL_ST_FAILING) },
	[ROLL_ST_DONE] = { "done", NULL, enter_nothing, on_final, 0 },
	[ROLL_ST_RESTORING] = { "restoring", NULL, enter_restoring,
		on_restoring, BIT(ROLL_ST_RESTORED) },
	[ROLL_ST_RESTORED] = { "restored", NULL, enter_nothing, on_final, 0 },
	[ROLL_ST_FAILING] = { "failing", NULL, enter_failing, on_failing,
		BIT(ROLL_ST_ON_FAILURE) | BIT(ROLL_ST_FAILED) },
	[ROLL_ST_ON_FAILURE] = { "on_failure", skip_on_failure,
		enter_on_failure, on_on_failure, BIT(ROLL_ST_FAILED) },
	[ROLL_ST_FAILED] = { "failed", NULL, enter_nothing, on_final, 0 },
};

/* ---- the run ------------------------------------------------------------ */

static void run_end(struct rollout *ro)
{
	if (ro->run == ROLL_RUN_ENDED)
		return;
	ro->run = ROLL_RUN_ENDED;
	if (ro->ops->on_run_end != NULL)
		ro->ops->on_run_end(ro->ctx, roll_status(ro));
}

static void stop_run(struct rollout *ro, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void stop_run(struct rollout *ro, int status, const char *fmt, ...)
{
	va_list ap;

	ro->stop = true;
	if (ro->status != 0)
		return;		/* keep the first reason */
	ro->status = status;
	va_start(ap, fmt);
	vsnprintf(ro->stop_reason, sizeof(ro->stop_reason), fmt, ap);
	va_end(ap);
}

static void next_batch(struct rollout *ro)
{
	struct roll_srv **batch;
	size_t i, n;
	int rc;

	if (ro->interrupted || ro->stop) {
		run_end(ro);
		return;
	}
	ro->batch_start += ro->batch_len;
	if (ro->batch_start >= ro->n) {
		run_end(ro);
		return;
	}
	n = ro->n - ro->batch_start;
	if (n > ro->plan->batch)
		n = ro->plan->batch;
	ro->batch_len = n;
	ro->run = ROLL_RUN_CHECKING;
	batch = calloc(n, sizeof(*batch));
	if (batch == NULL) {
		stop_run(ro, UV_ENOMEM, "out of memory");
		run_end(ro);
		return;
	}
	for (i = 0; i < n; i++)
		batch[i] = &ro->srv[ro->batch_start + i];
	rc = ro->ops->check_capacity(ro->ctx, batch, n);
	free(batch);
	if (rc != 0) {
		stop_run(ro, rc, "capacity check could not start: %s",
			 cut_strerror(rc));
		run_end(ro);
	}
}

void roll_capacity_done(struct rollout *ro, bool ok, const struct cut_err *err)
{
	size_t i;

	if (!ok) {
		stop_run(ro, CUT_ECAPACITY, "%s",
			 err != NULL ? err->msg : "capacity floor");
		run_end(ro);
		return;
	}
	if (ro->interrupted) {
		run_end(ro);
		return;
	}
	ro->run = ROLL_RUN_BATCH;
	for (i = 0; i < ro->batch_len; i++) {
		struct roll_srv *s = &ro->srv[ro->batch_start + i];

		s->started_ms = ro->ops->now_ms(ro->ctx);
		if (s->resume_at != ROLL_ST_PENDING)
			set_state(s, s->resume_at, "resumed");
		else
			set_state(s, next_in_sequence(s, ROLL_ST_PENDING), "");
	}
}

void roll_pause_done(struct rollout *ro)
{
	next_batch(ro);
}

/* Called whenever a server reaches a final state. */
static void batch_check(struct rollout *ro)
{
	size_t i;

	for (i = 0; i < ro->batch_len; i++) {
		const struct roll_srv *s = &ro->srv[ro->batch_start + i];

		if (!roll_state_final(s->state))
			return;
	}
	for (i = 0; i < ro->batch_len; i++) {
		const struct roll_srv *s = &ro->srv[ro->batch_start + i];

		if (s->state == ROLL_ST_DONE)
			continue;
		if (ro->interrupted)
			stop_run(ro, CUT_ECANCELED, "interrupted");
		else
			stop_run(ro, s->state == ROLL_ST_FAILED ? CUT_EHOOK
								 : CUT_EREFUSED,
				 "%s/%s %s: %s", s->backend, s->server,
				 roll_state_name(s->state), s->reason);
	}
	if (ro->stop || ro->interrupted || ro->batch_start + ro->batch_len >= ro->n ||
	    ro->plan->pause_ms == 0) {
		next_batch(ro);
		return;
	}
	ro->run = ROLL_RUN_PAUSING;
	if (ro->ops->pause(ro->ctx, ro->plan->pause_ms) != 0)
		next_batch(ro);
}

int roll_init(struct rollout *ro, const struct plan *plan,
	      const struct roll_ops *ops, void *ctx, const char *const *servers,
	      size_t n)
{
	size_t i;

	memset(ro, 0, sizeof(*ro));
	ro->plan = plan;
	ro->ops = ops;
	ro->ctx = ctx;
	ro->srv = calloc(n ? n : 1, sizeof(*ro->srv));
	if (ro->srv == NULL)
		return UV_ENOMEM;
	ro->n = n;
	for (i = 0; i < n; i++) {
		struct roll_srv *s = &ro->srv[i];

		s->ro = ro;
		s->index = i;
		s->state = ROLL_ST_PENDING;
		snprintf(s->backend, sizeof(s->backend), "%s", plan->backend);
		snprintf(s->server, sizeof(s->server), "%s", servers[i]);
	}
	return 0;
}

int roll_resume_at(struct rollout *ro, size_t i, enum roll_state at)
{
	if (i >= ro->n || (at != ROLL_ST_PENDING && !(RESUMABLE & BIT(at))))
		return CUT_EUSAGE;
	ro->srv[i].resume_at = at;
	return 0;
}

void roll_free(struct rollout *ro)
{
	free(ro->srv);
	ro->srv = NULL;
	ro->n = 0;
}

void roll_start(struct rollout *ro)
{
	ro->batch_start = 0;
	ro->batch_len = 0;
	next_batch(ro);
}

void roll_interrupt(struct rollout *ro)
{
	bool second = ro->interrupted;
	size_t i;

	ro->interrupted = true;
	stop_run(ro, CUT_ECANCELED, "interrupted");
	if (ro->run != ROLL_RUN_BATCH) {
		if (ro->run == ROLL_RUN_PAUSING || ro->run == ROLL_RUN_IDLE)
			run_end(ro);
		return;		/* CHECKING ends in roll_capacity_done() */
	}
	for (i = 0; i < ro->batch_len; i++) {
		struct roll_srv *s = &ro->srv[ro->batch_start + i];

		/* Waiting for sessions: put it back now. A hook is allowed
		 * to finish, unless this is the second interrupt. */
		if (s->busy && (second || s->state == ROLL_ST_WAIT_IDLE ||
				s->state == ROLL_ST_SHEDDING ||
				s->state == ROLL_ST_PROBING ||
				s->state == ROLL_ST_WATCHING))
			ro->ops->cancel(ro->ctx, s);
	}
}

int roll_status(const struct rollout *ro)
{
	size_t i;

	for (i = 0; i < ro->n; i++)
		if (ro->srv[i].unsure)
			return CUT_EUNDO;
	if (ro->interrupted)
		return CUT_ECANCELED;
	return ro->status;
}
