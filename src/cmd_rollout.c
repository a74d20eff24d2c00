/* cmd_rollout.c - `cutover rollout PLAN [--dry-run] [--yes] [--json]`.
 *
 *   load the plan (file:line:col errors, exit 2)
 *   -> read every LB (show servers state + show stat of the backend)
 *   -> validate against them: LBs answer at admin level, the backend and
 *      every planned server exist everywhere, every planned server is in
 *      service now, HAProxy checks exist where the plan relies on them
 *   -> --dry-run: print every runtime command and hook in order, with the
 *      capacity at each batch; change nothing
 *   -> confirm on a terminal (or --yes)
 *   -> run the engine; before each batch re-read the LBs and check the
 *      capacity floor (min_serving counts servers down or drained by
 *      anyone, on any LB)
 *   -> summary; exit 0, 1 (failed, left safe), 5 (interrupted)
 *
 * Every run is journaled (journal.h). `cutover resume` comes here too: the
 * plan, LBs and servers come from the journal, servers the run touched may
 * be out of service, and each starts where roll_resume_point() says (or,
 * with --abort, roll_resume.c puts things back instead).
 */
#include "roll_run.h"
#include "confirm.h"
#include "log.h"
#include "rtapi_cmd.h"
#include "cmd_plan.h"
#include "roll_resume.h"
#include "cmd_switch.h"
#include "strutil.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rollout_cmd {
	struct roll_run run;
	struct app *a;
	struct plan *plan;
	char **names;			/* servers to roll, in order */
	size_t nnames;
	struct confirm *ask;		/* confirmation prompt */
	struct runlock lock;
	bool resuming;			/* cutover resume */
	struct journal_run jr;		/* the journal being resumed */
	bool *touched;			/* per name: the resumed run had
					 * begun on it (may be out) */
	bool started;
	bool ending;
	struct roll_srv *const *check_batch;
	struct roll_srv **batch;	/* copy for the capacity check */
	size_t batch_n;
	int open_handles;		/* c is freed when the last closes */
};

static void cmd_end(struct rollout_cmd *c, int exit_code);

/* ---- validation against the live LBs ------------------------------------ */

static bool in_service_on(const struct srvstate_row *r)
{
	return r->admin == SRV_ADMIN_READY &&
	       (r->op_state == SRV_OP_UP || r->op_state == SRV_OP_STARTING) &&
	       r->uweight > 0;
}

/* In service = in service on every LB. */
static bool in_service(const struct fleet_view *v, const char *be,
		       const char *srv, char *why, size_t whysz)
{
	size_t j;

	for (j = 0; j < v->n; j++) {
		const struct srvstate_row *r =
			srvstate_find(&v->lb[j].state, be, srv);

		if (r == NULL) {
			snprintf(why, whysz, "missing on %s", v->lb[j].name);
			return false;
		}
		if (!in_service_on(r)) {
			snprintf(why, whysz, "%s/%s%s on %s",
				 srv_admin_name(r->admin), srv_op_name(r->op_state),
				 r->uweight == 0 ? "/weight 0" : "",
				 v->lb[j].name);
			return false;
		}
	}
	return true;
}

static bool name_planned(struct rollout_cmd *c, const char *srv)
{
	size_t i;

	for (i = 0; i < c->nnames; i++)
		if (strcmp(c->names[i], srv) == 0)
			return true;
	return false;
}

static int add_name(struct rollout_cmd *c, const char *srv)
{
	char **nn;

	if (name_planned(c, srv))
		return 0;
	nn = realloc(c->names, (c->nnames + 1) * sizeof(*nn));
	if (nn == NULL)
		return UV_ENOMEM;
	c->names = nn;
	c->names[c->nnames] = strdup(srv);
	if (c->names[c->nnames] == NULL)
		return UV_ENOMEM;
	c->nnames++;
	return 0;
}

/* Resume: the run's own servers, in its order, but those already done. */
static int select_resumed(struct rollout_cmd *c, const struct fleet_view *v,
			  struct cut_err *err)
{
	struct journal_run *jr = &c->jr;
	size_t i, j;
	int rc;

