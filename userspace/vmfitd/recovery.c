// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery.c - proactive recovery with verified state transfer: the round
 * state machine of Documentation/protocol.rst "Recovery" (phases 1-6, the
 * abort rules, invariants I1-I5), its group messages and the main loop's
 * rcv_* entry points. The other parts are listed in recovery.h.
 *
 * One round at a time. Its phases on this manager:
 *
 *   idle -> starting   RECOVER delivered: shadow started on volume B
 *        -> ready      shadow said HELLO: RCV_READY multicast
 *        -> capture    k-th RCV_READY delivered: ordered checkpoint of the
 *                      senior pushed; from here every EXEC is logged
 *        -> hash       checkpoint done: A snapshotted; the volume worker
 *                      hashes its view (changed set, or all of it)
 *        -> verify     digests exchanged level by level, chunks voted
 *        -> fetch      repairs fetched from peers (skipped if none)
 *        -> copy       RCV_FETCHED sent; the worker writes and clears B
 *        -> restore    RESTORE and the logged EXECs sent to the shadow
 *        -> handover   the shadow caught up: it alone gets new EXECs and
 *                      votes on them; the senior finishes what it had
 *        -> finish     senior stopped, shadow is the replica; waiting for
 *                      every RCV_FETCHED, then the worker drops and
 *                      repairs A and saves the digest store
 *        -> idle
 *
 * A manager that is not in sync takes part as a receiver
 * (recovery_catchup.c): starting (its shadow on B), verify from the
 * capture on (it keeps the ordered stream and follows the voters'
 * digests), fetch, then at the delivery of its RCV_FETCHED it takes over
 * the manager state and goes through restore, handover, finish like the
 * others.
 *
 * Until "handover" any fault aborts (round_abort()): the senior never
 * stopped serving, so nothing acknowledged is lost. Whatever grows with
 * the state runs in the volume worker (recovery_volume.c), so the loop
 * keeps serving clients during a round (protocol.rst "Recovery and the
 * event loop").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmsg.h"
#include "recovery.h"
#include "vf_json.h"
#include "vf_log.h"

#define SENIOR_DRAIN_MS		10000	/* handover: senior answers the rest */

_Static_assert(RECOVERY_POLL_FDS ==
	       SHADOW_POLL_FDS + VOLUME_POLL_FDS + PEER_POLL_FDS,
	       "vmfitd.h's RECOVERY_POLL_FDS is the parts' slots");

static const char *const phase_names[] = {
	[PH_IDLE] = "idle",
	[PH_STARTING] = "starting",
	[PH_READY] = "ready",
	[PH_CAPTURE] = "capture",
	[PH_HASH] = "hash",
	[PH_VERIFY] = "verify",
	[PH_FETCH] = "fetch",
	[PH_COPY] = "copy",
	[PH_RESTORE] = "restore",
	[PH_HANDOVER] = "handover",
	[PH_FINISH] = "finish",
};

/*----------------------------------------------------------------*/
/* Helpers */

/*
 * The longest time one call from the event loop spent in the controller
 * during a round (@ph: the phase when it began; @entry: which call), the
 * capture's checkpoint and snapshot aside (capture_ms): what recovery
 * costs the other work of the loop (protocol.rst "Recovery and the event
 * loop").
 */
static void loop_time(struct rcv *r, uint64_t t0, enum phase ph,
		      const char *entry)
{
	uint64_t t = now_ms() - t0;

	if ((ph != PH_IDLE || r->phase != PH_IDLE) && t > r->st.loop_max_ms) {
		r->st.loop_max_ms = t;
		snprintf(r->st.loop_max_at, sizeof(r->st.loop_max_at),
			 "%s/%s", entry, phase_names[ph]);
	}
}

/*
 * Who counts: the configured managers of the primary view that are in
 * sync (membership.h; vmfitd(8) "Membership and quorum"). A manager that
 * is not in sync neither takes part nor is waited for.
 */
static unsigned int round_members(const struct vmfitd *d, uint32_t *ids)
{
	unsigned int i, n = 0;

	if (d->local) {
		ids[0] = d->nodeid;
		return 1;
	}
	for (i = 0; i < d->mb.n && n < MEMBERS_MAX; i++)
		if (membership_is_synced(&d->mb, d->mb.m[i].node))
			ids[n++] = d->mb.m[i].node;
	return n;
}

int round_member(const struct rcv *r, uint32_t node)
{
	unsigned int i;

	for (i = 0; i < r->k; i++)
		if (r->mem[i].node == node)
			return i;
	return -1;
}

/* Send the message built in r->msg with @count entries. */
void round_send(struct vmfitd *d, uint32_t count)
{
	struct rcv *r = d->rcv;

	if (vf_gmsg_end(&r->msg, count)) {
		vf_err("recovery: message too big, not sent");
		vf_wb_reset(&r->msg);
		return;
	}
	r->st.bytes_msgs += vf_wb_pending(&r->msg);
	if (group_send(d, &r->msg))
		vf_warn("recovery: not connected to the group, message lost");
}

/*
 * Every phase change of a round is an event on the control socket
 * (vmfitd(8) "Control socket"), with the counters of the round so far.
 */
void round_phase(struct vmfitd *d, enum phase ph)
{
	struct rcv *r = d->rcv;

	if (r->phase == ph)
		return;
	r->phase = ph;
	ctl_event(d, "rcv-phase round=%016" PRIx64 " phase=%s full=%d k=%u receivers=%u receiver=%d hashed=%" PRIu64 " verified=%" PRIu64 " repaired=%" PRIu64 " copied=%" PRIu64 " bytes_copied=%" PRIu64 " bytes_fetched=%" PRIu64,
		  r->round, phase_names[ph], r->full, r->k, r->nrecv,
		  r->receiver, r->st.hashed, r->st.verified, r->st.repaired,
		  r->st.copied, r->st.bytes_copied, r->st.bytes_fetched);
}

/*----------------------------------------------------------------*/
/* The end of a round */

/* Everything a round holds, whatever its phase; back to idle. */
static void round_clear(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	size_t i;

	volume_cancel(r);
	shadow_release(d);
	fetch_close(r);
	verify_clear(r);
	for (i = 0; i < r->nrep; i++)
		free(r->rep[i].data);
	free(r->rep);
	r->rep = NULL;
	r->nrep = 0;
	r->rep_next = 0;
	vf_dstore_free(&r->work);
	vf_ranges_free(&r->changed);
	vf_ranges_init(&r->changed);
	r->frozen = NULL;
	r->phase = PH_IDLE;
	r->logging = false;
	r->switched = false;
	r->restore_sent = false;
	r->restored = false;
	r->sh_hello = false;
	r->fetched_sent = false;
	r->ckpt_id = 0;
	r->local_id = 0;
	r->local_done = false;
	catchup_clear(r);
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == ',' || *s == '\\' ||
		    (unsigned char)*s < 0x20)
			*s = ' ';
}

