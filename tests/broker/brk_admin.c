/* SPDX-License-Identifier: MIT */
/*
 * brk_admin: verbs that only fkbroker knows, for tests: what happened to the
 * jobs (XSTATS, XJOB, XAUDIT, XFLUSHSTATS), the worker processes (XWORKERS,
 * XSTATE), the clock (XTIME), the faults (XFAULT) and jobs no client could
 * push (XINJECT). They are answered in order like any command, never garbled
 * or counted by --drop-after.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"
#include "log.h"

typedef int admin_json_fn(struct brk *, struct buf *);

static void
bulk_of(struct bconn *c, admin_json_fn *fn)
{
	struct buf o;

	buf_init(&o);
	if (fn(c->c_brk, &o) == 0)
		reply_bulk(c, buf_rptr(&o), buf_rlen(&o));
	else
		reply_err(c, "internal error");
	buf_free(&o);
}

static int
is(const char *v, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(v, name, n) == 0;
}

static void
xjob(struct bconn *c, const char *a, size_t n)
{
	struct buf o;

	buf_init(&o);
	if (audit_xjob(c->c_brk, &o, a, n) == 0)
		reply_bulk(c, buf_rptr(&o), buf_rlen(&o));
	else
		reply_err(c, "internal error");
	buf_free(&o);
}

/* XSTATE <wid> quiet|terminate: the wid is everything before the last space. */
static void
xstate(struct bconn *c, const char *a, size_t n)
{
	const char *sp = a != NULL ? memrchr(a, ' ', n) : NULL;
	enum bworker_state st;
	size_t sl;

	if (sp == NULL) {
		reply_err(c, "usage: XSTATE <wid> quiet|terminate");
		return;
	}
	sl = n - (size_t)(sp + 1 - a);
	if (sl == 5 && memcmp(sp + 1, "quiet", 5) == 0)
		st = BW_QUIET;
	else if (sl == 9 && memcmp(sp + 1, "terminate", 9) == 0)
		st = BW_TERMINATE;
	else {
		reply_err(c, "usage: XSTATE <wid> quiet|terminate");
		return;
	}
	if (worker_signal(c->c_brk, a, (size_t)(sp - a), st) == -1) {
		reply_err_raw(c, "unknown worker ", a, (size_t)(sp - a));
		return;
	}
	log_info("XSTATE %.*s %s", (int)(sp - a), a, st == BW_QUIET ? "quiet" : "terminate");
	reply_ok(c);
}

/* XTIME <seconds>: the broker's clock jumps ahead and due work runs now. */
static void
xtime(struct bconn *c, const char *a, size_t n)
{
	struct brk *b = c->c_brk;
	char tmp[64], *end;
	double s;

	snprintf(tmp, sizeof(tmp), "%.*s", (int)(n < 63 ? n : 63), a != NULL ? a : "");
	s = strtod(tmp, &end);
	if (a == NULL || n == 0 || *end != '\0' || !isfinite(s) || s < 0 || s > 315360000) {
		reply_err(c, "usage: XTIME <seconds> (0 to 315360000)");
		return;
	}
	b->b_voffset_ms += (int64_t)llround(s * 1000);
	log_info("XTIME %s: the clock is now %lld ms ahead", tmp, (long long)b->b_voffset_ms);
	store_run_due(b);
	reply_ok(c);
}

#define XFAULT_USAGE \
	"usage: XFAULT latency_us|service_us|cost_us|drop_after|garbage_every|refuse_ms <n>"

static void
xfault(struct bconn *c, const char *a, size_t n)
{
	const char *sp = a != NULL ? memchr(a, ' ', n) : NULL;
	const char *errstr;
	char num[32];
	long long v;

	if (sp == NULL || (size_t)(a + n - sp - 1) >= sizeof(num)) {
		reply_err(c, "%s", XFAULT_USAGE);
		return;
	}
	snprintf(num, sizeof(num), "%.*s", (int)(a + n - sp - 1), sp + 1);
	if (parse_ll(num, 0, 1000000000LL, &v, &errstr) == -1 ||
	    fault_set(c->c_brk, a, (size_t)(sp - a), v) == -1) {
		reply_err(c, "%s", XFAULT_USAGE);
		return;
	}
	log_info("XFAULT %.*s %lld", (int)(sp - a), a, v);
	reply_ok(c);
}

/*
 * XINJECT <queue> <bytes>: enqueues a job whose FETCH body is exactly <bytes>
 * (not validated, never re-encoded), so that tests can hand workers what no
 * server would: JSON cut short, args that are not an array, no jid. The job
 * is kept under the jid written literally in the bytes ("jid":"..." without
 * escapes), else under "xinject-N"; the reply is that key (bulk). It has
 * retry 0: a FAIL or an expired reservation ends it.
 */
