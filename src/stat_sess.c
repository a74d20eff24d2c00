/* stat_sess.c - pure parsers for the HAProxy 2.6 replies used to shed
 * sessions and to switch blue/green through a map: `show sess`, `show map`,
 * `show map <map>` and `get map <map> <key>` (see stat.h and
 * ../shared/HAPROXY.md §4.1, §5).
 *
 * DESIGN: as in stat.c, a reply is walked line by line with `len`
 * authoritative, a NUL anywhere is CUT_EPROTO, and a parse either completes
 * or frees everything and names the line and the fault. These replies are
 * not tables with a header but lines of "key=value" words (show sess) or of
 * positional words (maps), so each has its own small line parser. Every
 * line is looked at once and rows grow by doubling: linear in `len`, which
 * matters for `show sess` on a busy LB (thousands of lines).
 *
 * The small line/error helpers repeat those of stat.c, where they are
 * static; moving them to a shared internal header would touch stat.c.
 */
#include "stat.h"
#include "stat_int.h"
#include "strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define PTR_HEX_MAX 16		/* hex digits of a 64-bit pointer */
#define AGE_DIGITS_MAX 10	/* per age unit; 10 digits of days fit int64 */
#define NUM_DIGITS_MAX 18	/* curr_ver, entry_cnt, ...; fits int64 */

/* ---- parse context, lines, error messages --------------------------- */


/* The next non-empty line, without its '\n' (nor a '\r' before it); false
 * at the end. An empty line ends the reply as in stat.c. A last line
 * without '\n' means the reply was cut (HAProxy ends every line with one):
 * false with *rc set to CUT_EPROTO. */
static bool next_line(struct stat_pctx *pc, const char **line, size_t *n, int *rc)
{
	const char *nl;

	if (pc->p >= pc->end)
		return false;
	nl = memchr(pc->p, '\n', (size_t)(pc->end - pc->p));
	pc->lineno++;
	*line = pc->p;
	if (nl == NULL) {
		pc->p = pc->end;
		*rc = stat_perr(pc, "last line has no newline: reply truncated");
		return false;
	}
	*n = (size_t)(nl - pc->p);
	pc->p = nl + 1;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return *n > 0;
}

/* ---- small lexical helpers ------------------------------------------ */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Printable ASCII, and no space unless allowed (values of map entries). */
static bool printable(const char *s, size_t n, bool space_ok)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || (c == ' ' && !space_ok))
			return false;
	}
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* First (last if `last`) occurrence of needle in s[0..n), or NULL. */
static const char *find(const char *s, size_t n, const char *needle,
			bool last)
{
	size_t k = strlen(needle), i;
	const char *hit = NULL;

	for (i = 0; k <= n && i <= n - k; i++) {
		if (s[i] == needle[0] && memcmp(s + i, needle, k) == 0) {
			hit = s + i;
			if (!last)
				break;
		}
	}
	return hit;
}

/* All decimal digits, 1..NUM_DIGITS_MAX of them. */
static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > NUM_DIGITS_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "0x" and 1..16 hex digits at s: their length (with "0x"), or 0. */
static size_t hex_ptr(const char *s, size_t n)
{
	size_t i = 2;

	if (n < 3 || s[0] != '0' || s[1] != 'x')
		return 0;
	while (i < n && is_hex(s[i]) && i - 2 < PTR_HEX_MAX + 1)
		i++;
	return i == 2 || i - 2 > PTR_HEX_MAX ? 0 : i;
}

/* Copy a field value into a char[size] member, or say why not. */
static int store(const struct stat_pctx *pc, const char *name, char *dst,
		 size_t size, const char *v, size_t n)
{
	char shown[STAT_SHOW_MAX];

	if (n == 0)
		return stat_perr(pc, "empty %s", name);
	if (!str_copy(dst, size, v, n))
		return stat_perr(pc, "%s too long (%zu bytes, max %zu)", name, n,
			    size - 1);
	if (!printable(v, n, false))
		return stat_perr(pc, "%s \"%s\" has a space or control byte", name,
			    stat_show(shown, v, n));
	return 0;
}

