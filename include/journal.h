/* journal.h - the run journal: an append-only JSON Lines file per run in
 * the state directory (runs/<id>.jsonl, mode 0600), so that after a crash
 * `cutover resume` knows what was where.
 *
 * Writing (journal.c) is asynchronous: records are queued and written in
 * order on libuv's thread pool. An intent (journal_intent) is made durable
 * (written and fdatasync'd) before its callback runs, and the caller acts
 * only then; everything queued before it is durable too. Outcomes
 * (journal_note) are written in order without waiting. The file is created
 * and its first record made durable before the loop starts.
 *
 * Reading (journal_read.c) is for `resume`, before the loop: the last state
 * of every server, the plan text the run used, its LBs and whether and how
 * it ended. A torn last line (crash mid-write) is ignored; a bad line in
 * the middle is an error naming FILE:LINE.
 *
 * Record kinds ("ev"): "run" (first line: kind, plan path and text,
 * backend, LBs, pid, host; a switch adds "to": green or blue), "start"
 * (the run began: a rollout's servers in order), "step" (a switch moved:
 * step, from, reason), "state" (a server moved: server,
 * state, from, reason), "intent" (about to act: server, state, what),
 * "hook" (a hook command started: server, pid), "resume" (a resume
 * started: pid, abort), "end" (status, reason, every
 * server's state). Every record has "t", milliseconds since the epoch. */
#ifndef CUT_JOURNAL_H
#define CUT_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "err.h"

struct journal;

/* Create runs/<id>.jsonl in the state directory and write `first` (the
 * "run" record; "t" and "id" are added) durably. Blocking: call before
 * the loop runs. Returns NULL with *err set. */
struct journal *journal_create(uv_loop_t *loop, json_t *first,
			       struct cut_err *err);
/* Open an existing journal to append to it (resume). Blocking. */
struct journal *journal_reopen(uv_loop_t *loop, const char *path,
			       struct cut_err *err);

/* Queue an outcome record (the reference is taken; "t" is added). A write
 * error is remembered and reported by the next intent. */
void journal_note(struct journal *j, json_t *rec);

/* status 0: the record and everything before it are on disk. */
typedef void journal_fn(int status, const struct cut_err *err, void *arg);

/* Queue an intent and call cb once it is durable (always from the loop,
 * exactly once, unless this returns an error). */
int journal_intent(struct journal *j, json_t *rec, journal_fn *cb, void *arg);

/* Flush what is queued, close the file and free the journal; cb (may be
 * NULL) runs once everything is durable or has failed. */
void journal_close(struct journal *j, journal_fn *cb, void *arg);

/* Close and delete: the run never started (refused, not confirmed). */
void journal_discard(struct journal *j);

/* ---- reading (resume) ---------------------------------------------------- */

struct journal_srv {
	char name[128];
	char state[32];		/* last state reached or announced */
	long long hook_pid;	/* a hook was running (its process group)
				 * when the journal ends; 0 if none */
};

struct journal_run {
	char path[512];
	char id[64];
	char kind[16];		/* "rollout" or "switch" */
	char plan_path[512];
	char *plan_text;	/* the plan as the run read it */
	char backend[128];
	char **lbs;
	size_t nlb;
	struct journal_srv *srv;
	size_t nsrv;
	long long pid;
	char host[128];
	bool started;		/* a "start" record: something may have
				 * been done */
	bool ended;		/* an "end" record after the last "run" or
				 * "resume" */
	char end_status[16];	/* "ok" "failed" "interrupted" "unsafe"
				 * "aborted" */
	char sw_to[8];		/* switch: "green" or "blue" */
	char sw_step[32];	/* switch: the last step reached */
	bool sw_aborting;	/* switch: the last resume was --abort */
};

int journal_load(const char *path, struct journal_run *out,
		 struct cut_err *err);
void journal_run_free(struct journal_run *r);
/* Does this run still need finishing (started, and not ended or ended
 * neither "ok" nor "aborted")? */
bool journal_run_open(const struct journal_run *r);
struct journal_srv *journal_run_srv(struct journal_run *r, const char *name);

/* Paths of every journal in the state directory, newest first. */
int journal_list(char ***paths, size_t *n, struct cut_err *err);
void journal_list_free(char **paths, size_t n);

#endif
