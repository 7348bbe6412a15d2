/* SPDX-License-Identifier: MIT */
/*
 * sup_reload: HUP or `fkworkerctl reload`. The file is loaded into a fresh
 * struct and validated; when it is wrong the old configuration keeps
 * running and the caller gets every FILE:LINE error. When it is right the
 * children are rolled one index at a time: the successor starts beside its
 * predecessor, and only once it is READY is the predecessor told to drain,
 * so jobs keep flowing throughout. A file that changes only what a running
 * child takes live (worker.concurrency, the auto controller's keys) is
 * applied without a roll: the children get their new slot count over their
 * channel. Also the limits a configuration needs from the process
 * (descriptors, the slots the children were sized for).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "notify.h"
#include "sup.h"

#define FDS_PER_CHILD_EXTRA	64	/* epoll, signalfd, channel, logs, exec pipes */

static struct fkw_conf *prev;		/* the configuration before the roll */
static uint32_t roll_gen;		/* children above this generation run the new one */
static int roll_next, roll_end;
static uint64_t roll_started_ms;
static char *changes;			/* conf_changes of the roll, for its reply */
static char *result;			/* the last roll's reply */

/* The most slots a child of cf may be given: the fixed concurrency's share, or auto's ceiling. */
static int
slots_per_child(const struct fkw_conf *cf)
{
	int cpus = cf->cf_cpus > 0 ? cf->cf_cpus : 1;
	int n = cf->cf_concurrency_auto ? cf->cf_concurrency_max : cf->cf_concurrency;

	return (n + cpus - 1) / cpus;
}

