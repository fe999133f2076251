/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fb.h - the freeze benchmark's pure logic: completion-gap analysis,
 * statistics, the record format that carries measurements out of the VM,
 * and the JSON and Markdown report writers.
 *
 * No device I/O and no global state: the measuring side (freeze-bench.c)
 * and the host unit test (tests/unit/freeze_bench_test.c) both use it.
 * Every function returns 0 or -errno.
 */
#ifndef VMFIT_FREEZE_BENCH_H
#define VMFIT_FREEZE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*----------------------------------------------------------------*/
/* Completion gaps */

/*
 * The longest interval between consecutive I/O completions that overlaps
 * the window [lo, hi] (all times in ns of CLOCK_MONOTONIC).
 *
 * @ts holds completion times in ascending order. The interval that starts
 * at the last completion before @lo and the one that ends at the first
 * completion after @hi count (a stall that spans the window edge is still
 * a stall); when there is no completion before @lo, @lo starts the first
 * interval, and when there is none after @hi, @hi ends the last one.
 * Without any completion the gap is hi - lo.
 */
struct fb_gap {
	uint64_t gap_ns;	/* the longest interval */
	uint64_t start_ns;	/* where it starts */
	uint64_t ios;		/* completions inside [lo, hi] */
};

int fb_max_gap(const uint64_t *ts, size_t n, uint64_t lo, uint64_t hi,
	       struct fb_gap *out);

/* Median and maximum of @n values (@n > 0); @v is not modified. */
int fb_median_i64(const int64_t *v, size_t n, double *median);
int64_t fb_max_i64(const int64_t *v, size_t n);
int fb_median_dbl(const double *v, size_t n, double *median);

/*----------------------------------------------------------------*/
/* Records: one line each, written in the VM, read by `report` */

enum fb_method {
	FB_NONE,		/* no snapshot: the baseline load */
	FB_VMFIT,		/* `snapshot` message */
	FB_CLASSIC,		/* snapshot-origin + snapshot, lvcreate -s style */
	FB_THIN,		/* suspend thin, create_snap, resume */
	FB_NR_METHODS,
};

enum fb_config {
	FB_CFG_RAW,
	FB_CFG_LINEAR,
	FB_CFG_CLASSIC,
	FB_CFG_THIN,
	FB_CFG_VMFIT,
	FB_NR_CONFIGS,
};

const char *fb_method_name(enum fb_method m);
const char *fb_config_name(enum fb_config c);
int fb_method_parse(const char *s, enum fb_method *m);
int fb_config_parse(const char *s, enum fb_config *c);

/*
 * One snapshot under load (or one quiet window for FB_NONE):
 *   snap <method> <iter> <cmd_ns> <pause_ns> <gap_ns> <quiet_gap_ns>
 *        <held_ns> <drain_ns> <ios>
 * cmd_ns: the whole in-process command; pause_ns: suspend to last resume
 * (-1 when the method does not suspend); gap_ns: longest completion gap
 * in the window around the command; quiet_gap_ns: the same in the window
 * of equal length just before it; held_ns/drain_ns: vmfit status fields
 * after the snapshot (-1 for other methods); ios: completions in the window.
 */
struct fb_snap {
	enum fb_method method;
	unsigned int iter;
	int64_t cmd_ns;
	int64_t pause_ns;
	int64_t gap_ns;
	int64_t quiet_gap_ns;
	int64_t held_ns;
	int64_t drain_ns;
	int64_t ios;
};

/*
 * The two write loads measured after a snapshot (fio, fixed work):
 *   iops <config> <round> <write IOPS>   4 KiB random writes, libaio
 *   fsync <config> <round> <write IOPS>  the same, synchronous, with an
 *                                        fsync every FB_FSYNC_EVERY writes
 */
enum fb_load {
	FB_LOAD_PLAIN,
	FB_LOAD_FSYNC,
	FB_NR_LOADS,
};

#define FB_FSYNC_EVERY	8

struct fb_iops {
	enum fb_load load;
	enum fb_config config;
	unsigned int round;
	double iops;
};

