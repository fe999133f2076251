/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * csum_ref - userspace reference implementations of dm-vmfit's checksum
 * algorithms, written from their specifications, to check the kernel's
 * digests independently: BLAKE2b (RFC 7693) with a 32-byte output,
 * XXH64 (seed 0) and CRC-32C (Castagnoli). SHA-256 comes from libcrypto.
 * Output bytes are as the kernel's crypto API returns them (XXH64 and
 * CRC-32C as little-endian integers).
 */
#ifndef CSUM_REF_H
#define CSUM_REF_H

#include <stddef.h>
#include <stdint.h>

void csum_ref_blake2b(const void *data, size_t len, uint8_t *out,
		      size_t outlen);
uint64_t csum_ref_xxh64(const void *data, size_t len, uint64_t seed);
uint32_t csum_ref_crc32c(const void *data, size_t len);

/*
 * Digest of @len bytes with a uapi algorithm (enum vmfit_csum_algo) into
 * @out; returns the digest size, or -EINVAL for an unknown algorithm.
 */
int csum_ref_digest(uint32_t algo, const void *data, size_t len,
		    uint8_t *out);

#endif /* CSUM_REF_H */
