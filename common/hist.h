/* SPDX-License-Identifier: MIT */
/*
 * hist: a log-linear (HDR-style) histogram of microsecond durations.
 *
 * Values below 64 us have a bucket each; above, every power of two
 * [2^k, 2^(k+1)) is split into HIST_SUB linear sub-buckets, so a bucket is
 * never wider than 1/HIST_SUB of its lower edge and a quantile read from it
 * is within 1/32 (3.1%) of the true value, from 1 us to 2^36 us (19 h);
 * longer durations share the last bucket. Pure functions: no I/O.
 */
#ifndef FKW_HIST_H
#define FKW_HIST_H

#include <stdint.h>

#include <msgpack.h>

#define HIST_SUB_BITS	5
#define HIST_SUB	(1 << HIST_SUB_BITS)		/* 32 sub-buckets per power of two */
#define HIST_MAX_BITS	36				/* 2^36 us, about 19 hours */
#define HIST_BUCKETS	((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)	/* 1024 */

struct hist {
	uint64_t	h_count[HIST_BUCKETS];
	uint64_t	h_sum_us;	/* of every value added, for averages and Prometheus _sum */
};

/* The bucket of a duration and its edges: [hist_lo(b), hist_hi(b)). */
int	 hist_bucket(uint64_t us);
uint64_t hist_lo(int b);
uint64_t hist_hi(int b);

void	 hist_add(struct hist *, uint64_t us);
/* to += from. */
void	 hist_merge(struct hist *to, const struct hist *from);
/* out = a - b, for a window between two snapshots of the same totals (b <= a). */
void	 hist_diff(struct hist *out, const struct hist *a, const struct hist *b);
uint64_t hist_total(const struct hist *);
/*
 * The q-quantile (0 < q <= 1) in microseconds, interpolated linearly by rank
 * inside its bucket; 0 when the histogram is empty.
 */
uint64_t hist_quantile(const struct hist *, double q);
/*
 * Values at or below le_us, for cumulative (Prometheus "le") buckets: the
 * bucket holding le_us counts whole, so the boundary is read within 1/32.
 */
uint64_t hist_count_le(const struct hist *, uint64_t le_us);

/*
 * Sparse msgpack form: [sum, index, count, index, count, ...] with the
 * non-zero buckets in increasing index order. unpack rejects (-1) a wrong
 * type, an index out of range or out of order.
 */
void	 hist_pack(msgpack_packer *, const struct hist *);
int	 hist_unpack(const msgpack_object *, struct hist *);

#endif
