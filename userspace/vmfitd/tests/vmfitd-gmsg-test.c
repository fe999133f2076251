// SPDX-License-Identifier: GPL-2.0-only
/* vmfitd-gmsg-test - manager group message codec. */
#include <string.h>

#include "gmsg.h"
#include "vf_check.h"
#include "vf_rcv.h"

int main(void)
{
	struct vf_request rq = { 5, 6, 3, (const uint8_t *)"abc", NULL }, r2;
	struct vf_gvote gv = { 9, 2, (const uint8_t *)"ok" }, g2;
	struct vf_gckpt ck = { 0x1122334455667788ull }, ck2;
	struct vf_gstate st = { 3, 0xdeadbeef, 0x0102030405060708ull }, st2;
	struct vf_gmsg_hdr h;
	struct vf_wbuf wb;
	struct vf_rd rd;

	vf_wb_init(&wb, VF_GMSG_MAX);
	vf_gmsg_begin(&wb, VF_G_REQUESTS, 77);
	vf_gmsg_add_request(&wb, &rq);
	vf_gmsg_add_request(&wb, &rq);
	CHECK_EQ(vf_gmsg_end(&wb, 2), 0);
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK(h.type == VF_G_REQUESTS && h.count == 2 && h.last_order == 77);
	CHECK_EQ(vf_gmsg_next_request(&rd, &r2), 0);
	CHECK_EQ(vf_gmsg_next_request(&rd, &r2), 0);
	CHECK(r2.client_id == 5 && r2.seq == 6 && !memcmp(r2.op, "abc", 3));
	CHECK_EQ(vf_rd_end(&rd), 0);
	/* truncated */
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb) - 1, &h, &rd),
		 0);
	CHECK_EQ(vf_gmsg_next_request(&rd, &r2), 0);
	CHECK_EQ(vf_gmsg_next_request(&rd, &r2), -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), 10, &h, &rd),
		 -VF_E(VF_ERR_MALFORMED));

	vf_gmsg_begin(&wb, VF_G_VOTES, 1);
	vf_gmsg_add_vote(&wb, &gv);
	CHECK_EQ(vf_gmsg_end(&wb, 1), 0);
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_next_vote(&rd, &g2), 0);
	CHECK(g2.order == 9 && g2.len == 2 && !memcmp(g2.data, "ok", 2));
	CHECK_EQ(vf_rd_end(&rd), 0);
	/* trailing garbage after the last entry */
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb) + 0, &h, &rd),
		 0);
	vf_wb_data(&wb)[0] ^= 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd),
		 -VF_E(VF_ERR_MAGIC));
	vf_wb_data(&wb)[0] ^= 1;
	vf_wb_data(&wb)[4] = 1; /* version 1 had no STATE: no mixed groups */
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd),
		 -VF_E(VF_ERR_VERSION));
	vf_wb_data(&wb)[4] = VF_GMSG_VERSION;
	vf_wb_data(&wb)[6] = VF_G_LAST + 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd),
		 -VF_E(VF_ERR_TYPE));
	vf_wb_data(&wb)[6] = VF_G_VOTES;
	vf_wb_data(&wb)[12] = 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd),
		 -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[12] = 0;
	/* vote too big */
	vf_wb_data(&wb)[24 + 8 + 2] = 0x10;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_next_vote(&rd, &g2), -VF_E(VF_ERR_TOO_BIG));

	/* CHECKPOINT: round trip */
	CHECK_EQ(vf_gmsg_checkpoint(&wb, 1234, &ck), 0);
	CHECK_EQ(vf_wb_pending(&wb), VF_GMSG_HDR_LEN + 16);
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK(h.type == VF_G_CHECKPOINT && h.count == 1 &&
	      h.last_order == 1234);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2), 0);
	CHECK(ck2.id == ck.id);
	/* wrong entry version, flags, reserved, count, length, type */
	vf_wb_data(&wb)[24] = 2;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_VERSION));
	vf_wb_data(&wb)[24] = 1;
	vf_wb_data(&wb)[26] = 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[26] = 0;
	vf_wb_data(&wb)[28] = 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[28] = 0;
	vf_wb_data(&wb)[8] = 2;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[8] = 1;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb) - 1, &h, &rd),
		 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_MALFORMED));
	vf_wb_u32(&wb, 0);	/* trailing bytes */
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2),
		 -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_gmsg_checkpoint(&wb, 1, &ck), 0);
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	h.type = VF_G_VOTES;
	CHECK_EQ(vf_gmsg_read_checkpoint(&h, &rd, &ck2), -VF_E(VF_ERR_TYPE));

	/* STATE: round trip, then every field broken */
	CHECK_EQ(vf_gmsg_state(&wb, 99, &st), 0);
	CHECK_EQ(vf_wb_pending(&wb), VF_GMSG_HDR_LEN + 16);
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK(h.type == VF_G_STATE && h.count == 1 && h.last_order == 99);
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), 0);
	CHECK(st2.state == 3 && st2.conf_hash == 0xdeadbeef &&
	      st2.view == 0x0102030405060708ull);
	vf_wb_data(&wb)[24] = 2;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), -VF_E(VF_ERR_VERSION));
	vf_wb_data(&wb)[24] = 1;
	vf_wb_data(&wb)[26] = 4;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[26] = 0;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h, &rd), 0);
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), -VF_E(VF_ERR_MALFORMED));
	vf_wb_data(&wb)[26] = 3;
	CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb) - 1, &h, &rd),
		 0);
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), -VF_E(VF_ERR_MALFORMED));
	h.type = VF_G_CHECKPOINT;
	CHECK_EQ(vf_gmsg_read_state(&h, &rd, &st2), -VF_E(VF_ERR_TYPE));

	/* A recovery message: the header opens, the entry is vf_rcv's. */
	{
		uint64_t round;
		uint16_t flags;

		vf_gmsg_begin(&wb, VF_G_RECOVER, 42);
		vf_rcv_put_recover(&wb, 99, VF_RCV_F_FULL);
		CHECK_EQ(vf_gmsg_end(&wb, 1), 0);
		CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h,
				      &rd),
			 0);
		CHECK(h.type == VF_G_RECOVER && h.count == 1);
		CHECK_EQ(vf_rcv_read_recover(&rd, h.count, &round, &flags), 0);
		CHECK(round == 99 && flags == VF_RCV_F_FULL);
		vf_wb_data(&wb)[6] = VF_G_RCV_ABORT;
		CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h,
				      &rd),
			 0);
		vf_wb_data(&wb)[6] = VF_G_LAST + 1;
		CHECK_EQ(vf_gmsg_open(vf_wb_data(&wb), vf_wb_pending(&wb), &h,
				      &rd),
			 -VF_E(VF_ERR_TYPE));
	}
	vf_wb_free(&wb);
	return vf_check_done("vmfitd-gmsg-test");
}