/*
 * Abort the round here (protocol.rst "Timeouts and abort rules"): the
 * shadow is killed, A's snapshot merged, the log dropped, the digest store
 * and B left alone (I2). @tell: multicast RCV_ABORT so that the others
 * abort too.
 */
void round_abort(struct vmfitd *d, uint32_t reason, bool tell,
		 const char *fmt, ...)
{
	struct rcv *r = d->rcv;
	char msg[128];
	va_list ap;

	if (r->phase == PH_IDLE || r->switched)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf_warn("recovery: round %016" PRIx64 " aborted (%s): %s; the senior keeps serving",
		r->round, vf_rcv_reason_name(reason), msg);
	volume_merge(r);
	r->st.aborted++;
	r->st.last_round = r->round;
	strcpy(r->st.last_result, "aborted");
	snprintf(r->st.last_abort, sizeof(r->st.last_abort), "%s: %s",
		 vf_rcv_reason_name(reason), msg);
	sanitize(r->st.last_abort);
	ctl_event(d, "rcv-aborted round=%016" PRIx64 " phase=%s reason=%s text=%s",
		  r->round, phase_names[r->phase], vf_rcv_reason_name(reason),
		  r->st.last_abort + strlen(vf_rcv_reason_name(reason)) + 2);
	round_clear(d);
	/* Last: in --unreplicated mode the send delivers it at once, to a
	 * manager that is idle again and ignores it. */
	if (tell) {
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->st.last_round, reason, msg);
		round_send(d, 1);
	}
}

/*----------------------------------------------------------------*/
/* Start: RECOVER, the shadow, RCV_READY */

int rcv_trigger(struct vmfitd *d, bool full, uint64_t *round)
{
	struct rcv *r = d->rcv;

	if (!r)
		return -ENOTSUP;
	if (!vmfitd_available(d))
		return -ENOTCONN;
	if (r->phase != PH_IDLE)
		return -EBUSY;
	*round = random_id();
	vf_gmsg_begin(&r->msg, VF_G_RECOVER, d->last_order);
	vf_rcv_put_recover(&r->msg, *round, full ? VF_RCV_F_FULL : 0);
	round_send(d, 1);
	return 0;
}

/*
 * The senior's local checkpoint, while the shadows start: the ordered one
 * at the capture then writes only what changed since (the capture is the
 * pause every client sees). Not ordered: each manager takes it at its own
 * position, which is harmless because a completed checkpoint leaves the
 * same bytes whatever came before (kv-service.rst "Checkpoint history").
 * Chained by rank (the members' order, the same everywhere): rank 0 at
 * RECOVER, rank i when the i-th RCV_READY is delivered. A manager sends
 * RCV_READY only after its local checkpoint, so the READYs come in rank
 * order and at most one senior is checkpointing at a time: the others
 * still answer (2 of 3 are f + 1).
 */
static void local_checkpoint(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (!d->conf.recovery_local_ckpt)
		return;	/* off: local_done from the start, no chain */
	r->local_id = random_id();
	r->local_t0 = now_ms();
	r->local_order = d->last_order;
	vf_info("recovery: local checkpoint of the senior at order %" PRIu64
		" (rank %u)", r->local_order, r->self);
	/* The checkpoint machinery holds the requests after it, in order. */
	ckpt_push_local(d, r->local_id);
}

