/* SPDX-License-Identifier: MIT */
/*
 * wrk_conn: one Faktory connection of a child.
 *
 *   DOWN -> CONNECTING -> READY;  any error -> BACKOFF -> CONNECTING
 *
 * The server serves a connection one command at a time and answers in
 * order, so a FIFO says whose reply comes next. What goes on which
 * connection is decided elsewhere (wrk_fetch.c, through wrk_pool.c): this
 * file appends commands, writes each connection once per loop iteration,
 * and hands every reply to the slot it belongs to. When a connection is
 * lost, its FETCHes are forgotten (the window learns of it) and its
 * unconfirmed reports are queued again, to go out on another connection.
 *
 * A READY connection is on probation until it carries a reply or HOLD_MS
 * pass: a server past its connection cap finishes the handshake (+OK) and
 * then refuses (-ERR too many connections, docs 2.3). Only a held
 * connection resets the backoff and counts towards the child's READY, so a
 * refused handshake backs off like a refused connect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wrk_int.h"

#define BACKOFF_BASE_MS	250
#define HOLD_MS		500

static void conn_ready(struct fkc *);
static void conn_reply(struct fkc *, const struct fkp_reply *);
static void conn_closed(struct fkc *, enum fkc_close, const char *);
static void conn_timer(struct ev_loop *, struct ev_timer *);

static const struct fkc_ops conn_ops = {
	.on_ready = conn_ready,
	.on_reply = conn_reply,
	.on_close = conn_closed,
};

int
wrk_conn_init(struct wrk_conn *cn, int index)
{
	memset(cn, 0, sizeof(*cn));
	cn->cn_index = index;
	cn->cn_state = CN_DOWN;
	/* A FETCH and a few reports; grows when reports pile up. */
	cn->cn_cap = 4;
	if ((cn->cn_expect = calloc((size_t)cn->cn_cap, sizeof(*cn->cn_expect))) == NULL)
		return -1;
	fkc_init(&cn->cn_fkc, wrk_env->we_loop, &wrk_env->we_params, &conn_ops, cn);
	ev_timer_init(&cn->cn_timer, conn_timer, cn);
	return 0;
}

static void
set_state(struct wrk_conn *cn, enum wrk_cn_state st)
{
	struct wrk_pool *po = &wrk_env->we_pool;

	if ((cn->cn_state == CN_READY) != (st == CN_READY))
		po->po_nready += st == CN_READY ? 1 : -1;
	cn->cn_state = st;
	wrk_pool_update(po, cn);
}

/* Doubles the ring of expected replies, oldest first in the new one. */
static int
expect_grow(struct wrk_conn *cn)
{
	int cap = cn->cn_cap * 2;
	struct wrk_pending *v = malloc((size_t)cap * sizeof(*v));

	if (v == NULL)
		return -1;
	for (int i = 0; i < cn->cn_nexpect; i++)
		v[i] = cn->cn_expect[(cn->cn_head + i) % cn->cn_cap];
	free(cn->cn_expect);
	cn->cn_expect = v;
	cn->cn_cap = cap;
	cn->cn_head = 0;
	return 0;
}

static int
expect_push(struct wrk_conn *cn, enum wrk_expect e, struct wrk_slot *s)
{
	struct wrk_pending *pd;

	if (cn->cn_nexpect == cn->cn_cap && expect_grow(cn) == -1)
		return -1;
	if (cn->cn_nexpect == 0)
		cn->cn_wait_since = ev_now(wrk_env->we_loop);
	pd = &cn->cn_expect[(cn->cn_head + cn->cn_nexpect++) % cn->cn_cap];
	pd->pd_slot = s;
	/* Written when this iteration ends: stamped then, not when it began. */
	pd->pd_sent_us = 0;
	pd->pd_kind = (unsigned char)e;
	if (e == EXP_FETCH)
		cn->cn_nfetch++;
	wrk_pool_update(&wrk_env->we_pool, cn);
	return 0;
}

