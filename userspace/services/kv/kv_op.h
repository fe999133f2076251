/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_op.h - the key-value service's request and reply format.
 *
 * This is the one place that knows the bytes of a kv operation (the opaque
 * "op" of a vmfit REQUEST/EXEC and the "data" of a RESULT/REPLY). It is used
 * by both replica implementations, by the client emulator and by the tests.
 * Documentation/kv-service.rst describes the format; everything is
 * little-endian:
 *
 *   request: u8 opcode, u8 pad[3] (0), u32 key, u32 val_len, val[val_len]
 *   reply:   u8 status, u8 pad[3] (0), u32 val_len, val[val_len]
 *
 * Pure functions: no allocation, no I/O, safe on any input.
 */
#ifndef KV_OP_H
#define KV_OP_H

#include <stddef.h>
#include <stdint.h>

#define KV_OP_GET		1
#define KV_OP_PUT		2

enum kv_status {
	KV_OK = 0,
	KV_NOT_FOUND = 1,
	KV_BAD_REQUEST = 2,
	KV_TOO_BIG = 3,
};

#define KV_REQ_HDR_LEN		12u
#define KV_REPLY_HDR_LEN	8u

/* Largest op / reply a replica handles: the protocol's VF_MAX_OP. */
#define KV_MAX_OP		(64u << 10)
/* Largest configurable record size: a PUT of it must fit in one op. */
#define KV_MAX_RECORD_SIZE	(KV_MAX_OP - KV_REQ_HDR_LEN)
/* Largest configurable record count. */
#define KV_MAX_RECORDS		(1u << 28)

/* The service's configuration, fixed for the life of a replica. */
struct kv_limits {
	uint32_t records;	/* valid keys are 0 .. records - 1 */
	uint32_t record_size;	/* largest value, in bytes */
};

struct kv_req {
	uint8_t opcode;		/* KV_OP_GET or KV_OP_PUT */
	uint32_t key;
	uint32_t val_len;
	const uint8_t *val;	/* points into the decoded buffer */
};

struct kv_reply {
	uint8_t status;		/* enum kv_status */
	uint32_t val_len;
	const uint8_t *val;	/* points into the decoded buffer */
};

/*
 * kv_req_encode - write a request into @buf.
 * Returns the encoded length, -EINVAL for an unknown opcode or a GET with a
 * value, -E2BIG when the request would exceed KV_MAX_OP, -ENOSPC when
 * @cap is too small. @val may be NULL when @len is 0.
 */
int kv_req_encode(uint8_t *buf, size_t cap, uint8_t opcode, uint32_t key,
		  const void *val, uint32_t len);

/*
 * kv_req_parse - decode and validate a request against @lim.
 * Returns KV_OK and fills @out when the request is valid; otherwise the
 * status the reply must carry (KV_BAD_REQUEST or KV_TOO_BIG), checked in
 * this order, first match wins:
 *   1. fewer than KV_REQ_HDR_LEN bytes              -> KV_BAD_REQUEST
 *   2. opcode neither GET nor PUT                   -> KV_BAD_REQUEST
 *   3. a pad byte is not 0                          -> KV_BAD_REQUEST
 *   4. n != KV_REQ_HDR_LEN + val_len                -> KV_BAD_REQUEST
 *   5. GET with val_len != 0                        -> KV_BAD_REQUEST
 *   6. key >= lim->records                          -> KV_BAD_REQUEST
 *   7. PUT with val_len > lim->record_size          -> KV_TOO_BIG
 * With @lim NULL only steps 1-5 run (structural decoding, for clients).
 */
enum kv_status kv_req_parse(const uint8_t *p, size_t n,
			    const struct kv_limits *lim, struct kv_req *out);

/*
 * kv_reply_encode - write a reply into @buf.
 * Returns the encoded length, -EINVAL for an unknown status or an error
 * status with a value, -E2BIG above KV_MAX_OP, -ENOSPC when @cap is too
 * small.
 */
int kv_reply_encode(uint8_t *buf, size_t cap, uint8_t status,
		    const void *val, uint32_t len);

/*
 * kv_reply_decode - decode a reply (client side).
 * Returns 0, or -EBADMSG when the bytes are not a well-formed reply: short,
 * unknown status, nonzero pad, lengths that do not add up, or a value on a
 * status other than KV_OK.
 */
int kv_reply_decode(const uint8_t *p, size_t n, struct kv_reply *out);

/* kv_status_name - "OK", "NOT_FOUND", ... or "?" */
const char *kv_status_name(unsigned int status);

/* kv_limits_check - 0 when @lim is a valid configuration, else -EINVAL. */
int kv_limits_check(const struct kv_limits *lim);

/*
 * Little-endian helpers shared by the kv sources (the state layout uses
 * them too).
 */
static inline void kv_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline uint32_t kv_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void kv_put_le64(uint8_t *p, uint64_t v)
{
	kv_put_le32(p, (uint32_t)v);
	kv_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t kv_get_le64(const uint8_t *p)
{
	return (uint64_t)kv_get_le32(p) | (uint64_t)kv_get_le32(p + 4) << 32;
}

#endif /* KV_OP_H */
