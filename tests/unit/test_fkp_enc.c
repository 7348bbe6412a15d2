/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/fkp.c, the command encoders: HELLO, FETCH, ACK, FAIL
 * (its limits and UTF-8 repair), BEAT, PUSH, PUSHB and the simple commands.
 * The parser and the rest are in test_fkp.c. Wire bytes marked "transcript"
 * are copied from the captured real-server sessions (docs/faktory-transcripts/).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkp.h"
#include "unit_util.h"

#define S(lit)	lit, sizeof(lit) - 1

/* ---- encoders ---- */

static void
assert_buf(struct buf *b, const char *want)
{
	ck_assert_msg(buf_rlen(b) == strlen(want) && memcmp(buf_rptr(b), want, strlen(want)) == 0,
	    "got <%.*s>\nwant <%s>", (int)buf_rlen(b), buf_rptr(b), want);
	buf_reset(b);
}

/* The JSON after "VERB " in b, which must be exactly one CRLF-terminated line. */
static json_t *
line_json(struct buf *b, const char *verb)
{
	const char *p = buf_rptr(b);
	size_t n = buf_rlen(b), vl = strlen(verb);
	json_t *o;

	ck_assert_uint_ge(n, vl + 3);
	ck_assert(memcmp(p, verb, vl) == 0 && p[vl] == ' ');
	ck_assert(memcmp(p + n - 2, "\r\n", 2) == 0);
	ck_assert_ptr_null(memchr(p, '\r', n - 2));
	ck_assert_ptr_null(memchr(p, '\n', n - 2));
	o = json_loadb(p + vl + 1, n - vl - 3, 0, NULL);
	ck_assert_ptr_nonnull(o);
	buf_reset(b);
	return o;
}

