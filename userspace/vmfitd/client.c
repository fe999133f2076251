// SPDX-License-Identifier: GPL-2.0-only
/*
 * client.c - the client endpoint: the TCP listener, client connections
 * (REQUEST in, REPLY or ERROR out) and the table of clients waiting for
 * the reply to their one outstanding request. New requests go to the
 * group (group_add_request); decided replies come back through
 * client_answer(). See Documentation/protocol.rst (client protocol).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf_log.h"
#include "vf_session.h"
#include "vmfitd.h"

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
 * Connections per source address (max_conns_per_source)
 *------------------------------------------------------------------
 */

static struct src **src_slot(struct vmfitd *d, uint32_t addr)
{
	uint32_t h = addr * 0x9e3779b1u;
	struct src **pp;

	for (pp = &d->src_tab[(h >> 16) % SRC_BUCKETS]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->addr == addr)
			break;
	return pp;
}

/* Count a new connection from @addr; NULL: out of memory. */
static struct src *src_get(struct vmfitd *d, uint32_t addr)
{
	struct src **pp = src_slot(d, addr);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return NULL;
		(*pp)->addr = addr;
	}
	(*pp)->n++;
	return *pp;
}

static void src_put(struct vmfitd *d, struct src *s)
{
	struct src **pp;

	if (!s || --s->n)
		return;
	pp = src_slot(d, s->addr);
	*pp = s->next;
	free(s);
}

static unsigned int src_count(struct vmfitd *d, uint32_t addr)
{
	struct src *s = *src_slot(d, addr);

	return s ? s->n : 0;
}

/*
 *------------------------------------------------------------------
 * Client connections
 *------------------------------------------------------------------
 *
 * The main loop polls three descriptors of this part, whatever the number
 * of connections: the listener and two epoll sets. Open connections are
 * in the input set (EPOLLIN, level-triggered), so a round costs only the
 * connections that are ready. A connection whose output is blocked, or
 * that is closing, is parked in the output set (EPOLLOUT, edge-triggered:
 * woken when the kernel takes more). The work of a round is queued on
 * lists (flush_conns, held_conns) instead of found by scanning, and the
 * time-outs are two lists in deadline order (hs_conns by accept time,
 * idle_conns by last activity), checked from their heads.
 */

/* Put @c in (@on) or out of the epoll set @epfd; @watched says where. */
static int conn_watch(struct conn *c, int epfd, bool *watched, bool on,
		      uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (*watched == on)
		return 0;
	if (epoll_ctl(epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->fd,
		      &ev) < 0)
		return -errno;
	*watched = on;
	return 0;
}

static int conn_watch_in(struct vmfitd *d, struct conn *c, bool on)
{
	return conn_watch(c, d->in_epfd, &c->in_watched, on, EPOLLIN);
}

