/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for worker.concurrency = "auto" and live concurrency: the
 * controller's decision (supervisor/sup_auto_rule.c), the bounds a
 * configuration resolves to (common/conf.c), and which reloads apply live
 * (common/conf_diff.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sup.h"
#include "unit_conf.h"
#include "unit_util.h"

/* A host of 2 children, bounds 100..2000, target 90%, with a backlog, all busy, CPU 30%. */
static struct sup_auto_in
busy_host(int cur)
{
	struct sup_auto_in in = {
		.ai_cur = cur, .ai_min = 100, .ai_max = 2000, .ai_children = 2,
		.ai_busy = cur, .ai_queue = 3100, .ai_queue_prev = 2000,
		.ai_cpu_host = 30, .ai_cpu_self = 25, .ai_cpu_target = 90,
	};
	return in;
}

static int
decide(const struct sup_auto_in *in, char *why, size_t len)
{
	struct sup_auto_out out;

	memset(&out, 0xa5, sizeof(out));
	sup_auto_rule_decide(in, &out);
	snprintf(why, len, "%s", out.ao_why);
	return out.ao_next;
}

START_TEST(test_grows_with_backlog_busy_and_cpu_room)
{
	struct sup_auto_in in = busy_host(100);
	char why[192];
	int next = decide(&in, why, sizeof(why));

	/* 60 points of headroom at 0.25 a slot fit 240 more: it doubles (the most). */
	ck_assert_int_eq(next, 200);
	ck_assert_str_eq(why, "+100 slots: queue 3,100 growing, 100% busy, CPU 30% (fkworker 25%)");
	/* Near the target, the slots the headroom fits: 9 / 0.25. */
	in.ai_cpu_host = 81;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 136);
	/* fkworker's CPU unknown (or none): no cost to go by, it doubles. */
	in.ai_cpu_self = 0;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 200);
}
END_TEST

START_TEST(test_holds_without_a_reason_to_grow)
{
	struct sup_auto_in in = busy_host(400);
	char why[192];

	in.ai_queue = 0;		/* nothing waits */
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 400);
	ck_assert_str_eq(why, "hold at 400: queue 0 shrinking, 100% busy, CPU 30% (fkworker 25%)");
	in = busy_host(400);
	in.ai_busy = 300;		/* 75% busy: slots are free already */
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 400);
	in = busy_host(400);
	in.ai_cpu_host = 92;		/* at the target, within its 5 points */
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 400);
	ck_assert_ptr_nonnull(strstr(why, "(CPU at target)"));
	in = busy_host(400);
	in.ai_queue = -1;		/* INFO never answered */
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 400);
	ck_assert_ptr_nonnull(strstr(why, "queue unknown"));
	in = busy_host(400);
	in.ai_mem_high = 1;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 400);
	ck_assert_ptr_nonnull(strstr(why, "memory_limit"));
}
END_TEST

START_TEST(test_never_past_the_bounds)
{
	struct sup_auto_in in = busy_host(1900);
	char why[192];

	ck_assert_int_eq(decide(&in, why, sizeof(why)), 2000);
	in = busy_host(2000);
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 2000);
	ck_assert_ptr_nonnull(strstr(why, "(concurrency_max)"));
	in = busy_host(110);
	in.ai_busy = 0;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 100);
}
END_TEST

START_TEST(test_idle_host_returns_to_min)
{
	struct sup_auto_in in = busy_host(2000);
	char why[192];
	int n = 0;

	in.ai_busy = 0;
	in.ai_queue = in.ai_queue_prev = 0;
	in.ai_cpu_host = 3;
	in.ai_cpu_self = 1;
	while (in.ai_cur > in.ai_min && n++ < 100)
		in.ai_cur = decide(&in, why, sizeof(why));
	ck_assert_int_eq(in.ai_cur, 100);
	/* A quarter of the idle slots a decision: within ~15 decisions (30 s at 2 s). */
	ck_assert_int_le(n, 15);
	ck_assert_str_eq(decide(&in, why, sizeof(why)) == 100 ? why : "", "hold at 100: "
	    "queue 0, 0% busy, CPU 3% (fkworker 1%)");
}
END_TEST

START_TEST(test_sheds_over_cpu_target)
{
	struct sup_auto_in in = busy_host(1000);
	char why[192];
	int next;

	/* fkworker's slots use 95 points, 0.095 each: the 10 over are 105 of them. */
	in.ai_cpu_host = 100;
	in.ai_cpu_self = 95;
	next = decide(&in, why, sizeof(why));
	ck_assert_int_eq(next, 895);
	ck_assert_ptr_nonnull(strstr(why, "-105 slots"));
	/* Others use 75 of the 100: 10 points of fkworker's 25 are 400 slots; a quarter go. */
	in.ai_cpu_self = 25;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 750);
	/* No cost known: - cur x the excess share (10 of the 100 points). */
	in.ai_cpu_self = -1;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 900);
	/* cpu_target 100 is no CPU bound: a full host still grows with a backlog. */
	in.ai_cpu_target = 100;
	ck_assert_int_gt(decide(&in, why, sizeof(why)), 1000);
}
END_TEST

START_TEST(test_steps_near_the_target_are_single_slots)
{
	struct sup_auto_in in = busy_host(4);
	char why[192];

	/* A slot costs 6 points: below the target by 1, one more (not one per child). */
	in.ai_min = 2;
	in.ai_cpu_host = 89;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 5);
	/* 6 over the target at 6 a slot: one goes. */
	in.ai_cpu_host = 96;
	ck_assert_int_eq(decide(&in, why, sizeof(why)), 3);
}
END_TEST

