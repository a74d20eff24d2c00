/* master.h - HAProxy's master CLI (master-worker mode, `-S SOCKET`): the
 * per-LB address spec that names it, and one command run on it
 * asynchronously on the libuv loop.
 *
 * The master CLI reaches every worker by pid, including the old workers
 * that still hold their established sessions after a reload
 * (`@!PID show stat ...`, HAPROXY.md §3.5, §6), which the stats socket,
 * now owned by the new worker, cannot see.
 *
 * One connection per command: connect, write "CMD\n", half-close (the
 * master answers a non-interactive command and closes only once the
 * client has shut its write side), read to EOF under a size cap and a
 * deadline.
 *
 * Callback guarantee: if master_run() returns an error its callback never
 * runs; otherwise it runs exactly once, from the loop.
 */
#ifndef CUT_MASTER_H
#define CUT_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "rtapi.h"

/* One LB as the operator wrote it: "ADDR" or "ADDR,master=ADDR", each
 * ADDR as rtapi_addr_parse() takes it (unix:PATH, tcp:HOST:PORT, /PATH). */
struct lb_spec {
	struct rtapi_addr lb;
	bool has_master;
	struct rtapi_addr master;
};

#define MASTER_OPT "master="

/* Parse an LB spec. Returns 0, or CUT_EUSAGE with a message that names
 * the whole spec (a bad address on either side, an unknown ",key=",
 * an empty or repeated master=). */
int lb_spec_parse(const char *spec, struct lb_spec *out, struct cut_err *err);

/* status 0: `reply` is the master's answer (NUL-terminated, borrowed for
 * the call). status < 0 (UV_E*, CUT_ETIMEOUT, CUT_ETOOBIG): reply is ""
 * and err says what failed, naming the master address and the command. */
typedef void master_done_fn(int status, const char *reply, size_t len,
			    const struct cut_err *err, void *arg);

/* Run `cmd` (one line, no newline; copied) on the master at `addr`
 * (copied). Returns 0, CUT_EUSAGE (bad command line) or UV_ENOMEM. */
int master_run(uv_loop_t *loop, const struct rtapi_addr *addr,
	       const char *cmd, uint64_t timeout_ms, size_t reply_max,
	       master_done_fn *cb, void *arg);

#endif
