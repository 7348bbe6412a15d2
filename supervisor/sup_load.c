/* SPDX-License-Identifier: MIT */
/*
 * sup_load: how loaded the host is, sampled by the master.
 *
 * CPU: every second the master reads /proc/PID/stat of itself and of each
 * live child (utime + stime, plus cutime + cstime: the exec handlers a
 * child waited for). A child's percent is of one core over the last 10 s;
 * the host's figure is the master and its children together, the master's
 * cutime + cstime holding the children it has reaped, so CPU seconds
 * survive respawns.
 *
 * The auto controller (sup_auto.c) reads the same figures over the time
 * since its previous decision: fkworker's ticks as above, and the host's
 * (every process) from /proc/stat, both as a percent of every core.
 *
 * Saturation: every SAT_MS the master reads each serving child's scoreboard;
 * a sample in which every slot is busy counts as saturated. A child's
 * saturated percent is of its samples in the last 10 s, and its count is
 * the times its slots became all busy (like php-fpm's "max children
 * reached"). The host's percent is the mean of its serving children; its
 * count is the sum since the master started.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sup.h"

#define SAT_MS		200
#define CPU_EVERY	5		/* SAT_MS ticks per CPU sample: 1 s */
#define CPU_SAMPLES	11		/* a 10 s window */
#define SAT_SAMPLES	50		/* a 10 s window */

struct cpu_sample {
	uint64_t	cs_ms;
	uint64_t	cs_ticks;
};

struct cpu_ring {
	struct cpu_sample cr_s[CPU_SAMPLES];
	int		  cr_n;
};

/* What the master knows of the child in one position. */
struct load_pos {
	pid_t		 lp_pid;		/* the child these numbers are of */
	uint64_t	 lp_ticks;		/* its CPU ticks, last read */
	struct cpu_ring	 lp_cpu;
	unsigned char	 lp_sat[SAT_SAMPLES];	/* 1: every slot busy */
	int		 lp_nsat, lp_satpos;
	int		 lp_was_sat;
	uint64_t	 lp_sat_count;
};

static struct load_pos *pos;
static struct cpu_ring host;
static uint64_t host_ticks, host_sat_count;
static struct ev_timer timer;
static unsigned tick;

/* What sup_load_cpu_recent read last. */
static struct {
	uint64_t	rc_ticks;		/* fkworker's, as host_ticks */
	uint64_t	rc_busy, rc_total;	/* the host's, /proc/stat */
	int		rc_valid;
} recent;

static void
ring_push(struct cpu_ring *r, uint64_t ms, uint64_t ticks)
{
	if (r->cr_n == CPU_SAMPLES) {
		memmove(r->cr_s, r->cr_s + 1, sizeof(r->cr_s) - sizeof(r->cr_s[0]));
		r->cr_n--;
	}
	r->cr_s[r->cr_n].cs_ms = ms;
	r->cr_s[r->cr_n].cs_ticks = ticks;
	r->cr_n++;
}

/* Percent of one core between the oldest and the newest sample. */
static double
ring_percent(const struct cpu_ring *r)
{
	const struct cpu_sample *a = &r->cr_s[0], *b;

	if (r->cr_n < 2)
		return 0;
	b = &r->cr_s[r->cr_n - 1];
	if (b->cs_ms <= a->cs_ms || b->cs_ticks < a->cs_ticks)
		return 0;
	return (double)(b->cs_ticks - a->cs_ticks) * 100.0 * 1000.0 /
	    ((double)proc_ticks_per_sec() * (double)(b->cs_ms - a->cs_ms));
}

static int
is_live(const struct sup_child *c)
{
	return c->ch_state >= SUP_CH_STARTING;
}

/* A new child in the position: its numbers start from nothing. */
static struct load_pos *
pos_of(const struct sup_child *c)
{
	struct load_pos *lp = &pos[c->ch_pos];

	if (lp->lp_pid != c->ch_pid) {
		memset(lp, 0, sizeof(*lp));
		lp->lp_pid = c->ch_pid;
	}
	return lp;
}

/*
 * fkworker's CPU ticks so far (the master, its children and what each waited
 * for), into host_ticks; with rings, each child's also goes into its ring at now.
 */
static uint64_t
read_ticks(uint64_t now, int rings)
{
	struct proc_cpu pc;
	uint64_t total = 0, t;

	if (proc_cpu_read(0, &pc) == 0)
		total = pc.pc_self + pc.pc_children;
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		struct load_pos *lp;

		if (!is_live(c) || proc_cpu_read((int)c->ch_pid, &pc) == -1)
			continue;
		t = pc.pc_self + pc.pc_children;
		total += t;
		if (!rings)
			continue;
		lp = pos_of(c);
		lp->lp_ticks = t;
		ring_push(&lp->lp_cpu, now, t);
	}
	/* A child reaped between the reads is briefly in neither: never go back. */
	if (total > host_ticks)
		host_ticks = total;
	return host_ticks;
}

