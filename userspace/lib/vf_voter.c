// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_voter.c - f+1 voting on replica replies. See vf_voter.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vf_proto.h"
#include "vf_sha256.h"
#include "vf_voter.h"

/* Slot flags of the encoded window (protocol.rst "Manager state"). */
#define SLOT_DECIDED		0x1u
#define SLOT_FLAGS		SLOT_DECIDED

struct cand {
	uint8_t digest[VF_DIGEST_LEN];
	uint32_t count;		/* votes for this digest */
	uint32_t len;
	uint8_t *data;		/* freed once the order is decided */
};

struct slot {
	uint64_t order;		/* 0: never used */
	bool decided;
	uint8_t nvotes;
	uint8_t ncand;
	uint32_t node[VF_VOTER_MAX_VOTES];
	uint8_t cand_of[VF_VOTER_MAX_VOTES];
	struct cand cand[VF_VOTER_MAX_VOTES];
	uint8_t winner[VF_DIGEST_LEN];	/* valid when decided */
};

struct vf_voter {
	unsigned int f;
	unsigned int window;
	struct slot *ring;
	uint64_t last_opened;
	const struct vf_voter_ops *ops;
	void *arg;
	struct vf_voter_stats st;
	uint8_t *out_data;	/* winner bytes handed out by the last add */
};

struct vf_voter *vf_voter_new(unsigned int f, unsigned int window,
			      const struct vf_voter_ops *ops, void *arg)
{
	struct vf_voter *v;

	if (!window || 2 * f + 1 > VF_VOTER_MAX_VOTES) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->ring = calloc(window, sizeof(*v->ring));
	if (!v->ring) {
		free(v);
		return NULL;
	}
	v->f = f;
	v->window = window;
	v->ops = ops;
	v->arg = arg;
	return v;
}

static void slot_release(struct slot *s)
{
	unsigned int i;

	for (i = 0; i < s->ncand; i++) {
		free(s->cand[i].data);
		s->cand[i].data = NULL;
	}
}

void vf_voter_free(struct vf_voter *v)
{
	unsigned int i;

	if (!v)
		return;
	for (i = 0; i < v->window; i++)
		slot_release(&v->ring[i]);
	free(v->ring);
	free(v->out_data);
	free(v);
}

int vf_voter_open(struct vf_voter *v, uint64_t order)
{
	struct slot *s;

	if (order != v->last_opened + 1)
		return -EINVAL;
	s = &v->ring[order % v->window];
	if (s->order) {
		if (!s->decided) {
			v->st.expired++;
			if (v->ops && v->ops->expire)
				v->ops->expire(v->arg, s->order);
		}
		slot_release(s);
	}
	memset(s, 0, sizeof(*s));
	s->order = order;
	v->last_opened = order;
	v->st.last_opened = order;
	return 0;
}

static void suspect(struct vf_voter *v, uint64_t order, uint32_t node)
{
	v->st.suspects++;
	if (v->ops && v->ops->suspect)
		v->ops->suspect(v->arg, order, node);
}

static int add(struct vf_voter *v, uint64_t order, uint32_t node,
	       const uint8_t *data, uint32_t len, struct vf_decision *out)
{
	uint8_t dig[VF_DIGEST_LEN];
	struct slot *s;
	struct cand *c;
	unsigned int i;

	if (order > v->last_opened || !order)
		return -ENOENT;
	s = &v->ring[order % v->window];
	if (s->order != order)
		return -ESTALE;		/* evicted: older than the window */
	for (i = 0; i < s->nvotes; i++)
		if (s->node[i] == node)
			return -EEXIST;
	/* Cannot fail for SHA-256 with the default provider. */
	if (vf_sha256(data, len, dig))
		memset(dig, 0, VF_DIGEST_LEN);
	if (s->decided) {
		if (memcmp(dig, s->winner, VF_DIGEST_LEN))
			suspect(v, order, node);
		return -EALREADY;
	}
	if (s->nvotes == VF_VOTER_MAX_VOTES)
		return -ENOSPC;
	for (i = 0; i < s->ncand; i++)
		if (!memcmp(s->cand[i].digest, dig, VF_DIGEST_LEN))
			break;
	c = &s->cand[i];
	if (i == s->ncand) {
		c->data = malloc(len ? len : 1);
		if (!c->data)
			return -ENOMEM;
		if (len)
			memcpy(c->data, data, len);
		c->len = len;
		c->count = 0;
		memcpy(c->digest, dig, VF_DIGEST_LEN);
		s->ncand++;
	}
	s->node[s->nvotes] = node;
	s->cand_of[s->nvotes] = i;
	s->nvotes++;
	c->count++;
	if (c->count < v->f + 1)
		return VF_VOTE_PENDING;

	/* Decided: hand out the winner, report the losers, drop bytes. */
	s->decided = true;
	memcpy(s->winner, dig, VF_DIGEST_LEN);
	free(v->out_data);
	v->out_data = c->data;
	c->data = NULL;
	out->order = order;
	memcpy(out->digest, dig, VF_DIGEST_LEN);
	out->data = v->out_data;
	out->len = c->len;
	for (i = 0; i < s->nvotes; i++)
		if (&s->cand[s->cand_of[i]] != c)
			suspect(v, order, s->node[i]);
	slot_release(s);
	v->st.decided++;
	return VF_VOTE_DECIDED;
}

