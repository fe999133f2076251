// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of vf_merkle: known answers, the documented shape (odd tails,
 * empty tree, single leaf), a naive recursive reference built with
 * openssl's one-shot SHA256() (not the code under test), and diffs checked
 * against a brute-force leaf comparison, including how narrow the descent
 * stays.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/sha.h>

#include "vf_check.h"
#include "vf_merkle.h"

#define DS VF_MERKLE_DIGEST_SIZE
#define F VF_MERKLE_FANOUT

static void hex(const uint8_t *d, char *out)
{
	int i;

	for (i = 0; i < DS; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Reference: the digest of the node covering leaves [first, first+width). */
static void ref_node(const uint8_t *leaves, size_t n, size_t first,
		     size_t width, uint8_t *out)
{
	uint8_t *kids;
	size_t sub = width / F;
	size_t k = 0;
	size_t c;

	if (width == 1) {
		memcpy(out, leaves + first * DS, DS);
		return;
	}
	kids = malloc(F * DS);
	for (c = 0; c < F && first + c * sub < n; c++, k++)
		ref_node(leaves, n, first + c * sub, sub, kids + k * DS);
	SHA256(kids, k * DS, out);
	free(kids);
}

static void ref_root(const uint8_t *leaves, size_t n, uint8_t *out)
{
	size_t width = F;

	if (!n) {
		SHA256((const uint8_t *)"", 0, out);
		return;
	}
	while (width < n)
		width *= F;
	ref_node(leaves, n, 0, width, out);
}

static uint8_t *random_leaves(size_t n, unsigned int seed)
{
	uint8_t *l = malloc(n * DS + 1);
	size_t i;

	srand(seed);
	for (i = 0; i < n * DS; i++)
		l[i] = rand() & 0xff;
	return l;
}

static void test_kat(void)
{
	struct vf_merkle *t;
	uint8_t zero[DS] = { 0 };
	char h[2 * DS + 1];

	/* Empty set: SHA-256 of the empty string, at level 1. */
	CHECK_EQ(vf_merkle_build(NULL, 0, &t), 0);
	hex(vf_merkle_root(t), h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb924"
		     "27ae41e4649b934ca495991b7852b855");
	CHECK_EQ(vf_merkle_levels(t), 2);
	CHECK_EQ(vf_merkle_level_size(t, 0), 0);
	CHECK_EQ(vf_merkle_level_size(t, 1), 1);
	CHECK(vf_merkle_node(t, 0, 0) == NULL);
	vf_merkle_free(t);

	/* One leaf: the root is SHA-256(leaf), never the leaf itself. */
	CHECK_EQ(vf_merkle_build(zero, 1, &t), 0);
	hex(vf_merkle_root(t), h);
	CHECK_STR(h, "66687aadf862bd776c8fc18b8e9f8e20"
		     "089714856ee233b3902a591d0d5f2925");
	CHECK_EQ(vf_merkle_levels(t), 2);
	vf_merkle_free(t);

	CHECK_EQ(vf_merkle_build(NULL, 3, &t), -EINVAL);
}

static void test_shape_and_reference(void)
{
	static const size_t sizes[] = {
		1, 2, 15, 16, 17, 31, 255, 256, 257, 4095, 4096, 4097, 70000,
	};
	size_t s;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		uint8_t *leaves = random_leaves(n, (unsigned int)n);
		struct vf_merkle *t;
		uint8_t want[DS];
		unsigned int l;
		size_t len = n;
		uint64_t first, last;

		CHECK_EQ(vf_merkle_build(leaves, n, &t), 0);
		ref_root(leaves, n, want);
		CHECK(!memcmp(vf_merkle_root(t), want, DS));
		CHECK_EQ(vf_merkle_leaves(t), n);

		/* Level sizes: ceil division by F up to one node. */
		for (l = 0; l < vf_merkle_levels(t); l++) {
			CHECK_EQ(vf_merkle_level_size(t, l), len);
			len = (len + F - 1) / F;
		}
		CHECK_EQ(vf_merkle_level_size(t, vf_merkle_levels(t) - 1), 1);
		CHECK_EQ(vf_merkle_level_size(t, vf_merkle_levels(t)), 0);
		CHECK(vf_merkle_node(t, vf_merkle_levels(t), 0) == NULL);
		CHECK(vf_merkle_node(t, 0, n) == NULL);
		CHECK(!memcmp(vf_merkle_node(t, 0, n - 1),
			      leaves + (n - 1) * DS, DS));

		/* The last node of level 1 hashes only the existing tail. */
		if (n > 1) {
			size_t last1 = vf_merkle_level_size(t, 1) - 1;
			size_t kids = n - last1 * F;
			uint8_t d[DS];

			SHA256(leaves + last1 * F * DS, kids * DS, d);
			CHECK(!memcmp(vf_merkle_node(t, 1, last1), d, DS));
			CHECK_EQ(vf_merkle_node_span(t, 1, last1, &first,
						     &last), 0);
			CHECK_EQ(first, last1 * F);
			CHECK_EQ(last, n - 1);
		}
		CHECK_EQ(vf_merkle_node_span(t, vf_merkle_levels(t) - 1, 0,
					     &first, &last), 0);
		CHECK_EQ(first, 0);
		CHECK_EQ(last, n - 1);
		CHECK_EQ(vf_merkle_node_span(t, 0, n, &first, &last), -ERANGE);
		vf_merkle_free(t);
		free(leaves);
	}
}

/* Brute force: ranges of differing leaves. */
static void brute_diff(const uint8_t *a, const uint8_t *b, size_t n,
		       struct vf_ranges *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(a + i * DS, b + i * DS, DS))
			vf_ranges_add(out, i, i);
}

