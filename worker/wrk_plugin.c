/* SPDX-License-Identifier: MIT */
/*
 * wrk_plugin: the plugin host. Loads the plugins named in the configuration
 * (dlopen, once per path per child), keeps the table of the jobtypes they
 * registered, routes each configuration entry to its plugin, and is the
 * handler wrk_job calls for those entries: it lends the plugin a job handle,
 * runs its handler and cancels it. What a plugin calls back (fkworker.h) is
 * in wrk_plugin_api.c: that file is the contract with plugin authors, bound
 * by FKW_PLUGIN_API_VERSION; this one is how fkworker drives plugins, and
 * may change without them noticing.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wrk_job.h"
#include "wrk_plugin_int.h"

/* Where a configuration entry's jobs go. */
struct plug_route {
	struct fkw_plugin	*rt_plugin;	/* NULL: not a plugin entry */
	const struct plug_reg	*rt_fixed;	/* for an exact jobtype entry, resolved at load */
};

static struct {
	struct fkw_plugin	*pm_plugins;
	const struct conf_handler *pm_base;	/* the configuration's handler array */
	struct plug_route	*pm_routes;	/* parallel to it */
	int			 pm_nroutes;
	struct fkw_job		*pm_free;
	struct fkw_job		*pm_lost;
} pm;

const struct fkw_plugin *wrk_plugin_cur;

/* ==== The jobtype table ==== */

static int
reg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plug_reg *)a)->pr_jobtype,
	    ((const struct plug_reg *)b)->pr_jobtype);
}

/* The registration serving jobtype: exact, then the plugin's "*". */
static const struct plug_reg *
reg_find(const struct fkw_plugin *pl, const char *jobtype)
{
	struct plug_reg key = { .pr_jobtype = (char *)(uintptr_t)jobtype };
	const struct plug_reg *r = NULL;

	if (jobtype != NULL)
		r = bsearch(&key, pl->pl_regs, pl->pl_nregs, sizeof(*r), reg_cmp);
	return r != NULL ? r : pl->pl_any;
}

/* ==== Loading ==== */

static void
plugin_free(struct fkw_plugin *pl)
{
	for (size_t i = 0; i < pl->pl_nregs; i++)
		free(pl->pl_regs[i].pr_jobtype);
	free(pl->pl_regs);
	if (pl->pl_dl != NULL)
		dlclose(pl->pl_dl);
	free(pl->pl_path);
	free(pl);
}

static int
plugin_symbols(struct fkw_plugin *pl, int (**init)(struct fkw_plugin *), char *err,
    size_t errlen)
{
	const int *ver = dlsym(pl->pl_dl, "fkw_plugin_api_version");

	if (ver == NULL) {
		snprintf(err, errlen, "plugin %s: no fkw_plugin_api_version symbol; not a "
		    "plugin built with fkworker.h (it must define \"const int "
		    "fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;\")", pl->pl_path);
		return -1;
	}
	if (*ver != FKW_PLUGIN_API_VERSION) {
		snprintf(err, errlen, "plugin %s: built for plugin API version %d; this "
		    "fkworker provides version %d: rebuild it against this fkworker.h",
		    pl->pl_path, *ver, FKW_PLUGIN_API_VERSION);
		return -1;
	}
	*init = (int (*)(struct fkw_plugin *))dlsym(pl->pl_dl, "fkw_plugin_init");
	if (*init == NULL) {
		snprintf(err, errlen, "plugin %s: does not export fkw_plugin_init", pl->pl_path);
		return -1;
	}
	pl->pl_fini = (void (*)(void))dlsym(pl->pl_dl, "fkw_plugin_fini");
	return 0;
}

