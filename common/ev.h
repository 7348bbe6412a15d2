/* SPDX-License-Identifier: MIT */
/* ev: a thin epoll event loop with one-shot millisecond timers (redis ae shape). */
#ifndef FKW_EV_H
#define FKW_EV_H

#include <stdint.h>
#include <sys/epoll.h>

#include "heap.h"

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void ev_io_cb(struct ev_loop *, struct ev_io *, uint32_t events);
typedef void ev_timer_cb(struct ev_loop *, struct ev_timer *);
typedef void ev_after_cb(struct ev_loop *, void *arg);

/*
 * Embed an ev_io in the object that owns the fd; the loop hands the same
 * pointer back, so callbacks recover the owner with container_of-style casts
 * or io_arg. No allocation per registration.
 */
struct ev_io {
	int		 io_fd;
	uint32_t	 io_events;	/* EPOLLIN | EPOLLOUT ... currently armed */
	ev_io_cb	*io_cb;
	void		*io_arg;
};

struct ev_timer {
	struct heap_node tm_node;	/* hn_key: the monotonic ms deadline */
	ev_timer_cb	*tm_cb;
	void		*tm_arg;
};

struct ev_loop	*ev_loop_new(void);
void		 ev_loop_free(struct ev_loop *);

void	 ev_io_init(struct ev_io *, int fd, ev_io_cb *, void *arg);
/*
 * Register / change / remove; -1 with errno on failure. After ev_io_del the
 * owner may free the ev_io at once, even from inside a callback.
 */
int	 ev_io_add(struct ev_loop *, struct ev_io *, uint32_t events);
int	 ev_io_mod(struct ev_loop *, struct ev_io *, uint32_t events);
int	 ev_io_del(struct ev_loop *, struct ev_io *);

void	 ev_timer_init(struct ev_timer *, ev_timer_cb *, void *arg);
/* (Re)arms the timer to fire once after ms milliseconds. -1 on ENOMEM. */
int	 ev_timer_start(struct ev_loop *, struct ev_timer *, uint64_t ms);
void	 ev_timer_stop(struct ev_loop *, struct ev_timer *);
static inline int ev_timer_active(const struct ev_timer *t) { return heap_node_on(&t->tm_node); }

/* The loop's cached monotonic clock (ms), refreshed once per iteration. */
uint64_t ev_now(struct ev_loop *);
/* The same instant in microseconds (round trips are measured in these). */
uint64_t ev_now_us(struct ev_loop *);
void	 ev_now_update(struct ev_loop *);

/* Runs until ev_stop; returns 0, or -1 if epoll_wait failed. */
int	 ev_run(struct ev_loop *);
/* One iteration, waiting at most max_ms (-1 = until an event or timer). */
int	 ev_run_once(struct ev_loop *, int max_ms);
void	 ev_stop(struct ev_loop *);
/*
 * cb runs once per iteration after every ready fd and due timer: the place
 * to write, in one go, what many callbacks of the iteration queued.
 */
void	 ev_set_after(struct ev_loop *, ev_after_cb *cb, void *arg);
/*
 * Up to max_us of sleep before a wait when wake-ups come quickly and bring
 * little (0, the default: never); ev_naps counts the sleeps taken.
 */
void	 ev_set_coalesce(struct ev_loop *, uint64_t max_us);
uint64_t ev_naps(const struct ev_loop *);

#endif
