/* fuzz_info.c - libFuzzer target for stat_parse_info() (`show info`). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	struct haproxy_info info;
	int rc;

	memset(&info, 0xa5, sizeof(info));	/* must be overwritten */
	rc = stat_parse_info((const char *)data, size, &info, &err);
	FUZZ_FIELD(info.version);
	FUZZ_FIELD(info.node);
	if (rc != 0) {
		fuzz_err(&err, rc);
		/* Left at the defaults: nothing half-filled. */
		FUZZ_CHECK(info.pid == -1 && info.uptime_sec == -1 &&
			   info.version[0] == '\0' && info.node[0] == '\0');
	}
	return 0;
}
