/* SPDX-License-Identifier: MIT */
/*
 * wrk_conn: one Faktory connection of a child and the job slots it carries.
 *
 *   DOWN -> CONNECTING -> READY;  any error -> BACKOFF -> CONNECTING
 *
 * The server answers a connection's lines strictly in order, so the slots'
 * FETCHes share it as one pipeline: a FIFO says which slot each reply
 * belongs to, and every command the slots have ready goes out in one write.
 * A FETCH on an empty queue holds up the lines behind it for ~2 s, so a
 * report (ACK/FAIL) is never written behind a FETCH: it goes on its own
 * slot's connection when that has no FETCH outstanding (always the case
 * with one slot per connection), else on the child's report connection,
 * which never FETCHes and carries many slots' reports in one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wrk_int.h"

#define BACKOFF_BASE_MS	250
/* A FETCH answered later than this waited for a job: the queues had run dry. */
#define SLOW_FETCH_MS	500

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
wrk_conn_init(struct wrk_conn *cn, int index, struct wrk_slot *slots, int n, int cap)
{
	memset(cn, 0, sizeof(*cn));
	cn->cn_index = index;
	cn->cn_state = CN_DOWN;
	cn->cn_slots = slots;
	cn->cn_nslots = n;
	cn->cn_cap = cap;
	if ((cn->cn_expect = calloc((size_t)cn->cn_cap, sizeof(*cn->cn_expect))) == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		slots[i].sl_conn = cn;
	fkc_init(&cn->cn_fkc, wrk_env->we_loop, &wrk_env->we_params, &conn_ops, cn);
	ev_timer_init(&cn->cn_timer, conn_timer, cn);
	return 0;
}

static void
set_state(struct wrk_conn *cn, enum wrk_cn_state st)
{
	if ((cn->cn_state == CN_READY) != (st == CN_READY))
		wrk_env->we_nconnected += st == CN_READY ? cn->cn_nslots : -cn->cn_nslots;
	cn->cn_state = st;
}

static void
expect_push(struct wrk_conn *cn, enum wrk_expect e, struct wrk_slot *s)
{
	struct wrk_pending *pd;
	uint64_t now = ev_now(wrk_env->we_loop);

	FKW_ASSERT(cn->cn_nexpect < cn->cn_cap);
	if (cn->cn_nexpect == 0)
		cn->cn_wait_since = now;
	pd = &cn->cn_expect[(cn->cn_head + cn->cn_nexpect++) % cn->cn_cap];
	pd->pd_slot = s;
	pd->pd_sent = now;
	pd->pd_kind = (unsigned char)e;
	if (e == EXP_FETCH)
		cn->cn_nfetch++;
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
	return 1;
}

void
wrk_conn_open(struct wrk_conn *cn)
{
	if (cn->cn_state != CN_DOWN && cn->cn_state != CN_BACKOFF)
		return;
	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	set_state(cn, CN_CONNECTING);
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
 * one write carries every reply's follow-up and every report of the batch.
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

void
wrk_conn_flush_dirty(struct ev_loop *loop, void *arg)
{
	struct wrk_conn *cn;

	FKW_UNUSED(loop);
	FKW_UNUSED(arg);
	while ((cn = wrk_env->we_dirty) != NULL) {
		wrk_env->we_dirty = cn->cn_next_dirty;
		cn->cn_dirty = 0;
		if (cn->cn_state == CN_READY)
			fkc_flush(&cn->cn_fkc);
	}
}

/*
 * Reports first, so none waits behind a FETCH this pump adds. Behind an
 * older FETCH none waits either: with FETCHes outstanding here a report goes
 * on the report connection, or, while that one is down, stays queued until
 * it is back or this connection's FETCHes are answered.
 */
static int
pump_reports(struct wrk_conn *cn)
{
	struct wrk_conn *to = cn, *rc = wrk_env->we_report;

	if (cn->cn_nfetch > 0) {
		if (rc == NULL || rc->cn_state != CN_READY || !fkc_is_ready(&rc->cn_fkc))
			return 0;
		to = rc;
	}
	for (int i = 0; i < cn->cn_nslots; i++) {
		struct wrk_slot *s = &cn->cn_slots[i];
		if (s->sl_report_state != RP_QUEUED)
			continue;
		if (buf_append(fkc_wbuf(&to->cn_fkc), buf_rptr(&s->sl_report),
		    buf_rlen(&s->sl_report)) == -1)
			return -1;
		s->sl_report_state = RP_SENT;
		s->sl_report_via = to;
		expect_push(to, EXP_REPORT, s);
	}
	if (to != cn)
		mark_dirty(to);
	return 0;
}

/*
 * The window rule: while the queues have jobs, every idle slot FETCHes (the
 * replies come back at once). Once they look empty (cn_drained), FETCHes
 * block ~2 s each, one after the other, so one outstanding is enough: it
 * keeps the connection listening without stacking up waits a quiet or a
 * stop would have to sit through.
 */
static int
pump_fetches(struct wrk_conn *cn)
{
	if (!wrk_main_may_fetch())
		return 0;
	for (int i = 0; i < cn->cn_nslots; i++) {
		struct wrk_slot *s = &cn->cn_slots[i];
		if (!wrk_slot_wants_fetch(s))
			continue;
		if (cn->cn_drained && cn->cn_nfetch > 0)
			break;
		if (append_fetch(cn) == -1)
			return -1;
		expect_push(cn, EXP_FETCH, s);
		s->sl_state = SL_FETCHING;
	}
	return 0;
}

void
wrk_conn_pump(struct wrk_conn *cn)
{
	if (cn->cn_state != CN_READY || !fkc_is_ready(&cn->cn_fkc))
		return;
	if (pump_reports(cn) == -1 || pump_fetches(cn) == -1) {
		log_warnx("connection %d: out of memory writing a command", cn->cn_index);
		fkc_close(&cn->cn_fkc, 0);
		conn_closed(&cn->cn_fkc, FKC_CLOSE_ERROR, "out of memory");
		return;
	}
	mark_dirty(cn);
}

/* The report connection came or went: the other connections' queued reports move. */
static void
pump_others(struct wrk_conn *cn)
{
	for (int i = 0; i < wrk_env->we_nconns; i++)
		if (&wrk_env->we_conns[i] != cn)
			wrk_conn_pump(&wrk_env->we_conns[i]);
}

static void
conn_ready(struct fkc *c)
{
	struct wrk_conn *cn = c->fc_arg;

	/* Every close went through forget_pending: nothing is owed from before. */
	FKW_ASSERT(cn->cn_nexpect == 0 && cn->cn_nfetch == 0);
	cn->cn_fails = 0;
	/* Nothing known about the queues yet: one FETCH finds out. */
	cn->cn_drained = 1;
	set_state(cn, CN_READY);
	wrk_conn_pump(cn);
	if (cn == wrk_env->we_report)
		pump_others(cn);
	/* After set_state: the READY this may send must count these slots as connected. */
	if (!cn->cn_was_ready) {
		cn->cn_was_ready = 1;
		wrk_main_conn_ready(cn->cn_nslots);
	}
}

static void
conn_reply(struct fkc *c, const struct fkp_reply *r)
{
	struct wrk_conn *cn = c->fc_arg;
	struct wrk_pending pd;

	if (!expect_pop(cn, &pd)) {
		log_warnx("connection %d: unexpected reply from the server: %.*s",
		    cn->cn_index, (int)(r->r_len > 100 ? 100 : r->r_len), r->r_data);
		fkc_close(c, 0);
		conn_closed(c, FKC_CLOSE_ERROR, "unexpected reply");
		return;
	}
	if (pd.pd_kind == EXP_REPORT) {
		wrk_slot_on_report(pd.pd_slot, r);
		/*
		 * A report on the report connection holds its slot's next FETCH
		 * until this +OK (so is every report without pipelining).
		 */
		if (pd.pd_slot->sl_conn != cn)
			wrk_conn_pump(pd.pd_slot->sl_conn);
	} else {
		if (r->r_type == FKP_R_NULL)
			cn->cn_drained = 1;
		else if (r->r_type == FKP_R_BULK)
			cn->cn_drained = ev_now(wrk_env->we_loop) - pd.pd_sent > SLOW_FETCH_MS;
		wrk_slot_on_fetch(pd.pd_slot, r);
	}
	wrk_conn_pump(cn);
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
	/* Full jitter in the upper half keeps thousands of connections from reconnecting in step. */
	return d / 2 + fkw_rand_below((uint32_t)(d / 2 + 1));
}

/*
 * The replies that will never come: their FETCHes are forgotten, their
 * reports written again (elsewhere when this was the report connection).
 */
static void
forget_pending(struct wrk_conn *cn)
{
	struct wrk_pending pd;
	int others = 0;

	while (expect_pop(cn, &pd)) {
		wrk_slot_conn_lost(pd.pd_slot, pd.pd_kind == EXP_FETCH);
		others |= pd.pd_slot->sl_conn != cn;
	}
	cn->cn_head = 0;
	if (others)
		pump_others(cn);
}

static void
conn_closed(struct fkc *c, enum fkc_close why, const char *msg)
{
	struct wrk_conn *cn = c->fc_arg;
	uint64_t d;

	/* First: the pumps forget_pending runs must not pick this connection. */
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
	wrk_main_note_disconnect(msg);
	ev_timer_start(wrk_env->we_loop, &cn->cn_timer, d);
	wrk_main_slot_changed();
}

static void
conn_timer(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	wrk_conn_open(t->tm_arg);
}

void
wrk_conn_check_overdue(struct wrk_conn *cn, uint64_t now, uint64_t limit_ms)
{
	char msg[80];

	if (cn->cn_nexpect == 0 || now - cn->cn_wait_since < limit_ms)
		return;
	snprintf(msg, sizeof(msg), "no reply from the server within %llu ms",
	    (unsigned long long)limit_ms);
	fkc_close(&cn->cn_fkc, 0);
	conn_closed(&cn->cn_fkc, FKC_CLOSE_ERROR, msg);
}

void
wrk_conn_shutdown(struct wrk_conn *cn)
{
	ev_timer_stop(wrk_env->we_loop, &cn->cn_timer);
	fkc_close(&cn->cn_fkc, 1);
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
