/* SPDX-License-Identifier: MIT */
/*
 * brk_fault: injected faults. Latency holds each batch of replies back for
 * latency_us on a timerfd (microsecond precision; the loop never sleeps):
 * a FIFO of release marks, in time order because the delay is the same for
 * all. Drops (--drop-after) live in brk_cmd.c, refusals in on_accept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "brk.h"
#include "log.h"

static void
lat_arm(struct brk *b)
{
	struct itimerspec its;
	uint64_t now = now_us(), at;

	memset(&its, 0, sizeof(its));
	if (b->b_lat_len > 0) {
		at = b->b_lat[b->b_lat_head].l_at_us;
		/* A zero it_value disarms the timer: at least 1 ns. */
		uint64_t d = at > now ? at - now : 0;
		its.it_value.tv_sec = (time_t)(d / 1000000);
		its.it_value.tv_nsec = (long)(d % 1000000) * 1000 + 1;
	}
	timerfd_settime(b->b_tfd, 0, &its, NULL);
}

static void
lat_fire(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct brk *b = io->io_arg;
	uint64_t now = now_us(), exp;

	FKW_UNUSED(l);
	FKW_UNUSED(events);
	if (read(b->b_tfd, &exp, sizeof(exp)) == -1 && errno != EAGAIN)
		log_warn("latency timer");
	while (b->b_lat_len > 0 && b->b_lat[b->b_lat_head].l_at_us <= now) {
		struct brk_latency m = b->b_lat[b->b_lat_head];
		b->b_lat_head = (b->b_lat_head + 1) % b->b_lat_cap;
		b->b_lat_len--;
		if (m.l_conn == NULL)
			continue;
		m.l_conn->c_delayed--;
		if (m.l_pos > m.l_conn->c_release)
			m.l_conn->c_release = m.l_pos;
		conn_flush(m.l_conn);
	}
	lat_arm(b);
}

static int
lat_init(struct brk *b)
{
	if (b->b_tfd >= 0)
		return 0;
	if ((b->b_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		return -1;
	ev_io_init(&b->b_tio, b->b_tfd, lat_fire, b);
	if (ev_io_add(b->b_loop, &b->b_tio, EPOLLIN) == -1) {
		close(b->b_tfd);
		b->b_tfd = -1;
		return -1;
	}
	return 0;
}

static int
lat_grow(struct brk *b)
{
	size_t cap = b->b_lat_cap ? b->b_lat_cap * 2 : 256;
	struct brk_latency *v = malloc(cap * sizeof(*v));

	if (v == NULL)
		return -1;
	/* Unroll the ring into the new array, oldest first. */
	for (size_t i = 0; i < b->b_lat_len; i++)
		v[i] = b->b_lat[(b->b_lat_head + i) % b->b_lat_cap];
	free(b->b_lat);
	b->b_lat = v;
	b->b_lat_cap = cap;
	b->b_lat_head = 0;
	return 0;
}

void
fault_delay(struct bconn *c)
{
	struct brk *b = c->c_brk;
	struct brk_latency *m;

	if (c->c_out_total == c->c_release)
		return;
	/* The newest mark already covers it: nothing new since. */
	if (b->b_lat_len > 0) {
		m = &b->b_lat[(b->b_lat_head + b->b_lat_len - 1) % b->b_lat_cap];
		if (m->l_conn == c && m->l_pos == c->c_out_total)
			return;
	}
	if (lat_init(b) == -1 || (b->b_lat_len == b->b_lat_cap && lat_grow(b) == -1)) {
		c->c_release = c->c_out_total;	/* cannot delay: send now */
		return;
	}
	m = &b->b_lat[(b->b_lat_head + b->b_lat_len) % b->b_lat_cap];
	m->l_conn = c;
	m->l_pos = c->c_out_total;
	m->l_at_us = now_us() + (uint64_t)b->b_latency_us;
	c->c_delayed++;
	if (b->b_lat_len++ == 0)
		lat_arm(b);
}

void
fault_forget(struct bconn *c)
{
	struct brk *b = c->c_brk;

	for (size_t i = 0; c->c_delayed > 0 && i < b->b_lat_len; i++) {
		struct brk_latency *m = &b->b_lat[(b->b_lat_head + i) % b->b_lat_cap];
		if (m->l_conn == c) {
			m->l_conn = NULL;
			c->c_delayed--;
		}
	}
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
	if (b->b_tfd >= 0) {
		ev_io_del(b->b_loop, &b->b_tio);
		close(b->b_tfd);
		b->b_tfd = -1;
	}
	free(b->b_lat);
	b->b_lat = NULL;
	b->b_lat_len = b->b_lat_cap = b->b_lat_head = 0;
}
