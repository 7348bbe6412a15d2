/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec: the exec handler. Each job runs the configured command in a
 * process group of its own with the job's JSON on stdin. The loop feeds
 * stdin, keeps the tail of stderr and learns of the exit through a pidfd (or
 * SIGCHLD on a signalfd where pidfd_open is missing). Exit 0 is ACK; anything
 * else is FAIL "ExecFailed" with the tail of stderr as the message.
 *
 * A process outlives its job when the job is cancelled (timeout, shutdown):
 * the slot is reused at once, so the process record moves to the orphans,
 * which this module keeps reaping on its own and SIGKILLs at child exit.
 * Each process group is published in the shared in-flight table until its
 * leader is reaped, so that the master can kill it should the child die
 * without doing so (wrk_exec_pgid.c).
 *
 * This file is the process's life on the loop, from the spawn to the
 * result. Starting it (pipes, environment, posix_spawn attributes) is in
 * wrk_exec_spawn.c, done off the loop by the threads of wrk_exec_spawner.c,
 * and making the FAIL message from stderr in wrk_exec_tail.c: none needs
 * the process record.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"
#include "util.h"
#include "wrk_exec_int.h"
#include "wrk_job.h"

#define EXEC_EOF_GRACE_MS	100	/* after the exit, wait this long for stderr EOF */
#define EXEC_KILL_GRACE_MS	2000	/* SIGTERM, then SIGKILL after this */
#define EXEC_READ_ROUNDS	16	/* reads per wakeup: a stderr flood cannot starve the loop */

enum exec_state {
	EX_FREE,	/* on the free list */
	EX_SPAWNING,	/* queued to or run by a spawner thread; ep_req is theirs */
	EX_RUNNING,	/* serving its job; process not reaped */
	EX_EXITED,	/* reaped; waiting for stderr EOF or the grace to complete the job */
	EX_ORPHAN,	/* job cancelled; SIGTERM sent, SIGKILL on the timer, reaped later */
};

struct exec_proc {
	enum exec_state	  ep_state;
	struct wrk_job	 *ep_job;
	pid_t		  ep_pid;
	int		  ep_pidfd;	/* -1 under the SIGCHLD fallback */
	struct ev_io	  ep_pidio;
	int		  ep_in;	/* our end of the stdin pipe, or -1 */
	struct ev_io	  ep_inio;
	size_t		  ep_inoff;	/* bytes of the JSON and its "\n" written */
	int		  ep_err;	/* our end of the stderr pipe, or -1 */
	struct ev_io	  ep_errio;
	struct ev_timer	  ep_timer;	/* EOF grace (EXITED) or SIGKILL (ORPHAN) */
	int		  ep_code;	/* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
	int		  ep_status;	/* exit status or signal */
	uint64_t	  ep_killat;	/* ORPHAN: when SIGKILL is due (now_ms) */
	struct wrk_exec_tail ep_tail;	/* the last bytes of stderr */
	struct wrk_exec_req ep_req;	/* the spawn; its buffers are reused */
	int		  ep_pgent;	/* in-flight table entry of its group, or -1 */
	struct exec_proc *ep_next;	/* live list, or free list */
	struct exec_proc *ep_prev;
};

static struct {
	struct ev_loop	  *x_loop;
	pid_t		   x_owner;	/* the process that ran init (atexit is inherited by forks) */
	int		   x_pidfd;	/* pidfd_open works */
	int		   x_sigfd;	/* SIGCHLD fallback, or -1 */
	struct ev_io	   x_sigio;
	struct exec_proc  *x_live;	/* every process not yet released */
	struct exec_proc  *x_free;
	int		   x_atexit;
} ex = { .x_sigfd = -1 };

static void	proc_complete(struct exec_proc *);
static void	pidfd_readable(struct ev_loop *, struct ev_io *, uint32_t);
static void	stdin_writable(struct ev_loop *, struct ev_io *, uint32_t);
static void	stderr_readable(struct ev_loop *, struct ev_io *, uint32_t);

/* ==== Process records ==== */

