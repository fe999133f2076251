/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tlfile.h - vmfit-bench's timeline files (CSV, gnuplot-ready: '#' lines
 * are comments), written by a run and read back by --analyze:
 *
 *   # vmfit-bench timeline <label>: ...            (free text)
 *   #bucket_us=10000 end_us=20004123               (required to read back)
 *   #t_s,ops,ops_per_s,lost,first_s,last_s
 *   0.000,12,1200,0,0.004123,0.009876
 *
 * one line per bucket from the start of the measurement to its end: the
 * bucket's start, its completed requests, the same as a rate, the lost
 * connections in it, and the times of its first and last completion
 * (seconds since the start; empty when the bucket has none). The
 * per-second file has the same form with 1 s buckets and no first_s /
 * last_s columns.
 */
#ifndef VMFIT_BENCH_TLFILE_H
#define VMFIT_BENCH_TLFILE_H

#include <stdio.h>

#include "stats.h"

/* Write @tl's buckets up to its end (timeline_extend) to @f. */
int tl_write_csv(const struct timeline *tl, FILE *f, const char *label);
/* The same timeline summed per second (the last second may be partial:
 * its rate is over the part measured). */
int tl_write_seconds(const struct timeline *tl, FILE *f, const char *label);
/*
 * Read a file of tl_write_csv into @tl (initialised here; free it with
 * timeline_free). -EINVAL on a malformed file, with the line number in
 * *@line (0: the #bucket_us line is missing).
 */
int tl_read_csv(struct timeline *tl, FILE *f, unsigned int *line);

#endif /* VMFIT_BENCH_TLFILE_H */
