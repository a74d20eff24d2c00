/* test_plan.c - unit tests for src/plan.c and src/plan_yaml.c: every key of
 * a full plan, the defaults, each form of servers and hooks, placeholders,
 * and invalid plans whose exact message ("FILE:LINE:COLUMN: ...") is kept
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
	assert_string_equal(plan_hook_stage_name(PLAN_HOOK_STAGE_COUNT), "?");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_DRAIN), "drain");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_IN_PLACE),
			    "in-place");
	assert_string_equal(plan_strategy_name(PLAN_STRATEGY_COUNT), "?");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_FAIL), "fail");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_SHED), "shed");
	assert_string_equal(plan_on_timeout_name(PLAN_ON_TIMEOUT_COUNT), "?");
	plan_free(NULL);
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
		 "hooks, probe, watch)", name);
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
		cmocka_unit_test(test_invalid_fixtures_listed),
		cmocka_unit_test(test_errors_in_flow_mappings),
		cmocka_unit_test(test_error_value_display),
		cmocka_unit_test(test_long_name_where),
		cmocka_unit_test(test_duplicate_in_long_list),
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
