// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_proto.c - codec for the vmfit client protocol and replica channel.
 * See vf_proto.h and Documentation/protocol.rst.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf_proto.h"

const char *vf_strerror(int r)
{
	switch (vf_err_code(r)) {
	case VF_ERR_MALFORMED:
		return "malformed frame";
	case VF_ERR_VERSION:
		return "unsupported protocol version";
	case VF_ERR_TYPE:
		return "unknown frame type";
	case VF_ERR_TOO_BIG:
		return "frame or field too big";
	case VF_ERR_BUSY:
		return "busy";
	case VF_ERR_MAGIC:
		return "wrong magic";
	case VF_ERR_ROUND:
		return "not the current recovery round";
	case VF_ERR_CHUNK:
		return "unknown chunk or tree node";
	case VF_ERR_DIGEST:
		return "digest of the wrong size";
	case VF_ERR_STALE:
		return "stale request, not executed";
	case VF_ERR_AUTH:
		return "session key does not match the client_id";
	}
	if (r == 1)
		return "end of stream";
	return strerror(r < 0 ? -r : r);
}

const char *vf_type_name(uint16_t type)
{
	static const char *const names[] = {
		[VF_C_REQUEST] = "REQUEST",
		[VF_C_REPLY] = "REPLY",
		[VF_C_ERROR] = "ERROR",
		[VF_R_HELLO] = "HELLO",
		[VF_R_EXEC] = "EXEC",
		[VF_R_RESULT] = "RESULT",
		[VF_R_CHECKPOINT] = "CHECKPOINT",
		[VF_R_CHECKPOINT_DONE] = "CHECKPOINT_DONE",
		[VF_R_RESTORE] = "RESTORE",
		[VF_R_RESTORE_DONE] = "RESTORE_DONE",
		[VF_R_ERROR] = "ERROR",
		[VF_P_FETCH] = "FETCH",
		[VF_P_CHUNK] = "CHUNK",
		[VF_P_ERROR] = "PEER_ERROR",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "?";
}

const char *vf_status_name(uint32_t status)
{
	static const char *const names[] = {
		[VF_ST_OK] = "OK",
		[VF_ST_BUSY] = "BUSY",
		[VF_ST_UNAVAILABLE] = "UNAVAILABLE",
		[VF_ST_NOT_PRIMARY] = "NOT_PRIMARY",
	};

	if (status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "?";
}

/*----------------------------------------------------------------*/
/* Little-endian helpers */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/*----------------------------------------------------------------*/
/* Frame header */

void vf_hdr_encode(uint8_t out[VF_HDR_LEN], uint32_t magic, uint16_t type,
		   uint32_t len)
{
	put32(out, magic);
	put16(out + 4, magic == VF_MAGIC_CLIENT ? VF_CLIENT_VERSION :
						  VF_PROTO_VERSION);
	put16(out + 6, type);
	put32(out + 8, len);
	put32(out + 12, 0);
}

static int type_valid(uint32_t magic, uint16_t type)
{
	if (magic == VF_MAGIC_CLIENT)
		return type >= VF_C_REQUEST && type <= VF_C_ERROR;
	if (magic == VF_MAGIC_PEER)
		return type >= VF_P_FETCH && type <= VF_P_ERROR;
	return type >= VF_R_HELLO && type <= VF_R_ERROR;
}

int vf_hdr_decode(const uint8_t *p, uint32_t magic, struct vf_hdr *h)
{
	h->magic = get32(p);
	h->version = get16(p + 4);
	h->type = get16(p + 6);
	h->len = get32(p + 8);
	h->reserved = get32(p + 12);

	if (h->magic != magic)
		return -VF_E(VF_ERR_MAGIC);
	if (magic == VF_MAGIC_CLIENT ?
	    h->version < VF_CLIENT_VERSION_MIN ||
	    h->version > VF_CLIENT_VERSION :
	    h->version != VF_PROTO_VERSION)
		return -VF_E(VF_ERR_VERSION);
	if (h->reserved != 0)
		return -VF_E(VF_ERR_MALFORMED);
	if (h->len > VF_MAX_PAYLOAD)
		return -VF_E(VF_ERR_TOO_BIG);
	if (!type_valid(magic, h->type))
		return -VF_E(VF_ERR_TYPE);
	return 0;
}

long vf_frame_peek(const uint8_t *p, size_t n, uint32_t magic,
		   struct vf_hdr *h)
{
	int r;

	if (n < VF_HDR_LEN) {
		/* Reject a wrong magic early, even from a partial header. */
		uint8_t m[4];
		size_t i;

		put32(m, magic);
		for (i = 0; i < n && i < 4; i++)
			if (p[i] != m[i])
				return -VF_E(VF_ERR_MAGIC);
		return 0;
	}
	r = vf_hdr_decode(p, magic, h);
	if (r)
		return r;
	if (n - VF_HDR_LEN < h->len)
		return 0;
	return (long)VF_HDR_LEN + h->len;
}

/*----------------------------------------------------------------*/
/* Reader */

static const uint8_t *rd_take(struct vf_rd *rd, size_t len)
{
	const uint8_t *q;

	if (rd->err)
		return NULL;
	if (rd->n - rd->off < len) {
		rd->err = -VF_E(VF_ERR_MALFORMED);
		return NULL;
	}
	q = rd->p + rd->off;
	rd->off += len;
	return q;
}

uint16_t vf_rd_u16(struct vf_rd *rd)
{
	const uint8_t *q = rd_take(rd, 2);

	return q ? get16(q) : 0;
}

uint32_t vf_rd_u32(struct vf_rd *rd)
{
	const uint8_t *q = rd_take(rd, 4);

	return q ? get32(q) : 0;
}

uint64_t vf_rd_u64(struct vf_rd *rd)
{
	const uint8_t *q = rd_take(rd, 8);

	return q ? get64(q) : 0;
}

const uint8_t *vf_rd_bytes(struct vf_rd *rd, size_t len)
{
	return rd_take(rd, len);
}

int vf_rd_end(const struct vf_rd *rd)
{
	if (rd->err)
		return rd->err;
	if (rd->off != rd->n)
		return -VF_E(VF_ERR_MALFORMED);
	return 0;
}

/*----------------------------------------------------------------*/
/* Writer */

void vf_wb_init(struct vf_wbuf *wb, size_t limit)
{
	wb->mem = NULL;
	wb->head = 0;
	wb->tail = 0;
	wb->base = 0;
	wb->cap = 0;
	wb->limit = limit;
	wb->err = 0;
	wb->moved = 0;
}

void vf_wb_free(struct vf_wbuf *wb)
{
	free(wb->mem);
	vf_wb_init(wb, wb->limit);
}

void vf_wb_reset(struct vf_wbuf *wb)
{
	wb->head = 0;
	wb->tail = 0;
	wb->base = 0;
	wb->err = 0;
}

void vf_wb_consume(struct vf_wbuf *wb, size_t n)
{
	if (n < vf_wb_pending(wb)) {
		wb->head += n;
		return;
	}
	/* All sent: the front is free at no cost. */
	wb->base += wb->tail;
	wb->head = 0;
	wb->tail = 0;
}

void vf_wb_truncate(struct vf_wbuf *wb, size_t n)
{
	if (n < vf_wb_pending(wb))
		wb->tail = wb->head + n;
}

/* Move the pending bytes to the front of the allocation. */
static void wb_compact(struct vf_wbuf *wb)
{
	size_t n = vf_wb_pending(wb);

	memmove(wb->mem, wb->mem + wb->head, n);
	wb->moved += n;
	wb->base += wb->head;
	wb->head = 0;
	wb->tail = n;
}

/*
 * Grow to hold @need bytes from mem[0]: doubling, but with a limit never
 * past 1.5 times it, which is enough (see vf_wb_reserve()).
 */
static int wb_grow(struct vf_wbuf *wb, size_t need)
{
	size_t cap = wb->cap ? wb->cap : 256;
	size_t max = SIZE_MAX;
	uint8_t *nb;

	if (wb->limit)
		max = wb->limit + wb->limit / 2;
	if (need > max) {
		wb->err = -ENOMEM;
		return wb->err;
	}
	while (cap < need)
		cap = cap > max / 2 ? max : cap * 2;
	if (cap > max)
		cap = max;
	nb = realloc(wb->mem, cap);
	if (!nb) {
		wb->err = -ENOMEM;
		return wb->err;
	}
	wb->mem = nb;
	wb->cap = cap;
	return 0;
}

/*
 * Make room for @more bytes at the tail. The limit counts pending bytes
 * only: consumed ones are dropped before they could count. Compacting only
 * when the consumed prefix (head) is at least half the pending bytes bounds
 * what it moves by twice what was consumed since the last one; growing
 * instead happens only while head < pending / 2, so the allocation never
 * needs more than head + pending + more < 1.5 * limit.
 */
int vf_wb_reserve(struct vf_wbuf *wb, size_t more)
{
	size_t pending = vf_wb_pending(wb);

	if (wb->err)
		return wb->err;
	if (more > SIZE_MAX / 4 - wb->tail) {
		wb->err = -ENOMEM;
		return wb->err;
	}
	if (wb->limit && pending + more > wb->limit) {
		wb->err = -VF_E(VF_ERR_TOO_BIG);
		return wb->err;
	}
	if (wb->tail + more <= wb->cap)
		return 0;
	if (wb->head && wb->head >= pending / 2) {
		wb_compact(wb);
		if (wb->tail + more <= wb->cap)
			return 0;
	}
	return wb_grow(wb, wb->tail + more);
}

/* Where the @n bytes at offset @off are, if written and not consumed. */
static uint8_t *wb_at(struct vf_wbuf *wb, size_t off, size_t n)
{
	if (wb->err || off < wb->base + wb->head ||
	    off - wb->base > wb->tail || n > wb->tail - (off - wb->base))
		return NULL;
	return wb->mem + (off - wb->base);
}

void vf_wb_u16(struct vf_wbuf *wb, uint16_t v)
{
	if (vf_wb_reserve(wb, 2))
		return;
	put16(wb->mem + wb->tail, v);
	wb->tail += 2;
}

void vf_wb_u32(struct vf_wbuf *wb, uint32_t v)
{
	if (vf_wb_reserve(wb, 4))
		return;
	put32(wb->mem + wb->tail, v);
	wb->tail += 4;
}

void vf_wb_u64(struct vf_wbuf *wb, uint64_t v)
{
	if (vf_wb_reserve(wb, 8))
		return;
	put64(wb->mem + wb->tail, v);
	wb->tail += 8;
}

void vf_wb_bytes(struct vf_wbuf *wb, const void *p, size_t n)
{
	if (!n || vf_wb_reserve(wb, n))
		return;
	memcpy(wb->mem + wb->tail, p, n);
	wb->tail += n;
}

void vf_wb_put_u32_at(struct vf_wbuf *wb, size_t off, uint32_t v)
{
	uint8_t *p = wb_at(wb, off, 4);

	if (p)
		put32(p, v);
}

size_t vf_wb_frame_begin(struct vf_wbuf *wb, uint32_t magic, uint16_t type)
{
	if (vf_wb_reserve(wb, VF_HDR_LEN))
		return vf_wb_pos(wb);
	vf_hdr_encode(wb->mem + wb->tail, magic, type, 0);
	wb->tail += VF_HDR_LEN;
	return vf_wb_pos(wb) - VF_HDR_LEN;
}

int vf_wb_frame_end(struct vf_wbuf *wb, size_t start)
{
	size_t plen;

	if (wb->err)
		return wb->err;
	if (!wb_at(wb, start, VF_HDR_LEN))
		return -EINVAL;
	plen = vf_wb_pos(wb) - start - VF_HDR_LEN;
	if (plen > VF_MAX_PAYLOAD) {
		wb->tail = start - wb->base;
		wb->err = -VF_E(VF_ERR_TOO_BIG);
		return wb->err;
	}
	vf_wb_put_u32_at(wb, start + 8, plen);
	return 0;
}

/*----------------------------------------------------------------*/
/* Messages */

int vf_request_decode(const uint8_t *p, size_t n, uint16_t version,
		      struct vf_request *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->client_id = vf_rd_u64(&rd);
	m->seq = vf_rd_u64(&rd);
	m->op_len = vf_rd_u32(&rd);
	if (!rd.err && m->op_len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	m->op = vf_rd_bytes(&rd, m->op_len);
	m->key = version >= VF_CLIENT_VERSION_SESSION ?
		 vf_rd_bytes(&rd, VF_SESSION_KEY_LEN) : NULL;
	return vf_rd_end(&rd);
}

int vf_reply_decode(const uint8_t *p, size_t n, struct vf_reply *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->client_id = vf_rd_u64(&rd);
	m->seq = vf_rd_u64(&rd);
	m->status = vf_rd_u32(&rd);
	m->len = vf_rd_u32(&rd);
	if (!rd.err && m->len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	m->data = vf_rd_bytes(&rd, m->len);
	return vf_rd_end(&rd);
}

int vf_error_decode(const uint8_t *p, size_t n, struct vf_error *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->code = vf_rd_u32(&rd);
	m->msg_len = vf_rd_u16(&rd);
	m->msg = (const char *)vf_rd_bytes(&rd, m->msg_len);
	return vf_rd_end(&rd);
}

int vf_hello_decode(const uint8_t *p, size_t n, struct vf_hello *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->proto_version = vf_rd_u32(&rd);
	m->impl_len = vf_rd_u16(&rd);
	m->impl = (const char *)vf_rd_bytes(&rd, m->impl_len);
	m->ver_len = vf_rd_u16(&rd);
	m->ver = (const char *)vf_rd_bytes(&rd, m->ver_len);
	return vf_rd_end(&rd);
}

int vf_exec_decode(const uint8_t *p, size_t n, struct vf_exec *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->order = vf_rd_u64(&rd);
	m->client_id = vf_rd_u64(&rd);
	m->seq = vf_rd_u64(&rd);
	m->op_len = vf_rd_u32(&rd);
	if (!rd.err && m->op_len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	m->op = vf_rd_bytes(&rd, m->op_len);
	return vf_rd_end(&rd);
}

int vf_result_decode(const uint8_t *p, size_t n, struct vf_result *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->order = vf_rd_u64(&rd);
	m->len = vf_rd_u32(&rd);
	if (!rd.err && m->len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	m->data = vf_rd_bytes(&rd, m->len);
	return vf_rd_end(&rd);
}

int vf_checkpoint_decode(const uint8_t *p, size_t n, uint64_t *order)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	*order = vf_rd_u64(&rd);
	return vf_rd_end(&rd);
}

int vf_done_decode(const uint8_t *p, size_t n, struct vf_done *m)
{
	struct vf_rd rd;

	vf_rd_init(&rd, p, n);
	m->order = vf_rd_u64(&rd);
	m->status = vf_rd_u32(&rd);
	return vf_rd_end(&rd);
}

int vf_empty_decode(const uint8_t *p, size_t n)
{
	return n ? -VF_E(VF_ERR_MALFORMED) : 0;
}

/* Patch the version of the frame header at @start (already written). */
static void frame_set_version(struct vf_wbuf *wb, size_t start, uint16_t v)
{
	uint8_t *p = wb_at(wb, start, VF_HDR_LEN);

	if (p)
		put16(p + 4, v);
}

int vf_request_encode(struct vf_wbuf *wb, const struct vf_request *m)
{
	size_t s;

	if (m->op_len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	s = vf_wb_frame_begin(wb, VF_MAGIC_CLIENT, VF_C_REQUEST);
	vf_wb_u64(wb, m->client_id);
	vf_wb_u64(wb, m->seq);
	vf_wb_u32(wb, m->op_len);
	vf_wb_bytes(wb, m->op, m->op_len);
	if (m->key)
		vf_wb_bytes(wb, m->key, VF_SESSION_KEY_LEN);
	else
		frame_set_version(wb, s, VF_CLIENT_VERSION_SESSION - 1);
	return vf_wb_frame_end(wb, s);
}

int vf_reply_encode(struct vf_wbuf *wb, const struct vf_reply *m)
{
	uint32_t status = m->status;
	size_t s;

	if (m->len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	if (m->version && (m->version < VF_CLIENT_VERSION_MIN ||
			   m->version > VF_CLIENT_VERSION))
		return -EINVAL;
	if (m->version == 1 && status == VF_ST_NOT_PRIMARY)
		status = VF_ST_UNAVAILABLE;
	s = vf_wb_frame_begin(wb, VF_MAGIC_CLIENT, VF_C_REPLY);
	if (m->version)
		frame_set_version(wb, s, m->version);
	vf_wb_u64(wb, m->client_id);
	vf_wb_u64(wb, m->seq);
	vf_wb_u32(wb, status);
	vf_wb_u32(wb, m->len);
	vf_wb_bytes(wb, m->data, m->len);
	return vf_wb_frame_end(wb, s);
}

int vf_error_encode(struct vf_wbuf *wb, uint32_t magic, uint32_t code,
		    const char *msg)
{
	size_t len = msg ? strnlen(msg, VF_MAX_ERRMSG) : 0;
	size_t s;

	s = vf_wb_frame_begin(wb, magic, magic == VF_MAGIC_CLIENT ?
			      VF_C_ERROR : VF_R_ERROR);
	if (magic == VF_MAGIC_CLIENT)
		frame_set_version(wb, s, VF_CLIENT_VERSION_MIN);
	vf_wb_u32(wb, code);
	vf_wb_u16(wb, len);
	vf_wb_bytes(wb, msg, len);
	return vf_wb_frame_end(wb, s);
}

int vf_hello_encode(struct vf_wbuf *wb, const char *impl, const char *ver)
{
	size_t il = strnlen(impl, UINT16_MAX);
	size_t vl = strnlen(ver, UINT16_MAX);
	size_t s;

	s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, VF_R_HELLO);
	vf_wb_u32(wb, VF_PROTO_VERSION);
	vf_wb_u16(wb, il);
	vf_wb_bytes(wb, impl, il);
	vf_wb_u16(wb, vl);
	vf_wb_bytes(wb, ver, vl);
	return vf_wb_frame_end(wb, s);
}

int vf_exec_encode(struct vf_wbuf *wb, const struct vf_exec *m)
{
	size_t s;

	if (m->op_len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, VF_R_EXEC);
	vf_wb_u64(wb, m->order);
	vf_wb_u64(wb, m->client_id);
	vf_wb_u64(wb, m->seq);
	vf_wb_u32(wb, m->op_len);
	vf_wb_bytes(wb, m->op, m->op_len);
	return vf_wb_frame_end(wb, s);
}

int vf_result_encode(struct vf_wbuf *wb, const struct vf_result *m)
{
	size_t s;

	if (m->len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, VF_R_RESULT);
	vf_wb_u64(wb, m->order);
	vf_wb_u32(wb, m->len);
	vf_wb_bytes(wb, m->data, m->len);
	return vf_wb_frame_end(wb, s);
}

int vf_checkpoint_encode(struct vf_wbuf *wb, uint64_t order)
{
	size_t s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, VF_R_CHECKPOINT);

	vf_wb_u64(wb, order);
	return vf_wb_frame_end(wb, s);
}

int vf_done_encode(struct vf_wbuf *wb, uint16_t type,
		   const struct vf_done *m)
{
	size_t s;

	if (type != VF_R_CHECKPOINT_DONE && type != VF_R_RESTORE_DONE)
		return -EINVAL;
	s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, type);
	vf_wb_u64(wb, m->order);
	vf_wb_u32(wb, m->status);
	return vf_wb_frame_end(wb, s);
}

int vf_restore_encode(struct vf_wbuf *wb)
{
	size_t s = vf_wb_frame_begin(wb, VF_MAGIC_REPLICA, VF_R_RESTORE);

	return vf_wb_frame_end(wb, s);
}

/*----------------------------------------------------------------*/
/* Blocking fd helpers */

int vf_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	ssize_t w;

	while (n) {
		w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		q += w;
		n -= w;
	}
	return 0;
}

int vf_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *q = p;
	ssize_t w;

	while (n) {
		w = pwrite(fd, q, n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		q += w;
		n -= w;
		off += w;
	}
	return 0;
}

/* Returns bytes read before EOF (< n only on EOF), or -errno. */
static ssize_t read_full(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, q + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

int vf_read_all(int fd, void *p, size_t n)
{
	ssize_t r = read_full(fd, p, n);

	if (r < 0)
		return r;
	return (size_t)r == n ? 0 : -EPIPE;
}

int vf_read_frame(int fd, uint32_t magic, struct vf_hdr *h, uint8_t *buf,
		  size_t cap)
{
	uint8_t hb[VF_HDR_LEN];
	ssize_t r;
	int ret;

	r = read_full(fd, hb, sizeof(hb));
	if (r < 0)
		return r;
	if (r == 0)
		return 1;
	if (r < VF_HDR_LEN)
		return -EPIPE;
	ret = vf_hdr_decode(hb, magic, h);
	if (ret)
		return ret;
	if (h->len > cap)
		return -VF_E(VF_ERR_TOO_BIG);
	return vf_read_all(fd, buf, h->len);
}

int vf_write_frame(int fd, uint32_t magic, uint16_t type, const void *p,
		   uint32_t n)
{
	uint8_t hb[VF_HDR_LEN];
	int r;

	if (n > VF_MAX_PAYLOAD)
		return -VF_E(VF_ERR_TOO_BIG);
	vf_hdr_encode(hb, magic, type, n);
	r = vf_write_all(fd, hb, sizeof(hb));
	if (r)
		return r;
	return vf_write_all(fd, p, n);
}

int vf_wb_flush_fd(int fd, struct vf_wbuf *wb)
{
	int r;

	if (wb->err)
		return wb->err;
	r = vf_write_all(fd, vf_wb_data(wb), vf_wb_pending(wb));
	vf_wb_reset(wb);
	return r;
}

/*----------------------------------------------------------------*/
/* Event-loop output */

ssize_t vf_wb_send(int fd, struct vf_wbuf *wb, size_t max)
{
	size_t sent = 0, n;
	ssize_t w;

	while (vf_wb_pending(wb) && sent < max) {
		n = vf_wb_pending(wb);
		if (n > max - sent)
			n = max - sent;
		w = send(fd, vf_wb_data(wb), n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		/* 0 for a non-empty stream send cannot happen: no spinning */
		if (w == 0 || (w < 0 && errno == EAGAIN))
			break;
		if (w < 0)
			return -errno;
		vf_wb_consume(wb, (size_t)w);
		sent += (size_t)w;
	}
	return (ssize_t)sent;
}
