// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats.c - latency histogram and throughput timeline of vmfit-bench.
 * See stats.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/*----------------------------------------------------------------*/
/* Histogram */

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int hist_bin(uint64_t v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	if (e >= HIST_MAX_EXP)
		return HIST_BINS - 1;
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

uint64_t hist_bin_lo(unsigned int i)
{
	unsigned int k, e;

	if (i < HIST_SUB)
		return i;
	k = i - HIST_SUB;
	e = HIST_SUB_BITS + k / HIST_SUB;
	return (uint64_t)(HIST_SUB + k % HIST_SUB) << (e - HIST_SUB_BITS);
}

uint64_t hist_bin_hi(unsigned int i)
{
	unsigned int e;

	if (i < HIST_SUB)
		return i;
	e = HIST_SUB_BITS + (i - HIST_SUB) / HIST_SUB;
	return hist_bin_lo(i) + ((uint64_t)1 << (e - HIST_SUB_BITS)) - 1;
}

void hist_add(struct hist *h, uint64_t v)
{
	h->bin[hist_bin(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < HIST_BINS; i++)
		dst->bin[i] += src->bin[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	if (pct >= 100.0)
		return h->max;
	if (pct <= 0.0)
		return h->min;
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BINS; i++) {
		seen += h->bin[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BINS)
		return h->max;
	v = hist_bin_hi(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/*----------------------------------------------------------------*/
/* Timeline */

int timeline_init(struct timeline *tl, uint64_t width_us, size_t max_buckets)
{
	memset(tl, 0, sizeof(*tl));
	if (!width_us || !max_buckets)
		return -EINVAL;
	tl->width_us = width_us;
	tl->max_buckets = max_buckets;
	return 0;
}

void timeline_free(struct timeline *tl)
{
	free(tl->ops);
	free(tl->errs);
	tl->ops = NULL;
	tl->errs = NULL;
	tl->n = 0;
	tl->cap = 0;
}

/* Make bucket @b exist; -ERANGE past max_buckets. */
static int timeline_reach(struct timeline *tl, size_t b)
{
	size_t cap;
	uint32_t *ops, *errs;

	if (b >= tl->max_buckets)
		return -ERANGE;
	if (b >= tl->cap) {
		cap = tl->cap ? tl->cap : 1024;
		while (cap <= b)
			cap *= 2;
		if (cap > tl->max_buckets)
			cap = tl->max_buckets;
		ops = realloc(tl->ops, cap * sizeof(*ops));
		if (!ops)
			return -ENOMEM;
		tl->ops = ops;
		errs = realloc(tl->errs, cap * sizeof(*errs));
		if (!errs)
			return -ENOMEM;
		tl->errs = errs;
		memset(tl->ops + tl->cap, 0, (cap - tl->cap) * sizeof(*ops));
		memset(tl->errs + tl->cap, 0, (cap - tl->cap) * sizeof(*errs));
		tl->cap = cap;
	}
	if (b >= tl->n)
		tl->n = b + 1;
	return 0;
}

int timeline_add(struct timeline *tl, uint64_t t_us, int err)
{
	size_t b = t_us / tl->width_us;
	int r;

	r = timeline_reach(tl, b);
	if (r) {
		tl->dropped++;
		return r;
	}
	if (err)
		tl->errs[b]++;
	else
		tl->ops[b]++;
	return 0;
}

int timeline_extend(struct timeline *tl, uint64_t t_us)
{
	size_t b = t_us / tl->width_us;

	if (!b)
		return 0;
	return timeline_reach(tl, b - 1);
}

uint64_t timeline_sum(const struct timeline *tl, size_t from, size_t to)
{
	uint64_t s = 0;
	size_t i;

	if (to > tl->n)
		to = tl->n;
	for (i = from; i < to; i++)
		s += tl->ops[i];
	return s;
}
