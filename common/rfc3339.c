/* SPDX-License-Identifier: MIT */
/* rfc3339: strptime for the calendar part, the fraction and offset by hand (strptime has neither). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "rfc3339.h"

#define TS_MAX	64

static int
digits(const char *p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* The fraction's microseconds; digits past the sixth are read and dropped. */
static const char *
fraction(const char *p, int64_t *us)
{
	int n = 0;

	*us = 0;
	if (*p != '.')
		return p;
	for (p++; *p >= '0' && *p <= '9'; p++, n++)
		if (n < 6)
			*us = *us * 10 + (*p - '0');
	if (n == 0 || n > 9)
		return NULL;
	for (; n < 6; n++)
		*us *= 10;
	return p;
}

/* Seconds east of UTC, or -1 on a malformed zone; *end is what follows. */
static int
zone(const char *p, long *off, const char **end)
{
	int hh, mm;

	if (*p == 'Z' || *p == 'z') {
		*off = 0;
		*end = p + 1;
		return 0;
	}
	if ((*p != '+' && *p != '-') || digits(p + 1, 2, &hh) == -1 || p[3] != ':' ||
	    digits(p + 4, 2, &mm) == -1 || hh > 23 || mm > 59)
		return -1;
	*off = (long)(hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
	*end = p + 6;
	return 0;
}

/*
 * timegm of the minute "YYYY-MM-DDTHH:MM", remembered: jobs fetched together
 * were mostly enqueued within the same minute, and timegm costs ten times
 * the rest of a parse. One entry per process (the loops are single-threaded).
 */
static time_t
minute_start(const char *buf, struct tm *tm)
{
	static char key[16];
	static time_t start = (time_t)-1;
	struct tm m = *tm;

	if (start != (time_t)-1 && memcmp(key, buf, sizeof(key)) == 0)
		return start;
	m.tm_sec = 0;
	if ((start = timegm(&m)) != (time_t)-1)
		memcpy(key, buf, sizeof(key));
	return start;
}

int
rfc3339_parse_us(const char *s, size_t len, int64_t *us)
{
	char buf[TS_MAX];
	const char *p, *end;
	struct tm tm;
	int64_t frac;
	time_t t;
	long off;

	if (len < 20 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[10] == 't')
		buf[10] = 'T';
	memset(&tm, 0, sizeof(tm));
	/* strptime's %m, %d... accept one digit or a space: insist on the fixed layout first. */
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    (buf[i] < '0' || buf[i] > '9'))
			goto bad;
	if (buf[4] != '-' || buf[7] != '-' || buf[10] != 'T' || buf[13] != ':' ||
	    buf[16] != ':' || (p = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm)) != buf + 19)
		goto bad;
	if ((p = fraction(p, &frac)) == NULL || zone(p, &off, &end) == -1 || *end != '\0')
		goto bad;
	if ((t = minute_start(buf, &tm)) == (time_t)-1)
		goto bad;
	t += tm.tm_sec;
	*us = ((int64_t)t - off) * 1000000 + frac;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
