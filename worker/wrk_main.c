/* SPDX-License-Identifier: MIT */
/*
 * wrk_main: a child's life. Post-fork set-up, the slots' gradual start, the
 * channel to the master, signals, and the way out:
 *
 *   STARTING -> RUNNING -> QUIET -> DRAINING -> STOPPING -> exit
 *
 * DRAINING waits up to shutdown_timeout for running jobs, STOPPING FAILs
 * what is left (errtype Shutdown) and waits a few seconds for the server to
 * confirm every report, then every connection says END.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"
#include "wrk_int.h"

#define RAMP_BATCH	64	/* connections opened per ramp tick */
#define RAMP_TICK_MS	5
#define STOP_GRACE_MS	5000	/* for the server to confirm the last reports */
/*
 * The server answers FETCH within ~2 s and everything else at once; a reply
 * this late means a hung server or a half-open connection.
 */
#define REPLY_LIMIT_MS	15000
#define SWEEP_MS	1000

struct wrk_env *wrk_env;

static struct wrk_env env;
static struct ev_io chan_io, sig_io;
static struct ev_timer ramp_timer, stats_timer, drain_timer, sweep_timer;

static void finish(void) __attribute__((noreturn));

int
wrk_main_may_fetch(void)
{
	return env.we_state <= WRK_ST_RUNNING;
}

