/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_merkle - Merkle tree over per-chunk SHA-256 digests.
 *
 * Definition (both sides of a comparison must build the same shape, so the
 * definition is part of the protocol between managers):
 *
 * - Level 0 holds the leaves: the chunk digests in chunk order, n of them.
 * - Level k+1 holds ceil(len(k) / VF_MERKLE_FANOUT) nodes; node i of level
 *   k+1 is SHA-256 of the concatenation of nodes i*F .. min(i*F+F, len(k))-1
 *   of level k, in order. An odd tail is not padded and not promoted: the
 *   last node of a level hashes only the children that exist (1..F of them).
 * - Levels are added until one has exactly one node at a level >= 1: that
 *   node is the root. So the root is always an internal node: with one leaf
 *   the root is SHA-256(leaf); with no leaves level 1 has one node, SHA-256
 *   of the empty string (the hash of zero children concatenated).
 *
 * Node (level, i) covers leaves [i * F^level, min((i+1) * F^level, n) - 1].
 * Trees are compared only when built with the same leaf count.
 */
#ifndef VF_MERKLE_H
#define VF_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "vf_sha256.h"
#include "vf_status.h"	/* struct vf_ranges */

#define VF_MERKLE_DIGEST_SIZE VF_SHA256_LEN
#define VF_MERKLE_FANOUT 16

struct vf_merkle;

/*
 * The shape alone, without digests (what a decoder checks a node index
 * against): levels of a tree over @n leaves, and the node count of
 * @level (0 when level is out of range). vf_merkle_build uses the same.
 */
unsigned int vf_merkle_shape_levels(uint64_t n);
uint64_t vf_merkle_shape_len(uint64_t n, unsigned int level);

/*
 * Build a tree over @n leaf digests (@leaves holds n * 32 bytes; may be
 * NULL when n == 0). The leaves are copied.
 */
int vf_merkle_build(const uint8_t *leaves, size_t n, struct vf_merkle **out);
void vf_merkle_free(struct vf_merkle *t);

size_t vf_merkle_leaves(const struct vf_merkle *t);
/* Number of levels including level 0 (leaves) and the root level. */
unsigned int vf_merkle_levels(const struct vf_merkle *t);
/* Number of nodes at @level, 0 when level is out of range. */
size_t vf_merkle_level_size(const struct vf_merkle *t, unsigned int level);
/* Pointer to the 32-byte root digest, valid while @t lives. */
const uint8_t *vf_merkle_root(const struct vf_merkle *t);
/* Pointer to node @i of @level; NULL (and no crash) when out of range. */
const uint8_t *vf_merkle_node(const struct vf_merkle *t, unsigned int level,
			      size_t i);
/* Leaves covered by a node: [*first, *last]; -ERANGE when out of range. */
int vf_merkle_node_span(const struct vf_merkle *t, unsigned int level,
			size_t i, uint64_t *first, uint64_t *last);

/*
 * Compare @a and @b: descend from the roots only into children whose
 * digests differ, and append the differing leaves to @out as merged
 * ranges (ascending). Returns the number of nodes compared via @visited
 * (may be NULL) so callers can check the descent stayed narrow.
 * -EINVAL when the trees have different leaf counts.
 */
int vf_merkle_diff(const struct vf_merkle *a, const struct vf_merkle *b,
		   struct vf_ranges *out, size_t *visited);

#endif /* VF_MERKLE_H */
