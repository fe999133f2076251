// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit: live state volume with an epoch-switch snapshot, a persistent
 * changed set and a read-only frozen view ("vmfit-view").
 *
 * See Documentation/admin-guide/device-mapper/dm-vmfit.rst.
 */
#include <linux/blkdev.h>
#include <linux/dm-ioctl.h>
#include <linux/ctype.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dm-vmfit.h"
#include "dm-vmfit-cow.h"
#include "dm-vmfit-csum.h"
#include "dm-vmfit-netlink.h"

#define CREATE_TRACE_POINTS
#include "dm-vmfit-trace.h"

#define VMFIT_COMMIT_PERIOD HZ

static const char * const vmfit_mode_names[] = {
	[VMFIT_NORMAL] = "normal",
	[VMFIT_SNAPSHOT] = "snapshot",
	[VMFIT_MERGING] = "merging",
};

static const char * const vmfit_health_names[] = {
	[VMFIT_OK] = "ok",
	[VMFIT_COW_FULL] = "cow_full",
	[VMFIT_FAIL] = "fail",
};

/*
 * Fault injection for tests (tests/kmod/vmfit-nomem.sh; the distribution
 * kernel has no CONFIG_FAULT_INJECTION): every Nth cow chunk allocated by
 * map() for a full-chunk write is handled as if the GFP_NOWAIT allocation
 * of its table leaf had failed.  0: off.
 */
static unsigned int vmfit_nomem_every;
module_param_named(test_nomem_every, vmfit_nomem_every, uint, 0644);
MODULE_PARM_DESC(test_nomem_every,
		 "Testing: fail every Nth map() table allocation (0: never)");

static atomic_t vmfit_nomem_count = ATOMIC_INIT(0);

static bool vmfit_inject_nomem(void)
{
	unsigned int every = READ_ONCE(vmfit_nomem_every);

	return every &&
	       !((unsigned int)atomic_inc_return(&vmfit_nomem_count) % every);
}

/* Live instances by mapped device, for vmfit-view. */
static LIST_HEAD(vmfit_registry);
static DEFINE_MUTEX(vmfit_registry_lock);

/*
 * A table's share of an instance (ti->private).  A reload with an
 * identical table line shares the live instance (and so its in-core
 * state, its views and checksum sessions); the table that is resumed
 * owns it (vf->ti, vf->origin_dev, vf->cow_dev are the owner's).
 */
struct vmfit_tgt {
	struct vmfit *vf;	/* a reference */
	struct dm_dev *origin_dev;	/* this table's opens of the devices */
	struct dm_dev *cow_dev;
};

static inline struct vmfit *vmfit_of(struct dm_target *ti)
{
	return ((struct vmfit_tgt *)ti->private)->vf;
}

/*
 *--------------------------------------------------------------
 * Health
 *--------------------------------------------------------------
 */
static void vmfit_event_work(struct work_struct *ws)
{
	struct vmfit *vf = container_of(ws, struct vmfit, event_work);

	dm_table_event(vf->ti->table);
	dm_vmfit_nl_health(vf);
}

static void vmfit_cow_full(struct vmfit *vf)
{
	if (cmpxchg(&vf->health, VMFIT_OK, VMFIT_COW_FULL) == VMFIT_OK) {
		DMERR_LIMIT("%s: cow device is full", vmfit_name(vf));
		queue_work(vf->wq, &vf->event_work);
	}
}

void vmfit_fail(struct vmfit *vf, const char *what, int r)
{
	DMERR_LIMIT("%s: %s failed: %d", vmfit_name(vf), what, r);
	if (xchg(&vf->health, VMFIT_FAIL) != VMFIT_FAIL)
		queue_work(vf->wq, &vf->event_work);
}

/*
 *--------------------------------------------------------------
 * Generations
 *
 * Every mode switch bumps the generation in vf->state.  A bio counts
 * itself in inflight[parity of its generation] for as long as it may
 * touch the origin or the cow; a switch waits for the old parity to
 * drain.  Increment-then-recheck (vmfit_get_gen) against
 * store-then-check (vmfit_switch) is the usual Dekker pairing: either
 * the bio sees the new state, or the switcher sees its count.
 *
 * The counters are per CPU (map() touches no shared cache line); only a
 * drain sums them.  A bio may complete on another CPU than it was mapped
 * on, so one CPU's count may be negative: only the sum means anything.
 * The increment and its undo in vmfit_get_gen() stay on one CPU, so a sum
 * never counts less than the bios in flight.
 *--------------------------------------------------------------
 */
static long vmfit_inflight(struct vmfit *vf, unsigned int parity)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(vf->inflight, cpu)->n[parity]);
	return n;
}

static void vmfit_put_gen(struct vmfit *vf, unsigned int parity)
{
	this_cpu_dec(vf->inflight->n[parity]);
	/* Pairs with smp_mb() in vmfit_switch(). */
	smp_mb();
	if (likely(parity == VMFIT_STATE_PARITY(READ_ONCE(vf->state))))
		return;
	/* A switch waits for this parity: rare, so the sum is fine. */
	if (!vmfit_inflight(vf, parity)) {
		queue_work(vf->wq, &vf->drain_work);
		wake_up_all(&vf->drain_wq);
	}
}

static void vmfit_get_gen(struct vmfit *vf, struct vmfit_io *io)
{
	unsigned int s;

	preempt_disable();
	for (;;) {
		s = READ_ONCE(vf->state);
		this_cpu_inc(vf->inflight->n[VMFIT_STATE_PARITY(s)]);
		/* Pairs with smp_mb() in vmfit_switch(). */
		smp_mb();
		if (likely(READ_ONCE(vf->state) == s))
			break;
		vmfit_put_gen(vf, VMFIT_STATE_PARITY(s));
	}
	preempt_enable();
	io->parity = VMFIT_STATE_PARITY(s);
	io->mode = VMFIT_STATE_MODE(s);
	io->flags |= VMFIT_IO_COUNTED;
}

static void vmfit_put_io(struct vmfit *vf, struct vmfit_io *io)
{
	if (io->flags & VMFIT_IO_COUNTED) {
		io->flags &= ~VMFIT_IO_COUNTED;
		vmfit_put_gen(vf, io->parity);
	}
}

/* Switch the routing mode; returns the parity to drain.  Holds md_lock. */
unsigned int vmfit_switch(struct vmfit *vf, enum vmfit_mode mode)
{
	unsigned int old = vf->state;

	lockdep_assert_held(&vf->md_lock);
	WRITE_ONCE(vf->state, ((old >> 2) + 1) << 2 | mode);
	/* Pairs with smp_mb() in vmfit_get_gen() and vmfit_put_gen(). */
	smp_mb();
	return VMFIT_STATE_PARITY(old);
}

void vmfit_wait_gen(struct vmfit *vf, unsigned int parity)
{
	wait_event(vf->drain_wq, !vmfit_inflight(vf, parity));
}

/*
 * The end of a snapshot (drop) or of a merge, once normal mode is
 * durable: route to the origin, wait for the bios mapped under the old
 * mode (md_lock is dropped meanwhile; "switching" keeps messages out),
 * then forget the mapping.
 */
void vmfit_end_to_normal(struct vmfit *vf)
{
	unsigned int parity = vmfit_switch(vf, VMFIT_NORMAL);

	vf->switching = true;
	mutex_unlock(&vf->md_lock);

	vmfit_wait_gen(vf, parity);

	mutex_lock(&vf->md_lock);
	vmfit_cow_reset_map(vf);
	cmpxchg(&vf->health, VMFIT_COW_FULL, VMFIT_OK);
	vf->switching = false;
}

/*
 *--------------------------------------------------------------
 * Remapping
 *--------------------------------------------------------------
 */
static void vmfit_remap_origin(struct vmfit *vf, struct bio *bio)
{
	bio_set_dev(bio, vf->origin_dev->bdev);
}

static void vmfit_remap_cow(struct vmfit *vf, struct bio *bio,
			    struct vmfit_io *io, u32 val)
{
	sector_t off = bio->bi_iter.bi_sector & (vf->chunk_sectors - 1);

	bio_set_dev(bio, vf->cow_dev->bdev);
	bio->bi_iter.bi_sector = vf->data_start +
		((sector_t)(val - 1) << vf->chunk_shift) + off;
	io->cow = val;
	/* Completed only once its mapping is committed: vmfit_end_io(). */
	if ((bio->bi_opf & REQ_FUA) && op_is_write(bio_op(bio)))
		io->flags |= VMFIT_IO_FUA;
}

static bool vmfit_full_chunk(struct vmfit *vf, struct bio *bio, u32 chunk)
{
	return !(bio->bi_iter.bi_sector & (vf->chunk_sectors - 1)) &&
	       bio_sectors(bio) == vmfit_chunk_len(vf, chunk);
}

/* Allocate a cow data chunk.  Blocks only if @gfp does. */
static int vmfit_alloc(struct vmfit *vf, u32 *val, gfp_t gfp)
{
	int r = vmfit_cow_alloc_chunk(vf, val, gfp);

	if (unlikely(r == -ENOSPC))
		vmfit_cow_full(vf);
	return r;
}

/* Chunk @c was just mapped in the cow: count it if not in the set. */
static void vmfit_count_mapped(struct vmfit *vf, u32 c)
{
	if (!test_bit_le(c, vf->changed))
		atomic64_inc(&vf->nr_cow_only);
}

