/* test_stat_sess.c - unit tests for src/stat_sess.c: the parsers of
 * `show sess`, `show map`, `show map <map>` and `get map`.
 *
 * Inputs are replies captured from a real HAProxy 2.6.12 and hostile
 * variants crafted from them (tests/unit/data/stat_sess/README.md). They
 * are read from $CUTOVER_TEST_DATA/stat_sess/ or tests/unit/data/stat_sess/
 * into buffers of exactly their size, with no NUL after the text, so that
 * ASan catches a parser that reads past `len`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "stat.h"

/* ---- fixtures and helpers ------------------------------------------- */

struct fixture {
	char *data;	/* exactly len bytes, not NUL-terminated */
	size_t len;
};

static void fixture_load(struct fixture *fx, const char *name)
{
	const char *dir = getenv("CUTOVER_TEST_DATA");
	char path[512];
	FILE *f;
	long sz;

	snprintf(path, sizeof(path), "%s/stat_sess/%s",
		 dir != NULL ? dir : "tests/unit/data", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s (run from the repository "
			 "root or set CUTOVER_TEST_DATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	fx->len = (size_t)sz;
	fx->data = malloc(fx->len > 0 ? fx->len : 1);
	assert_non_null(fx->data);
	assert_int_equal(fread(fx->data, 1, fx->len, f), fx->len);
	fclose(f);
}

static void fixture_free(struct fixture *fx)
{
	free(fx->data);
	fx->data = NULL;
	fx->len = 0;
}

/* A copy of a C string without its NUL, like a reply off the wire. */
static void fixture_text(struct fixture *fx, const char *text)
{
	fx->len = strlen(text);
	fx->data = malloc(fx->len > 0 ? fx->len : 1);
	assert_non_null(fx->data);
	memcpy(fx->data, text, fx->len);
}

/* The error case: CUT_EPROTO and a message that names the line ("show
 * sess line 5:") and what was wrong. */
static void expect_msg(const struct cut_err *err, const char *line,
		       const char *what)
{
	assert_int_equal(err->code, CUT_EPROTO);
	if (strstr(err->msg, line) == NULL || strstr(err->msg, what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err->msg,
			 line, what);
}

static void load_sess(const char *name, struct sess_table *t)
{
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	if (stat_parse_sess(fx.data, fx.len, t, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	fixture_free(&fx);
}

static void expect_sess_error(const char *name, const char *line,
			      const char *what)
{
	struct sess_row dummy;
	struct sess_table t = { .rows = &dummy, .n = 99 };
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	assert_int_equal(stat_parse_sess(fx.data, fx.len, &t, &err),
			 CUT_EPROTO);
	assert_null(t.rows);
	assert_int_equal(t.n, 0);
	expect_msg(&err, line, what);
	fixture_free(&fx);
}

static void load_map_list(const char *name, struct map_list *l)
{
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	if (stat_parse_map_list(fx.data, fx.len, l, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	fixture_free(&fx);
}

static void expect_map_list_error(const char *name, const char *line,
				  const char *what)
{
	struct map_info dummy;
	struct map_list l = { .maps = &dummy, .n = 99 };
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	assert_int_equal(stat_parse_map_list(fx.data, fx.len, &l, &err),
			 CUT_EPROTO);
	assert_null(l.maps);
	assert_int_equal(l.n, 0);
	expect_msg(&err, line, what);
	fixture_free(&fx);
}

static void load_entries(const char *name, struct map_entries *e)
{
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	if (stat_parse_map_entries(fx.data, fx.len, e, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	fixture_free(&fx);
}

static void expect_entries_error(const char *name, const char *line,
				 const char *what)
{
	struct map_entry dummy;
	struct map_entries e = { .entries = &dummy, .n = 99 };
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	assert_int_equal(stat_parse_map_entries(fx.data, fx.len, &e, &err),
			 CUT_EPROTO);
	assert_null(e.entries);
	assert_int_equal(e.n, 0);
	expect_msg(&err, line, what);
	fixture_free(&fx);
}

static void load_get(const char *name, struct map_lookup *m)
{
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	if (stat_parse_map_get(fx.data, fx.len, m, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	fixture_free(&fx);
}

static void expect_get_error(const char *name, const char *line,
			     const char *what)
{
	struct map_lookup m;
	struct cut_err err = { 0 };
	struct fixture fx;

	fixture_load(&fx, name);
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(stat_parse_map_get(fx.data, fx.len, &m, &err),
			 CUT_EPROTO);
	assert_false(m.found);
	assert_int_equal(m.nexpr, 0);
	assert_string_equal(m.value, "");
	expect_msg(&err, line, what);
	fixture_free(&fx);
}

static const struct sess_row *sess_by_ptr(const struct sess_table *t,
					  const char *ptr)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].ptr, ptr) == 0)
			return &t->rows[i];
	fail_msg("no session %s", ptr);
	return NULL;
}

static void assert_sess_tables_equal(const struct sess_table *a,
				     const struct sess_table *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->rows[i].ptr, b->rows[i].ptr);
		assert_string_equal(a->rows[i].proto, b->rows[i].proto);
		assert_string_equal(a->rows[i].src, b->rows[i].src);
		assert_string_equal(a->rows[i].fe, b->rows[i].fe);
		assert_string_equal(a->rows[i].be, b->rows[i].be);
		assert_string_equal(a->rows[i].srv, b->rows[i].srv);
		assert_int_equal(a->rows[i].age_sec, b->rows[i].age_sec);
	}
}

/* ---- show sess: real replies ---------------------------------------- */

static void test_sess_real(void **state)
{
	struct sess_table t;
	const struct sess_row *r;

	load_sess("show_sess_young.txt", &t);
	assert_int_equal(t.n, 7);
	r = &t.rows[0];
	assert_string_equal(r->ptr, "0x56120d3c2890");
	assert_string_equal(r->proto, "tcpv4");
	assert_string_equal(r->src, "127.0.0.1:42982");
	assert_string_equal(r->fe, "fe_tcp");
	assert_string_equal(r->be, "be_tcp");
	assert_string_equal(r->srv, "t1");
	assert_int_equal(r->age_sec, 8);
	/* IPv6 client: the address holds colons, the port is after the
	 * last one. */
	r = sess_by_ptr(&t, "0x56120d4e5a80");
	assert_string_equal(r->proto, "tcpv6");
	assert_string_equal(r->src, "::1:34802");
	assert_string_equal(r->srv, "t1");
	/* A stream held by tcp-request inspect-delay: no backend yet. */
	r = sess_by_ptr(&t, "0x56120d4e62a0");
	assert_string_equal(r->fe, "fe_wait");
	assert_string_equal(r->be, "<NONE>");
	assert_string_equal(r->srv, "<none>");
	/* The CLI session that asked, over the unix socket. */
	r = sess_by_ptr(&t, "0x56120d4eafb0");
	assert_string_equal(r->proto, "unix_stream");
	assert_string_equal(r->src, "unix:1");
	assert_string_equal(r->fe, "GLOBAL");
	assert_string_equal(r->be, "<NONE>");
	assert_string_equal(r->srv, "<none>");
	assert_int_equal(r->age_sec, 0);
	/* An HTTP request waiting on its server. */
	r = sess_by_ptr(&t, "0x7f7db0046c00");
	assert_string_equal(r->fe, "fe_http");
	assert_string_equal(r->be, "be_blue");
	assert_string_equal(r->srv, "b1");
	sess_table_free(&t);
	assert_null(t.rows);
	assert_int_equal(t.n, 0);
}

static void test_sess_operator_and_tcp_cli(void **state)
{
	struct sess_table t;
	const struct sess_row *r;

	load_sess("show_sess_oper.txt", &t);
	assert_int_equal(t.n, 7);
	r = sess_by_ptr(&t, "0x56120d4eafb0");
	assert_string_equal(r->src, "unix:2");	/* operator = 2nd socket */
	sess_table_free(&t);

	/* Over the TCP stats socket the CLI session has a real source. */
	load_sess("show_sess_tcp_cli.txt", &t);
	r = sess_by_ptr(&t, "0x56120d4eafb0");
	assert_string_equal(r->proto, "tcpv4");
	assert_string_equal(r->src, "127.0.0.1:33492");
	assert_string_equal(r->fe, "GLOBAL");
	assert_false(sess_row_is(r, "GLOBAL", NULL));
	sess_table_free(&t);
}

static void age_of_first_tcp(const char *name, int64_t want)
{
	struct sess_table t;
	const struct sess_row *r;
	size_t i = 0;

	load_sess(name, &t);
	r = sess_table_next(&t, "be_tcp", NULL, &i);
	assert_non_null(r);
	assert_int_equal(r->age_sec, want);
	sess_table_free(&t);
}

/* Ages captured on long-lived TCP sessions: "1m" and "2m" have no seconds
 * part (human_time() leaves zero parts out). */
static void test_sess_real_ages(void **state)
{
	age_of_first_tcp("show_sess_age_59s.txt", 59);
	age_of_first_tcp("show_sess_age_1m.txt", 60);
	age_of_first_tcp("show_sess_age_1m1s.txt", 61);
	age_of_first_tcp("show_sess_age_2m.txt", 120);
	age_of_first_tcp("show_sess_age_2m14s.txt", 134);
}

static void test_sess_select(void **state)
{
	struct sess_table t;
	const struct sess_row *r;
	size_t i = 0, n = 0;

	load_sess("show_sess_young.txt", &t);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t1"), 2);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t2"), 2);
	assert_int_equal(sess_table_count(&t, "be_tcp", NULL), 4);
	assert_int_equal(sess_table_count(&t, "be_blue", "b1"), 1);
	assert_int_equal(sess_table_count(&t, "be_tcp", "b1"), 0);
	assert_int_equal(sess_table_count(&t, "nosuch", NULL), 0);
	/* Placeholders are not names: CLI and unassigned streams never
	 * match. */
	assert_int_equal(sess_table_count(&t, "<NONE>", NULL), 0);
	assert_int_equal(sess_table_count(&t, "<NONE>", "<none>"), 0);
	assert_int_equal(sess_table_count(&t, "be_tcp", "<none>"), 0);
	while ((r = sess_table_next(&t, "be_tcp", "t1", &i)) != NULL) {
		assert_string_equal(r->srv, "t1");
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(i, t.n);
	assert_null(sess_table_next(&t, "be_tcp", "t1", &i));
	sess_table_free(&t);
}

/* 300 tcpclients through fe_tcp (roundrobin t1/t2), then after `set
 * server be_tcp/t1 state drain` + `shutdown sessions server be_tcp/t1`
 * and 3 s: every client came back, all on t2. */
static void test_sess_300_shed(void **state)
{
	struct sess_table t;

	load_sess("show_sess_300.txt", &t);
	assert_int_equal(t.n, 301);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t1"), 150);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t2"), 150);
	assert_int_equal(sess_table_count(&t, "be_tcp", NULL), 300);
	sess_table_free(&t);
	load_sess("show_sess_300_shed.txt", &t);
	assert_int_equal(t.n, 301);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t1"), 0);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t2"), 300);
	sess_table_free(&t);
}

