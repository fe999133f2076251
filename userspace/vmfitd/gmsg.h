/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gmsg.h - manager group messages (CPG), see Documentation/protocol.rst
 * "Manager group messages". Little-endian, versioned, built on the
 * vf_proto reader and writer.
 */
#ifndef VMFITD_GMSG_H
#define VMFITD_GMSG_H

#include <stdint.h>

#include "vf_proto.h"

#define VF_GMSG_MAGIC		0x47464d56u	/* "VMFG" */
#define VF_GMSG_VERSION		3	/* 2: STATE, 3: RCV_MSTATE */
#define VF_GMSG_HDR_LEN		24
#define VF_GMSG_MAX		(VF_MAX_PAYLOAD + VF_GMSG_HDR_LEN)

enum {
	VF_G_REQUESTS = 1,	/* batch of client requests to order */
	VF_G_VOTES = 2,		/* batch of the sender's replica results */
	VF_G_CHECKPOINT = 3,	/* take an ordered checkpoint here */
	VF_G_STATE = 4,		/* the sender's membership state */
	/* Recovery (entries: userspace/lib/vf_rcv.h) */
	VF_G_RECOVER = 5,	/* start a round */
	VF_G_RCV_READY = 6,	/* the sender's shadow is up */
	VF_G_RCV_DIGESTS = 7,	/* Merkle nodes / chunk digests */
	VF_G_RCV_FETCHED = 8,	/* the sender needs no more chunks */
	VF_G_RCV_ABORT = 9,	/* abort the round */
	VF_G_RCV_MSTATE = 10,	/* digests of the manager state */
	VF_G_LAST = VF_G_RCV_MSTATE,
};

#define VF_GCKPT_VERSION	1	/* CHECKPOINT entry layout */
#define VF_GSTATE_VERSION	1	/* STATE entry layout */

struct vf_gmsg_hdr {
	uint16_t type;
	uint32_t count;		/* entries that follow */
	uint64_t last_order;	/* sender's last delivered order at send */
};

/* One REQUESTS entry reuses struct vf_request, one VOTES entry this. */
struct vf_gvote {
	uint64_t order;
	uint32_t len;
	const uint8_t *data;
};

/* The one entry of a CHECKPOINT message. */
struct vf_gckpt {
	uint64_t id;		/* chosen by the sender to match its trigger */
};

/* The one entry of a STATE message (header last_order: the sender's). */
struct vf_gstate {
	uint16_t state;		/* enum mb_state: 1 fresh, 2 out, 3 in sync */
	uint32_t conf_hash;	/* of f and the configured managers */
	uint64_t view;		/* the view it was sent in (fingerprint) */
};

/* Start a message in @wb (empty); returns the header offset. */
void vf_gmsg_begin(struct vf_wbuf *wb, uint16_t type, uint64_t last_order);
void vf_gmsg_add_request(struct vf_wbuf *wb, const struct vf_request *m);
void vf_gmsg_add_vote(struct vf_wbuf *wb, const struct vf_gvote *v);
/* A complete CHECKPOINT message (count 1) in @wb; returns wb->err. */
int vf_gmsg_checkpoint(struct vf_wbuf *wb, uint64_t last_order,
		       const struct vf_gckpt *c);
/* A complete STATE message (count 1) in @wb; returns wb->err. */
int vf_gmsg_state(struct vf_wbuf *wb, uint64_t last_order,
		  const struct vf_gstate *st);
/* Patch the count; returns wb->err. */
int vf_gmsg_end(struct vf_wbuf *wb, uint32_t count);

/*
 * Parse the header of the message at @p/@n and position @rd on the first
 * entry. 0 or -VF_E(code).
 */
int vf_gmsg_open(const void *p, size_t n, struct vf_gmsg_hdr *h,
		 struct vf_rd *rd);
/* Next entry: 0 or -VF_E(code). After the last entry, check vf_rd_end. */
int vf_gmsg_next_request(struct vf_rd *rd, struct vf_request *m);
int vf_gmsg_next_vote(struct vf_rd *rd, struct vf_gvote *v);
/*
 * The entry of a CHECKPOINT message (@h from vf_gmsg_open): count must be
 * 1, the entry version VF_GCKPT_VERSION, flags 0, nothing after it.
 */
int vf_gmsg_read_checkpoint(const struct vf_gmsg_hdr *h, struct vf_rd *rd,
			    struct vf_gckpt *c);
/* The entry of a STATE message: same rules; state 1..3, no flags. */
int vf_gmsg_read_state(const struct vf_gmsg_hdr *h, struct vf_rd *rd,
		       struct vf_gstate *st);

#endif /* VMFITD_GMSG_H */
