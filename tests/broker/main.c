/* SPDX-License-Identifier: MIT */
/*
 * fkbroker: an in-memory server for the Faktory worker protocol, for tests,
 * benchmarks and the demo (never installed). One process, one epoll loop,
 * loopback by default. TERM or INT stop it; it frees everything it holds.
 * See tests/broker/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brk.h"
#include "log.h"
#include "net.h"
#include "sig.h"

enum {
	OPT_PORT_FILE = 256, OPT_PASSWORD, OPT_LATENCY, OPT_SERVICE, OPT_COST, OPT_DROP, OPT_REFUSE,
	OPT_GARBAGE, OPT_RETRY_DELAY, OPT_FETCH_WAIT, OPT_MAX_CONNS, OPT_REAP,
};

static const struct option longopts[] = {
	{ "bind", required_argument, NULL, 'b' },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "latency-us", required_argument, NULL, OPT_LATENCY },
	{ "service-us", required_argument, NULL, OPT_SERVICE },
	{ "cost-us", required_argument, NULL, OPT_COST },
	{ "drop-after", required_argument, NULL, OPT_DROP },
	{ "refuse-ms", required_argument, NULL, OPT_REFUSE },
	{ "garbage-every", required_argument, NULL, OPT_GARBAGE },
	{ "retry-delay-ms", required_argument, NULL, OPT_RETRY_DELAY },
	{ "fetch-wait-ms", required_argument, NULL, OPT_FETCH_WAIT },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "reap-s", required_argument, NULL, OPT_REAP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: fkbroker [-b HOST:PORT] [--port-file F] [--password P]\n"
	    "    [--latency-us N] [--service-us N] [--cost-us N] [--drop-after N]\n"
	    "    [--refuse-ms N] [--garbage-every N] [--retry-delay-ms N] [--fetch-wait-ms N]\n"
	    "    [--max-conns N] [--reap-s N] [-v]\n"
	    "An in-memory Faktory worker-protocol server for tests (default 127.0.0.1:7419).\n");
}

static long long
num_opt(const char *name, const char *s, long long min, long long max)
{
	const char *errstr;
	long long v;

	if (parse_ll(s, min, max, &v, &errstr) == -1) {
		fprintf(stderr, "fkbroker: --%s %s: %s (%lld..%lld)\n", name, s, errstr, min, max);
		exit(64);
	}
	return v;
}

static void
parse_opts(int argc, char **argv, struct brk_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->o_bind = "127.0.0.1:7419";
	o->o_retry_delay_ms = -1;
	o->o_fetch_wait_ms = 2000;
	o->o_max_conns = 2000;
	o->o_reap_s = 60;
	while ((ch = getopt_long(argc, argv, "b:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			o->o_bind = optarg;
			break;
		case OPT_PORT_FILE:
			o->o_port_file = optarg;
			break;
		case OPT_PASSWORD:
			o->o_password = *optarg != '\0' ? optarg : NULL;
			break;
		case OPT_LATENCY:
			o->o_latency_us = num_opt("latency-us", optarg, 0, 60000000);
			break;
		case OPT_SERVICE:
			o->o_service_us = num_opt("service-us", optarg, 0, 60000000);
			break;
		case OPT_COST:
			o->o_cost_us = num_opt("cost-us", optarg, 0, 1000000);
			break;
		case OPT_DROP:
			o->o_drop_after = num_opt("drop-after", optarg, 0, 1000000000);
			break;
		case OPT_REFUSE:
			o->o_refuse_ms = num_opt("refuse-ms", optarg, 0, 3600000);
			break;
		case OPT_GARBAGE:
			o->o_garbage_every = num_opt("garbage-every", optarg, 0, 1000000000);
			break;
		case OPT_RETRY_DELAY:
			o->o_retry_delay_ms = num_opt("retry-delay-ms", optarg, 0, 86400000);
			break;
		case OPT_FETCH_WAIT:
			o->o_fetch_wait_ms = num_opt("fetch-wait-ms", optarg, 0, 600000);
			break;
		case OPT_MAX_CONNS:
			o->o_max_conns = num_opt("max-conns", optarg, 1, 1000000);
			break;
		case OPT_REAP:
			o->o_reap_s = num_opt("reap-s", optarg, 1, 86400);
			break;
		case 'v':
			o->o_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(64);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(64);
	}
}

/* HOST:PORT, [V6]:PORT or PORT alone (then loopback). */
static int
split_bind(const char *s, char *host, size_t hl, char *port, size_t pl)
{
	const char *c = strrchr(s, ':');

	if (c == NULL) {
		snprintf(host, hl, "127.0.0.1");
		snprintf(port, pl, "%s", s);
		return 0;
	}
	if (s[0] == '[' && c > s && c[-1] == ']')
		snprintf(host, hl, "%.*s", (int)(c - s - 2), s + 1);
	else
		snprintf(host, hl, "%.*s", (int)(c - s), s);
	snprintf(port, pl, "%s", c + 1);
	if (*host == '\0')
		snprintf(host, hl, "0.0.0.0");
	return *port != '\0' ? 0 : -1;
}