static void vmfit_defer(struct vmfit *vf, struct bio_list *bl,
			struct bio *bio, struct vmfit_io *io, bool held)
{
	unsigned long flags;

	if (held && !io->held_start)
		io->held_start = ktime_get_ns();
	spin_lock_irqsave(&vf->lock, flags);
	bio_list_add(bl, bio);
	spin_unlock_irqrestore(&vf->lock, flags);
	queue_work(vf->wq, &vf->worker);
}

/*
 * A bio that waits only for a commit (a flush, a FUA cow write whose data
 * is done).  Its worker runs on this CPU (flush_wq is per-CPU): under
 * fsync, the submitter sleeps here and the commit I/O completes here, so
 * no other CPU has to be woken for it, twice per flush, as the ordered
 * worker needs.
 */
static void vmfit_defer_commit(struct vmfit *vf, struct bio_list *bl,
			       struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&vf->lock, flags);
	bio_list_add(bl, bio);
	spin_unlock_irqrestore(&vf->lock, flags);
	queue_work(vf->flush_wq, &vf->flush_work);
}

/*
 * Park @bio on the job copying its chunk.  A parked bio leaves its
 * generation (a merge batch waits for the generation while it holds the
 * chunk) and enters the current one when it is routed again.
 */
static bool vmfit_park(struct vmfit *vf, struct bio *bio, struct vmfit_io *io)
{
	struct vmfit_job *job;
	unsigned long flags;

	spin_lock_irqsave(&vf->lock, flags);
	if (vmfit_tbl_get(&vf->map, io->chunk) != VMFIT_BUSY) {
		spin_unlock_irqrestore(&vf->lock, flags);
		return false;
	}
	list_for_each_entry(job, &vf->jobs, list) {
		if (job->chunk == io->chunk)
			break;
	}
	if (WARN_ON_ONCE(list_entry_is_head(job, &vf->jobs, list))) {
		spin_unlock_irqrestore(&vf->lock, flags);
		return false;
	}
	if (!io->held_start)
		io->held_start = ktime_get_ns();
	vmfit_put_io(vf, io);
	bio_list_add(&job->waiters, bio);
	spin_unlock_irqrestore(&vf->lock, flags);
	return true;
}

/*
 * Origin I/O: a write needs its chunk in the on-disk changed set first
 * (its write-ahead region, see VMFIT_WA_CHUNKS); the exact in-core set
 * gets its bit here.
 */
static int vmfit_route_origin(struct vmfit *vf, struct bio *bio,
			      struct vmfit_io *io)
{
	if (op_is_write(bio_op(bio))) {
		if (!vmfit_cow_durable(vf, io->chunk)) {
			vmfit_defer(vf, &vf->bm_bios, bio, io, false);
			return DM_MAPIO_SUBMITTED;
		}
		vmfit_cow_set_changed(vf, io->chunk);
	}
	vmfit_remap_origin(vf, bio);
	return DM_MAPIO_REMAPPED;
}

/*
 * Route a counted bio by the mode it was counted in.  Returns
 * DM_MAPIO_REMAPPED (caller submits) or DM_MAPIO_SUBMITTED (deferred,
 * parked or completed).  Never blocks.
 */
static int vmfit_route(struct vmfit *vf, struct bio *bio, struct vmfit_io *io)
{
	bool write = op_is_write(bio_op(bio));
	u32 c = io->chunk;
	u32 v, cur;
	int r;

	if (io->mode == VMFIT_NORMAL)
		return vmfit_route_origin(vf, bio, io);

	if (bio_op(bio) == REQ_OP_DISCARD) {
		/* The origin is frozen and cow chunks stay allocated: drop. */
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
again:
	v = vmfit_tbl_get(&vf->map, c);
	if (unlikely(v == VMFIT_BUSY)) {
		if (vmfit_park(vf, bio, io))
			return DM_MAPIO_SUBMITTED;
		goto again;
	}
	if (v) {
		vmfit_remap_cow(vf, bio, io, v);
		return DM_MAPIO_REMAPPED;
	}
	if (!write || io->mode == VMFIT_MERGING)
		return vmfit_route_origin(vf, bio, io);

	if (!vmfit_full_chunk(vf, bio, c)) {
		/* Needs the origin chunk copied first: the worker does it. */
		vmfit_defer(vf, &vf->copy_bios, bio, io, true);
		return DM_MAPIO_SUBMITTED;
	}
	r = vmfit_alloc(vf, &v, GFP_NOWAIT);
	if (r == -ENOSPC) {
		bio->bi_status = BLK_STS_NOSPC;
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (!r && unlikely(vmfit_inject_nomem()))
		r = -ENOMEM;
	if (!r)
		r = vmfit_tbl_cmpxchg(&vf->map, c, 0, v, GFP_NOWAIT, &cur);
	if (unlikely(r)) {
		/*
		 * map() may not sleep for memory: the room for the chunk's
		 * entries (a table leaf) is allocated by the worker, for this
		 * chunk, which stays the bio's (nothing leaks).
		 */
		io->alloc = v;
		vmfit_defer(vf, &vf->room_bios, bio, io, true);
		return DM_MAPIO_SUBMITTED;
	}
	/* Lost a race with another writer: its chunk wins, ours leaks. */
	if (cur)
		goto again;
	vmfit_count_mapped(vf, c);
	vmfit_remap_cow(vf, bio, io, v);
	return DM_MAPIO_REMAPPED;
}

/*
 * While merging, a FUA write to the origin must not be undone by a merge
 * resumed after a crash: the removal of its chunk's entry (cleared in the
 * to-persist table before the chunk was released to the origin) is
 * committed first.
 */
static bool vmfit_needs_precommit(struct bio *bio, struct vmfit_io *io)
{
	return unlikely(io->mode == VMFIT_MERGING && !io->cow &&
			(bio->bi_opf & REQ_FUA) && op_is_write(bio_op(bio)));
}

static void vmfit_account_held(struct vmfit *vf, struct vmfit_io *io)
{
	if (io->held_start) {
		atomic64_add(ktime_get_ns() - io->held_start, &vf->held_ns);
		io->held_start = 0;
	}
}

/* Submit a remapped bio from the worker. */
static void vmfit_issue(struct vmfit *vf, struct bio *bio)
{
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

	if (vmfit_needs_precommit(bio, io)) {
		vmfit_defer(vf, &vf->fua_bios, bio, io, false);
		return;
	}
	vmfit_account_held(vf, io);
	submit_bio_noacct(bio);
}

/*
 *--------------------------------------------------------------
 * Worker thread
 *--------------------------------------------------------------
 */
static void vmfit_process_bm(struct vmfit *vf, struct bio_list *bios)
{
	struct bio *bio;
	int r;

	/* Not md_lock: a message must not wait for this FUA write. */
	mutex_lock(&vf->bm_lock);
	bio_list_for_each(bio, bios) {
		struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

		vmfit_cow_mark_region(vf, io->chunk);
	}
	/* One FUA write releases every bio of the batch. */
	r = vmfit_cow_write_bitmap(vf);
	if (r) {
		vmfit_fail(vf, "changed-set write", r);
	} else {
		bio_list_for_each(bio, bios) {
			struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

			vmfit_cow_region_durable(vf, io->chunk);
			vmfit_cow_set_changed(vf, io->chunk);
		}
	}
	mutex_unlock(&vf->bm_lock);

	while ((bio = bio_list_pop(bios))) {
		if (r) {
			bio_io_error(bio);
			continue;
		}
		vmfit_remap_origin(vf, bio);
		vmfit_issue(vf, bio);
	}
}

/*
 * Jobs come from a mempool: allocated on the I/O path (GFP_NOIO), they
 * must make progress under memory pressure.  Never fails: the pool holds
 * a merge batch, and every job in use completes and returns to it.
 */
struct vmfit_job *vmfit_job_alloc(struct vmfit *vf)
{
	struct vmfit_job *job = mempool_alloc(&vf->job_pool, GFP_NOIO);

	memset(job, 0, sizeof(*job));
	return job;
}

void vmfit_job_free(struct vmfit *vf, struct vmfit_job *job)
{
	mempool_free(job, &vf->job_pool);
}

static void vmfit_copy_done(int read_err, unsigned long write_err, void *context)
{
	struct vmfit_job *job = context;
	struct vmfit *vf = job->vf;
	struct bio_list waiters;
	unsigned long flags;
	struct bio *bio;
	bool failed = read_err || write_err;

	spin_lock_irqsave(&vf->lock, flags);
	/* Busy since vmfit_start_copy(): no allocation. */
	vmfit_tbl_set(&vf->map, job->chunk, failed ? 0 : job->cow + 1);
	waiters = job->waiters;
	list_del(&job->list);
	if (!failed)
		bio_list_merge(&vf->retry_bios, &waiters);
	spin_unlock_irqrestore(&vf->lock, flags);

	if (!failed)
		vmfit_count_mapped(vf, job->chunk);
	if (failed) {
		DMERR_LIMIT("%s: copying chunk %u to the cow failed",
			    vmfit_name(vf), job->chunk);
		vmfit_fail(vf, "copy to the cow", -EIO);
		while ((bio = bio_list_pop(&waiters)))
			bio_io_error(bio);
	}
	vmfit_put_gen(vf, job->cow_parity);
	vmfit_job_free(vf, job);
	queue_work(vf->wq, &vf->worker);
}

/*
 * A partial write to a chunk that is not in the cow: copy the origin
 * chunk into a new cow chunk, then route the write again.  The bio's
 * generation count moves to the job, so a drop waits for the copy.
 */
static void vmfit_start_copy(struct vmfit *vf, struct bio *bio,
			     struct vmfit_io *io)
{
	struct dm_io_region from, to;
	struct vmfit_job *job;
	u32 val, cur;
	int r;

	job = vmfit_job_alloc(vf);
	r = vmfit_alloc(vf, &val, GFP_NOIO);
	if (r) {
		vmfit_job_free(vf, job);
		if (r == -ENOSPC) {
			bio->bi_status = BLK_STS_NOSPC;
			bio_endio(bio);
		} else {
			bio_io_error(bio);
		}
		return;
	}
	job->vf = vf;
	job->chunk = io->chunk;
	job->cow = val - 1;
	bio_list_init(&job->waiters);

	/*
	 * On the list before the chunk turns busy (which may allocate, so
	 * not under the lock): a bio that sees it busy parks on this job.
	 */
	spin_lock_irq(&vf->lock);
	list_add(&job->list, &vf->jobs);
	spin_unlock_irq(&vf->lock);
	r = vmfit_tbl_cmpxchg(&vf->map, job->chunk, 0, VMFIT_BUSY, GFP_NOIO,
			      &cur);
	spin_lock_irq(&vf->lock);
	if (r || cur) {
		list_del(&job->list);
		spin_unlock_irq(&vf->lock);
		vmfit_job_free(vf, job);
		/* Our chunk leaks; someone mapped it meanwhile: retry. */
		if (r)
			bio_io_error(bio);
		else
			vmfit_defer(vf, &vf->copy_bios, bio, io, true);
		return;
	}
	bio_list_add(&job->waiters, bio);
	job->cow_parity = io->parity;
	io->flags &= ~VMFIT_IO_COUNTED;
	spin_unlock_irq(&vf->lock);

	from.bdev = vf->origin_dev->bdev;
	from.sector = vmfit_chunk_to_sector(vf, job->chunk);
	from.count = vmfit_chunk_len(vf, job->chunk);
	to.bdev = vf->cow_dev->bdev;
	to.sector = vf->data_start + ((sector_t)job->cow << vf->chunk_shift);
	to.count = from.count;
	dm_kcopyd_copy(vf->kc, &from, 1, &to, 0, vmfit_copy_done, job);
}

/* A partial write deferred by map(): the old generation has drained. */
static void vmfit_process_copy(struct vmfit *vf, struct bio *bio)
{
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));
	u32 v;

again:
	v = vmfit_tbl_get(&vf->map, io->chunk);
	if (v == VMFIT_BUSY) {
		if (!vmfit_park(vf, bio, io))
			goto again;
	} else if (v) {
		vmfit_remap_cow(vf, bio, io, v);
		vmfit_issue(vf, bio);
	} else {
		vmfit_start_copy(vf, bio, io);
	}
}

