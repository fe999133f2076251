/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * workload.h - the client emulator's pure workload logic: per-client
 * random numbers, record ownership for --verify, and the value a given
 * write stores (so that a reader can tell exactly what it must get back).
 */
#ifndef VMFIT_BENCH_WORKLOAD_H
#define VMFIT_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64*: small, fast, good enough for picking keys and op types. */
static inline uint64_t wl_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A non-zero generator state derived from @seed and @stream. */
uint64_t wl_seed(uint64_t seed, uint64_t stream);

/*
 * Single writer per record: client @c of @nclients owns the records
 * r < @records with r % nclients == c. wl_owned() counts them;
 * wl_owned_record() returns the @k-th (k < wl_owned()).
 */
uint32_t wl_owned(uint32_t records, uint32_t nclients, uint32_t c);
uint32_t wl_owned_record(uint32_t nclients, uint32_t c, uint32_t k);

/*
 * The @size bytes that client @cid stores in record @rec as its version
 * @ver (ver >= 1): a 20-byte header (le32 rec, le64 ver, le64 cid) followed
 * by a pseudo-random stream seeded by the three, truncated to @size. Two
 * different (rec, ver, cid) give different values whenever @size >= 20.
 */
void wl_value(uint8_t *buf, size_t size, uint32_t rec, uint64_t ver,
	      uint64_t cid);

#endif /* VMFIT_BENCH_WORKLOAD_H */