static void start_round(struct vmfitd *d, uint32_t node, uint64_t round,
			bool full)
{
	struct rcv *r = d->rcv;
	uint32_t ids[MEMBERS_MAX];
	unsigned int i;
	int e;

	round_clear(d);
	memset(r->mem, 0, sizeof(r->mem));
	r->round = round;
	r->start_ms = now_ms();
	r->st.rounds++;
	/* Per-round counters; rounds, done and aborted add up. */
	r->st.hashed = r->st.verified = r->st.repaired = r->st.copied = 0;
	r->st.bytes_hashed = r->st.bytes_copied = 0;
	r->st.bytes_fetched = r->st.bytes_served = r->st.bytes_msgs = 0;
	r->st.hash_ms = r->st.copy_ms = r->st.commit_ms = 0;
	r->st.loop_max_ms = 0;
	r->st.loop_max_at[0] = '\0';
	memset(&r->geom, 0, sizeof(r->geom));
	r->k = round_members(d, ids);
	for (i = 0; i < r->k; i++)
		r->mem[i].node = ids[i];
	r->full = full || !d->rcv->have_store ||
		  (d->conf.recovery_full_every &&
		   r->since_full + 1 >= d->conf.recovery_full_every);
	r->nready = 0;
	vf_info("recovery: round %016" PRIx64 " (from node %u, %s, k = %u)",
		round, node, r->full ? "full" : "delta", r->k);
	catchup_round(d);
	round_phase(d, PH_STARTING);
	if (r->receiver && r->k >= d->conf.f + 1) {
		catchup_start(d);
		e = shadow_start(d);
		if (e)
			round_abort(d, VF_RCV_SHADOW_START, true,
				    "cannot start the shadow: %s",
				    strerror(-e));
		return;
	}
	if (round_member(r, d->nodeid) < 0 || r->k < d->conf.f + 1) {
		/* A receiver says so: the voters need not wait for it. */
		round_abort(d, VF_RCV_MEMBERS, r->receiver,
			    "%u managers take part, f+1 = %u needed", r->k,
			    d->conf.f + 1);
		return;
	}
	r->self = round_member(r, d->nodeid);
	r->local_done = !d->conf.recovery_local_ckpt;
	e = shadow_start(d);
	if (e) {
		round_abort(d, VF_RCV_SHADOW_START, true,
			    "cannot start the shadow: %s", strerror(-e));
		return;
	}
	if (!r->self)
		local_checkpoint(d);
}

/*
 * Test fault "bad-msgs": before each of its real messages of @type, this
 * manager multicasts malformed ones that every receiver must refuse
 * (logged, counted in rcv_bad_msgs) without the round suffering.
 */
void round_send_bad(struct vmfitd *d, uint16_t type)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready rm = { .round = r->round, .addr = { 127, 0, 0, 1 },
				   .port = 9 };
	struct vf_rcv_fetched fm = { .round = r->round };
	struct vf_rcv_geom g = r->geom;
	struct vf_rcv_group grp = { 0, 1, 0, NULL };
	uint8_t dig[DS] = { 0 };
	char big[VF_RCV_MAX_MSG + 2];

	if (!r->bad_msgs)
		return;
	grp.digests = dig;
	switch (type) {
	case VF_G_RCV_READY:
		/* truncated */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		vf_wb_truncate(&r->msg, vf_wb_pending(&r->msg) - 3);
		round_send(d, 1);
		/* another round */
		rm.round ^= 1;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		round_send(d, 1);
		/* wrong entry version */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		vf_wb_data(&r->msg)[VF_GMSG_HDR_LEN] = 9;
		round_send(d, 1);
		/* an abort of another round, an abort with an oversized text:
		 * neither may abort this round */
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->round ^ 1, VF_RCV_OPERATOR,
				 "bad-msgs: another round");
		round_send(d, 1);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->round, VF_RCV_OPERATOR, "x");
		/* msg_len 257 */
		vf_wb_data(&r->msg)[VF_GMSG_HDR_LEN + 20] = 0x01;
		vf_wb_data(&r->msg)[VF_GMSG_HDR_LEN + 21] = 0x01;
		vf_wb_bytes(&r->msg, big, VF_RCV_MAX_MSG);
		round_send(d, 1);
		break;
	case VF_G_RCV_DIGESTS:
		/* digest of the wrong size */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round, &g);
		vf_wb_data(&r->msg)[VF_GMSG_HDR_LEN + 28] = 20;
		vf_rcv_put_group(&r->msg, &grp);
		round_send(d, 1);
		/* a node that does not exist */
		grp.first = g.nchunks + 5;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round, &g);
		vf_rcv_put_group(&r->msg, &grp);
		round_send(d, 1);
		/* another round */
		grp.first = 0;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round ^ 1, &g);
		vf_rcv_put_group(&r->msg, &grp);
		round_send(d, 1);
		break;
	case VF_G_RCV_FETCHED:
		/* nonzero reserved field */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_fetched(&r->msg, &fm);
		vf_wb_data(&r->msg)[vf_wb_pending(&r->msg) - 1] = 1;
		round_send(d, 1);
		break;
	}
}

