/* journal_read.c - reading run journals back for `cutover resume`
 * (journal.h). Runs before the loop: plain blocking reads. */
#include "journal.h"
#include "runlock.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JOURNAL_MAX (64u << 20)

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

static int add_srv(struct journal_run *r, const char *name,
		   struct cut_err *err)
{
	struct journal_srv *s;

	if (journal_run_srv(r, name) != NULL)
		return 0;
	s = realloc(r->srv, (r->nsrv + 1) * sizeof(*s));
	if (s == NULL)
		return cut_err_set(err, UV_ENOMEM, r->path, NULL);
	r->srv = s;
	s = &r->srv[r->nsrv++];
	memset(s, 0, sizeof(*s));
	copy(s->name, sizeof(s->name), name);
	copy(s->state, sizeof(s->state), "pending");
	return 0;
}

static int read_run(struct journal_run *r, json_t *rec, int line,
		    struct cut_err *err)
{
	json_t *a, *v;
	size_t i;

	if (r->kind[0] != '\0')
		return cut_err_set(err, CUT_EPROTO, r->path, "%s:%d: a second "
				   "\"run\" record", r->path, line);
	copy(r->id, sizeof(r->id), str(rec, "id"));
	copy(r->kind, sizeof(r->kind), str(rec, "kind"));
	copy(r->plan_path, sizeof(r->plan_path), str(rec, "plan"));
	copy(r->backend, sizeof(r->backend), str(rec, "backend"));
	copy(r->host, sizeof(r->host), str(rec, "host"));
	copy(r->sw_to, sizeof(r->sw_to), str(rec, "to"));
	r->pid = json_integer_value(json_object_get(rec, "pid"));
	if (r->kind[0] == '\0' || r->backend[0] == '\0' ||
	    !json_is_string(json_object_get(rec, "plan_text")))
		return cut_err_set(err, CUT_EPROTO, r->path, "%s:%d: the \"run\" "
				   "record lacks kind, backend or plan_text",
				   r->path, line);
	r->plan_text = strdup(str(rec, "plan_text"));
	a = json_object_get(rec, "lbs");
	r->lbs = calloc(json_array_size(a) + 1, sizeof(*r->lbs));
	if (r->plan_text == NULL || r->lbs == NULL)
		return cut_err_set(err, UV_ENOMEM, r->path, NULL);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		if ((r->lbs[r->nlb] = strdup(json_string_value(v))) == NULL)
			return cut_err_set(err, UV_ENOMEM, r->path, NULL);
		r->nlb++;
	}
	return 0;
}

static int read_start(struct journal_run *r, json_t *rec)
{
	struct cut_err err;
	json_t *v;
	size_t i;

	r->started = true;
	json_array_foreach(json_object_get(rec, "servers"), i, v)
		if (json_is_string(v) &&
		    add_srv(r, json_string_value(v), &err) != 0)
			return err.code;
	return 0;
}

static int read_record(struct journal_run *r, json_t *rec, int line,
		       struct cut_err *err)
{
	const char *ev = str(rec, "ev");
	struct journal_srv *s;

	if (strcmp(ev, "run") == 0)
		return read_run(r, rec, line, err);
	if (r->kind[0] == '\0')
		return cut_err_set(err, CUT_EPROTO, r->path, "%s:%d: the first "
				   "record is not a \"run\" record", r->path,
				   line);
	if (strcmp(ev, "start") == 0)
		return read_start(r, rec) != 0
			       ? cut_err_set(err, UV_ENOMEM, r->path, NULL)
			       : 0;
	if (strcmp(ev, "state") == 0 || strcmp(ev, "intent") == 0) {
		if (add_srv(r, str(rec, "server"), err) != 0)
			return err->code;
		s = journal_run_srv(r, str(rec, "server"));
		if (str(rec, "state")[0] != '\0')
			copy(s->state, sizeof(s->state), str(rec, "state"));
		if (strcmp(ev, "state") == 0)
			s->hook_pid = 0;	/* its stage is over */
	} else if (strcmp(ev, "hook") == 0) {
		s = journal_run_srv(r, str(rec, "server"));
		if (s != NULL)
			s->hook_pid = json_integer_value(json_object_get(rec,
									 "pid"));
	} else if (strcmp(ev, "step") == 0) {
		copy(r->sw_step, sizeof(r->sw_step), str(rec, "step"));
	} else if (strcmp(ev, "resume") == 0) {
		r->ended = false;
		r->sw_aborting = json_is_true(json_object_get(rec, "abort"));
	} else if (strcmp(ev, "end") == 0) {
		r->ended = true;
		copy(r->end_status, sizeof(r->end_status), str(rec, "status"));
	}
	return 0;
}

