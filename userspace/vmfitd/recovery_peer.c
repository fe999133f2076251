// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_peer.c - chunk transfer between managers over their own TCP
 * peer connections (Documentation/protocol.rst "Peer connections"): the
 * client that fetches the repaired chunks from the managers that voted for
 * them, one at a time, and the server that answers other managers' FETCHes
 * from the frozen view. Bulk data never goes through the group.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_log.h"

/*----------------------------------------------------------------*/
/* Fetching repaired chunks from peers */

void fetch_close(struct rcv *r)
{
	if (r->pc_fd >= 0)
		close(r->pc_fd);
	r->pc_fd = -1;
	r->pc_connecting = false;
	r->pc_ilen = 0;
	vf_wb_reset(&r->pc_out);
}

static int pc_connect(struct vmfitd *d, struct repair *rp)
{
	struct rcv *r = d->rcv;
	struct vf_peer_fetch f = { .round = r->round, .chunk = rp->chunk };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int m = round_member(r, rp->sources[rp->next]);

	if (m < 0 || r->mem[m].left)
		return -EHOSTUNREACH;
	memcpy(&sa.sin_addr, r->mem[m].addr, 4);
	sa.sin_port = htons(r->mem[m].port);
	r->pc_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (r->pc_fd < 0)
		return -errno;
	if (connect(r->pc_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS)
			return -errno;
		r->pc_connecting = true;
	}
	vf_wb_reset(&r->pc_out);
	r->pc_ilen = 0;
	r->pc_deadline = now_ms() + d->conf.recovery_fetch_timeout_ms;
	return vf_peer_fetch_encode(&r->pc_out, &f);
}

/* The current source failed: next source, next chunk, or give up. */
static void fetch_next(struct vmfitd *d, const char *why)
{
	struct rcv *r = d->rcv;
	struct repair *rp;
	int e;

	fetch_close(r);
	while (r->rep_next < r->nrep) {
		rp = &r->rep[r->rep_next];
		if (why) {
			vf_warn("recovery: chunk %" PRIu64 " from node %u: %s",
				rp->chunk, rp->sources[rp->next], why);
			rp->next++;
			why = NULL;
		}
		if (rp->next >= rp->nsources) {
			round_fetched(d, EIO);
			round_abort(d, VF_RCV_FETCH, true,
				    "chunk %" PRIu64 ": no manager could send it",
				    rp->chunk);
			return;
		}
		e = pc_connect(d, rp);
		if (!e)
			return;
		fetch_close(r);
		vf_warn("recovery: chunk %" PRIu64 " from node %u: %s",
			rp->chunk, rp->sources[rp->next], strerror(-e));
		rp->next++;
	}
	if (r->receiver) {
		catchup_fetched(d);
		return;
	}
	round_fetched(d, 0);
	if (r->phase == PH_FETCH)
		volume_copy(d);
}

void fetch_start(struct vmfitd *d)
{
	d->rcv->rep_next = 0;
	fetch_next(d, NULL);
}

static void pc_frame(struct vmfitd *d, const struct vf_hdr *h,
		     const uint8_t *p)
{
	struct rcv *r = d->rcv;
	struct repair *rp = &r->rep[r->rep_next];
	struct vf_peer_chunk c;
	struct vf_peer_error pe;
	char why[128];
	uint32_t len;
	int e;

	if (h->type == VF_P_ERROR && !vf_peer_error_decode(p, h->len, &pe)) {
		snprintf(why, sizeof(why), "peer said %s: %.*s",
			 vf_strerror(-VF_E(pe.code)),
			 pe.msg_len > 60 ? 60 : pe.msg_len, pe.msg);
		fetch_next(d, why);
		return;
	}
	if (h->type != VF_P_CHUNK) {
		fetch_next(d, "unexpected frame");
		return;
	}
	e = vf_peer_chunk_decode(p, h->len, &c);
	if (r->receiver) {
		/* The last chunk's length is checked by its digest. */
		len = catchup_chunk_len(r, rp->chunk);
		if (!e && !len)
			len = c.len && c.len <= r->geom.chunk_size ? c.len : 0;
	} else {
		len = vf_svol_chunk_len(r->view_bytes, r->geom.chunk_size,
					rp->chunk);
	}
	if (!e)
		e = vf_peer_chunk_check(&c, r->round, rp->chunk, len,
					rp->digest);
	if (e) {
		fetch_next(d, e == -EBADMSG ? "bytes do not match the voted digest" :
			   vf_strerror(e));
		return;
	}
	rp->data = malloc(len ? len : 1);
	if (!rp->data) {
		fetch_next(d, "out of memory");
		return;
	}
	memcpy(rp->data, c.data, len);
	rp->len = len;
	r->st.repaired++;
	r->st.bytes_fetched += len;
	r->rep_next++;
	fetch_next(d, NULL);
}

