// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats-test.c - unit test of vmfit-bench's pure parts: histogram bins and
 * percentiles, timeline buckets, record ownership and values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "vf_check.h"
#include "workload.h"

static void test_bins(void)
{
	uint64_t v, prev_hi = 0;
	unsigned int i, b;

	/* Bins tile the value range without gaps or overlaps. */
	CHECK_EQ(hist_bin_lo(0), 0);
	for (i = 1; i < HIST_BINS; i++) {
		CHECK_EQ(hist_bin_lo(i), prev_hi + 1);
		CHECK(hist_bin_hi(i) >= hist_bin_lo(i));
		prev_hi = hist_bin_hi(i);
		if (vf_check_failed)
			return;
	}
	CHECK_EQ(prev_hi, (1ull << HIST_MAX_EXP) - 1);
	/* Every value maps into the bin that contains it; error < 1/128. */
	for (v = 0; v < (1ull << 36); v = v * 3 / 2 + 1) {
		b = hist_bin(v);
		CHECK(hist_bin_lo(b) <= v && v <= hist_bin_hi(b));
		CHECK((hist_bin_hi(b) - hist_bin_lo(b)) * HIST_SUB <= v + 1);
	}
	CHECK_EQ(hist_bin(127), 127);
	CHECK_EQ(hist_bin(128), 128);
	CHECK_EQ(hist_bin(UINT64_MAX), HIST_BINS - 1);
	CHECK_EQ(hist_bin(1ull << HIST_MAX_EXP), HIST_BINS - 1);
}

static void test_percentiles(void)
{
	struct hist *h = malloc(sizeof(*h)), *g = malloc(sizeof(*g));
	uint64_t i, p;

	hist_init(h);
	CHECK_EQ(hist_percentile(h, 50), 0);
	CHECK(hist_mean(h) == 0.0);

	/* 1..1000 us: exact below 128, within 1/128 above. */
	for (i = 1; i <= 1000; i++)
		hist_add(h, i);
	CHECK_EQ(h->count, 1000);
	CHECK_EQ(h->min, 1);
	CHECK_EQ(h->max, 1000);
	CHECK(hist_mean(h) == 500.5);
	CHECK_EQ(hist_percentile(h, 10), 100);
	p = hist_percentile(h, 50);
	CHECK(p >= 500 && p <= 500 + 500 / 128 + 1);
	p = hist_percentile(h, 99);
	CHECK(p >= 990 && p <= 990 + 990 / 128 + 1);
	CHECK_EQ(hist_percentile(h, 100), 1000);
	CHECK_EQ(hist_percentile(h, 0.0001), 1);

	/* A single sample: every percentile is that sample (clamped). */
	hist_init(g);
	hist_add(g, 123456);
	CHECK_EQ(hist_percentile(g, 1), 123456);
	CHECK_EQ(hist_percentile(g, 50), 123456);
	CHECK_EQ(hist_percentile(g, 99.9), 123456);

	/* Skewed: 99 fast and 1 slow: p99 fast, p100 slow. */
	hist_init(g);
	for (i = 0; i < 99; i++)
		hist_add(g, 1000);
	hist_add(g, 5000000);
	p = hist_percentile(g, 99);
	CHECK(p >= 1000 && p < 1010);
	CHECK_EQ(hist_percentile(g, 99.5), 5000000);

	/* Merge adds counts and keeps min/max. */
	hist_merge(g, h);
	CHECK_EQ(g->count, 1100);
	CHECK_EQ(g->min, 1);
	CHECK_EQ(g->max, 5000000);
	free(h);
	free(g);
}

