/* SPDX-License-Identifier: MIT */
/*
 * conf_schema: the table of every configuration key (type, bounds, default,
 * documentation) and the setters of the scalar keys. Row order = the order of
 * struct fkw_conf = the order of conf/fkworker.conf and of conf_dump.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"
#include "log.h"
#include "net.h"
#include "util.h"

#define KEY(id, path, type, member, min, max, def, doc) \
	[id] = { path, type, offsetof(struct fkw_conf, member), min, max, def, doc }

const struct conf_key conf_schema[CK_NKEYS] = {
	KEY(CK_URL, "faktory.url", CONF_T_STR, cf_url, 1, 1023,
	    "\"tcp://127.0.0.1:7419\"",
	    "Faktory server: tcp://[:password@]host[:port] or tcp+tls://...; env FAKTORY_URL, FAKTORY_SERVER_IP"),
	KEY(CK_PASSWORD, "faktory.password", CONF_T_SECRET, cf_password, 0, 255, "\"\"",
	    "server password; env FAKTORY_PASSWORD and password_file take precedence, the URL's comes last"),
	KEY(CK_PASSWORD_FILE, "faktory.password_file", CONF_T_STR, cf_password_file, 0, 4095, "\"\"",
	    "file whose first line is the password (keeps it out of this file)"),
	KEY(CK_TLS_CA_FILE, "faktory.tls.ca_file", CONF_T_STR, cf_tls_ca_file, 0, 4095, "\"\"",
	    "PEM CA bundle for tcp+tls:// servers; empty = the system store"),
	KEY(CK_TLS_VERIFY, "faktory.tls.verify", CONF_T_BOOL, cf_tls_verify, 0, 1, "true",
	    "verify the server certificate and host name"),
	KEY(CK_CONN_BUDGET, "faktory.connection_budget", CONF_T_INT, cf_conn_budget, 2, 1000000,
	    "2000", "connections the server accepts from every host and client together (the "
	    "open-source server's cap is 2000); this host stays within it"),
	KEY(CK_CONCURRENCY, "worker.concurrency", CONF_T_CONC, cf_concurrency, 1, 100000, "2000",
	    "jobs in flight over all children, or \"auto\" (steered between concurrency_min and "
	    "concurrency_max); changes live on reload; env WORKER_CONCURRENCY"),
	KEY(CK_CONCURRENCY_MIN, "worker.concurrency_min", CONF_T_INT, cf_concurrency_min,
	    0, 100000, "0", "auto: the fewest slots on this host; 0 = 50 per child"),
	KEY(CK_CONCURRENCY_MAX, "worker.concurrency_max", CONF_T_INT, cf_concurrency_max,
	    0, 100000, "0", "the most slots concurrency may reach live (auto, or a reload); each "
	    "child's slot table is sized for it at start; 0 = 1000 per child"),
	KEY(CK_CPU_TARGET, "worker.cpu_target", CONF_T_INT, cf_cpu_target, 10, 100, "90",
	    "auto: add slots only while the host's CPU use (percent) is below this"),
	KEY(CK_AUTO_INTERVAL, "worker.auto_interval_ms", CONF_T_INT, cf_auto_interval,
	    100, 60000, "2000", "auto: milliseconds between the controller's decisions"),
	KEY(CK_CPUS, "worker.cpus", CONF_T_CPUS, cf_cpus, 1, 1024, "\"auto\"",
	    "child processes: a number or \"auto\" (online cores); env WORKER_CPUS"),
	KEY(CK_QUEUES, "worker.queues", CONF_T_QUEUES, cf_queues, 1, 64,
	    "[ \"critical\", \"default\" ]",
	    "names = strict order; ( { name = \"x\"; weight = 3; }, ... ) = weighted (1..100)"),
	KEY(CK_LABELS, "worker.labels", CONF_T_LABELS, cf_labels, 0, 32, "[ ]",
	    "labels sent in HELLO, up to 32"),
	KEY(CK_SHUTDOWN_TIMEOUT, "worker.shutdown_timeout", CONF_T_INT, cf_shutdown_timeout,
	    0, 3600, "25", "seconds in-flight jobs get to finish on stop"),
	KEY(CK_HEARTBEAT, "worker.heartbeat", CONF_T_INT, cf_heartbeat, 5, 60, "15",
	    "seconds between BEATs"),
	KEY(CK_CPU_AFFINITY, "worker.cpu_affinity", CONF_T_BOOL, cf_cpu_affinity, 0, 1, "true",
	    "pin child N to CPU N"),
	KEY(CK_PIPELINING, "worker.pipelining", CONF_T_BOOL, cf_pipelining, 0, 1, "true",
	    "send ACK and the next FETCH in one write"),
	KEY(CK_COALESCE, "worker.coalesce_us", CONF_T_INT, cf_coalesce_us, 0, 5000, "1000",
	    "microseconds a child may nap to gather replies that trickle in one at a time, "
	    "only while jobs wait 10 naps long or more in the server's queue and at most "
	    "1/16 of the FETCH round trip; 0 = off"),
	KEY(CK_CONNECTIONS, "worker.connections", CONF_T_CONNS, cf_connections, 1, 100000,
	    "\"auto\"", "Faktory connections of all children together, shared evenly (at most "
	    "one per slot); \"auto\" = 32 per child, at most a quarter of connection_budget"),
	KEY(CK_MAX_JOBS, "worker.max_jobs_per_child", CONF_T_INT64, cf_max_jobs_per_child,
	    0, 1000000000000LL, "0",
	    "recycle a child after this many jobs; 0 = never (above 2147483647 write e.g. 5000000000L)"),
	KEY(CK_MEMORY_LIMIT, "worker.memory_limit", CONF_T_SIZE, cf_memory_limit, 32LL << 20,
	    LLONG_MAX, "\"0\"", "recycle a child whose RSS exceeds this: a size with its unit, "
	    "\"512M\" or \"2G\" (K, M, G, T; 1024-based; at least 32M); \"0\" = no limit"),
	KEY(CK_CONNECT_TIMEOUT, "worker.connect_timeout", CONF_T_INT, cf_connect_timeout,
	    100, 60000, "5000", "milliseconds for connect and handshake"),
	KEY(CK_RECONNECT_MAX, "worker.reconnect_max", CONF_T_INT, cf_reconnect_max,
	    100, 300000, "30000", "milliseconds, the cap of the reconnect backoff"),
	KEY(CK_HANDLERS, "handlers", CONF_T_HANDLERS, cf_handlers, 1, INT_MAX,
	    "( { jobtype = \"noop\"; builtin = \"noop\"; },"
	    " { jobtype = \"sleep\"; builtin = \"sleep\"; },"
	    " { jobtype = \"fail\"; builtin = \"fail\"; } )",
	    "jobtype -> one of builtin (noop|sleep|fail), exec [argv] or plugin \"x.so\"; \"*\" = any other"),
	KEY(CK_CTL_SOCKET, "control.socket", CONF_T_STR, cf_ctl_socket, 1, 107,
	    "\"" CONF_DEFAULT_SOCKET "\"", "fkworkerctl's socket; changing it needs a restart"),
	KEY(CK_CTL_MODE, "control.mode", CONF_T_MODE, cf_ctl_mode, 0, 0777, "0660",
	    "socket file mode, read as octal like chmod (0660 or \"0660\")"),
	KEY(CK_STATS_INTERVAL, "stats.interval_ms", CONF_T_INT, cf_stats_interval, 10, 60000, "250",
	    "milliseconds between statistics flushes of each child"),
	KEY(CK_STATS_LISTEN, "stats.listen", CONF_T_LISTEN, cf_stats_listen, 0, 63, "\"\"",
	    "serve Prometheus /metrics on this \"IP:PORT\" (e.g. \"127.0.0.1:9449\"); "
	    "\"\" = off; changing it needs a restart"),
	KEY(CK_LOG_LEVEL, "log.level", CONF_T_LOGLEVEL, cf_log_level, 0, 0, "\"info\"",
	    "error, warning, notice, info or debug"),
};

static void *
field(struct conf_ctx *cx, int k)
{
	return (char *)cx->cx_cf + conf_schema[k].k_off;
}

int
conf_schema_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
conf_schema_integer(struct conf_ctx *cx, const config_setting_t *s, const char *path,
    long long *out)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		conf_err_at(cx, s, path, "must be an integer");
		return -1;
	}
	*out = config_setting_get_int64(s);
	return 0;
}

int
conf_schema_auto_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > conf_schema[CK_CPUS].k_max ? (int)conf_schema[CK_CPUS].k_max : (int)n;
}

static int
set_str(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[k];
	char **dst = field(cx, k), *v;
	const char *str;
	size_t n;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err_at(cx, s, ck->k_path, "must be a string");
		return -1;
	}
	str = config_setting_get_string(s);
	n = strlen(str);
	if ((long long)n < ck->k_min) {
		conf_err_at(cx, s, ck->k_path, "must not be empty");
		return -1;
	}
	if ((long long)n > ck->k_max) {
		conf_err_at(cx, s, ck->k_path, "must be at most %lld bytes", ck->k_max);
		return -1;
	}
	if (!conf_schema_printable(str)) {
		conf_err_at(cx, s, ck->k_path, "must not contain control characters");
		return -1;
	}
	if ((v = strdup(str)) == NULL) {
		conf_err_at(cx, s, ck->k_path, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = v;
	return 0;
}

static int
set_bool(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err_at(cx, s, conf_schema[k].k_path, "must be true or false");
		return -1;
	}
	*(int *)field(cx, k) = config_setting_get_bool(s);
	return 0;
}

static int
set_int(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[k];
	long long v;

	if (conf_schema_integer(cx, s, ck->k_path, &v) == -1)
		return -1;
	if (v < ck->k_min || v > ck->k_max) {
		conf_err_at(cx, s, ck->k_path, "must be %lld..%lld", ck->k_min, ck->k_max);
		return -1;
	}
	if (ck->k_type == CONF_T_INT64)
		*(long long *)field(cx, k) = v;
	else
		*(int *)field(cx, k) = (int)v;
	return 0;
}

/* A size must say its unit: "512" could mean bytes, KiB or MiB. "0" needs none. */
static int
has_unit(const char *v)
{
	size_t n = strlen(v);

	if (n > 1 && (v[n - 1] == 'B' || v[n - 1] == 'b'))
		n--;
	return n > 1 && strchr("KkMmGgTt", v[n - 1]) != NULL;
}

