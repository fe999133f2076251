/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - the client emulator's pure accounting: a latency histogram with
 * bounded relative error and a throughput timeline in fixed-width buckets.
 *
 * No I/O, no global state; everything returns 0 or -errno.
 */
#ifndef VMFIT_BENCH_STATS_H
#define VMFIT_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Latency histogram (values in microseconds).
 *
 * Values below HIST_SUB are counted exactly. Above, each power-of-two
 * range [2^e, 2^(e+1)) is split into HIST_SUB equal bins, so a bin's width
 * is at most 1/HIST_SUB of its value: a percentile read from the histogram
 * is within 1/128 (0.8 %) of the true sample. Values at or above
 * 2^HIST_MAX_EXP us (about 12.7 days) land in the last bin.
 */
#define HIST_SUB_BITS	7
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_MAX_EXP	40
#define HIST_BINS	(HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t bin[HIST_BINS];
	uint64_t count;
	uint64_t sum;		/* of the recorded values, for the mean */
	uint64_t min;
	uint64_t max;
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* Add every sample of @src to @dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* Bin index of @v and the smallest / largest value of bin @i. */
unsigned int hist_bin(uint64_t v);
uint64_t hist_bin_lo(unsigned int i);
uint64_t hist_bin_hi(unsigned int i);
/*
 * The @pct-th percentile (0 < pct <= 100): the upper edge of the bin that
 * holds the sample of rank ceil(pct/100 * count), clamped to [min, max];
 * 0 when the histogram is empty.
 */
uint64_t hist_percentile(const struct hist *h, double pct);
double hist_mean(const struct hist *h);

/*
 * Throughput timeline: completions counted in buckets of @width_us,
 * starting at time 0 (the start of the measurement). The bucket array
 * grows as needed, up to @max_buckets; a completion past that is counted
 * in `dropped`. Each bucket also keeps the time of its first and last
 * completion, so that the longest interval without a completion is exact
 * at microsecond resolution whenever it is longer than a bucket (the gaps
 * between two completions of one bucket are not kept).
 */
struct timeline {
	uint64_t width_us;
	size_t max_buckets;
	size_t n;		/* buckets in use: last touched + 1 */
	size_t cap;
	uint32_t *ops;		/* completions per bucket */
	uint32_t *errs;		/* errors / failovers per bucket */
	uint32_t *first;	/* first completion, us into the bucket */
	uint32_t *last;		/* last completion, likewise */
	uint64_t end_us;	/* end of the measurement (timeline_extend) */
	uint64_t dropped;
};

int timeline_init(struct timeline *tl, uint64_t width_us, size_t max_buckets);
void timeline_free(struct timeline *tl);
/* Count one completion (or, with @err, one error) at time @t_us. */
int timeline_add(struct timeline *tl, uint64_t t_us, int err);
/* Close the timeline at @t_us: buckets up to it exist (possibly empty). */
int timeline_extend(struct timeline *tl, uint64_t t_us);
/*
 * Set bucket @b as a whole (reading a timeline back from a file): @ops
 * completions, the first and last @first_off/@last_off us after the
 * bucket's start (< width), @errs errors.
 */
int timeline_set(struct timeline *tl, size_t b, uint32_t ops, uint32_t errs,
		 uint32_t first_off, uint32_t last_off);
/*
 * Buckets of the measurement: up to the one holding its end
 * (timeline_extend), else all in use. Completions in later buckets (the
 * drain after the end) are in no rate, gap or file.
 */
size_t timeline_buckets(const struct timeline *tl);
/* Sum of completions in buckets [from, to). */
uint64_t timeline_sum(const struct timeline *tl, size_t from, size_t to);

/*
 * Completions per second in the whole buckets inside [@from_us, @to_us)
 * (clamped to the measurement: timeline_extend's end, else the buckets in
 * use); the number of seconds used in *@secs (may be NULL). 0 when no
 * whole bucket is inside.
 */
double timeline_rate(const struct timeline *tl, uint64_t from_us,
		     uint64_t to_us, double *secs);

/*
 * The longest interval without a completed request: between two
 * consecutive completions, or from the last completion to the end of the
 * measurement (a service that stopped answering); the ramp-up before the
 * first completion does not count. Only intervals that overlap
 * [@from_us, @to_us) are considered (0, UINT64_MAX: the whole run).
 */
struct tl_gap {
	uint64_t len_us;
	uint64_t start_us;	/* the completion it starts at */
	bool at_end;		/* it lasted until the end of the measurement */
};

/* 0, or -ENODATA when no interval qualifies (no completion at all). */
int timeline_gap(const struct timeline *tl, uint64_t from_us, uint64_t to_us,
		 struct tl_gap *g);

#endif /* VMFIT_BENCH_STATS_H */
