/* SPDX-License-Identifier: MIT */
/*
 * sup_ctl: the control socket. A unix stream socket created under a umask
 * so that its mode is control.mode, peers checked with SO_PEERCRED, then
 * framed msgpack requests (common/ctl.h) answered from the loop. A client
 * that sends something malformed is logged and dropped; the master never
 * dies of its input. Replies that need the loop to progress (status waiting
 * for INFO, reload waiting for the roll) are deferred.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"

#define CLIENTS_MAX	32
#define IDLE_MS		60000
#define INFO_WAIT_MS	1000
#define READ_CHUNK	4096
#define GROUPS_MAX	64

enum cl_state {
	CL_READING,
	CL_WAIT_INFO,		/* status: waiting for the server's INFO */
	CL_WAIT_RELOAD,		/* reload: waiting for the roll to end */
	CL_CLOSING,		/* write what is queued, then close */
};

struct ctl_client {
	int			 cl_fd;
	struct ev_io		 cl_io;
	struct ev_timer		 cl_timer;
	enum cl_state		 cl_state;
	struct buf		 cl_rbuf;
	struct buf		 cl_wbuf;
	uid_t			 cl_uid;
	pid_t			 cl_pid;
	struct ctl_client	*cl_next;
};

static int lfd = -1;
static int bound;
static struct ev_io lio;
static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct ctl_client *clients;
static int nclients;

static void client_io(struct ev_loop *, struct ev_io *, uint32_t);
static void client_timer(struct ev_loop *, struct ev_timer *);
static void client_process(struct ctl_client *);

static void
client_free(struct ctl_client *cl)
{
	struct ctl_client **pp;

	for (pp = &clients; *pp != NULL; pp = &(*pp)->cl_next)
		if (*pp == cl) {
			*pp = cl->cl_next;
			break;
		}
	ev_io_del(sup_env->se_loop, &cl->cl_io);
	ev_timer_stop(sup_env->se_loop, &cl->cl_timer);
	close(cl->cl_fd);
	buf_free(&cl->cl_rbuf);
	buf_free(&cl->cl_wbuf);
	free(cl);
	nclients--;
}

/* Writes what is queued; closes a CLOSING client once done. -1 when it is gone. */
static int
client_flush(struct ctl_client *cl)
{
	while (buf_rlen(&cl->cl_wbuf) > 0) {
		ssize_t n = send(cl->cl_fd, buf_rptr(&cl->cl_wbuf), buf_rlen(&cl->cl_wbuf),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			log_debug("control: uid %d went away: %s", (int)cl->cl_uid,
			    strerror(errno));
			client_free(cl);
			return -1;
		}
		buf_consume(&cl->cl_wbuf, (size_t)n);
	}
	if (buf_rlen(&cl->cl_wbuf) == 0 && cl->cl_state == CL_CLOSING) {
		client_free(cl);
		return -1;
	}
	ev_io_mod(sup_env->se_loop, &cl->cl_io,
	    buf_rlen(&cl->cl_wbuf) > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return 0;
}

static void
reply(struct ctl_client *cl, int ok, const char *error, const char *message,
    struct ctl_status *st)
{
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = ok };

	rp.rp_error = (char *)(uintptr_t)error;
	rp.rp_message = (char *)(uintptr_t)message;
	rp.rp_status = st;
	if (ctl_reply_encode(&cl->cl_wbuf, &rp) == -1) {
		log_warn("control: cannot encode a reply");
		cl->cl_state = CL_CLOSING;
	}
}

/* A deferred or immediate reply is out: the client may send its next request. */
static void
reply_done(struct ctl_client *cl)
{
	if (cl->cl_state != CL_CLOSING)
		cl->cl_state = CL_READING;
	ev_timer_start(sup_env->se_loop, &cl->cl_timer, IDLE_MS);
	if (client_flush(cl) == 0)
		client_process(cl);
}

static void
reply_status(struct ctl_client *cl)
{
	struct ctl_status *st = sup_status_build();

	if (st == NULL)
		reply(cl, 0, "out of memory", NULL, NULL);
	else
		reply(cl, 1, NULL, NULL, st);
	ctl_status_free(st);
	reply_done(cl);
}

