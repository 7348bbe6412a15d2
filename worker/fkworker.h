/* SPDX-License-Identifier: MIT */
/*
 * fkworker.h: the plugin API of fkworker, the Faktory job runner.
 *
 * A plugin is a shared object that handles jobs inside fkworker's worker
 * processes, without a process per job. It is named in /etc/fkworker.conf:
 *
 *	handlers: (
 *	  { jobtype = "thumbnail"; plugin = "/usr/lib/fkworker/plugins/app.so"; timeout = 30; },
 *	  { jobtype = "*";         plugin = "/usr/lib/fkworker/plugins/app.so"; }
 *	);
 *
 * and built without linking anything: every fkw_ function below lives in
 * the fkworker executable itself.
 *
 *	cc -shared -fPIC $(pkg-config --cflags fkworker) -o app.so app.c
 *
 * THE SHAPE OF A PLUGIN
 *
 *	#include <fkworker.h>
 *
 *	const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
 *
 *	static int
 *	hello(struct fkw_job *job, void *udata)
 *	{
 *		const char *who = fkw_job_arg_string(job, 0);
 *
 *		if (who == NULL) {
 *			fkw_job_set_error(job, "BadArgs", "args[0] must be a string");
 *			return FKW_FAIL;
 *		}
 *		fkw_log(FKW_LOG_INFO, "hello, %s (job %s)", who, fkw_job_jid(job));
 *		return FKW_ACK;
 *	}
 *
 *	int
 *	fkw_plugin_init(struct fkw_plugin *p)
 *	{
 *		return fkw_register(p, "hello", hello, NULL, NULL);
 *	}
 *
 * worker/examples/example.c in the source tree is a complete plugin with a
 * synchronous and an asynchronous handler.
 *
 * THE RULES
 *
 * - One thread. Each worker process runs one event loop, and every call
 *   into the plugin (init, handlers, cancel, fd and timer callbacks) happens
 *   on it. None of the fkw_ functions may be called from another thread.
 *   Never block: a handler that sleeps or waits on the network stalls every
 *   other job of that process. Wait with fkw_watch_fd and fkw_timer_start
 *   instead, and complete the job later (FKW_ASYNC).
 * - Each worker process loads the plugin once (dlopen) when it starts and
 *   calls fkw_plugin_init there; a configuration reload replaces the
 *   processes, so init runs again in the new ones. There is no shared state
 *   between processes: a connection pool, for example, is per process.
 * - A job is completed exactly once: by the handler's return value, or
 *   later by fkw_job_ack / fkw_job_fail. Completing it ends the job handle's
 *   life; so does the cancel callback.
 * - A crash in a plugin kills its worker process: the master restarts it and
 *   FAILs the jobs it was running, but those jobs and the others of the
 *   process are delayed. Treat every job's content as untrusted input.
 * - Strings returned by the accessors are owned by the job and valid until
 *   it completes (or is cancelled). Copy what you keep.
 * - The names starting with fkw_ belong to fkworker: a plugin defines only
 *   the three below (fkw_plugin_api_version, fkw_plugin_init and
 *   fkw_plugin_fini). Keep everything else static, or build with
 *   -fvisibility=hidden, so that no symbol of yours meets one of another
 *   plugin or of the executable.
 *
 * COMPATIBILITY
 *
 * FKW_PLUGIN_API_VERSION changes only when an existing function changes
 * meaning or signature; fkworker refuses to load a plugin built for another
 * version, with a message naming both. New functions may be added without a
 * change: a plugin that uses them needs an fkworker at least as new as its
 * header (fkw_api_version() reports the running one).
 */
#ifndef FKWORKER_H
#define FKWORKER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FKW_PLUGIN_API_VERSION	1

#if defined(__GNUC__)
#define FKW_PUBLIC	__attribute__((visibility("default")))
#define FKW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FKW_PUBLIC
#define FKW_PRINTF(f, a)
#endif

/* Opaque handles. Their layout is private to fkworker. */
struct fkw_plugin;	/* the plugin being initialised */
struct fkw_job;		/* one running job */
struct fkw_timer;	/* a pending one-shot timer */
struct fkw_watch;	/* a watched file descriptor */

/* ==== What the plugin exports ==== */

/*
 * Required. Define it exactly as
 *	const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
 * fkworker compares it with its own before it calls anything.
 */
