// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-vchan-test - the vchan relay (vf_vchan.c) against a simulated
 * libxenvchan with libxenvchan 4.17's notification rules: a read that
 * finds fewer bytes than it asked for asks the peer for a notification,
 * one that gets all it asked for does not; the peer notifies (the event
 * fd becomes readable) only when asked.
 *
 * - A ring much larger than the relay's buffer, filled at once, one
 *   notification: every byte reaches the socket in order, with no
 *   further notification (the relay reads until it finds the ring empty,
 *   or the socket is full and it waits for POLLOUT). It never waits
 *   while bytes are left that nothing would announce, and one call moves
 *   at most a burst (rl->more tells the caller to poll without waiting).
 *   Twice: the ring exactly full, then with bytes already in the relay.
 * - The other way, bytes written to the socket reach the ring.
 * - The peer closes: the relay delivers what it had, then says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libxenvchan.h>

#include "vf_check.h"
#include "vf_vchan.h"

#define RING_CAP	(1 << 20)	/* the configurable maximum is 2 MiB */

/* The simulated vchan: the peer's ring towards the relay, and a sink. */
static uint8_t ring[RING_CAP];
static size_t ring_len, ring_off;	/* bytes in it, read position */
static uint64_t peer_sent;		/* bytes the peer has written */
static bool want_notify;		/* the relay asked to be notified */
static int ev = -1;			/* the event channel's fd */
static bool peer_open = true;
static uint8_t sink[4096];
static size_t sink_len;
static unsigned int notifications;

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

/* The peer writes @n bytes; it notifies only if asked to. */
static void peer_write(size_t n)
{
	uint64_t one = 1;
	size_t i;

	for (i = 0; i < n && ring_len < RING_CAP; i++) {
		ring[(ring_off + ring_len) % RING_CAP] = pattern(peer_sent++);
		ring_len++;
	}
	if (want_notify) {
		want_notify = false;
		notifications++;
		REQUIRE(write(ev, &one, sizeof(one)) == sizeof(one));
	}
}

int libxenvchan_read(struct libxenvchan *ctrl, void *data, size_t size)
{
	uint8_t *out = data;
	size_t n, i;

	if (ring_len < size)
		want_notify = true;
	n = ring_len < size ? ring_len : size;
	if (!n && !peer_open)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = ring[(ring_off + i) % RING_CAP];
	ring_off = (ring_off + n) % RING_CAP;
	ring_len -= n;
	return n;
}

int libxenvchan_write(struct libxenvchan *ctrl, const void *data,
		      size_t size)
{
	size_t n = sizeof(sink) - sink_len;

	if (!peer_open)
		return -1;
	if (size < n)
		n = size;
	memcpy(sink + sink_len, data, n);
	sink_len += n;
	return n;
}

int libxenvchan_wait(struct libxenvchan *ctrl)
{
	uint64_t v;

	return read(ev, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

int libxenvchan_is_open(struct libxenvchan *ctrl)
{
	return peer_open;
}

int libxenvchan_fd_for_select(struct libxenvchan *ctrl)
{
	return ev;
}

/* Read what the relay put on the socket; check it is the peer's bytes. */
static uint64_t received;

static void drain(int fd)
{
	uint8_t buf[8192];
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(received + i)) {
				CHECK(!"a byte out of order or changed");
				break;
			}
		received += n;
	}
}

/*
 * Poll and handle like the relay's callers until @want bytes came
 * through; a poll that would wait (no notification pending, no
 * POLLOUT) while bytes are still in the ring is a stall.
 */
static int relay_until(struct vf_vchan_relay *rl, int far, uint64_t want)
{
	struct pollfd pfd[VF_VCHAN_RELAY_NFDS];
	uint64_t before;
	int r = 0, n;

	while (received < want) {
		vf_vchan_relay_pollfds(rl, pfd);
		n = poll(pfd, VF_VCHAN_RELAY_NFDS, rl->more ? 0 : 1000);
		REQUIRE(n >= 0);
		if (!n && !rl->more) {
			fprintf(stderr, "stalled: %zu bytes left in the ring, %zu in the relay\n",
				ring_len, rl->to_fd_len);
			return -EDEADLK;
		}
		before = rl->from_peer;
		r = vf_vchan_relay_handle(rl, pfd);
		CHECK(rl->from_peer - before <=
		      VF_VCHAN_RELAY_BURST + VF_VCHAN_RELAY_BUF);
		drain(far);
		if (r)
			return r;
	}
	return r;
}

int main(void)
{
	static struct libxenvchan vc;
	struct vf_vchan_relay rl;
	int sv[2], r;

	ev = eventfd(0, EFD_NONBLOCK);
	REQUIRE(ev >= 0);
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	REQUIRE(!vf_vchan_relay_init(&rl, &vc, sv[0]));
	REQUIRE(!fcntl(sv[1], F_SETFL, O_NONBLOCK));

	/* The first pump finds the ring empty: it asks to be notified. */
	CHECK_EQ(vf_vchan_relay_handle(&rl, NULL), 0);
	CHECK(want_notify);

	/* A full 1 MiB ring, one notification: all of it comes through. */
	peer_write(RING_CAP);
	CHECK_EQ(notifications, 1);
	r = relay_until(&rl, sv[1], RING_CAP);
	CHECK_EQ(r, 0);
	CHECK_EQ(received, RING_CAP);
	CHECK_EQ(ring_len, 0);
	CHECK_EQ(notifications, 1);
	CHECK(want_notify);	/* found it empty: asked again */

	/* Again with 100 bytes in the relay's buffer first, 1 MiB after. */
	peer_write(100);
	CHECK_EQ(relay_until(&rl, sv[1], received + 100), 0);
	peer_write(RING_CAP);
	CHECK_EQ(relay_until(&rl, sv[1], peer_sent), 0);
	CHECK_EQ(received, peer_sent);
	CHECK_EQ(notifications, 3);

	/* The other way: the socket's bytes reach the ring. */
	REQUIRE(write(sv[1], "EXEC", 4) == 4);
	CHECK_EQ(vf_vchan_relay_handle(&rl, NULL), 0);
	CHECK_EQ(sink_len, 4);
	CHECK(!memcmp(sink, "EXEC", 4));

	/* The peer closes after a last word: delivered, then the end. */
	peer_write(100);
	peer_open = false;
	r = relay_until(&rl, sv[1], peer_sent);
	CHECK(r == 0 || r == 1);
	if (!r)
		r = vf_vchan_relay_handle(&rl, NULL);
	CHECK_EQ(r, 1);
	CHECK_EQ(received, peer_sent);
	CHECK(rl.peer_closed);

	vf_vchan_relay_free(&rl);
	close(sv[0]);
	close(sv[1]);
	close(ev);
	return vf_check_done("vf-vchan-test");
}
