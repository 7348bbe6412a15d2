/* SPDX-License-Identifier: MIT */
/*
 * fkbroker internals: an in-memory server for the Faktory worker protocol,
 * used by tests and benchmarks only (see README.md in this directory).
 * One process, one epoll loop; every structure here is owned by the single
 * struct brk and touched only from the loop.
 */
#ifndef FKB_BRK_H
#define FKB_BRK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "heap.h"
#include "util.h"

#define BRK_VERSION		"1.9.4"	/* what INFO reports: the captured server */
#define BRK_DEFAULT_RETRY	25
#define BRK_DEFAULT_RESERVE	1800
#define BRK_MAX_LINE		(128u << 20)	/* a command line longer than this closes */
#define BRK_OUT_HIGH		(8u << 20)	/* stop reading commands above this much output */
#define BRK_REAP_EVERY_MS	15000	/* the real server's reaper period */

struct brk;
struct bconn;
struct bjob;

/* ---- brk_map.c: open addressing, keys owned by the stored values ---- */

struct bmap_slot {
	const char	*s_key;		/* NULL: empty slot */
	uint32_t	 s_klen;
	uint32_t	 s_hash;
	void		*s_val;
};

struct bmap {
	struct bmap_slot *m_slots;
	size_t		  m_cap;	/* a power of two, or 0 */
	size_t		  m_len;
};

void	 bmap_init(struct bmap *);
void	 bmap_free(struct bmap *);
void	*bmap_get(const struct bmap *, const char *key, size_t klen);
/* Inserts or replaces; key must stay valid while the entry exists. -1 on ENOMEM. */
int	 bmap_put(struct bmap *, const char *key, size_t klen, void *val);
/* Removes and returns the value, or NULL. */
void	*bmap_del(struct bmap *, const char *key, size_t klen);
/*
 * The value under key, or with create a new one: size zeroed bytes whose
 * flexible array member at key_off receives the key (NUL-terminated), and
 * is stored under that copy; *created says which. NULL when absent and not
 * create, or on ENOMEM.
 */
void	*bmap_intern(struct bmap *, const char *key, size_t klen, size_t size,
	    size_t key_off, int create, int *created);
void	 bmap_clear(struct bmap *);

/* ---- brk_gojson.c: JSON exactly as Go's encoding/json writes and rejects it ---- */

/*
 * Parses text with jansson (numbers as doubles, as Go's interface{} does).
 * On a syntax error err gets Go's message ("unexpected end of JSON input",
 * "invalid character 'o' looking for beginning of object key string").
 */
json_t	*gojson_load(const char *s, size_t n, char *err, size_t errlen);
/* Appends a Go-escaped JSON string (<>& and U+2028/9 as \uXXXX). */
int	 gojson_str(struct buf *, const char *s, size_t n);
/* Appends a number formatted like Go's float64 encoder. */
int	 gojson_num(struct buf *, double);
/* v in decimal, without a NUL; out has room for 20 bytes. Returns the length. */
size_t	 gojson_fmt_int(char *out, long long v);
/* Appends any value; object keys sorted bytewise as Go sorts map keys. */
int	 gojson_value(struct buf *, const json_t *);
/* Go's %q of a string (strconv.Quote): used where error texts quote values. */
int	 gojson_quote(struct buf *, const char *s, size_t n);
/* "number", "string", "object", "array", "bool", "null": Go's names in type errors. */
const char *gojson_kind(const json_t *);

/* ---- brk_godec.c: decoding into Go-like structs, with Go's type errors ---- */

enum godec_type {
	GD_STRING,	/* string; null leaves it unset */
	GD_INT,		/* int; fractional or out-of-range numbers are errors */
	GD_UINT8,
	GD_INTPTR,	/* *int: null means nil */
	GD_STRLIST,	/* []string */
	GD_ANYLIST,	/* []interface{}: null means nil */
	GD_MAP,		/* map[string]interface{} */
	GD_STRUCT,	/* *struct: null means nil */
	GD_TIME,	/* time.Time: a string in RFC 3339 */
};

struct godec_val {
	int		 v_set;		/* present and not null */
	const char	*v_str;		/* GD_STRING: points into the json_t */
	size_t		 v_len;
	long long	 v_int;
	json_t		*v_json;	/* lists, maps, structs (borrowed) */
};

