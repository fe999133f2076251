// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit persistent cow store.
 *
 * Layout of the cow device, in 4 KiB blocks:
 *   block 0          superblock (first 512 bytes, sector-atomic)
 *   bitmap_blocks    changed set: an 8-byte header, then bit n = origin
 *                    chunk n of the block (little-endian)
 *   map_blocks       mapping, 8 sectors per block, each an 8-byte header
 *                    and 63 __le64 entries, one per origin chunk:
 *                      bits 0..31  cow data chunk + 1 (0 = not mapped)
 *                      bits 32..63 low 32 bits of the epoch it belongs to
 *   data chunks      from data_start, chunk-aligned
 *
 * A mapping entry is valid only while the superblock is in snapshot or
 * merging mode and its epoch matches the superblock's: a new snapshot
 * invalidates every older entry without rewriting the table.  A mapping
 * sector is written whole and checked whole: a torn block write leaves
 * every sector old or new, each with a valid checksum.
 */
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dm-vmfit-cow.h"

#define VMFIT_ERR_NOT_VMFIT \
	"Cow device holds data that is not a vmfit superblock; zero its first 4 KiB to format it"
#define VMFIT_ERR_V1 \
	"Cow device has format 1, this module needs format 2: end the snapshot with the old module, then zero the first 4 KiB of the cow device to reformat it"

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

	vf->bitmap_blocks = DIV_ROUND_UP(vf->origin_chunks,
					 (u32)VMFIT_BITS_PER_BLOCK);
	vf->map_blocks = DIV_ROUND_UP(vf->origin_chunks,
				      (u32)VMFIT_MAP_PER_BLOCK);
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

static void vmfit_set_nonce(struct vmfit *vf, u64 nonce)
{
	__le64 n = cpu_to_le64(nonce);

	vf->nonce = nonce;
	vf->csum_seed = __crc32c_le(VMFIT_SB_CSUM_SEED, (const u8 *)&n,
				    sizeof(n));
}

static u32 vmfit_hdr_csum(struct vmfit *vf, const void *buf, size_t len)
{
	return __crc32c_le(vf->csum_seed, (const u8 *)buf + sizeof(__le32),
			   len - sizeof(__le32));
}

/* Seal a bitmap block or mapping sector of @len bytes. */
static void vmfit_hdr_seal(struct vmfit *vf, void *buf, size_t len, u32 index)
{
	struct vmfit_disk_hdr *h = buf;

	h->index = cpu_to_le32(index);
	h->csum = cpu_to_le32(vmfit_hdr_csum(vf, buf, len));
}

