/* SPDX-License-Identifier: MIT */
/* ctl_render_busy: fkworkerctl busy's table and JSON of one struct ctl_busy. */
#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>

#include "sup.h"

void
ctl_render_busy_text(FILE *f, const struct ctl_busy *bz)
{
	char run[32];

	fprintf(f, "%u job%s running%s\n", bz->bz_total, bz->bz_total == 1 ? "" : "s",
	    bz->bz_total > 1 ? " (longest first)" : "");
	if (bz->bz_njobs == 0)
		return;
	fprintf(f, "%-24s %-16s %-16s %5s %8s %10s\n", "JID", "JOBTYPE", "QUEUE", "CHILD",
	    "PID", "RUNNING");
	for (uint32_t i = 0; i < bz->bz_njobs; i++) {
		const struct ctl_busy_job *j = &bz->bz_jobs[i];

		ctl_render_duration(j->bj_running_ms, run, sizeof(run));
		fprintf(f, "%-24s %-16s %-16s %5d %8d %10s\n", j->bj_jid, j->bj_jobtype,
		    j->bj_queue, j->bj_child, j->bj_pid, run);
	}
	if (bz->bz_total > bz->bz_njobs)
		fprintf(f, "... %u more not shown (--limit %u)\n", bz->bz_total - bz->bz_njobs,
		    bz->bz_limit);
}

int
ctl_render_busy_json(FILE *f, const struct ctl_busy *bz)
{
	json_t *root = ctl_render_fields(ctl_busy_fields, bz), *jobs = json_array();
	int rc;

	for (uint32_t i = 0; i < bz->bz_njobs; i++)
		json_array_append_new(jobs, ctl_render_fields(ctl_busy_job_fields, &bz->bz_jobs[i]));
	json_object_set_new(root, "jobs", jobs);
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc;
}
