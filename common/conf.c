/* SPDX-License-Identifier: MIT */
/*
 * conf: loads the libconfig file into struct fkw_conf in layers: every
 * key's default from the schema table, then the file, then the environment,
 * then the URL and password are resolved and fields checked against each
 * other. Errors are collected, not fatal, so one run reports them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

/* ---- errors ---- */

/* Appends msg (taken) to the list *vp of *np strings; dropped when out of memory. */
static void
list_add(char ***vp, int *np, char *msg)
{
	char **v;

	if (msg == NULL || (v = realloc(*vp, ((size_t)*np + 1) * sizeof(*v))) == NULL) {
		free(msg);
		return;
	}
	v[(*np)++] = msg;
	*vp = v;
}

static void
errs_add(struct conf_ctx *cx, char *msg)
{
	cx->cx_nerr++;
	if (cx->cx_errs == NULL)
		free(msg);
	else
		list_add(&cx->cx_errs->ce_msg, &cx->cx_errs->ce_n, msg);
}

static char * __attribute__((format(printf, 1, 0)))
vfmt(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) == -1 ? NULL : s;
}

void
conf_errf(struct conf_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_add(cx, vfmt(fmt, ap));
	va_end(ap);
}

/*
 * libconfig names an included file as the @include line wrote it, though it
 * opened it relative to the include directory; messages give the real path.
 */
static const char *
included_path(struct conf_ctx *cx, const char *f)
{
	char *p, **v;
	size_t n = strlen(cx->cx_dir);

	/* Each is cx_dir + '/' + the name libconfig gave. */
	for (int i = 0; i < cx->cx_npaths; i++)
		if (strcmp(cx->cx_paths[i] + n + 1, f) == 0)
			return cx->cx_paths[i];
	if (asprintf(&p, "%s/%s", cx->cx_dir, f) == -1)
		return f;
	if ((v = realloc(cx->cx_paths, ((size_t)cx->cx_npaths + 1) * sizeof(*v))) == NULL) {
		free(p);
		return f;
	}
	cx->cx_paths = v;
	v[cx->cx_npaths++] = p;
	return p;
}

/* f as libconfig names it (NULL when reading a string), as a path from our cwd. */
static const char *
file_name(struct conf_ctx *cx, const char *f)
{
	if (f == NULL)
		return cx->cx_name;
	if (cx->cx_dir == NULL || *f == '/' || strcmp(f, cx->cx_name) == 0 ||
	    strcmp(cx->cx_dir, ".") == 0)
		return f;
	return included_path(cx, f);
}

const char *
conf_setting_file(struct conf_ctx *cx, const config_setting_t *s)
{
	return file_name(cx, config_setting_source_file(s));
}

void
conf_warnf(struct conf_ctx *cx, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vfmt(fmt, ap);
	va_end(ap);
	if (cx->cx_errs == NULL)
		free(msg);
	else
		list_add(&cx->cx_errs->ce_warn, &cx->cx_errs->ce_nwarn, msg);
}

void
conf_err_at(struct conf_ctx *cx, const config_setting_t *s, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vfmt(fmt, ap);
	va_end(ap);
	conf_errf(cx, "%s:%u: %s: %s", conf_setting_file(cx, s),
	    (unsigned)config_setting_source_line(s), path, msg != NULL ? msg : "?");
	free(msg);
}

const char *
conf_key_where(const struct conf_ctx *cx, int k, char *buf, size_t len)
{
	const struct conf_origin *o = &cx->cx_orig[k];

	if (o->o_env != NULL)
		snprintf(buf, len, "environment: %s", o->o_env);
	else if (o->o_file != NULL)
		snprintf(buf, len, "%s:%d", o->o_file, o->o_line);
	else
		snprintf(buf, len, "%s", cx->cx_name);
	return buf;
}

