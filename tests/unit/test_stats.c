/* SPDX-License-Identifier: MIT */
/* Unit tests for common/stats.c: region layout, seqlock, ring, counter records. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>

#include "ctl.h"
#include "stats.h"
#include "unit_util.h"

/* A ring on the heap with size data bytes. */
static struct stats_ring *
ring_new(uint32_t size)
{
	struct stats_ring *r = aligned_alloc(64, sizeof(*r) + size);

	ck_assert_ptr_nonnull(r);
	memset(r, 0, sizeof(*r) + size);
	r->rg_size = size;
	return r;
}

START_TEST(test_region_layout)
{
	struct stats_header *h = stats_region_create(4, 1024, 4096);
	struct stats_pos p, q;
	uintptr_t lo, hi;

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->sh_magic, STATS_MAGIC);
	ck_assert_uint_eq(h->sh_version, STATS_VERSION);
	ck_assert_uint_eq(h->sh_npos, 4);
	ck_assert_uint_eq(h->sh_inflight_cap, 1024);
	ck_assert_uint_eq(h->sh_ring_size, 4096);
	ck_assert_int_eq(h->sh_master_pid, getpid());
	ck_assert_uint_eq(h->sh_pos_size % 64, 0);
	ck_assert_uint_ge(h->sh_pos_size, sizeof(struct stats_slot) +
	    1024 * sizeof(struct stats_inflight) + sizeof(struct stats_ring) + 4096);
	ck_assert_uint_eq(stats_region_size(h), 64 + 4 * (size_t)h->sh_pos_size);
	ck_assert_uint_eq(sizeof(struct stats_slot) % 64, 0);
	lo = (uintptr_t)h;
	hi = lo + stats_region_size(h);
	for (uint32_t i = 0; i < 4; i++) {
		stats_region_pos(h, i, &p);
		ck_assert_uint_eq((uintptr_t)p.sp_slot % 64, 0);
		ck_assert_uint_eq((uintptr_t)p.sp_inflight % 64, 0);
		ck_assert_uint_eq((uintptr_t)p.sp_ring % 64, 0);
		ck_assert_uint_eq((uintptr_t)p.sp_ring->rg_data % 64, 0);
		ck_assert((uintptr_t)p.sp_slot >= lo + sizeof(*h));
		ck_assert((uintptr_t)(p.sp_inflight + 1024) <= (uintptr_t)p.sp_ring);
		ck_assert((uintptr_t)p.sp_ring->rg_data + 4096 <= hi);
		ck_assert_uint_eq(p.sp_ring->rg_size, 4096);
		ck_assert_uint_eq(p.sp_inflight_cap, 1024);
		ck_assert_uint_eq(p.sp_slot->sl_state, STATS_ST_FREE);
		if (i > 0) {
			stats_region_pos(h, i - 1, &q);
			ck_assert((uintptr_t)q.sp_ring->rg_data + 4096 <= (uintptr_t)p.sp_slot);
		}
	}
	/* The last byte of the last ring is writable. */
	stats_region_pos(h, 3, &p);
	p.sp_ring->rg_data[4095] = 1;
	stats_region_destroy(h);
}
END_TEST

START_TEST(test_region_rejects_bad_sizes)
{
	errno = 0;
	ck_assert_ptr_null(stats_region_create(4, 1024, 5000));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(stats_region_create(0, 1024, 4096));
	ck_assert_ptr_null(stats_region_create(4, 0, 4096));
	ck_assert_ptr_null(stats_region_create(4, 1024, 32));
}
END_TEST

