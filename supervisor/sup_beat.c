/* SPDX-License-Identifier: MIT */
/*
 * sup_beat: the master's own Faktory connection. It says HELLO with the
 * host's wid (as every child's slot does), BEATs every heartbeat seconds
 * with the host's RSS and state, relays the server's quiet / terminate to
 * the children, re-registers after "unknown worker", fetches INFO for the
 * status reply, and FAILs the in-flight jobs of children that died.
 *
 * The connection counts as held once the server answered a command on it
 * (the BEAT sent at once): a server past its connection cap finishes the
 * handshake and then refuses, and that must back off like a refused
 * connect. A reply overdue by REPLY_LIMIT_MS (the server answers BEAT, INFO
 * and FAIL at once, within its 5 s storage deadline) means it hangs: the
 * connection is dropped and retried. An outage is a warning when it begins
 * and a notice, with its length, when it ends, as in the children
 * (wrk_outage.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "fkc.h"
#include "log.h"
#include "sup.h"

#define RETRY_BASE_MS	1000
#define INFO_FRESH_MS	2000
#define REPLY_LIMIT_MS	10000
#define SWEEP_MS	1000

enum expect {
	EXP_BEAT = 1,
	EXP_INFO,
	EXP_FAIL,
};

static struct fkc conn;
static struct fkc_params params;
static SSL_CTX *tls;
static char ident[1024];		/* what a reconnect depends on */
static struct ev_timer beat_timer, retry_timer, sweep_timer;
static struct buf expect;		/* one enum expect per reply owed */
static struct buf fails;		/* FAIL lines until the server confirms them */
static size_t fails_sent;		/* bytes of fails written on this connection */
static int attempts;
static int held;			/* the server answered on this connection */
static uint64_t down_since;		/* ms; 0 while no outage was warned about */
static uint64_t wait_since;		/* ms: the last reply, or the first command owed */
static char lasterr[256];
static int info_pending;
static uint64_t info_ms;
static int info_known;

static void on_ready(struct fkc *);
static void on_reply(struct fkc *, const struct fkp_reply *);
static void on_close(struct fkc *, enum fkc_close, const char *);

static const struct fkc_ops ops = { on_ready, on_reply, on_close };

static void
set_params(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;
	struct fkp_hello *h = &params.fp_hello;

	params.fp_host = cf->cf_purl.u_host;
	params.fp_password = cf->cf_password;
	params.fp_timeout_ms = cf->cf_connect_timeout;
	params.fp_max_bulk = FKP_MAX_BULK_DEFAULT;
	params.fp_tls = tls;
	memset(h, 0, sizeof(*h));
	h->h_hostname = sup_env->se_hostname;
	h->h_wid = sup_env->se_wid;
	h->h_pid = (long)getpid();
	h->h_labels = (const char *const *)cf->cf_labels;
	h->h_nlabels = cf->cf_nlabels;
	h->h_username = cf->cf_purl.u_user[0] ? cf->cf_purl.u_user : NULL;
}

static void
make_ident(char *buf, size_t len)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	snprintf(buf, len, "%d|%s|%s|%s|%s|%d", cf->cf_purl.u_tls, cf->cf_purl.u_host,
	    cf->cf_purl.u_port, cf->cf_password ? cf->cf_password : "",
	    cf->cf_tls_ca_file ? cf->cf_tls_ca_file : "", cf->cf_tls_verify);
}

static int
make_tls(char *err, size_t errlen)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	if (tls != NULL) {
		SSL_CTX_free(tls);
		tls = NULL;
	}
	if (!cf->cf_purl.u_tls)
		return 0;
	tls = fkc_tls_ctx(cf->cf_tls_ca_file, cf->cf_tls_verify, err, errlen);
	return tls == NULL ? -1 : 0;
}

static void
connect_now(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	if (conn.fc_state != FKC_CLOSED || sup_env->se_state == SUP_ST_STOPPING)
		return;
	/* Resolved again each time; a failed lookup keeps the last address (a DNS outage). */
	if (net_resolve(cf->cf_purl.u_host, cf->cf_purl.u_port, &params.fp_addr,
	    lasterr, sizeof(lasterr)) == -1 && params.fp_addr.na_len == 0) {
		on_close(&conn, FKC_CLOSE_ERROR, lasterr);
		return;
	}
	fkc_connect(&conn);
}

static void
retry_fired(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(loop);
	FKW_UNUSED(t);
	connect_now();
}