/*
 * A full-chunk write whose cow chunk map() allocated without the memory
 * for its entries: get it with GFP_NOIO (the worker may sleep) and map
 * the chunk to it.  The bio still counts in the generation map() counted
 * it in, so the mode it was routed by holds.
 */
static void vmfit_process_room(struct vmfit *vf, struct bio *bio)
{
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));
	u32 v = io->alloc, cur;
	int r;

	io->alloc = 0;
	r = vmfit_cow_chunk_room(vf, v, GFP_NOIO);
	if (!r)
		r = vmfit_tbl_cmpxchg(&vf->map, io->chunk, 0, v, GFP_NOIO,
				      &cur);
	if (r) {
		bio_io_error(bio);
		return;
	}
	if (cur) {
		/* Mapped (or being copied) meanwhile: as in map(). */
		if (vmfit_route(vf, bio, io) == DM_MAPIO_REMAPPED)
			vmfit_issue(vf, bio);
		return;
	}
	vmfit_count_mapped(vf, io->chunk);
	vmfit_remap_cow(vf, bio, io, v);
	vmfit_issue(vf, bio);
}

/* A parked bio released by its job: route it in the current generation. */
static void vmfit_process_retry(struct vmfit *vf, struct bio *bio)
{
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

	vmfit_get_gen(vf, io);
	if (vmfit_route(vf, bio, io) == DM_MAPIO_REMAPPED)
		vmfit_issue(vf, bio);
}

/*
 * May a flush skip the origin?  Only in snapshot mode once the drain
 * flushed the origin after the last old-generation write: nothing has
 * written to it since (merging and normal mode write to it).
 */
static bool vmfit_origin_frozen(struct vmfit *vf)
{
	bool frozen;

	spin_lock_irq(&vf->lock);
	frozen = vmfit_mode(vf) == VMFIT_SNAPSHOT && vf->view_ready;
	spin_unlock_irq(&vf->lock);
	return frozen;
}

/*
 * An empty flush, once the commit is done.  @cow_flushed: the commit
 * wrote with REQ_PREFLUSH after the flush arrived, which covered the cow.
 * What is left is sent in parallel: the flush itself to the origin (or to
 * the cow, when the origin is frozen), a flush of the cow chained to it
 * when both need one.
 */
static void vmfit_finish_flush(struct vmfit *vf, struct bio *bio,
			       bool cow_flushed, bool frozen)
{
	struct bio *cow;

	if (frozen) {
		if (cow_flushed) {
			bio_endio(bio);
			return;
		}
		bio_set_dev(bio, vf->cow_dev->bdev);
		submit_bio_noacct(bio);
		return;
	}
	if (!cow_flushed) {
		cow = bio_alloc(vf->cow_dev->bdev, 0,
				REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC,
				GFP_NOIO);
		/* @bio completes once both are done, with the first error. */
		bio_chain(cow, bio);
		submit_bio(cow);
	}
	/* Old-generation or merging-mode writes may be on the origin. */
	vmfit_remap_origin(vf, bio);
	submit_bio_noacct(bio);
}

/*
 * One commit for every bio waiting for one: flushes (then completed, or
 * passed on to what the commit did not flush), FUA origin writes while
 * merging (then issued) and FUA cow writes whose data is done (then
 * completed).
 */
static void vmfit_process_commits(struct vmfit *vf, struct bio_list *flush,
				  struct bio_list *fua, struct bio_list *done)
{
	bool cow_flushed = false, frozen;
	struct bio *bio;
	int r = 0;

	mutex_lock(&vf->md_lock);
	if (READ_ONCE(vf->health) == VMFIT_FAIL) {
		r = -EIO;
	} else {
		/*
		 * A commit with something to write starts with a preflushed
		 * write (vmfit_cow_commit()); dirty bits are only cleared
		 * under md_lock, so this holds for the commit below.
		 */
		cow_flushed = vmfit_cow_needs_commit(vf);
		r = vmfit_cow_commit(vf);
		if (r)
			vmfit_fail(vf, "metadata commit", r);
	}
	mutex_unlock(&vf->md_lock);

	frozen = vmfit_origin_frozen(vf);
	while ((bio = bio_list_pop(flush))) {
		if (r) {
			bio_io_error(bio);
			continue;
		}
		vmfit_finish_flush(vf, bio, cow_flushed, frozen);
	}
	while ((bio = bio_list_pop(fua))) {
		struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

		if (r) {
			bio_io_error(bio);
			continue;
		}
		vmfit_account_held(vf, io);
		submit_bio_noacct(bio);
	}
	while ((bio = bio_list_pop(done))) {
		struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

		io->flags |= VMFIT_IO_COMMITTED;
		if (r)
			bio->bi_status = BLK_STS_IOERR;
		/* Back through vmfit_end_io(), which now lets it complete. */
		bio_endio(bio);
	}
}

static void vmfit_worker(struct work_struct *ws)
{
	struct vmfit *vf = container_of(ws, struct vmfit, worker);
	struct bio_list bm, copy, retry, room, fua;
	struct blk_plug plug;
	struct bio *bio;

	spin_lock_irq(&vf->lock);
	bm = vf->bm_bios;
	bio_list_init(&vf->bm_bios);
	retry = vf->retry_bios;
	bio_list_init(&vf->retry_bios);
	room = vf->room_bios;
	bio_list_init(&vf->room_bios);
	fua = vf->fua_bios;
	bio_list_init(&vf->fua_bios);
	bio_list_init(&copy);
	/* Copies of origin chunks wait until the old generation drained. */
	if (vf->view_ready) {
		copy = vf->copy_bios;
		bio_list_init(&vf->copy_bios);
	}
	spin_unlock_irq(&vf->lock);

	blk_start_plug(&plug);
	if (!bio_list_empty(&bm))
		vmfit_process_bm(vf, &bm);
	while ((bio = bio_list_pop(&retry)))
		vmfit_process_retry(vf, bio);
	while ((bio = bio_list_pop(&room)))
		vmfit_process_room(vf, bio);
	while ((bio = bio_list_pop(&copy)))
		vmfit_process_copy(vf, bio);
	blk_finish_plug(&plug);

	/* Take the FUA writes queued above too. */
	spin_lock_irq(&vf->lock);
	bio_list_merge(&fua, &vf->fua_bios);
	bio_list_init(&vf->fua_bios);
	spin_unlock_irq(&vf->lock);
	if (!bio_list_empty(&fua)) {
		struct bio_list none = BIO_EMPTY_LIST;

		vmfit_process_commits(vf, &none, &fua, &none);
	}
}

