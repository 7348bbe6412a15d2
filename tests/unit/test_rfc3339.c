/* SPDX-License-Identifier: MIT */
/* Unit tests for common/rfc3339.c: Faktory's enqueued_at timestamps. */
#include <check.h>
#include <string.h>

#include "rfc3339.h"
#include "unit_util.h"

static int64_t
parse(const char *s)
{
	int64_t us = -7;

	ck_assert_msg(rfc3339_parse_us(s, strlen(s), &us) == 0, "refused: %s", s);
	return us;
}

START_TEST(test_rfc3339_valid)
{
	/* date -u -d 2026-11-28T07:06:15Z +%s = 1795849575 */
	ck_assert_int_eq(parse("2026-11-28T07:06:15Z"), 1795849575LL * 1000000);
	ck_assert_int_eq(parse("2026-11-28T07:06:15.957888035Z"), 1795849575LL * 1000000 + 957888);
	ck_assert_int_eq(parse("2026-11-28T07:06:15.5Z"), 1795849575LL * 1000000 + 500000);
	ck_assert_int_eq(parse("2026-11-28t07:06:15.000001z"), 1795849575LL * 1000000 + 1);
	/* Offsets: the same instant written in two zones. */
	ck_assert_int_eq(parse("2026-11-28T09:06:15.25+02:00"), 1795849575LL * 1000000 + 250000);
	ck_assert_int_eq(parse("2026-11-28T01:36:15-05:30"), 1795849575LL * 1000000);
	ck_assert_int_eq(parse("1970-01-01T00:00:00Z"), 0);
}
END_TEST

START_TEST(test_rfc3339_invalid)
{
	static const char *const bad[] = {
		"", "2026-11-28", "2026-11-28T07:06:15", "2026-11-28 07:06:15Z",
		"2026-11-28T07:06:15.Z", "2026-11-28T07:06:15.1234567890Z",
		"2026-11-28T07:06:15Zjunk", "2026-1-28T07:06:15Z", "2026- 1-28T07:06:15Z",
		"2026-13-28T07:06:15Z", "2026-11-28T25:06:15Z", "2026-11-28T07:06:15+2:00",
		"2026-11-28T07:06:15+24:00", "x026-11-28T07:06:15Z",
		"2026-11-28T07:06:15.957888035Z2026-11-28T07:06:15.957888035Z",
	};
	int64_t us;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rfc3339_parse_us(bad[i], strlen(bad[i]), &us) == -1,
		    "accepted: \"%s\"", bad[i]);
	/* A NUL inside the given length is not the end of the string. */
	ck_assert_int_eq(rfc3339_parse_us("2026-11-28T07:06:15Z\0", 21, &us), -1);
	/* The length bounds the read: no NUL needed after it. */
	ck_assert_int_eq(rfc3339_parse_us("2026-11-28T07:06:15Zxyz", 20, &us), 0);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = { test_rfc3339_valid, test_rfc3339_invalid, NULL };

	return unit_main("rfc3339", "core", NULL, NULL, 0, tests);
}
