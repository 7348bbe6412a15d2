/* SPDX-License-Identifier: MIT */
/*
 * test_exec: the exec handler against real commands (tests/integration/jobs)
 * on a real loop. unit_job.c stands in for wrk_job.c: its wrk_job_done
 * records each result, and a timeout is played as wrk_job_abort does it
 * (hd_cancel, then FAIL "Timeout").
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ev.h"
#include "stats.h"
#include "util.h"
#include "wrk_job.h"
#include "unit_job.h"
#include "unit_util.h"

#define NJOBS_MAX	64

static char jobs_dir[1024];
static char tmp_dir[64];

static void
setup(void)
{
	const char *root = getenv("FKW_ROOT");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/integration/jobs", root != NULL ? root : ".");
	ck_assert_ptr_nonnull(realpath(path, jobs_dir));
	unit_tmpdir(tmp_dir, sizeof(tmp_dir), "fkw-exec");
	ck_assert_ptr_nonnull(unit_loop = ev_loop_new());
}

static void
teardown(void)
{
	unit_tmpdir_remove(tmp_dir);
	ev_loop_free(unit_loop);
	unit_loop = NULL;
}

static void
exec_init(void)
{
	char err[256];

	ck_assert_int_eq(wrk_exec_init(unit_loop, err, sizeof(err)), 0);
}

/*
 * A job running jobs/<script> (or an absolute command) with args as JSON text.
 * Its handler entry comes from a ring twice as long as the most jobs at once.
 */
static void
tjob_init(struct unit_job *t, const char *script, const char *jid, const char *args)
{
	static struct {
		struct conf_handler	 conf;
		char			*argv[3];
		char			 path[1200];
	} entries[NJOBS_MAX * 2];
	static int nentries;
	struct wrk_job *j = &t->tj_job;
	json_error_t e;
	json_t *a;
	int k = nentries++ % (NJOBS_MAX * 2);
	struct conf_handler *conf = &entries[k].conf;
	char *p = entries[k].path;

	memset(t, 0, sizeof(*t));
	memset(conf, 0, sizeof(*conf));
	if (script[0] == '/')
		snprintf(p, 1200, "%s", script);
	else
		snprintf(p, 1200, "%s/%s", jobs_dir, script);
	entries[k].argv[0] = p;
	entries[k].argv[1] = NULL;
	conf->h_jobtype = (char *)(uintptr_t)"t";
	conf->h_kind = CONF_H_EXEC;
	conf->h_argv = entries[k].argv;
	conf->h_argc = 1;
	ck_assert_ptr_nonnull(a = json_loads(args != NULL ? args : "[]", 0, &e));
	j->jb_json = json_pack("{s:s, s:s, s:s, s:o}", "jid", jid, "jobtype", "t.exec",
	    "queue", "q1", "args", a);
	ck_assert_ptr_nonnull(j->jb_json);
	j->jb_jid = json_string_value(json_object_get(j->jb_json, "jid"));
	j->jb_jid_len = strlen(j->jb_jid);
	j->jb_jobtype = "t.exec";
	j->jb_args = json_object_get(j->jb_json, "args");
	ck_assert_ptr_nonnull(j->jb_raw = json_dumps(j->jb_json, JSON_COMPACT));
	j->jb_raw_len = strlen(j->jb_raw);
	j->jb_conf = conf;
	j->jb_handler = &wrk_exec_handler;
	j->jb_inflight = -1;
	ev_timer_init(&j->jb_timer, NULL, j);
	ev_timer_init(&j->jb_deadline, NULL, j);
}


static void
tjob_free(struct unit_job *t)
{
	json_decref(t->tj_job.jb_json);
	free((char *)(uintptr_t)t->tj_job.jb_raw);
}

static void
tjob_start(struct unit_job *t)
{
	t->tj_job.jb_state = WRK_JOB_RUNNING;
	ck_assert_int_eq(wrk_exec_handler.hd_start(&t->tj_job), 0);
}

/* Starts a job (tjob_init) and runs the loop until it is reported or ms passed; returns the ms. */
static uint64_t
run_job(struct unit_job *t, const char *script, const char *jid, const char *args, uint64_t ms)
{
	tjob_init(t, script, jid, args);
	tjob_start(t);
	return unit_jobs_wait(t, 1, ms);
}

/* No child of ours is left, not even a zombie. */
static void
assert_no_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), -1);
	ck_assert_int_eq(errno, ECHILD);
}

/* The process is gone or dead (a zombie of someone else counts as dead). */
static int
proc_gone(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int gone;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	gone = fgets(buf, sizeof(buf), f) == NULL ||
	    ((p = strrchr(buf, ')')) != NULL && (p[2] == 'Z' || p[2] == 'X'));
	fclose(f);
	return gone;
}

