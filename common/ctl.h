/* SPDX-License-Identifier: MIT */
/*
 * ctl: the control protocol between fkworkerctl and the master.
 *
 * A frame is a 4-byte big-endian payload length and a msgpack map. Every
 * request carries "v" (CTL_VERSION) and "cmd"; every reply carries "v",
 * "ok" and either "error" or the command's data. The status reply is one
 * struct (ctl_status) described by a field table, so the msgpack encoder,
 * its decoder and the JSON renderer walk the same list of fields.
 * Pure functions: no I/O, no logging.
 */
#ifndef FKW_CTL_H
#define FKW_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "util.h"

#define CTL_VERSION	1
#define CTL_HDR_LEN	4
#define CTL_FRAME_MAX	(1u << 20)	/* payload bytes; larger frames are refused */

/* ---- Frames ---- */

/*
 * Looks for one frame at the start of buf[0..len). Returns the frame's
 * total length (header included) with *payload / *plen set, 0 when more
 * bytes are needed, or -1 when the announced length exceeds CTL_FRAME_MAX.
 */
ssize_t	ctl_frame_parse(const void *buf, size_t len, const void **payload,
	    size_t *plen);

/* ---- Requests ---- */

enum ctl_cmd {
	CTL_CMD_UNKNOWN = 0,
	CTL_CMD_STATUS,
	CTL_CMD_RELOAD,
	CTL_CMD_QUIET,
	CTL_CMD_STOP,
	CTL_CMD_BUSY,
};

#define CTL_BUSY_LIMIT_DEFAULT	50
#define CTL_BUSY_LIMIT_MAX	4000	/* rows of at most ~250 bytes fit CTL_FRAME_MAX */

struct ctl_request {
	int64_t		rq_version;
	enum ctl_cmd	rq_cmd;
	char		rq_name[32];	/* the command as sent, for messages */
	int		rq_queues;	/* status: refresh queue depths first (default 1) */
	uint32_t	rq_limit;	/* busy: rows at most (default CTL_BUSY_LIMIT_DEFAULT) */
};

const char	*ctl_cmd_name(enum ctl_cmd);
enum ctl_cmd	 ctl_cmd_parse(const char *);

/* Appends one framed request; 0 or -1 (ENOMEM). */
int	ctl_request_encode(struct buf *, const struct ctl_request *);
/*
 * Decodes a request payload. 0 with *rq filled (rq_cmd CTL_CMD_UNKNOWN for
 * a command this side does not know; the caller checks rq_version first),
 * or -1 with err set when the payload is not a map with an integer "v" and
 * a string "cmd".
 */
int	ctl_request_decode(const void *, size_t, struct ctl_request *,
	    char *err, size_t errlen);
/*
 * The master's acceptance check: -1 with err "protocol version mismatch:
 * client N, master M" when the versions differ (reply, then close).
 */
int	ctl_request_check(const struct ctl_request *, char *err, size_t errlen);

/* ---- The status reply ---- */

struct ctl_child {
	int32_t		cc_index;
	int32_t		cc_cpu;		/* -1: not pinned */
	int32_t		cc_pid;
	uint32_t	cc_generation;
	char		cc_state[16];
	uint32_t	cc_slots;
	uint32_t	cc_connections;		/* Faktory connections it holds */
	uint32_t	cc_connected;		/* of those, connected now */
	uint32_t	cc_busy;
	uint32_t	cc_window;		/* FETCH window: most FETCHes it keeps out now */
	uint32_t	cc_fetching;		/* FETCHes out now */
	uint32_t	cc_fetch_rtt_us;	/* smoothed round trip of FETCHes with a job */
	uint32_t	cc_nap_us;		/* its coalescing nap's bound now; 0: not napping */
	uint64_t	cc_processed;
	uint64_t	cc_failed;
	double		cc_jobs_per_sec;	/* last 10 s */
	int64_t		cc_rss_kb;
	uint32_t	cc_restarts;		/* of this child index */
	uint64_t	cc_uptime_ms;
	uint64_t	cc_sampled_ms;		/* CLOCK_MONOTONIC ms of the counters */
	double		cc_cpu_pct;		/* of one core, last 10 s (sup_load.c) */
	double		cc_cpu_s;		/* CPU seconds since it started */
	double		cc_sat_pct;		/* samples with every slot busy, last 10 s */
	uint64_t	cc_sat_count;		/* times every slot became busy */
	uint64_t	cc_last_done_ms;	/* CLOCK_MONOTONIC ms of its last counted job */
	uint64_t	cc_index_done;		/* jobs of every child of this index, dead ones too */
};