static int
set_size(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[k];
	const char *e, *str;
	uint64_t v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		if (parse_size(str, (uint64_t)ck->k_max, &v, &e) == -1) {
			if (strcmp(e, "too large") == 0)
				conf_err_at(cx, s, ck->k_path, "\"%s\" is too large", str);
			else
				conf_err_at(cx, s, ck->k_path, "\"%s\" is not a size: write a whole "
				    "number and a unit, such as \"512M\" or \"1536M\" (K, M, G or "
				    "T; 1024-based)", str);
			return -1;
		}
		if (v != 0 && !has_unit(str)) {
			conf_err_at(cx, s, ck->k_path, "\"%s\" has no unit: write e.g. \"%sM\" "
			    "(K, M, G or T; 1024-based)", str, str);
			return -1;
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (config_setting_get_int64(s) != 0) {
			conf_err_at(cx, s, ck->k_path, "%lld has no unit: write a string such "
			    "as \"%lldM\" (K, M, G or T; 1024-based)",
			    config_setting_get_int64(s), config_setting_get_int64(s));
			return -1;
		}
		v = 0;
		break;
	default:
		conf_err_at(cx, s, ck->k_path, "must be a size string such as \"512M\"");
		return -1;
	}
	if (v != 0 && v < (uint64_t)ck->k_min) {
		conf_err_at(cx, s, ck->k_path, "must be 0 (no limit) or at least %lluM: a "
		    "child's own memory is near that", (unsigned long long)ck->k_min >> 20);
		return -1;
	}
	*(uint64_t *)field(cx, k) = v;
	return 0;
}

