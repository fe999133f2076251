// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-probe - send bad input to a vmfitd client endpoint and check that
 * each case gets the answer Documentation/protocol.rst requires.
 *
 * Every case runs on its own connection. Framing errors must be answered
 * with an ERROR frame carrying the right code, then the connection must be
 * closed; kv operations the service cannot execute must come back as a
 * normal (voted) REPLY whose kv status says so; a client that never reads
 * must be disconnected. Valid frames are built with the project's codec
 * (vf_proto.h, kv_op.h); invalid ones are valid frames with one field
 * broken afterwards.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vf_proto.h"
#include "vf_session.h"
#include "../../userspace/services/kv/kv_op.h"

#define PROG "vmfit-probe"

static struct sockaddr_storage srv;
static socklen_t srv_len;
static const char *srv_spec;
static unsigned int timeout_ms = 5000;
static unsigned int noread_secs = 30;
static bool verbose;

/* What a case must see. */
enum expect {
	EX_ERROR,	/* ERROR frame with one of the codes, then close */
	EX_CLOSE,	/* close, with or without an ERROR frame first */
	EX_KV,		/* REPLY status OK carrying kv status `kv` */
	EX_DISCONNECT,	/* the server drops a client that never reads */
	EX_LINGER,	/* ... also when it is closing with output queued */
};

struct pcase {
	const char *name;
	const char *what;
	int (*build)(struct vf_wbuf *wb);
	enum expect ex;
	uint32_t codes[2];	/* EX_ERROR: acceptable wire codes */
	uint8_t kv;		/* EX_KV: expected kv status */
	bool half_close;	/* shutdown(SHUT_WR) after sending */
};

/*----------------------------------------------------------------*/
/* Frames */

static uint64_t random_id(void)
{
	uint64_t id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint64_t)time(NULL) * 2654435761u;
	return id;
}

/* A REQUEST carrying the kv op @op of @n bytes, in a new session. */
static int put_request(struct vf_wbuf *wb, uint64_t seq, const uint8_t *op,
		       uint32_t n)
{
	uint8_t key[VF_SESSION_KEY_LEN];
	struct vf_request rq = {
		.seq = seq,
		.op_len = n,
		.op = op,
		.key = key,
	};

	if (vf_session_new(key, &rq.client_id))
		return -EIO;
	return vf_request_encode(wb, &rq);
}

static int put_get(struct vf_wbuf *wb)
{
	uint8_t op[KV_REQ_HDR_LEN];
	int n = kv_req_encode(op, sizeof(op), KV_OP_GET, 0, NULL, 0);

	return n < 0 ? n : put_request(wb, 1, op, (uint32_t)n);
}

static void patch16(struct vf_wbuf *wb, size_t off, uint16_t v)
{
	vf_wb_data(wb)[off] = (uint8_t)v;
	vf_wb_data(wb)[off + 1] = (uint8_t)(v >> 8);
}

/* A frame header announcing @len payload bytes, whatever follows. */
static void put_hdr(struct vf_wbuf *wb, uint32_t magic, uint16_t type,
		    uint32_t len)
{
	uint8_t h[VF_HDR_LEN];

	vf_hdr_encode(h, magic, type, len);
	vf_wb_bytes(wb, h, sizeof(h));
}

static int b_magic(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	vf_wb_put_u32_at(wb, 0, 0x21444142);	/* "BAD!" */
	return r;
}

static int b_version(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	patch16(wb, 4, VF_CLIENT_VERSION + 1);
	return r;
}

static int b_type(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	patch16(wb, 6, 77);
	return r;
}

static int b_direction(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	patch16(wb, 6, VF_C_REPLY);
	return r;
}

static int b_replica(struct vf_wbuf *wb)
{
	return vf_hello_encode(wb, "probe", "0");
}

static int b_reserved(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	vf_wb_put_u32_at(wb, 12, 1);
	return r;
}

static int b_oversized(struct vf_wbuf *wb)
{
	put_hdr(wb, VF_MAGIC_CLIENT, VF_C_REQUEST, VF_MAX_PAYLOAD + 1);
	return wb->err;
}

/* op_len says 5 bytes more than the frame carries. */
static int b_inner_len(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	vf_wb_put_u32_at(wb, VF_HDR_LEN + 16, KV_REQ_HDR_LEN + 5);
	return r;
}

/* A REQUEST payload shorter than its fixed fields. */
static int b_short(struct vf_wbuf *wb)
{
	size_t start = vf_wb_frame_begin(wb, VF_MAGIC_CLIENT, VF_C_REQUEST);

	vf_wb_u64(wb, random_id());
	vf_wb_u16(wb, 1);
	return vf_wb_frame_end(wb, start);
}

