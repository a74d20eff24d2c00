/* master.c - HAProxy master CLI: LB specs that carry the master's address
 * ("ADDR,master=ADDR") and one command run on the master asynchronously
 * (see master.h).
 *
 *   master_run -> [RESOLVE (tcp)] -> CONNECT -> write "CMD\n" + shutdown
 *              -> read to EOF -> finish(0)
 *   any error, reply past the cap, deadline -> finish(error)
 *
 * finish() is the one exit: it stops the timer, calls back once, then
 * closes the handles; the op is freed when the last one is closed (and a
 * cancelled getaddrinfo has come back).
 */
#include "master.h"
#include "buf.h"
#include "strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- specs ------------------------------------------------------------ */

int lb_spec_parse(const char *spec, struct lb_spec *out, struct cut_err *err)
{
	char part[sizeof(out->lb.spec)];
	const char *comma, *opt;
	struct cut_err sub;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (spec == NULL)
		spec = "";
	comma = strchr(spec, ',');
	n = comma != NULL ? (size_t)(comma - spec) : strlen(spec);
	if (!str_copy(part, sizeof(part), spec, n))
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "load balancer address too long");
	if (rtapi_addr_parse(part, &out->lb, &sub) != 0)
		return cut_err_set(err, CUT_EUSAGE, sub.where, "%s", sub.msg);
	if (comma == NULL)
		return 0;
	opt = comma + 1;
	if (strncmp(opt, MASTER_OPT, strlen(MASTER_OPT)) != 0)
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "'%s': after the address only "
				   ",master=unix:PATH or ,master=tcp:HOST:PORT "
				   "may follow",
				   spec);
	opt += strlen(MASTER_OPT);
	if (strchr(opt, ',') != NULL)
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "'%s': one master= per load balancer, and "
				   "nothing after it",
				   spec);
	if (strncmp(opt, "unix:", 5) != 0 && strncmp(opt, "tcp:", 4) != 0 &&
	    opt[0] != '/')
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "'%s': bad master address '%s' (expected "
				   "unix:PATH or tcp:HOST:PORT)",
				   spec, opt);
	if (rtapi_addr_parse(opt, &out->master, &sub) != 0)
		return cut_err_set(err, CUT_EUSAGE, "--lb",
				   "'%s': bad master address: %s", spec,
				   sub.msg);
	out->has_master = true;
	return 0;
}

/* ---- one command ------------------------------------------------------ */

struct master_op {
	uv_loop_t *loop;
	struct rtapi_addr addr;
	char *line;		/* "CMD\n" */
	size_t linelen;
	master_done_fn *cb;
	void *arg;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} conn;
	bool conn_open;		/* conn initialised: must be closed */
	bool resolving;		/* a getaddrinfo is out */
	uv_timer_t timer;
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	uv_write_t write;
	uv_shutdown_t shut;
	struct buf rx;
	int pending;		/* open handles + outstanding getaddrinfo */
	bool done;
};

static void op_release(struct master_op *op)
{
	buf_free(&op->rx);
	free(op->line);
	free(op);
}

static void op_unref(struct master_op *op)
{
	if (--op->pending == 0)
		op_release(op);
}

static void on_closed(uv_handle_t *h)
{
	op_unref(h->data);
}

/* The one exit. */
static void finish(struct master_op *op, int status, const char *why)
{
	struct cut_err err;
	char cmd[96];

	if (op->done)
		return;
	op->done = true;
	uv_timer_stop(&op->timer);
	if (status != 0) {
		snprintf(cmd, sizeof(cmd), "%.*s", (int)(op->linelen - 1),
			 op->line);
		cut_err_set(&err, status, "master", "master %s, '%s': %s",
			    op->addr.spec, cmd,
			    why != NULL ? why : cut_strerror(status));
		op->cb(status, "", 0, &err, op->arg);
	} else {
		op->cb(0, op->rx.data != NULL ? op->rx.data : "", op->rx.len,
		       NULL, op->arg);
	}
	if (op->resolving)
		uv_cancel((uv_req_t *)&op->gai);
	if (op->conn_open)
		uv_close(&op->conn.handle, on_closed);
	uv_close((uv_handle_t *)&op->timer, on_closed);
}

