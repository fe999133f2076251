// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd-membership-test - the membership rules (membership.c) on scripted
 * CPG view changes and STATE messages: genesis, partition and merge,
 * managers that die or restart, senders that are not managers.
 */
#include <string.h>

#include "membership.h"
#include "vf_check.h"

#define PID(node)	(100 + (node))	/* each manager's vmfitd */

static struct vf_conf conf;

#define H	mb.conf_hash, mb.view_fp

/* A view of @n managers (node ids in @nodes, their usual pids). */
static int view(struct membership *mb, const uint32_t *nodes, size_t n,
		const uint32_t *gone, size_t ngone, uint32_t reason)
{
	struct cpg_address members[8], left[8];
	size_t i;

	memset(members, 0, sizeof(members));
	memset(left, 0, sizeof(left));
	for (i = 0; i < n; i++) {
		members[i].nodeid = nodes[i];
		members[i].pid = PID(nodes[i]);
	}
	for (i = 0; i < ngone; i++) {
		left[i].nodeid = gone[i];
		left[i].pid = PID(gone[i]);
		left[i].reason = reason;
	}
	return mb_view(mb, members, n, left, ngone, NULL, 0);
}

/* Every manager of the view announces @state. */
static int announce_all(struct membership *mb, const uint32_t *nodes,
			size_t n, unsigned int state)
{
	int flags = 0;
	size_t i;

	for (i = 0; i < n; i++)
		flags |= mb_state(mb, nodes[i], PID(nodes[i]), state, 0,
				  mb->conf_hash, mb->view_fp);
	return flags;
}

/* Manager @self of 3 after genesis with all three. */
static void start3(struct membership *mb, uint32_t self)
{
	static const uint32_t all[] = { 1, 2, 3 };

	mb_init(mb, &conf, false);
	mb_connected(mb, self, PID(self));
	view(mb, all, 3, NULL, 0, 0);
	CHECK(mb->primary && !mb->synced && mb->fresh);
	CHECK_EQ(announce_all(mb, all, 3, MB_FRESH) & MB_GENESIS, MB_GENESIS);
	CHECK(manager_serving(mb) && membership_synced_count(mb) == 3);
}

