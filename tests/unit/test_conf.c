/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/conf*.c: the shipped file, defaults, bounds, types,
 * unknown keys, the environment, passwords, queues, handlers, cross checks
 * and conf_dump round trips. Repo files are found from the working
 * directory, which make sets to the repository root.
 */
#include <check.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define SHIPPED	"conf/fkworker.conf"

static struct conf_errors errs;
static struct fkw_conf *cf;
static char tmpdir[] = "/tmp/fkw-test-conf-XXXXXX";
static char joined[8192];

static const char *const env_vars[] = {
	"FAKTORY_URL", "FAKTORY_SERVER_IP", "FAKTORY_PASSWORD", "WORKER_CONCURRENCY",
	"WORKER_CPUS",
};

static void
clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static void
setup(void)
{
	clear_env();
	cf = NULL;
	ck_assert_ptr_nonnull(mkdtemp(strcpy(tmpdir, "/tmp/fkw-test-conf-XXXXXX")));
}

static void
teardown(void)
{
	char cmd[128];

	conf_free(cf);
	cf = NULL;
	conf_errors_free(&errs);
	clear_env();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Every error of the last load, one per line. */
static const char *
errors(void)
{
	size_t n = 0;

	joined[0] = '\0';
	for (int i = 0; i < errs.ce_n && n < sizeof(joined); i++)
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", i ? "\n" : "",
		    errs.ce_msg[i]);
	return joined;
}

static struct fkw_conf *
load_env(const char *text, int use_env)
{
	conf_free(cf);
	conf_errors_free(&errs);
	cf = conf_load_string(text, "t", use_env, &errs);
	return cf;
}

/* Text that must load: fails the test with the errors otherwise. */
static struct fkw_conf *
ok(const char *text)
{
	if (load_env(text, 0) == NULL)
		ck_abort_msg("load failed:\n%s\n--- for:\n%s", errors(), text);
	ck_assert_int_eq(errs.ce_n, 0);
	return cf;
}

/* Text that must fail with exactly these errors (joined by newlines). */
static void
fails_env(const char *text, int use_env, const char *want)
{
	if (load_env(text, use_env) != NULL)
		ck_abort_msg("loaded, expected: %s\n--- for:\n%s", want, text);
	ck_assert_str_eq(errors(), want);
}

static void
fails(const char *text, const char *want)
{
	fails_env(text, 0, want);
}

static const char *
write_tmp(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return p;
}

static char *
dump(const struct fkw_conf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	conf_dump(c, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return text;
}

static int
strv_eq(char *const *a, char *const *b, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return (a == NULL || a[n] == NULL) && (b == NULL || b[n] == NULL);
}

static int
handler_eq(const struct conf_handler *a, const struct conf_handler *b)
{
	if (strcmp(a->h_jobtype, b->h_jobtype) != 0 || a->h_kind != b->h_kind ||
	    a->h_timeout != b->h_timeout)
		return 0;
	switch (a->h_kind) {
	case CONF_H_BUILTIN:
		return strcmp(a->h_builtin, b->h_builtin) == 0;
	case CONF_H_EXEC:
		return a->h_argc == b->h_argc && strv_eq(a->h_argv, b->h_argv, a->h_argc);
	case CONF_H_PLUGIN:
		return strcmp(a->h_plugin, b->h_plugin) == 0;
	}
	return 0;
}

/* The first field in which two configurations differ (passwords aside), or NULL. */
static const char *
conf_diff(const struct fkw_conf *a, const struct fkw_conf *b)
{
#define SAME_STR(f) if (strcmp(a->f, b->f) != 0) return #f
#define SAME(f) if (a->f != b->f) return #f
	SAME_STR(cf_url);
	SAME_STR(cf_purl.u_host);
	SAME_STR(cf_purl.u_port);
	SAME(cf_purl.u_tls);
	SAME_STR(cf_password_file);
	SAME_STR(cf_tls_ca_file);
	SAME(cf_tls_verify);
	SAME(cf_conn_budget);
	SAME(cf_concurrency);
	SAME(cf_cpus);
	SAME(cf_cpus_auto);
	SAME(cf_nqueues);
	SAME(cf_weighted);
	for (int i = 0; i < a->cf_nqueues; i++) {
		SAME_STR(cf_queues[i].q_name);
		SAME(cf_queues[i].q_weight);
	}
	SAME(cf_nlabels);
	if (!strv_eq(a->cf_labels, b->cf_labels, a->cf_nlabels))
		return "cf_labels";
	SAME(cf_shutdown_timeout);
	SAME(cf_heartbeat);
	SAME(cf_cpu_affinity);
	SAME(cf_pipelining);
	SAME(cf_connections);
	SAME(cf_connections_auto);
	SAME(cf_max_jobs_per_child);
	SAME(cf_memory_limit);
	SAME(cf_connect_timeout);
	SAME(cf_reconnect_max);
	SAME(cf_nhandlers);
	for (int i = 0; i < a->cf_nhandlers; i++)
		if (!handler_eq(&a->cf_handlers[i], &b->cf_handlers[i]))
			return "cf_handlers";
	SAME_STR(cf_ctl_socket);
	SAME(cf_ctl_mode);
	SAME(cf_stats_interval);
	SAME(cf_log_level);
	return NULL;
#undef SAME
#undef SAME_STR
}

/* Leaf key paths of a libconfig file in order: groups opened, anything else a leaf. */
static void
leaf_paths(const config_setting_t *g, const char *prefix, char *out, size_t len)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char path[256];

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		    config_setting_name(s));
		if (config_setting_is_group(s))
			leaf_paths(s, path, out, len);
		else {
			strncat(out, path, len - strlen(out) - 1);
			strncat(out, " ", len - strlen(out) - 1);
		}
	}
}

