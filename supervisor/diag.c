/* SPDX-License-Identifier: MIT */
/* diag: figures from samples, and the verdict from figures (see diag.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

#define CONCURRENCY_MAX	100000	/* worker.concurrency's upper bound */

const char *
diag_kind_name(enum diag_kind k)
{
	switch (k) {
	case DIAG_KEEPS_UP: return "keeps-up";
	case DIAG_SERVER: return "server";
	case DIAG_SLOTS: return "slots";
	case DIAG_MAXED: return "maxed";
	case DIAG_UNKNOWN: break;
	}
	return "unknown";
}

/* Least-squares slope of the known queue sizes, in jobs per second. */
static double
queue_trend(const struct diag_sample *s, uint32_t n)
{
	double st = 0, sq = 0, stt = 0, stq = 0, k = 0;

	for (uint32_t i = 0; i < n; i++) {
		double t, q;

		if (s[i].ds_queued < 0)
			continue;
		t = (double)(s[i].ds_ms - s[0].ds_ms) / 1000.0;
		q = (double)s[i].ds_queued;
		st += t;
		sq += q;
		stt += t * t;
		stq += t * q;
		k++;
	}
	if (k < 2 || k * stt - st * st <= 0)
		return 0;
	return (k * stq - st * sq) / (k * stt - st * st);
}

static void
queue_ends(const struct diag_sample *s, uint32_t n, struct diag_figures *f)
{
	f->df_queued_first = f->df_queued_last = f->df_queued_min = -1;
	for (uint32_t i = 0; i < n; i++) {
		if (s[i].ds_queued < 0)
			continue;
		if (f->df_queued_first < 0)
			f->df_queued_first = s[i].ds_queued;
		f->df_queued_last = s[i].ds_queued;
		if (i >= n / 2 && (f->df_queued_min < 0 || s[i].ds_queued < f->df_queued_min))
			f->df_queued_min = s[i].ds_queued;
	}
	f->df_queue_trend = queue_trend(s, n);
}

static void
cpu_figures(const struct diag_sample *a, const struct diag_sample *b, uint64_t done,
    struct diag_figures *f)
{
	double cpu = b->ds_worker_cpu_s - a->ds_worker_cpu_s;

	if (cpu < 0)
		cpu = 0;
	f->df_worker_cores = f->df_seconds > 0 ? cpu / f->df_seconds : 0;
	f->df_worker_demand = f->df_worker_cores;
	if (a->ds_worker_demand_s >= 0 && b->ds_worker_demand_s >= a->ds_worker_demand_s &&
	    f->df_seconds > 0)
		f->df_worker_demand = fmax(f->df_worker_cores,
		    (b->ds_worker_demand_s - a->ds_worker_demand_s) / f->df_seconds);
	f->df_host_cpu = -1;
	if (b->ds_host_total > a->ds_host_total && b->ds_host_busy >= a->ds_host_busy)
		f->df_host_cpu = (double)(b->ds_host_busy - a->ds_host_busy) /
		    (double)(b->ds_host_total - a->ds_host_total);
	f->df_cpu_us_per_job = done > 0 ? cpu * 1e6 / (double)done : -1;
}

