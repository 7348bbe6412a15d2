/* SPDX-License-Identifier: MIT */
/*
 * wrk_plugin: loads the plugins named in the configuration (dlopen, once per
 * path per child), routes jobs to the handlers they register, and exports
 * the plugin API of fkworker.h (the executable is linked with -rdynamic, so
 * a plugin resolves these fkw_ symbols at dlopen and links nothing).
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkworker.h"
#include "log.h"
#include "util.h"
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

/* Where a configuration entry's jobs go. */
struct plug_route {
	struct fkw_plugin	*rt_plugin;	/* NULL: not a plugin entry */
	const struct plug_reg	*rt_fixed;	/* for an exact jobtype entry, resolved at load */
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

struct fkw_timer {
	struct ev_timer		 ft_ev;
	fkw_timer_fn		*ft_cb;
	void			*ft_arg;
	const struct fkw_plugin	*ft_plugin;
	int			 ft_firing;
	struct fkw_timer	*ft_next;
	struct fkw_timer	*ft_prev;
};

struct fkw_watch {
	struct ev_io		 fw_io;
	unsigned		 fw_events;	/* FKW_EV_* wanted */
	fkw_fd_fn		*fw_cb;
	void			*fw_arg;
	const struct fkw_plugin	*fw_plugin;
	struct fkw_watch	*fw_next;
	struct fkw_watch	*fw_prev;
};

static struct {
	struct fkw_plugin	*pm_plugins;
	const struct conf_handler *pm_base;	/* the configuration's handler array */
	struct plug_route	*pm_routes;	/* parallel to it */
	int			 pm_nroutes;
	struct fkw_job		*pm_free;
	struct fkw_job		*pm_lost;
	struct fkw_timer	*pm_timers;
	struct fkw_timer	*pm_tfree;
	struct fkw_watch	*pm_watches;
	const struct fkw_plugin	*pm_cur;	/* whose code runs now, for fkw_log */
} pm;

/* ==== Small helpers ==== */

/* Cuts s to at most max bytes without splitting a UTF-8 character. */
static void
utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

/*
 * Formats into dst, whose size leaves UTF8_SLACK bytes beyond max, so that a
 * character cut by vsnprintf can be seen and dropped whole.
 */
static void
text_set(char *dst, size_t size, size_t max, const char *fmt, va_list ap)
{
	if (fmt == NULL) {
		dst[0] = '\0';
		return;
	}
	vsnprintf(dst, size, fmt, ap);
	utf8_cut(dst, max);
}

static void
errtype_set(struct fkw_job *fj, const char *errtype)
{
	snprintf(fj->fj_errtype, sizeof(fj->fj_errtype), "%s",
	    errtype != NULL && *errtype != '\0' ? errtype : "Failed");
	utf8_cut(fj->fj_errtype, PLUG_ERRTYPE_MAX);
}

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
	const struct fkw_plugin *prev = pm.pm_cur;
	int r;

	pl->pl_initing = 1;
	pm.pm_cur = pl;
	r = init(pl);
	pm.pm_cur = prev;
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

/* ==== Jobs ==== */

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

/* Reports the job; the handle returns to the pool unless its handler is still running. */
static void
pj_complete(struct fkw_job *fj, int ok, const char *errtype, const char *msg)
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
	const struct fkw_plugin *prev = pm.pm_cur;
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
	pm.pm_cur = r->pr_plugin;
	rc = r->pr_fn(fj, r->pr_udata);
	pm.pm_cur = prev;
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
		pj_complete(fj, 1, NULL, NULL);
		break;
	case FKW_FAIL:
		if (!fj->fj_errset)
			errtype_set(fj, NULL);
		pj_complete(fj, 0, fj->fj_errtype, fj->fj_errset ? fj->fj_msg : "");
		break;
	default:
		snprintf(msg, sizeof(msg), "plugin %s: handler for \"%.100s\" returned %d, "
		    "not FKW_ACK, FKW_FAIL or FKW_ASYNC", r->pr_plugin->pl_name,
		    r->pr_jobtype, rc);
		pj_complete(fj, 0, "PluginError", msg);
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
	const struct fkw_plugin *prev = pm.pm_cur;

