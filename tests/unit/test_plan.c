/* test_plan.c - unit tests for src/plan.c and src/plan_yaml.c: every key of
 * a full plan, the defaults, each form of servers and hooks, placeholders,
 * both modes of a blue/green switch, and invalid plans whose exact message ("FILE:LINE:COLUMN: ...") is kept
 * next to them as tests/unit/data/plan/invalid/<case>.error.
 *
 * Fixtures are read from $CUTOVER_TEST_DATA/plan/ or tests/unit/data/plan/
 * (run from the repository root). Invalid plans are given to
 * plan_load_buf() in buffers of exactly their size, with no NUL after the
 * text, so that ASan catches a read past `len`, and to plan_load() by path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "err.h"
#include "plan.h"

#define MIB (1024 * 1024)

/* ---- fixtures --------------------------------------------------------- */

static const char *data_dir(void)
{
	const char *dir = getenv("CUTOVER_TEST_DATA");

	return dir != NULL ? dir : "tests/unit/data";
}

static void fixture_path(char *buf, size_t sz, const char *kind,
			 const char *name, const char *ext)
{
	snprintf(buf, sz, "%s/plan/%s/%s%s", data_dir(), kind, name, ext);
}

/* The whole file in a new buffer of exactly its size (1 byte if empty). */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (f == NULL)
		fail_msg("cannot open fixture %s (run from the repository "
			 "root or set CUTOVER_TEST_DATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	*len = (size_t)sz;
	buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Load valid/<name>.yaml by path; the caller frees the plan. */
static struct plan *load_valid(const char *name);

/* in-place with an upgrade hook and an exec probe is fine. */
static void test_in_place(void **state)
{
	struct plan *p = load_valid("in_place");

	assert_int_equal(p->strategy, PLAN_STRATEGY_IN_PLACE);
	assert_int_equal(p->hooks[PLAN_HOOK_UPGRADE].n, 1);
	assert_true(p->probe.exec);
	plan_free(p);
}

static struct plan *load_valid(const char *name)
{
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	char path[512];
	int rc;

	fixture_path(path, sizeof(path), "valid", name, ".yaml");
	rc = plan_load(path, &p, &err);
	if (rc != 0)
		fail_msg("%s: rc %d: %s", path, rc, err.msg);
	assert_non_null(p);
	assert_string_equal(p->path, path);
	return p;
}

static struct plan *load_text(const char *text)
{
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	int rc = plan_load_buf("t.yaml", text, strlen(text), &p, &err);

	if (rc != 0)
		fail_msg("rc %d: %s", rc, err.msg);
	return p;
}

/* Expect text to fail with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
	struct cut_err err = { 0 };
	struct plan dummy, *p = &dummy;	/* must come back NULL */

	assert_int_equal(plan_load_buf("t.yaml", text, strlen(text), &p, &err),
			 CUT_EUSAGE);
	assert_null(p);
	assert_string_equal(err.msg, msg);
}

static void assert_argv(const struct plan_argv *a, int line, int col,
			const char *const *want, size_t n)
{
	size_t i;

	assert_int_equal(a->argc, n);
	for (i = 0; i < n; i++)
		assert_string_equal(a->argv[i], want[i]);
	assert_null(a->argv[n]);
	assert_int_equal(a->line, line);
	assert_int_equal(a->col, col);
}

#define ARGV(a, line, col, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	assert_argv((a), (line), (col), want_, \
		    sizeof(want_) / sizeof(want_[0])); \
} while (0)

/* ---- valid plans ------------------------------------------------------ */

