/* SPDX-License-Identifier: MIT */
/*
 * conf_dump: the effective configuration printed as a libconfig file in
 * schema order, so that "fkworker -nn" output loads again with "-n".
 * Secrets print as ******** .
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "log.h"

#define MASK	"********"

static const void *
field(const struct fkw_conf *cf, int k)
{
	return (const char *)cf + conf_schema[k].k_off;
}

/* A libconfig string literal. */
static void
put_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\x%02x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

/* The URL with the password of its userinfo masked. */
static void
put_url(FILE *fp, const char *url)
{
	size_t user, at, host, hend;
	const char *colon;
	char *buf;

	conf_env_url_span(url, &user, &at, &host, &hend);
	colon = memchr(url + user, ':', at - user);
	if (colon == NULL || colon + 1 == url + at) {
		put_str(fp, url);
		return;
	}
	if (asprintf(&buf, "%.*s" MASK "%s", (int)(colon + 1 - url), url, url + at) == -1) {
		put_str(fp, MASK);
		return;
	}
	put_str(fp, buf);
	free(buf);
}

/* The largest unit that divides the size exactly, as parse_size reads it back. */
static void
put_size(FILE *fp, uint64_t v)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (v != 0 && u < 3 && (v & 1023) == 0) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		fprintf(fp, "\"%" PRIu64 "\"", v);
	else
		fprintf(fp, "\"%" PRIu64 "%c\"", v, units[u]);
}

static void
put_strv(FILE *fp, char *const *v, int n)
{
	fputs("[", fp);
	for (int i = 0; i < n; i++) {
		fputs(i ? ", " : " ", fp);
		put_str(fp, v[i]);
	}
	fputs(" ]", fp);
}

static void
put_queues(FILE *fp, const struct fkw_conf *cf, const char *ind)
{
	if (!cf->cf_weighted) {
		fputs("[", fp);
		for (int i = 0; i < cf->cf_nqueues; i++) {
			fputs(i ? ", " : " ", fp);
			put_str(fp, cf->cf_queues[i].q_name);
		}
		fputs(" ]", fp);
		return;
	}
	fputs("(\n", fp);
	for (int i = 0; i < cf->cf_nqueues; i++) {
		fprintf(fp, "%s\t{ name = ", ind);
		put_str(fp, cf->cf_queues[i].q_name);
		fprintf(fp, "; weight = %d; }%s\n", cf->cf_queues[i].q_weight,
		    i + 1 < cf->cf_nqueues ? "," : "");
	}
	fprintf(fp, "%s)", ind);
}

static void
put_handler(FILE *fp, const struct conf_handler *h)
{
	fputs("\t{ jobtype = ", fp);
	put_str(fp, h->h_jobtype);
	switch (h->h_kind) {
	case CONF_H_BUILTIN:
		fputs("; builtin = ", fp);
		put_str(fp, h->h_builtin);
		break;
	case CONF_H_EXEC:
		fputs("; exec = ", fp);
		put_strv(fp, h->h_argv, h->h_argc);
		break;
	case CONF_H_PLUGIN:
		fputs("; plugin = ", fp);
		put_str(fp, h->h_plugin);
		break;
	}
	fprintf(fp, "; timeout = %d; }", h->h_timeout);
}

static void
put_handlers(FILE *fp, const struct fkw_conf *cf)
{
	fputs("(\n", fp);
	for (int i = 0; i < cf->cf_nhandlers; i++) {
		put_handler(fp, &cf->cf_handlers[i]);
		fputs(i + 1 < cf->cf_nhandlers ? ",\n" : "\n", fp);
	}
	fputs(")", fp);
}

