/* fleet_map.c - read or set one map entry on every LB (fleet_map.h). */
#include "fleet_map.h"
#include "buf.h"
#include "rtapi_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct map_op;

struct map_cell {
	struct map_op *op;
	size_t lb;
	int status;		/* 0 applied/answered, else failed */
	bool refused;		/* HAProxy said no: known unchanged */
	int undo;		/* 0 put back, else failed */
};

struct map_op {
	struct fleet *f;
	char file[MAP_FILE_MAX], key[MAP_KEY_MAX];
	const char *const *prev;
	bool undoing;
	size_t pending;
	struct map_cell *cells;
	struct fleet_map_value *values;	/* get */
	fleet_map_fn *get_cb;
	fleet_done_fn *set_cb;
	void *arg;
};

static void op_free(struct map_op *op)
{
	free(op->cells);
	free(op->values);
	free(op);
}

static struct map_op *op_new(struct fleet *f, const char *file,
			     const char *key)
{
	struct map_op *op = calloc(1, sizeof(*op));
	size_t j, n = fleet_size(f);

	if (op == NULL)
		return NULL;
	op->cells = calloc(n, sizeof(*op->cells));
	op->values = calloc(n, sizeof(*op->values));
	if (op->cells == NULL || op->values == NULL) {
		op_free(op);
		return NULL;
	}
	op->f = f;
	snprintf(op->file, sizeof(op->file), "%s", file);
	snprintf(op->key, sizeof(op->key), "%s", key);
	for (j = 0; j < n; j++) {
		op->cells[j].op = op;
		op->cells[j].lb = j;
	}
	return op;
}

/* ---- get ------------------------------------------------------------------- */

static void on_get(int status, const char *reply, size_t len, void *arg)
{
	struct map_cell *c = arg;
	struct map_op *op = c->op;
	struct fleet_map_value *v = &op->values[c->lb];
	struct reply_class rc;
	struct map_lookup m;
	struct cut_err err;

	if (status != 0) {
		v->status = status;
		snprintf(v->msg, sizeof(v->msg), "%s",
			 rtapi_last_error(fleet_lb_api(op->f, c->lb)));
	} else {
		stat_classify_reply(reply, len, &rc);
		if (rc.kind == REPLY_ERROR) {
			v->status = CUT_EREFUSED;
			snprintf(v->msg, sizeof(v->msg), "%s", rc.msg);
		} else if (stat_parse_map_get(reply, len, &m, &err) != 0) {
			v->status = CUT_EPROTO;
			snprintf(v->msg, sizeof(v->msg), "%s", err.msg);
		} else {
			v->found = m.found;
			snprintf(v->value, sizeof(v->value), "%s", m.value);
		}
	}
	if (--op->pending == 0) {
		op->get_cb(op->values, op->arg);
		op_free(op);
	}
}

int fleet_map_get(struct fleet *f, const char *file, const char *key,
		  fleet_map_fn *cb, void *arg)
{
	struct map_op *op;
	struct rtcmd cmd;
	size_t j;
	int rc;

	if ((rc = rtcmd_get_map(&cmd, file, key)) != 0)
		return rc;
	if ((op = op_new(f, file, key)) == NULL)
		return UV_ENOMEM;
	op->get_cb = cb;
	op->arg = arg;
	for (j = 0; j < fleet_size(f); j++) {
		if (rtapi_send(fleet_lb_api(f, j), cmd.text, on_get,
			       &op->cells[j]) != 0) {
			op->values[j].status = UV_ENOMEM;
			continue;
		}
		op->pending++;
	}
	if (op->pending == 0) {
		op_free(op);
		return UV_ENOMEM;
	}
	return 0;
}

/* ---- set ------------------------------------------------------------------- */