void
conf_err_key(struct conf_ctx *cx, int k, const char *fmt, ...)
{
	char where[1024];
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vfmt(fmt, ap);
	va_end(ap);
	conf_key_where(cx, k, where, sizeof(where));
	if (cx->cx_orig[k].o_env != NULL)
		conf_errf(cx, "%s: %s", where, msg != NULL ? msg : "?");
	else
		conf_errf(cx, "%s: %s: %s", where, conf_schema[k].k_path, msg != NULL ? msg : "?");
	free(msg);
}

void
conf_errors_add(struct conf_errors *ce, int warn, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vfmt(fmt, ap);
	va_end(ap);
	if (warn)
		list_add(&ce->ce_warn, &ce->ce_nwarn, msg);
	else
		list_add(&ce->ce_msg, &ce->ce_n, msg);
}

void
conf_errors_free(struct conf_errors *ce)
{
	if (ce == NULL)
		return;
	for (int i = 0; i < ce->ce_n; i++)
		free(ce->ce_msg[i]);
	free(ce->ce_msg);
	ce->ce_msg = NULL;
	ce->ce_n = 0;
	for (int i = 0; i < ce->ce_nwarn; i++)
		free(ce->ce_warn[i]);
	free(ce->ce_warn);
	ce->ce_warn = NULL;
	ce->ce_nwarn = 0;
}

/* ---- freeing ---- */

void
conf_strv_free(char **v)
{
	for (char **p = v; p != NULL && *p != NULL; p++)
		free(*p);
	free(v);
}

void
conf_queues_free(struct conf_queue *q, int n)
{
	for (int i = 0; q != NULL && i < n; i++)
		free(q[i].q_name);
	free(q);
}

void
conf_handlers_free(struct conf_handler *h, int n)
{
	for (int i = 0; h != NULL && i < n; i++) {
		free(h[i].h_jobtype);
		free(h[i].h_file);
		free(h[i].h_builtin);
		conf_strv_free(h[i].h_argv);
		free(h[i].h_plugin);
	}
	free(h);
}

static void
secret_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
conf_free(struct fkw_conf *cf)
{
	if (cf == NULL)
		return;
	free(cf->cf_file);
	free(cf->cf_url);
	explicit_bzero(&cf->cf_purl, sizeof(cf->cf_purl));
	secret_free(cf->cf_password);
	free(cf->cf_password_file);
	free(cf->cf_tls_ca_file);
	conf_queues_free(cf->cf_queues, cf->cf_nqueues);
	conf_strv_free(cf->cf_labels);
	conf_handlers_free(cf->cf_handlers, cf->cf_nhandlers);
	free(cf->cf_ctl_socket);
	free(cf->cf_stats_listen);
	free(cf);
}

/* ---- the layers ---- */

/* Defaults go through the same setters as the file, so they obey the same checks. */
static void
defaults(struct conf_ctx *cx)
{
	config_setting_t *s;
	char *text;
	config_t c;

	for (int k = 0; k < CK_NKEYS; k++) {
		if (asprintf(&text, "v = %s;", conf_schema[k].k_default) == -1) {
			conf_errf(cx, "%s: out of memory", cx->cx_name);
			return;
		}
		config_init(&c);
		if (config_read_string(&c, text) != CONFIG_TRUE ||
		    (s = config_lookup(&c, "v")) == NULL || conf_schema_set(cx, k, s) == -1)
			conf_errf(cx, "%s: the built-in default %s is invalid", conf_schema[k].k_path,
			    conf_schema[k].k_default);
		config_destroy(&c);
		free(text);
	}
}

static int
key_index(const char *path)
{
	for (int k = 0; k < CK_NKEYS; k++)
		if (strcmp(conf_schema[k].k_path, path) == 0)
			return k;
	return -1;
}

/* 1 if path names a group that holds keys ("worker", "faktory.tls"). */
static int
is_group_path(const char *path)
{
	size_t n = strlen(path);

	for (int k = 0; k < CK_NKEYS; k++)
		if (strncmp(conf_schema[k].k_path, path, n) == 0 && conf_schema[k].k_path[n] == '.')
			return 1;
	return 0;
}

