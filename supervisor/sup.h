/* SPDX-License-Identifier: MIT */
/*
 * sup: the master process. Internal header of supervisor/.
 *
 * The master never runs jobs. One epoll loop (sup_loop.c) over a signalfd,
 * the children's channels (sup_child.c), the control socket (sup_ctl.c), the
 * master's own Faktory connection (sup_beat.c) and timers. Reload rolls the
 * children onto a new configuration (sup_reload.c); statistics come from the
 * shared region (sup_stats.c) and are served as one struct (sup_status.c).
 */
#ifndef FKW_SUP_H
#define FKW_SUP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "conf.h"
#include "ctl.h"
#include "ev.h"
#include "stats.h"
#include "wrk.h"

#define SUP_VERSION		"0.1.0"

/* Exit codes (sysexits). */
#define SUP_EX_OK		0
#define SUP_EX_USAGE		64
#define SUP_EX_SOFTWARE		70	/* crash loop, internal error */
#define SUP_EX_OSERR		71	/* a system call failed at startup */
#define SUP_EX_CONFIG		78	/* bad configuration or credentials */

struct sup_opts {
	const char	*so_conf_path;
	int		 so_foreground;		/* -d: plain log lines on a tty */
	int		 so_verbose;
};

/*
 * The master's lifecycle; sup_loop_set_state is the only way to move.
 *   STARTING -> RUNNING <-> RELOADING
 *   STARTING | RUNNING | RELOADING -> QUIET
 *   any -> STOPPING
 */
enum sup_state {
	SUP_ST_STARTING,	/* children connecting for the first time */
	SUP_ST_RUNNING,
	SUP_ST_RELOADING,	/* rolling children onto a new configuration */
	SUP_ST_QUIET,		/* children finish their jobs and fetch nothing */
	SUP_ST_STOPPING,	/* children leaving; the master exits when all are gone */
};

/*
 * One position of the shared region and the child in it. Child index i
 * owns positions 2i and 2i+1, so a replacement runs beside its
 * predecessor. Transitions (sup_child.c):
 *   FREE -> STARTING (spawn) -> READY (channel READY) -> RETIRING (told to
 *   leave) -> FREE (reaped); a crash goes to BACKOFF, whose timer spawns.
 */
enum sup_ch_state {
	SUP_CH_FREE,
	SUP_CH_BACKOFF,		/* dead; respawn timer armed */
	SUP_CH_STARTING,	/* forked; slots connecting */
	SUP_CH_READY,		/* every slot connected once */
	SUP_CH_RETIRING,	/* told TERMINATE or STOP; exits on its own */
};

#define SUP_RATE_SAMPLES	11	/* 1 s apart: a 10 s window */

struct sup_sample {
	uint64_t	sa_ms;
	uint64_t	sa_done;	/* processed + failed */
};

struct sup_child {
	int			 ch_pos;
	int			 ch_index;
	enum sup_ch_state	 ch_state;
	pid_t			 ch_pid;
	uint32_t		 ch_generation;
	int			 ch_chan;	/* master's end of the channel, or -1 */
	struct ev_io		 ch_io;
	struct ev_timer		 ch_timer;	/* respawn backoff */
	uint64_t		 ch_spawned_ms;
	uint64_t		 ch_ready_ms;
	int			 ch_recycle;	/* asked to be replaced (limits reached) */
	int			 ch_slots;	/* active slots it was given (start or SLOTS) */
	struct wrk_ctx		 ch_ctx;
	struct stats_pos	 ch_sp;
	/* statistics (sup_stats.c) */
	struct stats_counters	 ch_last;	/* last record read from the ring */
	struct stats_slot	 ch_slot;	/* last scoreboard copy */
	uint64_t		 ch_sampled_ms;	/* when ch_last was published */
	uint64_t		 ch_dropped;
	struct sup_sample	 ch_rate[SUP_RATE_SAMPLES];
	int			 ch_nrate;
};