static void pc_io(struct vmfitd *d, short revents)
{
	struct rcv *r = d->rcv;
	struct vf_hdr h;
	ssize_t n;
	long fl;
	int err = 0;
	socklen_t el = sizeof(err);

	if (r->pc_connecting) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(r->pc_fd, SOL_SOCKET, SO_ERROR, &err, &el) ||
		    err) {
			fetch_next(d, strerror(err ? err : errno));
			return;
		}
		r->pc_connecting = false;
	}
	n = vf_wb_send(r->pc_fd, &r->pc_out, SIZE_MAX);
	if (n < 0) {
		fetch_next(d, strerror((int)-n));
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(r->pc_fd, r->pc_in + r->pc_ilen, PEER_CLI_IN - r->pc_ilen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fetch_next(d, n ? strerror(errno) :
			   "connection closed before the chunk");
		return;
	}
	r->pc_ilen += n;
	fl = vf_frame_peek(r->pc_in, r->pc_ilen, VF_MAGIC_PEER, &h);
	if (fl < 0) {
		fetch_next(d, vf_strerror(fl));
		return;
	}
	if (fl == 0) {
		if (r->pc_ilen >= VF_HDR_LEN &&
		    VF_HDR_LEN + h.len > PEER_CLI_IN)
			fetch_next(d, "frame too big");
		return;
	}
	pc_frame(d, &h, r->pc_in + VF_HDR_LEN);
}

/*----------------------------------------------------------------*/
/* Serving chunks to peers */

static void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->ilen = 0;
	p->closing = false;
	vf_wb_free(&p->out);
}

static void peer_error(struct peer *p, uint64_t round, uint64_t chunk,
		       int code, bool close_after)
{
	vf_peer_error_encode(&p->out, round, chunk, code,
			     vf_strerror(-VF_E(code)));
	p->closing = close_after;
}

static void peer_fetch(struct vmfitd *d, struct peer *p, const uint8_t *q,
		       uint32_t len)
{
	struct rcv *r = d->rcv;
	struct vf_peer_fetch f;
	struct vf_peer_chunk c;
	uint8_t *buf;
	int e;

	e = vf_peer_fetch_decode(q, len, &f);
	if (e) {
		peer_error(p, 0, 0, vf_err_code(e), true);
		return;
	}
	if (!r->frozen || f.round != r->round) {
		peer_error(p, f.round, f.chunk, VF_ERR_ROUND, false);
		return;
	}
	if (f.chunk >= VF_RCV_MSTATE_CHUNK) {
		/* A piece of this manager's state, for a receiver. */
		c.round = f.round;
		c.chunk = f.chunk;
		e = catchup_piece(r, f.chunk, &c);
		if (!e)
			e = vf_peer_chunk_encode(&p->out, &c);
		if (e) {
			peer_error(p, f.round, f.chunk, vf_err_code(e) ?
				   vf_err_code(e) : VF_ERR_CHUNK, false);
			return;
		}
		r->st.bytes_served += c.len;
		return;
	}
	if (f.chunk >= r->geom.nchunks) {
		peer_error(p, f.round, f.chunk, VF_ERR_CHUNK, false);
		return;
	}
	buf = malloc(r->geom.chunk_size);
	if (!buf) {
		p->closing = true;
		return;
	}
	c.round = f.round;
	c.chunk = f.chunk;
	c.data = buf;
	e = r->frozen->ops->read_view(r->frozen, f.chunk, buf, &c.len);
	if (!e)
		e = vf_peer_chunk_encode(&p->out, &c);
	free(buf);
	if (e) {
		vf_err("recovery: serving chunk %" PRIu64 ": %s", f.chunk,
		       vf_strerror(e));
		p->closing = true;
		return;
	}
	if (r->cut || r->stall) {
		/* The link drops (cut) or hangs (stall) mid-chunk. */
		vf_wb_truncate(&p->out, vf_wb_pending(&p->out) -
			       (VF_HDR_LEN + 20 + c.len) / 2);
		p->closing = r->cut;
		return;
	}
	r->st.bytes_served += c.len;
}

