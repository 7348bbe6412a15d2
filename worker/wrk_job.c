/* SPDX-License-Identifier: MIT */
/* wrk_job: turn a FETCHed job into a running handler, and its result into an ACK or FAIL. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rfc3339.h"
#include "wrk_int.h"

static void job_deadline(struct ev_loop *, struct ev_timer *);

struct ev_loop *
wrk_loop(void)
{
	return wrk_env->we_loop;
}

static const struct wrk_handler *
builtin_find(const char *name)
{
	static const struct wrk_handler *const table[] = {
		&wrk_builtin_noop, &wrk_builtin_sleep, &wrk_builtin_fail,
	};

	for (size_t i = 0; i < FKW_NELEM(table); i++)
		if (strcmp(table[i]->hd_name, name) == 0)
			return table[i];
	return NULL;
}

static const struct wrk_handler *
handler_for(const struct conf_handler *h)
{
	switch (h->h_kind) {
	case CONF_H_BUILTIN:
		return builtin_find(h->h_builtin);
	case CONF_H_EXEC:
		return &wrk_exec_handler;
	case CONF_H_PLUGIN:
		return wrk_plugin_handler(h);
	}
	return NULL;
}

/*
 * A job that is not valid JSON cannot be FAILed by the book (no jid). The
 * real server re-encodes every job, so this only happens behind a broken
 * proxy or server; rescue the jid by its literal form when it is plain, so
 * the job is retried now rather than after its reservation expires.
 */
