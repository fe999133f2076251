/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_crc - table-driven reflected CRCs, streaming: start with @crc 0 and
 * pass each result on with the next piece of data, so that
 * vf_crc32c(vf_crc32c(0, "1234", 4), "56789", 5) is the CRC of
 * "123456789". Needs nothing beyond libc (the kv state code links it
 * without libcrypto).
 *
 *   vf_crc32c     CRC-32C (Castagnoli, reflected polynomial 0x82F63B78):
 *                 dm-vmfit's "crc32c" chunk checksum (vf_csum), the kv
 *                 state headers
 *   vf_crc64_xz   CRC-64/XZ (ECMA-182, reflected): the kv journal's data
 */
#ifndef VF_CRC_H
#define VF_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t vf_crc32c(uint32_t crc, const void *data, size_t len);
uint64_t vf_crc64_xz(uint64_t crc, const void *data, size_t len);

#endif /* VF_CRC_H */