/*
 * libconfig has no octal literals: "mode = 0660;" arrives as decimal 660.
 * Reading the decimal digits as octal gives what the user meant, as chmod
 * does; a hex literal is taken as is.
 */
static int
mode_value(const config_setting_t *s, long long *out)
{
	long long v, octal = 0, mul = 1;
	const char *p;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		p = config_setting_get_string(s);
		if (*p == '\0' || strlen(p) > 12 || strspn(p, "01234567") != strlen(p))
			return -1;
		*out = strtoll(p, NULL, 8);
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (config_setting_get_format(s) == CONFIG_FORMAT_HEX || v < 0) {
			*out = v;
			return 0;
		}
		for (; v > 0; v /= 10, mul *= 8) {
			if (v % 10 > 7)
				return -1;
			octal += (v % 10) * mul;
		}
		*out = octal;
		return 0;
	default:
		return -1;
	}
}

static int
set_mode(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	const struct conf_key *ck = &conf_schema[k];
	long long v;

	if (mode_value(s, &v) == -1) {
		conf_err_at(cx, s, ck->k_path, "must be an octal file mode such as 0660");
		return -1;
	}
	if (v < ck->k_min || v > ck->k_max) {
		conf_err_at(cx, s, ck->k_path, "must be %#llo..%#llo", ck->k_min, ck->k_max);
		return -1;
	}
	*(int *)field(cx, k) = (int)v;
	return 0;
}