static void
reply_busy(struct ctl_client *cl, uint32_t limit)
{
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1 };

	if ((rp.rp_busy = sup_busy_build(limit)) == NULL) {
		reply(cl, 0, "out of memory", NULL, NULL);
	} else if (ctl_reply_encode(&cl->cl_wbuf, &rp) == -1) {
		log_warn("control: cannot encode a reply");
		cl->cl_state = CL_CLOSING;
	}
	ctl_busy_free(rp.rp_busy);
	reply_done(cl);
}

static void
do_quiet(struct ctl_client *cl)
{
	char msg[128];

	if (sup_env->se_state >= SUP_ST_QUIET) {
		snprintf(msg, sizeof(msg), "already %s", sup_loop_state_name(sup_env->se_state));
	} else {
		sup_loop_quiet("fkworkerctl quiet");
		snprintf(msg, sizeof(msg), "quiet: %d children finish their jobs and fetch "
		    "no more (restart to resume)", sup_child_nlive());
	}
	reply(cl, 1, NULL, msg, NULL);
	reply_done(cl);
}

static void
do_stop(struct ctl_client *cl)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "stopping: children finish their jobs (up to %d s), "
	    "then fkworker exits", sup_env->se_conf->cf_shutdown_timeout);
	reply(cl, 1, NULL, msg, NULL);
	reply_done(cl);
	sup_loop_stop(0, SUP_EX_OK, "fkworkerctl stop");
}

static void
dispatch(struct ctl_client *cl, const struct ctl_request *rq)
{
	char err[4096];

	log_debug("control: %s from uid %d (pid %d)", rq->rq_name, (int)cl->cl_uid,
	    (int)cl->cl_pid);
	switch (rq->rq_cmd) {
	case CTL_CMD_STATUS:
		if (rq->rq_queues && sup_beat_refresh_info()) {
			cl->cl_state = CL_WAIT_INFO;
			ev_timer_start(sup_env->se_loop, &cl->cl_timer, INFO_WAIT_MS);
			return;
		}
		reply_status(cl);
		return;
	case CTL_CMD_RELOAD:
		if (sup_reload_start(err, sizeof(err)) == -1) {
			log_warnx("reload refused, the running configuration stays:\n%s", err);
			reply(cl, 0, err, NULL, NULL);
			reply_done(cl);
			return;
		}
		/* sup_reload_start may have finished the roll already. */
		if (sup_env->se_state == SUP_ST_RELOADING) {
			cl->cl_state = CL_WAIT_RELOAD;
			ev_timer_stop(sup_env->se_loop, &cl->cl_timer);
		} else {
			reply(cl, 1, NULL, sup_reload_result(), NULL);
			reply_done(cl);
		}
		return;
	case CTL_CMD_QUIET:
		do_quiet(cl);
		return;
	case CTL_CMD_STOP:
		do_stop(cl);
		return;
	case CTL_CMD_BUSY:
		reply_busy(cl, rq->rq_limit);
		return;
	case CTL_CMD_UNKNOWN:
		break;
	}
	snprintf(err, sizeof(err), "unknown command \"%s\"", rq->rq_name);
	reply(cl, 0, err, NULL, NULL);
	reply_done(cl);
}

/* Handles whole frames while the client is not waiting for a deferred reply. */
static void
client_process(struct ctl_client *cl)
{
	const void *payload;
	size_t plen;
	ssize_t n;
	struct ctl_request rq;
	char err[256];

	while (cl->cl_state == CL_READING) {
		n = ctl_frame_parse(buf_rptr(&cl->cl_rbuf), buf_rlen(&cl->cl_rbuf),
		    &payload, &plen);
		if (n == 0)
			return;
		if (n == -1) {
			log_warnx("control: uid %d (pid %d) sent a frame over %u bytes; "
			    "dropping it", (int)cl->cl_uid, (int)cl->cl_pid, CTL_FRAME_MAX);
			client_free(cl);
			return;
		}
		if (ctl_request_decode(payload, plen, &rq, err, sizeof(err)) == -1) {
			log_warnx("control: malformed request from uid %d (pid %d): %s; "
			    "dropping it", (int)cl->cl_uid, (int)cl->cl_pid, err);
			client_free(cl);
			return;
		}
		buf_consume(&cl->cl_rbuf, (size_t)n);
		if (ctl_request_check(&rq, err, sizeof(err)) == -1) {
			log_warnx("control: uid %d (pid %d): %s", (int)cl->cl_uid,
			    (int)cl->cl_pid, err);
			cl->cl_state = CL_CLOSING;
			reply(cl, 0, err, NULL, NULL);
			client_flush(cl);
			return;
		}
		/* dispatch may reply and recurse into client_process, or free cl. */
		dispatch(cl, &rq);
		return;
	}
}