static void test_full(void **state)
{
	struct plan *p = load_valid("full");
	const struct plan_hook *h = p->hooks;

	assert_int_equal(p->nlb, 3);
	assert_string_equal(p->lbs[0], "unix:/run/haproxy/admin.sock");
	assert_string_equal(p->lbs[1], "tcp:10.0.0.2:9999");
	assert_string_equal(p->lbs[2], "/run/haproxy/admin2.sock");
	assert_int_equal(p->lbs_line, 3);
	assert_string_equal(p->backend, "app-v2.example:443");
	assert_int_equal(p->servers_kind, PLAN_SERVERS_LIST);
	assert_int_equal(p->nservers, 3);
	assert_string_equal(p->servers[0], "web1");
	assert_string_equal(p->servers[1], "web2");
	assert_string_equal(p->servers[2], "web3");
	assert_null(p->pattern);
	assert_int_equal(p->servers_line, 7);
	assert_int_equal(p->servers_col, 10);
	assert_int_equal(p->server_pos[0], 7);		/* web1 */
	assert_int_equal(p->server_pos[2], 7);		/* web2 */
	assert_true(p->server_pos[3] > p->server_pos[1]);
	assert_int_equal(p->strategy, PLAN_STRATEGY_DRAIN);
	assert_int_equal(p->batch, 2);
	assert_int_equal(p->min_serving, 3);
	assert_int_equal(p->pause_ms, 30000);
	assert_int_equal(p->drain_timeout_ms, 5400000);
	assert_int_equal(p->on_timeout, PLAN_ON_TIMEOUT_SHED);
	assert_true(p->shed_rate == 50.0);
	assert_int_equal(p->hook_timeout_ms, 1200000);
	assert_int_equal(p->hook_kill_grace_ms, 250);

	assert_int_equal(h[PLAN_HOOK_BEFORE_DRAIN].n, 1);
	ARGV(&h[PLAN_HOOK_BEFORE_DRAIN].cmds[0], 20, 17,
	     "notify", "{server}", "drain");
	assert_int_equal(h[PLAN_HOOK_AFTER_DRAIN].n, 1);
	ARGV(&h[PLAN_HOOK_AFTER_DRAIN].cmds[0], 22, 7,
	     "flush", "{backend}/{server}");
	assert_int_equal(h[PLAN_HOOK_UPGRADE].n, 2);
	ARGV(&h[PLAN_HOOK_UPGRADE].cmds[0], 24, 7,
	     "ssh", "{addr}", "sudo", "/usr/local/bin/upgrade-node");
	ARGV(&h[PLAN_HOOK_UPGRADE].cmds[1], 25, 7,
	     "ssh", "{addr}", "sudo", "systemctl", "restart", "app");
	assert_int_equal(h[PLAN_HOOK_BEFORE_ENABLE].n, 1);
	ARGV(&h[PLAN_HOOK_BEFORE_ENABLE].cmds[0], 26, 18,
	     "check", "{addr}:{port}", "3");
	assert_int_equal(h[PLAN_HOOK_AFTER_ENABLE].n, 1);
	ARGV(&h[PLAN_HOOK_AFTER_ENABLE].cmds[0], 28, 5, "echo", "{{literal}}");
	assert_int_equal(h[PLAN_HOOK_ON_FAILURE].n, 1);
	ARGV(&h[PLAN_HOOK_ON_FAILURE].cmds[0], 30, 15, "page", "{peer}");

	assert_true(p->probe.http);
	assert_string_equal(p->probe.http_url, "https://{addr}:{port}/health");
	assert_int_equal(p->probe.http_expect, 204);
	assert_string_equal(p->probe.http_body, "{\"status\":\"ok\"}");
	assert_true(p->probe.http_insecure);
	assert_true(p->probe.tcp);
	assert_string_equal(p->probe.tcp_host, "{addr}");
	assert_string_equal(p->probe.tcp_port, "5222");
	assert_true(p->probe.exec);
	ARGV(&p->probe.exec_argv, 38, 9, "check-cluster", "--node", "{server}");
	assert_true(p->probe.haproxy);
	assert_int_equal(p->probe.rise, 3);
	assert_int_equal(p->probe.interval_ms, 500);
	assert_int_equal(p->probe.timeout_ms, 1000);
	assert_int_equal(p->probe.deadline_ms, 600000);

	assert_int_equal(p->watch.for_ms, 30000);
	assert_int_equal(p->watch.interval_ms, 2000);
	assert_true(p->watch.max_5xx_pct == 1.5);
	assert_int_equal(p->watch.max_5xx, -1);
	assert_int_equal(p->watch.max_errors, 0);
	assert_int_equal(p->watch.max_check_fails, 2);
	plan_free(p);
}

static void test_defaults(void **state)
{
	struct plan *p = load_valid("minimal");
	size_t s;

	assert_int_equal(p->nlb, 0);
	assert_int_equal(p->lbs_line, 0);
	assert_string_equal(p->backend, "app");
	assert_int_equal(p->servers_kind, PLAN_SERVERS_ALL);
	assert_int_equal(p->nservers, 0);
	assert_null(p->servers);
	assert_null(p->pattern);
	assert_int_equal(p->servers_line, 0);
	assert_int_equal(p->strategy, PLAN_STRATEGY_DRAIN);
	assert_int_equal(p->batch, 1);
	assert_int_equal(p->min_serving, 1);
	assert_int_equal(p->pause_ms, 0);
	assert_int_equal(p->drain_timeout_ms, 600000);
	assert_int_equal(p->on_timeout, PLAN_ON_TIMEOUT_FAIL);
	assert_true(p->shed_rate == 0);
	assert_int_equal(p->hook_timeout_ms, 900000);
	assert_int_equal(p->hook_kill_grace_ms, 10000);
	for (s = 0; s < PLAN_HOOK_STAGE_COUNT; s++) {
		assert_int_equal(p->hooks[s].n, 0);
		assert_null(p->hooks[s].cmds);
	}
	assert_false(p->probe.http);
	assert_null(p->probe.http_url);
	assert_int_equal(p->probe.http_expect, 200);
	assert_null(p->probe.http_body);
	assert_false(p->probe.http_insecure);
	assert_false(p->probe.tcp);
	assert_null(p->probe.tcp_host);
	assert_null(p->probe.tcp_port);
	assert_false(p->probe.exec);
	assert_int_equal(p->probe.exec_argv.argc, 0);
	assert_null(p->probe.exec_argv.argv);
	assert_false(p->probe.haproxy);
	assert_int_equal(p->probe.rise, 1);
	assert_int_equal(p->probe.interval_ms, 1000);
	assert_int_equal(p->probe.timeout_ms, 2000);
	assert_int_equal(p->probe.deadline_ms, 300000);
	assert_int_equal(p->watch.for_ms, 0);
	assert_int_equal(p->watch.interval_ms, 1000);
	assert_true(p->watch.max_5xx_pct == -1);
	assert_int_equal(p->watch.max_5xx, -1);
	assert_int_equal(p->watch.max_errors, -1);
	assert_int_equal(p->watch.max_check_fails, -1);
	plan_free(p);
}

static void test_servers_all(void **state)
{
	struct plan *p = load_valid("servers_all");

	assert_int_equal(p->servers_kind, PLAN_SERVERS_ALL);
	assert_int_equal(p->nservers, 0);
	assert_null(p->pattern);
	assert_int_equal(p->servers_line, 2);
	assert_int_equal(p->servers_col, 10);
	plan_free(p);
}

static void test_servers_list(void **state)
{
	struct plan *p = load_valid("servers_list");

	assert_int_equal(p->servers_kind, PLAN_SERVERS_LIST);
	assert_int_equal(p->nservers, 3);
	assert_string_equal(p->servers[0], "web1");
	assert_string_equal(p->servers[1], "web-2.dc1");
	assert_string_equal(p->servers[2], "10.0.0.7:80");
	assert_int_equal(p->servers_line, 3);
	assert_int_equal(p->servers_col, 3);
	plan_free(p);
}

