/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_rcache.h - per-client reply cache: client_id -> last delivered seq,
 * its order number and, once voted, its reply.
 *
 * It is derived only from the totally ordered stream (deliveries and
 * decisions happen at the same point of the stream on every manager), so
 * every manager holds the same table. Bounded to @max clients: delivering
 * a request of a new client past the bound evicts the least recently
 * delivered client (deterministically, on every manager). Evicted client
 * ids are remembered in a Bloom filter (VF_RC_FILTER_BITS bits): a later
 * request under an evicted id is refused, never executed again; a new
 * client whose random id happens to hit the filter is refused too and
 * picks another id. The filter only fills up: after about
 * VF_RC_FILTER_BITS / 16 evictions new ids are refused one time in a
 * hundred.
 */
#ifndef VF_RCACHE_H
#define VF_RCACHE_H

#include <stdbool.h>
#include <stdint.h>

struct vf_rd;
struct vf_wbuf;
#define VF_RC_FILTER_BITS	(1u << 23)	/* 1 MiB */

struct vf_rc_entry {
	uint64_t client_id;
	uint64_t seq;		/* last delivered seq */
	uint64_t order;		/* its order number */
	bool decided;		/* reply below is valid */
	bool expired;		/* left the vote window undecided */
	uint32_t status;	/* VF_ST_* */
	uint32_t len;
	uint8_t *data;
	/* private */
	struct vf_rc_entry *hnext;
	struct vf_rc_entry *lru_prev, *lru_next;
};

struct vf_rcache;

struct vf_rcache *vf_rcache_new(unsigned int max_clients);
void vf_rcache_free(struct vf_rcache *rc);

/* Lookup without changing the LRU order; NULL if unknown. */
struct vf_rc_entry *vf_rcache_get(struct vf_rcache *rc, uint64_t client_id);

/*
 * A REQUEST (client_id, seq) was delivered in the total order and would
 * get @order. Returns 1 if it is new (entry updated: seq, order,
 * undecided), 0 if it is a duplicate (seq <= last delivered seq: not to be
 * executed), -ESTALE if the client id was evicted (not to be executed),
 * -ENOMEM.
 */
int vf_rcache_deliver(struct vf_rcache *rc, uint64_t client_id, uint64_t seq,
		      uint64_t order);

/*
 * The reply of (client_id, seq) was decided. Stores a copy if the entry
 * still refers to that seq. Returns 0, -ENOENT (evicted or superseded),
 * -ENOMEM.
 */
int vf_rcache_decide(struct vf_rcache *rc, uint64_t client_id, uint64_t seq,
		     uint32_t status, const uint8_t *data, uint32_t len);

/*
 * Walk the table, least recently delivered first: @e NULL gives the
 * first entry; NULL after the last.
 */
const struct vf_rc_entry *vf_rcache_next(const struct vf_rcache *rc,
					 const struct vf_rc_entry *e);

/* Forget every client (a manager that takes over another's table). */
void vf_rcache_clear(struct vf_rcache *rc);

/*
 * The order of (client_id, seq) left the vote window undecided: the entry
 * stays undecided (no final answer is cached), marked expired. Returns 0
 * or -ENOENT.
 */
int vf_rcache_expire(struct vf_rcache *rc, uint64_t client_id, uint64_t seq);

/* @client_id is not cached but was evicted (possibly: Bloom filter). */
bool vf_rcache_evicted(const struct vf_rcache *rc, uint64_t client_id);

unsigned int vf_rcache_count(const struct vf_rcache *rc);

/*
 * The table as bytes (the reply cache section of the manager state,
 * Documentation/protocol.rst "Manager state"): equal tables give equal
 * bytes. Entries go least recently delivered first, so decoding them in
 * that order rebuilds the same eviction order.
 */
void vf_rcache_encode(const struct vf_rcache *rc, struct vf_wbuf *wb);
/*
 * Fill an empty @rc from bytes written by vf_rcache_encode(). Returns 0,
 * -EBUSY (@rc not empty), -ENOMEM, or -VF_E(VF_ERR_MALFORMED /
 * VF_ERR_TOO_BIG) for bytes a correct encoder cannot have written (more
 * clients than @rc holds, a client twice, an undecided entry with a
 * reply, unknown flags, a reply above VF_MAX_OP); @rc is then emptied.
 */
int vf_rcache_decode(struct vf_rcache *rc, struct vf_rd *rd);
uint64_t vf_rcache_evictions(const struct vf_rcache *rc);

#endif /* VF_RCACHE_H */
