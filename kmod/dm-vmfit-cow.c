// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit persistent cow store (cow format 3).
 *
 * Layout of the cow device, in 4 KiB blocks:
 *   block 0          superblock (first 512 bytes, sector-atomic)
 *   bitmap_blocks    changed set: an 8-byte header, then bit n = origin
 *                    chunk n of the block (little-endian)
 *   map_blocks       mapping, 8 sectors per block, each an 8-byte header
 *                    and 63 __le64 entries, one per COW DATA chunk:
 *                      bits 0..31  origin chunk + 1 (0 = free)
 *                      bits 32..63 low 32 bits of the epoch it belongs to
 *   data chunks      from data_start, chunk-aligned
 *
 * Cow chunks are allocated in order, so the entries in use are a prefix of
 * the mapping, shorter than the mark the superblock records (map_used,
 * set VMFIT_MAP_AHEAD past the allocations so that most commits need no
 * superblock write): a load reads that prefix only, and memory holds
 * entries for mapped chunks only.
 * A mapping entry is valid only while the superblock is in snapshot or
 * merging mode and its epoch matches the superblock's: a new snapshot
 * invalidates every older entry without rewriting the table.  A mapping
 * sector is written whole and checked whole: a torn block write leaves
 * every sector old or new, each with a valid checksum.
 */
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dm-vmfit-cow.h"

#define VMFIT_ERR_NOT_VMFIT \
	"Cow device holds data that is not a vmfit superblock; zero its first 4 KiB to format it"
#define VMFIT_ERR_V1 \
	"Cow device has format 1, this module needs format 3: end the snapshot with the old module, then zero the first 4 KiB of the cow device to reformat it"
#define VMFIT_ERR_V2 \
	"Cow device has format 2, this module needs format 3: end the snapshot with the old module, then zero the first 4 KiB of the cow device to reformat it"

/* Big in-core tables: fail the constructor, never call the OOM killer. */
#define VMFIT_BIG_GFP (GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

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
	u64 meta, data, most;

	vf->bitmap_blocks = DIV_ROUND_UP(vf->origin_chunks,
					 (u32)VMFIT_BITS_PER_BLOCK);
	vf->bitmap_start = VMFIT_BLOCK_SECTORS;
	vf->map_start = vf->bitmap_start +
		(sector_t)vf->bitmap_blocks * VMFIT_BLOCK_SECTORS;
	if (cow_sectors <= vf->map_start)
		return -ENOSPC;
	/* Room for an entry per chunk that could follow the mapping. */
	most = min_t(u64, (cow_sectors - vf->map_start) >> vf->chunk_shift,
		     VMFIT_MAX_COW_CHUNKS);
	vf->map_blocks = max_t(u64, DIV_ROUND_UP(most, VMFIT_MAP_PER_BLOCK), 1);
	meta = vf->map_start + (sector_t)vf->map_blocks * VMFIT_BLOCK_SECTORS;
	vf->data_start = round_up(meta, (u64)vf->chunk_sectors);
	if (cow_sectors <= vf->data_start)
		return -ENOSPC;
	data = (cow_sectors - vf->data_start) >> vf->chunk_shift;
	if (!data)
		return -ENOSPC;
	vf->data_chunks = min_t(u64, data, most);
	return 0;
}

static unsigned long *vmfit_bitmap_zalloc(u32 bits)
{
	return kvcalloc(BITS_TO_LONGS(bits), sizeof(long), VMFIT_BIG_GFP);
}

