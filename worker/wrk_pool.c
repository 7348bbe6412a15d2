/* SPDX-License-Identifier: MIT */
/*
 * wrk_pool: a child's Faktory connections as a pool. It opens them a batch
 * at a time (no thundering herd at start), and knows which are free for the
 * next command: two bitmaps, connections with nothing outstanding and
 * connections with no FETCH outstanding, searched from a rotating cursor so
 * that the work spreads over every connection instead of piling onto the
 * first (the server serves each connection one command at a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wrk_int.h"

#define RESOLVE_EVERY_MS	1000
#define RESOLVE_SLOW_FACTOR	20
#define RESOLVE_MAX_MS		60000

int
wrk_pool_init(struct wrk_pool *po, int n)
{
	memset(po, 0, sizeof(*po));
	po->po_n = n;
	po->po_nwords = (n + 63) / 64;
	if ((po->po_conns = calloc((size_t)n, sizeof(*po->po_conns))) == NULL ||
	    (po->po_idle = calloc((size_t)po->po_nwords, sizeof(uint64_t))) == NULL ||
	    (po->po_nofetch = calloc((size_t)po->po_nwords, sizeof(uint64_t))) == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (wrk_conn_init(&po->po_conns[i], i) == -1)
			return -1;
	return 0;
}

int
wrk_pool_ramp(struct wrk_pool *po, int batch)
{
	int end = po->po_nopened + batch;

	if (end > po->po_n)
		end = po->po_n;
	while (po->po_nopened < end)
		wrk_conn_open(&po->po_conns[po->po_nopened++]);
	return po->po_nopened < po->po_n;
}

static void
set_bit(uint64_t *map, int i, int on)
{
	if (on)
		map[i / 64] |= 1ULL << (i % 64);
	else
		map[i / 64] &= ~(1ULL << (i % 64));
}

void
wrk_pool_update(struct wrk_pool *po, struct wrk_conn *cn)
{
	int ready = cn->cn_state == CN_READY;

	set_bit(po->po_idle, cn->cn_index, ready && cn->cn_nexpect == 0);
	set_bit(po->po_nofetch, cn->cn_index, ready && cn->cn_nfetch == 0);
}

/*
 * The first set bit at or after the cursor, wrapping; -1 when none. The
 * cursor then moves past it, so the next command goes to the next
 * connection rather than to the lowest-numbered one again.
 */
static int
search(struct wrk_pool *po, const uint64_t *map)
{
	int start = po->po_cursor, w0 = start / 64;

	for (int k = 0; k <= po->po_nwords; k++) {
		int w = (w0 + k) % po->po_nwords;
		uint64_t bits = map[w];
		if (k == 0)
			bits &= ~0ULL << (start % 64);
		else if (k == po->po_nwords)
			bits &= (start % 64) ? ~(~0ULL << (start % 64)) : 0;
		if (bits != 0) {
			int i = w * 64 + __builtin_ctzll(bits);
			po->po_cursor = (i + 1) % po->po_n;
			return i;
		}
	}
	return -1;
}

struct wrk_conn *
wrk_pool_pick(struct wrk_pool *po, int idle_only)
{
	int i = search(po, po->po_idle);

	if (i == -1 && !idle_only)
		i = search(po, po->po_nofetch);
	return i == -1 ? NULL : &po->po_conns[i];
}

void
wrk_pool_check_overdue(struct wrk_pool *po, uint64_t now, uint64_t limit_ms)
{
	for (int i = 0; i < po->po_nopened; i++)
		wrk_conn_check_overdue(&po->po_conns[i], now, limit_ms);
}

int
wrk_pool_resolve(struct wrk_pool *po, uint64_t now, char *err, size_t errlen)
{
	const struct fkw_conf *cf = wrk_env->we_conf;
	struct net_addr na;
	uint64_t t0, wait;

	/*
	 * getaddrinfo blocks the loop: once a second is enough to follow a
	 * failover, and hundreds of connections reopening together after an
	 * outage cost one lookup, not hundreds. A slow one (a DNS server that
	 * does not answer) is asked twenty times less often than it takes, so
	 * it holds the loop up 5% of the time at most.
	 */
	if (now >= po->po_resolve_next) {
		t0 = now_ms();
		if (net_resolve(cf->cf_purl.u_host, cf->cf_purl.u_port, &na,
		    po->po_resolve_err, sizeof(po->po_resolve_err)) == 0) {
			wrk_env->we_params.fp_addr = na;
			po->po_have_addr = 1;
			po->po_resolve_err[0] = '\0';
		}
		wait = (now_ms() - t0) * RESOLVE_SLOW_FACTOR;
		wait = wait < RESOLVE_EVERY_MS ? RESOLVE_EVERY_MS :
		    wait > RESOLVE_MAX_MS ? RESOLVE_MAX_MS : wait;
		po->po_resolve_next = now + wait;
	}
	/* A DNS outage must not stop reconnects to a server that is still there. */
	if (po->po_have_addr)
		return 0;
	snprintf(err, errlen, "%s", po->po_resolve_err);
	return -1;
}

void
wrk_pool_free(struct wrk_pool *po)
{
	for (int i = 0; i < po->po_n && po->po_conns != NULL; i++)
		wrk_conn_free(&po->po_conns[i]);
	free(po->po_conns);
	free(po->po_idle);
	free(po->po_nofetch);
	memset(po, 0, sizeof(*po));
}
