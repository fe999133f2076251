// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit checksums of the frozen view.
 *
 * A session owns a ring of slots (the window).  Each slot reads one chunk
 * of the origin with an asynchronous dm-io request; its completion queues
 * the slot on the session's own unbound workqueue, which hashes it with
 * crypto_shash_digest().  The queue's max_active is the worker count
 * (default: one per online CPU), so reads of the whole window overlap the
 * hashing and at most cs->workers chunks hash at once.  The consumer takes
 * the digest at the head of the ring, in chunk order, and the freed slot
 * is queued again with the next chunk, so the window moves only as fast as
 * the consumer reads.
 *
 * Live I/O comes first, by md's resync rule: a session may always hash at
 * csum_speed_min KiB/s; faster only while the live device (the vmfit
 * device itself, whose disk statistics count only the replica's I/O) has
 * been idle for VMFIT_CSUM_IDLE_MS, and never above csum_speed_max.
 *
 * Locking, in this order: vmfit_csum_list_lock (the session list), then
 * vmfit_csum.lock (one session's cursor, ring and vf pointer), then
 * vf->md_lock (taken by vmfit_pin() and vmfit_unpin()).
 */
#include <crypto/hash.h>
#include <linux/blkdev.h>
#include <linux/dm-io.h>
#include <linux/dm-ioctl.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/part_stat.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <uapi/linux/dm-vmfit.h>

#include "dm-vmfit.h"
#include "dm-vmfit-csum.h"
#include "dm-vmfit-netlink.h"

struct vmfit_csum_alg {
	const char *name;		/* crypto API name */
	unsigned int digest_size;
};

static const struct vmfit_csum_alg vmfit_csum_algs[] = {
	[VMFIT_CSUM_SHA256] = { "sha256", 32 },
	[VMFIT_CSUM_BLAKE2B_256] = { "blake2b-256", 32 },
	[VMFIT_CSUM_XXHASH64] = { "xxhash64", 8 },
	[VMFIT_CSUM_CRC32C] = { "crc32c", 4 },
};

struct vmfit_csum_slot {
	struct work_struct work;
	struct vmfit_csum *cs;
	u64 chunk;			/* chunk being hashed */
	int error;			/* read or hash result */
	bool ready;			/* digest valid; smp_store_release */
	void *buf;			/* one chunk */
	u8 digest[VMFIT_DIGEST_MAX];
};

struct vmfit_csum {
	struct list_head list;		/* in vmfit_csum_list */
	struct mutex lock;		/* cursor, ring, vf */
	struct vmfit *vf;		/* NULL once detached; Protected by "lock" */
	struct block_device *bdev;	/* the frozen origin */
	dev_t devt;
	char name[DM_NAME_LEN];
	u32 algo;
	struct crypto_shash *tfm;
	struct dm_io_client *io;
	sector_t dev_sectors;		/* length of the live device */
	unsigned int chunk_shift;
	const void *changed;		/* le bitmap, or NULL: every chunk */
	u64 next;			/* next chunk to consider */
	u64 end;			/* one past the last chunk */
	u64 done;			/* digests consumed; WRITE_ONCE */
	u64 total;			/* digests to produce */
	int stop;			/* 0, or why to stop: -ECANCELED, -ENODEV; cmpxchg */
	int error;			/* sticky: -ENODEV after detach */
	wait_queue_head_t wq;		/* a slot became ready */
	unsigned int workers;		/* slots hashing at once, at most */
	struct workqueue_struct *hash_wq; /* max_active = workers */
	atomic_t busy;			/* slots from read submission to ready */

	/* Throttle; Protected by "rate_lock". */
	spinlock_t rate_lock;
	struct gendisk *live_disk;	/* the vmfit device; NULL once detached */
	unsigned long mark;		/* jiffies: start of the rate window */
	u64 mark_bytes;			/* bytes at the mark */
	u64 bytes;			/* bytes let through so far */
	unsigned long live_sectors;	/* the live device's sector count, last seen */
	unsigned long live_seen;	/* jiffies when it last changed */

	unsigned int nslots;
	unsigned int head;		/* oldest slot in flight */
	unsigned int count;		/* slots in flight */
	struct vmfit_csum_slot *slots;
};

static unsigned int vmfit_csum_speed_min = 10240;
module_param_named(csum_speed_min, vmfit_csum_speed_min, uint, 0644);
MODULE_PARM_DESC(csum_speed_min,
		 "KiB/s a checksum keeps even while the live device is busy");

static unsigned int vmfit_csum_speed_max;
module_param_named(csum_speed_max, vmfit_csum_speed_max, uint, 0644);
MODULE_PARM_DESC(csum_speed_max, "KiB/s a checksum never exceeds (0: no limit)");

static LIST_HEAD(vmfit_csum_list);
static DEFINE_MUTEX(vmfit_csum_list_lock);
static unsigned int vmfit_csum_sessions;	/* Protected by "vmfit_csum_list_lock" */

/* Sessions allocated and not yet freed: a leak shows here. */
static atomic_t vmfit_csum_allocated = ATOMIC_INIT(0);

static int vmfit_csum_get_allocated(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vmfit_csum_allocated));
}

