/* SPDX-License-Identifier: MIT */
/* fkp: the Faktory worker protocol as pure functions (parser, encoders, handshake, URL). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fkp.h"

/* ---- replies ---- */

static ssize_t
perr(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* Finds the end of a line; 0 if incomplete, -1 if too long; *eol = index of LF, *cr = CR present. */
static int
find_line(const char *buf, size_t len, size_t *eol)
{
	size_t lim = len < FKP_MAX_LINE ? len : FKP_MAX_LINE;
	const char *nl = memchr(buf, '\n', lim);

	if (nl == NULL)
		return len >= FKP_MAX_LINE ? -1 : 0;
	*eol = (size_t)(nl - buf);
	return 1;
}

ssize_t
fkp_reply_parse(const char *buf, size_t len, size_t max_bulk, struct fkp_reply *r,
    char *err, size_t errlen)
{
	size_t eol, tl;
	int f;

	if (len == 0)
		return 0;
	if ((f = find_line(buf, len, &eol)) <= 0)
		return f == 0 ? 0 : perr(err, errlen, "reply line too long");
	tl = eol;			/* text length without the line end */
	if (tl > 0 && buf[tl - 1] == '\r')
		tl--;
	if (memchr(buf, '\0', tl) != NULL)
		return perr(err, errlen, "NUL byte in a reply line");
	memset(r, 0, sizeof(*r));
	switch (buf[0]) {
	case '+':
		r->r_type = FKP_R_SIMPLE;
		r->r_data = buf + 1;
		r->r_len = tl - 1;
		return (ssize_t)(eol + 1);
	case '-': {
		const char *sp;
		r->r_type = FKP_R_ERROR;
		r->r_data = buf + 1;
		r->r_len = tl - 1;
		sp = memchr(r->r_data, ' ', r->r_len);
		r->r_code = r->r_data;
		r->r_code_len = sp != NULL ? (size_t)(sp - r->r_data) : r->r_len;
		r->r_msg = sp != NULL ? sp + 1 : r->r_data + r->r_len;
		r->r_msg_len = r->r_len - (size_t)(r->r_msg - r->r_data);
		return (ssize_t)(eol + 1);
	}
	case ':':
	case '$': {
		long long v = 0;
		int neg = 0;
		size_t i = 1;

		if (i < tl && buf[i] == '-') {
			neg = 1;
			i++;
		}
		if (i >= tl)
			return perr(err, errlen, "missing number in reply");
		for (; i < tl; i++) {
			if (buf[i] < '0' || buf[i] > '9')
				return perr(err, errlen, "bad number in reply");
			if (v > (LLONG_MAX - 9) / 10)
				return perr(err, errlen, "number in reply too large");
			v = v * 10 + (buf[i] - '0');
		}
		if (neg)
			v = -v;
		if (buf[0] == ':') {
			r->r_type = FKP_R_INT;
			r->r_int = v;
			return (ssize_t)(eol + 1);
		}
		if (v == -1) {
			r->r_type = FKP_R_NULL;
			return (ssize_t)(eol + 1);
		}
		if (v < 0)
			return perr(err, errlen, "negative bulk length");
		if ((unsigned long long)v > max_bulk)
			return perr(err, errlen, "bulk reply larger than allowed");
		size_t body = eol + 1, n = (size_t)v;
		if (len - body < n + 1)
			return 0;
		/* The body ends in CRLF (or a bare LF). */
		if (buf[body + n] == '\n') {
			r->r_type = FKP_R_BULK;
			r->r_data = buf + body;
			r->r_len = n;
			return (ssize_t)(body + n + 1);
		}
		if (buf[body + n] != '\r')
			return perr(err, errlen, "bulk reply not followed by CRLF");
		if (len - body < n + 2)
			return 0;
		if (buf[body + n + 1] != '\n')
			return perr(err, errlen, "bulk reply not followed by CRLF");
		r->r_type = FKP_R_BULK;
		r->r_data = buf + body;
		r->r_len = n;
		return (ssize_t)(body + n + 2);
	}
	default:
		return perr(err, errlen, "unknown reply type");
	}
}

int
fkp_reply_is_error(const struct fkp_reply *r, const char *code)
{
	size_t n = strlen(code);

	return r->r_type == FKP_R_ERROR && r->r_code_len == n &&
	    memcmp(r->r_code, code, n) == 0;
}

/* ---- handshake ---- */

int
fkp_hi_parse(const char *text, size_t len, struct fkp_hi *hi, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o, *v, *s, *i;

	memset(hi, 0, sizeof(*hi));
	hi->hi_iter = 1;
	if (len < 4 || memcmp(text, "HI ", 3) != 0) {
		snprintf(err, errlen, "greeting does not start with \"HI \"");
		return -1;
	}
	if ((o = json_loadb(text + 3, len - 3, 0, &je)) == NULL || !json_is_object(o)) {
		snprintf(err, errlen, "greeting is not a JSON object%s%s",
		    o == NULL ? ": " : "", o == NULL ? je.text : "");
		json_decref(o);
		return -1;
	}
	v = json_object_get(o, "v");
	s = json_object_get(o, "s");
	i = json_object_get(o, "i");
	if ((v != NULL && !json_is_integer(v)) || (s != NULL && !json_is_string(s)) ||
	    (i != NULL && !json_is_integer(i))) {
		snprintf(err, errlen, "greeting has fields of the wrong type");
		json_decref(o);
		return -1;
	}
	hi->hi_v = v != NULL ? (int)json_integer_value(v) : 0;
	if (s != NULL) {
		if (json_string_length(s) >= sizeof(hi->hi_salt)) {
			snprintf(err, errlen, "greeting salt too long");
			json_decref(o);
			return -1;
		}
		memcpy(hi->hi_salt, json_string_value(s), json_string_length(s) + 1);
		hi->hi_has_salt = 1;
	}
	if (i != NULL)
		hi->hi_iter = (long)json_integer_value(i);
	json_decref(o);
	return 0;
}

void
fkp_pwdhash(const char *password, const char *salt, long iterations, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(d, 0, sizeof(d));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestUpdate(ctx, salt, strlen(salt)) == 1)
		EVP_DigestFinal_ex(ctx, d, NULL);
	EVP_MD_CTX_free(ctx);
	for (long k = 1; k < iterations; k++)
		SHA256(d, sizeof(d), d);
	for (int k = 0; k < SHA256_DIGEST_LENGTH; k++)
		snprintf(out + 2 * k, 3, "%02x", d[k]);
	out[64] = '\0';
}

