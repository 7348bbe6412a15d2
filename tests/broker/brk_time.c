/* SPDX-License-Identifier: MIT */
/*
 * brk_time: the broker's clock and Go's RFC 3339 formatting and parsing.
 * Everything that waits in server time (reservations, retries, scheduled
 * jobs, the reaper) reads brk_vnow(), so XTIME can move it forward.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "brk.h"

uint64_t
brk_vnow(const struct brk *b)
{
	return now_ms() + (uint64_t)b->b_voffset_ms;
}

int64_t
brk_wall_ns(const struct brk *b)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + b->b_voffset_ms * 1000000;
}

/* The general case, through libc: times before 1970 (never on the job path). */
size_t
brk_rfc3339_libc(int64_t ns, char *out, size_t outlen)
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac > 0) {
		char f[16];
		int k = snprintf(f, sizeof(f), ".%09ld", frac);
		while (k > 1 && f[k - 1] == '0')
			k--;
		f[k] = '\0';
		n += (size_t)snprintf(out + n, outlen - n, "%s", f);
	}
	n += (size_t)snprintf(out + n, outlen - n, "Z");
	return n;
}

/* Writes v as exactly w digits, zero-padded. */
static char *
put_digits(char *p, unsigned v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + w;
}

/*
 * Days since 1970-01-01 (not negative) to a civil date: H. Hinnant's
 * days_from_civil inverse, so that stamping a job needs no gmtime_r.
 */
