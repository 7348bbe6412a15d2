/* SPDX-License-Identifier: MIT */
/*
 * conf_env: the environment overrides (FAKTORY_URL, FAKTORY_SERVER_IP,
 * FAKTORY_PASSWORD, WORKER_CONCURRENCY, WORKER_CPUS), then the URL parsed
 * and the password chosen by precedence: FAKTORY_PASSWORD, password_file,
 * password, the URL's userinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "util.h"

/* Set and non-empty: an empty variable counts as unset, as in shells' ${X:-default}. */
static const char *
env(const struct conf_ctx *cx, const char *name)
{
	const char *v;

	if (!cx->cx_use_env || (v = getenv(name)) == NULL || *v == '\0')
		return NULL;
	return v;
}

/* Records that var set key k, for "fkworker -nn". */
static void
env_mark(struct conf_ctx *cx, int k, const char *var)
{
	struct fkw_conf *cf = cx->cx_cf;

	if (cf->cf_nenv < CONF_ENV_MAX)
		cf->cf_env[cf->cf_nenv++] = (struct conf_envset){ .e_key = k, .e_var = var };
}

/* "not a number" and "out of range" are different mistakes: say which. */
static void
env_bad(struct conf_ctx *cx, int k, const char *var, const char *v, const char *why,
    const char *range)
{
	int nan = strcmp(why, "not a number") == 0;

	conf_errf(cx, "environment: %s: \"%.64s\" %s (must be %lld..%lld%s)", var, v,
	    nan ? "is not a number" : "is out of range", conf_schema[k].k_min,
	    conf_schema[k].k_max, range);
	cx->cx_orig[k].o_bad = 1;
	cx->cx_orig[k].o_env = var;
}

static void
env_url(struct conf_ctx *cx)
{
	const struct conf_key *ck = &conf_schema[CK_URL];
	const char *v = env(cx, "FAKTORY_URL");
	char *s;

	if (v == NULL)
		return;
	cx->cx_orig[CK_URL].o_env = "FAKTORY_URL";
	if ((long long)strlen(v) > ck->k_max || !conf_schema_printable(v)) {
		conf_errf(cx, "environment: FAKTORY_URL: must be a URL of at most %lld printable bytes",
		    ck->k_max);
		cx->cx_orig[CK_URL].o_bad = 1;
	} else if ((s = strdup(v)) == NULL)
		conf_errf(cx, "environment: FAKTORY_URL: out of memory");
	else {
		free(cx->cx_cf->cf_url);
		cx->cx_cf->cf_url = s;
		env_mark(cx, CK_URL, "FAKTORY_URL");
	}
}

static void
env_concurrency(struct conf_ctx *cx)
{
	const struct conf_key *ck = &conf_schema[CK_CONCURRENCY];
	const char *v = env(cx, "WORKER_CONCURRENCY"), *e;
	long long n;

	if (v == NULL)
		return;
	if (strcmp(v, "auto") == 0) {
		cx->cx_cf->cf_concurrency_auto = 1;
		cx->cx_orig[CK_CONCURRENCY] = (struct conf_origin){ .o_env = "WORKER_CONCURRENCY" };
		env_mark(cx, CK_CONCURRENCY, "WORKER_CONCURRENCY");
		return;
	}
	if (parse_ll(v, ck->k_min, ck->k_max, &n, &e) == -1) {
		env_bad(cx, CK_CONCURRENCY, "WORKER_CONCURRENCY", v, e, " or \"auto\"");
		return;
	}
	cx->cx_cf->cf_concurrency = (int)n;
	cx->cx_cf->cf_concurrency_auto = 0;
	cx->cx_orig[CK_CONCURRENCY] = (struct conf_origin){ .o_env = "WORKER_CONCURRENCY" };
	env_mark(cx, CK_CONCURRENCY, "WORKER_CONCURRENCY");
}

static void
env_cpus(struct conf_ctx *cx)
{
	const struct conf_key *ck = &conf_schema[CK_CPUS];
	const char *v = env(cx, "WORKER_CPUS"), *e;
	struct fkw_conf *cf = cx->cx_cf;
	long long n;

	if (v == NULL)
		return;
	if (strcmp(v, "auto") == 0) {
		cf->cf_cpus = conf_schema_auto_cpus();
		cf->cf_cpus_auto = 1;
	} else if (parse_ll(v, ck->k_min, ck->k_max, &n, &e) == 0) {
		cf->cf_cpus = (int)n;
		cf->cf_cpus_auto = 0;
	} else {
		env_bad(cx, CK_CPUS, "WORKER_CPUS", v, e, " or \"auto\"");
		return;
	}
	cx->cx_orig[CK_CPUS] = (struct conf_origin){ .o_env = "WORKER_CPUS" };
	env_mark(cx, CK_CPUS, "WORKER_CPUS");
}

void
conf_env_apply(struct conf_ctx *cx)
{
	env_url(cx);
	env_concurrency(cx);
	env_cpus(cx);
}

void
conf_env_url_span(const char *url, size_t *user, size_t *at, size_t *host, size_t *hend)
{
	size_t a, end, h, n;
	const char *rb;

	n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	a = strncmp(url + n, "://", 3) == 0 ? n + 3 : 0;
	end = a + strcspn(url + a, "/?#");
	h = a;
	for (size_t i = a; i < end; i++)
		if (url[i] == '@')
			h = i + 1;
	*user = a;
	*at = h > a ? h - 1 : a;
	*host = h;
	if (url[h] == '[' && (rb = memchr(url + h, ']', end - h)) != NULL)
		*hend = (size_t)(rb - url) + 1;
	else
		*hend = h + strcspn(url + h, ":/?#");
}

