/* SPDX-License-Identifier: MIT */
/*
 * sup_busy: the jobs running now, read from every live child's in-flight
 * table in the shared region (jid, jobtype, queue, start), longest running
 * first, for `fkworkerctl busy`. The tables are written by the children
 * without locks: each entry is copied and its strings bounded here.
 */
#include <stdlib.h>
#include <string.h>

#include "sup.h"

/* One field of an entry, NUL-terminated whatever the writer left. */
static void
copy_bounded(char *dst, size_t dcap, const char *src, size_t scap)
{
	size_t n = strnlen(src, scap);

	if (n >= dcap)
		n = dcap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint32_t
collect(const struct sup_child *c, struct ctl_busy_job *out, uint32_t n, uint64_t now)
{
	const struct stats_pos *p = &c->ch_sp;

	for (uint32_t i = 0; i < p->sp_inflight_cap; i++) {
		struct stats_inflight e = p->sp_inflight[i];
		struct ctl_busy_job *j = &out[n];

		if (e.if_jid[0] == '\0')
			continue;
		copy_bounded(j->bj_jid, sizeof(j->bj_jid), e.if_jid, sizeof(e.if_jid));
		copy_bounded(j->bj_jobtype, sizeof(j->bj_jobtype), e.if_jobtype,
		    sizeof(e.if_jobtype));
		copy_bounded(j->bj_queue, sizeof(j->bj_queue), e.if_queue, sizeof(e.if_queue));
		j->bj_child = c->ch_index;
		j->bj_pid = (int32_t)c->ch_pid;
		j->bj_running_ms = now > e.if_start_ms ? now - e.if_start_ms : 0;
		n++;
	}
	return n;
}

static int
longest_first(const void *a, const void *b)
{
	const struct ctl_busy_job *x = a, *y = b;

	if (x->bj_running_ms != y->bj_running_ms)
		return x->bj_running_ms < y->bj_running_ms ? 1 : -1;
	return strcmp(x->bj_jid, y->bj_jid);
}

struct ctl_busy *
sup_busy_build(uint32_t limit)
{
	struct ctl_busy *bz = calloc(1, sizeof(*bz));
	uint64_t now = now_ms();
	size_t cap = (size_t)sup_env->se_npos * sup_env->se_shm->sh_inflight_cap;
	uint32_t n = 0;

	if (bz == NULL || (bz->bz_jobs = calloc(cap > 0 ? cap : 1, sizeof(*bz->bz_jobs))) == NULL) {
		ctl_busy_free(bz);
		return NULL;
	}
	for (int p = 0; p < sup_env->se_npos; p++)
		if (sup_env->se_child[p].ch_state >= SUP_CH_STARTING)
			n = collect(&sup_env->se_child[p], bz->bz_jobs, n, now);
	qsort(bz->bz_jobs, n, sizeof(*bz->bz_jobs), longest_first);
	bz->bz_total = n;
	bz->bz_limit = limit;
	bz->bz_njobs = n < limit ? n : limit;
	return bz;
}
