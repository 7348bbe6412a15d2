/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_int: the pieces of the exec handler that live apart from
 * wrk_exec.c, which runs the job's process on the loop: starting the
 * process (wrk_exec_spawn.c), the threads that start it off the loop
 * (wrk_exec_spawner.c), publishing its process group for the master
 * (wrk_exec_pgid.c) and turning its stderr into the FAIL message
 * (wrk_exec_tail.c). None sees the process record; only the exec files
 * include this.
 */
#ifndef FKW_WRK_EXEC_INT_H
#define FKW_WRK_EXEC_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "ev.h"
#include "stats.h"
#include "util.h"
#include "wrk_job.h"

#define EXEC_MSG_MAX		1000	/* the FAIL message limit (FKP_MESSAGE_MAX) */

/* A ring of the last bytes a command wrote to stderr. Zeroed: empty. */
struct wrk_exec_tail {
	char			 et_buf[EXEC_MSG_MAX];
	size_t			 et_len;
	size_t			 et_head;	/* where the next byte goes */
};

/*
 * One spawn: prepared on the loop (wrk_exec_spawn_prepare), run by a spawner
 * thread (wrk_exec_spawn_run), handed back to the loop. Between the two the
 * loop leaves it alone. Lives in the process record, so its buffers are
 * reused from job to job.
 */
struct wrk_exec_req {
	char *const		 *rq_argv;
	char			**rq_envp;	/* environ + FKW_* + NULL */
	size_t			  rq_envcap;
	struct buf		  rq_env;	/* the "FKW_JID=..." strings */
	int			  rq_in;	/* the command's stdin (read end) */
	int			  rq_errw;	/* the command's stderr (write end) */
	int32_t			 *rq_pgid;	/* where to publish its group, or NULL */
	pid_t			  rq_pid;	/* out: -1 until it runs */
	int			  rq_errno;	/* out: posix_spawn's error, or 0 */
	struct wrk_exec_req	 *rq_next;	/* the spawner's queues */
};

/* wrk_exec_spawn.c */
/*
 * On the loop: the pipes (fds[0] our end of its stdin, fds[1] our end of its
 * stderr, both close-on-exec and above 2) and the environment (FKW_JID,
 * FKW_JOBTYPE, FKW_QUEUE) of the job's command. A command given by path that
 * is missing or not executable fails here, at once: -1 with msg set and
 * nothing left open.
 */
int	wrk_exec_spawn_prepare(struct wrk_exec_req *, const struct wrk_job *, int fds[2],
	    char *msg, size_t msglen);
/*
 * Anywhere (a spawner thread): starts the command in its own process group,
 * closes the command's ends of the pipes, publishes the group in *rq_pgid.
 * Sets rq_pid, or rq_errno on failure.
 */
void	wrk_exec_spawn_run(struct wrk_exec_req *);

/* wrk_exec_spawner.c */
/*
 * Watches the spawner threads' results on the loop, handing each finished
 * request to done (again in a forked process: its threads are its own).
 * -1 with err set (no eventfd): wrk_exec_spawner_submit then refuses.
 */
int	wrk_exec_spawner_start(struct ev_loop *, void (*done)(struct wrk_exec_req *),
	    char *err, size_t errlen);
/*
 * Queues a prepared request, starting the threads at the first; -1 (nothing
 * queued) when no thread runs: the caller spawns in place.
 */
int	wrk_exec_spawner_submit(struct wrk_exec_req *);
/*
 * At exit: stops and joins the threads. A request they had not started keeps
 * rq_pid -1; finished ones are not handed to done (the loop is gone).
 */
void	wrk_exec_spawner_stop(void);

/* wrk_exec_pgid.c */
/* A free if_pgid field and its entry, or NULL and -1 when there is none. */
int32_t	*wrk_exec_pgid_get(int *entry);
/* Zeroes and frees the entry (-1: nothing); before the group's leader is reaped. */
void	wrk_exec_pgid_put(int entry);

/* wrk_exec_tail.c */
void	wrk_exec_tail_add(struct wrk_exec_tail *, const char *, size_t);
/*
 * The FAIL message of a command that ended with waitid's code and status:
 * "exit status 3: <tail>" or "killed by signal SIGSEGV: <tail>", valid
 * UTF-8, at most outlen - 1 bytes.
 */
void	wrk_exec_tail_message(const struct wrk_exec_tail *, int code, int status,
	    char *out, size_t outlen);

#endif
