/* fleet.c - the set of load balancers: lifecycle, parallel reads into a
 * per-LB view, and resolving operator names against such a view.
 * Changes live in fleet_apply.c, waits in fleet_wait.c. */
#include "fleet_int.h"
#include "log.h"
#include "master.h"
#include "rtapi_cmd.h"
#include "strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fleet *fleet_new(uv_loop_t *loop, const char *const *specs, size_t n,
			const struct fleet_opts *opts, struct cut_err *err)
{
	struct rtapi_opts ro = { 0, 0 };
	struct lb_spec spec;
	struct fleet *f;
	size_t i, j;

	if (n == 0) {
		cut_err_set(err, CUT_EUSAGE, "--lb",
			    "no load balancer given (use --lb unix:PATH or "
			    "--lb tcp:HOST:PORT, or set CUTOVER_LB)");
		return NULL;
	}
	/* The same address twice, with or without ",master=", is one LB. */
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcspn(specs[i], ",") == strcspn(specs[j], ",") &&
			    strncmp(specs[i], specs[j],
				    strcspn(specs[i], ",")) == 0) {
				cut_err_set(err, CUT_EUSAGE, specs[i],
					    "load balancer listed twice");
				return NULL;
			}
	if (opts != NULL) {
		ro.timeout_ms = opts->timeout_ms;
		ro.reply_max = opts->reply_max;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->api = calloc(n, sizeof(*f->api))) == NULL ||
	    (f->refs = calloc(n, sizeof(*f->refs))) == NULL ||
	    (f->master = calloc(n, sizeof(*f->master))) == NULL ||
	    (f->has_master = calloc(n, sizeof(*f->has_master))) == NULL ||
	    (f->warned_old = calloc(n, sizeof(*f->warned_old))) == NULL) {
		fleet_free(f);
		cut_err_set(err, UV_ENOMEM, "fleet", NULL);
		return NULL;
	}
	f->loop = loop;
	f->retry_ms = opts != NULL ? opts->retry_ms : 0;
	f->timeout_ms = ro.timeout_ms > 0 ? ro.timeout_ms
					  : RTAPI_DEFAULT_TIMEOUT_MS;
	f->reply_max = ro.reply_max > 0 ? ro.reply_max : RTAPI_DEFAULT_REPLY_MAX;
	for (i = 0; i < n; i++) {
		if (lb_spec_parse(specs[i], &spec, err) != 0)
			goto fail;
		f->master[i] = spec.master;
		f->has_master[i] = spec.has_master;
		f->api[i] = rtapi_new(loop, &spec.lb, &ro);
		if (f->api[i] == NULL) {
			cut_err_set(err, UV_ENOMEM, specs[i], NULL);
			goto fail;
		}
		f->n++;
		fleet_reload_init(f, i);
	}
	return f;
fail:
	fleet_free(f);
	return NULL;
}

void fleet_free(struct fleet *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		rtapi_free(f->api[i]);
	free(f->api);
	free(f->refs);
	free(f->want);
	free(f->master);
	free(f->has_master);
	free(f->warned_old);
	free(f);
}

const struct rtapi_addr *fleet_lb_master(const struct fleet *f, size_t i)
{
	return f->has_master[i] ? &f->master[i] : NULL;
}

uint64_t fleet_timeout_ms(const struct fleet *f)
{
	return f->timeout_ms;
}

size_t fleet_reply_max(const struct fleet *f)
{
	return f->reply_max;
}

size_t fleet_size(const struct fleet *f)
{
	return f->n;
}

const char *fleet_lb_name(const struct fleet *f, size_t i)
{
	return rtapi_addr(f->api[i])->spec;
}

uv_loop_t *fleet_loop(const struct fleet *f)
{
	return f->loop;
}

struct rtapi *fleet_lb_api(struct fleet *f, size_t i)
{
	return f->api[i];
}

/* ---- reading ------------------------------------------------------------ */

enum read_kind {
	READ_STATE = 0,
	READ_STAT,
	READ_KIND_COUNT		/* keep last */
};

struct read_op;

struct read_req {
	struct read_op *op;
	size_t lb;
	enum read_kind kind;
};

