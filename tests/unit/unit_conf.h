/* SPDX-License-Identifier: MIT */
/*
 * unit_conf: the fixture of the configuration tests (test_conf.c,
 * test_conf_keys.c). Each test starts with none of the environment overrides
 * set and a fresh scratch directory; texts load under the file name "t", so
 * errors read "t:LINE: key: message". Repo files are found from the working
 * directory, which make sets to the repository root.
 */
#ifndef FKW_UNIT_CONF_H
#define FKW_UNIT_CONF_H

#include "conf.h"

extern struct fkw_conf	 *cf;		/* the last load's result; freed by the next load, at teardown */
extern struct conf_errors errs;		/* the last load's errors */
extern char		  tmpdir[64];	/* the test's scratch directory */
extern char		  joined[8192];	/* what errors() returned last */

/* The checked fixture: clears the overrides, makes tmpdir; frees, removes it. */
void			 conf_setup(void);
void			 conf_teardown(void);

/* Every error of the last load, one per line (in joined). */
const char		*errors(void);
/* Loads text (file "t") into cf, with or without the environment overrides. */
struct fkw_conf		*load_env(const char *text, int use_env);
/* Text that must load: fails the test with the errors otherwise. */
struct fkw_conf		*ok(const char *text);
/* Text that must fail with exactly these errors (joined by newlines). */
void			 fails_env(const char *text, int use_env, const char *want);
void			 fails(const char *text, const char *want);
/* tmpdir/name holding text; returns its path. */
const char		*write_tmp(const char *name, const char *text);

#endif