int vmfit_cow_alloc(struct vmfit *vf, char **error)
{
	size_t bm = array_size(vf->bitmap_blocks, VMFIT_BM_BYTES);

	vf->nr_regions = DIV_ROUND_UP(vf->origin_chunks, VMFIT_WA_CHUNKS);
	/* One bit per origin chunk: the only cost that grows with it. */
	vf->changed = kvzalloc(bm, VMFIT_BIG_GFP);
	if (!vf->changed) {
		*error = "Cannot allocate memory for the changed set";
		return -ENOMEM;
	}
	vf->changed_sum = vmfit_bitmap_zalloc(vf->nr_regions);
	vf->wa_ondisk = vmfit_bitmap_zalloc(vf->nr_regions);
	vf->wa_durable = vmfit_bitmap_zalloc(vf->nr_regions);
	vf->bm_dirty = vmfit_bitmap_zalloc(vf->bitmap_blocks);
	if (!vf->changed_sum || !vf->wa_ondisk || !vf->wa_durable ||
	    !vf->bm_dirty) {
		*error = "Cannot allocate memory for the changed set";
		return -ENOMEM;
	}
	/* Routing: sparse; to-persist: filled in allocation order. */
	if (vmfit_tbl_init(&vf->map, vf->origin_chunks, true) ||
	    vmfit_tbl_init(&vf->rev, vf->data_chunks, false)) {
		*error = "Cannot allocate memory for the cow mapping";
		return -ENOMEM;
	}
	vf->map_dirty = vmfit_bitmap_zalloc(vf->map_blocks);
	vf->md_batch = vmalloc(array_size(VMFIT_MD_BATCH, VMFIT_BLOCK_SIZE));
	vf->bm_batch = vmalloc(array_size(VMFIT_MD_BATCH, VMFIT_BLOCK_SIZE));
	if (!vf->map_dirty || !vf->md_batch || !vf->bm_batch) {
		*error = "Cannot allocate memory";
		return -ENOMEM;
	}
	return 0;
}

