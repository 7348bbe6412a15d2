/* SPDX-License-Identifier: MIT */
/*
 * brk_job: a job as the server keeps it. It is decoded and validated once at
 * PUSH (client.Job rules, manager.Push checks) and kept as pre-encoded JSON
 * pieces in Go's output form, so each (re)enqueue builds the FETCH reply with
 * a few copies and a FETCH sends it without touching JSON at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"

static const struct godec_field failure_fields[] = {
	{ "retry_count", GD_INT, "int", NULL },
	{ "failed_at", GD_STRING, "string", NULL },
	{ "next_at", GD_STRING, "string", NULL },
	{ "message", GD_STRING, "string", NULL },
	{ "errtype", GD_STRING, "string", NULL },
	{ "backtrace", GD_STRLIST, "[]string", NULL },
	{ "remaining", GD_INT, "int", NULL },
};
enum { FF_COUNT, FF_FAILED, FF_NEXT, FF_MSG, FF_TYPE, FF_BT, FF_REMAINING };
static const struct godec_struct failure_struct = {
	"Failure", failure_fields, FKW_NELEM(failure_fields)
};

static const struct godec_field job_fields[] = {
	{ "jid", GD_STRING, "string", NULL },
	{ "queue", GD_STRING, "string", NULL },
	{ "jobtype", GD_STRING, "string", NULL },
	{ "args", GD_ANYLIST, "[]interface {}", NULL },
	{ "created_at", GD_STRING, "string", NULL },
	{ "enqueued_at", GD_STRING, "string", NULL },
	{ "at", GD_STRING, "string", NULL },
	{ "reserve_for", GD_INT, "int", NULL },
	{ "retry", GD_INTPTR, "int", NULL },
	{ "backtrace", GD_INT, "int", NULL },
	{ "failure", GD_STRUCT, "client.Failure", &failure_struct },
	{ "custom", GD_MAP, "map[string]interface {}", NULL },
};
enum { JF_JID, JF_QUEUE, JF_TYPE, JF_ARGS, JF_CREATED, JF_ENQUEUED, JF_AT,
    JF_RESERVE, JF_RETRY, JF_BACKTRACE, JF_FAILURE, JF_CUSTOM };
static const struct godec_struct job_struct = {
	"Job", job_fields, FKW_NELEM(job_fields)
};
_Static_assert(FKW_NELEM(job_fields) == BJOB_NFIELDS, "struct bjob_dec has a slot per field");

int
bjob_decode(const json_t *o, struct bjob_dec *d, char *err, size_t errlen)
{
	if (json_is_null(o)) {
		memset(d->d_v, 0, sizeof(d->d_v));
		return 0;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "json: cannot unmarshal %s into Go value of type client.Job",
		    gojson_kind(o));
		return -1;
	}
	return godec_struct(o, &job_struct, d->d_v, NULL, err, errlen);
}

/* ---- the failure block ---- */

static char *
enc_dup(const char *s, size_t n)
{
	struct buf b;
	char *r = NULL;

	buf_init(&b);
	if (gojson_str(&b, s, n) == 0 && buf_append(&b, "", 1) == 0)
		r = strdup(b.b_data);
	buf_free(&b);
	return r;
}

static void
failure_free(struct bfailure *f)
{
	if (f == NULL)
		return;
	free(f->f_failed_at);
	free(f->f_next_at);
	free(f->f_message);
	free(f->f_errtype);
	free(f->f_backtrace);
	free(f->f_enc);
	free(f);
}

/* Appends ,"key":value when value (encoded already) is not NULL. */
static int
put_field(struct buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	return buf_puts(b, key) | buf_puts(b, val);
}

static int
put_int(struct buf *b, long long v)
{
	char d[24];

	return buf_append(b, d, gojson_fmt_int(d, v));
}

