/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the job JSON path of a child. The input is the body of a
 * FETCH bulk reply, laid out as the connection's buffer holds it (the body,
 * then the bulk's CRLF, then the end of the allocation), and goes through
 * wrk_job_start, the function a slot calls with every job it fetches: parse,
 * jid, jobtype and args checks, handler dispatch (noop, sleep with a timeout,
 * fail; unknown jobtypes), or the BadJob / NoHandler / no-jid paths. A job a
 * handler leaves running is aborted the way shutdown aborts it.
 *
 * What must hold for every input:
 *   - nothing crashes, leaks or reads outside the bytes of the reply;
 *   - either no report at all (a job without a readable jid, which the worker
 *     skips: it comes back when its reservation expires), or exactly one
 *     "ACK {...}\r\n" or "FAIL {...}\r\n" line with no other CR or LF, whose
 *     JSON decodes, has a non-empty string jid, and for FAIL a non-empty
 *     errtype of at most 100 bytes, a message of at most 1000 bytes and a
 *     backtrace array of at most 50 entries (docs/faktory-protocol.md, 9.12);
 *   - a job that parses (as JSON; "\u0000" included, which Faktory passes
 *     through) to an object with a non-empty string jid is reported under
 *     exactly that jid, and ACKed only if its jobtype is exactly "noop" (the
 *     only handler here that completes at once).
 *
 * The job parses into an arena block as in a child (common/jarena.h), one
 * block for the one slot: an input larger than the block spills to malloc,
 * and a value read after the job ended trips ASan (the block is poisoned
 * once given back).
 *
 * No loop runs the pump, so the report stays in sl_report where the target
 * reads it. The worker's warnings are formatted as in production (so
 * their arguments are checked too) but, one line per bad job being far too
 * much for the fuzzer's log, the target asks libFuzzer to discard the
 * program's stderr (-close_fd_mask=2; libFuzzer and the sanitizers keep
 * reporting on a copy of it). FUZZ_JOB_LOG=1 keeps the warnings visible.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fkp.h"
#include "jarena.h"
#include "log.h"
#include "wrk_int.h"
#include "../unit/unit_slot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct wrk_env fz_env;
static struct wrk_ctx fz_ctx;
static struct wrk_slot fz_slot;
static int fz_errfd = 2;	/* stderr as it was before libFuzzer discarded it */
static char *fz_argv[64];
static char fz_close_flag[] = "-close_fd_mask=2";

