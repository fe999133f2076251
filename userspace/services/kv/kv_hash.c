// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_hash.c - "kv-hash": an in-memory open-addressing hash table.
 *
 * Linear probing over a power-of-two table of entries, grown (doubled and
 * rehashed) at a load factor of 1/2. The service never deletes, so there
 * are no tombstones. Each value lives in its own heap block, replaced on
 * overwrite. The dirty set is an array of keys plus a per-entry flag that
 * keeps each key in it once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv_engine.h"

#define KVH_MIN_CAP	64u

struct kvh_entry {
	uint8_t *val;		/* NULL for a free entry */
	uint32_t key;
	uint32_t len;
	bool dirty;		/* key is in kv_engine.dirty[] */
};

struct kv_engine {
	struct kv_limits lim;
	struct kvh_entry *tab;
	uint32_t cap;		/* power of two */
	uint32_t used;
	uint32_t *dirty;	/* keys put since the last clean */
	uint32_t ndirty;
	uint32_t dirty_cap;
};

/* Fibonacci hashing: the top bits of key * 2^32 / phi. */
static uint32_t kvh_slot(uint32_t key, uint32_t cap)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (cap - 1);
}

static struct kvh_entry *kvh_find(struct kvh_entry *tab, uint32_t cap,
				  uint32_t key)
{
	uint32_t i = kvh_slot(key, cap);

	while (tab[i].val && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int kvh_grow(struct kv_engine *e)
{
	uint32_t ncap = e->cap ? e->cap * 2 : KVH_MIN_CAP;
	struct kvh_entry *ntab;
	uint32_t i;

	if (ncap < e->cap)
		return -ENOMEM;
	ntab = calloc(ncap, sizeof(*ntab));
	if (!ntab)
		return -ENOMEM;
	for (i = 0; i < e->cap; i++)
		if (e->tab[i].val)
			*kvh_find(ntab, ncap, e->tab[i].key) = e->tab[i];
	free(e->tab);
	e->tab = ntab;
	e->cap = ncap;
	return 0;
}

static int kvh_create(const struct kv_limits *lim, struct kv_engine **out)
{
	struct kv_engine *e;
	int r;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->lim = *lim;
	r = kvh_grow(e);
	if (r) {
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

static void kvh_free_values(struct kv_engine *e)
{
	uint32_t i;

	for (i = 0; i < e->cap; i++)
		free(e->tab[i].val);
}

static void kvh_destroy(struct kv_engine *e)
{
	if (!e)
		return;
	if (e->tab)
		kvh_free_values(e);
	free(e->tab);
	free(e->dirty);
	free(e);
}

static int kvh_get(struct kv_engine *e, uint32_t key, uint8_t *buf,
		   uint32_t *len)
{
	struct kvh_entry *ent = kvh_find(e->tab, e->cap, key);

	if (!ent->val)
		return -ENOENT;
	memcpy(buf, ent->val, ent->len);
	*len = ent->len;
	return 0;
}

/*
 * Store @val under @key; returns the entry (for the dirty flag) in @out.
 * A zero-length value still gets a (1-byte) block: val != NULL marks use.
 */
static int kvh_store(struct kv_engine *e, uint32_t key, const uint8_t *val,
		     uint32_t len, struct kvh_entry **out)
{
	struct kvh_entry *ent;
	uint8_t *copy;
	int r;

	if (key >= e->lim.records || len > e->lim.record_size)
		return -EINVAL;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, val, len);

	ent = kvh_find(e->tab, e->cap, key);
	if (!ent->val && (e->used + 1) * 2 > e->cap) {
		r = kvh_grow(e);
		if (r) {
			free(copy);
			return r;
		}
		ent = kvh_find(e->tab, e->cap, key);
	}
	if (ent->val) {
		free(ent->val);
	} else {
		ent->key = key;
		ent->dirty = false;
		e->used++;
	}
	ent->val = copy;
	ent->len = len;
	*out = ent;
	return 0;
}

static int kvh_put(struct kv_engine *e, uint32_t key, const uint8_t *val,
		   uint32_t len)
{
	struct kvh_entry *ent;
	uint32_t *nd;
	uint32_t ncap;
	int r;

	/* make room in the dirty array first: a put never half-happens */
	if (e->ndirty == e->dirty_cap) {
		ncap = e->dirty_cap ? e->dirty_cap * 2 : 64;
		nd = realloc(e->dirty, (size_t)ncap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		e->dirty = nd;
		e->dirty_cap = ncap;
	}
	r = kvh_store(e, key, val, len, &ent);
	if (r)
		return r;
	if (!ent->dirty) {
		ent->dirty = true;
		e->dirty[e->ndirty++] = key;
	}
	return 0;
}

static int kvh_load(struct kv_engine *e, uint32_t key, const uint8_t *val,
		    uint32_t len)
{
	struct kvh_entry *ent;

	return kvh_store(e, key, val, len, &ent);
}

static int kvh_iterate(struct kv_engine *e, bool dirty_only, kv_iter_fn fn,
		       void *arg)
{
	struct kvh_entry *ent;
	uint32_t i;
	int r;

	if (dirty_only) {
		for (i = 0; i < e->ndirty; i++) {
			ent = kvh_find(e->tab, e->cap, e->dirty[i]);
			if (!ent->val)
				return -EIO;
			r = fn(arg, ent->key, ent->val, ent->len);
			if (r)
				return r;
		}
		return 0;
	}
	for (i = 0; i < e->cap; i++) {
		ent = &e->tab[i];
		if (!ent->val)
			continue;
		r = fn(arg, ent->key, ent->val, ent->len);
		if (r)
			return r;
	}
	return 0;
}

static int kvh_clean(struct kv_engine *e)
{
	uint32_t i;

	for (i = 0; i < e->ndirty; i++)
		kvh_find(e->tab, e->cap, e->dirty[i])->dirty = false;
	e->ndirty = 0;
	return 0;
}

static int kvh_reset(struct kv_engine *e)
{
	kvh_free_values(e);
	memset(e->tab, 0, (size_t)e->cap * sizeof(*e->tab));
	e->used = 0;
	e->ndirty = 0;
	return 0;
}

const struct kv_engine_ops kv_hash_ops = {
	.name = "kv-hash",
	.create = kvh_create,
	.destroy = kvh_destroy,
	.get = kvh_get,
	.put = kvh_put,
	.iterate = kvh_iterate,
	.clean = kvh_clean,
	.reset = kvh_reset,
	.load = kvh_load,
};
