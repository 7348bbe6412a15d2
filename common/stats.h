/* SPDX-License-Identifier: MIT */
/*
 * stats: the shared-memory region the master maps before forking.
 *
 *   header | child position 0 | child position 1 | ...
 *   each position: scoreboard slot | exact counters | in-flight table | msgpack ring
 *
 * A position is written only by the child that owns it (single writer) and
 * read by the master; no cross-process locks. Positions are double-buffered
 * per child index (2 * nchildren) so that during a rolling reload the new
 * child of an index runs beside the old one.
 */
#ifndef FKW_STATS_H
#define FKW_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "stats_count.h"

#define STATS_MAGIC		0x464b5753u	/* "FKWS" */
#define STATS_VERSION		1
#define STATS_JID_MAX		64		/* longer jids are not tracked for crash recovery */
#define STATS_RING_DEFAULT	(256u << 10)

enum stats_state {
	STATS_ST_FREE = 0,	/* no child */
	STATS_ST_STARTING,	/* forked, slots connecting */
	STATS_ST_READY,		/* every slot connected once */
	STATS_ST_QUIET,		/* not fetching; finishing jobs */
	STATS_ST_DRAINING,	/* terminating: finishing jobs, then exit */
	STATS_ST_EXITED,
};

#define STATS_NAME_MAX		48		/* jobtype and queue in the in-flight table, truncated */

/* Where a job's report is (stats_count.h): what the master does if the child dies. */
enum stats_if_report {
	STATS_IF_RUNNING = 0,	/* no report yet: FAIL it (WorkerCrash) */
	STATS_IF_ACK,		/* ACK written, not yet counted */
	STATS_IF_FAIL,		/* FAIL written, not yet counted */
};

#define STATS_IF_SEQ_NONE	UINT64_MAX

/*
 * One running job; if_jid[0] == 0 means the entry is free. The child
 * writes the other fields before the jid, and readers bound every string
 * themselves (the writer may die mid-copy). Once the job's report is
 * written, if_report says which and if_jt / if_fe name the counting cell;
 * when the server's answer arrives the child stores the cell's value in
 * if_seq before it counts, so after the child's death the master knows the
 * report was counted exactly when the cell is above if_seq. if_pgid is
 * apart: the process group of one of the child's exec commands, or 0,
 * handed out by worker/wrk_exec_pgid.c independently of the jobs (a command
 * can outlive its job), and killed by the master when the child dies.
 */
struct stats_inflight {
	char		 if_jid[STATS_JID_MAX];
	uint64_t	 if_start_ms;	/* monotonic ms */
	_Atomic uint32_t if_report;	/* enum stats_if_report */
	int32_t		 if_jt;		/* stats_count jobtype index, or -1 */
	int32_t		 if_fe;		/* stats_count failure pair index, or -1 */
	_Atomic uint64_t if_seq;	/* STATS_IF_SEQ_NONE until counting */
	int32_t		 if_pgid;
	char		 if_jobtype[STATS_NAME_MAX];	/* for fkworkerctl busy */
	char		 if_queue[STATS_NAME_MAX];
};

/* The scoreboard entry. Scalars are published under a seqlock (sl_seq odd = writing). */
struct stats_slot {
	_Atomic uint32_t sl_seq;
	int32_t		 sl_pid;
	uint32_t	 sl_generation;
	uint32_t	 sl_state;		/* enum stats_state */
	int32_t		 sl_index;		/* child index (cpu slot) */
	int32_t		 sl_cpu;		/* pinned cpu or -1 */
	uint32_t	 sl_nslots;		/* job slots */
	uint32_t	 sl_nconns;		/* Faktory connections it holds */
	uint32_t	 sl_connected;		/* of those, connected now */
	uint32_t	 sl_busy;		/* jobs in flight */
	uint32_t	 sl_window;		/* FETCH window: the most FETCHes it keeps out now */
	uint32_t	 sl_fetching;		/* FETCHes out now */
	uint32_t	 sl_fetch_rtt_us;	/* smoothed round trip of FETCHes that brought a job */
	uint32_t	 sl_nap_us;		/* the coalescing nap's bound now; 0: not napping */
	uint32_t	 sl_inflight_cap;	/* entries in the in-flight table */
	uint64_t	 sl_started_ms;
	uint64_t	 sl_updated_ms;
} __attribute__((aligned(64)));

/*
 * Single-producer single-consumer byte ring. Records are a 4-byte length
 * (host order) and that many bytes of msgpack. The producer never blocks:
 * when a record does not fit it is dropped and rg_dropped counts it.
 */
struct stats_ring {
	_Atomic uint64_t rg_head __attribute__((aligned(64)));	/* producer */
	_Atomic uint64_t rg_tail __attribute__((aligned(64)));	/* consumer */
	_Atomic uint64_t rg_dropped;
	uint32_t	 rg_size;		/* data bytes, power of two */
	unsigned char	 rg_data[] __attribute__((aligned(64)));
};

