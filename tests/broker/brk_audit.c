/* SPDX-License-Identifier: MIT */
/*
 * brk_audit: what happened to every jid over the broker's life, so that a
 * test can assert "nothing lost, nothing processed twice without a reason"
 * (XAUDIT), look at one job (XJOB) or at the totals (XSTATS). The XAUDIT
 * numbers are kept current on every change, so polling them is cheap.
 */
#include <stdlib.h>
#include <string.h>

#include "brk.h"

#define ERRTYPES_MAX	1000	/* distinct errtypes counted by name */
#define SAMPLE_MAX	20

struct berrtype {
	uint64_t	 e_n;
	size_t		 e_len;
	char		 e_name[];
};

static const char *const state_names[] = {
	[AS_UNKNOWN] = "unknown", [AS_QUEUED] = "queued", [AS_SCHEDULED] = "scheduled",
	[AS_WORKING] = "working", [AS_RETRY] = "retry", [AS_DEAD] = "dead",
	[AS_DONE] = "done", [AS_FLUSHED] = "flushed",
};

struct baudit *
audit_get(struct brk *b, const char *jid, size_t n, int create)
{
	int created;
	struct baudit *a = bmap_intern(&b->b_audit, jid, n, sizeof(*a),
	    offsetof(struct baudit, a_jid), create, &created);

	if (created)
		a->a_jidlen = n;
	return a;
}

/* Done: every job of the jid finished, or lies in the dead set. */
static int
is_done(const struct baudit *a)
{
	return a->a_pushed > 0 && a->a_live == a->a_dead && a->a_state != AS_FLUSHED;
}

static int
is_pending(const struct baudit *a)
{
	return a->a_pushed > 0 && a->a_live > a->a_dead;
}

/* Adds (sign 1) or removes (-1) one record's share of the totals. */
static void
account(struct brk *b, const struct baudit *a, int sign)
{
	uint64_t s = (uint64_t)(int64_t)sign;

	b->b_a_jobs += a->a_pushed > 0 ? s : 0;
	b->b_a_done += is_done(a) ? s : 0;
	b->b_a_flushed += a->a_pushed > 0 && a->a_live == 0 && a->a_state == AS_FLUSHED ? s : 0;
	b->b_a_acked_once += a->a_acked == 1 ? s : 0;
	b->b_a_acked_multi += a->a_acked > 1 ? s : 0;
	b->b_a_delivered_multi += a->a_delivered > 1 ? s : 0;
	b->b_a_failed += a->a_failed > 0 ? s : 0;
}

static void
lists(struct brk *b, struct baudit *a)
{
	int p = is_pending(a);

	if (p && !a->a_pending) {
		a->a_next = NULL;
		a->a_prev = b->b_pend_tail;
		if (b->b_pend_tail != NULL)
			b->b_pend_tail->a_next = a;
		else
			b->b_pend_head = a;
		b->b_pend_tail = a;
	} else if (!p && a->a_pending) {
		if (a->a_prev != NULL)
			a->a_prev->a_next = a->a_next;
		else
			b->b_pend_head = a->a_next;
		if (a->a_next != NULL)
			a->a_next->a_prev = a->a_prev;
		else
			b->b_pend_tail = a->a_prev;
		a->a_prev = a->a_next = NULL;
	}
	a->a_pending = p;
	if (a->a_acked > 1 && !a->a_multi) {
		a->a_multi = 1;
		a->a_mnext = NULL;
		if (b->b_multi_tail != NULL)
			b->b_multi_tail->a_mnext = a;
		else
			b->b_multi_head = a;
		b->b_multi_tail = a;
	}
}

void
audit_move(struct brk *b, struct baudit *a, int dlive, int ddead, enum baudit_state st)
{
	account(b, a, -1);
	a->a_live = (unsigned)((int)a->a_live + dlive);
	a->a_dead = (unsigned)((int)a->a_dead + ddead);
	a->a_state = st;
	account(b, a, 1);
	lists(b, a);
}

void
audit_pushed(struct brk *b, struct baudit *a)
{
	account(b, a, -1);
	a->a_pushed++;
	a->a_live++;
	a->a_state = AS_QUEUED;
	account(b, a, 1);
	lists(b, a);
}

void
audit_delivered(struct brk *b, struct baudit *a)
{
	account(b, a, -1);
	a->a_delivered++;
	a->a_state = AS_WORKING;
	account(b, a, 1);
}

void
audit_acked(struct brk *b, struct baudit *a)
{
	account(b, a, -1);
	a->a_acked++;
	account(b, a, 1);
	lists(b, a);
}

static char *
dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void
audit_failed(struct brk *b, struct baudit *a, const char *errtype, size_t etlen,
    const char *message, size_t mlen)
{
	account(b, a, -1);
	a->a_failed++;
	account(b, a, 1);
	free(a->a_errtype);
	free(a->a_message);
	a->a_errtype = dup_n(errtype, etlen);
	a->a_message = dup_n(message, mlen);
}