static int
expect_pop(struct wrk_conn *cn, struct wrk_pending *out)
{
	if (cn->cn_nexpect == 0)
		return 0;
	*out = cn->cn_expect[cn->cn_head];
	cn->cn_head = (cn->cn_head + 1) % cn->cn_cap;
	cn->cn_nexpect--;
	cn->cn_wait_since = ev_now(wrk_env->we_loop);
	if (out->pd_kind == EXP_FETCH)
		cn->cn_nfetch--;
	wrk_pool_update(&wrk_env->we_pool, cn);
	return 1;
}

void
wrk_conn_open(struct wrk_conn *cn)
{
	char err[300];

	if (cn->cn_state != CN_DOWN && cn->cn_state != CN_BACKOFF)
		return;
	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	set_state(cn, CN_CONNECTING);
	/* Every reconnect asks the resolver again, so a DNS failover is followed. */
	if (wrk_pool_resolve(&wrk_env->we_pool, ev_now(wrk_env->we_loop), err,
	    sizeof(err)) == -1) {
		conn_closed(&cn->cn_fkc, FKC_CLOSE_ERROR, err);
		return;
	}
	fkc_connect(&cn->cn_fkc);
}

/* Appends the FETCH line: fixed order encoded once, weighted order drawn per FETCH. */
static int
append_fetch(struct wrk_conn *cn)
{
	const struct fkw_conf *cf = wrk_env->we_conf;
	struct buf *w = fkc_wbuf(&cn->cn_fkc);

	if (!cf->cf_weighted)
		return buf_append(w, buf_rptr(&wrk_env->we_fetch_line),
		    buf_rlen(&wrk_env->we_fetch_line));
	/*
	 * As FWG does: every queue listed, the first one drawn with probability
	 * proportional to its weight, then the next among the rest, and so on.
	 */
	const char *order[64];
	int left[64], n = cf->cf_nqueues, total = 0;

	for (int i = 0; i < n; i++) {
		left[i] = i;
		total += cf->cf_queues[i].q_weight;
	}
	for (int k = 0; k < n; k++) {
		uint32_t r = fkw_rand_below((uint32_t)total);
		int j = k;
		for (; j < n - 1; j++) {
			int w8 = cf->cf_queues[left[j]].q_weight;
			if (r < (uint32_t)w8)
				break;
			r -= (uint32_t)w8;
		}
		int pick = left[j];
		left[j] = left[k];
		left[k] = pick;
		order[k] = cf->cf_queues[pick].q_name;
		total -= cf->cf_queues[pick].q_weight;
		if (total <= 0)
			total = 1;
	}
	return fkp_enc_fetch(w, order, n);
}

/*
 * Commands queued while the iteration runs are written once at its end, so
 * one write carries a report and the FETCH that follows it.
 */
static void
mark_dirty(struct wrk_conn *cn)
{
	if (cn->cn_dirty)
		return;
	cn->cn_dirty = 1;
	cn->cn_next_dirty = wrk_env->we_dirty;
	wrk_env->we_dirty = cn;
}

int
wrk_conn_send_report(struct wrk_conn *cn, struct wrk_slot *s)
{
	struct buf *w = fkc_wbuf(&cn->cn_fkc);
	size_t mark = buf_rlen(w);

	FKW_ASSERT(cn->cn_state == CN_READY && cn->cn_nfetch == 0);
	if (buf_append(w, buf_rptr(&s->sl_report), buf_rlen(&s->sl_report)) == -1)
		return -1;
	if (expect_push(cn, EXP_REPORT, s) == -1) {
		w->b_len -= buf_rlen(w) - mark;
		return -1;
	}
	s->sl_report_state = RP_SENT;
	s->sl_report_via = cn;
	mark_dirty(cn);
	return 0;
}

int
wrk_conn_send_fetch(struct wrk_conn *cn, struct wrk_slot *s)
{
	struct buf *w = fkc_wbuf(&cn->cn_fkc);
	size_t mark = buf_rlen(w);

	FKW_ASSERT(cn->cn_state == CN_READY && cn->cn_nfetch == 0);
	if (append_fetch(cn) == -1)
		return -1;
	if (expect_push(cn, EXP_FETCH, s) == -1) {
		w->b_len -= buf_rlen(w) - mark;
		return -1;
	}
	s->sl_state = SL_FETCHING;
	wrk_env->we_win.fw_out++;
	wrk_env->we_stats.sc_fetches++;
	mark_dirty(cn);
	return 0;
}

