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
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
#include "wrk_job.h"

#define EXEC_MSG_MAX		1000	/* the FAIL message limit (FKP_MESSAGE_MAX) */
#define EXEC_EOF_GRACE_MS	100	/* after the exit, wait this long for stderr EOF */
#define EXEC_KILL_GRACE_MS	2000	/* SIGTERM, then SIGKILL after this */
#define EXEC_READ_ROUNDS	16	/* reads per wakeup: a stderr flood cannot starve the loop */

extern char **environ;

enum exec_state {
	EX_FREE,	/* on the free list */
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
	char		  ep_tail[EXEC_MSG_MAX];	/* ring: the last bytes of stderr */
	size_t		  ep_tlen;
	size_t		  ep_thead;	/* where the next byte goes */
	struct buf	  ep_env;	/* "FKW_JID=..." strings for the spawn */
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
	char		 **x_envp;	/* environ + FKW_* + NULL, rebuilt per spawn */
	size_t		   x_envcap;
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
	else
		buf_init(&p->ep_env);
	p->ep_job = NULL;
	p->ep_pid = -1;
	p->ep_pidfd = p->ep_in = p->ep_err = -1;
	ev_io_init(&p->ep_pidio, -1, pidfd_readable, p);
	ev_io_init(&p->ep_inio, -1, stdin_writable, p);
	ev_io_init(&p->ep_errio, -1, stderr_readable, p);
	p->ep_inoff = p->ep_tlen = p->ep_thead = 0;
	p->ep_code = p->ep_status = 0;
	ev_timer_init(&p->ep_timer, NULL, p);
	p->ep_next = ex.x_live;
	p->ep_prev = NULL;
	if (ex.x_live != NULL)
		ex.x_live->ep_prev = p;
	ex.x_live = p;
	p->ep_state = EX_RUNNING;
	return p;
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

/* ==== stderr tail and the FAIL message ==== */

static void
tail_add(struct exec_proc *p, const char *d, size_t n)
{
	if (n >= sizeof(p->ep_tail)) {
		memcpy(p->ep_tail, d + n - sizeof(p->ep_tail), sizeof(p->ep_tail));
		p->ep_thead = 0;
		p->ep_tlen = sizeof(p->ep_tail);
		return;
	}
	for (size_t k; n > 0; d += k, n -= k) {
		k = sizeof(p->ep_tail) - p->ep_thead;
		if (k > n)
			k = n;
		memcpy(p->ep_tail + p->ep_thead, d, k);
		p->ep_thead = (p->ep_thead + k) % sizeof(p->ep_tail);
		p->ep_tlen = p->ep_tlen + k > sizeof(p->ep_tail) ?
		    sizeof(p->ep_tail) : p->ep_tlen + k;
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * The stderr tail as a C string of valid UTF-8 (a FAIL message goes into
 * JSON): the ring in order, a character cut by the ring's start dropped,
 * invalid bytes and NULs as '?', trailing white space trimmed.
 */
static size_t
tail_text(const struct exec_proc *p, char *out)
{
	size_t start = (p->ep_thead + sizeof(p->ep_tail) - p->ep_tlen) % sizeof(p->ep_tail);
	size_t n = 0, i = 0, k;
	unsigned char *u = (unsigned char *)out;

	for (size_t c = 0; c < p->ep_tlen; c++)
		out[c] = p->ep_tail[(start + c) % sizeof(p->ep_tail)];
	if (p->ep_tlen == sizeof(p->ep_tail))
		while (i < 3 && i < p->ep_tlen && (u[i] & 0xc0) == 0x80)
			i++;
	while (i < p->ep_tlen) {
		if ((k = utf8_seq(u + i, p->ep_tlen - i)) == 0) {
			out[n++] = '?';
			i++;
			continue;
		}
		memmove(out + n, out + i, k);
		n += k;
		i += k;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
	    out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return n;
}

/* "exit status 3: <tail>" or "killed by signal SIGSEGV: <tail>", at most EXEC_MSG_MAX bytes. */
static void
proc_message(const struct exec_proc *p, char *out, size_t outlen)
{
	char tail[EXEC_MSG_MAX + 1];
	size_t tn = tail_text(p, tail), room;
	const char *t = tail;
	int k;

	if (p->ep_code == CLD_EXITED)
		k = snprintf(out, outlen, "exit status %d", p->ep_status);
	else
		k = snprintf(out, outlen, "killed by signal SIG%s%s", sig_name(p->ep_status),
		    p->ep_code == CLD_DUMPED ? " (core dumped)" : "");
	if (tn == 0 || k < 0 || (size_t)k + 3 >= outlen)
		return;
	room = outlen - (size_t)k - 3;
	if (tn > room) {
		t += tn - room;
		while (((unsigned char)*t & 0xc0) == 0x80)
			t++;
	}
	memcpy(out + k, ": ", 2);
	memcpy(out + k + 2, t, strlen(t) + 1);
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
			tail_add(p, b, (size_t)n);
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
		proc_message(p, msg, sizeof(msg));
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
		si.si_pid = p->ep_pid;
		si.si_code = CLD_KILLED;
		si.si_status = SIGKILL;
	} else if (si.si_pid == 0) {
		return 0;
	} else {
		if (p->ep_state == EX_ORPHAN)
			kill(-p->ep_pid, SIGKILL);
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
			if (p->ep_pidfd != -1 || p->ep_state == EX_EXITED || !proc_reap(p))
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

/*
 * Timeout or shutdown: the caller FAILs the job and reuses the slot at once,
 * so the record leaves the job. The process group gets SIGTERM now and
 * SIGKILL after EXEC_KILL_GRACE_MS; the pidfd keeps watching until the exit.
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
	if (p->ep_state == EX_EXITED) {
		proc_put(p);
		return;
	}
	p->ep_state = EX_ORPHAN;
	p->ep_killat = now_ms() + EXEC_KILL_GRACE_MS;
	kill(-p->ep_pid, SIGTERM);
	p->ep_timer.tm_cb = kill_grace_fired;
	if (ev_timer_start(ex.x_loop, &p->ep_timer, EXEC_KILL_GRACE_MS) == -1)
		kill(-p->ep_pid, SIGKILL);
}

/* ==== Spawning ==== */

/* Keeps our pipe ends off 0-2, where the spawn's dup2 onto themselves would keep CLOEXEC. */
static int
fd_high(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
pipe_high(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	fds[0] = fd_high(fds[0]);
	fds[1] = fd_high(fds[1]);
	if (fds[0] != -1 && fds[1] != -1)
		return 0;
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	return -1;
}

static int
env_skip(const char *e)
{
	return strncmp(e, "FKW_JID=", 8) == 0 || strncmp(e, "FKW_JOBTYPE=", 12) == 0 ||
	    strncmp(e, "FKW_QUEUE=", 10) == 0;
}

/* The environment for the command: ours with FKW_JID, FKW_JOBTYPE, FKW_QUEUE. */
static char **
env_build(struct exec_proc *p, const struct wrk_job *j)
{
	json_t *q = j->jb_json != NULL ? json_object_get(j->jb_json, "queue") : NULL;
	const char *queue = json_is_string(q) ? json_string_value(q) : "";
	size_t n = 0, k = 0, off[3];
	struct buf *b = &p->ep_env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if (n + 4 > ex.x_envcap) {
		char **e = realloc(ex.x_envp, (n + 4) * sizeof(*e));
		if (e == NULL)
			return NULL;
		ex.x_envp = e;
		ex.x_envcap = n + 4;
	}
	buf_reset(b);
	off[0] = b->b_len;
	if (buf_printf(b, "FKW_JID=%s", j->jb_jid != NULL ? j->jb_jid : "") == -1 ||
	    buf_append(b, "", 1) == -1)
		return NULL;
	off[1] = b->b_len;
	if (buf_printf(b, "FKW_JOBTYPE=%s", j->jb_jobtype != NULL ? j->jb_jobtype : "") == -1 ||
	    buf_append(b, "", 1) == -1)
		return NULL;
	off[2] = b->b_len;
	if (buf_printf(b, "FKW_QUEUE=%s", queue) == -1 || buf_append(b, "", 1) == -1)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!env_skip(environ[i]))
			ex.x_envp[k++] = environ[i];
	for (size_t i = 0; i < 3; i++)
		ex.x_envp[k++] = b->b_data + off[i];
	ex.x_envp[k] = NULL;
	return ex.x_envp;
}

/*
 * The command's stdio: stdin and stderr from our pipes, stdout to
 * /dev/null. Its own process group (so a timeout can end what it started),
 * an empty signal mask and default dispositions (the worker blocks and
 * ignores signals that a command must see).
 */
static int
spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int in, int er)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_init(fa) != 0)
		return ENOMEM;
	if (posix_spawnattr_init(at) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return ENOMEM;
	}
	if (posix_spawn_file_actions_adddup2(fa, in, 0) != 0 ||
	    posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(fa, er, 2) != 0 ||
	    posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(at, 0) != 0 ||
	    posix_spawnattr_setsigmask(at, &none) != 0 ||
	    posix_spawnattr_setsigdefault(at, &all) != 0) {
		posix_spawn_file_actions_destroy(fa);
		posix_spawnattr_destroy(at);
		return ENOMEM;
	}
	return 0;
}

static int
spawn_cmd(struct exec_proc *p, const struct wrk_job *j, int in, int er)
{
	char *const *argv = j->jb_conf->h_argv;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char **envp;
	int rc;

	if ((envp = env_build(p, j)) == NULL)
		return ENOMEM;
	if ((rc = spawn_setup(&fa, &at, in, er)) != 0)
		return rc;
	rc = posix_spawnp(&p->ep_pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

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
	while (waitpid(p->ep_pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}

/* Starts the command; -1 with msg set (and nothing left open) on failure. */
static int
proc_spawn(struct exec_proc *p, const struct wrk_job *j, char *msg, size_t msglen)
{
	const char *cmd = j->jb_conf->h_argv[0];
	int in[2], er[2], rc;

	if (pipe_high(in) == -1) {
		snprintf(msg, msglen, "cannot start %s: pipe: %s", cmd, strerror(errno));
		return -1;
	}
	if (pipe_high(er) == -1) {
		snprintf(msg, msglen, "cannot start %s: pipe: %s", cmd, strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	rc = spawn_cmd(p, j, in[0], er[1]);
	close(in[0]);
	close(er[1]);
	p->ep_in = in[1];
	p->ep_err = er[0];
	if (rc != 0) {
		snprintf(msg, msglen, "cannot run %s: %s", cmd, strerror(rc));
		return -1;
	}
	if (watch_pid(p) == -1) {
		snprintf(msg, msglen, "cannot watch %s (pid %d): %s", cmd, (int)p->ep_pid,
		    strerror(errno));
		return -1;
	}
	fcntl(p->ep_in, F_SETFL, O_NONBLOCK);
	fcntl(p->ep_err, F_SETFL, O_NONBLOCK);
	ev_io_init(&p->ep_inio, p->ep_in, stdin_writable, p);
	ev_io_init(&p->ep_errio, p->ep_err, stderr_readable, p);
	if (ev_io_add(ex.x_loop, &p->ep_errio, EPOLLIN) == -1)
		fd_close(&p->ep_errio, &p->ep_err);
	return 0;
}

static int
exec_start(struct wrk_job *j)
{
	struct exec_proc *p;
	char msg[EXEC_MSG_MAX + 1];

	if (j->jb_conf == NULL || j->jb_conf->h_argv == NULL || j->jb_conf->h_argv[0] == NULL) {
		wrk_job_done(j, 0, "ExecFailed", "exec handler without a command");
		return 0;
	}
	if ((p = proc_get()) == NULL) {
		wrk_job_done(j, 0, "ExecFailed", "out of memory");
		return 0;
	}
	if (proc_spawn(p, j, msg, sizeof(msg)) == -1) {
		proc_put(p);
		log_debug("exec: job %s: %s", j->jb_jid, msg);
		wrk_job_done(j, 0, "ExecFailed", msg);
		return 0;
	}
	p->ep_job = j;
	j->jb_hdata = p;
	stdin_feed(p);
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
