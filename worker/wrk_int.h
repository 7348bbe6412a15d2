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

/*
 * A connection, an explicit state machine (DESIGN.md "The child's loop"):
 *   DOWN -> CONNECTING -> READY;  any error -> BACKOFF -> CONNECTING
 * The server answers a connection's lines one at a time, in order; a FIFO
 * says whose reply comes next. At most one FETCH is outstanding on it (a
 * FETCH on empty queues holds the line ~2 s), and reports (ACK/FAIL) are
 * written only where no FETCH waits (wrk_pool picks the connection).
 */
enum wrk_cn_state {
	CN_DOWN,		/* not connected, not scheduled (before ramp-up, after exit) */
	CN_BACKOFF,		/* waiting to reconnect */
	CN_CONNECTING,		/* TCP / TLS / HI / HELLO */
	CN_READY,
};

/* A job slot: what it waits for. */
enum wrk_sl_state {
	SL_IDLE,		/* nothing running, no FETCH out for it */
	SL_FETCHING,		/* a FETCH was sent on its behalf */
	SL_RUNNING,		/* a job is running */
};

/* What a connection's pending replies are, in order, and for which slot. */
enum wrk_expect {
	EXP_FETCH = 1,
	EXP_REPORT,
};

struct wrk_pending {
	struct wrk_slot		*pd_slot;
	uint64_t		 pd_sent_us;	/* when the command was written */
	unsigned char		 pd_kind;	/* enum wrk_expect */
};

/* The ACK or FAIL of a finished job, kept until the server confirms it. */
enum wrk_report_state {
	RP_NONE,
	RP_QUEUED,		/* encoded, waiting for a connection */
	RP_SENT,		/* written, +OK pending */
};

struct wrk_conn {
	int			 cn_index;
	enum wrk_cn_state	 cn_state;
	struct fkc		 cn_fkc;
	struct ev_timer		 cn_timer;	/* reconnect backoff */
	struct wrk_pending	*cn_expect;	/* ring of replies to come, in order */
	int			 cn_head;
	int			 cn_nexpect;
	int			 cn_cap;
	int			 cn_nfetch;	/* FETCHes among them: 0 or 1 */
	uint64_t		 cn_wait_since;	/* ms: last reply, or first command after none */
	int			 cn_fails;	/* consecutive failures: attempts never held */
	int			 cn_held;	/* READY and past its probation (wrk_conn.c) */
	int			 cn_was_held;	/* held at least once */
	int			 cn_dirty;	/* on the list of connections to flush */
	struct wrk_conn		*cn_next_dirty;
};

struct wrk_slot {
	int			 sl_index;
	enum wrk_sl_state	 sl_state;
	struct ev_timer		 sl_timer;	/* delayed refetch (unknown jobtype, refused FETCH) */
	int			 sl_nohandler;	/* consecutive unknown jobtypes */
	struct wrk_job		 sl_job;
	enum wrk_report_state	 sl_report_state;
	struct wrk_conn		*sl_report_via;	/* where the RP_SENT report went */
	int			 sl_report_ok;	/* ACK (1) or FAIL (0) */
	int			 sl_jt;		/* per-jobtype stats index of the job */
	int			 sl_cnt_jt;	/* exact counters: jobtype index (wrk_count.c) */
	int			 sl_cnt_fe;	/* exact counters: failure pair index, -1 for an ACK */
	uint64_t		 sl_report_us;	/* job run time */
	struct buf		 sl_report;	/* the encoded ACK / FAIL line */
	struct buf		 sl_raw;	/* the running job's JSON text (jb_raw) */
	int			 sl_listed;	/* on the free list or the report queue */
	struct wrk_slot		*sl_next;	/* on that list */
};

/* The child's connections (wrk_pool.c). */
struct wrk_pool {
	struct wrk_conn		*po_conns;
	int			 po_n;
	int			 po_nopened;	/* ramp-up progress */
	int			 po_nready;	/* in CN_READY now */
	int			 po_nheld;	/* of those, held (past probation) */
	int			 po_nheld_once;	/* connections held at least once */
	uint64_t		 po_resolve_next; /* ms: no lookup of the server's name before */
	int			 po_have_addr;	/* a lookup worked once: the address to fall back on */
	char			 po_resolve_err[256]; /* the last lookup's error, "" if it worked */
	int			 po_nwords;
	uint64_t		*po_idle;	/* READY, nothing outstanding */
	uint64_t		*po_nofetch;	/* READY, no FETCH outstanding */
	int			 po_cursor;	/* connection where the next search starts */
};

/*
 * The FETCH window (wrk_fetch.c): FETCHes out now, the target, and what the
 * round trips look like. Times in microseconds.
 */
struct wrk_window {
	int			 fw_target;
	int			 fw_out;
	uint64_t		 fw_rtt_min[2];	/* windowed minimum: this epoch, the last */
	uint64_t		 fw_epoch_us;
	uint64_t		 fw_srtt;	/* smoothed round trip of FETCHes that brought a job */
};

