/* SPDX-License-Identifier: MIT */
/* wrk_int: the child's internal state shared by the worker/ files (env, slots, stats). */
#ifndef FKW_WRK_INT_H
#define FKW_WRK_INT_H

#include <stdint.h>

#include "fkc.h"
#include "stats.h"
#include "wrk.h"
#include "wrk_job.h"

/*
 * The child's lifecycle. Transitions only forward:
 *   STARTING -> RUNNING -> QUIET -> DRAINING -> STOPPING -> (exit)
 * QUIET may be skipped; STOPPING is the fast path (fail what runs now).
 */
enum wrk_state {
	WRK_ST_STARTING,	/* slots connecting for the first time */
	WRK_ST_RUNNING,
	WRK_ST_QUIET,		/* no new FETCH; finish jobs in hand */
	WRK_ST_DRAINING,	/* quiet + deadline, then FAIL leftovers and exit */
	WRK_ST_STOPPING,	/* leftovers FAILed; waiting for the reports, then exit */
};

/* A slot's connection, an explicit state machine (DESIGN.md "The child's loop"). */
enum wrk_sl_state {
	SL_DOWN,		/* not connected, not scheduled (before ramp-up, after exit) */
	SL_BACKOFF,		/* waiting to reconnect */
	SL_CONNECTING,		/* TCP / TLS / HI / HELLO */
	SL_FETCHING,		/* a FETCH is outstanding */
	SL_RUNNING,		/* a job is running; nothing to fetch until it ends */
	SL_IDLE,		/* connected, not fetching (quiet, or waiting to refetch) */
};

/* What the slot's pending replies are, in order. */
enum wrk_expect {
	EXP_FETCH = 1,
	EXP_REPORT,
};

/* The ACK or FAIL of a finished job, kept until the server confirms it. */
enum wrk_report_state {
	RP_NONE,
	RP_QUEUED,		/* encoded, not yet written (connection down) */
	RP_SENT,		/* written, +OK pending */
};

#define WRK_EXPECT_MAX 4

struct wrk_slot {
	int			 sl_index;
	enum wrk_sl_state	 sl_state;
	struct fkc		 sl_conn;
	struct ev_timer		 sl_timer;	/* backoff and delayed refetch */
	unsigned char		 sl_expect[WRK_EXPECT_MAX];	/* FIFO of enum wrk_expect */
	int			 sl_nexpect;
	uint64_t		 sl_wait_since;	/* ms: oldest outstanding reply was asked for */
	int			 sl_fails;	/* consecutive connection failures */
	int			 sl_nohandler;	/* consecutive unknown jobtypes */
	int			 sl_was_ready;	/* handshake done at least once */
	struct wrk_job		 sl_job;
	enum wrk_report_state	 sl_report_state;
	int			 sl_report_ok;	/* ACK (1) or FAIL (0) */
	int			 sl_jt;		/* per-jobtype stats index of the job */
	uint64_t		 sl_report_us;	/* job run time */
	struct buf		 sl_report;	/* the encoded ACK / FAIL line */
	struct buf		 sl_raw;	/* the running job's JSON text (jb_raw) */
};

struct wrk_env {
	const struct fkw_conf	*we_conf;
	const struct wrk_ctx	*we_ctx;
	struct ev_loop		*we_loop;
	enum wrk_state		 we_state;
	struct fkc_params	 we_params;
	struct wrk_slot		*we_slots;
	int			 we_nslots;
	int			 we_nopened;	/* ramp-up progress */
	int			 we_nready_once;
	int			 we_nconnected;
	int			 we_nbusy;
	const char		**we_queue_names;
	struct buf		 we_fetch_line;	/* strict order: encoded once */
	struct stats_counters	 we_stats;
	uint64_t		 we_jobs_done;
	int			 we_recycle;	/* limits reached */
	int			 we_exit_code;
	char			 we_fatal[256];
};

extern struct wrk_env *wrk_env;

/* wrk_slot.c */
void	wrk_slot_init(struct wrk_slot *, int index);
void	wrk_slot_open(struct wrk_slot *);
/* The slot's job has a result: send the report (and the next FETCH). */
void	wrk_slot_job_done(struct wrk_slot *);
/* The fetched job could not even be reported (no jid): carry on fetching. */
void	wrk_slot_resume(struct wrk_slot *);
/* Stop fetching: nothing new is asked for; outstanding FETCHes are still read. */
void	wrk_slot_quiet(struct wrk_slot *);
/* Nothing running, nothing to report, no reply outstanding. */
int	wrk_slot_is_idle(const struct wrk_slot *);
/* Closes the connection (END when connected) and stops its timers. */
void	wrk_slot_shutdown(struct wrk_slot *);
void	wrk_slot_free(struct wrk_slot *);
/* Drops the connection when a reply is overdue (the server hung). */
void	wrk_slot_check_overdue(struct wrk_slot *, uint64_t now, uint64_t limit_ms);

/* wrk_job.c */
/* Takes a FETCHed job's JSON; starts it, or FAILs it at once (bad job, no handler, draining). */
void	wrk_job_start(struct wrk_slot *, const char *json, size_t len);
/* Ends a running job now (timeout, shutdown): cancel the handler, FAIL with errtype. */
void	wrk_job_abort(struct wrk_job *, const char *errtype, const char *message);
/* Releases what a finished job holds (after its report is encoded). */
void	wrk_job_clear(struct wrk_job *);

/* wrk_stats.c */
void	wrk_stats_init(void);
void	wrk_stats_job_started(struct wrk_slot *);
void	wrk_stats_report_confirmed(struct wrk_slot *);
void	wrk_stats_state(enum stats_state);
void	wrk_stats_publish(void);

/* wrk_main.c */
/* A slot's state changed in a way the lifecycle cares about (drain progress). */
void	wrk_main_slot_changed(void);
void	wrk_main_slot_ready(struct wrk_slot *);
/* The connection hit a fatal error (bad credentials): exit 78 after cleanup. */
void	wrk_main_fatal(const char *why);
int	wrk_main_may_fetch(void);
/*
 * A slot lost its connection. Thousands of slots losing theirs at once (a
 * server restart) make one log line a second, not one each.
 */
void	wrk_main_note_disconnect(const char *why);

#endif
