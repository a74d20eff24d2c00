/* stat.c - pure parsers for HAProxy 2.6 runtime-API replies: `show stat`
 * (CSV), `show servers state`, `show info`, severity-tagged messages and
 * `show cli level` (see stat.h and ../shared/HAPROXY.md §2, §3).
 *
 * DESIGN: a reply is walked line by line and `len` is authoritative: the
 * text need not be NUL-terminated, and a NUL inside it is CUT_EPROTO.
 * Tabular replies are header-driven. A column table (struct col_def) names
 * each wanted column and where it goes in the row struct; the header line
 * maps those names to positions, and every row is stored through that
 * table. A parse either completes, or frees everything, leaves the output
 * empty and names the line and the fault in err->msg. No I/O, no printing.
 */
#include "stat.h"
#include "stat_int.h"
#include "strutil.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define COLS_MAX 1024		/* wider headers are CUT_EPROTO */
#define STAT_TYPE_SERVER 2	/* "type" value of a server line */
#define SCRATCH_MAX 256		/* an unescaped quoted value */
#define COLDEFS_MAX 32		/* columns one row struct takes */

#define ADMF_MAINT_MASK 0x67u	/* FMAINT IMAINT CMAINT RMAINT HMAINT */
#define ADMF_DRAIN_MASK 0x18u	/* FDRAIN IDRAIN */

/* ---- names ---------------------------------------------------------- */

static const char *const srv_admin_names[SRV_ADMIN_COUNT] = {
	[SRV_ADMIN_READY] = "ready",
	[SRV_ADMIN_DRAIN] = "drain",
	[SRV_ADMIN_MAINT] = "maint",
};

static const char *const srv_op_names[SRV_OP_COUNT] = {
	[SRV_OP_DOWN] = "down",
	[SRV_OP_STARTING] = "starting",
	[SRV_OP_UP] = "up",
	[SRV_OP_STOPPING] = "stopping",
};

const char *srv_admin_name(enum srv_admin a)
{
	return (unsigned)a < SRV_ADMIN_COUNT ? srv_admin_names[a] : "?";
}

const char *srv_op_name(enum srv_op o)
{
	return (unsigned)o < SRV_OP_COUNT ? srv_op_names[o] : "?";
}

enum srv_admin stat_admin_from_bits(unsigned bits)
{
	if (bits & ADMF_MAINT_MASK)
		return SRV_ADMIN_MAINT;
	if (bits & ADMF_DRAIN_MASK)
		return SRV_ADMIN_DRAIN;
	return SRV_ADMIN_READY;
}

/* ---- parse context, lines, error messages --------------------------- */

