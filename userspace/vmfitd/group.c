// SPDX-License-Identifier: GPL-2.0-only
/*
 * group.c - the manager group: corosync CPG (agreed order), or a loopback
 * in --unreplicated mode. Gathers the requests and votes of a loop round
 * into one batch message per kind, sends batches, queues them on
 * CS_ERR_TRY_AGAIN and retries from the main loop with backoff, reconnects
 * to a restarted corosync with backoff.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gmsg.h"
#include "vf_log.h"
#include "vmfitd.h"

#define RETRY_MIN_MS		1
#define RETRY_MAX_MS		200
#define RECONNECT_MIN_MS	100
#define RECONNECT_MAX_MS	5000

static struct vmfitd *group_d;	/* for the CPG callbacks */

static void cpg_deliver_cb(cpg_handle_t h, const struct cpg_name *name,
			   uint32_t nodeid, uint32_t pid, void *msg,
			   size_t len)
{
	group_d->st.msgs_recv++;
	deliver(group_d, nodeid, pid, msg, len);
}

static void log_list(const char *what, const struct cpg_address *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vf_info("cpg: node %u (pid %u) %s", l[i].nodeid, l[i].pid,
			what);
}

static void cpg_confchg_cb(cpg_handle_t h, const struct cpg_name *name,
			   const struct cpg_address *members, size_t nmembers,
			   const struct cpg_address *left, size_t nleft,
			   const struct cpg_address *joined, size_t njoined)
{
	struct vmfitd *d = group_d;
	size_t i;

	log_list("joined", joined, njoined);
	/*
	 * A leaving member's votes are simply no longer awaited: the voter
	 * only waits for f+1 identical votes, from managers in sync.
	 */
	log_list("left", left, nleft);
	d->members = nmembers;
	/* A manager of a running recovery round is gone. */
	for (i = 0; i < nleft; i++)
		rcv_left(d, left[i].nodeid);
	vf_info("cpg: %zu member(s) in group %s (f = %u needs %u)", nmembers,
		d->conf.cpg_group, d->conf.f, d->conf.f + 1);
	/* Delivered at the same point of the order on every member. */
	delivery_membership(d, mb_view(&d->mb, members, nmembers, left, nleft,
				       joined, njoined));
}

static cpg_model_v1_data_t cpg_model = {
	.model = CPG_MODEL_V1,
	.cpg_deliver_fn = cpg_deliver_cb,
	.cpg_confchg_fn = cpg_confchg_cb,
};

static void cpg_lost(struct vmfitd *d, const char *what, cs_error_t e)
{
	vf_err("cpg: %s failed (cs error %d); reconnecting", what, e);
	if (d->cpg_ok || d->cpg)
		cpg_finalize(d->cpg);
	d->cpg = 0;
	d->cpg_ok = false;
	d->cpg_fd = -1;
	d->members = 0;
	/* Whatever was sent and not delivered will never come back. */
	d->own_reqs = 0;
	d->own_bytes = 0;
	/* It may have missed ordered messages: out of sync for good. */
	if (d->joined_once)
		mb_lost(&d->mb);
	delivery_membership(d, MB_LOST_SYNC);
	d->reconnect_ms = d->reconnect_ms ? d->reconnect_ms * 2 :
					    RECONNECT_MIN_MS;
	if (d->reconnect_ms > RECONNECT_MAX_MS)
		d->reconnect_ms = RECONNECT_MAX_MS;
	d->reconnect_at_ms = now_ms() + d->reconnect_ms;
}

static int cpg_connect(struct vmfitd *d)
{
	struct timespec ts;
	struct cpg_name name;
	unsigned int nodeid;
	cs_error_t e;
	int tries;

	e = cpg_model_initialize(&d->cpg, CPG_MODEL_V1,
				 (cpg_model_data_t *)&cpg_model, NULL);
	if (e != CS_OK) {
		d->cpg = 0;
		cpg_lost(d, "cpg_model_initialize (is corosync running?)", e);
		return -ENOTCONN;
	}
	memset(&name, 0, sizeof(name));
	name.length = strlen(d->conf.cpg_group);
	memcpy(name.value, d->conf.cpg_group, name.length);
	/* Bounded: a few quick retries, then back to the loop. */
	for (tries = 0; tries < 5; tries++) {
		e = cpg_join(d->cpg, &name);
		if (e != CS_ERR_TRY_AGAIN)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = (tries + 1) * 10000000L;
		nanosleep(&ts, NULL);
	}
	if (e != CS_OK) {
		cpg_lost(d, "cpg_join", e);
		return -ENOTCONN;
	}
	if (cpg_fd_get(d->cpg, &d->cpg_fd) != CS_OK ||
	    cpg_local_get(d->cpg, &nodeid) != CS_OK) {
		cpg_lost(d, "cpg_fd_get/cpg_local_get", CS_ERR_LIBRARY);
		return -ENOTCONN;
	}
	if (d->conf.node_id && d->conf.node_id != nodeid)
		vf_warn("node_id %u in %s differs from corosync's nodeid %u; votes use corosync's",
			d->conf.node_id, d->conf_path, nodeid);
	d->nodeid = nodeid;
	/* CPG names a process by node id and pid (ours, as corosync sees
	 * it: vmfitd and corosync share a PID namespace). */
	mb_connected(&d->mb, nodeid, getpid());
	d->cpg_ok = true;
	d->joined_once = true;
	d->reconnect_ms = 0;
	vf_info("cpg: joined group %s as node %u", d->conf.cpg_group, nodeid);
	return 0;
}

