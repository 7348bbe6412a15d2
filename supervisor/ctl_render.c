/* SPDX-License-Identifier: MIT */
/*
 * ctl_render: fkworkerctl's two views of one struct ctl_status. JSON walks
 * the field tables of common/ctl.c, so a field added there shows up here
 * without a second template; the table picks what a person wants to read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sup.h"

void
ctl_render_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

static const char *
fmt_kb(int64_t kb, char *buf, size_t len)
{
	if (kb < 0)
		snprintf(buf, len, "-");
	else if (kb < 1024)
		snprintf(buf, len, "%" PRId64 " KiB", kb);
	else if (kb < 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)kb / 1024);
	else
		snprintf(buf, len, "%.2f GiB", (double)kb / (1024 * 1024));
	return buf;
}

static const char *
fmt_us(uint64_t us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", (double)us / 1000);
	else
		snprintf(buf, len, "%.2fs", (double)us / 1e6);
	return buf;
}

/* A set size, or "?" when the server's INFO did not give it. */
static const char *
fmt_size(int64_t n, char *buf, size_t len)
{
	if (n < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%" PRId64, n);
	return buf;
}

static void
text_server(FILE *f, const struct ctl_status *st)
{
	char age[32], r[24], d[24], sc[24];

	fprintf(f, "server     ");
	if (!st->st_queues_known) {
		fprintf(f, "unknown (the server has not answered INFO)\n");
		return;
	}
	ctl_render_duration(st->st_queues_age_ms, age, sizeof(age));
	fprintf(f, "retries %s  dead %s  scheduled %s   (INFO as of %s ago)\n",
	    fmt_size(st->st_server_retries, r, sizeof(r)),
	    fmt_size(st->st_server_dead, d, sizeof(d)),
	    fmt_size(st->st_server_scheduled, sc, sizeof(sc)), age);
}

/* One line per queue: "  name size  +trend/s", the configured ones first. */
static void
text_queues(FILE *f, const struct ctl_status *st)
{
	char age[32], win[32];

	fprintf(f, "queues     ");
	if (!st->st_queues_known) {
		fprintf(f, "unknown (the server has not answered INFO)\n");
		return;
	}
	ctl_render_duration(st->st_queues_age_ms, age, sizeof(age));
	ctl_render_duration(st->st_trend_window_ms, win, sizeof(win));
	fprintf(f, "size and trend (as of %s ago", age);
	if (st->st_trend_window_ms > 0)
		fprintf(f, "; trend over %s", win);
	fprintf(f, ")\n");
	for (uint32_t i = 0; i < st->st_nqueues; i++) {
		const struct ctl_queue *q = &st->st_queues[i];

		fprintf(f, "  %s %" PRId64, q->cq_name, q->cq_size);
		if (q->cq_trend_known)
			fprintf(f, "  %+.1f/s", q->cq_trend);
		else
			fprintf(f, "  trend n/a");
		fprintf(f, "%s\n", q->cq_configured ? "" : "  (not in worker.queues)");
	}
	if (st->st_queues_omitted > 0)
		fprintf(f, "  ... %u more queue%s on the server (the largest are shown)\n",
		    st->st_queues_omitted, st->st_queues_omitted == 1 ? "" : "s");
}

/* CPU of the host's fkworker processes and how often every slot was busy. */
static void
text_load(FILE *f, const struct ctl_status *st)
{
	fprintf(f, "cpu        %.1f%% of a core (last 10 s; %u cores = %u%%), %.1f CPU s "
	    "since start (master and children)\n", st->st_cpu_pct, st->st_cpu_cores,
	    st->st_cpu_cores * 100, st->st_cpu_s);
	fprintf(f, "saturation %u/%u slots busy now; every slot busy %.0f%% of the last 10 s; "
	    "all slots became busy %" PRIu64 " time%s\n", st->st_busy, st->st_slots,
	    st->st_sat_pct, st->st_sat_count, st->st_sat_count == 1 ? "" : "s");
}

/* Latency quantiles, or n/a while no job has finished. */
static void
text_latency(FILE *f, const struct ctl_status *st)
{
	char p50[32], p99[32];

	if (st->st_processed + st->st_failed == 0) {
		fprintf(f, "latency    n/a (no job has run)\n");
		return;
	}
	fprintf(f, "latency    p50 %s  p99 %s (%s)\n", fmt_us(st->st_p50_us, p50, sizeof(p50)),
	    fmt_us(st->st_p99_us, p99, sizeof(p99)),
	    strcmp(st->st_lat_window, "10s") == 0 ? "last 10 s" : "since start");
}

/* Enqueued (server clock) to started (host clock): the wait a job had before a slot took it. */
static void
text_pickup(FILE *f, const struct ctl_status *st)
{
	char p50[32], p99[32];

	if (st->st_pickup_n == 0) {
		fprintf(f, "pickup     n/a (no job with enqueued_at started yet)\n");
		return;
	}
	fprintf(f, "pickup     p50 %s  p99 %s (enqueued to started)", fmt_us(st->st_pickup_p50_us,
	    p50, sizeof(p50)), fmt_us(st->st_pickup_p99_us, p99, sizeof(p99)));
	if (st->st_pickup_skewed > 0)
		fprintf(f, "  %" PRIu64 " enqueued in the future: clock skew", st->st_pickup_skewed);
	fputc('\n', f);
}

/* worker.concurrency = "auto": its bounds and the controller's last decision. */
static void
text_auto(FILE *f, const struct ctl_status *st)
{
	if (strcmp(st->st_concurrency_mode, "auto") != 0)
		return;
	fprintf(f, "auto       concurrency %u..%u; last: %s\n", st->st_concurrency_min,
	    st->st_concurrency_max, st->st_auto_last[0] ? st->st_auto_last : "no decision yet");
}

static void
text_host(FILE *f, const struct ctl_status *st)
{
	char up[32], rss[32];
	uint32_t serving = 0;

	for (uint32_t i = 0; i < st->st_nchild; i++)
		serving += strcmp(st->st_child[i].cc_state, "draining") != 0 &&
		    strcmp(st->st_child[i].cc_state, "backoff") != 0;
	ctl_render_duration(st->st_uptime_ms, up, sizeof(up));
	fprintf(f, "fkworker %s on %s (pid %d): %s, up %s\n", st->st_version,
	    st->st_hostname, st->st_pid, st->st_state, up);
	fprintf(f, "faktory    %s  %s", st->st_url,
	    st->st_faktory_up ? "connected" : "NOT connected");
	if (!st->st_faktory_up && st->st_faktory_error[0])
		fprintf(f, " (%s)", st->st_faktory_error);
	fprintf(f, "  wid %s\n", st->st_wid);
	fprintf(f, "children   %u running of %u   slots %u, %u busy (concurrency %s%u)   "
	    "connections %u/%u up\n", serving, st->st_cpus, st->st_slots, st->st_busy,
	    strcmp(st->st_concurrency_mode, "auto") == 0 ? "auto, now " : "",
	    st->st_concurrency, st->st_connected, st->st_connections);
	text_auto(f, st);
	fprintf(f, "fetch      %u FETCH(es) out now; %" PRIu64 " sent, %" PRIu64 " came back "
	    "empty; %" PRIu64 " naps\n", st->st_fetching, st->st_fetches, st->st_fetch_empty,
	    st->st_naps);
	fprintf(f, "jobs       %" PRIu64 " processed, %" PRIu64 " failed   %.0f jobs/s "
	    "(last 10 s)\n", st->st_processed, st->st_failed, st->st_jobs_per_sec);
	text_latency(f, st);
	text_pickup(f, st);
	text_load(f, st);
	fprintf(f, "memory     RSS %s (children and master)   restarts %" PRIu64 "\n",
	    fmt_kb(st->st_rss_kb, rss, sizeof(rss)), st->st_restarts);
	if (st->st_dropped > 0)
		fprintf(f, "warning    %" PRIu64 " stats records dropped (full rings)\n",
		    st->st_dropped);
	text_server(f, st);
	text_queues(f, st);
}

/* One line per (jobtype, errtype) that failed: what went wrong, and how often. */
static void
text_failures(FILE *f, const struct ctl_status *st)
{
	for (uint32_t i = 0; i < st->st_nfailures; i++) {
		const struct ctl_failure *x = &st->st_failures[i];

		if (x->cf_failed > 0)
			fprintf(f, "failed     %-20s %-20s %" PRIu64 "\n", x->cf_jobtype,
			    x->cf_errtype, x->cf_failed);
	}
}

void
ctl_render_text(FILE *f, const struct ctl_status *st)
{
	char cpu[16], conns[32], fetch[32], rtt[32], rss[32], up[32];

	text_host(f, st);
	text_failures(f, st);
	fprintf(f, "\n%-5s %-4s %-8s %-9s %6s %5s %-9s %-9s %8s %12s %8s %9s %6s %5s %10s %8s "
	    "%8s\n", "CHILD", "CPU", "PID", "STATE", "SLOTS", "BUSY", "CONNS", "FETCH", "RTT",
	    "PROCESSED", "FAILED", "JOBS/S", "CPU%", "SAT%", "RSS", "RESTARTS", "UPTIME");
	for (uint32_t i = 0; i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];

		if (c->cc_cpu >= 0)
			snprintf(cpu, sizeof(cpu), "%d", c->cc_cpu);
		else
			snprintf(cpu, sizeof(cpu), "-");
		snprintf(conns, sizeof(conns), "%u/%u", c->cc_connected, c->cc_connections);
		/* FETCHes out now of the window's most. */
		snprintf(fetch, sizeof(fetch), "%u/%u", c->cc_fetching, c->cc_window);
		if (c->cc_fetch_rtt_us > 0)
			fmt_us(c->cc_fetch_rtt_us, rtt, sizeof(rtt));
		else
			snprintf(rtt, sizeof(rtt), "-");
		ctl_render_duration(c->cc_uptime_ms, up, sizeof(up));
		fprintf(f, "%-5d %-4s %-8d %-9s %6u %5u %-9s %-9s %8s %12" PRIu64 " %8" PRIu64
		    " %9.0f %6.1f %5.0f %10s %8u %8s\n", c->cc_index, cpu, c->cc_pid,
		    c->cc_state, c->cc_slots, c->cc_busy, conns, fetch, rtt, c->cc_processed,
		    c->cc_failed, c->cc_jobs_per_sec, c->cc_cpu_pct, c->cc_sat_pct,
		    fmt_kb(c->cc_rss_kb, rss, sizeof(rss)), c->cc_restarts, c->cc_pid ? up : "-");
	}
}

