/* SPDX-License-Identifier: MIT */
/* conf_list: the keys that hold lists: worker.queues, worker.labels and handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "fkp.h"
#include "util.h"

static const char *const builtins[] = { "noop", "sleep", "fail" };

/* "worker.queues[2]" and the like, for messages. */
static const char *
elem_path(char *buf, size_t len, const char *list, int i, const char *member)
{
	snprintf(buf, len, "%s[%d]%s%s", list, i, member ? "." : "", member ? member : "");
	return buf;
}

static int
is_seq(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

/* ---- worker.queues ---- */

static int
queue_weight(struct conf_ctx *cx, const config_setting_t *m, const char *path, int *w)
{
	long long v;

	if (conf_schema_integer(cx, m, path, &v) == -1)
		return -1;
	if (v < 1 || v > CONF_MAX_WEIGHT) {
		conf_err_at(cx, m, path, "must be 1..%d", CONF_MAX_WEIGHT);
		return -1;
	}
	*w = (int)v;
	return 0;
}

static int
queue_name(struct conf_ctx *cx, const config_setting_t *s, const char *path,
    struct conf_queue *q)
{
	const char *v = config_setting_get_string(s);

	if (v == NULL) {
		conf_err_at(cx, s, path, "must be a string");
		return -1;
	}
	if (!fkp_queue_name_ok(v)) {
		conf_err_at(cx, s, path, "queue name \"%s\" must match [A-Za-z0-9._-]+",
		    conf_schema_printable(v) ? v : "?");
		return -1;
	}
	if ((q->q_name = strdup(v)) == NULL) {
		conf_err_at(cx, s, path, "out of memory");
		return -1;
	}
	return 0;
}

/* A { name = "x"; weight = 3; } entry. */
static int
queue_group(struct conf_ctx *cx, const config_setting_t *e, int i, struct conf_queue *q)
{
	const char *list = conf_schema[CK_QUEUES].k_path;
	char path[96];
	int rc = 0, named = 0;

	q->q_weight = 1;
	for (int j = 0; j < config_setting_length(e); j++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)j);
		const char *n = config_setting_name(m);

		elem_path(path, sizeof(path), list, i, n);
		if (strcmp(n, "name") == 0) {
			named = 1;
			if (queue_name(cx, m, path, q) == -1)
				rc = -1;
		} else if (strcmp(n, "weight") == 0) {
			if (queue_weight(cx, m, path, &q->q_weight) == -1)
				rc = -1;
		} else {
			conf_err_at(cx, m, path, "unknown key (a queue has name and weight)");
			rc = -1;
		}
	}
	if (!named) {
		conf_err_at(cx, e, elem_path(path, sizeof(path), list, i, NULL),
		    "a weighted queue needs a name");
		rc = -1;
	}
	return rc;
}

/* One entry into q: a name, or a group when the list is weighted. */
static int
queue_entry(struct conf_ctx *cx, const config_setting_t *e, int i, int weighted,
    struct conf_queue *q)
{
	const char *list = conf_schema[CK_QUEUES].k_path;
	char path[96];

	elem_path(path, sizeof(path), list, i, NULL);
	if (weighted != config_setting_is_group(e) ||
	    (!weighted && config_setting_type(e) != CONFIG_TYPE_STRING)) {
		conf_err_at(cx, e, path, weighted ? "must be a { name = \"x\"; weight = N; } group"
		    : "must be a queue name string");
		return -1;
	}
	if (weighted) {
		if (queue_group(cx, e, i, q) == -1)
			return -1;
	} else if (queue_name(cx, e, path, q) == -1)
		return -1;
	return 0;
}

static int
queues_dup(struct conf_ctx *cx, const config_setting_t *s, const struct conf_queue *q, int n)
{
	char path[96];

	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(q[i].q_name, q[j].q_name) == 0) {
				conf_err_at(cx, config_setting_get_elem(s, (unsigned)i),
				    elem_path(path, sizeof(path), conf_schema[CK_QUEUES].k_path, i,
				    NULL), "duplicate queue \"%s\"", q[i].q_name);
				return -1;
			}
	return 0;
}

int
conf_list_queues(struct conf_ctx *cx, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[CK_QUEUES];
	struct fkw_conf *cf = cx->cx_cf;
	struct conf_queue *q;
	int n, weighted, rc = 0;

	if (!is_seq(s)) {
		conf_err_at(cx, s, ck->k_path,
		    "must be a list of queue names or of { name, weight } groups");
		return -1;
	}
	n = config_setting_length(s);
	if (n < ck->k_min || n > ck->k_max) {
		conf_err_at(cx, s, ck->k_path, "must list %lld..%lld queues", ck->k_min, ck->k_max);
		return -1;
	}
	if ((q = calloc((size_t)n, sizeof(*q))) == NULL) {
		conf_err_at(cx, s, ck->k_path, "out of memory");
		return -1;
	}
	weighted = config_setting_is_group(config_setting_get_elem(s, 0));
	for (int i = 0; i < n; i++)
		if (queue_entry(cx, config_setting_get_elem(s, (unsigned)i), i, weighted, &q[i]) == -1)
			rc = -1;
	if (rc == 0)
		rc = queues_dup(cx, s, q, n);
	if (rc == -1) {
		conf_queues_free(q, n);
		return -1;
	}
	conf_queues_free(cf->cf_queues, cf->cf_nqueues);
	cf->cf_queues = q;
	cf->cf_nqueues = n;
	cf->cf_weighted = weighted;
	return 0;
}

