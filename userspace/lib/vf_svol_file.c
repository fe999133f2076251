// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_svol_file.c - the "file" state volume: a userspace stand-in for
 * dm-vmfit over a plain file (vf_svol.h), so that the recovery protocol
 * runs on the host without the module.
 *
 * Its files: <path> (live), <path>.view (the frozen copy while a snapshot
 * is active), <path>.base (the live file as of the last clear; missing
 * means empty). Copies are written to a ".tmp" name and renamed, so a
 * crash leaves either the old or the new file.
 *
 * Where the filesystem shares extents (XFS with reflink=1, btrfs), a copy
 * is a clone (FICLONE): the snapshot and the clear cost metadata, not a
 * pass over the data, like the target's epoch switch; elsewhere (ext4,
 * tmpfs) the data is copied. The changed set is what differs from the
 * base: a chunk whose blocks the view (or the live file) still shares
 * with the base (FIEMAP: the same physical extents) is unchanged without
 * reading it, the others are compared. Not FIEMAP_EXTENT_SHARED alone: a
 * chunk written since the clear is shared too, between the live file and
 * the view cloned from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "vf_svol.h"

static int file_open(struct vf_svol *v)
{
	struct vf_rcv_geom g = { 0, v->chunk_size };
	struct stat st;

	if (vf_rcv_geom_check(&g))
		return -EINVAL;
	strcpy(v->path, v->name);
	snprintf(v->view, sizeof(v->view), "%s.view", v->name);
	/* A view left by a crash is a snapshot that is still active. */
	if (!stat(v->view, &st)) {
		v->view_fd = open(v->view, O_RDONLY | O_CLOEXEC);
		if (v->view_fd < 0)
			return -errno;
		v->snap = true;
	}
	return 0;
}

static void file_close(struct vf_svol *v)
{
}

static int file_size(const char *path, uint64_t *bytes)
{
	struct stat st;

	if (stat(path, &st)) {
		if (errno != ENOENT)
			return -errno;
		*bytes = 0;
		return 0;
	}
	*bytes = st.st_size;
	return 0;
}

static int file_geometry(struct vf_svol *v, struct vf_rcv_geom *g)
{
	uint64_t bytes = 0;
	int r = file_size(v->snap ? v->view : v->path, &bytes);

	if (r)
		return r;
	g->chunk_size = v->chunk_size;
	g->nchunks = (bytes + v->chunk_size - 1) / v->chunk_size;
	return vf_rcv_geom_check(g) ? -EFBIG : 0;
}

/* Copy the data of @in (-1: empty) to @out. */
static int copy_data(int in, int out)
{
	char *buf;
	ssize_t n;
	int r = 0;

	if (in < 0)
		return 0;
	buf = malloc(1 << 20);
	if (!buf)
		return -ENOMEM;
	while ((n = read(in, buf, 1 << 20)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		r = vf_write_all(out, buf, n);
		if (r)
			break;
	}
	free(buf);
	return r;
}

/*
 * Clone or copy @from (missing: empty) to @to atomically; @durable:
 * fsynced before the rename. Sets v->cloned to whether the extents are
 * shared.
 */
static int copy_file(struct vf_svol *v, const char *from, const char *to,
		     bool durable)
{
	char tmp[PATH_MAX + 8];
	int in, out, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno != ENOENT)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out_in;
	}
	v->cloned = false;
	if (in >= 0 && !ioctl(out, FICLONE, in))
		v->cloned = true;
	/* No sharing here (ext4, tmpfs, another filesystem): copy. */
	else if (in >= 0 && errno != EOPNOTSUPP && errno != EXDEV &&
		 errno != EINVAL && errno != ENOTTY)
		r = -errno;
	else
		r = copy_data(in, out);
	if (!r && durable && fsync(out))
		r = -errno;
	if (close(out) && !r)
		r = -errno;
	if (!r && rename(tmp, to))
		r = -errno;
	if (r)
		unlink(tmp);
out_in:
	if (in >= 0)
		close(in);
	return r;
}

static int file_snapshot(struct vf_svol *v)
{
	int r;

	if (v->snap)
		return -EBUSY;
	if (access(v->path, F_OK))
		return -errno;
	/*
	 * Not fsynced: the snapshot is taken while the replica is held, and
	 * a view is not durable state. One found after a crash is merged
	 * away (deleted); drop, the only way a view becomes the live file,
	 * makes it durable first. So the capture costs a clone, or a
	 * page-cache copy, not a write-back of the whole state.
	 */
	r = copy_file(v, v->path, v->view, false);
	if (r)
		return r;
	v->view_fd = open(v->view, O_RDONLY | O_CLOEXEC);
	if (v->view_fd < 0) {
		r = -errno;
		unlink(v->view);
		return r;
	}
	v->snap = true;
	return 0;
}

static void end_snapshot(struct vf_svol *v)
{
	close(v->view_fd);
	v->view_fd = -1;
	v->snap = false;
}

