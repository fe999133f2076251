/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit: a device-mapper target with an in-target epoch-switch snapshot,
 * a persistent changed set and a read-only frozen view.
 *
 * This header holds the instance structure shared by the target code
 * (dm-vmfit-target.c), the persistent cow store (dm-vmfit-cow.c), the
 * frozen view (dm-vmfit-view.c), checksums and the netlink family, and the
 * typed core API they all call (at the end): the dm message handler and
 * the netlink family are two front ends of the same functions.
 */
#ifndef DM_VMFIT_H
#define DM_VMFIT_H

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/dm-vmfit.h>

#include "dm-vmfit-table.h"

#define DM_MSG_PREFIX "vmfit"

#define VMFIT_OPT_IGNORE_DISCARD "ignore_discard"

/* Metadata block size: superblock, bitmap and mapping blocks. */
#define VMFIT_BLOCK_SIZE 4096
#define VMFIT_BLOCK_SECTORS (VMFIT_BLOCK_SIZE >> SECTOR_SHIFT)
/*
 * Every metadata block and mapping sector starts with an 8-byte header
 * (checksum, index): see struct vmfit_disk_hdr in dm-vmfit-cow.h.
 */
#define VMFIT_HDR_SIZE 8
/* Mapping: 63 entries per 512-byte sector, 8 sectors per block. */
#define VMFIT_MAP_PER_SECTOR ((SECTOR_SIZE - VMFIT_HDR_SIZE) / sizeof(__le64))
#define VMFIT_MAP_PER_BLOCK (VMFIT_MAP_PER_SECTOR * VMFIT_BLOCK_SECTORS)
/* Bitmap: the bits of a block follow its header (a multiple of 64 bits). */
#define VMFIT_BM_BYTES (VMFIT_BLOCK_SIZE - VMFIT_HDR_SIZE)
#define VMFIT_BITS_PER_BLOCK (VMFIT_BM_BYTES * 8)

/* Most mapping blocks written by one I/O of a commit (128 KiB). */
#define VMFIT_MD_BATCH 32

/*
 * The allocation mark in the superblock (map_used) is set this many cow
 * chunks ahead of the allocations it must cover, so that most commits
 * write their mapping block and leave the superblock alone.  A load reads
 * this much more of the mapping (8 blocks, 32 KiB).
 */
#define VMFIT_MAP_AHEAD (8 * VMFIT_MAP_PER_BLOCK)

/*
 * Write-ahead region of the on-disk changed set, in chunks (a multiple of
 * 8: whole bitmap bytes).  The first write to any chunk of a region marks
 * the whole region on disk, so later writes to its other chunks need no
 * bitmap write; a crash may over-report up to a region per write.
 */
#define VMFIT_WA_CHUNKS 512

/*
 * In-core mapping values (sparse table by origin chunk): 0 is "not in the cow",
 * VMFIT_BUSY is "a copy of this chunk is in progress, wait for it",
 * anything else is the cow data chunk + 1.
 */
#define VMFIT_BUSY U32_MAX
#define VMFIT_MAX_COW_CHUNKS (U32_MAX - 2)

/*
 * Modes of the live device, persisted in the superblock, and its health:
 * the values of the netlink ABI (uapi enums are append-only, so the
 * on-disk values cannot change under the kernel's feet either).
 */
enum vmfit_mode {
	VMFIT_NORMAL = VMFIT_NL_MODE_NORMAL,
	VMFIT_SNAPSHOT = VMFIT_NL_MODE_SNAPSHOT,
	VMFIT_MERGING = VMFIT_NL_MODE_MERGING,
};

enum vmfit_health {
	VMFIT_OK = VMFIT_NL_HEALTH_OK,
	VMFIT_COW_FULL = VMFIT_NL_HEALTH_COW_FULL,
	VMFIT_FAIL = VMFIT_NL_HEALTH_FAIL,
};

/*
 * The routing state word: mode in the low 2 bits, generation above.  Every
 * mode switch bumps the generation; bios count themselves in the in-flight
 * counter of their generation's parity, so a switch can wait for the bios
 * that were mapped under the previous mode.
 */
#define VMFIT_STATE_MODE(s) ((s) & 3U)
#define VMFIT_STATE_PARITY(s) (((s) >> 2) & 1U)

/* Bios in flight per generation parity, on one CPU (see "Generations"). */
struct vmfit_inflight {
	long n[2];
};