START_TEST(test_region_shared_across_fork)
{
	struct stats_header *h = stats_region_create(2, 16, 1024);
	struct stats_pos p;
	int st;
	pid_t pid;

	ck_assert_ptr_nonnull(h);
	stats_region_pos(h, 1, &p);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		stats_slot_begin(p.sp_slot);
		p.sp_slot->sl_pid = (int32_t)getpid();
		p.sp_slot->sl_busy = 7;
		stats_slot_end(p.sp_slot);
		strcpy(p.sp_inflight[3].if_jid, "jid-from-child");
		_exit(stats_ring_put(p.sp_ring, "hello", 5) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(p.sp_slot->sl_pid, pid);
	ck_assert_uint_eq(p.sp_slot->sl_busy, 7);
	ck_assert_str_eq(p.sp_inflight[3].if_jid, "jid-from-child");
	stats_pos_clear(&p);
	ck_assert_uint_eq(p.sp_slot->sl_busy, 0);
	ck_assert_uint_eq(p.sp_slot->sl_state, STATS_ST_FREE);
	ck_assert_str_eq(p.sp_inflight[3].if_jid, "");
	ck_assert_uint_eq(atomic_load(&p.sp_ring->rg_head), 0);
	stats_region_destroy(h);
}
END_TEST

START_TEST(test_ring_put_get)
{
	struct stats_ring *r = ring_new(256);
	char out[64];

	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_int_eq(stats_ring_put(r, "one", 3), 0);
	ck_assert_int_eq(stats_ring_put(r, "", 0), 0);
	ck_assert_int_eq(stats_ring_put(r, "three", 5), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "one", 3) == 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);	/* the empty record */
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 5);
	ck_assert(memcmp(out, "three", 5) == 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_uint_eq(atomic_load(&r->rg_head), atomic_load(&r->rg_tail));
	free(r);
}
END_TEST

START_TEST(test_ring_wraps)
{
	struct stats_ring *r = ring_new(64);
	unsigned char rec[2][21], out[64];

	/* Two 25-byte records in flight in a 64-byte ring: they keep crossing the end. */
	for (int i = 0; i < 200; i++) {
		for (size_t k = 0; k < sizeof(rec[0]); k++)
			rec[i % 2][k] = (unsigned char)(i * 7 + k);
		ck_assert_int_eq(stats_ring_put(r, rec[i % 2], sizeof(rec[0])), 0);
		if (i % 2 == 0)
			continue;
		for (int j = 0; j < 2; j++) {
			ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), (int)sizeof(rec[0]));
			ck_assert(memcmp(out, rec[j], sizeof(rec[0])) == 0);
		}
	}
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_uint_eq(atomic_load(&r->rg_dropped), 0);
	ck_assert_uint_gt(atomic_load(&r->rg_head), 64 * 10);
	free(r);
}
END_TEST

START_TEST(test_ring_full_drops)
{
	struct stats_ring *r = ring_new(64);
	char rec[26] = "abcdefghijklmnopqrstuvwxyz", out[64];

	ck_assert_int_eq(stats_ring_put(r, rec, 26), 0);	/* 30 bytes */
	ck_assert_int_eq(stats_ring_put(r, rec, 26), 0);	/* 60 bytes */
	ck_assert_int_eq(stats_ring_put(r, rec, 26), -1);
	ck_assert_int_eq(stats_ring_put(r, rec, 1), -1);	/* 5 > 4 left */
	ck_assert_uint_eq(atomic_load(&r->rg_dropped), 2);
	ck_assert_int_eq(stats_ring_put(r, rec, 0), 0);	/* exactly 4 left */
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 26);
	ck_assert_int_eq(stats_ring_put(r, rec, 26), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 26);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 26);
	ck_assert(memcmp(out, rec, 26) == 0);
	ck_assert_uint_eq(atomic_load(&r->rg_dropped), 2);
	free(r);
}
END_TEST

START_TEST(test_ring_oversize)
{
	struct stats_ring *r = ring_new(64);
	char big[100], out[8];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(stats_ring_put(r, big, 61), -1);	/* never fits */
	ck_assert_int_eq(stats_ring_put(r, big, 60), 0);	/* exactly the ring */
	ck_assert_uint_eq(atomic_load(&r->rg_dropped), 1);
	/* A record larger than the reader's buffer is skipped, not stuck. */
	errno = 0;
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_int_eq(stats_ring_put(r, "ok", 2), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 2);
	free(r);
}
END_TEST

