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
#define VMFIT_SB_VERSION 2
#define VMFIT_SB_CSUM_SEED 0x7669666dU

/* The superblock: the first 512 bytes of block 0, written atomically. */
struct vmfit_disk_sb {
	__le32 csum;		/* crc32c of bytes 4..511 */
	__le32 magic;		/* VMFIT_SB_MAGIC */
	__le32 version;		/* VMFIT_SB_VERSION */
	__le32 chunk_sectors;	/* chunk size in 512-byte sectors */
	__le64 origin_chunks;	/* chunks of the origin */
	__le64 epoch;		/* snapshots taken */
	__le32 mode;		/* enum vmfit_mode */
	__le32 flags;		/* 0 */
	__le64 bitmap_start;	/* sector of the first bitmap block */
	__le32 bitmap_blocks;	/* 4 KiB bitmap blocks */
	__le32 map_blocks;	/* 4 KiB mapping blocks */
	__le64 map_start;	/* sector of the first mapping block */
	__le64 data_start;	/* sector of data chunk 0 */
	__le64 data_chunks;	/* data chunks */
	__le64 nonce;		/* random per format: seeds the block checksums */
	__u8 pad[424];		/* zero */
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
 * vmfit_cow_check - read block 0 and decide: *@fresh is set when the first
 * 4 KiB are zero (format needed); otherwise the superblock is validated
 * against the table.  Writes nothing.  On failure *@error is set.
 * No lock needed (the instance is not live yet).
 */
int vmfit_cow_check(struct vmfit *vf, bool *fresh, char **error);

/* vmfit_cow_format - zero the bitmap and mapping, write a new superblock. */
int vmfit_cow_format(struct vmfit *vf);

/*
 * vmfit_cow_load - read superblock, bitmap and mapping into core; recompute
 * the allocation high-water mark from the committed mapping.  A bitmap
 * block that fails its checksum is rebuilt as all ones (over-reporting);
 * a mapping sector that fails its checksum fails the load with -EILSEQ and
 * *@error set.
 */
int vmfit_cow_load(struct vmfit *vf, char **error);

/*
 * vmfit_cow_commit - make everything durable (the commit protocol of the
 * admin guide): each run of dirty mapping blocks is packed from dmap and
 * written with REQ_PREFLUSH, so every cow data write whose entry it holds
 * is durable before the entry; then the superblock with
 * REQ_PREFLUSH | REQ_FUA, which makes the entries and every completed cow
 * data write durable.
 */
int vmfit_cow_commit(struct vmfit *vf);

/* vmfit_cow_write_bitmap - write dirty (or @all) bitmap blocks with FUA, in runs. */
int vmfit_cow_write_bitmap(struct vmfit *vf, bool all);

/* True when a mapping block is dirty or the superblock needs a commit. */
bool vmfit_cow_needs_commit(struct vmfit *vf);

/*
 * vmfit_cow_set_dmap - record that chunk @chunk is persisted as @val and
 * mark its mapping block dirty.  Doesn't block: safe from end_io.
 */
static inline void vmfit_cow_set_dmap(struct vmfit *vf, u32 chunk, u32 val)
{
	WRITE_ONCE(vf->dmap[chunk], val);
	/* Pairs with test_and_clear_bit() in vmfit_cow_commit(). */
	smp_mb__before_atomic();
	set_bit(chunk / VMFIT_MAP_PER_BLOCK, vf->map_dirty);
}

/*
 * vmfit_cow_mark_changed - add @chunk to the in-core changed set and to
 * the on-disk image, and mark its bitmap block dirty.  Caller holds bm_lock.
 */
static inline void vmfit_cow_mark_changed(struct vmfit *vf, u32 chunk)
{
	set_bit_le(chunk, vf->changed);
	if (!test_and_set_bit_le(chunk, vf->ondisk))
		set_bit(chunk / VMFIT_BITS_PER_BLOCK, vf->bm_dirty);
}

/*
 * vmfit_cow_mark_region - add @chunk to the in-core changed set and its
 * whole write-ahead region to the on-disk image.  Returns the first chunk
 * of the region; the region ends at @*end.  Caller holds bm_lock.
 */
u32 vmfit_cow_mark_region(struct vmfit *vf, u32 chunk, u32 *end);

/*
 * vmfit_cow_sync_bitmap - make the on-disk image the exact changed set
 * again (clean suspend); recomputes the durable bits.  No I/O may be in
 * flight.  Caller holds bm_lock.
 */
int vmfit_cow_sync_bitmap(struct vmfit *vf);

#endif /* DM_VMFIT_COW_H */
