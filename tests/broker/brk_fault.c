/* SPDX-License-Identifier: MIT */
/*
 * brk_fault: injected faults and the service time. Both delays run on a
 * timerfd (microsecond precision; the loop never sleeps) as a ring of marks
 * kept in time order, nearly always by appending, since each queue's delay
 * is the same for every mark: latency holds each batch of replies back for
 * latency_us; service time holds a connection for service_us per command.
 * The CPU cost (--cost-us) is the one thing here that is not a delay: it
 * burns the loop's own CPU, so that the broker's one core sets the pace.
 * Drops (--drop-after) live in brk_cmd.c, refusals in on_accept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "brk.h"
#include "log.h"

/* ---- a time-ordered ring of marks on one timerfd ---- */

static void
tq_arm(struct brk_tq *q)
{
	struct itimerspec its;
	uint64_t now = now_us(), at;

	memset(&its, 0, sizeof(its));
	if (q->tq_len > 0) {
		at = q->tq_v[q->tq_head].m_at_us;
		/* A zero it_value disarms the timer: at least 1 ns. */
		uint64_t d = at > now ? at - now : 0;
		its.it_value.tv_sec = (time_t)(d / 1000000);
		its.it_value.tv_nsec = (long)(d % 1000000) * 1000 + 1;
	}
	timerfd_settime(q->tq_fd, 0, &its, NULL);
}

static void
tq_run(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct brk_tq *q = io->io_arg;
	uint64_t now = now_us(), exp;

	FKW_UNUSED(l);
	FKW_UNUSED(events);
	if (read(q->tq_fd, &exp, sizeof(exp)) == -1 && errno != EAGAIN)
		log_warn("delay timer");
	/*
	 * A callback may add marks (the next command starts); one already due
	 * (a wake-up later than a whole service time) runs in this pass too.
	 */
	while (q->tq_len > 0 && q->tq_v[q->tq_head].m_at_us <= now) {
		struct brk_mark m = q->tq_v[q->tq_head];
		q->tq_head = (q->tq_head + 1) % q->tq_cap;
		q->tq_len--;
		if (m.m_conn != NULL)
			q->tq_fire(m.m_conn, &m);
	}
	tq_arm(q);
}

