// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_manager - the summary of `vmfit-ctl manager`. See ctl_manager.h.
 * Every member used is read and checked first (table below), so a status
 * file of another shape is refused as a whole instead of printed in part.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl_manager.h"
#include "ctl_parse.h"
#include "vf_jflat.h"

/* The members the summary needs, in the order of struct mgr's fields. */
enum {
	M_PID, M_NODE, M_READY, M_SYNCED, M_UNREPL, M_CPG, M_MEMBERS, M_F,
	M_PRIMARY, M_MANAGERS, M_PRESENT, M_MSYNCED, M_VIEWS, M_DELIVERED,
	M_EXECUTED, M_DECIDED, M_EXPIRED, M_SUSPECTS, M_CLIENTS, M_PENDING,
	M_REP_PID, M_REP_DOMID, M_REP_OK, M_NUM
};

static const char *const num_keys[M_NUM] = {
	[M_PID] = "pid", [M_NODE] = "node_id", [M_READY] = "ready",
	[M_SYNCED] = "synced", [M_UNREPL] = "unreplicated",
	[M_CPG] = "cpg_connected", [M_MEMBERS] = "members", [M_F] = "f",
	[M_PRIMARY] = "primary", [M_MANAGERS] = "managers",
	[M_PRESENT] = "managers_present", [M_MSYNCED] = "managers_synced",
	[M_VIEWS] = "views", [M_DELIVERED] = "orders_delivered",
	[M_EXECUTED] = "executed", [M_DECIDED] = "decided",
	[M_EXPIRED] = "expired", [M_SUSPECTS] = "suspects",
	[M_CLIENTS] = "clients", [M_PENDING] = "pending",
	[M_REP_PID] = "replica_pid", [M_REP_DOMID] = "replica_domid",
	[M_REP_OK] = "replica_ok",
};

enum { R_ROUNDS, R_DONE, R_ABORTED, R_FULL, R_CHUNKS, R_HASHED, R_VERIFIED,
	R_REPAIRED, R_COPIED, R_B_HASHED, R_B_COPIED, R_B_FETCHED,
	R_B_SERVED, R_BAD, R_CAP_ORDER, R_CAP_MS, R_LAST_MS, R_NUM };

static const char *const rcv_keys[R_NUM] = {
	[R_ROUNDS] = "rcv_rounds", [R_DONE] = "rcv_done",
	[R_ABORTED] = "rcv_aborted", [R_FULL] = "rcv_full",
	[R_CHUNKS] = "rcv_chunks", [R_HASHED] = "rcv_hashed",
	[R_VERIFIED] = "rcv_verified", [R_REPAIRED] = "rcv_repaired",
	[R_COPIED] = "rcv_copied", [R_B_HASHED] = "rcv_bytes_hashed",
	[R_B_COPIED] = "rcv_bytes_copied", [R_B_FETCHED] = "rcv_bytes_fetched",
	[R_B_SERVED] = "rcv_bytes_served", [R_BAD] = "rcv_bad_msgs",
	[R_CAP_ORDER] = "rcv_capture_order", [R_CAP_MS] = "rcv_capture_ms",
	[R_LAST_MS] = "rcv_last_ms",
};

static const char *const rcv_strs[] = {
	"rcv_round", "rcv_last_round", "rcv_last_result", "rcv_last_abort",
	"rcv_volume",
};

static int missing(const char *key, const char *what, char *err,
		   size_t errlen)
{
	snprintf(err, errlen,
		 "no %s \"%s\": not a vmfitd status file, or one of another "
		 "vmfitd version", what, key);
	return -EINVAL;
}

/* Integer members of @keys into @v; pid-like ones may be negative. */
static int get_nums(const struct vf_jflat *j, const char *const *keys,
		    int64_t *v, unsigned int n, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!vf_jflat_i64(j, keys[i], &v[i]))
			return missing(keys[i], "integer", err, errlen);
	return 0;
}

