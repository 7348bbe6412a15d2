/* SPDX-License-Identifier: MIT */
/*
 * brk_store: where jobs live (manager/ and storage/ of the real server):
 * FIFO queues, the working set (reservations by jid, expiring in a heap),
 * the retry and scheduled sets (heaps on their due time) and the dead set.
 * Due work runs from one timer armed for the earliest deadline, in the
 * broker's clock, so XTIME can make it happen at once.
 */
#include <stdlib.h>
#include <string.h>

#include "brk.h"
#include "log.h"

/* ---- queues ---- */

struct bqueue *
store_queue(struct brk *b, const char *name, size_t n, int create)
{
	int created;
	struct bqueue *q = bmap_intern(&b->b_queues, name, n, sizeof(*q),
	    offsetof(struct bqueue, q_name), create, &created);

	if (created)
		q->q_namelen = n;
	return q;
}

void
store_queue_gc(struct brk *b, struct bqueue *q)
{
	if (q->q_known || q->q_len > 0 || q->q_whead != NULL)
		return;
	bmap_del(&b->b_queues, q->q_name, q->q_namelen);
	free(q);
}

/* Appends j to the list head..tail of jobs (a queue or the dead set), linked by j_prev/j_next. */
static void
list_append(struct bjob **head, struct bjob **tail, struct bjob *j)
{
	j->j_next = NULL;
	j->j_prev = *tail;
	if (*tail != NULL)
		(*tail)->j_next = j;
	else
		*head = j;
	*tail = j;
}

static void
list_remove(struct bjob **head, struct bjob **tail, struct bjob *j)
{
	if (j->j_prev != NULL)
		j->j_prev->j_next = j->j_next;
	else
		*head = j->j_next;
	if (j->j_next != NULL)
		j->j_next->j_prev = j->j_prev;
	else
		*tail = j->j_prev;
	j->j_prev = j->j_next = NULL;
}

static void
q_append(struct bqueue *q, struct bjob *j)
{
	list_append(&q->q_head, &q->q_tail, j);
	q->q_len++;
	j->j_queue = q;
}

static void
q_remove(struct bqueue *q, struct bjob *j)
{
	list_remove(&q->q_head, &q->q_tail, j);
	j->j_queue = NULL;
	q->q_len--;
}

static void
dead_append(struct brk *b, struct bjob *j)
{
	list_append(&b->b_dead_head, &b->b_dead_tail, j);
	b->b_ndead++;
	j->j_where = JW_DEAD;
}

static void
dead_remove(struct brk *b, struct bjob *j)
{
	list_remove(&b->b_dead_head, &b->b_dead_tail, j);
	b->b_ndead--;
}

/* ---- the timer for due work ---- */

static void
arm_for(struct brk *b, uint64_t due)
{
	uint64_t now = brk_vnow(b);

	if (b->b_due_at != 0 && b->b_due_at <= due && ev_timer_active(&b->b_due))
		return;
	b->b_due_at = due;
	ev_timer_start(b->b_loop, &b->b_due, due > now ? due - now : 0);
}

void
store_arm(struct brk *b)
{
	uint64_t due = b->b_reap_at;
	struct bjob *t;

	if ((t = bjob_first(&b->b_hworking)) != NULL && t->j_due.hn_key < due)
		due = t->j_due.hn_key;
	if ((t = bjob_first(&b->b_hretry)) != NULL && t->j_due.hn_key < due)
		due = t->j_due.hn_key;
	if ((t = bjob_first(&b->b_hsched)) != NULL && t->j_due.hn_key < due)
		due = t->j_due.hn_key;
	b->b_due_at = 0;
	arm_for(b, due);
}

/* ---- jobs moving between sets ---- */

/* Frees a job that leaves the server for good (ACK, discard, FLUSH). */
static void
job_gone(struct brk *b, struct bjob *j, enum baudit_state st)
{
	audit_move(b, j->j_audit, -1, j->j_where == JW_DEAD ? -1 : 0, st);
	bjob_free(j);
}

