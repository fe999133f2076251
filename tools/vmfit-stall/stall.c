// SPDX-License-Identifier: GPL-2.0-only
/*
 * stall.c - per-snapshot windows of bio completions (see stall.h).
 *
 * Completions are kept sorted by time in one array; the ring buffer
 * delivers them almost in order (CPUs race to reserve), so a new sample
 * is inserted from the tail. Samples older than every open window and
 * than the pre-window of a snapshot that may still begin are dropped.
 *
 * A snapshot opens a window at begin - pre. When the target reports the
 * view ready, the window ends at end + post; without an end it ends at
 * begin + end_timeout. A window is closed (measured and emitted) once the
 * clock is slack past its end, so that late events still count.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stall.h"

#define MSEC	1000000ULL

void stall_config_default(struct stall_config *cfg)
{
	cfg->pre_ns = 1000 * MSEC;
	cfg->post_ns = 1000 * MSEC;
	cfg->end_timeout_ns = 10000 * MSEC;
	cfg->slack_ns = 200 * MSEC;
	cfg->max_samples = 4 << 20;
}

int stall_tracker_init(struct stall_tracker *t, const struct stall_config *cfg,
		       stall_emit_fn emit, void *arg)
{
	if (!cfg->max_samples || cfg->end_timeout_ns < cfg->post_ns)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->emit = emit;
	t->emit_arg = arg;
	t->cap = 4096;
	t->s = malloc(t->cap * sizeof(*t->s));
	if (!t->s)
		return -ENOMEM;
	return 0;
}

void stall_tracker_destroy(struct stall_tracker *t)
{
	free(t->s);
	t->s = NULL;
	t->n = 0;
	t->head = 0;
	t->cap = 0;
}

/*----------------------------------------------------------------*/

unsigned int stall_hist_slot(uint64_t lat_ns)
{
	uint64_t us = lat_ns / 1000;
	unsigned int slot;

	if (us < 2)
		return 0;
	slot = 63 - __builtin_clzll(us);
	return slot < STALL_HIST_SLOTS ? slot : STALL_HIST_SLOTS - 1;
}

uint64_t stall_hist_lo_us(unsigned int slot)
{
	return slot ? 1ULL << slot : 0;
}

uint64_t stall_hist_hi_us(unsigned int slot)
{
	return (2ULL << slot) - 1;
}

/*----------------------------------------------------------------*/

static uint64_t sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The loss counter as it was at time ts (as far as we sampled it). */
static uint64_t lost_at(const struct stall_tracker *t, uint64_t ts)
{
	unsigned int i;

	for (i = t->nloss; i > 0; i--)
		if (t->loss[i - 1].ts <= ts)
			return t->loss[i - 1].total;
	/* Before the oldest change we remember: the oldest known base. */
	if (t->nloss == STALL_LOSS_HISTORY)
		return t->loss[0].total;
	return 0;
}

void stall_lost(struct stall_tracker *t, uint64_t now, uint64_t total)
{
	if (total == t->lost_total)
		return;
	if (t->nloss == STALL_LOSS_HISTORY) {
		memmove(t->loss, t->loss + 1, (t->nloss - 1) * sizeof(*t->loss));
		t->nloss--;
	}
	t->loss[t->nloss].ts = now;
	t->loss[t->nloss].total = total;
	t->nloss++;
	t->lost_total = total;
}

