/* SPDX-License-Identifier: MIT */
/*
 * conf_diff: whether two configurations differ only in what a running child
 * takes live (its active slots), so that a reload can apply them without
 * replacing the children. Compared key by key through the schema table, so
 * a key added later is compared without touching this file.
 */
#include <string.h>

#include "conf_int.h"

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int
strv_eq(char *const *a, int na, char *const *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

static int
queues_eq(const struct fkw_conf *a, const struct fkw_conf *b)
{
	if (a->cf_nqueues != b->cf_nqueues || a->cf_weighted != b->cf_weighted)
		return 0;
	for (int i = 0; i < a->cf_nqueues; i++)
		if (!str_eq(a->cf_queues[i].q_name, b->cf_queues[i].q_name) ||
		    a->cf_queues[i].q_weight != b->cf_queues[i].q_weight)
			return 0;
	return 1;
}

static int
handler_eq(const struct conf_handler *a, const struct conf_handler *b)
{
	return str_eq(a->h_jobtype, b->h_jobtype) && a->h_kind == b->h_kind &&
	    str_eq(a->h_builtin, b->h_builtin) && str_eq(a->h_plugin, b->h_plugin) &&
	    a->h_timeout == b->h_timeout && strv_eq(a->h_argv, a->h_argc, b->h_argv, b->h_argc);
}

static int
handlers_eq(const struct fkw_conf *a, const struct fkw_conf *b)
{
	if (a->cf_nhandlers != b->cf_nhandlers)
		return 0;
	for (int i = 0; i < a->cf_nhandlers; i++)
		if (!handler_eq(&a->cf_handlers[i], &b->cf_handlers[i]))
			return 0;
	return 1;
}

static int
key_eq(const struct fkw_conf *a, const struct fkw_conf *b, int k)
{
	const struct conf_key *ck = &conf_schema[k];
	const char *pa = (const char *)a + ck->k_off, *pb = (const char *)b + ck->k_off;

	switch (ck->k_type) {
	case CONF_T_STR:
	case CONF_T_SECRET:
		return str_eq(*(char *const *)pa, *(char *const *)pb);
	case CONF_T_INT64:
		return *(const long long *)pa == *(const long long *)pb;
	case CONF_T_SIZE:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case CONF_T_QUEUES:
		return queues_eq(a, b);
	case CONF_T_LABELS:
		return strv_eq(a->cf_labels, a->cf_nlabels, b->cf_labels, b->cf_nlabels);
	case CONF_T_HANDLERS:
		return handlers_eq(a, b);
	default:
		/* Every other type is an int as resolved (cpus, connections: the counts). */
		return *(const int *)pa == *(const int *)pb;
	}
}

/* Keys a running child takes live: the master steers its active slots. */
static int
is_live_key(int k)
{
	return k == CK_CONCURRENCY || k == CK_CONCURRENCY_MIN || k == CK_CPU_TARGET ||
	    k == CK_AUTO_INTERVAL;
}

int
conf_live_only(const struct fkw_conf *old, const struct fkw_conf *new)
{
	/* The URL's password and the password file resolve into cf_password and cf_purl. */
	if (!str_eq(old->cf_password, new->cf_password) ||
	    !str_eq(old->cf_purl.u_host, new->cf_purl.u_host) ||
	    !str_eq(old->cf_purl.u_port, new->cf_purl.u_port) ||
	    !str_eq(old->cf_purl.u_user, new->cf_purl.u_user) ||
	    old->cf_purl.u_tls != new->cf_purl.u_tls)
		return 0;
	for (int k = 0; k < CK_NKEYS; k++) {
		/*
		 * "auto" connections follow concurrency; the children keep those
		 * they opened at start, which the raised or lowered slots share.
		 */
		if (k == CK_CONNECTIONS && old->cf_connections_auto && new->cf_connections_auto)
			continue;
		if (!is_live_key(k) && !key_eq(old, new, k))
			return 0;
	}
	return 1;
}
