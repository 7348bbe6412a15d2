/* SPDX-License-Identifier: MIT */
/*
 * stats_count: the exact job counters of a child position, kept in shared
 * memory beside its scoreboard slot, and the master's tally of them.
 *
 * A job is counted when the server answers its report: +OK to an ACK is one
 * processed; the answer to a FAIL (+OK, or "Job not found" when an earlier
 * copy of that FAIL already reached the server) is one failed. So the counts
 * equal the ACKs and FAILs the server took. The child writes the counters
 * (single writer, atomics) as each answer arrives, so a child killed with -9
 * loses nothing it counted: the master reads the block after the child's
 * death and folds it into the host totals (struct stats_tally).
 *
 * Each job is counted by one store to one cell: a jobtype's processed, or a
 * (jobtype, errtype) pair's failed; every other number (totals, failed per
 * jobtype) is a sum of cells. So a count is all or nothing even if the child
 * dies in the middle of it, and the in-flight table can say exactly whether
 * a dead child's last reports were counted (stats_count_cell).
 *
 * Tables are bounded: jobtypes past STATS_JT_MAX - 1 count under "*other*",
 * (jobtype, errtype) pairs past STATS_FE_MAX - 1 under ("*other*", "*other*").
 */
#ifndef FKW_STATS_COUNT_H
#define FKW_STATS_COUNT_H

#include <stdatomic.h>
#include <stdint.h>

#define STATS_COUNT_NAME	48	/* bytes of a jobtype or errtype name, NUL included */
#define STATS_COUNT_JT_MAX	32	/* jobtypes per child (as STATS_JT_MAX) */
#define STATS_FE_MAX		64	/* (jobtype, errtype) pairs of failures per child */
#define STATS_TALLY_JT_MAX	256	/* jobtypes in the host totals */
#define STATS_TALLY_FE_MAX	256	/* (jobtype, errtype) pairs in the host totals */
#define STATS_COUNT_OTHER	"*other*"

struct stats_count_jt {
	char		 cj_name[STATS_COUNT_NAME];
	_Atomic uint64_t cj_processed;
	_Atomic uint64_t cj_failed;
};

struct stats_count_fe {
	char		 cf_errtype[STATS_COUNT_NAME];
	int32_t		 cf_jt;		/* index in ct_jt */
	_Atomic uint64_t cf_failed;
};

/* A position's counters; entries below ct_njt / ct_nfe are named and fixed. */
struct stats_count {
	_Atomic uint64_t	ct_last_ms;	/* CLOCK_MONOTONIC ms of the last count */
	_Atomic uint32_t	ct_njt;
	_Atomic uint32_t	ct_nfe;
	struct stats_count_jt	ct_jt[STATS_COUNT_JT_MAX];
	struct stats_count_fe	ct_fe[STATS_FE_MAX];
} __attribute__((aligned(64)));

/* Master, while no child owns the position. */
void	stats_count_clear(struct stats_count *);
/* Writer: the index of a jobtype (added if new; "*other*" when full). */
int	stats_count_jt(struct stats_count *, const char *jobtype);
/* Writer: the index of a (jobtype index, errtype) pair (added if new). */
int	stats_count_fe(struct stats_count *, int jt, const char *errtype);
/*
 * The cell that counts a job: its pair's failed (fe >= 0) or its jobtype's
 * processed; NULL when the indexes are out of range.
 */
_Atomic uint64_t *stats_count_cell(struct stats_count *, int jt, int fe);
/* Writer: counts one job in its cell; returns the cell's value before. */
uint64_t stats_count_add(struct stats_count *, int jt, int fe, uint64_t now_ms);
/* Totals of a position: sums of its cells. */
void	stats_count_totals(const struct stats_count *, uint64_t *processed,
	    uint64_t *failed);

/* The master's totals: plain numbers keyed by name. */
struct stats_tally_jt {
	char		tj_name[STATS_COUNT_NAME];
	uint64_t	tj_processed;
	uint64_t	tj_failed;
};

struct stats_tally_fe {
	char		tf_jobtype[STATS_COUNT_NAME];
	char		tf_errtype[STATS_COUNT_NAME];
	uint64_t	tf_failed;
};

struct stats_tally {
	uint64_t		ty_processed;
	uint64_t		ty_failed;
	uint64_t		ty_last_ms;
	uint32_t		ty_njt;
	uint32_t		ty_nfe;
	struct stats_tally_jt	ty_jt[STATS_TALLY_JT_MAX];
	struct stats_tally_fe	ty_fe[STATS_TALLY_FE_MAX];
};

/* Adds a position's counters (a live child's: a consistent-enough snapshot). */
void	stats_tally_add_count(struct stats_tally *, const struct stats_count *);
/* Adds n processed (errtype NULL) or failed jobs of a jobtype. */
void	stats_tally_add(struct stats_tally *, const char *jobtype, const char *errtype,
	    uint64_t n, uint64_t now_ms);
void	stats_tally_merge(struct stats_tally *to, const struct stats_tally *from);
/* Name of a position's jobtype index, for the master (NULL if out of range). */
const char *stats_count_jt_name(const struct stats_count *, int jt);
/* Errtype of a position's pair index (NULL if out of range). */
const char *stats_count_fe_name(const struct stats_count *, int fe);

#endif
