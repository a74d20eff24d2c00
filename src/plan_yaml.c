/* plan_yaml.c - libyaml events -> a tree of positioned nodes for plan.c,
 * and the typed accessors that read it (see plan_yaml.h). libyaml does the
 * parsing; this file only composes its events, turns its errors into
 * "NAME:LINE:COLUMN: problem" and refuses the YAML features a plan has no
 * use for (anchors, aliases, several documents).
 */
#include "plan_yaml.h"
#include "strutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>
#include <yaml.h>

static const char *const ynode_kind_names[PLAN_YNODE_KIND_COUNT] = {
	[PLAN_YNODE_SCALAR] = "a string",
	[PLAN_YNODE_SEQ] = "a list",
	[PLAN_YNODE_MAP] = "a mapping",
};

const char *plan_ynode_kind_name(enum plan_ynode_kind k)
{
	if ((unsigned)k >= PLAN_YNODE_KIND_COUNT)
		return "?";
	return ynode_kind_names[k];
}

int plan_yaml_err(struct cut_err *err, const char *name, int line, int col,
		  const char *fmt, ...)
{
	char where[CUT_ERR_MSG_MAX], what[CUT_ERR_MSG_MAX];
	size_t off = 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	n = snprintf(where, sizeof(where), "%s:%d:%d", name, line, col);
	if (n >= CUT_ERR_WHERE_MAX && n < (int)sizeof(where)) {
		/* A long path: keep "...", its end and LINE:COLUMN. */
		off = (size_t)n - (CUT_ERR_WHERE_MAX - 1) + 3;
		memcpy(where + off - 3, "...", 3);
		off -= 3;
	}
	return cut_err_set(err, CUT_EUSAGE, where + off, "%s:%d:%d: %s", name,
			   line, col, what);
}

/* One parse: the parser and what messages need. */
struct ybuild {
	yaml_parser_t parser;
	const char *name;
	const char *text;
	size_t len;
	struct cut_err *err;
};

static int mark_int(size_t v)
{
	return v < (size_t)INT_MAX ? (int)v + 1 : INT_MAX;
}

static int oom(struct ybuild *b)
{
	return cut_err_set(b->err, UV_ENOMEM, b->name, "%s: out of memory",
			   b->name);
}

/* Reader errors (bad UTF-8, control characters) only give a byte offset. */
static void offset_pos(const struct ybuild *b, size_t off, int *line,
		       int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < b->len; i++) {
		if (b->text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)b->text[i] & 0xC0) != 0x80) {
			(*col)++;	/* count characters, not UTF-8 bytes */
		}
	}
}

static int syntax_err(struct ybuild *b)
{
	const yaml_parser_t *ps = &b->parser;
	const char *problem = ps->problem != NULL ? ps->problem : "syntax error";
	size_t at = ps->problem_mark.index;
	int line, col;

	if (ps->error == YAML_MEMORY_ERROR)
		return oom(b);
	if (ps->error == YAML_READER_ERROR) {
		offset_pos(b, ps->problem_offset, &line, &col);
		return plan_yaml_err(b->err, b->name, line, col,
				     "%s (a plan must be UTF-8 text)", problem);
	}
	line = mark_int(ps->problem_mark.line);
	col = mark_int(ps->problem_mark.column);
	if (at < b->len && b->text[at] == '\t')
		return plan_yaml_err(b->err, b->name, line, col,
				     "tab character: YAML indents with spaces "
				     "only");
	if (ps->context != NULL)
		return plan_yaml_err(b->err, b->name, line, col,
				     "%s (%s started at %d:%d)", problem,
				     ps->context,
				     mark_int(ps->context_mark.line),
				     mark_int(ps->context_mark.column));
	return plan_yaml_err(b->err, b->name, line, col, "%s", problem);
}

static int next_event(struct ybuild *b, yaml_event_t *ev)
{
	if (yaml_parser_parse(&b->parser, ev) == 0)
		return syntax_err(b);
	return 0;
}

static int ev_err(struct ybuild *b, const yaml_event_t *ev, const char *what,
		  char sigil, const yaml_char_t *anchor)
{
	return plan_yaml_err(b->err, b->name, mark_int(ev->start_mark.line),
			     mark_int(ev->start_mark.column),
			     "%s (%c%.40s) are not supported; write the value "
			     "out in full", what, sigil, (const char *)anchor);
}

