/* SPDX-License-Identifier: MIT */
/*
 * rtt_floor: what one request/reply round trip over loopback TCP costs the
 * client in CPU on this machine, with no protocol work at all: a 60-byte
 * write and a 200-byte reply, like an ACK+FETCH and a small job. make bench
 * prints it next to fkworker's CPU per job, since a worker that ACKs and
 * FETCHes once per job cannot cost less than this.
 *
 * rtt_floor          both ends on the CPU it was started on (taskset): the
 *                    other end runs when this one blocks, a local wake-up;
 * rtt_floor cross    this end on one allowed CPU, the other end on another,
 *                    so that each message wakes a process on another core:
 *                    a job that arrives alone at a child pays that wake-up
 *                    (on a virtual machine an inter-processor interrupt and
 *                    the hypervisor's part in it can cost several times the
 *                    round trip itself).
 * Prints the client's user and system CPU per round trip, in us.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int rounds = 100000;

/* pin_to(k): this process onto the k-th CPU it may run on; -1 if none. */
static int
pin_to(const cpu_set_t *allowed, int k)
{
	cpu_set_t one;

	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, allowed) || k-- > 0)
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		return sched_setaffinity(0, sizeof(one), &one);
	}
	return -1;
}

static void
server(int l)
{
	char buf[512];
	int one = 1, c = accept(l, NULL, NULL);

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < rounds; i++)
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
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	struct rusage r0, r1;
	char buf[512];
	int l, s, one = 1;
	pid_t pid;
	cpu_set_t allowed;
	int cross = argc > 1 && strcmp(argv[1], "cross") == 0;

	if (cross) {
		rounds = 20000;	/* each round trip is two cross-CPU wake-ups: slow */
		if (sched_getaffinity(0, sizeof(allowed), &allowed) == -1 ||
		    CPU_COUNT(&allowed) < 2) {
			fprintf(stderr, "rtt_floor: cross needs two CPUs\n");
			return 1;
		}
	}

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&a, &al) == -1) {
		perror("rtt_floor: listen");
		return 1;
	}
	if ((pid = fork()) == 0) {
		if (cross && pin_to(&allowed, 1) == -1)
			_exit(1);
		server(l);
	}
	if (cross && pin_to(&allowed, 0) == -1) {
		perror("rtt_floor: sched_setaffinity");
		return 1;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == -1) {
		perror("rtt_floor: connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 'x', sizeof(buf));
	getrusage(RUSAGE_SELF, &r0);
	for (int i = 0; i < rounds; i++) {
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
	printf("%.2f %.2f\n", usec(&r0.ru_utime, &r1.ru_utime) / rounds,
	    usec(&r0.ru_stime, &r1.ru_stime) / rounds);
	return 0;
}