int group_init(struct vmfitd *d)
{
	unsigned int i;

	group_d = d;
	d->cpg_fd = -1;
	vf_wb_init(&d->req_batch, VF_GMSG_MAX);
	vf_wb_init(&d->vote_batch, VF_GMSG_MAX);
	vf_wb_init(&d->ctl_msg, VF_GMSG_MAX);
	vf_wb_init(&d->state_msg, VF_GMSG_MAX);
	for (i = 0; i < SENDQ_MAX; i++)
		vf_wb_init(&d->sendq[i], VF_GMSG_MAX);
	if (d->local) {
		d->nodeid = d->conf.node_id ? d->conf.node_id : 1;
		d->members = 1;
		return 0;
	}
	cpg_connect(d);		/* failures retry from group_tick() */
	return 0;
}

void group_fini(struct vmfitd *d)
{
	unsigned int i;

	if (d->cpg_ok) {
		struct cpg_name name;

		memset(&name, 0, sizeof(name));
		name.length = strlen(d->conf.cpg_group);
		memcpy(name.value, d->conf.cpg_group, name.length);
		cpg_leave(d->cpg, &name);
		cpg_finalize(d->cpg);
		d->cpg_ok = false;
	}
	vf_wb_free(&d->req_batch);
	vf_wb_free(&d->vote_batch);
	vf_wb_free(&d->ctl_msg);
	vf_wb_free(&d->state_msg);
	for (i = 0; i < SENDQ_MAX; i++)
		vf_wb_free(&d->sendq[i]);
}

