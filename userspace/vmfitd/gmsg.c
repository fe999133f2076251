// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmsg.c - manager group message codec.
 *
 * Header (24 bytes): u32 magic "VMFG", u16 version, u16 type, u32 count,
 * u32 reserved (0), u64 last_order; then count entries:
 *   REQUESTS: u64 client_id, u64 seq, u32 op_len, op[op_len]
 *   VOTES:    u64 order, u32 len, data[len]
 *   CHECKPOINT (count 1): u16 entry version (1), u16 flags (0),
 *             u32 reserved (0), u64 id
 *   STATE (count 1): u16 entry version (1), u16 state (1..3),
 *             u32 conf_hash, u64 view
 *   RECOVER .. RCV_ABORT: userspace/lib/vf_rcv.c
 */
#include "gmsg.h"

void vf_gmsg_begin(struct vf_wbuf *wb, uint16_t type, uint64_t last_order)
{
	vf_wb_reset(wb);
	vf_wb_u32(wb, VF_GMSG_MAGIC);
	vf_wb_u16(wb, VF_GMSG_VERSION);
	vf_wb_u16(wb, type);
	vf_wb_u32(wb, 0);
	vf_wb_u32(wb, 0);
	vf_wb_u64(wb, last_order);
}

void vf_gmsg_add_request(struct vf_wbuf *wb, const struct vf_request *m)
{
	vf_wb_u64(wb, m->client_id);
	vf_wb_u64(wb, m->seq);
	vf_wb_u32(wb, m->op_len);
	vf_wb_bytes(wb, m->op, m->op_len);
}

void vf_gmsg_add_vote(struct vf_wbuf *wb, const struct vf_gvote *v)
{
	vf_wb_u64(wb, v->order);
	vf_wb_u32(wb, v->len);
	vf_wb_bytes(wb, v->data, v->len);
}

int vf_gmsg_checkpoint(struct vf_wbuf *wb, uint64_t last_order,
		       const struct vf_gckpt *c)
{
	vf_gmsg_begin(wb, VF_G_CHECKPOINT, last_order);
	vf_wb_u16(wb, VF_GCKPT_VERSION);
	vf_wb_u16(wb, 0);
	vf_wb_u32(wb, 0);
	vf_wb_u64(wb, c->id);
	return vf_gmsg_end(wb, 1);
}

int vf_gmsg_state(struct vf_wbuf *wb, uint64_t last_order,
		  const struct vf_gstate *st)
{
	vf_gmsg_begin(wb, VF_G_STATE, last_order);
	vf_wb_u16(wb, VF_GSTATE_VERSION);
	vf_wb_u16(wb, st->state);
	vf_wb_u32(wb, st->conf_hash);
	vf_wb_u64(wb, st->view);
	return vf_gmsg_end(wb, 1);
}

int vf_gmsg_end(struct vf_wbuf *wb, uint32_t count)
{
	vf_wb_put_u32_at(wb, 8, count);
	return wb->err;
}

int vf_gmsg_open(const void *p, size_t n, struct vf_gmsg_hdr *h,
		 struct vf_rd *rd)
{
	uint32_t magic, reserved;
	uint16_t version;

	if (n > VF_GMSG_MAX)
		return -VF_E(VF_ERR_TOO_BIG);
	vf_rd_init(rd, p, n);
	magic = vf_rd_u32(rd);
	version = vf_rd_u16(rd);
	h->type = vf_rd_u16(rd);
	h->count = vf_rd_u32(rd);
	reserved = vf_rd_u32(rd);
	h->last_order = vf_rd_u64(rd);
	if (rd->err)
		return rd->err;
	if (magic != VF_GMSG_MAGIC)
		return -VF_E(VF_ERR_MAGIC);
	if (version != VF_GMSG_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (reserved)
		return -VF_E(VF_ERR_MALFORMED);
	if (h->type < VF_G_REQUESTS || h->type > VF_G_LAST)
		return -VF_E(VF_ERR_TYPE);
	return 0;
}

int vf_gmsg_next_request(struct vf_rd *rd, struct vf_request *m)
{
	m->client_id = vf_rd_u64(rd);
	m->seq = vf_rd_u64(rd);
	m->op_len = vf_rd_u32(rd);
	if (!rd->err && m->op_len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	m->op = vf_rd_bytes(rd, m->op_len);
	m->key = NULL;	/* checked by the manager that took it */
	return rd->err;
}

int vf_gmsg_next_vote(struct vf_rd *rd, struct vf_gvote *v)
{
	v->order = vf_rd_u64(rd);
	v->len = vf_rd_u32(rd);
	if (!rd->err && v->len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	v->data = vf_rd_bytes(rd, v->len);
	return rd->err;
}

int vf_gmsg_read_checkpoint(const struct vf_gmsg_hdr *h, struct vf_rd *rd,
			    struct vf_gckpt *c)
{
	uint16_t version, flags;
	uint32_t reserved;
	int r;

	if (h->type != VF_G_CHECKPOINT)
		return -VF_E(VF_ERR_TYPE);
	if (h->count != 1)
		return -VF_E(VF_ERR_MALFORMED);
	version = vf_rd_u16(rd);
	flags = vf_rd_u16(rd);
	reserved = vf_rd_u32(rd);
	c->id = vf_rd_u64(rd);
	r = vf_rd_end(rd);
	if (r)
		return r;
	if (version != VF_GCKPT_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (flags || reserved)
		return -VF_E(VF_ERR_MALFORMED);
	return 0;
}

int vf_gmsg_read_state(const struct vf_gmsg_hdr *h, struct vf_rd *rd,
		       struct vf_gstate *st)
{
	uint16_t version;
	int r;

	if (h->type != VF_G_STATE)
		return -VF_E(VF_ERR_TYPE);
	if (h->count != 1)
		return -VF_E(VF_ERR_MALFORMED);
	version = vf_rd_u16(rd);
	st->state = vf_rd_u16(rd);
	st->conf_hash = vf_rd_u32(rd);
	st->view = vf_rd_u64(rd);
	r = vf_rd_end(rd);
	if (r)
		return r;
	if (version != VF_GSTATE_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (st->state < 1 || st->state > 3)
		return -VF_E(VF_ERR_MALFORMED);
	return 0;
}
