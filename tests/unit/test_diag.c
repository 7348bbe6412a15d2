/* SPDX-License-Identifier: MIT */
/* Unit tests for supervisor/diag.c: each verdict from figures alone, and its numbers. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "unit_util.h"

#define N 11	/* ten seconds, a sample a second */

/* A host of 2 children on 2 cores; the series is then shaped per test. */
struct shape {
	double		jobs_per_sec;
	int64_t		queue0;		/* -1: unknown */
	double		queue_per_sec;
	uint32_t	busy, slots;
	double		cores_used;	/* fkworker's CPU */
	double		cores_wanted;	/* used + run-queue wait */
	double		host;		/* 0..1 */
};

static void
series(const struct shape *sh, struct diag_sample *s)
{
	for (int i = 0; i < N; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].ds_ms = 1000000 + (uint64_t)i * 1000;
		s[i].ds_done = (uint64_t)(5000 + sh->jobs_per_sec * i);
		s[i].ds_queued = sh->queue0 < 0 ? -1 :
		    (int64_t)fmax(0, (double)sh->queue0 + sh->queue_per_sec * i);
		s[i].ds_busy = sh->busy;
		s[i].ds_slots = sh->slots;
		s[i].ds_connections = s[i].ds_connected = 64;
		s[i].ds_worker_cpu_s = 100 + sh->cores_used * i;
		s[i].ds_worker_demand_s = 200 + sh->cores_wanted * i;
		s[i].ds_host_total = 1000 + 200 * (uint64_t)i;	/* 2 cores at 100 ticks/s */
		s[i].ds_host_busy = 500 + (uint64_t)(200 * sh->host * i);
		s[i].ds_run_p50_us = s[i].ds_run_p99_us = -1;
		s[i].ds_pick_p50_us = s[i].ds_pick_p99_us = -1;
	}
}

static enum diag_kind
judge(const struct shape *sh, uint32_t concurrency, struct diag_figures *f,
    struct diag_verdict *v)
{
	struct diag_sample s[N];

	series(sh, s);
	diag_figures(s, N, concurrency, 2, 2, f);
	diag_judge(f, NULL, v);
	return v->dv_kind;
}

START_TEST(test_figures)
{
	struct shape sh = { 500, 1000, 50, 100, 200, 0.5, 0.6, 0.4 };
	struct diag_figures f;
	struct diag_verdict v;

	judge(&sh, 200, &f, &v);
	ck_assert_double_eq_tol(f.df_seconds, 10, 1e-9);
	ck_assert_double_eq_tol(f.df_jobs_per_sec, 500, 1e-9);
	ck_assert_double_eq_tol(f.df_queue_trend, 50, 1e-6);
	ck_assert_int_eq(f.df_queued_first, 1000);
	ck_assert_int_eq(f.df_queued_last, 1500);
	ck_assert_int_eq(f.df_queued_min, 1250);
	ck_assert_double_eq_tol(f.df_busy_ratio, 0.5, 1e-9);
	ck_assert_double_eq_tol(f.df_worker_cores, 0.5, 1e-9);
	ck_assert_double_eq_tol(f.df_worker_demand, 0.6, 1e-9);
	ck_assert_double_eq_tol(f.df_host_cpu, 0.4, 1e-9);
	ck_assert_double_eq_tol(f.df_cpu_us_per_job, 1000, 1e-6);	/* 0.5 core / 500 per s */
}
END_TEST

START_TEST(test_keeps_up_headroom)
{
	/* 400 jobs/s at 50 us each: 0.02 cores; 5 of 100 slots busy. */
	struct shape sh = { 400, 0, 0, 5, 100, 0.02, 0.03, 0.2 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_KEEPS_UP);
	/* CPU allows (0.9 * 2 - 0.02) / 50 us = 35,600/s more, slots 100 * 400 / 5 - 400 = 7,600. */
	ck_assert_double_eq_tol(v.dv_headroom, 7600, 1e-6);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "7600 jobs/s more"));
	ck_assert_ptr_nonnull(strstr(v.dv_why, "the queues are empty"));
}
END_TEST

START_TEST(test_keeps_up_draining)
{
	/* All busy, but the backlog shrinks 100/s: it keeps up, and says when it empties. */
	struct shape sh = { 300, 3000, -100, 100, 100, 0.3, 0.3, 0.3 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_KEEPS_UP);
	ck_assert_double_eq_tol(v.dv_drain_s, 20, 1e-6);	/* 2000 left at 100/s */
	ck_assert_ptr_nonnull(strstr(v.dv_why, "shrinks 100/s"));
}
END_TEST

