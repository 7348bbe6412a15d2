/* SPDX-License-Identifier: MIT */
/*
 * wrk_outage: what a child says about the health of its connections.
 *
 *   OK -> OUTAGE (a held connection lost, or an attempt failed) -> OK (all held)
 *
 * Hundreds of connections failing together (a server restart, a connection
 * cap, a name that does not resolve) make one warning a second, not one
 * each. A lost connection is counted once, however often its reconnects
 * fail; a child that never held a connection says it cannot connect, not
 * that it lost anything. The end of an outage that was warned about is
 * logged once, with how long it lasted. The master logs its own connection
 * at the same levels (sup_beat.c).
 */
#include <stdio.h>

#include "log.h"
#include "wrk_int.h"

#define LOG_EVERY_MS	1000

static struct {
	int		ou_active;	/* in OUTAGE */
	int		ou_warned;	/* something was logged for this outage */
	uint64_t	ou_since;	/* ms, when it began */
	uint64_t	ou_last_log;	/* ms */
	int		ou_lost;	/* held connections lost, not logged yet */
	int		ou_failed;	/* attempts failed, not logged yet */
	char		ou_why[320];	/* the last reason */
} ou;

static void
flush(uint64_t now)
{
	if (ou.ou_lost > 0)
		log_warnx("%d connection(s) lost (last: %s); reconnecting with backoff",
		    ou.ou_lost, ou.ou_why);
	else if (ou.ou_failed > 0)
		log_warnx("cannot connect: %s (%d attempt(s) failed); retrying with backoff",
		    ou.ou_why, ou.ou_failed);
	else
		return;
	ou.ou_lost = ou.ou_failed = 0;
	ou.ou_last_log = now;
	ou.ou_warned = 1;
}

static void
note(const char *why, uint64_t now)
{
	if (!ou.ou_active) {
		ou.ou_active = 1;
		ou.ou_warned = 0;
		ou.ou_since = now;
	}
	snprintf(ou.ou_why, sizeof(ou.ou_why), "%s", why);
	if (ou.ou_last_log == 0 || now - ou.ou_last_log >= LOG_EVERY_MS)
		flush(now);
}

void
wrk_outage_lost(const char *why, uint64_t now)
{
	ou.ou_lost++;
	note(why, now);
}

void
wrk_outage_failed(const char *why, uint64_t now)
{
	ou.ou_failed++;
	note(why, now);
}

void
wrk_outage_held(int nheld, int n, uint64_t now)
{
	if (!ou.ou_active || nheld < n)
		return;
	/* What failed in the last second is over: no warning after the all-clear. */
	ou.ou_lost = ou.ou_failed = 0;
	ou.ou_active = 0;
	if (ou.ou_warned)
		log_notice("all %d connection(s) held again after an outage of %.1f s", n,
		    (double)(now - ou.ou_since) / 1000);
}

void
wrk_outage_tick(uint64_t now)
{
	if (now - ou.ou_last_log >= LOG_EVERY_MS)
		flush(now);
}
