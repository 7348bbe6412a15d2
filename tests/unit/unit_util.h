/* SPDX-License-Identifier: MIT */
/*
 * unit_util: what the unit tests (tests/unit/test_*.c) share: building and
 * running their Check suite, scratch directories and files, the event loop.
 * The helpers tests/unit/unit_*.c go into $(B)/libunit.a, which every test
 * binary links; unit_job.h and unit_conf.h hold the fixtures of some tests.
 */
#ifndef FKW_UNIT_UTIL_H
#define FKW_UNIT_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

/* ---- suites ---- */

/*
 * A test case named name in s holding tests (NULL-terminated, in order), with
 * a checked fixture when setup or teardown is given and a timeout in seconds
 * when timeout > 0 (else Check's default, CK_DEFAULT_TIMEOUT).
 */
TCase	*unit_tcase(Suite *s, const char *name, void (*setup)(void), void (*teardown)(void),
	    double timeout, const TTest *const *tests);

/*
 * Runs s with Check's normal output (whose summary line tests/unit/run.sh
 * reads) and frees it; returns main's exit status: 0 when every test passed.
 */
int	 unit_run(Suite *s);

/* unit_run of suite, one test case made by unit_tcase. */
int	 unit_main(const char *suite, const char *tcase, void (*setup)(void),
	    void (*teardown)(void), double timeout, const TTest *const *tests);

/* ---- files ---- */

/* Makes a fresh directory /tmp/PREFIX.XXXXXX into dir (len bytes). */
void	 unit_tmpdir(char *dir, size_t len, const char *prefix);
/* Removes a unit_tmpdir directory and all in it. */
void	 unit_tmpdir_remove(const char *dir);
/* Writes text to dir/name; returns its path (valid for the next 7 calls). */
const char *unit_write_file(const char *dir, const char *name, const char *text);
/* The whole file, NUL-terminated, to free(); fails the test when unreadable. */
char	*unit_slurp(const char *path);

/* ---- the event loop ---- */

/* Runs l for ms (ev_run_once, 20 ms at most each), failing the test on a loop error. */
void	 unit_loop_for(struct ev_loop *l, uint64_t ms);

#endif
