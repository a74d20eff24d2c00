/* fuzz_servers_state.c - libFuzzer target for stat_parse_servers_state()
 * (`show servers state`): every row's fields are read and each row is
 * looked up by name with srvstate_find(). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	const struct srvstate_row *r, *f;
	struct srvstate_table t;
	size_t i;
	int rc;

	rc = stat_parse_servers_state((const char *)data, size, &t, &err);
	if (rc != 0) {
		fuzz_err(&err, rc);
		FUZZ_CHECK(t.rows == NULL && t.n == 0);
		return 0;
	}
	FUZZ_CHECK(t.n == 0 || t.rows != NULL);
	for (i = 0; i < t.n; i++) {
		r = &t.rows[i];
		FUZZ_FIELD(r->be_name);
		FUZZ_FIELD(r->srv_name);
		FUZZ_FIELD(r->addr);
		FUZZ_CHECK((unsigned)r->op_state < SRV_OP_COUNT);
		FUZZ_CHECK(r->admin == stat_admin_from_bits(r->admin_bits));
		FUZZ_CHECK(strcmp(srv_op_name(r->op_state), "?") != 0);
		FUZZ_CHECK(strcmp(srv_admin_name(r->admin), "?") != 0);
		/* The first row of that name. */
		f = srvstate_find(&t, r->be_name, r->srv_name);
		FUZZ_CHECK(f != NULL && f <= r &&
			   strcmp(f->be_name, r->be_name) == 0 &&
			   strcmp(f->srv_name, r->srv_name) == 0);
	}
	srvstate_table_free(&t);
	FUZZ_CHECK(t.rows == NULL && t.n == 0);
	return 0;
}
