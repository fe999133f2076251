// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_svol_dm.c - the "vmfit" state volume: a dm-vmfit device driven
 * through vf_nl (generic netlink) and vf_dm (libdevmapper). See vf_svol.h
 * and Documentation/admin-guide/device-mapper/dm-vmfit.rst.
 *
 * The frozen view is the device "<name>-view" (target vmfit-view),
 * created after the snapshot has drained and removed before drop/merge
 * (the target refuses both while a view is open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "vf_dm.h"
#include "vf_svol.h"

#define VIEW_SUFFIX		"-view"
#define DRAIN_WAIT_MS		30000	/* snapshot -> view ready */

/* The view's dm name; dm_open checked that it fits. */
static void view_name(const struct vf_svol *v, char name[VF_DM_NAME_MAX + 1])
{
	snprintf(name, VF_DM_NAME_MAX + 1, "%.*s" VIEW_SUFFIX,
		 (int)(VF_DM_NAME_MAX + 1 - sizeof(VIEW_SUFFIX)), v->name);
}

static void dev_of(const struct vf_svol *v, struct vf_nl_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = v->name;
}

static int dm_status(struct vf_svol *v, struct vf_nl_status *st)
{
	struct vf_nl_dev dev;

	dev_of(v, &dev);
	return vf_nl_status(v->nl, &dev, st);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The snapshot is taken: wait for its drain (the old epoch's in-flight
 * writes: short), then create the view device and open it.
 */
static int view_open(struct vf_svol *v)
{
	char name[VF_DM_NAME_MAX + 1];
	struct vf_nl_status st;
	unsigned int waited;
	int r;

	for (waited = 0;; waited++) {
		r = dm_status(v, &st);
		if (r)
			return r;
		if (st.view == VMFIT_NL_VIEW_READY)
			break;
		if (waited >= DRAIN_WAIT_MS)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	view_name(v, name);
	r = vf_dm_create_view(name, v->name);
	if (r)
		return r;
	v->view_fd = open(v->view, O_RDONLY | O_CLOEXEC);
	if (v->view_fd < 0) {
		r = -errno;
		vf_dm_remove(name);
		return r;
	}
	return 0;
}

static int dm_open(struct vf_svol *v)
{
	struct vf_nl_status st;
	char view[VF_DM_NAME_MAX + 1];
	int r;

	if (strlen(v->name) + sizeof(VIEW_SUFFIX) > sizeof(view))
		return -ENAMETOOLONG;
	snprintf(v->path, sizeof(v->path), "/dev/mapper/%s", v->name);
	view_name(v, view);
	snprintf(v->view, sizeof(v->view), "/dev/mapper/%s", view);
	r = vf_nl_open(&v->nl);
	if (!r)
		r = dm_status(v, &st);
	if (r) {
		vf_nl_close(v->nl);
		v->nl = NULL;
		return r;
	}
	v->chunk_size = st.chunk_sectors * 512;
	if (st.mode != VMFIT_NL_MODE_SNAPSHOT)
		return 0;
	/*
	 * A snapshot left by a crash: with its view, or without one when
	 * the crash came between the snapshot and the view's creation.
	 * Either way it is this volume's (its owner folds it back): without
	 * the view, no later snapshot could be taken (-EBUSY).
	 */
	v->view_fd = open(v->view, O_RDONLY | O_CLOEXEC);
	if (v->view_fd >= 0 || !view_open(v))
		v->snap = true;
	return 0;
}

static void dm_close(struct vf_svol *v)
{
	vf_nl_close(v->nl);
	v->nl = NULL;
}

static int dm_geometry(struct vf_svol *v, struct vf_rcv_geom *g)
{
	struct vf_nl_status st;
	int r = dm_status(v, &st);

	if (r)
		return r;
	g->nchunks = st.origin_chunks;
	g->chunk_size = st.chunk_sectors * 512;
	return vf_rcv_geom_check(g) ? -EFBIG : 0;
}

/*
 * Write back what the replica left in the live device's page cache: the
 * snapshot is taken below the cache, and must hold everything written
 * before it (the checkpoint just taken). Dirty pages written back later
 * would go into the live device after the snapshot, and whether each one
 * made it before depends on the kernel's writeback timing: the hosts'
 * captured states would differ (seen in the VM: "repairs" of correct
 * chunks, kv's "interrupted checkpoint" on restore).
 */
static int sync_live(struct vf_svol *v)
{
	int fd, r = 0;

	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int dm_snapshot(struct vf_svol *v)
{
	struct vf_nl_status st;
	struct vf_nl_dev dev;
	unsigned int waited;
	int r;

	if (v->snap)
		return -EBUSY;
	r = sync_live(v);
	if (r)
		return r;
	dev_of(v, &dev);
	/*
	 * A merge (an aborted round's) may still run in the background, or
	 * its end still be switching modes (-EBUSY in normal mode too): wait
	 * for it. A snapshot that is really active is -EBUSY at once.
	 */
	for (waited = 0;; waited++) {
		r = vf_nl_control(v->nl, &dev, VMFIT_CMD_SNAPSHOT);
		if (r != -EBUSY || waited >= DRAIN_WAIT_MS ||
		    dm_status(v, &st) || st.mode == VMFIT_NL_MODE_SNAPSHOT)
			break;
		sleep_ms(1);
	}
	if (r)
		return r;
	r = view_open(v);
	if (r)
		return r;
	v->snap = true;
	return 0;
}

/*
 * Write back and drop the live device's page cache (BLKFLSBUF). The
 * replica wrote its volume through the page cache, and the cache outlives
 * the replica while anybody (this library's live_fd, say) holds the
 * device open: pages it left dirty would reach the disk whenever the
 * kernel writes them back, after a drop onto the origin itself, and clean
 * pages would go on showing the dropped writes to readers.
 */
static int flush_live(struct vf_svol *v)
{
	int fd, r = 0;

	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKFLSBUF, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * Remove the view device, then send @cmd. The replica's writes still in
 * the page cache go to the device before @cmd (into the cow: a drop
 * discards them, a merge keeps them), and nothing cached from before
 * @cmd is read after it.
 */
static int end_snapshot(struct vf_svol *v, int cmd)
{
	char name[VF_DM_NAME_MAX + 1];
	struct vf_nl_dev dev;
	int r;

	if (!v->snap)
		return -EINVAL;
	r = flush_live(v);
	if (r)
		return r;
	close(v->view_fd);
	v->view_fd = -1;
	view_name(v, name);
	r = vf_dm_remove(name);
	if (r && r != -ENODEV)
		return r;
	dev_of(v, &dev);
	r = vf_nl_control(v->nl, &dev, cmd);
	if (r)
		return r;
	v->snap = false;
	return flush_live(v);
}

static int dm_drop(struct vf_svol *v)
{
	return end_snapshot(v, VMFIT_CMD_DROP);
}

static int dm_merge(struct vf_svol *v)
{
	return end_snapshot(v, VMFIT_CMD_MERGE);
}

static int dm_clear(struct vf_svol *v)
{
	struct vf_nl_dev dev;

	if (v->snap)
		return -EBUSY;
	dev_of(v, &dev);
	return vf_nl_control(v->nl, &dev, VMFIT_CMD_CLEAR);
}

static int dm_changed(struct vf_svol *v, struct vf_ranges *rs)
{
	return vf_dm_vmfit_changed(v->name, rs);
}

static long dm_checksum(struct vf_svol *v, bool changed_only,
			vf_nl_digest_fn fn, void *arg)
{
	struct vf_nl_csum_req req = {
		.algo = VMFIT_CSUM_SHA256,
		.flags = changed_only ? VMFIT_CSUM_F_CHANGED : 0,
	};
	struct vf_nl_csum_info info = { 0 };
	struct vf_nl_dev dev;
	long r;

	if (!v->snap)
		return -EINVAL;
	dev_of(v, &dev);
	r = vf_nl_checksum(v->nl, &dev, &req, fn, arg, &info);
	if (r >= 0 && r && info.digest_size != VF_MERKLE_DIGEST_SIZE)
		return -EPROTO;
	return r;
}

static int dm_bytes(struct vf_svol *v, const char *path, uint64_t *bytes)
{
	uint64_t sectors = 0;
	int r = vf_dm_dev_sectors(path, &sectors);

	*bytes = sectors * 512;
	return r;
}

static int dm_read_view(struct vf_svol *v, uint64_t chunk, void *buf,
			uint32_t *len)
{
	uint64_t bytes = 0;
	ssize_t n;
	int r;

	if (!v->snap)
		return -EINVAL;
	r = dm_bytes(v, v->view, &bytes);
	if (r)
		return r;
	*len = vf_svol_chunk_len(bytes, v->chunk_size, chunk);
	if (!*len)
		return -ERANGE;
	do {
		n = pread(v->view_fd, buf, *len, chunk * v->chunk_size);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (uint32_t)n == *len ? 0 : -EIO;
}

static int dm_write(struct vf_svol *v, uint64_t chunk, const void *buf,
		    uint32_t len)
{
	uint64_t bytes = 0;
	int r;

	r = dm_bytes(v, v->path, &bytes);
	if (r)
		return r;
	if (len > vf_svol_chunk_len(bytes, v->chunk_size, chunk))
		return -ERANGE;
	if (v->live_fd < 0) {
		v->live_fd = open(v->path, O_RDWR | O_CLOEXEC);
		if (v->live_fd < 0)
			return -errno;
	}
	return vf_pwrite_all(v->live_fd, buf, len, chunk * v->chunk_size);
}

static int dm_resize(struct vf_svol *v, uint64_t bytes)
{
	uint64_t have;
	int r = dm_bytes(v, v->path, &have);

	if (r)
		return r;
	return have == bytes ? 0 : -EINVAL;
}

const struct vf_svol_ops vf_svol_vmfit_ops = {
	.kind = "vmfit",
	.open = dm_open,
	.close = dm_close,
	.geometry = dm_geometry,
	.snapshot = dm_snapshot,
	.drop = dm_drop,
	.merge = dm_merge,
	.clear = dm_clear,
	.changed = dm_changed,
	.checksum = dm_checksum,
	.read_view = dm_read_view,
	.write = dm_write,
	.sync = vf_svol_sync_live,
	.resize = dm_resize,
};
