/* SPDX-License-Identifier: MIT */
/*
 * example.so: a complete fkworker plugin, meant to be read. It serves
 *
 *   echo   synchronous: ACK when args[0] is a string (logged at debug),
 *          FAIL "BadArgs" otherwise.
 *   delay  asynchronous: ACK after args[0] milliseconds, waiting on a timer
 *          of the worker's loop, so a thousand delayed jobs cost no thread
 *          and block nothing. Its cancel callback stops the timer when the
 *          job times out or the worker shuts down.
 *   spin   synchronous: burns args[0] microseconds of CPU.
 *   crunch both: burns args[0] microseconds of CPU, then waits args[1]
 *          milliseconds as delay does (a job that computes, then stores its
 *          result and waits for the reply), so one slot keeps about
 *          args[0] / (args[0] + 1000 x args[1]) of a core busy.
 *
 * Build it outside the source tree with
 *   cc -shared -fPIC $(pkg-config --cflags fkworker) -o example.so example.c
 * and route jobtypes to it in /etc/fkworker.conf:
 *   { jobtype = "echo";  plugin = "/usr/lib/fkworker/plugins/example.so"; },
 *   { jobtype = "delay"; plugin = "/usr/lib/fkworker/plugins/example.so"; timeout = 60; }
 * (spin and crunch stand in for CPU-heavy jobs in fkworker's own tests and benchmarks).
 */
/* clock_gettime and CPU-time clocks are POSIX, not ISO C: a plugin built with -std=c11 asks. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "fkworker.h"

/* Lets fkworker refuse this file if it was built for another API. */
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;

#define DELAY_MAX_MS	(24LL * 3600 * 1000)
#define SPIN_MAX_US	(10LL * 1000 * 1000)

/* What the plugin shares between jobs: here, a counter, to show udata. */
struct example {
	unsigned long	ex_echoed;
};

static struct example example;

/* ==== echo: done before returning ==== */

static int
echo(struct fkw_job *job, void *udata)
{
	struct example *ex = udata;
	const char *s = fkw_job_arg_string(job, 0);

	if (s == NULL) {
		/* The message shows in Faktory's UI next to the retry. */
		fkw_job_set_error(job, "BadArgs", "echo: args[0] must be a string, got %s",
		    fkw_job_args_json(job));
		return FKW_FAIL;
	}
	ex->ex_echoed++;
	fkw_log(FKW_LOG_DEBUG, "echo %s: %s (%lu so far)", fkw_job_jid(job), s,
	    ex->ex_echoed);
	return FKW_ACK;
}

/* ==== delay: done later, from a timer ==== */

static void
delay_done(struct fkw_timer *t, void *arg)
{
	struct fkw_job *job = arg;

	(void)t;	/* the timer is spent: fkworker frees it after this returns */
	fkw_job_ack(job);
}

static int
delay(struct fkw_job *job, void *udata)
{
	struct fkw_timer *t;
	long long ms;

	(void)udata;
	if (fkw_job_arg_int(job, 0, &ms) == -1 || ms < 0 || ms > DELAY_MAX_MS) {
		fkw_job_set_error(job, "BadArgs",
		    "delay: args[0] must be milliseconds from 0 to %lld", DELAY_MAX_MS);
		return FKW_FAIL;
	}
	if ((t = fkw_timer_start((uint64_t)ms, delay_done, job)) == NULL) {
		fkw_job_set_error(job, "NoMemory", "delay: cannot start a timer");
		return FKW_FAIL;
	}
	/* Kept with the job so that delay_cancel can find it. */
	fkw_job_set_data(job, t);
	return FKW_ASYNC;
}

/* The job timed out or the worker stops: drop the timer, never complete here. */
static void
delay_cancel(struct fkw_job *job, void *udata)
{
	(void)udata;
	fkw_timer_cancel(fkw_job_get_data(job));
}

/* ==== spin: CPU time, measured on the thread's own clock ==== */

/*
 * CPU time, not wall time: a descheduled thread still burns its full share.
 * Arithmetic between the reads of the clock (each a system call), so the time
 * is the user time of real computing.
 */
static void
burn(long long us)
{
	static volatile uint64_t sink;
	struct timespec a, b;
	uint64_t x = sink;
	long long spent;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		for (int i = 0; i < 4096; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		spent = (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
	} while (spent < us);
	sink = x;
}

static int
spin(struct fkw_job *job, void *udata)
{
	long long us;

	(void)udata;
	if (fkw_job_arg_int(job, 0, &us) == -1 || us < 0 || us > SPIN_MAX_US) {
		fkw_job_set_error(job, "BadArgs",
		    "spin: args[0] must be microseconds from 0 to %lld", SPIN_MAX_US);
		return FKW_FAIL;
	}
	burn(us);
	return FKW_ACK;
}

/* ==== crunch: CPU time, then a wait on a timer (cancelled as delay's is) ==== */

static int
crunch(struct fkw_job *job, void *udata)
{
	struct fkw_timer *t;
	long long us, ms;

	(void)udata;
	if (fkw_job_arg_int(job, 0, &us) == -1 || us < 0 || us > SPIN_MAX_US ||
	    fkw_job_arg_int(job, 1, &ms) == -1 || ms < 0 || ms > DELAY_MAX_MS) {
		fkw_job_set_error(job, "BadArgs", "crunch: args must be [microseconds of CPU "
		    "from 0 to %lld, milliseconds to wait from 0 to %lld]", SPIN_MAX_US,
		    DELAY_MAX_MS);
		return FKW_FAIL;
	}
	/* The loop is held meanwhile: the other jobs of this process wait their turn. */
	burn(us);
	if (ms == 0)
		return FKW_ACK;
	if ((t = fkw_timer_start((uint64_t)ms, delay_done, job)) == NULL) {
		fkw_job_set_error(job, "NoMemory", "crunch: cannot start a timer");
		return FKW_FAIL;
	}
	fkw_job_set_data(job, t);
	return FKW_ASYNC;
}

/* ==== Entry points ==== */

int
fkw_plugin_init(struct fkw_plugin *p)
{
	if (fkw_register(p, "echo", echo, NULL, &example) == -1 ||
	    fkw_register(p, "delay", delay, delay_cancel, NULL) == -1 ||
	    fkw_register(p, "spin", spin, NULL, NULL) == -1 ||
	    fkw_register(p, "crunch", crunch, delay_cancel, NULL) == -1) {
		fkw_plugin_set_error(p, "cannot register its jobtypes");
		return -1;
	}
	fkw_log(FKW_LOG_INFO, "example plugin ready (API %d, loaded from %s)",
	    fkw_api_version(), fkw_plugin_path(p));
	return 0;
}

void
fkw_plugin_fini(void)
{
	fkw_log(FKW_LOG_INFO, "example plugin done: %lu echo job(s)", example.ex_echoed);
}
