/* plan_yaml.h - private to the plan module: libyaml's event stream turned
 * into a small tree of nodes that remember where they were written, and
 * typed accessors (duration, integer, enum, mapping with known keys) whose
 * errors point at the node: "FILE:LINE:COLUMN: path: expected X, got 'y'".
 * plan.c checks keys in any order and still reports positions. Anchors,
 * aliases and a second document are refused here, as are values with a
 * NUL character and nesting deeper than PLAN_YAML_MAX_DEPTH. Nothing here
 * knows the plan schema.
 */
#ifndef CUT_PLAN_YAML_H
#define CUT_PLAN_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PLAN_YAML_MAX_DEPTH 32

enum plan_ynode_kind {
	PLAN_YNODE_SCALAR = 0,
	PLAN_YNODE_SEQ,
	PLAN_YNODE_MAP,
	PLAN_YNODE_KIND_COUNT	/* keep last */
};

struct plan_ynode {
	enum plan_ynode_kind kind;
	int line, col;			/* 1-based, where the node starts */
	char *text;			/* SCALAR: NUL-terminated, no NUL inside */
	size_t len;			/* SCALAR: strlen(text) */
	bool null;			/* SCALAR: plain "", "~" or "null" */
	struct plan_ynode **kids;	/* SEQ: items; MAP: key, value, ... */
	size_t n;			/* number of kids (even for MAP) */
};

/* "a string", "a list", "a mapping". */
const char *plan_ynode_kind_name(enum plan_ynode_kind k);

/* Parse `len` bytes of `text` (no NUL needed). *out gets a new tree, or
 * NULL when the stream holds no document at all (empty or only comments).
 * Returns 0, CUT_EUSAGE ("NAME:LINE:COLUMN: problem" in err), or
 * UV_ENOMEM. `name` (borrowed) stands for the file in messages. */
int plan_yaml_load(const char *name, const char *text, size_t len,
		   struct plan_ynode **out, struct cut_err *err);
/* Free a tree; NULL is ignored. */
void plan_yaml_free(struct plan_ynode *n);

/* Set err to CUT_EUSAGE with where = "NAME:LINE:COLUMN" and msg =
 * "NAME:LINE:COLUMN: " + the formatted text; returns CUT_EUSAGE. */
int plan_yaml_err(struct cut_err *err, const char *name, int line, int col,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- accessors ----------------------------------------------------------
 * All return 0 or an error code with err filled (CUT_EUSAGE, or UV_ENOMEM
 * for allocations). `path` names the value in messages ("drain.timeout"),
 * `what` says what was expected ("an integer >= 1"). */

/* What messages need: the file name and the caller's error record. */
struct plan_yctx {
	const char *name;	/* borrowed */
	struct cut_err *err;	/* may be NULL */
};

/* CUT_EUSAGE at n's position. */
int plan_yaml_node_err(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int plan_yaml_oom(const struct plan_yctx *y);
/* "'text'" (printable, cut at 60 characters), "nothing", "a list" or
 * "a mapping"; returns buf or a constant string. */
const char *plan_yaml_describe(const struct plan_ynode *n, char *buf,
			       size_t sz);
/* "path: expected what, got ..." */
int plan_yaml_expected(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, const char *what);

/* A scalar that is not null. */
bool plan_yaml_is_str(const struct plan_ynode *n);
int plan_yaml_scalar(const struct plan_yctx *y, const struct plan_ynode *n,
		     const char *path, const char *what);
/* *out (freed first if set) gets a new copy of the text. */
int plan_yaml_get_str(const struct plan_yctx *y, const struct plan_ynode *n,
		      const char *path, const char *what, char **out);
/* str_parse_duration_ms(); with `positive`, 0 is refused too. */
int plan_yaml_get_duration(const struct plan_yctx *y,
			   const struct plan_ynode *n, const char *path,
			   bool positive, uint64_t *ms);
int plan_yaml_get_long(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, long min, long max, const char *what,
		       long *out);
/* An integer in [min, INT_MAX] ("an integer >= min"). */
int plan_yaml_get_uint(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, long min, unsigned *out);
/* A string whose placeholders are all known: {server} {backend} {addr}
 * {port} {peer}, with "{{" and "}}" for literal braces. *out as for
 * plan_yaml_get_str(). */
int plan_yaml_get_template(const struct plan_yctx *y,
			   const struct plan_ynode *n, const char *path,
			   const char *what, char **out);
/* true or false, in any case. */
int plan_yaml_get_bool(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, bool *out);
/* *out gets the index of n's text in names[0..count). */
int plan_yaml_get_enum(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, const char *const *names,
		       size_t count, unsigned *out);
/* n must be a mapping whose keys are among keys[0..nkeys), each at most
 * once; vals[i] gets the value of keys[i] or NULL. `section` names the
 * mapping in messages ("drain", "probe.http"), NULL at the top level. */
int plan_yaml_map(const struct plan_yctx *y, const struct plan_ynode *n,
		  const char *section, const char *const *keys, size_t nkeys,
		  const struct plan_ynode **vals);
/* In mapping n, the first key node whose text is `key`, or NULL (also
 * when n is not a mapping). *val, if val is not NULL, gets its value or
 * NULL. For checks that point at a key rather than at its value. */
const struct plan_ynode *plan_yaml_find_key(const struct plan_ynode *n,
					    const char *key,
					    const struct plan_ynode **val);
/* "missing required key 'key' in section" at the mapping's start. */
int plan_yaml_missing(const struct plan_yctx *y, const struct plan_ynode *map,
		      const char *section, const char *key);

/* Read a whole file with blocking I/O (only before the loop runs), at
 * most max + 1 bytes: a longer file comes back cut, for the caller to
 * refuse. *buf is new. Returns 0, -errno or UV_ENOMEM. */
int plan_yaml_read_file(const char *path, size_t max, char **buf,
			size_t *len);

#endif
