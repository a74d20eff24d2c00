/* rtapi_cmd.c - building runtime-API command lines safely (see rtapi_cmd.h).
 *
 * HAProxy's CLI splits a line on spaces and tabs, runs ';'-separated
 * commands one after the other, and treats '\' as "take the next character
 * literally" (doc/management.txt §9.3). Escaping those four characters is
 * enough to keep any value one argument of one command. */
#include "rtapi_cmd.h"
#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool rtcmd_name_ok(const char *name)
{
	size_t n = 0;
	const char *p;

	if (name == NULL || *name == '\0')
		return false;
	for (p = name; *p != '\0'; p++, n++) {
		unsigned char ch = (unsigned char)*p;

		if (!(isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
		      ch == ':'))
			return false;
	}
	return n < STAT_NAME_MAX;
}

static void fail(struct rtcmd *c, int code, const char *what, const char *s)
{
	if (c->err != 0)
		return;
	c->err = code;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s '%.80s'", what, s);
}

static void put(struct rtcmd *c, const char *s, size_t n)
{
	if (c->err != 0)
		return;
	if (c->len + n >= sizeof(c->text)) {
		fail(c, CUT_ETOOBIG, "command line too long near", s);
		return;
	}
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

static void sep(struct rtcmd *c)
{
	if (c->len > 0)
		put(c, " ", 1);
}

void rtcmd_init(struct rtcmd *c)
{
	c->text[0] = '\0';
	c->len = 0;
	c->err = 0;
	c->errmsg[0] = '\0';
}

void rtcmd_word(struct rtcmd *c, const char *keyword)
{
	sep(c);
	put(c, keyword, strlen(keyword));
}

void rtcmd_name(struct rtcmd *c, const char *name)
{
	if (!rtcmd_name_ok(name)) {
		fail(c, CUT_EUSAGE, "invalid name", name ? name : "(null)");
		return;
	}
	sep(c);
	put(c, name, strlen(name));
}

void rtcmd_srv(struct rtcmd *c, const char *backend, const char *server)
{
	if (!rtcmd_name_ok(backend)) {
		fail(c, CUT_EUSAGE, "invalid backend name", backend);
		return;
	}
	if (!rtcmd_name_ok(server)) {
		fail(c, CUT_EUSAGE, "invalid server name", server);
		return;
	}
	sep(c);
	put(c, backend, strlen(backend));
	put(c, "/", 1);
	put(c, server, strlen(server));
}

void rtcmd_value(struct rtcmd *c, const char *value)
{
	const char *p;

	if (*value == '\0') {
		fail(c, CUT_EUSAGE, "empty value", value);
		return;
	}
	sep(c);
	for (p = value; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 && ch != '\t') {
			fail(c, CUT_EUSAGE, "control character in value", value);
			return;
		}
		if (ch == ';' || ch == '\\' || ch == ' ' || ch == '\t')
			put(c, "\\", 1);
		put(c, p, 1);
	}
}

void rtcmd_int(struct rtcmd *c, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	sep(c);
	put(c, tmp, (size_t)n);
}

int rtcmd_done(const struct rtcmd *c)
{
	return c->err;
}

int rtcmd_set_state(struct rtcmd *c, const char *be, const char *srv,
		    enum srv_admin state)
{
	rtcmd_init(c);
	rtcmd_word(c, "set server");
	rtcmd_srv(c, be, srv);
	rtcmd_word(c, "state");
	rtcmd_word(c, srv_admin_name(state));
	return rtcmd_done(c);
}

int rtcmd_set_weight(struct rtcmd *c, const char *be, const char *srv,
		     int weight, bool percent)
{
	char tmp[16];

	rtcmd_init(c);
	if (weight < 0 || weight > (percent ? 100 : 256)) {
		fail(c, CUT_EUSAGE, "weight out of range for", srv);
		return c->err;
	}
	snprintf(tmp, sizeof(tmp), "%d%s", weight, percent ? "%" : "");
	rtcmd_word(c, "set weight");
	rtcmd_srv(c, be, srv);
	rtcmd_word(c, tmp);
	return rtcmd_done(c);
}

int rtcmd_set_health(struct rtcmd *c, const char *be, const char *srv, bool up)
{
	rtcmd_init(c);
	rtcmd_word(c, "set server");
	rtcmd_srv(c, be, srv);
	rtcmd_word(c, up ? "health up" : "health down");
	return rtcmd_done(c);
}

int rtcmd_shutdown_session(struct rtcmd *c, const char *ptr)
{
	const char *p;

	rtcmd_init(c);
	if (ptr == NULL || strncmp(ptr, "0x", 2) != 0 || ptr[2] == '\0' ||
	    strlen(ptr) > 20) {
		fail(c, CUT_EUSAGE, "invalid session pointer", ptr ? ptr : "");
		return c->err;
	}
	for (p = ptr + 2; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p)) {
			fail(c, CUT_EUSAGE, "invalid session pointer", ptr);
			return c->err;
		}
	rtcmd_word(c, "shutdown session");
	rtcmd_word(c, ptr);
	return rtcmd_done(c);
}

int rtcmd_shutdown_sessions(struct rtcmd *c, const char *be, const char *srv)
{
	rtcmd_init(c);
	rtcmd_word(c, "shutdown sessions server");
	rtcmd_srv(c, be, srv);
	return rtcmd_done(c);
}

int rtcmd_get_map(struct rtcmd *c, const char *file, const char *key)
{
	rtcmd_init(c);
	rtcmd_word(c, "get map");
	rtcmd_value(c, file);
	rtcmd_value(c, key);
	return rtcmd_done(c);
}

int rtcmd_set_map(struct rtcmd *c, const char *file, const char *key,
		  const char *value)
{
	rtcmd_init(c);
	rtcmd_word(c, "set map");
	rtcmd_value(c, file);
	rtcmd_value(c, key);
	rtcmd_value(c, value);
	return rtcmd_done(c);
}

int rtcmd_show_stat(struct rtcmd *c, const char *be, long long sid)
{
	rtcmd_init(c);
	rtcmd_word(c, "show stat");
	if (be != NULL) {
		rtcmd_name(c, be);
		rtcmd_word(c, "4");
		rtcmd_int(c, sid < 0 ? -1 : sid);
	} else {
		rtcmd_word(c, "-1 4 -1");
	}
	return rtcmd_done(c);
}

int rtcmd_show_servers_state(struct rtcmd *c, const char *be)
{
	rtcmd_init(c);
	rtcmd_word(c, "show servers state");
	if (be != NULL)
		rtcmd_name(c, be);
	return rtcmd_done(c);
}
