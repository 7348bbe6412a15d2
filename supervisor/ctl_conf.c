/* SPDX-License-Identifier: MIT */
/*
 * ctl_conf: the control socket a configuration file names, for
 * fkworkerctl -c. fkworkerctl needs control.socket and nothing else, and an
 * operator often runs it while the file has errors (to see the running
 * host before a reload): the file's other errors are the caller's to show
 * as warnings, never a reason to refuse.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <libconfig.h>

#include "sup.h"

/* control.socket read alone, when the whole file does not load; 0, or -1 if the file says nothing usable. */
static int
socket_alone(const char *path, char *sock, size_t len, int *io_error)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	char *dir = strdup(path);
	const config_setting_t *st;
	const char *s = NULL;
	config_t c;
	int rc = -1;

	config_init(&c);
	if (dir != NULL)
		config_set_include_dir(&c, dirname(dir));
	if (config_read_file(&c, path) == CONFIG_FALSE)
		*io_error = config_error_type(&c) == CONFIG_ERR_FILE_IO;
	else if ((st = config_lookup(&c, "control.socket")) == NULL)
		s = CONF_DEFAULT_SOCKET;
	else
		s = config_setting_get_string(st);	/* NULL unless a string */
	if (s != NULL && s[0] != '\0' && strlen(s) < max && strlen(s) < len) {
		snprintf(sock, len, "%s", s);
		rc = 0;
	}
	config_destroy(&c);
	free(dir);
	return rc;
}

int
ctl_conf_socket(const char *path, char *sock, size_t len, struct conf_errors *errs)
{
	struct fkw_conf *cf = conf_load(path, 0, errs);
	int io_error = 0;

	if (cf != NULL) {
		snprintf(sock, len, "%s", cf->cf_ctl_socket);
		conf_free(cf);
		return 0;
	}
	if (socket_alone(path, sock, len, &io_error) == 0)
		return 0;
	if (io_error)
		return -1;
	snprintf(sock, len, "%s", CONF_DEFAULT_SOCKET);
	return 1;
}
