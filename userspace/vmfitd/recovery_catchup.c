// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_catchup.c - a manager that is not in sync catches up through a
 * round, as a receiver (Documentation/protocol.rst "Catching up"): who
 * the receivers are, the trigger, the voters' manager state (written at
 * the capture, its digests multicast as RCV_MSTATE, its pieces served to
 * peers), and on the receiver: its own B hashed (only to spare fetches),
 * the ordered messages kept from the capture on, the vote on the voters'
 * digests, the pieces of the manager state, and the hand-over point, the
 * delivery of its RCV_FETCHED, where it takes over the state and replays
 * what it kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gmsg.h"
#include "recovery.h"
#include "vf_log.h"
#include "vf_mstate.h"
#include "vf_sha256.h"

#define CATCHUP_RETRY_MS	5000	/* while one stays out of sync */
#define KEEP_MAX		(64u << 20)	/* ordered bytes kept */

/*----------------------------------------------------------------*/
/* Who */

static int recv_idx(const struct receiver *rv, unsigned int n, uint32_t node)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (rv[i].node == node)
			return i;
	return -1;
}

/* Receivers: configured, present in the primary view, not in sync. */
static unsigned int find_receivers(const struct vmfitd *d,
				   struct receiver *rv)
{
	unsigned int i, n = 0;
	uint32_t node;

	if (d->local)
		return 0;
	for (i = 0; i < d->mb.n && n < MEMBERS_MAX; i++) {
		node = d->mb.m[i].node;
		if (membership_is_member(&d->mb, node) &&
		    !membership_is_synced(&d->mb, node)) {
			rv[n].node = node;
			rv[n++].done = false;
		}
	}
	return n;
}

void catchup_recover(struct vmfitd *d, uint64_t round)
{
	struct catchup_sync *cu = &d->rcv->cu;
	unsigned int i;

	memset(cu, 0, sizeof(*cu));
	cu->round = round;
	cu->nrecv = find_receivers(d, cu->recv);
	for (i = 0; i < d->mb.n && cu->nvoters < MEMBERS_MAX; i++)
		if (membership_is_synced(&d->mb, d->mb.m[i].node))
			cu->voters[cu->nvoters++] = d->mb.m[i].node;
}

void catchup_round(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	r->nrecv = find_receivers(d, r->recv);
	r->receiver = recv_idx(r->recv, r->nrecv, d->nodeid) >= 0;
	r->adopted = false;
	if (r->nrecv)
		vf_info("recovery: %u manager(s) catch up in this round%s",
			r->nrecv, r->receiver ? ", this one among them" : "");
}

/* The lowest node id in sync starts a round for a manager out of sync. */
void catchup_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;
	uint32_t lowest = UINT32_MAX, node;
	uint64_t round;
	bool behind = false;
	unsigned int i;

	if (d->local || r->phase != PH_IDLE || !manager_serving(&d->mb))
		return;
	for (i = 0; i < d->mb.n; i++) {
		node = d->mb.m[i].node;
		/*
		 * Every STATE of this view delivered first, so that the
		 * receivers know at RECOVER who is in sync.
		 */
		if (d->mb.m[i].present && !d->mb.m[i].announced)
			return;
		if (membership_is_synced(&d->mb, node) && node < lowest)
			lowest = node;
		if (membership_is_member(&d->mb, node) &&
		    !membership_is_synced(&d->mb, node))
			behind = true;
	}
	if (!behind || lowest != d->nodeid)
		return;
	if (now < r->next_catchup_ms) {
		if (r->next_catchup_ms < *wake)
			*wake = r->next_catchup_ms;
		return;
	}
	r->next_catchup_ms = now + CATCHUP_RETRY_MS;
	if (!rcv_trigger(d, false, &round))
		vf_info("recovery: round %016" PRIx64 " triggered: a manager out of sync is present",
			round);
}

