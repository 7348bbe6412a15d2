/* SPDX-License-Identifier: MIT */
/*
 * conf internals shared by conf.c (loading), conf_schema.c (the key table
 * and scalar keys), conf_list.c (queues, labels, handlers), conf_env.c
 * (environment, URL and password) and conf_dump.c. Not for other modules.
 */
#ifndef FKW_CONF_INT_H
#define FKW_CONF_INT_H

#include <libconfig.h>
#include <stddef.h>

#include "conf.h"

/* Index of each row of conf_schema[]: table order = struct order = conf/fkworker.conf order. */
enum conf_key_id {
	CK_URL,
	CK_PASSWORD,
	CK_PASSWORD_FILE,
	CK_TLS_CA_FILE,
	CK_TLS_VERIFY,
	CK_CONN_BUDGET,
	CK_CONCURRENCY,
	CK_CONCURRENCY_MIN,
	CK_CONCURRENCY_MAX,
	CK_CPU_TARGET,
	CK_AUTO_INTERVAL,
	CK_CPUS,
	CK_QUEUES,
	CK_LABELS,
	CK_SHUTDOWN_TIMEOUT,
	CK_HEARTBEAT,
	CK_CPU_AFFINITY,
	CK_PIPELINING,
	CK_COALESCE,
	CK_CONNECTIONS,
	CK_MAX_JOBS,
	CK_MEMORY_LIMIT,
	CK_CONNECT_TIMEOUT,
	CK_RECONNECT_MAX,
	CK_HANDLERS,
	CK_CTL_SOCKET,
	CK_CTL_MODE,
	CK_STATS_INTERVAL,
	CK_STATS_LISTEN,
	CK_LOG_LEVEL,
	CK_NKEYS
};

enum conf_type {
	CONF_T_STR,		/* char *; k_min..k_max bound the length */
	CONF_T_SECRET,		/* a CONF_T_STR that conf_dump masks */
	CONF_T_BOOL,		/* int */
	CONF_T_INT,		/* int in k_min..k_max */
	CONF_T_INT64,		/* long long in k_min..k_max */
	CONF_T_SIZE,		/* uint64_t: "512M" or an integer of bytes */
	CONF_T_MODE,		/* int file mode: digits read as octal, like chmod */
	CONF_T_CPUS,		/* int 1..k_max or "auto" (sets cf_cpus_auto) */
	CONF_T_CONNS,		/* int 1..k_max or "auto" (sets cf_connections_auto) */
	CONF_T_CONC,		/* int 1..k_max or "auto" (sets cf_concurrency_auto) */
	CONF_T_LOGLEVEL,	/* int LOG_LVL_* from its name */
	CONF_T_LISTEN,		/* char *: "" (off) or "IP:PORT", "[IPv6]:PORT" */
	CONF_T_QUEUES,		/* cf_queues, cf_nqueues, cf_weighted */
	CONF_T_LABELS,		/* cf_labels, cf_nlabels */
	CONF_T_HANDLERS,	/* cf_handlers, cf_nhandlers */
};

struct conf_key {
	const char	*k_path;	/* "worker.concurrency"; groups joined by '.' */
	enum conf_type	 k_type;
	size_t		 k_off;		/* offsetof(struct fkw_conf, ...) */
	long long	 k_min;
	long long	 k_max;
	const char	*k_default;	/* the default as libconfig value text */
	const char	*k_doc;		/* one line for conf/fkworker.conf and conf_dump */
};

extern const struct conf_key conf_schema[CK_NKEYS];

/* Limits that are not a single key's bounds. */
#define CONF_MAX_WEIGHT		100
#define CONF_MAX_HTIMEOUT	86400
#define CONF_EXEC_TIMEOUT	1800	/* default timeout of exec and plugin handlers */

/* Where each key's value came from, for messages that name it. */
struct conf_origin {
	const char	*o_file;	/* NULL: the built-in default */
	int		 o_line;
	const char	*o_env;		/* the environment variable that replaced it */
	int		 o_bad;		/* its value was rejected: skip checks using it */
};