/* Anchors and aliases make one node appear in several places: refused. */
static int refuse_anchor(struct ybuild *b, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return ev_err(b, ev, "aliases", '*', ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return ev_err(b, ev, "anchors", '&', anchor);
	return 0;
}

static int set_scalar(struct ybuild *b, struct plan_ynode *n,
		      const yaml_event_t *ev)
{
	size_t len = ev->data.scalar.length;

	if (memchr(ev->data.scalar.value, '\0', len) != NULL)
		return plan_yaml_err(b->err, b->name, n->line, n->col,
				     "a value must not contain a NUL "
				     "character");
	n->text = malloc(len + 1);
	if (n->text == NULL)
		return oom(b);
	memcpy(n->text, ev->data.scalar.value, len);
	n->text[len] = '\0';
	n->len = len;
	n->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		  (len == 0 || strcmp(n->text, "~") == 0 ||
		   strcmp(n->text, "null") == 0 ||
		   strcmp(n->text, "Null") == 0 ||
		   strcmp(n->text, "NULL") == 0);
	return 0;
}

static int build_node(struct ybuild *b, yaml_event_t *ev, int depth,
		      struct plan_ynode **out);

/* Read the items of a list or mapping up to its end event. */
static int build_kids(struct ybuild *b, struct plan_ynode *n,
		      yaml_event_type_t end, int depth)
{
	size_t cap = 0;

	for (;;) {
		struct plan_ynode *kid;
		yaml_event_t ev;
		int rc;

		rc = next_event(b, &ev);
		if (rc != 0)
			return rc;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->n == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			struct plan_ynode **k;

			k = realloc(n->kids, ncap * sizeof(*k));
			if (k == NULL) {
				yaml_event_delete(&ev);
				return oom(b);
			}
			n->kids = k;
			cap = ncap;
		}
		rc = build_node(b, &ev, depth + 1, &kid);
		if (rc != 0)
			return rc;
		n->kids[n->n++] = kid;
	}
}

/* Build the node that starts with *ev; *ev is consumed in every case. */
static int build_node(struct ybuild *b, yaml_event_t *ev, int depth,
		      struct plan_ynode **out)
{
	struct plan_ynode *n;
	int rc;

	*out = NULL;
	rc = refuse_anchor(b, ev);
	if (rc == 0 && depth > PLAN_YAML_MAX_DEPTH)
		rc = plan_yaml_err(b->err, b->name,
				   mark_int(ev->start_mark.line),
				   mark_int(ev->start_mark.column),
				   "nested deeper than %d levels",
				   PLAN_YAML_MAX_DEPTH);
	if (rc != 0) {
		yaml_event_delete(ev);
		return rc;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		yaml_event_delete(ev);
		return oom(b);
	}
	n->line = mark_int(ev->start_mark.line);
	n->col = mark_int(ev->start_mark.column);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = PLAN_YNODE_SCALAR;
		rc = set_scalar(b, n, ev);
		yaml_event_delete(ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = PLAN_YNODE_SEQ;
		yaml_event_delete(ev);
		rc = build_kids(b, n, YAML_SEQUENCE_END_EVENT, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = PLAN_YNODE_MAP;
		yaml_event_delete(ev);
		rc = build_kids(b, n, YAML_MAPPING_END_EVENT, depth);
		break;
	default:	/* libyaml never sends another event here */
		rc = plan_yaml_err(b->err, b->name, n->line, n->col,
				   "unexpected YAML event %d", (int)ev->type);
		yaml_event_delete(ev);
		break;
	}
	if (rc != 0) {
		plan_yaml_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* The stream: STREAM-START, at most one DOCUMENT-START node DOCUMENT-END,
 * STREAM-END. */
static int build_stream(struct ybuild *b, struct plan_ynode **root)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		rc = next_event(b, &ev);
		if (rc != 0)
			return rc;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (*root != NULL) {
				rc = plan_yaml_err(b->err, b->name,
						   mark_int(ev.start_mark.line),
						   mark_int(ev.start_mark.column),
						   "a plan is one YAML document; "
						   "a second one starts here");
				yaml_event_delete(&ev);
				return rc;
			}
			yaml_event_delete(&ev);
			rc = next_event(b, &ev);
			if (rc == 0)
				rc = build_node(b, &ev, 0, root);
			if (rc != 0)
				return rc;
			break;
		default:	/* STREAM-START, DOCUMENT-END */
			yaml_event_delete(&ev);
			break;
		}
	}
}

int plan_yaml_load(const char *name, const char *text, size_t len,
		   struct plan_ynode **out, struct cut_err *err)
{
	struct ybuild b = { .name = name, .text = text, .len = len, .err = err };
	struct plan_ynode *root = NULL;
	int rc;