	c->touched = calloc(jr->nsrv + 1, sizeof(*c->touched));
	if (c->touched == NULL)
		return cut_err_set(err, UV_ENOMEM, "resume", NULL);
	for (i = 0; i < jr->nsrv; i++) {
		enum roll_state last = roll_resume_last(jr, jr->srv[i].name);

		if (roll_resume_point(c->plan, last) == ROLL_ST_DONE)
			continue;
		for (j = 0; j < v->n; j++)
			if (srvstate_find(&v->lb[j].state, c->plan->backend,
					  jr->srv[i].name) == NULL)
				return cut_err_set(
					err, CUT_ENOSERVER, v->lb[j].name,
					"%s: server '%s' of the run is not in "
					"backend '%s' on %s", jr->path,
					jr->srv[i].name, c->plan->backend,
					v->lb[j].name);
		if ((rc = add_name(c, jr->srv[i].name)) != 0)
			return cut_err_set(err, rc, "resume", NULL);
		c->touched[c->nnames - 1] = last != ROLL_ST_PENDING &&
					    last != ROLL_ST_RESTORED;
	}
	return 0;
}

/* The servers the plan means, in rollout order (the plan's list order,
 * else HAProxy's). Every one must exist on every LB (checked later by
 * fleet_resolve); here: which ones. */
static int select_servers(struct rollout_cmd *c, const struct fleet_view *v,
			  struct cut_err *err)
{
	const struct plan *p = c->plan;
	const struct srvstate_table *st = &v->lb[0].state;
	size_t i, j;
	int rc;

	if (c->resuming)
		return select_resumed(c, v, err);
	if (p->servers_kind == PLAN_SERVERS_LIST) {
		for (i = 0; i < p->nservers; i++) {
			for (j = 0; j < v->n; j++)
				if (srvstate_find(&v->lb[j].state, p->backend,
						  p->servers[i]) == NULL)
					return cut_err_set(
						err, CUT_ENOSERVER, p->path,
						"%s:%d:%d: server '%s' is not in "
						"backend '%s' on %s", p->path,
						p->server_pos[2 * i],
						p->server_pos[2 * i + 1],
						p->servers[i], p->backend,
						v->lb[j].name);
			if ((rc = add_name(c, p->servers[i])) != 0)
				return cut_err_set(err, rc, "rollout", NULL);
		}
		return 0;
	}
	for (j = 0; j < v->n; j++) {
		const struct srvstate_table *t = &v->lb[j].state;

		for (i = 0; i < t->n; i++) {
			const struct srvstate_row *r = &t->rows[i];

			if (strcmp(r->be_name, p->backend) != 0)
				continue;
			if (p->servers_kind == PLAN_SERVERS_PATTERN &&
			    fnmatch(p->pattern, r->srv_name, 0) != 0)
				continue;
			if (srvstate_find(st, p->backend, r->srv_name) == NULL ||
			    (j > 0 && !name_planned(c, r->srv_name)))
				return cut_err_set(
					err, CUT_ENOSERVER, v->lb[j].name,
					"server '%s' of backend '%s' is on %s "
					"but not on every load balancer",
					r->srv_name, p->backend, v->lb[j].name);
			if (j == 0 && (rc = add_name(c, r->srv_name)) != 0)
				return cut_err_set(err, rc, "rollout", NULL);
		}
	}
	if (c->nnames == 0)
		return cut_err_set(err, CUT_ENOSERVER, p->path,
				   "%s:%d:%d: no server of backend '%s' matches",
				   p->path, p->servers_line, p->servers_col,
				   p->backend);
	return 0;
}

static int validate(struct rollout_cmd *c, const struct fleet_view *v,
		    struct cut_err *err)
{
	const struct plan *p = c->plan;
	char why[200];
	size_t i, j;
	int rc;

	for (j = 0; j < v->n; j++) {
		if (v->lb[j].status != 0)
			return cut_err_set(err, CUT_EUNKNOWN, v->lb[j].name,
					   "%s %s: %s", v->lb[j].name,
					   fleet_lb_failure(v->lb[j].status),
					   v->lb[j].err.msg);
		if (v->lb[j].level < RTAPI_LEVEL_ADMIN)
			return cut_err_set(err, CUT_EPERM, v->lb[j].name,
					   "the socket of %s is not at admin "
					   "level", v->lb[j].name);
	}
	if ((rc = select_servers(c, v, err)) != 0)
		return rc;
	for (i = 0; i < c->nnames; i++) {
		if ((c->touched == NULL || !c->touched[i]) &&
		    !in_service(v, p->backend, c->names[i], why, sizeof(why)))
			return cut_err_set(err, CUT_ECHANGED, c->names[i],
					   "%s/%s is not in service now (%s); "
					   "cutover does not roll a server "
					   "someone else took out: put it back "
					   "or leave it out of 'servers'",
					   p->backend, c->names[i], why);
		for (j = 0; p->probe.haproxy && j < v->n; j++) {
			const struct srvstate_row *r = srvstate_find(
				&v->lb[j].state, p->backend, c->names[i]);

			if ((r->check_state & 0x02) == 0)
				return cut_err_set(
					err, CUT_EUSAGE, v->lb[j].name,
					"probe.haproxy is set but %s/%s has no "
					"health check on %s (add 'check' to "
					"the server line)", p->backend,
					c->names[i], v->lb[j].name);
		}
	}
	return 0;
}

