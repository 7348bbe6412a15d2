/* SPDX-License-Identifier: MIT */
/* Unit tests for common/ctl.c: frames, requests, replies, the status struct, malformed input. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctl.h"
#include "unit_util.h"

static struct ctl_status *
sample_status(void)
{
	struct ctl_status *st = calloc(1, sizeof(*st));

	ck_assert_ptr_nonnull(st);
	strcpy(st->st_version, "0.1.0");
	st->st_pid = 4242;
	strcpy(st->st_hostname, "worker-01");
	strcpy(st->st_wid, "0123456789abcdef");
	strcpy(st->st_url, "tcp://127.0.0.1:7419");
	strcpy(st->st_conf_file, "/etc/fkworker.conf");
	strcpy(st->st_state, "running");
	st->st_uptime_ms = 123456;
	st->st_cpus = 2;
	st->st_concurrency = 200;
	st->st_slots = 200;
	st->st_connected = 199;
	st->st_busy = 17;
	st->st_processed = 10000000000ull;
	st->st_failed = 3;
	st->st_jobs_per_sec = 45012.5;
	st->st_p50_us = 12;
	st->st_p99_us = 80;
	strcpy(st->st_lat_window, "10s");
	st->st_rss_kb = 20480;
	st->st_restarts = 1;
	st->st_sampled_ms = 99999;
	st->st_faktory_up = 1;
	st->st_queues_known = 1;
	st->st_queues_age_ms = 1500;
	st->st_nqueues = 2;
	st->st_queues = calloc(2, sizeof(*st->st_queues));
	strcpy(st->st_queues[0].cq_name, "critical");
	st->st_queues[0].cq_size = 0;
	strcpy(st->st_queues[1].cq_name, "default");
	st->st_queues[1].cq_size = 12;
	st->st_queues[1].cq_configured = 1;
	st->st_queues[1].cq_trend_known = 1;
	st->st_queues[1].cq_trend = -2.5;
	st->st_server_retries = 4;
	st->st_server_dead = 0;
	st->st_server_scheduled = -1;
	st->st_nchild = 2;
	st->st_child = calloc(2, sizeof(*st->st_child));
	for (int i = 0; i < 2; i++) {
		struct ctl_child *c = &st->st_child[i];
		c->cc_index = i;
		c->cc_cpu = i == 0 ? 0 : -1;
		c->cc_pid = 5000 + i;
		c->cc_generation = 3 + (uint32_t)i;
		strcpy(c->cc_state, "ready");
		c->cc_slots = 100;
		c->cc_connected = 100 - (uint32_t)i;
		c->cc_busy = 8;
		c->cc_processed = 5000000000ull + (uint64_t)i;
		c->cc_failed = (uint64_t)i;
		c->cc_jobs_per_sec = 22506.25;
		c->cc_rss_kb = 8000;
		c->cc_restarts = (uint32_t)i;
		c->cc_uptime_ms = 60000;
		c->cc_sampled_ms = 99990;
	}
	return st;
}

static void
assert_fields_eq(const struct ctl_field *fields, const void *a, const void *b)
{
	for (const struct ctl_field *f = fields; f->f_name != NULL; f++) {
		const char *pa = (const char *)a + f->f_off, *pb = (const char *)b + f->f_off;
		if (f->f_type == CTL_F_STR)
			ck_assert_str_eq(pa, pb);
		else
			ck_assert_msg(memcmp(pa, pb, f->f_size) == 0, "field %s differs", f->f_name);
	}
}

static void
assert_status_eq(const struct ctl_status *a, const struct ctl_status *b)
{
	assert_fields_eq(ctl_status_fields, a, b);
	ck_assert_uint_eq(a->st_nqueues, b->st_nqueues);
	for (uint32_t i = 0; i < a->st_nqueues; i++)
		assert_fields_eq(ctl_queue_fields, &a->st_queues[i], &b->st_queues[i]);
	ck_assert_uint_eq(a->st_nchild, b->st_nchild);
	for (uint32_t i = 0; i < a->st_nchild; i++)
		assert_fields_eq(ctl_child_fields, &a->st_child[i], &b->st_child[i]);
}

START_TEST(test_status_reply_roundtrip)
{
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1 }, back;
	const void *payload;
	size_t plen;
	struct buf b;
	char err[128];

	rp.rp_status = sample_status();
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_eq(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), (ssize_t)b.b_len);
	ck_assert_uint_eq(plen + CTL_HDR_LEN, b.b_len);
	ck_assert_int_eq(ctl_reply_decode(payload, plen, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rp_version, CTL_VERSION);
	ck_assert_int_eq(back.rp_ok, 1);
	ck_assert_ptr_null(back.rp_error);
	ck_assert_ptr_nonnull(back.rp_status);
	assert_status_eq(rp.rp_status, back.rp_status);
	ctl_reply_free(&back);
	ctl_status_free(rp.rp_status);
	buf_free(&b);
}
END_TEST

START_TEST(test_error_reply_roundtrip)
{
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 0 }, back;
	const void *payload;
	size_t plen;
	struct buf b;
	char err[128];

	rp.rp_error = "reload: /etc/fkworker.conf:12: worker.cpus: must be 1..1024\n"
	    "reload: /etc/fkworker.conf:14: worker.bogus: unknown key";
	buf_init(&b);
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_reply_decode(payload, plen, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rp_ok, 0);
	ck_assert_str_eq(back.rp_error, rp.rp_error);
	ck_assert_ptr_null(back.rp_status);
	ctl_reply_free(&back);
	buf_free(&b);
}
END_TEST

/* Two frames delivered in two reads split at every byte: both come out whole. */
START_TEST(test_frame_every_split)
{
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_STATUS, .rq_queues = 1 };
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 1 };
	struct buf wire, in;
	char err[128];

	buf_init(&wire);
	ck_assert_int_eq(ctl_request_encode(&wire, &rq), 0);
	rp.rp_status = sample_status();
	ck_assert_int_eq(ctl_reply_encode(&wire, &rp), 0);
	for (size_t split = 0; split <= wire.b_len; split++) {
		int frames = 0;
		buf_init(&in);
		for (int part = 0; part < 2; part++) {
			const void *payload;
			size_t plen;
			ssize_t n;

			if (part == 0)
				buf_append(&in, wire.b_data, split);
			else
				buf_append(&in, wire.b_data + split, wire.b_len - split);
			while ((n = ctl_frame_parse(buf_rptr(&in), buf_rlen(&in), &payload,
			    &plen)) > 0) {
				if (frames == 0) {
					struct ctl_request got;
					ck_assert_int_eq(ctl_request_decode(payload, plen, &got,
					    err, sizeof(err)), 0);
					ck_assert_int_eq(got.rq_cmd, CTL_CMD_STATUS);
				} else {
					struct ctl_reply got;
					ck_assert_int_eq(ctl_reply_decode(payload, plen, &got,
					    err, sizeof(err)), 0);
					assert_status_eq(rp.rp_status, got.rp_status);
					ctl_reply_free(&got);
				}
				frames++;
				buf_consume(&in, (size_t)n);
			}
			ck_assert_int_eq(n, 0);
		}
		ck_assert_int_eq(frames, 2);
		buf_free(&in);
	}
	ctl_status_free(rp.rp_status);
	buf_free(&wire);
}
END_TEST