	*out = NULL;
	if (yaml_parser_initialize(&b.parser) == 0)
		return oom(&b);
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text,
				     len);
	rc = build_stream(&b, &root);
	yaml_parser_delete(&b.parser);
	if (rc != 0) {
		plan_yaml_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

void plan_yaml_free(struct plan_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		plan_yaml_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

/* ---- accessors -------------------------------------------------------- */

int plan_yaml_node_err(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *fmt, ...)
{
	char what[CUT_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return plan_yaml_err(y->err, y->name, n->line, n->col, "%s", what);
}

int plan_yaml_oom(const struct plan_yctx *y)
{
	return cut_err_set(y->err, UV_ENOMEM, y->name, "%s: out of memory",
			   y->name);
}

const char *plan_yaml_describe(const struct plan_ynode *n, char *buf,
			       size_t sz)
{
	size_t i, o = 0;

	if (n->kind != PLAN_YNODE_SCALAR)
		return plan_ynode_kind_name(n->kind);
	if (n->null)
		return "nothing";
	buf[o++] = '\'';
	for (i = 0; i < n->len && i < 60 && o + 5 < sz; i++) {
		unsigned char ch = (unsigned char)n->text[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < n->len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

int plan_yaml_expected(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, const char *what)
{
	char got[80];

	return plan_yaml_node_err(y, n, "%s: expected %s, got %s", path, what,
				  plan_yaml_describe(n, got, sizeof(got)));
}

bool plan_yaml_is_str(const struct plan_ynode *n)
{
	return n->kind == PLAN_YNODE_SCALAR && !n->null;
}

int plan_yaml_scalar(const struct plan_yctx *y, const struct plan_ynode *n,
		     const char *path, const char *what)
{
	return plan_yaml_is_str(n) ? 0 : plan_yaml_expected(y, n, path, what);
}

int plan_yaml_get_str(const struct plan_yctx *y, const struct plan_ynode *n,
		      const char *path, const char *what, char **out)
{
	int rc = plan_yaml_scalar(y, n, path, what);

	if (rc != 0)
		return rc;
	free(*out);
	*out = strdup(n->text);
	return *out == NULL ? plan_yaml_oom(y) : 0;
}

int plan_yaml_get_duration(const struct plan_yctx *y,
			   const struct plan_ynode *n, const char *path,
			   bool positive, uint64_t *ms)
{
	const char *what = positive ? "a duration above 0 like 500ms or 2s"
				    : "a duration like 30s or 5m";
	uint64_t v;

	if (!plan_yaml_is_str(n) || str_parse_duration_ms(n->text, &v) != 0 ||
	    (positive && v == 0))
		return plan_yaml_expected(y, n, path, what);
	*ms = v;
	return 0;
}

int plan_yaml_get_long(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, long min, long max, const char *what,
		       long *out)
{
	if (!plan_yaml_is_str(n) ||
	    str_parse_long(n->text, min, max, out) != 0)
		return plan_yaml_expected(y, n, path, what);
	return 0;
}

int plan_yaml_get_uint(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, long min, unsigned *out)
{
	char what[32];
	long v;
	int rc;

	snprintf(what, sizeof(what), "an integer >= %ld", min);
	rc = plan_yaml_get_long(y, n, path, min, INT_MAX, what, &v);
	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

static const char *const placeholders[] = {
	"server", "backend", "addr", "port", "peer",
};

static bool placeholder_known(const char *name, size_t len)
{
	size_t k;

	for (k = 0; k < sizeof(placeholders) / sizeof(placeholders[0]); k++)
		if (strlen(placeholders[k]) == len &&
		    strncmp(name, placeholders[k], len) == 0)
			return true;
	return false;
}

int plan_yaml_get_template(const struct plan_yctx *y,
			   const struct plan_ynode *n, const char *path,
			   const char *what, char **out)
{
	const char *s = n->text, *end;
	size_t i, len;
	int rc = plan_yaml_scalar(y, n, path, what);

	for (i = 0; rc == 0 && s[i] != '\0'; i++) {
		if ((s[i] == '{' || s[i] == '}') && s[i + 1] == s[i]) {
			i++;
			continue;
		}
		if (s[i] == '}')
			return plan_yaml_node_err(y, n, "%s: unmatched '}' (write "
						  "}} for a literal brace)",
						  path);
		if (s[i] != '{')
			continue;
		end = strchr(s + i + 1, '}');
		if (end == NULL)
			return plan_yaml_node_err(y, n, "%s: unclosed '{' (write "
						  "{{ for a literal brace)",
						  path);
		len = (size_t)(end - (s + i + 1));
		if (!placeholder_known(s + i + 1, len))
			return plan_yaml_node_err(y, n, "%s: unknown placeholder "
						  "'{%.*s}' (expected {server}, "
						  "{backend}, {addr}, {port} or "
						  "{peer}; write {{ for a "
						  "literal brace)", path,
						  (int)(len < 40 ? len : 40),
						  s + i + 1);
		i = (size_t)(end - s);
	}
	if (rc == 0)
		rc = plan_yaml_get_str(y, n, path, what, out);
	return rc;
}

int plan_yaml_get_bool(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, bool *out)
{
	if (n->kind == PLAN_YNODE_SCALAR && strcasecmp(n->text, "true") == 0)
		*out = true;
	else if (n->kind == PLAN_YNODE_SCALAR &&
		 strcasecmp(n->text, "false") == 0)
		*out = false;
	else
		return plan_yaml_expected(y, n, path, "true or false");
	return 0;
}

/* "a, b, c" or, with last_or, "a, b or c". */
static void join_names(char *buf, size_t sz, const char *const *names,
		       size_t n, bool last_or)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < sz; i++) {
		const char *sep = i == 0 ? "" :
				  last_or && i == n - 1 ? " or " : ", ";
		int w = snprintf(buf + o, sz - o, "%s%s", sep, names[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

int plan_yaml_get_enum(const struct plan_yctx *y, const struct plan_ynode *n,
		       const char *path, const char *const *names,
		       size_t count, unsigned *out)
{
	char what[128];
	size_t i;

	if (n->kind == PLAN_YNODE_SCALAR) {
		for (i = 0; i < count; i++) {
			if (strcmp(n->text, names[i]) == 0) {
				*out = (unsigned)i;
				return 0;
			}
		}
	}
	join_names(what, sizeof(what), names, count, true);
	return plan_yaml_expected(y, n, path, what);
}

int plan_yaml_map(const struct plan_yctx *y, const struct plan_ynode *n,
		  const char *section, const char *const *keys, size_t nkeys,
		  const struct plan_ynode **vals)
{
	char got[80], list[256], in[64];
	size_t i, j, k;

	for (k = 0; k < nkeys; k++)
		vals[k] = NULL;
	if (n->kind != PLAN_YNODE_MAP)
		return plan_yaml_expected(y, n, section != NULL ? section
							       : "the plan",
					  "a mapping");
	in[0] = '\0';
	if (section != NULL)
		snprintf(in, sizeof(in), " in %s", section);
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct plan_ynode *key = n->kids[i];

		if (!plan_yaml_is_str(key))
			return plan_yaml_node_err(y, key, "expected a key "
						  "name%s, got %s", in,
						  plan_yaml_describe(key, got,
								     sizeof(got)));
		for (k = 0; k < nkeys; k++)
			if (strcmp(key->text, keys[k]) == 0)
				break;
		if (k == nkeys) {
			join_names(list, sizeof(list), keys, nkeys, false);
			return plan_yaml_node_err(y, key, "unknown key %s%s "
						  "(expected %s)",
						  plan_yaml_describe(key, got,
								     sizeof(got)),
						  in, list);
		}
		if (vals[k] != NULL) {
			for (j = 0; strcmp(n->kids[j]->text, keys[k]) != 0;
			     j += 2)
				;	/* the first use: it is there */
			return plan_yaml_node_err(y, key, "duplicate key '%s'%s "
						  "(first at %d:%d)", keys[k],
						  in, n->kids[j]->line,
						  n->kids[j]->col);
		}
		vals[k] = n->kids[i + 1];
	}
	return 0;
}

const struct plan_ynode *plan_yaml_find_key(const struct plan_ynode *n,
					    const char *key,
					    const struct plan_ynode **val)
{
	size_t i;

	if (val != NULL)
		*val = NULL;
	if (n->kind != PLAN_YNODE_MAP)
		return NULL;
	for (i = 0; i + 1 < n->n; i += 2) {
		if (plan_yaml_is_str(n->kids[i]) &&
		    strcmp(n->kids[i]->text, key) == 0) {
			if (val != NULL)
				*val = n->kids[i + 1];
			return n->kids[i];
		}
	}
	return NULL;
}

int plan_yaml_missing(const struct plan_yctx *y, const struct plan_ynode *map,
		      const char *section, const char *key)
{
	if (section == NULL)
		return plan_yaml_node_err(y, map, "missing required key '%s'",
					  key);
	return plan_yaml_node_err(y, map, "missing required key '%s' in %s",
				  key, section);
}

int plan_yaml_read_file(const char *path, size_t max, char **buf,
			size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *b, *nb;
	ssize_t r;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(cap);
	while (b != NULL && rc == 0) {
		if (n == cap) {
			if (cap > max)
				break;	/* max + 1 bytes read: enough to refuse */
			cap = cap * 2 > max ? max + 1 : cap * 2;
			nb = realloc(b, cap);
			if (nb == NULL) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0)
			break;
		else if (errno != EINTR)
			rc = -errno;
	}
	close(fd);
	if (b == NULL)
		return UV_ENOMEM;
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}