/* ---- capacity ------------------------------------------------------------ */

static bool in_batch(struct roll_srv *const *batch, size_t n, const char *srv)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(batch[i]->server, srv) == 0)
			return true;
	return false;
}

/* Servers of the backend in service now, and those that stay in service
 * while the batch is out. A server out of service on ANY LB counts as
 * out: an operator's drain on one LB is still a drain. */
static void count_capacity(const struct plan *p, const struct fleet_view *v,
			   struct roll_srv *const *batch, size_t n,
			   size_t *now, size_t *during, char *out_list,
			   size_t outsz)
{
	const struct srvstate_table *st = &v->lb[0].state;
	char why[200];
	size_t i, used = 0;

	*now = *during = 0;
	if (outsz > 0)
		out_list[0] = '\0';
	for (i = 0; i < st->n; i++) {
		const char *srv = st->rows[i].srv_name;

		if (strcmp(st->rows[i].be_name, p->backend) != 0)
			continue;
		if (!in_service(v, p->backend, srv, why, sizeof(why))) {
			int w = snprintf(out_list + used, outsz - used, "%s%s (%s)",
					 used ? ", " : "", srv, why);

			if (w > 0 && (size_t)w < outsz - used)
				used += (size_t)w;
			continue;
		}
		(*now)++;
		if (p->strategy == PLAN_STRATEGY_IN_PLACE ||
		    !in_batch(batch, n, srv))
			(*during)++;
	}
}

/* A healthy server of the backend outside the batch, for {peer}. */
static void choose_peers(struct rollout_cmd *c, const struct fleet_view *v,
			 struct roll_srv *const *batch, size_t n)
{
	const struct srvstate_table *st = &v->lb[0].state;
	const char *peer = "";
	char why[200];
	size_t i;

	for (i = 0; i < st->n; i++) {
		const char *srv = st->rows[i].srv_name;

		if (strcmp(st->rows[i].be_name, c->plan->backend) == 0 &&
		    !in_batch(batch, n, srv) &&
		    in_service(v, c->plan->backend, srv, why, sizeof(why))) {
			peer = srv;
			break;
		}
	}
	for (i = 0; i < n; i++)
		snprintf(c->run.per[batch[i]->index].peer,
			 sizeof(c->run.per[0].peer), "%s", peer);
}

static void on_capacity_view(struct fleet_view *v, void *arg)
{
	struct rollout_cmd *c = arg;
	struct cut_err err;
	size_t now, during, i;
	char out_list[512], why[200];

	cut_err_clear(&err);
	if (fleet_view_unknown(v) > 0) {
		for (i = 0; i < v->n && v->lb[i].status == 0; i++)
			;
		cut_err_set(&err, CUT_EUNKNOWN, v->lb[i].name,
			    "cannot check the capacity: %s %s (%s)",
			    v->lb[i].name, fleet_lb_failure(v->lb[i].status),
			    v->lb[i].err.msg);
		fleet_view_free(v);
		roll_capacity_done(&c->run.ro, false, &err);
		return;
	}
	for (i = 0; i < c->batch_n; i++) {
		if (c->batch[i]->resume_at == ROLL_ST_PENDING &&
		    (c->touched == NULL || !c->touched[c->batch[i]->index]) &&
		    !in_service(v, c->plan->backend, c->batch[i]->server, why,
				sizeof(why))) {
			cut_err_set(&err, CUT_ECHANGED, c->batch[i]->server,
				    "%s/%s went out of service before its turn "
				    "(%s): not touching it", c->plan->backend,
				    c->batch[i]->server, why);
			fleet_view_free(v);
			roll_capacity_done(&c->run.ro, false, &err);
			return;
		}
	}
	count_capacity(c->plan, v, c->batch, c->batch_n, &now, &during,
		       out_list, sizeof(out_list));
	if (during < c->plan->min_serving) {
		cut_err_set(&err, CUT_ECAPACITY, "min_serving",
			    "min_serving %u: only %zu server%s would stay in "
			    "service while %s%s is out (in service now: %zu%s%s)",
			    c->plan->min_serving, during, during == 1 ? "" : "s",
			    c->batch[0]->server, c->batch_n > 1 ? " and its batch" : "",
			    now, out_list[0] ? "; out: " : "", out_list);
		fleet_view_free(v);
		roll_capacity_done(&c->run.ro, false, &err);
		return;
	}
	choose_peers(c, v, c->batch, c->batch_n);
	fleet_view_free(v);
	roll_out_note(c->run.out, "capacity: %zu in service, %zu during this "
		      "batch (min_serving %u)", now, during, c->plan->min_serving);
	roll_capacity_done(&c->run.ro, true, NULL);
}

