/* SPDX-License-Identifier: MIT */
/* sig: signals as file descriptors, so every reaction happens in the event loop. */
#ifndef FKW_SIG_H
#define FKW_SIG_H

#include <signal.h>

/*
 * Blocks the given signals (0-terminated list) and returns a non-blocking,
 * close-on-exec signalfd for them, or -1. SIGPIPE is always ignored.
 */
int	sig_fd(const int *signals);
/* Reads one pending signal from a signalfd: its number, 0 if none, -1 on error. */
int	sig_read(int fd, int *pid_out);
/* Restores the default disposition and an empty mask (after fork, before exec). */
void	sig_reset_all(void);
const char *sig_name(int);

#endif