void round_ready(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready m = { .round = r->round };
	const struct sockaddr_in *sa = &d->conf.peer_listen;

	if (r->receiver && !r->recv_digests)
		return;	/* it fetches, it serves nothing */
	if (!r->receiver && (!r->sh_hello || !r->local_done))
		return;	/* the other one calls again */
	if (d->conf.has_peer_listen) {
		/* An unspecified address cannot be fetched from: use the
		 * client endpoint's. */
		if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
			memcpy(m.addr, &d->conf.listen.sin_addr, 4);
		else
			memcpy(m.addr, &sa->sin_addr, 4);
		m.port = ntohs(sa->sin_port);
	} else {
		m.addr[0] = 127;
		m.addr[3] = 1;
		m.port = 1;	/* unreplicated: nobody fetches */
	}
	if (!r->receiver)
		round_phase(d, PH_READY);
	round_send_bad(d, VF_G_RCV_READY);
	vf_gmsg_begin(&r->msg, VF_G_RCV_READY, d->last_order);
	vf_rcv_put_ready(&r->msg, &m);
	round_send(d, 1);
}

/*----------------------------------------------------------------*/
/* Capture */

static void capture(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	round_phase(d, PH_CAPTURE);
	r->capture_order = d->last_order;
	r->sh_sent = r->capture_order;
	r->logging = true;
	r->ckpt_id = random_id();
	r->capture_start_ms = now_ms();
	vf_info("recovery: all %u ready; capture at order %" PRIu64, r->k,
		r->capture_order);
	catchup_capture_state(d);
	/* The ordered checkpoint machinery holds the later requests until
	 * the senior has answered the earlier ones, sends it CHECKPOINT and
	 * lets the later ones follow (the senior answers them while it
	 * writes), and calls rcv_checkpoint_done() at CHECKPOINT_DONE. */
	ckpt_push(d, d->nodeid, r->ckpt_id);
}

void rcv_checkpoint_done(struct vmfitd *d, uint64_t id, uint64_t order,
			 uint32_t status)
{
	struct rcv *r = d->rcv;

	if (r && r->phase == PH_STARTING && id && id == r->local_id) {
		if (status) {
			round_abort(d, VF_RCV_CHECKPOINT, true,
				    "the senior's local checkpoint failed: %s",
				    strerror(status));
			return;
		}
		r->local_done = true;
		r->st.local_ms = now_ms() - r->local_t0;
		vf_info("recovery: local checkpoint at order %" PRIu64
			" done in %" PRIu64 " ms", order, r->st.local_ms);
		round_ready(d);
		return;
	}
	if (!r || r->phase != PH_CAPTURE || id != r->ckpt_id)
		return;
	if (status) {
		round_abort(d, VF_RCV_CHECKPOINT, true,
			    "the senior's checkpoint failed: %s",
			    strerror(status));
		return;
	}
	/* The hash runs in the volume worker; verify_start() follows. */
	volume_capture(d, order);
}

/*----------------------------------------------------------------*/
/* Fetched, hand-over, finish */

void round_fetched(struct vmfitd *d, uint32_t status)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_fetched f = { .round = r->round, .status = status };

	r->fetched_sent = true;
	round_send_bad(d, VF_G_RCV_FETCHED);
	vf_gmsg_begin(&r->msg, VF_G_RCV_FETCHED, d->last_order);
	vf_rcv_put_fetched(&r->msg, &f);
	round_send(d, 1);
}

/* The shadow has caught up: from now on it alone executes (I4). */
static void switch_over(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	r->switched = true;
	r->h = r->sh_done;
	r->switch_ms = now_ms();
	round_phase(d, PH_HANDOVER);
	r->st.last_ms = r->switch_ms - r->start_ms;
	vf_info("recovery: hand-over at order %" PRIu64 " (%" PRIu64 " ms after the trigger); the senior answers up to it",
		r->h, r->st.last_ms);
}

/* Every manager has fetched: A and the store are committed (worker). */
static void finish_round(struct vmfitd *d)
{
	/*
	 * A receiver has no frozen A; its store is the voted digests of the
	 * state it took over (r->work), saved by the same commit job.
	 */
	volume_commit(d);
}

void round_committed(struct vmfitd *d, int err, int store_err,
		     struct vf_dstore *store)
{
	struct rcv *r = d->rcv;

