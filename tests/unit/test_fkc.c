/* SPDX-License-Identifier: MIT */
/* Unit tests for common/fkc.c against a scripted in-process server on loopback. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fkc.h"
#include "util.h"
#include "unit_util.h"

/* ---- a scripted server in the same loop ---- */

enum srv_hello {
	SRV_OK,			/* +OK */
	SRV_BADPASS,		/* -ERR Invalid password, then close */
	SRV_CLOSE,		/* close without a word */
	SRV_OK_FULL,		/* +OK then -ERR too many connections */
	SRV_SILENT,		/* never greet */
};

struct srv {
	int		 sv_lfd;
	int		 sv_port;
	struct ev_io	 sv_lio;
	struct ev_io	 sv_cio;
	struct ev_timer	 sv_timer;
	int		 sv_greet_step;
	const char	*sv_greet[3];
	enum srv_hello	 sv_hello;
	int		 sv_handshaken;
	char		 sv_hello_line[1024];
	char		 sv_in[4096];
	size_t		 sv_inlen;
};

static struct srv srv;
static struct ev_loop *loop;

static void
srv_send(const char *s)
{
	ck_assert_int_eq(write(srv.sv_cio.io_fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void
srv_close(void)
{
	ev_io_del(loop, &srv.sv_cio);
	close(srv.sv_cio.io_fd);
	srv.sv_cio.io_fd = -1;
}

/* BIG: a job of SRV_BIG bytes, above the client's max_bulk in test_oversized_reply. */
#define SRV_BIG		20000
static void
srv_send_big(void)
{
	static char big[SRV_BIG + 16];
	static const char head[] = "{\"jid\":\"big-one\",\"args\":[\"";
	int h = snprintf(big, sizeof(big), "$%d\r\n", SRV_BIG);
	char *body = big + h;

	memset(body, 'x', SRV_BIG);
	memcpy(body, head, sizeof(head) - 1);
	memcpy(body + SRV_BIG - 3, "\"]}\r\n", 5);
	ck_assert_int_eq(write(srv.sv_cio.io_fd, big, (size_t)h + SRV_BIG + 2),
	    h + SRV_BIG + 2);
}

static void
srv_line(const char *line)
{
	char out[256];

	if (!srv.sv_handshaken) {
		snprintf(srv.sv_hello_line, sizeof(srv.sv_hello_line), "%.1000s", line);
		srv.sv_handshaken = 1;
		switch (srv.sv_hello) {
		case SRV_OK: srv_send("+OK\r\n"); break;
		case SRV_OK_FULL: srv_send("+OK\r\n-ERR too many connections: 2000\r\n"); break;
		case SRV_BADPASS: srv_send("-ERR Invalid password\r\n"); srv_close(); break;
		case SRV_CLOSE: srv_close(); break;
		case SRV_SILENT: break;
		}
		return;
	}
	if (strcmp(line, "BIG") == 0) {
		srv_send_big();
		return;
	}
	/* Echo each command back as a simple string so order is visible. */
	snprintf(out, sizeof(out), "+%.200s\r\n", line);
	srv_send(out);
}

static void
srv_read(struct ev_loop *l, struct ev_io *io, uint32_t ev)
{
	ssize_t n;
	char *nl;

	(void)l; (void)ev;
	n = read(io->io_fd, srv.sv_in + srv.sv_inlen, sizeof(srv.sv_in) - srv.sv_inlen - 1);
	if (n <= 0) {
		srv_close();
		return;
	}
	srv.sv_inlen += (size_t)n;
	srv.sv_in[srv.sv_inlen] = '\0';
	while ((nl = strstr(srv.sv_in, "\r\n")) != NULL && srv.sv_cio.io_fd >= 0) {
		*nl = '\0';
		srv_line(srv.sv_in);
		size_t used = (size_t)(nl + 2 - srv.sv_in);
		memmove(srv.sv_in, nl + 2, srv.sv_inlen - used + 1);
		srv.sv_inlen -= used;
	}
}

/* The real server writes its greeting in pieces; so do we, 10 ms apart. */
static void
srv_greet(struct ev_loop *l, struct ev_timer *t)
{
	if (srv.sv_cio.io_fd < 0 || srv.sv_greet_step >= 3 ||
	    srv.sv_greet[srv.sv_greet_step] == NULL)
		return;
	srv_send(srv.sv_greet[srv.sv_greet_step++]);
	ev_timer_start(l, t, 10);
}

static void
srv_accept(struct ev_loop *l, struct ev_io *io, uint32_t ev)
{
	int fd = accept(io->io_fd, NULL, NULL);

	(void)ev;
	ck_assert_int_ge(fd, 0);
	ev_io_init(&srv.sv_cio, fd, srv_read, NULL);
	ev_io_add(l, &srv.sv_cio, EPOLLIN);
	if (srv.sv_hello != SRV_SILENT)
		ev_timer_start(l, &srv.sv_timer, 0);
}

static void
srv_start(enum srv_hello h, const char *g0, const char *g1, const char *g2)
{
	char err[128];

	memset(&srv, 0, sizeof(srv));
	srv.sv_hello = h;
	srv.sv_greet[0] = g0;
	srv.sv_greet[1] = g1;
	srv.sv_greet[2] = g2;
	srv.sv_cio.io_fd = -1;
	srv.sv_lfd = net_listen_tcp("127.0.0.1", "0", 16, err, sizeof(err));
	ck_assert_int_ge(srv.sv_lfd, 0);
	srv.sv_port = net_local_port(srv.sv_lfd);
	ev_io_init(&srv.sv_lio, srv.sv_lfd, srv_accept, NULL);
	ev_io_add(loop, &srv.sv_lio, EPOLLIN);
	ev_timer_init(&srv.sv_timer, srv_greet, NULL);
}

static void
srv_stop(void)
{
	if (srv.sv_cio.io_fd >= 0)
		srv_close();
	ev_timer_stop(loop, &srv.sv_timer);
	ev_io_del(loop, &srv.sv_lio);
	close(srv.sv_lfd);
}

/* ---- the client under test ---- */

static int ready, closed;
static enum fkc_close close_kind;
static char close_msg[256];
static char replies[16][64];
static int nreplies;

static void
on_ready(struct fkc *c)
{
	(void)c;
	ready++;
}

static size_t big_len;
static long long big_total;

static void
on_reply(struct fkc *c, const struct fkp_reply *r)
{
	(void)c;
	if (r->r_type == FKP_R_TOO_LARGE) {
		big_len = r->r_len;
		big_total = r->r_int;
	}
	if (nreplies < 16)
		snprintf(replies[nreplies++], 64, "%c%.*s",
		    r->r_type == FKP_R_ERROR ? '-' : r->r_type == FKP_R_TOO_LARGE ? '!' : '+',
		    (int)(r->r_len < 40 ? r->r_len : 40), r->r_data);
}

static void
on_close(struct fkc *c, enum fkc_close k, const char *why)
{
	(void)c;
	closed++;
	close_kind = k;
	snprintf(close_msg, sizeof(close_msg), "%s", why);
}

static const struct fkc_ops ops = { on_ready, on_reply, on_close };
static struct fkc_params params;
static struct fkc conn;

static void
client_setup_port(const char *password, int timeout_ms, int srvport)
{
	char err[128], port[16];
	static const char *labels[] = { "c" };

	ready = closed = nreplies = 0;
	big_len = 0;
	big_total = 0;
	memset(&params, 0, sizeof(params));
	snprintf(port, sizeof(port), "%d", srvport);
	ck_assert_int_eq(net_resolve("127.0.0.1", port, &params.fp_addr, err, sizeof(err)), 0);
	params.fp_host = "127.0.0.1";
	params.fp_password = password;
	params.fp_timeout_ms = timeout_ms;
	params.fp_max_bulk = 1 << 20;
	params.fp_hello.h_hostname = "h1";
	params.fp_hello.h_wid = "w1";
	params.fp_hello.h_pid = 77;
	params.fp_hello.h_labels = labels;
	params.fp_hello.h_nlabels = 1;
	fkc_init(&conn, loop, &params, &ops, NULL);
	fkc_connect(&conn);
}

static void
client_setup(const char *password, int timeout_ms)
{
	client_setup_port(password, timeout_ms, srv.sv_port);
}

/* Runs the loop until cond or about 3 s pass. */
#define RUN_UNTIL(cond) do {						\
	for (int i_ = 0; i_ < 300 && !(cond); i_++)			\
		ev_run_once(loop, 10);					\
} while (0)

static void
setup(void)
{
	loop = ev_loop_new();
}

static void
teardown(void)
{
	fkc_free(&conn);
	srv_stop();
	ev_loop_free(loop);
}

START_TEST(test_handshake_split_greeting)
{
	srv_start(SRV_OK, "+HI {\"v\":2", "}", "\r\n");
	client_setup(NULL, 2000);
	RUN_UNTIL(ready);
	ck_assert_int_eq(ready, 1);
	ck_assert_int_eq(closed, 0);
	ck_assert(fkc_is_ready(&conn));
	ck_assert_ptr_nonnull(strstr(srv.sv_hello_line, "HELLO {"));
	ck_assert_ptr_nonnull(strstr(srv.sv_hello_line, "\"wid\":\"w1\""));
	ck_assert_ptr_nonnull(strstr(srv.sv_hello_line, "\"v\":2"));
	ck_assert_ptr_null(strstr(srv.sv_hello_line, "pwdhash"));
}
END_TEST

START_TEST(test_password_hash_sent)
{
	srv_start(SRV_OK, "+HI {\"v\":2,\"i\":4321,", "\"s\":\"5f3a1c9e27b4d680\"}", "\r\n");
	client_setup("s3cret", 2000);
	RUN_UNTIL(ready);
	ck_assert_int_eq(ready, 1);
	ck_assert_ptr_nonnull(strstr(srv.sv_hello_line,
	    "\"pwdhash\":\"004d32a23c5ec6eafd0ffeedba67746f2a0d31d9df6117d3cc3ef847e6df46bc\""));
}
END_TEST

/*
 * Connections the client gives up on: the server greets with cc_greet (NULL:
 * never) and answers HELLO as cc_hello says; the connection closes once, ready
 * cc_ready times before, with no reply, of cc_kind, the message naming cc_why.
 */
static const struct {
	const char	*cc_name;
	enum srv_hello	 cc_hello;
	const char	*cc_greet;
	const char	*cc_password;
	int		 cc_timeout_ms;
	int		 cc_ready;
	enum fkc_close	 cc_kind;
	const char	*cc_why;
} closes[] = {
	{ "wrong password is fatal", SRV_BADPASS, "+HI {\"v\":2,\"i\":2,\"s\":\"ab\"}\r\n",
	    "nope", 2000, 0, FKC_CLOSE_FATAL, "Invalid password" },
	{ "password required but none", SRV_OK, "+HI {\"v\":2,\"i\":2,\"s\":\"ab\"}\r\n",
	    NULL, 2000, 0, FKC_CLOSE_FATAL, "password" },
	{ "EOF after HELLO", SRV_CLOSE, "+HI {\"v\":2}\r\n", NULL, 2000, 0, FKC_CLOSE_ERROR,
	    "after HELLO" },
	{ "handshake timeout", SRV_SILENT, NULL, NULL, 150, 0, FKC_CLOSE_ERROR, "150 ms" },
	{ "not Faktory", SRV_OK, "-ERR go away\r\n", NULL, 2000, 0, FKC_CLOSE_ERROR, "greeting" },
	/* HELLO accepted, then the server's connection limit */
	{ "too many connections", SRV_OK_FULL, "+HI {\"v\":2}\r\n", NULL, 2000, 1,
	    FKC_CLOSE_ERROR, "too many connections" },
};

START_TEST(test_handshake_closes)
{
	srv_start(closes[_i].cc_hello, closes[_i].cc_greet, NULL, NULL);
	client_setup(closes[_i].cc_password, closes[_i].cc_timeout_ms);
	RUN_UNTIL(closed);
	ck_assert_msg(closed == 1, "%s: closed %d times", closes[_i].cc_name, closed);
	ck_assert_msg(ready == closes[_i].cc_ready, "%s: ready %d times", closes[_i].cc_name, ready);
	ck_assert_msg(nreplies == 0, "%s: %d replies", closes[_i].cc_name, nreplies);
	ck_assert_msg(close_kind == closes[_i].cc_kind, "%s: close kind %d", closes[_i].cc_name,
	    (int)close_kind);
	ck_assert_msg(strstr(close_msg, closes[_i].cc_why) != NULL, "%s: close message: %s",
	    closes[_i].cc_name, close_msg);
}
END_TEST

START_TEST(test_pipelined_replies_in_order)
{
	srv_start(SRV_OK, "+HI {\"v\":2}\r\n", NULL, NULL);
	client_setup(NULL, 2000);
	RUN_UNTIL(ready);
	buf_puts(fkc_wbuf(&conn), "A\r\nB\r\nC\r\n");
	fkc_flush(&conn);
	RUN_UNTIL(nreplies == 3);
	ck_assert_int_eq(nreplies, 3);
	ck_assert_str_eq(replies[0], "+A");
	ck_assert_str_eq(replies[1], "+B");
	ck_assert_str_eq(replies[2], "+C");
}
END_TEST

/* A reply above max_bulk: its first bytes to the owner, the rest dropped, the connection kept. */
START_TEST(test_oversized_reply)
{
	srv_start(SRV_OK, "+HI {\"v\":2}\r\n", NULL, NULL);
	client_setup(NULL, 2000);
	params.fp_max_bulk = SRV_BIG / 2;
	RUN_UNTIL(ready);
	buf_puts(fkc_wbuf(&conn), "A\r\nBIG\r\nB\r\n");
	fkc_flush(&conn);
	RUN_UNTIL(nreplies == 3 || closed);
	ck_assert_msg(closed == 0, "closed: %s", close_msg);
	ck_assert_int_eq(nreplies, 3);
	ck_assert_str_eq(replies[0], "+A");
	ck_assert_str_eq(replies[1], "!{\"jid\":\"big-one\",\"args\":[\"xxxxxxxxxxxxxx");
	ck_assert_uint_eq(big_len, FKC_PEEK);
	ck_assert_int_eq(big_total, SRV_BIG);
	ck_assert_str_eq(replies[2], "+B");
	ck_assert_int_eq(fkc_is_ready(&conn), 1);
}
END_TEST

START_TEST(test_connection_refused)
{
	char err[128];
	int fd, port;

	srv_start(SRV_OK, NULL, NULL, NULL);
	/* A port that was just free and is closed again refuses connections. */
	fd = net_listen_tcp("127.0.0.1", "0", 1, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	port = net_local_port(fd);
	close(fd);
	client_setup_port(NULL, 2000, port);
	RUN_UNTIL(closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_int_eq(close_kind, FKC_CLOSE_ERROR);
	ck_assert_msg(strstr(close_msg, "refused") != NULL, "close message: %s", close_msg);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_handshake_split_greeting, test_password_hash_sent,
		test_pipelined_replies_in_order, test_oversized_reply, test_connection_refused,
		NULL,
	};
	Suite *s = suite_create("fkc");
	TCase *tc = unit_tcase(s, "conn", setup, teardown, 0, tests);

	tcase_add_loop_test(tc, test_handshake_closes, 0, (int)FKW_NELEM(closes));
	return unit_run(s);
}
