/* buf.h - a growable byte buffer with a hard cap, for all outside input
 * (HAProxy replies, hook output, probe bodies). Growing past the cap is an
 * error (CUT_ETOOBIG), never a silent truncation. The content is always
 * NUL-terminated so parsers may treat it as a C string.
 */
#ifndef CUT_BUF_H
#define CUT_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;	/* allocated bytes, including the terminating NUL */
	size_t max;	/* hard cap on len */
};

void buf_init(struct buf *b, size_t max);
/* Append n bytes. Returns 0, UV_ENOMEM or CUT_ETOOBIG (nothing appended). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