/* First index in [head, n) whose ts >= ts. */
static size_t lower_bound(const struct stall_tracker *t, uint64_t ts)
{
	size_t lo = t->head, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->s[mid].ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void prune(struct stall_tracker *t)
{
	uint64_t keep = sub_floor(t->newest, t->cfg.pre_ns + t->cfg.slack_ns);
	unsigned int i;

	for (i = 0; i < t->nwin; i++)
		if (t->win[i].rec.win_start_ns < keep)
			keep = t->win[i].rec.win_start_ns;
	t->head = lower_bound(t, keep);
	if (t->head == t->n) {
		t->head = 0;
		t->n = 0;
	}
}

static int make_room(struct stall_tracker *t)
{
	struct stall_sample *s;
	size_t cap;
	unsigned int i;

	if (t->n - t->head >= t->cfg.max_samples) {
		/* Too many: drop the oldest, and say so where it matters. */
		for (i = 0; i < t->nwin; i++)
			if (t->win[i].rec.win_start_ns <= t->s[t->head].ts)
				t->win[i].rec.flags |= STALL_F_OVERFLOW;
		t->head++;
	}
	if (t->n < t->cap)
		return 0;
	if (t->head >= t->cap / 2) {
		memmove(t->s, t->s + t->head, (t->n - t->head) * sizeof(*t->s));
		t->n -= t->head;
		t->head = 0;
		return 0;
	}
	cap = t->cap * 2;
	s = realloc(t->s, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	t->s = s;
	t->cap = cap;
	return 0;
}

int stall_io(struct stall_tracker *t, uint64_t ts, uint64_t lat_ns)
{
	size_t i;
	int r;

	r = make_room(t);
	if (r)
		return r;
	i = t->n;
	while (i > t->head && t->s[i - 1].ts > ts)
		i--;
	memmove(t->s + i + 1, t->s + i, (t->n - i) * sizeof(*t->s));
	t->s[i].ts = ts;
	t->s[i].lat = lat_ns;
	t->n++;
	if (ts > t->newest)
		t->newest = ts;
	prune(t);
	return 0;
}

int stall_snap_begin(struct stall_tracker *t, uint32_t dev, uint64_t ts,
		     uint64_t epoch)
{
	struct stall_window *w;

	if (t->nwin == STALL_MAX_WINDOWS)
		return -ENOSPC;
	w = &t->win[t->nwin++];
	memset(w, 0, sizeof(*w));
	w->rec.dev = dev;
	w->rec.epoch = epoch;
	w->rec.begin_ns = ts;
	w->rec.win_start_ns = sub_floor(ts, t->cfg.pre_ns);
	w->rec.win_end_ns = ts + t->cfg.end_timeout_ns;
	w->lost_base = lost_at(t, w->rec.win_start_ns);
	if (ts > t->newest)
		t->newest = ts;
	return 0;
}

void stall_snap_end(struct stall_tracker *t, uint32_t dev, uint64_t ts,
		    uint64_t epoch, uint64_t held_ns, uint64_t drain_ns)
{
	struct stall_window *w;
	unsigned int i;

	for (i = 0; i < t->nwin; i++) {
		w = &t->win[i];
		if (w->ended || w->rec.epoch != epoch || w->rec.dev != dev)
			continue;
		w->ended = true;
		w->rec.end_ns = ts;
		w->rec.held_ns = held_ns;
		w->rec.drain_ns = drain_ns;
		w->rec.win_end_ns = (ts > w->rec.begin_ns ? ts : w->rec.begin_ns) +
				    t->cfg.post_ns;
		return;
	}
	t->orphan_ends++;
}

/*----------------------------------------------------------------*/

static void measure(struct stall_tracker *t, struct stall_record *r)
{
	size_t i = lower_bound(t, r->win_start_ns);
	uint64_t prev = 0;
	bool first = true;

	for (; i < t->n && t->s[i].ts <= r->win_end_ns; i++) {
		const struct stall_sample *s = &t->s[i];

		r->ios++;
		if (s->lat == STALL_LAT_NONE)
			r->lat_unknown++;
		else
			r->hist[stall_hist_slot(s->lat)]++;
		if (!first && s->ts - prev >= r->gap_ns) {
			r->gap_ns = s->ts - prev;
			r->gap_start_ns = prev;
		}
		prev = s->ts;
		first = false;
	}
}

static void close_window(struct stall_tracker *t, unsigned int idx)
{
	struct stall_window *w = &t->win[idx];

	if (!w->ended)
		w->rec.flags |= STALL_F_NO_END;
	measure(t, &w->rec);
	w->rec.lost = t->lost_total - w->lost_base;
	t->records++;
	if (t->emit)
		t->emit(&w->rec, t->emit_arg);
	memmove(w, w + 1, (t->nwin - idx - 1) * sizeof(*w));
	t->nwin--;
}

void stall_tick(struct stall_tracker *t, uint64_t now)
{
	unsigned int i = 0;

	while (i < t->nwin) {
		if (now >= t->win[i].rec.win_end_ns + t->cfg.slack_ns)
			close_window(t, i);
		else
			i++;
	}
	prune(t);
}

void stall_flush(struct stall_tracker *t, uint64_t now)
{
	struct stall_window *w;

	while (t->nwin) {
		w = &t->win[0];
		if (w->rec.win_end_ns > now) {
			w->rec.win_end_ns = now;
			w->rec.flags |= STALL_F_TRUNCATED;
		}
		close_window(t, 0);
	}
}

/*
 *--------------------------------------------------------------
 * Output
 *--------------------------------------------------------------
 */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static int64_t rel(uint64_t ts, uint64_t base)
{
	return (int64_t)(ts - base);
}

#define HIST_WIDTH	40

static void print_hist(FILE *f, const uint64_t *hist)
{
	unsigned int i, lo = STALL_HIST_SLOTS, hi = 0, n;
	uint64_t max = 0;

	for (i = 0; i < STALL_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		if (lo == STALL_HIST_SLOTS)
			lo = i;
		hi = i;
		if (hist[i] > max)
			max = hist[i];
	}
	if (!max)
		return;
	fprintf(f, "%20s : %-8s |%-*s|\n", "usecs", "count", HIST_WIDTH,
		"distribution");
	for (i = lo; i <= hi; i++) {
		n = (unsigned int)((hist[i] * HIST_WIDTH + max - 1) / max);
		fprintf(f, "%9" PRIu64 " -> %-9" PRIu64 " : %-8" PRIu64 " |",
			stall_hist_lo_us(i), stall_hist_hi_us(i), hist[i]);
		fprintf(f, "%.*s%*s|\n", (int)n,
			"****************************************",
			(int)(HIST_WIDTH - n), "");
	}
}

static const char *const flag_names[] = { "no_end", "truncated", "overflow" };

void stall_print_header(FILE *f)
{
	fprintf(f, "%-9s %6s %9s %9s %8s %10s %10s %6s %s\n", "DEV", "EPOCH",
		"HELD_ms", "DRAIN_ms", "IOS", "MAXGAP_ms", "GAP_AT_ms", "LOST",
		"FLAGS");
}

void stall_print_text(FILE *f, const struct stall_record *r)
{
	char dev[24];
	unsigned int i;
	bool any = false;

	snprintf(dev, sizeof(dev), "%u:%u", r->dev >> 20, r->dev & 0xfffff);
	fprintf(f, "%-9s %6" PRIu64 " %9.3f %9.3f %8" PRIu64, dev, r->epoch,
		ms(r->held_ns), ms(r->drain_ns), r->ios);
	if (r->ios >= 2)
		fprintf(f, " %10.3f %+10.3f", ms(r->gap_ns),
			rel(r->gap_start_ns, r->begin_ns) / 1e6);
	else
		fprintf(f, " %10s %10s", "-", "-");
	fprintf(f, " %6" PRIu64 " ", r->lost);
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (r->flags & (1U << i)) {
			fprintf(f, "%s%s", any ? "," : "", flag_names[i]);
			any = true;
		}
	}
	fprintf(f, "%s\n", any ? "" : "-");
	print_hist(f, r->hist);
}

void stall_print_json(FILE *f, const struct stall_record *r,
		      int64_t realtime_off)
{
	unsigned int i;
	bool any = false;

	fprintf(f, "{\"dev\":\"%u:%u\",\"epoch\":%" PRIu64
		",\"begin_ns\":%" PRIu64, r->dev >> 20, r->dev & 0xfffff,
		r->epoch, r->begin_ns);
	if (realtime_off)
		fprintf(f, ",\"begin_realtime_ns\":%" PRId64,
			(int64_t)r->begin_ns + realtime_off);
	if (r->end_ns)
		fprintf(f, ",\"view_ready_ns\":%" PRId64,
			rel(r->end_ns, r->begin_ns));
	else
		fprintf(f, ",\"view_ready_ns\":null");
	fprintf(f, ",\"held_ns\":%" PRIu64 ",\"drain_ns\":%" PRIu64
		",\"window_start_ns\":%" PRId64 ",\"window_end_ns\":%" PRId64
		",\"ios\":%" PRIu64 ",\"lat_unknown\":%" PRIu64,
		r->held_ns, r->drain_ns, rel(r->win_start_ns, r->begin_ns),
		rel(r->win_end_ns, r->begin_ns), r->ios, r->lat_unknown);
	if (r->ios >= 2) {
		fprintf(f, ",\"max_gap_ns\":%" PRIu64
			",\"max_gap_start_ns\":%" PRId64, r->gap_ns,
			rel(r->gap_start_ns, r->begin_ns));
		if (realtime_off)
			fprintf(f, ",\"max_gap_start_realtime_ns\":%" PRId64,
				(int64_t)r->gap_start_ns + realtime_off);
	} else {
		fprintf(f, ",\"max_gap_ns\":null,\"max_gap_start_ns\":null");
	}
	fprintf(f, ",\"lost\":%" PRIu64 ",\"flags\":[", r->lost);
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (r->flags & (1U << i)) {
			fprintf(f, "%s\"%s\"", any ? "," : "", flag_names[i]);
			any = true;
		}
	}
	fprintf(f, "],\"lat_hist_us\":[");
	any = false;
	for (i = 0; i < STALL_HIST_SLOTS; i++) {
		if (!r->hist[i])
			continue;
		fprintf(f, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64
			",\"count\":%" PRIu64 "}", any ? "," : "",
			stall_hist_lo_us(i), stall_hist_hi_us(i), r->hist[i]);
		any = true;
	}
	fprintf(f, "]}\n");
}