/* ---- ages ------------------------------------------------------------- */

/* human_time() of HAProxy's src/tools.c: at most two of d, h, m, s, zero
 * parts left out ("1m", "1h5s"), "0s" for zero and "?" for negative. */
static const struct {
	char unit;
	int64_t mult;
	int64_t below;		/* bound of a value that is not the first */
} age_units[] = {
	{ 'd', 86400, 0 },
	{ 'h', 3600, 24 },
	{ 'm', 60, 60 },
	{ 's', 1, 60 },
};

int stat_parse_age(const char *s, size_t n, int64_t *sec)
{
	size_t i = 0, u = 0, parts = 0;
	int64_t total = 0;

	if (s == NULL || n == 0)
		return CUT_EPROTO;
	if (n == 1 && s[0] == '?') {
		*sec = -1;
		return 0;
	}
	while (i < n) {
		size_t j = i;
		int64_t v;

		while (j < n && is_digit(s[j]))
			j++;
		if (j == i || j - i > AGE_DIGITS_MAX || j == n ||
		    !parse_i64(s + i, j - i, &v))
			return CUT_EPROTO;
		while (u < sizeof(age_units) / sizeof(age_units[0]) &&
		       age_units[u].unit != s[j])
			u++;
		if (u == sizeof(age_units) / sizeof(age_units[0]) ||
		    (parts > 0 && v >= age_units[u].below))
			return CUT_EPROTO;
		total += v * age_units[u].mult;
		u++;
		parts++;
		i = j + 1;
	}
	*sec = total;
	return 0;
}

/* ---- show sess -------------------------------------------------------- */

enum sess_key {
	SK_PROTO = 0,
	SK_SRC,
	SK_FE,
	SK_BE,
	SK_SRV,
	SK_AGE,
	SK_CALLS,
	SK_COUNT	/* keep last */
};

static const char *const sess_keys[SK_COUNT] = {
	[SK_PROTO] = "proto", [SK_SRC] = "src", [SK_FE] = "fe",
	[SK_BE] = "be", [SK_SRV] = "srv", [SK_AGE] = "age",
	[SK_CALLS] = "calls",
};

#define SK_ALL ((1u << SK_COUNT) - 1)

static int sess_field(const struct stat_pctx *pc, enum sess_key k,
		      struct sess_row *r, const char *v, size_t n)
{
	char shown[STAT_SHOW_MAX];
	int64_t calls;

	switch (k) {
	case SK_PROTO:
		return store(pc, "proto", r->proto, sizeof(r->proto), v, n);
	case SK_SRC:
		return store(pc, "src", r->src, sizeof(r->src), v, n);
	case SK_FE:
		return store(pc, "fe", r->fe, sizeof(r->fe), v, n);
	case SK_BE:
		return store(pc, "be", r->be, sizeof(r->be), v, n);
	case SK_SRV:
		return store(pc, "srv", r->srv, sizeof(r->srv), v, n);
	case SK_AGE:
		if (stat_parse_age(v, n, &r->age_sec) != 0)
			return stat_perr(pc, "age \"%s\" is not a HAProxy duration",
				    stat_show(shown, v, n));
		return 0;
	case SK_CALLS:
		if (!parse_i64(v, n, &calls))
			return stat_perr(pc, "calls \"%s\" is not a number",
				    stat_show(shown, v, n));
		return 0;
	default:
		return 0;
	}
}

/* "<ptr>: key=value key=value ..." into r. Words are scanned only until
 * every wanted key was seen (age= is the 9th word, the rest is the
 * stream's buffers and flags). */
static int sess_line(const struct stat_pctx *pc, const char *s, size_t n,
		     struct sess_row *r)
{
	char shown[STAT_SHOW_MAX];
	unsigned seen = 0;
	size_t i, k;
	int rc;