/* Waits (running the unit_loop) for the pid file hang.sh writes; reads "SHELL SLEEP". */
static void
read_pidfile(const char *path, int *shell, int *bg)
{
	uint64_t t0 = now_ms();
	FILE *f = NULL;

	while (now_ms() - t0 < 5000 && (f = fopen(path, "r")) == NULL)
		ck_assert_int_eq(ev_run_once(unit_loop, 20), 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d %d", shell, bg), 2);
	fclose(f);
}

/*
 * Starts script (hang.sh or hang-ignore-term.sh, which leave a shell and a
 * background sleep running) as job jid; returns their pids once it runs.
 */
static void
start_hanging(struct unit_job *t, const char *script, const char *jid, int *shell, int *bg)
{
	char pidfile[128];

	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	tjob_init(t, script, jid, NULL);
	tjob_start(t);
	read_pidfile(pidfile, shell, bg);
}

/* Runs the unit_loop until both processes are gone or ms passed. */
static void
wait_gone(int shell, int bg, uint64_t ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < ms && !(proc_gone(shell) && proc_gone(bg)))
		ck_assert_int_eq(ev_run_once(unit_loop, 20), 0);
}

/* ==== Results ==== */

/*
 * Commands whose result is all there is to check: ec_sync, known at hd_start
 * (no process); a failure's errtype and message.
 */
static const struct {
	const char	*ec_script, *ec_jid, *ec_args;
	int		 ec_sync;
	int		 ec_ok;
	const char	*ec_errtype, *ec_msg;
} exits[] = {
	/* exit 0 acks */
	{ "ok.sh", "j-ok", "[1]", 0, 1, NULL, NULL },
	/* another exit status fails, with the tail of stderr */
	{ "fail.sh", "j-fail", NULL, 0, 0, "ExecFailed",
	    "exit status 3: first line\ndisk full: /var/x" },
	/* killed by a signal */
	{ "segv.sh", "j-segv", NULL, 0, 0, "ExecFailed", "killed by signal SIGSEGV: about to crash" },
	/* command not found: known at once, no process, nothing to wait for */
	{ "/nonexistent/fkw-cmd", "j-enoent", NULL, 1, 0, "ExecFailed",
	    "cannot run /nonexistent/fkw-cmd: No such file or directory" },
};

START_TEST(exit_results)
{
	struct unit_job t;

	exec_init();
	tjob_init(&t, exits[_i].ec_script, exits[_i].ec_jid, exits[_i].ec_args);
	tjob_start(&t);
	/* Asynchronous (nothing yet), unless there is no process to wait for. */
	ck_assert_msg(t.tj_calls == exits[_i].ec_sync, "%s: %d reports at start", exits[_i].ec_script,
	    t.tj_calls);
	unit_jobs_wait(&t, 1, 5000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, exits[_i].ec_ok);
	if (!exits[_i].ec_ok) {
		ck_assert_str_eq(t.tj_errtype, exits[_i].ec_errtype);
		ck_assert_str_eq(t.tj_msg, exits[_i].ec_msg);
	}
	ck_assert_ptr_null(t.tj_job.jb_hdata);
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(command_not_executable)
{
	struct unit_job t;

	exec_init();
	tjob_init(&t, unit_write_file(tmp_dir, "not-exec", "#!/bin/sh\nexit 0\n"), "j-eacces", NULL);
	tjob_start(&t);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 0);
	ck_assert_str_eq(t.tj_msg + strlen(t.tj_msg) - strlen(": Permission denied"),
	    ": Permission denied");
	ck_assert_int_eq(strncmp(t.tj_msg, "cannot run /tmp/", 16), 0);
	assert_no_children();
	tjob_free(&t);
}
END_TEST

/* ==== stdin, environment, stderr ==== */

static char *
big_args(size_t n)
{
	char *s = malloc(n + 8);

	ck_assert_ptr_nonnull(s);
	s[0] = '[';
	s[1] = '"';
	memset(s + 2, 'a', n);
	strcpy(s + 2 + n, "\"]");
	return s;
}

