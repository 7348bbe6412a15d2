/* SPDX-License-Identifier: MIT */
/*
 * brk_cmd: the command verbs (server/commands.go), with the real server's
 * replies and error texts. Payloads are cut at a fixed offset after the
 * verb as the server does; where the server would panic on a bare verb
 * ("ACK" with nothing after it), we answer "-ERR internal error" instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brk.h"
#include "log.h"

#define ERRLEN 2048

static const struct godec_field fail_fields[] = {
	{ "jid", GD_STRING, "string", NULL },
	{ "message", GD_STRING, "string", NULL },
	{ "errtype", GD_STRING, "string", NULL },
	{ "backtrace", GD_STRLIST, "[]string", NULL },
};
enum { FA_JID, FA_MSG, FA_TYPE, FA_BT };
static const struct godec_struct fail_struct = {
	"FailPayload", fail_fields, FKW_NELEM(fail_fields)
};

/* ---- PUSH, PUSHB ---- */

static void
now_string(struct brk *b, char *ts, size_t n)
{
	brk_rfc3339(brk_wall_ns(b), ts, n);
}

static void
cmd_push(struct bconn *c, const char *p, size_t n)
{
	struct brk *b = c->c_brk;
	char err[ERRLEN], ts[40];
	struct bjob_in in;
	struct bjob *j;
	json_t *o;

	if ((o = gojson_load(p, n, err, sizeof(err))) == NULL) {
		reply_err(c, "invalid JSON: %s", err);
		return;
	}
	now_string(b, ts, sizeof(ts));
	j = bjob_from_json(b, o, ts, &in, err, sizeof(err));
	json_decref(o);
	if (j == NULL) {
		reply_err_raw(c, "", err, strlen(err));
		return;
	}
	if (store_push(b, j, &in) == -1) {
		reply_err(c, "internal error");
		return;
	}
	fault_cost(c, COST_PUSH);
	reply_ok(c);
}

/* PUSHB's result: jid -> error text, for the jobs that were refused. */
static int
pushb_refused(json_t *res, const struct bjob_in *in, const char *msg)
{
	json_t *m = json_string(msg);

	if (m == NULL || json_object_setn_new(res, in->ji_jid, in->ji_jidlen, m) == -1)
		return -1;
	return 0;
}

static void
cmd_pushb(struct bconn *c, const char *p, size_t n)
{
	struct brk *b = c->c_brk;
	char err[ERRLEN], ts[40];
	json_t *o, *res = NULL;
	struct bjob_dec *d = NULL;
	struct buf out;
	size_t i;

	if ((o = gojson_load(p, n, err, sizeof(err))) == NULL) {
		reply_err(c, "invalid JSON: %s", err);
		return;
	}
	if (!json_is_array(o) && !json_is_null(o)) {
		reply_err(c, "invalid JSON: json: cannot unmarshal %s into Go value of type "
		    "[]client.Job", gojson_kind(o));
		goto out;
	}
	/* The whole array is decoded first (one type error rejects every job), once. */
	if ((d = malloc((json_array_size(o) + 1) * sizeof(*d))) == NULL)
		goto nomem;
	for (i = 0; i < json_array_size(o); i++)
		if (bjob_decode(json_array_get(o, i), &d[i], err, sizeof(err)) == -1) {
			reply_err(c, "invalid JSON: %s", err);
			goto out;
		}
	if ((res = json_object()) == NULL)
		goto nomem;
	/* One created_at for the whole batch, as the server takes it once. */
	now_string(b, ts, sizeof(ts));
	for (i = 0; i < json_array_size(o); i++) {
		struct bjob_in in;
		struct bjob *j = bjob_from_dec(b, &d[i], ts, &in, err, sizeof(err));
		const char *why = err;
		if (j != NULL) {
			if (store_push(b, j, &in) == 0) {
				fault_cost(c, COST_PUSH);
				continue;
			}
			why = "internal error";
		}
		if (pushb_refused(res, &in, why) == -1)
			goto nomem;
	}
	buf_init(&out);
	if (gojson_value(&out, res) == -1) {
		buf_free(&out);
		goto nomem;
	}
	reply_bulk(c, buf_rptr(&out), buf_rlen(&out));
	buf_free(&out);
	goto out;
nomem:
	reply_err(c, "internal error");
out:
	free(d);
	json_decref(res);
	json_decref(o);
}

/* ---- FETCH ---- */

#define FETCH_STACK 16