static void vmfit_flush_worker(struct work_struct *ws)
{
	struct vmfit *vf = container_of(ws, struct vmfit, flush_work);
	struct bio_list flush, fua = BIO_EMPTY_LIST, done;

	spin_lock_irq(&vf->lock);
	flush = vf->flush_bios;
	bio_list_init(&vf->flush_bios);
	done = vf->fua_done;
	bio_list_init(&vf->fua_done);
	spin_unlock_irq(&vf->lock);
	if (!bio_list_empty(&flush) || !bio_list_empty(&done))
		vmfit_process_commits(vf, &flush, &fua, &done);
}

static void vmfit_commit_work(struct work_struct *ws)
{
	struct vmfit *vf = container_of(to_delayed_work(ws), struct vmfit,
					commit_work);
	int r;

	mutex_lock(&vf->md_lock);
	if (vf->active && READ_ONCE(vf->health) != VMFIT_FAIL &&
	    vmfit_cow_needs_commit(vf)) {
		r = vmfit_cow_commit(vf);
		if (r)
			vmfit_fail(vf, "periodic commit", r);
	}
	if (vf->active)
		queue_delayed_work(vf->wq, &vf->commit_work, VMFIT_COMMIT_PERIOD);
	mutex_unlock(&vf->md_lock);
}

/*
 *--------------------------------------------------------------
 * Snapshot drain
 *--------------------------------------------------------------
 */
static void vmfit_drain_work(struct work_struct *ws)
{
	struct vmfit *vf = container_of(ws, struct vmfit, drain_work);
	struct bio_list views;
	struct bio *bio;
	u64 held, drain;
	int r;

	mutex_lock(&vf->md_lock);
	if (!vf->draining ||
	    vmfit_inflight(vf, VMFIT_STATE_PARITY(vf->state) ^ 1)) {
		mutex_unlock(&vf->md_lock);
		return;
	}
	/* The last old-epoch write is done: make the frozen origin durable. */
	r = blkdev_issue_flush(vf->origin_dev->bdev);
	if (r)
		vmfit_fail(vf, "origin flush", r);
	vf->sb_dirty = true;
	r = vmfit_cow_commit(vf);
	if (r)
		vmfit_fail(vf, "snapshot commit", r);
	vf->drain_ns = ktime_get_ns() - vf->snap_start_ns;
	vf->draining = false;
	drain = vf->drain_ns;
	spin_lock_irq(&vf->lock);
	vf->view_ready = true;
	views = vf->view_bios;
	bio_list_init(&vf->view_bios);
	spin_unlock_irq(&vf->lock);
	mutex_unlock(&vf->md_lock);

	held = atomic64_read(&vf->held_ns);
	trace_vmfit_snapshot_end(vf->devt, vf->epoch, held, drain);
	dm_vmfit_nl_snapshot_end(vf, vf->epoch, held, drain);

	while ((bio = bio_list_pop(&views))) {
		vmfit_remap_origin(vf, bio);
		submit_bio_noacct(bio);
	}
	queue_work(vf->wq, &vf->worker);
}

/*
 * Make a mode change durable before it takes effect in core: see
 * dm-vmfit.h.
 */
int vmfit_commit_mode(struct vmfit *vf, enum vmfit_mode mode,
		      const char *what)
{
	enum vmfit_mode old = vf->sb_mode;
	int r;

	vf->sb_mode = mode;
	vf->sb_dirty = true;
	r = vmfit_cow_commit(vf);
	if (r) {
		vf->sb_mode = old;
		vmfit_fail(vf, what, r);
	}
	return r;
}

/*
 *--------------------------------------------------------------
 * Core API and messages
 *--------------------------------------------------------------
 */
static void vmfit_release(struct kref *ref)
{
	kfree(container_of(ref, struct vmfit, ref));
}

/* Drop a reference: the table's, or a pin's. */
static void vmfit_put(struct vmfit *vf)
{
	kref_put(&vf->ref, vmfit_release);
}

int vmfit_snapshot(struct vmfit *vf, const char **why)
{
	int r = 0;

	mutex_lock(&vf->md_lock);
	if (!vf->loaded) {
		*why = "The device is not active yet";
		r = -EBUSY;
		goto out;
	}
	if (vmfit_mode(vf) != VMFIT_NORMAL || vf->draining || vf->switching) {
		*why = "A snapshot is already active, draining or merging";
		r = -EBUSY;
		goto out;
	}
	if (READ_ONCE(vf->health) == VMFIT_FAIL) {
		*why = "The device has failed";
		r = -EIO;
		goto out;
	}
	/*
	 * Commit protocol, rule 2: the new epoch and mode are durable before
	 * any entry of the epoch can be written (before the switch).
	 */
	vf->epoch++;
	r = vmfit_commit_mode(vf, VMFIT_SNAPSHOT, "snapshot commit");
	if (r) {
		vf->epoch--;
		*why = "The metadata cannot be written";
		goto out;
	}
	atomic64_set(&vf->held_ns, 0);
	vf->drain_ns = 0;
	spin_lock_irq(&vf->lock);
	vf->view_ready = false;
	spin_unlock_irq(&vf->lock);
	vf->draining = true;
	vf->snap_start_ns = ktime_get_ns();
	trace_vmfit_snapshot_begin(vf->devt, vf->epoch);
	dm_vmfit_nl_snapshot_begin(vf, vf->epoch);
	vmfit_switch(vf, VMFIT_SNAPSHOT);
	queue_work(vf->wq, &vf->drain_work);
out:
	mutex_unlock(&vf->md_lock);
	return r;
}

/* Snapshot or merge may end only when nothing pins it and it drained. */
static int vmfit_check_snapshot(struct vmfit *vf, const char **why)
{
	lockdep_assert_held(&vf->md_lock);
	if (!vf->loaded) {
		*why = "The device is not active yet";
		return -EBUSY;
	}
	if (vmfit_mode(vf) != VMFIT_SNAPSHOT || vf->switching) {
		*why = "The device has no active snapshot";
		return -EINVAL;
	}
	if (vf->views) {
		*why = "A vmfit-view or a checksum uses the snapshot";
		return -EBUSY;
	}
	if (vf->draining) {
		*why = "The snapshot is still draining";
		return -EBUSY;
	}
	return 0;
}

int vmfit_drop(struct vmfit *vf, const char **why)
{
	int r;

	mutex_lock(&vf->md_lock);
	r = vmfit_check_snapshot(vf, why);
	if (r)
		goto out;
	/* Durable first: after a crash the origin is the live device. */
	r = vmfit_commit_mode(vf, VMFIT_NORMAL, "drop commit");
	if (r) {
		*why = "The metadata cannot be written";
		goto out;
	}
	vmfit_end_to_normal(vf);
out:
	mutex_unlock(&vf->md_lock);
	return r;
}

int vmfit_merge(struct vmfit *vf, const char **why)
{
	int r;

	mutex_lock(&vf->md_lock);
	r = vmfit_check_snapshot(vf, why);
	if (r)
		goto out;
	r = vmfit_commit_mode(vf, VMFIT_MERGING, "merge commit");
	if (r) {
		*why = "The metadata cannot be written";
		goto out;
	}
	vf->to_merge = 0;
	vf->merged = 0;
	vf->merge_cursor = 0;
	vf->merge_stop = false;
	vmfit_switch(vf, VMFIT_MERGING);
	queue_work(vf->merge_wq, &vf->merge_work);
out:
	mutex_unlock(&vf->md_lock);
	return r;
}

int vmfit_clear(struct vmfit *vf, const char **why)
{
	int r;

	mutex_lock(&vf->md_lock);
	if (!vf->loaded) {
		*why = "The device is not active yet";
		r = -EBUSY;
		goto out;
	}
	if (vmfit_mode(vf) != VMFIT_NORMAL || vf->switching) {
		*why = "Only allowed in normal mode";
		r = -EBUSY;
		goto out;
	}
	mutex_lock(&vf->bm_lock);
	r = vmfit_cow_clear(vf);
	mutex_unlock(&vf->bm_lock);
	if (r) {
		*why = "The metadata cannot be written";
		vmfit_fail(vf, "changed-set clear", r);
	}
out:
	mutex_unlock(&vf->md_lock);
	return r;
}

int vmfit_pin(struct vmfit *vf, unsigned int flags, const char **why)
{
	int r = 0;

	mutex_lock(&vf->md_lock);
	if (!vf->loaded) {
		*why = "The device is not active yet";
		r = -EBUSY;
	} else if (vmfit_mode(vf) != VMFIT_SNAPSHOT || vf->switching) {
		*why = "The device has no active snapshot";
		r = -EINVAL;
	} else if ((flags & VMFIT_PIN_READY) && !READ_ONCE(vf->view_ready)) {
		*why = "The snapshot is still draining; retry";
		r = -EAGAIN;
	} else if ((flags & VMFIT_PIN_READY) &&
		   READ_ONCE(vf->health) == VMFIT_FAIL) {
		*why = "The device has failed";
		r = -EIO;
	} else {
		vf->views++;
		kref_get(&vf->ref);
	}
	mutex_unlock(&vf->md_lock);
	return r;
}

void vmfit_unpin(struct vmfit *vf)
{
	mutex_lock(&vf->md_lock);
	vf->views--;
	mutex_unlock(&vf->md_lock);
	vmfit_put(vf);
}