struct godec_field {
	const char		*f_name;
	enum godec_type		 f_type;
	const char		*f_gotype;	/* for messages: "int", "[]interface {}" */
	const struct godec_struct *f_sub;	/* GD_STRUCT */
};

struct godec_struct {
	const char			*s_name;	/* "Job" */
	const struct godec_field	*s_fields;
	size_t				 s_nfields;
};

/*
 * Fills vals[i] for s->s_fields[i] from the object o (keys matched as Go
 * does: exact, else ASCII case-insensitive; a later key wins). Returns 0, or
 * -1 with err holding Go's first type error. path is the field path so far
 * (NULL at the top).
 */
int	 godec_struct(const json_t *o, const struct godec_struct *s,
	    struct godec_val *vals, const char *path, char *err, size_t errlen);

/* ---- brk_time.c: the broker's clock (XTIME moves it) and RFC 3339 ---- */

/* Monotonic ms plus everything XTIME added. */
uint64_t brk_vnow(const struct brk *);
/* Wall clock in ns since the epoch, plus the XTIME offset. */
int64_t	 brk_wall_ns(const struct brk *);
/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed. */
size_t	 brk_rfc3339(int64_t ns, char *out, size_t outlen);
/* The same through gmtime_r and strftime: any time, slower (the reference). */
size_t	 brk_rfc3339_libc(int64_t ns, char *out, size_t outlen);
/* Go's time.Parse(RFC3339Nano, s): 0 with ns set, or -1 with Go's error text. */
int	 brk_rfc3339_parse(const char *s, size_t n, int64_t *ns, char *err, size_t errlen);

/* ---- brk_job.c: jobs as the server stores them ---- */

enum bjob_where {
	JW_NONE = 0,
	JW_QUEUE,
	JW_WORKING,
	JW_RETRY,
	JW_SCHEDULED,
	JW_DEAD,
};

struct bfailure {
	long long	 f_retry_count;
	long long	 f_remaining;
	char		*f_failed_at;	/* encoded JSON strings, or NULL (omitted) */
	char		*f_next_at;
	char		*f_message;
	char		*f_errtype;
	char		*f_backtrace;	/* encoded array, NULL when empty */
	char		*f_enc;		/* the whole object, rebuilt on change */
};

struct bjob {
	struct bjob	*j_prev;	/* in a queue or in the dead list */
	struct bjob	*j_next;
	enum bjob_where	 j_where;
	struct heap_node j_due;		/* hn_key, virtual ms: reservation end, retry, schedule */
	struct bqueue	*j_queue;	/* while queued */
	struct baudit	*j_audit;
	long long	 j_retry;
	long long	 j_reserve_for;
	long long	 j_backtrace;
	const char	*j_jid;		/* raw; hash key */
	size_t		 j_jidlen;
	const char	*j_qname;	/* raw */
	size_t		 j_qnamelen;
	/* Encoded JSON (with quotes) so that the wire form is a few copies. */
	const char	*j_jid_enc;
	const char	*j_qname_enc;
	const char	*j_jobtype_enc;
	const char	*j_created_enc;
	const char	*j_at_enc;	/* NULL: omitted */
	const char	*j_args_enc;
	const char	*j_custom_enc;	/* NULL: omitted */
	char		 j_enqueued_at[40];	/* raw; "" until first enqueued */
	int64_t		 j_enq_ns;	/* the same as a wall clock time, or 0 */
	struct bfailure	*j_failure;
	char		*j_wire;	/* "$N\r\n{...}\r\n" for FETCH */
	size_t		 j_wirelen;
	int		 j_raw;		/* XINJECT: j_wire is the bytes given, never rebuilt */
	/* While reserved by a FETCH: which delivery made it (brk_resv.c). */
	struct bconn	*j_rconn;	/* the connection that got it, until that one closes */
	struct bjob	*j_rprev;	/* in j_rconn's c_resv list */
	struct bjob	*j_rnext;
	uint64_t	 j_rstart;	/* its FETCH reply, in j_rconn's c_out_total space */
	uint64_t	 j_rend;
	int		 j_rorphan;	/* the FETCH ran after its client had closed */
	int		 j_stranded;	/* reserved for a connection that is gone */
	char		 j_block[];	/* the strings above */
};

