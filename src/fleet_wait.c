/* fleet_wait.c - wait until servers are drained (or up) on every LB.
 *
 * HAProxy has no notification, so this polls, but cheaply: one
 * `show stat BACKEND 4 SID` (~1.5 KB, ~0.1 ms) per server per LB on the
 * kept connections, every poll_ms (50 ms by default), so the wait ends
 * within about one poll interval of the last session closing, instead of
 * the 1-5 s of the usual scripts. A round is complete when every LB has
 * answered or failed; an LB that failed is "unknown" for that round and
 * never counts as drained or up. Why it failed is kept, so that a wait
 * that times out because of it says so.
 *
 * After a reload the old worker keeps its established sessions, but the
 * stats socket belongs to the new one. For an LB given with its master
 * CLI, a DRAINED or IDLE round also asks the master `show proc` and, for
 * each old worker, `@!PID show stat BACKEND 4 -1`, and adds that worker's
 * sessions to the LB's count; a master that fails or answers garbage
 * makes the LB unknown for the round (HAPROXY.md §6).
 *
 *   start -> ROUND (requests out) -> evaluate -> met?      -> done(0)
 *                ^                      |      -> changed? -> done(CHANGED)
 *                +------ tick timer <---+      -> deadline -> done(TIMEOUT)
 */
#include "fleet.h"
#include "log.h"
#include "master.h"
#include "rtapi_cmd.h"
#include "strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define WAIT_WHY_MAX 200

struct wait_req {
	struct fleet_wait *w;
	size_t ti, lb;
	bool state_query;	/* the follow-up `show servers state` */
};

/* The master side of one LB in one round. */
struct wait_master {
	struct fleet_wait *w;
	size_t lb;
	bool failed;			/* unknown this round */
};

/* `@!PID show stat BACKEND` of one old worker, for every target of the
 * backend of target ti (one request per backend). */
struct wait_old_req {
	struct fleet_wait *w;
	size_t ti, lb;
	int64_t pid;
};

struct fleet_wait {
	struct fleet *f;
	const struct fleet_targets *tg;	/* the caller's: not after done() */
	size_t nlb;
	enum fleet_cond cond;
	uint64_t timeout_ms, poll_ms;
	fleet_wait_fn *progress, *done;
	void *arg;
	uv_timer_t tick;
	uv_timer_t deadline;
	uint64_t start_ms, round_start_ms;
	unsigned rounds;
	struct fleet_obs *obs;		/* last complete round */
	struct fleet_obs *cur;		/* round in progress */
	char (*why)[WAIT_WHY_MAX];	/* per LB: why it was unknown in the
					 * last complete round, or "" */
	char (*why_cur)[WAIT_WHY_MAX];	/* the same for the round in progress */
	struct wait_req *reqs;
	struct wait_master *masters;	/* per LB */
	int64_t *old_cur, *old_pid_cur;	/* per cell, this round */
	size_t pending;			/* requests of this round in flight */
	bool finished;			/* done() has run */
	int open_handles;
};

static const char *const cond_names[FLEET_COND_COUNT] = {
	[FLEET_UNTIL_DRAINED] = "drained",
	[FLEET_UNTIL_UP] = "up",
	[FLEET_UNTIL_CHECKED] = "checked",
	[FLEET_OBSERVE] = "observed",
	[FLEET_UNTIL_IDLE] = "idle",
};

const char *fleet_cond_name(enum fleet_cond c)
{
	return c < FLEET_COND_COUNT ? cond_names[c] : "?";
}

static size_t cell(const struct fleet_wait *w, size_t ti, size_t lb)
{
	return ti * w->nlb + lb;
}

const struct fleet_obs *fleet_wait_obs(const struct fleet_wait *w, size_t i,
				       size_t j)
{
	return &w->obs[cell(w, i, j)];
}

const struct fleet_targets *fleet_wait_targets(const struct fleet_wait *w)
{
	return w->tg;
}

uint64_t fleet_wait_elapsed_ms(const struct fleet_wait *w)
{
	return uv_now(w->tick.loop) - w->start_ms;
}

static void wait_release(struct fleet_wait *w)
{
	free(w->obs);
	free(w->cur);
	free(w->why);
	free(w->why_cur);
	free(w->reqs);
	free(w->masters);
	free(w->old_cur);
	free(w->old_pid_cur);
	free(w);
}

