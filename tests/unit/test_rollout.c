/* test_rollout.c - the rolling-upgrade state machines with recording
 * fakes for every side effect: the test completes each operation by hand
 * and checks the sequence of states and calls. No loop, no timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "plan.h"
#include "rollout.h"

struct fake {
	char calls[8192];		/* "srv:op;" in order */
	int pending[8];			/* op running per server: 1 */
	int capacity_asked;
	int capacity_refuse;
	int paused;
	int ended;
	int end_status;
	int set_admin_fail;		/* start failure of set_admin */
	int cancels;
	uint64_t now;
};

static void rec(struct fake *f, const struct roll_srv *s, const char *fmt, ...)
{
	size_t n = strlen(f->calls);
	va_list ap;

	n += (size_t)snprintf(f->calls + n, sizeof(f->calls) - n, "%s:",
			      s ? s->server : "run");
	va_start(ap, fmt);
	n += (size_t)vsnprintf(f->calls + n, sizeof(f->calls) - n, fmt, ap);
	va_end(ap);
	snprintf(f->calls + n, sizeof(f->calls) - n, ";");
}

static int f_set_admin(void *ctx, struct roll_srv *s, enum srv_admin to)
{
	struct fake *f = ctx;

	if (f->set_admin_fail)
		return CUT_EREFUSED;
	rec(f, s, "%s", srv_admin_name(to));
	f->pending[s->index] = 1;
	return 0;
}

