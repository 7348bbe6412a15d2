/* SPDX-License-Identifier: MIT */
/*
 * brk_conn: client connections. Each one is a small state machine:
 *
 *   HANDSHAKE (+HI sent, 2 s to say HELLO) -> READY <-> BLOCKED (in FETCH) -> DEAD
 *
 * Commands of one read are answered in order into one output buffer that is
 * written once per batch (pipelined clients cost one read and one write).
 * A blocked FETCH holds back the commands behind it, as the real server's
 * one-line-at-a-time loop does; so does a command's service time
 * (--service-us), which makes it one command per wakeup. With a CPU cost
 * (--cost-us) each connection runs one command per turn of the loop and
 * its reply is written before the next one runs, so that pipelined replies
 * trickle out one at a time, interleaved with other connections' commands,
 * as from a server whose CPU sets the pace. When the client
 * closes, the lines it had sent still run, as on the real server; only when
 * none is left does the connection close. Closed connections wait in a
 * graveyard until the next kick pass is over, so no callback ever sees a
 * freed one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "brk.h"
#include "log.h"
#include "net.h"

#define HANDSHAKE_MS	2000
#define READ_CHUNK	(64u << 10)
#define READ_BUDGET	(1u << 20)	/* per wakeup, so one client cannot starve the rest */
#define GARBAGE		"\x01\xfegarbage\x7f\r\n"

static void conn_io(struct ev_loop *, struct ev_io *, uint32_t);
static void conn_timer(struct ev_loop *, struct ev_timer *);
static int line_waiting(struct bconn *);

/* ---- output ---- */

static void
out_append(struct bconn *c, const char *s, size_t n)
{
	if (c->c_state == BC_DEAD)
		return;
	/* Nobody can read them: the bytes only move the positions brk_resv.c uses. */
	if (!c->c_wfail && buf_append(&c->c_out, s, n) == -1) {
		log_warnx("connection %llu: out of memory for replies", (unsigned long long)c->c_id);
		conn_kill(c);
		return;
	}
	c->c_out_total += n;
}

static void
reply(struct bconn *c, const char *s, size_t n)
{
	/* Faults are for worker connections; tools and admin verbs get clean replies. */
	if (c->c_worker != NULL && !c->c_nofault && fault_garbage(c->c_brk)) {
		if (c->c_garbage_at == UINT64_MAX)
			c->c_garbage_at = c->c_out_total;
		out_append(c, GARBAGE, sizeof(GARBAGE) - 1);
		return;
	}
	out_append(c, s, n);
}

void
reply_ok(struct bconn *c)
{
	reply(c, "+OK\r\n", 5);
}

void
reply_null(struct bconn *c)
{
	reply(c, "$-1\r\n", 5);
}

void
reply_wire(struct bconn *c, const char *s, size_t n)
{
	reply(c, s, n);
}

void
reply_bulk(struct bconn *c, const char *s, size_t n)
{
	char head[32];
	int hl = snprintf(head, sizeof(head), "$%zu\r\n", n);
	struct buf t;

	buf_init(&t);
	if (buf_append(&t, head, (size_t)hl) == 0 && buf_append(&t, s, n) == 0 &&
	    buf_append(&t, "\r\n", 2) == 0)
		reply(c, t.b_data, t.b_len);
	else
		conn_kill(c);
	buf_free(&t);
}

void
reply_err_raw(struct bconn *c, const char *prefix, const char *s, size_t n)
{
	struct buf t;

	buf_init(&t);
	if (buf_puts(&t, "-ERR ") == 0 && buf_puts(&t, prefix) == 0 &&
	    buf_append(&t, s != NULL ? s : "", s != NULL ? n : 0) == 0 &&
	    buf_append(&t, "\r\n", 2) == 0)
		reply(c, t.b_data, t.b_len);
	else
		conn_kill(c);
	buf_free(&t);
}