/* ---- worker.labels and exec argv ---- */

/*
 * A NULL-terminated copy of an array or list of strings, or NULL with the
 * problem reported (nonempty: every element must be non-empty).
 */
static char **
strv_from(struct conf_ctx *cx, const config_setting_t *s, const char *path, int nonempty)
{
	int n = config_setting_length(s);
	char **v, ep[160];

	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL) {
		conf_err_at(cx, s, path, "out of memory");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *str = config_setting_get_string(e), *why = NULL;

		if (str == NULL)
			why = "must be a string";
		else if (nonempty && *str == '\0')
			why = "must not be empty";
		else if (!conf_schema_printable(str))
			why = "must not contain control characters";
		else if ((v[i] = strdup(str)) == NULL)
			why = "out of memory";
		if (why != NULL) {
			conf_err_at(cx, e, elem_path(ep, sizeof(ep), path, i, NULL), "%s", why);
			conf_strv_free(v);
			return NULL;
		}
	}
	return v;
}

int
conf_list_labels(struct conf_ctx *cx, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[CK_LABELS];
	struct fkw_conf *cf = cx->cx_cf;
	char **v;
	int n;

	if (!is_seq(s)) {
		conf_err_at(cx, s, ck->k_path, "must be a list of strings");
		return -1;
	}
	if ((n = config_setting_length(s)) > ck->k_max) {
		conf_err_at(cx, s, ck->k_path, "must have at most %lld labels", ck->k_max);
		return -1;
	}
	if ((v = strv_from(cx, s, ck->k_path, 1)) == NULL)
		return -1;
	conf_strv_free(cf->cf_labels);
	cf->cf_labels = v;
	cf->cf_nlabels = n;
	return 0;
}

/* ---- handlers ---- */

static int
handler_builtin(struct conf_ctx *cx, const config_setting_t *m, const char *path,
    struct conf_handler *h)
{
	const char *v;

	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(m);
		for (size_t i = 0; i < FKW_NELEM(builtins); i++)
			if (strcmp(v, builtins[i]) == 0) {
				if ((h->h_builtin = strdup(v)) != NULL)
					return 0;
				conf_err_at(cx, m, path, "out of memory");
				return -1;
			}
	}
	conf_err_at(cx, m, path, "must be one of \"noop\", \"sleep\", \"fail\"");
	return -1;
}

static int
handler_exec(struct conf_ctx *cx, const config_setting_t *m, const char *path,
    struct conf_handler *h)
{
	if (!is_seq(m) || config_setting_length(m) < 1) {
		conf_err_at(cx, m, path, "must be a list of strings: [ \"/path/cmd\", args... ]");
		return -1;
	}
	if ((h->h_argv = strv_from(cx, m, path, 0)) == NULL)
		return -1;
	h->h_argc = config_setting_length(m);
	if (h->h_argv[0][0] != '/') {
		conf_err_at(cx, m, path, "the command \"%s\" must be an absolute path",
		    h->h_argv[0]);
		return -1;
	}
	return 0;
}

static int
handler_string(struct conf_ctx *cx, const config_setting_t *m, const char *path, char **out)
{
	const char *v;

	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		conf_err_at(cx, m, path, "must be a string");
		return -1;
	}
	v = config_setting_get_string(m);
	if (*v == '\0' || !conf_schema_printable(v)) {
		conf_err_at(cx, m, path, *v == '\0' ? "must not be empty"
		    : "must not contain control characters");
		return -1;
	}
	if ((*out = strdup(v)) == NULL) {
		conf_err_at(cx, m, path, "out of memory");
		return -1;
	}
	return 0;
}

static int
handler_timeout(struct conf_ctx *cx, const config_setting_t *m, const char *path,
    struct conf_handler *h)
{
	long long v;

	if (conf_schema_integer(cx, m, path, &v) == -1)
		return -1;
	if (v < 0 || v > CONF_MAX_HTIMEOUT) {
		conf_err_at(cx, m, path, "must be 0..%d", CONF_MAX_HTIMEOUT);
		return -1;
	}
	h->h_timeout = (int)v;
	return 0;
}

/* Which members a handler group had (libconfig already refuses repeated names). */
struct hseen {
	int	hs_jobtype;
	int	hs_kinds;	/* how many of builtin, exec, plugin */
	int	hs_timeout;
};