static int f_wait(void *ctx, struct roll_srv *s, uint64_t timeout_ms)
{
	rec(ctx, s, "wait");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_kill(void *ctx, struct roll_srv *s)
{
	rec(ctx, s, "kill");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_shed(void *ctx, struct roll_srv *s)
{
	rec(ctx, s, "shed");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_hook(void *ctx, struct roll_srv *s, enum plan_hook_stage st)
{
	rec(ctx, s, "hook %s", plan_hook_stage_name(st));
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_probe(void *ctx, struct roll_srv *s)
{
	rec(ctx, s, "probe");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_enable(void *ctx, struct roll_srv *s)
{
	rec(ctx, s, "enable");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static int f_watch(void *ctx, struct roll_srv *s)
{
	rec(ctx, s, "watch");
	((struct fake *)ctx)->pending[s->index] = 1;
	return 0;
}

static void f_cancel(void *ctx, struct roll_srv *s)
{
	struct fake *f = ctx;

	f->cancels++;
	rec(f, s, "cancel");
}

static int f_capacity(void *ctx, struct roll_srv *const *batch, size_t n)
{
	struct fake *f = ctx;

	f->capacity_asked++;
	rec(f, NULL, "capacity %s+%zu", batch[0]->server, n - 1);
	return 0;
}

static void f_state(void *ctx, const struct roll_srv *s, enum roll_state from,
		    const char *reason)
{
}

static void f_end(void *ctx, int status)
{
	struct fake *f = ctx;

	f->ended++;
	f->end_status = status;
	rec(f, NULL, "end");
}

static uint64_t f_now(void *ctx)
{
	return ++((struct fake *)ctx)->now;
}

static int f_pause(void *ctx, uint64_t ms)
{
	struct fake *f = ctx;

	f->paused++;
	rec(f, NULL, "pause");
	return 0;
}

static const struct roll_ops fake_ops = {
	.set_admin = f_set_admin,
	.wait_drained = f_wait,
	.kill_sessions = f_kill,
	.shed = f_shed,
	.run_hook = f_hook,
	.probe = f_probe,
	.enable = f_enable,
	.watch = f_watch,
	.cancel = f_cancel,
	.check_capacity = f_capacity,
	.on_state = f_state,
	.on_run_end = f_end,
	.now_ms = f_now,
	.pause = f_pause,
};

static char *argv_upgrade[] = { "upgrade", "{server}", NULL };
static struct plan_argv cmd_upgrade = { argv_upgrade, 2, 1, 1 };
static char *argv_fail[] = { "page-oncall", NULL };
static struct plan_argv cmd_fail = { argv_fail, 1, 1, 1 };

static void base_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->backend = "app";
	p->batch = 1;
	p->min_serving = 1;
	p->strategy = PLAN_STRATEGY_DRAIN;
	p->drain_timeout_ms = 1000;
	p->hooks[PLAN_HOOK_UPGRADE].cmds = &cmd_upgrade;
	p->hooks[PLAN_HOOK_UPGRADE].n = 1;
	p->hooks[PLAN_HOOK_ON_FAILURE].cmds = &cmd_fail;
	p->hooks[PLAN_HOOK_ON_FAILURE].n = 1;
	p->probe.http = true;
	p->watch.for_ms = 1000;
}

static const char *const names[] = { "web1", "web2", "web3", "web4" };

static void complete(struct rollout *ro, size_t i, enum roll_ev_kind k)
{
	struct fake *f = ro->ctx;
	struct cut_err err;

	assert_int_equal(f->pending[i], 1);
	f->pending[i] = 0;
	cut_err_set(&err, k == ROLL_EV_OK ? 0 : CUT_EPROBE, "", "fake %d", k);
	roll_op_done(&ro->srv[i], k, k == ROLL_EV_OK ? NULL : &err);
}

/* Complete server i's ops with OK until it is final. */
static void finish_ok(struct rollout *ro, size_t i)
{
	while (!roll_state_final(ro->srv[i].state))
		complete(ro, i, ROLL_EV_OK);
}

static void test_happy_path(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	assert_string_equal(f.calls, "run:capacity web1+0;");
	roll_capacity_done(&ro, true, NULL);
	assert_int_equal(ro.srv[0].state, ROLL_ST_DRAINING);
	assert_int_equal(ro.srv[1].state, ROLL_ST_PENDING);
	finish_ok(&ro, 0);
	assert_int_equal(ro.srv[0].state, ROLL_ST_DONE);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 1);
	assert_string_equal(f.calls,
		"run:capacity web1+0;web1:drain;web1:wait;web1:maint;"
		"web1:hook upgrade;web1:probe;web1:enable;web1:watch;"
		"run:capacity web2+0;web2:drain;web2:wait;web2:maint;"
		"web2:hook upgrade;web2:probe;web2:enable;web2:watch;run:end;");
	assert_int_equal(f.ended, 1);
	assert_int_equal(f.end_status, 0);
	assert_int_equal(roll_status(&ro), 0);
	roll_free(&ro);
}

static void test_probe_fails_on_second(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 4), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 0);
	roll_capacity_done(&ro, true, NULL);
	while (ro.srv[1].state != ROLL_ST_PROBING)
		complete(&ro, 1, ROLL_EV_OK);
	complete(&ro, 1, ROLL_EV_FAIL);
	assert_int_equal(ro.srv[1].state, ROLL_ST_FAILING);
	complete(&ro, 1, ROLL_EV_OK);		/* maint applied */
	assert_int_equal(ro.srv[1].state, ROLL_ST_ON_FAILURE);
	complete(&ro, 1, ROLL_EV_OK);		/* on_failure hook */
	assert_int_equal(ro.srv[1].state, ROLL_ST_FAILED);
	assert_int_equal(ro.srv[1].failed_in, ROLL_ST_PROBING);
	assert_non_null(strstr(ro.srv[1].reason, "probing: fake"));
	assert_int_equal(ro.srv[2].state, ROLL_ST_PENDING);
	assert_int_equal(ro.srv[3].state, ROLL_ST_PENDING);
	assert_int_equal(f.capacity_asked, 2);	/* no third batch */
	assert_int_equal(f.ended, 1);
	assert_int_not_equal(f.end_status, 0);
	assert_non_null(strstr(ro.stop_reason, "app/web2 failed"));
	assert_non_null(strstr(f.calls, "web2:probe;web2:maint;web2:hook on_failure;run:end;"));
	roll_free(&ro);
}

static void drain_timeout(enum plan_on_timeout pol, enum roll_state want,
			  const char *want_calls)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.on_timeout = pol;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_OK);		/* drain applied */
	assert_int_equal(ro.srv[0].state, ROLL_ST_WAIT_IDLE);
	complete(&ro, 0, ROLL_EV_TIMEOUT);
	assert_int_equal(ro.srv[0].state, want);
	assert_non_null(strstr(f.calls, want_calls));
	roll_free(&ro);
}

