// SPDX-License-Identifier: GPL-2.0-only
/* vf-voter-test - f+1 voting: wins, losers, late and duplicate votes. */
#include <errno.h>
#include <string.h>

#include "vf_voter.h"
#include "vf_check.h"

static unsigned int nsuspect, nexpire;
static uint32_t last_suspect;

static void suspect(void *arg, uint64_t order, uint32_t node)
{
	nsuspect++;
	last_suspect = node;
}

static void expire(void *arg, uint64_t order)
{
	nexpire++;
}

static const struct vf_voter_ops ops = { suspect, expire };

#define V(v, o, n, s) vf_voter_add(v, o, n, (const uint8_t *)(s), strlen(s), &d)

int main(void)
{
	struct vf_voter_stats st;
	struct vf_decision d;
	struct vf_voter *v;
	uint64_t o;

	/* f = 1: 2 of 3 identical wins; the third is late and dropped */
	v = vf_voter_new(1, 16, &ops, NULL);
	CHECK(v);
	CHECK_EQ(V(v, 1, 1, "ok"), -ENOENT);	/* unknown order */
	CHECK_EQ(vf_voter_open(v, 2), -EINVAL);	/* must open in sequence */
	CHECK_EQ(vf_voter_open(v, 1), 0);
	CHECK_EQ(V(v, 1, 1, "ok"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 1, 1, "ok"), -EEXIST);	/* duplicate: counted once */
	CHECK_EQ(V(v, 1, 2, "ok"), VF_VOTE_DECIDED);
	CHECK(d.order == 1 && d.len == 2 && !memcmp(d.data, "ok", 2));
	CHECK_EQ(V(v, 1, 3, "ok"), -EALREADY);	/* decided */
	CHECK_EQ(nsuspect, 0);

	/* one wrong first, then two right: the wrong one is suspected */
	CHECK_EQ(vf_voter_open(v, 2), 0);
	CHECK_EQ(V(v, 2, 3, "bad"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 2, 1, "good"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 2, 2, "good"), VF_VOTE_DECIDED);
	CHECK(d.len == 4 && !memcmp(d.data, "good", 4));
	CHECK_EQ(nsuspect, 1);
	CHECK_EQ(last_suspect, 3);

	/* one right, one wrong, then the late one decides; a wrong vote
	 * arriving after the decision is suspected as well */
	CHECK_EQ(vf_voter_open(v, 3), 0);
	CHECK_EQ(V(v, 3, 1, "x"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 3, 2, "y"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 3, 3, "x"), VF_VOTE_DECIDED);
	CHECK_EQ(nsuspect, 2);
	CHECK_EQ(last_suspect, 2);
	CHECK_EQ(vf_voter_open(v, 4), 0);
	CHECK_EQ(V(v, 4, 1, "z"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 4, 2, "z"), VF_VOTE_DECIDED);
	CHECK_EQ(V(v, 4, 3, "w"), -EALREADY);
	CHECK_EQ(nsuspect, 3);

	/* all different: no decision; expires when the window moves on */
	CHECK_EQ(vf_voter_open(v, 5), 0);
	CHECK_EQ(V(v, 5, 1, "a"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 5, 2, "b"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 5, 3, "c"), VF_VOTE_PENDING);
	for (o = 6; o <= 5 + 16; o++)
		CHECK_EQ(vf_voter_open(v, o), 0);
	CHECK_EQ(nexpire, 1);
	CHECK_EQ(V(v, 5, 1, "a"), -ESTALE);	/* outside the window */
	/* empty replies vote too */
	CHECK_EQ(vf_voter_add(v, 21, 1, NULL, 0, &d), VF_VOTE_PENDING);
	CHECK_EQ(vf_voter_add(v, 21, 2, NULL, 0, &d), VF_VOTE_DECIDED);
	CHECK_EQ(d.len, 0);
	/* late: the third votes of orders 1 and 4; dropped: the duplicate
	 * (order 1), the unknown order and the one outside the window */
	vf_voter_stats(v, &st);
	CHECK_EQ(st.late, 2);
	CHECK_EQ(st.dropped, 3);
	CHECK_EQ(st.decided, 5);
	CHECK_EQ(st.expired, 1);
	vf_voter_free(v);

	/* f = 2: needs 3 identical; two wrong replicas cannot win */
	nsuspect = 0;
	v = vf_voter_new(2, 8, &ops, NULL);
	CHECK_EQ(vf_voter_open(v, 1), 0);
	CHECK_EQ(V(v, 1, 1, "evil"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 1, 2, "evil"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 1, 3, "fine"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 1, 4, "fine"), VF_VOTE_PENDING);
	CHECK_EQ(V(v, 1, 5, "fine"), VF_VOTE_DECIDED);
	CHECK(d.len == 4 && !memcmp(d.data, "fine", 4));
	CHECK_EQ(nsuspect, 2);
	vf_voter_free(v);

	/* f = 0 (unreplicated): one vote decides */
	v = vf_voter_new(0, 4, NULL, NULL);
	CHECK_EQ(vf_voter_open(v, 1), 0);
	CHECK_EQ(V(v, 1, 1, "r"), VF_VOTE_DECIDED);
	vf_voter_free(v);

	/* f too large for the slot size, zero window */
	CHECK(!vf_voter_new(4, 8, NULL, NULL));
	CHECK(!vf_voter_new(1, 0, NULL, NULL));
	return vf_check_done("vf-voter-test");
}