int vf_voter_add(struct vf_voter *v, uint64_t order, uint32_t node,
		 const uint8_t *data, uint32_t len, struct vf_decision *out)
{
	int r = add(v, order, node, data, len, out);

	/* A vote after the decision is the normal case (2f+1 voters, f+1
	 * decide): late, not dropped. Everything else refused is abnormal. */
	if (r == -EALREADY)
		v->st.late++;
	else if (r < 0)
		v->st.dropped++;
	return r;
}

void vf_voter_stats(const struct vf_voter *v, struct vf_voter_stats *st)
{
	*st = v->st;
}

/* Orders still in the window: first .. v->last_opened. */
static uint64_t window_first(const struct vf_voter *v)
{
	return v->last_opened < v->window ? 1 :
		v->last_opened - v->window + 1;
}

void vf_voter_encode(const struct vf_voter *v, struct vf_wbuf *wb)
{
	const struct slot *s;
	const struct cand *c;
	uint64_t o;
	unsigned int i;

	vf_wb_u32(wb, v->f);
	vf_wb_u32(wb, v->window);
	vf_wb_u64(wb, v->last_opened);
	vf_wb_u32(wb, v->last_opened ?
		  (uint32_t)(v->last_opened - window_first(v) + 1) : 0);
	for (o = window_first(v); v->last_opened && o <= v->last_opened; o++) {
		s = &v->ring[o % v->window];
		vf_wb_u64(wb, o);
		vf_wb_u32(wb, s->decided ? SLOT_DECIDED : 0);
		if (s->decided) {
			vf_wb_bytes(wb, s->winner, VF_DIGEST_LEN);
			continue;
		}
		vf_wb_u32(wb, s->nvotes);
		for (i = 0; i < s->nvotes; i++) {
			c = &s->cand[s->cand_of[i]];
			vf_wb_u32(wb, s->node[i]);
			vf_wb_u32(wb, c->len);
			if (c->len)
				vf_wb_bytes(wb, c->data, c->len);
		}
	}
}

void vf_voter_reset(struct vf_voter *v)
{
	unsigned int i;

	for (i = 0; i < v->window; i++)
		slot_release(&v->ring[i]);
	memset(v->ring, 0, v->window * sizeof(*v->ring));
	v->last_opened = 0;
	v->st.last_opened = 0;
}

static int decode_slot(struct vf_voter *v, struct vf_rd *rd, uint64_t want)
{
	struct vf_decision dec;
	uint32_t flags, nvotes, node, len, i;
	const uint8_t *p;
	struct slot *s;
	int r;

	if (vf_rd_u64(rd) != want)
		return rd->err ? rd->err : -VF_E(VF_ERR_MALFORMED);
	flags = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (flags & ~SLOT_FLAGS)
		return -VF_E(VF_ERR_MALFORMED);
	s = &v->ring[want % v->window];
	s->order = want;
	if (flags & SLOT_DECIDED) {
		p = vf_rd_bytes(rd, VF_DIGEST_LEN);
		if (!p)
			return rd->err;
		s->decided = true;
		memcpy(s->winner, p, VF_DIGEST_LEN);
		return 0;
	}
	nvotes = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (nvotes > 2 * v->f + 1)
		return -VF_E(VF_ERR_TOO_BIG);
	for (i = 0; i < nvotes; i++) {
		node = vf_rd_u32(rd);
		len = vf_rd_u32(rd);
		if (rd->err)
			return rd->err;
		if (len > VF_MAX_OP)
			return -VF_E(VF_ERR_TOO_BIG);
		p = vf_rd_bytes(rd, len);
		if (!p && len)
			return rd->err;
		r = add(v, want, node, p, len, &dec);
		/* An undecided order that these votes decide: not written by
		 * a correct voter (a node twice is refused the same way). */
		if (r != VF_VOTE_PENDING)
			return r == -ENOMEM ? r : -VF_E(VF_ERR_MALFORMED);
	}
	return 0;
}

int vf_voter_decode(struct vf_voter *v, struct vf_rd *rd)
{
	uint32_t f, window, n;
	uint64_t last, o;
	int r;

	vf_voter_reset(v);
	f = vf_rd_u32(rd);
	window = vf_rd_u32(rd);
	last = vf_rd_u64(rd);
	n = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (f != v->f || window != v->window)
		return -VF_E(VF_ERR_MALFORMED);
	v->last_opened = last;
	if (n != (last ? last - window_first(v) + 1 : 0)) {
		v->last_opened = 0;
		return -VF_E(VF_ERR_MALFORMED);
	}
	for (o = window_first(v); last && o <= last; o++) {
		r = decode_slot(v, rd, o);
		if (r) {
			vf_voter_reset(v);
			return r;
		}
	}
	v->st.last_opened = last;
	return 0;
}