struct wrk_env {
	const struct fkw_conf	*we_conf;
	const struct wrk_ctx	*we_ctx;
	struct ev_loop		*we_loop;
	enum wrk_state		 we_state;
	struct fkc_params	 we_params;
	struct wrk_slot		*we_slots;
	int			 we_nslots;	/* storage: slots allocated at start */
	int			 we_cap;	/* active: slots at and above it are retired */
	struct wrk_slot		*we_free;	/* slots that may FETCH now (a stack) */
	int			 we_nfree;
	struct wrk_slot		*we_reports;	/* slots with a report to write, oldest first */
	struct wrk_slot		*we_reports_tail;
	int			 we_nreports;
	struct wrk_pool		 we_pool;
	struct wrk_window	 we_win;
	struct wrk_conn		*we_dirty;	/* connections with commands to write */
	int			 we_nbusy;
	const char		**we_queue_names;
	struct buf		 we_fetch_line;	/* strict order: encoded once */
	struct stats_counters	 we_stats;
	int			 we_stats_lean;	/* the last record left out per-jobtype histograms */
	uint64_t		 we_jobs_done;
	int			 we_recycle;	/* limits reached */
	int			 we_exit_code;
	char			 we_fatal[256];
};

extern struct wrk_env *wrk_env;

/* wrk_conn.c */
/* Sets up connection index (closed). -1 on ENOMEM. */
int	wrk_conn_init(struct wrk_conn *, int index);
void	wrk_conn_open(struct wrk_conn *);
/* Appends the slot's report (ACK/FAIL) or a FETCH on its behalf; written at the iteration's end. */
int	wrk_conn_send_report(struct wrk_conn *, struct wrk_slot *);
int	wrk_conn_send_fetch(struct wrk_conn *, struct wrk_slot *);
/* Writes what this loop iteration queued: one write per connection. */
void	wrk_conn_flush_dirty(void);
/* Drops the connection when a reply is overdue (the server hung). */
void	wrk_conn_check_overdue(struct wrk_conn *, uint64_t now, uint64_t limit_ms);
/* Closes the connection (END when connected) and stops its timer. */
void	wrk_conn_shutdown(struct wrk_conn *);
void	wrk_conn_free(struct wrk_conn *);

/* wrk_pool.c */
/* n connections, all closed. -1 on ENOMEM. */
int	wrk_pool_init(struct wrk_pool *, int n);
/* Opens the next batch of connections (gradual start); 1 while more remain. */
int	wrk_pool_ramp(struct wrk_pool *, int batch);
/* The connection's state or its outstanding commands changed. */
void	wrk_pool_update(struct wrk_pool *, struct wrk_conn *);
/*
 * A READY connection with no FETCH outstanding, one with nothing outstanding
 * first; with idle_only, only those (no pipelining). NULL if none.
 */
struct wrk_conn *wrk_pool_pick(struct wrk_pool *, int idle_only);
void	wrk_pool_check_overdue(struct wrk_pool *, uint64_t now, uint64_t limit_ms);
/*
 * Resolves the server's name into the connections' address again, at most
 * once a second (connections reopening together share the answer), so a
 * reconnect follows a DNS change. A failed lookup keeps the last address
 * found. 0, or -1 with err set when no lookup has worked yet.
 */
int	wrk_pool_resolve(struct wrk_pool *, uint64_t now, char *err, size_t errlen);
void	wrk_pool_free(struct wrk_pool *);

/* wrk_fetch.c */
void	wrk_fetch_init(struct wrk_window *);
/* Writes queued reports, then the FETCHes the window wants; the loop's after-hook. */
void	wrk_fetch_pump(struct ev_loop *, void *);
/* A FETCH was answered (job or not) after rtt_us, or its connection was lost. */
void	wrk_fetch_answered(struct wrk_window *, int got_job, uint64_t rtt_us);
void	wrk_fetch_lost(struct wrk_window *);
/* A report was confirmed after rtt_us: a round trip that never waits for a job. */
void	wrk_fetch_report_rtt(struct wrk_window *, uint64_t rtt_us);
/* The FETCHes the child keeps out now: the target, within what slots and connections carry. */
int	wrk_fetch_window(const struct wrk_window *);