/* The job due first on one of the broker's heaps (common/heap.h), or NULL. */
static inline struct bjob *
bjob_first(const struct heap *h)
{
	struct heap_node *n = heap_top(h);

	return n != NULL ? heap_entry(n, struct bjob, j_due) : NULL;
}

struct bjob_in {
	int64_t		 ji_at_ns;	/* parsed "at", or 0 */
	int		 ji_has_at;	/* "at" is in the future: schedule */
	const char	*ji_jid;	/* the decoded jid (into the json_t), or "" */
	size_t		 ji_jidlen;
};

/* A job object unmarshalled into client.Job: strings point into the json_t. */
#define BJOB_NFIELDS	12
struct bjob_dec {
	struct godec_val d_v[BJOB_NFIELDS];
};

/*
 * Validates one decoded job object as manager.Push does and builds a job.
 * created_at: the server time to use when the job has none. Returns the job,
 * or NULL with err set to the reply text (without "-ERR ").
 */
struct bjob *bjob_from_json(struct brk *, const json_t *o, const char *created_at,
	    struct bjob_in *in, char *err, size_t errlen);
/* Unmarshal into client.Job: 0, or -1 with Go's type error (PUSHB does all first). */
int	 bjob_decode(const json_t *o, struct bjob_dec *, char *err, size_t errlen);
/* bjob_from_json on a job bjob_decode accepted (fields may be rewritten). */
struct bjob *bjob_from_dec(struct brk *, struct bjob_dec *, const char *created_at,
	    struct bjob_in *in, char *err, size_t errlen);
/* (Re)builds j_wire from the fields. -1 on ENOMEM. */
int	 bjob_encode(struct bjob *);
/* Sets enqueued_at to now and rebuilds the wire form. */
int	 bjob_stamp(struct brk *, struct bjob *);
/*
 * Records a failure (FAIL or an expired reservation) in the job's failure
 * block as processFailure does. backtrace: encoded array or NULL.
 */
int	 bjob_fail(struct brk *, struct bjob *, const char *errtype, size_t etlen,
	    const char *message, size_t mlen, const char *backtrace);
/* Sets failure.next_at (the job goes to the retry set). */
int	 bjob_next_at(struct bjob *, int64_t ns);
void	 bjob_free(struct bjob *);
/* [A-Za-z0-9._-]+ and the server's error text for anything else. */
int	 brk_queue_name_ok(const char *, size_t);
void	 brk_queue_name_err(const char *, size_t, char *err, size_t errlen);

/* ---- brk_store.c: queues, reservations, retries, schedule, dead set ---- */

struct bwait {
	struct bwait	*w_prev;
	struct bwait	*w_next;
	struct bconn	*w_conn;
	struct bqueue	*w_queue;
};

struct bqueue {
	struct bjob	*q_head;
	struct bjob	*q_tail;
	size_t		 q_len;
	int		 q_known;	/* pushed to at least once: listed by INFO */
	int		 q_paused;
	struct bwait	*q_whead;	/* blocked FETCHes, oldest first */
	struct bwait	*q_wtail;
	size_t		 q_namelen;
	char		 q_name[];
};

struct bqueue *store_queue(struct brk *, const char *name, size_t n, int create);
/* Forgets a queue with no jobs and no waiters that nobody pushed to. */
void	 store_queue_gc(struct brk *, struct bqueue *);
/* Takes a new job: into its queue now, or the scheduled set. -1: ENOMEM (job freed). */
int	 store_push(struct brk *, struct bjob *, const struct bjob_in *);
/* Appends to the job's queue without restamping (MUTATE requeue). */
int	 store_enqueue(struct brk *, struct bjob *, int stamp);
/* Pops the oldest job of the first non-empty, unpaused queue, or NULL. */
struct bjob *store_pop(struct brk *, struct bqueue *const *qs, size_t n);
/* Reserves a popped job for reserve_for seconds (60..86400). */
int	 store_reserve(struct brk *, struct bjob *);
/* ACK: 1 if a reservation was cleared, 0 if none existed. */
int	 store_ack(struct brk *, const char *jid, size_t n);
/* FAIL: 0, or -1 if the jid is not reserved ("Job not found"). */
int	 store_fail(struct brk *, const char *jid, size_t n, const char *errtype,
	    size_t etlen, const char *message, size_t mlen, const char *backtrace);
