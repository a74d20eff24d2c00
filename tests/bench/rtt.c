/* rtt.c - round-trip timer for tests/bench/run.sh (make bench). It measures
 * and prints; it never judges a timing.
 *
 *   rtt kept ADDR N COMMAND     N round trips of COMMAND on ONE kept
 *                               connection, through cutover's own rtapi
 *                               client (ADDR: unix:PATH or tcp:HOST:PORT)
 *   rtt oneshot PATH N COMMAND  N round trips, one blocking unix-socket
 *                               connection per command (connect, write,
 *                               read to EOF): HAProxy's non-interactive
 *                               mode, without any fork or exec
 *   rtt stats                   reads one sample (microseconds) per line
 *                               on stdin and prints the summary below
 *
 * kept and oneshot print one sample per line, in microseconds, to stdout
 * (so run.sh can interleave rounds of different clients and pool them);
 * `rtt stats` prints "n=N median=M p99=P min=A max=B" (microseconds,
 * nearest-rank percentiles, the same definition for every client).
 *
 * Each measured round trip is preceded by warm-up ones that are not
 * printed: for `kept` they include the connect and rtapi's handshake
 * (prompt, severity, level, info), which a long-lived client pays once.
 * A reply that is not what COMMAND should answer (a transport error or an
 * HAProxy error line) ends the run with status 1: the setup is broken.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "err.h"
#include "rtapi.h"

#define WARMUP 100
#define SAMPLES_MAX 1000000
#define ONESHOT_REPLY_MAX (1u << 20)

struct kept_run {
	struct rtapi *api;
	const char *cmd;
	size_t warmup, n, done;		/* done counts warm-up ones too */
	uint64_t *us;			/* n samples */
	uint64_t t0;			/* uv_hrtime() at the last send */
	int status;			/* 0, or the first failure */
};

/* A reply counts as good if it carries no error: with `set severity-output
 * number` HAProxy tags errors "[N]: ...", and some commands answer plain
 * text such as "No such server." or "Unknown command". */
static bool reply_ok(const char *reply)
{
	if (reply[0] == '[')
		return false;
	if (strncmp(reply, "No such", 7) == 0 ||
	    strncmp(reply, "Unknown command", 15) == 0 ||
	    strstr(reply, "Permission denied") != NULL)
		return false;
	return true;
}

static void kept_next(struct kept_run *k);

static void on_kept_reply(int status, const char *reply, size_t len,
			  void *arg)
{
	struct kept_run *k = arg;
	uint64_t dt = uv_hrtime() - k->t0;

	if (status != 0) {
		fprintf(stderr, "rtt kept: %s\n", cut_strerror(status));
		k->status = status;
		return;
	}
	if (!reply_ok(reply)) {
		fprintf(stderr, "rtt kept: HAProxy answered: %.*s\n",
			(int)len, reply);
		k->status = CUT_EREFUSED;
		return;
	}
	if (k->done >= k->warmup)
		k->us[k->done - k->warmup] = dt / 1000;
	k->done++;
	kept_next(k);
}

static void kept_next(struct kept_run *k)
{
	int rc;

	if (k->done == k->warmup + k->n)
		return;		/* the loop ends once rtapi_free closes */
	k->t0 = uv_hrtime();
	rc = rtapi_send(k->api, k->cmd, on_kept_reply, k);
	if (rc != 0) {
		fprintf(stderr, "rtt kept: send: %s\n", cut_strerror(rc));
		k->status = rc;
	}
}

static int run_kept(const char *spec, size_t n, const char *cmd,
		    uint64_t *us)
{
	struct rtapi_opts opts = { .timeout_ms = 10000,
				   .reply_max = RTAPI_DEFAULT_REPLY_MAX };
	struct kept_run k = { .cmd = cmd, .warmup = WARMUP, .n = n, .us = us };
	struct rtapi_addr addr;
	struct cut_err err = { 0 };
	uv_loop_t loop;
	int rc;

	rc = rtapi_addr_parse(spec, &addr, &err);
	if (rc != 0) {
		fprintf(stderr, "rtt kept: %s\n", err.msg);
		return rc;
	}
	rc = uv_loop_init(&loop);
	if (rc != 0) {
		fprintf(stderr, "rtt kept: %s\n", uv_strerror(rc));
		return rc;
	}
	k.api = rtapi_new(&loop, &addr, &opts);
	if (k.api == NULL) {
		fprintf(stderr, "rtt kept: out of memory\n");
		uv_loop_close(&loop);
		return UV_ENOMEM;
	}
	kept_next(&k);
	/* Runs until every reply came back or one failed: then nothing
	 * more is queued and the connection sits idle, so stop it. */
	while (k.status == 0 && k.done < k.warmup + k.n)
		uv_run(&loop, UV_RUN_ONCE);
	rtapi_free(k.api);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&loop);
	if (rc != 0)
		fprintf(stderr, "rtt kept: loop close: %s\n", uv_strerror(rc));
	return k.status;
}

