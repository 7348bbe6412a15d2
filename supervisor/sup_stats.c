/* SPDX-License-Identifier: MIT */
/*
 * sup_stats: the master's side of the shared region. Drains each child's
 * ring on a timer (stats interval) keeping the last record, copies its
 * scoreboard slot, samples totals every second for 10 s rates and latency
 * quantiles, and folds a dead child's final counters into host totals so
 * that numbers survive respawns.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sup.h"

#define SAMPLE_MS	1000
#define REC_MAX		(64u << 10)	/* a full record is ~12 KiB */
#define DRAIN_MAX	4096		/* records per child per drain, bounded */

struct host_sample {
	uint64_t	hs_ms;
	uint64_t	hs_done;
	struct hist	hs_lat;
	struct hist	hs_pickup;
};

static struct stats_counters folded;	/* children that are gone */
static struct stats_counters scratch;	/* host totals (too large for the stack) */
static uint64_t folded_dropped;
static uint64_t bad_records;
static struct host_sample samples[SUP_RATE_SAMPLES];
static int nhist;
static struct ev_timer drain_timer, sample_timer;
static unsigned char *recbuf;

static void drain_fired(struct ev_loop *, struct ev_timer *);
static void sample_fired(struct ev_loop *, struct ev_timer *);

void
sup_stats_init(void)
{
	if ((recbuf = malloc(REC_MAX)) == NULL)
		fatal(SUP_EX_OSERR, "malloc");
	/* The window starts with the master: a young master's rate is not 0. */
	samples[0].hs_ms = now_ms();
	nhist = 1;
	ev_timer_init(&drain_timer, drain_fired, NULL);
	ev_timer_init(&sample_timer, sample_fired, NULL);
	ev_timer_start(sup_env->se_loop, &drain_timer,
	    (uint64_t)sup_env->se_conf->cf_stats_interval);
	ev_timer_start(sup_env->se_loop, &sample_timer, SAMPLE_MS);
}

static int
is_live(const struct sup_child *c)
{
	return c->ch_state >= SUP_CH_STARTING;
}

void
sup_stats_reset(struct sup_child *c)
{
	memset(&c->ch_last, 0, sizeof(c->ch_last));
	memset(&c->ch_slot, 0, sizeof(c->ch_slot));
	c->ch_sampled_ms = 0;
	c->ch_dropped = 0;
	c->ch_nrate = 0;
}

void
sup_stats_drain(struct sup_child *c)
{
	struct stats_ring *r = c->ch_sp.sp_ring;
	struct stats_counters rec;
	struct stats_slot sl;
	int n, last = 0;

	/* Records are totals: only the newest one matters. */
	for (int i = 0; i < DRAIN_MAX; i++) {
		n = stats_ring_get(r, recbuf, REC_MAX);
		if (n == 0)
			break;
		if (n > 0)
			last = n;
		else
			bad_records++;
	}
	if (last > 0) {
		if (stats_counters_decode(recbuf, (size_t)last, &rec) == 0 &&
		    rec.sc_generation == c->ch_generation)
			c->ch_last = rec;
		else if (bad_records++ == 0)
			log_warnx("worker %d (pid %d): unreadable stats record", c->ch_index,
			    (int)c->ch_pid);
	}
	/* After the ring: the slot is written before each record, so it is never older. */
	if (stats_slot_read(c->ch_sp.sp_slot, &sl) == 0) {
		c->ch_slot = sl;
		c->ch_sampled_ms = sl.sl_updated_ms;
	}
	c->ch_dropped = atomic_load_explicit(&r->rg_dropped, memory_order_relaxed);
}

/* The jobtype's entry in to, added when new; the last entry takes the overflow. */
static struct stats_jobtype *
jobtype_in(struct stats_counters *to, const char *name)
{
	for (uint32_t i = 0; i < to->sc_njt; i++)
		if (strcmp(to->sc_jt[i].jt_name, name) == 0)
			return &to->sc_jt[i];
	if (to->sc_njt == STATS_JT_MAX) {
		snprintf(to->sc_jt[STATS_JT_MAX - 1].jt_name, sizeof(to->sc_jt[0].jt_name),
		    "*other*");
		return &to->sc_jt[STATS_JT_MAX - 1];
	}
	memset(&to->sc_jt[to->sc_njt], 0, sizeof(to->sc_jt[0]));
	snprintf(to->sc_jt[to->sc_njt].jt_name, sizeof(to->sc_jt[0].jt_name), "%s", name);
	return &to->sc_jt[to->sc_njt++];
}

static void
add_jobtypes(struct stats_counters *to, const struct stats_counters *c)
{
	for (uint32_t i = 0; i < c->sc_njt && i < STATS_JT_MAX; i++) {
		struct stats_jobtype *jt = jobtype_in(to, c->sc_jt[i].jt_name);
		jt->jt_processed += c->sc_jt[i].jt_processed;
		jt->jt_failed += c->sc_jt[i].jt_failed;
		hist_merge(&jt->jt_lat, &c->sc_jt[i].jt_lat);
	}
}