/* The structure may outlive this (pins): nothing dangles. */
void vmfit_cow_free(struct vmfit *vf)
{
	kvfree(vf->changed);
	kvfree(vf->changed_sum);
	kvfree(vf->wa_ondisk);
	kvfree(vf->wa_durable);
	kvfree(vf->bm_dirty);
	vmfit_tbl_free(&vf->map);
	vmfit_tbl_free(&vf->rev);
	kvfree(vf->map_dirty);
	vfree(vf->md_batch);
	vfree(vf->bm_batch);
	vf->changed = NULL;
	vf->changed_sum = NULL;
	vf->wa_ondisk = NULL;
	vf->wa_durable = NULL;
	vf->bm_dirty = NULL;
	vf->map_dirty = NULL;
	vf->md_batch = NULL;
	vf->bm_batch = NULL;
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
	sb->flags = cpu_to_le32(vf->bm_empty ? VMFIT_SB_BM_EMPTY : 0);
	sb->map_used = cpu_to_le64(vf->map_used);
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

/* Is the recorded layout of @sb one this table can use? */
static bool vmfit_sb_layout_ok(struct vmfit *vf, struct vmfit_disk_sb *sb)
{
	u64 map_blocks = le32_to_cpu(sb->map_blocks);
	u64 data_start = le64_to_cpu(sb->data_start);
	u64 data_chunks = le64_to_cpu(sb->data_chunks);
	u64 cow = bdev_nr_sectors(vf->cow_dev->bdev);

	return le64_to_cpu(sb->bitmap_start) == vf->bitmap_start &&
	       le32_to_cpu(sb->bitmap_blocks) == vf->bitmap_blocks &&
	       le64_to_cpu(sb->map_start) == vf->map_start &&
	       data_chunks && data_chunks <= VMFIT_MAX_COW_CHUNKS &&
	       map_blocks * VMFIT_MAP_PER_BLOCK >= data_chunks &&
	       data_start >= vf->map_start + map_blocks * VMFIT_BLOCK_SECTORS &&
	       !(data_start & (vf->chunk_sectors - 1)) &&
	       data_start + (data_chunks << vf->chunk_shift) <= cow &&
	       le64_to_cpu(sb->map_used) <= data_chunks &&
	       le32_to_cpu(sb->mode) <= VMFIT_MERGING;
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
	if (le32_to_cpu(sb->version) == 2) {
		*error = VMFIT_ERR_V2;
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
	if (!vmfit_sb_layout_ok(vf, sb)) {
		*error = "Cow superblock layout does not match the cow device";
		return -EINVAL;
	}
	/* A cow device that grew keeps its recorded layout. */
	vf->map_blocks = le32_to_cpu(sb->map_blocks);
	vf->data_start = le64_to_cpu(sb->data_start);
	vf->data_chunks = le64_to_cpu(sb->data_chunks);
	vf->epoch = le64_to_cpu(sb->epoch);
	vf->sb_mode = le32_to_cpu(sb->mode);
	vmfit_set_nonce(vf, le64_to_cpu(sb->nonce));
	return 0;
}

int vmfit_cow_format(struct vmfit *vf)
{
	sector_t len = vf->map_start - vf->bitmap_start;
	int r;

	/*
	 * Zero the bitmap: a block left from an earlier format would count
	 * all its chunks as changed.  The mapping needs no zeroing: only
	 * entries below map_used (0 here) are read, and an old format's
	 * entries do not validate (nonce).
	 */
	r = blkdev_issue_zeroout(vf->cow_dev->bdev, vf->bitmap_start, len,
				 GFP_KERNEL, 0);
	if (r)
		return r;
	vf->epoch = 0;
	vf->sb_mode = VMFIT_NORMAL;
	vf->bm_empty = true;
	vf->map_used = 0;
	vmfit_set_nonce(vf, get_random_u64());
	return vmfit_sb_write(vf);
}

/* Recount the exact set and its region summary (after a load). */
static void vmfit_count_set(struct vmfit *vf)
{
	u32 c, n = vf->origin_chunks;

	bitmap_zero(vf->changed_sum, vf->nr_regions);
	atomic64_set(&vf->nr_changed, 0);
	for (c = find_next_bit_le(vf->changed, n, 0); c < n;
	     c = find_next_bit_le(vf->changed, n, c + 1)) {
		atomic64_inc(&vf->nr_changed);
		set_bit(c / VMFIT_WA_CHUNKS, vf->changed_sum);
	}
}

/* Clear the bits of @bm past the last origin chunk. */
static void vmfit_clear_tail(struct vmfit *vf, void *bm)
{
	u64 i, end = (u64)vf->bitmap_blocks * VMFIT_BITS_PER_BLOCK;

	for (i = vf->origin_chunks; i < end && i % 8; i++)
		clear_bit_le(i, bm);
	if (i < end)
		memset((u8 *)bm + i / 8, 0, (end - i) / 8);
}

/* Read the bitmap blocks into the exact set; a bad block becomes all ones. */
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
			u8 *dst = (u8 *)vf->changed + (size_t)(b + i) * VMFIT_BM_BYTES;

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
	vmfit_clear_tail(vf, vf->changed);
	vmfit_count_set(vf);
	return 0;
}

/* Load the valid entries of mapping sector @s (cow chunks 63 * s on). */
static int vmfit_load_map_sector(struct vmfit *vf, const u8 *sec, u32 s,
				 u64 used, u32 *max, u64 *mapped)
{
	const __le64 *entries = (const __le64 *)(sec + VMFIT_HDR_SIZE);
	u32 epoch32 = lower_32_bits(vf->epoch);
	u32 *rslot, cur;
	unsigned int i;
	int r;

	r = vmfit_hdr_check(vf, sec, SECTOR_SIZE, s);
	if (r)
		return r == 1 ? 0 : r;
	for (i = 0; i < VMFIT_MAP_PER_SECTOR; i++) {
		u64 e = le64_to_cpu(entries[i]);
		u32 val = lower_32_bits(e);
		u64 cow = (u64)s * VMFIT_MAP_PER_SECTOR + i;

		if (cow >= used)
			break;
		if (!val || upper_32_bits(e) != epoch32 ||
		    val - 1 >= vf->origin_chunks)
			continue;
		rslot = vmfit_tbl_slot_alloc(&vf->rev, cow, GFP_KERNEL);
		if (!rslot || vmfit_tbl_cmpxchg(&vf->map, val - 1, 0, cow + 1,
						GFP_KERNEL, &cur))
			return -ENOMEM;
		/* Two live entries for one origin chunk: not ours. */
		if (cur)
			return -EILSEQ;
		*rslot = val;
		if (!test_bit_le(val - 1, vf->changed))
			atomic64_inc(&vf->nr_cow_only);
		*max = max_t(u32, *max, cow + 1);
		(*mapped)++;
	}
	return 0;
}

/* Read the mapping entries below @used (cow chunks) into core. */
static int vmfit_load_map(struct vmfit *vf, u64 used, u64 *mapped,
			  char **error)
{
	unsigned int b, n, s, blocks = DIV_ROUND_UP_ULL(used, VMFIT_MAP_PER_BLOCK);
	u32 max = 0;
	int r;

	for (b = 0; b < blocks; b += n) {
		n = min_t(unsigned int, VMFIT_MD_BATCH, blocks - b);
		r = vmfit_md_rw(vf, REQ_OP_READ,
				vf->map_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
				vf->md_batch, n * VMFIT_BLOCK_SECTORS, true);
		if (r) {
			*error = "Error reading the cow mapping";
			return r;
		}
		for (s = 0; s < n * VMFIT_BLOCK_SECTORS; s++) {
			u32 idx = b * VMFIT_BLOCK_SECTORS + s;

			r = vmfit_load_map_sector(vf, (u8 *)vf->md_batch +
						  (size_t)s * SECTOR_SIZE,
						  idx, used, &max, mapped);
			if (r == -ENOMEM) {
				*error = "Cannot allocate memory for the cow mapping";
				return r;
			}
			if (!r)
				continue;
			/* A sector is written atomically: this is corruption. */
			DMERR("%s: cow mapping sector %u fails its checksum",
			      vmfit_name(vf), idx);
			*error = "Cow mapping fails its checksum: the cow device is corrupt";
			return r;
		}
	}
	atomic64_set(&vf->cow_next, max);
	return 0;
}

int vmfit_cow_load(struct vmfit *vf, u64 *mapped, char **error)
{
	struct vmfit_disk_sb *sb = vf->md_buf;
	u64 used;
	int r;

	*mapped = 0;
	r = vmfit_md_rw(vf, REQ_OP_READ, 0, vf->md_buf, VMFIT_BLOCK_SECTORS, false);
	if (r) {
		*error = "Error reading the cow superblock";
		return r;
	}
	if (le32_to_cpu(sb->magic) != VMFIT_SB_MAGIC ||
	    le32_to_cpu(sb->csum) != vmfit_sb_csum(sb) ||
	    !vmfit_sb_layout_ok(vf, sb)) {
		*error = "Cow superblock checksum mismatch";
		return -EILSEQ;
	}
	vf->epoch = le64_to_cpu(sb->epoch);
	vf->sb_mode = le32_to_cpu(sb->mode);
	vf->bm_empty = le32_to_cpu(sb->flags) & VMFIT_SB_BM_EMPTY;
	used = le64_to_cpu(sb->map_used);
	vf->map_used = used;
	vmfit_set_nonce(vf, le64_to_cpu(sb->nonce));

	/* Core is empty (allocated zeroed, loaded once). */
	if (!vf->bm_empty) {
		r = vmfit_load_bitmap(vf);
		if (r) {
			*error = "Error reading the cow changed-set bitmap";
			return r;
		}
	}
	atomic64_set(&vf->cow_next, 0);
	if (vf->sb_mode == VMFIT_NORMAL)
		return 0;
	return vmfit_load_map(vf, used, mapped, error);
}

/*
 * Pack mapping block @b from the to-persist table.  An entry at or past
 * the superblock's mark is left out (a load would not read it): true
 * when one was, so that the block stays dirty for the next commit.
 */
static bool vmfit_map_block_pack(struct vmfit *vf, unsigned int b, u8 *blk)
{
	u64 ep = (u64)lower_32_bits(vf->epoch) << 32;
	bool later = false;
	unsigned int s, i;

	for (s = 0; s < VMFIT_BLOCK_SECTORS; s++) {
		u8 *sec = blk + s * SECTOR_SIZE;
		__le64 *entries = (__le64 *)(sec + VMFIT_HDR_SIZE);
		u32 idx = b * VMFIT_BLOCK_SECTORS + s;

		for (i = 0; i < VMFIT_MAP_PER_SECTOR; i++) {
			u64 c = (u64)idx * VMFIT_MAP_PER_SECTOR + i;
			u32 val = c < vf->data_chunks ?
				vmfit_tbl_get(&vf->rev, c) : 0;

			if (val && c >= vf->map_used) {
				later = true;
				val = 0;
			}
			entries[i] = val ? cpu_to_le64(ep | val) : 0;
		}
		vmfit_hdr_seal(vf, sec, SECTOR_SIZE, idx);
	}
	return later;
}

int vmfit_cow_bm_use(struct vmfit *vf)
{
	lockdep_assert_held(&vf->md_lock);
	if (!vf->bm_empty)
		return 0;
	/* Not set again on failure: the device fails, no stale claim. */
	vf->bm_empty = false;
	vf->sb_dirty = true;
	return vmfit_cow_commit(vf);
}

bool vmfit_cow_needs_commit(struct vmfit *vf)
{
	return vf->sb_dirty ||
	       find_first_bit(vf->map_dirty, vf->map_blocks) < vf->map_blocks;
}

/*
 * Pack mapping blocks [@b, @b + @n) (at most VMFIT_MD_BATCH) and write
 * them with @flags.  Their dirty bits are cleared before they are packed;
 * a block stays dirty when the write fails or when it holds an entry at
 * or past the superblock's mark (left out).
 */
static int vmfit_map_write(struct vmfit *vf, unsigned int b, unsigned int n,
			   blk_opf_t flags)
{
	bool later = false;
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		clear_bit(b + i, vf->map_dirty);
		/* Pairs with smp_mb__before_atomic() in vmfit_cow_set_rev(). */
		smp_mb__after_atomic();
		if (vmfit_map_block_pack(vf, b + i, (u8 *)vf->md_batch +
					 (size_t)i * VMFIT_BLOCK_SIZE))
			later = true;
	}
	r = vmfit_md_rw(vf, REQ_OP_WRITE | REQ_SYNC | flags,
			vf->map_start + (sector_t)b * VMFIT_BLOCK_SECTORS,
			vf->md_batch, n * VMFIT_BLOCK_SECTORS, true);
	if (r || later) {
		for (i = 0; i < n; i++)
			set_bit(b + i, vf->map_dirty);
	}
	return r;
}