	memset(r, 0, sizeof(*r));
	i = hex_ptr(s, n);
	if (i == 0 || i + 1 >= n || s[i] != ':' || s[i + 1] != ' ')
		return stat_perr(pc, "expected \"0x<hex>: \" at the start, got "
			    "\"%s\"", stat_show(shown, s, n));
	str_copy(r->ptr, sizeof(r->ptr), s, i);
	for (i += 2; i < n && seen != SK_ALL; i++) {
		const char *w = s + i, *sp = memchr(w, ' ', n - i);
		size_t wn = sp != NULL ? (size_t)(sp - w) : n - i;
		const char *eq = memchr(w, '=', wn);

		i += wn;
		if (eq == NULL)
			continue;	/* not key=value: skipped */
		for (k = 0; k < SK_COUNT; k++) {
			size_t kn = strlen(sess_keys[k]);

			if ((size_t)(eq - w) != kn ||
			    memcmp(w, sess_keys[k], kn) != 0)
				continue;
			if (seen & (1u << k))
				return stat_perr(pc, "%s= appears twice",
					    sess_keys[k]);
			seen |= 1u << k;
			rc = sess_field(pc, (enum sess_key)k, r, eq + 1,
					wn - kn - 1);
			if (rc != 0)
				return rc;
			break;
		}
	}
	for (k = 0; k < SK_COUNT; k++)
		if (!(seen & (1u << k)))
			return stat_perr(pc, "no %s= field", sess_keys[k]);
	return 0;
}

int stat_parse_sess(const char *text, size_t len, struct sess_table *out,
		    struct cut_err *err)
{
	struct stat_pctx pc = { .what = "show sess", .err = err };
	struct sess_row *rows = NULL, *g;
	size_t n = 0, cap = 0, ln;
	const char *line;
	int rc;

	out->rows = NULL;
	out->n = 0;
	rc = stat_pctx_start(&pc, text, len);
	while (rc == 0 && next_line(&pc, &line, &ln, &rc)) {
		g = stat_grow(rows, n, &cap, sizeof(*rows));
		if (g == NULL) {
			rc = stat_enomem(&pc);
			break;
		}
		rows = g;
		rc = sess_line(&pc, line, ln, &rows[n]);
		n++;
	}
	if (rc == 0 && n == 0) {
		pc.lineno = 1;
		rc = stat_perr(&pc, "empty reply (the CLI's own session is always "
			  "listed)");
	}
	if (rc != 0) {
		free(rows);
		return rc;
	}
	out->rows = rows;
	out->n = n;
	return 0;
}

