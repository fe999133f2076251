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
	free(tl->first);
	free(tl->last);
	tl->ops = NULL;
	tl->errs = NULL;
	tl->first = NULL;
	tl->last = NULL;
	tl->n = 0;
	tl->cap = 0;
}

/* Grow *@a from @old to @cap zeroed elements. */
static int grow(uint32_t **a, size_t old, size_t cap)
{
	uint32_t *p = realloc(*a, cap * sizeof(*p));

	if (!p)
		return -ENOMEM;
	memset(p + old, 0, (cap - old) * sizeof(*p));
	*a = p;
	return 0;
}

/* Make bucket @b exist; -ERANGE past max_buckets. */
static int timeline_reach(struct timeline *tl, size_t b)
{
	size_t cap;

	if (b >= tl->max_buckets)
		return -ERANGE;
	if (b >= tl->cap) {
		cap = tl->cap ? tl->cap : 1024;
		while (cap <= b)
			cap *= 2;
		if (cap > tl->max_buckets)
			cap = tl->max_buckets;
		/* tl->cap grows only when all four did. */
		if (grow(&tl->ops, tl->cap, cap) ||
		    grow(&tl->errs, tl->cap, cap) ||
		    grow(&tl->first, tl->cap, cap) ||
		    grow(&tl->last, tl->cap, cap))
			return -ENOMEM;
		tl->cap = cap;
	}
	if (b >= tl->n)
		tl->n = b + 1;
	return 0;
}

int timeline_add(struct timeline *tl, uint64_t t_us, int err)
{
	size_t b = t_us / tl->width_us;
	uint32_t off = (uint32_t)(t_us % tl->width_us);
	int r;

	r = timeline_reach(tl, b);
	if (r) {
		tl->dropped++;
		return r;
	}
	if (err) {
		tl->errs[b]++;
		return 0;
	}
	if (!tl->ops[b] || off < tl->first[b])
		tl->first[b] = off;
	if (!tl->ops[b] || off > tl->last[b])
		tl->last[b] = off;
	tl->ops[b]++;
	return 0;
}

int timeline_set(struct timeline *tl, size_t b, uint32_t ops, uint32_t errs,
		 uint32_t first_off, uint32_t last_off)
{
	int r;

	if (first_off > last_off || last_off >= tl->width_us)
		return -EINVAL;
	r = timeline_reach(tl, b);
	if (r)
		return r;
	tl->ops[b] = ops;
	tl->errs[b] = errs;
	tl->first[b] = ops ? first_off : 0;
	tl->last[b] = ops ? last_off : 0;
	return 0;
}

int timeline_extend(struct timeline *tl, uint64_t t_us)
{
	size_t b = t_us / tl->width_us;

	if (t_us > tl->end_us)
		tl->end_us = t_us;
	if (!b)
		return 0;
	return timeline_reach(tl, b - 1);
}

size_t timeline_buckets(const struct timeline *tl)
{
	size_t n;

	if (!tl->end_us)
		return tl->n;
	n = (size_t)((tl->end_us + tl->width_us - 1) / tl->width_us);
	return n < tl->n ? n : tl->n;
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

/* End of the measurement: the closing time, else the buckets in use. */
static uint64_t timeline_end(const struct timeline *tl)
{
	return tl->end_us ? tl->end_us : (uint64_t)tl->n * tl->width_us;
}

double timeline_rate(const struct timeline *tl, uint64_t from_us,
		     uint64_t to_us, double *secs)
{
	uint64_t w = tl->width_us, end = timeline_end(tl);
	size_t from, to;
	double s;

	if (to_us > end)
		to_us = end;
	from = (size_t)((from_us + w - 1) / w);
	to = (size_t)(to_us / w);
	if (to > timeline_buckets(tl))
		to = timeline_buckets(tl);
	s = to > from ? (double)(to - from) * (double)w / 1e6 : 0.0;
	if (secs)
		*secs = s;
	return s > 0 ? (double)timeline_sum(tl, from, to) / s : 0.0;
}

int timeline_gap(const struct timeline *tl, uint64_t from_us, uint64_t to_us,
		 struct tl_gap *g)
{
	uint64_t w = tl->width_us, prev = 0, t, end = timeline_end(tl);
	bool have = false, found = false;
	size_t b, n = timeline_buckets(tl);

	memset(g, 0, sizeof(*g));
	for (b = 0; b < n; b++) {
		if (!tl->ops[b])
			continue;
		t = (uint64_t)b * w + tl->first[b];
		/* An interval [prev, t] that overlaps [from, to). */
		if (have && prev < to_us && t > from_us &&
		    t - prev > g->len_us) {
			g->len_us = t - prev;
			g->start_us = prev;
		}
		/* A completion inside the window: the answer is defined. */
		if ((t >= from_us && t < to_us) ||
		    (have && prev < to_us && t > from_us))
			found = true;
		prev = (uint64_t)b * w + tl->last[b];
		if (prev >= from_us && prev < to_us)
			found = true;
		have = true;
	}
	if (have && end > prev && prev < to_us && end > from_us) {
		found = true;
		if (end - prev > g->len_us) {
			g->len_us = end - prev;
			g->start_us = prev;
			g->at_end = true;
		}
	}
	return found ? 0 : -ENODATA;
}