static const struct kernel_param_ops vmfit_csum_allocated_ops = {
	.get = vmfit_csum_get_allocated,
};

module_param_cb(csum_sessions, &vmfit_csum_allocated_ops, NULL, 0444);
MODULE_PARM_DESC(csum_sessions, "Checksum sessions in memory (read-only)");

unsigned int vmfit_csum_digest_size(u32 algo)
{
	if (algo == VMFIT_CSUM_UNSPEC || algo > VMFIT_CSUM_MAX)
		return 0;
	return vmfit_csum_algs[algo].digest_size;
}

/*----------------------------------------------------------------*/

static sector_t vmfit_csum_chunk_len(struct vmfit_csum *cs, u64 chunk)
{
	sector_t start = (sector_t)chunk << cs->chunk_shift;

	return min_t(sector_t, (sector_t)1 << cs->chunk_shift,
		     cs->dev_sectors - start);
}

/* Holds cs->rate_lock.  A detached session has no live device to spare. */
static bool vmfit_csum_live_idle(struct vmfit_csum *cs, unsigned long now)
{
	unsigned long sectors;

	if (!cs->live_disk)
		return true;
	sectors = part_stat_read_accum(cs->live_disk->part0, sectors);
	if (sectors != cs->live_sectors) {
		cs->live_sectors = sectors;
		cs->live_seen = now;
	}
	return time_after(now, cs->live_seen +
			  msecs_to_jiffies(VMFIT_CSUM_IDLE_MS));
}

/*
 * Let @bytes more through at the session's allowed rate: wait while the
 * rate over the current window is above csum_speed_max, or above
 * csum_speed_min with the live device busy.  Short sleeps, so a cancel or
 * a detach (which flushes the slots) never waits long.  Returns 0, or the
 * reason the session stopped meanwhile.
 */
static int vmfit_csum_throttle(struct vmfit_csum *cs, unsigned int bytes)
{
	unsigned long now, elapsed;
	unsigned int min, max;
	u64 rate;
	bool go;
	int r;

	for (;;) {
		r = READ_ONCE(cs->stop);
		if (r)
			return r;
		min = READ_ONCE(vmfit_csum_speed_min);
		max = READ_ONCE(vmfit_csum_speed_max);
		spin_lock(&cs->rate_lock);
		now = jiffies;
		if (time_after(now, cs->mark + VMFIT_CSUM_MARK_JIFFIES)) {
			cs->mark = now - 1;
			cs->mark_bytes = cs->bytes;
		}
		elapsed = now - cs->mark;
		/* KiB/s over the window, counting this request. */
		rate = div64_ul((cs->bytes - cs->mark_bytes + bytes) * HZ,
				elapsed) >> 10;
		go = (!max || rate <= max) &&
		     (rate <= min || vmfit_csum_live_idle(cs, now));
		if (go)
			cs->bytes += bytes;
		spin_unlock(&cs->rate_lock);
		if (go)
			return 0;
		schedule_timeout_interruptible(msecs_to_jiffies(VMFIT_CSUM_THROTTLE_MS));
	}
}

