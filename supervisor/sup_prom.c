/* SPDX-License-Identifier: MIT */
/*
 * sup_prom: the host's numbers in the Prometheus text exposition format
 * (version 0.0.4) for GET /metrics. Built from the same sources as the
 * status reply (sup_status_build, sup_stats_totals), so a scrape and
 * `fkworkerctl status --json` taken together agree exactly.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "proc.h"
#include "sup.h"

/* Fixed le boundaries (seconds) read from the fine histograms; see hist_count_le. */
static const double le_bounds[] = {
	0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
};

static int oom;	/* an append ran out of memory during this render */

static void
put(struct buf *b, const char *s, size_t n)
{
	if (buf_append(b, s, n) == -1)
		oom = 1;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void out(struct buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (r == -1)
		oom = 1;
}

/* A label value or HELP text escaped as the format asks (\\, \n, and \" in labels). */
static void
put_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else if (*s == '"' && quote)
			puts_(b, "\\\"");
		else
			put(b, s, 1);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s ", name);
	put_escaped(b, help, 0);
	out(b, "\n# TYPE %s %s\n", name, type);
}

/*
 * One sample: name{k1="v1",k2="v2"} value. labels holds name/value pairs,
 * NULL-terminated; value is printed with fmt ("%" PRIu64 or "%.6f").
 */
static void
sample_start(struct buf *b, const char *name, const char *const *labels)
{
	puts_(b, name);
	if (labels == NULL || labels[0] == NULL)
		return;
	puts_(b, "{");
	for (int i = 0; labels[i] != NULL; i += 2) {
		out(b, "%s%s=\"", i ? "," : "", labels[i]);
		put_escaped(b, labels[i + 1], 1);
		puts_(b, "\"");
	}
	puts_(b, "}");
}

static void
sample_u64(struct buf *b, const char *name, const char *const *labels, uint64_t v)
{
	sample_start(b, name, labels);
	out(b, " %" PRIu64 "\n", v);
}

static void
sample_dbl(struct buf *b, const char *name, const char *const *labels, double v)
{
	sample_start(b, name, labels);
	out(b, " %.6f\n", v);
}

static void
scalar(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	family(b, name, type, help);
	sample_u64(b, name, NULL, v);
}

/* A histogram family from a fine microsecond histogram. */
static void
histogram(struct buf *b, const char *name, const char *help, const struct hist *h)
{
	char bucket[96], le[32], sum[96], count[96];
	const char *labels[] = { "le", le, NULL };

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(sum, sizeof(sum), "%s_sum", name);
	snprintf(count, sizeof(count), "%s_count", name);
	family(b, name, "histogram", help);
	for (size_t i = 0; i < FKW_NELEM(le_bounds); i++) {
		snprintf(le, sizeof(le), "%g", le_bounds[i]);
		sample_u64(b, bucket, labels, hist_count_le(h, (uint64_t)(le_bounds[i] * 1e6 + 0.5)));
	}
	snprintf(le, sizeof(le), "+Inf");
	sample_u64(b, bucket, labels, hist_total(h));
	sample_dbl(b, sum, NULL, (double)h->h_sum_us / 1e6);
	sample_u64(b, count, NULL, hist_total(h));
}

/*
 * Per jobtype, and failures per jobtype and error type: the exact counts
 * (sup_count.c), the same cells as status's jobtypes and failed_by, so each
 * family adds up to the host's processed and failed. The queue is not kept
 * per count, so there is no queue label.
 */