static void
order_of(const char *text, char *out, size_t len)
{
	config_t c;

	out[0] = '\0';
	config_init(&c);
	ck_assert_int_eq(config_read_string(&c, text), CONFIG_TRUE);
	leaf_paths(config_root_setting(&c), "", out, len);
	config_destroy(&c);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;

	if (fp == NULL)
		ck_abort_msg("%s: %s (run from the repository root)", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	ck_assert_ptr_nonnull(text = calloc(1, (size_t)n + 1));
	ck_assert_uint_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return text;
}

/* ---- the shipped file and the defaults ---- */

START_TEST(test_shipped_file_loads)
{
	struct fkw_conf *defaults;
	char want[2048], got[2048];
	char *text, *d;

	cf = conf_load(SHIPPED, 0, &errs);
	if (cf == NULL)
		ck_abort_msg("%s:\n%s", SHIPPED, errors());
	ck_assert_int_eq(errs.ce_n, 0);
	ck_assert_str_eq(cf->cf_file, SHIPPED);
	/* Every value in it is the default ... */
	defaults = conf_load_string("", "empty", 0, &errs);
	ck_assert_ptr_nonnull(defaults);
	ck_assert_ptr_null(conf_diff(cf, defaults));
	/* ... and every key is there, in schema order (the order conf_dump prints). */
	text = slurp(SHIPPED);
	d = dump(defaults);
	order_of(d, want, sizeof(want));
	order_of(text, got, sizeof(got));
	ck_assert_str_eq(got, want);
	ck_assert_ptr_nonnull(strstr(want, "faktory.url faktory.password "));
	ck_assert_ptr_nonnull(strstr(want, " log.level "));
	free(text);
	free(d);
	conf_free(defaults);
}
END_TEST

START_TEST(test_defaults)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	ok("");
	ck_assert_str_eq(cf->cf_url, "tcp://127.0.0.1:7419");
	ck_assert_str_eq(cf->cf_purl.u_host, "127.0.0.1");
	ck_assert_str_eq(cf->cf_purl.u_port, "7419");
	ck_assert_int_eq(cf->cf_purl.u_tls, 0);
	ck_assert_str_eq(cf->cf_password, "");
	ck_assert_str_eq(cf->cf_password_file, "");
	ck_assert_str_eq(cf->cf_tls_ca_file, "");
	ck_assert_int_eq(cf->cf_tls_verify, 1);
	ck_assert_int_eq(cf->cf_concurrency, 2000);
	ck_assert_int_eq(cf->cf_cpus_auto, 1);
	ck_assert_int_eq(cf->cf_cpus, cores > 1024 ? 1024 : cores);
	ck_assert_int_eq(cf->cf_nqueues, 2);
	ck_assert_int_eq(cf->cf_weighted, 0);
	ck_assert_str_eq(cf->cf_queues[0].q_name, "critical");
	ck_assert_str_eq(cf->cf_queues[1].q_name, "default");
	ck_assert_int_eq(cf->cf_nlabels, 0);
	ck_assert_int_eq(cf->cf_shutdown_timeout, 25);
	ck_assert_int_eq(cf->cf_heartbeat, 15);
	ck_assert_int_eq(cf->cf_cpu_affinity, 1);
	ck_assert_int_eq(cf->cf_pipelining, 1);
	ck_assert_int_eq(cf->cf_max_jobs_per_child, 0);
	ck_assert_uint_eq(cf->cf_memory_limit, 0);
	ck_assert_int_eq(cf->cf_connect_timeout, 5000);
	ck_assert_int_eq(cf->cf_reconnect_max, 30000);
	ck_assert_int_eq(cf->cf_nhandlers, 3);
	ck_assert_str_eq(cf->cf_handlers[0].h_jobtype, "noop");
	ck_assert_str_eq(cf->cf_handlers[1].h_jobtype, "sleep");
	ck_assert_str_eq(cf->cf_handlers[2].h_jobtype, "fail");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cf->cf_handlers[i].h_kind, CONF_H_BUILTIN);
		ck_assert_str_eq(cf->cf_handlers[i].h_builtin, cf->cf_handlers[i].h_jobtype);
		ck_assert_int_eq(cf->cf_handlers[i].h_timeout, 0);
	}
	ck_assert_str_eq(cf->cf_ctl_socket, CONF_DEFAULT_SOCKET);
	ck_assert_int_eq(cf->cf_ctl_mode, 0660);
	ck_assert_int_eq(cf->cf_stats_interval, 250);
	ck_assert_int_eq(cf->cf_log_level, LOG_LVL_INFO);
}
END_TEST

/* ---- bounds of every numeric key, from a table ---- */

enum bfmt { B_DEC, B_LONG, B_OCT };

struct bound {
	const char	*b_path;
	const char	*b_tmpl;	/* the file, with %s where the value goes */
	long long	 b_min, b_max;
	const char	*b_range;	/* as the error message states it */
	enum bfmt	 b_fmt;
	long long	(*b_get)(const struct fkw_conf *);
};

#define GET(name, expr) static long long name(const struct fkw_conf *c) { return (long long)(expr); }
GET(get_conc, c->cf_concurrency)
GET(get_cpus, c->cf_cpus)
GET(get_shut, c->cf_shutdown_timeout)
GET(get_beat, c->cf_heartbeat)
GET(get_maxj, c->cf_max_jobs_per_child)
GET(get_conn, c->cf_connect_timeout)
GET(get_reco, c->cf_reconnect_max)
GET(get_cns, c->cf_connections)
GET(get_bdg, c->cf_conn_budget)
GET(get_mode, c->cf_ctl_mode)
GET(get_stat, c->cf_stats_interval)
GET(get_htmo, c->cf_handlers[0].h_timeout)
GET(get_wght, c->cf_queues[0].q_weight)
GET(get_meml, c->cf_memory_limit)

static const struct bound bounds[] = {
	{ "worker.concurrency", "worker = { cpus = 1; concurrency = %s; };",
	    1, 100000, "1..100000", B_DEC, get_conc },
	{ "worker.cpus", "worker = { concurrency = 100000; cpus = %s; };",
	    1, 1024, "1..1024", B_DEC, get_cpus },
	{ "worker.shutdown_timeout", "worker = { shutdown_timeout = %s; };",
	    0, 3600, "0..3600", B_DEC, get_shut },
	{ "worker.heartbeat", "worker = { heartbeat = %s; };", 5, 60, "5..60", B_DEC, get_beat },
	{ "worker.max_jobs_per_child", "worker = { max_jobs_per_child = %s; };",
	    0, 1000000000000LL, "0..1000000000000", B_LONG, get_maxj },
	{ "worker.connect_timeout", "worker = { connect_timeout = %s; };",
	    100, 60000, "100..60000", B_DEC, get_conn },
	{ "worker.reconnect_max", "worker = { reconnect_max = %s; };",
	    100, 300000, "100..300000", B_DEC, get_reco },
	{ "worker.connections", "worker = { cpus = 1; concurrency = 100000; connections = %s; };\n"
	    "faktory = { connection_budget = 1000000; };", 1, 100000, "1..100000", B_DEC, get_cns },
	{ "faktory.connection_budget", "faktory = { connection_budget = %s; };\n"
	    "worker = { cpus = 1; };",
	    2, 1000000, "2..1000000", B_DEC, get_bdg },
	{ "control.mode", "control = { mode = %s; };", 0, 0777, "0..0777", B_OCT, get_mode },
	{ "stats.interval_ms", "stats = { interval_ms = %s; };",
	    10, 60000, "10..60000", B_DEC, get_stat },
	{ "handlers[0].timeout",
	    "handlers = ( { jobtype = \"x\"; exec = [ \"/bin/true\" ]; timeout = %s; } );",
	    0, 86400, "0..86400", B_DEC, get_htmo },
	{ "worker.queues[0].weight", "worker = { queues = ( { name = \"q\"; weight = %s; } ); };",
	    1, 100, "1..100", B_DEC, get_wght },
};

