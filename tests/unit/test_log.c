/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/log.c: what journald reads from stderr. Each test
 * points stderr at a scratch file, logs, and reads the lines back.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit_util.h"

static char dir[256];
static int saved_stderr = -1;

static void
setup(void)
{
	int fd;

	unit_tmpdir(dir, sizeof(dir), "fkw-log");
	fd = open(unit_write_file(dir, "err", ""), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	log_init("fkworker", LOG_LVL_INFO, 0);
	log_setproc("master");
}

static void
teardown(void)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unit_tmpdir_remove(dir);
}

/* What the logging wrote so far; free() it. */
static char *
written(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/err", dir);
	return unit_slurp(path);
}

START_TEST(test_one_line)
{
	char *out, want[128];

	log_warnx("reload refused");
	out = written();
	snprintf(want, sizeof(want), "<4>fkworker[%d]: master: reload refused\n", (int)getpid());
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/*
 * journald reads the <N> priority of each line on its own: a line without
 * it is logged at the unit's default level, so `journalctl -p warning`
 * would show the first line of a refused reload and not its reasons.
 */
START_TEST(test_multi_line_every_line_tagged)
{
	char *out, want[512];
	int pid = (int)getpid();

	log_warnx("reload refused, the running configuration stays:\n%s",
	    "f.conf:3: worker.cpus: must be 1..1024\nf.conf:9: unknown key log.lvl");
	out = written();
	snprintf(want, sizeof(want),
	    "<4>fkworker[%d]: master: reload refused, the running configuration stays:\n"
	    "<4>fkworker[%d]: master: f.conf:3: worker.cpus: must be 1..1024\n"
	    "<4>fkworker[%d]: master: f.conf:9: unknown key log.lvl\n", pid, pid, pid);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* The strerror suffix goes on the last line; a trailing newline makes no empty line. */
START_TEST(test_multi_line_errno_and_trailing_newline)
{
	char *out, want[512];
	int pid = (int)getpid();

	log_setproc("worker 3");
	errno = ENOENT;
	log_err("first\nsecond");
	log_notice("ends with a newline\n");
	out = written();
	snprintf(want, sizeof(want),
	    "<3>fkworker[%d]: worker 3: first\n"
	    "<3>fkworker[%d]: worker 3: second: No such file or directory\n"
	    "<5>fkworker[%d]: worker 3: ends with a newline\n", pid, pid, pid);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* A message longer than one line's buffer is cut, each line still tagged. */
START_TEST(test_long_lines_cut_tagged)
{
	char *big = malloc(5000), *out, *p;
	int n = 0;

	memset(big, 'x', 4999);
	big[4999] = '\0';
	big[2500] = '\n';
	log_warnx("%s", big);
	out = written();
	for (p = out; *p != '\0'; n++) {
		char *nl = strchr(p, '\n');

		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(strncmp(p, "<4>fkworker[", 12) == 0, "untagged line %d", n);
		ck_assert(nl - p < 2048);
		p = nl + 1;
	}
	ck_assert_int_eq(n, 2);
	free(out);
	free(big);
}
END_TEST

/* Plain lines (a tty) carry the timestamp and tag on each line too. */
START_TEST(test_plain_multi_line)
{
	char *out, *second;

	log_init("fkworker", LOG_LVL_INFO, 1);
	log_info("a\nb");
	out = written();
	second = strchr(out, '\n');
	ck_assert_ptr_nonnull(second);
	second++;
	ck_assert_ptr_nonnull(strstr(out, ": master: a\n"));
	ck_assert_ptr_nonnull(strstr(second, ": master: b\n"));
	ck_assert(second[2] == ':' && second[5] == ':');	/* HH:MM:SS */
	free(out);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_one_line, test_multi_line_every_line_tagged,
		test_multi_line_errno_and_trailing_newline, test_long_lines_cut_tagged,
		test_plain_multi_line, NULL,
	};

	return unit_main("log", "lines", setup, teardown, 0, tests);
}