/* Stamps the commands this write carries, for their round trips. */
static void
stamp_sent(struct wrk_conn *cn, uint64_t now)
{
	for (int i = cn->cn_nexpect - 1; i >= 0; i--) {
		struct wrk_pending *pd = &cn->cn_expect[(cn->cn_head + i) % cn->cn_cap];
		if (pd->pd_sent_us != 0)
			break;
		pd->pd_sent_us = now;
	}
}

void
wrk_conn_flush_dirty(void)
{
	struct wrk_conn *cn;
	uint64_t now = now_us();

	while ((cn = wrk_env->we_dirty) != NULL) {
		wrk_env->we_dirty = cn->cn_next_dirty;
		cn->cn_dirty = 0;
		if (cn->cn_state != CN_READY)
			continue;
		stamp_sent(cn, now);
		fkc_flush(&cn->cn_fkc);
		wrk_lowat_update(cn);
	}
}

/* Past probation: the server keeps this connection. */
static void
conn_hold(struct wrk_conn *cn)
{
	struct wrk_pool *po = &wrk_env->we_pool;

	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	cn->cn_held = 1;
	cn->cn_fails = 0;
	po->po_nheld++;
	if (!cn->cn_was_held) {
		cn->cn_was_held = 1;
		wrk_main_conn_ready();
	}
	wrk_outage_held(po->po_nheld, po->po_n, ev_now(wrk_env->we_loop));
}

static void
conn_unhold(struct wrk_conn *cn)
{
	if (cn->cn_held)
		wrk_env->we_pool.po_nheld--;
	cn->cn_held = 0;
}

static void
conn_ready(struct fkc *c)
{
	struct wrk_conn *cn = c->fc_arg;

	/* Every close went through forget_pending: nothing is owed from before. */
	FKW_ASSERT(cn->cn_nexpect == 0 && cn->cn_nfetch == 0);
	set_state(cn, CN_READY);
	ev_timer_start(wrk_env->we_loop, &cn->cn_timer, HOLD_MS);
}

static void
conn_reply(struct fkc *c, const struct fkp_reply *r)
{
	struct wrk_conn *cn = c->fc_arg;
	struct wrk_pending pd;
	uint64_t rtt;

	/* Read while the mark was up: the pump sets it again for what is left (wrk_lowat.c). */
	if (fkc_lowat(c) > 1)
		mark_dirty(cn);
	if (!expect_pop(cn, &pd)) {
		log_warnx("connection %d: unexpected reply from the server: %.*s",
		    cn->cn_index, (int)(r->r_len > 100 ? 100 : r->r_len), r->r_data);
		fkc_close(c, 0);
		conn_closed(c, FKC_CLOSE_ERROR, "unexpected reply");
		return;
	}
	if (!cn->cn_held)
		conn_hold(cn);
	rtt = ev_now_us(wrk_env->we_loop) > pd.pd_sent_us ?
	    ev_now_us(wrk_env->we_loop) - pd.pd_sent_us : 0;
	if (pd.pd_kind == EXP_REPORT) {
		/* One held behind its job reads late: harmless, only the minimum is kept. */
		wrk_fetch_report_rtt(&wrk_env->we_win, rtt);
		wrk_slot_on_report(pd.pd_slot, r);
	} else {
		wrk_fetch_answered(&wrk_env->we_win,
		    r->r_type == FKP_R_BULK || r->r_type == FKP_R_TOO_LARGE, rtt);
		wrk_slot_on_fetch(pd.pd_slot, r);
	}
	wrk_main_slot_changed();
}

