// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit persistent cow store.
 *
 * Layout of the cow device, in 4 KiB blocks:
 *   block 0          superblock (first 512 bytes, sector-atomic)
 *   bitmap_blocks    changed set, bit n = origin chunk n (little-endian)
 *   map_blocks       mapping, one __le64 per origin chunk:
 *                      bits 0..31  cow data chunk + 1 (0 = not mapped)
 *                      bits 32..63 low 32 bits of the epoch it belongs to
 *   data chunks      from data_start, chunk-aligned
 *
 * A mapping entry is valid only while the superblock is in snapshot or
 * merging mode and its epoch matches the superblock's: a new snapshot
 * invalidates every older entry without rewriting the table, and an entry
 * is never split by a torn write (8 bytes inside one sector).
 */
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dm-vmfit-cow.h"

#define VMFIT_ERR_NOT_VMFIT \
	"Cow device holds data that is not a vmfit superblock; zero its first 4 KiB to format it"

/*----------------------------------------------------------------*/

static int vmfit_md_rw(struct vmfit *vf, blk_opf_t opf, sector_t sector,
		       void *buf, unsigned int sectors, bool vmem)
{
	struct dm_io_region where = {
		.bdev = vf->cow_dev->bdev,
		.sector = sector,
		.count = sectors,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.notify.fn = NULL,
		.client = vf->io_client,
	};
	unsigned long error_bits = 0;

	if (vmem) {
		req.mem.type = DM_IO_VMA;
		req.mem.ptr.vma = buf;
	} else {
		req.mem.type = DM_IO_KMEM;
		req.mem.ptr.addr = buf;
	}
	return dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
}

int vmfit_cow_layout(struct vmfit *vf, sector_t cow_sectors)
{
	u64 meta, data;

	vf->bitmap_blocks = DIV_ROUND_UP(vf->origin_chunks, VMFIT_BITS_PER_BLOCK);
	vf->map_blocks = DIV_ROUND_UP(vf->origin_chunks, VMFIT_MAP_PER_BLOCK);
	vf->bitmap_start = VMFIT_BLOCK_SECTORS;
	vf->map_start = vf->bitmap_start +
		(sector_t)vf->bitmap_blocks * VMFIT_BLOCK_SECTORS;
	meta = vf->map_start + (sector_t)vf->map_blocks * VMFIT_BLOCK_SECTORS;
	vf->data_start = round_up(meta, (u64)vf->chunk_sectors);
	if (cow_sectors <= vf->data_start)
		return -ENOSPC;
	data = (cow_sectors - vf->data_start) >> vf->chunk_shift;
	if (!data)
		return -ENOSPC;
	vf->data_chunks = min_t(u64, data, VMFIT_MAX_COW_CHUNKS);
	return 0;
}

static u32 vmfit_sb_csum(const struct vmfit_disk_sb *sb)
{
	return __crc32c_le(VMFIT_SB_CSUM_SEED, (const u8 *)sb + sizeof(sb->csum),
			   sizeof(*sb) - sizeof(sb->csum));
}

static void vmfit_sb_pack(struct vmfit *vf, struct vmfit_disk_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->magic = cpu_to_le32(VMFIT_SB_MAGIC);
	sb->version = cpu_to_le32(VMFIT_SB_VERSION);
	sb->chunk_sectors = cpu_to_le32(vf->chunk_sectors);
	sb->origin_chunks = cpu_to_le64(vf->origin_chunks);
	sb->epoch = cpu_to_le64(vf->epoch);
	sb->mode = cpu_to_le32(vf->sb_mode);
	sb->bitmap_start = cpu_to_le64(vf->bitmap_start);
	sb->bitmap_blocks = cpu_to_le32(vf->bitmap_blocks);
	sb->map_blocks = cpu_to_le32(vf->map_blocks);
	sb->map_start = cpu_to_le64(vf->map_start);
	sb->data_start = cpu_to_le64(vf->data_start);
	sb->data_chunks = cpu_to_le64(vf->data_chunks);
	sb->csum = cpu_to_le32(vmfit_sb_csum(sb));
}

