/* stat.h - pure parsers for HAProxy 2.6 runtime-API replies.
 *
 * Every function here takes a reply as bytes (not necessarily
 * NUL-terminated; `len` is authoritative), never does I/O, never prints, and
 * either fills its output completely or returns an error and leaves the
 * output empty (freed). They are the only place in cutover that knows the
 * text formats of HAProxy's answers (see ../shared/HAPROXY.md §2, §3).
 *
 * Hostile input (truncated, oversized fields, missing or reordered columns,
 * garbage, embedded NULs) gives CUT_EPROTO with a message saying what was
 * wrong and on which line, never a crash or a half-filled result.
 */
#ifndef CUT_STAT_H
#define CUT_STAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STAT_NAME_MAX 128	/* backend/server names; longer = CUT_EPROTO */

/* Admin state as an operator thinks of it, from srv_admin_state bits or
 * the CSV status prefix. Maintenance wins over drain. */
enum srv_admin {
	SRV_ADMIN_READY = 0,
	SRV_ADMIN_DRAIN,
	SRV_ADMIN_MAINT,
	SRV_ADMIN_COUNT		/* keep last */
};

/* Operational state, srv_op_state of `show servers state`. */
enum srv_op {
	SRV_OP_DOWN = 0,	/* STOPPED */
	SRV_OP_STARTING,	/* up, in slowstart */
	SRV_OP_UP,		/* RUNNING */
	SRV_OP_STOPPING,	/* up, soft-stopping (NOLB) */
	SRV_OP_COUNT		/* keep last */
};

const char *srv_admin_name(enum srv_admin a);	/* "ready" "drain" "maint" */
const char *srv_op_name(enum srv_op o);		/* "down" "starting" "up" "stopping" */

/* srv_admin_state bits (HAPROXY.md §1.1) to the operator's view:
 * any of 0x01|0x02|0x04|0x20|0x40 -> MAINT, else 0x08|0x10 -> DRAIN. */
enum srv_admin stat_admin_from_bits(unsigned bits);

/* ---- show stat (CSV) ------------------------------------------------- */

/* One line of `show stat` of type server (type 2). Columns are located by
 * the header line, never by fixed position. A numeric column that is empty
 * in the reply is -1. Only server lines (type 2) are kept; FRONTEND,
 * BACKEND and listener lines are skipped. */
struct stat_row {
	char backend[STAT_NAME_MAX];	/* pxname */
	char server[STAT_NAME_MAX];	/* svname */
	int64_t iid, sid;		/* proxy and server numeric ids */
	int64_t qcur, scur, stot;
	int64_t econ, eresp, wretr, wredis;
	int64_t hrsp_5xx, cli_abrt, srv_abrt;
	int64_t chkfail, chkdown, lastchg;
	int64_t weight;		/* effective weight (column "weight") */
	int64_t uweight;	/* user weight; -1 if the column is absent */
	int64_t check_rise, check_fall, check_health;
	int64_t throttle;
	char status[32];	/* "UP", "DOWN 1/3", "DRAIN", "MAINT", "no check" ... */
	char check_status[24];	/* "L7OK", "L4CON", "" ...; leading "* " stripped */
	bool check_running;	/* check_status had the "* " prefix */
	char addr[80];		/* "127.0.0.1:18081", "" if absent */
};

struct stat_table {
	struct stat_row *rows;
	size_t n;
	bool sorted;		/* by (backend, server): see stat_table_sort() */
};

/* Parse the CSV reply of `show stat ...` (header line "# pxname,svname,..."
 * first, one line per object, an empty line or the end ends it). Required
 * columns: pxname svname qcur scur status weight type sid iid; any other
 * missing column reads as -1 / "". Quoted fields ("a,b") are understood.
 * A line with fewer fields than the header is CUT_EPROTO. An empty table
 * (header only) is valid. */
int stat_parse_csv(const char *text, size_t len, struct stat_table *out,
		   struct cut_err *err);
void stat_table_free(struct stat_table *t);
/* Sort the rows by (backend, server) so that stat_table_find() is a
 * binary search instead of a scan: status on 500 servers otherwise spends
 * its time in 250,000 strcmp() per LB. */
void stat_table_sort(struct stat_table *t);
/* First row with that backend and server, or NULL. */
const struct stat_row *stat_table_find(const struct stat_table *t,
				       const char *backend, const char *server);

