// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-mstate-test - the manager state as bytes: managers that delivered the
 * same stream write the same bytes; a manager that loads them goes on
 * exactly like the ones it took them from (dedup, pending votes, LRU
 * eviction, window expiry); every malformed or truncated state is refused
 * and leaves the tables empty.
 */
#include <errno.h>
#include <string.h>

#include "vf_mstate.h"
#include "vf_proto.h"
#include "vf_check.h"

#define MAXC	4	/* clients kept */
#define WIN	16	/* vote window */

/* One manager's ordered state, driven like delivery.c drives it. */
struct mgr {
	struct vf_rcache *rc;
	struct vf_voter *v;
	uint64_t last;
	uint64_t cid[WIN], seq[WIN];	/* order -> request (meta) */
	unsigned int expired;
};

static void on_expire(void *arg, uint64_t order)
{
	struct mgr *m = arg;

	m->expired++;
	vf_rcache_decide(m->rc, m->cid[order % WIN], m->seq[order % WIN],
			 VF_ST_UNAVAILABLE, NULL, 0);
}

static const struct vf_voter_ops ops = { .expire = on_expire };

static void mgr_init(struct mgr *m)
{
	memset(m, 0, sizeof(*m));
	m->rc = vf_rcache_new(MAXC);
	m->v = vf_voter_new(1, WIN, &ops, m);
	REQUIRE(m->rc && m->v);
}

static void mgr_free(struct mgr *m)
{
	vf_rcache_free(m->rc);
	vf_voter_free(m->v);
}

static void req(struct mgr *m, uint64_t cid, uint64_t seq)
{
	if (vf_rcache_deliver(m->rc, cid, seq, m->last + 1) != 1)
		return;
	m->last++;
	vf_voter_open(m->v, m->last);
	m->cid[m->last % WIN] = cid;
	m->seq[m->last % WIN] = seq;
}

static void vote(struct mgr *m, uint64_t order, uint32_t node, const char *s)
{
	struct vf_decision d;

	if (vf_voter_add(m->v, order, node, (const uint8_t *)s, strlen(s),
			 &d) == VF_VOTE_DECIDED)
		vf_rcache_decide(m->rc, m->cid[order % WIN],
				 m->seq[order % WIN], VF_ST_OK, d.data, d.len);
}

/* The part of the stream every manager delivers before the capture. */
static void stream1(struct mgr *m)
{
	uint64_t i;

	for (i = 1; i <= 6; i++)
		req(m, 100 + i % 5, i);		/* 5 clients into 4 slots */
	req(m, 103, 3);				/* duplicate: skipped */
	vote(m, 1, 1, "r1");
	vote(m, 1, 2, "r1");			/* decided */
	vote(m, 1, 3, "r1");			/* late */
	vote(m, 2, 1, "a");
	vote(m, 2, 2, "b");			/* pending, two candidates */
	vote(m, 4, 3, "r4");			/* pending */
	vote(m, 5, 1, "");			/* empty reply, pending */
	vote(m, 5, 2, "");			/* decided, empty */
}

/* ... and after it. */
static void stream2(struct mgr *m)
{
	uint64_t i;

	vote(m, 2, 3, "b");			/* decides 2 for "b" */
	vote(m, 4, 1, "r4");			/* decides 4 */
	req(m, 104, 4);				/* duplicate of order 4 */
	for (i = 0; i < WIN + 3; i++)		/* expiries, evictions */
		req(m, 200 + i, 1);
}

static void enc(struct mgr *m, struct vf_wbuf *wb)
{
	vf_wb_reset(wb);
	CHECK_EQ(vf_mstate_encode(wb, m->last, m->rc, m->v), 0);
}

static void same(struct vf_wbuf *a, struct vf_wbuf *b, const char *what)
{
	if (vf_wb_pending(a) != vf_wb_pending(b) ||
	    memcmp(vf_wb_data(a), vf_wb_data(b), vf_wb_pending(a))) {
		fprintf(stderr, "%s: states differ (%zu / %zu bytes)\n", what,
			vf_wb_pending(a), vf_wb_pending(b));
		CHECK(0);
	}
}

