// SPDX-License-Identifier: GPL-2.0-only
/*
 * membership.c - configured managers, primary component, in sync or not.
 *
 * The rules (vmfitd(8) "Membership and quorum" says why):
 *
 * - A view is primary when it holds the vmfitd of a majority of the
 *   configured managers (one process per node id: the first one seen).
 * - Only a manager in sync, in a primary view with f+1 members in sync,
 *   orders, executes and answers; ordered messages count only from the
 *   vmfitd of a configured manager in sync in the same primary view.
 * - A manager starts fresh (not in sync). The group starts at order 0
 *   ("genesis") only when every configured manager is in one primary view
 *   and every one announced itself fresh: then no state exists anywhere.
 * - In sync is never gained from a merge: a manager in sync stays in sync
 *   while it stays in primary views; in a view that is not primary it
 *   stays in sync (stopped) only while every manager in sync that left its
 *   view since is known to be dead (CPG_REASON_PROCDOWN or _LEAVE, not
 *   NODEDOWN: a partitioned one may go on elsewhere). Otherwise it is out
 *   of sync until state transfer (mb_set_synced) brings it back.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "membership.h"

#define MB_LOG_BURST		10
#define MB_LOG_PERIOD_MS	1000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int slot_of(const struct membership *mb, uint32_t node)
{
	unsigned int i;

	for (i = 0; i < mb->n; i++)
		if (mb->m[i].node == node)
			return (int)i;
	return -1;
}

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case CPG_REASON_LEAVE:
		return "left";
	case CPG_REASON_PROCDOWN:
		return "process died";
	case CPG_REASON_NODEDOWN:
		return "node down or partitioned";
	default:
		return "gone";
	}
}

/*
 * FNV-1a over f and the sorted node ids: managers whose "f" or "managers"
 * differ would count majorities differently; they must not form a group.
 */
static uint32_t conf_hash(const struct membership *mb)
{
	uint32_t h = 2166136261u, v, prev = 0, next;
	unsigned int i, j, b;

	for (i = 0; i <= mb->n; i++) {
		if (!i) {
			v = mb->f;
		} else {
			next = UINT32_MAX;	/* smallest id above prev */
			for (j = 0; j < mb->n; j++)
				if (mb->m[j].node > prev &&
				    mb->m[j].node <= next)
					next = mb->m[j].node;
			v = prev = next;
		}
		for (b = 0; b < 4; b++) {
			h ^= (v >> (8 * b)) & 0xff;
			h *= 16777619u;
		}
	}
	return h;
}

void mb_init(struct membership *mb, const struct vf_conf *c, bool local)
{
	unsigned int i;

	memset(mb, 0, sizeof(*mb));
	mb->reject_rl = (struct vf_ratelimit)VF_RATELIMIT_INIT(MB_LOG_BURST,
							       MB_LOG_PERIOD_MS);
	mb->f = c->f;
	mb->self = -1;
	mb->local = local;
	if (local) {
		/* Alone and always primary: the unreplicated baseline. */
		mb->f = 0;
		mb->n = 1;
		mb->m[0].node = c->node_id ? c->node_id : 1;
		mb->m[0].present = true;
		mb->m[0].synced = true;
		mb->self = 0;
		mb->primary = true;
		mb->synced = true;
		return;
	}
	mb->n = c->nmanagers;
	for (i = 0; i < mb->n; i++)
		mb->m[i].node = c->managers[i];
	mb->conf_hash = conf_hash(mb);
	mb->fresh = true;
}

void mb_connected(struct membership *mb, uint32_t node, uint32_t pid)
{
	mb->self_node = node;
	mb->self_pid = pid;
	mb->self = slot_of(mb, node);
	if (mb->self < 0)
		vf_err("this node (corosync node id %u) is not one of the configured managers: this manager never orders, votes or answers",
		       node);
}

void mb_out_of_sync(struct membership *mb, const char *why)
{
	mb->fresh = false;
	if (!mb->synced)
		return;
	vf_err("out of sync with the group (%s): this manager stops executing, voting and answering until state transfer brings it back",
	       why);
	mb->synced = false;
	if (mb->self >= 0)
		mb->m[mb->self].synced = false;
}

void mb_lost(struct membership *mb)
{
	unsigned int i;

	mb_out_of_sync(mb, "lost the connection to corosync: it may have missed part of the order");
	for (i = 0; i < mb->n; i++) {
		mb->m[i].present = false;
		mb->m[i].synced = false;
		mb->m[i].announced = false;
	}
	mb->primary = false;
	mb->announce = false;
}

enum mb_state mb_self_state(const struct membership *mb)
{
	if (mb->synced)
		return MB_SYNCED;
	return mb->fresh ? MB_FRESH : MB_OUT;
}

