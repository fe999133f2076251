// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-csum-test - the checksum algorithms' names and sizes, and the
 * reference digests of userspace/lib/vf_csum.c and the CRCs of vf_crc.c
 * against published test vectors (RFC 7693, RFC 3720 and the algorithms'
 * reference outputs), so that the kernel tests that compare dm-vmfit's
 * digests with them compare against something right.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "uapi/linux/dm-vmfit.h"
#include "vf_check.h"
#include "vf_crc.h"
#include "vf_csum.h"

static void hexs(char *out, const uint8_t *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static const char *digest_hex(uint32_t algo, const void *data, size_t len)
{
	static char buf[2 * VMFIT_DIGEST_MAX + 1];
	uint8_t d[VMFIT_DIGEST_MAX];
	int n = vf_csum_digest(algo, data, len, d);

	if (n < 0)
		return "error";
	hexs(buf, d, n);
	return buf;
}

static void test_names(void)
{
	uint32_t a = 0;

	CHECK_EQ(vf_csum_algo_parse("sha256", &a), 0);
	CHECK_EQ(a, VMFIT_CSUM_SHA256);
	CHECK_EQ(vf_csum_algo_parse("crc32c", &a), 0);
	CHECK_EQ(a, VMFIT_CSUM_CRC32C);
	CHECK_EQ(vf_csum_algo_parse("md5", &a), -EINVAL);
	CHECK_EQ(vf_csum_algo_parse("", &a), -EINVAL);
	CHECK_EQ(vf_csum_algo_size(VMFIT_CSUM_BLAKE2B_256), 32);
	CHECK_EQ(vf_csum_algo_size(VMFIT_CSUM_XXHASH64), 8);
	CHECK_EQ(vf_csum_algo_size(0), 0);
	CHECK_EQ(vf_csum_algo_size(VMFIT_CSUM_MAX + 1), 0);
	CHECK(vf_csum_algo_name(0) == NULL);
	CHECK_STR(vf_csum_algo_name(VMFIT_CSUM_BLAKE2B_256), "blake2b-256");
}

/*
 * vf_crc's CRCs: the catalogue's check values (CRC of "123456789"), whole
 * and streamed in pieces, and RFC 3720's CRC-32C examples (B.4: 32 bytes
 * of zeros, of ones, ascending), which go through every table index.
 */
static void test_crc(void)
{
	uint8_t b[32];
	int i;

	CHECK(vf_crc32c(0, "", 0) == 0);
	CHECK(vf_crc32c(0, "123456789", 9) == 0xE3069283u);
	CHECK(vf_crc32c(vf_crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u);
	memset(b, 0, sizeof(b));
	CHECK(vf_crc32c(0, b, sizeof(b)) == 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	CHECK(vf_crc32c(0, b, sizeof(b)) == 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	CHECK(vf_crc32c(0, b, sizeof(b)) == 0x46DD794Eu);
	CHECK(vf_crc64_xz(0, "", 0) == 0);
	CHECK(vf_crc64_xz(0, "123456789", 9) == 0x995DC9BBDF1939FAull);
	CHECK(vf_crc64_xz(vf_crc64_xz(0, "1234", 4), "56789", 5) ==
	      0x995DC9BBDF1939FAull);
}

int main(void)
{
	static uint8_t big[1280];
	const char *spam = "Nobody inspects the spammish repetition";
	uint8_t d[32];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = i & 0xff;

	/* BLAKE2b-256: "abc" from RFC 7693's parameters, empty, multi-block. */
	CHECK_STR(digest_hex(VMFIT_CSUM_BLAKE2B_256, "abc", 3),
		  "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	CHECK_STR(digest_hex(VMFIT_CSUM_BLAKE2B_256, "", 0),
		  "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
	CHECK_STR(digest_hex(VMFIT_CSUM_BLAKE2B_256, big, sizeof(big)),
		  "82628cbfc9689e234b0923a531f4578fe2e7138a03e2f81ed6cde97517336650");
	CHECK_STR(digest_hex(VMFIT_CSUM_BLAKE2B_256, big, 1000),
		  "c636324d47d89f2b2434dc2c994100663fbbaea880ff020fc5de89dd0f77a1ec");
	/* 64-byte output is the classic BLAKE2b-512 of "abc" (RFC 7693 A). */
	{
		uint8_t d64[64];
		char h[129];

		vf_csum_blake2b("abc", 3, d64, 64);
		hexs(h, d64, 64);
		CHECK_STR(h, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
			  "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
	}

	/* XXH64, seed 0; the kernel returns it little-endian. */
	CHECK(vf_csum_xxh64("", 0, 0) == 0xEF46DB3751D8E999ULL);
	CHECK(vf_csum_xxh64("a", 1, 0) == 0xD24EC4F1A98C6E5BULL);
	CHECK(vf_csum_xxh64("abc", 3, 0) == 0x44BC2CF5AD770999ULL);
	CHECK(vf_csum_xxh64(spam, strlen(spam), 0) == 0xFBCEA83C8A378BF1ULL);
	CHECK_STR(digest_hex(VMFIT_CSUM_XXHASH64, "", 0), "99e9d85137db46ef");

	/* CRC-32C (vf_crc, test_crc()); little-endian in the digest. */
	CHECK_STR(digest_hex(VMFIT_CSUM_CRC32C, "123456789", 9), "839206e3");

	/* SHA-256 through libcrypto. */
	CHECK_STR(digest_hex(VMFIT_CSUM_SHA256, "abc", 3),
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	CHECK_EQ(vf_csum_digest(0, "", 0, d), -22);
	CHECK_EQ(vf_csum_digest(VMFIT_CSUM_MAX + 1, "", 0, d), -22);
	test_names();
	test_crc();
	return vf_check_done("vf-csum-test");
}
