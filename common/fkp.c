/* SPDX-License-Identifier: MIT */
/* fkp: the Faktory worker protocol as pure functions (parser, encoders, handshake, URL). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fkp.h"

#define NUM_MAX_DIGITS	20	/* a length or integer reply, leading zeros included */

static int __attribute__((format(printf, 3, 4)))
ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ==== Replies ==== */

/*
 * Finds the end of the line at buf: 1 with *text (bytes before CR LF or LF)
 * and *used (bytes including the line end), 0 if incomplete, -1 if the line
 * is or must become longer than FKP_MAX_LINE. Only the first FKP_MAX_LINE + 2
 * bytes are ever looked at, so a server that never sends LF is caught early.
 */
static int
line_end(const char *buf, size_t len, size_t *text, size_t *used)
{
	size_t lim = len < FKP_MAX_LINE + 2 ? len : FKP_MAX_LINE + 2;
	const char *nl = memchr(buf, '\n', lim);
	size_t eol;

	if (nl == NULL) {
		if (len > FKP_MAX_LINE + 1 ||
		    (len == FKP_MAX_LINE + 1 && buf[FKP_MAX_LINE] != '\r'))
			return -1;
		return 0;
	}
	eol = (size_t)(nl - buf);
	*text = eol > 0 && buf[eol - 1] == '\r' ? eol - 1 : eol;
	*used = eol + 1;
	return *text > FKP_MAX_LINE ? -1 : 1;
}

/* "+text" or "-CODE message". */
static ssize_t
parse_line(const char *buf, size_t len, struct fkp_reply *r, char *err, size_t errlen)
{
	size_t tl, used;
	const char *sp;
	int f;

	if ((f = line_end(buf, len, &tl, &used)) <= 0)
		return f == 0 ? 0 : ferr(err, errlen, "reply line longer than %u bytes",
		    FKP_MAX_LINE);
	if (memchr(buf, '\0', tl) != NULL)
		return ferr(err, errlen, "NUL byte in a reply line");
	r->r_data = buf + 1;
	r->r_len = tl - 1;
	if (buf[0] == '+') {
		r->r_type = FKP_R_SIMPLE;
		return (ssize_t)used;
	}
	r->r_type = FKP_R_ERROR;
	sp = memchr(r->r_data, ' ', r->r_len);
	r->r_code = r->r_data;
	r->r_code_len = sp != NULL ? (size_t)(sp - r->r_data) : r->r_len;
	r->r_msg = sp != NULL ? sp + 1 : r->r_data + r->r_len;
	r->r_msg_len = r->r_len - (size_t)(r->r_msg - r->r_data);
	return (ssize_t)used;
}

/*
 * The number and line end after '$' or ':'. Returns the header length, 0 if
 * incomplete or -1. Checked byte by byte so "$abc" or a length over the limit
 * fails on the first byte that makes it so, not after a line end that a
 * hostile server may never send. Magnitudes above pos_max (neg_max when
 * negative) are refused.
 */
static ssize_t
parse_num(const char *buf, size_t len, unsigned long long pos_max,
    unsigned long long neg_max, long long *out, char *err, size_t errlen)
{
	unsigned long long v = 0, max = pos_max;
	size_t i = 1, start;
	int neg = 0;

	if (i < len && buf[i] == '-') {
		neg = 1;
		max = neg_max;
		i++;
	}
	for (start = i; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		unsigned d = (unsigned)(buf[i] - '0');

		if (i - start >= NUM_MAX_DIGITS)
			return ferr(err, errlen, "number in reply too long");
		if (d > max || v > (max - d) / 10)
			return ferr(err, errlen, "%s in reply out of range",
			    buf[0] != '$' ? "integer" : neg ? "negative bulk length" :
			    "bulk length");
		v = v * 10 + d;
	}
	if (i == len)
		return 0;
	if (i == start)
		return ferr(err, errlen, "missing number after '%c'", buf[0]);
	if (buf[i] == '\r') {
		if (++i == len)
			return 0;
	}
	if (buf[i] != '\n')
		return ferr(err, errlen, "bad character in reply number");
	*out = neg ? -(long long)v : (long long)v;
	return (ssize_t)(i + 1);
}

