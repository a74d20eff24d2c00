/* mapfile.c - atomic rewrite of one map entry on disk (mapfile.h).
 *
 *   open(path) -> fstat -> read -> close -> [replace] -> open(tmp, mode)
 *     -> write -> fsync -> close -> rename(tmp, path) -> done
 *
 * Each step is a uv_fs_* request on the threadpool; the one op struct
 * carries the state; every failure goes through finish(), once. */
#include "mapfile.h"
#include "buf.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAPFILE_MAX (16u << 20)

enum mf_step {
	MF_OPEN = 0,
	MF_STAT,
	MF_READ,
	MF_CLOSE_IN,
	MF_OPEN_TMP,
	MF_WRITE,
	MF_FSYNC,
	MF_CLOSE_OUT,
	MF_RENAME,
	MF_STEP_COUNT		/* keep last */
};

static const char *const step_names[MF_STEP_COUNT] = {
	[MF_OPEN] = "open", [MF_STAT] = "stat", [MF_READ] = "read",
	[MF_CLOSE_IN] = "close", [MF_OPEN_TMP] = "create the temporary file",
	[MF_WRITE] = "write", [MF_FSYNC] = "fsync", [MF_CLOSE_OUT] = "close",
	[MF_RENAME] = "rename",
};

struct mf_op {
	uv_loop_t *loop;
	uv_fs_t req;
	enum mf_step step;
	char *path, *tmp, *key, *value;
	uv_file fd;
	int mode;
	struct buf in;
	char *out;
	size_t out_len, written;
	char chunk[65536];
	mapfile_fn *cb;
	void *arg;
};

char *mapfile_replace(const char *old, size_t len, const char *key,
		      const char *value)
{
	size_t klen = strlen(key), i = 0;
	bool done = false;
	struct buf b;

	buf_init(&b, MAPFILE_MAX + 4096);
	while (i < len) {
		const char *line = old + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i, w = 0;

		while (w < n && (line[w] == ' ' || line[w] == '\t'))
			w++;
		if (!done && n - w >= klen && memcmp(line + w, key, klen) == 0 &&
		    (n - w == klen || line[w + klen] == ' ' ||
		     line[w + klen] == '\t')) {
			buf_appendf(&b, "%s %s\n", key, value);
			done = true;
		} else {
			buf_append(&b, line, n);
			buf_append(&b, "\n", 1);
		}
		i += n + 1;
	}
	if (!done)
		buf_appendf(&b, "%s %s\n", key, value);
	if (b.data == NULL)
		buf_append(&b, "", 0);
	return b.data;
}

static void op_free(struct mf_op *op)
{
	free(op->path);
	free(op->tmp);
	free(op->key);
	free(op->value);
	free(op->out);
	buf_free(&op->in);
	free(op);
}

static void on_cleanup(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req);
}

/* Fire-and-forget cleanup after a failure, still off the loop: close a
 * descriptor left open, remove the temporary file. */
static void cleanup_async(struct mf_op *op)
{
	bool fd_open = op->step == MF_STAT || op->step == MF_READ ||
		       op->step == MF_WRITE || op->step == MF_FSYNC;
	uv_fs_t *r;

	if (fd_open && (r = malloc(sizeof(*r))) != NULL &&
	    uv_fs_close(op->loop, r, op->fd, on_cleanup) != 0)
		free(r);
	if (op->step >= MF_OPEN_TMP && (r = malloc(sizeof(*r))) != NULL &&
	    uv_fs_unlink(op->loop, r, op->tmp, on_cleanup) != 0)
		free(r);
}

static void finish(struct mf_op *op, int status)
{
	struct cut_err err;

	if (status != 0) {
		cut_err_set(&err, status, op->path, "%s: %s failed: %s", op->path,
			    step_names[op->step], uv_strerror(status));
		cleanup_async(op);
	}
	op->cb(status, status ? &err : NULL, op->arg);
	op_free(op);
}

static void on_fs(uv_fs_t *req);

