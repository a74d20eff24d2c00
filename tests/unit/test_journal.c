/* test_journal.c - the run journal: writing it on a real loop (an intent
 * is on disk before its callback runs, files are private, a discarded run
 * leaves nothing) and reading it back for resume (last states, hook pids,
 * torn last lines, bad lines named by FILE:LINE, which runs are open).
 *
 * Every test works in its own temporary state directory
 * (CUTOVER_STATE_DIR) and removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "journal.h"

struct tmpdir {
	char path[64];
};

/* A fresh state directory, set as CUTOVER_STATE_DIR. */
static int setup(void **state)
{
	struct tmpdir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/test_journal_XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	setenv("CUTOVER_STATE_DIR", d->path, 1);
	*state = d;
	return 0;
}

static void rm_dir(const char *path)
{
	struct dirent *e;
	char sub[512];
	DIR *dh = opendir(path);

	if (dh == NULL)
		return;
	while ((e = readdir(dh)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (unlink(sub) != 0)
			rm_dir(sub);
	}
	closedir(dh);
	rmdir(path);
}

static int teardown(void **state)
{
	struct tmpdir *d = *state;

	rm_dir(d->path);
	unsetenv("CUTOVER_STATE_DIR");
	free(d);
	return 0;
}

/* Writes text to DIR/name and returns the path (static buffer). */
static const char *write_file(const struct tmpdir *d, const char *name,
			      const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

#define RUN_REC "{\"ev\":\"run\",\"id\":\"r1\",\"kind\":\"rollout\"," \
	"\"plan\":\"/p.yaml\",\"plan_text\":\"backend: app\\n\"," \
	"\"backend\":\"app\",\"lbs\":[\"unix:/a.sock\",\"tcp:127.0.0.1:9\"]," \
	"\"pid\":42,\"host\":\"h1\",\"t\":1}\n"
#define START_REC "{\"ev\":\"start\",\"servers\":[\"s1\",\"s2\",\"s3\"],\"t\":2}\n"

/* ---- reading ------------------------------------------------------------ */

static void test_load_states(void **state)
{
	const char *path = write_file(*state, "a.jsonl",
		RUN_REC START_REC
		"{\"ev\":\"intent\",\"server\":\"s1\",\"state\":\"draining\",\"t\":3}\n"
		"{\"ev\":\"state\",\"server\":\"s1\",\"state\":\"wait_idle\",\"t\":4}\n"
		"{\"ev\":\"state\",\"server\":\"s1\",\"state\":\"upgrading\",\"t\":5}\n"
		"{\"ev\":\"hook\",\"server\":\"s1\",\"pid\":4242,\"t\":6}\n"
		"{\"ev\":\"state\",\"server\":\"s2\",\"state\":\"done\",\"t\":7}\n");
	struct cut_err err = { 0 };
	struct journal_run r;

	assert_int_equal(journal_load(path, &r, &err), 0);
	assert_string_equal(r.id, "r1");
	assert_string_equal(r.kind, "rollout");
	assert_string_equal(r.plan_path, "/p.yaml");
	assert_string_equal(r.plan_text, "backend: app\n");
	assert_string_equal(r.backend, "app");
	assert_int_equal(r.nlb, 2);
	assert_string_equal(r.lbs[0], "unix:/a.sock");
	assert_string_equal(r.lbs[1], "tcp:127.0.0.1:9");
	assert_int_equal(r.pid, 42);
	assert_string_equal(r.host, "h1");
	assert_true(r.started);
	assert_false(r.ended);
	assert_true(journal_run_open(&r));
	assert_int_equal(r.nsrv, 3);	/* in the order of "start" */
	assert_string_equal(r.srv[0].name, "s1");
	assert_string_equal(r.srv[0].state, "upgrading");
	assert_int_equal(r.srv[0].hook_pid, 4242);
	assert_string_equal(r.srv[1].state, "done");
	assert_int_equal(r.srv[1].hook_pid, 0);
	assert_string_equal(r.srv[2].name, "s3");
	assert_string_equal(r.srv[2].state, "pending");
	assert_ptr_equal(journal_run_srv(&r, "s2"), &r.srv[1]);
	assert_null(journal_run_srv(&r, "s4"));
	journal_run_free(&r);
}

/* A switch's journal: no servers, its direction, its last step, and
 * whether the last resume was an abort. */
static void test_load_switch(void **state)
{
	const char *path = write_file(*state, "a.jsonl",
		"{\"ev\":\"run\",\"id\":\"r2\",\"kind\":\"switch\","
		"\"plan\":\"/bg.yaml\",\"plan_text\":\"switch: {}\\n\","
		"\"backend\":\"be_green\",\"lbs\":[\"unix:/a.sock\"],"
		"\"pid\":7,\"host\":\"h1\",\"to\":\"green\"}\n"
		"{\"ev\":\"start\"}\n"
		"{\"ev\":\"step\",\"step\":\"verify\",\"from\":\"verify\"}\n"
		"{\"ev\":\"step\",\"step\":\"drain_blue\",\"from\":\"watch\"}\n"
		"{\"ev\":\"resume\",\"pid\":8,\"abort\":true,\"to\":\"blue\"}\n"
		"{\"ev\":\"step\",\"step\":\"rollback\",\"from\":\"verify\"}\n");
	struct cut_err err = { 0 };
	struct journal_run r;

	assert_int_equal(journal_load(path, &r, &err), 0);
	assert_string_equal(r.kind, "switch");
	assert_string_equal(r.sw_to, "green");
	assert_string_equal(r.sw_step, "rollback");
	assert_true(r.sw_aborting);
	assert_int_equal(r.nsrv, 0);
	assert_true(r.started);
	assert_true(journal_run_open(&r));
	journal_run_free(&r);
}

/* A hook's pid is forgotten once its server moves on. */
static void test_hook_pid_cleared(void **state)
{
	const char *path = write_file(*state, "a.jsonl",
		RUN_REC START_REC
		"{\"ev\":\"state\",\"server\":\"s1\",\"state\":\"upgrading\"}\n"
		"{\"ev\":\"hook\",\"server\":\"s1\",\"pid\":99}\n"
		"{\"ev\":\"state\",\"server\":\"s1\",\"state\":\"probing\"}\n");
	struct cut_err err = { 0 };
	struct journal_run r;

	assert_int_equal(journal_load(path, &r, &err), 0);
	assert_string_equal(r.srv[0].state, "probing");
	assert_int_equal(r.srv[0].hook_pid, 0);
	journal_run_free(&r);
}

/* A crash in the middle of a write leaves a last line without its
 * newline: it is not read, whatever it holds. */
static void test_torn_last_line(void **state)
{
	const char *path = write_file(*state, "a.jsonl",
		RUN_REC START_REC
		"{\"ev\":\"state\",\"server\":\"s1\",\"state\":\"maint\"}\n"
		"{\"ev\":\"state\",\"server\":\"s1\",\"sta");
	struct cut_err err = { 0 };
	struct journal_run r;

	assert_int_equal(journal_load(path, &r, &err), 0);
	assert_string_equal(r.srv[0].state, "maint");
	journal_run_free(&r);

	/* Even a whole record, if its newline is missing. */
	path = write_file(*state, "b.jsonl", RUN_REC START_REC
		"{\"ev\":\"end\",\"status\":\"ok\"}");
	assert_int_equal(journal_load(path, &r, &err), 0);
	assert_false(r.ended);
	assert_true(journal_run_open(&r));
	journal_run_free(&r);
}

static void expect_load_error(void **state, const char *text,
			      const char *what)
{
	const char *path = write_file(*state, "bad.jsonl", text);
	struct cut_err err = { 0 };
	struct journal_run r;
	char want[1024];

	assert_int_equal(journal_load(path, &r, &err), CUT_EPROTO);
	snprintf(want, sizeof(want), "%s%s", path, what);
	assert_string_equal(err.msg, want);
	assert_null(r.plan_text);
	assert_null(r.srv);
}

static void test_bad_lines(void **state)
{
	expect_load_error(state, RUN_REC "not json\n" START_REC,
			  ":2: not a JSON object: '[' or '{' expected near "
			  "'not'");
	expect_load_error(state, RUN_REC "[1,2]\n" START_REC,
			  ":2: not a JSON object: ");
	expect_load_error(state, START_REC RUN_REC,
			  ":1: the first record is not a \"run\" record");
	expect_load_error(state, RUN_REC RUN_REC,
			  ":2: a second \"run\" record");
	expect_load_error(state, "{\"ev\":\"run\",\"kind\":\"rollout\"}\n",
			  ":1: the \"run\" record lacks kind, backend or "
			  "plan_text");
	expect_load_error(state, "", ": no \"run\" record");
}

static void test_missing_file(void **state)
{
	const struct tmpdir *d = *state;
	struct cut_err err = { 0 };
	struct journal_run r;
	char path[512], want[1024];

	snprintf(path, sizeof(path), "%s/none.jsonl", d->path);
	assert_int_equal(journal_load(path, &r, &err), UV_ENOENT);
	snprintf(want, sizeof(want), "cannot read the journal %s: No such "
		 "file or directory", path);
	assert_string_equal(err.msg, want);
}

/* Open: started, and not ended "ok" or "aborted"; a resume reopens. */
static void test_open_or_not(void **state)
{
	static const struct {
		const char *tail;
		bool open;
	} cases[] = {
		{ "", false },		/* never started: nothing done */
		{ START_REC, true },
		{ START_REC "{\"ev\":\"end\",\"status\":\"ok\"}\n", false },
		{ START_REC "{\"ev\":\"end\",\"status\":\"aborted\"}\n", false },
		{ START_REC "{\"ev\":\"end\",\"status\":\"failed\"}\n", true },
		{ START_REC "{\"ev\":\"end\",\"status\":\"interrupted\"}\n", true },
		{ START_REC "{\"ev\":\"end\",\"status\":\"unsafe\"}\n", true },
		{ START_REC "{\"ev\":\"end\",\"status\":\"interrupted\"}\n"
		  "{\"ev\":\"resume\",\"pid\":7}\n", true },
		{ START_REC "{\"ev\":\"end\",\"status\":\"interrupted\"}\n"
		  "{\"ev\":\"resume\",\"pid\":7}\n"
		  "{\"ev\":\"end\",\"status\":\"ok\"}\n", false },
	};
	char text[2048];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cut_err err = { 0 };
		struct journal_run r;
		const char *path;

		snprintf(text, sizeof(text), "%s%s", RUN_REC, cases[i].tail);
		path = write_file(*state, "o.jsonl", text);
		assert_int_equal(journal_load(path, &r, &err), 0);
		if (journal_run_open(&r) != cases[i].open)
			fail_msg("case %zu: open should be %d", i,
				 (int)cases[i].open);
		journal_run_free(&r);
	}
}

/* ---- writing ------------------------------------------------------------ */

struct intent_seen {
	const char *path;
	int calls, status;
	bool on_disk;		/* the intent's line was in the file */
	bool closed;
};

static bool file_has(const char *path, const char *needle)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void on_intent(int status, const struct cut_err *err, void *arg)
{
	struct intent_seen *s = arg;

	(void)err;
	s->calls++;
	s->status = status;
	s->on_disk = file_has(s->path, "\"what\":\"drain s1\"");
}

static void on_closed(int status, const struct cut_err *err, void *arg)
{
	struct intent_seen *s = arg;

	(void)err;
	assert_int_equal(status, 0);
	s->closed = true;
}

static json_t *run_record(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[s], s:i, s:s, s:s}", "ev", "run",
			 "kind", "rollout", "plan", "/p.yaml", "plan_text",
			 "backend: app\n", "lbs", "unix:/a.sock", "pid",
			 (int)getpid(), "host", "h", "backend", "app");
}

