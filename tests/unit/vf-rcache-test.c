// SPDX-License-Identifier: GPL-2.0-only
/* vf-rcache-test - dedup, cached retries and the LRU bound. */
#include <errno.h>
#include <string.h>

#include "vf_rcache.h"
#include "vf_check.h"

int main(void)
{
	struct vf_rcache *rc = vf_rcache_new(3);
	struct vf_rc_entry *e;

	CHECK(rc);
	CHECK(!vf_rcache_new(0));
	CHECK_EQ(vf_rcache_deliver(rc, 100, 1, 1), 1);	/* new */
	CHECK_EQ(vf_rcache_deliver(rc, 100, 1, 2), 0);	/* duplicate */
	CHECK_EQ(vf_rcache_deliver(rc, 100, 0, 2), 0);	/* older */
	e = vf_rcache_get(rc, 100);
	CHECK(e && e->seq == 1 && e->order == 1 && !e->decided);
	/* the retry before the vote waits; after it, the cache answers */
	CHECK_EQ(vf_rcache_decide(rc, 100, 1, 0, (const uint8_t *)"r1", 2), 0);
	CHECK(e->decided && e->len == 2 && !memcmp(e->data, "r1", 2));
	CHECK_EQ(vf_rcache_decide(rc, 100, 1, 0, (const uint8_t *)"xx", 2),
		 -ENOENT);	/* decided once */
	CHECK_EQ(vf_rcache_decide(rc, 100, 2, 0, NULL, 0), -ENOENT);
	CHECK_EQ(vf_rcache_decide(rc, 999, 1, 0, NULL, 0), -ENOENT);
	/* the next seq replaces the cached reply */
	CHECK_EQ(vf_rcache_deliver(rc, 100, 2, 3), 1);
	CHECK(!e->decided && e->seq == 2 && !e->data);
	CHECK_EQ(vf_rcache_decide(rc, 100, 2, 2, NULL, 0), 0);
	CHECK_EQ(e->status, 2);
	/* bound: 3 clients; the least recently delivered is evicted */
	CHECK_EQ(vf_rcache_deliver(rc, 200, 1, 4), 1);
	CHECK_EQ(vf_rcache_deliver(rc, 300, 1, 5), 1);
	CHECK_EQ(vf_rcache_deliver(rc, 100, 3, 6), 1);	/* 100 is newest */
	CHECK_EQ(vf_rcache_count(rc), 3);
	CHECK_EQ(vf_rcache_deliver(rc, 400, 1, 7), 1);
	CHECK_EQ(vf_rcache_count(rc), 3);
	CHECK_EQ(vf_rcache_evictions(rc), 1);
	CHECK(!vf_rcache_get(rc, 200));
	CHECK(vf_rcache_get(rc, 100) && vf_rcache_get(rc, 300) &&
	      vf_rcache_get(rc, 400));
	/* an evicted client's old request is refused, never executed again */
	CHECK(vf_rcache_evicted(rc, 200));
	CHECK(!vf_rcache_evicted(rc, 300) || vf_rcache_get(rc, 300));
	CHECK_EQ(vf_rcache_deliver(rc, 200, 1, 8), -ESTALE);
	CHECK_EQ(vf_rcache_deliver(rc, 200, 7, 8), -ESTALE);
	CHECK(!vf_rcache_get(rc, 200));
	CHECK_EQ(vf_rcache_count(rc), 3);
	/* expiry of the vote window: no final answer, the entry stays open */
	CHECK_EQ(vf_rcache_deliver(rc, 500, 1, 9), 1);
	e = vf_rcache_get(rc, 500);
	CHECK_EQ(vf_rcache_expire(rc, 500, 2), -ENOENT);
	CHECK_EQ(vf_rcache_expire(rc, 500, 1), 0);
	CHECK(e->expired && !e->decided);
	CHECK_EQ(vf_rcache_decide(rc, 500, 1, 0, (const uint8_t *)"ok", 2), 0);
	CHECK(e->decided && e->len == 2);
	CHECK_EQ(vf_rcache_expire(rc, 500, 1), -ENOENT);	/* decided */
	CHECK_EQ(vf_rcache_deliver(rc, 500, 2, 10), 1);
	CHECK(!e->expired && !e->decided);
	vf_rcache_free(rc);
	return vf_check_done("vf-rcache-test");
}
