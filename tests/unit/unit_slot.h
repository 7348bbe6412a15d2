/* SPDX-License-Identifier: MIT */
/*
 * unit_slot: one worker slot without a loop running, as test_job and the
 * fuzz_job target drive wrk_job.c: the worker's globals point at the
 * caller's env and ctx, the configuration has the built-in handlers, and the
 * slot is taken as the pump takes it before it sends a FETCH. Header-only:
 * the fuzz target links no test library.
 */
#ifndef FKW_UNIT_SLOT_H
#define FKW_UNIT_SLOT_H

#include <string.h>

#include "conf.h"
#include "wrk_int.h"

static const char unit_slot_conf[] =
    "faktory: { url = \"tcp://127.0.0.1:1\"; };\n"
    "worker: { concurrency = 1; cpus = 1; queues = [ \"default\" ]; };\n"
    "handlers: (\n"
    "  { jobtype = \"noop\"; builtin = \"noop\"; },\n"
    "  { jobtype = \"sleep\"; builtin = \"sleep\"; timeout = 5; },\n"
    "  { jobtype = \"fail\"; builtin = \"fail\"; }\n"
    ");\n";

/*
 * Sets env, ctx and slot up as a child's only slot, named name (its wid and
 * host name derive from it). Returns the configuration, the caller's to
 * free; NULL with errs filled (the configuration) or errs empty (no loop, or
 * the slot was not the free one).
 */
static inline struct fkw_conf *
unit_slot_setup(struct wrk_env *env, struct wrk_ctx *ctx, struct wrk_slot *s,
    const char *name, struct conf_errors *errs)
{
	static char wid[64], host[64];
	struct fkw_conf *cf;
	char file[80];

	snprintf(file, sizeof(file), "%s.conf", name);
	if ((cf = conf_load_string(unit_slot_conf, file, 0, errs)) == NULL)
		return NULL;
	snprintf(wid, sizeof(wid), "%swid", name);
	snprintf(host, sizeof(host), "%shost", name);
	memset(env, 0, sizeof(*env));
	memset(ctx, 0, sizeof(*ctx));
	ctx->wc_cpu = -1;
	ctx->wc_chan = -1;
	ctx->wc_wid = wid;
	ctx->wc_hostname = host;
	env->we_conf = cf;
	env->we_ctx = ctx;
	env->we_state = WRK_ST_RUNNING;
	env->we_nslots = env->we_cap = 1;	/* the one slot is active */
	if ((env->we_loop = ev_loop_new()) == NULL) {
		conf_free(cf);
		return NULL;
	}
	wrk_env = env;
	wrk_slot_init(s, 0);
	return wrk_slot_take_free() == s ? cf : NULL;
}

#endif