/* `show sess <ptr>` (the detail of one stream) is another format. This
 * one is a stream killed by `shutdown session` while it waited in a
 * tcp-request inspect-delay: 2.6.12 still listed it minutes later. */
static void test_sess_detail_rejected(void **state)
{
	expect_sess_error("show_sess_detail_killed.txt", "show sess line 1:",
			  "no src= field");
}

static void test_sess_error_replies(void **state)
{
	expect_sess_error("reply_plain_perm_show_sess.txt",
			  "show sess line 1:", "expected \"0x<hex>: \"");
	expect_sess_error("reply_num_shutdown_nosuch.txt", "show sess line 1:",
			  "empty reply");
}

static void test_sess_empty(void **state)
{
	struct sess_table t;
	struct cut_err err = { 0 };

	assert_int_equal(stat_parse_sess("", 0, &t, &err), CUT_EPROTO);
	expect_msg(&err, "show sess line 1:", "empty reply");
	assert_int_equal(stat_parse_sess(NULL, 0, &t, &err), CUT_EPROTO);
	assert_null(t.rows);
	assert_int_equal(stat_parse_sess("\n\n", 2, &t, NULL), CUT_EPROTO);
	expect_sess_error("crafted_sess_leading_empty.txt", "show sess line 1:",
			  "empty reply");
}