static int
rescue_jid(const char *json, size_t len, char *out, size_t outlen)
{
	const char *p = memmem(json, len, "\"jid\":\"", 7), *q;
	size_t n;

	if (p == NULL)
		return -1;
	p += 7;
	q = memchr(p, '"', len - (size_t)(p - json));
	if (q == NULL || (n = (size_t)(q - p)) == 0 || n >= outlen ||
	    memchr(p, '\\', n) != NULL)
		return -1;
	/* Raw control bytes (NUL included) cannot be in a JSON string: not a jid. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20)
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Reports a job that never reached a handler. */
static void
fail_now(struct wrk_slot *s, const char *jid, size_t jidlen, const char *errtype,
    const char *msg)
{
	struct wrk_job *j = &s->sl_job;

	buf_reset(&s->sl_report);
	if (fkp_enc_fail(&s->sl_report, jid, jidlen, errtype, msg, NULL, 0) == -1) {
		log_warnx("slot %d: cannot encode FAIL for a job", s->sl_index);
		wrk_job_clear(j);
		wrk_slot_resume(s);
		return;
	}
	s->sl_report_ok = 0;
	s->sl_report_us = 0;
	s->sl_jt = -1;
	/* A bad job's jobtype, if any, is not one to count under. */
	wrk_count_report(s, strcmp(errtype, "BadJob") == 0 ? NULL : j->jb_jobtype, jid,
	    jidlen, errtype);
	wrk_job_clear(j);
	wrk_slot_job_done(s);
}

static void
bad_json(struct wrk_slot *s, const char *json, size_t len, const json_error_t *e)
{
	char jid[STATS_JID_MAX], msg[300];

	wrk_env->we_stats.sc_errors++;
	snprintf(msg, sizeof(msg), "job JSON does not parse: %s at byte %d",
	    e->text, e->position);
	if (rescue_jid(json, len, jid, sizeof(jid)) == 0) {
		log_warnx("slot %d: job %s: %s", s->sl_index, jid, msg);
		fail_now(s, jid, strlen(jid), "BadJob", msg);
		return;
	}
	log_warnx("slot %d: %s and has no readable jid (%.*s...); it returns after "
	    "its reservation expires", s->sl_index, msg, (int)(len < 60 ? len : 60), json);
	wrk_slot_resume(s);
}

void
wrk_job_too_large(struct wrk_slot *s, const char *head, size_t len, size_t total)
{
	char jid[STATS_JID_MAX], msg[200];

	wrk_env->we_stats.sc_errors++;
	snprintf(msg, sizeof(msg), "the job is %zu bytes, above the %zu MiB a reply may hold",
	    total, wrk_env->we_params.fp_max_bulk >> 20);
	/* The server writes the jid first; a job this size is not kept to look further. */
	if (rescue_jid(head, len, jid, sizeof(jid)) == 0) {
		log_warnx("slot %d: job %s: %s; FAILed (JobTooLarge)", s->sl_index, jid, msg);
		fail_now(s, jid, strlen(jid), "JobTooLarge", msg);
		return;
	}
	log_warnx("slot %d: %s, and its first %zu bytes hold no readable jid; it returns "
	    "after its reservation expires", s->sl_index, msg, len);
	wrk_slot_resume(s);
}

/* When the server queued the job, for pickup latency; a job runs whether it says or not. */
static void
job_enqueued_at(struct wrk_job *j)
{
	json_t *v = json_object_get(j->jb_json, "enqueued_at");

	j->jb_enqueued_us = 0;
	if (json_is_string(v) && rfc3339_parse_us(json_string_value(v),
	    json_string_length(v), &j->jb_enqueued_us) == -1)
		j->jb_enqueued_us = 0;
}

/* Parses and checks the job; 0 with jid, jobtype and args set, or -1 when it was handled. */
static int
job_parse(struct wrk_slot *s, const char *json, size_t len)
{
	struct wrk_job *j = &s->sl_job;
	json_error_t e;
	json_t *v;

	if (buf_reserve(&s->sl_raw, len + 1) == -1) {
		log_warnx("slot %d: out of memory for a %zu-byte job", s->sl_index, len);
		wrk_slot_resume(s);
		return -1;
	}
	buf_reset(&s->sl_raw);
	buf_append(&s->sl_raw, json, len);
	s->sl_raw.b_data[len] = '\0';
	j->jb_raw = s->sl_raw.b_data;
	j->jb_raw_len = len;
	/*
	 * "\u0000" is valid JSON, and Faktory passes it through: allow it. The
	 * values come from the job's arena block; wrk_job_clear gives it back.
	 */
	jarena_begin(&j->jb_arena);
	j->jb_json = json_loadb(json, len, JSON_ALLOW_NUL, &e);
	jarena_end(&j->jb_arena);
	if (j->jb_json == NULL || !json_is_object(j->jb_json)) {
		if (j->jb_json != NULL)
			snprintf(e.text, sizeof(e.text), "not a JSON object");
		wrk_job_clear(j);
		bad_json(s, json, len, &e);
		return -1;
	}
	v = json_object_get(j->jb_json, "jid");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		log_warnx("slot %d: job without a jid (%.*s); it cannot be reported",
		    s->sl_index, (int)(len < 80 ? len : 80), json);
		wrk_env->we_stats.sc_errors++;
		wrk_job_clear(j);
		wrk_slot_resume(s);
		return -1;
	}
	j->jb_jid = json_string_value(v);
	j->jb_jid_len = json_string_length(v);
	if (strlen(j->jb_jid) != j->jb_jid_len) {
		/* Handlers and the in-flight table take the jid as a C string. */
		fail_now(s, j->jb_jid, j->jb_jid_len, "BadJob", "job jid contains a NUL character");
		return -1;
	}
	v = json_object_get(j->jb_json, "jobtype");
	j->jb_jobtype = json_is_string(v) ? json_string_value(v) : NULL;
	j->jb_args = json_object_get(j->jb_json, "args");
	if (j->jb_jobtype == NULL || *j->jb_jobtype == '\0' || !json_is_array(j->jb_args)) {
		fail_now(s, j->jb_jid, j->jb_jid_len, "BadJob", j->jb_jobtype == NULL ||
		    *j->jb_jobtype == '\0' ? "job has no jobtype" : "job args is not an array");
		return -1;
	}
	if (strlen(j->jb_jobtype) != json_string_length(v)) {
		/* "noop\u0000x" must not run as "noop". */
		fail_now(s, j->jb_jid, j->jb_jid_len, "BadJob", "job jobtype contains a NUL character");
		return -1;
	}
	job_enqueued_at(j);
	return 0;
}