/* Calls the plugin's init, then freezes its registrations for lookups. */
static int
plugin_init(struct fkw_plugin *pl, int (*init)(struct fkw_plugin *), char *err,
    size_t errlen)
{
	const struct fkw_plugin *prev = wrk_plugin_cur;
	int r;

	pl->pl_initing = 1;
	wrk_plugin_cur = pl;
	r = init(pl);
	wrk_plugin_cur = prev;
	pl->pl_initing = 0;
	if (r != 0) {
		snprintf(err, errlen, "plugin %s: fkw_plugin_init failed: %s", pl->pl_path,
		    pl->pl_err[0] != '\0' ? pl->pl_err : "no reason given");
		return -1;
	}
	if (pl->pl_nregs == 0) {
		snprintf(err, errlen, "plugin %s: fkw_plugin_init registered no jobtype "
		    "(call fkw_register)", pl->pl_path);
		return -1;
	}
	qsort(pl->pl_regs, pl->pl_nregs, sizeof(*pl->pl_regs), reg_cmp);
	for (size_t i = 0; i < pl->pl_nregs; i++)
		if (strcmp(pl->pl_regs[i].pr_jobtype, "*") == 0)
			pl->pl_any = &pl->pl_regs[i];
	return 0;
}

static struct fkw_plugin *
plugin_load(const char *path, char *err, size_t errlen)
{
	int (*init)(struct fkw_plugin *);
	struct fkw_plugin *pl, *o;
	const char *slash;
	void *dl;

	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "plugin %s: cannot load: %s", path, dlerror());
		return NULL;
	}
	/* Two paths to one file (a symlink) share one handle: initialise it once. */
	for (o = pm.pm_plugins; o != NULL; o = o->pl_next)
		if (o->pl_dl == dl) {
			dlclose(dl);
			return o;
		}
	if ((pl = calloc(1, sizeof(*pl))) == NULL || (pl->pl_path = strdup(path)) == NULL) {
		free(pl);
		dlclose(dl);
		snprintf(err, errlen, "plugin %s: out of memory", path);
		return NULL;
	}
	pl->pl_dl = dl;
	slash = strrchr(pl->pl_path, '/');
	pl->pl_name = slash != NULL ? slash + 1 : pl->pl_path;
	if (plugin_symbols(pl, &init, err, errlen) == -1 ||
	    plugin_init(pl, init, err, errlen) == -1) {
		plugin_free(pl);
		return NULL;
	}
	pl->pl_next = pm.pm_plugins;
	pm.pm_plugins = pl;
	log_info("plugin %s: loaded, %zu jobtype(s)", pl->pl_path, pl->pl_nregs);
	return pl;
}

static struct fkw_plugin *
plugin_by_path(const char *path)
{
	for (struct fkw_plugin *pl = pm.pm_plugins; pl != NULL; pl = pl->pl_next)
		if (strcmp(pl->pl_path, path) == 0)
			return pl;
	return NULL;
}

/* An entry for one jobtype resolves its registration now; "*" entries look up per job. */
static void
route_resolve(struct plug_route *rt, const struct conf_handler *h)
{
	if (strcmp(h->h_jobtype, "*") == 0)
		return;
	rt->rt_fixed = reg_find(rt->rt_plugin, h->h_jobtype);
	if (rt->rt_fixed == NULL)
		log_warnx("plugin %s does not serve jobtype \"%s\" (configuration line %d); "
		    "its jobs will fail with NoHandler", rt->rt_plugin->pl_path,
		    h->h_jobtype, h->h_line);
}

