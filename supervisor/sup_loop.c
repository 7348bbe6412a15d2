/* SPDX-License-Identifier: MIT */
/*
 * sup_loop: the master's start-up, event loop and lifecycle. Signals arrive
 * through a signalfd and every reaction happens here in the loop:
 * TERM graceful stop, INT fast stop, HUP reload, TSTP quiet, CHLD reap.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "sig.h"
#include "sup.h"

#define STOP_GRACE_MS		1500	/* past shutdown_timeout before KILL */
#define FAST_STOP_MS		3000	/* a fast stop waits this long before KILL: past a FETCH wait */
#define EXIT_FAIL_WAIT_MS	2000	/* for the server to confirm the last FAILs */
#define NOTIFY_STATUS_MS	2000

struct sup_env *sup_env;

static struct sup_env env;
static struct ev_io sig_io;
static struct ev_timer stop_timer, exit_timer, notify_timer, watchdog_timer;
static uint64_t watchdog_ms;
static int stop_fast;

static const char *const state_names[] = {
	[SUP_ST_STARTING] = "starting",
	[SUP_ST_RUNNING] = "running",
	[SUP_ST_RELOADING] = "reloading",
	[SUP_ST_QUIET] = "quiet",
	[SUP_ST_STOPPING] = "stopping",
};

const char *
sup_loop_state_name(enum sup_state s)
{
	return (size_t)s < FKW_NELEM(state_names) ? state_names[s] : "?";
}

static int
transition_ok(enum sup_state from, enum sup_state to)
{
	switch (to) {
	case SUP_ST_STARTING: return 0;
	case SUP_ST_RUNNING: return from == SUP_ST_STARTING || from == SUP_ST_RELOADING;
	case SUP_ST_RELOADING: return from == SUP_ST_RUNNING;
	case SUP_ST_QUIET: return from <= SUP_ST_RELOADING;
	case SUP_ST_STOPPING: return from != SUP_ST_STOPPING;
	}
	return 0;
}

int
sup_loop_set_state(enum sup_state to)
{
	enum sup_state from = env.se_state;

	if (!transition_ok(from, to))
		return -1;
	env.se_state = to;
	log_debug("state %s -> %s", sup_loop_state_name(from), sup_loop_state_name(to));
	switch (to) {
	case SUP_ST_RUNNING:
		/* READY=1 after start-up, and again to end RELOADING=1. */
		notify_ready();
		break;
	case SUP_ST_RELOADING:
		notify_reloading();
		break;
	case SUP_ST_QUIET:
		sup_beat_now();
		break;
	case SUP_ST_STOPPING:
		notify_stopping();
		sup_beat_now();
		break;
	case SUP_ST_STARTING:
		break;
	}
	sup_status_notify();
	return 0;
}

void
sup_loop_quiet(const char *why)
{
	if (env.se_state == SUP_ST_RELOADING)
		sup_reload_abort("the host went quiet");
	if (sup_loop_set_state(SUP_ST_QUIET) == -1)
		return;
	log_notice("quiet (%s): children finish their jobs and fetch no more", why);
	sup_child_all(WRK_MSG_QUIET);
}

static void
finish(void)
{
	ev_stop(env.se_loop);
}

/* Children are gone: give the server a moment to confirm the master's FAILs. */
static void
exit_fired(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	FKW_UNUSED(t);
	if (!sup_beat_idle())
		log_warnx("exiting with FAILs the server has not confirmed; "
		    "those jobs return when their reservation expires");
	finish();
}

void
sup_loop_children_changed(void)
{
	if (env.se_state == SUP_ST_STARTING && sup_child_all_ready()) {
		log_info("all %d children ready", env.se_conf->cf_cpus);
		sup_loop_set_state(SUP_ST_RUNNING);
	}
	if (env.se_state != SUP_ST_STOPPING || sup_child_nlive() > 0)
		return;
	ev_timer_stop(env.se_loop, &stop_timer);
	if (sup_beat_idle()) {
		finish();
		return;
	}
	if (!ev_timer_active(&exit_timer))
		ev_timer_start(env.se_loop, &exit_timer, EXIT_FAIL_WAIT_MS);
}