/* Every configured manager here and fresh: the group starts at order 0. */
static int check_genesis(struct membership *mb)
{
	unsigned int i;

	if (mb->synced || !mb->primary || mb->self < 0)
		return 0;
	for (i = 0; i < mb->n; i++)
		if (!mb->m[i].present || mb->m[i].synced ||
		    !mb->m[i].announced || mb->m[i].state != MB_FRESH)
			return 0;
	for (i = 0; i < mb->n; i++)
		mb->m[i].synced = true;
	mb->synced = true;
	mb->fresh = false;
	vf_info("membership: all %u configured managers are present and fresh: the group starts at order 0",
		mb->n);
	return MB_GENESIS;
}

/*
 * FNV-1a over the view's (node id, pid) pairs in ascending order: every
 * member of a view computes the same value, whatever order CPG lists them.
 */
static uint64_t view_fingerprint(const struct cpg_address *l, size_t n)
{
	uint64_t h = 14695981039346656037ull, v, prev = 0, next;
	size_t i, k;
	unsigned int b;
	bool any;

	for (i = 0; i < n; i++) {
		next = UINT64_MAX;
		any = false;
		for (k = 0; k < n; k++) {
			v = (uint64_t)l[k].nodeid << 32 | l[k].pid;
			if ((i == 0 || v > prev) && v <= next) {
				next = v;
				any = true;
			}
		}
		if (!any)
			break;
		prev = next;
		for (b = 0; b < 8; b++) {
			h ^= (next >> (8 * b)) & 0xff;
			h *= 1099511628211ull;
		}
	}
	return h;
}

static uint32_t left_reason(uint32_t node, uint32_t pid,
			    const struct cpg_address *left, size_t nleft)
{
	size_t k;

	for (k = 0; k < nleft; k++)
		if (left[k].nodeid == node && left[k].pid == pid)
			return left[k].reason;
	return CPG_REASON_NODEDOWN;	/* unknown: assume it may live on */
}

static bool in_list(uint32_t node, uint32_t pid,
		    const struct cpg_address *l, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (l[k].nodeid == node && l[k].pid == pid)
			return true;
	return false;
}

int mb_view(struct membership *mb, const struct cpg_address *members,
	    size_t nmembers, const struct cpg_address *left, size_t nleft,
	    const struct cpg_address *joined, size_t njoined)
{
	bool partitioned = false;	/* a manager in sync may live on */
	unsigned int i, present = 0, nsynced = 0;
	const char *what;
	struct mb_member *m;
	uint32_t reason;
	size_t k;
	int idx, flags = 0;

	mb->views++;
	mb->view_fp = view_fingerprint(members, nmembers);
	for (i = 0; i < mb->n; i++) {
		m = &mb->m[i];
		if (!m->present ||
		    in_list(m->node, m->pid, members, nmembers))
			continue;
		reason = left_reason(m->node, m->pid, left, nleft);
		if (m->synced && reason != CPG_REASON_LEAVE &&
		    reason != CPG_REASON_PROCDOWN)
			partitioned = true;
		vf_info("membership: manager node %u (pid %u) %s%s", m->node,
			m->pid, reason_name(reason),
			m->synced ? " (it was in sync)" : "");
		m->present = false;
		m->synced = false;
		m->state = 0;
	}
	for (k = 0; k < nmembers; k++) {
		idx = slot_of(mb, members[k].nodeid);
		if (idx < 0 || mb->m[idx].present)
			continue;
		m = &mb->m[idx];
		m->present = true;
		m->pid = members[k].pid;
		m->synced = false;
		m->state = 0;
	}
	for (k = 0; k < njoined; k++) {
		idx = slot_of(mb, joined[k].nodeid);
		if (idx < 0)
			vf_warn("membership: node %u (pid %u) joined the group but is not a configured manager; its messages are rejected",
				joined[k].nodeid, joined[k].pid);
		else if (mb->m[idx].pid != joined[k].pid)
			vf_warn("membership: node %u: a second process (pid %u) joined the group beside its vmfitd (pid %u); its messages are rejected",
				joined[k].nodeid, joined[k].pid,
				mb->m[idx].pid);
	}
	for (i = 0; i < mb->n; i++) {
		mb->m[i].announced = false;
		present += mb->m[i].present;
		nsynced += mb->m[i].present && mb->m[i].synced;
	}
	mb->primary = mb->self >= 0 && mb->m[mb->self].present &&
		      mb->m[mb->self].pid == mb->self_pid &&
		      2 * present > mb->n;
	mb->announce = mb->self >= 0 && mb->m[mb->self].present;
	if (!mb->primary) {
		flags |= MB_LOST_PRIMARY;
		if (mb->synced && partitioned) {
			mb_out_of_sync(mb, "outside the primary component, and a manager in sync may go on without it");
			flags |= MB_LOST_SYNC;
		}
	}
	if (!mb->synced)
		what = mb->fresh ? "fresh (waiting for every manager or for state transfer)" :
				   "out of sync";
	else if (mb->primary)
		what = "in sync";
	else
		what = "in sync but stopped (every other manager in sync is known to be dead)";
	vf_info("membership: view %" PRIu64 ": %u of %u configured managers present, %s; %u in sync; this manager is %s",
		mb->views, present, mb->n,
		mb->primary ? "primary" : "NOT primary (no majority)", nsynced,
		what);
	return flags | check_genesis(mb);
}