static void
bound_text(const struct bound *b, long long v, char *out, size_t len)
{
	char val[64];

	if (b->b_fmt == B_LONG)
		snprintf(val, sizeof(val), "%lldL", v);
	else if (b->b_fmt == B_OCT && v >= 0)
		snprintf(val, sizeof(val), "0%llo", v);
	else
		snprintf(val, sizeof(val), "%lld", v);
	const char *hole = strstr(b->b_tmpl, "%s");
	snprintf(out, len, "%.*s%s%s", (int)(hole - b->b_tmpl), b->b_tmpl, val, hole + 2);
}

START_TEST(test_bounds)
{
	const struct bound *b = &bounds[_i];
	const long long vals[4] = { b->b_min - 1, b->b_min, b->b_max, b->b_max + 1 };
	char text[512], want[256];

	for (int j = 0; j < 4; j++) {
		bound_text(b, vals[j], text, sizeof(text));
		if (j == 1 || j == 2) {
			ok(text);
			ck_assert_int_eq(b->b_get(cf), vals[j]);
			continue;
		}
		snprintf(want, sizeof(want), "t:1: %s: must be %s", b->b_path, b->b_range);
		fails(text, want);
	}
}
END_TEST

START_TEST(test_int64_and_size_forms)
{
	/* libconfig 64-bit literals are integers too. */
	ck_assert_int_eq(ok("worker = { heartbeat = 7L; };")->cf_heartbeat, 7);
	ck_assert_int_eq(ok("worker = { max_jobs_per_child = 5000000000L; };")->cf_max_jobs_per_child,
	    5000000000LL);
	ck_assert_uint_eq(ok("worker = { memory_limit = \"512M\"; };")->cf_memory_limit, 512ull << 20);
	ck_assert_uint_eq(ok("worker = { memory_limit = 4096; };")->cf_memory_limit, 4096);
	ck_assert_uint_eq(ok("worker = { memory_limit = 8589934592L; };")->cf_memory_limit,
	    8ull << 30);
	ck_assert_uint_eq(get_meml(ok("worker = { memory_limit = 0; };")), 0);
	fails("worker = { memory_limit = -1; };", "t:1: worker.memory_limit: must be 0 or more bytes");
	fails("worker = { memory_limit = \"12Q\"; };", "t:1: worker.memory_limit: must be a size "
	    "such as \"512M\": not a size (use a number with an optional K, M, G or T suffix)");
	/* Modes read as octal like chmod, whatever the spelling. */
	ck_assert_int_eq(ok("control = { mode = \"0600\"; };")->cf_ctl_mode, 0600);
	ck_assert_int_eq(ok("control = { mode = 0x1B0; };")->cf_ctl_mode, 0660);
	ck_assert_int_eq(ok("control = { mode = 640; };")->cf_ctl_mode, 0640);
	fails("control = { mode = 0680; };",
	    "t:1: control.mode: must be an octal file mode such as 0660");
	fails("control = { mode = \"rw\"; };",
	    "t:1: control.mode: must be an octal file mode such as 0660");
	fails("control = { mode = 0x200; };", "t:1: control.mode: must be 0..0777");
}
END_TEST

/* ---- types ---- */

static const char *const wrong_types[][2] = {
	{ "worker = { concurrency = \"8\"; };", "t:1: worker.concurrency: must be an integer" },
	{ "worker = { concurrency = 8.0; };", "t:1: worker.concurrency: must be an integer" },
	{ "worker = { heartbeat = true; };", "t:1: worker.heartbeat: must be an integer" },
	{ "worker = { cpus = \"many\"; };", "t:1: worker.cpus: must be an integer or \"auto\"" },
	{ "worker = { cpus = 2.5; };", "t:1: worker.cpus: must be an integer or \"auto\"" },
	{ "faktory = { url = 7419; };", "t:1: faktory.url: must be a string" },
	{ "faktory = { url = \"\"; };", "t:1: faktory.url: must not be empty" },
	{ "faktory = { tls = { verify = 1; }; };", "t:1: faktory.tls.verify: must be true or false" },
	{ "worker = { pipelining = \"no\"; };", "t:1: worker.pipelining: must be true or false" },
	{ "worker = { queues = \"default\"; };",
	    "t:1: worker.queues: must be a list of queue names or of { name, weight } groups" },
	{ "worker = { labels = \"x\"; };", "t:1: worker.labels: must be a list of strings" },
	{ "worker = { labels = [ 1, 2 ]; };", "t:1: worker.labels[0]: must be a string" },
	{ "worker = { memory_limit = true; };", "t:1: worker.memory_limit: must be a size string "
	    "such as \"512M\" or a number of bytes" },
	{ "log = { level = 7; };",
	    "t:1: log.level: must be one of \"error\", \"warning\", \"notice\", \"info\", \"debug\"" },
	{ "log = { level = \"loud\"; };",
	    "t:1: log.level: must be one of \"error\", \"warning\", \"notice\", \"info\", \"debug\"" },
	{ "handlers = { jobtype = \"x\"; };",
	    "t:1: handlers: must be a list of { jobtype = \"...\"; ... } groups" },
	{ "handlers = ( \"noop\" );", "t:1: handlers[0]: must be a { jobtype = \"...\"; ... } group" },
	{ "handlers = ( { jobtype = 1; builtin = \"noop\"; } );",
	    "t:1: handlers[0].jobtype: must be a string" },
	{ "handlers = ( { jobtype = \"x\"; exec = \"/bin/true\"; } );",
	    "t:1: handlers[0].exec: must be a list of strings: [ \"/path/cmd\", args... ]" },
	{ "handlers = ( { jobtype = \"x\"; exec = [ ]; } );",
	    "t:1: handlers[0].exec: must be a list of strings: [ \"/path/cmd\", args... ]" },
	{ "handlers = ( { jobtype = \"x\"; plugin = [ \"a.so\" ]; } );",
	    "t:1: handlers[0].plugin: must be a string" },
	{ "handlers = ( { jobtype = \"x\"; builtin = \"noop\"; timeout = \"5\"; } );",
	    "t:1: handlers[0].timeout: must be an integer" },
	{ "worker = { queues = ( { name = \"a\"; weight = \"3\"; } ); };",
	    "t:1: worker.queues[0].weight: must be an integer" },
	{ "worker = 5;", "t:1: worker: must be a group { ... }" },
	{ "faktory = { tls = [ ]; };", "t:1: faktory.tls: must be a group { ... }" },
	{ "control = { socket = \"\"; };", "t:1: control.socket: must not be empty" },
};

START_TEST(test_wrong_types)
{
	fails(wrong_types[_i][0], wrong_types[_i][1]);
}
END_TEST

/* ---- unknown keys, syntax, several errors at once ---- */

