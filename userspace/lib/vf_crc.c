// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_crc - table-driven reflected CRC-32C and CRC-64/XZ (see vf_crc.h).
 * The tables are computed once, on first use, from any thread.
 */
#include <pthread.h>

#include "vf_crc.h"

#define CRC32C_POLY	0x82F63B78u
#define CRC64_XZ_POLY	0xC96C5795D7870F42ull

static uint32_t crc32c_table[256];
static uint64_t crc64_xz_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	uint32_t i, c32;
	uint64_t c64;
	int k;

	for (i = 0; i < 256; i++) {
		c32 = i;
		c64 = i;
		for (k = 0; k < 8; k++) {
			c32 = (c32 >> 1) ^ (CRC32C_POLY & -(c32 & 1));
			c64 = (c64 >> 1) ^ (CRC64_XZ_POLY & -(c64 & 1));
		}
		crc32c_table[i] = c32;
		crc64_xz_table[i] = c64;
	}
}

uint32_t vf_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&tables_once, tables_init);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t vf_crc64_xz(uint64_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&tables_once, tables_init);
	crc = ~crc;
	while (len--)
		crc = crc64_xz_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