/* wrk_slot.c */
void	wrk_slot_init(struct wrk_slot *, int index);
/* The slot's job has a result: its report is queued. */
void	wrk_slot_job_done(struct wrk_slot *);
/* The fetched job could not even be reported (no jid): the slot is free again. */
void	wrk_slot_resume(struct wrk_slot *);
/* A reply to this slot's command (from its connection, in order). */
void	wrk_slot_on_fetch(struct wrk_slot *, const struct fkp_reply *);
void	wrk_slot_on_report(struct wrk_slot *, const struct fkp_reply *);
/* The connection that carried its FETCH (or its report, to send again) is gone. */
void	wrk_slot_conn_lost(struct wrk_slot *, int was_fetch);
/* Takes a slot that may FETCH now, or NULL. */
struct wrk_slot *wrk_slot_take_free(void);
/* Takes the oldest slot whose report waits for a connection, or NULL. */
struct wrk_slot *wrk_slot_take_report(void);
/* Puts a report taken but not written back at the head of the queue. */
void	wrk_slot_requeue_report(struct wrk_slot *);
/*
 * Sets the active slots to cap (1..we_nslots): a raise lists the new slots
 * for FETCH at once; a lowering takes retired slots off the free list, and
 * those still busy finish their job and report it, then stay idle.
 */
void	wrk_slot_set_cap(int cap);
/* Slots at or above the cap that still run or report a job. */
int	wrk_slot_retiring(void);
/* Stop fetching: delayed refetches are cancelled. */
void	wrk_slot_quiet(struct wrk_slot *);
/* Nothing running, nothing to report, and (count_fetch) no FETCH outstanding. */
int	wrk_slot_is_idle(const struct wrk_slot *, int count_fetch);
void	wrk_slot_free(struct wrk_slot *);

/* wrk_job.c */
/* Takes a FETCHed job's JSON; starts it, or FAILs it at once (bad job, no handler, draining). */
void	wrk_job_start(struct wrk_slot *, const char *json, size_t len);
/*
 * A FETCHed job above the reply limit, of which only its first bytes were
 * read: FAILed JobTooLarge by the jid they hold (else left to its reservation).
 */
void	wrk_job_too_large(struct wrk_slot *, const char *head, size_t len, size_t total);
/* Ends a running job now (timeout, shutdown): cancel the handler, FAIL with errtype. */
void	wrk_job_abort(struct wrk_job *, const char *errtype, const char *message);
/* Releases what a finished job holds (after its report is encoded). */
void	wrk_job_clear(struct wrk_job *);

/* wrk_lowat.c: a +OK and the job behind it wake the loop once (SO_RCVLOWAT). */
void	wrk_lowat_init(void);
/* After the connection was written to, or read from while its mark was up. */
void	wrk_lowat_update(struct wrk_conn *);

/* wrk_coalesce.c: naps (worker.coalesce_us) only while jobs wait long in the server's queue. */
void	wrk_coalesce_init(void);
/* A job starts after waiting wait_us in the queue (-1: not known). */
void	wrk_coalesce_pickup(int64_t wait_us);
/* The most a nap adds to a reply's arrival now: coalesce_us while engaged, else 0. */
uint64_t wrk_coalesce_bound(void);

/* wrk_stats.c */
void	wrk_stats_init(void);
void	wrk_stats_job_started(struct wrk_slot *);
void	wrk_stats_report_confirmed(struct wrk_slot *);
void	wrk_stats_state(enum stats_state);
void	wrk_stats_publish(void);

/* wrk_count.c */
/* A job starts running in the slot: its in-flight entry says so. */
void	wrk_count_started(struct wrk_slot *, const char *jobtype, const char *queue,
	    const char *jid, size_t jidlen);
/* Its report is encoded: an ACK (errtype NULL) or a FAIL of errtype. */
void	wrk_count_report(struct wrk_slot *, const char *jobtype, const char *jid,
	    size_t jidlen, const char *errtype);
/* The server answered the report: count it, free the in-flight entry. */
void	wrk_count_confirmed(struct wrk_slot *);
/*
 * The server refused the report with an error other than "Job not found"
 * (which means an earlier copy got there): it took nothing, count nothing.
 */
void	wrk_count_refused(struct wrk_slot *);

/* wrk_main.c */
/* A slot's state changed in a way the lifecycle cares about (drain progress). */
void	wrk_main_slot_changed(void);
/* A connection is held for the first time (handshake done, not refused). */
void	wrk_main_conn_ready(void);
/* The connection hit a fatal error (bad credentials): exit 78 after cleanup. */
void	wrk_main_fatal(const char *why);
int	wrk_main_may_fetch(void);

/* wrk_outage.c: what the child says about its connections, at most a line a second. */
/* A held connection was lost; an attempt (resolve, connect, handshake) failed. */
void	wrk_outage_lost(const char *why, uint64_t now);
void	wrk_outage_failed(const char *why, uint64_t now);
/* A connection is held again: with every one held, an outage logged ends. */
void	wrk_outage_held(int nheld, int n, uint64_t now);
/* Logs what waited for the once-a-second limit (the stats timer calls it). */
void	wrk_outage_tick(uint64_t now);

/* wrk_failog.c: a failed job as a warning, one line a second at most. */
void	wrk_failog_note(const char *jid, const char *jobtype, const char *errtype,
	    const char *message);
/* From the stats timer: reports failures held back for a second or more. */
void	wrk_failog_tick(void);

#endif
