/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_dstore - the digest store of one state volume: one SHA-256 digest per
 * chunk of the state verified by the last successful recovery round, in
 * the manager's (trusted) memory and in a file, with the Merkle tree of
 * vf_merkle.h over it (root and node queries for the descent of
 * Documentation/protocol.rst "Recovery").
 *
 * A round works on a copy (vf_dstore_copy), overwrites the digests of the
 * chunks it hashed (vf_dstore_set, whose signature fits vf_nl_digest_fn
 * through vf_dstore_digest_cb), and replaces the committed store with it
 * only after a successful hand-over (invariant I2).
 *
 * File format (little-endian), written to "<path>.tmp", fsynced, renamed:
 *   0   8   magic "VFDIGEST"
 *   8   4   version 1
 *   12  4   chunk_size
 *   16  8   nchunks
 *   24  8   round
 *   32  32n digests
 *   ... 32  SHA-256 of every byte before it
 */
#ifndef VF_DSTORE_H
#define VF_DSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vf_merkle.h"

#define VF_DSTORE_MAGIC		"VFDIGEST"
#define VF_DSTORE_VERSION	1
#define VF_DSTORE_HDR_LEN	32

struct vf_dstore {
	uint64_t nchunks;
	uint32_t chunk_size;	/* bytes */
	uint64_t round;		/* the round that verified it; 0: none */
	bool complete;		/* every chunk's digest is known */
	uint8_t *d;		/* nchunks digests */
	struct vf_merkle *tree;	/* NULL until built; dropped by a set */
};

/* An empty store (all digests unknown, incomplete) of that geometry. */
int vf_dstore_init(struct vf_dstore *s, uint64_t nchunks, uint32_t chunk_size);
void vf_dstore_free(struct vf_dstore *s);
/* @dst (uninitialised) becomes a copy of @src without its tree. */
int vf_dstore_copy(struct vf_dstore *dst, const struct vf_dstore *src);

/* -ERANGE for a chunk past the end, -EINVAL for a size other than 32. */
int vf_dstore_set(struct vf_dstore *s, uint64_t chunk, const uint8_t *digest,
		  unsigned int size);
/* vf_nl_digest_fn-compatible: @arg is the store. */
int vf_dstore_digest_cb(uint64_t chunk, const uint8_t *digest,
			unsigned int size, void *arg);
/* The digest of @chunk, NULL past the end. */
const uint8_t *vf_dstore_get(const struct vf_dstore *s, uint64_t chunk);

/* The Merkle root (built on demand): 0 or -errno. */
int vf_dstore_root(struct vf_dstore *s, uint8_t out[VF_MERKLE_DIGEST_SIZE]);
/*
 * Copy the digests of nodes @first .. @first+@n-1 of @level into @out
 * (level 0: chunks). -ERANGE when any of them does not exist.
 */
int vf_dstore_nodes(struct vf_dstore *s, unsigned int level, uint64_t first,
		    unsigned int n, uint8_t *out);
/* Levels of the tree (vf_merkle_shape_levels of nchunks). */
unsigned int vf_dstore_levels(const struct vf_dstore *s);

/*
 * Save atomically (tmp file, fsync, rename, fsync of the directory).
 * Only a complete store is saved (-EINVAL otherwise).
 */
int vf_dstore_save(const struct vf_dstore *s, const char *path);
/*
 * Load into @s (uninitialised) and check it against the expected
 * geometry. -ENOENT missing, -ENODATA truncated or too long, -EBADMSG bad
 * magic, version or checksum, -EINVAL another geometry. @s is left empty
 * (vf_dstore_free-able, not initialised) on error.
 */
int vf_dstore_load(struct vf_dstore *s, const char *path, uint64_t nchunks,
		   uint32_t chunk_size);

#endif /* VF_DSTORE_H */
