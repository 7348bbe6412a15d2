/* SPDX-License-Identifier: MIT */
/*
 * wrk_slot: one job slot of a child: the job it runs and that job's report.
 *
 *   IDLE -> FETCHING -> RUNNING -> IDLE (report queued -> sent -> confirmed)
 *
 * Two lists say what the pump (wrk_fetch.c) may do next: the free list,
 * slots that may be given a FETCH (idle, nothing to report, no delay), and
 * the report queue, slots whose ACK or FAIL waits for a connection. A
 * finished job's report is kept until the server says +OK, and is queued
 * again after a reconnect (the server keys both by jid only). A slot whose
 * report is out fetches only behind it on the same connection, so the +OK
 * always arrives before the next job: one report per slot is ever owed.
 *
 * The child allocates slots for the most it may be given (wc_slots_max) and
 * uses the first we_cap of them; the master moves the cap live. A slot at
 * or above the cap never FETCHes again, but a job it holds (or a FETCH it
 * has out, which may still bring one) runs and is reported as usual: a
 * lower cap retires slots as their jobs finish, never by cancelling one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "wrk_int.h"

#define NOHANDLER_BASE_MS	1000
#define NOHANDLER_MAX_MS	30000
#define REFUSED_RETRY_MS	1000

static void slot_timer(struct ev_loop *, struct ev_timer *);

/* ---- the two lists ---- */

static int
may_fetch(const struct wrk_slot *s)
{
	return s->sl_index < wrk_env->we_cap && s->sl_state == SL_IDLE &&
	    s->sl_report_state == RP_NONE && !ev_timer_active(&s->sl_timer);
}

/* Puts the slot on the list its state asks for, if it is on none. */
static void
relist(struct wrk_slot *s)
{
	struct wrk_env *e = wrk_env;

	if (s->sl_listed)
		return;
	if (s->sl_report_state == RP_QUEUED) {
		s->sl_next = NULL;
		if (e->we_reports_tail != NULL)
			e->we_reports_tail->sl_next = s;
		else
			e->we_reports = s;
		e->we_reports_tail = s;
		e->we_nreports++;
	} else if (may_fetch(s)) {
		s->sl_next = e->we_free;
		e->we_free = s;
		e->we_nfree++;
	} else {
		return;
	}
	s->sl_listed = 1;
}

struct wrk_slot *
wrk_slot_take_free(void)
{
	struct wrk_slot *s;

	/* A slot on the list may have changed since (a report queued first). */
	while ((s = wrk_env->we_free) != NULL) {
		wrk_env->we_free = s->sl_next;
		wrk_env->we_nfree--;
		s->sl_listed = 0;
		if (may_fetch(s))
			return s;
		relist(s);
	}
	return NULL;
}

struct wrk_slot *
wrk_slot_take_report(void)
{
	struct wrk_slot *s = wrk_env->we_reports;

	if (s == NULL)
		return NULL;
	wrk_env->we_reports = s->sl_next;
	if (wrk_env->we_reports == NULL)
		wrk_env->we_reports_tail = NULL;
	wrk_env->we_nreports--;
	s->sl_listed = 0;
	FKW_ASSERT(s->sl_report_state == RP_QUEUED);
	return s;
}

void
wrk_slot_requeue_report(struct wrk_slot *s)
{
	FKW_ASSERT(!s->sl_listed && s->sl_report_state == RP_QUEUED);
	s->sl_next = wrk_env->we_reports;
	wrk_env->we_reports = s;
	if (wrk_env->we_reports_tail == NULL)
		wrk_env->we_reports_tail = s;
	wrk_env->we_nreports++;
	s->sl_listed = 1;
}

/* ---- life of a slot ---- */

void
wrk_slot_init(struct wrk_slot *s, int index)
{
	memset(s, 0, sizeof(*s));
	s->sl_index = index;
	s->sl_state = SL_IDLE;
	s->sl_job.jb_slot = s;
	s->sl_job.jb_inflight = -1;
	s->sl_cnt_jt = s->sl_cnt_fe = -1;
	buf_init(&s->sl_report);
	buf_init(&s->sl_raw);
	ev_timer_init(&s->sl_timer, slot_timer, s);
	ev_timer_init(&s->sl_job.jb_timer, NULL, &s->sl_job);
	ev_timer_init(&s->sl_job.jb_deadline, NULL, &s->sl_job);
	relist(s);
}

static void
report_confirmed(struct wrk_slot *s)
{
	s->sl_report_state = RP_NONE;
	wrk_stats_report_confirmed(s);
	buf_reset(&s->sl_report);
	relist(s);
}