/* Hash a chunk whose read completed: the session's workqueue. */
static void vmfit_csum_work(struct work_struct *ws)
{
	struct vmfit_csum_slot *slot = container_of(ws, struct vmfit_csum_slot,
						    work);
	struct vmfit_csum *cs = slot->cs;
	sector_t len = vmfit_csum_chunk_len(cs, slot->chunk);
	long nice = task_nice(current);
	int r = slot->error;

	/*
	 * Hash at the lowest priority, like khugepaged and ksmd: checksumming
	 * is background work and must not take CPU time from the tasks that
	 * write the live device.  The pool's kworker gets its nice back.
	 */
	set_user_nice(current, MAX_NICE);
	if (!r)
		r = vmfit_csum_throttle(cs, len << SECTOR_SHIFT);
	if (!r) {
		SHASH_DESC_ON_STACK(desc, cs->tfm);

		desc->tfm = cs->tfm;
		r = crypto_shash_digest(desc, slot->buf, len << SECTOR_SHIFT,
					slot->digest);
		shash_desc_zero(desc);
	}
	set_user_nice(current, nice);
	slot->error = r;
	/* Pairs with smp_load_acquire() in vmfit_csum_next(). */
	smp_store_release(&slot->ready, true);
	atomic_dec(&cs->busy);
	/* vmfit_csum_quiesce() flushes hash_wq: cs outlives this call. */
	wake_up_all(&cs->wq);
}

/* dm-io completion, in interrupt context: hand the chunk to a worker. */
static void vmfit_csum_read_done(unsigned long error, void *context)
{
	struct vmfit_csum_slot *slot = context;

	slot->error = error ? -EIO : 0;
	queue_work(slot->cs->hash_wq, &slot->work);
}

/* Start reading @slot's chunk; its completion queues the hashing. */
static void vmfit_csum_read(struct vmfit_csum *cs, struct vmfit_csum_slot *slot)
{
	struct dm_io_region region = {
		.bdev = cs->bdev,
		.sector = (sector_t)slot->chunk << cs->chunk_shift,
		.count = vmfit_csum_chunk_len(cs, slot->chunk),
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.client = cs->io,
		.notify.fn = vmfit_csum_read_done,
		.notify.context = slot,
	};
	int r;

	if (is_vmalloc_addr(slot->buf)) {
		req.mem.type = DM_IO_VMA;
		req.mem.ptr.vma = slot->buf;
	} else {
		req.mem.type = DM_IO_KMEM;
		req.mem.ptr.addr = slot->buf;
	}
	r = dm_io(&req, 1, &region, NULL, IOPRIO_DEFAULT);
	if (r) {
		/* Not submitted: no completion will come. */
		slot->error = r;
		queue_work(cs->hash_wq, &slot->work);
	}
}

/* The next chunk to hash, or false at the end.  Holds cs->lock. */
static bool vmfit_csum_advance(struct vmfit_csum *cs, u64 *chunk)
{
	u64 c = cs->next;

	if (c >= cs->end)
		return false;
	if (cs->changed) {
		c = find_next_bit_le(cs->changed, cs->end, c);
		if (c >= cs->end) {
			cs->next = cs->end;
			return false;
		}
	}
	cs->next = c + 1;
	*chunk = c;
	return true;
}

/* Queue free slots with the next chunks.  Holds cs->lock. */
static void vmfit_csum_fill(struct vmfit_csum *cs)
{
	struct vmfit_csum_slot *slot;
	u64 c;

	while (cs->count < cs->nslots && cs->vf && !READ_ONCE(cs->stop) &&
	       vmfit_csum_advance(cs, &c)) {
		slot = &cs->slots[(cs->head + cs->count) % cs->nslots];
		slot->chunk = c;
		slot->error = 0;
		WRITE_ONCE(slot->ready, false);
		cs->count++;
		atomic_inc(&cs->busy);
		vmfit_csum_read(cs, slot);
	}
}

/*
 * Stop the session for @err (-ECANCELED: cancelled or closed; -ENODEV: the
 * device went away).  The first reason stays: it is what the reader sees.
 */