static void test_servers_one_name(void **state)
{
	struct plan *p = load_valid("servers_one");

	assert_int_equal(p->servers_kind, PLAN_SERVERS_LIST);
	assert_int_equal(p->nservers, 1);
	assert_string_equal(p->servers[0], "web1");
	assert_null(p->pattern);
	plan_free(p);
}

static void test_servers_pattern(void **state)
{
	struct plan *p = load_valid("servers_pattern");

	assert_int_equal(p->servers_kind, PLAN_SERVERS_PATTERN);
	assert_string_equal(p->pattern, "web[12]-*");
	assert_int_equal(p->nservers, 0);
	assert_null(p->servers);
	plan_free(p);
	p = load_text("backend: app\nservers: web?\n");
	assert_int_equal(p->servers_kind, PLAN_SERVERS_PATTERN);
	assert_string_equal(p->pattern, "web?");
	plan_free(p);
}

static void test_hook_single_argv(void **state)
{
	struct plan *p = load_valid("hooks_single");
	const struct plan_hook *h = &p->hooks[PLAN_HOOK_UPGRADE];

	assert_int_equal(h->n, 1);
	ARGV(&h->cmds[0], 3, 12, "ssh", "{addr}", "sudo", "upgrade-node");
	assert_int_equal(p->hooks[PLAN_HOOK_BEFORE_DRAIN].n, 0);
	plan_free(p);
}

static void test_hook_list_of_argvs(void **state)
{
	struct plan *p = load_valid("hooks_list");
	const struct plan_hook *h = &p->hooks[PLAN_HOOK_UPGRADE];

	assert_int_equal(h->n, 3);
	ARGV(&h->cmds[0], 4, 7, "ssh", "{addr}", "sudo", "upgrade-node");
	ARGV(&h->cmds[1], 5, 7, "sleep", "5");	/* numbers keep their text */
	ARGV(&h->cmds[2], 6, 7, "ssh", "{addr}", "true");
	plan_free(p);
}

static void test_placeholders(void **state)
{
	struct plan *p = load_valid("placeholders");

	assert_int_equal(p->hooks[PLAN_HOOK_UPGRADE].n, 1);
	ARGV(&p->hooks[PLAN_HOOK_UPGRADE].cmds[0], 5, 5,
	     "run-{server}", "{backend}/{server}@{addr}:{port}", "peer={peer}",
	     "{{\"json\": true}}", "}}{{", "{{{server}}}",
	     "no placeholders at all");
	plan_free(p);
}

static void test_probe_tcp_true(void **state)
{
	struct plan *p = load_valid("probe_tcp_true");

	assert_true(p->probe.tcp);
	assert_string_equal(p->probe.tcp_host, "{addr}");
	assert_string_equal(p->probe.tcp_port, "{port}");
	assert_false(p->probe.http);
	assert_false(p->probe.exec);
	assert_false(p->probe.haproxy);
	plan_free(p);
}

/* One LB as a plain string, bare seconds, a plain shed rate, a 5xx count,
 * and explicit document markers. */
static void test_scalar_forms(void **state)
{
	struct plan *p = load_valid("watch_count");

	assert_int_equal(p->nlb, 1);
	assert_string_equal(p->lbs[0], "unix:/run/haproxy/admin.sock");
	assert_int_equal(p->lbs_line, 3);
	assert_int_equal(p->drain_timeout_ms, 90000);
	assert_true(p->shed_rate == 2.5);
	assert_int_equal(p->watch.max_5xx, 5);
	assert_true(p->watch.max_5xx_pct == -1);
	plan_free(p);
}

static void test_probe_partial_tcp(void **state)
{
	struct plan *p = load_text("backend: app\nprobe:\n"
				   "  tcp: { port: \"{port}\" }\n"
				   "  haproxy: false\n  exec: [true]\n");

	assert_true(p->probe.tcp);
	assert_string_equal(p->probe.tcp_host, "{addr}");
	assert_string_equal(p->probe.tcp_port, "{port}");
	assert_false(p->probe.haproxy);
	assert_true(p->probe.exec);
	ARGV(&p->probe.exec_argv, 5, 9, "true");
	plan_free(p);
}

static void test_names(void **state)
{
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_BEFORE_DRAIN),
			    "before_drain");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_ON_FAILURE),
			    "on_failure");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_BEFORE_SWITCH),
			    "before_switch");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_AFTER_SWITCH),
			    "after_switch");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_RETIRE), "retire");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_ON_ROLLBACK),
			    "on_rollback");
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_STAGE_COUNT), "?");
	assert_string_equal(plan_switch_mode_name(PLAN_SWITCH_MAP), "map");
	assert_string_equal(plan_switch_mode_name(PLAN_SWITCH_SERVERS),
			    "servers");
	assert_string_equal(plan_switch_mode_name(PLAN_SWITCH_MODE_COUNT),
			    "?");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_DRAIN), "drain");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_IN_PLACE),
			    "in-place");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_COUNT), "?");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_FAIL), "fail");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_SHED), "shed");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_COUNT), "?");
	plan_free(NULL);
}

/* ---- blue/green: switch ---------------------------------------------- */

static void assert_srvset_unused(const struct plan_srvset *s)
{
	assert_int_equal(s->kind, PLAN_SERVERS_ALL);
	assert_null(s->names);
	assert_int_equal(s->n, 0);
	assert_null(s->pattern);
	assert_int_equal(s->line, 0);
}

