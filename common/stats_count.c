/* SPDX-License-Identifier: MIT */
/* stats_count: exact job counters in shared memory, and the master's tally of them. */
#include <string.h>

#include "stats_count.h"

#define RELAXED	memory_order_relaxed

static void
name_copy(char *to, const char *from)
{
	size_t n = strnlen(from, STATS_COUNT_NAME - 1);

	memcpy(to, from, n);
	to[n] = '\0';
}

/* ==== Writer (the child) ==== */

void
stats_count_clear(struct stats_count *c)
{
	memset(c, 0, sizeof(*c));
}

int
stats_count_jt(struct stats_count *c, const char *jobtype)
{
	uint32_t n = atomic_load_explicit(&c->ct_njt, RELAXED);

	for (uint32_t i = 0; i < n; i++)
		if (strncmp(c->ct_jt[i].cj_name, jobtype, STATS_COUNT_NAME) == 0)
			return (int)i;
	/* A name that does not fit is not that jobtype: it counts as "*other*". */
	if (n < STATS_COUNT_JT_MAX - 1 && strlen(jobtype) < STATS_COUNT_NAME) {
		name_copy(c->ct_jt[n].cj_name, jobtype);
	} else {
		for (uint32_t i = 0; i < n; i++)
			if (strcmp(c->ct_jt[i].cj_name, STATS_COUNT_OTHER) == 0)
				return (int)i;
		name_copy(c->ct_jt[n].cj_name, STATS_COUNT_OTHER);
	}
	/* The name is in place before the master can see the entry. */
	atomic_store_explicit(&c->ct_njt, n + 1, memory_order_release);
	return (int)n;
}

int
stats_count_fe(struct stats_count *c, int jt, const char *errtype)
{
	uint32_t n = atomic_load_explicit(&c->ct_nfe, RELAXED);
	const char *et = strlen(errtype) < STATS_COUNT_NAME ? errtype : STATS_COUNT_OTHER;

	for (uint32_t i = 0; i < n; i++)
		if (c->ct_fe[i].cf_jt == jt && strcmp(c->ct_fe[i].cf_errtype, et) == 0)
			return (int)i;
	if (n >= STATS_FE_MAX - 1) {
		/* The last entry: every pair that no longer fits. */
		jt = -1;
		et = STATS_COUNT_OTHER;
		for (uint32_t i = 0; i < n; i++)
			if (c->ct_fe[i].cf_jt == -1)
				return (int)i;
	}
	c->ct_fe[n].cf_jt = jt;
	name_copy(c->ct_fe[n].cf_errtype, et);
	atomic_store_explicit(&c->ct_nfe, n + 1, memory_order_release);
	return (int)n;
}

_Atomic uint64_t *
stats_count_cell(struct stats_count *c, int jt, int fe)
{
	if (fe >= 0)
		return fe < STATS_FE_MAX ? &c->ct_fe[fe].cf_failed : NULL;
	return jt >= 0 && jt < STATS_COUNT_JT_MAX ? &c->ct_jt[jt].cj_processed : NULL;
}

uint64_t
stats_count_add(struct stats_count *c, int jt, int fe, uint64_t now_ms)
{
	_Atomic uint64_t *cell = stats_count_cell(c, jt, fe);
	uint64_t v;

	if (cell == NULL)
		return 0;
	/* Single writer: a load and a store, no read-modify-write needed. */
	v = atomic_load_explicit(cell, RELAXED);
	atomic_store_explicit(cell, v + 1, memory_order_release);
	atomic_store_explicit(&c->ct_last_ms, now_ms, RELAXED);
	return v;
}

void
stats_count_totals(const struct stats_count *c, uint64_t *processed, uint64_t *failed)
{
	uint32_t njt = atomic_load_explicit(&c->ct_njt, memory_order_acquire);
	uint32_t nfe = atomic_load_explicit(&c->ct_nfe, memory_order_acquire);

	*processed = *failed = 0;
	for (uint32_t i = 0; i < njt && i < STATS_COUNT_JT_MAX; i++)
		*processed += atomic_load_explicit(&c->ct_jt[i].cj_processed, RELAXED);
	for (uint32_t i = 0; i < nfe && i < STATS_FE_MAX; i++)
		*failed += atomic_load_explicit(&c->ct_fe[i].cf_failed, RELAXED);
}

const char *
stats_count_jt_name(const struct stats_count *c, int jt)
{
	uint32_t n = atomic_load_explicit(&c->ct_njt, memory_order_acquire);

	if (jt < 0 || (uint32_t)jt >= n || n > STATS_COUNT_JT_MAX)
		return NULL;
	return c->ct_jt[jt].cj_name;
}

const char *
stats_count_fe_name(const struct stats_count *c, int fe)
{
	uint32_t n = atomic_load_explicit(&c->ct_nfe, memory_order_acquire);

	if (fe < 0 || (uint32_t)fe >= n || n > STATS_FE_MAX)
		return NULL;
	return c->ct_fe[fe].cf_errtype;
}

