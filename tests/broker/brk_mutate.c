/* SPDX-License-Identifier: MIT */
/*
 * brk_mutate: MUTATE (server/mutate.go: kill, requeue, discard, clear on the
 * retries, dead and scheduled sets) and QUEUE (pause, resume, remove,
 * latency). Both are rare and slow on the real server; here they walk the
 * set they name.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "brk.h"

static const struct godec_field filter_fields[] = {
	{ "jobtype", GD_STRING, "string", NULL },
	{ "jids", GD_STRLIST, "[]string", NULL },
	{ "regexp", GD_STRING, "string", NULL },
};
enum { FI_TYPE, FI_JIDS, FI_RE };
static const struct godec_struct filter_struct = {
	"JobFilter", filter_fields, FKW_NELEM(filter_fields)
};

static const struct godec_field op_fields[] = {
	{ "cmd", GD_STRING, "client.MutateCmd", NULL },
	{ "target", GD_STRING, "string", NULL },
	{ "filter", GD_STRUCT, "client.JobFilter", &filter_struct },
};
enum { OP_CMD, OP_TARGET, OP_FILTER };
static const struct godec_struct op_struct = {
	"Operation", op_fields, FKW_NELEM(op_fields)
};

struct filter {
	int		 f_all;
	const json_t	*f_jids;
	const char	*f_type;
	size_t		 f_typelen;
	char		*f_glob;
};

static int
eq(const struct godec_val *v, const char *s)
{
	return v->v_len == strlen(s) && memcmp(v->v_str, s, v->v_len) == 0;
}

/* The job's JSON as stored (what a Redis SCAN MATCH glob sees). */
static char *
job_json(const struct bjob *j)
{
	const char *p = memchr(j->j_wire, '\n', j->j_wirelen);
	size_t n;
	char *s;

	if (p == NULL)
		return NULL;
	p++;
	n = j->j_wirelen - (size_t)(p - j->j_wire) - 2;
	if ((s = malloc(n + 1)) != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int
matches(const struct filter *f, const struct bjob *j)
{
	char *js;
	int ok = 1;

	if (f->f_all)
		return 1;
	/* With jids, the other filters do not apply. */
	if (f->f_jids != NULL && json_array_size(f->f_jids) > 0) {
		for (size_t i = 0; i < json_array_size(f->f_jids); i++) {
			const json_t *e = json_array_get(f->f_jids, i);
			if (json_is_string(e) && json_string_length(e) == j->j_jidlen &&
			    memcmp(json_string_value(e), j->j_jid, j->j_jidlen) == 0)
				return 1;
		}
		return 0;
	}
	if ((js = job_json(j)) == NULL)
		return 0;
	if (f->f_glob != NULL)
		ok = fnmatch(f->f_glob, js, 0) == 0;
	if (ok && f->f_type != NULL) {
		struct buf t;
		buf_init(&t);
		buf_puts(&t, "\"jobtype\":");
		gojson_str(&t, f->f_type, f->f_typelen);
		buf_append(&t, "", 1);
		ok = t.b_data != NULL && strstr(js, t.b_data) != NULL;
		buf_free(&t);
	}
	free(js);
	return ok;
}

/* The jobs of a set that match, collected before any of them moves. */
static struct bjob **
collect(struct brk *b, const char *target, const struct filter *f, size_t *n)
{
	struct heap *h = NULL;
	struct bjob **v, *j;
	size_t cap;

	if (strcmp(target, "retries") == 0)
		h = &b->b_hretry;
	else if (strcmp(target, "scheduled") == 0)
		h = &b->b_hsched;
	cap = h != NULL ? h->hp_len : b->b_ndead;
	*n = 0;
	if ((v = malloc((cap + 1) * sizeof(*v))) == NULL)
		return NULL;
	if (h != NULL) {
		for (size_t i = 0; i < h->hp_len; i++) {
			j = heap_entry(h->hp_v[i], struct bjob, j_due);
			if (matches(f, j))
				v[(*n)++] = j;
		}
	} else {
		for (j = b->b_dead_head; j != NULL; j = j->j_next)
			if (matches(f, j))
				v[(*n)++] = j;
	}
	return v;
}

static int
apply(struct brk *b, const char *cmd, struct bjob **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bjob *j = v[i];
		if (strcmp(cmd, "kill") == 0 && j->j_where == JW_DEAD)
			continue;
		store_unlink(b, j);
		if (strcmp(cmd, "kill") == 0) {
			store_bury(b, j);
		} else if (strcmp(cmd, "requeue") == 0) {
			/* The stored JSON goes back as it is: enqueued_at is not restamped. */
			if (!brk_queue_name_ok(j->j_qname, j->j_qnamelen) ||
			    store_enqueue(b, j, 0) == -1)
				store_discard(b, j);
		} else {
			store_discard(b, j);
		}
	}
	return 0;
}

void
cmd_mutate(struct bconn *c, const char *line, size_t n)
{
	struct godec_val v[FKW_NELEM(op_fields)], fv[FKW_NELEM(filter_fields)];
	const char *sp = memchr(line, ' ', n), *p;
	char err[512], cmd[16], target[16];
	struct filter f;
	struct bjob **jobs;
	size_t nj;
	json_t *o;

	if (sp == NULL || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line)) != NULL) {
		reply_err(c, "invalid format");
		return;
	}
	p = sp + 1;
	o = gojson_load(p, n - (size_t)(p - line), err, sizeof(err));
	if (o != NULL && !json_is_object(o) && !json_is_null(o))
		snprintf(err, sizeof(err), "json: cannot unmarshal %s into Go value of type "
		    "client.Operation", gojson_kind(o));
	if (o == NULL || (!json_is_object(o) && !json_is_null(o)) ||
	    (json_is_object(o) && godec_struct(o, &op_struct, v, NULL, err, sizeof(err)) == -1)) {
		json_decref(o);
		reply_err(c, "%s", err);
		return;
	}
	if (json_is_null(o))
		memset(v, 0, sizeof(v));
	memset(&f, 0, sizeof(f));
	if (!v[OP_FILTER].v_set) {
		f.f_all = 1;
	} else {
		godec_struct(v[OP_FILTER].v_json, &filter_struct, fv, "filter", err, sizeof(err));
		f.f_jids = fv[FI_JIDS].v_json;
		if (fv[FI_TYPE].v_len > 0) {
			f.f_type = fv[FI_TYPE].v_str;
			f.f_typelen = fv[FI_TYPE].v_len;
		}
		if (fv[FI_RE].v_len > 0)
			f.f_glob = strndup(fv[FI_RE].v_str, fv[FI_RE].v_len);
		f.f_all = f.f_type == NULL && f.f_glob == NULL &&
		    (f.f_jids == NULL || json_array_size(f.f_jids) == 0);
	}
	snprintf(cmd, sizeof(cmd), "%.*s", (int)v[OP_CMD].v_len, v[OP_CMD].v_str ? v[OP_CMD].v_str : "");
	snprintf(target, sizeof(target), "%.*s", (int)v[OP_TARGET].v_len,
	    v[OP_TARGET].v_str ? v[OP_TARGET].v_str : "");
	if (!eq(&v[OP_CMD], "clear") && !eq(&v[OP_CMD], "kill") && !eq(&v[OP_CMD], "discard") &&
	    !eq(&v[OP_CMD], "requeue")) {
		reply_err(c, "unknown mutate operation");
	} else if (!eq(&v[OP_TARGET], "retries") && !eq(&v[OP_TARGET], "dead") &&
	    !eq(&v[OP_TARGET], "scheduled")) {
		reply_err(c, "invalid target for mutation command");
	} else {
		if (strcmp(cmd, "clear") == 0)
			f.f_all = 1;
		if ((jobs = collect(c->c_brk, target, &f, &nj)) == NULL) {
			reply_err(c, "internal error");
		} else {
			apply(c->c_brk, cmd, jobs, nj);
			free(jobs);
			store_arm(c->c_brk);
			reply_ok(c);
		}
	}
	free(f.f_glob);
	json_decref(o);
}

