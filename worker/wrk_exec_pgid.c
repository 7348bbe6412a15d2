/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_pgid: the process groups of this child's exec commands, published
 * in the if_pgid fields of its shared in-flight table, so that the master can
 * SIGKILL them when the child dies without ending them itself (kill -9, a
 * crash): the commands run in groups of their own, which nothing else ends.
 * A group is published from its spawn until just before its leader is
 * reaped: while the child lives, the unreaped leader pins the group id, so
 * what the table holds is never a recycled group. Entries are handed out
 * here, apart from the jobs' if_jid entries (one per slot), because a
 * command outlives its job after a timeout while the slot runs the next one.
 */
#include <stdlib.h>

#include "wrk_exec_int.h"

static struct {
	struct stats_inflight	*pg_tab;
	uint32_t		*pg_free;	/* stack of free entry indexes */
	uint32_t		 pg_nfree;
} pg;

void
wrk_exec_pgid_table(struct stats_inflight *tab, uint32_t cap)
{
	free(pg.pg_free);
	pg.pg_tab = NULL;
	pg.pg_nfree = 0;
	if (tab == NULL || cap == 0 || (pg.pg_free = calloc(cap, sizeof(uint32_t))) == NULL)
		return;
	pg.pg_tab = tab;
	/* The top entries first: the jobs' entries fill the table from 0. */
	for (uint32_t i = 0; i < cap; i++) {
		tab[i].if_pgid = 0;
		pg.pg_free[pg.pg_nfree++] = i;
	}
}

int32_t *
wrk_exec_pgid_get(int *entry)
{
	*entry = -1;
	if (pg.pg_tab == NULL || pg.pg_nfree == 0)
		return NULL;
	*entry = (int)pg.pg_free[--pg.pg_nfree];
	return &pg.pg_tab[*entry].if_pgid;
}

void
wrk_exec_pgid_put(int entry)
{
	if (entry < 0 || pg.pg_tab == NULL)
		return;
	pg.pg_tab[entry].if_pgid = 0;
	pg.pg_free[pg.pg_nfree++] = (uint32_t)entry;
}
