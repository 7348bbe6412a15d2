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
 * It carries the commands of cn_nslots job slots (worker.slots_per_connection),
 * pipelined: the server answers one connection's lines strictly in order.
 */
enum wrk_cn_state {
	CN_DOWN,		/* not connected, not scheduled (before ramp-up, after exit) */
	CN_BACKOFF,		/* waiting to reconnect */
	CN_CONNECTING,		/* TCP / TLS / HI / HELLO */
	CN_READY,
};

/* A job slot: what it waits for (its connection's state aside). */
enum wrk_sl_state {
	SL_IDLE,		/* nothing running, nothing fetched */
	SL_FETCHING,		/* its FETCH is outstanding */
	SL_RUNNING,		/* a job is running; nothing to fetch until it ends */
};

/* What a connection's pending replies are, in order, and for which slot. */
enum wrk_expect {
	EXP_FETCH = 1,
	EXP_REPORT,
};

struct wrk_pending {
	struct wrk_slot		*pd_slot;
	uint64_t		 pd_sent;	/* ms the command was written */
	unsigned char		 pd_kind;	/* enum wrk_expect */
};

/* The ACK or FAIL of a finished job, kept until the server confirms it. */
enum wrk_report_state {
	RP_NONE,
	RP_QUEUED,		/* encoded, not yet written (connection down) */
	RP_SENT,		/* written, +OK pending */
};

struct wrk_conn {
	int			 cn_index;
	enum wrk_cn_state	 cn_state;
	struct fkc		 cn_fkc;
	struct ev_timer		 cn_timer;	/* reconnect backoff */
	struct wrk_slot		*cn_slots;	/* cn_nslots consecutive slots */
	int			 cn_nslots;
	struct wrk_pending	*cn_expect;	/* ring of replies to come, in order */
	int			 cn_head;
	int			 cn_nexpect;
	int			 cn_cap;
	int			 cn_nfetch;	/* FETCHes among them */
	/*
	 * The queues looked empty (a FETCH came back empty or only after
	 * waiting): each FETCH may then block ~2 s, one after the other, so
	 * only one is kept out.
	 */
	int			 cn_drained;
	uint64_t		 cn_wait_since;	/* ms: last reply, or first command after none */
	int			 cn_fails;	/* consecutive connection failures */
	int			 cn_was_ready;	/* handshake done at least once */
	int			 cn_dirty;	/* on the list of connections to flush */
	struct wrk_conn		*cn_next_dirty;
};

struct wrk_slot {
	int			 sl_index;
	enum wrk_sl_state	 sl_state;
	struct wrk_conn		*sl_conn;
	struct ev_timer		 sl_timer;	/* delayed refetch (unknown jobtype, refused FETCH) */
	int			 sl_nohandler;	/* consecutive unknown jobtypes */
	struct wrk_job		 sl_job;
	enum wrk_report_state	 sl_report_state;
	struct wrk_conn		*sl_report_via;	/* where the RP_SENT report went */
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
	struct wrk_conn		*we_conns;
	int			 we_nconns;
	struct wrk_conn		*we_report;	/* reports only; NULL with one slot per connection */
	struct wrk_conn		*we_dirty;	/* connections with commands to write */
	int			 we_nopened;	/* ramp-up progress, in connections */
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

/* wrk_conn.c */
/*
 * Sets up connection index carrying slots[0..n-1] (already initialised), with
 * room for cap replies outstanding. n = 0 makes the report connection.
 */
int	wrk_conn_init(struct wrk_conn *, int index, struct wrk_slot *slots, int n, int cap);
void	wrk_conn_open(struct wrk_conn *);
/*
 * Queues what the connection's slots have to say: unconfirmed reports, then
 * FETCHes for the slots that may fetch (window rule in wrk_conn.c); they are
 * written when the loop iteration ends (wrk_conn_flush_dirty).
 */
void	wrk_conn_pump(struct wrk_conn *);
/* Writes what this loop iteration queued: one write per connection (ev after-hook). */
void	wrk_conn_flush_dirty(struct ev_loop *, void *);
/* Drops the connection when a reply is overdue (the server hung). */
void	wrk_conn_check_overdue(struct wrk_conn *, uint64_t now, uint64_t limit_ms);
/* Closes the connection (END when connected) and stops its timer. */
void	wrk_conn_shutdown(struct wrk_conn *);
void	wrk_conn_free(struct wrk_conn *);

/* wrk_slot.c */
void	wrk_slot_init(struct wrk_slot *, int index);
/* The slot's job has a result: send the report (and the next FETCH). */
void	wrk_slot_job_done(struct wrk_slot *);
/* The fetched job could not even be reported (no jid): carry on fetching. */
void	wrk_slot_resume(struct wrk_slot *);
/* A reply to this slot's command (from its connection, in order). */
void	wrk_slot_on_fetch(struct wrk_slot *, const struct fkp_reply *);
void	wrk_slot_on_report(struct wrk_slot *, const struct fkp_reply *);
/* The connection that carried its FETCH (or its report, to send again) is gone. */
void	wrk_slot_conn_lost(struct wrk_slot *, int was_fetch);
/* May this slot be given a FETCH now (conn rules aside)? */
int	wrk_slot_wants_fetch(const struct wrk_slot *);
/* Stop fetching: nothing new is asked for; outstanding FETCHes are still read. */
void	wrk_slot_quiet(struct wrk_slot *);
/* Nothing running, nothing to report, and (count_fetch) no FETCH outstanding. */
int	wrk_slot_is_idle(const struct wrk_slot *, int count_fetch);
void	wrk_slot_free(struct wrk_slot *);

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
/* A connection finished its first handshake: its n slots count as started. */
void	wrk_main_conn_ready(int n);
/* The connection hit a fatal error (bad credentials): exit 78 after cleanup. */
void	wrk_main_fatal(const char *why);
int	wrk_main_may_fetch(void);
/*
 * A slot lost its connection. Thousands of slots losing theirs at once (a
 * server restart) make one log line a second, not one each.
 */
void	wrk_main_note_disconnect(const char *why);

#endif
