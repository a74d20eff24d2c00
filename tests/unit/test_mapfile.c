/* test_mapfile.c - rewriting one map entry on disk: the pure replacement,
 * and the real asynchronous write (temp file, fsync, rename, mode kept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "mapfile.h"

static void test_replace(void **state)
{
	char *s;

	s = mapfile_replace("# switch\nactive be_blue\nother x\n", 33, "active",
			    "be_green");
	assert_string_equal(s, "# switch\nactive be_green\nother x\n");
	free(s);
	s = mapfile_replace("activeX be_blue\n", 16, "active", "g");
	assert_string_equal(s, "activeX be_blue\nactive g\n");
	free(s);
	s = mapfile_replace("  active\tbe_blue\nactive again\n", 30, "active", "g");
	assert_string_equal(s, "active g\nactive again\n");
	free(s);
	s = mapfile_replace("", 0, "active", "g");
	assert_string_equal(s, "active g\n");
	free(s);
	s = mapfile_replace("a 1", 3, "b", "2");	/* no final newline */
	assert_string_equal(s, "a 1\nb 2\n");
	free(s);
}

static int calls, last_status;

static void on_done(int status, const struct cut_err *err, void *arg)
{
	calls++;
	last_status = status;
}

static void test_write(void **state)
{
	char dir[] = "/tmp/cutover-mapfile-XXXXXX", path[128], tmp[160], got[256];
	struct stat st;
	uv_loop_t loop;
	FILE *f;
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bg.map", dir);
	f = fopen(path, "w");
	fputs("# blue/green\nactive be_blue\n", f);
	fclose(f);
	chmod(path, 0640);
	uv_loop_init(&loop);
	calls = 0;
	assert_int_equal(mapfile_set(&loop, path, "active", "be_green", on_done,
				     NULL), 0);
	assert_int_equal(calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 1);
	assert_int_equal(last_status, 0);
	f = fopen(path, "r");
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, "# blue/green\nactive be_green\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(tmp, sizeof(tmp), "%s.cutover-tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	/* A missing file: an error through the callback, nothing created. */
	unlink(path);
	calls = 0;
	assert_int_equal(mapfile_set(&loop, path, "active", "x", on_done, NULL), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 1);
	assert_int_equal(last_status, UV_ENOENT);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests_name("mapfile", tests, NULL, NULL);
}