/* ---- show sess: ages ------------------------------------------------ */

static void test_sess_age_forms(void **state)
{
	static const int64_t want[] = {
		0, 59, 60, 61, 3599, 3600, 3605, 3900, 86340, 86400, 86405,
		183600, 24855LL * 86400 + 23 * 3600, -1,
	};
	struct sess_table t;
	size_t i;

	load_sess("crafted_sess_age_forms.txt", &t);
	assert_int_equal(t.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < t.n; i++)
		assert_int_equal(t.rows[i].age_sec, want[i]);
	sess_table_free(&t);
}

static void test_parse_age_direct(void **state)
{
	static const char *const bad[] = {
		"", "s", "7", "-1s", "1m75s", "1h60m", "2d24h", "5s1m", "1m1m",
		"7ms", "1x", "99999999999s", "?s", "??", " 1s", "1s ",
	};
	int64_t v;
	size_t i;

	assert_int_equal(stat_parse_age("1m1s", 4, &v), 0);
	assert_int_equal(v, 61);
	assert_int_equal(stat_parse_age("1d2h3m4s", 8, &v), 0);
	assert_int_equal(v, 93784);
	assert_int_equal(stat_parse_age("90m", 3, &v), 0);	/* 1st part */
	assert_int_equal(v, 5400);
	assert_int_equal(stat_parse_age("9999999999d", 11, &v), 0);
	assert_int_equal(v, 9999999999LL * 86400);
	/* len is authoritative: "1m1s" read as "1m" */
	assert_int_equal(stat_parse_age("1m1s", 2, &v), 0);
	assert_int_equal(v, 60);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (stat_parse_age(bad[i], strlen(bad[i]), &v) != CUT_EPROTO)
			fail_msg("age \"%s\" accepted", bad[i]);
		assert_int_equal(v, 12345);
	}
	assert_int_equal(stat_parse_age(NULL, 0, &v), CUT_EPROTO);
}

