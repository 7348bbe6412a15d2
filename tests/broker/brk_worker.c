/* SPDX-License-Identifier: MIT */
/*
 * brk_worker: worker processes as the server tracks them (server/workers.go):
 * HELLO creates or joins a record by wid, BEAT refreshes it and carries the
 * quiet/terminate state back, the last connection's close drops it, and the
 * reaper closes every connection of a process silent for reap_s seconds.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"
#include "fkp.h"
#include "log.h"

static const struct godec_field hello_fields[] = {
	{ "hostname", GD_STRING, "string", NULL },
	{ "wid", GD_STRING, "string", NULL },
	{ "pid", GD_INT, "int", NULL },
	{ "rss_kb", GD_INT, "int64", NULL },
	{ "labels", GD_STRLIST, "[]string", NULL },
	{ "pwdhash", GD_STRING, "string", NULL },
	{ "username", GD_STRING, "string", NULL },
	{ "v", GD_UINT8, "uint8", NULL },
	{ "StartedAt", GD_TIME, "time.Time", NULL },
};
enum { HF_HOST, HF_WID, HF_PID, HF_RSS, HF_LABELS, HF_PWD, HF_USER, HF_V };
static const struct godec_struct hello_struct = {
	"ClientData", hello_fields, FKW_NELEM(hello_fields)
};

static const struct godec_field beat_fields[] = {
	{ "current_state", GD_STRING, "string", NULL },
	{ "wid", GD_STRING, "string", NULL },
	{ "rss_kb", GD_INT, "int64", NULL },
};
enum { BF_STATE, BF_WID, BF_RSS };
static const struct godec_struct beat_struct = {
	"ClientBeat", beat_fields, FKW_NELEM(beat_fields)
};

static const char *const state_names[] = { "running", "quiet", "terminate" };

static char *
enc_string(const char *s, size_t n)
{
	struct buf b;
	char *r = NULL;

	buf_init(&b);
	if (gojson_str(&b, s != NULL ? s : "", n) == 0 && buf_append(&b, "", 1) == 0)
		r = strdup(b.b_data);
	buf_free(&b);
	return r;
}

static char *
enc_labels(const json_t *a)
{
	struct buf b;
	char *r = NULL;
	int e = 0;

	buf_init(&b);
	e |= buf_append(&b, "[", 1);
	for (size_t i = 0; a != NULL && i < json_array_size(a); i++) {
		const json_t *s = json_array_get(a, i);
		if (i > 0)
			e |= buf_append(&b, ",", 1);
		e |= gojson_str(&b, json_is_string(s) ? json_string_value(s) : "",
		    json_is_string(s) ? json_string_length(s) : 0);
	}
	e |= buf_append(&b, "]", 2);
	if (e == 0)
		r = strdup(b.b_data);
	buf_free(&b);
	return r;
}

static void
worker_free(struct bworker *w)
{
	free(w->w_hostname);
	free(w->w_labels);
	free(w);
}

static struct bworker *
worker_new(struct brk *b, const struct godec_val *v)
{
	size_t n = v[HF_WID].v_len;
	struct bworker *w = calloc(1, sizeof(*w) + n + 1);

	if (w == NULL)
		return NULL;
	memcpy(w->w_wid, v[HF_WID].v_str, n);
	w->w_widlen = n;
	w->w_hostname = enc_string(v[HF_HOST].v_str, v[HF_HOST].v_len);
	w->w_labels = enc_labels(v[HF_LABELS].v_json);
	w->w_pid = v[HF_PID].v_int;
	w->w_rss_kb = v[HF_RSS].v_int;
	w->w_last_beat = brk_vnow(b);
	if (w->w_hostname == NULL || w->w_labels == NULL ||
	    bmap_put(&b->b_workers, w->w_wid, n, w) == -1) {
		worker_free(w);
		return NULL;
	}
	return w;
}

static int
password_ok(struct bconn *c, const struct godec_val *v)
{
	char want[65];
	long iter = v[HF_V].v_int < 2 ? 1 : c->c_iter;

	/* A HELLO with v below 2 (or none) is checked with a single round. */
	fkp_pwdhash(c->c_brk->b_opt.o_password, c->c_salt, iter, want);
	return v[HF_PWD].v_len == 64 && CRYPTO_memcmp(v[HF_PWD].v_str, want, 64) == 0;
}

