// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_svol.c - state volumes: the common part. The "vmfit" implementation
 * is in vf_svol_dm.c, the "file" stand-in in vf_svol_file.c. See
 * vf_svol.h.
 */
#include <errno.h>
#include <string.h>
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

/* Both kinds write through live_fd; none open means nothing to sync. */
int vf_svol_sync_live(struct vf_svol *v)
{
	if (v->live_fd < 0)
		return 0;
	return fdatasync(v->live_fd) ? -errno : 0;
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
