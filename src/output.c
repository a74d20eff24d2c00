/* output.c - rendering of status tables, progress and results (output.h).
 * Text for people, JSON (jansson) for machines; nothing else prints. */
#include "output.h"
#include "strutil.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

void out_init(struct out *o, bool json, int quiet)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->quiet = quiet;
	o->tty = isatty(STDOUT_FILENO) == 1;
	o->err_tty = isatty(STDERR_FILENO) == 1;
}

static const char *level_text(enum rtapi_level l)
{
	switch (l) {
	case RTAPI_LEVEL_ADMIN:
		return "admin";
	case RTAPI_LEVEL_OPERATOR:
		return "operator";
	case RTAPI_LEVEL_USER:
		return "user";
	default:
		return "unknown";
	}
}

/* ---- status as text ------------------------------------------------------ */

static const char *summary_admin(const struct status_server *s, size_t nlb)
{
	int a = status_admin(s, nlb);

	return a < 0 ? "MIXED" : srv_admin_name((enum srv_admin)a);
}

static const char *summary_op(const struct status_server *s, size_t nlb)
{
	int v = status_op(s, nlb);

	return v < 0 ? "MIXED" : srv_op_name((enum srv_op)v);
}

/* Check and weight as shown in the table: the first LB that has the
 * server, with a '*' when another LB says something else. */
static void summary_check(const struct status_server *s, size_t nlb,
			  char *out, size_t outsz, int64_t *weight,
			  bool *wdiff)
{
	const struct status_cell *first = NULL;
	bool cdiff = false;
	size_t j;

	*wdiff = false;
	*weight = -1;
	for (j = 0; j < nlb; j++) {
		const struct status_cell *c = &s->lb[j];

		if (!c->present)
			continue;
		if (first == NULL) {
			first = c;
			continue;
		}
		if (strcmp(first->check, c->check) != 0)
			cdiff = true;
		if (first->weight != c->weight)
			*wdiff = true;
	}
	if (first == NULL) {
		snprintf(out, outsz, "?");
		return;
	}
	*weight = first->weight;
	snprintf(out, outsz, "%s%s", first->check[0] ? first->check : "-",
		 cdiff ? "*" : "");
}

static void render_text(const struct status_report *r, struct buf *b)
{
	const struct fleet_view *v = r->view;
	size_t i, j, wname = 14;
	size_t disagree = 0;

	for (j = 0; j < v->n; j++) {
		const struct fleet_lb_view *lv = &v->lb[j];

		if (lv->status == 0)
			buf_appendf(b, "lb%zu  %s  pid %lld, HAProxy %s, up %llds, "
				    "level %s\n", j + 1, lv->name,
				    (long long)lv->info.pid, lv->info.version,
				    (long long)lv->info.uptime_sec,
				    level_text(lv->level));
		else
			buf_appendf(b, "lb%zu  %s  UNKNOWN: %s\n", j + 1,
				    lv->name, lv->err.msg);
	}
	for (i = 0; i < r->n; i++) {
		size_t n = strlen(r->s[i].backend) + 1 + strlen(r->s[i].server);

		if (n > wname)
			wname = n;
	}
	buf_appendf(b, "\n%-*s %-6s %-9s %-8s %7s %8s", (int)wname,
		    "BACKEND/SERVER", "ADMIN", "OP", "CHECK", "WEIGHT",
		    "SESSIONS");
	if (v->n > 1)
		for (j = 0; j < v->n; j++)
			buf_appendf(b, " %6s%zu", "lb", j + 1);
	buf_appendf(b, "\n");
	for (i = 0; i < r->n; i++) {
		const struct status_server *s = &r->s[i];
		char name[2 * STAT_NAME_MAX + 2], check[32], wtxt[24];
		int64_t weight;
		bool wdiff;

		snprintf(name, sizeof(name), "%s/%s", s->backend, s->server);
		summary_check(s, v->n, check, sizeof(check), &weight, &wdiff);
		snprintf(wtxt, sizeof(wtxt), "%lld%s", (long long)weight,
			 wdiff ? "*" : "");
		buf_appendf(b, "%-*s %-6s %-9s %-8s %7s %7lld%s", (int)wname,
			    name, summary_admin(s, v->n), summary_op(s, v->n),
			    check, wtxt, (long long)s->sessions,
			    s->unknown ? "?" : " ");
		if (v->n > 1)
			for (j = 0; j < v->n; j++) {
				if (s->lb[j].present)
					buf_appendf(b, " %7lld",
						    (long long)(s->lb[j].scur +
								s->lb[j].qcur));
				else
					buf_appendf(b, " %7s",
						    v->lb[j].status ? "?" : "-");
			}
		buf_appendf(b, "\n");
		if (!s->consistent || s->missing)
			disagree++;
	}
	if (r->n == 0)
		buf_appendf(b, "(no servers)\n");
	if (disagree == 0)
		return;
	buf_appendf(b, "\nThe load balancers disagree on %zu server%s:\n",
		    disagree, disagree == 1 ? "" : "s");
	for (i = 0; i < r->n; i++) {
		const struct status_server *s = &r->s[i];

		if (s->consistent && !s->missing)
			continue;
		buf_appendf(b, "  %s/%s:", s->backend, s->server);
		for (j = 0; j < v->n; j++) {
			const struct status_cell *c = &s->lb[j];

			if (v->lb[j].status != 0)
				buf_appendf(b, " lb%zu unknown;", j + 1);
			else if (!c->present)
				buf_appendf(b, " lb%zu MISSING;", j + 1);
			else
				buf_appendf(b, " lb%zu %s/%s (%s);", j + 1,
					    srv_admin_name(c->admin),
					    srv_op_name(c->op), c->status);
		}
		b->len--;	/* drop the last ';' */
		buf_appendf(b, "\n");
	}
}

