// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_rcv.c - recovery group entries and peer frames. See vf_rcv.h and
 * Documentation/protocol.rst "Recovery".
 *
 * Every group entry starts with the prologue: u16 entry_version, u16 flags,
 * u32 reserved (0), u64 round (nonzero).
 */
#include <errno.h>
#include <string.h>

#include "vf_rcv.h"

#define DS VF_MERKLE_DIGEST_SIZE

const char *vf_rcv_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[VF_RCV_TIMEOUT] = "timeout",
		[VF_RCV_MEMBER_LEFT] = "member-left",
		[VF_RCV_SHADOW_START] = "shadow-start",
		[VF_RCV_SHADOW_RESTORE] = "shadow-restore",
		[VF_RCV_UNDECIDED] = "undecided",
		[VF_RCV_FETCH] = "fetch",
		[VF_RCV_VOLUME] = "volume",
		[VF_RCV_OPERATOR] = "operator",
		[VF_RCV_CHECKPOINT] = "checkpoint",
		[VF_RCV_GEOMETRY] = "geometry",
		[VF_RCV_MEMBERS] = "members",
		[VF_RCV_BUSY] = "busy",
	};

	if (reason && reason <= VF_RCV_REASON_LAST)
		return names[reason];
	return NULL;
}

int vf_rcv_geom_check(const struct vf_rcv_geom *g)
{
	if (g->chunk_size < VF_RCV_MIN_CHUNK ||
	    (g->chunk_size & (g->chunk_size - 1)))
		return -VF_E(VF_ERR_MALFORMED);
	if (g->chunk_size > VF_RCV_MAX_CHUNK || g->nchunks > VF_RCV_MAX_CHUNKS)
		return -VF_E(VF_ERR_TOO_BIG);
	return 0;
}

/*----------------------------------------------------------------*/
/* Group entries */

static void put_prologue(struct vf_wbuf *wb, uint16_t flags, uint64_t round)
{
	vf_wb_u16(wb, VF_RCV_VERSION);
	vf_wb_u16(wb, flags);
	vf_wb_u32(wb, 0);
	vf_wb_u64(wb, round);
}

void vf_rcv_put_recover(struct vf_wbuf *wb, uint64_t round, uint16_t flags)
{
	put_prologue(wb, flags, round);
}

void vf_rcv_put_ready(struct vf_wbuf *wb, const struct vf_rcv_ready *m)
{
	put_prologue(wb, 0, m->round);
	vf_wb_bytes(wb, m->addr, 4);
	vf_wb_u16(wb, m->port);
	vf_wb_u16(wb, 0);
}

void vf_rcv_put_digests(struct vf_wbuf *wb, uint64_t round,
			const struct vf_rcv_geom *g)
{
	put_prologue(wb, 0, round);
	vf_wb_u64(wb, g->nchunks);
	vf_wb_u32(wb, g->chunk_size);
	vf_wb_u32(wb, DS);
}

void vf_rcv_put_group(struct vf_wbuf *wb, const struct vf_rcv_group *grp)
{
	vf_wb_u32(wb, grp->level);
	vf_wb_u32(wb, grp->n);
	vf_wb_u64(wb, grp->first);
	vf_wb_bytes(wb, grp->digests, (size_t)grp->n * DS);
}

void vf_rcv_put_fetched(struct vf_wbuf *wb, const struct vf_rcv_fetched *m)
{
	put_prologue(wb, 0, m->round);
	vf_wb_u32(wb, m->status);
	vf_wb_u32(wb, 0);
}

void vf_rcv_put_abort(struct vf_wbuf *wb, uint64_t round, uint32_t reason,
		      const char *msg)
{
	size_t len = msg ? strnlen(msg, VF_RCV_MAX_MSG) : 0;

	put_prologue(wb, 0, round);
	vf_wb_u32(wb, reason);
	vf_wb_u16(wb, len);
	vf_wb_bytes(wb, msg, len);
}

/*
 * The prologue: structure first (version, reserved, flags within
 * @flag_mask, nonzero round), the round against @expect (0: any) last,
 * by the caller once the whole entry has been read.
 */
