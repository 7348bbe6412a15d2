/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: server bytes through the reply parser (reply after reply,
 * as a connection consumes them, skipping bulks that are only too large), each reply through the HI and BEAT parsers,
 * the input as a FAKTORY_URL, and the input as caller strings through the
 * encoders, which must always produce one line of JSON that decodes.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_BULK	(1u << 16)

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_fkp: %s\n", what);
		abort();
	}
}

/* A shorter prefix of a reply is never an error and never a reply. */
static void
prefix(const char *buf, size_t k)
{
	char *copy = malloc(k > 0 ? k : 1), err[128];
	struct fkp_reply r;

	check(copy != NULL, "malloc");
	memcpy(copy, buf, k);
	check(fkp_reply_parse(copy, k, FUZZ_MAX_BULK, &r, err, sizeof(err)) == 0,
	    "a prefix of a reply parsed as something");
	free(copy);
}

static void
within(const char *p, size_t n, const char *lo, size_t len, const char *what)
{
	check(n == 0 || (p >= lo && p + n <= lo + len), what);
}

static void
one_reply(const char *buf, size_t n, const struct fkp_reply *r)
{
	struct fkp_hi hi;
	char err[128];

	within(r->r_data, r->r_len, buf, n, "r_data outside the reply");
	if (r->r_type == FKP_R_ERROR) {
		within(r->r_code, r->r_code_len, buf, n, "r_code outside the reply");
		within(r->r_msg, r->r_msg_len, buf, n, "r_msg outside the reply");
	}
	if (r->r_type == FKP_R_BULK)
		check(r->r_len <= FUZZ_MAX_BULK, "bulk above max_bulk");
	(void)fkp_reply_is_error(r, "ERR");
	(void)fkp_beat_parse(r);
	if (r->r_type == FKP_R_SIMPLE && fkp_hi_parse(r->r_data, r->r_len, &hi, err,
	    sizeof(err)) == 0)
		check(memchr(hi.hi_salt, '\0', sizeof(hi.hi_salt)) != NULL &&
		    hi.hi_iter >= 1 && hi.hi_iter <= FKP_HI_ITER_MAX, "bad fkp_hi");
	prefix(buf, n - 1);
	prefix(buf, n / 2);
}

/* A refused bulk that is only too large: the bytes fkc skips, or 0. */
static ssize_t
oversize(const char *buf, size_t size)
{
	size_t body = 0;
	ssize_t h = fkp_bulk_oversize(buf, size, FUZZ_MAX_BULK, &body);

	if (h <= 0)
		return 0;
	check((size_t)h <= size && buf[0] == '$', "oversize header outside the input");
	check(body > FUZZ_MAX_BULK && body <= FKP_MAX_BULK_SKIP, "oversize length");
	if (body + 2 >= size - (size_t)h)
		return (ssize_t)size;
	return h + (ssize_t)body + 2;
}

static void
replies(const char *buf, size_t size)
{
	struct fkp_reply r;
	char err[128];
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		err[0] = '\0';
		n = fkp_reply_parse(buf + off, size - off, FUZZ_MAX_BULK, &r, err, sizeof(err));
		if (n < 0 && (n = oversize(buf + off, size - off)) > 0) {
			/* As fkc does: the header, then the body and CRLF dropped unread. */
			off += (size_t)n;
			continue;
		}
		if (n <= 0) {
			check(n == 0 || (err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL),
			    "-1 without a message");
			return;
		}
		check((size_t)n <= size - off, "reply longer than the input");
		one_reply(buf + off, (size_t)n, &r);
		off += (size_t)n;
	}
}

static void
url(const char *s)
{
	struct fkp_url u;
	char err[256];
	long port;

	if (fkp_url_parse(s, &u, err, sizeof(err)) == -1) {
		check(strncmp(err, "faktory url: ", 13) == 0, "url error without prefix");
		return;
	}
	port = strtol(u.u_port, NULL, 10);
	check(u.u_host[0] != '\0' && port >= 1 && port <= 65535, "bad parsed url");
}

/* b holds "VERB {json}\r\n" and nothing else; returns the decoded JSON. */
static json_t *
line(struct buf *b, const char *verb)
{
	const char *p = buf_rptr(b);
	size_t n = buf_rlen(b), vl = strlen(verb);
	json_t *o;

	check(n >= vl + 3 && memcmp(p, verb, vl) == 0 && p[vl] == ' ', "bad verb");
	check(memcmp(p + n - 2, "\r\n", 2) == 0, "no CRLF");
	check(memchr(p, '\r', n - 2) == NULL && memchr(p, '\n', n - 2) == NULL, "raw CR/LF");
	o = json_loadb(p + vl + 1, n - vl - 3, JSON_ALLOW_NUL, NULL);
	check(json_is_object(o), "payload is not a JSON object");
	buf_reset(b);
	return o;
}

/* Encoded bytes equal the input except where '?' replaced an invalid byte. */
static void
same_or_q(json_t *s, const char *in, size_t n, size_t max)
{
	const char *v = json_string_value(s);
	size_t len = json_string_length(s);

	check(v != NULL && len <= n && len <= max && (len == n || n > max), "bad length");
	for (size_t i = 0; i < len; i++)
		check(v[i] == in[i] || v[i] == '?', "string changed");
}

static void
encoders(const char *s, size_t size)
{
	const char *bt[] = { s, s };
	struct fkp_hello h = { s, s, 1, bt, 2, NULL, s };
	struct buf b;
	json_t *o;
	size_t slen = strlen(s);

	buf_init(&b);
	check(fkp_enc_ack(&b, s, size) == 0, "ACK failed");
	o = line(&b, "ACK");
	same_or_q(json_object_get(o, "jid"), s, size, size);
	json_decref(o);
	check(fkp_enc_fail(&b, s, size, s, s, bt, 2) == 0, "FAIL failed");
	o = line(&b, "FAIL");
	check(json_object_size(o) == 4, "FAIL keys");
	if (slen > 0)
		same_or_q(json_object_get(o, "errtype"), s, slen, FKP_ERRTYPE_MAX);
	same_or_q(json_object_get(o, "message"), s, slen, FKP_MESSAGE_MAX);
	json_decref(o);
	check(fkp_enc_hello(&b, &h) == 0, "HELLO failed");
	json_decref(line(&b, "HELLO"));
	if (slen > 0) {
		check(fkp_enc_beat(&b, s, (long)size - 1, NULL) == 0, "BEAT failed");
		json_decref(line(&b, "BEAT"));
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	replies((const char *)data, size);
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	url(s);
	encoders(s, size);
	(void)fkp_queue_name_ok(s);
	free(s);
	return 0;
}
