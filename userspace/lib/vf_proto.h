/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_proto.h - codec for the vmfit client protocol and replica channel.
 *
 * Documentation/protocol.rst is the byte-level contract; this is its only
 * implementation. Everything here is pure (no allocation except in the
 * growable writer, no global state) apart from the blocking fd helpers at
 * the end, meant for simple peers (replicas, test clients).
 *
 * Return convention (every int-returning function):
 *   0 (or a documented positive value)   success
 *   -errno                               I/O or allocation error
 *   -VF_E(code)                          protocol error; code is one of
 *                                        VF_ERR_* (the wire error code)
 * VF_E() adds VF_EBASE (4096, above every errno value) so the two ranges
 * cannot collide. vf_err_code(r) turns a return value back into a wire
 * code (0 if r is not a protocol error); vf_strerror(r) describes either.
 */
#ifndef VF_PROTO_H
#define VF_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VF_MAGIC_CLIENT		0x43464d56u	/* "VMFC" little-endian */
#define VF_MAGIC_REPLICA	0x52464d56u	/* "VMFR" little-endian */
#define VF_MAGIC_PEER		0x50464d56u	/* "VMFP": manager peers */
#define VF_PROTO_VERSION	1	/* replica channel */
/*
 * Client protocol versions (protocol.rst "Versions"): a server accepts
 * every version from VF_CLIENT_VERSION_MIN and answers each REQUEST in the
 * version it came in. 2 added the REPLY status VF_ST_NOT_PRIMARY; 3 the
 * session key in REQUEST (vf_session.h).
 */
#define VF_CLIENT_VERSION	3
#define VF_CLIENT_VERSION_MIN	1
#define VF_CLIENT_VERSION_SESSION 3	/* REQUEST carries a session key */
#define VF_SESSION_KEY_LEN	32
#define VF_HDR_LEN		16
#define VF_MAX_PAYLOAD		(1u << 20)	/* per frame */
#define VF_MAX_OP		(64u << 10)	/* per op and per reply data */
#define VF_MAX_ERRMSG		1024		/* longest ERROR text we send */

/*
 * Frame types. Client protocol: 1..3; replica channel: 16..23; manager
 * peer connections (recovery chunk transfer, vf_rcv.h): 32..34.
 */
enum {
	VF_C_REQUEST = 1,
	VF_C_REPLY,
	VF_C_ERROR,
	VF_R_HELLO = 16,
	VF_R_EXEC,
	VF_R_RESULT,
	VF_R_CHECKPOINT,
	VF_R_CHECKPOINT_DONE,
	VF_R_RESTORE,
	VF_R_RESTORE_DONE,
	VF_R_ERROR,
	VF_P_FETCH = 32,
	VF_P_CHUNK,
	VF_P_ERROR,
};

/* Wire error codes (ERROR frames). */
enum {
	VF_ERR_MALFORMED = 1,
	VF_ERR_VERSION,
	VF_ERR_TYPE,
	VF_ERR_TOO_BIG,
	VF_ERR_BUSY,
	VF_ERR_MAGIC,
	VF_ERR_ROUND,		/* recovery: not the current round */
	VF_ERR_CHUNK,		/* recovery: unknown chunk or tree node */
	VF_ERR_DIGEST,		/* recovery: digest of the wrong size */
	VF_ERR_STALE,		/* request refused, not executed */
	VF_ERR_AUTH,		/* session key does not match client_id */
	VF_ERR_LAST = VF_ERR_AUTH,
};

/* Client REPLY status values. */
enum {
	VF_ST_OK = 0,
	VF_ST_BUSY = 1,
	VF_ST_UNAVAILABLE = 2,
	VF_ST_NOT_PRIMARY = 3,	/* version 2: outside the primary component */
};

#define VF_EBASE	4096
#define VF_E(code)	(VF_EBASE + (code))

static inline int vf_err_code(int r)
{
	return (r < -VF_EBASE && r >= -VF_E(VF_ERR_LAST)) ? -r - VF_EBASE : 0;
}