int roll_check_capacity(void *ctx, struct roll_srv *const *batch, size_t n);
int roll_check_capacity(void *ctx, struct roll_srv *const *batch, size_t n)
{
	struct rollout_cmd *c = ctx;
	struct roll_srv **copy = realloc(c->batch, n * sizeof(*copy));

	if (copy == NULL)
		return UV_ENOMEM;
	memcpy(copy, batch, n * sizeof(*copy));
	c->batch = copy;
	c->batch_n = n;
	return fleet_read(c->a->fleet, c->plan->backend, FLEET_READ_STATE,
			  on_capacity_view, c);
}

/* ---- the end ---------------------------------------------------------------- */

static void cmd_release(struct rollout_cmd *c)
{
	size_t i;

	roll_run_release(&c->run);
	roll_free(&c->run.ro);
	for (i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->batch);
	free(c->touched);
	journal_run_free(&c->jr);
	plan_free(c->plan);
	free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct rollout_cmd *c = h->data;

	if (--c->open_handles == 0)
		cmd_release(c);
}


static void cmd_end(struct rollout_cmd *c, int exit_code)
{
	struct app *a = c->a;

	if (c->ending)
		return;
	c->ending = true;
	if (c->ask != NULL)
		confirm_cancel(c->ask);
	if (c->run.journal != NULL) {
		/* A run that never began leaves no journal behind. */
		if (c->started || c->resuming)
			journal_close(c->run.journal, NULL, NULL);
		else
			journal_discard(c->run.journal);
		c->run.journal = NULL;
	}
	runlock_release(&c->lock);
	uv_close((uv_handle_t *)&c->run.pause, on_handle_closed);
	probe_env_free(c->run.penv);
	c->run.penv = NULL;
	roll_out_free(c->run.out);
	c->run.out = NULL;
	a->cmd = NULL;
	app_finish(a, exit_code);
}

static int exit_for_status(int status)
{
	return status == 0		   ? EXIT_OK
	       : status == CUT_ECANCELED ? EXIT_INTERRUPTED
	       : status == CUT_EUNDO     ? EXIT_UNSAFE
					 : EXIT_FAILED;
}

static void on_end_durable(int status, const struct cut_err *err, void *arg)
{
	struct rollout_cmd *c = arg;

	if (status != 0)
		fprintf(stderr, "cutover: warning: %s\n",
			err ? err->msg : "journal");
	cmd_end(c, exit_for_status(roll_status(&c->run.ro)));
}

/* The journal says how the run ended and where every server is. */
static int journal_end(struct rollout_cmd *c, int status)
{
	const char *name = status == 0		     ? "ok"
			   : status == CUT_ECANCELED ? "interrupted"
			   : status == CUT_EUNDO     ? "unsafe"
						     : "failed";
	json_t *states = json_object();
	size_t i;

	for (i = 0; i < c->run.ro.n; i++)
		json_object_set_new(states, c->run.ro.srv[i].server,
				    json_string(roll_state_name(
					    c->run.ro.srv[i].state)));
	return journal_intent(c->run.journal,
			      json_pack("{s:s, s:s, s:s, s:o}", "ev", "end",
					"status", name, "reason",
					c->run.ro.stop_reason, "servers", states),
			      on_end_durable, c);
}

void roll_run_end(void *ctx, int status);
void roll_run_end(void *ctx, int status)
{
	struct rollout_cmd *c = ctx;

	roll_out_run_end(c->run.out, status, c->run.ro.stop_reason);
	if (c->run.journal != NULL && journal_end(c, status) == 0)
		return;
	cmd_end(c, exit_for_status(status));
}

/* ---- dry run -------------------------------------------------------------- */

static void print_argv(const char *what, const struct plan_argv *t,
		       const struct hook_vars *vars)
{
	struct cut_err err;
	char **argv = hook_expand_argv(t, vars, &err);
	size_t i;

	if (argv == NULL) {
		printf("    %s: (cannot expand: %s)\n", what, err.msg);
		return;
	}
	printf("    %s:", what);
	for (i = 0; argv[i] != NULL; i++)
		printf(strpbrk(argv[i], " \t'\"$;&|") ? " '%s'" : " %s", argv[i]);
	printf("\n");
	hook_argv_free(argv);
}

