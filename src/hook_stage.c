/* hook_stage.c - the commands of one hook stage, in order (hook_stage.h). */
#include "hook_stage.h"
#include "strutil.h"

#include <stdio.h>
#include <stdlib.h>

struct hook_stage {
	uv_loop_t *loop;
	const struct plan *p;
	enum plan_hook_stage st;
	struct hook_vars vars;
	struct hook_stage_cbs cbs;
	size_t cmd;			/* the command running */
	struct hook *hook;
};

static void on_done(struct hook *h, int status, int64_t exit_code,
		    int term_signal, void *arg);

/* Start command hs->cmd. 0, or an error with *err (nothing started). */
static int start(struct hook_stage *hs, struct cut_err *err)
{
	const struct plan_argv *tmpl = &hs->p->hooks[hs->st].cmds[hs->cmd];
	struct hook_opts o = {
		.timeout_ms = hs->p->hook_timeout_ms,
		.kill_grace_ms = hs->p->hook_kill_grace_ms,
		.vars = &hs->vars,
		.on_line = hs->cbs.on_line,
		.line_arg = hs->cbs.arg,
	};
	char **argv = hook_expand_argv(tmpl, &hs->vars, err);

	if (argv == NULL)
		return err->code ? err->code : UV_ENOMEM;
	if (hs->cbs.on_start != NULL)
		hs->cbs.on_start(argv[0], argv[1] != NULL, hs->cbs.arg);
	hs->hook = hook_run(hs->loop, argv, &o, on_done, hs, err);
	hook_argv_free(argv);
	if (hs->hook == NULL)
		return err->code ? err->code : UV_ENOMEM;
	if (hs->cbs.on_spawn != NULL)
		hs->cbs.on_spawn(hook_pid(hs->hook), hs->cbs.arg);
	return 0;
}

static void finish(struct hook_stage *hs, int status, const struct cut_err *err)
{
	hs->cbs.done(status, err, hs->cbs.done_arg);
	free(hs);
}

static void on_done(struct hook *h, int status, int64_t exit_code,
		    int term_signal, void *arg)
{
	struct hook_stage *hs = arg;
	const char *name = plan_hook_stage_name(hs->st);
	const char *prog = hs->p->hooks[hs->st].cmds[hs->cmd].argv[0];
	struct cut_err err;
	char dur[32];

	hs->hook = NULL;
	cut_err_clear(&err);
	switch (status) {
	case 0:
		if (++hs->cmd >= hs->p->hooks[hs->st].n) {
			finish(hs, 0, NULL);
			return;
		}
		if (start(hs, &err) != 0) {
			cut_err_prefix(&err, "%s hook could not start: ", name);
			err.code = CUT_EHOOK;
			finish(hs, CUT_EHOOK, &err);
		}
		return;
	case CUT_ETIMEOUT:
		str_format_duration(hs->p->hook_timeout_ms, dur, sizeof(dur));
		cut_err_set(&err, CUT_EHOOK, name, "%s hook '%s' timed out after "
			    "%s (its process group was killed)", name, prog, dur);
		break;
	case CUT_ECANCELED:
		cut_err_set(&err, CUT_ECANCELED, name, "%s hook '%s' stopped by "
			    "an interrupt", name, prog);
		break;
	default:
		if (term_signal != 0)
			cut_err_set(&err, CUT_EHOOK, name, "%s hook '%s' killed "
				    "by signal %d", name, prog, term_signal);
		else
			cut_err_set(&err, CUT_EHOOK, name, "%s hook '%s' exited "
				    "with status %lld", name, prog,
				    (long long)exit_code);
	}
	finish(hs, err.code, &err);
}

struct hook_stage *hook_stage_run(uv_loop_t *loop, const struct plan *p,
				  enum plan_hook_stage st,
				  const struct hook_vars *vars,
				  const struct hook_stage_cbs *cbs,
				  struct cut_err *err)
{
	struct hook_stage *hs;

	if (p->hooks[st].n == 0) {
		cut_err_set(err, CUT_EUSAGE, plan_hook_stage_name(st),
			    "no command in this hook stage");
		return NULL;
	}
	hs = calloc(1, sizeof(*hs));
	if (hs == NULL) {
		cut_err_set(err, UV_ENOMEM, plan_hook_stage_name(st), NULL);
		return NULL;
	}
	hs->loop = loop;
	hs->p = p;
	hs->st = st;
	hs->vars = *vars;
	hs->vars.stage = plan_hook_stage_name(st);
	hs->cbs = *cbs;
	if (start(hs, err) != 0) {
		free(hs);
		return NULL;
	}
	return hs;
}

void hook_stage_kill(struct hook_stage *hs, bool now)
{
	if (hs->hook == NULL)
		return;
	if (now)
		hook_kill_now(hs->hook);
	else
		hook_kill(hs->hook);
}
