// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-dstore-test - the digest store: updates from a checksum dump (the
 * vf_nl_digest_fn callback), the Merkle root and node queries against a
 * tree built from scratch, copies, and the file: round trip and every
 * kind of damaged file refused with its errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vf_dstore.h"
#include "vf_check.h"

#define DS VF_MERKLE_DIGEST_SIZE
#define CS 4096
#define N 300			/* 300 chunks: levels 300, 19, 2, 1 */

static uint8_t vol[N * CS];

/* What a checksum dump of @vol delivers, for chunks [first, last]. */
static int dump(struct vf_dstore *s, uint64_t first, uint64_t last)
{
	uint8_t d[DS];
	uint64_t c;
	int r;

	for (c = first; c <= last; c++) {
		REQUIRE(!vf_sha256(vol + c * CS, CS, d));
		r = vf_dstore_digest_cb(c, d, DS, s);
		if (r)
			return r;
	}
	return 0;
}

static void full_root(uint8_t out[DS])
{
	static uint8_t leaves[N * DS];
	struct vf_merkle *t;
	int i;

	for (i = 0; i < N; i++)
		REQUIRE(!vf_sha256(vol + (size_t)i * CS, CS, leaves + i * DS));
	REQUIRE(!vf_merkle_build(leaves, N, &t));
	memcpy(out, vf_merkle_root(t), DS);
	vf_merkle_free(t);
}

