// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats-test.c - unit test of vmfit-bench's pure parts: histogram bins and
 * percentiles, timeline buckets, rates and longest gaps, the timeline files
 * (written and read back), record ownership and values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tlfile.h"
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

/* Completions at @n times (us) into a fresh 10 ms timeline closed at @end. */
static void tl_with(struct timeline *tl, const uint64_t *t, size_t n,
		    uint64_t end)
{
	size_t i;

	timeline_init(tl, 10000, 1u << 20);
	for (i = 0; i < n; i++)
		timeline_add(tl, t[i], 0);
	timeline_extend(tl, end);
}

static void test_gaps(void)
{
	/* 1 ms apart up to 100 ms, a 137.5 ms hole, then 1 ms apart again. */
	uint64_t t[400];
	struct timeline tl;
	struct tl_gap g;
	size_t n = 0, i;
	double secs;

	for (i = 0; i < 100; i++)
		t[n++] = 500 + i * 1000;		/* last: 99500 */
	for (i = 0; i < 200; i++)
		t[n++] = 237000 + i * 1000;		/* first: 237000 */
	tl_with(&tl, t, n, 437000);
	CHECK_EQ(tl.first[0], 500);
	CHECK_EQ(tl.last[9], 9500);
	CHECK_EQ(tl.first[23], 7000);

	/* Whole run: exactly the hole, not bucket-rounded. */
	CHECK_EQ(timeline_gap(&tl, 0, UINT64_MAX, &g), 0);
	CHECK_EQ(g.len_us, 137500);
	CHECK_EQ(g.start_us, 99500);
	CHECK(!g.at_end);
	/* A window inside the hole sees it; one after it sees 1 ms steps. */
	CHECK_EQ(timeline_gap(&tl, 150000, 160000, &g), 0);
	CHECK_EQ(g.len_us, 137500);
	CHECK_EQ(timeline_gap(&tl, 99500, 99501, &g), 0);
	CHECK_EQ(g.len_us, 137500);
	CHECK_EQ(timeline_gap(&tl, 300000, 400000, &g), 0);
	CHECK_EQ(g.len_us, 1000);
	/* Touching the hole's end (237 ms) is not overlapping it. */
	CHECK_EQ(timeline_gap(&tl, 237000, 300000, &g), 0);
	CHECK_EQ(g.len_us, 1000);
	/* Past the end of the measurement: nothing. */
	CHECK_EQ(timeline_gap(&tl, 500000, 600000, &g), -ENODATA);

	/* Rates: whole buckets inside the window. */
	CHECK(timeline_rate(&tl, 0, 100000, &secs) == 1000.0);
	CHECK(secs == 0.1);
	CHECK(timeline_rate(&tl, 0, UINT64_MAX, &secs) > 0);
	CHECK(secs == 0.43);	/* 43 whole buckets up to 437 ms */
	CHECK_EQ((uint64_t)timeline_rate(&tl, 100000, 230000, NULL), 0);
	CHECK(timeline_rate(&tl, 5000, 9999, &secs) == 0.0 && secs == 0.0);
	timeline_free(&tl);

	/* A service that stops answering: the gap runs to the end. */
	n = 0;
	for (i = 0; i < 50; i++)
		t[n++] = 1000 + i * 2000;		/* last: 99000 */
	tl_with(&tl, t, n, 2000000);
	CHECK_EQ(timeline_gap(&tl, 0, UINT64_MAX, &g), 0);
	CHECK_EQ(g.len_us, 1901000);
	CHECK(g.at_end);
	CHECK_EQ(timeline_gap(&tl, 1500000, 1600000, &g), 0);
	CHECK_EQ(g.len_us, 1901000);
	/* The ramp-up before the first completion is not a gap. */
	CHECK_EQ(timeline_gap(&tl, 0, 999, &g), -ENODATA);
	timeline_free(&tl);

	/* No completion at all. */
	tl_with(&tl, t, 0, 1000000);
	CHECK_EQ(timeline_gap(&tl, 0, UINT64_MAX, &g), -ENODATA);
	timeline_free(&tl);

	/* Out-of-order completions keep the bucket's true first and last. */
	tl_with(&tl, (uint64_t[]){ 5000, 2000, 8000, 3000 }, 4, 10000);
	CHECK_EQ(tl.first[0], 2000);
	CHECK_EQ(tl.last[0], 8000);
	timeline_free(&tl);
}

/* Write @tl with @fn into memory; returns the text (free it). */
static char *write_mem(const struct timeline *tl,
		       int (*fn)(const struct timeline *, FILE *, const char *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	if (!f)
		return NULL;
	CHECK_EQ(fn(tl, f, "test"), 0);
	fclose(f);
	return buf;
}

static int read_mem(struct timeline *tl, const char *text, unsigned int *line)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f)
		return -errno;
	r = tl_read_csv(tl, f, line);
	fclose(f);
	return r;
}

