/* test_stat_proc.c - unit tests for src/stat_proc.c, the parser of
 * `show proc` on HAProxy's master CLI, on a reply captured from a real
 * HAProxy 2.6.12 after a reload (tests/unit/data/stat_proc/README.md) and
 * on hostile inputs. Inputs sit in buffers of exactly their size, with no
 * NUL after the text, so that ASan catches a read past `len`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "stat.h"

/* Parse `len` bytes of `text` from a heap copy of exactly that size. */
static int parse(const char *text, size_t len, struct proc_list *pl,
		 struct cut_err *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = stat_parse_proc(copy, len, pl, err);
	free(copy);
	return rc;
}

static int parse_str(const char *text, struct proc_list *pl,
		     struct cut_err *err)
{
	return parse(text, strlen(text), pl, err);
}

static void test_real_reloaded(void **state)
{
	const char *dir = getenv("CUTOVER_TEST_DATA");
	char path[512], text[4096];
	struct proc_list pl;
	struct cut_err err = { 0 };
	size_t len;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/stat_proc/show_proc_reloaded.txt",
		 dir != NULL ? dir : "tests/unit/data");
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s", path);
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_int_equal(parse(text, len, &pl, &err), 0);
	assert_int_equal(pl.master_pid, 19141);
	assert_int_equal(pl.n, 2);
	assert_int_equal(pl.w[0].pid, 19389);
	assert_false(pl.w[0].old);
	assert_int_equal(pl.w[1].pid, 19161);
	assert_true(pl.w[1].old);
}

static void test_no_reload(void **state)
{
	struct proc_list pl;
	struct cut_err err = { 0 };

	(void)state;
	assert_int_equal(parse_str(
		"#<PID>          <type>          <reloads>       <uptime>        <version>\n"
		"31466           master          0 [failed: 0]   0d00h02m29s     2.6.12\n"
		"# workers\n"
		"9184            worker          0               0d00h00m02s     2.6.12\n"
		"# old workers\n"
		"# programs\n"
		"\n", &pl, &err), 0);
	assert_int_equal(pl.n, 1);
	assert_false(pl.w[0].old);
}

/* Several old workers, a program, tabs, CRLF, no reloads column detail,
 * a section from a later version, no trailing newline. */
static void test_variants(void **state)
{
	struct proc_list pl;
	struct cut_err err = { 0 };

	(void)state;
	assert_int_equal(parse_str(
		"#<PID>\t<type>\t<reloads>\r\n"
		"31466 master 7\r\n"
		"# workers\r\n"
		"9184 worker 0\n"
		"# old workers\n"
		"8932\tworker\t1\n"
		"8000 worker 2 [failed: 1]\n"
		"# programs\n"
		"77 dataplane 0\n"
		"# something new\n"
		"anything at all\n"
		"# old workers\n"
		"7000 worker 3", &pl, &err), 0);
	assert_int_equal(pl.master_pid, 31466);
	assert_int_equal(pl.n, 4);
	assert_true(pl.w[1].old && pl.w[2].old && pl.w[3].old);
	assert_int_equal(pl.w[3].pid, 7000);
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n",
		"Unknown command, but maybe one of the following ones\n",
		"Permission denied\n",
		"#<PID> <type>\n31466 master\n# workers\nabc worker\n",
		"#<PID> <type>\n31466 master\n# workers\n0 worker\n",
		"#<PID> <type>\n31466 master\n# workers\n99999999999 worker\n",
		"#<PID> <type>\n31466 master\n# workers\n9184 master\n",
		"#<PID> <type>\n31466 worker\n",
		"#<PID> <type>\n31466\n",
		"#<PID> <type>\n# old workers\n12 \x01\x02\n",
		"9184 worker 0\n#<PID>\n",
	};
	struct proc_list pl;
	struct cut_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&pl, 0x5a, sizeof(pl));
		assert_int_equal(parse_str(bad[i], &pl, &err), CUT_EPROTO);
		assert_int_equal(pl.n, 0);
		assert_true(strlen(err.msg) > 0);
	}
}

static void test_too_many(void **state)
{
	size_t cap = 64 + 32 * (PROC_WORKERS_MAX + 2), i;
	char *text = malloc(cap);
	size_t used;
	struct proc_list pl;
	struct cut_err err = { 0 };

	(void)state;
	assert_non_null(text);
	used = (size_t)snprintf(text, cap, "#<PID>\n1 master\n# old workers\n");
	for (i = 0; i <= PROC_WORKERS_MAX; i++)
		used += (size_t)snprintf(text + used, cap - used,
					 "%zu worker 1\n", i + 2);
	assert_int_equal(parse(text, used, &pl, &err), CUT_EPROTO);
	assert_non_null(strstr(err.msg, "too many"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_reloaded),
		cmocka_unit_test(test_no_reload),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