START_TEST(test_ring_corrupt_resets)
{
	struct stats_ring *r = ring_new(64);
	char out[64];
	uint32_t bad = 1000;

	/* head ahead of tail by more than the ring holds */
	atomic_store(&r->rg_head, 200);
	atomic_store(&r->rg_tail, 10);
	errno = 0;
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);
	ck_assert_int_eq(stats_ring_put(r, "abc", 3), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 3);

	/* a length field that runs past what was written */
	ck_assert_int_eq(stats_ring_put(r, "abcdef", 6), 0);
	memcpy(r->rg_data + (atomic_load(&r->rg_tail) & 63), &bad, 4);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), -1);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 0);

	/* tail ahead of head (wrapped garbage) */
	atomic_store(&r->rg_tail, atomic_load(&r->rg_head) + 8);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), -1);
	ck_assert_int_eq(stats_ring_put(r, "xy", 2), 0);
	ck_assert_int_eq(stats_ring_get(r, out, sizeof(out)), 2);
	free(r);
}
END_TEST

/* A producer in another process, the consumer here: order kept, nothing torn. */
START_TEST(test_ring_across_processes)
{
	struct stats_header *h = stats_region_create(1, 1, 1024);
	struct stats_pos p;
	uint32_t next = 0, v[8];
	int st, got = 0;
	pid_t pid;

	ck_assert_ptr_nonnull(h);
	stats_region_pos(h, 0, &p);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (uint32_t i = 0; i < 20000; i++) {
			for (int k = 0; k < 8; k++)
				v[k] = i;
			while (stats_ring_put(p.sp_ring, v, sizeof(v)) == -1)
				sched_yield();
		}
		_exit(0);
	}
	while (next < 20000) {
		int n = stats_ring_get(p.sp_ring, v, sizeof(v));
		if (n == 0) {
			if (got++ > 50000000)
				break;
			sched_yield();
			continue;
		}
		ck_assert_int_eq(n, (int)sizeof(v));
		for (int k = 0; k < 8; k++)
			ck_assert_uint_eq(v[k], next);
		next++;
	}
	ck_assert_uint_eq(next, 20000);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	stats_region_destroy(h);
}
END_TEST

START_TEST(test_seqlock_basic)
{
	struct stats_slot s, out;

	memset(&s, 0, sizeof(s));
	stats_slot_begin(&s);
	ck_assert_uint_eq(atomic_load(&s.sl_seq) & 1, 1);
	s.sl_pid = 42;
	s.sl_busy = 3;
	stats_slot_end(&s);
	ck_assert_uint_eq(atomic_load(&s.sl_seq), 2);
	ck_assert_int_eq(stats_slot_read(&s, &out), 0);
	ck_assert_int_eq(out.sl_pid, 42);
	ck_assert_uint_eq(out.sl_busy, 3);
	/* A writer that died mid-update leaves the slot busy: bounded retries. */
	stats_slot_begin(&s);
	ck_assert_int_eq(stats_slot_read(&s, &out), -1);
}
END_TEST

static struct stats_slot shared_slot;
static atomic_int writer_stop;

static void *
writer(void *arg)
{
	(void)arg;
	for (uint32_t v = 1; !atomic_load(&writer_stop); v++) {
		stats_slot_begin(&shared_slot);
		shared_slot.sl_connected = v;
		shared_slot.sl_busy = v;
		shared_slot.sl_started_ms = v;
		shared_slot.sl_updated_ms = v;
		stats_slot_end(&shared_slot);
	}
	return NULL;
}

START_TEST(test_seqlock_concurrent)
{
	struct stats_slot out;
	pthread_t t;
	int ok = 0;

	memset(&shared_slot, 0, sizeof(shared_slot));
	atomic_store(&writer_stop, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, writer, NULL), 0);
	for (int i = 0; i < 200000; i++) {
		if (stats_slot_read(&shared_slot, &out) == -1)
			continue;
		ok++;
		ck_assert_uint_eq(out.sl_connected, out.sl_busy);
		ck_assert_uint_eq((uint64_t)out.sl_connected, out.sl_started_ms);
		ck_assert_uint_eq(out.sl_started_ms, out.sl_updated_ms);
	}
	atomic_store(&writer_stop, 1);
	pthread_join(t, NULL);
	ck_assert_int_gt(ok, 1000);
}
END_TEST

