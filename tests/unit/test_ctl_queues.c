/* SPDX-License-Identifier: MIT */
/*
 * The queues of the status reply: rows with size, configured and trend
 * ("queue_list"), beside the name -> size map ("queues") that fkworkerctl
 * of an older version reads; a reply of an older master (the map alone)
 * still decodes, its unknown set sizes as -1.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctl.h"
#include "unit_util.h"

static struct ctl_reply
decode(const struct buf *b)
{
	struct ctl_reply rp;
	char err[128];

	ck_assert_int_eq(ctl_reply_decode(b->b_data, b->b_len, &rp, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(rp.rp_status);
	return rp;
}

/* {"v":1,"ok":true,"status":{"queues":{"low":3},"queues_known":true}} as an older master sends it. */
START_TEST(test_old_master_map)
{
	struct ctl_mpw w;
	msgpack_packer pk;
	struct buf b;
	struct ctl_reply rp;

	buf_init(&b);
	ctl_mpw_init(&w, &b, &pk);
	msgpack_pack_map(&pk, 3);
	ctl_mp_pack_str(&pk, "v");
	msgpack_pack_int(&pk, CTL_VERSION);
	ctl_mp_pack_str(&pk, "ok");
	msgpack_pack_true(&pk);
	ctl_mp_pack_str(&pk, "status");
	msgpack_pack_map(&pk, 2);
	ctl_mp_pack_str(&pk, "queues");
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "low");
	msgpack_pack_int(&pk, 3);
	ctl_mp_pack_str(&pk, "queues_known");
	msgpack_pack_true(&pk);
	ck_assert_int_eq(w.mw_err, 0);
	rp = decode(&b);
	ck_assert_uint_eq(rp.rp_status->st_nqueues, 1);
	ck_assert_str_eq(rp.rp_status->st_queues[0].cq_name, "low");
	ck_assert_int_eq(rp.rp_status->st_queues[0].cq_size, 3);
	ck_assert_int_eq(rp.rp_status->st_queues[0].cq_trend_known, 0);
	ck_assert_int_eq(rp.rp_status->st_server_retries, -1);
	ck_assert_int_eq(rp.rp_status->st_server_dead, -1);
	ck_assert_int_eq(rp.rp_status->st_server_scheduled, -1);
	ctl_reply_free(&rp);
	buf_free(&b);
}
END_TEST

/* This master sends both: the rows win, whatever their order. */
START_TEST(test_rows_and_map)
{
	struct ctl_queue q[2] = {
		{ "default", 0, 1, 1, 0.0 },
		{ "other", 9, 0, 1, 4.5 },
	};
	struct ctl_status st;
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1, .rp_status = &st }, back;
	struct buf b;
	const void *payload;
	size_t plen;

	memset(&st, 0, sizeof(st));
	st.st_queues = q;
	st.st_nqueues = 2;
	st.st_server_scheduled = 7;
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	memmove(b.b_data, payload, plen);
	b.b_len = plen;
	back = decode(&b);
	ck_assert_uint_eq(back.rp_status->st_nqueues, 2);
	ck_assert_str_eq(back.rp_status->st_queues[1].cq_name, "other");
	ck_assert_int_eq(back.rp_status->st_queues[1].cq_size, 9);
	ck_assert_int_eq(back.rp_status->st_queues[0].cq_configured, 1);
	ck_assert_int_eq(back.rp_status->st_queues[1].cq_trend_known, 1);
	ck_assert(back.rp_status->st_queues[1].cq_trend == 4.5);
	ck_assert_int_eq(back.rp_status->st_server_scheduled, 7);
	ctl_reply_free(&back);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = { test_old_master_map, test_rows_and_map, NULL };

	return unit_main("ctl_queues", "core", NULL, NULL, 0, tests);
}
