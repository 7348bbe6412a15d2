/* SPDX-License-Identifier: MIT */
/*
 * wrk_count: this child's exact job counters (common/stats_count.h) and the
 * report state of its in-flight entries. A job counts when the server
 * answers its ACK or FAIL; the entry tells the master, if this child dies,
 * which reports were written and whether each was counted, so the master
 * counts what the server took and nothing twice (sup_beat_fail_inflight).
 */
#include <stdatomic.h>
#include <string.h>

#include "wrk_int.h"

#define JT_UNKNOWN	"*unknown*"	/* a job FAILed before its jobtype was read */

static struct stats_inflight *
entry(const struct wrk_slot *s)
{
	const struct stats_pos *p = &wrk_env->we_ctx->wc_pos;

	if (p->sp_inflight == NULL || (uint32_t)s->sl_index >= p->sp_inflight_cap)
		return NULL;
	return &p->sp_inflight[s->sl_index];
}

/* A string copied into a fixed field, truncated and NUL-terminated. */
static void
copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

static int
jobtype_index(const char *jobtype)
{
	struct stats_count *c = wrk_env->we_ctx->wc_pos.sp_count;

	if (c == NULL)
		return -1;
	return stats_count_jt(c, jobtype != NULL && *jobtype ? jobtype : JT_UNKNOWN);
}

void
wrk_count_started(struct wrk_slot *s, const char *jobtype, const char *queue, const char *jid,
    size_t jidlen)
{
	struct stats_inflight *e = entry(s);

	s->sl_cnt_jt = jobtype_index(jobtype);
	s->sl_cnt_fe = -1;
	if (e == NULL || jidlen >= STATS_JID_MAX)
		return;
	atomic_store_explicit(&e->if_report, STATS_IF_RUNNING, memory_order_relaxed);
	/* The jobtype now: a job that dies running is FAILed under it. */
	e->if_jt = s->sl_cnt_jt;
	e->if_fe = -1;
	atomic_store_explicit(&e->if_seq, STATS_IF_SEQ_NONE, memory_order_relaxed);
	e->if_start_ms = now_ms();
	copy_name(e->if_jobtype, sizeof(e->if_jobtype), jobtype);
	copy_name(e->if_queue, sizeof(e->if_queue), queue);
	/* The jid last: a reader that sees it sees the rest of the entry. */
	atomic_thread_fence(memory_order_release);
	memcpy(e->if_jid, jid, jidlen);
	e->if_jid[jidlen] = '\0';
}

void
wrk_count_report(struct wrk_slot *s, const char *jobtype, const char *jid, size_t jidlen,
    const char *errtype)
{
	struct stats_count *c = wrk_env->we_ctx->wc_pos.sp_count;
	struct stats_inflight *e = entry(s);

	/* A job FAILed before it ran (bad job, no handler) has no entry yet. */
	if (e != NULL && (e->if_jid[0] == '\0' || strncmp(e->if_jid, jid, STATS_JID_MAX) != 0))
		wrk_count_started(s, jobtype, NULL, jid, jidlen);
	if (c == NULL)
		return;
	if (s->sl_cnt_jt < 0)
		s->sl_cnt_jt = jobtype_index(jobtype);
	s->sl_cnt_fe = errtype != NULL ? stats_count_fe(c, s->sl_cnt_jt, errtype) : -1;
	if (e == NULL || e->if_jid[0] == '\0')
		return;
	e->if_jt = s->sl_cnt_jt;
	e->if_fe = s->sl_cnt_fe;
	/* The report goes out after this: the master sees the cell with the state. */
	atomic_store_explicit(&e->if_report, errtype != NULL ? STATS_IF_FAIL : STATS_IF_ACK,
	    memory_order_release);
}

void
wrk_count_confirmed(struct wrk_slot *s)
{
	struct stats_count *c = wrk_env->we_ctx->wc_pos.sp_count;
	struct stats_inflight *e = entry(s);
	_Atomic uint64_t *cell;

	if (c != NULL && (cell = stats_count_cell(c, s->sl_cnt_jt, s->sl_cnt_fe)) != NULL) {
		/* The cell's value first: above it means this report counted. */
		if (e != NULL && e->if_jid[0] != '\0')
			atomic_store_explicit(&e->if_seq, atomic_load_explicit(cell,
			    memory_order_relaxed), memory_order_release);
		stats_count_add(c, s->sl_cnt_jt, s->sl_cnt_fe, now_ms());
	}
	s->sl_cnt_jt = s->sl_cnt_fe = -1;
	if (e != NULL)
		e->if_jid[0] = '\0';
}

void
wrk_count_refused(struct wrk_slot *s)
{
	/* No cell: the server took nothing, so wrk_count_confirmed counts nothing. */
	s->sl_cnt_jt = s->sl_cnt_fe = -1;
}