static void
chan_send(enum wrk_msg m)
{
	unsigned char b = (unsigned char)m;

	if (env.we_ctx->wc_chan >= 0 &&
	    send(env.we_ctx->wc_chan, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_warn("channel to the master");
}

void
wrk_main_conn_ready(void)
{
	struct wrk_pool *po = &env.we_pool;

	po->po_nheld_once++;
	if (po->po_nheld_once == po->po_n && env.we_state == WRK_ST_STARTING) {
		env.we_state = WRK_ST_RUNNING;
		/* Publish first, so a status taken at READY already counts every connection. */
		wrk_stats_publish();
		wrk_stats_state(STATS_ST_READY);
		log_info("%d slots, %d connection(s) connected", env.we_cap, po->po_n);
		chan_send(WRK_MSG_READY);
	}
}

/*
 * The way out waits for the answers of the FETCHes already sent: the server
 * runs a FETCH even after the connection closes, and would reserve the job
 * it finds for nobody (docs/faktory-protocol.md 2.4). With one FETCH per
 * connection that is one FETCH wait (~2 s) at most.
 */
static int
all_idle(void)
{
	if (env.we_win.fw_out > 0)
		return 0;
	for (int i = 0; i < env.we_nslots; i++)
		if (!wrk_slot_is_idle(&env.we_slots[i], 1))
			return 0;
	return 1;
}

void
wrk_main_slot_changed(void)
{
	if (env.we_state >= WRK_ST_DRAINING && all_idle())
		finish();
}

static void
quiet(void)
{
	if (env.we_state >= WRK_ST_QUIET)
		return;
	env.we_state = WRK_ST_QUIET;
	wrk_stats_state(STATS_ST_QUIET);
	log_info("quiet: no new jobs; %d running", env.we_nbusy);
	for (int i = 0; i < env.we_nslots; i++)
		wrk_slot_quiet(&env.we_slots[i]);
}

/* Fails whatever still runs, then gives the server a few seconds to confirm. */
static void
stop_now(const char *why)
{
	int n = 0;

	if (env.we_state >= WRK_ST_STOPPING)
		return;
	env.we_state = WRK_ST_STOPPING;
	wrk_stats_state(STATS_ST_DRAINING);
	ev_timer_stop(env.we_loop, &ramp_timer);
	for (int i = 0; i < env.we_nslots; i++) {
		struct wrk_job *j = &env.we_slots[i].sl_job;
		if (j->jb_state == WRK_JOB_RUNNING) {
			wrk_job_abort(j, "Shutdown", why);
			n++;
		}
	}
	if (n > 0)
		log_notice("stopping: %d running job(s) FAILed (%s)", n, why);
	ev_timer_start(env.we_loop, &drain_timer, STOP_GRACE_MS);
	wrk_main_slot_changed();
}

static void
terminate(void)
{
	if (env.we_state >= WRK_ST_DRAINING)
		return;
	quiet();
	env.we_state = WRK_ST_DRAINING;
	wrk_stats_state(STATS_ST_DRAINING);
	ev_timer_stop(env.we_loop, &ramp_timer);
	log_info("terminating: waiting up to %d s for %d running job(s)",
	    env.we_conf->cf_shutdown_timeout, env.we_nbusy);
	ev_timer_start(env.we_loop, &drain_timer,
	    (uint64_t)env.we_conf->cf_shutdown_timeout * 1000);
	wrk_main_slot_changed();
}

static void
drain_fired(struct ev_loop *loop, struct ev_timer *t)
{
	int left = 0;

	FKW_UNUSED(loop);
	FKW_UNUSED(t);
	if (env.we_state == WRK_ST_DRAINING) {
		stop_now("fkworker shut down before the job finished (shutdown_timeout)");
		return;
	}
	for (int i = 0; i < env.we_nslots; i++)
		left += env.we_slots[i].sl_report_state != RP_NONE;
	if (left > 0)
		log_warnx("%d report(s) not confirmed by the server; those jobs return "
		    "after their reservation expires", left);
	if (env.we_win.fw_out > 0)
		log_warnx("%d FETCH(es) not answered by the server; a job it hands them "
		    "stays reserved until its reservation expires", env.we_win.fw_out);
	finish();
}

void
wrk_main_fatal(const char *why)
{
	if (env.we_exit_code == WRK_EX_CONFIG)
		return;
	log_errx("%s; stopping (exit %d: retrying cannot help)", why, WRK_EX_CONFIG);
	snprintf(env.we_fatal, sizeof(env.we_fatal), "%s", why);
	env.we_exit_code = WRK_EX_CONFIG;
	env.we_state = WRK_ST_STOPPING;
	for (int i = 0; i < env.we_nslots; i++)
		wrk_job_abort(&env.we_slots[i].sl_job, "Shutdown", why);
	finish();
}

/*
 * Counts the server confirmed: a job that failed is not "done". Reports
 * still unconfirmed at exit are the master's to FAIL (it reads the
 * in-flight table), so they are counted apart.
 */
static void
exit_line(void)
{
	unsigned long long ok = env.we_stats.sc_processed, failed = env.we_stats.sc_failed;
	unsigned long long done = env.we_jobs_done;

	if (done > ok + failed)
		log_info("exiting: %llu processed, %llu failed, %llu finished but not "
		    "confirmed by the server", ok, failed, done - ok - failed);
	else
		log_info("exiting: %llu processed, %llu failed", ok, failed);
}

static void
finish(void)
{
	int code = env.we_exit_code;

	if (code == 0 && env.we_recycle)
		code = WRK_EX_RECYCLE;
	wrk_stats_publish();
	wrk_stats_state(STATS_ST_EXITED);
	wrk_pool_free(&env.we_pool);
	for (int i = 0; i < env.we_nslots; i++)
		wrk_slot_free(&env.we_slots[i]);
	free(env.we_slots);
	wrk_plugin_unload_all();
	buf_free(&env.we_fetch_line);
	free(env.we_queue_names);
	if (env.we_params.fp_tls != NULL)
		SSL_CTX_free(env.we_params.fp_tls);
	ev_loop_free(env.we_loop);
	exit_line();
	exit(code);
}

static void
check_limits(void)
{
	const struct fkw_conf *cf = env.we_conf;
	long rss;

	if (env.we_recycle || env.we_state > WRK_ST_RUNNING)
		return;
	if (cf->cf_max_jobs_per_child > 0 &&
	    env.we_jobs_done >= (uint64_t)cf->cf_max_jobs_per_child) {
		log_info("recycling after %llu jobs (max_jobs_per_child)",
		    (unsigned long long)env.we_jobs_done);
		env.we_recycle = 1;
	} else if (cf->cf_memory_limit > 0 && (rss = proc_rss_kb(0)) > 0 &&
	    (uint64_t)rss * 1024 > cf->cf_memory_limit) {
		log_info("recycling: RSS %ld KiB above worker.memory_limit %llu KiB", rss,
		    (unsigned long long)(cf->cf_memory_limit >> 10));
		env.we_recycle = 1;
	}
	if (!env.we_recycle)
		return;
	/* The master starts a replacement first, then tells this child to terminate. */
	if (env.we_ctx->wc_chan >= 0)
		chan_send(WRK_MSG_RECYCLE);
	else
		terminate();
}

static void
stats_fired(struct ev_loop *loop, struct ev_timer *t)
{
	wrk_outage_tick(ev_now(loop));
	wrk_failog_tick();
	wrk_stats_publish();
	check_limits();
	ev_timer_start(loop, t, (uint64_t)env.we_conf->cf_stats_interval);
}

static void
sweep_fired(struct ev_loop *loop, struct ev_timer *t)
{
	uint64_t now = ev_now(loop);

	wrk_pool_check_overdue(&env.we_pool, now, REPLY_LIMIT_MS);
	ev_timer_start(loop, t, SWEEP_MS);
}

static void
ramp_fired(struct ev_loop *loop, struct ev_timer *t)
{
	if (env.we_state <= WRK_ST_QUIET && wrk_pool_ramp(&env.we_pool, RAMP_BATCH))
		ev_timer_start(loop, t, RAMP_TICK_MS);
}

/* SLOTS from the master: the new cap, within the storage sized at start. */
static void
set_slots(const unsigned char *m, ssize_t n)
{
	uint32_t cap;

	if (n != WRK_MSG_SLOTS_LEN) {
		log_warnx("SLOTS message of %zd bytes from the master; ignored", n);
		return;
	}
	memcpy(&cap, m + 1, sizeof(cap));
	if (cap < 1 || cap > (uint32_t)env.we_nslots) {
		log_warnx("SLOTS %u from the master is outside 1..%d; ignored", cap,
		    env.we_nslots);
		return;
	}
	if ((int)cap == env.we_cap)
		return;
	log_info("active slots %d -> %u%s", env.we_cap, cap, (int)cap < env.we_cap ?
	    " (retired slots finish their job first)" : "");
	wrk_slot_set_cap((int)cap);
	wrk_stats_publish();
}

static void
chan_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	unsigned char m[16];
	ssize_t n;

	FKW_UNUSED(events);
	n = recv(io->io_fd, m, sizeof(m), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The master is gone: finish what runs, then leave. */
		ev_io_del(loop, io);
		log_notice("lost the master; terminating");
		terminate();
		return;
	}
	switch (m[0]) {
	case WRK_MSG_QUIET: quiet(); break;
	case WRK_MSG_TERMINATE: terminate(); break;
	case WRK_MSG_STOP: stop_now("fkworker was stopped"); break;
	case WRK_MSG_SLOTS: set_slots(m, n); break;
	default: log_warnx("unknown message %u from the master", m[0]); break;
	}
}

static void
sig_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	int s;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	while ((s = sig_read(io->io_fd, NULL)) > 0) {
		switch (s) {
		case SIGTERM: terminate(); break;
		case SIGINT: stop_now("fkworker was interrupted"); break;
		case SIGTSTP: quiet(); break;
		default: break;
		}
	}
}