int
wrk_plugin_load_all(const struct fkw_conf *cf, char *err, size_t errlen)
{
	struct fkw_plugin *pl;

	wrk_plugin_unload_all();
	if (cf->cf_nhandlers == 0)
		return 0;
	pm.pm_routes = calloc((size_t)cf->cf_nhandlers, sizeof(*pm.pm_routes));
	if (pm.pm_routes == NULL) {
		snprintf(err, errlen, "plugins: out of memory");
		return -1;
	}
	pm.pm_base = cf->cf_handlers;
	pm.pm_nroutes = cf->cf_nhandlers;
	for (int i = 0; i < cf->cf_nhandlers; i++) {
		const struct conf_handler *h = &cf->cf_handlers[i];

		if (h->h_kind != CONF_H_PLUGIN || h->h_plugin == NULL)
			continue;
		if ((pl = plugin_by_path(h->h_plugin)) == NULL &&
		    (pl = plugin_load(h->h_plugin, err, errlen)) == NULL) {
			wrk_plugin_unload_all();
			return -1;
		}
		pm.pm_routes[i].rt_plugin = pl;
	}
	for (int i = 0; i < cf->cf_nhandlers; i++)
		if (pm.pm_routes[i].rt_plugin != NULL)
			route_resolve(&pm.pm_routes[i], &cf->cf_handlers[i]);
	return 0;
}

/* ==== Jobs: the handler wrk_job calls ==== */

static const struct plug_route *
route_of(const struct conf_handler *h)
{
	ptrdiff_t i;

	if (h == NULL || pm.pm_routes == NULL)
		return NULL;
	i = h - pm.pm_base;
	if (i < 0 || i >= pm.pm_nroutes || pm.pm_routes[i].rt_plugin == NULL)
		return NULL;
	return &pm.pm_routes[i];
}

static struct fkw_job *
pj_get(void)
{
	struct fkw_job *fj = pm.pm_free;

	if (fj != NULL)
		pm.pm_free = fj->fj_next;
	else if ((fj = malloc(sizeof(*fj))) == NULL)
		return NULL;
	fj->fj_state = PJ_RUNNING;
	fj->fj_in_handler = 0;
	fj->fj_job = NULL;
	fj->fj_reg = NULL;
	fj->fj_data = NULL;
	fj->fj_args = NULL;
	fj->fj_errset = 0;
	fj->fj_next = NULL;
	return fj;
}

static void
pj_put(struct fkw_job *fj)
{
	free(fj->fj_args);
	fj->fj_args = NULL;
	fj->fj_job = NULL;
	fj->fj_state = PJ_FREE;
	fj->fj_next = pm.pm_free;
	pm.pm_free = fj;
}

void
wrk_plugin_job_complete(struct fkw_job *fj, int ok, const char *errtype, const char *msg)
{
	struct wrk_job *j = fj->fj_job;

	fj->fj_state = PJ_DONE;
	fj->fj_job = NULL;
	j->jb_hdata = NULL;
	wrk_job_done(j, ok, errtype, msg);
	if (!fj->fj_in_handler)
		pj_put(fj);
}

static int
plugin_start(struct wrk_job *j)
{
	const struct plug_route *rt = route_of(j->jb_conf);
	const struct plug_reg *r = NULL;
	const struct fkw_plugin *prev = wrk_plugin_cur;
	struct fkw_job *fj;
	char msg[300];
	int rc;

	if (rt != NULL)
		r = rt->rt_fixed != NULL ? rt->rt_fixed : reg_find(rt->rt_plugin, j->jb_jobtype);
	if (r == NULL) {
		snprintf(msg, sizeof(msg), "plugin %s has no handler for jobtype \"%.100s\"",
		    rt != NULL ? rt->rt_plugin->pl_name : "?", j->jb_jobtype);
		wrk_job_done(j, 0, "NoHandler", msg);
		return 0;
	}
	if ((fj = pj_get()) == NULL) {
		wrk_job_done(j, 0, "PluginError", "out of memory");
		return 0;
	}
	fj->fj_job = j;
	fj->fj_reg = r;
	fj->fj_in_handler = 1;
	j->jb_hdata = fj;
	wrk_plugin_cur = r->pr_plugin;
	rc = r->pr_fn(fj, r->pr_udata);
	wrk_plugin_cur = prev;
	fj->fj_in_handler = 0;
	if (fj->fj_state == PJ_LOST) {	/* cancelled inside the handler */
		fj->fj_next = pm.pm_lost;
		pm.pm_lost = fj;
		return 0;
	}
	if (fj->fj_state != PJ_RUNNING) {	/* completed inside the handler */
		pj_put(fj);
		return 0;
	}
	switch (rc) {
	case FKW_ASYNC:
		break;
	case FKW_ACK:
		wrk_plugin_job_complete(fj, 1, NULL, NULL);
		break;
	case FKW_FAIL:
		/* No error set: the default fkworker.h promises, errtype "Failed", no message. */
		if (!fj->fj_errset)
			fkw_job_set_error(fj, NULL, NULL);
		wrk_plugin_job_complete(fj, 0, fj->fj_errtype, fj->fj_msg);
		break;
	default:
		snprintf(msg, sizeof(msg), "plugin %s: handler for \"%.100s\" returned %d, "
		    "not FKW_ACK, FKW_FAIL or FKW_ASYNC", r->pr_plugin->pl_name,
		    r->pr_jobtype, rc);
		wrk_plugin_job_complete(fj, 0, "PluginError", msg);
		break;
	}
	return 0;
}

