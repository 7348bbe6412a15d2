/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for fkbroker's hand-written formatters (tests/broker): they
 * replaced libc's on the PUSH path, so each is held to the libc form it
 * replaced, byte for byte.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brk.h"
#include "unit_util.h"

static void
check_rfc3339(int64_t ns)
{
	char got[40], want[40];
	size_t n = brk_rfc3339(ns, got, sizeof(got));

	/* The libc form, which brk_rfc3339 wrote for every time before. */
	brk_rfc3339_libc(ns, want, sizeof(want));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_rfc3339_edges)
{
	static const int64_t sec[] = {
		0, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
		4107542400 /* 2100-02-28 */, 4107628800, 1709164800 /* 2024-02-29 */,
		1735689599, 1735689600, 9223372035 /* 2262 */,
	};
	static const int64_t frac[] = {
		0, 1, 10, 100000000, 120000000, 123456789, 999999999, 500,
	};
	char buf[40];

	for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
		for (size_t k = 0; k < sizeof(frac) / sizeof(frac[0]); k++)
			check_rfc3339(sec[i] * 1000000000 + frac[k]);
	check_rfc3339(INT64_MAX);
	ck_assert_uint_eq(brk_rfc3339(1000000000, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:01Z");
}
END_TEST

START_TEST(test_rfc3339_random)
{
	srand(7);
	for (int i = 0; i < 200000; i++) {
		/* Any second from 1970 to 2262, any fraction, often a round one. */
		int64_t s = ((int64_t)rand() << 31 | rand()) % 9223372036LL;
		int64_t f = ((int64_t)rand() % 1000000000) / (i % 3 == 0 ? 1000 : 1) *
		    (i % 3 == 0 ? 1000 : 1);
		check_rfc3339(s * 1000000000 + f);
	}
}
END_TEST

static void
check_num(double v, const char *want)
{
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(gojson_num(&b, v), 0);
	ck_assert_int_eq((int)buf_rlen(&b), (int)strlen(want));
	ck_assert(memcmp(buf_rptr(&b), want, strlen(want)) == 0);
	buf_free(&b);
}

START_TEST(test_num_integral)
{
	char want[64];

	check_num(9007199254740991.0, "9007199254740991");
	check_num(-9007199254740991.0, "-9007199254740991");
	check_num(9007199254740992.0, "9007199254740992");
	check_num(1e20, "100000000000000000000");
	check_num(1e21, "1e+21");
	check_num(1.5, "1.5");
	check_num(-0.0, "-0");
	check_num(0.000001, "0.000001");
	check_num(1e-7, "1e-7");
	srand(11);
	for (int i = 0; i < 100000; i++) {
		double v = (double)(((int64_t)rand() << 31 | rand()) % 9007199254740992LL);
		if (i & 1)
			v = -v;
		snprintf(want, sizeof(want), "%.0f", v);
		check_num(v, want);
	}
}
END_TEST

START_TEST(test_fmt_int)
{
	char d[24];

	ck_assert_uint_eq(gojson_fmt_int(d, 0), 1);
	ck_assert(memcmp(d, "0", 1) == 0);
	ck_assert_uint_eq(gojson_fmt_int(d, -25), 3);
	ck_assert(memcmp(d, "-25", 3) == 0);
	ck_assert_uint_eq(gojson_fmt_int(d, INT64_MIN), 20);
	ck_assert(memcmp(d, "-9223372036854775808", 20) == 0);
	ck_assert_uint_eq(gojson_fmt_int(d, INT64_MAX), 19);
	ck_assert(memcmp(d, "9223372036854775807", 19) == 0);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_rfc3339_edges, test_rfc3339_random, test_num_integral, test_fmt_int, NULL,
	};

	return unit_main("brkfmt", "core", NULL, NULL, 0, tests);
}
