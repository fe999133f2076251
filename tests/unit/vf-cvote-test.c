// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-cvote-test - the chunk vote for f = 1 and f = 2: verified, repair
 * (with its sources in node order), undecided; a lying manager (wrong
 * digests, or silence) can neither get a good chunk replaced nor keep a
 * chunk from being decided by the correct ones; decisions never change
 * when more answers come (checked over every arrival order of random
 * cases).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vf_cvote.h"
#include "vf_check.h"

#define DS VF_MERKLE_DIGEST_SIZE

static uint8_t G[DS], X[DS], Y[DS];	/* good, two bad values */

static void set(struct vf_cvote_remote *r, uint32_t node, const uint8_t *d)
{
	r->node = node;
	r->answered = d != NULL;
	if (d)
		memcpy(r->digest, d, DS);
}

static enum vf_cvote_result vote(unsigned int f, const uint8_t *local,
				 struct vf_cvote_remote *rem, unsigned int n,
				 struct vf_cvote_out *out)
{
	REQUIRE(vf_cvote(f, local, rem, n, out) == 0);
	return out->result;
}

static void test_f1(void)
{
	struct vf_cvote_remote r[2];
	struct vf_cvote_out o;

	/* all agree */
	set(&r[0], 2, G);
	set(&r[1], 3, G);
	CHECK_EQ(vote(1, G, r, 2, &o), VF_CV_VERIFIED);
	CHECK(!memcmp(o.digest, G, DS) && o.agree == 2);
	/* one correct answer suffices; the other may be silent */
	set(&r[1], 3, NULL);
	CHECK_EQ(vote(1, G, r, 2, &o), VF_CV_VERIFIED);
	/* a liar cannot get the good chunk replaced */
	set(&r[1], 3, X);
	CHECK_EQ(vote(1, G, r, 2, &o), VF_CV_VERIFIED);
	set(&r[0], 2, NULL);
	CHECK_EQ(vote(1, G, r, 2, &o), VF_CV_PENDING);
	/* the local replica is corrupt: both others agree -> repair */
	set(&r[0], 2, G);
	set(&r[1], 3, G);
	CHECK_EQ(vote(1, X, r, 2, &o), VF_CV_REPAIR);
	CHECK(!memcmp(o.digest, G, DS) && o.nsources == 2 &&
	      o.sources[0] == 2 && o.sources[1] == 3);
	/* ... one answer is not enough */
	set(&r[1], 3, NULL);
	CHECK_EQ(vote(1, X, r, 2, &o), VF_CV_PENDING);
	/* corrupt local and a liar: two faults with f = 1, undecided */
	set(&r[1], 3, Y);
	CHECK_EQ(vote(1, X, r, 2, &o), VF_CV_UNDECIDED);
	/* the liar echoes the corrupt local: verified is "f+1 agree", which
	 * is what f = 1 can promise with two faults - but never a repair */
	set(&r[1], 3, X);
	CHECK_EQ(vote(1, X, r, 2, &o), VF_CV_VERIFIED);
	/* too few members: no remote at all */
	CHECK_EQ(vote(1, G, r, 0, &o), VF_CV_UNDECIDED);
	/* f = 0 (unreplicated): the local value alone */
	CHECK_EQ(vote(0, G, r, 0, &o), VF_CV_VERIFIED);
	CHECK_EQ(vf_cvote(1, G, r, VF_CVOTE_MAX_REMOTE + 1, &o), -EINVAL);
	CHECK_STR(vf_cvote_name(VF_CV_REPAIR), "repair");
}

