/* SPDX-License-Identifier: MIT */
/*
 * wrk_coalesce: when the loop may nap (worker.coalesce_us, common/ev.c).
 *
 * A nap gathers several replies into one wake-up, at the price of up to
 * coalesce_us added to each job it holds back. That price is worth paying
 * only while jobs already wait in the server's queue far longer than a
 * nap: then the server, not the worker, sets the pace, replies trickle in
 * one at a time (docs/faktory-protocol.md 2.4), and a job that waited 10 ms
 * does not notice 1 ms more. When jobs are picked up promptly (a short
 * queue, pushes paced below what the host can do) the loop never naps.
 *
 *   OFF --BACKLOG_RUN jobs in a row waited >= BACKLOG_FACTOR x bound--> ON
 *   ON  --one job picked up sooner--> OFF
 *
 * The wait is the job's pickup latency (the server's enqueued_at to now,
 * two hosts' clocks): a worker clock that runs behind reads no wait and
 * never naps; one that runs ahead naps at most coalesce_us per wake-up,
 * and ev.c still naps only when replies come quickly.
 */
#include "wrk_int.h"

#define BACKLOG_FACTOR	10
#define BACKLOG_RUN	8

static int run;		/* jobs in a row that waited long */
static int on;

static void
engage(int yes)
{
	on = yes;
	ev_set_coalesce(wrk_env->we_loop,
	    yes ? (uint64_t)wrk_env->we_conf->cf_coalesce_us : 0);
}

void
wrk_coalesce_init(void)
{
	run = 0;
	engage(0);
}

void
wrk_coalesce_pickup(int64_t wait_us)
{
	uint64_t bound = (uint64_t)wrk_env->we_conf->cf_coalesce_us;

	/* No enqueued_at, or a clock behind the server's: no news. */
	if (bound == 0 || wait_us < 0)
		return;
	if ((uint64_t)wait_us < BACKLOG_FACTOR * bound) {
		run = 0;
		if (on)
			engage(0);
		return;
	}
	if (run < BACKLOG_RUN)
		run++;
	if (!on && run == BACKLOG_RUN)
		engage(1);
}

uint64_t
wrk_coalesce_bound(void)
{
	return on ? (uint64_t)wrk_env->we_conf->cf_coalesce_us : 0;
}
