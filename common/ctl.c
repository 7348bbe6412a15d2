/* SPDX-License-Identifier: MIT */
/* ctl: control protocol frames, requests and replies as msgpack (no I/O, no logging). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* ==== msgpack helpers ==== */

static int
mpw_write(void *data, const char *p, size_t n)
{
	struct ctl_mpw *w = data;

	if (w->mw_err || buf_append(w->mw_buf, p, n) == -1) {
		w->mw_err = 1;
		return -1;
	}
	return 0;
}

void
ctl_mpw_init(struct ctl_mpw *w, struct buf *b, msgpack_packer *pk)
{
	w->mw_buf = b;
	w->mw_err = 0;
	msgpack_packer_init(pk, w, mpw_write);
}

/* Big-endian integer of n bytes at *p, advancing it; -1 if fewer remain. */
static int
rd_be(const unsigned char **p, const unsigned char *end, int n, uint64_t *v)
{
	if (end - *p < n)
		return -1;
	*v = 0;
	for (int i = 0; i < n; i++)
		*v = (*v << 8) | (*p)[i];
	*p += n;
	return 0;
}

/*
 * What follows a type byte: fixed payload bytes (*skip), a length field of
 * lenbytes bytes plus extra bytes (str, bin, ext), or a count of elements
 * (*add; maps count keys and values). -1 for the never-used byte 0xc1.
 */
static int
mp_shape(unsigned b, int *lenbytes, int *extra, int *countbytes, int *countmul,
    uint64_t *skip, uint64_t *add)
{
	static const unsigned char fixed[] = {	/* 0xca..0xd8 */
		4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 2, 3, 5, 9, 17,
	};

	*lenbytes = *extra = *countbytes = 0;
	*countmul = 1;
	*skip = *add = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 0;
	if (b <= 0x8f) {
		*add = 2 * (b & 0x0f);
		return 0;
	}
	if (b <= 0x9f) {
		*add = b & 0x0f;
		return 0;
	}
	if (b <= 0xbf) {
		*skip = b & 0x1f;
		return 0;
	}
	switch (b) {
	case 0xc4: case 0xd9: *lenbytes = 1; return 0;
	case 0xc5: case 0xda: *lenbytes = 2; return 0;
	case 0xc6: case 0xdb: *lenbytes = 4; return 0;
	case 0xc7: *lenbytes = 1; *extra = 1; return 0;
	case 0xc8: *lenbytes = 2; *extra = 1; return 0;
	case 0xc9: *lenbytes = 4; *extra = 1; return 0;
	case 0xdc: *countbytes = 2; return 0;
	case 0xdd: *countbytes = 4; return 0;
	case 0xde: *countbytes = 2; *countmul = 2; return 0;
	case 0xdf: *countbytes = 4; *countmul = 2; return 0;
	default: break;
	}
	if (b >= 0xca && b <= 0xd8) {
		*skip = fixed[b - 0xca];
		return 0;
	}
	return -1;
}

int
ctl_mp_check(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	uint64_t need = 1, skip, add, v;
	int lenbytes, extra, countbytes, countmul;

	while (need > 0) {
		if (p >= end)
			return -1;
		need--;
		if (mp_shape(*p++, &lenbytes, &extra, &countbytes, &countmul,
		    &skip, &add) == -1)
			return -1;
		if (lenbytes > 0) {
			if (rd_be(&p, end, lenbytes, &v) == -1)
				return -1;
			skip = v + (uint64_t)extra;
		} else if (countbytes > 0) {
			if (rd_be(&p, end, countbytes, &v) == -1)
				return -1;
			add = v * (uint64_t)countmul;
		}
		if (skip > (uint64_t)(end - p))
			return -1;
		p += skip;
		need += add;
	}
	return p == end ? 0 : -1;
}

int
ctl_mp_unpack(const void *buf, size_t len, msgpack_unpacked *u)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	if (ctl_mp_check(buf, len) == -1 ||
	    msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len) {
		msgpack_unpacked_destroy(u);
		return -1;
	}
	return 0;
}

int
ctl_mp_key_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	    memcmp(o->via.str.ptr, s, n) == 0;
}

int
ctl_mp_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*v = o->via.u64;
	return 0;
}

int
ctl_mp_i64(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > INT64_MAX)
		return -1;
	*v = (int64_t)o->via.u64;
	return 0;
}

