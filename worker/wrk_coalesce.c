/* SPDX-License-Identifier: MIT */
/*
 * wrk_coalesce: when the loop may nap, and how long (worker.coalesce_us,
 * common/ev.c).
 *
 * A nap gathers several replies into one wake-up, at the price of up to its
 * length added to each job it holds back and to the round trip of the FETCH
 * that job's slot sends next. So a child naps only
 *   - while jobs already wait in the server's queue far longer than a nap
 *     (BACKLOG_RUN jobs in a row waited BACKLOG_FACTOR naps or more): the
 *     server sets the pace, replies trickle in one at a time (docs/faktory-
 *     protocol.md 2.4), and a job that waited 10 ms does not notice 1 ms
 *     more; the first job picked up sooner turns it off, so a host that
 *     keeps up with its queues never naps;
 *   - for at most 1/RTT_SHARE of the FETCH round trip (the window's srtt):
 *     each connection carries one FETCH, so the round trip bounds a
 *     child's rate, and against a fast server (round trips of 100-200 us)
 *     a 1 ms nap cut fkbroker's fast mode from 67k to 58k jobs/s; against
 *     a busy one (round trips of milliseconds) it costs nothing.
 *
 *   OFF --BACKLOG_RUN long waits in a row--> ON (bound: coalesce_us, at most
 *   srtt / RTT_SHARE, in NAP_STEP_US steps, 0 below one step)
 *   ON  --one job picked up sooner--> OFF
 *
 * The wait is the job's pickup latency (the server's enqueued_at to now,
 * two hosts' clocks): a worker clock that runs behind reads no wait and
 * never naps; one that runs ahead naps within the same bounds.
 */
#include "wrk_int.h"

#define BACKLOG_FACTOR	10
#define BACKLOG_RUN	8
#define RTT_SHARE	16
#define NAP_STEP_US	50

static int run;		/* jobs in a row that waited long */
static uint64_t cur;	/* the bound in force, us; 0: off */

static void
apply(uint64_t bound)
{
	if (bound == cur)
		return;
	cur = bound;
	ev_set_coalesce(wrk_env->we_loop, bound);
}

static uint64_t
engaged_bound(void)
{
	uint64_t b = (uint64_t)wrk_env->we_conf->cf_coalesce_us;
	uint64_t share = wrk_env->we_win.fw_srtt / RTT_SHARE;

	if (share < b)
		b = share;
	return b - b % NAP_STEP_US;
}

void
wrk_coalesce_init(void)
{
	run = 0;
	cur = 0;
	ev_set_coalesce(wrk_env->we_loop, 0);
}

void
wrk_coalesce_pickup(int64_t wait_us)
{
	uint64_t conf = (uint64_t)wrk_env->we_conf->cf_coalesce_us;

	/* No enqueued_at, or a clock behind the server's: no news. */
	if (conf == 0 || wait_us < 0)
		return;
	if ((uint64_t)wait_us < BACKLOG_FACTOR * conf) {
		run = 0;
		apply(0);
		return;
	}
	if (run < BACKLOG_RUN)
		run++;
	if (run == BACKLOG_RUN)
		apply(engaged_bound());
}

uint64_t
wrk_coalesce_bound(void)
{
	return cur;
}