static void on_timeout(uv_timer_t *t)
{
	finish(container_of(t, struct master_op, timer), CUT_ETIMEOUT,
	       "no complete answer in time");
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char slab[16384];

	(void)h;
	(void)hint;
	b->base = slab;
	b->len = sizeof(slab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct master_op *op = container_of(s, struct master_op, conn.stream);
	int rc;

	if (op->done || nread == 0)
		return;
	if (nread == UV_EOF) {
		finish(op, 0, NULL);
		return;
	}
	if (nread < 0) {
		finish(op, (int)nread, NULL);
		return;
	}
	rc = buf_append(&op->rx, b->base, (size_t)nread);
	if (rc != 0)
		finish(op, rc, rc == CUT_ETOOBIG ? "answer too large" : NULL);
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
	struct master_op *op = container_of(r, struct master_op, shut);

	if (status != 0 && status != UV_ECANCELED)
		finish(op, status, NULL);
}

static void on_written(uv_write_t *r, int status)
{
	struct master_op *op = container_of(r, struct master_op, write);

	if (status != 0 && status != UV_ECANCELED)
		finish(op, status, NULL);
}

static void on_connected(uv_connect_t *r, int status)
{
	struct master_op *op = container_of(r, struct master_op, connect);
	uv_buf_t b = uv_buf_init(op->line, (unsigned)op->linelen);
	int rc;

	if (op->done)
		return;
	if (status != 0) {
		finish(op, status, NULL);
		return;
	}
	rc = uv_write(&op->write, &op->conn.stream, &b, 1, on_written);
	if (rc == 0)
		rc = uv_shutdown(&op->shut, &op->conn.stream, on_shutdown);
	if (rc == 0)
		rc = uv_read_start(&op->conn.stream, on_alloc, on_read);
	if (rc != 0)
		finish(op, rc, NULL);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct master_op *op = container_of(g, struct master_op, gai);
	int rc;

	op->resolving = false;
	if (op->done || status != 0) {
		if (!op->done)
			finish(op, status, NULL);
		uv_freeaddrinfo(res);
		op_unref(op);
		return;
	}
	op_unref(op);	/* the getaddrinfo is back; the op lives on */
	rc = uv_tcp_init(op->loop, &op->conn.tcp);
	if (rc == 0) {
		op->conn.handle.data = op;
		op->conn_open = true;
		op->pending++;
		rc = uv_tcp_connect(&op->connect, &op->conn.tcp, res->ai_addr,
				    on_connected);
	}
	uv_freeaddrinfo(res);
	if (rc != 0)
		finish(op, rc, NULL);
}

static int start(struct master_op *op)
{
	struct addrinfo hints;
	int rc;

	if (op->addr.kind == RTAPI_ADDR_UNIX) {
		rc = uv_pipe_init(op->loop, &op->conn.pipe, 0);
		if (rc != 0)
			return rc;
		op->conn.handle.data = op;
		op->conn_open = true;
		op->pending++;
		uv_pipe_connect(&op->connect, &op->conn.pipe, op->addr.path,
				on_connected);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = uv_getaddrinfo(op->loop, &op->gai, on_resolved, op->addr.host,
			    op->addr.port, &hints);
	if (rc != 0)
		return rc;
	op->resolving = true;
	op->pending++;
	return 0;
}

int master_run(uv_loop_t *loop, const struct rtapi_addr *addr,
	       const char *cmd, uint64_t timeout_ms, size_t reply_max,
	       master_done_fn *cb, void *arg)
{
	size_t n = strlen(cmd);
	struct master_op *op;
	int rc;

	if (n == 0 || strchr(cmd, '\n') != NULL)
		return CUT_EUSAGE;
	op = calloc(1, sizeof(*op));
	if (op == NULL || (op->line = malloc(n + 2)) == NULL) {
		free(op);
		return UV_ENOMEM;
	}
	memcpy(op->line, cmd, n);
	op->line[n] = '\n';
	op->line[n + 1] = '\0';
	op->linelen = n + 1;
	op->loop = loop;
	op->addr = *addr;
	op->cb = cb;
	op->arg = arg;
	buf_init(&op->rx, reply_max > 0 ? reply_max : RTAPI_DEFAULT_REPLY_MAX);
	uv_timer_init(loop, &op->timer);
	op->timer.data = op;
	op->pending = 1;
	rc = start(op);
	if (rc != 0) {
		/* No callback: close what was opened, free when closed. */
		op->done = true;
		if (op->conn_open)
			uv_close(&op->conn.handle, on_closed);
		uv_close((uv_handle_t *)&op->timer, on_closed);
		return rc;
	}
	uv_timer_start(&op->timer, on_timeout,
		       timeout_ms > 0 ? timeout_ms : RTAPI_DEFAULT_TIMEOUT_MS,
		       0);
	return 0;
}