static void assert_steps(const struct plan_switch *sw, const unsigned *want,
			 size_t n)
{
	size_t i;

	assert_int_equal(sw->nsteps, n);
	assert_non_null(sw->steps);
	for (i = 0; i < n; i++)
		assert_int_equal(sw->steps[i], want[i]);
}

#define STEPS(sw, ...) do { \
	static const unsigned want_[] = { __VA_ARGS__ }; \
	assert_steps((sw), want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)

/* Only the blue/green stages given in a plan are set. */
static void assert_only_stages(const struct plan *p, unsigned mask)
{
	size_t s;

	for (s = 0; s < PLAN_HOOK_STAGE_COUNT; s++)
		if ((mask & (1u << s)) == 0)
			assert_int_equal(p->hooks[s].n, 0);
}

static void test_switch_map_full(void **state)
{
	struct plan *p = load_valid("bg_map_full");
	const struct plan_switch *sw = &p->sw;
	const struct plan_hook *h = p->hooks;

	assert_true(sw->present);
	assert_int_equal(sw->mode, PLAN_SWITCH_MAP);
	assert_int_equal(sw->line, 4);
	assert_int_equal(sw->col, 1);
	assert_string_equal(sw->map, "/etc/haproxy/bg.map");
	assert_string_equal(sw->key, "app.example.com");
	assert_string_equal(sw->blue_backend, "be_blue");
	assert_string_equal(sw->green_backend, "be_green-v2.0:443");
	assert_false(sw->write_file);
	assert_srvset_unused(&sw->blue);
	assert_srvset_unused(&sw->green);
	assert_int_equal(sw->min_green, 0);
	STEPS(sw, 100);		/* a map switch is one step */
	/* No backend key: the green one, for the rest of cutover. */
	assert_string_equal(p->backend, "be_green-v2.0:443");
	assert_int_equal(p->servers_kind, PLAN_SERVERS_ALL);
	assert_int_equal(p->nlb, 2);
	assert_int_equal(p->drain_timeout_ms, 120000);
	assert_int_equal(p->on_timeout, PLAN_ON_TIMEOUT_KILL);
	assert_int_equal(p->hook_timeout_ms, 300000);

	assert_int_equal(h[PLAN_HOOK_BEFORE_SWITCH].n, 1);
	ARGV(&h[PLAN_HOOK_BEFORE_SWITCH].cmds[0], 14, 18,
	     "notify", "switching {backend}");
	assert_int_equal(h[PLAN_HOOK_AFTER_SWITCH].n, 2);
	ARGV(&h[PLAN_HOOK_AFTER_SWITCH].cmds[0], 16, 7,
	     "notify", "{backend} is live");
	ARGV(&h[PLAN_HOOK_AFTER_SWITCH].cmds[1], 17, 7, "purge-cdn");
	assert_int_equal(h[PLAN_HOOK_RETIRE].n, 1);
	ARGV(&h[PLAN_HOOK_RETIRE].cmds[0], 18, 11,
	     "ssh", "old-cluster", "sudo", "poweroff");
	assert_int_equal(h[PLAN_HOOK_ON_ROLLBACK].n, 1);
	ARGV(&h[PLAN_HOOK_ON_ROLLBACK].cmds[0], 19, 16,
	     "page", "rolled back to {backend}");
	assert_only_stages(p, 1u << PLAN_HOOK_BEFORE_SWITCH |
			   1u << PLAN_HOOK_AFTER_SWITCH |
			   1u << PLAN_HOOK_RETIRE |
			   1u << PLAN_HOOK_ON_ROLLBACK);
	assert_true(p->probe.http);
	assert_int_equal(p->watch.for_ms, 60000);
	assert_true(p->watch.max_5xx_pct == 0.5);
	plan_free(p);
}

static void test_switch_servers_full(void **state)
{
	struct plan *p = load_valid("bg_servers_full");
	const struct plan_switch *sw = &p->sw;
	const struct plan_hook *h = p->hooks;

	assert_true(sw->present);
	assert_int_equal(sw->mode, PLAN_SWITCH_SERVERS);
	assert_int_equal(sw->line, 3);
	assert_int_equal(sw->col, 1);
	assert_null(sw->map);
	assert_null(sw->key);
	assert_null(sw->blue_backend);
	assert_null(sw->green_backend);
	assert_int_equal(sw->blue.kind, PLAN_SERVERS_LIST);
	assert_int_equal(sw->blue.n, 3);
	assert_string_equal(sw->blue.names[0], "web1");
	assert_string_equal(sw->blue.names[1], "web2");
	assert_string_equal(sw->blue.names[2], "web3");
	assert_null(sw->blue.pattern);
	assert_int_equal(sw->blue.line, 5);
	assert_int_equal(sw->blue.col, 9);
	assert_int_equal(sw->green.kind, PLAN_SERVERS_LIST);
	assert_int_equal(sw->green.n, 3);
	assert_string_equal(sw->green.names[0], "web4");
	assert_string_equal(sw->green.names[1], "web5");
	assert_string_equal(sw->green.names[2], "web6");
	assert_null(sw->green.pattern);
	assert_int_equal(sw->green.line, 7);
	assert_int_equal(sw->green.col, 5);
	assert_int_equal(sw->min_green, 2);
	STEPS(sw, 5, 25, 50, 100);
	assert_string_equal(p->backend, "app");
	assert_int_equal(p->servers_kind, PLAN_SERVERS_ALL);
	assert_null(p->servers);

	assert_int_equal(h[PLAN_HOOK_BEFORE_SWITCH].n, 1);
	ARGV(&h[PLAN_HOOK_BEFORE_SWITCH].cmds[0], 13, 18,
	     "warm-cache", "{backend}");
	assert_int_equal(h[PLAN_HOOK_RETIRE].n, 2);
	ARGV(&h[PLAN_HOOK_RETIRE].cmds[0], 15, 7, "stop-old", "web1");
	ARGV(&h[PLAN_HOOK_RETIRE].cmds[1], 16, 7, "stop-old", "web2");
	assert_only_stages(p, 1u << PLAN_HOOK_BEFORE_SWITCH |
			   1u << PLAN_HOOK_RETIRE);
	assert_int_equal(p->watch.for_ms, 30000);
	assert_int_equal(p->watch.max_errors, 0);
	plan_free(p);
}