static void test_sess_bad_ages(void **state)
{
	static const char *const tags[] = {
		"no_unit", "over_60", "negative", "unit_only", "order",
		"twice", "ms", "huge",
	};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		snprintf(name, sizeof(name), "crafted_sess_age_%s.txt",
			 tags[i]);
		expect_sess_error(name, "show sess line 3:",
				  "is not a HAProxy duration");
	}
	expect_sess_error("crafted_sess_age_empty.txt", "show sess line 3:",
			  "age");
}

/* ---- show sess: hostile input --------------------------------------- */

static void test_sess_truncated(void **state)
{
	expect_sess_error("crafted_sess_truncated.txt", "show sess line 3:",
			  "truncated");
	/* Cut just after the age, newline kept: calls= is missing. */
	expect_sess_error("crafted_sess_cut_after_age.txt", "show sess line 2:",
			  "no calls= field");
}

static void test_sess_garbage(void **state)
{
	expect_sess_error("crafted_sess_garbage.bin", "show sess line 1:",
			  "expected");
}

static void test_sess_embedded_nul(void **state)
{
	expect_sess_error("crafted_sess_nul.txt", "show sess line 4:",
			  "NUL byte");
}

static void test_sess_oversized(void **state)
{
	struct sess_table t;

	expect_sess_error("crafted_sess_long_srv.txt", "show sess line 2:",
			  "srv too long (200 bytes, max 127)");
	load_sess("crafted_sess_name_127.txt", &t);
	assert_int_equal(strlen(t.rows[0].be), STAT_NAME_MAX - 1);
	sess_table_free(&t);
	expect_sess_error("crafted_sess_name_128.txt", "show sess line 1:",
			  "be too long");
	/* 100 KB in words the parser does not keep is fine. */
	load_sess("crafted_sess_long_unused.txt", &t);
	assert_int_equal(t.n, 7);
	sess_table_free(&t);
}

static void test_sess_bad_lines(void **state)
{
	expect_sess_error("crafted_sess_bad_ptr.txt", "show sess line 3:",
			  "\"0x<hex>: \"");
	expect_sess_error("crafted_sess_ptr_17_digits.txt", "show sess line 1:",
			  "\"0x<hex>: \"");
	expect_sess_error("crafted_sess_no_colon.txt", "show sess line 1:",
			  "\"0x<hex>: \"");
	expect_sess_error("crafted_sess_missing_srv.txt", "show sess line 5:",
			  "no srv= field");
	expect_sess_error("crafted_sess_dup_be.txt", "show sess line 6:",
			  "be= appears twice");
	expect_sess_error("crafted_sess_empty_srv.txt", "show sess line 1:",
			  "empty srv");
	expect_sess_error("crafted_sess_bad_calls.txt", "show sess line 1:",
			  "calls \"3x\" is not a number");
	expect_sess_error("crafted_sess_ctrl_in_src.txt", "show sess line 1:",
			  "control byte");
}

static void test_sess_variants(void **state)
{
	struct sess_table real, t;

	load_sess("show_sess_young.txt", &real);
	load_sess("crafted_sess_crlf.txt", &t);
	assert_sess_tables_equal(&real, &t);
	sess_table_free(&t);
	load_sess("crafted_sess_reordered.txt", &t);
	assert_sess_tables_equal(&real, &t);
	sess_table_free(&t);
	load_sess("crafted_sess_double_space.txt", &t);
	assert_sess_tables_equal(&real, &t);
	sess_table_free(&t);
	sess_table_free(&real);
}

/* Cut the real reply at every byte: every prefix either parses (it ends
 * on a line boundary) or is CUT_EPROTO; nothing crashes or leaks. */
