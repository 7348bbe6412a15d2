/* SPDX-License-Identifier: MIT */
/*
 * fkloadgen: drives a Faktory server with FETCH+ACK pairs as fast as it
 * answers them. Each connection keeps a window of FETCHes in flight; every
 * job that comes back is ACKed and replaced by a new FETCH in the same write.
 * It measures the server, not a worker: jobs are not run.
 *
 *   fkloadgen -u URL [-c CONNS] [-w WINDOW] [-n PAIRS] [-t SECONDS] [-q QUEUE]
 *
 * Prints "loadgen: N FETCH+ACK pairs in S s: R pairs/s" and exits 0 when N
 * pairs were acknowledged, 1 on a timeout or an error reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "fkp.h"
#include "net.h"
#include "util.h"

enum pending { P_FETCH, P_ACK };

struct lconn {
	struct ev_io	 l_io;
	int		 l_fd;
	int		 l_ready;	/* past HELLO */
	struct buf	 l_in;
	struct buf	 l_out;
	unsigned char	*l_q;		/* what each outstanding reply answers */
	size_t		 l_qhead;
	size_t		 l_qlen;
	size_t		 l_qcap;
};

struct lg {
	struct ev_loop	*g_loop;
	struct lconn	*g_conns;
	int		 g_nconns;
	int		 g_window;
	long long	 g_target;
	long long	 g_acked;
	long long	 g_fetched;
	long long	 g_nulls;
	long long	 g_outf;		/* FETCHes sent and not yet answered */
	const char	*g_queue;
	uint64_t	 g_t0;
	uint64_t	 g_t1;
	int		 g_failed;
};

static struct lg g;

static void
die(const char *msg)
{
	fprintf(stderr, "fkloadgen: %s\n", msg);
	exit(2);
}

static void
expect(struct lconn *c, enum pending p)
{
	if (c->l_qlen == c->l_qcap) {
		size_t cap = c->l_qcap ? c->l_qcap * 2 : 64;
		unsigned char *q = malloc(cap);
		if (q == NULL)
			die("out of memory");
		for (size_t i = 0; i < c->l_qlen; i++)
			q[i] = c->l_q[(c->l_qhead + i) % c->l_qcap];
		free(c->l_q);
		c->l_q = q;
		c->l_qcap = cap;
		c->l_qhead = 0;
	}
	c->l_q[(c->l_qhead + c->l_qlen++) % c->l_qcap] = (unsigned char)p;
}

static void
send_fetch(struct lconn *c)
{
	/* Never ask for more jobs than are left to do. */
	if (g.g_fetched + g.g_outf >= g.g_target)
		return;
	g.g_outf++;
	buf_printf(&c->l_out, "FETCH %s\r\n", g.g_queue);
	expect(c, P_FETCH);
}

static void
flush_out(struct lconn *c)
{
	while (buf_rlen(&c->l_out) > 0) {
		ssize_t n = write(c->l_fd, buf_rptr(&c->l_out), buf_rlen(&c->l_out));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_io_mod(g.g_loop, &c->l_io, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n <= 0)
			die("write failed");
		buf_consume(&c->l_out, (size_t)n);
	}
	ev_io_mod(g.g_loop, &c->l_io, EPOLLIN);
}

/* The jid of a job reply, found without a JSON parser (the server writes it plainly). */
static int
job_jid(const struct fkp_reply *r, const char **jid, size_t *len)
{
	const char *p = memmem(r->r_data, r->r_len, "\"jid\":\"", 7), *e;

	if (p == NULL)
		return -1;
	p += 7;
	if ((e = memchr(p, '"', r->r_len - (size_t)(p - r->r_data))) == NULL)
		return -1;
	*jid = p;
	*len = (size_t)(e - p);
	return 0;
}

static void
on_reply(struct lconn *c, const struct fkp_reply *r)
{
	enum pending p;
	const char *jid;
	size_t len;

	if (!c->l_ready) {
		c->l_ready = 1;
		if (g.g_t0 == 0)
			g.g_t0 = now_us();
		for (int i = 0; i < g.g_window; i++)
			send_fetch(c);
		return;
	}
	if (c->l_qlen == 0)
		die("a reply nobody asked for");
	p = (enum pending)c->l_q[c->l_qhead];
	c->l_qhead = (c->l_qhead + 1) % c->l_qcap;
	c->l_qlen--;
	if (r->r_type == FKP_R_ERROR) {
		fprintf(stderr, "fkloadgen: -%.*s\n", (int)r->r_len, r->r_data);
		g.g_failed = 1;
		ev_stop(g.g_loop);
		return;
	}
	if (p == P_FETCH)
		g.g_outf--;
	if (p == P_ACK) {
		if (++g.g_acked == g.g_target) {
			g.g_t1 = now_us();
			ev_stop(g.g_loop);
		}
		return;
	}
	if (r->r_type == FKP_R_NULL) {
		g.g_nulls++;
		send_fetch(c);	/* the queue ran dry for a moment: ask again */
		return;
	}
	if (job_jid(r, &jid, &len) == -1)
		die("a job without a jid");
	g.g_fetched++;
	/* The ACK and the next FETCH in one write. */
	fkp_enc_ack(&c->l_out, jid, len);
	expect(c, P_ACK);
	send_fetch(c);
}

