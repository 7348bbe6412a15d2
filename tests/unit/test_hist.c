/* SPDX-License-Identifier: MIT */
/* Unit tests for common/hist.c: bucket layout, quantiles against known durations, msgpack form. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctl.h"
#include "hist.h"
#include "unit_util.h"

#define US_HOUR		3600000000ull

static struct hist *
hist_new(void)
{
	struct hist *h = calloc(1, sizeof(*h));

	ck_assert_ptr_nonnull(h);
	return h;
}

/* |got - want| / want <= tol */
static void
assert_near(uint64_t got, uint64_t want, double tol, const char *what)
{
	double err = fabs((double)got - (double)want) / (double)want;

	ck_assert_msg(err <= tol, "%s: got %llu us, want %llu us (error %.2f%%, allowed %.2f%%)",
	    what, (unsigned long long)got, (unsigned long long)want, err * 100, tol * 100);
}

START_TEST(test_buckets_cover_and_are_narrow)
{
	/* Contiguous, increasing, each at most 1/32 of its lower edge wide. */
	ck_assert_uint_eq(hist_lo(0), 0);
	for (int b = 0; b + 1 < HIST_BUCKETS; b++) {
		ck_assert_uint_eq(hist_hi(b), hist_lo(b + 1));
		ck_assert_uint_gt(hist_hi(b), hist_lo(b));
		if (hist_lo(b) >= 64)
			ck_assert_uint_le((hist_hi(b) - hist_lo(b)) * 32, hist_lo(b));
	}
	/* Every value lands in the bucket whose edges hold it, up to 19 hours. */
	for (uint64_t v = 0; v < (1ull << 36); v = v < 4096 ? v + 1 : v + v / 7 + 1) {
		int b = hist_bucket(v);
		ck_assert_int_ge(b, 0);
		ck_assert_int_lt(b, HIST_BUCKETS);
		ck_assert_msg(hist_lo(b) <= v && v < hist_hi(b), "value %llu in bucket %d [%llu, %llu)",
		    (unsigned long long)v, b, (unsigned long long)hist_lo(b),
		    (unsigned long long)hist_hi(b));
	}
	ck_assert_int_eq(hist_bucket(1ull << 36), HIST_BUCKETS - 1);
	ck_assert_int_eq(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	ck_assert_int_eq(hist_bucket(63), 63);
	ck_assert_int_eq(hist_bucket(64), 64);
	ck_assert_int_eq(hist_bucket(65), 64);
}
END_TEST

/* N jobs of one known duration: p50 and p99 within 5% (the layout promises 1/32). */
START_TEST(test_quantiles_of_known_durations)
{
	static const uint64_t known[] = {
		1, 2, 7, 63, 64, 100, 999, 1000, 12345, 65537, 500000, 1000000,
		5000000, 5250000, 6290000, 60000000, 900000000, US_HOUR,
	};
	struct hist *h = hist_new();

	ck_assert_uint_eq(hist_quantile(h, 0.5), 0);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		memset(h, 0, sizeof(*h));
		for (int n = 0; n < 1000; n++)
			hist_add(h, known[i]);
		assert_near(hist_quantile(h, 0.50), known[i], 1.0 / 32, "p50");
		assert_near(hist_quantile(h, 0.99), known[i], 1.0 / 32, "p99");
		ck_assert_uint_eq(hist_total(h), 1000);
		ck_assert_uint_eq(h->h_sum_us, 1000 * known[i]);
	}
	free(h);
}
END_TEST

/*
 * The case: 5 s sleep jobs all acknowledged within 5.25 s were
 * reported as p50 6.29 s / p99 8.35 s. Run times spread evenly over
 * [5.00, 5.25) s: p50 is 5.125 s and p99 5.2475 s.
 */
