/* SPDX-License-Identifier: MIT */
/*
 * brk_gojson: JSON as the real server (Go's encoding/json, Go 1.19) writes
 * and rejects it. jansson does the parsing; this file only adds what jansson
 * cannot do: Go's syntax error texts, Go's number and string formatting, and
 * Go's sorted map keys, which clients see byte for byte in replies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"

/* ---- syntax errors: a step-for-step copy of Go's scanner states ---- */

enum gs_state {
	GS_VALUE, GS_VALUE_OR_EMPTY, GS_KEY, GS_KEY_OR_EMPTY, GS_END, GS_STR,
	GS_ESC, GS_U1, GS_U2, GS_U3, GS_U4, GS_NEG, GS_ZERO, GS_INT, GS_DOT,
	GS_FRAC, GS_E, GS_ESIGN, GS_EXP, GS_LIT,
};

enum gs_ctx { GC_KEY, GC_OBJVAL, GC_ARRAY };

struct gscan {
	enum gs_state	 g_st;
	unsigned char	*g_stack;	/* enum gs_ctx per open bracket */
	size_t		 g_depth;
	size_t		 g_cap;
	const char	*g_lit;		/* the rest of true/false/null expected */
	const char	*g_litname;
	char		*g_err;
	size_t		 g_errlen;
};

