/* stat_int.h - what the reply parsers (stat.c, stat_sess.c) share: a parse
 * context that walks a reply line by line and builds error messages that
 * name the command and the line. Private to those files. */
#ifndef CUT_STAT_INT_H
#define CUT_STAT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define STAT_SHOW_MAX 40	/* outside text quoted in error messages */

struct stat_pctx {
	const char *what;	/* "show stat", "show sess", ... */
	const char *p, *end;	/* rest of the reply */
	size_t lineno;		/* 1-based line being parsed */
	bool empty_is_absent;	/* an empty numeric value reads as -1 */
	struct cut_err *err;
};

/* CUT_EPROTO with "<what> line <n>: <message>". */
int stat_perr(const struct stat_pctx *pc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int stat_enomem(const struct stat_pctx *pc);
/* A printable, bounded copy of outside text for an error message; out
 * holds STAT_SHOW_MAX bytes. */
const char *stat_show(char *out, const char *s, size_t n);
/* Start at the top of text; a NUL anywhere is CUT_EPROTO (HAProxy never
 * sends one: it means a broken or hostile peer). */
int stat_pctx_start(struct stat_pctx *pc, const char *text, size_t len);
/* Room for one more element in a growing array (doubling from 64); NULL
 * when out of memory (the old array is then still the caller's). */
void *stat_grow(void *rows, size_t n, size_t *cap, size_t elsize);

#endif