static bool vmfit_is_changed(struct vmfit *vf, u32 c, bool cow)
{
	return test_bit_le(c, vf->changed) ||
	       (cow && vmfit_tbl_get(&vf->map, c));
}

/* The first chunk from @c on that changed (or is in the cow, if @cow). */
static u32 vmfit_next_changed(struct vmfit *vf, u32 c, bool cow)
{
	u32 n = vmfit_cow_next_changed(vf, c);

	return cow ? min(n, vmfit_tbl_next(&vf->map, c)) : n;
}

/*
 * changed [<start chunk>]: the changed set from <start chunk> on, as
 * comma-separated ranges "0-3,17,20-21".  When the result does not fit,
 * it ends with ",+" (or is just "+"): continue with
 * "changed <last chunk printed + 1>".
 */
static int vmfit_msg_changed(struct vmfit *vf, unsigned int argc, char **argv,
			     char *result, unsigned int maxlen)
{
	unsigned int sz = 0;
	char item[32];
	u32 start = 0, c, e;
	bool cow;
	int len;

	if (argc == 2 && kstrtou32(argv[1], 10, &start)) {
		DMERR("%s: changed: invalid start chunk '%s'", vmfit_name(vf),
		      argv[1]);
		return -EINVAL;
	}
	if (!maxlen)
		return -EOVERFLOW;
	result[0] = '\0';

	mutex_lock(&vf->md_lock);
	cow = vmfit_mode(vf) != VMFIT_NORMAL;
	for (c = vmfit_next_changed(vf, start, cow); c < vf->origin_chunks;
	     c = vmfit_next_changed(vf, e + 1, cow)) {
		e = c;
		while (e + 1 < vf->origin_chunks &&
		       vmfit_is_changed(vf, e + 1, cow))
			e++;
		if (e == c)
			len = scnprintf(item, sizeof(item), "%s%u", sz ? "," : "", c);
		else
			len = scnprintf(item, sizeof(item), "%s%u-%u",
					sz ? "," : "", c, e);
		/* Keep room for ",+" and the terminating NUL. */
		if (sz + len + 3 > maxlen) {
			if (sz + 3 <= maxlen)
				strcpy(result + sz, sz ? ",+" : "+");
			break;
		}
		memcpy(result + sz, item, len + 1);
		sz += len;
	}
	mutex_unlock(&vf->md_lock);
	return 1;
}

static int vmfit_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct vmfit *vf = vmfit_of(ti);
	int (*fn)(struct vmfit *vf, const char **why);
	const char *why = NULL;
	int r;

	if (!argc)
		return -EINVAL;
	if (!strcasecmp(argv[0], "changed")) {
		if (argc > 2) {
			DMERR("%s: changed takes at most one argument",
			      vmfit_name(vf));
			return -EINVAL;
		}
		return vmfit_msg_changed(vf, argc, argv, result, maxlen);
	}
	if (!strcasecmp(argv[0], "snapshot")) {
		fn = vmfit_snapshot;
	} else if (!strcasecmp(argv[0], "merge")) {
		fn = vmfit_merge;
	} else if (!strcasecmp(argv[0], "drop")) {
		fn = vmfit_drop;
	} else if (!strcasecmp(argv[0], "clear")) {
		fn = vmfit_clear;
	} else {
		DMERR("%s: unsupported message '%s'", vmfit_name(vf), argv[0]);
		return -EINVAL;
	}
	if (argc != 1) {
		DMERR("%s: %s takes no arguments", vmfit_name(vf), argv[0]);
		return -EINVAL;
	}
	r = fn(vf, &why);
	if (r && why)
		DMERR("%s: %s: %s", vmfit_name(vf), argv[0], why);
	return r;
}

/*
 *--------------------------------------------------------------
 * Target methods
 *--------------------------------------------------------------
 */
static struct vmfit *vmfit_lookup(dev_t devt)
{
	struct vmfit *vf, *found = NULL;

	lockdep_assert_held(&vmfit_registry_lock);
	list_for_each_entry(vf, &vmfit_registry, registry) {
		if (vf->devt != devt)
			continue;
		if (vf->active)
			return vf;
		if (!found)
			found = vf;
	}
	return found;
}

/*
 * Another instance of the same device than @vf (a live table being
 * replaced, or a reload not resumed yet), with an open view if @views.
 */
static bool vmfit_other(struct vmfit *vf, dev_t devt, bool views)
{
	struct vmfit *o;
	bool found = false;

	lockdep_assert_held(&vmfit_registry_lock);
	list_for_each_entry(o, &vmfit_registry, registry) {
		if (o == vf || o->devt != devt)
			continue;
		if (!views) {
			found = true;
			break;
		}
		mutex_lock(&o->md_lock);
		found = o->views;
		mutex_unlock(&o->md_lock);
		if (found)
			break;
	}
	return found;
}

static struct vmfit *vmfit_lookup_name(const char *name)
{
	struct vmfit *vf, *found = NULL;
	char buf[DM_NAME_LEN];

	lockdep_assert_held(&vmfit_registry_lock);
	list_for_each_entry(vf, &vmfit_registry, registry) {
		dm_vmfit_dm_name(vf, buf);
		if (strcmp(buf, name))
			continue;
		if (vf->active)
			return vf;
		if (!found)
			found = vf;
	}
	return found;
}

/* For the netlink family: see dm-vmfit-netlink.h. */
int dm_vmfit_call(dev_t devt, const char *name,
		  int (*fn)(struct vmfit *vf, void *arg), void *arg)
{
	struct vmfit *vf = NULL, *by_name;
	int r;

	mutex_lock(&vmfit_registry_lock);
	if (devt)
		vf = vmfit_lookup(devt);
	if (name) {
		by_name = vmfit_lookup_name(name);
		if (vf && by_name && vf->devt != by_name->devt) {
			r = -EXDEV;
			goto out;
		}
		if (!devt)
			vf = by_name;
		else if (!by_name)
			vf = NULL;
	}
	r = vf ? fn(vf, arg) : -ENODEV;
out:
	mutex_unlock(&vmfit_registry_lock);
	return r;
}

int dm_vmfit_for_each(int (*fn)(struct vmfit *vf, void *arg), void *arg)
{
	struct vmfit *vf;
	int r = 0;

	mutex_lock(&vmfit_registry_lock);
	list_for_each_entry(vf, &vmfit_registry, registry) {
		/* A reload's inactive table is not a device of its own. */
		if (vmfit_lookup(vf->devt) != vf)
			continue;
		r = fn(vf, arg);
		if (r)
			break;
	}
	mutex_unlock(&vmfit_registry_lock);
	return r;
}

struct vmfit *vmfit_pin_devt(dev_t devt, sector_t len, dev_t *origin,
			     const char **why)
{
	struct vmfit *vf;
	int r;

	mutex_lock(&vmfit_registry_lock);
	vf = vmfit_lookup(devt);
	if (!vf) {
		*why = "Device is not a vmfit device";
		r = -ENODEV;
		goto out;
	}
	/* The reader would die with the table the reload replaces. */
	if (vmfit_other(vf, devt, false)) {
		*why = "A reload of the vmfit device is pending";
		r = -EBUSY;
		goto out;
	}
	if (len > vf->ti->len) {
		*why = "View is larger than the vmfit device";
		r = -EINVAL;
		goto out;
	}
	r = vmfit_pin(vf, 0, why);
	if (!r)
		*origin = vf->origin_dev->bdev->bd_dev;
out:
	mutex_unlock(&vmfit_registry_lock);
	return r ? ERR_PTR(r) : vf;
}

/*
 * The owner's table goes (remove, remove --force, or a reload with another
 * table line): open views and checksums fail from now on, the metadata is
 * committed and everything but the structure itself is freed (pins may
 * still hold it).
 */
static void vmfit_destroy(struct vmfit *vf)
{
	struct bio_list views;
	struct bio *bio;

	mutex_lock(&vmfit_registry_lock);
	list_del_init(&vf->registry);
	mutex_unlock(&vmfit_registry_lock);
	/* Open views fail from now on; what they parked fails too. */
	spin_lock_irq(&vf->lock);
	vf->dead = true;
	views = vf->view_bios;
	bio_list_init(&vf->view_bios);
	spin_unlock_irq(&vf->lock);
	while ((bio = bio_list_pop(&views)))
		bio_io_error(bio);
	/* Checksums of this instance stop reading it. */
	dm_vmfit_csum_detach(vf);

	if (vf->merge_wq) {
		WRITE_ONCE(vf->merge_stop, true);
		destroy_workqueue(vf->merge_wq);
	}
	if (vf->flush_wq)
		destroy_workqueue(vf->flush_wq);
	if (vf->wq) {
		mutex_lock(&vf->md_lock);
		if (vf->active) {
			vf->active = false;
			/* The superblock too: its preflush covers every write. */
			vf->sb_dirty = true;
			if (vmfit_cow_commit(vf))
				DMERR("%s: final commit failed", vmfit_name(vf));
		}
		mutex_unlock(&vf->md_lock);
		cancel_delayed_work_sync(&vf->commit_work);
		destroy_workqueue(vf->wq);
	}
	if (vf->kc)
		dm_kcopyd_client_destroy(vf->kc);
	mempool_exit(&vf->job_pool);
	free_percpu(vf->inflight);
	if (vf->io_client)
		dm_io_client_destroy(vf->io_client);
	kfree(vf->md_buf);
	vmfit_cow_free(vf);
	/* The devices are the owner table's: closed by vmfit_dtr(). */
	vf->origin_dev = NULL;
	vf->cow_dev = NULL;
	mutex_lock(&vf->md_lock);
	vf->loaded = false;	/* the core API refuses from now on */
	mutex_unlock(&vf->md_lock);
	WRITE_ONCE(vf->ti, NULL);
}

