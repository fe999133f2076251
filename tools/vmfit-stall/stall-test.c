// SPDX-License-Identifier: GPL-2.0-only
/*
 * stall-test.c - host unit test of vmfit-stall's pure part (stall.c):
 * windows, gaps, histogram slots, losses, overflow, and the JSON and text
 * renderings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stall.h"
#include "vf_check.h"

#define MS	1000000ULL
#define US	1000ULL

struct sink {
	struct stall_record rec[8];
	unsigned int n;
};

static void collect(const struct stall_record *r, void *arg)
{
	struct sink *s = arg;

	if (s->n < 8)
		s->rec[s->n] = *r;
	s->n++;
}

static void small_config(struct stall_config *cfg)
{
	stall_config_default(cfg);
	cfg->pre_ns = 100 * MS;
	cfg->post_ns = 50 * MS;
	cfg->end_timeout_ns = 1000 * MS;
	cfg->slack_ns = 10 * MS;
}

/* One completion a millisecond in [from, to) ms, latency lat_us. */
static void ios(struct stall_tracker *t, unsigned int from, unsigned int to,
		uint64_t lat_us)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		CHECK_EQ(stall_io(t, i * MS, lat_us * US), 0);
		stall_tick(t, i * MS);
	}
}

static void test_hist_slots(void)
{
	CHECK_EQ(stall_hist_slot(0), 0);
	CHECK_EQ(stall_hist_slot(1999), 0);
	CHECK_EQ(stall_hist_slot(2000), 1);
	CHECK_EQ(stall_hist_slot(3999), 1);
	CHECK_EQ(stall_hist_slot(4000), 2);
	CHECK_EQ(stall_hist_slot(1024 * US), 10);
	CHECK_EQ(stall_hist_slot(UINT64_MAX - 1), STALL_HIST_SLOTS - 1);
	CHECK_EQ(stall_hist_lo_us(0), 0);
	CHECK_EQ(stall_hist_hi_us(0), 1);
	CHECK_EQ(stall_hist_lo_us(10), 1024);
	CHECK_EQ(stall_hist_hi_us(10), 2047);
}

static void test_config(void)
{
	struct stall_tracker t;
	struct stall_config cfg;

	small_config(&cfg);
	cfg.end_timeout_ns = cfg.post_ns - 1;
	CHECK_EQ(stall_tracker_init(&t, &cfg, NULL, NULL), -EINVAL);
	small_config(&cfg);
	cfg.max_samples = 0;
	CHECK_EQ(stall_tracker_init(&t, &cfg, NULL, NULL), -EINVAL);
}

/*
 * Completions every ms, none in (1200, 1235) ms; a snapshot at 1210 ms
 * whose view is ready at 1220 ms: window [1110, 1270] ms.
 */
static void test_window_gap(void)
{
	struct stall_tracker t;
	struct stall_config cfg;
	struct sink s = { 0 };
	const struct stall_record *r = &s.rec[0];

	small_config(&cfg);
	CHECK_EQ(stall_tracker_init(&t, &cfg, collect, &s), 0);
	ios(&t, 1000, 1201, 3);		/* 3 us: slot 1 */
	CHECK_EQ(stall_snap_begin(&t, 254 << 20 | 3, 1210 * MS, 7), 0);
	stall_snap_end(&t, 254 << 20 | 3, 1220 * MS, 7, 5 * MS, 10 * MS);
	ios(&t, 1235, 1280, 100);	/* 100 us: slot 6 */
	CHECK_EQ(s.n, 0);		/* 1279 < 1270 + slack */
	stall_tick(&t, 1280 * MS);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(r->dev, 254 << 20 | 3);
	CHECK_EQ(r->epoch, 7);
	CHECK_EQ(r->begin_ns, 1210 * MS);
	CHECK_EQ(r->end_ns, 1220 * MS);
	CHECK_EQ(r->held_ns, 5 * MS);
	CHECK_EQ(r->drain_ns, 10 * MS);
	CHECK_EQ(r->win_start_ns, 1110 * MS);
	CHECK_EQ(r->win_end_ns, 1270 * MS);
	/* [1110, 1200] and [1235, 1270]: 91 + 36 completions. */
	CHECK_EQ(r->ios, 127);
	CHECK_EQ(r->hist[1], 91);
	CHECK_EQ(r->hist[6], 36);
	CHECK_EQ(r->lat_unknown, 0);
	CHECK_EQ(r->gap_ns, 35 * MS);
	CHECK_EQ(r->gap_start_ns, 1200 * MS);
	CHECK_EQ(r->flags, 0);
	CHECK_EQ(r->lost, 0);
	CHECK_EQ(t.nwin, 0);
	stall_tracker_destroy(&t);
}

