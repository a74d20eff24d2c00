/* fuzz.h - what the libFuzzer targets in tests/fuzz/ share: the entry
 * point's prototype, a check that aborts (so that libFuzzer records the
 * input as a crash) and readers that touch every byte of a parsed field.
 *
 * A target hands the parser libFuzzer's own buffer: exactly `size` bytes
 * on the heap with no NUL after them, so ASan reports a read past `len`.
 * Then it walks the result and checks what stat.h and plan.h promise:
 * every char[] member NUL-terminated inside its array, an error leaves the
 * output empty, enums in range.
 */
#ifndef CUT_FUZZ_H
#define CUT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the failed condition: a contract broken on this input. */
#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* Length of the string in a char[size] member, checking that it ends
 * inside the array; every byte up to the NUL is read. */
static inline size_t fuzz_str(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	FUZZ_CHECK(n < size);
	return n;
}

/* fuzz_str() on an array member: FUZZ_FIELD(row->backend). */
#define FUZZ_FIELD(a) fuzz_str((a), sizeof(a))

/* A filled error record names what was wrong. */
static inline void fuzz_err(const struct cut_err *err, int rc)
{
	FUZZ_CHECK(err->code == rc);
	FUZZ_FIELD(err->where);
	FUZZ_CHECK(FUZZ_FIELD(err->msg) > 0);
}

/* Read a C string up to its NUL, so that ASan sees one that has none;
 * the volatile store keeps the compiler from dropping the read. */
static inline size_t fuzz_touch(const char *s)
{
	volatile size_t n;

	FUZZ_CHECK(s != NULL);
	n = strlen(s);
	return n;
}

#endif