START_TEST(test_enc_hello)
{
	static const char *const labels[] = { "golden", "s01" };
	struct fkp_hello h = { "transcript-host", "s01-wid-0001", 4242, labels, 2, NULL, NULL };
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	assert_buf(&b, "HELLO {\"hostname\":\"transcript-host\",\"wid\":\"s01-wid-0001\","
	    "\"pid\":4242,\"labels\":[\"golden\",\"s01\"],\"v\":2}\r\n");	/* transcript 01 */
	h.h_nlabels = 1;
	h.h_pwdhash = "643795dc094e0f3f96bff661bc0396f2556cf9d0e2aa1f4fce49f17a43d7573f";
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	assert_buf(&b, "HELLO {\"hostname\":\"transcript-host\",\"wid\":\"s01-wid-0001\","
	    "\"pid\":4242,\"labels\":[\"golden\"],\"pwdhash\":"
	    "\"643795dc094e0f3f96bff661bc0396f2556cf9d0e2aa1f4fce49f17a43d7573f\",\"v\":2}\r\n");
	h.h_labels = NULL;
	h.h_pwdhash = "";
	h.h_username = "bob";
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	assert_buf(&b, "HELLO {\"hostname\":\"transcript-host\",\"wid\":\"s01-wid-0001\","
	    "\"pid\":4242,\"labels\":[],\"username\":\"bob\",\"v\":2}\r\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_hello_producer)
{
	static const char *const labels[] = { "a\r\nb\"c" };
	struct fkp_hello h = { "host", NULL, 7, labels, 1, NULL, NULL };
	struct buf b;
	json_t *o;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	assert_buf(&b, "HELLO {\"v\":2}\r\n");
	h.h_wid = "";
	h.h_pwdhash = "abc";
	h.h_username = "u";
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	assert_buf(&b, "HELLO {\"pwdhash\":\"abc\",\"username\":\"u\",\"v\":2}\r\n");
	/* caller strings with CR, LF and quotes stay on one line */
	h.h_wid = "w\n1";
	ck_assert_int_eq(fkp_enc_hello(&b, &h), 0);
	o = line_json(&b, "HELLO");
	ck_assert_str_eq(json_string_value(json_object_get(o, "wid")), "w\n1");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "labels"), 0)),
	    "a\r\nb\"c");
	json_decref(o);
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_fetch)
{
	static const char *const q3[] = { "s06-a", "s06-b", "s06-c" };
	static const char *const bad[] = { "", "a b", "a\r", "b\n", NULL };
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_fetch(&b, q3, 3), 0);
	assert_buf(&b, "FETCH s06-a s06-b s06-c\r\n");	/* transcript 06 */
	ck_assert_int_eq(fkp_enc_fetch(&b, q3 + 2, 1), 0);
	assert_buf(&b, "FETCH s06-c\r\n");
	buf_append(&b, "X", 1);
	for (size_t i = 0; i < FKW_NELEM(bad); i++) {
		const char *two[] = { "ok", bad[i] };

		errno = 0;
		ck_assert_int_eq(fkp_enc_fetch(&b, two, 2), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	errno = 0;
	ck_assert_int_eq(fkp_enc_fetch(&b, q3, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_buf(&b, "X");	/* nothing appended by the failures */
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_ack)
{
	struct buf b;

	buf_init(&b);
	buf_append(&b, "PRE", 3);
	ck_assert_int_eq(fkp_enc_ack(&b, S("s01-job-00000001")), 0);
	assert_buf(&b, "PREACK {\"jid\":\"s01-job-00000001\"}\r\n");	/* transcript 01 */
	ck_assert_int_eq(fkp_enc_ack(&b, S("a\"b")), 0);
	assert_buf(&b, "ACK {\"jid\":\"a\\\"b\"}\r\n");
	ck_assert_int_eq(fkp_enc_ack(&b, S("a\"b\\c")), 0);
	assert_buf(&b, "ACK {\"jid\":\"a\\\"b\\\\c\"}\r\n");
	ck_assert_int_eq(fkp_enc_ack(&b, S("x\r\ny\001")), 0);
	assert_buf(&b, "ACK {\"jid\":\"x\\r\\ny\\u0001\"}\r\n");
	ck_assert_int_eq(fkp_enc_ack(&b, S("caf\xc3\xa9")), 0);
	assert_buf(&b, "ACK {\"jid\":\"caf\xc3\xa9\"}\r\n");
	ck_assert_int_eq(fkp_enc_ack(&b, S("bad\xff")), 0);
	assert_buf(&b, "ACK {\"jid\":\"bad?\"}\r\n");
	/* the length counts, not a NUL */
	ck_assert_int_eq(fkp_enc_ack(&b, "abcdef", 3), 0);
	assert_buf(&b, "ACK {\"jid\":\"abc\"}\r\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_fail_transcript)
{
	static const char *const bt[] = { "app.rb:1:in `run'", "app.rb:2:in `main'" };
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_fail(&b, S("s07-job-00000001"), "RuntimeError", "boom",
	    bt, 2), 0);
	assert_buf(&b, "FAIL {\"jid\":\"s07-job-00000001\",\"errtype\":\"RuntimeError\","
	    "\"message\":\"boom\",\"backtrace\":[\"app.rb:1:in `run'\",\"app.rb:2:in `main'\"]}\r\n");
	ck_assert_int_eq(fkp_enc_fail(&b, S("j1"), NULL, NULL, NULL, 0), 0);
	assert_buf(&b, "FAIL {\"jid\":\"j1\",\"errtype\":\"unknown\",\"message\":\"\","
	    "\"backtrace\":[]}\r\n");
	ck_assert_int_eq(fkp_enc_fail(&b, S("j1"), "", "m\r\nx", NULL, 0), 0);
	assert_buf(&b, "FAIL {\"jid\":\"j1\",\"errtype\":\"unknown\",\"message\":\"m\\r\\nx\","
	    "\"backtrace\":[]}\r\n");
	buf_free(&b);
}
END_TEST

/* The FAIL message field for this message. */
static char *
fail_field(const char *errtype, const char *message, const char *key)
{
	struct buf b;
	json_t *o;
	char *s;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_fail(&b, S("j"), errtype, message, NULL, 0), 0);
	o = line_json(&b, "FAIL");
	ck_assert(json_is_string(json_object_get(o, key)));
	s = strdup(json_string_value(json_object_get(o, key)));
	json_decref(o);
	buf_free(&b);
	return s;
}

static char *
repeat(char c, size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);

	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

/* key (errtype or message) of n ASCII bytes then tail: FAIL sends want bytes of it. */
static void
check_cut(const char *key, size_t n, const char *tail, size_t want)
{
	char *m = repeat('a', n, tail), *got;

	got = strcmp(key, "message") == 0 ? fail_field("E", m, key) : fail_field(m, "m", key);
	ck_assert_msg(strlen(got) == want, "%s %zu + %zu: got %zu bytes, want %zu", key, n,
	    strlen(tail), strlen(got), want);
	ck_assert(strncmp(got, m, want) == 0);
	free(got);
	free(m);
}

START_TEST(test_enc_fail_utf8_cut)
{
	check_cut("message", 999, "\xe2\x82\xac", 999);	/* a 3-byte char would end at 1002 */
	check_cut("message", 998, "\xe2\x82\xac", 998);
	check_cut("message", 997, "\xe2\x82\xac", 1000);
	check_cut("message", 996, "\xf0\x9f\x98\x80", 1000);
	check_cut("message", 997, "\xf0\x9f\x98\x80", 997);
	check_cut("message", 999, "\xc3\xa9", 999);
	check_cut("message", 1500, "", 1000);
	check_cut("message", 10, "\xc3\xa9", 12);
	check_cut("errtype", 99, "\xc3\xa9", 99);
	check_cut("errtype", 98, "\xc3\xa9", 100);
	check_cut("errtype", 150, "", 100);
}
END_TEST

START_TEST(test_enc_fail_invalid_utf8)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "bad\xff\xfe" "end", "bad??end" },
		{ "\xc0\xaf", "??" },			/* overlong '/' */
		{ "\xe0\x80\xaf", "???" },
		{ "\xf0\x80\x80\xaf", "????" },
		{ "\xed\xa0\x80", "???" },		/* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", "????" },		/* above U+10FFFF */
		{ "ab\xe2\x82", "ab??" },		/* cut short */
		{ "\x80x", "?x" },
		{ "ok \xe2\x82\xac", "ok \xe2\x82\xac" },
	};
	char *got;

	for (size_t i = 0; i < FKW_NELEM(cases); i++) {
		got = fail_field(cases[i].in, cases[i].in, "message");
		ck_assert_str_eq(got, cases[i].out);
		free(got);
		got = fail_field(cases[i].in, "m", "errtype");
		ck_assert_str_eq(got, cases[i].out);
		free(got);
	}
	/* invalid bytes right at the limit are replaced, then cut like ASCII */
	char *m = repeat('a', 999, "\xff\xff");
	got = fail_field("E", m, "message");
	ck_assert_uint_eq(strlen(got), 1000);
	ck_assert_int_eq(got[999], '?');
	free(got);
	free(m);
}
END_TEST

