/* fuzz_proc.c - libFuzzer target for stat_parse_proc() (`show proc` on
 * the master CLI). */
#include "fuzz.h"
#include "stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cut_err err = { 0 };
	struct proc_list *pl = malloc(sizeof(*pl));
	size_t i;
	int rc;

	FUZZ_CHECK(pl != NULL);
	memset(pl, 0xa5, sizeof(*pl));	/* must be overwritten */
	rc = stat_parse_proc((const char *)data, size, pl, &err);
	FUZZ_CHECK(pl->n <= PROC_WORKERS_MAX);
	if (rc != 0) {
		fuzz_err(&err, rc);
		/* Nothing half-filled. */
		FUZZ_CHECK(pl->n == 0 && pl->master_pid == -1);
	}
	for (i = 0; i < pl->n; i++)
		FUZZ_CHECK(pl->w[i].pid > 0);
	free(pl);
	return 0;
}