int
worker_hello(struct bconn *c, const char *line, size_t n)
{
	struct brk *b = c->c_brk;
	struct godec_val v[FKW_NELEM(hello_fields)];
	char err[512];
	struct bworker *w;
	json_t *o;
	int r = -1;

	if (n < 7 || memcmp(line, "HELLO {", 7) != 0)
		return -1;
	if ((o = gojson_load(line + 5, n - 5, err, sizeof(err))) == NULL) {
		log_debug("HELLO: %s", err);
		return -1;
	}
	if (godec_struct(o, &hello_struct, v, NULL, err, sizeof(err)) == -1) {
		log_debug("HELLO: %s", err);
		goto out;
	}
	if (b->b_opt.o_password != NULL && !password_ok(c, v)) {
		r = 1;
		goto out;
	}
	r = 0;
	if (v[HF_WID].v_len == 0)
		goto out;		/* a producer: not tracked */
	if ((w = bmap_get(&b->b_workers, v[HF_WID].v_str, v[HF_WID].v_len)) == NULL) {
		if ((w = worker_new(b, v)) == NULL) {
			r = -1;
			goto out;
		}
		c->c_creator = 1;
	}
	c->c_worker = w;
	c->c_wprev = NULL;
	c->c_wnext = w->w_conns;
	if (w->w_conns != NULL)
		w->w_conns->c_wprev = c;
	w->w_conns = c;
	w->w_nconns++;
out:
	json_decref(o);
	return r;
}

void
worker_detach(struct brk *b, struct bconn *c)
{
	struct bworker *w = c->c_worker;

	if (w == NULL)
		return;
	if (c->c_wprev != NULL)
		c->c_wprev->c_wnext = c->c_wnext;
	else
		w->w_conns = c->c_wnext;
	if (c->c_wnext != NULL)
		c->c_wnext->c_wprev = c->c_wprev;
	c->c_worker = NULL;
	c->c_wprev = c->c_wnext = NULL;
	/* A process that closed its last connection is forgotten at once. */
	if (--w->w_nconns == 0) {
		bmap_del(&b->b_workers, w->w_wid, w->w_widlen);
		worker_free(w);
	}
}

/* Only forward: running -> quiet -> terminate. */
static void
worker_set(struct bworker *w, enum bworker_state st)
{
	if (st > w->w_state)
		w->w_state = st;
}

void
cmd_beat(struct bconn *c, const char *payload, size_t n)
{
	struct godec_val v[FKW_NELEM(beat_fields)];
	struct bworker *w;
	char err[256];
	json_t *o;
	enum bworker_state st;

	o = gojson_load(payload, n, err, sizeof(err));
	if (o == NULL || (!json_is_object(o) && !json_is_null(o)) ||
	    (json_is_object(o) && godec_struct(o, &beat_struct, v, NULL, err,
	    sizeof(err)) == -1)) {
		json_decref(o);
		reply_err_raw(c, "invalid BEAT ", payload, n);
		return;
	}
	if (json_is_null(o))
		memset(v, 0, sizeof(v));
	w = bmap_get(&c->c_brk->b_workers, v[BF_WID].v_str ? v[BF_WID].v_str : "",
	    v[BF_WID].v_len);
	if (w == NULL) {
		reply_err_raw(c, "unknown worker ", v[BF_WID].v_str, v[BF_WID].v_len);
		json_decref(o);
		return;
	}
	w->w_rss_kb = v[BF_RSS].v_int;
	w->w_last_beat = brk_vnow(c->c_brk);
	w->w_beats++;
	if (v[BF_STATE].v_len > 0) {
		st = BW_RUNNING;
		if (v[BF_STATE].v_len == 5 && memcmp(v[BF_STATE].v_str, "quiet", 5) == 0)
			st = BW_QUIET;
		else if (v[BF_STATE].v_len == 9 && memcmp(v[BF_STATE].v_str, "terminate", 9) == 0)
			st = BW_TERMINATE;
		worker_set(w, st);
	}
	json_decref(o);
	if (w->w_state == BW_QUIET)
		reply_bulk(c, "{\"state\":\"quiet\"}", 17);
	else if (w->w_state == BW_TERMINATE)
		reply_bulk(c, "{\"state\":\"terminate\"}", 21);
	else
		reply_ok(c);
}

