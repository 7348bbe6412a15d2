/* SPDX-License-Identifier: MIT */
/*
 * wrk_stats: this child's counters, its scoreboard slot and in-flight table
 * (the master FAILs those jids if the child dies), and the msgpack record it
 * writes to its ring every stats interval. Writes only this child's position.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "wrk_int.h"

static int
jobtype_index(const char *name)
{
	struct stats_counters *c = &wrk_env->we_stats;

	for (uint32_t i = 0; i < c->sc_njt; i++)
		if (strcmp(c->sc_jt[i].jt_name, name) == 0)
			return (int)i;
	if (c->sc_njt < STATS_JT_MAX - 1 || (c->sc_njt == STATS_JT_MAX - 1 &&
	    strlen(name) < sizeof(c->sc_jt[0].jt_name))) {
		if (c->sc_njt == STATS_JT_MAX - 1)
			name = "*other*";
		strncpy(c->sc_jt[c->sc_njt].jt_name, name, sizeof(c->sc_jt[0].jt_name) - 1);
		return (int)c->sc_njt++;
	}
	return STATS_JT_MAX - 1;
}

void
wrk_stats_init(void)
{
	const struct wrk_ctx *x = wrk_env->we_ctx;
	struct stats_slot *sl = x->wc_pos.sp_slot;

	memset(&wrk_env->we_stats, 0, sizeof(wrk_env->we_stats));
	wrk_env->we_stats.sc_generation = x->wc_generation;
	if (sl == NULL)
		return;
	stats_slot_begin(sl);
	sl->sl_pid = (int32_t)getpid();
	sl->sl_generation = x->wc_generation;
	sl->sl_state = STATS_ST_STARTING;
	sl->sl_index = x->wc_index;
	sl->sl_cpu = x->wc_cpu;
	sl->sl_nslots = (uint32_t)wrk_env->we_cap;
	sl->sl_nconns = (uint32_t)wrk_env->we_pool.po_n;
	sl->sl_connected = 0;
	sl->sl_busy = 0;
	sl->sl_inflight_cap = x->wc_pos.sp_inflight_cap;
	sl->sl_started_ms = now_ms();
	sl->sl_updated_ms = sl->sl_started_ms;
	stats_slot_end(sl);
	for (uint32_t i = 0; i < x->wc_pos.sp_inflight_cap; i++)
		x->wc_pos.sp_inflight[i].if_jid[0] = '\0';
}

/*
 * Pickup latency: now minus the server's enqueued_at, both wall clocks of
 * different hosts. A job "enqueued in the future" is clock skew, not a
 * negative wait: it counts as 0 and is counted apart so the skew shows.
 */
static int64_t
pickup(const struct wrk_job *j)
{
	struct stats_counters *c = &wrk_env->we_stats;
	struct timespec ts;
	int64_t now;

	if (j->jb_enqueued_us <= 0) {
		c->sc_pickup_unknown++;
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (now < j->jb_enqueued_us) {
		c->sc_pickup_skewed++;
		hist_add(&c->sc_pickup, 0);
		return -1;
	}
	hist_add(&c->sc_pickup, (uint64_t)(now - j->jb_enqueued_us));
	return now - j->jb_enqueued_us;
}

void
wrk_stats_job_started(struct wrk_slot *s)
{
	struct wrk_job *j = &s->sl_job;
	const char *q = json_string_value(json_object_get(j->jb_json, "queue"));

	wrk_env->we_stats.sc_fetched++;
	wrk_env->we_nbusy++;
	s->sl_jt = jobtype_index(j->jb_jobtype);
	wrk_coalesce_pickup(pickup(j));
	/* The slot index is the entry: a slot runs one job or holds one report. */
	wrk_count_started(s, j->jb_jobtype, q != NULL ? q : "default", j->jb_jid, j->jb_jid_len);
}

void
wrk_stats_report_confirmed(struct wrk_slot *s)
{
	struct stats_counters *c = &wrk_env->we_stats;

	wrk_count_confirmed(s);
	if (s->sl_report_ok)
		c->sc_processed++;
	else
		c->sc_failed++;
	if (s->sl_jt < 0)
		return;
	c->sc_busy_us += s->sl_report_us;
	hist_add(&c->sc_lat, s->sl_report_us);
	if (s->sl_report_ok)
		c->sc_jt[s->sl_jt].jt_processed++;
	else
		c->sc_jt[s->sl_jt].jt_failed++;
	hist_add(&c->sc_jt[s->sl_jt].jt_lat, s->sl_report_us);
	s->sl_jt = -1;
}

void
wrk_stats_state(enum stats_state st)
{
	struct stats_slot *sl = wrk_env->we_ctx->wc_pos.sp_slot;

	if (sl == NULL)
		return;
	stats_slot_begin(sl);
	sl->sl_state = st;
	sl->sl_updated_ms = now_ms();
	stats_slot_end(sl);
}

void
wrk_stats_publish(void)
{
	const struct stats_pos *p = &wrk_env->we_ctx->wc_pos;
	struct stats_counters *c = &wrk_env->we_stats;
	void *rec = NULL;
	size_t len = 0;
	int lean;

	c->sc_rss_kb = proc_rss_kb(0);
	c->sc_naps = ev_naps(wrk_env->we_loop);
	if (p->sp_slot != NULL) {
		stats_slot_begin(p->sp_slot);
		const struct wrk_window *w = &wrk_env->we_win;
		p->sp_slot->sl_nslots = (uint32_t)wrk_env->we_cap;
		p->sp_slot->sl_connected = (uint32_t)wrk_env->we_pool.po_nready;
		p->sp_slot->sl_busy = (uint32_t)wrk_env->we_nbusy;
		p->sp_slot->sl_window = (uint32_t)wrk_fetch_window(w);
		p->sp_slot->sl_fetching = (uint32_t)w->fw_out;
		p->sp_slot->sl_fetch_rtt_us = (uint32_t)(w->fw_srtt > UINT32_MAX ?
		    UINT32_MAX : w->fw_srtt);
		p->sp_slot->sl_nap_us = (uint32_t)wrk_coalesce_bound();
		p->sp_slot->sl_updated_ms = now_ms();
		stats_slot_end(p->sp_slot);
	}
	if (p->sp_ring == NULL)
		return;
	/* A record takes at most a quarter of the ring, so the master never falls a record behind. */
	if (stats_counters_encode_fit(c, p->sp_ring->rg_size / 4, &rec, &len, &lean) == 0) {
		if (lean && !wrk_env->we_stats_lean)
			log_warnx("stats: a record is over %u bytes; per-jobtype run-time "
			    "histograms are left out of it", p->sp_ring->rg_size / 4);
		wrk_env->we_stats_lean = lean;
		stats_ring_put(p->sp_ring, rec, (uint32_t)len);
	}
	free(rec);
}
