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
 */

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
		(void)!send(fd, wb.buf, wb.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	vf_wb_free(&wb);
	close(fd);
}

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
	src_put(d, c->src);
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
		.len = len, .data = data, .version = c->version,
	};

	c->active_ms = now_ms();
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
	    d->own_bytes + d->req_batch.len >= OWN_INFLIGHT_BYTES)
		return true;
	if (d->rep_failed || !d->rep.running)
		return false;
	return d->last_order - d->exec_done >= d->conf.replica_lag_max / 2 ||
	       d->rhold.len + d->rout.len >= EXEC_QUEUE_HIGH;
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
			d->input_held = true;
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
		c->greeted = true;
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
	c->active_ms = now_ms();
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
 * connection that has not sent a complete request yet: connections that
 * only hold a slot cannot lock real clients out, and a client that has
 * completed a request is never closed for somebody else.
 */
static bool evict_one(struct vmfitd *d)
{
	struct conn *c;

	for (c = d->conns.prev; c != &d->conns; c = c->prev) {
		if (c->greeted || c->dead || c->closing)
			continue;
		d->st.conns_evicted++;
		if (vf_ratelimit(&d->refuse_rl, now_ms()))
			vf_warn("%u client connections (the cap): closing fd %d, which sent no request in %" PRIu64 " ms, for a newcomer",
				d->nconns, c->fd, now_ms() - c->since_ms);
		wait_del(d, c);
		conn_goodbye(c->fd, VF_ERR_BUSY,
			     "connection limit reached; closing the oldest connection without a request");
		c->fd = -1;
		c->prev->next = c->next;
		c->next->prev = c->prev;
		src_put(d, c->src);
		vf_wb_free(&c->out);
		free(c->in);
		free(c);
		d->nconns--;
		return true;
	}
	return false;
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

static void accept_clients(struct vmfitd *d)
{
	int fd, one = 1, sndbuf = CONN_SNDBUF;
	struct sockaddr_in sa;
	socklen_t alen;
	unsigned int i;
	struct conn *c;
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
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(CONN_IN_CAP);
		if (c && c->in)
			c->src = src_get(d, addr);
		if (!c || !c->in || !c->src) {
			if (c)
				free(c->in);
			free(c);
			refuse(d, fd, addr, "out of memory");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* A fixed kernel send buffer (no autotuning up to 4 MiB): what a
		 * client that stops reading can pin is bounded and known. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->fd = fd;
		c->since_ms = c->active_ms = now_ms();
		vf_wb_init(&c->out, CONN_OUT_LIMIT);
		c->next = d->conns.next;
		c->prev = &d->conns;
		d->conns.next->prev = c;
		d->conns.next = c;
		d->nconns++;
	}
}

/*
 * Handshake time-out: a connection must complete its first request in
 * handshake_timeout_ms (it is told why). Idle time-out: a client that has
 * nothing outstanding and sends nothing for idle_timeout_ms is closed.
 */
void client_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct conn *c;
	const char *why;

	if (!d->nconns)
		return;
	/* Paused clients are not late: no time-outs while paused. */
	if (d->paused)
		return;
	if (now >= d->next_conn_scan_ms) {
		d->next_conn_scan_ms = now + CONN_SCAN_MS;
		for (c = d->conns.next; c != &d->conns; c = c->next) {
			if (c->dead || c->closing)
				continue;
			if (!c->greeted &&
			    now - c->since_ms >= d->conf.handshake_timeout_ms)
				why = "no request within the handshake time-out";
			else if (c->greeted && !c->waiting && !c->out.len &&
				 d->conf.idle_timeout_ms &&
				 now - c->active_ms >= d->conf.idle_timeout_ms)
				why = "idle time-out";
			else
				continue;
			d->st.conns_timed_out++;
			if (vf_ratelimit(&d->tmo_rl, now))
				vf_info("client fd %d: %s; closing", c->fd,
					why);
			vf_error_encode(&c->out, VF_MAGIC_CLIENT,
					VF_ERR_BUSY, why);
			c->closing = true;
			c->ilen = 0;
		}
	}
	if (d->next_conn_scan_ms < *wake)
		*wake = d->next_conn_scan_ms;
}