/* Removes a job from wherever it is (not from a queue's waiters). */
void	 store_unlink(struct brk *, struct bjob *);
/* An unlinked job goes to the dead set / away for good (MUTATE). */
void	 store_bury(struct brk *, struct bjob *);
void	 store_discard(struct brk *, struct bjob *);
/* Runs due expiries, retries, scheduled jobs and the reaper; rearms the timer. */
void	 store_run_due(struct brk *);
void	 store_arm(struct brk *);
/* FLUSH: every job in every set goes away; queue names stay known. */
void	 store_flush(struct brk *);
void	 store_free(struct brk *);

/* ---- brk_mutate.c: MUTATE and QUEUE ---- */

void	 cmd_mutate(struct bconn *, const char *line, size_t n);
void	 cmd_queue(struct bconn *, const char *line, size_t n);

/* ---- brk_audit.c: what happened to every jid, for the tests' X verbs ---- */

enum baudit_state {
	AS_UNKNOWN = 0,
	AS_QUEUED,
	AS_SCHEDULED,
	AS_WORKING,
	AS_RETRY,
	AS_DEAD,
	AS_DONE,
	AS_FLUSHED,
};

/* Why a delivery was lost on the wire (brk_resv.c), first match wins. */
enum blost {
	BL_GARBLED = 0,	/* garbage was written on the connection at or before its reply */
	BL_ORPHANED,	/* the FETCH ran after the client had closed */
	BL_CUT,		/* the reply never fully reached the client's TCP stack */
	BL_UNREAD,	/* it did, and the client closed first */
	BL_N,
};

struct baudit {
	struct baudit	*a_prev;	/* the pending list (pushed, not done) */
	struct baudit	*a_next;
	struct baudit	*a_mnext;	/* the acked-more-than-once list */
	unsigned	 a_pushed;
	unsigned	 a_delivered;
	unsigned	 a_acked;
	unsigned	 a_failed;
	unsigned	 a_expired;
	unsigned	 a_ack_noop;
	unsigned	 a_lost[BL_N];	/* deliveries lost on the wire, by cause */
	unsigned	 a_live;	/* jobs with this jid in any set */
	unsigned	 a_dead;	/* of those, in the dead set */
	enum baudit_state a_state;
	int		 a_done;
	int		 a_pending;
	int		 a_multi;
	char		*a_errtype;
	char		*a_message;
	size_t		 a_jidlen;
	char		 a_jid[];
};

/* The record of a jid, created when create is set (NULL on ENOMEM). */
struct baudit *audit_get(struct brk *, const char *jid, size_t n, int create);
/*
 * A job with this record was added (dlive 1), finished (-1) or moved; ddead
 * counts moves into (1) and out of (-1) the dead set. Keeps done/pending and
 * the XAUDIT totals up to date.
 */
void	 audit_move(struct brk *, struct baudit *, int dlive, int ddead,
	    enum baudit_state);
void	 audit_pushed(struct brk *, struct baudit *);
void	 audit_delivered(struct brk *, struct baudit *);
void	 audit_failed(struct brk *, struct baudit *, const char *errtype,
	    size_t etlen, const char *message, size_t mlen);
void	 audit_acked(struct brk *, struct baudit *);
void	 audit_errtype(struct brk *, const char *errtype, size_t n);
void	 audit_lost(struct brk *, struct baudit *, enum blost);
void	 audit_reset(struct brk *);
void	 audit_free(struct brk *);
int	 audit_xstats(struct brk *, struct buf *);
int	 audit_xjob(struct brk *, struct buf *, const char *jid, size_t n);
int	 audit_xaudit(struct brk *, struct buf *);

/* ---- brk_worker.c: worker processes (wid), HELLO, BEAT, the reaper ---- */

enum bworker_state {
	BW_RUNNING = 0,
	BW_QUIET,
	BW_TERMINATE,
};

struct bworker {
	struct bconn	*w_conns;	/* its connections (c_wnext) */
	size_t		 w_nconns;
	enum bworker_state w_state;
	char		*w_hostname;	/* encoded JSON */
	char		*w_labels;	/* encoded JSON array */
	long long	 w_pid;
	long long	 w_rss_kb;
	unsigned long	 w_beats;
	uint64_t	 w_last_beat;	/* virtual ms */
	size_t		 w_widlen;
	char		 w_wid[];
};

/*
 * Checks a HELLO line as the real server does. Returns 0 and attaches the
 * connection (as producer or worker), 1 for a wrong password (-ERR before
 * the close), or -1 when it must close without a word.
 */