	if (fj == NULL)
		return;
	j->jb_hdata = NULL;
	r = fj->fj_reg;
	fj->fj_state = PJ_CANCELLING;
	if (r->pr_cancel != NULL) {
		pm.pm_cur = r->pr_plugin;
		r->pr_cancel(fj, r->pr_udata);
		pm.pm_cur = prev;
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

static void
timers_watches_drop(void)
{
	int nt = 0, nw = 0;

	while (pm.pm_timers != NULL) {
		struct fkw_timer *t = pm.pm_timers;

		pm.pm_timers = t->ft_next;
		ev_timer_stop(wrk_loop(), &t->ft_ev);
		free(t);
		nt++;
	}
	while (pm.pm_tfree != NULL) {
		struct fkw_timer *t = pm.pm_tfree;

		pm.pm_tfree = t->ft_next;
		free(t);
	}
	while (pm.pm_watches != NULL) {
		struct fkw_watch *w = pm.pm_watches;

		pm.pm_watches = w->fw_next;
		if (w->fw_io.io_events != 0)
			ev_io_del(wrk_loop(), &w->fw_io);
		free(w);
		nw++;
	}
	if (nt + nw > 0)
		log_debug("plugins left %d timer(s) and %d watch(es) at exit", nt, nw);
}

void
wrk_plugin_unload_all(void)
{
	struct fkw_plugin *pl;

	for (pl = pm.pm_plugins; pl != NULL; pl = pl->pl_next)
		if (pl->pl_fini != NULL) {
			pm.pm_cur = pl;
			pl->pl_fini();
			pm.pm_cur = NULL;
		}
	timers_watches_drop();
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
}

/* ==== The API of fkworker.h: registration ==== */

int
fkw_register(struct fkw_plugin *p, const char *jobtype, fkw_handler_fn *fn,
    fkw_cancel_fn *cancel, void *udata)
{
	struct plug_reg *r;

	if (p == NULL || !p->pl_initing || jobtype == NULL || *jobtype == '\0' || fn == NULL)
		return -1;
	for (size_t i = 0; i < p->pl_nregs; i++)
		if (strcmp(p->pl_regs[i].pr_jobtype, jobtype) == 0)
			return -1;
	r = realloc(p->pl_regs, (p->pl_nregs + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	p->pl_regs = r;
	r += p->pl_nregs;
	if ((r->pr_jobtype = strdup(jobtype)) == NULL)
		return -1;
	r->pr_fn = fn;
	r->pr_cancel = cancel;
	r->pr_udata = udata;
	r->pr_plugin = p;
	r->pr_warned = 0;
	p->pl_nregs++;
	return 0;
}

void
fkw_plugin_set_error(struct fkw_plugin *p, const char *fmt, ...)
{
	va_list ap;

	if (p == NULL)
		return;
	va_start(ap, fmt);
	text_set(p->pl_err, sizeof(p->pl_err), sizeof(p->pl_err) - UTF8_SLACK - 1,
	    fmt, ap);
	va_end(ap);
}

const char *
fkw_plugin_path(const struct fkw_plugin *p)
{
	return p != NULL ? p->pl_path : "";
}

int
fkw_api_version(void)
{
	return FKW_PLUGIN_API_VERSION;
}

/* ==== The API: the job ==== */

/* The running job behind a handle, or NULL once it completed or was cancelled. */
static const struct wrk_job *
pj_job(const struct fkw_job *fj)
{
	return fj != NULL ? fj->fj_job : NULL;
}

static const json_t *
pj_arg(const struct fkw_job *fj, size_t i)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL ? json_array_get(j->jb_args, i) : NULL;
}

const char *
fkw_job_jid(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL && j->jb_jid != NULL ? j->jb_jid : "";
}

const char *
fkw_job_type(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL && j->jb_jobtype != NULL ? j->jb_jobtype : "";
}

const char *
fkw_job_queue(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);
	const json_t *q = j != NULL ? json_object_get(j->jb_json, "queue") : NULL;

	return json_is_string(q) ? json_string_value(q) : "";
}

const char *
fkw_job_json(const struct fkw_job *fj, size_t *len)
{
	const struct wrk_job *j = pj_job(fj);
	int ok = j != NULL && j->jb_raw != NULL;

	if (len != NULL)
		*len = ok ? j->jb_raw_len : 0;
	return ok ? j->jb_raw : "";
}

const char *
fkw_job_args_json(struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	if (j == NULL)
		return NULL;
	if (fj->fj_args == NULL)
		fj->fj_args = json_dumps(j->jb_args, JSON_COMPACT | JSON_ENCODE_ANY);
	return fj->fj_args;
}

size_t
fkw_job_nargs(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL ? json_array_size(j->jb_args) : 0;
}

const char *
fkw_job_arg_string(const struct fkw_job *fj, size_t i)
{
	const json_t *a = pj_arg(fj, i);

	return json_is_string(a) ? json_string_value(a) : NULL;
}

int
fkw_job_arg_int(const struct fkw_job *fj, size_t i, long long *out)
{
	const json_t *a = pj_arg(fj, i);
	double d;

	if (json_is_integer(a)) {
		*out = json_integer_value(a);
		return 0;
	}
	if (!json_is_real(a))
		return -1;
	d = json_real_value(a);
	/* 2^63 is exact as a double; everything below it converts. */
	if (!isfinite(d) || d != trunc(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0)
		return -1;
	*out = (long long)d;
	return 0;
}

int
fkw_job_arg_double(const struct fkw_job *fj, size_t i, double *out)
{
	const json_t *a = pj_arg(fj, i);

	if (!json_is_number(a))
		return -1;
	*out = json_number_value(a);
	return 0;
}

const char *
fkw_job_custom_string(const struct fkw_job *fj, const char *key)
{
	const struct wrk_job *j = pj_job(fj);
	const json_t *v;

	if (j == NULL || key == NULL)
		return NULL;
	v = json_object_get(json_object_get(j->jb_json, "custom"), key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void
fkw_job_set_data(struct fkw_job *fj, void *data)
{
	if (fj != NULL)
		fj->fj_data = data;
}

void *
fkw_job_get_data(const struct fkw_job *fj)
{
	return fj != NULL ? fj->fj_data : NULL;
}

/* ==== The API: completion ==== */

void
fkw_job_set_error(struct fkw_job *fj, const char *errtype, const char *fmt, ...)
{
	va_list ap;

	if (fj == NULL || fj->fj_state != PJ_RUNNING)
		return;
	errtype_set(fj, errtype);
	va_start(ap, fmt);
	text_set(fj->fj_msg, sizeof(fj->fj_msg), PLUG_MSG_MAX, fmt, ap);
	va_end(ap);
	fj->fj_errset = 1;
}

int
fkw_job_ack(struct fkw_job *fj)
{
	if (fj == NULL || fj->fj_state != PJ_RUNNING) {
		log_debug("plugin: late or second completion of a job ignored");
		return -1;
	}
	pj_complete(fj, 1, NULL, NULL);
	return 0;
}

int
fkw_job_fail(struct fkw_job *fj, const char *errtype, const char *fmt, ...)
{
	va_list ap;

	if (fj == NULL || fj->fj_state != PJ_RUNNING) {
		log_debug("plugin: late or second completion of a job ignored");
		return -1;
	}
	errtype_set(fj, errtype);
	va_start(ap, fmt);
	text_set(fj->fj_msg, sizeof(fj->fj_msg), PLUG_MSG_MAX, fmt, ap);
	va_end(ap);
	pj_complete(fj, 0, fj->fj_errtype, fj->fj_msg);
	return 0;
}

/* ==== The API: timers and fds on the child's loop ==== */

static void
timer_release(struct fkw_timer *t)
{
	if (t->ft_prev != NULL)
		t->ft_prev->ft_next = t->ft_next;
	else
		pm.pm_timers = t->ft_next;
	if (t->ft_next != NULL)
		t->ft_next->ft_prev = t->ft_prev;
	t->ft_next = pm.pm_tfree;
	pm.pm_tfree = t;
}

static void
timer_fired(struct ev_loop *loop, struct ev_timer *ev)
{
	struct fkw_timer *t = ev->tm_arg;
	const struct fkw_plugin *prev = pm.pm_cur;

	FKW_UNUSED(loop);
	t->ft_firing = 1;
	pm.pm_cur = t->ft_plugin;
	t->ft_cb(t, t->ft_arg);
	pm.pm_cur = prev;
	timer_release(t);
}

struct fkw_timer *
fkw_timer_start(uint64_t ms, fkw_timer_fn *cb, void *arg)
{
	struct fkw_timer *t = pm.pm_tfree;

	if (cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (t != NULL)
		pm.pm_tfree = t->ft_next;
	else if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	ev_timer_init(&t->ft_ev, timer_fired, t);
	t->ft_cb = cb;
	t->ft_arg = arg;
	t->ft_plugin = pm.pm_cur;
	t->ft_firing = 0;
	t->ft_prev = NULL;
	t->ft_next = pm.pm_timers;
	if (pm.pm_timers != NULL)
		pm.pm_timers->ft_prev = t;
	pm.pm_timers = t;
	/* From now, not from this iteration's clock: a slow handler must not shorten it. */
	ev_now_update(wrk_loop());
	if (ev_timer_start(wrk_loop(), &t->ft_ev, ms) == -1) {
		timer_release(t);
		return NULL;
	}
	return t;
}

void
fkw_timer_cancel(struct fkw_timer *t)
{
	if (t == NULL || t->ft_firing)
		return;
	ev_timer_stop(wrk_loop(), &t->ft_ev);
	timer_release(t);
}

static uint32_t
watch_epoll(unsigned ev)
{
	return ((ev & FKW_EV_READ) ? EPOLLIN : 0) | ((ev & FKW_EV_WRITE) ? EPOLLOUT : 0);
}

static void
watch_ready(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct fkw_watch *w = io->io_arg;
	const struct fkw_plugin *prev = pm.pm_cur;
	unsigned ev = 0;

	FKW_UNUSED(loop);
	if (events & EPOLLIN)
		ev |= FKW_EV_READ;
	if (events & EPOLLOUT)
		ev |= FKW_EV_WRITE;
	/* With the watched events, so the plugin's next read or write sees the error. */
	if (events & (EPOLLERR | EPOLLHUP))
		ev |= FKW_EV_ERROR | w->fw_events;
	pm.pm_cur = w->fw_plugin;
	w->fw_cb(w, io->io_fd, ev, w->fw_arg);
	pm.pm_cur = prev;
}

struct fkw_watch *
fkw_watch_fd(int fd, unsigned events, fkw_fd_fn *cb, void *arg)
{
	struct fkw_watch *w;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	ev_io_init(&w->fw_io, fd, watch_ready, w);
	w->fw_cb = cb;
	w->fw_arg = arg;
	w->fw_plugin = pm.pm_cur;
	if (fkw_watch_set(w, events) == -1) {
		free(w);
		return NULL;
	}
	w->fw_next = pm.pm_watches;
	if (pm.pm_watches != NULL)
		pm.pm_watches->fw_prev = w;
	pm.pm_watches = w;
	return w;
}

/* No events means not registered at all: epoll would still report a hang-up. */
int
fkw_watch_set(struct fkw_watch *w, unsigned events)
{
	uint32_t ee = watch_epoll(events);
	int r = 0;

	if (w == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ee == 0) {
		if (w->fw_io.io_events != 0)
			r = ev_io_del(wrk_loop(), &w->fw_io);
	} else if (w->fw_io.io_events == 0) {
		r = ev_io_add(wrk_loop(), &w->fw_io, ee);
	} else {
		r = ev_io_mod(wrk_loop(), &w->fw_io, ee);
	}
	if (r == 0)
		w->fw_events = events & (FKW_EV_READ | FKW_EV_WRITE);
	return r;
}

void
fkw_unwatch_fd(struct fkw_watch *w)
{
	if (w == NULL)
		return;
	if (w->fw_io.io_events != 0)
		ev_io_del(wrk_loop(), &w->fw_io);
	if (w->fw_prev != NULL)
		w->fw_prev->fw_next = w->fw_next;
	else
		pm.pm_watches = w->fw_next;
	if (w->fw_next != NULL)
		w->fw_next->fw_prev = w->fw_prev;
	free(w);
}

uint64_t
fkw_now_ms(void)
{
	return ev_now(wrk_loop());
}

void
fkw_log(int priority, const char *fmt, ...)
{
	const char *who = pm.pm_cur != NULL ? pm.pm_cur->pl_name : "?";
	char msg[1024];
	va_list ap;

	if (priority >= LOG_LVL_DEBUG && log_getlevel() < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (priority <= FKW_LOG_ERR)
		log_errx("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_WARNING)
		log_warnx("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_NOTICE)
		log_notice("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_INFO)
		log_info("plugin %s: %s", who, msg);
	else
		log_debug("plugin %s: %s", who, msg);
}
