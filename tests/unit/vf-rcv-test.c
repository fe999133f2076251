// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-rcv-test - recovery group entries and peer frames: exact bytes,
 * round trips, and every kind of bad input refused with its code
 * (truncated, oversized, wrong version, wrong round, wrong digest size,
 * unknown node or chunk, trailing bytes).
 */
#include <errno.h>
#include <string.h>

#include "vf_rcv.h"
#include "vf_check.h"

#define DS VF_MERKLE_DIGEST_SIZE
#define MALFORMED (-VF_E(VF_ERR_MALFORMED))

/* Every strict prefix of an entry is refused as malformed. */
#define CHECK_TRUNCATIONS(buf, len, call)				\
	do {								\
		size_t _n;						\
		for (_n = 0; _n < (len); _n++) {			\
			vf_rd_init(&rd, (buf), _n);			\
			CHECK_EQ((call), MALFORMED);			\
		}							\
	} while (0)

static void test_recover(void)
{
	struct vf_wbuf wb;
	struct vf_rd rd;
	uint64_t round;
	uint16_t flags;
	static const uint8_t want[] = {
		1, 0, 1, 0, 0, 0, 0, 0,
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	};

	vf_wb_init(&wb, 0);
	vf_rcv_put_recover(&wb, 0x1122334455667788ull, VF_RCV_F_FULL);
	CHECK_EQ(vf_wb_pending(&wb), sizeof(want));
	CHECK(!memcmp(vf_wb_data(&wb), want, sizeof(want)));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags), 0);
	CHECK(round == 0x1122334455667788ull && flags == VF_RCV_F_FULL);
	CHECK_TRUNCATIONS(vf_wb_data(&wb), vf_wb_pending(&wb),
			  vf_rcv_read_recover(&rd, 1, &round, &flags));
	/* count, version, unknown flag, reserved, round 0, trailing byte */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 2, &round, &flags), MALFORMED);
	vf_wb_data(&wb)[0] = 2;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags),
		 -VF_E(VF_ERR_VERSION));
	vf_wb_data(&wb)[0] = 1;
	vf_wb_data(&wb)[2] = 2;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags), MALFORMED);
	vf_wb_data(&wb)[2] = 1;
	vf_wb_data(&wb)[5] = 1;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags), MALFORMED);
	vf_wb_data(&wb)[5] = 0;
	vf_wb_reset(&wb);
	vf_rcv_put_recover(&wb, 0, 0);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags), MALFORMED);
	vf_wb_reset(&wb);
	vf_rcv_put_recover(&wb, 5, 0);
	vf_wb_u16(&wb, 0);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_recover(&rd, 1, &round, &flags), MALFORMED);
	vf_wb_free(&wb);
}

static void test_ready(void)
{
	struct vf_rcv_ready m = { 7, { 10, 99, 0, 11 }, 7500 }, m2;
	struct vf_wbuf wb;
	struct vf_rd rd;

	vf_wb_init(&wb, 0);
	vf_rcv_put_ready(&wb, &m);
	CHECK_EQ(vf_wb_pending(&wb), VF_RCV_PROLOGUE_LEN + 8);
	CHECK(!memcmp(vf_wb_data(&wb) + 16, "\x0a\x63\x00\x0b\x4c\x1d\0\0", 8));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 7, &m2), 0);
	CHECK(m2.round == 7 && m2.port == 7500 &&
	      !memcmp(m2.addr, m.addr, 4));
	CHECK_TRUNCATIONS(vf_wb_data(&wb), vf_wb_pending(&wb),
			  vf_rcv_read_ready(&rd, 1, 7, &m2));
	/* wrong round: refused, after the structure was found sound */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 8, &m2), -VF_E(VF_ERR_ROUND));
	/* a truncated message of another round is malformed, not stale */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb) - 1);
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 8, &m2), MALFORMED);
	/* nonzero reserved, port 0, flags */
	vf_wb_data(&wb)[22] = 1;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 7, &m2), MALFORMED);
	vf_wb_data(&wb)[22] = 0;
	vf_wb_data(&wb)[20] = vf_wb_data(&wb)[21] = 0;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 7, &m2), MALFORMED);
	vf_wb_data(&wb)[20] = 1;
	vf_wb_data(&wb)[2] = 1;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_ready(&rd, 1, 7, &m2), MALFORMED);
	vf_wb_free(&wb);
}

