/* hook.h - operator commands run as child processes (uv_spawn): argv
 * templates expanded with the server's values (never through a shell: a
 * value with spaces or ';' stays one argv element), the same values in
 * CUTOVER_* environment variables, each child in its own process group,
 * a timeout that escalates TERM -> KILL to the whole group, and output
 * streamed line by line to a callback.
 *
 * Per child:  RUNNING --timeout/hook_kill--> TERM_SENT --grace--> KILL_SENT
 *                |                                |                 |
 *                +------------ exit -------------+--------- exit ---+--> done
 */
#ifndef CUT_HOOK_H
#define CUT_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "plan.h"

/* Values for the placeholders and the CUTOVER_* variables; NULL values
 * expand to "" (and the variable is not set). */
struct hook_vars {
	const char *server;	/* {server}  CUTOVER_SERVER */
	const char *backend;	/* {backend} CUTOVER_BACKEND */
	const char *addr;	/* {addr}    CUTOVER_ADDR */
	const char *port;	/* {port}    CUTOVER_PORT */
	const char *peer;	/* {peer}    CUTOVER_PEER: a healthy server of the
				 * same backend, for software that rejoins a
				 * cluster */
	const char *stage;	/*           CUTOVER_STAGE: "upgrade", ... */
};

/* Expand one template string. Returns a new string or NULL (UV_ENOMEM, or
 * CUT_EUSAGE for an unknown placeholder; plan_load refuses those first).*/
char *hook_expand_str(const char *tmpl, const struct hook_vars *v,
		      struct cut_err *err);
/* Expand an argv template into a new NULL-terminated argv; free it with
 * hook_argv_free(). */
char **hook_expand_argv(const struct plan_argv *tmpl, const struct hook_vars *v,
			struct cut_err *err);
void hook_argv_free(char **argv);

struct hook;

enum hook_stream {
	HOOK_STDOUT = 0,
	HOOK_STDERR,
	HOOK_STREAM_COUNT	/* keep last */
};

/* One output line without its newline (lines longer than 4 KB are cut
 * into pieces). `line` is borrowed for the duration of the call. */
typedef void hook_line_fn(struct hook *h, enum hook_stream s, const char *line,
			  size_t len, void *arg);

/* status: 0 exit code 0; CUT_EHOOK a non-zero exit or a signal;
 * CUT_ETIMEOUT stopped at its timeout; CUT_ECANCELED stopped by
 * hook_kill(). exit_code is the exit status (or -1), term_signal the
 * signal that ended it (or 0). The hook is freed after this returns. */
typedef void hook_done_fn(struct hook *h, int status, int64_t exit_code,
			  int term_signal, void *arg);

struct hook_opts {
	uint64_t timeout_ms;		/* 0: none */
	uint64_t kill_grace_ms;		/* TERM -> KILL; default 5s */
	const struct hook_vars *vars;	/* for CUTOVER_* (may be NULL) */
	hook_line_fn *on_line;		/* may be NULL */
	void *line_arg;
};

/* Start argv[0] (looked up in PATH) with argv. If this returns NULL
 * (*err set: not found, not executable, out of memory) the callback never
 * runs; otherwise it runs exactly once, from the loop. */
struct hook *hook_run(uv_loop_t *loop, char *const *argv,
		      const struct hook_opts *opts, hook_done_fn *cb, void *arg,
		      struct cut_err *err);
/* Ask the child's process group to stop: TERM now, KILL after the grace.
 * The callback still runs once, with CUT_ECANCELED. */
void hook_kill(struct hook *h);
/* KILL the group at once (a second interrupt). */
void hook_kill_now(struct hook *h);
int hook_pid(const struct hook *h);

#endif