/* A well-framed REQUEST whose op is above VF_MAX_OP. */
static int b_op_too_big(struct vf_wbuf *wb)
{
	size_t start = vf_wb_frame_begin(wb, VF_MAGIC_CLIENT, VF_C_REQUEST);
	uint8_t *zero = calloc(1, VF_MAX_OP + 1);

	if (!zero)
		return -ENOMEM;
	vf_wb_u64(wb, random_id());
	vf_wb_u64(wb, 1);
	vf_wb_u32(wb, VF_MAX_OP + 1);
	vf_wb_bytes(wb, zero, VF_MAX_OP + 1);
	free(zero);
	return vf_wb_frame_end(wb, start);
}

/* A header announcing 100 bytes, then 10, then EOF. */
static int b_truncated(struct vf_wbuf *wb)
{
	static const uint8_t ten[10];

	put_hdr(wb, VF_MAGIC_CLIENT, VF_C_REQUEST, 100);
	vf_wb_bytes(wb, ten, sizeof(ten));
	return wb->err;
}

/* Half a header, then EOF. */
static int b_half_header(struct vf_wbuf *wb)
{
	int r = put_get(wb);

	vf_wb_truncate(wb, VF_HDR_LEN / 2);
	return r;
}

static int b_garbage(struct vf_wbuf *wb)
{
	uint8_t junk[512];

	if (getrandom(junk, sizeof(junk), 0) != sizeof(junk))
		return -EIO;
	junk[0] = 'X';	/* never a valid magic */
	vf_wb_bytes(wb, junk, sizeof(junk));
	return wb->err;
}

static int b_kv_opcode(struct vf_wbuf *wb)
{
	uint8_t op[KV_REQ_HDR_LEN];
	int n = kv_req_encode(op, sizeof(op), KV_OP_GET, 0, NULL, 0);

	op[0] = 99;
	return n < 0 ? n : put_request(wb, 1, op, (uint32_t)n);
}

static int b_kv_pad(struct vf_wbuf *wb)
{
	uint8_t op[KV_REQ_HDR_LEN];
	int n = kv_req_encode(op, sizeof(op), KV_OP_GET, 0, NULL, 0);

	op[2] = 1;
	return n < 0 ? n : put_request(wb, 1, op, (uint32_t)n);
}

static int b_kv_key(struct vf_wbuf *wb)
{
	uint8_t op[KV_REQ_HDR_LEN];
	int n = kv_req_encode(op, sizeof(op), KV_OP_GET, UINT32_MAX, NULL, 0);

	return n < 0 ? n : put_request(wb, 1, op, (uint32_t)n);
}

static int b_kv_short(struct vf_wbuf *wb)
{
	static const uint8_t op[3] = { KV_OP_GET, 0, 0 };

	return put_request(wb, 1, op, sizeof(op));
}

static int b_kv_empty(struct vf_wbuf *wb)
{
	return put_request(wb, 1, NULL, 0);
}

static int b_kv_get_value(struct vf_wbuf *wb)
{
	uint8_t op[KV_REQ_HDR_LEN + 4];
	int n = kv_req_encode(op, sizeof(op), KV_OP_PUT, 0, "abcd", 4);

	op[0] = KV_OP_GET;
	return n < 0 ? n : put_request(wb, 1, op, (uint32_t)n);
}

static int b_kv_too_big(struct vf_wbuf *wb)
{
	uint8_t *op = calloc(1, KV_MAX_OP);
	int n;

	if (!op)
		return -ENOMEM;
	n = kv_req_encode(op, KV_MAX_OP, KV_OP_PUT, 0, op + KV_REQ_HDR_LEN,
			  KV_MAX_RECORD_SIZE);
	if (n >= 0)
		n = put_request(wb, 1, op, (uint32_t)n);
	free(op);
	return n;
}

#define ERR(n, w, fn, c1, c2) \
	{ .name = n, .what = w, .build = fn, .ex = EX_ERROR, .codes = { c1, c2 } }
#define CLOSE(n, w, fn) \
	{ .name = n, .what = w, .build = fn, .ex = EX_CLOSE, .half_close = true }
#define KV(n, w, fn, st) \
	{ .name = n, .what = w, .build = fn, .ex = EX_KV, .kv = st }