static void print_stage(const struct plan *p, enum plan_hook_stage st,
			const struct hook_vars *vars)
{
	char what[64];
	size_t i;

	for (i = 0; i < p->hooks[st].n; i++) {
		snprintf(what, sizeof(what), "hook %s", plan_hook_stage_name(st));
		print_argv(what, &p->hooks[st].cmds[i], vars);
	}
}

static void print_cmd(const struct rollout_cmd *c, const char *srv,
		      enum srv_admin st)
{
	struct rtcmd cmd;

	rtcmd_set_state(&cmd, c->plan->backend, srv, st);
	printf("    on every LB: %s\n", cmd.text);
}

/* How an HTTPS probe checks the certificate, for the dry run. */
static void cert_note(const struct plan_probe *pr, char *out, size_t n)
{
	if (pr->http_insecure)
		snprintf(out, n, ", certificate NOT verified");
	else if (pr->http_ca != NULL)
		snprintf(out, n, ", certificate verified against %s",
			 pr->http_ca);
	else
		snprintf(out, n, ", certificate verified");
}

static void print_server(struct rollout_cmd *c, size_t i)
{
	const struct plan *p = c->plan;
	const struct roll_srv_ops *so = &c->run.per[i];
	const char *srv = c->names[i];
	char d1[32], d2[32], d3[32], d4[32];
	struct rtcmd cmd;

	printf("  %s/%s (addr %s, port %s, peer %s)\n", p->backend, srv,
	       so->addr, so->port, so->peer[0] ? so->peer : "-");
	if (p->strategy == PLAN_STRATEGY_DRAIN) {
		print_stage(p, PLAN_HOOK_BEFORE_DRAIN, &so->vars);
		print_cmd(c, srv, SRV_ADMIN_DRAIN);
		str_format_duration(p->drain_timeout_ms, d1, sizeof(d1));
		printf("    wait until 0 sessions on every LB (show stat %s 4 SID "
		       "every %llums), deadline %s, then %s\n", p->backend,
		       (unsigned long long)c->a->opt->poll_ms, d1,
		       p->on_timeout == PLAN_ON_TIMEOUT_FAIL
			       ? "fail: put it back in service and stop"
		       : p->on_timeout == PLAN_ON_TIMEOUT_KILL
			       ? "kill: shutdown sessions server, go on"
		       : p->on_timeout == PLAN_ON_TIMEOUT_SHED
			       ? "shed: close the rest one by one (show sess, "
				 "shutdown session <ptr>), go on"
			       : "proceed with the sessions left");
		if (p->on_timeout == PLAN_ON_TIMEOUT_SHED)
			printf("    (at the deadline) %g sessions/s over every LB "
			       "until none is left (fails if none closes for "
			       "10s)\n", p->shed_rate);
		if (p->on_timeout == PLAN_ON_TIMEOUT_KILL) {
			rtcmd_shutdown_sessions(&cmd, p->backend, srv);
			printf("    (at the deadline) on every LB: %s\n", cmd.text);
		}
		print_stage(p, PLAN_HOOK_AFTER_DRAIN, &so->vars);
		print_cmd(c, srv, SRV_ADMIN_MAINT);
	}
	print_stage(p, PLAN_HOOK_UPGRADE, &so->vars);
	str_format_duration(p->probe.interval_ms, d1, sizeof(d1));
	str_format_duration(p->probe.timeout_ms, d2, sizeof(d2));
	str_format_duration(p->probe.deadline_ms, d3, sizeof(d3));
	if (p->probe.http) {
		char *u = hook_expand_str(p->probe.http_url, &so->vars, NULL);
		char *red = u ? probe_redact_url(u) : NULL;

		char cert[600] = "";

		if (u != NULL && strncmp(u, "https:", 6) == 0)
			cert_note(&p->probe, cert, sizeof(cert));
		printf("    probe http: GET %s expect %ld%s%s%s%s\n",
		       red ? red : "?", p->probe.http_expect,
		       p->probe.http_body ? " and body containing '" : "",
		       p->probe.http_body ? p->probe.http_body : "",
		       p->probe.http_body ? "'" : "", cert);
		free(red);
		free(u);
	}
	if (p->probe.tcp) {
		char *h = hook_expand_str(p->probe.tcp_host, &so->vars, NULL);
		char *pt = hook_expand_str(p->probe.tcp_port, &so->vars, NULL);

		printf("    probe tcp: connect %s:%s\n", h ? h : "?", pt ? pt : "?");
		free(h);
		free(pt);
	}
	if (p->probe.exec)
		print_argv("probe exec", &p->probe.exec_argv, &so->vars);
	if (p->probe.http || p->probe.tcp || p->probe.exec)
		printf("    probes: %u passing tr%s in a row, every %s, %s per "
		       "try, deadline %s\n", p->probe.rise,
		       p->probe.rise == 1 ? "y" : "ies", d1, d2, d3);
	if (p->strategy == PLAN_STRATEGY_DRAIN) {
		print_stage(p, PLAN_HOOK_BEFORE_ENABLE, &so->vars);
		if (p->probe.haproxy) {
			print_cmd(c, srv, SRV_ADMIN_DRAIN);
			rtcmd_set_health(&cmd, p->backend, srv, false);
			printf("    on every LB: %s\n", cmd.text);
			printf("    wait until HAProxy's own checks pass on every "
			       "LB (status DRAIN), deadline %s\n", d3);
		}
		print_cmd(c, srv, SRV_ADMIN_READY);
		print_stage(p, PLAN_HOOK_AFTER_ENABLE, &so->vars);
	}
	if (p->watch.for_ms > 0) {
		str_format_duration(p->watch.for_ms, d4, sizeof(d4));
		printf("    watch %s: 5xx", d4);
		if (p->watch.max_5xx >= 0)
			printf(" <= %ld", p->watch.max_5xx);
		if (p->watch.max_5xx_pct >= 0)
			printf(" <= %g%%", p->watch.max_5xx_pct);
		if (p->watch.max_5xx < 0 && p->watch.max_5xx_pct < 0)
			printf(" not limited");
		if (p->watch.max_errors >= 0)
			printf(", connection/response errors <= %ld",
			       p->watch.max_errors);
		if (p->watch.max_check_fails >= 0)
			printf(", failed checks <= %ld", p->watch.max_check_fails);
		printf("; on breach: maint, on_failure hook, stop\n");
	}
}

