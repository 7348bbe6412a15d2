/* SPDX-License-Identifier: MIT */
/*
 * unit_job: stands in for worker/wrk_job.c in the tests of handlers
 * (test_exec, test_plugin). Its wrk_loop() returns unit_loop, and its
 * wrk_job_done() records each result in the struct unit_job whose first
 * member is the job; a timeout is played as wrk_job_abort does it.
 */
#ifndef FKW_UNIT_JOB_H
#define FKW_UNIT_JOB_H

#include <stdint.h>

#include "wrk_job.h"

struct unit_job {
	struct wrk_job	 tj_job;	/* first: wrk_job_done casts back */
	int		 tj_calls;	/* wrk_job_done calls, the refused ones included */
	int		 tj_ok;
	char		 tj_errtype[128];
	char		 tj_msg[1200];
};

/* The loop the handlers run on (what wrk_loop() returns): the test's setup makes it. */
extern struct ev_loop	*unit_loop;

/*
 * Nonzero: wrk_job_done drops a job's JSON once it is reported, as
 * wrk_job_clear does after it in the worker (test_plugin sets it).
 */
extern int		 unit_job_clears;

/*
 * wrk_job_done(): counts the call and refuses (-1) a job that is not running;
 * else marks it done and records the result. A failure's errtype and message
 * must fit the FAIL (100 and 1000 bytes) and be UTF-8: the report carries both
 * in JSON.
 */

/* What wrk_job_abort does at a deadline: the handler's hd_cancel, then FAIL "Timeout". */
void		 unit_job_timeout(struct unit_job *t);

/* Runs unit_loop until each of the n jobs of t was reported or ms passed; returns the ms elapsed. */
uint64_t	 unit_jobs_wait(const struct unit_job *t, int n, uint64_t ms);

#endif
