/* SPDX-License-Identifier: MIT */
/* hist: log-linear latency histograms, their quantiles and their sparse msgpack form. */
#include <string.h>

#include "ctl.h"
#include "hist.h"

/*
 * Index layout: b < 2 * HIST_SUB is the value itself (width 1). Above, a
 * value with its top bit at k (k >= HIST_SUB_BITS) lands in group
 * k - HIST_SUB_BITS + 1, sub-bucket = the HIST_SUB_BITS bits below the top.
 */
int
hist_bucket(uint64_t us)
{
	int k, b;

	if (us < 2 * HIST_SUB)
		return (int)us;
	k = 63 - __builtin_clzll(us);
	if (k >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	b = (k - HIST_SUB_BITS + 1) * HIST_SUB +
	    (int)((us >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return b;
}

uint64_t
hist_lo(int b)
{
	int group = b / HIST_SUB, sub = b % HIST_SUB;

	if (b < 2 * HIST_SUB)
		return (uint64_t)b;
	return (uint64_t)(HIST_SUB + sub) << (group - 1);
}

uint64_t
hist_hi(int b)
{
	if (b < 2 * HIST_SUB)
		return (uint64_t)b + 1;
	return hist_lo(b) + (1ull << (b / HIST_SUB - 1));
}

void
hist_add(struct hist *h, uint64_t us)
{
	h->h_count[hist_bucket(us)]++;
	h->h_sum_us += us;
}

void
hist_merge(struct hist *to, const struct hist *from)
{
	for (int i = 0; i < HIST_BUCKETS; i++)
		to->h_count[i] += from->h_count[i];
	to->h_sum_us += from->h_sum_us;
}

void
hist_diff(struct hist *out, const struct hist *a, const struct hist *b)
{
	/* A counter that went backwards (a child's totals replaced) is not a negative count. */
	for (int i = 0; i < HIST_BUCKETS; i++)
		out->h_count[i] = a->h_count[i] >= b->h_count[i] ?
		    a->h_count[i] - b->h_count[i] : 0;
	out->h_sum_us = a->h_sum_us >= b->h_sum_us ? a->h_sum_us - b->h_sum_us : 0;
}

uint64_t
hist_total(const struct hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i < HIST_BUCKETS; i++)
		n += h->h_count[i];
	return n;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t total = hist_total(h), cum = 0;
	double target, lo, w, rank;

	if (total == 0)
		return 0;
	target = q * (double)total;
	if (target < 1)
		target = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (h->h_count[i] == 0 || (double)(cum + h->h_count[i]) < target) {
			cum += h->h_count[i];
			continue;
		}
		lo = (double)hist_lo(i);
		w = (double)(hist_hi(i) - hist_lo(i));
		/* Width-1 buckets hold one integer value: report it, not lo + a fraction. */
		if (w <= 1)
			return hist_lo(i);
		/* The k-th of n values in a bucket sits at the middle of its 1/n share. */
		rank = target - (double)cum - 0.5;
		return (uint64_t)(lo + w * (rank < 0 ? 0 : rank) / (double)h->h_count[i]);
	}
	return hist_lo(HIST_BUCKETS - 1);
}

uint64_t
hist_count_le(const struct hist *h, uint64_t le_us)
{
	int last = hist_bucket(le_us);
	uint64_t n = 0;

	for (int i = 0; i <= last; i++)
		n += h->h_count[i];
	return n;
}

void
hist_pack(msgpack_packer *pk, const struct hist *h)
{
	size_t n = 0;

	for (int i = 0; i < HIST_BUCKETS; i++)
		n += h->h_count[i] != 0;
	msgpack_pack_array(pk, 1 + 2 * n);
	msgpack_pack_uint64(pk, h->h_sum_us);
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (h->h_count[i] == 0)
			continue;
		msgpack_pack_uint32(pk, (uint32_t)i);
		msgpack_pack_uint64(pk, h->h_count[i]);
	}
}

int
hist_unpack(const msgpack_object *o, struct hist *h)
{
	const msgpack_object *a;
	uint64_t idx, prev = 0;
	uint32_t n;

	memset(h, 0, sizeof(*h));
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0 ||
	    o->via.array.size % 2 != 1 || o->via.array.size > 1 + 2 * HIST_BUCKETS)
		return -1;
	a = o->via.array.ptr;
	n = o->via.array.size;
	if (ctl_mp_u64(&a[0], &h->h_sum_us) == -1)
		return -1;
	for (uint32_t i = 1; i < n; i += 2) {
		if (ctl_mp_u64(&a[i], &idx) == -1 || idx >= HIST_BUCKETS ||
		    (i > 1 && idx <= prev) ||
		    ctl_mp_u64(&a[i + 1], &h->h_count[idx]) == -1)
			return -1;
		prev = idx;
	}
	return 0;
}