/* A parse under way: the reply, the cursor and where errors go. */
/* Set err to CUT_EPROTO with "<what> line <n>: <message>". */
int stat_perr(const struct stat_pctx *pc, const char *fmt, ...)
{
	char msg[CUT_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cut_err_set(pc->err, CUT_EPROTO, NULL, "%s line %zu: %s",
			   pc->what, pc->lineno, msg);
}

int stat_enomem(const struct stat_pctx *pc)
{
	return cut_err_set(pc->err, UV_ENOMEM, NULL, "%s: out of memory",
			   pc->what);
}

/* A printable, bounded copy of outside text for an error message. */
const char *stat_show(char *out, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < STAT_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
	return out;
}

/* Start at the top of text; a NUL anywhere is CUT_EPROTO (HAProxy never
 * sends one: it means a broken or hostile peer). */
int stat_pctx_start(struct stat_pctx *pc, const char *text, size_t len)
{
	const char *z;

	if (text == NULL)
		len = 0;
	pc->p = len > 0 ? text : "";
	pc->end = pc->p + len;
	pc->lineno = 0;
	z = memchr(pc->p, '\0', len);
	if (z == NULL)
		return 0;
	for (pc->lineno = 1; text < z; text++)
		if (*text == '\n')
			pc->lineno++;
	return stat_perr(pc, "NUL byte at offset %zu", (size_t)(z - pc->p));
}

/* The next line, without its '\n' (nor a '\r' before it). False at the end
 * of the text. A last line without '\n' still counts. */
static bool next_line(struct stat_pctx *pc, const char **line, size_t *n)
{
	const char *nl;

	if (pc->p >= pc->end)
		return false;
	nl = memchr(pc->p, '\n', (size_t)(pc->end - pc->p));
	*line = pc->p;
	*n = nl != NULL ? (size_t)(nl - pc->p) : (size_t)(pc->end - pc->p);
	pc->p = nl != NULL ? nl + 1 : pc->end;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	pc->lineno++;
	return true;
}

/* ---- fields --------------------------------------------------------- */

struct field {
	const char *p;	/* raw bytes, inside the quotes if quoted */
	size_t n;
	bool quoted;	/* p may hold "" escapes */
};

enum split_rc {
	SPLIT_OK = 0,
	SPLIT_BADQUOTE = -1,	/* unterminated quote or text after it */
	SPLIT_TOOMANY = -2,	/* more than max fields */
};

/* One quoted field starting at s[i] == '"'. Returns the index just past
 * the closing quote, or 0 if there is none. */
static size_t split_quoted(const char *s, size_t n, size_t i, struct field *fl)
{
	size_t j = i + 1;

	while (j < n) {
		if (s[j] == '"' && j + 1 < n && s[j + 1] == '"') {
			j += 2;
			continue;
		}
		if (s[j] == '"')
			break;
		j++;
	}
	if (j >= n)
		return 0;
	fl->p = s + i + 1;
	fl->n = j - i - 1;
	fl->quoted = true;
	return j + 1;
}

/* Split a line on sep into at most max fields: "a,b," is three. With csv,
 * a field may be quoted ("a,""b""" is a,"b"). */
static enum split_rc split(const char *s, size_t n, char sep, bool csv,
			   struct field *f, size_t max, size_t *count)
{
	size_t i = 0, k = 0;

	for (;;) {
		struct field fl = { .p = s + i, .n = 0, .quoted = false };

		if (csv && i < n && s[i] == '"') {
			i = split_quoted(s, n, i, &fl);
			if (i == 0 || (i < n && s[i] != sep))
				return SPLIT_BADQUOTE;
		} else {
			const char *c = memchr(s + i, sep, n - i);
			size_t e = c != NULL ? (size_t)(c - s) : n;

			fl.n = e - i;
			i = e;
		}
		if (k == max)
			return SPLIT_TOOMANY;
		f[k++] = fl;
		if (i >= n)
			break;
		i++;	/* the separator */
	}
	*count = k;
	return SPLIT_OK;
}

/* The value of a field: an unquoted one points into the line, a quoted one
 * is unescaped into scratch. False if the unescaped value does not fit. */
static bool field_value(const struct field *f, char *scratch, size_t sz,
			const char **v, size_t *n)
{
	size_t i, j = 0;

	if (!f->quoted) {
		*v = f->p;
		*n = f->n;
		return true;
	}
	for (i = 0; i < f->n; i++) {
		if (j + 1 >= sz)
			return false;
		scratch[j++] = f->p[i];
		if (f->p[i] == '"')
			i++;	/* "" is one quote */
	}
	scratch[j] = '\0';
	*v = scratch;
	*n = j;
	return true;
}

static bool field_is(const struct field *f, const char *name)
{
	size_t n = strlen(name);

	return !f->quoted && f->n == n && memcmp(f->p, name, n) == 0;
}

/* A decimal integer from outside text; false unless it is all number. */
static bool parse_num(const char *v, size_t n, long *out)
{
	char num[24];

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, v, n);
	num[n] = '\0';
	return str_parse_long(num, LONG_MIN, LONG_MAX, out) == 0;
}

/* ---- column tables -------------------------------------------------- */

enum col_kind {
	COL_INT = 0,	/* int64_t; an absent column reads -1 */
	COL_UINT,	/* unsigned, 0..UINT_MAX; absent reads 0 */
	COL_STR,	/* char[size]; a value that does not fit is an error */
	COL_OP,		/* enum srv_op, 0..SRV_OP_COUNT-1 */
	COL_TYPE,	/* show stat "type": selects lines, stored nowhere */
};

struct col_def {
	const char *name;	/* header name */
	enum col_kind kind;
	size_t off;		/* offset of the member in the row struct */
	size_t size;		/* size of that member */
	bool required;		/* a header without it is CUT_EPROTO */
};