/* Splits "a b c" on single spaces (empty names kept) into queues. */
static size_t
fetch_queues(struct brk *b, const char *p, size_t n, int create, struct bqueue **qs,
    size_t max)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n && k < max; i++) {
		if (i < n && p[i] != ' ')
			continue;
		qs[k++] = store_queue(b, p + start, i - start, create);
		start = i + 1;
	}
	return k;
}

static void
fetch_deliver(struct bconn *c, struct bjob *j)
{
	if (store_reserve(c->c_brk, j) == -1) {
		log_warnx("reserve %.*s: out of memory; job dropped", (int)j->j_jidlen, j->j_jid);
		audit_move(c->c_brk, j->j_audit, -1, 0, AS_DONE);
		bjob_free(j);
		reply_err(c, "internal error");
		return;
	}
	resv_attach(c, j);
	reply_wire(c, j->j_wire, j->j_wirelen);
	resv_sent(c, j);
	fault_cost(c, COST_FETCH);
}

static void
cmd_fetch(struct bconn *c, const char *p, size_t n)
{
	struct brk *b = c->c_brk;
	struct bqueue *stack[FETCH_STACK], **qs = stack;
	size_t nq = 1;
	struct bjob *j;

	/* Only the connection whose HELLO made the record sees its quiet state. */
	if (c->c_creator && c->c_worker->w_state != BW_RUNNING) {
		conn_block(c, NULL, 0, 1);
		return;
	}
	if (p == NULL) {
		reply_err(c, "must call fetch with at least one queue");
		return;
	}
	for (size_t i = 0; i < n; i++)
		nq += p[i] == ' ';
	if (nq > FETCH_STACK && (qs = malloc(nq * sizeof(*qs))) == NULL) {
		reply_err(c, "internal error");
		return;
	}
	fetch_queues(b, p, n, 0, qs, nq);
	if ((j = store_pop(b, qs, nq)) != NULL) {
		fetch_deliver(c, j);
	} else {
		/* Nothing now: wait on every named queue, even ones never pushed to. */
		fetch_queues(b, p, n, 1, qs, nq);
		for (size_t i = 0; i < nq; i++)
			if (qs[i] == NULL) {
				reply_null(c);
				goto out;
			}
		if (conn_block(c, qs, nq, 0) == -1)
			reply_null(c);
	}
out:
	if (qs != stack)
		free(qs);
}

int
cmd_fetch_retry(struct bconn *c)
{
	struct bjob *j = NULL;

	for (size_t i = 0; i < c->c_nwaits && j == NULL; i++) {
		struct bqueue *q = c->c_waits[i].w_queue;
		j = store_pop(c->c_brk, &q, 1);
	}
	if (j == NULL)
		return 0;
	conn_unblock(c);
	fetch_deliver(c, j);
	conn_wake(c);
	return 1;
}

/* ---- ACK, FAIL ---- */

/* The common payload {"jid":"..."} with a plain jid, without a JSON parser. */
static int
ack_fast(const char *p, size_t n, const char **jid, size_t *len)
{
	if (n < 11 || memcmp(p, "{\"jid\":\"", 8) != 0 || memcmp(p + n - 2, "\"}", 2) != 0)
		return 0;
	for (size_t i = 8; i < n - 2; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x80)
			return 0;
	}
	*jid = p + 8;
	*len = n - 10;
	return 1;
}

static void
cmd_ack(struct bconn *c, const char *p, size_t n)
{
	const char *jid, *k;
	size_t len;
	json_t *o, *v, *j;
	char err[256];

	/* A valid ACK costs its share (--cost-us) whether its jid is reserved or not. */
	if (ack_fast(p, n, &jid, &len)) {
		store_ack(c->c_brk, jid, len);
		fault_cost(c, COST_END);
		reply_ok(c);
		return;
	}
	/* Decoded as map[string]string: any value that is not a string is an error. */
	o = gojson_load(p, n, err, sizeof(err));
	if (o == NULL || !json_is_object(o) || (j = json_object_get(o, "jid")) == NULL)
		goto bad;
	json_object_foreach(o, k, v)
		if (!json_is_string(v) && !json_is_null(v))
			goto bad;
	if (json_is_string(j))
		store_ack(c->c_brk, json_string_value(j), json_string_length(j));
	else
		store_ack(c->c_brk, "", 0);
	json_decref(o);
	fault_cost(c, COST_END);
	reply_ok(c);
	return;
bad:
	json_decref(o);
	reply_err_raw(c, "invalid ACK ", p, n);
}

