/* cmd_plan.c - the common start of rollout and switch (cmd_plan.h). */
#include "cmd_plan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_plan_use_lbs(struct app *a, char *const *lbs, size_t n)
{
	const char **v = realloc(a->opt->lbs, n * sizeof(char *));

	if (v == NULL)
		return UV_ENOMEM;
	memcpy(v, lbs, n * sizeof(char *));
	a->opt->lbs = v;
	a->opt->nlb = n;
	return 0;
}

int cmd_plan_load(struct app *a, bool want_switch, struct plan **out)
{
	struct cut_err err;
	struct plan *plan = NULL;

	*out = NULL;
	cut_err_clear(&err);
	if (plan_load(a->opt->args[0], &plan, &err) != 0) {
		out_error(&a->out, &err);
		return EXIT_USAGE;
	}
	return cmd_plan_setup(a, plan, want_switch, out);
}

int cmd_plan_setup(struct app *a, struct plan *plan, bool want_switch,
		   struct plan **out)
{
	struct cut_err err;

	cut_err_clear(&err);
	if (plan->sw.present != want_switch) {
		fprintf(stderr, "cutover: error: %s %s: run it with cutover %s\n",
			plan->path,
			want_switch ? "has no switch: section (it is a rolling "
				      "plan)"
				    : "is a blue/green plan (it has a switch: "
				      "section)",
			want_switch ? "rollout" : "switch");
		plan_free(plan);
		return EXIT_USAGE;
	}
	if (!a->opt->lbs_from_cli && plan->nlb > 0 &&
	    cmd_plan_use_lbs(a, plan->lbs, plan->nlb) != 0) {
		plan_free(plan);
		return EXIT_FAILED;
	}
	a->fleet = fleet_new(a->loop, a->opt->lbs, a->opt->nlb,
			     &(struct fleet_opts){ a->opt->lb_timeout_ms, 0,
						   a->opt->lb_retry_ms },
			     &err);
	if (a->fleet == NULL) {
		out_error(&a->out, &err);
		plan_free(plan);
		return EXIT_USAGE;
	}
	*out = plan;
	return 0;
}

int cmd_plan_lock(struct app *a, const struct plan *p, const char *verb,
		  struct runlock *lock)
{
	struct cut_err err;
	char what[600];
	int rc;

	lock->fd = -1;
	if (a->opt->dry_run)
		return 0;
	snprintf(what, sizeof(what), "%s %s", verb, p->path);
	rc = runlock_take(lock, p->backend, a->opt->lbs, a->opt->nlb, what,
			  &err);
	if (rc != 0) {
		out_error(&a->out, &err);
		return cli_exit_for(rc);
	}
	return 0;
}

struct journal *cmd_plan_journal(struct app *a, const struct plan *p,
				 const char *kind, const char *resume_path,
				 json_t *extra)
{
	char host[128] = "", plan_abs[PATH_MAX];
	struct journal *j = NULL;
	struct cut_err err;
	json_t *rec, *lbs;
	size_t i;

	cut_err_clear(&err);
	if (resume_path != NULL) {
		json_decref(extra);
		j = journal_reopen(a->loop, resume_path, &err);
	} else {
		gethostname(host, sizeof(host) - 1);
		/* Absolute, so resume works from any directory. */
		if (realpath(p->path, plan_abs) == NULL)
			snprintf(plan_abs, sizeof(plan_abs), "%s", p->path);
		lbs = json_array();
		for (i = 0; i < a->opt->nlb; i++)
			json_array_append_new(lbs, json_string(a->opt->lbs[i]));
		rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:i}",
				"ev", "run", "kind", kind, "plan", plan_abs,
				"plan_text", p->text, "backend", p->backend,
				"lbs", lbs, "pid", (json_int_t)getpid(), "host",
				host, "version", 1);
		if (rec != NULL && extra != NULL)
			json_object_update(rec, extra);
		json_decref(extra);
		j = rec != NULL ? journal_create(a->loop, rec, &err) : NULL;
		json_decref(rec);
	}
	if (j == NULL) {
		if (err.msg[0] == '\0')
			cut_err_set(&err, UV_ENOMEM, "journal", NULL);
		out_error(&a->out, &err);
	}
	return j;
}