void sess_table_free(struct sess_table *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

bool sess_row_is(const struct sess_row *r, const char *backend,
		 const char *server)
{
	/* "<NONE>" and "<none>" are placeholders, never names: HAProxy
	 * names cannot hold '<'. */
	if (backend == NULL || backend[0] == '<' || strcmp(r->be, backend) != 0)
		return false;
	if (server == NULL)
		return true;
	return server[0] != '<' && strcmp(r->srv, server) == 0;
}

const struct sess_row *sess_table_next(const struct sess_table *t,
				       const char *backend, const char *server,
				       size_t *pos)
{
	while (*pos < t->n) {
		const struct sess_row *r = &t->rows[(*pos)++];

		if (sess_row_is(r, backend, server))
			return r;
	}
	return NULL;
}

size_t sess_table_count(const struct sess_table *t, const char *backend,
			const char *server)
{
	size_t i = 0, c = 0;

	while (sess_table_next(t, backend, server, &i) != NULL)
		c++;
	return c;
}

/* ---- show map --------------------------------------------------------- */

/* " <key>=<n>" at the end part of the line (last occurrence), or -1. */
static int tail_num(const struct stat_pctx *pc, const char *s, size_t n,
		    const char *key, int64_t *out)
{
	char pat[24], shown[STAT_SHOW_MAX];
	const char *hit, *v, *e;

	snprintf(pat, sizeof(pat), " %s=", key);
	*out = -1;
	hit = find(s, n, pat, true);
	if (hit == NULL)
		return 0;
	v = hit + strlen(pat);
	e = memchr(v, ' ', (size_t)(s + n - v));
	if (e == NULL)
		e = s + n;
	if (!parse_i64(v, (size_t)(e - v), out))
		return stat_perr(pc, "%s \"%s\" is not a number", key,
			    stat_show(shown, v, (size_t)(e - v)));
	return 0;
}

static int map_info_line(const struct stat_pctx *pc, const char *s, size_t n,
			 struct map_info *m)
{
	char shown[STAT_SHOW_MAX];
	const char *open, *close;
	size_t idn;
	int rc;

	memset(m, 0, sizeof(*m));
	open = find(s, n, " (", false);
	idn = open != NULL ? (size_t)(open - s) : 0;
	if (open == NULL || !parse_i64(s, idn, &m->id))
		return stat_perr(pc, "expected \"<id> (<file>) ...\", got \"%s\"",
			    stat_show(shown, s, n));
	open += 2;
	close = find(open, (size_t)(s + n - open), ") ", false);
	if (close == NULL && ends(s, n, ")"))
		close = s + n - 1;	/* no description at all */
	if (close == NULL)
		return stat_perr(pc, "no \")\" after the file name");
	rc = store(pc, "file", m->file, sizeof(m->file), open,
		   (size_t)(close - open));
	if (rc == 0)
		rc = tail_num(pc, close, (size_t)(s + n - close), "curr_ver",
			      &m->curr_ver);
	if (rc == 0)
		rc = tail_num(pc, close, (size_t)(s + n - close), "next_ver",
			      &m->next_ver);
	if (rc == 0)
		rc = tail_num(pc, close, (size_t)(s + n - close), "entry_cnt",
			      &m->entry_cnt);
	return rc;
}

int stat_parse_map_list(const char *text, size_t len, struct map_list *out,
			struct cut_err *err)
{
	struct stat_pctx pc = { .what = "show map", .err = err };
	struct map_info *maps = NULL, *g;
	size_t n = 0, cap = 0, ln;
	char shown[STAT_SHOW_MAX];
	const char *line;
	int rc;

	out->maps = NULL;
	out->n = 0;
	rc = stat_pctx_start(&pc, text, len);
	if (rc != 0)
		return rc;
	if (!next_line(&pc, &line, &ln, &rc)) {
		if (rc != 0)
			return rc;
		pc.lineno = 1;
		return stat_perr(&pc, "empty reply");
	}
	if (!starts(line, ln, "# id (file)"))
		return stat_perr(&pc, "expected the \"# id (file) description\" "
			    "header, got \"%s\"", stat_show(shown, line, ln));
	while (rc == 0 && next_line(&pc, &line, &ln, &rc)) {
		g = stat_grow(maps, n, &cap, sizeof(*maps));
		if (g == NULL) {
			rc = stat_enomem(&pc);
			break;
		}
		maps = g;
		rc = map_info_line(&pc, line, ln, &maps[n]);
		n++;
	}
	if (rc != 0) {
		free(maps);
		return rc;
	}
	out->maps = maps;
	out->n = n;
	return 0;
}

void map_list_free(struct map_list *l)
{
	if (l == NULL)
		return;
	free(l->maps);
	l->maps = NULL;
	l->n = 0;
}

const struct map_info *map_list_find(const struct map_list *l,
				     const char *file)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->maps[i].file, file) == 0)
			return &l->maps[i];
	return NULL;
}

/* ---- show map <map> --------------------------------------------------- */