/* ---- encoders ---- */

/* Appends "VERB " + compact JSON of o + CRLF; consumes the reference to o. */
static int
enc_json(struct buf *b, const char *verb, json_t *o)
{
	size_t n;
	int r = -1;

	if (o == NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	if (n > 0 && buf_puts(b, verb) == 0 && buf_append(b, " ", 1) == 0 &&
	    buf_reserve(b, n + 2) == 0) {
		json_dumpb(o, b->b_data + b->b_len, n, JSON_COMPACT);
		b->b_len += n;
		r = buf_append(b, "\r\n", 2);
	}
	json_decref(o);
	return r;
}

/* A JSON string from bytes that may not be valid UTF-8: invalid bytes become '?'. */
static json_t *
jstr(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *c;

	if (j != NULL || s == NULL)
		return j;
	if ((c = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		size_t len = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 :
		    (ch >> 3) == 30 ? 4 : 0;
		json_t *t = len > 0 && i + len <= n ? json_stringn(s + i, len) : NULL;
		if (t == NULL || ch == 0) {
			c[i++] = '?';
		} else {
			memcpy(c + i, s + i, len);
			i += len;
		}
		json_decref(t);
	}
	j = json_stringn(c, n);
	free(c);
	return j;
}

/* Cuts n bytes down to at most max without splitting a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int
fkp_enc_hello(struct buf *b, const struct fkp_hello *h)
{
	json_t *o = json_object(), *labels;

	if (o == NULL)
		return -1;
	if (h->h_wid != NULL && *h->h_wid != '\0') {
		json_object_set_new(o, "hostname", jstr(h->h_hostname ? h->h_hostname : "",
		    h->h_hostname ? strlen(h->h_hostname) : 0));
		json_object_set_new(o, "wid", jstr(h->h_wid, strlen(h->h_wid)));
		json_object_set_new(o, "pid", json_integer(h->h_pid));
		labels = json_array();
		for (int i = 0; i < h->h_nlabels; i++)
			json_array_append_new(labels, jstr(h->h_labels[i], strlen(h->h_labels[i])));
		json_object_set_new(o, "labels", labels);
	}
	if (h->h_pwdhash != NULL)
		json_object_set_new(o, "pwdhash", json_string(h->h_pwdhash));
	if (h->h_username != NULL && *h->h_username != '\0')
		json_object_set_new(o, "username", jstr(h->h_username, strlen(h->h_username)));
	json_object_set_new(o, "v", json_integer(2));
	return enc_json(b, "HELLO", o);
}

int
fkp_enc_fetch(struct buf *b, const char *const *queues, int n)
{
	if (n < 1) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (queues[i] == NULL || *queues[i] == '\0' ||
		    strpbrk(queues[i], " \r\n") != NULL) {
			errno = EINVAL;
			return -1;
		}
	if (buf_append(b, "FETCH", 5) == -1)
		return -1;
	for (int i = 0; i < n; i++)
		if (buf_append(b, " ", 1) == -1 || buf_puts(b, queues[i]) == -1)
			return -1;
	return buf_append(b, "\r\n", 2);
}

int
fkp_enc_ack(struct buf *b, const char *jid, size_t jidlen)
{
	size_t i;

	/* The hot path: a plain jid needs no escaping and no allocation. */
	for (i = 0; i < jidlen; i++) {
		unsigned char c = (unsigned char)jid[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			break;
	}
	if (i == jidlen) {
		if (buf_reserve(b, jidlen + 18) == -1)
			return -1;
		buf_append(b, "ACK {\"jid\":\"", 12);
		buf_append(b, jid, jidlen);
		return buf_append(b, "\"}\r\n", 4);
	}
	json_t *o = json_object();
	if (o == NULL)
		return -1;
	json_object_set_new(o, "jid", jstr(jid, jidlen));
	return enc_json(b, "ACK", o);
}

int
fkp_enc_fail(struct buf *b, const char *jid, size_t jidlen, const char *errtype,
    const char *message, const char *const *backtrace, int nbacktrace)
{
	json_t *o = json_object(), *bt;
	size_t n;

	if (o == NULL)
		return -1;
	if (errtype == NULL || *errtype == '\0')
		errtype = "unknown";
	if (message == NULL)
		message = "";
	json_object_set_new(o, "jid", jstr(jid, jidlen));
	n = utf8_cut(errtype, strlen(errtype), FKP_ERRTYPE_MAX);
	json_object_set_new(o, "errtype", jstr(errtype, n));
	n = utf8_cut(message, strlen(message), FKP_MESSAGE_MAX);
	json_object_set_new(o, "message", jstr(message, n));
	bt = json_array();
	for (int i = 0; backtrace != NULL && i < nbacktrace && i < FKP_BACKTRACE_MAX; i++)
		json_array_append_new(bt, jstr(backtrace[i], strlen(backtrace[i])));
	json_object_set_new(o, "backtrace", bt);
	return enc_json(b, "FAIL", o);
}

int
fkp_enc_beat(struct buf *b, const char *wid, long rss_kb, const char *state)
{
	json_t *o = json_object();

	if (o == NULL)
		return -1;
	json_object_set_new(o, "wid", jstr(wid, strlen(wid)));
	if (rss_kb >= 0)
		json_object_set_new(o, "rss_kb", json_integer(rss_kb));
	if (state != NULL && *state != '\0')
		json_object_set_new(o, "current_state", json_string(state));
	return enc_json(b, "BEAT", o);
}

static int
enc_raw(struct buf *b, const char *verb, const char *json, size_t len)
{
	if (len == 0 || memchr(json, '\r', len) != NULL || memchr(json, '\n', len) != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (buf_reserve(b, strlen(verb) + len + 3) == -1)
		return -1;
	buf_puts(b, verb);
	buf_append(b, " ", 1);
	buf_append(b, json, len);
	return buf_append(b, "\r\n", 2);
}

int
fkp_enc_push(struct buf *b, const char *job_json, size_t len)
{
	return enc_raw(b, "PUSH", job_json, len);
}

int
fkp_enc_pushb(struct buf *b, const char *array_json, size_t len)
{
	return enc_raw(b, "PUSHB", array_json, len);
}

int
fkp_enc_simple(struct buf *b, const char *verb)
{
	if (buf_puts(b, verb) == -1)
		return -1;
	return buf_append(b, "\r\n", 2);
}

/* ---- BEAT replies ---- */

static enum fkp_beat
beat_state(const char *s, size_t n)
{
	if (n == 5 && memcmp(s, "quiet", 5) == 0)
		return FKP_BEAT_QUIET;
	if (n == 9 && memcmp(s, "terminate", 9) == 0)
		return FKP_BEAT_TERMINATE;
	return FKP_BEAT_OK;
}

enum fkp_beat
fkp_beat_parse(const struct fkp_reply *r)
{
	json_t *o, *st;
	enum fkp_beat res;

	switch (r->r_type) {
	case FKP_R_ERROR:
		for (size_t i = 0; i + 14 <= r->r_len; i++)
			if (strncasecmp(r->r_data + i, "unknown worker", 14) == 0)
				return FKP_BEAT_UNKNOWN_WORKER;
		return FKP_BEAT_ERROR;
	case FKP_R_SIMPLE:
		if (r->r_len == 2 && memcmp(r->r_data, "OK", 2) == 0)
			return FKP_BEAT_OK;
		if (r->r_len > 0 && r->r_data[0] != '{')
			return beat_state(r->r_data, r->r_len);
		FKW_FALLTHROUGH;
	case FKP_R_BULK:
		if ((o = json_loadb(r->r_data, r->r_len, 0, NULL)) == NULL)
			return FKP_BEAT_ERROR;
		st = json_object_get(o, "state");
		res = json_is_string(st) ? beat_state(json_string_value(st),
		    json_string_length(st)) : FKP_BEAT_ERROR;
		json_decref(o);
		return res;
	default:
		return FKP_BEAT_ERROR;
	}
}

/* ---- URL ---- */

static int
pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			c = (char)strtol(hex, NULL, 16);
			if (c == '\0')
				return -1;
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int
url_err(char *err, size_t errlen, const char *msg, const char *url)
{
	snprintf(err, errlen, "faktory url \"%.200s\": %s", url, msg);
	return -1;
}

int
fkp_url_parse(const char *url, struct fkp_url *u, char *err, size_t errlen)
{
	const char *p = url, *at, *host, *hend, *port = NULL;
	size_t hlen;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "tcp://", 6) == 0) {
		p += 6;
	} else if (strncmp(p, "tcp+tls://", 10) == 0) {
		u->u_tls = 1;
		p += 10;
	} else if (strstr(p, "://") != NULL) {
		return url_err(err, errlen, "unsupported scheme, use tcp:// or tcp+tls://", url);
	}
	/* The authority ends at the first '/', if any path was given. */
	const char *end = p + strcspn(p, "/?#");
	if (*end != '\0' && strcmp(end, "/") != 0)
		return url_err(err, errlen, "unexpected path after host:port", url);
	at = memrchr(p, '@', (size_t)(end - p));
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *uend = colon != NULL ? colon : at;
		if (pct_decode(p, (size_t)(uend - p), u->u_user, sizeof(u->u_user)) == -1)
			return url_err(err, errlen, "bad user name (escape or length)", url);
		if (colon != NULL && pct_decode(colon + 1, (size_t)(at - colon - 1),
		    u->u_password, sizeof(u->u_password)) == -1)
			return url_err(err, errlen, "bad password (escape or length)", url);
		p = at + 1;
	}
	host = p;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL)
			return url_err(err, errlen, "unterminated [IPv6] address", url);
		host++;
		hlen = (size_t)(hend - host);
		hend++;
		if (hend < end && *hend == ':')
			port = hend + 1;
		else if (hend != end)
			return url_err(err, errlen, "junk after [IPv6] address", url);
	} else {
		hend = memchr(host, ':', (size_t)(end - host));
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
		hlen = (size_t)(hend - host);
	}
	if (hlen == 0)
		return url_err(err, errlen, "missing host", url);
	if (hlen >= sizeof(u->u_host))
		return url_err(err, errlen, "host name too long", url);
	memcpy(u->u_host, host, hlen);
	u->u_host[hlen] = '\0';
	if (port == NULL || port == end) {
		if (port == end)
			return url_err(err, errlen, "empty port", url);
		snprintf(u->u_port, sizeof(u->u_port), "%s", FKP_DEFAULT_PORT);
		return 0;
	}
	size_t plen = (size_t)(end - port);
	long v = 0;
	if (plen == 0 || plen > 5)
		return url_err(err, errlen, "port must be 1..65535", url);
	for (size_t i = 0; i < plen; i++) {
		if (port[i] < '0' || port[i] > '9')
			return url_err(err, errlen, "port must be 1..65535", url);
		v = v * 10 + (port[i] - '0');
	}
	if (v < 1 || v > 65535)
		return url_err(err, errlen, "port must be 1..65535", url);
	snprintf(u->u_port, sizeof(u->u_port), "%ld", v);
	return 0;
}

int
fkp_queue_name_ok(const char *name)
{
	if (name == NULL || *name == '\0')
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}
