/* test_fleet.c - resolving operator names against several LBs' views,
 * and merging those views into a status report (both pure). The views are
 * built from `show servers state` / `show stat` text in HAProxy 2.6's
 * format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "fleet.h"
#include "status.h"

#define STATE_HDR "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state " \
	"srv_admin_state srv_uweight srv_iweight srv_time_since_last_change " \
	"srv_check_status srv_check_result srv_check_health srv_check_state " \
	"srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port " \
	"srv_record srv_use_ssl srv_check_port srv_check_addr srv_agent_addr " \
	"srv_agent_port\n"
#define ROW(be_id, be, sid, srv, op, admin, w) \
	#be_id " " be " " #sid " " srv " 127.0.0.1 " #op " " #admin " " #w \
	" " #w " 5 15 3 4 6 0 0 0 - 8080 - 0 0 - - 0\n"

#define STAT_HDR "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight," \
	"type,sid,iid,check_status,\n"

/* LB 1 and 2 agree but for app/web2 (drain on 1); LB 2 lacks other/web1. */
static const char *const lb_state[2] = {
	STATE_HDR ROW(3, "app", 1, "web1", 2, 0, 10) ROW(3, "app", 2, "web2", 2, 8, 10)
		ROW(4, "other", 1, "web1", 2, 0, 1) "\n",
	STATE_HDR ROW(3, "app", 1, "web1", 2, 0, 10) ROW(3, "app", 2, "web2", 2, 0, 10) "\n",
};
static const char *const lb_stat[2] = {
	STAT_HDR "app,web1,0,0,3,5,,9,UP,10,2,1,3,L7OK,\n"
		 "app,web2,1,1,2,5,,9,DRAIN,10,2,2,3,L7OK,\n"
		 "other,web1,0,0,0,0,,0,no check,1,2,1,4,,\n\n",
	STAT_HDR "app,web1,0,0,4,5,,9,UP,10,2,1,3,L7OK,\n"
		 "app,web2,0,0,0,5,,9,UP,10,2,2,3,L7OK,\n\n",
};

static struct fleet_view *make_view(size_t n, const enum rtapi_level *levels,
				    const int *status)
{
	struct fleet_view *v = calloc(1, sizeof(*v));
	size_t i;

	v->n = n;
	v->lb = calloc(n, sizeof(*v->lb));
	for (i = 0; i < n; i++) {
		v->lb[i].name = i == 0 ? "unix:/lb1.sock" : "tcp:10.0.0.2:9999";
		v->lb[i].level = levels ? levels[i] : RTAPI_LEVEL_ADMIN;
		v->lb[i].status = status ? status[i] : 0;
		if (v->lb[i].status != 0) {
			cut_err_set(&v->lb[i].err, v->lb[i].status, v->lb[i].name,
				    "cannot connect: connection refused");
			continue;
		}
		assert_int_equal(stat_parse_servers_state(lb_state[i],
							  strlen(lb_state[i]),
							  &v->lb[i].state, NULL), 0);
		assert_int_equal(stat_parse_csv(lb_stat[i], strlen(lb_stat[i]),
						&v->lb[i].stat, NULL), 0);
	}
	return v;
}

static int resolve(struct fleet_view *v, const char *a, const char *b,
		   enum rtapi_level lvl, struct fleet_targets *tg,
		   struct cut_err *err)
{
	const char *names[2] = { a, b };

	return fleet_resolve(v, names, b ? 2 : 1, lvl, tg, err);
}

static void test_resolve_full_name(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(resolve(v, "app/web2", NULL, RTAPI_LEVEL_ADMIN, &tg, &err), 0);
	assert_int_equal(tg.n, 1);
	assert_int_equal(tg.nlb, 2);
	assert_string_equal(tg.t[0].backend, "app");
	assert_string_equal(tg.t[0].server, "web2");
	assert_int_equal(tg.t[0].lb[0].sid, 2);
	assert_int_equal(tg.t[0].lb[0].admin, SRV_ADMIN_DRAIN);
	assert_int_equal(tg.t[0].lb[1].admin, SRV_ADMIN_READY);
	assert_int_equal(tg.t[0].lb[1].uweight, 10);
	fleet_targets_free(&tg);
	fleet_view_free(v);
}

static void test_resolve_dedup(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct fleet_targets tg;

	assert_int_equal(resolve(v, "app/web1", "app/web1", RTAPI_LEVEL_ADMIN,
				 &tg, NULL), 0);
	assert_int_equal(tg.n, 1);
	fleet_targets_free(&tg);
	fleet_view_free(v);
}

