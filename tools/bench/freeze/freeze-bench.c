// SPDX-License-Identifier: GPL-2.0-only
/*
 * freeze-bench - how long does a snapshot stall a write workload?
 *
 * freeze-bench gaps --method M [options]
 *	Runs a 4 KiB random-write load (O_DIRECT, Linux AIO, iodepth 16) on a
 *	block device, stamps every completion with CLOCK_MONOTONIC, and takes
 *	--count snapshots with method M, each issued in-process through
 *	libdevmapper and timed. For each one it prints a `snap` record (see
 *	fb.h): the longest completion gap around the command, the same in
 *	the window before it, and the command time.
 * freeze-bench snap|unsnap --method M [options]
 *	Take one snapshot (no load) / undo it, for the IOPS runs.
 * freeze-bench fill DEVICE
 *	Write the whole device once, sequentially (provisions dm-thin and the
 *	host's sparse image files before anything is measured).
 * freeze-bench report --json FILE --md FILE RECORDS...
 *	Summarise record files into bench/results/freeze.json and the
 *	Markdown section of Documentation/benchmarks.md.
 *
 * Methods:
 *   none     no snapshot (the baseline windows)
 *   vmfit    `snapshot` target message to --dev; `drop` undoes it
 *   classic  what `lvcreate -s` does: <dev>-real (linear, the origin's
 *            table) and a <dev>-snap device are made and their tables
 *            loaded (`snapshot <real> <cow> P 8`, `snapshot-origin <real>`
 *            on --dev), then --dev is suspended and both resumed
 *   thin     suspend thin volume --dev, message pool --pool
 *            `create_snap <id> <origin id>`, resume; `delete <id>` undoes it
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fb.h"
#include "vf_dm.h"
#include "vf_status.h"

#define PROG "freeze-bench"
#define BLOCK 4096
#define NS_PER_MS 1000000ull
#define RING_ORDER 21			/* 2M completion stamps, 16 MiB */
#define STATUS_TIMEOUT_MS 10000		/* vmfit view ready after a snapshot */
#define TAIL_TIMEOUT_MS 5000		/* a completion after the window */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000ull,
		.tv_nsec = ns % 1000000000ull,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static void sleep_ms(unsigned int ms)
{
	sleep_until(mono_ns() + ms * NS_PER_MS);
}

/*----------------------------------------------------------------*/
/* Load generator */

struct load {
	int fd;
	uint64_t nblocks;		/* 4 KiB blocks in the volume */
	unsigned int depth;
	aio_context_t ctx;
	struct iocb *cbs;
	char *bufs;
	unsigned short rng[3];		/* nrand48 state, load thread only */
	uint64_t *ring;			/* completion stamps, ns */
	uint64_t ring_mask;
	_Atomic uint64_t done;		/* stamps published */
	_Atomic bool stop;
	_Atomic int error;		/* first failure, -errno */
	pthread_t thread;
	bool running;
};

static long sys_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long sys_io_destroy(aio_context_t ctx)
{
	return syscall(SYS_io_destroy, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
	return syscall(SYS_io_submit, ctx, n, cbs);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max,
			     struct io_event *ev, struct timespec *tmo)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, tmo);
}

static uint64_t next_offset(struct load *l)
{
	uint64_t r = ((uint64_t)nrand48(l->rng) << 31) | nrand48(l->rng);

	return (r % l->nblocks) * BLOCK;
}

static void set_error(struct load *l, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&l->error, &zero, err);
	atomic_store(&l->stop, true);
}

/* Submit all @n; returns the number submitted (all unless an error). */
static long submit_all(struct load *l, struct iocb **list, long n)
{
	long sent = 0;

	while (sent < n) {
		long r = sys_io_submit(l->ctx, n - sent, list + sent);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			set_error(l, -errno);
			break;
		}
		sent += r;
	}
	return sent;
}