static int map_entry_line(const struct stat_pctx *pc, const char *s, size_t n,
			  struct map_entry *e)
{
	char shown[STAT_SHOW_MAX];
	const char *k, *sp;
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e));
	i = hex_ptr(s, n);
	if (i == 0 || i + 1 >= n || s[i] != ' ')
		return stat_perr(pc, "expected \"0x<hex> <key> <value>\", got "
			    "\"%s\"", stat_show(shown, s, n));
	str_copy(e->ref, sizeof(e->ref), s, i);
	k = s + i + 1;
	sp = memchr(k, ' ', (size_t)(s + n - k));
	if (sp == NULL)
		return stat_perr(pc, "entry \"%s\" has no value",
			    stat_show(shown, s, n));
	rc = store(pc, "key", e->key, sizeof(e->key), k, (size_t)(sp - k));
	if (rc != 0)
		return rc;
	sp++;
	if (!str_copy(e->value, sizeof(e->value), sp, (size_t)(s + n - sp)))
		return stat_perr(pc, "value too long (%zu bytes, max %zu)",
			    (size_t)(s + n - sp), sizeof(e->value) - 1);
	if (!printable(sp, (size_t)(s + n - sp), true))
		return stat_perr(pc, "value has a control byte");
	return 0;
}

int stat_parse_map_entries(const char *text, size_t len,
			   struct map_entries *out, struct cut_err *err)
{
	struct stat_pctx pc = { .what = "show map <map>", .err = err };
	struct map_entry *es = NULL, *g;
	size_t n = 0, cap = 0, ln;
	const char *line;
	int rc;

	out->entries = NULL;
	out->n = 0;
	rc = stat_pctx_start(&pc, text, len);
	while (rc == 0 && next_line(&pc, &line, &ln, &rc)) {
		g = stat_grow(es, n, &cap, sizeof(*es));
		if (g == NULL) {
			rc = stat_enomem(&pc);
			break;
		}
		es = g;
		rc = map_entry_line(&pc, line, ln, &es[n]);
		n++;
	}
	if (rc != 0) {
		free(es);
		return rc;
	}
	out->entries = es;
	out->n = n;
	return 0;
}

void map_entries_free(struct map_entries *e)
{
	if (e == NULL)
		return;
	free(e->entries);
	e->entries = NULL;
	e->n = 0;
}

const struct map_entry *map_entries_find(const struct map_entries *e,
					 const char *key)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->entries[i].key, key) == 0)
			return &e->entries[i];
	return NULL;
}

/* ---- get map ---------------------------------------------------------- */

/* One parsed `get map` line. */
struct lookup_line {
	bool found;
	bool icase;
	char match[16];
	char key[MAP_KEY_MAX];
	char value[MAP_KEY_MAX];
	char smp_type[16];
};

/* `name=` then a word ending at ", " or the end; advances *s, *n past it. */
static bool take_word(const char **s, size_t *n, const char *name,
		      const char **w, size_t *wn)
{
	const char *comma;
	size_t k = strlen(name);

	if (*n <= k || memcmp(*s, name, k) != 0)
		return false;
	*w = *s + k;
	comma = find(*w, *n - k, ", ", false);
	*wn = comma != NULL ? (size_t)(comma - *w) : *n - k;
	*n -= k + *wn;
	*s = *w + *wn;
	if (comma != NULL) {
		*s += 2;
		*n -= 2;
	}
	return *wn > 0;
}

/* The quoted key and value: `key="K", value="V", type="T"`, with
 * `key=unknown` and `value=none` as HAProxy's other two forms. */
static int lookup_kv(const struct stat_pctx *pc, const char *s, size_t n,
		     struct lookup_line *l)
{
	const char *v, *t;
	size_t vn;
	int rc;

