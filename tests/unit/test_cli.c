/* test_cli.c - unit tests for the load balancer list of src/cli.c: --lb
 * specs kept as written (with ",master=ADDR"), and CUTOVER_LB split on
 * commas where a "master=" segment belongs to the LB before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse(struct cli_opts *o, int argc, const char **argv)
{
	return cli_parse(argc, (char **)argv, o);
}

static void test_lb_option_kept_whole(void **state)
{
	const char *argv[] = { "cutover", "--lb",
			       "unix:/a.sock,master=unix:/m.sock", "--lb",
			       "tcp:h:1", "status", NULL };
	struct cli_opts o;

	(void)state;
	unsetenv("CUTOVER_LB");
	assert_int_equal(parse(&o, 6, argv), 0);
	assert_int_equal(o.nlb, 2);
	assert_string_equal(o.lbs[0], "unix:/a.sock,master=unix:/m.sock");
	assert_string_equal(o.lbs[1], "tcp:h:1");
	cli_opts_free(&o);
}

static void test_env_master_segments(void **state)
{
	const char *argv[] = { "cutover", "status", NULL };
	struct cli_opts o;

	(void)state;
	setenv("CUTOVER_LB", "unix:/a.sock,master=unix:/m.sock,tcp:h:1,"
	       "tcp:h:2,master=tcp:h:3,,/c.sock", 1);
	assert_int_equal(parse(&o, 2, argv), 0);
	assert_int_equal(o.nlb, 4);
	assert_string_equal(o.lbs[0], "unix:/a.sock,master=unix:/m.sock");
	assert_string_equal(o.lbs[1], "tcp:h:1");
	assert_string_equal(o.lbs[2], "tcp:h:2,master=tcp:h:3");
	assert_string_equal(o.lbs[3], "/c.sock");
	assert_false(o.lbs_from_cli);
	cli_opts_free(&o);

	setenv("CUTOVER_LB", "unix:/a.sock", 1);
	assert_int_equal(parse(&o, 2, argv), 0);
	assert_int_equal(o.nlb, 1);
	assert_string_equal(o.lbs[0], "unix:/a.sock");
	cli_opts_free(&o);
	unsetenv("CUTOVER_LB");
}

/* A master= with no LB before it is a usage error (exit 2). */
static void test_env_master_first(void **state)
{
	const char *argv[] = { "cutover", "status", NULL };
	struct cli_opts o;

	(void)state;
	setenv("CUTOVER_LB", "master=unix:/m.sock,unix:/a.sock", 1);
	assert_int_equal(parse(&o, 2, argv), EXIT_USAGE);
	cli_opts_free(&o);
	unsetenv("CUTOVER_LB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lb_option_kept_whole),
		cmocka_unit_test(test_env_master_segments),
		cmocka_unit_test(test_env_master_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