/* Field by field: the struct has padding that a round trip need not keep. */
static void
assert_counters_eq(const struct stats_counters *a, const struct stats_counters *b)
{
	ck_assert_uint_eq(a->sc_generation, b->sc_generation);
	ck_assert_uint_eq(a->sc_fetched, b->sc_fetched);
	ck_assert_uint_eq(a->sc_fetches, b->sc_fetches);
	ck_assert_uint_eq(a->sc_fetch_empty, b->sc_fetch_empty);
	ck_assert_uint_eq(a->sc_processed, b->sc_processed);
	ck_assert_uint_eq(a->sc_failed, b->sc_failed);
	ck_assert_uint_eq(a->sc_reconnects, b->sc_reconnects);
	ck_assert_uint_eq(a->sc_errors, b->sc_errors);
	ck_assert_uint_eq(a->sc_busy_us, b->sc_busy_us);
	ck_assert_uint_eq(a->sc_naps, b->sc_naps);
	ck_assert_int_eq(a->sc_rss_kb, b->sc_rss_kb);
	ck_assert(memcmp(&a->sc_lat, &b->sc_lat, sizeof(a->sc_lat)) == 0);
	ck_assert(memcmp(&a->sc_pickup, &b->sc_pickup, sizeof(a->sc_pickup)) == 0);
	ck_assert_uint_eq(a->sc_pickup_skewed, b->sc_pickup_skewed);
	ck_assert_uint_eq(a->sc_pickup_unknown, b->sc_pickup_unknown);
	ck_assert_uint_eq(a->sc_njt, b->sc_njt);
	for (uint32_t i = 0; i < a->sc_njt; i++) {
		ck_assert_str_eq(a->sc_jt[i].jt_name, b->sc_jt[i].jt_name);
		ck_assert_uint_eq(a->sc_jt[i].jt_processed, b->sc_jt[i].jt_processed);
		ck_assert_uint_eq(a->sc_jt[i].jt_failed, b->sc_jt[i].jt_failed);
		ck_assert(memcmp(&a->sc_jt[i].jt_lat, &b->sc_jt[i].jt_lat,
		    sizeof(a->sc_jt[i].jt_lat)) == 0);
	}
}

static void
fill_counters(struct stats_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->sc_generation = 7;
	c->sc_fetched = 1000001;
	c->sc_fetches = 1000007;
	c->sc_fetch_empty = 6;
	c->sc_processed = 999990;
	c->sc_failed = 10;
	c->sc_reconnects = 3;
	c->sc_errors = 2;
	c->sc_busy_us = 123456789012ull;
	c->sc_naps = 4242;
	c->sc_lat.h_count[0] = 5;
	c->sc_lat.h_count[hist_bucket(12)] = 999990;
	c->sc_lat.h_count[hist_bucket(700000)] = 5;
	c->sc_lat.h_sum_us = 123456789012ull;
	hist_add(&c->sc_pickup, 1500);
	hist_add(&c->sc_pickup, 0);
	c->sc_pickup_skewed = 1;
	c->sc_pickup_unknown = 4;
	c->sc_rss_kb = 10240;
	c->sc_njt = 2;
	strcpy(c->sc_jt[0].jt_name, "noop");
	c->sc_jt[0].jt_processed = 999980;
	c->sc_jt[0].jt_lat.h_count[hist_bucket(12)] = 999980;
	strcpy(c->sc_jt[1].jt_name, "resize");
	c->sc_jt[1].jt_processed = 10;
	c->sc_jt[1].jt_failed = 10;
	c->sc_jt[1].jt_lat.h_count[HIST_BUCKETS - 1] = 20;
}