static int next(struct mf_op *op, enum mf_step step)
{
	uv_buf_t b;

	op->step = step;
	switch (step) {
	case MF_OPEN:
		return uv_fs_open(op->loop, &op->req, op->path, O_RDONLY, 0, on_fs);
	case MF_STAT:
		return uv_fs_fstat(op->loop, &op->req, op->fd, on_fs);
	case MF_READ:
		b = uv_buf_init(op->chunk, sizeof(op->chunk));
		return uv_fs_read(op->loop, &op->req, op->fd, &b, 1, -1, on_fs);
	case MF_CLOSE_IN:
	case MF_CLOSE_OUT:
		return uv_fs_close(op->loop, &op->req, op->fd, on_fs);
	case MF_OPEN_TMP:
		return uv_fs_open(op->loop, &op->req, op->tmp,
				  O_WRONLY | O_CREAT | O_TRUNC, op->mode, on_fs);
	case MF_WRITE:
		b = uv_buf_init(op->out + op->written,
				(unsigned)(op->out_len - op->written));
		return uv_fs_write(op->loop, &op->req, op->fd, &b, 1, -1, on_fs);
	case MF_FSYNC:
		return uv_fs_fsync(op->loop, &op->req, op->fd, on_fs);
	case MF_RENAME:
		return uv_fs_rename(op->loop, &op->req, op->tmp, op->path, on_fs);
	default:
		return UV_EINVAL;
	}
}

static void on_fs(uv_fs_t *req)
{
	struct mf_op *op = req->data;
	ssize_t res = req->result;
	int rc = 0;

	if (op->step == MF_STAT && res == 0)
		op->mode = (int)(req->statbuf.st_mode & 07777);
	uv_fs_req_cleanup(req);
	op->req.data = op;
	if (res < 0) {
		finish(op, (int)res);
		return;
	}
	switch (op->step) {
	case MF_OPEN:
		op->fd = (uv_file)res;
		rc = next(op, MF_STAT);
		break;
	case MF_STAT:
		rc = next(op, MF_READ);
		break;
	case MF_READ:
		if (res > 0) {
			rc = buf_append(&op->in, op->chunk, (size_t)res);
			if (rc == 0)
				rc = next(op, MF_READ);
			break;
		}
		rc = next(op, MF_CLOSE_IN);
		break;
	case MF_CLOSE_IN:
		op->out = mapfile_replace(op->in.data ? op->in.data : "",
					  op->in.len, op->key, op->value);
		if (op->out == NULL) {
			rc = UV_ENOMEM;
			break;
		}
		op->out_len = strlen(op->out);
		rc = next(op, MF_OPEN_TMP);
		break;
	case MF_OPEN_TMP:
		op->fd = (uv_file)res;
		rc = next(op, MF_WRITE);
		break;
	case MF_WRITE:
		op->written += (size_t)res;
		rc = next(op, op->written < op->out_len ? MF_WRITE : MF_FSYNC);
		break;
	case MF_FSYNC:
		rc = next(op, MF_CLOSE_OUT);
		break;
	case MF_CLOSE_OUT:
		rc = next(op, MF_RENAME);
		break;
	case MF_RENAME:
		finish(op, 0);
		return;
	default:
		rc = UV_EINVAL;
	}
	if (rc != 0)
		finish(op, rc);
}

int mapfile_set(uv_loop_t *loop, const char *path, const char *key,
		const char *value, mapfile_fn *cb, void *arg)
{
	struct mf_op *op = calloc(1, sizeof(*op));
	size_t n = strlen(path) + 16;
	int rc;

	if (op == NULL)
		return UV_ENOMEM;
	op->loop = loop;
	op->path = strdup(path);
	op->key = strdup(key);
	op->value = strdup(value);
	op->tmp = malloc(n);
	if (op->path == NULL || op->key == NULL || op->value == NULL ||
	    op->tmp == NULL) {
		op_free(op);
		return UV_ENOMEM;
	}
	snprintf(op->tmp, n, "%s.cutover-tmp", path);
	buf_init(&op->in, MAPFILE_MAX);
	op->mode = 0644;
	op->cb = cb;
	op->arg = arg;
	op->req.data = op;
	rc = next(op, MF_OPEN);
	if (rc != 0)
		op_free(op);
	return rc;
}
