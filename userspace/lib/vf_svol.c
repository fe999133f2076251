// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_svol.c - state volumes: the common part and the "file" stand-in.
 * The "vmfit" implementation is in vf_svol_dm.c. See vf_svol.h.
 *
 * The stand-in's files: <path> (live), <path>.view (the frozen copy while
 * a snapshot is active), <path>.base (the live file as of the last clear;
 * missing means empty). Copies are written to a ".tmp" name, fsynced and
 * renamed, so a crash leaves either the old or the new file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vf_svol.h"

uint32_t vf_svol_chunk_len(uint64_t bytes, uint32_t chunk_size,
			   uint64_t chunk)
{
	uint64_t off;

	if (chunk >= bytes / chunk_size + 1)
		return 0;
	off = chunk * chunk_size;
	if (off >= bytes)
		return 0;
	return bytes - off < chunk_size ? bytes - off : chunk_size;
}

int vf_svol_open(struct vf_svol *v, const char *kind, const char *name,
		 uint32_t chunk_size)
{
	const struct vf_svol_ops *ops;
	int r;

	memset(v, 0, sizeof(*v));
	v->live_fd = -1;
	v->view_fd = -1;
	if (!strcmp(kind, "file"))
		ops = &vf_svol_file_ops;
	else if (!strcmp(kind, "vmfit"))
		ops = &vf_svol_vmfit_ops;
	else
		return -EINVAL;
	if (!*name || strlen(name) >= sizeof(v->name))
		return -EINVAL;
	strcpy(v->name, name);
	v->chunk_size = chunk_size;
	v->ops = ops;
	r = ops->open(v);
	if (r)
		v->ops = NULL;
	return r;
}

void vf_svol_close(struct vf_svol *v)
{
	if (v->ops)
		v->ops->close(v);
	if (v->live_fd >= 0)
		close(v->live_fd);
	if (v->view_fd >= 0)
		close(v->view_fd);
	v->live_fd = -1;
	v->view_fd = -1;
	v->ops = NULL;
}

/*
 *------------------------------------------------------------------
 * The "file" stand-in
 *------------------------------------------------------------------
 */

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

/* Copy @from (missing: empty) to @to atomically. */
static int copy_file(const char *from, const char *to)
{
	char tmp[PATH_MAX + 8], *buf;
	int in = -1, out, r = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	buf = malloc(1 << 20);
	if (!buf)
		return -ENOMEM;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno != ENOENT) {
		r = -errno;
		goto out_free;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out_in;
	}
	while (in >= 0 && (n = read(in, buf, 1 << 20)) != 0) {
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
	if (!r && fsync(out))
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
out_free:
	free(buf);
	return r;
}

static int file_snapshot(struct vf_svol *v)
{
	int r;

	if (v->snap)
		return -EBUSY;
	if (access(v->path, F_OK))
		return -errno;
	r = copy_file(v->path, v->view);
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
	return copy_file(v->path, base);
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

/* Chunks of the view (or the live file) that differ from the base. */
static int file_changed(struct vf_svol *v, struct vf_ranges *rs)
{
	char base[PATH_MAX + 8];
	struct vf_rcv_geom g;
	uint8_t *a = NULL, *b = NULL;
	uint64_t bytes = 0, c;
	uint32_t len;
	int fa = -1, fb, r;

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
	for (c = 0; c < g.nchunks && !r; c++) {
		len = vf_svol_chunk_len(bytes, v->chunk_size, c);
		r = read_at(fa, c * v->chunk_size, a, len);
		if (!r)
			r = read_at(fb, c * v->chunk_size, b, len);
		if (!r && memcmp(a, b, len))
			r = vf_ranges_add(rs, c, c);
	}
	if (fb >= 0)
		close(fb);
out:
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

static int file_sync(struct vf_svol *v)
{
	if (v->live_fd < 0)
		return 0;
	return fdatasync(v->live_fd) ? -errno : 0;
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
	.sync = file_sync,
	.resize = file_resize,
};
