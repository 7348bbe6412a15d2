/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for what issue 13 asked of the configuration: sizes with units
 * (memory_limit), "did you mean", libconfig's parse errors with the line's
 * text, warnings about risky values, the host checks of exec commands and
 * plugins (conf_check_host, sup_confcheck) and -nn's environment marks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "sup.h"
#include "util.h"
#include "unit_conf.h"
#include "unit_util.h"

/* Every warning of the last load, one per line. */
static const char *
warnings(void)
{
	static char w[8192];
	size_t n = 0;

	w[0] = '\0';
	for (int i = 0; i < errs.ce_nwarn && n < sizeof(w); i++)
		n += (size_t)snprintf(w + n, sizeof(w) - n, "%s%s", i ? "\n" : "",
		    errs.ce_warn[i]);
	return w;
}

/* ---- memory_limit ---- */

START_TEST(test_memory_limit_units)
{
	ck_assert_uint_eq(ok("worker = { memory_limit = \"2G\"; };")->cf_memory_limit, 2ull << 30);
	ck_assert_uint_eq(ok("worker = { memory_limit = \"32M\"; };")->cf_memory_limit, 32ull << 20);
	ck_assert_uint_eq(ok("worker = { memory_limit = \"1536MB\"; };")->cf_memory_limit,
	    1536ull << 20);
	ck_assert_uint_eq(ok("worker = { memory_limit = \"0\"; };")->cf_memory_limit, 0);
	ck_assert_uint_eq(ok("worker = { memory_limit = 0; };")->cf_memory_limit, 0);
	/* A bare number is ambiguous: refused, with the fix. */
	fails("worker = { memory_limit = 512; };", "t:1: worker.memory_limit: 512 has no unit: "
	    "write a string such as \"512M\" (K, M, G or T; 1024-based)");
	fails("worker = { memory_limit = 8589934592L; };", "t:1: worker.memory_limit: 8589934592 "
	    "has no unit: write a string such as \"8589934592M\" (K, M, G or T; 1024-based)");
	fails("worker = { memory_limit = \"512\"; };", "t:1: worker.memory_limit: \"512\" has no "
	    "unit: write e.g. \"512M\" (K, M, G or T; 1024-based)");
	/* No fractions: say how to write 1.5G. */
	fails("worker = { memory_limit = \"1.5G\"; };", "t:1: worker.memory_limit: \"1.5G\" is not "
	    "a size: write a whole number and a unit, such as \"512M\" or \"1536M\" (K, M, G or T; "
	    "1024-based)");
	/* A lower bound: a child is near it on its own. */
	fails("worker = { memory_limit = \"31M\"; };", "t:1: worker.memory_limit: must be 0 (no "
	    "limit) or at least 32M: a child's own memory is near that");
	fails("worker = { memory_limit = \"512K\"; };", "t:1: worker.memory_limit: must be 0 (no "
	    "limit) or at least 32M: a child's own memory is near that");
	fails("worker = { memory_limit = \"99999999T\"; };",
	    "t:1: worker.memory_limit: \"99999999T\" is too large");
}
END_TEST

/* ---- messages better than libconfig's ---- */

START_TEST(test_did_you_mean)
{
	fails("wroker = { concurrency = 5; };", "t:1: wroker: unknown key (did you mean `worker`?)");
	fails("worker = { concurency = 5; };",
	    "t:1: worker.concurency: unknown key (did you mean `worker.concurrency`?)");
	fails("worker = { shutdown_timout = 5; };",
	    "t:1: worker.shutdown_timout: unknown key (did you mean `worker.shutdown_timeout`?)");
	fails("faktory = { tls = { verfy = true; }; };",
	    "t:1: faktory.tls.verfy: unknown key (did you mean `faktory.tls.verify`?)");
	/* The schema of that level only: "level" is a key of log, not of control. */
	fails("control = { level = \"info\"; };", "t:1: control.level: unknown key");
	/* Nothing close: no guess. */
	fails("metrics = { port = 9; };", "t:1: metrics: unknown key");
}
END_TEST