/* Per child index: what survives the children that come and go in it. */
struct sup_index {
	int		ix_crashes;	/* consecutive, for the backoff */
	uint32_t	ix_restarts;	/* every respawn after the first start */
	uint64_t	ix_gone_done;	/* jobs counted by its children that are gone */
};

struct sup_env {
	struct fkw_conf		*se_conf;
	const struct sup_opts	*se_opts;
	struct ev_loop		*se_loop;
	enum sup_state		 se_state;
	int			 se_exit;	/* exit status once stopped */
	uint64_t		 se_start_ms;
	char			 se_hostname[256];
	char			 se_wid[20];
	struct stats_header	*se_shm;
	struct sup_child	*se_child;	/* se_npos positions */
	int			 se_npos;
	struct sup_index	*se_index;	/* se_npos / 2 */
	uint32_t		 se_generation;	/* spawn counter */
	uint32_t		 se_slots_max;	/* per child: slot storage and in-flight entries */
};

extern struct sup_env *sup_env;

/*
 * Runs the master until it stops: forks the children, supervises them,
 * heartbeats Faktory, answers the control socket. Takes ownership of conf.
 * Returns the process exit status (0, 70, 71, 78).
 */
int	sup_main(struct fkw_conf *conf, const struct sup_opts *);

/* sup_loop.c */
/* The host's identity for HELLO: hostname and a fresh wid of 16 hex digits. */
void	sup_loop_identity(char *host, size_t hostlen, char *wid, size_t widlen);
const char *sup_loop_state_name(enum sup_state);
/* -1 (and nothing changes) when the transition is not allowed. */
int	sup_loop_set_state(enum sup_state);
void	sup_loop_quiet(const char *why);
/*
 * Stops the host: graceful (children drain up to shutdown_timeout) or fast
 * (children FAIL running jobs now). A fast request escalates a graceful
 * stop; the first exit status given wins.
 */
void	sup_loop_stop(int fast, int exit_status, const char *why);
/* A child became READY or left: check readiness and the end of a stop. */
void	sup_loop_children_changed(void);

/* sup_child.c */
int	sup_child_init(void);
void	sup_child_start_all(void);
/* Spawns into a position (FREE or BACKOFF); -1 (logged) on failure. */
int	sup_child_spawn(struct sup_child *);
void	sup_child_send(struct sup_child *, enum wrk_msg);
/* Tells a running child its active slots (SLOTS); remembered in ch_slots. */
void	sup_child_send_slots(struct sup_child *, int slots);
/* Tells a child to leave (TERMINATE or STOP) now and marks it RETIRING. */
void	sup_child_retire(struct sup_child *, enum wrk_msg);
/*
 * Retires a replaced child without failing a job: QUIET now, TERMINATE once
 * the FETCHes it had out have come back (their jobs run normally).
 */
void	sup_child_drain(struct sup_child *);
/* Sends m to every child that runs (QUIET) or retires them all (TERMINATE, STOP). */
void	sup_child_all(enum wrk_msg);
/* The child serving index i (STARTING or READY, the newer one), or NULL. */
struct sup_child *sup_child_serving(int index);
/* Spawns a replacement for the child at c beside it; -1 if the sibling is busy. */
int	sup_child_replace(struct sup_child *c);
void	sup_child_reap(void);
void	sup_child_kill_all(int sig);
int	sup_child_nlive(void);
int	sup_child_all_ready(void);
void	sup_child_free_all(void);

/* sup_reload.c */
/*
 * Loads and validates the configuration file into a fresh struct and
 * starts rolling the children onto it. -1 with err (every "FILE:LINE: ..."
 * line) when it cannot: the old configuration keeps running.
 */
