/* roll_resume.c - finding the journal to resume, the journal-versus-LBs
 * report, and `resume --abort` (roll_resume.h). The resumed run itself is
 * the ordinary rollout engine (cmd_rollout.c). */
#include "roll_resume.h"
#include "cli.h"
#include "log.h"
#include "runlock.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- finding the journal --------------------------------------------------- */

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
		return strcmp(a, b) == 0;
	return strcmp(ra, rb) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int load_open(const char *path, struct journal_run *out,
		     struct cut_err *err)
{
	int rc = journal_load(path, out, err);

	if (rc != 0)
		return rc;
	if (!journal_run_open(out)) {
		cut_err_set(err, CUT_EUSAGE, path, "run %s (%s) ended %s: "
			    "nothing to resume", out->id, out->plan_path,
			    out->end_status);
		journal_run_free(out);
		return CUT_EUSAGE;
	}
	return 0;
}

int roll_resume_find(const char *arg, struct journal_run *out,
		     struct cut_err *err)
{
	char **paths;
	size_t n, i, found = 0;
	bool ambiguous = false;	/* open runs of several backends */
	char list[1024] = "";
	size_t used = 0;
	int rc;

	if (arg != NULL && ends_with(arg, ".jsonl"))
		return load_open(arg, out, err);
	if (arg != NULL && strchr(arg, '/') == NULL) {
		/* A run id names its journal. */
		char dir[512], path[600];

		if (runlock_state_dir(dir, sizeof(dir), err) != 0)
			return err->code;
		snprintf(path, sizeof(path), "%s/runs/%s.jsonl", dir, arg);
		if (access(path, F_OK) == 0)
			return load_open(path, out, err);
	}
	if ((rc = journal_list(&paths, &n, err)) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		struct journal_run jr;
		struct cut_err e2;
		int w;

		if (journal_load(paths[i], &jr, &e2) != 0) {
			LOG_WARN("skipping %s", e2.msg);
			continue;
		}
		if ((arg != NULL && !same_file(jr.plan_path, arg)) ||
		    !journal_run_open(&jr)) {
			journal_run_free(&jr);
			continue;
		}
		w = snprintf(list + used, sizeof(list) - used, "\n  %s  %s "
			     "backend %s", jr.id, jr.plan_path, jr.backend);
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
		if (found++ == 0) {
			*out = jr;	/* the newest */
			continue;
		}
		/* Another unfinished run of the same backend is older
		 * history; of another backend, the operator must choose. */
		if (arg == NULL && strcmp(jr.backend, out->backend) != 0)
			ambiguous = true;
		journal_run_free(&jr);
	}
	journal_list_free(paths, n);
	if (found == 0)
		return cut_err_set(err, CUT_EUSAGE, "resume", "no unfinished "
				   "run%s%s in the state directory", arg ? " for " : "",
				   arg ? arg : "");
	if (ambiguous) {
		journal_run_free(out);
		return cut_err_set(err, CUT_EUSAGE, "resume", "several "
				   "unfinished runs; name one (run id or plan "
				   "file):%s", list);
	}
	return 0;
}

enum roll_state roll_resume_last(struct journal_run *jr, const char *server)
{
	struct journal_srv *s = journal_run_srv(jr, server);
	enum roll_state st = ROLL_ST_PENDING;

	if (s != NULL && !roll_state_parse(s->state, &st))
		st = ROLL_ST_PENDING;
	return st;
}

/* ---- hooks left by the crashed run ------------------------------------------ */

struct hook_wait {
	uv_timer_t timer;
	struct journal_run *jr;
	uint64_t waited_ms, timeout_ms, grace_ms;
	int signalled;			/* 0, SIGTERM, SIGKILL */
	uint64_t signalled_at;
	roll_hooks_fn *done;
	void *arg;
};

static bool group_alive(long long pgid)
{
	return pgid > 1 && (kill(-(pid_t)pgid, 0) == 0 || errno == EPERM);
}

static size_t hooks_alive(struct journal_run *jr, int sig)
{
	size_t i, n = 0;

	for (i = 0; i < jr->nsrv; i++) {
		if (!group_alive(jr->srv[i].hook_pid)) {
			jr->srv[i].hook_pid = 0;
			continue;
		}
		n++;
		if (sig != 0)
			kill(-(pid_t)jr->srv[i].hook_pid, sig);
	}
	return n;
}

