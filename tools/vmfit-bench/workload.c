// SPDX-License-Identifier: GPL-2.0-only
/*
 * workload.c - see workload.h.
 */
#include <string.h>

#include "workload.h"

/* splitmix64 finaliser: spreads nearby seeds over the whole state space. */
static uint64_t wl_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t wl_seed(uint64_t seed, uint64_t stream)
{
	uint64_t s = wl_mix(seed ^ wl_mix(stream));

	return s ? s : 0x853c49e6748fea9bull;
}

uint32_t wl_owned(uint32_t records, uint32_t nclients, uint32_t c)
{
	if (!nclients || c >= records)
		return 0;
	return (records - c + nclients - 1) / nclients;
}

uint32_t wl_owned_record(uint32_t nclients, uint32_t c, uint32_t k)
{
	return c + nclients * k;
}

static void wl_put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void wl_value(uint8_t *buf, size_t size, uint32_t rec, uint64_t ver,
	      uint64_t cid)
{
	uint8_t hdr[20];
	uint64_t s, x;
	size_t off, n;

	wl_put64(hdr, rec);	/* le32 rec: the next put overwrites the rest */
	wl_put64(hdr + 4, ver);
	wl_put64(hdr + 12, cid);
	n = size < sizeof(hdr) ? size : sizeof(hdr);
	memcpy(buf, hdr, n);
	s = wl_seed(cid ^ wl_mix(ver), rec);
	for (off = n; off < size; off += 8) {
		x = wl_rand(&s);
		n = size - off < 8 ? size - off : 8;
		memcpy(buf + off, &x, n);
	}
}
