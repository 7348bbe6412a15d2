/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/conf*.c, loading: the shipped file and the defaults,
 * real and sample files (tests/conf/), the environment, passwords, the keys
 * that need a restart, and conf_dump round trips. The checks of each key
 * (bounds, types, queues, handlers, cross checks) are in test_conf_keys.c;
 * the fixture both use is unit_conf.c.
 */
#include <check.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "util.h"
#include "unit_conf.h"
#include "unit_util.h"

#define SHIPPED	"conf/fkworker.conf"

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
	text = unit_slurp(SHIPPED);
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

/* ---- real files ---- */

/*
 * Files that do not load: the error names tmpdir/rf_named, then says rf_error.
 * rf_text NULL: rf_file is not written.
 */
static const struct {
	const char	*rf_file, *rf_text;	/* the file loaded */
	const char	*rf_inc, *rf_inc_text;	/* a file it includes, or NULL */
	const char	*rf_named, *rf_error;
} real_bad[] = {
	{ "a.conf", "# comment\nworker = {\n  heartbeat = 61;\n};\n", NULL, NULL,
	    "a.conf", ":3: worker.heartbeat: must be 5..60" },
	{ "syntax.conf", "log = {\n level = \"info\";\n}\n}\n", NULL, NULL,
	    "syntax.conf", ":4: syntax error in `}`" },
	{ "missing.conf", NULL, NULL, NULL,
	    "missing.conf", ": cannot read: No such file or directory" },
	/* @include is relative to the including file and errors name the included one. */
	{ "main.conf", "worker = {\n  @include \"inc.conf\"\n};\n", "inc.conf", "\nheartbeat = 2;\n",
	    "inc.conf", ":2: worker.heartbeat: must be 5..60" },
	{ "main2.conf", "worker = {\n  @include \"inc2.conf\"\n};\n",
	    "inc2.conf", "heartbeat = 30;\nshutdown_timeout = ;\n", "inc2.conf",
	    ":2: syntax error in `shutdown_timeout = ;`" },
};

START_TEST(test_real_files)
{
	char path[256], want[512];
	const char *p;

	for (size_t i = 0; i < FKW_NELEM(real_bad); i++) {
		if (real_bad[i].rf_inc != NULL)
			write_tmp(real_bad[i].rf_inc, real_bad[i].rf_inc_text);
		if (real_bad[i].rf_text != NULL)
			write_tmp(real_bad[i].rf_file, real_bad[i].rf_text);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, real_bad[i].rf_file);
		ck_assert_ptr_null(cf = conf_load(path, 0, &errs));
		snprintf(want, sizeof(want), "%s/%s%s", tmpdir, real_bad[i].rf_named,
		    real_bad[i].rf_error);
		ck_assert_str_eq(errors(), want);
		conf_errors_free(&errs);
	}

	p = write_tmp("good.conf", "worker = { heartbeat = 30; };\n");
	ck_assert_ptr_nonnull(cf = conf_load(p, 0, &errs));
	ck_assert_int_eq(cf->cf_heartbeat, 30);
	ck_assert_str_eq(cf->cf_file, p);
}
END_TEST

