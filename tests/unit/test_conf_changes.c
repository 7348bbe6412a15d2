/* SPDX-License-Identifier: MIT */
/* conf_changes: what a reload changes, key by key, secrets never shown. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "unit_util.h"

static const char base[] =
    "faktory: { url = \"tcp://:pw1@h:7419\"; password = \"\"; };\n"
    "worker: { concurrency = 20; cpus = 1; queues = [ \"a\" ]; };\n"
    "handlers: ( { jobtype = \"noop\"; builtin = \"noop\"; } );\n";

static char *
changes(const char *a, const char *b)
{
	struct conf_errors e = { 0 };
	struct fkw_conf *x = conf_load_string(a, "a", 0, &e), *y;
	char *d;

	ck_assert_ptr_nonnull(x);
	y = conf_load_string(b, "b", 0, &e);
	ck_assert_ptr_nonnull(y);
	d = conf_changes(x, y);
	ck_assert_ptr_nonnull(d);
	conf_free(x);
	conf_free(y);
	conf_errors_free(&e);
	return d;
}

START_TEST(test_nothing_changed)
{
	char *d = changes(base, base);

	ck_assert_str_eq(d, "");
	free(d);
}
END_TEST

START_TEST(test_values_and_order)
{
	char *d = changes(base,
	    "faktory: { url = \"tcp://:pw1@h:7419\"; password = \"\"; };\n"
	    "worker: { concurrency = 30; cpus = 1; queues = [ \"a\", \"b\" ]; };\n"
	    "handlers: ( { jobtype = \"noop\"; builtin = \"noop\"; },\n"
	    "  { jobtype = \"x\"; exec = [ \"/bin/true\" ]; } );\n"
	    "log: { level = \"debug\"; };\n");

	ck_assert_str_eq(d,
	    "worker.concurrency: 20 -> 30\n"
	    "worker.queues: [ \"a\" ] -> [ \"a\", \"b\" ]\n"
	    "handlers: ( { jobtype = \"noop\"; builtin = \"noop\"; timeout = 0; } ) -> "
	    "( { jobtype = \"noop\"; builtin = \"noop\"; timeout = 0; }, { jobtype = \"x\"; "
	    "exec = [ \"/bin/true\" ]; timeout = 1800; } )\n"
	    "log.level: \"info\" -> \"debug\"");
	free(d);
}
END_TEST

START_TEST(test_secrets_hidden)
{
	char *d = changes(base,
	    "faktory: { url = \"tcp://:pw2@h:7419\"; password = \"topsecret\"; };\n"
	    "worker: { concurrency = 20; cpus = 1; queues = [ \"a\" ]; };\n"
	    "handlers: ( { jobtype = \"noop\"; builtin = \"noop\"; } );\n");

	ck_assert_str_eq(d, "faktory.url: changed\nfaktory.password: changed");
	ck_assert_ptr_null(strstr(d, "pw2"));
	ck_assert_ptr_null(strstr(d, "topsecret"));
	free(d);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_nothing_changed, test_values_and_order, test_secrets_hidden, NULL,
	};

	return unit_main("conf_changes", "core", NULL, NULL, 0, tests);
}
