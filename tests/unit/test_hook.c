/* test_hook.c - hooks as real child processes: placeholders, environment,
 * exit codes, line splitting, timeouts and TERM -> KILL escalation to the
 * whole process group.
 *
 * The test process makes itself a child subreaper, so grandchildren
 * orphaned by a killed hook are re-parented here: the tests can then wait
 * for them and leave nothing behind. Each test runs its own loop and ends
 * with uv_loop_close() == 0 (every handle closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "hook.h"
#include "plan.h"

#define MAX_LINES 64

enum action {
	ACT_NONE = 0,
	ACT_KILL,		/* hook_kill() on the first stdout line */
	ACT_KILL_NOW,		/* hook_kill_now() on the first stdout line */
	ACT_KILL_THEN_NOW,	/* both, one after the other */
	ACT_COUNT		/* keep last */
};

struct result {
	enum action act;
	int ndone;
	int status;
	int64_t exit_code;
	int term_signal;
	int pid;
	size_t nlines[HOOK_STREAM_COUNT];
	size_t bytes[HOOK_STREAM_COUNT];
	char *lines[HOOK_STREAM_COUNT][MAX_LINES];
	size_t lens[HOOK_STREAM_COUNT][MAX_LINES];
	bool seq;		/* lines are expected to read 1, 2, 3 ... */
	size_t seq_bad;
};

static void on_line(struct hook *h, enum hook_stream s, const char *line,
		    size_t len, void *arg)
{
	struct result *r = arg;
	size_t n = r->nlines[s]++;
	char want[32];

	assert_true(r->ndone == 0);
	assert_true(line[len] == '\0');
	r->bytes[s] += len;
	if (r->seq) {
		snprintf(want, sizeof(want), "%zu", n + 1);
		if (strlen(want) != len || memcmp(want, line, len) != 0)
			r->seq_bad++;
	}
	if (n < MAX_LINES) {
		r->lines[s][n] = malloc(len + 1);
		assert_non_null(r->lines[s][n]);
		memcpy(r->lines[s][n], line, len + 1);
		r->lens[s][n] = len;
	}
	if (s != HOOK_STDOUT || n != 0)
		return;
	if (r->act == ACT_KILL || r->act == ACT_KILL_THEN_NOW)
		hook_kill(h);
	if (r->act == ACT_KILL_NOW || r->act == ACT_KILL_THEN_NOW)
		hook_kill_now(h);
}

static void on_done(struct hook *h, int status, int64_t exit_code,
		    int term_signal, void *arg)
{
	struct result *r = arg;

	r->ndone++;
	r->status = status;
	r->exit_code = exit_code;
	r->term_signal = term_signal;
	/* Finished: both must be harmless now. */
	hook_kill(h);
	hook_kill_now(h);
}

static void result_free(struct result *r)
{
	size_t s, i;

	for (s = 0; s < HOOK_STREAM_COUNT; s++)
		for (i = 0; i < MAX_LINES; i++)
			free(r->lines[s][i]);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run argv to completion on a fresh loop; returns the elapsed ms. */
static uint64_t run(char *const *argv, struct hook_opts *o, struct result *r)
{
	struct cut_err err;
	struct hook *h;
	uv_loop_t loop;
	uint64_t t0 = now_ms();

	assert_int_equal(uv_loop_init(&loop), 0);
	o->on_line = on_line;
	o->line_arg = r;
	cut_err_clear(&err);
	h = hook_run(&loop, argv, o, on_done, r, &err);
	if (h == NULL)
		fail_msg("hook_run: %s", err.msg);
	r->pid = hook_pid(h);
	assert_true(r->pid > 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r->ndone, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	return now_ms() - t0;
}

/* Wait (bounded) until pid is gone: reaped here (we are its subreaper)
 * or unknown to the kernel. */
static bool gone(pid_t pid)
{
	int i, st;

	for (i = 0; i < 500; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return true;
		if (w == -1 && errno == ECHILD && kill(pid, 0) == -1 &&
		    errno == ESRCH)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static void assert_line(struct result *r, enum hook_stream s, size_t i,
			const char *want)
{
	assert_true(i < r->nlines[s]);
	assert_string_equal(r->lines[s][i], want);
}

/* ---- tests ----------------------------------------------------------- */

static void test_exit0_lines(void **state)
{
	char *argv[] = {
		"/bin/sh", "-c",
		"echo one; echo two >&2; echo; echo three; "
		"if read x; then echo stdin; else echo eof; fi; "
		"printf 'err-last' >&2; printf 'last'",
		NULL
	};
	struct hook_opts o = { 0 };
	struct result r = { 0 };

	run(argv, &o, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.term_signal, 0);
	assert_int_equal(r.nlines[HOOK_STDOUT], 5);
	assert_line(&r, HOOK_STDOUT, 0, "one");
	assert_line(&r, HOOK_STDOUT, 1, "");
	assert_line(&r, HOOK_STDOUT, 2, "three");
	assert_line(&r, HOOK_STDOUT, 3, "eof");	/* stdin is /dev/null */
	assert_line(&r, HOOK_STDOUT, 4, "last");
	assert_int_equal(r.nlines[HOOK_STDERR], 2);
	assert_line(&r, HOOK_STDERR, 0, "two");
	assert_line(&r, HOOK_STDERR, 1, "err-last");
	result_free(&r);
}

static void test_exit3(void **state)
{
	char *argv[] = { "sh", "-c", "echo failing >&2; exit 3", NULL };
	struct hook_opts o = { 0 };
	struct result r = { 0 };

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_EHOOK);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.term_signal, 0);
	assert_line(&r, HOOK_STDERR, 0, "failing");
	result_free(&r);
}

static void test_signal_is_failure(void **state)
{
	char *argv[] = { "sh", "-c", "kill -KILL $$", NULL };
	struct hook_opts o = { 0 };
	struct result r = { 0 };

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_EHOOK);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.term_signal, SIGKILL);
	result_free(&r);
}

