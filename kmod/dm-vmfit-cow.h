/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit persistent cow store: superblock, changed-set bitmap, chunk
 * mapping and commit.  The on-disk format is described in
 * Documentation/admin-guide/device-mapper/dm-vmfit.rst.
 *
 * Every function here may block: call them from process context only,
 * with vf->md_lock held unless noted.
 */
#ifndef DM_VMFIT_COW_H
#define DM_VMFIT_COW_H

#include "dm-vmfit.h"

#define VMFIT_SB_MAGIC 0x564d4654	/* "VMFT" */
#define VMFIT_SB_VERSION 3
#define VMFIT_SB_CSUM_SEED 0x7669666dU

/* Superblock flags. */
#define VMFIT_SB_BM_EMPTY 0x1	/* the on-disk changed set is empty */

/* The superblock: the first 512 bytes of block 0, written atomically. */
struct vmfit_disk_sb {
	__le32 csum;		/* crc32c of bytes 4..511 */
	__le32 magic;		/* VMFIT_SB_MAGIC */
	__le32 version;		/* VMFIT_SB_VERSION */
	__le32 chunk_sectors;	/* chunk size in 512-byte sectors */
	__le64 origin_chunks;	/* chunks of the origin */
	__le64 epoch;		/* snapshots taken */
	__le32 mode;		/* enum vmfit_mode */
	__le32 flags;		/* VMFIT_SB_* */
	__le64 bitmap_start;	/* sector of the first bitmap block */
	__le32 bitmap_blocks;	/* 4 KiB bitmap blocks */
	__le32 map_blocks;	/* 4 KiB mapping blocks */
	__le64 map_start;	/* sector of the first mapping block */
	__le64 data_start;	/* sector of data chunk 0 */
	__le64 data_chunks;	/* data chunks */
	__le64 nonce;		/* random per format: seeds the block checksums */
	__le64 map_used;	/* cow chunks allocated: entries past it unused */
	__u8 pad[416];		/* zero */
} __packed;

/*
 * Header of every bitmap block and of every 512-byte mapping sector: the
 * crc32c (seed vf->csum_seed) of the rest of the block or sector, and the
 * index of the block (bitmap) or sector (mapping) in its area, so that a
 * block written to the wrong place or left from another format does not
 * validate.  An all-zero block or sector is empty (as formatted).
 */
struct vmfit_disk_hdr {
	__le32 csum;
	__le32 index;
} __packed;

/*
 * vmfit_cow_layout - compute the layout for a cow device of @cow_sectors.
 * Returns 0, or -ENOSPC when the metadata and one data chunk do not fit.
 */
int vmfit_cow_layout(struct vmfit *vf, sector_t cow_sectors);

/*
 * vmfit_cow_alloc - allocate the in-core changed set and mapping tables;
 * -ENOMEM with *@error set (never the OOM killer).  vmfit_cow_free()
 * frees what was allocated.
 */
int vmfit_cow_alloc(struct vmfit *vf, char **error);
void vmfit_cow_free(struct vmfit *vf);

/*
 * vmfit_cow_check - read block 0 and decide: *@fresh is set when the first
 * 4 KiB are zero (format needed); otherwise the superblock is validated
 * against the table and its recorded layout is taken up.  Writes nothing.
 * On failure *@error is set.  No lock needed (the instance is not live).
 */
int vmfit_cow_check(struct vmfit *vf, bool *fresh, char **error);

/* vmfit_cow_format - zero the bitmap, write a new superblock. */
int vmfit_cow_format(struct vmfit *vf);

/*
 * vmfit_cow_load - read the superblock, the changed set (unless the
 * superblock says it is empty) and, in snapshot or merging mode, the
 * mapping entries below its allocation mark into core; *@mapped is the
 * number of mapped chunks.  A bitmap block that fails its checksum is
 * rebuilt as all ones (over-reporting); a mapping sector that fails its
 * checksum fails the load with -EILSEQ and *@error set.
 */
int vmfit_cow_load(struct vmfit *vf, u64 *mapped, char **error);

/*
 * vmfit_cow_commit - make the metadata durable (the commit protocol of the
 * admin guide): first the superblock, with REQ_PREFLUSH | REQ_FUA, if it
 * changed (sb_dirty) or if entries past its allocation mark are to be
 * written; then each run of dirty mapping blocks, packed from the
 * to-persist table and written with REQ_PREFLUSH | REQ_FUA, so every cow
 * data write whose entry it holds is durable before the entry, and the
 * entry when the write completes.  Writes nothing when nothing is dirty
 * (a caller that needs the cow flushed then flushes it); a write it does
 * issue flushes the cow first.
 */
