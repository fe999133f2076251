/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_rcv.h - recovery wire codecs: the entries of the recovery group
 * messages (types 5-10 of the manager group header, which vmfitd's gmsg.c
 * writes and opens) and the frames of the manager peer connections
 * (magic "VMFP"). Documentation/protocol.rst "Recovery" is the byte-level
 * contract; this is its only implementation.
 *
 * Conventions are vf_proto's: little-endian, strict decoding, every
 * function returns 0 or -errno or -VF_E(code). Decoders check the whole
 * entry (lengths, versions, reserved fields, trailing bytes) before the
 * round, so a malformed message is VF_ERR_MALFORMED whatever its round;
 * then a round other than @expect is VF_ERR_ROUND.
 */
#ifndef VF_RCV_H
#define VF_RCV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vf_merkle.h"
#include "vf_proto.h"

#define VF_RCV_VERSION		1		/* entry layout */
#define VF_RCV_PROLOGUE_LEN	16
#define VF_RCV_F_FULL		(1u << 0)	/* RECOVER: hash every chunk */
#define VF_RCV_MIN_CHUNK	512u
#define VF_RCV_MAX_CHUNK	(256u << 10)	/* bytes per chunk */
#define VF_RCV_MAX_CHUNKS	(1ull << 32)	/* chunks per volume */
#define VF_RCV_MAX_GROUPS	64		/* per RCV_DIGESTS message */
#define VF_RCV_MAX_MSG		256		/* RCV_ABORT / PEER_ERROR text */
#define VF_RCV_MAX_OUTSTANDING	4		/* FETCHes per peer connection */
/*
 * The manager state (vf_mstate) of a round travels in pieces of
 * VF_RCV_MSTATE_PIECE bytes (the last one shorter), each voted by its
 * digest (RCV_MSTATE) and fetched like a chunk: piece i is peer chunk
 * VF_RCV_MSTATE_CHUNK + i.
 */
#define VF_RCV_MSTATE_PIECE	VF_RCV_MAX_CHUNK
#define VF_RCV_MSTATE_MAX_PIECES 1024u		/* 256 MiB */
#define VF_RCV_MSTATE_CHUNK	(1ull << 63)

/* Abort reasons (RCV_ABORT and the status file); append only. */
enum vf_rcv_reason {
	VF_RCV_TIMEOUT = 1,
	VF_RCV_MEMBER_LEFT,
	VF_RCV_SHADOW_START,
	VF_RCV_SHADOW_RESTORE,
	VF_RCV_UNDECIDED,
	VF_RCV_FETCH,
	VF_RCV_VOLUME,
	VF_RCV_OPERATOR,
	VF_RCV_CHECKPOINT,
	VF_RCV_GEOMETRY,
	VF_RCV_MEMBERS,
	VF_RCV_BUSY,
	VF_RCV_REASON_LAST = VF_RCV_BUSY,
};

/* "timeout", "member-left", ...; NULL when unknown. */
const char *vf_rcv_reason_name(uint32_t reason);

struct vf_rcv_ready {
	uint64_t round;
	uint8_t addr[4];	/* IPv4, network order */
	uint16_t port;
};

/* The volume geometry every RCV_DIGESTS message states. */
struct vf_rcv_geom {
	uint64_t nchunks;
	uint32_t chunk_size;	/* bytes */
};

/* Nodes first .. first+n-1 of one tree level (level 0: chunks). */
struct vf_rcv_group {
	uint32_t level;
	uint32_t n;
	uint64_t first;
	const uint8_t *digests;	/* n * VF_MERKLE_DIGEST_SIZE bytes */
};

struct vf_rcv_fetched {
	uint64_t round;
	uint32_t status;	/* 0 or a positive errno */
};

struct vf_rcv_abort {
	uint64_t round;
	uint32_t reason;	/* enum vf_rcv_reason */
	uint16_t msg_len;
	const char *msg;	/* not NUL-terminated */
};

/* RCV_MSTATE: the sender's manager state at the capture. */
struct vf_rcv_mstate {
	uint64_t round;
	uint64_t order;		/* the capture order */
	uint64_t len;		/* bytes of the state */
	uint32_t npieces;	/* vf_rcv_mstate_pieces(len) */
	const uint8_t *digests;	/* npieces * VF_MERKLE_DIGEST_SIZE bytes */
};

/* Pieces of a manager state of @len bytes (at least 1). */
uint32_t vf_rcv_mstate_pieces(uint64_t len);
/* Byte length of piece @i of a state of @len bytes (0 past the end). */
uint32_t vf_rcv_mstate_piece_len(uint64_t len, uint64_t i);

/* A geometry the protocol accepts: 0 or -VF_E(code). */
int vf_rcv_geom_check(const struct vf_rcv_geom *g);