/* ==== The master's tally ==== */

static struct stats_tally_jt *
tally_jt(struct stats_tally *t, const char *name)
{
	for (uint32_t i = 0; i < t->ty_njt; i++)
		if (strncmp(t->ty_jt[i].tj_name, name, STATS_COUNT_NAME) == 0)
			return &t->ty_jt[i];
	if (t->ty_njt >= STATS_TALLY_JT_MAX - 1 && strcmp(name, STATS_COUNT_OTHER) != 0)
		return tally_jt(t, STATS_COUNT_OTHER);
	name_copy(t->ty_jt[t->ty_njt].tj_name, name);
	return &t->ty_jt[t->ty_njt++];
}

static struct stats_tally_fe *
tally_fe(struct stats_tally *t, const char *jobtype, const char *errtype)
{
	for (uint32_t i = 0; i < t->ty_nfe; i++)
		if (strncmp(t->ty_fe[i].tf_jobtype, jobtype, STATS_COUNT_NAME) == 0 &&
		    strncmp(t->ty_fe[i].tf_errtype, errtype, STATS_COUNT_NAME) == 0)
			return &t->ty_fe[i];
	if (t->ty_nfe >= STATS_TALLY_FE_MAX - 1 && (strcmp(jobtype, STATS_COUNT_OTHER) != 0 ||
	    strcmp(errtype, STATS_COUNT_OTHER) != 0))
		return tally_fe(t, STATS_COUNT_OTHER, STATS_COUNT_OTHER);
	name_copy(t->ty_fe[t->ty_nfe].tf_jobtype, jobtype);
	name_copy(t->ty_fe[t->ty_nfe].tf_errtype, errtype);
	return &t->ty_fe[t->ty_nfe++];
}

static void
last_ms(struct stats_tally *t, uint64_t ms)
{
	if (ms > t->ty_last_ms)
		t->ty_last_ms = ms;
}

void
stats_tally_add(struct stats_tally *t, const char *jobtype, const char *errtype,
    uint64_t n, uint64_t now_ms)
{
	if (n == 0)
		return;
	if (errtype == NULL) {
		t->ty_processed += n;
		tally_jt(t, jobtype)->tj_processed += n;
	} else {
		t->ty_failed += n;
		tally_jt(t, jobtype)->tj_failed += n;
		tally_fe(t, jobtype, errtype)->tf_failed += n;
	}
	last_ms(t, now_ms);
}

void
stats_tally_add_count(struct stats_tally *t, const struct stats_count *c)
{
	uint32_t njt = atomic_load_explicit(&c->ct_njt, memory_order_acquire);
	uint32_t nfe = atomic_load_explicit(&c->ct_nfe, memory_order_acquire);
	char name[STATS_COUNT_NAME], et[STATS_COUNT_NAME];

	/* Written by another process, maybe dead: bound everything read. */
	njt = njt > STATS_COUNT_JT_MAX ? STATS_COUNT_JT_MAX : njt;
	nfe = nfe > STATS_FE_MAX ? STATS_FE_MAX : nfe;
	last_ms(t, atomic_load_explicit(&c->ct_last_ms, RELAXED));
	for (uint32_t i = 0; i < njt; i++) {
		uint64_t p = atomic_load_explicit(&c->ct_jt[i].cj_processed, RELAXED);

		if (p == 0)
			continue;
		name_copy(name, c->ct_jt[i].cj_name);
		t->ty_processed += p;
		tally_jt(t, name)->tj_processed += p;
	}
	for (uint32_t i = 0; i < nfe; i++) {
		uint64_t f = atomic_load_explicit(&c->ct_fe[i].cf_failed, RELAXED);
		int32_t jt = c->ct_fe[i].cf_jt;

		if (f == 0)
			continue;
		name_copy(name, jt >= 0 && (uint32_t)jt < njt ? c->ct_jt[jt].cj_name :
		    STATS_COUNT_OTHER);
		name_copy(et, c->ct_fe[i].cf_errtype);
		t->ty_failed += f;
		tally_jt(t, name)->tj_failed += f;
		tally_fe(t, name, et)->tf_failed += f;
	}
}

void
stats_tally_merge(struct stats_tally *to, const struct stats_tally *from)
{
	to->ty_processed += from->ty_processed;
	to->ty_failed += from->ty_failed;
	last_ms(to, from->ty_last_ms);
	for (uint32_t i = 0; i < from->ty_njt; i++) {
		struct stats_tally_jt *e = tally_jt(to, from->ty_jt[i].tj_name);
		e->tj_processed += from->ty_jt[i].tj_processed;
		e->tj_failed += from->ty_jt[i].tj_failed;
	}
	for (uint32_t i = 0; i < from->ty_nfe; i++)
		tally_fe(to, from->ty_fe[i].tf_jobtype,
		    from->ty_fe[i].tf_errtype)->tf_failed += from->ty_fe[i].tf_failed;
}