START_TEST(test_unknown_keys_every_level)
{
	fails("faktory = {\n"
	    "  tls = { verify = true; cert = \"x\"; };\n"
	    "  uri = \"tcp://h\";\n"
	    "};\n"
	    "worker = { queues = ( { name = \"a\"; prio = 1; } ); };\n"
	    "handlers = (\n"
	    "  { jobtype = \"a\"; builtin = \"noop\";\n"
	    "    retries = 3; }\n"
	    ");\n"
	    "metrics = { port = 9; };\n",
	    "t:2: faktory.tls.cert: unknown key\n"
	    "t:3: faktory.uri: unknown key\n"
	    "t:5: worker.queues[0].prio: unknown key (a queue has name and weight)\n"
	    "t:8: handlers[0].retries: unknown key (a handler has jobtype, builtin, exec, plugin "
	    "and timeout)\n"
	    "t:10: metrics: unknown key");
	/* A key of one group is unknown in another, and at the top level. */
	fails("control = { level = \"info\"; };\nconcurrency = 5;\n",
	    "t:1: control.level: unknown key\nt:2: concurrency: unknown key");
}
END_TEST

START_TEST(test_syntax_error_line)
{
	/* Fatal for the file: the unknown key before it is not reported. */
	fails("bogus = 1;\nworker = {\n  concurrency = ;\n};\n", "t:3: syntax error");
	fails("a = 1;\na = 2;\n", "t:2: duplicate setting name");
}
END_TEST

START_TEST(test_many_errors_one_load)
{
	fails("worker = {\n"
	    "  concurrency = 0;\n"
	    "  heartbeat = \"15\";\n"
	    "  queues = [ \"ok\", \"not ok\" ];\n"
	    "};\n"
	    "log = { level = \"chatty\"; };\n",
	    "t:2: worker.concurrency: must be 1..100000\n"
	    "t:3: worker.heartbeat: must be an integer\n"
	    "t:4: worker.queues[1]: queue name \"not ok\" must match [A-Za-z0-9._-]+\n"
	    "t:6: log.level: must be one of \"error\", \"warning\", \"notice\", \"info\", \"debug\"");
	ck_assert_int_eq(errs.ce_n, 4);
}
END_TEST

/* ---- real files ---- */

START_TEST(test_real_files)
{
	char want[512];
	const char *p;

	p = write_tmp("a.conf", "# comment\nworker = {\n  heartbeat = 61;\n};\n");
	ck_assert_ptr_null(cf = conf_load(p, 0, &errs));
	snprintf(want, sizeof(want), "%s:3: worker.heartbeat: must be 5..60", p);
	ck_assert_str_eq(errors(), want);
	conf_errors_free(&errs);

	p = write_tmp("syntax.conf", "log = {\n level = \"info\";\n}\n}\n");
	ck_assert_ptr_null(cf = conf_load(p, 0, &errs));
	snprintf(want, sizeof(want), "%s:4: syntax error", p);
	ck_assert_str_eq(errors(), want);
	conf_errors_free(&errs);

	snprintf(want, sizeof(want), "%s/missing.conf", tmpdir);
	ck_assert_ptr_null(cf = conf_load(want, 0, &errs));
	strcat(want, ": cannot read: No such file or directory");
	ck_assert_str_eq(errors(), want);
	conf_errors_free(&errs);

	/* @include is relative to the including file and errors name the included one. */
	write_tmp("inc.conf", "\nheartbeat = 2;\n");
	p = write_tmp("main.conf", "worker = {\n  @include \"inc.conf\"\n};\n");
	ck_assert_ptr_null(cf = conf_load(p, 0, &errs));
	snprintf(want, sizeof(want), "%s/inc.conf:2: worker.heartbeat: must be 5..60", tmpdir);
	ck_assert_str_eq(errors(), want);
	conf_errors_free(&errs);

	write_tmp("inc2.conf", "heartbeat = 30;\nshutdown_timeout = ;\n");
	p = write_tmp("main2.conf", "worker = {\n  @include \"inc2.conf\"\n};\n");
	ck_assert_ptr_null(cf = conf_load(p, 0, &errs));
	snprintf(want, sizeof(want), "%s/inc2.conf:2: syntax error", tmpdir);
	ck_assert_str_eq(errors(), want);
	conf_errors_free(&errs);

	p = write_tmp("good.conf", "worker = { heartbeat = 30; };\n");
	ck_assert_ptr_nonnull(cf = conf_load(p, 0, &errs));
	ck_assert_int_eq(cf->cf_heartbeat, 30);
	ck_assert_str_eq(cf->cf_file, p);
}
END_TEST

/* The sample files: each bad-X.conf fails with exactly the lines of bad-X.expected. */
static const char *const samples_bad[] = {
	"unknown-keys", "types", "ranges", "queues", "handlers", "syntax", "cross",
};

START_TEST(test_sample_files)
{
	static const char *const good[] = { "tests/conf/ok-full.conf", "tests/conf/ok-minimal.conf" };
	char path[256], *want;
	size_t n;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cf = conf_load(good[i], 0, &errs);
		if (cf == NULL)
			ck_abort_msg("%s:\n%s", good[i], errors());
		conf_free(cf);
		cf = NULL;
	}
	for (size_t i = 0; i < sizeof(samples_bad) / sizeof(samples_bad[0]); i++) {
		snprintf(path, sizeof(path), "tests/conf/bad-%s.expected", samples_bad[i]);
		want = slurp(path);
		if ((n = strlen(want)) > 0 && want[n - 1] == '\n')
			want[n - 1] = '\0';
		snprintf(path, sizeof(path), "tests/conf/bad-%s.conf", samples_bad[i]);
		ck_assert_ptr_null(cf = conf_load(path, 0, &errs));
		ck_assert_msg(strcmp(errors(), want) == 0, "%s:\ngot:\n%s\nwant:\n%s", path, joined,
		    want);
		conf_errors_free(&errs);
		free(want);
	}
}
END_TEST

START_TEST(test_full_sample_values)
{
	const struct conf_handler *h;

	cf = conf_load("tests/conf/ok-full.conf", 0, &errs);
	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(cf->cf_purl.u_tls, 1);
	ck_assert_str_eq(cf->cf_purl.u_host, "faktory.internal");
	ck_assert_str_eq(cf->cf_purl.u_port, "7500");
	ck_assert_int_eq(cf->cf_weighted, 1);
	ck_assert_int_eq(cf->cf_nqueues, 3);
	ck_assert_int_eq(cf->cf_queues[2].q_weight, 1);
	ck_assert_int_eq(cf->cf_nlabels, 2);
	ck_assert_int_eq(cf->cf_cpus, 4);
	ck_assert_int_eq(cf->cf_ctl_mode, 0600);
	ck_assert_int_eq(cf->cf_log_level, LOG_LVL_DEBUG);
	ck_assert_ptr_nonnull(h = conf_handler_find(cf, "resize"));
	ck_assert_int_eq(h->h_kind, CONF_H_EXEC);
	ck_assert_int_eq(h->h_timeout, 300);
	ck_assert_ptr_nonnull(h = conf_handler_find(cf, "anything-else"));
	ck_assert_str_eq(h->h_jobtype, "*");
	ck_assert_int_eq(h->h_kind, CONF_H_PLUGIN);
	ck_assert_int_eq(h->h_timeout, 1800);
}
END_TEST