/* failed_at, next_at, message, errtype, backtrace, retry_count, remaining. */
static int
failure_encode(struct bfailure *f)
{
	struct buf b;
	int r;

	buf_init(&b);
	r = buf_puts(&b, "{\"failed_at\":");
	r |= buf_puts(&b, f->f_failed_at != NULL ? f->f_failed_at : "\"\"");
	r |= put_field(&b, ",\"next_at\":", f->f_next_at);
	r |= put_field(&b, ",\"message\":", f->f_message);
	r |= put_field(&b, ",\"errtype\":", f->f_errtype);
	r |= put_field(&b, ",\"backtrace\":", f->f_backtrace);
	r |= buf_puts(&b, ",\"retry_count\":") | put_int(&b, f->f_retry_count);
	r |= buf_puts(&b, ",\"remaining\":") | put_int(&b, f->f_remaining);
	r |= buf_append(&b, "}", 1);
	if (r != 0 || buf_append(&b, "", 1) == -1) {
		buf_free(&b);
		return -1;
	}
	free(f->f_enc);
	f->f_enc = b.b_data;
	return 0;
}

/* An encoded []string, or NULL when empty (omitempty). */
static char *
strlist_enc(const json_t *a)
{
	struct buf b;
	char *r = NULL;

	if (a == NULL || json_array_size(a) == 0)
		return NULL;
	buf_init(&b);
	buf_append(&b, "[", 1);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *e = json_array_get(a, i);
		if (i > 0)
			buf_append(&b, ",", 1);
		gojson_str(&b, json_is_string(e) ? json_string_value(e) : "",
		    json_is_string(e) ? json_string_length(e) : 0);
	}
	if (buf_append(&b, "]", 1) == 0 && buf_append(&b, "", 1) == 0)
		r = strdup(b.b_data);
	buf_free(&b);
	return r;
}

static struct bfailure *
failure_from(const json_t *o)
{
	struct godec_val v[FKW_NELEM(failure_fields)];
	struct bfailure *f;
	char err[256];

	if (godec_struct(o, &failure_struct, v, "failure", err, sizeof(err)) == -1 ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->f_retry_count = v[FF_COUNT].v_int;
	f->f_remaining = v[FF_REMAINING].v_int;
	/* failed_at is always written; the others are omitted when empty. */
	f->f_failed_at = enc_dup(v[FF_FAILED].v_str ? v[FF_FAILED].v_str : "", v[FF_FAILED].v_len);
	if (v[FF_NEXT].v_len > 0)
		f->f_next_at = enc_dup(v[FF_NEXT].v_str, v[FF_NEXT].v_len);
	if (v[FF_MSG].v_len > 0)
		f->f_message = enc_dup(v[FF_MSG].v_str, v[FF_MSG].v_len);
	if (v[FF_TYPE].v_len > 0)
		f->f_errtype = enc_dup(v[FF_TYPE].v_str, v[FF_TYPE].v_len);
	f->f_backtrace = strlist_enc(v[FF_BT].v_json);
	if (f->f_failed_at == NULL || failure_encode(f) == -1) {
		failure_free(f);
		return NULL;
	}
	return f;
}

/* ---- building a job ---- */

static int
push_err(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* The manager.Push checks, in its order, on the decoded fields. */
static int
validate(struct brk *b, struct godec_val *v, struct bjob_in *in, char *err, size_t errlen)
{
	char perr[400];
	struct buf q;

	if (v[JF_JID].v_len < 8)
		return push_err(err, errlen, "jobs must have a reasonable jid parameter");
	if (v[JF_TYPE].v_len == 0)
		return push_err(err, errlen, "jobs must have a jobtype parameter");
	if (!v[JF_ARGS].v_set)
		return push_err(err, errlen, "jobs must have an args parameter");
	if (v[JF_RESERVE].v_int > 86400)
		return push_err(err, errlen, "jobs cannot be reserved for more than one day");
	if (v[JF_QUEUE].v_len == 0) {
		v[JF_QUEUE].v_str = "default";
		v[JF_QUEUE].v_len = 7;
	}
	in->ji_has_at = 0;
	if (v[JF_AT].v_len > 0) {
		if (brk_rfc3339_parse(v[JF_AT].v_str, v[JF_AT].v_len, &in->ji_at_ns, perr,
		    sizeof(perr)) == -1) {
			buf_init(&q);
			gojson_quote(&q, v[JF_AT].v_str, v[JF_AT].v_len);
			snprintf(err, errlen, "invalid timestamp for 'at': %.*s: %s",
			    (int)buf_rlen(&q), buf_rptr(&q), perr);
			buf_free(&q);
			return -1;
		}
		in->ji_has_at = in->ji_at_ns > brk_wall_ns(b);
	}
	/* Only a job enqueued now has its queue name checked (scheduled ones later). */
	if (!in->ji_has_at && !brk_queue_name_ok(v[JF_QUEUE].v_str, v[JF_QUEUE].v_len)) {
		brk_queue_name_err(v[JF_QUEUE].v_str, v[JF_QUEUE].v_len, err, errlen);
		return -1;
	}
	return 0;
}

/* Appends an encoded piece to the block buffer; *off gets its offset. */
static int
piece(struct buf *blk, size_t *off, const char *raw, size_t n, int encode)
{
	*off = blk->b_len;
	if ((encode ? gojson_str(blk, raw, n) : buf_append(blk, raw, n)) == -1)
		return -1;
	return buf_append(blk, "", 1);
}

static int
value_piece(struct buf *blk, size_t *off, const json_t *v)
{
	*off = blk->b_len;
	if (gojson_value(blk, v) == -1)
		return -1;
	return buf_append(blk, "", 1);
}

struct bjob *
bjob_from_json(struct brk *b, const json_t *o, const char *created_at, struct bjob_in *in,
    char *err, size_t errlen)
{
	struct bjob_dec d;

	in->ji_jid = "";
	in->ji_jidlen = 0;
	if (bjob_decode(o, &d, err, errlen) == -1) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "invalid JSON: %s", err);
		snprintf(err, errlen, "%s", tmp);
		return NULL;
	}
	return bjob_from_dec(b, &d, created_at, in, err, errlen);
}

