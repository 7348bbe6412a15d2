/* SPDX-License-Identifier: MIT */
/* wrk: the child process that runs jobs. Internal header of worker/. */
#ifndef FKW_WRK_H
#define FKW_WRK_H

#include <stdint.h>

#include "conf.h"
#include "stats.h"

/* Child exit codes the master acts on. */
#define WRK_EX_OK	0	/* stopped or drained on request */
#define WRK_EX_RECYCLE	75	/* max_jobs_per_child or memory_limit reached: respawn at once */
#define WRK_EX_CONFIG	78	/* bad credentials or unusable config: do not respawn */

/*
 * Messages on the child's channel (a SOCK_SEQPACKET socketpair), one byte
 * each but SLOTS, whose type byte is followed by the new cap (uint32, host
 * order) in the same packet. Master to child: QUIET, TERMINATE, STOP,
 * SLOTS. Child to master: READY, RECYCLE (asks to be replaced; the master
 * answers TERMINATE when the replacement is ready).
 */
enum wrk_msg {
	WRK_MSG_QUIET = 1,	/* stop fetching, finish jobs, keep running */
	WRK_MSG_TERMINATE,	/* quiet; after shutdown_timeout FAIL leftovers; exit */
	WRK_MSG_STOP,		/* fast stop: FAIL running jobs now, exit */
	WRK_MSG_READY,		/* every slot has completed its handshake once */
	WRK_MSG_RECYCLE,	/* limits reached; please replace me */
	WRK_MSG_SLOTS,		/* active slots: a new cap within wc_slots_max */
};
#define WRK_MSG_SLOTS_LEN	5	/* type byte + uint32 */

struct wrk_ctx {
	int			 wc_index;	/* child index, 0..cpus-1 */
	uint32_t		 wc_generation;
	int			 wc_cpu;	/* cpu to pin to, or -1 */
	int			 wc_chan;	/* channel fd, or -1 (standalone) */
	const char		*wc_wid;	/* the host's wid, shared by every connection */
	const char		*wc_hostname;
	long			 wc_pid;	/* pid sent in HELLO: the master's */
	struct stats_pos	 wc_pos;	/* this child's shared-memory position; may be zeroed */
	int			 wc_slots;	/* active slots at start (the cap) */
	int			 wc_slots_max;	/* slot storage: the most the cap may become */
};

/*
 * Runs a child until it is told to stop or its connection loses the master
 * (channel EOF). Never returns. Call in the freshly forked child, after the
 * master closed what the child must not hold.
 */
void	wrk_main(const struct fkw_conf *, const struct wrk_ctx *)
	    __attribute__((noreturn));

#endif
