/* fuzz_plan.c - libFuzzer target for plan_load_buf(), the plan YAML loader
 * with its switch: section: a loaded plan is walked string by string and
 * checked against what plan.h promises (defaults filled, lists non-empty,
 * argv NULL-terminated, switch steps increasing up to 100). */
#include "fuzz.h"
#include "plan.h"
#include "rtapi.h"

static void check_argv(const struct plan_argv *a)
{
	size_t i;

	FUZZ_CHECK(a->argc >= 1 && a->argv != NULL);
	for (i = 0; i < a->argc; i++)
		fuzz_touch(a->argv[i]);
	FUZZ_CHECK(a->argv[a->argc] == NULL);
	FUZZ_CHECK(a->line >= 1 && a->col >= 1);
}

static void check_srvset(const struct plan_srvset *s)
{
	size_t i;

	if (s->kind == PLAN_SERVERS_PATTERN) {
		fuzz_touch(s->pattern);
		return;
	}
	FUZZ_CHECK(s->kind == PLAN_SERVERS_LIST && s->n >= 1);
	for (i = 0; i < s->n; i++)
		FUZZ_CHECK(fuzz_touch(s->names[i]) > 0);
}

static void check_switch(const struct plan *p)
{
	const struct plan_switch *sw = &p->sw;
	size_t i;

	if (!sw->present) {
		FUZZ_CHECK(sw->steps == NULL && sw->nsteps == 0);
		return;
	}
	FUZZ_CHECK(strcmp(plan_switch_mode_name(sw->mode), "?") != 0);
	FUZZ_CHECK(sw->nsteps >= 1 && sw->steps[sw->nsteps - 1] == 100);
	for (i = 1; i < sw->nsteps; i++)
		FUZZ_CHECK(sw->steps[i - 1] < sw->steps[i]);
	if (sw->mode == PLAN_SWITCH_MAP) {
		fuzz_touch(sw->map);
		fuzz_touch(sw->key);
		fuzz_touch(sw->blue_backend);
		fuzz_touch(sw->green_backend);
		FUZZ_CHECK(strcmp(sw->blue_backend, sw->green_backend) != 0);
		FUZZ_CHECK(strcmp(p->backend, sw->green_backend) == 0);
		return;
	}
	check_srvset(&sw->blue);
	check_srvset(&sw->green);
	FUZZ_CHECK(sw->green.kind != PLAN_SERVERS_LIST ||
		   sw->min_green <= sw->green.n);
}

static void check_plan(const struct plan *p)
{
	struct rtapi_addr addr;
	size_t i, s;

	fuzz_touch(p->path);
	for (i = 0; i < p->nlb; i++) {
		fuzz_touch(p->lbs[i]);
		FUZZ_CHECK(rtapi_addr_parse(p->lbs[i], &addr, NULL) == 0);
	}
	fuzz_touch(p->backend);
	FUZZ_CHECK((unsigned)p->servers_kind < PLAN_SERVERS_KIND_COUNT);
	if (p->servers_kind == PLAN_SERVERS_LIST) {
		FUZZ_CHECK(p->nservers >= 1 && p->server_pos != NULL);
		for (i = 0; i < p->nservers; i++)
			fuzz_touch(p->servers[i]);
	}
	if (p->servers_kind == PLAN_SERVERS_PATTERN)
		fuzz_touch(p->pattern);
	FUZZ_CHECK(strcmp(plan_strategy_name(p->strategy), "?") != 0);
	FUZZ_CHECK(strcmp(plan_on_timeout_name(p->on_timeout), "?") != 0);
	FUZZ_CHECK(p->batch >= 1);
	for (s = 0; s < PLAN_HOOK_STAGE_COUNT; s++)
		for (i = 0; i < p->hooks[s].n; i++)
			check_argv(&p->hooks[s].cmds[i]);
	if (p->probe.http)
		fuzz_touch(p->probe.http_url);
	if (p->probe.http_body != NULL)
		fuzz_touch(p->probe.http_body);
	if (p->probe.tcp) {
		fuzz_touch(p->probe.tcp_host);
		fuzz_touch(p->probe.tcp_port);
	}
	if (p->probe.exec)
		check_argv(&p->probe.exec_argv);
	FUZZ_CHECK(p->probe.rise >= 1 && p->probe.interval_ms > 0 &&
		   p->probe.timeout_ms > 0 && p->probe.deadline_ms > 0);
	check_switch(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct plan unset;
	struct cut_err err = { 0 };
	struct plan *p = &unset;	/* must be set to NULL on error */
	int rc;

	rc = plan_load_buf("fuzz.yaml", (const char *)data, size, &p, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(p == NULL);
		return 0;
	}
	FUZZ_CHECK(p != NULL);
	check_plan(p);
	plan_free(p);
	return 0;
}
