/* fuzz_map_get.c - libFuzzer target for stat_parse_map_get() (`get map
 * <map> <key>`). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	struct map_lookup l;
	int rc;

	memset(&l, 0xa5, sizeof(l));	/* must be overwritten */
	rc = stat_parse_map_get((const char *)data, size, &l, &err);
	FUZZ_FIELD(l.match);
	FUZZ_FIELD(l.key);
	FUZZ_FIELD(l.value);
	FUZZ_FIELD(l.smp_type);
	if (rc != 0) {
		fuzz_err(&err, rc);
		/* "not found", nothing else. */
		FUZZ_CHECK(!l.found && l.nexpr == 0 && !l.icase &&
			   l.match[0] == '\0' && l.key[0] == '\0' &&
			   l.value[0] == '\0' && l.smp_type[0] == '\0');
		return 0;
	}
	FUZZ_CHECK(l.nexpr >= 1 && l.match[0] != '\0');
	if (!l.found)
		FUZZ_CHECK(l.key[0] == '\0' && l.value[0] == '\0' &&
			   l.smp_type[0] == '\0');
	return 0;
}