/*
 * Timeout or shutdown. With a cancel callback the plugin drops the job and
 * the handle is reused; without one it may still hold the handle and call
 * fkw_job_ack later, so the handle is parked, never reused, and ignored.
 */
static void
plugin_cancel(struct wrk_job *j)
{
	struct fkw_job *fj = j->jb_hdata;
	const struct plug_reg *r;
	const struct fkw_plugin *prev = wrk_plugin_cur;

	if (fj == NULL)
		return;
	j->jb_hdata = NULL;
	r = fj->fj_reg;
	fj->fj_state = PJ_CANCELLING;
	if (r->pr_cancel != NULL) {
		wrk_plugin_cur = r->pr_plugin;
		r->pr_cancel(fj, r->pr_udata);
		wrk_plugin_cur = prev;
		if (!fj->fj_in_handler)
			pj_put(fj);
		return;
	}
	if (!r->pr_warned) {
		((struct plug_reg *)(uintptr_t)r)->pr_warned = 1;
		log_warnx("plugin %s: jobtype \"%s\" has no cancel callback; its cancelled "
		    "jobs keep running unseen", r->pr_plugin->pl_path, r->pr_jobtype);
	}
	free(fj->fj_args);
	fj->fj_args = NULL;
	fj->fj_job = NULL;
	fj->fj_state = PJ_LOST;
	if (fj->fj_in_handler)
		return;
	fj->fj_next = pm.pm_lost;
	pm.pm_lost = fj;
}

static const struct wrk_handler plugin_handler = { "plugin", plugin_start, plugin_cancel };

const struct wrk_handler *
wrk_plugin_handler(const struct conf_handler *h)
{
	return route_of(h) != NULL ? &plugin_handler : NULL;
}

/* ==== Unloading ==== */

void
wrk_plugin_unload_all(void)
{
	struct fkw_plugin *pl;

	for (pl = pm.pm_plugins; pl != NULL; pl = pl->pl_next)
		if (pl->pl_fini != NULL) {
			wrk_plugin_cur = pl;
			pl->pl_fini();
			wrk_plugin_cur = NULL;
		}
	wrk_plugin_api_drop();
	while (pm.pm_free != NULL) {
		struct fkw_job *fj = pm.pm_free;

		pm.pm_free = fj->fj_next;
		free(fj);
	}
	while (pm.pm_lost != NULL) {
		struct fkw_job *fj = pm.pm_lost;

		pm.pm_lost = fj->fj_next;
		free(fj);
	}
	while ((pl = pm.pm_plugins) != NULL) {
		pm.pm_plugins = pl->pl_next;
		plugin_free(pl);
	}
	free(pm.pm_routes);
	memset(&pm, 0, sizeof(pm));
	wrk_plugin_cur = NULL;
}