static void test_switch_map_defaults(void **state)
{
	struct plan *p = load_valid("bg_map_defaults");
	const struct plan_switch *sw = &p->sw;

	assert_true(sw->present);
	assert_int_equal(sw->mode, PLAN_SWITCH_MAP);
	assert_int_equal(sw->line, 1);
	assert_int_equal(sw->col, 1);
	assert_string_equal(sw->map, "#3");
	assert_string_equal(sw->key, "active");
	assert_string_equal(sw->blue_backend, "blue");
	assert_string_equal(sw->green_backend, "green");
	assert_true(sw->write_file);
	assert_int_equal(sw->min_green, 0);
	STEPS(sw, 100);
	assert_string_equal(p->backend, "green");
	assert_int_equal(p->nlb, 0);
	assert_only_stages(p, 0);
	plan_free(p);
}

static void test_switch_servers_defaults(void **state)
{
	struct plan *p = load_valid("bg_servers_defaults");
	const struct plan_switch *sw = &p->sw;

	assert_true(sw->present);
	assert_int_equal(sw->mode, PLAN_SWITCH_SERVERS);
	assert_int_equal(sw->line, 2);
	assert_int_equal(sw->col, 1);
	assert_int_equal(sw->blue.kind, PLAN_SERVERS_PATTERN);
	assert_string_equal(sw->blue.pattern, "blue-*");
	assert_null(sw->blue.names);
	assert_int_equal(sw->blue.n, 0);
	assert_int_equal(sw->blue.line, 2);
	assert_int_equal(sw->blue.col, 32);
	assert_int_equal(sw->green.kind, PLAN_SERVERS_PATTERN);
	assert_string_equal(sw->green.pattern, "green-[0-9]*");
	assert_int_equal(sw->green.line, 2);
	assert_int_equal(sw->green.col, 49);
	assert_int_equal(sw->min_green, 0);
	STEPS(sw, 100);
	assert_null(sw->map);
	assert_null(sw->key);
	assert_false(sw->write_file);
	assert_string_equal(p->backend, "app");
	plan_free(p);
}

/* A plan without switch: nothing of it is set. */
static void test_switch_absent(void **state)
{
	struct plan *p = load_valid("minimal");
	const struct plan_switch *sw = &p->sw;

	assert_false(sw->present);
	assert_int_equal(sw->line, 0);
	assert_null(sw->map);
	assert_null(sw->key);
	assert_null(sw->blue_backend);
	assert_null(sw->green_backend);
	assert_false(sw->write_file);
	assert_srvset_unused(&sw->blue);
	assert_srvset_unused(&sw->green);
	assert_int_equal(sw->min_green, 0);
	assert_null(sw->steps);
	assert_int_equal(sw->nsteps, 0);
	plan_free(p);
}

/* One server name alone is a list of one; a glob may hold a list's
 * names as long as none matches; min_green may equal the green count. */
static void test_switch_servers_forms(void **state)
{
	struct plan *p = load_text("backend: app\nswitch:\n  mode: servers\n"
				   "  blue: web1\n  green: [web2, web3]\n"
				   "  min_green: 2\n  steps: [100%]\n");

	assert_int_equal(p->sw.blue.kind, PLAN_SERVERS_LIST);
	assert_int_equal(p->sw.blue.n, 1);
	assert_string_equal(p->sw.blue.names[0], "web1");
	assert_int_equal(p->sw.blue.line, 4);
	assert_int_equal(p->sw.blue.col, 9);
	assert_int_equal(p->sw.min_green, 2);
	STEPS(&p->sw, 100);
	plan_free(p);
	p = load_text("backend: app\nswitch: {mode: servers, blue: [a1, a2], "
		      "green: \"b*\"}\n");
	assert_int_equal(p->sw.blue.kind, PLAN_SERVERS_LIST);
	assert_int_equal(p->sw.green.kind, PLAN_SERVERS_PATTERN);
	plan_free(p);
	p = load_text("backend: app\nswitch: {mode: servers, blue: \"b[12]\", "
		      "green: \"g*\", min_green: 40}\n");
	assert_int_equal(p->sw.min_green, 40);	/* a glob: checked live */
	plan_free(p);
}