START_TEST(test_syntax_messages)
{
	/* The line libconfig stopped at, trimmed. */
	fails("worker = {\n\tconcurrency = = 10;\n};\n", "t:2: syntax error in `concurrency = = 10;`");
	/* The key set twice, on its own line or twice on one. */
	fails("worker = {\n  cpus = 1;\n  cpus = 2;\n};\n",
	    "t:3: duplicate setting name `cpus` (a group may set each key once): `cpus = 2;`");
	fails("worker = { cpus = 1; heartbeat = 9; cpus = 2; };\n",
	    "t:1: duplicate setting name `cpus` (a group may set each key once): "
	    "`worker = { cpus = 1; heartbeat = 9; cpus = 2; };`");
	/* A name inside a string is not a setting. */
	fails("faktory = { url = \"a = 1\"; url = \"b\"; };\n",
	    "t:1: duplicate setting name `url` (a group may set each key once): "
	    "`faktory = { url = \"a = 1\"; url = \"b\"; };`");
}
END_TEST

/* ---- warnings ---- */

START_TEST(test_risky_values_warn)
{
	char text[256], want[512];
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	/* Valid values load, with a warning each; nothing risky, no warning. */
	ok("worker = { cpus = 1; concurrency = 10; shutdown_timeout = 50; };");
	ck_assert_int_eq(errs.ce_nwarn, 0);
	snprintf(text, sizeof(text), "worker = {\n  cpus = %ld;\n  concurrency = 5000; };",
	    online + 1);
	ok(text);
	snprintf(want, sizeof(want), "t:2: worker.cpus (%ld) is more than the %ld online cores: "
	    "the children take turns on them (\"auto\" = one per core)", online + 1, online);
	ck_assert_str_eq(warnings(), want);
	ok("worker = {\n  shutdown_timeout = 51; };");
	ck_assert_str_eq(warnings(), "t:2: worker.shutdown_timeout (51 s) leaves less than 10 s "
	    "of fkworker.service's TimeoutStopSec (60 s): systemd kills what still runs then; "
	    "raise TimeoutStopSec in a drop-in (systemctl edit fkworker) or lower it");
	/* More than half of the server's budget for this host alone. */
	ok("worker = { cpus = 1; concurrency = 5000;\n  connections = 1000; };");
	ck_assert_str_eq(warnings(), "t:2: this host opens 1001 connections (worker.connections "
	    "1000 and the heartbeat), more than half of faktory.connection_budget (2000): other "
	    "hosts and producers share the rest, and the server refuses connections beyond it");
	ok("worker = { cpus = 1; concurrency = 5000; connections = 999; };");
	ck_assert_int_eq(errs.ce_nwarn, 0);
	/* More than all of it stays an error. */
	fails("worker = { cpus = 1; concurrency = 5000;\n  connections = 2000; };",
	    "t:2: worker.connections (2000) and the heartbeat connection exceed "
	    "faktory.connection_budget (2000)");
	/* From the environment: named so. */
	setenv("WORKER_CPUS", "1024", 1);
	ck_assert_ptr_nonnull(load_env("worker = { concurrency = 5000; };", 1));
	ck_assert_msg(strncmp(warnings(), "environment: WORKER_CPUS: worker.cpus (1024)", 44) == 0,
	    "%s", warnings());
}
END_TEST

/* The stop timeout the warning uses is the unit's. */
START_TEST(test_unit_stop_timeout_matches)
{
	char *unit = unit_slurp("systemd/fkworker.service"), want[64];

	snprintf(want, sizeof(want), "\nTimeoutStopSec=%ds\n", CONF_UNIT_STOP_TIMEOUT);
	ck_assert_msg(strstr(unit, want) != NULL, "systemd/fkworker.service has no %s", want + 1);
	ck_assert_ptr_nonnull(strstr(unit, "\nEnvironmentFile=-" CONF_UNIT_ENV_FILE "\n"));
	free(unit);
}
END_TEST

/* ---- the host: exec commands and plugins ---- */

