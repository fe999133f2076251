// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_verify.c - the verification of a recovery round
 * (Documentation/protocol.rst "Recovery", phase 3): the digest exchange,
 * the descent of the Merkle tree into the subtrees where the members
 * differ, and the vote on every chunk they disagree on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gmsg.h"
#include "recovery.h"
#include "vf_log.h"

static void free_level(struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < MEMBERS_MAX; i++) {
		free(r->mem[i].dig);
		free(r->mem[i].have);
		r->mem[i].dig = NULL;
		r->mem[i].have = NULL;
		r->mem[i].ngot = 0;
	}
	free(r->gfirst);
	free(r->gn);
	free(r->gpos);
	r->gfirst = NULL;
	r->gn = NULL;
	r->gpos = NULL;
	r->ng = 0;
	r->nq = 0;
}

/* This level's groups: one per parent in @par (NULL: the root). */
static int level_setup(struct rcv *r, unsigned int level,
		       const uint64_t *par, size_t npar)
{
	uint64_t len = vf_merkle_shape_len(r->geom.nchunks, level);
	size_t i, ng = par ? npar : 1;
	unsigned int m;

	free_level(r);
	r->level = level;
	r->gfirst = calloc(ng, sizeof(*r->gfirst));
	r->gn = calloc(ng, sizeof(*r->gn));
	r->gpos = calloc(ng, sizeof(*r->gpos));
	if (!r->gfirst || !r->gn || !r->gpos)
		return -ENOMEM;
	r->ng = ng;
	r->nq = 0;
	for (i = 0; i < ng; i++) {
		r->gfirst[i] = par ? par[i] * F : 0;
		r->gn[i] = par ? (len - r->gfirst[i] < F ?
				  len - r->gfirst[i] : F) : 1;
		r->gpos[i] = r->nq;
		r->nq += r->gn[i];
	}
	for (m = 0; m < r->k; m++) {
		r->mem[m].dig = calloc(r->nq, DS);
		r->mem[m].have = calloc(ng, 1);
		if (!r->mem[m].dig || !r->mem[m].have)
			return -ENOMEM;
	}
	return 0;
}

static void send_level(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint8_t dig[F * DS];
	struct vf_rcv_group g;
	uint32_t count = 0;
	size_t i, j;
	int e;

	for (i = 0; i < r->ng; i++) {
		if (!count) {
			vf_gmsg_begin(&r->msg, VF_G_RCV_DIGESTS,
				      d->last_order);
			vf_rcv_put_digests(&r->msg, r->round, &r->geom);
		}
		e = vf_dstore_nodes(&r->work, r->level, r->gfirst[i],
				    r->gn[i], dig);
		if (e) {
			vf_wb_reset(&r->msg);
			round_abort(d, VF_RCV_VOLUME, true,
				    "digests of level %u: %s", r->level,
				    strerror(-e));
			return;
		}
		if (r->lie)
			for (j = 0; j < r->gn[i]; j++)
				dig[j * DS] ^= 0x5a;
		g.level = r->level;
		g.first = r->gfirst[i];
		g.n = r->gn[i];
		g.digests = dig;
		vf_rcv_put_group(&r->msg, &g);
		if (++count == VF_RCV_MAX_GROUPS || i + 1 == r->ng) {
			round_send(d, count);
			count = 0;
			/* In --unreplicated mode the send delivered it and
			 * the round may have moved on. */
			if (r->phase != PH_VERIFY)
				return;
		}
	}
}

static bool level_complete(const struct rcv *r)
{
	unsigned int m;

	for (m = 0; m < r->k; m++)
		if (!r->mem[m].left && r->mem[m].ngot < r->ng)
			return false;
	return true;
}

/* Do the k digests of node @q (position in this level) all agree? */
static bool all_equal(const struct rcv *r, size_t q)
{
	unsigned int m;

	for (m = 1; m < r->k; m++)
		if (memcmp(r->mem[0].dig + q * DS, r->mem[m].dig + q * DS, DS))
			return false;
	return true;
}

/*
 * Chunk @c is to be fetched: the value @o the voters agree on, and who
 * sent it. Returns 0, or -ENOMEM with the round aborted.
 */
static int add_repair(struct vmfitd *d, uint64_t c,
		      const struct vf_cvote_out *o)
{
	struct rcv *r = d->rcv;
	struct repair *rp;

	rp = realloc(r->rep, (r->nrep + 1) * sizeof(*rp));
	if (!rp) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return -ENOMEM;
	}
	r->rep = rp;
	rp = &r->rep[r->nrep++];
	memset(rp, 0, sizeof(*rp));
	rp->chunk = c;
	memcpy(rp->digest, o->digest, DS);
	memcpy(rp->sources, o->sources, o->nsources * sizeof(o->sources[0]));
	rp->nsources = o->nsources;
	return 0;
}

