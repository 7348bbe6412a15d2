/* SPDX-License-Identifier: MIT */
/*
 * fkp: the Faktory worker protocol as pure functions: a reply parser that can
 * be fed any byte split, command encoders, the HI greeting, the password hash
 * and FAKTORY_URL parsing. No I/O, no logging; the main fuzz target.
 * See docs/faktory-protocol.md in the shared design docs.
 */
#ifndef FKW_FKP_H
#define FKW_FKP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define FKP_DEFAULT_PORT	"7419"
#define FKP_MAX_BULK_DEFAULT	(64u << 20)	/* refuse bulk replies above this */
#define FKP_MAX_BULK_SKIP	(1ull << 30)	/* above max_bulk, up to this: skippable (fkc) */
#define FKP_MAX_LINE		(64u << 10)	/* simple/error lines longer are an error */
#define FKP_ERRTYPE_MAX		100
#define FKP_MESSAGE_MAX		1000
#define FKP_BACKTRACE_MAX	50
#define FKP_HI_ITER_MAX		1000000	/* HI "i" above this is refused (server: 4000..8095) */

/* ---- Replies from the server ---- */

enum fkp_rtype {
	FKP_R_SIMPLE,		/* +text */
	FKP_R_ERROR,		/* -CODE message */
	FKP_R_BULK,		/* $n body */
	FKP_R_NULL,		/* $-1 */
	FKP_R_INT,		/* :n (never sent by the OSS server; accepted) */
	FKP_R_TOO_LARGE,	/* fkc only: a bulk above max_bulk, r_data/r_len its first
				   bytes, r_int its length; the rest is skipped */
};

/* Pointers point into the caller's buffer; valid until it changes. */
struct fkp_reply {
	enum fkp_rtype	 r_type;
	const char	*r_data;	/* SIMPLE text, BULK body, whole ERROR text */
	size_t		 r_len;
	const char	*r_code;	/* ERROR: first word after '-' ("ERR") */
	size_t		 r_code_len;
	const char	*r_msg;		/* ERROR: the rest after the code and a space */
	size_t		 r_msg_len;
	long long	 r_int;		/* INT */
};

/*
 * Parses one reply from the start of buf[0..len). Returns the number of bytes
 * the reply occupies (> 0) with *r filled, 0 if buf does not yet hold a whole
 * reply (call again with more bytes), or -1 if the bytes cannot be a reply
 * (unknown type byte, bad length, missing CRLF after a bulk body, a bulk
 * longer than max_bulk, a line longer than FKP_MAX_LINE, an embedded NUL in a
 * line) with err describing it. Never reads past buf + len. A line ends in
 * CRLF; a bare LF is accepted too.
 */
ssize_t	fkp_reply_parse(const char *buf, size_t len, size_t max_bulk,
	    struct fkp_reply *r, char *err, size_t errlen);

/*
 * For a reply fkp_reply_parse refused: if buf starts with the header "$N\r\n"
 * of a bulk with max_bulk < N <= FKP_MAX_BULK_SKIP (a job too large to hold,
 * whose first bytes still name it), returns the header's length and sets
 * *body_len to N. 0 if the header is not complete yet and may still be one,
 * -1 otherwise. Never reads past buf + len.
 */
ssize_t	fkp_bulk_oversize(const char *buf, size_t len, size_t max_bulk,
	    size_t *body_len);

/* 1 if the reply is the error "CODE ..." with this code, else 0. */
int	fkp_reply_is_error(const struct fkp_reply *, const char *code);

/* ---- Handshake ---- */

struct fkp_hi {
	int		 hi_v;		/* protocol version, 2 */
	int		 hi_has_salt;	/* password required */
	long		 hi_iter;	/* "i", 1 when absent */
	char		 hi_salt[64];	/* "s", opaque string */
};

/*
 * Parses the body of a "+HI {...}" simple string (r_data of the reply: the
 * text starting at "HI "). 0, or -1 with err set when the prefix or JSON is
 * wrong. Unknown keys are ignored.
 */
int	fkp_hi_parse(const char *text, size_t len, struct fkp_hi *, char *err,
	    size_t errlen);

/*
 * pwdhash of §3.1: SHA-256 of password||salt, then iterations-1 more rounds
 * over the raw 32 bytes; out gets 64 lowercase hex characters and a NUL.
 * iterations <= 1 means one round. out is "" only if OpenSSL fails (no memory).
 */
void	fkp_pwdhash(const char *password, const char *salt, long iterations,
	    char out[65]);

struct fkp_hello {
	const char	 *h_hostname;	/* NULL for producers */
	const char	 *h_wid;	/* NULL or "" for producers */
	long		  h_pid;
	const char *const *h_labels;	/* may be NULL */
	int		  h_nlabels;
	const char	 *h_pwdhash;	/* NULL when HI had no salt */
	const char	 *h_username;	/* may be NULL */
};

/* ---- Command encoders: each appends one CRLF-terminated line to b. ---- */
/* All return 0, or -1 on ENOMEM or invalid arguments (errno EINVAL). */

int	fkp_enc_hello(struct buf *, const struct fkp_hello *);
/* queues: n >= 1 names; names must be non-empty with no space/CR/LF. */
int	fkp_enc_fetch(struct buf *, const char *const *queues, int n);
int	fkp_enc_ack(struct buf *, const char *jid, size_t jidlen);
/*
 * FAIL with errtype cut to FKP_ERRTYPE_MAX and message to FKP_MESSAGE_MAX
 * bytes on UTF-8 character boundaries; empty errtype becomes "unknown".
 * backtrace may be NULL.
 */
int	fkp_enc_fail(struct buf *, const char *jid, size_t jidlen,
	    const char *errtype, const char *message,
	    const char *const *backtrace, int nbacktrace);
/* state: NULL or "" (running), "quiet", "terminate". rss_kb < 0: left out. */
int	fkp_enc_beat(struct buf *, const char *wid, long rss_kb, const char *state);
/* job_json / array_json: compact JSON without CR or LF (checked). */
int	fkp_enc_push(struct buf *, const char *job_json, size_t len);
int	fkp_enc_pushb(struct buf *, const char *array_json, size_t len);
int	fkp_enc_simple(struct buf *, const char *verb);	/* INFO, END, FLUSH */

/* ---- BEAT replies ---- */

enum fkp_beat {
	FKP_BEAT_OK,		/* +OK: nothing changes */
	FKP_BEAT_QUIET,
	FKP_BEAT_TERMINATE,
	FKP_BEAT_UNKNOWN_WORKER,	/* -ERR unknown worker (any case) */
	FKP_BEAT_ERROR,		/* any other error or unparsable reply */
};

/* Classifies a BEAT reply: bulk or simple {"state":"..."} form, or +OK. */
enum fkp_beat fkp_beat_parse(const struct fkp_reply *);

/* ---- FAKTORY_URL ---- */

struct fkp_url {
	int	 u_tls;			/* tcp+tls:// */
	char	 u_host[256];
	char	 u_port[8];		/* defaults to 7419 */
	char	 u_user[128];
	char	 u_password[256];	/* percent-decoded */
};

/*
 * Parses tcp://[user][:password]@host:port or tcp+tls://...; IPv6 hosts in
 * brackets. A missing port is 7419; a bare "host" or "host:port" without a
 * scheme is accepted as tcp://. 0, or -1 with err naming what is wrong.
 */
int	fkp_url_parse(const char *url, struct fkp_url *, char *err, size_t errlen);

/* 1 if name matches [A-Za-z0-9._-]+, as the server requires of queue names. */
int	fkp_queue_name_ok(const char *name);

#endif