/* Whatever was owed on the closed connection: FAILs are sent again, INFO given up. */
static void
forget_connection(void)
{
	buf_reset(&expect);
	fails_sent = 0;
	held = 0;
	ev_timer_stop(sup_env->se_loop, &beat_timer);
	ev_timer_stop(sup_env->se_loop, &sweep_timer);
	if (info_pending) {
		info_pending = 0;
		sup_ctl_info_done();
	}
}

static void
schedule_retry(void)
{
	uint64_t base = (uint64_t)RETRY_BASE_MS << (attempts < 16 ? attempts : 16);
	uint64_t cap = (uint64_t)sup_env->se_conf->cf_reconnect_max;

	if (cap < RETRY_BASE_MS)
		cap = RETRY_BASE_MS;
	if (base > cap)
		base = cap;
	attempts++;
	/* Half to all of the delay, so hosts that lost the server together spread out. */
	ev_timer_start(sup_env->se_loop, &retry_timer,
	    base / 2 + fkw_rand_below((uint32_t)(base / 2 + 1)));
}

static void
on_close(struct fkc *c, enum fkc_close kind, const char *why)
{
	FKW_UNUSED(c);
	if (why != lasterr)
		snprintf(lasterr, sizeof(lasterr), "%s", why);
	forget_connection();
	if (kind == FKC_CLOSE_FATAL) {
		log_errx("faktory: %s; exiting %d: retrying cannot help (check faktory.url "
		    "and faktory.password)", why, SUP_EX_CONFIG);
		sup_loop_stop(1, SUP_EX_CONFIG, "the Faktory server refused our credentials");
		return;
	}
	if (sup_env->se_state == SUP_ST_STOPPING)
		return;
	if (down_since == 0) {
		down_since = now_ms();
		if (strstr(why, "too many connections") != NULL)
			log_warnx("faktory: %s: the server refuses connections past its cap; "
			    "this host wants %d (worker.connections %d + 1 heartbeat), and "
			    "its other clients count too; reconnecting with backoff", why,
			    sup_env->se_conf->cf_connections + 1, sup_env->se_conf->cf_connections);
		else
			log_warnx("faktory: %s; reconnecting with backoff", why);
	} else {
		log_debug("faktory: %s (attempt %d)", why, attempts + 1);
	}
	schedule_retry();
}

static void
push_expect(enum expect e)
{
	unsigned char b = (unsigned char)e;

	if (buf_rlen(&expect) == 0)
		wait_since = now_ms();
	buf_append(&expect, &b, 1);
}

/* A server that stopped answering (hung, or a half-open connection) is a lost one. */
static void
sweep_fired(struct ev_loop *loop, struct ev_timer *t)
{
	char why[96];

	if (buf_rlen(&expect) > 0 && now_ms() - wait_since >= REPLY_LIMIT_MS) {
		snprintf(why, sizeof(why), "no reply from the server within %d s",
		    REPLY_LIMIT_MS / 1000);
		fkc_close(&conn, 0);
		on_close(&conn, FKC_CLOSE_ERROR, why);
		return;
	}
	ev_timer_start(loop, t, SWEEP_MS);
}

static void
send_beat(void)
{
	const char *state = NULL;
	long rss = proc_rss_kb(0);

	if (!fkc_is_ready(&conn))
		return;
	for (int p = 0; p < sup_env->se_npos; p++) {
		const struct sup_child *ch = &sup_env->se_child[p];
		long r;
		if (ch->ch_state >= SUP_CH_STARTING && (r = proc_rss_kb(ch->ch_pid)) > 0)
			rss += r;
	}
	if (sup_env->se_state == SUP_ST_QUIET)
		state = "quiet";
	else if (sup_env->se_state == SUP_ST_STOPPING)
		state = "terminate";
	if (fkp_enc_beat(fkc_wbuf(&conn), sup_env->se_wid, rss, state) == -1)
		return;
	push_expect(EXP_BEAT);
	fkc_flush(&conn);
}

static void
beat_fired(struct ev_loop *loop, struct ev_timer *t)
{
	send_beat();
	ev_timer_start(loop, t, (uint64_t)sup_env->se_conf->cf_heartbeat * 1000);
}

void
sup_beat_now(void)
{
	send_beat();
}