/*
 * The members' digests of node @q (position in this level) as votes in
 * @rem, but for member @skip (k: none) and those that left; their number.
 * A voter counts every member but itself: one that leaves before
 * RCV_FETCHED ends the round (rcv_left).
 */
static unsigned int member_votes(const struct rcv *r, size_t q,
				 unsigned int skip,
				 struct vf_cvote_remote *rem)
{
	unsigned int m, n = 0;

	for (m = 0; m < r->k; m++) {
		if (m == skip || r->mem[m].left)
			continue;
		rem[n].node = r->mem[m].node;
		rem[n].answered = true;
		memcpy(rem[n].digest, r->mem[m].dig + q * DS, DS);
		n++;
	}
	return n;
}

/*
 * A receiver's vote: every chunk is decided by the k voters alone (f+1
 * agree, no local digest counts); the ones its own B lacks are fetched.
 */
static void receiver_vote(struct vmfitd *d)
{
	static const uint8_t none[DS];
	struct rcv *r = d->rcv;
	struct vf_cvote_remote rem[VF_CVOTE_MAX_REMOTE];
	struct vf_cvote_out o;
	const uint8_t *own;
	unsigned int n;
	size_t g, j, q;
	uint64_t c;

	for (g = 0; g < r->ng; g++) {
		for (j = 0; j < r->gn[g]; j++) {
			q = r->gpos[g] + j;
			c = r->gfirst[g] + j;
			n = member_votes(r, q, r->k, rem);
			vf_cvote(d->conf.f, none, rem, n, &o);
			if (o.result != VF_CV_REPAIR ||
			    vf_dstore_set(&r->work, c, o.digest, DS)) {
				round_abort(d, VF_RCV_UNDECIDED, true,
					    "chunk %" PRIu64 ": no f+1 managers agree",
					    c);
				return;
			}
			own = r->have_bstore && c < r->bstore.nchunks &&
			      r->bstore.chunk_size == r->geom.chunk_size ?
			      vf_dstore_get(&r->bstore, c) : NULL;
			if (own && !memcmp(own, o.digest, DS)) {
				r->st.verified++;
				continue;
			}
			if (add_repair(d, c, &o))
				return;
		}
	}
	free_level(r);
	r->work.complete = true;
	r->chunks_decided = true;
	catchup_decide(d);
}

/* Level 0 is complete: vote on every chunk the members disagree on. */
static void vote_chunks(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_cvote_remote rem[VF_CVOTE_MAX_REMOTE];
	struct vf_cvote_out o;
	unsigned int n;
	size_t g, j, q;
	uint64_t c;

	if (r->receiver) {
		receiver_vote(d);
		return;
	}
	for (g = 0; g < r->ng; g++) {
		for (j = 0; j < r->gn[g]; j++) {
			q = r->gpos[g] + j;
			c = r->gfirst[g] + j;
			if (all_equal(r, q))
				continue;
			n = member_votes(r, q, r->self, rem);
			vf_cvote(d->conf.f, vf_dstore_get(&r->work, c), rem,
				 n, &o);
			if (o.result == VF_CV_VERIFIED)
				continue;
			if (o.result != VF_CV_REPAIR) {
				round_abort(d, VF_RCV_UNDECIDED, true,
					    "chunk %" PRIu64 ": no f+1 managers agree",
					    c);
				return;
			}
			if (add_repair(d, c, &o))
				return;
			/* The store holds the verified state's digests (I2). */
			vf_dstore_set(&r->work, c, o.digest, DS);
			vf_warn("recovery: chunk %" PRIu64 " differs from what %u managers agree on: fetching it from node %u",
				c, o.agree, o.sources[0]);
		}
	}
	r->st.verified = r->geom.nchunks - r->nrep;
	free_level(r);
	round_phase(d, PH_FETCH);
	fetch_start(d);
}

/* Every member has sent this level: descend where they differ. */
static void level_done(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint64_t *par;
	size_t g, j, q, npar = 0;
	int e;

	if (!r->level) {
		vote_chunks(d);
		return;
	}
	par = calloc(r->nq ? r->nq : 1, sizeof(*par));
	if (!par) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	/* With receivers: the whole tree, so that they get every digest. */
	for (g = 0; g < r->ng; g++)
		for (j = 0; j < r->gn[g]; j++) {
			q = r->gpos[g] + j;
			if (r->nrecv || !all_equal(r, q))
				par[npar++] = r->gfirst[g] + j;
		}
	if (!npar) {
		/* All k agree on everything below: verified. */
		free(par);
		free_level(r);
		r->st.verified = r->geom.nchunks;
		round_phase(d, PH_FETCH);
		fetch_start(d);
		return;
	}
	e = level_setup(r, r->level - 1, par, npar);
	free(par);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	/* Info: a few lines a round, and what shows a disagreement. */
	vf_info("recovery: %zu node(s) differ; descending to level %u",
		npar, r->level);
	if (!r->receiver)
		send_level(d);
}