#define COL(st, nm, kd, member, req)					\
	{ .name = (nm), .kind = (kd), .off = offsetof(struct st, member),\
	  .size = sizeof(((struct st *)NULL)->member), .required = (req) }
#define NCOLS(tab) (sizeof(tab) / sizeof((tab)[0]))

static const struct col_def stat_cols[] = {
	COL(stat_row, "pxname", COL_STR, backend, true),
	COL(stat_row, "svname", COL_STR, server, true),
	COL(stat_row, "iid", COL_INT, iid, true),
	COL(stat_row, "sid", COL_INT, sid, true),
	COL(stat_row, "qcur", COL_INT, qcur, true),
	COL(stat_row, "scur", COL_INT, scur, true),
	COL(stat_row, "stot", COL_INT, stot, false),
	COL(stat_row, "econ", COL_INT, econ, false),
	COL(stat_row, "eresp", COL_INT, eresp, false),
	COL(stat_row, "wretr", COL_INT, wretr, false),
	COL(stat_row, "wredis", COL_INT, wredis, false),
	COL(stat_row, "hrsp_5xx", COL_INT, hrsp_5xx, false),
	COL(stat_row, "cli_abrt", COL_INT, cli_abrt, false),
	COL(stat_row, "srv_abrt", COL_INT, srv_abrt, false),
	COL(stat_row, "chkfail", COL_INT, chkfail, false),
	COL(stat_row, "chkdown", COL_INT, chkdown, false),
	COL(stat_row, "lastchg", COL_INT, lastchg, false),
	COL(stat_row, "weight", COL_INT, weight, true),
	COL(stat_row, "uweight", COL_INT, uweight, false),
	COL(stat_row, "check_rise", COL_INT, check_rise, false),
	COL(stat_row, "check_fall", COL_INT, check_fall, false),
	COL(stat_row, "check_health", COL_INT, check_health, false),
	COL(stat_row, "throttle", COL_INT, throttle, false),
	COL(stat_row, "status", COL_STR, status, true),
	COL(stat_row, "check_status", COL_STR, check_status, false),
	COL(stat_row, "addr", COL_STR, addr, false),
	{ .name = "type", .kind = COL_TYPE, .required = true },
};

static const struct col_def srvstate_cols[] = {
	COL(srvstate_row, "be_id", COL_INT, be_id, true),
	COL(srvstate_row, "be_name", COL_STR, be_name, true),
	COL(srvstate_row, "srv_id", COL_INT, srv_id, true),
	COL(srvstate_row, "srv_name", COL_STR, srv_name, true),
	COL(srvstate_row, "srv_addr", COL_STR, addr, false),
	COL(srvstate_row, "srv_op_state", COL_OP, op_state, true),
	COL(srvstate_row, "srv_admin_state", COL_UINT, admin_bits, true),
	COL(srvstate_row, "srv_uweight", COL_INT, uweight, true),
	COL(srvstate_row, "srv_iweight", COL_INT, iweight, true),
	COL(srvstate_row, "srv_time_since_last_change", COL_INT,
	    time_since_change, false),
	COL(srvstate_row, "srv_check_status", COL_INT, check_status, false),
	COL(srvstate_row, "srv_check_result", COL_INT, check_result, false),
	COL(srvstate_row, "srv_check_health", COL_INT, check_health, false),
	COL(srvstate_row, "srv_check_state", COL_UINT, check_state, false),
	COL(srvstate_row, "srv_agent_state", COL_UINT, agent_state, false),
	COL(srvstate_row, "srv_port", COL_INT, port, false),
};

static const struct col_def info_cols[] = {
	COL(haproxy_info, "Pid", COL_INT, pid, true),
	COL(haproxy_info, "Uptime_sec", COL_INT, uptime_sec, true),
	COL(haproxy_info, "Version", COL_STR, version, true),
	COL(haproxy_info, "Start_time_sec", COL_INT, start_time_sec, false),
	COL(haproxy_info, "Stopping", COL_INT, stopping, false),
	COL(haproxy_info, "Nbthread", COL_INT, nbthread, false),
	COL(haproxy_info, "CurrConns", COL_INT, curr_conns, false),
	COL(haproxy_info, "node", COL_STR, node, false),
};

_Static_assert(NCOLS(stat_cols) <= COLDEFS_MAX &&
	       NCOLS(srvstate_cols) <= COLDEFS_MAX,
	       "raise COLDEFS_MAX");

