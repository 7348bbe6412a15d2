/* SPDX-License-Identifier: MIT */
/*
 * sup_auto_cpu: CPU use for the auto controller, from /proc: the host's
 * from the first line of /proc/stat, fkworker's from utime + stime of the
 * master and each child in /proc/PID/stat. Both as a percentage of the
 * host's capacity (every CPU) over the time since the previous sample. A
 * child that appeared or went away since counts only from its next sample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Busy and total ticks of every CPU; -1 when /proc/stat cannot be read. */
static int
host_ticks(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	FILE *fp = fopen("/proc/stat", "re");
	int n;

	if (fp == NULL)
		return -1;
	n = fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(fp);
	if (n < 4)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	/* idle and iowait are not work. */
	*busy = *total - v[3] - v[4];
	return 0;
}

/* utime + stime of pid in ticks; -1 when it is gone. */
static int
pid_ticks(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	*ticks = ut + st;
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
	long hz = sysconf(_SC_CLK_TCK), ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t cur[PIDS_MAX];
	uint64_t ticks[PIDS_MAX];
	int n = 0, found;

	*host = *self = -1;
	if (host_ticks(&busy, &total) == -1)
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
