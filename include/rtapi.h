/* rtapi.h - asynchronous client of HAProxy's runtime API (stats socket) on
 * a libuv loop, over a unix socket or TCP.
 *
 * One struct rtapi is one persistent connection to one HAProxy worker in
 * interactive ("prompt") mode: a kept connection answers in ~20-100 us
 * instead of ~100-140 us for one connection per command (HAPROXY.md §7),
 * and it holds only one of the CLI's 10 default slots. On (re)connect the
 * client runs a handshake: `prompt`, `set severity-output number` (so
 * errors are tagged "[3]: ..."), `show cli level`, `show info` (pid and
 * start time, to notice a reload or restart).
 *
 * Requests are queued and sent one at a time; a reply ends at the prompt
 * ("\n> "). Each request has a deadline (opts.timeout_ms from when it was
 * queued). A timeout, a reply past opts.reply_max, garbage where a prompt
 * was expected or a dropped connection closes the connection and fails
 * every pending request; the next request reconnects.
 *
 * Callback guarantee: if rtapi_send() returns an error its callback never
 * runs; otherwise it runs exactly once, always from the loop (never from
 * inside rtapi_send).
 */
#ifndef CUT_RTAPI_H
#define CUT_RTAPI_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "stat.h"

enum rtapi_addr_kind {
	RTAPI_ADDR_UNIX = 0,
	RTAPI_ADDR_TCP,
	RTAPI_ADDR_KIND_COUNT	/* keep last */
};

struct rtapi_addr {
	enum rtapi_addr_kind kind;
	char path[108];		/* unix: socket path */
	char host[256];		/* tcp: name or address */
	char port[8];		/* tcp: port */
	char spec[384];		/* as the operator wrote it, for messages */
};

/* Parse "unix:/path", "tcp:host:port", "tcp:[v6addr]:port" or a bare
 * "/path" (unix). Returns 0 or CUT_EUSAGE with a message. */
int rtapi_addr_parse(const char *spec, struct rtapi_addr *out,
		     struct cut_err *err);

struct rtapi_opts {
	uint64_t timeout_ms;	/* per request, from queueing to reply */
	size_t reply_max;	/* cap on one reply's size */
};

#define RTAPI_DEFAULT_TIMEOUT_MS 5000
#define RTAPI_DEFAULT_REPLY_MAX (64u << 20)

/* Access level of the socket, from `show cli level`. */
enum rtapi_level {
	RTAPI_LEVEL_UNKNOWN = -1,
	RTAPI_LEVEL_USER = 0,
	RTAPI_LEVEL_OPERATOR = 1,
	RTAPI_LEVEL_ADMIN = 2,
};

struct rtapi;

/* status 0: `reply` holds HAProxy's answer without the prompt (NUL-
 * terminated, borrowed for the duration of the call; "" for a silent
 * success). status < 0: transport failure (UV_E*, CUT_ETIMEOUT,
 * CUT_ECLOSED, CUT_ETOOBIG, CUT_EPROTO, CUT_ECANCELED); reply is "". */
typedef void rtapi_reply_fn(int status, const char *reply, size_t len,
			    void *arg);

/* New client; connects lazily on the first request. Returns NULL on OOM. */
struct rtapi *rtapi_new(uv_loop_t *loop, const struct rtapi_addr *addr,
			const struct rtapi_opts *opts);

/* Queue one command line (no newline; must not contain '\n'). The line is
 * copied. Returns 0, CUT_EUSAGE (bad line), CUT_ECANCELED (client being
 * freed) or UV_ENOMEM. */
int rtapi_send(struct rtapi *api, const char *line, rtapi_reply_fn *cb,
	       void *arg);

/* Fail every pending request with CUT_ECANCELED, close the connection and
 * free the client once libuv has closed its handles. NULL is ignored. */
void rtapi_free(struct rtapi *api);

const struct rtapi_addr *rtapi_addr(const struct rtapi *api);
/* Level and `show info` of the current (or last) connection. */
enum rtapi_level rtapi_level(const struct rtapi *api);
const struct haproxy_info *rtapi_info(const struct rtapi *api);
/* Incremented each time a new connection reaches a different HAProxy
 * process (pid or start time changed): a reload or restart. */
unsigned rtapi_generation(const struct rtapi *api);

/* A kept connection survives a reload but then talks to the old worker,
 * which is soft-stopping. So before a request, at most every
 * RTAPI_RECHECK_MS, the client asks `show info` again; an old worker
 * (Stopping: 1, or another pid) makes it reconnect, without failing what
 * is queued, to the new worker. */
#define RTAPI_RECHECK_MS 1000

/* Called once the client reached a different HAProxy process than before
 * (generation incremented), before any queued request is sent to it: the
 * place to re-apply state with rtapi_send_first(). */
typedef void rtapi_reload_fn(struct rtapi *api, void *arg);
void rtapi_on_reload(struct rtapi *api, rtapi_reload_fn *fn, void *arg);
/* rtapi_send(), but queued ahead of every request not yet sent. */
int rtapi_send_first(struct rtapi *api, const char *line, rtapi_reply_fn *cb,
		     void *arg);
/* Last transport error text, "" if none. */
const char *rtapi_last_error(const struct rtapi *api);

#endif
