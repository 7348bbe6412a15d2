/* SPDX-License-Identifier: MIT */
/* net: socket helpers; errors go to a caller buffer, never to the log (redis anet). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

int
net_resolve(const char *host, const char *port, struct net_addr *na,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "resolve %s:%s: %s", host, port,
		    gai_strerror(r));
		return -1;
	}
	memcpy(&na->na_ss, res->ai_addr, res->ai_addrlen);
	na->na_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *
net_addr_str(const struct net_addr *na, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (na->na_ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&na->na_ss;
		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (na->na_ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&na->na_ss;
		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

int
net_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

int
net_set_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_connect_nb(const struct net_addr *na, char *err, size_t errlen)
{
	char a[64];
	int fd, one = 1;

	fd = socket(na->na_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	net_set_nodelay(fd);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&na->na_ss, na->na_len) == -1 &&
	    errno != EINPROGRESS) {
		int e = errno;
		snprintf(err, errlen, "connect %s: %s",
		    net_addr_str(na, a, sizeof(a)), strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
net_connect_result(int fd, char *err, size_t errlen)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0) {
		snprintf(err, errlen, "connect: %s", strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int
net_connect_timeout(const struct net_addr *na, int timeout_ms, char *err,
    size_t errlen)
{
	struct pollfd pfd;
	int fd, r;

	if ((fd = net_connect_nb(na, err, errlen)) == -1)
		return -1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		snprintf(err, errlen, "connect: timed out after %d ms", timeout_ms);
		close(fd);
		errno = ETIMEDOUT;
		return -1;
	}
	if (r == -1 || net_connect_result(fd, err, errlen) == -1) {
		int e = errno;
		if (r == -1)
			snprintf(err, errlen, "poll: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	net_set_nonblock(fd, 0);
	return fd;
}

int
net_listen_tcp(const char *host, const char *port, int backlog, char *err,
    size_t errlen)
{
	struct net_addr na;
	int fd, one = 1;

	if (net_resolve(host, port, &na, err, errlen) == -1)
		return -1;
	fd = socket(na.na_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&na.na_ss, na.na_len) == -1 ||
	    listen(fd, backlog) == -1) {
		int e = errno;
		snprintf(err, errlen, "listen %s:%s: %s", host, port, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
net_split_listen(const char *addr, char *host, size_t hostlen, char *port, size_t portlen,
    const char **why)
{
	const char *colon = strrchr(addr, ':'), *h = addr;
	unsigned char sa[sizeof(struct in6_addr)];
	size_t hl;
	long long p;
	const char *perr;

	if (colon == NULL) {
		*why = "missing :PORT (e.g. \"127.0.0.1:9449\")";
		return -1;
	}
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen) {
		*why = "not an IP address";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	/* An IPv6 address without brackets is ambiguous with its port. */
	if (inet_pton(AF_INET, host, sa) != 1 && (h == addr || inet_pton(AF_INET6, host, sa) != 1)) {
		*why = "not an IP address (IPv6 goes in brackets: \"[::1]:9449\")";
		return -1;
	}
	if (parse_ll(colon + 1, 0, 65535, &p, &perr) == -1 || strlen(colon + 1) >= portlen) {
		*why = "port must be 0..65535";
		return -1;
	}
	snprintf(port, portlen, "%lld", p);
	return 0;
}

int
net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}