/* 1: empty (all zero), 0: valid, -EILSEQ: torn, stale or corrupt. */
static int vmfit_hdr_check(struct vmfit *vf, const void *buf, size_t len,
			   u32 index)
{
	const struct vmfit_disk_hdr *h = buf;

	if (!memchr_inv(buf, 0, len))
		return 1;
	if (le32_to_cpu(h->index) != index ||
	    le32_to_cpu(h->csum) != vmfit_hdr_csum(vf, buf, len))
		return -EILSEQ;
	return 0;
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
	sb->nonce = cpu_to_le64(vf->nonce);
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
	if (le32_to_cpu(sb->version) == 1) {
		*error = VMFIT_ERR_V1;
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
	vmfit_set_nonce(vf, le64_to_cpu(sb->nonce));
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
	vmfit_set_nonce(vf, get_random_u64());
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

/* Read the bitmap blocks into ondisk; a bad block becomes all ones. */
static int vmfit_load_bitmap(struct vmfit *vf)
{
	unsigned int b, i, n;
	u8 *blk;
	int r;

	for (b = 0; b < vf->bitmap_blocks; b += n) {
		n = min_t(unsigned int, VMFIT_MD_BATCH, vf->bitmap_blocks - b);
		r = vmfit_md_rw(vf, REQ_OP_READ,
				vf->bitmap_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->md_batch, n * VMFIT_BLOCK_SECTORS, true);
		if (r)
			return r;
		for (i = 0; i < n; i++) {
			u8 *dst = (u8 *)vf->ondisk + (size_t)(b + i) * VMFIT_BM_BYTES;

			blk = (u8 *)vf->md_batch + (size_t)i * VMFIT_BLOCK_SIZE;
			r = vmfit_hdr_check(vf, blk, VMFIT_BLOCK_SIZE, b + i);
			if (r == 1)
				continue;
			if (!r) {
				memcpy(dst, blk + VMFIT_HDR_SIZE, VMFIT_BM_BYTES);
				continue;
			}
			/* Over-reporting is safe: every chunk of it changed. */
			DMWARN("%s: changed-set block %u fails its checksum: %s",
			       vmfit_name(vf), b + i,
			       "all its chunks count as changed");
			memset(dst, 0xff, VMFIT_BM_BYTES);
			set_bit(b + i, vf->bm_dirty);
		}
	}
	/* Bits past the last chunk stay clear. */
	for (i = vf->origin_chunks;
	     i < (u64)vf->bitmap_blocks * VMFIT_BITS_PER_BLOCK; i++)
		clear_bit_le(i, vf->ondisk);
	return 0;
}

/* Load the valid entries of mapping sector @s (in md_buf); max cow value. */
static int vmfit_load_map_sector(struct vmfit *vf, const u8 *sec, u32 s,
				 u32 *max)
{
	const __le64 *entries = (const __le64 *)(sec + VMFIT_HDR_SIZE);
	u32 epoch32 = lower_32_bits(vf->epoch);
	unsigned int i;
	int r;

	r = vmfit_hdr_check(vf, sec, SECTOR_SIZE, s);
	if (r)
		return r == 1 ? 0 : r;
	for (i = 0; i < VMFIT_MAP_PER_SECTOR; i++) {
		u64 e = le64_to_cpu(entries[i]);
		u32 val = lower_32_bits(e);
		u64 c = (u64)s * VMFIT_MAP_PER_SECTOR + i;

		if (c >= vf->origin_chunks)
			break;
		if (!val || upper_32_bits(e) != epoch32 ||
		    val - 1 >= vf->data_chunks)
			continue;
		vf->map[c] = val;
		vf->dmap[c] = val;
		*max = max(*max, val);
	}
	return 0;
}

int vmfit_cow_load(struct vmfit *vf, char **error)
{
	struct vmfit_disk_sb *sb = vf->md_buf;
	unsigned int b, s;
	u32 max = 0;
	int r;

	r = vmfit_md_rw(vf, REQ_OP_READ, 0, vf->md_buf, VMFIT_BLOCK_SECTORS, false);
	if (r) {
		*error = "Error reading the cow superblock";
		return r;
	}
	if (le32_to_cpu(sb->magic) != VMFIT_SB_MAGIC ||
	    le32_to_cpu(sb->csum) != vmfit_sb_csum(sb)) {
		*error = "Cow superblock checksum mismatch";
		return -EILSEQ;
	}
	vf->epoch = le64_to_cpu(sb->epoch);
	vf->sb_mode = le32_to_cpu(sb->mode);
	vmfit_set_nonce(vf, le64_to_cpu(sb->nonce));

	memset(vf->ondisk, 0, (size_t)vf->bitmap_blocks * VMFIT_BLOCK_SIZE);
	r = vmfit_load_bitmap(vf);
	if (r) {
		*error = "Error reading the cow changed-set bitmap";
		return r;
	}
	memcpy(vf->changed, vf->ondisk,
	       (size_t)vf->bitmap_blocks * VMFIT_BLOCK_SIZE);
	vmfit_cow_set_durable(vf);

	memset(vf->map, 0, array_size(vf->origin_chunks, sizeof(u32)));
	memset(vf->dmap, 0, array_size(vf->origin_chunks, sizeof(u32)));
	atomic64_set(&vf->cow_next, 0);
	if (vf->sb_mode == VMFIT_NORMAL)
		return 0;

	for (b = 0; b < vf->map_blocks; b++) {
		r = vmfit_md_rw(vf, REQ_OP_READ,
				vf->map_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->md_buf, VMFIT_BLOCK_SECTORS, false);
		if (r) {
			*error = "Error reading the cow mapping";
			return r;
		}
		for (s = 0; s < VMFIT_BLOCK_SECTORS; s++) {
			r = vmfit_load_map_sector(vf, (u8 *)vf->md_buf +
						  s * SECTOR_SIZE,
						  b * VMFIT_BLOCK_SECTORS + s,
						  &max);
			if (!r)
				continue;
			/* A sector is written atomically: this is corruption. */
			DMERR("%s: cow mapping sector %u fails its checksum",
			      vmfit_name(vf), b * VMFIT_BLOCK_SECTORS + s);
			*error = "Cow mapping fails its checksum: the cow device is corrupt";
			return r;
		}
	}
	atomic64_set(&vf->cow_next, max);
	return 0;
}

static void vmfit_map_block_pack(struct vmfit *vf, unsigned int b, u8 *blk)
{
	u64 ep = (u64)lower_32_bits(vf->epoch) << 32;
	unsigned int s, i;

	for (s = 0; s < VMFIT_BLOCK_SECTORS; s++) {
		u8 *sec = blk + s * SECTOR_SIZE;
		__le64 *entries = (__le64 *)(sec + VMFIT_HDR_SIZE);
		u32 idx = b * VMFIT_BLOCK_SECTORS + s;

		for (i = 0; i < VMFIT_MAP_PER_SECTOR; i++) {
			u64 c = (u64)idx * VMFIT_MAP_PER_SECTOR + i;
			u32 val = c < vf->origin_chunks ?
				READ_ONCE(vf->dmap[c]) : 0;

			entries[i] = val ? cpu_to_le64(ep | val) : 0;
		}
		vmfit_hdr_seal(vf, sec, SECTOR_SIZE, idx);
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
		/*
		 * Commit protocol, rule 1: an entry packed above was set when
		 * its data write had completed, so the preflush makes that
		 * data durable before the entry is written.
		 */
		r = vmfit_md_rw(vf, REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC,
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
		for (i = 0; i < n; i++) {
			u8 *blk = (u8 *)vf->bm_batch + (size_t)i * VMFIT_BLOCK_SIZE;

			clear_bit(b + i, vf->bm_dirty);
			memcpy(blk + VMFIT_HDR_SIZE,
			       (u8 *)vf->ondisk + (size_t)(b + i) * VMFIT_BM_BYTES,
			       VMFIT_BM_BYTES);
			vmfit_hdr_seal(vf, blk, VMFIT_BLOCK_SIZE, b + i);
		}
		r = vmfit_md_rw(vf, REQ_OP_WRITE | REQ_FUA | REQ_SYNC,
				vf->bitmap_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->bm_batch, n * VMFIT_BLOCK_SECTORS, true);
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
	for (off = 0; off < (size_t)vf->bitmap_blocks * VMFIT_BM_BYTES;
	     off += VMFIT_BM_BYTES) {
		u8 *mem = (u8 *)vf->changed + off, *disk = (u8 *)vf->ondisk + off;

		if (!memcmp(mem, disk, VMFIT_BM_BYTES))
			continue;
		memcpy(disk, mem, VMFIT_BM_BYTES);
		set_bit(off / VMFIT_BM_BYTES, vf->bm_dirty);
	}
	r = vmfit_cow_write_bitmap(vf, false);
	vmfit_cow_set_durable(vf);
	return r;
}