static void *load_thread(void *arg)
{
	struct load *l = arg;
	struct io_event *ev;
	struct iocb **list;
	long inflight;
	unsigned int i;

	ev = calloc(l->depth, sizeof(*ev));
	list = calloc(l->depth, sizeof(*list));
	if (!ev || !list) {
		set_error(l, -ENOMEM);
		goto out;
	}
	for (i = 0; i < l->depth; i++) {
		l->cbs[i].aio_offset = next_offset(l);
		list[i] = &l->cbs[i];
	}
	inflight = submit_all(l, list, l->depth);
	while (inflight > 0) {
		struct timespec tmo = { 0, 200 * 1000000 };
		uint64_t done, now;
		long n, j;

		n = sys_io_getevents(l->ctx, 1, l->depth, ev, &tmo);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			set_error(l, -errno);
			break;	/* cannot reap: leave the rest to io_destroy */
		}
		if (!n)
			continue;
		now = mono_ns();
		inflight -= n;
		done = atomic_load_explicit(&l->done, memory_order_relaxed);
		for (j = 0; j < n; j++) {
			l->ring[(done + j) & l->ring_mask] = now;
			if (ev[j].res != BLOCK)
				set_error(l, ev[j].res < 0 ? (int)ev[j].res :
					  -EIO);
		}
		atomic_store_explicit(&l->done, done + n, memory_order_release);
		if (atomic_load(&l->stop))
			continue;	/* drain what is in flight */
		for (j = 0; j < n; j++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[j].obj;

			cb->aio_offset = next_offset(l);
			list[j] = cb;
		}
		inflight += submit_all(l, list, n);
	}
out:
	free(ev);
	free(list);
	return NULL;
}

static void load_free(struct load *l)
{
	if (l->ctx)
		sys_io_destroy(l->ctx);
	if (l->fd >= 0)
		close(l->fd);
	free(l->cbs);
	free(l->bufs);
	free(l->ring);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

static int device_bytes(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*bytes = st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	if (ioctl(fd, BLKGETSIZE64, bytes))
		return -errno;
	return 0;
}

static int load_start(struct load *l, const char *path, unsigned int depth,
		      uint64_t seed)
{
	uint64_t bytes;
	unsigned int i;
	int r;

	memset(l, 0, sizeof(*l));
	l->fd = open(path, O_RDWR | O_DIRECT);
	if (l->fd < 0) {
		r = -errno;
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		return r;
	}
	r = device_bytes(l->fd, &bytes);
	if (r || bytes < BLOCK) {
		fprintf(stderr, PROG ": %s: cannot size the device: %s\n",
			path, r ? strerror(-r) : "too small");
		goto bad;
	}
	l->nblocks = bytes / BLOCK;
	l->depth = depth;
	l->rng[0] = (unsigned short)seed;
	l->rng[1] = (unsigned short)(seed >> 16);
	l->rng[2] = (unsigned short)(seed >> 32) ^ 0x330e;
	l->ring_mask = (1ull << RING_ORDER) - 1;
	r = -ENOMEM;
	l->ring = calloc(l->ring_mask + 1, sizeof(*l->ring));
	l->cbs = calloc(depth, sizeof(*l->cbs));
	if (!l->ring || !l->cbs ||
	    posix_memalign((void **)&l->bufs, BLOCK, (size_t)depth * BLOCK))
		goto bad;
	/* Incompressible, non-zero data. */
	for (i = 0; i < depth * BLOCK; i++)
		l->bufs[i] = (char)(nrand48(l->rng) | 1);
	for (i = 0; i < depth; i++) {
		l->cbs[i].aio_fildes = l->fd;
		l->cbs[i].aio_lio_opcode = IOCB_CMD_PWRITE;
		l->cbs[i].aio_buf = (uintptr_t)(l->bufs + (size_t)i * BLOCK);
		l->cbs[i].aio_nbytes = BLOCK;
	}
	if (sys_io_setup(depth, &l->ctx)) {
		r = -errno;
		l->ctx = 0;
		fprintf(stderr, PROG ": io_setup: %s\n", strerror(-r));
		goto bad;
	}
	r = -pthread_create(&l->thread, NULL, load_thread, l);
	if (r)
		goto bad;
	l->running = true;
	return 0;
bad:
	load_free(l);
	return r ? r : -EINVAL;
}

static int load_stop(struct load *l)
{
	int err;

	if (l->running) {
		atomic_store(&l->stop, true);
		pthread_join(l->thread, NULL);
		l->running = false;
	}
	err = atomic_load(&l->error);
	load_free(l);
	return err;
}

/*
 * The longest gap around [lo, hi]: waits until @hi has passed and one
 * completion after it is known, then analyses the stamps from the last
 * completion before @lo on.
 */
static int load_gap(struct load *l, uint64_t lo, uint64_t hi, struct fb_gap *g)
{
	uint64_t deadline = hi + TAIL_TIMEOUT_MS * NS_PER_MS;
	uint64_t done, first, n, i, size = l->ring_mask + 1;
	uint64_t *ts;
	int r;

	sleep_until(hi + NS_PER_MS);
	for (;;) {
		done = atomic_load_explicit(&l->done, memory_order_acquire);
		if (done && l->ring[(done - 1) & l->ring_mask] > hi)
			break;
		if (atomic_load(&l->error) || mono_ns() > deadline)
			break;	/* fb_max_gap closes the window at hi */
		sleep_ms(1);
	}
	first = done;
	while (first > 0 && done - first < size / 2) {
		if (l->ring[(first - 1) & l->ring_mask] < lo) {
			first--;
			break;
		}
		first--;
	}
	if (first > 0 && done - first >= size / 2)
		return -EOVERFLOW;
	n = done - first;
	ts = malloc((n + 1) * sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ts[i] = l->ring[(first + i) & l->ring_mask];
	r = fb_max_gap(ts, n, lo, hi, g);
	free(ts);
	return r;
}

/*----------------------------------------------------------------*/
/*
 * libdevmapper. Untimed work goes through libvmfit's vf_dm; the commands
 * that are timed use the raw calls below, so that each is exactly the one
 * ioctl it names (vf_dm_message() first checks that the device exists,
 * and vf_dm has no suspend, resume or inactive-table load).
 */

static int dm_finish(struct dm_task *dmt, const char *what, const char *name)
{
	int r = 0;

	if (!dm_task_run(dmt)) {
		r = dm_task_get_errno(dmt);
		r = r ? -r : -EIO;
		fprintf(stderr, PROG ": %s %s: %s\n", what, name, strerror(-r));
	}
	return r;
}

static struct dm_task *dm_new(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt)
		return NULL;
	if (!dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

/* suspend, resume, or create without a table */
static int dm_simple(int type, const char *name)
{
	struct dm_task *dmt = dm_new(type, name);
	const char *what = type == DM_DEVICE_SUSPEND ? "suspend" :
			   type == DM_DEVICE_RESUME ? "resume" : "create";
	int r;

	if (!dmt)
		return -ENOMEM;
	r = dm_finish(dmt, what, name);
	dm_task_destroy(dmt);
	return r;
}

/* Load an inactive table. */
static int dm_reload(const char *name, uint64_t len, const char *ttype,
		     const char *params)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_RELOAD, name);
	int r;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_add_target(dmt, 0, len, ttype, params)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	r = dm_finish(dmt, "load", name);
	dm_task_destroy(dmt);
	return r;
}

static int dm_message(const char *name, const char *msg)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_TARGET_MSG, name);
	int r;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	r = dm_finish(dmt, msg, name);
	dm_task_destroy(dmt);
	return r;
}