/* Peer shutdowns wake a closing connection too (it closes at once). */
static int conn_watch_out(struct vmfitd *d, struct conn *c, bool on)
{
	return conn_watch(c, d->out_epfd, &c->out_watched, on,
			  EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

/* Flush (or free, if dead) @c at the end of this round: client_flush. */
static void conn_queue(struct vmfitd *d, struct conn *c)
{
	if (!vf_list_linked(&c->flush))
		vf_list_move_tail(&c->flush, &d->flush_conns);
}

/* Input or a reply: the idle time-out of a greeted client starts over. */
static void conn_activity(struct vmfitd *d, struct conn *c, uint64_t now)
{
	c->active_ms = now;
	if (c->greeted && !c->closing && !c->dead)
		vf_list_move_tail(&c->tmo, &d->idle_conns);
}

/*
 * Unlink and free @c, but leave its descriptor open for the caller to
 * close (reset, or say goodbye). Out of the epoll sets first: a child
 * forked meanwhile may hold the socket, and then close() alone would
 * leave it in them.
 */
static void conn_release(struct vmfitd *d, struct conn *c)
{
	wait_del(d, c);
	conn_watch_in(d, c, false);
	conn_watch_out(d, c, false);
	vf_list_del(&c->all);
	vf_list_del(&c->tmo);
	vf_list_del(&c->held);
	vf_list_del(&c->park);
	vf_list_del(&c->flush);
	src_put(d, c->src);
	vf_wb_free(&c->out);
	free(c->in);
	free(c);
	d->nconns--;
}

/*
 * Say why on a connection that is about to be closed (refused, evicted):
 * one small ERROR frame, written only if the socket takes it at once, then
 * an orderly close. The client sees a reason instead of a reset.
 */
static void conn_goodbye(int fd, uint32_t code, const char *why)
{
	struct vf_wbuf wb;

	vf_wb_init(&wb, VF_HDR_LEN + 256);
	if (!vf_error_encode(&wb, VF_MAGIC_CLIENT, code, why))
		vf_wb_send(fd, &wb, SIZE_MAX);
	vf_wb_free(&wb);
	close(fd);
}

/* Free a connection; only at the end of a loop round (see conn_kill). */
static void conn_close(struct vmfitd *d, struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = c->fd;

	/* Output the client never read: reset instead of leaving the kernel
	 * to retransmit it into a zero window. */
	if (vf_wb_pending(&c->out) || c->reset)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_release(d, c);
	close(fd);
}

/* Mark a connection dead: it is freed by the flush at the end of the round. */
static void conn_kill(struct vmfitd *d, struct conn *c)
{
	wait_del(d, c);
	c->dead = true;
	vf_list_del(&c->tmo);
	vf_list_del(&c->held);
	conn_queue(d, c);
}

/*
 * Queue a last ERROR frame (@code, @why) and close once it is out: no more
 * input, no more time-outs; client_flush parks it until the kernel has
 * sent everything or CONN_LINGER_MS passed.
 */
static void conn_closing(struct vmfitd *d, struct conn *c, uint32_t code,
			 const char *why)
{
	vf_error_encode(&c->out, VF_MAGIC_CLIENT, code, why);
	c->closing = true;
	c->ilen = 0;
	conn_watch_in(d, c, false);
	vf_list_del(&c->tmo);
	vf_list_del(&c->held);
	conn_queue(d, c);
}

static void conn_error(struct vmfitd *d, struct conn *c, int r,
		       const char *what)
{
	int code = vf_err_code(r) ? vf_err_code(r) : VF_ERR_MALFORMED;
	char msg[160];

	d->st.bad_frames++;
	snprintf(msg, sizeof(msg), "%s: %s", what, vf_strerror(r));
	vf_dbg("client fd %d: %s; closing", c->fd, msg);
	conn_closing(d, c, code, msg);
}

static void conn_reply(struct vmfitd *d, struct conn *c, uint64_t cid,
		       uint64_t seq, uint32_t status, const uint8_t *data,
		       uint32_t len)
{
	struct vf_reply rep = {
		.client_id = cid, .seq = seq, .status = status,
		.len = len, .data = data, .version = c->version,
	};

	conn_activity(d, c, now_ms());
	if (vf_reply_encode(&c->out, &rep)) {
		/* Output bound passed: the client does not read. */
		if (vf_ratelimit(&d->conn_rl, now_ms()))
			vf_warn("client fd %d does not read its replies; disconnecting",
				c->fd);
		conn_kill(d, c);
		return;
	}
	conn_queue(d, c);
	d->st.replies++;
	if (status == VF_ST_BUSY)
		d->st.busy++;
	else if (status == VF_ST_UNAVAILABLE)
		d->st.unavailable++;
	else if (status == VF_ST_NOT_PRIMARY)
		d->st.not_primary++;
}

/* A request refused without execution: ERROR VF_ERR_STALE, then close. */
static void conn_refuse(struct vmfitd *d, struct conn *c, const char *why)
{
	d->st.stale_refused++;
	conn_error(d, c, -VF_E(VF_ERR_STALE), why);
}

static void handle_request(struct vmfitd *d, struct conn *c,
			   const struct vf_request *m)
{
	struct vf_rc_entry *e;
	char msg[160];

	if (c->waiting) {
		/* One outstanding request per client (connection). */
		conn_reply(d, c, m->client_id, m->seq, VF_ST_BUSY, NULL, 0);
		return;
	}
	if (!vmfitd_available(d)) {
		conn_reply(d, c, m->client_id, m->seq, vmfitd_refusal(d),
			   NULL, 0);
		return;
	}
	e = vf_rcache_get(d->rc, m->client_id);
	if (e && m->seq < e->seq) {
		/* The cache holds the last reply only: an older request
		 * can be neither answered nor executed again. */
		snprintf(msg, sizeof(msg),
			 "seq %" PRIu64 " is older than this client_id's last seq %" PRIu64 ": not executed",
			 m->seq, e->seq);
		conn_refuse(d, c, msg);
		return;
	}
	if (!e && vf_rcache_evicted(d->rc, m->client_id)) {
		conn_refuse(d, c, VMFITD_EVICTED_MSG);
		return;
	}
	if (e && m->seq == e->seq) {
		if (e->decided) {
			d->st.cache_replies++;
			conn_reply(d, c, e->client_id, e->seq, e->status,
				   e->data, e->len);
		} else if (e->expired) {
			/* Not final: the answer of a retry is the same. */
			conn_reply(d, c, e->client_id, e->seq,
				   VF_ST_UNAVAILABLE, NULL, 0);
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
	group_add_request(d, m);
}

/*
 *------------------------------------------------------------------
 * Back-pressure
 *------------------------------------------------------------------
 */

/*
 * Requests pile up behind a checkpoint or a slow replica, or this
 * manager's own requests are not yet back from the group: stop taking
 * requests from clients (their bytes stay in the kernel; TCP slows the
 * senders down) instead of queueing without bound and declaring the
 * replica faulty for the load. Every manager stops at the same backlog
 * (every one holds at the same checkpoint), and each has at most
 * max_outstanding requests in the group, so the orders in flight are
 * bounded everywhere: the configuration checks that (2f+1) x
 * max_outstanding fits in half of replica_lag_max (vf_conf.c).
 */
static bool client_paused(const struct vmfitd *d)
{
	if (!vmfitd_available(d))
		return false;	/* requests get UNAVAILABLE at once */
	if (d->own_reqs + d->req_count >= d->conf.max_outstanding ||
	    d->own_bytes + vf_wb_pending(&d->req_batch) >= OWN_INFLIGHT_BYTES)
		return true;
	if (d->rep_failed || !d->rep.running)
		return false;
	return d->last_order - d->exec_done >= d->conf.replica_lag_max / 2 ||
	       vf_wb_pending(&d->rhold) + vf_wb_pending(&d->rout) >=
	       EXEC_QUEUE_HIGH;
}

/* Handle the complete frames in @c's input, as far as back-pressure lets. */
static void conn_parse(struct vmfitd *d, struct conn *c)
{
	struct vf_request m;
	struct vf_hdr h;
	size_t off = 0;
	long fl;
	int r;

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
		if (client_paused(d)) {
			/* Kept until the backlog drains (client_events). */
			if (!vf_list_linked(&c->held))
				vf_list_move_tail(&c->held, &d->held_conns);
			break;
		}
		r = vf_request_decode(c->in + off + VF_HDR_LEN, h.len,
				      h.version, &m);
		if (r) {
			conn_error(d, c, r, "REQUEST");
			return;
		}
		/* Sessions (protocol.rst): only the holder of a client_id's
		 * key may send under it. */
		if (!m.key && !d->conf.legacy_clients) {
			conn_error(d, c, -VF_E(VF_ERR_VERSION),
				   "client protocol version 3 (sessions) required; this manager refuses client ids without a session key");
			return;
		}
		if (m.key && !vf_session_check(&m)) {
			conn_error(d, c, -VF_E(VF_ERR_AUTH), "REQUEST");
			return;
		}
		if (!c->greeted) {
			c->greeted = true;
			vf_list_move_tail(&c->tmo, &d->idle_conns);
		}
		/* Answer in the version the client speaks (protocol.rst). */
		c->version = h.version;
		handle_request(d, c, &m);
		/* Refused (conn_error() dropped its input) or cut off:
		 * nothing left to move. */
		if (c->closing || c->dead)
			return;
		off += fl;
	}
	if (off) {
		memmove(c->in, c->in + off, c->ilen - off);
		c->ilen -= off;
	}
}

static void conn_input(struct vmfitd *d, struct conn *c)
{
	ssize_t n;

	/* Full of frames held back by back-pressure: read nothing more. */
	if (c->ilen == CONN_IN_CAP)
		return;
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
	conn_activity(d, c, now_ms());
	conn_parse(d, c);
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
	uint64_t limit;
	ssize_t n;
	int queued;

	n = vf_wb_send(c->fd, &c->out, SIZE_MAX);
	if (n < 0) {
		conn_kill(d, c);
		return;
	}
	if (vf_wb_pending(&c->out))
		goto stalled;
	if (!c->closing) {
		c->stall_ms = 0;
		return;
	}
	if (ioctl(c->fd, SIOCOUTQ, &queued) < 0 || queued <= 0) {
		conn_kill(d, c);
		return;
	}
stalled:
	if (n > 0 || !c->stall_ms)
		c->stall_ms = now;
	limit = c->closing ? CONN_LINGER_MS : CONN_STALL_MS;
	if (now - c->stall_ms < limit)
		return;
	d->st.stuck_closed++;
	if (vf_ratelimit(&d->conn_rl, now))
		vf_warn("client fd %d%s did not read its output (%zu bytes queued here) in %" PRIu64 " ms; resetting it",
			c->fd, c->closing ? " (closing)" : "",
			vf_wb_pending(&c->out), limit);
	c->reset = true;
	conn_kill(d, c);
}

static void refuse(struct vmfitd *d, int fd, uint32_t addr, const char *why)
{
	char a[INET_ADDRSTRLEN];

	d->st.conns_refused++;
	if (vf_ratelimit(&d->refuse_rl, now_ms()))
		vf_warn("refusing a client connection from %s: %s",
			inet_ntop(AF_INET, &addr, a, sizeof(a)), why);
	conn_goodbye(fd, VF_ERR_BUSY, why);
}

/*
 * At the connection cap, a newcomer takes the slot of the oldest
 * connection that has not sent a complete request yet (the head of
 * hs_conns): connections that only hold a slot cannot lock real clients
 * out, and a client that has completed a request is never closed for
 * somebody else.
 */
static bool evict_one(struct vmfitd *d)
{
	struct conn *c;
	int fd;

	if (vf_list_empty(&d->hs_conns))
		return false;
	c = vf_list_entry(d->hs_conns.next, struct conn, tmo);
	d->st.conns_evicted++;
	if (vf_ratelimit(&d->refuse_rl, now_ms()))
		vf_warn("%u client connections (the cap): closing fd %d, which sent no request in %" PRIu64 " ms, for a newcomer",
			d->nconns, c->fd, now_ms() - c->since_ms);
	fd = c->fd;
	conn_release(d, c);
	conn_goodbye(fd, VF_ERR_BUSY,
		     "connection limit reached; closing the oldest connection without a request");
	return true;
}

/*
 * Out of descriptors despite the cap (another part of the daemon, or the
 * system-wide limit): the pending connection would keep the listener
 * readable forever. Give up the spare descriptor to take it and close it.
 */
static void refuse_no_fd(struct vmfitd *d, int err)
{
	int fd;

	d->st.conns_refused++;
	if (vf_ratelimit(&d->refuse_rl, now_ms()))
		vf_warn("accept: %s; refusing a client connection",
			strerror(err));
	if (d->spare_fd >= 0)
		close(d->spare_fd);
	fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		conn_goodbye(fd, VF_ERR_BUSY, "server out of descriptors");
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* A connection for @fd from @addr, watched for input; NULL: no memory. */
static struct conn *conn_new(struct vmfitd *d, int fd, uint32_t addr)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	vf_list_init(&c->all);
	vf_list_init(&c->tmo);
	vf_list_init(&c->held);
	vf_list_init(&c->park);
	vf_list_init(&c->flush);
	c->in = malloc(CONN_IN_CAP);
	if (!c->in)
		goto out_free;
	c->src = src_get(d, addr);
	if (!c->src)
		goto out_in;
	if (conn_watch_in(d, c, true))
		goto out_src;
	c->since_ms = c->active_ms = now_ms();
	vf_wb_init(&c->out, CONN_OUT_LIMIT);
	vf_list_move_tail(&c->all, &d->conns);
	vf_list_move_tail(&c->tmo, &d->hs_conns);
	d->nconns++;
	return c;

out_src:
	src_put(d, c->src);
out_in:
	free(c->in);
out_free:
	free(c);
	return NULL;
}

static void accept_clients(struct vmfitd *d)
{
	int fd, one = 1, sndbuf = CONN_SNDBUF;
	struct sockaddr_in sa;
	socklen_t alen;
	unsigned int i;
	uint32_t addr;

	for (i = 0; i < CONN_ACCEPT_BURST; i++) {
		alen = sizeof(sa);
		fd = accept4(d->lfd, (struct sockaddr *)&sa, &alen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				refuse_no_fd(d, errno);
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		addr = sa.sin_addr.s_addr;
		if (src_count(d, addr) >= d->conf.max_conns_per_source) {
			refuse(d, fd, addr,
			       "too many connections from this address");
			continue;
		}
		if (d->nconns >= d->conn_max && !evict_one(d)) {
			refuse(d, fd, addr, "too many client connections");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* A fixed kernel send buffer (no autotuning up to 4 MiB): what a
		 * client that stops reading can pin is bounded and known. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (!conn_new(d, fd, addr))
			refuse(d, fd, addr, "out of memory");
	}
}

/* Time @c out: it is told @why, then closed. */
static void conn_timeout(struct vmfitd *d, struct conn *c, uint64_t now,
			 const char *why)
{
	d->st.conns_timed_out++;
	if (vf_ratelimit(&d->tmo_rl, now))
		vf_info("client fd %d: %s; closing", c->fd, why);
	conn_closing(d, c, VF_ERR_BUSY, why);
}

/* The time-out of @since on a list: not before the last pause ended. */
static uint64_t tmo_deadline(const struct vmfitd *d, uint64_t since,
			     uint64_t tmo)
{
	return (since > d->tmo_base_ms ? since : d->tmo_base_ms) + tmo;
}

/* Queue every parked connection of @list every @period ms for a retry. */
static void park_scan(struct vmfitd *d, struct vf_list *list,
		      uint64_t *next, unsigned int period, uint64_t now,
		      uint64_t *wake)
{
	struct vf_list *l;

	if (vf_list_empty(list))
		return;
	if (now >= *next) {
		*next = now + period;
		for (l = list->next; l != list; l = l->next)
			conn_queue(d, vf_list_entry(l, struct conn, park));
	}
	if (*next < *wake)
		*wake = *next;
}

/*
 * Parked output is retried on the output set's events and here: closing
 * connections every CONN_DRAIN_MS (nothing wakes us when the kernel has
 * sent everything), blocked ones every CONN_SCAN_MS (their stall limit).
 * Handshake time-out: a connection must complete its first request in
 * handshake_timeout_ms (it is told why). Idle time-out: a client that has
 * nothing outstanding and sends nothing for idle_timeout_ms is closed.
 * Both lists are in deadline order: only their heads are looked at.
 */
void client_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	uint64_t hs = d->conf.handshake_timeout_ms;
	uint64_t idle = d->conf.idle_timeout_ms;
	uint64_t t;
	struct conn *c;

	park_scan(d, &d->draining_conns, &d->next_drain_scan_ms,
		  CONN_DRAIN_MS, now, wake);
	park_scan(d, &d->stalled_conns, &d->next_stall_scan_ms,
		  CONN_SCAN_MS, now, wake);
	/* Paused clients are not late: no time-outs while paused. */
	if (d->paused)
		return;
	while (!vf_list_empty(&d->hs_conns)) {
		c = vf_list_entry(d->hs_conns.next, struct conn, tmo);
		t = tmo_deadline(d, c->since_ms, hs);
		if (now < t) {
			if (t < *wake)
				*wake = t;
			break;
		}
		conn_timeout(d, c, now,
			     "no request within the handshake time-out");
	}
	while (idle && !vf_list_empty(&d->idle_conns)) {
		c = vf_list_entry(d->idle_conns.next, struct conn, tmo);
		t = tmo_deadline(d, c->active_ms, idle);
		if (now < t) {
			if (t < *wake)
				*wake = t;
			break;
		}
		if (c->waiting || vf_wb_pending(&c->out))
			/* Not idle: its idle time counts from its reply
			 * (conn_reply) or, at the latest, from now. */
			conn_activity(d, c, now);
		else
			conn_timeout(d, c, now, "idle time-out");
	}
}

/*
 * vmfitd keeps CONN_FD_RESERVE descriptors for itself (listener, control
 * socket, corosync, replica channel, epoll sets, status file, log); the
 * rest, up to CONN_MAX, may be client connections: past RLIMIT_NOFILE,
 * accept() would fail and the other parts could open nothing.
 */
int client_limits(struct vmfitd *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < CONN_FD_RESERVE + 16) {
		vf_err("RLIMIT_NOFILE is %lu: vmfitd needs at least %u descriptors",
		       (unsigned long)rl.rlim_cur, CONN_FD_RESERVE + 16);
		return -EMFILE;
	}
	d->conn_max = rl.rlim_cur - CONN_FD_RESERVE < CONN_MAX ?
		      rl.rlim_cur - CONN_FD_RESERVE : CONN_MAX;
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	vf_info("client connections: at most %u (RLIMIT_NOFILE %lu), %u per source address",
		d->conn_max, (unsigned long)rl.rlim_cur,
		d->conf.max_conns_per_source);
	return 0;
}

int client_listen(struct vmfitd *d)
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

/* Each allocates what it can; client_free() frees what was allocated. */
int client_init(struct vmfitd *d)
{
	d->lfd = -1;
	d->spare_fd = -1;
	vf_list_init(&d->conns);
	vf_list_init(&d->hs_conns);
	vf_list_init(&d->idle_conns);
	vf_list_init(&d->held_conns);
	vf_list_init(&d->stalled_conns);
	vf_list_init(&d->draining_conns);
	vf_list_init(&d->flush_conns);
	d->in_epfd = epoll_create1(EPOLL_CLOEXEC);
	d->out_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->in_epfd < 0 || d->out_epfd < 0) {
		vf_err("epoll_create1: %s", strerror(errno));
		return -errno;
	}
	d->wait_mask = 1;
	while (d->wait_mask < 2 * d->conf.max_outstanding)
		d->wait_mask <<= 1;
	d->wait_tab = calloc(d->wait_mask, sizeof(*d->wait_tab));
	d->wait_mask--;
	d->src_tab = calloc(SRC_BUCKETS, sizeof(*d->src_tab));
	return d->wait_tab && d->src_tab ? 0 : -ENOMEM;
}

/* Close every connection and the listener. */
void client_fini(struct vmfitd *d)
{
	while (!vf_list_empty(&d->conns))
		conn_close(d, vf_list_entry(d->conns.next, struct conn, all));
	if (d->lfd >= 0)
		close(d->lfd);
	d->lfd = -1;
	if (d->spare_fd >= 0)
		close(d->spare_fd);
	d->spare_fd = -1;
}

void client_free(struct vmfitd *d)
{
	if (d->in_epfd >= 0)
		close(d->in_epfd);
	if (d->out_epfd >= 0)
		close(d->out_epfd);
	free(d->wait_tab);
	free(d->src_tab);
}

/* The group refused (@cid, @seq) without executing it (@why). */
void client_refuse(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   const char *why)
{
	struct conn *c = wait_find(d, cid);

	if (!c || c->seq != seq)
		return;
	wait_del(d, c);
	conn_refuse(d, c, why);
}

/* Answer the local client waiting for (@cid, @seq), if it is still here. */
void client_answer(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   uint32_t status, const uint8_t *data, uint32_t len)
{
	struct conn *c = wait_find(d, cid);

	if (!c || c->seq != seq)
		return;
	wait_del(d, c);
	conn_reply(d, c, cid, seq, status, data, len);
}

void client_refuse_all(struct vmfitd *d, uint32_t status)
{
	struct vf_list *l;
	struct conn *c;

	for (l = d->conns.next; l != &d->conns; l = l->next) {
		c = vf_list_entry(l, struct conn, all);
		if (!c->waiting || c->dead)
			continue;
		wait_del(d, c);
		conn_reply(d, c, c->cid, c->seq, status, NULL, 0);
	}
}

/*
 * While paused the input set is not polled (its connections stay
 * readable: level-triggered, they are seen again afterwards); the output
 * set always is.
 */
unsigned int client_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	bool paused = client_paused(d);

	if (paused != d->paused) {
		d->paused = paused;
		if (paused) {
			d->st.client_pauses++;
			if (vf_ratelimit(&d->pause_rl, now_ms()))
				vf_info("back-pressure: not reading from clients (%" PRIu64 " orders and %zu bytes queued for the replica, %" PRIu64 " own requests in the group)",
					d->last_order - d->exec_done,
					vf_wb_pending(&d->rhold) +
					vf_wb_pending(&d->rout),
					d->own_reqs);
		} else {
			/* The time-outs start over for everyone. */
			d->tmo_base_ms = now_ms();
		}
	}
	pfd[0].fd = d->lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = d->in_epfd;
	pfd[1].events = paused ? 0 : POLLIN;
	pfd[2].fd = d->out_epfd;
	pfd[2].events = POLLIN;
	return CLIENT_POLL_FDS;
}

/* The ready connections of the set @epfd, at most CONN_EVENTS_BATCH. */
static int ready_conns(struct vmfitd *d, int epfd, struct epoll_event *ev)
{
	int n = epoll_wait(epfd, ev, CONN_EVENTS_BATCH, 0);

	if (n < 0 && errno != EINTR && vf_ratelimit(&d->conn_rl, now_ms()))
		vf_warn("epoll_wait: %s", strerror(errno));
	return n;
}

void client_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct epoll_event ev[CONN_EVENTS_BATCH];
	struct conn *c;
	int i, n;

	/* Frames held back while paused: handle them now that it is over
	 * (conn_parse puts a connection back if it pauses again). */
	while (!vf_list_empty(&d->held_conns) && !client_paused(d)) {
		c = vf_list_entry(d->held_conns.next, struct conn, held);
		vf_list_del(&c->held);
		conn_parse(d, c);
	}
	/* Output can go on, or a closing client went away: flush them. */
	if (pfd[2].revents & POLLIN) {
		n = ready_conns(d, d->out_epfd, ev);
		for (i = 0; i < n; i++)
			conn_queue(d, ev[i].data.ptr);
	}
	if (pfd[1].revents & POLLIN) {
		n = ready_conns(d, d->in_epfd, ev);
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			if (!c->dead && !c->closing)
				conn_input(d, c);
		}
	}
	/* Last: an eviction frees a connection at once. */
	if (pfd[0].revents & POLLIN)
		accept_clients(d);
}

/*
 * Park @c after a flush: in the output set (and on the list its
 * retries come from) while it has output or is closing; out of it once
 * its output is gone.
 */
static void conn_park(struct vmfitd *d, struct conn *c)
{
	if (!vf_wb_pending(&c->out) && !c->closing) {
		vf_list_del(&c->park);
		conn_watch_out(d, c, false);
		return;
	}
	vf_list_move_tail(&c->park, c->closing ? &d->draining_conns :
						 &d->stalled_conns);
	/* Without the set, the scans of client_tick still retry it. */
	conn_watch_out(d, c, true);
}

/* End of a loop round: push out replies, free dead connections. */
void client_flush(struct vmfitd *d)
{
	uint64_t now = now_ms();
	struct conn *c;

	while (!vf_list_empty(&d->flush_conns)) {
		c = vf_list_entry(d->flush_conns.next, struct conn, flush);
		vf_list_del(&c->flush);
		if (!c->dead && (vf_wb_pending(&c->out) || c->closing))
			conn_output(d, c, now);
		if (c->dead)
			conn_close(d, c);
		else
			conn_park(d, c);
	}
}