/*
 * A host where each busy slot costs COST points of CPU up to its capacity
 * (100), with BASE points of other load: from the floor, with a backlog, the
 * decisions bring the CPU into the band [target, target + 5] and then hold
 * it there, without overshooting past it on the way.
 */
static void
settle(double cost, double base, int start, int *decisions, int *moves_after)
{
	struct sup_auto_in in = busy_host(start);
	char why[192];
	int settled = -1, next;
	double self, cpu;

	in.ai_min = 2;
	*moves_after = 0;
	for (int n = 0; n < 60; n++) {
		self = cost * in.ai_cur;
		if (self > 100 - base)
			self = 100 - base;
		in.ai_busy = in.ai_cur;
		in.ai_cpu_self = self;
		in.ai_cpu_host = base + self;
		next = decide(&in, why, sizeof(why));
		if (settled >= 0 && next != in.ai_cur)
			(*moves_after)++;
		if (settled < 0 && next == in.ai_cur)
			settled = n;
		in.ai_cur = next;
	}
	cpu = base + cost * in.ai_cur;
	ck_assert_msg(cpu >= 90 && cpu <= 95, "cost %.2f base %.0f: CPU %.1f at %d slots",
	    cost, base, cpu, in.ai_cur);
	*decisions = settled;
}

START_TEST(test_settles_in_the_band)
{
	const double costs[] = { 0.1, 0.9, 2.5, 4.5 };
	const double bases[] = { 0, 5, 30 };
	int n, moves;

	for (size_t c = 0; c < sizeof(costs) / sizeof(costs[0]); c++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			/* From the floor, and from a saturated host far above. */
			settle(costs[c], bases[b], 2, &n, &moves);
			ck_assert_int_ge(n, 0);
			ck_assert_int_le(n, 15);
			ck_assert_int_eq(moves, 0);
			settle(costs[c], bases[b], 1900, &n, &moves);
			ck_assert_int_ge(n, 0);
			ck_assert_int_eq(moves, 0);
		}
}
END_TEST

/* ---- configuration ---- */

START_TEST(test_conf_auto_bounds)
{
	ok("worker = { cpus = 4; concurrency = \"auto\"; };");
	ck_assert_int_eq(cf->cf_concurrency_auto, 1);
	ck_assert_int_eq(cf->cf_concurrency_min, 200);
	ck_assert_int_eq(cf->cf_concurrency_max, 4000);
	ck_assert_int_eq(cf->cf_concurrency, 200);	/* starts at the floor */
	ck_assert_int_eq(cf->cf_cpu_target, 90);
	ok("worker = { cpus = 2; concurrency = 5000; };");
	ck_assert_int_eq(cf->cf_concurrency_auto, 0);
	ck_assert_int_eq(cf->cf_concurrency_max, 5000);	/* room for the fixed value */
	fails("worker = { cpus = 2;\nconcurrency = 5000;\nconcurrency_max = 4000; };",
	    "t:2: worker.concurrency (5000) is above worker.concurrency_max (4000), the most "
	    "the children are sized for");
	fails("worker = { cpus = 2; concurrency = \"auto\";\nconcurrency_min = 300;\n"
	    "concurrency_max = 200; };",
	    "t:2: worker.concurrency_min (300) is above worker.concurrency_max (200)");
	fails("worker = { cpus = 2; concurrency = \"many\"; };",
	    "t:1: worker.concurrency: must be an integer or \"auto\"");
	setenv("WORKER_CONCURRENCY", "auto", 1);
	load_env("worker = { cpus = 2; concurrency = 10; };", 1);
	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(cf->cf_concurrency_auto, 1);
	ck_assert_int_eq(cf->cf_concurrency, 100);
	unsetenv("WORKER_CONCURRENCY");
}
END_TEST

START_TEST(test_conf_live_only)
{
	struct fkw_conf *a;

	a = load_env("worker = { cpus = 2; concurrency = 20; };", 0);
	cf = NULL;	/* keep a: the next load would free it */
	ck_assert_ptr_nonnull(a);
	/* Concurrency, fixed or auto, and the controller's keys: live. */
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = 120; };")), 1);
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = \"auto\"; "
	    "cpu_target = 70; auto_interval_ms = 500; concurrency_min = 10; };")), 1);
	/* Anything else rolls the children. */
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = 120; "
	    "shutdown_timeout = 3; };")), 0);
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 1; concurrency = 20; };")), 0);
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = 20; "
	    "concurrency_max = 3000; };")), 0);
	ck_assert_int_eq(conf_live_only(a, ok("faktory = { password = \"x\"; }; "
	    "worker = { cpus = 2; concurrency = 20; };")), 0);
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = 20; "
	    "queues = [ \"default\" ]; };")), 0);
	ck_assert_int_eq(conf_live_only(a, ok("worker = { cpus = 2; concurrency = 20; }; "
	    "handlers = ( { jobtype = \"noop\"; builtin = \"noop\"; } );")), 0);
	conf_free(a);
}
END_TEST

int
main(void)
{
	const TTest *rule[] = {
		test_grows_with_backlog_busy_and_cpu_room, test_holds_without_a_reason_to_grow,
		test_never_past_the_bounds, test_idle_host_returns_to_min,
		test_sheds_over_cpu_target, test_steps_near_the_target_are_single_slots,
		test_settles_in_the_band, NULL,
	};
	const TTest *conf[] = { test_conf_auto_bounds, test_conf_live_only, NULL };
	Suite *s = suite_create("auto");

	unit_tcase(s, "rule", NULL, NULL, 0, rule);
	unit_tcase(s, "conf", conf_setup, conf_teardown, 0, conf);
	return unit_run(s);
}
