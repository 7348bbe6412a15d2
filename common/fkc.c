/* SPDX-License-Identifier: MIT */
/* fkc: one non-blocking Faktory client connection: connect, TLS, HI/HELLO, ordered replies. */
#include <errno.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fkc.h"

#define FKC_READ_CHUNK	(16u << 10)

static void fkc_io(struct ev_loop *, struct ev_io *, uint32_t);
static void fkc_deadline(struct ev_loop *, struct ev_timer *);

SSL_CTX *
fkc_tls_ctx(const char *ca_file, int verify, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "tls: cannot create context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (ca_file != NULL && *ca_file != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			snprintf(err, errlen, "tls: cannot load CA file %s: %s",
			    ca_file, ERR_reason_error_string(ERR_get_error()));
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "tls: cannot load the system CA store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	return ctx;
}

void
fkc_init(struct fkc *c, struct ev_loop *loop, const struct fkc_params *p,
    const struct fkc_ops *ops, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fc_state = FKC_CLOSED;
	c->fc_loop = loop;
	c->fc_params = p;
	c->fc_ops = ops;
	c->fc_arg = arg;
	c->fc_io.io_fd = -1;
	buf_init(&c->fc_rbuf);
	buf_init(&c->fc_wbuf);
	ev_timer_init(&c->fc_timer, fkc_deadline, c);
}

/* Tears the socket down; keeps buffers' memory for the next connection. */
static void
teardown(struct fkc *c)
{
	if (c->fc_io.io_fd >= 0) {
		ev_io_del(c->fc_loop, &c->fc_io);
		close(c->fc_io.io_fd);
		c->fc_io.io_fd = -1;
	}
	if (c->fc_ssl != NULL) {
		SSL_free(c->fc_ssl);
		c->fc_ssl = NULL;
	}
	ev_timer_stop(c->fc_loop, &c->fc_timer);
	buf_reset(&c->fc_rbuf);
	buf_reset(&c->fc_wbuf);
	c->fc_state = FKC_CLOSED;
	c->fc_want_write = 0;
	c->fc_closing = 0;
	c->fc_skip = 0;
}

