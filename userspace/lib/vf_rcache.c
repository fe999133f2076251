// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_rcache.c - per-client reply cache. See vf_rcache.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vf_proto.h"
#include "vf_rcache.h"

/* Entry flags of the encoded table (protocol.rst "Manager state"). */
#define RC_DECIDED		0x1u
#define RC_FLAGS		RC_DECIDED

struct vf_rcache {
	unsigned int max;
	unsigned int count;
	unsigned int nbuckets;		/* power of two */
	struct vf_rc_entry **buckets;
	struct vf_rc_entry lru;		/* head: next = newest */
	uint64_t evictions;
	uint64_t *filter;		/* evicted ids, VF_RC_FILTER_BITS */
};

/* Three bit positions of @id in the filter, from one 64-bit mix. */
static void filter_bits(uint64_t id, uint32_t pos[3])
{
	id += 0x9e3779b97f4a7c15ULL;
	id = (id ^ (id >> 30)) * 0xbf58476d1ce4e5b9ULL;
	id = (id ^ (id >> 27)) * 0x94d049bb133111ebULL;
	id ^= id >> 31;
	pos[0] = id % VF_RC_FILTER_BITS;
	pos[1] = (id >> 21) % VF_RC_FILTER_BITS;
	pos[2] = (id >> 42 | id << 22) % VF_RC_FILTER_BITS;
}

static void filter_add(struct vf_rcache *rc, uint64_t id)
{
	uint32_t pos[3];
	int i;

	filter_bits(id, pos);
	for (i = 0; i < 3; i++)
		rc->filter[pos[i] / 64] |= 1ULL << (pos[i] % 64);
}

bool vf_rcache_evicted(const struct vf_rcache *rc, uint64_t id)
{
	uint32_t pos[3];
	int i;

	filter_bits(id, pos);
	for (i = 0; i < 3; i++)
		if (!(rc->filter[pos[i] / 64] & 1ULL << (pos[i] % 64)))
			return false;
	return true;
}

static unsigned int bucket(const struct vf_rcache *rc, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return id & (rc->nbuckets - 1);
}

struct vf_rcache *vf_rcache_new(unsigned int max_clients)
{
	struct vf_rcache *rc;

	if (!max_clients)
		return NULL;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return NULL;
	rc->max = max_clients;
	rc->nbuckets = 16;
	while (rc->nbuckets < max_clients)
		rc->nbuckets *= 2;
	rc->buckets = calloc(rc->nbuckets, sizeof(*rc->buckets));
	rc->filter = calloc(VF_RC_FILTER_BITS / 64, sizeof(*rc->filter));
	if (!rc->buckets || !rc->filter) {
		free(rc->buckets);
		free(rc->filter);
		free(rc);
		return NULL;
	}
	rc->lru.lru_next = rc->lru.lru_prev = &rc->lru;
	return rc;
}

void vf_rcache_clear(struct vf_rcache *rc)
{
	struct vf_rc_entry *e, *n;

	for (e = rc->lru.lru_next; e != &rc->lru; e = n) {
		n = e->lru_next;
		free(e->data);
		free(e);
	}
	rc->lru.lru_next = rc->lru.lru_prev = &rc->lru;
	memset(rc->buckets, 0, rc->nbuckets * sizeof(*rc->buckets));
	memset(rc->filter, 0, VF_RC_FILTER_BITS / 8);
	rc->count = 0;
}

void vf_rcache_free(struct vf_rcache *rc)
{
	if (!rc)
		return;
	vf_rcache_clear(rc);
	free(rc->buckets);
	free(rc->filter);
	free(rc);
}

struct vf_rc_entry *vf_rcache_get(struct vf_rcache *rc, uint64_t client_id)
{
	struct vf_rc_entry *e;

	for (e = rc->buckets[bucket(rc, client_id)]; e; e = e->hnext)
		if (e->client_id == client_id)
			return e;
	return NULL;
}