	vf_dstore_free(&r->store);
	r->have_store = false;
	if (!err) {
		r->store = *store;
		memset(store, 0, sizeof(*store));
		r->have_store = true;
		/* A receiver's B is its empty replica's volume (I2). */
		r->b_stale = r->receiver;
		if (store_err)
			vf_warn("recovery: digest store %s: %s",
				r->store_path, strerror(-store_err));
	}
	r->since_full = r->full ? 0 : r->since_full + 1;
	r->st.done++;
	r->st.last_round = r->round;
	strcpy(r->st.last_result, "done");
	vf_info("recovery: round %016" PRIx64 " done: %" PRIu64 " hashed, %" PRIu64 " verified, %" PRIu64 " repaired, %" PRIu64 " copied",
		r->round, r->st.hashed, r->st.verified, r->st.repaired,
		r->st.copied);
	ctl_event(d, "rcv-done round=%016" PRIx64 " ms=%" PRIu64 " full=%d receiver=%d hashed=%" PRIu64 " verified=%" PRIu64 " repaired=%" PRIu64 " copied=%" PRIu64 " bytes_copied=%" PRIu64 " bytes_fetched=%" PRIu64 " bytes_served=%" PRIu64,
		  r->round, r->st.last_ms, r->full, r->receiver, r->st.hashed,
		  r->st.verified, r->st.repaired, r->st.copied,
		  r->st.bytes_copied, r->st.bytes_fetched,
		  r->st.bytes_served);
	r->switched = false;
	round_clear(d);
}

void round_progress(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	unsigned int m;

	if (r->phase == PH_RESTORE && r->restored && r->sh_done == r->sh_sent)
		switch_over(d);
	/* A receiver's senior (started empty) never got an EXEC. */
	if (r->phase == PH_HANDOVER &&
	    (r->receiver || d->exec_done >= r->h || d->rep_failed ||
	     !d->rep.running))
		shadow_swap(d);
	/* The commit drops A's snapshot: A must be out of the senior's
	 * hands (senior_reap). */
	if (r->phase == PH_FINISH && !r->job && !r->senior.running) {
		for (m = 0; m < r->k; m++)
			if (!r->mem[m].fetched)
				return;
		if (!catchup_all_done(r))
			return;
		finish_round(d);
	}
}

/*----------------------------------------------------------------*/
/* Delivery of the round's group messages */

/* The round of a recovery entry (its prologue), 0 if too short. */
static uint64_t msg_round(const struct vf_rd *rd)
{
	struct vf_rd peek = *rd;

	if (!vf_rd_bytes(&peek, 8))
		return 0;
	return vf_rd_u64(&peek);
}

/*
 * RECOVER @round while this manager's previous round still runs here:
 * the others may have ended theirs (a hand-over ends locally) and start
 * @round counting on this manager, which will not take part. If it is
 * one of them (in sync), it says so with RCV_ABORT (busy) for @round,
 * so that they abort at once instead of at their timeout, and ignores
 * the rest of @round.
 */
static void round_busy(struct vmfitd *d, uint32_t node, uint64_t round)
{
	struct rcv *r = d->rcv;

	vf_info("recovery: RECOVER %016" PRIx64 " from node %u ignored: round %016" PRIx64 " is running",
		round, node, r->round);
	if (d->local || !membership_is_synced(&d->mb, d->nodeid))
		return;
	r->busy_round = round;
	vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
	vf_rcv_put_abort(&r->msg, round, VF_RCV_BUSY,
			 "still finishing the previous round");
	round_send(d, 1);
}

