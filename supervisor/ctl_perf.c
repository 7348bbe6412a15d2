/* SPDX-License-Identifier: MIT */
/*
 * ctl_perf: `fkworkerctl perf-test N`. Pushes N jobs with PUSHB in batches
 * over its own Faktory connection (fkc: passwords and TLS included), polls
 * the master's counters every 100 ms until they grew by N, and reports
 * jobs/sec end to end, the host's CPU use and each child's rate. The end
 * of the run comes from the children's own publish times (each record says
 * when it was written), extrapolated inside the last stats interval from
 * each child's rate just before, so neither the poll interval nor the stats
 * interval inflates the result.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fkc.h"
#include "sup.h"

#define POLL_MS		100
#define PROGRESS_MS	5000

struct cpu_times {
	unsigned long long	ct_total;
	unsigned long long	ct_idle;
};

/* One child's counter over time: a sample each time its published count changed. */
struct ptrack {
	int32_t		 pt_pid;
	size_t		 pt_n, pt_cap;
	uint64_t	*pt_t;		/* CLOCK_MONOTONIC ms of the record */
	uint64_t	*pt_d;		/* processed + failed */
};

struct perf {
	const struct ctl_perf_opts *pf_o;
	int			 pf_ctl;
	struct ev_loop		*pf_loop;
	struct fkc		 pf_conn;
	struct fkc_params	 pf_params;
	struct fkp_url		 pf_url;		/* the params point into it */
	struct ev_timer		 pf_poll, pf_deadline;
	char			 pf_prefix[24];
	char			*pf_jobtype;	/* JSON string literal */
	struct buf		 pf_batch;
	long long		 pf_next;	/* jobs encoded */
	long long		 pf_rejected;
	int			 pf_inflight;	/* batches awaiting their reply */
	int			 pf_pushed_all;
	uint64_t		 pf_t0, pf_push_ms, pf_end, pf_progress;
	uint64_t		 pf_base_done;
	struct ctl_status	*pf_base;
	struct ctl_status	*pf_last;
	struct cpu_times	 pf_cpu0, pf_cpu1;
	struct ptrack		*pf_track;
	size_t			 pf_ntrack;
	int			 pf_exit;	/* -1 while running */
};

static void on_ready(struct fkc *);
static void on_reply(struct fkc *, const struct fkp_reply *);
static void on_close(struct fkc *, enum fkc_close, const char *);

static const struct fkc_ops ops = { on_ready, on_reply, on_close };

static void
cpu_read(struct cpu_times *ct)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");

	memset(ct, 0, sizeof(*ct));
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &v[6], &v[7]) >= 4) {
		for (int i = 0; i < 8; i++)
			ct->ct_total += v[i];
		ct->ct_idle = v[3] + v[4];
	}
	fclose(f);
}

static void
finish(struct perf *pf, int status)
{
	if (pf->pf_exit >= 0)
		return;
	pf->pf_exit = status;
	ev_stop(pf->pf_loop);
}

