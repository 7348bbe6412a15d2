/* SPDX-License-Identifier: MIT */
/*
 * wrk_plugin_api: the implementation of fkworker.h, what a plugin calls:
 * registration, the running job's fields, its completion, timers and
 * watched fds on the child's loop, logging. These functions keep the fkw_
 * names the public header gives them (worker/fkworker.sym exports exactly
 * those; the executable is linked so plugins resolve them at dlopen and
 * link nothing); the file is named for the module's internal hooks,
 * wrk_plugin_api_*. It is apart from wrk_plugin.c, which loads plugins and
 * runs their handlers, because this side is a promise to plugin authors
 * (fkworker.h documents it, FKW_PLUGIN_API_VERSION versions it) and takes
 * what they hand it as it comes: NULL handles, late or second completions.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkworker.h"
#include "log.h"
#include "util.h"
#include "wrk_job.h"
#include "wrk_plugin_int.h"

struct fkw_timer {
	struct ev_timer		 ft_ev;
	fkw_timer_fn		*ft_cb;
	void			*ft_arg;
	const struct fkw_plugin	*ft_plugin;
	int			 ft_firing;
	struct fkw_timer	*ft_next;
	struct fkw_timer	*ft_prev;
};

struct fkw_watch {
	struct ev_io		 fw_io;
	unsigned		 fw_events;	/* FKW_EV_* wanted */
	fkw_fd_fn		*fw_cb;
	void			*fw_arg;
	const struct fkw_plugin	*fw_plugin;
	struct fkw_watch	*fw_next;
	struct fkw_watch	*fw_prev;
};

/* The timers and watches plugins hold: freed at unload whatever the plugin forgot. */
static struct {
	struct fkw_timer	*pa_timers;
	struct fkw_timer	*pa_tfree;
	struct fkw_watch	*pa_watches;
} pa;

/* ==== Small helpers ==== */

/* Cuts s to at most max bytes without splitting a UTF-8 character. */
static void
utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

/*
 * Formats into dst, whose size leaves UTF8_SLACK bytes beyond max, so that a
 * character cut by vsnprintf can be seen and dropped whole.
 */
static void
text_set(char *dst, size_t size, size_t max, const char *fmt, va_list ap)
{
	if (fmt == NULL) {
		dst[0] = '\0';
		return;
	}
	vsnprintf(dst, size, fmt, ap);
	utf8_cut(dst, max);
}

static void
errtype_set(struct fkw_job *fj, const char *errtype)
{
	snprintf(fj->fj_errtype, sizeof(fj->fj_errtype), "%s",
	    errtype != NULL && *errtype != '\0' ? errtype : "Failed");
	utf8_cut(fj->fj_errtype, PLUG_ERRTYPE_MAX);
}

/* ==== The API of fkworker.h: registration ==== */