/* Pins to the child's CPU (its exec commands keep the CPUs it had), and dies with the master. */
static void
post_fork(const struct wrk_ctx *x)
{
	if (x->wc_chan >= 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			fatalx(1, "the master exited before this child started");
	}
	if (x->wc_cpu >= 0) {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			wrk_exec_spawner_cpus(&set);
		CPU_ZERO(&set);
		CPU_SET(x->wc_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			log_warn("cannot pin to cpu %d", x->wc_cpu);
	}
}

static void
setup_params(void)
{
	const struct fkw_conf *cf = env.we_conf;
	struct fkc_params *p = &env.we_params;
	char err[256];

	/* The address: resolved by each connect (wrk_pool_resolve), a failure retried. */
	p->fp_host = cf->cf_purl.u_host;
	p->fp_password = cf->cf_password;
	p->fp_timeout_ms = cf->cf_connect_timeout;
	p->fp_max_bulk = FKP_MAX_BULK_DEFAULT;
	p->fp_hello.h_hostname = env.we_ctx->wc_hostname;
	p->fp_hello.h_wid = env.we_ctx->wc_wid;
	p->fp_hello.h_pid = env.we_ctx->wc_pid;
	p->fp_hello.h_labels = (const char *const *)cf->cf_labels;
	p->fp_hello.h_nlabels = cf->cf_nlabels;
	p->fp_hello.h_username = cf->cf_purl.u_user[0] ? cf->cf_purl.u_user : NULL;
	if (cf->cf_purl.u_tls && (p->fp_tls = fkc_tls_ctx(cf->cf_tls_ca_file,
	    cf->cf_tls_verify, err, sizeof(err))) == NULL)
		fatalx(WRK_EX_CONFIG, "faktory.tls: %s", err);
}

static void
setup_queues(void)
{
	const struct fkw_conf *cf = env.we_conf;

	env.we_queue_names = calloc((size_t)cf->cf_nqueues, sizeof(char *));
	if (env.we_queue_names == NULL)
		fatal(1, "calloc");
	for (int i = 0; i < cf->cf_nqueues; i++)
		env.we_queue_names[i] = cf->cf_queues[i].q_name;
	buf_init(&env.we_fetch_line);
	if (fkp_enc_fetch(&env.we_fetch_line, env.we_queue_names, cf->cf_nqueues) == -1)
		fatalx(WRK_EX_CONFIG, "worker.queues: cannot encode FETCH");
}

/* Child index's share of a host-wide total: the remainder goes to the first children. */
static int
share(const struct fkw_conf *cf, int total, int index)
{
	int cpus = cf->cf_cpus > 0 ? cf->cf_cpus : 1;
	int n = total / cpus + (index < total % cpus);

	return n > 0 ? n : 1;
}

static void
setup_loop(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGTSTP, SIGHUP, SIGUSR1, 0 };
	char err[256];
	int fd;

	if ((env.we_loop = ev_loop_new()) == NULL)
		fatal(1, "epoll");
	if ((fd = sig_fd(sigs)) == -1)
		fatal(1, "signalfd");
	ev_io_init(&sig_io, fd, sig_readable, NULL);
	ev_io_add(env.we_loop, &sig_io, EPOLLIN);
	if (env.we_ctx->wc_chan >= 0) {
		ev_io_init(&chan_io, env.we_ctx->wc_chan, chan_readable, NULL);
		ev_io_add(env.we_loop, &chan_io, EPOLLIN);
	}
	if (wrk_exec_init(env.we_loop, err, sizeof(err)) == -1)
		fatalx(1, "exec handlers: %s", err);
	wrk_exec_pgid_table(env.we_ctx->wc_pos.sp_inflight, env.we_ctx->wc_pos.sp_inflight_cap);
	if (wrk_plugin_load_all(env.we_conf, err, sizeof(err)) == -1)
		fatalx(WRK_EX_CONFIG, "%s", err);
	ev_set_after(env.we_loop, wrk_fetch_pump, NULL);
	wrk_coalesce_init();
	wrk_lowat_init();
	ev_timer_init(&ramp_timer, ramp_fired, NULL);
	ev_timer_init(&stats_timer, stats_fired, NULL);
	ev_timer_init(&drain_timer, drain_fired, NULL);
	ev_timer_init(&sweep_timer, sweep_fired, NULL);
}

