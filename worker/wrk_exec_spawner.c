/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_spawner: runs the exec handler's posix_spawnp calls off the loop.
 * posix_spawnp (clone with CLONE_VM|CLONE_VFORK) returns only when the new
 * process has reached exec; the caller does no work meanwhile but waits for
 * the new process to get a CPU, 1.5 ms on average when both cores are busy,
 * so a loop that spawned itself stalled every slot and connection of the
 * child for that long per exec job. A few threads do the waiting instead:
 * the loop queues a prepared request (wrk_exec_spawn_prepare) and hears of
 * it again through an eventfd when the thread is done. The commands stay
 * this process's children, so the loop reaps them as before.
 *
 * Threads rather than a helper process: a thread's spawn gives the same
 * process, pipes and errors as before (a helper would have to pass fds and
 * relay pids and exit statuses), and the threads do nothing but spawn: no
 * loop, no logging, no job data beyond the request.
 *
 * The threads, and so the commands, run on the CPUs the child had before it
 * pinned itself (wrk_exec_spawner_cpus): a command is a program of its own,
 * not part of the loop; confined to the child's core it would take that core
 * from the loop it reports to, and a spawn would wait for it there.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "wrk_exec_int.h"

/*
 * Spawns that may wait for a CPU at once. More than one, so that one slow
 * start (a cold binary, a busy core) does not hold up the others; not many:
 * on two busy cores tests/bench/bench-exec.sh gave 1100-1300 jobs/s with
 * one thread, 1750-1800 with two, 1400-1500 with four.
 */
#define SPAWN_THREADS	2

static struct {
	pthread_mutex_t		 sq_mu;
	pthread_cond_t		 sq_cv;
	struct wrk_exec_req	*sq_todo;	/* FIFO: head and tail */
	struct wrk_exec_req	*sq_todo_last;
	struct wrk_exec_req	*sq_done;	/* finished, the loop's to collect */
	struct wrk_exec_req	*sq_done_last;
	int			 sq_quit;
	int			 sq_nthreads;
	pthread_t		 sq_threads[SPAWN_THREADS];
	pid_t			 sq_owner;	/* the process the threads run in */
	int			 sq_evfd;	/* "sq_done is no longer empty" */
	cpu_set_t		 sq_cpus;	/* where the threads run, if sq_cpus_set */
	int			 sq_cpus_set;
	struct ev_io		 sq_io;
	void			(*sq_cb)(struct wrk_exec_req *);
} sq = { .sq_evfd = -1 };

static void
push(struct wrk_exec_req **head, struct wrk_exec_req **last, struct wrk_exec_req *r)
{
	r->rq_next = NULL;
	if (*head == NULL)
		*head = r;
	else
		(*last)->rq_next = r;
	*last = r;
}

static void *
spawner_main(void *arg)
{
	struct wrk_exec_req *r;
	uint64_t one = 1;
	int wake;

	(void)arg;
	if (sq.sq_cpus_set)
		sched_setaffinity(0, sizeof(sq.sq_cpus), &sq.sq_cpus);
	pthread_mutex_lock(&sq.sq_mu);
	for (;;) {
		while (sq.sq_todo == NULL && !sq.sq_quit)
			pthread_cond_wait(&sq.sq_cv, &sq.sq_mu);
		if (sq.sq_quit)
			break;
		r = sq.sq_todo;
		sq.sq_todo = r->rq_next;
		pthread_mutex_unlock(&sq.sq_mu);
		wrk_exec_spawn_run(r);
		pthread_mutex_lock(&sq.sq_mu);
		/* One wakeup per batch: the loop takes the whole list. */
		wake = sq.sq_done == NULL;
		push(&sq.sq_done, &sq.sq_done_last, r);
		if (wake)
			while (write(sq.sq_evfd, &one, sizeof(one)) == -1 && errno == EINTR)
				;
	}
	pthread_mutex_unlock(&sq.sq_mu);
	return NULL;
}

static void
done_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct wrk_exec_req *r, *next;
	uint64_t n;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	while (read(io->io_fd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
	pthread_mutex_lock(&sq.sq_mu);
	r = sq.sq_done;
	sq.sq_done = NULL;
	pthread_mutex_unlock(&sq.sq_mu);
	/* The callback may queue new requests: the list taken is ours alone. */
	for (; r != NULL; r = next) {
		next = r->rq_next;
		sq.sq_cb(r);
	}
}

/* In a fork of the process that started them, the threads are gone and the lock may be held. */
static void
forget_parent(void)
{
	pthread_mutex_init(&sq.sq_mu, NULL);
	pthread_cond_init(&sq.sq_cv, NULL);
	sq.sq_todo = sq.sq_done = NULL;
	sq.sq_quit = 0;
	sq.sq_nthreads = 0;
	if (sq.sq_evfd != -1)
		close(sq.sq_evfd);
	sq.sq_evfd = -1;
}

/*
 * At the first exec job (a child without exec handlers runs none), with
 * every signal blocked, so that the loop's signalfds see them all. If none
 * starts, spawns run on the loop, said once.
 */
static int
threads_start(void)
{
	static int told;
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (sq.sq_nthreads < SPAWN_THREADS &&
	    (rc = pthread_create(&sq.sq_threads[sq.sq_nthreads], NULL, spawner_main, NULL)) == 0)
		sq.sq_nthreads++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (sq.sq_nthreads > 0)
		return 0;
	if (!told++)
		log_warnx("exec: cannot start a spawner thread: %s; starting commands on the loop",
		    strerror(rc));
	return -1;
}

void
wrk_exec_spawner_cpus(const cpu_set_t *set)
{
	sq.sq_cpus = *set;
	sq.sq_cpus_set = 1;
}

int
wrk_exec_spawner_start(struct ev_loop *loop, void (*done)(struct wrk_exec_req *), char *err,
    size_t errlen)
{
	if (sq.sq_owner != getpid()) {
		if (sq.sq_owner != 0)
			forget_parent();
		else {
			pthread_mutex_init(&sq.sq_mu, NULL);
			pthread_cond_init(&sq.sq_cv, NULL);
		}
		sq.sq_owner = getpid();
	}
	sq.sq_cb = NULL;
	if (sq.sq_evfd == -1 && (sq.sq_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	/* Again on the same loop: already watched (EEXIST); a new one: watched now. */
	ev_io_init(&sq.sq_io, sq.sq_evfd, done_readable, NULL);
	if (ev_io_add(loop, &sq.sq_io, EPOLLIN) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "epoll add eventfd: %s", strerror(errno));
		return -1;
	}
	sq.sq_cb = done;
	return 0;
}

int
wrk_exec_spawner_submit(struct wrk_exec_req *r)
{
	if (sq.sq_owner != getpid() || sq.sq_cb == NULL ||
	    (sq.sq_nthreads == 0 && threads_start() == -1))
		return -1;
	pthread_mutex_lock(&sq.sq_mu);
	push(&sq.sq_todo, &sq.sq_todo_last, r);
	pthread_cond_signal(&sq.sq_cv);
	pthread_mutex_unlock(&sq.sq_mu);
	return 0;
}

void
wrk_exec_spawner_stop(void)
{
	if (sq.sq_nthreads == 0 || sq.sq_owner != getpid())
		return;
	pthread_mutex_lock(&sq.sq_mu);
	sq.sq_quit = 1;
	pthread_cond_broadcast(&sq.sq_cv);
	pthread_mutex_unlock(&sq.sq_mu);
	for (int i = 0; i < sq.sq_nthreads; i++)
		pthread_join(sq.sq_threads[i], NULL);
	sq.sq_nthreads = 0;
	sq.sq_quit = 0;
}