/* The children had their time: whatever is left is killed (its jobs FAILed by us). */
static void
stop_fired(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	FKW_UNUSED(t);
	if (sup_child_nlive() == 0)
		return;
	log_warnx("%d child(ren) still running past the stop deadline; killing them",
	    sup_child_nlive());
	sup_child_kill_all(SIGKILL);
}

void
sup_loop_stop(int fast, int exit_status, const char *why)
{
	uint64_t ms;

	if (env.se_state == SUP_ST_STOPPING) {
		if (!fast || stop_fast)
			return;
		log_notice("fast stop (%s)", why);
	} else {
		env.se_exit = exit_status;
		if (env.se_state == SUP_ST_RELOADING)
			sup_reload_abort("fkworker is stopping");
		sup_loop_set_state(SUP_ST_STOPPING);
		log_notice("%s stop (%s)%s", fast ? "fast" : "graceful", why,
		    fast ? "" : ": children finish their jobs, up to shutdown_timeout");
	}
	stop_fast = fast;
	sup_child_all(fast ? WRK_MSG_STOP : WRK_MSG_TERMINATE);
	ms = fast ? FAST_STOP_MS :
	    (uint64_t)env.se_conf->cf_shutdown_timeout * 1000 + STOP_GRACE_MS;
	/*
	 * Never before the FETCHes the children sent have been answered (~2 s on
	 * empty queues): killed earlier, they would leave the jobs the server
	 * still hands them reserved for nobody.
	 */
	if (ms < FAST_STOP_MS)
		ms = FAST_STOP_MS;
	ev_timer_start(env.se_loop, &stop_timer, ms);
	sup_loop_children_changed();
}

static void
on_hup(void)
{
	char err[4096];

	if (sup_reload_start(err, sizeof(err)) == -1)
		log_warnx("reload refused, the running configuration stays:\n%s", err);
}

static void
sig_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	int s, from;

	FKW_UNUSED(loop);
	FKW_UNUSED(events);
	while ((s = sig_read(io->io_fd, &from)) > 0) {
		switch (s) {
		case SIGCHLD: sup_child_reap(); break;
		case SIGTERM: sup_loop_stop(0, SUP_EX_OK, "SIGTERM"); break;
		case SIGINT: sup_loop_stop(1, SUP_EX_OK, "SIGINT"); break;
		case SIGHUP: on_hup(); break;
		case SIGTSTP: sup_loop_quiet("SIGTSTP"); break;
		default: break;	/* USR1: logs go to stderr, nothing to reopen */
		}
	}
}

static void
notify_fired(struct ev_loop *loop, struct ev_timer *t)
{
	sup_status_notify();
	ev_timer_start(loop, t, NOTIFY_STATUS_MS);
}

static void
watchdog_fired(struct ev_loop *loop, struct ev_timer *t)
{
	notify_watchdog();
	ev_timer_start(loop, t, watchdog_ms);
}

void
sup_loop_identity(char *host, size_t hostlen, char *wid, size_t widlen)
{
	unsigned char rnd[8];

	if (gethostname(host, hostlen) == -1)
		snprintf(host, hostlen, "localhost");
	host[hostlen - 1] = '\0';
	if (fkw_random(rnd, sizeof(rnd)) == -1)
		fatal(SUP_EX_OSERR, "getrandom");
	for (size_t i = 0; i < sizeof(rnd) && 2 * i + 2 < widlen; i++)
		snprintf(wid + 2 * i, 3, "%02x", rnd[i]);
}

