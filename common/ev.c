/* SPDX-License-Identifier: MIT */
/* ev: a thin epoll event loop with one-shot millisecond timers (redis ae shape). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"

#define EV_BATCH 256

/*
 * Coalescing (interrupt moderation). A server that answers one reply at a
 * time wakes a loop once per reply; a profile against the real server put
 * half of a child's CPU around those sleeps (docs/faktory-protocol.md 2.4).
 * So when events come quickly but each wake-up brings few of them, the loop
 * sleeps before its next wait until about COALESCE_EVENTS more are due at
 * the rate seen, never longer than the bound and never past a timer. It
 * only does so when the bound would gather at least COALESCE_MIN events: at
 * low rates the loop waits as before, and a lone reply is not delayed.
 * The owner sets the bound, and 0 turns it off: a child turns it on only
 * while its jobs wait long in the server's queue (worker/wrk_coalesce.c),
 * where a nap costs a job nothing it would notice.
 */
#define COALESCE_EVENTS	8
#define COALESCE_MIN	2

struct ev_loop {
	int		  el_epfd;
	int		  el_stop;
	uint64_t	  el_now;
	uint64_t	  el_now_us;	/* the same instant in microseconds */
	struct heap	  el_timers;	/* ev_timer.tm_node, on the deadline */
	struct epoll_event el_evs[EV_BATCH];	/* the batch being dispatched */
	int		  el_nevs;
	int		  el_cur;
	ev_after_cb	 *el_after;
	void		 *el_after_arg;
	uint64_t	  el_coalesce_us;	/* the bound; 0: off */
	uint64_t	  el_woke_us;	/* when the last wait returned events */
	uint64_t	  el_delay_us;	/* the sleep before the next wait */
	uint64_t	  el_naps;	/* sleeps taken (test_ev reads it) */
};

struct ev_loop *
ev_loop_new(void)
{
	struct ev_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->el_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	ev_now_update(l);
	return l;
}

void
ev_loop_free(struct ev_loop *l)
{
	if (l == NULL)
		return;
	heap_free(&l->el_timers);
	close(l->el_epfd);
	free(l);
}

void
ev_io_init(struct ev_io *io, int fd, ev_io_cb *cb, void *arg)
{
	io->io_fd = fd;
	io->io_events = 0;
	io->io_cb = cb;
	io->io_arg = arg;
}

static int
io_ctl(struct ev_loop *l, int op, struct ev_io *io, uint32_t events)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = io;
	if (epoll_ctl(l->el_epfd, op, io->io_fd, &ee) == -1)
		return -1;
	io->io_events = events;
	return 0;
}

int
ev_io_add(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	return io_ctl(l, EPOLL_CTL_ADD, io, events);
}

int
ev_io_mod(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	if (io->io_events == events)
		return 0;
	return io_ctl(l, EPOLL_CTL_MOD, io, events);
}

int
ev_io_del(struct ev_loop *l, struct ev_io *io)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	io->io_events = 0;
	/*
	 * The owner may free io as soon as this returns, so forget any event
	 * for it still waiting in the batch being dispatched.
	 */
	for (int i = l->el_cur + 1; i < l->el_nevs; i++)
		if (l->el_evs[i].data.ptr == io)
			l->el_evs[i].data.ptr = NULL;
	return epoll_ctl(l->el_epfd, EPOLL_CTL_DEL, io->io_fd, &ee);
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	heap_node_init(&t->tm_node);
	t->tm_cb = cb;
	t->tm_arg = arg;
}

void
ev_timer_stop(struct ev_loop *l, struct ev_timer *t)
{
	if (heap_node_on(&t->tm_node))
		heap_remove(&l->el_timers, &t->tm_node);
}

int
ev_timer_start(struct ev_loop *l, struct ev_timer *t, uint64_t ms)
{
	ev_timer_stop(l, t);
	/*
	 * From the clock now, rounded up to the next millisecond: the loop's
	 * cached time is as old as the iteration, and truncated, so a timer
	 * armed from it fired up to a whole iteration early (200 ms sleep jobs
	 * measured 199.99 ms).
	 */
	t->tm_node.hn_key = (now_us() + 999) / 1000 + ms;
	return heap_push(&l->el_timers, &t->tm_node);
}