static void group_dispatch(struct vmfitd *d)
{
	cs_error_t e;

	if (!d->cpg_ok)
		return;
	e = cpg_dispatch(d->cpg, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		cpg_lost(d, "cpg_dispatch", e);
}

bool group_congested(const struct vmfitd *d)
{
	return d->sendq_len >= SENDQ_MAX / 2;
}

/* Try to multicast @wb. 1 sent, 0 try again later, -1 connection lost. */
static int try_send(struct vmfitd *d, struct vf_wbuf *wb)
{
	struct iovec iov = {
		.iov_base = vf_wb_data(wb),
		.iov_len = vf_wb_pending(wb),
	};
	cs_error_t e;

	e = cpg_mcast_joined(d->cpg, CPG_TYPE_AGREED, &iov, 1);
	if (e == CS_OK) {
		d->st.msgs_sent++;
		d->retry_ms = 0;
		return 1;
	}
	if (e == CS_ERR_TRY_AGAIN) {
		d->st.try_again++;
		d->retry_ms = d->retry_ms ? d->retry_ms * 2 : RETRY_MIN_MS;
		if (d->retry_ms > RETRY_MAX_MS)
			d->retry_ms = RETRY_MAX_MS;
		d->retry_at_ms = now_ms() + d->retry_ms;
		return 0;
	}
	cpg_lost(d, "cpg_mcast_joined", e);
	return -1;
}

static void drain_queue(struct vmfitd *d)
{
	struct vf_wbuf *wb;

	while (d->cpg_ok && d->sendq_len) {
		wb = &d->sendq[d->sendq_head];
		if (try_send(d, wb) <= 0)
			return;
		vf_wb_reset(wb);
		d->sendq_head = (d->sendq_head + 1) % SENDQ_MAX;
		d->sendq_len--;
	}
}

/* A REQUESTS message of ours that will never be delivered. */
static void own_dropped(struct vmfitd *d, const struct vf_wbuf *wb)
{
	struct vf_gmsg_hdr h;
	struct vf_rd rd;

	if (vf_gmsg_open(vf_wb_data(wb), vf_wb_pending(wb), &h, &rd) ||
	    h.type != VF_G_REQUESTS)
		return;
	own_delivered(d, h.count, vf_wb_pending(wb));
}

/* Send (or queue) the message in @wb; @wb is left empty. */
static void send_msg(struct vmfitd *d, struct vf_wbuf *wb)
{
	struct vf_wbuf tmp;
	unsigned int tail;

	if (d->local) {
		d->st.msgs_sent++;
		d->st.msgs_recv++;
		deliver(d, d->nodeid, getpid(), vf_wb_data(wb),
			vf_wb_pending(wb));
		vf_wb_reset(wb);
		return;
	}
	if (!d->cpg_ok) {
		own_dropped(d, wb);
		vf_wb_reset(wb);
		return;
	}
	if (!d->sendq_len && try_send(d, wb)) {
		vf_wb_reset(wb);
		return;
	}
	if (!d->cpg_ok) {
		/* cpg_lost() has reset the own counts. */
		vf_wb_reset(wb);
		return;
	}
	if (d->sendq_len == SENDQ_MAX) {
		/* Only votes get here (requests stop at group_congested):
		 * a dropped vote is a missing vote, which voting tolerates. */
		vf_err("cpg: send queue full, dropping a message of %zu bytes",
		       vf_wb_pending(wb));
		vf_wb_reset(wb);
		return;
	}
	/* Swap buffers: no copy. */
	tail = (d->sendq_head + d->sendq_len) % SENDQ_MAX;
	tmp = d->sendq[tail];
	d->sendq[tail] = *wb;
	*wb = tmp;
	vf_wb_reset(wb);
	d->sendq_len++;
}

/* After a view change: tell the group where this manager stands. */
static void send_state(struct vmfitd *d)
{
	struct vf_gstate st = {
		.state = mb_self_state(&d->mb),
		.conf_hash = d->mb.conf_hash,
		.view = d->mb.view_fp,
	};

	d->mb.announce = false;
	if (vf_gmsg_state(&d->state_msg, d->last_order, &st)) {
		vf_wb_reset(&d->state_msg);
		return;
	}
	send_msg(d, &d->state_msg);
}

void group_flush(struct vmfitd *d)
{
	if (d->mb.announce && d->cpg_ok)
		send_state(d);
	if (d->req_count) {
		if (!vf_gmsg_end(&d->req_batch, d->req_count)) {
			d->st.req_msgs_sent++;
			d->st.reqs_sent += d->req_count;
			/* In flight until delivered back (or dropped). */
			d->own_reqs += d->req_count;
			d->own_bytes += vf_wb_pending(&d->req_batch);
			send_msg(d, &d->req_batch);
		}
		d->req_count = 0;
		vf_wb_reset(&d->req_batch);
	}
	if (d->vote_count) {
		if (!vf_gmsg_end(&d->vote_batch, d->vote_count)) {
			d->st.votes_sent += d->vote_count;
			send_msg(d, &d->vote_batch);
		}
		d->vote_count = 0;
		vf_wb_reset(&d->vote_batch);
	}
}

/* Add a client's request to this round's REQUESTS batch. */
void group_add_request(struct vmfitd *d, const struct vf_request *m)
{
	if (!d->req_count)
		vf_gmsg_begin(&d->req_batch, VF_G_REQUESTS, d->last_order);
	vf_gmsg_add_request(&d->req_batch, m);
	d->req_count++;
	if (d->req_count >= d->conf.batch_max ||
	    vf_wb_pending(&d->req_batch) >= BATCH_BYTES)
		group_flush(d);
}

/* Add the local replica's result for @order to this round's VOTES batch. */
void group_add_vote(struct vmfitd *d, uint64_t order, const uint8_t *data,
		    uint32_t len)
{
	struct vf_gvote v = { .order = order, .len = len, .data = data };

	if (!d->vote_count)
		vf_gmsg_begin(&d->vote_batch, VF_G_VOTES, d->last_order);
	vf_gmsg_add_vote(&d->vote_batch, &v);
	d->vote_count++;
	if (d->vote_count >= d->conf.batch_max ||
	    vf_wb_pending(&d->vote_batch) >= BATCH_BYTES)
		group_flush(d);
}

int group_send(struct vmfitd *d, struct vf_wbuf *wb)
{
	if (!d->local && !d->cpg_ok) {
		vf_wb_reset(wb);
		return -ENOTCONN;
	}
	/* What this round gathered goes first (see below). */
	group_flush(d);
	send_msg(d, wb);
	return 0;
}

int group_send_checkpoint(struct vmfitd *d, uint64_t id)
{
	struct vf_gckpt ck = { .id = id };
	int r;

	if (!d->local && !d->cpg_ok)
		return -ENOTCONN;
	/* Never dropped in the send queue: refuse while it fills up. */
	if (group_congested(d))
		return -EBUSY;
	/* What this round gathered goes first: the order on the wire is the
	 * order the manager saw. */
	group_flush(d);
	r = vf_gmsg_checkpoint(&d->ctl_msg, d->last_order, &ck);
	if (r) {
		vf_wb_reset(&d->ctl_msg);
		return r;
	}
	send_msg(d, &d->ctl_msg);
	return 0;
}

unsigned int group_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	pfd[0].fd = d->cpg_ok ? d->cpg_fd : -1;
	pfd[0].events = POLLIN;
	return GROUP_POLL_FDS;
}

void group_events(struct vmfitd *d, const struct pollfd *pfd)
{
	if (pfd[0].revents)
		group_dispatch(d);
}

/* Reconnect, retry the send queue; lowers @wake to when to try next. */
void group_tick(struct vmfitd *d, uint64_t *wake)
{
	uint64_t now;

	if (d->local)
		return;
	now = now_ms();
	if (!d->cpg_ok) {
		if (now >= d->reconnect_at_ms)
			cpg_connect(d);
	} else if (d->sendq_len && now >= d->retry_at_ms) {
		drain_queue(d);
	}
	if (!d->cpg_ok && d->reconnect_at_ms < *wake)
		*wake = d->reconnect_at_ms;
	if (d->sendq_len && d->retry_at_ms < *wake)
		*wake = d->retry_at_ms;
}