const char *vf_strerror(int r);
const char *vf_type_name(uint16_t type);
/* "OK", "BUSY", "UNAVAILABLE", "NOT_PRIMARY" or "?" (REPLY status). */
const char *vf_status_name(uint32_t status);

/*----------------------------------------------------------------*/
/* Frame header */

struct vf_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;		/* payload bytes after the header */
	uint32_t reserved;	/* must be 0 */
};

void vf_hdr_encode(uint8_t out[VF_HDR_LEN], uint32_t magic, uint16_t type,
		   uint32_t len);

/*
 * Decode and validate VF_HDR_LEN bytes against @magic: magic, version,
 * reserved == 0, length <= VF_MAX_PAYLOAD, type known for that protocol
 * (direction is the caller's business). Fills @h even on error where it
 * can, so the caller can log what it got.
 */
int vf_hdr_decode(const uint8_t *p, uint32_t magic, struct vf_hdr *h);

/*
 * For non-blocking stream readers: look at the @n bytes buffered at @p.
 * Returns the total size (header + payload) of the complete frame at the
 * start of the buffer, 0 if more bytes are needed, or -VF_E(code) as soon
 * as the header is known to be bad (so a bad peer is rejected before its
 * payload is buffered).
 */
long vf_frame_peek(const uint8_t *p, size_t n, uint32_t magic,
		   struct vf_hdr *h);

/*----------------------------------------------------------------*/
/* Bounds-checked reader and growable writer (little-endian) */

struct vf_rd {
	const uint8_t *p;
	size_t n;
	size_t off;
	int err;		/* sticky: first error, 0 if none */
};

static inline void vf_rd_init(struct vf_rd *rd, const void *p, size_t n)
{
	rd->p = p;
	rd->n = n;
	rd->off = 0;
	rd->err = 0;
}

uint16_t vf_rd_u16(struct vf_rd *rd);
uint32_t vf_rd_u32(struct vf_rd *rd);
uint64_t vf_rd_u64(struct vf_rd *rd);
/* Returns a pointer to @len bytes inside the buffer, NULL on overrun. */
const uint8_t *vf_rd_bytes(struct vf_rd *rd, size_t len);
/* 0 if no error and every byte consumed, else -VF_E(VF_ERR_MALFORMED). */
int vf_rd_end(const struct vf_rd *rd);

/*
 * An append buffer with a read offset: bytes are appended at the tail and
 * sent from the head, mem[head, tail) is pending. Consuming sent bytes only
 * moves the head; they are dropped (the pending bytes moved to the front of
 * the allocation) lazily, when an append needs the room at the tail and the
 * consumed prefix is at least half as long as what is pending. So every
 * compaction moves at most twice the bytes consumed since the previous one
 * (@moved counts them): sending a buffer is linear in its size however
 * small the sends. Otherwise the allocation grows: with a limit it stays
 * below one and a half times the limit.
 *
 * Read it only through vf_wb_data() and vf_wb_pending(). Offsets (those of
 * vf_wb_frame_begin() and vf_wb_pos(), taken by vf_wb_put_u32_at()) are
 * positions in the stream of bytes appended since the last reset, not
 * indexes into the allocation: @base, the position of mem[0], grows by
 * what a compaction drops, so an offset stays valid across consumes and
 * compactions until the bytes it names are consumed.
 */
struct vf_wbuf {
	uint8_t *mem;		/* the allocation, @cap bytes */
	size_t head;		/* mem index of the first pending byte */
	size_t tail;		/* mem index past the last pending byte */
	size_t base;		/* stream position of mem[0] */
	size_t cap;
	size_t limit;		/* 0: none; else the most bytes pending */
	int err;		/* sticky: -ENOMEM or -VF_E(VF_ERR_TOO_BIG) */
	uint64_t moved;		/* bytes moved by compaction since init */
};

