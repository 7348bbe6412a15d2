/* SPDX-License-Identifier: MIT */
/*
 * sup_auto: the host's concurrency, and the controller that steers it when
 * worker.concurrency = "auto". The children hold slots for concurrency_max
 * (sized at start) and run the share of the host's concurrency they are
 * told over their channel (SLOTS): a fixed value changes on reload, "auto"
 * every auto_interval_ms. Each decision reads the queue sizes (the
 * heartbeat connection's INFO), the busy slots (the scoreboard) and the CPU
 * since the previous decision (sup_load.c), and sup_auto_rule.c decides;
 * the last decision and its reason are kept for `fkworkerctl status`.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sup.h"

#define MEM_HIGH_PCT	80	/* of memory_limit: no growth past it */

static struct {
	int		au_cur;		/* the host's concurrency now */
	int64_t		au_queue_prev;
	struct ev_timer	au_timer;
	int		au_timer_init;
	char		au_last[192];
} au;

static int
host_max(const struct fkw_conf *cf)
{
	long long room = (long long)sup_env->se_slots_max * cf->cf_cpus;
	int max = cf->cf_concurrency_max;

	return room < max ? (int)room : max;
}

int
sup_auto_slots(int index)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	int cpus = cf->cf_cpus > 0 ? cf->cf_cpus : 1;
	int n = au.au_cur / cpus + (index < au.au_cur % cpus);

	if (n < 1)
		n = 1;
	return n > (int)sup_env->se_slots_max ? (int)sup_env->se_slots_max : n;
}

/* Every child that runs (not one leaving) gets its share if it changed. */
static void
apply(void)
{
	for (int p = 0; p < sup_env->se_npos; p++) {
		struct sup_child *c = &sup_env->se_child[p];
		int n = sup_auto_slots(c->ch_index);

		if ((c->ch_state == SUP_CH_STARTING || c->ch_state == SUP_CH_READY) &&
		    c->ch_index < sup_env->se_conf->cf_cpus && c->ch_slots != n)
			sup_child_send_slots(c, n);
	}
}

/* Busy slots, and whether a child's memory nears memory_limit. */
static void
measure(struct sup_auto_in *in)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		if (c->ch_state < SUP_CH_STARTING || c->ch_state == SUP_CH_RETIRING)
			continue;
		in->ai_busy += (int)c->ch_slot.sl_busy;
		in->ai_children++;
		if (cf->cf_memory_limit > 0 && c->ch_last.sc_rss_kb > 0 &&
		    (uint64_t)c->ch_last.sc_rss_kb * 1024 * 100 >
		    cf->cf_memory_limit * MEM_HIGH_PCT)
			in->ai_mem_high = 1;
	}
}

static void
decide(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	struct sup_auto_in in = { 0 };
	struct sup_auto_out out;

	measure(&in);
	sup_load_cpu_recent(&in.ai_cpu_host, &in.ai_cpu_self);
	in.ai_cur = au.au_cur;
	in.ai_min = cf->cf_concurrency_min;
	in.ai_max = host_max(cf);
	in.ai_queue = sup_queues_configured();
	in.ai_queue_prev = au.au_queue_prev;
	in.ai_cpu_target = cf->cf_cpu_target;
	/* INFO for the next decision (the master's connection answers in a moment). */
	sup_beat_refresh_info();
	au.au_queue_prev = in.ai_queue;
	sup_auto_rule_decide(&in, &out);
	snprintf(au.au_last, sizeof(au.au_last), "%s", out.ao_why);
	if (out.ao_next == au.au_cur)
		return;
	log_info("auto: %s", out.ao_why);
	au.au_cur = out.ao_next;
	apply();
}

static void
timer_fired(struct ev_loop *loop, struct ev_timer *t)
{
	/* A roll, quiet or stop: the slots stay as they are until running again. */
	if (sup_env->se_state == SUP_ST_RUNNING)
		decide();
	ev_timer_start(loop, t, (uint64_t)sup_env->se_conf->cf_auto_interval);
}

void
sup_auto_reconfigure(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	if (!au.au_timer_init) {
		ev_timer_init(&au.au_timer, timer_fired, NULL);
		au.au_timer_init = 1;
		au.au_queue_prev = -1;
	}
	if (!cf->cf_concurrency_auto) {
		au.au_cur = cf->cf_concurrency;
		au.au_last[0] = '\0';
		ev_timer_stop(sup_env->se_loop, &au.au_timer);
	} else {
		/* From fixed (or a first start, au_cur 0): begin at the floor, or where it is. */
		if (au.au_cur < cf->cf_concurrency_min)
			au.au_cur = cf->cf_concurrency_min;
		if (au.au_cur > host_max(cf))
			au.au_cur = host_max(cf);
		if (!ev_timer_active(&au.au_timer)) {
			double host, self;

			/* The first decision's CPU is of the time since now. */
			sup_load_cpu_recent(&host, &self);
			ev_timer_start(sup_env->se_loop, &au.au_timer,
			    (uint64_t)cf->cf_auto_interval);
		}
	}
	apply();
}

void
sup_auto_init(void)
{
	au.au_cur = 0;
	sup_auto_reconfigure();
}

void
sup_auto_stop(void)
{
	if (au.au_timer_init)
		ev_timer_stop(sup_env->se_loop, &au.au_timer);
}

void
sup_auto_status(struct ctl_status *st)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	snprintf(st->st_concurrency_mode, sizeof(st->st_concurrency_mode), "%s",
	    cf->cf_concurrency_auto ? "auto" : "fixed");
	st->st_concurrency = (uint32_t)au.au_cur;
	st->st_concurrency_min = (uint32_t)(cf->cf_concurrency_auto ? cf->cf_concurrency_min :
	    cf->cf_concurrency);
	st->st_concurrency_max = (uint32_t)host_max(cf);
	snprintf(st->st_auto_last, sizeof(st->st_auto_last), "%s", au.au_last);
}
