// SPDX-License-Identifier: GPL-2.0-only
/*
 * fb.c - the freeze benchmark's pure logic. See fb.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fb.h"
#include "vf_json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*----------------------------------------------------------------*/
/* Completion gaps */

int fb_max_gap(const uint64_t *ts, size_t n, uint64_t lo, uint64_t hi,
	       struct fb_gap *out)
{
	struct fb_gap g = { 0, lo, 0 };
	uint64_t prev = lo;
	bool closed = false;
	size_t i;

	if (lo > hi || (n && !ts))
		return -EINVAL;
	for (i = 1; i < n; i++)
		if (ts[i] < ts[i - 1])
			return -EINVAL;
	for (i = 0; i < n; i++) {
		if (ts[i] < lo) {
			prev = ts[i];
			g.start_ns = prev;
			continue;
		}
		if (ts[i] - prev > g.gap_ns) {
			g.gap_ns = ts[i] - prev;
			g.start_ns = prev;
		}
		if (ts[i] > hi) {
			closed = true;
			break;
		}
		g.ios++;
		prev = ts[i];
	}
	if (!closed && hi - prev > g.gap_ns) {
		g.gap_ns = hi - prev;
		g.start_ns = prev;
	}
	*out = g;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

int fb_median_i64(const int64_t *v, size_t n, double *median)
{
	int64_t *c;

	if (!n || !v)
		return -EINVAL;
	c = malloc(n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_i64);
	if (n % 2)
		*median = (double)c[n / 2];
	else
		*median = ((double)c[n / 2 - 1] + (double)c[n / 2]) / 2;
	free(c);
	return 0;
}

int fb_median_dbl(const double *v, size_t n, double *median)
{
	double *c;

	if (!n || !v)
		return -EINVAL;
	c = malloc(n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_dbl);
	if (n % 2)
		*median = c[n / 2];
	else
		*median = (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return 0;
}

int64_t fb_max_i64(const int64_t *v, size_t n)
{
	int64_t m = INT64_MIN;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/*----------------------------------------------------------------*/
/* Names */

static const char *const method_names[] = {
	[FB_NONE] = "none",
	[FB_VMFIT] = "vmfit",
	[FB_CLASSIC] = "classic",
	[FB_THIN] = "thin",
};

static const char *const config_names[] = {
	[FB_CFG_RAW] = "raw",
	[FB_CFG_LINEAR] = "linear",
	[FB_CFG_CLASSIC] = "classic",
	[FB_CFG_THIN] = "thin",
	[FB_CFG_VMFIT] = "vmfit",
};

static const char *const meta_names[] = {
	[FB_META_KERNEL] = "kernel",
	[FB_META_DATE] = "date",
	[FB_META_FIO] = "fio",
	[FB_META_NUMBER_IOS] = "number_ios",
	[FB_META_WINDOW_MS] = "window_ms",
	[FB_META_PRE_MS] = "pre_ms",
	[FB_META_DEPTH] = "depth",
	[FB_META_VOLUME_MIB] = "volume_mib",
	[FB_META_COUNT] = "count",
	[FB_META_ROUNDS] = "rounds",
	[FB_META_FSYNC_NUMBER_IOS] = "fsync_number_ios",
	[FB_META_LOAD_BEFORE] = "loadavg_before",
	[FB_META_LOAD_AFTER] = "loadavg_after",
	[FB_META_FORCED] = "forced",
};

/* Record types of the two loads (struct fb_iops). */
static const char *const load_records[] = {
	[FB_LOAD_PLAIN] = "iops",
	[FB_LOAD_FSYNC] = "fsync",
};

/*
 * Keys whose value is a string; a decimal number; a flag (0 or 1); the
 * others are non-negative integers.
 */
static bool meta_is_string(unsigned int k)
{
	return k == FB_META_KERNEL || k == FB_META_DATE || k == FB_META_FIO;
}

static bool meta_is_decimal(unsigned int k)
{
	return k == FB_META_LOAD_BEFORE || k == FB_META_LOAD_AFTER;
}

static int lookup(const char *s, const char *const *names, size_t n)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

const char *fb_method_name(enum fb_method m)
{
	return (unsigned int)m < FB_NR_METHODS ? method_names[m] : "?";
}

const char *fb_config_name(enum fb_config c)
{
	return (unsigned int)c < FB_NR_CONFIGS ? config_names[c] : "?";
}

int fb_method_parse(const char *s, enum fb_method *m)
{
	int i = lookup(s, method_names, ARRAY_SIZE(method_names));

	if (i < 0)
		return i;
	*m = i;
	return 0;
}

int fb_config_parse(const char *s, enum fb_config *c)
{
	int i = lookup(s, config_names, ARRAY_SIZE(config_names));

	if (i < 0)
		return i;
	*c = i;
	return 0;
}

/*----------------------------------------------------------------*/
/* Records */

void fb_results_init(struct fb_results *r)
{
	memset(r, 0, sizeof(*r));
}

#define FB_MAX_FIELDS 12

/* Split @buf in place on blanks; returns the number of fields or -EINVAL. */
static int split(char *buf, char **f, int max)
{
	int n = 0;
	char *save = NULL;
	char *t;

	for (t = strtok_r(buf, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		if (n == max)
			return -EINVAL;
		f[n++] = t;
	}
	return n;
}

/* Strict decimal: optional '-', digits, nothing else; >= -1. */
static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < -1)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned int *out)
{
	int64_t v;

	if (*s == '-' || parse_i64(s, &v) || v > 1000000)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_snap(char **f, int n, struct fb_results *r)
{
	struct fb_snap s;
	int64_t *vals[] = { &s.cmd_ns, &s.pause_ns, &s.gap_ns,
			    &s.quiet_gap_ns, &s.held_ns, &s.drain_ns, &s.ios };
	size_t i;

	if (n != 3 + (int)ARRAY_SIZE(vals))
		return -EINVAL;
	if (fb_method_parse(f[1], &s.method) || parse_uint(f[2], &s.iter))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(vals); i++)
		if (parse_i64(f[3 + i], vals[i]))
			return -EINVAL;
	/* Only pause, held and drain may be "not applicable". */
	if (s.cmd_ns < 0 || s.gap_ns < 0 || s.quiet_gap_ns < 0 || s.ios < 0)
		return -EINVAL;
	for (i = 0; i < r->nsnap; i++)
		if (r->snap[i].method == s.method && r->snap[i].iter == s.iter)
			return -EEXIST;
	if (r->nsnap == FB_MAX_SNAPS)
		return -ENOSPC;
	r->snap[r->nsnap++] = s;
	return 0;
}

static int parse_iops(char **f, int n, enum fb_load load,
		      struct fb_results *r)
{
	struct fb_iops io = { .load = load };
	char *end;
	size_t i;

	if (n != 4)
		return -EINVAL;
	if (fb_config_parse(f[1], &io.config) || parse_uint(f[2], &io.round))
		return -EINVAL;
	errno = 0;
	io.iops = strtod(f[3], &end);
	if (errno || *end || end == f[3] || !(io.iops > 0) ||
	    !isfinite(io.iops))
		return -EINVAL;
	for (i = 0; i < r->niops; i++)
		if (r->iops[i].load == io.load &&
		    r->iops[i].config == io.config &&
		    r->iops[i].round == io.round)
			return -EEXIST;
	if (r->niops == FB_MAX_IOPS)
		return -ENOSPC;
	r->iops[r->niops++] = io;
	return 0;
}

/* @rest: the line after the key, leading blanks skipped. */
static int parse_meta(const char *key, const char *rest, struct fb_results *r)
{
	int k = lookup(key, meta_names, ARRAY_SIZE(meta_names));
	size_t len;

	if (k < 0)
		return -EINVAL;
	len = strcspn(rest, "\n");
	while (len && (rest[len - 1] == ' ' || rest[len - 1] == '\t'))
		len--;
	if (!len || len >= FB_META_LEN)
		return -EINVAL;
	if (!meta_is_string(k)) {
		char tmp[FB_META_LEN], *end;
		int64_t v;
		double d;

		memcpy(tmp, rest, len);
		tmp[len] = '\0';
		if (meta_is_decimal(k)) {
			errno = 0;
			d = strtod(tmp, &end);
			if (errno || *end || end == tmp || !(d >= 0) ||
			    !isfinite(d) || !isdigit((unsigned char)tmp[0]))
				return -EINVAL;
		} else if (parse_i64(tmp, &v) || v < 0 ||
			   (k == FB_META_FORCED && v > 1)) {
			return -EINVAL;
		}
	}
	memcpy(r->meta[k], rest, len);
	r->meta[k][len] = '\0';
	return 0;
}

static int parse_fail(const char *what, const char *rest, struct fb_results *r)
{
	struct fb_fail *fl;
	size_t len;

	len = strcspn(rest, "\n");
	if (!len || strlen(what) >= sizeof(fl->what))
		return -EINVAL;
	if (r->nfail == FB_MAX_FAILS)
		return -ENOSPC;
	fl = &r->fail[r->nfail++];
	snprintf(fl->what, sizeof(fl->what), "%s", what);
	if (len >= sizeof(fl->msg))
		len = sizeof(fl->msg) - 1;
	memcpy(fl->msg, rest, len);
	fl->msg[len] = '\0';
	return 0;
}

/* The text after the first @skip blank-separated words of @line. */
static const char *after_words(const char *line, int skip)
{
	const char *p = line;

	while (skip--) {
		p += strspn(p, " \t");
		p += strcspn(p, " \t\n");
	}
	return p + strspn(p, " \t");
}

int fb_parse_line(const char *line, struct fb_results *r)
{
	char buf[512];
	char *f[FB_MAX_FIELDS];
	int n;

	if (!line || strlen(line) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", line);
	n = split(buf, f, FB_MAX_FIELDS);
	if (n == 0 || (n > 0 && f[0][0] == '#'))
		return 0;
	if (!strcmp(f[0], "snap"))
		return parse_snap(f, n, r);
	if (!strcmp(f[0], load_records[FB_LOAD_PLAIN]))
		return parse_iops(f, n, FB_LOAD_PLAIN, r);
	if (!strcmp(f[0], load_records[FB_LOAD_FSYNC]))
		return parse_iops(f, n, FB_LOAD_FSYNC, r);
	/* meta and fail keep the rest of the line verbatim. */
	if (!strcmp(f[0], "meta") && n >= 3)
		return parse_meta(f[1], after_words(line, 2), r);
	if (!strcmp(f[0], "fail") && n >= 3)
		return parse_fail(f[1], after_words(line, 2), r);
	return -EINVAL;
}

int fb_parse_file(FILE *f, struct fb_results *r, unsigned int *lineno)
{
	char line[1024];
	unsigned int no = 0;
	int ret;

	while (fgets(line, sizeof(line), f)) {
		no++;
		if (lineno)
			*lineno = no;
		if (!strchr(line, '\n') && !feof(f))
			return -EINVAL;	/* longer than any record */
		ret = fb_parse_line(line, r);
		if (ret)
			return ret;
	}
	return ferror(f) ? -EIO : 0;
}

int fb_print_snap(FILE *f, const struct fb_snap *s)
{
	int n;

	n = fprintf(f, "snap %s %u %lld %lld %lld %lld %lld %lld %lld\n",
		    fb_method_name(s->method), s->iter, (long long)s->cmd_ns,
		    (long long)s->pause_ns, (long long)s->gap_ns,
		    (long long)s->quiet_gap_ns, (long long)s->held_ns,
		    (long long)s->drain_ns, (long long)s->ios);
	return n < 0 ? -EIO : 0;
}

/*----------------------------------------------------------------*/
/* Summary */

#define NS_PER_MS 1e6

static int sum_method(const struct fb_results *r, enum fb_method m,
		      struct fb_method_sum *ms)
{
	int64_t *gap, *cmd, *quiet, *pause, *drain;
	size_t n = 0, np = 0, nd = 0, i;
	double med;
	int ret = -ENOMEM;

	memset(ms, 0, sizeof(*ms));
	ms->pause_ms_median = ms->pause_ms_max = ms->drain_ms_median = -1;
	gap = calloc(r->nsnap + 1, sizeof(*gap));
	cmd = calloc(r->nsnap + 1, sizeof(*cmd));
	quiet = calloc(r->nsnap + 1, sizeof(*quiet));
	pause = calloc(r->nsnap + 1, sizeof(*pause));
	drain = calloc(r->nsnap + 1, sizeof(*drain));
	if (!gap || !cmd || !quiet || !pause || !drain)
		goto out;
	for (i = 0; i < r->nsnap; i++) {
		const struct fb_snap *s = &r->snap[i];

		if (s->method != m)
			continue;
		gap[n] = s->gap_ns;
		cmd[n] = s->cmd_ns;
		quiet[n] = s->quiet_gap_ns;
		n++;
		if (s->pause_ns >= 0)
			pause[np++] = s->pause_ns;
		if (s->drain_ns >= 0)
			drain[nd++] = s->drain_ns;
		if (s->held_ns >= 0) {
			ms->held_n++;
			if (!s->held_ns)
				ms->held_zero++;
		}
	}
	ms->n = n;
	ret = 0;
	if (!n)
		goto out;
	ret = fb_median_i64(gap, n, &med);
	if (ret)
		goto out;
	ms->gap_ms_median = med / NS_PER_MS;
	ms->gap_ms_max = fb_max_i64(gap, n) / NS_PER_MS;
	ms->quiet_gap_ms_max = fb_max_i64(quiet, n) / NS_PER_MS;
	ret = fb_median_i64(cmd, n, &med);
	if (ret)
		goto out;
	ms->cmd_ms_median = med / NS_PER_MS;
	ms->cmd_ms_max = fb_max_i64(cmd, n) / NS_PER_MS;
	if (np) {
		ret = fb_median_i64(pause, np, &med);
		if (ret)
			goto out;
		ms->pause_ms_median = med / NS_PER_MS;
		ms->pause_ms_max = fb_max_i64(pause, np) / NS_PER_MS;
	}
	if (nd) {
		ret = fb_median_i64(drain, nd, &med);
		if (ret)
			goto out;
		ms->drain_ms_median = med / NS_PER_MS;
	}
out:
	free(gap);
	free(cmd);
	free(quiet);
	free(pause);
	free(drain);
	return ret;
}

/* IOPS of @c under @load in round @round, or 0 when not measured. */
static double iops_of(const struct fb_results *r, enum fb_load load,
		      enum fb_config c, unsigned int round)
{
	size_t i;

	for (i = 0; i < r->niops; i++)
		if (r->iops[i].load == load && r->iops[i].config == c &&
		    r->iops[i].round == round)
			return r->iops[i].iops;
	return 0;
}

/*
 * Median over rounds of iops(@num)/iops(@den) in the same round; rounds
 * where either is missing are skipped. -ENODATA when no round has both.
 */
static int round_ratio(const struct fb_results *r, enum fb_load load,
		       enum fb_config num, enum fb_config den, double *ratio)
{
	double v[FB_MAX_IOPS];
	size_t n = 0, i;

	for (i = 0; i < r->niops; i++) {
		double d;

		if (r->iops[i].load != load || r->iops[i].config != num)
			continue;
		d = iops_of(r, load, den, r->iops[i].round);
		if (d > 0)
			v[n++] = r->iops[i].iops / d;
	}
	if (!n)
		return -ENODATA;
	return fb_median_dbl(v, n, ratio);
}

static int sum_config(const struct fb_results *r, enum fb_load load,
		      enum fb_config c, struct fb_config_sum *cs)
{
	double v[FB_MAX_IOPS];
	size_t i;
	int ret;

	for (i = 0; i < r->niops; i++)
		if (r->iops[i].load == load && r->iops[i].config == c)
			v[cs->rounds++] = r->iops[i].iops;
	if (!cs->rounds)
		return 0;
	ret = fb_median_dbl(v, cs->rounds, &cs->iops_median);
	if (ret)
		return ret;
	ret = round_ratio(r, load, c, FB_CFG_RAW, &cs->ratio_median);
	if (ret && ret != -ENODATA)
		return ret;
	cs->has_ratio = !ret;
	return 0;
}

int fb_summarise(const struct fb_results *r, struct fb_summary *s)
{
	unsigned int m, c;
	int ret;

	memset(s, 0, sizeof(*s));
	for (m = 0; m < FB_NR_METHODS; m++) {
		ret = sum_method(r, m, &s->m[m]);
		if (ret)
			return ret;
	}
	for (c = 0; c < FB_NR_CONFIGS; c++) {
		ret = sum_config(r, FB_LOAD_PLAIN, c, &s->c[c]);
		if (!ret)
			ret = sum_config(r, FB_LOAD_FSYNC, c, &s->f[c]);
		if (ret)
			return ret;
	}
	return 0;
}

/*----------------------------------------------------------------*/
/* JSON */

/* A number with 3 decimals, or null when @v is negative (absent). */
static void json_num(FILE *f, double v)
{
	if (v < 0 || !isfinite(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static void json_bool(FILE *f, int v)
{
	fputs(v < 0 ? "null" : v ? "true" : "false", f);
}

static void json_meta(FILE *f, const struct fb_results *r, unsigned int k)
{
	if (!r->meta[k][0])
		fputs("null", f);
	else if (k == FB_META_FORCED)
		json_bool(f, strcmp(r->meta[k], "0") != 0);
	else if (meta_is_string(k))
		vf_json_string(f, r->meta[k]);
	else
		fputs(r->meta[k], f);
}

/* Per-snapshot values of @m as a JSON array, in iteration order. */
static void json_series(FILE *f, const struct fb_results *r,
			enum fb_method m, size_t field, bool ms)
{
	const char *sep = "";
	size_t i;

	fputc('[', f);
	for (i = 0; i < r->nsnap; i++) {
		const struct fb_snap *s = &r->snap[i];
		int64_t v;

		if (s->method != m)
			continue;
		memcpy(&v, (const char *)s + field, sizeof(v));
		fputs(sep, f);
		sep = ", ";
		if (v < 0)
			fputs("null", f);
		else if (ms)
			fprintf(f, "%.3f", v / NS_PER_MS);
		else
			fprintf(f, "%lld", (long long)v);
	}
	fputc(']', f);
}

/* Target verdicts: -1 unknown, 0 missed, 1 met; ratio < 0 when unknown. */
struct fb_targets {
	double gap_ratio;
	int gap_met;
	int held_met;
	double iops_ratio;
	int iops_met;
	double fsync_ratio;
	int fsync_met;
};

static void targets(const struct fb_results *r, const struct fb_summary *s,
		    struct fb_targets *t)
{
	const struct fb_method_sum *v = &s->m[FB_VMFIT];
	const struct fb_method_sum *b = &s->m[FB_NONE];
	double ratio;

	t->gap_ratio = -1;
	t->gap_met = -1;
	if (v->n && b->n && b->gap_ms_max > 0) {
		t->gap_ratio = v->gap_ms_max / b->gap_ms_max;
		t->gap_met = t->gap_ratio <= FB_TARGET_GAP_RATIO;
	}
	/* 19 of 20: at most one snapshot in twenty may hold a bio. */
	t->held_met = v->held_n ? v->held_zero * 20 >=
				  v->held_n * FB_TARGET_HELD_ZERO : -1;
	t->iops_ratio = -1;
	t->iops_met = -1;
	if (!round_ratio(r, FB_LOAD_PLAIN, FB_CFG_VMFIT, FB_CFG_LINEAR,
			 &ratio)) {
		t->iops_ratio = ratio;
		t->iops_met = ratio >= FB_TARGET_IOPS_RATIO;
	}
	t->fsync_ratio = -1;
	t->fsync_met = -1;
	if (!round_ratio(r, FB_LOAD_FSYNC, FB_CFG_VMFIT, FB_CFG_LINEAR,
			 &ratio)) {
		t->fsync_ratio = ratio;
		t->fsync_met = ratio >= FB_TARGET_FSYNC_RATIO;
	}
}

/*
 * The measurements of one load: "<p>iops" (per round), "<p>iops_median",
 * "<p>iops_ratio_to_raw", with <p> "" or "fsync_".
 */
static void json_load(FILE *f, const struct fb_results *r, enum fb_load load,
		      const struct fb_config_sum *cs)
{
	const char *p = load == FB_LOAD_FSYNC ? "fsync_" : "";
	unsigned int c;
	size_t i;

	fprintf(f, "  \"%siops\": {", p);
	for (c = 0; c < FB_NR_CONFIGS; c++) {
		const char *sep = "";

		fprintf(f, "%s\"%s\": [", c ? ", " : "", config_names[c]);
		for (i = 0; i < r->niops; i++) {
			if (r->iops[i].load != load || r->iops[i].config != c)
				continue;
			fprintf(f, "%s{\"round\": %u, \"iops\": %.1f}", sep,
				r->iops[i].round, r->iops[i].iops);
			sep = ", ";
		}
		fputc(']', f);
	}
	fprintf(f, "},\n  \"%siops_median\": {", p);
	for (c = 0; c < FB_NR_CONFIGS; c++) {
		fprintf(f, "%s\"%s\": ", c ? ", " : "", config_names[c]);
		json_num(f, cs[c].rounds ? cs[c].iops_median : -1);
	}
	fprintf(f, "},\n  \"%siops_ratio_to_raw\": {", p);
	for (c = FB_CFG_LINEAR; c < FB_NR_CONFIGS; c++) {
		fprintf(f, "%s\"%s\": ", c > FB_CFG_LINEAR ? ", " : "",
			config_names[c]);
		json_num(f, cs[c].has_ratio ? cs[c].ratio_median : -1);
	}
	fputs("},\n", f);
}

int fb_write_json(FILE *f, const struct fb_results *r)
{
	struct fb_summary s;
	struct fb_targets t;
	unsigned int m, k;
	size_t i;
	int ret;

	ret = fb_summarise(r, &s);
	if (ret)
		return ret;
	targets(r, &s, &t);

	fputs("{\n  \"benchmark\": \"freeze\",\n", f);
	for (k = 0; k < FB_NR_META; k++) {
		fprintf(f, "  \"%s\": ", meta_names[k]);
		json_meta(f, r, k);
		fputs(",\n", f);
	}

	fputs("  \"baseline\": {\"device\": \"linear\", \"windows\": ", f);
	fprintf(f, "%zu, \"gap_ms_median\": ", s.m[FB_NONE].n);
	json_num(f, s.m[FB_NONE].n ? s.m[FB_NONE].gap_ms_median : -1);
	fputs(", \"gap_ms_max\": ", f);
	json_num(f, s.m[FB_NONE].n ? s.m[FB_NONE].gap_ms_max : -1);
	fputs(", \"gap_ms\": ", f);
	json_series(f, r, FB_NONE, offsetof(struct fb_snap, gap_ns), true);
	fputs("},\n  \"snapshot\": {\n", f);
	for (m = FB_VMFIT; m < FB_NR_METHODS; m++) {
		const struct fb_method_sum *ms = &s.m[m];
		bool have = ms->n > 0;

		fprintf(f, "    \"%s\": {\"n\": %zu", method_names[m], ms->n);
		fputs(", \"gap_ms_median\": ", f);
		json_num(f, have ? ms->gap_ms_median : -1);
		fputs(", \"gap_ms_max\": ", f);
		json_num(f, have ? ms->gap_ms_max : -1);
		fputs(", \"quiet_gap_ms_max\": ", f);
		json_num(f, have ? ms->quiet_gap_ms_max : -1);
		fputs(", \"cmd_ms_median\": ", f);
		json_num(f, have ? ms->cmd_ms_median : -1);
		fputs(", \"cmd_ms_max\": ", f);
		json_num(f, have ? ms->cmd_ms_max : -1);
		fputs(", \"pause_ms_median\": ", f);
		json_num(f, ms->pause_ms_median);
		fputs(", \"pause_ms_max\": ", f);
		json_num(f, ms->pause_ms_max);
		fputs(",\n      \"gap_ms\": ", f);
		json_series(f, r, m, offsetof(struct fb_snap, gap_ns), true);
		fputs(",\n      \"cmd_ms\": ", f);
		json_series(f, r, m, offsetof(struct fb_snap, cmd_ns), true);
		if (m == FB_VMFIT) {
			fputs(",\n      \"held_ns\": ", f);
			json_series(f, r, m, offsetof(struct fb_snap, held_ns),
				    false);
			fprintf(f, ", \"held_zero\": %zu", ms->held_zero);
			fputs(",\n      \"drain_ms\": ", f);
			json_series(f, r, m,
				    offsetof(struct fb_snap, drain_ns), true);
			fputs(", \"drain_ms_median\": ", f);
			json_num(f, ms->drain_ms_median);
		}
		fprintf(f, "}%s\n", m + 1 < FB_NR_METHODS ? "," : "");
	}
	fputs("  },\n", f);
	json_load(f, r, FB_LOAD_PLAIN, s.c);
	json_load(f, r, FB_LOAD_FSYNC, s.f);
	fputs("  \"targets\": {\n", f);
	fputs("    \"vmfit_gap_to_baseline\": {\"ratio\": ", f);
	json_num(f, t.gap_ratio);
	fprintf(f, ", \"limit\": %.2f, \"met\": ", FB_TARGET_GAP_RATIO);
	json_bool(f, t.gap_met);
	fprintf(f, "},\n    \"held_ns_zero\": {\"count\": %zu, \"of\": %zu",
		s.m[FB_VMFIT].held_zero, s.m[FB_VMFIT].held_n);
	fprintf(f, ", \"limit\": %d, \"met\": ", FB_TARGET_HELD_ZERO);
	json_bool(f, t.held_met);
	fputs("},\n    \"vmfit_iops_to_linear\": {\"ratio\": ", f);
	json_num(f, t.iops_ratio);
	fprintf(f, ", \"limit\": %.2f, \"met\": ", FB_TARGET_IOPS_RATIO);
	json_bool(f, t.iops_met);
	fputs("},\n    \"vmfit_fsync_iops_to_linear\": {\"ratio\": ", f);
	json_num(f, t.fsync_ratio);
	fprintf(f, ", \"limit\": %.2f, \"met\": ", FB_TARGET_FSYNC_RATIO);
	json_bool(f, t.fsync_met);
	fputs("}\n  },\n  \"failures\": [", f);
	for (i = 0; i < r->nfail; i++) {
		fprintf(f, "%s{\"what\": ", i ? ", " : "");
		vf_json_string(f, r->fail[i].what);
		fputs(", \"message\": ", f);
		vf_json_string(f, r->fail[i].msg);
		fputc('}', f);
	}
	fputs("]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

/*----------------------------------------------------------------*/
/* Markdown */

/* "12.345" or "n/a" into @buf. */
static const char *md_num(char *buf, size_t len, double v, bool have)
{
	if (!have || v < 0 || !isfinite(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static const char *verdict(int met)
{
	return met < 0 ? "not measured" : met ? "met" : "MISSED";
}

static const char *const method_titles[] = {
	[FB_NONE] = "no snapshot (baseline, dm-linear)",
	[FB_VMFIT] = "vmfit (`snapshot` message)",
	[FB_CLASSIC] = "classic (snapshot-origin + snapshot)",
	[FB_THIN] = "dm-thin (suspend, create_snap, resume)",
};

static const char *const config_titles[] = {
	[FB_CFG_RAW] = "raw virtio disk",
	[FB_CFG_LINEAR] = "dm-linear",
	[FB_CFG_CLASSIC] = "classic snapshot-origin, after a snapshot",
	[FB_CFG_THIN] = "dm-thin, after a snapshot",
	[FB_CFG_VMFIT] = "vmfit, after a snapshot",
};

static const char *meta_or(const struct fb_results *r, unsigned int k,
			   const char *dflt)
{
	return r->meta[k][0] ? r->meta[k] : dflt;
}

/* IOPS and ratio to raw of each configuration under one load. */
static void md_load_table(FILE *f, const struct fb_config_sum *cs)
{
	char a[32], b[32];
	unsigned int c;

	fputs("| device | IOPS, median | ratio to raw |\n", f);
	fputs("| --- | ---: | ---: |\n", f);
	for (c = 0; c < FB_NR_CONFIGS; c++)
		fprintf(f, "| %s | %s | %s |\n", config_titles[c],
			cs[c].rounds ? (snprintf(a, sizeof(a), "%.0f",
						 cs[c].iops_median), a) : "n/a",
			md_num(b, sizeof(b), cs[c].ratio_median,
			       cs[c].has_ratio));
}

int fb_write_markdown(FILE *f, const struct fb_results *r)
{
	struct fb_summary s;
	struct fb_targets t;
	char a[32], b[32], c3[32], d[32], e[32];
	unsigned int m;
	size_t i;
	int ret;

	ret = fb_summarise(r, &s);
	if (ret)
		return ret;
	targets(r, &s, &t);

	fputs("<!-- freeze:begin -->\n", f);
	fputs("<!-- generated by tools/bench/freeze/run; do not edit -->\n", f);
	fputs("## Freeze benchmark\n\n", f);
	fputs("How much does taking a snapshot disturb a write workload? "
	      "A 4 KiB random-write load (O_DIRECT, libaio, iodepth ", f);
	fprintf(f, "%s) runs on a %s MiB volume while %s snapshots are taken "
		"with each method; every command is issued in-process "
		"through libdevmapper and timed with CLOCK_MONOTONIC. The "
		"load generator (`freeze-bench`) stamps every completion "
		"with CLOCK_MONOTONIC; the *longest gap* is the longest "
		"interval between consecutive completions that overlaps a "
		"%s ms window starting %s ms before the command. The "
		"baseline is the same load and window with no snapshot. "
		"Qemu TCG, 2 vCPUs: only ratios within one run mean "
		"anything.\n\n",
		meta_or(r, FB_META_DEPTH, "16"),
		meta_or(r, FB_META_VOLUME_MIB, "1024"),
		meta_or(r, FB_META_COUNT, "20"),
		meta_or(r, FB_META_WINDOW_MS, "?"),
		meta_or(r, FB_META_PRE_MS, "?"));
	fprintf(f, "Run: kernel %s, %s, %s; 1-minute load average %s "
		"before the run, %s after it%s.\n"
		"Reproduce: `make bench BENCH=freeze` (boots a VM; results in "
		"`bench/results/freeze.json`).\n\n",
		meta_or(r, FB_META_KERNEL, "?"), meta_or(r, FB_META_DATE, "?"),
		meta_or(r, FB_META_FIO, "fio ?"),
		meta_or(r, FB_META_LOAD_BEFORE, "?"),
		meta_or(r, FB_META_LOAD_AFTER, "?"),
		strcmp(meta_or(r, FB_META_FORCED, "0"), "0") ?
		" (**forced with FORCE=1 on a busy machine: other work "
		"competed for the cores, the figures are not trustworthy**)" :
		"");

	fputs("| method | longest gap, median (ms) | longest gap, max (ms) "
	      "| same device, window before: max gap (ms) "
	      "| command, median (ms) | command, max (ms) |\n", f);
	fputs("| --- | ---: | ---: | ---: | ---: | ---: |\n", f);
	for (m = 0; m < FB_NR_METHODS; m++) {
		const struct fb_method_sum *ms = &s.m[m];
		bool have = ms->n > 0;

		fprintf(f, "| %s | %s | %s | %s | %s | %s |\n",
			method_titles[m],
			md_num(a, sizeof(a), ms->gap_ms_median, have),
			md_num(b, sizeof(b), ms->gap_ms_max, have),
			md_num(c3, sizeof(c3), ms->quiet_gap_ms_max, have),
			m == FB_NONE ? "-" :
			md_num(d, sizeof(d), ms->cmd_ms_median, have),
			m == FB_NONE ? "-" :
			md_num(e, sizeof(e), ms->cmd_ms_max, have));
	}
	fprintf(f, "\nvmfit held no bio in %zu of %zu snapshots (held_ns "
		"status field); the frozen view was ready %s ms (median) "
		"after the message.\n\n",
		s.m[FB_VMFIT].held_zero, s.m[FB_VMFIT].held_n,
		md_num(a, sizeof(a), s.m[FB_VMFIT].drain_ms_median, true));
	fprintf(f, "The commands: vmfit is one DM_DEVICE_TARGET_MSG ioctl "
		"(`snapshot`; `drop` undoes it after the window). Classic "
		"does what `lvcreate -s` does: `<origin>-real` (the "
		"origin's linear table) and an empty snapshot device are "
		"created and the cow's first 4 KiB zeroed beforehand "
		"(untimed); the command loads `snapshot <real> <cow> P 8` "
		"and `snapshot-origin <real>` as inactive tables, suspends "
		"the origin and resumes both; its suspend-to-resume part "
		"took %s ms (median, max %s). dm-thin suspends the thin "
		"volume, sends `create_snap` to the pool and resumes "
		"(%s ms median, max %s). The window before each command, "
		"on the same device, is the third column: it shows the "
		"device's own noise.\n\n",
		md_num(a, sizeof(a), s.m[FB_CLASSIC].pause_ms_median, true),
		md_num(b, sizeof(b), s.m[FB_CLASSIC].pause_ms_max, true),
		md_num(c3, sizeof(c3), s.m[FB_THIN].pause_ms_median, true),
		md_num(d, sizeof(d), s.m[FB_THIN].pause_ms_max, true));

	fprintf(f, "4 KiB random writes after the snapshot: fio "
		"`--number_ios=%s` (fixed work; fio's random map makes "
		"every write a first write to its block), configurations "
		"interleaved in %s rounds with the order rotated; the ratio "
		"is the median over rounds of IOPS / raw IOPS in the same "
		"round. Raw is partition 1 of a virtio disk; dm-linear, "
		"the classic origin and vmfit sit directly on it; dm-thin "
		"uses 64 KiB blocks on two other disks and was fully "
		"provisioned first.\n\n",
		meta_or(r, FB_META_NUMBER_IOS, "?"),
		meta_or(r, FB_META_ROUNDS, "?"));
	md_load_table(f, s.c);
	fprintf(f, "\nThe same after a snapshot with an fsync every %d "
		"writes (fio `--ioengine=psync --direct=1 --fsync=%d`, one "
		"writer, `--number_ios=%s`: every fsync is a flush the "
		"target has to make durable, with its metadata), same "
		"configurations and rounds:\n\n",
		FB_FSYNC_EVERY, FB_FSYNC_EVERY,
		meta_or(r, FB_META_FSYNC_NUMBER_IOS, "?"));
	md_load_table(f, s.f);

	fputs("\nTargets (within this run):\n\n", f);
	fprintf(f, "- vmfit longest gap <= %.1fx baseline: %sx, %s\n",
		FB_TARGET_GAP_RATIO,
		md_num(a, sizeof(a), t.gap_ratio, true), verdict(t.gap_met));
	fprintf(f, "- held_ns = 0 for >= %d of 20 snapshots: %zu of %zu, "
		"%s\n",
		FB_TARGET_HELD_ZERO, s.m[FB_VMFIT].held_zero,
		s.m[FB_VMFIT].held_n, verdict(t.held_met));
	fprintf(f, "- vmfit IOPS after a snapshot >= %.2fx dm-linear: %sx, "
		"%s\n", FB_TARGET_IOPS_RATIO,
		md_num(a, sizeof(a), t.iops_ratio, true), verdict(t.iops_met));
	fprintf(f, "- vmfit IOPS with an fsync every %d writes >= %.2fx "
		"dm-linear: %sx, %s\n", FB_FSYNC_EVERY, FB_TARGET_FSYNC_RATIO,
		md_num(a, sizeof(a), t.fsync_ratio, true),
		verdict(t.fsync_met));
	if (r->nfail) {
		fputs("\nParts that failed in this run:\n\n", f);
		for (i = 0; i < r->nfail; i++)
			fprintf(f, "- %s: %s\n", r->fail[i].what,
				r->fail[i].msg);
	}
	fputs("<!-- freeze:end -->\n", f);
	return ferror(f) ? -EIO : 0;
}
