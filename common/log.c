/* SPDX-License-Identifier: MIT */
/* log: journald-friendly logging with <N> priority prefixes and a process tag. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "fkworker";
static int log_level = LOG_LVL_INFO;
static int log_plain;
static char log_proc[32] = "main";

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *name, int level, int plain)
{
	log_name = name;
	log_level = level;
	log_plain = plain;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

int
log_level_parse(const char *s)
{
	for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < LOG_LVL_ERR || level > LOG_LVL_DEBUG)
		return "?";
	return level_names[level];
}

void
log_setproc(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_proc, sizeof(log_proc), fmt, ap);
	va_end(ap);
}

#define LOG_MSG_MAX	4096	/* one message, all its lines */
#define LOG_LINE_MAX	2048	/* one line with its prefix; longer lines are cut */

/* "<N>fkworker[pid]: tag: ", or a timestamp in place of <N> on a tty. */
static size_t
prefix(int pri, char *buf, size_t len)
{
	size_t n = 0;
	int r;

	if (log_plain) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(buf, len, "%H:%M:%S", &tm);
		r = snprintf(buf + n, len - n, ".%03ld %s[%d]: %s: ",
		    ts.tv_nsec / 1000000, log_name, (int)getpid(), log_proc);
	} else {
		r = snprintf(buf, len, "<%d>%s[%d]: %s: ", pri, log_name,
		    (int)getpid(), log_proc);
	}
	if (r > 0)
		n += (size_t)r;
	return n < len ? n : len - 1;
}

static void
flush(const char *buf, size_t n)
{
	if (n > 0 && write(STDERR_FILENO, buf, n) == -1) {
		/* Nowhere left to report it. */
	}
}

/*
 * journald takes the <N> priority and our tag from each line on its own, so
 * every line of a multi-line message (a refused reload and its reasons)
 * carries both. The lines of one message go out in one write(2) when they
 * fit, so that lines from several processes do not interleave.
 */
static void
vlog(int pri, const char *err, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], out[2 * LOG_MSG_MAX], pre[128];
	size_t mlen, plen, n = 0;
	const char *p, *end;
	int saved = errno;

	if (pri > log_level) {
		errno = saved;
		return;
	}
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	mlen = strlen(msg);
	if (err != NULL && mlen < sizeof(msg) - 1)
		snprintf(msg + mlen, sizeof(msg) - mlen, ": %s", err);
	mlen = strlen(msg);
	while (mlen > 0 && msg[mlen - 1] == '\n')
		msg[--mlen] = '\0';
	plen = prefix(pri, pre, sizeof(pre));
	for (p = msg; p == msg || p < msg + mlen; p = end + 1) {
		size_t llen;

		if ((end = memchr(p, '\n', (size_t)(msg + mlen - p))) == NULL)
			end = msg + mlen;
		llen = (size_t)(end - p);
		if (plen + llen + 1 > LOG_LINE_MAX)
			llen = LOG_LINE_MAX - plen - 1;
		if (n + plen + llen + 1 > sizeof(out)) {
			flush(out, n);
			n = 0;
		}
		memcpy(out + n, pre, plen);
		memcpy(out + n + plen, p, llen);
		n += plen + llen;
		out[n++] = '\n';
		if (end == msg + mlen)
			break;
	}
	flush(out, n);
	errno = saved;
}

#define LOGFN(name, pri, witherr)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	const char *e = witherr ? strerror(errno) : NULL;		\
									\
	va_start(ap, fmt);						\
	vlog(pri, e, fmt, ap);						\
	va_end(ap);							\
}

LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_err, LOG_LVL_ERR, 1)
LOGFN(log_errx, LOG_LVL_ERR, 0)
LOGFN(log_notice, LOG_LVL_NOTICE, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(int ex, const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, e, fmt, ap);
	va_end(ap);
	exit(ex);
}

void
fatalx(int ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(ex);
}