static void
jobs(struct buf *b)
{
	static struct stats_tally t;

	sup_count_host(&t);
	family(b, "fkworker_jobs_processed_total", "counter",
	    "Jobs run and ACKed (confirmed by the server), per jobtype.");
	for (uint32_t i = 0; i < t.ty_njt; i++) {
		const char *labels[] = { "jobtype", t.ty_jt[i].tj_name, NULL };
		sample_u64(b, "fkworker_jobs_processed_total", labels, t.ty_jt[i].tj_processed);
	}
	family(b, "fkworker_jobs_failed_total", "counter",
	    "Jobs FAILed (confirmed by the server), per jobtype and error type.");
	for (uint32_t i = 0; i < t.ty_nfe; i++) {
		const char *labels[] = { "jobtype", t.ty_fe[i].tf_jobtype,
		    "errtype", t.ty_fe[i].tf_errtype, NULL };
		sample_u64(b, "fkworker_jobs_failed_total", labels, t.ty_fe[i].tf_failed);
	}
}

static double
rusage_seconds(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The children's rows: CPU and memory of each live child, and the host's total CPU. */
static void
processes(struct buf *b, const struct ctl_status *st)
{
	double master = rusage_seconds(RUSAGE_SELF), total;
	char idx[16], pid[16];
	const char *labels[] = { "child", idx, "pid", pid, NULL };

	/* Reaped children (and what they reaped) plus the live ones: a host counter that never goes back. */
	total = master + rusage_seconds(RUSAGE_CHILDREN);
	family(b, "fkworker_child_cpu_seconds_total", "counter",
	    "CPU time (user and system) of each running child, from /proc.");
	for (uint32_t i = 0; i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];
		double s;
		if (c->cc_pid <= 0)
			continue;
		snprintf(idx, sizeof(idx), "%d", c->cc_index);
		snprintf(pid, sizeof(pid), "%d", c->cc_pid);
		s = fmax(proc_cpu_seconds(c->cc_pid), 0);
		total += s;
		sample_dbl(b, "fkworker_child_cpu_seconds_total", labels, s);
	}
	family(b, "fkworker_child_resident_memory_bytes", "gauge",
	    "Resident memory of each running child.");
	for (uint32_t i = 0; i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];
		if (c->cc_pid <= 0 || c->cc_rss_kb < 0)
			continue;
		snprintf(idx, sizeof(idx), "%d", c->cc_index);
		snprintf(pid, sizeof(pid), "%d", c->cc_pid);
		sample_u64(b, "fkworker_child_resident_memory_bytes", labels,
		    (uint64_t)c->cc_rss_kb * 1024);
	}
	family(b, "fkworker_master_cpu_seconds_total", "counter",
	    "CPU time (user and system) of the master process.");
	sample_dbl(b, "fkworker_master_cpu_seconds_total", NULL, master);
	family(b, "fkworker_cpu_seconds_total", "counter",
	    "CPU time of every fkworker process of the host: master, children and the "
	    "children that have exited.");
	sample_dbl(b, "fkworker_cpu_seconds_total", NULL, total);
	scalar(b, "fkworker_master_resident_memory_bytes", "gauge",
	    "Resident memory of the master process.", (uint64_t)(proc_rss_kb(0) > 0 ?
	    proc_rss_kb(0) : 0) * 1024);
	scalar(b, "fkworker_resident_memory_bytes", "gauge",
	    "Resident memory of the master and its children.",
	    (uint64_t)(st->st_rss_kb > 0 ? st->st_rss_kb : 0) * 1024);
}

static void
queues(struct buf *b, const struct ctl_status *st)
{
	if (!st->st_queues_known)
		return;
	family(b, "fkworker_server_queue_jobs", "gauge",
	    "Jobs waiting in each server queue, from the master's last INFO.");
	for (uint32_t i = 0; i < st->st_nqueues; i++) {
		const char *labels[] = { "queue", st->st_queues[i].cq_name, NULL };
		sample_u64(b, "fkworker_server_queue_jobs", labels,
		    st->st_queues[i].cq_size > 0 ? (uint64_t)st->st_queues[i].cq_size : 0);
	}
	family(b, "fkworker_server_info_age_seconds", "gauge",
	    "Age of the queue sizes: seconds since the server answered INFO.");
	sample_dbl(b, "fkworker_server_info_age_seconds", NULL, (double)st->st_queues_age_ms / 1e3);
}

