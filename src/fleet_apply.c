/* fleet_apply.c - apply one change to many servers on every LB at once,
 * and put everything back if any LB refuses or fails.
 *
 *   APPLY: one command per (LB, server); LBs in parallel, each LB's
 *          commands in order on its kept connection.
 *   UNDO:  only if some command failed: every cell that may have been
 *          applied (success, or a transport failure after sending) gets
 *          the state seen at validation back. Cells HAProxy refused are
 *          known unchanged and left alone.
 *
 * An LB that does not answer (no connection, timeout, dropped) is tried
 * again, cells of both phases, with backoff until fleet_opts.retry_ms has
 * passed: the commands are idempotent, so sending one twice is harmless.
 */
#include "fleet_int.h"
#include "buf.h"
#include "log.h"
#include "rtapi_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum apply_phase {
	APPLY_PH_APPLY = 0,
	APPLY_PH_UNDO,
	APPLY_PH_COUNT		/* keep last */
};

enum cell_result {
	CELL_PENDING = 0,
	CELL_OK,		/* HAProxy accepted */
	CELL_REFUSED,		/* HAProxy answered with an error: unchanged */
	CELL_LOST,		/* no answer: may or may not have applied */
	CELL_RESULT_COUNT	/* keep last */
};

struct apply_op;

struct apply_cell {
	struct apply_op *op;
	size_t lb, ti;
	enum cell_result result;
	enum cell_result undo;
	bool retry;		/* lost: send again after the backoff */
	bool kept;		/* keep_maint: nothing was sent */
	char msg[200];		/* why the change failed */
	char undo_msg[200];	/* why the undo failed */
};

struct apply_op {
	struct fleet *f;
	const struct fleet_targets *tg;
	struct fleet_action act;
	enum apply_phase phase;
	size_t pending;
	struct apply_cell *cells;	/* nlb * n, LB-major */
	fleet_done_fn *cb;
	void *arg;
	uint64_t retry_until;	/* uv_now() */
	uint64_t backoff_ms;
	uv_timer_t timer;
	bool timer_init;
};

static int build_apply(const struct apply_op *op, const struct apply_cell *c,
		       struct rtcmd *cmd)
{
	const struct fleet_target *t = &op->tg->t[c->ti];

	switch (op->act.kind) {
	case FLEET_ACT_WEIGHT:
		return rtcmd_set_weight(cmd, t->backend, t->server,
					op->act.weight, op->act.percent);
	case FLEET_ACT_HEALTH_DOWN:
		return rtcmd_set_health(cmd, t->backend, t->server, false);
	case FLEET_ACT_SHUTDOWN:
		return rtcmd_shutdown_sessions(cmd, t->backend, t->server);
	default:
		return rtcmd_set_state(cmd, t->backend, t->server,
				       op->act.state);
	}
}

/* The command that restores what the cell looked like at validation. */
static int build_undo(const struct apply_op *op, const struct apply_cell *c,
		      struct rtcmd *cmd)
{
	const struct fleet_target *t = &op->tg->t[c->ti];
	const struct fleet_srv_lb *was = &t->lb[c->lb];

