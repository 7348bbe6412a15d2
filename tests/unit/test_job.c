/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for worker/wrk_job.c's parse of a FETCHed job: the report each
 * job gets (ACK, or FAIL with its errtype and message, or none for a job
 * without a readable jid) is pinned, and is the same whether the job parses
 * into an arena block, as in a child, or into malloc; the one slot's block
 * is given back after every job, a job bigger than the block included.
 * The slot is driven as tests/fuzz/fuzz_job.c drives it (no loop runs).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "jarena.h"
#include "log.h"
#include "unit_slot.h"
#include "unit_util.h"
#include "wrk_int.h"

static struct wrk_env tj_env;
static struct wrk_ctx tj_ctx;
static struct wrk_slot tj_slot;
static struct fkw_conf *tj_conf;

static void
setup(void)
{
	struct conf_errors errs = { 0 };

	log_init("test_job", LOG_LVL_ERR, 0);
	tj_conf = unit_slot_setup(&tj_env, &tj_ctx, &tj_slot, "test", &errs);
	ck_assert_msg(tj_conf != NULL, "%s",
	    errs.ce_n > 0 ? errs.ce_msg[0] : "no loop, or not the free slot");
}

static void
setup_arena(void)
{
	setup();
	ck_assert_int_eq(jarena_init(1, JARENA_BLOCK), 0);
}

static void
teardown(void)
{
	wrk_slot_free(&tj_slot);
	ev_loop_free(tj_env.we_loop);
	conf_free(tj_conf);
	jarena_fini();
}

/*
 * Runs one job through the slot and copies its report line, CRLF cut, to
 * out ("" for none). A job a handler leaves running is aborted as shutdown
 * aborts it. The slot is left clean for the next job.
 */
static void
run_job(const char *json, size_t len, char *out, size_t outlen)
{
	struct wrk_slot *s = &tj_slot;
	char *body = malloc(len + 2);	/* as the reply buffer holds it: no NUL after */
	size_t n;

	ck_assert_ptr_nonnull(body);
	memcpy(body, json, len);
	memcpy(body + len, "\r\n", 2);
	s->sl_state = SL_FETCHING;
	wrk_job_start(s, body, len);
	if (s->sl_job.jb_state == WRK_JOB_RUNNING)
		wrk_job_abort(&s->sl_job, "Shutdown", "test: aborted");
	ck_assert_ptr_null(s->sl_job.jb_json);
	ck_assert_ptr_null(s->sl_job.jb_arena.ja_block);
	out[0] = '\0';
	if (s->sl_report_state != RP_NONE) {
		n = buf_rlen(&s->sl_report);
		ck_assert_uint_ge(n, 2);
		ck_assert_uint_lt(n - 2, outlen);
		memcpy(out, buf_rptr(&s->sl_report), n - 2);
		out[n - 2] = '\0';
	}
	if (s->sl_listed && s->sl_report_state == RP_QUEUED)
		ck_assert_ptr_eq(wrk_slot_take_report(), s);
	else if (s->sl_listed)
		ck_assert_ptr_eq(wrk_slot_take_free(), s);
	buf_reset(&s->sl_report);
	s->sl_report_state = RP_NONE;
	s->sl_nohandler = 0;
	s->sl_jt = -1;
	ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
	s->sl_job.jb_state = WRK_JOB_FREE;
	free(body);
}