static void
client_read(struct ctl_client *cl)
{
	ssize_t n;

	for (;;) {
		if (buf_rlen(&cl->cl_rbuf) > CTL_FRAME_MAX + CTL_HDR_LEN) {
			/* Over a frame of requests queued behind a deferred reply: abuse. */
			log_warnx("control: uid %d (pid %d) queued too many requests; "
			    "dropping it", (int)cl->cl_uid, (int)cl->cl_pid);
			client_free(cl);
			return;
		}
		if (buf_reserve(&cl->cl_rbuf, READ_CHUNK) == -1) {
			client_free(cl);
			return;
		}
		n = recv(cl->cl_fd, cl->cl_rbuf.b_data + cl->cl_rbuf.b_len,
		    cl->cl_rbuf.b_cap - cl->cl_rbuf.b_len, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_free(cl);
			return;
		}
		cl->cl_rbuf.b_len += (size_t)n;
		if (cl->cl_state != CL_READING)
			continue;
		client_process(cl);
		return;
	}
}

static void
client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct ctl_client *cl = io->io_arg;

	FKW_UNUSED(loop);
	if ((events & EPOLLOUT) && client_flush(cl) == -1)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(cl);
}

static void
client_timer(struct ev_loop *loop, struct ev_timer *t)
{
	struct ctl_client *cl = t->tm_arg;

	FKW_UNUSED(loop);
	if (cl->cl_state == CL_WAIT_INFO) {
		/* The server is slow: answer with the queue depths we have. */
		reply_status(cl);
		return;
	}
	if (cl->cl_state == CL_READING) {
		log_debug("control: uid %d idle; closing", (int)cl->cl_uid);
		client_free(cl);
	}
}

void
sup_ctl_info_done(void)
{
	struct ctl_client *cl, *next;

	for (cl = clients; cl != NULL; cl = next) {
		next = cl->cl_next;
		if (cl->cl_state == CL_WAIT_INFO)
			reply_status(cl);
	}
}

void
sup_ctl_reload_done(int ok, const char *msg)
{
	struct ctl_client *cl, *next;

	for (cl = clients; cl != NULL; cl = next) {
		next = cl->cl_next;
		if (cl->cl_state != CL_WAIT_RELOAD)
			continue;
		reply(cl, ok, ok ? NULL : msg, ok ? msg : NULL, NULL);
		reply_done(cl);
	}
}

/* Members of the socket's group may connect when the mode lets the group write. */
static int
in_socket_group(int fd, gid_t gid)
{
	struct stat sb;
	gid_t groups[GROUPS_MAX];
	socklen_t len = sizeof(groups);

	if (!(sup_env->se_conf->cf_ctl_mode & 0020) || stat(sockpath, &sb) == -1)
		return 0;
	if (gid == sb.st_gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == sb.st_gid)
			return 1;
	return 0;
}

/* SO_PEERCRED: root, our own uid, or the socket's group. */
static int
peer_allowed(int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return 0;
	}
	return cr->uid == 0 || cr->uid == geteuid() || in_socket_group(fd, cr->gid);
}