static void vmfit_csum_stop(struct vmfit_csum *cs, int err)
{
	cmpxchg(&cs->stop, 0, err);
	wake_up_all(&cs->wq);
}

/*
 * Wait until no slot is being read or hashed.  The caller set stop,
 * so no new read starts; flushing the queue waits for the last work
 * function to return, not just to drop busy.
 */
static void vmfit_csum_quiesce(struct vmfit_csum *cs)
{
	wait_event(cs->wq, !atomic_read(&cs->busy));
	flush_workqueue(cs->hash_wq);
}

void vmfit_csum_lock(struct vmfit_csum *cs)
{
	mutex_lock(&cs->lock);
}

void vmfit_csum_unlock(struct vmfit_csum *cs)
{
	mutex_unlock(&cs->lock);
}

int vmfit_csum_next(struct vmfit_csum *cs, u64 *chunk, const u8 **digest)
{
	struct vmfit_csum_slot *slot;
	int r;

	lockdep_assert_held(&cs->lock);
	if (cs->error)
		return cs->error;
	r = READ_ONCE(cs->stop);
	if (r)
		return r;
	vmfit_csum_fill(cs);
	if (!cs->count)
		return 0;
	slot = &cs->slots[cs->head];
	/* Pairs with smp_store_release() in vmfit_csum_work(). */
	r = wait_event_killable(cs->wq, smp_load_acquire(&slot->ready));
	if (r)
		return -EINTR;
	if (slot->error) {
		cs->error = slot->error;
		return cs->error;
	}
	*chunk = slot->chunk;
	*digest = slot->digest;
	return 1;
}

void vmfit_csum_pop(struct vmfit_csum *cs)
{
	lockdep_assert_held(&cs->lock);
	if (WARN_ON_ONCE(!cs->count))
		return;
	cs->head = (cs->head + 1) % cs->nslots;
	cs->count--;
	WRITE_ONCE(cs->done, cs->done + 1);
	vmfit_csum_fill(cs);
}

void vmfit_csum_counts(struct vmfit_csum *cs, u64 *done, u64 *total)
{
	*done = READ_ONCE(cs->done);
	*total = cs->total;
}

u32 vmfit_csum_algo(struct vmfit_csum *cs)
{
	return cs->algo;
}

u32 vmfit_csum_workers(struct vmfit_csum *cs)
{
	return cs->workers;
}

dev_t vmfit_csum_devt(struct vmfit_csum *cs)
{
	return cs->devt;
}

const char *vmfit_csum_name(struct vmfit_csum *cs)
{
	return cs->name;
}

/*----------------------------------------------------------------*/

static void vmfit_csum_free(struct vmfit_csum *cs)
{
	unsigned int i;

	if (cs->slots) {
		for (i = 0; i < cs->nslots; i++)
			kvfree(cs->slots[i].buf);
		kfree(cs->slots);
	}
	if (cs->io)
		dm_io_client_destroy(cs->io);
	if (cs->hash_wq)
		destroy_workqueue(cs->hash_wq);
	if (cs->tfm)
		crypto_free_shash(cs->tfm);
	kfree(cs);
	atomic_dec(&vmfit_csum_allocated);
}

static int vmfit_csum_alloc(struct vmfit_csum *cs, unsigned int chunk_bytes)
{
	unsigned int i;

	cs->nslots = clamp(VMFIT_CSUM_WINDOW_BYTES / chunk_bytes,
			   VMFIT_CSUM_MIN_SLOTS, VMFIT_CSUM_MAX_SLOTS);
	cs->slots = kcalloc(cs->nslots, sizeof(*cs->slots), GFP_KERNEL);
	if (!cs->slots)
		return -ENOMEM;
	for (i = 0; i < cs->nslots; i++) {
		cs->slots[i].cs = cs;
		INIT_WORK(&cs->slots[i].work, vmfit_csum_work);
		cs->slots[i].buf = kvmalloc(chunk_bytes, GFP_KERNEL);
		if (!cs->slots[i].buf)
			return -ENOMEM;
	}
	cs->hash_wq = alloc_workqueue("kvmfit_csum", WQ_UNBOUND, cs->workers);
	if (!cs->hash_wq)
		return -ENOMEM;
	cs->io = dm_io_client_create();
	if (IS_ERR(cs->io)) {
		int r = PTR_ERR(cs->io);

		cs->io = NULL;
		return r;
	}
	return 0;
}