void vf_wb_init(struct vf_wbuf *wb, size_t limit);
void vf_wb_free(struct vf_wbuf *wb);
/* Drop every byte, clear err; keeps the memory. Offsets restart at 0. */
void vf_wb_reset(struct vf_wbuf *wb);
/* Drop the first @n pending bytes (sent by a partial write). */
void vf_wb_consume(struct vf_wbuf *wb, size_t n);
/* Drop the pending bytes after the first @n (tests, fault injection). */
void vf_wb_truncate(struct vf_wbuf *wb, size_t n);
int vf_wb_reserve(struct vf_wbuf *wb, size_t more);
void vf_wb_u16(struct vf_wbuf *wb, uint16_t v);
void vf_wb_u32(struct vf_wbuf *wb, uint32_t v);
void vf_wb_u64(struct vf_wbuf *wb, uint64_t v);
void vf_wb_bytes(struct vf_wbuf *wb, const void *p, size_t n);
/* Patch a u32 at offset @off (written, not yet consumed). */
void vf_wb_put_u32_at(struct vf_wbuf *wb, size_t off, uint32_t v);

/* The bytes appended and not yet consumed: how many, and where. */
static inline size_t vf_wb_pending(const struct vf_wbuf *wb)
{
	return wb->tail - wb->head;
}

/* Valid until the next append, consume or reset; NULL if never written. */
static inline uint8_t *vf_wb_data(const struct vf_wbuf *wb)
{
	return wb->mem ? wb->mem + wb->head : NULL;
}

/* The offset of the next byte appended. */
static inline size_t vf_wb_pos(const struct vf_wbuf *wb)
{
	return wb->base + wb->tail;
}

/*
 * Frame building: vf_wb_frame_begin() appends a header with length 0 and
 * returns its offset; vf_wb_frame_end() patches the length, checks it
 * against VF_MAX_PAYLOAD (too big: the frame is dropped) and returns
 * wb->err, or -EINVAL if the header was consumed already (a caller's bug:
 * a frame is sent only once it is complete).
 */
size_t vf_wb_frame_begin(struct vf_wbuf *wb, uint32_t magic, uint16_t type);
int vf_wb_frame_end(struct vf_wbuf *wb, size_t start);

/*----------------------------------------------------------------*/
/*
 * Messages. Decoders take the payload (after the header) and its length,
 * check that the internal lengths add up to exactly @n and per-field limits
 * (VF_MAX_OP), and return 0 or -VF_E(code). Byte fields point into the
 * payload: it must outlive the struct. Text fields are NOT NUL-terminated.
 * Encoders append one complete frame (header + payload) to @wb and return
 * 0 or the writer's error.
 */

struct vf_request {
	uint64_t client_id;
	uint64_t seq;
	uint32_t op_len;
	const uint8_t *op;
	/* Version 3: VF_SESSION_KEY_LEN bytes; NULL: a version 2 frame
	 * (encode) or a version 1/2 one (decode). */
	const uint8_t *key;
};

struct vf_reply {
	uint64_t client_id;
	uint64_t seq;
	uint32_t status;	/* VF_ST_* */
	uint32_t len;
	const uint8_t *data;
	uint16_t version;	/* header version to encode, 0: current */
};

/* ERROR frame, both protocols. */
struct vf_error {
	uint32_t code;		/* VF_ERR_* */
	uint16_t msg_len;
	const char *msg;
};

struct vf_hello {
	uint32_t proto_version;
	uint16_t impl_len;
	const char *impl;
	uint16_t ver_len;
	const char *ver;
};

struct vf_exec {
	uint64_t order;
	uint64_t client_id;
	uint64_t seq;
	uint32_t op_len;
	const uint8_t *op;
};

struct vf_result {
	uint64_t order;
	uint32_t len;
	const uint8_t *data;
};

/* CHECKPOINT_DONE and RESTORE_DONE share this layout. */
struct vf_done {
	uint64_t order;
	uint32_t status;	/* 0 ok, else a positive errno */
};

/* @version: the frame header's; from 3 on the session key is required. */
int vf_request_decode(const uint8_t *p, size_t n, uint16_t version,
		      struct vf_request *m);
