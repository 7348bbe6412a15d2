/* SPDX-License-Identifier: MIT */
/* proc: CPU time of a process and of the host from /proc (no logging). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define UTIME_FIELD	14	/* proc(5): utime, stime, cutime, cstime are 14..17 */
#define STAT_MAX	1024

/* The unsigned decimal at *p, advancing past it; -1 if there is none. */
static int
number(const char **p, const char *end, uint64_t *v)
{
	int neg = 0, digits = 0;

	/* cutime and cstime are signed in the kernel's format, never negative in practice. */
	if (*p < end && **p == '-') {
		neg = 1;
		(*p)++;
	}
	*v = 0;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, digits++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(**p - '0');
	}
	if (neg)
		*v = 0;
	return digits > 0 ? 0 : -1;
}

int
proc_cpu_parse(const char *text, size_t len, struct proc_cpu *pc)
{
	const char *end = text + len, *p = NULL;
	uint64_t v[4];
	int field = 3;

	for (const char *q = text; q < end; q++)
		if (*q == ')')
			p = q;
	if (p == NULL || ++p >= end)
		return -1;
	/* p is at the space before field 3 (state). */
	while (field < UTIME_FIELD) {
		if (*p != ' ' || ++p >= end)
			return -1;
		while (p < end && *p != ' ')
			p++;
		if (p >= end)
			return -1;
		field++;
	}
	for (int i = 0; i < 4; i++) {
		if (p >= end || *p != ' ')
			return -1;
		p++;
		if (number(&p, end, &v[i]) == -1)
			return -1;
	}
	pc->pc_self = v[0] + v[1];
	pc->pc_children = v[2] + v[3];
	return 0;
}

int
proc_cpu_read(int pid, struct proc_cpu *pc)
{
	char path[64], buf[STAT_MAX];
	ssize_t n;
	int fd;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -1;
	if (proc_cpu_parse(buf, (size_t)n, pc) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

long
proc_ticks_per_sec(void)
{
	long t = sysconf(_SC_CLK_TCK);

	return t > 0 ? t : 100;
}

double
proc_cpu_seconds(int pid)
{
	struct proc_cpu pc;

	if (proc_cpu_read(pid, &pc) == -1)
		return -1;
	return (double)(pc.pc_self + pc.pc_children) / (double)proc_ticks_per_sec();
}

double
proc_demand_seconds(int pid)
{
	char path[64];
	unsigned long long run, wait;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (double)(run + wait) / 1e9 : -1;
}

int
proc_host_ticks(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n;

	*busy = *total = 0;
	if (f == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return -1;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];	/* idle and iowait are not busy */
	return 0;
}