int	sup_reload_start(char *err, size_t errlen);
/* The reply of the last roll that ended well: what it did and what changed. */
const char *sup_reload_result(void);
/* Advances the roll; called when a child becomes READY or exits. */
void	sup_reload_step(void);
/* A child spawned by the roll died before it was READY. */
int	sup_reload_is_rolling_child(const struct sup_child *);
void	sup_reload_abort(const char *why);
/* What a configuration needs that only a restart can give; -1 with err. */
int	sup_reload_fits(const struct fkw_conf *, char *err, size_t errlen);
/* Raises RLIMIT_NOFILE; -1 with err when concurrency cannot fit. */
int	sup_reload_nofile(const struct fkw_conf *, char *err, size_t errlen);

/* sup_confcheck.c */
int	sup_confcheck(const struct fkw_conf *, struct conf_errors *errs);

/* sup_auto.c */
/* The host's concurrency from the configuration; starts the controller when "auto". */
void	sup_auto_init(void);
/* The configuration changed live (reload): new mode, bounds or fixed value; applied now. */
void	sup_auto_reconfigure(void);
/* Active slots for a child of index i now: its share of the host's concurrency. */
int	sup_auto_slots(int index);
/* Mode, current concurrency, bounds and the controller's last decision. */
void	sup_auto_status(struct ctl_status *);
void	sup_auto_stop(void);

/* sup_auto_rule.c: the controller's decision, a pure function of what it saw. */
struct sup_auto_in {
	int		ai_cur;		/* host concurrency now */
	int		ai_min, ai_max;	/* bounds (max already within every other limit) */
	int		ai_children;	/* the step is at least one slot per child */
	int		ai_busy;	/* slots running a job, all children */
	int64_t		ai_queue;	/* jobs waiting in the configured queues; -1 unknown */
	int64_t		ai_queue_prev;	/* the same at the last decision; -1 unknown */
	double		ai_cpu_host;	/* percent of the host's CPU capacity in use; < 0 unknown */
	double		ai_cpu_self;	/* of which fkworker (master and children) */
	int		ai_cpu_target;	/* percent */
	int		ai_mem_high;	/* a child is near worker.memory_limit */
};

struct sup_auto_out {
	int		ao_next;	/* the new host concurrency (== ai_cur: hold) */
	char		ao_why[192];	/* "+40 slots: queue 3,100 growing, 100% busy, CPU 61%" */
};

void	sup_auto_rule_decide(const struct sup_auto_in *, struct sup_auto_out *);

/* sup_beat.c */
int	sup_beat_init(char *err, size_t errlen);
/* The configuration changed (reload): reconnect with the new URL or password. */
void	sup_beat_reconfigure(void);
/* FAILs every job in c's in-flight table over the master's connection, then clears it. */
void	sup_beat_fail_inflight(struct sup_child *c, const char *errtype, const char *message);
/* Reports a quiet / terminate state change to Faktory now. */
void	sup_beat_now(void);
/* 1 when an INFO refresh is under way (status waits for it), else 0. */
int	sup_beat_refresh_info(void);
/* Nothing waits for the server's confirmation (FAILs); for the exit. */
int	sup_beat_idle(void);
void	sup_beat_close(void);
int	sup_beat_is_up(void);
const char *sup_beat_error(void);
/* sup_queues.c */
struct json_t;
/* An INFO answer (parsed) taken at now: queue sizes and set sizes; -1 if it has no queues. */
int	sup_queues_update(struct json_t *info, uint64_t now);
/* Every configured queue, then the server's others, with trends; the sets. */
void	sup_queues_fill(struct ctl_status *st, uint64_t now);
void	sup_queues_free(void);
/* Jobs in the configured queues at the last INFO answer; -1 before one. */
int64_t	sup_queues_configured(void);

/* sup_ctl.c */
int	sup_ctl_open(char *err, size_t errlen);
void	sup_ctl_close(void);
/* INFO answered (or failed): status requests waiting for it get their reply. */
void	sup_ctl_info_done(void);
/* The reload a client asked for ended: ok, or failed with why. */
void	sup_ctl_reload_done(int ok, const char *msg);

