/* fuzz_age.c - libFuzzer target for stat_parse_age(), HAProxy's
 * human_time() text ("1h5m", "59s", "?") to seconds. */
#include "fuzz.h"
#include "stat.h"

/* The largest value stat_parse_age() accepts: 10 digits of days, then
 * 23h59m59s. */
#define AGE_MAX (9999999999LL * 86400 + 86399)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t sec = -2;

	if (stat_parse_age((const char *)data, size, &sec) != 0) {
		FUZZ_CHECK(sec == -2);
		return 0;
	}
	if (size == 1 && data[0] == '?')
		FUZZ_CHECK(sec == -1);
	else
		FUZZ_CHECK(sec >= 0 && sec <= AGE_MAX);
	return 0;
}
