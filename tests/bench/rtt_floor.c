/* SPDX-License-Identifier: MIT */
/*
 * rtt_floor: what one request/reply round trip over loopback TCP costs the
 * client in CPU on this machine, with no protocol work at all: a 60-byte
 * write and a 200-byte reply, like an ACK+FETCH and a small job. make bench
 * prints it next to fkworker's CPU per job, since a worker that ACKs and
 * FETCHes once per job cannot cost less than this.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 100000

static void
server(int l)
{
	char buf[512];
	int one = 1, c = accept(l, NULL, NULL);

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < ROUNDS; i++)
		if (read(c, buf, sizeof(buf)) <= 0 || write(c, buf, 200) != 200)
			break;
	_exit(0);
}

static double
usec(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_usec - a->tv_usec);
}

int
main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	struct rusage r0, r1;
	char buf[512];
	int l, s, one = 1;
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&a, &al) == -1) {
		perror("rtt_floor: listen");
		return 1;
	}
	if ((pid = fork()) == 0)
		server(l);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == -1) {
		perror("rtt_floor: connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 'x', sizeof(buf));
	getrusage(RUSAGE_SELF, &r0);
	for (int i = 0; i < ROUNDS; i++) {
		int n = 0;
		if (write(s, buf, 60) != 60)
			return 1;
		while (n < 200) {
			ssize_t k = read(s, buf, sizeof(buf));
			if (k <= 0)
				return 1;
			n += (int)k;
		}
	}
	getrusage(RUSAGE_SELF, &r1);
	close(s);
	waitpid(pid, NULL, 0);
	printf("%.2f %.2f\n", usec(&r0.ru_utime, &r1.ru_utime) / ROUNDS,
	    usec(&r0.ru_stime, &r1.ru_stime) / ROUNDS);
	return 0;
}