void
diag_figures(const struct diag_sample *s, uint32_t n, uint32_t concurrency, uint32_t cpus,
    uint32_t cores, struct diag_figures *f)
{
	const struct diag_sample *a = &s[0], *b = &s[n - 1];
	uint64_t done = b->ds_done > a->ds_done ? b->ds_done - a->ds_done : 0;
	double busy = 0, slots = 0;

	memset(f, 0, sizeof(*f));
	f->df_samples = n;
	f->df_concurrency = concurrency;
	f->df_cpus = cpus;
	f->df_cores = cores;
	f->df_seconds = (double)(b->ds_ms - a->ds_ms) / 1000.0;
	f->df_jobs_per_sec = f->df_seconds > 0 ? (double)done / f->df_seconds : 0;
	queue_ends(s, n, f);
	for (uint32_t i = 0; i < n; i++) {
		busy += s[i].ds_busy;
		slots += s[i].ds_slots;
		if (s[i].ds_fetch_rtt_us > f->df_fetch_rtt_us)
			f->df_fetch_rtt_us = s[i].ds_fetch_rtt_us;
	}
	f->df_busy_mean = busy / n;
	f->df_busy_ratio = slots > 0 ? busy / slots : 0;
	f->df_slots = b->ds_slots;
	f->df_connections = b->ds_connections;
	f->df_connected = b->ds_connected;
	cpu_figures(a, b, done, f);
	f->df_run_p50_us = b->ds_run_p50_us;
	f->df_run_p99_us = b->ds_run_p99_us;
	f->df_pick_p50_us = b->ds_pick_p50_us;
	f->df_pick_p99_us = b->ds_pick_p99_us;
}

/* The cores fkworker may use: one per child, no more than the host has. */
static double
cpu_cap(const struct diag_figures *f)
{
	uint32_t c = f->df_cpus < f->df_cores ? f->df_cpus : f->df_cores;

	return c > 0 ? c : 1;
}

/* See diag.h: fkworker wants its cores, or it is most of a host at its limit. */
static int
cpu_at_limit(const struct diag_figures *f)
{
	if (f->df_worker_demand >= DIAG_CPU_LIMIT * cpu_cap(f))
		return 1;
	return f->df_host_cpu >= DIAG_CPU_LIMIT &&
	    f->df_worker_cores >= 0.5 * f->df_host_cpu * f->df_cores;
}

/* A queue trend smaller than noise (1 job/s, or 2% of the rate) is flat. */
static double
trend_noise(const struct diag_figures *f)
{
	return fmax(1.0, 0.02 * f->df_jobs_per_sec);
}

/*
 * Work waits when a backlog stood through the window's second half (so jobs
 * pushed in bursts and taken at once are not one), holds at least half a
 * second of work at the current rate, and is not draining away.
 */
static int
work_waits(const struct diag_figures *f)
{
	return f->df_queued_min > 0 &&
	    (double)f->df_queued_last >= fmax(10.0, 0.5 * f->df_jobs_per_sec) &&
	    f->df_queue_trend >= -trend_noise(f);
}

/* "CPU: host 63%, fkworker 1.2 of 2 cores" */
static void
cpu_words(const struct diag_figures *f, char *buf, size_t len)
{
	char host[32] = "host n/a";

	if (f->df_host_cpu >= 0)
		snprintf(host, sizeof(host), "host %.0f%%", f->df_host_cpu * 100);
	snprintf(buf, len, "CPU %s, fkworker %.2f of %.0f cores (wants %.2f)", host,
	    f->df_worker_cores, cpu_cap(f), f->df_worker_demand);
}

/* "queues hold 3100 jobs (+120/s)" */
static void
queue_words(const struct diag_figures *f, char *buf, size_t len)
{
	snprintf(buf, len, "queues hold %lld jobs (%+.0f/s)", (long long)f->df_queued_last,
	    f->df_queue_trend);
}

/*
 * Little's law: busy slots = rate x time per job, so the slots needed for the
 * rate that arrives (done + queue growth), at DIAG_TARGET_BUSY, rounded up to
 * a multiple of the children.
 */
static uint32_t
suggest_slots(const struct diag_figures *f, double *need_rate)
{
	double lambda = f->df_jobs_per_sec + fmax(f->df_queue_trend, 0), need;
	uint32_t step = f->df_cpus > 0 ? f->df_cpus : 1, s;

	*need_rate = lambda;
	if (f->df_jobs_per_sec > 0 && f->df_busy_mean > 0)
		need = lambda * (f->df_busy_mean / f->df_jobs_per_sec) / DIAG_TARGET_BUSY;
	else
		need = 2.0 * f->df_concurrency;	/* no job ended in the window: they run longer */
	if (need < f->df_concurrency + step)
		need = f->df_concurrency + step;
	if (need > CONCURRENCY_MAX)
		need = CONCURRENCY_MAX;
	s = (uint32_t)ceil(need);
	s = (s + step - 1) / step * step;
	return s > CONCURRENCY_MAX ? CONCURRENCY_MAX / step * step : s;
}