int journal_load(const char *path, struct journal_run *out,
		 struct cut_err *err)
{
	FILE *f;
	char *text = NULL, *p, *nl;
	size_t len = 0, cap = 0, n;
	int line = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	copy(out->path, sizeof(out->path), path);
	if ((f = fopen(path, "re")) == NULL)
		return cut_err_set(err, -errno, path, "cannot read the journal "
				   "%s: %s", path, strerror(errno));
	for (;;) {
		if (len + 65536 + 1 > cap) {
			char *t;

			cap = cap ? cap * 2 : 131072;
			if (cap > JOURNAL_MAX || (t = realloc(text, cap)) == NULL) {
				free(text);
				fclose(f);
				return cut_err_set(err, CUT_ETOOBIG, path,
						   "%s: journal too large or out "
						   "of memory", path);
			}
			text = t;
		}
		n = fread(text + len, 1, 65536, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';
	for (p = text; rc == 0 && *p != '\0'; p = nl + 1) {
		json_error_t je;
		json_t *rec;

		line++;
		nl = strchr(p, '\n');
		if (nl == NULL) {
			/* No newline: the write was cut by a crash. */
			break;
		}
		rec = json_loadb(p, (size_t)(nl - p), 0, &je);
		if (!json_is_object(rec)) {
			rc = cut_err_set(err, CUT_EPROTO, path, "%s:%d: not a "
					 "JSON object: %s", path, line, je.text);
			json_decref(rec);
			break;
		}
		rc = read_record(out, rec, line, err);
		json_decref(rec);
	}
	free(text);
	if (rc == 0 && out->kind[0] == '\0')
		rc = cut_err_set(err, CUT_EPROTO, path, "%s: no \"run\" record",
				 path);
	if (rc != 0)
		journal_run_free(out);
	return rc;
}

void journal_run_free(struct journal_run *r)
{
	size_t i;

	for (i = 0; r->lbs != NULL && i < r->nlb; i++)
		free(r->lbs[i]);
	free(r->lbs);
	free(r->plan_text);
	free(r->srv);
	r->lbs = NULL;
	r->plan_text = NULL;
	r->srv = NULL;
	r->nlb = r->nsrv = 0;
}

bool journal_run_open(const struct journal_run *r)
{
	if (!r->started)
		return false;
	return !r->ended || (strcmp(r->end_status, "ok") != 0 &&
			     strcmp(r->end_status, "aborted") != 0);
}

struct journal_srv *journal_run_srv(struct journal_run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsrv; i++)
		if (strcmp(r->srv[i].name, name) == 0)
			return &r->srv[i];
	return NULL;
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

int journal_list(char ***paths, size_t *n, struct cut_err *err)
{
	char dir[512], runs[560];
	struct dirent *d;
	char **v = NULL;
	size_t cnt = 0;
	DIR *dh;

	*paths = NULL;
	*n = 0;
	if (runlock_state_dir(dir, sizeof(dir), err) != 0)
		return err->code;
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	if ((dh = opendir(runs)) == NULL)
		return errno == ENOENT ? 0
				       : cut_err_set(err, -errno, runs, "cannot "
						     "read %s: %s", runs,
						     strerror(errno));
	while ((d = readdir(dh)) != NULL) {
		size_t l = strlen(d->d_name);
		char **t;

		if (l < 7 || strcmp(d->d_name + l - 6, ".jsonl") != 0)
			continue;
		t = realloc(v, (cnt + 1) * sizeof(*v));
		if (t == NULL)
			break;
		v = t;
		if (asprintf(&v[cnt], "%s/%s", runs, d->d_name) < 0)
			break;
		cnt++;
	}
	closedir(dh);
	/* Ids start with the date and time: newest first. */
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_desc);
	*paths = v;
	*n = cnt;
	return 0;
}

void journal_list_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