/* Per-bio data of the live target. */
struct vmfit_io {
	u64 held_start;		/* ns when the bio was first held, 0 if never */
	u32 chunk;		/* origin chunk the bio addresses */
	u32 cow;		/* cow value (data chunk + 1) it went to, or 0 */
	u32 alloc;		/* cow value allocated by map(), not yet mapped */
	u8 parity;		/* generation parity it is counted in */
	u8 mode;		/* mode it was mapped under */
	u8 flags;		/* VMFIT_IO_* */
};

#define VMFIT_IO_COUNTED	0x01	/* holds a count in inflight[parity] */
#define VMFIT_IO_FUA		0x02	/* a REQ_FUA write remapped to the cow */
#define VMFIT_IO_COMMITTED	0x04	/* its mapping was committed: complete it */

/* A chunk being copied (origin -> cow, or cow -> origin when merging). */
struct vmfit_job {
	struct list_head list;		/* in vmfit.jobs, protected by "lock" */
	struct vmfit *vf;
	u32 chunk;			/* origin chunk */
	u32 cow;			/* cow data chunk (not + 1) */
	int error;			/* kcopyd result */
	unsigned int cow_parity;	/* generation count taken over from the bio */
	struct bio_list waiters;	/* bios parked on this chunk */
};

struct vmfit {
	struct dm_target *ti;
	struct mapped_device *md;	/* the mapped device, for all its tables */
	char name[16];			/* its kernel name ("dm-N"), for logs */
	struct dm_dev *origin_dev;	/* the replica's data */
	struct dm_dev *cow_dev;		/* metadata + redirected chunks */
	dev_t devt;			/* the mapped device (registry key) */
	struct list_head registry;	/* in vmfit_registry */
	unsigned int views;		/* open vmfit-view targets; Protected by "md_lock" */
	struct kref ref;		/* the table's, and one per vmfit-view */
	bool dead;			/* the table is gone (views fail); Protected by "lock" */

	/* Table line: STATUSTYPE_TABLE regenerates it from these. */
	bool ignore_discard;		/* feature arg */

	/* Geometry. */
	u32 chunk_sectors;		/* chunk size in 512-byte sectors */
	unsigned int chunk_shift;	/* log2(chunk_sectors) */
	u32 origin_chunks;		/* chunks covering ti->len */

	/* On-disk layout (sectors on the cow device). */
	sector_t bitmap_start;		/* first bitmap block */
	u32 bitmap_blocks;		/* number of 4 KiB bitmap blocks */
	sector_t map_start;		/* first mapping block */
	u32 map_blocks;			/* number of 4 KiB mapping blocks */
	sector_t data_start;		/* first data chunk */
	u32 data_chunks;		/* data chunks available */

	/* Persistent state; Protected by "md_lock". */
	u64 epoch;			/* snapshots taken over the cow's life */
	enum vmfit_mode sb_mode;	/* mode written to the superblock */
	bool sb_dirty;			/* superblock needs a commit */
	bool loaded;			/* bitmap and mapping read from disk */
	bool active;			/* resumed: owns the metadata */
	struct mutex md_lock;		/* metadata I/O, mode changes, messages */
	struct mutex bm_lock;		/* changed set, bitmap I/O; inside md_lock */
	void *md_buf;			/* one metadata block, for I/O */
	void *md_batch;			/* VMFIT_MD_BATCH mapping blocks (vmalloc) */
	void *bm_batch;			/* VMFIT_MD_BATCH bitmap blocks; Protected by "bm_lock" */
	u64 nonce;			/* random per format, in every checksum */
	u32 csum_seed;			/* crc32c seed of bitmap and mapping blocks */
	struct dm_io_client *io_client;

	/* Routing, read locklessly in map(). */
	unsigned int state;		/* mode | generation << 2, WRITE_ONCE */
	struct vmfit_inflight __percpu *inflight; /* bios per generation parity */
	wait_queue_head_t drain_wq;	/* woken when an old generation drains */

	/*
	 * Changed set: the exact set, one bit per origin chunk; per write-ahead
	 * region (VMFIT_WA_CHUNKS), whether it has a changed chunk, whether it
	 * is marked whole in the on-disk set, and whether that mark is durable
	 * (what map() tests).  A chunk's bit in "changed" is set once it is
	 * durable on disk.
	 */
	unsigned long *changed;		/* exact changed set (le bitmap); set_bit_le() */
	unsigned long *changed_sum;	/* regions with a bit in changed */
	unsigned long *wa_ondisk;	/* regions marked on disk; Protected by "bm_lock" */
	unsigned long *wa_durable;	/* regions whose mark is durable, tested in map() */
	unsigned long *bm_dirty;	/* bitmap blocks to write */
	u32 nr_regions;			/* write-ahead regions of the origin */
	atomic64_t nr_changed;		/* bits set in changed */
	atomic64_t nr_cow_only;		/* mapped chunks not in changed (snapshot) */
	bool bm_empty;			/* superblock says: on-disk set empty; "md_lock" */