START_TEST(test_frame_oversize)
{
	unsigned char hdr[4];
	const void *payload;
	size_t plen;
	struct ctl_reply rp = { .rp_version = CTL_VERSION, .rp_ok = 0 };
	struct buf b;
	char *big;

	/* The announced length alone decides: no need to wait for 1 MiB. */
	hdr[0] = 0; hdr[1] = 0x10; hdr[2] = 0; hdr[3] = 1;	/* CTL_FRAME_MAX + 1 */
	ck_assert_int_eq(ctl_frame_parse(hdr, 4, &payload, &plen), -1);
	hdr[3] = 0;						/* exactly the maximum */
	ck_assert_int_eq(ctl_frame_parse(hdr, 4, &payload, &plen), 0);
	ck_assert_int_eq(ctl_frame_parse(hdr, 3, &payload, &plen), 0);

	/* An encoder never produces a frame the other side would refuse. */
	big = malloc(CTL_FRAME_MAX + 10);
	memset(big, 'e', CTL_FRAME_MAX + 9);
	big[CTL_FRAME_MAX + 9] = '\0';
	rp.rp_error = big;
	buf_init(&b);
	buf_append(&b, "keep", 4);
	errno = 0;
	ck_assert_int_eq(ctl_reply_encode(&b, &rp), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(b.b_len, 4);
	free(big);
	buf_free(&b);
}
END_TEST

START_TEST(test_request_version_mismatch)
{
	struct ctl_request rq = { .rq_version = 2, .rq_cmd = CTL_CMD_STATUS }, got;
	const void *payload;
	size_t plen;
	struct buf b;
	char err[128];

	buf_init(&b);
	ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.rq_version, 2);
	ck_assert_int_eq(ctl_request_check(&got, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "protocol version mismatch: client 2, master 1");
	got.rq_version = CTL_VERSION;
	ck_assert_int_eq(ctl_request_check(&got, err, sizeof(err)), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_request_commands)
{
	static const enum ctl_cmd cmds[] = {
		CTL_CMD_STATUS, CTL_CMD_RELOAD, CTL_CMD_QUIET, CTL_CMD_STOP,
	};
	struct ctl_request rq, got;
	const void *payload;
	size_t plen;
	struct buf b;
	char err[128];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(&rq, 0, sizeof(rq));
		rq.rq_version = CTL_VERSION;
		rq.rq_cmd = cmds[i];
		buf_init(&b);
		ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
		ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
		ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), 0);
		ck_assert_int_eq(got.rq_cmd, cmds[i]);
		ck_assert_str_eq(got.rq_name, ctl_cmd_name(cmds[i]));
		ck_assert_int_eq(ctl_cmd_parse(ctl_cmd_name(cmds[i])), cmds[i]);
		buf_free(&b);
	}
	/* status without refreshing queue depths (what perf-test polls with) */
	memset(&rq, 0, sizeof(rq));
	rq.rq_version = CTL_VERSION;
	rq.rq_cmd = CTL_CMD_STATUS;
	buf_init(&b);
	ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.rq_queues, 0);
	buf_free(&b);
	/* a command this side does not know is kept by name */
	memset(&rq, 0, sizeof(rq));
	rq.rq_version = CTL_VERSION;
	strcpy(rq.rq_name, "frobnicate");
	buf_init(&b);
	ck_assert_int_eq(ctl_request_encode(&b, &rq), 0);
	ck_assert_int_gt(ctl_frame_parse(b.b_data, b.b_len, &payload, &plen), 0);
	ck_assert_int_eq(ctl_request_decode(payload, plen, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.rq_cmd, CTL_CMD_UNKNOWN);
	ck_assert_str_eq(got.rq_name, "frobnicate");
	buf_free(&b);
}
END_TEST

