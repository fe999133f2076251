// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_op.c - encode and decode the key-value service's operations.
 * See kv_op.h and Documentation/kv-service.rst.
 */
#include <errno.h>
#include <string.h>

#include "kv_op.h"

int kv_req_encode(uint8_t *buf, size_t cap, uint8_t opcode, uint32_t key,
		  const void *val, uint32_t len)
{
	size_t n = (size_t)KV_REQ_HDR_LEN + len;

	if (opcode != KV_OP_GET && opcode != KV_OP_PUT)
		return -EINVAL;
	if (opcode == KV_OP_GET && len)
		return -EINVAL;
	if (len && !val)
		return -EINVAL;
	if (n > KV_MAX_OP)
		return -E2BIG;
	if (n > cap)
		return -ENOSPC;
	buf[0] = opcode;
	buf[1] = 0;
	buf[2] = 0;
	buf[3] = 0;
	kv_put_le32(buf + 4, key);
	kv_put_le32(buf + 8, len);
	if (len)
		memcpy(buf + KV_REQ_HDR_LEN, val, len);
	return (int)n;
}

enum kv_status kv_req_parse(const uint8_t *p, size_t n,
			    const struct kv_limits *lim, struct kv_req *out)
{
	uint32_t key, len;

	if (n < KV_REQ_HDR_LEN)
		return KV_BAD_REQUEST;
	if (p[0] != KV_OP_GET && p[0] != KV_OP_PUT)
		return KV_BAD_REQUEST;
	if (p[1] || p[2] || p[3])
		return KV_BAD_REQUEST;
	key = kv_get_le32(p + 4);
	len = kv_get_le32(p + 8);
	/* size_t holds 12 + 2^32 - 1 on every target we build for */
	if (n - KV_REQ_HDR_LEN != (size_t)len)
		return KV_BAD_REQUEST;
	if (p[0] == KV_OP_GET && len)
		return KV_BAD_REQUEST;
	if (lim) {
		if (key >= lim->records)
			return KV_BAD_REQUEST;
		if (len > lim->record_size)
			return KV_TOO_BIG;
	}
	out->opcode = p[0];
	out->key = key;
	out->val_len = len;
	out->val = p + KV_REQ_HDR_LEN;
	return KV_OK;
}

int kv_reply_encode(uint8_t *buf, size_t cap, uint8_t status,
		    const void *val, uint32_t len)
{
	size_t n = (size_t)KV_REPLY_HDR_LEN + len;

	if (status > KV_TOO_BIG)
		return -EINVAL;
	if (status != KV_OK && len)
		return -EINVAL;
	if (len && !val)
		return -EINVAL;
	if (n > KV_MAX_OP)
		return -E2BIG;
	if (n > cap)
		return -ENOSPC;
	buf[0] = status;
	buf[1] = 0;
	buf[2] = 0;
	buf[3] = 0;
	kv_put_le32(buf + 4, len);
	if (len)
		memmove(buf + KV_REPLY_HDR_LEN, val, len);
	return (int)n;
}

int kv_reply_decode(const uint8_t *p, size_t n, struct kv_reply *out)
{
	uint32_t len;

	if (n < KV_REPLY_HDR_LEN)
		return -EBADMSG;
	if (p[0] > KV_TOO_BIG || p[1] || p[2] || p[3])
		return -EBADMSG;
	len = kv_get_le32(p + 4);
	if (n - KV_REPLY_HDR_LEN != (size_t)len)
		return -EBADMSG;
	if (p[0] != KV_OK && len)
		return -EBADMSG;
	out->status = p[0];
	out->val_len = len;
	out->val = p + KV_REPLY_HDR_LEN;
	return 0;
}

const char *kv_status_name(unsigned int status)
{
	static const char *const names[] = {
		[KV_OK] = "OK",
		[KV_NOT_FOUND] = "NOT_FOUND",
		[KV_BAD_REQUEST] = "BAD_REQUEST",
		[KV_TOO_BIG] = "TOO_BIG",
	};

	if (status >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[status];
}

int kv_limits_check(const struct kv_limits *lim)
{
	if (!lim->records || lim->records > KV_MAX_RECORDS)
		return -EINVAL;
	if (!lim->record_size || lim->record_size > KV_MAX_RECORD_SIZE)
		return -EINVAL;
	return 0;
}