	if (starts(s, n, "key=unknown, ")) {
		v = s + strlen("key=unknown, ");
	} else if (starts(s, n, "key=\"")) {
		const char *k = s + 5;
		const char *e = find(k, (size_t)(s + n - k), "\", value=",
				     false);

		if (e == NULL)
			return stat_perr(pc, "no value= after the key");
		if (!str_copy(l->key, sizeof(l->key), k, (size_t)(e - k)))
			return stat_perr(pc, "key too long (%zu bytes, max %zu)",
				    (size_t)(e - k), sizeof(l->key) - 1);
		v = e + 3;
	} else {
		return stat_perr(pc, "expected key=\"...\" after idx=");
	}
	vn = (size_t)(s + n - v);
	if (vn == strlen("value=none") && starts(v, vn, "value=none"))
		return 0;
	if (!starts(v, vn, "value=\"") || !ends(v, vn, "\""))
		return stat_perr(pc, "expected value=\"...\" or value=none");
	/* v: `value="V", type="T"`; V starts at v + 7 and may be empty. */
	t = find(v, vn - 1, "\", type=\"", true);
	if (t == NULL || t < v + 7)
		return stat_perr(pc, "no type=\"...\" after the value");
	if (!str_copy(l->value, sizeof(l->value), v + 7,
		      (size_t)(t - (v + 7))))
		return stat_perr(pc, "value too long (%zu bytes, max %zu)",
			    (size_t)(t - (v + 7)), sizeof(l->value) - 1);
	t += strlen("\", type=\"");
	rc = store(pc, "type", l->smp_type, sizeof(l->smp_type), t,
		   (size_t)(v + vn - 1 - t));
	if (rc == 0 && (!printable(l->key, strlen(l->key), true) ||
			!printable(l->value, strlen(l->value), true)))
		rc = stat_perr(pc, "key or value has a control byte");
	return rc;
}

static int lookup_line(const struct stat_pctx *pc, const char *s, size_t n,
		       struct lookup_line *l)
{
	char shown[STAT_SHOW_MAX];
	const char *w;
	size_t wn;
	int rc;

	memset(l, 0, sizeof(*l));
	if (!take_word(&s, &n, "type=", &w, &wn))
		return stat_perr(pc, "expected \"type=...\", got \"%s\"",
			    stat_show(shown, s, n));
	rc = store(pc, "match type", l->match, sizeof(l->match), w, wn);
	if (rc != 0)
		return rc;
	if (!take_word(&s, &n, "case=", &w, &wn) ||
	    (!(wn == 9 && memcmp(w, "sensitive", 9) == 0) &&
	     !(wn == 11 && memcmp(w, "insensitive", 11) == 0)))
		return stat_perr(pc, "expected case=sensitive|insensitive");
	l->icase = wn == 11;
	if (!take_word(&s, &n, "found=", &w, &wn))
		return stat_perr(pc, "expected found=yes|no");
	if (wn == 2 && memcmp(w, "no", 2) == 0 && n == 0)
		return 0;
	if (!(wn == 3 && memcmp(w, "yes", 3) == 0) || n == 0)
		return stat_perr(pc, "expected found=no at the end or found=yes, "
			    "got \"%s\"", stat_show(shown, w, wn + n));
	l->found = true;
	if (!take_word(&s, &n, "idx=", &w, &wn) || n == 0)
		return stat_perr(pc, "expected idx=tree|list after found=yes");
	return lookup_kv(pc, s, n, l);
}

int stat_parse_map_get(const char *text, size_t len, struct map_lookup *out,
		       struct cut_err *err)
{
	struct stat_pctx pc = { .what = "get map", .err = err };
	struct lookup_line l, first;
	bool have_first = false;
	const char *line;
	size_t ln, nexpr = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&first, 0, sizeof(first));
	rc = stat_pctx_start(&pc, text, len);
	while (rc == 0 && next_line(&pc, &line, &ln, &rc)) {
		rc = lookup_line(&pc, line, ln, &l);
		if (rc != 0)
			break;
		nexpr++;
		/* The first found=yes line wins, else the first line. */
		if (!have_first || (l.found && !first.found)) {
			first = l;
			have_first = true;
		}
	}
	if (rc == 0 && nexpr == 0) {
		pc.lineno = 1;
		rc = stat_perr(&pc, "empty reply");
	}
	if (rc != 0)
		return rc;
	out->found = first.found;
	out->nexpr = nexpr;
	out->icase = first.icase;
	memcpy(out->match, first.match, sizeof(out->match));
	memcpy(out->key, first.key, sizeof(out->key));
	memcpy(out->value, first.value, sizeof(out->value));
	memcpy(out->smp_type, first.smp_type, sizeof(out->smp_type));
	return 0;
}
