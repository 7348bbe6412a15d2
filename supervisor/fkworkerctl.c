/* SPDX-License-Identifier: MIT */
/*
 * fkworkerctl: the operator's tool. Talks to the master over its control
 * socket: status [--json], busy [--json] [--limit N], check, reload, quiet,
 * stop, diagnose, top, perf-test N.
 * Exit status: 0 done, 1 the command failed, 64 usage, 69 fkworker is not
 * reachable, 77 the socket refuses this user. check exits with its
 * monitoring-plugin codes instead (ctl_check.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_sample.h"
#include "sup.h"

#define EX_USAGE_	64
#define CALL_MS		10000
#define RELOAD_MS	600000		/* a roll waits for each child's READY */

/* What every command gets: the connection and where it came from. */
struct ctx {
	int		 x_fd;
	const char	*x_sock;
	const char	*x_conf;	/* -c, or NULL */
};

struct cmd {
	const char	*c_name;
	int		(*c_run)(const struct ctx *, int argc, char **argv);
	const char	*c_usage;
	int		 c_plugin;	/* every outcome is one plugin line and code */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fkworkerctl [-s SOCKET | -c CONF] COMMAND\n"
	    "  status [--json]      the host's totals and one row per child\n"
	    "  busy [--json] [--limit 50]\n"
	    "                       the jobs running now, longest first\n"
	    "  check [--timeout 10] one line and exit code for monitoring (0 OK, 1 WARNING,\n"
	    "                       2 CRITICAL, 3 UNKNOWN)\n"
	    "  reload               load the configuration again (prints what changed\n"
	    "                       or its errors)\n"
	    "  quiet                stop fetching; running jobs finish\n"
	    "  stop                 graceful stop (up to worker.shutdown_timeout)\n"
	    "  diagnose [--seconds 10] [--json]\n"
	    "                       samples the host and says what limits it, and what to do\n"
	    "  top [--plain] [-n FRAMES]\n"
	    "                       live status and verdict, refreshed every second (q quits)\n"
	    "  perf-test N [--batch 100] [--jobtype noop] [--args JSON] [--queue default]\n"
	    "            [--url URL] [--timeout S] [--seconds S]\n"
	    "                       push N jobs (or push for S seconds) and measure\n"
	    "                       jobs/sec end to end\n"
	    "  -s SOCKET            control socket (default " CONF_DEFAULT_SOCKET ")\n"
	    "  -c CONF              read control.socket from this configuration file\n"
	    "  --version            print the version and exit\n");
}

/* The master's answer to a peer it refuses (sup_ctl.c) starts with this. */
static int
is_refusal(const char *error)
{
	return error != NULL && strncmp(error, "permission denied", 17) == 0;
}

/* Sends one command; prints the error and returns 1 (77 refused), or 0 with *rp to use and free. */
static int
call(const struct ctx *x, enum ctl_cmd cmd, int timeout_ms, struct ctl_reply *rp)
{
	char hint[768];
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = cmd, .rq_queues = 1 };
	char err[256];
	int rc;

	if (ctl_client_call(x->x_fd, &rq, rp, timeout_ms, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: %s: %s\n", ctl_cmd_name(cmd), err);
		return CTL_EX_ERROR;
	}
	if (!rp->rp_ok) {
		fprintf(stderr, "fkworkerctl: %s: %s\n", ctl_cmd_name(cmd),
		    rp->rp_error ? rp->rp_error : "failed");
		rc = is_refusal(rp->rp_error) ? CTL_EX_NOPERM : CTL_EX_ERROR;
		if (rc == CTL_EX_NOPERM) {
			ctl_client_denied(x->x_sock, hint, sizeof(hint));
			fprintf(stderr, "fkworkerctl: %s\n", hint);
		}
		ctl_reply_free(rp);
		return rc;
	}
	return 0;
}

static int
run_status(const struct ctx *x, int argc, char **argv)
{
	struct ctl_reply rp;
	int json = 0, rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			json = 1;
		else
			return EX_USAGE_;
	}
	if ((rc = call(x, CTL_CMD_STATUS, CALL_MS, &rp)) != 0)
		return rc;
	if (rp.rp_status == NULL) {
		fprintf(stderr, "fkworkerctl: status: the reply has no status\n");
		rc = CTL_EX_ERROR;
	} else if (json) {
		rc = ctl_render_json(stdout, rp.rp_status) == 0 ? 0 : CTL_EX_ERROR;
	} else {
		ctl_render_text(stdout, rp.rp_status);
	}
	ctl_reply_free(&rp);
	return rc;
}

