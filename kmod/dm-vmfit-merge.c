// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit merge: fold the cow back into the origin in the background,
 * in batches of VMFIT_MERGE_BATCH chunks, under rule 3 of the commit
 * protocol (an entry is removed on disk only after its data is durable on
 * the origin).  The `merge` state change itself is vmfit_merge() in
 * dm-vmfit-target.c; this is the worker it queues on vf->merge_wq.
 *
 * See Documentation/admin-guide/device-mapper/dm-vmfit.rst, "Merge".
 */
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/module.h>

#include "dm-vmfit.h"
#include "dm-vmfit-cow.h"
#include "dm-vmfit-netlink.h"
#include "dm-vmfit-trace.h"

/*
 * Testing (tests/kmod/vmfit-merge-release.sh): once a merge batch has
 * released its first chunk to the origin, log it and sleep this many ms,
 * so that a test can write to that chunk, flush and take a crash image
 * before the batch goes on.  0: off.
 */
static unsigned int vmfit_merge_release_ms;
module_param_named(test_merge_release_ms, vmfit_merge_release_ms, uint, 0644);
MODULE_PARM_DESC(test_merge_release_ms,
		 "Testing: pause a merge batch after its first chunk is released (ms, 0: never)");

static void vmfit_merge_release_pause(struct vmfit *vf, u32 chunk)
{
	unsigned int ms = READ_ONCE(vmfit_merge_release_ms);

	if (!ms)
		return;
	DMINFO("%s: test: merge paused %u ms after releasing chunk %u",
	       vmfit_name(vf), ms, chunk);
	msleep(ms);
}

static void vmfit_merge_copied(int read_err, unsigned long write_err,
			       void *context)
{
	struct vmfit_job *job = context;
	struct vmfit *vf = job->vf;

	job->error = (read_err || write_err) ? -EIO : 0;
	if (atomic_dec_and_test(&vf->merge_pending))
		complete(&vf->merge_done);
}

/* Take up to VMFIT_MERGE_BATCH mapped chunks from the cursor on. */
static unsigned int vmfit_merge_collect(struct vmfit *vf,
					struct vmfit_job **batch)
{
	unsigned int n = 0;

	while (n < VMFIT_MERGE_BATCH) {
		u32 c = vmfit_tbl_next(&vf->map, vf->merge_cursor);
		u32 v;
		struct vmfit_job *job;

		if (c >= vf->origin_chunks)
			break;
		v = vmfit_tbl_get(&vf->map, c);
		vf->merge_cursor = c;
		if (!vmfit_mapped(v)) {
			vf->merge_cursor++;
			continue;
		}
		job = vmfit_job_alloc(vf);
		job->vf = vf;
		job->chunk = c;
		job->cow = v - 1;
		bio_list_init(&job->waiters);
		spin_lock_irq(&vf->lock);
		vmfit_tbl_set(&vf->map, c, VMFIT_BUSY);
		list_add(&job->list, &vf->jobs);
		spin_unlock_irq(&vf->lock);
		batch[n++] = job;
		vf->merge_cursor++;
	}
	return n;
}

static int vmfit_merge_batch(struct vmfit *vf, struct vmfit_job **batch,
			     unsigned int n)
{
	struct dm_io_region from, to;
	unsigned int i, parity;
	int r = 0;

	/* Writes mapped before the chunks turned busy must finish first. */
	mutex_lock(&vf->md_lock);
	parity = vmfit_switch(vf, VMFIT_MERGING);
	mutex_unlock(&vf->md_lock);
	vmfit_wait_gen(vf, parity);

	atomic_set(&vf->merge_pending, n);
	reinit_completion(&vf->merge_done);
	for (i = 0; i < n; i++) {
		from.bdev = vf->cow_dev->bdev;
		from.sector = vf->data_start +
			((sector_t)batch[i]->cow << vf->chunk_shift);
		from.count = vmfit_chunk_len(vf, batch[i]->chunk);
		to.bdev = vf->origin_dev->bdev;
		to.sector = vmfit_chunk_to_sector(vf, batch[i]->chunk);
		to.count = from.count;
		dm_kcopyd_copy(vf->kc, &from, 1, &to, 0, vmfit_merge_copied,
			       batch[i]);
	}
	wait_for_completion(&vf->merge_done);

	/*
	 * Commit protocol, rule 3: the copies are durable on the origin
	 * before any entry is cleared in the to-persist table (which a
	 * commit may write at once) and before a bio is let through to the origin chunk.
	 */
	r = blkdev_issue_flush(vf->origin_dev->bdev);
	for (i = 0; r && i < n; i++)
		batch[i]->error = r;

	for (i = 0; i < n; i++) {
		struct vmfit_job *job = batch[i];

		/*
		 * Rule 3 too: the removal of the entry is in the to-persist
		 * table (its block dirty) before the chunk is released.  From
		 * then on a write to the chunk goes to the origin, and the
		 * commit of the flush that acknowledges it must write the
		 * removal: a merge resumed after a crash would otherwise copy
		 * the cow's old data over the write.
		 */
		if (!job->error) {
			vmfit_cow_set_rev(vf, job->cow, 0);
			/* Dirty before map() can see the chunk free. */
			smp_mb__after_atomic();
		}
		spin_lock_irq(&vf->lock);
		vmfit_tbl_set(&vf->map, job->chunk,
			      job->error ? job->cow + 1 : 0);
		bio_list_merge(&vf->retry_bios, &job->waiters);
		list_del(&job->list);
		spin_unlock_irq(&vf->lock);
		if (job->error) {
			r = job->error;
		} else {
			vf->merged++;
			if (!i)
				vmfit_merge_release_pause(vf, job->chunk);
		}
		vmfit_job_free(vf, job);
	}
	queue_work(vf->wq, &vf->worker);
	trace_vmfit_merge_progress(vf->devt, vf->merged, vf->to_merge);
	return r;
}