static void dry_run(struct rollout_cmd *c, const struct fleet_view *v)
{
	const struct plan *p = c->plan;
	struct roll_srv **batch = calloc(p->batch, sizeof(*batch));
	size_t b, i, n, now, during, nb = (c->nnames + p->batch - 1) / p->batch;
	char out_list[512];
	bool ok = true;

	printf("dry run: nothing is changed.\n");
	printf("plan %s: %zu server%s of backend %s, strategy %s, batch %u, "
	       "min_serving %u, on %zu load balancer%s:", p->path, c->nnames,
	       c->nnames == 1 ? "" : "s", p->backend,
	       plan_strategy_name(p->strategy), p->batch, p->min_serving,
	       v->n, v->n == 1 ? "" : "s");
	for (i = 0; i < v->n; i++)
		printf(" %s", v->lb[i].name);
	printf("\n");
	for (b = 0; batch != NULL && b < nb; b++) {
		n = c->nnames - b * p->batch;
		if (n > p->batch)
			n = p->batch;
		for (i = 0; i < n; i++)
			batch[i] = &c->run.ro.srv[b * p->batch + i];
		count_capacity(p, v, batch, n, &now, &during, out_list,
			       sizeof(out_list));
		choose_peers(c, v, batch, n);
		printf("\nbatch %zu/%zu: in service %zu, during the batch %zu "
		       "(min_serving %u)%s\n", b + 1, nb, now, during,
		       p->min_serving,
		       during < p->min_serving ? ": REFUSED, below the floor" : "");
		if (during < p->min_serving)
			ok = false;
		for (i = 0; i < n; i++)
			print_server(c, b * p->batch + i);
	}
	free(batch);
	printf("\n%s\n", ok ? "dry run: the plan can run as shown."
			    : "dry run: the run would stop at the capacity floor.");
	fflush(stdout);
	cmd_end(c, ok ? EXIT_OK : EXIT_FAILED);
}

/* ---- confirmation and start --------------------------------------------------- */

static json_t *start_record(struct rollout_cmd *c)
{
	json_t *names;
	size_t i;

	if (c->resuming)
		return json_pack("{s:s, s:I, s:b}", "ev", "resume", "pid",
				 (json_int_t)getpid(), "abort", 0);
	names = json_array();
	for (i = 0; i < c->nnames; i++)
		json_array_append_new(names, json_string(c->names[i]));
	return json_pack("{s:s, s:o}", "ev", "start", "servers", names);
}

static void start_run(struct rollout_cmd *c)
{
	struct cut_err err;

	cut_err_clear(&err);
	c->run.penv = probe_env_new(c->a->loop, &err);
	if (c->run.penv == NULL) {
		out_error(&c->a->out, &err);
		cmd_end(c, EXIT_FAILED);
		return;
	}
	c->started = true;
	journal_note(c->run.journal, start_record(c));
	roll_out_run_start(c->run.out, c->plan->path);
	roll_start(&c->run.ro);
}