static int
handler_member(struct conf_ctx *cx, const config_setting_t *m, const char *path,
    struct conf_handler *h, struct hseen *hs)
{
	const char *n = config_setting_name(m);

	if (strcmp(n, "jobtype") == 0) {
		hs->hs_jobtype = 1;
		return handler_string(cx, m, path, &h->h_jobtype);
	}
	if (strcmp(n, "timeout") == 0) {
		hs->hs_timeout = 1;
		return handler_timeout(cx, m, path, h);
	}
	if (strcmp(n, "builtin") == 0) {
		h->h_kind = CONF_H_BUILTIN;
		hs->hs_kinds++;
		return handler_builtin(cx, m, path, h);
	}
	if (strcmp(n, "exec") == 0) {
		h->h_kind = CONF_H_EXEC;
		hs->hs_kinds++;
		return handler_exec(cx, m, path, h);
	}
	if (strcmp(n, "plugin") == 0) {
		h->h_kind = CONF_H_PLUGIN;
		hs->hs_kinds++;
		if (handler_string(cx, m, path, &h->h_plugin) == -1)
			return -1;
		/* dlopen searches the library path for a bare name, not the current directory. */
		if (h->h_plugin[0] != '/') {
			conf_err_at(cx, m, path, "the plugin \"%s\" must be an absolute path",
			    h->h_plugin);
			return -1;
		}
		return 0;
	}
	conf_err_at(cx, m, path,
	    "unknown key (a handler has jobtype, builtin, exec, plugin and timeout)");
	return -1;
}

static int
handler_parse(struct conf_ctx *cx, const config_setting_t *e, int i, struct conf_handler *h)
{
	const char *list = conf_schema[CK_HANDLERS].k_path;
	struct hseen hs = { 0 };
	char path[96];
	int rc = 0;

	h->h_line = (int)config_setting_source_line(e);
	if ((h->h_file = strdup(conf_setting_file(cx, e))) == NULL) {
		conf_err_at(cx, e, elem_path(path, sizeof(path), list, i, NULL), "out of memory");
		return -1;
	}
	if (!config_setting_is_group(e)) {
		conf_err_at(cx, e, elem_path(path, sizeof(path), list, i, NULL),
		    "must be a { jobtype = \"...\"; ... } group");
		return -1;
	}
	for (int j = 0; j < config_setting_length(e); j++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)j);

		elem_path(path, sizeof(path), list, i, config_setting_name(m));
		if (handler_member(cx, m, path, h, &hs) == -1)
			rc = -1;
	}
	elem_path(path, sizeof(path), list, i, NULL);
	if (!hs.hs_jobtype) {
		conf_err_at(cx, e, path, "jobtype is required");
		rc = -1;
	}
	if (hs.hs_kinds != 1) {
		conf_err_at(cx, e, path, hs.hs_kinds == 0 ? "needs one of builtin, exec or plugin"
		    : "builtin, exec and plugin are exclusive: give only one");
		rc = -1;
	}
	if (!hs.hs_timeout)
		h->h_timeout = h->h_kind == CONF_H_BUILTIN ? 0 : CONF_EXEC_TIMEOUT;
	return rc;
}

static int
handlers_dup(struct conf_ctx *cx, const config_setting_t *s, const struct conf_handler *h,
    int n)
{
	char path[96];

	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(h[i].h_jobtype, h[j].h_jobtype) == 0) {
				conf_err_at(cx, config_setting_get_elem(s, (unsigned)i),
				    elem_path(path, sizeof(path), "handlers", i, "jobtype"),
				    "duplicate jobtype \"%s\" (first at line %d)",
				    h[i].h_jobtype, h[j].h_line);
				return -1;
			}
	return 0;
}

int
conf_list_handlers(struct conf_ctx *cx, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[CK_HANDLERS];
	struct fkw_conf *cf = cx->cx_cf;
	struct conf_handler *h;
	int n, rc = 0;

	if (!config_setting_is_list(s) || (n = config_setting_length(s)) < ck->k_min) {
		conf_err_at(cx, s, ck->k_path, config_setting_is_list(s)
		    ? "must have at least one handler (leave the key out for noop, sleep and fail)"
		    : "must be a list of { jobtype = \"...\"; ... } groups");
		return -1;
	}
	if ((h = calloc((size_t)n, sizeof(*h))) == NULL) {
		conf_err_at(cx, s, ck->k_path, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (handler_parse(cx, config_setting_get_elem(s, (unsigned)i), i, &h[i]) == -1)
			rc = -1;
	if (rc == 0)
		rc = handlers_dup(cx, s, h, n);
	if (rc == -1) {
		conf_handlers_free(h, n);
		return -1;
	}
	conf_handlers_free(cf->cf_handlers, cf->cf_nhandlers);
	cf->cf_handlers = h;
	cf->cf_nhandlers = n;
	return 0;
}
