/* SPDX-License-Identifier: MIT */
/* unit_conf: the fixture of the configuration tests (see unit_conf.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit_conf.h"
#include "unit_util.h"

struct fkw_conf *cf;
struct conf_errors errs;
char tmpdir[64];
char joined[8192];

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

void
conf_setup(void)
{
	clear_env();
	cf = NULL;
	unit_tmpdir(tmpdir, sizeof(tmpdir), "fkw-test-conf");
}

void
conf_teardown(void)
{
	conf_free(cf);
	cf = NULL;
	conf_errors_free(&errs);
	clear_env();
	unit_tmpdir_remove(tmpdir);
}

const char *
errors(void)
{
	size_t n = 0;

	joined[0] = '\0';
	for (int i = 0; i < errs.ce_n && n < sizeof(joined); i++)
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", i ? "\n" : "",
		    errs.ce_msg[i]);
	return joined;
}

struct fkw_conf *
load_env(const char *text, int use_env)
{
	conf_free(cf);
	conf_errors_free(&errs);
	cf = conf_load_string(text, "t", use_env, &errs);
	return cf;
}

struct fkw_conf *
ok(const char *text)
{
	if (load_env(text, 0) == NULL)
		ck_abort_msg("load failed:\n%s\n--- for:\n%s", errors(), text);
	ck_assert_int_eq(errs.ce_n, 0);
	return cf;
}

void
fails_env(const char *text, int use_env, const char *want)
{
	if (load_env(text, use_env) != NULL)
		ck_abort_msg("loaded, expected: %s\n--- for:\n%s", want, text);
	ck_assert_str_eq(errors(), want);
}

void
fails(const char *text, const char *want)
{
	fails_env(text, 0, want);
}

const char *
write_tmp(const char *name, const char *text)
{
	return unit_write_file(tmpdir, name, text);
}
