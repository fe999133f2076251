/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_rand.h - splitmix64, the seeded generator of kv-faulty and the kv
 * tests (repeatable runs, not for anything security related).
 */
#ifndef KV_RAND_H
#define KV_RAND_H

#include <stdint.h>

static inline uint64_t kv_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif /* KV_RAND_H */
