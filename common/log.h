/* SPDX-License-Identifier: MIT */
/* log: journald-friendly logging with <N> priority prefixes and a process tag. */
#ifndef FKW_LOG_H
#define FKW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/*
 * name: program name ("fkworker"). level: messages above it are dropped.
 * With plain set (foreground on a tty) lines get a timestamp instead of the
 * <N> prefix that journald parses.
 */
void	log_init(const char *name, int level, int plain);
void	log_setlevel(int level);
int	log_getlevel(void);
/* Parses "error|warning|notice|info|debug"; -1 if unknown. */
int	log_level_parse(const char *);
const char *log_level_name(int);
/* The process tag: "master", "worker 3". printf-style. */
void	log_setproc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Each preserves errno. The _warn forms without x append ": strerror(errno)". */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(int ex, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	fatalx(int ex, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
