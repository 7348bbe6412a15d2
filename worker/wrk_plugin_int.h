/* SPDX-License-Identifier: MIT */
/*
 * wrk_plugin_int: what the plugin host (wrk_plugin.c) and the plugin API
 * (wrk_plugin_api.c) share, and nothing else in worker/ may see. The
 * layouts behind fkworker.h's opaque handles live here because both sides
 * touch them: the host loads plugins and runs their handlers, the API is
 * what those plugins call back. The rest of worker/ reaches plugins through
 * wrk_job.h only.
 */
#ifndef FKW_WRK_PLUGIN_INT_H
#define FKW_WRK_PLUGIN_INT_H

#include <stddef.h>

#include "fkworker.h"
#include "wrk_job.h"

#define PLUG_ERRTYPE_MAX	100	/* FKP_ERRTYPE_MAX */
#define PLUG_MSG_MAX		1000	/* FKP_MESSAGE_MAX */
#define UTF8_SLACK		4

struct plug_reg {
	char			*pr_jobtype;
	fkw_handler_fn		*pr_fn;
	fkw_cancel_fn		*pr_cancel;
	void			*pr_udata;
	struct fkw_plugin	*pr_plugin;
	int			 pr_warned;	/* cancelled without a cancel callback: logged */
};

struct fkw_plugin {
	char			*pl_path;
	const char		*pl_name;	/* basename, for log lines */
	void			*pl_dl;
	void			(*pl_fini)(void);
	struct plug_reg		*pl_regs;	/* sorted by jobtype once init returned */
	size_t			 pl_nregs;
	struct plug_reg		*pl_any;	/* the "*" registration, or NULL */
	int			 pl_initing;	/* fkw_register allowed */
	char			 pl_err[256 + UTF8_SLACK];
	struct fkw_plugin	*pl_next;
};

/*
 * A plugin's view of a running job: pooled, so a job costs no allocation
 * once the pool has grown to the child's concurrency.
 */
enum pj_state {
	PJ_FREE,
	PJ_RUNNING,	/* in the handler, or FKW_ASYNC and pending */
	PJ_DONE,	/* completed while the handler still runs; freed on its return */
	PJ_CANCELLING,	/* inside the cancel callback */
	PJ_LOST,	/* cancelled without a cancel callback: kept, never reused */
};

struct fkw_job {
	enum pj_state		 fj_state;
	int			 fj_in_handler;
	struct wrk_job		*fj_job;
	const struct plug_reg	*fj_reg;
	void			*fj_data;
	char			*fj_args;	/* args JSON, made on demand */
	int			 fj_errset;
	char			 fj_errtype[PLUG_ERRTYPE_MAX + UTF8_SLACK + 1];
	char			 fj_msg[PLUG_MSG_MAX + UTF8_SLACK + 1];
	struct fkw_job		*fj_next;	/* free or lost list */
};

/*
 * The plugin whose code runs now, so fkw_log can name it and a timer or
 * watch remembers its owner. Whoever calls into a plugin (init, handler,
 * cancel, fini, a timer, a watch) sets it and puts the old value back.
 */
extern const struct fkw_plugin *wrk_plugin_cur;

/* wrk_plugin.c: reports the job; the handle returns to the pool unless its handler still runs. */
void	wrk_plugin_job_complete(struct fkw_job *, int ok, const char *errtype, const char *msg);

/* wrk_plugin_api.c: stops and frees the timers and watches plugins left (unload). */
void	wrk_plugin_api_drop(void);

#endif