struct bjob *
bjob_from_dec(struct brk *b, struct bjob_dec *d, const char *created_at, struct bjob_in *in,
    char *err, size_t errlen)
{
	struct godec_val *v = d->d_v;
	size_t o_jid, o_q, o_jide, o_qe, o_type, o_cr, o_at = 0, o_args, o_cu = 0;
	struct buf blk;
	struct bjob *j = NULL;
	int r = 0, has_custom;

	in->ji_jid = "";
	in->ji_jidlen = 0;
	if (v[JF_JID].v_set) {
		in->ji_jid = v[JF_JID].v_str;
		in->ji_jidlen = v[JF_JID].v_len;
	}
	if (validate(b, v, in, err, errlen) == -1)
		return NULL;
	if (v[JF_CREATED].v_len == 0) {
		v[JF_CREATED].v_str = created_at;
		v[JF_CREATED].v_len = strlen(created_at);
	}
	has_custom = v[JF_CUSTOM].v_set && json_object_size(v[JF_CUSTOM].v_json) > 0;
	buf_init(&blk);
	r |= piece(&blk, &o_jid, v[JF_JID].v_str, v[JF_JID].v_len, 0);
	r |= piece(&blk, &o_q, v[JF_QUEUE].v_str, v[JF_QUEUE].v_len, 0);
	r |= piece(&blk, &o_jide, v[JF_JID].v_str, v[JF_JID].v_len, 1);
	r |= piece(&blk, &o_qe, v[JF_QUEUE].v_str, v[JF_QUEUE].v_len, 1);
	r |= piece(&blk, &o_type, v[JF_TYPE].v_str, v[JF_TYPE].v_len, 1);
	r |= piece(&blk, &o_cr, v[JF_CREATED].v_str, v[JF_CREATED].v_len, 1);
	if (v[JF_AT].v_len > 0)
		r |= piece(&blk, &o_at, v[JF_AT].v_str, v[JF_AT].v_len, 1);
	r |= value_piece(&blk, &o_args, v[JF_ARGS].v_json);
	if (has_custom)
		r |= value_piece(&blk, &o_cu, v[JF_CUSTOM].v_json);
	if (r != 0 || (j = calloc(1, sizeof(*j) + blk.b_len)) == NULL)
		goto nomem;
	memcpy(j->j_block, blk.b_data, blk.b_len);
	heap_node_init(&j->j_due);
	j->j_jid = j->j_block + o_jid;
	j->j_jidlen = v[JF_JID].v_len;
	j->j_qname = j->j_block + o_q;
	j->j_qnamelen = v[JF_QUEUE].v_len;
	j->j_jid_enc = j->j_block + o_jide;
	j->j_qname_enc = j->j_block + o_qe;
	j->j_jobtype_enc = j->j_block + o_type;
	j->j_created_enc = j->j_block + o_cr;
	j->j_at_enc = v[JF_AT].v_len > 0 ? j->j_block + o_at : NULL;
	j->j_args_enc = j->j_block + o_args;
	j->j_custom_enc = has_custom ? j->j_block + o_cu : NULL;
	j->j_retry = v[JF_RETRY].v_set ? v[JF_RETRY].v_int : BRK_DEFAULT_RETRY;
	j->j_reserve_for = v[JF_RESERVE].v_int;
	j->j_backtrace = v[JF_BACKTRACE].v_int;
	if (v[JF_FAILURE].v_set && (j->j_failure = failure_from(v[JF_FAILURE].v_json)) == NULL)
		goto nomem;
	buf_free(&blk);
	return j;
nomem:
	buf_free(&blk);
	bjob_free(j);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* The FETCH reply is built from these pieces, sized first, then copied once. */
struct wire {
	struct {
		const char	*s;
		size_t		 n;
	}		 w_seg[32];
	size_t		 w_nseg;
	size_t		 w_len;
	char		 w_num[3][24];	/* retry, reserve_for, backtrace */
};

static void
seg(struct wire *w, const char *s, size_t n)
{
	FKW_ASSERT(w->w_nseg < FKW_NELEM(w->w_seg));
	w->w_seg[w->w_nseg].s = s;
	w->w_seg[w->w_nseg++].n = n;
	w->w_len += n;
}

#define SEG_LIT(w, lit)	seg((w), (lit), sizeof(lit) - 1)

static void
seg_str(struct wire *w, const char *s)
{
	seg(w, s, strlen(s));
}

static void
seg_int(struct wire *w, int slot, long long v)
{
	seg(w, w->w_num[slot], gojson_fmt_int(w->w_num[slot], v));
}

/* The job object in the server's key order, then "\r\n". */
static void
wire_body(struct wire *w, const struct bjob *j)
{
	SEG_LIT(w, "{\"retry\":");
	seg_int(w, 0, j->j_retry);
	if (j->j_failure != NULL) {
		SEG_LIT(w, ",\"failure\":");
		seg_str(w, j->j_failure->f_enc);
	}
	if (j->j_custom_enc != NULL) {
		SEG_LIT(w, ",\"custom\":");
		seg_str(w, j->j_custom_enc);
	}
	SEG_LIT(w, ",\"jid\":");
	seg_str(w, j->j_jid_enc);
	SEG_LIT(w, ",\"queue\":");
	seg_str(w, j->j_qname_enc);
	SEG_LIT(w, ",\"jobtype\":");
	seg_str(w, j->j_jobtype_enc);
	if (j->j_created_enc[2] != '\0' || j->j_created_enc[1] != '"') {
		SEG_LIT(w, ",\"created_at\":");
		seg_str(w, j->j_created_enc);
	}
	if (j->j_enqueued_at[0] != '\0') {
		SEG_LIT(w, ",\"enqueued_at\":\"");
		seg_str(w, j->j_enqueued_at);
		SEG_LIT(w, "\"");
	}
	if (j->j_at_enc != NULL) {
		SEG_LIT(w, ",\"at\":");
		seg_str(w, j->j_at_enc);
	}
	SEG_LIT(w, ",\"args\":");
	seg_str(w, j->j_args_enc);
	if (j->j_reserve_for != 0) {
		SEG_LIT(w, ",\"reserve_for\":");
		seg_int(w, 1, j->j_reserve_for);
	}
	if (j->j_backtrace != 0) {
		SEG_LIT(w, ",\"backtrace\":");
		seg_int(w, 2, j->j_backtrace);
	}
	SEG_LIT(w, "}\r\n");
}

int
bjob_encode(struct bjob *j)
{
	struct wire w;
	char head[32], *p;
	size_t hl = 0;

	if (j->j_raw)
		return 0;
	w.w_nseg = w.w_len = 0;
	wire_body(&w, j);
	/* "$N\r\n": N counts the object, not its "\r\n". */
	head[hl++] = '$';
	hl += gojson_fmt_int(head + hl, (long long)(w.w_len - 2));
	head[hl++] = '\r';
	head[hl++] = '\n';
	free(j->j_wire);
	if ((j->j_wire = p = malloc(hl + w.w_len)) == NULL)
		return -1;
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < w.w_nseg; i++) {
		memcpy(p, w.w_seg[i].s, w.w_seg[i].n);
		p += w.w_seg[i].n;
	}
	j->j_wirelen = hl + w.w_len;
	return 0;
}

