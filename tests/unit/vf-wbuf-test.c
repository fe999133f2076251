// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-wbuf-test - the append buffer (struct vf_wbuf): partial consumes
 * interleaved with appends, frame offsets across a compaction, the limit,
 * growth, reset, and that sending a buffer in small pieces moves a number
 * of bytes linear in its size (counted, never timed); vf_wb_send() on a
 * socket that takes a few KiB at a time: partial sends, a full socket, the
 * cap, a closed peer, a descriptor that is no socket.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf_proto.h"
#include "vf_check.h"

/* The byte at stream position @i of the pattern the tests append. */
static uint8_t pat(size_t i)
{
	return (uint8_t)(i % 251);
}

static void put_pat(struct vf_wbuf *wb, size_t from, size_t n)
{
	uint8_t b[4096];
	size_t k, i;

	while (n) {
		k = n < sizeof(b) ? n : sizeof(b);
		for (i = 0; i < k; i++)
			b[i] = pat(from + i);
		vf_wb_bytes(wb, b, k);
		from += k;
		n -= k;
	}
}

/* The pending bytes are the pattern's positions [from, from + n). */
static int holds_pat(const struct vf_wbuf *wb, size_t from, size_t n)
{
	const uint8_t *p = vf_wb_data(wb);
	size_t i;

	if (vf_wb_pending(wb) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] != pat(from + i))
			return 0;
	return 1;
}

/* Deterministic "random" sizes (a 32-bit LCG). */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/*
 * Appends and partial consumes of every size, checked byte by byte: a
 * consume moves nothing (the data pointer advances), the compactions move
 * at most twice what was consumed, and all consumed leaves 0 pending.
 */
