/* SPDX-License-Identifier: MIT */
/* ctl_client: fkworkerctl's blocking side of the control protocol. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sup.h"

int
ctl_client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = errno;

		snprintf(err, errlen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The group owning the socket, or its directory when that hides the socket. */
static int
socket_group(const char *path, char *name, size_t len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	struct group *gr;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(path, &sb) == -1 && stat(dirname(dir), &sb) == -1)
		return -1;
	if ((gr = getgrgid(sb.st_gid)) != NULL)
		snprintf(name, len, "%s", gr->gr_name);
	else
		snprintf(name, len, "%u", (unsigned)sb.st_gid);
	return 0;
}

void
ctl_client_denied(const char *path, char *msg, size_t len)
{
	char group[64];

	if (socket_group(path, group, sizeof(group)) == -1) {
		snprintf(msg, len, "permission denied on %s: only root, fkworker's user and "
		    "the socket's group may control fkworker (or use sudo)", path);
		return;
	}
	snprintf(msg, len, "permission denied on %s: only root, fkworker's user and members "
	    "of group %s may control fkworker; join it (sudo usermod -aG %s $USER, then log "
	    "in again) or use sudo", path, group, group);
}

/* Waits for fd to be ready for events until the deadline; -1 with err on timeout. */
static int
wait_fd(int fd, short events, uint64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = now_ms();
		if (now >= deadline) {
			snprintf(err, errlen, "no reply from fkworker in time");
			return -1;
		}
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int
send_all(int fd, const struct buf *b, uint64_t deadline, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < b->b_len) {
		ssize_t n = send(fd, b->b_data + off, b->b_len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			int e = errno;
			snprintf(err, errlen, "send: %s", strerror(e));
			errno = e;
			return -1;
		}
		if (wait_fd(fd, POLLOUT, deadline, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
ctl_client_call(int fd, const struct ctl_request *rq, struct ctl_reply *rp,
    int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	const void *payload;
	size_t plen;
	struct buf b;
	ssize_t n;
	int rc = -1;

	buf_init(&b);
	err[0] = '\0';
	if (ctl_request_encode(&b, rq) == -1) {
		snprintf(err, errlen, "cannot encode the request");
		goto out;
	}
	/*
	 * A master that refuses us (peer check, version) writes why and closes,
	 * maybe before our request is out: read what it said before giving up.
	 */
	if (send_all(fd, &b, deadline, err, errlen) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		goto out;
	buf_reset(&b);
	while ((n = ctl_frame_parse(b.b_data, b.b_len, &payload, &plen)) == 0) {
		if (buf_reserve(&b, 64 << 10) == -1) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (wait_fd(fd, POLLIN, deadline, err, errlen) == -1)
			goto out;
		n = recv(fd, b.b_data + b.b_len, b.b_cap - b.b_len, MSG_DONTWAIT);
		if (n == 0) {
			if (err[0] == '\0')
				snprintf(err, errlen, "fkworker closed the connection");
			goto out;
		}
		if (n == -1 && errno != EINTR && errno != EAGAIN) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			goto out;
		}
		if (n > 0)
			b.b_len += (size_t)n;
	}
	if (n == -1) {
		snprintf(err, errlen, "reply larger than %u bytes", CTL_FRAME_MAX);
		goto out;
	}
	if (ctl_reply_decode(payload, plen, rp, err, errlen) == -1)
		goto out;
	if (rp->rp_version != CTL_VERSION && rp->rp_ok) {
		snprintf(err, errlen, "protocol version mismatch: client %d, master %lld",
		    CTL_VERSION, (long long)rp->rp_version);
		ctl_reply_free(rp);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
ctl_client_status(int fd, const char *who, int queues, int timeout_ms, struct ctl_status **out)
{
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_STATUS,
	    .rq_queues = queues };
	struct ctl_reply rp;
	char err[256];

	if (ctl_client_call(fd, &rq, &rp, timeout_ms, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: %s: status: %s\n", who, err);
		return -1;
	}
	if (!rp.rp_ok || rp.rp_status == NULL) {
		fprintf(stderr, "fkworkerctl: %s: status: %s\n", who,
		    rp.rp_error ? rp.rp_error : "no status in the reply");
		ctl_reply_free(&rp);
		return -1;
	}
	*out = rp.rp_status;
	rp.rp_status = NULL;
	ctl_reply_free(&rp);
	return 0;
}