/* Zero obj, then -1 in every COL_INT member: what absent columns read. */
static void set_defaults(const struct col_def *defs, size_t ndefs, void *obj,
			 size_t objsize)
{
	const int64_t absent = -1;
	size_t d;

	memset(obj, 0, objsize);
	for (d = 0; d < ndefs; d++)
		if (defs[d].kind == COL_INT)
			memcpy((char *)obj + defs[d].off, &absent,
			       sizeof(absent));
}

/* Store one value into its member of obj, checking kind and range. */
static int col_store(const struct col_def *d, void *obj, const char *v,
		     size_t n, const struct stat_pctx *pc)
{
	char *dst = (char *)obj + d->off;
	char shown[STAT_SHOW_MAX];
	long l;

	if (d->kind == COL_TYPE)
		return 0;
	if (d->kind == COL_STR) {
		if (!str_copy(dst, d->size, v, n))
			return stat_perr(pc, "column \"%s\" too long (%zu bytes, "
				    "max %zu)", d->name, n, d->size - 1);
		return 0;
	}
	if (n == 0 && d->kind == COL_INT && pc->empty_is_absent)
		return 0;	/* stays -1 */
	if (!parse_num(v, n, &l))
		return stat_perr(pc, "column \"%s\": \"%s\" is not a number",
			    d->name, stat_show(shown, v, n));
	if (d->kind == COL_INT) {
		int64_t x = l;

		memcpy(dst, &x, sizeof(x));
	} else if (d->kind == COL_UINT) {
		unsigned u;

		if (l < 0 || (unsigned long)l > UINT_MAX)
			return stat_perr(pc, "column \"%s\": %ld out of range",
				    d->name, l);
		u = (unsigned)l;
		memcpy(dst, &u, sizeof(u));
	} else {
		enum srv_op o;

		if (l < 0 || l >= SRV_OP_COUNT)
			return stat_perr(pc, "column \"%s\": op state %ld not in "
				    "0..%d", d->name, l, SRV_OP_COUNT - 1);
		o = (enum srv_op)l;
		memcpy(dst, &o, sizeof(o));
	}
	return 0;
}

/* Find each wanted column among the header names (first match wins). */
static int map_columns(const struct col_def *defs, size_t ndefs,
		       const struct field *names, size_t nnames, size_t *idx,
		       const struct stat_pctx *pc)
{
	size_t d, i;

	for (d = 0; d < ndefs; d++) {
		idx[d] = SIZE_MAX;
		for (i = 0; i < nnames && idx[d] == SIZE_MAX; i++)
			if (field_is(&names[i], defs[d].name))
				idx[d] = i;
		if (idx[d] == SIZE_MAX && defs[d].required)
			return stat_perr(pc, "missing column \"%s\" in header",
				    defs[d].name);
	}
	return 0;
}