static int vmfit_csum_range(struct vmfit *vf, struct vmfit_csum *cs,
			    const struct vmfit_csum_req *req,
			    struct netlink_ext_ack *extack)
{
	u64 last = req->last;
	u64 c;

	if (req->first >= vf->origin_chunks) {
		NL_SET_ERR_MSG(extack, "First chunk is beyond the device");
		return -ERANGE;
	}
	if (last != U64_MAX && last >= vf->origin_chunks) {
		NL_SET_ERR_MSG(extack, "Last chunk is beyond the device");
		return -ERANGE;
	}
	if (last == U64_MAX)
		last = vf->origin_chunks - 1;
	if (req->first > last) {
		NL_SET_ERR_MSG(extack, "Chunk range is inverted (first > last)");
		return -EINVAL;
	}
	cs->next = req->first;
	cs->end = last + 1;
	if (!cs->changed) {
		cs->total = cs->end - cs->next;
		return 0;
	}
	cs->total = 0;
	for (c = find_next_bit_le(cs->changed, cs->end, cs->next); c < cs->end;
	     c = find_next_bit_le(cs->changed, cs->end, c + 1))
		cs->total++;
	return 0;
}

int vmfit_csum_start(struct vmfit *vf, const struct vmfit_csum_req *req,
		     struct vmfit_csum **out, struct netlink_ext_ack *extack)
{
	const struct vmfit_csum_alg *alg;
	struct vmfit_csum *cs;
	const char *why;
	int r;

	if (!vmfit_csum_digest_size(req->algo)) {
		NL_SET_ERR_MSG(extack, "Unknown checksum algorithm");
		return -EINVAL;
	}
	if (req->flags & ~VMFIT_CSUM_F_ALL) {
		NL_SET_ERR_MSG(extack, "Unknown checksum flags");
		return -EINVAL;
	}
	alg = &vmfit_csum_algs[req->algo];

	cs = kzalloc(sizeof(*cs), GFP_KERNEL);
	if (!cs)
		return -ENOMEM;
	atomic_inc(&vmfit_csum_allocated);
	INIT_LIST_HEAD(&cs->list);
	mutex_init(&cs->lock);
	init_waitqueue_head(&cs->wq);
	spin_lock_init(&cs->rate_lock);
	cs->workers = req->workers ? req->workers : num_online_cpus();
	cs->algo = req->algo;
	cs->devt = vf->devt;
	dm_vmfit_dm_name(vf, cs->name);
	cs->bdev = vf->origin_dev->bdev;
	cs->dev_sectors = vf->ti->len;
	cs->chunk_shift = vf->chunk_shift;
	if (req->flags & VMFIT_CSUM_F_CHANGED)
		cs->changed = vf->changed;

	cs->tfm = crypto_alloc_shash(alg->name, 0, 0);
	if (IS_ERR(cs->tfm)) {
		r = PTR_ERR(cs->tfm);
		cs->tfm = NULL;
		NL_SET_ERR_MSG(extack,
			       "The kernel lacks this checksum algorithm");
		goto bad;
	}
	if (WARN_ON_ONCE(crypto_shash_digestsize(cs->tfm) != alg->digest_size)) {
		r = -EINVAL;
		NL_SET_ERR_MSG(extack, "Unexpected digest size");
		goto bad;
	}
	r = vmfit_csum_alloc(cs, vf->chunk_sectors << SECTOR_SHIFT);
	if (r) {
		NL_SET_ERR_MSG(extack, "Cannot allocate the checksum window");
		goto bad;
	}

