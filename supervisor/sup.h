/* SPDX-License-Identifier: MIT */
/* sup: the master process. Internal header of supervisor/. */
#ifndef FKW_SUP_H
#define FKW_SUP_H

#include "conf.h"

struct sup_opts {
	const char	*so_conf_path;
	int		 so_foreground;		/* -d: plain log lines on a tty */
	int		 so_verbose;
};

/*
 * Runs the master until it stops: forks the children, supervises them,
 * heartbeats Faktory, answers the control socket. Takes ownership of conf.
 * Returns the process exit status (0, 70, 78...).
 */
int	sup_main(struct fkw_conf *conf, const struct sup_opts *);

#endif