void mb_reject(struct membership *mb, uint32_t node, uint32_t pid,
	       const char *what, const char *why)
{
	mb->rejected++;
	if (vf_ratelimit(&mb->reject_rl, mono_ms()))
		vf_warn("rejected %s from node %u pid %u: %s", what, node, pid,
			why);
}

/* The sender is the vmfitd of a configured manager in the view. */
static bool sender_ok(struct membership *mb, uint32_t node, uint32_t pid,
		      const char *what, int *idx)
{
	*idx = slot_of(mb, node);
	if (*idx < 0) {
		mb_reject(mb, node, pid, what, "not a configured manager");
		return false;
	}
	if (!mb->m[*idx].present || mb->m[*idx].pid != pid) {
		mb_reject(mb, node, pid, what,
			  "not the vmfitd of that configured manager");
		return false;
	}
	return true;
}

int mb_state(struct membership *mb, uint32_t node, uint32_t pid,
	     unsigned int state, uint64_t last_order, uint32_t hash,
	     uint64_t view)
{
	struct mb_member *m;
	int idx;

	if (mb->local || !sender_ok(mb, node, pid, "STATE", &idx))
		return 0;
	/*
	 * Sent before a view change this manager has already seen: what it
	 * says may be out of date (e.g. "fresh" after the group started);
	 * the sender announces again for this view.
	 */
	if (view != mb->view_fp) {
		mb->stale_states++;
		return 0;
	}
	if (hash != mb->conf_hash) {
		mb_reject(mb, node, pid, "STATE",
			  "its 'f' or 'managers' differ from this manager's (vmfitd.conf)");
		return 0;
	}
	m = &mb->m[idx];
	m->announced = true;
	m->state = state;
	m->last_order = last_order;
	if (idx == mb->self) {
		/* Our own, sent earlier: what we are now is what counts. */
	} else if (!mb->synced) {
		m->synced = state == MB_SYNCED;
	} else if (state != MB_SYNCED && m->synced) {
		/* It went out of sync on its own (e.g. out of memory). */
		vf_warn("membership: node %u announces it is out of sync",
			node);
		m->synced = false;
	} else if (state == MB_SYNCED && !m->synced) {
		/* Our table is exact: in sync is never gained by a claim. */
		vf_warn("membership: node %u claims to be in sync; it is not (ignored)",
			node);
	}
	return check_genesis(mb);
}

bool mb_admit(struct membership *mb, uint32_t node, uint32_t pid,
	      const char *what)
{
	int idx;

	if (mb->local)
		return true;
	/* Not our business: we neither order nor vote. */
	if (!mb->synced || !mb->primary)
		return false;
	if (!sender_ok(mb, node, pid, what, &idx))
		return false;
	if (!mb->m[idx].synced) {
		mb_reject(mb, node, pid, what, "that manager is not in sync");
		return false;
	}
	return true;
}

bool mb_admit_present(struct membership *mb, uint32_t node, uint32_t pid,
		      const char *what)
{
	int idx;

	if (mb->local)
		return true;
	if (!mb->primary)
		return false;
	return sender_ok(mb, node, pid, what, &idx);
}

bool mb_sender_synced(const struct membership *mb, uint32_t node,
		      uint32_t pid)
{
	int idx = slot_of(mb, node);

	return mb->primary && idx >= 0 && mb->m[idx].present &&
	       mb->m[idx].pid == pid && mb->m[idx].synced;
}

void mb_set_synced(struct membership *mb, uint32_t node)
{
	int idx = slot_of(mb, node);

	if (idx < 0 || !mb->m[idx].present)
		return;
	mb->m[idx].synced = true;
	if (idx == mb->self) {
		mb->synced = true;
		mb->fresh = false;
		vf_info("membership: this manager is in sync again");
	}
}

/*----------------------------------------------------------------*/
/* The stable API */

bool membership_primary(const struct membership *mb)
{
	return mb->primary;
}

unsigned int membership_count(const struct membership *mb)
{
	unsigned int i, n = 0;

	if (!mb->primary)
		return 0;
	for (i = 0; i < mb->n; i++)
		n += mb->m[i].present;
	return n;
}

bool membership_is_member(const struct membership *mb, uint32_t node)
{
	int idx = slot_of(mb, node);

	return mb->primary && idx >= 0 && mb->m[idx].present;
}

bool membership_is_synced(const struct membership *mb, uint32_t node)
{
	int idx = slot_of(mb, node);

	return membership_is_member(mb, node) && mb->m[idx].synced;
}

unsigned int membership_synced_count(const struct membership *mb)
{
	unsigned int i, n = 0;

	if (!mb->primary)
		return 0;
	for (i = 0; i < mb->n; i++)
		n += mb->m[i].present && mb->m[i].synced;
	return n;
}

bool manager_in_sync(const struct membership *mb)
{
	return mb->synced;
}

bool manager_serving(const struct membership *mb)
{
	return mb->synced && mb->primary &&
	       membership_synced_count(mb) >= mb->f + 1;
}