static ssize_t
parse_bulk(const char *buf, size_t len, size_t max_bulk, struct fkp_reply *r,
    char *err, size_t errlen)
{
	unsigned long long lim = max_bulk < LLONG_MAX ? max_bulk : LLONG_MAX;
	long long v = 0;
	ssize_t h;
	size_t n, body;

	/* Of the negative lengths only -1 (the null bulk) exists. */
	if ((h = parse_num(buf, len, lim, 1, &v, err, errlen)) <= 0)
		return h;
	if (v == -1) {
		r->r_type = FKP_R_NULL;
		return h;
	}
	if (v < 0 || (v == 0 && buf[1] == '-'))
		return ferr(err, errlen, "negative bulk length");
	body = (size_t)h;
	n = (size_t)v;
	if (len - body < n + 1)
		return 0;
	r->r_type = FKP_R_BULK;
	r->r_data = buf + body;
	r->r_len = n;
	if (buf[body + n] == '\n')
		return (ssize_t)(body + n + 1);
	if (buf[body + n] != '\r')
		return ferr(err, errlen, "bulk reply not followed by CRLF");
	if (len - body < n + 2)
		return 0;
	if (buf[body + n + 1] != '\n')
		return ferr(err, errlen, "bulk reply not followed by CRLF");
	return (ssize_t)(body + n + 2);
}

ssize_t
fkp_reply_parse(const char *buf, size_t len, size_t max_bulk, struct fkp_reply *r,
    char *err, size_t errlen)
{
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return 0;
	switch (buf[0]) {
	case '+':
	case '-':
		return parse_line(buf, len, r, err, errlen);
	case '$':
		return parse_bulk(buf, len, max_bulk, r, err, errlen);
	case ':':
		if ((n = parse_num(buf, len, LLONG_MAX, LLONG_MAX, &r->r_int, err,
		    errlen)) > 0)
			r->r_type = FKP_R_INT;
		return n;
	default:
		return ferr(err, errlen, "unknown reply type byte 0x%02x",
		    (unsigned char)buf[0]);
	}
}

ssize_t
fkp_bulk_oversize(const char *buf, size_t len, size_t max_bulk, size_t *body_len)
{
	char err[8];
	long long v = 0;
	ssize_t h;

	if (len == 0)
		return 0;
	if (buf[0] != '$')
		return -1;
	if ((h = parse_num(buf, len, FKP_MAX_BULK_SKIP, 0, &v, err, sizeof(err))) <= 0)
		return h;
	if (v < 0 || (unsigned long long)v <= max_bulk)
		return -1;
	*body_len = (size_t)v;
	return h;
}

int
fkp_reply_is_error(const struct fkp_reply *r, const char *code)
{
	size_t n = strlen(code);

	return r->r_type == FKP_R_ERROR && r->r_code_len == n &&
	    memcmp(r->r_code, code, n) == 0;
}

/* ==== Handshake ==== */

static int
hi_fields(json_t *o, struct fkp_hi *hi, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "v"), *s = json_object_get(o, "s");
	json_t *i = json_object_get(o, "i");
	json_int_t n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 || n > 255)
		return ferr(err, errlen, "greeting has no protocol version \"v\" (0..255)");
	hi->hi_v = (int)n;
	if (i != NULL) {
		if (!json_is_integer(i) || (n = json_integer_value(i)) < 1 ||
		    n > FKP_HI_ITER_MAX)
			return ferr(err, errlen, "greeting \"i\" is not an integer in 1..%d",
			    FKP_HI_ITER_MAX);
		hi->hi_iter = (long)n;
	}
	if (s == NULL)
		return 0;
	if (!json_is_string(s))
		return ferr(err, errlen, "greeting salt \"s\" is not a string");
	/* jansson refuses \u0000 by default, so the length is the C string's. */
	if (json_string_length(s) >= sizeof(hi->hi_salt))
		return ferr(err, errlen, "greeting salt longer than %zu bytes",
		    sizeof(hi->hi_salt) - 1);
	memcpy(hi->hi_salt, json_string_value(s), json_string_length(s) + 1);
	hi->hi_has_salt = 1;
	return 0;
}