int
sup_reload_nofile(const struct fkw_conf *cf, char *err, size_t errlen)
{
	struct rlimit rl;
	long long need = slots_per_child(cf) + FDS_PER_CHILD_EXTRA;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)need > rl.rlim_cur) {
		snprintf(err, errlen, "worker.concurrency%s %d with worker.cpus %d needs ~%lld "
		    "file descriptors per child but RLIMIT_NOFILE is %llu; raise "
		    "LimitNOFILE or lower concurrency", cf->cf_concurrency_auto ? "_max" : "",
		    cf->cf_concurrency_auto ? cf->cf_concurrency_max : cf->cf_concurrency,
		    cf->cf_cpus, need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

int
sup_reload_fits(const struct fkw_conf *cf, char *err, size_t errlen)
{
	const char *key;

	if (cf->cf_cpus > sup_env->se_npos / 2) {
		snprintf(err, errlen, "requires restart: worker.cpus %d is more than the %d "
		    "children the shared memory was sized for at start", cf->cf_cpus,
		    sup_env->se_npos / 2);
		return -1;
	}
	if ((uint32_t)slots_per_child(cf) > sup_env->se_slots_max) {
		snprintf(err, errlen, "requires restart: worker.concurrency%s %d gives %d slots "
		    "per child, more than the %u each child was sized for at start "
		    "(worker.concurrency_max then)", cf->cf_concurrency_auto ? "_max" : "",
		    cf->cf_concurrency_auto ? cf->cf_concurrency_max : cf->cf_concurrency,
		    slots_per_child(cf), sup_env->se_slots_max);
		return -1;
	}
	if ((key = conf_restart_key(sup_env->se_conf, cf)) != NULL) {
		snprintf(err, errlen, "requires restart: %s changed", key);
		return -1;
	}
	return sup_reload_nofile(cf, err, errlen);
}

static void
errors_join(const struct conf_errors *errs, char *err, size_t errlen)
{
	size_t n = 0;

	err[0] = '\0';
	for (int i = 0; i < errs->ce_n && n < errlen; i++) {
		int r = snprintf(err + n, errlen - n, "%s%s", i ? "\n" : "", errs->ce_msg[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* Logs what the new configuration changes, one line per key, and keeps it for the reply. */
static void
log_changes(const struct fkw_conf *old, const struct fkw_conf *cf)
{
	char *line, *save = NULL, *copy;

	free(changes);
	if ((changes = conf_changes(old, cf)) == NULL || changes[0] == '\0') {
		log_notice("reload: no setting changed");
		return;
	}
	if ((copy = strdup(changes)) == NULL)
		return;
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		log_notice("reload: %s", line);
	free(copy);
}

/* "changed:\n  key: a -> b\n  ..." or "no setting changed", for fkworkerctl reload. */
static char *
changes_text(void)
{
	char *s = NULL, *p;
	size_t n = 0;
	FILE *fp;

	if (changes == NULL || changes[0] == '\0')
		return strdup("no setting changed");
	if ((fp = open_memstream(&s, &n)) == NULL)
		return NULL;
	fputs("changed:\n  ", fp);
	for (p = changes; *p != '\0'; p++) {
		fputc(*p, fp);
		if (*p == '\n')
			fputs("  ", fp);
	}
	if (fclose(fp) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void
apply_log_level(void)
{
	if (!sup_env->se_opts->so_verbose)
		log_setlevel(sup_env->se_conf->cf_log_level);
}

/* Why a reload cannot start in this state, and what the operator can do instead. */
static const char *
refusal(enum sup_state st)
{
	switch (st) {
	case SUP_ST_STARTING:
		/* A wrong server setting keeps the host starting for ever: say the way out. */
		return "cannot reload while starting: every child must connect first "
		    "(fkworkerctl status says running); if the configuration names the wrong "
		    "server or password, fix it and restart fkworker (systemctl restart fkworker)";
	case SUP_ST_RELOADING:
		return "a reload is already in progress: wait until it ends (fkworkerctl "
		    "status says running), then reload again";
	case SUP_ST_QUIET:
		return "cannot reload while quiet: a quiet fkworker fetches no more jobs and "
		    "never resumes; restart fkworker (systemctl restart fkworker) to run the "
		    "new configuration";
	case SUP_ST_STOPPING:
		return "cannot reload while stopping: fkworker is exiting; start it again "
		    "(systemctl start fkworker) to run the new configuration";
	case SUP_ST_RUNNING:
		break;
	}
	return "cannot reload now";
}

/* The reply of a reload: its line, then what changed; kept for sup_reload_result. */
static void
set_result(const char *msg)
{
	char *what = changes_text(), *full = NULL;

	free(changes);
	changes = NULL;
	if (what == NULL || asprintf(&full, "%s\n%s", msg, what) == -1)
		full = NULL;
	free(what);
	free(result);
	result = full != NULL ? full : strdup(msg);
}

/* Only live keys changed: swap the configuration, the children keep running. */
static void
reload_live(struct fkw_conf *cf)
{
	struct fkw_conf *old = sup_env->se_conf;
	char msg[512];

	/* systemd sees a reload begin and end, as with a roll. */
	notify_reloading();
	log_changes(old, cf);
	if (changes == NULL || changes[0] == '\0')
		snprintf(msg, sizeof(msg), "reloaded %s live; no child replaced",
		    sup_env->se_opts->so_conf_path);
	else
		snprintf(msg, sizeof(msg), "reloaded %s live: concurrency %s%d -> %s%d (bounds "
		    "%d..%d); no child replaced", sup_env->se_opts->so_conf_path,
		    old->cf_concurrency_auto ? "auto " : "", old->cf_concurrency,
		    cf->cf_concurrency_auto ? "auto " : "", cf->cf_concurrency,
		    cf->cf_concurrency_min, cf->cf_concurrency_max);
	log_notice("%s", msg);
	set_result(msg);
	sup_env->se_conf = cf;
	/* Same server settings: this only points the heartbeat at the new strings. */
	sup_beat_reconfigure();
	conf_free(old);
	apply_log_level();
	sup_auto_reconfigure();
	notify_ready();
	sup_status_notify();
}

int
sup_reload_start(char *err, size_t errlen)
{
	const char *path = sup_env->se_opts->so_conf_path;
	struct conf_errors errs = { 0 };
	struct fkw_conf *cf;

	if (sup_env->se_state != SUP_ST_RUNNING) {
		snprintf(err, errlen, "%s", refusal(sup_env->se_state));
		return -1;
	}
	if ((cf = conf_load(path, 1, &errs)) == NULL || sup_confcheck(cf, &errs) > 0) {
		errors_join(&errs, err, errlen);
		conf_errors_free(&errs);
		conf_free(cf);
		return -1;
	}
	for (int i = 0; i < errs.ce_nwarn; i++)
		log_warnx("reload: %s", errs.ce_warn[i]);
	conf_errors_free(&errs);
	if (sup_reload_fits(cf, err, errlen) == -1) {
		conf_free(cf);
		return -1;
	}
	if (conf_live_only(sup_env->se_conf, cf)) {
		reload_live(cf);
		return 0;
	}
	log_notice("reload: %s is valid; rolling the children onto it (cpus %d -> %d, "
	    "concurrency %d -> %d)", path, sup_env->se_conf->cf_cpus, cf->cf_cpus,
	    sup_env->se_conf->cf_concurrency, cf->cf_concurrency);
	log_changes(sup_env->se_conf, cf);
	prev = sup_env->se_conf;
	sup_env->se_conf = cf;
	roll_gen = sup_env->se_generation;
	roll_next = 0;
	roll_end = prev->cf_cpus > cf->cf_cpus ? prev->cf_cpus : cf->cf_cpus;
	roll_started_ms = now_ms();
	apply_log_level();
	sup_beat_reconfigure();
	sup_auto_reconfigure();
	sup_loop_set_state(SUP_ST_RELOADING);
	sup_reload_step();
	return 0;
}

int
sup_reload_is_rolling_child(const struct sup_child *c)
{
	return sup_env->se_state == SUP_ST_RELOADING && c->ch_generation > roll_gen;
}

/* An index beyond the new cpus: its children leave without successors. */
static void
retire_index(int i)
{
	for (int k = 0; k < 2; k++) {
		struct sup_child *c = &sup_env->se_child[2 * i + k];

		if (c->ch_state == SUP_CH_BACKOFF) {
			ev_timer_stop(sup_env->se_loop, &c->ch_timer);
			c->ch_state = SUP_CH_FREE;
		} else if (c->ch_state == SUP_CH_STARTING || c->ch_state == SUP_CH_READY) {
			log_info("worker %d (pid %d): no longer configured; draining it",
			    c->ch_index, (int)c->ch_pid);
			sup_child_drain(c);
		}
	}
}

/* Index i needs nothing more from the roll: 1; still waiting: 0. */
static int
roll_index(int i)
{
	struct sup_child *c = sup_child_serving(i);
	struct sup_child *a = &sup_env->se_child[2 * i];

	if (i >= sup_env->se_conf->cf_cpus) {
		retire_index(i);
		return 1;
	}
	if (c != NULL && c->ch_generation > roll_gen)
		return c->ch_state == SUP_CH_READY;
	if (c == NULL) {
		/* Nothing serves this index (new, or in crash backoff): just start one. */
		if (a->ch_state != SUP_CH_FREE && a->ch_state != SUP_CH_BACKOFF)
			a = &sup_env->se_child[2 * i + 1];
		if (a->ch_state == SUP_CH_FREE || a->ch_state == SUP_CH_BACKOFF)
			sup_child_spawn(a);
		return 0;
	}
	/* -1: the sibling position still drains an earlier child; wait for it. */
	sup_child_replace(c);
	return 0;
}

static void
roll_done(void)
{
	char msg[256];
	struct fkw_conf *cf = sup_env->se_conf;

	snprintf(msg, sizeof(msg), "reloaded %s: %d children on the new configuration "
	    "(concurrency %d) in %.1fs", sup_env->se_opts->so_conf_path, cf->cf_cpus,
	    cf->cf_concurrency, (double)(now_ms() - roll_started_ms) / 1000);
	log_notice("%s", msg);
	conf_free(prev);
	prev = NULL;
	sup_loop_set_state(SUP_ST_RUNNING);
	set_result(msg);
	sup_ctl_reload_done(1, result != NULL ? result : msg);
}

const char *
sup_reload_result(void)
{
	return result != NULL ? result : "reloaded";
}

void
sup_reload_step(void)
{
	if (sup_env->se_state != SUP_ST_RELOADING)
		return;
	while (roll_next < roll_end && roll_index(roll_next))
		roll_next++;
	if (roll_next == roll_end)
		roll_done();
}

void
sup_reload_abort(const char *why)
{
	struct fkw_conf *cf = sup_env->se_conf;
	char msg[512];
	int kept = 0;

	if (sup_env->se_state != SUP_ST_RELOADING)
		return;
	for (int p = 0; p < sup_env->se_npos; p++) {
		struct sup_child *c = &sup_env->se_child[p];
		struct sup_child *s = &sup_env->se_child[p ^ 1];

		if (c->ch_generation <= roll_gen || c->ch_state < SUP_CH_STARTING)
			continue;
		if (c->ch_state == SUP_CH_STARTING && (s->ch_state == SUP_CH_READY ||
		    s->ch_state == SUP_CH_STARTING))
			sup_child_drain(c);
		else if (c->ch_state != SUP_CH_RETIRING)
			kept++;
	}
	sup_env->se_conf = prev;
	prev = NULL;
	free(changes);
	changes = NULL;
	apply_log_level();
	sup_beat_reconfigure();
	sup_auto_reconfigure();
	conf_free(cf);
	snprintf(msg, sizeof(msg), "reload failed: %s; the previous configuration stays%s",
	    why, kept ? " (children already replaced keep the new settings until "
	    "their next restart)" : "");
	log_warnx("%s", msg);
	sup_loop_set_state(SUP_ST_RUNNING);
	sup_ctl_reload_done(0, msg);
}