/* Report a vf_dm failure with libdevmapper's own words when it has some. */
static int vf_fail(int r, const char *what, const char *name)
{
	const char *e = vf_dm_last_error();

	if (r)
		fprintf(stderr, PROG ": %s %s: %s%s%s\n", what, name,
			strerror(-r), *e ? ": " : "", e);
	return r;
}

/* The (single-target) table of @name. */
static int dm_get_table(const char *name, struct vf_dm_target *t)
{
	int r = vf_fail(vf_dm_table(name, t), "table", name);

	if (!r && t->count != 1) {
		fprintf(stderr, PROG ": %s has %u targets, want 1\n", name,
			t->count);
		vf_dm_target_free(t);
		r = -EINVAL;
	}
	return r;
}

static int dm_devno(const char *name, char *buf, size_t len)
{
	struct vf_dm_info info;
	int r = vf_fail(vf_dm_info(name, &info), "info", name);

	if (!r && !info.exists)
		r = vf_fail(-ENODEV, "info", name);
	if (!r)
		snprintf(buf, len, "%u:%u", info.major, info.minor);
	return r;
}

/*----------------------------------------------------------------*/
/* Methods */

struct opts {
	enum fb_method method;
	const char *dev;	/* vmfit device, classic origin, thin volume */
	const char *io_dev;	/* where the load runs */
	const char *cow;	/* classic: cow block device */
	const char *pool;	/* thin: pool device */
	unsigned int thin_id;	/* thin: origin id */
	unsigned int snap_id;	/* thin: first snapshot id */
	unsigned int chunk;	/* classic: chunk size, sectors */
	unsigned int count;
	unsigned int window_ms;
	unsigned int pre_ms;
	unsigned int settle_ms;
	unsigned int warmup_ms;
	unsigned int depth;
	uint64_t seed;
	const char *out;
	const char *json;
	const char *md;
};

/* What a method learned after its command (vmfit status fields). */
struct after {
	int64_t held_ns;
	int64_t drain_ns;
};

struct method_ops {
	/* Untimed set-up before the command. */
	int (*prepare)(const struct opts *o, unsigned int iter);
	/* The command; *pause_ns: suspend to last resume, or -1. */
	int (*take)(const struct opts *o, unsigned int iter, int64_t *pause);
	/* Untimed, after the measurement window. */
	int (*after)(const struct opts *o, struct after *a);
	/* Undo the snapshot. */
	int (*teardown)(const struct opts *o, unsigned int iter);
};

