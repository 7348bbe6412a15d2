/* SPDX-License-Identifier: MIT */
/* brk_heap: a binary min-heap of jobs ordered by j_due; each job knows its index. */
#include <stdlib.h>

#include "brk.h"

static void
heap_set(struct bheap *h, size_t i, struct bjob *j)
{
	h->h_v[i] = j;
	j->j_hidx = i;
}

static void
heap_up(struct bheap *h, size_t i)
{
	struct bjob *j = h->h_v[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->h_v[p]->j_due <= j->j_due)
			break;
		heap_set(h, i, h->h_v[p]);
		i = p;
	}
	heap_set(h, i, j);
}

static void
heap_down(struct bheap *h, size_t i)
{
	struct bjob *j = h->h_v[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->h_len)
			break;
		if (c + 1 < h->h_len && h->h_v[c + 1]->j_due < h->h_v[c]->j_due)
			c++;
		if (j->j_due <= h->h_v[c]->j_due)
			break;
		heap_set(h, i, h->h_v[c]);
		i = c;
	}
	heap_set(h, i, j);
}

int
bheap_push(struct bheap *h, struct bjob *j)
{
	if (h->h_len == h->h_cap) {
		size_t cap = h->h_cap ? h->h_cap * 2 : 256;
		struct bjob **v = realloc(h->h_v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		h->h_v = v;
		h->h_cap = cap;
	}
	heap_set(h, h->h_len++, j);
	heap_up(h, j->j_hidx);
	return 0;
}

void
bheap_remove(struct bheap *h, struct bjob *j)
{
	size_t i = j->j_hidx;
	struct bjob *last;

	FKW_ASSERT(i < h->h_len && h->h_v[i] == j);
	last = h->h_v[--h->h_len];
	if (last == j)
		return;
	heap_set(h, i, last);
	heap_up(h, i);
	heap_down(h, last->j_hidx);
}

void
bheap_free(struct bheap *h)
{
	free(h->h_v);
	h->h_v = NULL;
	h->h_len = h->h_cap = 0;
}