static void line(FILE *f, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(FILE *f, const char *label, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-11s", label);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void print_group(FILE *f, const int64_t *m, const char *membership)
{
	if (!strcmp(membership, "synced"))
		line(f, "sync", "in sync: holds the group's ordered state; "
		     "votes and answers clients");
	else if (!strcmp(membership, "fresh"))
		line(f, "sync", "fresh: just started, delivered nothing yet; "
		     "in sync once the group's first view settles");
	else
		line(f, "sync", "out of sync: waiting for a state transfer "
		     "(recovery) before voting or answering");
	if (m[M_UNREPL]) {
		line(f, "primary", "yes: unreplicated, this manager alone "
		     "orders and answers");
		return;
	}
	if (m[M_PRIMARY])
		line(f, "primary", "yes: this view holds %" PRId64 " of the %"
		     PRId64 " configured managers, a majority; requests are "
		     "ordered", m[M_PRESENT], m[M_MANAGERS]);
	else
		line(f, "primary", "no: this view lacks a majority of the %"
		     PRId64 " configured managers; clients are told "
		     "NOT_PRIMARY", m[M_MANAGERS]);
	line(f, "managers", "%" PRId64 " configured, %" PRId64
	     " present, %" PRId64 " in sync (f = %" PRId64 ": %" PRId64
	     " in sync needed to serve)", m[M_MANAGERS], m[M_PRESENT],
	     m[M_MSYNCED], m[M_F], m[M_F] + 1);
	if (m[M_CPG])
		line(f, "group", "corosync connected, %" PRId64
		     " group members, %" PRId64 " view changes", m[M_MEMBERS],
		     m[M_VIEWS]);
	else
		line(f, "group", "not connected to corosync: is corosync "
		     "running on this host?");
}

static void print_replica(FILE *f, const int64_t *m, const char *suspects)
{
	char who[64];

	if (m[M_REP_DOMID] >= 0)
		snprintf(who, sizeof(who), "Xen domain %" PRId64,
			 m[M_REP_DOMID]);
	else if (m[M_REP_PID] > 0)
		snprintf(who, sizeof(who), "pid %" PRId64, m[M_REP_PID]);
	else
		snprintf(who, sizeof(who), "not running");
	line(f, "replica", "%s, %s", who, m[M_REP_OK] ?
	     "ok (said HELLO, not faulty)" :
	     "NOT ok (no HELLO yet, or failed: see vmfitd's log)");
	if (!m[M_SUSPECTS])
		line(f, "suspects", "none: every losing vote would be counted "
		     "here");
	else
		line(f, "suspects", "%" PRId64 " votes lost, by the replicas "
		     "of node(s) %s (suspected faulty)", m[M_SUSPECTS],
		     *suspects ? suspects : "?");
}

/* Start costs (members newer than the rest: printed when present). */
static void print_shadow_start(FILE *f, const struct vf_jflat *j)
{
	int64_t hello, created, stop;

	if (!vf_jflat_i64(j, "rcv_shadow_hello_ms", &hello) || hello < 0)
		return;
	if (vf_jflat_i64(j, "rcv_shadow_created_ms", &created) &&
	    created >= 0)
		line(f, "shadow", "HELLO %" PRId64 " ms after its start "
		     "(domain created and unpaused in %" PRId64 " ms)", hello,
		     created);
	else
		line(f, "shadow", "HELLO %" PRId64 " ms after its start", hello);
	if (vf_jflat_i64(j, "rcv_senior_stop_ms", &stop) && stop > 0)
		line(f, "hand-over", "the senior stopped in %" PRId64 " ms",
		     stop);
}

static void print_recovery(FILE *f, const struct vf_jflat *j,
			   const int64_t *r, const char *phase,
			   const char *const *s)
{
	int64_t caught, recv;
	char b[4][32];

	line(f, "recovery", "phase %s%s; %" PRId64 " rounds: %" PRId64
	     " done, %" PRId64 " aborted", phase,
	     strcmp(phase, "idle") ? " (a round is under way)" : "",
	     r[R_ROUNDS], r[R_DONE], r[R_ABORTED]);
	/* Catch-up members (group protocol v3); older files lack them. */
	if (vf_jflat_i64(j, "rcv_caught_up", &caught) &&
	    vf_jflat_i64(j, "rcv_receivers", &recv))
		line(f, "catch-up", "this manager caught up through %" PRId64
		     " rounds; %" PRId64 " managers catching up in the current "
		     "or last round", caught, recv);
	if (!strcmp(s[2], "none"))
		return;
	/* rcv_last_ms is set at hand-over: an aborted round has none. */
	if (!strcmp(s[2], "done"))
		line(f, "last round", "%s done%s in %" PRId64 " ms "
		     "(checkpoint + snapshot %" PRId64 " ms at order %" PRId64
		     ")", s[1], r[R_FULL] ? " (full)" : "", r[R_LAST_MS],
		     r[R_CAP_MS], r[R_CAP_ORDER]);
	else
		line(f, "last round", "%s %s%s (checkpoint + snapshot %" PRId64
		     " ms at order %" PRId64 ")", s[1], s[2],
		     r[R_FULL] ? " (full)" : "", r[R_CAP_MS], r[R_CAP_ORDER]);
	line(f, "chunks", "%" PRId64 " in the volume: %" PRId64 " hashed, %"
	     PRId64 " verified, %" PRId64 " repaired, %" PRId64 " copied",
	     r[R_CHUNKS], r[R_HASHED], r[R_VERIFIED], r[R_REPAIRED],
	     r[R_COPIED]);
	fmt_bytes(b[0], sizeof(b[0]), (uint64_t)r[R_B_HASHED]);
	fmt_bytes(b[1], sizeof(b[1]), (uint64_t)r[R_B_COPIED]);
	fmt_bytes(b[2], sizeof(b[2]), (uint64_t)r[R_B_FETCHED]);
	fmt_bytes(b[3], sizeof(b[3]), (uint64_t)r[R_B_SERVED]);
	line(f, "bytes", "%s hashed, %s copied, %s fetched from peers, %s "
	     "served to peers", b[0], b[1], b[2], b[3]);
	if (r[R_ABORTED] && *s[3])
		line(f, "last abort", "%s", s[3]);
	print_shadow_start(f, j);
	if (*s[4])
		line(f, "volume", "%s (the replica runs on it)", s[4]);
}

int ctl_manager_summary(FILE *f, const struct vf_jflat *j, char *err,
			size_t errlen)
{
	const char *service, *membership, *suspects, *phase;
	const char *rs[sizeof(rcv_strs) / sizeof(rcv_strs[0])];
	int64_t m[M_NUM], r[R_NUM];
	unsigned int i;

	if (get_nums(j, num_keys, m, M_NUM, err, errlen))
		return -EINVAL;
	service = vf_jflat_str(j, "service");
	membership = vf_jflat_str(j, "membership");
	suspects = vf_jflat_str(j, "suspect_nodes");
	phase = vf_jflat_str(j, "rcv_phase");
	if (!service || !membership || !suspects || !phase)
		return missing(!service ? "service" : !membership ?
			       "membership" : !suspects ? "suspect_nodes" :
			       "rcv_phase", "string", err, errlen);
	if (strcmp(phase, "off")) {
		if (get_nums(j, rcv_keys, r, R_NUM, err, errlen))
			return -EINVAL;
		for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			rs[i] = vf_jflat_str(j, rcv_strs[i]);
			if (!rs[i])
				return missing(rcv_strs[i], "string", err,
					       errlen);
		}
	}
	if (!f)
		return 0;
	line(f, "service", "%s on node %" PRId64 " (vmfitd pid %" PRId64 ")",
	     service, m[M_NODE], m[M_PID]);
	line(f, "ready", "%s", m[M_READY] ?
	     "yes: serving clients" :
	     "no: not serving yet (needs the replica's HELLO, the group, "
	     "sync and a primary view)");
	print_group(f, m, membership);
	line(f, "order", "%" PRId64 " orders delivered, %" PRId64
	     " executed, %" PRId64 " decided, %" PRId64 " expired undecided",
	     m[M_DELIVERED], m[M_EXECUTED], m[M_DECIDED], m[M_EXPIRED]);
	line(f, "clients", "%" PRId64 " connected, %" PRId64
	     " requests awaiting a reply", m[M_CLIENTS], m[M_PENDING]);
	print_replica(f, m, suspects);
	if (strcmp(phase, "off"))
		print_recovery(f, j, r, phase, rs);
	else
		line(f, "recovery", "off: no proactive recovery configured");
	return 0;
}
