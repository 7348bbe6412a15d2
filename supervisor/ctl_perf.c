/* SPDX-License-Identifier: MIT */
/*
 * ctl_perf: `fkworkerctl perf-test N`. Pushes N jobs with PUSHB in batches
 * over its own Faktory connection (fkc: passwords and TLS included), or
 * pushes for --seconds S keeping a bounded backlog, polls the master's exact
 * counts every 100 ms until they grew by as many jobs as were pushed, and
 * reports (ctl_perf_report.c). The run ends at the time of the last job the
 * host counted (the master says when), so the poll interval does not
 * inflate the result. It never waits forever: at --timeout it asks the
 * server what it still holds (INFO) and says what is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_perf_int.h"
#include "proc.h"

#define POLL_MS		100
#define PROGRESS_MS	5000
#define INFO_WAIT_MS	3000

static void on_ready(struct fkc *);
static void on_reply(struct fkc *, const struct fkp_reply *);
static void on_close(struct fkc *, enum fkc_close, const char *);

static const struct fkc_ops ops = { on_ready, on_reply, on_close };

static void
cpu_read(struct cpu_times *ct)
{
	uint64_t busy, total;

	memset(ct, 0, sizeof(*ct));
	if (proc_host_ticks(&busy, &total) == 0) {
		ct->ct_total = total;
		ct->ct_idle = total - busy;
	}
}

static void
finish(struct perf *pf, int status)
{
	if (pf->pf_exit >= 0)
		return;
	pf->pf_exit = status;
	pf->pf_phase = PF_DONE;
	ev_stop(pf->pf_loop);
}

static int
status_now(struct perf *pf, struct ctl_status **out)
{
	return ctl_client_status(pf->pf_ctl, "perf-test", 0, 10000, out);
}

/* Jobs pushed but not yet counted: what the backlog of a --seconds run is. */
static long long
backlog(const struct perf *pf)
{
	long long b = pf->pf_next - pf->pf_rejected - (long long)pf->pf_done;

	return b > 0 ? b : 0;
}

/* Whether another batch may go out now. */
static int
may_push(const struct perf *pf)
{
	const struct ctl_perf_opts *o = pf->pf_o;

	if (pf->pf_inflight >= o->po_window)
		return 0;
	if (o->po_seconds == 0)
		return pf->pf_next < o->po_jobs;
	if (o->po_jobs > 0 && pf->pf_next >= o->po_jobs)
		return 0;
	if (now_ms() - pf->pf_t0 >= (uint64_t)o->po_seconds * 1000)
		return 0;
	/* Enough queued to keep every slot busy between two polls, not a flood. */
	return backlog(pf) < 2LL * o->po_window * o->po_batch;
}

/* Appends one PUSHB line of up to po_batch jobs to the connection. */
static int
push_batch(struct perf *pf)
{
	long long n = pf->pf_o->po_batch;
	struct buf *b = &pf->pf_batch;

	if (pf->pf_o->po_jobs > 0 && n > pf->pf_o->po_jobs - pf->pf_next)
		n = pf->pf_o->po_jobs - pf->pf_next;
	buf_reset(b);
	buf_puts(b, "[");
	for (long long i = 0; i < n; i++)
		buf_printf(b, "%s{\"jid\":\"%s-%010lld\",\"jobtype\":%s,\"args\":%s,"
		    "\"queue\":\"%s\"}", i ? "," : "", pf->pf_prefix, pf->pf_next + i,
		    pf->pf_jobtype, pf->pf_o->po_args, pf->pf_o->po_queue);
	if (buf_puts(b, "]") == -1 ||
	    fkp_enc_pushb(fkc_wbuf(&pf->pf_conn), b->b_data, b->b_len) == -1) {
		fprintf(stderr, "fkworkerctl: perf-test: cannot encode PUSHB: %s\n",
		    strerror(errno));
		return -1;
	}
	pf->pf_next += n;
	pf->pf_inflight++;
	return 0;
}

static void
pushed_all(struct perf *pf)
{
	pf->pf_phase = PF_WAITING;
	pf->pf_push_ms = now_ms();
}