static int
tq_open(struct brk_tq *q)
{
	if (q->tq_fd >= 0)
		return 0;
	if ((q->tq_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		return -1;
	ev_io_init(&q->tq_io, q->tq_fd, tq_run, q);
	if (ev_io_add(q->tq_brk->b_loop, &q->tq_io, EPOLLIN) == -1) {
		close(q->tq_fd);
		q->tq_fd = -1;
		return -1;
	}
	return 0;
}

static int
tq_grow(struct brk_tq *q)
{
	size_t cap = q->tq_cap ? q->tq_cap * 2 : 256;
	struct brk_mark *v = malloc(cap * sizeof(*v));

	if (v == NULL)
		return -1;
	/* Unroll the ring into the new array, oldest first. */
	for (size_t i = 0; i < q->tq_len; i++)
		v[i] = q->tq_v[(q->tq_head + i) % q->tq_cap];
	free(q->tq_v);
	q->tq_v = v;
	q->tq_cap = cap;
	q->tq_head = 0;
	return 0;
}

static struct brk_mark *
tq_last(struct brk_tq *q)
{
	return q->tq_len > 0 ? &q->tq_v[(q->tq_head + q->tq_len - 1) % q->tq_cap] : NULL;
}

/*
 * Adds a mark due at at_us; -1 if it cannot be kept (the caller goes on
 * without the delay). Marks nearly always come in time order; one that does
 * not (a service time counted from the end of the one before, a changed
 * delay) moves back past the later ones.
 */
static int
tq_push(struct brk_tq *q, struct bconn *c, uint64_t pos, uint64_t at_us)
{
	size_t i;

	if (tq_open(q) == -1 || (q->tq_len == q->tq_cap && tq_grow(q) == -1))
		return -1;
	for (i = q->tq_len; i > 0; i--) {
		struct brk_mark *prev = &q->tq_v[(q->tq_head + i - 1) % q->tq_cap];
		if (prev->m_at_us <= at_us)
			break;
		q->tq_v[(q->tq_head + i) % q->tq_cap] = *prev;
	}
	q->tq_v[(q->tq_head + i) % q->tq_cap] = (struct brk_mark){ c, pos, at_us };
	q->tq_len++;
	/* A new head changes when the timer must fire. */
	if (i == 0)
		tq_arm(q);
	return 0;
}

/* Forgets up to n marks of c; returns how many were found. */
static int
tq_forget(struct brk_tq *q, struct bconn *c, int n)
{
	int found = 0;

	for (size_t i = 0; found < n && i < q->tq_len; i++) {
		struct brk_mark *m = &q->tq_v[(q->tq_head + i) % q->tq_cap];
		if (m->m_conn == c) {
			m->m_conn = NULL;
			found++;
		}
	}
	return found;
}

static void
tq_close(struct brk_tq *q)
{
	if (q->tq_fd >= 0) {
		ev_io_del(q->tq_brk->b_loop, &q->tq_io);
		close(q->tq_fd);
		q->tq_fd = -1;
	}
	free(q->tq_v);
	q->tq_v = NULL;
	q->tq_len = q->tq_cap = q->tq_head = 0;
}

/* ---- latency ---- */

static void
lat_fire(struct bconn *c, const struct brk_mark *m)
{
	c->c_delayed--;
	if (m->m_pos > c->c_release)
		c->c_release = m->m_pos;
	/* XFAULT turned latency off meanwhile: what came after the marks goes too. */
	if (c->c_delayed == 0 && c->c_brk->b_latency_us == 0)
		c->c_release = c->c_served;
	conn_flush(c);
}

void
fault_delay(struct bconn *c)
{
	struct brk *b = c->c_brk;
	struct brk_mark *m;

	if (c->c_served == c->c_release)
		return;
	/* The newest mark already covers it: nothing new since. */
	if ((m = tq_last(&b->b_lat)) != NULL && m->m_conn == c && m->m_pos == c->c_served)
		return;
	if (tq_push(&b->b_lat, c, c->c_served, now_us() + (uint64_t)b->b_latency_us) == -1) {
		c->c_release = c->c_served;	/* cannot delay: send now */
		return;
	}
	c->c_delayed++;
}

/* ---- service time ---- */

static void
svc_fire(struct bconn *c, const struct brk_mark *m)
{
	c->c_svc = 0;
	/* A command already waiting starts, as on the real server, when this one ended. */
	c->c_svc_from = m->m_at_us;
	conn_served(c);
	c->c_svc_from = 0;
}

void
fault_serve(struct bconn *c)
{
	struct brk *b = c->c_brk;
	uint64_t start = c->c_svc_from != 0 ? c->c_svc_from : now_us();

	/*
	 * Counted from the model's start, not from when the timer woke us: its
	 * wake-up latency (tens of µs) would otherwise add to every command.
	 */
	c->c_svc_from = 0;
	if (b->b_service_us <= 0 || c->c_svc)
		return;
	if (tq_push(&b->b_svc, c, 0, start + (uint64_t)b->b_service_us) == 0)
		c->c_svc = 1;
}

/* ---- CPU cost ---- */

/*
 * The real server spends 100-160 µs of CPU per job with its redis (docs
 * 2.4), over the three commands that handle it; each gets a third of
 * cost_us (ACK or FAIL the remainder, so a job costs cost_us exactly): each
 * job a PUSH or PUSHB stores, a FETCH that hands out a job, an ACK or FAIL.
 * A FETCH that answers $-1, HELLO, BEAT, INFO and the admin verbs cost
 * nothing. The share is taken when the work happens: a blocked FETCH that a
 * PUSH on another connection serves owes its share, paid in its own turn,
 * not in the PUSH's.
 */
void
fault_cost(struct bconn *c, enum cost_part part)
{
	long long n = c->c_brk->b_cost_us;

	if (n <= 0)
		return;
	c->c_cost_owed += part == COST_END ? n - 2 * (n / 3) : n / 3;
}

/* This thread's CPU time in µs; -1 if there is no such clock. */
static int
thread_cpu_us(uint64_t *us)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return -1;
	*us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	return 0;
}

void
fault_burn(struct bconn *c)
{
	uint64_t until, t;

	if (c->c_cost_owed <= 0)
		return;
	/*
	 * CPU time, not wall time: when another process holds the core, the
	 * broker still spends the whole cost once it runs again, as a server
	 * whose work is CPU would. Without the clock, no cost rather than a
	 * loop without end.
	 */
	if (thread_cpu_us(&t) == 0) {
		until = t + (uint64_t)c->c_cost_owed;
		while (t < until && thread_cpu_us(&t) == 0)
			;
	}
	c->c_cost_owed = 0;
}

/* ---- the rest ---- */

void
fault_init(struct brk *b)
{
	b->b_lat.tq_brk = b->b_svc.tq_brk = b;
	b->b_lat.tq_fd = b->b_svc.tq_fd = -1;
	b->b_lat.tq_fire = lat_fire;
	b->b_svc.tq_fire = svc_fire;
	b->b_latency_us = b->b_opt.o_latency_us;
	b->b_service_us = b->b_opt.o_service_us;
	b->b_cost_us = b->b_opt.o_cost_us;
	b->b_drop_after = b->b_opt.o_drop_after;
	b->b_garbage_every = b->b_opt.o_garbage_every;
}

void
fault_forget(struct bconn *c)
{
	struct brk *b = c->c_brk;

	if (c->c_delayed > 0)
		c->c_delayed -= tq_forget(&b->b_lat, c, c->c_delayed);
	if (c->c_svc)
		c->c_svc -= tq_forget(&b->b_svc, c, 1);
}

int
fault_garbage(struct brk *b)
{
	return b->b_garbage_every > 0 && ++b->b_garbage_n % (uint64_t)b->b_garbage_every == 0;
}

int
fault_refusing(struct brk *b)
{
	return b->b_refuse_until != 0 && now_ms() < b->b_refuse_until;
}

int
fault_set(struct brk *b, const char *name, size_t n, long long v)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("latency_us"))
		b->b_latency_us = v;
	else if (IS("service_us"))
		b->b_service_us = v;
	else if (IS("cost_us"))
		b->b_cost_us = v;
	else if (IS("drop_after"))
		b->b_drop_after = v;
	else if (IS("garbage_every")) {
		b->b_garbage_every = v;
		b->b_garbage_n = 0;
	} else if (IS("refuse_ms"))
		b->b_refuse_until = v > 0 ? now_ms() + (uint64_t)v : 0;
	else
		return -1;
	return 0;
#undef IS
}

void
fault_free(struct brk *b)
{
	tq_close(&b->b_lat);
	tq_close(&b->b_svc);
}
