/* SPDX-License-Identifier: MIT */
/*
 * conf_hint: messages that say more than libconfig does. An unknown key
 * gets "did you mean" a key of the same group; a parse error shows the line
 * libconfig stopped at, and a duplicate setting names the key. libconfig
 * gives only a line number, so the line is read back from the file (or the
 * text) it parsed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

#define HINT_MAX_LINE	160	/* of a quoted line, in bytes */

/* Levenshtein distance, capped: anything above cap counts as cap + 1. */
static size_t
distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), row[64], diag, up, best;

	if (la >= FKW_NELEM(row) || lb >= FKW_NELEM(row) ||
	    (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

const char *
conf_hint_closest(const char *name, const char *const *names, size_t n)
{
	/* A third of the name's length, at least 1 and at most 3 edits. */
	size_t cap = strlen(name) / 3, d, best_d;
	const char *best = NULL;

	cap = cap < 1 ? 1 : cap > 3 ? 3 : cap;
	best_d = cap + 1;
	for (size_t i = 0; i < n; i++)
		if ((d = distance(name, names[i], cap)) < best_d) {
			best_d = d;
			best = names[i];
		}
	return best;
}

/*
 * The keys and groups directly under group g (length glen) of the schema,
 * as names, into names[] (at most max); returns how many.
 */
static size_t
level_names(const char *g, size_t glen, char names[][64], size_t max)
{
	size_t n = 0, len;
	const char *p;

	for (int k = 0; k < CK_NKEYS && n < max; k++) {
		p = conf_schema[k].k_path;
		if (glen > 0 && (strncmp(p, g, glen) != 0 || p[glen] != '.'))
			continue;
		p += glen > 0 ? glen + 1 : 0;
		len = strcspn(p, ".");
		if (len >= sizeof(names[0]))
			continue;
		snprintf(names[n], sizeof(names[0]), "%.*s", (int)len, p);
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], names[n]) == 0) {
				n--;
				break;
			}
		n++;
	}
	return n;
}

const char *
conf_hint_key(const char *path, char *buf, size_t len)
{
	char names[CK_NKEYS][64];
	const char *v[CK_NKEYS], *leaf = strrchr(path, '.'), *best;
	size_t glen = leaf != NULL ? (size_t)(leaf - path) : 0, n;

	leaf = leaf != NULL ? leaf + 1 : path;
	n = level_names(path, glen, names, FKW_NELEM(names));
	for (size_t i = 0; i < n; i++)
		v[i] = names[i];
	if ((best = conf_hint_closest(leaf, v, n)) == NULL)
		return "";
	snprintf(buf, len, " (did you mean `%.*s%s%s`?)", (int)glen, path, glen ? "." : "",
	    best);
	return buf;
}

/* Line number line (from 1) of text, without its newline, into buf. */
static int
text_line(const char *text, int line, char *buf, size_t len)
{
	const char *p = text;

	for (int i = 1; i < line && p != NULL; i++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL)
		return -1;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return 0;
}

static int
file_line(const char *file, int line, char *buf, size_t len)
{
	char chunk[4096];
	FILE *fp;
	int n = 1, rc = -1;

	if ((fp = fopen(file, "re")) == NULL)
		return -1;
	/* Long lines arrive in several chunks: only a chunk after a newline starts one. */
	for (int start = 1; fgets(chunk, sizeof(chunk), fp) != NULL; ) {
		int ends = strchr(chunk, '\n') != NULL;

		if (n == line && start) {
			snprintf(buf, len, "%.*s", (int)strcspn(chunk, "\n"), chunk);
			rc = 0;
			break;
		}
		n += ends;
		start = ends;
	}
	fclose(fp);
	return rc;
}

/* The line trimmed and made printable, shortened to HINT_MAX_LINE with "...". */
static void
tidy(char *s)
{
	size_t b = strspn(s, " \t"), n;

	memmove(s, s + b, strlen(s + b) + 1);
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (n > HINT_MAX_LINE)
		memcpy(s + HINT_MAX_LINE - 3, "...", 4);
}

/*
 * The setting name a "duplicate setting name" line repeats: a name set twice
 * on the line, else the line's first name ("name =" or "name :").
 */
static int
dup_name(const char *line, char *out, size_t len)
{
	char names[16][64];
	int n = 0;

	for (const char *p = line; *p != '\0' && n < 16; ) {
		size_t w = 0;

		if (isalpha((unsigned char)*p) || *p == '*') {
			w = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-*");
			const char *q = p + w + strspn(p + w, " \t");
			if ((*q == '=' || *q == ':') && w < sizeof(names[0])) {
				snprintf(names[n], sizeof(names[0]), "%.*s", (int)w, p);
				for (int i = 0; i < n; i++)
					if (strcmp(names[i], names[n]) == 0) {
						snprintf(out, len, "%s", names[n]);
						return 0;
					}
				n++;
			}
		} else if (*p == '"') {
			/* Skip strings: a name inside one is not a setting. */
			for (w = 1; p[w] != '\0' && p[w] != '"'; w++)
				if (p[w] == '\\' && p[w + 1] != '\0')
					w++;
			w += p[w] == '"';
		}
		p += w > 0 ? w : 1;
	}
	if (n == 0)
		return -1;
	snprintf(out, len, "%s", names[0]);
	return 0;
}

void
conf_hint_syntax(struct conf_ctx *cx, const char *file, const char *text, int line,
    const char *what)
{
	char buf[HINT_MAX_LINE * 4], name[64];
	int got;

	got = text != NULL && strcmp(file, cx->cx_name) == 0 ? text_line(text, line, buf,
	    sizeof(buf)) : file_line(file, line, buf, sizeof(buf));
	if (got == -1) {
		conf_errf(cx, "%s:%d: %s", file, line, what);
		return;
	}
	tidy(buf);
	if (strcmp(what, "duplicate setting name") == 0 &&
	    dup_name(buf, name, sizeof(name)) == 0)
		conf_errf(cx, "%s:%d: duplicate setting name `%s` (a group may set each key "
		    "once): `%s`", file, line, name, buf);
	else if (buf[0] == '\0')
		conf_errf(cx, "%s:%d: %s (at an empty line: an earlier line is not finished, "
		    "or the file ends too soon)", file, line, what);
	else
		conf_errf(cx, "%s:%d: %s in `%s`", file, line, what, buf);
}
