/* SPDX-License-Identifier: MIT */
/* sup_status: the status reply (one struct for table and JSON) and systemd's STATUS= line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"
#include "sup.h"

/* Fresh numbers, not the last timer's: a status right after a change shows it. */
static void
refresh(void)
{
	for (int p = 0; p < sup_env->se_npos; p++)
		if (sup_env->se_child[p].ch_state >= SUP_CH_STARTING)
			sup_stats_drain(&sup_env->se_child[p]);
}

/* The URL without its password, for display and for perf-test. */
static void
url_public(const struct fkp_url *u, char *buf, size_t len)
{
	int v6 = strchr(u->u_host, ':') != NULL;

	snprintf(buf, len, "%s://%s%s%s%s%s:%s", u->u_tls ? "tcp+tls" : "tcp",
	    u->u_user, u->u_user[0] ? "@" : "", v6 ? "[" : "", u->u_host, v6 ? "]" : "",
	    u->u_port);
}

/* Exact counts per jobtype and failures per (jobtype, errtype). */
static int
add_counts(struct ctl_status *st)
{
	static struct stats_tally t;

	sup_count_host(&t);
	if (t.ty_njt > 0 && (st->st_jobtypes = calloc(t.ty_njt,
	    sizeof(*st->st_jobtypes))) == NULL)
		return -1;
	for (uint32_t i = 0; i < t.ty_njt; i++) {
		struct ctl_jobtype *j = &st->st_jobtypes[st->st_njobtypes++];
		snprintf(j->cj_name, sizeof(j->cj_name), "%s", t.ty_jt[i].tj_name);
		j->cj_processed = t.ty_jt[i].tj_processed;
		j->cj_failed = t.ty_jt[i].tj_failed;
	}
	if (t.ty_nfe > 0 && (st->st_failures = calloc(t.ty_nfe,
	    sizeof(*st->st_failures))) == NULL)
		return -1;
	for (uint32_t i = 0; i < t.ty_nfe; i++) {
		struct ctl_failure *f = &st->st_failures[st->st_nfailures++];
		snprintf(f->cf_jobtype, sizeof(f->cf_jobtype), "%s", t.ty_fe[i].tf_jobtype);
		snprintf(f->cf_errtype, sizeof(f->cf_errtype), "%s", t.ty_fe[i].tf_errtype);
		f->cf_failed = t.ty_fe[i].tf_failed;
	}
	return 0;
}

static int
add_children(struct ctl_status *st)
{
	int n = 0;

	if ((st->st_child = calloc((size_t)sup_env->se_npos, sizeof(*st->st_child))) == NULL)
		return -1;
	/* Positions are in index order; both of an index show during a roll. */
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *c = &sup_env->se_child[p];
		if (c->ch_state == SUP_CH_FREE)
			continue;
		sup_stats_child(c, &st->st_child[n]);
		sup_load_child(c, &st->st_child[n++]);
	}
	st->st_nchild = (uint32_t)n;
	return 0;
}

struct ctl_status *
sup_status_build(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	struct ctl_status *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	snprintf(st->st_version, sizeof(st->st_version), "%s", SUP_VERSION);
	st->st_pid = (int32_t)getpid();
	snprintf(st->st_hostname, sizeof(st->st_hostname), "%s", sup_env->se_hostname);
	snprintf(st->st_wid, sizeof(st->st_wid), "%s", sup_env->se_wid);
	url_public(&cf->cf_purl, st->st_url, sizeof(st->st_url));
	snprintf(st->st_conf_file, sizeof(st->st_conf_file), "%s",
	    sup_env->se_opts->so_conf_path);
	snprintf(st->st_state, sizeof(st->st_state), "%s",
	    sup_loop_state_name(sup_env->se_state));
	st->st_uptime_ms = now_ms() - sup_env->se_start_ms;
	st->st_cpus = (uint32_t)cf->cf_cpus;
	sup_auto_status(st);
	refresh();
	st->st_faktory_up = sup_beat_is_up();
	if (!st->st_faktory_up)
		snprintf(st->st_faktory_error, sizeof(st->st_faktory_error), "%s",
		    sup_beat_error());
	sup_stats_host(st);
	sup_load_host(st);
	sup_queues_fill(st, now_ms());
	if (add_counts(st) == -1 || add_children(st) == -1) {
		ctl_status_free(st);
		return NULL;
	}
	return st;
}

void
sup_status_notify(void)
{
	struct ctl_status st;
	int serving = 0;

	refresh();
	memset(&st, 0, sizeof(st));
	sup_stats_host(&st);
	for (int i = 0; i < sup_env->se_conf->cf_cpus; i++)
		serving += sup_child_serving(i) != NULL;
	notify_status("%s: %d of %d children, %u slots, %u/%u connections up, %.0f jobs/s, "
	    "%llu processed, %llu failed", sup_loop_state_name(sup_env->se_state), serving,
	    sup_env->se_conf->cf_cpus, st.st_slots, st.st_connected, st.st_connections,
	    st.st_jobs_per_sec,
	    (unsigned long long)st.st_processed, (unsigned long long)st.st_failed);
}