static void on_answer(bool yes, void *arg)
{
	struct rollout_cmd *c = arg;

	c->ask = NULL;
	if (c->ending)
		return;
	if (!yes) {
		fprintf(stderr, "cutover: not confirmed; nothing was changed\n");
		cmd_end(c, EXIT_INTERRUPTED);
		return;
	}
	start_run(c);
}

static void ask(struct rollout_cmd *c)
{
	char q[512];

	snprintf(q, sizeof(q), "Roll %zu server%s of backend %s on %zu load "
		 "balancer%s (cutover rollout %s --dry-run shows every step)?",
		 c->nnames, c->nnames == 1 ? "" : "s", c->plan->backend,
		 fleet_size(c->a->fleet), fleet_size(c->a->fleet) == 1 ? "" : "s",
		 c->plan->path);
	c->ask = confirm_ask(c->a->loop, q, on_answer, c);
	if (c->ask == NULL) {
		fprintf(stderr, "cutover: cannot read the confirmation\n");
		cmd_end(c, EXIT_USAGE);
	}
}

/* Resume: say what the journal and the LBs say, and where each server
 * starts again. */
static int resume_prepare(struct rollout_cmd *c, const struct fleet_view *v,
			  struct cut_err *err)
{
	enum roll_state at;
	size_t i;

	roll_resume_report(&c->jr, c->plan, v, c->a->opt->abort);
	for (i = 0; i < c->run.ro.n; i++) {
		const char *name = c->run.ro.srv[i].server;

		at = roll_resume_point(c->plan, roll_resume_last(&c->jr, name));
		if (roll_resume_at(&c->run.ro, i, at) != 0)
			return cut_err_set(err, CUT_EUSAGE, c->jr.path,
					   "%s: cannot resume at %s",
					   name, roll_state_name(at));
	}
	if (c->nnames == 0 && !c->a->opt->abort)
		return cut_err_set(err, CUT_EUSAGE, c->jr.path, "every server "
				   "of run %s is done: nothing to resume",
				   c->jr.id);
	return 0;
}

static void on_aborted(int exit_code, void *arg)
{
	struct rollout_cmd *c = arg;

	cmd_end(c, exit_code);
}

static void on_view(struct fleet_view *v, void *arg)
{
	struct rollout_cmd *c = arg;
	struct app *a = c->a;
	enum roll_out_mode mode;
	struct cut_err err;
	int rc;

	cut_err_clear(&err);
	rc = validate(c, v, &err);
	if (rc == 0)
		rc = roll_init(&c->run.ro, c->plan, &roll_real_ops, c,
			       (const char *const *)c->names, c->nnames);
	if (rc == 0)
		rc = roll_run_prepare(&c->run, v, &err);
	if (rc == 0 && c->resuming)
		rc = resume_prepare(c, v, &err);
	if (rc != 0) {
		if (err.msg[0] == '\0')
			cut_err_set(&err, rc, "rollout", NULL);
		fleet_view_free(v);
		out_error(&a->out, &err);
		cmd_end(c, rc == CUT_ECHANGED ? EXIT_FAILED : cli_exit_for(rc));
		return;
	}
	if (a->opt->dry_run) {
		dry_run(c, v);
		fleet_view_free(v);
		return;
	}
	if (c->resuming && a->opt->abort) {
		c->started = true;
		rc = roll_resume_abort(a, c->plan, &c->jr, c->run.journal, v,
				       on_aborted, c);
		fleet_view_free(v);
		if (rc == 0)
			c->run.journal = NULL;	/* the abort closes it */
		else
			cmd_end(c, cli_exit_for(rc));
		return;
	}
	fleet_view_free(v);
	mode = a->opt->json ? ROLL_OUT_JSON
			    : a->out.tty ? ROLL_OUT_LIVE : ROLL_OUT_PLAIN;
	c->run.out = roll_out_new(a->loop, mode, &c->run.ro, a->opt->lbs,
				  a->opt->nlb);
	if (c->run.out == NULL) {
		cmd_end(c, EXIT_FAILED);
		return;
	}
	if (a->opt->yes) {
		start_run(c);
		return;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "cutover: standard input is not a terminal: add "
			"--yes to run without confirmation (nothing was "
			"changed)\n");
		cmd_end(c, EXIT_USAGE);
		return;
	}
	ask(c);
}

/* Resume: the journal, then its plan (as the run read it) and its LBs
 * (unless --lb says otherwise). A switch's journal goes to cmd_switch.c:
 * RESUME_SWITCH, with *jr loaded and no plan. */
#define RESUME_SWITCH (-1)