static const struct pcase cases[] = {
	ERR("magic", "wrong magic", b_magic, VF_ERR_MAGIC, 0),
	ERR("version", "unknown protocol version", b_version, VF_ERR_VERSION, 0),
	ERR("type", "unknown frame type 77", b_type, VF_ERR_TYPE, 0),
	ERR("direction", "a REPLY sent by a client", b_direction, VF_ERR_TYPE,
	    VF_ERR_MALFORMED),
	ERR("replica-frame", "a replica HELLO on the client port", b_replica,
	    VF_ERR_MAGIC, 0),
	ERR("reserved", "nonzero reserved header field", b_reserved,
	    VF_ERR_MALFORMED, 0),
	ERR("oversized", "length above VF_MAX_PAYLOAD", b_oversized,
	    VF_ERR_TOO_BIG, 0),
	ERR("inner-length", "op_len beyond the frame", b_inner_len,
	    VF_ERR_MALFORMED, 0),
	ERR("short", "REQUEST shorter than its fields", b_short,
	    VF_ERR_MALFORMED, 0),
	ERR("op-too-big", "op above VF_MAX_OP", b_op_too_big, VF_ERR_TOO_BIG, 0),
	CLOSE("truncated", "header says 100 bytes, 10 sent, EOF", b_truncated),
	CLOSE("half-header", "8 header bytes, EOF", b_half_header),
	ERR("garbage", "512 random bytes", b_garbage, VF_ERR_MAGIC, 0),
	KV("kv-opcode", "kv op with opcode 99", b_kv_opcode, KV_BAD_REQUEST),
	KV("kv-pad", "kv op with a nonzero pad byte", b_kv_pad, KV_BAD_REQUEST),
	KV("kv-key", "GET of key 2^32-1", b_kv_key, KV_BAD_REQUEST),
	KV("kv-short", "3-byte kv op", b_kv_short, KV_BAD_REQUEST),
	KV("kv-empty", "empty kv op", b_kv_empty, KV_BAD_REQUEST),
	KV("kv-get-value", "GET carrying a value", b_kv_get_value,
	   KV_BAD_REQUEST),
	KV("kv-too-big", "PUT of KV_MAX_RECORD_SIZE bytes", b_kv_too_big,
	   KV_TOO_BIG),
	{ .name = "no-read", .what = "pipelined GETs, replies never read",
	  .ex = EX_DISCONNECT },
	{ .name = "no-read-closing",
	  .what = "replies never read, then a bad frame (ERROR undeliverable)",
	  .ex = EX_LINGER },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/*----------------------------------------------------------------*/
/* Running a case */

static int dial(void)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	int fd, one = 1;

	fd = socket(srv.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&srv, srv_len)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* After the answer: the server must close (EOF or reset) within the time-out. */
static int expect_close(int fd, char *why, size_t whylen)
{
	uint8_t buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "connection still open after %u ms (%s)",
				 timeout_ms, strerror(errno));
			return -1;
		}
		/* More bytes after the answer: tolerated, keep draining. */
	}
}

