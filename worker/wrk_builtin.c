/* SPDX-License-Identifier: MIT */
/* wrk_builtin: the handlers that need no configuration: noop, sleep, fail. */
#include <math.h>
#include <stdio.h>

#include "wrk_int.h"

#define SLEEP_MAX_MS (24LL * 3600 * 1000)

static int
noop_start(struct wrk_job *j)
{
	wrk_job_done(j, 1, NULL, NULL);
	return 0;
}

static void
sleep_fired(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	wrk_job_done(t->tm_arg, 1, NULL, NULL);
}

/* args[0] milliseconds on a timer: thousands of sleeping jobs cost the loop nothing. */
static int
sleep_start(struct wrk_job *j)
{
	json_t *a = json_array_get(j->jb_args, 0);
	double ms;

	if (!json_is_number(a) || !isfinite(ms = json_number_value(a)) || ms < 0 ||
	    ms > (double)SLEEP_MAX_MS) {
		wrk_job_done(j, 0, "BadArgs",
		    "sleep: args[0] must be a number of milliseconds from 0 to 86400000");
		return 0;
	}
	j->jb_timer.tm_cb = sleep_fired;
	j->jb_timer.tm_arg = j;
	if (ev_timer_start(wrk_loop(), &j->jb_timer, (uint64_t)ms) == -1)
		return -1;
	return 0;
}

static void
sleep_cancel(struct wrk_job *j)
{
	ev_timer_stop(wrk_loop(), &j->jb_timer);
}

static int
fail_start(struct wrk_job *j)
{
	json_t *a = json_array_get(j->jb_args, 0);

	wrk_job_done(j, 0, "Failed", json_is_string(a) ? json_string_value(a) :
	    "builtin handler 'fail' always fails");
	return 0;
}

const struct wrk_handler wrk_builtin_noop = { "noop", noop_start, NULL };
const struct wrk_handler wrk_builtin_sleep = { "sleep", sleep_start, sleep_cancel };
const struct wrk_handler wrk_builtin_fail = { "fail", fail_start, NULL };