static void on_closed(uv_handle_t *h)
{
	struct fleet_wait *w = h->data;

	if (--w->open_handles == 0 && w->pending == 0)
		wait_release(w);
}

/* The one exit: report once, then free when the handles are closed and
 * no reply is outstanding. */
static void wait_finish(struct fleet_wait *w, int status,
			const struct cut_err *err)
{
	if (w->finished)
		return;
	w->finished = true;
	uv_timer_stop(&w->tick);
	uv_timer_stop(&w->deadline);
	w->done(w, status, err, w->arg);
	uv_close((uv_handle_t *)&w->tick, on_closed);
	uv_close((uv_handle_t *)&w->deadline, on_closed);
}

static bool status_is_up(const char *status)
{
	return strcmp(status, "UP") == 0 || strcmp(status, "no check") == 0;
}

static void evaluate(struct fleet_wait *w)
{
	const struct fleet_targets *tg = w->tg;
	struct cut_err err;
	size_t i, j, unmet = 0;

	for (i = 0; i < tg->n; i++) {
		for (j = 0; j < tg->nlb; j++) {
			struct fleet_obs *o = &w->obs[cell(w, i, j)];

			if (!o->known) {
				o->met = false;
			} else if (w->cond == FLEET_UNTIL_DRAINED) {
				o->met = o->admin != SRV_ADMIN_READY &&
					 o->sessions == 0;
				if (o->admin == SRV_ADMIN_READY) {
					cut_err_set(&err, CUT_ECHANGED,
						    fleet_lb_name(w->f, j),
						    "%s/%s is no longer drained "
						    "on %s (someone put it back "
						    "in service, or HAProxy "
						    "reloaded)",
						    tg->t[i].backend,
						    tg->t[i].server,
						    fleet_lb_name(w->f, j));
					wait_finish(w, CUT_ECHANGED, &err);
					return;
				}
			} else if (w->cond == FLEET_OBSERVE) {
				o->met = false;
			} else if (w->cond == FLEET_UNTIL_IDLE) {
				o->met = o->sessions == 0;
			} else if (w->cond == FLEET_UNTIL_CHECKED) {
				o->met = strcmp(o->status, "DRAIN") == 0;
			} else {
				o->met = o->admin == SRV_ADMIN_READY &&
					 status_is_up(o->status);
			}
			if (!o->met)
				unmet++;
		}
	}
	if (unmet == 0) {
		wait_finish(w, 0, NULL);
		return;
	}
	if (w->progress != NULL)
		w->progress(w, 1, NULL, w->arg);
}

static void start_round(struct fleet_wait *w);

static void on_tick(uv_timer_t *t)
{
	start_round(container_of(t, struct fleet_wait, tick));
}

/* "; unix:/x.sock did not answer: ..." for each LB that failed in the
 * round under way or, if it has not failed there yet, in the last one. */