static void test_drain_deadline_fail(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	drain_timeout(PLAN_ON_TIMEOUT_FAIL, ROLL_ST_RESTORING, "web1:wait;web1:ready;");
	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_OK);
	complete(&ro, 0, ROLL_EV_TIMEOUT);
	complete(&ro, 0, ROLL_EV_OK);		/* ready applied */
	assert_int_equal(ro.srv[0].state, ROLL_ST_RESTORED);
	assert_non_null(strstr(ro.srv[0].reason, "on_timeout: fail"));
	assert_int_equal(ro.srv[1].state, ROLL_ST_PENDING);
	assert_int_equal(f.ended, 1);
	assert_int_not_equal(f.end_status, 0);
	roll_free(&ro);
}

static void test_drain_deadline_proceed(void **state)
{
	drain_timeout(PLAN_ON_TIMEOUT_PROCEED, ROLL_ST_MAINT, "web1:wait;web1:maint;");
}

static void test_drain_deadline_kill(void **state)
{
	drain_timeout(PLAN_ON_TIMEOUT_KILL, ROLL_ST_KILLING, "web1:wait;web1:kill;");
}

static void test_drain_deadline_shed(void **state)
{
	drain_timeout(PLAN_ON_TIMEOUT_SHED, ROLL_ST_SHEDDING, "web1:wait;web1:shed;");
}

static void test_shed_then_on(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.on_timeout = PLAN_ON_TIMEOUT_SHED;
	p.shed_rate = 50;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 1), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_OK);
	complete(&ro, 0, ROLL_EV_TIMEOUT);
	complete(&ro, 0, ROLL_EV_OK);		/* shed to 0 */
	assert_int_equal(ro.srv[0].state, ROLL_ST_MAINT);
	finish_ok(&ro, 0);
	assert_int_equal(f.end_status, 0);
	roll_free(&ro);
}

static void test_interrupt_while_shedding(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.on_timeout = PLAN_ON_TIMEOUT_SHED;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 1), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_OK);
	complete(&ro, 0, ROLL_EV_TIMEOUT);
	roll_interrupt(&ro);
	assert_int_equal(f.cancels, 1);
	complete(&ro, 0, ROLL_EV_CANCELED);
	assert_int_equal(ro.srv[0].state, ROLL_ST_RESTORING);
	roll_free(&ro);
}

static void test_capacity_refused(void **state)
{
	struct fake f = { 0 };
	struct cut_err err;
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 3), 0);
	roll_start(&ro);
	cut_err_set(&err, CUT_ECAPACITY, "", "min_serving 3: only 2");
	roll_capacity_done(&ro, false, &err);
	assert_int_equal(f.ended, 1);
	assert_int_equal(f.end_status, CUT_ECAPACITY);
	assert_string_equal(ro.stop_reason, "min_serving 3: only 2");
	assert_string_equal(f.calls, "run:capacity web1+0;run:end;");
	assert_int_equal(ro.srv[0].state, ROLL_ST_PENDING);
	roll_free(&ro);
}

static void test_interrupt_while_draining(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 3), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_OK);		/* drain applied */
	roll_interrupt(&ro);
	assert_int_equal(f.cancels, 1);
	complete(&ro, 0, ROLL_EV_CANCELED);
	assert_int_equal(ro.srv[0].state, ROLL_ST_RESTORING);
	complete(&ro, 0, ROLL_EV_OK);
	assert_int_equal(ro.srv[0].state, ROLL_ST_RESTORED);
	assert_int_equal(ro.srv[1].state, ROLL_ST_PENDING);
	assert_int_equal(f.ended, 1);
	assert_int_equal(f.end_status, CUT_ECANCELED);
	assert_int_equal(f.capacity_asked, 1);
	roll_free(&ro);
}

static void test_interrupt_during_hook(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	while (ro.srv[0].state != ROLL_ST_UPGRADING)
		complete(&ro, 0, ROLL_EV_OK);
	roll_interrupt(&ro);
	assert_int_equal(f.cancels, 0);		/* the hook may finish */
	roll_interrupt(&ro);			/* a second one kills it */
	assert_int_equal(f.cancels, 1);
	complete(&ro, 0, ROLL_EV_CANCELED);
	assert_int_equal(ro.srv[0].state, ROLL_ST_FAILING);
	complete(&ro, 0, ROLL_EV_OK);		/* maint: no on_failure now */
	assert_int_equal(ro.srv[0].state, ROLL_ST_FAILED);
	assert_null(strstr(f.calls, "on_failure"));
	assert_int_equal(f.end_status, CUT_ECANCELED);
	roll_free(&ro);
}

