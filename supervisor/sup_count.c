/* SPDX-License-Identifier: MIT */
/*
 * sup_count: the host's exact job counts (common/stats_count.h). The live
 * children's shared counters plus a tally of what is gone: the final
 * counters of dead children (folded when they are reaped) and the jobs the
 * master itself reported for them.
 *
 * When a child dies, each in-flight entry says how far its job got, and the
 * master FAILs the job (WorkerCrash, or Shutdown) unless the child had
 * already counted the server's answer to its report. The server's answer to
 * that FAIL decides what is counted, so the host's numbers stay those of
 * the ACKs and FAILs the server took:
 *   +OK             the master's FAIL was taken: one failed (WorkerCrash);
 *   Job not found   the job was not reserved any more: the child's own ACK
 *                   or FAIL reached the server before it died (one processed,
 *                   or one failed with the child's errtype); a job with no
 *                   report yet counts nothing (its reservation had expired);
 *   other errors    nothing was taken: nothing counted.
 * One note per FAIL line, in the order the lines were queued (sup_beat.c
 * sends them, and again after a reconnect, and answers in order).
 */
#include <stdlib.h>
#include <string.h>

#include "sup.h"

struct note {
	char		n_jobtype[STATS_COUNT_NAME];
	char		n_errtype[STATS_COUNT_NAME];	/* the master's FAIL */
	char		n_child_errtype[STATS_COUNT_NAME];	/* the child's FAIL, if any */
	uint32_t	n_report;			/* enum stats_if_report */
};

static struct stats_tally gone;		/* dead children and the master's reports */
static struct note *notes;
static size_t nhead, nnotes, ncap;

static int
is_live(const struct sup_child *c)
{
	return c->ch_state >= SUP_CH_STARTING;
}

void
sup_count_fold(const struct sup_child *c)
{
	uint64_t p, f;

	if (c->ch_sp.sp_count == NULL)
		return;
	stats_tally_add_count(&gone, c->ch_sp.sp_count);
	stats_count_totals(c->ch_sp.sp_count, &p, &f);
	sup_env->se_index[c->ch_index].ix_gone_done += p + f;
}

uint64_t
sup_count_index_done(int index)
{
	uint64_t done = sup_env->se_index[index].ix_gone_done, p, f, last;

	for (int i = 0; i < sup_env->se_npos; i++)
		if (sup_env->se_child[i].ch_index == index) {
			sup_count_child(&sup_env->se_child[i], &p, &f, &last);
			done += p + f;
		}
	return done;
}

void
sup_count_host(struct stats_tally *t)
{
	*t = gone;
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		if (is_live(c) && c->ch_sp.sp_count != NULL)
			stats_tally_add_count(t, c->ch_sp.sp_count);
	}
}

void
sup_count_child(const struct sup_child *c, uint64_t *processed, uint64_t *failed,
    uint64_t *last_ms)
{
	*processed = *failed = *last_ms = 0;
	if (!is_live(c) || c->ch_sp.sp_count == NULL)
		return;
	stats_count_totals(c->ch_sp.sp_count, processed, failed);
	*last_ms = atomic_load_explicit(&c->ch_sp.sp_count->ct_last_ms, memory_order_relaxed);
}

int
sup_count_was_counted(const struct sup_child *c, const struct stats_inflight *e)
{
	uint32_t rp = atomic_load_explicit(&e->if_report, memory_order_acquire);
	uint64_t seq = atomic_load_explicit(&e->if_seq, memory_order_acquire);
	_Atomic uint64_t *cell;

	if (rp == STATS_IF_RUNNING || seq == STATS_IF_SEQ_NONE || c->ch_sp.sp_count == NULL)
		return 0;
	cell = stats_count_cell(c->ch_sp.sp_count, e->if_jt, e->if_fe);
	return cell != NULL && atomic_load_explicit(cell, memory_order_relaxed) > seq;
}

static void
name_or(char *to, const char *name, const char *dflt)
{
	snprintf(to, STATS_COUNT_NAME, "%s", name != NULL ? name : dflt);
}

int
sup_count_note(const struct sup_child *c, const struct stats_inflight *e,
    const char *errtype)
{
	const struct stats_count *ct = c->ch_sp.sp_count;
	struct note *n;

	if (nhead > 0 && nhead == nnotes)
		nhead = nnotes = 0;
	if (nnotes == ncap) {
		size_t cap = ncap ? 2 * ncap : 64;
		if ((n = realloc(notes, cap * sizeof(*n))) == NULL)
			return -1;
		notes = n;
		ncap = cap;
	}
	n = &notes[nnotes++];
	n->n_report = atomic_load_explicit(&e->if_report, memory_order_acquire);
	name_or(n->n_jobtype, ct != NULL ? stats_count_jt_name(ct, e->if_jt) : NULL,
	    STATS_COUNT_OTHER);
	name_or(n->n_errtype, errtype, STATS_COUNT_OTHER);
	name_or(n->n_child_errtype, ct != NULL ? stats_count_fe_name(ct, e->if_fe) : NULL,
	    STATS_COUNT_OTHER);
	return 0;
}

void
sup_count_note_drop(void)
{
	if (nnotes > nhead)
		nnotes--;
}

void
sup_count_answer(enum sup_count_answer a)
{
	const struct note *n;

	if (nhead == nnotes)
		return;
	n = &notes[nhead++];
	if (a == SUP_COUNT_OK)
		stats_tally_add(&gone, n->n_jobtype, n->n_errtype, 1, now_ms());
	else if (a == SUP_COUNT_NOT_FOUND && n->n_report == STATS_IF_ACK)
		stats_tally_add(&gone, n->n_jobtype, NULL, 1, now_ms());
	else if (a == SUP_COUNT_NOT_FOUND && n->n_report == STATS_IF_FAIL)
		stats_tally_add(&gone, n->n_jobtype, n->n_child_errtype, 1, now_ms());
	if (nhead == nnotes)
		nhead = nnotes = 0;
}

void
sup_count_free(void)
{
	free(notes);
	notes = NULL;
	nhead = nnotes = ncap = 0;
}