static void lru_unlink(struct vf_rc_entry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void lru_push(struct vf_rcache *rc, struct vf_rc_entry *e)
{
	e->lru_next = rc->lru.lru_next;
	e->lru_prev = &rc->lru;
	rc->lru.lru_next->lru_prev = e;
	rc->lru.lru_next = e;
}

static void evict_oldest(struct vf_rcache *rc)
{
	struct vf_rc_entry *e = rc->lru.lru_prev, **pp;

	lru_unlink(e);
	for (pp = &rc->buckets[bucket(rc, e->client_id)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	filter_add(rc, e->client_id);
	free(e->data);
	free(e);
	rc->count--;
	rc->evictions++;
}

int vf_rcache_deliver(struct vf_rcache *rc, uint64_t client_id, uint64_t seq,
		      uint64_t order)
{
	struct vf_rc_entry *e = vf_rcache_get(rc, client_id);
	unsigned int b;

	if (e) {
		if (seq <= e->seq)
			return 0;
		lru_unlink(e);
	} else {
		if (vf_rcache_evicted(rc, client_id))
			return -ESTALE;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		if (rc->count == rc->max)
			evict_oldest(rc);
		e->client_id = client_id;
		b = bucket(rc, client_id);
		e->hnext = rc->buckets[b];
		rc->buckets[b] = e;
		rc->count++;
	}
	lru_push(rc, e);
	free(e->data);
	e->data = NULL;
	e->len = 0;
	e->status = 0;
	e->decided = false;
	e->expired = false;
	e->seq = seq;
	e->order = order;
	return 1;
}

int vf_rcache_decide(struct vf_rcache *rc, uint64_t client_id, uint64_t seq,
		     uint32_t status, const uint8_t *data, uint32_t len)
{
	struct vf_rc_entry *e = vf_rcache_get(rc, client_id);
	uint8_t *copy;

	if (!e || e->seq != seq || e->decided)
		return -ENOENT;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	e->data = copy;
	e->len = len;
	e->status = status;
	e->decided = true;
	return 0;
}

int vf_rcache_expire(struct vf_rcache *rc, uint64_t client_id, uint64_t seq)
{
	struct vf_rc_entry *e = vf_rcache_get(rc, client_id);

	if (!e || e->seq != seq || e->decided)
		return -ENOENT;
	e->expired = true;
	return 0;
}

unsigned int vf_rcache_count(const struct vf_rcache *rc)
{
	return rc->count;
}

uint64_t vf_rcache_evictions(const struct vf_rcache *rc)
{
	return rc->evictions;
}

const struct vf_rc_entry *vf_rcache_next(const struct vf_rcache *rc,
					 const struct vf_rc_entry *e)
{
	e = e ? e->lru_prev : rc->lru.lru_prev;
	return e == &rc->lru ? NULL : e;
}

/*
 * The evicted-id filter is ordered state too: vf_rcache_deliver() refuses
 * an evicted id on every manager at the same point of the stream, so a
 * manager that takes the table over needs the same filter. Sparse: the
 * non-zero 64-bit words, ascending by index.
 */
static void encode_filter(const struct vf_rcache *rc, struct vf_wbuf *wb)
{
	uint32_t i, n = 0;

	for (i = 0; i < VF_RC_FILTER_BITS / 64; i++)
		n += rc->filter[i] != 0;
	vf_wb_u32(wb, n);
	for (i = 0; i < VF_RC_FILTER_BITS / 64; i++) {
		if (!rc->filter[i])
			continue;
		vf_wb_u32(wb, i);
		vf_wb_u64(wb, rc->filter[i]);
	}
}

static int decode_filter(struct vf_rcache *rc, struct vf_rd *rd)
{
	uint32_t n, i, idx;
	int64_t prev = -1;
	uint64_t w;

	n = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (n > VF_RC_FILTER_BITS / 64)
		return -VF_E(VF_ERR_TOO_BIG);
	for (i = 0; i < n; i++) {
		idx = vf_rd_u32(rd);
		w = vf_rd_u64(rd);
		if (rd->err)
			return rd->err;
		/* ascending, in range, non-zero: one encoding per filter */
		if ((int64_t)idx <= prev || idx >= VF_RC_FILTER_BITS / 64 || !w)
			return -VF_E(VF_ERR_MALFORMED);
		rc->filter[idx] = w;
		prev = idx;
	}
	return 0;
}

void vf_rcache_encode(const struct vf_rcache *rc, struct vf_wbuf *wb)
{
	const struct vf_rc_entry *e;

	vf_wb_u32(wb, rc->count);
	for (e = vf_rcache_next(rc, NULL); e; e = vf_rcache_next(rc, e)) {
		vf_wb_u64(wb, e->client_id);
		vf_wb_u64(wb, e->seq);
		vf_wb_u64(wb, e->order);
		vf_wb_u32(wb, e->decided ? RC_DECIDED : 0);
		vf_wb_u32(wb, e->status);
		vf_wb_u32(wb, e->len);
		if (e->len)
			vf_wb_bytes(wb, e->data, e->len);
	}
	encode_filter(rc, wb);
}

static int decode_entry(struct vf_rcache *rc, struct vf_rd *rd)
{
	uint64_t cid = vf_rd_u64(rd);
	uint64_t seq = vf_rd_u64(rd);
	uint64_t order = vf_rd_u64(rd);
	uint32_t flags = vf_rd_u32(rd);
	uint32_t status = vf_rd_u32(rd);
	uint32_t len = vf_rd_u32(rd);
	const uint8_t *data;
	int r;

	if (rd->err)
		return rd->err;
	if (len > VF_MAX_OP)
		return -VF_E(VF_ERR_TOO_BIG);
	if ((flags & ~RC_FLAGS) || (!(flags & RC_DECIDED) && (status || len)))
		return -VF_E(VF_ERR_MALFORMED);
	data = vf_rd_bytes(rd, len);
	if (!data && len)
		return rd->err;
	if (vf_rcache_get(rc, cid))
		return -VF_E(VF_ERR_MALFORMED);	/* a client twice */
	r = vf_rcache_deliver(rc, cid, seq, order);
	if (r < 0)
		return r;
	if (flags & RC_DECIDED)
		return vf_rcache_decide(rc, cid, seq, status, data, len);
	return 0;
}

int vf_rcache_decode(struct vf_rcache *rc, struct vf_rd *rd)
{
	uint32_t n, i;
	int r;

	if (rc->count)
		return -EBUSY;
	n = vf_rd_u32(rd);
	if (rd->err)
		return rd->err;
	if (n > rc->max)
		return -VF_E(VF_ERR_TOO_BIG);
	memset(rc->filter, 0, VF_RC_FILTER_BITS / 8);
	for (i = 0; i < n; i++) {
		r = decode_entry(rc, rd);
		if (r) {
			vf_rcache_clear(rc);
			return r;
		}
	}
	r = decode_filter(rc, rd);
	if (r)
		vf_rcache_clear(rc);
	return r;
}
