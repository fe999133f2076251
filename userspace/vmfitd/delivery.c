// SPDX-License-Identifier: GPL-2.0-only
/*
 * delivery.c - the ordered stream: what the group delivers, in the same
 * order on every manager. REQUESTS are numbered (order 1, 2, ...) and
 * executed on the local replica; VOTES go to the voter, whose decisions
 * answer the waiting clients and fill the reply cache; CHECKPOINT goes to
 * checkpoint.c. A manager that sees the stream diverge from its own goes
 * out of sync.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "gmsg.h"
#include "vf_log.h"
#include "vmfitd.h"

bool vmfitd_available(const struct vmfitd *d)
{
	return d->synced && (d->local || d->cpg_ok);
}

static void out_of_sync(struct vmfitd *d, const char *why)
{
	if (!d->synced)
		return;
	vf_err("out of sync with the group (%s): this manager stops executing and voting until restarted with state transfer",
	       why);
	d->synced = false;
}

static void on_suspect(void *arg, uint64_t order, uint32_t node)
{
	struct vmfitd *d = arg;
	struct suspect *s, *slot = NULL;
	unsigned int i;

	if (vf_ratelimit(&d->suspect_rl, now_ms()))
		vf_warn("suspected faulty replica: node %u, order %" PRIu64
			" (its reply lost the vote)", node, order);
	for (i = 0; i < SUSPECT_SLOTS; i++) {
		s = &d->suspects[i];
		if (s->count && s->node == node) {
			slot = s;
			break;
		}
		if (!s->count && !slot)
			slot = s;
	}
	if (!slot)
		return;
	slot->node = node;
	slot->count++;
	slot->last_order = order;
}

static void on_expire(void *arg, uint64_t order)
{
	struct vmfitd *d = arg;
	struct ordmeta *m = &d->meta[order % d->conf.vote_window];

	if (vf_ratelimit(&d->expire_rl, now_ms()))
		vf_err("order %" PRIu64 " left the vote window undecided (fewer than f+1 identical replies)",
		       order);
	if (m->order != order)
		return;
	vf_rcache_decide(d->rc, m->cid, m->seq, VF_ST_UNAVAILABLE, NULL, 0);
	client_answer(d, m->cid, m->seq, VF_ST_UNAVAILABLE, NULL, 0);
}

static const struct vf_voter_ops voter_ops = {
	.suspect = on_suspect,
	.expire = on_expire,
};

static void deliver_requests(struct vmfitd *d, struct vf_rd *rd,
			     uint32_t count)
{
	struct vf_request m;
	struct ordmeta *meta;
	uint64_t order;
	uint32_t i;
	int r;

	for (i = 0; i < count; i++) {
		if (vf_gmsg_next_request(rd, &m))
			return;
		r = vf_rcache_deliver(d->rc, m.client_id, m.seq,
				      d->last_order + 1);
		if (r < 0) {
			out_of_sync(d, "out of memory in the reply cache");
			return;
		}
		if (r == 0) {
			d->st.dup_requests++;
			continue;
		}
		order = ++d->last_order;
		d->st.delivered++;
		vf_voter_open(d->voter, order);
		meta = &d->meta[order % d->conf.vote_window];
		meta->order = order;
		meta->cid = m.client_id;
		meta->seq = m.seq;
		replica_exec(d, order, m.client_id, m.seq, m.op, m.op_len);
	}
}

static void deliver_votes(struct vmfitd *d, uint32_t node, struct vf_rd *rd,
			  uint32_t count)
{
	struct vf_decision dec;
	struct ordmeta *meta;
	struct vf_gvote v;
	uint32_t i;
	int r;

	for (i = 0; i < count; i++) {
		if (vf_gmsg_next_vote(rd, &v))
			return;
		r = vf_voter_add(d->voter, v.order, node, v.data, v.len, &dec);
		if (r == -ENOENT) {
			out_of_sync(d, "vote for an order not delivered here");
			return;
		}
		if (r != VF_VOTE_DECIDED)
			continue;
		meta = &d->meta[dec.order % d->conf.vote_window];
		if (meta->order != dec.order)
			continue;
		vf_rcache_decide(d->rc, meta->cid, meta->seq, VF_ST_OK,
				 dec.data, dec.len);
		client_answer(d, meta->cid, meta->seq, VF_ST_OK, dec.data,
			      dec.len);
	}
}

/* @count requests (@len bytes) this manager sent are back (or lost). */
void own_delivered(struct vmfitd *d, uint32_t count, size_t len)
{
	d->own_reqs = count < d->own_reqs ? d->own_reqs - count : 0;
	d->own_bytes = len < d->own_bytes ? d->own_bytes - len : 0;
}

void deliver(struct vmfitd *d, uint32_t node, const void *msg, size_t len)
{
	struct vf_gmsg_hdr h;
	struct vf_rd rd;
	int r;

	r = vf_gmsg_open(msg, len, &h, &rd);
	if (r) {
		d->st.bad_gmsgs++;
		vf_err("cpg: undecodable message from node %u: %s", node,
		       vf_strerror(r));
		return;
	}
	if (h.type == VF_G_REQUESTS && node == d->nodeid)
		own_delivered(d, h.count, len);
	if (!d->synced)
		return;
	if (h.last_order > d->last_order) {
		out_of_sync(d, "a peer has delivered orders this manager has not");
		return;
	}
	if (h.type == VF_G_CHECKPOINT) {
		deliver_checkpoint(d, node, &h, &rd);
		return;
	}
	if (h.type == VF_G_REQUESTS)
		deliver_requests(d, &rd, h.count);
	else
		deliver_votes(d, node, &rd, h.count);
	if (vf_rd_end(&rd)) {
		d->st.bad_gmsgs++;
		vf_err("cpg: malformed %s message from node %u",
		       h.type == VF_G_REQUESTS ? "REQUESTS" : "VOTES", node);
	}
}

int delivery_init(struct vmfitd *d)
{
	d->synced = true;
	d->rc = vf_rcache_new(d->conf.max_clients);
	d->voter = vf_voter_new(d->conf.f, d->conf.vote_window, &voter_ops, d);
	d->meta = calloc(d->conf.vote_window, sizeof(*d->meta));
	return d->rc && d->voter && d->meta ? 0 : -ENOMEM;
}

void delivery_free(struct vmfitd *d)
{
	vf_rcache_free(d->rc);
	vf_voter_free(d->voter);
	free(d->meta);
}