static void test_sess_every_prefix(void **state)
{
	struct fixture fx;
	struct sess_table t;
	size_t cut, ok = 0;
	char *buf;

	fixture_load(&fx, "show_sess_young.txt");
	for (cut = 0; cut <= fx.len; cut++) {
		int rc;

		buf = malloc(cut > 0 ? cut : 1);
		assert_non_null(buf);
		memcpy(buf, fx.data, cut);
		rc = stat_parse_sess(buf, cut, &t, NULL);
		if (rc == 0) {
			assert_true(cut > 0 && buf[cut - 1] == '\n');
			ok++;
			sess_table_free(&t);
		} else {
			assert_int_equal(rc, CUT_EPROTO);
			assert_null(t.rows);
		}
		free(buf);
	}
	assert_int_equal(ok, 7 + 1);	/* after each line, and the final \n */
	fixture_free(&fx);
}

/* Many streams: the parse is linear. 20,000 copies of a real line (about
 * 6.6 MB); the time is printed, not asserted. */
static void test_sess_many(void **state)
{
	struct fixture fx;
	struct sess_table t;
	const char *nl;
	size_t ln, i, n = 20000;
	char *big, *p;
	clock_t c0;

	fixture_load(&fx, "show_sess_young.txt");
	nl = memchr(fx.data, '\n', fx.len);
	assert_non_null(nl);
	ln = (size_t)(nl - fx.data) + 1;
	big = malloc(ln * n + 1);
	assert_non_null(big);
	for (i = 0, p = big; i < n; i++, p += ln)
		memcpy(p, fx.data, ln);
	*p = '\n';
	c0 = clock();
	assert_int_equal(stat_parse_sess(big, ln * n + 1, &t, NULL), 0);
	print_message("show sess: %zu lines, %zu bytes in %.1f ms\n", n,
		      ln * n + 1, (double)(clock() - c0) * 1000.0 /
		      CLOCKS_PER_SEC);
	assert_int_equal(t.n, n);
	assert_int_equal(sess_table_count(&t, "be_tcp", "t1"), n);
	sess_table_free(&t);
	free(big);
	fixture_free(&fx);
}

/* ---- show map ------------------------------------------------------- */

static void test_map_list_real(void **state)
{
	struct map_list l;
	const struct map_info *m;

	load_map_list("show_map.txt", &l);
	assert_int_equal(l.n, 2);
	m = &l.maps[0];
	assert_int_equal(m->id, 1);
	assert_string_equal(m->file, "/tmp/sesscap.yJs3/hosts.map");
	assert_int_equal(m->curr_ver, 0);
	assert_int_equal(m->next_ver, 0);
	assert_int_equal(m->entry_cnt, 4);	/* for 2 entries: see stat.h */
	m = map_list_find(&l, "/tmp/sesscap.yJs3/bg.map");
	assert_non_null(m);
	assert_int_equal(m->id, 6);
	assert_int_equal(m->entry_cnt, 1);
	assert_null(map_list_find(&l, "bg.map"));
	map_list_free(&l);
	assert_null(l.maps);
	assert_int_equal(l.n, 0);
}

static void test_map_list_versions(void **state)
{
	struct map_list l;
	const struct map_info *m;

	/* after `prepare map` and two `add map @1` */
	load_map_list("show_map_prepared.txt", &l);
	m = map_list_find(&l, "/tmp/sesscap.yJs3/bg.map");
	assert_non_null(m);
	assert_int_equal(m->curr_ver, 0);
	assert_int_equal(m->next_ver, 1);
	assert_int_equal(m->entry_cnt, 3);
	map_list_free(&l);
	/* after `commit map @1` */
	load_map_list("show_map_committed.txt", &l);
	m = map_list_find(&l, "/tmp/sesscap.yJs3/bg.map");
	assert_non_null(m);
	assert_int_equal(m->curr_ver, 1);
	assert_int_equal(m->next_ver, 1);
	assert_int_equal(m->entry_cnt, 2);
	map_list_free(&l);
}

static void test_map_list_variants(void **state)
{
	struct map_list l;

	load_map_list("crafted_map_list_header_only.txt", &l);
	assert_int_equal(l.n, 0);
	assert_null(l.maps);
	map_list_free(&l);
	load_map_list("crafted_map_list_old.txt", &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.maps[1].id, 6);
	assert_int_equal(l.maps[1].curr_ver, -1);
	assert_int_equal(l.maps[1].next_ver, -1);
	assert_int_equal(l.maps[1].entry_cnt, -1);
	map_list_free(&l);
	load_map_list("crafted_map_list_no_desc.txt", &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.maps[0].file, "/etc/haproxy/x.map");
	map_list_free(&l);
}