static struct exec_proc *
proc_get(void)
{
	struct exec_proc *p = ex.x_free;

	if (p != NULL)
		ex.x_free = p->ep_next;
	else if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->ep_job = NULL;
	p->ep_pid = -1;
	p->ep_pidfd = p->ep_in = p->ep_err = -1;
	ev_io_init(&p->ep_pidio, -1, pidfd_readable, p);
	ev_io_init(&p->ep_inio, -1, stdin_writable, p);
	ev_io_init(&p->ep_errio, -1, stderr_readable, p);
	p->ep_inoff = p->ep_tail.et_len = p->ep_tail.et_head = 0;
	p->ep_code = p->ep_status = 0;
	ev_timer_init(&p->ep_timer, NULL, p);
	p->ep_pgent = -1;
	p->ep_req.rq_pgid = NULL;
	p->ep_req.rq_pid = -1;
	p->ep_next = ex.x_live;
	p->ep_prev = NULL;
	if (ex.x_live != NULL)
		ex.x_live->ep_prev = p;
	ex.x_live = p;
	p->ep_state = EX_SPAWNING;
	return p;
}

/* Before the leader is reaped: after that its group id may be anyone's. */
static void
pgid_forget(struct exec_proc *p)
{
	wrk_exec_pgid_put(p->ep_pgent);
	p->ep_pgent = -1;
	p->ep_req.rq_pgid = NULL;
}

static void
fd_close(struct ev_io *io, int *fd)
{
	if (*fd == -1)
		return;
	if (io->io_events != 0)
		ev_io_del(ex.x_loop, io);
	close(*fd);
	*fd = -1;
}

/* Closes what the record holds and puts it on the free list; the process must be reaped. */
static void
proc_put(struct exec_proc *p)
{
	fd_close(&p->ep_inio, &p->ep_in);
	fd_close(&p->ep_errio, &p->ep_err);
	fd_close(&p->ep_pidio, &p->ep_pidfd);
	ev_timer_stop(ex.x_loop, &p->ep_timer);
	pgid_forget(p);
	if (p->ep_prev != NULL)
		p->ep_prev->ep_next = p->ep_next;
	else
		ex.x_live = p->ep_next;
	if (p->ep_next != NULL)
		p->ep_next->ep_prev = p->ep_prev;
	p->ep_state = EX_FREE;
	p->ep_job = NULL;
	p->ep_next = ex.x_free;
	ex.x_free = p;
}


/* ==== Pipes ==== */

static void
stdin_close(struct exec_proc *p)
{
	fd_close(&p->ep_inio, &p->ep_in);
}

/*
 * Writes the job and a newline without blocking: a job larger than the
 * pipe buffer goes out as the command reads it. EPIPE (the command does not
 * read stdin, or stopped reading) just ends the feeding.
 */
static void
stdin_feed(struct exec_proc *p)
{
	const char *raw = p->ep_job->jb_raw != NULL ? p->ep_job->jb_raw : "";
	size_t rlen = p->ep_job->jb_raw != NULL ? p->ep_job->jb_raw_len : 0;
	struct iovec iov[2];
	ssize_t w;
	int n;

	while (p->ep_inoff < rlen + 1) {
		n = 0;
		if (p->ep_inoff < rlen) {
			iov[n].iov_base = (char *)(uintptr_t)(raw + p->ep_inoff);
			iov[n++].iov_len = rlen - p->ep_inoff;
		}
		iov[n].iov_base = (char *)(uintptr_t)"\n";
		iov[n++].iov_len = 1;
		if ((w = writev(p->ep_in, iov, n)) >= 0) {
			p->ep_inoff += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (p->ep_inio.io_events == 0 &&
			    ev_io_add(ex.x_loop, &p->ep_inio, EPOLLOUT) == -1)
				break;
			return;
		}
		break;
	}
	stdin_close(p);
}

static void
stdin_writable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	stdin_feed(io->io_arg);
}