int
ctl_mp_str(const msgpack_object *o, char *out, size_t cap)
{
	size_t n;

	if (o->type != MSGPACK_OBJECT_STR || cap == 0)
		return -1;
	n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
	memcpy(out, o->via.str.ptr, n);
	out[n] = '\0';
	return 0;
}

void
ctl_mp_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static int
mp_double(const msgpack_object *o, double *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; return 0;
	default: return -1;
	}
}

/* A malloc'd NUL-terminated copy of a string object; NULL if not a string. */
static char *
mp_strdup(const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR || (s = malloc(o->via.str.size + 1)) == NULL)
		return NULL;
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

/* ==== Frames ==== */

ssize_t
ctl_frame_parse(const void *buf, size_t len, const void **payload, size_t *plen)
{
	const unsigned char *p = buf;
	uint32_t n;

	if (len < CTL_HDR_LEN)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n > CTL_FRAME_MAX)
		return -1;
	if (len - CTL_HDR_LEN < n)
		return 0;
	*payload = p + CTL_HDR_LEN;
	*plen = n;
	return (ssize_t)(CTL_HDR_LEN + n);
}

/* Starts a frame: reserves the header; frame_end fills it in. */
static size_t
frame_begin(struct buf *b, struct ctl_mpw *w, msgpack_packer *pk)
{
	size_t start = b->b_len;

	ctl_mpw_init(w, b, pk);
	mpw_write(w, "\0\0\0\0", CTL_HDR_LEN);
	return start;
}

static int
frame_end(struct buf *b, struct ctl_mpw *w, size_t start)
{
	size_t n;
	unsigned char *h;

	if (w->mw_err) {
		b->b_len = start;
		errno = ENOMEM;
		return -1;
	}
	n = b->b_len - start - CTL_HDR_LEN;
	if (n > CTL_FRAME_MAX) {
		b->b_len = start;
		errno = EMSGSIZE;
		return -1;
	}
	h = (unsigned char *)b->b_data + start;
	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	return 0;
}

/* ==== Requests ==== */

static const char *const cmd_names[] = {
	[CTL_CMD_UNKNOWN] = "?",
	[CTL_CMD_STATUS] = "status",
	[CTL_CMD_RELOAD] = "reload",
	[CTL_CMD_QUIET] = "quiet",
	[CTL_CMD_STOP] = "stop",
	[CTL_CMD_BUSY] = "busy",
};

const char *
ctl_cmd_name(enum ctl_cmd c)
{
	return (size_t)c < FKW_NELEM(cmd_names) ? cmd_names[c] : "?";
}