static uint64_t
backoff_ms(struct wrk_conn *cn)
{
	uint64_t cap = (uint64_t)wrk_env->we_conf->cf_reconnect_max;
	uint64_t d = BACKOFF_BASE_MS;

	for (int i = 0; i < cn->cn_fails && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Full jitter in the upper half keeps hundreds of connections from reconnecting in step. */
	return d / 2 + fkw_rand_below((uint32_t)(d / 2 + 1));
}

/* The replies that will never come: FETCHes forgotten, reports queued again. */
static void
forget_pending(struct wrk_conn *cn)
{
	struct wrk_pending pd;

	while (expect_pop(cn, &pd)) {
		if (pd.pd_kind == EXP_FETCH)
			wrk_fetch_lost(&wrk_env->we_win);
		wrk_slot_conn_lost(pd.pd_slot, pd.pd_kind == EXP_FETCH);
	}
	cn->cn_head = 0;
}

/*
 * The server's connection cap says its number; what this host asks for is
 * ours to add: the children's connections and the master's heartbeat.
 */
static const char *
explain(const char *msg, char *buf, size_t len)
{
	int want = wrk_env->we_conf->cf_connections;

	if (strstr(msg, "too many connections") == NULL)
		return msg;
	snprintf(buf, len, "%s: the server refuses connections past its cap; this host "
	    "wants %d (worker.connections %d + 1 heartbeat), and its other clients "
	    "count too", msg, want + 1, want);
	return buf;
}

static void
conn_closed(struct fkc *c, enum fkc_close why, const char *msg)
{
	struct wrk_conn *cn = c->fc_arg;
	int was_held = cn->cn_held;
	char buf[320];
	uint64_t d;

	/* First: the slots forget_pending frees must not be sent here. */
	conn_unhold(cn);
	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	set_state(cn, why == FKC_CLOSE_FATAL ? CN_DOWN : CN_BACKOFF);
	forget_pending(cn);
	if (why == FKC_CLOSE_FATAL) {
		wrk_main_fatal(msg);
		return;
	}
	wrk_env->we_stats.sc_reconnects++;
	d = backoff_ms(cn);
	cn->cn_fails++;
	log_debug("connection %d: %s; reconnecting in %llu ms", cn->cn_index, msg,
	    (unsigned long long)d);
	msg = explain(msg, buf, sizeof(buf));
	if (was_held)
		wrk_outage_lost(msg, ev_now(wrk_env->we_loop));
	else
		wrk_outage_failed(msg, ev_now(wrk_env->we_loop));
	ev_timer_start(wrk_env->we_loop, &cn->cn_timer, d);
	wrk_main_slot_changed();
}

/* READY: probation is over; BACKOFF: time to reconnect. */
static void
conn_timer(struct ev_loop *loop, struct ev_timer *t)
{
	struct wrk_conn *cn = t->tm_arg;

	FKW_UNUSED(loop);
	if (cn->cn_state == CN_READY)
		conn_hold(cn);
	else
		wrk_conn_open(cn);
}

void
wrk_conn_check_overdue(struct wrk_conn *cn, uint64_t now, uint64_t limit_ms)
{
	uint64_t since = cn->cn_wait_since;
	char msg[80];

	/* A reply still arriving is no hang: a 64 MiB job may take a while on a busy host. */
	if (cn->cn_fkc.fc_read_at > since)
		since = cn->cn_fkc.fc_read_at;
	if (cn->cn_nexpect == 0 || now - since < limit_ms)
		return;
	snprintf(msg, sizeof(msg), "no reply from the server within %llu s",
	    (unsigned long long)(limit_ms / 1000));
	fkc_close(&cn->cn_fkc, 0);
	conn_closed(&cn->cn_fkc, FKC_CLOSE_ERROR, msg);
}

void
wrk_conn_shutdown(struct wrk_conn *cn)
{
	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	fkc_close(&cn->cn_fkc, 1);
	conn_unhold(cn);
	set_state(cn, CN_DOWN);
}

void
wrk_conn_free(struct wrk_conn *cn)
{
	wrk_conn_shutdown(cn);
	fkc_free(&cn->cn_fkc);
	free(cn->cn_expect);
	cn->cn_expect = NULL;
}