static void
stderr_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct exec_proc *p = io->io_arg;
	char b[4096];
	ssize_t n;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	for (int i = 0; i < EXEC_READ_ROUNDS; i++) {
		if ((n = read(p->ep_err, b, sizeof(b))) > 0) {
			wrk_exec_tail_add(&p->ep_tail, b, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		fd_close(&p->ep_errio, &p->ep_err);
		if (p->ep_state == EX_EXITED)
			proc_complete(p);
		return;
	}
}


/* ==== Completion, reaping, cancel ==== */

/* Ends the job with the process's result and releases the record. */
static void
proc_complete(struct exec_proc *p)
{
	struct wrk_job *j = p->ep_job;
	char msg[EXEC_MSG_MAX + 1];
	int ok = p->ep_code == CLD_EXITED && p->ep_status == 0;

	if (!ok)
		wrk_exec_tail_message(&p->ep_tail, p->ep_code, p->ep_status, msg, sizeof(msg));
	proc_put(p);
	if (j == NULL)
		return;
	j->jb_hdata = NULL;
	wrk_job_done(j, ok, "ExecFailed", ok ? NULL : msg);
}

static void
eof_grace_fired(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	/* A background process of the command still holds stderr: do not wait for it. */
	proc_complete(t->tm_arg);
}

/*
 * Reaps p if it has exited: 1 if it did, 0 if it still runs. An orphan's
 * group gets SIGKILL first, while the unreaped leader still pins the group
 * id, so the signal cannot reach a recycled group.
 */
static int
proc_reap(struct exec_proc *p)
{
	idtype_t idt = p->ep_pidfd != -1 ? P_PIDFD : P_PID;
	id_t id = p->ep_pidfd != -1 ? (id_t)p->ep_pidfd : (id_t)p->ep_pid;
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do
		r = waitid(idt, id, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		log_warn("exec: waitid pid %d", (int)p->ep_pid);
		pgid_forget(p);
		si.si_pid = p->ep_pid;
		si.si_code = CLD_KILLED;
		si.si_status = SIGKILL;
	} else if (si.si_pid == 0) {
		return 0;
	} else {
		if (p->ep_state == EX_ORPHAN)
			kill(-p->ep_pid, SIGKILL);
		pgid_forget(p);
		while (waitid(idt, id, &(siginfo_t){ 0 }, WEXITED | WNOHANG) == -1 &&
		    errno == EINTR)
			;
	}
	p->ep_code = si.si_code;
	p->ep_status = si.si_status;
	fd_close(&p->ep_pidio, &p->ep_pidfd);
	return 1;
}

static void
proc_exited(struct exec_proc *p)
{
	if (p->ep_state == EX_ORPHAN) {
		proc_put(p);
		return;
	}
	p->ep_state = EX_EXITED;
	stdin_close(p);
	if (p->ep_err == -1) {
		proc_complete(p);
		return;
	}
	p->ep_timer.tm_cb = eof_grace_fired;
	if (ev_timer_start(ex.x_loop, &p->ep_timer, EXEC_EOF_GRACE_MS) == -1)
		proc_complete(p);
}

static void
pidfd_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct exec_proc *p = io->io_arg;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	if (proc_reap(p))
		proc_exited(p);
}

/*
 * SIGCHLD fallback: one signal may stand for many exits. Completing a job
 * can start others and change the list, so every reaped process restarts
 * the scan.
 */
static void
sigchld_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct exec_proc *p;
	int again = 1;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	while (sig_read(io->io_fd, NULL) > 0)
		;
	while (again) {
		again = 0;
		for (p = ex.x_live; p != NULL; p = p->ep_next) {
			if (p->ep_pidfd != -1 || p->ep_state == EX_EXITED ||
			    p->ep_state == EX_SPAWNING || !proc_reap(p))
				continue;
			proc_exited(p);
			again = 1;
			break;
		}
	}
}

static void
kill_grace_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct exec_proc *p = t->tm_arg;

	FKW_UNUSED(loop);
	log_info("exec: pid %d ignored SIGTERM for %d ms; sending SIGKILL to its group",
	    (int)p->ep_pid, EXEC_KILL_GRACE_MS);
	kill(-p->ep_pid, SIGKILL);
}

/* A process without a job: its group gets SIGTERM now, SIGKILL after EXEC_KILL_GRACE_MS. */
static void
proc_orphan(struct exec_proc *p)
{
	p->ep_state = EX_ORPHAN;
	p->ep_killat = now_ms() + EXEC_KILL_GRACE_MS;
	kill(-p->ep_pid, SIGTERM);
	p->ep_timer.tm_cb = kill_grace_fired;
	if (ev_timer_start(ex.x_loop, &p->ep_timer, EXEC_KILL_GRACE_MS) == -1)
		kill(-p->ep_pid, SIGKILL);
}

/*
 * Timeout or shutdown: the caller FAILs the job and reuses the slot at once,
 * so the record leaves the job, and the process becomes an orphan (now, or
 * when its spawn comes back); the pidfd keeps watching until the exit.
 */
static void
exec_cancel(struct wrk_job *j)
{
	struct exec_proc *p = j->jb_hdata;

	if (p == NULL)
		return;
	j->jb_hdata = NULL;
	p->ep_job = NULL;
	stdin_close(p);
	fd_close(&p->ep_errio, &p->ep_err);
	ev_timer_stop(ex.x_loop, &p->ep_timer);
	if (p->ep_state == EX_SPAWNING)
		return;
	if (p->ep_state == EX_EXITED) {
		proc_put(p);
		return;
	}
	proc_orphan(p);
}


