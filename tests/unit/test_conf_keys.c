/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/conf*.c, the keys: the bounds of every numeric key,
 * integer and size forms, types, unknown keys, syntax errors, several errors
 * in one load, queues and labels, handlers, and the checks across keys.
 * Loading as a whole is in test_conf.c; the fixture both use is unit_conf.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"
#include "unit_conf.h"
#include "unit_util.h"

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
	ck_assert_uint_eq(get_meml(ok("worker = { memory_limit = 0; };")), 0);
	/* memory_limit: see test_conf_check.c (units required, a lower bound). */
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
	{ "worker = { concurrency = \"8\"; };", "t:1: worker.concurrency: must be an integer or \"auto\"" },
	{ "worker = { concurrency = 8.0; };", "t:1: worker.concurrency: must be an integer or \"auto\"" },
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
	    "such as \"512M\"" },
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
	    "t:3: faktory.uri: unknown key (did you mean `faktory.url`?)\n"
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
	fails("bogus = 1;\nworker = {\n  concurrency = ;\n};\n",
	    "t:3: syntax error in `concurrency = ;`");
	fails("a = 1;\na = 2;\n", "t:2: duplicate setting name `a` (a group may set each key "
	    "once): `a = 2;`");
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

int
main(void)
{
	const TTest *tests[] = {
		test_int64_and_size_forms, test_unknown_keys_every_level, test_syntax_error_line,
		test_many_errors_one_load, test_queues, test_count_limits, test_handlers,
		test_handler_find, test_handler_errors, test_cross_checks, NULL,
	};
	Suite *s = suite_create("conf_keys");
	TCase *tc = unit_tcase(s, "core", conf_setup, conf_teardown, 0, tests);

	tcase_add_loop_test(tc, test_bounds, 0, (int)FKW_NELEM(bounds));
	tcase_add_loop_test(tc, test_wrong_types, 0, (int)FKW_NELEM(wrong_types));
	return unit_run(s);
}