#define NAME_LEN 128
#define PARAMS_LEN 1024

/* vmfit ---------------------------------------------------------*/

static int vmfit_status(const struct opts *o, struct vf_status *st)
{
	return vf_fail(vf_dm_vmfit_status(o->dev, st), "vmfit status", o->dev);
}

static int vmfit_prepare(const struct opts *o, unsigned int iter)
{
	struct vf_status st;
	int r = vmfit_status(o, &st);

	if (r)
		return r;
	if (st.mode != VF_MODE_NORMAL || st.health != VF_HEALTH_OK) {
		fprintf(stderr, PROG ": %s is %s/%s, not normal/ok\n", o->dev,
			vf_mode_name(st.mode), vf_health_name(st.health));
		return -EBUSY;
	}
	return 0;
}

static int vmfit_take(const struct opts *o, unsigned int iter, int64_t *pause)
{
	*pause = -1;
	return dm_message(o->dev, "snapshot");
}

static int vmfit_after(const struct opts *o, struct after *a)
{
	uint64_t deadline = mono_ns() + STATUS_TIMEOUT_MS * NS_PER_MS;
	struct vf_status st;
	int r;

	for (;;) {
		r = vmfit_status(o, &st);
		if (r)
			return r;
		if (st.mode != VF_MODE_SNAPSHOT) {
			fprintf(stderr, PROG ": %s: mode %s after snapshot\n",
				o->dev, vf_mode_name(st.mode));
			return -EPROTO;
		}
		if (st.view == VF_VIEW_READY)
			break;
		if (mono_ns() > deadline) {
			fprintf(stderr, PROG ": %s: view not ready after %d ms\n",
				o->dev, STATUS_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		sleep_ms(5);
	}
	a->held_ns = (int64_t)st.held_ns;
	a->drain_ns = (int64_t)st.drain_ns;
	return 0;
}

static int vmfit_teardown(const struct opts *o, unsigned int iter)
{
	return dm_message(o->dev, "drop");
}

/* classic -------------------------------------------------------*/

static void classic_names(const struct opts *o, char *real, char *snap)
{
	snprintf(real, NAME_LEN, "%s-real", o->dev);
	snprintf(snap, NAME_LEN, "%s-snap", o->dev);
}

/* Zero the cow's first 4 KiB: a new persistent exception store. */
static int zero_header(const char *path)
{
	void *buf;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_DIRECT | O_SYNC);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		return r;
	}
	if (posix_memalign(&buf, BLOCK, BLOCK)) {
		close(fd);
		return -ENOMEM;
	}
	memset(buf, 0, BLOCK);
	if (pwrite(fd, buf, BLOCK, 0) != BLOCK) {
		r = errno ? -errno : -EIO;
		fprintf(stderr, PROG ": %s: zeroing: %s\n", path, strerror(-r));
	}
	free(buf);
	close(fd);
	return r;
}

static int classic_prepare(const struct opts *o, unsigned int iter)
{
	char real[NAME_LEN], snap[NAME_LEN];
	struct vf_dm_target t;
	int r;

	classic_names(o, real, snap);
	r = dm_get_table(o->dev, &t);
	if (r)
		return r;
	if (!strcmp(t.type, "snapshot-origin")) {
		fprintf(stderr, PROG ": %s already has a snapshot\n", o->dev);
		r = -EBUSY;
		goto out;
	}
	r = zero_header(o->cow);
	if (r)
		goto out;
	/* <dev>-real takes over the origin's table; the snapshot is new. */
	r = vf_fail(vf_dm_create(real, t.type, t.length, t.params, false),
		    "create", real);
	if (r)
		goto out;
	r = dm_simple(DM_DEVICE_CREATE, snap);
	if (r)
		vf_dm_remove(real);
out:
	vf_dm_target_free(&t);
	return r;
}

static int classic_take(const struct opts *o, unsigned int iter,
			int64_t *pause)
{
	char real[NAME_LEN], snap[NAME_LEN], devno[32], params[PARAMS_LEN];
	struct vf_dm_target t;
	uint64_t t0;
	int r, r2;

	classic_names(o, real, snap);
	r = dm_devno(real, devno, sizeof(devno));
	if (r)
		return r;
	r = dm_get_table(real, &t);
	if (r)
		return r;
	/* Preload the new tables (lvm2's preload), then switch. */
	snprintf(params, sizeof(params), "%s %s P %u", devno, o->cow,
		 o->chunk);
	r = dm_reload(snap, t.length, "snapshot", params);
	if (!r)
		r = dm_reload(o->dev, t.length, "snapshot-origin", devno);
	vf_dm_target_free(&t);
	if (r)
		return r;
	t0 = mono_ns();
	r = dm_simple(DM_DEVICE_SUSPEND, o->dev);
	if (r)
		return r;
	r = dm_simple(DM_DEVICE_RESUME, snap);
	/* The origin must come back whatever happened to the snapshot. */
	r2 = dm_simple(DM_DEVICE_RESUME, o->dev);
	*pause = (int64_t)(mono_ns() - t0);
	return r ? r : r2;
}