static bool same_ranges(const struct vf_ranges *x, const struct vf_ranges *y)
{
	size_t i;

	if (x->n != y->n)
		return false;
	for (i = 0; i < x->n; i++)
		if (x->r[i].start != y->r[i].start || x->r[i].end != y->r[i].end)
			return false;
	return true;
}

static void test_diff(void)
{
	size_t n = 4096 + 37;
	uint8_t *a = random_leaves(n, 7);
	uint8_t *b = malloc(n * DS);
	struct vf_merkle *ta, *tb;
	struct vf_ranges got, want;
	size_t visited;
	int round;

	vf_ranges_init(&got);
	vf_ranges_init(&want);

	/* Identical: only the roots are compared. */
	memcpy(b, a, n * DS);
	CHECK_EQ(vf_merkle_build(a, n, &ta), 0);
	CHECK_EQ(vf_merkle_build(b, n, &tb), 0);
	CHECK_EQ(vf_merkle_diff(ta, tb, &got, &visited), 0);
	CHECK_EQ(got.n, 0);
	CHECK_EQ(visited, 1);
	vf_merkle_free(tb);

	/* One leaf: the descent visits F nodes per level below the root. */
	b[1234 * DS + 5] ^= 1;
	CHECK_EQ(vf_merkle_build(b, n, &tb), 0);
	CHECK_EQ(vf_merkle_diff(ta, tb, &got, &visited), 0);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.r[0].start, 1234);
	CHECK_EQ(got.r[0].end, 1234);
	CHECK(visited <= 1 + (size_t)F * (vf_merkle_levels(ta) - 1));
	vf_ranges_free(&got);
	vf_merkle_free(tb);

	/* Random sets, runs and the odd tail, against brute force. */
	for (round = 0; round < 40; round++) {
		size_t k;
		size_t changes = (size_t)(rand() % 64);

		memcpy(b, a, n * DS);
		for (k = 0; k < changes; k++) {
			size_t at = (size_t)rand() % n;
			size_t run = (size_t)(rand() % 40);

			for (; run && at < n; run--, at++)
				b[at * DS + (rand() % DS)] ^= 0x80;
		}
		if (round == 0)
			b[(n - 1) * DS] ^= 1;	/* the very last leaf */
		CHECK_EQ(vf_merkle_build(b, n, &tb), 0);
		CHECK_EQ(vf_merkle_diff(ta, tb, &got, NULL), 0);
		brute_diff(a, b, n, &want);
		CHECK(same_ranges(&got, &want));
		vf_ranges_free(&got);
		vf_ranges_free(&want);
		vf_merkle_free(tb);
	}

	/* Everything differs: one range over all leaves. */
	for (size_t i = 0; i < n * DS; i++)
		b[i] = ~a[i];
	CHECK_EQ(vf_merkle_build(b, n, &tb), 0);
	CHECK_EQ(vf_merkle_diff(ta, tb, &got, NULL), 0);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.r[0].start, 0);
	CHECK_EQ(got.r[0].end, n - 1);
	vf_ranges_free(&got);
	vf_merkle_free(tb);

	/* Different leaf counts are not comparable. */
	CHECK_EQ(vf_merkle_build(a, n - 1, &tb), 0);
	CHECK_EQ(vf_merkle_diff(ta, tb, &got, NULL), -EINVAL);
	vf_merkle_free(tb);

	/* Two empty trees are equal. */
	{
		struct vf_merkle *e1, *e2;

		CHECK_EQ(vf_merkle_build(NULL, 0, &e1), 0);
		CHECK_EQ(vf_merkle_build(NULL, 0, &e2), 0);
		CHECK_EQ(vf_merkle_diff(e1, e2, &got, NULL), 0);
		CHECK_EQ(got.n, 0);
		vf_merkle_free(e1);
		vf_merkle_free(e2);
	}

	vf_merkle_free(ta);
	free(a);
	free(b);
}

int main(void)
{
	test_kat();
	test_shape_and_reference();
	test_diff();
	return vf_check_done("vf-merkle-test");
}