static void deliver_msg(struct vmfitd *d, uint32_t node,
			const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready rm;
	struct vf_rcv_fetched fm;
	struct vf_rcv_abort am;
	struct vf_rcv_geom geom;
	uint64_t round;
	uint16_t flags;
	int m, e = -VF_E(VF_ERR_TYPE);

	if (!r) {
		vf_dbg("recovery message from node %u ignored: recovery is not configured here",
		       node);
		return;
	}
	if (h->type == VF_G_RECOVER) {
		e = vf_rcv_read_recover(rd, h->count, &round, &flags);
		if (e) {
			r->st.bad_msgs++;
			vf_err("recovery: RECOVER from node %u refused: %s",
			       node, vf_strerror(e));
			return;
		}
		if (!d->local && !membership_is_synced(&d->mb, node)) {
			r->st.bad_msgs++;
			vf_err("recovery: RECOVER from node %u refused: it is not in sync",
			       node);
			return;
		}
		catchup_recover(d, round);
		if (r->receiver && !r->adopted && r->phase != PH_IDLE)
			round_abort(d, VF_RCV_OPERATOR, false,
				    "a new round catches this manager up");
		if (r->phase != PH_IDLE) {
			round_busy(d, node, round);
			return;
		}
		start_round(d, node, round, flags & VF_RCV_F_FULL);
		return;
	}
	if (r->busy_round && msg_round(rd) == r->busy_round) {
		vf_dbg("recovery: message type %u from node %u of round %016" PRIx64 ", refused here (busy)",
		       h->type, node, r->busy_round);
		return;
	}
	if ((h->type == VF_G_RCV_FETCHED || h->type == VF_G_RCV_ABORT) &&
	    catchup_deliver(d, node, h->type, rd, h->count))
		return;
	if (catchup_refused(d, node, h->type))
		return;
	m = round_member(r, node);
	if (r->phase == PH_IDLE || m < 0) {
		vf_dbg("recovery: message type %u from node %u outside a round",
		       h->type, node);
		return;
	}
	switch (h->type) {
	case VF_G_RCV_READY:
		e = vf_rcv_read_ready(rd, h->count, r->round, &rm);
		if (e)
			break;
		if (r->mem[m].ready)
			return;
		r->mem[m].ready = true;
		memcpy(r->mem[m].addr, rm.addr, 4);
		r->mem[m].port = rm.port;
		if (++r->nready == r->self && !r->receiver && !r->local_id) {
			local_checkpoint(d);
			if (r->phase == PH_IDLE)
				return;	/* it failed at once: aborted */
		}
		if (r->nready == r->k) {
			if (r->receiver)
				catchup_capture(d);
			else
				capture(d);
		}
		return;
	case VF_G_RCV_MSTATE:
		catchup_mstate(d, m, h, rd);
		return;
	case VF_G_RCV_DIGESTS:
		if (r->receiver && r->phase == PH_VERIFY && !r->ng) {
			/* The first one gives the geometry. */
			struct vf_rd peek = *rd;

			e = vf_rcv_read_digests(&peek, h->count, r->round,
						&geom);
			if (e)
				break;
			if (verify_follow(r, &geom)) {
				round_abort(d, VF_RCV_VOLUME, true,
					    "out of memory");
				return;
			}
		}
		if (r->phase == PH_CAPTURE || r->phase == PH_HASH) {
			/* Its capture finished before ours: keep it. */
			verify_keep_early(d, node, rd);
			return;
		}
		if (r->phase != PH_VERIFY) {
			e = vf_rcv_read_digests(rd, h->count, r->round, &geom);
			if (e)
				break;
			vf_err("recovery: RCV_DIGESTS from node %u in phase %s",
			       node, phase_names[r->phase]);
			r->st.bad_msgs++;
			return;
		}
		verify_digests(d, m, h, rd);
		return;
	case VF_G_RCV_FETCHED:
		e = vf_rcv_read_fetched(rd, h->count, r->round, &fm);
		if (e)
			break;
		r->mem[m].fetched = true;
		round_progress(d);
		return;
	case VF_G_RCV_ABORT:
		e = vf_rcv_read_abort(rd, h->count, r->round, &am);
		if (e)
			break;
		if (r->fetched_sent) {
			vf_warn("recovery: node %u aborted the round (%s), this host has all it needs and goes on",
				node, vf_rcv_reason_name(am.reason));
			r->mem[m].fetched = true;
			round_progress(d);
			return;
		}
		round_abort(d, am.reason, false, "node %u: %.*s", node,
			    am.msg_len, am.msg);
		return;
	}
	r->st.bad_msgs++;
	vf_err("recovery: message type %u from node %u refused: %s", h->type,
	       node, vf_strerror(e));
}

void rcv_deliver(struct vmfitd *d, uint32_t node, const struct vf_gmsg_hdr *h,
		 struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	uint64_t t0 = now_ms();
	enum phase ph = r ? r->phase : PH_IDLE;

	deliver_msg(d, node, h, rd);
	if (r)
		loop_time(r, t0, ph, "deliver");
}

void rcv_left(struct vmfitd *d, uint32_t node)
{
	struct rcv *r = d->rcv;
	int m;

	if (!r || r->phase == PH_IDLE || catchup_left(d, node))
		return;
	m = round_member(r, node);
	if (m < 0)
		return;
	r->mem[m].left = true;
	r->mem[m].fetched = true;
	if (!r->fetched_sent) {
		/*
		 * Told: a manager that has sent its RCV_FETCHED already goes
		 * on with the round and would otherwise wait for ours until
		 * its timeout.
		 */
		round_abort(d, VF_RCV_MEMBER_LEFT, true,
			    "node %u left the group", node);
		return;
	}
	round_progress(d);
}

/*----------------------------------------------------------------*/
/* The main loop's interface */

/*
 * Test faults: a manager that misbehaves on purpose, named in the
 * environment variable VMFITD_TEST_FAULT (comma-separated), honoured only
 * with test_faults = yes in the configuration: an environment variable
 * alone is too easy to inherit or leave behind (a drop-in, a shell), a
 * line in the configuration is what an operator reviews. Unknown names
 * are refused, so that a test cannot pass without its fault.
 */
static const struct {
	const char *name;
	size_t off;
	const char *what;
} faults[] = {
	{ "lie-digests", offsetof(struct rcv, lie),
	  "this manager sends wrong digests" },
	{ "bad-msgs", offsetof(struct rcv, bad_msgs),
	  "this manager also sends malformed recovery messages" },
	{ "cut-chunks", offsetof(struct rcv, cut),
	  "chunks served to peers are cut off halfway" },
	{ "stall-chunks", offsetof(struct rcv, stall),
	  "chunks served to peers stop halfway, the connection held open" },
	{ "receiver-digests", offsetof(struct rcv, recv_digests),
	  "when catching up, this manager sends RCV_READY and digests anyway" },
	{ "slow-hash", offsetof(struct rcv, slow_hash),
	  "the hash of each round waits 4 s first" },
};