/* ---- QUEUE ---- */

static void
queue_one(struct brk *b, const char *sub, struct bqueue *q)
{
	struct bjob *j;

	if (strcasecmp(sub, "PAUSE") == 0) {
		q->q_paused = 1;
	} else if (strcasecmp(sub, "RESUME") == 0) {
		q->q_paused = 0;
		if (q->q_len > 0 && q->q_whead != NULL)
			conn_serve_waiters(b, q);
	} else {
		while ((j = q->q_head) != NULL) {
			store_unlink(b, j);
			audit_move(b, j->j_audit, -1, 0, AS_FLUSHED);
			bjob_free(j);
		}
		q->q_known = 0;
		q->q_paused = 0;
		store_queue_gc(b, q);
	}
}

static void
queue_latency(struct bconn *c, char **names, size_t n)
{
	struct brk *b = c->c_brk;
	int64_t now = brk_wall_ns(b);
	json_t *o = json_object();
	struct buf out;

	for (size_t i = 0; o != NULL && i < n; i++) {
		struct bqueue *q = store_queue(b, names[i], strlen(names[i]), 0);
		double age = 0;
		if (q != NULL && q->q_head != NULL && q->q_head->j_enq_ns > 0)
			age = (double)(now - q->q_head->j_enq_ns) / 1e9;
		json_object_set_new(o, names[i], json_real(age));
	}
	buf_init(&out);
	if (o != NULL && gojson_value(&out, o) == 0)
		reply_bulk(c, buf_rptr(&out), buf_rlen(&out));
	else
		reply_err(c, "internal error");
	buf_free(&out);
	json_decref(o);
}

