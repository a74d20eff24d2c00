/* log.h - levelled logging to stderr. The level is the one global setting
 * cutover keeps; LOG() checks it before formatting anything. Lines carry
 * key=value fields (lb=, srv=, state=) so they can be grepped. */
#ifndef CUT_LOG_H
#define CUT_LOG_H

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_COUNT	/* keep last */
};

extern enum log_level log_current_level;

void log_emit(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *log_level_name(enum log_level lvl);

#define LOG(lvl, ...)                                                     \
	do {                                                              \
		if ((lvl) <= log_current_level)                           \
			log_emit((lvl), __VA_ARGS__);                     \
	} while (0)

#define LOG_ERR(...) LOG(LOG_LVL_ERROR, __VA_ARGS__)
#define LOG_WARN(...) LOG(LOG_LVL_WARN, __VA_ARGS__)
#define LOG_INFO(...) LOG(LOG_LVL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
