/* mapfile.h - rewrite one entry of an HAProxy map file on disk, atomically
 * (a temporary file in the same directory, fsync, rename), so that a
 * reload of HAProxy, which reads the file again, keeps a switch made at
 * runtime. All file work runs on libuv's threadpool: the loop never waits.
 *
 * The first line whose first word is KEY (blank lines and '#' comments
 * kept as they are) becomes "KEY VALUE"; without one, "KEY VALUE" is
 * appended. The file's mode is kept. */
#ifndef CUT_MAPFILE_H
#define CUT_MAPFILE_H

#include <uv.h>

#include "err.h"

/* status 0 or a uv error; err says which step failed. */
typedef void mapfile_fn(int status, const struct cut_err *err, void *arg);

/* Returns 0 (the callback runs once, later) or an error (it never runs). */
int mapfile_set(uv_loop_t *loop, const char *path, const char *key,
		const char *value, mapfile_fn *cb, void *arg);

/* The new content for `old` (pure; for tests). Returns a new string. */
char *mapfile_replace(const char *old, size_t len, const char *key,
		      const char *value);

#endif