static void test_cannot_run(void **state)
{
	char *missing[] = { "cutover-no-such-command-4711", NULL };
	char *missing_path[] = { "/nonexistent/dir/hook", NULL };
	char path[] = "/tmp/cutover-test-hook-XXXXXX";
	char *noexec[] = { path, NULL };
	struct hook_opts o = { 0 };
	struct result r = { 0 };
	struct cut_err err;
	uv_loop_t loop;
	char want[128];
	int fd;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(hook_run(&loop, missing, &o, on_done, &r, &err));
	assert_int_equal(err.code, UV_ENOENT);
	assert_string_equal(err.msg, "cannot run 'cutover-no-such-command-4711'"
			    ": no such file or directory");

	assert_null(hook_run(&loop, missing_path, &o, on_done, &r, &err));
	assert_int_equal(err.code, UV_ENOENT);
	assert_non_null(strstr(err.msg, "'/nonexistent/dir/hook'"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_null(hook_run(&loop, noexec, &o, on_done, &r, &err));
	unlink(path);
	assert_int_equal(err.code, UV_EACCES);
	snprintf(want, sizeof(want), "cannot run '%s': permission denied",
		 path);
	assert_string_equal(err.msg, want);

	noexec[0] = NULL;
	assert_null(hook_run(&loop, noexec, &o, on_done, &r, &err));
	assert_int_equal(err.code, CUT_EUSAGE);

	/* The handles of the failed starts close from the loop. */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.ndone, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_expand_str(void **state)
{
	struct hook_vars v = {
		.server = "web1", .backend = "app", .addr = "10.0.0.5",
		.port = "8080", .peer = NULL, .stage = "upgrade",
	};
	static const struct {
		const char *tmpl, *want;
	} ok[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "{server}", "web1" },
		{ "http://{addr}:{port}/h", "http://10.0.0.5:8080/h" },
		{ "{backend}/{server}", "app/web1" },
		{ "{{x}}", "{x}" },
		{ "{{{server}}}", "{web1}" },
		{ "a}}b{{c", "a}b{c" },
		{ "[{peer}]", "[]" },		/* NULL value: "" */
	};
	static const struct {
		const char *tmpl, *named;
	} bad[] = {
		{ "{nope}", "{nope}" },
		{ "x{stage}y", "{stage}" },	/* env only, no placeholder */
		{ "{}", "{}" },
		{ "{SERVER}", "{SERVER}" },
		{ "abc{server", "unclosed '{'" },
		{ "{", "unclosed '{'" },
		{ "a}b", "'}'" },
	};
	struct cut_err err;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s = hook_expand_str(ok[i].tmpl, &v, &err);
		assert_non_null(s);
		assert_string_equal(s, ok[i].want);
		free(s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cut_err_clear(&err);
		assert_null(hook_expand_str(bad[i].tmpl, &v, &err));
		assert_int_equal(err.code, CUT_EUSAGE);
		if (strstr(err.msg, bad[i].named) == NULL)
			fail_msg("'%s': message '%s' does not name '%s'",
				 bad[i].tmpl, err.msg, bad[i].named);
	}
	s = hook_expand_str("{server}", NULL, &err);	/* no vars at all */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_placeholders_in_child(void **state)
{
	static const char hostile[] = "a b;echo pwned $(echo sub) `id` *";
	char *targv[] = {
		"/bin/sh", "-c",
		"printf '%s\\n' \"$#\" \"$1\" \"$2\"; "
		"printf '%s\\n' \"$CUTOVER_SERVER\" \"$CUTOVER_STAGE\" "
		"\"${{CUTOVER_PEER-unset}}\" \"${{CUTOVER_BACKEND-unset}}\" "
		"\"$CUTOVER_KEEP_ME\"",
		"sh", "{server}", "{{{port}}}", NULL
	};
	struct plan_argv tmpl = { .argv = targv, .argc = 6 };
	struct hook_vars v = {
		.server = hostile, .port = "80", .stage = "upgrade",
		.backend = NULL, .peer = NULL,
	};
	struct hook_opts o = { .vars = &v };
	struct result r = { 0 };
	struct cut_err err;
	char **argv;

	/* The script is a template too: the shell's ${X} is written ${{X}}.
	 * Inherited values must not leak through: replaced or removed. */
	setenv("CUTOVER_SERVER", "stale", 1);
	setenv("CUTOVER_PEER", "stale", 1);
	setenv("CUTOVER_KEEP_ME", "kept", 1);
	argv = hook_expand_argv(&tmpl, &v, &err);
	assert_non_null(argv);
	assert_string_equal(argv[4], hostile);
	assert_string_equal(argv[5], "{80}");
	assert_null(argv[6]);
	run(argv, &o, &r);
	hook_argv_free(argv);
	unsetenv("CUTOVER_SERVER");
	unsetenv("CUTOVER_PEER");
	unsetenv("CUTOVER_KEEP_ME");

	assert_int_equal(r.status, 0);
	assert_int_equal(r.nlines[HOOK_STDOUT], 8);
	assert_line(&r, HOOK_STDOUT, 0, "2");		/* $# */
	assert_line(&r, HOOK_STDOUT, 1, hostile);	/* verbatim */
	assert_line(&r, HOOK_STDOUT, 2, "{80}");
	assert_line(&r, HOOK_STDOUT, 3, hostile);	/* CUTOVER_SERVER */
	assert_line(&r, HOOK_STDOUT, 4, "upgrade");
	assert_line(&r, HOOK_STDOUT, 5, "unset");	/* NULL: not set */
	assert_line(&r, HOOK_STDOUT, 6, "unset");
	assert_line(&r, HOOK_STDOUT, 7, "kept");
	result_free(&r);

	/* The same through printf(1) found in PATH: one element, one line. */
	{
		char *pargv[] = { "printf", "%s\\n", "{server}", NULL };
		struct plan_argv pt = { .argv = pargv, .argc = 3 };
		struct result r2 = { 0 };

		argv = hook_expand_argv(&pt, &v, &err);
		assert_non_null(argv);
		run(argv, &o, &r2);
		hook_argv_free(argv);
		assert_int_equal(r2.status, 0);
		assert_int_equal(r2.nlines[HOOK_STDOUT], 1);
		assert_line(&r2, HOOK_STDOUT, 0, hostile);
		result_free(&r2);
	}

	targv[4] = "{srever}";
	cut_err_clear(&err);
	assert_null(hook_expand_argv(&tmpl, &v, &err));
	assert_int_equal(err.code, CUT_EUSAGE);
	assert_non_null(strstr(err.msg, "{srever}"));
}

static void test_timeout_term(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct hook_opts o = { .timeout_ms = 100 };	/* default grace */
	struct result r = { 0 };
	uint64_t ms;

	ms = run(argv, &o, &r);
	assert_int_equal(r.status, CUT_ETIMEOUT);
	assert_int_equal(r.term_signal, SIGTERM);	/* TERM was enough */
	assert_int_equal(r.exit_code, -1);
	assert_true(ms < 4000);	/* well before the 5 s grace */
	result_free(&r);
}

/* Everybody ignores TERM, and a grandchild holds the pipes: only the KILL
 * to the whole group ends it. */
static void test_timeout_kill_group(void **state)
{
	char *argv[] = {
		"sh", "-c",
		"trap '' TERM; sleep 300 & echo $!; sleep 300",
		NULL
	};
	struct hook_opts o = { .timeout_ms = 200, .kill_grace_ms = 200 };
	struct result r = { 0 };
	long gpid;

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_ETIMEOUT);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_int_equal(r.nlines[HOOK_STDOUT], 1);
	gpid = strtol(r.lines[HOOK_STDOUT][0], NULL, 10);
	assert_true(gpid > 1);
	assert_true(gone(r.pid));
	assert_true(gone((pid_t)gpid));
	result_free(&r);
}

static void test_kill(void **state)
{
	char *argv[] = { "sh", "-c", "echo ready; sleep 30", NULL };
	struct hook_opts o = { .kill_grace_ms = 60000 };
	struct result r = { .act = ACT_KILL };

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_ECANCELED);
	assert_int_equal(r.term_signal, SIGTERM);
	result_free(&r);
}

static void test_kill_now(void **state)
{
	char *argv[] = { "sh", "-c", "echo ready; sleep 30", NULL };
	struct hook_opts o = { .timeout_ms = 60000 };
	struct result r = { .act = ACT_KILL_NOW };

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_ECANCELED);
	assert_int_equal(r.term_signal, SIGKILL);	/* no TERM first */
	result_free(&r);
}