void
audit_errtype(struct brk *b, const char *errtype, size_t n)
{
	struct berrtype *e = bmap_get(&b->b_errtypes, errtype, n);
	int created = 0;

	if (e == NULL && b->b_errtypes.m_len >= ERRTYPES_MAX) {
		errtype = "(other)";
		n = strlen(errtype);
	}
	if (e == NULL && (e = bmap_intern(&b->b_errtypes, errtype, n, sizeof(*e),
	    offsetof(struct berrtype, e_name), 1, &created)) == NULL)
		return;
	if (created)
		e->e_len = n;
	e->e_n++;
}

void
audit_lost(struct brk *b, struct baudit *a, enum blost why)
{
	a->a_lost[why]++;
	b->b_a_lost[why]++;
}

static void
free_map_values(struct bmap *m)
{
	for (size_t i = 0; i < m->m_cap; i++)
		if (m->m_slots[i].s_key != NULL)
			free(m->m_slots[i].s_val);
	bmap_clear(m);
}

static void
audit_free_record(struct baudit *a)
{
	free(a->a_errtype);
	free(a->a_message);
	free(a);
}

void
audit_reset(struct brk *b)
{
	struct bmap *m = &b->b_audit;
	struct baudit **gone = NULL;
	size_t ngone = 0;

	b->b_a_jobs = b->b_a_done = b->b_a_acked_once = b->b_a_acked_multi = 0;
	b->b_a_delivered_multi = b->b_a_failed = b->b_a_flushed = 0;
	b->b_pend_head = b->b_pend_tail = b->b_multi_head = b->b_multi_tail = NULL;
	if (m->m_len > 0)
		gone = malloc(m->m_len * sizeof(*gone));
	/* Records of live jobs stay (jobs point at them), counting those jobs as pushed. */
	for (size_t i = 0; i < m->m_cap; i++) {
		struct baudit *a = m->m_slots[i].s_key != NULL ? m->m_slots[i].s_val : NULL;
		if (a == NULL)
			continue;
		if (a->a_live == 0 && gone != NULL) {
			gone[ngone++] = a;
			continue;
		}
		a->a_pushed = a->a_live;
		a->a_delivered = a->a_acked = a->a_failed = 0;
		a->a_expired = a->a_ack_noop = 0;
		memset(a->a_lost, 0, sizeof(a->a_lost));
		a->a_pending = a->a_multi = 0;
		account(b, a, 1);
		lists(b, a);
	}
	/* Deleting shifts entries, so only once the walk is over. */
	for (size_t i = 0; i < ngone; i++) {
		bmap_del(m, gone[i]->a_jid, gone[i]->a_jidlen);
		audit_free_record(gone[i]);
	}
	free(gone);
	b->b_x_pushed = b->b_x_acked = b->b_x_failed = b->b_x_delivered = 0;
	b->b_x_expired = b->b_x_refused = b->b_x_commands = b->b_x_pipelined = 0;
	memset(b->b_x_cut_ran, 0, sizeof(b->b_x_cut_ran));
	memset(b->b_x_cut_unrun, 0, sizeof(b->b_x_cut_unrun));
	/* Stranded is what the working set holds now: it stays. */
	memset(b->b_a_lost, 0, sizeof(b->b_a_lost));
	free_map_values(&b->b_errtypes);
}

void
audit_free(struct brk *b)
{
	for (size_t i = 0; i < b->b_audit.m_cap; i++)
		if (b->b_audit.m_slots[i].s_key != NULL)
			audit_free_record(b->b_audit.m_slots[i].s_val);
	bmap_free(&b->b_audit);
	free_map_values(&b->b_errtypes);
	bmap_free(&b->b_errtypes);
}

/* ---- the X verbs' JSON ---- */

static size_t
queued_total(struct brk *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->b_queues.m_cap; i++)
		if (b->b_queues.m_slots[i].s_key != NULL)
			n += ((struct bqueue *)b->b_queues.m_slots[i].s_val)->q_len;
	return n;
}

/* ,"name":{verb:n,...} with the verbs that occurred. */
static int
by_verb(struct buf *o, const char *name, const uint64_t *n)
{
	int r = buf_printf(o, ",\"%s\":{", name), first = 1;

	for (size_t v = 0; v < BRK_NVERBS; v++) {
		if (n[v] == 0)
			continue;
		r |= buf_printf(o, "%s\"%s\":%llu", first ? "" : ",", cmd_verb_name(v),
		    (unsigned long long)n[v]);
		first = 0;
	}
	return r | buf_puts(o, "}");
}