int	 worker_hello(struct bconn *, const char *line, size_t n);
void	 worker_detach(struct brk *, struct bconn *);
void	 cmd_beat(struct bconn *, const char *payload, size_t n);
/* Closes the connections of workers silent for reap_s; returns the next check. */
void	 worker_reap(struct brk *);
int	 worker_xworkers(struct brk *, struct buf *);
/* XSTATE: 0, or -1 if the wid is unknown. */
int	 worker_signal(struct brk *, const char *wid, size_t n, enum bworker_state);
void	 worker_free_all(struct brk *);

/* ---- brk_conn.c: connections, lines, output ---- */

enum bconn_state {
	BC_HANDSHAKE = 0,	/* +HI sent, waiting for HELLO (2 s) */
	BC_READY,
	BC_BLOCKED,		/* inside a FETCH waiting for a job */
	BC_DEAD,		/* closed; freed from the graveyard */
};

struct bconn {
	struct bconn	*c_prev;	/* every connection */
	struct bconn	*c_next;
	struct bconn	*c_wprev;	/* the connections of c_worker */
	struct bconn	*c_wnext;
	struct bconn	*c_rnext;	/* runnable list */
	struct bconn	*c_gnext;	/* graveyard list */
	struct brk	*c_brk;
	enum bconn_state c_state;
	int		 c_fd;
	uint64_t	 c_id;
	struct ev_io	 c_io;
	struct ev_timer	 c_timer;	/* handshake deadline or FETCH wait */
	struct buf	 c_in;
	size_t		 c_scan;	/* c_in bytes already searched for LF */
	struct buf	 c_out;
	/*
	 * Output positions, in bytes since the greeting:
	 * c_out_sent <= c_release <= c_served <= c_out_total.
	 */
	uint64_t	 c_out_total;	/* bytes ever appended to c_out */
	uint64_t	 c_out_sent;	/* written to the socket */
	uint64_t	 c_release;	/* past --latency-us too: may be written */
	uint64_t	 c_served;	/* past the service time of the command that made them */
	uint64_t	 c_garbage_at;	/* where the first garbage starts, or UINT64_MAX */
	int		 c_delayed;	/* latency marks pending for this conn */
	int		 c_svc;		/* a command's service time runs (one mark) */
	uint64_t	 c_svc_from;	/* µs: the last service time's end, while the next may start */
	long long	 c_cost_owed;	/* µs of --cost-us CPU its work made, not yet burnt */
	struct bjob	*c_resv;	/* reservations its FETCHes made, still held */
	struct bworker	*c_worker;
	int		 c_creator;	/* its HELLO created c_worker */
	int		 c_ready_counted;
	int		 c_overcap;
	int		 c_runnable;
	int		 c_eof;		/* reading saw EOF or an error: client gone */
	int		 c_wfail;	/* writing failed: output is discarded from now on */
	int		 c_watched;	/* in epoll (not after EOF with nothing to write) */
	int		 c_np;		/* next line came when nothing was owed */
	int		 c_closing;	/* close once the output is written */
	int		 c_nofault;	/* answering an admin verb: no garbage */
	unsigned long	 c_ncmds;	/* commands counted for --drop-after */
	long		 c_iter;
	char		 c_salt[20];
	struct bwait	*c_waits;	/* the FETCH being waited for */
	size_t		 c_nwaits;
	size_t		 c_capwaits;
};

/* The runnable list's wake-up (an eventfd). -1 with errno if it cannot be made. */
int	 conn_init(struct brk *);
int	 conn_listen(struct brk *, const char *host, const char *port, char *err,
	    size_t errlen);
void	 conn_free_all(struct brk *);
/* Closes now (output not yet written is dropped); freed later. */
void	 conn_kill(struct bconn *);
/* Stops processing after the current command, writes what is queued, closes. */
void	 conn_close_after_flush(struct bconn *);
/* Queues processing of buffered commands and an output flush (next loop pass). */
void	 conn_wake(struct bconn *);
void	 conn_flush(struct bconn *);
/* The service time of the command running on c is over: release, run the next. */
void	 conn_served(struct bconn *);
/* The client closed (EOF, a read or write error) before the broker did. */
static inline int conn_client_gone(const struct bconn *c) { return c->c_eof || c->c_wfail; }
/* FETCH found nothing: wait on the queues (or, when quiet, just wait). */
int	 conn_block(struct bconn *, struct bqueue *const *qs, size_t n, int quiet);
/* Leaves the blocked state (the FETCH got its answer). */
void	 conn_unblock(struct bconn *);
/* A job arrived in q: hands it to the oldest waiter that can take it. */
void	 conn_serve_waiters(struct brk *, struct bqueue *);