/* Store every mapped column of one split line into obj. */
static int store_row(const struct col_def *defs, size_t ndefs,
		     const size_t *idx, const struct field *f, void *obj,
		     const struct stat_pctx *pc)
{
	char scratch[SCRATCH_MAX];
	const char *v;
	size_t d, n;
	int rc;

	for (d = 0; d < ndefs; d++) {
		if (idx[d] == SIZE_MAX)
			continue;
		if (!field_value(&f[idx[d]], scratch, sizeof(scratch), &v, &n))
			return stat_perr(pc, "column \"%s\" too long", defs[d].name);
		rc = col_store(&defs[d], obj, v, n, pc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Room for one more element in a growing array; NULL when out of memory
 * (the old array is then still the caller's). */
void *stat_grow(void *rows, size_t n, size_t *cap, size_t elsize)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return rows;
	ncap = *cap != 0 ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / elsize)
		return NULL;
	p = realloc(rows, ncap * elsize);
	if (p == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

/* ---- header-driven tables ------------------------------------------- */

struct tab_ctx;

/* What differs between `show stat` and `show servers state`. */
struct tab_spec {
	const char *what;
	const char *version;	/* the line before the header, or NULL */
	const struct col_def *defs;
	size_t ndefs;
	size_t elsize;		/* row struct size */
	bool csv;		/* CSV with quotes, else one space apart */
	bool empty_is_absent;
	/* Whether a split line makes a row (show stat: servers only). */
	int (*select)(const struct tab_ctx *cx, bool *keep);
	/* Derived fields and checks on a stored row. */
	int (*finish)(void *row, const struct stat_pctx *pc);
};

struct tab_ctx {
	const struct tab_spec *spec;
	struct stat_pctx pc;
	struct field *f;	/* COLS_MAX slots */
	size_t ncols;		/* header fields (+1 empty in 2.6 CSV) */
	size_t idx[COLDEFS_MAX];
	void *rows;
	size_t n, cap;
};

static enum split_rc tab_split(const struct tab_ctx *cx, const char *s,
			       size_t n, size_t max, size_t *count)
{
	bool csv = cx->spec->csv;

	return split(s, n, csv ? ',' : ' ', csv, cx->f, max, count);
}

static int tab_header(struct tab_ctx *cx)
{
	const struct tab_spec *sp = cx->spec;
	char shown[STAT_SHOW_MAX];
	const char *line;
	size_t n;

	if (!next_line(&cx->pc, &line, &n)) {
		cx->pc.lineno = 1;
		return stat_perr(&cx->pc, "empty reply");
	}
	if (sp->version != NULL) {
		if (n != strlen(sp->version) || memcmp(line, sp->version, n))
			return stat_perr(&cx->pc, "format version \"%s\", expected "
				    "\"%s\"", stat_show(shown, line, n),
				    sp->version);
		if (!next_line(&cx->pc, &line, &n))
			return stat_perr(&cx->pc, "reply ends before the header");
	}
	if (n < 2 || memcmp(line, "# ", 2) != 0)
		return stat_perr(&cx->pc, "expected a \"# %s...\" header, got "
			    "\"%s\"", sp->defs[0].name, stat_show(shown, line, n));
	if (tab_split(cx, line + 2, n - 2, COLS_MAX, &cx->ncols) != SPLIT_OK)
		return stat_perr(&cx->pc, "bad header (a quote, or more than %d "
			    "columns)", COLS_MAX);
	return map_columns(sp->defs, sp->ndefs, cx->f, cx->ncols, cx->idx,
			   &cx->pc);
}

static int tab_row(struct tab_ctx *cx, const char *line, size_t n)
{
	const struct tab_spec *sp = cx->spec;
	bool keep = true;
	size_t cnt;
	void *row;
	int rc;

	rc = tab_split(cx, line, n, cx->ncols, &cnt);
	if (rc == SPLIT_BADQUOTE)
		return stat_perr(&cx->pc, "unterminated or misplaced quote");
	if (rc == SPLIT_TOOMANY)
		return stat_perr(&cx->pc, "more than %zu fields, header has %zu",
			    cx->ncols, cx->ncols);
	if (cnt != cx->ncols)
		return stat_perr(&cx->pc, "%zu fields, header has %zu", cnt,
			    cx->ncols);
	rc = sp->select != NULL ? sp->select(cx, &keep) : 0;
	if (rc != 0 || !keep)
		return rc;
	row = stat_grow(cx->rows, cx->n, &cx->cap, sp->elsize);
	if (row == NULL)
		return stat_enomem(&cx->pc);
	cx->rows = row;
	row = (char *)cx->rows + cx->n++ * sp->elsize;
	set_defaults(sp->defs, sp->ndefs, row, sp->elsize);
	rc = store_row(sp->defs, sp->ndefs, cx->idx, cx->f, row, &cx->pc);
	if (rc == 0 && sp->finish != NULL)
		rc = sp->finish(row, &cx->pc);
	return rc;
}

/* Header, then rows up to an empty line or the end. On error the rows are
 * freed and *rows is NULL. */
static int tab_parse(const struct tab_spec *sp, const char *text, size_t len,
		     struct cut_err *err, void **rows, size_t *n)
{
	struct tab_ctx cx = { .spec = sp, .pc = { .what = sp->what,
		.empty_is_absent = sp->empty_is_absent, .err = err } };
	const char *line;
	size_t ln;
	int rc;

	*rows = NULL;
	*n = 0;
	rc = stat_pctx_start(&cx.pc, text, len);
	if (rc != 0)
		return rc;
	cx.f = malloc(COLS_MAX * sizeof(*cx.f));
	if (cx.f == NULL)
		return stat_enomem(&cx.pc);
	rc = tab_header(&cx);
	while (rc == 0 && next_line(&cx.pc, &line, &ln) && ln > 0)
		rc = tab_row(&cx, line, ln);
	free(cx.f);
	if (rc != 0) {
		free(cx.rows);
		return rc;
	}
	*rows = cx.rows;
	*n = cx.n;
	return 0;
}

/* ---- show stat ------------------------------------------------------ */

/* Keep server lines only: "type" 0 FE, 1 BE, 2 server, 3 listener. */
static int stat_select(const struct tab_ctx *cx, bool *keep)
{
	char shown[STAT_SHOW_MAX];
	const struct field *f;
	size_t d;
	long type;

	for (d = 0; stat_cols[d].kind != COL_TYPE; d++)
		;
	f = &cx->f[cx->idx[d]];
	if (f->quoted || !parse_num(f->p, f->n, &type))
		return stat_perr(&cx->pc, "column \"type\": \"%s\" is not a number",
			    stat_show(shown, f->p, f->n));
	*keep = type == STAT_TYPE_SERVER;
	return 0;
}

/* "* L7OK" while a check runs: keep "L7OK" and say it is running. */
static int stat_finish(void *row, const struct stat_pctx *pc)
{
	struct stat_row *r = row;
	size_t n;

	if (r->backend[0] == '\0' || r->server[0] == '\0')
		return stat_perr(pc, "empty pxname or svname");
	if (strncmp(r->check_status, "* ", 2) != 0)
		return 0;
	n = strlen(r->check_status + 2);
	memmove(r->check_status, r->check_status + 2, n + 1);
	r->check_running = true;
	return 0;
}

static const struct tab_spec stat_spec = {
	.what = "show stat",
	.defs = stat_cols,
	.ndefs = NCOLS(stat_cols),
	.elsize = sizeof(struct stat_row),
	.csv = true,
	.empty_is_absent = true,
	.select = stat_select,
	.finish = stat_finish,
};

int stat_parse_csv(const char *text, size_t len, struct stat_table *out,
		   struct cut_err *err)
{
	void *rows;
	int rc;

	rc = tab_parse(&stat_spec, text, len, err, &rows, &out->n);
	out->rows = rows;
	out->sorted = false;
	return rc;
}

void stat_table_free(struct stat_table *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
	t->sorted = false;
}

static int row_cmp(const char *be1, const char *s1, const char *be2,
		   const char *s2)
{
	int c = strcmp(be1, be2);

	return c != 0 ? c : strcmp(s1, s2);
}

static int row_sort_cmp(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;

	return row_cmp(x->backend, x->server, y->backend, y->server);
}

void stat_table_sort(struct stat_table *t)
{
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), row_sort_cmp);
	t->sorted = true;
}

const struct stat_row *stat_table_find(const struct stat_table *t,
				       const char *backend, const char *server)
{
	size_t i, lo = 0, hi = t->n;

	if (t->sorted) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = row_cmp(backend, server, t->rows[mid].backend,
					t->rows[mid].server);

			if (c == 0)
				return &t->rows[mid];
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		return NULL;
	}
	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].backend, backend) == 0 &&
		    strcmp(t->rows[i].server, server) == 0)
			return &t->rows[i];
	return NULL;
}