/* Every outcome of check is a plugin line; usage errors are UNKNOWN too. */
static int
check_unknown(const char *why)
{
	ctl_check_print(stdout, CTL_CHECK_UNKNOWN, why, NULL);
	return CTL_CHECK_UNKNOWN;
}

static int
run_check(const struct ctx *x, int argc, char **argv)
{
	/* No queue depths: they need the server's INFO and the grade ignores them. */
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_STATUS };
	struct ctl_reply rp;
	char why[1024], err[256];
	long long secs = 10;
	const char *e;
	enum ctl_check c;

	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--timeout") != 0 && strcmp(argv[i], "-t") != 0) ||
		    i + 1 >= argc || parse_ll(argv[i + 1], 1, 3600, &secs, &e) == -1) {
			snprintf(why, sizeof(why), "usage: fkworkerctl check [--timeout SECONDS] "
			    "(at %.64s)", argv[i]);
			return check_unknown(why);
		}
		i++;
	}
	if (ctl_client_call(x->x_fd, &rq, &rp, (int)secs * 1000, err, sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "control socket %.512s: %s", x->x_sock, err);
		return check_unknown(why);
	}
	if (!rp.rp_ok || rp.rp_status == NULL) {
		snprintf(why, sizeof(why), "status: %.900s",
		    rp.rp_error ? rp.rp_error : "no status in the reply");
		ctl_reply_free(&rp);
		return check_unknown(why);
	}
	c = ctl_check_grade(rp.rp_status, why, sizeof(why));
	ctl_check_print(stdout, c, why, rp.rp_status);
	ctl_reply_free(&rp);
	return c;
}

static int
run_busy(const struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_BUSY,
	    .rq_limit = CTL_BUSY_LIMIT_DEFAULT };
	struct ctl_reply rp;
	char err[256];
	long long v;
	const char *e;
	int json = 0, rc = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], 1, CTL_BUSY_LIMIT_MAX, &v, &e) == -1) {
				fprintf(stderr, "fkworkerctl: busy: --limit: %s\n", e);
				return EX_USAGE_;
			}
			rq.rq_limit = (uint32_t)v;
		} else {
			return EX_USAGE_;
		}
	}
	if (ctl_client_call(x->x_fd, &rq, &rp, CALL_MS, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: busy: %s\n", err);
		return CTL_EX_ERROR;
	}
	if (!rp.rp_ok || rp.rp_busy == NULL) {
		fprintf(stderr, "fkworkerctl: busy: %s\n", rp.rp_error ? rp.rp_error :
		    "the reply has no job list (an older fkworker?)");
		rc = CTL_EX_ERROR;
	} else if (json) {
		rc = ctl_render_busy_json(stdout, rp.rp_busy) == 0 ? 0 : CTL_EX_ERROR;
	} else {
		ctl_render_busy_text(stdout, rp.rp_busy);
	}
	ctl_reply_free(&rp);
	return rc;
}

static int
run_simple(const struct ctx *x, enum ctl_cmd cmd, int timeout_ms, int argc)
{
	struct ctl_reply rp;
	int rc;

	if (argc != 0)
		return EX_USAGE_;
	if ((rc = call(x, cmd, timeout_ms, &rp)) != 0)
		return rc;
	printf("%s\n", rp.rp_message ? rp.rp_message : "ok");
	ctl_reply_free(&rp);
	return 0;
}

static int
run_reload(const struct ctx *x, int argc, char **argv)
{
	FKW_UNUSED(argv);
	return run_simple(x, CTL_CMD_RELOAD, RELOAD_MS, argc);
}

static int
run_quiet(const struct ctx *x, int argc, char **argv)
{
	FKW_UNUSED(argv);
	return run_simple(x, CTL_CMD_QUIET, CALL_MS, argc);
}

static int
run_stop(const struct ctx *x, int argc, char **argv)
{
	FKW_UNUSED(argv);
	return run_simple(x, CTL_CMD_STOP, CALL_MS, argc);
}