int main(void)
{
	static const uint32_t all[] = { 1, 2, 3 }, n12[] = { 1, 2 },
		n1[] = { 1 }, n3[] = { 3 }, n2[] = { 2 }, n13[] = { 1, 3 },
		n23[] = { 2, 3 };
	struct cpg_address four[4];
	struct membership mb;
	uint64_t fp12;

	vf_conf_defaults(&conf);
	conf.f = 1;
	conf.nmanagers = 3;
	conf.managers[0] = 1;
	conf.managers[1] = 2;
	conf.managers[2] = 3;

	/* Bring-up: no genesis before every manager is there and fresh. */
	mb_init(&mb, &conf, false);
	mb_connected(&mb, 1, PID(1));
	CHECK_EQ(view(&mb, n1, 1, NULL, 0, 0), MB_LOST_PRIMARY);
	CHECK(!membership_primary(&mb) && membership_count(&mb) == 0);
	CHECK_EQ(view(&mb, n12, 2, NULL, 0, 0), 0);
	CHECK(membership_primary(&mb) && membership_count(&mb) == 2);
	CHECK_EQ(announce_all(&mb, n12, 2, MB_FRESH), 0);
	CHECK(!manager_in_sync(&mb));
	view(&mb, all, 3, NULL, 0, 0);
	CHECK_EQ(announce_all(&mb, n12, 2, MB_FRESH), 0);
	/* one manager that is not fresh blocks genesis */
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_OUT, 0, H), 0);
	CHECK(!manager_in_sync(&mb) && mb_self_state(&mb) == MB_FRESH);
	/* a manager configured differently never counts */
	mb_init(&mb, &conf, false);
	mb_connected(&mb, 1, PID(1));
	view(&mb, all, 3, NULL, 0, 0);
	CHECK_EQ(mb_state(&mb, 1, PID(1), MB_FRESH, 0, H), 0);
	CHECK_EQ(mb_state(&mb, 2, PID(2), MB_FRESH, 0, H), 0);
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_FRESH, 0, mb.conf_hash ^ 1,
			  mb.view_fp), 0);
	CHECK(!manager_in_sync(&mb) && mb.rejected == 1);
	{
		struct vf_conf c2 = conf;
		struct membership mb2;

		c2.managers[0] = 3;	/* same set, other order: same hash */
		c2.managers[2] = 1;
		mb_init(&mb2, &c2, false);
		CHECK_EQ(mb2.conf_hash, mb.conf_hash);
		c2.f = 2;
		mb_init(&mb2, &c2, false);
		CHECK(mb2.conf_hash != mb.conf_hash);
		c2.f = 1;
		c2.managers[1] = 4;
		mb_init(&mb2, &c2, false);
		CHECK(mb2.conf_hash != mb.conf_hash);
	}
	/* a STATE sent in an earlier view is not counted */
	mb_init(&mb, &conf, false);
	mb_connected(&mb, 1, PID(1));
	view(&mb, n12, 2, NULL, 0, 0);
	fp12 = mb.view_fp;
	view(&mb, all, 3, NULL, 0, 0);
	CHECK(fp12 != mb.view_fp);
	CHECK_EQ(mb_state(&mb, 1, PID(1), MB_FRESH, 0, mb.conf_hash, fp12), 0);
	CHECK_EQ(mb.stale_states, 1);
	CHECK_EQ(announce_all(&mb, n23, 2, MB_FRESH), 0);
	CHECK(!manager_in_sync(&mb));
	CHECK_EQ(mb_state(&mb, 1, PID(1), MB_FRESH, 0, H), MB_GENESIS);
	/* ... so a stale "fresh" cannot undo the start */
	CHECK_EQ(mb_state(&mb, 2, PID(2), MB_FRESH, 0, mb.conf_hash, fp12), 0);
	CHECK(membership_is_synced(&mb, 2));
	/* the fingerprint does not depend on the order CPG lists members */
	{
		struct cpg_address a[2] = {
			{ .nodeid = 2, .pid = PID(2) },
			{ .nodeid = 1, .pid = PID(1) },
		};

		mb_view(&mb, a, 2, NULL, 0, NULL, 0);
		CHECK_EQ(mb.view_fp, fp12);
	}
	start3(&mb, 1);
	CHECK(membership_is_member(&mb, 2) && membership_is_synced(&mb, 3));
	CHECK(!membership_is_member(&mb, 4));

	/* Senders: configured and in sync only, the manager's own pid. */
	CHECK(mb_admit(&mb, 2, PID(2), "VOTES"));
	CHECK(!mb_admit(&mb, 4, PID(4), "VOTES"));
	CHECK(!mb_admit(&mb, 3, 999, "VOTES"));
	CHECK_EQ(mb.rejected, 2);
	CHECK(manager_in_sync(&mb));
	/* a second process on node 3 does not replace its vmfitd */
	memset(four, 0, sizeof(four));
	four[0] = (struct cpg_address){ .nodeid = 1, .pid = PID(1) };
	four[1] = (struct cpg_address){ .nodeid = 2, .pid = PID(2) };
	four[2] = (struct cpg_address){ .nodeid = 3, .pid = PID(3) };
	four[3] = (struct cpg_address){ .nodeid = 3, .pid = 999 };
	mb_view(&mb, four, 4, NULL, 0, &four[3], 1);
	CHECK(mb_admit(&mb, 3, PID(3), "VOTES"));
	CHECK(!mb_admit(&mb, 3, 999, "VOTES"));
	/* ... nor does its leaving remove it */
	CHECK_EQ(mb_view(&mb, four, 3, &four[3], 1, NULL, 0), 0);
	CHECK(membership_is_synced(&mb, 3) && manager_serving(&mb));

	/* Partition {1,2} | {3}: the majority goes on, 3 is out for good. */
	start3(&mb, 1);
	CHECK_EQ(view(&mb, n12, 2, n3, 1, CPG_REASON_NODEDOWN), 0);
	CHECK(manager_serving(&mb) && membership_synced_count(&mb) == 2);
	start3(&mb, 3);
	CHECK_EQ(view(&mb, n3, 1, n12, 2, CPG_REASON_NODEDOWN),
		 MB_LOST_PRIMARY | MB_LOST_SYNC);
	CHECK(!manager_in_sync(&mb) && mb_self_state(&mb) == MB_OUT);
	CHECK(!mb_admit(&mb, 1, PID(1), "VOTES"));	/* not its business */
	/* the merge: primary again, but never in sync from a merge */
	CHECK_EQ(view(&mb, all, 3, NULL, 0, 0), 0);
	announce_all(&mb, n12, 2, MB_SYNCED);
	CHECK(membership_primary(&mb) && !manager_in_sync(&mb));
	CHECK(membership_synced_count(&mb) == 2 && !manager_serving(&mb));
	/* ... and the majority side sees 3 join out of sync */
	start3(&mb, 1);
	view(&mb, n12, 2, n3, 1, CPG_REASON_NODEDOWN);
	view(&mb, all, 3, NULL, 0, 0);
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_OUT, 0, H), 0);
	CHECK(manager_serving(&mb) && !membership_is_synced(&mb, 3));
	CHECK(!mb_admit(&mb, 3, PID(3), "VOTES"));
	/* a claim does not make it in sync; state transfer does */
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_SYNCED, 0, H), 0);
	CHECK(!membership_is_synced(&mb, 3));
	/* ... in which it is heard (recovery messages), nothing more */
	CHECK(mb_admit_present(&mb, 3, PID(3), "RCV_FETCHED"));
	CHECK(!mb_sender_synced(&mb, 3, PID(3)));
	CHECK(!mb_admit_present(&mb, 3, 999, "RCV_FETCHED"));
	CHECK(!mb_admit_present(&mb, 4, PID(4), "RCV_FETCHED"));
	CHECK(mb_sender_synced(&mb, 2, PID(2)) && !mb_sender_synced(&mb, 2, 9));
	mb_set_synced(&mb, 3);
	CHECK(membership_is_synced(&mb, 3) && mb_admit(&mb, 3, PID(3), "x"));
	CHECK(mb_sender_synced(&mb, 3, PID(3)));
	/* one that says it fell out is believed */
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_OUT, 0, H), 0);
	CHECK(!membership_is_synced(&mb, 3) && manager_serving(&mb));

	/* Two vmfitd die (PROCDOWN): 1 keeps the state, stopped. */
	start3(&mb, 1);
	CHECK_EQ(view(&mb, n13, 2, n2, 1, CPG_REASON_PROCDOWN), 0);
	CHECK_EQ(view(&mb, n1, 1, n3, 1, CPG_REASON_PROCDOWN),
		 MB_LOST_PRIMARY);
	CHECK(manager_in_sync(&mb) && !manager_serving(&mb));
	/* restarted 2 and 3 are fresh: no genesis over a manager in sync */
	view(&mb, all, 3, NULL, 0, 0);
	CHECK_EQ(announce_all(&mb, n23, 2, MB_FRESH), 0);
	CHECK_EQ(mb_state(&mb, 1, PID(1), MB_SYNCED, 0, H), 0);
	CHECK(manager_in_sync(&mb) && membership_synced_count(&mb) == 1);
	CHECK(!manager_serving(&mb));	/* 1 < f+1 */
	/* ... and a restarted one learns who holds the state */
	mb_init(&mb, &conf, false);
	mb_connected(&mb, 2, PID(2));
	view(&mb, all, 3, NULL, 0, 0);
	CHECK_EQ(announce_all(&mb, n12 + 1, 1, MB_FRESH), 0);
	CHECK_EQ(mb_state(&mb, 3, PID(3), MB_FRESH, 0, H), 0);
	CHECK_EQ(mb_state(&mb, 1, PID(1), MB_SYNCED, 7, H), 0);
	CHECK(!manager_in_sync(&mb) && membership_is_synced(&mb, 1));
	CHECK_EQ(mb.m[0].last_order, 7);

	/* Alone after a partition of a PROCDOWN survivor: out. */
	start3(&mb, 1);
	view(&mb, n12, 2, n3, 1, CPG_REASON_PROCDOWN);
	CHECK_EQ(view(&mb, n1, 1, n2, 1, CPG_REASON_NODEDOWN),
		 MB_LOST_PRIMARY | MB_LOST_SYNC);
	CHECK(!manager_in_sync(&mb));

	/* Lost corosync connection: out, never fresh again. */
	start3(&mb, 2);
	mb_lost(&mb);
	CHECK(!manager_in_sync(&mb) && !membership_primary(&mb));
	CHECK_EQ(mb_self_state(&mb), MB_OUT);

	/* A node that is not configured never counts, never serves. */
	mb_init(&mb, &conf, false);
	mb_connected(&mb, 9, PID(9));
	CHECK_EQ(view(&mb, all, 3, NULL, 0, 0), MB_LOST_PRIMARY);
	CHECK_EQ(announce_all(&mb, all, 3, MB_FRESH), 0);
	CHECK(!manager_in_sync(&mb));

	/* Unreplicated: alone, primary and in sync from the start. */
	mb_init(&mb, &conf, true);
	CHECK(manager_serving(&mb) && membership_count(&mb) == 1);
	return vf_check_done("vmfitd-membership-test");
}