static json_t *
json_fields(const struct ctl_field *fields, const void *base)
{
	json_t *o = json_object();

	for (const struct ctl_field *fd = fields; fd->f_name != NULL; fd++) {
		const char *p = (const char *)base + fd->f_off;
		json_t *v = NULL;

		switch (fd->f_type) {
		case CTL_F_I32: v = json_integer(*(const int32_t *)(const void *)p); break;
		case CTL_F_U32: v = json_integer(*(const uint32_t *)(const void *)p); break;
		case CTL_F_I64: v = json_integer(*(const int64_t *)(const void *)p); break;
		case CTL_F_U64:
			v = json_integer((json_int_t)*(const uint64_t *)(const void *)p);
			break;
		case CTL_F_DBL: v = json_real(*(const double *)(const void *)p); break;
		case CTL_F_BOOL: v = json_boolean(*(const int32_t *)(const void *)p); break;
		case CTL_F_STR: v = json_string(p); break;
		}
		/* A string that is not UTF-8 (a hostname) becomes null rather than fail. */
		json_object_set_new(o, fd->f_name, v != NULL ? v : json_null());
	}
	return o;
}

json_t *
ctl_render_fields(const struct ctl_field *fields, const void *base)
{
	return json_fields(fields, base);
}

/* Values that are not numbers yet: null rather than a misleading 0 or -1. */
static void
json_unknowns(json_t *root, const struct ctl_status *st)
{
	static const char *const lat[] = { "latency_p50_us", "latency_p99_us" };
	static const char *const sets[] = { "server_retries", "server_dead", "server_scheduled" };
	const int64_t size[] = { st->st_server_retries, st->st_server_dead,
	    st->st_server_scheduled };

	if (st->st_processed + st->st_failed == 0)
		for (size_t i = 0; i < FKW_NELEM(lat); i++)
			json_object_set_new(root, lat[i], json_null());
	for (size_t i = 0; i < FKW_NELEM(sets); i++)
		if (!st->st_queues_known || size[i] < 0)
			json_object_set_new(root, sets[i], json_null());
}

