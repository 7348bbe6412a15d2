/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/fkp.c: the reply parser (every reply at every byte
 * split, pipelining, errors, malformed input, limits), the handshake (HI,
 * password hash), BEAT replies, URLs and queue names. The command encoders are
 * in test_fkp_enc.c. Wire bytes marked "transcript" are copied from the
 * captured real-server sessions (docs/faktory-transcripts/).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkp.h"
#include "unit_util.h"

#define S(lit)	lit, sizeof(lit) - 1

/* transcript 01: the FETCH reply */
static const char fetch202[] =
    "$202\r\n{\"retry\":25,\"custom\":{\"k\":\"v\"},\"jid\":\"s01-job-00000001\","
    "\"queue\":\"default\",\"jobtype\":\"SomeJob\",\"created_at\":"
    "\"2026-11-28T07:06:15.957888035Z\",\"enqueued_at\":"
    "\"2026-11-28T07:06:15.958057266Z\",\"args\":[1,\"x\"]}\r\n";

/*
 * Parses the first n bytes of s from a heap copy of exactly n bytes, so a
 * read past the end shows under ASan or valgrind.
 */
static ssize_t
parse_n(const char *s, size_t n, size_t max_bulk, struct fkp_reply *r, char *err,
    size_t errlen)
{
	char *copy = malloc(n > 0 ? n : 1);
	ssize_t rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, n);
	err[0] = '\0';
	rc = fkp_reply_parse(copy, n, max_bulk, r, err, errlen);
	/* Pointers into the copy die with it; make them point into s instead. */
	if (rc > 0) {
		if (r->r_data != NULL)
			r->r_data = s + (r->r_data - copy);
		if (r->r_code != NULL)
			r->r_code = s + (r->r_code - copy);
		if (r->r_msg != NULL)
			r->r_msg = s + (r->r_msg - copy);
	}
	free(copy);
	return rc;
}

static ssize_t
parse1(const char *s, size_t n, struct fkp_reply *r)
{
	char err[128];

	return parse_n(s, n, FKP_MAX_BULK_DEFAULT, r, err, sizeof(err));
}

static void
assert_data(const struct fkp_reply *r, const char *want)
{
	ck_assert_uint_eq(r->r_len, strlen(want));
	ck_assert(memcmp(r->r_data, want, r->r_len) == 0);
}

/* ---- every reply at every byte split ---- */

struct sample {
	const char	*sm_bytes;
	size_t		 sm_len;
	enum fkp_rtype	 sm_type;
	const char	*sm_data;	/* NULL: not checked */
};

static const struct sample samples[] = {
	{ S("+OK\r\n"), FKP_R_SIMPLE, "OK" },
	{ S("+HI {\"v\":2}\r\n"), FKP_R_SIMPLE, "HI {\"v\":2}" },
	{ S("+OK\n"), FKP_R_SIMPLE, "OK" },
	{ S("+\r\n"), FKP_R_SIMPLE, "" },
	{ S("-ERR unknown command BOGUS\r\n"), FKP_R_ERROR, "ERR unknown command BOGUS" },
	{ S("-NOTUNIQUE Job not unique\r\n"), FKP_R_ERROR, "NOTUNIQUE Job not unique" },
	{ fetch202, sizeof(fetch202) - 1, FKP_R_BULK, NULL },
	{ S("$17\r\n{\"state\":\"quiet\"}\r\n"), FKP_R_BULK, "{\"state\":\"quiet\"}" },
	{ S("$2\r\n{}\r\n"), FKP_R_BULK, "{}" },
	{ S("$0\r\n\r\n"), FKP_R_BULK, "" },
	{ S("$4\r\na\r\nb\r\n"), FKP_R_BULK, "a\r\nb" },
	{ S("$3\nabc\n"), FKP_R_BULK, "abc" },
	{ S("$-1\r\n"), FKP_R_NULL, NULL },
	{ S(":42\r\n"), FKP_R_INT, NULL },
	{ S(":-7\n"), FKP_R_INT, NULL },
};