/* Events out of order, unknown latencies, no snapshot end. */
static void test_unordered_no_end(void)
{
	static const unsigned int at[] = { 500, 520, 510, 560, 530, 505 };
	struct stall_tracker t;
	struct stall_config cfg;
	struct sink s = { 0 };
	const struct stall_record *r = &s.rec[0];
	unsigned int i;

	small_config(&cfg);
	CHECK_EQ(stall_tracker_init(&t, &cfg, collect, &s), 0);
	CHECK_EQ(stall_snap_begin(&t, 1, 505 * MS, 1), 0);
	for (i = 0; i < ARRAY_SIZE(at); i++)
		CHECK_EQ(stall_io(&t, at[i] * MS, i == 2 ? STALL_LAT_NONE : 0), 0);
	stall_tick(&t, 1514 * MS);
	CHECK_EQ(s.n, 0);
	stall_tick(&t, 1515 * MS);	/* begin + timeout + slack */
	CHECK_EQ(s.n, 1);
	CHECK_EQ(r->flags, STALL_F_NO_END);
	CHECK_EQ(r->end_ns, 0);
	CHECK_EQ(r->win_end_ns, 1505 * MS);
	CHECK_EQ(r->ios, 6);
	CHECK_EQ(r->lat_unknown, 1);
	CHECK_EQ(r->hist[0], 5);
	CHECK_EQ(r->gap_ns, 30 * MS);	/* 530 -> 560 */
	CHECK_EQ(r->gap_start_ns, 530 * MS);
	stall_tracker_destroy(&t);
}

/* Two snapshots whose windows overlap; an end without a begin. */
static void test_overlap_orphan(void)
{
	struct stall_tracker t;
	struct stall_config cfg;
	struct sink s = { 0 };

	small_config(&cfg);
	CHECK_EQ(stall_tracker_init(&t, &cfg, collect, &s), 0);
	stall_snap_end(&t, 1, 10 * MS, 99, 0, 0);
	CHECK_EQ(t.orphan_ends, 1);
	ios(&t, 1000, 1100, 10);
	CHECK_EQ(stall_snap_begin(&t, 1, 1100 * MS, 1), 0);
	ios(&t, 1100, 1110, 10);
	stall_snap_end(&t, 1, 1110 * MS, 1, 0, 1 * MS);
	ios(&t, 1110, 1130, 10);
	CHECK_EQ(stall_snap_begin(&t, 1, 1130 * MS, 2), 0);
	stall_snap_end(&t, 2, 1131 * MS, 2, 0, 1 * MS);	/* wrong dev */
	CHECK_EQ(t.orphan_ends, 2);
	stall_snap_end(&t, 1, 1131 * MS, 2, 0, 1 * MS);
	ios(&t, 1130, 1300, 10);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.rec[0].epoch, 1);
	CHECK_EQ(s.rec[0].win_start_ns, 1000 * MS);
	CHECK_EQ(s.rec[0].win_end_ns, 1160 * MS);
	CHECK_EQ(s.rec[0].ios, 161);
	CHECK_EQ(s.rec[0].gap_ns, 1 * MS);
	CHECK_EQ(s.rec[1].epoch, 2);
	CHECK_EQ(s.rec[1].win_start_ns, 1030 * MS);
	CHECK_EQ(s.rec[1].win_end_ns, 1181 * MS);
	CHECK_EQ(s.rec[1].ios, 152);
	stall_tracker_destroy(&t);
}

/* Losses before a window are not charged to it; flush truncates. */
static void test_lost_flush(void)
{
	struct stall_tracker t;
	struct stall_config cfg;
	struct sink s = { 0 };
	const struct stall_record *r = &s.rec[0];
	unsigned int i;

	small_config(&cfg);
	CHECK_EQ(stall_tracker_init(&t, &cfg, collect, &s), 0);
	stall_lost(&t, 100 * MS, 5);
	ios(&t, 300, 400, 1);
	CHECK_EQ(stall_snap_begin(&t, 1, 400 * MS, 3), 0);
	stall_lost(&t, 410 * MS, 8);
	stall_lost(&t, 420 * MS, 8);
	CHECK_EQ(t.nloss, 2);
	ios(&t, 400, 420, 1);
	stall_flush(&t, 420 * MS);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(r->lost, 3);
	CHECK_EQ(r->flags, STALL_F_NO_END | STALL_F_TRUNCATED);
	CHECK_EQ(r->win_end_ns, 420 * MS);
	CHECK_EQ(r->ios, 120);
	CHECK_EQ(t.nwin, 0);
	/* Too many snapshots at once. */
	for (i = 0; i < STALL_MAX_WINDOWS; i++)
		CHECK_EQ(stall_snap_begin(&t, 1, 500 * MS, 10 + i), 0);
	CHECK_EQ(stall_snap_begin(&t, 1, 500 * MS, 99), -ENOSPC);
	stall_tracker_destroy(&t);
}

