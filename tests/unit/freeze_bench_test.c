// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the freeze benchmark's pure logic (tools/bench/freeze/fb.c):
 * completion-gap analysis, medians, the record parser and the JSON and
 * Markdown writers. Built with ASan/UBSan; exit 0 when every check passes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb.h"
#include "vf_check.h"
#include "vf_json.h"

#define MS 1000000ull

/*----------------------------------------------------------------*/

static void test_gap(void)
{
	/* Completions every ms, except a 7 ms hole from 20 to 27 ms. */
	uint64_t ts[64];
	struct fb_gap g;
	size_t n = 0;
	uint64_t t;

	for (t = 0; t <= 20; t++)
		ts[n++] = t * MS;
	for (t = 27; t <= 40; t++)
		ts[n++] = t * MS;

	CHECK_EQ(fb_max_gap(ts, n, 10 * MS, 30 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 7 * MS);
	CHECK_EQ(g.start_ns, 20 * MS);
	CHECK_EQ(g.ios, 11 + 4);	/* 10..20 and 27..30 */

	/* The hole straddles the window's start: it still counts. */
	CHECK_EQ(fb_max_gap(ts, n, 25 * MS, 35 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 7 * MS);
	/* ... and its end. */
	CHECK_EQ(fb_max_gap(ts, n, 5 * MS, 22 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 7 * MS);
	CHECK_EQ(g.start_ns, 20 * MS);
	/* A window clear of the hole sees 1 ms. */
	CHECK_EQ(fb_max_gap(ts, n, 28 * MS, 38 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 1 * MS);
	CHECK_EQ(g.ios, 11);

	/* Nothing before lo: lo starts the first interval. */
	CHECK_EQ(fb_max_gap(ts + 21, n - 21, 22 * MS, 30 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 5 * MS);
	CHECK_EQ(g.start_ns, 22 * MS);
	/* Nothing after hi: hi ends the last interval. */
	CHECK_EQ(fb_max_gap(ts, 21, 15 * MS, 29 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 9 * MS);
	CHECK_EQ(g.start_ns, 20 * MS);
	/* No completion at all: the whole window. */
	CHECK_EQ(fb_max_gap(NULL, 0, 3 * MS, 8 * MS, &g), 0);
	CHECK_EQ(g.gap_ns, 5 * MS);
	CHECK_EQ(g.ios, 0);

	/* Bad input. */
	CHECK_EQ(fb_max_gap(ts, n, 30 * MS, 10 * MS, &g), -EINVAL);
	ts[5] = 100 * MS;	/* not ascending */
	CHECK_EQ(fb_max_gap(ts, n, 0, 40 * MS, &g), -EINVAL);
	CHECK_EQ(fb_max_gap(NULL, 3, 0, 1, &g), -EINVAL);
}

static void test_stats(void)
{
	int64_t odd[] = { 5, 1, 9 };
	int64_t even[] = { 4, 1, 3, 2 };
	double dv[] = { 0.5, 0.25 };
	double m;

	CHECK_EQ(fb_median_i64(odd, 3, &m), 0);
	CHECK(m == 5);
	CHECK_EQ(odd[0], 5);	/* input untouched */
	CHECK_EQ(fb_median_i64(even, 4, &m), 0);
	CHECK(m == 2.5);
	CHECK_EQ(fb_max_i64(even, 4), 4);
	CHECK_EQ(fb_median_dbl(dv, 2, &m), 0);
	CHECK(m == 0.375);
	CHECK_EQ(fb_median_i64(odd, 0, &m), -EINVAL);
	CHECK_EQ(fb_median_dbl(NULL, 1, &m), -EINVAL);
}

/*----------------------------------------------------------------*/

static void test_parse(void)
{
	static struct fb_results r;

	fb_results_init(&r);
	CHECK_EQ(fb_parse_line("", &r), 0);
	CHECK_EQ(fb_parse_line("   \n", &r), 0);
	CHECK_EQ(fb_parse_line("# comment", &r), 0);
	CHECK_EQ(fb_parse_line("snap vmfit 0 100 -1 2000 1500 0 300 42\n", &r),
		 0);
	CHECK_EQ(r.nsnap, 1);
	CHECK_EQ(r.snap[0].method, FB_VMFIT);
	CHECK_EQ(r.snap[0].cmd_ns, 100);
	CHECK_EQ(r.snap[0].pause_ns, -1);
	CHECK_EQ(r.snap[0].gap_ns, 2000);
	CHECK_EQ(r.snap[0].quiet_gap_ns, 1500);
	CHECK_EQ(r.snap[0].held_ns, 0);
	CHECK_EQ(r.snap[0].drain_ns, 300);
	CHECK_EQ(r.snap[0].ios, 42);
	CHECK_EQ(fb_parse_line("iops raw 1 1234.5", &r), 0);
	CHECK_EQ(r.niops, 1);
	CHECK(r.iops[0].iops == 1234.5);
	CHECK_EQ(fb_parse_line("meta kernel 6.1.0-56-amd64 #1 SMP", &r), 0);
	CHECK(!strcmp(r.meta[FB_META_KERNEL], "6.1.0-56-amd64 #1 SMP"));
	CHECK_EQ(fb_parse_line("meta number_ios 90000", &r), 0);
	CHECK_EQ(fb_parse_line("fail thin create_snap: Invalid argument", &r),
		 0);
	CHECK_EQ(r.nfail, 1);
	CHECK(!strcmp(r.fail[0].what, "thin"));
	CHECK(!strcmp(r.fail[0].msg, "create_snap: Invalid argument"));

	/* Malformed records are rejected, never half-read. */
	CHECK_EQ(fb_parse_line("snapshot vmfit 1", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 1 100 -1 2000 1500 0 300", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 1 100 -1 2000 1500 0 300 4 5", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap lvm 1 100 -1 2000 1500 0 300 4", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 1 10x -1 2000 1500 0 300 4", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 1 -1 -1 2000 1500 0 300 4", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 1 5 -2 2000 1500 0 300 4", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit -1 5 -1 2000 1500 0 300 4", &r),
		 -EINVAL);
	CHECK_EQ(fb_parse_line("snap vmfit 0 1 -1 2 1 0 3 4", &r), -EEXIST);
	CHECK_EQ(fb_parse_line("iops raw 1 99", &r), -EEXIST);
	CHECK_EQ(fb_parse_line("iops disk 2 99", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("iops raw 2 0", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("iops raw 2 nan", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("iops raw 2 12abc", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("meta colour blue", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("meta rounds three", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("meta rounds", &r), -EINVAL);
	CHECK_EQ(fb_parse_line("fail thin", &r), -EINVAL);
	CHECK_EQ(r.nsnap, 1);
	CHECK_EQ(r.niops, 1);
}

/* Records for a small complete run. */
static void fill_results(struct fb_results *r)
{
	static const char *const lines[] = {
		"meta kernel 6.1.0-56-amd64",
		"meta date 2026-11-25T21:00:00Z",
		"meta rounds 3",
		"meta number_ios 1000",
		"snap none 0 0 -1 2000000 1900000 -1 -1 100",
		"snap none 1 0 -1 4000000 2100000 -1 -1 100",
		"snap vmfit 0 300000 -1 3000000 2000000 0 500000 100",
		"snap vmfit 1 500000 -1 4400000 2000000 12 700000 100",
		"snap vmfit 2 400000 -1 4000000 2000000 0 600000 100",
		"snap classic 0 30000000 9000000 40000000 2000000 -1 -1 90",
		"snap thin 0 20000000 20000000 25000000 2000000 -1 -1 95",
		/* Round 2 lacks thin: its ratio comes from 2 rounds. */
		"iops raw 1 1000", "iops raw 2 2000", "iops raw 3 1000",
		"iops linear 1 900", "iops linear 2 1800", "iops linear 3 950",
		"iops vmfit 1 850", "iops vmfit 2 1700", "iops vmfit 3 900",
		"iops thin 1 400", "iops thin 3 300",
		"iops classic 1 350", "iops classic 2 800",
		"iops classic 3 360",
		"fail classic \"quoted\" \\ back\tslash",
	};
	size_t i;

	fb_results_init(r);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK_EQ(fb_parse_line(lines[i], r), 0);
}

static void test_summary(void)
{
	static struct fb_results r;
	struct fb_summary s;

	fill_results(&r);
	CHECK_EQ(fb_summarise(&r, &s), 0);
	CHECK_EQ(s.m[FB_NONE].n, 2);
	CHECK(s.m[FB_NONE].gap_ms_max == 4.0);
	CHECK(s.m[FB_NONE].gap_ms_median == 3.0);
	CHECK_EQ(s.m[FB_VMFIT].n, 3);
	CHECK(s.m[FB_VMFIT].gap_ms_median == 4.0);
	CHECK(s.m[FB_VMFIT].gap_ms_max == 4.4);
	CHECK(s.m[FB_VMFIT].cmd_ms_median == 0.4);
	CHECK_EQ(s.m[FB_VMFIT].held_n, 3);
	CHECK_EQ(s.m[FB_VMFIT].held_zero, 2);
	CHECK(s.m[FB_VMFIT].drain_ms_median == 0.6);
	CHECK(s.m[FB_VMFIT].pause_ms_median < 0);
	CHECK(s.m[FB_CLASSIC].pause_ms_max == 9.0);
	CHECK_EQ(s.m[FB_CLASSIC].held_n, 0);
	CHECK_EQ(s.c[FB_CFG_RAW].rounds, 3);
	CHECK(s.c[FB_CFG_RAW].iops_median == 1000);
	/* Per-round ratios 0.9, 0.9, 0.95. */
	CHECK(s.c[FB_CFG_LINEAR].has_ratio);
	CHECK(fabs(s.c[FB_CFG_LINEAR].ratio_median - 0.9) < 1e-9);
	/* Thin: 0.4 and 0.3 -> 0.35. */
	CHECK_EQ(s.c[FB_CFG_THIN].rounds, 2);
	CHECK(fabs(s.c[FB_CFG_THIN].ratio_median - 0.35) < 1e-9);
	CHECK(!s.c[FB_CFG_RAW].has_ratio == 0);
}

static char *render(int (*fn)(FILE *, const struct fb_results *),
		    const struct fb_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	CHECK_EQ(fn(f, r), 0);
	fclose(f);
	return buf;
}

static void test_json(void)
{
	static struct fb_results r;
	char *j;

	fill_results(&r);
	j = render(fb_write_json, &r);
	CHECK(j != NULL);
	if (!j)
		return;
	CHECK(strstr(j, "\"baseline\": {\"device\": \"linear\", "
		     "\"windows\": 2, \"gap_ms_median\": 3.000, "
		     "\"gap_ms_max\": 4.000"));
	CHECK(strstr(j, "\"vmfit\": {\"n\": 3, \"gap_ms_median\": 4.000, "
		     "\"gap_ms_max\": 4.400"));
	CHECK(strstr(j, "\"cmd_ms_median\": 0.400"));
	CHECK(strstr(j, "\"held_ns\": [0, 12, 0], \"held_zero\": 2"));
	CHECK(strstr(j, "\"kernel\": \"6.1.0-56-amd64\""));
	CHECK(strstr(j, "\"rounds\": 3,"));
	CHECK(strstr(j, "\"fio\": null"));
	CHECK(strstr(j, "\"iops_ratio_to_raw\": {\"linear\": 0.900"));
	CHECK(strstr(j, "\"thin\": 0.350"));
	/* vmfit/linear per round: 0.944, 0.944, 0.947 -> met. */
	CHECK(strstr(j, "\"vmfit_iops_to_linear\": {\"ratio\": 0.944, "
		     "\"limit\": 0.90, \"met\": true}"));
	/* 4.4 / 4.0 = 1.1 <= 1.2 */
	CHECK(strstr(j, "\"vmfit_gap_to_baseline\": {\"ratio\": 1.100, "
		     "\"limit\": 1.20, \"met\": true}"));
	CHECK(strstr(j, "\"held_ns_zero\": {\"count\": 2, \"of\": 3, "
		     "\"limit\": 19, \"met\": false}"));
	CHECK(strstr(j, "\"message\": \"\\\"quoted\\\" \\\\ back\\tslash\""));
	/* Methods without data give null, not 0. */
	CHECK(strstr(j, "\"pause_ms_median\": null"));
	free(j);

	/* An empty run is still a valid document with nulls. */
	fb_results_init(&r);
	j = render(fb_write_json, &r);
	CHECK(j && strstr(j, "\"gap_ms_max\": null"));
	CHECK(j && strstr(j, "\"met\": null"));
	free(j);
}

static void test_markdown(void)
{
	static struct fb_results r;
	char *m;

	fill_results(&r);
	m = render(fb_write_markdown, &r);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(!strncmp(m, "<!-- freeze:begin -->\n", 22));
	CHECK(strstr(m, "<!-- freeze:end -->\n") &&
	      !strcmp(strstr(m, "<!-- freeze:end -->\n"),
		      "<!-- freeze:end -->\n"));
	CHECK(strstr(m, "| vmfit (`snapshot` message) | 4.00 | 4.40 |"));
	CHECK(strstr(m, "| dm-linear | 950 | 0.90 |"));
	CHECK(strstr(m, "held_ns = 0 for >= 19 of 20 snapshots: 2 of 3, "
		     "MISSED"));
	CHECK(strstr(m, "make bench BENCH=freeze"));
	free(m);
}

static void test_json_string(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vf_json_string(f, "a\"b\\c\n\x01");
	fclose(f);
	CHECK(buf && !strcmp(buf, "\"a\\\"b\\\\c\\n\\u0001\""));
	free(buf);
}

static void test_roundtrip(void)
{
	static struct fb_results r;
	struct fb_snap s = { FB_THIN, 7, 1, 2, 3, 4, -1, -1, 5 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_EQ(fb_print_snap(f, &s), 0);
	fclose(f);
	fb_results_init(&r);
	CHECK_EQ(fb_parse_line(buf, &r), 0);
	CHECK_EQ(r.nsnap, 1);
	CHECK(!memcmp(&r.snap[0], &s, sizeof(s)));
	free(buf);
}

int main(void)
{
	test_gap();
	test_stats();
	test_parse();
	test_summary();
	test_json();
	test_markdown();
	test_json_string();
	test_roundtrip();
	return vf_check_done("freeze-bench-test");
}