static void test_map_list_hostile(void **state)
{
	struct map_list l;
	struct cut_err err = { 0 };

	expect_map_list_error("crafted_map_list_no_header.txt",
			      "show map line 1:", "header");
	expect_map_list_error("crafted_map_list_bad_id.txt", "show map line 2:",
			      "expected \"<id> (<file>) ...\"");
	expect_map_list_error("crafted_map_list_no_close.txt",
			      "show map line 2:", "no \")\"");
	expect_map_list_error("crafted_map_list_long_file.txt",
			      "show map line 3:", "file too long");
	expect_map_list_error("crafted_map_list_bad_ver.txt", "show map line 3:",
			      "curr_ver \"abc\" is not a number");
	expect_map_list_error("crafted_map_list_truncated.txt",
			      "show map line 3:", "truncated");
	expect_map_list_error("crafted_map_list_nul.txt", "show map line 2:",
			      "NUL byte");
	expect_map_list_error("reply_num_show_map_unknown.txt",
			      "show map line 1:", "empty reply");
	expect_map_list_error("show_map_unknown.txt", "show map line 1:",
			      "Unknown map identifier");
	assert_int_equal(stat_parse_map_list("", 0, &l, &err), CUT_EPROTO);
	expect_msg(&err, "show map line 1:", "empty reply");
}

/* ---- show map <map> ------------------------------------------------- */

static void test_map_entries_real(void **state)
{
	struct map_entries e;
	const struct map_entry *m;

	load_entries("show_map_bg.txt", &e);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.entries[0].ref, "0x56120d3103f0");
	assert_string_equal(e.entries[0].key, "active");
	assert_string_equal(e.entries[0].value, "be_blue");
	map_entries_free(&e);
	assert_null(e.entries);

	load_entries("show_map_hosts.txt", &e);
	assert_int_equal(e.n, 2);
	m = map_entries_find(&e, "www.example.com");
	assert_non_null(m);
	assert_string_equal(m->ref, "0x56120d2ff4b0");
	assert_string_equal(m->value, "be_green");
	assert_null(map_entries_find(&e, "example.org"));
	map_entries_free(&e);

	/* `show map @1 <map>` of a prepared version */
	load_entries("show_map_bg_v1.txt", &e);
	assert_int_equal(e.n, 2);
	assert_string_equal(map_entries_find(&e, "active")->value, "be_green");
	assert_string_equal(map_entries_find(&e, "spare")->value, "be_blue");
	map_entries_free(&e);
}

static void test_map_entries_empty_and_dup(void **state)
{
	struct map_entries e;
	struct cut_err err = { 0 };

	/* An empty map answers "\n" only; "" once rtapi strips the prompt. */
	load_entries("show_map_bg_empty.txt", &e);
	assert_int_equal(e.n, 0);
	assert_null(e.entries);
	assert_int_equal(stat_parse_map_entries("", 0, &e, &err), 0);
	assert_int_equal(e.n, 0);

	/* `add map` twice with one key: both listed, the first wins. */
	load_entries("show_map_bg_dup.txt", &e);
	assert_int_equal(e.n, 2);
	assert_string_equal(map_entries_find(&e, "active")->value, "be_green");
	assert_string_equal(e.entries[1].value, "be_blue");
	map_entries_free(&e);
}

/* Key "sp ace" (added as "sp\ ace"): the dump cannot show where the key
 * ends, so it reads as key "sp". Documented in stat.h. */
static void test_map_entries_spaces(void **state)
{
	struct map_entries e;

	load_entries("show_map_bg_spaces.txt", &e);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.entries[2].key, "sp");
	assert_string_equal(e.entries[2].value, "ace two words");
	map_entries_free(&e);
	load_entries("crafted_map_entries_empty_value.txt", &e);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.entries[0].key, "k");
	assert_string_equal(e.entries[0].value, "");
	map_entries_free(&e);
}

static void test_map_entries_hostile(void **state)
{
	expect_entries_error("crafted_map_entries_bad_ref.txt",
			     "show map <map> line 2:", "0x<hex> <key> <value>");
	expect_entries_error("crafted_map_entries_no_value.txt",
			     "show map <map> line 2:", "has no value");
	expect_entries_error("crafted_map_entries_long_key.txt",
			     "show map <map> line 2:", "key too long");
	expect_entries_error("crafted_map_entries_long_value.txt",
			     "show map <map> line 1:", "value too long");
	expect_entries_error("crafted_map_entries_ctrl.txt",
			     "show map <map> line 2:", "control byte");
	expect_entries_error("crafted_map_entries_truncated.txt",
			     "show map <map> line 2:", "truncated");
	/* 300 random bytes without a newline */
	expect_entries_error("crafted_map_entries_garbage.bin",
			     "show map <map> line 1:", "truncated");
	expect_entries_error("show_map_unknown.txt", "show map <map> line 1:",
			     "Unknown map identifier");
}

