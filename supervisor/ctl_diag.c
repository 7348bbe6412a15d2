/* SPDX-License-Identifier: MIT */
/*
 * ctl_diag: `fkworkerctl diagnose`: a sample a second for N seconds
 * (ctl_sample.c), then diag.c's verdict, for a person or as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_sample.h"
#include "diag.h"
#include "sup.h"

int
ctl_diag_run(int ctlfd, int seconds, int json)
{
	struct diag_sample *s = calloc((size_t)seconds + 1, sizeof(*s));
	struct ctl_sampler *sa = ctl_sample_new(ctlfd, "diagnose");
	const struct ctl_status *st;
	struct diag_figures f;
	struct diag_verdict v;
	char why[320];
	uint64_t t0;
	int rc = CTL_EX_ERROR;

	if (s == NULL || sa == NULL)
		goto out;
	fprintf(stderr, "fkworkerctl: diagnose: sampling for %d s...\n", seconds);
	t0 = now_ms();
	for (int i = 0; i <= seconds; i++) {
		ctl_sample_sleep_until(t0 + (uint64_t)i * 1000);
		if (ctl_sample_take(sa, &s[i]) == -1)
			goto out;
	}
	st = ctl_sample_status(sa);
	diag_figures(s, (uint32_t)seconds + 1, st->st_concurrency, st->st_nchild,
	    (uint32_t)sysconf(_SC_NPROCESSORS_ONLN), &f);
	f.df_auto = strcmp(st->st_concurrency_mode, "auto") == 0;
	f.df_concurrency_max = st->st_concurrency_max;
	diag_judge(&f, ctl_sample_unknown(st, why, sizeof(why)), &v);
	if (json)
		rc = diag_render_json(stdout, &f, &v) == 0 ? 0 : CTL_EX_ERROR;
	else
		diag_render_text(stdout, &f, &v), rc = 0;
	if (rc == 0 && v.dv_kind == DIAG_UNKNOWN)
		rc = CTL_EX_ERROR;
out:
	ctl_sample_free(sa);
	free(s);
	return rc;
}
