/* SPDX-License-Identifier: MIT */
/*
 * test_exec: the exec handler against real commands (tests/integration/jobs)
 * on a real loop. This program stands in for wrk_job.c: its wrk_job_done
 * records each result, and a timeout is played as wrk_job_abort does it
 * (hd_cancel, then FAIL "Timeout").
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"
#include "wrk_job.h"

#define NJOBS_MAX	64

struct tjob {
	struct wrk_job		 tj_job;	/* first: wrk_job_done casts back */
	struct conf_handler	 tj_conf;
	char			*tj_argv[3];
	int			 tj_calls;
	int			 tj_ok;
	char			 tj_errtype[128];
	char			 tj_msg[1200];
};

static struct ev_loop *loop;
static char jobs_dir[1024];
static char tmp_dir[64];

struct ev_loop *
wrk_loop(void)
{
	return loop;
}

int
wrk_job_done(struct wrk_job *j, int ok, const char *errtype, const char *message)
{
	struct tjob *t = (struct tjob *)j;
	json_t *s;

	t->tj_calls++;
	if (j->jb_state != WRK_JOB_RUNNING)
		return -1;
	j->jb_state = WRK_JOB_DONE;
	t->tj_ok = ok;
	snprintf(t->tj_errtype, sizeof(t->tj_errtype), "%s", errtype != NULL ? errtype : "");
	snprintf(t->tj_msg, sizeof(t->tj_msg), "%s", message != NULL ? message : "");
	/* The report carries the message in JSON: it must fit and be UTF-8. */
	if (!ok) {
		ck_assert_uint_le(strlen(t->tj_msg), 1000);
		ck_assert_ptr_nonnull(s = json_string(t->tj_msg));
		json_decref(s);
	}
	return 0;
}

static void
setup(void)
{
	const char *root = getenv("FKW_ROOT");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/integration/jobs", root != NULL ? root : ".");
	ck_assert_ptr_nonnull(realpath(path, jobs_dir));
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/fkw-exec.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
	ck_assert_ptr_nonnull(loop = ev_loop_new());
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	ev_loop_free(loop);
	loop = NULL;
}

static void
exec_init(void)
{
	char err[256];

	ck_assert_int_eq(wrk_exec_init(loop, err, sizeof(err)), 0);
}

/* A job running jobs/<script> (or an absolute command) with args as JSON text. */
static void
tjob_init(struct tjob *t, const char *script, const char *jid, const char *args)
{
	static char paths[NJOBS_MAX * 2][1200];
	static int npaths;
	struct wrk_job *j = &t->tj_job;
	json_error_t e;
	json_t *a;
	char *p = paths[npaths++ % (NJOBS_MAX * 2)];

	memset(t, 0, sizeof(*t));
	if (script[0] == '/')
		snprintf(p, 1200, "%s", script);
	else
		snprintf(p, 1200, "%s/%s", jobs_dir, script);
	t->tj_argv[0] = p;
	t->tj_conf.h_jobtype = (char *)(uintptr_t)"t";
	t->tj_conf.h_kind = CONF_H_EXEC;
	t->tj_conf.h_argv = t->tj_argv;
	t->tj_conf.h_argc = 1;
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
	j->jb_conf = &t->tj_conf;
	j->jb_handler = &wrk_exec_handler;
	j->jb_inflight = -1;
	ev_timer_init(&j->jb_timer, NULL, j);
	ev_timer_init(&j->jb_deadline, NULL, j);
}

static void
tjob_free(struct tjob *t)
{
	json_decref(t->tj_job.jb_json);
	free((char *)(uintptr_t)t->tj_job.jb_raw);
}

static void
tjob_start(struct tjob *t)
{
	t->tj_job.jb_state = WRK_JOB_RUNNING;
	ck_assert_int_eq(wrk_exec_handler.hd_start(&t->tj_job), 0);
}

/* What wrk_job_abort does at a deadline. */
static void
tjob_timeout(struct tjob *t)
{
	wrk_exec_handler.hd_cancel(&t->tj_job);
	ck_assert_int_eq(wrk_job_done(&t->tj_job, 0, "Timeout", "job exceeded its timeout"), 0);
}

/* Runs the loop until n jobs have completed or ms passed; returns the elapsed ms. */
static uint64_t
run_until_done(struct tjob *t, int n, uint64_t ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		int done = 0;
		for (int i = 0; i < n; i++)
			done += t[i].tj_calls > 0;
		if (done == n || now_ms() - t0 > ms)
			break;
		ck_assert_int_eq(ev_run_once(loop, 50), 0);
	}
	return now_ms() - t0;
}

static void
run_for(uint64_t ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < ms)
		ck_assert_int_eq(ev_run_once(loop, 20), 0);
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