void
wrk_main(const struct fkw_conf *cf, const struct wrk_ctx *x)
{
	int nconns;

	memset(&env, 0, sizeof(env));
	wrk_env = &env;
	env.we_conf = cf;
	env.we_ctx = x;
	env.we_state = WRK_ST_STARTING;
	post_fork(x);
	setup_params();
	setup_queues();
	/* Standalone (no master): the slots of the configuration, fixed. */
	env.we_cap = x->wc_slots > 0 ? x->wc_slots : share(cf, cf->cf_concurrency, x->wc_index);
	env.we_nslots = x->wc_slots_max >= env.we_cap ? x->wc_slots_max : env.we_cap;
	/*
	 * A block per slot for the jobs' JSON, before setup_loop starts threads
	 * (spawners, plugins') that may use jansson. Without it, jobs parse
	 * into malloc as they did before.
	 */
	if (jarena_init((size_t)env.we_nslots, JARENA_BLOCK) == -1)
		log_warn("job JSON arenas (%d x %d KiB)", env.we_nslots, JARENA_BLOCK / 1024);
	setup_loop();
	if ((env.we_slots = calloc((size_t)env.we_nslots, sizeof(*env.we_slots))) == NULL)
		fatal(1, "calloc %d slots", env.we_nslots);
	/* Backwards, so the free list hands out slot 0 first. */
	for (int i = env.we_nslots - 1; i >= 0; i--)
		wrk_slot_init(&env.we_slots[i], i);
	wrk_fetch_init(&env.we_win);
	/*
	 * Its share of worker.connections, at most one per slot it may have
	 * (the connections do not change live; raised slots share them).
	 */
	nconns = share(cf, cf->cf_connections, x->wc_index);
	if (nconns > env.we_nslots)
		nconns = env.we_nslots;
	if (wrk_pool_init(&env.we_pool, nconns) == -1)
		fatal(1, "calloc %d connections", nconns);
	wrk_stats_init();
	log_info("starting %d slots (up to %d live) on %d connection(s) to %s:%s%s",
	    env.we_cap, env.we_nslots,
	    env.we_pool.po_n, cf->cf_purl.u_host, cf->cf_purl.u_port,
	    cf->cf_purl.u_tls ? " (TLS)" : "");
	ev_timer_start(env.we_loop, &ramp_timer, 0);
	ev_timer_start(env.we_loop, &stats_timer, (uint64_t)cf->cf_stats_interval);
	ev_timer_start(env.we_loop, &sweep_timer, SWEEP_MS);
	if (ev_run(env.we_loop) == -1)
		fatal(1, "epoll_wait");
	finish();
}
