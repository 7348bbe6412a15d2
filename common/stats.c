/* SPDX-License-Identifier: MIT */
/* stats: the shared region (scoreboard, in-flight tables, msgpack rings) and its records. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <msgpack.h>

#include "ctl.h"
#include "stats.h"

#define ALIGN64(x)		(((x) + 63) & ~(uint64_t)63)
#define RING_MIN		64u
#define RING_MAX		(1u << 30)
#define INFLIGHT_MAX		(1u << 22)
#define NPOS_MAX		4096u
#define SEQLOCK_TRIES		64

/* ==== Region ==== */

static uint64_t
pos_size(uint32_t inflight_cap, uint32_t ring_size)
{
	return ALIGN64(sizeof(struct stats_slot)) + ALIGN64(sizeof(struct stats_count)) +
	    ALIGN64((uint64_t)inflight_cap * sizeof(struct stats_inflight)) +
	    ALIGN64(sizeof(struct stats_ring) + (uint64_t)ring_size);
}

size_t
stats_region_size(const struct stats_header *h)
{
	return (size_t)(ALIGN64(sizeof(*h)) + (uint64_t)h->sh_npos * h->sh_pos_size);
}

struct stats_header *
stats_region_create(uint32_t npos, uint32_t inflight_cap, uint32_t ring_size)
{
	struct stats_header *h, tmp;
	struct stats_pos p;
	uint64_t psz;
	void *m;

	if (npos == 0 || npos > NPOS_MAX || inflight_cap == 0 ||
	    inflight_cap > INFLIGHT_MAX || ring_size < RING_MIN ||
	    ring_size > RING_MAX || (ring_size & (ring_size - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	psz = pos_size(inflight_cap, ring_size);
	tmp.sh_npos = npos;
	tmp.sh_pos_size = (uint32_t)psz;
	/* Anonymous shared memory starts zeroed: every slot FREE, every ring empty. */
	m = mmap(NULL, stats_region_size(&tmp), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	h = m;
	h->sh_magic = STATS_MAGIC;
	h->sh_version = STATS_VERSION;
	h->sh_npos = npos;
	h->sh_inflight_cap = inflight_cap;
	h->sh_ring_size = ring_size;
	h->sh_pos_size = (uint32_t)psz;
	h->sh_master_pid = (int32_t)getpid();
	h->sh_start_ms = now_ms();
	for (uint32_t i = 0; i < npos; i++) {
		stats_region_pos(h, i, &p);
		p.sp_ring->rg_size = ring_size;
		p.sp_slot->sl_index = -1;
		p.sp_slot->sl_cpu = -1;
		p.sp_slot->sl_inflight_cap = inflight_cap;
	}
	return h;
}

void
stats_region_destroy(struct stats_header *h)
{
	if (h != NULL)
		munmap(h, stats_region_size(h));
}

void
stats_region_pos(struct stats_header *h, uint32_t i, struct stats_pos *p)
{
	unsigned char *base;

	FKW_ASSERT(i < h->sh_npos);
	base = (unsigned char *)h + ALIGN64(sizeof(*h)) + (uint64_t)i * h->sh_pos_size;
	p->sp_slot = (struct stats_slot *)base;
	base += ALIGN64(sizeof(struct stats_slot));
	p->sp_count = (struct stats_count *)base;
	base += ALIGN64(sizeof(struct stats_count));
	p->sp_inflight = (struct stats_inflight *)base;
	p->sp_inflight_cap = h->sh_inflight_cap;
	base += ALIGN64((uint64_t)h->sh_inflight_cap * sizeof(struct stats_inflight));
	p->sp_ring = (struct stats_ring *)base;
}

void
stats_pos_clear(struct stats_pos *p)
{
	struct stats_slot *sl = p->sp_slot;

	stats_slot_begin(sl);
	sl->sl_pid = 0;
	sl->sl_state = STATS_ST_FREE;
	sl->sl_index = -1;
	sl->sl_cpu = -1;
	sl->sl_nslots = sl->sl_nconns = sl->sl_connected = sl->sl_busy = 0;
	sl->sl_window = sl->sl_fetching = sl->sl_fetch_rtt_us = sl->sl_nap_us = 0;
	sl->sl_inflight_cap = p->sp_inflight_cap;
	sl->sl_started_ms = sl->sl_updated_ms = 0;
	stats_slot_end(sl);
	stats_count_clear(p->sp_count);
	memset(p->sp_inflight, 0, (size_t)p->sp_inflight_cap * sizeof(*p->sp_inflight));
	atomic_store(&p->sp_ring->rg_head, 0);
	atomic_store(&p->sp_ring->rg_tail, 0);
	atomic_store(&p->sp_ring->rg_dropped, 0);
}

/* ==== Seqlock ==== */

void
stats_slot_begin(struct stats_slot *s)
{
	uint32_t q = atomic_load_explicit(&s->sl_seq, memory_order_relaxed);

	atomic_store_explicit(&s->sl_seq, q + 1, memory_order_relaxed);
	/* Keeps the odd sequence ahead of every data store that follows. */
	atomic_thread_fence(memory_order_release);
}

void
stats_slot_end(struct stats_slot *s)
{
	uint32_t q = atomic_load_explicit(&s->sl_seq, memory_order_relaxed);

	atomic_store_explicit(&s->sl_seq, q + 1, memory_order_release);
}

int
stats_slot_read(const struct stats_slot *s, struct stats_slot *out)
{
	for (int i = 0; i < SEQLOCK_TRIES; i++) {
		uint32_t a = atomic_load_explicit(&s->sl_seq, memory_order_acquire);
		if (a & 1) {
			/* The writer may be preempted mid-update: let it run. */
			sched_yield();
			continue;
		}
		memcpy((void *)out, (const void *)s, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->sl_seq, memory_order_relaxed) == a) {
			atomic_store_explicit(&out->sl_seq, a, memory_order_relaxed);
			return 0;
		}
	}
	return -1;
}

/* ==== Ring ==== */

static void
ring_copy_in(struct stats_ring *r, uint64_t at, const void *p, uint32_t len)
{
	uint32_t off = (uint32_t)(at & (r->rg_size - 1));
	uint32_t first = r->rg_size - off < len ? r->rg_size - off : len;

	memcpy(r->rg_data + off, p, first);
	memcpy(r->rg_data, (const unsigned char *)p + first, len - first);
}

static void
ring_copy_out(const struct stats_ring *r, uint64_t at, void *p, uint32_t len)
{
	uint32_t off = (uint32_t)(at & (r->rg_size - 1));
	uint32_t first = r->rg_size - off < len ? r->rg_size - off : len;

	memcpy(p, r->rg_data + off, first);
	memcpy((unsigned char *)p + first, r->rg_data, len - first);
}

int
stats_ring_put(struct stats_ring *r, const void *p, uint32_t len)
{
	uint64_t head = atomic_load_explicit(&r->rg_head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->rg_tail, memory_order_acquire);
	uint64_t used = head - tail, need = (uint64_t)len + 4;
	uint32_t hdr = len;

	if (used > r->rg_size || need > r->rg_size - used) {
		atomic_fetch_add_explicit(&r->rg_dropped, 1, memory_order_relaxed);
		errno = ENOBUFS;
		return -1;
	}
	ring_copy_in(r, head, &hdr, sizeof(hdr));
	ring_copy_in(r, head + 4, p, len);
	atomic_store_explicit(&r->rg_head, head + need, memory_order_release);
	return 0;
}

int
stats_ring_get(struct stats_ring *r, void *buf, uint32_t cap)
{
	uint32_t size = r->rg_size, len;
	uint64_t tail = atomic_load_explicit(&r->rg_tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->rg_head, memory_order_acquire);
	uint64_t used = head - tail;

	if (used == 0)
		return 0;
	if (size < RING_MIN || size > RING_MAX || (size & (size - 1)) != 0) {
		errno = EBADMSG;
		return -1;
	}
	if (used > size || used < 4)
		goto corrupt;
	ring_copy_out(r, tail, &len, sizeof(len));
	if (len > used - 4)
		goto corrupt;
	if (len > cap) {
		atomic_store_explicit(&r->rg_tail, tail + 4 + len, memory_order_release);
		errno = EMSGSIZE;
		return -1;
	}
	ring_copy_out(r, tail + 4, buf, len);
	atomic_store_explicit(&r->rg_tail, tail + 4 + len, memory_order_release);
	return (int)len;
corrupt:
	stats_ring_reset(r);
	errno = EBADMSG;
	return -1;
}

void
stats_ring_reset(struct stats_ring *r)
{
	/* Consumer side: forget everything unread; the producer carries on from head. */
	atomic_store_explicit(&r->rg_tail,
	    atomic_load_explicit(&r->rg_head, memory_order_acquire), memory_order_release);
}

/* ==== Counter records (msgpack) ==== */

static void
pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
	ctl_mp_pack_str(pk, key);
	msgpack_pack_uint64(pk, v);
}

static void
pack_jobtype(msgpack_packer *pk, const struct stats_jobtype *jt, int with_lat)
{
	msgpack_pack_map(pk, with_lat ? 4 : 3);
	ctl_mp_pack_str(pk, "name");
	ctl_mp_pack_str(pk, jt->jt_name);
	pack_u64(pk, "processed", jt->jt_processed);
	pack_u64(pk, "failed", jt->jt_failed);
	if (!with_lat)
		return;
	ctl_mp_pack_str(pk, "lat");
	hist_pack(pk, &jt->jt_lat);
}

static int
encode(const struct stats_counters *c, int with_jt_lat, void **out, size_t *outlen)
{
	struct ctl_mpw w;
	msgpack_packer pk;
	struct buf b;
	uint32_t njt = c->sc_njt > STATS_JT_MAX ? STATS_JT_MAX : c->sc_njt;

	buf_init(&b);
	ctl_mpw_init(&w, &b, &pk);
	msgpack_pack_map(&pk, 16);
	pack_u64(&pk, "gen", c->sc_generation);
	pack_u64(&pk, "fetched", c->sc_fetched);
	pack_u64(&pk, "fetches", c->sc_fetches);
	pack_u64(&pk, "fetch_empty", c->sc_fetch_empty);
	pack_u64(&pk, "processed", c->sc_processed);
	pack_u64(&pk, "failed", c->sc_failed);
	pack_u64(&pk, "reconnects", c->sc_reconnects);
	pack_u64(&pk, "errors", c->sc_errors);
	pack_u64(&pk, "busy_us", c->sc_busy_us);
	pack_u64(&pk, "naps", c->sc_naps);
	ctl_mp_pack_str(&pk, "rss_kb");
	msgpack_pack_int64(&pk, c->sc_rss_kb);
	ctl_mp_pack_str(&pk, "lat");
	hist_pack(&pk, &c->sc_lat);
	ctl_mp_pack_str(&pk, "pickup");
	hist_pack(&pk, &c->sc_pickup);
	pack_u64(&pk, "pickup_skewed", c->sc_pickup_skewed);
	pack_u64(&pk, "pickup_unknown", c->sc_pickup_unknown);
	ctl_mp_pack_str(&pk, "jt");
	msgpack_pack_array(&pk, njt);
	for (uint32_t i = 0; i < njt; i++)
		pack_jobtype(&pk, &c->sc_jt[i], with_jt_lat);
	if (w.mw_err) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	/* The caller frees the record with free(3): hand over the buffer's memory. */
	*out = b.b_data;
	*outlen = b.b_len;
	return 0;
}

int
stats_counters_encode(const struct stats_counters *c, void **out, size_t *outlen)
{
	return encode(c, 1, out, outlen);
}

int
stats_counters_encode_fit(const struct stats_counters *c, size_t max, void **out,
    size_t *outlen, int *lean)
{
	*lean = 0;
	if (encode(c, 1, out, outlen) == -1)
		return -1;
	if (*outlen <= max)
		return 0;
	free(*out);
	*lean = 1;
	return encode(c, 0, out, outlen);
}

static int
unpack_jobtype(const msgpack_object *o, struct stats_jobtype *jt)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	memset(jt, 0, sizeof(*jt));
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;
		int r = 0;

		if (ctl_mp_key_is(k, "name"))
			r = ctl_mp_str(v, jt->jt_name, sizeof(jt->jt_name));
		else if (ctl_mp_key_is(k, "processed"))
			r = ctl_mp_u64(v, &jt->jt_processed);
		else if (ctl_mp_key_is(k, "failed"))
			r = ctl_mp_u64(v, &jt->jt_failed);
		else if (ctl_mp_key_is(k, "lat"))
			r = hist_unpack(v, &jt->jt_lat);
		if (r == -1)
			return -1;
	}
	return 0;
}