static void
set_from_file(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	cx->cx_orig[k].o_file = conf_setting_file(cx, s);
	cx->cx_orig[k].o_line = (int)config_setting_source_line(s);
	if (conf_schema_set(cx, k, s) == -1)
		cx->cx_orig[k].o_bad = 1;
}

/* Keys that existed once: an old file gets told what replaced them. */
static const struct {
	const char	*rk_path;
	const char	*rk_why;
} retired[] = {
	{ "worker.slots_per_connection", "was removed in 0.2: FETCHes no longer queue on "
	    "shared connections; worker.connections sets how many connections the children "
	    "open (see fkworker.conf(5))" },
};

static const char *
retired_why(const char *path)
{
	for (size_t i = 0; i < FKW_NELEM(retired); i++)
		if (strcmp(retired[i].rk_path, path) == 0)
			return retired[i].rk_why;
	return NULL;
}

/*
 * Every setting must be a key of the table or a group on the way to one.
 * Keys are set as they are met, so errors come in the file's order.
 */
static void
walk(struct conf_ctx *cx, const config_setting_t *g, const char *prefix)
{
	char path[256], hint[128];
	int k;

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		    config_setting_name(s));
		if ((k = key_index(path)) != -1)
			set_from_file(cx, k, s);
		else if (retired_why(path) != NULL)
			conf_err_at(cx, s, path, "%s", retired_why(path));
		else if (!is_group_path(path))
			conf_err_at(cx, s, path, "unknown key%s",
			    conf_hint_key(path, hint, sizeof(hint)));
		else if (!config_setting_is_group(s))
			conf_err_at(cx, s, path, "must be a group { ... }");
		else
			walk(cx, s, path);
	}
}

/* A syntax error stops the load: what follows it cannot be trusted. */
static int
read_config(struct conf_ctx *cx, config_t *c, const char *path, const char *text)
{
	int ok, err;

	ok = path != NULL ? config_read_file(c, path) : config_read_string(c, text);
	err = errno;
	if (ok == CONFIG_TRUE)
		return 0;
	if (config_error_type(c) == CONFIG_ERR_FILE_IO)
		conf_errf(cx, "%s: cannot read: %s", cx->cx_name, err ? strerror(err) : "I/O error");
	else
		conf_hint_syntax(cx, file_name(cx, config_error_file(c)), text,
		    config_error_line(c), config_error_text(c));
	return -1;
}

static int
readable_file(const char *path, char *why, size_t len)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file");
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

#define CONNS_AUTO_PER_CHILD	32

/* The slots connections are capped by: the most this configuration may run. */
static int
conns_slots(const struct fkw_conf *cf)
{
	return cf->cf_concurrency_auto ? cf->cf_concurrency_max : cf->cf_concurrency;
}

/*
 * "auto": 32 connections per child, enough FETCHes in parallel for a fast
 * server (make bench); at most one per slot and a quarter of the server's
 * budget, so that several hosts fit. A number is checked against the same
 * budget: the children's connections and the master's heartbeat must fit.
 */
static void
resolve_connections(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	char where[1024];
	int n;

	if (cf->cf_connections_auto) {
		n = CONNS_AUTO_PER_CHILD * cf->cf_cpus;
		if (n > cf->cf_conn_budget / 4)
			n = cf->cf_conn_budget / 4;
		if (n > conns_slots(cf))
			n = conns_slots(cf);
		cf->cf_connections = n < cf->cf_cpus ? cf->cf_cpus : n;
	}
	if (cf->cf_connections < cf->cf_cpus)
		conf_errf(cx, "%s: %s (%d) must be at least %s (%d): each child needs one",
		    conf_key_where(cx, CK_CONNECTIONS, where, sizeof(where)),
		    conf_schema[CK_CONNECTIONS].k_path, cf->cf_connections,
		    conf_schema[CK_CPUS].k_path, cf->cf_cpus);
	else if (cf->cf_connections + 1 > cf->cf_conn_budget)
		conf_errf(cx, "%s: %s (%d) and the heartbeat connection exceed %s (%d)",
		    conf_key_where(cx, CK_CONNECTIONS, where, sizeof(where)),
		    conf_schema[CK_CONNECTIONS].k_path, cf->cf_connections,
		    conf_schema[CK_CONN_BUDGET].k_path, cf->cf_conn_budget);
	else if (cf->cf_connections > conns_slots(cf))
		cf->cf_connections = conns_slots(cf);
}