static void
civil(int64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	unsigned era = (unsigned)(z / 146097);
	unsigned doe = (unsigned)(z - (int64_t)era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = era * 400 + yoe + (*m <= 2);
}

/*
 * Every job is stamped with this at each enqueue: digits are written
 * directly. int64 ns from 1970 end in 2262, so the year has 4 digits.
 */
size_t
brk_rfc3339(int64_t ns, char *out, size_t outlen)
{
	int64_t sec = ns / 1000000000, s;
	unsigned frac = (unsigned)(ns % 1000000000), y, mo, d;
	char *p = out;
	int w = 9;

	if (ns < 0 || outlen < sizeof("2006-01-02T15:04:05.999999999Z"))
		return brk_rfc3339_libc(ns, out, outlen);
	civil(sec / 86400, &y, &mo, &d);
	s = sec % 86400;
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, mo, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(s / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(s / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(s % 60), 2);
	if (frac > 0) {
		/* Go's RFC3339Nano: trailing zeros of the fraction dropped. */
		while (frac % 10 == 0) {
			frac /= 10;
			w--;
		}
		*p++ = '.';
		p = put_digits(p, frac, w);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

/* Go's time.quote: printable ASCII kept, '"' and '\' escaped, other bytes \xNN. */
static void
go_quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	if (outlen < 8)
		return;
	out[k++] = '"';
	for (size_t i = 0; i < n && k + 6 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x80) {
			k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", c);
			continue;
		}
		if (c == '"' || c == '\\')
			out[k++] = '\\';
		out[k++] = (char)c;
	}
	out[k++] = '"';
	out[k] = '\0';
}

#define LAYOUT "2006-01-02T15:04:05.999999999Z07:00"

struct tparse {
	const char	*t_all;		/* the whole value, for messages */
	size_t		 t_alln;
	const char	*t_p;		/* what is left */
	size_t		 t_n;
	char		*t_err;
	size_t		 t_errlen;
};

/* "cannot parse <rest> as <elem>": Go's ParseError without a message. */
static int
t_bad(struct tparse *t, const char *elem)
{
	char v[160], rest[160];

	go_quote(t->t_all, t->t_alln, v, sizeof(v));
	go_quote(t->t_p, t->t_n, rest, sizeof(rest));
	snprintf(t->t_err, t->t_errlen, "parsing time %s as \"" LAYOUT "\": cannot parse %s as \"%s\"",
	    v, rest, elem);
	return -1;
}

static int
t_range(struct tparse *t, const char *what)
{
	char v[160];

	go_quote(t->t_all, t->t_alln, v, sizeof(v));
	snprintf(t->t_err, t->t_errlen, "parsing time %s: %s out of range", v, what);
	return -1;
}

static int
t_lit(struct tparse *t, char c)
{
	char e[2] = { c, '\0' };

	if (t->t_n == 0 || *t->t_p != c)
		return t_bad(t, e);
	t->t_p++;
	t->t_n--;
	return 0;
}

/* Exactly (fixed) or one-or-two (not fixed) digits, as Go's getnum. */
static int
t_num(struct tparse *t, int digits, int fixed, const char *elem, int *out)
{
	int v = 0, k = 0;

	while (k < digits && (size_t)k < t->t_n && t->t_p[k] >= '0' && t->t_p[k] <= '9')
		v = v * 10 + (t->t_p[k++] - '0');
	if (k == 0 || (fixed && k < digits))
		return t_bad(t, elem);
	t->t_p += k;
	t->t_n -= (size_t)k;
	*out = v;
	return 0;
}

static int
days_in(int month, int year)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : d[month - 1];
}

/* The fraction, an optional zone: after "05" in the layout. */
static int
t_tail(struct tparse *t, long *nsec, int *off)
{
	*nsec = 0;
	*off = 0;
	if (t->t_n >= 2 && (t->t_p[0] == '.' || t->t_p[0] == ',') &&
	    t->t_p[1] >= '0' && t->t_p[1] <= '9') {
		size_t i = 1;
		long scale = 100000000;
		while (i < t->t_n && t->t_p[i] >= '0' && t->t_p[i] <= '9') {
			if (i <= 9) {
				*nsec += (t->t_p[i] - '0') * scale;
				scale /= 10;
			}
			i++;
		}
		t->t_p += i;
		t->t_n -= i;
	}
	if (t->t_n >= 1 && t->t_p[0] == 'Z') {
		t->t_p++;
		t->t_n--;
		return 0;
	}
	if (t->t_n < 6 || t->t_p[3] != ':' || (t->t_p[0] != '+' && t->t_p[0] != '-'))
		return t_bad(t, "Z07:00");
	{
		struct tparse z = *t;
		int hh = 0, mm = 0;
		z.t_p++;
		z.t_n--;
		if (t_num(&z, 2, 1, "Z07:00", &hh) == -1 || t_lit(&z, ':') == -1 ||
		    t_num(&z, 2, 1, "Z07:00", &mm) == -1)
			return t_bad(t, "Z07:00");
		if (hh > 24)
			return t_range(t, "time zone offset hour");
		if (mm > 60)
			return t_range(t, "time zone offset minute");
		*off = (hh * 60 + mm) * 60 * (t->t_p[0] == '-' ? -1 : 1);
		t->t_p = z.t_p;
		t->t_n = z.t_n;
	}
	return 0;
}

int
brk_rfc3339_parse(const char *s, size_t n, int64_t *ns, char *err, size_t errlen)
{
	struct tparse t = { s, n, s, n, err, errlen };
	int year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0, off = 0;
	long nsec;
	struct tm tm;

	if (t_num(&t, 4, 1, "2006", &year) == -1 || t_lit(&t, '-') == -1 ||
	    t_num(&t, 2, 1, "01", &mon) == -1)
		return -1;
	if (mon < 1 || mon > 12)
		return t_range(&t, "month");
	if (t_lit(&t, '-') == -1 || t_num(&t, 2, 1, "02", &day) == -1 ||
	    t_lit(&t, 'T') == -1 || t_num(&t, 2, 0, "15", &hh) == -1)
		return -1;
	if (hh > 23)
		return t_range(&t, "hour");
	if (t_lit(&t, ':') == -1 || t_num(&t, 2, 1, "04", &mm) == -1)
		return -1;
	if (mm > 59)
		return t_range(&t, "minute");
	if (t_lit(&t, ':') == -1 || t_num(&t, 2, 1, "05", &ss) == -1)
		return -1;
	if (ss > 59)
		return t_range(&t, "second");
	if (t_tail(&t, &nsec, &off) == -1)
		return -1;
	if (t.t_n > 0) {
		char v[160], rest[160];
		go_quote(s, n, v, sizeof(v));
		go_quote(t.t_p, t.t_n, rest, sizeof(rest));
		snprintf(err, errlen, "parsing time %s: extra text: %s", v, rest);
		return -1;
	}
	if (day < 1 || day > days_in(mon, year))
		return t_range(&t, "day");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*ns = ((int64_t)timegm(&tm) - off) * 1000000000 + nsec;
	return 0;
}
