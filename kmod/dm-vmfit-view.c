// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-view: the frozen origin of a vmfit device with an active snapshot,
 * read-only.  A view pins the snapshot through the core API
 * (vmfit_pin_devt()/vmfit_unpin()): merge, drop and reloads of the live
 * device are refused while it is open, and the instance stays allocated
 * even when `dmsetup remove --force` destroys the live table (the view
 * then fails every bio).
 *
 * See Documentation/admin-guide/device-mapper/dm-vmfit.rst.
 */
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dm-vmfit.h"

struct vmfit_view {
	struct vmfit *vf;	/* its instance: pinned */
	struct dm_dev *origin;	/* the frozen origin, opened by the view */
	struct block_device *live_bdev;	/* the vmfit device, open, not claimed */
	char live[16];		/* the vmfit device, major:minor */
};

static void vmfit_view_dtr(struct dm_target *ti)
{
	struct vmfit_view *v = ti->private;

	if (!v)
		return;
	if (v->vf)
		vmfit_unpin(v->vf);
	if (v->origin)
		dm_put_device(ti, v->origin);
	if (v->live_bdev)
		blkdev_put(v->live_bdev, FMODE_READ);
	kfree(v);
	ti->private = NULL;
}

/*
 * The device number of the vmfit device, from "major:minor" or a path.
 * The device is not opened: whatever holds it (a mounted filesystem, a
 * table on top) may hold it exclusively.
 */
static int vmfit_view_devt(const char *arg, dev_t *devt)
{
	unsigned int major, minor;
	char dummy;

	if (sscanf(arg, "%u:%u%c", &major, &minor, &dummy) == 2) {
		*devt = MKDEV(major, minor);
		return MAJOR(*devt) == major && MINOR(*devt) == minor ?
			0 : -EINVAL;
	}
	return lookup_bdev(arg, devt);
}

/*
 * Construct a frozen view:
 * vmfit-view <vmfit dev>
 */
static int vmfit_view_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct vmfit_view *v;
	const char *why;
	char origin[16];
	struct vmfit *vf;
	dev_t devt;
	int r;

	if (argc != 1) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		ti->error = "Cannot allocate memory";
		return -ENOMEM;
	}
	ti->private = v;

	r = vmfit_view_devt(argv[0], &devt);
	if (r) {
		ti->error = "Error opening vmfit device";
		goto bad;
	}
	snprintf(v->live, sizeof(v->live), "%u:%u", MAJOR(devt), MINOR(devt));
	/*
	 * Opened without a claim: a filesystem mounted on it holds it
	 * exclusively, and that is fine.  The open keeps a plain
	 * `dmsetup remove` of the live device from succeeding.
	 */
	v->live_bdev = blkdev_get_by_dev(devt, FMODE_READ, NULL);
	if (IS_ERR(v->live_bdev)) {
		r = PTR_ERR(v->live_bdev);
		v->live_bdev = NULL;
		ti->error = "Error opening vmfit device";
		goto bad;
	}

	/* Pins the snapshot (no merge, drop or reload) and the memory. */
	vf = vmfit_pin_devt(devt, ti->len, &devt, &why);
	if (IS_ERR(vf)) {
		r = PTR_ERR(vf);
		/* ti->error is a plain pointer: the literal outlives it. */
		ti->error = (char *)why;
		goto bad;
	}
	v->vf = vf;

	/* Shared with the live table's own open of the origin. */
	snprintf(origin, sizeof(origin), "%u:%u", MAJOR(devt), MINOR(devt));
	r = dm_get_device(ti, origin, FMODE_READ, &v->origin);
	if (r) {
		ti->error = "Error opening the origin device";
		goto bad;
	}

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 0;
	ti->num_write_zeroes_bios = 0;
	return 0;

bad:
	vmfit_view_dtr(ti);
	return r;
}

static int vmfit_view_map(struct dm_target *ti, struct bio *bio)
{
	struct vmfit_view *v = ti->private;
	struct vmfit *vf = v->vf;
	unsigned long flags;

	/* The live table is gone: the origin is frozen no more. */
	if (unlikely(READ_ONCE(vf->dead)))
		return DM_MAPIO_KILL;
	bio_set_dev(bio, v->origin->bdev);
	if (bio->bi_opf & REQ_PREFLUSH) {
		/* Empty flush: the origin is not written while frozen anyway. */
		return DM_MAPIO_REMAPPED;
	}
	/* Writes, discards and write-zeroes: the view is read-only. */
	if (op_is_write(bio_op(bio)))
		return DM_MAPIO_KILL;

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(!READ_ONCE(vf->view_ready))) {
		spin_lock_irqsave(&vf->lock, flags);
		if (vf->dead) {
			spin_unlock_irqrestore(&vf->lock, flags);
			return DM_MAPIO_KILL;
		}
		if (!vf->view_ready) {
			bio_list_add(&vf->view_bios, bio);
			spin_unlock_irqrestore(&vf->lock, flags);
			return DM_MAPIO_SUBMITTED;
		}
		spin_unlock_irqrestore(&vf->lock, flags);
	}
	return DM_MAPIO_REMAPPED;
}

/*
 * Status format:
 *
 * <ready|draining|gone> <vmfit dev major:minor>
 */
static void vmfit_view_status(struct dm_target *ti, status_type_t type,
			      unsigned int status_flags, char *result,
			      unsigned int maxlen)
{
	struct vmfit_view *v = ti->private;
	unsigned int sz = 0;
	const char *state;

	switch (type) {
	case STATUSTYPE_INFO:
		if (READ_ONCE(v->vf->dead))
			state = "gone";
		else
			state = READ_ONCE(v->vf->view_ready) ? "ready" : "draining";
		DMEMIT("%s %s", state, v->live);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s", v->live);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",vmfit_dev=%s;", v->live);
		break;
	}
}

static int vmfit_view_iterate_devices(struct dm_target *ti,
				      iterate_devices_callout_fn fn, void *data)
{
	struct vmfit_view *v = ti->private;

	return fn(ti, v->origin, 0, ti->len, data);
}

static struct target_type vmfit_view_target = {
	.name = "vmfit-view",
	.version = {1, 1, 0},	/* 1.1: the live device is not claimed */
	.module = THIS_MODULE,
	.ctr = vmfit_view_ctr,
	.dtr = vmfit_view_dtr,
	.map = vmfit_view_map,
	.status = vmfit_view_status,
	.iterate_devices = vmfit_view_iterate_devices,
};

int dm_vmfit_view_init(void)
{
	return dm_register_target(&vmfit_view_target);
}

void dm_vmfit_view_exit(void)
{
	dm_unregister_target(&vmfit_view_target);
}