static void test_interleaved(void)
{
	size_t appended = 0, consumed = 0, n, pend;
	const uint8_t *before;
	struct vf_wbuf wb;
	uint32_t s = 1;
	int i, bad = 0, moved_on_consume = 0;

	vf_wb_init(&wb, 0);
	for (i = 0; i < 20000; i++) {
		n = lcg(&s) % 3000;
		put_pat(&wb, appended, n);
		appended += n;
		pend = vf_wb_pending(&wb);
		n = pend ? lcg(&s) % (pend + 1) : 0;
		if (n == pend && i % 7)
			n = pend / 2;	/* mostly partial */
		before = vf_wb_data(&wb);
		vf_wb_consume(&wb, n);
		consumed += n;
		if (n < pend && vf_wb_data(&wb) != before + n)
			moved_on_consume++;
		if (!holds_pat(&wb, consumed, appended - consumed))
			bad++;
	}
	CHECK_EQ(wb.err, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(moved_on_consume, 0);
	CHECK(wb.moved > 0);
	CHECK(wb.moved <= 2 * consumed);
	vf_wb_consume(&wb, vf_wb_pending(&wb));
	CHECK_EQ(vf_wb_pending(&wb), 0);
	/* more than pending: nothing left, nothing else happens */
	put_pat(&wb, 0, 10);
	vf_wb_consume(&wb, 11);
	CHECK_EQ(vf_wb_pending(&wb), 0);
	CHECK_EQ(wb.err, 0);
	vf_wb_free(&wb);
}

/*
 * A flush: a full buffer (the shadow's replay, at its limit) sent a socket
 * buffer's worth at a time while new frames arrive at half that rate.
 * Moving the rest after every send moved the whole pending tail each time:
 * about 1 GiB here, against at most twice what was sent.
 */
static void test_linear_flush(void)
{
	const size_t size = 8u << 20, piece = 64u << 10;
	size_t appended = size, consumed = 0, n;
	struct vf_wbuf wb;
	int bad = 0;

	vf_wb_init(&wb, size);
	put_pat(&wb, 0, size);
	while (vf_wb_pending(&wb)) {
		n = vf_wb_pending(&wb) < piece ? vf_wb_pending(&wb) : piece;
		vf_wb_consume(&wb, n);
		consumed += n;
		if (appended < 2 * size) {
			put_pat(&wb, appended, piece / 2);
			appended += piece / 2;
		}
		if (vf_wb_pending(&wb) && *vf_wb_data(&wb) != pat(consumed))
			bad++;
	}
	CHECK_EQ(wb.err, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(consumed, appended);
	CHECK(wb.moved > 0);
	CHECK(wb.moved <= 2 * consumed);
	CHECK(wb.cap <= size + size / 2);
	printf("linear flush: %zu bytes sent, %llu moved\n", consumed,
	       (unsigned long long)wb.moved);
	vf_wb_free(&wb);
}

/*
 * A frame begun before a compaction and ended after it gets its length
 * patched in the right place; one too big is dropped back to its start.
 */
static void test_frame_across_compaction(void)
{
	static uint8_t payload[VF_MAX_PAYLOAD + 1];
	struct vf_wbuf wb;
	struct vf_hdr h;
	size_t start;
	uint64_t moved;
	long fl;

	vf_wb_init(&wb, 0);
	put_pat(&wb, 0, 300);
	vf_wb_consume(&wb, 200);
	start = vf_wb_frame_begin(&wb, VF_MAGIC_REPLICA, VF_R_RESULT);
	CHECK_EQ(start, 300);
	CHECK_EQ(vf_wb_pos(&wb), 300 + VF_HDR_LEN);
	moved = wb.moved;
	vf_wb_bytes(&wb, payload, 4000);
	REQUIRE(wb.moved > moved);	/* the header moved */
	CHECK_EQ(vf_wb_frame_end(&wb, start), 0);
	CHECK(!memcmp(vf_wb_data(&wb), "\xc8\xc9\xca", 3));	/* 200.. */
	fl = vf_frame_peek(vf_wb_data(&wb) + 100, vf_wb_pending(&wb) - 100,
			   VF_MAGIC_REPLICA, &h);
	CHECK_EQ(fl, VF_HDR_LEN + 4000);
	CHECK_EQ(h.len, 4000);
	CHECK_EQ(h.type, VF_R_RESULT);
	/* an offset already consumed is not patched */
	vf_wb_consume(&wb, 100);
	vf_wb_put_u32_at(&wb, 296, 0xdeadbeef);
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_REPLICA, &h), VF_HDR_LEN + 4000);
	CHECK_EQ(vf_wb_frame_end(&wb, 296), -EINVAL);

	/* too big: back to where the frame began, err set */
	vf_wb_consume(&wb, 2000);
	start = vf_wb_frame_begin(&wb, VF_MAGIC_REPLICA, VF_R_RESULT);
	vf_wb_bytes(&wb, payload, sizeof(payload));
	CHECK_EQ(vf_wb_frame_end(&wb, start), -VF_E(VF_ERR_TOO_BIG));
	CHECK_EQ(vf_wb_pos(&wb), start);
	CHECK_EQ(vf_wb_pending(&wb), VF_HDR_LEN + 4000 - 2000);
	vf_wb_free(&wb);
}

/*
 * The limit counts pending bytes only: a buffer full of EXECs takes a new
 * one as soon as the peer has taken one (what rcv_exec() arranged by hand
 * for the shadow's replay), and the allocation stays below 1.5 x the limit.
 */