struct read_op {
	struct fleet *f;
	struct fleet_view *view;
	size_t pending;
	fleet_view_fn *cb;
	void *arg;
	struct read_req *reqs;
};

/* Turn an error reply into a code and message for the view. */
static int reply_error(const char *lb, const char *cmd, const char *reply,
		       size_t len, struct cut_err *err)
{
	struct reply_class rc;
	int code;

	stat_classify_reply(reply, len, &rc);
	if (rc.kind != REPLY_ERROR)
		return 0;
	switch (rc.error) {
	case REPLY_ERR_NO_BACKEND:
		code = CUT_ENOBACKEND;
		break;
	case REPLY_ERR_NO_SERVER:
		code = CUT_ENOSERVER;
		break;
	case REPLY_ERR_PERMISSION:
		code = CUT_EPERM;
		break;
	default:
		code = CUT_EREFUSED;
		break;
	}
	return cut_err_set(err, code, lb, "'%s' refused: %s", cmd, rc.msg);
}

static void read_finish_lb(struct read_op *op, size_t i, int status,
			   const struct cut_err *err)
{
	struct fleet_lb_view *lv = &op->view->lb[i];

	if (status == 0 || lv->status != 0)
		return;		/* keep the first error of an LB */
	lv->status = status;
	lv->err = *err;
	stat_table_free(&lv->stat);
	srvstate_table_free(&lv->state);
}

static void on_read_reply(int status, const char *reply, size_t len,
			  void *arg)
{
	struct read_req *rq = arg;
	struct read_op *op = rq->op;
	struct fleet_lb_view *lv = &op->view->lb[rq->lb];
	struct rtapi *api = op->f->api[rq->lb];
	const char *cmd = rq->kind == READ_STATE ? "show servers state"
						 : "show stat";
	struct cut_err err;
	int rc = 0;

	cut_err_clear(&err);
	if (status != 0) {
		rc = cut_err_set(&err, status, lv->name, "%s",
				 rtapi_last_error(api)[0]
					 ? rtapi_last_error(api)
					 : cut_strerror(status));
	} else if ((rc = reply_error(lv->name, cmd, reply, len, &err)) != 0) {
		/* err filled */
	} else if (lv->status == 0 && rq->kind == READ_STATE) {
		rc = stat_parse_servers_state(reply, len, &lv->state, &err);
	} else if (lv->status == 0) {
		rc = stat_parse_csv(reply, len, &lv->stat, &err);
		if (rc == 0)
			stat_table_sort(&lv->stat);
	}
	if (rc != 0) {
		snprintf(err.where, sizeof(err.where), "%s", lv->name);
		read_finish_lb(op, rq->lb, rc, &err);
	}
	if (--op->pending > 0)
		return;
	for (size_t i = 0; i < op->view->n; i++) {
		const struct haproxy_info *info = rtapi_info(op->f->api[i]);

		op->view->lb[i].level = rtapi_level(op->f->api[i]);
		if (info != NULL)
			op->view->lb[i].info = *info;
	}
	op->cb(op->view, op->arg);
	free(op->reqs);
	free(op);
}