/* A state that must be refused; the tables are left empty. */
static void refuse(const struct vf_wbuf *wb, int want, const char *what)
{
	struct mgr c;
	uint64_t last = 77;
	struct vf_voter_stats st;
	int r;

	mgr_init(&c);
	r = vf_mstate_decode(vf_wb_data(wb), vf_wb_pending(wb), &last, c.rc,
			     c.v);
	if (r != want)
		fprintf(stderr, "%s: got %d, want %d\n", what, r, want);
	CHECK_EQ(r, want);
	CHECK_EQ(last, 77);
	CHECK_EQ(vf_rcache_count(c.rc), 0);
	vf_voter_stats(c.v, &st);
	CHECK_EQ(st.last_opened, 0);
	mgr_free(&c);
}

/* Copy @wb's state, patch 4 or 8 bytes at @off, and expect a refusal. */
static void patched(const struct vf_wbuf *wb, size_t off, uint64_t val,
		    unsigned int size, int want, const char *what)
{
	struct vf_wbuf x;
	unsigned int i;

	vf_wb_init(&x, 0);
	vf_wb_bytes(&x, vf_wb_data(wb), vf_wb_pending(wb));
	for (i = 0; i < size; i++)
		vf_wb_data(&x)[off + i] = val >> (8 * i);
	refuse(&x, want, what);
	vf_wb_free(&x);
}

/* Build a small state by hand (one client; the voter of @orders). */
/* The evicted-id filter of the next handmade() state. */
static unsigned int hm_n;
static uint32_t hm_idx[2];
static uint64_t hm_word[2];

static void handmade(struct vf_wbuf *wb, uint32_t flags, uint32_t status,
		     uint32_t len, uint32_t nclients, uint32_t window,
		     uint32_t nvotes, uint32_t node2)
{
	uint32_t i;

	vf_wb_reset(wb);
	vf_wb_bytes(wb, VF_MSTATE_MAGIC, 8);
	vf_wb_u32(wb, VF_MSTATE_VERSION);
	vf_wb_u32(wb, 0);
	vf_wb_u64(wb, 1);			/* last order */
	vf_wb_u32(wb, nclients);
	for (i = 0; i < nclients; i++) {
		vf_wb_u64(wb, 9);		/* the same client each time */
		vf_wb_u64(wb, 1);
		vf_wb_u64(wb, 1);
		vf_wb_u32(wb, flags);
		vf_wb_u32(wb, status);
		vf_wb_u32(wb, len);
		vf_wb_bytes(wb, "xxxx", len);
	}
	vf_wb_u32(wb, hm_n);			/* evicted-id filter */
	for (i = 0; i < hm_n; i++) {
		vf_wb_u32(wb, hm_idx[i]);
		vf_wb_u64(wb, hm_word[i]);
	}
	vf_wb_u32(wb, 1);			/* f */
	vf_wb_u32(wb, window);
	vf_wb_u64(wb, 1);			/* last opened */
	vf_wb_u32(wb, 1);
	vf_wb_u64(wb, 1);			/* order 1, undecided */
	vf_wb_u32(wb, 0);
	vf_wb_u32(wb, nvotes);
	for (i = 0; i < nvotes; i++) {
		vf_wb_u32(wb, i ? node2 : 1);
		vf_wb_u32(wb, 2);
		vf_wb_bytes(wb, "ok", 2);
	}
}

