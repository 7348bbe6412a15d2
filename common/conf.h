/* SPDX-License-Identifier: MIT */
/*
 * conf: /etc/fkworker.conf (libconfig) loaded into one struct through a
 * schema table (key, type, bounds, default), with environment overrides.
 * Every error reads "FILE:LINE: key: message". Never logs, never exits.
 */
#ifndef FKW_CONF_H
#define FKW_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "fkp.h"

#define CONF_DEFAULT_FILE	"/etc/fkworker.conf"
#define CONF_DEFAULT_SOCKET	"/run/fkworker/control.sock"
#define CONF_EX_CONFIG		78
#define CONF_ENV_MAX		8	/* environment variables that override keys */
/*
 * systemd/fkworker.service's TimeoutStopSec: a worker.shutdown_timeout
 * that does not leave CONF_UNIT_STOP_MARGIN seconds of it gets a warning
 * (tests/unit/test_conf_check.c keeps the two equal).
 */
#define CONF_UNIT_STOP_TIMEOUT	60
#define CONF_UNIT_STOP_MARGIN	10
#define CONF_UNIT_ENV_FILE	"/etc/default/fkworker"

enum conf_hkind {
	CONF_H_BUILTIN,
	CONF_H_EXEC,
	CONF_H_PLUGIN,
};

struct conf_handler {
	char		 *h_jobtype;	/* "*" = fallback for every other jobtype */
	enum conf_hkind	  h_kind;
	char		 *h_builtin;	/* "noop" | "sleep" | "fail" */
	char		**h_argv;	/* exec: NULL-terminated */
	int		  h_argc;
	char		 *h_plugin;	/* plugin: path of the .so */
	int		  h_timeout;	/* seconds; 0 = none */
	char		 *h_file;	/* where it was defined, for messages */
	int		  h_line;
};

struct conf_queue {
	char	*q_name;
	int	 q_weight;		/* 0 in strict mode */
};

struct fkw_conf {
	char			*cf_file;

	/* faktory */
	char			*cf_url;		/* after FAKTORY_URL / FAKTORY_SERVER_IP */
	struct fkp_url		 cf_purl;		/* cf_url parsed, password applied */
	char			*cf_password;		/* FAKTORY_PASSWORD, file, or URL */
	char			*cf_password_file;
	char			*cf_tls_ca_file;
	int			 cf_tls_verify;
	int			 cf_conn_budget;	/* connections the server accepts, fleet-wide */

	/* worker */
	int			 cf_concurrency;	/* WORKER_CONCURRENCY; auto: the start (= min) */
	int			 cf_concurrency_auto;	/* 1 when "auto": sup_auto.c steers it */
	int			 cf_concurrency_min;	/* auto's floor, resolved (0 = 50 per child) */
	int			 cf_concurrency_max;	/* live ceiling, resolved (0 = 1000 per child) */
	int			 cf_cpu_target;		/* auto: host CPU % it grows up to */
	int			 cf_auto_interval;	/* auto: ms between decisions */
	int			 cf_cpus;		/* WORKER_CPUS, resolved (>= 1) */
	int			 cf_cpus_auto;		/* 1 when "auto" */
	struct conf_queue	*cf_queues;
	int			 cf_nqueues;
	int			 cf_weighted;		/* queues given with weights */
	char			**cf_labels;
	int			 cf_nlabels;
	int			 cf_shutdown_timeout;	/* s */
	int			 cf_heartbeat;		/* s */
	int			 cf_cpu_affinity;
	int			 cf_pipelining;
	int			 cf_coalesce_us;	/* the loop's nap bound, us; 0 = off */
	int			 cf_connections;	/* the children's connections, resolved */
	int			 cf_connections_auto;	/* 1 when "auto" */
	long long		 cf_max_jobs_per_child;	/* 0 = never */
	uint64_t		 cf_memory_limit;	/* bytes per child; 0 = none */
	int			 cf_connect_timeout;	/* ms for connect + handshake */
	int			 cf_reconnect_max;	/* ms, cap of the reconnect backoff */