static int get_prologue(struct vf_rd *rd, uint32_t count, uint16_t flag_mask,
			uint16_t *flags, uint64_t *round)
{
	uint16_t version;
	uint32_t reserved;

	if (count != 1)
		return -VF_E(VF_ERR_MALFORMED);
	version = vf_rd_u16(rd);
	*flags = vf_rd_u16(rd);
	reserved = vf_rd_u32(rd);
	*round = vf_rd_u64(rd);
	if (rd->err)
		return rd->err;
	if (version != VF_RCV_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (reserved || (*flags & ~flag_mask) || !*round)
		return -VF_E(VF_ERR_MALFORMED);
	return 0;
}

/* The end of a one-entry message: nothing after it, then the round. */
static int finish(const struct vf_rd *rd, uint64_t round, uint64_t expect)
{
	int r = vf_rd_end(rd);

	if (r)
		return r;
	if (expect && round != expect)
		return -VF_E(VF_ERR_ROUND);
	return 0;
}

int vf_rcv_read_recover(struct vf_rd *rd, uint32_t count, uint64_t *round,
			uint16_t *flags)
{
	int r = get_prologue(rd, count, VF_RCV_F_FULL, flags, round);

	return r ? r : finish(rd, *round, 0);
}

int vf_rcv_read_ready(struct vf_rd *rd, uint32_t count, uint64_t expect,
		      struct vf_rcv_ready *m)
{
	const uint8_t *a;
	uint16_t flags, reserved;
	int r;

	r = get_prologue(rd, count, 0, &flags, &m->round);
	if (r)
		return r;
	a = vf_rd_bytes(rd, 4);
	m->port = vf_rd_u16(rd);
	reserved = vf_rd_u16(rd);
	if (a)
		memcpy(m->addr, a, 4);
	if (!rd->err && (reserved || !m->port))
		return -VF_E(VF_ERR_MALFORMED);
	return finish(rd, m->round, expect);
}

int vf_rcv_read_digests(struct vf_rd *rd, uint32_t count, uint64_t expect,
			struct vf_rcv_geom *g)
{
	uint64_t round;
	uint32_t dsize;
	uint16_t flags;
	int r;

	if (count < 1 || count > VF_RCV_MAX_GROUPS)
		return -VF_E(VF_ERR_MALFORMED);
	r = get_prologue(rd, 1, 0, &flags, &round);
	if (r)
		return r;
	g->nchunks = vf_rd_u64(rd);
	g->chunk_size = vf_rd_u32(rd);
	dsize = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (dsize != DS)
		return -VF_E(VF_ERR_DIGEST);
	r = vf_rcv_geom_check(g);
	if (r)
		return r;
	/*
	 * The groups follow; the round is checked before them, since a
	 * message of another round is not worth parsing further.
	 */
	if (expect && round != expect)
		return -VF_E(VF_ERR_ROUND);
	return 0;
}

int vf_rcv_next_group(struct vf_rd *rd, const struct vf_rcv_geom *g,
		      struct vf_rcv_group *grp)
{
	uint64_t len;

	grp->level = vf_rd_u32(rd);
	grp->n = vf_rd_u32(rd);
	grp->first = vf_rd_u64(rd);
	if (rd->err)
		return rd->err;
	if (grp->n < 1 || grp->n > VF_MERKLE_FANOUT)
		return -VF_E(VF_ERR_CHUNK);
	if (grp->level >= vf_merkle_shape_levels(g->nchunks))
		return -VF_E(VF_ERR_CHUNK);
	len = vf_merkle_shape_len(g->nchunks, grp->level);
	if (grp->first >= len || grp->n > len - grp->first)
		return -VF_E(VF_ERR_CHUNK);
	grp->digests = vf_rd_bytes(rd, (size_t)grp->n * DS);
	return rd->err;
}

int vf_rcv_read_fetched(struct vf_rd *rd, uint32_t count, uint64_t expect,
			struct vf_rcv_fetched *m)
{
	uint32_t reserved;
	uint16_t flags;
	int r;

	r = get_prologue(rd, count, 0, &flags, &m->round);
	if (r)
		return r;
	m->status = vf_rd_u32(rd);
	reserved = vf_rd_u32(rd);
	if (!rd->err && (reserved || m->status > 4095))
		return -VF_E(VF_ERR_MALFORMED);
	return finish(rd, m->round, expect);
}

int vf_rcv_read_abort(struct vf_rd *rd, uint32_t count, uint64_t expect,
		      struct vf_rcv_abort *m)
{
	uint16_t flags;
	int r;

	r = get_prologue(rd, count, 0, &flags, &m->round);
	if (r)
		return r;
	m->reason = vf_rd_u32(rd);
	m->msg_len = vf_rd_u16(rd);
	if (rd->err)
		return rd->err;
	if (m->msg_len > VF_RCV_MAX_MSG)
		return -VF_E(VF_ERR_TOO_BIG);
	m->msg = (const char *)vf_rd_bytes(rd, m->msg_len);
	if (!rd->err && !vf_rcv_reason_name(m->reason))
		return -VF_E(VF_ERR_MALFORMED);
	return finish(rd, m->round, expect);
}

uint32_t vf_rcv_mstate_pieces(uint64_t len)
{
	uint64_t n = (len + VF_RCV_MSTATE_PIECE - 1) / VF_RCV_MSTATE_PIECE;

	return n ? (n > UINT32_MAX ? UINT32_MAX : n) : 1;
}

uint32_t vf_rcv_mstate_piece_len(uint64_t len, uint64_t i)
{
	uint64_t off = i * VF_RCV_MSTATE_PIECE;

	if (i >= VF_RCV_MSTATE_MAX_PIECES || off >= len)
		return 0;
	return len - off < VF_RCV_MSTATE_PIECE ? len - off :
						 VF_RCV_MSTATE_PIECE;
}

void vf_rcv_put_mstate(struct vf_wbuf *wb, const struct vf_rcv_mstate *m)
{
	put_prologue(wb, 0, m->round);
	vf_wb_u64(wb, m->order);
	vf_wb_u64(wb, m->len);
	vf_wb_u32(wb, VF_RCV_MSTATE_PIECE);
	vf_wb_u32(wb, m->npieces);
	vf_wb_bytes(wb, m->digests, (size_t)m->npieces * DS);
}

int vf_rcv_read_mstate(struct vf_rd *rd, uint32_t count, uint64_t expect,
		       struct vf_rcv_mstate *m)
{
	uint32_t piece;
	uint16_t flags;
	int r;

	r = get_prologue(rd, count, 0, &flags, &m->round);
	if (r)
		return r;
	m->order = vf_rd_u64(rd);
	m->len = vf_rd_u64(rd);
	piece = vf_rd_u32(rd);
	m->npieces = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (m->npieces > VF_RCV_MSTATE_MAX_PIECES)
		return -VF_E(VF_ERR_TOO_BIG);
	if (piece != VF_RCV_MSTATE_PIECE || !m->len ||
	    m->npieces != vf_rcv_mstate_pieces(m->len))
		return -VF_E(VF_ERR_MALFORMED);
	m->digests = vf_rd_bytes(rd, (size_t)m->npieces * DS);
	return finish(rd, m->round, expect);
}

/*----------------------------------------------------------------*/
/* Peer frames */

int vf_peer_fetch_encode(struct vf_wbuf *wb, const struct vf_peer_fetch *m)
{
	size_t s = vf_wb_frame_begin(wb, VF_MAGIC_PEER, VF_P_FETCH);

	vf_wb_u64(wb, m->round);
	vf_wb_u64(wb, m->chunk);
	return vf_wb_frame_end(wb, s);
}

int vf_peer_chunk_encode(struct vf_wbuf *wb, const struct vf_peer_chunk *m)
{
	size_t s;

	if (m->len > VF_RCV_MAX_CHUNK)
		return -VF_E(VF_ERR_TOO_BIG);
	s = vf_wb_frame_begin(wb, VF_MAGIC_PEER, VF_P_CHUNK);
	vf_wb_u64(wb, m->round);
	vf_wb_u64(wb, m->chunk);
	vf_wb_u32(wb, m->len);
	vf_wb_bytes(wb, m->data, m->len);
	return vf_wb_frame_end(wb, s);
}

int vf_peer_error_encode(struct vf_wbuf *wb, uint64_t round, uint64_t chunk,
			 uint32_t code, const char *msg)
{
	size_t len = msg ? strnlen(msg, VF_RCV_MAX_MSG) : 0;
	size_t s = vf_wb_frame_begin(wb, VF_MAGIC_PEER, VF_P_ERROR);

	vf_wb_u64(wb, round);
	vf_wb_u64(wb, chunk);
	vf_wb_u32(wb, code);
	vf_wb_u16(wb, len);
	vf_wb_bytes(wb, msg, len);
	return vf_wb_frame_end(wb, s);
}

int vf_peer_fetch_decode(const uint8_t *p, size_t n, struct vf_peer_fetch *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->round = vf_rd_u64(&rd);
	m->chunk = vf_rd_u64(&rd);
	if (!rd.err && !m->round)
		return -VF_E(VF_ERR_MALFORMED);
	return vf_rd_end(&rd);
}

int vf_peer_chunk_decode(const uint8_t *p, size_t n, struct vf_peer_chunk *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->round = vf_rd_u64(&rd);
	m->chunk = vf_rd_u64(&rd);
	m->len = vf_rd_u32(&rd);
	if (!rd.err && m->len > VF_RCV_MAX_CHUNK)
		return -VF_E(VF_ERR_TOO_BIG);
	m->data = vf_rd_bytes(&rd, m->len);
	return vf_rd_end(&rd);
}

int vf_peer_error_decode(const uint8_t *p, size_t n, struct vf_peer_error *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->round = vf_rd_u64(&rd);
	m->chunk = vf_rd_u64(&rd);
	m->code = vf_rd_u32(&rd);
	m->msg_len = vf_rd_u16(&rd);
	if (!rd.err && m->msg_len > VF_RCV_MAX_MSG)
		return -VF_E(VF_ERR_TOO_BIG);
	m->msg = (const char *)vf_rd_bytes(&rd, m->msg_len);
	return vf_rd_end(&rd);
}

int vf_peer_chunk_check(const struct vf_peer_chunk *m, uint64_t round,
			uint64_t chunk, uint32_t chunk_size,
			const uint8_t want[VF_MERKLE_DIGEST_SIZE])
{
	uint8_t got[DS];

	if (m->round != round)
		return -VF_E(VF_ERR_ROUND);
	if (m->chunk != chunk)
		return -VF_E(VF_ERR_CHUNK);
	if (m->len != chunk_size)
		return -VF_E(VF_ERR_MALFORMED);
	if (vf_sha256(m->data, m->len, got))
		return -EIO;
	return memcmp(got, want, DS) ? -EBADMSG : 0;
}
