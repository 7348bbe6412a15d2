/* SPDX-License-Identifier: MIT */
/*
 * wrk_failog: a failed job is a warning (jobtype, error type, message), so
 * that a handler failing every job shows at the default log level. At most
 * one line per second per child: the failures in between are counted and
 * the next line, or the stats timer a second later, reports how many.
 */
#include <stddef.h>
#include <stdio.h>

#include "log.h"
#include "util.h"
#include "wrk_int.h"

#define FAILOG_INTERVAL_MS	1000
#define FAILOG_MSG_MAX		200	/* bytes of a job's message quoted */

static struct {
	uint64_t	fl_last_ms;		/* when the last line was written */
	uint64_t	fl_suppressed;		/* failures since, not written */
	char		fl_last[320];		/* the latest of those */
} fl;

static void
flush(uint64_t now)
{
	log_warnx("%llu more job(s) failed in the last %.1fs, the latest: %s",
	    (unsigned long long)fl.fl_suppressed, (double)(now - fl.fl_last_ms) / 1000,
	    fl.fl_last);
	fl.fl_suppressed = 0;
	fl.fl_last_ms = now;
}

/* The message on one line: an exec's stderr tail may hold newlines. */
static const char *
one_line(const char *message, char *buf, size_t len)
{
	snprintf(buf, len, "%s", message);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

void
wrk_failog_note(const char *jid, const char *jobtype, const char *errtype, const char *message)
{
	char buf[FAILOG_MSG_MAX + 1];
	uint64_t now = now_ms();

	message = one_line(message, buf, sizeof(buf));
	if (fl.fl_last_ms != 0 && now - fl.fl_last_ms < FAILOG_INTERVAL_MS) {
		fl.fl_suppressed++;
		snprintf(fl.fl_last, sizeof(fl.fl_last), "job %s (jobtype %s): %s: %s", jid,
		    jobtype, errtype, message);
		return;
	}
	if (fl.fl_suppressed > 0)
		flush(now);
	log_warnx("job %s (jobtype %s) failed: %s: %s", jid, jobtype, errtype, message);
	fl.fl_last_ms = now;
}

void
wrk_failog_tick(void)
{
	uint64_t now = now_ms();

	if (fl.fl_suppressed > 0 && now - fl.fl_last_ms >= FAILOG_INTERVAL_MS)
		flush(now);
}