int fleet_read(struct fleet *f, const char *backend, unsigned what,
	       fleet_view_fn *cb, void *arg)
{
	struct rtcmd cmds[READ_KIND_COUNT];
	bool want[READ_KIND_COUNT];
	struct read_op *op;
	size_t i, k, nreq = 0;
	int rc;

	want[READ_STATE] = (what & FLEET_READ_STATE) != 0;
	want[READ_STAT] = (what & FLEET_READ_STAT) != 0;
	if (!want[READ_STATE] && !want[READ_STAT])
		return CUT_EUSAGE;
	if ((rc = rtcmd_show_servers_state(&cmds[READ_STATE], backend)) != 0 ||
	    (rc = rtcmd_show_stat(&cmds[READ_STAT], backend, -1)) != 0)
		return rc;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return UV_ENOMEM;
	op->view = calloc(1, sizeof(*op->view));
	op->reqs = calloc(f->n * READ_KIND_COUNT, sizeof(*op->reqs));
	if (op->view == NULL || op->reqs == NULL ||
	    (op->view->lb = calloc(f->n, sizeof(*op->view->lb))) == NULL) {
		if (op->view != NULL)
			free(op->view->lb);
		free(op->view);
		free(op->reqs);
		free(op);
		return UV_ENOMEM;
	}
	op->f = f;
	op->cb = cb;
	op->arg = arg;
	op->view->n = f->n;
	for (i = 0; i < f->n; i++) {
		op->view->lb[i].name = fleet_lb_name(f, i);
		op->view->lb[i].level = RTAPI_LEVEL_UNKNOWN;
	}
	/* Count first: a send never calls back synchronously, but keep the
	 * counter right even if one of several sends fails. */
	for (i = 0; i < f->n; i++) {
		for (k = 0; k < READ_KIND_COUNT; k++) {
			struct read_req *rq;

			if (!want[k])
				continue;
			rq = &op->reqs[nreq++];
			rq->op = op;
			rq->lb = i;
			rq->kind = (enum read_kind)k;
			op->pending++;
			rc = rtapi_send(f->api[i], cmds[k].text, on_read_reply, rq);
			if (rc != 0) {
				struct cut_err err;

				cut_err_set(&err, rc, fleet_lb_name(f, i), NULL);
				read_finish_lb(op, i, rc, &err);
				op->pending--;
			}
		}
	}
	if (op->pending == 0) {
		/* Nothing could be queued: finish from the loop is not
		 * possible without a handle, so report the error instead. */
		fleet_view_free(op->view);
		free(op->reqs);
		free(op);
		return UV_ENOMEM;
	}
	return 0;
}

void fleet_view_free(struct fleet_view *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		stat_table_free(&v->lb[i].stat);
		srvstate_table_free(&v->lb[i].state);
	}
	free(v->lb);
	free(v);
}

size_t fleet_view_unknown(const struct fleet_view *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->n; i++)
		if (v->lb[i].status != 0)
			n++;
	return n;
}

const char *fleet_lb_failure(int status)
{
	switch (status) {
	case CUT_EPROTO:
	case CUT_ETOOBIG:
		return "sent a bad reply";
	case CUT_EREFUSED:
	case CUT_ENOBACKEND:
	case CUT_ENOSERVER:
	case CUT_EPERM:
		return "answered with an error";
	default:
		return "did not answer";
	}
}

/* ---- resolving ------------------------------------------------------------ */

static const char *level_name(enum rtapi_level l)
{
	switch (l) {
	case RTAPI_LEVEL_USER:
		return "user";
	case RTAPI_LEVEL_OPERATOR:
		return "operator";
	case RTAPI_LEVEL_ADMIN:
		return "admin";
	default:
		return "unknown";
	}
}

static bool backend_exists(const struct srvstate_table *t, const char *be)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].be_name, be) == 0)
			return true;
	return false;
}

static int add_target(const struct fleet_view *v, struct fleet_targets *out,
		      const char *be, const char *srv, struct cut_err *err)
{
	struct fleet_target *t, *nt;
	size_t i, j;

	for (i = 0; i < out->n; i++)
		if (strcmp(out->t[i].backend, be) == 0 &&
		    strcmp(out->t[i].server, srv) == 0)
			return 0;	/* named twice: once is enough */
	for (j = 0; j < v->n; j++) {
		if (!backend_exists(&v->lb[j].state, be))
			return cut_err_set(err, CUT_ENOBACKEND, v->lb[j].name,
					   "no backend '%s' on %s", be,
					   v->lb[j].name);
		if (srvstate_find(&v->lb[j].state, be, srv) == NULL)
			return cut_err_set(err, CUT_ENOSERVER, v->lb[j].name,
					   "no server '%s' in backend '%s' on %s",
					   srv, be, v->lb[j].name);
	}
	nt = realloc(out->t, (out->n + 1) * sizeof(*out->t));
	if (nt == NULL)
		return cut_err_set(err, UV_ENOMEM, "resolve", NULL);
	out->t = nt;
	t = &out->t[out->n];
	memset(t, 0, sizeof(*t));
	t->lb = calloc(v->n, sizeof(*t->lb));
	if (t->lb == NULL)
		return cut_err_set(err, UV_ENOMEM, "resolve", NULL);
	out->n++;
	snprintf(t->backend, sizeof(t->backend), "%s", be);
	snprintf(t->server, sizeof(t->server), "%s", srv);
	for (j = 0; j < v->n; j++) {
		const struct srvstate_row *r =
			srvstate_find(&v->lb[j].state, be, srv);

		t->lb[j].sid = r->srv_id;
		t->lb[j].admin = r->admin;
		t->lb[j].admin_bits = r->admin_bits;
		t->lb[j].op = r->op_state;
		t->lb[j].uweight = r->uweight;
		t->lb[j].iweight = r->iweight;
	}
	return 0;
}