static void
host(struct buf *b, const struct ctl_status *st)
{
	uint64_t window = 0;

	for (uint32_t i = 0; i < st->st_nchild; i++)
		if (strcmp(st->st_child[i].cc_state, "draining") != 0)
			window += st->st_child[i].cc_window;
	scalar(b, "fkworker_slots", "gauge", "Job slots of the serving children.", st->st_slots);
	scalar(b, "fkworker_concurrency", "gauge",
	    "The host's concurrency now (worker.concurrency, or auto's current value).",
	    st->st_concurrency);
	scalar(b, "fkworker_concurrency_min", "gauge",
	    "The least concurrency auto goes to (fixed: the value).", st->st_concurrency_min);
	scalar(b, "fkworker_concurrency_max", "gauge",
	    "The most concurrency can reach live (auto's ceiling, the slots sized at start).",
	    st->st_concurrency_max);
	scalar(b, "fkworker_slots_busy", "gauge", "Job slots running a job now.", st->st_busy);
	scalar(b, "fkworker_connections", "gauge",
	    "Faktory connections the serving children hold.", st->st_connections);
	scalar(b, "fkworker_connections_connected", "gauge",
	    "Of those, connected now.", st->st_connected);
	scalar(b, "fkworker_fetch_window", "gauge",
	    "FETCH window: the most FETCHes the serving children keep out now.", window);
	scalar(b, "fkworker_fetches_in_flight", "gauge", "FETCHes out now.", st->st_fetching);
	scalar(b, "fkworker_fetches_total", "counter", "FETCH commands sent.", st->st_fetches);
	scalar(b, "fkworker_fetches_empty_total", "counter",
	    "FETCHes answered without a job.", st->st_fetch_empty);
	scalar(b, "fkworker_loop_naps_total", "counter",
	    "Coalescing naps the children's loops took (worker.coalesce_us): only while "
	    "jobs wait long in the server's queue.", st->st_naps);
	scalar(b, "fkworker_child_restarts_total", "counter",
	    "Children respawned after the first start (crashes, recycling, reloads).",
	    st->st_restarts);
	scalar(b, "fkworker_faktory_connected", "gauge",
	    "1 when the master's own connection to the server is up.",
	    (uint64_t)st->st_faktory_up);
	scalar(b, "fkworker_stats_records_dropped_total", "counter",
	    "Statistics records lost to full rings.", st->st_dropped);
}

int
sup_prom_render(struct buf *b, uint64_t scrapes)
{
	const struct stats_counters *t;
	struct ctl_status *st;
	uint64_t dropped;

	oom = 0;
	/* Status first: it drains the children's rings, so the totals below are as fresh. */
	if ((st = sup_status_build()) == NULL)
		return -1;
	t = sup_stats_totals(&dropped, NULL);
	family(b, "fkworker_build_info", "gauge", "The running fkworker's version.");
	sample_u64(b, "fkworker_build_info", (const char *const[]){ "version", SUP_VERSION,
	    NULL }, 1);
	jobs(b);
	histogram(b, "fkworker_job_duration_seconds",
	    "Run time of jobs, handler start to completion.", &t->sc_lat);
	histogram(b, "fkworker_job_pickup_latency_seconds",
	    "Wait of jobs before they started: start minus the job's enqueued_at "
	    "(server clock; skewed ones count as 0).", &t->sc_pickup);
	scalar(b, "fkworker_job_pickup_skewed_total", "counter",
	    "Jobs enqueued \"in the future\" by the server's clock (clock skew).",
	    t->sc_pickup_skewed);
	scalar(b, "fkworker_job_pickup_unknown_total", "counter",
	    "Jobs without a readable enqueued_at (not in the pickup histogram).",
	    t->sc_pickup_unknown);
	host(b, st);
	processes(b, st);
	queues(b, st);
	scalar(b, "fkworker_metrics_scrapes_total", "counter", "Requests for /metrics served.",
	    scrapes);
	ctl_status_free(st);
	return oom ? -1 : 0;
}