/* Methods without status fields. */
static int no_status(const struct opts *o, struct after *a)
{
	a->held_ns = -1;
	a->drain_ns = -1;
	return 0;
}

/* Nothing to prepare or undo. */
static int nothing(const struct opts *o, unsigned int iter)
{
	return 0;
}

/*
 * Back to a plain origin: its table returns to what <dev>-real holds,
 * then the snapshot and <dev>-real go. Stateless, so `unsnap` can run in
 * another process than `snap`.
 */
static int classic_teardown(const struct opts *o, unsigned int iter)
{
	char real[NAME_LEN], snap[NAME_LEN];
	struct vf_dm_target t, ot;
	struct vf_dm_info info;
	int r;

	classic_names(o, real, snap);
	r = dm_get_table(real, &t);
	if (r)
		return r;
	r = dm_get_table(o->dev, &ot);
	if (r)
		goto out;
	if (!strcmp(ot.type, "snapshot-origin")) {
		r = dm_reload(o->dev, t.length, t.type, t.params);
		if (!r)
			r = dm_simple(DM_DEVICE_SUSPEND, o->dev);
		if (!r)
			r = dm_simple(DM_DEVICE_RESUME, o->dev);
	}
	vf_dm_target_free(&ot);
	if (r)
		goto out;
	r = vf_fail(vf_dm_info(snap, &info), "info", snap);
	if (!r && info.exists)
		r = vf_fail(vf_dm_remove(snap), "remove", snap);
	if (!r)
		r = vf_fail(vf_dm_remove(real), "remove", real);
out:
	vf_dm_target_free(&t);
	return r;
}

/* thin ----------------------------------------------------------*/

static int thin_take(const struct opts *o, unsigned int iter, int64_t *pause)
{
	char msg[64];
	uint64_t t0;
	int r, r2;

	snprintf(msg, sizeof(msg), "create_snap %u %u", o->snap_id + iter,
		 o->thin_id);
	t0 = mono_ns();
	r = dm_simple(DM_DEVICE_SUSPEND, o->dev);
	if (r)
		return r;
	r = dm_message(o->pool, msg);
	r2 = dm_simple(DM_DEVICE_RESUME, o->dev);
	*pause = (int64_t)(mono_ns() - t0);
	return r ? r : r2;
}

static int thin_teardown(const struct opts *o, unsigned int iter)
{
	char msg[32];

	snprintf(msg, sizeof(msg), "delete %u", o->snap_id + iter);
	return dm_message(o->pool, msg);
}

/* none ----------------------------------------------------------*/

static int none_take(const struct opts *o, unsigned int iter, int64_t *pause)
{
	*pause = -1;
	return 0;
}

static const struct method_ops methods[FB_NR_METHODS] = {
	[FB_NONE] = { nothing, none_take, no_status, nothing },
	[FB_VMFIT] = { vmfit_prepare, vmfit_take, vmfit_after,
		       vmfit_teardown },
	[FB_CLASSIC] = { classic_prepare, classic_take, no_status,
			 classic_teardown },
	[FB_THIN] = { nothing, thin_take, no_status, thin_teardown },
};

/*----------------------------------------------------------------*/
/* Subcommands */

static FILE *open_out(const struct opts *o)
{
	FILE *f;

	if (!o->out)
		return stdout;
	f = fopen(o->out, "a");
	if (!f)
		fprintf(stderr, PROG ": %s: %s\n", o->out, strerror(errno));
	return f;
}

static void print_fail(FILE *f, const struct opts *o, const char *what,
		       int err)
{
	fprintf(f, "fail %s %s: %s\n", fb_method_name(o->method), what,
		strerror(-err));
	fflush(f);
	fprintf(stderr, PROG ": %s: %s: %s\n", fb_method_name(o->method),
		what, strerror(-err));
}