static void test_switch_errors(void **state)
{
	expect_error("switch:\n  mode: map\n  map: \"\"\n  blue: b\n"
		     "  green: g\n",
		     "t.yaml:3:8: switch.map: expected a map as HAProxy names "
		     "it, like /etc/haproxy/bg.map (no control characters), "
		     "got ''");
	expect_error("switch: {mode: map, map: m, key: \"\", blue: b, "
		     "green: g}\n",
		     "t.yaml:1:34: switch.key: expected a map key (no spaces "
		     "or control characters), got ''");
	expect_error("switch: {mode: map, map: m, blue: [b], green: g}\n",
		     "t.yaml:1:35: switch.blue: expected a name made of A-Z "
		     "a-z 0-9 _ . : - (1 to 127 characters), got a list");
	expect_error("switch: {mode: map, map: m, blue: b, green: g, "
		     "write_file: false, key: k, steps: [100%]}\n",
		     "t.yaml:1:75: switch.steps applies to mode servers only: a "
		     "map switches all traffic at once");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: g, write_file: true}\n",
		     "t.yaml:2:44: switch.write_file applies to mode map only: "
		     "mode servers moves traffic with the weights of servers "
		     "in backend");
	expect_error("backend: app\nswitch: {mode: servers, green: g}\n",
		     "t.yaml:2:9: missing required key 'blue' in switch");
	expect_error("backend: app\nswitch: {mode: servers, blue: [a, b], "
		     "green: \"[ab]\"}\n",
		     "t.yaml:2:32: switch.blue[0]: server 'a' matches "
		     "switch.green ('[ab]') too");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: [g, \"x y\"]}\n",
		     "t.yaml:2:45: switch.green[1]: expected a name made of "
		     "A-Z a-z 0-9 _ . : - (1 to 127 characters), got 'x y'");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: g, min_green: 2}\n",
		     "t.yaml:2:55: switch.min_green: 2 is more than the 1 "
		     "server of switch.green");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: g, steps: 100%}\n",
		     "t.yaml:2:51: switch.steps: expected a list of percentages "
		     "like [10%, 50%, 100%], got '100%'");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: g, steps: [12.5%, 100%]}\n",
		     "t.yaml:2:52: switch.steps[0]: expected a percentage from "
		     "1% to 100%, got '12.5%'");
	expect_error("backend: app\nswitch: {mode: servers, blue: b, "
		     "green: g, steps: [+5%, 100%]}\n",
		     "t.yaml:2:52: switch.steps[0]: expected a percentage from "
		     "1% to 100%, got '+5%'");
	/* The keys of the other side are refused in file order. */
	expect_error("backend: app\nhooks:\n  after_switch: [a]\n"
		     "  on_rollback: [b]\n",
		     "t.yaml:3:3: hooks.after_switch needs a switch: section");
	expect_error("switch: {mode: map, map: m, blue: b, green: g}\n"
		     "hooks: {after_enable: [x], before_drain: [y]}\n",
		     "t.yaml:2:9: hooks.after_enable does not apply to a "
		     "blue/green switch");
}

/* The unknown-key message lists the new stages too. */
static void test_hooks_keys_listed(void **state)
{
	expect_error("backend: app\nhooks: {retyre: [x]}\n",
		     "t.yaml:2:9: unknown key 'retyre' in hooks (expected "
		     "timeout, kill_grace, before_drain, after_drain, upgrade, "
		     "before_enable, after_enable, on_failure, before_switch, "
		     "after_switch, retire, on_rollback)");
}

/* ---- invalid plans ---------------------------------------------------- */

/* Each case is invalid/<file>.yaml with its message in <file>.error. */
struct invalid_case {
	const char *test;	/* cmocka's name for it */
	const char *file;
};

#define INVALID(f) { "invalid/" #f, #f }
static struct invalid_case invalid_cases[] = {
	INVALID(syntax_error),		/* libyaml's message and position */
	INVALID(tab_indent),
	INVALID(bad_utf8),
	INVALID(nul_in_value),
	INVALID(deep_nesting),
	INVALID(empty_file),
	INVALID(comments_only),
	INVALID(not_mapping),
	INVALID(multiple_documents),
	INVALID(alias),
	INVALID(anchor),
	INVALID(unknown_top_key),
	INVALID(unknown_nested_key),
	INVALID(key_not_string),
	INVALID(duplicate_top_key),
	INVALID(duplicate_key),
	INVALID(missing_backend),
	INVALID(null_value),
	INVALID(wrong_type_mapping),
	INVALID(wrong_type_list),
	INVALID(bad_backend_name),
	INVALID(bad_lb_address),
	INVALID(bad_lb_master),
	INVALID(bad_lb_port),
	INVALID(bad_server_name),
	INVALID(duplicate_server),
	INVALID(servers_empty_list),
	INVALID(bad_strategy),
	INVALID(batch_zero),
	INVALID(min_serving_negative),
	INVALID(bad_duration),
	INVALID(bad_on_timeout),
	INVALID(shed_without_rate),
	INVALID(shed_rate_zero),
	INVALID(bad_placeholder),
	INVALID(unclosed_brace),
	INVALID(unmatched_close_brace),
	INVALID(empty_argv),
	INVALID(empty_argv_in_list),
	INVALID(mixed_argv_list),
	INVALID(shell_string_hook),
	INVALID(http_no_scheme),
	INVALID(http_missing_url),
	INVALID(expect_out_of_range),
	INVALID(bad_bool),
	INVALID(tcp_bad_port),
	INVALID(probe_no_check),
	INVALID(probe_zero_interval),
	INVALID(bad_max_5xx),
	INVALID(in_place_drain_hook),
	INVALID(in_place_haproxy_probe),
	/* blue/green: switch */
	INVALID(switch_not_mapping),
	INVALID(switch_unknown_key),
	INVALID(switch_missing_mode),
	INVALID(switch_bad_mode),
	INVALID(switch_map_missing_map),
	INVALID(switch_map_missing_green),
	INVALID(switch_map_control_char),
	INVALID(switch_bad_map_key),
	INVALID(switch_bad_blue_backend),
	INVALID(switch_same_backend),
	INVALID(switch_bad_write_file),
	INVALID(switch_steps_in_map_mode),
	INVALID(switch_min_green_in_map_mode),
	INVALID(switch_map_backend),
	INVALID(switch_strategy),
	INVALID(switch_key_in_servers_mode),
	INVALID(switch_servers_no_backend),
	INVALID(switch_servers_key),
	INVALID(switch_rolling),
	INVALID(switch_blue_all),
	INVALID(switch_blue_empty_list),
	INVALID(switch_blue_duplicate),
	INVALID(switch_lists_overlap),
	INVALID(switch_list_matches_glob),
	INVALID(switch_same_glob),
	INVALID(switch_min_green_zero),
	INVALID(switch_min_green_too_many),
	INVALID(switch_steps_empty),
	INVALID(switch_step_no_percent),
	INVALID(switch_step_zero),
	INVALID(switch_step_over_100),
	INVALID(switch_steps_not_increasing),
	INVALID(switch_steps_last_not_100),
	INVALID(switch_upgrade_hook),
	INVALID(switch_on_failure_hook),
	INVALID(retire_without_switch),
};
#define N_INVALID (sizeof(invalid_cases) / sizeof(invalid_cases[0]))