/* Exact counts per jobtype, and failures per jobtype and errtype. */
struct ctl_jobtype {
	char		cj_name[48];
	uint64_t	cj_processed;
	uint64_t	cj_failed;
};

struct ctl_failure {
	char		cf_jobtype[48];
	char		cf_errtype[48];
	uint64_t	cf_failed;
};

/* A queue: every configured one (size 0 when the server has none), then the server's others. */
struct ctl_queue {
	char		cq_name[128];
	int64_t		cq_size;
	int32_t		cq_configured;		/* in worker.queues */
	int32_t		cq_trend_known;		/* two INFO answers to compare */
	double		cq_trend;		/* jobs/s the size grew (negative: shrank) */
};

struct ctl_status {
	char		st_version[16];
	int32_t		st_pid;
	char		st_hostname[256];
	char		st_wid[40];
	char		st_url[512];		/* without password */
	char		st_conf_file[512];
	char		st_state[16];		/* starting, running, reloading, quiet, stopping */
	uint64_t	st_uptime_ms;
	uint32_t	st_cpus;		/* children configured (worker.cpus) */
	uint32_t	st_concurrency;		/* the host's now (auto: the controller's) */
	char		st_concurrency_mode[8];	/* "fixed" or "auto" */
	uint32_t	st_concurrency_min;	/* auto's floor (fixed: the value) */
	uint32_t	st_concurrency_max;	/* the most it can reach live */
	char		st_auto_last[192];	/* auto's last decision and its reason */
	uint32_t	st_slots;
	uint32_t	st_connections;		/* the children's Faktory connections */
	uint32_t	st_connected;		/* of those, connected now */
	uint32_t	st_busy;
	uint32_t	st_fetching;		/* FETCHes out now, all children */
	uint64_t	st_fetches;		/* FETCH commands sent since start */
	uint64_t	st_fetch_empty;		/* of those, answered without a job */
	uint64_t	st_naps;		/* coalescing naps the children took (worker.coalesce_us) */
	uint64_t	st_processed;
	uint64_t	st_failed;
	double		st_jobs_per_sec;	/* last 10 s */
	uint64_t	st_p50_us;
	uint64_t	st_p99_us;
	char		st_lat_window[8];	/* "10s", or "all" when idle for 10 s */
	uint64_t	st_pickup_p50_us;	/* job start minus enqueued_at, same window rule */
	uint64_t	st_pickup_p99_us;
	uint64_t	st_pickup_n;		/* jobs measured since start */
	uint64_t	st_pickup_skewed;	/* of those, enqueued "in the future": clock skew */
	int64_t		st_rss_kb;		/* children and master */
	uint64_t	st_restarts;
	uint64_t	st_dropped;		/* stats records lost to full rings */
	uint64_t	st_sampled_ms;		/* CLOCK_MONOTONIC ms of the counters */
	int32_t		st_faktory_up;		/* the master's connection is READY */
	char		st_faktory_error[256];	/* why it is not, if known */
	int32_t		st_queues_known;	/* INFO answered at least once */
	uint64_t	st_queues_age_ms;
	double		st_cpu_pct;		/* master and children, of one core, last 10 s */
	double		st_cpu_s;		/* CPU seconds since the master started */
	uint32_t	st_cpu_cores;		/* online cores: 100% each */
	double		st_sat_pct;		/* mean of the serving children's */
	uint64_t	st_sat_count;		/* sum of the children's, since start */
	uint64_t	st_trend_window_ms;	/* the INFO answers the trends compare */
	uint32_t	st_queues_omitted;	/* the server's other queues beyond those listed */
	int64_t		st_server_retries;	/* the server's sets, from INFO; -1 unknown */
	int64_t		st_server_dead;
	int64_t		st_server_scheduled;
	uint64_t	st_last_done_ms;	/* CLOCK_MONOTONIC ms of the last counted job */
	struct ctl_jobtype *st_jobtypes;
	uint32_t	st_njobtypes;
	struct ctl_failure *st_failures;	/* "failed_by" */
	uint32_t	st_nfailures;
	struct ctl_queue *st_queues;
	uint32_t	st_nqueues;
	struct ctl_child *st_child;
	uint32_t	st_nchild;
};

/* A status field: how the encoder, decoder and JSON renderer find it. */
enum ctl_ftype {
	CTL_F_I32,
	CTL_F_U32,
	CTL_F_I64,
	CTL_F_U64,
	CTL_F_DBL,
	CTL_F_BOOL,		/* int32_t 0/1 */
	CTL_F_STR,		/* char array of f_size bytes */
};

struct ctl_field {
	const char	*f_name;
	enum ctl_ftype	 f_type;
	size_t		 f_off;
	size_t		 f_size;
};

