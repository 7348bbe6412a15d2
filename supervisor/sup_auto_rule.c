/* SPDX-License-Identifier: MIT */
/*
 * sup_auto_rule: what worker.concurrency = "auto" does next, from what the
 * controller (sup_auto.c) measured. A pure function, so it is tested alone.
 *
 * A busy slot's CPU is fkworker's CPU over its busy slots (in points of the
 * host's, exec handlers included): the steps near the target are the slots
 * that CPU fits in, so the host lands on the target instead of stepping over it.
 *
 *   shed    the CPU is more than 5 points over the target: the slots whose
 *           CPU is the excess go (at most a quarter of them; without a cost
 *           a slot known, cur x the excess share)
 *   retire  fewer than half the slots are busy: a quarter of the idle ones
 *           go each decision (an idle host is back at the floor in ~10)
 *   grow    the queues hold work, >= 90% of the slots are busy and the
 *           host's CPU (fkworker's share and the total) is below target:
 *           the slots the headroom under the target fits at a slot's cost,
 *           at least one and at most doubling (50 to 2000 slots in 6
 *           decisions while the CPU is far from the target)
 *   hold    otherwise: from the target to 5 points over it, the CPU is where
 *           it should be (a dead band, so the noise of a shared host does not
 *           move the slots)
 *
 * A cpu_target of 100 means no CPU bound: the CPU then neither stops
 * growth nor sheds slots, and growth doubles. The steps that retire idle
 * slots are at least one slot per child and the result stays within
 * [min, max]; growth waits while a child's memory nears memory_limit.
 */
#include <stdio.h>

#include "sup.h"

#define BUSY_GROW_PCT	90
#define BUSY_IDLE_PCT	50
#define CPU_OVER_PTS	5

/* 3100 -> "3,100" */
static void
thousands(int64_t v, char *buf, size_t len)
{
	char raw[32];
	size_t n, o = 0;

	n = (size_t)snprintf(raw, sizeof(raw), "%lld", (long long)(v < 0 ? -v : v));
	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
}

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static const char *
trend(const struct sup_auto_in *in)
{
	if (in->ai_queue_prev < 0 || in->ai_queue == in->ai_queue_prev)
		return "";
	return in->ai_queue > in->ai_queue_prev ? " growing" : " shrinking";
}

/* The change, its size, or hold; and the figures behind it. */
static void
explain(const struct sup_auto_in *in, struct sup_auto_out *out, const char *what,
    int busy_pct, double cpu)
{
	char q[64], cpus[64];
	int d = out->ao_next - in->ai_cur;

	if (in->ai_queue < 0)
		snprintf(q, sizeof(q), "queue unknown");
	else {
		char n[32];
		thousands(in->ai_queue, n, sizeof(n));
		snprintf(q, sizeof(q), "queue %s%s", n, trend(in));
	}
	if (cpu < 0)
		snprintf(cpus, sizeof(cpus), "CPU unknown");
	else
		snprintf(cpus, sizeof(cpus), "CPU %.0f%% (fkworker %.0f%%)", cpu,
		    in->ai_cpu_self < 0 ? 0 : in->ai_cpu_self);
	if (d != 0)
		snprintf(out->ao_why, sizeof(out->ao_why), "%+d slots: %s, %d%% busy, %s",
		    d, q, busy_pct, cpus);
	else
		snprintf(out->ao_why, sizeof(out->ao_why), "hold at %d%s: %s, %d%% busy, %s",
		    in->ai_cur, what, q, busy_pct, cpus);
}

/* Host CPU points one busy slot uses; -1 when not known. */
static double
slot_cost(const struct sup_auto_in *in)
{
	if (in->ai_busy <= 0 || in->ai_cpu_self <= 0)
		return -1;
	return in->ai_cpu_self / in->ai_busy;
}

void
sup_auto_rule_decide(const struct sup_auto_in *in, struct sup_auto_out *out)
{
	int cur = in->ai_cur > 0 ? in->ai_cur : 1;
	int step_min = in->ai_children > 0 ? in->ai_children : 1;
	int busy_pct = in->ai_busy >= cur ? 100 : in->ai_busy * 100 / cur;
	double cpu = in->ai_cpu_host > in->ai_cpu_self ? in->ai_cpu_host : in->ai_cpu_self;
	double target = in->ai_cpu_target, cost = slot_cost(in);
	const char *what = "";
	int next = cur, step;

	if (target >= 100)
		cpu = cpu < 0 ? 0 : cpu > 99 ? 99 : cpu;	/* no CPU bound */

	if (cpu >= 0 && cpu > target + CPU_OVER_PTS) {
		double over = (cpu - target) / cpu;
		step = cost > 0 ? (int)((cpu - target) / cost + 0.5) : (int)(cur * over);
		if (step > cur / 4)
			step = cur / 4;
		next = cur - (step > 1 ? step : 1);
	} else if (busy_pct < BUSY_IDLE_PCT) {
		step = (cur - in->ai_busy) / 4;
		next = cur - (step > step_min ? step : step_min);
	} else if (in->ai_queue > 0 && busy_pct >= BUSY_GROW_PCT && cpu >= 0 && cpu < target) {
		if (in->ai_mem_high) {
			what = " (memory_limit near)";
		} else {
			double fit = target >= 100 || cost <= 0 ? cur : (target - cpu) / cost;
			step = fit > cur ? cur : (int)fit;
			next = cur + (step > 1 ? step : 1);
		}
	} else if (in->ai_queue > 0 && busy_pct >= BUSY_GROW_PCT && cpu >= target) {
		what = " (CPU at target)";
	}
	next = clamp(next, in->ai_min, in->ai_max);
	if (next == cur && next == in->ai_max && busy_pct >= BUSY_GROW_PCT && in->ai_queue > 0)
		what = " (concurrency_max)";
	out->ao_next = next;
	explain(in, out, what, busy_pct, cpu);
}