static void test_invalid(void **state)
{
	const struct invalid_case *ic = *state;
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	char path[512], name[128], where[CUT_ERR_WHERE_MAX], *want, *text;
	char full[CUT_ERR_MSG_MAX + 512];
	size_t len, wlen;

	fixture_path(path, sizeof(path), "invalid", ic->file, ".error");
	want = read_all(path, &wlen);
	want = realloc(want, wlen + 1);
	assert_non_null(want);
	want[wlen] = '\0';
	if (wlen > 0 && want[wlen - 1] == '\n')
		want[wlen - 1] = '\0';
	fixture_path(path, sizeof(path), "invalid", ic->file, ".yaml");
	text = read_all(path, &len);

	/* From memory, named <case>.yaml: the message as written. */
	snprintf(name, sizeof(name), "%s.yaml", ic->file);
	assert_int_equal(plan_load_buf(name, text, len, &p, &err), CUT_EUSAGE);
	assert_null(p);
	assert_int_equal(err.code, CUT_EUSAGE);
	assert_string_equal(err.msg, want);
	/* where is the "FILE:LINE:COLUMN" that starts the message. */
	snprintf(where, sizeof(where), "%s: ", err.where);
	assert_memory_equal(err.msg, where, strlen(where));

	/* From the file: the same, with the path as given. */
	snprintf(full, sizeof(full), "%s/plan/invalid/%s", data_dir(), want);
	assert_int_equal(plan_load(path, &p, &err), CUT_EUSAGE);
	assert_null(p);
	assert_string_equal(err.msg, full);

	/* Without an error record: only the code. */
	assert_int_equal(plan_load_buf(name, text, len, &p, NULL), CUT_EUSAGE);
	assert_null(p);
	free(text);
	free(want);
}

