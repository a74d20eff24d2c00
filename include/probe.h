/* probe.h - is a server healthy, seen from cutover itself: HTTP(S) through
 * libcurl's multi interface driven by the libuv loop, a TCP connect, and
 * an exec probe (a command that exits 0), with a rise count, an interval,
 * a per-try timeout and an overall deadline. HAProxy's own check is not
 * here: rollout asks the fleet for it.
 *
 * One struct probe_env per loop holds the CURLM and its uv handles; every
 * probe shares it.
 */
#ifndef CUT_PROBE_H
#define CUT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "hook.h"
#include "plan.h"

struct probe_env;
struct probe;

struct probe_env *probe_env_new(uv_loop_t *loop, struct cut_err *err);
/* Stops every probe still running (their callbacks run with
 * CUT_ECANCELED) and frees the env once its handles are closed. */
void probe_env_free(struct probe_env *env);

/* Called after every try (progress, status 1 = passed, 0 = failed; reason
 * says why, e.g. "http 503", "tcp 127.0.0.1:9: connection refused",
 * "exec exit 2"; several failed checks are joined with "; ") and once at
 * the end (done: 0 healthy, CUT_ETIMEOUT deadline passed with `reason` the
 * last failure, CUT_ECANCELED). The probe is freed when `done` returns.
 * Credentials in URLs never appear in reasons. */
typedef void probe_fn(struct probe *p, int status, const char *reason,
		      void *arg);

/* Start probing with the plan's settings; placeholders in the URL, host,
 * port and exec argv are expanded with `vars`; cfg and vars are copied, so
 * they need not outlive the call. A cfg with no http, tcp or exec check is
 * CUT_EUSAGE. Zero values mean: rise 1, no per-try timeout, no deadline,
 * expect 200. Returns NULL with *err set if it cannot start (its callbacks
 * never run then). */
struct probe *probe_start(struct probe_env *env, const struct plan_probe *cfg,
			  const struct hook_vars *vars, probe_fn *progress,
			  probe_fn *done, void *arg, struct cut_err *err);
/* Asynchronous and idempotent: `done` follows from the loop, with
 * CUT_ECANCELED unless the probe was already finishing. Not after `done`. */
void probe_cancel(struct probe *p);

/* "http://user:secret@h/x" -> "http://user:***@h/x" (new string). */
char *probe_redact_url(const char *url);

#endif
