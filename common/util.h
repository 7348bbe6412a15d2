/* SPDX-License-Identifier: MIT */
/* util: growable byte buffers, bounded number parsing, monotonic clock. */
#ifndef FKW_UTIL_H
#define FKW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FKW_FALLTHROUGH __attribute__((fallthrough))
#define FKW_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FKW_UNUSED(x) ((void)(x))

/* Invariants that cannot fail unless the program itself is wrong. */
#define FKW_ASSERT(e) \
	((e) ? (void)0 : fkw_assert_fail(#e, __FILE__, __LINE__))
void fkw_assert_fail(const char *, const char *, int) __attribute__((noreturn));

/*
 * A growable byte buffer. b_off is where unread data starts (readers consume
 * from the front without moving bytes until buf_compact).
 */
struct buf {
	char	*b_data;
	size_t	 b_len;		/* bytes stored, including consumed ones */
	size_t	 b_off;		/* bytes already consumed from the front */
	size_t	 b_cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
/* Makes room for n more bytes; -1 with errno ENOMEM on failure. */
int	 buf_reserve(struct buf *, size_t n);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Unread bytes. */
static inline const char *buf_rptr(const struct buf *b) { return b->b_data + b->b_off; }
static inline size_t buf_rlen(const struct buf *b) { return b->b_len - b->b_off; }
void	 buf_consume(struct buf *, size_t n);
/* Moves unread bytes to the front; keeps capacity. */
void	 buf_compact(struct buf *);
void	 buf_reset(struct buf *);

/*
 * Parses a decimal integer in [min, max]. The whole string must be the number
 * (surrounding white space not allowed). Returns 0, or -1 with *errstr set to a
 * static description ("not a number", "too small", "too large").
 */
int	 parse_ll(const char *s, long long min, long long max, long long *out,
	    const char **errstr);
/*
 * Parses a size with an optional K/M/G/T suffix (powers of 1024), e.g. "512M".
 * "0" is allowed. Same contract as parse_ll.
 */
int	 parse_size(const char *s, uint64_t max, uint64_t *out, const char **errstr);

/* Monotonic clock in milliseconds / microseconds. */
uint64_t now_ms(void);
uint64_t now_us(void);
/* Wall clock, seconds since the epoch, with microseconds. */
double	 wall_time(void);

/* Random bytes from getrandom(2), falling back to nothing: returns -1 on failure. */
int	 fkw_random(void *, size_t);
/* A uniformly random integer in [0, n) from a per-process xorshift state. */
uint32_t fkw_rand_below(uint32_t n);

/* Resident set size of a process in KiB from /proc/PID/statm (pid 0 = self), or -1. */
long	 proc_rss_kb(int pid);

#endif