static void
check(int ok, const char *what, const char *line, size_t n)
{
	if (!ok) {
		dprintf(fz_errfd, "fuzz_job: %s: %.*s\n", what, (int)(n > 2000 ? 2000 : n),
		    line);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf_errors errs = { 0 };
	const char *lg = getenv("FUZZ_JOB_LOG");

	log_init("fuzz_job", LOG_LVL_WARN, 0);
	if ((lg == NULL || *lg != '1') && *argc < (int)FKW_NELEM(fz_argv) - 1) {
		/* libFuzzer parses its flags after this function returns. */
		memcpy(fz_argv, *argv, (size_t)*argc * sizeof(*fz_argv));
		fz_argv[(*argc)++] = fz_close_flag;
		fz_argv[*argc] = NULL;
		*argv = fz_argv;
		if ((fz_errfd = dup(2)) == -1)
			fz_errfd = 2;
	}
	if (jarena_init(1, JARENA_BLOCK) == -1)
		abort();
	if (unit_slot_setup(&fz_env, &fz_ctx, &fz_slot, "fuzz", &errs) == NULL) {
		for (int i = 0; i < errs.ce_n; i++)
			dprintf(fz_errfd, "%s\n", errs.ce_msg[i]);
		abort();
	}
	return 0;
}

/*
 * What the job names, if it is a JSON object with a non-empty string jid.
 * JSON_ALLOW_NUL: "\u0000" is valid JSON that Faktory passes through, so a
 * job holding it still has a jid that must be reported.
 */
struct want {
	json_t		*w_json;
	const char	*w_jid;
	size_t		 w_jidlen;
	const char	*w_type;	/* NULL: none or not a string */
	size_t		 w_typelen;
};

static int
expected(const char *body, size_t n, struct want *w)
{
	json_t *v;

	memset(w, 0, sizeof(*w));
	if ((w->w_json = json_loadb(body, n, JSON_ALLOW_NUL, NULL)) == NULL)
		return 0;
	if (!json_is_object(w->w_json) ||
	    !json_is_string(v = json_object_get(w->w_json, "jid")) ||
	    json_string_length(v) == 0) {
		json_decref(w->w_json);
		w->w_json = NULL;
		return 0;
	}
	w->w_jid = json_string_value(v);
	w->w_jidlen = json_string_length(v);
	if (json_is_string(v = json_object_get(w->w_json, "jobtype"))) {
		w->w_type = json_string_value(v);
		w->w_typelen = json_string_length(v);
	}
	return 1;
}

static int
type_is(const struct want *w, const char *name)
{
	return w->w_type != NULL && w->w_typelen == strlen(name) &&
	    memcmp(w->w_type, name, w->w_typelen) == 0;
}

static void
check_report(const char *line, size_t n, const struct want *w)
{
	const char *sp = memchr(line, ' ', n), *s;
	json_t *o, *v;
	int ack;

	check(n >= 4 && line[n - 2] == '\r' && line[n - 1] == '\n', "report not CRLF-ended",
	    line, n);
	check(memchr(line, '\r', n - 2) == NULL && memchr(line, '\n', n - 2) == NULL,
	    "raw CR or LF inside the report", line, n);
	check(sp != NULL, "report has no payload", line, n);
	ack = (size_t)(sp - line) == 3 && memcmp(line, "ACK", 3) == 0;
	check(ack || ((size_t)(sp - line) == 4 && memcmp(line, "FAIL", 4) == 0),
	    "report is neither ACK nor FAIL", line, n);
	o = json_loadb(sp + 1, n - 2 - (size_t)(sp + 1 - line), JSON_ALLOW_NUL, NULL);
	check(o != NULL && json_is_object(o), "report payload is not a JSON object", line, n);
	v = json_object_get(o, "jid");
	check(json_is_string(v) && json_string_length(v) > 0, "report without a jid", line, n);
	if (w->w_json != NULL)
		check(json_string_length(v) == w->w_jidlen &&
		    memcmp(json_string_value(v), w->w_jid, w->w_jidlen) == 0,
		    "report for another jid", line, n);
	if (ack) {
		check(json_object_size(o) == 1, "ACK payload is more than {\"jid\":...}", line, n);
		check(type_is(w, "noop"), "ACK of a job no handler can run", line, n);
	} else {
		v = json_object_get(o, "errtype");
		check(json_is_string(v) && json_string_length(v) > 0 &&
		    json_string_length(v) <= FKP_ERRTYPE_MAX, "FAIL errtype", line, n);
		s = json_string_value(v);
		check(strcmp(s, "BadJob") == 0 || strcmp(s, "NoHandler") == 0 ||
		    strcmp(s, "BadArgs") == 0 || strcmp(s, "Failed") == 0 ||
		    strcmp(s, "Shutdown") == 0, "FAIL with an unexpected errtype", line, n);
		v = json_object_get(o, "message");
		check(json_is_string(v) && json_string_length(v) <= FKP_MESSAGE_MAX,
		    "FAIL message", line, n);
		v = json_object_get(o, "backtrace");
		check(v == NULL || (json_is_array(v) && json_array_size(v) <= FKP_BACKTRACE_MAX),
		    "FAIL backtrace", line, n);
	}
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wrk_slot *s = &fz_slot;
	struct want w;
	char *body;

	if (size > (1u << 20))
		return 0;
	/* The body and the bulk's CRLF, at the very end of an allocation, no NUL. */
	if ((body = malloc(size + 2)) == NULL)
		return 0;
	if (size > 0)
		memcpy(body, data, size);
	memcpy(body + size, "\r\n", 2);
	expected(body, size, &w);

	s->sl_state = SL_FETCHING;
	wrk_job_start(s, body, size);
	/* A handler still running (sleep) is ended as shutdown ends it. */
	if (s->sl_job.jb_state == WRK_JOB_RUNNING)
		wrk_job_abort(&s->sl_job, "Shutdown", "fuzz: aborted");
	check(s->sl_job.jb_state != WRK_JOB_RUNNING, "job still running after abort", "", 0);
	check(s->sl_job.jb_json == NULL, "job JSON kept after the report", "", 0);
	check(s->sl_job.jb_arena.ja_block == NULL && jarena_free_blocks() == 1,
	    "arena block kept after the report", "", 0);
	check(wrk_env->we_nbusy == 0, "busy count off", "", 0);

	if (s->sl_report_state == RP_NONE) {
		/* Only a job whose jid cannot be read may go unreported. */
		check(w.w_json == NULL, "a job with a jid was not reported", body, size);
	} else {
		check(buf_rlen(&s->sl_report) > 0, "empty report", body, size);
		check_report(buf_rptr(&s->sl_report), buf_rlen(&s->sl_report), &w);
	}

	/* Back to a clean slot for the next input, off the pump's lists. */
	if (s->sl_listed && s->sl_report_state == RP_QUEUED)
		check(wrk_slot_take_report() == s, "report queue lost the slot", "", 0);
	else if (s->sl_listed)
		check(wrk_slot_take_free() == s, "free list lost the slot", "", 0);
	buf_reset(&s->sl_report);
	s->sl_report_state = RP_NONE;
	s->sl_nohandler = 0;
	s->sl_jt = -1;
	ev_timer_stop(wrk_env->we_loop, &s->sl_timer);
	s->sl_job.jb_state = WRK_JOB_FREE;
	json_decref(w.w_json);
	free(body);
	return 0;
}
