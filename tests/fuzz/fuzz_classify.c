/* fuzz_classify.c - libFuzzer target for stat_classify_reply(), which
 * tells a silent success, data, an info message and an error apart. */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_class rc;

	memset(&rc, 0xa5, sizeof(rc));	/* must be overwritten */
	stat_classify_reply((const char *)data, size, &rc);
	FUZZ_CHECK((unsigned)rc.kind < REPLY_KIND_COUNT);
	FUZZ_CHECK((unsigned)rc.error < REPLY_ERR_COUNT);
	FUZZ_CHECK(rc.severity >= -1 && rc.severity <= 7);
	FUZZ_FIELD(rc.msg);
	FUZZ_CHECK(strchr(rc.msg, '\n') == NULL);
	FUZZ_CHECK((rc.kind == REPLY_ERROR) == (rc.error != REPLY_ERR_NONE));
	switch (rc.kind) {
	case REPLY_OK:
		FUZZ_CHECK(rc.severity == -1 && rc.msg[0] == '\0');
		break;
	case REPLY_OUTPUT:
		FUZZ_CHECK(rc.severity == -1);
		break;
	case REPLY_INFO:
		FUZZ_CHECK(rc.severity >= 4);
		break;
	default:
		break;
	}
	return 0;
}
