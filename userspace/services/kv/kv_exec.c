// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_exec.c - the service's semantics, common to every engine: decode an
 * op, run it on the engine, encode the reply.
 */
#include <errno.h>

#include "kv_engine.h"

int kv_store_open(struct kv_store *s, const struct kv_engine_ops *ops,
		  const struct kv_limits *lim)
{
	int r;

	r = kv_limits_check(lim);
	if (r)
		return r;
	s->ops = ops;
	s->lim = *lim;
	s->e = NULL;
	return ops->create(lim, &s->e);
}

void kv_store_close(struct kv_store *s)
{
	if (s->ops && s->e)
		s->ops->destroy(s->e);
	s->e = NULL;
}

int kv_exec(struct kv_store *s, const uint8_t *op, size_t n, uint8_t *reply,
	    size_t cap)
{
	struct kv_req req;
	enum kv_status st;
	uint32_t len = 0;
	int r;

	if (cap < (size_t)KV_REPLY_HDR_LEN + s->lim.record_size)
		return -ENOSPC;
	st = kv_req_parse(op, n, &s->lim, &req);
	if (st != KV_OK)
		return kv_reply_encode(reply, cap, st, NULL, 0);

	if (req.opcode == KV_OP_GET) {
		r = s->ops->get(s->e, req.key, reply + KV_REPLY_HDR_LEN, &len);
		if (r == -ENOENT)
			return kv_reply_encode(reply, cap, KV_NOT_FOUND, NULL, 0);
		if (r)
			return r;
		if (len > s->lim.record_size)
			return -EIO;
		/* the value is already in place: kv_reply_encode memmoves */
		return kv_reply_encode(reply, cap, KV_OK,
				       reply + KV_REPLY_HDR_LEN, len);
	}
	r = s->ops->put(s->e, req.key, req.val, req.val_len);
	if (r)
		return r;
	return kv_reply_encode(reply, cap, KV_OK, NULL, 0);
}
