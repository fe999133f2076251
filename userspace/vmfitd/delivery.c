// SPDX-License-Identifier: GPL-2.0-only
/*
 * delivery.c - the ordered stream: what the group delivers, in the same
 * order on every manager. REQUESTS are numbered (order 1, 2, ...) and
 * executed on the local replica; VOTES go to the voter, whose decisions
 * answer the waiting clients and fill the reply cache; CHECKPOINT goes to
 * checkpoint.c; STATE to membership.c. Only the vmfitd of a configured
 * manager in sync in the same primary view is heard (membership.h); an
 * ordered message that such a sender could not have sent (ahead of this
 * manager's order) is rejected and logged: a forged message must never
 * put a correct manager out of sync.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmsg.h"
#include "vf_log.h"
#include "vf_mstate.h"
#include "vmfitd.h"

bool vmfitd_available(const struct vmfitd *d)
{
	return manager_serving(&d->mb) && (d->local || d->cpg_ok);
}

uint32_t vmfitd_refusal(const struct vmfitd *d)
{
	/* Outside the primary component: another manager can serve. */
	if (!d->local && d->cpg_ok && !membership_primary(&d->mb))
		return VF_ST_NOT_PRIMARY;
	return VF_ST_UNAVAILABLE;
}

void delivery_membership(struct vmfitd *d, int flags)
{
	/* Clients waiting here would wait for good: send them elsewhere. */
	if (!vmfitd_available(d) && d->npending)
		client_refuse_all(d, vmfitd_refusal(d));
	if (flags & MB_GENESIS)
		vf_info("in sync at order %" PRIu64 ": ready to order, execute and answer",
			d->last_order);
}

