/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmtest-block.h - the self-describing 4 KiB block of the kernel tests,
 * shared by vmtest-io and vmfit-crash.
 *
 * A block holds a header (magic, seed, block number, generation) and a
 * body derived from them, so a reader can tell which write, if any, a
 * block holds, and a block copied to the wrong place (or a torn or stale
 * one) is recognised as such.
 */
#ifndef VMTEST_BLOCK_H
#define VMTEST_BLOCK_H

#include <stdint.h>
#include <string.h>

#define VMTEST_BLK 4096
#define VMTEST_BLK_WORDS (VMTEST_BLK / 8)
#define VMTEST_BLOCK_MAGIC 0x766d746573746231ULL /* "vmtestb1" */

static inline uint64_t vmtest_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline void vmtest_make_block(uint64_t *b, uint64_t seed,
				     uint64_t blkno, uint64_t gen)
{
	uint64_t s = vmtest_mix(seed ^ vmtest_mix(blkno ^ vmtest_mix(gen)));
	unsigned int i;

	b[0] = VMTEST_BLOCK_MAGIC;
	b[1] = seed;
	b[2] = blkno;
	b[3] = gen;
	for (i = 4; i < VMTEST_BLK_WORDS; i++)
		b[i] = vmtest_mix(s + i);
}

/*
 * Which write a block holds: 0 and *@blkno, *@gen of the block it claims to
 * be when header and body agree (for @seed), -1 when it is not a block of
 * ours at all (zeros, garbage, torn).
 */
static inline int vmtest_block_decode(const uint64_t *b, uint64_t seed,
				      uint64_t *blkno, uint64_t *gen)
{
	uint64_t s;
	unsigned int i;

	if (b[0] != VMTEST_BLOCK_MAGIC || b[1] != seed)
		return -1;
	s = vmtest_mix(seed ^ vmtest_mix(b[2] ^ vmtest_mix(b[3])));
	for (i = 4; i < VMTEST_BLK_WORDS; i++)
		if (b[i] != vmtest_mix(s + i))
			return -1;
	*blkno = b[2];
	*gen = b[3];
	return 0;
}

/* True when all of the block is zero. */
static inline int vmtest_block_is_zero(const uint64_t *b)
{
	unsigned int i;

	for (i = 0; i < VMTEST_BLK_WORDS; i++)
		if (b[i])
			return 0;
	return 1;
}

#endif /* VMTEST_BLOCK_H */
