/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_voter.h - f+1 voting on replica replies, per order number.
 *
 * Every manager runs the same voter over the same totally ordered stream of
 * votes, so every manager decides every order at the same point of the
 * stream. A vote is (order, node, reply bytes); replies are compared by
 * their SHA-256 digest. An order is decided by the first f+1 identical
 * digests; its winning reply bytes are handed to the caller once.
 *
 * Memory is bounded: a ring of @window slots. vf_voter_open() opens the
 * next order and, if the ring is full, evicts the oldest slot (an
 * undecided one is reported through the expire callback). Reply bytes are
 * kept per distinct digest only until the order is decided.
 */
#ifndef VF_VOTER_H
#define VF_VOTER_H

#include <stddef.h>
#include <stdint.h>

#include "vf_sha256.h"

struct vf_rd;
struct vf_wbuf;

#define VF_DIGEST_LEN		VF_SHA256_LEN
#define VF_VOTER_MAX_VOTES	8	/* votes kept per order (2f+1 <= 7) */

enum {
	VF_VOTE_PENDING = 0,
	VF_VOTE_DECIDED = 1,
};

struct vf_voter;

struct vf_voter_ops {
	/* @node's reply for @order lost the vote (or came after it). */
	void (*suspect)(void *arg, uint64_t order, uint32_t node);
	/* @order was evicted from the window undecided. */
	void (*expire)(void *arg, uint64_t order);
};

struct vf_decision {
	uint64_t order;
	uint8_t digest[VF_DIGEST_LEN];
	const uint8_t *data;	/* winner bytes; valid until the next call */
	uint32_t len;
};

/* f: faults tolerated (f+1 identical votes decide); window >= 1. */
struct vf_voter *vf_voter_new(unsigned int f, unsigned int window,
			      const struct vf_voter_ops *ops, void *arg);
void vf_voter_free(struct vf_voter *v);

/*
 * Open the slot of the next order (orders are opened 1, 2, 3, ...).
 * Returns 0, or -EINVAL if @order is not the next one.
 */
int vf_voter_open(struct vf_voter *v, uint64_t order);

/*
 * Count @node's vote for @order. Returns VF_VOTE_DECIDED (this vote made
 * f+1 identical digests; @out filled), VF_VOTE_PENDING, or a negative
 * value for a vote that is not counted: -EALREADY (the order is already
 * decided: a late vote, the normal fate of the votes after the first f+1;
 * a late vote that differs from the winner is still suspected), or, for a
 * vote that is dropped, -ENOENT (order not opened yet), -ESTALE (order
 * older than the window), -EEXIST (@node has already voted for @order),
 * -ENOSPC (slot full), -ENOMEM.
 */
int vf_voter_add(struct vf_voter *v, uint64_t order, uint32_t node,
		 const uint8_t *data, uint32_t len, struct vf_decision *out);

/* Forget every order: the next one opened is 1 (no callback runs). */
void vf_voter_reset(struct vf_voter *v);

/*
 * The window as bytes (the voter section of the manager state,
 * Documentation/protocol.rst "Manager state"): the last opened order and,
 * for every order still in the window, its winner (decided) or its votes
 * in arrival order. Voters that counted the same votes give equal bytes.
 */
void vf_voter_encode(const struct vf_voter *v, struct vf_wbuf *wb);
/*
 * Replace @v's window by one written by vf_voter_encode() (no callback
 * runs; counters other than last_opened are kept). Returns 0, -ENOMEM, or
 * -VF_E(VF_ERR_MALFORMED / VF_ERR_TOO_BIG) for bytes a correct voter with
 * the same f and window cannot have written (another window or f, orders
 * outside the window or not ascending, a vote twice, an undecided order
 * whose votes decide it); @v is then empty at order 0.
 */
int vf_voter_decode(struct vf_voter *v, struct vf_rd *rd);

/* Counters. */
struct vf_voter_stats {
	uint64_t decided;
	uint64_t expired;
	uint64_t suspects;
	uint64_t late;		/* votes for an already decided order */
	uint64_t dropped;	/* other votes refused by vf_voter_add */
	uint64_t last_opened;
};
void vf_voter_stats(const struct vf_voter *v, struct vf_voter_stats *st);

#endif /* VF_VOTER_H */
