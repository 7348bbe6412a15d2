/* SPDX-License-Identifier: MIT */
/* unit_util: what the unit tests share (see unit_util.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "util.h"
#include "unit_util.h"

TCase *
unit_tcase(Suite *s, const char *name, void (*setup)(void), void (*teardown)(void),
    double timeout, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (; *tests != NULL; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return tc;
}

int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
unit_main(const char *suite, const char *tcase, void (*setup)(void), void (*teardown)(void),
    double timeout, const TTest *const *tests)
{
	Suite *s = suite_create(suite);

	unit_tcase(s, tcase, setup, teardown, timeout, tests);
	return unit_run(s);
}

void
unit_tmpdir(char *dir, size_t len, const char *prefix)
{
	ck_assert_int_lt(snprintf(dir, len, "/tmp/%s.XXXXXX", prefix), (int)len);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

void
unit_tmpdir_remove(const char *dir)
{
	char cmd[1200];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir), (int)sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
}

const char *
unit_write_file(const char *dir, const char *name, const char *text)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	FILE *fp;

	ck_assert_int_lt(snprintf(p, sizeof(paths[0]), "%s/%s", dir, name), (int)sizeof(paths[0]));
	ck_assert_msg((fp = fopen(p, "w")) != NULL, "%s: %s", p, strerror(errno));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return p;
}

char *
unit_slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;

	if (fp == NULL)
		ck_abort_msg("%s: %s (run from the repository root)", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	ck_assert_ptr_nonnull(text = calloc(1, (size_t)n + 1));
	ck_assert_uint_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return text;
}

void
unit_loop_for(struct ev_loop *l, uint64_t ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < ms)
		ck_assert_int_eq(ev_run_once(l, 20), 0);
}