/* Is @node's message of @type one it may send? (Receivers: only these.) */
bool catchup_refused(struct vmfitd *d, uint32_t node, uint16_t type)
{
	struct rcv *r = d->rcv;
	const char *what;

	if (recv_idx(r->recv, r->nrecv, node) < 0 || r->phase == PH_IDLE)
		return false;
	if (type == VF_G_RCV_FETCHED || type == VF_G_RCV_ABORT)
		return false;
	what = type == VF_G_RCV_READY ? "RCV_READY" :
	       type == VF_G_RCV_DIGESTS ? "RCV_DIGESTS" :
	       type == VF_G_RCV_MSTATE ? "RCV_MSTATE" : "message";
	r->st.bad_msgs++;
	vf_err("recovery: %s from node %u refused: it catches up", what,
	       node);
	return true;
}

/*----------------------------------------------------------------*/
/* Voters: the manager state */

/* At the capture (the k-th RCV_READY): the state at this point. */
void catchup_capture_state(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	vf_wb_reset(&r->mstate);
	if (!r->nrecv)
		return;
	if (vf_mstate_encode(&r->mstate, d->last_order, d->rc, d->voter))
		vf_wb_reset(&r->mstate);	/* sent empty: cannot agree */
}

/* After this voter's first RCV_DIGESTS: the digests of its pieces. */
void catchup_send_mstate(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_mstate m = { .round = r->round };
	uint8_t *dig;
	uint32_t i, len;

	if (!r->nrecv || r->receiver)
		return;
	if (!vf_wb_pending(&r->mstate) ||
	    vf_rcv_mstate_pieces(vf_wb_pending(&r->mstate)) >
	    VF_RCV_MSTATE_MAX_PIECES) {
		round_abort(d, VF_RCV_VOLUME, true,
			    "manager state not written (%zu bytes)",
			    vf_wb_pending(&r->mstate));
		return;
	}
	m.order = r->capture_order;
	m.len = vf_wb_pending(&r->mstate);
	m.npieces = vf_rcv_mstate_pieces(m.len);
	dig = malloc((size_t)m.npieces * DS);
	if (!dig) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	for (i = 0; i < m.npieces; i++) {
		len = vf_rcv_mstate_piece_len(m.len, i);
		vf_sha256(vf_wb_data(&r->mstate) +
			  (size_t)i * VF_RCV_MSTATE_PIECE,
			  len, dig + (size_t)i * DS);
	}
	m.digests = dig;
	vf_gmsg_begin(&r->msg, VF_G_RCV_MSTATE, d->last_order);
	vf_rcv_put_mstate(&r->msg, &m);
	free(dig);
	round_send(d, 1);
}

/* Piece @chunk - VF_RCV_MSTATE_CHUNK of this voter's state, for a peer. */
int catchup_piece(struct rcv *r, uint64_t chunk, struct vf_peer_chunk *c)
{
	uint64_t i = chunk - VF_RCV_MSTATE_CHUNK;
	size_t len = vf_wb_pending(&r->mstate);

	c->len = len ? vf_rcv_mstate_piece_len(len, i) : 0;
	if (!c->len)
		return -VF_E(VF_ERR_CHUNK);
	c->data = vf_wb_data(&r->mstate) + i * VF_RCV_MSTATE_PIECE;
	return 0;
}

/*----------------------------------------------------------------*/
/* Receiver: what it has, what it keeps */

/* At RECOVER: its B's digests (untrusted: they only spare fetches). */
void catchup_start(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int e;

	r->keeping = false;
	vf_wb_init(&r->keep, KEEP_MAX);
	e = volume_hash_b(r);
	if (e)
		vf_warn("recovery: %s not hashed (%s): every chunk will be fetched",
			r->vol[!r->cur].path, strerror(-e));
}

/*
 * Test fault "receiver-digests": a receiver that sends digests and a
 * manager state anyway; every manager must refuse them.
 */
static void send_unasked(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	static const uint8_t dig[DS];
	struct vf_rcv_geom g = { 1, VF_RCV_MIN_CHUNK };
	struct vf_rcv_group grp = { 0, 1, 0, dig };
	struct vf_rcv_mstate m = { r->round, d->last_order, 1, 1, dig };

	vf_gmsg_begin(&r->msg, VF_G_RCV_DIGESTS, d->last_order);
	vf_rcv_put_digests(&r->msg, r->round, &g);
	vf_rcv_put_group(&r->msg, &grp);
	round_send(d, 1);
	vf_gmsg_begin(&r->msg, VF_G_RCV_MSTATE, d->last_order);
	vf_rcv_put_mstate(&r->msg, &m);
	round_send(d, 1);
}

