/* test_strutil.c - durations, integers and weights typed by operators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "strutil.h"

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} ok[] = {
		{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
		{ "2h", 7200000 }, { "1h30m", 5400000 }, { "1d", 86400000 },
		{ "10", 10000 }, { "0", 0 }, { "1m30s500ms", 90500 },
	};
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(str_parse_duration_ms(ok[i].in, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
}

static void test_bad_durations(void **state)
{
	static const char *const bad[] = {
		"", "s", "5x", "-5s", "5 s", "1.5s", "5m10", "99999999999999999999s",
		"18446744073709551615h",
	};
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(str_parse_duration_ms(bad[i], &ms), CUT_EUSAGE);
	assert_int_equal(str_parse_duration_ms(NULL, &ms), CUT_EUSAGE);
}

static void test_weights(void **state)
{
	bool pct;
	int w;

	assert_int_equal(str_parse_weight("50%", &w, &pct), 0);
	assert_int_equal(w, 50);
	assert_true(pct);
	assert_int_equal(str_parse_weight("256", &w, &pct), 0);
	assert_int_equal(w, 256);
	assert_false(pct);
	assert_int_equal(str_parse_weight("0", &w, &pct), 0);
	assert_int_equal(str_parse_weight("257", &w, &pct), CUT_EUSAGE);
	assert_int_equal(str_parse_weight("101%", &w, &pct), CUT_EUSAGE);
	assert_int_equal(str_parse_weight("%", &w, &pct), CUT_EUSAGE);
	assert_int_equal(str_parse_weight("5%%", &w, &pct), CUT_EUSAGE);
	assert_int_equal(str_parse_weight(" 5", &w, &pct), CUT_EUSAGE);
	assert_int_equal(str_parse_weight("-1", &w, &pct), CUT_EUSAGE);
}

static void test_format(void **state)
{
	char b[32];

	str_format_duration(850, b, sizeof(b));
	assert_string_equal(b, "850ms");
	str_format_duration(12345, b, sizeof(b));
	assert_string_equal(b, "12.3s");
	str_format_duration(245000, b, sizeof(b));
	assert_string_equal(b, "4m05s");
	str_format_duration(7380000, b, sizeof(b));
	assert_string_equal(b, "2h03m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("strutil", tests, NULL, NULL);
}