static void test_limit(void)
{
	static const uint8_t op[200];
	struct vf_exec ex = { 1, 2, 3, sizeof(op), op };
	const size_t fr = VF_HDR_LEN + 28 + sizeof(op);
	const size_t limit = 4 * fr;
	size_t maxcap = 0;
	struct vf_wbuf wb;
	int i;

	vf_wb_init(&wb, limit);
	for (i = 0; i < 4; i++)
		CHECK_EQ(vf_exec_encode(&wb, &ex), 0);
	CHECK_EQ(vf_wb_pending(&wb), limit);
	CHECK_EQ(vf_exec_encode(&wb, &ex), -VF_E(VF_ERR_TOO_BIG));
	CHECK_EQ(wb.err, -VF_E(VF_ERR_TOO_BIG));	/* sticky */
	CHECK_EQ(vf_wb_pending(&wb), limit);
	vf_wb_reset(&wb);
	CHECK_EQ(wb.err, 0);

	/* at the limit, small consumes and appends: never refused */
	for (i = 0; i < 4; i++)
		vf_exec_encode(&wb, &ex);
	for (i = 0; i < 2000; i++) {
		vf_wb_consume(&wb, fr);
		CHECK_EQ(vf_exec_encode(&wb, &ex), 0);
		if (wb.cap > maxcap)
			maxcap = wb.cap;
	}
	CHECK_EQ(vf_wb_pending(&wb), limit);
	CHECK(maxcap <= limit + limit / 2);
	for (i = 0; i < 2000; i++) {
		vf_wb_consume(&wb, 6);
		vf_wb_u32(&wb, 0);
		vf_wb_u16(&wb, 0);
		if (wb.cap > maxcap)
			maxcap = wb.cap;
	}
	CHECK_EQ(wb.err, 0);
	CHECK(maxcap <= limit + limit / 2);
	vf_wb_free(&wb);
}

/* Growth keeps the bytes; reset keeps the memory and restarts offsets. */
static void test_reserve_reset(void)
{
	struct vf_wbuf wb;
	size_t cap;

	vf_wb_init(&wb, 0);
	CHECK_EQ(vf_wb_pending(&wb), 0);
	CHECK_EQ(vf_wb_reserve(&wb, 0), 0);
	put_pat(&wb, 0, 1000);
	vf_wb_consume(&wb, 10);
	CHECK_EQ(vf_wb_reserve(&wb, 1u << 20), 0);
	CHECK(wb.cap >= (1u << 20));
	CHECK(holds_pat(&wb, 10, 990));
	cap = wb.cap;
	vf_wb_reset(&wb);
	CHECK_EQ(vf_wb_pending(&wb), 0);
	CHECK_EQ(vf_wb_pos(&wb), 0);
	CHECK_EQ(wb.cap, cap);
	CHECK_EQ(vf_wb_frame_begin(&wb, VF_MAGIC_CLIENT, VF_C_REPLY), 0);
	/* truncate: keeps the first n pending bytes */
	put_pat(&wb, 0, 100);
	vf_wb_truncate(&wb, 40);
	CHECK_EQ(vf_wb_pending(&wb), 40);
	vf_wb_truncate(&wb, 50);
	CHECK_EQ(vf_wb_pending(&wb), 40);
	/* past SIZE_MAX: refused, not wrapped */
	CHECK_EQ(vf_wb_reserve(&wb, SIZE_MAX - 8), -ENOMEM);
	vf_wb_free(&wb);
	CHECK_EQ(wb.cap, 0);
	CHECK_EQ(vf_wb_pending(&wb), 0);
}

/*
 * A socketpair whose sending end [0] holds a few KiB: what it has sent
 * counts against its buffer until [1] reads it. Both ends block: a send
 * that would wait has to be refused by vf_wb_send() itself.
 */
static void small_pair(int sv[2])
{
	int sz = 4096;

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	REQUIRE(!setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
}

/* Read all that @fd holds now; it must be the pattern from *@got on. */
static size_t drain_pat(int fd, size_t *got, int *bad)
{
	static uint8_t b[64 << 10];
	size_t total = 0;
	ssize_t n, i;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		for (i = 0; i < n; i++)
			if (b[i] != pat(*got + (size_t)i))
				(*bad)++;
		*got += (size_t)n;
		total += (size_t)n;
	}
	return total;
}

/*
 * 1 MiB through a socket that takes a few KiB: every call sends part of
 * it and consumes exactly what went, a full socket is 0 (not an error, not
 * a wait: alarm() ends a test that blocks), and the peer reads every byte
 * in order.
 */