static int
unpack_jobtypes(const msgpack_object *o, struct stats_counters *c)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > STATS_JT_MAX)
		return -1;
	for (uint32_t i = 0; i < o->via.array.size; i++)
		if (unpack_jobtype(&o->via.array.ptr[i], &c->sc_jt[i]) == -1)
			return -1;
	c->sc_njt = o->via.array.size;
	return 0;
}

/* One key of the record; unknown keys are skipped so that records can grow. */
static int
unpack_counter(const msgpack_object *k, const msgpack_object *v,
    struct stats_counters *c)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} u64s[] = {
		{ "fetched", offsetof(struct stats_counters, sc_fetched) },
		{ "fetches", offsetof(struct stats_counters, sc_fetches) },
		{ "fetch_empty", offsetof(struct stats_counters, sc_fetch_empty) },
		{ "processed", offsetof(struct stats_counters, sc_processed) },
		{ "failed", offsetof(struct stats_counters, sc_failed) },
		{ "reconnects", offsetof(struct stats_counters, sc_reconnects) },
		{ "errors", offsetof(struct stats_counters, sc_errors) },
		{ "busy_us", offsetof(struct stats_counters, sc_busy_us) },
		{ "naps", offsetof(struct stats_counters, sc_naps) },
		{ "pickup_skewed", offsetof(struct stats_counters, sc_pickup_skewed) },
		{ "pickup_unknown", offsetof(struct stats_counters, sc_pickup_unknown) },
	};
	uint64_t u;

	for (size_t i = 0; i < FKW_NELEM(u64s); i++)
		if (ctl_mp_key_is(k, u64s[i].name))
			return ctl_mp_u64(v, (uint64_t *)(void *)((char *)c + u64s[i].off));
	if (ctl_mp_key_is(k, "gen")) {
		if (ctl_mp_u64(v, &u) == -1 || u > UINT32_MAX)
			return -1;
		c->sc_generation = (uint32_t)u;
		return 0;
	}
	if (ctl_mp_key_is(k, "rss_kb"))
		return ctl_mp_i64(v, &c->sc_rss_kb);
	if (ctl_mp_key_is(k, "lat"))
		return hist_unpack(v, &c->sc_lat);
	if (ctl_mp_key_is(k, "pickup"))
		return hist_unpack(v, &c->sc_pickup);
	if (ctl_mp_key_is(k, "jt"))
		return unpack_jobtypes(v, c);
	return 0;
}

int
stats_counters_decode(const void *buf, size_t len, struct stats_counters *c)
{
	msgpack_unpacked u;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (ctl_mp_unpack(buf, len, &u) == -1)
		return -1;
	if (u.data.type != MSGPACK_OBJECT_MAP)
		goto out;
	for (uint32_t i = 0; i < u.data.via.map.size; i++)
		if (unpack_counter(&u.data.via.map.ptr[i].key,
		    &u.data.via.map.ptr[i].val, c) == -1)
			goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	if (rc == -1) {
		memset(c, 0, sizeof(*c));
		errno = EBADMSG;
	}
	return rc;
}
