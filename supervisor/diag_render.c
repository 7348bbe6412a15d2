/* SPDX-License-Identifier: MIT */
/* diag_render: a diagnosis for a person (text) or a script (JSON). */
#include <jansson.h>
#include <stdio.h>

#include "diag.h"

const char *
diag_kind_text(enum diag_kind k)
{
	switch (k) {
	case DIAG_KEEPS_UP: return "keeps up";
	case DIAG_SERVER: return "the server is the bottleneck";
	case DIAG_SLOTS: return "too few slots";
	case DIAG_MAXED: return "this host is maxed out";
	case DIAG_UNKNOWN: break;
	}
	return "cannot tell";
}

/* "201 ms", "n/a" when not known. */
static const char *
us_words(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "n/a");
	else if (us < 1000)
		snprintf(buf, len, "%lld us", (long long)us);
	else if (us < 10000000)
		snprintf(buf, len, "%.1f ms", us / 1000.0);
	else
		snprintf(buf, len, "%.1f s", us / 1e6);
	return buf;
}

void
diag_render_text(FILE *out, const struct diag_figures *f, const struct diag_verdict *v)
{
	char a[32], b[32], c[32], d[32];

	fprintf(out, "verdict     %s\n", diag_kind_text(v->dv_kind));
	fprintf(out, "why         %s\n", v->dv_why);
	fprintf(out, "do          %s\n\n", v->dv_todo);
	fprintf(out, "sampled     %.1f s (%u samples)\n", f->df_seconds, f->df_samples);
	fprintf(out, "jobs/s      %.0f   CPU per job %s\n", f->df_jobs_per_sec,
	    us_words(f->df_cpu_us_per_job < 0 ? -1 : (int64_t)f->df_cpu_us_per_job, a,
	    sizeof(a)));
	if (f->df_queued_last >= 0)
		fprintf(out, "queues      %lld jobs (from %lld, %+.1f/s)\n",
		    (long long)f->df_queued_last, (long long)f->df_queued_first,
		    f->df_queue_trend);
	else
		fprintf(out, "queues      n/a\n");
	fprintf(out, "slots       %.0f of %u busy on average (%.0f%%), concurrency %u\n",
	    f->df_busy_mean, f->df_slots, f->df_busy_ratio * 100, f->df_concurrency);
	fprintf(out, "connections %u/%u up, FETCH round trip up to %s\n", f->df_connected,
	    f->df_connections, us_words(f->df_fetch_rtt_us ? (int64_t)f->df_fetch_rtt_us : -1, a,
	    sizeof(a)));
	fprintf(out, "run time    p50 %s  p99 %s\n", us_words(f->df_run_p50_us, a, sizeof(a)),
	    us_words(f->df_run_p99_us, b, sizeof(b)));
	fprintf(out, "pickup      p50 %s  p99 %s\n", us_words(f->df_pick_p50_us, c, sizeof(c)),
	    us_words(f->df_pick_p99_us, d, sizeof(d)));
	if (f->df_host_cpu >= 0)
		snprintf(a, sizeof(a), "%.0f%%", f->df_host_cpu * 100);
	else
		snprintf(a, sizeof(a), "n/a");
	fprintf(out, "CPU         host %s of %u cores; fkworker used %.2f cores, wanted %.2f "
	    "(%u children)\n", a, f->df_cores, f->df_worker_cores, f->df_worker_demand,
	    f->df_cpus);
}

static json_t *
opt_real(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *
opt_int(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
figures_json(const struct diag_figures *f)
{
	return json_pack("{s:f, s:I, s:f, s:o, s:o, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:f, s:f, s:o, s:o, s:I, s:o, s:o, s:o, s:o}",
	    "seconds", f->df_seconds, "samples", (json_int_t)f->df_samples,
	    "jobs_per_sec", f->df_jobs_per_sec,
	    "queued_first", opt_int(f->df_queued_first),
	    "queued_last", opt_int(f->df_queued_last),
	    "queue_trend_per_sec", f->df_queue_trend, "busy_ratio", f->df_busy_ratio,
	    "busy_mean", f->df_busy_mean, "slots", (json_int_t)f->df_slots,
	    "concurrency", (json_int_t)f->df_concurrency, "cpus", (json_int_t)f->df_cpus,
	    "cores", (json_int_t)f->df_cores, "connections", (json_int_t)f->df_connections,
	    "connected", (json_int_t)f->df_connected, "worker_cores", f->df_worker_cores,
	    "worker_demand_cores", f->df_worker_demand,
	    "host_cpu", opt_real(f->df_host_cpu), "cpu_us_per_job",
	    opt_real(f->df_cpu_us_per_job), "fetch_rtt_us", (json_int_t)f->df_fetch_rtt_us,
	    "run_p50_us", opt_int(f->df_run_p50_us), "run_p99_us", opt_int(f->df_run_p99_us),
	    "pickup_p50_us", opt_int(f->df_pick_p50_us),
	    "pickup_p99_us", opt_int(f->df_pick_p99_us));
}

int
diag_render_json(FILE *out, const struct diag_figures *f, const struct diag_verdict *v)
{
	json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
	    "verdict", diag_kind_name(v->dv_kind), "why", v->dv_why, "do", v->dv_todo,
	    "suggest_concurrency", v->dv_suggest ? json_integer(v->dv_suggest) : json_null(),
	    "headroom_jobs_per_sec", opt_real(v->dv_headroom),
	    "drain_seconds", opt_real(v->dv_drain_s), "figures", figures_json(f));
	int rc;

	if (root == NULL)
		return -1;
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc;
}