static void out_of_sync(struct vmfitd *d, const char *why)
{
	mb_out_of_sync(&d->mb, why);
	delivery_membership(d, MB_LOST_SYNC);
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
	/* Never a final answer: nothing is cached as the reply. */
	vf_rcache_expire(d->rc, m->cid, m->seq);
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
		if (r == -ESTALE) {
			/* Same decision on every manager: not executed. */
			d->st.stale_refused++;
			client_refuse(d, m.client_id, m.seq,
				      VMFITD_EVICTED_MSG);
			continue;
		}
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

static void deliver_votes(struct vmfitd *d, uint32_t node, uint32_t pid,
			  struct vf_rd *rd, uint32_t count)
{
	struct vf_decision dec;
	struct ordmeta *meta;
	struct vf_gvote v;
	uint32_t i;
	int r;

	for (i = 0; i < count; i++) {
		if (vf_gmsg_next_vote(rd, &v))
			return;
		if (v.order > d->last_order) {
			/* A manager in sync votes only for delivered orders. */
			mb_reject(&d->mb, node, pid, "VOTES",
				  "vote for an order not delivered yet");
			return;
		}
		r = vf_voter_add(d->voter, v.order, node, v.data, v.len, &dec);
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

static const char *const gmsg_names[] = {
	[VF_G_REQUESTS] = "REQUESTS",
	[VF_G_VOTES] = "VOTES",
	[VF_G_CHECKPOINT] = "CHECKPOINT",
	[VF_G_STATE] = "STATE",
	[VF_G_RECOVER] = "RECOVER",
	[VF_G_RCV_READY] = "RCV_READY",
	[VF_G_RCV_DIGESTS] = "RCV_DIGESTS",
	[VF_G_RCV_FETCHED] = "RCV_FETCHED",
	[VF_G_RCV_ABORT] = "RCV_ABORT",
	[VF_G_RCV_MSTATE] = "RCV_MSTATE",
};

static void deliver_state(struct vmfitd *d, uint32_t node, uint32_t pid,
			  const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct vf_gstate st;
	int r;

	r = vf_gmsg_read_state(h, rd, &st);
	if (r) {
		d->st.bad_gmsgs++;
		vf_err("cpg: malformed STATE message from node %u: %s", node,
		       vf_strerror(r));
		return;
	}
	delivery_membership(d, mb_state(&d->mb, node, pid, st.state,
					h->last_order, st.conf_hash,
					st.view));
}

/* REQUESTS, VOTES, CHECKPOINT of an admitted sender. */
static void deliver_ordered(struct vmfitd *d, uint32_t node, uint32_t pid,
			    const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	if (h->type == VF_G_CHECKPOINT) {
		deliver_checkpoint(d, node, h, rd);
		return;
	}
	if (h->type == VF_G_REQUESTS)
		deliver_requests(d, rd, h->count);
	else
		deliver_votes(d, node, pid, rd, h->count);
	if (vf_rd_end(rd)) {
		d->st.bad_gmsgs++;
		vf_err("cpg: malformed %s message from node %u",
		       h->type == VF_G_REQUESTS ? "REQUESTS" : "VOTES", node);
	}
}

void deliver(struct vmfitd *d, uint32_t node, uint32_t pid, const void *msg,
	     size_t len)
{
	struct vf_gmsg_hdr h;
	struct vf_rd rd;
	const char *what;
	int r;

	r = vf_gmsg_open(msg, len, &h, &rd);
	if (r) {
		d->st.bad_gmsgs++;
		vf_err("cpg: undecodable message from node %u: %s", node,
		       vf_strerror(r));
		return;
	}
	/* Own REQUESTS back (counted for back-pressure, client.c). */
	if (h.type == VF_G_REQUESTS && node == d->nodeid &&
	    pid == (uint32_t)getpid())
		own_delivered(d, h.count, len);
	if (h.type == VF_G_STATE) {
		deliver_state(d, node, pid, &h, &rd);
		return;
	}
	what = gmsg_names[h.type];
	if (h.type >= VF_G_RECOVER) {
		/*
		 * A round also brings back managers that are not in sync
		 * (protocol.rst "Catching up"): it hears every configured
		 * member present and decides itself who may say what.
		 */
		if (!mb_admit_present(&d->mb, node, pid, what))
			return;
		if (manager_in_sync(&d->mb) &&
		    mb_sender_synced(&d->mb, node, pid) &&
		    h.last_order > d->last_order) {
			mb_reject(&d->mb, node, pid, what,
				  "its sender claims orders not delivered yet");
			return;
		}
		rcv_deliver(d, node, &h, &rd);
		return;
	}
	if (!manager_in_sync(&d->mb)) {
		/* What it missed, for a catch-up in progress (if any). */
		if (mb_sender_synced(&d->mb, node, pid))
			rcv_keep(d, node, pid, msg, len);
		return;
	}
	if (!mb_admit(&d->mb, node, pid, what))
		return;
	if (h.last_order > d->last_order) {
		mb_reject(&d->mb, node, pid, what,
			  "its sender claims orders not delivered yet");
		return;
	}
	deliver_ordered(d, node, pid, &h, &rd);
}

void deliver_kept(struct vmfitd *d, uint32_t node, uint32_t pid,
		  const void *msg, size_t len)
{
	struct vf_gmsg_hdr h;
	struct vf_rd rd;

	/* Kept by rcv_keep() after deliver() opened it: cannot fail. */
	if (vf_gmsg_open(msg, len, &h, &rd) || h.type >= VF_G_STATE)
		return;
	deliver_ordered(d, node, pid, &h, &rd);
}

int delivery_adopt(struct vmfitd *d, const void *p, size_t n)
{
	const struct vf_rc_entry *e;
	struct vf_rcache *rc;
	struct vf_voter *v;
	struct ordmeta *m;
	uint64_t last;
	int r = -ENOMEM;

	rc = vf_rcache_new(d->conf.max_clients);
	v = vf_voter_new(d->conf.f, d->conf.vote_window, &voter_ops, d);
	if (!rc || !v)
		goto out;
	r = vf_mstate_decode(p, n, &last, rc, v);
	if (r)
		goto out;
	/* Orders still open: which request each one answers. */
	memset(d->meta, 0, d->conf.vote_window * sizeof(*d->meta));
	for (e = vf_rcache_next(rc, NULL); e; e = vf_rcache_next(rc, e)) {
		if (e->decided || !e->order || e->order > last ||
		    last - e->order >= d->conf.vote_window)
			continue;
		m = &d->meta[e->order % d->conf.vote_window];
		m->order = e->order;
		m->cid = e->client_id;
		m->seq = e->seq;
	}
	vf_rcache_free(d->rc);
	vf_voter_free(d->voter);
	d->rc = rc;
	d->voter = v;
	d->last_order = last;
	return 0;
out:
	vf_rcache_free(rc);
	vf_voter_free(v);
	return r;
}

int delivery_init(struct vmfitd *d)
{
	mb_init(&d->mb, &d->conf, d->local);
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
