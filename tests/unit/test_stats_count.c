/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/stats_count.c: the exact counters' bounded tables,
 * one cell per count, the master's tally, counts that survive kill -9 of the
 * process that wrote them, and the status rows that carry them (ctl.c).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "stats.h"
#include "unit_util.h"

static struct stats_count *
count_new(void)
{
	struct stats_count *c = aligned_alloc(64, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	stats_count_clear(c);
	return c;
}

START_TEST(test_jobtypes_bounded)
{
	struct stats_count *c = count_new();
	char name[64];
	int other;

	ck_assert_int_eq(stats_count_jt(c, "a"), 0);
	ck_assert_int_eq(stats_count_jt(c, "b"), 1);
	ck_assert_int_eq(stats_count_jt(c, "a"), 0);
	/* A name that does not fit counts as "*other*", not as a truncated name. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	other = stats_count_jt(c, name);
	ck_assert_str_eq(stats_count_jt_name(c, other), STATS_COUNT_OTHER);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "jt%d", i);
		int j = stats_count_jt(c, name);
		ck_assert_int_ge(j, 0);
		ck_assert_int_lt(j, STATS_COUNT_JT_MAX);
	}
	ck_assert_uint_eq(atomic_load(&c->ct_njt), STATS_COUNT_JT_MAX - 1);
	ck_assert_int_eq(stats_count_jt(c, "jt99"), other);
	ck_assert_ptr_null(stats_count_jt_name(c, STATS_COUNT_JT_MAX));
	free(c);
}
END_TEST

START_TEST(test_failures_bounded)
{
	struct stats_count *c = count_new();
	char et[32];
	int jt = stats_count_jt(c, "noop"), last = -1;

	ck_assert_int_eq(stats_count_fe(c, jt, "Boom"), 0);
	ck_assert_int_eq(stats_count_fe(c, jt, "Boom"), 0);
	ck_assert_int_eq(stats_count_fe(c, jt, "Bang"), 1);
	for (int i = 0; i < 200; i++) {
		snprintf(et, sizeof(et), "E%d", i);
		last = stats_count_fe(c, jt, et);
		ck_assert_int_lt(last, STATS_FE_MAX);
	}
	ck_assert_uint_eq(atomic_load(&c->ct_nfe), STATS_FE_MAX);
	ck_assert_int_eq(c->ct_fe[last].cf_jt, -1);
	ck_assert_str_eq(stats_count_fe_name(c, last), STATS_COUNT_OTHER);
	free(c);
}
END_TEST

START_TEST(test_one_cell_per_count)
{
	struct stats_count *c = count_new();
	int a = stats_count_jt(c, "a"), b = stats_count_jt(c, "b");
	int fa = stats_count_fe(c, a, "Boom"), fb = stats_count_fe(c, b, "Boom");
	uint64_t p, f;

	ck_assert_uint_eq(stats_count_add(c, a, -1, 5), 0);
	ck_assert_uint_eq(stats_count_add(c, a, -1, 6), 1);
	ck_assert_uint_eq(stats_count_add(c, a, fa, 7), 0);
	ck_assert_uint_eq(stats_count_add(c, b, fb, 8), 0);
	ck_assert_uint_eq(stats_count_add(c, b, fb, 9), 1);
	ck_assert_uint_eq(atomic_load(stats_count_cell(c, a, -1)), 2);
	ck_assert_uint_eq(atomic_load(stats_count_cell(c, b, fb)), 2);
	/* Out of range: no cell, nothing counted. */
	ck_assert_ptr_null(stats_count_cell(c, -1, -1));
	ck_assert_ptr_null(stats_count_cell(c, 0, STATS_FE_MAX));
	ck_assert_uint_eq(stats_count_add(c, -1, -1, 10), 0);
	stats_count_totals(c, &p, &f);
	ck_assert_uint_eq(p, 2);
	ck_assert_uint_eq(f, 3);
	ck_assert_uint_eq(atomic_load(&c->ct_last_ms), 9);
	free(c);
}
END_TEST

START_TEST(test_tally)
{
	struct stats_count *c = count_new();
	static struct stats_tally t, u;
	int a = stats_count_jt(c, "a"), fa = stats_count_fe(c, a, "Boom");

	stats_count_add(c, a, -1, 1);
	stats_count_add(c, a, fa, 2);
	stats_tally_add_count(&t, c);
	stats_tally_add_count(&t, c);
	stats_tally_add(&t, "a", "WorkerCrash", 3, 4);
	stats_tally_add(&t, "z", NULL, 5, 3);
	ck_assert_uint_eq(t.ty_processed, 7);
	ck_assert_uint_eq(t.ty_failed, 5);
	ck_assert_uint_eq(t.ty_last_ms, 4);
	ck_assert_uint_eq(t.ty_njt, 2);
	ck_assert_str_eq(t.ty_jt[0].tj_name, "a");
	ck_assert_uint_eq(t.ty_jt[0].tj_processed, 2);
	ck_assert_uint_eq(t.ty_jt[0].tj_failed, 5);
	ck_assert_uint_eq(t.ty_nfe, 2);
	ck_assert_str_eq(t.ty_fe[1].tf_errtype, "WorkerCrash");
	ck_assert_uint_eq(t.ty_fe[1].tf_failed, 3);
	stats_tally_merge(&u, &t);
	stats_tally_merge(&u, &t);
	ck_assert_uint_eq(u.ty_processed, 14);
	ck_assert_uint_eq(u.ty_fe[0].tf_failed, 4);
	/* Bounded: a flood of jobtypes ends in "*other*". */
	for (int i = 0; i < 1000; i++) {
		char n[16];
		snprintf(n, sizeof(n), "t%d", i);
		stats_tally_add(&u, n, "E", 1, 5);
	}
	ck_assert_uint_eq(u.ty_njt, STATS_TALLY_JT_MAX);
	ck_assert_uint_eq(u.ty_nfe, STATS_TALLY_FE_MAX);
	ck_assert_str_eq(u.ty_jt[STATS_TALLY_JT_MAX - 1].tj_name, STATS_COUNT_OTHER);
	ck_assert_uint_eq(u.ty_failed, 10 + 1000);
	free(c);
}
END_TEST

/* What a child counted before kill -9 is all in the shared block: nothing lost. */
START_TEST(test_counts_survive_kill9)
{
	struct stats_count *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int pfd[2], st;
	uint64_t p, f;
	char x;
	pid_t pid;

	ck_assert_ptr_ne(c, MAP_FAILED);
	stats_count_clear(c);
	ck_assert_int_eq(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		int j = stats_count_jt(c, "noop"), fe = stats_count_fe(c, j, "Boom");
		for (int i = 0; i < 100000; i++)
			stats_count_add(c, j, i % 10 == 0 ? fe : -1, (uint64_t)i);
		(void)!write(pfd[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(pfd[0], &x, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	stats_count_totals(c, &p, &f);
	ck_assert_uint_eq(p, 90000);
	ck_assert_uint_eq(f, 10000);
	close(pfd[0]);
	close(pfd[1]);
	munmap(c, sizeof(*c));
}
END_TEST

/* The region gives every position its own block, cleared with the position. */
START_TEST(test_region_positions_have_counts)
{
	struct stats_header *h = stats_region_create(2, 16, 4096);
	struct stats_pos a, b;
	uint64_t p, f;

	ck_assert_ptr_nonnull(h);
	stats_region_pos(h, 0, &a);
	stats_region_pos(h, 1, &b);
	ck_assert_uint_eq((uintptr_t)a.sp_count % 64, 0);
	ck_assert((uintptr_t)(a.sp_count + 1) <= (uintptr_t)a.sp_inflight);
	ck_assert((uintptr_t)a.sp_ring->rg_data + 4096 <= (uintptr_t)b.sp_slot);
	stats_count_add(a.sp_count, stats_count_jt(a.sp_count, "x"), -1, 1);
	stats_count_totals(b.sp_count, &p, &f);
	ck_assert_uint_eq(p, 0);
	stats_count_totals(a.sp_count, &p, &f);
	ck_assert_uint_eq(p, 1);
	stats_pos_clear(&a);
	stats_count_totals(a.sp_count, &p, &f);
	ck_assert_uint_eq(p, 0);
	stats_region_destroy(h);
}
END_TEST

/* jobtypes[] and failed_by[] go through the control protocol unchanged. */
START_TEST(test_status_rows_roundtrip)
{
	struct ctl_status st;
	struct ctl_jobtype jt[2] = { { "noop", 10, 1 }, { "sleep", 0, 3 } };
	struct ctl_failure fb[2] = { { "noop", "Boom", 1 }, { "sleep", "WorkerCrash", 3 } };
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1, .rp_status = &st }, out;
	struct buf b;
	const void *pl;
	size_t plen;
	char err[128];

	memset(&st, 0, sizeof(st));
	st.st_jobtypes = jt;
	st.st_njobtypes = 2;
	st.st_failures = fb;
	st.st_nfailures = 2;
	st.st_last_done_ms = 1234;
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &pl, &plen), 0);
	ck_assert_int_eq(ctl_reply_decode(pl, plen, &out, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(out.rp_status);
	ck_assert_uint_eq(out.rp_status->st_njobtypes, 2);
	ck_assert_str_eq(out.rp_status->st_jobtypes[1].cj_name, "sleep");
	ck_assert_uint_eq(out.rp_status->st_jobtypes[0].cj_processed, 10);
	ck_assert_uint_eq(out.rp_status->st_nfailures, 2);
	ck_assert_str_eq(out.rp_status->st_failures[1].cf_errtype, "WorkerCrash");
	ck_assert_uint_eq(out.rp_status->st_failures[1].cf_failed, 3);
	ck_assert_uint_eq(out.rp_status->st_last_done_ms, 1234);
	ctl_reply_free(&out);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_jobtypes_bounded, test_failures_bounded, test_one_cell_per_count,
		test_tally, test_counts_survive_kill9, test_region_positions_have_counts,
		test_status_rows_roundtrip, NULL,
	};

	return unit_main("stats_count", "core", NULL, NULL, 60, tests);
}