static void set_finish(struct map_op *op)
{
	size_t j, n = fleet_size(op->f), undone = 0, undo_failed = 0;
	struct cut_err err;
	struct buf msg;
	int code = 0;

	buf_init(&msg, sizeof(err.msg) - 1);
	for (j = 0; j < n; j++) {
		const struct map_cell *c = &op->cells[j];

		if (c->status == 0) {
			if (op->undoing && c->undo == 0)
				undone++;
			else if (op->undoing)
				undo_failed++;
			continue;
		}
		code = CUT_EPARTIAL;
		buf_appendf(&msg, "%sset map on %s: %s", msg.len ? "; " : "",
			    fleet_lb_name(op->f, j), op->values[j].msg);
	}
	if (code != 0) {
		if (undo_failed > 0) {
			code = CUT_EUNDO;
			buf_appendf(&msg, "; could NOT set it back on %zu LB%s: "
				    "check the map by hand", undo_failed,
				    undo_failed == 1 ? "" : "s");
		} else {
			buf_appendf(&msg, "; set back where it had changed "
				    "(%zu LB%s)", undone, undone == 1 ? "" : "s");
		}
		cut_err_set(&err, code, op->file, "%s", msg.data ? msg.data : "");
	}
	buf_free(&msg);
	op->set_cb(code, code ? &err : NULL, op->arg);
	op_free(op);
}

static void on_set(int status, const char *reply, size_t len, void *arg);

static void start_undo(struct map_op *op)
{
	struct rtcmd cmd;
	size_t j;

	op->undoing = true;
	for (j = 0; j < fleet_size(op->f); j++) {
		struct map_cell *c = &op->cells[j];

		if (c->refused)
			continue;	/* HAProxy said no: unchanged there */
		c->undo = -1;
		if (op->prev == NULL || op->prev[j] == NULL ||
		    rtcmd_set_map(&cmd, op->file, op->key, op->prev[j]) != 0 ||
		    rtapi_send(fleet_lb_api(op->f, j), cmd.text, on_set, c) != 0)
			continue;
		op->pending++;
	}
	if (op->pending == 0)
		set_finish(op);
}

static void on_set(int status, const char *reply, size_t len, void *arg)
{
	struct map_cell *c = arg;
	struct map_op *op = c->op;
	struct reply_class rc;
	int st = status;

	if (status == 0) {
		stat_classify_reply(reply, len, &rc);
		if (rc.kind == REPLY_ERROR) {
			st = CUT_EREFUSED;
			if (!op->undoing) {
				c->refused = true;
				snprintf(op->values[c->lb].msg,
					 sizeof(op->values[0].msg), "%s", rc.msg);
			}
		}
	} else if (!op->undoing) {
		snprintf(op->values[c->lb].msg, sizeof(op->values[0].msg), "%s",
			 rtapi_last_error(fleet_lb_api(op->f, c->lb)));
	}
	if (op->undoing)
		c->undo = st;
	else
		c->status = st;
	if (--op->pending > 0)
		return;
	if (!op->undoing) {
		size_t j;

		for (j = 0; j < fleet_size(op->f); j++)
			if (op->cells[j].status != 0) {
				start_undo(op);
				return;
			}
	}
	set_finish(op);
}

int fleet_map_set(struct fleet *f, const char *file, const char *key,
		  const char *value, const char *const *prev,
		  fleet_done_fn *cb, void *arg)
{
	struct map_op *op;
	struct rtcmd cmd;
	size_t j;
	int rc;

	if ((rc = rtcmd_set_map(&cmd, file, key, value)) != 0)
		return rc;
	if ((op = op_new(f, file, key)) == NULL)
		return UV_ENOMEM;
	op->prev = prev;
	op->set_cb = cb;
	op->arg = arg;
	for (j = 0; j < fleet_size(f); j++) {
		if (rtapi_send(fleet_lb_api(f, j), cmd.text, on_set,
			       &op->cells[j]) != 0) {
			op->cells[j].status = UV_ENOMEM;
			op->cells[j].refused = true;
			snprintf(op->values[j].msg, sizeof(op->values[0].msg),
				 "cannot send");
			continue;
		}
		op->pending++;
	}
	if (op->pending == 0) {
		op_free(op);
		return UV_ENOMEM;
	}
	return 0;
}