static void test_interrupt_hook_finishes(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	while (ro.srv[0].state != ROLL_ST_UPGRADING)
		complete(&ro, 0, ROLL_EV_OK);
	roll_interrupt(&ro);
	complete(&ro, 0, ROLL_EV_OK);		/* the hook ended well */
	assert_int_equal(ro.srv[0].state, ROLL_ST_FAILING);
	assert_non_null(strstr(ro.srv[0].reason, "interrupted after upgrading"));
	complete(&ro, 0, ROLL_EV_OK);
	assert_int_equal(ro.srv[0].state, ROLL_ST_FAILED);
	assert_int_equal(f.ended, 1);
	roll_free(&ro);
}

static void test_in_place(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.strategy = PLAN_STRATEGY_IN_PLACE;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 1), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 0);
	assert_string_equal(f.calls, "run:capacity web1+0;web1:hook upgrade;"
				     "web1:probe;web1:watch;run:end;");
	assert_int_equal(f.end_status, 0);
	roll_free(&ro);
}

static void test_in_place_failure_goes_out(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.strategy = PLAN_STRATEGY_IN_PLACE;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	complete(&ro, 0, ROLL_EV_FAIL);		/* upgrade hook failed */
	assert_int_equal(ro.srv[0].state, ROLL_ST_FAILING);
	assert_non_null(strstr(f.calls, "web1:hook upgrade;web1:maint;"));
	finish_ok(&ro, 0);
	assert_int_equal(ro.srv[1].state, ROLL_ST_PENDING);
	roll_free(&ro);
}

static void test_batches_and_pause(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	p.batch = 2;
	p.pause_ms = 500;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 3), 0);
	roll_start(&ro);
	assert_string_equal(f.calls, "run:capacity web1+1;");
	roll_capacity_done(&ro, true, NULL);
	assert_int_equal(ro.srv[0].state, ROLL_ST_DRAINING);
	assert_int_equal(ro.srv[1].state, ROLL_ST_DRAINING);
	finish_ok(&ro, 0);
	assert_int_equal(f.capacity_asked, 1);	/* web2 still running */
	finish_ok(&ro, 1);
	assert_int_equal(f.paused, 1);
	roll_pause_done(&ro);
	assert_int_equal(f.capacity_asked, 2);
	assert_non_null(strstr(f.calls, "run:pause;run:capacity web3+0;"));
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 2);
	assert_int_equal(f.paused, 1);		/* none after the last */
	assert_int_equal(f.end_status, 0);
	roll_free(&ro);
}

static void test_start_failure_is_failure(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	f.set_admin_fail = 1;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	/* drain could not start -> restoring, whose set_admin fails too ->
	 * restored with the reason; the run stops. */
	assert_int_equal(ro.srv[0].state, ROLL_ST_RESTORED);
	assert_non_null(strstr(ro.srv[0].reason, "could not put it back"));
	assert_true(ro.srv[0].unsure);
	assert_int_equal(roll_status(&ro), CUT_EUNDO);
	assert_int_equal(f.end_status, CUT_EUNDO);
	assert_int_equal(f.ended, 1);
	assert_int_equal(ro.srv[1].state, ROLL_ST_PENDING);
	roll_free(&ro);
}

static void test_hooks_skipped_when_empty(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	memset(p.hooks, 0, sizeof(p.hooks));
	p.probe.http = false;
	p.watch.for_ms = 0;
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 1), 0);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 0);
	assert_string_equal(f.calls, "run:capacity web1+0;web1:drain;web1:wait;"
				     "web1:maint;web1:enable;run:end;");
	roll_free(&ro);
}

static void test_names(void **state)
{
	assert_string_equal(roll_state_name(ROLL_ST_WAIT_IDLE), "wait_idle");
	assert_string_equal(roll_state_name(ROLL_ST_ON_FAILURE), "on_failure");
	assert_string_equal(roll_state_name(ROLL_ST_COUNT), "?");
	assert_true(roll_state_final(ROLL_ST_DONE));
	assert_true(roll_state_final(ROLL_ST_RESTORED));
	assert_false(roll_state_final(ROLL_ST_FAILING));
}

