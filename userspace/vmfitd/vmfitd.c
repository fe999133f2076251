// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd - the vmfit replica manager.
 *
 * One per host. Clients send REQUESTs (client protocol); the manager
 * batches them into the manager group (corosync CPG, agreed order); every
 * manager delivers the same requests in the same order, numbers each new
 * one (order 1, 2, ...), hands it to its local replica as EXEC and
 * multicasts the replica's RESULT as a vote; the manager that holds the
 * client answers once f+1 votes are identical. See Documentation/vmfitd.8.rst.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmsg.h"
#include "vf_log.h"
#include "vmfitd.h"

static volatile sig_atomic_t sig_term, sig_hup, sig_chld;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		sig_term = 1;
	else if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGCHLD)
		sig_chld = 1;
}

/*
 *------------------------------------------------------------------
 * Waiting clients: client_id -> the local connection awaiting a reply
 *------------------------------------------------------------------
 */

static unsigned int wait_hash(const struct vmfitd *d, uint64_t cid)
{
	cid ^= cid >> 29;
	cid *= 0xbf58476d1ce4e5b9ULL;
	cid ^= cid >> 32;
	return cid & d->wait_mask;
}

static struct conn *wait_find(struct vmfitd *d, uint64_t cid)
{
	struct conn *c;

	for (c = d->wait_tab[wait_hash(d, cid)]; c; c = c->hnext)
		if (c->cid == cid)
			return c;
	return NULL;
}

