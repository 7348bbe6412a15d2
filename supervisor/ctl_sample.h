/* SPDX-License-Identifier: MIT */
/*
 * ctl_sample: what `fkworkerctl diagnose` and `top` sample once a second
 * over the control connection (see ctl_sample.c).
 */
#ifndef FKW_CTL_SAMPLE_H
#define FKW_CTL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "diag.h"

struct ctl_sampler;

/* who names the command in messages ("diagnose"); NULL on ENOMEM. */
struct ctl_sampler *ctl_sample_new(int ctlfd, const char *who);
void	ctl_sample_free(struct ctl_sampler *);

/* One sample: 0, or -1 with the reason on stderr. */
int	ctl_sample_take(struct ctl_sampler *, struct diag_sample *out);

/* The status behind the last sample (NULL before one); valid until the next take. */
const struct ctl_status *ctl_sample_status(const struct ctl_sampler *);

/* Why no verdict can be given from that status ("fkworker is quiet"), or NULL. */
const char *ctl_sample_unknown(const struct ctl_status *, char *buf, size_t len);

/* Sleeps until CLOCK_MONOTONIC ms (now_ms()). */
void	ctl_sample_sleep_until(uint64_t ms);

/* ---- the commands built on it ---- */

/*
 * `fkworkerctl diagnose` (ctl_diag.c): samples for `seconds` and prints the
 * verdict; 0, or CTL_EX_ERROR when it cannot tell.
 */
int	ctl_diag_run(int ctlfd, int seconds, int json);

/*
 * `fkworkerctl top` (ctl_top.c): `frames` frames a second apart (0: until q,
 * Ctrl-C or TERM); plain text when `plain` or not on a terminal.
 */
int	ctl_top_run(int ctlfd, long frames, int plain);

#endif