static void on_hook_wait_closed(uv_handle_t *h)
{
	struct hook_wait *hw = h->data;

	hw->done(hw->arg);
	free(hw);
}

static void on_hook_wait_tick(uv_timer_t *t)
{
	struct hook_wait *hw = t->data;
	int sig = 0;

	hw->waited_ms += 100;
	if (hw->signalled == 0 && hw->waited_ms >= hw->timeout_ms)
		sig = SIGTERM;
	else if (hw->signalled == SIGTERM &&
		 hw->waited_ms >= hw->signalled_at + hw->grace_ms)
		sig = SIGKILL;
	if (hooks_alive(hw->jr, sig) == 0) {
		uv_close((uv_handle_t *)&hw->timer, on_hook_wait_closed);
		return;
	}
	if (sig != 0) {
		fprintf(stderr, "cutover: the previous run's hook is still "
			"running after %llu ms: sending %s to its process "
			"group\n", (unsigned long long)hw->waited_ms,
			sig == SIGTERM ? "TERM" : "KILL");
		hw->signalled = sig;
		hw->signalled_at = hw->waited_ms;
	}
}

int roll_resume_wait_hooks(uv_loop_t *loop, struct journal_run *jr,
			   uint64_t timeout_ms, uint64_t grace_ms,
			   roll_hooks_fn *done, void *arg)
{
	struct hook_wait *hw;
	size_t i;

	if (hooks_alive(jr, 0) == 0)
		return CUT_EALREADY;
	if ((hw = calloc(1, sizeof(*hw))) == NULL)
		return UV_ENOMEM;
	for (i = 0; i < jr->nsrv; i++)
		if (jr->srv[i].hook_pid != 0)
			fprintf(stderr, "cutover: waiting for the hook the "
				"previous run started for %s (pid %lld) to end\n",
				jr->srv[i].name, jr->srv[i].hook_pid);
	hw->jr = jr;
	hw->timeout_ms = timeout_ms;
	hw->grace_ms = grace_ms;
	hw->done = done;
	hw->arg = arg;
	uv_timer_init(loop, &hw->timer);
	hw->timer.data = hw;
	uv_timer_start(&hw->timer, on_hook_wait_tick, 100, 100);
	return 0;
}

/* ---- what --abort does ------------------------------------------------------- */

enum abort_do {
	AB_NOTHING = 0,
	AB_READY,		/* only drained, or upgraded and enabled */
	AB_MAINT,		/* upgrade begun: stays out, reported */
};

static enum abort_do abort_action(const struct plan *p, enum roll_state st,
				  const char **why)
{
	bool in_place = p->strategy == PLAN_STRATEGY_IN_PLACE;

	switch (st) {
	case ROLL_ST_PENDING:
	case ROLL_ST_RESTORED:
		*why = "untouched";
		return AB_NOTHING;
	case ROLL_ST_DONE:
		*why = "upgraded";
		return AB_NOTHING;
	case ROLL_ST_BEFORE_DRAIN:
	case ROLL_ST_DRAINING:
	case ROLL_ST_WAIT_IDLE:
	case ROLL_ST_KILLING:
	case ROLL_ST_SHEDDING:
	case ROLL_ST_AFTER_DRAIN:
	case ROLL_ST_MAINT:
	case ROLL_ST_RESTORING:
		*why = "only drained: back in service";
		return AB_READY;
	case ROLL_ST_ENABLING:
	case ROLL_ST_AFTER_ENABLE:
		*why = "upgraded and probed: back in service";
		return AB_READY;
	case ROLL_ST_WATCHING:
		*why = in_place ? "upgraded in place: kept its traffic"
				: "upgraded: back in service";
		return in_place ? AB_NOTHING : AB_READY;
	case ROLL_ST_UPGRADING:
	case ROLL_ST_PROBING:
		if (in_place) {
			*why = "in-place upgrade interrupted: it kept its "
			       "traffic; CHECK IT";
			return AB_NOTHING;
		}
		*why = "upgrade interrupted: left in maintenance; CHECK IT";
		return AB_MAINT;
	default:
		*why = "upgrade interrupted or failed: left in maintenance; "
		       "CHECK IT";
		return AB_MAINT;
	}
}