/* strings.TrimSpace (ASCII white space), then a cut to max bytes; "" becomes "unknown". */
static void
cleanse(const char **s, size_t *n, size_t max)
{
	static const char sp[] = " \t\n\v\f\r";

	while (*n > 0 && strchr(sp, (*s)[0]) != NULL && (*s)[0] != '\0') {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && strchr(sp, (*s)[*n - 1]) != NULL && (*s)[*n - 1] != '\0')
		(*n)--;
	if (*n == 0) {
		*s = "unknown";
		*n = 7;
	}
	if (*n > max)
		*n = max;
}

static char *
backtrace_enc(const json_t *a)
{
	struct buf bt;
	size_t nb = json_array_size(a);
	char *r = NULL;

	if (a == NULL || nb == 0)
		return NULL;
	if (nb > 50)
		nb = 50;
	buf_init(&bt);
	buf_append(&bt, "[", 1);
	for (size_t i = 0; i < nb; i++) {
		const json_t *e = json_array_get(a, i);
		if (i > 0)
			buf_append(&bt, ",", 1);
		gojson_str(&bt, json_is_string(e) ? json_string_value(e) : "",
		    json_is_string(e) ? json_string_length(e) : 0);
	}
	if (buf_append(&bt, "]", 1) == 0 && buf_append(&bt, "", 1) == 0)
		r = strdup(bt.b_data);
	buf_free(&bt);
	return r;
}

static void
cmd_fail(struct bconn *c, const char *p, size_t n)
{
	struct godec_val v[FKW_NELEM(fail_fields)];
	const char *et, *msg;
	size_t etl, ml;
	char err[256], *bt;
	json_t *o;

	o = gojson_load(p, n, err, sizeof(err));
	if (o == NULL || (!json_is_object(o) && !json_is_null(o)) ||
	    (json_is_object(o) && godec_struct(o, &fail_struct, v, NULL, err,
	    sizeof(err)) == -1)) {
		json_decref(o);
		reply_err_raw(c, "invalid FAIL ", p, n);
		return;
	}
	if (json_is_null(o))
		memset(v, 0, sizeof(v));
	if (v[FA_JID].v_len == 0) {
		json_decref(o);
		reply_err(c, "missing JID");
		return;
	}
	et = v[FA_TYPE].v_str ? v[FA_TYPE].v_str : "";
	etl = v[FA_TYPE].v_len;
	msg = v[FA_MSG].v_str ? v[FA_MSG].v_str : "";
	ml = v[FA_MSG].v_len;
	cleanse(&et, &etl, 100);
	cleanse(&msg, &ml, 1000);
	bt = backtrace_enc(v[FA_BT].v_json);
	fault_cost(c, COST_END);
	if (store_fail(c->c_brk, v[FA_JID].v_str, v[FA_JID].v_len, et, etl, msg, ml, bt) == -1)
		reply_err_raw(c, "Job not found ", v[FA_JID].v_str, v[FA_JID].v_len);
	else
		reply_ok(c);
	free(bt);
	json_decref(o);
}

/* ---- INFO ---- */

static int
queue_cmp(const void *a, const void *b)
{
	const struct bqueue *x = *(const struct bqueue *const *)a;
	const struct bqueue *y = *(const struct bqueue *const *)b;
	size_t n = x->q_namelen < y->q_namelen ? x->q_namelen : y->q_namelen;
	int r = memcmp(x->q_name, y->q_name, n);

	return r != 0 ? r : (x->q_namelen > y->q_namelen) - (x->q_namelen < y->q_namelen);
}

static int
info_queues(struct brk *b, struct buf *o, size_t *nq, size_t *total)
{
	struct bqueue **qs = malloc((b->b_queues.m_len + 1) * sizeof(*qs));
	size_t k = 0;
	int r = 0;

	if (qs == NULL)
		return -1;
	for (size_t i = 0; i < b->b_queues.m_cap; i++) {
		struct bqueue *q = b->b_queues.m_slots[i].s_val;
		if (b->b_queues.m_slots[i].s_key != NULL && q->q_known)
			qs[k++] = q;
	}
	qsort(qs, k, sizeof(*qs), queue_cmp);
	*nq = k;
	*total = 0;
	r |= buf_append(o, "{", 1);
	for (size_t i = 0; i < k; i++) {
		if (i > 0)
			r |= buf_append(o, ",", 1);
		r |= gojson_str(o, qs[i]->q_name, qs[i]->q_namelen);
		r |= buf_printf(o, ":%zu", qs[i]->q_len);
		*total += qs[i]->q_len;
	}
	free(qs);
	return r | buf_append(o, "}", 1);
}