/* Where resume picks a server up, from its last journaled state: the
 * table in rollout.h, for both strategies. */
static void test_resume_point(void **state)
{
	static const struct {
		const char *last, *drain, *in_place;
	} table[] = {
		{ "pending", "pending", "pending" },
		{ "before_drain", "pending", "pending" },
		{ "draining", "pending", "pending" },
		{ "wait_idle", "pending", "pending" },
		{ "killing", "pending", "pending" },
		{ "shedding", "pending", "pending" },
		{ "restoring", "pending", "pending" },
		{ "restored", "pending", "pending" },
		{ "after_drain", "after_drain", "after_drain" },
		{ "maint", "maint", "maint" },
		{ "upgrading", "maint", "upgrading" },
		{ "probing", "probing", "probing" },
		{ "before_enable", "probing", "probing" },
		{ "enabling", "enabling", "enabling" },
		{ "after_enable", "enabling", "enabling" },
		{ "watching", "watching", "watching" },
		{ "failing", "maint", "failing" },
		{ "on_failure", "maint", "failing" },
		{ "failed", "maint", "failing" },
		{ "done", "done", "done" },
	};
	struct plan drain, in_place;
	enum roll_state last;
	size_t i;

	base_plan(&drain);
	base_plan(&in_place);
	in_place.strategy = PLAN_STRATEGY_IN_PLACE;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!roll_state_parse(table[i].last, &last))
			fail_msg("unknown state %s", table[i].last);
		assert_string_equal(roll_state_name(roll_resume_point(&drain,
								      last)),
				    table[i].drain);
		assert_string_equal(roll_state_name(roll_resume_point(&in_place,
								      last)),
				    table[i].in_place);
	}
	assert_false(roll_state_parse("no_such_state", &last));
}

/* Resumed servers start where they were: web1 was probing (no drain, no
 * hook again), web2 had not begun. A done server is not part of a
 * resumed run: asking to start one at "done" is refused. */
static void test_resume_at(void **state)
{
	struct fake f = { 0 };
	struct rollout ro;
	struct plan p;

	base_plan(&p);
	assert_int_equal(roll_init(&ro, &p, &fake_ops, &f, names, 2), 0);
	assert_int_equal(roll_resume_at(&ro, 0, ROLL_ST_PROBING), 0);
	assert_int_equal(roll_resume_at(&ro, 1, ROLL_ST_DONE), CUT_EUSAGE);
	assert_int_equal(roll_resume_at(&ro, 1, ROLL_ST_DRAINING), CUT_EUSAGE);
	assert_int_equal(roll_resume_at(&ro, 2, ROLL_ST_MAINT), CUT_EUSAGE);
	roll_start(&ro);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 0);
	roll_capacity_done(&ro, true, NULL);
	finish_ok(&ro, 1);
	assert_string_equal(f.calls,
		"run:capacity web1+0;web1:probe;web1:enable;web1:watch;"
		"run:capacity web2+0;web2:drain;web2:wait;web2:maint;"
		"web2:hook upgrade;web2:probe;web2:enable;web2:watch;run:end;");
	assert_int_equal(f.end_status, 0);
	roll_free(&ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_probe_fails_on_second),
		cmocka_unit_test(test_drain_deadline_fail),
		cmocka_unit_test(test_drain_deadline_proceed),
		cmocka_unit_test(test_drain_deadline_kill),
		cmocka_unit_test(test_drain_deadline_shed),
		cmocka_unit_test(test_shed_then_on),
		cmocka_unit_test(test_interrupt_while_shedding),
		cmocka_unit_test(test_capacity_refused),
		cmocka_unit_test(test_interrupt_while_draining),
		cmocka_unit_test(test_interrupt_during_hook),
		cmocka_unit_test(test_interrupt_hook_finishes),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_in_place_failure_goes_out),
		cmocka_unit_test(test_batches_and_pause),
		cmocka_unit_test(test_start_failure_is_failure),
		cmocka_unit_test(test_hooks_skipped_when_empty),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_resume_point),
		cmocka_unit_test(test_resume_at),
	};

	return cmocka_run_group_tests_name("rollout", tests, NULL, NULL);
}