void
wrk_job_start(struct wrk_slot *s, const char *json, size_t len)
{
	struct wrk_job *j = &s->sl_job;
	char msg[200];

	FKW_ASSERT(j->jb_state != WRK_JOB_RUNNING);
	if (job_parse(s, json, len) == -1)
		return;
	/*
	 * A FETCH that was already out when draining began still brings a job:
	 * run it within the drain deadline. Only once leftovers are being failed
	 * is it failed too, so it is retried elsewhere soon.
	 */
	if (wrk_env->we_state >= WRK_ST_STOPPING) {
		fail_now(s, j->jb_jid, j->jb_jid_len, "Shutdown",
		    "fkworker is shutting down; the job was not started");
		return;
	}
	j->jb_conf = conf_handler_find(wrk_env->we_conf, j->jb_jobtype);
	j->jb_handler = j->jb_conf != NULL ? handler_for(j->jb_conf) : NULL;
	if (j->jb_handler == NULL) {
		s->sl_nohandler++;
		snprintf(msg, sizeof(msg), "no handler for jobtype \"%.100s\" on %s",
		    j->jb_jobtype, wrk_env->we_ctx->wc_hostname);
		j->jb_conf = NULL;
		fail_now(s, j->jb_jid, j->jb_jid_len, "NoHandler", msg);
		return;
	}
	s->sl_nohandler = 0;
	j->jb_state = WRK_JOB_RUNNING;
	j->jb_start_us = now_us();
	j->jb_hdata = NULL;
	wrk_stats_job_started(s);
	if (j->jb_conf->h_timeout > 0) {
		j->jb_deadline.tm_cb = job_deadline;
		ev_timer_start(wrk_env->we_loop, &j->jb_deadline,
		    (uint64_t)j->jb_conf->h_timeout * 1000);
	}
	if (j->jb_handler->hd_start(j) == -1 && j->jb_state == WRK_JOB_RUNNING)
		wrk_job_done(j, 0, "HandlerError", "the handler could not start the job");
}

int
wrk_job_done(struct wrk_job *j, int ok, const char *errtype, const char *message)
{
	struct wrk_slot *s = j->jb_slot;
	int r;

	if (j->jb_state != WRK_JOB_RUNNING)
		return -1;
	j->jb_state = WRK_JOB_DONE;
	wrk_env->we_nbusy--;
	ev_timer_stop(wrk_env->we_loop, &j->jb_deadline);
	ev_timer_stop(wrk_env->we_loop, &j->jb_timer);
	s->sl_report_us = now_us() - j->jb_start_us;
	s->sl_report_ok = ok ? 1 : 0;
	buf_reset(&s->sl_report);
	if (ok)
		r = fkp_enc_ack(&s->sl_report, j->jb_jid, j->jb_jid_len);
	else
		r = fkp_enc_fail(&s->sl_report, j->jb_jid, j->jb_jid_len,
		    errtype, message != NULL ? message : "", NULL, 0);
	if (r == -1)
		log_warnx("slot %d: cannot encode the report of job %s", s->sl_index,
		    j->jb_jid);
	wrk_count_report(s, j->jb_jobtype, j->jb_jid, j->jb_jid_len, ok ? NULL : errtype);
	if (!ok)
		wrk_failog_note(j->jb_jid, j->jb_jobtype, errtype, message != NULL ? message : "");
	wrk_job_clear(j);
	wrk_env->we_jobs_done++;
	wrk_slot_job_done(s);
	return 0;
}

void
wrk_job_abort(struct wrk_job *j, const char *errtype, const char *message)
{
	if (j->jb_state != WRK_JOB_RUNNING)
		return;
	if (j->jb_handler->hd_cancel != NULL)
		j->jb_handler->hd_cancel(j);
	wrk_job_done(j, 0, errtype, message);
}

static void
job_deadline(struct ev_loop *loop, struct ev_timer *t)
{
	struct wrk_job *j = t->tm_arg;
	char msg[120];

	FKW_UNUSED(loop);
	snprintf(msg, sizeof(msg), "job exceeded its timeout of %d s",
	    j->jb_conf->h_timeout);
	wrk_job_abort(j, "Timeout", msg);
}

void
wrk_job_clear(struct wrk_job *j)
{
	/* The decref frees what spilled out of the block; the block goes back whole. */
	if (j->jb_json != NULL)
		json_decref(j->jb_json);
	j->jb_json = NULL;
	jarena_release(&j->jb_arena);
	j->jb_jid = NULL;
	j->jb_jobtype = NULL;
	j->jb_args = NULL;
	j->jb_raw = NULL;
	j->jb_raw_len = 0;
	j->jb_hdata = NULL;
	j->jb_handler = NULL;
	if (j->jb_state == WRK_JOB_RUNNING)
		return;
	j->jb_state = WRK_JOB_FREE;
}