/* ---- CSV status strings --------------------------------------------- */

/* status starts with word, followed by the end, ' ' or '(' ("MAINT (via
 * be/s)" in 2.6, "MAINT(via)" in the docs). */
static bool status_word(const char *status, const char *word)
{
	size_t n = strlen(word);

	if (status == NULL || strncmp(status, word, n) != 0)
		return false;
	return status[n] == '\0' || status[n] == ' ' || status[n] == '(';
}

enum srv_admin stat_admin_from_status(const char *status)
{
	if (status_word(status, "MAINT"))
		return SRV_ADMIN_MAINT;
	if (status_word(status, "DRAIN"))
		return SRV_ADMIN_DRAIN;
	return SRV_ADMIN_READY;
}

bool stat_status_is_up(const char *status)
{
	return status_word(status, "UP") || status_word(status, "NOLB") ||
	       status_word(status, "DRAIN") || status_word(status, "no check");
}

static bool skip_digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p != s;
}

/* "<WORD> <n>/<m>", maybe followed by more words. */
bool stat_status_is_transitional(const char *status)
{
	const char *p = status;

	if (status == NULL)
		return false;
	while (*p >= 'A' && *p <= 'Z')
		p++;
	if (p == status || *p++ != ' ' || !skip_digits(&p) || *p++ != '/' ||
	    !skip_digits(&p))
		return false;
	return *p == '\0' || *p == ' ';
}