static int resume_load(struct app *a, struct journal_run *jr,
		       struct plan **plan)
{
	struct cut_err err;
	struct plan *p = NULL;

	cut_err_clear(&err);
	if (roll_resume_find(a->opt->nargs ? a->opt->args[0] : NULL, jr,
			     &err) != 0) {
		out_error(&a->out, &err);
		return EXIT_USAGE;
	}
	if (strcmp(jr->kind, "switch") == 0)
		return RESUME_SWITCH;	/* cmd_switch.c finishes it */
	if (strcmp(jr->kind, "rollout") != 0) {
		fprintf(stderr, "cutover: error: %s: run %s is a %s, which "
			"resume does not know\n", jr->path, jr->id, jr->kind);
		return EXIT_USAGE;
	}
	if (plan_load_buf(jr->plan_path, jr->plan_text, strlen(jr->plan_text),
			  &p, &err) != 0) {
		out_error(&a->out, &err);
		return EXIT_USAGE;
	}
	/* The run's own LBs; the plan's must not override them. */
	if (!a->opt->lbs_from_cli && jr->nlb > 0) {
		if (cmd_plan_use_lbs(a, jr->lbs, jr->nlb) != 0) {
			plan_free(p);
			return EXIT_FAILED;
		}
		a->opt->lbs_from_cli = true;
	}
	return cmd_plan_setup(a, p, false, plan);
}

/* The run's journal: a new one, or the resumed run's. */
static int journal_open(struct rollout_cmd *c)
{
	c->run.journal = cmd_plan_journal(c->a, c->plan, "rollout",
					  c->resuming ? c->jr.path : NULL,
					  NULL);
	return c->run.journal != NULL ? 0 : EXIT_FAILED;
}

static int read_lbs(struct rollout_cmd *c)
{
	return cli_exit_for(fleet_read(c->a->fleet, c->plan->backend,
				       FLEET_READ_STATE | FLEET_READ_STAT,
				       on_view, c));
}

static void on_hooks_gone(void *arg)
{
	struct rollout_cmd *c = arg;
	int rc;

	if (--c->open_handles == 0) {
		cmd_release(c);		/* ended (interrupted) meanwhile */
		return;
	}
	if (c->ending)
		return;
	if ((rc = read_lbs(c)) != 0)
		cmd_end(c, rc);
}

static int rollout_start(struct app *a)
{
	struct rollout_cmd *c;
	struct plan *plan;
	int rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return EXIT_FAILED;
	c->resuming = a->opt->cmd == CMD_RESUME;
	rc = c->resuming ? resume_load(a, &c->jr, &plan)
			 : cmd_plan_load(a, false, &plan);
	if (rc == RESUME_SWITCH) {
		struct journal_run jr = c->jr;

		free(c);
		return cmd_switch_resume(a, &jr);
	}
	if (rc != 0) {
		journal_run_free(&c->jr);
		free(c);
		return rc;
	}
	c->a = a;
	c->plan = plan;
	c->lock.fd = -1;
	c->run.a = a;
	c->run.plan = plan;
	uv_timer_init(a->loop, &c->run.pause);
	c->run.pause.data = c;
	c->open_handles = 1;
	a->cmd = c;
	rc = cmd_plan_lock(a, plan, c->resuming ? "resume" : "rollout",
			   &c->lock);
	if (rc == 0 && !a->opt->dry_run)
		rc = journal_open(c);
	if (rc == 0 && c->resuming) {
		rc = roll_resume_wait_hooks(a->loop, &c->jr,
					    plan->hook_timeout_ms,
					    plan->hook_kill_grace_ms,
					    on_hooks_gone, c);
		if (rc == 0) {
			c->open_handles++;
			return 0;	/* on_hooks_gone() reads the LBs */
		}
		rc = rc == CUT_EALREADY ? 0 : EXIT_FAILED;
	}
	if (rc == 0)
		rc = read_lbs(c);
	if (rc != 0)
		cmd_end(c, rc);
	return 0;
}

static void rollout_signal(struct app *a, int count)
{
	struct rollout_cmd *c = a->cmd;

	if (c == NULL)
		return;
	if (!c->started) {
		fprintf(stderr, "cutover: interrupted before any change\n");
		cmd_end(c, EXIT_INTERRUPTED);
		return;
	}
	if (count == 1)
		fprintf(stderr, "cutover: interrupt: starting nothing new, putting "
			"back servers being drained, letting running hooks "
			"finish (interrupt again to kill them)\n");
	roll_interrupt(&c->run.ro);
}

const struct app_cmd_ops cmd_rollout_ops = {
	.start = rollout_start,
	.signal = rollout_signal,
};