void
cmd_queue(struct bconn *c, const char *line, size_t n)
{
	struct brk *b = c->c_brk;
	char *copy = strndup(line, n), *save = NULL, **words = NULL, *w;
	size_t nw = 0;

	if (copy == NULL || (words = calloc(n + 1, sizeof(*words))) == NULL)
		goto nomem;
	/* strings.Split on single spaces: empty words are kept. */
	for (w = copy; ; w = save + 1) {
		save = strchr(w, ' ');
		words[nw++] = w;
		if (save == NULL)
			break;
		*save = '\0';
	}
	/* The server indexes words[2] without a check: a panic, here an error. */
	if (nw < 3) {
		reply_err(c, "internal error");
		goto out;
	}
	if (strcasecmp(words[1], "LATENCY") == 0) {
		queue_latency(c, words + 2, nw - 2);
		goto out;
	}
	if (strcasecmp(words[1], "PAUSE") != 0 && strcasecmp(words[1], "RESUME") != 0 &&
	    strcasecmp(words[1], "REMOVE") != 0) {
		reply_err(c, "no such QUEUE subcommand: %s", words[1]);
		goto out;
	}
	if (strcmp(words[2], "*") == 0) {
		size_t k = 0;
		struct bqueue **all = malloc((b->b_queues.m_len + 1) * sizeof(*all));
		if (all == NULL)
			goto nomem;
		for (size_t i = 0; i < b->b_queues.m_cap; i++)
			if (b->b_queues.m_slots[i].s_key != NULL &&
			    ((struct bqueue *)b->b_queues.m_slots[i].s_val)->q_known)
				all[k++] = b->b_queues.m_slots[i].s_val;
		for (size_t i = 0; i < k; i++)
			queue_one(b, words[1], all[i]);
		free(all);
	} else {
		for (size_t i = 2; i < nw; i++) {
			struct bqueue *q = store_queue(b, words[i], strlen(words[i]), 0);
			if (q != NULL && q->q_known)
				queue_one(b, words[1], q);
		}
	}
	reply_ok(c);
	goto out;
nomem:
	reply_err(c, "internal error");
out:
	free(words);
	free(copy);
}