static int
number(const char *s, long long min, long long max, long long *v, const char *what)
{
	const char *e;

	if (s == NULL || parse_ll(s, min, max, v, &e) == -1) {
		fprintf(stderr, "fkworkerctl: perf-test: %s: %s\n", what, s ? e : "missing");
		return -1;
	}
	return 0;
}

/* --args: a JSON array, kept in its compact form for the jobs' "args". */
static char *
json_args(const char *val)
{
	json_error_t e;
	json_t *a;
	char *s;

	if (val == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: --args: missing\n");
		return NULL;
	}
	if ((a = json_loads(val, JSON_DECODE_ANY, &e)) == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: --args: not JSON: %s at "
		    "character %d\n", e.text, e.position);
		return NULL;
	}
	if (!json_is_array(a)) {
		fprintf(stderr, "fkworkerctl: perf-test: --args: a job's args must be a "
		    "JSON array, e.g. '[100]'\n");
		json_decref(a);
		return NULL;
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int
run_perf(const struct ctx *x, int argc, char **argv)
{
	/*
	 * 64 PUSHB lines in flight keep the producer ahead of the workers: with
	 * 8 the push itself was the bottleneck on a busy server (measured).
	 */
	struct ctl_perf_opts o = {
		.po_batch = 100, .po_jobtype = "noop", .po_queue = "default",
		.po_timeout = 0, .po_window = 64, .po_args = "[]",
	};
	char *args = NULL;
	long long v;
	int first = 0, rc;

	/* N, unless the run is timed (--seconds). */
	if (argc >= 1 && strncmp(argv[0], "--", 2) != 0) {
		if (number(argv[0], 1, 1000000000, &o.po_jobs, "N") == -1)
			return EX_USAGE_;
		first = 1;
	}
	o.po_conf = x->x_conf;
	/* Every option takes a value: walk them in pairs. */
	for (int i = first; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--batch") == 0) {
			if (number(val, 1, 100000, &v, "--batch") == -1)
				goto usage;
			o.po_batch = (int)v;
		} else if (strcmp(opt, "--timeout") == 0) {
			if (number(val, 1, 86400, &v, "--timeout") == -1)
				goto usage;
			o.po_timeout = (int)v;
		} else if (strcmp(opt, "--jobtype") == 0 && val != NULL) {
			o.po_jobtype = val;
		} else if (strcmp(opt, "--queue") == 0 && val != NULL) {
			o.po_queue = val;
		} else if (strcmp(opt, "--url") == 0 && val != NULL) {
			o.po_url = val;
		} else if (strcmp(opt, "--seconds") == 0) {
			if (number(val, 1, 86400, &v, "--seconds") == -1)
				goto usage;
			o.po_seconds = (int)v;
		} else if (strcmp(opt, "--args") == 0) {
			free(args);
			if ((args = json_args(val)) == NULL)
				goto usage;
			o.po_args = args;
		} else {
			goto usage;
		}
	}
	if (o.po_jobs == 0 && o.po_seconds == 0) {
		fprintf(stderr, "fkworkerctl: perf-test: N (jobs) or --seconds S is needed\n");
		goto usage;
	}
	rc = ctl_perf_run(x->x_fd, x->x_sock, &o);
	free(args);
	return rc;
usage:
	free(args);
	return EX_USAGE_;
}

static int
run_diagnose(const struct ctx *x, int argc, char **argv)
{
	long long seconds = 10;
	int json = 0;
	const char *e;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], 2, 3600, &seconds, &e) == -1) {
				fprintf(stderr, "fkworkerctl: diagnose: --seconds %s: %s\n",
				    argv[i], e);
				return EX_USAGE_;
			}
		} else {
			return EX_USAGE_;
		}
	}
	return ctl_diag_run(x->x_fd, (int)seconds, json);
}

static int
run_top(const struct ctx *x, int argc, char **argv)
{
	long long frames = 0;
	int plain = 0;
	const char *e;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--plain") == 0) {
			plain = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], 1, 1000000, &frames, &e) == -1) {
				fprintf(stderr, "fkworkerctl: top: -n %s: %s\n", argv[i], e);
				return EX_USAGE_;
			}
		} else {
			return EX_USAGE_;
		}
	}
	return ctl_top_run(x->x_fd, (long)frames, plain);
}