static int run_case(const struct pcase *pc, char *why, size_t whylen)
{
	static uint8_t buf[VF_MAX_PAYLOAD];
	struct vf_wbuf wb;
	struct vf_hdr h;
	struct vf_error er;
	struct vf_reply rp;
	struct kv_reply kr;
	int fd, r, ok = -1;

	vf_wb_init(&wb, 0);
	r = pc->build(&wb);
	if (r) {
		snprintf(why, whylen, "cannot build the frame: %s", vf_strerror(r));
		vf_wb_free(&wb);
		return -1;
	}
	fd = dial();
	if (fd < 0) {
		snprintf(why, whylen, "connect %s: %s", srv_spec, strerror(-fd));
		vf_wb_free(&wb);
		return -1;
	}
	r = vf_write_all(fd, vf_wb_data(&wb), vf_wb_pending(&wb));
	vf_wb_free(&wb);
	/* The server may close while we still write (oversized frames). */
	if (r && r != -EPIPE && r != -ECONNRESET) {
		snprintf(why, whylen, "send: %s", strerror(-r));
		goto out;
	}
	if (pc->half_close)
		shutdown(fd, SHUT_WR);
	r = vf_read_frame(fd, VF_MAGIC_CLIENT, &h, buf, sizeof(buf));
	if (r == 1 || r == -ECONNRESET) {
		if (pc->ex == EX_CLOSE) {
			snprintf(why, whylen, "closed");
			ok = 0;
		} else {
			snprintf(why, whylen, "closed without an answer");
		}
		goto out;
	}
	if (r == -EAGAIN) {
		snprintf(why, whylen, "no answer in %u ms", timeout_ms);
		goto out;
	}
	if (r) {
		snprintf(why, whylen, "bad answer: %s", vf_strerror(r));
		goto out;
	}
	if (h.type == VF_C_ERROR) {
		if (vf_error_decode(buf, h.len, &er)) {
			snprintf(why, whylen, "malformed ERROR frame");
			goto out;
		}
		if (pc->ex == EX_ERROR &&
		    er.code != pc->codes[0] && er.code != pc->codes[1] &&
		    pc->codes[0]) {
			snprintf(why, whylen, "ERROR %u (%.*s), expected %u",
				 er.code, (int)er.msg_len, er.msg, pc->codes[0]);
			goto out;
		}
		if (pc->ex != EX_ERROR && pc->ex != EX_CLOSE) {
			snprintf(why, whylen, "ERROR %u (%.*s), expected a REPLY",
				 er.code, (int)er.msg_len, er.msg);
			goto out;
		}
		snprintf(why, whylen, "ERROR %u \"%.*s\", then ", er.code,
			 (int)er.msg_len, er.msg);
		if (expect_close(fd, why + strlen(why), whylen - strlen(why)))
			goto out;
		strncat(why, "closed", whylen - strlen(why) - 1);
		ok = 0;
		goto out;
	}
	if (h.type != VF_C_REPLY || pc->ex != EX_KV) {
		snprintf(why, whylen, "got a %s frame, expected %s",
			 vf_type_name(h.type),
			 pc->ex == EX_KV ? "a REPLY" : "an ERROR and a close");
		goto out;
	}
	if (vf_reply_decode(buf, h.len, &rp) || rp.status != VF_ST_OK ||
	    kv_reply_decode(rp.data, rp.len, &kr)) {
		snprintf(why, whylen, "REPLY with status %u is not a kv reply",
			 rp.status);
		goto out;
	}
	if (kr.status != pc->kv) {
		snprintf(why, whylen, "kv status %s, expected %s",
			 kv_status_name(kr.status), kv_status_name(pc->kv));
		goto out;
	}
	snprintf(why, whylen, "REPLY kv status %s", kv_status_name(kr.status));
	ok = 0;
out:
	close(fd);
	return ok;
}

/*
 * Pipeline GET requests on @fd without ever reading, whole frames only (the
 * stream stays well-formed), until @limit bytes are sent (0), the server
 * drops the connection (1) or the deadline passes (-1). *@sent counts
 * the bytes sent. @paced: pause 5 ms every 100 requests, so that what was
 * sent is about what the server has processed (no megabytes in flight in
 * socket buffers).
 */
