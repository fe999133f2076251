// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd-delivery-test - who is heard in the ordered stream (delivery.c
 * with membership.c), with the rest of the manager stubbed: requests and
 * votes of the managers in sync are ordered, executed and decided; a vote
 * or a message that claims orders not delivered here, from a manager in
 * sync, is rejected without putting this manager out of sync; messages of
 * unconfigured nodes and second processes are rejected; outside the
 * primary component nothing is executed. A manager out of sync keeps what
 * the managers in sync order (for a catch-up), hears recovery messages of
 * every configured member present, and once it takes over a manager state
 * (delivery_adopt) and replays what it kept, it is where the others are.
 */
#include <string.h>

#include "vmfitd.h"
#include "vf_check.h"
#include "vf_mstate.h"

#define PID(node)	(100 + (node))

/* Stubs for the parts delivery.c calls. */
static unsigned int n_exec, n_answer, n_refused;
static uint64_t last_exec;
static uint32_t last_status;

uint64_t now_ms(void)
{
	return 1;
}

void replica_exec(struct vmfitd *d, uint64_t order, uint64_t cid,
		  uint64_t seq, const uint8_t *op, uint32_t op_len)
{
	n_exec++;
	last_exec = order;
}

void client_answer(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   uint32_t status, const uint8_t *data, uint32_t len)
{
	n_answer++;
	last_status = status;
}

void client_refuse(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   const char *why)
{
	n_answer++;
}

void client_refuse_all(struct vmfitd *d, uint32_t status)
{
	n_refused++;
	last_status = status;
}

void deliver_checkpoint(struct vmfitd *d, uint32_t node,
			const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
}

static unsigned int n_rcv;

void rcv_deliver(struct vmfitd *d, uint32_t node, const struct vf_gmsg_hdr *h,
		 struct vf_rd *rd)
{
	n_rcv++;
}

static struct vf_wbuf kept;
static uint32_t kept_node;
static unsigned int n_kept;

void rcv_keep(struct vmfitd *d, uint32_t node, uint32_t pid, const void *msg,
	      size_t len)
{
	n_kept++;
	kept_node = node;
	vf_wb_reset(&kept);
	vf_wb_bytes(&kept, msg, len);
}

static struct vf_wbuf wb;

static void send_requests(struct vmfitd *d, uint32_t node, uint32_t pid,
			  uint64_t last_order, uint64_t cid)
{
	struct vf_request rq = { cid, 1, 3, (const uint8_t *)"get", NULL };

	vf_gmsg_begin(&wb, VF_G_REQUESTS, last_order);
	vf_gmsg_add_request(&wb, &rq);
	vf_gmsg_end(&wb, 1);
	deliver(d, node, pid, vf_wb_data(&wb), vf_wb_pending(&wb));
}

static void send_vote(struct vmfitd *d, uint32_t node, uint32_t pid,
		      uint64_t order)
{
	struct vf_gvote v = { order, 2, (const uint8_t *)"ok" };

	vf_gmsg_begin(&wb, VF_G_VOTES, 0);
	vf_gmsg_add_vote(&wb, &v);
	vf_gmsg_end(&wb, 1);
	deliver(d, node, pid, vf_wb_data(&wb), vf_wb_pending(&wb));
}

static void send_state(struct vmfitd *d, uint32_t node, uint16_t state)
{
	struct vf_gstate st = { state, d->mb.conf_hash, d->mb.view_fp };

	vf_gmsg_state(&wb, 0, &st);
	deliver(d, node, PID(node), vf_wb_data(&wb), vf_wb_pending(&wb));
}

static void set_view(struct vmfitd *d, size_t n, uint32_t gone)
{
	struct cpg_address m[3], left[1];
	size_t i;

	memset(m, 0, sizeof(m));
	memset(left, 0, sizeof(left));
	for (i = 0; i < n; i++) {
		m[i].nodeid = i + 1;
		m[i].pid = PID(i + 1);
	}
	left[0].nodeid = gone;
	left[0].pid = PID(gone);
	left[0].reason = CPG_REASON_NODEDOWN;
	delivery_membership(d, mb_view(&d->mb, m, n, left, gone ? 1 : 0,
				       NULL, 0));
}

