/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_csum - dm-vmfit's chunk checksum algorithms in userspace: their names
 * and digest sizes, and reference implementations written from their
 * specifications, to compute in userspace the digests the kernel computes
 * (vmfit-csum-ref checks the kernel with them; recovery compares a
 * replica's in-kernel chunk digests with digests taken here): BLAKE2b
 * (RFC 7693) with a 32-byte output and XXH64 (seed 0). SHA-256 comes
 * from libcrypto (vf_sha256.h), CRC-32C from vf_crc.h.
 * Output bytes are as the kernel's crypto API returns them (XXH64 and
 * CRC-32C as little-endian integers). Link with -lcrypto.
 */
#ifndef VF_CSUM_H
#define VF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* "sha256", "blake2b-256", "xxhash64", "crc32c"; NULL when unknown. */
const char *vf_csum_algo_name(uint32_t algo);
/* 0 and *@algo, or -EINVAL for an unknown name. */
int vf_csum_algo_parse(const char *s, uint32_t *algo);
/* Digest size of an algorithm, 0 when unknown. */
unsigned int vf_csum_algo_size(uint32_t algo);

void vf_csum_blake2b(const void *data, size_t len, uint8_t *out,
		     size_t outlen);
uint64_t vf_csum_xxh64(const void *data, size_t len, uint64_t seed);

/*
 * Digest of @len bytes with a uapi algorithm (enum vmfit_csum_algo) into
 * @out; returns the digest size, or -EINVAL for an unknown algorithm.
 */
int vf_csum_digest(uint32_t algo, const void *data, size_t len,
		   uint8_t *out);

#endif /* VF_CSUM_H */
