/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_spawn: starts an exec job's command. posix_spawnp with its stdin
 * and stderr on pipes, stdout on /dev/null, a process group of its own (so a
 * timeout can end whatever it started), the signal state a fresh program
 * expects, and the job named in its environment. Apart from wrk_exec.c,
 * which watches the process once it runs, because getting a process started
 * right is a job of its own and touches neither the loop nor the job's
 * result.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "wrk_exec_int.h"

extern char **environ;

/* The environment block, rebuilt per spawn: posix_spawnp is done with it when it returns. */
static struct {
	char		**sp_envp;	/* environ + FKW_* + NULL */
	size_t		  sp_envcap;
	struct buf	  sp_env;	/* the "FKW_JID=..." strings */
} sp;

/* Keeps our pipe ends off 0-2, where the spawn's dup2 onto themselves would keep CLOEXEC. */
static int
fd_high(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
pipe_high(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	fds[0] = fd_high(fds[0]);
	fds[1] = fd_high(fds[1]);
	if (fds[0] != -1 && fds[1] != -1)
		return 0;
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	return -1;
}

static int
env_skip(const char *e)
{
	return strncmp(e, "FKW_JID=", 8) == 0 || strncmp(e, "FKW_JOBTYPE=", 12) == 0 ||
	    strncmp(e, "FKW_QUEUE=", 10) == 0;
}

/* The environment for the command: ours with FKW_JID, FKW_JOBTYPE, FKW_QUEUE. */
static char **
env_build(const struct wrk_job *j)
{
	json_t *q = j->jb_json != NULL ? json_object_get(j->jb_json, "queue") : NULL;
	const char *queue = json_is_string(q) ? json_string_value(q) : "";
	size_t n = 0, k = 0, off[3];
	struct buf *b = &sp.sp_env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if (n + 4 > sp.sp_envcap) {
		char **e = realloc(sp.sp_envp, (n + 4) * sizeof(*e));
		if (e == NULL)
			return NULL;
		sp.sp_envp = e;
		sp.sp_envcap = n + 4;
	}
	buf_reset(b);
	off[0] = b->b_len;
	if (buf_printf(b, "FKW_JID=%s", j->jb_jid != NULL ? j->jb_jid : "") == -1 ||
	    buf_append(b, "", 1) == -1)
		return NULL;
	off[1] = b->b_len;
	if (buf_printf(b, "FKW_JOBTYPE=%s", j->jb_jobtype != NULL ? j->jb_jobtype : "") == -1 ||
	    buf_append(b, "", 1) == -1)
		return NULL;
	off[2] = b->b_len;
	if (buf_printf(b, "FKW_QUEUE=%s", queue) == -1 || buf_append(b, "", 1) == -1)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!env_skip(environ[i]))
			sp.sp_envp[k++] = environ[i];
	for (size_t i = 0; i < 3; i++)
		sp.sp_envp[k++] = b->b_data + off[i];
	sp.sp_envp[k] = NULL;
	return sp.sp_envp;
}

/*
 * The command's stdio: stdin and stderr from our pipes, stdout to
 * /dev/null. Its own process group (so a timeout can end what it started),
 * an empty signal mask and default dispositions (the worker blocks and
 * ignores signals that a command must see).
 */
static int
spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int in, int er)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_init(fa) != 0)
		return ENOMEM;
	if (posix_spawnattr_init(at) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return ENOMEM;
	}
	if (posix_spawn_file_actions_adddup2(fa, in, 0) != 0 ||
	    posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(fa, er, 2) != 0 ||
	    posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(at, 0) != 0 ||
	    posix_spawnattr_setsigmask(at, &none) != 0 ||
	    posix_spawnattr_setsigdefault(at, &all) != 0) {
		posix_spawn_file_actions_destroy(fa);
		posix_spawnattr_destroy(at);
		return ENOMEM;
	}
	return 0;
}

static int
spawn_cmd(pid_t *pid, const struct wrk_job *j, int in, int er)
{
	char *const *argv = j->jb_conf->h_argv;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char **envp;
	int rc;

	if ((envp = env_build(j)) == NULL)
		return ENOMEM;
	if ((rc = spawn_setup(&fa, &at, in, er)) != 0)
		return rc;
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

pid_t
wrk_exec_spawn(const struct wrk_job *j, int fds[2], char *msg, size_t msglen)
{
	const char *cmd = j->jb_conf->h_argv[0];
	int in[2], er[2], rc;
	pid_t pid;

	if (pipe_high(in) == -1) {
		snprintf(msg, msglen, "cannot start %s: pipe: %s", cmd, strerror(errno));
		return -1;
	}
	if (pipe_high(er) == -1) {
		snprintf(msg, msglen, "cannot start %s: pipe: %s", cmd, strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	rc = spawn_cmd(&pid, j, in[0], er[1]);
	close(in[0]);
	close(er[1]);
	if (rc != 0) {
		snprintf(msg, msglen, "cannot run %s: %s", cmd, strerror(rc));
		close(in[1]);
		close(er[0]);
		return -1;
	}
	fds[0] = in[1];
	fds[1] = er[0];
	return pid;
}