/* Every invalid/<case>.yaml has a .error and a row in invalid_cases. */
static void test_invalid_fixtures_listed(void **state)
{
	char dir[512], path[512];
	struct dirent *de;
	size_t i, seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/plan/invalid", data_dir());
	d = opendir(dir);
	assert_non_null(d);
	for (;;) {
		bool listed = false;
		size_t n;

		de = readdir(d);
		if (de == NULL)
			break;
		n = strlen(de->d_name);
		if (n <= 5 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		for (i = 0; i < N_INVALID; i++)
			if (strlen(invalid_cases[i].file) == n - 5 &&
			    strncmp(de->d_name, invalid_cases[i].file, n - 5) == 0)
				listed = true;
		if (!listed)
			fail_msg("%s/%s is not in invalid_cases", dir,
				 de->d_name);
		snprintf(path, sizeof(path), "%s/%.*s.error", dir, (int)(n - 5),
			 de->d_name);
		if (access(path, R_OK) != 0)
			fail_msg("%s is missing", path);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, N_INVALID);
}

static void test_errors_in_flow_mappings(void **state)
{
	expect_error("backend: app\nwatch: {for: 30s, max_errors: lots}\n",
		     "t.yaml:2:31: watch.max_errors: expected an integer >= 0, "
		     "got 'lots'");
	expect_error("backend: app\nhooks: {timeout: 0}\n",
		     "t.yaml:2:18: hooks.timeout: expected a duration above 0 "
		     "like 500ms or 2s, got '0'");
	expect_error("backend: app\nprobe: {tcp: maybe}\n",
		     "t.yaml:2:14: probe.tcp: expected true or a mapping "
		     "{ host, port }, got 'maybe'");
	expect_error("backend: app\nwatch: {max_5xx: \"\"}\n",
		     "t.yaml:2:18: watch.max_5xx: expected a count like 5 or a "
		     "share like 1%, got ''");
	expect_error("backend: app\nprobe: {tcp: {host: ''}}\n",
		     "t.yaml:2:21: probe.tcp.host: expected a host name, "
		     "got ''");
	expect_error("backend: app\nprobe: {exec: check}\n",
		     "t.yaml:2:15: probe.exec: expected a command as a list "
		     "like [prog, arg] (no shell is involved), got 'check'");
}

/* Long values are cut in messages; control characters do not reach a
 * terminal. */
static void test_error_value_display(void **state)
{
	char text[256], want[256];

	snprintf(text, sizeof(text), "backend: \"%s\\e[31m\"\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(want, sizeof(want), "t.yaml:1:10: backend: expected a name "
		 "made of A-Z a-z 0-9 _ . : - (1 to 127 characters), got "
		 "'%s...'",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_error(text, want);
	expect_error("backend: \"a\\tb\"\n",
		     "t.yaml:1:10: backend: expected a name made of A-Z a-z "
		     "0-9 _ . : - (1 to 127 characters), got 'a?b'");
}

/* err->where keeps the end of a long file name, with LINE:COLUMN; the
 * message keeps it whole. */
static void test_long_name_where(void **state)
{
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	char name[200], want[512];
	size_t n;

	memset(name, 'd', sizeof(name));
	memcpy(name + sizeof(name) - 6, ".yaml", 6);
	assert_int_equal(plan_load_buf(name, "x: 1\n", 5, &p, &err),
			 CUT_EUSAGE);
	n = strlen(err.where);
	assert_int_equal(n, CUT_ERR_WHERE_MAX - 1);
	assert_memory_equal(err.where, "...ddd", 6);
	assert_string_equal(err.where + n - 9, ".yaml:1:1");
	snprintf(want, sizeof(want), "%s:1:1: unknown key 'x' (expected "
		 "load_balancers, backend, servers, strategy, rolling, drain, "
		 "hooks, probe, watch, switch)", name);
	assert_string_equal(err.msg, want);
}

/* A long list with repeats: the first repeat in file order is named. */
static void test_duplicate_in_long_list(void **state)
{
	size_t cap = 64 * 1024, o = 0;
	char *text = malloc(cap);
	int i;

	assert_non_null(text);
	o += (size_t)snprintf(text + o, cap - o, "backend: app\nservers:\n");
	for (i = 0; i < 3000; i++)
		o += (size_t)snprintf(text + o, cap - o, "  - s%d\n", i);
	o += (size_t)snprintf(text + o, cap - o, "  - s2999\n  - s7\n");
	expect_error(text, "t.yaml:3003:5: servers[3000]: duplicate server "
		     "'s2999' (first at 3002:5)");
	free(text);
}

/* probe.http.ca: kept as given; a file that cannot be read is refused at
 * load time, where the plan says it. */
static void test_http_ca(void **state)
{
	char ca[512], text[1024];
	struct plan *p;

	fixture_path(ca, sizeof(ca), "valid", "minimal", ".yaml");
	snprintf(text, sizeof(text), "backend: app\nprobe:\n  http: "
		 "{ url: \"https://{addr}/\", ca: \"%s\" }\n", ca);
	p = load_text(text);
	assert_string_equal(p->probe.http_ca, ca);
	assert_false(p->probe.http_insecure);
	plan_free(p);

	expect_error("backend: app\nprobe:\n  http:\n    url: https://h/\n"
		     "    ca: /no/such/ca.pem\n",
		     "t.yaml:5:9: probe.http.ca: cannot read "
		     "'/no/such/ca.pem': No such file or directory");
}

static void test_missing_file(void **state)
{
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	char path[512], want[1024];

	fixture_path(path, sizeof(path), "valid", "no-such-plan", ".yaml");
	assert_int_equal(plan_load(path, &p, &err), UV_ENOENT);
	assert_null(p);
	assert_int_equal(err.code, UV_ENOENT);
	snprintf(want, sizeof(want), "cannot read plan file '%s': no such "
		 "file or directory", path);
	assert_string_equal(err.msg, want);

	snprintf(path, sizeof(path), "%s/plan/valid", data_dir());
	assert_int_equal(plan_load(path, &p, &err), UV_EISDIR);
	assert_null(p);
}

/* 1 MiB loads; one byte more does not, from memory or from a file. */
static void test_size_cap(void **state)
{
	static const char head[] = "backend: app\n";
	char tmpl[] = "/tmp/test_plan_big_XXXXXX";
	struct cut_err err = { 0 };
	struct plan *p = NULL;
	char *text = malloc(MIB + 1), want[128];
	size_t i;
	int fd;

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < MIB + 1; i++)
		text[i] = (i + 1) % 64 == 0 ? '\n' : '#';
	text[MIB - 1] = '\n';
	assert_int_equal(plan_load_buf("big.yaml", text, MIB, &p, &err), 0);
	assert_string_equal(p->backend, "app");
	plan_free(p);
	p = NULL;

	assert_int_equal(plan_load_buf("big.yaml", text, MIB + 1, &p, &err),
			 CUT_EUSAGE);
	assert_null(p);
	assert_string_equal(err.msg, "big.yaml:1:1: plan file too large (the "
			    "limit is 1 MiB)");

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, MIB + 1), MIB + 1);
	close(fd);
	assert_int_equal(plan_load(tmpl, &p, &err), CUT_EUSAGE);
	unlink(tmpl);
	assert_null(p);
	snprintf(want, sizeof(want), "%s:1:1: plan file too large (the limit "
		 "is 1 MiB)", tmpl);
	assert_string_equal(err.msg, want);
	free(text);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_servers_all),
		cmocka_unit_test(test_servers_list),
		cmocka_unit_test(test_servers_one_name),
		cmocka_unit_test(test_servers_pattern),
		cmocka_unit_test(test_hook_single_argv),
		cmocka_unit_test(test_hook_list_of_argvs),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_probe_tcp_true),
		cmocka_unit_test(test_probe_partial_tcp),
		cmocka_unit_test(test_scalar_forms),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_switch_map_full),
		cmocka_unit_test(test_switch_servers_full),
		cmocka_unit_test(test_switch_map_defaults),
		cmocka_unit_test(test_switch_servers_defaults),
		cmocka_unit_test(test_switch_absent),
		cmocka_unit_test(test_switch_servers_forms),
		cmocka_unit_test(test_switch_errors),
		cmocka_unit_test(test_hooks_keys_listed),
		cmocka_unit_test(test_invalid_fixtures_listed),
		cmocka_unit_test(test_errors_in_flow_mappings),
		cmocka_unit_test(test_error_value_display),
		cmocka_unit_test(test_long_name_where),
		cmocka_unit_test(test_duplicate_in_long_list),
		cmocka_unit_test(test_http_ca),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_size_cap),
	};
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + N_INVALID];
	size_t i, n = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	for (i = 0; i < N_INVALID; i++)
		tests[n++] = (struct CMUnitTest){
			.name = invalid_cases[i].test,
			.test_func = test_invalid,
			.initial_state = &invalid_cases[i],
		};
	return _cmocka_run_group_tests("test_plan", tests, n, NULL, NULL);
}