struct stats_header {
	uint32_t	sh_magic;
	uint32_t	sh_version;
	uint32_t	sh_npos;		/* positions (2 per child index) */
	uint32_t	sh_inflight_cap;	/* in-flight entries per position */
	uint32_t	sh_ring_size;
	uint32_t	sh_pos_size;		/* bytes per position */
	int32_t		sh_master_pid;
	uint64_t	sh_start_ms;
} __attribute__((aligned(64)));

/* What a child gets of the region: its own position. */
struct stats_pos {
	struct stats_slot	*sp_slot;
	struct stats_count	*sp_count;
	struct stats_inflight	*sp_inflight;
	uint32_t		 sp_inflight_cap;
	struct stats_ring	*sp_ring;
};

/*
 * Creates the shared anonymous mapping; NULL with errno on failure (EINVAL
 * when ring_size is not a power of two in [64, 1 GiB], npos or inflight_cap
 * is 0 or absurd).
 */
struct stats_header *stats_region_create(uint32_t npos, uint32_t inflight_cap,
			uint32_t ring_size);
void	stats_region_destroy(struct stats_header *);
/* Bytes the whole mapping takes (header and every position). */
size_t	stats_region_size(const struct stats_header *);
/* Position i (0 <= i < sh_npos). */
void	stats_region_pos(struct stats_header *, uint32_t i, struct stats_pos *);
/*
 * Master only, while no child owns the position: zeroes the slot and the
 * exact counters, empties the in-flight table and the ring (drop count
 * included) for the next child.
 */
void	stats_pos_clear(struct stats_pos *);

/* Seqlock writer side: wrap every change of slot scalars. */
void	stats_slot_begin(struct stats_slot *);
void	stats_slot_end(struct stats_slot *);
/* Reader: copies the slot consistently; -1 if it stayed busy (bounded retries). */
int	stats_slot_read(const struct stats_slot *, struct stats_slot *out);

/* Producer: appends one record; -1 (and counts a drop) if it does not fit. */
int	stats_ring_put(struct stats_ring *, const void *, uint32_t len);
/*
 * Consumer: copies the next record into buf (cap bytes); returns its length,
 * 0 if the ring is empty, -1 if the record is larger than cap (it is skipped)
 * or the ring is corrupt (it is reset).
 */
int	stats_ring_get(struct stats_ring *, void *buf, uint32_t cap);
void	stats_ring_reset(struct stats_ring *);

/*
 * The record a child writes every stats interval (msgpack map). Counters are
 * totals since the child started, so a lost record loses nothing but time
 * resolution; the master keeps the last one per position and folds it into
 * host totals when the child dies.
 */
#define STATS_JT_MAX 32			/* jobtypes tracked per child; others fold into "*other*" */
struct stats_jobtype {
	char		jt_name[48];
	uint64_t	jt_processed;	/* ACKed */
	uint64_t	jt_failed;	/* FAILed */
	struct hist	jt_lat;		/* run times */
};

struct stats_counters {
	uint32_t	sc_generation;
	uint64_t	sc_fetched;		/* jobs received */
	uint64_t	sc_fetches;		/* FETCH commands sent */
	uint64_t	sc_fetch_empty;		/* of those, answered without a job */
	uint64_t	sc_processed;		/* jobs ACKed (confirmed) */
	uint64_t	sc_failed;		/* jobs FAILed (confirmed) */
	uint64_t	sc_reconnects;
	uint64_t	sc_errors;		/* protocol / network errors */
	uint64_t	sc_busy_us;		/* sum of job run times */
	uint64_t	sc_naps;		/* coalescing naps the loop took (worker.coalesce_us) */
	struct hist	sc_lat;			/* run times, all jobtypes */
	struct hist	sc_pickup;		/* pickup latency: start minus the job's enqueued_at */
	uint64_t	sc_pickup_skewed;	/* enqueued_at in the future (clock skew): counted as 0 */
	uint64_t	sc_pickup_unknown;	/* no readable enqueued_at: not in sc_pickup */
	int64_t		sc_rss_kb;
	uint32_t	sc_njt;
	struct stats_jobtype sc_jt[STATS_JT_MAX];
};

/* msgpack encode / decode of a counters record; decode ignores unknown keys. */
int	stats_counters_encode(const struct stats_counters *, void **out, size_t *outlen);
/*
 * The same, but a record longer than max bytes is encoded again without the
 * per-jobtype histograms (their counts stay), so a child with many widely
 * spread jobtypes still fits its ring; *lean is set to 1 when that happened.
 */
int	stats_counters_encode_fit(const struct stats_counters *, size_t max, void **out,
	    size_t *outlen, int *lean);
int	stats_counters_decode(const void *, size_t, struct stats_counters *);

#endif