/* One snapshot under load; fills @s. */
static int measure_one(const struct opts *o, struct load *l,
		       unsigned int iter, struct fb_snap *s, const char **what)
{
	const struct method_ops *ops = &methods[o->method];
	uint64_t win = o->window_ms * NS_PER_MS, pre = o->pre_ms * NS_PER_MS;
	uint64_t c0, c1, lo, hi;
	struct fb_gap g, q;
	struct after a;
	int r;

	*what = "prepare";
	r = ops->prepare(o, iter);
	if (r)
		return r;
	/* settle, one quiet window, then the pre part of the snapshot's. */
	sleep_until(mono_ns() + o->settle_ms * NS_PER_MS + win + pre);
	*what = "snapshot";
	c0 = mono_ns();
	r = ops->take(o, iter, &s->pause_ns);
	c1 = mono_ns();
	if (r)
		goto undo;
	lo = c0 - pre;
	hi = lo + win;
	/* A command longer than the window stretches it. */
	if (c1 + 50 * NS_PER_MS > hi)
		hi = c1 + 50 * NS_PER_MS;
	*what = "gap analysis";
	r = load_gap(l, lo, hi, &g);
	if (!r)
		r = load_gap(l, lo - win, lo, &q);
	if (r)
		goto undo;
	*what = "status";
	r = ops->after(o, &a);
	if (r)
		goto undo;
	*what = "teardown";
	r = ops->teardown(o, iter);
	if (r)
		return r;
	*what = "load";
	r = atomic_load(&l->error);
	if (r)
		return r;
	s->method = o->method;
	s->iter = iter;
	s->cmd_ns = o->method == FB_NONE ? 0 : (int64_t)(c1 - c0);
	s->gap_ns = (int64_t)g.gap_ns;
	s->quiet_gap_ns = (int64_t)q.gap_ns;
	s->held_ns = a.held_ns;
	s->drain_ns = a.drain_ns;
	s->ios = (int64_t)g.ios;
	return 0;
undo:
	/* Best effort: leave the devices as they were for what follows. */
	ops->teardown(o, iter);
	return r;
}

static int cmd_gaps(const struct opts *o)
{
	struct load l;
	const char *what = "load";
	unsigned int i;
	FILE *out;
	int r, r2;

	out = open_out(o);
	if (!out)
		return 1;
	r = load_start(&l, o->io_dev, o->depth, o->seed);
	if (r) {
		print_fail(out, o, "load", r);
		goto out;
	}
	sleep_ms(o->warmup_ms);
	for (i = 0; i < o->count; i++) {
		struct fb_snap s;

		r = measure_one(o, &l, i, &s, &what);
		if (r)
			break;
		fb_print_snap(out, &s);
		fflush(out);
		fprintf(stderr, PROG ": %s %2u: gap %.3f ms (before %.3f ms), "
			"command %.3f ms, held %lld ns, %lld I/Os\n",
			fb_method_name(o->method), i, s.gap_ns / 1e6,
			s.quiet_gap_ns / 1e6, s.cmd_ns / 1e6,
			(long long)s.held_ns, (long long)s.ios);
	}
	r2 = load_stop(&l);
	if (r)
		print_fail(out, o, what, r);
	else if (r2)
		print_fail(out, o, "load I/O", r = r2);
out:
	dm_task_update_nodes();
	if (out != stdout)
		fclose(out);
	return r ? 1 : 0;
}

static int cmd_snap(const struct opts *o, bool undo)
{
	const struct method_ops *ops = &methods[o->method];
	struct after a;
	int64_t pause;
	int r;

	if (undo) {
		r = ops->teardown(o, 0);
	} else {
		r = ops->prepare(o, 0);
		if (!r)
			r = ops->take(o, 0, &pause);
		if (!r)
			r = ops->after(o, &a);
	}
	dm_task_update_nodes();
	return r ? 1 : 0;
}

static int cmd_fill(const char *path)
{
	const size_t chunk = 1 << 20;
	uint64_t bytes, off;
	char *buf;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return 1;
	}
	r = device_bytes(fd, &bytes);
	if (r || posix_memalign((void **)&buf, BLOCK, chunk)) {
		fprintf(stderr, PROG ": %s: %s\n", path,
			strerror(r ? -r : ENOMEM));
		close(fd);
		return 1;
	}
	memset(buf, 0x5a, chunk);
	for (off = 0; off < bytes && !r; off += chunk) {
		size_t n = bytes - off < chunk ? bytes - off : chunk;

		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			fprintf(stderr, PROG ": %s: write at %" PRIu64 ": %s\n",
				path, off, strerror(errno ? errno : EIO));
			r = 1;
		}
	}
	if (!r && fsync(fd)) {
		fprintf(stderr, PROG ": %s: fsync: %s\n", path,
			strerror(errno));
		r = 1;
	}
	free(buf);
	close(fd);
	return r;
}

