// SPDX-License-Identifier: GPL-2.0-only
/*
 * checkpoint.c - ordered checkpoints.
 *
 * A CHECKPOINT group message is delivered at the same position of the
 * total order on every manager; its order is the last order delivered
 * before it. The manager lets the replica answer every EXEC up to that
 * order, holds the EXECs ordered after it (rhold), sends CHECKPOINT(order)
 * once every earlier EXEC is answered, and then releases the held EXECs up
 * to the next pending checkpoint's order at once: the replica keeps the
 * order (the CHECKPOINT frame sits at its position of the stream) and may
 * answer them before CHECKPOINT_DONE; at CHECKPOINT_DONE its volume holds
 * the state at the checkpoint's order all the same (Documentation/
 * protocol.rst), which is where recovery snapshots it. Pending
 * checkpoints form a FIFO. The oldest one is bounded by
 * checkpoint_timeout_ms of the replica's own time: from its last answer
 * while it still works through the earlier requests, then from the
 * CHECKPOINT frame. Time during which the manager does not read
 * the replica (group send queue congested) does not count: a replica is
 * faulty for being silent, not for the backlog clients put before it.
 *
 * The control socket (control.c) triggers them and hears how they ended.
 * Recovery also queues a local checkpoint of the senior here (not ordered,
 * ckpt_push_local()): the same FIFO and timeout, reported to recovery
 * only, not counted with the ordered ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gmsg.h"
#include "vf_log.h"
#include "vmfitd.h"

struct ckpt *ckpt_head(struct vmfitd *d)
{
	return d->ckpt_len ? &d->ckpts[d->ckpt_head] : NULL;
}

/* Record the outcome of checkpoint @cp-like data and tell its trigger. */
static void ckpt_record(struct vmfitd *d, uint32_t node, uint64_t id,
			uint64_t order, uint32_t status, bool local)
{
	if (local) {
		rcv_checkpoint_done(d, id, order, status);
		return;
	}
	d->st.ckpt_done++;
	d->st.ckpt_last_order = order;
	d->st.ckpt_last_status = status;
	if (status) {
		d->st.ckpt_failed++;
		vf_warn("CHECKPOINT_DONE order %" PRIu64 " status %u (%s): checkpoint %016" PRIx64 " failed on this host",
			order, status, strerror(status), id);
	} else {
		vf_info("CHECKPOINT_DONE order %" PRIu64 " status 0: checkpoint %016" PRIx64 " taken",
			order, id);
	}
	ctl_checkpoint_done(d, node, id, order, status);
	rcv_checkpoint_done(d, id, order, status);
}

/* The oldest pending checkpoint is over with @status. */
void ckpt_finish(struct vmfitd *d, uint32_t status)
{
	struct ckpt cp = d->ckpts[d->ckpt_head];

	d->ckpt_head = (d->ckpt_head + 1) % CKPT_MAX;
	d->ckpt_len--;
	if (d->ckpt_len)
		d->ckpts[d->ckpt_head].start_ms = now_ms();
	ckpt_record(d, cp.node, cp.id, cp.order, status, cp.local);
}

/* Move the held EXECs of orders <= @upto to the replica channel. */
static void held_release(struct vmfitd *d, uint64_t upto)
{
	struct vf_hdr h;
	struct vf_rd rd;
	size_t off = 0;
	uint64_t order;
	long fl;

	while (off < vf_wb_pending(&d->rhold)) {
		/* Frames we encoded ourselves: always complete and valid. */
		fl = vf_frame_peek(vf_wb_data(&d->rhold) + off,
				   vf_wb_pending(&d->rhold) - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl <= 0)
			break;
		vf_rd_init(&rd, vf_wb_data(&d->rhold) + off + VF_HDR_LEN,
			   h.len);
		order = vf_rd_u64(&rd);
		if (order > upto)
			break;
		d->exec_sent = order;
		off += fl;
	}
	if (!off)
		return;
	vf_wb_bytes(&d->rout, vf_wb_data(&d->rhold), off);
	if (d->rout.err) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	vf_wb_consume(&d->rhold, off);
}

/* Advance the checkpoint FIFO as far as the replica's answers allow. */
void replica_pump(struct vmfitd *d)
{
	struct ckpt *cp = ckpt_head(d);

	if (d->rep_failed)
		return;
	if (!cp) {
		held_release(d, UINT64_MAX);
		return;
	}
	if (cp->sent) {
		/* up to the next checkpoint's position, sent after DONE */
		held_release(d, d->ckpt_len > 1 ?
			     d->ckpts[(d->ckpt_head + 1) % CKPT_MAX].order :
			     UINT64_MAX);
		return;
	}
	held_release(d, cp->order);
	if (d->rep_failed || d->exec_done < cp->order)
		return;
	if (vf_checkpoint_encode(&d->rout, cp->order)) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	cp->sent = true;
	cp->start_ms = now_ms();
	vf_dbg("CHECKPOINT order %" PRIu64 " sent to the replica", cp->order);
	replica_pump(d);
}

void deliver_checkpoint(struct vmfitd *d, uint32_t node,
			const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct vf_gckpt ck;
	int r;

	r = vf_gmsg_read_checkpoint(h, rd, &ck);
	if (r) {
		d->st.bad_gmsgs++;
		vf_err("cpg: malformed CHECKPOINT message from node %u: %s",
		       node, vf_strerror(r));
		return;
	}
	d->st.checkpoints++;
	vf_info("checkpoint %016" PRIx64 " (from node %u) ordered after order %" PRIu64,
		ck.id, node, d->last_order);
	ckpt_push(d, node, ck.id);
}

static void ckpt_add(struct vmfitd *d, uint32_t node, uint64_t id, bool local)
{
	struct ckpt *cp;

	if (d->rep_failed || !d->rep.running) {
		ckpt_record(d, node, id, d->last_order, EIO, local);
		return;
	}
	if (d->ckpt_len == CKPT_MAX) {
		ckpt_record(d, node, id, d->last_order, EBUSY, local);
		return;
	}
	cp = &d->ckpts[(d->ckpt_head + d->ckpt_len) % CKPT_MAX];
	memset(cp, 0, sizeof(*cp));
	cp->id = id;
	cp->node = node;
	cp->local = local;
	cp->order = d->last_order;
	if (!d->ckpt_len)
		cp->start_ms = now_ms();
	d->ckpt_len++;
	replica_pump(d);
}

void ckpt_push(struct vmfitd *d, uint32_t node, uint64_t id)
{
	ckpt_add(d, node, id, false);
}

void ckpt_push_local(struct vmfitd *d, uint64_t id)
{
	ckpt_add(d, d->nodeid, id, true);
}

/* A replica that does not finish a checkpoint in time is faulty. */
void ckpt_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct ckpt *cp = ckpt_head(d);
	uint64_t due;
	char why[160];

	if (!cp)
		return;
	if (group_congested(d))
		cp->start_ms = now;	/* not listening to the replica */
	due = cp->start_ms + d->conf.checkpoint_timeout_ms;
	if (now < due) {
		if (due < *wake)
			*wake = due;
		return;
	}
	snprintf(why, sizeof(why),
		 "it did not finish the checkpoint of order %" PRIu64 " in %u ms%s",
		 cp->order, d->conf.checkpoint_timeout_ms,
		 cp->sent ? "" : " (no answer to the earlier requests either)");
	ckpt_finish(d, ETIMEDOUT);
	replica_failed(d, why);
}