/*
 * Move the allocation mark past @used.  Every mapping block between the
 * old mark and the new one is written (packed from the to-persist table)
 * before the superblock declares it: a load never reads a sector left
 * from an earlier format or from before a crash, which would fail its
 * checksum or name a chunk that was allocated again since.  The preflush:
 * rule 1 for the entries packed.
 */
static int vmfit_map_extend(struct vmfit *vf, u64 used)
{
	u64 old = vf->map_used;
	unsigned int b, n, end;
	int r;

	/* Whole blocks (504 entries: not a power of two). */
	end = DIV_ROUND_UP_ULL(used + VMFIT_MAP_AHEAD, VMFIT_MAP_PER_BLOCK);
	vf->map_used = min_t(u64, (u64)end * VMFIT_MAP_PER_BLOCK,
			     vf->data_chunks);
	end = DIV_ROUND_UP_ULL(vf->map_used, VMFIT_MAP_PER_BLOCK);
	for (b = old / VMFIT_MAP_PER_BLOCK; b < end; b += n) {
		n = min_t(unsigned int, VMFIT_MD_BATCH, end - b);
		r = vmfit_map_write(vf, b, n, REQ_PREFLUSH);
		if (r) {
			vf->map_used = old;
			return r;
		}
	}
	return 0;
}

