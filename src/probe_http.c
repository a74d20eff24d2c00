/* probe_http.c - the http check: libcurl's multi interface driven by the
 * libuv loop (after curl's docs/examples/multi-uv.c), plus the per-probe
 * easy handle and the verdict on a finished transfer.
 *
 *   curl SOCKETFUNCTION --> sock_cb: one struct probe_sock (uv_poll_t) per
 *                           socket, attached with curl_multi_assign
 *   curl TIMERFUNCTION  --> timer_cb: env->timer (0 ms becomes 1 ms, so
 *                           socket_action never runs inside curl)
 *   uv_poll / uv_timer  --> env_action: curl_multi_socket_action, then
 *                           curl_multi_info_read until empty --> http_done
 *
 * Also here: probe_redact_url, whose parse keeps passwords out of curl's
 * error texts too.
 *
 * Nothing here blocks: curl resolves names on its own thread (AsynchDNS)
 * and never runs curl_multi_perform loops.
 */
#include "probe_int.h"
#include "err.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- curl multi on the loop ------------------------------------------ */

static void env_drain(struct probe_env *env);

static void sock_closed(uv_handle_t *h)
{
	struct probe_sock *s = container_of((uv_poll_t *)h, struct probe_sock,
					    poll);
	struct probe_env *env = s->env;

	free(s);
	probe_env_unref(env);
}