static void
on_io(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct lconn *c = io->io_arg;
	struct fkp_reply r;
	char err[128];
	ssize_t n;

	FKW_UNUSED(l);
	if (events & EPOLLOUT)
		flush_out(c);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (buf_reserve(&c->l_in, 256 << 10) == -1)
		die("out of memory");
	n = read(c->l_fd, c->l_in.b_data + c->l_in.b_len, c->l_in.b_cap - c->l_in.b_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		die("the server closed a connection");
	c->l_in.b_len += (size_t)n;
	while ((n = fkp_reply_parse(buf_rptr(&c->l_in), buf_rlen(&c->l_in), 64u << 20, &r,
	    err, sizeof(err))) > 0) {
		/* The greeting +HI is answered with HELLO here. */
		if (!c->l_ready && r.r_type == FKP_R_SIMPLE && r.r_len > 3 &&
		    memcmp(r.r_data, "HI ", 3) == 0) {
			buf_printf(&c->l_out, "HELLO {\"hostname\":\"loadgen\",\"wid\":\"loadgen-%d\","
			    "\"pid\":%d,\"labels\":[\"fkloadgen\"],\"v\":2}\r\n", (int)getpid(),
			    (int)getpid());
		} else {
			on_reply(c, &r);
		}
		buf_consume(&c->l_in, (size_t)n);
		if (g.g_failed || g.g_t1 != 0)
			return;
	}
	if (n < 0)
		die(err);
	flush_out(c);
}

static void
on_timeout(struct ev_loop *l, struct ev_timer *t)
{
	FKW_UNUSED(t);
	g.g_failed = 1;
	ev_stop(l);
}

int
main(int argc, char **argv)
{
	const char *url = "tcp://127.0.0.1:7419", *errstr;
	struct fkp_url u;
	struct net_addr na;
	struct ev_timer tm;
	long long secs = 60, v;
	char err[256];
	int ch;

	g.g_nconns = 64;
	g.g_window = 32;
	g.g_target = 100000;
	g.g_queue = "default";
	while ((ch = getopt(argc, argv, "u:c:w:n:t:q:")) != -1) {
		if (ch == 'u' || ch == 'q') {
			*(ch == 'u' ? &url : &g.g_queue) = optarg;
			continue;
		}
		if (strchr("cwnt", ch) == NULL || parse_ll(optarg, 1, 1LL << 40, &v, &errstr) == -1) {
			fprintf(stderr, "usage: fkloadgen -u URL [-c CONNS] [-w WINDOW] [-n PAIRS] "
			    "[-t SECONDS] [-q QUEUE]\n");
			return 64;
		}
		if (ch == 'c')
			g.g_nconns = (int)v;
		else if (ch == 'w')
			g.g_window = (int)v;
		else if (ch == 'n')
			g.g_target = v;
		else
			secs = v;
	}
	if (fkp_url_parse(url, &u, err, sizeof(err)) == -1 ||
	    net_resolve(u.u_host, u.u_port, &na, err, sizeof(err)) == -1)
		die(err);
	if ((g.g_loop = ev_loop_new()) == NULL || (g.g_conns = calloc((size_t)g.g_nconns,
	    sizeof(*g.g_conns))) == NULL)
		die("out of memory");
	for (int i = 0; i < g.g_nconns; i++) {
		struct lconn *c = &g.g_conns[i];
		if ((c->l_fd = net_connect_timeout(&na, 2000, err, sizeof(err))) == -1)
			die(err);
		net_set_nonblock(c->l_fd, 1);
		buf_init(&c->l_in);
		buf_init(&c->l_out);
		ev_io_init(&c->l_io, c->l_fd, on_io, c);
		if (ev_io_add(g.g_loop, &c->l_io, EPOLLIN) == -1)
			die("epoll");
	}
	ev_timer_init(&tm, on_timeout, NULL);
	ev_timer_start(g.g_loop, &tm, (uint64_t)secs * 1000);
	ev_run(g.g_loop);
	if (g.g_t1 == 0)
		g.g_t1 = now_us();
	double s = (double)(g.g_t1 - g.g_t0) / 1e6;
	printf("loadgen: %lld FETCH+ACK pairs in %.3f s: %.0f pairs/s (%d connections, window %d, "
	    "%lld empty FETCHes)\n", g.g_acked, s, s > 0 ? (double)g.g_acked / s : 0,
	    g.g_nconns, g.g_window, g.g_nulls);
	for (int i = 0; i < g.g_nconns; i++) {
		close(g.g_conns[i].l_fd);
		buf_free(&g.g_conns[i].l_in);
		buf_free(&g.g_conns[i].l_out);
		free(g.g_conns[i].l_q);
	}
	free(g.g_conns);
	ev_loop_free(g.g_loop);
	return g.g_failed || g.g_acked < g.g_target ? 1 : 0;
}
