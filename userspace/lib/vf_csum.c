// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_csum - dm-vmfit's checksum algorithms: names, sizes, and reference
 * BLAKE2b and XXH64 (see vf_csum.h). Plain and slow on purpose: clarity
 * over speed, as they check the kernel. CRC-32C is vf_crc's.
 */
#include <errno.h>
#include <string.h>

#include "vf_csum.h"
#include "vf_crc.h"
#include "uapi/linux/dm-vmfit.h"
#include "vf_sha256.h"

static const char *const algo_names[] = {
	[VMFIT_CSUM_SHA256] = "sha256",
	[VMFIT_CSUM_BLAKE2B_256] = "blake2b-256",
	[VMFIT_CSUM_XXHASH64] = "xxhash64",
	[VMFIT_CSUM_CRC32C] = "crc32c",
};

static const unsigned int algo_sizes[] = {
	[VMFIT_CSUM_SHA256] = 32,
	[VMFIT_CSUM_BLAKE2B_256] = 32,
	[VMFIT_CSUM_XXHASH64] = 8,
	[VMFIT_CSUM_CRC32C] = 4,
};

const char *vf_csum_algo_name(uint32_t algo)
{
	if (algo == VMFIT_CSUM_UNSPEC || algo > VMFIT_CSUM_MAX)
		return NULL;
	return algo_names[algo];
}

unsigned int vf_csum_algo_size(uint32_t algo)
{
	if (algo == VMFIT_CSUM_UNSPEC || algo > VMFIT_CSUM_MAX)
		return 0;
	return algo_sizes[algo];
}

int vf_csum_algo_parse(const char *s, uint32_t *algo)
{
	uint32_t a;

	for (a = VMFIT_CSUM_SHA256; a <= VMFIT_CSUM_MAX; a++) {
		if (!strcmp(s, algo_names[a])) {
			*algo = a;
			return 0;
		}
	}
	return -EINVAL;
}

/*----------------------------------------------------------------*/
/* BLAKE2b, RFC 7693 */

static const uint64_t b2b_iv[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL,
	0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
	0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
	0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t b2b_sigma[12][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

static uint64_t rotr64(uint64_t x, unsigned int n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void b2b_g(uint64_t *v, int a, int b, int c, int d, uint64_t x,
		  uint64_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = rotr64(v[d] ^ v[a], 32);
	v[c] = v[c] + v[d];
	v[b] = rotr64(v[b] ^ v[c], 24);
	v[a] = v[a] + v[b] + y;
	v[d] = rotr64(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = rotr64(v[b] ^ v[c], 63);
}

static void b2b_compress(uint64_t *h, const uint8_t *block, uint64_t t,
			 int last)
{
	uint64_t v[16], m[16];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = load_le64(block + 8 * i);
	for (i = 0; i < 8; i++) {
		v[i] = h[i];
		v[i + 8] = b2b_iv[i];
	}
	v[12] ^= t;	/* the counter's high word stays 0 below 2^64 bytes */
	if (last)
		v[14] = ~v[14];
	for (i = 0; i < 12; i++) {
		const uint8_t *s = b2b_sigma[i];

		b2b_g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
		b2b_g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
		b2b_g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
		b2b_g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
		b2b_g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
		b2b_g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
		b2b_g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
		b2b_g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (i = 0; i < 8; i++)
		h[i] ^= v[i] ^ v[i + 8];
}

void vf_csum_blake2b(const void *data, size_t len, uint8_t *out,
		     size_t outlen)
{
	const uint8_t *p = data;
	uint8_t block[128];
	uint64_t h[8];
	uint64_t t = 0;
	size_t i;

	memcpy(h, b2b_iv, sizeof(h));
	h[0] ^= 0x01010000ULL ^ outlen;	/* no key, fan-out 1, depth 1 */
	while (len > 128) {
		t += 128;
		b2b_compress(h, p, t, 0);
		p += 128;
		len -= 128;
	}
	memset(block, 0, sizeof(block));
	memcpy(block, p, len);
	t += len;
	b2b_compress(h, block, t, 1);
	for (i = 0; i < outlen; i++)
		out[i] = h[i / 8] >> (8 * (i % 8));
}

/*----------------------------------------------------------------*/
/* XXH64 */

#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, unsigned int n)
{
	return (x << n) | (x >> (64 - n));
}

static uint64_t xxh64_round(uint64_t acc, uint64_t in)
{
	acc += in * P64_2;
	acc = rotl64(acc, 31);
	return acc * P64_1;
}

static uint64_t xxh64_merge(uint64_t acc, uint64_t val)
{
	acc ^= xxh64_round(0, val);
	return acc * P64_1 + P64_4;
}

uint64_t vf_csum_xxh64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data, *end = p + len;
	uint64_t h, v1, v2, v3, v4;
	uint32_t w;

	if (len >= 32) {
		v1 = seed + P64_1 + P64_2;
		v2 = seed + P64_2;
		v3 = seed;
		v4 = seed - P64_1;
		do {
			v1 = xxh64_round(v1, load_le64(p));
			v2 = xxh64_round(v2, load_le64(p + 8));
			v3 = xxh64_round(v3, load_le64(p + 16));
			v4 = xxh64_round(v4, load_le64(p + 24));
			p += 32;
		} while (p + 32 <= end);
		h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) +
		    rotl64(v4, 18);
		h = xxh64_merge(h, v1);
		h = xxh64_merge(h, v2);
		h = xxh64_merge(h, v3);
		h = xxh64_merge(h, v4);
	} else {
		h = seed + P64_5;
	}
	h += len;
	while (p + 8 <= end) {
		h ^= xxh64_round(0, load_le64(p));
		h = rotl64(h, 27) * P64_1 + P64_4;
		p += 8;
	}
	if (p + 4 <= end) {
		w = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		h ^= (uint64_t)w * P64_1;
		h = rotl64(h, 23) * P64_2 + P64_3;
		p += 4;
	}
	while (p < end) {
		h ^= (*p++) * P64_5;
		h = rotl64(h, 11) * P64_1;
	}
	h ^= h >> 33;
	h *= P64_2;
	h ^= h >> 29;
	h *= P64_3;
	h ^= h >> 32;
	return h;
}

/*----------------------------------------------------------------*/

static void store_le(uint8_t *out, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		out[i] = v >> (8 * i);
}

int vf_csum_digest(uint32_t algo, const void *data, size_t len,
		   uint8_t *out)
{
	switch (algo) {
	case VMFIT_CSUM_SHA256:
		return vf_sha256(data, len, out) ? -EIO : 32;
	case VMFIT_CSUM_BLAKE2B_256:
		vf_csum_blake2b(data, len, out, 32);
		return 32;
	case VMFIT_CSUM_XXHASH64:
		store_le(out, vf_csum_xxh64(data, len, 0), 8);
		return 8;
	case VMFIT_CSUM_CRC32C:
		store_le(out, vf_crc32c(0, data, len), 4);
		return 4;
	default:
		return -EINVAL;
	}
}
