/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_mstate.h - the manager's own ordered state as bytes: what a manager
 * needs besides its replica's state to go on with the ordered stream
 * exactly once (the last order delivered, the reply cache, the vote
 * window). Every manager in sync holds the same state at the same point of
 * the stream, and equal states give equal bytes, so a recovery round
 * hashes and votes it like a chunk of the replica's state and a manager
 * that catches up takes it over from the others (Documentation/
 * protocol.rst "Manager state").
 */
#ifndef VF_MSTATE_H
#define VF_MSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "vf_rcache.h"
#include "vf_voter.h"

struct vf_wbuf;

#define VF_MSTATE_MAGIC		"VFMSTATE"
#define VF_MSTATE_VERSION	2	/* 2: the evicted-id filter */
#define VF_MSTATE_HDR_LEN	24

/*
 * Append the state at this point of the stream (@last_order: the last
 * order delivered) to @wb. Returns wb->err (0, -ENOMEM, or
 * -VF_E(VF_ERR_TOO_BIG) past the buffer's limit).
 */
int vf_mstate_encode(struct vf_wbuf *wb, uint64_t last_order,
		     const struct vf_rcache *rc, const struct vf_voter *v);

/*
 * Load a state written by vf_mstate_encode() into an empty @rc and @v
 * (created with the same max_clients, f and vote window as the encoder's).
 * Returns 0 and sets @last_order; -EBUSY (@rc not empty), -ENOMEM; or
 * -VF_E(VF_ERR_MAGIC / VF_ERR_VERSION / VF_ERR_MALFORMED / VF_ERR_TOO_BIG)
 * for bytes a correct manager cannot have written, including trailing
 * bytes or a vote window that does not end at @last_order. On error @rc
 * and @v are left empty.
 */
int vf_mstate_decode(const void *p, size_t n, uint64_t *last_order,
		     struct vf_rcache *rc, struct vf_voter *v);

#endif /* VF_MSTATE_H */