static void sock_close(struct probe_sock *s)
{
	if (s->pprev != NULL) {
		*s->pprev = s->next;
		if (s->next != NULL)
			s->next->pprev = s->pprev;
		s->next = NULL;
		s->pprev = NULL;
	}
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

/* One socket_action and everything it finished. env->busy keeps
 * probe_env_free (maybe called from a progress callback run by the drain)
 * from tearing the multi down under our feet. */
static void env_action(struct probe_env *env, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc;

	if (env->multi == NULL)
		return;
	env->busy++;
	mc = curl_multi_socket_action(env->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		LOG_WARN("probe: curl_multi_socket_action: %s",
			 curl_multi_strerror(mc));
	env_drain(env);
	env->busy--;
	if (env->freeing && env->busy == 0)
		probe_curl_teardown(env);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct probe_sock *s = container_of(h, struct probe_sock, poll);
	int flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if ((events & UV_READABLE) != 0)
		flags |= CURL_CSELECT_IN;
	if ((events & UV_WRITABLE) != 0)
		flags |= CURL_CSELECT_OUT;
	env_action(s->env, s->fd, flags);
}

static void on_curl_timer(uv_timer_t *t)
{
	struct probe_env *env = container_of(t, struct probe_env, timer);

	env_action(env, CURL_SOCKET_TIMEOUT, 0);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
		   void *socketp)
{
	struct probe_env *env = userp;
	struct probe_sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			uv_poll_stop(&s->poll);
			sock_close(s);
			if (env->multi != NULL)
				curl_multi_assign(env->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		if (uv_poll_init_socket(env->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->env = env;
		s->next = env->socks;
		if (s->next != NULL)
			s->next->pprev = &s->next;
		s->pprev = &env->socks;
		env->socks = s;
		env->pending++;
		curl_multi_assign(env->multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	if (uv_poll_start(&s->poll, events, on_poll) != 0)
		return -1;
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct probe_env *env = userp;

	if (timeout_ms < 0) {
		uv_timer_stop(&env->timer);
		return 0;
	}
	if (timeout_ms == 0)
		timeout_ms = 1;	/* never socket_action from inside curl */
	uv_timer_start(&env->timer, on_curl_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	probe_env_unref(container_of((uv_timer_t *)h, struct probe_env,
				     timer));
}

/* Fails without side effects left behind but curl_global_init (see
 * env->curl_global) and env->multi, which the caller cleans up. The timer
 * is the last step (it cannot fail) and counts in env->pending. */
int probe_curl_init(struct probe_env *env, struct cut_err *err)
{
	CURLcode cc;

	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK)
		return cut_err_set(err, UV_ENOMEM, "probe",
				   "curl_global_init: %s",
				   curl_easy_strerror(cc));
	env->curl_global = true;
	env->multi = curl_multi_init();
	if (env->multi == NULL)
		return cut_err_set(err, UV_ENOMEM, "probe",
				   "curl_multi_init failed");
	curl_multi_setopt(env->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(env->multi, CURLMOPT_SOCKETDATA, env);
	curl_multi_setopt(env->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(env->multi, CURLMOPT_TIMERDATA, env);
	uv_timer_init(env->loop, &env->timer);
	env->pending++;
	return 0;
}

/* Every transfer is gone (probes finish before this). Cleans up the multi
 * and closes the poll contexts curl did not remove itself. Deferred while
 * env_action is on the stack. */
void probe_curl_teardown(struct probe_env *env)
{
	CURLM *m = env->multi;

	if (env->busy > 0 || m == NULL)
		return;
	env->multi = NULL;	/* sock_cb may run during the cleanup */
	curl_multi_cleanup(m);
	while (env->socks != NULL) {
		uv_poll_stop(&env->socks->poll);
		sock_close(env->socks);
	}
	uv_timer_stop(&env->timer);
	uv_close((uv_handle_t *)&env->timer, timer_closed);
}

/* ---- the easy handle of one probe ------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;
	size_t len = size * n;

	if (buf_append(&p->body, data, len) != 0) {
		/* Past PROBE_BODY_MAX (or out of memory): returning less than
		 * len makes curl stop with CURLE_WRITE_ERROR. */
		p->body_too_big = true;
		return 0;
	}
	return len;
}

/* Created once per probe and re-added to the multi for every try. */
int probe_http_setup(struct probe *p, struct cut_err *err)
{
	CURL *e = curl_easy_init();
	CURLcode cc = CURLE_OK;

	if (e == NULL)
		return cut_err_set(err, UV_ENOMEM, "probe", "curl_easy_init "
				   "failed");
	p->easy = e;
	buf_init(&p->body, PROBE_BODY_MAX);
#define SET(opt, val)                                                     \
	do {                                                              \
		if (cc == CURLE_OK)                                       \
			cc = curl_easy_setopt(e, (opt), (val));           \
	} while (0)
	SET(CURLOPT_URL, p->url);
	SET(CURLOPT_PRIVATE, p);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, p);
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");		/* ignore http_proxy & co */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms);
	SET(CURLOPT_SSL_VERIFYPEER, p->http_insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, p->http_insecure ? 0L : 2L);
	if (p->http_ca != NULL)
		SET(CURLOPT_CAINFO, p->http_ca);
	/* A fresh connection each try: "accepts new connections" is what a
	 * comeback must show, and no idle socket outlives the try. */
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_USERAGENT, "cutover-probe");
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
	if (cc != CURLE_OK)
		return cut_err_set(err, cc == CURLE_OUT_OF_MEMORY ? UV_ENOMEM
								  : CUT_EUSAGE,
				   "probe", "http probe %s: %s", p->url_safe,
				   curl_easy_strerror(cc));
	return 0;
}

void probe_http_start(struct probe *p)
{
	CURLMcode mc;
	char why[PROBE_REASON_MAX];

	buf_reset(&p->body);
	p->body_too_big = false;
	p->errbuf[0] = '\0';
	mc = curl_multi_add_handle(p->env->multi, p->easy);
	if (mc != CURLM_OK) {
		snprintf(why, sizeof(why), "http: %s", curl_multi_strerror(mc));
		probe_check_done(p, PROBE_CHECK_HTTP, false, why);
		return;
	}
	p->http_active = true;
}

void probe_http_abort(struct probe *p)
{
	if (!p->http_active)
		return;
	p->http_active = false;
	if (p->env->multi != NULL)
		curl_multi_remove_handle(p->env->multi, p->easy);
}

void probe_http_cleanup(struct probe *p)
{
	probe_http_abort(p);
	if (p->easy != NULL)
		curl_easy_cleanup(p->easy);
	p->easy = NULL;
	buf_free(&p->body);
}

/* ---- URLs (probe.h) ---------------------------------------------------- */

/* Where the password of `url` starts (NULL: none) and its length. */
static const char *url_password(const char *url, size_t *len)
{
	const char *a = strstr(url, "://");
	const char *end, *at = NULL, *colon, *q;

	/* No scheme ("h:80/x", or "://" only past the path): the authority
	 * starts the string. */
	if (a == NULL || (size_t)(a - url) > strcspn(url, "/?#@"))
		a = url;
	else
		a += 3;
	end = a + strcspn(a, "/?#");
	for (q = a; q < end; q++)
		if (*q == '@')
			at = q;	/* the last '@': a raw '@' in a password */
	if (at == NULL)
		return NULL;
	colon = memchr(a, ':', (size_t)(at - a));
	if (colon == NULL || colon + 1 == at)
		return NULL;
	*len = (size_t)(at - colon - 1);
	return colon + 1;
}

char *probe_redact_url(const char *url)
{
	const char *pw;
	size_t len = 0, head, tail;
	char *out;

	if (url == NULL)
		return NULL;
	pw = url_password(url, &len);
	if (pw == NULL)
		return strdup(url);
	head = (size_t)(pw - url);
	tail = strlen(pw + len);
	out = malloc(head + 3 + tail + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, url, head);
	memcpy(out + head, "***", 3);
	memcpy(out + head + 3, pw + len, tail + 1);
	return out;
}

static void curl_failure(struct probe *p, CURLcode res, char *why,
			 size_t whysz)
{
	const char *pw, *text;
	size_t pwlen = 0;
	long oserr = 0;

	if (res == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, whysz, "http: timed out after %llu ms",
			 (unsigned long long)p->timeout_ms);
		return;
	}
	if (res == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &oserr) ==
		    CURLE_OK &&
	    oserr > 0) {
		snprintf(why, whysz, "http: %s", uv_strerror((int)-oserr));
		return;
	}
	text = p->errbuf[0] != '\0' ? p->errbuf : curl_easy_strerror(res);
	pw = url_password(p->url, &pwlen);
	if (pw != NULL && memmem(text, strlen(text), pw, pwlen) != NULL)
		text = curl_easy_strerror(res);
	snprintf(why, whysz, "http: %s", text);
}

/* A transfer of p ended: compare with what the plan expects. */
static void http_done(struct probe *p, CURLcode res)
{
	char why[PROBE_REASON_MAX];
	long code = 0;
	bool ok = false;

	p->http_active = false;
	curl_multi_remove_handle(p->env->multi, p->easy);
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	/* A wrong status says the most, even if the body then failed. */
	if (code != 0 && code != p->http_expect) {
		snprintf(why, sizeof(why), "http %ld", code);
	} else if (p->body_too_big) {
		snprintf(why, sizeof(why), "http: body too large (over %d "
			 "bytes)", PROBE_BODY_MAX);
	} else if (res != CURLE_OK) {
		curl_failure(p, res, why, sizeof(why));
	} else if (p->http_body != NULL && p->http_body[0] != '\0' &&
		   (p->body.len == 0 ||
		    memmem(p->body.data, p->body.len, p->http_body,
			   strlen(p->http_body)) == NULL)) {
		snprintf(why, sizeof(why), "http: body does not contain '%.64s'",
			 p->http_body);
	} else {
		ok = true;
	}
	probe_check_done(p, PROBE_CHECK_HTTP, ok, ok ? NULL : why);
}

static void env_drain(struct probe_env *env)
{
	struct probe *p;
	CURLMsg *msg;
	CURLcode res;
	CURL *easy;
	int left;

	/* The message is read before http_done: removing a handle drops its
	 * message, and a callback may remove other probes' handles. */
	for (;;) {
		if (env->multi == NULL)
			break;
		msg = curl_multi_info_read(env->multi, &left);
		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		p = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
		if (p != NULL && p->http_active)
			http_done(p, res);
	}
}