/* Replies: each appends to c_out (--garbage-every may replace it). */
void	 reply_ok(struct bconn *);
void	 reply_err(struct bconn *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "-ERR " + prefix + raw bytes (payload echoes keep every byte). */
void	 reply_err_raw(struct bconn *, const char *prefix, const char *s, size_t n);
void	 reply_bulk(struct bconn *, const char *s, size_t n);
void	 reply_null(struct bconn *);
/* A prebuilt "$N\r\n...\r\n" (a job's wire form). */
void	 reply_wire(struct bconn *, const char *s, size_t n);

/* ---- brk_cmd.c: command dispatch ---- */

/* One command line (without its line end). Returns after queuing the reply. */
void	 cmd_dispatch(struct bconn *, const char *line, size_t n);
/* Re-runs the FETCH a blocked connection is waiting in; 1 if it got a job. */
int	 cmd_fetch_retry(struct bconn *);
/* The name of verb v (an index of b_x_cut_ran), NULL past the last. */
const char *cmd_verb_name(size_t v);

/* ---- brk_resv.c: each FETCH's reservation and how its delivery ended ---- */

/* Before j's FETCH reply is appended to c: remember the delivery. */
void	 resv_attach(struct bconn *, struct bjob *);
/* After it: where the reply ends. */
void	 resv_sent(struct bconn *, struct bjob *);
/* j leaves the working set (ACK, FAIL, expiry, FLUSH, replaced). */
void	 resv_end(struct brk *, struct bjob *);
/* c closes: classifies each reservation it still holds (once) and strands it. */
void	 resv_close(struct bconn *);

/* ---- brk_admin.c: the test-only X verbs ---- */

/* 1 if the verb was an admin verb (and was answered). */
int	 admin_dispatch(struct bconn *, const char *verb, size_t vlen,
	    const char *args, size_t alen);

/* ---- brk_fault.c: fault injection ---- */

void	 fault_init(struct brk *);
/* Holds back everything served on c so far for latency_us. */
void	 fault_delay(struct bconn *);
/* A command starts on c: it holds the connection for service_us. */
void	 fault_serve(struct bconn *);
/* The parts of a job that --cost-us is split over (brk_fault.c says how). */
enum cost_part {
	COST_PUSH,	/* each job PUSH or PUSHB stores */
	COST_FETCH,	/* a FETCH that hands out a job */
	COST_END,	/* ACK or FAIL */
};
/* c's work handled one part of a job: it owes that share of cost_us. */
void	 fault_cost(struct bconn *, enum cost_part);
/* Burns what c owes on the thread's CPU clock (a busy loop, not a sleep). */
void	 fault_burn(struct bconn *);
/* 1 if this reply must be replaced by garbage. */
int	 fault_garbage(struct brk *);
int	 fault_refusing(struct brk *);
/* XFAULT name n: 0, or -1 for an unknown name. */
int	 fault_set(struct brk *, const char *name, size_t n, long long v);
void	 fault_forget(struct bconn *);
void	 fault_free(struct brk *);

/* ---- the broker ---- */

struct brk_opts {
	const char	*o_bind;
	const char	*o_port_file;
	const char	*o_password;	/* NULL: none */
	long long	 o_latency_us;
	long long	 o_service_us;
	long long	 o_cost_us;
	long long	 o_drop_after;
	long long	 o_refuse_ms;
	long long	 o_garbage_every;
	long long	 o_retry_delay_ms;	/* -1: Faktory's formula */
	long long	 o_fetch_wait_ms;
	long long	 o_max_conns;
	long long	 o_reap_s;
	int		 o_verbose;
};

/* A delay running on a connection: latency or service time. */
struct brk_mark {
	struct bconn	*m_conn;	/* NULL once the connection is gone */
	uint64_t	 m_pos;		/* latency: c_served to release */
	uint64_t	 m_at_us;
};

/*
 * Delays on a timerfd (microseconds; the loop never sleeps): a ring in time
 * order, appended to nearly always, since every mark gets the same delay.
 */
struct brk_tq {
	struct brk	*tq_brk;
	int		 tq_fd;		/* -1 until first used */
	struct ev_io	 tq_io;
	void		(*tq_fire)(struct bconn *, const struct brk_mark *);
	struct brk_mark	*tq_v;		/* ring */
	size_t		 tq_head;
	size_t		 tq_len;
	size_t		 tq_cap;
};

#define BRK_NVERBS	14	/* brk_cmd.c's verbs, for the cut counters */

struct brk {
	struct brk_opts	 b_opt;
	struct ev_loop	*b_loop;
	int		 b_lfd;
	struct ev_io	 b_lio;
	int		 b_sigfd;
	struct ev_io	 b_sigio;
	int		 b_stopping;

	struct bconn	*b_conns;
	size_t		 b_nconns;
	size_t		 b_nready;	/* past the handshake (the real cap counts these) */
	uint64_t	 b_conn_ids;
	struct bconn	*b_runnable;
	struct bconn	*b_runnable_tail;
	struct bconn	*b_grave;
	int		 b_kickfd;	/* eventfd: readable while b_runnable waits */
	struct ev_io	 b_kickio;
	int		 b_kicked;

	struct bmap	 b_queues;
	struct bmap	 b_working;	/* jid -> reserved job */
	struct bmap	 b_workers;
	struct bmap	 b_audit;
	struct bmap	 b_errtypes;	/* errtype -> struct berrtype */
	struct heap	 b_hworking;	/* bjob.j_due of each set */
	struct heap	 b_hretry;
	struct heap	 b_hsched;
	struct bjob	*b_dead_head;
	struct bjob	*b_dead_tail;
	size_t		 b_ndead;
	struct ev_timer	 b_due;
	uint64_t	 b_due_at;	/* virtual ms b_due is armed for */
	uint64_t	 b_reap_at;	/* virtual ms of the next reaper pass */
	int64_t		 b_voffset_ms;	/* added by XTIME */
	uint64_t	 b_start_ms;

	/* INFO */
	uint64_t	 b_total_processed;
	uint64_t	 b_total_failures;
	uint64_t	 b_command_count;
	uint64_t	 b_busy_reaped;
	uint64_t	 b_workers_reaped;
	uint64_t	 b_retry_enqueued;
	uint64_t	 b_retry_cycles;
	uint64_t	 b_sched_enqueued;
	uint64_t	 b_sched_cycles;

	/* XSTATS (reset by XFLUSHSTATS) */
	uint64_t	 b_x_pushed;
	uint64_t	 b_x_acked;
	uint64_t	 b_x_failed;
	uint64_t	 b_x_delivered;
	uint64_t	 b_x_expired;
	uint64_t	 b_x_refused;	/* handshakes refused past --max-conns */
	uint64_t	 b_x_commands;
	uint64_t	 b_x_pipelined;
	uint64_t	 b_x_cut_ran[BRK_NVERBS];	/* --drop-after: the Nth command ran */
	uint64_t	 b_x_cut_unrun[BRK_NVERBS];	/* ... or did not */
	uint64_t	 b_stranded;	/* reservations held for gone connections, now */

	/* XAUDIT totals, kept up to date by audit_update */
	uint64_t	 b_a_jobs;
	uint64_t	 b_a_done;
	uint64_t	 b_a_acked_once;
	uint64_t	 b_a_acked_multi;
	uint64_t	 b_a_delivered_multi;
	uint64_t	 b_a_failed;
	uint64_t	 b_a_flushed;
	uint64_t	 b_a_lost[BL_N];
	struct baudit	*b_pend_head;
	struct baudit	*b_pend_tail;
	struct baudit	*b_multi_head;
	struct baudit	*b_multi_tail;

	/* faults (XFAULT changes them at run time) */
	long long	 b_latency_us;
	long long	 b_service_us;
	long long	 b_cost_us;	/* CPU µs burnt per job, over its commands */
	long long	 b_drop_after;
	long long	 b_garbage_every;
	uint64_t	 b_garbage_n;
	uint64_t	 b_refuse_until;	/* monotonic ms */
	struct brk_tq	 b_lat;		/* --latency-us release marks */
	struct brk_tq	 b_svc;		/* --service-us: one mark per busy connection */
};

#endif