static void vmfit_dtr(struct dm_target *ti)
{
	struct vmfit_tgt *tgt = ti->private;
	struct vmfit *vf;

	if (!tgt)
		return;
	vf = tgt->vf;
	/* A table that shares the instance without owning it leaves it be. */
	if (vf && vf->ti == ti)
		vmfit_destroy(vf);
	if (tgt->cow_dev)
		dm_put_device(ti, tgt->cow_dev);
	if (tgt->origin_dev)
		dm_put_device(ti, tgt->origin_dev);
	kfree(tgt);
	ti->private = NULL;
	/* Pins may still hold the structure (not what it pointed to). */
	if (vf)
		vmfit_put(vf);
}

/* Per-table settings of the target, the same for every table of a device. */
static int vmfit_set_target(struct dm_target *ti, struct vmfit *vf)
{
	int r;

	r = dm_set_target_max_io_len(ti, vf->chunk_sectors);
	if (r) {
		ti->error = "Cannot set the maximum I/O length";
		return r;
	}
	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	ti->num_discard_bios = vf->ignore_discard ? 0 : 1;
	ti->num_write_zeroes_bios = 0;
	ti->per_io_data_size = sizeof(struct vmfit_io);
	return 0;
}

/*
 * @old and the instance @vf being constructed have the same table line:
 * devices, length, chunk size and feature.  A failed instance is never
 * shared: reloading the table is how the device reads its metadata back.
 */
static bool vmfit_same(struct vmfit *old, struct vmfit *vf)
{
	lockdep_assert_held(&vmfit_registry_lock);
	return old->ti && READ_ONCE(old->health) != VMFIT_FAIL &&
	       old->origin_dev->bdev == vf->origin_dev->bdev &&
	       old->cow_dev->bdev == vf->cow_dev->bdev &&
	       old->ti->len == vf->ti->len &&
	       old->chunk_sectors == vf->chunk_sectors &&
	       old->ignore_discard == vf->ignore_discard;
}

static int vmfit_parse_chunk_size(struct vmfit *vf, const char *arg,
				  char **error)
{
	unsigned int sectors;
	char dummy;

	/* sscanf() would take "-8" and " 8"; only plain digits are a size. */
	if (!isdigit(arg[0]) || sscanf(arg, "%u%c", &sectors, &dummy) != 1) {
		*error = "Invalid chunk size: not a number";
		return -EINVAL;
	}
	if (!sectors) {
		*error = "Invalid chunk size: zero";
		return -EINVAL;
	}
	if (!is_power_of_2(sectors)) {
		*error = "Invalid chunk size: not a power of two";
		return -EINVAL;
	}
	if (sectors > VMFIT_CHUNK_SECTORS_MAX) {
		*error = "Invalid chunk size: larger than "
			 __stringify(VMFIT_CHUNK_SECTORS_MAX) " sectors";
		return -EINVAL;
	}
	vf->chunk_sectors = sectors;
	vf->chunk_shift = __ffs(sectors);
	return 0;
}

static int vmfit_parse_features(struct vmfit *vf, struct dm_arg_set *as,
				char **error)
{
	static const struct dm_arg _args[] = {
		{0, 1, "Invalid number of feature arguments"},
	};
	unsigned int argc;
	const char *arg;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, error);
	if (r)
		return r;
	while (argc--) {
		arg = dm_shift_arg(as);
		if (!strcasecmp(arg, VMFIT_OPT_IGNORE_DISCARD)) {
			vf->ignore_discard = true;
		} else {
			*error = "Unrecognised feature argument";
			return -EINVAL;
		}
	}
	if (as->argc) {
		*error = "Invalid argument count";
		return -EINVAL;
	}
	return 0;
}

static int vmfit_parse_devices(struct vmfit *vf, struct dm_target *ti,
			       char **argv, char **error)
{
	fmode_t mode = dm_table_get_mode(ti->table);
	unsigned int lbs;
	int r;

	r = dm_get_device(ti, argv[0], mode, &vf->origin_dev);
	if (r) {
		*error = "Error opening origin device";
		return r;
	}
	r = dm_get_device(ti, argv[1], mode, &vf->cow_dev);
	if (r) {
		*error = "Error opening cow device";
		return r;
	}
	if (vf->origin_dev->bdev == vf->cow_dev->bdev) {
		*error = "Origin and cow device must differ";
		return -EINVAL;
	}
	lbs = max(bdev_logical_block_size(vf->origin_dev->bdev),
		  bdev_logical_block_size(vf->cow_dev->bdev));
	if (vf->chunk_sectors << SECTOR_SHIFT < lbs) {
		*error = "Invalid chunk size: smaller than a device's logical block size";
		return -EINVAL;
	}
	return 0;
}

/*
 * Read the cow metadata into core and take up its mode.  Done by the
 * constructor of a new device (so that a refusal is a ti->error), and by
 * preresume when a reload replaced a live table (whose commits the
 * constructor must not race with).  Holds md_lock.
 */
static int vmfit_load(struct vmfit *vf, char **error)
{
	u64 mapped;
	int r;

	lockdep_assert_held(&vf->md_lock);
	r = vmfit_cow_load(vf, &mapped, error);
	if (r) {
		DMERR("%s: cannot load the cow metadata: %s (%d)",
		      vmfit_name(vf), *error, r);
		return r;
	}
	vf->loaded = true;
	vf->to_merge = vf->sb_mode == VMFIT_MERGING ? mapped : 0;
	vf->merged = 0;
	vf->merge_cursor = 0;
	spin_lock_irq(&vf->lock);
	vf->view_ready = vf->sb_mode == VMFIT_SNAPSHOT;
	spin_unlock_irq(&vf->lock);
	WRITE_ONCE(vf->state, (vf->state & ~3U) | vf->sb_mode);
	DMINFO("%s: loaded: mode %s epoch %llu, %llu chunks in the cow",
	       vmfit_name(vf), vmfit_mode_names[vf->sb_mode], vf->epoch,
	       mapped);
	return 0;
}

/*
 * Construct a vmfit mapping:
 * vmfit <origin dev> <cow dev> <chunk size> [<#feature args> [<feature arg>]*]
 */