static void
check_sample(const struct sample *sm, const struct fkp_reply *r)
{
	ck_assert_int_eq(r->r_type, sm->sm_type);
	if (sm->sm_data != NULL)
		assert_data(r, sm->sm_data);
}

START_TEST(test_every_split)
{
	const struct sample *sm = &samples[_i];
	struct fkp_reply r;

	for (size_t k = 0; k < sm->sm_len; k++)
		ck_assert_msg(parse1(sm->sm_bytes, k, &r) == 0, "sample %d, %zu bytes", _i, k);
	ck_assert_int_eq(parse1(sm->sm_bytes, sm->sm_len, &r), (ssize_t)sm->sm_len);
	check_sample(sm, &r);
}
END_TEST

/* Two replies back to back: the first comes out alone, then the second. */
START_TEST(test_pipelined_pairs)
{
	const struct sample *a = &samples[_i];
	const struct sample *b = &samples[(_i + 5) % FKW_NELEM(samples)];
	size_t n = a->sm_len + b->sm_len;
	char *two = malloc(n);
	struct fkp_reply r;
	ssize_t got;

	ck_assert_ptr_nonnull(two);
	memcpy(two, a->sm_bytes, a->sm_len);
	memcpy(two + a->sm_len, b->sm_bytes, b->sm_len);
	for (size_t k = 0; k <= n; k++) {
		got = parse1(two, k, &r);
		ck_assert_int_eq(got, k < a->sm_len ? 0 : (ssize_t)a->sm_len);
		if (got == 0)
			continue;
		check_sample(a, &r);
		got = parse1(two + a->sm_len, k - a->sm_len, &r);
		ck_assert_int_eq(got, k < n ? 0 : (ssize_t)b->sm_len);
		if (got > 0)
			check_sample(b, &r);
	}
	free(two);
}
END_TEST

START_TEST(test_transcript_bytes)
{
	struct fkp_reply r;

	ck_assert_int_eq(parse1(S("+HI {\"v\":2}\r\n"), &r), 13);
	ck_assert_int_eq(r.r_type, FKP_R_SIMPLE);
	assert_data(&r, "HI {\"v\":2}");

	ck_assert_int_eq(parse1(fetch202, sizeof(fetch202) - 1, &r), sizeof(fetch202) - 1);
	ck_assert_int_eq(r.r_type, FKP_R_BULK);
	ck_assert_uint_eq(r.r_len, 202);
	ck_assert(r.r_data == fetch202 + 6);
	ck_assert(memcmp(r.r_data, "{\"retry\":25,", 11) == 0);
	ck_assert(memcmp(r.r_data + 202 - 15, "\"args\":[1,\"x\"]}", 15) == 0);

	ck_assert_int_eq(parse1(S(":42\r\n"), &r), 5);
	ck_assert_int_eq(r.r_int, 42);
	ck_assert_int_eq(parse1(S(":-7\n"), &r), 4);
	ck_assert_int_eq(r.r_int, -7);
	ck_assert_int_eq(parse1(S(":9223372036854775807\r\n"), &r), 22);
	ck_assert(r.r_int == 9223372036854775807LL);
}
END_TEST

static const struct {
	const char	*e_bytes, *e_code, *e_msg;
} errors[] = {
	{ "-ERR unknown command BOGUS\r\n", "ERR", "unknown command BOGUS" },
	{ "-NOTUNIQUE Job not unique\r\n", "NOTUNIQUE", "Job not unique" },
	{ "-ERR unknown worker \r\n", "ERR", "unknown worker " },	/* transcript 09 */
	{ "-ERR\r\n", "ERR", "" },
	{ "- lone\n", "", "lone" },
};

