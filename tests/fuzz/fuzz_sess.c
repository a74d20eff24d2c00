/* fuzz_sess.c - libFuzzer target for stat_parse_sess() (`show sess`):
 * every row's fields are read, and for each row's backend and server
 * sess_table_next() and sess_table_count() are checked against a plain
 * count with sess_row_is(). */
#include "fuzz.h"
#include "stat.h"

/* Rows of backend[/server], counted the plain way. */
static size_t count_rows(const struct sess_table *t, const char *backend,
			 const char *server)
{
	size_t i, c = 0;

	for (i = 0; i < t->n; i++)
		c += sess_row_is(&t->rows[i], backend, server);
	return c;
}

static void check_lookup(const struct sess_table *t, const char *backend,
			 const char *server)
{
	const struct sess_row *r, *prev = NULL;
	size_t pos = 0, c = 0;

	while ((r = sess_table_next(t, backend, server, &pos)) != NULL) {
		FUZZ_CHECK(r >= t->rows && r < t->rows + t->n);
		FUZZ_CHECK(prev == NULL || r > prev);
		FUZZ_CHECK(sess_row_is(r, backend, server));
		prev = r;
		c++;
	}
	FUZZ_CHECK(pos == t->n);
	FUZZ_CHECK(c == sess_table_count(t, backend, server));
	FUZZ_CHECK(c == count_rows(t, backend, server));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	const struct sess_row *r;
	struct sess_table t;
	size_t i;
	int rc;

	rc = stat_parse_sess((const char *)data, size, &t, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(t.rows == NULL && t.n == 0);
		return 0;
	}
	FUZZ_CHECK(t.n > 0 && t.rows != NULL);
	for (i = 0; i < t.n; i++) {
		r = &t.rows[i];
		FUZZ_CHECK(FUZZ_FIELD(r->ptr) > 2);
		FUZZ_CHECK(FUZZ_FIELD(r->proto) > 0);
		FUZZ_CHECK(FUZZ_FIELD(r->src) > 0);
		FUZZ_CHECK(FUZZ_FIELD(r->fe) > 0);
		FUZZ_CHECK(FUZZ_FIELD(r->be) > 0);
		FUZZ_CHECK(FUZZ_FIELD(r->srv) > 0);
		FUZZ_CHECK(r->age_sec >= -1);
		/* Few distinct names: check the first rows only. */
		if (i < 8) {
			check_lookup(&t, r->be, NULL);
			check_lookup(&t, r->be, r->srv);
		}
	}
	FUZZ_CHECK(sess_table_count(&t, "<NONE>", NULL) == 0);
	FUZZ_CHECK(sess_table_count(&t, NULL, NULL) == 0);
	sess_table_free(&t);
	FUZZ_CHECK(t.rows == NULL && t.n == 0);
	return 0;
}
