/* fuzz_stat_csv.c - libFuzzer target for stat_parse_csv() (`show stat`):
 * every row's fields are read, each row is looked up by name with
 * stat_table_find() before and after stat_table_sort(), and the sorted
 * order is checked. */
#include "fuzz.h"
#include "stat.h"

static void check_row(const struct stat_row *r)
{
	FUZZ_CHECK(FUZZ_FIELD(r->backend) > 0);
	FUZZ_CHECK(FUZZ_FIELD(r->server) > 0);
	FUZZ_FIELD(r->status);
	FUZZ_FIELD(r->addr);
	FUZZ_FIELD(r->check_status);
	FUZZ_CHECK((unsigned)stat_admin_from_status(r->status) <
		   SRV_ADMIN_COUNT);
	(void)stat_status_is_up(r->status);
	(void)stat_status_is_transitional(r->status);
}

/* The order of stat_table_sort(): by backend, then server. */
static int names_cmp(const struct stat_row *a, const struct stat_row *b)
{
	int c = strcmp(a->backend, b->backend);

	return c != 0 ? c : strcmp(a->server, b->server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	const struct stat_row *r;
	struct stat_table t;
	size_t i;
	int rc;

	rc = stat_parse_csv((const char *)data, size, &t, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(t.rows == NULL && t.n == 0);
		return 0;
	}
	FUZZ_CHECK(!t.sorted && (t.n == 0 || t.rows != NULL));
	for (i = 0; i < t.n; i++) {
		check_row(&t.rows[i]);
		/* Unsorted: a scan that finds the first row of that name. */
		r = stat_table_find(&t, t.rows[i].backend, t.rows[i].server);
		FUZZ_CHECK(r != NULL && r <= &t.rows[i] &&
			   names_cmp(r, &t.rows[i]) == 0);
	}
	stat_table_sort(&t);
	FUZZ_CHECK(t.sorted);
	for (i = 0; i < t.n; i++) {
		r = stat_table_find(&t, t.rows[i].backend, t.rows[i].server);
		FUZZ_CHECK(r != NULL && names_cmp(r, &t.rows[i]) == 0);
		if (i > 0)
			FUZZ_CHECK(names_cmp(&t.rows[i - 1], &t.rows[i]) <= 0);
	}
	/* Empty names are refused, so this is never found. */
	FUZZ_CHECK(stat_table_find(&t, "", "") == NULL);
	stat_table_free(&t);
	FUZZ_CHECK(t.rows == NULL && t.n == 0);
	return 0;
}