	switch (op->act.kind) {
	case FLEET_ACT_WEIGHT:
		return rtcmd_set_weight(cmd, t->backend, t->server,
					(int)was->uweight, false);
	case FLEET_ACT_HEALTH_DOWN:
		return rtcmd_set_health(cmd, t->backend, t->server, true);
	case FLEET_ACT_SHUTDOWN:
		return CUT_EALREADY;	/* closed sessions stay closed */
	default:
		return rtcmd_set_state(cmd, t->backend, t->server, was->admin);
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	struct apply_op *op = h->data;

	free(op->cells);
	free(op);
}

static void op_free(struct apply_op *op)
{
	if (op->timer_init) {
		uv_close((uv_handle_t *)&op->timer, on_timer_closed);
		return;
	}
	free(op->cells);
	free(op);
}

/* The message is "<what failed>; <what became of it>". The second part
 * says what to check by hand, so when both do not fit in a cut_err it is
 * the first that is cut short. */
static void op_finish(struct apply_op *op)
{
	struct cut_err err;
	struct buf msg, tail;
	size_t i, ncell = op->tg->n * op->tg->nlb, room;
	int code = 0;

	buf_init(&msg, 64 * 1024);
	buf_init(&tail, 64 * 1024);
	for (i = 0; i < ncell; i++) {
		const struct apply_cell *c = &op->cells[i];

		if (c->result == CELL_OK)
			continue;
		code = CUT_EPARTIAL;
		buf_appendf(&msg, "%s%s", msg.len ? "; " : "", c->msg);
	}
	if (code != 0) {
		size_t undone = 0, failed = 0;

		for (i = 0; i < ncell; i++) {
			const struct apply_cell *c = &op->cells[i];

			if (c->result == CELL_REFUSED)
				continue;
			if (c->undo == CELL_OK)
				undone++;
			else
				failed++;
		}
		if (failed > 0) {
			code = CUT_EUNDO;
			buf_appendf(&tail, "; UNDO FAILED:");
			for (i = 0; i < ncell; i++) {
				const struct apply_cell *c = &op->cells[i];
				const struct fleet_target *t = &op->tg->t[c->ti];

				if (c->result != CELL_REFUSED &&
				    c->undo != CELL_OK)
					buf_appendf(&tail, " %s/%s on %s (%s)",
						    t->backend, t->server,
						    fleet_lb_name(op->f, c->lb),
						    c->undo_msg);
			}
			buf_appendf(&tail, " - check these by hand");
		} else if (undone > 0) {
			buf_appendf(&tail, "; put back what was already "
				    "changed (%zu change%s undone)", undone,
				    undone == 1 ? "" : "s");
		} else {
			buf_appendf(&tail, "; nothing was changed");
		}
		room = tail.len < sizeof(err.msg) - 1
			       ? sizeof(err.msg) - 1 - tail.len
			       : 0;
		cut_err_set(&err, code, "apply", "%.*s%s", (int)room,
			    msg.data ? msg.data : "",
			    tail.data ? tail.data : "");
	}
	buf_free(&msg);
	buf_free(&tail);
	for (i = 0; code == 0 && i < ncell; i++) {
		const struct apply_cell *c = &op->cells[i];
		const struct fleet_target *t = &op->tg->t[c->ti];

		if (!c->kept)
			fleet_remember(op->f, c->lb, t->backend, t->server,
				       &op->act);
	}
	op->cb(code, code != 0 ? &err : NULL, op->arg);
	op_free(op);
}

static void on_cell_reply(int status, const char *reply, size_t len,
			  void *arg);

/* Queue the command of every cell that needs one in this phase. */
static void op_send_phase(struct apply_op *op, bool retrying)
{
	size_t i, ncell = op->tg->n * op->tg->nlb;
	struct rtcmd cmd;
	int rc;

	op->pending = 0;
	for (i = 0; i < ncell; i++) {
		struct apply_cell *c = &op->cells[i];

		if (retrying && !c->retry)
			continue;
		c->retry = false;

		if (op->phase == APPLY_PH_UNDO && c->result == CELL_REFUSED)
			continue;
		if (op->phase == APPLY_PH_APPLY && op->act.keep_maint &&
		    op->tg->t[c->ti].lb[c->lb].admin == SRV_ADMIN_MAINT) {
			c->result = CELL_OK;	/* nothing to send */
			c->undo = CELL_OK;
			c->kept = true;
			continue;
		}
		rc = op->phase == APPLY_PH_APPLY ? build_apply(op, c, &cmd)
						 : build_undo(op, c, &cmd);
		if (rc == CUT_EALREADY) {
			c->undo = CELL_OK;	/* nothing can be put back */
			continue;
		}
		if (rc == 0)
			rc = rtapi_send(fleet_lb_api(op->f, c->lb), cmd.text,
					on_cell_reply, c);
		if (rc != 0) {
			/* Not sent: nothing changed by this cell. */
			if (op->phase == APPLY_PH_APPLY) {
				c->result = CELL_REFUSED;
				snprintf(c->msg, sizeof(c->msg), "%s: %s",
					 fleet_lb_name(op->f, c->lb),
					 cmd.err ? cmd.errmsg : cut_strerror(rc));
			} else {
				c->undo = CELL_LOST;
				snprintf(c->undo_msg, sizeof(c->undo_msg),
					 "undo not sent: %s",
					 cmd.err ? cmd.errmsg : cut_strerror(rc));
			}
			continue;
		}
		op->pending++;
	}
}

static void op_next_phase(struct apply_op *op)
{
	size_t i, ncell = op->tg->n * op->tg->nlb;
	bool all_ok = true;

	if (op->phase == APPLY_PH_APPLY) {
		for (i = 0; i < ncell; i++)
			if (op->cells[i].result != CELL_OK)
				all_ok = false;
		if (!all_ok) {
			LOG_WARN("change failed on some load balancer; "
				 "putting back what was applied");
			op->phase = APPLY_PH_UNDO;
			op_send_phase(op, false);
			if (op->pending > 0)
				return;
		}
	}
	op_finish(op);
}

static void op_phase_done(struct apply_op *op);

static void on_retry(uv_timer_t *t)
{
	struct apply_op *op = t->data;

	op_send_phase(op, true);
	if (op->pending == 0)
		op_phase_done(op);
}

static void op_retry_later(struct apply_op *op)
{
	if (!op->timer_init) {
		uv_timer_init(fleet_loop(op->f), &op->timer);
		op->timer.data = op;
		op->timer_init = true;
	}
	uv_timer_start(&op->timer, on_retry, op->backoff_ms, 0);
	if (op->backoff_ms < 2000)
		op->backoff_ms *= 2;
}

/* Every cell of the phase answered (or waits for a retry). */
static void op_phase_done(struct apply_op *op)
{
	size_t i, ncell = op->tg->n * op->tg->nlb;

	for (i = 0; i < ncell; i++)
		if (op->cells[i].retry) {
			op_retry_later(op);
			return;
		}
	op_next_phase(op);
}

static void on_cell_reply(int status, const char *reply, size_t len,
			  void *arg)
{
	struct apply_cell *c = arg;
	struct apply_op *op = c->op;
	const struct fleet_target *t = &op->tg->t[c->ti];
	const char *lb = fleet_lb_name(op->f, c->lb);
	struct reply_class rc;
	enum cell_result res;

	if (status != 0 && status != CUT_ECANCELED &&
	    uv_now(fleet_loop(op->f)) < op->retry_until) {
		LOG_WARN("lb=%s: no answer (%s); trying again", lb,
			 rtapi_last_error(fleet_lb_api(op->f, c->lb)));
		c->retry = true;
		if (--op->pending == 0)
			op_retry_later(op);
		return;
	}
	if (status != 0) {
		res = CELL_LOST;
		stat_classify_reply("", 0, &rc);
		snprintf(rc.msg, sizeof(rc.msg), "%s",
			 rtapi_last_error(fleet_lb_api(op->f, c->lb)));
	} else {
		stat_classify_reply(reply, len, &rc);
		res = rc.kind == REPLY_ERROR ? CELL_REFUSED : CELL_OK;
		/* With severity-output on, HAProxy tags every message of a
		 * set command; untagged text is not HAProxy's answer to it,
		 * so whether the change landed is unknown. */
		if (rc.kind == REPLY_OUTPUT) {
			char quoted[sizeof(rc.msg)];

			snprintf(quoted, sizeof(quoted), "%.60s", rc.msg);
			snprintf(rc.msg, sizeof(rc.msg), "garbled reply: \"%s\"",
				 quoted);
			res = CELL_LOST;
		}
	}
	if (op->phase == APPLY_PH_APPLY) {
		c->result = res;
		if (res != CELL_OK)
			snprintf(c->msg, sizeof(c->msg), "%s/%s on %s: %s",
				 t->backend, t->server, lb,
				 rc.msg[0] ? rc.msg : cut_strerror(status));
		else if (rc.kind == REPLY_INFO)
			LOG_INFO("lb=%s srv=%s/%s: %s", lb, t->backend,
				 t->server, rc.msg);
	} else {
		c->undo = res;
		if (res != CELL_OK)
			snprintf(c->undo_msg, sizeof(c->undo_msg), "undo: %s",
				 rc.msg[0] ? rc.msg : cut_strerror(status));
	}
	if (--op->pending == 0)
		op_phase_done(op);
}

int fleet_apply(struct fleet *f, const struct fleet_targets *tg,
		const struct fleet_action *act, fleet_done_fn *cb, void *arg)
{
	struct apply_op *op;
	size_t i, j, ncell = tg->n * tg->nlb;

	if (tg->n == 0 || tg->nlb != fleet_size(f))
		return CUT_EUSAGE;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return UV_ENOMEM;
	op->cells = calloc(ncell, sizeof(*op->cells));
	if (op->cells == NULL) {
		free(op);
		return UV_ENOMEM;
	}
	op->f = f;
	op->tg = tg;
	op->act = *act;
	op->cb = cb;
	op->arg = arg;
	for (j = 0; j < tg->nlb; j++)
		for (i = 0; i < tg->n; i++) {
			struct apply_cell *c = &op->cells[j * tg->n + i];

			c->op = op;
			c->lb = j;
			c->ti = i;
		}
	op->phase = APPLY_PH_APPLY;
	op->retry_until = uv_now(fleet_loop(f)) + f->retry_ms;
	op->backoff_ms = 100;
	op_send_phase(op, false);
	if (op->pending == 0) {
		/* Nothing went out: either nothing needed sending (every cell
		 * OK) or nothing could be sent; either way nothing changed.
		 * Report from the loop through a zero timer would need a
		 * handle; a synchronous answer is simpler and allowed by
		 * the contract (error return = no callback). */
		int rc = 0;

		for (i = 0; i < ncell; i++)
			if (op->cells[i].result != CELL_OK)
				rc = CUT_EUSAGE;
		free(op->cells);
		free(op);
		return rc == 0 ? CUT_EALREADY : rc;
	}
	return 0;
}