void
wrk_slot_on_report(struct wrk_slot *s, const struct fkp_reply *r)
{
	if (r->r_type == FKP_R_ERROR) {
		/*
		 * FAIL of a job the server no longer holds (expired, already
		 * reported) is "Job not found": nothing left to deliver. Any
		 * other error will not change on a resend either.
		 */
		if (!(r->r_msg_len >= 13 && strncasecmp(r->r_msg, "job not found", 13) == 0)) {
			log_warnx("slot %d: server refused a report: %.*s", s->sl_index,
			    (int)(r->r_len > 300 ? 300 : r->r_len), r->r_data);
			wrk_count_refused(s);
		}
		wrk_env->we_stats.sc_errors++;
	}
	report_confirmed(s);
}

void
wrk_slot_on_fetch(struct wrk_slot *s, const struct fkp_reply *r)
{
	FKW_ASSERT(s->sl_state == SL_FETCHING);
	switch (r->r_type) {
	case FKP_R_BULK:
		/* A FETCH goes out behind its slot's report only, whose +OK came first. */
		FKW_ASSERT(s->sl_report_state == RP_NONE);
		s->sl_state = SL_RUNNING;
		wrk_job_start(s, r->r_data, r->r_len);
		return;
	case FKP_R_TOO_LARGE:
		FKW_ASSERT(s->sl_report_state == RP_NONE);
		s->sl_state = SL_RUNNING;
		wrk_job_too_large(s, r->r_data, r->r_len, (size_t)r->r_int);
		return;
	case FKP_R_NULL:
		/* The server waited ~2 s; the window decides about the next FETCH. */
		s->sl_state = SL_IDLE;
		relist(s);
		return;
	default:
		log_warnx("slot %d: FETCH refused: %.*s", s->sl_index,
		    (int)(r->r_len > 300 ? 300 : r->r_len), r->r_data);
		wrk_env->we_stats.sc_errors++;
		s->sl_state = SL_IDLE;
		ev_timer_start(wrk_env->we_loop, &s->sl_timer, REFUSED_RETRY_MS);
		return;
	}
}

void
wrk_slot_conn_lost(struct wrk_slot *s, int was_fetch)
{
	if (was_fetch && s->sl_state == SL_FETCHING)
		s->sl_state = SL_IDLE;
	if (!was_fetch && s->sl_report_state == RP_SENT)
		s->sl_report_state = RP_QUEUED;
	relist(s);
}

static void
slot_timer(struct ev_loop *loop, struct ev_timer *t)
{
	struct wrk_slot *s = t->tm_arg;

	FKW_UNUSED(loop);
	/* A delayed refetch (after an unknown jobtype or a refused FETCH). */
	relist(s);
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
	s->sl_state = SL_IDLE;
	relist(s);
	wrk_main_slot_changed();
}

void
wrk_slot_resume(struct wrk_slot *s)
{
	s->sl_state = SL_IDLE;
	relist(s);
	wrk_main_slot_changed();
}

void
wrk_slot_set_cap(int cap)
{
	struct wrk_env *e = wrk_env;
	struct wrk_slot **pp = &e->we_free;
	int old = e->we_cap;

	FKW_ASSERT(cap >= 1 && cap <= e->we_nslots);
	e->we_cap = cap;
	if (cap < old) {
		/* Retired slots leave the free list now: the FETCH window counts it. */
		while (*pp != NULL) {
			struct wrk_slot *s = *pp;
			if (s->sl_index >= cap) {
				*pp = s->sl_next;
				s->sl_listed = 0;
				e->we_nfree--;
			} else {
				pp = &s->sl_next;
			}
		}
		return;
	}
	/* Backwards, so the lowest new slot is handed out first. */
	for (int i = cap - 1; i >= old; i--)
		relist(&e->we_slots[i]);
}

int
wrk_slot_retiring(void)
{
	int n = 0;

	for (int i = wrk_env->we_cap; i < wrk_env->we_nslots; i++)
		n += !wrk_slot_is_idle(&wrk_env->we_slots[i], 1);
	return n;
}

void
wrk_slot_quiet(struct wrk_slot *s)
{
	/* No refetch is coming: a pending delay would only hold the slot. */
	if (ev_timer_active(&s->sl_timer)) {
		ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
		relist(s);
	}
}

int
wrk_slot_is_idle(const struct wrk_slot *s, int count_fetch)
{
	if (count_fetch && s->sl_state == SL_FETCHING)
		return 0;
	return s->sl_state != SL_RUNNING && s->sl_job.jb_state != WRK_JOB_RUNNING &&
	    s->sl_report_state == RP_NONE;
}

void
wrk_slot_free(struct wrk_slot *s)
{
	ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
	wrk_job_clear(&s->sl_job);
	buf_free(&s->sl_report);
	buf_free(&s->sl_raw);
}
