/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_int: the pieces of the exec handler that live apart from
 * wrk_exec.c, which runs the job's process on the loop: starting the
 * process (wrk_exec_spawn.c) and turning its stderr into the FAIL message
 * (wrk_exec_tail.c). Neither sees the process record or the loop; only
 * the exec files include this.
 */
#ifndef FKW_WRK_EXEC_INT_H
#define FKW_WRK_EXEC_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "wrk_job.h"

#define EXEC_MSG_MAX		1000	/* the FAIL message limit (FKP_MESSAGE_MAX) */

/* A ring of the last bytes a command wrote to stderr. Zeroed: empty. */
struct wrk_exec_tail {
	char			 et_buf[EXEC_MSG_MAX];
	size_t			 et_len;
	size_t			 et_head;	/* where the next byte goes */
};

/* wrk_exec_spawn.c */
/*
 * Starts the job's command (its own process group, the job in FKW_JID,
 * FKW_JOBTYPE, FKW_QUEUE): its pid, with fds[0] the write end of its stdin
 * and fds[1] the read end of its stderr, both close-on-exec and above 2.
 * -1 with msg set and nothing left open on failure.
 */
pid_t	wrk_exec_spawn(const struct wrk_job *, int fds[2], char *msg, size_t msglen);

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
