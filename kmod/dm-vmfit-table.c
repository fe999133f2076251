// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit sparse table: see dm-vmfit-table.h.
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "dm-vmfit-table.h"

/*
 * A table sized by the origin may be large: no OOM killer for it, the
 * constructor fails with a message instead.
 */
#define VMFIT_TBL_GFP (GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

int vmfit_tbl_init(struct vmfit_tbl *t, u32 size, bool sparse)
{
	t->size = size;
	t->nr_leaves = DIV_ROUND_UP(size, VMFIT_TBL_LEAF);
	t->inline_ok = sparse && BITS_PER_LONG == 64;
	t->dir = kvcalloc(t->nr_leaves, sizeof(*t->dir), VMFIT_TBL_GFP);
	t->present = kvcalloc(BITS_TO_LONGS(t->nr_leaves), sizeof(long),
			      VMFIT_TBL_GFP);
	if (!t->dir || !t->present) {
		vmfit_tbl_free(t);
		return -ENOMEM;
	}
	return 0;
}

void vmfit_tbl_reset(struct vmfit_tbl *t)
{
	u32 l;

	if (!t->dir)
		return;
	for_each_set_bit(l, t->present, t->nr_leaves) {
		if (!vmfit_tbl_is_inline(t->dir[l]))
			kfree((void *)t->dir[l]);
		t->dir[l] = 0;
	}
	bitmap_zero(t->present, t->nr_leaves);
}

void vmfit_tbl_free(struct vmfit_tbl *t)
{
	vmfit_tbl_reset(t);
	kvfree(t->dir);
	kvfree(t->present);
	t->dir = NULL;
	t->present = NULL;
}

/*
 * Install a new leaf in directory word @l, which holds @w (0 or an inline
 * entry, moved into the leaf).  False when @w changed meanwhile or on
 * ENOMEM (*@nomem set).
 */
static bool vmfit_tbl_grow(struct vmfit_tbl *t, u32 l, unsigned long w,
			   gfp_t gfp, bool *nomem)
{
	u32 *leaf = kcalloc(VMFIT_TBL_LEAF, sizeof(u32), gfp | __GFP_NOWARN);

	if (!leaf) {
		*nomem = true;
		return false;
	}
#if BITS_PER_LONG == 64
	if (vmfit_tbl_is_inline(w))
		leaf[(w >> 1) & (VMFIT_TBL_LEAF - 1)] = w >> 32;
#endif
	/* Full barrier: the filled leaf is visible before its pointer. */
	if (cmpxchg(&t->dir[l], w, (unsigned long)leaf) != w) {
		kfree(leaf);
		return false;
	}
	set_bit(l, t->present);
	return true;
}

u32 *vmfit_tbl_slot_alloc(struct vmfit_tbl *t, u32 i, gfp_t gfp)
{
	u32 l = i / VMFIT_TBL_LEAF;
	bool nomem = false;
	u32 *slot;

	if (WARN_ON_ONCE(t->inline_ok))
		return NULL;
	while (!(slot = vmfit_tbl_slot(t, i))) {
		vmfit_tbl_grow(t, l, 0, gfp, &nomem);
		if (nomem)
			return NULL;
	}
	return slot;
}

static unsigned long vmfit_tbl_inline(u32 off, u32 val)
{
#if BITS_PER_LONG == 64
	return val ? (unsigned long)val << 32 | off << 1 | VMFIT_TBL_INLINE : 0;
#else
	return 0;	/* inline_ok is never set */
#endif
}

int vmfit_tbl_cmpxchg(struct vmfit_tbl *t, u32 i, u32 old, u32 new,
		      gfp_t gfp, u32 *cur)
{
	u32 l = i / VMFIT_TBL_LEAF, off = i % VMFIT_TBL_LEAF;
	bool nomem = false;
	unsigned long w;

	for (;;) {
		w = READ_ONCE(t->dir[l]);
		*cur = vmfit_tbl_word_get(w, off);
		if (*cur != old)
			return 0;
		if (w && !vmfit_tbl_is_inline(w)) {
			*cur = cmpxchg(&((u32 *)w)[off], old, new);
			return 0;
		}
		if (old == new)
			return 0;
		/* Inline: empty, our own entry, or another one's. */
		if (t->inline_ok && (!w || *cur || !new)) {
			if (cmpxchg(&t->dir[l], w, vmfit_tbl_inline(off, new)) != w)
				continue;
			if (!w)
				set_bit(l, t->present);
			return 0;
		}
		if (!vmfit_tbl_grow(t, l, w, gfp, &nomem) && nomem)
			return -ENOMEM;
	}
}

void vmfit_tbl_set(struct vmfit_tbl *t, u32 i, u32 val)
{
	u32 old, cur;

	do {
		old = vmfit_tbl_get(t, i);
		if (WARN_ON_ONCE(!old) ||
		    WARN_ON_ONCE(vmfit_tbl_cmpxchg(t, i, old, val, GFP_NOWAIT,
						   &cur)))
			return;
	} while (cur != old);
}

u32 vmfit_tbl_next(struct vmfit_tbl *t, u32 i)
{
	u32 l, j, first = i / VMFIT_TBL_LEAF;
	unsigned long w;

	for (l = find_next_bit(t->present, t->nr_leaves, first);
	     l < t->nr_leaves;
	     l = find_next_bit(t->present, t->nr_leaves, l + 1)) {
		w = READ_ONCE(t->dir[l]);
		for (j = l == first ? i % VMFIT_TBL_LEAF : 0;
		     j < VMFIT_TBL_LEAF; j++) {
			if (vmfit_tbl_word_get(w, j))
				return min_t(u64, (u64)l * VMFIT_TBL_LEAF + j,
					     t->size);
		}
	}
	return t->size;
}