/* Packs a request-shaped map with the given v and cmd objects. */
static void
pack_req(msgpack_sbuffer *sb, int v_is_str, int with_cmd)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, with_cmd ? 2 : 1);
	ctl_mp_pack_str(&pk, "v");
	if (v_is_str)
		ctl_mp_pack_str(&pk, "1");
	else
		msgpack_pack_int(&pk, 1);
	if (with_cmd) {
		ctl_mp_pack_str(&pk, "cmd");
		msgpack_pack_int(&pk, 7);
	}
}

START_TEST(test_malformed_requests)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
	} bad[] = {
		{ "", 0 },
		{ "\xc1", 1 },				/* never used */
		{ "\x81", 1 },				/* map missing its pair */
		{ "\x81\xa1v", 3 },			/* map missing a value */
		{ "\x92\x01\x02", 3 },			/* an array */
		{ "\x01\x02", 2 },			/* trailing byte */
		{ "\xdd\xff\xff\xff\xff", 5 },		/* 4G elements announced */
		{ "\xdf\x7f\xff\xff\xff\x01", 6 },	/* 2G pairs announced */
		{ "\xdb\xff\xff\xff\xff" "abc", 8 },	/* string longer than the input */
		{ "\xc7\x05\x01" "ab", 5 },		/* short ext */
		{ "\x81\x01\x02", 3 },			/* map with an integer key only */
	};
	struct ctl_request rq;
	msgpack_sbuffer sb;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(ctl_request_decode(bad[i].bytes, bad[i].len, &rq, err,
		    sizeof(err)) == -1, "case %zu accepted", i);
		ck_assert_msg(err[0] != '\0', "case %zu: no message", i);
	}
	msgpack_sbuffer_init(&sb);
	pack_req(&sb, 1, 0);
	ck_assert_int_eq(ctl_request_decode(sb.data, sb.size, &rq, err, sizeof(err)), -1);
	pack_req(&sb, 0, 0);
	ck_assert_int_eq(ctl_request_decode(sb.data, sb.size, &rq, err, sizeof(err)), -1);
	pack_req(&sb, 0, 1);
	ck_assert_int_eq(ctl_request_decode(sb.data, sb.size, &rq, err, sizeof(err)), -1);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_mp_check)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* Every type the packer writes is walked correctly. */
	msgpack_pack_map(&pk, 3);
	ctl_mp_pack_str(&pk, "a");
	msgpack_pack_array(&pk, 20);
	for (int i = 0; i < 4; i++) {
		msgpack_pack_int64(&pk, -((int64_t)1 << (i * 15)));
		msgpack_pack_uint64(&pk, (uint64_t)1 << (i * 20));
		msgpack_pack_double(&pk, 1.5);
		msgpack_pack_float(&pk, 2.5f);
		msgpack_pack_nil(&pk);
	}
	msgpack_pack_bin(&pk, 300);
	for (int i = 0; i < 300; i++)
		msgpack_pack_bin_body(&pk, "x", 1);
	msgpack_pack_ext(&pk, 2, 1);
	msgpack_pack_ext_body(&pk, "yz", 2);
	ctl_mp_pack_str(&pk, "c");
	msgpack_pack_map(&pk, 0);
	ck_assert_int_eq(ctl_mp_check(sb.data, sb.size), 0);
	for (size_t i = 0; i < sb.size; i++)
		ck_assert_int_eq(ctl_mp_check(sb.data, i), -1);
	/* One object exactly: a byte after it is refused. */
	msgpack_pack_nil(&pk);
	ck_assert_int_eq(ctl_mp_check(sb.data, sb.size), -1);
	msgpack_sbuffer_destroy(&sb);
	/* Counts are checked against what remains, before anything is read. */
	ck_assert_int_eq(ctl_mp_check("\x93\x01\x02\x03", 4), 0);
	ck_assert_int_eq(ctl_mp_check("\xdd\x00\x00\x00\x03\x01\x02\x03", 8), 0);
	ck_assert_int_eq(ctl_mp_check("\xdd\x00\x00\x00\x05\x01\x02\x03", 8), -1);
	ck_assert_int_eq(ctl_mp_check("\xdf\x00\x00\x00\x02\x01\x02\x03", 8), -1);
	ck_assert_int_eq(ctl_mp_check("\xdd\xff\xff\xff\xff", 5), -1);
}
END_TEST