START_TEST(test_error_split)
{
	const char *bytes = errors[_i].e_bytes;
	struct fkp_reply r;

	ck_assert_int_eq(parse1(bytes, strlen(bytes), &r), (ssize_t)strlen(bytes));
	ck_assert_int_eq(r.r_type, FKP_R_ERROR);
	ck_assert_uint_eq(r.r_code_len, strlen(errors[_i].e_code));
	ck_assert(memcmp(r.r_code, errors[_i].e_code, r.r_code_len) == 0);
	ck_assert_uint_eq(r.r_msg_len, strlen(errors[_i].e_msg));
	ck_assert(memcmp(r.r_msg, errors[_i].e_msg, r.r_msg_len) == 0);
	ck_assert_int_eq(fkp_reply_is_error(&r, errors[_i].e_code), 1);
	ck_assert_int_eq(fkp_reply_is_error(&r, "ER"), 0);
	ck_assert_int_eq(fkp_reply_is_error(&r, "NOTUNIQUEX"), 0);
	ck_assert_int_gt(parse1(S("+ERR x\r\n"), &r), 0);
	ck_assert_int_eq(fkp_reply_is_error(&r, "ERR"), 0);
}
END_TEST

static const struct {
	const char	*bad;
	size_t		 len;
} malformed[] = {
	{ S("?x\r\n") },
	{ S("?") },			/* refused before a line end arrives */
	{ S("\r\n") },
	{ S("$abc\r\n") },
	{ S("$a") },
	{ S("$-2\r\n") },
	{ S("$-0\r\n") },
	{ S("$-\r\n") },
	{ S("$\r\n") },
	{ S("$12a\r\n") },
	{ S("$1\r\r\n") },
	{ S("$99999999999999999999\r\n") },
	{ S("$999999999999") },		/* over max_bulk already */
	{ S("$00000000000000000000001\r\n") },
	{ S("$3\r\nabcXY") },
	{ S("$3\r\nabcX") },		/* wrong before the next byte comes */
	{ S("$3\r\nabc\rX") },
	{ S(":\r\n") },
	{ S(":9223372036854775808\r\n") },
	{ S(":1x\r\n") },
	{ S("+a\0b\r\n") },
	{ S("-ERR \0\r\n") },
};

START_TEST(test_malformed)
{
	struct fkp_reply r;
	char err[128];

	err[0] = '\0';
	ck_assert_msg(parse_n(malformed[_i].bad, malformed[_i].len, FKP_MAX_BULK_DEFAULT,
	    &r, err, sizeof(err)) == -1, "malformed[%d] accepted", _i);
	ck_assert_msg(err[0] != '\0', "malformed[%d]: no message", _i);
}
END_TEST

