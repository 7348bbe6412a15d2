/* SPDX-License-Identifier: MIT */
/*
 * ctl_check: fkworkerctl check, the status reply graded for monitoring
 * (Nagios/Icinga plugin conventions): one line "FKWORKER STATE - reason |
 * perfdata" and the exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The
 * thresholds are the ones fkworkerctl(8) documents:
 *   CRITICAL  not running; stopping; the master's Faktory connection down;
 *             no connection of any child up
 *   WARNING   starting; quiet; a child restarting (outside a reload); some
 *             connections down
 *   UNKNOWN   the control socket cannot be used (permission, no reply,
 *             not fkworker), or a usage error
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sup.h"

static const char *const check_names[] = {
	[CTL_CHECK_OK] = "OK",
	[CTL_CHECK_WARNING] = "WARNING",
	[CTL_CHECK_CRITICAL] = "CRITICAL",
	[CTL_CHECK_UNKNOWN] = "UNKNOWN",
};

/* Appends "; what" (or what first) to why; the reason list of one grade. */
static void
add(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
add(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n > 0 && n + 2 < len) {
		memcpy(why + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
}

static int
is_state(const char *s, const char *name)
{
	return strcmp(s, name) == 0;
}

/* Children that serve: not draining after a replacement, not dead in backoff. */
static uint32_t
serving(const struct ctl_status *st)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->st_nchild; i++)
		n += !is_state(st->st_child[i].cc_state, "draining") &&
		    !is_state(st->st_child[i].cc_state, "backoff");
	return n;
}

static enum ctl_check
critical(const struct ctl_status *st, char *why, size_t len)
{
	if (is_state(st->st_state, "stopping"))
		add(why, len, "stopping");
	else if (!st->st_faktory_up)
		add(why, len, "not connected to Faktory at %s%s%s%s", st->st_url,
		    st->st_faktory_error[0] ? " (" : "", st->st_faktory_error,
		    st->st_faktory_error[0] ? ")" : "");
	else if (st->st_connected == 0)
		add(why, len, "no connection of any child is up");
	return why[0] ? CTL_CHECK_CRITICAL : CTL_CHECK_OK;
}

static enum ctl_check
warning(const struct ctl_status *st, char *why, size_t len)
{
	if (is_state(st->st_state, "starting"))
		add(why, len, "starting");
	if (is_state(st->st_state, "quiet"))
		add(why, len, "quiet: no job is fetched (restart fkworker to resume)");
	/* A reload starts each child's replacement on purpose. */
	for (uint32_t i = 0; !is_state(st->st_state, "reloading") && i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];

		if (is_state(c->cc_state, "backoff"))
			add(why, len, "child %d restarting (backoff)", c->cc_index);
		else if (is_state(c->cc_state, "starting") && !is_state(st->st_state, "starting"))
			add(why, len, "child %d starting", c->cc_index);
	}
	if (st->st_connected < st->st_connections)
		add(why, len, "%u of %u connections down", st->st_connections - st->st_connected,
		    st->st_connections);
	return why[0] ? CTL_CHECK_WARNING : CTL_CHECK_OK;
}

enum ctl_check
ctl_check_grade(const struct ctl_status *st, char *why, size_t len)
{
	enum ctl_check c;

	why[0] = '\0';
	if ((c = critical(st, why, len)) == CTL_CHECK_OK)
		c = warning(st, why, len);
	add(why, len, "%u/%u connections up, %u/%u children, %u slots", st->st_connected,
	    st->st_connections, serving(st), st->st_cpus, st->st_slots);
	return c;
}

enum ctl_check
ctl_check_unreachable(int errnum)
{
	/* No socket, or nobody listening on it: fkworker is not running. */
	return errnum == ENOENT || errnum == ECONNREFUSED ? CTL_CHECK_CRITICAL :
	    CTL_CHECK_UNKNOWN;
}

/*
 * Performance data with Nagios ranges: "20:" warns below 20, "1:" is
 * critical below 1; the counters ("c") let a grapher derive rates.
 */
static void
perfdata(FILE *f, const struct ctl_status *st)
{
	fprintf(f, " | connected=%u;%u:;1:;0;%u children=%u;%u:;1:;0;%u busy=%u;;;0;%u "
	    "jobs_per_sec=%.1f processed=%" PRIu64 "c failed=%" PRIu64 "c restarts=%" PRIu64
	    "c", st->st_connected, st->st_connections, st->st_connections, serving(st),
	    st->st_cpus, st->st_cpus, st->st_busy, st->st_slots, st->st_jobs_per_sec,
	    st->st_processed, st->st_failed, st->st_restarts);
}

void
ctl_check_print(FILE *f, enum ctl_check c, const char *why, const struct ctl_status *st)
{
	/* "|" starts the performance data: none may appear in the reason. */
	fprintf(f, "FKWORKER %s - ", check_names[c]);
	for (const char *p = why; *p != '\0'; p++)
		fputc(*p == '|' || *p == '\n' ? ' ' : *p, f);
	if (st != NULL)
		perfdata(f, st);
	fputc('\n', f);
}
