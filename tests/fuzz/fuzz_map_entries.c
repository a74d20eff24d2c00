/* fuzz_map_entries.c - libFuzzer target for stat_parse_map_entries()
 * (`show map <map>`): every entry's fields are read and each is looked up
 * by key with map_entries_find(). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	const struct map_entry *e, *f;
	struct map_entries es;
	size_t i;
	int rc;

	rc = stat_parse_map_entries((const char *)data, size, &es, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(es.entries == NULL && es.n == 0);
		return 0;
	}
	FUZZ_CHECK(es.n == 0 || es.entries != NULL);
	for (i = 0; i < es.n; i++) {
		e = &es.entries[i];
		FUZZ_CHECK(FUZZ_FIELD(e->ref) > 2);
		FUZZ_CHECK(FUZZ_FIELD(e->key) > 0);
		FUZZ_CHECK(strchr(e->key, ' ') == NULL);
		FUZZ_FIELD(e->value);
		f = map_entries_find(&es, e->key);
		FUZZ_CHECK(f != NULL && f <= e && strcmp(f->key, e->key) == 0);
	}
	map_entries_free(&es);
	FUZZ_CHECK(es.entries == NULL && es.n == 0);
	return 0;
}