static void
cmd_info(struct bconn *c)
{
	struct brk *b = c->c_brk;
	char ts[40], hms[16];
	int64_t wall = brk_wall_ns(b);
	time_t sec = (time_t)(wall / 1000000000);
	size_t nq = 0, total = 0;
	long rss = proc_rss_kb(0);
	struct tm tm;
	struct buf o;
	int r;

	brk_rfc3339(wall, ts, sizeof(ts));
	gmtime_r(&sec, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	buf_init(&o);
	r = buf_printf(&o, "{\"now\":\"%s\",\"server_utc_time\":\"%s UTC\",\"faktory\":{\"queues\":",
	    ts, hms);
	r |= info_queues(b, &o, &nq, &total);
	r |= buf_printf(&o, ",\"sets\":{\"dead\":%zu,\"retries\":%zu,\"scheduled\":%zu,"
	    "\"working\":%zu},\"tasks\":{\"Busy\":{\"reaped\":%llu,\"size\":%zu},"
	    "\"Dead\":{\"cycles\":0,\"enqueued\":0,\"size\":%zu,\"wall_time_sec\":0},"
	    "\"Retries\":{\"cycles\":%llu,\"enqueued\":%llu,\"size\":%zu,\"wall_time_sec\":0},"
	    "\"Scheduled\":{\"cycles\":%llu,\"enqueued\":%llu,\"size\":%zu,\"wall_time_sec\":0},"
	    "\"Workers\":{\"reaped\":%llu,\"size\":%zu}},",
	    b->b_ndead, b->b_hretry.hp_len, b->b_hsched.hp_len, b->b_working.m_len,
	    (unsigned long long)b->b_busy_reaped, b->b_working.m_len, b->b_ndead,
	    (unsigned long long)b->b_retry_cycles, (unsigned long long)b->b_retry_enqueued,
	    b->b_hretry.hp_len, (unsigned long long)b->b_sched_cycles,
	    (unsigned long long)b->b_sched_enqueued, b->b_hsched.hp_len,
	    (unsigned long long)b->b_workers_reaped, b->b_workers.m_len);
	r |= buf_printf(&o, "\"total_failures\":%llu,\"total_processed\":%llu,"
	    "\"total_enqueued\":%zu,\"total_queues\":%zu},\"server\":{\"description\":\"Faktory\","
	    "\"faktory_version\":\"" BRK_VERSION "\",\"uptime\":%llu,\"connections\":%zu,"
	    "\"command_count\":%llu,\"used_memory_mb\":%ld}}",
	    (unsigned long long)b->b_total_failures, (unsigned long long)b->b_total_processed,
	    total, nq, (unsigned long long)((now_ms() - b->b_start_ms) / 1000), b->b_nready,
	    (unsigned long long)b->b_command_count, rss > 0 ? rss / 1024 : 0);
	if (r == 0)
		reply_bulk(c, buf_rptr(&o), buf_rlen(&o));
	else
		reply_err(c, "internal error");
	buf_free(&o);
}

/* ---- dispatch ---- */

enum verb {
	V_UNKNOWN, V_END, V_PUSH, V_PUSHB, V_FETCH, V_ACK, V_FAIL, V_BEAT, V_INFO,
	V_FLUSH, V_MUTATE, V_BATCH, V_TRACK, V_QUEUE,
};
_Static_assert(V_QUEUE + 1 == BRK_NVERBS, "BRK_NVERBS must count the verbs");

static const struct {
	const char	*name;
	enum verb	 verb;
	int		 needs_payload;	/* the server slices past the verb: bare = panic */
} verbs[] = {
	{ "END", V_END, 0 }, { "PUSH", V_PUSH, 1 }, { "PUSHB", V_PUSHB, 1 },
	{ "FETCH", V_FETCH, 0 }, { "ACK", V_ACK, 1 }, { "FAIL", V_FAIL, 1 },
	{ "BEAT", V_BEAT, 1 }, { "INFO", V_INFO, 0 }, { "FLUSH", V_FLUSH, 0 },
	{ "MUTATE", V_MUTATE, 0 }, { "BATCH", V_BATCH, 0 }, { "TRACK", V_TRACK, 0 },
	{ "QUEUE", V_QUEUE, 0 },
};

const char *
cmd_verb_name(size_t v)
{
	if (v == V_UNKNOWN)
		return "unknown";
	for (size_t i = 0; i < FKW_NELEM(verbs); i++)
		if ((size_t)verbs[i].verb == v)
			return verbs[i].name;
	return NULL;
}

static int
lookup(const char *v, size_t n, int *needs_payload)
{
	for (size_t i = 0; i < FKW_NELEM(verbs); i++)
		if (strlen(verbs[i].name) == n && memcmp(verbs[i].name, v, n) == 0) {
			*needs_payload = verbs[i].needs_payload;
			return verbs[i].verb;
		}
	return V_UNKNOWN;
}

static void
run(struct bconn *c, enum verb v, const char *line, size_t n, const char *p, size_t pn)
{
	switch (v) {
	case V_END:
		conn_close_after_flush(c);
		break;
	case V_PUSH:
		cmd_push(c, p, pn);
		break;
	case V_PUSHB:
		cmd_pushb(c, p, pn);
		break;
	case V_FETCH:
		cmd_fetch(c, p, pn);
		break;
	case V_ACK:
		cmd_ack(c, p, pn);
		break;
	case V_FAIL:
		cmd_fail(c, p, pn);
		break;
	case V_BEAT:
		cmd_beat(c, p, pn);
		break;
	case V_INFO:
		cmd_info(c);
		break;
	case V_FLUSH:
		log_info("flushing dataset");
		store_flush(c->c_brk);
		reply_ok(c);
		break;
	case V_MUTATE:
		cmd_mutate(c, line, n);
		break;
	case V_QUEUE:
		cmd_queue(c, line, n);
		break;
	case V_BATCH:
		reply_err(c, "batch subsystem is only available in Faktory Enterprise");
		break;
	case V_TRACK:
		reply_err(c, "tracking subsystem is only available in Faktory Enterprise");
		break;
	case V_UNKNOWN:
		break;
	}
}

/*
 * --drop-after: the Nth counted command of a worker connection cuts it, as a
 * network cut would. On odd connection ids the command runs first (its reply
 * is lost), on even ids it never runs: both "the ACK ran but its +OK never
 * came" and "the ACK was sent but never ran" happen.
 */
enum cut { CUT_NONE, CUT_BEFORE, CUT_AFTER };

static enum cut
cut_check(struct bconn *c)
{
	struct brk *b = c->c_brk;

	if (c->c_worker == NULL || b->b_drop_after <= 0 ||
	    ++c->c_ncmds < (unsigned long)b->b_drop_after)
		return CUT_NONE;
	log_debug("connection %llu: cut at command %lu (--drop-after), %s it ran",
	    (unsigned long long)c->c_id, c->c_ncmds, c->c_id % 2 ? "after" : "before");
	return c->c_id % 2 ? CUT_AFTER : CUT_BEFORE;
}

void
cmd_dispatch(struct bconn *c, const char *line, size_t n)
{
	struct brk *b = c->c_brk;
	const char *sp = memchr(line, ' ', n), *p = NULL;
	size_t vlen = sp != NULL ? (size_t)(sp - line) : n, pn = 0;
	int needs = 0;
	enum verb v = lookup(line, vlen, &needs);
	enum cut cut;

	if (sp != NULL) {
		p = sp + 1;
		pn = n - vlen - 1;
	}
	if (v == V_UNKNOWN && vlen > 1 && line[0] == 'X') {
		/* Admin verbs: never garbled, not counted for --drop-after. */
		int admin;
		c->c_nofault = 1;
		admin = admin_dispatch(c, line, vlen, p, pn);
		c->c_nofault = 0;
		if (admin)
			return;
	}
	if ((cut = cut_check(c)) == CUT_BEFORE) {
		b->b_x_cut_unrun[v]++;
		conn_kill(c);
		return;
	}
	if (v == V_UNKNOWN) {
		reply_err_raw(c, "unknown command ", line, vlen);
	} else {
		b->b_command_count++;
		if (needs && p == NULL)
			reply_err(c, "internal error");
		else
			run(c, v, line, n, p, pn);
	}
	b->b_x_commands++;
	if (cut == CUT_AFTER) {
		b->b_x_cut_ran[v]++;
		conn_kill(c);
	}
}