/* One load in progress. */
struct conf_ctx {
	struct fkw_conf		*cx_cf;
	struct conf_errors	*cx_errs;	/* may be NULL: errors only counted */
	const char		*cx_name;	/* stands for the file when libconfig has none */
	const char		*cx_dir;	/* of the file: libconfig's include directory */
	char			**cx_paths;	/* included files' names joined to cx_dir */
	int			 cx_npaths;
	int			 cx_nerr;
	int			 cx_use_env;
	struct conf_origin	 cx_orig[CK_NKEYS];
};

/* conf.c: error collection. */
void	conf_errf(struct conf_ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A warning: the value is valid but risky; same forms as errors. */
void	conf_warnf(struct conf_ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "FILE:LINE", "environment: VAR" or, for a default, "FILE": where key k was set. */
const char *conf_key_where(const struct conf_ctx *, int k, char *buf, size_t len);
/* "FILE:LINE: path: message" at a setting. */
void	conf_err_at(struct conf_ctx *, const config_setting_t *, const char *path,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "FILE:LINE: key: message" or "environment: VAR: message" by where key k came from. */
void	conf_err_key(struct conf_ctx *, int k, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The file a setting is in, an included one named by its path from our cwd. */
const char *conf_setting_file(struct conf_ctx *, const config_setting_t *);
void	conf_queues_free(struct conf_queue *, int n);
void	conf_handlers_free(struct conf_handler *, int n);
void	conf_strv_free(char **);

/* conf_schema.c: sets key k from s; 0, or -1 with errors added and the field unchanged. */
int	conf_schema_set(struct conf_ctx *, int k, const config_setting_t *s);
/* Integer value of s (int or int64), or -1 with "must be an integer" reported at path. */
int	conf_schema_integer(struct conf_ctx *, const config_setting_t *s, const char *path,
	    long long *out);
/* A string with no control characters (they would break messages and the protocol). */
int	conf_schema_printable(const char *);
/* "auto" for worker.cpus: the online cores, within the key's bounds. */
int	conf_schema_auto_cpus(void);

/* conf_dump.c: key k's value as conf_dump writes it (secrets masked, lists may span lines). */
void	conf_dump_value(const struct fkw_conf *, int k, FILE *);

/* conf_list.c */
int	conf_list_queues(struct conf_ctx *, const config_setting_t *);
int	conf_list_labels(struct conf_ctx *, const config_setting_t *);
int	conf_list_handlers(struct conf_ctx *, const config_setting_t *);

/* conf_check.c: what the file system and the host say about valid values. */
/* Warnings about valid but risky values (cpus, shutdown_timeout, connections). */
void	conf_check_risky(struct conf_ctx *);

/* conf_hint.c: messages that help more than libconfig's. */
/* " (did you mean `x`?)" for an unknown key path close to a schema key, else "". */
const char *conf_hint_key(const char *path, char *buf, size_t len);
/* The closest of names[0..n) to name within a small edit distance, or NULL. */
const char *conf_hint_closest(const char *name, const char *const *names, size_t n);
/* A libconfig parse error, with the text of the line it names (from file, or text). */
void	conf_hint_syntax(struct conf_ctx *, const char *file, const char *text, int line,
	    const char *what);

/* conf_env.c */
void	conf_env_apply(struct conf_ctx *);
/* FAKTORY_SERVER_IP, cf_url into cf_purl, the password precedence. */
void	conf_env_resolve(struct conf_ctx *);
/*
 * Splits a FAKTORY_URL without judging it: [0, *user) is the scheme and
 * "://", [*user, *at) the userinfo (*at == *host when there is none),
 * [*host, *hend) the host, brackets included.
 */
void	conf_env_url_span(const char *url, size_t *user, size_t *at, size_t *host,
	    size_t *hend);

#endif