/* ---- status as JSON ------------------------------------------------------ */

static json_t *lb_json(const struct fleet_lb_view *lv)
{
	if (lv->status != 0)
		return json_pack("{s:s, s:b, s:s}", "name", lv->name,
				 "reachable", 0, "error", lv->err.msg);
	return json_pack("{s:s, s:b, s:I, s:s, s:I, s:s}", "name", lv->name,
			 "reachable", 1, "pid", (json_int_t)lv->info.pid,
			 "version", lv->info.version, "uptime_sec",
			 (json_int_t)lv->info.uptime_sec, "level",
			 level_text(lv->level));
}

static json_t *cell_json(const struct fleet_lb_view *lv,
			 const struct status_cell *c)
{
	if (lv->status != 0)
		return json_pack("{s:s, s:b}", "lb", lv->name, "known", 0);
	if (!c->present)
		return json_pack("{s:s, s:b, s:b}", "lb", lv->name, "known", 1,
				 "present", 0);
	return json_pack("{s:s, s:b, s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I,"
			 " s:I, s:I}",
			 "lb", lv->name, "known", 1, "present", 1, "admin",
			 srv_admin_name(c->admin), "op", srv_op_name(c->op),
			 "status", c->status, "check", c->check, "weight",
			 (json_int_t)c->weight, "uweight", (json_int_t)c->uweight,
			 "iweight", (json_int_t)c->iweight, "sessions",
			 (json_int_t)c->scur, "queued", (json_int_t)c->qcur);
}

static int render_json(const struct status_report *r, struct buf *b)
{
	const struct fleet_view *v = r->view;
	json_t *doc, *lbs, *srvs;
	char *text;
	size_t i, j;
	int rc;

	lbs = json_array();
	srvs = json_array();
	for (j = 0; j < v->n; j++)
		json_array_append_new(lbs, lb_json(&v->lb[j]));
	for (i = 0; i < r->n; i++) {
		const struct status_server *s = &r->s[i];
		int a = status_admin(s, v->n), op = status_op(s, v->n);
		json_t *per = json_array();

		for (j = 0; j < v->n; j++)
			json_array_append_new(per, cell_json(&v->lb[j], &s->lb[j]));
		json_array_append_new(
			srvs,
			json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:o}",
				  "backend", s->backend, "server", s->server,
				  "admin",
				  a < 0 ? "mixed" : srv_admin_name((enum srv_admin)a),
				  "op", op < 0 ? "mixed" : srv_op_name((enum srv_op)op),
				  "sessions", (json_int_t)s->sessions,
				  "consistent", s->consistent && !s->missing,
				  "complete", !s->unknown, "per_lb", per));
	}
	doc = json_pack("{s:o, s:o}", "load_balancers", lbs, "servers", srvs);
	if (doc == NULL)
		return UV_ENOMEM;
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text == NULL)
		return UV_ENOMEM;
	rc = buf_appendf(b, "%s\n", text);
	free(text);
	return rc;
}

int out_status_render(const struct out *o, const struct status_report *r,
		      struct buf *b)
{
	if (o->json)
		return render_json(r, b);
	render_text(r, b);
	return 0;
}

/* ---- waits and changes ------------------------------------------------------ */