START_TEST(test_max_bulk)
{
	struct fkp_reply r;
	char err[128];

	ck_assert_int_eq(parse_n(S("$11\r\nhello world\r\n"), 10, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bulk"));
	ck_assert_int_eq(parse_n(S("$10\r\nhello worl\r\n"), 10, &r, err, sizeof(err)), 17);
	/* refused as soon as the digits say so */
	ck_assert_int_eq(parse_n(S("$11"), 10, &r, err, sizeof(err)), -1);
	ck_assert_int_eq(parse_n(S("$1"), 10, &r, err, sizeof(err)), 0);
}
END_TEST

/* A bulk refused for its size only: the header fkc skips it by. */
START_TEST(test_bulk_oversize)
{
	size_t body = 0;

	ck_assert_int_eq(fkp_bulk_oversize(S("$11\r\nhello world\r\n"), 10, &body), 5);
	ck_assert_uint_eq(body, 11);
	ck_assert_int_eq(fkp_bulk_oversize(S("$11\n"), 10, &body), 4);
	/* not yet known: wait for the line end */
	ck_assert_int_eq(fkp_bulk_oversize(S("$11"), 10, &body), 0);
	ck_assert_int_eq(fkp_bulk_oversize(S(""), 10, &body), 0);
	/* within the limit, not a bulk, null, bad, or beyond what is ever skipped */
	ck_assert_int_eq(fkp_bulk_oversize(S("$10\r\n"), 10, &body), -1);
	ck_assert_int_eq(fkp_bulk_oversize(S("+OK\r\n"), 10, &body), -1);
	ck_assert_int_eq(fkp_bulk_oversize(S("$-1\r\n"), 10, &body), -1);
	ck_assert_int_eq(fkp_bulk_oversize(S("$1x\r\n"), 10, &body), -1);
	ck_assert_int_eq(fkp_bulk_oversize(S("$1073741825\r\n"), 10, &body), -1);
	ck_assert_int_eq(fkp_bulk_oversize(S("$1073741824\r\n"), 10, &body), 13);
	ck_assert_int_eq(fkp_bulk_oversize(S("$99999999999"), 10, &body), -1);
}
END_TEST

START_TEST(test_long_line)
{
	size_t n = FKP_MAX_LINE + 8;
	char *b = malloc(n);
	struct fkp_reply r;
	char err[128];

	ck_assert_ptr_nonnull(b);
	memset(b, 'a', n);
	b[0] = '+';
	/* FKP_MAX_LINE bytes of text: fine, with or without the CR yet */
	memcpy(b + FKP_MAX_LINE, "\r\n", 2);
	ck_assert_int_eq(parse1(b, FKP_MAX_LINE, &r), 0);
	ck_assert_int_eq(parse1(b, FKP_MAX_LINE + 1, &r), 0);
	ck_assert_int_eq(parse1(b, FKP_MAX_LINE + 2, &r), FKP_MAX_LINE + 2);
	ck_assert_uint_eq(r.r_len, FKP_MAX_LINE - 1);
	/* one byte more and no LF: refused without waiting for the rest */
	b[FKP_MAX_LINE] = 'a';
	ck_assert_int_eq(parse_n(b, FKP_MAX_LINE + 1, FKP_MAX_BULK_DEFAULT, &r, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer"));
	ck_assert_int_eq(parse1(b, FKP_MAX_LINE + 2, &r), -1);	/* LF one byte late */
	b[FKP_MAX_LINE + 1] = 'a';
	ck_assert_int_eq(parse1(b, n, &r), -1);
	b[0] = '-';
	ck_assert_int_eq(parse1(b, n, &r), -1);
	free(b);
}
END_TEST

/* ---- handshake ---- */

START_TEST(test_pwdhash_vectors)
{
	char out[65];

	fkp_pwdhash("s3cret", "5f3a1c9e27b4d680", 4321, out);
	ck_assert_str_eq(out, "004d32a23c5ec6eafd0ffeedba67746f2a0d31d9df6117d3cc3ef847e6df46bc");
	fkp_pwdhash("s3cret", "5f3a1c9e27b4d680", 1, out);
	ck_assert_str_eq(out, "3cb8736ef222617cd5bc4b7d3dd9130c85646ecb5421bec49fea4b3af57bf404");
	fkp_pwdhash("s3cret", "5f3a1c9e27b4d680", 0, out);
	ck_assert_str_eq(out, "3cb8736ef222617cd5bc4b7d3dd9130c85646ecb5421bec49fea4b3af57bf404");
	fkp_pwdhash("s3cret", "5f3a1c9e27b4d680", 2, out);
	ck_assert_str_eq(out, "739299ed6aaa9004bbfabf26c0265c8e64c766432506e75a5df5a00f4e20eff3");
	/* re-hashing the hex text each round is the common bug */
	ck_assert_str_ne(out, "3ac711df125f611b658d4e14b402a63773d9b8360ca1868603743daf6c8465ae");
	/* transcript 11, accepted by the real server */
	fkp_pwdhash("golden-pass-1", "61a601ce424762c9", 7527, out);
	ck_assert_str_eq(out, "643795dc094e0f3f96bff661bc0396f2556cf9d0e2aa1f4fce49f17a43d7573f");
}
END_TEST

START_TEST(test_hi_parse)
{
	struct fkp_hi hi;
	char err[128];
	struct fkp_reply r;

	ck_assert_int_gt(parse1(S("+HI {\"v\":2}\r\n"), &r), 0);
	ck_assert_int_eq(fkp_hi_parse(r.r_data, r.r_len, &hi, err, sizeof(err)), 0);
	ck_assert_int_eq(hi.hi_v, 2);
	ck_assert_int_eq(hi.hi_has_salt, 0);
	ck_assert_int_eq(hi.hi_iter, 1);

	ck_assert_int_gt(parse1(S("+HI {\"v\":2,\"i\":7527,\"s\":\"61a601ce424762c9\"}\r\n"), &r), 0);
	ck_assert_int_eq(fkp_hi_parse(r.r_data, r.r_len, &hi, err, sizeof(err)), 0);
	ck_assert_int_eq(hi.hi_has_salt, 1);
	ck_assert_int_eq(hi.hi_iter, 7527);
	ck_assert_str_eq(hi.hi_salt, "61a601ce424762c9");

	/* unknown keys are ignored; a 63-byte salt fits */
	ck_assert_int_eq(fkp_hi_parse(S("HI {\"v\":2,\"x\":[1],\"s\":"
	    "\"123456789012345678901234567890123456789012345678901234567890123\"}"),
	    &hi, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(hi.hi_salt), 63);
}
END_TEST

static const char *const bad_hi[] = {
	"HELLO {\"v\":2}",
	"HI",
	"HI ",
	"HI{\"v\":2}",
	"hi {\"v\":2}",
	"HI {bad",
	"HI [2]",
	"HI {\"v\":2} x",
	"HI {}",
	"HI {\"v\":\"2\"}",
	"HI {\"v\":2,\"s\":5}",
	"HI {\"v\":2,\"i\":\"7\",\"s\":\"ab\"}",
	"HI {\"v\":2,\"i\":0,\"s\":\"ab\"}",
	"HI {\"v\":2,\"i\":1000000000,\"s\":\"ab\"}",
	"HI {\"v\":2,\"s\":\"a\\u0000b\"}",
	"HI {\"v\":2,\"v\":2}",
	("HI {\"v\":2,\"s\":"
	    "\"1234567890123456789012345678901234567890123456789012345678901234\"}"),
};

START_TEST(test_hi_bad)
{
	struct fkp_hi hi;
	char err[128];

	err[0] = '\0';
	ck_assert_msg(fkp_hi_parse(bad_hi[_i], strlen(bad_hi[_i]), &hi, err, sizeof(err)) == -1,
	    "accepted %s", bad_hi[_i]);
	ck_assert(err[0] != '\0');
}
END_TEST

/* ---- BEAT replies ---- */

static enum fkp_beat
beat_of(const char *s, size_t n)
{
	struct fkp_reply r;

	ck_assert_int_eq(parse1(s, n, &r), (ssize_t)n);
	return fkp_beat_parse(&r);
}

START_TEST(test_beat_parse)
{
	ck_assert_int_eq(beat_of(S("+OK\r\n")), FKP_BEAT_OK);
	ck_assert_int_eq(beat_of(S("$17\r\n{\"state\":\"quiet\"}\r\n")), FKP_BEAT_QUIET);
	ck_assert_int_eq(beat_of(S("$21\r\n{\"state\":\"terminate\"}\r\n")), FKP_BEAT_TERMINATE);
	ck_assert_int_eq(beat_of(S("+{\"state\":\"quiet\"}\r\n")), FKP_BEAT_QUIET);
	ck_assert_int_eq(beat_of(S("+{\"state\":\"terminate\"}\r\n")), FKP_BEAT_TERMINATE);
	ck_assert_int_eq(beat_of(S("+quiet\r\n")), FKP_BEAT_QUIET);
	ck_assert_int_eq(beat_of(S("+terminate\r\n")), FKP_BEAT_TERMINATE);
	ck_assert_int_eq(beat_of(S("$19\r\n{\"state\":\"running\"}\r\n")), FKP_BEAT_OK);
	ck_assert_int_eq(beat_of(S("-ERR unknown worker x\r\n")), FKP_BEAT_UNKNOWN_WORKER);
	ck_assert_int_eq(beat_of(S("-ERR Unknown worker x\r\n")), FKP_BEAT_UNKNOWN_WORKER);
	ck_assert_int_eq(beat_of(S("-ERR unknown worker \r\n")), FKP_BEAT_UNKNOWN_WORKER);
	ck_assert_int_eq(beat_of(S("-ERR invalid BEAT {oops\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("-ERR unknown\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("$5\r\nquiet\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("$2\r\n{}\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("$11\r\n{\"state\":1}\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("+HI {\"v\":2}\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("+{bad\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S("$-1\r\n")), FKP_BEAT_ERROR);
	ck_assert_int_eq(beat_of(S(":1\r\n")), FKP_BEAT_ERROR);
}
END_TEST

/* ---- URL and queue names ---- */

static struct fkp_url u;
static char uerr[256];

static int
url(const char *s)
{
	uerr[0] = '\0';
	return fkp_url_parse(s, &u, uerr, sizeof(uerr));
}

static const struct {
	const char	*ug_url;
	int		 ug_tls;
	const char	*ug_host, *ug_port, *ug_user, *ug_password;
} url_good[] = {
	{ "tcp://localhost:7419", 0, "localhost", "7419", "", "" },
	{ "tcp://:secret@host:1234", 0, "host", "1234", "", "secret" },
	{ "tcp://user:p%40ss@host", 0, "host", "7419", "user", "p@ss" },
	{ "tcp+tls://host", 1, "host", "7419", "", "" },
	{ "[::1]:7420", 0, "::1", "7420", "", "" },
	{ "tcp+tls://u%3Ax:pw@[fe80::1]/", 1, "fe80::1", "7419", "u:x", "pw" },
	{ "tcp://a:b:c@h@host", 0, "host", "7419", "a", "b:c@h" },
	{ "myhost:7000", 0, "myhost", "7000", "", "" },
	{ "myhost", 0, "myhost", "7419", "", "" },
	{ "tcp://10.0.0.1:65535", 0, "10.0.0.1", "65535", "", "" },
	{ "TCP://h:01", 0, "h", "1", "", "" },
};

START_TEST(test_url_good)
{
	ck_assert_msg(url(url_good[_i].ug_url) == 0, "%s: %s", url_good[_i].ug_url, uerr);
	ck_assert_int_eq(u.u_tls, url_good[_i].ug_tls);
	ck_assert_str_eq(u.u_host, url_good[_i].ug_host);
	ck_assert_str_eq(u.u_port, url_good[_i].ug_port);
	ck_assert_str_eq(u.u_user, url_good[_i].ug_user);
	ck_assert_str_eq(u.u_password, url_good[_i].ug_password);
}
END_TEST

START_TEST(test_url_bad)
{
	static const char *const bad[] = {
		"", "tcp://", "tcp://:7419", "tcp://:pw@", "tcp://:pw@:7419", "[]:7419",
		"tcp://host:0", "tcp://host:70000", "tcp://host:abc", "tcp://host:",
		"tcp://host:123456", "tcp://host:0000000000000000000001", "tcp://host:-1", "tcp://user:p%zzss@host",
		"tcp://user:p%4@host", "tcp://%00@host", "tcp://host/path", "tcp://host?x=1",
		"tcp://::1:7419", "tcp://[::1", "tcp://[::1]x", "tcp://ho st", "tcp://a]b",
		"http://host:7419",
	};

	for (size_t i = 0; i < FKW_NELEM(bad); i++) {
		ck_assert_msg(url(bad[i]) == -1, "accepted %s", bad[i]);
		ck_assert_msg(strncmp(uerr, "faktory url: ", 13) == 0, "%s: %s", bad[i], uerr);
	}
	ck_assert_int_eq(url("http://host:7419"), -1);
	ck_assert_str_eq(uerr, "faktory url: unsupported scheme 'http', use tcp:// or tcp+tls://");
	ck_assert_int_eq(url("tcp://host:0"), -1);
	ck_assert_ptr_nonnull(strstr(uerr, "port"));
	/* the password never appears in a message */
	ck_assert_int_eq(url("tcp://:hunter2@host:99999"), -1);
	ck_assert_ptr_null(strstr(uerr, "hunter2"));
	ck_assert_int_eq(url("tcp://:hunter2%@host"), -1);
	ck_assert_ptr_null(strstr(uerr, "hunter2"));
}
END_TEST

START_TEST(test_url_lengths)
{
	char big[700];

	snprintf(big, sizeof(big), "tcp://%0255d:1", 0);
	ck_assert_int_eq(url(big), 0);
	ck_assert_uint_eq(strlen(u.u_host), 255);
	snprintf(big, sizeof(big), "tcp://%0256d:1", 0);
	ck_assert_int_eq(url(big), -1);
	snprintf(big, sizeof(big), "tcp://:%0255d@h", 0);
	ck_assert_int_eq(url(big), 0);
	snprintf(big, sizeof(big), "tcp://:%0256d@h", 0);
	ck_assert_int_eq(url(big), -1);
	snprintf(big, sizeof(big), "tcp://%0128d@h", 0);
	ck_assert_int_eq(url(big), -1);
}
END_TEST

START_TEST(test_queue_names)
{
	ck_assert_int_eq(fkp_queue_name_ok("default"), 1);
	ck_assert_int_eq(fkp_queue_name_ok("a.b_c-D9"), 1);
	ck_assert_int_eq(fkp_queue_name_ok(""), 0);
	ck_assert_int_eq(fkp_queue_name_ok(NULL), 0);
	ck_assert_int_eq(fkp_queue_name_ok("bad queue"), 0);
	ck_assert_int_eq(fkp_queue_name_ok("bad/queue"), 0);
	ck_assert_int_eq(fkp_queue_name_ok("a:b"), 0);
	ck_assert_int_eq(fkp_queue_name_ok("caf\xc3\xa9"), 0);
	ck_assert_int_eq(fkp_queue_name_ok("*"), 0);
}
END_TEST

int
main(void)
{
	const TTest *replies[] = { test_transcript_bytes, test_max_bulk, test_bulk_oversize,
	    test_long_line, test_beat_parse, NULL };
	const TTest *handshake[] = { test_pwdhash_vectors, test_hi_parse, NULL };
	const TTest *url[] = { test_url_bad, test_url_lengths, test_queue_names, NULL };
	Suite *s = suite_create("fkp");
	TCase *tr = unit_tcase(s, "replies", NULL, NULL, 0, replies);
	TCase *th = unit_tcase(s, "handshake", NULL, NULL, 0, handshake);
	TCase *tu = unit_tcase(s, "url", NULL, NULL, 0, url);

	tcase_add_loop_test(tr, test_every_split, 0, FKW_NELEM(samples));
	tcase_add_loop_test(tr, test_pipelined_pairs, 0, FKW_NELEM(samples));
	tcase_add_loop_test(tr, test_error_split, 0, FKW_NELEM(errors));
	tcase_add_loop_test(tr, test_malformed, 0, FKW_NELEM(malformed));
	tcase_add_loop_test(th, test_hi_bad, 0, FKW_NELEM(bad_hi));
	tcase_add_loop_test(tu, test_url_good, 0, FKW_NELEM(url_good));
	return unit_run(s);
}
