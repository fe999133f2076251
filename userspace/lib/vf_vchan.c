// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_vchan.c - relay between a stream socket and a libxenvchan.
 *
 * libxenvchan in non-blocking mode asks its peer for a notification
 * whenever a read finds the ring empty or a write finds it full, so
 * "the event channel fd is readable" means "try again"; after
 * libxenvchan_wait() has consumed that event, every read and write is
 * retried until it would block. Bytes are never reordered or dropped:
 * each direction has one bounded buffer, and a side is only polled for
 * input while its buffer has room.
 *
 * A read that takes all it asked for asks for no notification: the relay
 * must not wait while bytes are left in the ring and its buffer has room
 * (the ring may be larger than the buffer, xen_vchan_ring). So it reads
 * until the ring is found empty (notification asked for) or the buffer
 * is full and the fd takes no more (POLLOUT asked for); a peer that keeps
 * the ring full cannot hold the caller's loop, though: after
 * VF_VCHAN_RELAY_BURST bytes the relay says "more" (rl->more)
 * and the caller polls without waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxenvchan.h>

#include "vf_vchan.h"

int vf_vchan_relay_init(struct vf_vchan_relay *rl, struct libxenvchan *vc,
			int fd)
{
	int fl;

	memset(rl, 0, sizeof(*rl));
	rl->vc = vc;
	rl->fd = fd;
	rl->to_vc = malloc(VF_VCHAN_RELAY_BUF);
	rl->to_fd = malloc(VF_VCHAN_RELAY_BUF);
	if (!rl->to_vc || !rl->to_fd) {
		vf_vchan_relay_free(rl);
		return -ENOMEM;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		vf_vchan_relay_free(rl);
		return -errno;
	}
	vc->blocking = 0;
	return 0;
}

void vf_vchan_relay_free(struct vf_vchan_relay *rl)
{
	free(rl->to_vc);
	free(rl->to_fd);
	rl->to_vc = NULL;
	rl->to_fd = NULL;
}

void vf_vchan_relay_pollfds(const struct vf_vchan_relay *rl,
			    struct pollfd *pfd)
{
	pfd[0].fd = libxenvchan_fd_for_select(rl->vc);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = rl->fd;
	pfd[1].events = 0;
	if (!rl->fd_eof && rl->to_vc_len < VF_VCHAN_RELAY_BUF)
		pfd[1].events |= POLLIN;
	if (rl->to_fd_len)
		pfd[1].events |= POLLOUT;
	pfd[1].revents = 0;
}

static void consume(uint8_t *buf, size_t *len, size_t n)
{
	memmove(buf, buf + n, *len - n);
	*len -= n;
}

/* fd -> to_vc. */
static int fill_from_fd(struct vf_vchan_relay *rl)
{
	ssize_t n;

	while (!rl->fd_eof && rl->to_vc_len < VF_VCHAN_RELAY_BUF) {
		n = read(rl->fd, rl->to_vc + rl->to_vc_len,
			 VF_VCHAN_RELAY_BUF - rl->to_vc_len);
		if (n > 0)
			rl->to_vc_len += n;
		else if (n == 0 || errno == ECONNRESET)
			rl->fd_eof = true;
		else if (errno == EAGAIN)
			break;
		else if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * to_vc -> ring, ring -> to_fd. Returns true when the ring was found
 * empty (a notification is asked for) or the peer closed.
 */
static bool pump_vchan(struct vf_vchan_relay *rl)
{
	bool idle = false;
	int n;

	while (rl->to_vc_len && !rl->peer_closed) {
		n = libxenvchan_write(rl->vc, rl->to_vc, rl->to_vc_len);
		if (n < 0)
			rl->peer_closed = true;
		if (n <= 0)
			break;
		consume(rl->to_vc, &rl->to_vc_len, n);
	}
	while (rl->to_fd_len < VF_VCHAN_RELAY_BUF) {
		n = libxenvchan_read(rl->vc, rl->to_fd + rl->to_fd_len,
				     VF_VCHAN_RELAY_BUF - rl->to_fd_len);
		if (n < 0)
			rl->peer_closed = true;
		if (n <= 0) {
			idle = true;
			break;
		}
		rl->to_fd_len += n;
		rl->from_peer += n;
	}
	if (!libxenvchan_is_open(rl->vc))
		rl->peer_closed = true;
	return idle || rl->peer_closed;
}

/* to_fd -> fd. */
static int drain_to_fd(struct vf_vchan_relay *rl)
{
	ssize_t n;

	while (rl->to_fd_len) {
		n = write(rl->fd, rl->to_fd, rl->to_fd_len);
		if (n > 0) {
			consume(rl->to_fd, &rl->to_fd_len, n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* Nobody reads any more: as good as closed. */
			rl->fd_eof = true;
			rl->to_fd_len = 0;
		} else {
			return n < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

int vf_vchan_relay_handle(struct vf_vchan_relay *rl,
			  const struct pollfd *pfd)
{
	uint64_t start;
	bool idle;
	int r;

	if (pfd && (pfd[0].revents & POLLIN) &&
	    libxenvchan_wait(rl->vc) < 0)
		rl->peer_closed = true;
	r = fill_from_fd(rl);
	if (r)
		return r;
	/* Until the ring is empty, or the buffer full and the fd too. */
	start = rl->from_peer;
	do {
		idle = pump_vchan(rl);
		r = drain_to_fd(rl);
		if (r)
			return r;
		rl->more = !idle && rl->to_fd_len < VF_VCHAN_RELAY_BUF;
	} while (rl->more && rl->from_peer - start < VF_VCHAN_RELAY_BURST);
	if (rl->peer_closed && !rl->to_fd_len)
		return 1;
	if (rl->fd_eof && (!rl->to_vc_len || rl->peer_closed))
		return 1;
	return 0;
}

int vf_vchan_relay_run(struct vf_vchan_relay *rl, int stop_fd)
{
	struct pollfd pfd[VF_VCHAN_RELAY_NFDS + 1];
	int r;

	r = vf_vchan_relay_handle(rl, NULL);
	while (!r) {
		vf_vchan_relay_pollfds(rl, pfd);
		pfd[2].fd = stop_fd;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (poll(pfd, 3, rl->more ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[2].revents)
			return 0;
		r = vf_vchan_relay_handle(rl, pfd);
	}
	return r < 0 ? r : 0;
}