START_TEST(test_enc_fail_backtrace)
{
	const char *bt[60];
	char lines[60][24];
	struct buf b;
	json_t *o, *a;

	for (int i = 0; i < 60; i++) {
		snprintf(lines[i], sizeof(lines[i]), "line %d", i);
		bt[i] = lines[i];
	}
	buf_init(&b);
	ck_assert_int_eq(fkp_enc_fail(&b, S("j"), "E", "m", bt, 60), 0);
	o = line_json(&b, "FAIL");
	a = json_object_get(o, "backtrace");
	ck_assert_uint_eq(json_array_size(a), FKP_BACKTRACE_MAX);
	ck_assert_str_eq(json_string_value(json_array_get(a, 49)), "line 49");
	ck_assert_uint_eq(json_object_size(o), 4);
	json_decref(o);
	ck_assert_int_eq(fkp_enc_fail(&b, S("j"), "E", "m", bt, 3), 0);
	o = line_json(&b, "FAIL");
	ck_assert_uint_eq(json_array_size(json_object_get(o, "backtrace")), 3);
	json_decref(o);
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_beat)
{
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_beat(&b, "s09-wid-0001", 12345, NULL), 0);
	assert_buf(&b, "BEAT {\"wid\":\"s09-wid-0001\",\"rss_kb\":12345}\r\n");	/* transcript 09 */
	ck_assert_int_eq(fkp_enc_beat(&b, "s11-wid-0001", -1, ""), 0);
	assert_buf(&b, "BEAT {\"wid\":\"s11-wid-0001\"}\r\n");	/* transcript 11 */
	ck_assert_int_eq(fkp_enc_beat(&b, "w", 0, "quiet"), 0);
	assert_buf(&b, "BEAT {\"wid\":\"w\",\"rss_kb\":0,\"current_state\":\"quiet\"}\r\n");
	ck_assert_int_eq(fkp_enc_beat(&b, "w", -5, "terminate"), 0);
	assert_buf(&b, "BEAT {\"wid\":\"w\",\"current_state\":\"terminate\"}\r\n");
	errno = 0;
	ck_assert_int_eq(fkp_enc_beat(&b, "w", 1, "running"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fkp_enc_beat(&b, NULL, 1, NULL), -1);
	ck_assert_int_eq(fkp_enc_beat(&b, "", 1, NULL), -1);
	ck_assert_uint_eq(buf_rlen(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_push_simple)
{
	static const char job[] = "{\"jid\":\"s01-job-00000001\",\"jobtype\":\"SomeJob\","
	    "\"args\":[1,\"x\"],\"custom\":{\"k\":\"v\"},\"queue\":\"default\"}";
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(fkp_enc_push(&b, job, sizeof(job) - 1), 0);
	assert_buf(&b, "PUSH {\"jid\":\"s01-job-00000001\",\"jobtype\":\"SomeJob\","
	    "\"args\":[1,\"x\"],\"custom\":{\"k\":\"v\"},\"queue\":\"default\"}\r\n");	/* 01 */
	ck_assert_int_eq(fkp_enc_pushb(&b, S("[{\"a\":1}]")), 0);
	assert_buf(&b, "PUSHB [{\"a\":1}]\r\n");
	errno = 0;
	ck_assert_int_eq(fkp_enc_push(&b, S("{\"a\":\n1}")), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fkp_enc_pushb(&b, S("[{}]\r")), -1);
	ck_assert_int_eq(fkp_enc_push(&b, "", 0), -1);
	ck_assert_uint_eq(buf_rlen(&b), 0);
	ck_assert_int_eq(fkp_enc_simple(&b, "END"), 0);
	assert_buf(&b, "END\r\n");
	ck_assert_int_eq(fkp_enc_simple(&b, "INFO"), 0);
	ck_assert_int_eq(fkp_enc_simple(&b, "FLUSH"), 0);
	assert_buf(&b, "INFO\r\nFLUSH\r\n");
	ck_assert_int_eq(fkp_enc_simple(&b, "END\r\nFLUSH"), -1);
	ck_assert_int_eq(fkp_enc_simple(&b, ""), -1);
	ck_assert_uint_eq(buf_rlen(&b), 0);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_enc_hello, test_enc_hello_producer, test_enc_fetch, test_enc_ack,
		test_enc_fail_transcript, test_enc_fail_utf8_cut, test_enc_fail_invalid_utf8,
		test_enc_fail_backtrace, test_enc_beat, test_enc_push_simple, NULL,
	};

	return unit_main("fkp_enc", "encoders", NULL, NULL, 0, tests);
}