/* Each job and the report it gets today (from the malformed-jobs drill and beyond). */
static const struct {
	const char	*vc_job;
	const char	*vc_report;
} verdicts[] = {
	{ "{\"jid\":\"ok-1\",\"jobtype\":\"noop\",\"args\":[],\"queue\":\"default\","
	  "\"enqueued_at\":\"2026-12-04T01:00:50.562177944Z\"}",
	  "ACK {\"jid\":\"ok-1\"}" },
	{ "{\"jid\":\"nul-1\",\"jobtype\":\"noop\",\"args\":[\"a\\u0000b\"]}",
	  "ACK {\"jid\":\"nul-1\"}" },
	{ "{\"jid\":\"badjson-1\",\"jobtype\":\"noop\",\"queue\":\"default\",\"args\":[1,2",
	  "FAIL {\"jid\":\"badjson-1\",\"errtype\":\"BadJob\",\"message\":\"job JSON does not "
	  "parse: ']' expected near end of file at byte 65\",\"backtrace\":[]}" },
	{ "{\"jid\":\"utf8-1\",\"jobtype\":\"noop\",\"args\":[\"\xff\xfe\"]}",
	  "FAIL {\"jid\":\"utf8-1\",\"errtype\":\"BadJob\",\"message\":\"job JSON does not "
	  "parse: unable to decode byte 0xff near '\\\"' at byte 42\",\"backtrace\":[]}" },
	{ "{\"jid\":\"surr-1\",\"jobtype\":\"noop\",\"args\":[\"\\ud800\"]}",
	  "FAIL {\"jid\":\"surr-1\",\"errtype\":\"BadJob\",\"message\":\"job JSON does not "
	  "parse: invalid Unicode '\\\\uD800' near '\\\"\\\\ud800\\\"' at byte 49\","
	  "\"backtrace\":[]}" },
	{ "{\"jid\":\"int-1\",\"jobtype\":\"noop\",\"args\":[123456789012345678901234567890]}",
	  "FAIL {\"jid\":\"int-1\",\"errtype\":\"BadJob\",\"message\":\"job JSON does not "
	  "parse: too big integer at byte 70\",\"backtrace\":[]}" },
	{ "{\"jid\":\"trail-1\",\"jobtype\":\"noop\",\"args\":[]} x",
	  "FAIL {\"jid\":\"trail-1\",\"errtype\":\"BadJob\",\"message\":\"job JSON does not "
	  "parse: end of file expected near 'x' at byte 46\",\"backtrace\":[]}" },
	{ "{\"jid\":\"notarr-1\",\"jobtype\":\"noop\",\"args\":\"x\"}",
	  "FAIL {\"jid\":\"notarr-1\",\"errtype\":\"BadJob\",\"message\":\"job args is not an "
	  "array\",\"backtrace\":[]}" },
	{ "{\"jid\":\"notype-1\",\"args\":[]}",
	  "FAIL {\"jid\":\"notype-1\",\"errtype\":\"BadJob\",\"message\":\"job has no "
	  "jobtype\",\"backtrace\":[]}" },
	{ "{\"jid\":\"typenul-1\",\"jobtype\":\"noop\\u0000x\",\"args\":[]}",
	  "FAIL {\"jid\":\"typenul-1\",\"errtype\":\"BadJob\",\"message\":\"job jobtype "
	  "contains a NUL character\",\"backtrace\":[]}" },
	{ "{\"jid\":\"a\\u0000b\",\"jobtype\":\"noop\",\"args\":[]}",
	  "FAIL {\"jid\":\"a\\u0000b\",\"errtype\":\"BadJob\",\"message\":\"job jid contains a "
	  "NUL character\",\"backtrace\":[]}" },
	{ "[\"jid\",\"arr-1\"]", "" },
	{ "{\"jobtype\":\"noop\",\"args\":[\"no jid here\"]}", "" },
	{ "{\"jid\":\"\",\"jobtype\":\"noop\",\"args\":[]}", "" },
	{ "{\"jid\":\"unk-1\",\"jobtype\":\"nosuchtype\",\"args\":[]}",
	  "FAIL {\"jid\":\"unk-1\",\"errtype\":\"NoHandler\",\"message\":\"no handler for "
	  "jobtype \\\"nosuchtype\\\" on testhost\",\"backtrace\":[]}" },
	{ "{\"jid\":\"badarg-1\",\"jobtype\":\"sleep\",\"args\":[\"soon\"]}",
	  "FAIL {\"jid\":\"badarg-1\",\"errtype\":\"BadArgs\",\"message\":\"sleep: args[0] must "
	  "be a number of milliseconds from 0 to 86400000\",\"backtrace\":[]}" },
	{ "{\"jid\":\"fail-1\",\"jobtype\":\"fail\",\"args\":[\"boom\"]}",
	  "FAIL {\"jid\":\"fail-1\",\"errtype\":\"Failed\",\"message\":\"boom\","
	  "\"backtrace\":[]}" },
	{ "{\"jid\":\"sleep-1\",\"jobtype\":\"sleep\",\"args\":[10]}",
	  "FAIL {\"jid\":\"sleep-1\",\"errtype\":\"Shutdown\",\"message\":\"test: aborted\","
	  "\"backtrace\":[]}" },
};