static void test_files(void)
{
	static const char *const bad[] = {
		"0.000,1,100,0,0.001,0.002\n",			/* no header */
		"#bucket_us=10000 end_us=20000\n0.000,1,100,0,,\n",
		"#bucket_us=10000 end_us=20000\n0.000,0,0,0,0.001,0.002\n",
		"#bucket_us=10000 end_us=20000\n0.000,1,100,0,0.002,0.001\n",
		"#bucket_us=10000 end_us=20000\n0.000,1,100,0,0.011,0.012\n",
		"#bucket_us=10000 end_us=20000\n0.005,1,100,0,0.006,0.007\n",
		"#bucket_us=10000 end_us=20000\n0.000,-1,100,0,,\n",
		"#bucket_us=10000 end_us=20000\n0.000,1.5,100,0,0.001,0.001\n",
		"#bucket_us=10000 end_us=20000\n0.000,x,100,0,,\n",
		"#bucket_us=10000 end_us=20000\n0.000,1,100,0,0.001,0.001,7\n",
		"#bucket_us=0 end_us=20000\n",
		"#bucket_us=10000\n",
		"#bucket_us=10000 end_us=1\n#bucket_us=10000 end_us=1\n",
	};
	static const unsigned int bad_line[] = {
		1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2,
	};
	uint64_t t[] = { 1500, 2500, 15000, 1234567, 2345678, 2999999 };
	struct timeline tl, back;
	struct tl_gap g1, g2;
	unsigned int line, i;
	char *text, *sec;
	size_t b;

	tl_with(&tl, t, 6, 3000000);
	timeline_add(&tl, 250000, 1);
	text = write_mem(&tl, tl_write_csv);
	REQUIRE(text != NULL);
	/* One line per bucket up to the end, after three header lines. */
	for (i = 0, b = 0; text[i]; i++)
		b += text[i] == '\n';
	CHECK_EQ(b, 3 + 300);
	CHECK(strstr(text, "#bucket_us=10000 end_us=3000000\n") != NULL);
	CHECK(strstr(text, "\n0.000,2,200,0,0.001500,0.002500\n") != NULL);
	CHECK(strstr(text, "\n0.250,0,0,1,,\n") != NULL);

	/* Read back: the same buckets, the same gaps. */
	CHECK_EQ(read_mem(&back, text, &line), 0);
	CHECK_EQ(back.width_us, 10000);
	CHECK_EQ(back.end_us, 3000000);
	CHECK_EQ(back.n, 300);
	CHECK_EQ(timeline_sum(&back, 0, back.n), 6);
	CHECK_EQ(back.errs[25], 1);
	for (b = 0; b < tl.n && b < back.n; b++) {
		CHECK_EQ(back.ops[b], tl.ops[b]);
		CHECK_EQ(back.first[b], tl.first[b]);
		CHECK_EQ(back.last[b], tl.last[b]);
	}
	CHECK_EQ(timeline_gap(&tl, 0, UINT64_MAX, &g1), 0);
	CHECK_EQ(timeline_gap(&back, 0, UINT64_MAX, &g2), 0);
	CHECK_EQ(g1.len_us, 1234567 - 15000);
	CHECK_EQ(g2.len_us, g1.len_us);
	CHECK_EQ(g2.start_us, g1.start_us);
	timeline_free(&back);
	free(text);

	/* Per second: the sums of the buckets, the last second partial. */
	timeline_extend(&tl, 3500000);
	sec = write_mem(&tl, tl_write_seconds);
	REQUIRE(sec != NULL);
	CHECK(strstr(sec, "\n0,3,3,1\n1,1,1,0\n2,2,2,0\n3,0,0,0\n") != NULL);
	CHECK(strstr(sec, "\n4,") == NULL);
	free(sec);
	timeline_free(&tl);

	/* A partial last second's rate is over the part measured. */
	tl_with(&tl, (uint64_t[]){ 1100000, 1200000 }, 2, 1500000);
	sec = write_mem(&tl, tl_write_seconds);
	REQUIRE(sec != NULL);
	CHECK(strstr(sec, "\n0,0,0,0\n1,2,4,0\n") != NULL);
	free(sec);
	timeline_free(&tl);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = read_mem(&back, bad[i], &line);
		unsigned int want = bad[i][0] == '0' ? 0 : bad_line[i];

		if (r != -EINVAL || line != want)
			fprintf(stderr, "bad file %u: r %d line %u\n", i, r,
				line);
		CHECK_EQ(r, -EINVAL);
		CHECK_EQ(line, want);
	}
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
	test_gaps();
	test_files();
	test_workload();
	return vf_check_done("vmfit-bench-stats");
}