/* ==== Starting ==== */

/* The pidfd, or -1 under the fallback; on failure the process is killed and reaped. */
static int
watch_pid(struct exec_proc *p)
{
	if (!ex.x_pidfd)
		return 0;
	p->ep_pidfd = (int)syscall(SYS_pidfd_open, p->ep_pid, 0);
	if (p->ep_pidfd != -1) {
		ev_io_init(&p->ep_pidio, p->ep_pidfd, pidfd_readable, p);
		if (ev_io_add(ex.x_loop, &p->ep_pidio, EPOLLIN) == 0)
			return 0;
		close(p->ep_pidfd);
		p->ep_pidfd = -1;
	}
	kill(-p->ep_pid, SIGKILL);
	pgid_forget(p);
	while (waitpid(p->ep_pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}

/* The spawn failed (nothing runs) or the process cannot be watched (killed and reaped). */
static void
spawn_failed(struct exec_proc *p, const char *msg)
{
	struct wrk_job *j = p->ep_job;

	proc_put(p);
	if (j == NULL)
		return;
	log_debug("exec: job %s: %s", j->jb_jid, msg);
	j->jb_hdata = NULL;
	wrk_job_done(j, 0, "ExecFailed", msg);
}

/*
 * Back from a spawner thread (or run in place): the process runs, so the
 * loop watches it and feeds its stdin; its job was cancelled meanwhile: it
 * becomes an orphan at once.
 */
static void
proc_spawned(struct wrk_exec_req *r)
{
	struct exec_proc *p = (struct exec_proc *)(void *)((char *)r -
	    offsetof(struct exec_proc, ep_req));
	char msg[EXEC_MSG_MAX + 1];

	if (r->rq_errno != 0) {
		snprintf(msg, sizeof(msg), "cannot run %s: %s", r->rq_argv[0],
		    strerror(r->rq_errno));
		spawn_failed(p, msg);
		return;
	}
	p->ep_pid = r->rq_pid;
	if (watch_pid(p) == -1) {
		snprintf(msg, sizeof(msg), "cannot watch %s (pid %d): %s", r->rq_argv[0],
		    (int)p->ep_pid, strerror(errno));
		spawn_failed(p, msg);
		return;
	}
	if (p->ep_job == NULL) {
		proc_orphan(p);
	} else {
		p->ep_state = EX_RUNNING;
		if (p->ep_err != -1 && ev_io_add(ex.x_loop, &p->ep_errio, EPOLLIN) == -1)
			fd_close(&p->ep_errio, &p->ep_err);
		stdin_feed(p);
	}
	/* Under the SIGCHLD fallback, an exit before now went unnoticed. */
	if (p->ep_pidfd == -1 && proc_reap(p))
		proc_exited(p);
}

/* The pipes and environment on the loop, the spawn itself off it (in place if no thread runs). */
static int
exec_start(struct wrk_job *j)
{
	struct exec_proc *p;
	char msg[EXEC_MSG_MAX + 1];
	int fds[2];

	if (j->jb_conf == NULL || j->jb_conf->h_argv == NULL || j->jb_conf->h_argv[0] == NULL) {
		wrk_job_done(j, 0, "ExecFailed", "exec handler without a command");
		return 0;
	}
	if ((p = proc_get()) == NULL) {
		wrk_job_done(j, 0, "ExecFailed", "out of memory");
		return 0;
	}
	if (wrk_exec_spawn_prepare(&p->ep_req, j, fds, msg, sizeof(msg)) == -1) {
		proc_put(p);
		log_debug("exec: job %s: %s", j->jb_jid, msg);
		wrk_job_done(j, 0, "ExecFailed", msg);
		return 0;
	}
	p->ep_in = fds[0];
	p->ep_err = fds[1];
	fcntl(p->ep_in, F_SETFL, O_NONBLOCK);
	fcntl(p->ep_err, F_SETFL, O_NONBLOCK);
	ev_io_init(&p->ep_inio, p->ep_in, stdin_writable, p);
	ev_io_init(&p->ep_errio, p->ep_err, stderr_readable, p);
	p->ep_req.rq_pgid = wrk_exec_pgid_get(&p->ep_pgent);
	p->ep_job = j;
	j->jb_hdata = p;
	if (wrk_exec_spawner_submit(&p->ep_req) == -1) {
		wrk_exec_spawn_run(&p->ep_req);
		proc_spawned(&p->ep_req);
	}
	return 0;
}

const struct wrk_handler wrk_exec_handler = { "exec", exec_start, exec_cancel };

/* ==== Module ==== */

/*
 * At child exit the loop is gone: reaps p if it has exited (SIGKILL to its
 * group first, as proc_reap does), without touching the loop. 1 if reaped.
 */
static int
exit_reap(struct exec_proc *p)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)p->ep_pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 1;
	if (si.si_pid == 0)
		return 0;
	kill(-p->ep_pid, SIGKILL);
	pgid_forget(p);
	waitpid(p->ep_pid, NULL, WNOHANG);
	return 1;
}