int main(void)
{
	static struct vmfitd vd;
	struct vmfitd *d = &vd;
	struct vf_wbuf ms;
	uint64_t rejected;

	vf_conf_defaults(&d->conf);
	d->conf.nmanagers = 3;
	d->conf.managers[0] = 1;
	d->conf.managers[1] = 2;
	d->conf.managers[2] = 3;
	d->conf.vote_window = 4096;
	d->cpg_ok = true;
	vf_wb_init(&wb, VF_GMSG_MAX);
	vf_wb_init(&kept, 0);
	CHECK_EQ(delivery_init(d), 0);
	mb_connected(&d->mb, 1, PID(1));

	/* Before genesis: nothing is executed, nothing rejected. */
	set_view(d, 3, 0);
	send_requests(d, 2, PID(2), 0, 7);
	CHECK(n_exec == 0 && d->mb.rejected == 0 && !vmfitd_available(d));
	send_state(d, 1, MB_FRESH);
	send_state(d, 2, MB_FRESH);
	send_state(d, 3, MB_FRESH);
	CHECK(manager_in_sync(&d->mb) && vmfitd_available(d));

	/* A request of manager 2 is ordered; votes of 2 and 3 decide it. */
	send_requests(d, 2, PID(2), 0, 7);
	CHECK(n_exec == 1 && last_exec == 1 && d->last_order == 1);
	send_vote(d, 2, PID(2), 1);
	send_vote(d, 3, PID(3), 1);
	CHECK(n_answer == 1 && last_status == VF_ST_OK);

	/* Forged orders from a manager in sync: rejected, still in sync. */
	send_vote(d, 3, PID(3), UINT64_MAX);
	CHECK_EQ(d->mb.rejected, 1);
	send_requests(d, 2, PID(2), UINT64_MAX, 8);
	CHECK_EQ(d->mb.rejected, 2);
	CHECK(n_exec == 1 && manager_in_sync(&d->mb) && vmfitd_available(d));

	/* Senders that are not managers: rejected. */
	send_vote(d, 4, PID(4), 1);
	send_requests(d, 4, PID(4), 0, 9);
	send_vote(d, 3, 999, 1);
	send_requests(d, 3, 999, 0, 10);
	CHECK(d->mb.rejected == 6 && n_exec == 1);

	/* Still serving: the next request goes through. */
	send_requests(d, 3, PID(3), 1, 11);
	CHECK(n_exec == 2 && last_exec == 2);

	/* Alone (partitioned): not primary, out of sync, nothing executed,
	 * waiting clients sent elsewhere. */
	d->npending = 1;
	set_view(d, 1, 2);
	CHECK(!membership_primary(&d->mb) && !manager_in_sync(&d->mb));
	CHECK(n_refused >= 1 && last_status == VF_ST_NOT_PRIMARY);
	CHECK_EQ(vmfitd_refusal(d), VF_ST_NOT_PRIMARY);
	send_requests(d, 1, PID(1), 2, 12);
	CHECK(n_exec == 2 && d->mb.rejected == 6);
	/* back in a primary view: out of sync, refused as unavailable */
	set_view(d, 3, 0);
	CHECK(membership_primary(&d->mb) && !vmfitd_available(d));
	CHECK_EQ(vmfitd_refusal(d), VF_ST_UNAVAILABLE);
	send_requests(d, 2, PID(2), 2, 13);
	CHECK_EQ(n_exec, 2);

	/*
	 * Catching up. The state this manager will take over is the one it
	 * had at order 2 (as the managers in sync still have it).
	 */
	vf_wb_init(&ms, 0);
	CHECK_EQ(vf_mstate_encode(&ms, d->last_order, d->rc, d->voter), 0);
	/* What managers in sync order is kept, never executed here. */
	send_state(d, 2, MB_SYNCED);
	send_state(d, 3, MB_SYNCED);
	send_requests(d, 2, PID(2), 2, 14);
	CHECK(n_kept == 1 && kept_node == 2 && n_exec == 2);
	send_requests(d, 2, 999, 2, 15);	/* not its vmfitd */
	send_requests(d, 4, PID(4), 2, 15);	/* not a manager */
	CHECK(n_kept == 1 && n_exec == 2);
	/* Recovery messages: from every configured member present. */
	rejected = d->mb.rejected;
	vf_gmsg_begin(&wb, VF_G_RECOVER, 0);
	vf_wb_bytes(&wb, "0123456789abcdef", 16);
	vf_gmsg_end(&wb, 1);
	deliver(d, 2, PID(2), vf_wb_data(&wb), vf_wb_pending(&wb));
	deliver(d, 1, PID(1), vf_wb_data(&wb),
		vf_wb_pending(&wb)); /* itself, not in sync */
	CHECK_EQ(n_rcv, 2);
	deliver(d, 4, PID(4), vf_wb_data(&wb), vf_wb_pending(&wb));
	deliver(d, 3, 999, vf_wb_data(&wb), vf_wb_pending(&wb));
	CHECK(n_rcv == 2 && d->mb.rejected == rejected + 2);
	/* A state that does not load changes nothing. */
	vf_wb_data(&ms)[0] ^= 1;
	CHECK_EQ(delivery_adopt(d, vf_wb_data(&ms), vf_wb_pending(&ms)),
		 -VF_E(VF_ERR_MAGIC));
	vf_wb_data(&ms)[0] ^= 1;
	CHECK_EQ(d->last_order, 2);
	/* Take over, be in sync, replay what was kept: order 3 as anywhere. */
	CHECK_EQ(delivery_adopt(d, vf_wb_data(&ms), vf_wb_pending(&ms)), 0);
	CHECK_EQ(d->last_order, 2);
	mb_set_synced(&d->mb, 1);
	CHECK(manager_in_sync(&d->mb) && vmfitd_available(d));
	deliver_kept(d, kept_node, PID(kept_node), vf_wb_data(&kept),
		     vf_wb_pending(&kept));
	CHECK(n_exec == 3 && last_exec == 3 && d->last_order == 3);
	/* ... and decide it with the others. */
	send_vote(d, 2, PID(2), 3);
	send_vote(d, 3, PID(3), 3);
	CHECK(vf_rcache_get(d->rc, 14) && vf_rcache_get(d->rc, 14)->decided);
	/* The duplicate of an order of the taken-over state is skipped. */
	send_requests(d, 3, PID(3), 3, 11);
	CHECK_EQ(d->last_order, 3);

	delivery_free(d);
	vf_wb_free(&ms);
	vf_wb_free(&kept);
	vf_wb_free(&wb);
	return vf_check_done("vmfitd-delivery-test");
}
