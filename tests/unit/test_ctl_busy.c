/* SPDX-License-Identifier: MIT */
/* The busy request and reply of the control protocol (common/ctl_busy.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "unit_util.h"

static int
decode_frame(const struct buf *b, struct ctl_reply *rp)
{
	const void *payload;
	size_t plen;
	char err[128];

	ck_assert_int_eq(ctl_frame_parse(b->b_data, b->b_len, &payload, &plen), (ssize_t)b->b_len);
	return ctl_reply_decode(payload, plen, rp, err, sizeof(err));
}

START_TEST(test_busy_reply_roundtrip)
{
	struct ctl_busy bz = { .bz_total = 7, .bz_limit = 2, .bz_njobs = 2 };
	struct ctl_busy_job jobs[2] = {
		{ "jid-long-running", "resize", "critical", 1, 4242, 3600000 },
		{ "jid-2", "noop", "default", 0, 4241, 12 },
	};
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1, .rp_busy = &bz }, back;
	struct buf b;

	bz.bz_jobs = jobs;
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_eq(decode_frame(&b, &back), 0);
	ck_assert_ptr_nonnull(back.rp_busy);
	ck_assert_ptr_null(back.rp_status);
	ck_assert_uint_eq(back.rp_busy->bz_total, 7);
	ck_assert_uint_eq(back.rp_busy->bz_limit, 2);
	ck_assert_uint_eq(back.rp_busy->bz_njobs, 2);
	for (int i = 0; i < 2; i++) {
		const struct ctl_busy_job *x = &jobs[i], *y = &back.rp_busy->bz_jobs[i];
		ck_assert_str_eq(x->bj_jid, y->bj_jid);
		ck_assert_str_eq(x->bj_jobtype, y->bj_jobtype);
		ck_assert_str_eq(x->bj_queue, y->bj_queue);
		ck_assert_int_eq(x->bj_child, y->bj_child);
		ck_assert_int_eq(x->bj_pid, y->bj_pid);
		ck_assert_uint_eq(x->bj_running_ms, y->bj_running_ms);
	}
	ctl_reply_free(&back);
	buf_free(&b);
}
END_TEST

/* The largest reply fkworkerctl can ask for fits one frame. */
START_TEST(test_busy_limit_fits_frame)
{
	struct ctl_busy bz = { .bz_total = CTL_BUSY_LIMIT_MAX, .bz_limit = CTL_BUSY_LIMIT_MAX,
	    .bz_njobs = CTL_BUSY_LIMIT_MAX };
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1, .rp_busy = &bz }, back;
	struct buf b;

	bz.bz_jobs = calloc(CTL_BUSY_LIMIT_MAX, sizeof(*bz.bz_jobs));
	ck_assert_ptr_nonnull(bz.bz_jobs);
	for (int i = 0; i < CTL_BUSY_LIMIT_MAX; i++) {
		struct ctl_busy_job *j = &bz.bz_jobs[i];
		memset(j->bj_jid, 'j', sizeof(j->bj_jid) - 1);
		memset(j->bj_jobtype, 't', sizeof(j->bj_jobtype) - 1);
		memset(j->bj_queue, 'q', sizeof(j->bj_queue) - 1);
		j->bj_child = 1023;
		j->bj_pid = 4194304;
		j->bj_running_ms = UINT64_MAX;
	}
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_eq(decode_frame(&b, &back), 0);
	ck_assert_uint_eq(back.rp_busy->bz_njobs, CTL_BUSY_LIMIT_MAX);
	ctl_reply_free(&back);
	buf_free(&b);
	free(bz.bz_jobs);
}
END_TEST

START_TEST(test_busy_request_limit)
{
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_BUSY,
	    .rq_limit = 7 }, got;
	const void *payload;
	size_t plen;
	struct buf b;
	char err[128];

	buf_init(&b);
	ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.rq_cmd, CTL_CMD_BUSY);
	ck_assert_uint_eq(got.rq_limit, 7);
	buf_free(&b);
	/* Out of range: a malformed request, not a huge allocation. */
	rq.rq_limit = CTL_BUSY_LIMIT_MAX + 1;
	buf_init(&b);
	ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), -1);
	buf_free(&b);
}
END_TEST

/* A busy value of the wrong shape fails the reply, it does not crash or leak. */
START_TEST(test_busy_bad_shapes)
{
	static const unsigned char bad[][32] = {
		/* {"v":1,"ok":true,"busy":[]} */
		{ 0x83, 0xa1, 'v', 0x01, 0xa2, 'o', 'k', 0xc3, 0xa4, 'b', 'u', 's', 'y', 0x90 },
		/* {"v":1,"ok":true,"busy":{"jobs":[1]}} */
		{ 0x83, 0xa1, 'v', 0x01, 0xa2, 'o', 'k', 0xc3, 0xa4, 'b', 'u', 's', 'y', 0x81,
		  0xa4, 'j', 'o', 'b', 's', 0x91, 0x01 },
		/* {"v":1,"ok":true,"busy":{"total":-1}} */
		{ 0x83, 0xa1, 'v', 0x01, 0xa2, 'o', 'k', 0xc3, 0xa4, 'b', 'u', 's', 'y', 0x81,
		  0xa5, 't', 'o', 't', 'a', 'l', 0xff },
	};
	static const size_t len[] = { 14, 21, 21 };
	struct ctl_reply rp;
	char err[128];

	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++)
		ck_assert_int_eq(ctl_reply_decode(bad[i], len[i], &rp, err, sizeof(err)), -1);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_busy_reply_roundtrip, test_busy_limit_fits_frame, test_busy_request_limit,
		test_busy_bad_shapes, NULL,
	};

	return unit_main("ctl_busy", "core", NULL, NULL, 0, tests);
}