static void test_write_then_read(void **state)
{
	const struct tmpdir *d = *state;
	struct intent_seen seen = { 0 };
	struct cut_err err = { 0 };
	struct journal_run r;
	json_t *rec;
	struct journal *j;
	char runs[128];
	struct stat st;
	uv_loop_t loop;
	char **paths;
	size_t n;

	assert_int_equal(uv_loop_init(&loop), 0);
	rec = run_record();
	j = journal_create(&loop, rec, &err);
	json_decref(rec);	/* borrowed by journal_create */
	if (j == NULL)
		fail_msg("journal_create: %s", err.msg);
	assert_int_equal(journal_list(&paths, &n, &err), 0);
	assert_int_equal(n, 1);
	seen.path = paths[0];
	/* The first record is durable before the loop ever runs. */
	assert_true(file_has(paths[0], "\"ev\":\"run\""));
	assert_int_equal(stat(paths[0], &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(runs, sizeof(runs), "%s/runs", d->path);
	assert_int_equal(stat(runs, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	journal_note(j, json_pack("{s:s, s:[s]}", "ev", "start", "servers",
				  "s1"));
	assert_int_equal(journal_intent(j, json_pack("{s:s, s:s, s:s, s:s}",
						     "ev", "intent", "server",
						     "s1", "state", "draining",
						     "what", "drain s1"),
					on_intent, &seen), 0);
	assert_int_equal(seen.calls, 0);	/* never synchronously */
	journal_note(j, json_pack("{s:s, s:s, s:s}", "ev", "state", "server",
				  "s1", "state", "wait_idle"));
	journal_close(j, on_closed, &seen);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.status, 0);
	assert_true(seen.on_disk);
	assert_true(seen.closed);

	assert_int_equal(journal_load(paths[0], &r, &err), 0);
	assert_string_equal(r.kind, "rollout");
	assert_true(r.started);
	assert_true(journal_run_open(&r));
	assert_int_equal(r.nsrv, 1);
	assert_string_equal(r.srv[0].state, "wait_idle");
	journal_run_free(&r);
	journal_list_free(paths, n);
}

/* A run that never started (refused, not confirmed) leaves no file. */
static void test_discard(void **state)
{
	json_t *rec;
	struct cut_err err = { 0 };
	struct journal *j;
	uv_loop_t loop;
	char **paths;
	size_t n;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	rec = run_record();
	j = journal_create(&loop, rec, &err);
	json_decref(rec);	/* borrowed by journal_create */
	assert_non_null(j);
	journal_discard(j);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(journal_list(&paths, &n, &err), 0);
	assert_int_equal(n, 0);
	journal_list_free(paths, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_pid_cleared, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_or_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_then_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_discard, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