	/* handlers */
	struct conf_handler	*cf_handlers;
	int			 cf_nhandlers;

	/* control, stats, log */
	char			*cf_ctl_socket;
	int			 cf_ctl_mode;		/* octal file mode, 0660 */
	int			 cf_stats_interval;	/* ms */
	char			*cf_stats_listen;	/* /metrics address; "" = off */
	int			 cf_log_level;		/* LOG_LVL_* */

	/* Keys the environment set, for "fkworker -nn": schema index and variable. */
	struct conf_envset {
		int		 e_key;
		const char	*e_var;		/* a string literal */
	}			 cf_env[CONF_ENV_MAX];
	int			 cf_nenv;
};

/*
 * Errors collected while loading: each a full "FILE:LINE: key: message"
 * string. conf_load keeps going after a bad key so that one run reports
 * every mistake. Warnings (risky but valid values) come in the same form
 * in ce_warn, whether the load succeeds or not.
 */
struct conf_errors {
	char	**ce_msg;
	int	  ce_n;
	char	**ce_warn;
	int	  ce_nwarn;
};

/*
 * Loads path into a fresh struct, applies defaults, then the environment
 * (FAKTORY_URL, FAKTORY_SERVER_IP, FAKTORY_PASSWORD, WORKER_CONCURRENCY,
 * WORKER_CPUS) when use_env is set, then validates across fields. Returns the
 * struct, or NULL with every problem in errs (free with conf_errors_free).
 */
struct fkw_conf	*conf_load(const char *path, int use_env, struct conf_errors *errs);
/* The same from text in memory (tests, fuzzing); name stands for the file in messages. */
struct fkw_conf	*conf_load_string(const char *text, const char *name, int use_env,
		    struct conf_errors *errs);
void		 conf_free(struct fkw_conf *);
void		 conf_errors_free(struct conf_errors *);
/* Adds an error (warn 0) or a warning (warn 1) to errs, for checks outside conf. */
void		 conf_errors_add(struct conf_errors *, int warn, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * What the host says about a loaded configuration: each exec command must
 * be an executable file and each plugin a readable one (errors, "FILE:LINE:
 * handlers[i].exec: ..."), and a path fkworker.service's sandbox hides gets
 * a warning. Appends to errs; returns the number of errors added.
 */
int		 conf_check_host(const struct fkw_conf *, struct conf_errors *errs);

/* Prints the effective configuration, every key in schema order, as libconfig. */
void		 conf_dump(const struct fkw_conf *, FILE *);

/* The handler for a jobtype: exact match first, then "*", else NULL. */
const struct conf_handler *conf_handler_find(const struct fkw_conf *, const char *jobtype);

/*
 * What a reload changes: one line per key whose value differs, in schema
 * order, "key: old -> new" (a secret, or a URL whose password changed:
 * "key: changed", no value). Returns a malloc'd string of lines joined by
 * '\n' ("" when nothing changed), NULL on ENOMEM.
 */
char		*conf_changes(const struct fkw_conf *old, const struct fkw_conf *new);
/* Whether key k (a CK_* index) differs: 1, 0, or -1 on ENOMEM (then: treat as changed). */
int		 conf_changes_key(const struct fkw_conf *old, const struct fkw_conf *new, int k);
/*
 * 1 when old and new differ at most in the keys a running child takes live
 * (worker.concurrency and the auto controller's keys), else 0.
 */
int		 conf_live_only(const struct fkw_conf *old, const struct fkw_conf *new);

/*
 * Names of keys whose change needs a restart rather than a reload (e.g.
 * control.socket), or NULL when the two configurations can be swapped live.
 */
const char	*conf_restart_key(const struct fkw_conf *old, const struct fkw_conf *new);

#endif