/*
 * Commit protocol, rule 2 and the allocation mark: the superblock goes
 * first when it changed, or when entries of chunks at or past the mark it
 * records are to be written (a load reads none past it; the mark then
 * moves VMFIT_MAP_AHEAD past the allocations).  Its PREFLUSH | FUA makes
 * it durable before any entry packed after it.
 */
static int vmfit_cow_commit_sb(struct vmfit *vf)
{
	u64 used = min_t(u64, atomic64_read(&vf->cow_next), vf->data_chunks);
	u64 old = vf->map_used;
	int r;

	if (!vf->sb_dirty && used <= old)
		return 0;
	if (used > old) {
		r = vmfit_map_extend(vf, used);
		if (r)
			return r;
	}
	r = vmfit_sb_write(vf);
	if (r) {
		vf->map_used = old;
		return r;
	}
	vf->sb_dirty = false;
	return 0;
}

int vmfit_cow_commit(struct vmfit *vf)
{
	unsigned int b, i, n = 1, end;
	int r;

	lockdep_assert_held(&vf->md_lock);
	r = vmfit_cow_commit_sb(vf);
	if (r)
		return r;
	/*
	 * One write per run of up to VMFIT_MD_BATCH blocks from a dirty one
	 * to the last dirty one within reach: the clean blocks in between
	 * are packed from the to-persist table too, which always holds what
	 * may persist.
	 *
	 * Commit protocol, rule 1: an entry packed was set when its data
	 * write had completed, so the preflush makes that data durable before
	 * the entry is written.  FUA: the commit is durable when the write
	 * completes, with no superblock write after it.
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
		r = vmfit_map_write(vf, b, n, REQ_PREFLUSH | REQ_FUA);
		if (r)
			return r;
	}
	return 0;
}

/*
 * The on-disk image of bitmap block @b: the exact set, with every marked
 * region whole.  Bytes hold 8 chunks and never straddle a region.
 */
static void vmfit_bm_block_pack(struct vmfit *vf, unsigned int b, u8 *blk)
{
	const u8 *src = (const u8 *)vf->changed + (size_t)b * VMFIT_BM_BYTES;
	u8 *dst = blk + VMFIT_HDR_SIZE;
	u64 base = (u64)b * VMFIT_BITS_PER_BLOCK;
	unsigned int j;

	for (j = 0; j < VMFIT_BM_BYTES; j++) {
		u64 c = base + 8 * j;
		u8 v;

		if (c >= vf->origin_chunks) {
			dst[j] = 0;
			continue;
		}
		if (test_bit(c / VMFIT_WA_CHUNKS, vf->wa_ondisk))
			v = 0xff;
		else
			v = READ_ONCE(src[j]);
		/* Bits past the last chunk stay clear. */
		if (c + 8 > vf->origin_chunks)
			v &= (1U << (vf->origin_chunks - c)) - 1;
		dst[j] = v;
	}
	vmfit_hdr_seal(vf, blk, VMFIT_BLOCK_SIZE, b);
}

int vmfit_cow_write_bitmap(struct vmfit *vf)
{
	unsigned int b, i, n = 1, end;
	int r;

	lockdep_assert_held(&vf->bm_lock);
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
			clear_bit(b + i, vf->bm_dirty);
			vmfit_bm_block_pack(vf, b + i, (u8 *)vf->bm_batch +
					    (size_t)i * VMFIT_BLOCK_SIZE);
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

/* Mark the bitmap blocks holding region @r dirty. */
static void vmfit_dirty_region(struct vmfit *vf, u32 r)
{
	u64 first = (u64)r * VMFIT_WA_CHUNKS;
	u64 last = min_t(u64, first + VMFIT_WA_CHUNKS, vf->origin_chunks) - 1;
	u64 b;

	for (b = first / VMFIT_BITS_PER_BLOCK; b <= last / VMFIT_BITS_PER_BLOCK;
	     b++)
		set_bit(b, vf->bm_dirty);
}

void vmfit_cow_mark_region(struct vmfit *vf, u32 chunk)
{
	u32 r = chunk / VMFIT_WA_CHUNKS;

	lockdep_assert_held(&vf->bm_lock);
	if (!test_and_set_bit(r, vf->wa_ondisk))
		vmfit_dirty_region(vf, r);
}

int vmfit_cow_sync_bitmap(struct vmfit *vf)
{
	u32 r;

	lockdep_assert_held(&vf->bm_lock);
	/* Only marked regions differ from the exact set on disk. */
	for_each_set_bit(r, vf->wa_ondisk, vf->nr_regions)
		vmfit_dirty_region(vf, r);
	bitmap_zero(vf->wa_durable, vf->nr_regions);
	bitmap_zero(vf->wa_ondisk, vf->nr_regions);
	return vmfit_cow_write_bitmap(vf);
}

int vmfit_cow_clear(struct vmfit *vf)
{
	u32 r;

	lockdep_assert_held(&vf->bm_lock);
	/* What is set on disk: marked regions and regions with a bit. */
	for_each_set_bit(r, vf->wa_ondisk, vf->nr_regions)
		vmfit_dirty_region(vf, r);
	for_each_set_bit(r, vf->changed_sum, vf->nr_regions) {
		u64 first = (u64)r * VMFIT_WA_CHUNKS;

		vmfit_dirty_region(vf, r);
		/* A region is 64 whole bytes of the le bitmap. */
		memset((u8 *)vf->changed + first / 8, 0,
		       (min_t(u64, first + VMFIT_WA_CHUNKS,
			      round_up((u64)vf->origin_chunks, 8)) - first) / 8);
	}
	bitmap_zero(vf->wa_durable, vf->nr_regions);
	bitmap_zero(vf->wa_ondisk, vf->nr_regions);
	bitmap_zero(vf->changed_sum, vf->nr_regions);
	atomic64_set(&vf->nr_changed, 0);
	return vmfit_cow_write_bitmap(vf);
}

u32 vmfit_cow_next_changed(struct vmfit *vf, u32 c)
{
	u32 n = vf->origin_chunks, r, end, x;

	for (r = find_next_bit(vf->changed_sum, vf->nr_regions,
			       c / VMFIT_WA_CHUNKS);
	     r < vf->nr_regions;
	     r = find_next_bit(vf->changed_sum, vf->nr_regions, r + 1)) {
		end = min_t(u64, (u64)(r + 1) * VMFIT_WA_CHUNKS, n);
		x = find_next_bit_le(vf->changed, end,
				     max_t(u32, c, r * VMFIT_WA_CHUNKS));
		if (x < end)
			return x;
	}
	return n;
}

void vmfit_cow_reset_map(struct vmfit *vf)
{
	vmfit_tbl_reset(&vf->map);
	vmfit_tbl_reset(&vf->rev);
	bitmap_zero(vf->map_dirty, vf->map_blocks);
	atomic64_set(&vf->cow_next, 0);
	atomic64_set(&vf->nr_cow_only, 0);
	/* Recorded by the next superblock write. */
	vf->map_used = 0;
}

int vmfit_cow_alloc_chunk(struct vmfit *vf, u32 *val, gfp_t gfp)
{
	s64 n = atomic64_fetch_add_unless(&vf->cow_next, 1, vf->data_chunks);

	if (unlikely(n >= vf->data_chunks))
		return -ENOSPC;
	*val = n + 1;
	return vmfit_cow_chunk_room(vf, *val, gfp);
}

int vmfit_cow_chunk_room(struct vmfit *vf, u32 val, gfp_t gfp)
{
	return vmfit_tbl_slot_alloc(&vf->rev, val - 1, gfp) ? 0 : -ENOMEM;
}