/* Everything that can fail before the first fork; exits with the right status. */
static void
setup(void)
{
	static const int sigs[] = {
		SIGTERM, SIGINT, SIGHUP, SIGTSTP, SIGCHLD, SIGUSR1, SIGQUIT, 0,
	};
	char err[1024];
	int fd;

	if (sup_reload_nofile(env.se_conf, err, sizeof(err)) == -1)
		fatalx(SUP_EX_CONFIG, "%s", err);
	sup_loop_identity(env.se_hostname, sizeof(env.se_hostname), env.se_wid,
	    sizeof(env.se_wid));
	if ((env.se_loop = ev_loop_new()) == NULL)
		fatal(SUP_EX_OSERR, "epoll");
	/* Blocked before the first fork; each child unblocks them (sig_reset_all). */
	if ((fd = sig_fd(sigs)) == -1)
		fatal(SUP_EX_OSERR, "signalfd");
	ev_io_init(&sig_io, fd, sig_readable, NULL);
	if (ev_io_add(env.se_loop, &sig_io, EPOLLIN) == -1)
		fatal(SUP_EX_OSERR, "epoll_ctl");
	if (sup_child_init() == -1)
		fatal(SUP_EX_OSERR, "shared memory for %d children", env.se_conf->cf_cpus);
	sup_stats_init();
	sup_load_init();
	sup_auto_init();
	if (sup_ctl_open(err, sizeof(err)) == -1)
		fatalx(SUP_EX_OSERR, "control socket: %s", err);
	if (sup_beat_init(err, sizeof(err)) == -1) {
		sup_ctl_close();
		fatalx(SUP_EX_CONFIG, "%s", err);
	}
	/*
	 * Fatal, like the control socket: metrics the operator asked for and a
	 * scraper silently never gets are worse than a start that says why (and
	 * systemd retries a 71, so a port still held by a predecessor is waited out).
	 */
	if (sup_metrics_open(err, sizeof(err)) == -1) {
		sup_ctl_close();
		sup_beat_close();
		fatalx(SUP_EX_OSERR, "metrics: %s", err);
	}
	ev_timer_init(&stop_timer, stop_fired, NULL);
	ev_timer_init(&exit_timer, exit_fired, NULL);
	ev_timer_init(&notify_timer, notify_fired, NULL);
	ev_timer_init(&watchdog_timer, watchdog_fired, NULL);
	ev_timer_start(env.se_loop, &notify_timer, NOTIFY_STATUS_MS);
	if ((watchdog_ms = notify_watchdog_usec() / 2000) > 0) {
		log_info("systemd watchdog: pinging every %llu ms",
		    (unsigned long long)watchdog_ms);
		ev_timer_start(env.se_loop, &watchdog_timer, watchdog_ms);
	}
}

static void
teardown(void)
{
	sup_metrics_close();
	sup_ctl_close();
	sup_auto_stop();
	sup_beat_close();
	sup_load_close();
	sup_child_free_all();
	close(sig_io.io_fd);
	ev_loop_free(env.se_loop);
	conf_free(env.se_conf);
}

int
sup_main(struct fkw_conf *conf, const struct sup_opts *opts)
{
	memset(&env, 0, sizeof(env));
	sup_env = &env;
	env.se_conf = conf;
	env.se_opts = opts;
	env.se_state = SUP_ST_STARTING;
	env.se_start_ms = now_ms();
	setup();
	log_info("fkworker %s: %d children, concurrency %s%d (live up to %d), faktory %s:%s%s, "
	    "control %s", SUP_VERSION, conf->cf_cpus, conf->cf_concurrency_auto ? "auto from " : "",
	    conf->cf_concurrency, conf->cf_concurrency_max, conf->cf_purl.u_host,
	    conf->cf_purl.u_port, conf->cf_purl.u_tls ? " (TLS)" : "", conf->cf_ctl_socket);
	sup_child_start_all();
	if (ev_run(env.se_loop) == -1) {
		log_warn("epoll_wait");
		env.se_exit = SUP_EX_SOFTWARE;
		sup_child_kill_all(SIGKILL);
	}
	log_info("exiting with status %d", env.se_exit);
	teardown();
	return env.se_exit;
}
