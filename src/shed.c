/* shed.c - paced closing of a drained server's sessions (see shed.h).
 *
 *   refresh (every refresh_ms, and soon after the list runs out):
 *     per LB `show sess` + `show stat B 4 -1` -> the queue of session
 *     pointers (round-robin over the LBs), sessions left, other servers'
 *     sessions; 0 left on every LB -> done
 *   tick (every 1/rate s, +/- jitter, on a schedule that does not drift):
 *     one more close is owed; closes go out one at a time, the next as
 *     soon as the previous one is answered, so a slow reply delays a
 *     close but never loses it; one that had already gone is skipped at
 *     once without using up a tick
 *   never while a refresh is in flight, and never a pointer closed in the
 *     last 2 s: HAProxy may still list a stream it is closing, and reuses
 *     a freed stream's address for a new one (a client that just came
 *     back on another server must not be cut again)
 *   budget: no tick while closes run more than `budget` ahead of the
 *     other servers' rise in sessions
 */
#include "shed.h"
#include "log.h"
#include "rtapi_cmd.h"
#include "stat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct shed_item {
	size_t lb;
	char ptr[SESS_PTR_MAX];
};

#define RECENT_MAX 4096		/* pointers closed lately, remembered */
#define RECENT_MS 2000

struct recent {
	struct shed_item it;
	uint64_t at_ms;
};

struct shed_req {
	struct shed *sh;
	size_t lb;
	bool stat;		/* show stat (else show sess) */
};

struct shed {
	struct fleet *f;
	const struct fleet_targets *tg;	/* the caller's: not after done() */
	size_t nlb;
	struct shed_opts o;
	shed_fn *progress, *done;
	void *arg;
	uv_timer_t tick, refresh, deadline;
	int open_handles;
	size_t pending;			/* requests in flight */
	bool finished;
	/* the refresh in progress */
	bool refreshing;
	size_t refresh_left;
	struct sess_table *lists;	/* per LB */
	bool *list_ok;
	int64_t *left_lb, *others_lb;
	bool *stat_ok;
	struct shed_req *reqs;		/* 2 per LB */
	uint64_t last_refresh_ms;
	/* the queue */
	struct shed_item *q;
	size_t qn, qpos;
	bool closing;			/* a shutdown session in flight */
	unsigned owed;			/* ticks not yet turned into closes */
	struct recent *recent;		/* ring of closes, newest last */
	size_t nrecent, recent_head;
	double next_due;		/* ms on the loop clock */
	uint32_t rng;
	uint64_t start_ms;
	bool have_start;
	int64_t progress_closed, progress_left;	/* at the last progress */
	uint64_t progress_ms;
	struct shed_stats st;
};

static uint64_t now_ms(const struct shed *sh)
{
	return uv_now(sh->tick.loop);
}

const struct shed_stats *shed_stats(const struct shed *sh)
{
	return &sh->st;
}

int shed_parse_rate(const char *s, double *per_sec)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return CUT_EUSAGE;
	v = strtod(s, &end);
	if (end == s || !(v > 0) || !isfinite(v))
		return CUT_EUSAGE;
	if (*end == '\0' || strcmp(end, "/s") == 0)
		*per_sec = v;
	else if (strcmp(end, "/m") == 0)
		*per_sec = v / 60.0;
	else
		return CUT_EUSAGE;
	return *per_sec > 0 && *per_sec <= 100000 ? 0 : CUT_EUSAGE;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void shed_release(struct shed *sh)
{
	size_t j;

	for (j = 0; sh->lists != NULL && j < sh->nlb; j++)
		sess_table_free(&sh->lists[j]);
	free(sh->lists);
	free(sh->list_ok);
	free(sh->left_lb);
	free(sh->others_lb);
	free(sh->stat_ok);
	free(sh->reqs);
	free(sh->q);
	free(sh->recent);
	free(sh);
}

static void on_closed(uv_handle_t *h)
{
	struct shed *sh = h->data;

	if (--sh->open_handles == 0 && sh->pending == 0)
		shed_release(sh);
}

