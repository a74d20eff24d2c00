/* roll_out.c - rollout progress on a terminal, as plain lines, or as JSON
 * events (roll_out.h). The live view is redrawn in place below the log
 * lines: erase the view, print the log line, draw the view again. */
#include "roll_out.h"
#include "strutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETA_SAMPLES 32
#define ETA_WINDOW_MS 10000

struct srv_view {
	int64_t *sessions;		/* per LB, -1 unknown */
	bool have_sessions;
	uint64_t t[ETA_SAMPLES];	/* (time, total) samples while draining */
	int64_t total[ETA_SAMPLES];
	size_t nsamples;
};

struct roll_out {
	uv_loop_t *loop;
	enum roll_out_mode mode;
	const struct rollout *ro;
	const char *const *lbs;
	size_t nlb;
	struct srv_view *v;
	uv_timer_t tick;
	int drawn;			/* lines of the live view on screen */
	uint64_t start_ms;
};

static uint64_t now_ms(const struct roll_out *o)
{
	return uv_now(o->loop);
}

static void on_tick(uv_timer_t *t);

struct roll_out *roll_out_new(uv_loop_t *loop, enum roll_out_mode mode,
			      const struct rollout *ro, const char *const *lbs,
			      size_t nlb)
{
	struct roll_out *o = calloc(1, sizeof(*o));
	size_t i;

	if (o == NULL)
		return NULL;
	o->v = calloc(ro->n ? ro->n : 1, sizeof(*o->v));
	if (o->v == NULL) {
		free(o);
		return NULL;
	}
	for (i = 0; i < ro->n; i++) {
		o->v[i].sessions = calloc(nlb ? nlb : 1, sizeof(int64_t));
		if (o->v[i].sessions == NULL) {
			while (i-- > 0)
				free(o->v[i].sessions);
			free(o->v);
			free(o);
			return NULL;
		}
	}
	o->loop = loop;
	o->mode = mode;
	o->ro = ro;
	o->lbs = lbs;
	o->nlb = nlb;
	o->start_ms = uv_now(loop);
	uv_timer_init(loop, &o->tick);
	o->tick.data = o;
	if (mode == ROLL_OUT_LIVE) {
		uv_timer_start(&o->tick, on_tick, 250, 250);
		uv_unref((uv_handle_t *)&o->tick);
	}
	return o;
}

static void on_closed(uv_handle_t *h)
{
	struct roll_out *o = h->data;
	size_t i;

	for (i = 0; i < o->ro->n; i++)
		free(o->v[i].sessions);
	free(o->v);
	free(o);
}

void roll_out_free(struct roll_out *o)
{
	if (o == NULL)
		return;
	uv_close((uv_handle_t *)&o->tick, on_closed);
}

/* ---- JSON events ---------------------------------------------------------- */

static void emit(json_t *ev)
{
	char *text;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(ev, "ts", json_real((double)ts.tv_sec +
						(double)ts.tv_nsec / 1e9));
	text = json_dumps(ev, JSON_COMPACT);
	if (text != NULL) {
		printf("%s\n", text);
		fflush(stdout);
	}
	free(text);
	json_decref(ev);
}

static json_t *srv_json(const struct roll_srv *s)
{
	char name[2 * STAT_NAME_MAX + 2];

	snprintf(name, sizeof(name), "%s/%s", s->backend, s->server);
	return json_string(name);
}

/* ---- live view ------------------------------------------------------------- */

static void eta_text(const struct srv_view *v, char *out, size_t outsz)
{
	size_t first = 0, last;
	double rate;
	char d[32];

	if (v->nsamples < 2) {
		snprintf(out, outsz, "ETA ?");
		return;
	}
	last = (v->nsamples - 1) % ETA_SAMPLES;
	if (v->nsamples > ETA_SAMPLES)
		first = v->nsamples % ETA_SAMPLES;
	if (v->t[last] <= v->t[first] || v->total[first] <= v->total[last]) {
		snprintf(out, outsz, "ETA ?");
		return;
	}
	rate = (double)(v->total[first] - v->total[last]) /
	       (double)(v->t[last] - v->t[first]);	/* per ms */
	str_format_duration((uint64_t)((double)v->total[last] / rate), d,
			    sizeof(d));
	snprintf(out, outsz, "ETA %s", d);
}

static void view_erase(struct roll_out *o)
{
	if (o->drawn > 0)
		printf("\033[%dA\r\033[J", o->drawn);
	o->drawn = 0;
}

