/* err.c - error texts and the non-allocating error record (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static const char *const cut_errtext[] = {
	[CUT_EPROTO - CUT_EBASE] = "unexpected reply from HAProxy",
	[CUT_ETOOBIG - CUT_EBASE] = "too large",
	[CUT_ENOBACKEND - CUT_EBASE] = "no such backend",
	[CUT_ENOSERVER - CUT_EBASE] = "no such server",
	[CUT_EPERM - CUT_EBASE] = "permission denied",
	[CUT_EREFUSED - CUT_EBASE] = "refused by HAProxy",
	[CUT_EPARTIAL - CUT_EBASE] = "applied on some load balancers only, undone",
	[CUT_EUNDO - CUT_EBASE] = "applied on some load balancers only, undo failed",
	[CUT_ETIMEOUT - CUT_EBASE] = "timed out",
	[CUT_EUSAGE - CUT_EBASE] = "invalid usage",
	[CUT_EUNKNOWN - CUT_EBASE] = "state unknown",
	[CUT_ECLOSED - CUT_EBASE] = "connection closed",
	[CUT_ECANCELED - CUT_EBASE] = "cancelled",
	[CUT_ECHANGED - CUT_EBASE] = "changed by someone else meanwhile",
	[CUT_EALREADY - CUT_EBASE] = "nothing to do",
	[CUT_EHOOK - CUT_EBASE] = "hook failed",
	[CUT_EPROBE - CUT_EBASE] = "probe failed",
	[CUT_ECAPACITY - CUT_EBASE] = "below the capacity floor",
	[CUT_ELOCKED - CUT_EBASE] = "another run holds the lock",
};

const char *cut_strerror(int code)
{
	if (code >= CUT_EBASE && code < CUT_ELAST)
		return cut_errtext[code - CUT_EBASE];
	if (code == 0)
		return "success";
	return uv_strerror(code);
}

int cut_err_set(struct cut_err *err, int code, const char *where,
		const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	if (fmt == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s", cut_strerror(code));
		return code;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void cut_err_prefix(struct cut_err *err, const char *fmt, ...)
{
	char pre[CUT_ERR_MSG_MAX];
	char old[CUT_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s%s", pre, old);
}

void cut_err_clear(struct cut_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->where[0] = '\0';
	err->msg[0] = '\0';
}
