/* stat_proc.c - parser of `show proc` on HAProxy's master CLI: which
 * worker processes exist, and which of them are old workers still holding
 * the sessions they had before a reload (HAPROXY.md §3.5, §6). Pure. A
 * 2.6 reply:
 *
 *   #<PID>          <type>          <reloads>       <uptime>        <version>
 *   31466           master          4 [failed: 0]   0d00h02m29s     2.6.12
 *   # workers
 *   9184            worker          0               0d00h00m02s     2.6.12
 *   # old workers
 *   8932            worker          1               0d00h00m10s     2.6.12
 *   # programs
 */
#include "stat.h"

#include <stdio.h>
#include <string.h>

enum proc_section {
	PROC_SEC_TOP = 0,	/* the master line */
	PROC_SEC_WORKERS,
	PROC_SEC_OLD,
	PROC_SEC_OTHER,		/* "# programs" or a section we do not know */
	PROC_SEC_COUNT		/* keep last */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next whitespace-separated word of [*p, end): its start and length;
 * length 0 at the end of the line. */
static size_t next_word(const char **p, const char *end, const char **word)
{
	const char *s = *p;

	while (s < end && is_blank(*s))
		s++;
	*word = s;
	while (s < end && !is_blank(*s))
		s++;
	*p = s;
	return (size_t)(s - *word);
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(w, lit, n) == 0;
}

/* A pid: 1 to 10 digits, more than 0. */
static bool parse_pid(const char *w, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		v = v * 10 + (w[i] - '0');
	}
	*out = v;
	return v > 0;
}

static int fail(struct proc_list *out, struct cut_err *err, size_t lineno,
		const char *line, size_t n, const char *what)
{
	char shown[64];

	out->n = 0;
	out->master_pid = -1;
	snprintf(shown, sizeof(shown), "%.*s", (int)(n < 60 ? n : 60), line);
	for (n = 0; shown[n] != '\0'; n++)
		if ((unsigned char)shown[n] < 0x20 || shown[n] == 0x7f)
			shown[n] = '?';
	return cut_err_set(err, CUT_EPROTO, "show proc",
			   "line %zu: %s: '%s'", lineno, what, shown);
}

static enum proc_section section_of(const char *line, size_t n)
{
	const char *p = line + 1, *end = line + n, *w;
	size_t wn = next_word(&p, end, &w), wn2;
	const char *w2;

	if (word_is(w, wn, "workers"))
		return PROC_SEC_WORKERS;
	wn2 = next_word(&p, end, &w2);
	if (word_is(w, wn, "old") && word_is(w2, wn2, "workers"))
		return PROC_SEC_OLD;
	return PROC_SEC_OTHER;
}

int stat_parse_proc(const char *text, size_t len, struct proc_list *out,
		    struct cut_err *err)
{
	enum proc_section sec = PROC_SEC_TOP;
	const char *p = text, *end = text + len, *nl, *w, *q;
	size_t n, wn, lineno = 0;
	bool header = false;
	int64_t pid;

	out->n = 0;
	out->master_pid = -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		q = p;
		wn = next_word(&q, p + n, &w);
		if (wn == 0) {
			/* blank line: the end of a non-interactive reply */
		} else if (!header) {
			if (wn < 6 || memcmp(w, "#<PID>", 6) != 0)
				return fail(out, err, lineno, p, n,
					    "not a 'show proc' reply");
			header = true;
		} else if (w[0] == '#') {
			sec = section_of(w, (size_t)(p + n - w));
		} else if (sec == PROC_SEC_OTHER) {
			/* a program, or a section we do not know */
		} else {
			if (!parse_pid(w, wn, &pid))
				return fail(out, err, lineno, p, n,
					    "expected a process id");
			wn = next_word(&q, p + n, &w);
			if (sec == PROC_SEC_TOP) {
				if (!word_is(w, wn, "master"))
					return fail(out, err, lineno, p, n,
						    "expected the master line");
				out->master_pid = pid;
			} else {
				if (!word_is(w, wn, "worker"))
					return fail(out, err, lineno, p, n,
						    "expected a worker line");
				if (out->n == PROC_WORKERS_MAX)
					return fail(out, err, lineno, p, n,
						    "too many workers");
				out->w[out->n].pid = pid;
				out->w[out->n].old = sec == PROC_SEC_OLD;
				out->n++;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (!header)
		return fail(out, err, 0, "", 0, "empty 'show proc' reply");
	return 0;
}
