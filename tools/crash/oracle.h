/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * oracle - what a crash state of a vmfit device must show, from the record
 * of the workload that produced it (vmfit-crash run).
 *
 * The record is text, one event a line, in the order the (single-threaded,
 * synchronous) workload saw them complete:
 *
 *   vmfit-crash-oracle 1
 *   blocks <N> seed <S>
 *   w <block> <gen> <ok|fail>   a write completed; durable after a flush
 *   W <block> <gen> <ok|fail>   an O_DSYNC (FUA) write completed: durable
 *   f <ok|fail>                 fsync: every completed write is durable
 *   m <n>                       mark "vmfit-<n>" placed in the log
 *   snap                        snapshot message returned (after an fsync)
 *   ready                       the view was seen ready: snapshot committed
 *   drop                        drop returned: the frozen image is live
 *   merge                       merge message returned
 *   merged                      the status showed normal mode again
 *   clear                       clear returned: a new changed set
 *
 * Every block holds a vmtest-block.h block: (seed, block, gen) tells which
 * write put it there. For a crash after mark M (and before mark M+1) the
 * oracle gives, per block, the generations it may hold: the last one made
 * durable by mark M, or any write (or drop) to it after that; the modes the
 * device may load in; the frozen images an active snapshot may show; and
 * the chunks the changed set must report.
 */
#ifndef ORACLE_H
#define ORACLE_H

#include <stdint.h>
#include <stdio.h>

#define OR_NORMAL	1u
#define OR_SNAPSHOT	2u
#define OR_MERGING	4u

struct or_value {
	uint64_t gen;
	uint32_t line;		/* line of the record that made it */
	uint8_t ok;		/* the write succeeded */
	uint8_t changed;	/* a normal/merging-mode write since clear */
};

struct or_block {
	struct or_value *v;
	uint32_t n, cap;
	uint32_t dur;		/* index of the value durable at the mark */
	int has_dur;
};

struct oracle {
	uint64_t nblocks;
	uint64_t seed;
	struct or_block *b;
	uint64_t mark;		/* the mark of the crash */
	unsigned int modes;	/* OR_* the device may load in */
	/*
	 * Per block, the gen a view may show: [0] the image of the snapshot
	 * active at the mark, [1] of one taken after it (before mark + 1).
	 */
	uint64_t *frozen[2];
	int has_frozen[2];
	uint32_t mark_line;	/* line of "m <mark>" */
	uint32_t next_line;	/* line of "m <mark+1>", 0 if none */
};

/*
 * Read the record @f up to mark @mark + 1. Returns 0, or -1 with a message
 * in @err (malformed record with its line number, no such mark).
 */
int or_load(struct oracle *o, FILE *f, uint64_t mark, char *err,
	    size_t errlen);
void or_free(struct oracle *o);

/* 1 when block @blk may hold generation @gen in the crash state. */
int or_allowed(const struct oracle *o, uint64_t blk, uint64_t gen);
/* The generation block @blk is guaranteed to hold (durable at the mark). */
int or_durable(const struct oracle *o, uint64_t blk, uint64_t *gen);
/* 1 when a durable write since the last clear must be in the changed set. */
int or_must_be_changed(const struct oracle *o, uint64_t blk);
/* "normal|snapshot" for a mode set. */
const char *or_modes_name(unsigned int modes, char *buf, size_t len);

#endif /* ORACLE_H */