int
store_enqueue(struct brk *b, struct bjob *j, int stamp)
{
	struct bqueue *q = store_queue(b, j->j_qname, j->j_qnamelen, 1);

	if (q == NULL || (stamp ? bjob_stamp(b, j) : bjob_encode(j)) == -1)
		return -1;
	q_append(q, j);
	q->q_known = 1;
	j->j_where = JW_QUEUE;
	audit_move(b, j->j_audit, 0, 0, AS_QUEUED);
	if (q->q_whead != NULL && !q->q_paused)
		conn_serve_waiters(b, q);
	return 0;
}

int
store_push(struct brk *b, struct bjob *j, const struct bjob_in *in)
{
	struct baudit *a = audit_get(b, j->j_jid, j->j_jidlen, 1);

	if (a == NULL) {
		bjob_free(j);
		return -1;
	}
	j->j_audit = a;
	b->b_x_pushed++;
	audit_pushed(b, a);
	if (in != NULL && in->ji_has_at) {
		int64_t ahead_ms = (in->ji_at_ns - brk_wall_ns(b)) / 1000000;
		j->j_due.hn_key = brk_vnow(b) + (uint64_t)(ahead_ms > 0 ? ahead_ms : 0);
		if (bjob_encode(j) == -1 || heap_push(&b->b_hsched, &j->j_due) == -1) {
			job_gone(b, j, AS_DONE);
			return -1;
		}
		j->j_where = JW_SCHEDULED;
		audit_move(b, a, 0, 0, AS_SCHEDULED);
		arm_for(b, j->j_due.hn_key);
		return 0;
	}
	if (store_enqueue(b, j, 1) == -1) {
		job_gone(b, j, AS_DONE);
		return -1;
	}
	return 0;
}

struct bjob *
store_pop(struct brk *b, struct bqueue *const *qs, size_t n)
{
	FKW_UNUSED(b);
	for (size_t i = 0; i < n; i++) {
		struct bqueue *q = qs[i];
		struct bjob *j;
		if (q == NULL || q->q_paused || (j = q->q_head) == NULL)
			continue;
		q_remove(q, j);
		j->j_where = JW_NONE;
		return j;
	}
	return NULL;
}

void
store_unlink(struct brk *b, struct bjob *j)
{
	switch (j->j_where) {
	case JW_QUEUE:
		q_remove(j->j_queue, j);
		break;
	case JW_WORKING:
		bmap_del(&b->b_working, j->j_jid, j->j_jidlen);
		heap_remove(&b->b_hworking, &j->j_due);
		resv_end(b, j);
		break;
	case JW_RETRY:
		heap_remove(&b->b_hretry, &j->j_due);
		break;
	case JW_SCHEDULED:
		heap_remove(&b->b_hsched, &j->j_due);
		break;
	case JW_DEAD:
		dead_remove(b, j);
		audit_move(b, j->j_audit, 0, -1, AS_QUEUED);
		break;
	case JW_NONE:
		break;
	}
	j->j_where = JW_NONE;
}

void
store_bury(struct brk *b, struct bjob *j)
{
	dead_append(b, j);
	audit_move(b, j->j_audit, 0, 1, AS_DEAD);
}

void
store_discard(struct brk *b, struct bjob *j)
{
	job_gone(b, j, AS_DONE);
}

int
store_reserve(struct brk *b, struct bjob *j)
{
	long long secs = j->j_reserve_for;
	struct bjob *old;

	if (secs == 0)
		secs = BRK_DEFAULT_RESERVE;
	secs = secs < 60 ? 60 : secs > 86400 ? 86400 : secs;
	/* A second job with a reserved jid replaces the first reservation, as in the real map. */
	if ((old = bmap_get(&b->b_working, j->j_jid, j->j_jidlen)) != NULL) {
		log_info("reservation of jid %.*s replaced by a job with the same jid",
		    (int)j->j_jidlen, j->j_jid);
		store_unlink(b, old);
		job_gone(b, old, AS_WORKING);
	}
	j->j_due.hn_key = brk_vnow(b) + (uint64_t)secs * 1000;
	if (bmap_put(&b->b_working, j->j_jid, j->j_jidlen, j) == -1)
		return -1;
	if (heap_push(&b->b_hworking, &j->j_due) == -1) {
		bmap_del(&b->b_working, j->j_jid, j->j_jidlen);
		return -1;
	}
	j->j_where = JW_WORKING;
	b->b_x_delivered++;
	audit_delivered(b, j->j_audit);
	arm_for(b, j->j_due.hn_key);
	return 0;
}