/* ---- show servers state --------------------------------------------- */

static int srvstate_finish(void *row, const struct stat_pctx *pc)
{
	struct srvstate_row *r = row;

	r->admin = stat_admin_from_bits(r->admin_bits);
	return 0;
}

static const struct tab_spec srvstate_spec = {
	.what = "show servers state",
	.version = "1",
	.defs = srvstate_cols,
	.ndefs = NCOLS(srvstate_cols),
	.elsize = sizeof(struct srvstate_row),
	.finish = srvstate_finish,
};

int stat_parse_servers_state(const char *text, size_t len,
			     struct srvstate_table *out, struct cut_err *err)
{
	void *rows;
	int rc;

	rc = tab_parse(&srvstate_spec, text, len, err, &rows, &out->n);
	out->rows = rows;
	return rc;
}

void srvstate_table_free(struct srvstate_table *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

const struct srvstate_row *srvstate_find(const struct srvstate_table *t,
					 const char *backend,
					 const char *server)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].be_name, backend) == 0 &&
		    strcmp(t->rows[i].srv_name, server) == 0)
			return &t->rows[i];
	return NULL;
}

/* ---- show info ------------------------------------------------------ */

/* One "Name: value" line; names we do not want are skipped. */
static int info_line(const char *line, size_t n, struct haproxy_info *info,
		     bool *seen, const struct stat_pctx *pc)
{
	const char *colon = memchr(line, ':', n);
	char shown[STAT_SHOW_MAX];
	struct field name;
	size_t d, vn;
	const char *v;

	if (colon == NULL)
		return stat_perr(pc, "expected \"Name: value\", got \"%s\"",
			    stat_show(shown, line, n));
	name = (struct field){ .p = line, .n = (size_t)(colon - line) };
	v = colon + 1;
	vn = n - name.n - 1;
	if (vn > 0 && *v == ' ') {
		v++;
		vn--;
	}
	for (d = 0; d < NCOLS(info_cols); d++) {
		if (!field_is(&name, info_cols[d].name))
			continue;
		seen[d] = true;
		return col_store(&info_cols[d], info, v, vn, pc);
	}
	return 0;
}

int stat_parse_info(const char *text, size_t len, struct haproxy_info *out,
		    struct cut_err *err)
{
	struct stat_pctx pc = { .what = "show info", .err = err };
	bool seen[NCOLS(info_cols)] = { false };
	struct haproxy_info info;
	const char *line;
	size_t n, d;
	int rc;

	set_defaults(info_cols, NCOLS(info_cols), out, sizeof(*out));
	set_defaults(info_cols, NCOLS(info_cols), &info, sizeof(info));
	rc = stat_pctx_start(&pc, text, len);
	while (rc == 0 && next_line(&pc, &line, &n) && n > 0)
		rc = info_line(line, n, &info, seen, &pc);
	for (d = 0; rc == 0 && d < NCOLS(info_cols); d++)
		if (info_cols[d].required && !seen[d])
			rc = stat_perr(&pc, "reply ended without \"%s\"",
				  info_cols[d].name);
	if (rc == 0)
		*out = info;
	return rc;
}

/* ---- replies, severity, cli level ----------------------------------- */

struct known_error {
	const char *text;
	bool prefix;		/* text starts the message */
	enum reply_error error;
};

/* HAProxy's exact texts (HAPROXY.md §3.3, checked on 2.6.12). */
static const struct known_error known_errors[] = {
	{ "No such backend.", false, REPLY_ERR_NO_BACKEND },
	{ "Can't find backend.", false, REPLY_ERR_NO_BACKEND },
	{ "No such proxy.", false, REPLY_ERR_NO_BACKEND },
	{ "No such server.", false, REPLY_ERR_NO_SERVER },
	{ "Permission denied", true, REPLY_ERR_PERMISSION },
	{ "Unknown command", true, REPLY_ERR_UNKNOWN_CMD },
	{ "No such session", true, REPLY_ERR_NO_SESSION },
};

