/* SPDX-License-Identifier: MIT */
/* brk_map: a string-keyed hash map with linear probing and backward-shift delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"

static uint32_t
map_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

void
bmap_init(struct bmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
bmap_free(struct bmap *m)
{
	free(m->m_slots);
	bmap_init(m);
}

void
bmap_clear(struct bmap *m)
{
	if (m->m_slots != NULL)
		memset(m->m_slots, 0, m->m_cap * sizeof(*m->m_slots));
	m->m_len = 0;
}

static size_t
map_find(const struct bmap *m, const char *k, size_t n, uint32_t h)
{
	size_t mask = m->m_cap - 1, i = h & mask;

	for (;;) {
		const struct bmap_slot *s = &m->m_slots[i];
		if (s->s_key == NULL)
			return i;
		if (s->s_hash == h && s->s_klen == n && memcmp(s->s_key, k, n) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static int
map_grow(struct bmap *m)
{
	size_t cap = m->m_cap ? m->m_cap * 2 : 64;
	struct bmap_slot *old = m->m_slots, *ns;
	size_t ocap = m->m_cap;

	if ((ns = calloc(cap, sizeof(*ns))) == NULL)
		return -1;
	m->m_slots = ns;
	m->m_cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].s_key != NULL)
			ns[map_find(m, old[i].s_key, old[i].s_klen, old[i].s_hash)] = old[i];
	free(old);
	return 0;
}

void *
bmap_get(const struct bmap *m, const char *k, size_t n)
{
	size_t i;

	if (m->m_len == 0)
		return NULL;
	i = map_find(m, k, n, map_hash(k, n));
	return m->m_slots[i].s_key != NULL ? m->m_slots[i].s_val : NULL;
}

int
bmap_put(struct bmap *m, const char *k, size_t n, void *val)
{
	uint32_t h = map_hash(k, n);
	struct bmap_slot *s;

	if (n > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* Keep the load under 1/2 so that probe runs stay short. */
	if ((m->m_len + 1) * 2 > m->m_cap && map_grow(m) == -1)
		return -1;
	s = &m->m_slots[map_find(m, k, n, h)];
	if (s->s_key == NULL)
		m->m_len++;
	/* On replace the new value owns the key memory: point at its copy. */
	s->s_key = k;
	s->s_klen = (uint32_t)n;
	s->s_hash = h;
	s->s_val = val;
	return 0;
}

void *
bmap_del(struct bmap *m, const char *k, size_t n)
{
	size_t mask, i, j;
	void *val;

	if (m->m_len == 0)
		return NULL;
	mask = m->m_cap - 1;
	i = map_find(m, k, n, map_hash(k, n));
	if (m->m_slots[i].s_key == NULL)
		return NULL;
	val = m->m_slots[i].s_val;
	m->m_len--;
	/* Backward shift: move later members of the run into the hole. */
	for (j = (i + 1) & mask; m->m_slots[j].s_key != NULL; j = (j + 1) & mask) {
		size_t home = m->m_slots[j].s_hash & mask;
		/* j may move to i only if its home is not in the cyclic range (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			m->m_slots[i] = m->m_slots[j];
			i = j;
		}
	}
	memset(&m->m_slots[i], 0, sizeof(m->m_slots[i]));
	return val;
}

void *
bmap_intern(struct bmap *m, const char *k, size_t n, size_t size, size_t key_off,
    int create, int *created)
{
	char *v = bmap_get(m, k, n);

	*created = 0;
	if (v != NULL || !create)
		return v;
	if ((v = calloc(1, size + n + 1)) == NULL)
		return NULL;
	memcpy(v + key_off, k, n);
	if (bmap_put(m, v + key_off, n, v) == -1) {
		free(v);
		return NULL;
	}
	*created = 1;
	return v;
}