	/* Cow mapping. */
	struct vmfit_tbl map;		/* origin chunk -> routing value (cmpxchg) */
	struct vmfit_tbl rev;		/* cow chunk -> origin chunk + 1 to persist */
	unsigned long *map_dirty;	/* mapping blocks to write */
	atomic64_t cow_next;		/* allocation high-water mark */
	u64 map_used;			/* superblock mark: entries written are below; "md_lock" */

	/* Deferred work; lists Protected by "lock". */
	spinlock_t lock;
	struct bio_list bm_bios;	/* writes waiting for a durable bit */
	struct bio_list copy_bios;	/* partial writes to unmapped chunks */
	struct bio_list retry_bios;	/* bios to route again */
	struct bio_list room_bios;	/* full-chunk writes: map with GFP_NOIO */
	struct bio_list flush_bios;	/* flushes waiting for a commit */
	struct bio_list fua_bios;	/* FUA origin writes (merging): commit, then submit */
	struct bio_list fua_done;	/* FUA cow writes done: commit, then complete */
	struct bio_list view_bios;	/* view reads waiting for the drain */
	struct list_head jobs;		/* struct vmfit_job in progress */
	struct workqueue_struct *wq;	/* ordered: worker, drain, commit */
	struct work_struct worker;
	struct work_struct drain_work;
	struct work_struct event_work;	/* dm_table_event() */
	struct delayed_work commit_work; /* periodic commit */
	/*
	 * Flushes and done FUA cow writes need only a commit: a per-CPU
	 * worker on the submitter's CPU, not a hop to the ordered one.
	 */
	struct workqueue_struct *flush_wq;
	struct work_struct flush_work;
	struct dm_kcopyd_client *kc;
	mempool_t job_pool;		/* struct vmfit_job, allocated GFP_NOIO */

	/* Snapshot. */
	bool draining;			/* old generation still in flight; Protected by "md_lock" */
	bool switching;			/* drop/merge end in progress; Protected by "md_lock" */
	bool view_ready;		/* frozen origin is stable; Protected by "lock" */
	u64 snap_start_ns;		/* ktime of the snapshot message */
	atomic64_t held_ns;		/* total ns bios were held (last snapshot) */
	u64 drain_ns;			/* snapshot message -> view ready */

	/* Merge. */
	struct workqueue_struct *merge_wq;
	struct work_struct merge_work;
	bool merge_stop;		/* presuspend asks the merge to pause */
	u32 merge_cursor;		/* next chunk to look at */
	u64 merged;			/* chunks merged */
	u64 to_merge;			/* chunks to merge when it started */
	atomic_t merge_pending;		/* kcopyd jobs of the current batch */
	struct completion merge_done;	/* last job of a batch finished */

	int health;			/* enum vmfit_health, changed by cmpxchg() */
};

static inline u32 vmfit_chunk(struct vmfit *vf, sector_t sector)
{
	return sector >> vf->chunk_shift;
}

static inline sector_t vmfit_chunk_to_sector(struct vmfit *vf, u32 chunk)
{
	return (sector_t)chunk << vf->chunk_shift;
}

/* Length in sectors of origin chunk @chunk (the last one may be short). */
static inline sector_t vmfit_chunk_len(struct vmfit *vf, u32 chunk)
{
	sector_t start = vmfit_chunk_to_sector(vf, chunk);

	return min_t(sector_t, vf->chunk_sectors, vf->ti->len - start);
}

static inline bool vmfit_mapped(u32 v)
{
	return v && v != VMFIT_BUSY;
}

static inline const char *vmfit_name(struct vmfit *vf)
{
	return vf->name;
}

static inline enum vmfit_mode vmfit_mode(struct vmfit *vf)
{
	return VMFIT_STATE_MODE(READ_ONCE(vf->state));
}