static struct ev_timer *
first_timer(const struct ev_loop *l)
{
	struct heap_node *n = heap_top(&l->el_timers);

	return n != NULL ? heap_entry(n, struct ev_timer, tm_node) : NULL;
}

uint64_t
ev_now(struct ev_loop *l)
{
	return l->el_now;
}

uint64_t
ev_now_us(struct ev_loop *l)
{
	return l->el_now_us;
}

void
ev_now_update(struct ev_loop *l)
{
	l->el_now_us = now_us();
	l->el_now = l->el_now_us / 1000;
}

static void
run_timers(struct ev_loop *l)
{
	/* Bounded so that a timer re-arming itself at 0 ms cannot starve I/O. */
	size_t budget = l->el_timers.hp_len + 16;
	struct ev_timer *t;

	while ((t = first_timer(l)) != NULL && budget-- > 0) {
		if (t->tm_node.hn_key > l->el_now)
			break;
		ev_timer_stop(l, t);
		t->tm_cb(l, t);
	}
}

void
ev_set_coalesce(struct ev_loop *l, uint64_t max_us)
{
	l->el_coalesce_us = max_us;
	l->el_delay_us = 0;
}

uint64_t
ev_naps(const struct ev_loop *l)
{
	return l->el_naps;
}

/* After a wait that returned n events: how long to sleep before the next one. */
static void
coalesce_plan(struct ev_loop *l, int n)
{
	uint64_t dt = l->el_now_us - l->el_woke_us, d;

	l->el_delay_us = 0;
	if (n <= 0)
		return;
	l->el_woke_us = l->el_now_us;
	if (l->el_coalesce_us == 0 || n >= COALESCE_EVENTS || dt == 0 ||
	    (uint64_t)n * l->el_coalesce_us < COALESCE_MIN * dt)
		return;
	d = COALESCE_EVENTS * dt / (uint64_t)n;
	l->el_delay_us = d < l->el_coalesce_us ? d : l->el_coalesce_us;
}

/* The planned sleep, cut short by the first timer; none when asked not to block. */
static void
coalesce_nap(struct ev_loop *l, int timeout_ms)
{
	uint64_t d = l->el_delay_us, now;
	struct timespec ts;

	if (d == 0 || timeout_ms == 0)
		return;
	now = now_us();
	if (timeout_ms > 0 && (uint64_t)timeout_ms * 1000 < d)
		d = (uint64_t)timeout_ms * 1000;
	if (now - l->el_woke_us >= d)
		return;
	d -= now - l->el_woke_us;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(d * 1000);
	l->el_naps++;
	/* EINTR: a signal is news; go and wait for it. */
	(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

int
ev_run_once(struct ev_loop *l, int max_ms)
{
	struct ev_timer *first = first_timer(l);
	int timeout = max_ms, n;

	if (first != NULL) {
		uint64_t at = first->tm_node.hn_key;
		int tt = at <= l->el_now ? 0 :
		    (at - l->el_now > 1000000 ? 1000000 : (int)(at - l->el_now));
		if (timeout < 0 || tt < timeout)
			timeout = tt;
	}
	coalesce_nap(l, timeout);
	n = epoll_wait(l->el_epfd, l->el_evs, EV_BATCH, timeout);
	if (n == -1 && errno != EINTR)
		return -1;
	ev_now_update(l);
	coalesce_plan(l, n);
	l->el_nevs = n < 0 ? 0 : n;
	for (l->el_cur = 0; l->el_cur < l->el_nevs; l->el_cur++) {
		struct ev_io *io = l->el_evs[l->el_cur].data.ptr;
		if (io != NULL)
			io->io_cb(l, io, l->el_evs[l->el_cur].events);
	}
	l->el_nevs = 0;
	run_timers(l);
	if (l->el_after != NULL)
		l->el_after(l, l->el_after_arg);
	return 0;
}

void
ev_set_after(struct ev_loop *l, ev_after_cb *cb, void *arg)
{
	l->el_after = cb;
	l->el_after_arg = arg;
}

int
ev_run(struct ev_loop *l)
{
	l->el_stop = 0;
	while (!l->el_stop)
		if (ev_run_once(l, -1) == -1)
			return -1;
	return 0;
}

void
ev_stop(struct ev_loop *l)
{
	l->el_stop = 1;
}
