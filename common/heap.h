/* SPDX-License-Identifier: MIT */
/*
 * heap: a binary min-heap of intrusive nodes on a 64-bit key. The owner
 * embeds a struct heap_node and gets its object back with heap_entry;
 * each node knows its index, so removal from the middle is O(log n). The
 * event loop's timers and fkbroker's due jobs both sit on one.
 */
#ifndef FKW_HEAP_H
#define FKW_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE	SIZE_MAX	/* hn_idx of a node on no heap */
/* The object of type holding the node n as its member. */
#define heap_entry(n, type, member) \
	((type *)(void *)((char *)(n) - offsetof(type, member)))

struct heap_node {
	uint64_t	 hn_key;
	size_t		 hn_idx;
};

struct heap {
	struct heap_node **hp_v;
	size_t		   hp_len;
	size_t		   hp_cap;
};

static inline void heap_node_init(struct heap_node *n) { n->hn_key = 0; n->hn_idx = HEAP_NONE; }
static inline int heap_node_on(const struct heap_node *n) { return n->hn_idx != HEAP_NONE; }
static inline struct heap_node *heap_top(const struct heap *h) { return h->hp_len ? h->hp_v[0] : NULL; }

/* Adds a node that is on no heap, at its hn_key. -1 on ENOMEM (nothing changed). */
int	heap_push(struct heap *, struct heap_node *);
/* Takes a node off (it must be on this heap); its hn_idx becomes HEAP_NONE. */
void	heap_remove(struct heap *, struct heap_node *);
/* Frees the array; the nodes still on it are marked off. */
void	heap_free(struct heap *);

#endif