static int file_drop(struct vf_svol *v)
{
	if (!v->snap)
		return -EINVAL;
	/* The live file becomes the frozen one: writes since are gone. */
	if (v->live_fd >= 0) {
		close(v->live_fd);
		v->live_fd = -1;
	}
	if (fsync(v->view_fd))
		return -errno;
	if (rename(v->view, v->path))
		return -errno;
	end_snapshot(v);
	return 0;
}

static int file_merge(struct vf_svol *v)
{
	if (!v->snap)
		return -EINVAL;
	if (unlink(v->view))
		return -errno;
	end_snapshot(v);
	return 0;
}

static int file_clear(struct vf_svol *v)
{
	char base[PATH_MAX + 8];

	if (v->snap)
		return -EBUSY;
	snprintf(base, sizeof(base), "%s.base", v->path);
	return copy_file(v, v->path, base, true);
}

/* Read up to @len bytes at @off; zeros past the end of the file. */
static int read_at(int fd, uint64_t off, uint8_t *buf, uint32_t len)
{
	ssize_t n;
	uint32_t got = 0;

	while (got < len) {
		n = fd >= 0 ? pread(fd, buf + got, len - got, off + got) : 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			memset(buf + got, 0, len - got);
			break;
		}
		got += n;
	}
	return 0;
}

/* A file's extents (FIEMAP), ascending; n = 0 with none (or no FIEMAP). */
struct extmap {
	struct fiemap_extent *e;
	size_t n;
};

#define EXTMAP_BATCH	256

/*
 * Flags under which fe_physical says nothing about the data: not on disk
 * yet, or not where it says.
 */
#define EXT_NO_PHYS	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | \
			 FIEMAP_EXTENT_ENCODED | \
			 FIEMAP_EXTENT_DATA_ENCRYPTED | \
			 FIEMAP_EXTENT_NOT_ALIGNED | \
			 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL)

/*
 * The extents of @fd (written back first: a dirty page may be about to
 * move its block). Returns 0 with an empty map where the filesystem has
 * no FIEMAP (tmpfs): every chunk is then compared.
 */
static int extmap_get(int fd, struct extmap *m)
{
	struct fiemap *fm;
	struct fiemap_extent *e;
	uint64_t start = 0;
	size_t cap = 0;
	int r = 0;

	m->e = NULL;
	m->n = 0;
	if (fd < 0)
		return 0;
	fm = calloc(1, sizeof(*fm) + EXTMAP_BATCH * sizeof(fm->fm_extents[0]));
	if (!fm)
		return -ENOMEM;
	for (;;) {
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = EXTMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
			r = errno == EOPNOTSUPP || errno == ENOTTY ? 0 : -errno;
			free(m->e);
			m->e = NULL;
			m->n = 0;
			break;
		}
		if (!fm->fm_mapped_extents)
			break;
		if (m->n + fm->fm_mapped_extents > cap) {
			cap = 2 * cap + fm->fm_mapped_extents;
			e = realloc(m->e, cap * sizeof(*e));
			if (!e) {
				r = -ENOMEM;
				break;
			}
			m->e = e;
		}
		memcpy(m->e + m->n, fm->fm_extents,
		       fm->fm_mapped_extents * sizeof(*e));
		m->n += fm->fm_mapped_extents;
		e = &m->e[m->n - 1];
		if (e->fe_flags & FIEMAP_EXTENT_LAST)
			break;
		start = e->fe_logical + e->fe_length;
	}
	free(fm);
	return r;
}

/* The extent of @m holding byte @off, or NULL (a hole). */
static const struct fiemap_extent *extmap_find(const struct extmap *m,
					       uint64_t off)
{
	size_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (off < m->e[mid].fe_logical)
			hi = mid;
		else if (off >= m->e[mid].fe_logical + m->e[mid].fe_length)
			lo = mid + 1;
		else
			return &m->e[mid];
	}
	return NULL;
}

/*
 * Whether bytes [@off, @off + @len) of the two files are the same blocks
 * on disk (then the same data: a write to a shared block moves it). False
 * when not known: the caller compares.
 */
static bool extmap_same(const struct extmap *a, const struct extmap *b,
			uint64_t off, uint32_t len)
{
	const struct fiemap_extent *ea, *eb;
	uint64_t end = off + len, na, nb;

	if (!a->n || !b->n)
		return false;
	while (off < end) {
		ea = extmap_find(a, off);
		eb = extmap_find(b, off);
		if (!ea || !eb || (ea->fe_flags | eb->fe_flags) & EXT_NO_PHYS ||
		    (ea->fe_flags ^ eb->fe_flags) & FIEMAP_EXTENT_UNWRITTEN ||
		    ea->fe_physical - ea->fe_logical !=
		    eb->fe_physical - eb->fe_logical)
			return false;
		na = ea->fe_logical + ea->fe_length;
		nb = eb->fe_logical + eb->fe_length;
		off = na < nb ? na : nb;
	}
	return true;
}

/*
 * Chunks of the view (or the live file) that differ from the base: those
 * not on the base's blocks (extmap_same) whose data differs.
 */