static void
flush_fails(void)
{
	const char *p;
	size_t n;

	if (!fkc_is_ready(&conn) || buf_rlen(&fails) <= fails_sent)
		return;
	p = buf_rptr(&fails) + fails_sent;
	n = buf_rlen(&fails) - fails_sent;
	if (buf_append(fkc_wbuf(&conn), p, n) == -1)
		return;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n')
			push_expect(EXP_FAIL);
	fails_sent += n;
	fkc_flush(&conn);
}

static void
on_ready(struct fkc *c)
{
	FKW_UNUSED(c);
	held = 0;
	send_beat();
	ev_timer_start(sup_env->se_loop, &beat_timer,
	    (uint64_t)sup_env->se_conf->cf_heartbeat * 1000);
	ev_timer_start(sup_env->se_loop, &sweep_timer, SWEEP_MS);
	flush_fails();
}

/* The first answer on a connection: the server keeps it. */
static void
on_held(void)
{
	const struct fkw_conf *cf = sup_env->se_conf;

	held = 1;
	if (down_since != 0)
		log_notice("faktory: connected again to %s:%s after an outage of %.1f s",
		    cf->cf_purl.u_host, cf->cf_purl.u_port,
		    (double)(now_ms() - down_since) / 1000);
	else
		log_info("faktory: connected to %s:%s as wid %s", cf->cf_purl.u_host,
		    cf->cf_purl.u_port, sup_env->se_wid);
	down_since = 0;
	attempts = 0;
	lasterr[0] = '\0';
}

static void
on_beat(const struct fkp_reply *r)
{
	switch (fkp_beat_parse(r)) {
	case FKP_BEAT_OK:
		break;
	case FKP_BEAT_QUIET:
		if (sup_env->se_state < SUP_ST_QUIET)
			sup_loop_quiet("the Faktory server asked");
		break;
	case FKP_BEAT_TERMINATE:
		sup_loop_stop(0, SUP_EX_OK, "the Faktory server asked to terminate");
		break;
	case FKP_BEAT_UNKNOWN_WORKER:
		/* Reaped (or the server restarted): a fresh HELLO registers us again. */
		log_notice("faktory: the server does not know wid %s; reconnecting to "
		    "register again", sup_env->se_wid);
		fkc_close(&conn, 1);
		forget_connection();
		ev_timer_start(sup_env->se_loop, &retry_timer, 0);
		break;
	case FKP_BEAT_ERROR:
		log_warnx("faktory: BEAT: %.*s", (int)(r->r_len > 200 ? 200 : r->r_len),
		    r->r_data);
		break;
	}
}

static void
on_info(const struct fkp_reply *r)
{
	json_t *root = NULL;
	json_error_t jerr;

	info_pending = 0;
	if (r->r_type != FKP_R_BULK ||
	    (root = json_loadb(r->r_data, r->r_len, 0, &jerr)) == NULL ||
	    sup_queues_update(root, now_ms()) == -1) {
		log_warnx("faktory: INFO: unexpected reply");
	} else {
		info_known = 1;
		info_ms = now_ms();
	}
	json_decref(root);
	sup_ctl_info_done();
}

static void
on_fail(const struct fkp_reply *r)
{
	const char *nl = memchr(buf_rptr(&fails), '\n', buf_rlen(&fails));
	size_t n = nl != NULL ? (size_t)(nl - buf_rptr(&fails)) + 1 : buf_rlen(&fails);

	if (r->r_type == FKP_R_ERROR) {
		/* The job was ACKed after all, or already expired: nothing to redo. */
		if (r->r_msg_len >= 13 && strncasecmp(r->r_msg, "job not found", 13) == 0) {
			log_debug("faktory: FAIL: %.*s", (int)r->r_len, r->r_data);
			sup_count_answer(SUP_COUNT_NOT_FOUND);
		} else {
			log_warnx("faktory: FAIL refused: %.*s", (int)r->r_len, r->r_data);
			sup_count_answer(SUP_COUNT_REFUSED);
		}
	} else {
		sup_count_answer(SUP_COUNT_OK);
	}
	buf_consume(&fails, n);
	fails_sent = fails_sent > n ? fails_sent - n : 0;
	if (buf_rlen(&fails) == 0)
		buf_reset(&fails);
	if (sup_env->se_state == SUP_ST_STOPPING)
		sup_loop_children_changed();
}