static void
xinject(struct bconn *c, const char *a, size_t n)
{
	static unsigned long long seq;
	struct brk *b = c->c_brk;
	const char *sp = a != NULL ? memchr(a, ' ', n) : NULL, *raw, *p, *q;
	char key[160], ts[40], err[256], head[32];
	size_t rawlen, kl = 0;
	struct bjob_in in;
	struct bjob *j;
	json_t *o;
	int hl;

	if (sp == NULL || sp == a || sp + 1 == a + n) {
		reply_err(c, "usage: XINJECT <queue> <raw job bytes>");
		return;
	}
	if (!brk_queue_name_ok(a, (size_t)(sp - a))) {
		brk_queue_name_err(a, (size_t)(sp - a), err, sizeof(err));
		reply_err_raw(c, "", err, strlen(err));
		return;
	}
	raw = sp + 1;
	rawlen = n - (size_t)(raw - a);
	/* The jid a worker could read back from the bytes, as fkworker does. */
	if ((p = memmem(raw, rawlen, "\"jid\":\"", 7)) != NULL) {
		p += 7;
		q = memchr(p, '"', rawlen - (size_t)(p - raw));
		kl = q != NULL ? (size_t)(q - p) : 0;
		for (size_t i = 0; i < kl; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == '\\')
				kl = 0;
		if (kl >= sizeof(key))
			kl = 0;
		if (kl > 0)
			memcpy(key, p, kl);
	}
	if (kl == 0)
		kl = (size_t)snprintf(key, sizeof(key), "xinject-%llu", ++seq);
	key[kl] = '\0';
	o = json_pack("{s:s%,s:s,s:s%,s:[],s:i}", "jid", key, kl, "jobtype", "xinject",
	    "queue", a, (size_t)(sp - a), "args", "retry", 0);
	if (o == NULL) {
		/* Not UTF-8: keep it under a key of our own. */
		kl = (size_t)snprintf(key, sizeof(key), "xinject-%llu", ++seq);
		o = json_pack("{s:s%,s:s,s:s%,s:[],s:i}", "jid", key, kl, "jobtype",
		    "xinject", "queue", a, (size_t)(sp - a), "args", "retry", 0);
	}
	brk_rfc3339(brk_wall_ns(b), ts, sizeof(ts));
	j = o != NULL ? bjob_from_json(b, o, ts, &in, err, sizeof(err)) : NULL;
	json_decref(o);
	if (j == NULL) {
		reply_err(c, "XINJECT: %s", o == NULL ? "out of memory" : err);
		return;
	}
	/* The wire form first: store_push may hand the job to a waiting FETCH at once. */
	hl = snprintf(head, sizeof(head), "$%zu\r\n", rawlen);
	free(j->j_wire);
	if ((j->j_wire = malloc((size_t)hl + rawlen + 2)) == NULL) {
		bjob_free(j);
		reply_err(c, "internal error");
		return;
	}
	memcpy(j->j_wire, head, (size_t)hl);
	memcpy(j->j_wire + hl, raw, rawlen);
	memcpy(j->j_wire + hl + rawlen, "\r\n", 2);
	j->j_wirelen = (size_t)hl + rawlen + 2;
	j->j_raw = 1;
	if (store_push(b, j, &in) == -1) {
		reply_err(c, "internal error");
		return;
	}
	log_info("XINJECT %.*s: %zu bytes as %s", (int)(sp - a), a, rawlen, key);
	reply_bulk(c, key, kl);
}

int
admin_dispatch(struct bconn *c, const char *verb, size_t vlen, const char *args,
    size_t alen)
{
	if (is(verb, vlen, "XSTATS"))
		bulk_of(c, audit_xstats);
	else if (is(verb, vlen, "XAUDIT"))
		bulk_of(c, audit_xaudit);
	else if (is(verb, vlen, "XWORKERS"))
		bulk_of(c, worker_xworkers);
	else if (is(verb, vlen, "XJOB"))
		xjob(c, args != NULL ? args : "", alen);
	else if (is(verb, vlen, "XSTATE"))
		xstate(c, args, alen);
	else if (is(verb, vlen, "XTIME"))
		xtime(c, args, alen);
	else if (is(verb, vlen, "XFAULT"))
		xfault(c, args, alen);
	else if (is(verb, vlen, "XINJECT"))
		xinject(c, args, alen);
	else if (is(verb, vlen, "XFLUSHSTATS")) {
		audit_reset(c->c_brk);
		reply_ok(c);
	} else
		return 0;
	return 1;
}