int vmfit_cow_commit(struct vmfit *vf);

/* vmfit_cow_write_bitmap - write the dirty bitmap blocks with FUA, in runs. */
int vmfit_cow_write_bitmap(struct vmfit *vf);

/*
 * vmfit_cow_bm_use - the on-disk changed set is about to be written: a
 * superblock that says it is empty (so that a load skips it) is rewritten
 * first.  Caller holds md_lock.
 */
int vmfit_cow_bm_use(struct vmfit *vf);

/* True when a mapping block is dirty or the superblock needs a commit. */
bool vmfit_cow_needs_commit(struct vmfit *vf);

/* vmfit_cow_reset_map - forget every mapping (the snapshot ended). */
void vmfit_cow_reset_map(struct vmfit *vf);

/*
 * vmfit_cow_set_rev - record that cow chunk @cow (from 0) persists as
 * origin chunk @val - 1 (0: free) and mark its mapping block dirty.  The
 * chunk was allocated by vmfit_cow_alloc_chunk().  Doesn't block: safe
 * from end_io.
 */
static inline void vmfit_cow_set_rev(struct vmfit *vf, u32 cow, u32 val)
{
	WRITE_ONCE(*vmfit_tbl_slot(&vf->rev, cow), val);
	/* Pairs with test_and_clear_bit() in vmfit_cow_commit(). */
	smp_mb__before_atomic();
	set_bit(cow / VMFIT_MAP_PER_BLOCK, vf->map_dirty);
}

/*
 * vmfit_cow_alloc_chunk - allocate a cow data chunk (bump the high-water
 * mark) and the room for its entry; *@val is the chunk + 1.  -ENOSPC when
 * the cow is full (no chunk); -ENOMEM when @gfp could not get the room:
 * the chunk in *@val is still the caller's, vmfit_cow_chunk_room() with a
 * blocking @gfp gets the room later.  Blocks only if @gfp does.
 */
int vmfit_cow_alloc_chunk(struct vmfit *vf, u32 *val, gfp_t gfp);
int vmfit_cow_chunk_room(struct vmfit *vf, u32 val, gfp_t gfp);

/*
 * vmfit_cow_set_changed - add @chunk to the exact changed set, once the
 * chunk is durable in the on-disk set (its bit, or its region).  Lockless.
 */
static inline void vmfit_cow_set_changed(struct vmfit *vf, u32 chunk)
{
	if (test_bit_le(chunk, vf->changed))
		return;
	if (!test_and_set_bit_le(chunk, vf->changed)) {
		atomic64_inc(&vf->nr_changed);
		set_bit(chunk / VMFIT_WA_CHUNKS, vf->changed_sum);
	}
}

/*
 * May a write to @chunk go to the origin without a bitmap write?  Only
 * when its region's mark is durable: a bit of the exact set alone is not
 * trusted, since a write that raced with `clear` may set it again after
 * the on-disk set was emptied.
 */
static inline bool vmfit_cow_durable(struct vmfit *vf, u32 chunk)
{
	return test_bit(chunk / VMFIT_WA_CHUNKS, vf->wa_durable);
}

/*
 * vmfit_cow_mark_region - mark the write-ahead region of @chunk whole in
 * the on-disk image (its bitmap blocks become dirty).  Once written,
 * vmfit_cow_region_durable() lets writes to it through.  Caller holds
 * bm_lock.
 */
void vmfit_cow_mark_region(struct vmfit *vf, u32 chunk);

static inline void vmfit_cow_region_durable(struct vmfit *vf, u32 chunk)
{
	set_bit(chunk / VMFIT_WA_CHUNKS, vf->wa_durable);
}

/*
 * vmfit_cow_sync_bitmap - make the on-disk image the exact changed set
 * again (clean suspend): the marked regions are written back as they are.
 * No I/O may be in flight.  Caller holds bm_lock.
 */
int vmfit_cow_sync_bitmap(struct vmfit *vf);

/* vmfit_cow_clear - empty the changed set, in core and on disk.  bm_lock. */
int vmfit_cow_clear(struct vmfit *vf);

/* The first chunk from @c on in the exact changed set, or origin_chunks. */
u32 vmfit_cow_next_changed(struct vmfit *vf, u32 c);

/* Whether the exact changed set is empty. */
static inline bool vmfit_cow_set_empty(struct vmfit *vf)
{
	return find_first_bit(vf->changed_sum, vf->nr_regions) >=
	       vf->nr_regions;
}

#endif /* DM_VMFIT_COW_H */