/* sup_stats.c */
void	sup_stats_init(void);
/* Reads a child's ring and scoreboard slot into its position record. */
void	sup_stats_drain(struct sup_child *);
/* A child is gone: adds its last counters to the host totals. */
void	sup_stats_fold(struct sup_child *);
/* A child starts in a position: forget the previous occupant's numbers. */
void	sup_stats_reset(struct sup_child *);
/*
 * Host totals now (folded children and every position's last record, per
 * jobtype merged); points to storage reused by the next call.
 */
const struct stats_counters *sup_stats_totals(uint64_t *dropped, uint64_t *last_done_ms);
/* Host totals and rates into st (status reply, sd_notify STATUS). */
void	sup_stats_host(struct ctl_status *st);
void	sup_stats_child(const struct sup_child *, struct ctl_child *);

/* sup_load.c: CPU (from /proc) and saturation, sampled by the master. */
void	sup_load_init(void);
void	sup_load_close(void);
void	sup_load_host(struct ctl_status *);
void	sup_load_child(const struct sup_child *, struct ctl_child *);
/*
 * CPU use since the previous call, in percent of the host's capacity (every
 * core): the host's (every process) and fkworker's (the master, the children
 * and the exec handlers they waited for); both -1 on the first call.
 */
void	sup_load_cpu_recent(double *host, double *self);

/* sup_busy.c */
/* The jobs running now, longest first, at most limit rows; NULL on ENOMEM. */
struct ctl_busy *sup_busy_build(uint32_t limit);

/* sup_count.c */
/* A child is gone: adds its exact counters to the host totals. */
void	sup_count_fold(const struct sup_child *);
/* The host's exact counts: the gone tally plus every live child's counters. */
void	sup_count_host(struct stats_tally *);
/* A live child's exact totals and the time of its last count (0s otherwise). */
void	sup_count_child(const struct sup_child *, uint64_t *processed, uint64_t *failed,
	    uint64_t *last_ms);
/* Jobs counted by every child of an index so far, dead ones included. */
uint64_t sup_count_index_done(int index);
/* A dead child's in-flight entry whose report the child counted: nothing to FAIL. */
int	sup_count_was_counted(const struct sup_child *, const struct stats_inflight *);
/* The master queued a FAIL (errtype) for the entry's job: -1 on ENOMEM. */
int	sup_count_note(const struct sup_child *, const struct stats_inflight *,
	    const char *errtype);
/* The FAIL line of the last note could not be queued after all. */
void	sup_count_note_drop(void);
enum sup_count_answer {
	SUP_COUNT_OK,		/* +OK */
	SUP_COUNT_NOT_FOUND,	/* -ERR Job not found */
	SUP_COUNT_REFUSED,	/* any other error */
};
/* The server answered the oldest FAIL line: count what it took. */
void	sup_count_answer(enum sup_count_answer);
void	sup_count_free(void);

/* sup_metrics.c: stats.listen, /metrics over libmicrohttpd in the master's loop */
/* Listens when stats.listen is set (else does nothing); -1 with err ("listen ...: Address already in use"). */
int	sup_metrics_open(char *err, size_t errlen);
void	sup_metrics_close(void);

/* sup_prom.c */
/* The Prometheus text exposition of the host into b; -1 on ENOMEM. */
int	sup_prom_render(struct buf *b, uint64_t scrapes);

/* sup_status.c */
/* Builds the status reply; free with ctl_status_free. NULL on ENOMEM. */
struct ctl_status *sup_status_build(void);
/* The one-line STATUS= text for systemd. */
void	sup_status_notify(void);

/* ==== fkworkerctl (ctl_client.c, ctl_render.c, ctl_perf.c) ==== */

#define CTL_EX_ERROR		1	/* the command failed */
#define CTL_EX_UNAVAILABLE	69	/* the master is not running */
#define CTL_EX_NOPERM		77	/* the control socket refuses this user */