#define CONC_MIN_PER_CHILD	50
#define CONC_MAX_PER_CHILD	1000

static int
per_child(const struct fkw_conf *cf, int k, int n)
{
	long long v = (long long)n * cf->cf_cpus;

	return v > conf_schema[k].k_max ? (int)conf_schema[k].k_max : (int)v;
}

/*
 * concurrency_min and _max: 0 means 50 and 1000 per child. With a fixed
 * concurrency the default ceiling also makes room for it; "auto" starts at
 * the floor. Children size their slot table for the ceiling at start.
 */
static void
resolve_concurrency(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	int min_set = cf->cf_concurrency_min != 0, max_set = cf->cf_concurrency_max != 0;
	char where[1024];

	if (!min_set)
		cf->cf_concurrency_min = per_child(cf, CK_CONCURRENCY_MIN, CONC_MIN_PER_CHILD);
	if (!max_set) {
		cf->cf_concurrency_max = per_child(cf, CK_CONCURRENCY_MAX, CONC_MAX_PER_CHILD);
		if (!cf->cf_concurrency_auto && cf->cf_concurrency > cf->cf_concurrency_max)
			cf->cf_concurrency_max = cf->cf_concurrency;
		if (cf->cf_concurrency_max < cf->cf_concurrency_min)
			cf->cf_concurrency_max = cf->cf_concurrency_min;
	}
	if (min_set && cf->cf_concurrency_min < cf->cf_cpus)
		conf_errf(cx, "%s: %s (%d) must be at least %s (%d): each child needs a slot",
		    conf_key_where(cx, CK_CONCURRENCY_MIN, where, sizeof(where)),
		    conf_schema[CK_CONCURRENCY_MIN].k_path, cf->cf_concurrency_min,
		    conf_schema[CK_CPUS].k_path, cf->cf_cpus);
	else if (cf->cf_concurrency_min > cf->cf_concurrency_max)
		conf_errf(cx, "%s: %s (%d) is above %s (%d)",
		    conf_key_where(cx, min_set ? CK_CONCURRENCY_MIN : CK_CONCURRENCY_MAX, where,
		    sizeof(where)), conf_schema[CK_CONCURRENCY_MIN].k_path,
		    cf->cf_concurrency_min, conf_schema[CK_CONCURRENCY_MAX].k_path,
		    cf->cf_concurrency_max);
	else if (!cf->cf_concurrency_auto && cf->cf_concurrency > cf->cf_concurrency_max)
		conf_errf(cx, "%s: %s (%d) is above %s (%d), the most the children are sized for",
		    conf_key_where(cx, CK_CONCURRENCY, where, sizeof(where)),
		    conf_schema[CK_CONCURRENCY].k_path, cf->cf_concurrency,
		    conf_schema[CK_CONCURRENCY_MAX].k_path, cf->cf_concurrency_max);
	if (cf->cf_concurrency_auto)
		cf->cf_concurrency = cf->cf_concurrency_min;
}