static int write_report(const char *path, const struct fb_results *res,
			int (*fn)(FILE *, const struct fb_results *))
{
	char tmp[4096];
	FILE *f;
	int r;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	r = fn(f, res);
	if (fclose(f) && !r)
		r = -EIO;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		unlink(tmp);
		return 1;
	}
	return 0;
}

static int cmd_report(const struct opts *o, int n, char **files)
{
	struct fb_results *res;
	int i, r = 0;

	res = malloc(sizeof(*res));
	if (!res)
		return 1;
	fb_results_init(res);
	for (i = 0; i < n && !r; i++) {
		unsigned int line = 0;
		FILE *f = fopen(files[i], "r");

		if (!f) {
			fprintf(stderr, PROG ": %s: %s\n", files[i],
				strerror(errno));
			r = 1;
			break;
		}
		r = fb_parse_file(f, res, &line);
		fclose(f);
		if (r) {
			fprintf(stderr, PROG ": %s:%u: bad record: %s\n",
				files[i], line, strerror(-r));
			r = 1;
		}
	}
	if (!r && o->json)
		r = write_report(o->json, res, fb_write_json);
	if (!r && o->md)
		r = write_report(o->md, res, fb_write_markdown);
	free(res);
	return r;
}

/*----------------------------------------------------------------*/
/* Command line */

static void usage(FILE *f)
{
	fputs("Usage: " PROG " gaps --method none|vmfit|classic|thin [options]\n"
	      "       " PROG " snap|unsnap --method vmfit|classic|thin [options]\n"
	      "       " PROG " fill DEVICE\n"
	      "       " PROG " report [--json FILE] [--md FILE] RECORDS...\n"
	      "\n"
	      "  --method M       none, vmfit, classic or thin\n"
	      "  --dev NAME       dm device: the vmfit device, the classic origin\n"
	      "                   or the thin volume\n"
	      "  --io-dev PATH    block device of the load (default /dev/mapper/NAME)\n"
	      "  --cow PATH       classic: the cow device (its first 4 KiB are zeroed)\n"
	      "  --chunk N        classic: chunk size in sectors (default 8)\n"
	      "  --pool NAME      thin: the pool device\n"
	      "  --thin-id N      thin: id of the thin volume (default 0)\n"
	      "  --snap-id N      thin: id of the first snapshot (default 1)\n"
	      "  --count N        snapshots (default 20)\n"
	      "  --window-ms N    measurement window (default 1000)\n"
	      "  --pre-ms N       part of the window before the command (default 250)\n"
	      "  --settle-ms N    pause after each teardown (default 300)\n"
	      "  --warmup-ms N    load before the first window (default 2000)\n"
	      "  --depth N        I/Os in flight (default 16)\n"
	      "  --seed N         random offsets seed (default 1)\n"
	      "  --out FILE       append records to FILE (default stdout)\n"
	      "  --json FILE      report: write the JSON summary\n"
	      "  --md FILE        report: write the Markdown section\n", f);
}

enum {
	OPT_METHOD = 256, OPT_DEV, OPT_IO_DEV, OPT_COW, OPT_CHUNK, OPT_POOL,
	OPT_THIN_ID, OPT_SNAP_ID, OPT_COUNT, OPT_WINDOW, OPT_PRE, OPT_SETTLE,
	OPT_WARMUP, OPT_DEPTH, OPT_SEED, OPT_OUT, OPT_JSON, OPT_MD,
};

static const struct option long_opts[] = {
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "io-dev", required_argument, NULL, OPT_IO_DEV },
	{ "cow", required_argument, NULL, OPT_COW },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "thin-id", required_argument, NULL, OPT_THIN_ID },
	{ "snap-id", required_argument, NULL, OPT_SNAP_ID },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "window-ms", required_argument, NULL, OPT_WINDOW },
	{ "pre-ms", required_argument, NULL, OPT_PRE },
	{ "settle-ms", required_argument, NULL, OPT_SETTLE },
	{ "warmup-ms", required_argument, NULL, OPT_WARMUP },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "md", required_argument, NULL, OPT_MD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Strict decimal in [min, max]. */
