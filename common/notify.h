/* SPDX-License-Identifier: MIT */
/*
 * notify: systemd's service notification protocol through libsystemd's
 * sd_notify. Every call is a no-op when the process does not run under a
 * Type=notify unit (NOTIFY_SOCKET unset). Never logs; returns what
 * sd_notify returns (> 0 sent, 0 not under systemd, < 0 -errno).
 */
#ifndef FKW_NOTIFY_H
#define FKW_NOTIFY_H

#include <stdint.h>

int	notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC (systemd 253+ Type=notify-reload wants it). */
int	notify_reloading(void);
int	notify_stopping(void);
/* STATUS=<text>: one line shown by systemctl status. */
int	notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	notify_watchdog(void);
/* The unit's watchdog interval in microseconds, or 0 when it does not ask for one. */
uint64_t notify_watchdog_usec(void);

#endif