static const struct cmd cmds[] = {
	{ "status", run_status, "status [--json]", 0 },
	{ "busy", run_busy, "busy [--json] [--limit N] (N 1..4000, default 50)", 0 },
	{ "check", run_check, "check [--timeout SECONDS]", 1 },
	{ "reload", run_reload, "reload", 0 },
	{ "quiet", run_quiet, "quiet", 0 },
	{ "stop", run_stop, "stop", 0 },
	{ "diagnose", run_diagnose, "diagnose [--seconds 10] [--json]", 0 },
	{ "top", run_top, "top [--plain] [-n FRAMES]", 0 },
	{ "perf-test", run_perf, "perf-test N [--batch 100] [--jobtype noop] "
	    "[--args JSON] [--queue default] [--url URL] [--timeout S] [--seconds S]", 0 },
};

/*
 * control.socket of a configuration file (perf-test also takes its
 * password). The file's other errors are warnings: fkworkerctl needs
 * nothing else from it, and is often run while it is being fixed.
 */
static const char *
socket_from_conf(const char *path, char *buf, size_t len)
{
	struct conf_errors errs = { 0 };
	int rc = ctl_conf_socket(path, buf, len, &errs);

	for (int i = 0; i < errs.ce_n; i++)
		fprintf(stderr, "fkworkerctl: %s%s\n", rc == -1 ? "" : "warning: ",
		    errs.ce_msg[i]);
	if (rc == 1)
		fprintf(stderr, "fkworkerctl: warning: %s names no usable control.socket; "
		    "trying the default %s\n", path, buf);
	conf_errors_free(&errs);
	return rc == -1 ? NULL : buf;
}

/* The socket could not be used: says why, as a plugin line for check. */
static int
unreachable(const struct cmd *cmd, const char *sock, const char *err, int errnum)
{
	char msg[1024];
	enum ctl_check c = ctl_check_unreachable(errnum);

	if (errnum == EACCES)
		ctl_client_denied(sock, msg, sizeof(msg));
	else if (cmd->c_plugin && c == CTL_CHECK_CRITICAL)
		snprintf(msg, sizeof(msg), "not running: cannot reach fkworker at %.512s: %s",
		    sock, err);
	else
		snprintf(msg, sizeof(msg), "cannot reach fkworker at %.512s: %s (is it running?)",
		    sock, err);
	if (cmd->c_plugin) {
		ctl_check_print(stdout, c, msg, NULL);
		return c;
	}
	fprintf(stderr, "fkworkerctl: %s\n", msg);
	return errnum == EACCES ? CTL_EX_NOPERM : CTL_EX_UNAVAILABLE;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = CONF_DEFAULT_SOCKET, *conf = NULL;
	char buf[512], err[256];
	const struct cmd *cmd = NULL;
	struct ctx x;
	int ch, rc;

	/* Progress goes to stderr: keep stdout in step when both go to one pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* "+": options after the command belong to the command. */
	while ((ch = getopt_long(argc, argv, "+s:c:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'c': conf = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("fkworkerctl %s\n", SUP_VERSION); return 0;
		default: usage(stderr); return EX_USAGE_;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE_;
	}
	for (size_t i = 0; i < FKW_NELEM(cmds); i++)
		if (strcmp(argv[optind], cmds[i].c_name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "fkworkerctl: unknown command %s\n", argv[optind]);
		usage(stderr);
		return EX_USAGE_;
	}
	if (conf != NULL) {
		if ((sock = socket_from_conf(conf, buf, sizeof(buf))) == NULL)
			return EX_USAGE_;
	}
	x.x_sock = sock;
	x.x_conf = conf;
	if ((x.x_fd = ctl_client_connect(sock, err, sizeof(err))) == -1)
		return unreachable(cmd, sock, err, errno);
	rc = cmd->c_run(&x, argc - optind - 1, argv + optind + 1);
	if (rc == EX_USAGE_)
		fprintf(stderr, "usage: fkworkerctl [-s SOCKET | -c CONF] %s\n", cmd->c_usage);
	close(x.x_fd);
	return rc;
}