static int parse_num(const char *opt, const char *s, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || v < min || v > max) {
		fprintf(stderr, PROG ": --%s: '%s' is not a number in "
			"[%" PRIu64 ", %" PRIu64 "]\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct {
		int opt;
		uint64_t min, max;
		size_t off;
	} nums[] = {
		{ OPT_CHUNK, 1, 2097152, offsetof(struct opts, chunk) },
		{ OPT_THIN_ID, 0, 0xffffff, offsetof(struct opts, thin_id) },
		{ OPT_SNAP_ID, 0, 0xffffff, offsetof(struct opts, snap_id) },
		{ OPT_COUNT, 1, 1000, offsetof(struct opts, count) },
		{ OPT_WINDOW, 10, 60000, offsetof(struct opts, window_ms) },
		{ OPT_PRE, 0, 60000, offsetof(struct opts, pre_ms) },
		{ OPT_SETTLE, 0, 60000, offsetof(struct opts, settle_ms) },
		{ OPT_WARMUP, 0, 600000, offsetof(struct opts, warmup_ms) },
		{ OPT_DEPTH, 1, 1024, offsetof(struct opts, depth) },
	};
	int c;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		uint64_t v;

		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (nums[i].opt == c)
				break;
		if (i < sizeof(nums) / sizeof(nums[0])) {
			if (parse_num(long_opts[c - OPT_METHOD].name, optarg,
				      nums[i].min, nums[i].max, &v))
				return -EINVAL;
			*(unsigned int *)((char *)o + nums[i].off) = v;
			continue;
		}
		switch (c) {
		case OPT_METHOD:
			if (fb_method_parse(optarg, &o->method)) {
				fprintf(stderr, PROG ": --method: unknown "
					"method '%s' (none, vmfit, classic, "
					"thin)\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_DEV:
			o->dev = optarg;
			break;
		case OPT_IO_DEV:
			o->io_dev = optarg;
			break;
		case OPT_COW:
			o->cow = optarg;
			break;
		case OPT_POOL:
			o->pool = optarg;
			break;
		case OPT_SEED:
			if (parse_num("seed", optarg, 0, UINT64_MAX, &o->seed))
				return -EINVAL;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_MD:
			o->md = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -EINVAL;
		}
	}
	return 0;
}

/* What each method needs; NULL when fine. */
static const char *check_opts(const char *cmd, struct opts *o, bool method_set)
{
	static char io_dev[NAME_LEN + 16];

	if (!method_set)
		return "--method is required";
	if (o->method != FB_NONE && !o->dev)
		return "--dev is required for this method";
	if (o->method == FB_CLASSIC && !o->cow)
		return "--cow is required for the classic method";
	if (o->method == FB_THIN && !o->pool)
		return "--pool is required for the thin method";
	if (o->dev && strlen(o->dev) > NAME_LEN - 8)
		return "--dev: name too long";
	if (o->pre_ms >= o->window_ms)
		return "--pre-ms must be shorter than --window-ms";
	if (strcmp(cmd, "gaps"))
		return o->method == FB_NONE ? "method none takes no snapshot" :
		       NULL;
	if (!o->io_dev) {
		if (!o->dev)
			return "--io-dev is required for method none";
		snprintf(io_dev, sizeof(io_dev), "/dev/mapper/%s", o->dev);
		o->io_dev = io_dev;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.method = FB_NR_METHODS,
		.chunk = 8,
		.snap_id = 1,
		.count = 20,
		.window_ms = 1000,
		.pre_ms = 250,
		.settle_ms = 300,
		.warmup_ms = 2000,
		.depth = 16,
		.seed = 1,
	};
	const char *cmd, *err;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "gaps") && strcmp(cmd, "snap") &&
	    strcmp(cmd, "unsnap") && strcmp(cmd, "fill") &&
	    strcmp(cmd, "report")) {
		fprintf(stderr, PROG ": unknown command '%s'; try '" PROG
			" --help'.\n", cmd);
		return 2;
	}
	if (parse_opts(argc - 1, argv + 1, &o))
		return 2;
	argc -= optind + 1;
	argv += optind + 1;

	if (!strcmp(cmd, "fill")) {
		if (argc != 1) {
			fprintf(stderr, PROG ": fill: exactly one DEVICE\n");
			return 2;
		}
		return cmd_fill(argv[0]);
	}
	if (!strcmp(cmd, "report")) {
		if (!argc || (!o.json && !o.md)) {
			fprintf(stderr, PROG ": report: need RECORDS and "
				"--json or --md\n");
			return 2;
		}
		return cmd_report(&o, argc, argv);
	}
	if (argc) {
		fprintf(stderr, PROG ": %s: unexpected argument '%s'\n", cmd,
			argv[0]);
		return 2;
	}
	err = check_opts(cmd, &o, o.method != FB_NR_METHODS);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", cmd, err);
		return 2;
	}
	/* No udev in the test VM: libdevmapper makes the nodes itself. */
	dm_udev_set_sync_support(0);
	if (!strcmp(cmd, "gaps"))
		return cmd_gaps(&o);
	return cmd_snap(&o, !strcmp(cmd, "unsnap"));
}