enum ctl_cmd
ctl_cmd_parse(const char *s)
{
	for (size_t i = 1; i < FKW_NELEM(cmd_names); i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return (enum ctl_cmd)i;
	return CTL_CMD_UNKNOWN;
}

int
ctl_request_encode(struct buf *b, const struct ctl_request *rq)
{
	struct ctl_mpw w;
	msgpack_packer pk;
	size_t start = frame_begin(b, &w, &pk);
	int status = rq->rq_cmd == CTL_CMD_STATUS, busy = rq->rq_cmd == CTL_CMD_BUSY;

	msgpack_pack_map(&pk, status || busy ? 3 : 2);
	ctl_mp_pack_str(&pk, "v");
	msgpack_pack_int64(&pk, rq->rq_version);
	ctl_mp_pack_str(&pk, "cmd");
	ctl_mp_pack_str(&pk, rq->rq_cmd == CTL_CMD_UNKNOWN ? rq->rq_name :
	    ctl_cmd_name(rq->rq_cmd));
	if (status) {
		ctl_mp_pack_str(&pk, "queues");
		if (rq->rq_queues)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
	}
	if (busy) {
		ctl_mp_pack_str(&pk, "limit");
		msgpack_pack_uint32(&pk, rq->rq_limit);
	}
	return frame_end(b, &w, start);
}

int
ctl_request_decode(const void *p, size_t len, struct ctl_request *rq, char *err,
    size_t errlen)
{
	msgpack_unpacked u;
	const msgpack_object *m;
	int have_v = 0, have_cmd = 0, bad = 0;

	memset(rq, 0, sizeof(*rq));
	rq->rq_queues = 1;
	rq->rq_limit = CTL_BUSY_LIMIT_DEFAULT;
	if (ctl_mp_unpack(p, len, &u) == -1) {
		snprintf(err, errlen, "not a msgpack object");
		return -1;
	}
	m = &u.data;
	if (m->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "request is not a map");
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	for (uint32_t i = 0; i < m->via.map.size && !bad; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const msgpack_object *v = &m->via.map.ptr[i].val;

		if (ctl_mp_key_is(k, "v")) {
			have_v = 1;
			bad = ctl_mp_i64(v, &rq->rq_version) == -1;
		} else if (ctl_mp_key_is(k, "cmd")) {
			have_cmd = 1;
			bad = ctl_mp_str(v, rq->rq_name, sizeof(rq->rq_name)) == -1;
		} else if (ctl_mp_key_is(k, "queues")) {
			bad = v->type != MSGPACK_OBJECT_BOOLEAN;
			if (!bad)
				rq->rq_queues = v->via.boolean;
		} else if (ctl_mp_key_is(k, "limit")) {
			uint64_t n;
			bad = ctl_mp_u64(v, &n) == -1 || n < 1 || n > CTL_BUSY_LIMIT_MAX;
			if (!bad)
				rq->rq_limit = (uint32_t)n;
		}
	}
	msgpack_unpacked_destroy(&u);
	if (bad || !have_v || !have_cmd) {
		snprintf(err, errlen, "request needs an integer \"v\" and a string \"cmd\"");
		return -1;
	}
	rq->rq_cmd = ctl_cmd_parse(rq->rq_name);
	return 0;
}

int
ctl_request_check(const struct ctl_request *rq, char *err, size_t errlen)
{
	if (rq->rq_version != CTL_VERSION) {
		snprintf(err, errlen, "protocol version mismatch: client %lld, master %d",
		    (long long)rq->rq_version, CTL_VERSION);
		return -1;
	}
	return 0;
}

/* ==== Status fields ==== */

#define SF(name, type, member) CTL_FIELD(struct ctl_status, name, type, member)
#define CF(name, type, member) CTL_FIELD(struct ctl_child, name, type, member)

const struct ctl_field ctl_status_fields[] = {
	SF("version", CTL_F_STR, st_version),
	SF("pid", CTL_F_I32, st_pid),
	SF("hostname", CTL_F_STR, st_hostname),
	SF("wid", CTL_F_STR, st_wid),
	SF("url", CTL_F_STR, st_url),
	SF("conf_file", CTL_F_STR, st_conf_file),
	SF("state", CTL_F_STR, st_state),
	SF("uptime_ms", CTL_F_U64, st_uptime_ms),
	SF("cpus", CTL_F_U32, st_cpus),
	SF("concurrency", CTL_F_U32, st_concurrency),
	SF("concurrency_mode", CTL_F_STR, st_concurrency_mode),
	SF("concurrency_min", CTL_F_U32, st_concurrency_min),
	SF("concurrency_max", CTL_F_U32, st_concurrency_max),
	SF("auto_last", CTL_F_STR, st_auto_last),
	SF("slots", CTL_F_U32, st_slots),
	SF("connections", CTL_F_U32, st_connections),
	SF("connected", CTL_F_U32, st_connected),
	SF("busy", CTL_F_U32, st_busy),
	SF("fetching", CTL_F_U32, st_fetching),
	SF("fetches", CTL_F_U64, st_fetches),
	SF("fetch_empty", CTL_F_U64, st_fetch_empty),
	SF("naps", CTL_F_U64, st_naps),
	SF("processed", CTL_F_U64, st_processed),
	SF("failed", CTL_F_U64, st_failed),
	SF("jobs_per_sec", CTL_F_DBL, st_jobs_per_sec),
	SF("latency_p50_us", CTL_F_U64, st_p50_us),
	SF("latency_p99_us", CTL_F_U64, st_p99_us),
	SF("latency_window", CTL_F_STR, st_lat_window),
	SF("pickup_p50_us", CTL_F_U64, st_pickup_p50_us),
	SF("pickup_p99_us", CTL_F_U64, st_pickup_p99_us),
	SF("pickup_jobs", CTL_F_U64, st_pickup_n),
	SF("pickup_skewed", CTL_F_U64, st_pickup_skewed),
	SF("rss_kb", CTL_F_I64, st_rss_kb),
	SF("restarts", CTL_F_U64, st_restarts),
	SF("stats_dropped", CTL_F_U64, st_dropped),
	SF("sampled_ms", CTL_F_U64, st_sampled_ms),
	SF("faktory_connected", CTL_F_BOOL, st_faktory_up),
	SF("faktory_error", CTL_F_STR, st_faktory_error),
	SF("queues_known", CTL_F_BOOL, st_queues_known),
	SF("queues_age_ms", CTL_F_U64, st_queues_age_ms),
	SF("cpu_percent", CTL_F_DBL, st_cpu_pct),
	SF("cpu_seconds", CTL_F_DBL, st_cpu_s),
	SF("cpu_cores", CTL_F_U32, st_cpu_cores),
	SF("saturated_percent", CTL_F_DBL, st_sat_pct),
	SF("saturated_count", CTL_F_U64, st_sat_count),
	SF("queues_trend_window_ms", CTL_F_U64, st_trend_window_ms),
	SF("queues_omitted", CTL_F_U32, st_queues_omitted),
	SF("server_retries", CTL_F_I64, st_server_retries),
	SF("server_dead", CTL_F_I64, st_server_dead),
	SF("server_scheduled", CTL_F_I64, st_server_scheduled),
	SF("last_done_ms", CTL_F_U64, st_last_done_ms),
	{ NULL, CTL_F_I32, 0, 0 },
};

const struct ctl_field ctl_child_fields[] = {
	CF("index", CTL_F_I32, cc_index),
	CF("cpu", CTL_F_I32, cc_cpu),
	CF("pid", CTL_F_I32, cc_pid),
	CF("generation", CTL_F_U32, cc_generation),
	CF("state", CTL_F_STR, cc_state),
	CF("slots", CTL_F_U32, cc_slots),
	CF("connections", CTL_F_U32, cc_connections),
	CF("connected", CTL_F_U32, cc_connected),
	CF("busy", CTL_F_U32, cc_busy),
	CF("fetch_window", CTL_F_U32, cc_window),
	CF("fetching", CTL_F_U32, cc_fetching),
	CF("fetch_rtt_us", CTL_F_U32, cc_fetch_rtt_us),
	CF("nap_us", CTL_F_U32, cc_nap_us),
	CF("processed", CTL_F_U64, cc_processed),
	CF("failed", CTL_F_U64, cc_failed),
	CF("jobs_per_sec", CTL_F_DBL, cc_jobs_per_sec),
	CF("rss_kb", CTL_F_I64, cc_rss_kb),
	CF("restarts", CTL_F_U32, cc_restarts),
	CF("uptime_ms", CTL_F_U64, cc_uptime_ms),
	CF("sampled_ms", CTL_F_U64, cc_sampled_ms),
	CF("cpu_percent", CTL_F_DBL, cc_cpu_pct),
	CF("cpu_seconds", CTL_F_DBL, cc_cpu_s),
	CF("saturated_percent", CTL_F_DBL, cc_sat_pct),
	CF("saturated_count", CTL_F_U64, cc_sat_count),
	CF("last_done_ms", CTL_F_U64, cc_last_done_ms),
	CF("index_done", CTL_F_U64, cc_index_done),
	{ NULL, CTL_F_I32, 0, 0 },
};

#define QF(name, type, member) CTL_FIELD(struct ctl_queue, name, type, member)

const struct ctl_field ctl_queue_fields[] = {
	QF("name", CTL_F_STR, cq_name),
	QF("size", CTL_F_I64, cq_size),
	QF("configured", CTL_F_BOOL, cq_configured),
	QF("trend_known", CTL_F_BOOL, cq_trend_known),
	QF("trend_per_sec", CTL_F_DBL, cq_trend),
	{ NULL, CTL_F_I32, 0, 0 },
};

#define JF(name, type, member) CTL_FIELD(struct ctl_jobtype, name, type, member)
#define FF(name, type, member) CTL_FIELD(struct ctl_failure, name, type, member)

const struct ctl_field ctl_jobtype_fields[] = {
	JF("name", CTL_F_STR, cj_name),
	JF("processed", CTL_F_U64, cj_processed),
	JF("failed", CTL_F_U64, cj_failed),
	{ NULL, CTL_F_I32, 0, 0 },
};

const struct ctl_field ctl_failure_fields[] = {
	FF("jobtype", CTL_F_STR, cf_jobtype),
	FF("errtype", CTL_F_STR, cf_errtype),
	FF("failed", CTL_F_U64, cf_failed),
	{ NULL, CTL_F_I32, 0, 0 },
};

static size_t
nfields(const struct ctl_field *f)
{
	size_t n = 0;

	while (f[n].f_name != NULL)
		n++;
	return n;
}

static void
pack_field(msgpack_packer *pk, const struct ctl_field *f, const void *base)
{
	const char *p = (const char *)base + f->f_off;

	ctl_mp_pack_str(pk, f->f_name);
	switch (f->f_type) {
	case CTL_F_I32: msgpack_pack_int32(pk, *(const int32_t *)(const void *)p); break;
	case CTL_F_U32: msgpack_pack_uint32(pk, *(const uint32_t *)(const void *)p); break;
	case CTL_F_I64: msgpack_pack_int64(pk, *(const int64_t *)(const void *)p); break;
	case CTL_F_U64: msgpack_pack_uint64(pk, *(const uint64_t *)(const void *)p); break;
	case CTL_F_DBL: msgpack_pack_double(pk, *(const double *)(const void *)p); break;
	case CTL_F_BOOL:
		if (*(const int32_t *)(const void *)p)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case CTL_F_STR: ctl_mp_pack_str(pk, p); break;
	}
}

/* Stores one value into a field; -1 on a type that does not fit. */
static int
unpack_field(const msgpack_object *v, const struct ctl_field *f, void *base)
{
	char *p = (char *)base + f->f_off;
	uint64_t u;
	int64_t i;

	switch (f->f_type) {
	case CTL_F_I32:
		if (ctl_mp_i64(v, &i) == -1 || i < INT32_MIN || i > INT32_MAX)
			return -1;
		*(int32_t *)(void *)p = (int32_t)i;
		return 0;
	case CTL_F_U32:
		if (ctl_mp_u64(v, &u) == -1 || u > UINT32_MAX)
			return -1;
		*(uint32_t *)(void *)p = (uint32_t)u;
		return 0;
	case CTL_F_I64: return ctl_mp_i64(v, (int64_t *)(void *)p);
	case CTL_F_U64: return ctl_mp_u64(v, (uint64_t *)(void *)p);
	case CTL_F_DBL: return mp_double(v, (double *)(void *)p);
	case CTL_F_BOOL:
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			return -1;
		*(int32_t *)(void *)p = v->via.boolean;
		return 0;
	case CTL_F_STR: return ctl_mp_str(v, p, f->f_size);
	}
	return -1;
}

static void
pack_fields(msgpack_packer *pk, const struct ctl_field *fields, const void *base,
    size_t extra)
{
	msgpack_pack_map(pk, nfields(fields) + extra);
	for (const struct ctl_field *f = fields; f->f_name != NULL; f++)
		pack_field(pk, f, base);
}

/* An array of n rows of size bytes, each a map of its field table. */
static void
pack_rows(msgpack_packer *pk, const char *key, const struct ctl_field *fields,
    const void *rows, size_t size, uint32_t n)
{
	ctl_mp_pack_str(pk, key);
	msgpack_pack_array(pk, n);
	for (uint32_t i = 0; i < n; i++)
		pack_fields(pk, fields, (const char *)rows + i * size, 0);
}

static void
pack_status(msgpack_packer *pk, const struct ctl_status *st)
{
	pack_fields(pk, ctl_status_fields, st, 5);
	pack_rows(pk, "jobtypes", ctl_jobtype_fields, st->st_jobtypes, sizeof(*st->st_jobtypes),
	    st->st_njobtypes);
	pack_rows(pk, "failed_by", ctl_failure_fields, st->st_failures,
	    sizeof(*st->st_failures), st->st_nfailures);
	/* The name -> size map an older fkworkerctl reads, then the full rows. */
	ctl_mp_pack_str(pk, "queues");
	msgpack_pack_map(pk, st->st_nqueues);
	for (uint32_t i = 0; i < st->st_nqueues; i++) {
		ctl_mp_pack_str(pk, st->st_queues[i].cq_name);
		msgpack_pack_int64(pk, st->st_queues[i].cq_size);
	}
	ctl_mp_pack_str(pk, "queue_list");
	msgpack_pack_array(pk, st->st_nqueues);
	for (uint32_t i = 0; i < st->st_nqueues; i++)
		pack_fields(pk, ctl_queue_fields, &st->st_queues[i], 0);
	ctl_mp_pack_str(pk, "child");
	msgpack_pack_array(pk, st->st_nchild);
	for (uint32_t i = 0; i < st->st_nchild; i++)
		pack_fields(pk, ctl_child_fields, &st->st_child[i], 0);
}

/* One key of a map described by a field table; unknown keys are skipped. */
static int
unpack_known(const msgpack_object *k, const msgpack_object *v,
    const struct ctl_field *fields, void *base)
{
	for (const struct ctl_field *f = fields; f->f_name != NULL; f++)
		if (ctl_mp_key_is(k, f->f_name))
			return unpack_field(v, f, base);
	return 0;
}

/*
 * An array of maps, each described by a field table, into a calloc'd array
 * (*rows must be NULL: a key sent twice is refused), counting them in *n.
 */
static int
unpack_rows(const msgpack_object *o, const struct ctl_field *fields, size_t size,
    void **rows, uint32_t *n)
{
	if (*rows != NULL || o->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	if (o->via.array.size == 0)
		return 0;
	if ((*rows = calloc(o->via.array.size, size)) == NULL)
		return -1;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *m = &o->via.array.ptr[i];
		if (m->type != MSGPACK_OBJECT_MAP)
			return -1;
		for (uint32_t j = 0; j < m->via.map.size; j++)
			if (unpack_known(&m->via.map.ptr[j].key, &m->via.map.ptr[j].val,
			    fields, (char *)*rows + i * size) == -1)
				return -1;
		(*n)++;
	}
	return 0;
}

/* An older master's name -> size map. */
static int
unpack_queues(const msgpack_object *o, struct ctl_status *st)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	if (o->via.map.size == 0)
		return 0;
	st->st_queues = calloc(o->via.map.size, sizeof(*st->st_queues));
	if (st->st_queues == NULL)
		return -1;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		struct ctl_queue *q = &st->st_queues[i];
		if (ctl_mp_str(&o->via.map.ptr[i].key, q->cq_name, sizeof(q->cq_name)) == -1 ||
		    ctl_mp_i64(&o->via.map.ptr[i].val, &q->cq_size) == -1)
			return -1;
		st->st_nqueues++;
	}
	return 0;
}