/* One table entry for member of struct type st. */
#define CTL_FIELD(st, name, type, member) \
	{ name, type, offsetof(st, member), sizeof(((st *)0)->member) }

/* Scalar fields of ctl_status, ctl_child and ctl_queue, NULL-name terminated. */
extern const struct ctl_field ctl_status_fields[];
extern const struct ctl_field ctl_child_fields[];
extern const struct ctl_field ctl_queue_fields[];

/* ---- The busy reply (ctl_busy.c): the jobs running now ---- */

struct ctl_busy_job {
	char		bj_jid[64];
	char		bj_jobtype[48];
	char		bj_queue[48];
	int32_t		bj_child;		/* child index */
	int32_t		bj_pid;
	uint64_t	bj_running_ms;
};

struct ctl_busy {
	uint32_t	 bz_total;		/* running now, all of them */
	uint32_t	 bz_limit;		/* the rows asked for */
	struct ctl_busy_job *bz_jobs;		/* the longest running first */
	uint32_t	 bz_njobs;		/* <= bz_limit */
};

extern const struct ctl_field ctl_busy_fields[];
extern const struct ctl_field ctl_busy_job_fields[];

void	ctl_busy_pack(msgpack_packer *, const struct ctl_busy *);
/* NULL when o is not a well-formed busy map (or ENOMEM). */
struct ctl_busy *ctl_busy_unpack(const msgpack_object *o);
void	ctl_busy_free(struct ctl_busy *);
/* Fields of the rows of "jobtypes" and "failed_by". */
extern const struct ctl_field ctl_jobtype_fields[];
extern const struct ctl_field ctl_failure_fields[];

/* ---- Replies ---- */

struct ctl_reply {
	int64_t		 rp_version;
	int		 rp_ok;
	char		*rp_error;	/* may hold several lines */
	char		*rp_message;	/* a success message, or NULL */
	struct ctl_status *rp_status;	/* status only */
	struct ctl_busy	*rp_busy;	/* busy only */
};

/* Appends one framed reply; 0 or -1 (ENOMEM, or EMSGSIZE past CTL_FRAME_MAX). */
int	ctl_reply_encode(struct buf *, const struct ctl_reply *);
/* Decodes a reply payload into *rp (free with ctl_reply_free); 0 or -1 with err. */
int	ctl_reply_decode(const void *, size_t, struct ctl_reply *, char *err,
	    size_t errlen);
void	ctl_reply_free(struct ctl_reply *);
void	ctl_status_free(struct ctl_status *);

/* ---- msgpack helpers (also used by stats records) ---- */

/*
 * Walks one msgpack object spanning exactly buf[0..len) without allocating:
 * 0 if it is complete and well formed, else -1. msgpack-c allocates a
 * container's element array from the announced count before reading a
 * single element, so a 5-byte input can ask for 128 GiB; a complete object
 * cannot announce more elements than it has bytes, so this check runs
 * first on untrusted bytes.
 */
int	ctl_mp_check(const void *buf, size_t len);
/* A packer writing into a struct buf; an append that fails sets mw_err for good. */
struct ctl_mpw {
	struct buf	*mw_buf;
	int		 mw_err;
};
void	ctl_mpw_init(struct ctl_mpw *, struct buf *, msgpack_packer *);
/* Unpacks buf (after ctl_mp_check) into u; 0 or -1. Destroy u after use. */
int	ctl_mp_unpack(const void *buf, size_t len, msgpack_unpacked *u);
int	ctl_mp_key_is(const msgpack_object *, const char *);
/* Integer of either sign into range; -1 on wrong type or out of range. */
int	ctl_mp_u64(const msgpack_object *, uint64_t *);
int	ctl_mp_i64(const msgpack_object *, int64_t *);
/* A string object copied into a NUL-terminated array (truncated); -1 if not a string. */
int	ctl_mp_str(const msgpack_object *, char *out, size_t cap);
void	ctl_mp_pack_str(msgpack_packer *, const char *);
/* A map of the fields of base (and room for extra keys the caller packs next). */
void	ctl_fields_pack(msgpack_packer *, const struct ctl_field *, const void *base,
	    size_t extra);
/* One key of a map described by fields into base; unknown keys are skipped; 0 or -1. */
int	ctl_field_unpack(const msgpack_object *k, const msgpack_object *v,
	    const struct ctl_field *fields, void *base);
/* An array of such maps into a calloc'd array of size-byte rows (*n of them); 0 or -1. */
int	ctl_rows_unpack(const msgpack_object *o, const struct ctl_field *fields,
	    size_t size, void **rows, uint32_t *n);

#endif