/* At the capture: from here every ordered message is kept. */
void catchup_capture(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	r->capture_order = 0;	/* known from the voted manager state */
	r->keeping = true;
	round_phase(d, PH_VERIFY);
	vf_info("recovery: all %u ready; keeping the ordered stream from here",
		r->k);
	if (r->recv_digests)
		send_unasked(d);
}

void rcv_keep(struct vmfitd *d, uint32_t node, uint32_t pid, const void *msg,
	      size_t len)
{
	struct rcv *r = d->rcv;

	if (!r || !r->receiver || !r->keeping)
		return;
	vf_wb_u32(&r->keep, node);
	vf_wb_u32(&r->keep, pid);
	vf_wb_u32(&r->keep, len);
	vf_wb_bytes(&r->keep, msg, len);
	if (r->keep.err)
		round_abort(d, VF_RCV_VOLUME, true,
			    "more than %u bytes of ordered messages to keep",
			    KEEP_MAX);
}

/* RCV_MSTATE from voter @m. */
void catchup_mstate(struct vmfitd *d, int m, const struct vf_gmsg_hdr *h,
		    struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_mstate ms;
	struct catchup_ms *x = &r->ms[m];
	struct vf_wbuf kb;
	int e;

	e = vf_rcv_read_mstate(rd, h->count, r->round, &ms);
	if (e) {
		r->st.bad_msgs++;
		vf_err("recovery: RCV_MSTATE from node %u refused: %s",
		       r->mem[m].node, vf_strerror(e));
		return;
	}
	if (!r->receiver || x->got)
		return;
	x->dig = malloc((size_t)ms.npieces * DS);
	if (!x->dig) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	memcpy(x->dig, ms.digests, (size_t)ms.npieces * DS);
	x->len = ms.len;
	x->order = ms.order;
	x->npieces = ms.npieces;
	x->got = true;
	/* What voters must agree on: order, length and every piece. */
	vf_wb_init(&kb, 0);
	vf_wb_u64(&kb, x->order);
	vf_wb_u64(&kb, x->len);
	vf_wb_bytes(&kb, x->dig, (size_t)x->npieces * DS);
	if (kb.err || vf_sha256(vf_wb_data(&kb), vf_wb_pending(&kb), x->key))
		memset(x->key, 0, DS);	/* agrees with nobody */
	vf_wb_free(&kb);
	catchup_decide(d);
}

/*
 * Once every voter's chunk digests (verify) and manager state digests
 * are in: the pieces to fetch, after the chunks; then fetch.
 */
void catchup_decide(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_cvote_remote rem[VF_CVOTE_MAX_REMOTE];
	struct vf_cvote_out o;
	static const uint8_t none[DS];
	struct catchup_ms *w = NULL;
	struct repair *rp;
	unsigned int m, n;
	uint32_t i;

	if (!r->receiver || !r->chunks_decided || r->phase != PH_VERIFY)
		return;
	for (m = 0, n = 0; m < r->k; m++) {
		if (r->mem[m].left)
			continue;
		if (!r->ms[m].got)
			return;
		rem[n].node = r->mem[m].node;
		rem[n].answered = true;
		memcpy(rem[n].digest, r->ms[m].key, DS);
		n++;
	}
	vf_cvote(d->conf.f, none, rem, n, &o);
	if (o.result != VF_CV_REPAIR) {
		round_abort(d, VF_RCV_UNDECIDED, true,
			    "no f+1 managers agree on the manager state");
		return;
	}
	for (m = 0; m < r->k; m++)
		if (r->ms[m].got && !memcmp(r->ms[m].key, o.digest, DS))
			w = &r->ms[m];
	rp = realloc(r->rep, (r->nrep + w->npieces) * sizeof(*rp));
	if (!rp) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	r->rep = rp;
	for (i = 0; i < w->npieces; i++) {
		rp = &r->rep[r->nrep++];
		memset(rp, 0, sizeof(*rp));
		rp->chunk = VF_RCV_MSTATE_CHUNK + i;
		memcpy(rp->digest, w->dig + (size_t)i * DS, DS);
		memcpy(rp->sources, o.sources,
		       o.nsources * sizeof(o.sources[0]));
		rp->nsources = o.nsources;
	}
	r->capture_order = w->order;
	r->ms_len = w->len;
	vf_info("recovery: %zu chunk(s) and %u piece(s) of the manager state (order %" PRIu64 ") to fetch",
		r->nrep - w->npieces, w->npieces, w->order);
	round_phase(d, PH_FETCH);
	fetch_start(d);
}

