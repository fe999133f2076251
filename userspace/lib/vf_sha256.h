/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_sha256 - SHA-256 through libcrypto's EVP interface, for every user in
 * libvmfit (the voter's reply digests, the Merkle tree, the chunk
 * checksums). Link with -lcrypto.
 */
#ifndef VF_SHA256_H
#define VF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VF_SHA256_LEN 32

/* SHA-256 of @len bytes at @data into @out: 0, or -EIO if libcrypto fails. */
int vf_sha256(const void *data, size_t len, uint8_t out[VF_SHA256_LEN]);

#endif /* VF_SHA256_H */