static int faults_init(struct vmfitd *d)
{
	const char *env = getenv("VMFITD_TEST_FAULT"), *p, *e;
	size_t i, len;

	if (!env || !*env)
		return 0;
	if (!d->conf.test_faults) {
		vf_warn("recovery: VMFITD_TEST_FAULT ignored: test_faults is not set in the configuration");
		return 0;
	}
	for (p = env; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ',');
		len = e - p;
		for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
			if (strlen(faults[i].name) == len &&
			    !strncmp(p, faults[i].name, len))
				break;
		if (i == sizeof(faults) / sizeof(faults[0])) {
			vf_err("recovery: VMFITD_TEST_FAULT: unknown fault '%.*s'",
			       (int)len, p);
			return -EINVAL;
		}
		*(bool *)((char *)d->rcv + faults[i].off) = true;
		vf_warn("recovery: TEST FAULT %s: %s", faults[i].name,
			faults[i].what);
	}
	return 0;
}

int rcv_init(struct vmfitd *d)
{
	struct rcv *r;
	unsigned int i;
	int e;

	if (!d->conf.state_volume_b[0])
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	d->rcv = r;
	r->pl_fd = -1;
	r->pc_fd = -1;
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	r->sh_gone.fd = -1;
	r->sh_gone.exit_fd = -1;
	r->st.shadow_hello_ms = -1;
	r->st.shadow_created_ms = -1;
	for (i = 0; i < PEER_CONN_MAX; i++)
		r->peers[i].fd = -1;
	vf_wb_init(&r->msg, VF_GMSG_MAX);
	vf_wb_init(&r->pc_out, 0);
	vf_wb_init(&r->mstate, 0);
	vf_ranges_init(&r->changed);
	r->sin = malloc(REP_IN_CAP);
	r->pc_in = malloc(PEER_CLI_IN);
	if (!r->sin || !r->pc_in)
		return -ENOMEM;
	e = volume_open(d);
	if (e)
		return e;
	e = peer_listen(d);
	if (e) {
		vf_err("recovery: peer_listen: %s", strerror(-e));
		return e;
	}
	e = faults_init(d);
	if (e)
		return e;
	if (d->conf.recovery_period_s)
		r->next_period_ms = now_ms() +
				    d->conf.recovery_period_s * 1000ull;
	strcpy(r->st.last_result, "none");
	vf_info("recovery: volumes %s (A) and %s (B), %s, peer port %u, period %u s",
		d->conf.state_volume, d->conf.state_volume_b,
		d->conf.volume_kind,
		d->conf.has_peer_listen ? ntohs(d->conf.peer_listen.sin_port) :
					  0, d->conf.recovery_period_s);
	return 0;
}

void rcv_fini(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (!r)
		return;
	if (r->phase != PH_IDLE && !r->switched)
		round_abort(d, VF_RCV_OPERATOR, false, "manager shutting down");
	round_clear(d);
	shadow_fini(d);
	peer_close_all(r);
	volume_close(r);
	vf_dstore_free(&r->store);
	vf_wb_free(&r->msg);
	vf_wb_free(&r->pc_out);
	vf_wb_free(&r->mstate);
	free(r->sin);
	free(r->pc_in);
	free(r);
	d->rcv = NULL;
}

/* Poll slots: the shadow's, the volume worker's, the peers'. */
unsigned int rcv_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	unsigned int i;

	for (i = 0; i < RECOVERY_POLL_FDS; i++) {
		pfd[i].fd = -1;
		pfd[i].events = 0;
		pfd[i].revents = 0;
	}
	if (!r)
		return RECOVERY_POLL_FDS;
	shadow_poll_fds(r, pfd);
	volume_poll_fds(r, pfd + SHADOW_POLL_FDS);
	peer_poll_fds(r, pfd + SHADOW_POLL_FDS + VOLUME_POLL_FDS);
	return RECOVERY_POLL_FDS;
}

void rcv_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	uint64_t t0 = now_ms();
	enum phase ph;

	if (!r)
		return;
	ph = r->phase;
	shadow_events(d, pfd);
	volume_events(d, pfd + SHADOW_POLL_FDS);
	peer_events(d, pfd + SHADOW_POLL_FDS + VOLUME_POLL_FDS);
	loop_time(r, t0, ph, "events");
}

void rcv_flush(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint64_t t0 = now_ms();
	enum phase ph;

	if (!r)
		return;
	ph = r->phase;
	shadow_flush(d);
	peer_flush(r);
	loop_time(r, t0, ph, "flush");
}

