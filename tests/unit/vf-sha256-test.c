// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-sha256-test - libvmfit's one SHA-256, checked against FIPS 180-2
 * vectors, and seen through its three users linked into one program: the
 * voter's reply digest, the Merkle tree's nodes and the sha256 chunk
 * checksum. (Two definitions of vf_sha256 would not link here.)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "uapi/linux/dm-vmfit.h"
#include "vf_check.h"
#include "vf_csum.h"
#include "vf_merkle.h"
#include "vf_sha256.h"
#include "vf_voter.h"

static const char *hex(const uint8_t *d)
{
	static char buf[2 * VF_SHA256_LEN + 1];
	int i;

	for (i = 0; i < VF_SHA256_LEN; i++)
		sprintf(buf + 2 * i, "%02x", d[i]);
	return buf;
}

static const struct vf_voter_ops ops;

int main(void)
{
	static const char *const abc =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char *const two =
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	const char *msg2 =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[VF_SHA256_LEN], leaf[VF_SHA256_LEN];
	uint8_t c[VMFIT_DIGEST_MAX];
	struct vf_decision dec;
	struct vf_merkle *t;
	struct vf_voter *v;

	CHECK_EQ(vf_sha256("abc", 3, d), 0);
	CHECK_STR(hex(d), abc);
	CHECK_EQ(vf_sha256(msg2, strlen(msg2), d), 0);
	CHECK_STR(hex(d), two);
	CHECK_EQ(vf_sha256("", 0, d), 0);
	CHECK_STR(hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* The voter compares replies by their SHA-256. */
	v = vf_voter_new(0, 4, &ops, NULL);
	REQUIRE(v);
	CHECK_EQ(vf_voter_open(v, 1), 0);
	CHECK_EQ(vf_voter_add(v, 1, 1, (const uint8_t *)"abc", 3, &dec),
		 VF_VOTE_DECIDED);
	CHECK_STR(hex(dec.digest), abc);
	vf_voter_free(v);

	/* A Merkle root over one leaf is SHA-256(leaf). */
	memset(leaf, 0x5a, sizeof(leaf));
	CHECK_EQ(vf_sha256(leaf, sizeof(leaf), d), 0);
	REQUIRE(vf_merkle_build(leaf, 1, &t) == 0);
	CHECK(!memcmp(vf_merkle_root(t), d, VF_SHA256_LEN));
	vf_merkle_free(t);

	/* The sha256 chunk checksum is the same function. */
	CHECK_EQ(vf_csum_digest(VMFIT_CSUM_SHA256, "abc", 3, c), VF_SHA256_LEN);
	CHECK_STR(hex(c), abc);

	return vf_check_done("vf-sha256-test");
}
