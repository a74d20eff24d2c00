/* log.c - levelled logging to stderr with a wall-clock timestamp. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

enum log_level log_current_level = LOG_LVL_WARN;

static const char *const log_names[LOG_LVL_COUNT] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

const char *log_level_name(enum log_level lvl)
{
	return lvl < LOG_LVL_COUNT ? log_names[lvl] : "?";
}

void log_emit(enum log_level lvl, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld cutover %s: ",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000,
		     log_level_name(lvl));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