static void
fill_window(struct perf *pf)
{
	if (pf->pf_phase != PF_PUSHING || !pf->pf_conn_up)
		return;
	while (may_push(pf))
		if (push_batch(pf) == -1) {
			finish(pf, CTL_EX_ERROR);
			return;
		}
	fkc_flush(&pf->pf_conn);
	/* A --seconds run whose time is up, or a count run whose last batch was taken. */
	if (pf->pf_inflight == 0 && !may_push(pf) && (pf->pf_o->po_seconds == 0 ||
	    now_ms() - pf->pf_t0 >= (uint64_t)pf->pf_o->po_seconds * 1000 ||
	    (pf->pf_o->po_jobs > 0 && pf->pf_next >= pf->pf_o->po_jobs)))
		pushed_all(pf);
}

static void
on_ready(struct fkc *c)
{
	struct perf *pf = c->fc_arg;

	pf->pf_conn_up = 1;
	pf->pf_phase = PF_PUSHING;
	pf->pf_t0 = now_ms();
	pf->pf_progress = pf->pf_t0;
	cpu_read(&pf->pf_cpu0);
	fill_window(pf);
}

/* PUSHB answers {} when every job was taken, else {jid: error, ...}. */
static void
count_rejected(struct perf *pf, const struct fkp_reply *r)
{
	json_t *o;
	json_error_t jerr;
	const char *jid;
	json_t *v;

	if (r->r_len == 2 && memcmp(r->r_data, "{}", 2) == 0)
		return;
	if ((o = json_loadb(r->r_data, r->r_len, 0, &jerr)) == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: unreadable PUSHB reply\n");
		return;
	}
	json_object_foreach(o, jid, v) {
		if (pf->pf_rejected++ == 0)
			fprintf(stderr, "fkworkerctl: perf-test: job %s rejected: %s\n", jid,
			    json_string_value(v) ? json_string_value(v) : "?");
	}
	json_decref(o);
}

static void
timed_out_report(struct perf *pf)
{
	ctl_perf_report_timeout(pf);
	finish(pf, CTL_EX_ERROR);
}

static void
on_info(struct perf *pf, const struct fkp_reply *r)
{
	pf->pf_infos--;
	if (r->r_type == FKP_R_BULK)
		ctl_perf_parse_info(pf, r->r_data, r->r_len);
	else
		snprintf(pf->pf_server.ps_why, sizeof(pf->pf_server.ps_why),
		    "INFO refused: %.*s", (int)(r->r_len > 100 ? 100 : r->r_len), r->r_data);
	if (pf->pf_phase == PF_ASKING)
		timed_out_report(pf);
}

static void
on_reply(struct fkc *c, const struct fkp_reply *r)
{
	struct perf *pf = c->fc_arg;

	/* Replies come in order: the PUSHBs sent, then the INFO of a timeout. */
	if (pf->pf_inflight == 0) {
		on_info(pf, r);
		return;
	}
	pf->pf_inflight--;
	if (r->r_type == FKP_R_ERROR) {
		fprintf(stderr, "fkworkerctl: perf-test: PUSHB refused: %.*s\n",
		    (int)r->r_len, r->r_data);
		finish(pf, CTL_EX_ERROR);
		return;
	}
	if (r->r_type == FKP_R_BULK)
		count_rejected(pf, r);
	fill_window(pf);
}

static void
on_close(struct fkc *c, enum fkc_close kind, const char *why)
{
	struct perf *pf = c->fc_arg;

	FKW_UNUSED(kind);
	pf->pf_conn_up = 0;
	snprintf(pf->pf_server.ps_why, sizeof(pf->pf_server.ps_why),
	    "the connection to the server closed: %s", why);
	/* Once every job is pushed the connection only serves a timeout's INFO. */
	if (pf->pf_phase == PF_WAITING)
		return;
	if (pf->pf_phase == PF_ASKING) {
		timed_out_report(pf);
		return;
	}
	fprintf(stderr, "fkworkerctl: perf-test: faktory: %s\n", why);
	finish(pf, CTL_EX_ERROR);
}