/* Go's quoteChar: the byte as a one-character Go string literal in single quotes. */
static void
quote_char(unsigned char c, char *out, size_t len)
{
	if (c == '\'')
		snprintf(out, len, "'\\''");
	else if (c == '"')
		snprintf(out, len, "'\"'");
	else if (c == '\\')
		snprintf(out, len, "'\\\\'");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(out, len, "'%c'", c);
	else if (c == '\a' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
	    c == '\t' || c == '\v')
		snprintf(out, len, "'\\%c'", "abtnvfr"[c == '\a' ? 0 : c == '\b' ? 1 :
		    c == '\t' ? 2 : c == '\n' ? 3 : c == '\v' ? 4 : c == '\f' ? 5 : 6]);
	else if (c < 0x20 || c == 0x7f)
		snprintf(out, len, "'\\x%02x'", c);
	else if (c <= 0xa0 || c == 0xad)
		snprintf(out, len, "'\\u%04x'", c);	/* not printable as U+00XX */
	else
		snprintf(out, len, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
}

static int
gs_fail(struct gscan *g, unsigned char c, const char *ctx)
{
	char q[16];

	quote_char(c, q, sizeof(q));
	snprintf(g->g_err, g->g_errlen, "invalid character %s %s", q, ctx);
	return -1;
}

static int
gs_push(struct gscan *g, enum gs_ctx x)
{
	if (g->g_depth == 10000) {
		snprintf(g->g_err, g->g_errlen, "exceeded max depth");
		return -1;
	}
	if (g->g_depth == g->g_cap) {
		size_t cap = g->g_cap ? g->g_cap * 2 : 64;
		unsigned char *s = realloc(g->g_stack, cap);
		if (s == NULL) {
			snprintf(g->g_err, g->g_errlen, "out of memory");
			return -1;
		}
		g->g_stack = s;
		g->g_cap = cap;
	}
	g->g_stack[g->g_depth++] = (unsigned char)x;
	return 0;
}

static int
gs_isspace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int gs_step(struct gscan *, unsigned char);

/* stateEndValue: a value just ended; what may follow depends on the container. */
static int
gs_end(struct gscan *g, unsigned char c)
{
	if (g->g_depth == 0) {
		g->g_st = GS_END;
		if (!gs_isspace(c))
			return gs_fail(g, c, "after top-level value");
		return 0;
	}
	if (gs_isspace(c)) {
		g->g_st = GS_END;
		return 0;
	}
	switch (g->g_stack[g->g_depth - 1]) {
	case GC_KEY:
		if (c == ':') {
			g->g_stack[g->g_depth - 1] = GC_OBJVAL;
			g->g_st = GS_VALUE;
			return 0;
		}
		return gs_fail(g, c, "after object key");
	case GC_OBJVAL:
		if (c == ',') {
			g->g_stack[g->g_depth - 1] = GC_KEY;
			g->g_st = GS_KEY;
			return 0;
		}
		if (c == '}') {
			g->g_depth--;
			g->g_st = GS_END;
			return 0;
		}
		return gs_fail(g, c, "after object key:value pair");
	default:
		if (c == ',') {
			g->g_st = GS_VALUE;
			return 0;
		}
		if (c == ']') {
			g->g_depth--;
			g->g_st = GS_END;
			return 0;
		}
		return gs_fail(g, c, "after array element");
	}
}

static int
gs_begin_value(struct gscan *g, unsigned char c)
{
	if (gs_isspace(c))
		return 0;
	switch (c) {
	case '{':
		g->g_st = GS_KEY_OR_EMPTY;
		return gs_push(g, GC_KEY);
	case '[':
		g->g_st = GS_VALUE_OR_EMPTY;
		return gs_push(g, GC_ARRAY);
	case '"':
		g->g_st = GS_STR;
		return 0;
	case '-':
		g->g_st = GS_NEG;
		return 0;
	case '0':
		g->g_st = GS_ZERO;
		return 0;
	case 't':
		g->g_lit = "rue";
		g->g_litname = "true";
		g->g_st = GS_LIT;
		return 0;
	case 'f':
		g->g_lit = "alse";
		g->g_litname = "false";
		g->g_st = GS_LIT;
		return 0;
	case 'n':
		g->g_lit = "ull";
		g->g_litname = "null";
		g->g_st = GS_LIT;
		return 0;
	}
	if (c >= '1' && c <= '9') {
		g->g_st = GS_INT;
		return 0;
	}
	return gs_fail(g, c, "looking for beginning of value");
}

static int
gs_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
gs_number(struct gscan *g, unsigned char c)
{
	int digit = c >= '0' && c <= '9';

	switch (g->g_st) {
	case GS_NEG:
		if (c == '0') {
			g->g_st = GS_ZERO;
			return 0;
		}
		if (c >= '1' && c <= '9') {
			g->g_st = GS_INT;
			return 0;
		}
		return gs_fail(g, c, "in numeric literal");
	case GS_INT:
		if (digit)
			return 0;
		FKW_FALLTHROUGH;
	case GS_ZERO:
		if (c == '.') {
			g->g_st = GS_DOT;
			return 0;
		}
		if (c == 'e' || c == 'E') {
			g->g_st = GS_E;
			return 0;
		}
		return gs_end(g, c);
	case GS_DOT:
		if (digit) {
			g->g_st = GS_FRAC;
			return 0;
		}
		return gs_fail(g, c, "after decimal point in numeric literal");
	case GS_FRAC:
		if (digit)
			return 0;
		if (c == 'e' || c == 'E') {
			g->g_st = GS_E;
			return 0;
		}
		return gs_end(g, c);
	case GS_E:
		if (c == '+' || c == '-') {
			g->g_st = GS_ESIGN;
			return 0;
		}
		FKW_FALLTHROUGH;
	case GS_ESIGN:
		if (digit) {
			g->g_st = GS_EXP;
			return 0;
		}
		return gs_fail(g, c, "in exponent of numeric literal");
	default:
		if (digit)
			return 0;
		return gs_end(g, c);
	}
}

static int
gs_step(struct gscan *g, unsigned char c)
{
	char ctx[64];

	switch (g->g_st) {
	case GS_VALUE_OR_EMPTY:
		if (gs_isspace(c))
			return 0;
		if (c == ']')
			return gs_end(g, c);
		return gs_begin_value(g, c);
	case GS_VALUE:
		return gs_begin_value(g, c);
	case GS_KEY_OR_EMPTY:
		if (gs_isspace(c))
			return 0;
		if (c == '}') {
			g->g_stack[g->g_depth - 1] = GC_OBJVAL;
			return gs_end(g, c);
		}
		FKW_FALLTHROUGH;
	case GS_KEY:
		if (gs_isspace(c))
			return 0;
		if (c == '"') {
			g->g_st = GS_STR;
			return 0;
		}
		return gs_fail(g, c, "looking for beginning of object key string");
	case GS_END:
		return gs_end(g, c);
	case GS_STR:
		if (c == '"') {
			g->g_st = GS_END;
			return 0;
		}
		if (c == '\\') {
			g->g_st = GS_ESC;
			return 0;
		}
		if (c < 0x20)
			return gs_fail(g, c, "in string literal");
		return 0;
	case GS_ESC:
		if (strchr("bfnrt\\/\"", c) != NULL && c != '\0') {
			g->g_st = GS_STR;
			return 0;
		}
		if (c == 'u') {
			g->g_st = GS_U1;
			return 0;
		}
		return gs_fail(g, c, "in string escape code");
	case GS_U1:
	case GS_U2:
	case GS_U3:
	case GS_U4:
		if (!gs_hex(c))
			return gs_fail(g, c, "in \\u hexadecimal character escape");
		g->g_st = g->g_st == GS_U4 ? GS_STR : g->g_st + 1;
		return 0;
	case GS_LIT:
		if (c == (unsigned char)*g->g_lit) {
			if (*++g->g_lit == '\0')
				g->g_st = GS_END;
			return 0;
		}
		snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", g->g_litname,
		    *g->g_lit);
		return gs_fail(g, c, ctx);
	default:
		return gs_number(g, c);
	}
}