static int vmfit_sb_write(struct vmfit *vf)
{
	memset(vf->md_buf, 0, VMFIT_BLOCK_SIZE);
	vmfit_sb_pack(vf, vf->md_buf);
	/* One sector: sector-atomic on every device we run on. */
	return vmfit_md_rw(vf, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA | REQ_SYNC,
			   0, vf->md_buf, 1, false);
}

int vmfit_cow_check(struct vmfit *vf, bool *fresh, char **error)
{
	struct vmfit_disk_sb *sb = vf->md_buf;
	int r;

	r = vmfit_md_rw(vf, REQ_OP_READ, 0, vf->md_buf, VMFIT_BLOCK_SECTORS, false);
	if (r) {
		*error = "Error reading the cow superblock";
		return r;
	}
	*fresh = !memchr_inv(vf->md_buf, 0, VMFIT_BLOCK_SIZE);
	if (*fresh)
		return 0;

	if (le32_to_cpu(sb->magic) != VMFIT_SB_MAGIC) {
		*error = VMFIT_ERR_NOT_VMFIT;
		return -EINVAL;
	}
	if (le32_to_cpu(sb->csum) != vmfit_sb_csum(sb)) {
		*error = "Cow superblock checksum mismatch";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->version) != VMFIT_SB_VERSION) {
		*error = "Unsupported cow superblock version";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->chunk_sectors) != vf->chunk_sectors) {
		*error = "Chunk size differs from the one in the cow superblock";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->origin_chunks) != vf->origin_chunks) {
		*error = "Origin size differs from the one in the cow superblock";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->bitmap_start) != vf->bitmap_start ||
	    le32_to_cpu(sb->bitmap_blocks) != vf->bitmap_blocks ||
	    le64_to_cpu(sb->map_start) != vf->map_start ||
	    le32_to_cpu(sb->map_blocks) != vf->map_blocks ||
	    le64_to_cpu(sb->data_start) != vf->data_start ||
	    le64_to_cpu(sb->data_chunks) > vf->data_chunks ||
	    le32_to_cpu(sb->mode) > VMFIT_MERGING) {
		*error = "Cow superblock layout does not match the cow device";
		return -EINVAL;
	}
	/* A cow device that grew keeps its recorded size. */
	vf->data_chunks = le64_to_cpu(sb->data_chunks);
	vf->epoch = le64_to_cpu(sb->epoch);
	vf->sb_mode = le32_to_cpu(sb->mode);
	return 0;
}

int vmfit_cow_format(struct vmfit *vf)
{
	sector_t len = vf->data_start - VMFIT_BLOCK_SECTORS;
	int r;

	/* Zero bitmap and mapping first: stale entries must never validate. */
	r = blkdev_issue_zeroout(vf->cow_dev->bdev, VMFIT_BLOCK_SECTORS, len,
				 GFP_KERNEL, 0);
	if (r)
		return r;
	vf->epoch = 0;
	vf->sb_mode = VMFIT_NORMAL;
	return vmfit_sb_write(vf);
}

/* durable := the on-disk image.  No I/O may be in flight. */
static void vmfit_cow_set_durable(struct vmfit *vf)
{
	u32 c;

	bitmap_zero(vf->durable, vf->origin_chunks);
	for (c = find_next_bit_le(vf->ondisk, vf->origin_chunks, 0);
	     c < vf->origin_chunks;
	     c = find_next_bit_le(vf->ondisk, vf->origin_chunks, c + 1))
		set_bit(c, vf->durable);
}