START_TEST(test_counters_roundtrip)
{
	static struct stats_counters c, d;
	void *rec;
	size_t len;
	int lean;

	fill_counters(&c);
	ck_assert_int_eq(stats_counters_encode(&c, &rec, &len), 0);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_lt(len, 512);
	ck_assert_int_eq(stats_counters_decode(rec, len, &d), 0);
	assert_counters_eq(&c, &d);
	/* Every truncation is refused. */
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(stats_counters_decode(rec, i, &d), -1);
	free(rec);

	/* Small enough: encoded whole. */
	ck_assert_int_eq(stats_counters_encode_fit(&c, STATS_RING_DEFAULT / 4, &rec, &len,
	    &lean), 0);
	ck_assert_int_eq(lean, 0);
	ck_assert_int_eq(stats_counters_decode(rec, len, &d), 0);
	assert_counters_eq(&c, &d);
	free(rec);

	/*
	 * A full record (every jobtype, every bucket of every histogram) is too
	 * large for a quarter of the ring: it goes without the per-jobtype
	 * histograms, keeping every count, and fits easily.
	 */
	memset(&c, 0xff, sizeof(c));
	c.sc_njt = STATS_JT_MAX;
	c.sc_rss_kb = -1;
	for (int i = 0; i < STATS_JT_MAX; i++) {
		memset(c.sc_jt[i].jt_name, 'a', sizeof(c.sc_jt[i].jt_name) - 1);
		c.sc_jt[i].jt_name[sizeof(c.sc_jt[i].jt_name) - 1] = '\0';
	}
	c.sc_generation = 1;
	ck_assert_int_eq(stats_counters_encode(&c, &rec, &len), 0);
	ck_assert_uint_gt(len, STATS_RING_DEFAULT / 4);
	ck_assert_int_eq(stats_counters_decode(rec, len, &d), 0);
	assert_counters_eq(&c, &d);
	free(rec);
	ck_assert_int_eq(stats_counters_encode_fit(&c, STATS_RING_DEFAULT / 4, &rec, &len,
	    &lean), 0);
	ck_assert_int_eq(lean, 1);
	ck_assert_uint_lt(len, STATS_RING_DEFAULT / 8);
	ck_assert_int_eq(stats_counters_decode(rec, len, &d), 0);
	for (int i = 0; i < STATS_JT_MAX; i++) {
		memset(&c.sc_jt[i].jt_lat, 0, sizeof(c.sc_jt[i].jt_lat));
	}
	assert_counters_eq(&c, &d);
	free(rec);
}
END_TEST

START_TEST(test_counters_unknown_keys_and_bad_types)
{
	static struct stats_counters d;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	ctl_mp_pack_str(&pk, "future_key");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 1);
	ctl_mp_pack_str(&pk, "x");
	ctl_mp_pack_str(&pk, "processed");
	msgpack_pack_uint64(&pk, 5);
	ctl_mp_pack_str(&pk, "rss_kb");
	msgpack_pack_int64(&pk, -1);
	ck_assert_int_eq(stats_counters_decode(sb.data, sb.size, &d), 0);
	ck_assert_uint_eq(d.sc_processed, 5);
	ck_assert_int_eq(d.sc_rss_kb, -1);
	ck_assert_uint_eq(d.sc_njt, 0);
	msgpack_sbuffer_clear(&sb);

	/* a negative counter */
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "failed");
	msgpack_pack_int64(&pk, -3);
	ck_assert_int_eq(stats_counters_decode(sb.data, sb.size, &d), -1);
	msgpack_sbuffer_clear(&sb);

	/* a latency bucket past the last one */
	msgpack_pack_map(&pk, 1);
	ctl_mp_pack_str(&pk, "pickup");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, HIST_BUCKETS);
	msgpack_pack_int(&pk, 1);
	ck_assert_int_eq(stats_counters_decode(sb.data, sb.size, &d), -1);
	msgpack_sbuffer_clear(&sb);

	/* not a map at all */
	msgpack_pack_array(&pk, 0);
	ck_assert_int_eq(stats_counters_decode(sb.data, sb.size, &d), -1);
	msgpack_sbuffer_destroy(&sb);

	/* an array announcing 4 billion elements in 5 bytes */
	ck_assert_int_eq(stats_counters_decode("\xdd\xff\xff\xff\xff", 5, &d), -1);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_region_layout, test_region_rejects_bad_sizes,
		test_region_shared_across_fork, test_ring_put_get, test_ring_wraps,
		test_ring_full_drops, test_ring_oversize, test_ring_corrupt_resets,
		test_ring_across_processes, test_seqlock_basic, test_seqlock_concurrent,
		test_counters_roundtrip,
		test_counters_unknown_keys_and_bad_types, NULL,
	};

	return unit_main("stats", "core", NULL, NULL, 60, tests);
}