START_TEST(huge_job_reaches_stdin_whole)
{
	struct unit_job t;
	char want[64], *args = big_args(1 << 20);

	exec_init();
	tjob_init(&t, "stdin-bytes.sh", "j-huge", args);
	free(args);
	ck_assert_uint_gt(t.tj_job.jb_raw_len, 1 << 20);
	tjob_start(&t);
	unit_jobs_wait(&t, 1, 10000);
	ck_assert_int_eq(t.tj_calls, 1);
	/* The JSON and one newline, all of it, through a 64 KiB pipe. */
	snprintf(want, sizeof(want), "exit status 4: stdin %zu bytes", t.tj_job.jb_raw_len + 1);
	ck_assert_str_eq(t.tj_msg, want);
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(command_ignoring_stdin)
{
	struct unit_job t;
	char *args = big_args(1 << 20);

	exec_init();
	run_job(&t, "ignore-stdin.sh", "j-ignore", args, 5000);
	free(args);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 1);	/* EPIPE on our side is no failure */
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(job_environment)
{
	struct unit_job t;

	/* A stale value in our own environment must not reach the command. */
	setenv("FKW_JID", "stale", 1);
	exec_init();
	run_job(&t, "env.sh", "j-env-42", NULL, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 5: jid=j-env-42 jobtype=t.exec queue=q1");
	tjob_free(&t);
}
END_TEST

START_TEST(stdin_holds_the_job)
{
	struct unit_job t;

	exec_init();
	run_job(&t, "check-stdin.sh", "j-stdin", "[\"x\", {\"k\": 1}]", 5000);
	ck_assert_msg(t.tj_ok, "%s", t.tj_msg);
	tjob_free(&t);
}
END_TEST

START_TEST(stderr_flood_keeps_tail)
{
	struct unit_job t;
	size_t n;

	exec_init();
	run_job(&t, "stderr-flood.sh", "j-flood", NULL, 10000);
	ck_assert_int_eq(t.tj_calls, 1);
	n = strlen(t.tj_msg);
	ck_assert_int_eq(strncmp(t.tj_msg, "exit status 2: xxxx", 19), 0);
	ck_assert_str_eq(t.tj_msg + n - 4, "xEND");
	ck_assert_uint_ge(n, 990);
	ck_assert_uint_le(n, 1000);
	tjob_free(&t);
}
END_TEST

START_TEST(stderr_binary_made_utf8)
{
	struct unit_job t;

	exec_init();
	run_job(&t, "stderr-binary.sh", "j-bin", NULL, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 1: ?ok?x");
	tjob_free(&t);
}
END_TEST

START_TEST(background_holder_does_not_delay)
{
	struct unit_job t;
	uint64_t ms;

	exec_init();
	ms = run_job(&t, "bg-exit.sh", "j-bg", NULL, 5000);
	ck_assert_int_eq(t.tj_ok, 1);
	/* Its sleep keeps stderr open for 3 s; the job ends after the short grace. */
	ck_assert_uint_lt(ms, 1500);
	tjob_free(&t);
}
END_TEST

/* ==== Timeout: cancel ==== */

START_TEST(cancel_kills_the_group)
{
	struct unit_job t;
	int shell, bg;

	start_hanging(&t, "hang.sh", "j-hang", &shell, &bg);
	ck_assert(!proc_gone(shell) && !proc_gone(bg));
	unit_loop_for(unit_loop, 100);
	ck_assert_int_eq(t.tj_calls, 0);
	unit_job_timeout(&t);
	ck_assert_str_eq(t.tj_errtype, "Timeout");
	ck_assert_ptr_null(t.tj_job.jb_hdata);
	/* SIGTERM to the group: the shell and its background sleep both end. */
	wait_gone(shell, bg, 1500);
	ck_assert_msg(proc_gone(shell), "shell %d still alive", shell);
	ck_assert_msg(proc_gone(bg), "background %d still alive", bg);
	unit_loop_for(unit_loop, 100);
	/* The orphan was reaped by the module, and the job was reported once. */
	assert_no_children();
	ck_assert_int_eq(t.tj_calls, 1);
	tjob_free(&t);
}
END_TEST

START_TEST(cancel_escalates_to_sigkill)
{
	struct unit_job t;
	int shell, bg;

	start_hanging(&t, "hang-ignore-term.sh", "j-stubborn", &shell, &bg);
	unit_job_timeout(&t);
	unit_loop_for(unit_loop, 1000);
	ck_assert_msg(!proc_gone(shell) && !proc_gone(bg), "SIGTERM should be ignored");
	wait_gone(shell, bg, 2500);
	ck_assert(proc_gone(shell) && proc_gone(bg));
	unit_loop_for(unit_loop, 50);
	assert_no_children();
	ck_assert_int_eq(t.tj_calls, 1);
	tjob_free(&t);
}
END_TEST

/* The slot is reused at once after a cancel: a new job runs while the orphan dies. */
START_TEST(slot_reused_after_cancel)
{
	struct unit_job t;
	int shell, bg;

	start_hanging(&t, "hang-ignore-term.sh", "j-first", &shell, &bg);
	unit_job_timeout(&t);
	tjob_free(&t);
	run_job(&t, "fail.sh", "j-second", NULL, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 3: first line\ndisk full: /var/x");
	unit_loop_for(unit_loop, 2600);
	ck_assert(proc_gone(shell) && proc_gone(bg));
	ck_assert_int_eq(t.tj_calls, 1);
	assert_no_children();
	tjob_free(&t);
}
END_TEST

/*
 * At child exit, commands still running get SIGTERM and, if they ignore it,
 * SIGKILL after the 2 s grace: the exit waits for that (atexit).
 */
static uint64_t
exit_with_running(const char *script, int *shell, int *bg)
{
	char pidfile[128];
	uint64_t t0;
	int st;
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/pids-%s", tmp_dir, script);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		static struct unit_job t;	/* still reachable at exit: running on purpose */
		char err[256];

		/* Its own epoll: the inherited one is shared with the parent. */
		ev_loop_free(unit_loop);
		if ((unit_loop = ev_loop_new()) == NULL)
			_exit(2);
		if (wrk_exec_init(unit_loop, err, sizeof(err)) == -1)
			_exit(2);
		tjob_init(&t, script, "j-left", NULL);
		tjob_start(&t);
		read_pidfile(pidfile, shell, bg);
		exit(0);
	}
	read_pidfile(pidfile, shell, bg);
	t0 = now_ms();
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return now_ms() - t0;
}

START_TEST(exit_terminates_leftovers)
{
	int shell, bg;
	uint64_t ms = exit_with_running("hang.sh", &shell, &bg);

	ck_assert_uint_lt(ms, 1000);
	usleep(100000);
	ck_assert(proc_gone(shell) && proc_gone(bg));
}
END_TEST

START_TEST(exit_kills_stubborn_leftovers)
{
	int shell, bg;
	uint64_t ms = exit_with_running("hang-ignore-term.sh", &shell, &bg);

	ck_assert_uint_ge(ms, 1500);
	ck_assert_uint_lt(ms, 3500);
	usleep(100000);
	ck_assert(proc_gone(shell) && proc_gone(bg));
}
END_TEST

/*
 * Cancelled before its spawn came back from the spawner thread (the loop has
 * not run since the start): the process becomes an orphan once it runs, and
 * its group is ended like any other cancelled job's.
 */
START_TEST(cancel_while_spawning)
{
	struct unit_job t;
	char pidfile[128];

	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	tjob_init(&t, "hang-ignore-term.sh", "j-early", NULL);
	tjob_start(&t);
	ck_assert_ptr_nonnull(t.tj_job.jb_hdata);
	unit_job_timeout(&t);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_str_eq(t.tj_errtype, "Timeout");
	/* SIGTERM (ignored, if it came late enough to be), SIGKILL 2 s later, reaped. */
	unit_loop_for(unit_loop, 2600);
	assert_no_children();
	ck_assert_int_eq(t.tj_calls, 1);
	tjob_free(&t);
}
END_TEST

/* ==== Process groups in the shared in-flight table ==== */

/* The one non-zero if_pgid of the table, or 0 (-1 if there are more). */
static int
published(const struct stats_inflight *tab, int n)
{
	int g = 0;

	for (int i = 0; i < n; i++)
		if (tab[i].if_pgid != 0)
			g = g == 0 ? tab[i].if_pgid : -1;
	return g;
}

/*
 * A running command's group is in the table for the master to kill; it
 * stays there while the group outlives a cancel, and leaves before the
 * leader is reaped (the group id may be anyone's after that).
 */
START_TEST(pgid_published_until_reaped)
{
	static struct stats_inflight tab[8];
	struct unit_job t;
	int shell, bg;

	memset(tab, 0, sizeof(tab));
	tab[3].if_pgid = 12345;		/* left by a previous child: forgotten */
	wrk_exec_pgid_table(tab, 8);
	ck_assert_int_eq(published(tab, 8), 0);
	start_hanging(&t, "hang-ignore-term.sh", "j-pgid", &shell, &bg);
	ck_assert_int_eq(published(tab, 8), shell);
	ck_assert_int_eq(getpgid(bg), shell);
	unit_job_timeout(&t);
	unit_loop_for(unit_loop, 500);
	ck_assert_msg(!proc_gone(shell), "SIGTERM should be ignored");
	ck_assert_int_eq(published(tab, 8), shell);
	wait_gone(shell, bg, 3000);
	ck_assert(proc_gone(shell) && proc_gone(bg));
	unit_loop_for(unit_loop, 50);
	assert_no_children();
	ck_assert_int_eq(published(tab, 8), 0);
	/* The entry is free again: the next command gets one, and gives it back. */
	tjob_free(&t);
	run_job(&t, "fail.sh", "j-pgid-2", NULL, 5000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(published(tab, 8), 0);
	wrk_exec_pgid_table(NULL, 0);
	tjob_free(&t);
}
END_TEST

/* ==== Many at once ==== */

static void
many(int n)
{
	static struct unit_job t[NJOBS_MAX];
	char jid[32];
	uint64_t t0 = now_ms();

	for (int i = 0; i < n; i++) {
		snprintf(jid, sizeof(jid), "j-%03d", i);
		tjob_init(&t[i], i % 2 ? "fail.sh" : "ok.sh", jid, "[\"many\"]");
		tjob_start(&t[i]);
	}
	unit_jobs_wait(t, n, 20000);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(t[i].tj_calls, 1);
		ck_assert_int_eq(t[i].tj_ok, i % 2 == 0);
		if (i % 2)
			ck_assert_str_eq(t[i].tj_msg, "exit status 3: first line\ndisk full: /var/x");
		tjob_free(&t[i]);
	}
	fprintf(stderr, "# %d concurrent exec jobs in %llu ms\n", n, (unsigned long long)(now_ms() - t0));
	assert_no_children();
}

START_TEST(fifty_concurrent)
{
	exec_init();
	many(50);
	/* The records are reused: a second round allocates nothing new and still works. */
	many(50);
}
END_TEST

/* ==== SIGCHLD fallback (kernels without pidfd_open) ==== */

START_TEST(sigchld_fallback)
{
	struct unit_job t;
	char pidfile[128];
	int shell, bg;

	setenv("FKW_EXEC_NO_PIDFD", "1", 1);
	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	many(40);
	tjob_init(&t, "hang.sh", "j-hang", NULL);
	tjob_start(&t);
	read_pidfile(pidfile, &shell, &bg);
	unit_job_timeout(&t);
	unit_loop_for(unit_loop, 500);
	ck_assert(proc_gone(shell) && proc_gone(bg));
	assert_no_children();
	tjob_free(&t);
}
END_TEST

/* ==== CPU cost per job ==== */

static double
ru_us(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e6 +
	    (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec);
}

static void
cost(int n, int batch)
{
	static struct unit_job t[NJOBS_MAX];
	struct rusage s0, s1, k0, k1;
	uint64_t t0 = now_ms();
	char jid[32];
	double self, kids;

	getrusage(RUSAGE_SELF, &s0);
	getrusage(RUSAGE_CHILDREN, &k0);
	for (int r = 0; r < n / batch; r++) {
		for (int i = 0; i < batch; i++) {
			snprintf(jid, sizeof(jid), "j-%d-%d", r, i);
			tjob_init(&t[i], "/bin/true", jid, "[1,2,3]");
			tjob_start(&t[i]);
		}
		unit_jobs_wait(t, batch, 20000);
		for (int i = 0; i < batch; i++) {
			ck_assert_int_eq(t[i].tj_ok, 1);
			tjob_free(&t[i]);
		}
	}
	getrusage(RUSAGE_SELF, &s1);
	getrusage(RUSAGE_CHILDREN, &k1);
	self = ru_us(&s1) - ru_us(&s0);
	kids = ru_us(&k1) - ru_us(&k0);
	fprintf(stderr, "# exec /bin/true, %d jobs %d at a time: %llu ms wall; CPU per job: "
	    "worker %.0f us, command %.0f us\n", n, batch, (unsigned long long)(now_ms() - t0),
	    self / n, kids / n);
}

START_TEST(cost_per_job)
{
	exec_init();
	cost(100, 1);
	cost(200, 50);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		command_not_executable, huge_job_reaches_stdin_whole, command_ignoring_stdin,
		job_environment, stdin_holds_the_job, stderr_flood_keeps_tail,
		stderr_binary_made_utf8, background_holder_does_not_delay, cancel_kills_the_group,
		cancel_escalates_to_sigkill, slot_reused_after_cancel, exit_terminates_leftovers,
		exit_kills_stubborn_leftovers, cancel_while_spawning, pgid_published_until_reaped,
		fifty_concurrent, sigchld_fallback, cost_per_job, NULL,
	};
	Suite *s = suite_create("exec");
	TCase *tc = unit_tcase(s, "exec", setup, teardown, 30, tests);

	tcase_add_loop_test(tc, exit_results, 0, (int)FKW_NELEM(exits));
	return unit_run(s);
}