int
store_ack(struct brk *b, const char *jid, size_t n)
{
	struct bjob *j = bmap_get(&b->b_working, jid, n);
	struct baudit *a;

	if (j == NULL) {
		if ((a = audit_get(b, jid, n, 0)) != NULL)
			a->a_ack_noop++;
		return 0;
	}
	store_unlink(b, j);
	b->b_total_processed++;
	b->b_x_acked++;
	audit_acked(b, j->j_audit);
	job_gone(b, j, AS_DONE);
	return 1;
}

static uint64_t
retry_delay_ms(struct brk *b, long long count)
{
	long long c = count;

	if (b->b_opt.o_retry_delay_ms >= 0)
		return (uint64_t)b->b_opt.o_retry_delay_ms;
	/* manager.nextRetry: c^4 + 15 + rand(30) * (c + 1) seconds. */
	return (uint64_t)(c * c * c * c + 15 + (long long)fkw_rand_below(30) * (c + 1)) * 1000;
}

/* processFailure: count it, then retry later, bury, or drop the job. */
static void
process_failure(struct brk *b, struct bjob *j, const char *errtype, size_t etlen,
    const char *message, size_t mlen, const char *backtrace)
{
	struct bfailure *f;
	uint64_t delay;

	b->b_total_failures++;
	b->b_total_processed++;
	audit_failed(b, j->j_audit, errtype, etlen, message, mlen);
	if (bjob_fail(b, j, errtype, etlen, message, mlen, backtrace) == -1) {
		log_warnx("failure of %.*s: out of memory; job dropped", (int)j->j_jidlen, j->j_jid);
		job_gone(b, j, AS_DONE);
		return;
	}
	f = j->j_failure;
	if (j->j_retry == 0) {
		job_gone(b, j, AS_DONE);
		return;
	}
	if (f->f_retry_count < j->j_retry) {
		delay = retry_delay_ms(b, f->f_retry_count);
		j->j_due.hn_key = brk_vnow(b) + delay;
		if (bjob_next_at(j, brk_wall_ns(b) + (int64_t)delay * 1000000) == -1 ||
		    bjob_encode(j) == -1 || heap_push(&b->b_hretry, &j->j_due) == -1) {
			job_gone(b, j, AS_DONE);
			return;
		}
		j->j_where = JW_RETRY;
		audit_move(b, j->j_audit, 0, 0, AS_RETRY);
		arm_for(b, j->j_due.hn_key);
		return;
	}
	if (bjob_encode(j) == -1) {
		job_gone(b, j, AS_DONE);
		return;
	}
	dead_append(b, j);
	audit_move(b, j->j_audit, 0, 1, AS_DEAD);
}

int
store_fail(struct brk *b, const char *jid, size_t n, const char *errtype, size_t etlen,
    const char *message, size_t mlen, const char *backtrace)
{
	struct bjob *j = bmap_get(&b->b_working, jid, n);

	if (j == NULL)
		return -1;
	store_unlink(b, j);
	b->b_x_failed++;
	audit_errtype(b, errtype, etlen);
	process_failure(b, j, errtype, etlen, message, mlen, backtrace);
	return 0;
}

/* ---- due work ---- */