static void view_draw(struct roll_out *o)
{
	const struct rollout *ro = o->ro;
	size_t i, j, done = 0, failed = 0, pending = 0, active = 0;
	char el[32];

	for (i = 0; i < ro->n; i++) {
		const struct roll_srv *s = &ro->srv[i];
		const struct srv_view *v = &o->v[i];
		char eta[48] = "";

		if (s->state == ROLL_ST_PENDING) {
			pending++;
			continue;
		}
		if (s->state == ROLL_ST_DONE) {
			done++;
			continue;
		}
		if (roll_state_final(s->state)) {
			failed++;
			continue;
		}
		active++;
		str_format_duration(now_ms(o) - s->state_since_ms, el, sizeof(el));
		printf("  %-24s %-13s %7s", s->server, roll_state_name(s->state), el);
		if (s->state == ROLL_ST_WAIT_IDLE && v->have_sessions) {
			int64_t total = 0;

			printf("  sessions");
			for (j = 0; j < o->nlb; j++) {
				if (v->sessions[j] < 0)
					printf(" ?");
				else
					printf(" %lld", (long long)v->sessions[j]);
				total += v->sessions[j] > 0 ? v->sessions[j] : 0;
			}
			eta_text(v, eta, sizeof(eta));
			printf(" (total %lld, %s)", (long long)total, eta);
		}
		printf("\n");
		o->drawn++;
	}
	str_format_duration(now_ms(o) - o->start_ms, el, sizeof(el));
	printf("  %zu done, %zu active, %zu pending, %zu failed - %s\n", done,
	       active, pending, failed, el);
	o->drawn++;
	fflush(stdout);
}

static void on_tick(uv_timer_t *t)
{
	struct roll_out *o = t->data;

	view_erase(o);
	view_draw(o);
}

/* Print one line above the live view (or just print it). */
static void line_out(struct roll_out *o, const char *text)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (o->mode == ROLL_OUT_LIVE)
		view_erase(o);
	printf("%02d:%02d:%02d %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, text);
	if (o->mode == ROLL_OUT_LIVE)
		view_draw(o);
	fflush(stdout);
}

/* ---- events ------------------------------------------------------------------ */

void roll_out_run_start(struct roll_out *o, const char *plan_path)
{
	char text[512];
	json_t *lbs;
	size_t i;

	if (o->mode == ROLL_OUT_JSON) {
		lbs = json_array();
		for (i = 0; i < o->nlb; i++)
			json_array_append_new(lbs, json_string(o->lbs[i]));
		emit(json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "event",
			       "run_start", "plan", plan_path, "backend",
			       o->ro->plan->backend, "servers",
			       (json_int_t)o->ro->n, "batch",
			       (json_int_t)o->ro->plan->batch,
			       "load_balancers", lbs));
		return;
	}
	snprintf(text, sizeof(text), "rollout of %zu server%s of backend %s "
		 "(%s, batch %u, min_serving %u) on %zu load balancer%s",
		 o->ro->n, o->ro->n == 1 ? "" : "s", o->ro->plan->backend,
		 plan_strategy_name(o->ro->plan->strategy), o->ro->plan->batch,
		 o->ro->plan->min_serving, o->nlb, o->nlb == 1 ? "" : "s");
	line_out(o, text);
}

void roll_out_state(struct roll_out *o, const struct roll_srv *s,
		    enum roll_state from, const char *reason)
{
	char text[640];

	if (s->state == ROLL_ST_WAIT_IDLE)
		o->v[s->index].nsamples = 0;
	if (o->mode == ROLL_OUT_JSON) {
		emit(json_pack("{s:s, s:o, s:s, s:s, s:s}", "event", "state",
			       "server", srv_json(s), "from",
			       roll_state_name(from), "to",
			       roll_state_name(s->state), "reason",
			       reason ? reason : ""));
		return;
	}
	snprintf(text, sizeof(text), "%s/%s: %s -> %s%s%s", s->backend,
		 s->server, roll_state_name(from), roll_state_name(s->state),
		 reason && reason[0] ? " - " : "", reason ? reason : "");
	line_out(o, text);
}

void roll_out_sessions(struct roll_out *o, const struct roll_srv *s,
		       const int64_t *per_lb, size_t nlb)
{
	struct srv_view *v = &o->v[s->index];
	int64_t total = 0;
	size_t i, k;
	bool changed = !v->have_sessions;

	for (i = 0; i < nlb && i < o->nlb; i++) {
		if (v->sessions[i] != per_lb[i])
			changed = true;
		v->sessions[i] = per_lb[i];
		total += per_lb[i] > 0 ? per_lb[i] : 0;
	}
	v->have_sessions = true;
	k = v->nsamples % ETA_SAMPLES;
	if (v->nsamples == 0 ||
	    now_ms(o) - v->t[(v->nsamples - 1) % ETA_SAMPLES] >= ETA_WINDOW_MS /
									  ETA_SAMPLES) {
		v->t[k] = now_ms(o);
		v->total[k] = total;
		v->nsamples++;
	}
	if (!changed)
		return;
	if (o->mode == ROLL_OUT_JSON) {
		json_t *arr = json_array();

		for (i = 0; i < nlb; i++)
			json_array_append_new(arr, json_integer(per_lb[i]));
		emit(json_pack("{s:s, s:o, s:I, s:o}", "event", "sessions",
			       "server", srv_json(s), "total", (json_int_t)total,
			       "per_lb", arr));
	}
	/* Plain mode: the state lines and the summary say enough; the
	 * live view redraws on its timer. */
}