/* More completions than max_samples: the window says so. */
static void test_overflow(void)
{
	struct stall_tracker t;
	struct stall_config cfg;
	struct sink s = { 0 };

	small_config(&cfg);
	cfg.max_samples = 10;
	CHECK_EQ(stall_tracker_init(&t, &cfg, collect, &s), 0);
	CHECK_EQ(stall_snap_begin(&t, 1, 1000 * MS, 1), 0);
	stall_snap_end(&t, 1, 1000 * MS, 1, 0, 0);
	ios(&t, 1000, 1020, 1);
	stall_flush(&t, 2000 * MS);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.rec[0].flags, STALL_F_OVERFLOW);
	CHECK_EQ(s.rec[0].ios, 10);
	stall_tracker_destroy(&t);
}

static char *render(const struct stall_record *r, int json, int64_t off)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (json)
		stall_print_json(f, r, off);
	else
		stall_print_text(f, r);
	fclose(f);
	return buf;
}

static void test_render(void)
{
	struct stall_record r = {
		.dev = 254 << 20 | 3,
		.epoch = 2,
		.begin_ns = 5000 * MS,
		.end_ns = 5012 * MS,
		.held_ns = 1500 * US,
		.drain_ns = 12 * MS,
		.win_start_ns = 4000 * MS,
		.win_end_ns = 6012 * MS,
		.ios = 40,
		.lat_unknown = 1,
		.gap_ns = 20 * MS,
		.gap_start_ns = 4999 * MS,
		.lost = 0,
		.flags = STALL_F_TRUNCATED,
	};
	static const char row[] =
		"254:3          2     1.500    12.000       40     20.000     -1.000      0 truncated\n";
	static const char h16[] =
		"       16 -> 31        : 30       |****************************************|\n";
	static const char h32[] =
		"       32 -> 63        : 0        |                                        |\n";
	static const char h64[] =
		"       64 -> 127       : 9        |************                            |\n";
	char *out;

	r.hist[4] = 30;
	r.hist[6] = 9;
	out = render(&r, 1, 1000);
	CHECK_STR(out,
		  "{\"dev\":\"254:3\",\"epoch\":2,\"begin_ns\":5000000000,"
		  "\"begin_realtime_ns\":5000001000,\"view_ready_ns\":12000000,"
		  "\"held_ns\":1500000,\"drain_ns\":12000000,"
		  "\"window_start_ns\":-1000000000,\"window_end_ns\":1012000000,"
		  "\"ios\":40,\"lat_unknown\":1,\"max_gap_ns\":20000000,"
		  "\"max_gap_start_ns\":-1000000,"
		  "\"max_gap_start_realtime_ns\":4999001000,\"lost\":0,"
		  "\"flags\":[\"truncated\"],\"lat_hist_us\":["
		  "{\"lo\":16,\"hi\":31,\"count\":30},"
		  "{\"lo\":64,\"hi\":127,\"count\":9}]}\n");
	free(out);

	out = render(&r, 0, 0);
	CHECK(out && strstr(out, row));
	CHECK(out && strstr(out, h16));
	CHECK(out && strstr(out, h32));
	CHECK(out && strstr(out, h64));
	free(out);

	/* Fewer than two completions: no gap; no end: null. */
	r.ios = 1;
	r.end_ns = 0;
	r.flags = STALL_F_NO_END;
	memset(r.hist, 0, sizeof(r.hist));
	out = render(&r, 1, 0);
	CHECK(out && strstr(out, "\"view_ready_ns\":null,"));
	CHECK(out && strstr(out, "\"max_gap_ns\":null,\"max_gap_start_ns\":null,"));
	CHECK(out && strstr(out, "\"flags\":[\"no_end\"],\"lat_hist_us\":[]}\n"));
	CHECK(out && !strstr(out, "realtime"));
	free(out);
	out = render(&r, 0, 0);
	CHECK(out && strstr(out, "          -          -      0 no_end\n"));
	CHECK(out && !strstr(out, "usecs"));
	free(out);
}

int main(void)
{
	test_hist_slots();
	test_config();
	test_window_gap();
	test_unordered_no_end();
	test_overlap_orphan();
	test_lost_flush();
	test_overflow();
	test_render();
	return vf_check_done("vmfit-stall-test");
}
