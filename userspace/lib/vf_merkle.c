// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_merkle - Merkle tree over per-chunk digests. The tree's definition is
 * in vf_merkle.h. Nodes are stored level by level in one array.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vf_merkle.h"

#define DS VF_MERKLE_DIGEST_SIZE
#define F VF_MERKLE_FANOUT
/* Enough for any size_t leaf count: 16^16 > SIZE_MAX, plus leaves/root. */
#define MAX_LEVELS 20

struct vf_merkle {
	size_t n;			/* leaves */
	unsigned int nlevels;		/* levels, leaves included */
	size_t len[MAX_LEVELS];		/* nodes per level */
	size_t off[MAX_LEVELS];		/* first node of each level */
	uint8_t *nodes;			/* all nodes, DS bytes each */
};

/* Hash @count consecutive digests at @in into @out with a reused ctx. */
static int hash_children(EVP_MD_CTX *ctx, const uint8_t *in, size_t count,
			 uint8_t *out)
{
	unsigned int dl = 0;

	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    (count && !EVP_DigestUpdate(ctx, in, count * DS)) ||
	    !EVP_DigestFinal_ex(ctx, out, &dl) || dl != DS)
		return -EIO;
	return 0;
}

uint64_t vf_merkle_shape_len(uint64_t n, unsigned int level)
{
	uint64_t len = n;
	unsigned int l;

	for (l = 0; l < level; l++) {
		if (l && len == 1)
			return 0;	/* above the root */
		len = len ? (len - 1) / F + 1 : 1;	/* empty tree: 1 */
	}
	return len;
}

unsigned int vf_merkle_shape_levels(uint64_t n)
{
	unsigned int l = 1;

	while (vf_merkle_shape_len(n, l) > 1)
		l++;
	return l + 1;
}

int vf_merkle_build(const uint8_t *leaves, size_t n, struct vf_merkle **out)
{
	struct vf_merkle *t;
	EVP_MD_CTX *ctx = NULL;
	size_t total;
	unsigned int l;
	int r = -ENOMEM;

	if (n && !leaves)
		return -EINVAL;
	if (n > SIZE_MAX / DS / 2)
		return -EOVERFLOW;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n = n;

	/* Shape first: level sizes and offsets. */
	t->nlevels = vf_merkle_shape_levels(n);
	total = 0;
	for (l = 0; l < t->nlevels; l++) {
		t->len[l] = vf_merkle_shape_len(n, l);
		t->off[l] = total;
		total += t->len[l];
	}

	t->nodes = malloc(total * DS);
	if (!t->nodes)
		goto out_free;
	if (n)
		memcpy(t->nodes, leaves, n * DS);

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		goto out_free;
	for (l = 1; l < t->nlevels; l++) {
		const uint8_t *below = t->nodes + t->off[l - 1] * DS;
		size_t i;

		for (i = 0; i < t->len[l]; i++) {
			size_t first = i * F;
			size_t count = t->len[l - 1] - first;

			if (count > F)
				count = F;
			r = hash_children(ctx, below + first * DS, count,
					  t->nodes + (t->off[l] + i) * DS);
			if (r)
				goto out_free;
		}
	}
	EVP_MD_CTX_free(ctx);
	*out = t;
	return 0;

out_free:
	EVP_MD_CTX_free(ctx);
	vf_merkle_free(t);
	return r;
}

void vf_merkle_free(struct vf_merkle *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t);
}

size_t vf_merkle_leaves(const struct vf_merkle *t)
{
	return t->n;
}

unsigned int vf_merkle_levels(const struct vf_merkle *t)
{
	return t->nlevels;
}

size_t vf_merkle_level_size(const struct vf_merkle *t, unsigned int level)
{
	return level < t->nlevels ? t->len[level] : 0;
}

const uint8_t *vf_merkle_node(const struct vf_merkle *t, unsigned int level,
			      size_t i)
{
	if (level >= t->nlevels || i >= t->len[level])
		return NULL;
	return t->nodes + (t->off[level] + i) * DS;
}

const uint8_t *vf_merkle_root(const struct vf_merkle *t)
{
	return vf_merkle_node(t, t->nlevels - 1, 0);
}

int vf_merkle_node_span(const struct vf_merkle *t, unsigned int level,
			size_t i, uint64_t *first, uint64_t *last)
{
	uint64_t width = 1;
	unsigned int l;

	if (level >= t->nlevels || i >= t->len[level])
		return -ERANGE;
	if (!t->n)
		return -ERANGE;	/* the empty root covers no leaf */
	for (l = 0; l < level; l++) {
		if (width > UINT64_MAX / F) {
			width = UINT64_MAX;
			break;
		}
		width *= F;
	}
	*first = (uint64_t)i * width;	/* i < len[level], no overflow */
	if (width > t->n - *first)
		*last = t->n - 1;
	else
		*last = *first + width - 1;
	return 0;
}

/*----------------------------------------------------------------*/

static int diff_node(const struct vf_merkle *a, const struct vf_merkle *b,
		     unsigned int level, size_t i, struct vf_ranges *out,
		     size_t *visited)
{
	size_t c;
	size_t end;
	int r;

	(*visited)++;
	if (!memcmp(vf_merkle_node(a, level, i), vf_merkle_node(b, level, i),
		    DS))
		return 0;
	if (level == 0)
		return vf_ranges_add(out, i, i);

	end = (i + 1) * F;
	if (end > a->len[level - 1])
		end = a->len[level - 1];
	for (c = i * F; c < end; c++) {
		r = diff_node(a, b, level - 1, c, out, visited);
		if (r)
			return r;
	}
	return 0;
}

int vf_merkle_diff(const struct vf_merkle *a, const struct vf_merkle *b,
		   struct vf_ranges *out, size_t *visited)
{
	size_t v = 0;
	int r;

	if (a->n != b->n)
		return -EINVAL;
	/* Same n gives the same shape; the depth is at most MAX_LEVELS. */
	r = diff_node(a, b, a->nlevels - 1, 0, out, &v);
	if (visited)
		*visited = v;
	return r;
}