static void vlog(struct roll_out *o, const struct roll_srv *s,
		 const char *kind, const char *fmt, va_list ap)
{
	char msg[4200], text[4400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (o->mode == ROLL_OUT_JSON) {
		emit(json_pack("{s:s, s:o, s:s, s:s}", "event", "log", "server",
			       s ? srv_json(s) : json_null(), "kind", kind,
			       "message", msg));
		return;
	}
	if (s != NULL)
		snprintf(text, sizeof(text), "%s/%s [%s] %s", s->backend,
			 s->server, kind, msg);
	else
		snprintf(text, sizeof(text), "[%s] %s", kind, msg);
	line_out(o, text);
}

void roll_out_log(struct roll_out *o, const struct roll_srv *s,
		  const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(o, s, kind, fmt, ap);
	va_end(ap);
}

void roll_out_note(struct roll_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(o, NULL, "rollout", fmt, ap);
	va_end(ap);
}

/* ---- summary ---------------------------------------------------------------- */

static const char *outcome(const struct roll_srv *s)
{
	if (s->unsure)
		return s->state == ROLL_ST_RESTORED
			       ? "NOT CONFIRMED back in service"
			       : "NOT CONFIRMED out of rotation";
	switch (s->state) {
	case ROLL_ST_DONE:
		return "upgraded, in service";
	case ROLL_ST_RESTORED:
		return "NOT upgraded, back in service";
	case ROLL_ST_FAILED:
		return "FAILED, out of rotation (maint)";
	case ROLL_ST_PENDING:
		return "untouched";
	default:
		return "interrupted";
	}
}

void roll_out_run_end(struct roll_out *o, int status, const char *reason)
{
	const struct rollout *ro = o->ro;
	char el[32];
	size_t i;

	if (o->mode == ROLL_OUT_LIVE) {
		uv_timer_stop(&o->tick);
		view_erase(o);
	}
	if (o->mode == ROLL_OUT_JSON) {
		json_t *arr = json_array();

		for (i = 0; i < ro->n; i++) {
			const struct roll_srv *s = &ro->srv[i];

			json_array_append_new(
				arr, json_pack("{s:o, s:s, s:s, s:I, s:s}",
					       "server", srv_json(s), "state",
					       roll_state_name(s->state),
					       "outcome", outcome(s), "elapsed_ms",
					       (json_int_t)(s->ended_ms > s->started_ms
							    ? s->ended_ms - s->started_ms
							    : 0),
					       "reason", s->reason));
		}
		emit(json_pack("{s:s, s:b, s:s, s:s, s:o}", "event", "run_end",
			       "ok", status == 0, "result",
			       status == 0 ? "done" : cut_strerror(status),
			       "reason", reason ? reason : "", "servers", arr));
		return;
	}
	printf("\n%-32s %-32s %9s  %s\n", "SERVER", "OUTCOME", "TIME", "NOTE");
	for (i = 0; i < ro->n; i++) {
		const struct roll_srv *s = &ro->srv[i];
		char name[2 * STAT_NAME_MAX + 2];

		snprintf(name, sizeof(name), "%s/%s", s->backend, s->server);
		if (s->ended_ms > s->started_ms)
			str_format_duration(s->ended_ms - s->started_ms, el,
					    sizeof(el));
		else
			snprintf(el, sizeof(el), "-");
		printf("%-32s %-32s %9s  %s\n", name, outcome(s), el,
		       s->state == ROLL_ST_DONE ? "" : s->reason);
	}
	str_format_duration(now_ms(o) - o->start_ms, el, sizeof(el));
	if (status == 0)
		printf("\nrollout done: %zu server%s upgraded in %s\n", ro->n,
		       ro->n == 1 ? "" : "s", el);
	else
		printf("\nrollout %s after %s: %s\n",
		       status == CUT_ECANCELED ? "INTERRUPTED"
		       : status == CUT_EUNDO
			       ? "FAILED, and some server's state is NOT CONFIRMED: check it by hand"
			       : "FAILED, left safe",
		       el, reason ? reason : cut_strerror(status));
	fflush(stdout);
}