static void
add_counters(struct stats_counters *to, const struct stats_counters *c)
{
	to->sc_fetched += c->sc_fetched;
	to->sc_fetches += c->sc_fetches;
	to->sc_fetch_empty += c->sc_fetch_empty;
	to->sc_processed += c->sc_processed;
	to->sc_failed += c->sc_failed;
	to->sc_reconnects += c->sc_reconnects;
	to->sc_errors += c->sc_errors;
	to->sc_busy_us += c->sc_busy_us;
	to->sc_naps += c->sc_naps;
	hist_merge(&to->sc_lat, &c->sc_lat);
	hist_merge(&to->sc_pickup, &c->sc_pickup);
	to->sc_pickup_skewed += c->sc_pickup_skewed;
	to->sc_pickup_unknown += c->sc_pickup_unknown;
	add_jobtypes(to, c);
}

void
sup_stats_fold(struct sup_child *c)
{
	add_counters(&folded, &c->ch_last);
	folded_dropped += c->ch_dropped;
	/* The position no longer counts: its numbers now live in the totals. */
	memset(&c->ch_last, 0, sizeof(c->ch_last));
	c->ch_dropped = 0;
}

/*
 * Host totals right now: the folded past plus every position's last record;
 * processed and failed are the exact counts (sup_count.c), not the records'.
 */
static void
host_totals(struct stats_counters *t, uint64_t *dropped, uint64_t *last_done_ms)
{
	static struct stats_tally exact;

	*t = folded;
	*dropped = folded_dropped;
	for (int p = 0; p < sup_env->se_npos; p++) {
		add_counters(t, &sup_env->se_child[p].ch_last);
		*dropped += sup_env->se_child[p].ch_dropped;
	}
	sup_count_host(&exact);
	t->sc_processed = exact.ty_processed;
	t->sc_failed = exact.ty_failed;
	if (last_done_ms != NULL)
		*last_done_ms = exact.ty_last_ms;
}

const struct stats_counters *
sup_stats_totals(uint64_t *dropped, uint64_t *last_done_ms)
{
	host_totals(&scratch, dropped, last_done_ms);
	return &scratch;
}

static void
drain_fired(struct ev_loop *loop, struct ev_timer *t)
{
	for (int p = 0; p < sup_env->se_npos; p++)
		if (is_live(&sup_env->se_child[p]))
			sup_stats_drain(&sup_env->se_child[p]);
	ev_timer_start(loop, t, (uint64_t)sup_env->se_conf->cf_stats_interval);
}

static void
push_child_sample(struct sup_child *c, uint64_t now)
{
	uint64_t p, f, last;

	if (c->ch_nrate == SUP_RATE_SAMPLES) {
		memmove(c->ch_rate, c->ch_rate + 1, sizeof(c->ch_rate) - sizeof(c->ch_rate[0]));
		c->ch_nrate--;
	}
	sup_count_child(c, &p, &f, &last);
	c->ch_rate[c->ch_nrate].sa_ms = now;
	c->ch_rate[c->ch_nrate].sa_done = p + f;
	c->ch_nrate++;
}

static void
sample_fired(struct ev_loop *loop, struct ev_timer *t)
{
	const struct stats_counters *tot;
	uint64_t now = now_ms(), dropped;

	tot = sup_stats_totals(&dropped, NULL);
	if (nhist == SUP_RATE_SAMPLES) {
		memmove(samples, samples + 1, sizeof(samples) - sizeof(samples[0]));
		nhist--;
	}
	samples[nhist].hs_ms = now;
	samples[nhist].hs_done = tot->sc_processed + tot->sc_failed;
	samples[nhist].hs_lat = tot->sc_lat;
	samples[nhist].hs_pickup = tot->sc_pickup;
	nhist++;
	for (int p = 0; p < sup_env->se_npos; p++)
		if (is_live(&sup_env->se_child[p]))
			push_child_sample(&sup_env->se_child[p], now);
	ev_timer_start(loop, t, SAMPLE_MS);
}

static double
rate(uint64_t from_ms, uint64_t from_done, uint64_t now, uint64_t done)
{
	if (now <= from_ms || done < from_done)
		return 0;
	return (double)(done - from_done) * 1000.0 / (double)(now - from_ms);
}

/*
 * Quantiles of the last 10 s (the window's oldest sample to now); of
 * everything since start when nothing was added in the window (*recent 0).
 */
static const struct hist *
window(const struct hist *now, const struct hist *then, struct hist *out, int *recent)
{
	hist_diff(out, now, then);
	*recent = hist_total(out) > 0;
	return *recent ? out : now;
}

