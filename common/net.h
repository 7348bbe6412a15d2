/* SPDX-License-Identifier: MIT */
/* net: socket helpers; errors go to a caller buffer, never to the log (redis anet). */
#ifndef FKW_NET_H
#define FKW_NET_H

#include <stddef.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage	na_ss;
	socklen_t		na_len;
};

/* Resolves host:port (numeric or by name) to the first TCP address. */
int	net_resolve(const char *host, const char *port, struct net_addr *,
	    char *err, size_t errlen);
/*
 * Starts a non-blocking TCP connect with TCP_NODELAY and close-on-exec set.
 * Returns the fd (connect may still be in progress: wait for EPOLLOUT, then
 * net_connect_result), or -1.
 */
int	net_connect_nb(const struct net_addr *, char *err, size_t errlen);
/* 0 if the pending connect on fd succeeded, else -1 with errno and err set. */
int	net_connect_result(int fd, char *err, size_t errlen);
/* A blocking connect with a timeout in ms (used by tools, not the hot path). */
int	net_connect_timeout(const struct net_addr *, int timeout_ms, char *err,
	    size_t errlen);
/* Listening TCP socket bound to host:port, non-blocking, SO_REUSEADDR. */
int	net_listen_tcp(const char *host, const char *port, int backlog,
	    char *err, size_t errlen);
/*
 * Splits a listen address "IP:PORT" (IPv6 as "[IP]:PORT") into numeric host
 * and port strings (port 0: any free one). 0, or -1 with *why a static reason ("missing :PORT",
 * "not an IP address", "port must be 0..65535").
 */
int	net_split_listen(const char *addr, char *host, size_t hostlen, char *port,
	    size_t portlen, const char **why);
/* The bound port of a socket, or -1. */
int	net_local_port(int fd);
int	net_set_nonblock(int fd, int on);
int	net_set_nodelay(int fd);
/* "host:port" of an address for messages. */
const char *net_addr_str(const struct net_addr *, char *buf, size_t len);

#endif