/* Waits (running the loop) for the pid file hang.sh writes; reads "SHELL SLEEP". */
static void
read_pidfile(const char *path, int *shell, int *bg)
{
	uint64_t t0 = now_ms();
	FILE *f = NULL;

	while (now_ms() - t0 < 5000 && (f = fopen(path, "r")) == NULL)
		ck_assert_int_eq(ev_run_once(loop, 20), 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d %d", shell, bg), 2);
	fclose(f);
}

/* ==== Results ==== */

START_TEST(exit_zero_acks)
{
	struct tjob t;

	exec_init();
	tjob_init(&t, "ok.sh", "j-ok", "[1]");
	tjob_start(&t);
	ck_assert_int_eq(t.tj_calls, 0);	/* asynchronous: nothing yet */
	run_until_done(&t, 1, 5000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 1);
	ck_assert_ptr_null(t.tj_job.jb_hdata);
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(nonzero_exit_fails_with_stderr_tail)
{
	struct tjob t;

	exec_init();
	tjob_init(&t, "fail.sh", "j-fail", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 0);
	ck_assert_str_eq(t.tj_errtype, "ExecFailed");
	ck_assert_str_eq(t.tj_msg, "exit status 3: first line\ndisk full: /var/x");
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(killed_by_signal)
{
	struct tjob t;

	exec_init();
	tjob_init(&t, "segv.sh", "j-segv", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_int_eq(t.tj_ok, 0);
	ck_assert_str_eq(t.tj_errtype, "ExecFailed");
	ck_assert_str_eq(t.tj_msg, "killed by signal SIGSEGV: about to crash");
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(command_not_found)
{
	struct tjob t;

	exec_init();
	tjob_init(&t, "/nonexistent/fkw-cmd", "j-enoent", NULL);
	tjob_start(&t);
	/* Known at once: no process, nothing to wait for. */
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 0);
	ck_assert_str_eq(t.tj_errtype, "ExecFailed");
	ck_assert_str_eq(t.tj_msg, "cannot run /nonexistent/fkw-cmd: No such file or directory");
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(command_not_executable)
{
	struct tjob t;
	char path[128];
	int fd;

	exec_init();
	snprintf(path, sizeof(path), "%s/not-exec", tmp_dir);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0644), 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	tjob_init(&t, path, "j-eacces", NULL);
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
	struct tjob t;
	char want[64], *args = big_args(1 << 20);

	exec_init();
	tjob_init(&t, "stdin-bytes.sh", "j-huge", args);
	free(args);
	ck_assert_uint_gt(t.tj_job.jb_raw_len, 1 << 20);
	tjob_start(&t);
	run_until_done(&t, 1, 10000);
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
	struct tjob t;
	char *args = big_args(1 << 20);

	exec_init();
	tjob_init(&t, "ignore-stdin.sh", "j-ignore", args);
	free(args);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 1);	/* EPIPE on our side is no failure */
	assert_no_children();
	tjob_free(&t);
}
END_TEST

START_TEST(job_environment)
{
	struct tjob t;

	/* A stale value in our own environment must not reach the command. */
	setenv("FKW_JID", "stale", 1);
	exec_init();
	tjob_init(&t, "env.sh", "j-env-42", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 5: jid=j-env-42 jobtype=t.exec queue=q1");
	tjob_free(&t);
}
END_TEST

START_TEST(stdin_holds_the_job)
{
	struct tjob t;

	exec_init();
	tjob_init(&t, "check-stdin.sh", "j-stdin", "[\"x\", {\"k\": 1}]");
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_msg(t.tj_ok, "%s", t.tj_msg);
	tjob_free(&t);
}
END_TEST

START_TEST(stderr_flood_keeps_tail)
{
	struct tjob t;
	size_t n;

	exec_init();
	tjob_init(&t, "stderr-flood.sh", "j-flood", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 10000);
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
	struct tjob t;

	exec_init();
	tjob_init(&t, "stderr-binary.sh", "j-bin", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 1: ?ok?x");
	tjob_free(&t);
}
END_TEST

START_TEST(background_holder_does_not_delay)
{
	struct tjob t;
	uint64_t ms;

	exec_init();
	tjob_init(&t, "bg-exit.sh", "j-bg", NULL);
	tjob_start(&t);
	ms = run_until_done(&t, 1, 5000);
	ck_assert_int_eq(t.tj_ok, 1);
	/* Its sleep keeps stderr open for 3 s; the job ends after the short grace. */
	ck_assert_uint_lt(ms, 1500);
	tjob_free(&t);
}
END_TEST

/* ==== Timeout: cancel ==== */

START_TEST(cancel_kills_the_group)
{
	struct tjob t;
	char pidfile[128];
	int shell, bg;
	uint64_t t0;

	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	tjob_init(&t, "hang.sh", "j-hang", NULL);
	tjob_start(&t);
	read_pidfile(pidfile, &shell, &bg);
	ck_assert(!proc_gone(shell) && !proc_gone(bg));
	run_for(100);
	ck_assert_int_eq(t.tj_calls, 0);
	tjob_timeout(&t);
	ck_assert_str_eq(t.tj_errtype, "Timeout");
	ck_assert_ptr_null(t.tj_job.jb_hdata);
	/* SIGTERM to the group: the shell and its background sleep both end. */
	t0 = now_ms();
	while (now_ms() - t0 < 1500 && !(proc_gone(shell) && proc_gone(bg)))
		ck_assert_int_eq(ev_run_once(loop, 20), 0);
	ck_assert_msg(proc_gone(shell), "shell %d still alive", shell);
	ck_assert_msg(proc_gone(bg), "background %d still alive", bg);
	run_for(100);
	/* The orphan was reaped by the module, and the job was reported once. */
	assert_no_children();
	ck_assert_int_eq(t.tj_calls, 1);
	tjob_free(&t);
}
END_TEST

START_TEST(cancel_escalates_to_sigkill)
{
	struct tjob t;
	char pidfile[128];
	int shell, bg;
	uint64_t t0;

	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	tjob_init(&t, "hang-ignore-term.sh", "j-stubborn", NULL);
	tjob_start(&t);
	read_pidfile(pidfile, &shell, &bg);
	tjob_timeout(&t);
	run_for(1000);
	ck_assert_msg(!proc_gone(shell) && !proc_gone(bg), "SIGTERM should be ignored");
	t0 = now_ms();
	while (now_ms() - t0 < 2500 && !(proc_gone(shell) && proc_gone(bg)))
		ck_assert_int_eq(ev_run_once(loop, 20), 0);
	ck_assert(proc_gone(shell) && proc_gone(bg));
	run_for(50);
	assert_no_children();
	ck_assert_int_eq(t.tj_calls, 1);
	tjob_free(&t);
}
END_TEST

/* The slot is reused at once after a cancel: a new job runs while the orphan dies. */
START_TEST(slot_reused_after_cancel)
{
	struct tjob t;
	char pidfile[128];
	int shell, bg;

	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmp_dir);
	setenv("FKW_TEST_PIDFILE", pidfile, 1);
	exec_init();
	tjob_init(&t, "hang-ignore-term.sh", "j-first", NULL);
	tjob_start(&t);
	read_pidfile(pidfile, &shell, &bg);
	tjob_timeout(&t);
	tjob_free(&t);
	tjob_init(&t, "fail.sh", "j-second", NULL);
	tjob_start(&t);
	run_until_done(&t, 1, 5000);
	ck_assert_str_eq(t.tj_msg, "exit status 3: first line\ndisk full: /var/x");
	run_for(2600);
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
		static struct tjob t;	/* still reachable at exit: running on purpose */
		char err[256];

		/* Its own epoll: the inherited one is shared with the parent. */
		ev_loop_free(loop);
		if ((loop = ev_loop_new()) == NULL)
			_exit(2);
		if (wrk_exec_init(loop, err, sizeof(err)) == -1)
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

/* ==== Many at once ==== */

static void
many(int n)
{
	static struct tjob t[NJOBS_MAX];
	char jid[32];
	uint64_t t0 = now_ms();

	for (int i = 0; i < n; i++) {
		snprintf(jid, sizeof(jid), "j-%03d", i);
		tjob_init(&t[i], i % 2 ? "fail.sh" : "ok.sh", jid, "[\"many\"]");
		tjob_start(&t[i]);
	}
	run_until_done(t, n, 20000);
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
	struct tjob t;
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
	tjob_timeout(&t);
	run_for(500);
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
	static struct tjob t[NJOBS_MAX];
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
		run_until_done(t, batch, 20000);
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

static Suite *
exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exit_zero_acks);
	tcase_add_test(tc, nonzero_exit_fails_with_stderr_tail);
	tcase_add_test(tc, killed_by_signal);
	tcase_add_test(tc, command_not_found);
	tcase_add_test(tc, command_not_executable);
	tcase_add_test(tc, huge_job_reaches_stdin_whole);
	tcase_add_test(tc, command_ignoring_stdin);
	tcase_add_test(tc, job_environment);
	tcase_add_test(tc, stdin_holds_the_job);
	tcase_add_test(tc, stderr_flood_keeps_tail);
	tcase_add_test(tc, stderr_binary_made_utf8);
	tcase_add_test(tc, background_holder_does_not_delay);
	tcase_add_test(tc, cancel_kills_the_group);
	tcase_add_test(tc, cancel_escalates_to_sigkill);
	tcase_add_test(tc, slot_reused_after_cancel);
	tcase_add_test(tc, exit_terminates_leftovers);
	tcase_add_test(tc, exit_kills_stubborn_leftovers);
	tcase_add_test(tc, fifty_concurrent);
	tcase_add_test(tc, sigchld_fallback);
	tcase_add_test(tc, cost_per_job);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(exec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