int vf_reply_decode(const uint8_t *p, size_t n, struct vf_reply *m);
int vf_error_decode(const uint8_t *p, size_t n, struct vf_error *m);
int vf_hello_decode(const uint8_t *p, size_t n, struct vf_hello *m);
int vf_exec_decode(const uint8_t *p, size_t n, struct vf_exec *m);
int vf_result_decode(const uint8_t *p, size_t n, struct vf_result *m);
/* CHECKPOINT: u64 order */
int vf_checkpoint_decode(const uint8_t *p, size_t n, uint64_t *order);
int vf_done_decode(const uint8_t *p, size_t n, struct vf_done *m);
/* RESTORE: empty payload */
int vf_empty_decode(const uint8_t *p, size_t n);

/* Version 3 with m->key, else version 2 (no session). */
int vf_request_encode(struct vf_wbuf *wb, const struct vf_request *m);
/*
 * A REPLY in m->version (VF_CLIENT_VERSION_MIN..VF_CLIENT_VERSION, 0 for
 * the current one): a status that version does not know goes out as the
 * one it does (VF_ST_NOT_PRIMARY as VF_ST_UNAVAILABLE for version 1).
 */
int vf_reply_encode(struct vf_wbuf *wb, const struct vf_reply *m);
/* @magic selects the protocol (VF_C_ERROR or VF_R_ERROR); @msg a C string,
 * truncated to VF_MAX_ERRMSG bytes. A client ERROR is sent in version
 * VF_CLIENT_VERSION_MIN, which every client speaks. */
int vf_error_encode(struct vf_wbuf *wb, uint32_t magic, uint32_t code,
		    const char *msg);
int vf_hello_encode(struct vf_wbuf *wb, const char *impl, const char *ver);
int vf_exec_encode(struct vf_wbuf *wb, const struct vf_exec *m);
int vf_result_encode(struct vf_wbuf *wb, const struct vf_result *m);
int vf_checkpoint_encode(struct vf_wbuf *wb, uint64_t order);
/* @type: VF_R_CHECKPOINT_DONE or VF_R_RESTORE_DONE */
int vf_done_encode(struct vf_wbuf *wb, uint16_t type,
		   const struct vf_done *m);
int vf_restore_encode(struct vf_wbuf *wb);

/*----------------------------------------------------------------*/
/* Blocking fd helpers (EINTR-safe; not for the daemon's event loop) */

int vf_write_all(int fd, const void *p, size_t n);
int vf_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
int vf_read_all(int fd, void *p, size_t n);	/* -EPIPE on early EOF */

/*
 * Read one frame: header into @h (validated against @magic), payload into
 * @buf. Returns 0, 1 on a clean EOF before the first header byte, -EPIPE
 * on EOF inside a frame, -errno, or -VF_E(code) for a bad header or a
 * payload larger than @cap (VF_ERR_TOO_BIG; the payload is not consumed,
 * the stream is then unusable).
 */
int vf_read_frame(int fd, uint32_t magic, struct vf_hdr *h, uint8_t *buf,
		  size_t cap);
/* Write one frame with payload @p of @n bytes. */
int vf_write_frame(int fd, uint32_t magic, uint16_t type, const void *p,
		   uint32_t n);
/* Write everything pending in @wb, then reset it. */
int vf_wb_flush_fd(int fd, struct vf_wbuf *wb);

/*----------------------------------------------------------------*/
/* Event-loop output (non-blocking sockets) */

/*
 * Send what @wb holds to the socket @fd as far as it takes it without
 * blocking, at most @max bytes (SIZE_MAX: no cap), and consume what went.
 * Returns the bytes sent (0: nothing pending, @max 0, or the socket full;
 * vf_wb_pending() tells whether all went), or -errno of the first other
 * send() failure (what went before it is consumed; the connection is
 * broken). Never raises SIGPIPE (a closed peer is -EPIPE) and never
 * blocks, even on a blocking socket; EINTR is retried.
 */
ssize_t vf_wb_send(int fd, struct vf_wbuf *wb, size_t max);

#endif /* VF_PROTO_H */