/* The error Go's checkValid reports for s, or 0 if Go would accept its syntax. */
static int
go_syntax(const char *s, size_t n, char *err, size_t errlen)
{
	struct gscan g;
	int r = 0;

	memset(&g, 0, sizeof(g));
	g.g_st = GS_VALUE;
	g.g_err = err;
	g.g_errlen = errlen;
	for (size_t i = 0; i < n && r == 0; i++) {
		/* The end state after the top value only accepts space. */
		if (g.g_st == GS_END && g.g_depth == 0 && !gs_isspace((unsigned char)s[i]))
			r = gs_fail(&g, (unsigned char)s[i], "after top-level value");
		else
			r = gs_step(&g, (unsigned char)s[i]);
	}
	/*
	 * As Go's eof(): one more space ends a pending number (or fails in a
	 * literal); anything still open then was cut short.
	 */
	if (r == 0)
		r = gs_step(&g, ' ');
	if (r == 0 && !(g.g_st == GS_END && g.g_depth == 0)) {
		snprintf(err, errlen, "unexpected end of JSON input");
		r = -1;
	}
	free(g.g_stack);
	return r;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one. */
static size_t
utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 :
	    (c >> 3) == 30 ? 4 : 0;
	unsigned v;

	if (len == 0 || len > n)
		return 0;
	for (size_t j = 1; j < len; j++)
		if (((unsigned char)s[j] & 0xc0) != 0x80)
			return 0;
	switch (len) {
	case 2:
		return c >= 0xc2 ? 2 : 0;
	case 3:
		v = ((c & 0x0fu) << 12) | (((unsigned char)s[1] & 0x3fu) << 6);
		return v >= 0x800 && (v < 0xd800 || v > 0xdfff) ? 3 : 0;
	case 4:
		v = ((c & 0x07u) << 18) | (((unsigned char)s[1] & 0x3fu) << 12);
		return v >= 0x10000 && v <= 0x10ffff ? 4 : 0;
	default:
		return 1;
	}
}

/* Bytes that are not UTF-8 become U+FFFD, as Go's decoder does; NULL: none. */
static char *
utf8_fix(const char *s, size_t n, size_t *outlen)
{
	char *o = malloc(n * 3 + 1);
	size_t k = 0;
	int changed = 0;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);
		if (len == 0) {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			changed = 1;
			continue;
		}
		memcpy(o + k, s + i, len);
		k += len;
		i += len;
	}
	if (!changed) {
		free(o);
		return NULL;
	}
	*outlen = k;
	return o;
}

json_t *
gojson_load(const char *s, size_t n, char *err, size_t errlen)
{
	const size_t fl = JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL;
	json_error_t je;
	json_t *j;
	char *fixed;
	size_t flen;

	if ((j = json_loadb(s, n, fl, &je)) != NULL)
		return j;
	if (go_syntax(s, n, err, errlen) == -1)
		return NULL;
	/* Go accepts it: the difference is bytes that are not UTF-8. */
	if ((fixed = utf8_fix(s, n, &flen)) != NULL) {
		j = json_loadb(fixed, flen, fl, &je);
		free(fixed);
		if (j != NULL)
			return j;
	}
	snprintf(err, errlen, "%s", je.text);
	return NULL;
}

/* ---- encoding ---- */

/*
 * ASCII Go writes as it is: not a control, '"', '\\', '<', '>' or '&'. A
 * bit per byte, as every string of every PUSHed job is scanned with it.
 */
static int
plain_ascii(unsigned char c)
{
	static const uint64_t lo = 0xafffffbb00000000ull, hi = 0xffffffffefffffffull;

	return c < 64 ? (int)(lo >> c & 1) : c < 128 ? (int)(hi >> (c - 64) & 1) : 0;
}