/*
 * Group message entries. Writers append to a message begun with
 * vf_gmsg_begin(); the caller ends it with vf_gmsg_end(count). Readers
 * take the reader positioned on the first entry and the header's count.
 */
void vf_rcv_put_recover(struct vf_wbuf *wb, uint64_t round, uint16_t flags);
void vf_rcv_put_ready(struct vf_wbuf *wb, const struct vf_rcv_ready *m);
/* RCV_DIGESTS: the geometry once, then one vf_rcv_put_group per group. */
void vf_rcv_put_digests(struct vf_wbuf *wb, uint64_t round,
			const struct vf_rcv_geom *g);
void vf_rcv_put_group(struct vf_wbuf *wb, const struct vf_rcv_group *grp);
void vf_rcv_put_fetched(struct vf_wbuf *wb, const struct vf_rcv_fetched *m);
void vf_rcv_put_mstate(struct vf_wbuf *wb, const struct vf_rcv_mstate *m);
/* @msg: a C string, cut at VF_RCV_MAX_MSG bytes. */
void vf_rcv_put_abort(struct vf_wbuf *wb, uint64_t round, uint32_t reason,
		      const char *msg);

/* RECOVER: any nonzero round is accepted (it starts one). */
int vf_rcv_read_recover(struct vf_rd *rd, uint32_t count, uint64_t *round,
			uint16_t *flags);
int vf_rcv_read_ready(struct vf_rd *rd, uint32_t count, uint64_t expect,
		      struct vf_rcv_ready *m);
/*
 * RCV_DIGESTS: the prologue and geometry; then call vf_rcv_next_group
 * @count times and vf_rd_end. Groups are checked against the tree shape
 * over g->nchunks leaves.
 */
int vf_rcv_read_digests(struct vf_rd *rd, uint32_t count, uint64_t expect,
			struct vf_rcv_geom *g);
int vf_rcv_next_group(struct vf_rd *rd, const struct vf_rcv_geom *g,
		      struct vf_rcv_group *grp);
int vf_rcv_read_fetched(struct vf_rd *rd, uint32_t count, uint64_t expect,
			struct vf_rcv_fetched *m);
int vf_rcv_read_abort(struct vf_rd *rd, uint32_t count, uint64_t expect,
		      struct vf_rcv_abort *m);
/*
 * RCV_MSTATE: a piece size other than VF_RCV_MSTATE_PIECE, a piece count
 * that does not match the length or above VF_RCV_MSTATE_MAX_PIECES, a
 * length of 0: VF_ERR_MALFORMED / VF_ERR_TOO_BIG.
 */
int vf_rcv_read_mstate(struct vf_rd *rd, uint32_t count, uint64_t expect,
		       struct vf_rcv_mstate *m);

/*----------------------------------------------------------------*/
/* Peer connection frames (magic VF_MAGIC_PEER) */

struct vf_peer_fetch {
	uint64_t round;
	uint64_t chunk;
};

struct vf_peer_chunk {
	uint64_t round;
	uint64_t chunk;
	uint32_t len;		/* <= VF_RCV_MAX_CHUNK */
	const uint8_t *data;
};

struct vf_peer_error {
	uint64_t round;
	uint64_t chunk;
	uint32_t code;		/* VF_ERR_* */
	uint16_t msg_len;
	const char *msg;
};

/* Encoders append one complete frame; decoders take the payload. */
int vf_peer_fetch_encode(struct vf_wbuf *wb, const struct vf_peer_fetch *m);
int vf_peer_chunk_encode(struct vf_wbuf *wb, const struct vf_peer_chunk *m);
/* @msg: a C string, cut at VF_RCV_MAX_MSG bytes. */
int vf_peer_error_encode(struct vf_wbuf *wb, uint64_t round, uint64_t chunk,
			 uint32_t code, const char *msg);
int vf_peer_fetch_decode(const uint8_t *p, size_t n, struct vf_peer_fetch *m);
int vf_peer_chunk_decode(const uint8_t *p, size_t n, struct vf_peer_chunk *m);
int vf_peer_error_decode(const uint8_t *p, size_t n, struct vf_peer_error *m);

/*
 * A CHUNK answer is accepted only for the chunk asked for, of the round
 * and length expected, whose SHA-256 is @want: 0, or -VF_E(VF_ERR_ROUND),
 * -VF_E(VF_ERR_CHUNK), -VF_E(VF_ERR_MALFORMED) (length), -EBADMSG
 * (digest mismatch), -EIO (hashing failed).
 */
int vf_peer_chunk_check(const struct vf_peer_chunk *m, uint64_t round,
			uint64_t chunk, uint32_t chunk_size,
			const uint8_t want[VF_MERKLE_DIGEST_SIZE]);

#endif /* VF_RCV_H */
