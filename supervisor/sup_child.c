/* SPDX-License-Identifier: MIT */
/*
 * sup_child: the children. Positions in the shared region, spawn (fork at
 * the top of the loop, straight into wrk_main), the channel, reaping, the
 * respawn policy (recycle at once, crash with per-index backoff, 78 never),
 * and the crash-loop brake.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "sig.h"
#include "sup.h"

#define STABLE_MS		10000	/* READY this long: the crash backoff starts over */
#define BACKOFF_BASE_MS		1000
#define BACKOFF_MAX_MS		30000
#define CRASH_WINDOW_MS		30000	/* crash-loop brake: K crashes in this window */
#define CRASH_RING		64
/*
 * A replaced child is told QUIET first and TERMINATE this much later: a
 * FETCH it already had out may still bring a job (the server holds a FETCH
 * up to 2 s), and a quiet child runs it, where a terminating one would FAIL
 * it into the retry set.
 */
#define DRAIN_QUIET_MS		2500

static uint64_t crash_ring[CRASH_RING];
static int crash_n;

static void chan_readable(struct ev_loop *, struct ev_io *, uint32_t);
static void timer_fired(struct ev_loop *, struct ev_timer *);

/* K of the brake: more children may crash together when a shared cause hits. */
static int
crash_limit(void)
{
	int k = 3 + sup_env->se_conf->cf_cpus;

	return k > CRASH_RING ? CRASH_RING : k;
}

int
sup_child_init(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	int cpus = cf->cf_cpus > 0 ? cf->cf_cpus : 1;
	int most = cf->cf_concurrency > cf->cf_concurrency_max ? cf->cf_concurrency :
	    cf->cf_concurrency_max;
	/* Each child's slots and in-flight table: sized for concurrency_max, for good. */
	uint32_t cap = (uint32_t)((most + cpus - 1) / cpus);

	sup_env->se_npos = 2 * cpus;
	sup_env->se_slots_max = cap;
	sup_env->se_shm = stats_region_create((uint32_t)sup_env->se_npos, cap,
	    STATS_RING_DEFAULT);
	if (sup_env->se_shm == NULL)
		return -1;
	sup_env->se_child = calloc((size_t)sup_env->se_npos, sizeof(struct sup_child));
	sup_env->se_index = calloc((size_t)cpus, sizeof(struct sup_index));
	if (sup_env->se_child == NULL || sup_env->se_index == NULL)
		return -1;
	for (int p = 0; p < sup_env->se_npos; p++) {
		struct sup_child *c = &sup_env->se_child[p];
		c->ch_pos = p;
		c->ch_index = p / 2;
		c->ch_state = SUP_CH_FREE;
		c->ch_chan = -1;
		ev_timer_init(&c->ch_timer, timer_fired, c);
		stats_region_pos(sup_env->se_shm, (uint32_t)p, &c->ch_sp);
	}
	return 0;
}

void
sup_child_free_all(void)
{
	for (int p = 0; p < sup_env->se_npos; p++) {
		struct sup_child *c = &sup_env->se_child[p];
		ev_timer_stop(sup_env->se_loop, &c->ch_timer);
		if (c->ch_chan >= 0) {
			ev_io_del(sup_env->se_loop, &c->ch_io);
			close(c->ch_chan);
		}
	}
	free(sup_env->se_child);
	free(sup_env->se_index);
	stats_region_destroy(sup_env->se_shm);
}

/* The CPU for a child index: the i-th CPU this process may run on. */
static int
cpu_for(int index)
{
	cpu_set_t set;
	int n, seen = 0;

	if (!sup_env->se_conf->cf_cpu_affinity ||
	    sched_getaffinity(0, sizeof(set), &set) == -1 || (n = CPU_COUNT(&set)) == 0)
		return -1;
	index %= n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && seen++ == index)
			return cpu;
	return -1;
}

/*
 * In the child: drop everything that belongs to the master (control socket,
 * other children's channels, signalfd, epoll, the Faktory connection) by
 * closing every descriptor but stdio and our channel, then become a worker.
 */
