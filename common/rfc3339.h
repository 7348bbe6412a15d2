/* SPDX-License-Identifier: MIT */
/* rfc3339: timestamps as Faktory writes them ("2026-11-28T07:06:15.957888035Z"). */
#ifndef FKW_RFC3339_H
#define FKW_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s[0..len) (no NUL needed): date, 'T' (or 't'), time, an optional
 * fraction of up to 9 digits, then 'Z' or a +hh:mm / -hh:mm offset, nothing
 * after. 0 with *us = microseconds since the epoch (UTC), or -1 (EINVAL).
 */
int	rfc3339_parse_us(const char *s, size_t len, int64_t *us);

#endif
