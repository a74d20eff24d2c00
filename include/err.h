/* err.h - error codes and the caller-owned error record used across cutover.
 *
 * Functions return 0 on success or a negative code: a libuv code (UV_E*,
 * which are -errno on Unix) or one of the CUT_E* values below. A caller that
 * wants a human message passes a struct cut_err; cut_err_set() fills it
 * without allocating and ignores NULL, so failure paths never allocate.
 */
#ifndef CUT_ERR_H
#define CUT_ERR_H

#include <stddef.h>

enum cut_errno {
	CUT_EBASE = -20000,
	CUT_EPROTO = CUT_EBASE,	/* HAProxy answered something we cannot parse */
	CUT_ETOOBIG,		/* a reply or a request went past its cap */
	CUT_ENOBACKEND,		/* backend does not exist */
	CUT_ENOSERVER,		/* server does not exist */
	CUT_EPERM,		/* socket below the needed level */
	CUT_EREFUSED,		/* HAProxy refused a command (error reply) */
	CUT_EPARTIAL,		/* change applied to some LBs, then undone */
	CUT_EUNDO,		/* change applied to some LBs and could not be undone */
	CUT_ETIMEOUT,		/* a deadline passed */
	CUT_EUSAGE,		/* bad argument or configuration */
	CUT_EUNKNOWN,		/* an LB did not answer: state unknown */
	CUT_ECLOSED,		/* connection closed while a request was pending */
	CUT_ECANCELED,		/* operation cancelled (shutdown, interrupt) */
	CUT_ECHANGED,		/* state changed by someone else meanwhile */
	CUT_EALREADY,		/* nothing to do: already in that state */
	CUT_EHOOK,		/* a hook exited non-zero or was killed */
	CUT_EPROBE,		/* a probe said unhealthy */
	CUT_ECAPACITY,		/* would go below the capacity floor */
	CUT_ELOCKED,		/* another run holds the lock */
	CUT_ELAST		/* keep last */
};

#define CUT_ERR_WHERE_MAX 96
#define CUT_ERR_MSG_MAX 512

struct cut_err {
	int code;
	char where[CUT_ERR_WHERE_MAX];	/* "lb=tcp:127.0.0.1:9999 srv=app/web2" */
	char msg[CUT_ERR_MSG_MAX];
};

/* Text for a code from this enum, a libuv code or -errno. Never NULL. */
const char *cut_strerror(int code);

/* Fill *err (ignored when err is NULL) and return code, so that error paths
 * read "return cut_err_set(err, CUT_EPROTO, where, "fmt", ...)". */
int cut_err_set(struct cut_err *err, int code, const char *where,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Prefix err->msg with more context ("while draining: ...") */
void cut_err_prefix(struct cut_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void cut_err_clear(struct cut_err *err);

#endif