static int pipeline(int fd, uint64_t limit, time_t deadline, uint64_t *sent,
		    bool paced)
{
	static const struct timespec pause = { 0, 5000000 };
	uint8_t op[KV_REQ_HDR_LEN], key[VF_SESSION_KEY_LEN];
	struct vf_request rq = { .op = op, .key = key };
	struct vf_wbuf wb;
	struct pollfd pfd;
	uint64_t seq = 1;
	size_t frame;
	int n, r, ret = -1;
	ssize_t w;

	n = kv_req_encode(op, sizeof(op), KV_OP_GET, 0, NULL, 0);
	if (n < 0 || vf_session_new(key, &rq.client_id))
		return -1;
	rq.op_len = (uint32_t)n;
	*sent = 0;
	vf_wb_init(&wb, 0);
	rq.seq = seq;
	vf_request_encode(&wb, &rq);
	frame = vf_wb_pending(&wb);
	while (time(NULL) < deadline) {
		if (vf_wb_pending(&wb) == frame && *sent >= limit) {
			ret = 0;
			break;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT | POLLRDHUP;
		r = poll(&pfd, 1, 200);
		if (r > 0 && pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			ret = 1;
			break;
		}
		if (r <= 0 || !(pfd.revents & POLLOUT))
			continue;
		w = vf_wb_send(fd, &wb, SIZE_MAX);
		if (w == -EPIPE || w == -ECONNRESET) {
			ret = 1;
			break;
		}
		if (w < 0)
			continue;
		*sent += (uint64_t)w;
		if (!vf_wb_pending(&wb)) {
			rq.seq = ++seq;
			vf_wb_reset(&wb);
			vf_request_encode(&wb, &rq);
			if (paced && seq % 100 == 0)
				nanosleep(&pause, NULL);
		}
	}
	vf_wb_free(&wb);
	return ret;
}

/*
 * No SO_RCVBUF shrinking: with a receive buffer of a few KiB, Linux drops
 * the server's segments that carry its ACKs together with data beyond our
 * zero window, and both ends stall in retransmits. The default buffer
 * does not grow when the application never reads.
 */

/*
 * A client that pipelines requests and never reads its replies must be
 * disconnected once its output buffer passes the server's bound.
 */
static int run_noread(char *why, size_t whylen)
{
	uint64_t sent;
	int fd, r;

	fd = dial();
	if (fd < 0) {
		snprintf(why, whylen, "connect %s: %s", srv_spec, strerror(-fd));
		return -1;
	}
	r = pipeline(fd, UINT64_MAX, time(NULL) + noread_secs, &sent, false);
	close(fd);
	if (r != 1) {
		snprintf(why, whylen, "still connected after %u s and %" PRIu64
			 " bytes of requests", noread_secs, sent);
		return -1;
	}
	snprintf(why, whylen, "disconnected after %" PRIu64
		 " bytes of requests", sent);
	return 0;
}

/*
 * A client that never reads, then sends a bad frame: the server answers
 * with an ERROR frame it cannot deliver (the client's window is closed and
 * the server's output is backed up) and must still drop the connection
 * within a bounded time. The client pipelines requests (paced) until its
 * own receive queue has stopped growing for 300 ms (its window is closed,
 * the server's output backs up), sends a few more, then the bad frame;
 * far below the server's output bound, which would drop it anyway.
 */
/* 100 GET requests */
#define NOREAD_CHUNK	(100 * (48 + VF_SESSION_KEY_LEN))

static int run_noread_closing(char *why, size_t whylen)
{
	static const uint8_t bad[VF_HDR_LEN] = "XXXXbad-magic!!";
	time_t deadline = time(NULL) + noread_secs;
	struct timespec t0, t1, grew;
	uint64_t sent = 0, n;
	int fd, r, inq, last_inq = -1, extra = -1, ok = -1;
	struct pollfd pfd;
	long ms;

	fd = dial();
	if (fd < 0) {
		snprintf(why, whylen, "connect %s: %s", srv_spec, strerror(-fd));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &grew);
	while (extra) {
		r = pipeline(fd, NOREAD_CHUNK, deadline, &n, true);
		sent += n;
		if (r) {
			snprintf(why, whylen, "%s after %" PRIu64 " bytes of requests, before the bad frame",
				 r == 1 ? "disconnected" : "stuck", sent);
			goto out;
		}
		if (extra > 0) {
			extra--;
			continue;
		}
		if (ioctl(fd, FIONREAD, &inq) < 0)
			inq = 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (inq != last_inq) {
			last_inq = inq;
			grew = t1;
		} else if (inq > 0 && (t1.tv_sec - grew.tv_sec) * 1000 +
			   (t1.tv_nsec - grew.tv_nsec) / 1000000 >= 300) {
			extra = 2;	/* window closed: back up a bit more */
		}
	}
	r = vf_write_all(fd, bad, sizeof(bad));
	if (r) {
		snprintf(why, whylen, "sending the bad frame: %s", strerror(-r));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fd;
	pfd.events = POLLRDHUP;
	r = poll(&pfd, 1, noread_secs * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (r <= 0 || !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		snprintf(why, whylen, "still connected %ld ms after the bad frame (%" PRIu64 " bytes of requests before it)",
			 ms, sent);
		goto out;
	}
	snprintf(why, whylen, "dropped %ld ms after the bad frame (%" PRIu64 " bytes of requests before it, %d unread)",
		 ms, sent, last_inq);
	ok = 0;
out:
	close(fd);
	return ok;
}

/*----------------------------------------------------------------*/
/*
 * Fake replica: started by vmfitd as its replica (replica_cmd =
 * vmfit-probe --fake-replica MODE; vmfitd appends --fd N --state PATH).
 * It says HELLO and answers the first EXEC with a broken frame, then reads
 * until the manager closes the channel. The manager must treat this as the
 * replica's fault: log it, stop using the replica, keep running.
 */
static const char *const fake_modes[] = {
	"garbage",	/* 256 random bytes instead of a RESULT */
	"bad-magic",	/* a RESULT with the client magic */
	"bad-version",	/* a RESULT with version 2 */
	"bad-type",	/* frame type 99 */
	"oversized",	/* header announcing VF_MAX_PAYLOAD + 1 bytes */
	"short",	/* RESULT payload shorter than its fields */
	"wrong-order",	/* RESULT for an order never sent */
	"truncated",	/* RESULT header, half the payload, EOF */
	"hostile-hello", /* HELLO strings with escapes, new lines, 0xff,
			  * 1000 bytes long; then a correct replica of
			  * nothing (answers its first EXEC "not found") */
	NULL,
};

/* Terminal escapes, a forged log line, bytes syslog would mangle. */
static void hostile_hello(struct vf_wbuf *wb)
{
	static char impl[1001];
	size_t n;

	n = snprintf(impl, sizeof(impl),
		     "evil\x1b[2J\x1b[31m\r\nvmfitd: forged line\x7f\xff\\");
	memset(impl + n, 'A', sizeof(impl) - 1 - n);
	impl[sizeof(impl) - 1] = '\0';
	vf_hello_encode(wb, impl, "1\n2");
}

static int fake_replica(const char *mode, int fd)
{
	static uint8_t buf[VF_MAX_PAYLOAD];
	uint8_t kvr[KV_REPLY_HDR_LEN], junk[256];
	struct vf_result res;
	struct vf_exec ex;
	struct vf_wbuf wb;
	struct vf_hdr h;
	bool done = false;
	size_t start;
	int r, n;

	vf_wb_init(&wb, 0);
	if (!strcmp(mode, "hostile-hello"))
		hostile_hello(&wb);
	else
		vf_hello_encode(&wb, "vmfit-probe-fake", mode);
	r = vf_wb_flush_fd(fd, &wb);
	while (!r) {
		r = vf_read_frame(fd, VF_MAGIC_REPLICA, &h, buf, sizeof(buf));
		if (r)
			break;
		if (h.type != VF_R_EXEC || done ||
		    vf_exec_decode(buf, h.len, &ex))
			continue;
		done = true;
		n = kv_reply_encode(kvr, sizeof(kvr), KV_NOT_FOUND, NULL, 0);
		res.order = ex.order;
		res.len = n < 0 ? 0 : (uint32_t)n;
		res.data = kvr;
		vf_wb_reset(&wb);
		if (!strcmp(mode, "garbage")) {
			if (getrandom(junk, sizeof(junk), 0) != sizeof(junk))
				memset(junk, 0xa5, sizeof(junk));
			junk[0] = 'X';
			vf_wb_bytes(&wb, junk, sizeof(junk));
		} else if (!strcmp(mode, "wrong-order")) {
			res.order = ex.order + 1000000;
			vf_result_encode(&wb, &res);
		} else if (!strcmp(mode, "short")) {
			start = vf_wb_frame_begin(&wb, VF_MAGIC_REPLICA, VF_R_RESULT);
			vf_wb_u64(&wb, ex.order);
			vf_wb_u16(&wb, 0);
			vf_wb_frame_end(&wb, start);
		} else if (!strcmp(mode, "oversized")) {
			put_hdr(&wb, VF_MAGIC_REPLICA, VF_R_RESULT,
				VF_MAX_PAYLOAD + 1);
		} else {
			vf_result_encode(&wb, &res);
			if (!strcmp(mode, "bad-magic"))
				vf_wb_put_u32_at(&wb, 0, VF_MAGIC_CLIENT);
			else if (!strcmp(mode, "bad-version"))
				patch16(&wb, 4, VF_PROTO_VERSION + 1);
			else if (!strcmp(mode, "bad-type"))
				patch16(&wb, 6, 99);
			else if (!strcmp(mode, "truncated"))
				vf_wb_truncate(&wb, vf_wb_pending(&wb) - 6);
		}
		r = vf_wb_flush_fd(fd, &wb);
		if (!strcmp(mode, "truncated"))
			break;
	}
	vf_wb_free(&wb);
	close(fd);
	/* EOF or a reset from the manager is the expected end. */
	return 0;
}

/*----------------------------------------------------------------*/
/*
 * One request (--get / --put): print what came back, for tests that look
 * at a single answer of one manager (its REPLY status, its kv status).
 */

static int one_request(uint8_t opcode, uint32_t key, const char *val,
		       uint16_t version)
{
	static uint8_t buf[VF_MAX_PAYLOAD];
	uint8_t op[KV_REQ_HDR_LEN + 256];
	uint32_t vlen = val ? strlen(val) : 0;
	struct vf_wbuf wb;
	struct vf_reply rp;
	struct vf_error er;
	struct kv_reply kr;
	struct vf_hdr h;
	int fd, n, r, rc = 1;

	n = kv_req_encode(op, sizeof(op), opcode, key, val, vlen);
	if (n < 0) {
		fprintf(stderr, PROG ": cannot encode the kv op: %s\n",
			strerror(-n));
		return 2;
	}
	vf_wb_init(&wb, 0);
	if (version >= VF_CLIENT_VERSION_SESSION) {
		r = put_request(&wb, 1, op, (uint32_t)n);
	} else {
		/* Before sessions: no key (the manager may refuse it). */
		struct vf_request rq = {
			.client_id = random_id(), .seq = 1,
			.op_len = (uint32_t)n, .op = op,
		};

		r = vf_request_encode(&wb, &rq);
	}
	if (!r && version != VF_CLIENT_VERSION)
		patch16(&wb, 4, version);
	fd = r ? r : dial();
	if (fd < 0) {
		printf("CONNECT-FAILED %s\n", strerror(-fd));
		vf_wb_free(&wb);
		return 1;
	}
	r = vf_write_all(fd, vf_wb_data(&wb), vf_wb_pending(&wb));
	vf_wb_free(&wb);
	if (!r)
		r = vf_read_frame(fd, VF_MAGIC_CLIENT, &h, buf, sizeof(buf));
	close(fd);
	if (r == -EAGAIN) {
		printf("TIMEOUT no answer in %u ms\n", timeout_ms);
	} else if (r) {
		printf("CLOSED %s\n", vf_strerror(r));
	} else if (h.type == VF_C_ERROR && !vf_error_decode(buf, h.len, &er)) {
		printf("ERROR version=%u code=%u %.*s\n", h.version, er.code,
		       (int)er.msg_len, er.msg);
	} else if (h.type != VF_C_REPLY || vf_reply_decode(buf, h.len, &rp)) {
		printf("BAD-FRAME type %s\n", vf_type_name(h.type));
	} else if (rp.status != VF_ST_OK) {
		printf("REPLY version=%u status=%s\n", h.version,
		       vf_status_name(rp.status));
		rc = 0;
	} else if (kv_reply_decode(rp.data, rp.len, &kr)) {
		printf("BAD-FRAME malformed kv reply\n");
	} else {
		printf("REPLY version=%u status=OK kv=%s value=%.*s\n",
		       h.version, kv_status_name(kr.status),
		       (int)(kr.val_len > 64 ? 64 : kr.val_len), kr.val);
		rc = 0;
	}
	return rc;
}

/*----------------------------------------------------------------*/

static const char usage_text[] =
"Usage: vmfit-probe --server HOST:PORT [options] [CASE...]\n"
"       vmfit-probe --server HOST:PORT --get KEY | --put KEY=VALUE [--v1]\n"
"       vmfit-probe --list\n"
"       vmfit-probe --fake-replica MODE --fd N [--state PATH] [...]\n"
"\n"
"Send bad client input to a vmfitd and check each answer against\n"
"Documentation/protocol.rst: framing errors get an ERROR frame with the\n"
"right code and a close; kv operations the service rejects get a voted\n"
"REPLY with the kv status; a client that never reads is disconnected.\n"
"Each case uses its own connection. Without CASE, every case runs.\n"
"\n"
"Options:\n"
"  -s, --server HOST:PORT  the vmfitd client endpoint\n"
"  -t, --timeout MS        wait for each answer (default 5000)\n"
"      --noread-secs N     give up on no-read after N s (default 30)\n"
"  -l, --list              list the cases\n"
"  -v, --verbose           print passing cases too\n"
"      --get KEY           send one kv GET and print the answer\n"
"      --put KEY=VALUE     send one kv PUT (VALUE up to 255 bytes)\n"
"      --v1                --get/--put in client protocol version 1\n"
"  -h, --help              this text\n"
"\n"
"With --fake-replica, act as a broken replica on the replica channel fd N\n"
"(as vmfitd starts replicas: replica_cmd = vmfit-probe --fake-replica MODE):\n"
"send HELLO, answer the first EXEC with a broken frame, read until EOF.\n"
"MODE: garbage, bad-magic, bad-version, bad-type, oversized, short,\n"
"wrong-order, truncated; hostile-hello sends HELLO strings made to\n"
"garble a log (escapes, new lines, 1000 bytes), then answers correctly.\n"
"Other replica options are accepted and ignored.\n"
"\n"
"Output: one line per case, \"PASS|FAIL name: what happened\".\n"
"Exit status: 0 when every case passed, 1 otherwise, 2 on bad usage.\n"
"\n"
"--get/--put print one line: \"REPLY version=V status=S [kv=K value=...]\",\n"
"\"ERROR version=V code=C text\", \"TIMEOUT ...\", \"CLOSED ...\" or\n"
"\"CONNECT-FAILED ...\"; exit status 0 for a REPLY, else 1.\n";

static int resolve(char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char *colon = strrchr(spec, ':');
	int r;

	if (!colon || colon == spec || !colon[1])
		return -EINVAL;
	*colon = 0;
	r = getaddrinfo(spec, colon + 1, &hints, &ai);
	*colon = ':';
	if (r)
		return -EHOSTUNREACH;
	memcpy(&srv, ai->ai_addr, ai->ai_addrlen);
	srv_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "noread-secs", required_argument, NULL, 'N' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "fake-replica", required_argument, NULL, 'F' },
		{ "fd", required_argument, NULL, 'D' },
		{ "get", required_argument, NULL, 'G' },
		{ "put", required_argument, NULL, 'P' },
		{ "v1", no_argument, NULL, '1' },
		/* replica options vmfitd or the config may pass: ignored */
		{ "state", required_argument, NULL, 'I' },
		{ "records", required_argument, NULL, 'I' },
		{ "record-size", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fake = NULL, *val = NULL;
	uint16_t version = VF_CLIENT_VERSION;
	uint8_t opcode = 0;
	unsigned long key = 0;
	int rfd = -1;
	char why[512], *end;
	bool selected[NCASES] = { false }, any = false;
	unsigned int i, pass = 0, fail = 0;
	int o, r;

	while ((o = getopt_long(argc, argv, "s:t:lvh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			srv_spec = optarg;
			if (resolve(optarg)) {
				fprintf(stderr, PROG ": --server: '%s' is not a "
					"reachable HOST:PORT\n", optarg);
				return 2;
			}
			break;
		case 't':
		case 'N':
			errno = 0;
			r = (int)strtol(optarg, &end, 10);
			if (errno || *end || r <= 0) {
				fprintf(stderr, PROG ": '%s' is not a positive "
					"integer\n", optarg);
				return 2;
			}
			if (o == 't')
				timeout_ms = (unsigned int)r;
			else
				noread_secs = (unsigned int)r;
			break;
		case 'l':
			for (i = 0; i < NCASES; i++)
				printf("%-14s %s\n", cases[i].name, cases[i].what);
			return 0;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'F':
			fake = optarg;
			break;
		case 'D':
			rfd = (int)strtol(optarg, &end, 10);
			if (*end || rfd < 0) {
				fprintf(stderr, PROG ": --fd: bad fd '%s'\n", optarg);
				return 2;
			}
			break;
		case 'G':
		case 'P':
			opcode = o == 'G' ? KV_OP_GET : KV_OP_PUT;
			errno = 0;
			key = strtoul(optarg, &end, 10);
			if (errno || end == optarg || key > UINT32_MAX ||
			    (o == 'G' ? *end != '\0' : *end != '=')) {
				fprintf(stderr, PROG ": expected %s, got '%s'\n",
					o == 'G' ? "--get KEY" : "--put KEY=VALUE",
					optarg);
				return 2;
			}
			val = o == 'P' ? end + 1 : NULL;
			break;
		case '1':
			version = 1;
			break;
		case 'I':
			break;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (fake) {
		for (i = 0; fake_modes[i]; i++)
			if (!strcmp(fake, fake_modes[i]))
				break;
		if (!fake_modes[i] || rfd < 0) {
			fprintf(stderr, PROG ": --fake-replica needs a MODE (%s) "
				"and --fd\n", fake_modes[i] ? "" : "unknown mode");
			return 2;
		}
		signal(SIGPIPE, SIG_IGN);
		return fake_replica(fake, rfd);
	}
	if (!srv_spec) {
		fprintf(stderr, PROG ": --server is required\nTry '" PROG
			" --help'.\n");
		return 2;
	}
	if (opcode) {
		if (optind < argc) {
			fprintf(stderr, PROG ": no CASE with --get/--put\n");
			return 2;
		}
		signal(SIGPIPE, SIG_IGN);
		return one_request(opcode, (uint32_t)key, val, version);
	}
	for (; optind < argc; optind++) {
		for (i = 0; i < NCASES; i++)
			if (!strcmp(argv[optind], cases[i].name))
				break;
		if (i == NCASES) {
			fprintf(stderr, PROG ": unknown case '%s' (see --list)\n",
				argv[optind]);
			return 2;
		}
		selected[i] = true;
		any = true;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NCASES; i++) {
		if (any && !selected[i])
			continue;
		why[0] = 0;
		if (cases[i].ex == EX_DISCONNECT)
			r = run_noread(why, sizeof(why));
		else if (cases[i].ex == EX_LINGER)
			r = run_noread_closing(why, sizeof(why));
		else
			r = run_case(&cases[i], why, sizeof(why));
		if (r)
			fail++;
		else
			pass++;
		if (r || verbose)
			printf("%s %s (%s): %s\n", r ? "FAIL" : "PASS",
			       cases[i].name, cases[i].what, why);
		fflush(stdout);
	}
	printf("vmfit-probe: %u passed, %u failed\n", pass, fail);
	return fail ? 1 : 0;
}