/*
 * The byte length a fetched chunk or piece must have (0: any up to one
 * chunk, the volume's last chunk, whose digest checks its length).
 */
uint32_t catchup_chunk_len(const struct rcv *r, uint64_t chunk)
{
	if (chunk >= VF_RCV_MSTATE_CHUNK)
		return vf_rcv_mstate_piece_len(r->ms_len,
					       chunk - VF_RCV_MSTATE_CHUNK);
	if (chunk + 1 < r->geom.nchunks)
		return r->geom.chunk_size;
	return 0;
}

/* The manager state out of the fetched pieces (caller frees). */
static uint8_t *mstate_bytes(struct rcv *r)
{
	uint8_t *p = malloc(r->ms_len);
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < r->nrep; i++)
		if (r->rep[i].chunk >= VF_RCV_MSTATE_CHUNK)
			memcpy(p + (r->rep[i].chunk - VF_RCV_MSTATE_CHUNK) *
			       VF_RCV_MSTATE_PIECE, r->rep[i].data,
			       r->rep[i].len);
	return p;
}

/*
 * Everything fetched and checked: write B, make sure the manager state
 * loads, and say so (RCV_FETCHED); the hand-over is its delivery.
 */
void catchup_fetched(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_rcache *rc;
	struct vf_voter *v;
	uint64_t last = 0;
	uint8_t *p;
	int e;

	e = volume_receive(r);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "writing %s: %s",
			    r->vol[!r->cur].path, strerror(-e));
		return;
	}
	p = mstate_bytes(r);
	rc = vf_rcache_new(d->conf.max_clients);
	v = vf_voter_new(d->conf.f, d->conf.vote_window, NULL, NULL);
	e = p && rc && v ? vf_mstate_decode(p, r->ms_len, &last, rc, v) :
			   -ENOMEM;
	vf_rcache_free(rc);
	vf_voter_free(v);
	free(p);
	if (!e && last != r->capture_order)
		e = -VF_E(VF_ERR_MALFORMED);
	if (e) {
		round_abort(d, VF_RCV_FETCH, true,
			    "the voted manager state does not load: %s",
			    vf_strerror(e));
		return;
	}
	vf_info("recovery: %" PRIu64 " chunk(s) written into %s; the manager state (%" PRIu64 " bytes, order %" PRIu64 ") loads",
		r->st.copied, r->vol[!r->cur].path, r->ms_len,
		r->capture_order);
	round_fetched(d, 0);
}

/*----------------------------------------------------------------*/
/* The hand-over point */

/* This receiver's RCV_FETCHED is delivered: take over, replay, in sync. */
static void adopt(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_rd rd;
	uint32_t node, pid, len;
	const uint8_t *msg;
	size_t nmsg = 0;
	uint8_t *p;
	int e;

	if (!r->receiver || !r->fetched_sent || r->phase == PH_IDLE ||
	    r->round != r->cu.round) {
		p = NULL;
		e = -ESTALE;	/* its round ended here: cannot happen */
	} else {
		p = mstate_bytes(r);
		e = p ? delivery_adopt(d, p, r->ms_len) : -ENOMEM;
	}
	free(p);
	if (e) {
		/*
		 * Every manager holds this one in sync from here: it cannot
		 * go on out of sync unnoticed. A restart makes it fresh.
		 */
		vf_err("recovery: cannot take over the manager state it checked: %s; exiting",
		       vf_strerror(e));
		exit(EXIT_FAILURE);
	}
	mb_set_synced(&d->mb, d->nodeid);
	r->adopted = true;
	r->keeping = false;
	r->logging = true;
	r->sh_sent = r->capture_order;
	shadow_restore(d);
	vf_rd_init(&rd, vf_wb_data(&r->keep), vf_wb_pending(&r->keep));
	while (rd.off < rd.n && r->phase != PH_IDLE) {
		node = vf_rd_u32(&rd);
		pid = vf_rd_u32(&rd);
		len = vf_rd_u32(&rd);
		msg = vf_rd_bytes(&rd, len);
		if (!msg)
			break;
		deliver_kept(d, node, pid, msg, len);
		nmsg++;
	}
	vf_wb_free(&r->keep);
	r->st.caught_up++;
	vf_info("recovery: caught up: in sync at order %" PRIu64 " (captured at %" PRIu64 ", %zu ordered message(s) replayed)",
		d->last_order, r->capture_order, nmsg);
	ctl_event(d, "rcv-caught-up round=%016" PRIx64 " order=%" PRIu64 " capture_order=%" PRIu64,
		  r->round, d->last_order, r->capture_order);
	delivery_membership(d, 0);
}