static void test_timeline(void)
{
	struct timeline tl;

	CHECK_EQ(timeline_init(&tl, 0, 10), (uint64_t)-EINVAL);
	CHECK_EQ(timeline_init(&tl, 10000, 5000), 0);
	CHECK_EQ(timeline_add(&tl, 0, 0), 0);
	CHECK_EQ(timeline_add(&tl, 9999, 0), 0);
	CHECK_EQ(timeline_add(&tl, 10000, 0), 0);
	CHECK_EQ(timeline_add(&tl, 25000, 1), 0);
	CHECK_EQ(tl.n, 3);
	CHECK_EQ(tl.ops[0], 2);
	CHECK_EQ(tl.ops[1], 1);
	CHECK_EQ(tl.ops[2], 0);
	CHECK_EQ(tl.errs[2], 1);
	CHECK_EQ(timeline_sum(&tl, 0, 3), 3);
	CHECK_EQ(timeline_sum(&tl, 1, 100), 1);
	/* Growth past the initial allocation keeps earlier buckets. */
	CHECK_EQ(timeline_add(&tl, 30000000, 0), 0);
	CHECK_EQ(tl.n, 3001);
	CHECK_EQ(tl.ops[0], 2);
	CHECK_EQ(tl.ops[3000], 1);
	CHECK_EQ(timeline_sum(&tl, 3, 3000), 0);
	/* extend: the buckets before t exist, empty. */
	CHECK_EQ(timeline_extend(&tl, 40000000), 0);
	CHECK_EQ(tl.n, 4000);
	CHECK_EQ(tl.ops[3999], 0);
	/* Past the bound: counted as dropped, nothing written. */
	CHECK_EQ(timeline_add(&tl, 50000000, 0), (uint64_t)-ERANGE);
	CHECK_EQ(tl.dropped, 1);
	CHECK_EQ(tl.n, 4000);
	timeline_free(&tl);
}

static void test_workload(void)
{
	uint8_t a[256], b[256];
	uint32_t c, k, total = 0, seen[1000] = { 0 };
	uint64_t s = wl_seed(1, 2), t = wl_seed(1, 3);

	/* Ownership partitions the records: each owned exactly once. */
	for (c = 0; c < 7; c++) {
		for (k = 0; k < wl_owned(1000, 7, c); k++) {
			uint32_t r = wl_owned_record(7, c, k);

			CHECK(r < 1000);
			CHECK_EQ(r % 7, c);
			if (r < 1000)
				seen[r]++;
			total++;
		}
	}
	CHECK_EQ(total, 1000);
	for (k = 0; k < 1000; k++)
		CHECK_EQ(seen[k], 1);
	CHECK_EQ(wl_owned(5, 7, 6), 0);
	CHECK_EQ(wl_owned(5, 7, 4), 1);
	CHECK_EQ(wl_owned(5, 0, 0), 0);

	/* Values: deterministic, distinct per (rec, ver, cid), prefix-stable. */
	wl_value(a, sizeof(a), 3, 1, 42);
	wl_value(b, sizeof(b), 3, 1, 42);
	CHECK(!memcmp(a, b, sizeof(a)));
	wl_value(b, sizeof(b), 3, 2, 42);
	CHECK(memcmp(a, b, sizeof(a)));
	wl_value(b, sizeof(b), 4, 1, 42);
	CHECK(memcmp(a, b, sizeof(a)));
	wl_value(b, sizeof(b), 3, 1, 43);
	CHECK(memcmp(a, b, sizeof(a)));
	CHECK_EQ(a[0], 3);
	CHECK_EQ(a[4], 1);
	CHECK_EQ(a[12], 42);
	wl_value(b, 7, 3, 1, 42);
	CHECK(!memcmp(a, b, 7));
	wl_value(b, 21, 3, 1, 42);
	CHECK(!memcmp(a, b, 21));

	/* Generators: non-zero state, distinct streams. */
	CHECK(s != 0 && t != 0);
	CHECK(wl_rand(&s) != wl_rand(&t));
}

int main(void)
{
	test_bins();
	test_percentiles();
	test_timeline();
	test_workload();
	return vf_check_done("vmfit-bench-stats");
}