static void peer_input(struct vmfitd *d, struct peer *p)
{
	struct vf_hdr h;
	ssize_t n;
	long fl;

	n = recv(p->fd, p->in + p->ilen, sizeof(p->in) - p->ilen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		peer_close(p);
		return;
	}
	p->ilen += n;
	while (!p->closing && !vf_wb_pending(&p->out)) {
		fl = vf_frame_peek(p->in, p->ilen, VF_MAGIC_PEER, &h);
		if (fl < 0 || (fl == 0 && p->ilen == sizeof(p->in))) {
			d->rcv->st.bad_msgs++;
			vf_warn("recovery: peer connection: %s; closing it",
				fl < 0 ? vf_strerror(fl) : "frame too big");
			peer_error(p, 0, 0, fl < 0 ? vf_err_code(fl) :
				   VF_ERR_TOO_BIG, true);
			return;
		}
		if (fl == 0)
			return;
		if (h.type != VF_P_FETCH) {
			d->rcv->st.bad_msgs++;
			peer_error(p, 0, 0, VF_ERR_TYPE, true);
			return;
		}
		peer_fetch(d, p, p->in + VF_HDR_LEN, h.len);
		memmove(p->in, p->in + fl, p->ilen - fl);
		p->ilen -= fl;
	}
}

/* A closing link is closed once its last frame (an ERROR) has gone. */
static void peer_output(struct peer *p)
{
	if (vf_wb_send(p->fd, &p->out, SIZE_MAX) < 0 ||
	    (p->closing && !vf_wb_pending(&p->out)))
		peer_close(p);
}

static void peer_accept(struct rcv *r)
{
	unsigned int i;
	int fd;

	for (;;) {
		fd = accept4(r->pl_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < PEER_CONN_MAX; i++)
			if (r->peers[i].fd < 0)
				break;
		if (i == PEER_CONN_MAX) {
			close(fd);
			continue;
		}
		r->peers[i].fd = fd;
		r->peers[i].ilen = 0;
		r->peers[i].closing = false;
		vf_wb_init(&r->peers[i].out, 2 * (VF_HDR_LEN + 20 +
						  VF_RCV_MAX_CHUNK));
	}
}

int peer_listen(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int one = 1, fd;

	if (!d->conf.has_peer_listen)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&d->conf.peer_listen,
		 sizeof(d->conf.peer_listen)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -errno;
	}
	r->pl_fd = fd;
	return 0;
}

void peer_close_all(struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < PEER_CONN_MAX; i++)
		peer_close(&r->peers[i]);
	if (r->pl_fd >= 0)
		close(r->pl_fd);
	r->pl_fd = -1;
}

/*----------------------------------------------------------------*/
/* The main loop's interface */

/* Poll slots: the listener, the fetch, the peers served. */
void peer_poll_fds(struct rcv *r, struct pollfd *pfd)
{
	unsigned int i;

	pfd[0].fd = r->pl_fd;
	pfd[0].events = POLLIN;
	if (r->pc_fd >= 0) {
		pfd[1].fd = r->pc_fd;
		pfd[1].events = POLLIN | (r->pc_connecting ||
					  vf_wb_pending(&r->pc_out) ?
					  POLLOUT : 0);
	}
	for (i = 0; i < PEER_CONN_MAX; i++) {
		pfd[2 + i].fd = r->peers[i].fd;
		pfd[2 + i].events = vf_wb_pending(&r->peers[i].out) ?
				    POLLOUT : POLLIN;
	}
}

void peer_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	unsigned int i;

	if (pfd[1].fd >= 0 && pfd[1].fd == r->pc_fd && pfd[1].revents)
		pc_io(d, pfd[1].revents);
	for (i = 0; i < PEER_CONN_MAX; i++) {
		if (r->peers[i].fd < 0 || r->peers[i].fd != pfd[2 + i].fd ||
		    !pfd[2 + i].revents)
			continue;
		if (pfd[2 + i].revents & POLLOUT)
			peer_output(&r->peers[i]);
		else
			peer_input(d, &r->peers[i]);
	}
	if (pfd[0].revents & POLLIN)
		peer_accept(r);
}

void peer_flush(struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < PEER_CONN_MAX; i++)
		if (r->peers[i].fd >= 0 && vf_wb_pending(&r->peers[i].out))
			peer_output(&r->peers[i]);
}

/* The fetch's deadline. */
void peer_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;

	if (r->phase != PH_FETCH || r->pc_fd < 0)
		return;
	if (now >= r->pc_deadline) {
		fetch_next(d, "timed out");
		return;
	}
	if (r->pc_deadline < *wake)
		*wake = r->pc_deadline;
}