/* ---- get map -------------------------------------------------------- */

static void test_get_map_real(void **state)
{
	struct map_lookup m;

	load_get("get_map_found.txt", &m);
	assert_true(m.found);
	assert_int_equal(m.nexpr, 1);
	assert_string_equal(m.match, "str");
	assert_false(m.icase);
	assert_string_equal(m.key, "active");
	assert_string_equal(m.value, "be_blue");
	assert_string_equal(m.smp_type, "str");

	load_get("get_map_found_green.txt", &m);
	assert_string_equal(m.value, "be_green");

	load_get("get_map_notfound.txt", &m);
	assert_false(m.found);
	assert_int_equal(m.nexpr, 1);
	assert_string_equal(m.match, "str");
	assert_string_equal(m.key, "");
	assert_string_equal(m.value, "");
}

/* A map used by map_str() and map_beg() answers one line per use. */
static void test_get_map_two_expressions(void **state)
{
	struct map_lookup m;

	load_get("get_map_hosts_found.txt", &m);
	assert_true(m.found);
	assert_int_equal(m.nexpr, 2);
	assert_string_equal(m.match, "str");
	assert_string_equal(m.key, "www.example.com");
	assert_string_equal(m.value, "be_green");

	load_get("get_map_hosts_notfound.txt", &m);
	assert_false(m.found);
	assert_int_equal(m.nexpr, 2);

	load_get("crafted_get_map_second_found.txt", &m);
	assert_true(m.found);
	assert_string_equal(m.match, "beg");
	assert_string_equal(m.value, "be_green");
}

/* HAProxy does not escape the quoted key and value. */
static void test_get_map_unescaped(void **state)
{
	struct map_lookup m;

	load_get("get_map_dup.txt", &m);
	assert_string_equal(m.value, "be_green");	/* the first entry */
	load_get("get_map_spaces.txt", &m);
	assert_string_equal(m.key, "sp ace");
	assert_string_equal(m.value, "two words");
	load_get("get_map_quote.txt", &m);
	assert_string_equal(m.key, "q\"uote");
	assert_string_equal(m.value, "va\"l");
}

static void test_get_map_variants(void **state)
{
	struct map_lookup m;

	load_get("crafted_get_map_key_unknown.txt", &m);
	assert_true(m.found);
	assert_string_equal(m.key, "");
	assert_string_equal(m.value, "be_blue");
	load_get("crafted_get_map_value_none.txt", &m);
	assert_true(m.found);
	assert_string_equal(m.key, "active");
	assert_string_equal(m.value, "");
	assert_string_equal(m.smp_type, "");
	load_get("crafted_get_map_empty_value.txt", &m);
	assert_true(m.found);
	assert_string_equal(m.value, "");
	assert_string_equal(m.smp_type, "str");
	load_get("crafted_get_map_insensitive.txt", &m);
	assert_true(m.icase);
}

static void test_get_map_hostile(void **state)
{
	struct map_lookup m;
	struct cut_err err = { 0 };

	expect_get_error("crafted_get_map_found_maybe.txt", "get map line 1:",
			 "got \"maybe, idx=tree");
	expect_get_error("crafted_get_map_no_case.txt", "get map line 1:",
			 "case=");
	expect_get_error("crafted_get_map_no_type.txt", "get map line 1:",
			 "no type=");
	expect_get_error("crafted_get_map_empty_type.txt", "get map line 1:",
			 "empty type");
	expect_get_error("crafted_get_map_truncated.txt", "get map line 1:",
			 "truncated");
	expect_get_error("crafted_get_map_acl.txt", "get map line 1:",
			 "found=yes|no");
	expect_get_error("crafted_get_map_no_then_more.txt", "get map line 1:",
			 "found=no at the end");
	expect_get_error("crafted_get_map_long_value.txt", "get map line 1:",
			 "value too long");
	expect_get_error("crafted_get_map_opening_quote_only.txt",
			 "get map line 1:", "no type=");
	expect_get_error("get_map_unknown.txt", "get map line 1:",
			 "expected \"type=...\"");
	expect_get_error("get_map_nokey.txt", "get map line 1:",
			 "Missing map identifier");
	expect_get_error("reply_num_get_map_unknown.txt", "get map line 1:",
			 "empty reply");
	assert_int_equal(stat_parse_map_get("", 0, &m, &err), CUT_EPROTO);
	expect_msg(&err, "get map line 1:", "empty reply");
	assert_int_equal(stat_parse_map_get("type=str\0", 9, &m, &err),
			 CUT_EPROTO);
	expect_msg(&err, "get map line 1:", "NUL byte");
}