static const char *lb_states(const struct fleet_view *v, const char *be,
			     const char *srv, char *out, size_t outsz)
{
	size_t j, used = 0;

	out[0] = '\0';
	for (j = 0; j < v->n; j++) {
		const struct srvstate_row *r =
			srvstate_find(&v->lb[j].state, be, srv);
		int w = snprintf(out + used, outsz - used, "%s%s",
				 j ? ", " : "",
				 r ? srv_admin_name(r->admin) : "missing");

		if (w > 0 && (size_t)w < outsz - used)
			used += (size_t)w;
	}
	return out;
}

void roll_resume_report(struct journal_run *jr, const struct plan *plan,
			const struct fleet_view *v, bool abort)
{
	size_t i;

	fprintf(stderr, "cutover: %s run %s of %s (backend %s, started by pid "
		"%lld on %s)\n", abort ? "aborting" : "resuming", jr->id,
		jr->plan_path, jr->backend, jr->pid, jr->host);
	for (i = 0; i < jr->nsrv; i++) {
		enum roll_state last = roll_resume_last(jr, jr->srv[i].name);
		char lbs[256];
		const char *why;

		lb_states(v, jr->backend, jr->srv[i].name, lbs, sizeof(lbs));
		if (abort) {
			abort_action(plan, last, &why);
		} else {
			enum roll_state at = roll_resume_point(plan, last);

			why = at == ROLL_ST_DONE      ? "done"
			      : at == ROLL_ST_PENDING ? "from the start"
						      : roll_state_name(at);
		}
		fprintf(stderr, "  %-20s journal: %-13s LBs: %-24s -> %s%s\n",
			jr->srv[i].name, jr->srv[i].state, lbs,
			abort || last == ROLL_ST_DONE || last == ROLL_ST_PENDING
				? ""
				: "resume at ",
			why);
	}
}

/* ---- running --abort ---------------------------------------------------------- */

struct abort_run {
	struct app *a;
	const struct plan *plan;
	struct journal_run *jr;
	struct journal *j;
	struct fleet_targets tg;	/* one target per server to change */
	struct fleet_targets one;	/* the one being changed: must live
					 * until fleet_apply's callback */
	enum abort_do *act;
	size_t next;
	bool left_out, unsure;
	roll_abort_fn *done;
	void *arg;
};

static void abort_step(struct abort_run *ab);

static void abort_closed(int status, const struct cut_err *err, void *arg)
{
	struct abort_run *ab = arg;
	int code = ab->unsure	    ? EXIT_UNSAFE
		   : ab->left_out ? EXIT_FAILED
				  : EXIT_OK;

	if (status != 0)
		fprintf(stderr, "cutover: %s\n", err ? err->msg : "journal");
	fleet_targets_free(&ab->tg);
	free(ab->act);
	ab->done(code, ab->arg);
	free(ab);
}

static void abort_finish(struct abort_run *ab)
{
	json_t *states = json_object();
	size_t i;

	for (i = 0; i < ab->jr->nsrv; i++)
		json_object_set_new(states, ab->jr->srv[i].name,
				    json_string(ab->jr->srv[i].state));
	journal_note(ab->j, json_pack("{s:s, s:s, s:s, s:o}", "ev", "end",
				      "status", ab->unsure ? "unsafe" : "aborted",
				      "reason", ab->left_out
						? "aborted; some servers left "
						  "in maintenance"
						: "aborted",
				      "servers", states));
	journal_close(ab->j, abort_closed, ab);
}