	mutex_lock(&vmfit_csum_list_lock);
	if (vmfit_csum_sessions >= VMFIT_CSUM_MAX_SESSIONS) {
		mutex_unlock(&vmfit_csum_list_lock);
		NL_SET_ERR_MSG(extack, "Too many checksums in progress");
		r = -EBUSY;
		goto bad;
	}
	/* Pins the snapshot: merge and drop now fail with -EBUSY. */
	r = vmfit_pin(vf, VMFIT_PIN_READY, &why);
	if (r) {
		dm_vmfit_nl_set_msg(extack, why);
	} else {
		r = vmfit_csum_range(vf, cs, req, extack);
		if (r)
			vmfit_unpin(vf);
	}
	if (!r) {
		cs->vf = vf;
		cs->live_disk = dm_disk(dm_table_get_md(vf->ti->table));
		cs->live_sectors = part_stat_read_accum(cs->live_disk->part0,
							sectors);
		cs->mark = jiffies - 1;
		cs->live_seen = cs->mark -
				msecs_to_jiffies(VMFIT_CSUM_IDLE_MS) - 1;
		list_add_tail(&cs->list, &vmfit_csum_list);
		vmfit_csum_sessions++;
	}
	mutex_unlock(&vmfit_csum_list_lock);
	if (r)
		goto bad;

	DMDEBUG("%s: checksum of %llu chunks with %s (%s), %u in flight, %u workers",
		cs->name, cs->total, alg->name,
		crypto_shash_driver_name(cs->tfm), cs->nslots, cs->workers);
	mutex_lock(&cs->lock);
	vmfit_csum_fill(cs);
	mutex_unlock(&cs->lock);
	*out = cs;
	return 0;

bad:
	vmfit_csum_free(cs);
	return r;
}

void vmfit_csum_end(struct vmfit_csum *cs)
{
	vmfit_csum_stop(cs, -ECANCELED);
	mutex_lock(&vmfit_csum_list_lock);
	mutex_lock(&cs->lock);
	vmfit_csum_quiesce(cs);
	if (cs->vf) {
		vmfit_unpin(cs->vf);
		cs->vf = NULL;
	}
	list_del(&cs->list);
	vmfit_csum_sessions--;
	mutex_unlock(&cs->lock);
	mutex_unlock(&vmfit_csum_list_lock);
	vmfit_csum_free(cs);
}

int vmfit_csum_cancel(struct vmfit *vf)
{
	struct vmfit_csum *cs;
	int n = 0;

	mutex_lock(&vmfit_csum_list_lock);
	list_for_each_entry(cs, &vmfit_csum_list, list) {
		if (cs->vf != vf)
			continue;
		vmfit_csum_stop(cs, -ECANCELED);
		n++;
	}
	mutex_unlock(&vmfit_csum_list_lock);
	return n;
}

u32 vmfit_csum_progress(struct vmfit *vf, u64 *done, u64 *total)
{
	struct vmfit_csum *cs;
	u32 n = 0;

	*done = 0;
	*total = 0;
	mutex_lock(&vmfit_csum_list_lock);
	list_for_each_entry(cs, &vmfit_csum_list, list) {
		/* cs->vf changes under vmfit_csum_list_lock too. */
		if (cs->vf != vf)
			continue;
		*done += READ_ONCE(cs->done);
		*total += cs->total;
		n++;
	}
	mutex_unlock(&vmfit_csum_list_lock);
	return n;
}

void dm_vmfit_csum_detach(struct vmfit *vf)
{
	struct vmfit_csum *cs;

	mutex_lock(&vmfit_csum_list_lock);
	list_for_each_entry(cs, &vmfit_csum_list, list) {
		if (cs->vf != vf)
			continue;
		/* Slots still in flight end with -ENODEV, not -ECANCELED. */
		vmfit_csum_stop(cs, -ENODEV);
		mutex_lock(&cs->lock);
		vmfit_csum_quiesce(cs);
		vmfit_unpin(cs->vf);
		cs->vf = NULL;
		cs->bdev = NULL;
		spin_lock(&cs->rate_lock);
		cs->live_disk = NULL;
		spin_unlock(&cs->rate_lock);
		cs->error = -ENODEV;
		mutex_unlock(&cs->lock);
		wake_up_all(&cs->wq);
	}
	mutex_unlock(&vmfit_csum_list_lock);
}