int vmfit_cow_load(struct vmfit *vf)
{
	struct vmfit_disk_sb *sb = vf->md_buf;
	u32 epoch32, max = 0;
	__le64 *entries;
	unsigned int b, i;
	u32 c;
	int r;

	r = vmfit_md_rw(vf, REQ_OP_READ, 0, vf->md_buf, VMFIT_BLOCK_SECTORS, false);
	if (r)
		return r;
	if (le32_to_cpu(sb->magic) != VMFIT_SB_MAGIC ||
	    le32_to_cpu(sb->csum) != vmfit_sb_csum(sb))
		return -EILSEQ;
	vf->epoch = le64_to_cpu(sb->epoch);
	vf->sb_mode = le32_to_cpu(sb->mode);
	epoch32 = lower_32_bits(vf->epoch);

	r = vmfit_md_rw(vf, REQ_OP_READ, vf->bitmap_start, vf->ondisk,
			vf->bitmap_blocks * VMFIT_BLOCK_SECTORS, true);
	if (r)
		return r;
	memcpy(vf->changed, vf->ondisk,
	       (size_t)vf->bitmap_blocks * VMFIT_BLOCK_SIZE);
	vmfit_cow_set_durable(vf);

	memset(vf->map, 0, array_size(vf->origin_chunks, sizeof(u32)));
	memset(vf->dmap, 0, array_size(vf->origin_chunks, sizeof(u32)));
	atomic64_set(&vf->cow_next, 0);
	if (vf->sb_mode == VMFIT_NORMAL)
		return 0;

	entries = vf->md_buf;
	for (b = 0; b < vf->map_blocks; b++) {
		r = vmfit_md_rw(vf, REQ_OP_READ,
				vf->map_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->md_buf, VMFIT_BLOCK_SECTORS, false);
		if (r)
			return r;
		for (i = 0; i < VMFIT_MAP_PER_BLOCK; i++) {
			u64 e = le64_to_cpu(entries[i]);
			u32 val = lower_32_bits(e);

			c = b * VMFIT_MAP_PER_BLOCK + i;
			if (c >= vf->origin_chunks)
				break;
			if (!val || upper_32_bits(e) != epoch32 ||
			    val - 1 >= vf->data_chunks)
				continue;
			vf->map[c] = val;
			vf->dmap[c] = val;
			max = max(max, val);
		}
	}
	atomic64_set(&vf->cow_next, max);
	return 0;
}

static void vmfit_map_block_pack(struct vmfit *vf, unsigned int b,
				 __le64 *entries)
{
	u64 ep = (u64)lower_32_bits(vf->epoch) << 32;
	unsigned int i;

	for (i = 0; i < VMFIT_MAP_PER_BLOCK; i++) {
		u32 c = b * VMFIT_MAP_PER_BLOCK + i;
		u32 val = c < vf->origin_chunks ? READ_ONCE(vf->dmap[c]) : 0;

		entries[i] = val ? cpu_to_le64(ep | val) : 0;
	}
}

bool vmfit_cow_needs_commit(struct vmfit *vf)
{
	return vf->sb_dirty ||
	       find_first_bit(vf->map_dirty, vf->map_blocks) < vf->map_blocks;
}

int vmfit_cow_commit(struct vmfit *vf)
{
	unsigned int b, i, n = 1, end;
	void *buf;
	int r;

	lockdep_assert_held(&vf->md_lock);
	if (vf->sb_mode == VMFIT_MERGING) {
		/* Merged data must be on the origin before its entry goes. */
		r = blkdev_issue_flush(vf->origin_dev->bdev);
		if (r)
			return r;
	}
	/*
	 * One write per run of up to VMFIT_MD_BATCH blocks from a dirty one
	 * to the last dirty one within reach: the clean blocks in between
	 * are packed from dmap too, which always holds what may persist.
	 */
	for (b = find_first_bit(vf->map_dirty, vf->map_blocks);
	     b < vf->map_blocks;
	     b = find_next_bit(vf->map_dirty, vf->map_blocks, b + n)) {
		end = min_t(unsigned int, b + VMFIT_MD_BATCH, vf->map_blocks);
		n = 1;
		for (i = b + 1; i < end; i++) {
			if (test_bit(i, vf->map_dirty))
				n = i - b + 1;
		}
		for (i = 0; i < n; i++) {
			buf = (u8 *)vf->md_batch + (size_t)i * VMFIT_BLOCK_SIZE;
			clear_bit(b + i, vf->map_dirty);
			/* Pairs with smp_mb__before_atomic() in vmfit_cow_set_dmap(). */
			smp_mb__after_atomic();
			vmfit_map_block_pack(vf, b + i, buf);
		}
		r = vmfit_md_rw(vf, REQ_OP_WRITE,
				vf->map_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->md_batch, n * VMFIT_BLOCK_SECTORS, true);
		if (r) {
			for (i = 0; i < n; i++)
				set_bit(b + i, vf->map_dirty);
			return r;
		}
	}
	r = vmfit_sb_write(vf);
	if (!r)
		vf->sb_dirty = false;
	return r;
}

