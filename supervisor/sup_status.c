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

static void
add_queues(struct ctl_status *st)
{
	const struct ctl_queue *q;
	uint32_t n;

	if (sup_beat_queues(&q, &n, &st->st_queues_age_ms) == -1)
		return;
	st->st_queues_known = 1;
	if (n == 0 || (st->st_queues = calloc(n, sizeof(*q))) == NULL)
		return;
	memcpy(st->st_queues, q, n * sizeof(*q));
	st->st_nqueues = n;
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
		sup_stats_child(c, &st->st_child[n++]);
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
	add_queues(st);
	if (add_children(st) == -1) {
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