static void on_abort_applied(int status, const struct cut_err *err, void *arg)
{
	struct abort_run *ab = arg;
	const struct fleet_target *t = &ab->tg.t[ab->next];
	enum abort_do act = ab->act[ab->next];

	if (status != 0) {
		ab->unsure = true;
		fprintf(stderr, "cutover: %s/%s: %s\n", t->backend, t->server,
			err ? err->msg : cut_strerror(status));
	} else {
		struct journal_srv *js = journal_run_srv(ab->jr, t->server);

		fprintf(stderr, "cutover: %s/%s: %s\n", t->backend, t->server,
			act == AB_READY ? "back in service (ready)"
					: "in maintenance");
		if (js != NULL)
			snprintf(js->state, sizeof(js->state), "%s",
				 act == AB_READY ? "restored" : "failed");
		journal_note(ab->j, json_pack("{s:s, s:s, s:s, s:s}", "ev",
					      "state", "server", t->server,
					      "state", act == AB_READY
							       ? "restored"
							       : "failed",
					      "reason", "resume --abort"));
	}
	ab->next++;
	abort_step(ab);
}

static void on_abort_intent(int status, const struct cut_err *err, void *arg)
{
	struct abort_run *ab = arg;
	struct fleet_action act = {
		.kind = FLEET_ACT_STATE,
		.state = ab->act[ab->next] == AB_READY ? SRV_ADMIN_READY
						       : SRV_ADMIN_MAINT,
	};
	int rc;

	/* Putting servers back or out is what makes things safe: done even
	 * if the journal cannot be written (the error is reported). */
	if (status != 0)
		fprintf(stderr, "cutover: warning: %s\n",
			err ? err->msg : "journal");
	ab->one.n = 1;
	ab->one.nlb = ab->tg.nlb;
	ab->one.t = &ab->tg.t[ab->next];
	rc = fleet_apply(ab->a->fleet, &ab->one, &act, on_abort_applied, ab);
	if (rc == CUT_EALREADY)
		on_abort_applied(0, NULL, ab);
	else if (rc != 0)
		on_abort_applied(rc, NULL, ab);
}

static void abort_step(struct abort_run *ab)
{
	const struct fleet_target *t;

	if (ab->next >= ab->tg.n) {
		abort_finish(ab);
		return;
	}
	t = &ab->tg.t[ab->next];
	if (journal_intent(ab->j, json_pack("{s:s, s:s, s:s, s:s}", "ev",
					    "intent", "server", t->server,
					    "state", "restoring", "do",
					    ab->act[ab->next] == AB_READY
						    ? "set state ready"
						    : "set state maint"),
			   on_abort_intent, ab) != 0)
		on_abort_intent(UV_ENOMEM, NULL, ab);
}

int roll_resume_abort(struct app *a, const struct plan *plan,
		      struct journal_run *jr, struct journal *j,
		      const struct fleet_view *v, roll_abort_fn *done, void *arg)
{
	struct abort_run *ab = calloc(1, sizeof(*ab));
	const char **names = calloc(jr->nsrv + 1, sizeof(*names));
	char (*full)[2 * 128 + 2] = calloc(jr->nsrv + 1, sizeof(*full));
	struct cut_err err;
	size_t i, n = 0;
	int rc;

	if (ab == NULL || names == NULL || full == NULL ||
	    (ab->act = calloc(jr->nsrv + 1, sizeof(*ab->act))) == NULL) {
		free(ab ? ab->act : NULL);
		free(ab);
		free(names);
		free(full);
		return UV_ENOMEM;
	}
	for (i = 0; i < jr->nsrv; i++) {
		const char *why;
		enum abort_do act = abort_action(
			plan, roll_resume_last(jr, jr->srv[i].name), &why);

		if (act == AB_NOTHING)
			continue;
		if (act == AB_MAINT)
			ab->left_out = true;
		snprintf(full[n], sizeof(full[n]), "%s/%s", jr->backend,
			 jr->srv[i].name);
		names[n] = full[n];
		ab->act[n++] = act;
	}
	cut_err_clear(&err);
	rc = n == 0 ? 0
		    : fleet_resolve(v, names, n, RTAPI_LEVEL_ADMIN, &ab->tg,
				    &err);
	free(names);
	free(full);
	if (rc != 0) {
		out_error(&a->out, &err);
		free(ab->act);
		free(ab);
		return rc;
	}
	ab->a = a;
	ab->plan = plan;
	ab->jr = jr;
	ab->j = j;
	ab->done = done;
	ab->arg = arg;
	journal_note(j, json_pack("{s:s, s:I, s:b}", "ev", "resume", "pid",
				  (json_int_t)getpid(), "abort", 1));
	abort_step(ab);
	return 0;
}
