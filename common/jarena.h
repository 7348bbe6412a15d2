/* SPDX-License-Identifier: MIT */
/*
 * jarena: bump arenas for jansson's allocations, so that a job's parse costs
 * pointer bumps instead of ~30 mallocs, and its json_decref range checks
 * instead of as many frees. Each parse takes a block, its values come from
 * the block, and the block goes back whole when the job is done.
 *
 * json_set_alloc_funcs is process-wide, so jarena's allocator serves every
 * jansson call of every thread, plugins' included. It bumps from an arena
 * only on the thread that made it current (between jarena_begin and
 * jarena_end: the child's loop, around json_loadb); everything else goes to
 * malloc. Its free does nothing for memory inside the blocks and hands the
 * rest to free(). So values allocated outside a parse, or that spilled out
 * of a full block, may live inside or beside an arena's tree and outlive
 * it: json_decref frees them as before.
 *
 * The blocks are one mapping reserved at jarena_init, touched as used; the
 * free ones are a stack, so a job takes the block the last finished job gave
 * back, still in cache. One thread (the child's loop) takes and gives back
 * blocks: jarena_begin and jarena_release take no lock. Under AddressSanitizer and valgrind a free block is
 * unaddressable: a value read after its job ended is reported, as a freed
 * one would be.
 */
#ifndef FKW_JARENA_H
#define FKW_JARENA_H

#include <stddef.h>

/* Block size for a job: a typical job (7-15 fields) makes 1.5-3 KiB of values. */
#define JARENA_BLOCK	(16 * 1024)

/* One user's arena: a block (or none) and how much of it is used. */
struct jarena {
	char	*ja_block;	/* NULL: none, its allocations go to malloc */
	size_t	 ja_used;
	size_t	 ja_spilled;	/* allocations that went to malloc while it was current */
};

/*
 * Reserves n blocks of size bytes (rounded up to 64) and routes jansson's
 * allocations through jarena. Call before any other thread uses jansson
 * (json_set_alloc_funcs is not thread-safe), at most once until jarena_fini.
 * 0, or -1 with errno set (EINVAL: n or size 0, or already set up; ENOMEM),
 * in which case jansson keeps malloc and free, and every arena holds no block.
 */
int	jarena_init(size_t n, size_t size);
/*
 * Unmaps the blocks and gives jansson back malloc and free. Only once no
 * value from a block is referenced (a test's teardown; a child just exits).
 */
void	jarena_fini(void);
/*
 * Takes a free block for a (none left, or no jarena_init: a holds none) and
 * makes a this thread's current arena: jansson's allocations on this thread
 * come from it until jarena_end. a must hold no block.
 */
void	jarena_begin(struct jarena *a);
/* This thread has no current arena any more; a keeps its block and values. */
void	jarena_end(struct jarena *a);
/*
 * Gives a's block back, if it holds one. Every value allocated from it must
 * be dropped already (json_decref of the tree, which frees what spilled).
 */
void	jarena_release(struct jarena *a);
/* Whether p points into a block (tests). */
int	jarena_owns(const void *p);
/* Blocks not held by any arena (tests). */
size_t	jarena_free_blocks(void);

#endif