static void
poll_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct perf *pf = t->tm_arg;
	struct ctl_status *st;
	uint64_t done;

	if (status_now(pf, &st) == -1) {
		finish(pf, CTL_EX_UNAVAILABLE);
		return;
	}
	ctl_status_free(pf->pf_last);
	pf->pf_last = st;
	done = ctl_perf_done_of(st);
	pf->pf_done = done > pf->pf_base_done ? done - pf->pf_base_done : 0;
	fill_window(pf);
	if (pf->pf_phase == PF_WAITING &&
	    pf->pf_done >= (uint64_t)(pf->pf_next - pf->pf_rejected)) {
		/* The master knows when the last job was counted: that ends the run. */
		pf->pf_end = st->st_last_done_ms > pf->pf_t0 ? st->st_last_done_ms : now_ms();
		cpu_read(&pf->pf_cpu1);
		finish(pf, ctl_perf_report(pf));
		return;
	}
	if (pf->pf_t0 && now_ms() - pf->pf_progress >= PROGRESS_MS) {
		pf->pf_progress = now_ms();
		fprintf(stderr, "perf-test: %lld pushed, %" PRIu64 " done...\n", pf->pf_next,
		    pf->pf_done);
	}
	ev_timer_start(loop, t, POLL_MS);
}

static void
info_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct perf *pf = t->tm_arg;

	FKW_UNUSED(loop);
	snprintf(pf->pf_server.ps_why, sizeof(pf->pf_server.ps_why),
	    "the server did not answer INFO within %d s", INFO_WAIT_MS / 1000);
	timed_out_report(pf);
}

static void
deadline_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct perf *pf = t->tm_arg;

	FKW_UNUSED(t);
	pf->pf_timed_out = 1;
	ev_timer_stop(loop, &pf->pf_poll);
	/* What the server still holds says where the missing jobs are. */
	if (pf->pf_conn_up && fkp_enc_simple(fkc_wbuf(&pf->pf_conn), "INFO") == 0) {
		pf->pf_infos++;
		pf->pf_phase = PF_ASKING;
		fkc_flush(&pf->pf_conn);
		ev_timer_start(loop, &pf->pf_info, INFO_WAIT_MS);
		return;
	}
	timed_out_report(pf);
}