/* The admin state as shown by the CSV status prefix ("MAINT", "MAINT(via)",
 * "MAINT(resolution)" -> MAINT; "DRAIN" -> DRAIN; else READY). */
enum srv_admin stat_admin_from_status(const char *status);
/* true for "UP", "UP 1/2", "NOLB", "DRAIN", "no check" (server would take
 * traffic if ready); false for "DOWN...", "MAINT...". */
bool stat_status_is_up(const char *status);
/* true if the status shows a transition under way ("UP 1/2", "DOWN 1/3"). */
bool stat_status_is_transitional(const char *status);

/* ---- show servers state ----------------------------------------------- */

struct srvstate_row {
	int64_t be_id;
	char be_name[STAT_NAME_MAX];
	int64_t srv_id;
	char srv_name[STAT_NAME_MAX];
	char addr[64];
	enum srv_op op_state;
	unsigned admin_bits;
	enum srv_admin admin;		/* from admin_bits */
	int64_t uweight, iweight;
	int64_t time_since_change;
	int64_t check_status, check_result, check_health;
	unsigned check_state, agent_state;
	int64_t port;
};

struct srvstate_table {
	struct srvstate_row *rows;
	size_t n;
};

/* Parse `show servers state [<backend>]`: a first line "1" (format
 * version; any other version is CUT_EPROTO), a "# be_id be_name ..." header,
 * then space-separated rows, then an empty line or the end. Columns are
 * located by the header. An out-of-range op state or a non-numeric numeric
 * field is CUT_EPROTO. */
int stat_parse_servers_state(const char *text, size_t len,
			     struct srvstate_table *out, struct cut_err *err);
void srvstate_table_free(struct srvstate_table *t);
const struct srvstate_row *srvstate_find(const struct srvstate_table *t,
					 const char *backend,
					 const char *server);

/* ---- show info -------------------------------------------------------- */

struct haproxy_info {
	int64_t pid;
	int64_t uptime_sec;
	int64_t start_time_sec;	/* -1 if absent */
	int64_t stopping;	/* 0 or 1, -1 if absent */
	int64_t nbthread;
	int64_t curr_conns;
	char version[48];
	char node[64];		/* "node" field, "" if absent */
};

/* Parse `show info` ("Name: value" lines). Pid, Uptime_sec and Version are
 * required; the rest default to -1 / "". */
int stat_parse_info(const char *text, size_t len, struct haproxy_info *out,
		    struct cut_err *err);

/* ---- errors and messages ---------------------------------------------- */

/* Classification of one command's reply, with `set severity-output number`
 * in force on the connection (HAPROXY.md §3.1, §3.3). */
enum reply_kind {
	REPLY_OK = 0,		/* empty reply: silent success */
	REPLY_OUTPUT,		/* data without severity prefix (show stat ...) */
	REPLY_INFO,		/* "[4]:".."[7]:" prefixed message */
	REPLY_ERROR,		/* "[0]:".."[3]:" prefixed message */
	REPLY_KIND_COUNT	/* keep last */
};

/* What an error reply means, when HAProxy's exact text is known. */
enum reply_error {
	REPLY_ERR_NONE = 0,
	REPLY_ERR_NO_BACKEND,	/* "No such backend." "Can't find backend." "No such proxy." */
	REPLY_ERR_NO_SERVER,	/* "No such server." */
	REPLY_ERR_PERMISSION,	/* "Permission denied" */
	REPLY_ERR_UNKNOWN_CMD,	/* "Unknown command..." (HAProxy tags it [6]!) */
	REPLY_ERR_NO_SESSION,	/* "No such session (use 'show sess')." */
	REPLY_ERR_OTHER,	/* any other error message */
	REPLY_ERR_COUNT		/* keep last */
};

struct reply_class {
	enum reply_kind kind;
	enum reply_error error;
	int severity;		/* 0..7, -1 without prefix */
	char msg[256];		/* message without prefix, first line, trimmed */
};

/* Classify a reply (everything before the prompt, may be empty). An
 * "Unknown command" reply is REPLY_ERROR whatever its severity tag. */
void stat_classify_reply(const char *text, size_t len, struct reply_class *out);

/* Parse `show cli level` output ("admin", "operator", "user", possibly
 * "[6]: "-prefixed). Returns 0 and sets *level to 2 admin, 1 operator,
 * 0 user; CUT_EPROTO otherwise. */
int stat_parse_cli_level(const char *text, size_t len, int *level);