/* Back to normal mode: the cow is empty again. */
static void vmfit_merge_finish(struct vmfit *vf)
{
	int r;

	mutex_lock(&vf->md_lock);
	r = blkdev_issue_flush(vf->origin_dev->bdev);
	if (r)
		vmfit_fail(vf, "merge commit", r);
	else
		r = vmfit_commit_mode(vf, VMFIT_NORMAL, "merge commit");
	if (r) {
		mutex_unlock(&vf->md_lock);
		return;
	}
	vmfit_end_to_normal(vf);
	vf->merged = 0;
	vf->to_merge = 0;
	mutex_unlock(&vf->md_lock);
	DMINFO("%s: merge complete", vmfit_name(vf));
	dm_vmfit_nl_merge_done(vf, vf->epoch);
	queue_work(vf->wq, &vf->event_work);
}

/*
 * Every chunk merged back must be in the durable changed set first.  Runs
 * once the snapshot generation drained: no chunk gets mapped after it.
 */
static int vmfit_merge_fold(struct vmfit *vf)
{
	u64 n = 0;
	u32 c;
	int r;

	mutex_lock(&vf->md_lock);
	/* A merge may run while suspended, after a clean suspend. */
	r = vmfit_cow_bm_use(vf);
	if (r) {
		mutex_unlock(&vf->md_lock);
		return r;
	}
	mutex_lock(&vf->bm_lock);
	/* Mark on disk first: a bit of the exact set is always durable. */
	for (c = vmfit_tbl_next(&vf->map, 0); c < vf->origin_chunks;
	     c = vmfit_tbl_next(&vf->map, c + 1)) {
		if (vmfit_mapped(vmfit_tbl_get(&vf->map, c)) &&
		    !test_bit_le(c, vf->changed))
			vmfit_cow_mark_region(vf, c);
	}
	r = vmfit_cow_write_bitmap(vf);
	if (!r) {
		for (c = vmfit_tbl_next(&vf->map, 0); c < vf->origin_chunks;
		     c = vmfit_tbl_next(&vf->map, c + 1)) {
			if (!vmfit_mapped(vmfit_tbl_get(&vf->map, c)))
				continue;
			if (!test_bit_le(c, vf->changed))
				vmfit_cow_region_durable(vf, c);
			vmfit_cow_set_changed(vf, c);
			n++;
		}
		atomic64_set(&vf->nr_cow_only, 0);
		if (vf->merge_cursor == 0) {
			vf->to_merge = n;
			vf->merged = 0;
		}
	}
	mutex_unlock(&vf->bm_lock);
	mutex_unlock(&vf->md_lock);
	return r;
}

void vmfit_merge_work(struct work_struct *ws)
{
	struct vmfit *vf = container_of(ws, struct vmfit, merge_work);
	struct vmfit_job *batch[VMFIT_MERGE_BATCH];
	unsigned int n;
	int r;

	/* Queued twice (resume, cancelled suspend): only one merges. */
	if (vmfit_mode(vf) != VMFIT_MERGING)
		return;
	/*
	 * The previous generation (the snapshot's, at the first run) and its
	 * copies must be gone.  The parity is read now: a merge re-run after
	 * a resume or a cancelled suspend follows other switches.
	 */
	vmfit_wait_gen(vf, VMFIT_STATE_PARITY(READ_ONCE(vf->state)) ^ 1);
	r = vmfit_merge_fold(vf);
	if (r) {
		vmfit_fail(vf, "changed-set write", r);
		return;
	}
	for (;;) {
		if (READ_ONCE(vf->merge_stop))
			return;
		n = vmfit_merge_collect(vf, batch);
		if (!n)
			break;
		r = vmfit_merge_batch(vf, batch, n);
		if (r) {
			vmfit_fail(vf, "merge copy", r);
			return;
		}
	}
	vmfit_merge_finish(vf);
}