int
fkp_hi_parse(const char *text, size_t len, struct fkp_hi *hi, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	int rc;

	memset(hi, 0, sizeof(*hi));
	hi->hi_iter = 1;
	if (len < 3 || memcmp(text, "HI ", 3) != 0)
		return ferr(err, errlen, "greeting does not start with \"HI \"");
	if ((o = json_loadb(text + 3, len - 3, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return ferr(err, errlen, "greeting JSON: %s", je.text);
	if (!json_is_object(o))
		rc = ferr(err, errlen, "greeting JSON is not an object");
	else
		rc = hi_fields(o, hi, err, errlen);
	json_decref(o);
	return rc;
}

void
fkp_pwdhash(const char *password, const char *salt, long iterations, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	password = password != NULL ? password : "";
	salt = salt != NULL ? salt : "";
	ok = md != NULL && ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestUpdate(ctx, salt, strlen(salt)) == 1 &&
	    EVP_DigestFinal_ex(ctx, d, &dl) == 1 && dl == 32;
	/* Later rounds hash the raw digest, not its hex text. */
	for (long k = 1; ok && k < iterations; k++)
		ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		    EVP_DigestUpdate(ctx, d, 32) == 1 &&
		    EVP_DigestFinal_ex(ctx, d, &dl) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	out[0] = '\0';
	if (!ok)
		return;
	for (int k = 0; k < 32; k++) {
		out[2 * k] = hex[d[k] >> 4];
		out[2 * k + 1] = hex[d[k] & 0xf];
	}
	out[64] = '\0';
}

/* ==== UTF-8 ==== */

/* Length of the well-formed UTF-8 character at s (RFC 3629, as jansson checks it), or 0. */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 :
	    s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	unsigned long cp;

	if (len < 2)
		return len;
	if (n < len)
		return 0;
	cp = s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Copies whole characters of s[0..n) to out while they fit in max bytes,
 * each byte that is not part of a well-formed character becoming '?', so the
 * result is valid UTF-8 and never ends inside a character. Returns its length.
 */
static size_t
utf8_clean(const char *s, size_t n, size_t max, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	/* Replacement is byte for byte, so input and output offsets agree. */
	while (i < n) {
		if ((k = utf8_char(u + i, n - i)) == 0) {
			if (i + 1 > max)
				break;
			out[i++] = '?';
			continue;
		}
		if (i + k > max)
			break;
		memcpy(out + i, s + i, k);
		i += k;
	}
	return i;
}

/* A JSON string of at most max bytes of s[0..n), made valid UTF-8 first. */
static json_t *
jstr(const char *s, size_t n, size_t max)
{
	json_t *j;
	char *c;

	if (s == NULL)
		s = "";
	if (n <= max && (j = json_stringn(s, n)) != NULL)
		return j;
	if ((c = malloc(n < max ? n : max)) == NULL)
		return NULL;
	j = json_stringn(c, utf8_clean(s, n, max, c));
	free(c);
	return j;
}

static json_t *
jcstr(const char *s)
{
	return jstr(s, s != NULL ? strlen(s) : 0, SIZE_MAX);
}

/* ==== Encoders ==== */

/* Sets o[key] = v, taking v; a NULL v (allocation failure) is an error. */
static int
jset(json_t *o, const char *key, json_t *v)
{
	if (o == NULL || v == NULL) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static int
dump_cb(const char *p, size_t n, void *data)
{
	return buf_append(data, p, n);
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/*
 * Appends "VERB " + compact JSON of o + CRLF and drops the reference to o.
 * bad != 0 means building o failed. jansson escapes control characters in
 * strings, so the JSON holds no raw CR or LF. Nothing is appended on failure.
 */
static int
enc_json(struct buf *b, const char *verb, json_t *o, int bad)
{
	size_t keep = buf_rlen(b);
	int rc = -1;

	if (o != NULL && !bad && buf_puts(b, verb) == 0 && buf_append(b, " ", 1) == 0 &&
	    json_dump_callback(o, dump_cb, b, JSON_COMPACT) == 0)
		rc = buf_append(b, "\r\n", 2);
	json_decref(o);
	if (rc == -1) {
		b->b_len = b->b_off + keep;
		errno = ENOMEM;
	}
	return rc;
}

int
fkp_enc_hello(struct buf *b, const struct fkp_hello *h)
{
	json_t *o, *labels;
	int bad = 0;

	if (h == NULL)
		return einval();
	o = json_object();
	/* A producer sends no identity: the server would track it as a process. */
	if (h->h_wid != NULL && h->h_wid[0] != '\0') {
		bad |= jset(o, "hostname", jcstr(h->h_hostname));
		bad |= jset(o, "wid", jcstr(h->h_wid));
		bad |= jset(o, "pid", json_integer(h->h_pid));
		labels = json_array();
		for (int i = 0; labels != NULL && h->h_labels != NULL && i < h->h_nlabels; i++)
			bad |= json_array_append_new(labels, jcstr(h->h_labels[i]));
		bad |= jset(o, "labels", labels);
	}
	if (h->h_pwdhash != NULL && h->h_pwdhash[0] != '\0')
		bad |= jset(o, "pwdhash", jcstr(h->h_pwdhash));
	if (h->h_username != NULL && h->h_username[0] != '\0')
		bad |= jset(o, "username", jcstr(h->h_username));
	bad |= jset(o, "v", json_integer(2));
	return enc_json(b, "HELLO", o, bad);
}

int
fkp_enc_fetch(struct buf *b, const char *const *queues, int n)
{
	size_t need = 7;	/* "FETCH" and CRLF */
	char *p;

	if (queues == NULL || n < 1)
		return einval();
	for (int i = 0; i < n; i++) {
		if (queues[i] == NULL || queues[i][0] == '\0' ||
		    strpbrk(queues[i], " \r\n") != NULL)
			return einval();
		need += strlen(queues[i]) + 1;
	}
	if (buf_reserve(b, need) == -1)
		return -1;
	p = mempcpy(b->b_data + b->b_len, "FETCH", 5);
	for (int i = 0; i < n; i++) {
		*p++ = ' ';
		p = mempcpy(p, queues[i], strlen(queues[i]));
	}
	memcpy(p, "\r\n", 2);
	b->b_len += need;
	return 0;
}

int
fkp_enc_ack(struct buf *b, const char *jid, size_t jidlen)
{
	json_t *o;
	size_t i;
	char *p;

	if (jid == NULL && jidlen > 0)
		return einval();
	/* The hot path: a plain jid needs no escaping and no allocation. */
	for (i = 0; i < jidlen; i++)
		if (jid[i] < 0x20 || jid[i] > 0x7e || jid[i] == '"' || jid[i] == '\\')
			break;
	if (i < jidlen) {
		o = json_object();
		return enc_json(b, "ACK", o, jset(o, "jid", jstr(jid, jidlen, SIZE_MAX)));
	}
	if (buf_reserve(b, jidlen + 16) == -1)
		return -1;
	p = b->b_data + b->b_len;
	memcpy(p, "ACK {\"jid\":\"", 12);
	if (jidlen > 0)
		memcpy(p + 12, jid, jidlen);
	memcpy(p + 12 + jidlen, "\"}\r\n", 4);
	b->b_len += jidlen + 16;
	return 0;
}

int
fkp_enc_fail(struct buf *b, const char *jid, size_t jidlen, const char *errtype,
    const char *message, const char *const *backtrace, int nbacktrace)
{
	json_t *o, *bt;
	int bad = 0;

	if (jid == NULL && jidlen > 0)
		return einval();
	if (errtype == NULL || errtype[0] == '\0')
		errtype = "unknown";
	if (message == NULL)
		message = "";
	o = json_object();
	bad |= jset(o, "jid", jstr(jid, jidlen, SIZE_MAX));
	bad |= jset(o, "errtype", jstr(errtype, strlen(errtype), FKP_ERRTYPE_MAX));
	bad |= jset(o, "message", jstr(message, strlen(message), FKP_MESSAGE_MAX));
	bt = json_array();
	for (int i = 0; bt != NULL && backtrace != NULL && i < nbacktrace &&
	    i < FKP_BACKTRACE_MAX; i++)
		bad |= json_array_append_new(bt, jcstr(backtrace[i]));
	bad |= jset(o, "backtrace", bt);
	return enc_json(b, "FAIL", o, bad);
}

int
fkp_enc_beat(struct buf *b, const char *wid, long rss_kb, const char *state)
{
	json_t *o;
	int bad = 0;

	if (wid == NULL || wid[0] == '\0')
		return einval();
	if (state != NULL && state[0] != '\0' && strcmp(state, "quiet") != 0 &&
	    strcmp(state, "terminate") != 0)
		return einval();
	o = json_object();
	bad |= jset(o, "wid", jcstr(wid));
	if (rss_kb >= 0)
		bad |= jset(o, "rss_kb", json_integer(rss_kb));
	if (state != NULL && state[0] != '\0')
		bad |= jset(o, "current_state", json_string(state));
	return enc_json(b, "BEAT", o, bad);
}

/* "VERB arg\r\n" with arg taken as is; it must be one non-empty line. */
static int
enc_line(struct buf *b, const char *verb, const char *arg, size_t len)
{
	size_t vl = strlen(verb);
	char *p;

	if (arg == NULL || len == 0 || memchr(arg, '\r', len) != NULL ||
	    memchr(arg, '\n', len) != NULL || memchr(arg, '\0', len) != NULL)
		return einval();
	if (buf_reserve(b, vl + len + 3) == -1)
		return -1;
	p = b->b_data + b->b_len;
	memcpy(p, verb, vl);
	p[vl] = ' ';
	memcpy(p + vl + 1, arg, len);
	memcpy(p + vl + 1 + len, "\r\n", 2);
	b->b_len += vl + len + 3;
	return 0;
}

int
fkp_enc_push(struct buf *b, const char *job_json, size_t len)
{
	return enc_line(b, "PUSH", job_json, len);
}

int
fkp_enc_pushb(struct buf *b, const char *array_json, size_t len)
{
	return enc_line(b, "PUSHB", array_json, len);
}

int
fkp_enc_simple(struct buf *b, const char *verb)
{
	size_t keep = buf_rlen(b);

	if (verb == NULL || verb[0] == '\0' || strpbrk(verb, "\r\n") != NULL)
		return einval();
	if (buf_puts(b, verb) == -1 || buf_append(b, "\r\n", 2) == -1) {
		b->b_len = b->b_off + keep;
		return -1;
	}
	return 0;
}

/* ==== BEAT replies ==== */

/* A state word; unknown words are an error unless they came as JSON. */
static enum fkp_beat
beat_word(const char *s, size_t n, enum fkp_beat other)
{
	if (n == 5 && memcmp(s, "quiet", 5) == 0)
		return FKP_BEAT_QUIET;
	if (n == 9 && memcmp(s, "terminate", 9) == 0)
		return FKP_BEAT_TERMINATE;
	if ((n == 2 && memcmp(s, "OK", 2) == 0) || (n == 7 && memcmp(s, "running", 7) == 0))
		return FKP_BEAT_OK;
	return other;
}

static enum fkp_beat
beat_json(const char *s, size_t n)
{
	json_t *o = json_loadb(s, n, 0, NULL), *st;
	enum fkp_beat res = FKP_BEAT_ERROR;

	st = json_object_get(o, "state");
	/* States only move forward; one we do not know changes nothing. */
	if (json_is_string(st))
		res = beat_word(json_string_value(st), json_string_length(st), FKP_BEAT_OK);
	json_decref(o);
	return res;
}

enum fkp_beat
fkp_beat_parse(const struct fkp_reply *r)
{
	switch (r->r_type) {
	case FKP_R_ERROR:
		/* Servers before 1.6.1 said "Unknown worker". */
		for (size_t i = 0; i + 14 <= r->r_len; i++)
			if (strncasecmp(r->r_data + i, "unknown worker", 14) == 0)
				return FKP_BEAT_UNKNOWN_WORKER;
		return FKP_BEAT_ERROR;
	case FKP_R_SIMPLE:
		if (r->r_len > 0 && r->r_data[0] == '{')
			return beat_json(r->r_data, r->r_len);
		return beat_word(r->r_data, r->r_len, FKP_BEAT_ERROR);
	case FKP_R_BULK:
		return beat_json(r->r_data, r->r_len);
	default:
		return FKP_BEAT_ERROR;
	}
}

/* ==== FAKTORY_URL ==== */

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) into out; -1 on a bad escape, a %00 or no room. */
static int
pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0 || (hi | lo) == 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Skips "tcp://" or "tcp+tls://"; a string with no "scheme://" is tcp. NULL on error. */
static const char *
url_scheme(const char *url, struct fkp_url *u, char *err, size_t errlen)
{
	size_t n = 0;

	if ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z'))
		n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if (n == 0 || strncmp(url + n, "://", 3) != 0)
		return url;
	if (n == 3 && strncasecmp(url, "tcp", 3) == 0)
		return url + 6;
	if (n == 7 && strncasecmp(url, "tcp+tls", 7) == 0) {
		u->u_tls = 1;
		return url + 10;
	}
	ferr(err, errlen, "faktory url: unsupported scheme '%.*s', use tcp:// or tcp+tls://",
	    (int)(n > 32 ? 32 : n), url);
	return NULL;
}

static int
url_userinfo(const char *p, const char *at, struct fkp_url *u, char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', (size_t)(at - p));
	const char *uend = colon != NULL ? colon : at;

	if (pct_decode(p, (size_t)(uend - p), u->u_user, sizeof(u->u_user)) == -1)
		return ferr(err, errlen, "faktory url: bad percent escape in the user name, "
		    "or longer than %zu bytes", sizeof(u->u_user) - 1);
	if (colon != NULL && pct_decode(colon + 1, (size_t)(at - colon - 1),
	    u->u_password, sizeof(u->u_password)) == -1)
		return ferr(err, errlen, "faktory url: bad percent escape in the password, "
		    "or longer than %zu bytes", sizeof(u->u_password) - 1);
	return 0;
}

static int
url_port(const char *port, const char *end, struct fkp_url *u, char *err, size_t errlen)
{
	size_t n = (size_t)(end - port);
	char digits[6];
	const char *es;
	long long v;

	if (n > 0 && n < sizeof(digits)) {
		memcpy(digits, port, n);
		digits[n] = '\0';
		if (parse_ll(digits, 1, 65535, &v, &es) == 0) {
			snprintf(u->u_port, sizeof(u->u_port), "%lld", v);
			return 0;
		}
	}
	return ferr(err, errlen, "faktory url: port '%.*s' is not a number from 1 to 65535",
	    (int)(n > 16 ? 16 : n), port);
}

/* host, host:port, [v6] or [v6]:port in p[0..end). */
static int
url_hostport(const char *p, const char *end, struct fkp_url *u, char *err, size_t errlen)
{
	const char *host = p, *hend, *port = NULL;

	if (*p == '[') {
		host++;
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
			return ferr(err, errlen, "faktory url: missing ']' after the IPv6 address");
		if (hend + 1 < end && hend[1] == ':')
			port = hend + 2;
		else if (hend + 1 != end)
			return ferr(err, errlen, "faktory url: junk after the IPv6 address");
	} else {
		hend = memchr(p, ':', (size_t)(end - p));
		if (hend != NULL && memchr(hend + 1, ':', (size_t)(end - hend - 1)) != NULL)
			return ferr(err, errlen, "faktory url: an IPv6 address must be in brackets");
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
	}
	if (hend == host)
		return ferr(err, errlen, "faktory url: missing host");
	if ((size_t)(hend - host) >= sizeof(u->u_host))
		return ferr(err, errlen, "faktory url: host longer than %zu bytes",
		    sizeof(u->u_host) - 1);
	if (memchr(host, '[', (size_t)(hend - host)) != NULL ||
	    memchr(host, ']', (size_t)(hend - host)) != NULL)
		return ferr(err, errlen, "faktory url: misplaced '[' or ']' in the host");
	memcpy(u->u_host, host, (size_t)(hend - host));
	if (port == NULL) {
		memcpy(u->u_port, FKP_DEFAULT_PORT, sizeof(FKP_DEFAULT_PORT));
		return 0;
	}
	return url_port(port, end, u, err, errlen);
}

int
fkp_url_parse(const char *url, struct fkp_url *u, char *err, size_t errlen)
{
	const char *p, *end, *at;

	memset(u, 0, sizeof(*u));
	if (url == NULL || url[0] == '\0')
		return ferr(err, errlen, "faktory url: empty");
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return ferr(err, errlen, "faktory url: contains a space or control character");
	if ((p = url_scheme(url, u, err, errlen)) == NULL)
		return -1;
	end = p + strcspn(p, "/?#");
	if (*end != '\0' && strcmp(end, "/") != 0)
		return ferr(err, errlen, "faktory url: unexpected path or query after host:port");
	/* The last '@' ends the user info, as in Go's url.Parse. */
	if ((at = memrchr(p, '@', (size_t)(end - p))) != NULL) {
		if (url_userinfo(p, at, u, err, errlen) == -1)
			goto fail;
		p = at + 1;
	}
	if (url_hostport(p, end, u, err, errlen) == 0)
		return 0;
fail:
	memset(u, 0, sizeof(*u));
	return -1;
}

int
fkp_queue_name_ok(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-";

	return name != NULL && name[0] != '\0' && name[strspn(name, ok)] == '\0';
}
