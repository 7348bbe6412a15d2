/* SPDX-License-Identifier: MIT */
/*
 * brk_resv: every reservation a FETCH makes remembers its delivery: the
 * connection and where the reply lies in that connection's output. When the
 * connection closes, each reservation it still holds is stranded (the server
 * keeps it for a connection that is gone, until ACK, FAIL or expiry) and its
 * delivery is classified once, so that a drill can tell a job a worker
 * forgot from a delivery the wire lost.
 */
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "brk.h"

static void
strand(struct brk *b, struct bjob *j)
{
	j->j_stranded = 1;
	b->b_stranded++;
}

void
resv_attach(struct bconn *c, struct bjob *j)
{
	j->j_rconn = c;
	j->j_rprev = NULL;
	j->j_rnext = c->c_resv;
	if (c->c_resv != NULL)
		c->c_resv->j_rprev = j;
	c->c_resv = j;
	j->j_rstart = c->c_out_total;
	/* Until resv_sent: a reply that could not even be queued counts as cut. */
	j->j_rend = UINT64_MAX;
	j->j_stranded = 0;
	/* The real server runs what a closed client sent: nobody will read this one. */
	j->j_rorphan = conn_client_gone(c);
	if (j->j_rorphan)
		strand(c->c_brk, j);
}

void
resv_sent(struct bconn *c, struct bjob *j)
{
	if (j->j_rconn == c)
		j->j_rend = c->c_out_total;
}

static void
unlink_conn(struct bjob *j)
{
	struct bconn *c = j->j_rconn;

	if (j->j_rprev != NULL)
		j->j_rprev->j_rnext = j->j_rnext;
	else
		c->c_resv = j->j_rnext;
	if (j->j_rnext != NULL)
		j->j_rnext->j_rprev = j->j_rprev;
	j->j_rconn = NULL;
	j->j_rprev = j->j_rnext = NULL;
}

void
resv_end(struct brk *b, struct bjob *j)
{
	if (j->j_rconn != NULL)
		unlink_conn(j);
	if (j->j_stranded)
		b->b_stranded--;
	j->j_stranded = 0;
	j->j_rorphan = 0;
}

/*
 * Where the peer's TCP stack has acknowledged c's output up to: what is
 * written minus what still waits in the send queue (SIOCOUTQ counts bytes
 * not acknowledged, from sequence numbers, so it holds after a reset too).
 * 0 if unknown: then nothing written counts as acknowledged.
 */
static uint64_t
acked_upto(const struct bconn *c)
{
	int outq = 0;

	if (c->c_fd < 0 || ioctl(c->c_fd, SIOCOUTQ, &outq) == -1 || outq < 0 ||
	    (uint64_t)outq > c->c_out_sent)
		return 0;
	return c->c_out_sent - (uint64_t)outq;
}

/* First match wins; -1: the client had the bytes and the broker closed. */
static int
classify(const struct bconn *c, const struct bjob *j, uint64_t acked)
{
	/* A correct client cannot parse past garbage. */
	if (j->j_rstart >= c->c_garbage_at)
		return BL_GARBLED;
	if (j->j_rorphan)
		return BL_ORPHANED;
	if (j->j_rend > acked)
		return BL_CUT;
	/* Only a client that died or closed without reading loses these. */
	if (conn_client_gone(c))
		return BL_UNREAD;
	return -1;
}

void
resv_close(struct bconn *c)
{
	struct brk *b = c->c_brk;
	uint64_t acked;
	struct bjob *j;
	int why;

	if (c->c_resv == NULL)
		return;
	acked = acked_upto(c);
	while ((j = c->c_resv) != NULL) {
		if ((why = classify(c, j, acked)) >= 0)
			audit_lost(b, j->j_audit, (enum blost)why);
		if (!j->j_stranded)
			strand(b, j);
		unlink_conn(j);
	}
}