/* The sample files: each bad-X.conf fails with exactly the lines of bad-X.expected. */
static const char *const samples_bad[] = {
	"unknown-keys", "types", "ranges", "queues", "handlers", "syntax", "cross", "auto",
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
		want = unit_slurp(path);
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
	/* Each says whether it is not a number or out of range, and quotes the value. */
	static const char *const conc[][2] = {
		{ "0", "is out of range" }, { "100001", "is out of range" },
		{ "abc", "is not a number" }, { "12 ", "is not a number" },
		{ "-5", "is out of range" },
	};
	static const char *const cpus[][2] = {
		{ "0", "is out of range" }, { "1025", "is out of range" },
		{ "automatic", "is not a number" }, { "2x", "is not a number" },
	};
	char want[256];

	for (size_t i = 0; i < FKW_NELEM(conc); i++) {
		setenv("WORKER_CONCURRENCY", conc[i][0], 1);
		snprintf(want, sizeof(want), "environment: WORKER_CONCURRENCY: \"%s\" %s "
		    "(must be 1..100000 or \"auto\")", conc[i][0], conc[i][1]);
		fails_env("", 1, want);
	}
	unsetenv("WORKER_CONCURRENCY");
	for (size_t i = 0; i < FKW_NELEM(cpus); i++) {
		setenv("WORKER_CPUS", cpus[i][0], 1);
		snprintf(want, sizeof(want), "environment: WORKER_CPUS: \"%s\" %s "
		    "(must be 1..1024 or \"auto\")", cpus[i][0], cpus[i][1]);
		fails_env("", 1, want);
	}
	unsetenv("WORKER_CPUS");
	setenv("FAKTORY_SERVER_IP", "10.0.0.1/8", 1);
	fails_env("", 1, "environment: FAKTORY_SERVER_IP: must be a host name or IP address");
	/* An address with a port: refused, saying where the port goes. */
	setenv("FAKTORY_SERVER_IP", "10.0.0.5:7419", 1);
	fails_env("", 1, "environment: FAKTORY_SERVER_IP: \"10.0.0.5:7419\" has a port: give "
	    "the address alone (the port comes from faktory.url or FAKTORY_URL, e.g. "
	    "FAKTORY_URL=tcp://10.0.0.5:7419)");
	setenv("FAKTORY_SERVER_IP", "[fd00::5]:7419", 1);
	ck_assert_ptr_null(load_env("", 1));
	ck_assert_ptr_nonnull(strstr(errors(), "\"[fd00::5]:7419\" has a port"));
	setenv("FAKTORY_SERVER_IP", "faktory.example:7419", 1);
	ck_assert_ptr_null(load_env("", 1));
	ck_assert_ptr_nonnull(strstr(errors(), "\"faktory.example:7419\" has a port"));
	unsetenv("FAKTORY_SERVER_IP");
	setenv("FAKTORY_URL", "tcp://h:0", 1);
	ck_assert_ptr_null(load_env("", 1));
	ck_assert_int_eq(errs.ce_n, 1);
	ck_assert_msg(strncmp(errors(), "environment: FAKTORY_URL: ", 26) == 0, "%s", joined);
	/* Two bad variables: both reported. */
	setenv("FAKTORY_URL", "tcp://ok:7419", 1);
	setenv("WORKER_CONCURRENCY", "x", 1);
	setenv("WORKER_CPUS", "y", 1);
	fails_env("", 1, "environment: WORKER_CONCURRENCY: \"x\" is not a number (must be "
	    "1..100000 or \"auto\")\nenvironment: WORKER_CPUS: \"y\" is not a number (must be 1..1024 or "
	    "\"auto\")");
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
    "  memory_limit = \"1536M\"; connect_timeout = 100; reconnect_max = 300000; };\n"
    "handlers = ( { jobtype = \"resize\"; exec = [ \"/usr/bin/convert\", \"-q\", \"\" ];\n"
    "  timeout = 7; }, { jobtype = \"*\"; plugin = \"/usr/lib/x.so\"; },\n"
    "  { jobtype = \"noop\"; builtin = \"noop\"; } );\n"
    "control = { socket = \"/tmp/s.sock\"; mode = 0600; };\n"
    "stats = { interval_ms = 10; };\n"
    "log = { level = \"debug\"; };\n";

START_TEST(test_dump_roundtrip)
{
	static const char *const texts[] = { "", rich, "worker = { memory_limit = \"33000K\"; };" };
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
	ck_assert_ptr_nonnull(strstr(d1, "memory_limit = \"1536M\";"));
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

int
main(void)
{
	const TTest *tests[] = {
		test_shipped_file_loads, test_defaults, test_real_files, test_sample_files,
		test_full_sample_values, test_env_overrides, test_env_bad_values,
		test_env_server_ip, test_password_precedence, test_restart_key,
		test_dump_roundtrip, test_dump_masks_passwords, NULL,
	};

	return unit_main("conf", "core", conf_setup, conf_teardown, 0, tests);
}
