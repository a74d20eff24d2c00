/* fuzz_map_list.c - libFuzzer target for stat_parse_map_list() (`show
 * map`): every map's fields are read and each is looked up by file with
 * map_list_find(). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	const struct map_info *m, *f;
	struct map_list l;
	size_t i;
	int rc;

	rc = stat_parse_map_list((const char *)data, size, &l, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(l.maps == NULL && l.n == 0);
		return 0;
	}
	FUZZ_CHECK(l.n == 0 || l.maps != NULL);
	for (i = 0; i < l.n; i++) {
		m = &l.maps[i];
		FUZZ_CHECK(FUZZ_FIELD(m->file) > 0);
		FUZZ_CHECK(m->id >= 0);
		FUZZ_CHECK(m->curr_ver >= -1 && m->next_ver >= -1 &&
			   m->entry_cnt >= -1);
		f = map_list_find(&l, m->file);
		FUZZ_CHECK(f != NULL && f <= m &&
			   strcmp(f->file, m->file) == 0);
	}
	map_list_free(&l);
	FUZZ_CHECK(l.maps == NULL && l.n == 0);
	return 0;
}