/* ---- error texts of shutdown session / maps (stat_classify_reply) --- */

static void classify(const char *name, enum reply_kind kind, const char *msg)
{
	struct reply_class rc;
	struct fixture fx;

	fixture_load(&fx, name);
	stat_classify_reply(fx.data, fx.len, &rc);
	assert_int_equal(rc.kind, kind);
	assert_string_equal(rc.msg, msg);
	fixture_free(&fx);
}

static void test_classify_new_texts(void **state)
{
	struct reply_class rc;
	struct fixture fx;

	classify("reply_num_shutdown_nosuch.txt", REPLY_ERROR,
		 "No such session (use 'show sess').");
	classify("reply_num_get_map_unknown.txt", REPLY_ERROR,
		 "Unknown map identifier. Please use #<id> or <file>.");
	classify("reply_plain_shutdown_srv_nosuch.txt", REPLY_ERROR,
		 "No such server.");
	classify("reply_plain_shutdown_be_nosuch.txt", REPLY_ERROR,
		 "No such backend.");
	classify("reply_plain_shutdown_perm.txt", REPLY_ERROR,
		 "Permission denied");
	/* Known texts are errors even untagged. */
	classify("reply_plain_shutdown_nosuch.txt", REPLY_ERROR,
		 "No such session (use 'show sess').");
	/* Untagged and unknown to stat.c: plain mode cannot tell it from
	 * output, which is why rtapi sets severity-output number. */
	classify("reply_plain_shutdown_noarg.txt", REPLY_OUTPUT,
		 "Session pointer expected (use 'show sess').");
	/* Success of `shutdown session <ptr>` is silent ("\n" one-shot). */
	classify("reply_plain_shutdown_ok.txt", REPLY_OK, "");
	fixture_load(&fx, "reply_plain_prepare_map.txt");
	stat_classify_reply(fx.data, fx.len, &rc);
	assert_string_equal(rc.msg, "New version created: 1");
	fixture_free(&fx);
}

static void test_text_helper(void **state)
{
	struct fixture fx;
	struct map_lookup m;

	fixture_text(&fx, "type=str, case=sensitive, found=no\n");
	assert_int_equal(stat_parse_map_get(fx.data, fx.len, &m, NULL), 0);
	assert_false(m.found);
	fixture_free(&fx);
	/* no newline at the end: truncated */
	fixture_text(&fx, "type=str, case=sensitive, found=no");
	assert_int_equal(stat_parse_map_get(fx.data, fx.len, &m, NULL),
			 CUT_EPROTO);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sess_real),
		cmocka_unit_test(test_sess_operator_and_tcp_cli),
		cmocka_unit_test(test_sess_real_ages),
		cmocka_unit_test(test_sess_select),
		cmocka_unit_test(test_sess_300_shed),
		cmocka_unit_test(test_sess_detail_rejected),
		cmocka_unit_test(test_sess_error_replies),
		cmocka_unit_test(test_sess_empty),
		cmocka_unit_test(test_sess_age_forms),
		cmocka_unit_test(test_parse_age_direct),
		cmocka_unit_test(test_sess_bad_ages),
		cmocka_unit_test(test_sess_truncated),
		cmocka_unit_test(test_sess_garbage),
		cmocka_unit_test(test_sess_embedded_nul),
		cmocka_unit_test(test_sess_oversized),
		cmocka_unit_test(test_sess_bad_lines),
		cmocka_unit_test(test_sess_variants),
		cmocka_unit_test(test_sess_every_prefix),
		cmocka_unit_test(test_sess_many),
		cmocka_unit_test(test_map_list_real),
		cmocka_unit_test(test_map_list_versions),
		cmocka_unit_test(test_map_list_variants),
		cmocka_unit_test(test_map_list_hostile),
		cmocka_unit_test(test_map_entries_real),
		cmocka_unit_test(test_map_entries_empty_and_dup),
		cmocka_unit_test(test_map_entries_spaces),
		cmocka_unit_test(test_map_entries_hostile),
		cmocka_unit_test(test_get_map_real),
		cmocka_unit_test(test_get_map_two_expressions),
		cmocka_unit_test(test_get_map_unescaped),
		cmocka_unit_test(test_get_map_variants),
		cmocka_unit_test(test_get_map_hostile),
		cmocka_unit_test(test_classify_new_texts),
		cmocka_unit_test(test_text_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
