/* reaper.c - run a command as a child subreaper (bench helper).
 *
 *   reaper CMD [ARGS...]
 *
 * Marks itself PR_SET_CHILD_SUBREAPER, runs CMD as its child, reaps every
 * orphan that is re-parented to it while CMD runs, and exits with CMD's
 * status (128 + signal if CMD was killed). SIGINT, SIGTERM and SIGHUP are
 * passed on to CMD.
 *
 * Why: tests/e2e/hooks/restart-backend.sh starts the new backend in the
 * background and exits, so the backend is re-parented to the nearest
 * subreaper or to PID 1; the next upgrade of that server stops it and
 * polls `kill -0` until it is gone, which stays true while the process is
 * an unreaped zombie. Under a PID 1 that reaps late (seen: 1-2 s) or never,
 * every hook waits that long or fails. Under this reaper the zombie is
 * reaped at once, as systemd would. The hook's own time is measured and
 * subtracted either way; this only keeps the benchmark short.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int status = 0;
	pid_t p;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		perror("reaper: prctl(PR_SET_CHILD_SUBREAPER)");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	child = fork();
	if (child < 0) {
		perror("reaper: fork");
		return 1;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "reaper: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	for (;;) {
		p = waitpid(-1, &status, 0);
		if (p == child)
			break;
		if (p < 0 && errno != EINTR) {
			perror("reaper: waitpid");
			return 1;
		}
	}
	/* Orphans still running go on to PID 1: CMD's cleanup stops what it
	 * started, by PID. */
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