/* ==== sessions and maps: show sess, show map, get map ================== */
/*
 * Parsers for the replies used to shed long-lived sessions and to switch
 * blue/green through a map (HAPROXY.md §4.1, §5), in src/stat_sess.c. Same
 * contract as above (pure, `len` authoritative, all or nothing, CUT_EPROTO
 * naming the line), with one addition: HAProxy ends every line with '\n',
 * so a reply whose last line has none is taken as truncated (CUT_EPROTO).
 * An error message instead of data (e.g. "Permission denied", "[3]: Unknown
 * map identifier...") is CUT_EPROTO too: classify a reply with
 * stat_classify_reply() first to tell them apart.
 */

#define SESS_PTR_MAX 24		/* "0x55f08fd21b10" + NUL */
#define MAP_FILE_MAX 512	/* map file path; longer = CUT_EPROTO */
#define MAP_KEY_MAX 256		/* map key or value; longer = CUT_EPROTO */

/* ---- show sess -------------------------------------------------------- */

/* One line of `show sess` (operator level and up), i.e. one stream:
 * "0x55f08fd21b10: proto=tcpv4 src=127.0.0.1:39026 fe=fe_tcp be=be_tcp
 * srv=t1 ts=00 epoch=0 age=7s calls=3 ...". Only the fields below are kept;
 * the others are skipped whatever they hold. */
struct sess_row {
	char ptr[SESS_PTR_MAX];	/* "0x55f08fd21b10", for `shutdown session` */
	char proto[16];		/* "tcpv4", "tcpv6", "unix_stream" */
	char src[64];		/* "127.0.0.1:39026", "::1:34802", "unix:1", "?" */
	char fe[STAT_NAME_MAX];	/* "fe_tcp"; "GLOBAL" for a CLI session */
	char be[STAT_NAME_MAX];	/* "be_tcp"; "<NONE>" if none chosen yet */
	char srv[STAT_NAME_MAX];/* "t1"; "<none>" if none chosen yet */
	/* Seconds since the stream was accepted, -1 for HAProxy's "?". HAProxy
	 * prints at most two units ("59s", "1m", "1m1s", "1h5m", "2d3h"), so
	 * past an hour this is rounded down: a lower bound, off by up to 59 s
	 * (hours) or 59 min 59 s (days). */
	int64_t age_sec;
};

struct sess_table {
	struct sess_row *rows;	/* in HAProxy's order (not sorted) */
	size_t n;
};

/* Parse `show sess`: one line per stream up to an empty line or the end.
 * Each line must start with "0x<hex>: " and hold non-empty proto= src= fe=
 * be= srv= age= and calls= fields (once each, in any order; the calls=
 * that follows age= makes a line cut after the age detectable). An empty
 * reply is CUT_EPROTO: HAProxy always lists at least the CLI session that
 * asked, so no line means a broken reply, never "no sessions". Linear in
 * `len`; thousands of lines are fine. */
int stat_parse_sess(const char *text, size_t len, struct sess_table *out,
		    struct cut_err *err);
void sess_table_free(struct sess_table *t);

/* true if r is a stream of that backend and, unless server is NULL, of
 * that server. The placeholders "<NONE>"/"<none>" (no backend or server
 * chosen yet, CLI sessions) never match, even if passed as names. */
bool sess_row_is(const struct sess_row *r, const char *backend,
		 const char *server);
/* Iterate over the streams of backend[/server] (as sess_row_is()):
 *	size_t i = 0;
 *	while ((r = sess_table_next(t, "be_tcp", "t1", &i)) != NULL) ...
 * *pos starts at 0 and is advanced past the row returned; NULL at the end.
 * Rows are borrowed from t. */
const struct sess_row *sess_table_next(const struct sess_table *t,
				       const char *backend, const char *server,
				       size_t *pos);
/* Number of streams of backend[/server]. */
size_t sess_table_count(const struct sess_table *t, const char *backend,
			const char *server);

/* HAProxy's human_time() text to seconds: one to four of "<n>d", "<n>h",
 * "<n>m", "<n>s" in that order (each unit after the first in its range:
 * h < 24, m < 60, s < 60), or "?" (-1). Returns 0 or CUT_EPROTO. */
int stat_parse_age(const char *s, size_t n, int64_t *sec);

/* ---- show map, show map <map>, get map --------------------------------- */

/* One line of `show map`: "6 (/etc/haproxy/bg.map) pattern loaded from
 * file '...' used by map at file 'haproxy.cfg' line 32. curr_ver=0
 * next_ver=0 entry_cnt=1". */