/* The full rows; they replace the map when both came. */
static int
unpack_queue_list(const msgpack_object *o, struct ctl_status *st)
{
	void *rows = NULL;
	int r;

	free(st->st_queues);
	st->st_queues = NULL;
	st->st_nqueues = 0;
	r = unpack_rows(o, ctl_queue_fields, sizeof(*st->st_queues), &rows, &st->st_nqueues);
	st->st_queues = rows;
	return r;
}

static int
unpack_children(const msgpack_object *o, struct ctl_status *st)
{
	void *rows = NULL;
	int r = unpack_rows(o, ctl_child_fields, sizeof(*st->st_child), &rows, &st->st_nchild);

	st->st_child = rows;
	return r;
}

static struct ctl_status *
unpack_status(const msgpack_object *o)
{
	struct ctl_status *st;
	int r = 0, have_map = 0, have_list = 0;

	if (o->type != MSGPACK_OBJECT_MAP || (st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	/* Unknown unless the master says (an older one does not). */
	st->st_server_retries = st->st_server_dead = st->st_server_scheduled = -1;
	for (uint32_t i = 0; i < o->via.map.size && r == 0; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;

		if (ctl_mp_key_is(k, "queues"))
			r = have_map++ ? -1 : st->st_queues == NULL ? unpack_queues(v, st) : 0;
		else if (ctl_mp_key_is(k, "queue_list"))
			r = !have_list++ ? unpack_queue_list(v, st) : -1;
		else if (ctl_mp_key_is(k, "child"))
			r = st->st_child == NULL ? unpack_children(v, st) : -1;
		else if (ctl_mp_key_is(k, "jobtypes"))
			r = unpack_rows(v, ctl_jobtype_fields, sizeof(*st->st_jobtypes),
			    (void **)&st->st_jobtypes, &st->st_njobtypes);
		else if (ctl_mp_key_is(k, "failed_by"))
			r = unpack_rows(v, ctl_failure_fields, sizeof(*st->st_failures),
			    (void **)&st->st_failures, &st->st_nfailures);
		else
			r = unpack_known(k, v, ctl_status_fields, st);
	}
	if (r == -1) {
		ctl_status_free(st);
		return NULL;
	}
	return st;
}

/* The field-table helpers for the other replies (ctl_busy.c). */
void
ctl_fields_pack(msgpack_packer *pk, const struct ctl_field *fields, const void *base,
    size_t extra)
{
	pack_fields(pk, fields, base, extra);
}

int
ctl_field_unpack(const msgpack_object *k, const msgpack_object *v,
    const struct ctl_field *fields, void *base)
{
	return unpack_known(k, v, fields, base);
}

int
ctl_rows_unpack(const msgpack_object *o, const struct ctl_field *fields, size_t size,
    void **rows, uint32_t *n)
{
	return unpack_rows(o, fields, size, rows, n);
}

void
ctl_status_free(struct ctl_status *st)
{
	if (st == NULL)
		return;
	free(st->st_queues);
	free(st->st_child);
	free(st->st_jobtypes);
	free(st->st_failures);
	free(st);
}

/* ==== Replies ==== */

int
ctl_reply_encode(struct buf *b, const struct ctl_reply *rp)
{
	struct ctl_mpw w;
	msgpack_packer pk;
	size_t start = frame_begin(b, &w, &pk);

	msgpack_pack_map(&pk, 2 + (rp->rp_error != NULL) + (rp->rp_message != NULL) +
	    (rp->rp_status != NULL) + (rp->rp_busy != NULL));
	ctl_mp_pack_str(&pk, "v");
	msgpack_pack_int64(&pk, rp->rp_version);
	ctl_mp_pack_str(&pk, "ok");
	if (rp->rp_ok)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	if (rp->rp_error != NULL) {
		ctl_mp_pack_str(&pk, "error");
		ctl_mp_pack_str(&pk, rp->rp_error);
	}
	if (rp->rp_message != NULL) {
		ctl_mp_pack_str(&pk, "message");
		ctl_mp_pack_str(&pk, rp->rp_message);
	}
	if (rp->rp_status != NULL) {
		ctl_mp_pack_str(&pk, "status");
		pack_status(&pk, rp->rp_status);
	}
	if (rp->rp_busy != NULL) {
		ctl_mp_pack_str(&pk, "busy");
		ctl_busy_pack(&pk, rp->rp_busy);
	}
	return frame_end(b, &w, start);
}

static int
unpack_reply_key(const msgpack_object *k, const msgpack_object *v,
    struct ctl_reply *rp, int *have)
{
	if (ctl_mp_key_is(k, "v")) {
		*have |= 1;
		return ctl_mp_i64(v, &rp->rp_version);
	}
	if (ctl_mp_key_is(k, "ok")) {
		*have |= 2;
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			return -1;
		rp->rp_ok = v->via.boolean;
		return 0;
	}
	if (ctl_mp_key_is(k, "error") && rp->rp_error == NULL)
		return (rp->rp_error = mp_strdup(v)) == NULL ? -1 : 0;
	if (ctl_mp_key_is(k, "message") && rp->rp_message == NULL)
		return (rp->rp_message = mp_strdup(v)) == NULL ? -1 : 0;
	if (ctl_mp_key_is(k, "status") && rp->rp_status == NULL)
		return (rp->rp_status = unpack_status(v)) == NULL ? -1 : 0;
	if (ctl_mp_key_is(k, "busy") && rp->rp_busy == NULL)
		return (rp->rp_busy = ctl_busy_unpack(v)) == NULL ? -1 : 0;
	return 0;
}

int
ctl_reply_decode(const void *p, size_t len, struct ctl_reply *rp, char *err,
    size_t errlen)
{
	msgpack_unpacked u;
	int have = 0, r = 0;

	memset(rp, 0, sizeof(*rp));
	if (ctl_mp_unpack(p, len, &u) == -1) {
		snprintf(err, errlen, "reply is not a msgpack object");
		return -1;
	}
	if (u.data.type != MSGPACK_OBJECT_MAP)
		r = -1;
	for (uint32_t i = 0; r == 0 && i < u.data.via.map.size; i++)
		r = unpack_reply_key(&u.data.via.map.ptr[i].key,
		    &u.data.via.map.ptr[i].val, rp, &have);
	msgpack_unpacked_destroy(&u);
	if (r == -1 || have != 3) {
		snprintf(err, errlen, "malformed reply");
		ctl_reply_free(rp);
		return -1;
	}
	return 0;
}

void
ctl_reply_free(struct ctl_reply *rp)
{
	free(rp->rp_error);
	free(rp->rp_message);
	ctl_status_free(rp->rp_status);
	ctl_busy_free(rp->rp_busy);
	memset(rp, 0, sizeof(*rp));
}
