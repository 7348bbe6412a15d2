/* SPDX-License-Identifier: MIT */
/*
 * wrk_fetch: how many FETCHes a child keeps out, and where each command goes.
 *
 * The real server serves a connection one command at a time and a FETCH on
 * empty queues holds its connection ~2 s (docs/faktory-protocol.md 2.3-2.4).
 * So throughput comes from FETCHes on parallel connections, and the FETCHes
 * worth having out are the job rate times the round trip (Little's law):
 * tens, not one per slot. Every FETCH left out when the queues run dry is a
 * 2 s wait for a stop and, if the worker dies, a job the server keeps
 * reserved for nobody.
 *
 * The window, W FETCHes out at most (fw_target), between a floor of 1 (the
 * long poll that notices new work) and a ceiling (idle slots; connections,
 * one FETCH each, minus one kept free for reports):
 *
 *   a FETCH brings a job within a round trip of the quickest recent one:
 *       W += 1 (each answer sends two FETCHes: W doubles every round trip,
 *       so full speed is a few round trips away from idle)
 *   a FETCH brings a job only after a wait (slower than 4 x rtt_min + 1 ms):
 *       W /= 2 (the queues ran dry and a push woke it, or the server is
 *       queueing our commands: more FETCHes out would not help either way)
 *   a FETCH comes back empty:
 *       W = 1 (the queues are empty: one long poll is enough)
 *
 * Why it is stable: W grows only while answers come back as fast as the
 * fastest recent round trip allows. Once more FETCHes are out than the
 * server serves without queueing them, their round trips stretch and W is
 * cut; once the queues are empty, answers come back empty or late and W
 * falls to 1. W never exceeds what the slots and connections can carry, so
 * it cannot run away; the rtt_min filter forgets old minima (two 5 s
 * epochs), so a server that got slower for good resets the yardstick.
 *
 * Placement (the pump, once per loop iteration before the writes): reports
 * first, each on a connection with no FETCH outstanding (a FETCH can hold
 * the line 2 s), with the FETCH the window wants for the same slot behind it
 * in the same write (pipelining); then FETCHes for free slots, one per
 * connection. Without pipelining, a command only goes on a connection with
 * nothing outstanding.
 */
#include <string.h>

#include "log.h"
#include "wrk_int.h"

#define RTT_EPOCH_US	5000000
#define SLOW_SLACK_US	1000
#define SRTT_WEIGHT	8	/* EWMA: 1/8 of each new sample */

void
wrk_fetch_init(struct wrk_window *w)
{
	memset(w, 0, sizeof(*w));
	w->fw_target = 1;
}

static void
rtt_sample(struct wrk_window *w, uint64_t rtt)
{
	uint64_t now = ev_now_us(wrk_env->we_loop);

	if (now - w->fw_epoch_us >= RTT_EPOCH_US) {
		w->fw_rtt_min[1] = w->fw_rtt_min[0];
		w->fw_rtt_min[0] = 0;
		w->fw_epoch_us = now;
	}
	if (w->fw_rtt_min[0] == 0 || rtt < w->fw_rtt_min[0])
		w->fw_rtt_min[0] = rtt;
}

static uint64_t
rtt_min(const struct wrk_window *w)
{
	uint64_t a = w->fw_rtt_min[0], b = w->fw_rtt_min[1];

	if (a == 0)
		return b;
	return b != 0 && b < a ? b : a;
}

/*
 * The most FETCHes the slots and the connections can carry now: a slot
 * whose report waits may fetch behind it.
 */
static int
ceiling(const struct wrk_window *w)
{
	const struct wrk_pool *po = &wrk_env->we_pool;
	int conns = po->po_n > 1 ? po->po_n - 1 : 1;
	/* Reports of retired slots (wrk_slot_set_cap) count too: a bound, not an exact figure. */
	int slots = w->fw_out + wrk_env->we_nfree + wrk_env->we_nreports;

	return slots < conns ? slots : conns;
}

