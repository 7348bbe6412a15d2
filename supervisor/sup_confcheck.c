/* SPDX-License-Identifier: MIT */
/*
 * sup_confcheck: what a configuration needs from this host before children
 * run on it, checked by "fkworker -n", at start and on reload: the exec
 * commands and plugin files (conf_check_host), then each plugin loaded for
 * real, as a child would load it, in a throwaway process: the master never
 * maps plugin code (its constructors, threads or init would be inherited by
 * every child it forks).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"
#include "wrk_job.h"

#define TRIAL_TIMEOUT_MS	10000	/* hung init; below the watchdog (WatchdogSec=30s, pinged at 15) */

static int
has_plugins(const struct fkw_conf *cf)
{
	for (int i = 0; i < cf->cf_nhandlers; i++)
		if (cf->cf_handlers[i].h_kind == CONF_H_PLUGIN)
			return 1;
	return 0;
}

static void __attribute__((noreturn))
trial_child(const struct fkw_conf *cf, int wfd)
{
	char err[1024] = "";
	int rc;

	log_setlevel(LOG_LVL_ERR);
	rc = wrk_plugin_load_all(cf, err, sizeof(err));
	if (rc == -1 && write(wfd, err, strlen(err)) == -1)
		_exit(2);
	_exit(rc == -1);
}

/* Reads what the trial process writes until EOF or the deadline. */
static int
trial_read(int rfd, char *buf, size_t len)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	for (;;) {
		if (poll(&p, 1, TRIAL_TIMEOUT_MS) <= 0)
			return -1;
		if ((r = read(rfd, buf + n, len - 1 - n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
		if (n == len - 1)
			break;
	}
	buf[n] = '\0';
	return 0;
}

/* "FILE:LINE: handlers[i].plugin" of the handler whose plugin the message names. */
static void
blame(const struct fkw_conf *cf, const char *msg, struct conf_errors *errs)
{
	for (int i = 0; i < cf->cf_nhandlers; i++) {
		const struct conf_handler *h = &cf->cf_handlers[i];

		if (h->h_kind == CONF_H_PLUGIN && strstr(msg, h->h_plugin) != NULL) {
			conf_errors_add(errs, 0, "%s:%d: handlers[%d].plugin: %s", h->h_file,
			    h->h_line, i, msg);
			return;
		}
	}
	conf_errors_add(errs, 0, "%s: %s", cf->cf_file, msg);
}

static int
plugins_trial(const struct fkw_conf *cf, struct conf_errors *errs)
{
	char msg[1024];
	int fds[2], st = 0, timed_out;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		conf_errors_add(errs, 0, "%s: cannot try the plugins: %s", cf->cf_file,
		    strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		trial_child(cf, fds[1]);
	}
	close(fds[1]);
	timed_out = trial_read(fds[0], msg, sizeof(msg)) == -1;
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (timed_out) {
		conf_errors_add(errs, 0, "%s: loading the plugins took more than %d s (a "
		    "fkw_plugin_init that hangs?)", cf->cf_file, TRIAL_TIMEOUT_MS / 1000);
		return 1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "loading the plugins crashed the trial process "
		    "(%s)", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no reason given");
	blame(cf, msg, errs);
	return 1;
}

int
sup_confcheck(const struct fkw_conf *cf, struct conf_errors *errs)
{
	int n = conf_check_host(cf, errs);

	if (n == 0 && has_plugins(cf))
		n += plugins_trial(cf, errs);
	return n;
}
