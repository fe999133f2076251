/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_cvote - the chunk vote of a recovery round, as a pure function
 * (Documentation/protocol.rst "Recovery", phase 5 and invariant I3).
 *
 * Input: f, the local digest of one chunk (or tree node), and the digests
 * the n remote managers of the round sent for it (answered or not yet).
 * A value qualifies when enough remote digests equal it: the local value
 * with f remote equals (f+1 managers agree), another value with f+1
 * remote equals. Outcomes:
 *
 *   VF_CV_VERIFIED   the local value qualifies, and no other value can
 *                    any more, whatever the missing answers say;
 *   VF_CV_REPAIR     exactly one other value qualifies and nothing else
 *                    can: fetch the chunk from one of @sources;
 *   VF_CV_UNDECIDED  no value can qualify any more, or two do (more
 *                    than f faults): the round aborts;
 *   VF_CV_PENDING    wait for more answers.
 *
 * Every outcome but PENDING is final: more answers cannot change it. So
 * a vote is decided as soon as it is safe, and a silent manager can only
 * delay a chunk the others cannot decide without it.
 */
#ifndef VF_CVOTE_H
#define VF_CVOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "vf_merkle.h"

#define VF_CVOTE_MAX_REMOTE	16

enum vf_cvote_result {
	VF_CV_PENDING,
	VF_CV_VERIFIED,
	VF_CV_REPAIR,
	VF_CV_UNDECIDED,
};

struct vf_cvote_remote {
	uint32_t node;
	bool answered;
	uint8_t digest[VF_MERKLE_DIGEST_SIZE];
};

struct vf_cvote_out {
	enum vf_cvote_result result;
	uint8_t digest[VF_MERKLE_DIGEST_SIZE];	/* the voted value */
	unsigned int agree;		/* remote digests equal to it */
	/* REPAIR: the managers that sent the voted value, node id order */
	uint32_t sources[VF_CVOTE_MAX_REMOTE];
	unsigned int nsources;
};

/* 0 and *@out, or -EINVAL (n above VF_CVOTE_MAX_REMOTE). */
int vf_cvote(unsigned int f, const uint8_t local[VF_MERKLE_DIGEST_SIZE],
	     const struct vf_cvote_remote *rem, unsigned int n,
	     struct vf_cvote_out *out);

/* "pending", "verified", "repair", "undecided" */
const char *vf_cvote_name(enum vf_cvote_result r);

#endif /* VF_CVOTE_H */