int
fkw_register(struct fkw_plugin *p, const char *jobtype, fkw_handler_fn *fn,
    fkw_cancel_fn *cancel, void *udata)
{
	struct plug_reg *r;

	if (p == NULL || !p->pl_initing || jobtype == NULL || *jobtype == '\0' || fn == NULL)
		return -1;
	for (size_t i = 0; i < p->pl_nregs; i++)
		if (strcmp(p->pl_regs[i].pr_jobtype, jobtype) == 0)
			return -1;
	r = realloc(p->pl_regs, (p->pl_nregs + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	p->pl_regs = r;
	r += p->pl_nregs;
	if ((r->pr_jobtype = strdup(jobtype)) == NULL)
		return -1;
	r->pr_fn = fn;
	r->pr_cancel = cancel;
	r->pr_udata = udata;
	r->pr_plugin = p;
	r->pr_warned = 0;
	p->pl_nregs++;
	return 0;
}

void
fkw_plugin_set_error(struct fkw_plugin *p, const char *fmt, ...)
{
	va_list ap;

	if (p == NULL)
		return;
	va_start(ap, fmt);
	text_set(p->pl_err, sizeof(p->pl_err), sizeof(p->pl_err) - UTF8_SLACK - 1,
	    fmt, ap);
	va_end(ap);
}

const char *
fkw_plugin_path(const struct fkw_plugin *p)
{
	return p != NULL ? p->pl_path : "";
}

int
fkw_api_version(void)
{
	return FKW_PLUGIN_API_VERSION;
}

/* ==== The API: the job ==== */

/* The running job behind a handle, or NULL once it completed or was cancelled. */
static const struct wrk_job *
pj_job(const struct fkw_job *fj)
{
	return fj != NULL ? fj->fj_job : NULL;
}

static const json_t *
pj_arg(const struct fkw_job *fj, size_t i)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL ? json_array_get(j->jb_args, i) : NULL;
}

const char *
fkw_job_jid(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL && j->jb_jid != NULL ? j->jb_jid : "";
}

const char *
fkw_job_type(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL && j->jb_jobtype != NULL ? j->jb_jobtype : "";
}

const char *
fkw_job_queue(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);
	const json_t *q = j != NULL ? json_object_get(j->jb_json, "queue") : NULL;

	return json_is_string(q) ? json_string_value(q) : "";
}

const char *
fkw_job_json(const struct fkw_job *fj, size_t *len)
{
	const struct wrk_job *j = pj_job(fj);
	int ok = j != NULL && j->jb_raw != NULL;

	if (len != NULL)
		*len = ok ? j->jb_raw_len : 0;
	return ok ? j->jb_raw : "";
}

const char *
fkw_job_args_json(struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	if (j == NULL)
		return NULL;
	if (fj->fj_args == NULL)
		fj->fj_args = json_dumps(j->jb_args, JSON_COMPACT | JSON_ENCODE_ANY);
	return fj->fj_args;
}

size_t
fkw_job_nargs(const struct fkw_job *fj)
{
	const struct wrk_job *j = pj_job(fj);

	return j != NULL ? json_array_size(j->jb_args) : 0;
}

const char *
fkw_job_arg_string(const struct fkw_job *fj, size_t i)
{
	const json_t *a = pj_arg(fj, i);

	return json_is_string(a) ? json_string_value(a) : NULL;
}

int
fkw_job_arg_int(const struct fkw_job *fj, size_t i, long long *out)
{
	const json_t *a = pj_arg(fj, i);
	double d;

	if (json_is_integer(a)) {
		*out = json_integer_value(a);
		return 0;
	}
	if (!json_is_real(a))
		return -1;
	d = json_real_value(a);
	/* 2^63 is exact as a double; everything below it converts. */
	if (!isfinite(d) || d != trunc(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0)
		return -1;
	*out = (long long)d;
	return 0;
}

int
fkw_job_arg_double(const struct fkw_job *fj, size_t i, double *out)
{
	const json_t *a = pj_arg(fj, i);

	if (!json_is_number(a))
		return -1;
	*out = json_number_value(a);
	return 0;
}

const char *
fkw_job_custom_string(const struct fkw_job *fj, const char *key)
{
	const struct wrk_job *j = pj_job(fj);
	const json_t *v;

	if (j == NULL || key == NULL)
		return NULL;
	v = json_object_get(json_object_get(j->jb_json, "custom"), key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void
fkw_job_set_data(struct fkw_job *fj, void *data)
{
	if (fj != NULL)
		fj->fj_data = data;
}

void *
fkw_job_get_data(const struct fkw_job *fj)
{
	return fj != NULL ? fj->fj_data : NULL;
}

/* ==== The API: completion ==== */

void
fkw_job_set_error(struct fkw_job *fj, const char *errtype, const char *fmt, ...)
{
	va_list ap;

	if (fj == NULL || fj->fj_state != PJ_RUNNING)
		return;
	errtype_set(fj, errtype);
	va_start(ap, fmt);
	text_set(fj->fj_msg, sizeof(fj->fj_msg), PLUG_MSG_MAX, fmt, ap);
	va_end(ap);
	fj->fj_errset = 1;
}

int
fkw_job_ack(struct fkw_job *fj)
{
	if (fj == NULL || fj->fj_state != PJ_RUNNING) {
		log_debug("plugin: late or second completion of a job ignored");
		return -1;
	}
	wrk_plugin_job_complete(fj, 1, NULL, NULL);
	return 0;
}

int
fkw_job_fail(struct fkw_job *fj, const char *errtype, const char *fmt, ...)
{
	va_list ap;

	if (fj == NULL || fj->fj_state != PJ_RUNNING) {
		log_debug("plugin: late or second completion of a job ignored");
		return -1;
	}
	errtype_set(fj, errtype);
	va_start(ap, fmt);
	text_set(fj->fj_msg, sizeof(fj->fj_msg), PLUG_MSG_MAX, fmt, ap);
	va_end(ap);
	wrk_plugin_job_complete(fj, 0, fj->fj_errtype, fj->fj_msg);
	return 0;
}

/* ==== The API: timers and fds on the child's loop ==== */

static void
timer_release(struct fkw_timer *t)
{
	if (t->ft_prev != NULL)
		t->ft_prev->ft_next = t->ft_next;
	else
		pa.pa_timers = t->ft_next;
	if (t->ft_next != NULL)
		t->ft_next->ft_prev = t->ft_prev;
	t->ft_next = pa.pa_tfree;
	pa.pa_tfree = t;
}

static void
timer_fired(struct ev_loop *loop, struct ev_timer *ev)
{
	struct fkw_timer *t = ev->tm_arg;
	const struct fkw_plugin *prev = wrk_plugin_cur;

	FKW_UNUSED(loop);
	t->ft_firing = 1;
	wrk_plugin_cur = t->ft_plugin;
	t->ft_cb(t, t->ft_arg);
	wrk_plugin_cur = prev;
	timer_release(t);
}

struct fkw_timer *
fkw_timer_start(uint64_t ms, fkw_timer_fn *cb, void *arg)
{
	struct fkw_timer *t = pa.pa_tfree;

	if (cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (t != NULL)
		pa.pa_tfree = t->ft_next;
	else if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	ev_timer_init(&t->ft_ev, timer_fired, t);
	t->ft_cb = cb;
	t->ft_arg = arg;
	t->ft_plugin = wrk_plugin_cur;
	t->ft_firing = 0;
	t->ft_prev = NULL;
	t->ft_next = pa.pa_timers;
	if (pa.pa_timers != NULL)
		pa.pa_timers->ft_prev = t;
	pa.pa_timers = t;
	/* From now, not from this iteration's clock: a slow handler must not shorten it. */
	ev_now_update(wrk_loop());
	if (ev_timer_start(wrk_loop(), &t->ft_ev, ms) == -1) {
		timer_release(t);
		return NULL;
	}
	return t;
}

void
fkw_timer_cancel(struct fkw_timer *t)
{
	if (t == NULL || t->ft_firing)
		return;
	ev_timer_stop(wrk_loop(), &t->ft_ev);
	timer_release(t);
}

static uint32_t
watch_epoll(unsigned ev)
{
	return ((ev & FKW_EV_READ) ? EPOLLIN : 0) | ((ev & FKW_EV_WRITE) ? EPOLLOUT : 0);
}

static void
watch_ready(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct fkw_watch *w = io->io_arg;
	const struct fkw_plugin *prev = wrk_plugin_cur;
	unsigned ev = 0;

	FKW_UNUSED(loop);
	if (events & EPOLLIN)
		ev |= FKW_EV_READ;
	if (events & EPOLLOUT)
		ev |= FKW_EV_WRITE;
	/* With the watched events, so the plugin's next read or write sees the error. */
	if (events & (EPOLLERR | EPOLLHUP))
		ev |= FKW_EV_ERROR | w->fw_events;
	wrk_plugin_cur = w->fw_plugin;
	w->fw_cb(w, io->io_fd, ev, w->fw_arg);
	wrk_plugin_cur = prev;
}

struct fkw_watch *
fkw_watch_fd(int fd, unsigned events, fkw_fd_fn *cb, void *arg)
{
	struct fkw_watch *w;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	ev_io_init(&w->fw_io, fd, watch_ready, w);
	w->fw_cb = cb;
	w->fw_arg = arg;
	w->fw_plugin = wrk_plugin_cur;
	if (fkw_watch_set(w, events) == -1) {
		free(w);
		return NULL;
	}
	w->fw_next = pa.pa_watches;
	if (pa.pa_watches != NULL)
		pa.pa_watches->fw_prev = w;
	pa.pa_watches = w;
	return w;
}

/* No events means not registered at all: epoll would still report a hang-up. */
int
fkw_watch_set(struct fkw_watch *w, unsigned events)
{
	uint32_t ee = watch_epoll(events);
	int r = 0;

	if (w == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ee == 0) {
		if (w->fw_io.io_events != 0)
			r = ev_io_del(wrk_loop(), &w->fw_io);
	} else if (w->fw_io.io_events == 0) {
		r = ev_io_add(wrk_loop(), &w->fw_io, ee);
	} else {
		r = ev_io_mod(wrk_loop(), &w->fw_io, ee);
	}
	if (r == 0)
		w->fw_events = events & (FKW_EV_READ | FKW_EV_WRITE);
	return r;
}

void
fkw_unwatch_fd(struct fkw_watch *w)
{
	if (w == NULL)
		return;
	if (w->fw_io.io_events != 0)
		ev_io_del(wrk_loop(), &w->fw_io);
	if (w->fw_prev != NULL)
		w->fw_prev->fw_next = w->fw_next;
	else
		pa.pa_watches = w->fw_next;
	if (w->fw_next != NULL)
		w->fw_next->fw_prev = w->fw_prev;
	free(w);
}

/* Unload: what plugins did not cancel or unwatch themselves. */
void
wrk_plugin_api_drop(void)
{
	int nt = 0, nw = 0;

	while (pa.pa_timers != NULL) {
		struct fkw_timer *t = pa.pa_timers;

		pa.pa_timers = t->ft_next;
		ev_timer_stop(wrk_loop(), &t->ft_ev);
		free(t);
		nt++;
	}
	while (pa.pa_tfree != NULL) {
		struct fkw_timer *t = pa.pa_tfree;

		pa.pa_tfree = t->ft_next;
		free(t);
	}
	while (pa.pa_watches != NULL) {
		struct fkw_watch *w = pa.pa_watches;

		pa.pa_watches = w->fw_next;
		if (w->fw_io.io_events != 0)
			ev_io_del(wrk_loop(), &w->fw_io);
		free(w);
		nw++;
	}
	if (nt + nw > 0)
		log_debug("plugins left %d timer(s) and %d watch(es) at exit", nt, nw);
}

uint64_t
fkw_now_ms(void)
{
	return ev_now(wrk_loop());
}

void
fkw_log(int priority, const char *fmt, ...)
{
	const char *who = wrk_plugin_cur != NULL ? wrk_plugin_cur->pl_name : "?";
	char msg[1024];
	va_list ap;

	if (priority >= LOG_LVL_DEBUG && log_getlevel() < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (priority <= FKW_LOG_ERR)
		log_errx("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_WARNING)
		log_warnx("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_NOTICE)
		log_notice("plugin %s: %s", who, msg);
	else if (priority == FKW_LOG_INFO)
		log_info("plugin %s: %s", who, msg);
	else
		log_debug("plugin %s: %s", who, msg);
}
