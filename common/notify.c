/* SPDX-License-Identifier: MIT */
/* notify: READY, RELOADING, STOPPING, STATUS and WATCHDOG for systemd via libsystemd. */
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "notify.h"
#include "util.h"

int
notify_ready(void)
{
	return sd_notify(0, "READY=1");
}

int
notify_reloading(void)
{
	return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)now_us());
}

int
notify_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}

int
notify_status(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return sd_notifyf(0, "STATUS=%s", text);
}

int
notify_watchdog(void)
{
	return sd_notify(0, "WATCHDOG=1");
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* > 0 only when WATCHDOG_USEC is set for this very pid (WATCHDOG_PID). */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}