static bool is_voter(const struct catchup_sync *cu, uint32_t node)
{
	unsigned int i;

	for (i = 0; i < cu->nvoters; i++)
		if (cu->voters[i] == node)
			return true;
	return false;
}

/*
 * RCV_FETCHED or RCV_ABORT. The sync rule, on ordered facts only: a
 * receiver of the last RECOVER whose RCV_FETCHED (0) of that round is
 * delivered before any voter's RCV_ABORT of it is in sync from here, on
 * every manager. Returns true if the message was a receiver's (handled).
 */
bool catchup_deliver(struct vmfitd *d, uint32_t node, uint16_t type,
		     struct vf_rd *rd, uint32_t count)
{
	struct rcv *r = d->rcv;
	struct catchup_sync *cu = &r->cu;
	struct vf_rcv_fetched fm;
	struct vf_rcv_abort am;
	struct vf_rd copy = *rd;
	int i = recv_idx(cu->recv, cu->nrecv, node), e;

	if (type == VF_G_RCV_ABORT && is_voter(cu, node) &&
	    !vf_rcv_read_abort(&copy, count, cu->round, &am)) {
		/* Nobody becomes in sync through this round any more. */
		cu->voter_aborted = true;
		if (r->receiver && !r->adopted && r->round == cu->round)
			round_abort(d, am.reason, false, "node %u: %.*s", node,
				    am.msg_len, am.msg);
		return false;
	}
	if (i < 0)
		return false;
	if (type == VF_G_RCV_FETCHED) {
		e = vf_rcv_read_fetched(rd, count, cu->round, &fm);
		if (!e && !fm.status && !cu->recv[i].done &&
		    !cu->voter_aborted) {
			if (node == d->nodeid)
				adopt(d);
			else
				vf_info("recovery: node %u caught up: in sync from here",
					node);
			mb_set_synced(&d->mb, node);
		}
	} else {
		e = vf_rcv_read_abort(rd, count, cu->round, &am);
		if (!e && node != d->nodeid)
			vf_warn("recovery: node %u did not catch up (%s): %.*s",
				node, vf_rcv_reason_name(am.reason),
				am.msg_len, am.msg);
	}
	if (e) {
		r->st.bad_msgs++;
		vf_err("recovery: message type %u from node %u refused: %s",
		       type, node, vf_strerror(e));
		return true;
	}
	cu->recv[i].done = true;
	i = recv_idx(r->recv, r->nrecv, node);
	if (i >= 0 && r->phase != PH_IDLE && r->round == cu->round) {
		r->recv[i].done = true;
		round_progress(d);
	}
	return true;
}

/* A receiver left: nobody waits for it. */
bool catchup_left(struct vmfitd *d, uint32_t node)
{
	struct rcv *r = d->rcv;
	int i = recv_idx(r->recv, r->nrecv, node);

	if (i < 0)
		return false;
	r->recv[i].done = true;
	round_progress(d);
	return true;
}

/* Every receiver is done (in sync, aborted, or gone). */
bool catchup_all_done(const struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < r->nrecv; i++)
		if (!r->recv[i].done)
			return false;
	return true;
}

void catchup_clear(struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < MEMBERS_MAX; i++) {
		free(r->ms[i].dig);
		memset(&r->ms[i], 0, sizeof(r->ms[i]));
	}
	r->chunks_decided = false;
	r->receiver = false;
	r->adopted = false;
	r->keeping = false;
	vf_wb_free(&r->keep);
	vf_wb_reset(&r->mstate);
	vf_dstore_free(&r->bstore);
	r->have_bstore = false;
}