void out_clear_progress(struct out *o)
{
	if (!o->progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	o->progress_shown = false;
}

static void obs_summary(const struct fleet *f, const struct fleet_wait *w,
			size_t ti, struct buf *b)
{
	const struct fleet_targets *tg = fleet_wait_targets(w);
	size_t j;

	for (j = 0; j < tg->nlb; j++) {
		const struct fleet_obs *ob = fleet_wait_obs(w, ti, j);

		if (!ob->known)
			buf_appendf(b, "%s%s: unknown", j ? ", " : "",
				    fleet_lb_name(f, j));
		else
			buf_appendf(b, "%s%s: %lld session%s, %s", j ? ", " : "",
				    fleet_lb_name(f, j), (long long)ob->sessions,
				    ob->sessions == 1 ? "" : "s", ob->status);
		if (ob->known && ob->old_sessions > 0)
			buf_appendf(b, " (%lld on old worker %lld)",
				    (long long)ob->old_sessions,
				    (long long)ob->old_pid);
	}
}

void out_wait_progress(struct out *o, const struct fleet_wait *w,
		       const char *verb)
{
	const struct fleet_targets *tg = fleet_wait_targets(w);
	char dur[32];
	int64_t total = 0;
	size_t i, j, unknown = 0, met = 0;

	if (o->json || o->quiet || !o->err_tty)
		return;
	for (i = 0; i < tg->n; i++)
		for (j = 0; j < tg->nlb; j++) {
			const struct fleet_obs *ob = fleet_wait_obs(w, i, j);

			if (!ob->known)
				unknown++;
			else
				total += ob->sessions;
			if (ob->met)
				met++;
		}
	str_format_duration(fleet_wait_elapsed_ms(w), dur, sizeof(dur));
	fprintf(stderr, "\r\033[K%s %zu server%s: %lld session%s left, "
		"%zu/%zu done%s%s, %s", verb, tg->n, tg->n == 1 ? "" : "s",
		(long long)total, total == 1 ? "" : "s", met, tg->n * tg->nlb,
		unknown ? ", LB unknown: " : "", unknown ? "yes" : "", dur);
	fflush(stderr);
	o->progress_shown = true;
}

void out_wait_result(struct out *o, const struct fleet *f,
		     const struct fleet_wait *w, int status, const char *verb)
{
	const struct fleet_targets *tg = fleet_wait_targets(w);
	char dur[32];
	struct buf b;
	size_t i;

	out_clear_progress(o);
	str_format_duration(fleet_wait_elapsed_ms(w), dur, sizeof(dur));
	if (o->json) {
		json_t *arr = json_array(), *doc;
		char *text;

		for (i = 0; i < tg->n; i++) {
			json_t *per = json_array();

			for (size_t j = 0; j < tg->nlb; j++) {
				const struct fleet_obs *ob = fleet_wait_obs(w, i, j);

				json_array_append_new(
					per,
					json_pack("{s:s, s:b, s:I, s:I, s:s, s:b}",
						  "lb", fleet_lb_name(f, j),
						  "known", ob->known, "sessions",
						  (json_int_t)ob->sessions,
						  "old_worker_sessions",
						  (json_int_t)ob->old_sessions,
						  "status", ob->status, "met",
						  ob->met));
			}
			json_array_append_new(
				arr, json_pack("{s:s, s:s, s:o}", "backend",
					       tg->t[i].backend, "server",
					       tg->t[i].server, "per_lb", per));
		}
		doc = json_pack("{s:s, s:b, s:s, s:I, s:o}", "wait", verb, "ok",
				status == 0, "result",
				status == 0 ? "ok" : cut_strerror(status),
				"elapsed_ms",
				(json_int_t)fleet_wait_elapsed_ms(w), "servers",
				arr);
		text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(doc);
		return;
	}
	if (o->quiet && status == 0)
		return;
	buf_init(&b, 1 << 20);
	for (i = 0; i < tg->n; i++) {
		bool met = true;

		for (size_t j = 0; j < tg->nlb; j++)
			if (!fleet_wait_obs(w, i, j)->met)
				met = false;
		buf_reset(&b);
		obs_summary(f, w, i, &b);
		printf("%s/%s: %s%s after %s (%s)\n", tg->t[i].backend,
		       tg->t[i].server, met ? "" : "NOT ", verb, dur,
		       b.data ? b.data : "");
	}
	buf_free(&b);
	fflush(stdout);
}

void out_applied(struct out *o, const struct fleet *f,
		 const struct fleet_targets *tg, const char *what)
{
	size_t i;

	if (o->json || o->quiet)
		return;
	for (i = 0; i < tg->n; i++)
		printf("%s/%s: %s on %zu load balancer%s\n", tg->t[i].backend,
		       tg->t[i].server, what, tg->nlb, tg->nlb == 1 ? "" : "s");
	fflush(stdout);
}

void out_error(struct out *o, const struct cut_err *err)
{
	out_clear_progress(o);
	if (err->where[0] != '\0' && strstr(err->msg, err->where) == NULL)
		fprintf(stderr, "cutover: error: %s: %s\n", err->where, err->msg);
	else
		fprintf(stderr, "cutover: error: %s\n", err->msg);
}