static int vmfit_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as;
	struct vmfit *vf, *old;
	struct vmfit_tgt *tgt;
	bool fresh;
	int r;

	tgt = kzalloc(sizeof(*tgt), GFP_KERNEL);
	vf = kzalloc(sizeof(*vf), GFP_KERNEL);
	if (!tgt || !vf) {
		kfree(tgt);
		kfree(vf);
		ti->error = "Cannot allocate memory";
		return -ENOMEM;
	}
	ti->private = tgt;
	tgt->vf = vf;
	vf->ti = ti;
	/* Constant across table swaps, unlike the table (vf->ti). */
	vf->md = dm_table_get_md(ti->table);
	strscpy(vf->name, dm_table_device_name(ti->table), sizeof(vf->name));
	kref_init(&vf->ref);
	INIT_LIST_HEAD(&vf->registry);
	INIT_LIST_HEAD(&vf->jobs);
	mutex_init(&vf->md_lock);
	mutex_init(&vf->bm_lock);
	spin_lock_init(&vf->lock);
	init_waitqueue_head(&vf->drain_wq);
	init_completion(&vf->merge_done);
	bio_list_init(&vf->bm_bios);
	bio_list_init(&vf->copy_bios);
	bio_list_init(&vf->retry_bios);
	bio_list_init(&vf->room_bios);
	bio_list_init(&vf->flush_bios);
	bio_list_init(&vf->fua_bios);
	bio_list_init(&vf->fua_done);
	bio_list_init(&vf->view_bios);
	INIT_WORK(&vf->worker, vmfit_worker);
	INIT_WORK(&vf->flush_work, vmfit_flush_worker);
	INIT_WORK(&vf->drain_work, vmfit_drain_work);
	INIT_WORK(&vf->event_work, vmfit_event_work);
	INIT_WORK(&vf->merge_work, vmfit_merge_work);
	INIT_DELAYED_WORK(&vf->commit_work, vmfit_commit_work);

	if (argc < 3) {
		ti->error = "Invalid argument count";
		r = -EINVAL;
		goto bad;
	}
	r = vmfit_parse_chunk_size(vf, argv[2], &ti->error);
	if (r)
		goto bad;
	as.argc = argc - 3;
	as.argv = argv + 3;
	r = vmfit_parse_features(vf, &as, &ti->error);
	if (r)
		goto bad;
	r = vmfit_parse_devices(vf, ti, argv, &ti->error);
	tgt->origin_dev = vf->origin_dev;
	tgt->cow_dev = vf->cow_dev;
	if (r)
		goto bad;

	if (ti->len >> vf->chunk_shift >= VMFIT_MAX_COW_CHUNKS) {
		ti->error = "Origin too large for the chunk size";
		r = -EINVAL;
		goto bad;
	}
	vf->origin_chunks = DIV_ROUND_UP_SECTOR_T(ti->len, vf->chunk_sectors);
	if (vmfit_cow_layout(vf, bdev_nr_sectors(vf->cow_dev->bdev))) {
		ti->error = "Cow device too small for the metadata and one data chunk";
		r = -EINVAL;
		goto bad;
	}

	vf->devt = disk_devt(dm_disk(dm_table_get_md(ti->table)));
	mutex_lock(&vmfit_registry_lock);
	old = vmfit_lookup(vf->devt);
	if (old && vmfit_same(old, vf)) {
		/* An identical reload: keep the instance and its state. */
		kref_get(&old->ref);
		tgt->vf = old;
		r = 0;
	} else {
		r = old && old->views ? -EBUSY : 0;
	}
	mutex_unlock(&vmfit_registry_lock);
	if (tgt->vf == old) {
		/* Nothing but the devices (now the table's) was set up. */
		kfree(vf);
		r = vmfit_set_target(ti, old);
		if (r)
			vmfit_dtr(ti);
		return r;
	}
	if (r) {
		ti->error = "Cannot reload: a vmfit-view or a checksum pins the snapshot";
		goto bad;
	}

	r = -ENOMEM;
	ti->error = "Cannot allocate memory";
	vf->md_buf = kzalloc(VMFIT_BLOCK_SIZE, GFP_KERNEL);
	if (!vf->md_buf)
		goto bad;
	vf->io_client = dm_io_client_create();
	if (IS_ERR(vf->io_client)) {
		r = PTR_ERR(vf->io_client);
		vf->io_client = NULL;
		goto bad;
	}
	vf->inflight = alloc_percpu(struct vmfit_inflight);
	if (!vf->inflight)
		goto bad;
	r = mempool_init_kmalloc_pool(&vf->job_pool, VMFIT_MERGE_BATCH,
				      sizeof(struct vmfit_job));
	if (r)
		goto bad;
	r = -ENOMEM;
	vf->kc = dm_kcopyd_client_create(NULL);
	if (IS_ERR(vf->kc)) {
		r = PTR_ERR(vf->kc);
		vf->kc = NULL;
		goto bad;
	}
	vf->wq = alloc_ordered_workqueue("kvmfitd", WQ_MEM_RECLAIM);
	vf->merge_wq = alloc_ordered_workqueue("kvmfit_merge", WQ_MEM_RECLAIM);
	vf->flush_wq = alloc_workqueue("kvmfit_flush",
				       WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!vf->wq || !vf->merge_wq || !vf->flush_wq)
		goto bad;

	r = vmfit_cow_check(vf, &fresh, &ti->error);
	if (r)
		goto bad;
	/* Sized by the layout the superblock recorded. */
	r = vmfit_cow_alloc(vf, &ti->error);
	if (r) {
		DMERR("%s: %s (%u origin chunks, %u cow chunks)",
		      vmfit_name(vf), ti->error, vf->origin_chunks,
		      vf->data_chunks);
		goto bad;
	}

	r = vmfit_set_target(ti, vf);
	if (r)
		goto bad;

	/* Last: nothing is written when the constructor fails earlier. */
	if (fresh) {
		r = vmfit_cow_format(vf);
		if (r) {
			ti->error = "Error formatting the cow device";
			goto bad;
		}
		DMINFO("%s: formatted the cow device: %u data chunks",
		       vmfit_name(vf), vf->data_chunks);
	}

	mutex_lock(&vmfit_registry_lock);
	old = vmfit_lookup(vf->devt);
	mutex_unlock(&vmfit_registry_lock);
	if (!old) {
		/* A new device: refuse bad metadata here, with ti->error. */
		mutex_lock(&vf->md_lock);
		r = vmfit_load(vf, &ti->error);
		mutex_unlock(&vf->md_lock);
		if (r)
			goto bad;
	}

	mutex_lock(&vmfit_registry_lock);
	list_add(&vf->registry, &vmfit_registry);
	mutex_unlock(&vmfit_registry_lock);
	return 0;

bad:
	vmfit_dtr(ti);
	return r;
}

static int vmfit_map(struct dm_target *ti, struct bio *bio)
{
	struct vmfit *vf = vmfit_of(ti);
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));
	sector_t left;
	int r;

	io->held_start = 0;
	io->cow = 0;
	io->alloc = 0;
	io->flags = 0;
	io->chunk = 0;
	io->mode = VMFIT_NORMAL;

	if (bio->bi_opf & REQ_PREFLUSH) {
		/* Metadata I/O failed: no flush may claim durability. */
		if (unlikely(READ_ONCE(vf->health) == VMFIT_FAIL))
			return DM_MAPIO_KILL;
		/* Empty: dm core sends the data of a flush separately. */
		if (vmfit_mode(vf) == VMFIT_NORMAL) {
			vmfit_remap_origin(vf, bio);
			return DM_MAPIO_REMAPPED;
		}
		vmfit_defer_commit(vf, &vf->flush_bios, bio);
		return DM_MAPIO_SUBMITTED;
	}

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io->chunk = vmfit_chunk(vf, bio->bi_iter.bi_sector);
	if (bio_op(bio) == REQ_OP_DISCARD) {
		/* max_io_len does not split discards: one chunk at a time. */
		left = vmfit_chunk_to_sector(vf, io->chunk + 1) -
			bio->bi_iter.bi_sector;
		if (bio_sectors(bio) > left)
			dm_accept_partial_bio(bio, left);
	}

	vmfit_get_gen(vf, io);
	r = vmfit_route(vf, bio, io);
	if (r == DM_MAPIO_REMAPPED && vmfit_needs_precommit(bio, io)) {
		vmfit_defer(vf, &vf->fua_bios, bio, io, false);
		return DM_MAPIO_SUBMITTED;
	}
	return r;
}

static int vmfit_end_io(struct dm_target *ti, struct bio *bio,
			blk_status_t *error)
{
	struct vmfit *vf = vmfit_of(ti);
	struct vmfit_io *io = dm_per_bio_data(bio, sizeof(*io));

	if (io->flags & VMFIT_IO_COMMITTED) {
		/* Second pass, from vmfit_process_commits(). */
		*error = bio->bi_status;
		vmfit_put_io(vf, io);
		return DM_ENDIO_DONE;
	}
	/*
	 * Persist the mapping only once the data is on the cow (in merging
	 * mode too: a bio retried across the switch to merging may be the
	 * first write to its chunk).  Its generation count is held until the
	 * bio completes, so a merge batch clears the entry only after this.
	 */
	/* The chunk it maps would read stale data: the device fails. */
	if (unlikely(*error) && io->cow && op_is_write(bio_op(bio)))
		vmfit_fail(vf, "cow data write", blk_status_to_errno(*error));
	if (io->cow && !*error && op_is_write(bio_op(bio))) {
		/* The slot exists: vmfit_cow_alloc_chunk() made it. */
		if (vmfit_tbl_get(&vf->rev, io->cow - 1) != io->chunk + 1)
			vmfit_cow_set_rev(vf, io->cow - 1, io->chunk + 1);
		if (io->flags & VMFIT_IO_FUA) {
			/* Acknowledged once the entry is durable too. */
			vmfit_defer_commit(vf, &vf->fua_done, bio);
			return DM_ENDIO_INCOMPLETE;
		}
	}
	vmfit_put_io(vf, io);
	return DM_ENDIO_DONE;
}

static void vmfit_presuspend(struct dm_target *ti)
{
	struct vmfit *vf = vmfit_of(ti);

	/* Only the owner's table was resumed. */
	if (vf->ti != ti)
		return;

	WRITE_ONCE(vf->merge_stop, true);
}

/* The suspend was cancelled: let a merge go on. */
static void vmfit_presuspend_undo(struct dm_target *ti)
{
	struct vmfit *vf = vmfit_of(ti);

	/* Only the owner's table was resumed. */
	if (vf->ti != ti)
		return;

	mutex_lock(&vf->md_lock);
	if (vmfit_mode(vf) == VMFIT_MERGING) {
		vf->merge_stop = false;
		queue_work(vf->merge_wq, &vf->merge_work);
	}
	mutex_unlock(&vf->md_lock);
}

static void vmfit_postsuspend(struct dm_target *ti)
{
	struct vmfit *vf = vmfit_of(ti);
	int r;

	if (vf->ti != ti)
		return;

	flush_workqueue(vf->merge_wq);
	flush_workqueue(vf->wq);
	flush_workqueue(vf->flush_wq);
	mutex_lock(&vf->md_lock);
	vf->active = false;
	mutex_unlock(&vf->md_lock);
	cancel_delayed_work_sync(&vf->commit_work);
	flush_workqueue(vf->wq);

	mutex_lock(&vf->md_lock);
	if (READ_ONCE(vf->health) != VMFIT_FAIL) {
		/* Clean suspend: the on-disk set becomes exact again. */
		mutex_lock(&vf->bm_lock);
		r = vmfit_cow_sync_bitmap(vf);
		/* An empty set need not be read at the next activation. */
		if (!r && vmfit_cow_set_empty(vf))
			vf->bm_empty = true;
		mutex_unlock(&vf->bm_lock);
		/* The superblock too: its preflush covers every write. */
		vf->sb_dirty = true;
		if (!r)
			r = vmfit_cow_commit(vf);
		if (r)
			vmfit_fail(vf, "suspend commit", r);
	}
	mutex_unlock(&vf->md_lock);
}

/*
 * A table that shares the instance takes it over: the table it replaces is
 * suspended (its postsuspend committed and stopped the workers) and is
 * destroyed only after this resume.
 */