/*
 * vmfitd keeps CONN_FD_RESERVE descriptors for itself (listener, control
 * socket, corosync, replica channel, status file, log); the rest, up to
 * CONN_MAX, may be client connections. ppoll() refuses more descriptors
 * than RLIMIT_NOFILE, so the cap is what keeps the event loop alive.
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

int client_init(struct vmfitd *d)
{
	d->lfd = -1;
	d->spare_fd = -1;
	d->conns.next = d->conns.prev = &d->conns;
	d->wait_mask = 1;
	while (d->wait_mask < 2 * d->conf.max_outstanding)
		d->wait_mask <<= 1;
	d->wait_tab = calloc(d->wait_mask, sizeof(*d->wait_tab));
	d->wait_mask--;
	d->poll_conns = calloc(CONN_MAX, sizeof(*d->poll_conns));
	d->src_tab = calloc(SRC_BUCKETS, sizeof(*d->src_tab));
	return d->wait_tab && d->poll_conns && d->src_tab ? 0 : -ENOMEM;
}

/* Close every connection and the listener. */
void client_fini(struct vmfitd *d)
{
	while (d->conns.next != &d->conns)
		conn_close(d, d->conns.next);
	if (d->lfd >= 0)
		close(d->lfd);
	d->lfd = -1;
	if (d->spare_fd >= 0)
		close(d->spare_fd);
	d->spare_fd = -1;
}

void client_free(struct vmfitd *d)
{
	free(d->poll_conns);
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
	struct conn *c;

	for (c = d->conns.next; c != &d->conns; c = c->next) {
		if (!c->waiting || c->dead)
			continue;
		wait_del(d, c);
		conn_reply(d, c, c->cid, c->seq, status, NULL, 0);
	}
}

unsigned int client_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	unsigned int n = 0;
	struct conn *c;
	bool paused = client_paused(d);

	if (paused != d->paused) {
		d->paused = paused;
		if (paused) {
			d->st.client_pauses++;
			if (vf_ratelimit(&d->pause_rl, now_ms()))
				vf_info("back-pressure: not reading from clients (%" PRIu64 " orders and %zu bytes queued for the replica, %" PRIu64 " own requests in the group)",
					d->last_order - d->exec_done,
					d->rhold.len + d->rout.len,
					d->own_reqs);
		} else {
			/* The time-outs start over for everyone. */
			for (c = d->conns.next; c != &d->conns; c = c->next)
				c->since_ms = c->active_ms = now_ms();
		}
	}
	pfd[n].fd = d->lfd;
	pfd[n++].events = POLLIN;
	for (c = d->conns.next; c != &d->conns && n <= CONN_MAX;
	     c = c->next) {
		pfd[n].fd = c->fd;
		pfd[n].events = (c->closing || paused ? 0 : POLLIN) |
				(c->out.len ? POLLOUT : 0);
		d->poll_conns[n - 1] = c;
		n++;
	}
	d->npoll_conns = n - 1;
	return n;
}

void client_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct conn *c;
	unsigned int i;

	/* Frames held back while paused: handle them now that it is over. */
	if (d->input_held && !client_paused(d)) {
		d->input_held = false;
		for (c = d->conns.next; c != &d->conns; c = c->next)
			if (c->ilen && !c->dead && !c->closing)
				conn_parse(d, c);
	}
	for (i = 0; i < d->npoll_conns; i++) {
		c = d->poll_conns[i];
		if ((pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !c->dead && !c->closing)
			conn_input(d, c);
	}
	if (pfd[0].revents & POLLIN)
		accept_clients(d);
}

/* End of a loop round: push out replies, free dead connections. */
void client_flush(struct vmfitd *d)
{
	struct conn *c, *next;
	uint64_t now = now_ms();

	for (c = d->conns.next; c != &d->conns; c = next) {
		next = c->next;
		if (!c->dead && (c->out.len || c->closing))
			conn_output(d, c, now);
		if (c->dead)
			conn_close(d, c);
	}
}