static void
refuse(int fd, const struct ucred *cr)
{
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 0 };
	char msg[160];
	struct buf b;

	log_warnx("control: refused uid %d (pid %d): only root, uid %d and the socket's "
	    "group may control fkworker", (int)cr->uid, (int)cr->pid, (int)geteuid());
	snprintf(msg, sizeof(msg), "permission denied: uid %d may not control fkworker",
	    (int)cr->uid);
	rp.rp_error = msg;
	buf_init(&b);
	/* Best effort: a few bytes on a fresh socket, then close either way. */
	if (ctl_reply_encode(&b, &rp) == 0 &&
	    send(fd, b.b_data, b.b_len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("control: refusal not delivered: %s", strerror(errno));
	buf_free(&b);
	close(fd);
}

static void
accept_one(int fd)
{
	struct ctl_client *cl;
	struct ucred cr;

	if (!peer_allowed(fd, &cr)) {
		refuse(fd, &cr);
		return;
	}
	if (nclients >= CLIENTS_MAX || (cl = calloc(1, sizeof(*cl))) == NULL) {
		log_warnx("control: too many clients (%d); closing uid %d", nclients,
		    (int)cr.uid);
		close(fd);
		return;
	}
	cl->cl_fd = fd;
	cl->cl_uid = cr.uid;
	cl->cl_pid = cr.pid;
	cl->cl_state = CL_READING;
	buf_init(&cl->cl_rbuf);
	buf_init(&cl->cl_wbuf);
	ev_io_init(&cl->cl_io, fd, client_io, cl);
	ev_timer_init(&cl->cl_timer, client_timer, cl);
	if (ev_io_add(sup_env->se_loop, &cl->cl_io, EPOLLIN) == -1) {
		log_warn("control: epoll_ctl");
		close(fd);
		free(cl);
		return;
	}
	ev_timer_start(sup_env->se_loop, &cl->cl_timer, IDLE_MS);
	cl->cl_next = clients;
	clients = cl;
	nclients++;
}

static void
listen_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	int fd;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	while ((fd = accept4(io->io_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
		accept_one(fd);
	if (errno != EAGAIN && errno != EINTR)
		log_warn("control: accept");
}

/* mkdir -p of the socket's directory, each new level 0755. */
static int
make_parent(char *err, size_t errlen)
{
	char dir[sizeof(sockpath)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sockpath);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* Another master already answers on this path: do not steal its socket. */
static int
in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd == -1)
		return 0;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return r == 0;
}

int
sup_ctl_open(char *err, size_t errlen)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	struct sockaddr_un sa;
	mode_t old;
	int r;

	if (strlen(cf->cf_ctl_socket) >= sizeof(sockpath)) {
		snprintf(err, errlen, "%s: path longer than %zu bytes", cf->cf_ctl_socket,
		    sizeof(sockpath) - 1);
		return -1;
	}
	snprintf(sockpath, sizeof(sockpath), "%s", cf->cf_ctl_socket);
	if (make_parent(err, errlen) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sockpath, strlen(sockpath));
	if (in_use(&sa)) {
		snprintf(err, errlen, "%s: another fkworker is running (it answers there)",
		    sockpath);
		return -1;
	}
	if (unlink(sockpath) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", sockpath, strerror(errno));
		return -1;
	}
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* The mode is right from the first instant: no window for a chmod race. */
	old = umask((mode_t)(~cf->cf_ctl_mode & 0777));
	r = bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == -1 || listen(lfd, 16) == -1) {
		snprintf(err, errlen, "%s %s: %s", r == -1 ? "bind" : "listen", sockpath,
		    strerror(errno));
		if (r == 0)
			unlink(sockpath);
		close(lfd);
		lfd = -1;
		return -1;
	}
	bound = 1;
	ev_io_init(&lio, lfd, listen_readable, NULL);
	if (ev_io_add(sup_env->se_loop, &lio, EPOLLIN) == -1) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		sup_ctl_close();
		return -1;
	}
	return 0;
}

void
sup_ctl_close(void)
{
	while (clients != NULL)
		client_free(clients);
	if (lfd >= 0) {
		if (lio.io_fd == lfd)
			ev_io_del(sup_env->se_loop, &lio);
		close(lfd);
		lfd = -1;
	}
	if (bound && unlink(sockpath) == -1 && errno != ENOENT)
		log_warn("unlink %s", sockpath);
	bound = 0;
}
