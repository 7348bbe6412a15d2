/* SPDX-License-Identifier: MIT */
/* jarena: bump arenas for jansson's allocations (see jarena.h). */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <jansson.h>

#include "jarena.h"
#include "util.h"

/* The sanitizers' and valgrind's views of the blocks, when the build has them. */
#if defined(__SANITIZE_ADDRESS__)
#define JA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JA_ASAN 1
#endif
#endif
#ifdef JA_ASAN
#include <sanitizer/asan_interface.h>
#define JA_POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define JA_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define JA_POISON(p, n)		((void)(p), (void)(n))
#define JA_UNPOISON(p, n)	((void)(p), (void)(n))
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define JA_VG_NOACCESS(p, n)	VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define JA_VG_UNDEFINED(p, n)	VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#endif
#endif
#ifndef JA_VG_NOACCESS
#define JA_VG_NOACCESS(p, n)	((void)(p), (void)(n))
#define JA_VG_UNDEFINED(p, n)	((void)(p), (void)(n))
#endif

/* What malloc promises, so that any jansson value fits at any offset. */
#define JA_ALIGN	alignof(max_align_t)

static struct {
	char	*jr_base;	/* the blocks, one mapping */
	size_t	 jr_len;	/* its length: 0 when not set up */
	size_t	 jr_bsize;
	char	**jr_free;	/* a stack of free blocks */
	size_t	 jr_nfree;
} jr;

/* The arena this thread's jansson allocations come from; set only around a parse. */
static _Thread_local struct jarena *ja_cur;

static void *
ja_malloc(size_t n)
{
	struct jarena *a = ja_cur;
	size_t need = (n + JA_ALIGN - 1) & ~(JA_ALIGN - 1);
	char *p;

	if (a == NULL)
		return malloc(n);
	/* n first: a size near SIZE_MAX would wrap need round to 0. */
	if (a->ja_block == NULL || n > jr.jr_bsize || need > jr.jr_bsize - a->ja_used) {
		a->ja_spilled++;
		return malloc(n);
	}
	p = a->ja_block + a->ja_used;
	a->ja_used += need;
	/*
	 * Value by value for ASan (only its builds pay); valgrind's view opens
	 * the whole block at begin, one request per job rather than per value.
	 */
	JA_UNPOISON(p, n);
	return p;
}

/*
 * Called for every jansson free in the process, from any thread: the
 * mapping's bounds are set before any thread uses jansson and do not change
 * until jarena_fini, so reading them needs no lock.
 */
static void
ja_free(void *p)
{
	if ((uintptr_t)p - (uintptr_t)jr.jr_base < jr.jr_len)
		return;
	free(p);
}

int
jarena_init(size_t n, size_t size)
{
	size_t len;
	void *m;

	if (n == 0 || size == 0 || jr.jr_len != 0 || size > SIZE_MAX / 2) {
		errno = EINVAL;
		return -1;
	}
	/* Blocks on cache-line boundaries; whole pages are not worth the memory. */
	size = (size + 63) & ~(size_t)63;
	if (n > SIZE_MAX / size) {
		errno = ENOMEM;
		return -1;
	}
	len = n * size;
	/*
	 * Reserved, not committed: a block's pages are touched only when a parse
	 * reaches them, and the stack hands out the same few blocks again and
	 * again while few jobs run at once.
	 */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	    -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if ((jr.jr_free = malloc(n * sizeof(*jr.jr_free))) == NULL) {
		munmap(m, len);
		return -1;
	}
	jr.jr_base = m;
	jr.jr_bsize = size;
	/* Backwards, so the first block is taken first. */
	for (jr.jr_nfree = 0; jr.jr_nfree < n; jr.jr_nfree++)
		jr.jr_free[jr.jr_nfree] = jr.jr_base + (n - 1 - jr.jr_nfree) * size;
	JA_POISON(jr.jr_base, len);
	JA_VG_NOACCESS(jr.jr_base, len);
	jr.jr_len = len;
	json_set_alloc_funcs(ja_malloc, ja_free);
	return 0;
}

void
jarena_fini(void)
{
	if (jr.jr_len == 0)
		return;
	json_set_alloc_funcs(malloc, free);
	JA_UNPOISON(jr.jr_base, jr.jr_len);
	munmap(jr.jr_base, jr.jr_len);
	free(jr.jr_free);
	jr.jr_base = NULL;
	jr.jr_len = 0;
	jr.jr_free = NULL;
	jr.jr_nfree = 0;
	ja_cur = NULL;
}

void
jarena_begin(struct jarena *a)
{
	FKW_ASSERT(a->ja_block == NULL);
	a->ja_used = 0;
	a->ja_spilled = 0;
	if (jr.jr_nfree > 0) {
		a->ja_block = jr.jr_free[--jr.jr_nfree];
		JA_VG_UNDEFINED(a->ja_block, jr.jr_bsize);
	}
	ja_cur = a;
}

void
jarena_end(struct jarena *a)
{
	FKW_ASSERT(ja_cur == a);
	ja_cur = NULL;
}

void
jarena_release(struct jarena *a)
{
	FKW_ASSERT(ja_cur != a);
	if (a->ja_block == NULL)
		return;
	JA_POISON(a->ja_block, a->ja_used);
	JA_VG_NOACCESS(a->ja_block, jr.jr_bsize);
	jr.jr_free[jr.jr_nfree++] = a->ja_block;
	a->ja_block = NULL;
	a->ja_used = 0;
}

int
jarena_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)jr.jr_base < jr.jr_len;
}

size_t
jarena_free_blocks(void)
{
	return jr.jr_nfree;
}