/* TERM is ignored and the grace is a minute: the second interrupt must
 * not wait for it. */
static void test_kill_then_kill_now(void **state)
{
	char *argv[] = {
		"sh", "-c", "trap '' TERM; echo ready; sleep 300", NULL
	};
	struct hook_opts o = { .kill_grace_ms = 60000 };
	struct result r = { .act = ACT_KILL_THEN_NOW };

	run(argv, &o, &r);
	assert_int_equal(r.status, CUT_ECANCELED);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_true(gone(r.pid));
	result_free(&r);
}

/* A normal exit leaves a process (its own session) that keeps stdout
 * open: it is not signalled, and the wait for EOF is bounded. */
static void test_leftover_after_exit(void **state)
{
	char *argv[] = {
		"sh", "-c", "setsid sleep 30 & echo $!; exit 0", NULL
	};
	struct hook_opts o = { 0 };
	struct result r = { 0 };
	long lpid;

	run(argv, &o, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.nlines[HOOK_STDOUT], 1);
	lpid = strtol(r.lines[HOOK_STDOUT][0], NULL, 10);
	assert_true(lpid > 1);
	assert_int_equal(kill((pid_t)lpid, 0), 0);	/* left alone */
	assert_int_equal(kill((pid_t)lpid, SIGKILL), 0);
	assert_true(gone((pid_t)lpid));
	result_free(&r);
}

