/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replay - crash states of a data device from its dm-log-writes log.
 *
 * The log orders every write and flush of the data device (lwlog.h). A
 * plain write is logged only when a later flush is issued, as part of the
 * run logged right before that flush's own entry; FUA writes and marks are
 * logged as they complete. So, at any point i of the log, a disk with a
 * volatile write cache holds:
 *
 *   everything up to the last flush entry before i ("durable"),
 *   + every FUA write between that flush and i,
 *   + any subset of the plain writes (and discards) between them.
 *
 * Within one flush interval the log holds the FUA writes first (each as
 * it completed) and the plain writes last (as the run of the closing
 * flush), although every one of those plain writes completed before the
 * flush was issued, often before the FUA writes: a dm-kcopyd copy of a
 * chunk, say, and then a FUA write into it. The log cannot tell; the
 * replay puts the plain writes of an interval before its FUA writes. (The
 * other order, a plain write to a sector after a FUA write to it and
 * before the next flush, is then replayed wrongly; O_DSYNC writes are
 * followed by a flush, so a workload of those cannot produce it.)
 *
 * rp_replay() walks the log once and hands out two kinds of states:
 *
 *   "mark":   at a mark entry, everything before it (all pending writes):
 *             what the disk holds if the power fails right after the
 *             workload placed that mark;
 *   "random": at a random entry, with a random subset (each plain write
 *             with probability 1/2) of the pending writes: a power cut
 *             anywhere, with a volatile cache.
 *
 * The states, their points and subsets are a function of the log and the
 * seed only, so a state can be rebuilt alone (opts.only) to reproduce.
 */
#ifndef REPLAY_H
#define REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "lwlog.h"

struct rp_write {
	uint64_t entry;		/* log index */
	uint64_t off;		/* bytes into the data device */
	uint64_t len;
	uint8_t *data;		/* NULL: a discard (replayed as zeros) */
	int fua;		/* durable at completion: always applied */
};

struct rp_opts {
	uint64_t seed;
	uint64_t marks;		/* mark states to hand out; 0 = every mark */
	uint64_t random;	/* random states to hand out */
	uint64_t only;		/* hand out only state number @only (1-based) */
	uint64_t size;		/* data device bytes */
	/*
	 * Only marks whose text starts with this count (NULL: all), so that
	 * the "dm-log-writes-end" mark the target writes on removal, or any
	 * other, is neither a state nor the "last mark" of one.
	 */
	const char *mark_prefix;
};

enum rp_kind { RP_MARK, RP_RANDOM };

struct rp_state {
	uint64_t number;	/* 1-based, in log order */
	uint64_t entry;		/* the crash is right before this entry */
	enum rp_kind kind;
	const char *mark;	/* text of the last mark before the point */
	const uint8_t *durable;	/* size bytes */
	uint64_t size;
	const struct rp_write *pending;
	const uint8_t *applied;	/* per pending write: 1 = on the disk */
	size_t npending;
	size_t napplied;
};

/* 0 = state fine, 1 = the state failed its check, < 0 = stop now. */
typedef int (*rp_emit_fn)(void *ctx, const struct rp_state *st);

struct rp_result {
	uint64_t states;	/* handed out */
	uint64_t failed;	/* emit returned 1 */
	uint64_t marks;		/* mark entries in the log */
	uint64_t entries;
};

/*
 * Replay the log at @path. Returns 0, or -1 with a message in @err (a bad
 * log, an entry beyond @opts->size, out of memory, emit < 0).
 */
int rp_replay(const char *path, const struct rp_opts *opts, rp_emit_fn emit,
	      void *ctx, struct rp_result *res, char *err, size_t errlen);

/* Write state @st into @img (st->size bytes): durable + applied writes. */
void rp_state_compose(const struct rp_state *st, uint8_t *img);

/* The seeded generator the replay uses (splitmix64). */
uint64_t rp_rand(uint64_t *state);

#endif /* REPLAY_H */
