/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for supervisor/ctl_check.c: the thresholds fkworkerctl(8)
 * documents for `fkworkerctl check`, one status per row, including the
 * states an integration test cannot hold still (some connections down).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sup.h"
#include "unit_util.h"

struct row {
	const char	*r_state;	/* the master's */
	int		 r_up;		/* faktory_connected */
	uint32_t	 r_connected;	/* of 20 */
	const char	*r_child1;	/* state of child 1 (child 0 is ready) */
	enum ctl_check	 r_want;
	const char	*r_why;		/* the reason starts so */
};

static const struct row rows[] = {
	{ "running", 1, 20, "ready", CTL_CHECK_OK, "20/20 connections up, 2/2 children, 40 slots" },
	{ "running", 1, 15, "ready", CTL_CHECK_WARNING, "5 of 20 connections down; 15/20" },
	{ "running", 1, 0, "ready", CTL_CHECK_CRITICAL, "no connection of any child is up" },
	{ "running", 0, 20, "ready", CTL_CHECK_CRITICAL, "not connected to Faktory at tcp://h:7419 (refused)" },
	{ "stopping", 1, 20, "ready", CTL_CHECK_CRITICAL, "stopping; " },
	{ "quiet", 1, 20, "ready", CTL_CHECK_WARNING, "quiet: no job is fetched (restart fkworker to resume); " },
	{ "starting", 1, 10, "starting", CTL_CHECK_WARNING, "starting; 10 of 20 connections down" },
	{ "running", 1, 10, "backoff", CTL_CHECK_WARNING, "child 1 restarting (backoff); 10 of 20 connections down; 10/20 connections up, 1/2 children" },
	{ "running", 1, 20, "starting", CTL_CHECK_WARNING, "child 1 starting; 20/20" },
	/* A reload starts each child's replacement on purpose. */
	{ "reloading", 1, 20, "starting", CTL_CHECK_OK, "20/20 connections up" },
};

START_TEST(test_grades)
{
	const struct row *r = &rows[_i];
	struct ctl_child ch[2];
	struct ctl_status st;
	char why[1024];

	memset(&st, 0, sizeof(st));
	memset(ch, 0, sizeof(ch));
	snprintf(st.st_state, sizeof(st.st_state), "%s", r->r_state);
	snprintf(st.st_url, sizeof(st.st_url), "tcp://h:7419");
	snprintf(st.st_faktory_error, sizeof(st.st_faktory_error), "%s", r->r_up ? "" : "refused");
	st.st_faktory_up = r->r_up;
	st.st_cpus = 2;
	st.st_slots = 40;
	st.st_connections = 20;
	st.st_connected = r->r_connected;
	ch[0].cc_index = 0;
	snprintf(ch[0].cc_state, sizeof(ch[0].cc_state), "ready");
	ch[1].cc_index = 1;
	snprintf(ch[1].cc_state, sizeof(ch[1].cc_state), "%s", r->r_child1);
	st.st_child = ch;
	st.st_nchild = 2;
	ck_assert_int_eq(ctl_check_grade(&st, why, sizeof(why)), r->r_want);
	ck_assert_msg(strncmp(why, r->r_why, strlen(r->r_why)) == 0, "row %d: \"%s\"", _i, why);
}
END_TEST

/* The plugin line: a "|" in a reason would start the performance data. */
START_TEST(test_print_line)
{
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	ck_assert_ptr_nonnull(f);
	ctl_check_print(f, CTL_CHECK_UNKNOWN, "status: a|b\nc", NULL);
	fclose(f);
	ck_assert_str_eq(buf, "FKWORKER UNKNOWN - status: a b c\n");
}
END_TEST

START_TEST(test_unreachable)
{
	ck_assert_int_eq(ctl_check_unreachable(ENOENT), CTL_CHECK_CRITICAL);
	ck_assert_int_eq(ctl_check_unreachable(ECONNREFUSED), CTL_CHECK_CRITICAL);
	ck_assert_int_eq(ctl_check_unreachable(EACCES), CTL_CHECK_UNKNOWN);
	ck_assert_int_eq(ctl_check_unreachable(ETIMEDOUT), CTL_CHECK_UNKNOWN);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctl_check");
	TCase *tc = tcase_create("grade");

	tcase_add_loop_test(tc, test_grades, 0, (int)FKW_NELEM(rows));
	tcase_add_test(tc, test_print_line);
	tcase_add_test(tc, test_unreachable);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
