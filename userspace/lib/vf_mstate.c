// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_mstate.c - the manager's ordered state as bytes. See vf_mstate.h;
 * the layout is Documentation/protocol.rst "Manager state". Each section
 * is written by the module that owns the table (vf_rcache, vf_voter);
 * this file frames them.
 */
#include <errno.h>
#include <string.h>

#include "vf_mstate.h"
#include "vf_proto.h"

int vf_mstate_encode(struct vf_wbuf *wb, uint64_t last_order,
		     const struct vf_rcache *rc, const struct vf_voter *v)
{
	vf_wb_bytes(wb, VF_MSTATE_MAGIC, 8);
	vf_wb_u32(wb, VF_MSTATE_VERSION);
	vf_wb_u32(wb, 0);
	vf_wb_u64(wb, last_order);
	vf_rcache_encode(rc, wb);
	vf_voter_encode(v, wb);
	return wb->err;
}

int vf_mstate_decode(const void *p, size_t n, uint64_t *last_order,
		     struct vf_rcache *rc, struct vf_voter *v)
{
	struct vf_voter_stats st;
	const uint8_t *magic;
	struct vf_rd rd;
	uint32_t version, reserved;
	uint64_t last;
	int r;

	vf_rd_init(&rd, p, n);
	magic = vf_rd_bytes(&rd, 8);
	version = vf_rd_u32(&rd);
	reserved = vf_rd_u32(&rd);
	last = vf_rd_u64(&rd);
	if (rd.err)
		return rd.err;
	if (memcmp(magic, VF_MSTATE_MAGIC, 8))
		return -VF_E(VF_ERR_MAGIC);
	if (version != VF_MSTATE_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (reserved)
		return -VF_E(VF_ERR_MALFORMED);
	r = vf_rcache_decode(rc, &rd);
	if (r)
		return r;
	r = vf_voter_decode(v, &rd);
	if (!r)
		r = vf_rd_end(&rd);
	if (!r) {
		/* The window ends at the last order delivered. */
		vf_voter_stats(v, &st);
		if (st.last_opened != last)
			r = -VF_E(VF_ERR_MALFORMED);
	}
	if (r) {
		vf_rcache_clear(rc);
		vf_voter_reset(v);
		return r;
	}
	*last_order = last;
	return 0;
}