struct map_info {
	int64_t id;			/* for "#<id>" */
	char file[MAP_FILE_MAX];	/* the text between "(" and the first ") " */
	int64_t curr_ver, next_ver;	/* -1 if absent */
	/* HAProxy's entry_cnt, -1 if absent. Not the number of entries: it
	 * counts those of a prepared version too, and on 2.6.12 a 2-entry
	 * file used by two map converters showed 4. */
	int64_t entry_cnt;
};

struct map_list {
	struct map_info *maps;	/* in HAProxy's order (by id, not by file) */
	size_t n;
};

/* Parse `show map`: a "# id (file) description" header, then one line per
 * map up to an empty line or the end. A header alone is a valid empty
 * list. */
int stat_parse_map_list(const char *text, size_t len, struct map_list *out,
			struct cut_err *err);
void map_list_free(struct map_list *l);
/* The map with that file name, or NULL. */
const struct map_info *map_list_find(const struct map_list *l,
				     const char *file);

/* One line of `show map <map>` (or `show map @<ver> <map>`):
 * "0x55f08fc6d770 active be_green". */
struct map_entry {
	char ref[SESS_PTR_MAX];	/* "0x55f08fc6d770", for "#<ref>" */
	char key[MAP_KEY_MAX];	/* up to the first space after the ref */
	char value[MAP_KEY_MAX];/* the rest of the line, spaces included */
};

struct map_entries {
	struct map_entry *entries;	/* in HAProxy's (insertion) order */
	size_t n;
};

/* Parse `show map <map>`: one "<0xref> <key> <value>" line per entry up to
 * an empty line or the end. An empty map answers only "\n" (or "" once the
 * prompt is stripped): that is a valid empty list. HAProxy prints keys
 * unescaped, so a key with a space in it (added as "a\ b") cannot be told
 * apart from a value with one: it is read as key "a", value "b ...". */
int stat_parse_map_entries(const char *text, size_t len,
			   struct map_entries *out, struct cut_err *err);
void map_entries_free(struct map_entries *e);
/* The first entry with that key (HAProxy matches the first one too when a
 * key was added twice), or NULL. */
const struct map_entry *map_entries_find(const struct map_entries *e,
					 const char *key);

/* Reply of `get map <map> <key>`: one line per pattern expression that uses
 * the map (a file used by map() and map_beg() answers two lines):
 *	type=str, case=sensitive, found=yes, idx=tree, key="active",
 *	value="be_blue", type="str"
 *	type=str, case=sensitive, found=no
 */
struct map_lookup {
	bool found;		/* some line said found=yes */
	size_t nexpr;		/* lines in the reply (>= 1) */
	char match[16];		/* match type of the line used: "str", "beg" */
	bool icase;		/* case=insensitive on that line */
	/* From the first found=yes line; "" when not found. The quoted
	 * texts are not escaped by HAProxy: the key ends at the first
	 * `", value="` and the value at the last `", type="`. */
	char key[MAP_KEY_MAX];
	char value[MAP_KEY_MAX];
	char smp_type[16];	/* sample type of the value: "str", "" if none */
};

/* Parse `get map`. On error *out reads "not found". */
int stat_parse_map_get(const char *text, size_t len, struct map_lookup *out,
		       struct cut_err *err);

/* ==== master CLI: show proc ============================================= */

/* One worker of `show proc` on the master CLI (HAPROXY.md §3.5): the
 * current ones under "# workers", the soft-stopping ones, which still hold
 * their established sessions after a reload, under "# old workers".
 * Parsed in src/stat_proc.c. */
struct proc_worker {
	int64_t pid;
	bool old;		/* listed under "# old workers" */
};

#define PROC_WORKERS_MAX 256

struct proc_list {
	int64_t master_pid;	/* -1 if the master line was missing */
	size_t n;
	struct proc_worker w[PROC_WORKERS_MAX];
};

/* Parse a `show proc` reply. Needs the "#<PID>" header line; tolerates the
 * "[failed: N]" part of the reloads column, "# programs" and sections it
 * does not know (their lines are skipped). A worker line that does not
 * start with a pid and the word "worker", more than PROC_WORKERS_MAX
 * workers, or no header give CUT_EPROTO with *out emptied. Pure. */
int stat_parse_proc(const char *text, size_t len, struct proc_list *out,
		    struct cut_err *err);

#endif