/* Password and TLS: the URL's, else FAKTORY_PASSWORD, else the configuration file's. */
static int
setup_conn(struct perf *pf, const char *url, struct fkw_conf **cfp)
{
	struct fkp_url *u = &pf->pf_url;
	struct conf_errors errs = { 0 };
	const char *pw = NULL, *ca = NULL;
	int verify = 1;
	char err[256];

	if (fkp_url_parse(url, u, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: perf-test: %s: %s\n", url, err);
		return -1;
	}
	if (pf->pf_o->po_conf != NULL &&
	    (*cfp = conf_load(pf->pf_o->po_conf, 1, &errs)) != NULL) {
		pw = (*cfp)->cf_password;
		ca = (*cfp)->cf_tls_ca_file;
		verify = (*cfp)->cf_tls_verify;
	}
	conf_errors_free(&errs);
	if (u->u_password[0])
		pw = u->u_password;
	else if (getenv("FAKTORY_PASSWORD") != NULL)
		pw = getenv("FAKTORY_PASSWORD");
	if (net_resolve(u->u_host, u->u_port, &pf->pf_params.fp_addr, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: perf-test: %s\n", err);
		return -1;
	}
	if (u->u_tls && (pf->pf_params.fp_tls = fkc_tls_ctx(ca, verify, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: %s\n", err);
		return -1;
	}
	pf->pf_params.fp_host = u->u_host;
	pf->pf_params.fp_password = pw;
	pf->pf_params.fp_timeout_ms = 5000;
	pf->pf_params.fp_max_bulk = FKP_MAX_BULK_DEFAULT;
	pf->pf_params.fp_hello.h_username = u->u_user[0] ? u->u_user : NULL;
	return 0;
}

static int
jobtype_literal(struct perf *pf)
{
	json_t *s = json_string(pf->pf_o->po_jobtype);

	if (s == NULL)
		return -1;
	pf->pf_jobtype = json_dumps(s, JSON_ENCODE_ANY);
	json_decref(s);
	return pf->pf_jobtype == NULL ? -1 : 0;
}

/* The default --timeout: a minute, plus a second per 1000 jobs (or the --seconds). */
static int
timeout_s(const struct ctl_perf_opts *o)
{
	if (o->po_timeout > 0)
		return o->po_timeout;
	if (o->po_seconds > 0)
		return o->po_seconds + 60;
	return 60 + (int)(o->po_jobs / 1000);
}

static int
run(struct perf *pf)
{
	unsigned char rnd[16];

	if (fkw_random(rnd, sizeof(rnd)) == -1)
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)fkw_rand_below(256);
	snprintf(pf->pf_prefix, sizeof(pf->pf_prefix), "pt");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(pf->pf_prefix + 2 + 2 * i, 3, "%02x", rnd[i]);
	if ((pf->pf_loop = ev_loop_new()) == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: epoll: %s\n", strerror(errno));
		return CTL_EX_ERROR;
	}
	fkc_init(&pf->pf_conn, pf->pf_loop, &pf->pf_params, &ops, pf);
	ev_timer_init(&pf->pf_poll, poll_fired, pf);
	ev_timer_init(&pf->pf_deadline, deadline_fired, pf);
	ev_timer_init(&pf->pf_info, info_fired, pf);
	ev_timer_start(pf->pf_loop, &pf->pf_poll, POLL_MS);
	pf->pf_timeout_s = timeout_s(pf->pf_o);
	ev_timer_start(pf->pf_loop, &pf->pf_deadline, (uint64_t)pf->pf_timeout_s * 1000);
	fkc_connect(&pf->pf_conn);
	if (pf->pf_exit < 0 && ev_run(pf->pf_loop) == -1)
		pf->pf_exit = CTL_EX_ERROR;
	if (pf->pf_conn_up)
		fkc_close(&pf->pf_conn, 1);
	fkc_free(&pf->pf_conn);
	ev_loop_free(pf->pf_loop);
	return pf->pf_exit;
}

/* A host that fetches nothing would leave the jobs queued: say so instead. */
static int
host_can_run(const struct ctl_status *st)
{
	if (strcmp(st->st_state, "quiet") == 0 || strcmp(st->st_state, "stopping") == 0) {
		fprintf(stderr, "fkworkerctl: perf-test: fkworker is %s: it fetches no new "
		    "jobs, so the jobs pushed would not run; refusing (restart it to end "
		    "quiet)\n", st->st_state);
		return 0;
	}
	return 1;
}

int
ctl_perf_run(int ctlfd, const char *sockpath, const struct ctl_perf_opts *o)
{
	struct perf pf;
	struct fkw_conf *cf = NULL;
	int rc = CTL_EX_ERROR;

	memset(&pf, 0, sizeof(pf));
	pf.pf_o = o;
	pf.pf_ctl = ctlfd;
	pf.pf_exit = -1;
	buf_init(&pf.pf_batch);
	if (!fkp_queue_name_ok(o->po_queue)) {
		fprintf(stderr, "fkworkerctl: perf-test: bad queue name %s\n", o->po_queue);
		return 64;
	}
	if (status_now(&pf, &pf.pf_base) == -1)
		return CTL_EX_UNAVAILABLE;
	pf.pf_base_done = ctl_perf_done_of(pf.pf_base);
	if (!host_can_run(pf.pf_base)) {
		ctl_status_free(pf.pf_base);
		return CTL_EX_ERROR;
	}
	if (o->po_seconds > 0)
		printf("perf-test: jobs for %d s to %s via fkworker at %s (%u children, "
		    "concurrency %u)\n", o->po_seconds, o->po_url ? o->po_url :
		    pf.pf_base->st_url, sockpath, pf.pf_base->st_cpus,
		    pf.pf_base->st_concurrency);
	else
		printf("perf-test: %lld jobs to %s via fkworker at %s (%u children, "
		    "concurrency %u)\n", o->po_jobs, o->po_url ? o->po_url :
		    pf.pf_base->st_url, sockpath, pf.pf_base->st_cpus,
		    pf.pf_base->st_concurrency);
	fflush(stdout);
	if (jobtype_literal(&pf) == 0 &&
	    setup_conn(&pf, o->po_url ? o->po_url : pf.pf_base->st_url, &cf) == 0)
		rc = run(&pf);
	if (pf.pf_params.fp_tls != NULL)
		SSL_CTX_free(pf.pf_params.fp_tls);
	free(pf.pf_jobtype);
	buf_free(&pf.pf_batch);
	ctl_status_free(pf.pf_base);
	ctl_status_free(pf.pf_last);
	conf_free(cf);
	return rc;
}
