/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: what the master parses from bytes it does not control.
 * The input is cut into control frames the way the master's reader does,
 * and every payload goes through the request decoder (the master's side),
 * the reply decoder (fkworkerctl's side) and the stats record decoder (the
 * master draining a child's ring). Round trips must be stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_payload(const void *p, size_t len)
{
	struct ctl_request rq;
	struct ctl_reply rp;
	struct stats_counters c, c2;
	char err[256];
	void *rec;
	size_t reclen;

	if (ctl_request_decode(p, len, &rq, err, sizeof(err)) == 0)
		(void)ctl_request_check(&rq, err, sizeof(err));
	if (ctl_reply_decode(p, len, &rp, err, sizeof(err)) == 0) {
		struct buf b;
		buf_init(&b);
		/* What decoded must encode again, within the frame limit or EMSGSIZE. */
		(void)ctl_reply_encode(&b, &rp);
		buf_free(&b);
		ctl_reply_free(&rp);
	}
	if (stats_counters_decode(p, len, &c) == 0 &&
	    stats_counters_encode(&c, &rec, &reclen) == 0) {
		if (stats_counters_decode(rec, reclen, &c2) != 0 ||
		    c2.sc_processed != c.sc_processed || c2.sc_njt != c.sc_njt)
			abort();
		free(rec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *payload;
	size_t plen;
	ssize_t n;

	one_payload(data, size);
	while ((n = ctl_frame_parse(data, size, &payload, &plen)) > 0) {
		one_payload(payload, plen);
		data += n;
		size -= (size_t)n;
	}
	return 0;
}
