/* journal.c - writing the run journal (journal.h): records queued in
 * order, written in batches on libuv's thread pool, fdatasync'd before an
 * intent's callback runs. Creating the file is the only blocking part and
 * happens before the loop runs. */
#include "journal.h"
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct jrec {
	struct jrec *next;
	char *line;		/* JSON + '\n' */
	size_t len;
	journal_fn *cb;		/* intents only */
	void *arg;
};

struct journal {
	uv_loop_t *loop;
	uv_file fd;
	char path[512];
	struct jrec *head, *tail;	/* queued */
	struct jrec *batch;		/* being written */
	char *buf;			/* the batch, concatenated */
	size_t buf_len, buf_done;
	bool batch_sync;
	uv_fs_t req;
	bool busy;
	int error;			/* first write error, sticky */
	struct cut_err err;
	bool closing;
	bool discard;			/* unlink once closed */
	journal_fn *close_cb;
	void *close_arg;
};

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump(struct journal *j);

/* ---- creating ------------------------------------------------------------- */

static struct journal *journal_alloc(uv_loop_t *loop)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->loop = loop;
	j->fd = -1;
	return j;
}

static char *render(json_t *rec, size_t *len)
{
	char *text, *line;
	size_t n;

	json_object_set_new(rec, "t", json_integer(wall_ms()));
	text = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct journal *journal_create(uv_loop_t *loop, json_t *first,
			       struct cut_err *err)
{
	char dir[512], runs[560], id[64];
	struct journal *j;
	struct tm tm;
	time_t now = time(NULL);
	char *line = NULL;
	size_t len;
	int rc, dfd;

	if (runlock_state_dir(dir, sizeof(dir), err) != 0)
		return NULL;
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	if (mkdir(runs, 0700) != 0 && errno != EEXIST) {
		cut_err_set(err, -errno, runs, "cannot create %s: %s", runs,
			    strerror(errno));
		return NULL;
	}
	if ((j = journal_alloc(loop)) == NULL) {
		cut_err_set(err, UV_ENOMEM, "journal", NULL);
		return NULL;
	}
	localtime_r(&now, &tm);
	snprintf(id, sizeof(id), "%04d%02d%02d-%02d%02d%02d-%ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)getpid());
	snprintf(j->path, sizeof(j->path), "%s/%s.jsonl", runs, id);
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		     0600);
	if (j->fd < 0) {
		cut_err_set(err, -errno, j->path, "cannot create the journal "
			    "%s: %s", j->path, strerror(errno));
		free(j);
		return NULL;
	}
	json_object_set_new(first, "id", json_string(id));
	line = render(first, &len);
	rc = line == NULL ? UV_ENOMEM : write_all(j->fd, line, len);
	if (rc == 0 && fdatasync(j->fd) != 0)
		rc = -errno;
	free(line);
	/* The new name must survive a crash too. */
	if (rc == 0 && (dfd = open(runs, O_RDONLY | O_DIRECTORY)) >= 0) {
		if (fsync(dfd) != 0)
			rc = -errno;
		close(dfd);
	}
	if (rc != 0) {
		cut_err_set(err, rc, j->path, "cannot write the journal %s: %s",
			    j->path, rc == UV_ENOMEM ? "out of memory"
						     : strerror(-rc));
		close(j->fd);
		free(j);
		return NULL;
	}
	return j;
}

struct journal *journal_reopen(uv_loop_t *loop, const char *path,
			       struct cut_err *err)
{
	struct journal *j = journal_alloc(loop);

	if (j == NULL) {
		cut_err_set(err, UV_ENOMEM, "journal", NULL);
		return NULL;
	}
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (j->fd < 0) {
		cut_err_set(err, -errno, path, "cannot open the journal %s: %s",
			    path, strerror(errno));
		free(j);
		return NULL;
	}
	return j;
}

/* ---- queueing ------------------------------------------------------------- */

static int enqueue(struct journal *j, json_t *rec, journal_fn *cb, void *arg)
{
	struct jrec *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->line = render(rec, &r->len)) == NULL) {
		free(r);
		json_decref(rec);
		return UV_ENOMEM;
	}
	json_decref(rec);
	r->cb = cb;
	r->arg = arg;
	if (j->tail != NULL)
		j->tail->next = r;
	else
		j->head = r;
	j->tail = r;
	pump(j);
	return 0;
}

void journal_note(struct journal *j, json_t *rec)
{
	if (j == NULL || j->closing) {
		json_decref(rec);
		return;
	}
	if (enqueue(j, rec, NULL, NULL) != 0 && j->error == 0) {
		j->error = UV_ENOMEM;
		cut_err_set(&j->err, UV_ENOMEM, j->path, "journal: out of memory");
	}
}

