/* SPDX-License-Identifier: MIT */
/*
 * conf_changes: what changed between two loaded configurations, key by key,
 * for the reload's log line and fkworkerctl reload. Values are written as
 * conf_dump writes them (one line each), so a secret never shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* Key k's value on one line: conf_dump's text with its line breaks and tabs folded. */
static char *
value_text(const struct fkw_conf *cf, int k)
{
	char *s = NULL, *r, *w;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	if (fp == NULL)
		return NULL;
	conf_dump_value(cf, k, fp);
	if (fclose(fp) != 0) {
		free(s);
		return NULL;
	}
	for (r = w = s; *r != '\0'; r++) {
		if (*r == '\n' || *r == '\t') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

/* Raw strings compared where the shown text hides the difference (masked values). */
static int
hidden_differs(const struct fkw_conf *a, const struct fkw_conf *b, int k)
{
	const char *x, *y;

	if (conf_schema[k].k_type != CONF_T_SECRET && k != CK_URL)
		return 0;
	x = *(char *const *)(const void *)((const char *)a + conf_schema[k].k_off);
	y = *(char *const *)(const void *)((const char *)b + conf_schema[k].k_off);
	return strcmp(x != NULL ? x : "", y != NULL ? y : "") != 0;
}

static int
diff_key(FILE *fp, const struct fkw_conf *a, const struct fkw_conf *b, int k, int *n)
{
	char *x = value_text(a, k), *y = value_text(b, k);
	int r = 0;

	if (x == NULL || y == NULL) {
		r = -1;
	} else if (strcmp(x, y) != 0 && conf_schema[k].k_type != CONF_T_SECRET) {
		fprintf(fp, "%s%s: %s -> %s", (*n)++ ? "\n" : "", conf_schema[k].k_path, x, y);
	} else if (hidden_differs(a, b, k)) {
		fprintf(fp, "%s%s: changed", (*n)++ ? "\n" : "", conf_schema[k].k_path);
	}
	free(x);
	free(y);
	return r;
}

int
conf_changes_key(const struct fkw_conf *a, const struct fkw_conf *b, int k)
{
	char *x = value_text(a, k), *y = value_text(b, k);
	int r = x == NULL || y == NULL ? -1 : strcmp(x, y) != 0 || hidden_differs(a, b, k);

	free(x);
	free(y);
	return r;
}

char *
conf_changes(const struct fkw_conf *a, const struct fkw_conf *b)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);
	int n = 0, r = 0;

	if (fp == NULL)
		return NULL;
	for (int k = 0; k < CK_NKEYS && r == 0; k++)
		r = diff_key(fp, a, b, k, &n);
	if (fclose(fp) != 0 || r == -1) {
		free(s);
		return NULL;
	}
	return s;
}