/* ---- environment ---- */

START_TEST(test_env_overrides)
{
	static const char text[] = "faktory = { url = \"tcp://file.example:7000\"; };\n"
	    "worker = { concurrency = 50; cpus = 2; };\n";

	setenv("FAKTORY_URL", "tcp+tls://env.example:7443", 1);
	setenv("WORKER_CONCURRENCY", "300", 1);
	setenv("WORKER_CPUS", "3", 1);
	setenv("FAKTORY_PASSWORD", "envpw", 1);
	/* use_env = 0: the file only. */
	ck_assert_ptr_nonnull(load_env(text, 0));
	ck_assert_str_eq(cf->cf_url, "tcp://file.example:7000");
	ck_assert_int_eq(cf->cf_concurrency, 50);
	ck_assert_int_eq(cf->cf_cpus, 2);
	ck_assert_str_eq(cf->cf_password, "");

	ck_assert_ptr_nonnull(load_env(text, 1));
	ck_assert_str_eq(cf->cf_url, "tcp+tls://env.example:7443");
	ck_assert_int_eq(cf->cf_purl.u_tls, 1);
	ck_assert_str_eq(cf->cf_purl.u_host, "env.example");
	ck_assert_str_eq(cf->cf_purl.u_port, "7443");
	ck_assert_int_eq(cf->cf_concurrency, 300);
	ck_assert_int_eq(cf->cf_cpus, 3);
	ck_assert_int_eq(cf->cf_cpus_auto, 0);
	ck_assert_str_eq(cf->cf_password, "envpw");
	ck_assert_str_eq(cf->cf_purl.u_password, "envpw");

	setenv("WORKER_CPUS", "auto", 1);
	ck_assert_ptr_nonnull(load_env(text, 1));
	ck_assert_int_eq(cf->cf_cpus_auto, 1);
	ck_assert_int_eq(cf->cf_cpus, (int)sysconf(_SC_NPROCESSORS_ONLN));

	/* An empty variable is unset. */
	setenv("WORKER_CONCURRENCY", "", 1);
	ck_assert_ptr_nonnull(load_env(text, 1));
	ck_assert_int_eq(cf->cf_concurrency, 50);
}
END_TEST

START_TEST(test_env_bad_values)
{
	static const char *const conc[] = { "0", "100001", "abc", "12 ", "-5" };
	static const char *const cpus[] = { "0", "1025", "automatic", "2x" };

	for (size_t i = 0; i < sizeof(conc) / sizeof(conc[0]); i++) {
		setenv("WORKER_CONCURRENCY", conc[i], 1);
		fails_env("", 1, "environment: WORKER_CONCURRENCY: must be 1..100000");
	}
	unsetenv("WORKER_CONCURRENCY");
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		setenv("WORKER_CPUS", cpus[i], 1);
		fails_env("", 1, "environment: WORKER_CPUS: must be 1..1024 or \"auto\"");
	}
	unsetenv("WORKER_CPUS");
	setenv("FAKTORY_SERVER_IP", "10.0.0.1/8", 1);
	fails_env("", 1, "environment: FAKTORY_SERVER_IP: must be a host name or IP address");
	unsetenv("FAKTORY_SERVER_IP");
	setenv("FAKTORY_URL", "tcp://h:0", 1);
	ck_assert_ptr_null(load_env("", 1));
	ck_assert_int_eq(errs.ce_n, 1);
	ck_assert_msg(strncmp(errors(), "environment: FAKTORY_URL: ", 26) == 0, "%s", joined);
	/* Two bad variables: both reported. */
	setenv("FAKTORY_URL", "tcp://ok:7419", 1);
	setenv("WORKER_CONCURRENCY", "x", 1);
	setenv("WORKER_CPUS", "y", 1);
	fails_env("", 1, "environment: WORKER_CONCURRENCY: must be 1..100000\n"
	    "environment: WORKER_CPUS: must be 1..1024 or \"auto\"");
}
END_TEST

START_TEST(test_env_server_ip)
{
	setenv("FAKTORY_SERVER_IP", "10.9.8.7", 1);
	ck_assert_ptr_nonnull(load_env("faktory = { url = \"tcp://:pw@old.example:7500\"; };", 1));
	ck_assert_str_eq(cf->cf_url, "tcp://:pw@10.9.8.7:7500");
	ck_assert_str_eq(cf->cf_purl.u_host, "10.9.8.7");
	ck_assert_str_eq(cf->cf_purl.u_port, "7500");
	ck_assert_str_eq(cf->cf_password, "pw");
	/* It applies to the final URL, after FAKTORY_URL. */
	setenv("FAKTORY_URL", "tcp+tls://u@env.example", 1);
	ck_assert_ptr_nonnull(load_env("", 1));
	ck_assert_str_eq(cf->cf_url, "tcp+tls://u@10.9.8.7");
	ck_assert_int_eq(cf->cf_purl.u_tls, 1);
	ck_assert_str_eq(cf->cf_purl.u_user, "u");
	ck_assert_str_eq(cf->cf_purl.u_port, "7419");
	/* IPv6 gets brackets; a bare host:port URL keeps its port. */
	setenv("FAKTORY_SERVER_IP", "fd00::5", 1);
	setenv("FAKTORY_URL", "[::1]:7001", 1);
	ck_assert_ptr_nonnull(load_env("", 1));
	ck_assert_str_eq(cf->cf_url, "[fd00::5]:7001");
	ck_assert_str_eq(cf->cf_purl.u_host, "fd00::5");
	ck_assert_str_eq(cf->cf_purl.u_port, "7001");
	/* Ignored without use_env. */
	ck_assert_ptr_nonnull(load_env("", 0));
	ck_assert_str_eq(cf->cf_purl.u_host, "127.0.0.1");
}
END_TEST