int vmfit_cow_write_bitmap(struct vmfit *vf, bool all)
{
	unsigned int b, i, n = 1, end;
	int r;

	lockdep_assert_held(&vf->bm_lock);
	if (all)
		bitmap_set(vf->bm_dirty, 0, vf->bitmap_blocks);
	/*
	 * One FUA write per run of up to VMFIT_MD_BATCH blocks from a dirty
	 * one to the last dirty one within reach: a clean block in between
	 * is rewritten with what it already holds.
	 */
	for (b = find_first_bit(vf->bm_dirty, vf->bitmap_blocks);
	     b < vf->bitmap_blocks;
	     b = find_next_bit(vf->bm_dirty, vf->bitmap_blocks, b + n)) {
		end = min_t(unsigned int, b + VMFIT_MD_BATCH, vf->bitmap_blocks);
		n = 1;
		for (i = b + 1; i < end; i++) {
			if (test_bit(i, vf->bm_dirty))
				n = i - b + 1;
		}
		for (i = 0; i < n; i++)
			clear_bit(b + i, vf->bm_dirty);
		r = vmfit_md_rw(vf, REQ_OP_WRITE | REQ_FUA | REQ_SYNC,
				vf->bitmap_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				(u8 *)vf->ondisk + (size_t)b * VMFIT_BLOCK_SIZE,
				n * VMFIT_BLOCK_SECTORS, true);
		if (r) {
			for (i = 0; i < n; i++)
				set_bit(b + i, vf->bm_dirty);
			return r;
		}
	}
	return 0;
}

u32 vmfit_cow_mark_region(struct vmfit *vf, u32 chunk, u32 *end)
{
	u32 start = round_down(chunk, VMFIT_WA_CHUNKS);
	u32 c;

	lockdep_assert_held(&vf->bm_lock);
	set_bit_le(chunk, vf->changed);
	*end = min_t(u32, start + VMFIT_WA_CHUNKS, vf->origin_chunks);
	for (c = start; c < *end; c++) {
		if (!test_and_set_bit_le(c, vf->ondisk))
			set_bit(c / VMFIT_BITS_PER_BLOCK, vf->bm_dirty);
	}
	return start;
}

int vmfit_cow_sync_bitmap(struct vmfit *vf)
{
	size_t off;
	int r;

	lockdep_assert_held(&vf->bm_lock);
	for (off = 0; off < (size_t)vf->bitmap_blocks * VMFIT_BLOCK_SIZE;
	     off += VMFIT_BLOCK_SIZE) {
		u8 *mem = (u8 *)vf->changed + off, *disk = (u8 *)vf->ondisk + off;

		if (!memcmp(mem, disk, VMFIT_BLOCK_SIZE))
			continue;
		memcpy(disk, mem, VMFIT_BLOCK_SIZE);
		set_bit(off / VMFIT_BLOCK_SIZE, vf->bm_dirty);
	}
	r = vmfit_cow_write_bitmap(vf, false);
	vmfit_cow_set_durable(vf);
	return r;
}