/* Checks across fields; keys whose own value was rejected are left out. */
static void
conf_validate(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	const struct conf_origin *o = cx->cx_orig;
	char where[1024], why[256];

	if (!o[CK_CONCURRENCY].o_bad && !o[CK_CPUS].o_bad && !o[CK_CONCURRENCY_MIN].o_bad &&
	    !o[CK_CONCURRENCY_MAX].o_bad)
		resolve_concurrency(cx);
	if (!o[CK_CONCURRENCY].o_bad && !o[CK_CPUS].o_bad && !cf->cf_concurrency_auto &&
	    cf->cf_concurrency < cf->cf_cpus)
		conf_errf(cx, "%s: %s (%d) must be at least %s (%s%d)",
		    conf_key_where(cx, CK_CONCURRENCY, where, sizeof(where)),
		    conf_schema[CK_CONCURRENCY].k_path, cf->cf_concurrency,
		    conf_schema[CK_CPUS].k_path, cf->cf_cpus_auto ? "\"auto\" = " : "",
		    cf->cf_cpus);
	if (!o[CK_CONCURRENCY].o_bad && !o[CK_CPUS].o_bad && !o[CK_CONNECTIONS].o_bad &&
	    !o[CK_CONN_BUDGET].o_bad)
		resolve_connections(cx);
	if (!o[CK_URL].o_bad && !o[CK_TLS_CA_FILE].o_bad && cf->cf_purl.u_tls &&
	    cf->cf_tls_verify && cf->cf_tls_ca_file[0] != '\0' &&
	    !readable_file(cf->cf_tls_ca_file, why, sizeof(why)))
		conf_err_key(cx, CK_TLS_CA_FILE, "cannot read %s: %s (tcp+tls with verify needs it)",
		    cf->cf_tls_ca_file, why);
	conf_check_risky(cx);
}

static struct fkw_conf *
load(const char *path, const char *text, const char *name, int use_env,
    struct conf_errors *errs)
{
	struct conf_ctx cx = { .cx_errs = errs, .cx_name = name, .cx_use_env = use_env };
	char *dir = NULL;
	config_t c;

	if ((cx.cx_cf = calloc(1, sizeof(*cx.cx_cf))) == NULL ||
	    (cx.cx_cf->cf_file = strdup(name)) == NULL ||
	    (path != NULL && (dir = strdup(path)) == NULL)) {
		conf_errf(&cx, "%s: out of memory", name);
		conf_free(cx.cx_cf);
		return NULL;
	}
	config_init(&c);
	/* @include "x.conf" is relative to the including file, not to our cwd. */
	if (dir != NULL)
		config_set_include_dir(&c, cx.cx_dir = dirname(dir));
	defaults(&cx);
	if (read_config(&cx, &c, path, text) == 0) {
		walk(&cx, config_root_setting(&c), "");
		conf_env_apply(&cx);
		conf_env_resolve(&cx);
		conf_validate(&cx);
	}
	/* o_file points into libconfig's list of file names: destroy last. */
	config_destroy(&c);
	free(dir);
	for (int i = 0; i < cx.cx_npaths; i++)
		free(cx.cx_paths[i]);
	free(cx.cx_paths);
	if (cx.cx_nerr > 0) {
		conf_free(cx.cx_cf);
		return NULL;
	}
	return cx.cx_cf;
}

struct fkw_conf *
conf_load(const char *path, int use_env, struct conf_errors *errs)
{
	return load(path, NULL, path, use_env, errs);
}

struct fkw_conf *
conf_load_string(const char *text, const char *name, int use_env, struct conf_errors *errs)
{
	return load(NULL, text, name != NULL ? name : "(string)", use_env, errs);
}

/* ---- lookups ---- */

const struct conf_handler *
conf_handler_find(const struct fkw_conf *cf, const char *jobtype)
{
	const struct conf_handler *any = NULL;

	for (int i = 0; i < cf->cf_nhandlers; i++) {
		const struct conf_handler *h = &cf->cf_handlers[i];

		if (jobtype != NULL && strcmp(h->h_jobtype, jobtype) == 0)
			return h;
		if (strcmp(h->h_jobtype, "*") == 0)
			any = h;
	}
	return any;
}

/* The master binds the socket once; a reload cannot move it. */
const char *
conf_restart_key(const struct fkw_conf *old, const struct fkw_conf *new)
{
	if (strcmp(old->cf_ctl_socket, new->cf_ctl_socket) != 0)
		return conf_schema[CK_CTL_SOCKET].k_path;
	if (strcmp(old->cf_stats_listen, new->cf_stats_listen) != 0)
		return conf_schema[CK_STATS_LISTEN].k_path;
	return NULL;
}