void
reply_err(struct bconn *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	reply_err_raw(c, "", msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/*
 * What epoll reports for c: input until EOF, output while some waits. A
 * closed peer makes epoll report HUP even for no events, so a connection
 * still running what its client sent leaves epoll while it has nothing to
 * write.
 */
static void
watch(struct bconn *c, int out)
{
	struct ev_loop *l = c->c_brk->b_loop;
	uint32_t ev = (c->c_eof ? 0 : EPOLLIN) | (out ? EPOLLOUT : 0);

	if (ev == 0) {
		if (c->c_watched)
			ev_io_del(l, &c->c_io);
		c->c_watched = 0;
	} else if (!c->c_watched) {
		c->c_watched = ev_io_add(l, &c->c_io, ev) == 0;
	} else {
		ev_io_mod(l, &c->c_io, ev);
	}
}

/*
 * The client is gone (EPIPE, ECONNRESET). Unless the broker is closing, the
 * lines it sent still run: their replies are dropped from now on.
 */
static void
write_failed(struct bconn *c)
{
	log_debug("connection %llu: write: %s", (unsigned long long)c->c_id, strerror(errno));
	if (c->c_closing) {
		conn_kill(c);
		return;
	}
	c->c_wfail = 1;
	buf_reset(&c->c_out);
}

void
conn_flush(struct bconn *c)
{
	uint64_t lim = c->c_closing ? c->c_out_total : c->c_release;
	size_t want;
	ssize_t n;

	if (c->c_state == BC_DEAD)
		return;
	/* lim can lag behind after XFAULT turned latency on: nothing held back is due. */
	want = !c->c_wfail && lim > c->c_out_sent ? (size_t)(lim - c->c_out_sent) : 0;
	if (want > buf_rlen(&c->c_out))
		want = buf_rlen(&c->c_out);
	while (want > 0) {
		n = write(c->c_fd, buf_rptr(&c->c_out), want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			write_failed(c);
			if (c->c_state == BC_DEAD)
				return;
			want = 0;
			break;
		}
		buf_consume(&c->c_out, (size_t)n);
		c->c_out_sent += (uint64_t)n;
		want -= (size_t)n;
	}
	watch(c, want > 0);
	if (c->c_closing && (c->c_wfail || c->c_out_sent == c->c_out_total))
		conn_kill(c);
}

/* Moves what the connection made along: past its service time, then latency. */
static void
release(struct bconn *c)
{
	if (!c->c_svc)
		c->c_served = c->c_out_total;
	if (c->c_closing)
		return;		/* conn_flush writes everything */
	if (c->c_brk->b_latency_us > 0)
		fault_delay(c);
	else if (c->c_delayed == 0)
		c->c_release = c->c_served;
}

/* ---- lifecycle ---- */

/*
 * The runnable list runs on the loop's next pass, as an fd event among the
 * others: a 0 ms ev timer is armed from the clock rounded up to the next
 * millisecond and compared with the loop's cached time, so it fired up to
 * a millisecond late, and a whole --cost-us burn late after one.
 */
static void
kick_arm(struct brk *b)
{
	uint64_t one = 1;

	if (b->b_kicked || b->b_kickfd < 0)
		return;
	if (write(b->b_kickfd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("eventfd");
	b->b_kicked = 1;
}

void
conn_wake(struct bconn *c)
{
	struct brk *b = c->c_brk;

	if (c->c_runnable || c->c_state == BC_DEAD)
		return;
	c->c_runnable = 1;
	c->c_rnext = NULL;
	if (b->b_runnable_tail != NULL)
		b->b_runnable_tail->c_rnext = c;
	else
		b->b_runnable = c;
	b->b_runnable_tail = c;
	kick_arm(b);
}

static void
unblock(struct bconn *c)
{
	struct brk *b = c->c_brk;

	for (size_t i = 0; i < c->c_nwaits; i++) {
		struct bwait *w = &c->c_waits[i];
		struct bqueue *q = w->w_queue;
		if (w->w_prev != NULL)
			w->w_prev->w_next = w->w_next;
		else
			q->q_whead = w->w_next;
		if (w->w_next != NULL)
			w->w_next->w_prev = w->w_prev;
		else
			q->q_wtail = w->w_prev;
	}
	/* Queues made only to wait on are forgotten again (checked after unlinking all). */
	for (size_t i = 0; i < c->c_nwaits; i++) {
		struct bqueue *q = c->c_waits[i].w_queue;
		size_t k;
		for (k = 0; k < i && c->c_waits[k].w_queue != q; k++)
			;
		if (k == i)
			store_queue_gc(b, q);
	}
	c->c_nwaits = 0;
	ev_timer_stop(b->b_loop, &c->c_timer);
	if (c->c_state == BC_BLOCKED)
		c->c_state = BC_READY;
}

void
conn_kill(struct bconn *c)
{
	struct brk *b = c->c_brk;

	if (c->c_state == BC_DEAD)
		return;
	unblock(c);
	worker_detach(b, c);
	fault_forget(c);
	ev_timer_stop(b->b_loop, &c->c_timer);
	if (c->c_watched)
		ev_io_del(b->b_loop, &c->c_io);
	c->c_watched = 0;
	resv_close(c);		/* before close(): it asks the socket what was acknowledged */
	close(c->c_fd);
	c->c_fd = -1;
	c->c_state = BC_DEAD;
	b->b_nconns--;
	if (c->c_ready_counted)
		b->b_nready--;
	if (c->c_prev != NULL)
		c->c_prev->c_next = c->c_next;
	else
		b->b_conns = c->c_next;
	if (c->c_next != NULL)
		c->c_next->c_prev = c->c_prev;
	c->c_gnext = b->b_grave;
	b->b_grave = c;
	kick_arm(b);
}

static void
conn_free(struct bconn *c)
{
	buf_free(&c->c_in);
	buf_free(&c->c_out);
	free(c->c_waits);
	free(c);
}

void
conn_close_after_flush(struct bconn *c)
{
	if (c->c_state == BC_DEAD)
		return;
	unblock(c);
	c->c_closing = 1;
	conn_flush(c);
}

static void
greet(struct bconn *c)
{
	char hi[96];
	uint64_t r = 0;
	int n;

	if (c->c_brk->b_opt.o_password == NULL) {
		out_append(c, "+HI {\"v\":2}\r\n", 13);
		return;
	}
	/* As the server: i in 4000..8095, s the hex of a random 63-bit number. */
	if (fkw_random(&r, sizeof(r)) == -1)
		r = now_us() * 0x9e3779b97f4a7c15ULL;
	r &= 0x7fffffffffffffffULL;
	c->c_iter = 4000 + (long)fkw_rand_below(4096);
	snprintf(c->c_salt, sizeof(c->c_salt), "%llx", (unsigned long long)r);
	n = snprintf(hi, sizeof(hi), "+HI {\"v\":2,\"i\":%ld,\"s\":\"%s\"}\r\n", c->c_iter,
	    c->c_salt);
	out_append(c, hi, (size_t)n);
}

/* The greeting is not a reply: --latency-us does not hold it back. */
static void
greet_now(struct bconn *c)
{
	greet(c);
	c->c_served = c->c_release = c->c_out_total;
	conn_flush(c);
}

static void
on_accept(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct brk *b = io->io_arg;
	struct bconn *c;
	int fd;

	FKW_UNUSED(l);
	FKW_UNUSED(events);
	while ((fd = accept4(b->b_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (fault_refusing(b) || b->b_stopping) {
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		net_set_nodelay(fd);
		c->c_brk = b;
		c->c_fd = fd;
		c->c_id = ++b->b_conn_ids;
		c->c_garbage_at = UINT64_MAX;
		buf_init(&c->c_in);
		buf_init(&c->c_out);
		ev_io_init(&c->c_io, fd, conn_io, c);
		ev_timer_init(&c->c_timer, conn_timer, c);
		if (ev_io_add(b->b_loop, &c->c_io, EPOLLIN) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->c_watched = 1;
		c->c_next = b->b_conns;
		if (b->b_conns != NULL)
			b->b_conns->c_prev = c;
		b->b_conns = c;
		b->b_nconns++;
		ev_timer_start(b->b_loop, &c->c_timer, HANDSHAKE_MS);
		greet_now(c);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_warn("accept");
}

int
conn_listen(struct brk *b, const char *host, const char *port, char *err, size_t errlen)
{
	if ((b->b_lfd = net_listen_tcp(host, port, 1024, err, errlen)) == -1)
		return -1;
	ev_io_init(&b->b_lio, b->b_lfd, on_accept, b);
	if (ev_io_add(b->b_loop, &b->b_lio, EPOLLIN) == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- input ---- */

/* The next complete line (without LF, CR stripped) or 0 with *len unset. */
static int
next_line(struct bconn *c, const char **line, size_t *len, size_t *used)
{
	const char *p = buf_rptr(&c->c_in), *nl;
	size_t avail = buf_rlen(&c->c_in);

	if (c->c_scan >= avail)
		return 0;
	nl = memchr(p + c->c_scan, '\n', avail - c->c_scan);
	if (nl == NULL) {
		c->c_scan = avail;
		return 0;
	}
	*used = (size_t)(nl - p) + 1;
	*len = (size_t)(nl - p);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	*line = p;
	c->c_scan = 0;
	return 1;
}

static void
handshake(struct bconn *c, const char *line, size_t n)
{
	struct brk *b = c->c_brk;
	char msg[64];
	int r = worker_hello(c, line, n), k;

	if (r == -1) {
		conn_kill(c);		/* the server closes without a word */
		return;
	}
	if (r == 1) {
		out_append(c, "-ERR Invalid password\r\n", 23);
		conn_close_after_flush(c);
		return;
	}
	ev_timer_stop(b->b_loop, &c->c_timer);
	c->c_state = BC_READY;
	c->c_ready_counted = 1;
	b->b_nready++;
	out_append(c, "+OK\r\n", 5);
	if ((long long)b->b_nready > b->b_opt.o_max_conns) {
		/* Past the cap the handshake still succeeds, then the error and the close. */
		k = snprintf(msg, sizeof(msg), "-ERR too many connections: %lld\r\n",
		    b->b_opt.o_max_conns);
		out_append(c, msg, (size_t)k);
		conn_close_after_flush(c);
		b->b_x_refused++;
	}
}

/* One command line; then it holds the connection for the service time. */
static void
run_line(struct bconn *c, const char *line, size_t len)
{
	/* What earlier commands made is served; what this one makes waits for its time. */
	c->c_served = c->c_out_total;
	if (c->c_state == BC_HANDSHAKE) {
		handshake(c, line, len);
	} else {
		if (c->c_worker != NULL && !c->c_np)
			c->c_brk->b_x_pipelined++;
		cmd_dispatch(c, line, len);
	}
	c->c_np = 0;
	if (c->c_state != BC_DEAD && !c->c_closing)
		fault_serve(c);
	/*
	 * The CPU the command took (--cost-us), inside the service time that
	 * started with it, and even when the command closed the connection.
	 */
	fault_burn(c);
}

/*
 * --cost-us: c ran its command of this turn; if another line waits and
 * nothing else will run it (a FETCH's wait, the service time's timer, output
 * room), it goes to the back of the runnable list.
 */
static void
next_turn(struct bconn *c)
{
	if ((c->c_state == BC_READY || c->c_state == BC_HANDSHAKE) && !c->c_closing &&
	    !c->c_svc && buf_rlen(&c->c_out) <= BRK_OUT_HIGH && line_waiting(c))
		conn_wake(c);
}

static void
conn_process(struct bconn *c)
{
	const char *line;
	size_t len, used;
	int idle = 0, turn = 0;

	while (c->c_state == BC_READY || c->c_state == BC_HANDSHAKE) {
		if (c->c_closing || c->c_svc || buf_rlen(&c->c_out) > BRK_OUT_HIGH)
			break;
		if (!next_line(c, &line, &len, &used)) {
			idle = 1;
			break;
		}
		/* The line stays readable: only a read moves c_in's bytes. */
		buf_consume(&c->c_in, used);
		run_line(c, line, len);
		/*
		 * With a CPU cost the loop is the bottleneck, as the real server's
		 * CPU is: one command per turn, its reply written before the next
		 * line is read, other connections' commands in between.
		 */
		if (c->c_brk->b_cost_us > 0) {
			turn = 1;
			break;
		}
	}
	if (c->c_state == BC_DEAD)
		return;
	if (conn_client_gone(c) && !c->c_closing) {
		if (c->c_state == BC_HANDSHAKE) {
			conn_kill(c);
			return;
		}
		/* Every line the client sent has run (and a FETCH waits no more): done. */
		if (idle && c->c_state == BC_READY) {
			conn_close_after_flush(c);
			return;
		}
	}
	/* A FETCH a PUSH elsewhere served pays its cost here, in its own turn. */
	fault_burn(c);
	release(c);
	conn_flush(c);
	if (turn)
		next_turn(c);
}

void
conn_served(struct bconn *c)
{
	if (c->c_state != BC_DEAD)
		conn_process(c);
}

/* A complete line is waiting in c_in (c_scan remembers how far there is none). */
static int
line_waiting(struct bconn *c)
{
	const char *p = buf_rptr(&c->c_in);
	size_t avail = buf_rlen(&c->c_in);

	if (c->c_scan < avail && memchr(p + c->c_scan, '\n', avail - c->c_scan) != NULL)
		return 1;
	c->c_scan = avail;
	return 0;
}

/*
 * Nothing is owed to the client: every command it sent has run, its service
 * time is over and its reply is written. A line read now was sent after the
 * client could have read every reply: it is not pipelined.
 */
static int
owes_nothing(const struct bconn *c)
{
	return c->c_state == BC_READY && !c->c_svc && c->c_out_sent == c->c_out_total;
}

static void
conn_read(struct bconn *c)
{
	size_t budget = READ_BUDGET;
	ssize_t n;

	while (budget > 0 && !c->c_eof) {
		if (buf_rlen(&c->c_in) > BRK_MAX_LINE) {
			log_info("connection %llu: line longer than %u bytes, closing",
			    (unsigned long long)c->c_id, BRK_MAX_LINE);
			conn_kill(c);
			return;
		}
		if (buf_reserve(&c->c_in, READ_CHUNK) == -1) {
			conn_kill(c);
			return;
		}
		/* The next line to complete decides here, before its bytes are in. */
		if (!line_waiting(c))
			c->c_np = owes_nothing(c);
		n = read(c->c_fd, c->c_in.b_data + c->c_in.b_len,
		    c->c_in.b_cap - c->c_in.b_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (n == -1)
				log_debug("connection %llu: read: %s", (unsigned long long)c->c_id,
				    strerror(errno));
			c->c_eof = 1;
			break;
		}
		c->c_in.b_len += (size_t)n;
		/* What is left stays readable: epoll reports it again after the others. */
		budget = (size_t)n > budget ? 0 : budget - (size_t)n;
	}
}

static void
conn_io(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct bconn *c = io->io_arg;

	FKW_UNUSED(l);
	if (events & EPOLLOUT) {
		conn_flush(c);
		if (c->c_state == BC_DEAD)
			return;
		if (buf_rlen(&c->c_out) <= BRK_OUT_HIGH && c->c_state == BC_READY)
			conn_wake(c);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (c->c_closing) {
			/* Draining before a close: input is ignored. */
			char sink[4096];
			ssize_t n = read(c->c_fd, sink, sizeof(sink));
			if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
				conn_kill(c);
			return;
		}
		conn_read(c);
		if (c->c_state != BC_DEAD)
			conn_process(c);
	}
}

static void
conn_timer(struct ev_loop *l, struct ev_timer *t)
{
	struct bconn *c = t->tm_arg;

	FKW_UNUSED(l);
	if (c->c_state == BC_HANDSHAKE) {
		log_debug("connection %llu: no HELLO within 2 s", (unsigned long long)c->c_id);
		conn_kill(c);
		return;
	}
	if (c->c_state == BC_BLOCKED) {
		unblock(c);
		reply_null(c);
		conn_wake(c);
	}
}

/*
 * The kick (kick_arm's eventfd): connections with work queued by others,
 * then the graveyard. One pass over those runnable when it starts: one
 * woken again meanwhile (its next turn under --cost-us, a FETCH a PUSH here
 * served) waits for the next pass, after epoll has had its say, so that
 * connections with new input take their turns in between.
 */
static void
kick(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct brk *b = io->io_arg;
	struct bconn *c, *grave, *last = b->b_runnable_tail;
	uint64_t n;

	FKW_UNUSED(l);
	FKW_UNUSED(events);
	if (read(b->b_kickfd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("eventfd");
	b->b_kicked = 0;
	while ((c = b->b_runnable) != NULL) {
		b->b_runnable = c->c_rnext;
		if (b->b_runnable == NULL)
			b->b_runnable_tail = NULL;
		c->c_runnable = 0;
		if (c->c_state != BC_DEAD)
			conn_process(c);
		if (c == last)
			break;
	}
	/* One still on the runnable list is freed once the next pass has taken it off. */
	grave = b->b_grave;
	b->b_grave = NULL;
	while ((c = grave) != NULL) {
		grave = c->c_gnext;
		if (c->c_runnable) {
			c->c_gnext = b->b_grave;
			b->b_grave = c;
		} else
			conn_free(c);
	}
	if (b->b_runnable != NULL)
		kick_arm(b);
}

int
conn_init(struct brk *b)
{
	if ((b->b_kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	ev_io_init(&b->b_kickio, b->b_kickfd, kick, b);
	return ev_io_add(b->b_loop, &b->b_kickio, EPOLLIN);
}

/* ---- blocked FETCH ---- */

int
conn_block(struct bconn *c, struct bqueue *const *qs, size_t n, int quiet)
{
	struct brk *b = c->c_brk;

	if (!quiet) {
		if (n > c->c_capwaits) {
			struct bwait *w = realloc(c->c_waits, n * sizeof(*w));
			if (w == NULL)
				return -1;
			c->c_waits = w;
			c->c_capwaits = n;
		}
		for (size_t i = 0; i < n; i++) {
			struct bwait *w = &c->c_waits[i];
			struct bqueue *q = qs[i];
			w->w_conn = c;
			w->w_queue = q;
			w->w_next = NULL;
			w->w_prev = q->q_wtail;
			if (q->q_wtail != NULL)
				q->q_wtail->w_next = w;
			else
				q->q_whead = w;
			q->q_wtail = w;
		}
		c->c_nwaits = n;
	}
	c->c_state = BC_BLOCKED;
	ev_timer_start(b->b_loop, &c->c_timer, (uint64_t)b->b_opt.o_fetch_wait_ms);
	return 0;
}

void
conn_unblock(struct bconn *c)
{
	unblock(c);
}

void
conn_serve_waiters(struct brk *b, struct bqueue *q)
{
	FKW_UNUSED(b);
	while (q->q_len > 0 && !q->q_paused && q->q_whead != NULL)
		if (!cmd_fetch_retry(q->q_whead->w_conn))
			break;
}

void
conn_free_all(struct brk *b)
{
	struct bconn *c;

	while ((c = b->b_conns) != NULL)
		conn_kill(c);
	while ((c = b->b_grave) != NULL) {
		b->b_grave = c->c_gnext;
		conn_free(c);
	}
	b->b_runnable = b->b_runnable_tail = NULL;
	if (b->b_kickfd >= 0) {
		ev_io_del(b->b_loop, &b->b_kickio);
		close(b->b_kickfd);
		b->b_kickfd = -1;
	}
}