static void test_long_lines(void **state)
{
	char *argv[] = {
		"sh", "-c",
		"head -c 10000 /dev/zero | tr '\\0' x; echo; "
		"head -c 4096 /dev/zero | tr '\\0' y; echo; "
		"echo end; head -c 5000 /dev/zero | tr '\\0' z",
		NULL
	};
	static const size_t want[] = { 4096, 4096, 1808, 4096, 3, 4096, 904 };
	static const char want_c[] = { 'x', 'x', 'x', 'y', 'e', 'z', 'z' };
	struct hook_opts o = { 0 };
	struct result r = { 0 };
	size_t i;

	run(argv, &o, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.nlines[HOOK_STDOUT], 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(r.lens[HOOK_STDOUT][i], want[i]);
		assert_int_equal(r.lines[HOOK_STDOUT][i][0], want_c[i]);
		if (want_c[i] != 'e')
			assert_int_equal(strspn(r.lines[HOOK_STDOUT][i],
						(char[]){ want_c[i], '\0' }),
					 want[i]);
	}
	result_free(&r);
}

/* About 1.3 MB on each stream at once, nobody blocks. */
static void test_lots_of_output(void **state)
{
	char *argv[] = {
		"sh", "-c", "seq 1 200000 >&2 & seq 1 200000; wait", NULL
	};
	struct hook_opts o = { 0 };
	struct result r = { .seq = true };

	run(argv, &o, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.nlines[HOOK_STDOUT], 200000);
	assert_int_equal(r.nlines[HOOK_STDERR], 200000);
	assert_int_equal(r.seq_bad, 0);
	assert_int_equal(r.bytes[HOOK_STDOUT], r.bytes[HOOK_STDERR]);
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit0_lines),
		cmocka_unit_test(test_exit3),
		cmocka_unit_test(test_signal_is_failure),
		cmocka_unit_test(test_cannot_run),
		cmocka_unit_test(test_expand_str),
		cmocka_unit_test(test_placeholders_in_child),
		cmocka_unit_test(test_timeout_term),
		cmocka_unit_test(test_timeout_kill_group),
		cmocka_unit_test(test_kill),
		cmocka_unit_test(test_kill_now),
		cmocka_unit_test(test_kill_then_kill_now),
		cmocka_unit_test(test_leftover_after_exit),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_lots_of_output),
	};

	/* Orphaned grandchildren come to us, so tests can reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		perror("prctl(PR_SET_CHILD_SUBREAPER)");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
