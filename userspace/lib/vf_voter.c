// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_voter.c - f+1 voting on replica replies. See vf_voter.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vf_sha256.h"
#include "vf_voter.h"

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