static void
run_expired(struct brk *b, uint64_t now)
{
	static const char et[] = "ReservationExpired", msg[] = "Faktory job reservation expired";
	struct bjob *j;

	while ((j = bjob_first(&b->b_hworking)) != NULL && j->j_due.hn_key <= now) {
		store_unlink(b, j);
		b->b_busy_reaped++;
		b->b_x_expired++;
		j->j_audit->a_expired++;
		log_debug("reservation of %.*s expired", (int)j->j_jidlen, j->j_jid);
		process_failure(b, j, et, sizeof(et) - 1, msg, sizeof(msg) - 1, NULL);
	}
}

static void
run_heap(struct brk *b, struct heap *h, uint64_t now, uint64_t *count)
{
	struct bjob *j;

	while ((j = bjob_first(h)) != NULL && j->j_due.hn_key <= now) {
		store_unlink(b, j);
		/* A scheduled job is checked only now; a bad queue name drops it. */
		if (!brk_queue_name_ok(j->j_qname, j->j_qnamelen)) {
			log_info("scheduled job %.*s dropped: bad queue name", (int)j->j_jidlen,
			    j->j_jid);
			job_gone(b, j, AS_DONE);
			continue;
		}
		(*count)++;
		if (store_enqueue(b, j, 1) == -1) {
			log_warnx("enqueue of %.*s: out of memory; job dropped",
			    (int)j->j_jidlen, j->j_jid);
			job_gone(b, j, AS_DONE);
		}
	}
}

void
store_run_due(struct brk *b)
{
	uint64_t now = brk_vnow(b);

	run_expired(b, now);
	if (bjob_first(&b->b_hretry) != NULL)
		b->b_retry_cycles++;
	run_heap(b, &b->b_hretry, now, &b->b_retry_enqueued);
	if (bjob_first(&b->b_hsched) != NULL)
		b->b_sched_cycles++;
	run_heap(b, &b->b_hsched, now, &b->b_sched_enqueued);
	if (now >= b->b_reap_at) {
		long long period = b->b_opt.o_reap_s * 1000 / 4;
		worker_reap(b);
		if (period > BRK_REAP_EVERY_MS)
			period = BRK_REAP_EVERY_MS;
		b->b_reap_at = now + (uint64_t)(period < 100 ? 100 : period);
	}
	store_arm(b);
}

/* ---- FLUSH and teardown ---- */

static void
drop_heap(struct brk *b, struct heap *h, int audit)
{
	struct bjob *j;

	while ((j = bjob_first(h)) != NULL) {
		store_unlink(b, j);
		if (audit)
			job_gone(b, j, AS_FLUSHED);
		else
			bjob_free(j);
	}
}

static void
drop_all(struct brk *b, int audit)
{
	struct bjob *j;

	for (size_t i = 0; i < b->b_queues.m_cap; i++) {
		struct bqueue *q = b->b_queues.m_slots[i].s_key ? b->b_queues.m_slots[i].s_val : NULL;
		while (q != NULL && (j = q->q_head) != NULL) {
			store_unlink(b, j);
			if (audit)
				job_gone(b, j, AS_FLUSHED);
			else
				bjob_free(j);
		}
	}
	drop_heap(b, &b->b_hworking, audit);
	drop_heap(b, &b->b_hretry, audit);
	drop_heap(b, &b->b_hsched, audit);
	while ((j = b->b_dead_head) != NULL) {
		dead_remove(b, j);
		if (audit)
			audit_move(b, j->j_audit, -1, -1, AS_FLUSHED);
		bjob_free(j);
	}
}

void
store_flush(struct brk *b)
{
	drop_all(b, 1);
	b->b_total_processed = 0;
	b->b_total_failures = 0;
	store_arm(b);
}

void
store_free(struct brk *b)
{
	drop_all(b, 0);
	for (size_t i = 0; i < b->b_queues.m_cap; i++)
		if (b->b_queues.m_slots[i].s_key != NULL)
			free(b->b_queues.m_slots[i].s_val);
	bmap_free(&b->b_queues);
	bmap_free(&b->b_working);
	heap_free(&b->b_hworking);
	heap_free(&b->b_hretry);
	heap_free(&b->b_hsched);
}
