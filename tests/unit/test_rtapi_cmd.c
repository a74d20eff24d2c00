/* test_rtapi_cmd.c - command lines are built safely: names checked against
 * HAProxy's charset, values escaped, length capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "rtapi_cmd.h"

static void test_set_state(void **state)
{
	struct rtcmd c;

	assert_int_equal(rtcmd_set_state(&c, "app", "web2", SRV_ADMIN_DRAIN), 0);
	assert_string_equal(c.text, "set server app/web2 state drain");
	assert_int_equal(rtcmd_set_state(&c, "be.x-1", "s_2:a", SRV_ADMIN_READY), 0);
	assert_string_equal(c.text, "set server be.x-1/s_2:a state ready");
	assert_int_equal(rtcmd_set_state(&c, "app", "w", SRV_ADMIN_MAINT), 0);
	assert_string_equal(c.text, "set server app/w state maint");
}

static void test_names_refused(void **state)
{
	static const char *const bad[] = {
		"", "a b", "a;b", "a/b", "a\\b", "a\nb", "a\tb", "é", "a$b",
	};
	struct rtcmd c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(rtcmd_name_ok(bad[i]));
		assert_int_equal(rtcmd_set_state(&c, bad[i], "s", SRV_ADMIN_DRAIN),
				 CUT_EUSAGE);
		assert_int_equal(rtcmd_set_state(&c, "b", bad[i], SRV_ADMIN_DRAIN),
				 CUT_EUSAGE);
	}
}

static void test_name_length(void **state)
{
	char name[STAT_NAME_MAX + 1];

	memset(name, 'a', sizeof(name));
	name[STAT_NAME_MAX - 1] = '\0';
	assert_true(rtcmd_name_ok(name));
	name[STAT_NAME_MAX - 1] = 'a';
	name[STAT_NAME_MAX] = '\0';
	assert_false(rtcmd_name_ok(name));
}

static void test_value_escaping(void **state)
{
	struct rtcmd c;

	rtcmd_init(&c);
	rtcmd_word(&c, "set map");
	rtcmd_value(&c, "/etc/haproxy/bg.map");
	rtcmd_value(&c, "key with space;x\\y");
	assert_int_equal(rtcmd_done(&c), 0);
	assert_string_equal(c.text, "set map /etc/haproxy/bg.map "
				    "key\\ with\\ space\\;x\\\\y");
}

static void test_value_control_refused(void **state)
{
	struct rtcmd c;

	rtcmd_init(&c);
	rtcmd_word(&c, "set map");
	rtcmd_value(&c, "a\nshutdown sessions server app/web1");
	assert_int_equal(rtcmd_done(&c), CUT_EUSAGE);
	rtcmd_init(&c);
	rtcmd_value(&c, "");
	assert_int_equal(rtcmd_done(&c), CUT_EUSAGE);
}

static void test_too_long(void **state)
{
	static char big[RTCMD_MAX];
	struct rtcmd c;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rtcmd_init(&c);
	rtcmd_word(&c, "set map m");
	rtcmd_value(&c, big);
	assert_int_equal(rtcmd_done(&c), CUT_ETOOBIG);
	/* The error is sticky: later parts do not clear it. */
	rtcmd_word(&c, "x");
	assert_int_equal(rtcmd_done(&c), CUT_ETOOBIG);
	assert_true(c.len < RTCMD_MAX);
}

static void test_weight(void **state)
{
	struct rtcmd c;

	assert_int_equal(rtcmd_set_weight(&c, "app", "w", 50, true), 0);
	assert_string_equal(c.text, "set weight app/w 50%");
	assert_int_equal(rtcmd_set_weight(&c, "app", "w", 256, false), 0);
	assert_string_equal(c.text, "set weight app/w 256");
	assert_int_equal(rtcmd_set_weight(&c, "app", "w", 257, false), CUT_EUSAGE);
	assert_int_equal(rtcmd_set_weight(&c, "app", "w", 101, true), CUT_EUSAGE);
	assert_int_equal(rtcmd_set_weight(&c, "app", "w", -1, false), CUT_EUSAGE);
}

static void test_show(void **state)
{
	struct rtcmd c;

	assert_int_equal(rtcmd_show_stat(&c, NULL, -1), 0);
	assert_string_equal(c.text, "show stat -1 4 -1");
	assert_int_equal(rtcmd_show_stat(&c, "app", 3), 0);
	assert_string_equal(c.text, "show stat app 4 3");
	assert_int_equal(rtcmd_show_servers_state(&c, NULL), 0);
	assert_string_equal(c.text, "show servers state");
	assert_int_equal(rtcmd_show_servers_state(&c, "app"), 0);
	assert_string_equal(c.text, "show servers state app");
	assert_int_equal(rtcmd_show_servers_state(&c, "a;b"), CUT_EUSAGE);
}

static void test_shutdown_session(void **state)
{
	struct rtcmd c;

	assert_int_equal(rtcmd_shutdown_session(&c, "0x55f08fd21b10"), 0);
	assert_string_equal(c.text, "shutdown session 0x55f08fd21b10");
	assert_int_equal(rtcmd_shutdown_session(&c, "0x"), CUT_EUSAGE);
	assert_int_equal(rtcmd_shutdown_session(&c, "55f0"), CUT_EUSAGE);
	assert_int_equal(rtcmd_shutdown_session(&c, "0x5;x"), CUT_EUSAGE);
	assert_int_equal(rtcmd_shutdown_session(&c, "0x1 all"), CUT_EUSAGE);
	assert_int_equal(rtcmd_shutdown_sessions(&c, "app", "w1"), 0);
	assert_string_equal(c.text, "shutdown sessions server app/w1");
}

static void test_maps(void **state)
{
	struct rtcmd c;

	assert_int_equal(rtcmd_set_map(&c, "/etc/haproxy/bg.map", "active",
				       "be_green"), 0);
	assert_string_equal(c.text, "set map /etc/haproxy/bg.map active be_green");
	assert_int_equal(rtcmd_get_map(&c, "/x y.map", "k;1"), 0);
	assert_string_equal(c.text, "get map /x\\ y.map k\\;1");
	assert_int_equal(rtcmd_set_map(&c, "/m", "k", "a\nb"), CUT_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_state),
		cmocka_unit_test(test_names_refused),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_value_escaping),
		cmocka_unit_test(test_value_control_refused),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_shutdown_session),
		cmocka_unit_test(test_maps),
	};

	return cmocka_run_group_tests_name("rtapi_cmd", tests, NULL, NULL);
}
