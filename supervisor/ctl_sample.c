/* SPDX-License-Identifier: MIT */
/*
 * ctl_sample: one look at the host a second, for `diagnose` and `top`: the
 * master's status (queue sizes fresh from the server's INFO) and the CPU of
 * the master and its children from /proc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_sample.h"
#include "proc.h"
#include "sup.h"

#define SAMPLE_CALL_MS	10000
#define QUEUES_STALE_MS	5000	/* older queue sizes mean INFO is not answered */
#define PIDS_MAX	1025	/* worker.cpus' most children, and the master */

/*
 * The fkworker processes' CPU and demand, summed as deltas of the pids seen
 * in two samples in a row, so a child replaced between samples neither adds
 * its whole life nor takes it away.
 */
struct cpu_acc {
	pid_t		ca_pid[PIDS_MAX];
	double		ca_cpu[PIDS_MAX];
	double		ca_dem[PIDS_MAX];
	uint32_t	ca_n;
	double		ca_cpu_total;
	double		ca_dem_total;
	int		ca_dem_known;	/* every process had schedstat */
};

static void
cpu_acc_add(const struct cpu_acc *a, pid_t pid, struct cpu_acc *next)
{
	double c = proc_cpu_seconds(pid), d = proc_demand_seconds(pid);

	if (c < 0)
		return;
	if (d < 0)
		next->ca_dem_known = 0;
	for (uint32_t j = 0; j < a->ca_n; j++) {
		if (a->ca_pid[j] != pid)
			continue;
		if (c >= a->ca_cpu[j])
			next->ca_cpu_total += c - a->ca_cpu[j];
		if (d >= a->ca_dem[j] && a->ca_dem[j] >= 0)
			next->ca_dem_total += d - a->ca_dem[j];
	}
	next->ca_pid[next->ca_n] = pid;
	next->ca_cpu[next->ca_n] = c;
	next->ca_dem[next->ca_n++] = d;
}

static void
cpu_acc_step(struct cpu_acc *a, const struct ctl_status *st)
{
	struct cpu_acc next = { .ca_cpu_total = a->ca_cpu_total,
	    .ca_dem_total = a->ca_dem_total, .ca_dem_known = a->ca_dem_known };

	cpu_acc_add(a, st->st_pid, &next);
	for (uint32_t i = 0; i < st->st_nchild && next.ca_n < PIDS_MAX; i++)
		if (st->st_child[i].cc_pid > 0)
			cpu_acc_add(a, st->st_child[i].cc_pid, &next);
	*a = next;
}

static int64_t
queued_of(const struct ctl_status *st)
{
	int64_t sum = 0;

	if (!st->st_queues_known || st->st_queues_age_ms > QUEUES_STALE_MS)
		return -1;
	for (uint32_t i = 0; i < st->st_nqueues; i++)
		if (st->st_queues[i].cq_size > 0)
			sum += st->st_queues[i].cq_size;
	return sum;
}

static void
sample_of(const struct ctl_status *st, const struct cpu_acc *acc, struct diag_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->ds_ms = now_ms();
	s->ds_done = st->st_processed + st->st_failed;
	s->ds_queued = queued_of(st);
	s->ds_busy = st->st_busy;
	s->ds_slots = st->st_slots;
	s->ds_connections = st->st_connections;
	s->ds_connected = st->st_connected;
	for (uint32_t i = 0; i < st->st_nchild; i++)
		if (st->st_child[i].cc_fetch_rtt_us > s->ds_fetch_rtt_us)
			s->ds_fetch_rtt_us = st->st_child[i].cc_fetch_rtt_us;
	s->ds_worker_cpu_s = acc->ca_cpu_total;
	s->ds_worker_demand_s = acc->ca_dem_known ? acc->ca_dem_total : -1;
	proc_host_ticks(&s->ds_host_busy, &s->ds_host_total);
	s->ds_run_p50_us = st->st_processed + st->st_failed > 0 ? (int64_t)st->st_p50_us : -1;
	s->ds_run_p99_us = st->st_processed + st->st_failed > 0 ? (int64_t)st->st_p99_us : -1;
	s->ds_pick_p50_us = st->st_pickup_n > 0 ? (int64_t)st->st_pickup_p50_us : -1;
	s->ds_pick_p99_us = st->st_pickup_n > 0 ? (int64_t)st->st_pickup_p99_us : -1;
}

void
ctl_sample_sleep_until(uint64_t ms)
{
	uint64_t now = now_ms();
	struct timespec ts;

	if (ms <= now)
		return;
	ts.tv_sec = (time_t)((ms - now) / 1000);
	ts.tv_nsec = (long)((ms - now) % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}


struct ctl_sampler {
	int			 sa_fd;
	const char		*sa_who;
	struct cpu_acc		 sa_acc;
	struct ctl_status	*sa_status;
};

struct ctl_sampler *
ctl_sample_new(int ctlfd, const char *who)
{
	struct ctl_sampler *sa = calloc(1, sizeof(*sa));

	if (sa == NULL)
		return NULL;
	sa->sa_fd = ctlfd;
	sa->sa_who = who;
	sa->sa_acc.ca_dem_known = 1;
	return sa;
}

void
ctl_sample_free(struct ctl_sampler *sa)
{
	if (sa == NULL)
		return;
	if (sa->sa_status != NULL)
		ctl_status_free(sa->sa_status);
	free(sa);
}

int
ctl_sample_take(struct ctl_sampler *sa, struct diag_sample *out)
{
	struct ctl_status *st;

	if (ctl_client_status(sa->sa_fd, sa->sa_who, 1, SAMPLE_CALL_MS, &st) == -1)
		return -1;
	if (sa->sa_status != NULL)
		ctl_status_free(sa->sa_status);
	sa->sa_status = st;
	cpu_acc_step(&sa->sa_acc, st);
	sample_of(st, &sa->sa_acc, out);
	return 0;
}

const struct ctl_status *
ctl_sample_status(const struct ctl_sampler *sa)
{
	return sa->sa_status;
}

const char *
ctl_sample_unknown(const struct ctl_status *st, char *buf, size_t len)
{
	if (strcmp(st->st_state, "running") != 0) {
		snprintf(buf, len, "fkworker is %s, not running", st->st_state);
		return buf;
	}
	if (!st->st_faktory_up) {
		snprintf(buf, len, "the master is not connected to the server%s%s",
		    st->st_faktory_error[0] ? ": " : "", st->st_faktory_error);
		return buf;
	}
	return NULL;
}