static void
check_verdicts(void)
{
	char got[2048];

	for (size_t i = 0; i < FKW_NELEM(verdicts); i++) {
		run_job(verdicts[i].vc_job, strlen(verdicts[i].vc_job), got, sizeof(got));
		ck_assert_msg(strcmp(got, verdicts[i].vc_report) == 0,
		    "job %zu: %s\n  got  %s\n  want %s", i, verdicts[i].vc_job, got,
		    verdicts[i].vc_report);
	}
	/* Nested deeper than jansson allows (the drill's 3000 levels). */
	{
		static const char head[] = "{\"jid\":\"deep-1\",\"jobtype\":\"noop\",\"args\":";
		char deep[6100];
		size_t n = sizeof(head) - 1;

		memcpy(deep, head, n);
		memset(deep + n, '[', 3000);
		memset(deep + n + 3000, ']', 3000);
		n += 6000;
		deep[n++] = '}';
		run_job(deep, n, got, sizeof(got));
		ck_assert_str_eq(got, "FAIL {\"jid\":\"deep-1\",\"errtype\":\"BadJob\",\"message\":"
		    "\"job JSON does not parse: maximum parsing depth reached near '[' at byte "
		    "2088\",\"backtrace\":[]}");
	}
}

START_TEST(test_verdicts_without_arena)
{
	check_verdicts();
}
END_TEST

START_TEST(test_verdicts_with_arena)
{
	check_verdicts();
	ck_assert_uint_eq(jarena_free_blocks(), 1);
}
END_TEST

/* Job after job through the one slot, a big one among them: the block always comes back. */
START_TEST(test_many_jobs_one_block)
{
	static const char job[] = "{\"jid\":\"many-1\",\"jobtype\":\"noop\",\"args\":[1,\"x\"]}";
	size_t big = 2 * JARENA_BLOCK, n;
	char *bigjob = malloc(big + 128), got[256];
	int bad = 0;

	ck_assert_ptr_nonnull(bigjob);
	n = (size_t)sprintf(bigjob, "{\"jid\":\"big-1\",\"jobtype\":\"noop\",\"args\":[\"");
	memset(bigjob + n, 'y', big);
	n += big;
	n += (size_t)sprintf(bigjob + n, "\"]}");
	/* Check writes a file per assertion: the loop counts its failures instead. */
	for (int i = 0; i < 20000; i++) {
		if (i % 1000 == 500) {
			run_job(bigjob, n, got, sizeof(got));
			bad += strcmp(got, "ACK {\"jid\":\"big-1\"}") != 0;
		} else {
			run_job(job, sizeof(job) - 1, got, sizeof(got));
			bad += strcmp(got, "ACK {\"jid\":\"many-1\"}") != 0;
		}
		bad += jarena_free_blocks() != 1;
	}
	ck_assert_int_eq(bad, 0);
	free(bigjob);
}
END_TEST

int
main(void)
{
	const TTest *plain[] = { test_verdicts_without_arena, NULL };
	const TTest *arena[] = { test_verdicts_with_arena, test_many_jobs_one_block, NULL };
	Suite *s = suite_create("job");

	unit_tcase(s, "malloc", setup, teardown, 0, plain);
	unit_tcase(s, "arena", setup_arena, teardown, 0, arena);
	return unit_run(s);
}