/*
 * Run parameters and provenance:
 *   meta <key> <value...>
 * Keys: kernel, date, fio (strings, rest of the line); number_ios,
 * fsync_number_ios, window_ms, pre_ms, depth, volume_mib, count, rounds
 * (integers); loadavg_before, loadavg_after (the host's 1-minute load
 * average, decimals); forced (0 or 1: published although the host was
 * busy, FORCE=1).
 */
enum fb_meta_key {
	FB_META_KERNEL,
	FB_META_DATE,
	FB_META_FIO,
	FB_META_NUMBER_IOS,
	FB_META_WINDOW_MS,
	FB_META_PRE_MS,
	FB_META_DEPTH,
	FB_META_VOLUME_MIB,
	FB_META_COUNT,
	FB_META_ROUNDS,
	FB_META_FSYNC_NUMBER_IOS,
	FB_META_LOAD_BEFORE,
	FB_META_LOAD_AFTER,
	FB_META_FORCED,
	FB_NR_META,
};

/* fail <what> <message...>: a part of the run that did not complete. */
struct fb_fail {
	char what[32];
	char msg[224];
};

#define FB_MAX_SNAPS	1024
#define FB_MAX_IOPS	256
#define FB_MAX_FAILS	32
#define FB_META_LEN	128

struct fb_results {
	struct fb_snap snap[FB_MAX_SNAPS];
	size_t nsnap;
	struct fb_iops iops[FB_MAX_IOPS];
	size_t niops;
	struct fb_fail fail[FB_MAX_FAILS];
	size_t nfail;
	char meta[FB_NR_META][FB_META_LEN];	/* "" when absent */
};

void fb_results_init(struct fb_results *r);

/*
 * Parse one record line and add it to @r. Blank lines and lines starting
 * with '#' are ignored. -EINVAL for a malformed line (unknown type,
 * method, key, wrong field count, non-numeric or trailing junk), -ENOSPC
 * when @r is full, -EEXIST for a duplicate snap (method, iter) or iops
 * (config, round) record.
 */
int fb_parse_line(const char *line, struct fb_results *r);
/* Every line of @f; *@lineno (may be NULL) gets the failing line. */
int fb_parse_file(FILE *f, struct fb_results *r, unsigned int *lineno);

/* Write the record form of one measurement (what fb_parse_line reads). */
int fb_print_snap(FILE *f, const struct fb_snap *s);

/*----------------------------------------------------------------*/
/* Summary and reports */

/* Targets of the brief, compared within one run. */
#define FB_TARGET_GAP_RATIO	1.2	/* vmfit gap max / baseline gap max */
#define FB_TARGET_HELD_ZERO	19	/* of 20 snapshots: held_ns == 0 */
#define FB_TARGET_IOPS_RATIO	0.90	/* vmfit / linear IOPS ratio */
#define FB_TARGET_FSYNC_RATIO	0.80	/* the same with fsyncs */

struct fb_method_sum {
	size_t n;			/* snapshots measured */
	double gap_ms_median;
	double gap_ms_max;
	double quiet_gap_ms_max;	/* same device, window before */
	double cmd_ms_median;
	double cmd_ms_max;
	double pause_ms_median;		/* < 0 when not applicable */
	double pause_ms_max;
	size_t held_n;			/* snapshots with a held_ns value */
	size_t held_zero;		/* ... of which 0 */
	double drain_ms_median;		/* < 0 when not applicable */
};

struct fb_config_sum {
	size_t rounds;			/* rounds with a measurement */
	double iops_median;
	double ratio_median;		/* median of per-round ratios to raw */
	bool has_ratio;
};

struct fb_summary {
	struct fb_method_sum m[FB_NR_METHODS];
	struct fb_config_sum c[FB_NR_CONFIGS];		/* FB_LOAD_PLAIN */
	struct fb_config_sum f[FB_NR_CONFIGS];		/* FB_LOAD_FSYNC */
};

int fb_summarise(const struct fb_results *r, struct fb_summary *s);

/* bench/results/freeze.json */
int fb_write_json(FILE *f, const struct fb_results *r);
/* The Markdown section between the freeze markers of benchmarks.md. */
int fb_write_markdown(FILE *f, const struct fb_results *r);

#endif /* VMFIT_FREEZE_BENCH_H */
