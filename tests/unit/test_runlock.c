/* test_runlock.c - unit tests for src/runlock.c: the lock is per backend
 * and set of LB addresses, whatever their order, and an LB given with its
 * master socket (",master=ADDR") is the same LB as without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runlock.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cutover-test-runlock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("CUTOVER_STATE_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int take(struct runlock *l, const char *be, const char *a,
		const char *b)
{
	const char *lbs[2] = { a, b };
	struct cut_err err = { 0 };

	return runlock_take(l, be, lbs, b != NULL ? 2 : 1, "test", &err);
}

static void test_same_lbs_any_form(void **state)
{
	struct runlock held = { -1, "" }, other = { -1, "" };

	(void)state;
	assert_int_equal(take(&held, "app", "unix:/a.sock", "tcp:h:1"), 0);
	assert_int_equal(take(&other, "app", "tcp:h:1", "unix:/a.sock"),
			 CUT_ELOCKED);
	assert_int_equal(take(&other, "app",
			      "unix:/a.sock,master=unix:/m.sock", "tcp:h:1"),
			 CUT_ELOCKED);
	assert_int_equal(take(&other, "app", "tcp:h:1,master=tcp:h:2",
			      "unix:/a.sock,master=/m.sock"),
			 CUT_ELOCKED);
	/* Another backend, or other LBs: another lock. */
	assert_int_equal(take(&other, "web", "unix:/a.sock", "tcp:h:1"), 0);
	runlock_release(&other);
	assert_int_equal(take(&other, "app", "unix:/a.sock", NULL), 0);
	runlock_release(&other);
	runlock_release(&held);
	assert_int_equal(take(&other, "app", "unix:/a.sock,master=/m.sock",
			      "tcp:h:1"), 0);
	runlock_release(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_lbs_any_form, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