static void __attribute__((noreturn))
child_main(struct sup_child *c, int chan)
{
	sig_reset_all();
	/* Started with stdio closed, the channel may sit where stderr belongs. */
	if (chan < 3 && (chan = fcntl(chan, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(SUP_EX_OSERR);
	if (chan > 3)
		close_range(3, (unsigned)chan - 1, 0);
	close_range((unsigned)chan + 1, ~0u, 0);
	/* Only the master talks to systemd. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	log_setproc("worker %d", c->ch_index);
	c->ch_ctx.wc_chan = chan;
	wrk_main(sup_env->se_conf, &c->ch_ctx);
}

static void
fill_ctx(struct sup_child *c)
{
	struct wrk_ctx *x = &c->ch_ctx;

	memset(x, 0, sizeof(*x));
	x->wc_index = c->ch_index;
	x->wc_generation = c->ch_generation;
	x->wc_cpu = cpu_for(c->ch_index);
	x->wc_wid = sup_env->se_wid;
	x->wc_hostname = sup_env->se_hostname;
	x->wc_pid = (long)getpid();
	x->wc_pos = c->ch_sp;
	x->wc_slots = sup_auto_slots(c->ch_index);
	x->wc_slots_max = (int)sup_env->se_slots_max;
	c->ch_slots = x->wc_slots;
}

int
sup_child_spawn(struct sup_child *c)
{
	int sv[2];
	pid_t pid;

	FKW_ASSERT(c->ch_state == SUP_CH_FREE || c->ch_state == SUP_CH_BACKOFF);
	ev_timer_stop(sup_env->se_loop, &c->ch_timer);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("worker %d: socketpair", c->ch_index);
		goto retry;
	}
	stats_pos_clear(&c->ch_sp);
	sup_stats_reset(c);
	c->ch_generation = ++sup_env->se_generation;
	fill_ctx(c);
	if ((pid = fork()) == -1) {
		log_warn("worker %d: fork", c->ch_index);
		close(sv[0]);
		close(sv[1]);
		goto retry;
	}
	if (pid == 0)
		child_main(c, sv[1]);
	close(sv[1]);
	c->ch_pid = pid;
	c->ch_chan = sv[0];
	c->ch_state = SUP_CH_STARTING;
	c->ch_spawned_ms = now_ms();
	c->ch_ready_ms = 0;
	c->ch_recycle = 0;
	net_set_nonblock(c->ch_chan, 1);
	ev_io_init(&c->ch_io, c->ch_chan, chan_readable, c);
	if (ev_io_add(sup_env->se_loop, &c->ch_io, EPOLLIN) == -1)
		log_warn("worker %d: epoll_ctl", c->ch_index);
	log_info("worker %d (pid %d) started%s", c->ch_index, (int)pid,
	    c->ch_ctx.wc_cpu >= 0 ? "" : ", not pinned");
	return 0;
retry:
	/* Out of processes or descriptors: try again later rather than spin. */
	c->ch_state = SUP_CH_BACKOFF;
	ev_timer_start(sup_env->se_loop, &c->ch_timer, BACKOFF_BASE_MS);
	return -1;
}

void
sup_child_start_all(void)
{
	for (int i = 0; i < sup_env->se_conf->cf_cpus; i++)
		sup_child_spawn(&sup_env->se_child[2 * i]);
}

/* BACKOFF: time to respawn. RETIRING: the quiet period of a drain is over. */
static void
timer_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct sup_child *c = t->tm_arg;

	FKW_UNUSED(loop);
	if (c->ch_state == SUP_CH_BACKOFF)
		sup_child_spawn(c);
	else if (c->ch_state == SUP_CH_RETIRING)
		sup_child_send(c, WRK_MSG_TERMINATE);
}

void
sup_child_send(struct sup_child *c, enum wrk_msg m)
{
	unsigned char b = (unsigned char)m;

	if (c->ch_chan < 0)
		return;
	if (send(c->ch_chan, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_warn("worker %d (pid %d): channel", c->ch_index, (int)c->ch_pid);
}

void
sup_child_send_slots(struct sup_child *c, int slots)
{
	unsigned char m[WRK_MSG_SLOTS_LEN];
	uint32_t n = (uint32_t)slots;

	if (c->ch_chan < 0)
		return;
	m[0] = WRK_MSG_SLOTS;
	memcpy(m + 1, &n, sizeof(n));
	if (send(c->ch_chan, m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		log_warn("worker %d (pid %d): channel", c->ch_index, (int)c->ch_pid);
		return;
	}
	c->ch_slots = slots;
}

void
sup_child_retire(struct sup_child *c, enum wrk_msg m)
{
	ev_timer_stop(sup_env->se_loop, &c->ch_timer);
	sup_child_send(c, m);
	if (c->ch_state == SUP_CH_STARTING || c->ch_state == SUP_CH_READY)
		c->ch_state = SUP_CH_RETIRING;
}

void
sup_child_drain(struct sup_child *c)
{
	if (c->ch_state != SUP_CH_STARTING && c->ch_state != SUP_CH_READY)
		return;
	sup_child_send(c, WRK_MSG_QUIET);
	c->ch_state = SUP_CH_RETIRING;
	ev_timer_start(sup_env->se_loop, &c->ch_timer, DRAIN_QUIET_MS);
}

static int
is_live(const struct sup_child *c)
{
	return c->ch_state >= SUP_CH_STARTING;
}

void
sup_child_all(enum wrk_msg m)
{
	for (int p = 0; p < sup_env->se_npos; p++) {
		struct sup_child *c = &sup_env->se_child[p];

		if (m != WRK_MSG_QUIET && c->ch_state == SUP_CH_BACKOFF) {
			ev_timer_stop(sup_env->se_loop, &c->ch_timer);
			c->ch_state = SUP_CH_FREE;
		}
		if (!is_live(c))
			continue;
		if (m == WRK_MSG_QUIET)
			sup_child_send(c, m);
		else
			sup_child_retire(c, m);
	}
}

void
sup_child_kill_all(int sig)
{
	for (int p = 0; p < sup_env->se_npos; p++)
		if (is_live(&sup_env->se_child[p]))
			kill(sup_env->se_child[p].ch_pid, sig);
}

int
sup_child_nlive(void)
{
	int n = 0;

	for (int p = 0; p < sup_env->se_npos; p++)
		n += is_live(&sup_env->se_child[p]);
	return n;
}

int
sup_child_all_ready(void)
{
	for (int i = 0; i < sup_env->se_conf->cf_cpus; i++) {
		struct sup_child *c = sup_child_serving(i);
		if (c == NULL || c->ch_state != SUP_CH_READY)
			return 0;
	}
	return 1;
}

struct sup_child *
sup_child_serving(int index)
{
	struct sup_child *a, *b;

	if (index < 0 || 2 * index + 1 >= sup_env->se_npos)
		return NULL;
	a = &sup_env->se_child[2 * index];
	b = &sup_env->se_child[2 * index + 1];
	if (a->ch_state != SUP_CH_STARTING && a->ch_state != SUP_CH_READY)
		a = NULL;
	if (b->ch_state != SUP_CH_STARTING && b->ch_state != SUP_CH_READY)
		b = NULL;
	if (a != NULL && b != NULL)
		return a->ch_generation > b->ch_generation ? a : b;
	return a != NULL ? a : b;
}

static struct sup_child *
sibling(const struct sup_child *c)
{
	return &sup_env->se_child[c->ch_pos ^ 1];
}

int
sup_child_replace(struct sup_child *c)
{
	struct sup_child *s = sibling(c);

	if (s->ch_state != SUP_CH_FREE)
		return -1;
	return sup_child_spawn(s);
}

/* A newer child of the index is READY: the older one can go. */
static void
on_ready(struct sup_child *c)
{
	struct sup_child *s = sibling(c);

	if (c->ch_state != SUP_CH_STARTING)
		return;
	c->ch_state = SUP_CH_READY;
	c->ch_ready_ms = now_ms();
	log_info("worker %d (pid %d) ready in %.3fs", c->ch_index, (int)c->ch_pid,
	    (double)(c->ch_ready_ms - c->ch_spawned_ms) / 1000);
	if (sup_env->se_state == SUP_ST_QUIET)
		sup_child_send(c, WRK_MSG_QUIET);
	if (s->ch_state == SUP_CH_STARTING || s->ch_state == SUP_CH_READY) {
		log_info("worker %d (pid %d) replaced by pid %d; draining it",
		    s->ch_index, (int)s->ch_pid, (int)c->ch_pid);
		sup_child_drain(s);
	}
	sup_reload_step();
	sup_loop_children_changed();
}

/*
 * Limits reached (max_jobs_per_child, memory_limit): start the successor
 * first. If the sibling position still drains an earlier child, the
 * request waits for it (child_exited); a roll replaces the child anyway.
 */
static void
on_recycle(struct sup_child *c)
{
	if (c->ch_state != SUP_CH_READY)
		return;
	c->ch_recycle = 1;
	if (sup_env->se_state != SUP_ST_RUNNING || sup_child_replace(c) == -1)
		return;
	log_info("worker %d (pid %d) asked to be recycled; starting its successor",
	    c->ch_index, (int)c->ch_pid);
}

static void
chan_close(struct sup_child *c)
{
	if (c->ch_chan < 0)
		return;
	ev_io_del(sup_env->se_loop, &c->ch_io);
	close(c->ch_chan);
	c->ch_chan = -1;
}

static void
chan_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct sup_child *c = io->io_arg;
	unsigned char b;
	ssize_t n;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	for (;;) {
		n = recv(c->ch_chan, &b, 1, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The child is going; waitpid tells how. */
			chan_close(c);
			return;
		}
		switch (b) {
		case WRK_MSG_READY: on_ready(c); break;
		case WRK_MSG_RECYCLE: on_recycle(c); break;
		default:
			log_warnx("worker %d (pid %d): unknown message %u", c->ch_index,
			    (int)c->ch_pid, b);
			break;
		}
	}
}

static struct sup_child *
find_pid(pid_t pid)
{
	for (int p = 0; p < sup_env->se_npos; p++)
		if (is_live(&sup_env->se_child[p]) && sup_env->se_child[p].ch_pid == pid)
			return &sup_env->se_child[p];
	return NULL;
}

/* Records a crash; 1 when the last K crashes all fell inside the window. */
static int
crash_loop(uint64_t now)
{
	int k = crash_limit();

	crash_ring[crash_n++ % CRASH_RING] = now;
	if (crash_n < k)
		return 0;
	return now - crash_ring[(crash_n - k) % CRASH_RING] <= CRASH_WINDOW_MS;
}

static uint64_t
backoff_ms(struct sup_index *ix)
{
	int n = ix->ix_crashes;

	uint64_t d;

	/* The first crash respawns at once: a lone fault should cost no capacity. */
	if (n <= 1)
		return 0;
	d = n - 2 < 16 ? (uint64_t)BACKOFF_BASE_MS << (n - 2) : BACKOFF_MAX_MS;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* "exited on signal 11 (core dumped)", "exited with status 3" */
static void
describe_status(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "exited on signal %d%s", WTERMSIG(st),
		    WCOREDUMP(st) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

static int
is_crash(int st)
{
	return WIFSIGNALED(st) || (WEXITSTATUS(st) != WRK_EX_OK &&
	    WEXITSTATUS(st) != WRK_EX_RECYCLE && WEXITSTATUS(st) != WRK_EX_CONFIG);
}

/*
 * The exec commands a dead child left running: each has a process group of
 * its own, which nothing else ends. SIGKILL at once rather than TERM and a
 * grace: their jobs are FAILed now and run again elsewhere, so a second copy
 * must not go on beside the retry; and the groups' leaders are no longer
 * anyone's to wait for (init reaps them), so a group id is only sure to be
 * theirs now, at the reap, not seconds later. A value the child could never
 * have written (ours, init's) is skipped: it may have died mid-write.
 */
static void
kill_exec_groups(struct sup_child *c)
{
	struct stats_pos *p = &c->ch_sp;
	pid_t own = getpgrp();
	int n = 0;

	for (uint32_t i = 0; i < p->sp_inflight_cap; i++) {
		pid_t g = p->sp_inflight[i].if_pgid;

		p->sp_inflight[i].if_pgid = 0;
		if (g > 1 && g != own && g != getpid() && kill(-g, SIGKILL) == 0)
			n++;
	}
	if (n > 0)
		log_notice("worker %d (pid %d): killed %d exec process group(s) it left running",
		    c->ch_index, (int)c->ch_pid, n);
}

/* FAIL what the child still had in flight, so Faktory retries it now. */
static void
fail_leftovers(struct sup_child *c, int st)
{
	char msg[160];

	if (is_crash(st)) {
		if (WIFSIGNALED(st))
			snprintf(msg, sizeof(msg), "fkworker child %d (pid %d) died: signal %d",
			    c->ch_index, (int)c->ch_pid, WTERMSIG(st));
		else
			snprintf(msg, sizeof(msg), "fkworker child %d (pid %d) died: "
			    "exit status %d", c->ch_index, (int)c->ch_pid, WEXITSTATUS(st));
		sup_beat_fail_inflight(c, "WorkerCrash", msg);
		return;
	}
	snprintf(msg, sizeof(msg), "fkworker child %d (pid %d) exited before the server "
	    "confirmed this job's result", c->ch_index, (int)c->ch_pid);
	sup_beat_fail_inflight(c, "Shutdown", msg);
}

/* Whether the index needs a new child now that c is gone. */
static int
needs_respawn(const struct sup_child *c)
{
	const struct sup_child *s = sibling(c);

	if (c->ch_index >= sup_env->se_conf->cf_cpus)
		return 0;
	/* The sibling serves the index already, or is about to (backoff). */
	if (s->ch_state == SUP_CH_STARTING || s->ch_state == SUP_CH_READY ||
	    s->ch_state == SUP_CH_BACKOFF)
		return 0;
	return sup_env->se_state <= SUP_ST_RELOADING;
}

static void
respawn(struct sup_child *c, int st, uint64_t now, const char *what, double up)
{
	struct sup_index *ix = &sup_env->se_index[c->ch_index];
	uint64_t delay = 0;

	if (is_crash(st)) {
		if (c->ch_ready_ms != 0 && now - c->ch_ready_ms >= STABLE_MS)
			ix->ix_crashes = 0;
		ix->ix_crashes++;
		if (crash_loop(now)) {
			log_errx("worker %d (pid %d) %s after %.3fs; crash loop: %d crashes "
			    "in %ds, giving up (exit %d)", c->ch_index, (int)c->ch_pid, what,
			    up, crash_limit(), CRASH_WINDOW_MS / 1000, SUP_EX_SOFTWARE);
			c->ch_state = SUP_CH_FREE;
			sup_loop_stop(1, SUP_EX_SOFTWARE, "crash loop");
			return;
		}
		delay = backoff_ms(ix);
	}
	ix->ix_restarts++;
	if (is_crash(st))
		log_warnx("worker %d (pid %d) %s after %.3fs; respawn in %llus",
		    c->ch_index, (int)c->ch_pid, what, up,
		    (unsigned long long)(delay + 999) / 1000);
	else
		log_info("worker %d (pid %d) %s after %.3fs; %s", c->ch_index,
		    (int)c->ch_pid, what, up, WEXITSTATUS(st) == WRK_EX_RECYCLE ?
		    "recycled, respawn now" : "respawn now");
	c->ch_state = SUP_CH_BACKOFF;
	if (delay == 0)
		sup_child_spawn(c);
	else
		ev_timer_start(sup_env->se_loop, &c->ch_timer, delay);
}

static void
child_exited(struct sup_child *c, int st)
{
	uint64_t now = now_ms();
	double up = (double)(now - c->ch_spawned_ms) / 1000;
	struct sup_child *s = sibling(c);
	char what[64];

	kill_exec_groups(c);
	sup_stats_drain(c);
	sup_stats_fold(c);
	sup_count_fold(c);
	fail_leftovers(c, st);
	chan_close(c);
	describe_status(st, what, sizeof(what));
	if (WIFEXITED(st) && WEXITSTATUS(st) == WRK_EX_CONFIG) {
		c->ch_state = SUP_CH_FREE;
		if (sup_reload_is_rolling_child(c)) {
			log_errx("worker %d (pid %d) exited with status 78 on the new "
			    "configuration", c->ch_index, (int)c->ch_pid);
			sup_reload_abort("the new configuration was refused (bad "
			    "credentials or unusable settings: see the log)");
		} else {
			log_errx("worker %d (pid %d) exited with status 78 (bad configuration "
			    "or credentials); stopping: retrying cannot help", c->ch_index,
			    (int)c->ch_pid);
			sup_loop_stop(1, SUP_EX_CONFIG, "a child refused the configuration");
		}
	} else if (c->ch_ready_ms == 0 && sup_reload_is_rolling_child(c)) {
		c->ch_state = SUP_CH_FREE;
		log_errx("worker %d (pid %d) %s before it was ready on the new configuration",
		    c->ch_index, (int)c->ch_pid, what);
		sup_reload_abort("a child on the new configuration died before it was ready");
	} else if (needs_respawn(c)) {
		respawn(c, st, now, what, up);
	} else {
		c->ch_state = SUP_CH_FREE;
		/* Its successor started first (on_recycle): it was replaced all the same. */
		if (WIFEXITED(st) && WEXITSTATUS(st) == WRK_EX_RECYCLE)
			sup_env->se_index[c->ch_index].ix_restarts++;
		if (is_crash(st))
			log_warnx("worker %d (pid %d) %s after %.3fs", c->ch_index,
			    (int)c->ch_pid, what, up);
		else
			log_info("worker %d (pid %d) %s after %.3fs", c->ch_index,
			    (int)c->ch_pid, what, up);
	}
	/* A recycle request that waited for this position. */
	if (s->ch_recycle && s->ch_state == SUP_CH_READY)
		on_recycle(s);
	sup_reload_step();
	sup_loop_children_changed();
}

void
sup_child_reap(void)
{
	struct sup_child *c;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((c = find_pid(pid)) != NULL)
			child_exited(c, st);
	}
}
