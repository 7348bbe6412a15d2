/* SPDX-License-Identifier: MIT */
/*
 * diag: `fkworkerctl diagnose`'s judgement, apart from how the figures are
 * sampled, so every verdict can be unit-tested from numbers alone.
 *
 * The sampler (ctl_diag.c) takes one diag_sample a second; diag_figures()
 * turns the series into rates and ratios; diag_judge() says which of four
 * things holds (the tuning guide's loop, as rules):
 *
 *   server      work waits in the queues while slots sit idle: the server
 *               (or the network to it) is the bottleneck
 *   slots       work waits, every slot is busy, the CPU has room: too few
 *               slots; suggests a concurrency from Little's law
 *   maxed       work waits and the CPU is at its limit: add hosts. "At its
 *               limit" is fkworker's demand (CPU time used plus time spent
 *               runnable on a run queue, from /proc/PID/schedstat) reaching
 *               90% of its cores, or the host's CPU at 90% with fkworker
 *               (its exec jobs included) using most of it: another
 *               program's load alone does not starve a process that needs
 *               little CPU, so it is no verdict on fkworker
 *   keeps-up    the queues are empty or draining: headroom in jobs/s
 *
 * Pure functions: no I/O except the renderers' FILE.
 */
#ifndef FKW_DIAG_H
#define FKW_DIAG_H

#include <stdint.h>
#include <stdio.h>

#define DIAG_CPU_LIMIT		0.90	/* of the cores: "at its limit" */
#define DIAG_ALL_BUSY		0.90	/* mean busy / slots: "every slot busy" */
#define DIAG_TARGET_BUSY	0.80	/* a suggested concurrency leaves 20% idle */

/* One look at the host; the sampler fills what it knows (-1: unknown). */
struct diag_sample {
	uint64_t	ds_ms;			/* CLOCK_MONOTONIC */
	uint64_t	ds_done;		/* processed + failed since start */
	int64_t		ds_queued;		/* jobs in the configured queues, -1 unknown */
	uint32_t	ds_busy;
	uint32_t	ds_slots;
	uint32_t	ds_connections;
	uint32_t	ds_connected;
	uint32_t	ds_fetch_rtt_us;	/* the children's largest smoothed round trip */
	double		ds_worker_cpu_s;	/* CPU the fkworker processes used so far */
	double		ds_worker_demand_s;	/* ... and waited for on a run queue; -1 unknown */
	uint64_t	ds_host_busy;		/* /proc/stat ticks, all cores */
	uint64_t	ds_host_total;
	int64_t		ds_run_p50_us;		/* job run time, -1 unknown */
	int64_t		ds_run_p99_us;
	int64_t		ds_pick_p50_us;		/* pickup latency, -1 unknown */
	int64_t		ds_pick_p99_us;
};

/* What a series of samples shows. */
struct diag_figures {
	double		df_seconds;
	uint32_t	df_samples;
	double		df_jobs_per_sec;
	int64_t		df_queued_first;	/* -1: the server's sizes are unknown */
	int64_t		df_queued_last;
	int64_t		df_queued_min;		/* smallest in the window's second half */
	double		df_queue_trend;		/* jobs/s, > 0 growing (least squares) */
	double		df_busy_ratio;		/* mean busy / slots */
	double		df_busy_mean;		/* mean busy slots */
	uint32_t	df_slots;
	uint32_t	df_concurrency;
	int		df_auto;		/* worker.concurrency = "auto" (the caller sets it) */
	uint32_t	df_concurrency_max;	/* auto's ceiling (the caller sets it) */
	uint32_t	df_cpus;		/* children (worker.cpus) */
	uint32_t	df_cores;		/* online cores */
	uint32_t	df_connections;
	uint32_t	df_connected;		/* at the last sample */
	double		df_worker_cores;	/* cores the fkworker processes used */
	double		df_worker_demand;	/* cores they used or waited for (>= used) */
	double		df_host_cpu;		/* 0..1 of all cores, -1 unknown */
	double		df_cpu_us_per_job;	/* -1 when no job finished */
	uint32_t	df_fetch_rtt_us;	/* largest seen */
	int64_t		df_run_p50_us, df_run_p99_us;
	int64_t		df_pick_p50_us, df_pick_p99_us;
};

enum diag_kind {
	DIAG_UNKNOWN = 0,	/* the figures cannot say (no queue sizes, not running) */
	DIAG_KEEPS_UP,
	DIAG_SERVER,
	DIAG_SLOTS,
	DIAG_MAXED,
};

struct diag_verdict {
	enum diag_kind	dv_kind;
	char		dv_why[512];		/* the figures that show it */
	char		dv_todo[256];		/* the one thing to do */
	uint32_t	dv_suggest;		/* DIAG_SLOTS: a concurrency, else 0 */
	double		dv_headroom;		/* DIAG_KEEPS_UP: jobs/s it could still take, -1 n/a */
	double		dv_drain_s;		/* a shrinking backlog: seconds to empty, -1 n/a */
};

const char	*diag_kind_name(enum diag_kind);	/* "keeps-up": JSON */
const char	*diag_kind_text(enum diag_kind);	/* "keeps up": people */

/*
 * The figures of samples s[0..n) (n >= 2, in time order); concurrency,
 * cpus and cores describe the host.
 */
void	diag_figures(const struct diag_sample *s, uint32_t n, uint32_t concurrency,
	    uint32_t cpus, uint32_t cores, struct diag_figures *out);

/* The verdict; `unknown` (non-NULL) forces DIAG_UNKNOWN with that reason. */
void	diag_judge(const struct diag_figures *, const char *unknown, struct diag_verdict *);

void	diag_render_text(FILE *, const struct diag_figures *, const struct diag_verdict *);
int	diag_render_json(FILE *, const struct diag_figures *, const struct diag_verdict *);

#endif