START_TEST(test_password_precedence)
{
	char text[512], want[512];
	const char *pwf = write_tmp("pw", "filepw\nsecond line\n");

	ok("faktory = { url = \"tcp://:url%40pw@h\"; };");
	ck_assert_str_eq(cf->cf_password, "url@pw");
	ck_assert_str_eq(cf->cf_purl.u_password, "url@pw");
	ok("faktory = { url = \"tcp://:urlpw@h\"; password = \"keypw\"; };");
	ck_assert_str_eq(cf->cf_password, "keypw");
	ck_assert_str_eq(cf->cf_purl.u_password, "keypw");
	snprintf(text, sizeof(text), "faktory = { url = \"tcp://:urlpw@h\"; password = \"keypw\";\n"
	    "  password_file = \"%s\"; };", pwf);
	ok(text);
	ck_assert_str_eq(cf->cf_password, "filepw");
	ck_assert_str_eq(cf->cf_purl.u_password, "filepw");
	setenv("FAKTORY_PASSWORD", "envpw", 1);
	ck_assert_ptr_nonnull(load_env(text, 1));
	ck_assert_str_eq(cf->cf_password, "envpw");
	ck_assert_str_eq(cf->cf_purl.u_password, "envpw");
	unsetenv("FAKTORY_PASSWORD");

	/* A CRLF line ends at the CR; an unreadable or empty file is an error naming it. */
	fails("faktory = { password_file = \"/dev/null\"; password = \"x\"; };",
	    "t:1: faktory.password_file: /dev/null: the first line is empty");
	pwf = write_tmp("crlf", "dos\r\n");
	snprintf(text, sizeof(text), "faktory = { password_file = \"%s\"; };", pwf);
	ck_assert_str_eq(ok(text)->cf_password, "dos");
	snprintf(text, sizeof(text), "faktory = {\n password_file = \"%s/none\"; };", tmpdir);
	snprintf(want, sizeof(want), "t:2: faktory.password_file: cannot read %s/none: "
	    "No such file or directory", tmpdir);
	fails(text, want);
	pwf = write_tmp("empty", "\nsecond\n");
	snprintf(text, sizeof(text), "faktory = { password_file = \"%s\"; };", pwf);
	snprintf(want, sizeof(want), "t:1: faktory.password_file: %s: the first line is empty", pwf);
	fails(text, want);
}
END_TEST

/* ---- queues, labels ---- */

START_TEST(test_queues)
{
	ok("worker = { queues = [ \"a\", \"b.c\", \"D_e-9\" ]; };");
	ck_assert_int_eq(cf->cf_weighted, 0);
	ck_assert_int_eq(cf->cf_nqueues, 3);
	ck_assert_str_eq(cf->cf_queues[2].q_name, "D_e-9");
	ck_assert_int_eq(cf->cf_queues[0].q_weight, 0);
	ok("worker = { queues = ( \"x\", \"y\" ); };");
	ck_assert_int_eq(cf->cf_nqueues, 2);
	ok("worker = { queues = ( { name = \"hi\"; weight = 5; }, { weight = 2; name = \"mid\"; },"
	    " { name = \"lo\"; } ); };");
	ck_assert_int_eq(cf->cf_weighted, 1);
	ck_assert_int_eq(cf->cf_nqueues, 3);
	ck_assert_str_eq(cf->cf_queues[1].q_name, "mid");
	ck_assert_int_eq(cf->cf_queues[0].q_weight, 5);
	ck_assert_int_eq(cf->cf_queues[1].q_weight, 2);
	ck_assert_int_eq(cf->cf_queues[2].q_weight, 1);

	fails("worker = { queues = [ \"a b\" ]; };",
	    "t:1: worker.queues[0]: queue name \"a b\" must match [A-Za-z0-9._-]+");
	fails("worker = { queues = [ \"ok\", \"\" ]; };",
	    "t:1: worker.queues[1]: queue name \"\" must match [A-Za-z0-9._-]+");
	fails("worker = { queues = [ \"x/y\" ]; };",
	    "t:1: worker.queues[0]: queue name \"x/y\" must match [A-Za-z0-9._-]+");
	fails("worker = { queues = ( { name = \"a:b\"; weight = 2; } ); };",
	    "t:1: worker.queues[0].name: queue name \"a:b\" must match [A-Za-z0-9._-]+");
	fails("worker = { queues = [ \"a\", \"b\", \"a\" ]; };",
	    "t:1: worker.queues[2]: duplicate queue \"a\"");
	fails("worker = { queues = [ ]; };", "t:1: worker.queues: must list 1..64 queues");
	fails("worker = { queues = ( { name = \"a\"; }, \"b\" ); };",
	    "t:1: worker.queues[1]: must be a { name = \"x\"; weight = N; } group");
	fails("worker = { queues = ( \"b\", { name = \"a\"; } ); };",
	    "t:1: worker.queues[1]: must be a queue name string");
	fails("worker = { queues = ( { weight = 3; } ); };",
	    "t:1: worker.queues[0]: a weighted queue needs a name");
}
END_TEST

/* A list of n generated strings, for the count limits. */
static void
many(char *out, size_t len, const char *pre, int n, const char *post)
{
	size_t o = (size_t)snprintf(out, len, "%s", pre);

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, len - o, "%s\"q%d\"", i ? ", " : "", i);
	snprintf(out + o, len - o, "%s", post);
}

START_TEST(test_count_limits)
{
	char text[2048];

	many(text, sizeof(text), "worker = { queues = [ ", 64, " ]; };");
	ck_assert_int_eq(ok(text)->cf_nqueues, 64);
	many(text, sizeof(text), "worker = { queues = [ ", 65, " ]; };");
	fails(text, "t:1: worker.queues: must list 1..64 queues");
	many(text, sizeof(text), "worker = { labels = [ ", 32, " ]; };");
	ck_assert_int_eq(ok(text)->cf_nlabels, 32);
	ck_assert_str_eq(cf->cf_labels[31], "q31");
	ck_assert_ptr_null(cf->cf_labels[32]);
	many(text, sizeof(text), "worker = { labels = [ ", 33, " ]; };");
	fails(text, "t:1: worker.labels: must have at most 32 labels");
	fails("worker = { labels = [ \"a\", \"\" ]; };", "t:1: worker.labels[1]: must not be empty");
	fails("worker = { labels = [ \"a\\tb\" ]; };",
	    "t:1: worker.labels[0]: must not contain control characters");
}
END_TEST

/* ---- handlers ---- */

START_TEST(test_handlers)
{
	const struct conf_handler *h;

	ok("handlers = (\n"
	    "  { jobtype = \"n\"; builtin = \"sleep\"; },\n"
	    "  { jobtype = \"e\"; exec = [ \"/usr/bin/env\", \"-i\", \"\" ]; },\n"
	    "  { jobtype = \"p\"; plugin = \"/usr/lib/p.so\"; timeout = 0; },\n"
	    "  { jobtype = \"*\"; builtin = \"fail\"; timeout = 9; }\n"
	    ");");
	ck_assert_int_eq(cf->cf_nhandlers, 4);
	h = &cf->cf_handlers[0];
	ck_assert_int_eq(h->h_kind, CONF_H_BUILTIN);
	ck_assert_str_eq(h->h_builtin, "sleep");
	ck_assert_int_eq(h->h_timeout, 0);
	ck_assert_int_eq(h->h_line, 2);
	h = &cf->cf_handlers[1];
	ck_assert_int_eq(h->h_kind, CONF_H_EXEC);
	ck_assert_int_eq(h->h_argc, 3);
	ck_assert_str_eq(h->h_argv[0], "/usr/bin/env");
	ck_assert_str_eq(h->h_argv[2], "");
	ck_assert_ptr_null(h->h_argv[3]);
	ck_assert_int_eq(h->h_timeout, 1800);
	h = &cf->cf_handlers[2];
	ck_assert_int_eq(h->h_kind, CONF_H_PLUGIN);
	ck_assert_str_eq(h->h_plugin, "/usr/lib/p.so");
	ck_assert_int_eq(h->h_timeout, 0);
	ck_assert_int_eq(ok("handlers = ( { jobtype = \"p\"; plugin = \"/usr/lib/fkworker/plugins/x.so\"; } );")
	    ->cf_handlers[0].h_timeout, 1800);
}
END_TEST

