/* SPDX-License-Identifier: MIT */
/* ctl_perf_int: the state of one `fkworkerctl perf-test` run, shared by ctl_perf*.c. */
#ifndef FKW_CTL_PERF_INT_H
#define FKW_CTL_PERF_INT_H

#include "fkc.h"
#include "sup.h"

struct cpu_times {
	unsigned long long	ct_total;
	unsigned long long	ct_idle;
};

/* The server's numbers at the end of a run that timed out (its INFO). */
struct perf_server {
	int		ps_known;
	long long	ps_queued;	/* in the perf-test's queue */
	long long	ps_working;	/* reserved by workers */
	long long	ps_retries;
	long long	ps_scheduled;
	char		ps_why[160];	/* why they are not known */
};

/* A run's phases: pushing, then waiting for the counts, then done. */
enum perf_phase {
	PF_CONNECTING,
	PF_PUSHING,
	PF_WAITING,		/* everything pushed; waiting for the counts */
	PF_ASKING,		/* timed out; waiting for the server's INFO */
	PF_DONE,
};

struct perf {
	const struct ctl_perf_opts *pf_o;
	int			 pf_ctl;
	struct ev_loop		*pf_loop;
	struct fkc		 pf_conn;
	int			 pf_conn_up;
	struct fkc_params	 pf_params;
	struct fkp_url		 pf_url;		/* the params point into it */
	struct ev_timer		 pf_poll, pf_deadline, pf_info;
	enum perf_phase		 pf_phase;
	char			 pf_prefix[40];	/* "pt" and 128 random bits in hex */
	char			*pf_jobtype;	/* JSON string literal */
	struct buf		 pf_batch;
	long long		 pf_next;	/* jobs encoded */
	long long		 pf_rejected;
	int			 pf_inflight;	/* batches awaiting their reply */
	int			 pf_infos;	/* INFO replies owed */
	uint64_t		 pf_t0, pf_push_ms, pf_end, pf_progress;
	uint64_t		 pf_base_done, pf_done;
	struct ctl_status	*pf_base;
	struct ctl_status	*pf_last;
	struct cpu_times	 pf_cpu0, pf_cpu1;
	struct perf_server	 pf_server;
	int			 pf_timed_out;
	int			 pf_timeout_s;	/* --timeout, or its default */
	int			 pf_exit;	/* -1 while running */
};

/* ctl_perf_report.c */
/* The report of a run that ended (every job counted); returns the exit status. */
int	ctl_perf_report(struct perf *);
/* The lines of a run that timed out, with the server's numbers if known. */
void	ctl_perf_report_timeout(const struct perf *);
/* The server's INFO reply into pf_server. */
void	ctl_perf_parse_info(struct perf *, const char *json, size_t len);
uint64_t ctl_perf_done_of(const struct ctl_status *);

#endif