static void
put_value(FILE *fp, const struct fkw_conf *cf, int k, const char *ind)
{
	const void *p = field(cf, k);

	switch (conf_schema[k].k_type) {
	case CONF_T_STR:
	case CONF_T_LISTEN:
		if (k == CK_URL)
			put_url(fp, *(char *const *)p);
		else
			put_str(fp, *(char *const *)p);
		break;
	case CONF_T_SECRET:
		put_str(fp, **(char *const *)p != '\0' ? MASK : "");
		break;
	case CONF_T_BOOL:
		fputs(*(const int *)p ? "true" : "false", fp);
		break;
	case CONF_T_INT:
		fprintf(fp, "%d", *(const int *)p);
		break;
	case CONF_T_INT64:
		/* libconfig truncates plain literals to int: big ones need the L. */
		fprintf(fp, "%lld%s", *(const long long *)p,
		    *(const long long *)p > INT32_MAX ? "L" : "");
		break;
	case CONF_T_SIZE:
		put_size(fp, *(const uint64_t *)p);
		break;
	case CONF_T_MODE:
		fprintf(fp, "0%03o", (unsigned)*(const int *)p);
		break;
	case CONF_T_CPUS:
		if (cf->cf_cpus_auto)
			fputs("\"auto\"", fp);
		else
			fprintf(fp, "%d", cf->cf_cpus);
		break;
	case CONF_T_CONC:
		if (cf->cf_concurrency_auto)
			fputs("\"auto\"", fp);
		else
			fprintf(fp, "%d", cf->cf_concurrency);
		break;
	case CONF_T_CONNS:
		/* "auto" as resolved: what this configuration really opens. */
		if (cf->cf_connections_auto)
			fputs("\"auto\"", fp);
		else
			fprintf(fp, "%d", cf->cf_connections);
		break;
	case CONF_T_LOGLEVEL:
		put_str(fp, log_level_name(*(const int *)p));
		break;
	case CONF_T_QUEUES:
		put_queues(fp, cf, ind);
		break;
	case CONF_T_LABELS:
		put_strv(fp, cf->cf_labels, cf->cf_nlabels);
		break;
	case CONF_T_HANDLERS:
		put_handlers(fp, cf);
		break;
	}
}

/* "# from VAR" after a value the environment set (several for the URL). */
static void
put_env(FILE *fp, const struct fkw_conf *cf, int k)
{
	int n = 0;

	for (int i = 0; i < cf->cf_nenv; i++)
		if (cf->cf_env[i].e_key == k)
			fprintf(fp, "%s%s", n++ ? ", " : "\t# from ", cf->cf_env[i].e_var);
}

void
conf_dump_value(const struct fkw_conf *cf, int k, FILE *fp)
{
	put_value(fp, cf, k, "");
}

/* Length of the group part of a path: "faktory.tls" of "faktory.tls.verify". */
static size_t
group_len(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot != NULL ? (size_t)(dot - path) : 0;
}

/*
 * How many leading group names two group paths share: "faktory.tls" and
 * "faktory" share 1. A group path ends where its key's name starts, at a '.'.
 */
static int
shared_depth(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, ea, eb;
	int n = 0;

	while (i < alen && i < blen) {
		ea = i + strcspn(a + i, ".");
		eb = i + strcspn(b + i, ".");
		if (ea != eb || memcmp(a + i, b + i, ea - i) != 0)
			break;
		n++;
		i = ea + 1;
	}
	return n;
}

static const char tabs[] = "\t\t\t\t\t\t\t\t";

/* Closes the groups of the previous key that the next does not share, opens its own. */
static int
move_group(FILE *fp, const char *cur, size_t clen, const char *next, size_t nlen, int depth)
{
	int same = shared_depth(cur, clen, next, nlen), d = 0;
	size_t i = 0, e;

	while (depth > same)
		fprintf(fp, "%.*s};\n", --depth, tabs);
	while (i < nlen) {
		e = i + strcspn(next + i, ".");
		if (d++ >= same) {
			fprintf(fp, "%.*s%.*s = {\n", depth, tabs, (int)(e - i), next + i);
			depth++;
		}
		i = e + 1;
	}
	return depth;
}

void
conf_dump(const struct fkw_conf *cf, FILE *fp)
{
	const char *cur = "";
	size_t clen = 0;
	int depth = 0;

	fputs("# fkworker: effective configuration\n", fp);
	for (int k = 0; k < CK_NKEYS; k++) {
		const char *path = conf_schema[k].k_path;
		size_t glen = group_len(path);
		char ind[sizeof(tabs)];

		depth = move_group(fp, cur, clen, path, glen, depth);
		cur = path;
		clen = glen;
		snprintf(ind, sizeof(ind), "%.*s", depth, tabs);
		fprintf(fp, "%s# %s\n%s%s = ", ind, conf_schema[k].k_doc, ind,
		    glen ? path + glen + 1 : path);
		put_value(fp, cf, k, ind);
		fputs(";", fp);
		/* "auto" as resolved: what this configuration really opens. */
		if (k == CK_CONNECTIONS && cf->cf_connections_auto)
			fprintf(fp, "\t# = %d, and the master's heartbeat connection",
			    cf->cf_connections);
		put_env(fp, cf, k);
		fputs("\n", fp);
	}
	move_group(fp, cur, clen, "", 0, depth);
}
