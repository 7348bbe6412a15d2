/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: FAKTORY_URL strings through fkp_url_parse. Whatever
 * parses must give a host, a port in 1..65535 and NUL-terminated fields, and
 * must parse to the same thing again when written back as tcp://host:port.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_url: %s\n", what);
		abort();
	}
}

static void
reparse(const struct fkp_url *u)
{
	struct fkp_url again;
	char url[300], err[256];
	int v6 = strchr(u->u_host, ':') != NULL;

	snprintf(url, sizeof(url), "%s://%s%s%s:%s", u->u_tls ? "tcp+tls" : "tcp",
	    v6 ? "[" : "", u->u_host, v6 ? "]" : "", u->u_port);
	check(fkp_url_parse(url, &again, err, sizeof(err)) == 0, "written back, does not parse");
	check(strcmp(again.u_host, u->u_host) == 0 && strcmp(again.u_port, u->u_port) == 0 &&
	    again.u_tls == u->u_tls, "written back, parses differently");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fkp_url u;
	char *s, err[256];
	long port;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (fkp_url_parse(s, &u, err, sizeof(err)) == 0) {
		check(memchr(u.u_host, '\0', sizeof(u.u_host)) != NULL &&
		    memchr(u.u_port, '\0', sizeof(u.u_port)) != NULL &&
		    memchr(u.u_user, '\0', sizeof(u.u_user)) != NULL &&
		    memchr(u.u_password, '\0', sizeof(u.u_password)) != NULL, "field not terminated");
		port = strtol(u.u_port, NULL, 10);
		check(u.u_host[0] != '\0' && port >= 1 && port <= 65535, "bad host or port");
		reparse(&u);
	} else {
		check(strncmp(err, "faktory url: ", 13) == 0, "message without prefix");
	}
	free(s);
	return 0;
}
