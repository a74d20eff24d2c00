/* runlock.c - the per-backend run lock (runlock.h). Runs before the loop:
 * plain blocking calls are fine here. */
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_p(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int runlock_state_dir(char *out, size_t outsz, struct cut_err *err)
{
	const char *v;
	int rc;

	if ((v = getenv("CUTOVER_STATE_DIR")) != NULL && *v != '\0')
		snprintf(out, outsz, "%s", v);
	else if ((v = getenv("XDG_STATE_HOME")) != NULL && *v != '\0')
		snprintf(out, outsz, "%s/cutover", v);
	else if (geteuid() == 0)
		snprintf(out, outsz, "/var/lib/cutover");
	else if ((v = getenv("HOME")) != NULL && *v != '\0')
		snprintf(out, outsz, "%s/.local/state/cutover", v);
	else
		return cut_err_set(err, CUT_EUSAGE, "state", "no state directory: "
				   "set CUTOVER_STATE_DIR");
	rc = mkdir_p(out);
	if (rc != 0)
		return cut_err_set(err, rc, out, "cannot create the state "
				   "directory %s: %s", out, strerror(-rc));
	return 0;
}

/* An LB spec's address alone: "unix:/a,master=unix:/m" locks as
 * "unix:/a", so that giving the master socket or not is the same LB. */
static size_t lb_addr_len(const char *spec)
{
	return strcspn(spec, ",");
}

static int cmp_lb(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = lb_addr_len(x), ny = lb_addr_len(y);
	int c = memcmp(x, y, nx < ny ? nx : ny);

	return c != 0 ? c : (nx > ny) - (nx < ny);
}

/* FNV-1a over the backend and the sorted LB addresses. */
static uint32_t key_hash(const char *backend, const char *const *lbs,
			 size_t nlb)
{
	const char **sorted = malloc((nlb ? nlb : 1) * sizeof(*sorted));
	uint32_t h = 2166136261u;
	size_t i;
	const char *p;

	if (sorted == NULL)
		return 0;
	memcpy(sorted, lbs, nlb * sizeof(*sorted));
	qsort(sorted, nlb, sizeof(*sorted), cmp_lb);
	for (p = backend; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (i = 0; i < nlb; i++) {
		h = (h ^ 0xffu) * 16777619u;
		for (p = sorted[i]; *p != '\0' && *p != ','; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
	}
	free(sorted);
	return h;
}

static const char *str_or(json_t *doc, const char *key)
{
	const char *v = json_string_value(json_object_get(doc, key));

	return v != NULL ? v : "?";
}

static void holder(int fd, char *out, size_t outsz)
{
	char buf[2048];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	json_error_t jerr;
	json_t *doc;

	snprintf(out, outsz, "unknown holder");
	if (n <= 0)
		return;
	buf[n] = '\0';
	doc = json_loads(buf, 0, &jerr);
	if (doc == NULL)
		return;
	snprintf(out, outsz, "pid %lld on %s since %s, %s",
		 (long long)json_integer_value(json_object_get(doc, "pid")),
		 str_or(doc, "host"), str_or(doc, "started"), str_or(doc, "what"));
	json_decref(doc);
}

int runlock_take(struct runlock *l, const char *backend,
		 const char *const *lbs, size_t nlb, const char *what,
		 struct cut_err *err)
{
	char dir[400], who[600], host[256] = "?", started[64];
	struct tm tm;
	time_t now = time(NULL);
	json_t *doc;
	char *text;
	int rc;

	l->fd = -1;
	if ((rc = runlock_state_dir(dir, sizeof(dir), err)) != 0)
		return rc;
	snprintf(l->path, sizeof(l->path), "%s/%s-%08x.lock", dir, backend,
		 key_hash(backend, lbs, nlb));
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return cut_err_set(err, -errno, l->path, "cannot open the lock "
				   "%s: %s", l->path, strerror(errno));
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno;
		holder(l->fd, who, sizeof(who));
		close(l->fd);
		l->fd = -1;
		if (rc == EWOULDBLOCK)
			return cut_err_set(err, CUT_ELOCKED, l->path,
					   "another cutover run holds the lock "
					   "of backend '%s' on these load "
					   "balancers: %s (lock %s)", backend,
					   who, l->path);
		return cut_err_set(err, -rc, l->path, "cannot lock %s: %s",
				   l->path, strerror(rc));
	}
	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S%z", &tm);
	doc = json_pack("{s:I, s:s, s:s, s:s, s:s}", "pid", (json_int_t)getpid(),
			"host", host, "started", started, "what", what,
			"backend", backend);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (text != NULL && ftruncate(l->fd, 0) == 0)
		(void)!pwrite(l->fd, text, strlen(text), 0);
	free(text);
	json_decref(doc);
	return 0;
}

void runlock_release(struct runlock *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);	/* the kernel drops the flock */
	l->fd = -1;
}