START_TEST(test_handler_find)
{
	ok("handlers = ( { jobtype = \"*\"; builtin = \"fail\"; },"
	    " { jobtype = \"a\"; builtin = \"noop\"; } );");
	/* The exact match wins even after "*". */
	ck_assert_str_eq(conf_handler_find(cf, "a")->h_builtin, "noop");
	ck_assert_str_eq(conf_handler_find(cf, "b")->h_jobtype, "*");
	ok("");
	ck_assert_str_eq(conf_handler_find(cf, "sleep")->h_builtin, "sleep");
	ck_assert_ptr_null(conf_handler_find(cf, "other"));
	ck_assert_ptr_null(conf_handler_find(cf, "noo"));
}
END_TEST

START_TEST(test_handler_errors)
{
	fails("handlers = ( { jobtype = \"x\"; builtin = \"noop\"; exec = [ \"/bin/true\" ]; } );",
	    "t:1: handlers[0]: builtin, exec and plugin are exclusive: give only one");
	fails("handlers = ( { jobtype = \"x\"; plugin = \"/a.so\"; exec = [ \"/bin/true\" ]; } );",
	    "t:1: handlers[0]: builtin, exec and plugin are exclusive: give only one");
	fails("handlers = ( { jobtype = \"x\"; plugin = \"app.so\"; } );",
	    "t:1: handlers[0].plugin: the plugin \"app.so\" must be an absolute path");
	fails("handlers = ( { jobtype = \"x\"; timeout = 5; } );",
	    "t:1: handlers[0]: needs one of builtin, exec or plugin");
	fails("handlers = ( { builtin = \"noop\"; } );", "t:1: handlers[0]: jobtype is required");
	fails("handlers = ( { jobtype = \"\"; builtin = \"noop\"; } );",
	    "t:1: handlers[0].jobtype: must not be empty");
	fails("handlers = ( { jobtype = \"x\"; exec = [ \"bin/run\", \"a\" ]; } );",
	    "t:1: handlers[0].exec: the command \"bin/run\" must be an absolute path");
	fails("handlers = ( { jobtype = \"x\"; exec = ( \"/bin/x\", 5 ); } );",
	    "t:1: handlers[0].exec[1]: must be a string");
	fails("handlers = ( { jobtype = \"x\"; builtin = \"nop\"; } );",
	    "t:1: handlers[0].builtin: must be one of \"noop\", \"sleep\", \"fail\"");
	fails("handlers = ( { jobtype = \"x\"; plugin = \"\"; } );",
	    "t:1: handlers[0].plugin: must not be empty");
	fails("handlers = ( );",
	    "t:1: handlers: must have at least one handler (leave the key out for noop, sleep and "
	    "fail)");
	fails("handlers = (\n  { jobtype = \"a\"; builtin = \"noop\"; },\n"
	    "  { jobtype = \"a\"; builtin = \"fail\"; }\n);",
	    "t:3: handlers[1].jobtype: duplicate jobtype \"a\" (first at line 2)");
	/* Every handler's problems, not just the first. */
	fails("handlers = (\n  { builtin = \"noop\"; },\n  { jobtype = \"b\"; }\n);",
	    "t:2: handlers[0]: jobtype is required\n"
	    "t:3: handlers[1]: needs one of builtin, exec or plugin");
}
END_TEST

/* ---- cross checks ---- */

START_TEST(test_cross_checks)
{
	char text[512], want[512];

	fails("worker = {\n  cpus = 4;\n  concurrency = 2;\n};",
	    "t:3: worker.concurrency (2) must be at least worker.cpus (4)");
	ok("worker = { cpus = 4; concurrency = 4; };");
	setenv("WORKER_CONCURRENCY", "2", 1);
	fails_env("worker = { cpus = 4; };", 1,
	    "environment: WORKER_CONCURRENCY: worker.concurrency (2) must be at least "
	    "worker.cpus (4)");
	unsetenv("WORKER_CONCURRENCY");
	/* A rejected cpus adds no second, derived error. */
	fails("worker = { cpus = 0; concurrency = 1; };", "t:1: worker.cpus: must be 1..1024");

	/* connections: "auto" resolves to 32 per child, within concurrency and a quarter of the budget. */
	ck_assert_int_eq(ok("worker = { cpus = 2; concurrency = 2000; };")->cf_connections, 64);
	ck_assert_int_eq(ok("worker = { cpus = 2; concurrency = 20; };")->cf_connections, 20);
	ck_assert_int_eq(ok("worker = { cpus = 64; concurrency = 64000; };")->cf_connections, 500);
	ck_assert_int_eq(ok("faktory = { connection_budget = 100; };\n"
	    "worker = { cpus = 2; concurrency = 2000; };")->cf_connections, 25);
	/* A number above concurrency means one per slot; below cpus is refused. */
	ck_assert_int_eq(ok("worker = { cpus = 2; concurrency = 40; connections = 1000; };")
	    ->cf_connections, 40);
	fails("worker = {\n  cpus = 4;\n  connections = 3;\n};",
	    "t:3: worker.connections (3) must be at least worker.cpus (4): each child needs one");
	/* The children's connections and the heartbeat fit the server's budget. */
	fails("faktory = { connection_budget = 100; };\n"
	    "worker = {\n  cpus = 1;\n  concurrency = 500;\n  connections = 100;\n};",
	    "t:5: worker.connections (100) and the heartbeat connection exceed "
	    "faktory.connection_budget (100)");
	ok("faktory = { connection_budget = 101; };\n"
	    "worker = { cpus = 1; concurrency = 500; connections = 100; };");
	/* A retired key names its replacement. */
	fails("worker = {\n  slots_per_connection = 16;\n};",
	    "t:2: worker.slots_per_connection: was removed in 0.2: FETCHes no longer queue on "
	    "shared connections; worker.connections sets how many connections the children "
	    "open (see fkworker.conf(5))");

	/* TLS with verification needs a readable CA file when one is named. */
	snprintf(text, sizeof(text), "faktory = { url = \"tcp+tls://h\";\n"
	    "  tls = { ca_file = \"%s/ca.pem\"; }; };", tmpdir);
	snprintf(want, sizeof(want), "t:2: faktory.tls.ca_file: cannot read %s/ca.pem: No such "
	    "file or directory (tcp+tls with verify needs it)", tmpdir);
	fails(text, want);
	snprintf(text, sizeof(text), "faktory = { url = \"tcp+tls://h\";\n"
	    "  tls = { ca_file = \"%s\"; }; };", tmpdir);
	snprintf(want, sizeof(want), "t:2: faktory.tls.ca_file: cannot read %s: not a regular file "
	    "(tcp+tls with verify needs it)", tmpdir);
	fails(text, want);
	snprintf(text, sizeof(text), "faktory = { url = \"tcp+tls://h\";\n"
	    "  tls = { ca_file = \"%s/ca.pem\"; verify = false; }; };", tmpdir);
	ok(text);
	snprintf(text, sizeof(text), "faktory = { url = \"tcp://h\";\n"
	    "  tls = { ca_file = \"%s/ca.pem\"; }; };", tmpdir);
	ok(text);
	snprintf(text, sizeof(text), "faktory = { url = \"tcp+tls://h\";\n"
	    "  tls = { ca_file = \"%s\"; }; };", write_tmp("ca.pem", "PEM"));
	ok(text);
	ck_assert_ptr_null(load_env("faktory = { url = \"ftp://h\"; };", 0));
	ck_assert_msg(strncmp(errors(), "t:1: faktory.url: ", 18) == 0, "%s", joined);
}
END_TEST

