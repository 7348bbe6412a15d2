/* SPDX-License-Identifier: MIT */
/*
 * sup_metrics: the HTTP side of stats.listen. libmicrohttpd answers
 * GET /metrics (rendered by sup_prom.c) and runs inside the master's own
 * loop, no thread of its own: it is started in external-select mode with
 * its epoll backend, so its whole state is one epoll fd, registered with
 * the master's loop; MHD_run is called when that fd is readable and when
 * MHD's own timeout (idle connections) falls due.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "net.h"
#include "sup.h"

#define METRICS_BACKLOG		16
#define METRICS_CONN_MAX	16	/* scrapers at once; the rest wait in the backlog */
#define METRICS_IDLE_S		10	/* an idle or slow connection is closed after this */
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon *mhd;
static struct ev_io mhd_io;
static struct ev_timer mhd_timer;
static uint64_t scrapes;

static void run_mhd(struct ev_loop *);

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
    enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	if ((r = MHD_create_response_from_buffer(len, body, mode)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **req)
{
	static char not_found[] = "not found: fkworker serves /metrics only\n";
	static char not_allowed[] = "method not allowed: GET /metrics\n";
	struct buf b;

	FKW_UNUSED(cls);
	FKW_UNUSED(version);
	FKW_UNUSED(upload);
	FKW_UNUSED(upload_len);
	FKW_UNUSED(req);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
		    sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
		    MHD_RESPMEM_PERSISTENT);
	/*
	 * Queue sizes come from the last INFO; asking for a fresh one now (not
	 * waiting for it) keeps them about one scrape interval old, as their
	 * age metric says.
	 */
	sup_beat_refresh_info();
	buf_init(&b);
	scrapes++;
	if (sup_prom_render(&b, scrapes) == -1) {
		buf_free(&b);
		return MHD_NO;
	}
	/* MHD frees the body with free(3) once sent: it takes the buffer's memory. */
	return reply(conn, MHD_HTTP_OK, b.b_data, b.b_len, MHD_RESPMEM_MUST_FREE);
}

/* MHD's complaints go to our log with our prefix, not to bare stderr. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	FKW_UNUSED(cls);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(msg, sizeof(msg), fmt, ap);
#pragma GCC diagnostic pop
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("metrics: %s", msg);
}

static void
mhd_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	FKW_UNUSED(io);
	FKW_UNUSED(events);
	run_mhd(loop);
}

static void
mhd_due(struct ev_loop *loop, struct ev_timer *t)
{
	FKW_UNUSED(t);
	run_mhd(loop);
}

/* One round of MHD's work, then its next deadline (0 ms: it has more to do now). */
static void
run_mhd(struct ev_loop *loop)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(mhd);
	if (MHD_get_timeout(mhd, &ms) == MHD_YES)
		ev_timer_start(loop, &mhd_timer, (uint64_t)ms);
	else
		ev_timer_stop(loop, &mhd_timer);
}

int
sup_metrics_open(char *err, size_t errlen)
{
	const char *addr = sup_env->se_conf->cf_stats_listen, *why;
	const union MHD_DaemonInfo *info;
	char host[64], port[8];
	int fd;

	if (*addr == '\0')
		return 0;
	if (net_split_listen(addr, host, sizeof(host), port, sizeof(port), &why) == -1) {
		snprintf(err, errlen, "stats.listen \"%s\": %s", addr, why);
		return -1;
	}
	if ((fd = net_listen_tcp(host, port, METRICS_BACKLOG, err, errlen)) == -1)
		return -1;
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,	/* first: it applies to the options after it */
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_IDLE_S,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		close(fd);
		snprintf(err, errlen, "stats.listen %s: libmicrohttpd did not start", addr);
		return -1;
	}
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&mhd_io, info->epoll_fd, mhd_readable, NULL);
	ev_timer_init(&mhd_timer, mhd_due, NULL);
	if (ev_io_add(sup_env->se_loop, &mhd_io, EPOLLIN) == -1) {
		snprintf(err, errlen, "stats.listen %s: epoll_ctl: %s", addr, strerror(errno));
		sup_metrics_close();
		return -1;
	}
	log_info("metrics: serving http://%s%s%s:%d/metrics", strchr(host, ':') ? "[" : "",
	    host, strchr(host, ':') ? "]" : "", net_local_port(fd));
	return 0;
}

void
sup_metrics_close(void)
{
	if (mhd == NULL)
		return;
	ev_io_del(sup_env->se_loop, &mhd_io);
	ev_timer_stop(sup_env->se_loop, &mhd_timer);
	/* Closes the listening socket and every connection. */
	MHD_stop_daemon(mhd);
	mhd = NULL;
}