static void wait_del(struct vmfitd *d, struct conn *c)
{
	struct conn **pp;

	if (!c->waiting)
		return;
	for (pp = &d->wait_tab[wait_hash(d, c->cid)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	c->waiting = false;
	d->npending--;
}

static void wait_add(struct vmfitd *d, struct conn *c, uint64_t cid,
		     uint64_t seq)
{
	struct conn *old = wait_find(d, cid);
	unsigned int b;

	/* A client that reconnected: the newest connection gets the reply. */
	if (old)
		wait_del(d, old);
	c->cid = cid;
	c->seq = seq;
	c->waiting = true;
	b = wait_hash(d, cid);
	c->hnext = d->wait_tab[b];
	d->wait_tab[b] = c;
	d->npending++;
}

/*
 *------------------------------------------------------------------
 * Client connections
 *------------------------------------------------------------------
 */

/* Free a connection; only at the end of a loop round (see conn_kill). */
static void conn_close(struct vmfitd *d, struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	wait_del(d, c);
	/* Output the client never read: reset instead of leaving the kernel
	 * to retransmit it into a zero window. */
	if (c->out.len || c->reset)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	c->prev->next = c->next;
	c->next->prev = c->prev;
	close(c->fd);
	vf_wb_free(&c->out);
	free(c->in);
	free(c);
	d->nconns--;
}

/* Mark a connection dead: it is freed by the sweep after this round. */
static void conn_kill(struct vmfitd *d, struct conn *c)
{
	wait_del(d, c);
	c->dead = true;
}

static void conn_error(struct vmfitd *d, struct conn *c, int r,
		       const char *what)
{
	int code = vf_err_code(r) ? vf_err_code(r) : VF_ERR_MALFORMED;
	char msg[160];

	d->st.bad_frames++;
	snprintf(msg, sizeof(msg), "%s: %s", what, vf_strerror(r));
	vf_dbg("client fd %d: %s; closing", c->fd, msg);
	vf_error_encode(&c->out, VF_MAGIC_CLIENT, code, msg);
	c->closing = true;
	c->ilen = 0;
}

static void conn_reply(struct vmfitd *d, struct conn *c, uint64_t cid,
		       uint64_t seq, uint32_t status, const uint8_t *data,
		       uint32_t len)
{
	struct vf_reply rep = {
		.client_id = cid, .seq = seq, .status = status,
		.len = len, .data = data,
	};

	if (vf_reply_encode(&c->out, &rep)) {
		/* Output bound passed: the client does not read. */
		if (vf_ratelimit(&d->conn_rl, now_ms()))
			vf_warn("client fd %d does not read its replies; disconnecting",
				c->fd);
		conn_kill(d, c);
		return;
	}
	d->st.replies++;
	if (status == VF_ST_BUSY)
		d->st.busy++;
	else if (status == VF_ST_UNAVAILABLE)
		d->st.unavailable++;
}

bool vmfitd_available(const struct vmfitd *d)
{
	return d->synced && (d->local || d->cpg_ok);
}

static void handle_request(struct vmfitd *d, struct conn *c,
			   const struct vf_request *m)
{
	struct vf_rc_entry *e;

	if (c->waiting) {
		/* One outstanding request per client (connection). */
		conn_reply(d, c, m->client_id, m->seq, VF_ST_BUSY, NULL, 0);
		return;
	}
	if (!vmfitd_available(d)) {
		conn_reply(d, c, m->client_id, m->seq, VF_ST_UNAVAILABLE,
			   NULL, 0);
		return;
	}
	e = vf_rcache_get(d->rc, m->client_id);
	if (e && m->seq < e->seq) {
		vf_dbg("client %016" PRIx64 ": stale seq %" PRIu64 " < %" PRIu64 " ignored",
		       m->client_id, m->seq, e->seq);
		return;
	}
	if (e && m->seq == e->seq) {
		if (e->decided) {
			d->st.cache_replies++;
			conn_reply(d, c, e->client_id, e->seq, e->status,
				   e->data, e->len);
		} else {
			wait_add(d, c, m->client_id, m->seq);
		}
		return;
	}
	if (d->npending >= d->conf.max_outstanding || group_congested(d)) {
		conn_reply(d, c, m->client_id, m->seq, VF_ST_BUSY, NULL, 0);
		return;
	}
	wait_add(d, c, m->client_id, m->seq);
	if (!d->req_count)
		vf_gmsg_begin(&d->req_batch, VF_G_REQUESTS, d->last_order);
	vf_gmsg_add_request(&d->req_batch, m);
	d->req_count++;
	if (d->req_count >= d->conf.batch_max ||
	    d->req_batch.len >= BATCH_BYTES)
		group_flush(d);
}

static void conn_input(struct vmfitd *d, struct conn *c)
{
	struct vf_request m;
	struct vf_hdr h;
	size_t off = 0;
	ssize_t n;
	long fl;
	int r;

	n = read(c->fd, c->in + c->ilen, CONN_IN_CAP - c->ilen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_kill(d, c);
		return;
	}
	if (n == 0) {
		if (c->ilen)
			vf_dbg("client fd %d: truncated frame at EOF", c->fd);
		conn_kill(d, c);
		return;
	}
	c->ilen += n;
	while (!c->closing && !c->dead) {
		fl = vf_frame_peek(c->in + off, c->ilen - off,
				   VF_MAGIC_CLIENT, &h);
		if (fl < 0) {
			conn_error(d, c, fl, "bad frame header");
			return;
		}
		if (fl == 0) {
			if (VF_HDR_LEN + (c->ilen - off >= VF_HDR_LEN ?
					  h.len : 0) > CONN_IN_CAP) {
				conn_error(d, c, -VF_E(VF_ERR_TOO_BIG),
					   "request");
				return;
			}
			break;
		}
		if (h.type != VF_C_REQUEST) {
			conn_error(d, c, -VF_E(VF_ERR_TYPE),
				   "clients may only send REQUEST");
			return;
		}
		r = vf_request_decode(c->in + off + VF_HDR_LEN, h.len, &m);
		if (r) {
			conn_error(d, c, r, "REQUEST");
			return;
		}
		handle_request(d, c, &m);
		off += fl;
	}
	if (off) {
		memmove(c->in, c->in + off, c->ilen - off);
		c->ilen -= off;
	}
}

/*
 * Flush what the client can take. Output that makes no progress is bounded
 * in time as well as in bytes: CONN_STALL_MS for an open connection,
 * CONN_LINGER_MS for one that is closing (its last ERROR frame). A closing
 * connection is closed once the kernel has sent everything too (SIOCOUTQ);
 * one whose client does not read is reset: a client that never reads
 * cannot pin a connection, its buffers, its slot or an orphaned socket.
 */
static void conn_output(struct vmfitd *d, struct conn *c, uint64_t now)
{
	bool progress = false;
	uint64_t limit;
	ssize_t n;
	int queued;

	while (c->out.len) {
		n = send(c->fd, c->out.buf, c->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				conn_kill(d, c);
				return;
			}
			goto stalled;
		}
		progress = true;
		vf_wb_consume(&c->out, n);
	}
	if (!c->closing) {
		c->stall_ms = 0;
		return;
	}
	if (ioctl(c->fd, SIOCOUTQ, &queued) < 0 || queued <= 0) {
		conn_kill(d, c);
		return;
	}
stalled:
	if (progress || !c->stall_ms)
		c->stall_ms = now;
	limit = c->closing ? CONN_LINGER_MS : CONN_STALL_MS;
	if (now - c->stall_ms < limit)
		return;
	d->st.stuck_closed++;
	if (vf_ratelimit(&d->conn_rl, now))
		vf_warn("client fd %d%s did not read its output (%zu bytes queued here) in %" PRIu64 " ms; resetting it",
			c->fd, c->closing ? " (closing)" : "", c->out.len,
			limit);
	c->reset = true;
	conn_kill(d, c);
}

static void accept_clients(struct vmfitd *d)
{
	int fd, one = 1, sndbuf = CONN_SNDBUF;
	struct conn *c;

	for (;;) {
		fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (d->nconns >= CONN_MAX) {
			vf_warn("too many client connections (%u); refusing one",
				d->nconns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(CONN_IN_CAP);
		if (!c || !c->in) {
			free(c);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* A fixed kernel send buffer (no autotuning up to 4 MiB): what a
		 * client that stops reading can pin is bounded and known. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->fd = fd;
		vf_wb_init(&c->out, CONN_OUT_LIMIT);
		c->next = d->conns.next;
		c->prev = &d->conns;
		d->conns.next->prev = c;
		d->conns.next = c;
		d->nconns++;
	}
}

/*
 *------------------------------------------------------------------
 * Local replica
 *------------------------------------------------------------------
 */

static void ckpt_finish(struct vmfitd *d, uint32_t status);

static void replica_failed(struct vmfitd *d, const char *why)
{
	if (d->rep_failed)
		return;
	vf_err("replica (pid %d) is faulty: %s; killing it and serving on with the others' votes (restart needs state transfer)",
	       (int)d->rep.pid, why);
	d->rep_failed = true;
	if (d->rep.running)
		d->be->kill(&d->rep);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
	d->rilen = 0;
	/* Its pending checkpoints will never be taken. */
	while (d->ckpt_len)
		ckpt_finish(d, EIO);
}

static int replica_start(struct vmfitd *d)
{
	struct vf_replica_spec spec = {
		.cmd = d->conf.replica_cmd,
		.state = d->conf.state_volume[0] ? d->conf.state_volume : NULL,
	};
	int r;

	d->rep.fd = -1;
	d->rep.exit_fd = -1;
	r = d->be->start(&d->rep, &spec);
	if (r) {
		vf_err("cannot start replica '%s': %s", d->conf.replica_cmd,
		       strerror(-r));
		return r;
	}
	fcntl(d->rep.fd, F_SETFL, O_NONBLOCK);
	vf_wb_init(&d->rout, REP_OUT_LIMIT);
	vf_wb_init(&d->rhold, REP_OUT_LIMIT);
	vf_info("replica started: pid %d, %s backend: %s", (int)d->rep.pid,
		d->be->name, d->conf.replica_cmd);
	return 0;
}

static void replica_exec(struct vmfitd *d, uint64_t order, uint64_t cid,
			 uint64_t seq, const uint8_t *op, uint32_t op_len)
{
	struct vf_exec ex = {
		.order = order, .client_id = cid, .seq = seq,
		.op_len = op_len, .op = op,
	};

	if (d->rep_failed)
		return;
	if (order - d->exec_done > d->conf.replica_lag_max) {
		replica_failed(d, "it lags too far behind");
		return;
	}
	/* Behind a pending checkpoint: held until the replica has taken it
	 * (see replica_pump). */
	if (d->ckpt_len || d->rhold.len) {
		if (vf_exec_encode(&d->rhold, &ex))
			replica_failed(d, "too many requests held behind a checkpoint");
		return;
	}
	if (vf_exec_encode(&d->rout, &ex)) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	d->exec_sent = order;
}

/*
 *------------------------------------------------------------------
 * Ordered checkpoints
 *
 * A CHECKPOINT group message is delivered at the same position of the
 * total order on every manager; its order is the last order delivered
 * before it. The manager lets the replica answer every EXEC up to that
 * order, holds the EXECs ordered after it (rhold), sends CHECKPOINT(order)
 * once every earlier EXEC is answered, and releases the held EXECs when
 * CHECKPOINT_DONE comes back: between CHECKPOINT and CHECKPOINT_DONE the
 * replica has nothing else to do, which is the point where recovery will
 * snapshot the state volume. Pending checkpoints form a FIFO; each one
 * is bounded by checkpoint_timeout_ms from the moment it is the oldest.
 *------------------------------------------------------------------
 */

static struct ckpt *ckpt_head(struct vmfitd *d)
{
	return d->ckpt_len ? &d->ckpts[d->ckpt_head] : NULL;
}

/* Record the outcome of checkpoint @cp-like data and tell its trigger. */
static void ckpt_record(struct vmfitd *d, uint32_t node, uint64_t id,
			uint64_t order, uint32_t status)
{
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
}

/* The oldest pending checkpoint is over with @status. */
static void ckpt_finish(struct vmfitd *d, uint32_t status)
{
	struct ckpt cp = d->ckpts[d->ckpt_head];

	d->ckpt_head = (d->ckpt_head + 1) % CKPT_MAX;
	d->ckpt_len--;
	if (d->ckpt_len)
		d->ckpts[d->ckpt_head].start_ms = now_ms();
	ckpt_record(d, cp.node, cp.id, cp.order, status);
}

/* Move the held EXECs of orders <= @upto to the replica channel. */
static void held_release(struct vmfitd *d, uint64_t upto)
{
	struct vf_hdr h;
	struct vf_rd rd;
	size_t off = 0;
	uint64_t order;
	long fl;

	while (off < d->rhold.len) {
		/* Frames we encoded ourselves: always complete and valid. */
		fl = vf_frame_peek(d->rhold.buf + off, d->rhold.len - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl <= 0)
			break;
		vf_rd_init(&rd, d->rhold.buf + off + VF_HDR_LEN, h.len);
		order = vf_rd_u64(&rd);
		if (order > upto)
			break;
		d->exec_sent = order;
		off += fl;
	}
	if (!off)
		return;
	vf_wb_bytes(&d->rout, d->rhold.buf, off);
	if (d->rout.err) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	vf_wb_consume(&d->rhold, off);
}

/* Advance the checkpoint FIFO as far as the replica's answers allow. */
static void replica_pump(struct vmfitd *d)
{
	struct ckpt *cp = ckpt_head(d);

	if (d->rep_failed)
		return;
	if (!cp) {
		held_release(d, UINT64_MAX);
		return;
	}
	if (cp->sent)
		return;
	held_release(d, cp->order);
	if (d->rep_failed || d->exec_done < cp->order)
		return;
	if (vf_checkpoint_encode(&d->rout, cp->order)) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	cp->sent = true;
	vf_dbg("CHECKPOINT order %" PRIu64 " sent to the replica", cp->order);
}

static void deliver_checkpoint(struct vmfitd *d, uint32_t node,
			       const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct vf_gckpt ck;
	struct ckpt *cp;
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
	if (d->rep_failed || !d->rep.running) {
		ckpt_record(d, node, ck.id, d->last_order, EIO);
		return;
	}
	if (d->ckpt_len == CKPT_MAX) {
		ckpt_record(d, node, ck.id, d->last_order, EBUSY);
		return;
	}
	cp = &d->ckpts[(d->ckpt_head + d->ckpt_len) % CKPT_MAX];
	memset(cp, 0, sizeof(*cp));
	cp->id = ck.id;
	cp->node = node;
	cp->order = d->last_order;
	if (!d->ckpt_len)
		cp->start_ms = now_ms();
	d->ckpt_len++;
	replica_pump(d);
}

/* A replica that does not finish a checkpoint in time is faulty. */
static void ckpt_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct ckpt *cp = ckpt_head(d);
	uint64_t due;
	char why[160];

	if (!cp)
		return;
	due = cp->start_ms + d->conf.checkpoint_timeout_ms;
	if (now < due) {
		if (due < *wake)
			*wake = due;
		return;
	}
	snprintf(why, sizeof(why),
		 "it did not finish the checkpoint of order %" PRIu64 " in %u ms%s",
		 cp->order, d->conf.checkpoint_timeout_ms,
		 cp->sent ? "" : " (earlier requests unanswered)");
	ckpt_finish(d, ETIMEDOUT);
	replica_failed(d, why);
}

static void vote_add(struct vmfitd *d, uint64_t order, const uint8_t *data,
		     uint32_t len)
{
	struct vf_gvote v = { .order = order, .len = len, .data = data };

	if (!d->synced)
		return;
	if (!d->vote_count)
		vf_gmsg_begin(&d->vote_batch, VF_G_VOTES, d->last_order);
	vf_gmsg_add_vote(&d->vote_batch, &v);
	d->vote_count++;
	if (d->vote_count >= d->conf.batch_max ||
	    d->vote_batch.len >= BATCH_BYTES)
		group_flush(d);
}

static void replica_frame(struct vmfitd *d, const struct vf_hdr *h,
			  const uint8_t *p)
{
	struct vf_result res;
	struct vf_done done;
	struct ckpt *cp;
	struct vf_hello hello;
	struct vf_error er;
	char why[128];
	int r;

	if (!d->hello) {
		if (h->type != VF_R_HELLO ||
		    vf_hello_decode(p, h->len, &hello)) {
			replica_failed(d, "first frame is not a valid HELLO");
			return;
		}
		if (hello.proto_version != VF_PROTO_VERSION) {
			replica_failed(d, "HELLO with an unsupported protocol version");
			return;
		}
		vf_info("replica HELLO: %.*s version %.*s", hello.impl_len,
			hello.impl, hello.ver_len, hello.ver);
		d->hello = true;
		return;
	}
	switch (h->type) {
	case VF_R_RESULT:
		r = vf_result_decode(p, h->len, &res);
		if (r) {
			replica_failed(d, vf_strerror(r));
			return;
		}
		if (res.order != d->exec_done + 1 || res.order > d->exec_sent) {
			snprintf(why, sizeof(why),
				 "RESULT for order %" PRIu64 ", expected %" PRIu64,
				 res.order, d->exec_done + 1);
			replica_failed(d, why);
			return;
		}
		d->exec_done = res.order;
		d->st.executed++;
		vote_add(d, res.order, res.data, res.len);
		if (d->ckpt_len)
			replica_pump(d);
		break;
	case VF_R_CHECKPOINT_DONE:
		r = vf_done_decode(p, h->len, &done);
		if (r) {
			replica_failed(d, vf_strerror(r));
			return;
		}
		cp = ckpt_head(d);
		if (!cp || !cp->sent || done.order != cp->order) {
			snprintf(why, sizeof(why),
				 "CHECKPOINT_DONE for order %" PRIu64 " that was not asked for",
				 done.order);
			replica_failed(d, why);
			return;
		}
		ckpt_finish(d, done.status);
		replica_pump(d);
		break;
	case VF_R_ERROR:
		if (vf_error_decode(p, h->len, &er)) {
			replica_failed(d, "malformed ERROR");
			return;
		}
		snprintf(why, sizeof(why), "it sent ERROR %u: %.*s", er.code,
			 er.msg_len > 80 ? 80 : er.msg_len, er.msg);
		replica_failed(d, why);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected %s frame",
			 vf_type_name(h->type));
		replica_failed(d, why);
		break;
	}
}

static void replica_input(struct vmfitd *d)
{
	struct vf_hdr h;
	size_t off = 0;
	ssize_t n;
	long fl;

	n = read(d->rep.fd, d->rin + d->rilen, REP_IN_CAP - d->rilen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			replica_failed(d, strerror(errno));
		return;
	}
	if (n == 0) {
		replica_failed(d, "it closed its channel");
		return;
	}
	d->rilen += n;
	while (!d->rep_failed) {
		fl = vf_frame_peek(d->rin + off, d->rilen - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl < 0) {
			replica_failed(d, vf_strerror(fl));
			return;
		}
		if (fl == 0) {
			if (d->rilen - off >= VF_HDR_LEN &&
			    VF_HDR_LEN + h.len > REP_IN_CAP)
				replica_failed(d, "frame too big");
			break;
		}
		replica_frame(d, &h, d->rin + off + VF_HDR_LEN);
		off += fl;
	}
	if (d->rep_failed)
		return;
	memmove(d->rin, d->rin + off, d->rilen - off);
	d->rilen -= off;
}

static void replica_output(struct vmfitd *d)
{
	ssize_t n;

	while (d->rout.len) {
		n = send(d->rep.fd, d->rout.buf, d->rout.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				replica_failed(d, strerror(errno));
			return;
		}
		vf_wb_consume(&d->rout, n);
	}
}

static void replica_reap(struct vmfitd *d)
{
	int status;

	if (!d->rep.running || d->be->reap(&d->rep, &status) != 1)
		return;
	if (WIFEXITED(status))
		vf_err("replica exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		vf_err("replica killed by signal %d", WTERMSIG(status));
	replica_failed(d, "it exited");
}

/*
 *------------------------------------------------------------------
 * The ordered stream
 *------------------------------------------------------------------
 */

static void out_of_sync(struct vmfitd *d, const char *why)
{
	if (!d->synced)
		return;
	vf_err("out of sync with the group (%s): this manager stops executing and voting until restarted with state transfer",
	       why);
	d->synced = false;
}

static void answer_waiter(struct vmfitd *d, uint64_t cid, uint64_t seq,
			  uint32_t status, const uint8_t *data, uint32_t len)
{
	struct conn *c = wait_find(d, cid);

	if (!c || c->seq != seq)
		return;
	wait_del(d, c);
	conn_reply(d, c, cid, seq, status, data, len);
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
	answer_waiter(d, m->cid, m->seq, VF_ST_UNAVAILABLE, NULL, 0);
}

/* One line per period for what the rate limiters held back. */
static void log_summaries(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	char nodes[SUSPECT_SLOTS * 48] = "";
	const struct suspect *sp;
	unsigned int i;
	size_t len = 0;
	uint64_t n;

	n = vf_ratelimit_flush(&d->suspect_rl, now, wake);
	if (n) {
		for (i = 0; i < SUSPECT_SLOTS; i++) {
			sp = &d->suspects[i];
			if (!sp->count || len >= sizeof(nodes))
				continue;
			len += snprintf(nodes + len, sizeof(nodes) - len,
					"%snode %u: %" PRIu64 " up to order %" PRIu64,
					len ? ", " : "", sp->node, sp->count,
					sp->last_order);
		}
		vf_warn("suspected faulty replica: %" PRIu64 " more lost votes not logged one by one (totals: %s)",
			n, nodes);
	}
	n = vf_ratelimit_flush(&d->expire_rl, now, wake);
	if (n)
		vf_err("%" PRIu64 " more orders left the vote window undecided",
		       n);
	n = vf_ratelimit_flush(&d->conn_rl, now, wake);
	if (n)
		vf_warn("%" PRIu64 " more clients dropped for not reading their output",
			n);
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
		answer_waiter(d, meta->cid, meta->seq, VF_ST_OK, dec.data,
			      dec.len);
	}
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

/*
 *------------------------------------------------------------------
 * Status
 *------------------------------------------------------------------
 */

static bool is_ready(const struct vmfitd *d)
{
	return d->lfd >= 0 && d->hello && vmfitd_available(d);
}

static void write_status(struct vmfitd *d)
{
	char tmp[VF_CONF_STR + 8];
	struct vf_voter_stats vs;
	unsigned int i;
	FILE *fp;

	if (!d->conf.status_file[0])
		return;
	vf_voter_stats(d->voter, &vs);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->conf.status_file);
	fp = fopen(tmp, "w");
	if (!fp) {
		vf_warn("status file %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(fp, "{\"pid\":%d,\"service\":\"%s\",\"node_id\":%u,\"ready\":%d,"
		"\"synced\":%d,\"unreplicated\":%d,\"cpg_connected\":%d,"
		"\"members\":%u,\"f\":%u,",
		(int)getpid(), d->conf.service, d->nodeid, is_ready(d),
		d->synced, d->local, d->local || d->cpg_ok, d->members,
		d->conf.f);
	fprintf(fp, "\"orders_delivered\":%" PRIu64 ",\"dup_requests\":%" PRIu64
		",\"executed\":%" PRIu64 ",\"decided\":%" PRIu64
		",\"expired\":%" PRIu64 ",\"suspects\":%" PRIu64
		",\"votes_late\":%" PRIu64 ",\"votes_dropped\":%" PRIu64 ",",
		d->st.delivered, d->st.dup_requests, d->st.executed,
		vs.decided, vs.expired, vs.suspects, vs.late, vs.dropped);
	fprintf(fp, "\"checkpoints\":%" PRIu64 ",\"checkpoints_done\":%" PRIu64
		",\"checkpoints_failed\":%" PRIu64 ",\"checkpoints_pending\":%u"
		",\"last_checkpoint_order\":%" PRIu64
		",\"last_checkpoint_status\":%u,\"held_bytes\":%zu,",
		d->st.checkpoints, d->st.ckpt_done, d->st.ckpt_failed,
		d->ckpt_len, d->st.ckpt_last_order, d->st.ckpt_last_status,
		d->rhold.len);
	fprintf(fp, "\"clients\":%u,\"pending\":%u,\"cache_entries\":%u,"
		"\"cache_evictions\":%" PRIu64 ",\"replies\":%" PRIu64
		",\"cache_replies\":%" PRIu64 ",\"busy\":%" PRIu64
		",\"unavailable\":%" PRIu64 ",\"bad_frames\":%" PRIu64
		",\"stuck_closed\":%" PRIu64 ",",
		d->nconns, d->npending, vf_rcache_count(d->rc),
		vf_rcache_evictions(d->rc), d->st.replies,
		d->st.cache_replies, d->st.busy, d->st.unavailable,
		d->st.bad_frames, d->st.stuck_closed);
	fprintf(fp, "\"cpg_sent\":%" PRIu64 ",\"cpg_recv\":%" PRIu64
		",\"cpg_try_again\":%" PRIu64 ",\"request_msgs\":%" PRIu64
		",\"requests_sent\":%" PRIu64 ",\"avg_batch\":%.2f"
		",\"votes_sent\":%" PRIu64 ",\"sendq\":%u,",
		d->st.msgs_sent, d->st.msgs_recv, d->st.try_again,
		d->st.req_msgs_sent, d->st.reqs_sent,
		d->st.req_msgs_sent ?
		(double)d->st.reqs_sent / d->st.req_msgs_sent : 0.0,
		d->st.votes_sent, d->sendq_len);
	fprintf(fp, "\"replica_pid\":%d,\"replica_ok\":%d,\"suspect_nodes\":\"",
		d->rep.running ? (int)d->rep.pid : 0,
		d->hello && !d->rep_failed);
	for (i = 0; i < SUSPECT_SLOTS; i++)
		if (d->suspects[i].count)
			fprintf(fp, "%s%u", i ? " " : "", d->suspects[i].node);
	fprintf(fp, "\"}\n");
	if (fclose(fp) || rename(tmp, d->conf.status_file))
		vf_warn("status file %s: %s", d->conf.status_file,
			strerror(errno));
}

/* vmfitd --status: the status file as key=value lines. */
static int print_status(const struct vf_conf *c)
{
	char buf[8192], *p, *k, *v, *save = NULL;
	long pid = 0;
	int alive;
	FILE *fp;
	size_t n;

	if (!c->status_file[0]) {
		fprintf(stderr, "vmfitd: no status_file configured\n");
		return 1;
	}
	fp = fopen(c->status_file, "r");
	if (!fp) {
		fprintf(stderr, "vmfitd: %s: %s\n", c->status_file,
			strerror(errno));
		return 1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strchr(buf, '{');
	if (!p || !strchr(p, '}')) {
		fprintf(stderr, "vmfitd: %s: not a status file\n",
			c->status_file);
		return 1;
	}
	*strchr(p, '}') = '\0';
	if (sscanf(strstr(p, "\"pid\":") ? strstr(p, "\"pid\":") + 6 : "0",
		   "%ld", &pid) != 1)
		pid = 0;
	alive = pid > 0 && kill(pid, 0) == 0;
	for (k = strtok_r(p + 1, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		v = strchr(k, ':');
		if (!v)
			continue;
		*v++ = '\0';
		if (*k == '"')
			k++;
		if (*k && k[strlen(k) - 1] == '"')
			k[strlen(k) - 1] = '\0';
		if (*v == '"')
			v++;
		if (*v && v[strlen(v) - 1] == '"')
			v[strlen(v) - 1] = '\0';
		if (!strcmp(k, "ready") && !alive)
			v = "0";
		printf("%s=%s\n", k, v);
	}
	printf("alive=%d\n", alive);
	return 0;
}

static void log_stats(struct vmfitd *d)
{
	struct vf_voter_stats vs;

	vf_voter_stats(d->voter, &vs);
	vf_info("stats: delivered %" PRIu64 " executed %" PRIu64 " decided %" PRIu64
		" suspects %" PRIu64 " clients %u pending %u; cpg msgs sent %" PRIu64
		" recv %" PRIu64 ", avg batch %.1f requests",
		d->st.delivered, d->st.executed, vs.decided, vs.suspects,
		d->nconns, d->npending, d->st.msgs_sent, d->st.msgs_recv,
		d->st.req_msgs_sent ?
		(double)d->st.reqs_sent / d->st.req_msgs_sent : 0.0);
}

/*
 *------------------------------------------------------------------
 * Main loop
 *------------------------------------------------------------------
 */

static int listen_clients(struct vmfitd *d)
{
	const struct sockaddr_in *sa = &d->conf.listen;
	int one = 1;
	char addr[INET_ADDRSTRLEN];

	d->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (d->lfd < 0)
		return -errno;
	setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr));
	if (bind(d->lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(d->lfd, 512) < 0) {
		int r = -errno;

		vf_err("cannot listen on %s:%u: %s", addr, ntohs(sa->sin_port),
		       strerror(-r));
		close(d->lfd);
		d->lfd = -1;
		return r;
	}
	vf_info("listening for clients on %s:%u", addr, ntohs(sa->sin_port));
	return 0;
}

static void reload_log_level(struct vmfitd *d)
{
	struct vf_conf c;
	char err[512];

	vf_conf_defaults(&c);
	if (vf_conf_load(&c, d->conf_path, err, sizeof(err))) {
		vf_err("SIGHUP: %s; keeping the old settings", err);
		return;
	}
	vf_log_set_level(c.log_level);
	vf_info("SIGHUP: log level %s", vf_log_level_name(c.log_level));
}

static int run(struct vmfitd *d)
{
	struct pollfd *pfd;
	struct conn **pconn;
	struct conn *c, *next;
	sigset_t empty;
	struct timespec to;
	uint64_t now, wake;
	unsigned int n, i, maxfds = CONN_MAX + 5 + CTL_MAX;
	int ret;

	pfd = calloc(maxfds, sizeof(*pfd));
	pconn = calloc(maxfds, sizeof(*pconn));
	if (!pfd || !pconn) {
		free(pfd);
		free(pconn);
		return -ENOMEM;
	}
	sigemptyset(&empty);
	while (!sig_term) {
		if (sig_hup) {
			sig_hup = 0;
			reload_log_level(d);
		}
		if (sig_chld) {
			sig_chld = 0;
			replica_reap(d);
		}
		group_tick(d);
		now = now_ms();
		wake = now + d->conf.status_interval_ms;
		ckpt_tick(d, now, &wake);
		ctl_tick(d, now, &wake);
		log_summaries(d, now, &wake);
		if (now >= d->next_status_ms) {
			write_status(d);
			d->next_status_ms = now + d->conf.status_interval_ms;
		}
		if (now >= d->next_stats_log_ms) {
			if (d->next_stats_log_ms)
				log_stats(d);
			d->next_stats_log_ms = now + 10000;
		}

		n = 0;
		pfd[n].fd = d->lfd;
		pfd[n].events = POLLIN;
		pconn[n++] = NULL;
		pfd[n].fd = d->cpg_ok ? d->cpg_fd : -1;
		pfd[n].events = POLLIN;
		pconn[n++] = NULL;
		pfd[n].fd = d->rep.running && !d->rep_failed ? d->rep.fd : -1;
		pfd[n].events = POLLIN | (d->rout.len ? POLLOUT : 0);
		pconn[n++] = NULL;
		pfd[n].fd = d->rep.running ? d->rep.exit_fd : -1;
		pfd[n].events = POLLIN;
		pconn[n++] = NULL;
		ctl_poll_fds(d, &pfd[n]);
		for (i = 0; i <= CTL_MAX; i++)
			pconn[n++] = NULL;
		for (c = d->conns.next; c != &d->conns && n < maxfds;
		     c = c->next) {
			pfd[n].fd = c->fd;
			pfd[n].events = (c->closing ? 0 : POLLIN) |
					(c->out.len ? POLLOUT : 0);
			pconn[n++] = c;
		}

		if (d->next_status_ms < wake)
			wake = d->next_status_ms;
		if (!d->local && !d->cpg_ok && d->reconnect_at_ms < wake)
			wake = d->reconnect_at_ms;
		if (d->sendq_len && d->retry_at_ms < wake)
			wake = d->retry_at_ms;
		now = now_ms();
		wake = wake > now ? wake - now : 0;
		to.tv_sec = wake / 1000;
		to.tv_nsec = (wake % 1000) * 1000000;
		ret = ppoll(pfd, n, &to, &empty);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			vf_err("ppoll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			group_dispatch(d);
		if (pfd[3].revents)
			replica_reap(d);
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
			replica_input(d);
		ctl_events(d, &pfd[4]);
		for (i = 5 + CTL_MAX; i < n; i++) {
			c = pconn[i];
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !c->dead && !c->closing)
				conn_input(d, c);
		}
		if (pfd[0].revents & POLLIN)
			accept_clients(d);
		/* Batch everything gathered in this round into one message
		 * per kind, then push out what is buffered. */
		group_flush(d);
		if (d->rep.running && !d->rep_failed && d->rout.len)
			replica_output(d);
		now = now_ms();
		for (c = d->conns.next; c != &d->conns; c = next) {
			next = c->next;
			if (!c->dead && (c->out.len || c->closing))
				conn_output(d, c, now);
			if (c->dead)
				conn_close(d, c);
		}
	}
	free(pfd);
	free(pconn);
	return 0;
}

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: vmfitd [OPTIONS]\n"
"\n"
"The vmfit replica manager: orders client requests with the other managers\n"
"(corosync CPG), executes them on the local replica and answers clients\n"
"with the reply f+1 replicas agree on.\n"
"\n"
"Options:\n"
"  -c, --config PATH    configuration file (default " VF_CONF_DEFAULT_PATH ")\n"
"  -f, --foreground     stay in the foreground, log to stderr\n"
"      --check-config   validate the configuration and exit\n"
"      --status         print the running daemon's status (key=value lines)\n"
"      --checkpoint     ask the running daemon for an ordered checkpoint and\n"
"                       wait for its local replica's result\n"
"      --timeout MS     --checkpoint: give up after MS ms (default 60000)\n"
"      --unreplicated   no corosync, no voting: hand requests straight to the\n"
"                       one local replica (benchmark baseline; f = 0)\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n"
"\n"
"Signals: SIGTERM/SIGINT shut down cleanly, SIGHUP re-reads the log level.\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage or configuration.\n"
"See vmfitd(8) and vmfitd.conf(5).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 'S' },
		{ "checkpoint", no_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "unreplicated", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool check = false, status = false, unrep = false, ckpt = false;
	unsigned long timeout_ms = 60000;
	char *end;
	struct vmfitd *d;
	struct sigaction sa;
	sigset_t block;
	char err[512];
	unsigned int i;
	int opt, r, rc = 1;

	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->conf_path = VF_CONF_DEFAULT_PATH;
	while ((opt = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'C':
			check = true;
			break;
		case 'S':
			status = true;
			break;
		case 'K':
			ckpt = true;
			break;
		case 'T':
			errno = 0;
			timeout_ms = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' ||
			    !timeout_ms || timeout_ms > 86400000) {
				fprintf(stderr, "vmfitd: --timeout: expected milliseconds (1..86400000), got '%s'\n",
					optarg);
				free(d);
				return 2;
			}
			break;
		case 'U':
			unrep = true;
			break;
		case 'h':
			usage(stdout);
			free(d);
			return 0;
		case 'V':
			printf("vmfitd %s\n", VMFITD_VERSION);
			free(d);
			return 0;
		default:
			usage(stderr);
			free(d);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vmfitd: unexpected argument '%s'\n",
			argv[optind]);
		free(d);
		return 2;
	}
	vf_conf_defaults(&d->conf);
	if (vf_conf_load(&d->conf, d->conf_path, err, sizeof(err))) {
		fprintf(stderr, "vmfitd: %s\n", err);
		free(d);
		return 2;
	}
	if (status + ckpt + check > 1) {
		fprintf(stderr, "vmfitd: --status, --checkpoint and --check-config exclude each other\n");
		free(d);
		return 2;
	}
	if (status) {
		rc = print_status(&d->conf);
		free(d);
		return rc;
	}
	if (ckpt) {
		rc = ctl_client_checkpoint(&d->conf, timeout_ms);
		free(d);
		return rc;
	}
	if (unrep) {
		d->conf.unreplicated = true;
		d->conf.f = 0;
	}
	d->local = d->conf.unreplicated;
	d->be = vf_backend_find(d->conf.backend);
	if (check) {
		printf("%s: OK (service %s, f %u, group %s)\n", d->conf_path,
		       d->conf.service, d->conf.f, d->conf.cpg_group);
		free(d);
		return 0;
	}

	vf_log_open("vmfitd", !d->foreground);
	vf_log_set_level(d->conf.log_level);
	if (!d->foreground && daemon(0, 0) < 0) {
		vf_err("daemon: %s", strerror(errno));
		goto out_free;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Delivered only inside ppoll(): no race with the flag checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);

	clock_gettime(CLOCK_MONOTONIC, &d->started);
	d->lfd = -1;
	d->ctl_lfd = -1;
	for (i = 0; i < CTL_MAX; i++)
		d->ctls[i].fd = -1;
	d->suspect_rl = (struct vf_ratelimit)VF_RATELIMIT_INIT(LOG_BURST,
								LOG_PERIOD_MS);
	d->expire_rl = d->suspect_rl;
	d->conn_rl = d->suspect_rl;
	d->rep.fd = -1;
	d->rep.exit_fd = -1;
	d->synced = true;
	d->conns.next = d->conns.prev = &d->conns;
	d->wait_mask = 1;
	while (d->wait_mask < 2 * d->conf.max_outstanding)
		d->wait_mask <<= 1;
	d->wait_tab = calloc(d->wait_mask, sizeof(*d->wait_tab));
	d->wait_mask--;
	d->rc = vf_rcache_new(d->conf.max_clients);
	d->voter = vf_voter_new(d->conf.f, d->conf.vote_window, &voter_ops, d);
	d->meta = calloc(d->conf.vote_window, sizeof(*d->meta));
	d->rin = malloc(REP_IN_CAP);
	if (!d->wait_tab || !d->rc || !d->voter || !d->meta || !d->rin) {
		vf_err("out of memory");
		goto out_free;
	}
	vf_info("vmfitd %s: service %s, f = %u, %s", VMFITD_VERSION,
		d->conf.service, d->conf.f,
		d->local ? "unreplicated (no corosync, no voting)" :
			   d->conf.cpg_group);

	r = replica_start(d);
	if (r)
		goto out_free;
	r = listen_clients(d);
	if (r)
		goto out_replica;
	r = ctl_init(d);
	if (r)
		goto out_listen;
	group_init(d);
	rc = run(d) ? 1 : 0;
	vf_info("shutting down");
	group_fini(d);
	ctl_fini(d);
	while (d->conns.next != &d->conns)
		conn_close(d, d->conns.next);
	if (d->conf.status_file[0])
		unlink(d->conf.status_file);
out_listen:
	close(d->lfd);
out_replica:
	if (d->rep.running)
		d->be->stop(&d->rep, 2000);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
out_free:
	vf_rcache_free(d->rc);
	vf_voter_free(d->voter);
	free(d->meta);
	free(d->rin);
	free(d->wait_tab);
	vf_log_close();
	free(d);
	return rc;
}