START_TEST(test_restart_key)
{
	struct fkw_conf *a, *b;

	a = conf_load_string("control = { socket = \"/tmp/a.sock\"; };", "a", 0, &errs);
	b = conf_load_string("control = { socket = \"/tmp/a.sock\"; mode = 0600; };\n"
	    "worker = { concurrency = 99; cpus = 3; };", "b", 0, &errs);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(conf_restart_key(a, b));
	free(b->cf_ctl_socket);
	ck_assert_ptr_nonnull(b->cf_ctl_socket = strdup("/tmp/b.sock"));
	ck_assert_str_eq(conf_restart_key(a, b), "control.socket");
	conf_free(a);
	conf_free(b);
}
END_TEST

/* ---- conf_dump ---- */

static const char rich[] =
    "faktory = { url = \"tcp+tls://fk.example.com:7500\";\n"
    "  tls = { verify = false; }; };\n"
    "worker = { concurrency = 300; cpus = 3;\n"
    "  queues = ( { name = \"hi\"; weight = 5; }, { name = \"lo\"; weight = 1; } );\n"
    "  labels = [ \"a \\\"q\\\" \\\\ b\", \"eu\" ]; shutdown_timeout = 0; heartbeat = 60;\n"
    "  cpu_affinity = false; pipelining = false; max_jobs_per_child = 5000000000L;\n"
    "  memory_limit = \"1536K\"; connect_timeout = 100; reconnect_max = 300000; };\n"
    "handlers = ( { jobtype = \"resize\"; exec = [ \"/usr/bin/convert\", \"-q\", \"\" ];\n"
    "  timeout = 7; }, { jobtype = \"*\"; plugin = \"/usr/lib/x.so\"; },\n"
    "  { jobtype = \"noop\"; builtin = \"noop\"; } );\n"
    "control = { socket = \"/tmp/s.sock\"; mode = 0600; };\n"
    "stats = { interval_ms = 10; };\n"
    "log = { level = \"debug\"; };\n";

START_TEST(test_dump_roundtrip)
{
	static const char *const texts[] = { "", rich, "worker = { memory_limit = 1000; };" };
	struct fkw_conf *again;
	char *d1, *d2;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ok(texts[i]);
		d1 = dump(cf);
		again = conf_load_string(d1, "dump", 0, &errs);
		if (again == NULL)
			ck_abort_msg("dump does not load:\n%s\n---\n%s", errors(), d1);
		ck_assert_msg(conf_diff(cf, again) == NULL, "differs in %s:\n%s",
		    conf_diff(cf, again), d1);
		d2 = dump(again);
		ck_assert_str_eq(d1, d2);
		free(d1);
		free(d2);
		conf_free(again);
	}
	ok(rich);
	d1 = dump(cf);
	ck_assert_ptr_nonnull(strstr(d1, "max_jobs_per_child = 5000000000L;"));
	ck_assert_ptr_nonnull(strstr(d1, "memory_limit = \"1536K\";"));
	ck_assert_ptr_nonnull(strstr(d1, "mode = 0600;"));
	free(d1);
}
END_TEST

START_TEST(test_dump_masks_passwords)
{
	char *d;

	ok("faktory = { url = \"tcp://user:s3cret@h:7419\"; };");
	d = dump(cf);
	ck_assert_ptr_null(strstr(d, "s3cret"));
	ck_assert_ptr_nonnull(strstr(d, "url = \"tcp://user:********@h:7419\";"));
	ck_assert_ptr_nonnull(strstr(d, "password = \"********\";"));
	free(d);
	ok("faktory = { password = \"k3y\"; };");
	d = dump(cf);
	ck_assert_ptr_null(strstr(d, "k3y"));
	ck_assert_ptr_nonnull(strstr(d, "password = \"********\";"));
	free(d);
	ok("");
	d = dump(cf);
	ck_assert_ptr_nonnull(strstr(d, "password = \"\";"));
	ck_assert_ptr_nonnull(strstr(d, "cpus = \"auto\";"));
	free(d);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shipped_file_loads);
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_bounds, 0, (int)(sizeof(bounds) / sizeof(bounds[0])));
	tcase_add_test(tc, test_int64_and_size_forms);
	tcase_add_loop_test(tc, test_wrong_types, 0,
	    (int)(sizeof(wrong_types) / sizeof(wrong_types[0])));
	tcase_add_test(tc, test_unknown_keys_every_level);
	tcase_add_test(tc, test_syntax_error_line);
	tcase_add_test(tc, test_many_errors_one_load);
	tcase_add_test(tc, test_real_files);
	tcase_add_test(tc, test_sample_files);
	tcase_add_test(tc, test_full_sample_values);
	tcase_add_test(tc, test_env_overrides);
	tcase_add_test(tc, test_env_bad_values);
	tcase_add_test(tc, test_env_server_ip);
	tcase_add_test(tc, test_password_precedence);
	tcase_add_test(tc, test_queues);
	tcase_add_test(tc, test_count_limits);
	tcase_add_test(tc, test_handlers);
	tcase_add_test(tc, test_handler_find);
	tcase_add_test(tc, test_handler_errors);
	tcase_add_test(tc, test_cross_checks);
	tcase_add_test(tc, test_restart_key);
	tcase_add_test(tc, test_dump_roundtrip);
	tcase_add_test(tc, test_dump_masks_passwords);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
