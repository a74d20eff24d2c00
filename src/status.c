/* status.c - merge every LB's view into one list of servers (status.h). */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool filter_match(const char *filter, bool filter_is_backend,
			 const char *be, const char *srv)
{
	const char *slash;

	if (filter == NULL)
		return true;
	slash = strchr(filter, '/');
	if (slash != NULL)
		return strncmp(filter, be, (size_t)(slash - filter)) == 0 &&
		       be[slash - filter] == '\0' && strcmp(slash + 1, srv) == 0;
	if (filter_is_backend)
		return strcmp(filter, be) == 0;
	return strcmp(filter, srv) == 0;
}

static bool is_backend_name(const struct fleet_view *v, const char *name)
{
	size_t i, j;

	if (name == NULL || strchr(name, '/') != NULL)
		return false;
	for (j = 0; j < v->n; j++)
		for (i = 0; i < v->lb[j].state.n; i++)
			if (strcmp(v->lb[j].state.rows[i].be_name, name) == 0)
				return true;
	return false;
}

static struct status_server *find_or_add(struct status_report *r,
					 const char *be, const char *srv)
{
	struct status_server *ns;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->s[i].backend, be) == 0 &&
		    strcmp(r->s[i].server, srv) == 0)
			return &r->s[i];
	ns = realloc(r->s, (r->n + 1) * sizeof(*r->s));
	if (ns == NULL)
		return NULL;
	r->s = ns;
	ns = &r->s[r->n];
	memset(ns, 0, sizeof(*ns));
	ns->lb = calloc(r->nlb, sizeof(*ns->lb));
	if (ns->lb == NULL)
		return NULL;
	r->n++;
	snprintf(ns->backend, sizeof(ns->backend), "%s", be);
	snprintf(ns->server, sizeof(ns->server), "%s", srv);
	return ns;
}

static void fill_cell(struct status_cell *c, const struct srvstate_row *st,
		      const struct stat_row *row)
{
	c->present = true;
	c->admin = st->admin;
	c->op = st->op_state;
	c->uweight = st->uweight;
	c->iweight = st->iweight;
	c->weight = row != NULL ? row->weight : st->uweight;
	c->scur = row != NULL && row->scur > 0 ? row->scur : 0;
	c->qcur = row != NULL && row->qcur > 0 ? row->qcur : 0;
	if (row != NULL) {
		snprintf(c->status, sizeof(c->status), "%s", row->status);
		snprintf(c->check, sizeof(c->check), "%s", row->check_status);
	}
}

int status_build(const struct fleet_view *v, const char *filter,
		 struct status_report *out)
{
	bool fbe = is_backend_name(v, filter);
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->view = v;
	out->nlb = v->n;
	for (j = 0; j < v->n; j++) {
		const struct fleet_lb_view *lv = &v->lb[j];

		if (lv->status != 0)
			continue;
		for (i = 0; i < lv->state.n; i++) {
			const struct srvstate_row *st = &lv->state.rows[i];
			struct status_server *s;

			if (!filter_match(filter, fbe, st->be_name, st->srv_name))
				continue;
			s = find_or_add(out, st->be_name, st->srv_name);
			if (s == NULL) {
				status_report_free(out);
				return UV_ENOMEM;
			}
			fill_cell(&s->lb[j], st,
				  stat_table_find(&lv->stat, st->be_name,
						  st->srv_name));
		}
	}
	for (i = 0; i < out->n; i++) {
		struct status_server *s = &out->s[i];

		s->consistent = true;
		for (j = 0; j < v->n; j++) {
			if (v->lb[j].status != 0) {
				s->unknown = true;
				continue;
			}
			if (!s->lb[j].present) {
				s->missing = true;
				continue;
			}
			s->sessions += s->lb[j].scur + s->lb[j].qcur;
		}
		s->consistent = !s->missing && status_admin(s, v->n) >= 0 &&
				status_op(s, v->n) >= 0;
	}
	return 0;
}

int status_admin(const struct status_server *s, size_t nlb)
{
	int v = -1;
	size_t j;

	for (j = 0; j < nlb; j++) {
		if (!s->lb[j].present)
			continue;
		if (v >= 0 && v != (int)s->lb[j].admin)
			return -1;
		v = (int)s->lb[j].admin;
	}
	return v;
}

int status_op(const struct status_server *s, size_t nlb)
{
	int v = -1;
	size_t j;

	for (j = 0; j < nlb; j++) {
		if (!s->lb[j].present)
			continue;
		if (v >= 0 && v != (int)s->lb[j].op)
			return -1;
		v = (int)s->lb[j].op;
	}
	return v;
}

void status_report_free(struct status_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->s[i].lb);
	free(r->s);
	r->s = NULL;
	r->n = 0;
}