int
gojson_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	if (buf_reserve(b, n + 2) == -1 || buf_append(b, "\"", 1) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t el = 0, skip = 0;

		if (plain_ascii(c))
			continue;
		if (c >= 0x80) {
			size_t sl = utf8_len(s + i, n - i);
			/* U+2028 and U+2029 break JavaScript: Go escapes them. */
			if (sl == 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
			    ((unsigned char)s[i + 2] & 0xfe) == 0xa8) {
				memcpy(esc, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				el = 6;
				skip = 2;
			} else if (sl == 0) {
				/* A byte that is not UTF-8 (a cut message): Go writes U+FFFD. */
				memcpy(esc, "\\ufffd", 6);
				el = 6;
			} else {
				i += sl - 1;
				continue;
			}
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			el = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			el = 2;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		if (buf_append(b, s + start, i - start) == -1 || buf_append(b, esc, el) == -1)
			return -1;
		i += skip;
		start = i + 1;
	}
	if (buf_append(b, s + start, n - start) == -1)
		return -1;
	return buf_append(b, "\"", 1);
}

int
gojson_quote(struct buf *b, const char *s, size_t n)
{
	static const char esc[] = "\a\b\t\n\v\f\r";

	if (buf_append(b, "\"", 1) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c != 0 ? memchr(esc, c, sizeof(esc) - 1) : NULL;
		int r;

		if (e != NULL)
			r = buf_printf(b, "\\%c", "abtnvfr"[e - esc]);
		else if (c == '"' || c == '\\')
			r = buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			r = buf_printf(b, "\\x%02x", c);
		else
			r = buf_append(b, s + i, 1);
		if (r == -1)
			return -1;
	}
	return buf_append(b, "\"", 1);
}

/* The shortest decimal digits that read back as v: *exp is the decimal exponent. */
static int
shortest_digits(double v, char *digits, int *exp)
{
	char tmp[40];
	int nd = 0;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v || prec == 17)
			break;
	}
	/* tmp is d.ddde[+-]XX */
	for (const char *p = tmp; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	*exp = atoi(strchr(tmp, 'e') + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	return nd;
}

size_t
gojson_fmt_int(char *out, long long v)
{
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
	char r[24];
	size_t n = 0, k = 0;

	do {
		r[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		out[k++] = '-';
	while (n > 0)
		out[k++] = r[--n];
	return k;
}

int
gojson_num(struct buf *b, double v)
{
	char digits[24], out[64];
	int exp, nd, k = 0;
	double a = fabs(v);

	if (!isfinite(v))
		return buf_puts(b, "null");	/* cannot come from parsed JSON */
	if (v == 0)
		return buf_puts(b, signbit(v) ? "-0" : "0");
	/*
	 * Below 2^53 every integer is a double, so an integral value's shortest
	 * digits are its own: no search through snprintf and strtod.
	 */
	if (a < 9007199254740992.0 && v == floor(v))
		return buf_append(b, out, gojson_fmt_int(out, (long long)v));
	nd = shortest_digits(a, digits, &exp);
	if (v < 0)
		out[k++] = '-';
	if (a < 1e-6 || a >= 1e21) {
		/* 'e' format, exponent with at least two digits, then Go trims e-07 to e-7. */
		out[k++] = digits[0];
		if (nd > 1) {
			out[k++] = '.';
			memcpy(out + k, digits + 1, (size_t)nd - 1);
			k += nd - 1;
		}
		k += snprintf(out + k, sizeof(out) - (size_t)k, "e%c%02d", exp < 0 ? '-' : '+',
		    exp < 0 ? -exp : exp);
		if (k >= 4 && out[k - 4] == 'e' && out[k - 3] == '-' && out[k - 2] == '0') {
			out[k - 2] = out[k - 1];
			k--;
		}
		return buf_append(b, out, (size_t)k);
	}
	if (exp >= 0) {
		for (int i = 0; i <= exp || i < nd; i++) {
			if (i == exp + 1)
				out[k++] = '.';
			out[k++] = i < nd ? digits[i] : '0';
		}
	} else {
		out[k++] = '0';
		out[k++] = '.';
		for (int i = 0; i < -exp - 1; i++)
			out[k++] = '0';
		memcpy(out + k, digits, (size_t)nd);
		k += nd;
	}
	return buf_append(b, out, (size_t)k);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
enc_object(struct buf *b, const json_t *o)
{
	size_t n = json_object_size(o), i = 0;
	const char **keys, *k;
	json_t *v;
	int r = 0;

	if (n == 0)
		return buf_puts(b, "{}");
	if ((keys = malloc(n * sizeof(*keys))) == NULL)
		return -1;
	json_object_foreach((json_t *)(uintptr_t)o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), key_cmp);
	r = buf_append(b, "{", 1);
	for (i = 0; i < n && r == 0; i++) {
		if (i > 0)
			r = buf_append(b, ",", 1);
		if (r == 0)
			r = gojson_str(b, keys[i], strlen(keys[i]));
		if (r == 0)
			r = buf_append(b, ":", 1);
		if (r == 0)
			r = gojson_value(b, json_object_get(o, keys[i]));
	}
	free(keys);
	return r == 0 ? buf_append(b, "}", 1) : -1;
}

int
gojson_value(struct buf *b, const json_t *v)
{
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return enc_object(b, v);
	case JSON_ARRAY:
		if (buf_append(b, "[", 1) == -1)
			return -1;
		for (i = 0; i < json_array_size(v); i++)
			if ((i > 0 && buf_append(b, ",", 1) == -1) ||
			    gojson_value(b, json_array_get(v, i)) == -1)
				return -1;
		return buf_append(b, "]", 1);
	case JSON_STRING:
		return gojson_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return gojson_num(b, (double)json_integer_value(v));
	case JSON_REAL:
		return gojson_num(b, json_real_value(v));
	case JSON_TRUE:
		return buf_puts(b, "true");
	case JSON_FALSE:
		return buf_puts(b, "false");
	default:
		return buf_puts(b, "null");
	}
}

const char *
gojson_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}