static void tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;
	uint32_t ids[MEMBERS_MAX];
	uint64_t due, round;
	unsigned int n, i;
	uint32_t lowest;

	if (!r)
		return;
	catchup_tick(d, now, wake);
	if (r->phase == PH_IDLE && d->conf.recovery_period_s) {
		if (now >= r->next_period_ms) {
			r->next_period_ms = now +
					    d->conf.recovery_period_s * 1000ull;
			/* One trigger per period: the lowest node id. */
			n = round_members(d, ids);
			for (i = 0, lowest = UINT32_MAX; i < n; i++)
				if (ids[i] < lowest)
					lowest = ids[i];
			if (lowest == d->nodeid &&
			    !rcv_trigger(d, false, &round))
				vf_info("recovery: periodic round %016" PRIx64 " triggered",
					round);
		}
		if (r->next_period_ms < *wake)
			*wake = r->next_period_ms;
	}
	if (r->phase == PH_IDLE)
		return;
	if (!d->local && !d->cpg_ok && !r->fetched_sent) {
		round_abort(d, VF_RCV_MEMBER_LEFT, false,
			    "lost the connection to the group");
		return;
	}
	peer_tick(d, now, wake);
	senior_tick(d, now, wake);
	if (r->phase == PH_IDLE)
		return;
	if (r->phase == PH_HANDOVER) {
		due = r->switch_ms + SENIOR_DRAIN_MS;
		if (now >= due) {
			vf_warn("recovery: the senior did not answer up to order %" PRIu64 " in %u ms; stopping it",
				r->h, SENIOR_DRAIN_MS);
			shadow_swap(d);
		} else if (due < *wake) {
			*wake = due;
		}
	}
	due = r->start_ms + d->conf.recovery_timeout_ms;
	if (now >= due) {
		if (r->phase == PH_FINISH) {
			/* Nobody fetches from this view any more. */
			for (i = 0; i < r->k; i++)
				r->mem[i].fetched = true;
			for (i = 0; i < r->nrecv; i++)
				r->recv[i].done = true;
			round_progress(d);
		} else if (r->receiver && r->fetched_sent && !r->adopted) {
			/* Its RCV_FETCHED decides, when delivered. */
		} else if (!r->switched) {
			round_abort(d, VF_RCV_TIMEOUT, !r->fetched_sent,
				    "not over after %u ms (phase %s)",
				    d->conf.recovery_timeout_ms,
				    phase_names[r->phase]);
		}
		return;
	}
	if (due < *wake)
		*wake = due;
}

void rcv_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;
	uint64_t t0 = now_ms();
	enum phase ph = r ? r->phase : PH_IDLE;

	tick(d, now, wake);
	if (r)
		loop_time(r, t0, ph, "tick");
}

void rcv_status(struct vmfitd *d, FILE *fp)
{
	struct rcv *r = d->rcv;

	if (!r) {
		fprintf(fp, "\"rcv_phase\":\"off\",");
		return;
	}
	fprintf(fp, "\"rcv_phase\":\"%s\",\"rcv_round\":\"%016" PRIx64
		"\",\"rcv_rounds\":%" PRIu64 ",\"rcv_done\":%" PRIu64
		",\"rcv_aborted\":%" PRIu64 ",\"rcv_last_round\":\"%016" PRIx64
		"\",\"rcv_last_result\":\"%s\",\"rcv_last_abort\":\"%s\",",
		phase_names[r->phase], r->round, r->st.rounds, r->st.done,
		r->st.aborted, r->st.last_round, r->st.last_result,
		r->st.last_abort);
	fprintf(fp, "\"rcv_full\":%d,\"rcv_chunks\":%" PRIu64
		",\"rcv_hashed\":%" PRIu64 ",\"rcv_verified\":%" PRIu64
		",\"rcv_repaired\":%" PRIu64 ",\"rcv_copied\":%" PRIu64
		",\"rcv_bytes_hashed\":%" PRIu64 ",\"rcv_bytes_copied\":%" PRIu64
		",\"rcv_bytes_fetched\":%" PRIu64 ",\"rcv_bytes_served\":%" PRIu64
		",\"rcv_bad_msgs\":%" PRIu64 ",\"rcv_capture_order\":%" PRIu64
		",\"rcv_capture_ms\":%" PRIu64 ",\"rcv_last_ms\":%" PRIu64
		",\"rcv_caught_up\":%" PRIu64 ",\"rcv_receivers\":%u"
		",\"rcv_volume\":",
		r->full, r->geom.nchunks, r->st.hashed, r->st.verified,
		r->st.repaired, r->st.copied, r->st.bytes_hashed,
		r->st.bytes_copied, r->st.bytes_fetched, r->st.bytes_served,
		r->st.bad_msgs, r->capture_order, r->st.capture_ms,
		r->st.last_ms, r->st.caught_up, r->nrecv);
	/* A configured path: escaped, it may hold any byte. */
	vf_json_string(fp, r->vol[r->cur].path);
	fputc(',', fp);
	fprintf(fp, "\"rcv_bytes_msgs\":%" PRIu64 ",\"rcv_hash_ms\":%" PRIu64
		",\"rcv_copy_ms\":%" PRIu64 ",\"rcv_commit_ms\":%" PRIu64
		",\"rcv_loop_max_ms\":%" PRIu64 ",\"rcv_loop_max_at\":\"%s\""
		",\"rcv_shadow_hello_ms\":%"
		PRId64 ",\"rcv_shadow_created_ms\":%" PRId64
		",\"rcv_senior_stop_ms\":%" PRIu64
		",\"rcv_senior_stopping\":%d,\"rcv_local_order\":%" PRIu64
		",\"rcv_local_ms\":%" PRIu64 ",",
		r->st.bytes_msgs, r->st.hash_ms, r->st.copy_ms,
		r->st.commit_ms, r->st.loop_max_ms, r->st.loop_max_at,
		r->st.shadow_hello_ms,
		r->st.shadow_created_ms, r->st.senior_stop_ms,
		r->senior.running, r->local_order, r->st.local_ms);
}