static void test_resolve_unknown(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(resolve(v, "app/nope", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOSERVER);
	assert_string_equal(err.msg, "no server 'nope' in backend 'app' on unix:/lb1.sock");
	assert_null(tg.t);
	assert_int_equal(resolve(v, "nope/web1", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOBACKEND);
	assert_string_equal(err.msg, "no backend 'nope' on unix:/lb1.sock");
	/* Exists on LB 1 only. */
	assert_int_equal(resolve(v, "other/web1", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOBACKEND);
	assert_string_equal(err.where, "tcp:10.0.0.2:9999");
	/* A good name then a bad one: nothing is returned. */
	assert_int_equal(resolve(v, "app/web1", "app/x", RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOSERVER);
	assert_int_equal(tg.n, 0);
	assert_null(tg.t);
	fleet_view_free(v);
}

static void test_resolve_bare_name(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(resolve(v, "web2", NULL, RTAPI_LEVEL_ADMIN, &tg, &err), 0);
	assert_int_equal(tg.n, 1);
	assert_string_equal(tg.t[0].backend, "app");
	fleet_targets_free(&tg);
	/* web1 is in app everywhere but in other on LB 1 only. */
	assert_int_equal(resolve(v, "web1", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOSERVER);
	assert_non_null(strstr(err.msg, "in backend 'other' on unix:/lb1.sock "
					"but not on tcp:10.0.0.2:9999"));
	assert_int_equal(resolve(v, "zzz", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_ENOSERVER);
	assert_non_null(strstr(err.msg, "no backend has a server named 'zzz'"));
	fleet_view_free(v);
}

static void test_resolve_bare_name_two_backends(void **state)
{
	struct fleet_view *v = make_view(1, NULL, NULL);
	struct fleet_targets tg;

	assert_int_equal(resolve(v, "web1", NULL, RTAPI_LEVEL_ADMIN, &tg, NULL), 0);
	assert_int_equal(tg.n, 2);
	assert_string_equal(tg.t[0].backend, "app");
	assert_string_equal(tg.t[1].backend, "other");
	fleet_targets_free(&tg);
	fleet_view_free(v);
}

static void test_resolve_bad_names(void **state)
{
	static const char *const bad[] = { "app/", "/web1", "a;b/web1",
					   "app/web 1", "app/we\\b", "" };
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct fleet_targets tg;
	struct cut_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resolve(v, bad[i], NULL, RTAPI_LEVEL_ADMIN, &tg,
					 &err), CUT_EUSAGE);
	fleet_view_free(v);
}

static void test_resolve_level(void **state)
{
	const enum rtapi_level lv[2] = { RTAPI_LEVEL_ADMIN, RTAPI_LEVEL_OPERATOR };
	struct fleet_view *v = make_view(2, lv, NULL);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(resolve(v, "app/web1", NULL, RTAPI_LEVEL_ADMIN, &tg, &err),
			 CUT_EPERM);
	assert_non_null(strstr(err.msg, "tcp:10.0.0.2:9999 is at 'operator' level"));
	assert_int_equal(resolve(v, "app/web1", NULL, RTAPI_LEVEL_USER, &tg, &err), 0);
	fleet_targets_free(&tg);
	fleet_view_free(v);
}

static void test_resolve_lb_unknown(void **state)
{
	const int st[2] = { 0, UV_ECONNREFUSED };
	struct fleet_view *v = make_view(2, NULL, st);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(fleet_view_unknown(v), 1);
	assert_int_equal(resolve(v, "app/web1", NULL, RTAPI_LEVEL_USER, &tg, &err),
			 CUT_EUNKNOWN);
	assert_non_null(strstr(err.msg, "tcp:10.0.0.2:9999 did not answer"));
	fleet_view_free(v);
}

/* An LB that answered garbage is not said to be silent. */
static void test_resolve_lb_garbled(void **state)
{
	const int st[2] = { CUT_EPROTO, 0 };
	struct fleet_view *v = make_view(2, NULL, st);
	struct fleet_targets tg;
	struct cut_err err;

	assert_int_equal(resolve(v, "app/web1", NULL, RTAPI_LEVEL_USER, &tg, &err),
			 CUT_EUNKNOWN);
	assert_non_null(strstr(err.msg, "sent a bad reply"));
	assert_null(strstr(err.msg, "did not answer"));
	fleet_view_free(v);
	assert_string_equal(fleet_lb_failure(CUT_ETOOBIG), "sent a bad reply");
	assert_string_equal(fleet_lb_failure(CUT_ENOBACKEND),
			    "answered with an error");
	assert_string_equal(fleet_lb_failure(CUT_ETIMEOUT), "did not answer");
}

static const struct status_server *find(const struct status_report *r,
					const char *be, const char *srv)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->s[i].backend, be) == 0 &&
		    strcmp(r->s[i].server, srv) == 0)
			return &r->s[i];
	return NULL;
}

static void test_status_merge(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	const struct status_server *s;
	struct status_report r;

	assert_int_equal(status_build(v, NULL, &r), 0);
	assert_int_equal(r.n, 3);
	s = find(&r, "app", "web1");
	assert_non_null(s);
	assert_int_equal(s->sessions, 7);
	assert_true(s->consistent);
	assert_int_equal(status_admin(s, 2), SRV_ADMIN_READY);
	s = find(&r, "app", "web2");
	assert_int_equal(s->sessions, 3);	/* scur 2 + qcur 1 */
	assert_false(s->consistent);
	assert_int_equal(status_admin(s, 2), -1);
	assert_int_equal(status_op(s, 2), SRV_OP_UP);
	s = find(&r, "other", "web1");
	assert_true(s->missing);
	assert_false(s->lb[1].present);
	assert_string_equal(s->lb[0].status, "no check");
	status_report_free(&r);
	fleet_view_free(v);
}

static void test_status_filters(void **state)
{
	struct fleet_view *v = make_view(2, NULL, NULL);
	struct status_report r;

	assert_int_equal(status_build(v, "app", &r), 0);	/* backend */
	assert_int_equal(r.n, 2);
	status_report_free(&r);
	assert_int_equal(status_build(v, "web1", &r), 0);	/* bare server */
	assert_int_equal(r.n, 2);
	status_report_free(&r);
	assert_int_equal(status_build(v, "app/web2", &r), 0);
	assert_int_equal(r.n, 1);
	status_report_free(&r);
	assert_int_equal(status_build(v, "nothing", &r), 0);
	assert_int_equal(r.n, 0);
	status_report_free(&r);
	fleet_view_free(v);
}

static void test_sorted_lookup(void **state)
{
	struct stat_table t;
	const char *csv = STAT_HDR "b,z,0,0,1,0,,0,UP,1,2,1,1,,\n"
			  "a,y,0,0,2,0,,0,UP,1,2,2,1,,\n"
			  "b,a,0,0,3,0,,0,UP,1,2,3,1,,\n"
			  "a,z,0,0,4,0,,0,UP,1,2,4,1,,\n\n";
	static const char *const names[][2] = {
		{ "b", "z" }, { "a", "y" }, { "b", "a" }, { "a", "z" },
	};
	size_t i;

	assert_int_equal(stat_parse_csv(csv, strlen(csv), &t, NULL), 0);
	stat_table_sort(&t);
	for (i = 0; i < 4; i++) {
		const struct stat_row *r = stat_table_find(&t, names[i][0],
							   names[i][1]);

		assert_non_null(r);
		assert_int_equal(r->scur, (int64_t)i + 1);
	}
	assert_null(stat_table_find(&t, "a", "a"));
	assert_null(stat_table_find(&t, "c", "z"));
	stat_table_free(&t);
}

static void test_status_lb_unknown(void **state)
{
	const int st[2] = { 0, UV_ETIMEDOUT };
	struct fleet_view *v = make_view(2, NULL, st);
	struct status_report r;

	assert_int_equal(status_build(v, NULL, &r), 0);
	assert_int_equal(r.n, 3);
	assert_true(r.s[0].unknown);
	assert_false(r.s[0].missing);
	status_report_free(&r);
	fleet_view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_full_name),
		cmocka_unit_test(test_resolve_dedup),
		cmocka_unit_test(test_resolve_unknown),
		cmocka_unit_test(test_resolve_bare_name),
		cmocka_unit_test(test_resolve_bare_name_two_backends),
		cmocka_unit_test(test_resolve_bad_names),
		cmocka_unit_test(test_resolve_level),
		cmocka_unit_test(test_resolve_lb_unknown),
		cmocka_unit_test(test_resolve_lb_garbled),
		cmocka_unit_test(test_status_merge),
		cmocka_unit_test(test_status_filters),
		cmocka_unit_test(test_status_lb_unknown),
		cmocka_unit_test(test_sorted_lookup),
	};

	return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