static void
fail(struct fkc *c, enum fkc_close kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Closes with the message already in fc_err. Inside reply dispatch the close
 * is deferred so the owner's callback never sees its connection vanish.
 */
static void
fail_keep(struct fkc *c, enum fkc_close kind)
{
	if (c->fc_state == FKC_CLOSED)
		return;
	if (c->fc_in_cb) {
		if (!c->fc_closing || kind == FKC_CLOSE_FATAL)
			c->fc_closing = (int)kind + 1;
		return;
	}
	teardown(c);
	c->fc_ops->on_close(c, kind, c->fc_err);
}

/* Every error ends here, with fc_err set from fmt. */
static void
fail(struct fkc *c, enum fkc_close kind, const char *fmt, ...)
{
	va_list ap;

	if (c->fc_state == FKC_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(c->fc_err, sizeof(c->fc_err), fmt, ap);
	va_end(ap);
	fail_keep(c, kind);
}

void
fkc_connect(struct fkc *c)
{
	const struct fkc_params *p = c->fc_params;
	int fd;

	if (c->fc_state != FKC_CLOSED)
		return;
	buf_reset(&c->fc_rbuf);
	buf_reset(&c->fc_wbuf);
	fd = net_connect_nb(&p->fp_addr, c->fc_err, sizeof(c->fc_err));
	if (fd == -1) {
		c->fc_ops->on_close(c, FKC_CLOSE_ERROR, c->fc_err);
		return;
	}
	ev_io_init(&c->fc_io, fd, fkc_io, c);
	c->fc_state = FKC_CONNECTING;
	c->fc_lowat = 1;
	if (ev_io_add(c->fc_loop, &c->fc_io, EPOLLOUT) == -1) {
		fail(c, FKC_CLOSE_ERROR, "epoll: %s", strerror(errno));
		return;
	}
	ev_timer_start(c->fc_loop, &c->fc_timer, (uint64_t)p->fp_timeout_ms);
}

static void
fkc_deadline(struct ev_loop *loop, struct ev_timer *t)
{
	struct fkc *c = t->tm_arg;

	FKW_UNUSED(loop);
	fail(c, FKC_CLOSE_ERROR, "handshake not finished within %d ms",
	    c->fc_params->fp_timeout_ms);
}

static const char *
tls_error(void)
{
	unsigned long e = ERR_get_error();

	return e ? ERR_reason_error_string(e) : "connection closed";
}

/* Reads what the socket has into the read buffer: >0 bytes, 0 EOF, -1 error, -2 try later. */
static ssize_t
conn_read(struct fkc *c)
{
	ssize_t n;

	if (buf_reserve(&c->fc_rbuf, FKC_READ_CHUNK) == -1)
		return -1;
	char *p = c->fc_rbuf.b_data + c->fc_rbuf.b_len;
	size_t room = c->fc_rbuf.b_cap - c->fc_rbuf.b_len;
	if (c->fc_ssl != NULL) {
		int r = SSL_read(c->fc_ssl, p, (int)(room > INT32_MAX ? INT32_MAX : room));
		if (r > 0) {
			n = r;
		} else {
			int e = SSL_get_error(c->fc_ssl, r);
			if (e == SSL_ERROR_WANT_READ)
				return -2;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->fc_want_write = 1;
				return -2;
			}
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			snprintf(c->fc_err, sizeof(c->fc_err), "tls read: %s", tls_error());
			return -1;
		}
	} else {
		do
			n = read(c->fc_io.io_fd, p, room);
		while (n == -1 && errno == EINTR);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -2;
		if (n == -1) {
			snprintf(c->fc_err, sizeof(c->fc_err), "read: %s", strerror(errno));
			return -1;
		}
	}
	c->fc_rbuf.b_len += (size_t)n;
	c->fc_read_at = ev_now(c->fc_loop);
	return n;
}

/* Writes as much of the write buffer as the socket takes: 0, or -1 on error. */
static int
conn_write(struct fkc *c)
{
	while (buf_rlen(&c->fc_wbuf) > 0) {
		size_t len = buf_rlen(&c->fc_wbuf);
		ssize_t n;

		if (c->fc_ssl != NULL) {
			int r = SSL_write(c->fc_ssl, buf_rptr(&c->fc_wbuf),
			    (int)(len > INT32_MAX ? INT32_MAX : len));
			if (r <= 0) {
				int e = SSL_get_error(c->fc_ssl, r);
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					return 0;
				snprintf(c->fc_err, sizeof(c->fc_err), "tls write: %s",
				    tls_error());
				return -1;
			}
			n = r;
		} else {
			n = send(c->fc_io.io_fd, buf_rptr(&c->fc_wbuf), len, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (n == -1) {
				snprintf(c->fc_err, sizeof(c->fc_err), "write: %s",
				    strerror(errno));
				return -1;
			}
		}
		buf_consume(&c->fc_wbuf, (size_t)n);
	}
	return 0;
}

/* Arms EPOLLOUT only while there is something to write. */
static void
update_events(struct fkc *c)
{
	uint32_t ev = EPOLLIN;

	if (buf_rlen(&c->fc_wbuf) > 0 || c->fc_want_write)
		ev |= EPOLLOUT;
	if (ev_io_mod(c->fc_loop, &c->fc_io, ev) == -1)
		fail(c, FKC_CLOSE_ERROR, "epoll: %s", strerror(errno));
}

int
fkc_set_lowat(struct fkc *c, int bytes)
{
	if (c->fc_ssl != NULL || c->fc_state != FKC_READY || bytes < 1)
		return -1;
	if (bytes == c->fc_lowat)
		return 0;
	if (setsockopt(c->fc_io.io_fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes)) == -1)
		return -1;
	c->fc_lowat = bytes;
	return 0;
}

void
fkc_flush(struct fkc *c)
{
	if (c->fc_state < FKC_GREETING)
		return;
	/* Inside dispatch the read handler writes once for the whole batch. */
	if (c->fc_in_cb)
		return;
	if (conn_write(c) == -1) {
		fail_keep(c, FKC_CLOSE_ERROR);
		return;
	}
	update_events(c);
}

static void
send_hello(struct fkc *c, const struct fkp_reply *r)
{
	const struct fkc_params *p = c->fc_params;
	struct fkp_hello h = p->fp_hello;
	struct fkp_hi hi;
	char hash[65], err[160];

	if (r->r_type != FKP_R_SIMPLE ||
	    fkp_hi_parse(r->r_data, r->r_len, &hi, err, sizeof(err)) == -1) {
		fail(c, FKC_CLOSE_ERROR, "bad greeting (not a Faktory server?): %s",
		    r->r_type == FKP_R_SIMPLE ? err : "expected +HI");
		return;
	}
	h.h_pwdhash = NULL;
	if (hi.hi_has_salt) {
		if (p->fp_password == NULL || *p->fp_password == '\0') {
			fail(c, FKC_CLOSE_FATAL,
			    "the server requires a password and none is configured");
			return;
		}
		fkp_pwdhash(p->fp_password, hi.hi_salt, hi.hi_iter, hash);
		if (hash[0] == '\0') {
			/* OpenSSL could not hash (out of memory): not the password's fault. */
			fail(c, FKC_CLOSE_ERROR, "cannot compute the password hash");
			return;
		}
		h.h_pwdhash = hash;
	}
	if (fkp_enc_hello(&c->fc_wbuf, &h) == -1) {
		fail(c, FKC_CLOSE_ERROR, "cannot encode HELLO");
		return;
	}
	c->fc_state = FKC_HELLO;
}

static void
handshake_reply(struct fkc *c, const struct fkp_reply *r)
{
	if (c->fc_state == FKC_GREETING) {
		send_hello(c, r);
		return;
	}
	if (r->r_type == FKP_R_SIMPLE && r->r_len == 2 && memcmp(r->r_data, "OK", 2) == 0) {
		c->fc_state = FKC_READY;
		ev_timer_stop(c->fc_loop, &c->fc_timer);
		c->fc_ops->on_ready(c);
		return;
	}
	if (r->r_type == FKP_R_ERROR && r->r_msg_len >= 16 &&
	    strncasecmp(r->r_msg, "invalid password", 16) == 0) {
		fail(c, FKC_CLOSE_FATAL, "server refused the password: %.*s",
		    (int)r->r_len, r->r_data);
		return;
	}
	fail(c, FKC_CLOSE_ERROR, "HELLO refused: %.*s", (int)(r->r_len > 200 ? 200 : r->r_len),
	    r->r_data);
}

/* Errors that mean "this connection is done, come back later", not a job problem. */
static int
is_conn_error(const struct fkp_reply *r)
{
	static const char *const msgs[] = { "too many connections", "shutdown in progress" };

	if (r->r_type != FKP_R_ERROR)
		return 0;
	for (size_t i = 0; i < FKW_NELEM(msgs); i++)
		if (r->r_msg_len >= strlen(msgs[i]) &&
		    strncasecmp(r->r_msg, msgs[i], strlen(msgs[i])) == 0)
			return 1;
	return 0;
}

/* Drops what is left of an oversized reply; 1 while more is to come. */
static int
skip_some(struct fkc *c)
{
	size_t k = buf_rlen(&c->fc_rbuf);

	if (k > c->fc_skip)
		k = c->fc_skip;
	buf_consume(&c->fc_rbuf, k);
	c->fc_skip -= k;
	return c->fc_skip > 0;
}

/*
 * A bulk above max_bulk after the handshake: its first bytes to the owner,
 * the rest dropped as it arrives (the CRLF after it included, unchecked).
 * 1 when handled, 0 to wait for its first bytes, -1 if it is no such reply.
 */
static int
oversize(struct fkc *c)
{
	const char *p = buf_rptr(&c->fc_rbuf);
	size_t len = buf_rlen(&c->fc_rbuf), body, peek;
	struct fkp_reply r;
	ssize_t h;

	if (c->fc_state != FKC_READY)
		return -1;
	if ((h = fkp_bulk_oversize(p, len, c->fc_params->fp_max_bulk, &body)) <= 0)
		return (int)h;
	peek = body < FKC_PEEK ? body : FKC_PEEK;
	if (len - (size_t)h < peek)
		return 0;
	memset(&r, 0, sizeof(r));
	r.r_type = FKP_R_TOO_LARGE;
	r.r_data = p + h;
	r.r_len = peek;
	r.r_int = (long long)body;
	c->fc_ops->on_reply(c, &r);
	c->fc_skip = (size_t)h + body + 2;
	return 1;
}

static void
dispatch(struct fkc *c)
{
	struct fkp_reply r;
	char err[160];
	ssize_t n;
	int big;

	c->fc_in_cb = 1;
	while (!c->fc_closing && c->fc_state >= FKC_GREETING) {
		if (c->fc_skip > 0 && skip_some(c))
			break;
		n = fkp_reply_parse(buf_rptr(&c->fc_rbuf), buf_rlen(&c->fc_rbuf),
		    c->fc_params->fp_max_bulk, &r, err, sizeof(err));
		if (n == 0)
			break;
		if (n < 0 && (big = oversize(c)) >= 0) {
			if (big == 0)
				break;
			continue;
		}
		if (n < 0) {
			fail(c, FKC_CLOSE_ERROR, "protocol error: %s", err);
			break;
		}
		if (c->fc_state != FKC_READY)
			handshake_reply(c, &r);
		else if (is_conn_error(&r))
			fail(c, FKC_CLOSE_ERROR, "server: %.*s", (int)r.r_len, r.r_data);
		else
			c->fc_ops->on_reply(c, &r);
		buf_consume(&c->fc_rbuf, (size_t)n);
	}
	c->fc_in_cb = 0;
	if (c->fc_closing) {
		enum fkc_close kind = (enum fkc_close)(c->fc_closing - 1);
		teardown(c);
		if (kind != FKC_CLOSE_LOCAL)
			c->fc_ops->on_close(c, kind, c->fc_err);
		return;
	}
	if (buf_rlen(&c->fc_rbuf) == 0)
		buf_reset(&c->fc_rbuf);
	fkc_flush(c);
}

static void
start_tls(struct fkc *c)
{
	const struct fkc_params *p = c->fc_params;

	if ((c->fc_ssl = SSL_new(p->fp_tls)) == NULL ||
	    SSL_set_fd(c->fc_ssl, c->fc_io.io_fd) != 1 ||
	    SSL_set_tlsext_host_name(c->fc_ssl, p->fp_host) != 1 ||
	    SSL_set1_host(c->fc_ssl, p->fp_host) != 1) {
		fail(c, FKC_CLOSE_ERROR, "tls: %s", tls_error());
		return;
	}
	c->fc_state = FKC_TLS;
}

static void
tls_step(struct fkc *c)
{
	int r = SSL_connect(c->fc_ssl), e;

	if (r == 1) {
		c->fc_state = FKC_GREETING;
		update_events(c);
		return;
	}
	e = SSL_get_error(c->fc_ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (ev_io_mod(c->fc_loop, &c->fc_io,
		    e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT) == -1)
			fail(c, FKC_CLOSE_ERROR, "epoll: %s", strerror(errno));
		return;
	}
	fail(c, FKC_CLOSE_ERROR, "tls handshake: %s (verify: %s)", tls_error(),
	    X509_verify_cert_error_string(SSL_get_verify_result(c->fc_ssl)));
}

static void
on_connected(struct fkc *c)
{
	if (net_connect_result(c->fc_io.io_fd, c->fc_err, sizeof(c->fc_err)) == -1) {
		fail_keep(c, FKC_CLOSE_ERROR);
		return;
	}
	if (c->fc_params->fp_tls != NULL) {
		start_tls(c);
		if (c->fc_state == FKC_TLS)
			tls_step(c);
		return;
	}
	c->fc_state = FKC_GREETING;
	update_events(c);
}

static void
on_readable(struct fkc *c)
{
	ssize_t n = conn_read(c);

	if (n == -2)
		return;
	if (n == -1) {
		fail_keep(c, FKC_CLOSE_ERROR);
		return;
	}
	if (n == 0) {
		if (c->fc_state == FKC_HELLO)
			fail(c, FKC_CLOSE_ERROR, "server closed the connection after HELLO "
			    "(wrong password or HELLO rejected)");
		else
			fail(c, FKC_CLOSE_ERROR, "server closed the connection");
		return;
	}
	dispatch(c);
}

static void
fkc_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct fkc *c = io->io_arg;

	FKW_UNUSED(loop);
	switch (c->fc_state) {
	case FKC_CONNECTING:
		on_connected(c);
		return;
	case FKC_TLS:
		tls_step(c);
		return;
	case FKC_GREETING:
	case FKC_HELLO:
	case FKC_READY:
		break;
	case FKC_CLOSED:
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		c->fc_want_write = 0;
		on_readable(c);
		if (c->fc_state == FKC_CLOSED)
			return;
	}
	if (events & EPOLLOUT) {
		c->fc_want_write = 0;
		if (c->fc_ssl != NULL && SSL_pending(c->fc_ssl) > 0)
			on_readable(c);
		if (c->fc_state != FKC_CLOSED)
			fkc_flush(c);
	}
}

void
fkc_close(struct fkc *c, int send_end)
{
	if (c->fc_state == FKC_CLOSED)
		return;
	if (send_end && c->fc_state == FKC_READY) {
		/* Best effort: END has no reply and the server closes at once. */
		fkp_enc_simple(&c->fc_wbuf, "END");
		conn_write(c);
	}
	if (c->fc_in_cb) {
		c->fc_closing = FKC_CLOSE_LOCAL + 1;
		return;
	}
	teardown(c);
}

void
fkc_free(struct fkc *c)
{
	fkc_close(c, 0);
	buf_free(&c->fc_rbuf);
	buf_free(&c->fc_wbuf);
}
