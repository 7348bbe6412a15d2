/* SPDX-License-Identifier: MIT */
/*
 * conf_diff: whether two configurations differ only in what a running child
 * takes live (its active slots), so that a reload can apply them without
 * replacing the children. Compared key by key through the schema table, by
 * the values conf_dump writes (conf_changes_key, the reload's diff), so a
 * key added later is compared without touching this file.
 */
#include <string.h>

#include "conf_int.h"

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
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
		if (!is_live_key(k) && conf_changes_key(old, new, k) != 0)
			return 0;
	}
	return 1;
}