/* One connection, one command, read to EOF. Blocking is fine here: this
 * is a measuring tool, not the product. */
static int oneshot_once(const struct sockaddr_un *sa, const char *line,
			size_t len, char *reply, size_t cap, size_t *got)
{
	ssize_t r;
	size_t off = 0;
	int fd, rc = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		r = write(fd, line + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)r;
	}
	off = 0;
	for (;;) {
		r = read(fd, reply + off, cap - 1 - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		off += (size_t)r;
		if (off == cap - 1) {
			rc = CUT_ETOOBIG;
			goto out;
		}
	}
	reply[off] = '\0';
	*got = off;
out:
	close(fd);
	return rc;
}

static int run_oneshot(const char *path, size_t n, const char *cmd,
		       uint64_t *us)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *line, *reply;
	size_t len, got = 0, i;
	uint64_t t0;
	int rc = 0;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "rtt oneshot: socket path too long\n");
		return CUT_EUSAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	len = strlen(cmd) + 1;
	line = malloc(len + 1);
	reply = malloc(ONESHOT_REPLY_MAX);
	if (line == NULL || reply == NULL) {
		rc = UV_ENOMEM;
		goto out;
	}
	snprintf(line, len + 1, "%s\n", cmd);
	for (i = 0; i < WARMUP + n; i++) {
		t0 = uv_hrtime();
		rc = oneshot_once(&sa, line, len, reply, ONESHOT_REPLY_MAX,
				  &got);
		if (rc != 0) {
			fprintf(stderr, "rtt oneshot: %s\n", cut_strerror(rc));
			goto out;
		}
		if (!reply_ok(reply)) {
			fprintf(stderr, "rtt oneshot: HAProxy answered: %.*s\n",
				(int)got, reply);
			rc = CUT_EREFUSED;
			goto out;
		}
		if (i >= WARMUP)
			us[i - WARMUP] = (uv_hrtime() - t0) / 1000;
	}
out:
	free(line);
	free(reply);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below. */
static uint64_t rank(const uint64_t *sorted, size_t n, double p)
{
	size_t r = (size_t)ceil(p * (double)n);

	return sorted[r == 0 ? 0 : r - 1];
}

static int run_stats(void)
{
	uint64_t *v = malloc(SAMPLES_MAX * sizeof(*v));
	unsigned long long x;
	size_t n = 0;

	if (v == NULL)
		return 1;
	while (n < SAMPLES_MAX && scanf("%llu", &x) == 1)
		v[n++] = x;
	if (n == 0) {
		fprintf(stderr, "rtt stats: no samples\n");
		free(v);
		return 1;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("n=%zu median=%llu p99=%llu min=%llu max=%llu\n", n,
	       (unsigned long long)rank(v, n, 0.5),
	       (unsigned long long)rank(v, n, 0.99),
	       (unsigned long long)v[0], (unsigned long long)v[n - 1]);
	free(v);
	return 0;
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr,
		"usage: rtt kept ADDR N COMMAND\n"
		"       rtt oneshot PATH N COMMAND\n"
		"       rtt stats < samples\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t *us;
	char *end;
	unsigned long n;
	size_t i;
	int rc;

	if (argc == 2 && strcmp(argv[1], "stats") == 0)
		return run_stats();
	if (argc != 5)
		usage();
	errno = 0;
	n = strtoul(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > SAMPLES_MAX)
		usage();
	us = calloc(n, sizeof(*us));
	if (us == NULL)
		return 1;
	if (strcmp(argv[1], "kept") == 0)
		rc = run_kept(argv[2], n, argv[4], us);
	else if (strcmp(argv[1], "oneshot") == 0)
		rc = run_oneshot(argv[2], n, argv[4], us);
	else
		usage();
	if (rc == 0)
		for (i = 0; i < n; i++)
			printf("%llu\n", (unsigned long long)us[i]);
	free(us);
	return rc == 0 ? 0 : 1;
}
