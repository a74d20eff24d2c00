/* rtapi_cmd.h - the only place where HAProxy runtime-API command lines are
 * built. Keywords come from cutover's own code; names and values that come
 * from operators, plan files or HAProxy go through rtcmd_name() (checked
 * against HAProxy's own identifier charset) or rtcmd_value() (';', '\\',
 * spaces and tabs backslash-escaped, control characters refused). A line
 * never exceeds RTCMD_MAX: HAProxy 2.6 hangs for ever on a request line
 * longer than about 15 KB (HAPROXY.md §3.2). */
#ifndef CUT_RTAPI_CMD_H
#define CUT_RTAPI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stat.h"

#define RTCMD_MAX 12288

struct rtcmd {
	char text[RTCMD_MAX];	/* NUL-terminated, no trailing newline */
	size_t len;
	int err;		/* first error, sticky; 0 if none */
	char errmsg[160];
};

/* HAProxy identifiers: letters, digits, '-', '_', '.', ':'; 1..127 chars. */
bool rtcmd_name_ok(const char *name);

void rtcmd_init(struct rtcmd *c);
void rtcmd_word(struct rtcmd *c, const char *keyword);	/* trusted literal */
void rtcmd_name(struct rtcmd *c, const char *name);	/* checked identifier */
void rtcmd_srv(struct rtcmd *c, const char *backend, const char *server);
void rtcmd_value(struct rtcmd *c, const char *value);	/* escaped value */
void rtcmd_int(struct rtcmd *c, long long v);
/* 0, or the first error (CUT_EUSAGE bad name/value, CUT_ETOOBIG). */
int rtcmd_done(const struct rtcmd *c);

/* Ready-made commands; each returns rtcmd_done(c). */
int rtcmd_set_state(struct rtcmd *c, const char *be, const char *srv,
		    enum srv_admin state);
int rtcmd_set_weight(struct rtcmd *c, const char *be, const char *srv,
		     int weight, bool percent);
/* set server B/S health up|down */
int rtcmd_set_health(struct rtcmd *c, const char *be, const char *srv, bool up);
/* shutdown session 0x<hex> (a pointer from show sess) */
int rtcmd_shutdown_session(struct rtcmd *c, const char *ptr);
/* shutdown sessions server B/S */
int rtcmd_shutdown_sessions(struct rtcmd *c, const char *be, const char *srv);
/* get map FILE KEY / set map FILE KEY VALUE (file, key and value escaped) */
int rtcmd_get_map(struct rtcmd *c, const char *file, const char *key);
int rtcmd_set_map(struct rtcmd *c, const char *file, const char *key,
		  const char *value);
/* backend NULL: every proxy; sid < 0: every server. */
int rtcmd_show_stat(struct rtcmd *c, const char *be, long long sid);
int rtcmd_show_servers_state(struct rtcmd *c, const char *be);

#endif