/* cf_url with its host replaced by ip (bracketed when it is IPv6), or NULL on ENOMEM. */
static char *
url_with_host(const char *url, const char *ip)
{
	size_t user, at, host, hend;
	int v6 = strchr(ip, ':') != NULL && ip[0] != '[';
	char *out;

	conf_env_url_span(url, &user, &at, &host, &hend);
	if (asprintf(&out, "%.*s%s%s%s%s", (int)host, url, v6 ? "[" : "", ip, v6 ? "]" : "",
	    url + hend) == -1)
		return NULL;
	return out;
}

/*
 * "10.0.0.5:7419", "host:7419" or "[fd00::5]:7419": an address with a port.
 * A bare IPv6 address has two colons or more and no brackets.
 */
static int
has_port(const char *ip)
{
	const char *c = strchr(ip, ':');

	if (ip[0] == '[')
		return strstr(ip, "]:") != NULL;
	return c != NULL && strchr(c + 1, ':') == NULL;
}

/* FAKTORY_SERVER_IP keeps the scheme, userinfo and port of the URL. */
static void
server_ip(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	const char *ip = env(cx, "FAKTORY_SERVER_IP");
	char err[256], *url;

	if (ip == NULL)
		return;
	if (strpbrk(ip, "/@?# ") != NULL || !conf_schema_printable(ip) || strlen(ip) > 255) {
		conf_errf(cx, "environment: FAKTORY_SERVER_IP: must be a host name or IP address");
		return;
	}
	if (has_port(ip)) {
		conf_errf(cx, "environment: FAKTORY_SERVER_IP: \"%s\" has a port: give the "
		    "address alone (the port comes from faktory.url or FAKTORY_URL, e.g. "
		    "FAKTORY_URL=tcp://%s)", ip, ip);
		return;
	}
	if ((url = url_with_host(cf->cf_url, ip)) == NULL) {
		conf_errf(cx, "environment: FAKTORY_SERVER_IP: out of memory");
		return;
	}
	if (fkp_url_parse(url, &cf->cf_purl, err, sizeof(err)) == -1) {
		conf_errf(cx, "environment: FAKTORY_SERVER_IP: %s", err);
		free(url);
		return;
	}
	free(cf->cf_url);
	cf->cf_url = url;
	env_mark(cx, CK_URL, "FAKTORY_SERVER_IP");
}

/*
 * The first line of faktory.password_file. Read with a bounded buffer: a
 * file without newlines (or /dev/zero) must not grow memory without end.
 */
static char *
password_read(struct conf_ctx *cx, const char *path)
{
	char line[sizeof(((struct fkp_url *)0)->u_password) + 2], *p;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "re")) == NULL) {
		conf_err_key(cx, CK_PASSWORD_FILE, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	p = fgets(line, sizeof(line), fp);
	if (p == NULL && ferror(fp)) {
		conf_err_key(cx, CK_PASSWORD_FILE, "cannot read %s: %s", path, strerror(errno));
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	n = p != NULL ? strcspn(line, "\r\n") : 0;
	if (n > sizeof(line) - 3) {
		conf_err_key(cx, CK_PASSWORD_FILE, "%s: the password is longer than %zu bytes", path,
		    sizeof(line) - 3);
		return NULL;
	}
	if (n == 0) {
		conf_err_key(cx, CK_PASSWORD_FILE, "%s: the first line is empty", path);
		return NULL;
	}
	line[n] = '\0';
	if ((p = strdup(line)) == NULL)
		conf_err_key(cx, CK_PASSWORD_FILE, "out of memory");
	return p;
}

static void
password_resolve(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	const char *pw, *envpw = env(cx, "FAKTORY_PASSWORD");
	char *filepw = NULL, *s;

	if (cf->cf_password_file[0] != '\0' &&
	    (filepw = password_read(cx, cf->cf_password_file)) == NULL)
		cx->cx_orig[CK_PASSWORD_FILE].o_bad = 1;
	if (envpw != NULL) {
		pw = envpw;
		env_mark(cx, CK_PASSWORD, "FAKTORY_PASSWORD");
	}
	else if (filepw != NULL)
		pw = filepw;
	else if (cf->cf_password[0] != '\0')
		pw = cf->cf_password;
	else
		pw = cf->cf_purl.u_password;
	if (strlen(pw) >= sizeof(cf->cf_purl.u_password)) {
		conf_errf(cx, "environment: FAKTORY_PASSWORD: must be at most %zu bytes",
		    sizeof(cf->cf_purl.u_password) - 1);
	} else if ((s = strdup(pw)) == NULL) {
		conf_errf(cx, "%s: out of memory", cx->cx_name);
	} else {
		/* The precedence is settled: both places now hold the winner. */
		memcpy(cf->cf_purl.u_password, s, strlen(s) + 1);
		free(cf->cf_password);
		cf->cf_password = s;
	}
	free(filepw);
}

void
conf_env_resolve(struct conf_ctx *cx)
{
	struct fkw_conf *cf = cx->cx_cf;
	char err[256];

	if (fkp_url_parse(cf->cf_url, &cf->cf_purl, err, sizeof(err)) == -1) {
		conf_err_key(cx, CK_URL, "%s", err);
		cx->cx_orig[CK_URL].o_bad = 1;
		memset(&cf->cf_purl, 0, sizeof(cf->cf_purl));
	} else
		server_ip(cx);
	password_resolve(cx);
}
