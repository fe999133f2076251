/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stall.h - the pure part of vmfit-stall: per-snapshot windows of bio
 * completions, their longest completion gap and latency histogram, and
 * the text and JSON renderings of a record. No BPF, no I/O besides the
 * FILE * it is given: tools/vmfit-stall/stall-test.c tests it on the host.
 *
 * Times are CLOCK_MONOTONIC nanoseconds, the clock of bpf_ktime_get_ns().
 */
#ifndef VMFIT_STALL_CORE_H
#define VMFIT_STALL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Slot i counts latencies in [2^i, 2^(i+1)) us; slot 0 is [0, 2) us. */
#define STALL_HIST_SLOTS	32
/* Snapshot windows open at the same time (snapshots in quick succession). */
#define STALL_MAX_WINDOWS	16
/* Loss-counter changes remembered to charge losses to windows. */
#define STALL_LOSS_HISTORY	64

#define STALL_LAT_NONE		UINT64_MAX	/* latency not known */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* Record flags. */
#define STALL_F_NO_END		0x1	/* no snapshot_end within the timeout */
#define STALL_F_TRUNCATED	0x2	/* closed early (the tool was stopped) */
#define STALL_F_OVERFLOW	0x4	/* completions were dropped: too many */

struct stall_config {
	uint64_t pre_ns;	/* window start: this long before the begin */
	uint64_t post_ns;	/* window end: this long after the view is ready */
	uint64_t end_timeout_ns; /* give up waiting for the end after this */
	uint64_t slack_ns;	/* close a window this long after its end */
	size_t max_samples;	/* completions kept at most */
};

struct stall_record {
	uint32_t dev;		/* kernel dev_t */
	uint64_t epoch;
	uint64_t begin_ns;	/* vmfit_snapshot_begin */
	uint64_t end_ns;	/* vmfit_snapshot_end (view ready), 0 if none */
	uint64_t held_ns;	/* the target's total bio hold time */
	uint64_t drain_ns;	/* the target's begin-to-ready time */
	uint64_t win_start_ns;	/* the window: [win_start_ns, win_end_ns] */
	uint64_t win_end_ns;
	uint64_t ios;		/* completions in the window */
	uint64_t lat_unknown;	/* ... of which the queue time was not seen */
	uint64_t gap_ns;	/* longest time between consecutive completions */
	uint64_t gap_start_ns;	/* the completion that opens that gap */
	uint64_t hist[STALL_HIST_SLOTS]; /* latencies of the completions */
	uint64_t lost;		/* events the kernel could not queue */
	unsigned int flags;	/* STALL_F_* */
};

typedef void (*stall_emit_fn)(const struct stall_record *rec, void *arg);

struct stall_sample {
	uint64_t ts;
	uint64_t lat;
};

struct stall_window {
	struct stall_record rec;
	uint64_t lost_base;	/* loss counter when the window started */
	bool ended;
};

struct stall_loss {
	uint64_t ts;
	uint64_t total;
};

struct stall_tracker {
	struct stall_config cfg;
	stall_emit_fn emit;
	void *emit_arg;
	struct stall_sample *s;	/* completions sorted by ts: [head, n) */
	size_t head;
	size_t n;
	size_t cap;
	uint64_t newest;	/* latest timestamp seen (any event) */
	struct stall_window win[STALL_MAX_WINDOWS];
	unsigned int nwin;
	struct stall_loss loss[STALL_LOSS_HISTORY];
	unsigned int nloss;
	uint64_t lost_total;
	uint64_t records;	/* records emitted */
	uint64_t orphan_ends;	/* snapshot_end without a matching begin */
};

void stall_config_default(struct stall_config *cfg);
int stall_tracker_init(struct stall_tracker *t, const struct stall_config *cfg,
		       stall_emit_fn emit, void *arg);
void stall_tracker_destroy(struct stall_tracker *t);

int stall_io(struct stall_tracker *t, uint64_t ts, uint64_t lat_ns);
int stall_snap_begin(struct stall_tracker *t, uint32_t dev, uint64_t ts,
		     uint64_t epoch);
void stall_snap_end(struct stall_tracker *t, uint32_t dev, uint64_t ts,
		    uint64_t epoch, uint64_t held_ns, uint64_t drain_ns);
void stall_lost(struct stall_tracker *t, uint64_t now, uint64_t total);
void stall_tick(struct stall_tracker *t, uint64_t now);
void stall_flush(struct stall_tracker *t, uint64_t now);

unsigned int stall_hist_slot(uint64_t lat_ns);
uint64_t stall_hist_lo_us(unsigned int slot);
uint64_t stall_hist_hi_us(unsigned int slot);

/*
 * Renderings. realtime_off is CLOCK_REALTIME - CLOCK_MONOTONIC in ns, to
 * print wall-clock instants next to monotonic ones (0: omit them).
 */
void stall_print_header(FILE *f);
void stall_print_text(FILE *f, const struct stall_record *r);
void stall_print_json(FILE *f, const struct stall_record *r,
		      int64_t realtime_off);

#endif /* VMFIT_STALL_CORE_H */