static int
status_now(struct perf *pf, struct ctl_status **out)
{
	struct ctl_request rq = { .rq_version = CTL_VERSION, .rq_cmd = CTL_CMD_STATUS };
	struct ctl_reply rp;
	char err[256];

	if (ctl_client_call(pf->pf_ctl, &rq, &rp, 10000, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkworkerctl: perf-test: status: %s\n", err);
		return -1;
	}
	if (!rp.rp_ok || rp.rp_status == NULL) {
		fprintf(stderr, "fkworkerctl: perf-test: status: %s\n",
		    rp.rp_error ? rp.rp_error : "no status in the reply");
		ctl_reply_free(&rp);
		return -1;
	}
	*out = rp.rp_status;
	rp.rp_status = NULL;
	ctl_reply_free(&rp);
	return 0;
}

static uint64_t
done_of(const struct ctl_status *st)
{
	return st->st_processed + st->st_failed;
}

/* Appends one PUSHB line of up to po_batch jobs to the connection. */
static int
push_batch(struct perf *pf)
{
	long long n = pf->pf_o->po_jobs - pf->pf_next;
	struct buf *b = &pf->pf_batch;

	if (n > pf->pf_o->po_batch)
		n = pf->pf_o->po_batch;
	buf_reset(b);
	buf_puts(b, "[");
	for (long long i = 0; i < n; i++)
		buf_printf(b, "%s{\"jid\":\"%s-%010lld\",\"jobtype\":%s,\"args\":[],"
		    "\"queue\":\"%s\"}", i ? "," : "", pf->pf_prefix, pf->pf_next + i,
		    pf->pf_jobtype, pf->pf_o->po_queue);
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
fill_window(struct perf *pf)
{
	while (pf->pf_inflight < pf->pf_o->po_window && pf->pf_next < pf->pf_o->po_jobs)
		if (push_batch(pf) == -1) {
			finish(pf, CTL_EX_ERROR);
			return;
		}
	fkc_flush(&pf->pf_conn);
}

static void
on_ready(struct fkc *c)
{
	struct perf *pf = c->fc_arg;

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
on_reply(struct fkc *c, const struct fkp_reply *r)
{
	struct perf *pf = c->fc_arg;

	pf->pf_inflight--;
	if (r->r_type == FKP_R_ERROR) {
		fprintf(stderr, "fkworkerctl: perf-test: PUSHB refused: %.*s\n",
		    (int)r->r_len, r->r_data);
		finish(pf, CTL_EX_ERROR);
		return;
	}
	if (r->r_type == FKP_R_BULK)
		count_rejected(pf, r);
	if (pf->pf_next < pf->pf_o->po_jobs) {
		fill_window(pf);
		return;
	}
	if (pf->pf_inflight > 0)
		return;
	pf->pf_pushed_all = 1;
	pf->pf_push_ms = now_ms();
	fkc_close(&pf->pf_conn, 1);
}

static void
on_close(struct fkc *c, enum fkc_close kind, const char *why)
{
	struct perf *pf = c->fc_arg;

	FKW_UNUSED(kind);
	fprintf(stderr, "fkworkerctl: perf-test: faktory: %s\n", why);
	finish(pf, CTL_EX_ERROR);
}

static int
track_add(struct ptrack *k, uint64_t t, uint64_t d)
{
	if (k->pt_n == k->pt_cap) {
		size_t cap = k->pt_cap ? 2 * k->pt_cap : 16;
		uint64_t *nt = realloc(k->pt_t, cap * sizeof(*nt));
		uint64_t *nd = nt ? realloc(k->pt_d, cap * sizeof(*nd)) : NULL;
		if (nt != NULL)
			k->pt_t = nt;
		if (nd == NULL)
			return -1;
		k->pt_d = nd;
		k->pt_cap = cap;
	}
	k->pt_t[k->pt_n] = t;
	k->pt_d[k->pt_n++] = d;
	return 0;
}

/* Records each child's newly published count; a child starts from its baseline at t0. */
static void
track_status(struct perf *pf, const struct ctl_status *st)
{
	for (uint32_t i = 0; i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];
		uint64_t d = c->cc_processed + c->cc_failed;
		struct ptrack *k = NULL;

		if (c->cc_pid == 0 || c->cc_sampled_ms < pf->pf_t0)
			continue;
		for (size_t j = 0; j < pf->pf_ntrack; j++)
			if (pf->pf_track[j].pt_pid == c->cc_pid)
				k = &pf->pf_track[j];
		if (k == NULL) {
			struct ptrack *nk = realloc(pf->pf_track,
			    (pf->pf_ntrack + 1) * sizeof(*nk));
			uint64_t base = 0;
			if (nk == NULL)
				continue;
			pf->pf_track = nk;
			k = &nk[pf->pf_ntrack++];
			memset(k, 0, sizeof(*k));
			k->pt_pid = c->cc_pid;
			for (uint32_t b = 0; b < pf->pf_base->st_nchild; b++)
				if (pf->pf_base->st_child[b].cc_pid == c->cc_pid)
					base = pf->pf_base->st_child[b].cc_processed +
					    pf->pf_base->st_child[b].cc_failed;
			track_add(k, pf->pf_t0, base);
		}
		if (d != k->pt_d[k->pt_n - 1] && c->cc_sampled_ms > k->pt_t[k->pt_n - 1])
			track_add(k, c->cc_sampled_ms, d);
	}
}

/*
 * When a child did its last job: between its last two records. The rate of
 * the interval before says how far into the last one it still worked.
 */
static uint64_t
track_end(const struct ptrack *k)
{
	size_t j = k->pt_n - 1;
	double r;

	if (k->pt_n < 3 || k->pt_t[j - 1] <= k->pt_t[j - 2])
		return k->pt_t[j];
	r = (double)(k->pt_d[j - 1] - k->pt_d[j - 2]) / (double)(k->pt_t[j - 1] - k->pt_t[j - 2]);
	if (r <= 0)
		return k->pt_t[j];
	double est = (double)k->pt_t[j - 1] + (double)(k->pt_d[j] - k->pt_d[j - 1]) / r;
	return est < (double)k->pt_t[j] ? (uint64_t)est : k->pt_t[j];
}

static uint64_t
run_end(const struct perf *pf, const struct ctl_status *st)
{
	uint64_t end = 0;

	for (size_t i = 0; i < pf->pf_ntrack; i++) {
		const struct ptrack *k = &pf->pf_track[i];
		uint64_t e;
		if (k->pt_n < 2)
			continue;
		if ((e = track_end(k)) > end)
			end = e;
	}
	if (end > pf->pf_t0)
		return end;
	return st->st_sampled_ms > pf->pf_t0 ? st->st_sampled_ms : now_ms();
}

static void
poll_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct perf *pf = t->tm_arg;
	struct ctl_status *st;
	uint64_t done, target = (uint64_t)(pf->pf_o->po_jobs - pf->pf_rejected);

	if (status_now(pf, &st) == -1) {
		finish(pf, CTL_EX_UNAVAILABLE);
		return;
	}
	ctl_status_free(pf->pf_last);
	pf->pf_last = st;
	if (pf->pf_t0 != 0)
		track_status(pf, st);
	done = done_of(st) > pf->pf_base_done ? done_of(st) - pf->pf_base_done : 0;
	if (pf->pf_pushed_all && done >= target) {
		pf->pf_end = run_end(pf, st);
		cpu_read(&pf->pf_cpu1);
		finish(pf, 0);
		return;
	}
	if (pf->pf_t0 && now_ms() - pf->pf_progress >= PROGRESS_MS) {
		pf->pf_progress = now_ms();
		fprintf(stderr, "perf-test: %lld pushed, %" PRIu64 " done...\n", pf->pf_next,
		    done);
	}
	ev_timer_start(loop, t, POLL_MS);
}

static void
deadline_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct perf *pf = t->tm_arg;
	uint64_t done = pf->pf_last ? done_of(pf->pf_last) - pf->pf_base_done : 0;

	FKW_UNUSED(loop);
	fprintf(stderr, "fkworkerctl: perf-test: timed out after %d s: %lld pushed, %"
	    PRIu64 " done (are there workers for jobtype %s on queue %s?)\n",
	    pf->pf_o->po_timeout, pf->pf_next, done, pf->pf_o->po_jobtype,
	    pf->pf_o->po_queue);
	finish(pf, CTL_EX_ERROR);
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

static void
report(struct perf *pf)
{
	const struct ctl_status *st = pf->pf_last;
	double secs = (double)(pf->pf_end - pf->pf_t0) / 1000;
	unsigned long long tot = pf->pf_cpu1.ct_total - pf->pf_cpu0.ct_total;
	unsigned long long idle = pf->pf_cpu1.ct_idle - pf->pf_cpu0.ct_idle;
	long long n = pf->pf_o->po_jobs - pf->pf_rejected;

	if (secs <= 0)
		secs = 0.001;
	printf("perf-test: pushed %lld %s jobs to queue %s in batches of %d in %.3f s\n",
	    pf->pf_o->po_jobs, pf->pf_o->po_jobtype, pf->pf_o->po_queue, pf->pf_o->po_batch,
	    (double)(pf->pf_push_ms - pf->pf_t0) / 1000);
	if (pf->pf_rejected > 0)
		printf("perf-test: %lld jobs rejected by the server\n", pf->pf_rejected);
	if (tot > 0)
		printf("perf-test: host CPU %.0f%% busy during the run (%ld cores)\n",
		    100.0 * (double)(tot - idle) / (double)tot, sysconf(_SC_NPROCESSORS_ONLN));
	for (uint32_t i = 0; i < st->st_nchild; i++) {
		const struct ctl_child *c = &st->st_child[i];
		uint64_t base = 0, d;

		if (c->cc_pid == 0)
			continue;
		for (uint32_t j = 0; j < pf->pf_base->st_nchild; j++)
			if (pf->pf_base->st_child[j].cc_pid == c->cc_pid)
				base = pf->pf_base->st_child[j].cc_processed +
				    pf->pf_base->st_child[j].cc_failed;
		d = c->cc_processed + c->cc_failed - base;
		printf("child %d (cpu %d, pid %d): %" PRIu64 " jobs, %.0f jobs/s\n",
		    c->cc_index, c->cc_cpu, c->cc_pid, d, (double)d / secs);
	}
	printf("%lld jobs in %.3f s: %.0f jobs/s\n", n, secs, (double)n / secs);
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

static int
run(struct perf *pf)
{
	unsigned char rnd[8];

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
	ev_timer_start(pf->pf_loop, &pf->pf_poll, POLL_MS);
	ev_timer_start(pf->pf_loop, &pf->pf_deadline, (uint64_t)pf->pf_o->po_timeout * 1000);
	fkc_connect(&pf->pf_conn);
	if (pf->pf_exit < 0 && ev_run(pf->pf_loop) == -1)
		pf->pf_exit = CTL_EX_ERROR;
	if (pf->pf_exit == 0)
		report(pf);
	fkc_free(&pf->pf_conn);
	ev_loop_free(pf->pf_loop);
	return pf->pf_exit;
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
	pf.pf_base_done = done_of(pf.pf_base);
	printf("perf-test: %lld jobs to %s via fkworker at %s (%u children, concurrency %u)\n",
	    o->po_jobs, o->po_url ? o->po_url : pf.pf_base->st_url, sockpath,
	    pf.pf_base->st_cpus, pf.pf_base->st_concurrency);
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
	for (size_t i = 0; i < pf.pf_ntrack; i++) {
		free(pf.pf_track[i].pt_t);
		free(pf.pf_track[i].pt_d);
	}
	free(pf.pf_track);
	conf_free(cf);
	return rc;
}