static void
sample_cpu(uint64_t now)
{
	ring_push(&host, now, read_ticks(now, 1));
}

static void
sample_saturation(void)
{
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		struct stats_slot sl;
		struct load_pos *lp;
		int sat;

		/* A draining child fetches nothing: its busy slots say nothing of demand. */
		if (!is_live(c) || c->ch_state == SUP_CH_RETIRING ||
		    stats_slot_read(c->ch_sp.sp_slot, &sl) == -1)
			continue;
		lp = pos_of(c);
		sat = sl.sl_nslots > 0 && sl.sl_busy >= sl.sl_nslots;
		if (sat && !lp->lp_was_sat) {
			lp->lp_sat_count++;
			host_sat_count++;
		}
		lp->lp_was_sat = sat;
		lp->lp_sat[lp->lp_satpos] = (unsigned char)sat;
		lp->lp_satpos = (lp->lp_satpos + 1) % SAT_SAMPLES;
		if (lp->lp_nsat < SAT_SAMPLES)
			lp->lp_nsat++;
	}
}

static void
fired(struct ev_loop *loop, struct ev_timer *t)
{
	sample_saturation();
	if (tick++ % CPU_EVERY == 0)
		sample_cpu(now_ms());
	ev_timer_start(loop, t, SAT_MS);
}

void
sup_load_init(void)
{
	if ((pos = calloc((size_t)sup_env->se_npos, sizeof(*pos))) == NULL)
		fatal(SUP_EX_OSERR, "malloc");
	ev_timer_init(&timer, fired, NULL);
	sample_cpu(now_ms());
	ev_timer_start(sup_env->se_loop, &timer, SAT_MS);
}

static double
sat_percent(const struct load_pos *lp)
{
	int n = 0;

	if (lp->lp_nsat == 0)
		return 0;
	for (int i = 0; i < lp->lp_nsat; i++)
		n += lp->lp_sat[i];
	return 100.0 * n / lp->lp_nsat;
}

void
sup_load_child(const struct sup_child *c, struct ctl_child *cc)
{
	const struct load_pos *lp;

	if (!is_live(c) || pos[c->ch_pos].lp_pid != c->ch_pid)
		return;
	lp = &pos[c->ch_pos];
	cc->cc_cpu_pct = ring_percent(&lp->lp_cpu);
	cc->cc_cpu_s = (double)lp->lp_ticks / (double)proc_ticks_per_sec();
	cc->cc_sat_pct = sat_percent(lp);
	cc->cc_sat_count = lp->lp_sat_count;
}

void
sup_load_host(struct ctl_status *st)
{
	double sat = 0;
	int n = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	st->st_cpu_pct = ring_percent(&host);
	st->st_cpu_s = (double)host_ticks / (double)proc_ticks_per_sec();
	st->st_cpu_cores = cores > 0 ? (uint32_t)cores : 1;
	st->st_sat_count = host_sat_count;
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];

		if (!is_live(c) || c->ch_state == SUP_CH_RETIRING || pos[p].lp_pid != c->ch_pid)
			continue;
		sat += sat_percent(&pos[p]);
		n++;
	}
	st->st_sat_pct = n > 0 ? sat / n : 0;
}

void
sup_load_cpu_recent(double *host_pct, double *self_pct)
{
	uint64_t busy, total, ticks;

	*host_pct = *self_pct = -1;
	if (proc_host_ticks(&busy, &total) == -1)
		return;
	ticks = read_ticks(0, 0);
	/* Both over the host's ticks (every core): the same time, the same unit. */
	if (recent.rc_valid && total > recent.rc_total && busy >= recent.rc_busy) {
		double span = (double)(total - recent.rc_total);

		*host_pct = 100.0 * (double)(busy - recent.rc_busy) / span;
		*self_pct = 100.0 * (double)(ticks - recent.rc_ticks) / span;
		if (*self_pct > 100)
			*self_pct = 100;
	}
	recent.rc_ticks = ticks;
	recent.rc_busy = busy;
	recent.rc_total = total;
	recent.rc_valid = 1;
}

void
sup_load_close(void)
{
	ev_timer_stop(sup_env->se_loop, &timer);
	free(pos);
	pos = NULL;
}
