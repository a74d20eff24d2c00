/* fuzz_cli_level.c - libFuzzer target for stat_parse_cli_level() (`show
 * cli level`): a level is only ever read from a reply that
 * stat_classify_reply() takes for data or an info message. */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "user", "operator", "admin" };
	struct reply_class rc;
	int level = -1;

	if (stat_parse_cli_level((const char *)data, size, &level) != 0) {
		FUZZ_CHECK(level == -1);
		return 0;
	}
	FUZZ_CHECK(level >= 0 && level <= 2);
	stat_classify_reply((const char *)data, size, &rc);
	FUZZ_CHECK(rc.kind == REPLY_OUTPUT || rc.kind == REPLY_INFO);
	FUZZ_CHECK(strcmp(rc.msg, names[level]) == 0);
	return 0;
}
