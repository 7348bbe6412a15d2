/* SPDX-License-Identifier: MIT */
/*
 * proc: CPU time of a process from /proc/PID/stat (utime, stime and the
 * cutime, cstime of the children it waited for), for the master's CPU
 * figures. The parser is a pure function; the reader only opens the file.
 */
#ifndef FKW_PROC_H
#define FKW_PROC_H

#include <stddef.h>
#include <stdint.h>

struct proc_cpu {
	uint64_t	pc_self;	/* utime + stime, clock ticks */
	uint64_t	pc_children;	/* cutime + cstime: waited-for children, ticks */
};

/*
 * Parses the text of /proc/PID/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so the fields are
 * counted from its last ')'. 0, or -1 when the text is not of that shape.
 */
int	proc_cpu_parse(const char *text, size_t len, struct proc_cpu *);
/* Reads /proc/PID/stat (pid 0: this process); 0 or -1 with errno. */
int	proc_cpu_read(int pid, struct proc_cpu *);
/* Clock ticks per second (sysconf(_SC_CLK_TCK), 100 if unknown). */
long	proc_ticks_per_sec(void);
/* A process's CPU seconds, its waited-for children included; -1 if it is gone. */
double	proc_cpu_seconds(int pid);
/*
 * Seconds a process ran or waited on a run queue (its demand for a CPU),
 * from /proc/PID/schedstat; -1 if gone or the kernel does not keep it.
 */
double	proc_demand_seconds(int pid);
/* The host's CPU ticks, all cores: busy (not idle or iowait) and total; 0 or -1. */
int	proc_host_ticks(uint64_t *busy, uint64_t *total);

#endif