int
audit_xstats(struct brk *b, struct buf *o)
{
	int r, first = 1;

	r = buf_printf(o, "{\"pushed\":%llu,\"acked\":%llu,\"failed\":%llu,\"delivered\":%llu,"
	    "\"enqueued\":%zu,\"working\":%zu,\"retries\":%zu,\"dead\":%zu,\"connections\":%zu,"
	    "\"commands\":%llu,\"scheduled\":%zu,\"expired\":%llu,\"workers\":%zu,"
	    "\"fail_errtypes\":{",
	    (unsigned long long)b->b_x_pushed, (unsigned long long)b->b_x_acked,
	    (unsigned long long)b->b_x_failed, (unsigned long long)b->b_x_delivered,
	    queued_total(b), b->b_working.m_len, b->b_hretry.hp_len, b->b_ndead, b->b_nconns,
	    (unsigned long long)b->b_x_commands, b->b_hsched.hp_len,
	    (unsigned long long)b->b_x_expired, b->b_workers.m_len);
	for (size_t i = 0; i < b->b_errtypes.m_cap && r == 0; i++) {
		const struct berrtype *e = b->b_errtypes.m_slots[i].s_val;
		if (b->b_errtypes.m_slots[i].s_key == NULL)
			continue;
		if (!first)
			r |= buf_append(o, ",", 1);
		first = 0;
		r |= gojson_str(o, e->e_name, e->e_len);
		r |= buf_printf(o, ":%llu", (unsigned long long)e->e_n);
	}
	r |= buf_printf(o, "},\"stranded\":%llu,\"pipelined\":%llu,\"refused\":%llu",
	    (unsigned long long)b->b_stranded, (unsigned long long)b->b_x_pipelined,
	    (unsigned long long)b->b_x_refused);
	r |= by_verb(o, "cut_ran", b->b_x_cut_ran);
	r |= by_verb(o, "cut_unrun", b->b_x_cut_unrun);
	return r | buf_puts(o, "}");
}

static int
opt_str(struct buf *o, const char *s)
{
	return s != NULL ? gojson_str(o, s, strlen(s)) : buf_puts(o, "null");
}

int
audit_xjob(struct brk *b, struct buf *o, const char *jid, size_t n)
{
	static const struct baudit none;
	const struct baudit *a = audit_get(b, jid, n, 0);
	int r;

	if (a == NULL)
		a = &none;
	r = buf_puts(o, "{\"jid\":");
	r |= gojson_str(o, jid, n);
	r |= buf_printf(o, ",\"pushed\":%u,\"delivered\":%u,\"acked\":%u,\"failed\":%u,"
	    "\"expired\":%u,\"ack_noop\":%u,\"state\":\"%s\",\"errtype\":", a->a_pushed,
	    a->a_delivered, a->a_acked, a->a_failed, a->a_expired, a->a_ack_noop,
	    state_names[a->a_state]);
	r |= opt_str(o, a->a_errtype);
	r |= buf_puts(o, ",\"message\":");
	r |= opt_str(o, a->a_message);
	r |= buf_printf(o, ",\"lost_garbled\":%u,\"lost_cut\":%u,\"lost_orphaned\":%u,"
	    "\"lost_unread\":%u}", a->a_lost[BL_GARBLED], a->a_lost[BL_CUT],
	    a->a_lost[BL_ORPHANED], a->a_lost[BL_UNREAD]);
	return r;
}

int
audit_xaudit(struct brk *b, struct buf *o)
{
	const struct baudit *a;
	int r, k;

	r = buf_printf(o, "{\"jobs\":%llu,\"done\":%llu,\"acked_once\":%llu,\"acked_multi\":%llu,"
	    "\"delivered_multi\":%llu,\"failed\":%llu,\"pending\":%llu,\"flushed\":%llu,"
	    "\"lost_sample\":[",
	    (unsigned long long)b->b_a_jobs, (unsigned long long)b->b_a_done,
	    (unsigned long long)b->b_a_acked_once, (unsigned long long)b->b_a_acked_multi,
	    (unsigned long long)b->b_a_delivered_multi, (unsigned long long)b->b_a_failed,
	    (unsigned long long)(b->b_a_jobs - b->b_a_done - b->b_a_flushed),
	    (unsigned long long)b->b_a_flushed);
	for (a = b->b_pend_head, k = 0; a != NULL && k < SAMPLE_MAX; a = a->a_next, k++) {
		if (k > 0)
			r |= buf_append(o, ",", 1);
		r |= gojson_str(o, a->a_jid, a->a_jidlen);
	}
	r |= buf_puts(o, "],\"multi_sample\":[");
	for (a = b->b_multi_head, k = 0; a != NULL && k < SAMPLE_MAX; a = a->a_mnext, k++) {
		if (k > 0)
			r |= buf_append(o, ",", 1);
		r |= gojson_str(o, a->a_jid, a->a_jidlen);
	}
	return r | buf_printf(o, "],\"lost_garbled\":%llu,\"lost_cut\":%llu,"
	    "\"lost_orphaned\":%llu,\"lost_unread\":%llu,\"stranded\":%llu,\"reserved\":%zu}",
	    (unsigned long long)b->b_a_lost[BL_GARBLED], (unsigned long long)b->b_a_lost[BL_CUT],
	    (unsigned long long)b->b_a_lost[BL_ORPHANED],
	    (unsigned long long)b->b_a_lost[BL_UNREAD], (unsigned long long)b->b_stranded,
	    b->b_working.m_len);
}
