/* SPDX-License-Identifier: MIT */
/*
 * fakedns: an LD_PRELOAD stand-in for DNS in tests (t-net-resolve-again).
 * getaddrinfo() of the name in FKW_FAKEDNS_NAME answers from the file
 * FKW_FAKEDNS_FILE, read again at every call: one line "ADDRESS PORT
 * [DELAY_MS]" (the port stands in for a second server address, since every
 * server a test starts listens on 127.0.0.1 only; the delay plays a slow
 * DNS server); a missing or empty file answers EAI_NONAME, as a name that
 * does not resolve. Each lookup of the name appends "PID PORT" (or "PID
 * NONAME") to FKW_FAKEDNS_FILE.log. Other names go to the real getaddrinfo,
 * whose freeaddrinfo frees every answer.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);

int getaddrinfo(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);

static void
note_lookup(const char *file, const char *answer)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.log", file);
	if ((f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%ld %s\n", (long)getpid(), answer);
	fclose(f);
}

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res)
{
	static gai_fn real;
	const char *name = getenv("FKW_FAKEDNS_NAME");
	const char *file = getenv("FKW_FAKEDNS_FILE");
	char addr[64], port[16];
	long delay_ms = 0;
	FILE *f;
	int n = 0;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	if (real == NULL)
		return EAI_SYSTEM;
	if (node == NULL || name == NULL || file == NULL || strcmp(node, name) != 0)
		return real(node, service, hints, res);
	if ((f = fopen(file, "r")) != NULL) {
		n = fscanf(f, "%63s %15s %ld", addr, port, &delay_ms);
		fclose(f);
	}
	if (delay_ms > 0) {
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (n < 2) {
		note_lookup(file, "NONAME");
		return EAI_NONAME;
	}
	note_lookup(file, port);
	return real(addr, port, hints, res);
}