/*
 * An integer within the key's bounds, or "auto": *is_auto says which, and
 * "auto" stores auto_value (cpus: the online cores; connections: 0, resolved
 * in conf_validate once concurrency, cpus and the budget are known).
 */
static int
set_int_or_auto(struct conf_ctx *cx, int k, const config_setting_t *s, int *is_auto,
    int auto_value)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_STRING && strcmp(config_setting_get_string(s), "auto") == 0) {
		*(int *)field(cx, k) = auto_value;
		*is_auto = 1;
		return 0;
	}
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		conf_err_at(cx, s, conf_schema[k].k_path, "must be an integer or \"auto\"");
		return -1;
	}
	if (set_int(cx, k, s) == -1)
		return -1;
	*is_auto = 0;
	return 0;
}

/* A string as set_str that is "" (off) or an IP:PORT. */
static int
set_listen(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	char host[64], port[8];
	const char *why, *v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    *(v = config_setting_get_string(s)) != '\0' && conf_schema_printable(v) &&
	    net_split_listen(v, host, sizeof(host), port, sizeof(port), &why) == -1) {
		conf_err_at(cx, s, conf_schema[k].k_path, "\"%s\": %s", v, why);
		return -1;
	}
	return set_str(cx, k, s);
}

static int
set_loglevel(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	int lvl = -1;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		lvl = log_level_parse(config_setting_get_string(s));
	if (lvl == -1) {
		conf_err_at(cx, s, conf_schema[k].k_path,
		    "must be one of \"error\", \"warning\", \"notice\", \"info\", \"debug\"");
		return -1;
	}
	*(int *)field(cx, k) = lvl;
	return 0;
}

int
conf_schema_set(struct conf_ctx *cx, int k, const config_setting_t *s)
{
	switch (conf_schema[k].k_type) {
	case CONF_T_STR:
	case CONF_T_SECRET:
		return set_str(cx, k, s);
	case CONF_T_BOOL:
		return set_bool(cx, k, s);
	case CONF_T_INT:
	case CONF_T_INT64:
		return set_int(cx, k, s);
	case CONF_T_SIZE:
		return set_size(cx, k, s);
	case CONF_T_MODE:
		return set_mode(cx, k, s);
	case CONF_T_CPUS:
		return set_int_or_auto(cx, k, s, &cx->cx_cf->cf_cpus_auto,
		    conf_schema_auto_cpus());
	case CONF_T_CONNS:
		return set_int_or_auto(cx, k, s, &cx->cx_cf->cf_connections_auto, 0);
	case CONF_T_CONC:
		return set_int_or_auto(cx, k, s, &cx->cx_cf->cf_concurrency_auto, 0);
	case CONF_T_LOGLEVEL:
		return set_loglevel(cx, k, s);
	case CONF_T_LISTEN:
		return set_listen(cx, k, s);
	case CONF_T_QUEUES:
		return conf_list_queues(cx, s);
	case CONF_T_LABELS:
		return conf_list_labels(cx, s);
	case CONF_T_HANDLERS:
		return conf_list_handlers(cx, s);
	}
	return -1;
}
