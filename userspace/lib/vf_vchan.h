/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_vchan.h - relay between a stream socket and a libxenvchan.
 *
 * The replica channel (Documentation/protocol.rst) is a byte stream; both
 * ends of vmfit speak it on a file descriptor. Between dom0 and a Xen
 * replica domain it travels over a vchan (shared pages + an event
 * channel, Documentation/xen-backend.rst): this relay copies bytes both
 * ways between one end of a socketpair and the vchan, so that the frame
 * code on either side stays fd-based. It is used by the xen backend
 * (vchan server, in vmfitd) and by the replica in the guest (vchan
 * client, --vchan).
 *
 * The relay owns no thread and no loop: vf_vchan_relay_pollfds() fills
 * two pollfds for the caller's poll(), vf_vchan_relay_handle() moves what
 * can be moved without blocking. Binaries that use it link -lxenvchan.
 */
#ifndef VF_VCHAN_H
#define VF_VCHAN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct libxenvchan;

#define VF_VCHAN_RELAY_BUF	(64 * 1024)	/* per direction */
/* Bytes from the ring per vf_vchan_relay_handle() call, at most. */
#define VF_VCHAN_RELAY_BURST	(4 * VF_VCHAN_RELAY_BUF)
#define VF_VCHAN_RELAY_NFDS	2

struct vf_vchan_relay {
	struct libxenvchan *vc;	/* non-blocking; not owned */
	int fd;			/* stream socket; not owned */
	uint8_t *to_vc;		/* read from fd, not yet in the ring */
	size_t to_vc_len;
	uint8_t *to_fd;		/* read from the ring, not yet on fd */
	size_t to_fd_len;
	bool fd_eof;		/* the fd side closed its end */
	bool peer_closed;	/* the vchan peer closed or crashed */
	bool more;		/* bytes may be left in the ring: poll
				 * without waiting (timeout 0) */
	uint64_t from_peer;	/* bytes received from the vchan peer */
};

/* @vc is switched to non-blocking; @fd to O_NONBLOCK. 0 or -errno. */
int vf_vchan_relay_init(struct vf_vchan_relay *rl, struct libxenvchan *vc,
			int fd);
void vf_vchan_relay_free(struct vf_vchan_relay *rl);

/* Fill pfd[0..VF_VCHAN_RELAY_NFDS-1] for poll(). */
void vf_vchan_relay_pollfds(const struct vf_vchan_relay *rl,
			    struct pollfd *pfd);

/*
 * Act on the revents of the pollfds filled above (NULL: just pump). When
 * it leaves rl->more set, the next poll() must not wait: the ring may
 * still hold bytes that no notification will announce.
 * Returns 0 while both sides are open, 1 once either side has closed and
 * everything it sent has been delivered, -errno on an I/O error.
 */
int vf_vchan_relay_handle(struct vf_vchan_relay *rl,
			  const struct pollfd *pfd);

/*
 * Relay until one side closes (blocking; for a thread of its own).
 * @stop_fd, if >= 0, ends the loop when readable. 0 or -errno.
 */
int vf_vchan_relay_run(struct vf_vchan_relay *rl, int stop_fd);

#endif /* VF_VCHAN_H */
