/* SPDX-License-Identifier: MIT */
/* util: growable byte buffers, bounded number parsing, monotonic clock. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void
fkw_assert_fail(const char *e, const char *file, int line)
{
	fprintf(stderr, "<2>assertion failed: %s at %s:%d\n", e, file, line);
	abort();
}

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	free(b->b_data);
	buf_init(b);
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->b_cap - b->b_len >= n)
		return 0;
	/* Reclaim consumed space before growing. */
	if (b->b_off > 0) {
		buf_compact(b);
		if (b->b_cap - b->b_len >= n)
			return 0;
	}
	if (n > SIZE_MAX - b->b_len) {
		errno = ENOMEM;
		return -1;
	}
	need = b->b_len + n;
	cap = b->b_cap ? b->b_cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->b_data, cap)) == NULL)
		return -1;
	b->b_data = p;
	b->b_cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->b_data + b->b_len, p, n);
	b->b_len += n;
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) == -1) {
		va_end(again);
		return -1;
	}
	vsnprintf(b->b_data + b->b_len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->b_len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	FKW_ASSERT(n <= buf_rlen(b));
	b->b_off += n;
	if (b->b_off == b->b_len)
		b->b_off = b->b_len = 0;
}

void
buf_compact(struct buf *b)
{
	size_t n = buf_rlen(b);

	if (b->b_off == 0)
		return;
	if (n > 0)
		memmove(b->b_data, b->b_data + b->b_off, n);
	b->b_off = 0;
	b->b_len = n;
}

void
buf_reset(struct buf *b)
{
	b->b_off = b->b_len = 0;
}

int
parse_ll(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || !(*s == '-' || (*s >= '0' && *s <= '9'))) {
		*errstr = "not a number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "not a number";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_size(const char *s, uint64_t max, uint64_t *out, const char **errstr)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (s == NULL || *s < '0' || *s > '9') {
		*errstr = "not a size";
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		*errstr = "too large";
		return -1;
	}
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		*errstr = "not a size (use a number with an optional K, M, G or T suffix)";
		return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0') {
		*errstr = "not a size (use a number with an optional K, M, G or T suffix)";
		return -1;
	}
	if (shift && v > (UINT64_MAX >> shift)) {
		*errstr = "too large";
		return -1;
	}
	v <<= shift;
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

double
wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
fkw_random(void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

uint32_t
fkw_rand_below(uint32_t n)
{
	static uint64_t s;
	static pid_t spid;

	/* Reseed after fork so that children do not share a jitter sequence. */
	if (s == 0 || spid != getpid()) {
		spid = getpid();
		if (fkw_random(&s, sizeof(s)) == -1 || s == 0)
			s = (uint64_t)now_us() ^ ((uint64_t)spid << 32) ^ 0x9e3779b97f4a7c15ULL;
	}
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return n ? (uint32_t)(s % n) : 0;
}

long
proc_rss_kb(int pid)
{
	char path[64];
	FILE *f;
	long size, rss;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/statm");
	else
		snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	if (rss < 0)
		return -1;
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}
