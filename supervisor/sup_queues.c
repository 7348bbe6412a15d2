/* SPDX-License-Identifier: MIT */
/*
 * sup_queues: what the server's INFO says about its queues and sets, kept
 * for the status reply. Each answer is a snapshot; the trend of a queue is
 * its size change per second since an earlier snapshot at least TREND_MIN_MS
 * older, so two status requests a few seconds apart show whether the
 * queues grow. Every configured queue is listed (0 when the server has no
 * such list), then the server's other queues, the largest QUEUES_OTHER_MAX
 * of them, so that a server with thousands of queues still gets a status
 * reply that fits one control frame.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sup.h"

#define TREND_MIN_MS	1000
#define QUEUES_OTHER_MAX 100

struct snapshot {
	uint64_t	 sn_ms;
	json_t		*sn_queues;	/* INFO's faktory.queues: name -> size */
	int64_t		 sn_retries, sn_dead, sn_scheduled;
};

static struct snapshot cur, prev;

static void
snap_clear(struct snapshot *s)
{
	json_decref(s->sn_queues);
	memset(s, 0, sizeof(*s));
}

static int64_t
set_size(json_t *sets, const char *name)
{
	json_t *v = json_object_get(sets, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

int
sup_queues_update(json_t *info, uint64_t now)
{
	json_t *fk = json_object_get(info, "faktory");
	json_t *q = json_object_get(fk, "queues"), *sets = json_object_get(fk, "sets");

	if (!json_is_object(q))
		return -1;
	/* A snapshot younger than TREND_MIN_MS replaces the newest, not the base. */
	if (cur.sn_queues != NULL && now - cur.sn_ms >= TREND_MIN_MS) {
		snap_clear(&prev);
		prev = cur;
	} else {
		snap_clear(&cur);
	}
	cur.sn_ms = now;
	cur.sn_queues = json_incref(q);
	cur.sn_retries = set_size(sets, "retries");
	cur.sn_dead = set_size(sets, "dead");
	cur.sn_scheduled = set_size(sets, "scheduled");
	return 0;
}

static int64_t
size_in(const struct snapshot *s, const char *name)
{
	json_t *v = json_object_get(s->sn_queues, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void
fill_one(struct ctl_queue *q, const char *name, int configured)
{
	snprintf(q->cq_name, sizeof(q->cq_name), "%s", name);
	q->cq_size = size_in(&cur, name);
	q->cq_configured = configured;
	if (prev.sn_queues == NULL || cur.sn_ms <= prev.sn_ms)
		return;
	q->cq_trend_known = 1;
	q->cq_trend = (double)(q->cq_size - size_in(&prev, name)) * 1000.0 /
	    (double)(cur.sn_ms - prev.sn_ms);
}

int64_t
sup_queues_configured(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	int64_t sum = 0;

	if (cur.sn_queues == NULL)
		return -1;
	for (int i = 0; i < cf->cf_nqueues; i++)
		sum += size_in(&cur, cf->cf_queues[i].q_name);
	return sum;
}

static int
is_configured(const struct fkw_conf *cf, const char *name)
{
	for (int i = 0; i < cf->cf_nqueues; i++)
		if (strcmp(cf->cf_queues[i].q_name, name) == 0)
			return 1;
	return 0;
}

static int
largest_first(const void *a, const void *b)
{
	const struct ctl_queue *x = a, *y = b;

	if (x->cq_size != y->cq_size)
		return x->cq_size < y->cq_size ? 1 : -1;
	return strcmp(x->cq_name, y->cq_name);
}

/* The server's queues that worker.queues does not name, largest first, at most QUEUES_OTHER_MAX. */
static uint32_t
fill_others(struct ctl_queue *out, uint32_t *omitted)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	const char *name;
	json_t *v;
	uint32_t n = 0;

	json_object_foreach(cur.sn_queues, name, v)
		if (!is_configured(cf, name))
			fill_one(&out[n++], name, 0);
	qsort(out, n, sizeof(*out), largest_first);
	*omitted = n > QUEUES_OTHER_MAX ? n - QUEUES_OTHER_MAX : 0;
	return n - *omitted;
}

void
sup_queues_fill(struct ctl_status *st, uint64_t now)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	uint32_t n = 0;

	st->st_server_retries = st->st_server_dead = st->st_server_scheduled = -1;
	if (cur.sn_queues == NULL)
		return;
	st->st_queues_known = 1;
	st->st_queues_age_ms = now - cur.sn_ms;
	st->st_trend_window_ms = prev.sn_queues != NULL ? cur.sn_ms - prev.sn_ms : 0;
	st->st_server_retries = cur.sn_retries;
	st->st_server_dead = cur.sn_dead;
	st->st_server_scheduled = cur.sn_scheduled;
	st->st_queues = calloc((size_t)cf->cf_nqueues + json_object_size(cur.sn_queues),
	    sizeof(*st->st_queues));
	if (st->st_queues == NULL)
		return;
	for (int i = 0; i < cf->cf_nqueues; i++)
		fill_one(&st->st_queues[n++], cf->cf_queues[i].q_name, 1);
	n += fill_others(&st->st_queues[n], &st->st_queues_omitted);
	st->st_nqueues = n;
}

void
sup_queues_free(void)
{
	snap_clear(&cur);
	snap_clear(&prev);
}