static void test_digests(void)
{
	/* 1000 chunks: levels 1000, 63, 4, 1 */
	struct vf_rcv_geom g = { 1000, 4096 }, g2;
	uint8_t dig[16 * DS];
	struct vf_rcv_group grp = { 0, 16, 984, dig }, grp2, root;
	struct vf_wbuf wb;
	struct vf_rd rd;
	size_t hdr, i;

	for (i = 0; i < sizeof(dig); i++)
		dig[i] = i;
	CHECK_EQ(vf_merkle_shape_levels(1000), 4);
	CHECK_EQ(vf_merkle_shape_len(1000, 1), 63);
	CHECK_EQ(vf_merkle_shape_len(1000, 3), 1);
	CHECK_EQ(vf_merkle_shape_len(1000, 4), 0);
	vf_wb_init(&wb, 0);
	vf_rcv_put_digests(&wb, 9, &g);
	hdr = vf_wb_pending(&wb);
	CHECK_EQ(hdr, VF_RCV_PROLOGUE_LEN + 16);
	vf_rcv_put_group(&wb, &grp);
	root = (struct vf_rcv_group){ 3, 1, 0, dig };
	vf_rcv_put_group(&wb, &root);
	CHECK_EQ(vf_wb_pending(&wb), hdr + 2 * 16 + 17 * DS);

	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), 0);
	CHECK(g2.nchunks == 1000 && g2.chunk_size == 4096);
	CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2), 0);
	CHECK(grp2.level == 0 && grp2.n == 16 && grp2.first == 984 &&
	      !memcmp(grp2.digests, dig, 16 * DS));
	CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2), 0);
	CHECK(grp2.level == 3 && grp2.n == 1 && grp2.first == 0);
	CHECK_EQ(vf_rd_end(&rd), 0);

	/* truncated inside the last digest */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb) - 1);
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), 0);
	CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2), 0);
	CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2), MALFORMED);
	CHECK_TRUNCATIONS(vf_wb_data(&wb), hdr,
			  vf_rcv_read_digests(&rd, 2, 9, &g2));
	/* group count 0 and above the bound */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 0, 9, &g2), MALFORMED);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, VF_RCV_MAX_GROUPS + 1, 9, &g2),
		 MALFORMED);
	/* wrong round */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 10, &g2), -VF_E(VF_ERR_ROUND));
	/* digest of the wrong size: 20 (SHA-1) and 64 */
	vf_wb_data(&wb)[28] = 20;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), -VF_E(VF_ERR_DIGEST));
	vf_wb_data(&wb)[28] = 64;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), -VF_E(VF_ERR_DIGEST));
	vf_wb_data(&wb)[28] = DS;
	/* chunk size: not a power of two, too small, too big */
	vf_wb_data(&wb)[25] = 0x11;	/* 4096 + 256 */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), MALFORMED);
	vf_wb_data(&wb)[25] = 0;
	vf_wb_data(&wb)[26] = 0x10;	/* 1 MiB */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_data(&wb)[26] = 0;
	vf_wb_data(&wb)[25] = 0x10;
	/* too many chunks */
	vf_wb_data(&wb)[20] = 1;		/* nchunks += 2^32 */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 2, 9, &g2), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_data(&wb)[20] = 0;
	vf_wb_free(&wb);

	/* groups naming nodes that do not exist */
	{
		static const struct { uint32_t level, n; uint64_t first; }
		bad[] = {
			{ 0, 16, 993 },		/* past the last chunk */
			{ 0, 0, 0 },		/* empty */
			{ 0, 17, 0 },		/* more than the fan-out */
			{ 1, 1, 63 },		/* level 1 has 63 nodes */
			{ 3, 1, 1 },		/* one root */
			{ 4, 1, 0 },		/* above the root */
			{ 0, 1, UINT64_MAX },	/* wrap-around */
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			vf_wb_init(&wb, 0);
			vf_rcv_put_digests(&wb, 9, &g);
			vf_wb_u32(&wb, bad[i].level);
			vf_wb_u32(&wb, bad[i].n);
			vf_wb_u64(&wb, bad[i].first);
			vf_wb_bytes(&wb, dig, 16 * DS);
			vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
			CHECK_EQ(vf_rcv_read_digests(&rd, 1, 9, &g2), 0);
			CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2),
				 -VF_E(VF_ERR_CHUNK));
			vf_wb_free(&wb);
		}
	}
	/* the empty volume: one root, level 1 */
	g.nchunks = 0;
	CHECK_EQ(vf_merkle_shape_levels(0), 2);
	vf_wb_init(&wb, 0);
	vf_rcv_put_digests(&wb, 9, &g);
	root.level = 1;
	vf_rcv_put_group(&wb, &root);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_digests(&rd, 1, 9, &g2), 0);
	CHECK_EQ(vf_rcv_next_group(&rd, &g2, &grp2), 0);
	CHECK_EQ(vf_rd_end(&rd), 0);
	vf_wb_free(&wb);
}