static void append_unknown(const struct fleet_wait *w, char *out, size_t outsz)
{
	size_t j, used = strlen(out);
	const char *why;
	int n;

	for (j = 0; j < w->nlb && used < outsz; j++) {
		why = w->why_cur[j][0] != '\0' ? w->why_cur[j] : w->why[j];
		if (why[0] == '\0')
			continue;
		n = snprintf(out + used, outsz - used, "; %s %s",
			     fleet_lb_name(w->f, j), why);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* "; web1: 2 sessions on old worker 8932 of unix:/x.sock" for each target
 * that an old worker still held at the last complete round. */
static void append_old(const struct fleet_wait *w, char *out, size_t outsz)
{
	size_t i, j, used = strlen(out);
	int n;

	for (i = 0; i < w->tg->n; i++)
		for (j = 0; j < w->nlb && used < outsz; j++) {
			const struct fleet_obs *o = &w->obs[cell(w, i, j)];

			if (!o->known || o->old_sessions <= 0)
				continue;
			n = snprintf(out + used, outsz - used,
				     "; %s: %lld session%s on old worker %lld "
				     "of %s",
				     w->tg->t[i].server,
				     (long long)o->old_sessions,
				     o->old_sessions == 1 ? "" : "s",
				     (long long)o->old_pid,
				     fleet_lb_name(w->f, j));
			if (n < 0)
				return;
			used += (size_t)n;
		}
}

static void on_deadline(uv_timer_t *t)
{
	struct fleet_wait *w = container_of(t, struct fleet_wait, deadline);
	char dur[32];
	struct cut_err err;

	str_format_duration(w->timeout_ms, dur, sizeof(dur));
	cut_err_set(&err, CUT_ETIMEOUT, "wait", "not %s after %s",
		    fleet_cond_name(w->cond), dur);
	append_old(w, err.msg, sizeof(err.msg));
	append_unknown(w, err.msg, sizeof(err.msg));
	wait_finish(w, CUT_ETIMEOUT, &err);
}

static bool counts_old(const struct fleet_wait *w, size_t lb)
{
	return (w->cond == FLEET_UNTIL_DRAINED || w->cond == FLEET_UNTIL_IDLE) &&
	       fleet_lb_master(w->f, lb) != NULL;
}

/* Add what the old workers hold to this round's observations; an LB whose
 * master failed is unknown. */
static void merge_old(struct fleet_wait *w)
{
	size_t i, j;

	for (j = 0; j < w->nlb; j++) {
		if (!counts_old(w, j))
			continue;
		for (i = 0; i < w->tg->n; i++) {
			struct fleet_obs *o = &w->cur[cell(w, i, j)];
			int64_t old = w->old_cur[cell(w, i, j)];

			if (w->masters[j].failed) {
				o->known = false;
				continue;
			}
			if (!o->known)
				continue;
			if (old > 0 && old != w->obs[cell(w, i, j)].old_sessions)
				LOG_INFO("%s: %lld session%s on old worker %lld "
					 "of %s",
					 w->tg->t[i].server, (long long)old,
					 old == 1 ? "" : "s",
					 (long long)w->old_pid_cur[cell(w, i, j)],
					 fleet_lb_name(w->f, j));
			o->old_sessions = old;
			o->old_pid = w->old_pid_cur[cell(w, i, j)];
			o->sessions += old;
		}
	}
}

static void round_complete(struct fleet_wait *w)
{
	uint64_t now, next;

	merge_old(w);
	memcpy(w->obs, w->cur, w->tg->n * w->tg->nlb * sizeof(*w->obs));
	memcpy(w->why, w->why_cur, w->nlb * sizeof(*w->why));
	memset(w->why_cur, 0, w->nlb * sizeof(*w->why_cur));
	evaluate(w);
	if (w->finished)
		return;
	/* Look again soon after the first looks (10, 20, 40 ms...), then
	 * every poll_ms: a drain often finds a request or two about to end,
	 * and a full interval after them would be wasted. */
	now = uv_now(w->tick.loop);
	w->rounds++;
	next = w->round_start_ms +
	       (w->rounds < 8 && (10u << (w->rounds - 1)) < w->poll_ms
			? (10u << (w->rounds - 1))
			: w->poll_ms);
	uv_timer_start(&w->tick, on_tick, next > now ? next - now : 0, 0);
}

/* The CSV status shows DRAIN/MAINT only while the server is up or in
 * maintenance: a drained server that is DOWN reads "DOWN". For those, ask
 * `show servers state` for the admin bits (one extra request, only then). */
static bool admin_ambiguous(const char *status)
{
	return strncmp(status, "DOWN", 4) == 0;
}

static void on_reply(int status, const char *reply, size_t len, void *arg);

static bool send_state_query(struct fleet_wait *w, struct wait_req *rq)
{
	struct rtcmd cmd;

	rq->state_query = true;
	if (rtcmd_show_servers_state(&cmd, w->tg->t[rq->ti].backend) != 0 ||
	    rtapi_send(fleet_lb_api(w->f, rq->lb), cmd.text, on_reply, rq) != 0)
		return false;
	w->pending++;
	return true;
}

/* Why an LB is unknown this round, kept once per LB and round. */
static void note_why(struct fleet_wait *w, size_t lb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_why(struct fleet_wait *w, size_t lb, const char *fmt, ...)
{
	va_list ap;

	if (w->why_cur[lb][0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->why_cur[lb], sizeof(w->why_cur[lb]), fmt, ap);
	va_end(ap);
}

static void read_stat(struct fleet_wait *w, size_t lb, struct fleet_obs *o,
		      const struct fleet_target *t, const char *reply,
		      size_t len)
{
	const struct stat_row *row;
	struct stat_table tab;
	struct cut_err err;
	struct reply_class rc;

	if (stat_parse_csv(reply, len, &tab, &err) != 0) {
		stat_classify_reply(reply, len, &rc);
		if (rc.kind == REPLY_ERROR)
			note_why(w, lb, "%s: 'show stat' refused: %s",
				 fleet_lb_failure(CUT_EREFUSED), rc.msg);
		else
			note_why(w, lb, "%s: %s", fleet_lb_failure(CUT_EPROTO),
				 err.msg);
		return;
	}
	row = stat_table_find(&tab, t->backend, t->server);
	if (row == NULL) {
		note_why(w, lb, "no longer lists %s/%s", t->backend, t->server);
	} else {
		o->known = true;
		o->admin = stat_admin_from_status(row->status);
		o->sessions = (row->scur > 0 ? row->scur : 0) +
			      (row->qcur > 0 ? row->qcur : 0);
		snprintf(o->status, sizeof(o->status), "%s", row->status);
		snprintf(o->check_status, sizeof(o->check_status), "%s",
			 row->check_status);
		o->stot = row->stot;
		o->hrsp_5xx = row->hrsp_5xx;
		o->econ = row->econ;
		o->eresp = row->eresp;
		o->chkfail = row->chkfail;
		o->chkdown = row->chkdown;
	}
	stat_table_free(&tab);
}

static void read_state(struct fleet_wait *w, size_t lb, struct fleet_obs *o,
		       const struct fleet_target *t, const char *reply,
		       size_t len)
{
	const struct srvstate_row *row;
	struct srvstate_table tab;
	struct cut_err err;

	o->known = false;
	if (stat_parse_servers_state(reply, len, &tab, &err) != 0) {
		note_why(w, lb, "%s: %s", fleet_lb_failure(CUT_EPROTO),
			 err.msg);
		return;
	}
	row = srvstate_find(&tab, t->backend, t->server);
	if (row == NULL) {
		note_why(w, lb, "no longer lists %s/%s", t->backend, t->server);
	} else {
		o->known = true;
		o->admin = row->admin;
	}
	srvstate_table_free(&tab);
}

static void on_reply(int status, const char *reply, size_t len, void *arg)
{
	struct wait_req *rq = arg;
	struct fleet_wait *w = rq->w;
	struct fleet_obs *o = &w->cur[cell(w, rq->ti, rq->lb)];
	const struct fleet_target *t;

	w->pending--;
	if (w->finished) {
		if (w->pending == 0 && w->open_handles == 0)
			wait_release(w);
		return;
	}
	t = &w->tg->t[rq->ti];
	if (status != 0)
		note_why(w, rq->lb, "%s: %s", fleet_lb_failure(status),
			 rtapi_last_error(fleet_lb_api(w->f, rq->lb)));
	if (rq->state_query) {
		if (status == 0)
			read_state(w, rq->lb, o, t, reply, len);
		else
			o->known = false;
	} else {
		memset(o, 0, sizeof(*o));
		if (status == 0)
			read_stat(w, rq->lb, o, t, reply, len);
		if (o->known && admin_ambiguous(o->status) &&
		    !send_state_query(w, rq)) {
			note_why(w, rq->lb, "did not take a request");
			o->known = false;
		}
	}
	if (!o->known)
		LOG_DEBUG("lb=%s srv=%s/%s: no answer this round",
			  fleet_lb_name(w->f, rq->lb), t->backend, t->server);
	if (w->pending == 0)
		round_complete(w);
}

/* ---- old workers, through the master CLI ------------------------------ */

/* A reply came back: one fewer in flight; the last one of a round
 * completes it, the last one after done() frees the wait. */
static void master_reply_done(struct fleet_wait *w)
{
	w->pending--;
	if (w->finished) {
		if (w->pending == 0 && w->open_handles == 0)
			wait_release(w);
		return;
	}
	if (w->pending == 0)
		round_complete(w);
}

static void on_old_stat(int status, const char *reply, size_t len,
			const struct cut_err *merr, void *arg)
{
	struct wait_old_req *rq = arg;
	struct fleet_wait *w = rq->w;
	const char *backend = w->tg->t[rq->ti].backend;
	const struct stat_row *row;
	struct stat_table tab;
	struct cut_err err;
	size_t c, ti;

	if (w->finished)
		goto out;
	if (status != 0) {
		note_why(w, rq->lb, "%s: %s", fleet_lb_failure(status),
			 merr->msg);
		w->masters[rq->lb].failed = true;
	} else if (stat_parse_csv(reply, len, &tab, &err) != 0) {
		note_why(w, rq->lb, "%s: master %s, '@!%lld show stat': %s",
			 fleet_lb_failure(CUT_EPROTO),
			 fleet_lb_master(w->f, rq->lb)->spec,
			 (long long)rq->pid, err.msg);
		w->masters[rq->lb].failed = true;
	} else {
		for (ti = rq->ti; ti < w->tg->n; ti++) {
			const struct fleet_target *t = &w->tg->t[ti];
			int64_t n;

			if (strcmp(t->backend, backend) != 0)
				continue;
			/* An old worker built from an older configuration
			 * may not have the server: it holds none of its
			 * sessions. */
			row = stat_table_find(&tab, t->backend, t->server);
			if (row == NULL)
				continue;
			n = (row->scur > 0 ? row->scur : 0) +
			    (row->qcur > 0 ? row->qcur : 0);
			c = cell(w, ti, rq->lb);
			w->old_cur[c] += n;
			if (n > 0 && w->old_pid_cur[c] == 0)
				w->old_pid_cur[c] = rq->pid;
		}
		stat_table_free(&tab);
	}
out:
	free(rq);
	master_reply_done(w);
}

/* Is target ti the first of its backend (the one its request is for)? */
static bool first_of_backend(const struct fleet_wait *w, size_t ti)
{
	size_t i;

	for (i = 0; i < ti; i++)
		if (strcmp(w->tg->t[i].backend, w->tg->t[ti].backend) == 0)
			return false;
	return true;
}

static bool ask_old_worker(struct fleet_wait *w, size_t lb, size_t ti,
			   int64_t pid)
{
	struct wait_old_req *rq;
	struct rtcmd cmd;
	char line[RTCMD_MAX + 32];

	if (rtcmd_show_stat(&cmd, w->tg->t[ti].backend, -1) != 0)
		return false;
	snprintf(line, sizeof(line), "@!%lld %s", (long long)pid, cmd.text);
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return false;
	rq->w = w;
	rq->ti = ti;
	rq->lb = lb;
	rq->pid = pid;
	if (master_run(fleet_loop(w->f), fleet_lb_master(w->f, lb), line,
		       fleet_timeout_ms(w->f), fleet_reply_max(w->f),
		       on_old_stat, rq) != 0) {
		free(rq);
		return false;
	}
	w->pending++;
	return true;
}

static void on_proc(int status, const char *reply, size_t len,
		    const struct cut_err *merr, void *arg)
{
	struct wait_master *m = arg;
	struct fleet_wait *w = m->w;
	struct proc_list *pl = NULL;
	struct cut_err err;
	size_t i, ti;

	if (w->finished)
		goto out;
	if (status != 0) {
		note_why(w, m->lb, "%s: %s", fleet_lb_failure(status),
			 merr->msg);
		m->failed = true;
		goto out;
	}
	pl = malloc(sizeof(*pl));
	if (pl == NULL) {
		note_why(w, m->lb, "out of memory");
		m->failed = true;
		goto out;
	}
	if (stat_parse_proc(reply, len, pl, &err) != 0) {
		note_why(w, m->lb, "%s: master %s: %s",
			 fleet_lb_failure(CUT_EPROTO),
			 fleet_lb_master(w->f, m->lb)->spec, err.msg);
		m->failed = true;
		goto out;
	}
	for (i = 0; i < pl->n && !m->failed; i++) {
		if (!pl->w[i].old)
			continue;
		for (ti = 0; ti < w->tg->n; ti++)
			if (first_of_backend(w, ti) &&
			    !ask_old_worker(w, m->lb, ti, pl->w[i].pid)) {
				note_why(w, m->lb, "master %s did not take a "
					 "request",
					 fleet_lb_master(w->f, m->lb)->spec);
				m->failed = true;
				break;
			}
	}
out:
	free(pl);
	master_reply_done(w);
}

static void ask_masters(struct fleet_wait *w)
{
	size_t j;

	memset(w->old_cur, 0, w->tg->n * w->nlb * sizeof(*w->old_cur));
	memset(w->old_pid_cur, 0, w->tg->n * w->nlb * sizeof(*w->old_pid_cur));
	for (j = 0; j < w->nlb; j++) {
		w->masters[j].failed = false;
		if (!counts_old(w, j))
			continue;
		if (master_run(fleet_loop(w->f), fleet_lb_master(w->f, j),
			       "show proc", fleet_timeout_ms(w->f),
			       fleet_reply_max(w->f), on_proc,
			       &w->masters[j]) != 0) {
			note_why(w, j, "master %s did not take a request",
				 fleet_lb_master(w->f, j)->spec);
			w->masters[j].failed = true;
			continue;
		}
		w->pending++;
	}
}

static void start_round(struct fleet_wait *w)
{
	const struct fleet_targets *tg = w->tg;
	struct rtcmd cmd;
	size_t i, j;

	w->round_start_ms = uv_now(w->tick.loop);
	ask_masters(w);
	for (i = 0; i < tg->n; i++) {
		for (j = 0; j < tg->nlb; j++) {
			struct wait_req *rq = &w->reqs[cell(w, i, j)];

			rq->state_query = false;
			memset(&w->cur[cell(w, i, j)], 0, sizeof(*w->cur));
			if (rtcmd_show_stat(&cmd, tg->t[i].backend,
					    tg->t[i].lb[j].sid) != 0 ||
			    rtapi_send(fleet_lb_api(w->f, j), cmd.text, on_reply,
				       rq) != 0) {
				note_why(w, j, "did not take a request");
				continue;	/* unknown this round */
			}
			w->pending++;
		}
	}
	if (w->pending == 0)
		round_complete(w);
}

struct fleet_wait *fleet_wait_start(struct fleet *f,
				    const struct fleet_targets *tg,
				    enum fleet_cond cond, uint64_t timeout_ms,
				    uint64_t poll_ms, fleet_wait_fn *progress,
				    fleet_wait_fn *done, void *arg)
{
	size_t ncell = tg->n * tg->nlb, i, j;
	struct fleet_wait *w;
	uv_loop_t *loop;

	if (tg->n == 0 || cond >= FLEET_COND_COUNT)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->obs = calloc(ncell, sizeof(*w->obs));
	w->cur = calloc(ncell, sizeof(*w->cur));
	w->why = calloc(tg->nlb, sizeof(*w->why));
	w->why_cur = calloc(tg->nlb, sizeof(*w->why_cur));
	w->reqs = calloc(ncell, sizeof(*w->reqs));
	w->masters = calloc(tg->nlb, sizeof(*w->masters));
	w->old_cur = calloc(ncell, sizeof(*w->old_cur));
	w->old_pid_cur = calloc(ncell, sizeof(*w->old_pid_cur));
	if (w->obs == NULL || w->cur == NULL || w->why == NULL ||
	    w->why_cur == NULL || w->reqs == NULL || w->masters == NULL ||
	    w->old_cur == NULL || w->old_pid_cur == NULL) {
		wait_release(w);
		return NULL;
	}
	for (j = 0; j < tg->nlb; j++) {
		w->masters[j].w = w;
		w->masters[j].lb = j;
	}
	for (i = 0; i < tg->n; i++)
		for (j = 0; j < tg->nlb; j++) {
			w->reqs[i * tg->nlb + j].w = w;
			w->reqs[i * tg->nlb + j].ti = i;
			w->reqs[i * tg->nlb + j].lb = j;
		}
	w->f = f;
	w->tg = tg;
	w->nlb = tg->nlb;
	w->cond = cond;
	w->timeout_ms = timeout_ms;
	w->poll_ms = poll_ms > 0 ? poll_ms : 50;
	w->progress = progress;
	w->done = done;
	w->arg = arg;
	loop = fleet_loop(f);
	uv_timer_init(loop, &w->tick);
	uv_timer_init(loop, &w->deadline);
	w->tick.data = w;
	w->deadline.data = w;
	w->open_handles = 2;
	w->start_ms = uv_now(loop);
	if (timeout_ms > 0)
		uv_timer_start(&w->deadline, on_deadline, timeout_ms, 0);
	/* First round from the loop, so `done` never runs in here. */
	uv_timer_start(&w->tick, on_tick, 0, 0);
	return w;
}

void fleet_wait_cancel(struct fleet_wait *w)
{
	struct cut_err err;

	cut_err_set(&err, CUT_ECANCELED, "wait", "wait cancelled");
	wait_finish(w, CUT_ECANCELED, &err);
}