static int vmfit_take_over(struct dm_target *ti)
{
	struct vmfit_tgt *tgt = ti->private;
	struct vmfit *vf = tgt->vf;
	int r = 0;

	/*
	 * Lookups read vf->ti under the registry lock (vmfit_same(),
	 * vmfit_pin_devt()): the old table is destroyed after this resume,
	 * never while such a user holds it.
	 */
	mutex_lock(&vmfit_registry_lock);
	mutex_lock(&vf->md_lock);
	if (READ_ONCE(vf->dead)) {
		r = -ENODEV;
	} else {
		vf->origin_dev = tgt->origin_dev;
		vf->cow_dev = tgt->cow_dev;
		WRITE_ONCE(vf->ti, ti);
	}
	mutex_unlock(&vf->md_lock);
	mutex_unlock(&vmfit_registry_lock);
	if (r)
		DMERR("%s: the vmfit instance this table shared is gone: reload",
		      dm_table_device_name(ti->table));
	else
		DMINFO("%s: reload kept the instance (mode %s, epoch %llu)",
		       vmfit_name(vf), vmfit_mode_names[vmfit_mode(vf)],
		       vf->epoch);
	return r;
}

static int vmfit_preresume(struct dm_target *ti)
{
	struct vmfit *vf = vmfit_of(ti);
	char *error;
	int r = 0;

	if (vf->ti != ti) {
		r = vmfit_take_over(ti);
		if (r)
			return r;
	}

	if (!vf->loaded) {
		/* A view opened on the table this one replaces since its ctr. */
		mutex_lock(&vmfit_registry_lock);
		if (vmfit_other(vf, vf->devt, true))
			r = -EBUSY;
		mutex_unlock(&vmfit_registry_lock);
		if (r) {
			DMERR("%s: resume refused: a vmfit-view or a checksum pins the snapshot",
			      vmfit_name(vf));
			return r;
		}
	}
	mutex_lock(&vf->md_lock);
	if (!vf->loaded) {
		r = vmfit_load(vf, &error);
		if (r)
			goto out;
	}
	r = vmfit_cow_bm_use(vf);
	if (r) {
		vmfit_fail(vf, "resume commit", r);
		goto out;
	}
	vf->active = true;
	queue_delayed_work(vf->wq, &vf->commit_work, VMFIT_COMMIT_PERIOD);
	if (vf->sb_mode == VMFIT_MERGING && vmfit_mode(vf) == VMFIT_MERGING) {
		vf->merge_stop = false;
		queue_work(vf->merge_wq, &vf->merge_work);
	}
out:
	mutex_unlock(&vf->md_lock);
	return r;
}

/*
 * Chunks in the exact set, and in snapshot or merging mode those in the
 * cow besides: counters, no walk.  A write of the previous generation that
 * adds a chunk the new one already mapped counts it twice until the merge
 * or drop.
 */
static u64 vmfit_count_changed(struct vmfit *vf)
{
	u64 n = atomic64_read(&vf->nr_changed);

	if (vmfit_mode(vf) != VMFIT_NORMAL)
		n += atomic64_read(&vf->nr_cow_only);
	return n;
}

void vmfit_get_stats(struct vmfit *vf, struct vmfit_stats *st)
{
	/*
	 * No lock: status must never make the I/O path wait (commits hold
	 * md_lock across I/O); each field is read once.
	 */
	st->mode = vmfit_mode(vf);
	if (st->mode != VMFIT_SNAPSHOT)
		st->view = VMFIT_NL_VIEW_NONE;
	else if (READ_ONCE(vf->view_ready))
		st->view = VMFIT_NL_VIEW_READY;
	else
		st->view = VMFIT_NL_VIEW_DRAINING;
	/*
	 * In normal mode the cow holds nothing, even while a drop or the end
	 * of a merge still waits for the old generation.
	 */
	st->cow_used = 0;
	if (st->mode != VMFIT_NORMAL)
		st->cow_used = min_t(u64, atomic64_read(&vf->cow_next),
				     vf->data_chunks);
	st->cow_total = vf->data_chunks;
	st->health = READ_ONCE(vf->health);
	if (st->mode == VMFIT_NORMAL && st->health == VMFIT_COW_FULL)
		st->health = VMFIT_OK;
	st->epoch = READ_ONCE(vf->epoch);
	st->changed = vmfit_count_changed(vf);
	st->held_ns = atomic64_read(&vf->held_ns);
	st->drain_ns = READ_ONCE(vf->drain_ns);
	st->merged = 0;
	st->to_merge = 0;
	if (st->mode == VMFIT_MERGING) {
		st->merged = READ_ONCE(vf->merged);
		st->to_merge = READ_ONCE(vf->to_merge);
	}
	st->chunk_sectors = vf->chunk_sectors;
	st->origin_chunks = vf->origin_chunks;
}

/*
 * Status format:
 *
 * <mode> <epoch> <#changed chunks> <cow used>/<cow total> <view>
 * <held_ns> <drain_ns> <merged>/<to merge> <health>
 */
static void vmfit_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	static const char * const view_names[] = {
		[VMFIT_NL_VIEW_NONE] = "-",
		[VMFIT_NL_VIEW_DRAINING] = "draining",
		[VMFIT_NL_VIEW_READY] = "ready",
	};
	struct vmfit *vf = vmfit_of(ti);
	struct vmfit_tgt *tgt = ti->private;
	struct vmfit_stats st;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		/* A table left with the instance its owner destroyed. */
		if (unlikely(vf->ti != ti && READ_ONCE(vf->dead))) {
			DMEMIT("gone");
			break;
		}
		vmfit_get_stats(vf, &st);
		DMEMIT("%s %llu %llu %llu/%llu %s %llu %llu %llu/%llu %s",
		       vmfit_mode_names[st.mode], st.epoch, st.changed,
		       st.cow_used, st.cow_total, view_names[st.view],
		       st.held_ns, st.drain_ns, st.merged, st.to_merge,
		       vmfit_health_names[st.health]);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %u", tgt->origin_dev->name, tgt->cow_dev->name,
		       vf->chunk_sectors);
		if (vf->ignore_discard)
			DMEMIT(" 1 " VMFIT_OPT_IGNORE_DISCARD);
		break;
	case STATUSTYPE_IMA:
		/* The identity of the target: what its table line fixes. */
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin_name=%s,cow_name=%s,chunk_sectors=%u,ignore_discard=%c;",
		       tgt->origin_dev->name, tgt->cow_dev->name,
		       vf->chunk_sectors, vf->ignore_discard ? 'y' : 'n');
		break;
	}
}

static int vmfit_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct vmfit_tgt *tgt = ti->private;
	int r;

	r = fn(ti, tgt->origin_dev, 0, ti->len, data);
	if (!r)
		r = fn(ti, tgt->cow_dev, 0,
		       bdev_nr_sectors(tgt->cow_dev->bdev), data);
	return r;
}

/*
 * A write smaller than a chunk to an unmapped chunk costs a copy of the
 * rest of the chunk in snapshot mode: ask for whole chunks.  Discards are
 * taken one chunk at a time.
 */
static void vmfit_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct vmfit *vf = vmfit_of(ti);
	unsigned int chunk = vf->chunk_sectors << SECTOR_SHIFT;

	if (limits->io_min < chunk)
		blk_limits_io_min(limits, chunk);
	blk_limits_io_opt(limits, chunk);
	if (!vf->ignore_discard && limits->discard_granularity < chunk)
		limits->discard_granularity = chunk;
}

static struct target_type vmfit_target = {
	.name = "vmfit",
	/*
	 * 1.1: cow format 2, commit protocol; 1.2: table with major:minor;
	 * 1.3: cow format 3 (memory and activation by the cow)
	 */
	.version = {1, 3, 0},
	.module = THIS_MODULE,
	.ctr = vmfit_ctr,
	.dtr = vmfit_dtr,
	.map = vmfit_map,
	.end_io = vmfit_end_io,
	.presuspend = vmfit_presuspend,
	.presuspend_undo = vmfit_presuspend_undo,
	.postsuspend = vmfit_postsuspend,
	.preresume = vmfit_preresume,
	.status = vmfit_status,
	.message = vmfit_message,
	.iterate_devices = vmfit_iterate_devices,
	.io_hints = vmfit_io_hints,
};

/*----------------------------------------------------------------*/

static int __init dm_vmfit_init(void)
{
	int r;

	r = dm_register_target(&vmfit_target);
	if (r) {
		DMERR("register vmfit target failed %d", r);
		goto bad_vmfit;
	}
	r = dm_vmfit_view_init();
	if (r) {
		DMERR("register vmfit-view target failed %d", r);
		goto bad_view;
	}
	r = dm_vmfit_netlink_init();
	if (r) {
		DMERR("register the generic netlink family failed %d", r);
		goto bad_netlink;
	}
	return 0;

bad_netlink:
	dm_vmfit_view_exit();
bad_view:
	dm_unregister_target(&vmfit_target);
bad_vmfit:
	return r;
}

static void __exit dm_vmfit_exit(void)
{
	dm_vmfit_netlink_exit();
	dm_vmfit_view_exit();
	dm_unregister_target(&vmfit_target);
}

module_init(dm_vmfit_init);
module_exit(dm_vmfit_exit);

MODULE_DESCRIPTION(DM_NAME " vmfit target: epoch-switch snapshots and changed-set tracking");
MODULE_AUTHOR("The vmfit authors");
MODULE_LICENSE("GPL");