extern FKW_PUBLIC const int fkw_plugin_api_version;

/*
 * Required. Called once per worker process, before any job: register the
 * jobtypes the plugin serves (fkw_register) and set up what the handlers
 * share. Return 0, or -1 after fkw_plugin_set_error() to refuse to start:
 * the worker then exits as for a configuration error (status 78) and the
 * message is logged with the plugin's path. A plugin that registers nothing
 * is refused too.
 */
FKW_PUBLIC int	fkw_plugin_init(struct fkw_plugin *p);

/*
 * Optional. Called once when the worker process exits normally, after
 * every job has completed or been cancelled. Release what init set up;
 * fkworker cancels timers and watches the plugin left behind.
 */
FKW_PUBLIC void	fkw_plugin_fini(void);

/* ==== Registration (inside fkw_plugin_init only) ==== */

/* What a handler returns. */
enum fkw_result {
	FKW_ACK = 0,	/* done, succeeded: the job is ACKed */
	FKW_FAIL = 1,	/* done, failed: FAILed with the error set by fkw_job_set_error */
	FKW_ASYNC = 2,	/* still running: fkw_job_ack or fkw_job_fail will be called later */
};

/*
 * Runs a job. udata is the pointer given to fkw_register. The job handle is
 * valid until the job completes: at once when this returns FKW_ACK or
 * FKW_FAIL, or at the fkw_job_ack / fkw_job_fail call after FKW_ASYNC.
 * Any other return value FAILs the job with errtype "PluginError".
 */
typedef int	fkw_handler_fn(struct fkw_job *job, void *udata);

/*
 * Stops an FKW_ASYNC job that must end now: its timeout (the handler's
 * "timeout" in the configuration) expired, or the worker is shutting down.
 * Cancel the timers and watches serving the job and free its data; do not
 * complete it (fkworker FAILs it, errtype "Timeout" or "Shutdown"). The job
 * handle is invalid once this returns.
 */
typedef void	fkw_cancel_fn(struct fkw_job *job, void *udata);

/*
 * Serves jobtype (exact match, or "*" for every jobtype of the configuration
 * entries naming this plugin that no exact registration claims) with fn.
 * cancel may be NULL only for handlers that never return FKW_ASYNC: without
 * one, a timed-out asynchronous job keeps running unseen and its late
 * completion is ignored. Returns 0, or -1 if jobtype is empty or already
 * registered, fn is NULL, memory ran out, or this is called outside init.
 *
 * Only the jobtypes the configuration routes to this plugin reach it; a job
 * routed here whose jobtype the plugin did not register is FAILed with
 * errtype "NoHandler".
 */
FKW_PUBLIC int	fkw_register(struct fkw_plugin *p, const char *jobtype,
		    fkw_handler_fn *fn, fkw_cancel_fn *cancel, void *udata);

/* The reason init fails, logged with the plugin path. printf-style. */
FKW_PUBLIC void	fkw_plugin_set_error(struct fkw_plugin *p, const char *fmt, ...)
		    FKW_PRINTF(2, 3);

/* The path the plugin was loaded from, as written in the configuration. */
FKW_PUBLIC const char *fkw_plugin_path(const struct fkw_plugin *p);

/* The API version of the running fkworker (FKW_PLUGIN_API_VERSION it was built with). */
FKW_PUBLIC int	fkw_api_version(void);

/* ==== The job ==== */

/* The job id, jobtype and queue ("" when the job names none). */
FKW_PUBLIC const char *fkw_job_jid(const struct fkw_job *job);
FKW_PUBLIC const char *fkw_job_type(const struct fkw_job *job);
FKW_PUBLIC const char *fkw_job_queue(const struct fkw_job *job);

/* The whole job as the server sent it: compact JSON text. len may be NULL. */
FKW_PUBLIC const char *fkw_job_json(const struct fkw_job *job, size_t *len);

/* args as compact JSON text ("[1,\"a\"]"), made on the first call; NULL if out of memory. */
FKW_PUBLIC const char *fkw_job_args_json(struct fkw_job *job);

/* The number of args. */
FKW_PUBLIC size_t fkw_job_nargs(const struct fkw_job *job);

/* args[i] if it is a string, else NULL (also past the end). */
FKW_PUBLIC const char *fkw_job_arg_string(const struct fkw_job *job, size_t i);

