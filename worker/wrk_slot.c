/* SPDX-License-Identifier: MIT */
/*
 * wrk_slot: one Faktory connection of a child and the job it runs.
 *
 *   DOWN -> CONNECTING -> FETCHING -> RUNNING -> (ACK|FAIL + FETCH) -> FETCHING ...
 *   any error -> BACKOFF -> CONNECTING;  quiet -> IDLE
 *
 * A finished job's ACK or FAIL is kept until the server says +OK, and is
 * written again after a reconnect (the server keys both by jid only).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "wrk_int.h"

#define BACKOFF_BASE_MS		250
#define NOHANDLER_BASE_MS	1000
#define NOHANDLER_MAX_MS	30000

static void slot_ready(struct fkc *);
static void slot_reply(struct fkc *, const struct fkp_reply *);
static void slot_closed(struct fkc *, enum fkc_close, const char *);
static void slot_timer(struct ev_loop *, struct ev_timer *);

static const struct fkc_ops slot_ops = {
	.on_ready = slot_ready,
	.on_reply = slot_reply,
	.on_close = slot_closed,
};

void
wrk_slot_init(struct wrk_slot *s, int index)
{
	memset(s, 0, sizeof(*s));
	s->sl_index = index;
	s->sl_state = SL_DOWN;
	s->sl_job.jb_slot = s;
	s->sl_job.jb_inflight = -1;
	buf_init(&s->sl_report);
	buf_init(&s->sl_raw);
	fkc_init(&s->sl_conn, wrk_env->we_loop, &wrk_env->we_params, &slot_ops, s);
	ev_timer_init(&s->sl_timer, slot_timer, s);
	ev_timer_init(&s->sl_job.jb_timer, NULL, &s->sl_job);
	ev_timer_init(&s->sl_job.jb_deadline, NULL, &s->sl_job);
}

static void
set_state(struct wrk_slot *s, enum wrk_sl_state st)
{
	int was_conn = s->sl_state >= SL_FETCHING;
	int is_conn = st >= SL_FETCHING;

	if (was_conn != is_conn)
		wrk_env->we_nconnected += is_conn ? 1 : -1;
	s->sl_state = st;
}

static void
expect_push(struct wrk_slot *s, enum wrk_expect e)
{
	FKW_ASSERT(s->sl_nexpect < WRK_EXPECT_MAX);
	if (s->sl_nexpect == 0)
		s->sl_wait_since = ev_now(wrk_env->we_loop);
	s->sl_expect[s->sl_nexpect++] = (unsigned char)e;
}

static enum wrk_expect
expect_pop(struct wrk_slot *s)
{
	enum wrk_expect e;

	if (s->sl_nexpect == 0)
		return 0;
	e = s->sl_expect[0];
	memmove(s->sl_expect, s->sl_expect + 1, (size_t)--s->sl_nexpect);
	s->sl_wait_since = ev_now(wrk_env->we_loop);
	return e;
}

static int
expecting(const struct wrk_slot *s, enum wrk_expect e)
{
	for (int i = 0; i < s->sl_nexpect; i++)
		if (s->sl_expect[i] == e)
			return 1;
	return 0;
}

void
wrk_slot_open(struct wrk_slot *s)
{
	if (s->sl_state != SL_DOWN && s->sl_state != SL_BACKOFF)
		return;
	ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
	set_state(s, SL_CONNECTING);
	fkc_connect(&s->sl_conn);
}

/* Appends the FETCH line: fixed order encoded once, weighted order drawn per FETCH. */
static int
append_fetch(struct wrk_slot *s)
{
	const struct fkw_conf *cf = wrk_env->we_conf;
	struct buf *w = fkc_wbuf(&s->sl_conn);

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
 * Decides what the slot asks for next, given that nothing is running:
 * resend an unconfirmed report, then FETCH if the child still fetches.
 */
static void
slot_next(struct wrk_slot *s)
{
	int pipeline = wrk_env->we_conf->cf_pipelining;

	if (!fkc_is_ready(&s->sl_conn))
		return;
	if (s->sl_report_state == RP_QUEUED) {
		if (buf_append(fkc_wbuf(&s->sl_conn), buf_rptr(&s->sl_report),
		    buf_rlen(&s->sl_report)) == -1)
			goto nomem;
		s->sl_report_state = RP_SENT;
		expect_push(s, EXP_REPORT);
		if (!pipeline) {
			set_state(s, SL_IDLE);
			fkc_flush(&s->sl_conn);
			return;
		}
	}
	if (s->sl_report_state == RP_SENT && !pipeline) {
		set_state(s, SL_IDLE);
		return;
	}
	if (!expecting(s, EXP_FETCH) && wrk_main_may_fetch() &&
	    !ev_timer_active(&s->sl_timer)) {
		if (append_fetch(s) == -1)
			goto nomem;
		expect_push(s, EXP_FETCH);
	}
	set_state(s, expecting(s, EXP_FETCH) ? SL_FETCHING : SL_IDLE);
	fkc_flush(&s->sl_conn);
	return;
nomem:
	log_warnx("slot %d: out of memory writing a command", s->sl_index);
	fkc_close(&s->sl_conn, 0);
	set_state(s, SL_BACKOFF);
	ev_timer_start(wrk_env->we_loop, &s->sl_timer, 1000);
}

static void
slot_ready(struct fkc *c)
{
	struct wrk_slot *s = c->fc_arg;

	s->sl_fails = 0;
	s->sl_nexpect = 0;
	set_state(s, s->sl_job.jb_state == WRK_JOB_RUNNING ? SL_RUNNING : SL_IDLE);
	if (s->sl_report_state == RP_SENT)
		s->sl_report_state = RP_QUEUED;
	if (s->sl_job.jb_state != WRK_JOB_RUNNING)
		slot_next(s);
	else if (s->sl_report_state == RP_QUEUED)
		slot_next(s);
	/* After set_state: the READY this may send must count this slot as connected. */
	if (!s->sl_was_ready) {
		s->sl_was_ready = 1;
		wrk_main_slot_ready(s);
	}
}

static void
report_confirmed(struct wrk_slot *s)
{
	s->sl_report_state = RP_NONE;
	wrk_stats_report_confirmed(s);
	buf_reset(&s->sl_report);
}

static void
on_report_reply(struct wrk_slot *s, const struct fkp_reply *r)
{
	if (r->r_type == FKP_R_ERROR) {
		/*
		 * FAIL of a job the server no longer holds (expired, already
		 * reported) is "Job not found": nothing left to deliver. Any
		 * other error will not change on a resend either.
		 */
		if (!(r->r_msg_len >= 13 && strncasecmp(r->r_msg, "job not found", 13) == 0))
			log_warnx("slot %d: server refused a report: %.*s", s->sl_index,
			    (int)(r->r_len > 300 ? 300 : r->r_len), r->r_data);
		wrk_env->we_stats.sc_errors++;
	}
	report_confirmed(s);
	if (s->sl_job.jb_state != WRK_JOB_RUNNING && !expecting(s, EXP_FETCH))
		slot_next(s);
	wrk_main_slot_changed();
}

static void
on_fetch_reply(struct wrk_slot *s, const struct fkp_reply *r)
{
	switch (r->r_type) {
	case FKP_R_BULK:
		set_state(s, SL_RUNNING);
		wrk_job_start(s, r->r_data, r->r_len);
		return;
	case FKP_R_NULL:
		/* The server waited ~2 s; asking again at once is the expected pace. */
		slot_next(s);
		wrk_main_slot_changed();
		return;
	default:
		log_warnx("slot %d: FETCH refused: %.*s", s->sl_index,
		    (int)(r->r_len > 300 ? 300 : r->r_len), r->r_data);
		wrk_env->we_stats.sc_errors++;
		set_state(s, SL_IDLE);
		ev_timer_start(wrk_env->we_loop, &s->sl_timer, 1000);
		wrk_main_slot_changed();
		return;
	}
}

static void
slot_reply(struct fkc *c, const struct fkp_reply *r)
{
	struct wrk_slot *s = c->fc_arg;

	switch (expect_pop(s)) {
	case EXP_REPORT:
		on_report_reply(s, r);
		return;
	case EXP_FETCH:
		on_fetch_reply(s, r);
		return;
	default:
		log_warnx("slot %d: unexpected reply from the server: %.*s", s->sl_index,
		    (int)(r->r_len > 100 ? 100 : r->r_len), r->r_data);
		fkc_close(c, 0);
		slot_closed(c, FKC_CLOSE_ERROR, "unexpected reply");
		return;
	}
}

static uint64_t
backoff_ms(struct wrk_slot *s)
{
	uint64_t cap = (uint64_t)wrk_env->we_conf->cf_reconnect_max;
	uint64_t d = BACKOFF_BASE_MS;

	for (int i = 0; i < s->sl_fails && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Full jitter in the upper half keeps thousands of slots from reconnecting in step. */
	return d / 2 + fkw_rand_below((uint32_t)(d / 2 + 1));
}

static void
slot_closed(struct fkc *c, enum fkc_close why, const char *msg)
{
	struct wrk_slot *s = c->fc_arg;
	uint64_t d;

	s->sl_nexpect = 0;
	if (s->sl_report_state == RP_SENT)
		s->sl_report_state = RP_QUEUED;
	if (why == FKC_CLOSE_FATAL) {
		set_state(s, SL_DOWN);
		wrk_main_fatal(msg);
		return;
	}
	wrk_env->we_stats.sc_reconnects++;
	d = backoff_ms(s);
	s->sl_fails++;
	log_debug("slot %d: %s; reconnecting in %llu ms", s->sl_index, msg,
	    (unsigned long long)d);
	wrk_main_note_disconnect(msg);
	set_state(s, SL_BACKOFF);
	ev_timer_start(wrk_env->we_loop, &s->sl_timer, d);
	wrk_main_slot_changed();
}

static void
slot_timer(struct ev_loop *loop, struct ev_timer *t)
{
	struct wrk_slot *s = t->tm_arg;

	FKW_UNUSED(loop);
	if (s->sl_state == SL_BACKOFF) {
		wrk_slot_open(s);
		return;
	}
	/* A delayed refetch (after an unknown jobtype or a refused FETCH). */
	if (s->sl_state == SL_IDLE && s->sl_job.jb_state != WRK_JOB_RUNNING)
		slot_next(s);
	wrk_main_slot_changed();
}

void
wrk_slot_job_done(struct wrk_slot *s)
{
	struct wrk_job *j = &s->sl_job;

	s->sl_report_state = RP_QUEUED;
	if (j->jb_conf == NULL && s->sl_report_ok == 0 && s->sl_nohandler > 0) {
		/* Unknown jobtype: do not spin through a queue we cannot serve. */
		uint64_t d = NOHANDLER_BASE_MS;
		for (int i = 1; i < s->sl_nohandler && d < NOHANDLER_MAX_MS; i++)
			d *= 2;
		ev_timer_start(wrk_env->we_loop, &s->sl_timer,
		    d > NOHANDLER_MAX_MS ? NOHANDLER_MAX_MS : d);
	}
	if (fkc_is_ready(&s->sl_conn)) {
		set_state(s, SL_IDLE);
		slot_next(s);
	}
	wrk_main_slot_changed();
}

void
wrk_slot_check_overdue(struct wrk_slot *s, uint64_t now, uint64_t limit_ms)
{
	char msg[80];

	if (s->sl_nexpect == 0 || now - s->sl_wait_since < limit_ms)
		return;
	snprintf(msg, sizeof(msg), "no reply from the server within %llu ms",
	    (unsigned long long)limit_ms);
	fkc_close(&s->sl_conn, 0);
	slot_closed(&s->sl_conn, FKC_CLOSE_ERROR, msg);
}

void
wrk_slot_resume(struct wrk_slot *s)
{
	set_state(s, SL_IDLE);
	slot_next(s);
	wrk_main_slot_changed();
}

void
wrk_slot_quiet(struct wrk_slot *s)
{
	/* Nothing to do now: slot_next consults wrk_main_may_fetch before every FETCH. */
	if (s->sl_state == SL_IDLE && ev_timer_active(&s->sl_timer))
		ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
}

int
wrk_slot_is_idle(const struct wrk_slot *s)
{
	return s->sl_job.jb_state != WRK_JOB_RUNNING &&
	    s->sl_report_state == RP_NONE && s->sl_nexpect == 0;
}

void
wrk_slot_shutdown(struct wrk_slot *s)
{
	ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
	fkc_close(&s->sl_conn, 1);
	set_state(s, SL_DOWN);
}

void
wrk_slot_free(struct wrk_slot *s)
{
	wrk_slot_shutdown(s);
	wrk_job_clear(&s->sl_job);
	fkc_free(&s->sl_conn);
	buf_free(&s->sl_report);
	buf_free(&s->sl_raw);
}