/* A blocking connection to the master's control socket; fd or -1 with err and errno. */
int	ctl_client_connect(const char *path, char *err, size_t errlen);
/* What to tell a user the socket refuses (EACCES): the group to join, and the path. */
void	ctl_client_denied(const char *path, char *msg, size_t len);
/*
 * One request and its reply within timeout_ms. 0 with *rp filled (free
 * with ctl_reply_free; rp_ok may be 0), or -1 with err.
 */
int	ctl_client_call(int fd, const struct ctl_request *, struct ctl_reply *rp,
	    int timeout_ms, char *err, size_t errlen);
/*
 * One status call (queues: refresh the queue sizes first); 0 with *out to
 * free with ctl_status_free, or -1 with "fkworkerctl: WHO: status: why" on stderr.
 */
int	ctl_client_status(int fd, const char *who, int queues, int timeout_ms,
	    struct ctl_status **out);

/* The status reply as a human table, or as JSON (jansson) from the same struct. */
void	ctl_render_text(FILE *, const struct ctl_status *);
int	ctl_render_json(FILE *, const struct ctl_status *);
/* A JSON object of the fields of base (strings that are not UTF-8 become null). */
struct json_t *ctl_render_fields(const struct ctl_field *, const void *base);
/* The busy reply as a table or JSON (ctl_render_busy.c). */
void	ctl_render_busy_text(FILE *, const struct ctl_busy *);
int	ctl_render_busy_json(FILE *, const struct ctl_busy *);
/* 1.5 s, 3m07s, 2h05m, 3d04h */
void	ctl_render_duration(uint64_t ms, char *buf, size_t len);

/*
 * ctl_conf.c: control.socket of a configuration file into sock. 0: the file
 * names it (errs may still hold the file's other errors: warnings for
 * fkworkerctl); 1: the file could not be parsed or its control.socket is
 * unusable, sock is the default; -1: the file cannot be read (errs says why).
 */
int	ctl_conf_socket(const char *path, char *sock, size_t len, struct conf_errors *errs);

/* ctl_check.c: fkworkerctl check, monitoring-plugin grades (also its exit codes). */
enum ctl_check {
	CTL_CHECK_OK = 0,
	CTL_CHECK_WARNING = 1,
	CTL_CHECK_CRITICAL = 2,
	CTL_CHECK_UNKNOWN = 3,
};
/* Grades a status reply by fkworkerctl(8)'s thresholds; why gets the reasons and a summary. */
enum ctl_check	ctl_check_grade(const struct ctl_status *, char *why, size_t len);
/* The grade of a control socket that could not be reached (connect's errno). */
enum ctl_check	ctl_check_unreachable(int errnum);
/* One plugin line "FKWORKER WARNING - why | perfdata"; st NULL: no perfdata. */
void	ctl_check_print(FILE *, enum ctl_check, const char *why, const struct ctl_status *st);

struct ctl_perf_opts {
	long long	 po_jobs;	/* 0 with po_seconds: as many as fit */
	int		 po_batch;
	const char	*po_jobtype;
	const char	*po_queue;
	const char	*po_url;	/* NULL: the master's (from status) */
	const char	*po_conf;	/* password and TLS settings, or NULL */
	int		 po_timeout;	/* s; 0: derived from po_jobs or po_seconds */
	int		 po_window;	/* PUSHB batches in flight */
	const char	*po_args;	/* the jobs' args, a compact JSON array */
	int		 po_seconds;	/* duration mode: push for this long; 0: off */
};

/*
 * Pushes po_jobs jobs with PUSHB (or, with po_seconds, pushes for that long),
 * waits until the master's exact processed + failed counts grew by as many,
 * prints the host CPU use, per-child counts and last the line "P jobs in S s:
 * R jobs/s" (P: jobs processed). Returns an exit status: 0 when every job was
 * processed, 1 when jobs failed or the run timed out (with a line naming
 * what is missing), 69 when the master cannot be reached.
 */
int	ctl_perf_run(int ctlfd, const char *sockpath, const struct ctl_perf_opts *);

#endif