START_TEST(test_quantiles_of_a_spread)
{
	struct hist *h = hist_new();

	for (uint64_t i = 0; i < 10000; i++)
		hist_add(h, 5000000 + i * 25);
	assert_near(hist_quantile(h, 0.50), 5125000, 0.05, "p50 of 5.00..5.25 s");
	assert_near(hist_quantile(h, 0.99), 5247500, 0.05, "p99 of 5.00..5.25 s");
	ck_assert_uint_le(hist_quantile(h, 1.0), 5250000 + 5250000 / 32);

	/* Two populations: 98 fast jobs and 2 slow ones. */
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 98; i++)
		hist_add(h, 10);
	hist_add(h, 50000);
	hist_add(h, 50000);
	ck_assert_uint_eq(hist_quantile(h, 0.50), 10);
	ck_assert_uint_eq(hist_quantile(h, 0.98), 10);
	assert_near(hist_quantile(h, 0.99), 50000, 0.05, "p99 of the slow two");
	free(h);
}
END_TEST

START_TEST(test_merge_diff_count_le)
{
	struct hist *a = hist_new(), *b = hist_new(), *d = hist_new();

	for (int i = 0; i < 100; i++)
		hist_add(a, 1000);		/* 1 ms */
	for (int i = 0; i < 50; i++)
		hist_add(b, 2000000);		/* 2 s */
	*d = *a;
	hist_merge(a, b);
	ck_assert_uint_eq(hist_total(a), 150);
	ck_assert_uint_eq(a->h_sum_us, 100 * 1000 + 50 * 2000000ull);
	/* The bucket holding the boundary counts whole: [992, 1008) for 1 ms. */
	ck_assert_uint_eq(hist_count_le(a, 991), 0);
	ck_assert_uint_eq(hist_count_le(a, 992), 100);
	ck_assert_uint_eq(hist_count_le(a, 1000), 100);
	ck_assert_uint_eq(hist_count_le(a, 1900000), 100);
	ck_assert_uint_eq(hist_count_le(a, 2000000), 150);
	ck_assert_uint_eq(hist_count_le(a, UINT64_MAX), 150);
	/* The window between two snapshots holds what was added in it. */
	hist_diff(d, a, d);
	ck_assert_uint_eq(hist_total(d), 50);
	assert_near(hist_quantile(d, 0.5), 2000000, 1.0 / 32, "window p50");
	/* A snapshot ahead of the totals (a child replaced) gives no negative counts. */
	hist_diff(d, b, a);
	ck_assert_uint_eq(hist_total(d), 0);
	free(a);
	free(b);
	free(d);
}
END_TEST

START_TEST(test_pack_is_sparse_and_round_trips)
{
	struct hist *h = hist_new(), *g = hist_new();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;

	hist_add(h, 5);
	hist_add(h, 5000000);
	hist_add(h, 5000000);
	hist_add(h, UINT64_MAX / 2);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	hist_pack(&pk, h);
	ck_assert_uint_lt(sb.size, 40);		/* three buckets, not 1024 */
	ck_assert_int_eq(ctl_mp_unpack(sb.data, sb.size, &u), 0);
	ck_assert_int_eq(hist_unpack(&u.data, g), 0);
	ck_assert(memcmp(h, g, sizeof(*h)) == 0);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(&sb);

	/* Refused: an index out of range, out of order, a missing count, not an array. */
	static const uint64_t bad[][5] = {
		{ 3, 0, HIST_BUCKETS, 1, 0 },
		{ 5, 0, 9, 1, 8 },
		{ 2, 0, 9, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msgpack_pack_array(&pk, bad[i][0]);
		for (uint64_t k = 0; k < bad[i][0]; k++)
			msgpack_pack_uint64(&pk, k + 1 < 5 ? bad[i][k + 1] : 1);
		ck_assert_int_eq(ctl_mp_unpack(sb.data, sb.size, &u), 0);
		ck_assert_int_eq(hist_unpack(&u.data, g), -1);
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_clear(&sb);
	}
	msgpack_pack_map(&pk, 0);
	ck_assert_int_eq(ctl_mp_unpack(sb.data, sb.size, &u), 0);
	ck_assert_int_eq(hist_unpack(&u.data, g), -1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	free(h);
	free(g);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_buckets_cover_and_are_narrow, test_quantiles_of_known_durations,
		test_quantiles_of_a_spread, test_merge_diff_count_le,
		test_pack_is_sparse_and_round_trips, NULL,
	};

	return unit_main("hist", "core", NULL, NULL, 0, tests);
}