int journal_intent(struct journal *j, json_t *rec, journal_fn *cb, void *arg)
{
	if (j->closing) {
		json_decref(rec);
		return CUT_ECANCELED;
	}
	return enqueue(j, rec, cb, arg);
}

/* ---- writing -------------------------------------------------------------- */

static void on_closed(uv_fs_t *req);

static void on_unlinked(uv_fs_t *req)
{
	struct journal *j = req->data;

	j->discard = false;
	on_closed(req);
}

static void on_closed(uv_fs_t *req)
{
	struct journal *j = req->data;
	journal_fn *cb = j->close_cb;
	void *arg = j->close_arg;
	int status = j->error;
	struct cut_err err = j->err;

	uv_fs_req_cleanup(req);
	if (j->discard && uv_fs_unlink(j->loop, &j->req, j->path,
				       on_unlinked) == 0)
		return;
	free(j);
	if (cb != NULL)
		cb(status, status ? &err : NULL, arg);
}

static void batch_done(struct journal *j, int status)
{
	struct jrec *r = j->batch, *next;

	if (status != 0 && j->error == 0) {
		j->error = status;
		cut_err_set(&j->err, status, j->path, "cannot write the journal "
			    "%s: %s", j->path, uv_strerror(status));
	}
	j->batch = NULL;
	free(j->buf);
	j->buf = NULL;
	j->busy = false;
	for (; r != NULL; r = next) {
		next = r->next;
		if (r->cb != NULL)
			r->cb(j->error, j->error ? &j->err : NULL, r->arg);
		free(r->line);
		free(r);
	}
	pump(j);
}

static void on_synced(uv_fs_t *req)
{
	struct journal *j = req->data;
	int status = (int)req->result;

	uv_fs_req_cleanup(req);
	batch_done(j, status < 0 ? status : 0);
}

static void write_rest(struct journal *j);

static void on_written(uv_fs_t *req)
{
	struct journal *j = req->data;
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	if (n < 0) {
		batch_done(j, (int)n);
		return;
	}
	j->buf_done += (size_t)n;
	if (j->buf_done < j->buf_len) {
		write_rest(j);
		return;
	}
	if (!j->batch_sync) {
		batch_done(j, 0);
		return;
	}
	j->req.data = j;
	if (uv_fs_fdatasync(j->loop, &j->req, j->fd, on_synced) != 0)
		batch_done(j, UV_EIO);
}

static void write_rest(struct journal *j)
{
	uv_buf_t b = uv_buf_init(j->buf + j->buf_done,
				 (unsigned)(j->buf_len - j->buf_done));
	int rc;

	j->req.data = j;
	rc = uv_fs_write(j->loop, &j->req, j->fd, &b, 1, -1, on_written);
	if (rc != 0)
		batch_done(j, rc);
}

static void pump(struct journal *j)
{
	struct jrec *r;
	size_t len = 0;

	if (j->busy)
		return;
	if (j->head == NULL) {
		if (j->closing && j->fd >= 0) {
			uv_file fd = j->fd;

			j->fd = -1;
			j->busy = true;
			j->req.data = j;
			if (uv_fs_close(j->loop, &j->req, fd, on_closed) != 0)
				on_closed(&j->req);
		}
		return;
	}
	/* Take everything queued as one batch. */
	j->batch = j->head;
	j->head = j->tail = NULL;
	j->batch_sync = false;
	for (r = j->batch; r != NULL; r = r->next) {
		len += r->len;
		if (r->cb != NULL)
			j->batch_sync = true;
	}
	j->busy = true;
	if (j->error != 0) {
		batch_done(j, j->error);
		return;
	}
	j->buf = malloc(len);
	if (j->buf == NULL) {
		batch_done(j, UV_ENOMEM);
		return;
	}
	j->buf_len = 0;
	j->buf_done = 0;
	for (r = j->batch; r != NULL; r = r->next) {
		memcpy(j->buf + j->buf_len, r->line, r->len);
		j->buf_len += r->len;
	}
	write_rest(j);
}

void journal_discard(struct journal *j)
{
	if (j == NULL)
		return;
	j->discard = true;
	journal_close(j, NULL, NULL);
}

void journal_close(struct journal *j, journal_fn *cb, void *arg)
{
	if (j == NULL) {
		if (cb != NULL)
			cb(0, NULL, arg);
		return;
	}
	j->closing = true;
	j->close_cb = cb;
	j->close_arg = arg;
	pump(j);
}
