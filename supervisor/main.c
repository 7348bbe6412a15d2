/* SPDX-License-Identifier: MIT */
/* fkworker main(): options, configuration check, then the master (or one child with --single). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "sup.h"
#include "wrk.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fkworker [-c FILE] [-n | -nn] [-d] [-v] [--single] [--version]\n"
	    "  -c FILE     configuration file (default " CONF_DEFAULT_FILE ")\n"
	    "  -n          check the configuration and exit (0 OK, 78 errors)\n"
	    "  -nn         print the effective configuration and exit\n"
	    "  -d          foreground debugging: plain time-stamped log lines\n"
	    "  -v          verbose (log level debug)\n"
	    "  --single    run one child in this process, without a master\n"
	    "              (for debugging and benchmarks)\n"
	    "  --version   print the version and exit\n");
}

/* What -nn prints first: the environment it shows is this command's, not the service's. */
static void
dump_header(FILE *f)
{
	fprintf(f, "# Values marked \"# from VAR\" come from this command's environment.\n"
	    "# The service also reads " CONF_UNIT_ENV_FILE " (the unit's EnvironmentFile=),\n"
	    "# which a command run by hand does not: to see what the service runs with,\n"
	    "#   sudo sh -c 'set -a; . " CONF_UNIT_ENV_FILE "; fkworker -nn'\n");
}

/*
 * -n, -nn and the start: errors then exit 78, or warnings and go on. The
 * host checks (commands, plugins) run only on a configuration that loaded.
 */
static int
check_conf(struct fkw_conf *conf, struct conf_errors *errs, int check)
{
	if (conf != NULL)
		sup_confcheck(conf, errs);
	for (int i = 0; i < errs->ce_n; i++)
		fprintf(stderr, "fkworker: %s\n", errs->ce_msg[i]);
	/* At start the warnings go to the log, once it is set up. */
	for (int i = 0; check && i < errs->ce_nwarn; i++)
		fprintf(stderr, "fkworker: warning: %s\n", errs->ce_warn[i]);
	if (conf == NULL || errs->ce_n > 0)
		return SUP_EX_CONFIG;
	if (check > 1) {
		dump_header(stdout);
		conf_dump(conf, stdout);
	} else if (check)
		printf("configuration OK%s\n", errs->ce_nwarn ? " (with warnings)" : "");
	return 0;
}

static void __attribute__((noreturn))
run_single(struct fkw_conf *conf)
{
	static char host[256], wid[20];
	struct wrk_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	sup_loop_identity(host, sizeof(host), wid, sizeof(wid));
	ctx.wc_index = 0;
	ctx.wc_cpu = -1;
	ctx.wc_chan = -1;
	ctx.wc_wid = wid;
	ctx.wc_hostname = host;
	ctx.wc_pid = (long)getpid();
	wrk_main(conf, &ctx);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "single", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup_opts so = { .so_conf_path = CONF_DEFAULT_FILE };
	struct conf_errors errs = { 0 };
	struct fkw_conf *conf;
	int ch, check = 0, single = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:ndvh", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c': so.so_conf_path = optarg; break;
		case 'n': check++; break;
		case 'd': so.so_foreground = 1; break;
		case 'v': so.so_verbose = 1; break;
		case 'S': single = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("fkworker %s\n", SUP_VERSION); return 0;
		default: usage(stderr); return SUP_EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return SUP_EX_USAGE;
	}
	conf = conf_load(so.so_conf_path, 1, &errs);
	rc = check_conf(conf, &errs, check);
	if (check || rc != 0) {
		conf_free(conf);
		conf_errors_free(&errs);
		return rc;
	}
	log_init("fkworker", so.so_verbose ? LOG_LVL_DEBUG : conf->cf_log_level,
	    so.so_foreground && isatty(STDERR_FILENO));
	log_setproc(single ? "worker 0" : "master");
	for (int i = 0; i < errs.ce_nwarn; i++)
		log_warnx("%s", errs.ce_warn[i]);
	conf_errors_free(&errs);
	if (single) {
		char err[512];

		/* One child's slots in this process: the master's descriptor check applies. */
		if (sup_reload_nofile(conf, err, sizeof(err)) == -1) {
			log_errx("%s", err);
			conf_free(conf);
			return SUP_EX_CONFIG;
		}
		run_single(conf);
	}
	return sup_main(conf, &so);
}
