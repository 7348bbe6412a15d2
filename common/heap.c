/* SPDX-License-Identifier: MIT */
/* heap: a binary min-heap of intrusive nodes on a 64-bit key (see heap.h). */
#include <stdlib.h>

#include "heap.h"
#include "util.h"

static void
put(struct heap *h, size_t i, struct heap_node *n)
{
	h->hp_v[i] = n;
	n->hn_idx = i;
}

static void
sift_up(struct heap *h, size_t i)
{
	struct heap_node *n = h->hp_v[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->hp_v[p]->hn_key <= n->hn_key)
			break;
		put(h, i, h->hp_v[p]);
		i = p;
	}
	put(h, i, n);
}

static void
sift_down(struct heap *h, size_t i)
{
	struct heap_node *n = h->hp_v[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->hp_len)
			break;
		if (c + 1 < h->hp_len && h->hp_v[c + 1]->hn_key < h->hp_v[c]->hn_key)
			c++;
		if (n->hn_key <= h->hp_v[c]->hn_key)
			break;
		put(h, i, h->hp_v[c]);
		i = c;
	}
	put(h, i, n);
}

int
heap_push(struct heap *h, struct heap_node *n)
{
	FKW_ASSERT(n->hn_idx == HEAP_NONE);
	if (h->hp_len == h->hp_cap) {
		size_t cap = h->hp_cap ? h->hp_cap * 2 : 64;
		struct heap_node **v = realloc(h->hp_v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		h->hp_v = v;
		h->hp_cap = cap;
	}
	put(h, h->hp_len++, n);
	sift_up(h, n->hn_idx);
	return 0;
}

void
heap_remove(struct heap *h, struct heap_node *n)
{
	size_t i = n->hn_idx;
	struct heap_node *last;

	FKW_ASSERT(i < h->hp_len && h->hp_v[i] == n);
	n->hn_idx = HEAP_NONE;
	last = h->hp_v[--h->hp_len];
	if (last == n)
		return;
	put(h, i, last);
	sift_up(h, i);
	sift_down(h, last->hn_idx);
}

void
heap_free(struct heap *h)
{
	for (size_t i = 0; i < h->hp_len; i++)
		h->hp_v[i]->hn_idx = HEAP_NONE;
	free(h->hp_v);
	h->hp_v = NULL;
	h->hp_len = h->hp_cap = 0;
}
