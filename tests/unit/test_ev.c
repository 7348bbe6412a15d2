/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/ev.c's coalescing: events that trickle in quickly
 * are gathered by short sleeps; events at a low rate never wait for one.
 * A thread writes single bytes into a pipe at a given pace; the loop reads
 * whatever is there on each wake-up.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "unit_util.h"
#include "util.h"

struct pace {
	int		 fd;
	int		 n;		/* bytes to write */
	uint64_t	 gap_us;	/* between two writes */
};

static void *
writer(void *arg)
{
	struct pace *p = arg;
	uint64_t next = now_us();

	for (int i = 0; i < p->n; i++) {
		/* Spin for short gaps: a sleep would round them up to the timer slack. */
		while (now_us() < next)
			if (p->gap_us >= 1000)
				usleep(500);
		ck_assert_int_eq(write(p->fd, "x", 1), 1);
		next += p->gap_us;
	}
	return NULL;
}

struct reader {
	struct ev_io	 io;
	int		 got;
	int		 wakes;
};

static void
readable(struct ev_loop *l, struct ev_io *io, uint32_t ev)
{
	struct reader *r = io->io_arg;
	char buf[4096];
	ssize_t n;

	(void)l;
	(void)ev;
	r->wakes++;
	if ((n = read(io->io_fd, buf, sizeof(buf))) > 0)
		r->got += (int)n;
}

/* Runs the pace through a loop that naps up to bound_us; the reader's counts. */
static struct reader
run(int n, uint64_t gap_us, uint64_t bound_us, uint64_t *naps)
{
	struct ev_loop *l = ev_loop_new();
	struct reader r;
	struct pace p;
	pthread_t t;
	int fds[2];

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(pipe(fds), 0);
	memset(&r, 0, sizeof(r));
	ev_io_init(&r.io, fds[0], readable, &r);
	ck_assert_int_eq(ev_io_add(l, &r.io, EPOLLIN), 0);
	ev_set_coalesce(l, bound_us);
	p.fd = fds[1];
	p.n = n;
	p.gap_us = gap_us;
	ck_assert_int_eq(pthread_create(&t, NULL, writer, &p), 0);
	/* Bounded: 100 ms past the writer's schedule, then give up. */
	for (uint64_t end = now_us() + (uint64_t)n * gap_us + 5000000; r.got < n && now_us() < end;)
		ck_assert_int_eq(ev_run_once(l, 100), 0);
	pthread_join(t, NULL);
	*naps = ev_naps(l);
	ev_loop_free(l);
	close(fds[0]);
	close(fds[1]);
	return r;
}

START_TEST(test_ev_coalesce_low_rate)
{
	uint64_t naps;
	/* One byte every 20 ms: far slower than the 250 us bound gathers two. */
	struct reader r = run(15, 20000, 250, &naps);

	ck_assert_int_eq(r.got, 15);
	ck_assert_int_eq(naps, 0);
	ck_assert_int_eq(r.wakes, 15);
}
END_TEST

START_TEST(test_ev_coalesce_high_rate)
{
	uint64_t naps;
	/* A byte every 10 us for ~60 ms: naps gather several per wake-up. */
	struct reader r = run(6000, 10, 250, &naps);

	ck_assert_int_eq(r.got, 6000);
	ck_assert_uint_gt(naps, 0);
	ck_assert_msg(r.wakes * 3 < r.got, "%d wake-ups for %d events", r.wakes, r.got);
}
END_TEST

START_TEST(test_ev_coalesce_off)
{
	uint64_t naps;
	struct reader r = run(2000, 10, 0, &naps);

	ck_assert_int_eq(r.got, 2000);
	ck_assert_int_eq(naps, 0);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = { test_ev_coalesce_low_rate, test_ev_coalesce_high_rate,
	    test_ev_coalesce_off, NULL };

	return unit_main("ev", "core", NULL, NULL, 0, tests);
}
