/* SPDX-License-Identifier: MIT */
/* Unit tests for common/util.c and common/ev.c. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"
#include "unit_util.h"

START_TEST(test_buf_grow_consume)
{
	struct buf b;
	char big[5000];

	buf_init(&b);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(buf_append(&b, "hello ", 6), 0);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "z"), 0);
	ck_assert_uint_eq(buf_rlen(&b), 10);
	ck_assert(memcmp(buf_rptr(&b), "hello 42-z", 10) == 0);
	buf_consume(&b, 6);
	ck_assert(memcmp(buf_rptr(&b), "42-z", 4) == 0);
	ck_assert_int_eq(buf_append(&b, big, sizeof(big)), 0);
	ck_assert_uint_eq(buf_rlen(&b), 4 + sizeof(big));
	ck_assert(memcmp(buf_rptr(&b), "42-z", 4) == 0);
	buf_consume(&b, buf_rlen(&b));
	ck_assert_uint_eq(b.b_len, 0);
	ck_assert_uint_eq(b.b_off, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_parse_ll_bounds)
{
	long long v;
	const char *e;

	ck_assert_int_eq(parse_ll("25", 0, 3600, &v, &e), 0);
	ck_assert_int_eq(v, 25);
	ck_assert_int_eq(parse_ll("-1", 0, 3600, &v, &e), -1);
	ck_assert_str_eq(e, "too small");
	ck_assert_int_eq(parse_ll("3601", 0, 3600, &v, &e), -1);
	ck_assert_str_eq(e, "too large");
	ck_assert_int_eq(parse_ll("12x", 0, 3600, &v, &e), -1);
	ck_assert_str_eq(e, "not a number");
	ck_assert_int_eq(parse_ll("", 0, 3600, &v, &e), -1);
	ck_assert_int_eq(parse_ll(" 1", 0, 3600, &v, &e), -1);
	ck_assert_int_eq(parse_ll("99999999999999999999", 0, 3600, &v, &e), -1);
	ck_assert_str_eq(e, "too large");
}
END_TEST

START_TEST(test_parse_size)
{
	uint64_t v;
	const char *e;

	ck_assert_int_eq(parse_size("0", UINT64_MAX, &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_size("512M", UINT64_MAX, &v, &e), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(parse_size("2g", UINT64_MAX, &v, &e), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(parse_size("10KB", UINT64_MAX, &v, &e), 0);
	ck_assert_uint_eq(v, 10240);
	ck_assert_int_eq(parse_size("5X", UINT64_MAX, &v, &e), -1);
	ck_assert_int_eq(parse_size("-5", UINT64_MAX, &v, &e), -1);
	ck_assert_int_eq(parse_size("99999999999T", UINT64_MAX, &v, &e), -1);
	ck_assert_str_eq(e, "too large");
	ck_assert_int_eq(parse_size("2M", 1 << 20, &v, &e), -1);
}
END_TEST

START_TEST(test_rand_below)
{
	int seen[4] = { 0 };

	for (int i = 0; i < 4000; i++) {
		uint32_t r = fkw_rand_below(4);
		ck_assert_uint_lt(r, 4);
		seen[r]++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_int_gt(seen[i], 700);
	ck_assert_uint_eq(fkw_rand_below(0), 0);
}
END_TEST

START_TEST(test_rss)
{
	ck_assert_int_gt(proc_rss_kb(0), 0);
	ck_assert_int_gt(proc_rss_kb((int)getpid()), 0);
}
END_TEST

/* ---- ev ---- */

static int fired[8];
static int order[8], norder;

static void
timer_cb(struct ev_loop *l, struct ev_timer *t)
{
	int id = (int)(intptr_t)t->tm_arg;

	fired[id]++;
	order[norder++] = id;
	if (norder == 5)
		ev_stop(l);
}

START_TEST(test_ev_timers_order)
{
	struct ev_loop *l = ev_loop_new();
	struct ev_timer t[6];
	const int ms[6] = { 30, 10, 50, 20, 40, 5 };

	memset(fired, 0, sizeof(fired));
	norder = 0;
	for (int i = 0; i < 6; i++) {
		ev_timer_init(&t[i], timer_cb, (void *)(intptr_t)i);
		ck_assert_int_eq(ev_timer_start(l, &t[i], (uint64_t)ms[i]), 0);
	}
	/* Stopping a timer in the middle of the heap keeps the others in order. */
	ev_timer_stop(l, &t[5]);
	ck_assert(!ev_timer_active(&t[5]));
	ck_assert_int_eq(ev_run(l), 0);
	ck_assert_int_eq(order[0], 1);
	ck_assert_int_eq(order[1], 3);
	ck_assert_int_eq(order[2], 0);
	ck_assert_int_eq(order[3], 4);
	ck_assert_int_eq(order[4], 2);
	ck_assert_int_eq(fired[5], 0);
	ev_loop_free(l);
}
END_TEST

START_TEST(test_ev_timer_restart)
{
	struct ev_loop *l = ev_loop_new();
	struct ev_timer a, b;

	memset(fired, 0, sizeof(fired));
	norder = 0;
	ev_timer_init(&a, timer_cb, (void *)(intptr_t)0);
	ev_timer_init(&b, timer_cb, (void *)(intptr_t)1);
	ev_timer_start(l, &a, 10);
	ev_timer_start(l, &b, 20);
	ev_timer_start(l, &a, 40);	/* re-arming moves it after b */
	for (int i = 0; i < 100 && norder < 2; i++)
		ev_run_once(l, 100);
	ck_assert_int_eq(norder, 2);
	ck_assert_int_eq(order[0], 1);
	ck_assert_int_eq(order[1], 0);
	ev_loop_free(l);
}
END_TEST

struct pipe_ctx {
	struct ev_io	 io[2];
	int		 hits;
	int		 fds[2][2];
};

/* The first callback removes the second fd: its pending event must not be delivered. */
static void
io_cb(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct pipe_ctx *c = io->io_arg;
	char b;

	(void)events;
	c->hits++;
	if (read(io->io_fd, &b, 1) != 1)
		ck_abort_msg("read");
	struct ev_io *other = io == &c->io[0] ? &c->io[1] : &c->io[0];
	ev_io_del(l, other);
	other->io_cb = NULL;	/* would crash if still dispatched */
}

START_TEST(test_ev_io_del_pending)
{
	struct ev_loop *l = ev_loop_new();
	struct pipe_ctx c;

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pipe(c.fds[i]), 0);
		ev_io_init(&c.io[i], c.fds[i][0], io_cb, &c);
		ck_assert_int_eq(ev_io_add(l, &c.io[i], EPOLLIN), 0);
		ck_assert_int_eq(write(c.fds[i][1], "x", 1), 1);
	}
	ck_assert_int_eq(ev_run_once(l, 100), 0);
	ck_assert_int_eq(c.hits, 1);
	for (int i = 0; i < 2; i++) {
		close(c.fds[i][0]);
		close(c.fds[i][1]);
	}
	ev_loop_free(l);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_buf_grow_consume, test_parse_ll_bounds, test_parse_size, test_rand_below,
		test_rss, test_ev_timers_order, test_ev_timer_restart, test_ev_io_del_pending,
		NULL,
	};

	return unit_main("util", "core", NULL, NULL, 0, tests);
}