static void test_send_partial(void)
{
	const size_t size = 1u << 20;
	size_t sent = 0, got = 0;
	int sv[2], bad = 0, calls = 0, short_sends = 0, stuck = 0;
	struct vf_wbuf wb;
	ssize_t n;

	small_pair(sv);
	vf_wb_init(&wb, 0);
	put_pat(&wb, 0, size);
	alarm(60);
	n = vf_wb_send(sv[0], &wb, SIZE_MAX);
	REQUIRE(n > 0);
	CHECK((size_t)n < size);
	CHECK(holds_pat(&wb, (size_t)n, size - (size_t)n));
	sent = (size_t)n;
	/* full: nothing goes, nothing is consumed */
	CHECK_EQ(vf_wb_send(sv[0], &wb, SIZE_MAX), 0);
	CHECK_EQ(vf_wb_pending(&wb), size - sent);
	while (vf_wb_pending(&wb)) {
		drain_pat(sv[1], &got, &bad);
		n = vf_wb_send(sv[0], &wb, SIZE_MAX);
		calls++;
		if (n <= 0) {
			stuck++;
			break;
		}
		sent += (size_t)n;
		if (vf_wb_pending(&wb))
			short_sends++;
		if (vf_wb_pending(&wb) != size - sent)
			bad++;
	}
	drain_pat(sv[1], &got, &bad);
	alarm(0);
	CHECK_EQ(stuck, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(sent, size);
	CHECK_EQ(got, size);
	CHECK(calls > 2);
	CHECK(short_sends > 0);
	/* nothing pending: 0, and no send() (the fd is not even open) */
	CHECK_EQ(vf_wb_send(-1, &wb, SIZE_MAX), 0);
	printf("send: %zu bytes in %d calls\n", sent, calls + 1);
	vf_wb_free(&wb);
	close(sv[0]);
	close(sv[1]);
}

/* The cap: exactly @max when the socket takes it, never more. */
static void test_send_cap(void)
{
	size_t sent = 0, got = 0;
	struct vf_wbuf wb;
	int sv[2], bad = 0;
	ssize_t n;

	small_pair(sv);
	vf_wb_init(&wb, 0);
	put_pat(&wb, 0, 100000);
	alarm(60);
	CHECK_EQ(vf_wb_send(sv[0], &wb, 0), 0);
	CHECK_EQ(vf_wb_pending(&wb), 100000);
	CHECK_EQ(vf_wb_send(sv[0], &wb, 100), 100);
	CHECK(holds_pat(&wb, 100, 100000 - 100));
	CHECK_EQ(vf_wb_send(sv[0], &wb, 1), 1);
	sent = 101;
	/* a cap above what the socket takes: what it takes */
	n = vf_wb_send(sv[0], &wb, 50000);
	CHECK(n > 0 && n < 50000);
	sent += n > 0 ? (size_t)n : 0;
	/* a cap below the rest, over several calls: never exceeded */
	while (vf_wb_pending(&wb)) {
		drain_pat(sv[1], &got, &bad);
		n = vf_wb_send(sv[0], &wb, 1000);
		if (n <= 0 || n > 1000) {
			bad++;
			break;
		}
		sent += (size_t)n;
	}
	drain_pat(sv[1], &got, &bad);
	alarm(0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(sent, 100000);
	CHECK_EQ(got, 100000);
	vf_wb_free(&wb);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Errors: a closed peer is -EPIPE with no SIGPIPE (it would end this
 * test), a descriptor that is no socket is -ENOTSOCK; neither consumes.
 */
static void test_send_errors(void)
{
	struct vf_wbuf wb;
	int sv[2], pfd[2];

	small_pair(sv);
	REQUIRE(!pipe(pfd));
	vf_wb_init(&wb, 0);
	put_pat(&wb, 0, 1000);
	close(sv[1]);
	CHECK_EQ(vf_wb_send(sv[0], &wb, SIZE_MAX), -EPIPE);
	CHECK(holds_pat(&wb, 0, 1000));
	CHECK_EQ(vf_wb_send(pfd[1], &wb, SIZE_MAX), -ENOTSOCK);
	CHECK(holds_pat(&wb, 0, 1000));
	vf_wb_free(&wb);
	close(sv[0]);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	test_interleaved();
	test_linear_flush();
	test_frame_across_compaction();
	test_limit();
	test_reserve_reset();
	test_send_partial();
	test_send_cap();
	test_send_errors();
	return vf_check_done("vf-wbuf-test");
}