int
worker_signal(struct brk *b, const char *wid, size_t n, enum bworker_state st)
{
	struct bworker *w = bmap_get(&b->b_workers, wid, n);

	if (w == NULL)
		return -1;
	worker_set(w, st);
	return 0;
}

void
worker_reap(struct brk *b)
{
	uint64_t now = brk_vnow(b), lim = (uint64_t)b->b_opt.o_reap_s * 1000;
	struct bworker **stale;
	size_t n = 0;

	if (b->b_workers.m_len == 0 ||
	    (stale = malloc(b->b_workers.m_len * sizeof(*stale))) == NULL)
		return;
	for (size_t i = 0; i < b->b_workers.m_cap; i++) {
		struct bworker *w = b->b_workers.m_slots[i].s_val;
		if (b->b_workers.m_slots[i].s_key != NULL && w->w_last_beat + lim < now)
			stale[n++] = w;
	}
	/* Killing the last connection frees the record, so collect first. */
	for (size_t i = 0; i < n; i++) {
		log_info("reaping worker %.*s: no BEAT for %llu ms, closing %zu connection(s)",
		    (int)stale[i]->w_widlen, stale[i]->w_wid,
		    (unsigned long long)(now - stale[i]->w_last_beat), stale[i]->w_nconns);
		b->b_workers_reaped++;
		while (stale[i]->w_nconns > 1)
			conn_kill(stale[i]->w_conns);
		conn_kill(stale[i]->w_conns);
	}
	free(stale);
}

int
worker_xworkers(struct brk *b, struct buf *o)
{
	uint64_t now = brk_vnow(b);
	int r = buf_append(o, "{", 1), first = 1;

	for (size_t i = 0; i < b->b_workers.m_cap && r == 0; i++) {
		const struct bworker *w = b->b_workers.m_slots[i].s_val;
		if (b->b_workers.m_slots[i].s_key == NULL)
			continue;
		if (!first)
			r |= buf_append(o, ",", 1);
		first = 0;
		r |= gojson_str(o, w->w_wid, w->w_widlen);
		r |= buf_printf(o, ":{\"wid\":");
		r |= gojson_str(o, w->w_wid, w->w_widlen);
		r |= buf_printf(o, ",\"hostname\":%s,\"pid\":%lld,\"labels\":%s,\"state\":\"%s\","
		    "\"conns\":%zu,\"beats\":%lu,\"last_beat_age_ms\":%llu,\"rss_kb\":%lld}",
		    w->w_hostname, w->w_pid, w->w_labels, state_names[w->w_state],
		    w->w_nconns, w->w_beats, (unsigned long long)(now - w->w_last_beat),
		    w->w_rss_kb);
	}
	return r | buf_append(o, "}", 1);
}

void
worker_free_all(struct brk *b)
{
	for (size_t i = 0; i < b->b_workers.m_cap; i++)
		if (b->b_workers.m_slots[i].s_key != NULL)
			worker_free(b->b_workers.m_slots[i].s_val);
	bmap_free(&b->b_workers);
}
