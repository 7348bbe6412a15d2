/* SPDX-License-Identifier: MIT */
/*
 * wrk_lowat: one wake-up for a report's +OK and the job its FETCH brings.
 *
 * The server serves a connection one command at a time, so the +OK of an
 * ACK and the job of the FETCH pipelined behind it arrive apart, a
 * command's service time and other connections' commands in between (docs/
 * faktory-protocol.md 2.4): the loop woke and read once for each, about two
 * of both per job against a busy server. While a connection waits for two
 * replies or more, its low-water mark (SO_RCVLOWAT) asks the kernel to wake
 * the loop only once PAIR_BYTES are in, the least two replies can be
 * ("+OK\r\n" and "$-1\r\n"), so the +OK waits for the job beside it.
 *
 * It never holds a reply back for good. Per connection, after each loop
 * iteration that wrote to it or read from it while raised:
 *   two replies or more expected, none in part:  PAIR_BYTES
 *   a lone report, or part of a reply read:      1 (the kernel wakes us if
 *                                                 it is already in)
 *   a lone FETCH, or nothing expected:           as it was (no system call:
 *                                                 a job is longer than the
 *                                                 mark, and "$-1" comes after
 *                                                 the server's 2 s anyway)
 * and a FETCH that holds its line (queues empty: about 2 s) holds the +OK
 * before it only HOLD_MS: a timer lowers the mark on every connection whose
 * last reply is older, so a confirmed job is counted that late at most.
 */
#include "wrk_int.h"

#define PAIR_BYTES	10
#define HOLD_MS		10

static struct ev_timer hold;

static int
raised(const struct wrk_conn *cn)
{
	return cn->cn_state == CN_READY && cn->cn_nexpect > 0 &&
	    fkc_lowat(&cn->cn_fkc) > 1;
}

static void
hold_fired(struct ev_loop *loop, struct ev_timer *t)
{
	const struct wrk_pool *po = &wrk_env->we_pool;
	uint64_t now = ev_now(loop);
	int left = 0;

	for (int i = 0; i < po->po_nopened; i++) {
		struct wrk_conn *cn = &po->po_conns[i];
		if (!raised(cn))
			continue;
		if (now - cn->cn_wait_since >= HOLD_MS)
			(void)fkc_set_lowat(&cn->cn_fkc, 1);
		else
			left = 1;
	}
	if (left)
		ev_timer_start(loop, t, HOLD_MS);
}

void
wrk_lowat_init(void)
{
	ev_timer_init(&hold, hold_fired, NULL);
}

void
wrk_lowat_update(struct wrk_conn *cn)
{
	struct fkc *c = &cn->cn_fkc;

	if (cn->cn_state != CN_READY || cn->cn_nexpect == 0)
		return;
	if (fkc_rpending(c) > 0 || (cn->cn_nexpect == 1 && cn->cn_nfetch == 0)) {
		(void)fkc_set_lowat(c, 1);
		return;
	}
	/* A lone FETCH: a job is more than PAIR_BYTES, so a mark left up costs nothing. */
	if (cn->cn_nexpect >= 2 && fkc_set_lowat(c, PAIR_BYTES) == -1)
		return;
	if (fkc_lowat(c) > 1 && !ev_timer_active(&hold))
		ev_timer_start(wrk_env->we_loop, &hold, HOLD_MS);
}
