/* SPDX-License-Identifier: MIT */
/*
 * fkc: one non-blocking Faktory client connection driven by an ev loop:
 * connect, optional TLS, HI, HELLO (with pwdhash), then a pipe of command
 * lines out and parsed replies in, strictly in order. It knows nothing of
 * what the commands mean: owners (a worker slot, the master's heartbeat,
 * fkworkerctl perf-test) keep their own queue of what they expect back.
 *
 *   CONNECTING -> TLS -> GREETING -> HELLO -> READY -> CLOSED
 *
 * Errors close the connection and are reported once through on_close; the
 * owner decides about reconnecting (fkc never retries by itself).
 *
 * A bulk reply above fp_max_bulk (a job too large to hold) does not close
 * the connection: its first FKC_PEEK bytes go to on_reply as FKP_R_TOO_LARGE,
 * so the owner can FAIL the job by its jid, and the rest is read and dropped.
 */
#ifndef FKW_FKC_H
#define FKW_FKC_H

#include <stddef.h>
#include <openssl/ssl.h>

#include "ev.h"
#include "fkp.h"
#include "net.h"
#include "util.h"

enum fkc_state {
	FKC_CLOSED = 0,
	FKC_CONNECTING,
	FKC_TLS,
	FKC_GREETING,		/* waiting for +HI */
	FKC_HELLO,		/* HELLO sent, waiting for +OK */
	FKC_READY,
};

/* Why a connection closed: FKC_FATAL means retrying cannot help (bad password). */
enum fkc_close {
	FKC_CLOSE_LOCAL = 0,	/* fkc_close() */
	FKC_CLOSE_ERROR,	/* network, TLS, protocol error or timeout: retry with backoff */
	FKC_CLOSE_FATAL,	/* -ERR Invalid password, or EOF right after HELLO */
};

#define FKC_PEEK	4096	/* bytes of an oversized reply its owner sees */

struct fkc;

struct fkc_ops {
	void	(*on_ready)(struct fkc *);
	/* One reply after READY, in command order. r points into the read buffer. */
	void	(*on_reply)(struct fkc *, const struct fkp_reply *r);
	void	(*on_close)(struct fkc *, enum fkc_close, const char *why);
};

/* Shared by every connection of a process; must outlive them. */
struct fkc_params {
	struct net_addr		 fp_addr;
	const char		*fp_host;	/* for TLS SNI and hostname check */
	const char		*fp_password;	/* NULL or "" = none */
	struct fkp_hello	 fp_hello;	/* pwdhash filled per connection */
	SSL_CTX			*fp_tls;	/* NULL = plain TCP */
	int			 fp_timeout_ms;	/* connect + TLS + handshake */
	size_t			 fp_max_bulk;
};

struct fkc {
	enum fkc_state		 fc_state;
	struct ev_loop		*fc_loop;
	struct ev_io		 fc_io;
	struct ev_timer		 fc_timer;	/* handshake deadline */
	const struct fkc_params	*fc_params;
	const struct fkc_ops	*fc_ops;
	void			*fc_arg;	/* owner */
	SSL			*fc_ssl;
	struct buf		 fc_rbuf;
	struct buf		 fc_wbuf;
	int			 fc_want_write;	/* TLS: a read needs the socket writable */
	int			 fc_in_cb;	/* dispatching replies: defer close */
	int			 fc_closing;
	size_t			 fc_skip;	/* bytes of an oversized reply left to drop */
	uint64_t		 fc_read_at;	/* loop ms of the last bytes read */
	int			 fc_lowat;	/* the socket's SO_RCVLOWAT, bytes */
	char			 fc_err[256];
};

/*
 * Prepares a client TLS context: TLS 1.2 minimum, system CAs (or ca_file),
 * peer verification when verify is set. NULL with err filled on failure.
 */
SSL_CTX	*fkc_tls_ctx(const char *ca_file, int verify, char *err, size_t errlen);

void	 fkc_init(struct fkc *, struct ev_loop *, const struct fkc_params *,
	    const struct fkc_ops *, void *arg);
/* Starts connecting. A failure is reported through on_close (maybe at once). */
void	 fkc_connect(struct fkc *);
/* Append commands to fc_wbuf (fkp_enc_*), then flush. -1 if not READY. */
static inline struct buf *fkc_wbuf(struct fkc *c) { return &c->fc_wbuf; }
void	 fkc_flush(struct fkc *);
/*
 * Closes now. With send_end, writes END first (best effort, no reply is
 * read). on_close is not called for a local close. Buffers are kept for
 * reuse; fkc_free releases them.
 */
void	 fkc_close(struct fkc *, int send_end);
void	 fkc_free(struct fkc *);
static inline int fkc_is_ready(const struct fkc *c) { return c->fc_state == FKC_READY; }
/*
 * The kernel wakes the loop for this connection only once bytes (>= 1) are
 * in (SO_RCVLOWAT). Plain TCP and READY only: on TLS, records buffered
 * inside the library would not count. 0 when set (or already so), else -1.
 */
int	 fkc_set_lowat(struct fkc *, int bytes);
static inline int fkc_lowat(const struct fkc *c) { return c->fc_lowat; }
/* Bytes read but not yet handed out as replies (part of one). */
static inline size_t fkc_rpending(const struct fkc *c) { return buf_rlen(&c->fc_rbuf); }

#endif
