/* SPDX-License-Identifier: MIT */
/* proc_cpu_parse: /proc/PID/stat text, odd command names included. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "unit_util.h"

#define TAIL " R 1 1 1 0 -1 4194304 99 0 0 0 12 34 5 6 20 0 1 0 1534260 3133440 394"

static int
parse(const char *s, struct proc_cpu *pc)
{
	return proc_cpu_parse(s, strlen(s), pc);
}

START_TEST(test_plain_and_odd_names)
{
	static const char *const ok[] = {
		"18776 (cat)" TAIL,
		"18776 (a b) c)" TAIL,			/* spaces and ')' in the name */
		"18776 ()" TAIL,
		"18776 (x) 1 2 3 4 5 6 7 8 9 10 11)" TAIL,	/* looks like fields */
	};
	struct proc_cpu pc;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(parse(ok[i], &pc) == 0, "%s", ok[i]);
		ck_assert_uint_eq(pc.pc_self, 46);
		ck_assert_uint_eq(pc.pc_children, 11);
	}
}
END_TEST

START_TEST(test_bad_shapes)
{
	static const char *const bad[] = {
		"", "18776", "18776 (cat", "18776 (cat)", "18776 (cat) R 1 2 3",
		"18776 (cat) R 1 1 1 0 -1 4194304 99 0 0 0 12 34 5",
		"18776 (cat) R 1 1 1 0 -1 4194304 99 0 0 0 x 34 5 6",
		"18776 (cat) R 1 1 1 0 -1 4194304 99 0 0 0 99999999999999999999999 34 5 6",
	};
	struct proc_cpu pc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &pc) == -1, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_read_self)
{
	struct proc_cpu a, b;
	volatile unsigned long x = 0;

	ck_assert_int_eq(proc_cpu_read(0, &a), 0);
	/* Burn about 0.1 s of CPU: the figure must move. */
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(proc_cpu_read(getpid(), &b), 0);
		if (b.pc_self >= a.pc_self + (uint64_t)proc_ticks_per_sec() / 10)
			break;
		for (unsigned long j = 0; j < 5000000; j++)
			x += j;
	}
	ck_assert_uint_gt(b.pc_self, a.pc_self);
	ck_assert_int_eq(proc_cpu_read(-5, &b), -1);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_plain_and_odd_names, test_bad_shapes, test_read_self, NULL,
	};

	return unit_main("proc", "core", NULL, NULL, 0, tests);
}