static void test_mstate(void)
{
	uint8_t dig[3 * VF_MERKLE_DIGEST_SIZE];
	struct vf_rcv_mstate m = { 5, 77, 2 * VF_RCV_MSTATE_PIECE + 1, 3, dig };
	struct vf_rcv_mstate m2;
	struct vf_wbuf wb;
	struct vf_rd rd;

	memset(dig, 0xab, sizeof(dig));
	CHECK_EQ(vf_rcv_mstate_pieces(0), 1);
	CHECK_EQ(vf_rcv_mstate_pieces(1), 1);
	CHECK_EQ(vf_rcv_mstate_pieces(VF_RCV_MSTATE_PIECE), 1);
	CHECK_EQ(vf_rcv_mstate_pieces(VF_RCV_MSTATE_PIECE + 1), 2);
	CHECK_EQ(vf_rcv_mstate_piece_len(m.len, 0), VF_RCV_MSTATE_PIECE);
	CHECK_EQ(vf_rcv_mstate_piece_len(m.len, 2), 1);
	CHECK_EQ(vf_rcv_mstate_piece_len(m.len, 3), 0);
	vf_wb_init(&wb, 0);
	vf_rcv_put_mstate(&wb, &m);
	CHECK_EQ(vf_wb_pending(&wb), 40 + sizeof(dig));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 5, &m2), 0);
	CHECK(m2.round == 5 && m2.order == 77 && m2.len == m.len &&
	      m2.npieces == 3 && !memcmp(m2.digests, dig, sizeof(dig)));
	CHECK_TRUNCATIONS(vf_wb_data(&wb), vf_wb_pending(&wb),
			  vf_rcv_read_mstate(&rd, 1, 5, &m2));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 6, &m2), -VF_E(VF_ERR_ROUND));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 2, 5, &m2), MALFORMED);
	/* piece size, piece count, empty state, too many pieces */
	vf_wb_data(&wb)[32] ^= 1;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 5, &m2), MALFORMED);
	vf_wb_data(&wb)[32] ^= 1;
	m.npieces = 2;
	vf_wb_reset(&wb);
	vf_rcv_put_mstate(&wb, &m);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 5, &m2), MALFORMED);
	m.len = 0;
	m.npieces = 1;
	vf_wb_reset(&wb);
	vf_rcv_put_mstate(&wb, &m);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 5, &m2), MALFORMED);
	vf_wb_reset(&wb);
	m.len = 1;
	vf_rcv_put_mstate(&wb, &m);
	vf_wb_put_u32_at(&wb, 36, VF_RCV_MSTATE_MAX_PIECES + 1);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_mstate(&rd, 1, 5, &m2), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_free(&wb);
}

