/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * membership.h - the configured managers, the primary component, and
 * whether this manager is in sync (vmfitd(8) "Membership and quorum").
 *
 * Everything here is decided from the CPG view changes and the STATE
 * messages, which every manager delivers at the same points of the one
 * agreed order (virtual synchrony): managers in the same view make the
 * same decisions. No I/O, no vmfitd state: group.c and delivery.c feed it,
 * and the rest of the manager (and recovery) reads it through the query
 * functions at the end, which are the stable API.
 */
#ifndef VMFITD_MEMBERSHIP_H
#define VMFITD_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corosync/cpg.h>

#include "vf_conf.h"
#include "vf_log.h"

/* What a manager announces in its STATE message (gmsg.h). */
enum mb_state {
	MB_FRESH = 1,		/* started, never in sync, delivered nothing */
	MB_OUT = 2,		/* out of sync (missed part of the order) */
	MB_SYNCED = 3,		/* holds the group's ordered state */
};

/* One configured manager, as this manager sees it. */
struct mb_member {
	uint32_t node;		/* configured corosync node id */
	uint32_t pid;		/* its vmfitd in the view (if present) */
	bool present;		/* in the current CPG view */
	bool synced;		/* holds the group's ordered state */
	bool announced;		/* sent STATE since the view began */
	uint8_t state;		/* last announced enum mb_state, 0: none */
	uint64_t last_order;	/* its last_order in that STATE */
};

/* mb_view() / mb_state() results (bit flags). */
#define MB_LOST_PRIMARY		0x1	/* this view is not a primary */
#define MB_LOST_SYNC		0x2	/* this manager went out of sync */
#define MB_GENESIS		0x4	/* the group starts at order 0 */

struct membership {
	struct mb_member m[VF_CONF_MAX_MANAGERS];
	unsigned int n;		/* configured managers (2f+1) */
	unsigned int f;
	uint32_t conf_hash;	/* of f and m[].node: equal on every manager */
	bool local;		/* --unreplicated: alone, always primary */
	uint32_t self_node;	/* corosync node id, pid of this vmfitd */
	uint32_t self_pid;
	int self;		/* index in m[], -1: not configured */
	bool primary;		/* the view holds a majority of m[] */
	bool synced;		/* this manager holds the group's state */
	bool fresh;		/* this manager is MB_FRESH */
	bool announce;		/* a STATE message is due (view changed) */
	uint64_t view_fp;	/* fingerprint of the current CPG view */
	uint64_t stale_states;	/* STATE messages of an earlier view */
	uint64_t views;		/* CPG views seen */
	uint64_t rejected;	/* group messages rejected */
	struct vf_ratelimit reject_rl;
};

void mb_init(struct membership *mb, const struct vf_conf *c, bool local);
/* This manager joined the group as (@node, @pid). */
void mb_connected(struct membership *mb, uint32_t node, uint32_t pid);
/* The connection to corosync is gone: part of the order may be missed. */
void mb_lost(struct membership *mb);
/* A CPG view change; returns MB_* flags. */
int mb_view(struct membership *mb, const struct cpg_address *members,
	    size_t nmembers, const struct cpg_address *left, size_t nleft,
	    const struct cpg_address *joined, size_t njoined);
/*
 * A STATE message from (@node, @pid), sent in the view @view (its
 * fingerprint, mb->view_fp when it was sent) with the configuration hash
 * @conf_hash. One of an earlier view is ignored (its sender announces
 * again in this one); one with another configuration hash is rejected.
 * Returns MB_* flags.
 */
int mb_state(struct membership *mb, uint32_t node, uint32_t pid,
	     unsigned int state, uint64_t last_order, uint32_t conf_hash,
	     uint64_t view);
/*
 * May an ordered message (@what: "REQUESTS", ...) from (@node, @pid) be
 * used? Only while this manager is in sync in a primary view, and only
 * from the vmfitd of a configured manager that is in sync too. A message
 * refused for its sender is logged (rate-limited) and counted.
 */
bool mb_admit(struct membership *mb, uint32_t node, uint32_t pid,
	      const char *what);
/*
 * For a manager that catches up (recovery, protocol.rst "Catching up"):
 * may a recovery message from (@node, @pid) be used although this manager
 * is not in sync? Only in a primary view, from the vmfitd of a configured
 * manager present in it (in sync or not: the round decides what each
 * sender may say). Refusals are logged and counted like mb_admit's.
 */
bool mb_admit_present(struct membership *mb, uint32_t node, uint32_t pid,
		      const char *what);
/*
 * Is (@node, @pid) the vmfitd of a configured manager in sync in this
 * primary view? (No logging: a manager that catches up keeps the ordered
 * messages of such senders for later.)
 */
bool mb_sender_synced(const struct membership *mb, uint32_t node,
		      uint32_t pid);
/* Log and count a message of an admitted sender that is refused anyway. */
void mb_reject(struct membership *mb, uint32_t node, uint32_t pid,
	       const char *what, const char *why);
/* This manager missed part of the order (no-op if it was out already). */
void mb_out_of_sync(struct membership *mb, const char *why);
/*
 * For state transfer: at this point of the ordered stream @node holds the
 * group's state (every manager calls it at the same point).
 */
void mb_set_synced(struct membership *mb, uint32_t node);
/* What this manager announces. */
enum mb_state mb_self_state(const struct membership *mb);

/*
 * The stable API (recovery and the other parts read membership only
 * through these; see /work/coord/membership-api.md).
 */

/* The current CPG view holds a majority of the configured managers. */
bool membership_primary(const struct membership *mb);
/* Configured managers in the current view if it is primary, else 0. */
unsigned int membership_count(const struct membership *mb);
/* @node is a configured manager present in the current primary view. */
bool membership_is_member(const struct membership *mb, uint32_t node);
/* ... and holds the group's ordered state. */
bool membership_is_synced(const struct membership *mb, uint32_t node);
/* Members of the primary view in sync (this one included). */
unsigned int membership_synced_count(const struct membership *mb);
/* This manager holds the group's ordered state. */
bool manager_in_sync(const struct membership *mb);
/*
 * This manager may order, execute and answer: in sync, in a primary view
 * with at least f+1 members in sync (so that requests can be decided).
 */
bool manager_serving(const struct membership *mb);

#endif /* VMFITD_MEMBERSHIP_H */