/* A bare server name: every backend that has it, and the same ones on
 * every LB, or it is ambiguous and refused. */
static int add_bare_server(const struct fleet_view *v,
			   struct fleet_targets *out, const char *srv,
			   struct cut_err *err)
{
	size_t i, j, k, found = 0;
	int rc;

	for (j = 0; j < v->n; j++) {
		const struct srvstate_table *st = &v->lb[j].state;

		for (i = 0; i < st->n; i++) {
			if (strcmp(st->rows[i].srv_name, srv) != 0)
				continue;
			for (k = 0; k < v->n; k++)
				if (srvstate_find(&v->lb[k].state,
						  st->rows[i].be_name,
						  srv) == NULL)
					return cut_err_set(
						err, CUT_ENOSERVER, v->lb[k].name,
						"server '%s' is in backend '%s' "
						"on %s but not on %s",
						srv, st->rows[i].be_name,
						v->lb[j].name, v->lb[k].name);
			rc = add_target(v, out, st->rows[i].be_name, srv, err);
			if (rc != 0)
				return rc;
			found++;
		}
	}
	if (found == 0)
		return cut_err_set(err, CUT_ENOSERVER, srv,
				   "no backend has a server named '%s'", srv);
	return 0;
}

int fleet_resolve(const struct fleet_view *v, const char *const *names,
		  size_t nnames, enum rtapi_level min_level,
		  struct fleet_targets *out, struct cut_err *err)
{
	char be[STAT_NAME_MAX];
	size_t i, j;
	int rc = 0;

	out->n = 0;
	out->nlb = v->n;
	out->t = NULL;
	for (j = 0; j < v->n; j++) {
		const struct fleet_lb_view *lv = &v->lb[j];

		if (lv->status != 0)
			return cut_err_set(err, CUT_EUNKNOWN, lv->name,
					   "%s %s: %s", lv->name,
					   fleet_lb_failure(lv->status),
					   lv->err.msg);
		if (lv->level < min_level)
			return cut_err_set(err, CUT_EPERM, lv->name,
					   "the socket of %s is at '%s' level; "
					   "'%s' is needed (stats socket ... "
					   "level %s)",
					   lv->name, level_name(lv->level),
					   level_name(min_level),
					   level_name(min_level));
	}
	for (i = 0; i < nnames && rc == 0; i++) {
		const char *slash = strchr(names[i], '/');

		if (slash == NULL) {
			if (!rtcmd_name_ok(names[i]))
				rc = cut_err_set(err, CUT_EUSAGE, names[i],
						 "invalid server name '%s'",
						 names[i]);
			else
				rc = add_bare_server(v, out, names[i], err);
			continue;
		}
		if (!str_copy(be, sizeof(be), names[i],
			      (size_t)(slash - names[i])) ||
		    !rtcmd_name_ok(be) || !rtcmd_name_ok(slash + 1)) {
			rc = cut_err_set(err, CUT_EUSAGE, names[i],
					 "invalid name '%s' (expected "
					 "BACKEND/SERVER)", names[i]);
			continue;
		}
		rc = add_target(v, out, be, slash + 1, err);
	}
	if (rc != 0)
		fleet_targets_free(out);
	return rc;
}

void fleet_targets_free(struct fleet_targets *tg)
{
	size_t i;

	for (i = 0; i < tg->n; i++)
		free(tg->t[i].lb);
	free(tg->t);
	tg->t = NULL;
	tg->n = 0;
}
