/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_svol - a replica's state volume as recovery sees it
 * (Documentation/protocol.rst "Recovery"), behind an ops vtable:
 *
 * "vmfit"  the real thing: a dm-vmfit device (by dm name) driven through
 *          vf_nl (snapshot, clear, drop, merge, checksum dump of the
 *          frozen view) and vf_dm (the vmfit-view device, the changed
 *          set). The replica opens /dev/mapper/<name>.
 * "file"   a userspace stand-in over a plain file, so that the protocol
 *          can be tested on the host without the module: the replica
 *          opens <path>; a snapshot is a frozen copy <path>.view (a
 *          clone where the filesystem shares extents); the changed set
 *          is what differs from <path>.base, the copy taken by the last
 *          clear (so it sees every change made through the file, and,
 *          unlike the target, also changes made underneath; tests that
 *          need "underneath" change .base too). vf_svol_file.c.
 *
 * Semantics shared by both (the target's, dm-vmfit.rst):
 *   snapshot  freeze: the view shows the volume as it is now; returns
 *             when the view is readable. -EBUSY when one is active.
 *   drop      end it, discarding what was written since: the live volume
 *             shows the frozen state again. -EINVAL without a snapshot.
 *   merge     end it, keeping what was written since. -EINVAL without.
 *   clear     start a new changed set. -EBUSY during a snapshot.
 *   changed   the changed set (chunks written since the last clear).
 *   checksum  SHA-256 of the view's chunks (all, or the changed set),
 *             ascending, through a vf_nl_digest_fn; the last chunk of a
 *             volume whose size is not a chunk multiple is hashed at its
 *             real length. Returns the number of digests.
 *   read_view one chunk of the view (its real length in *len).
 *   write     one chunk of the live volume (at most its real length).
 * Every function returns 0 (or a count) or -errno; nothing prints.
 */
#ifndef VF_SVOL_H
#define VF_SVOL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/limits.h>	/* PATH_MAX whatever the feature macros */

#include "vf_nl.h"
#include "vf_rcv.h"
#include "vf_status.h"

struct vf_svol;

struct vf_svol_ops {
	const char *kind;
	int (*open)(struct vf_svol *v);
	void (*close)(struct vf_svol *v);
	/* Of the view during a snapshot, of the live volume otherwise. */
	int (*geometry)(struct vf_svol *v, struct vf_rcv_geom *g);
	int (*snapshot)(struct vf_svol *v);
	int (*drop)(struct vf_svol *v);
	int (*merge)(struct vf_svol *v);
	int (*clear)(struct vf_svol *v);
	int (*changed)(struct vf_svol *v, struct vf_ranges *rs);
	long (*checksum)(struct vf_svol *v, bool changed_only,
			 vf_nl_digest_fn fn, void *arg);
	int (*read_view)(struct vf_svol *v, uint64_t chunk, void *buf,
			 uint32_t *len);
	int (*write)(struct vf_svol *v, uint64_t chunk, const void *buf,
		     uint32_t len);
	/* Make the writes durable. */
	int (*sync)(struct vf_svol *v);
	/*
	 * Make the live volume @bytes long (the stand-in's files grow with
	 * the replica's layout; a device has a fixed size: -EINVAL if it
	 * differs).
	 */
	int (*resize)(struct vf_svol *v, uint64_t bytes);
};

struct vf_svol {
	const struct vf_svol_ops *ops;
	char name[PATH_MAX - 16];	/* dm name, or the file path */
	char path[PATH_MAX];		/* what the replica opens */
	char view[PATH_MAX];		/* the frozen view's path */
	uint32_t chunk_size;		/* file: given; vmfit: the target's */
	bool snap;			/* a snapshot is active */
	bool cloned;			/* file: the last copy was a clone */
	int live_fd;			/* -1 until a write */
	int view_fd;			/* -1 without a snapshot */
	struct vf_nl *nl;		/* vmfit */
};

extern const struct vf_svol_ops vf_svol_file_ops;
extern const struct vf_svol_ops vf_svol_vmfit_ops;

/*
 * Open volume @name of kind "vmfit" or "file" (-EINVAL otherwise;
 * @chunk_size is used by "file" only, a power of two in
 * VF_RCV_MIN_CHUNK .. VF_RCV_MAX_CHUNK). A file need not exist yet.
 */
int vf_svol_open(struct vf_svol *v, const char *kind, const char *name,
		 uint32_t chunk_size);
void vf_svol_close(struct vf_svol *v);

/* The ops' sync, shared by both kinds: fdatasync of the live volume. */
int vf_svol_sync_live(struct vf_svol *v);

/* Byte length of @chunk of a volume of @bytes (0 past the end). */
uint32_t vf_svol_chunk_len(uint64_t bytes, uint32_t chunk_size,
			   uint64_t chunk);

#endif /* VF_SVOL_H */