START_TEST(test_host_exec_commands)
{
	char text[1024], want[2048];
	const char *sh = write_tmp("run.sh", "#!/bin/sh\nexit 0\n");
	const char *plain = write_tmp("plain", "not a program\n");

	ck_assert_int_eq(chmod(sh, 0755), 0);
	ck_assert_int_eq(chmod(plain, 0644), 0);
	snprintf(text, sizeof(text), "handlers = (\n"
	    "  { jobtype = \"a\"; exec = [ \"/nonexistent/fkw-cmd\" ]; },\n"
	    "  { jobtype = \"b\"; exec = [ \"%s\" ]; },\n"
	    "  { jobtype = \"c\"; exec = [ \"%s\", \"x\" ]; },\n"
	    "  { jobtype = \"d\"; exec = [ \"%s\" ]; },\n"
	    "  { jobtype = \"e\"; plugin = \"/nonexistent/fkw.so\"; }\n);\n",
	    plain, tmpdir, sh);
	ok(text);
	ck_assert_int_eq(conf_check_host(cf, &errs), 4);
	snprintf(want, sizeof(want),
	    "t:2: handlers[0].exec: the command /nonexistent/fkw-cmd: No such file or directory\n"
	    "t:3: handlers[1].exec: the command %s is not executable: Permission denied\n"
	    "t:4: handlers[2].exec: the command %s is not a regular file\n"
	    "t:6: handlers[4].plugin: the plugin /nonexistent/fkw.so: No such file or directory",
	    plain, tmpdir);
	/* Even root: access(X_OK) wants an x bit, and plain has none. */
	ck_assert_str_eq(errors(), want);
	/* tmpdir is under /tmp: the unit's PrivateTmp hides it. */
	snprintf(want, sizeof(want), "t:5: handlers[3].exec: %s is under /tmp, which "
	    "fkworker.service hides (PrivateTmp=yes): run by systemd, this handler would fail "
	    "every job; install it under /usr/local or /opt", sh);
	ck_assert_str_eq(warnings(), want);
	/* Good commands elsewhere: no error, no warning. */
	ok("handlers = ( { jobtype = \"t\"; exec = [ \"/bin/sh\", \"-c\", \"true\" ]; } );");
	ck_assert_int_eq(conf_check_host(cf, &errs), 0);
	ck_assert_int_eq(errs.ce_n + errs.ce_nwarn, 0);
	ok("handlers = ( { jobtype = \"h\"; exec = [ \"/home/nobody/fkw-none\" ]; } );");
	ck_assert_int_eq(conf_check_host(cf, &errs), 1);
	ck_assert_ptr_nonnull(strstr(errors(), "t:1: handlers[0].exec: the command "
	    "/home/nobody/fkw-none: No such file or directory"));
}
END_TEST

/* sup_confcheck loads each plugin as a child would, in a throwaway process. */
START_TEST(test_host_plugins_loaded)
{
	const char *b = getenv("FKW_BUILD");
	char so[1200], path[1200], text[2048];
	const char *junk = write_tmp("junk.so", "not ELF\n");

	snprintf(path, sizeof(path), "%s/plugins/example.so", b != NULL ? b : "build");
	ck_assert_msg(realpath(path, so) != NULL, "%s: build it first", path);
	snprintf(text, sizeof(text), "handlers = ( { jobtype = \"echo\"; plugin = \"%s\"; } );", so);
	ok(text);
	ck_assert_int_eq(sup_confcheck(cf, &errs), 0);
	ck_assert_int_eq(errs.ce_n, 0);
	snprintf(text, sizeof(text), "handlers = (\n  { jobtype = \"echo\"; plugin = \"%s\"; },\n"
	    "  { jobtype = \"x\"; plugin = \"%s\"; }\n);\n", so, junk);
	ok(text);
	ck_assert_int_eq(sup_confcheck(cf, &errs), 1);
	snprintf(text, sizeof(text), "t:3: handlers[1].plugin: plugin %s: cannot load: %s: ",
	    junk, junk);
	ck_assert_msg(strncmp(errors(), text, strlen(text)) == 0, "%s", joined);
}
END_TEST

/* ---- -nn ---- */

START_TEST(test_dump_marks_environment)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	setenv("WORKER_CONCURRENCY", "77", 1);
	setenv("FAKTORY_SERVER_IP", "10.1.2.3", 1);
	setenv("FAKTORY_PASSWORD", "pw", 1);
	ck_assert_ptr_nonnull(load_env("worker = { cpus = 1; };", 1));
	ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
	conf_dump(cf, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(strstr(text, "\tconcurrency = 77;\t# from WORKER_CONCURRENCY\n"));
	ck_assert_ptr_nonnull(strstr(text, "\turl = \"tcp://10.1.2.3:7419\";\t# from "
	    "FAKTORY_SERVER_IP\n"));
	ck_assert_ptr_nonnull(strstr(text, "\tpassword = \"********\";\t# from FAKTORY_PASSWORD\n"));
	/* Values from the file are not marked. */
	ck_assert_ptr_nonnull(strstr(text, "\tcpus = 1;\n"));
	free(text);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_memory_limit_units, test_did_you_mean, test_syntax_messages,
		test_risky_values_warn, test_unit_stop_timeout_matches, test_host_exec_commands,
		test_host_plugins_loaded, test_dump_marks_environment, NULL,
	};

	return unit_main("conf_check", "core", conf_setup, conf_teardown, 0, tests);
}