/* A reply map of nkeys keys that starts with "v": 1 and "ok": true. */
static void
pack_reply_head(msgpack_packer *pk, size_t nkeys)
{
	msgpack_pack_map(pk, nkeys);
	ctl_mp_pack_str(pk, "v");
	msgpack_pack_int(pk, 1);
	ctl_mp_pack_str(pk, "ok");
	msgpack_pack_true(pk);
}

START_TEST(test_reply_bad_shapes)
{
	struct ctl_reply rp;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[128];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* ok missing */
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	ck_assert_int_eq(ctl_reply_decode(sb.data, sb.size, &rp, err, sizeof(err)), -1);
	msgpack_sbuffer_clear(&sb);
	/* status with a child that is not a map */
	pack_reply_head(&pk, 3);
	ctl_mp_pack_str(&pk, "status");
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "child");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_int(&pk, 3);
	ck_assert_int_eq(ctl_reply_decode(sb.data, sb.size, &rp, err, sizeof(err)), -1);
	msgpack_sbuffer_clear(&sb);
	/* unknown keys are fine; a field of the wrong type is not */
	pack_reply_head(&pk, 4);
	ctl_mp_pack_str(&pk, "later");
	msgpack_pack_nil(&pk);
	ctl_mp_pack_str(&pk, "status");
	msgpack_pack_map(&pk, 2);
	ctl_mp_pack_str(&pk, "pid");
	msgpack_pack_int(&pk, 12);
	ctl_mp_pack_str(&pk, "newer_field");
	msgpack_pack_int(&pk, 1);
	ck_assert_int_eq(ctl_reply_decode(sb.data, sb.size, &rp, err, sizeof(err)), 0);
	ck_assert_int_eq(rp.rp_status->st_pid, 12);
	ctl_reply_free(&rp);
	msgpack_sbuffer_clear(&sb);
	pack_reply_head(&pk, 3);
	ctl_mp_pack_str(&pk, "status");
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "pid");
	ctl_mp_pack_str(&pk, "12");
	ck_assert_int_eq(ctl_reply_decode(sb.data, sb.size, &rp, err, sizeof(err)), -1);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* The JSON view puts the queues and the child rows beside the scalar fields. */
START_TEST(test_field_names_unique)
{
	for (const struct ctl_field *a = ctl_status_fields; a->f_name != NULL; a++) {
		ck_assert_str_ne(a->f_name, "queues");
		ck_assert_str_ne(a->f_name, "children");
		ck_assert_str_ne(a->f_name, "child");
		for (const struct ctl_field *b = a + 1; b->f_name != NULL; b++)
			ck_assert_str_ne(a->f_name, b->f_name);
	}
	for (const struct ctl_field *a = ctl_child_fields; a->f_name != NULL; a++)
		for (const struct ctl_field *b = a + 1; b->f_name != NULL; b++)
			ck_assert_str_ne(a->f_name, b->f_name);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_status_reply_roundtrip, test_error_reply_roundtrip,
		test_frame_every_split, test_frame_oversize, test_request_version_mismatch,
		test_request_commands, test_malformed_requests, test_mp_check,
		test_reply_bad_shapes, test_field_names_unique, NULL,
	};

	return unit_main("ctl", "core", NULL, NULL, 0, tests);
}
