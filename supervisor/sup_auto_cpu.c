/* SPDX-License-Identifier: MIT */
/*
 * sup_auto_cpu: CPU use for the auto controller, from /proc (common/proc.c):
 * the host's from /proc/stat, fkworker's from utime + stime of the master
 * and each child in /proc/PID/stat. Both as a percentage of the
 * host's capacity (every CPU) over the time since the previous sample. A
 * child that appeared or went away since counts only from its next sample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "sup.h"

#define PIDS_MAX	4096

static struct {
	uint64_t	hs_busy, hs_total;	/* /proc/stat ticks */
	pid_t		hs_pid[PIDS_MAX];
	uint64_t	hs_ticks[PIDS_MAX];
	int		hs_n;
	uint64_t	hs_ms;
	int		hs_valid;
} prev;

/* utime + stime of pid in ticks; -1 when it is gone. */
static int
pid_ticks(pid_t pid, uint64_t *ticks)
{
	struct proc_cpu pc;

	if (proc_cpu_read((int)pid, &pc) == -1)
		return -1;
	*ticks = pc.pc_self;
	return 0;
}

static uint64_t
prev_ticks(pid_t pid, int *found)
{
	for (int i = 0; i < prev.hs_n; i++)
		if (prev.hs_pid[i] == pid) {
			*found = 1;
			return prev.hs_ticks[i];
		}
	*found = 0;
	return 0;
}

void
sup_auto_cpu_sample(const pid_t *pids, int npids, double *host, double *self)
{
	uint64_t busy = 0, total = 0, used = 0, now = now_ms(), t, old;
	long hz = proc_ticks_per_sec(), ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t cur[PIDS_MAX];
	uint64_t ticks[PIDS_MAX];
	int n = 0, found;

	*host = *self = -1;
	if (proc_host_ticks(&busy, &total) == -1)
		return;
	for (int i = -1; i < npids && n < PIDS_MAX; i++) {
		pid_t pid = i < 0 ? getpid() : pids[i];
		if (pid_ticks(pid, &t) == -1)
			continue;
		old = prev_ticks(pid, &found);
		if (found && t >= old)
			used += t - old;
		cur[n] = pid;
		ticks[n++] = t;
	}
	if (prev.hs_valid && total > prev.hs_total && now > prev.hs_ms && hz > 0 && ncpu > 0) {
		*host = 100.0 * (double)(busy - prev.hs_busy) / (double)(total - prev.hs_total);
		*self = 100.0 * (double)used / ((double)(now - prev.hs_ms) / 1000 * hz * ncpu);
		if (*self > 100)
			*self = 100;
	}
	prev.hs_busy = busy;
	prev.hs_total = total;
	memcpy(prev.hs_pid, cur, (size_t)n * sizeof(cur[0]));
	memcpy(prev.hs_ticks, ticks, (size_t)n * sizeof(ticks[0]));
	prev.hs_n = n;
	prev.hs_ms = now;
	prev.hs_valid = 1;
}