static void
judge_slots(const struct diag_figures *f, struct diag_verdict *v)
{
	char q[96], cpu[96], extra[160] = "";
	double lambda;

	v->dv_kind = DIAG_SLOTS;
	v->dv_suggest = suggest_slots(f, &lambda);
	queue_words(f, q, sizeof(q));
	cpu_words(f, cpu, sizeof(cpu));
	snprintf(v->dv_why, sizeof(v->dv_why),
	    "%s while %.0f%% of %u slots are busy and fkworker has CPU to spare (%s)", q,
	    f->df_busy_ratio * 100, f->df_slots, cpu);
	if (f->df_cpu_us_per_job > 0) {
		double cores = lambda * f->df_cpu_us_per_job / 1e6;

		if (cores > DIAG_CPU_LIMIT * cpu_cap(f))
			snprintf(extra, sizeof(extra), "; at %.0f jobs/s fkworker would need "
			    "%.1f cores of %.0f, so expect the CPU to cap it near %.0f jobs/s",
			    lambda, cores, cpu_cap(f),
			    DIAG_CPU_LIMIT * cpu_cap(f) * 1e6 / f->df_cpu_us_per_job);
	}
	if (!f->df_auto)
		snprintf(v->dv_todo, sizeof(v->dv_todo),
		    "too few slots: raise worker.concurrency from %u to %u and reload%s",
		    f->df_concurrency, v->dv_suggest, extra);
	else if (f->df_concurrency < f->df_concurrency_max)
		snprintf(v->dv_todo, sizeof(v->dv_todo), "too few slots: auto is raising the "
		    "concurrency (now %u, up to %u); %u would do%s", f->df_concurrency,
		    f->df_concurrency_max, v->dv_suggest, extra);
	else
		snprintf(v->dv_todo, sizeof(v->dv_todo), "too few slots: auto is at "
		    "worker.concurrency_max %u; raise it to %u (a restart)%s",
		    f->df_concurrency_max, v->dv_suggest, extra);
}

static void
judge_maxed(const struct diag_figures *f, struct diag_verdict *v)
{
	char q[96], cpu[96], per[48] = "";

	v->dv_kind = DIAG_MAXED;
	queue_words(f, q, sizeof(q));
	cpu_words(f, cpu, sizeof(cpu));
	if (f->df_cpu_us_per_job > 0)
		snprintf(per, sizeof(per), ", %.0f us of CPU per job", f->df_cpu_us_per_job);
	snprintf(v->dv_why, sizeof(v->dv_why), "%s and the CPU is at its limit (%s%s)", q,
	    cpu, per);
	snprintf(v->dv_todo, sizeof(v->dv_todo), "this host is maxed out: add hosts (or make "
	    "the jobs cheaper); more slots will not help");
}

static void
judge_server(const struct diag_figures *f, struct diag_verdict *v)
{
	char q[96], rtt[48] = "FETCH round trip n/a", conn[64] = "";

	v->dv_kind = DIAG_SERVER;
	queue_words(f, q, sizeof(q));
	if (f->df_fetch_rtt_us > 0)
		snprintf(rtt, sizeof(rtt), "FETCH round trip up to %.1f ms",
		    f->df_fetch_rtt_us / 1000.0);
	if (f->df_connected < f->df_connections)
		snprintf(conn, sizeof(conn), ", only %u of %u connections up", f->df_connected,
		    f->df_connections);
	snprintf(v->dv_why, sizeof(v->dv_why),
	    "%s while only %.0f%% of %u slots are busy (%s%s)", q, f->df_busy_ratio * 100,
	    f->df_slots, rtt, conn);
	snprintf(v->dv_todo, sizeof(v->dv_todo), "the server (or the network to it) is the "
	    "bottleneck: more slots or hosts will not help; look at the server's CPU and "
	    "its Redis");
}