/*
 * How far past 4 x rtt_min an answer may come and still be prompt. While
 * the loop naps (wrk_coalesce.c) it reads replies up to the nap's bound
 * after they arrived; without that in the slack every nap looked like a
 * queueing server and the window collapsed (coalesce_us 2000 against
 * fkbroker --cost-us 100: 2,082 jobs/s, a third of the speed without).
 */
static uint64_t
slack_us(void)
{
	return SLOW_SLACK_US + wrk_coalesce_bound();
}

void
wrk_fetch_answered(struct wrk_window *w, int got_job, uint64_t rtt_us)
{
	uint64_t min;

	FKW_ASSERT(w->fw_out > 0);
	w->fw_out--;
	if (!got_job) {
		wrk_env->we_stats.sc_fetch_empty++;
		w->fw_target = 1;
		return;
	}
	min = rtt_min(w);
	rtt_sample(w, rtt_us);
	w->fw_srtt = w->fw_srtt == 0 ? rtt_us :
	    w->fw_srtt + rtt_us / SRTT_WEIGHT - w->fw_srtt / SRTT_WEIGHT;
	if (min != 0 && rtt_us > 4 * min + slack_us())
		w->fw_target = w->fw_target > 1 ? w->fw_target / 2 : 1;
	else if (w->fw_target < ceiling(w))
		w->fw_target++;
}

void
wrk_fetch_lost(struct wrk_window *w)
{
	FKW_ASSERT(w->fw_out > 0);
	w->fw_out--;
}

void
wrk_fetch_report_rtt(struct wrk_window *w, uint64_t rtt_us)
{
	rtt_sample(w, rtt_us);
}

int
wrk_fetch_window(const struct wrk_window *w)
{
	int c;

	if (!wrk_main_may_fetch())
		return 0;
	c = ceiling(w);
	return w->fw_target < c ? w->fw_target : c;
}

static int
fetch_wanted(const struct wrk_window *w)
{
	return w->fw_out < wrk_fetch_window(w);
}

static void
send_failed(struct wrk_conn *cn)
{
	log_warnx("connection %d: out of memory writing a command", cn->cn_index);
	wrk_env->we_stats.sc_errors++;
}

/* Reports, each with the slot's next FETCH behind it when the window wants one. */
static void
pump_reports(int pipelining)
{
	struct wrk_slot *s;
	struct wrk_conn *cn;

	while ((s = wrk_slot_take_report()) != NULL) {
		if ((cn = wrk_pool_pick(&wrk_env->we_pool, !pipelining)) == NULL) {
			wrk_slot_requeue_report(s);
			return;
		}
		if (wrk_conn_send_report(cn, s) == -1) {
			wrk_slot_requeue_report(s);
			send_failed(cn);
			return;
		}
		/* A slot at or above the cap (retired live) reports its last job only. */
		if (pipelining && fetch_wanted(&wrk_env->we_win) &&
		    s->sl_index < wrk_env->we_cap &&
		    s->sl_state == SL_IDLE && !ev_timer_active(&s->sl_timer) &&
		    wrk_conn_send_fetch(cn, s) == -1)
			send_failed(cn);
	}
}

static void
pump_fetches(int pipelining)
{
	struct wrk_slot *s;
	struct wrk_conn *cn;

	while (fetch_wanted(&wrk_env->we_win)) {
		if ((cn = wrk_pool_pick(&wrk_env->we_pool, !pipelining)) == NULL)
			return;
		if ((s = wrk_slot_take_free()) == NULL)
			return;
		if (wrk_conn_send_fetch(cn, s) == -1) {
			wrk_slot_resume(s);
			send_failed(cn);
			return;
		}
	}
}

void
wrk_fetch_pump(struct ev_loop *loop, void *arg)
{
	int pipelining = wrk_env->we_conf->cf_pipelining;

	FKW_UNUSED(loop);
	FKW_UNUSED(arg);
	pump_reports(pipelining);
	pump_fetches(pipelining);
	wrk_conn_flush_dirty();
}