/*
 *--------------------------------------------------------------
 * Core API (dm-vmfit-target.c)
 *
 * The state changes: each takes md_lock, may sleep, and returns 0 or a
 * -errno with *@why set to a string literal saying why (for DMERR and for
 * netlink extack messages).  They need a loaded instance (-EBUSY before).
 *--------------------------------------------------------------
 */
/* Freeze the origin: -EBUSY when a snapshot is active, -EIO when failed. */
int vmfit_snapshot(struct vmfit *vf, const char **why);
/*
 * End the snapshot by merging the cow back / by discarding it: -EINVAL
 * without a snapshot, -EBUSY while it is pinned or still draining.
 */
int vmfit_merge(struct vmfit *vf, const char **why);
int vmfit_drop(struct vmfit *vf, const char **why);
/* Empty the changed set: -EBUSY unless in normal mode. */
int vmfit_clear(struct vmfit *vf, const char **why);

/*
 * One status source: the status line, netlink's VMFIT_CMD_GET_STATUS and
 * so vmfit-ctl all report these fields.  Read without md_lock (status
 * must never make the I/O path wait), each field once.
 */
struct vmfit_stats {
	enum vmfit_mode mode;
	enum vmfit_nl_view view;	/* none, draining, ready */
	enum vmfit_health health;	/* cow_full is reported in snapshot mode only */
	u64 epoch;			/* snapshots taken */
	u64 changed;			/* chunks in the changed set */
	u64 cow_used;			/* cow data chunks in use (0 when normal) */
	u64 cow_total;			/* cow data chunks */
	u64 held_ns;			/* last snapshot: ns bios were held */
	u64 drain_ns;			/* last snapshot: message -> view ready */
	u64 merged;			/* merging: chunks merged so far */
	u64 to_merge;			/* merging: chunks to merge */
	u32 chunk_sectors;
	u64 origin_chunks;
};

void vmfit_get_stats(struct vmfit *vf, struct vmfit_stats *st);

/*
 * Pin the snapshot for a reader (a vmfit-view, a checksum session): while
 * pinned, merge and drop fail with -EBUSY and a reload is refused, and
 * the structure stays allocated (a reference) even when the table goes;
 * vf->dead then tells the reader to stop.  VMFIT_PIN_READY also asks for a
 * drained snapshot (-EAGAIN while draining) on a healthy device.
 */
#define VMFIT_PIN_READY 0x1
int vmfit_pin(struct vmfit *vf, unsigned int flags, const char **why);
void vmfit_unpin(struct vmfit *vf);
/*
 * vmfit_pin_devt - pin the snapshot of the live vmfit device @devt for a
 * view of @len sectors; on success returns the instance and sets *@origin
 * to the origin's device number.  -ENODEV (not a vmfit device), -EBUSY (a
 * reload is pending), or what vmfit_pin() returns.
 */
struct vmfit *vmfit_pin_devt(dev_t devt, sector_t len, dev_t *origin,
			     const char **why);

/*
 *--------------------------------------------------------------
 * Internals of dm-vmfit-target.c used by dm-vmfit-merge.c
 *--------------------------------------------------------------
 */
/* Chunks copied back per merge batch (also the job mempool's reserve). */
#define VMFIT_MERGE_BATCH 64

/* Health to fail: logged, a dm event and a netlink event. */
void vmfit_fail(struct vmfit *vf, const char *what, int r);
/* Switch the routing mode (md_lock held); returns the parity to drain. */
unsigned int vmfit_switch(struct vmfit *vf, enum vmfit_mode mode);
/* Wait for the bios counted in generation parity @parity. */
void vmfit_wait_gen(struct vmfit *vf, unsigned int parity);
/* Drop and merge end (md_lock held, dropped while waiting): to normal. */
void vmfit_end_to_normal(struct vmfit *vf);
/*
 * Make a mode change durable before it takes effect in core: on failure
 * the superblock keeps the old mode and the target fails.  md_lock held.
 */
int vmfit_commit_mode(struct vmfit *vf, enum vmfit_mode mode,
		      const char *what);
/* Jobs from the instance's mempool: never fail (GFP_NOIO). */
struct vmfit_job *vmfit_job_alloc(struct vmfit *vf);
void vmfit_job_free(struct vmfit *vf, struct vmfit_job *job);

/* dm-vmfit-merge.c: the merge worker (vf->merge_work). */
void vmfit_merge_work(struct work_struct *ws);

/* dm-vmfit-view.c: the vmfit-view target. */
int dm_vmfit_view_init(void);
void dm_vmfit_view_exit(void);

#endif /* DM_VMFIT_H */