static json_t *
json_queue_list(const struct ctl_status *st)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < st->st_nqueues; i++) {
		json_t *o = json_fields(ctl_queue_fields, &st->st_queues[i]);

		if (!st->st_queues[i].cq_trend_known)
			json_object_set_new(o, "trend_per_sec", json_null());
		json_object_del(o, "trend_known");
		json_array_append_new(a, o);
	}
	return a;
}

int
ctl_render_json(FILE *f, const struct ctl_status *st)
{
	json_t *root = json_fields(ctl_status_fields, st);
	json_t *q = json_object(), *ch = json_array(), *jt = json_array(), *fb = json_array();
	int rc;

	json_unknowns(root, st);
	for (uint32_t i = 0; i < st->st_nqueues; i++)
		json_object_set_new(q, st->st_queues[i].cq_name,
		    json_integer(st->st_queues[i].cq_size));
	for (uint32_t i = 0; i < st->st_nchild; i++)
		json_array_append_new(ch, json_fields(ctl_child_fields, &st->st_child[i]));
	for (uint32_t i = 0; i < st->st_njobtypes; i++)
		json_array_append_new(jt, json_fields(ctl_jobtype_fields, &st->st_jobtypes[i]));
	for (uint32_t i = 0; i < st->st_nfailures; i++)
		json_array_append_new(fb, json_fields(ctl_failure_fields, &st->st_failures[i]));
	json_object_set_new(root, "queues", q);
	json_object_set_new(root, "queue_list", json_queue_list(st));
	json_object_set_new(root, "jobtypes", jt);
	json_object_set_new(root, "failed_by", fb);
	json_object_set_new(root, "children", ch);
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc;
}
