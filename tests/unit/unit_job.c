/* SPDX-License-Identifier: MIT */
/* unit_job: stands in for worker/wrk_job.c in the tests of handlers (see unit_job.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "unit_job.h"

struct ev_loop *unit_loop;
int unit_job_clears;

struct ev_loop *
wrk_loop(void)
{
	return unit_loop;
}

int
wrk_job_done(struct wrk_job *j, int ok, const char *errtype, const char *message)
{
	struct unit_job *t = (struct unit_job *)j;

	t->tj_calls++;
	if (j->jb_state != WRK_JOB_RUNNING)
		return -1;
	j->jb_state = WRK_JOB_DONE;
	t->tj_ok = ok;
	snprintf(t->tj_errtype, sizeof(t->tj_errtype), "%s", errtype != NULL ? errtype : "");
	snprintf(t->tj_msg, sizeof(t->tj_msg), "%s", message != NULL ? message : "");
	if (!ok) {
		json_t *s = json_pack("{s:s, s:s}", "e", t->tj_errtype, "m", t->tj_msg);

		ck_assert_uint_le(strlen(t->tj_errtype), 100);
		ck_assert_uint_le(strlen(t->tj_msg), 1000);
		ck_assert_ptr_nonnull(s);
		json_decref(s);
	}
	if (unit_job_clears) {
		json_decref(j->jb_json);
		j->jb_json = NULL;
		j->jb_args = NULL;
		j->jb_jid = j->jb_jobtype = NULL;
		free((char *)(uintptr_t)j->jb_raw);
		j->jb_raw = NULL;
	}
	return 0;
}

void
unit_job_timeout(struct unit_job *t)
{
	t->tj_job.jb_handler->hd_cancel(&t->tj_job);
	ck_assert_int_eq(wrk_job_done(&t->tj_job, 0, "Timeout", "job exceeded its timeout"), 0);
}

uint64_t
unit_jobs_wait(const struct unit_job *t, int n, uint64_t ms)
{
	uint64_t t0 = now_ms();
	int done;

	for (;;) {
		done = 0;
		for (int i = 0; i < n; i++)
			done += t[i].tj_calls > 0;
		if (done == n || now_ms() - t0 > ms)
			break;
		ck_assert_int_eq(ev_run_once(unit_loop, 20), 0);
	}
	return now_ms() - t0;
}