int
bjob_stamp(struct brk *b, struct bjob *j)
{
	j->j_enq_ns = brk_wall_ns(b);
	brk_rfc3339(j->j_enq_ns, j->j_enqueued_at, sizeof(j->j_enqueued_at));
	return bjob_encode(j);
}

int
bjob_fail(struct brk *b, struct bjob *j, const char *errtype, size_t etlen,
    const char *message, size_t mlen, const char *backtrace)
{
	struct bfailure *f = j->j_failure;
	char ts[40];

	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return -1;
		brk_rfc3339(brk_wall_ns(b), ts, sizeof(ts));
		f->f_failed_at = enc_dup(ts, strlen(ts));
		f->f_remaining = j->j_retry;
		j->j_failure = f;
	} else {
		/* failed_at keeps the first failure's time; next_at stays until reset. */
		f->f_retry_count++;
		if (f->f_remaining > 0)
			f->f_remaining--;
	}
	free(f->f_message);
	free(f->f_errtype);
	free(f->f_backtrace);
	f->f_message = mlen > 0 ? enc_dup(message, mlen) : NULL;
	f->f_errtype = etlen > 0 ? enc_dup(errtype, etlen) : NULL;
	f->f_backtrace = backtrace != NULL ? strdup(backtrace) : NULL;
	if (f->f_failed_at == NULL || (mlen > 0 && f->f_message == NULL) ||
	    (etlen > 0 && f->f_errtype == NULL) ||
	    (backtrace != NULL && f->f_backtrace == NULL))
		return -1;
	return failure_encode(f);
}

int
bjob_next_at(struct bjob *j, int64_t ns)
{
	char ts[40];

	free(j->j_failure->f_next_at);
	brk_rfc3339(ns, ts, sizeof(ts));
	if ((j->j_failure->f_next_at = enc_dup(ts, strlen(ts))) == NULL)
		return -1;
	return failure_encode(j->j_failure);
}

void
bjob_free(struct bjob *j)
{
	if (j == NULL)
		return;
	failure_free(j->j_failure);
	free(j->j_wire);
	free(j);
}

/* ---- queue names ---- */

int
brk_queue_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void
brk_queue_name_err(const char *s, size_t n, char *err, size_t errlen)
{
	struct buf q;

	buf_init(&q);
	gojson_quote(&q, s, n);
	snprintf(err, errlen, "cannot get %.*s queue: queue names must match "
	    "\\A[a-zA-Z0-9._-]+\\z", (int)buf_rlen(&q), buf_rptr(&q));
	buf_free(&q);
}