/*
 * args[i] as an integer: 0 with *out set if it is an integer (or a number
 * with an integral value that fits), else -1 and *out untouched.
 */
FKW_PUBLIC int	fkw_job_arg_int(const struct fkw_job *job, size_t i, long long *out);

/* args[i] as a double: 0 if it is a number, else -1. */
FKW_PUBLIC int	fkw_job_arg_double(const struct fkw_job *job, size_t i, double *out);

/* custom[key] if the job's "custom" object holds a string there, else NULL. */
FKW_PUBLIC const char *fkw_job_custom_string(const struct fkw_job *job, const char *key);

/* A pointer of the plugin's own, kept with the job (NULL at start). */
FKW_PUBLIC void	fkw_job_set_data(struct fkw_job *job, void *data);
FKW_PUBLIC void	*fkw_job_get_data(const struct fkw_job *job);

/* ==== Completing the job ==== */

/*
 * The error a handler returning FKW_FAIL reports. errtype is a short class
 * name ("BadArgs", "Timeout"; cut to 100 bytes); the message is printf-style
 * (cut to 1000 bytes on a character boundary). Faktory shows both and
 * retries the job per its retry policy. Without it FKW_FAIL reports
 * errtype "Failed" and an empty message.
 */
FKW_PUBLIC void	fkw_job_set_error(struct fkw_job *job, const char *errtype,
		    const char *fmt, ...) FKW_PRINTF(3, 4);

/*
 * Complete an FKW_ASYNC job, from any loop callback (or from inside the
 * handler itself before it returns FKW_ASYNC). Returns 0, or -1 if the job
 * was already completed or cancelled; the handle is invalid afterwards.
 */
FKW_PUBLIC int	fkw_job_ack(struct fkw_job *job);
FKW_PUBLIC int	fkw_job_fail(struct fkw_job *job, const char *errtype,
		    const char *fmt, ...) FKW_PRINTF(3, 4);

/* ==== The event loop: waiting without blocking ==== */

/* Events for fkw_watch_fd; level-triggered. */
#define FKW_EV_READ	0x1u	/* readable, or the peer closed (read returns 0) */
#define FKW_EV_WRITE	0x2u	/* writable */
#define FKW_EV_ERROR	0x4u	/* reported only, with the watched events: error or hang-up */

typedef void	fkw_fd_fn(struct fkw_watch *w, int fd, unsigned events, void *arg);
typedef void	fkw_timer_fn(struct fkw_timer *t, void *arg);

/*
 * Calls cb whenever fd is ready for events (FKW_EV_READ | FKW_EV_WRITE);
 * events passed to cb may include FKW_EV_ERROR. The fd stays the plugin's:
 * make it non-blocking, and fkw_unwatch_fd before closing it. Returns a
 * handle, or NULL with errno set.
 */
FKW_PUBLIC struct fkw_watch *fkw_watch_fd(int fd, unsigned events, fkw_fd_fn *cb, void *arg);

/* Changes the events watched (0 pauses). 0, or -1 with errno set. */
FKW_PUBLIC int	fkw_watch_set(struct fkw_watch *w, unsigned events);

/* Stops watching and frees the handle; allowed inside its own callback. */
FKW_PUBLIC void	fkw_unwatch_fd(struct fkw_watch *w);

/*
 * Calls cb once, after ms milliseconds. The handle is valid until cb has
 * returned or until fkw_timer_cancel; it is freed then (cancelling it inside
 * its own callback is allowed and does nothing). NULL if out of memory.
 */
FKW_PUBLIC struct fkw_timer *fkw_timer_start(uint64_t ms, fkw_timer_fn *cb, void *arg);
FKW_PUBLIC void	fkw_timer_cancel(struct fkw_timer *t);

/* The loop's monotonic clock in milliseconds (cheap: cached per iteration). */
FKW_PUBLIC uint64_t fkw_now_ms(void);

/* ==== Logging ==== */

/* syslog priorities; messages go to the worker's log (the journal), tagged. */
#define FKW_LOG_ERR	3
#define FKW_LOG_WARNING	4
#define FKW_LOG_NOTICE	5
#define FKW_LOG_INFO	6
#define FKW_LOG_DEBUG	7

FKW_PUBLIC void	fkw_log(int priority, const char *fmt, ...) FKW_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif
