/* SPDX-License-Identifier: MIT */
/*
 * conf_check: what the host says about values that are valid on paper. An
 * exec command or plugin must exist and be usable (else every job would
 * fail with ExecFailed, or the children exit 78), and a path the service's
 * sandbox hides gets a warning; so do cpus above the online cores, a
 * shutdown_timeout the unit's stop timeout cuts short, and connections that
 * take most of the server's budget.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

/*
 * What systemd/fkworker.service hides from the service: ProtectHome=yes
 * empties /home, /root and /run/user; PrivateTmp=yes gives it its own /tmp
 * and /var/tmp, so a file there is not the one the service would see.
 */
static const struct {
	const char	*sb_dir;
	const char	*sb_why;
} sandbox[] = {
	{ "/home", "ProtectHome=yes" },
	{ "/root", "ProtectHome=yes" },
	{ "/run/user", "ProtectHome=yes" },
	{ "/tmp", "PrivateTmp=yes" },
	{ "/var/tmp", "PrivateTmp=yes" },
};

static int
under(const char *file, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(file, dir, n) == 0 && (file[n] == '/' || file[n] == '\0');
}

/* "FILE:LINE: handlers[i].exec" of handler i, into buf. */
static const char *
handler_where(const struct fkw_conf *cf, int i, char *buf, size_t len)
{
	const struct conf_handler *h = &cf->cf_handlers[i];

	snprintf(buf, len, "%s:%d: handlers[%d].%s", h->h_file != NULL ? h->h_file :
	    cf->cf_file, h->h_line, i, h->h_kind == CONF_H_EXEC ? "exec" : "plugin");
	return buf;
}

static void
sandbox_warn(struct conf_ctx *cx, const char *where, const char *file)
{
	for (size_t i = 0; i < FKW_NELEM(sandbox); i++)
		if (under(file, sandbox[i].sb_dir)) {
			conf_warnf(cx, "%s: %s is under %s, which fkworker.service hides (%s): "
			    "run by systemd, this handler would fail every job; install it "
			    "under /usr/local or /opt", where, file, sandbox[i].sb_dir,
			    sandbox[i].sb_why);
			return;
		}
}

/* An exec command (want_exec) or a plugin: a file this user can run or read. */
static int
check_path(struct conf_ctx *cx, const char *where, const char *file, int want_exec)
{
	const char *what = want_exec ? "the command" : "the plugin";
	struct stat st;

	if (stat(file, &st) == -1) {
		conf_errf(cx, "%s: %s %s: %s", where, what, file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_errf(cx, "%s: %s %s is not a regular file", where, what, file);
		return -1;
	}
	if (access(file, want_exec ? X_OK : R_OK) == -1) {
		conf_errf(cx, "%s: %s %s is not %s: %s", where, what, file,
		    want_exec ? "executable" : "readable", strerror(errno));
		return -1;
	}
	sandbox_warn(cx, where, file);
	return 0;
}

int
conf_check_host(const struct fkw_conf *cf, struct conf_errors *errs)
{
	struct conf_ctx cx = { .cx_errs = errs, .cx_name = cf->cf_file };
	char where[1024];

	for (int i = 0; i < cf->cf_nhandlers; i++) {
		const struct conf_handler *h = &cf->cf_handlers[i];

		if (h->h_kind == CONF_H_EXEC)
			check_path(&cx, handler_where(cf, i, where, sizeof(where)), h->h_argv[0], 1);
		else if (h->h_kind == CONF_H_PLUGIN)
			check_path(&cx, handler_where(cf, i, where, sizeof(where)), h->h_plugin, 0);
	}
	return cx.cx_nerr;
}

static void
risky_cpus(struct conf_ctx *cx)
{
	const struct fkw_conf *cf = cx->cx_cf;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	char where[1024];

	if (cf->cf_cpus_auto || online < 1 || cf->cf_cpus <= online)
		return;
	conf_warnf(cx, "%s: %s (%d) is more than the %ld online cores: the children take "
	    "turns on them (\"auto\" = one per core)",
	    conf_key_where(cx, CK_CPUS, where, sizeof(where)), conf_schema[CK_CPUS].k_path,
	    cf->cf_cpus, online);
}

static void
risky_shutdown(struct conf_ctx *cx)
{
	const struct fkw_conf *cf = cx->cx_cf;
	char where[1024];

	if (cf->cf_shutdown_timeout <= CONF_UNIT_STOP_TIMEOUT - CONF_UNIT_STOP_MARGIN)
		return;
	conf_warnf(cx, "%s: %s (%d s) leaves less than %d s of fkworker.service's "
	    "TimeoutStopSec (%d s): systemd kills what still runs then; raise "
	    "TimeoutStopSec in a drop-in (systemctl edit fkworker) or lower it",
	    conf_key_where(cx, CK_SHUTDOWN_TIMEOUT, where, sizeof(where)),
	    conf_schema[CK_SHUTDOWN_TIMEOUT].k_path, cf->cf_shutdown_timeout,
	    CONF_UNIT_STOP_MARGIN, CONF_UNIT_STOP_TIMEOUT);
}

/*
 * The budget is the server's, shared by every host and producer: one host
 * taking more than half of it leaves little for the others (the checks in
 * conf.c already refuse more than all of it).
 */
static void
risky_connections(struct conf_ctx *cx)
{
	const struct fkw_conf *cf = cx->cx_cf;
	int mine = cf->cf_connections + 1;
	char where[1024];

	if (mine * 2 <= cf->cf_conn_budget || mine > cf->cf_conn_budget)
		return;
	conf_warnf(cx, "%s: this host opens %d connections (%s %d and the heartbeat), more "
	    "than half of %s (%d): other hosts and producers share the rest, and the "
	    "server refuses connections beyond it",
	    conf_key_where(cx, CK_CONNECTIONS, where, sizeof(where)), mine,
	    conf_schema[CK_CONNECTIONS].k_path, cf->cf_connections,
	    conf_schema[CK_CONN_BUDGET].k_path, cf->cf_conn_budget);
}

void
conf_check_risky(struct conf_ctx *cx)
{
	const struct conf_origin *o = cx->cx_orig;

	if (!o[CK_CPUS].o_bad)
		risky_cpus(cx);
	if (!o[CK_SHUTDOWN_TIMEOUT].o_bad)
		risky_shutdown(cx);
	if (!o[CK_CONNECTIONS].o_bad && !o[CK_CONN_BUDGET].o_bad && !o[CK_CPUS].o_bad &&
	    !o[CK_CONCURRENCY].o_bad && cx->cx_nerr == 0)
		risky_connections(cx);
}