/*
 * Commands still running when the child exits (jobs the stop cancelled, or
 * a fatal exit) must not outlive it, and get the grace a cancel gives:
 * SIGTERM, then SIGKILL to the group EXEC_KILL_GRACE_MS later. The exit
 * waits for that, bounded; the unreaped leaders keep their group ids.
 */
static void
exec_atexit(void)
{
	uint64_t now = now_ms(), last = now;
	struct exec_proc *p;
	int left;

	if (getpid() != ex.x_owner)
		return;
	/* What the threads started is ours to end; what they did not start never will be. */
	wrk_exec_spawner_stop();
	for (p = ex.x_live; p != NULL; p = p->ep_next)
		if (p->ep_state == EX_SPAWNING) {
			p->ep_pid = p->ep_req.rq_pid;
			p->ep_state = p->ep_pid > 0 ? EX_RUNNING : EX_EXITED;
		}
	for (p = ex.x_live; p != NULL; p = p->ep_next)
		if (p->ep_state == EX_RUNNING) {
			p->ep_state = EX_ORPHAN;
			p->ep_killat = now + EXEC_KILL_GRACE_MS;
			kill(-p->ep_pid, SIGTERM);
		}
	do {
		left = 0;
		now = now_ms();
		for (p = ex.x_live; p != NULL; p = p->ep_next) {
			if (p->ep_state != EX_ORPHAN)
				continue;
			if (exit_reap(p)) {
				p->ep_state = EX_EXITED;
				continue;
			}
			if (now >= p->ep_killat)
				kill(-p->ep_pid, SIGKILL);
			last = p->ep_killat > last ? p->ep_killat : last;
			left++;
		}
		if (left > 0)
			usleep(10000);
	} while (left > 0 && now < last + 1000);
}

static int
pidfd_available(void)
{
	int fd;

	if (getenv("FKW_EXEC_NO_PIDFD") != NULL)	/* tests of the fallback */
		return 0;
	if ((fd = (int)syscall(SYS_pidfd_open, getpid(), 0)) == -1)
		return errno != ENOSYS;
	close(fd);
	return 1;
}

int
wrk_exec_init(struct ev_loop *loop, char *err, size_t errlen)
{
	static const int sigs[] = { SIGCHLD, 0 };
	struct sigaction sa;

	ex.x_loop = loop;
	ex.x_owner = getpid();
	/* A command that does not read its stdin makes our write fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* Ignored SIGCHLD (or SA_NOCLDWAIT) would let the kernel reap, losing exit statuses. */
	if (sigaction(SIGCHLD, NULL, &sa) == 0 &&
	    (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT))) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
	}
	if (!ex.x_atexit && atexit(exec_atexit) == 0)
		ex.x_atexit = 1;
	/* Without spawner threads (a message at most), every spawn runs on the loop. */
	if (wrk_exec_spawner_start(loop, proc_spawned, err, errlen) == -1)
		log_warnx("exec: %s; starting commands on the loop", err);
	if (ex.x_sigfd != -1) {
		close(ex.x_sigfd);
		ex.x_sigfd = -1;
	}
	if ((ex.x_pidfd = pidfd_available()))
		return 0;
	log_info("exec: not using pidfd_open; watching commands through SIGCHLD");
	if ((ex.x_sigfd = sig_fd(sigs)) == -1) {
		snprintf(err, errlen, "signalfd for SIGCHLD: %s", strerror(errno));
		return -1;
	}
	ev_io_init(&ex.x_sigio, ex.x_sigfd, sigchld_readable, NULL);
	if (ev_io_add(loop, &ex.x_sigio, EPOLLIN) == -1) {
		snprintf(err, errlen, "epoll add SIGCHLD: %s", strerror(errno));
		close(ex.x_sigfd);
		ex.x_sigfd = -1;
		return -1;
	}
	return 0;
}