static enum reply_error match_error(const char *msg)
{
	size_t i, n;

	for (i = 0; i < NCOLS(known_errors); i++) {
		n = strlen(known_errors[i].text);
		if (strncmp(msg, known_errors[i].text, n) == 0 &&
		    (known_errors[i].prefix || msg[n] == '\0'))
			return known_errors[i].error;
	}
	return REPLY_ERR_NONE;
}

/* `set severity-output string` words, indexed by syslog severity. */
static const char *const severity_names[8] = {
	[0] = "emerg", [1] = "alert", [2] = "crit", [3] = "err",
	[4] = "warning", [5] = "notice", [6] = "info", [7] = "debug",
};

/* Length of a "[N]: " (N 0..7) or "[err]: " prefix at s, 0 if none. */
static size_t severity_prefix(const char *s, size_t n, int *sev)
{
	const char *close = n > 0 && s[0] == '[' ? memchr(s, ']', n) : NULL;
	size_t k = close != NULL ? (size_t)(close - s) : 0;
	size_t i;

	if (k < 2 || k > 8 || k + 2 >= n || memcmp(close, "]: ", 3) != 0)
		return 0;
	if (k == 2 && s[1] >= '0' && s[1] <= '7') {
		*sev = s[1] - '0';
		return 5;
	}
	for (i = 0; i < NCOLS(severity_names); i++) {
		if (strlen(severity_names[i]) == k - 1 &&
		    memcmp(s + 1, severity_names[i], k - 1) == 0) {
			*sev = (int)i;
			return k + 3;
		}
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first line of s (up to '\n' or a NUL), trimmed, into out. It ends
 * up in messages on a terminal, so bytes outside printable ASCII (escape
 * sequences from a broken or hostile peer) become '?'. */
static void first_line(const char *s, size_t n, char *out, size_t outsz)
{
	size_t e = 0, i;

	while (e < n && s[e] != '\n' && s[e] != '\0')
		e++;
	while (e > 0 && is_space(s[e - 1]))
		e--;
	str_copy(out, outsz, s, e);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

void stat_classify_reply(const char *text, size_t len, struct reply_class *out)
{
	size_t pre;
	int sev = -1;

	out->kind = REPLY_OK;
	out->error = REPLY_ERR_NONE;
	out->severity = -1;
	out->msg[0] = '\0';
	if (text == NULL) {
		text = "";
		len = 0;
	}
	while (len > 0 && is_space(*text)) {
		text++;
		len--;
	}
	if (len == 0)
		return;
	pre = severity_prefix(text, len, &sev);
	first_line(text + pre, len - pre, out->msg, sizeof(out->msg));
	out->error = match_error(out->msg);
	out->severity = sev;
	if (pre == 0)
		out->kind = REPLY_OUTPUT;
	else
		out->kind = sev <= 3 ? REPLY_ERROR : REPLY_INFO;
	/* HAProxy tags "Unknown command" [6]; without severity-output its
	 * known error texts come untagged. Both are still errors. */
	if (out->error == REPLY_ERR_UNKNOWN_CMD ||
	    out->error == REPLY_ERR_PERMISSION ||
	    (pre == 0 && out->error != REPLY_ERR_NONE))
		out->kind = REPLY_ERROR;
	if (out->kind != REPLY_ERROR)
		out->error = REPLY_ERR_NONE;
	else if (out->error == REPLY_ERR_NONE)
		out->error = REPLY_ERR_OTHER;
}

int stat_parse_cli_level(const char *text, size_t len, int *level)
{
	static const char *const levels[] = {
		[0] = "user", [1] = "operator", [2] = "admin",
	};
	struct reply_class rc;
	size_t i;

	stat_classify_reply(text, len, &rc);
	if (rc.kind != REPLY_OUTPUT && rc.kind != REPLY_INFO)
		return CUT_EPROTO;
	for (i = 0; i < NCOLS(levels); i++) {
		if (strcmp(rc.msg, levels[i]) == 0) {
			*level = (int)i;
			return 0;
		}
	}
	return CUT_EPROTO;
}