static int file_changed(struct vf_svol *v, struct vf_ranges *rs)
{
	char base[PATH_MAX + 8];
	struct vf_rcv_geom g;
	struct extmap ma = { 0 }, mb = { 0 };
	uint8_t *a = NULL, *b = NULL;
	uint64_t bytes = 0, c;
	uint32_t len;
	int fa = -1, fb = -1, r;

	r = file_geometry(v, &g);
	if (r)
		return r;
	r = file_size(v->snap ? v->view : v->path, &bytes);
	if (r)
		return r;
	snprintf(base, sizeof(base), "%s.base", v->path);
	a = malloc(v->chunk_size);
	b = malloc(v->chunk_size);
	if (!a || !b) {
		r = -ENOMEM;
		goto out;
	}
	fa = open(v->snap ? v->view : v->path, O_RDONLY | O_CLOEXEC);
	if (fa < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fb = open(base, O_RDONLY | O_CLOEXEC);
	if (fb < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	r = extmap_get(fa, &ma);
	if (!r)
		r = extmap_get(fb, &mb);
	for (c = 0; c < g.nchunks && !r; c++) {
		len = vf_svol_chunk_len(bytes, v->chunk_size, c);
		if (extmap_same(&ma, &mb, c * v->chunk_size, len))
			continue;
		r = read_at(fa, c * v->chunk_size, a, len);
		if (!r)
			r = read_at(fb, c * v->chunk_size, b, len);
		if (!r && memcmp(a, b, len))
			r = vf_ranges_add(rs, c, c);
	}
out:
	free(ma.e);
	free(mb.e);
	if (fb >= 0)
		close(fb);
	if (fa >= 0)
		close(fa);
	free(a);
	free(b);
	return r;
}

static int file_read_view(struct vf_svol *v, uint64_t chunk, void *buf,
			  uint32_t *len)
{
	uint64_t bytes = 0;
	int r;

	if (!v->snap)
		return -EINVAL;
	r = file_size(v->view, &bytes);
	if (r)
		return r;
	*len = vf_svol_chunk_len(bytes, v->chunk_size, chunk);
	if (!*len)
		return -ERANGE;
	return read_at(v->view_fd, chunk * v->chunk_size, buf, *len);
}

/* One digest per chunk of @rs (NULL: all) of the view. */
static long hash_view(struct vf_svol *v, const struct vf_ranges *rs,
		      vf_nl_digest_fn fn, void *arg)
{
	uint8_t d[VF_MERKLE_DIGEST_SIZE], *buf;
	struct vf_rcv_geom g;
	uint64_t c, first, last;
	uint32_t len;
	size_t i;
	long count = 0;
	int r;

	r = file_geometry(v, &g);
	if (r)
		return r;
	buf = malloc(v->chunk_size);
	if (!buf)
		return -ENOMEM;
	for (i = 0; !r && i < (rs ? rs->n : 1); i++) {
		first = rs ? rs->r[i].start : 0;
		last = rs ? rs->r[i].end : g.nchunks - 1;
		if (!g.nchunks)
			break;
		for (c = first; !r && c <= last; c++) {
			r = file_read_view(v, c, buf, &len);
			if (!r && vf_sha256(buf, len, d))
				r = -EIO;
			if (!r)
				r = fn(c, d, sizeof(d), arg);
			count++;
		}
	}
	free(buf);
	return r ? r : count;
}

static long file_checksum(struct vf_svol *v, bool changed_only,
			  vf_nl_digest_fn fn, void *arg)
{
	struct vf_ranges rs;
	long r;

	if (!v->snap)
		return -EINVAL;
	if (!changed_only)
		return hash_view(v, NULL, fn, arg);
	vf_ranges_init(&rs);
	r = file_changed(v, &rs);
	if (!r)
		r = hash_view(v, &rs, fn, arg);
	vf_ranges_free(&rs);
	return r;
}

static int live_open(struct vf_svol *v)
{
	if (v->live_fd >= 0)
		return 0;
	v->live_fd = open(v->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return v->live_fd < 0 ? -errno : 0;
}

static int file_write(struct vf_svol *v, uint64_t chunk, const void *buf,
		      uint32_t len)
{
	int r;

	if (len > v->chunk_size)
		return -EINVAL;
	r = live_open(v);
	if (r)
		return r;
	if (chunk > (UINT64_MAX - v->chunk_size) / v->chunk_size)
		return -ERANGE;
	return vf_pwrite_all(v->live_fd, buf, len, chunk * v->chunk_size);
}

static int file_resize(struct vf_svol *v, uint64_t bytes)
{
	int r = live_open(v);

	if (r)
		return r;
	return ftruncate(v->live_fd, bytes) ? -errno : 0;
}

const struct vf_svol_ops vf_svol_file_ops = {
	.kind = "file",
	.open = file_open,
	.close = file_close,
	.geometry = file_geometry,
	.snapshot = file_snapshot,
	.drop = file_drop,
	.merge = file_merge,
	.clear = file_clear,
	.changed = file_changed,
	.checksum = file_checksum,
	.read_view = file_read_view,
	.write = file_write,
	.sync = vf_svol_sync_live,
	.resize = file_resize,
};