void verify_digests(struct vmfitd *d, int m,
			    const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_geom g;
	struct vf_rcv_group grp;
	struct member *mb = &r->mem[m];
	size_t lo, hi, mid;
	uint32_t i;
	int e;

	e = vf_rcv_read_digests(rd, h->count, r->round, &g);
	if (e) {
		r->st.bad_msgs++;
		vf_err("recovery: RCV_DIGESTS from node %u refused: %s",
		       mb->node, vf_strerror(e));
		return;
	}
	if (g.nchunks != r->geom.nchunks ||
	    g.chunk_size != r->geom.chunk_size) {
		round_abort(d, VF_RCV_GEOMETRY, false,
			    "node %u has %" PRIu64 " chunks of %u bytes, this host %" PRIu64 " of %u",
			    mb->node, g.nchunks, g.chunk_size,
			    r->geom.nchunks, r->geom.chunk_size);
		return;
	}
	for (i = 0; i < h->count; i++) {
		e = vf_rcv_next_group(rd, &g, &grp);
		if (e) {
			r->st.bad_msgs++;
			vf_err("recovery: RCV_DIGESTS from node %u: group %u refused: %s",
			       mb->node, i, vf_strerror(e));
			return;
		}
		/* The group of this level that starts at grp.first. */
		lo = 0;
		hi = r->ng;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (r->gfirst[mid] < grp.first)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (grp.level != r->level || lo == r->ng ||
		    r->gfirst[lo] != grp.first || r->gn[lo] != grp.n) {
			r->st.bad_msgs++;
			vf_err("recovery: RCV_DIGESTS from node %u: level %u nodes %" PRIu64 "+%u were not asked for",
			       mb->node, grp.level, grp.first, grp.n);
			continue;
		}
		if (mb->have[lo])
			continue;	/* duplicate: the first counts */
		memcpy(mb->dig + r->gpos[lo] * DS, grp.digests,
		       (size_t)grp.n * DS);
		mb->have[lo] = 1;
		mb->ngot++;
	}
	if (vf_rd_end(rd)) {
		r->st.bad_msgs++;
		vf_err("recovery: RCV_DIGESTS from node %u: trailing bytes",
		       mb->node);
	}
	if (level_complete(r))
		level_done(d);
}

void verify_keep_early(struct vmfitd *d, uint32_t node, const struct vf_rd *rd)
{
	struct rcv *r = d->rcv;

	if (r->nearly == MEMBERS_MAX)
		return;
	r->early[r->nearly].msg = malloc(rd->n);
	if (!r->early[r->nearly].msg)
		return;
	memcpy(r->early[r->nearly].msg, rd->p, rd->n);
	r->early[r->nearly].len = rd->n;
	r->early[r->nearly].node = node;
	r->nearly++;
}

static void replay_early(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_gmsg_hdr h;
	struct vf_rd rd;
	unsigned int i;
	int m;

	for (i = 0; i < r->nearly && r->phase == PH_VERIFY; i++) {
		m = round_member(r, r->early[i].node);
		if (m >= 0 && !vf_gmsg_open(r->early[i].msg, r->early[i].len,
					    &h, &rd))
			verify_digests(d, m, &h, &rd);
	}
	/* The round may be over (or the level done and freed) by now. */
	for (i = 0; i < r->nearly; i++)
		free(r->early[i].msg);
	r->nearly = 0;
}

int verify_follow(struct rcv *r, const struct vf_rcv_geom *g)
{
	if (vf_rcv_geom_check(g))
		return -EINVAL;
	r->geom = *g;
	/* The voted digests: its digest store once it has caught up. */
	vf_dstore_free(&r->work);
	if (vf_dstore_init(&r->work, g->nchunks, g->chunk_size))
		return -ENOMEM;
	return level_setup(r, vf_merkle_shape_levels(g->nchunks) - 1, NULL,
			   0);
}

int verify_store_init(struct rcv *r)
{
	vf_dstore_free(&r->work);
	if (r->have_store && r->store.nchunks == r->geom.nchunks &&
	    r->store.chunk_size == r->geom.chunk_size)
		return vf_dstore_copy(&r->work, &r->store);
	r->full = true;
	return vf_dstore_init(&r->work, r->geom.nchunks, r->geom.chunk_size);
}

void verify_start(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int e;

	e = level_setup(r, vf_merkle_shape_levels(r->geom.nchunks) - 1,
			NULL, 0);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	round_send_bad(d, VF_G_RCV_DIGESTS);
	send_level(d);
	if (r->phase == PH_VERIFY)
		catchup_send_mstate(d);
	replay_early(d);
}

void verify_clear(struct rcv *r)
{
	unsigned int i;

	free_level(r);
	for (i = 0; i < r->nearly; i++)
		free(r->early[i].msg);
	r->nearly = 0;
}
