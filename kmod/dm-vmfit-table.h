/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit sparse table: a u32 per index, 0 for most of them, in memory
 * that grows with the non-zero entries.  A directory word per
 * VMFIT_TBL_LEAF indexes is 0 (all zero), a pointer to a leaf of
 * VMFIT_TBL_LEAF u32s, or (in a table made with @inline, on 64-bit) one
 * entry held in the word itself: bit 0 set, the index in the leaf above
 * it, the value in the upper 32 bits.  An isolated entry so costs nothing
 * beyond the directory; the second entry of a range gets its leaf.
 * Leaves are freed together by vmfit_tbl_reset().  A bitmap of used
 * directory words makes a walk of the non-zero entries cost one bit per
 * range plus the ranges in use.
 *
 * Lookups and changes are lockless (READ_ONCE, cmpxchg on the directory
 * word or the leaf entry) and safe from any context; a leaf is published
 * with cmpxchg() after it was filled, so a reader that sees the pointer
 * sees its entries.  vmfit_tbl_reset() and vmfit_tbl_free() need the
 * caller to exclude every other user.
 */
#ifndef DM_VMFIT_TABLE_H
#define DM_VMFIT_TABLE_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/types.h>

/* Entries per leaf: 512 bytes. */
#define VMFIT_TBL_LEAF 128

#define VMFIT_TBL_INLINE 1UL

struct vmfit_tbl {
	unsigned long *dir;	/* leaf pointers or inline entries (kvmalloc) */
	unsigned long *present;	/* directory words ever used (kvmalloc) */
	u32 nr_leaves;
	u32 size;		/* indexes */
	bool inline_ok;		/* entries may live in the directory */
};

/*
 * Allocate the directory for @size indexes; -ENOMEM, never the OOM
 * killer.  @sparse: single entries of a range live in the directory.
 */
int vmfit_tbl_init(struct vmfit_tbl *t, u32 size, bool sparse);
void vmfit_tbl_free(struct vmfit_tbl *t);
/* Free every leaf: the table reads all zero again. */
void vmfit_tbl_reset(struct vmfit_tbl *t);
/*
 * The entry of @i in its leaf, the leaf allocated with @gfp if needed;
 * NULL on ENOMEM.  Only for a table made without @sparse.
 */
u32 *vmfit_tbl_slot_alloc(struct vmfit_tbl *t, u32 i, gfp_t gfp);
/*
 * Compare-and-exchange the entry of @i: *@cur is the value found, and the
 * exchange happened when it is @old.  Allocates (with @gfp) only to store
 * a non-zero value where the range already holds another entry in its
 * directory word; -ENOMEM when that fails (nothing changed).
 */
int vmfit_tbl_cmpxchg(struct vmfit_tbl *t, u32 i, u32 old, u32 new,
		      gfp_t gfp, u32 *cur);
/* Set the entry of @i, which is not 0 (never allocates). */
void vmfit_tbl_set(struct vmfit_tbl *t, u32 i, u32 val);
/* The first index from @i on with a non-zero entry, or t->size. */
u32 vmfit_tbl_next(struct vmfit_tbl *t, u32 i);

static inline bool vmfit_tbl_is_inline(unsigned long w)
{
	return w & VMFIT_TBL_INLINE;
}

static inline u32 vmfit_tbl_word_get(unsigned long w, u32 off)
{
	if (!w)
		return 0;
#if BITS_PER_LONG == 64
	if (vmfit_tbl_is_inline(w))
		return ((w >> 1) & (VMFIT_TBL_LEAF - 1)) == off ? w >> 32 : 0;
#endif
	/* Address dependency on the published leaf: see vmfit_tbl_cmpxchg(). */
	return READ_ONCE(((u32 *)w)[off]);
}

static inline u32 vmfit_tbl_get(struct vmfit_tbl *t, u32 i)
{
	return vmfit_tbl_word_get(READ_ONCE(t->dir[i / VMFIT_TBL_LEAF]),
				  i % VMFIT_TBL_LEAF);
}

/* The entry of @i in its leaf, or NULL: only for a table without @sparse. */
static inline u32 *vmfit_tbl_slot(struct vmfit_tbl *t, u32 i)
{
	u32 *leaf = (u32 *)READ_ONCE(t->dir[i / VMFIT_TBL_LEAF]);

	return leaf ? leaf + i % VMFIT_TBL_LEAF : NULL;
}

#endif /* DM_VMFIT_TABLE_H */
