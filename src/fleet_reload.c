/* fleet_reload.c - surviving HAProxy reloads and restarts: the fleet
 * remembers every state and weight it set (per LB, per server), and when
 * an LB's client reaches a new HAProxy process (rtapi_on_reload) it sends
 * them again ahead of anything else, because a new worker starts from the
 * configuration and has forgotten drain, maint and weights (HAPROXY.md
 * §6). Sessions still held by the old worker (HAProxy keeps serving them
 * until they end or hard-stop-after) are counted by waits only through
 * the LB's master CLI (",master=ADDR"); without it this warns once. */
#include "fleet_int.h"
#include "log.h"
#include "rtapi_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fleet_want *want_find(struct fleet *f, size_t lb,
				    const char *be, const char *srv)
{
	size_t i;

	for (i = 0; i < f->nwant; i++)
		if (f->want[i].lb == lb && strcmp(f->want[i].backend, be) == 0 &&
		    strcmp(f->want[i].server, srv) == 0)
			return &f->want[i];
	if (f->nwant == f->capwant) {
		size_t cap = f->capwant ? 2 * f->capwant : 8;
		struct fleet_want *w = realloc(f->want, cap * sizeof(*w));

		if (w == NULL)
			return NULL;
		f->want = w;
		f->capwant = cap;
	}
	memset(&f->want[f->nwant], 0, sizeof(f->want[0]));
	f->want[f->nwant].lb = lb;
	f->want[f->nwant].admin = -1;
	f->want[f->nwant].weight = -1;
	snprintf(f->want[f->nwant].backend, sizeof(f->want[0].backend), "%s", be);
	snprintf(f->want[f->nwant].server, sizeof(f->want[0].server), "%s", srv);
	return &f->want[f->nwant++];
}

void fleet_remember(struct fleet *f, size_t lb, const char *be,
		    const char *srv, const struct fleet_action *act)
{
	struct fleet_want *w;

	if (act->kind != FLEET_ACT_STATE && act->kind != FLEET_ACT_WEIGHT)
		return;
	if ((w = want_find(f, lb, be, srv)) == NULL) {
		LOG_WARN("out of memory: a reload of %s would lose %s/%s's state",
			 fleet_lb_name(f, lb), be, srv);
		return;
	}
	if (act->kind == FLEET_ACT_STATE) {
		w->admin = (int)act->state;
	} else {
		w->weight = act->weight;
		w->percent = act->percent;
	}
}

struct reapply {
	struct fleet *f;
	size_t lb;
	char what[2 * STAT_NAME_MAX + 32];
};

static void on_reapplied(int status, const char *reply, size_t len, void *arg)
{
	struct reapply *ra = arg;
	struct reply_class rc;

	stat_classify_reply(reply, len, &rc);
	if (status != 0 || rc.kind == REPLY_ERROR)
		LOG_WARN("lb=%s: after the reload, %s failed: %s",
			 fleet_lb_name(ra->f, ra->lb), ra->what,
			 status != 0 ? cut_strerror(status) : rc.msg);
	free(ra);
}

static void send_again(struct fleet *f, size_t lb, struct rtcmd *cmd,
		       const char *what)
{
	struct reapply *ra;

	if (rtcmd_done(cmd) != 0 || (ra = calloc(1, sizeof(*ra))) == NULL)
		return;
	ra->f = f;
	ra->lb = lb;
	snprintf(ra->what, sizeof(ra->what), "%s", what);
	if (rtapi_send_first(f->api[lb], cmd->text, on_reapplied, ra) != 0)
		free(ra);
}

static void on_reload(struct rtapi *api, void *arg)
{
	struct fleet_lb_ref *ref = arg;
	struct fleet *f = ref->f;
	size_t i, n = 0;
	char what[2 * STAT_NAME_MAX + 32];

	for (i = 0; i < f->nwant; i++) {
		const struct fleet_want *w = &f->want[i];
		struct rtcmd cmd;

		if (w->lb != ref->lb)
			continue;
		if (w->weight >= 0) {
			rtcmd_set_weight(&cmd, w->backend, w->server, w->weight,
					 w->percent);
			snprintf(what, sizeof(what), "weight of %s/%s",
				 w->backend, w->server);
			send_again(f, ref->lb, &cmd, what);
			n++;
		}
		if (w->admin >= 0) {
			rtcmd_set_state(&cmd, w->backend, w->server,
					(enum srv_admin)w->admin);
			snprintf(what, sizeof(what), "state %s of %s/%s",
				 srv_admin_name((enum srv_admin)w->admin),
				 w->backend, w->server);
			send_again(f, ref->lb, &cmd, what);
			n++;
		}
	}
	LOG_WARN("lb=%s: HAProxy was reloaded or restarted (now pid %lld): "
		 "%zu setting%s made by this run sent again",
		 fleet_lb_name(f, ref->lb), (long long)rtapi_info(api)->pid, n,
		 n == 1 ? "" : "s");
	if (fleet_lb_master(f, ref->lb) == NULL && !f->warned_old[ref->lb]) {
		f->warned_old[ref->lb] = true;
		LOG_WARN("lb=%s: sessions still held by its old worker are not "
			 "counted; give its master socket (--lb '%s,master=unix:"
			 "PATH') to count them",
			 fleet_lb_name(f, ref->lb), fleet_lb_name(f, ref->lb));
	}
}

void fleet_reload_init(struct fleet *f, size_t lb)
{
	f->refs[lb].f = f;
	f->refs[lb].lb = lb;
	rtapi_on_reload(f->api[lb], on_reload, &f->refs[lb]);
}