void
sup_stats_host(struct ctl_status *st)
{
	static struct hist win;
	const struct stats_counters *tot;
	const struct hist *use;
	uint64_t now = now_ms();
	int recent = 0;

	tot = sup_stats_totals(&st->st_dropped, &st->st_last_done_ms);
	st->st_processed = tot->sc_processed;
	st->st_failed = tot->sc_failed;
	st->st_fetches = tot->sc_fetches;
	st->st_fetch_empty = tot->sc_fetch_empty;
	st->st_naps = tot->sc_naps;
	st->st_jobs_per_sec = rate(samples[0].hs_ms, samples[0].hs_done, now,
	    tot->sc_processed + tot->sc_failed);
	use = window(&tot->sc_lat, &samples[0].hs_lat, &win, &recent);
	snprintf(st->st_lat_window, sizeof(st->st_lat_window), "%s", recent ? "10s" : "all");
	st->st_p50_us = hist_quantile(use, 0.50);
	st->st_p99_us = hist_quantile(use, 0.99);
	use = window(&tot->sc_pickup, &samples[0].hs_pickup, &win, &recent);
	st->st_pickup_p50_us = hist_quantile(use, 0.50);
	st->st_pickup_p99_us = hist_quantile(use, 0.99);
	st->st_pickup_n = hist_total(&tot->sc_pickup);
	st->st_pickup_skewed = tot->sc_pickup_skewed;
	st->st_rss_kb = proc_rss_kb(0);
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		if (!is_live(c))
			continue;
		if (c->ch_state != SUP_CH_RETIRING) {
			st->st_slots += c->ch_slot.sl_nslots;
			st->st_connections += c->ch_slot.sl_nconns;
			st->st_connected += c->ch_slot.sl_connected;
		}
		st->st_busy += c->ch_slot.sl_busy;
		st->st_fetching += c->ch_slot.sl_fetching;
		if (c->ch_last.sc_rss_kb > 0)
			st->st_rss_kb += c->ch_last.sc_rss_kb;
		if (c->ch_sampled_ms > st->st_sampled_ms)
			st->st_sampled_ms = c->ch_sampled_ms;
	}
	for (int i = 0; i < sup_env->se_npos / 2; i++)
		st->st_restarts += sup_env->se_index[i].ix_restarts;
}

static const char *
child_state(const struct sup_child *c)
{
	switch (c->ch_state) {
	case SUP_CH_FREE: return "free";
	case SUP_CH_BACKOFF: return "backoff";
	case SUP_CH_STARTING: return "starting";
	case SUP_CH_RETIRING: return "draining";
	case SUP_CH_READY: break;
	}
	return c->ch_slot.sl_state == STATS_ST_QUIET ? "quiet" : "ready";
}

void
sup_stats_child(const struct sup_child *c, struct ctl_child *cc)
{
	uint64_t now = now_ms(), done, processed, failed, last;

	sup_count_child(c, &processed, &failed, &last);
	done = processed + failed;
	memset(cc, 0, sizeof(*cc));
	cc->cc_last_done_ms = last;
	cc->cc_index_done = sup_count_index_done(c->ch_index);
	cc->cc_index = c->ch_index;
	cc->cc_cpu = c->ch_ctx.wc_cpu;
	snprintf(cc->cc_state, sizeof(cc->cc_state), "%s", child_state(c));
	cc->cc_restarts = sup_env->se_index[c->ch_index].ix_restarts;
	if (!is_live(c))
		return;
	cc->cc_pid = (int32_t)c->ch_pid;
	cc->cc_generation = c->ch_generation;
	cc->cc_slots = c->ch_slot.sl_nslots;
	cc->cc_connections = c->ch_slot.sl_nconns;
	cc->cc_connected = c->ch_slot.sl_connected;
	cc->cc_busy = c->ch_slot.sl_busy;
	cc->cc_window = c->ch_slot.sl_window;
	cc->cc_fetching = c->ch_slot.sl_fetching;
	cc->cc_fetch_rtt_us = c->ch_slot.sl_fetch_rtt_us;
	cc->cc_nap_us = c->ch_slot.sl_nap_us;
	cc->cc_processed = processed;
	cc->cc_failed = failed;
	cc->cc_rss_kb = c->ch_last.sc_rss_kb;
	cc->cc_uptime_ms = now - c->ch_spawned_ms;
	cc->cc_sampled_ms = c->ch_sampled_ms;
	/* A child younger than the window is measured from its start (0 jobs). */
	if (c->ch_nrate > 0)
		cc->cc_jobs_per_sec = rate(c->ch_rate[0].sa_ms, c->ch_rate[0].sa_done, now, done);
	else
		cc->cc_jobs_per_sec = rate(c->ch_spawned_ms, 0, now, done);
}
