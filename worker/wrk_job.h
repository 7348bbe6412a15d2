/* SPDX-License-Identifier: MIT */
/*
 * wrk_job: one running job and the handler interface. A job lives inside its
 * slot; its parsed JSON lives in an arena block (common/jarena.h) until the
 * job is cleared, so the parse calls malloc only for a job that outgrows the
 * block. A handler starts it and completes it once, now or later, through
 * wrk_job_done().
 */
#ifndef FKW_WRK_JOB_H
#define FKW_WRK_JOB_H

#include <jansson.h>
#include <sched.h>
#include <stdint.h>

#include "conf.h"
#include "ev.h"
#include "jarena.h"

struct wrk_job;
struct wrk_slot;

enum wrk_job_state {
	WRK_JOB_FREE = 0,
	WRK_JOB_RUNNING,	/* handler owns it */
	WRK_JOB_DONE,		/* result recorded, report pending or sent */
};

/*
 * A handler kind (builtin, exec, plugin). start() is called once per job; it
 * either completes the job before returning (wrk_job_done) or arranges to do
 * so later from the loop (timers, fds). cancel() is called when the job must
 * end now (timeout, shutdown): the handler stops its work and frees what it
 * holds for the job WITHOUT calling wrk_job_done; the caller completes it.
 */
struct wrk_handler {
	const char	*hd_name;		/* "noop", "exec", "plugin" ... */
	int		(*hd_start)(struct wrk_job *);
	void		(*hd_cancel)(struct wrk_job *);
};

struct wrk_job {
	enum wrk_job_state	 jb_state;
	struct wrk_slot		*jb_slot;
	json_t			*jb_json;	/* the whole job, owned; read-only */
	struct jarena		 jb_arena;	/* where jb_json's values live */
	const char		*jb_jid;	/* into jb_json */
	size_t			 jb_jid_len;
	const char		*jb_jobtype;	/* into jb_json */
	json_t			*jb_args;	/* borrowed from jb_json; an array */
	const char		*jb_raw;	/* the job's JSON text as received, NUL-terminated (valid while running) */
	size_t			 jb_raw_len;
	const struct conf_handler *jb_conf;	/* the matching config entry */
	const struct wrk_handler *jb_handler;
	uint64_t		 jb_start_us;
	int64_t			 jb_enqueued_us;	/* enqueued_at, wall-clock us since the epoch; 0 = unknown */
	struct ev_timer		 jb_timer;	/* free for the handler (sleep) */
	struct ev_timer		 jb_deadline;	/* timeout: wrk_job arms and owns it */
	void			*jb_hdata;	/* handler-private state */
	int			 jb_inflight;	/* index in the shared in-flight table or -1 */
};

/* The loop every handler runs on (one per child). */
struct ev_loop	*wrk_loop(void);

/*
 * Completes a running job exactly once: ok != 0 means ACK; otherwise FAIL
 * with errtype (non-empty, e.g. "Timeout", "ExecFailed") and message. The
 * strings are copied. Safe to call from inside start() or from any loop
 * callback; a second call, or a call for a job that is no longer running,
 * is ignored (it returns -1) so late completions cannot double-report.
 */
int	wrk_job_done(struct wrk_job *, int ok, const char *errtype, const char *message);

/* Handler tables (worker/wrk_builtin.c, wrk_exec.c, wrk_plugin.c). */
extern const struct wrk_handler wrk_builtin_noop;
extern const struct wrk_handler wrk_builtin_sleep;
extern const struct wrk_handler wrk_builtin_fail;
extern const struct wrk_handler wrk_exec_handler;

/*
 * Plugins: loaded once per child at start (dlopen each distinct path named
 * in the configuration, call its init). wrk_plugin_handler returns the
 * handler for a jobtype served by the plugin of that conf entry, or NULL.
 * 0 / -1 with err filled ("plugin /x.so: undefined symbol ...").
 */
int	wrk_plugin_load_all(const struct fkw_conf *, char *err, size_t errlen);
const struct wrk_handler *wrk_plugin_handler(const struct conf_handler *);
void	wrk_plugin_unload_all(void);

/*
 * exec: reaps its children through the loop and starts them off it
 * (spawner threads); call once at child start.
 */
int	wrk_exec_init(struct ev_loop *, char *err, size_t errlen);
/*
 * The child's shared in-flight table, whose if_pgid fields publish its
 * commands' process groups for the master to kill should the child die
 * (wrk_exec_pgid.c). NULL (the default): not published.
 */
struct stats_inflight;
void	wrk_exec_pgid_table(struct stats_inflight *, uint32_t cap);
/*
 * The CPUs commands run on: the child's before it pinned itself (call before
 * wrk_exec_init). Not called: wherever the child runs.
 */
void	wrk_exec_spawner_cpus(const cpu_set_t *);

#endif