static void shed_finish(struct shed *sh, int status, const struct cut_err *err)
{
	if (sh->finished)
		return;
	sh->finished = true;
	uv_timer_stop(&sh->tick);
	uv_timer_stop(&sh->refresh);
	uv_timer_stop(&sh->deadline);
	sh->st.elapsed_ms = now_ms(sh) - sh->start_ms;
	sh->st.rate = sh->st.elapsed_ms > 0 ? (double)sh->st.closed * 1000.0 /
						      (double)sh->st.elapsed_ms
					    : 0;
	sh->done(sh, status, err, sh->arg);
	uv_close((uv_handle_t *)&sh->tick, on_closed);
	uv_close((uv_handle_t *)&sh->refresh, on_closed);
	uv_close((uv_handle_t *)&sh->deadline, on_closed);
}

/* A reply came back: false if the shed has finished meanwhile (and may
 * just have been freed by this very call). */
static bool reply_in(struct shed *sh)
{
	sh->pending--;
	if (!sh->finished)
		return true;
	if (sh->pending == 0 && sh->open_handles == 0)
		shed_release(sh);
	return false;
}

static void fail(struct shed *sh, int code, size_t lb, const char *what,
		 const char *msg)
{
	struct cut_err err;

	cut_err_set(&err, code, fleet_lb_name(sh->f, lb), "%s on %s: %s", what,
		    fleet_lb_name(sh->f, lb), msg);
	shed_finish(sh, code, &err);
}

/* ---- pacing ------------------------------------------------------------------ */

static double gap_ms(struct shed *sh)
{
	double gap = 1000.0 / sh->o.rate, u;

	if (sh->o.jitter > 0) {
		/* xorshift32: enough to spread the closes, no need for more */
		sh->rng ^= sh->rng << 13;
		sh->rng ^= sh->rng >> 17;
		sh->rng ^= sh->rng << 5;
		u = (double)sh->rng / 4294967295.0;	/* 0..1 */
		gap *= 1.0 + sh->o.jitter * (2.0 * u - 1.0);
	}
	return gap;
}

static void on_tick(uv_timer_t *t);

static void schedule_tick(struct shed *sh)
{
	double now = (double)now_ms(sh);

	sh->next_due += gap_ms(sh);
	if (sh->next_due < now - 1000.0)
		sh->next_due = now;	/* do not burst to catch up a stall */
	uv_timer_start(&sh->tick, on_tick,
		       sh->next_due > now ? (uint64_t)(sh->next_due - now) : 0, 0);
}

static bool over_budget(const struct shed *sh)
{
	int64_t back = sh->st.others_now - sh->st.others_start;

	return sh->o.budget >= 0 && sh->st.closed - (back > 0 ? back : 0) >
					    sh->o.budget;
}

static void start_refresh(struct shed *sh);
static void close_next(struct shed *sh);
static void on_refresh_timer(uv_timer_t *t);

static void on_close_reply(int status, const char *reply, size_t len,
			   void *arg)
{
	struct shed_req *rq = arg;
	struct shed *sh = rq->sh;
	struct reply_class rc;

	if (!reply_in(sh))
		return;
	sh->closing = false;
	if (status != 0) {
		fail(sh, status, rq->lb, "shutdown session",
		     rtapi_last_error(fleet_lb_api(sh->f, rq->lb)));
		return;
	}
	stat_classify_reply(reply, len, &rc);
	if (rc.kind == REPLY_ERROR && rc.error == REPLY_ERR_NO_SESSION) {
		sh->st.gone++;
		close_next(sh);		/* that one did not use up a tick */
		return;
	}
	if (rc.kind == REPLY_ERROR) {
		fail(sh, rc.error == REPLY_ERR_PERMISSION ? CUT_EPERM
							  : CUT_EREFUSED,
		     rq->lb, "shutdown session", rc.msg);
		return;
	}
	sh->st.closed++;
	if (sh->owed > 0)
		sh->owed--;
	close_next(sh);		/* a tick owed meanwhile goes out now */
}

static void remember(struct shed *sh, const struct shed_item *it)
{
	size_t k = (sh->recent_head + sh->nrecent) % RECENT_MAX;

	if (sh->nrecent == RECENT_MAX) {
		sh->recent_head = (sh->recent_head + 1) % RECENT_MAX;
		sh->nrecent--;
	}
	sh->recent[k].it = *it;
	sh->recent[k].at_ms = now_ms(sh);
	sh->nrecent++;
}

/* Closed in the last RECENT_MS on that LB? Old entries are dropped. */
static bool recently_closed(struct shed *sh, size_t lb, const char *ptr)
{
	size_t i;

	while (sh->nrecent > 0 &&
	       now_ms(sh) - sh->recent[sh->recent_head].at_ms > RECENT_MS) {
		sh->recent_head = (sh->recent_head + 1) % RECENT_MAX;
		sh->nrecent--;
	}
	for (i = 0; i < sh->nrecent; i++) {
		const struct shed_item *r =
			&sh->recent[(sh->recent_head + i) % RECENT_MAX].it;

		if (r->lb == lb && strcmp(r->ptr, ptr) == 0)
			return true;
	}
	return false;
}

/* Send the next close now, if one is owed and there is one. */
static void close_next(struct shed *sh)
{
	struct shed_item *it;
	struct shed_req *rq;
	struct rtcmd cmd;

	if (sh->finished || sh->closing || sh->refreshing || sh->owed == 0)
		return;
	if (sh->qpos >= sh->qn)
		return;		/* the next tick looks again */
	it = &sh->q[sh->qpos++];
	remember(sh, it);
	if (rtcmd_shutdown_session(&cmd, it->ptr) != 0) {
		sh->st.gone++;		/* a pointer we cannot even write */
		close_next(sh);
		return;
	}
	rq = &sh->reqs[2 * sh->tg->nlb];	/* the close slot */
	rq->sh = sh;
	rq->lb = it->lb;
	if (rtapi_send(fleet_lb_api(sh->f, it->lb), cmd.text, on_close_reply,
		       rq) != 0) {
		fail(sh, UV_ENOMEM, it->lb, "shutdown session", "cannot send");
		return;
	}
	sh->pending++;
	sh->closing = true;
}

static void on_tick(uv_timer_t *t)
{
	struct shed *sh = container_of(t, struct shed, tick);
	/* Owed closes catch up after a slow reply, but never more than a
	 * fifth of a second's worth at once (no burst after a stall). */
	unsigned cap = sh->o.rate / 5 > 2 ? (unsigned)(sh->o.rate / 5) : 2;

	sh->st.paused = over_budget(sh);
	if (!sh->st.paused && sh->owed < cap && sh->qpos < sh->qn)
		sh->owed++;
	close_next(sh);
	if (sh->qpos >= sh->qn && !sh->refreshing && !sh->finished &&
	    now_ms(sh) - sh->last_refresh_ms >= 50)
		start_refresh(sh);	/* out of pointers: look again */
	schedule_tick(sh);
}

/* ---- refresh ------------------------------------------------------------------ */

static void build_queue(struct shed *sh)
{
	const struct fleet_target *t = &sh->tg->t[0];
	size_t j, total = 0, *pos, left;
	struct shed_item *q;

	for (j = 0; j < sh->tg->nlb; j++)
		if (sh->list_ok[j])
			total += sess_table_count(&sh->lists[j], t->backend,
						  t->server);
	sh->st.listed = (int64_t)total;
	q = calloc(total ? total : 1, sizeof(*q));
	pos = calloc(sh->tg->nlb, sizeof(*pos));
	if (q == NULL || pos == NULL) {
		free(q);
		free(pos);
		return;		/* keep the old queue */
	}
	/* Round-robin over the LBs, so that each loses clients evenly. */
	for (left = total, sh->qn = 0; left > 0;) {
		for (j = 0; j < sh->tg->nlb && left > 0; j++) {
			const struct sess_row *r;

			if (!sh->list_ok[j])
				continue;
			r = sess_table_next(&sh->lists[j], t->backend,
					    t->server, &pos[j]);
			if (r == NULL)
				continue;
			left--;
			if (recently_closed(sh, j, r->ptr))
				continue;
			q[sh->qn].lb = j;
			snprintf(q[sh->qn].ptr, sizeof(q[0].ptr), "%s", r->ptr);
			sh->qn++;
		}
	}
	free(pos);
	free(sh->q);
	sh->q = q;
	sh->qpos = 0;
}

static void refresh_done(struct shed *sh)
{
	uint64_t el;
	size_t j;

	sh->refreshing = false;
	sh->last_refresh_ms = now_ms(sh);
	sh->st.left = 0;
	sh->st.left_known = true;
	sh->st.others_now = 0;
	for (j = 0; j < sh->tg->nlb; j++) {
		if (!sh->stat_ok[j]) {
			sh->st.left_known = false;
			continue;
		}
		sh->st.left += sh->left_lb[j];
		sh->st.others_now += sh->others_lb[j];
	}
	if (!sh->have_start && sh->st.left_known) {
		sh->st.others_start = sh->st.others_now;
		sh->have_start = true;
	}
	build_queue(sh);
	el = now_ms(sh) - sh->start_ms;
	sh->st.elapsed_ms = el;
	sh->st.rate = el > 0 ? (double)sh->st.closed * 1000.0 / (double)el : 0;
	sh->st.eta_ms = sh->st.left_known && sh->o.rate > 0
				? (uint64_t)((double)sh->st.left * 1000.0 / sh->o.rate)
				: 0;
	sh->st.paused = over_budget(sh);
	if (sh->progress != NULL)
		sh->progress(sh, 1, NULL, sh->arg);
	if (sh->finished)
		return;
	close_next(sh);		/* closes held back during the refresh */
	if (sh->st.left_known && sh->st.left == 0) {
		shed_finish(sh, 0, NULL);
		return;
	}
	/* Stalled: sessions remain, but none was closed or ended lately
	 * (a stream `shutdown session` cannot end, new ones coming in). */
	if (sh->st.closed > sh->progress_closed ||
	    (sh->st.left_known && sh->st.left < sh->progress_left)) {
		sh->progress_closed = sh->st.closed;
		sh->progress_left = sh->st.left_known ? sh->st.left
						      : sh->progress_left;
		sh->progress_ms = now_ms(sh);
	} else if (sh->o.stall_ms > 0 && !sh->st.paused &&
		   now_ms(sh) - sh->progress_ms >= sh->o.stall_ms) {
		struct cut_err err;

		cut_err_set(&err, CUT_ETIMEOUT, "shed", "no progress for %llu "
			    "ms: %lld session%s still open (%lld closed)",
			    (unsigned long long)sh->o.stall_ms,
			    (long long)sh->st.left, sh->st.left == 1 ? "" : "s",
			    (long long)sh->st.closed);
		shed_finish(sh, CUT_ETIMEOUT, &err);
		return;
	}
	/* While paused for the budget, look at the others more often. */
	if (sh->st.paused)
		uv_timer_start(&sh->refresh, on_refresh_timer, 100,
			       sh->o.refresh_ms);
}

static void read_stat(struct shed *sh, size_t j, const char *reply, size_t len)
{
	const struct fleet_target *t = &sh->tg->t[0];
	struct stat_table tab;
	size_t i;

	sh->stat_ok[j] = false;
	if (stat_parse_csv(reply, len, &tab, NULL) != 0)
		return;
	sh->left_lb[j] = 0;
	sh->others_lb[j] = 0;
	for (i = 0; i < tab.n; i++) {
		const struct stat_row *r = &tab.rows[i];

		if (strcmp(r->backend, t->backend) != 0)
			continue;
		if (strcmp(r->server, t->server) == 0) {
			sh->left_lb[j] = (r->scur > 0 ? r->scur : 0) +
					 (r->qcur > 0 ? r->qcur : 0);
			sh->stat_ok[j] = true;
		} else if (r->scur > 0) {
			sh->others_lb[j] += r->scur;
		}
	}
	stat_table_free(&tab);
}

static void on_refresh_reply(int status, const char *reply, size_t len,
			     void *arg)
{
	struct shed_req *rq = arg;
	struct shed *sh = rq->sh;
	struct reply_class rc;

	if (!reply_in(sh))
		return;
	if (status == 0) {
		stat_classify_reply(reply, len, &rc);
		if (rc.kind == REPLY_ERROR) {
			fail(sh, rc.error == REPLY_ERR_PERMISSION ? CUT_EPERM
								  : CUT_EREFUSED,
			     rq->lb, rq->stat ? "show stat" : "show sess",
			     rc.msg);
			return;
		}
		if (rq->stat) {
			read_stat(sh, rq->lb, reply, len);
		} else {
			sess_table_free(&sh->lists[rq->lb]);
			sh->list_ok[rq->lb] =
				stat_parse_sess(reply, len, &sh->lists[rq->lb],
						NULL) == 0;
		}
	}
	if (--sh->refresh_left == 0)
		refresh_done(sh);
}

static void start_refresh(struct shed *sh)
{
	const struct fleet_target *t = &sh->tg->t[0];
	struct rtcmd scmd;
	size_t j;

	if (sh->refreshing || sh->finished)
		return;
	sh->refreshing = true;
	sh->refresh_left = 0;
	rtcmd_show_stat(&scmd, t->backend, -1);
	for (j = 0; j < sh->tg->nlb; j++) {
		struct rtapi *api = fleet_lb_api(sh->f, j);
		struct shed_req *a = &sh->reqs[2 * j], *b = &sh->reqs[2 * j + 1];

		sh->list_ok[j] = false;
		sh->stat_ok[j] = false;
		a->sh = b->sh = sh;
		a->lb = b->lb = j;
		a->stat = false;
		b->stat = true;
		if (rtapi_send(api, "show sess", on_refresh_reply, a) == 0) {
			sh->pending++;
			sh->refresh_left++;
		}
		if (rtapi_send(api, scmd.text, on_refresh_reply, b) == 0) {
			sh->pending++;
			sh->refresh_left++;
		}
	}
	if (sh->refresh_left == 0)
		refresh_done(sh);
}

static void on_refresh_timer(uv_timer_t *t)
{
	start_refresh(container_of(t, struct shed, refresh));
}

static void on_deadline(uv_timer_t *t)
{
	struct shed *sh = container_of(t, struct shed, deadline);
	struct cut_err err;

	cut_err_set(&err, CUT_ETIMEOUT, "shed", "%lld session%s still open "
		    "after the deadline (%lld closed)", (long long)sh->st.left,
		    sh->st.left == 1 ? "" : "s", (long long)sh->st.closed);
	shed_finish(sh, CUT_ETIMEOUT, &err);
}

struct shed *shed_start(struct fleet *f, const struct fleet_targets *tg,
			const struct shed_opts *opts, shed_fn *progress,
			shed_fn *done, void *arg, struct cut_err *err)
{
	uv_loop_t *loop = fleet_loop(f);
	size_t n = tg->nlb;
	struct shed *sh;

	if (tg->n != 1 || !(opts->rate > 0) || opts->jitter < 0 ||
	    opts->jitter > 1) {
		cut_err_set(err, CUT_EUSAGE, "shed", "one server, a rate > 0 and "
			    "a jitter of 0-100%% are needed");
		return NULL;
	}
	sh = calloc(1, sizeof(*sh));
	if (sh != NULL)
		sh->nlb = n;
	if (sh == NULL || (sh->lists = calloc(n, sizeof(*sh->lists))) == NULL ||
	    (sh->list_ok = calloc(n, sizeof(bool))) == NULL ||
	    (sh->stat_ok = calloc(n, sizeof(bool))) == NULL ||
	    (sh->left_lb = calloc(n, sizeof(int64_t))) == NULL ||
	    (sh->others_lb = calloc(n, sizeof(int64_t))) == NULL ||
	    (sh->reqs = calloc(2 * n + 1, sizeof(*sh->reqs))) == NULL ||
	    (sh->recent = calloc(RECENT_MAX, sizeof(*sh->recent))) == NULL) {
		if (sh != NULL)
			shed_release(sh);
		cut_err_set(err, UV_ENOMEM, "shed", NULL);
		return NULL;
	}
	sh->f = f;
	sh->tg = tg;
	sh->o = *opts;
	if (sh->o.refresh_ms == 0)
		sh->o.refresh_ms = 1000;
	sh->progress = progress;
	sh->done = done;
	sh->arg = arg;
	sh->rng = (uint32_t)uv_hrtime() | 1u;
	uv_timer_init(loop, &sh->tick);
	uv_timer_init(loop, &sh->refresh);
	uv_timer_init(loop, &sh->deadline);
	sh->tick.data = sh->refresh.data = sh->deadline.data = sh;
	sh->open_handles = 3;
	sh->start_ms = uv_now(loop);
	sh->progress_ms = sh->start_ms;
	sh->progress_left = INT64_MAX;
	sh->next_due = (double)sh->start_ms;
	if (opts->timeout_ms > 0)
		uv_timer_start(&sh->deadline, on_deadline, opts->timeout_ms, 0);
	uv_timer_start(&sh->refresh, on_refresh_timer, 0, sh->o.refresh_ms);
	uv_timer_start(&sh->tick, on_tick, 0, 0);
	return sh;
}

void shed_cancel(struct shed *sh)
{
	struct cut_err err;

	cut_err_set(&err, CUT_ECANCELED, "shed", "shedding stopped (%lld closed, "
		    "%lld left)", (long long)sh->st.closed,
		    (long long)sh->st.left);
	shed_finish(sh, CUT_ECANCELED, &err);
}