static void
on_reply(struct fkc *c, const struct fkp_reply *r)
{
	unsigned char e;

	FKW_UNUSED(c);
	if (buf_rlen(&expect) == 0) {
		log_warnx("faktory: a reply nothing asked for; reconnecting");
		fkc_close(&conn, 0);
		forget_connection();
		schedule_retry();
		return;
	}
	e = (unsigned char)buf_rptr(&expect)[0];
	buf_consume(&expect, 1);
	wait_since = now_ms();
	if (!held)
		on_held();
	switch (e) {
	case EXP_BEAT: on_beat(r); break;
	case EXP_INFO: on_info(r); break;
	case EXP_FAIL: on_fail(r); break;
	default: break;
	}
}

void
sup_beat_fail_inflight(struct sup_child *c, const char *errtype, const char *message)
{
	struct stats_pos *p = &c->ch_sp;
	int n = 0;

	for (uint32_t i = 0; i < p->sp_inflight_cap; i++) {
		struct stats_inflight *e = &p->sp_inflight[i];
		size_t len;

		if (e->if_jid[0] == '\0')
			continue;
		/* The server answered its report and the child counted it: done. */
		if (sup_count_was_counted(c, e)) {
			memset(e, 0, sizeof(*e));
			continue;
		}
		/* Written by a process that may have died mid-copy: bound it ourselves. */
		len = strnlen(e->if_jid, sizeof(e->if_jid) - 1);
		if (sup_count_note(c, e, errtype) == 0) {
			if (fkp_enc_fail(&fails, e->if_jid, len, errtype, message, NULL, 0) == 0)
				n++;
			else
				sup_count_note_drop();
		}
		memset(e, 0, sizeof(*e));
	}
	if (n == 0)
		return;
	log_notice("worker %d (pid %d): FAILing %d in-flight job(s) (%s) so Faktory "
	    "retries them now", c->ch_index, (int)c->ch_pid, n, errtype);
	flush_fails();
}

int
sup_beat_refresh_info(void)
{
	if (!fkc_is_ready(&conn))
		return 0;
	if (info_pending)
		return 1;
	if (info_known && now_ms() - info_ms < INFO_FRESH_MS)
		return 0;
	if (fkp_enc_simple(fkc_wbuf(&conn), "INFO") == -1)
		return 0;
	push_expect(EXP_INFO);
	info_pending = 1;
	fkc_flush(&conn);
	return 1;
}

int
sup_beat_idle(void)
{
	return buf_rlen(&fails) == 0 || !fkc_is_ready(&conn);
}

int
sup_beat_is_up(void)
{
	return fkc_is_ready(&conn) && held;
}

const char *
sup_beat_error(void)
{
	return lasterr;
}

int
sup_beat_init(char *err, size_t errlen)
{
	buf_init(&expect);
	buf_init(&fails);
	ev_timer_init(&beat_timer, beat_fired, NULL);
	ev_timer_init(&retry_timer, retry_fired, NULL);
	ev_timer_init(&sweep_timer, sweep_fired, NULL);
	if (make_tls(err, errlen) == -1)
		return -1;
	set_params();
	make_ident(ident, sizeof(ident));
	fkc_init(&conn, sup_env->se_loop, &params, &ops, NULL);
	connect_now();
	return 0;
}

void
sup_beat_reconfigure(void)
{
	char now[sizeof(ident)], err[256];

	make_ident(now, sizeof(now));
	if (strcmp(now, ident) == 0) {
		set_params();
		return;
	}
	log_info("faktory: connection settings changed; reconnecting");
	fkc_close(&conn, 1);
	forget_connection();
	if (make_tls(err, sizeof(err)) == -1)
		log_warnx("faktory: %s", err);
	set_params();
	/* Another server: its old address is nothing to fall back on. */
	memset(&params.fp_addr, 0, sizeof(params.fp_addr));
	snprintf(ident, sizeof(ident), "%s", now);
	attempts = 0;
	ev_timer_start(sup_env->se_loop, &retry_timer, 0);
}

void
sup_beat_close(void)
{
	ev_timer_stop(sup_env->se_loop, &beat_timer);
	ev_timer_stop(sup_env->se_loop, &retry_timer);
	ev_timer_stop(sup_env->se_loop, &sweep_timer);
	fkc_close(&conn, 1);
	fkc_free(&conn);
	buf_free(&expect);
	buf_free(&fails);
	sup_queues_free();
	sup_count_free();
	if (tls != NULL)
		SSL_CTX_free(tls);
	tls = NULL;
}