int main(void)
{
	struct vf_wbuf wa, wb, wc;
	struct mgr a, b, c;
	uint64_t last = 0;
	size_t n;

	vf_wb_init(&wa, 0);
	vf_wb_init(&wb, 0);
	vf_wb_init(&wc, 0);
	mgr_init(&a);
	mgr_init(&b);
	mgr_init(&c);

	/* The empty state (genesis) loads and writes the same bytes. */
	enc(&a, &wa);
	CHECK_EQ(vf_wb_pending(&wa),
		 VF_MSTATE_HDR_LEN + 4 + 4 + 20); /* + empty filter */
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 0);
	enc(&c, &wc);
	same(&wa, &wc, "genesis");

	/* Same stream, same bytes. */
	stream1(&a);
	stream1(&b);
	enc(&a, &wa);
	enc(&b, &wb);
	same(&wa, &wb, "two managers");
	CHECK_EQ(vf_rcache_count(a.rc), MAXC);

	/* A manager that catches up loads them over its own stale state. */
	req(&c, 555, 1);
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 -EBUSY);
	vf_rcache_clear(c.rc);
	vf_voter_reset(c.v);
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 0);
	c.last = last;
	CHECK_EQ(last, a.last);
	CHECK(!vf_rcache_get(c.rc, 555));
	for (n = 1; n <= 6; n++) {	/* meta of the open orders, as vmfitd */
		c.cid[n] = a.cid[n];
		c.seq[n] = a.seq[n];
	}
	enc(&c, &wc);
	same(&wa, &wc, "loaded");
	CHECK(vf_rcache_get(c.rc, 100) && vf_rcache_get(c.rc, 100)->decided);
	CHECK(!vf_rcache_get(c.rc, 101));	/* evicted */
	CHECK(vf_rcache_evicted(c.rc, 101));	/* ... and refused, as by a */

	/* ... and goes on exactly like the others. */
	stream2(&a);
	stream2(&c);
	enc(&a, &wa);
	enc(&c, &wc);
	same(&wa, &wc, "after the catch-up");
	CHECK(a.expired > 0);
	CHECK_EQ(c.expired, a.expired);
	CHECK(vf_rcache_get(c.rc, 200 + WIN + 2));

	/* Every truncation is refused. */
	for (n = 0; n < vf_wb_pending(&wa); n++) {
		struct vf_wbuf t = wa;

		vf_wb_truncate(&t, n);
		refuse(&t, -VF_E(VF_ERR_MALFORMED), "truncated");
	}
	/* Trailing bytes, magic, version, reserved, last order. */
	vf_wb_u32(&wa, 0);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "trailing");
	vf_wb_truncate(&wa, vf_wb_pending(&wa) - 4);
	patched(&wa, 0, 'X', 1, -VF_E(VF_ERR_MAGIC), "magic");
	patched(&wa, 8, VF_MSTATE_VERSION + 1, 4, -VF_E(VF_ERR_VERSION),
		"version");
	patched(&wa, 12, 1, 4, -VF_E(VF_ERR_MALFORMED), "reserved");
	patched(&wa, 16, a.last + 1, 8, -VF_E(VF_ERR_MALFORMED),
		"window not ending at the last order");
	patched(&wa, 24, MAXC + 1, 4, -VF_E(VF_ERR_TOO_BIG),
		"more clients than the cache holds");

	/* Hand-made states: a good one, then one fault each. */
	handmade(&wa, 0, 0, 0, 1, WIN, 1, 2);
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 -EBUSY);
	vf_rcache_clear(c.rc);
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 0);
	CHECK_EQ(last, 1);
	handmade(&wa, 1, 0, 4, 2, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "a client twice");
	handmade(&wa, 0, 0, 4, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "undecided with a reply");
	handmade(&wa, 0, 3, 0, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "undecided with a status");
	handmade(&wa, 2, 0, 0, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "unknown entry flag");
	handmade(&wa, 0, 0, 0, 1, WIN * 2, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "another vote window");
	handmade(&wa, 0, 0, 0, 1, WIN, 2, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "undecided order that is decided");
	handmade(&wa, 0, 0, 0, 1, WIN, 2, 1);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "a node voting twice");
	handmade(&wa, 0, 0, 0, 1, WIN, 4, 2);
	refuse(&wa, -VF_E(VF_ERR_TOO_BIG), "more votes than 2f+1");

	/* The evicted-id filter: loaded as written, one encoding only. */
	hm_n = 2;
	hm_idx[0] = 3;
	hm_word[0] = 1;
	hm_idx[1] = 7;
	hm_word[1] = 1ULL << 63;
	handmade(&wa, 0, 0, 0, 1, WIN, 1, 2);
	vf_rcache_clear(c.rc);
	vf_voter_reset(c.v);
	CHECK_EQ(vf_mstate_decode(vf_wb_data(&wa), vf_wb_pending(&wa), &last,
				  c.rc, c.v),
		 0);
	enc(&c, &wc);
	c.last = last;
	enc(&c, &wc);
	same(&wa, &wc, "filter round trip");
	hm_idx[1] = 3;
	handmade(&wa, 0, 0, 0, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "filter words not ascending");
	hm_idx[1] = VF_RC_FILTER_BITS / 64;
	handmade(&wa, 0, 0, 0, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "filter word out of range");
	hm_idx[1] = 7;
	hm_word[1] = 0;
	handmade(&wa, 0, 0, 0, 1, WIN, 1, 2);
	refuse(&wa, -VF_E(VF_ERR_MALFORMED), "zero filter word");
	hm_n = 0;

	mgr_free(&a);
	mgr_free(&b);
	mgr_free(&c);
	vf_wb_free(&wa);
	vf_wb_free(&wb);
	vf_wb_free(&wc);
	return vf_check_done("vf-mstate-test");
}