START_TEST(test_burst_is_not_backlog)
{
	/* Jobs pushed in bursts and taken at once: one sample saw some queued. */
	struct diag_sample s[N];
	struct diag_figures f;
	struct diag_verdict v;
	struct shape sh = { 400, 0, 0, 2, 100, 0.02, 0.02, 0.1 };

	series(&sh, s);
	s[N - 1].ds_queued = 40;
	diag_figures(s, N, 100, 2, 2, &f);
	diag_judge(&f, NULL, &v);
	ck_assert_int_eq(v.dv_kind, DIAG_KEEPS_UP);
}
END_TEST

START_TEST(test_slots_littles_law)
{
	/*
	 * 20 slots all busy at 100 jobs/s (0.2 s a job), queue +100/s: 200/s
	 * arrive, so 200 x 0.2 / 0.8 = 50 slots; the host is busy with other work.
	 */
	struct shape sh = { 100, 500, 100, 20, 20, 0.01, 0.02, 0.98 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 20, &f, &v), DIAG_SLOTS);
	ck_assert_uint_eq(v.dv_suggest, 50);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "from 20 to 50"));
}
END_TEST

START_TEST(test_slots_auto_advice)
{
	/* With "auto" the advice is about its ceiling, not worker.concurrency. */
	struct shape sh = { 100, 500, 100, 20, 20, 0.01, 0.02, 0.3 };
	struct diag_sample s[N];
	struct diag_figures f;
	struct diag_verdict v;

	series(&sh, s);
	diag_figures(s, N, 20, 2, 2, &f);
	f.df_auto = 1;
	f.df_concurrency_max = 2000;
	diag_judge(&f, NULL, &v);
	ck_assert_int_eq(v.dv_kind, DIAG_SLOTS);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "auto is raising the concurrency (now 20, up to 2000)"));
	f.df_concurrency = f.df_concurrency_max = 20;
	diag_judge(&f, NULL, &v);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "auto is at worker.concurrency_max 20; raise it to 50"));
}
END_TEST

START_TEST(test_slots_warns_cpu_cap)
{
	/* 1000 slots busy at 1000/s, +1000/s: 2000/s would need 2000 x 1.2 ms = 2.4 cores. */
	struct shape sh = { 1000, 1000, 1000, 1000, 1000, 1.2, 1.2, 0.6 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 1000, &f, &v), DIAG_SLOTS);
	ck_assert_uint_eq(v.dv_suggest, 2500);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "cap it near 1500 jobs/s"));
}
END_TEST

START_TEST(test_maxed)
{
	/* Wants both cores (runnable or running), though it got 1.2 of them. */
	struct shape sh = { 400, 1000, 300, 10, 100, 1.2, 1.95, 1.0 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_MAXED);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "add hosts"));
}
END_TEST

START_TEST(test_maxed_exec_children)
{
	/* The host at its limit, mostly fkworker's (reaped exec jobs' CPU counts). */
	struct shape sh = { 400, 1000, 300, 100, 100, 1.5, 0.2, 0.95 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_MAXED);
}
END_TEST

START_TEST(test_server)
{
	/* The queue grows while 3 of 100 slots are busy and the host idles. */
	struct shape sh = { 150, 500, 350, 3, 100, 0.02, 0.03, 0.1 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_SERVER);
	ck_assert_ptr_nonnull(strstr(v.dv_todo, "will not help"));
	/* Another program's load on the host does not make it fkworker's limit. */
	sh.host = 1.0;
	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_SERVER);
}
END_TEST

START_TEST(test_unknown)
{
	struct shape sh = { 100, -1, 0, 3, 100, 0.02, 0.03, 0.1 };
	struct diag_figures f;
	struct diag_verdict v;

	ck_assert_int_eq(judge(&sh, 100, &f, &v), DIAG_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(v.dv_why, "queue sizes are unknown"));
	sh.queue0 = 0;
	judge(&sh, 100, &f, &v);
	diag_judge(&f, "fkworker is quiet, not running", &v);
	ck_assert_int_eq(v.dv_kind, DIAG_UNKNOWN);
	ck_assert_str_eq(diag_kind_name(v.dv_kind), "unknown");
}
END_TEST

START_TEST(test_render_json)
{
	struct shape sh = { 100, 500, 100, 20, 20, 0.01, 0.02, 0.3 };
	struct diag_figures f;
	struct diag_verdict v;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	judge(&sh, 20, &f, &v);
	ck_assert_int_eq(diag_render_json(out, &f, &v), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "\"verdict\": \"slots\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"suggest_concurrency\": 50"));
	ck_assert_ptr_nonnull(strstr(buf, "\"pickup_p50_us\": null"));
	free(buf);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_figures, test_keeps_up_headroom, test_keeps_up_draining,
		test_burst_is_not_backlog, test_slots_littles_law, test_slots_auto_advice,
		test_slots_warns_cpu_cap,
		test_maxed, test_maxed_exec_children, test_server, test_unknown, test_render_json,
		NULL,
	};

	return unit_main("diag", "verdicts", NULL, NULL, 0, tests);
}