/* Jobs/s the host could still take: the lower of what its CPU and its slots allow. */
static double
headroom(const struct diag_figures *f)
{
	double h = -1;

	/*
	 * fkworker's own cores, not the host's idle time: other programs'
	 * load shares the CPU with fkworker rather than shutting it out.
	 */
	if (f->df_cpu_us_per_job > 0) {
		double extra = DIAG_CPU_LIMIT * cpu_cap(f) - f->df_worker_cores;

		h = fmax(extra, 0) * 1e6 / f->df_cpu_us_per_job;
	}
	if (f->df_jobs_per_sec > 0 && f->df_busy_mean > 0) {
		double by_slots = f->df_slots * f->df_jobs_per_sec / f->df_busy_mean -
		    f->df_jobs_per_sec;

		h = h < 0 ? fmax(by_slots, 0) : fmin(h, fmax(by_slots, 0));
	}
	return h;
}

static void
judge_keeps_up(const struct diag_figures *f, struct diag_verdict *v)
{
	char q[128], cpu[96];

	v->dv_kind = DIAG_KEEPS_UP;
	v->dv_headroom = headroom(f);
	if (f->df_queued_last > 0 && f->df_queue_trend < 0) {
		v->dv_drain_s = (double)f->df_queued_last / -f->df_queue_trend;
		snprintf(q, sizeof(q), "a backlog of %lld jobs shrinks %.0f/s (empty in %.0f s)",
		    (long long)f->df_queued_last, -f->df_queue_trend, v->dv_drain_s);
	} else if (f->df_queued_last > 0) {
		snprintf(q, sizeof(q), "the queues hold %lld jobs now, but no backlog stood "
		    "through the window", (long long)f->df_queued_last);
	} else {
		snprintf(q, sizeof(q), "the queues are empty");
	}
	cpu_words(f, cpu, sizeof(cpu));
	snprintf(v->dv_why, sizeof(v->dv_why), "%s; %.0f jobs/s, %.0f%% of %u slots busy, %s",
	    q, f->df_jobs_per_sec, f->df_busy_ratio * 100, f->df_slots, cpu);
	if (v->dv_headroom >= 0)
		snprintf(v->dv_todo, sizeof(v->dv_todo), "nothing to do: this host keeps up and "
		    "could take about %.0f jobs/s more%s", v->dv_headroom,
		    f->df_host_cpu >= DIAG_CPU_LIMIT ? " (less while other programs keep the "
		    "host's CPU busy)" : "");
	else
		snprintf(v->dv_todo, sizeof(v->dv_todo), "nothing to do: this host keeps up "
		    "(no job ran, so its headroom is not known)");
}

void
diag_judge(const struct diag_figures *f, const char *unknown, struct diag_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->dv_headroom = v->dv_drain_s = -1;
	if (unknown == NULL && f->df_queued_last < 0)
		unknown = "the server's queue sizes are unknown (no INFO answer)";
	if (unknown != NULL) {
		v->dv_kind = DIAG_UNKNOWN;
		snprintf(v->dv_why, sizeof(v->dv_why), "%s", unknown);
		snprintf(v->dv_todo, sizeof(v->dv_todo), "fix that first, then diagnose again");
		return;
	}
	if (!work_waits(f))
		judge_keeps_up(f, v);
	else if (cpu_at_limit(f))
		judge_maxed(f, v);
	else if (f->df_busy_ratio >= DIAG_ALL_BUSY)
		judge_slots(f, v);
	else
		judge_server(f, v);
}
