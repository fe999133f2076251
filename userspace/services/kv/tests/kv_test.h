/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_test.h - a seeded PRNG and op generator for the kv unit tests; the
 * assertions are tests/unit/vf_check.h.
 */
#ifndef KV_TEST_H
#define KV_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kv_op.h"
#include "../kv_rand.h"
#include "vf_check.h"

static inline uint32_t kv_rand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(kv_rand(s) % n);
}

/*
 * Generate one random op into @op: mostly valid GETs and PUTs of random
 * values on keys below @nkeys (which may exceed the record count), plus
 * too-big PUTs, out-of-range keys, mangled and random garbage.
 */
static inline size_t kv_test_gen_op(uint64_t *seed,
				    const struct kv_limits *lim,
				    uint8_t *op, uint32_t nkeys)
{
	static uint8_t val[KV_MAX_OP];
	uint32_t key = kv_rand_below(seed, nkeys), len, i, kind;
	int n;

	kind = kv_rand_below(seed, 100);
	if (kind < 40) {
		n = kv_req_encode(op, KV_MAX_OP, KV_OP_GET, key, NULL, 0);
	} else if (kind < 85) {
		len = kv_rand_below(seed, lim->record_size + 1);
		for (i = 0; i < len; i++)
			val[i] = kv_rand(seed);
		n = kv_req_encode(op, KV_MAX_OP, KV_OP_PUT, key, val, len);
	} else if (kind < 88) {	/* too big */
		len = lim->record_size + 1 + kv_rand_below(seed, 8);
		memset(val, 'T', len);
		n = kv_req_encode(op, KV_MAX_OP, KV_OP_PUT, key, val, len);
	} else if (kind < 91) {	/* key out of range */
		n = kv_req_encode(op, KV_MAX_OP, KV_OP_GET,
				  lim->records + kv_rand_below(seed, 5),
				  NULL, 0);
	} else {		/* garbage, sometimes a mangled valid op */
		n = kv_req_encode(op, KV_MAX_OP, KV_OP_PUT, key, "abc", 3);
		if (kind < 95) {
			op[kv_rand_below(seed, n)] ^= 1 +
				kv_rand_below(seed, 255);
		} else {
			n = kv_rand_below(seed, 40);
			for (i = 0; i < (uint32_t)n; i++)
				op[i] = kv_rand(seed);
		}
	}
	REQUIRE(n >= 0);
	return n;
}

#endif /* KV_TEST_H */