static int
write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	/* Written aside then renamed, so a reader never sees a half-written number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		return -1;
	return 0;
}

static void
on_signal(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	struct brk *b = io->io_arg;
	int s;

	FKW_UNUSED(events);
	while ((s = sig_read(b->b_sigfd, NULL)) > 0) {
		log_info("SIG%s: stopping", sig_name(s));
		b->b_stopping = 1;
		ev_stop(l);
	}
}

static void
on_due(struct ev_loop *l, struct ev_timer *t)
{
	struct brk *b = t->tm_arg;

	FKW_UNUSED(l);
	b->b_due_at = 0;
	store_run_due(b);
}

static void
teardown(struct brk *b)
{
	conn_free_all(b);
	store_free(b);
	worker_free_all(b);
	audit_free(b);
	fault_free(b);
	ev_timer_stop(b->b_loop, &b->b_due);
	if (b->b_lfd >= 0)
		close(b->b_lfd);
	if (b->b_sigfd >= 0)
		close(b->b_sigfd);
	ev_loop_free(b->b_loop);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, 0 };
	static struct brk brk;
	struct brk *b = &brk;
	char host[256], port[16], err[256];
	int rc = 0, p;

	parse_opts(argc, argv, &b->b_opt);
	log_init("fkbroker", b->b_opt.o_verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO, isatty(2));
	log_setproc("broker");
	if (split_bind(b->b_opt.o_bind, host, sizeof(host), port, sizeof(port)) == -1)
		fatalx(64, "-b %s: expected HOST:PORT", b->b_opt.o_bind);
	b->b_lfd = b->b_sigfd = b->b_kickfd = -1;
	if ((b->b_loop = ev_loop_new()) == NULL)
		fatal(71, "epoll");
	fault_init(b);
	if (conn_init(b) == -1)
		fatal(71, "eventfd");
	ev_timer_init(&b->b_due, on_due, b);
	if ((b->b_sigfd = sig_fd(sigs)) == -1)
		fatal(71, "signalfd");
	ev_io_init(&b->b_sigio, b->b_sigfd, on_signal, b);
	if (ev_io_add(b->b_loop, &b->b_sigio, EPOLLIN) == -1)
		fatal(71, "epoll");
	if (conn_listen(b, host, port, err, sizeof(err)) == -1)
		fatalx(71, "%s", err);
	p = net_local_port(b->b_lfd);
	if (b->b_opt.o_port_file != NULL && write_port_file(b->b_opt.o_port_file, p) == -1)
		fatal(71, "%s", b->b_opt.o_port_file);
	b->b_start_ms = now_ms();
	if (b->b_opt.o_refuse_ms > 0)
		b->b_refuse_until = b->b_start_ms + (uint64_t)b->b_opt.o_refuse_ms;
	b->b_reap_at = brk_vnow(b) + BRK_REAP_EVERY_MS;
	store_run_due(b);
	log_info("listening on %s:%d%s", host, p, b->b_opt.o_password ? " (password set)" : "");
	if (ev_run(b->b_loop) == -1) {
		log_warn("epoll_wait");
		rc = 70;
	}
	teardown(b);
	return rc;
}