static void test_f2(void)
{
	struct vf_cvote_remote r[4];
	struct vf_cvote_out o;

	/* two liars sending the same wrong value; two correct */
	set(&r[0], 5, X);
	set(&r[1], 2, X);
	set(&r[2], 4, G);
	set(&r[3], 3, G);
	CHECK_EQ(vote(2, G, r, 4, &o), VF_CV_VERIFIED);
	/* two silent liars: decided by the correct ones alone */
	set(&r[0], 5, NULL);
	set(&r[1], 2, NULL);
	CHECK_EQ(vote(2, G, r, 4, &o), VF_CV_VERIFIED);
	/* one correct answer only: wait */
	set(&r[3], 3, NULL);
	CHECK_EQ(vote(2, G, r, 4, &o), VF_CV_PENDING);
	/* corrupt local: three correct remotes repair, sources sorted */
	set(&r[0], 5, G);
	set(&r[1], 2, G);
	set(&r[2], 4, Y);
	set(&r[3], 3, G);
	CHECK_EQ(vote(2, X, r, 4, &o), VF_CV_REPAIR);
	CHECK(o.nsources == 3 && o.sources[0] == 2 && o.sources[1] == 3 &&
	      o.sources[2] == 5);
	/* corrupt local, only two correct answered, two silent: wait */
	set(&r[2], 4, NULL);
	set(&r[3], 3, NULL);
	CHECK_EQ(vote(2, X, r, 4, &o), VF_CV_PENDING);
	/* everybody different: undecided */
	set(&r[0], 5, G);
	set(&r[1], 2, Y);
	set(&r[2], 4, X);
	set(&r[3], 3, NULL);
	CHECK_EQ(vote(2, G, r, 4, &o), VF_CV_PENDING);
	set(&r[2], 4, Y);
	set(&r[3], 3, X);
	CHECK_EQ(vote(2, G, r, 4, &o), VF_CV_UNDECIDED);
}

/*
 * Random cases, f in 1..3, k = 2f+1: up to f liars among the remotes
 * (random wrong values or silence), the local replica correct or (then
 * counted as one of the f faults) corrupt. Over a random arrival order:
 * the first decision stays the decision; with a correct local it is
 * "verified" once every correct remote has answered; with a corrupt local
 * it is never "verified" to a wrong value unless f+1 wrong agree - which
 * the fault bound excludes - and "repair" always names the good value.
 */
static void test_random(void)
{
	struct vf_cvote_remote r[6], now[6];
	struct vf_cvote_out o;
	unsigned int iter, f, n, i, liars, order[6], t, k, bad_local;
	enum vf_cvote_result first;
	uint8_t vals[3][DS], local[DS];
	bool liar[6];

	srand(12345);
	memcpy(vals[0], X, DS);
	memcpy(vals[1], Y, DS);
	memset(vals[2], 0x5a, DS);
	for (iter = 0; iter < 20000; iter++) {
		f = 1 + rand() % 3;
		n = 2 * f;
		bad_local = rand() % 2;
		liars = rand() % (f + 1 - bad_local);
		memcpy(local, bad_local ? vals[rand() % 3] : G, DS);
		for (i = 0; i < n; i++) {
			liar[i] = i < liars;
			set(&r[i], 10 + (n - i), liar[i] ?
			    (rand() % 4 ? vals[rand() % 3] : NULL) : G);
		}
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {
			k = rand() % (i + 1);
			t = order[i];
			order[i] = order[k];
			order[k] = t;
		}
		for (i = 0; i < n; i++)
			set(&now[i], r[i].node, NULL);
		first = VF_CV_PENDING;
		for (k = 0; k <= n; k++) {
			if (k)
				now[order[k - 1]] = r[order[k - 1]];
			vote(f, local, now, n, &o);
			if (first != VF_CV_PENDING) {
				CHECK_EQ(o.result, first);
				continue;
			}
			first = o.result;
			if (o.result == VF_CV_VERIFIED)
				CHECK(!memcmp(o.digest, G, DS));
			if (o.result == VF_CV_REPAIR)
				CHECK(bad_local && !memcmp(o.digest, G, DS));
			CHECK(o.result != VF_CV_UNDECIDED);
		}
		/* all correct ones answered: decided, and decided right */
		CHECK_EQ(first, bad_local ? VF_CV_REPAIR : VF_CV_VERIFIED);
	}
}

int main(void)
{
	memset(G, 0x11, DS);
	memset(X, 0x22, DS);
	memset(Y, 0x33, DS);
	test_f1();
	test_f2();
	test_random();
	return vf_check_done(__FILE__);
}