static void test_fetched_abort(void)
{
	struct vf_rcv_fetched f = { 3, EIO }, f2;
	struct vf_rcv_abort a;
	char big[VF_RCV_MAX_MSG + 10];
	struct vf_wbuf wb;
	struct vf_rd rd;

	vf_wb_init(&wb, 0);
	vf_rcv_put_fetched(&wb, &f);
	CHECK_EQ(vf_wb_pending(&wb), 24);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_fetched(&rd, 1, 3, &f2), 0);
	CHECK(f2.round == 3 && f2.status == EIO);
	CHECK_TRUNCATIONS(vf_wb_data(&wb), vf_wb_pending(&wb),
			  vf_rcv_read_fetched(&rd, 1, 3, &f2));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_fetched(&rd, 1, 4, &f2), -VF_E(VF_ERR_ROUND));
	vf_wb_data(&wb)[20] = 1;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_fetched(&rd, 1, 3, &f2), MALFORMED);
	vf_wb_reset(&wb);
	f.status = 70000;	/* not an errno */
	vf_rcv_put_fetched(&wb, &f);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_fetched(&rd, 1, 3, &f2), MALFORMED);

	vf_wb_reset(&wb);
	vf_rcv_put_abort(&wb, 3, VF_RCV_UNDECIDED, "chunk 5");
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_abort(&rd, 1, 3, &a), 0);
	CHECK(a.reason == VF_RCV_UNDECIDED && a.msg_len == 7 &&
	      !memcmp(a.msg, "chunk 5", 7));
	CHECK_STR(vf_rcv_reason_name(a.reason), "undecided");
	CHECK(vf_rcv_reason_name(0) == NULL);
	CHECK(vf_rcv_reason_name(VF_RCV_REASON_LAST + 1) == NULL);
	CHECK_TRUNCATIONS(vf_wb_data(&wb), vf_wb_pending(&wb),
			  vf_rcv_read_abort(&rd, 1, 3, &a));
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_abort(&rd, 1, 2, &a), -VF_E(VF_ERR_ROUND));
	/* an unknown reason */
	vf_wb_data(&wb)[16] = 99;
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_abort(&rd, 1, 3, &a), MALFORMED);
	/* a long text is cut when sent, refused when received */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	vf_wb_reset(&wb);
	vf_rcv_put_abort(&wb, 3, VF_RCV_TIMEOUT, big);
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_abort(&rd, 1, 3, &a), 0);
	CHECK_EQ(a.msg_len, VF_RCV_MAX_MSG);
	vf_wb_data(&wb)[21] = 2;		/* msg_len 512 + ... */
	vf_rd_init(&rd, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK_EQ(vf_rcv_read_abort(&rd, 1, 3, &a), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_free(&wb);
}

static void test_peer(void)
{
	uint8_t data[4096], want[DS];
	struct vf_peer_fetch f = { 5, 77 }, f2;
	struct vf_peer_chunk c = { 5, 77, sizeof(data), data }, c2;
	struct vf_peer_error e;
	struct vf_wbuf wb;
	struct vf_hdr h;
	const uint8_t *p;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	CHECK_EQ(vf_sha256(data, sizeof(data), want), 0);

	vf_wb_init(&wb, 0);
	CHECK_EQ(vf_peer_fetch_encode(&wb, &f), 0);
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_PEER, &h),
		 VF_HDR_LEN + 16);
	CHECK(h.type == VF_P_FETCH);
	CHECK(!memcmp(vf_wb_data(&wb), "VMFP", 4));
	p = vf_wb_data(&wb) + VF_HDR_LEN;
	CHECK_EQ(vf_peer_fetch_decode(p, h.len, &f2), 0);
	CHECK(f2.round == 5 && f2.chunk == 77);
	CHECK_EQ(vf_peer_fetch_decode(p, h.len - 1, &f2), MALFORMED);
	CHECK_EQ(vf_peer_fetch_decode(p, h.len + 0, &f2), 0);
	/* a peer frame is not a replica frame, and vice versa */
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_REPLICA, &h),
		 -VF_E(VF_ERR_MAGIC));
	vf_wb_data(&wb)[6] = VF_R_EXEC;
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_PEER, &h),
		 -VF_E(VF_ERR_TYPE));
	vf_wb_data(&wb)[6] = VF_P_FETCH;
	/* round 0 */
	memset(vf_wb_data(&wb) + VF_HDR_LEN, 0, 8);
	CHECK_EQ(vf_peer_fetch_decode(p, 16, &f2), MALFORMED);

	vf_wb_reset(&wb);
	CHECK_EQ(vf_peer_chunk_encode(&wb, &c), 0);
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_PEER, &h),
		 VF_HDR_LEN + 20 + sizeof(data));
	p = vf_wb_data(&wb) + VF_HDR_LEN;
	CHECK_EQ(vf_peer_chunk_decode(p, h.len, &c2), 0);
	CHECK_EQ(vf_peer_chunk_check(&c2, 5, 77, sizeof(data), want), 0);
	CHECK_EQ(vf_peer_chunk_check(&c2, 6, 77, sizeof(data), want),
		 -VF_E(VF_ERR_ROUND));
	CHECK_EQ(vf_peer_chunk_check(&c2, 5, 78, sizeof(data), want),
		 -VF_E(VF_ERR_CHUNK));
	CHECK_EQ(vf_peer_chunk_check(&c2, 5, 77, 8192, want), MALFORMED);
	data[0] ^= 1;	/* the bytes a lying or broken peer sends */
	CHECK_EQ(vf_peer_chunk_check(&c, 5, 77, sizeof(data), want),
		 -EBADMSG);
	data[0] ^= 1;
	CHECK_EQ(vf_peer_chunk_decode(p, h.len - 1, &c2), MALFORMED);
	CHECK_EQ(vf_peer_chunk_decode(p, h.len + 1, &c2), MALFORMED);
	/* oversized: refused before the data is looked at */
	p = vf_wb_data(&wb) + VF_HDR_LEN;
	vf_wb_data(&wb)[VF_HDR_LEN + 18] = 0x10;	/* len = 1 MiB + 4096 */
	CHECK_EQ(vf_peer_chunk_decode(p, h.len, &c2), -VF_E(VF_ERR_TOO_BIG));
	c.len = VF_RCV_MAX_CHUNK + 1;
	CHECK_EQ(vf_peer_chunk_encode(&wb, &c), -VF_E(VF_ERR_TOO_BIG));

	vf_wb_reset(&wb);
	CHECK_EQ(vf_peer_error_encode(&wb, 5, 1ull << 40, VF_ERR_CHUNK,
				      "no such chunk"), 0);
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_PEER, &h),
		 VF_HDR_LEN + 22 + 13);
	p = vf_wb_data(&wb) + VF_HDR_LEN;
	CHECK_EQ(vf_peer_error_decode(p, h.len, &e), 0);
	CHECK(e.code == VF_ERR_CHUNK && e.chunk == 1ull << 40 &&
	      e.msg_len == 13);
	CHECK_EQ(vf_peer_error_decode(p, h.len - 1, &e), MALFORMED);
	vf_wb_data(&wb)[VF_HDR_LEN + 21] = 2;
	CHECK_EQ(vf_peer_error_decode(p, h.len, &e), -VF_E(VF_ERR_TOO_BIG));
	CHECK_STR(vf_strerror(-VF_E(VF_ERR_ROUND)),
		  "not the current recovery round");
	CHECK_STR(vf_strerror(-VF_E(VF_ERR_DIGEST)), "digest of the wrong size");
	CHECK_STR(vf_type_name(VF_P_CHUNK), "CHUNK");
	vf_wb_free(&wb);
}

int main(void)
{
	test_recover();
	test_ready();
	test_digests();
	test_fetched_abort();
	test_mstate();
	test_peer();
	return vf_check_done(__FILE__);
}