static void test_memory(void)
{
	struct vf_dstore s, c;
	uint8_t r1[DS], r2[DS], want[DS], nodes[16 * DS], d[DS];
	size_t i;

	for (i = 0; i < sizeof(vol); i++)
		vol[i] = (i * 2654435761u) >> 13;
	CHECK_EQ(vf_dstore_init(&s, N, CS), 0);
	CHECK(!s.complete);
	CHECK_EQ(vf_dstore_levels(&s), 4);
	/* a full round: every chunk hashed */
	CHECK_EQ(dump(&s, 0, N - 1), 0);
	s.complete = true;
	CHECK_EQ(vf_dstore_root(&s, r1), 0);
	full_root(want);
	CHECK(!memcmp(r1, want, DS));

	/* a delta round on a copy: change 3 chunks, hash only those */
	CHECK_EQ(vf_dstore_copy(&c, &s), 0);
	vol[5 * CS] ^= 1;
	vol[200 * CS + 17] ^= 0x80;
	vol[299 * CS + 4095] ^= 2;
	CHECK_EQ(dump(&c, 5, 5), 0);
	CHECK_EQ(dump(&c, 200, 200), 0);
	CHECK_EQ(dump(&c, 299, 299), 0);
	CHECK_EQ(vf_dstore_root(&c, r2), 0);
	full_root(want);
	CHECK(!memcmp(r2, want, DS));
	CHECK(memcmp(r1, r2, DS));
	/* the committed store is untouched by the round's copy */
	CHECK_EQ(vf_dstore_root(&s, r2), 0);
	CHECK(!memcmp(r1, r2, DS));

	/* node queries: the root level, the chunks, the subtree of 5 */
	CHECK_EQ(vf_dstore_nodes(&c, 3, 0, 1, nodes), 0);
	CHECK(!memcmp(nodes, want, DS));
	CHECK_EQ(vf_dstore_nodes(&c, 0, 288, 12, nodes), 0);
	REQUIRE(!vf_sha256(vol + 299 * CS, CS, d));
	CHECK(!memcmp(nodes + 11 * DS, d, DS));
	CHECK(!memcmp(vf_dstore_get(&c, 299), d, DS));
	CHECK_EQ(vf_dstore_nodes(&c, 1, 0, 16, nodes), 0);
	/* out of range: chunk, node, level */
	CHECK_EQ(vf_dstore_nodes(&c, 0, 290, 11, nodes), -ERANGE);
	CHECK_EQ(vf_dstore_nodes(&c, 1, 19, 1, nodes), -ERANGE);
	CHECK_EQ(vf_dstore_nodes(&c, 4, 0, 1, nodes), -ERANGE);
	CHECK_EQ(vf_dstore_nodes(&c, 0, UINT64_MAX, 2, nodes), -ERANGE);
	CHECK(vf_dstore_get(&c, N) == NULL);
	/* a dump that names a chunk past the end, or a wrong digest size */
	CHECK_EQ(vf_dstore_digest_cb(N, d, DS, &c), -ERANGE);
	CHECK_EQ(vf_dstore_digest_cb(0, d, 20, &c), -EINVAL);
	CHECK_EQ(vf_dstore_digest_cb(0, d, 64, &c), -EINVAL);
	vf_dstore_free(&c);
	vf_dstore_free(&s);

	/* geometry the protocol refuses */
	CHECK_EQ(vf_dstore_init(&s, 10, 1000), -EINVAL);
	CHECK_EQ(vf_dstore_init(&s, 10, 1u << 20), -EINVAL);
	CHECK_EQ(vf_dstore_init(&s, (1ull << 32) + 1, CS), -EINVAL);
	/* the empty volume has a root too */
	CHECK_EQ(vf_dstore_init(&s, 0, CS), 0);
	CHECK(s.complete);
	CHECK_EQ(vf_dstore_root(&s, r1), 0);
	vf_dstore_free(&s);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static size_t read_file(const char *path, uint8_t *p, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	REQUIRE(fd >= 0);
	n = read(fd, p, cap);
	REQUIRE(n >= 0);
	close(fd);
	return n;
}

static void test_file(void)
{
	char dir[] = "/tmp/vf-dstore-XXXXXX", path[64], tmp[72];
	static uint8_t img[VF_DSTORE_HDR_LEN + (N + 1) * DS + 1];
	struct vf_dstore s, l;
	uint8_t r1[DS], r2[DS];
	size_t len;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vol.digests", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -ENOENT);

	CHECK_EQ(vf_dstore_init(&s, N, CS), 0);
	CHECK_EQ(vf_dstore_save(&s, path), -EINVAL);	/* incomplete */
	CHECK_EQ(dump(&s, 0, N - 1), 0);
	s.complete = true;
	s.round = 0x0102030405060708ull;
	CHECK_EQ(vf_dstore_save(&s, path), 0);
	CHECK(access(tmp, F_OK) != 0);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), 0);
	CHECK(l.complete && l.round == s.round);
	CHECK_EQ(vf_dstore_root(&s, r1), 0);
	CHECK_EQ(vf_dstore_root(&l, r2), 0);
	CHECK(!memcmp(r1, r2, DS));
	vf_dstore_free(&l);

	len = read_file(path, img, sizeof(img));
	CHECK_EQ(len, VF_DSTORE_HDR_LEN + (N + 1) * DS);
	CHECK(!memcmp(img, "VFDIGEST\1\0\0\0\0\x10\0\0\x2c\x01\0\0", 20));
	/* another geometry */
	CHECK_EQ(vf_dstore_load(&l, path, N + 1, CS), -EINVAL);
	CHECK_EQ(vf_dstore_load(&l, path, N, 2 * CS), -EINVAL);
	/* one flipped bit anywhere in the digests or the round */
	img[VF_DSTORE_HDR_LEN + 77 * DS + 3] ^= 4;
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -EBADMSG);
	img[VF_DSTORE_HDR_LEN + 77 * DS + 3] ^= 4;
	img[24] ^= 1;
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -EBADMSG);
	img[24] ^= 1;
	/* in the checksum itself */
	img[len - 1] ^= 1;
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -EBADMSG);
	img[len - 1] ^= 1;
	/* magic, version */
	img[0] = 'X';
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -EBADMSG);
	img[0] = 'V';
	img[8] = 2;
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -EBADMSG);
	img[8] = 1;
	/* truncated: in the header, in the digests; one byte too many */
	write_file(path, img, 20);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -ENODATA);
	write_file(path, img, len - 1);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -ENODATA);
	write_file(path, img, len + 1);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), -ENODATA);
	/* intact again */
	write_file(path, img, len);
	CHECK_EQ(vf_dstore_load(&l, path, N, CS), 0);
	vf_dstore_free(&l);
	vf_dstore_free(&s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_memory();
	test_file();
	return vf_check_done(__FILE__);
}
