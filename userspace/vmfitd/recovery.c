// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery.c - proactive recovery with verified state transfer: the
 * controller of Documentation/protocol.rst "Recovery" (phases 1-6, the
 * abort rules, invariants I1-I5), built on libvmfit's vf_rcv (messages),
 * vf_dstore (digests), vf_cvote (the vote) and vf_svol (volumes).
 *
 * One round at a time. Its phases on this manager:
 *
 *   idle -> starting   RECOVER delivered: shadow started on volume B
 *        -> ready      shadow said HELLO: RCV_READY multicast
 *        -> capture    k-th RCV_READY delivered: ordered checkpoint of the
 *                      senior pushed; from here every EXEC is logged
 *        -> verify     checkpoint done: A snapshotted, hashed, digests
 *                      exchanged level by level
 *        -> fetch      repairs fetched from peers (skipped if none)
 *        -> restore    RCV_FETCHED sent; B written and cleared; RESTORE and
 *                      the logged EXECs sent to the shadow
 *        -> handover   the shadow caught up: it alone gets new EXECs and
 *                      votes on them; the senior finishes what it had
 *        -> finish     senior stopped, shadow is the replica; waiting for
 *                      every RCV_FETCHED, then A dropped and repaired, the
 *                      digest store committed
 *        -> idle
 *
 * Until "handover" any fault aborts (abort()): the senior never stopped
 * serving, so nothing acknowledged is lost. Volume operations and chunk
 * copies run synchronously in the event loop (short for the volumes the
 * tests use; a worker thread is future work, see protocol.rst).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmsg.h"
#include "vf_cvote.h"
#include "vf_dstore.h"
#include "vf_log.h"
#include "vf_rcv.h"
#include "vf_svol.h"
#include "vmfitd.h"

#define DS			VF_MERKLE_DIGEST_SIZE
#define F			VF_MERKLE_FANOUT
#define PEER_SRV_IN		(VF_HDR_LEN + 64)
#define PEER_CLI_IN		(VF_HDR_LEN + 20 + VF_RCV_MAX_CHUNK)
#define SENIOR_DRAIN_MS		10000	/* handover: senior answers the rest */
#define SENIOR_STOP_MS		2000

enum phase {
	PH_IDLE,
	PH_STARTING,
	PH_READY,
	PH_CAPTURE,
	PH_VERIFY,
	PH_FETCH,
	PH_RESTORE,
	PH_HANDOVER,
	PH_FINISH,
};

static const char *const phase_names[] = {
	[PH_IDLE] = "idle",
	[PH_STARTING] = "starting",
	[PH_READY] = "ready",
	[PH_CAPTURE] = "capture",
	[PH_VERIFY] = "verify",
	[PH_FETCH] = "fetch",
	[PH_RESTORE] = "restore",
	[PH_HANDOVER] = "handover",
	[PH_FINISH] = "finish",
};

struct member {
	uint32_t node;
	bool ready;
	uint8_t addr[4];
	uint16_t port;
	bool fetched;		/* its RCV_FETCHED was delivered, or it left */
	bool left;
	uint8_t *dig;		/* this level's node digests, nq of them */
	uint8_t *have;		/* per group of this level */
	size_t ngot;		/* groups received at this level */
};

struct repair {
	uint64_t chunk;
	uint8_t digest[DS];
	uint32_t sources[VF_CVOTE_MAX_REMOTE];
	unsigned int nsources;
	unsigned int next;	/* source to try next */
	uint8_t *data;		/* the fetched, checked bytes */
	uint32_t len;
};

struct peer {
	int fd;			/* -1: free */
	uint8_t in[PEER_SRV_IN];
	size_t ilen;
	struct vf_wbuf out;
	bool closing;		/* close once out is sent */
};

struct rcv_stats {
	uint64_t rounds;
	uint64_t done;
	uint64_t aborted;
	uint64_t hashed;
	uint64_t verified;
	uint64_t repaired;
	uint64_t copied;
	uint64_t bytes_hashed;
	uint64_t bytes_copied;
	uint64_t bytes_fetched;
	uint64_t bytes_served;
	uint64_t bad_msgs;
	uint64_t last_round;
	uint64_t last_ms;	/* RECOVER -> hand-over of the last round */
	uint64_t capture_ms;	/* checkpoint + snapshot of the last round */
	char last_result[16];	/* "done", "aborted" */
	char last_abort[160];
};

struct rcv {
	struct vf_svol vol[2];
	int cur;			/* the senior's volume (A) */
	bool alt;			/* the senior runs shadow_cmd */
	char store_path[PATH_MAX];
	struct vf_dstore store;		/* the verified state (committed) */
	bool have_store;
	unsigned int since_full;	/* rounds since the last full one */
	uint64_t next_period_ms;
	bool lie;			/* test fault: wrong digests sent */
	bool bad_msgs;			/* test fault: malformed messages too */
	bool cut;			/* test fault: chunks served cut short */
	struct vf_wbuf msg;		/* group message being built */

	/* the round */
	enum phase phase;
	uint64_t round;
	bool full;
	uint64_t start_ms;
	uint64_t capture_start_ms;
	struct member mem[MEMBERS_MAX];
	unsigned int k;
	unsigned int self;
	unsigned int nready;
	uint64_t ckpt_id;
	uint64_t capture_order;
	bool logging;			/* EXECs after the capture are logged */
	struct vf_svol *frozen;		/* volume whose view serves peers */
	bool fetched_sent;

	/* the shadow */
	struct vf_replica sh;
	bool sh_hello;
	bool restore_sent;
	bool restored;
	uint8_t *sin;
	size_t silen;
	size_t sin_off;			/* consumed: up to the frame handled */
	struct vf_wbuf sout;		/* to the shadow, after RESTORE */
	struct vf_wbuf slog;		/* EXECs logged before RESTORE is sent */
	uint64_t sh_sent;		/* last order logged or sent */
	uint64_t sh_done;		/* last order the shadow answered */
	bool switched;
	uint64_t h;			/* hand-over point */
	uint64_t switch_ms;

	/* verification */
	struct vf_rcv_geom geom;
	uint64_t view_bytes;
	struct vf_dstore work;
	struct vf_ranges changed;
	unsigned int level;
	size_t ng;			/* groups of this level */
	uint64_t *gfirst;
	uint32_t *gn;
	size_t *gpos;
	size_t nq;			/* nodes of this level */
	struct repair *rep;
	size_t nrep;
	size_t rep_next;
	/*
	 * Root digests of managers whose capture finished before ours:
	 * kept until ours is done (only the root level can be early: the
	 * next one needs our root).
	 */
	struct {
		uint32_t node;
		uint8_t *msg;
		size_t len;
	} early[MEMBERS_MAX];
	unsigned int nearly;

	/* fetching (client side) */
	int pc_fd;
	bool pc_connecting;
	uint64_t pc_deadline;
	uint8_t *pc_in;
	size_t pc_ilen;
	struct vf_wbuf pc_out;

	/* serving (server side) */
	int pl_fd;
	struct peer peers[PEER_CONN_MAX];

	struct rcv_stats st;
};

static void round_abort(struct vmfitd *d, uint32_t reason, bool tell,
			const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*----------------------------------------------------------------*/
/* Helpers */

static const char *cmd_of(const struct vmfitd *d, bool alt)
{
	return alt && d->conf.shadow_cmd[0] ? d->conf.shadow_cmd :
					      d->conf.replica_cmd;
}

/*
 * Who counts: the configured managers of the primary view that are in
 * sync (membership.h; vmfitd(8) "Membership and quorum"). A manager that
 * is not in sync neither takes part nor is waited for.
 */
static unsigned int round_members(const struct vmfitd *d, uint32_t *ids)
{
	unsigned int i, n = 0;

	if (d->local) {
		ids[0] = d->nodeid;
		return 1;
	}
	for (i = 0; i < d->mb.n && n < MEMBERS_MAX; i++)
		if (membership_is_synced(&d->mb, d->mb.m[i].node))
			ids[n++] = d->mb.m[i].node;
	return n;
}

static int member_idx(const struct rcv *r, uint32_t node)
{
	unsigned int i;

	for (i = 0; i < r->k; i++)
		if (r->mem[i].node == node)
			return i;
	return -1;
}

/* Send the message built in r->msg with @count entries. */
static void send_msg(struct vmfitd *d, uint32_t count)
{
	struct rcv *r = d->rcv;

	if (vf_gmsg_end(&r->msg, count)) {
		vf_err("recovery: message too big, not sent");
		vf_wb_reset(&r->msg);
		return;
	}
	if (group_send(d, &r->msg))
		vf_warn("recovery: not connected to the group, message lost");
}

/*----------------------------------------------------------------*/
/* The end of a round */

static void free_level(struct rcv *r)
{
	unsigned int i;

	for (i = 0; i < MEMBERS_MAX; i++) {
		free(r->mem[i].dig);
		free(r->mem[i].have);
		r->mem[i].dig = NULL;
		r->mem[i].have = NULL;
		r->mem[i].ngot = 0;
	}
	free(r->gfirst);
	free(r->gn);
	free(r->gpos);
	r->gfirst = NULL;
	r->gn = NULL;
	r->gpos = NULL;
	r->ng = 0;
	r->nq = 0;
}

static void pc_close(struct rcv *r)
{
	if (r->pc_fd >= 0)
		close(r->pc_fd);
	r->pc_fd = -1;
	r->pc_connecting = false;
	r->pc_ilen = 0;
	vf_wb_reset(&r->pc_out);
}

static void shadow_release(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (r->sh.running)
		d->be->kill(&r->sh);
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	vf_wb_free(&r->sout);
	vf_wb_free(&r->slog);
	r->silen = 0;
}

/* Everything a round holds, whatever its phase; back to idle. */
static void round_clear(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	size_t i;

	shadow_release(d);
	pc_close(r);
	free_level(r);
	for (i = 0; i < r->nrep; i++)
		free(r->rep[i].data);
	for (i = 0; i < r->nearly; i++)
		free(r->early[i].msg);
	r->nearly = 0;
	free(r->rep);
	r->rep = NULL;
	r->nrep = 0;
	r->rep_next = 0;
	vf_dstore_free(&r->work);
	vf_ranges_free(&r->changed);
	vf_ranges_init(&r->changed);
	r->frozen = NULL;
	r->phase = PH_IDLE;
	r->logging = false;
	r->switched = false;
	r->restore_sent = false;
	r->restored = false;
	r->sh_hello = false;
	r->fetched_sent = false;
	r->ckpt_id = 0;
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == ',' || *s == '\\' ||
		    (unsigned char)*s < 0x20)
			*s = ' ';
}

/*
 * Abort the round here (protocol.rst "Timeouts and abort rules"): the
 * shadow is killed, A's snapshot merged, the log dropped, the digest store
 * and B left alone (I2). @tell: multicast RCV_ABORT so that the others
 * abort too.
 */
static void round_abort(struct vmfitd *d, uint32_t reason, bool tell,
			const char *fmt, ...)
{
	struct rcv *r = d->rcv;
	char msg[128];
	va_list ap;
	int e;

	if (r->phase == PH_IDLE || r->switched)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf_warn("recovery: round %016" PRIx64 " aborted (%s): %s; the senior keeps serving",
		r->round, vf_rcv_reason_name(reason), msg);
	if (r->frozen) {
		e = r->frozen->ops->merge(r->frozen);
		if (e)
			vf_err("recovery: merge of %s after the abort: %s",
			       r->frozen->path, strerror(-e));
	}
	r->st.aborted++;
	r->st.last_round = r->round;
	strcpy(r->st.last_result, "aborted");
	snprintf(r->st.last_abort, sizeof(r->st.last_abort), "%s: %s",
		 vf_rcv_reason_name(reason), msg);
	sanitize(r->st.last_abort);
	round_clear(d);
	/* Last: in --unreplicated mode the send delivers it at once, to a
	 * manager that is idle again and ignores it. */
	if (tell) {
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->st.last_round, reason, msg);
		send_msg(d, 1);
	}
}

/*----------------------------------------------------------------*/
/* Start: RECOVER, the shadow, RCV_READY */

int rcv_trigger(struct vmfitd *d, bool full, uint64_t *round)
{
	struct rcv *r = d->rcv;

	if (!r)
		return -ENOTSUP;
	if (!vmfitd_available(d))
		return -ENOTCONN;
	if (r->phase != PH_IDLE)
		return -EBUSY;
	*round = random_id();
	vf_gmsg_begin(&r->msg, VF_G_RECOVER, d->last_order);
	vf_rcv_put_recover(&r->msg, *round, full ? VF_RCV_F_FULL : 0);
	send_msg(d, 1);
	return 0;
}

static void start_round(struct vmfitd *d, uint32_t node, uint64_t round,
			bool full)
{
	struct rcv *r = d->rcv;
	struct vf_replica_spec spec = {
		.cmd = cmd_of(d, !r->alt),
		.state = r->vol[!r->cur].path,
	};
	uint32_t ids[MEMBERS_MAX];
	unsigned int i;
	int e;

	round_clear(d);
	memset(r->mem, 0, sizeof(r->mem));
	r->round = round;
	r->start_ms = now_ms();
	r->st.rounds++;
	/* Per-round counters; rounds, done and aborted add up. */
	r->st.hashed = r->st.verified = r->st.repaired = r->st.copied = 0;
	r->st.bytes_hashed = r->st.bytes_copied = 0;
	r->st.bytes_fetched = r->st.bytes_served = 0;
	memset(&r->geom, 0, sizeof(r->geom));
	r->k = round_members(d, ids);
	for (i = 0; i < r->k; i++)
		r->mem[i].node = ids[i];
	r->full = full || !d->rcv->have_store ||
		  (d->conf.recovery_full_every &&
		   r->since_full + 1 >= d->conf.recovery_full_every);
	r->nready = 0;
	r->phase = PH_STARTING;
	vf_info("recovery: round %016" PRIx64 " (from node %u, %s, k = %u): starting the shadow '%s' on %s",
		round, node, r->full ? "full" : "delta", r->k, spec.cmd,
		spec.state);
	if (member_idx(r, d->nodeid) < 0 || r->k < d->conf.f + 1) {
		round_abort(d, VF_RCV_MEMBERS, false,
			    "%u managers take part, f+1 = %u needed", r->k,
			    d->conf.f + 1);
		return;
	}
	r->self = member_idx(r, d->nodeid);
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	vf_wb_init(&r->slog, REP_OUT_LIMIT);
	/* The shadow is as untrusted as the replica: isolated the same way. */
	e = replica_isolation(d, &spec);
	if (!e)
		e = d->be->start(&r->sh, &spec);
	if (e) {
		round_abort(d, VF_RCV_SHADOW_START, true,
			    "cannot start the shadow: %s", strerror(-e));
		return;
	}
	fcntl(r->sh.fd, F_SETFL, O_NONBLOCK);
}

/*
 * Test fault "bad-msgs": before each of its real messages of @type, this
 * manager multicasts malformed ones that every receiver must refuse
 * (logged, counted in rcv_bad_msgs) without the round suffering.
 */
static void send_bad(struct vmfitd *d, uint16_t type)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready rm = { .round = r->round, .addr = { 127, 0, 0, 1 },
				   .port = 9 };
	struct vf_rcv_fetched fm = { .round = r->round };
	struct vf_rcv_geom g = r->geom;
	struct vf_rcv_group grp = { 0, 1, 0, NULL };
	uint8_t dig[DS] = { 0 };
	char big[VF_RCV_MAX_MSG + 2];

	if (!r->bad_msgs)
		return;
	grp.digests = dig;
	switch (type) {
	case VF_G_RCV_READY:
		/* truncated */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		r->msg.len -= 3;
		send_msg(d, 1);
		/* another round */
		rm.round ^= 1;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		send_msg(d, 1);
		/* wrong entry version */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_ready(&r->msg, &rm);
		r->msg.buf[VF_GMSG_HDR_LEN] = 9;
		send_msg(d, 1);
		/* an abort of another round, an abort with an oversized text:
		 * neither may abort this round */
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->round ^ 1, VF_RCV_OPERATOR,
				 "bad-msgs: another round");
		send_msg(d, 1);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		vf_gmsg_begin(&r->msg, VF_G_RCV_ABORT, d->last_order);
		vf_rcv_put_abort(&r->msg, r->round, VF_RCV_OPERATOR, "x");
		r->msg.buf[VF_GMSG_HDR_LEN + 20] = 0x01;	/* msg_len 257 */
		r->msg.buf[VF_GMSG_HDR_LEN + 21] = 0x01;
		vf_wb_bytes(&r->msg, big, VF_RCV_MAX_MSG);
		send_msg(d, 1);
		break;
	case VF_G_RCV_DIGESTS:
		/* digest of the wrong size */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round, &g);
		r->msg.buf[VF_GMSG_HDR_LEN + 28] = 20;
		vf_rcv_put_group(&r->msg, &grp);
		send_msg(d, 1);
		/* a node that does not exist */
		grp.first = g.nchunks + 5;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round, &g);
		vf_rcv_put_group(&r->msg, &grp);
		send_msg(d, 1);
		/* another round */
		grp.first = 0;
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_digests(&r->msg, r->round ^ 1, &g);
		vf_rcv_put_group(&r->msg, &grp);
		send_msg(d, 1);
		break;
	case VF_G_RCV_FETCHED:
		/* nonzero reserved field */
		vf_gmsg_begin(&r->msg, type, d->last_order);
		vf_rcv_put_fetched(&r->msg, &fm);
		r->msg.buf[r->msg.len - 1] = 1;
		send_msg(d, 1);
		break;
	}
}

static void send_ready(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready m = { .round = r->round };
	const struct sockaddr_in *sa = &d->conf.peer_listen;

	if (d->conf.has_peer_listen) {
		/* An unspecified address cannot be fetched from: use the
		 * client endpoint's. */
		if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
			memcpy(m.addr, &d->conf.listen.sin_addr, 4);
		else
			memcpy(m.addr, &sa->sin_addr, 4);
		m.port = ntohs(sa->sin_port);
	} else {
		m.addr[0] = 127;
		m.addr[3] = 1;
		m.port = 1;	/* unreplicated: nobody fetches */
	}
	r->phase = PH_READY;
	send_bad(d, VF_G_RCV_READY);
	vf_gmsg_begin(&r->msg, VF_G_RCV_READY, d->last_order);
	vf_rcv_put_ready(&r->msg, &m);
	send_msg(d, 1);
}

/*----------------------------------------------------------------*/
/* Verification: the digest exchange, level by level */

/* This level's groups: one per parent in @par (NULL: the root). */
static int level_setup(struct rcv *r, unsigned int level,
		       const uint64_t *par, size_t npar)
{
	uint64_t len = vf_merkle_shape_len(r->geom.nchunks, level);
	size_t i, ng = par ? npar : 1;
	unsigned int m;

	free_level(r);
	r->level = level;
	r->gfirst = calloc(ng, sizeof(*r->gfirst));
	r->gn = calloc(ng, sizeof(*r->gn));
	r->gpos = calloc(ng, sizeof(*r->gpos));
	if (!r->gfirst || !r->gn || !r->gpos)
		return -ENOMEM;
	r->ng = ng;
	r->nq = 0;
	for (i = 0; i < ng; i++) {
		r->gfirst[i] = par ? par[i] * F : 0;
		r->gn[i] = par ? (len - r->gfirst[i] < F ?
				  len - r->gfirst[i] : F) : 1;
		r->gpos[i] = r->nq;
		r->nq += r->gn[i];
	}
	for (m = 0; m < r->k; m++) {
		r->mem[m].dig = calloc(r->nq, DS);
		r->mem[m].have = calloc(ng, 1);
		if (!r->mem[m].dig || !r->mem[m].have)
			return -ENOMEM;
	}
	return 0;
}

static void send_level(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint8_t dig[F * DS];
	struct vf_rcv_group g;
	uint32_t count = 0;
	size_t i, j;
	int e;

	for (i = 0; i < r->ng; i++) {
		if (!count) {
			vf_gmsg_begin(&r->msg, VF_G_RCV_DIGESTS,
				      d->last_order);
			vf_rcv_put_digests(&r->msg, r->round, &r->geom);
		}
		e = vf_dstore_nodes(&r->work, r->level, r->gfirst[i],
				    r->gn[i], dig);
		if (e) {
			vf_wb_reset(&r->msg);
			round_abort(d, VF_RCV_VOLUME, true,
				    "digests of level %u: %s", r->level,
				    strerror(-e));
			return;
		}
		if (r->lie)
			for (j = 0; j < r->gn[i]; j++)
				dig[j * DS] ^= 0x5a;
		g.level = r->level;
		g.first = r->gfirst[i];
		g.n = r->gn[i];
		g.digests = dig;
		vf_rcv_put_group(&r->msg, &g);
		if (++count == VF_RCV_MAX_GROUPS || i + 1 == r->ng) {
			send_msg(d, count);
			count = 0;
			/* In --unreplicated mode the send delivered it and
			 * the round may have moved on. */
			if (r->phase != PH_VERIFY)
				return;
		}
	}
}

static bool level_complete(const struct rcv *r)
{
	unsigned int m;

	for (m = 0; m < r->k; m++)
		if (!r->mem[m].left && r->mem[m].ngot < r->ng)
			return false;
	return true;
}

/* Do the k digests of node @q (position in this level) all agree? */
static bool all_equal(const struct rcv *r, size_t q)
{
	unsigned int m;

	for (m = 1; m < r->k; m++)
		if (memcmp(r->mem[0].dig + q * DS, r->mem[m].dig + q * DS, DS))
			return false;
	return true;
}

static void start_fetch(struct vmfitd *d);

/* Level 0 is complete: vote on every chunk the members disagree on. */
static void vote_chunks(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_cvote_remote rem[VF_CVOTE_MAX_REMOTE];
	struct vf_cvote_out o;
	struct repair *rp;
	unsigned int m, n;
	size_t g, j, q;
	uint64_t c;

	for (g = 0; g < r->ng; g++) {
		for (j = 0; j < r->gn[g]; j++) {
			q = r->gpos[g] + j;
			c = r->gfirst[g] + j;
			if (all_equal(r, q))
				continue;
			for (m = 0, n = 0; m < r->k; m++) {
				if (m == r->self)
					continue;
				rem[n].node = r->mem[m].node;
				rem[n].answered = true;
				memcpy(rem[n].digest, r->mem[m].dig + q * DS,
				       DS);
				n++;
			}
			vf_cvote(d->conf.f, vf_dstore_get(&r->work, c), rem,
				 n, &o);
			if (o.result == VF_CV_VERIFIED)
				continue;
			if (o.result != VF_CV_REPAIR) {
				round_abort(d, VF_RCV_UNDECIDED, true,
					    "chunk %" PRIu64 ": no f+1 managers agree",
					    c);
				return;
			}
			rp = realloc(r->rep, (r->nrep + 1) * sizeof(*rp));
			if (!rp) {
				round_abort(d, VF_RCV_VOLUME, true,
					    "out of memory");
				return;
			}
			r->rep = rp;
			rp = &r->rep[r->nrep++];
			memset(rp, 0, sizeof(*rp));
			rp->chunk = c;
			memcpy(rp->digest, o.digest, DS);
			memcpy(rp->sources, o.sources,
			       o.nsources * sizeof(o.sources[0]));
			rp->nsources = o.nsources;
			/* The store holds the verified state's digests (I2). */
			vf_dstore_set(&r->work, c, o.digest, DS);
			vf_warn("recovery: chunk %" PRIu64 " differs from what %u managers agree on: fetching it from node %u",
				c, o.agree, o.sources[0]);
		}
	}
	r->st.verified = r->geom.nchunks - r->nrep;
	free_level(r);
	r->phase = PH_FETCH;
	start_fetch(d);
}

/* Every member has sent this level: descend where they differ. */
static void level_done(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint64_t *par;
	size_t g, j, q, npar = 0;
	int e;

	if (!r->level) {
		vote_chunks(d);
		return;
	}
	par = calloc(r->nq ? r->nq : 1, sizeof(*par));
	if (!par) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	for (g = 0; g < r->ng; g++)
		for (j = 0; j < r->gn[g]; j++) {
			q = r->gpos[g] + j;
			if (!all_equal(r, q))
				par[npar++] = r->gfirst[g] + j;
		}
	if (!npar) {
		/* All k agree on everything below: verified. */
		free(par);
		free_level(r);
		r->st.verified = r->geom.nchunks;
		r->phase = PH_FETCH;
		start_fetch(d);
		return;
	}
	e = level_setup(r, r->level - 1, par, npar);
	free(par);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	vf_dbg("recovery: %zu node(s) differ; descending to level %u",
	       npar, r->level);
	send_level(d);
}

static void deliver_digests(struct vmfitd *d, int m,
			    const struct vf_gmsg_hdr *h, struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_geom g;
	struct vf_rcv_group grp;
	struct member *mb = &r->mem[m];
	size_t lo, hi, mid;
	uint32_t i;
	int e;

	e = vf_rcv_read_digests(rd, h->count, r->round, &g);
	if (e) {
		r->st.bad_msgs++;
		vf_err("recovery: RCV_DIGESTS from node %u refused: %s",
		       mb->node, vf_strerror(e));
		return;
	}
	if (g.nchunks != r->geom.nchunks ||
	    g.chunk_size != r->geom.chunk_size) {
		round_abort(d, VF_RCV_GEOMETRY, false,
			    "node %u has %" PRIu64 " chunks of %u bytes, this host %" PRIu64 " of %u",
			    mb->node, g.nchunks, g.chunk_size,
			    r->geom.nchunks, r->geom.chunk_size);
		return;
	}
	for (i = 0; i < h->count; i++) {
		e = vf_rcv_next_group(rd, &g, &grp);
		if (e) {
			r->st.bad_msgs++;
			vf_err("recovery: RCV_DIGESTS from node %u: group %u refused: %s",
			       mb->node, i, vf_strerror(e));
			return;
		}
		/* The group of this level that starts at grp.first. */
		lo = 0;
		hi = r->ng;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (r->gfirst[mid] < grp.first)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (grp.level != r->level || lo == r->ng ||
		    r->gfirst[lo] != grp.first || r->gn[lo] != grp.n) {
			r->st.bad_msgs++;
			vf_err("recovery: RCV_DIGESTS from node %u: level %u nodes %" PRIu64 "+%u were not asked for",
			       mb->node, grp.level, grp.first, grp.n);
			continue;
		}
		if (mb->have[lo])
			continue;	/* duplicate: the first counts */
		memcpy(mb->dig + r->gpos[lo] * DS, grp.digests,
		       (size_t)grp.n * DS);
		mb->have[lo] = 1;
		mb->ngot++;
	}
	if (vf_rd_end(rd)) {
		r->st.bad_msgs++;
		vf_err("recovery: RCV_DIGESTS from node %u: trailing bytes",
		       mb->node);
	}
	if (level_complete(r))
		level_done(d);
}

/*----------------------------------------------------------------*/
/* Capture: checkpoint done -> snapshot, hash, first level */

static void keep_early(struct vmfitd *d, uint32_t node, const struct vf_rd *rd)
{
	struct rcv *r = d->rcv;

	if (r->nearly == MEMBERS_MAX)
		return;
	r->early[r->nearly].msg = malloc(rd->n);
	if (!r->early[r->nearly].msg)
		return;
	memcpy(r->early[r->nearly].msg, rd->p, rd->n);
	r->early[r->nearly].len = rd->n;
	r->early[r->nearly].node = node;
	r->nearly++;
}

static void replay_early(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_gmsg_hdr h;
	struct vf_rd rd;
	unsigned int i;
	int m;

	for (i = 0; i < r->nearly && r->phase == PH_VERIFY; i++) {
		m = member_idx(r, r->early[i].node);
		if (m >= 0 && !vf_gmsg_open(r->early[i].msg, r->early[i].len,
					    &h, &rd))
			deliver_digests(d, m, &h, &rd);
	}
	/* The round may be over (or the level done and freed) by now. */
	for (i = 0; i < r->nearly; i++)
		free(r->early[i].msg);
	r->nearly = 0;
}

static int dstore_fresh(struct rcv *r)
{
	vf_dstore_free(&r->work);
	if (r->have_store && r->store.nchunks == r->geom.nchunks &&
	    r->store.chunk_size == r->geom.chunk_size)
		return vf_dstore_copy(&r->work, &r->store);
	r->full = true;
	return vf_dstore_init(&r->work, r->geom.nchunks, r->geom.chunk_size);
}

static int view_bytes(struct rcv *r)
{
	uint8_t buf[16];
	uint32_t len = 0;
	int e;

	if (!r->geom.nchunks) {
		r->view_bytes = 0;
		return 0;
	}
	/* The last chunk's real length gives the size. */
	if (r->geom.chunk_size > sizeof(buf)) {
		uint8_t *b = malloc(r->geom.chunk_size);

		if (!b)
			return -ENOMEM;
		e = r->frozen->ops->read_view(r->frozen, r->geom.nchunks - 1,
					      b, &len);
		free(b);
	} else {
		e = -EINVAL;
	}
	if (e)
		return e;
	r->view_bytes = (r->geom.nchunks - 1) * r->geom.chunk_size + len;
	return 0;
}

void rcv_checkpoint_done(struct vmfitd *d, uint64_t id, uint64_t order,
			 uint32_t status)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a;
	long n;
	int e;

	if (!r || r->phase != PH_CAPTURE || id != r->ckpt_id)
		return;
	if (status) {
		round_abort(d, VF_RCV_CHECKPOINT, true,
			    "the senior's checkpoint failed: %s",
			    strerror(status));
		return;
	}
	/* The senior waits for nothing but us: its EXECs are held until
	 * this returns (checkpoint.c). */
	a = &r->vol[r->cur];
	e = a->ops->snapshot(a);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "snapshot of %s: %s",
			    a->path, strerror(-e));
		return;
	}
	r->frozen = a;
	r->st.capture_ms = now_ms() - r->capture_start_ms;
	vf_info("recovery: captured at order %" PRIu64 " in %" PRIu64 " ms",
		order, r->st.capture_ms);
	r->phase = PH_VERIFY;
	e = a->ops->geometry(a, &r->geom);
	if (!e)
		e = view_bytes(r);
	if (!e)
		e = dstore_fresh(r);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "geometry of %s: %s",
			    a->path, strerror(-e));
		return;
	}
	if (!r->full) {
		e = a->ops->changed(a, &r->changed);
		if (e) {
			round_abort(d, VF_RCV_VOLUME, true,
				    "changed set of %s: %s", a->path,
				    strerror(-e));
			return;
		}
	}
	n = a->ops->checksum(a, !r->full, vf_dstore_digest_cb, &r->work);
	if (n < 0) {
		round_abort(d, VF_RCV_VOLUME, true, "checksum of %s: %s",
			    a->path, strerror(-n));
		return;
	}
	r->work.complete = true;
	r->st.hashed = n;
	r->st.bytes_hashed = (uint64_t)n * r->geom.chunk_size;
	vf_info("recovery: %ld chunk(s) of %" PRIu64 " hashed (%s)", n,
		r->geom.nchunks, r->full ? "full" : "changed set");
	e = level_setup(r, vf_merkle_shape_levels(r->geom.nchunks) - 1,
			NULL, 0);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "out of memory");
		return;
	}
	send_bad(d, VF_G_RCV_DIGESTS);
	send_level(d);
	replay_early(d);
}

static void capture(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	r->phase = PH_CAPTURE;
	r->capture_order = d->last_order;
	r->sh_sent = r->capture_order;
	r->logging = true;
	r->ckpt_id = random_id();
	r->capture_start_ms = now_ms();
	vf_info("recovery: all %u ready; capture at order %" PRIu64, r->k,
		r->capture_order);
	/* The ordered checkpoint machinery stops handing requests to the
	 * senior, waits for its answers, checkpoints it and calls
	 * rcv_checkpoint_done() before releasing the held requests. */
	ckpt_push(d, d->nodeid, r->ckpt_id);
}

/*----------------------------------------------------------------*/
/* Fetching repaired chunks from peers */

static void send_fetched(struct vmfitd *d, uint32_t status)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_fetched f = { .round = r->round, .status = status };

	r->fetched_sent = true;
	send_bad(d, VF_G_RCV_FETCHED);
	vf_gmsg_begin(&r->msg, VF_G_RCV_FETCHED, d->last_order);
	vf_rcv_put_fetched(&r->msg, &f);
	send_msg(d, 1);
}

static void copy_and_restore(struct vmfitd *d);

static int pc_connect(struct vmfitd *d, struct repair *rp)
{
	struct rcv *r = d->rcv;
	struct vf_peer_fetch f = { .round = r->round, .chunk = rp->chunk };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int m = member_idx(r, rp->sources[rp->next]);

	if (m < 0 || r->mem[m].left)
		return -EHOSTUNREACH;
	memcpy(&sa.sin_addr, r->mem[m].addr, 4);
	sa.sin_port = htons(r->mem[m].port);
	r->pc_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (r->pc_fd < 0)
		return -errno;
	if (connect(r->pc_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS)
			return -errno;
		r->pc_connecting = true;
	}
	vf_wb_reset(&r->pc_out);
	r->pc_ilen = 0;
	r->pc_deadline = now_ms() + d->conf.recovery_fetch_timeout_ms;
	return vf_peer_fetch_encode(&r->pc_out, &f);
}

/* The current source failed: next source, next chunk, or give up. */
static void fetch_next(struct vmfitd *d, const char *why)
{
	struct rcv *r = d->rcv;
	struct repair *rp;
	int e;

	pc_close(r);
	while (r->rep_next < r->nrep) {
		rp = &r->rep[r->rep_next];
		if (why) {
			vf_warn("recovery: chunk %" PRIu64 " from node %u: %s",
				rp->chunk, rp->sources[rp->next], why);
			rp->next++;
			why = NULL;
		}
		if (rp->next >= rp->nsources) {
			send_fetched(d, EIO);
			round_abort(d, VF_RCV_FETCH, true,
				    "chunk %" PRIu64 ": no manager could send it",
				    rp->chunk);
			return;
		}
		e = pc_connect(d, rp);
		if (!e)
			return;
		pc_close(r);
		vf_warn("recovery: chunk %" PRIu64 " from node %u: %s",
			rp->chunk, rp->sources[rp->next], strerror(-e));
		rp->next++;
	}
	send_fetched(d, 0);
	if (r->phase == PH_FETCH)
		copy_and_restore(d);
}

static void start_fetch(struct vmfitd *d)
{
	d->rcv->rep_next = 0;
	fetch_next(d, NULL);
}

static void pc_frame(struct vmfitd *d, const struct vf_hdr *h,
		     const uint8_t *p)
{
	struct rcv *r = d->rcv;
	struct repair *rp = &r->rep[r->rep_next];
	struct vf_peer_chunk c;
	struct vf_peer_error pe;
	char why[128];
	uint32_t len;
	int e;

	if (h->type == VF_P_ERROR && !vf_peer_error_decode(p, h->len, &pe)) {
		snprintf(why, sizeof(why), "peer said %s: %.*s",
			 vf_strerror(-VF_E(pe.code)),
			 pe.msg_len > 60 ? 60 : pe.msg_len, pe.msg);
		fetch_next(d, why);
		return;
	}
	if (h->type != VF_P_CHUNK) {
		fetch_next(d, "unexpected frame");
		return;
	}
	e = vf_peer_chunk_decode(p, h->len, &c);
	len = vf_svol_chunk_len(r->view_bytes, r->geom.chunk_size, rp->chunk);
	if (!e)
		e = vf_peer_chunk_check(&c, r->round, rp->chunk, len,
					rp->digest);
	if (e) {
		fetch_next(d, e == -EBADMSG ? "bytes do not match the voted digest" :
			   vf_strerror(e));
		return;
	}
	rp->data = malloc(len ? len : 1);
	if (!rp->data) {
		fetch_next(d, "out of memory");
		return;
	}
	memcpy(rp->data, c.data, len);
	rp->len = len;
	r->st.repaired++;
	r->st.bytes_fetched += len;
	r->rep_next++;
	fetch_next(d, NULL);
}

static void pc_io(struct vmfitd *d, short revents)
{
	struct rcv *r = d->rcv;
	struct vf_hdr h;
	ssize_t n;
	long fl;
	int err = 0;
	socklen_t el = sizeof(err);

	if (r->pc_connecting) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(r->pc_fd, SOL_SOCKET, SO_ERROR, &err, &el) ||
		    err) {
			fetch_next(d, strerror(err ? err : errno));
			return;
		}
		r->pc_connecting = false;
	}
	if (r->pc_out.len) {
		n = send(r->pc_fd, r->pc_out.buf, r->pc_out.len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fetch_next(d, strerror(errno));
			return;
		}
		if (n > 0)
			vf_wb_consume(&r->pc_out, n);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(r->pc_fd, r->pc_in + r->pc_ilen, PEER_CLI_IN - r->pc_ilen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fetch_next(d, n ? strerror(errno) :
			   "connection closed before the chunk");
		return;
	}
	r->pc_ilen += n;
	fl = vf_frame_peek(r->pc_in, r->pc_ilen, VF_MAGIC_PEER, &h);
	if (fl < 0) {
		fetch_next(d, vf_strerror(fl));
		return;
	}
	if (fl == 0) {
		if (r->pc_ilen >= VF_HDR_LEN && VF_HDR_LEN + h.len > PEER_CLI_IN)
			fetch_next(d, "frame too big");
		return;
	}
	pc_frame(d, &h, r->pc_in + VF_HDR_LEN);
}

/*----------------------------------------------------------------*/
/* Hand-over: B gets the verified state, the shadow restores from it */

static struct repair *find_repair(struct rcv *r, uint64_t c)
{
	size_t i;

	for (i = 0; i < r->nrep; i++)
		if (r->rep[i].chunk == c)
			return &r->rep[i];
	return NULL;
}

static int copy_chunk(struct rcv *r, struct vf_svol *a, struct vf_svol *b,
		      uint64_t c, uint8_t *buf)
{
	struct repair *rp = find_repair(r, c);
	uint32_t len;
	int e;

	if (rp)
		return 0;	/* written with the repairs */
	e = a->ops->read_view(a, c, buf, &len);
	if (!e)
		e = b->ops->write(b, c, buf, len);
	if (!e) {
		r->st.copied++;
		r->st.bytes_copied += len;
	}
	return e;
}

static void copy_and_restore(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a = r->frozen, *b = &r->vol[!r->cur];
	uint8_t *buf;
	uint64_t c;
	size_t i;
	int e;

	buf = malloc(r->geom.chunk_size);
	if (!buf) {
		round_abort(d, VF_RCV_VOLUME, false, "out of memory");
		return;
	}
	e = b->ops->resize(b, r->view_bytes);
	for (i = 0; !e && i < r->nrep; i++) {
		e = b->ops->write(b, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
		r->st.copied++;
		r->st.bytes_copied += r->rep[i].len;
	}
	if (r->full) {
		for (c = 0; !e && c < r->geom.nchunks; c++)
			e = copy_chunk(r, a, b, c, buf);
	} else {
		for (i = 0; !e && i < r->changed.n; i++)
			for (c = r->changed.r[i].start;
			     !e && c <= r->changed.r[i].end &&
			     c < r->geom.nchunks; c++)
				e = copy_chunk(r, a, b, c, buf);
	}
	free(buf);
	if (!e)
		e = b->ops->sync(b);
	/* I2: B's changed set starts here, A's is reset only by this. */
	if (!e)
		e = b->ops->clear(b);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, false, "copy into %s: %s",
			    b->path, strerror(-e));
		return;
	}
	vf_info("recovery: %" PRIu64 " chunk(s) copied into %s (%" PRIu64 " repaired); restoring the shadow",
		r->st.copied, b->path, r->st.repaired);
	if (vf_restore_encode(&r->sout)) {
		round_abort(d, VF_RCV_SHADOW_RESTORE, false,
			    "shadow output buffer full");
		return;
	}
	vf_wb_bytes(&r->sout, r->slog.buf, r->slog.len);
	vf_wb_free(&r->slog);
	if (r->sout.err) {
		round_abort(d, VF_RCV_SHADOW_RESTORE, false,
			    "too many requests logged for the shadow");
		return;
	}
	r->restore_sent = true;
	r->phase = PH_RESTORE;
}

bool rcv_exec(struct vmfitd *d, const struct vf_exec *ex)
{
	struct rcv *r = d->rcv;

	if (!r || !r->logging)
		return false;
	if (vf_exec_encode(r->restore_sent ? &r->sout : &r->slog, ex)) {
		if (r->switched) {
			replica_failed(d, "the new replica's input buffer is full");
			return true;
		}
		round_abort(d, VF_RCV_SHADOW_RESTORE, !r->fetched_sent,
			    "too many requests logged for the shadow");
		return false;
	}
	r->sh_sent = ex->order;
	return r->switched;
}

/* The shadow has caught up: from now on it alone executes (I4). */
static void switch_over(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	r->switched = true;
	r->h = r->sh_done;
	r->switch_ms = now_ms();
	r->phase = PH_HANDOVER;
	r->st.last_ms = r->switch_ms - r->start_ms;
	vf_info("recovery: hand-over at order %" PRIu64 " (%" PRIu64 " ms after the trigger); the senior answers up to it",
		r->h, r->st.last_ms);
}

/* Commit: A is dropped to the captured state and repaired; it becomes B. */
static void finish_round(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a = r->frozen;
	size_t i;
	int e;

	r->frozen = NULL;
	e = a->ops->drop(a);
	for (i = 0; !e && i < r->nrep; i++)
		e = a->ops->write(a, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
	if (!e)
		e = a->ops->sync(a);
	if (e)
		vf_err("recovery: %s after the hand-over: %s (the next round will be full)",
		       a->path, strerror(-e));
	vf_dstore_free(&r->store);
	r->have_store = false;
	if (!e) {
		r->store = r->work;
		memset(&r->work, 0, sizeof(r->work));
		r->store.round = r->round;
		r->have_store = true;
		e = vf_dstore_save(&r->store, r->store_path);
		if (e)
			vf_warn("recovery: digest store %s: %s",
				r->store_path, strerror(-e));
	}
	r->since_full = r->full ? 0 : r->since_full + 1;
	r->st.done++;
	r->st.last_round = r->round;
	strcpy(r->st.last_result, "done");
	vf_info("recovery: round %016" PRIx64 " done: %" PRIu64 " hashed, %" PRIu64 " verified, %" PRIu64 " repaired, %" PRIu64 " copied",
		r->round, r->st.hashed, r->st.verified, r->st.repaired,
		r->st.copied);
	r->switched = false;
	round_clear(d);
}

/* The senior has answered up to h (or is gone): it is replaced. */
static void swap_replica(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	uint8_t *tmp;

	if (d->rep.running)
		d->be->stop(&d->rep, SENIOR_STOP_MS);
	vf_info("recovery: senior stopped; the shadow (pid %d) is the replica",
		(int)r->sh.pid);
	while (d->ckpt_len)
		ckpt_finish(d, EIO);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
	d->rep = r->sh;
	d->rout = r->sout;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	/* What the shadow sent after the frame being handled is the
	 * replica's input now. */
	memmove(r->sin, r->sin + r->sin_off, r->silen - r->sin_off);
	tmp = d->rin;
	d->rin = r->sin;
	r->sin = tmp;
	d->rilen = r->silen - r->sin_off;
	r->silen = 0;
	r->sin_off = 0;
	vf_wb_init(&d->rhold, REP_OUT_LIMIT);
	d->exec_sent = r->sh_sent;
	d->exec_done = r->sh_done;
	d->hello = true;
	d->rep_failed = false;
	memset(&r->sh, 0, sizeof(r->sh));
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	r->cur = !r->cur;
	r->alt = !r->alt;
	/* The replica's own path (replica_exec) takes every EXEC again. */
	r->logging = false;
	r->phase = PH_FINISH;
}

static void check_progress(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	unsigned int m;

	if (r->phase == PH_RESTORE && r->restored && r->sh_done == r->sh_sent)
		switch_over(d);
	if (r->phase == PH_HANDOVER &&
	    (d->exec_done >= r->h || d->rep_failed || !d->rep.running))
		swap_replica(d);
	if (r->phase == PH_FINISH) {
		for (m = 0; m < r->k; m++)
			if (!r->mem[m].fetched)
				return;
		finish_round(d);
	}
}

/*----------------------------------------------------------------*/
/* The shadow's channel */

static void shadow_failed(struct vmfitd *d, const char *why)
{
	struct rcv *r = d->rcv;

	if (r->switched) {
		/* It is the replica now in all but name. */
		swap_replica(d);
		replica_failed(d, why);
		return;
	}
	round_abort(d, r->restore_sent ? VF_RCV_SHADOW_RESTORE :
		    VF_RCV_SHADOW_START, !r->fetched_sent, "shadow: %s", why);
}

static void shadow_frame(struct vmfitd *d, const struct vf_hdr *h,
			 const uint8_t *p)
{
	struct rcv *r = d->rcv;
	struct vf_hello hello;
	struct vf_result res;
	struct vf_done done;
	char why[128];

	if (!r->sh_hello) {
		if (h->type != VF_R_HELLO || vf_hello_decode(p, h->len, &hello) ||
		    hello.proto_version != VF_PROTO_VERSION) {
			shadow_failed(d, "first frame is not a valid HELLO");
			return;
		}
		vf_info("recovery: shadow HELLO: %.*s version %.*s",
			hello.impl_len, hello.impl, hello.ver_len, hello.ver);
		r->sh_hello = true;
		send_ready(d);
		return;
	}
	switch (h->type) {
	case VF_R_RESTORE_DONE:
		if (vf_done_decode(p, h->len, &done) || !r->restore_sent ||
		    r->restored) {
			shadow_failed(d, "unexpected RESTORE_DONE");
			return;
		}
		if (done.status || done.order != r->capture_order) {
			snprintf(why, sizeof(why),
				 "RESTORE_DONE order %" PRIu64 " status %u, expected order %" PRIu64 " status 0",
				 done.order, done.status, r->capture_order);
			shadow_failed(d, why);
			return;
		}
		r->restored = true;
		r->sh_done = r->capture_order;
		vf_info("recovery: shadow restored order %" PRIu64 "; replaying %" PRIu64 " request(s)",
			done.order, r->sh_sent - r->capture_order);
		break;
	case VF_R_RESULT:
		if (vf_result_decode(p, h->len, &res) || !r->restored ||
		    res.order != r->sh_done + 1 || res.order > r->sh_sent) {
			shadow_failed(d, "unexpected RESULT");
			return;
		}
		r->sh_done = res.order;
		/* Replayed requests: the senior voted. After h: votes. */
		if (r->switched && res.order > r->h) {
			d->st.executed++;
			/* As replica.c: only in sync in a primary view. */
			if (manager_in_sync(&d->mb) &&
			    membership_primary(&d->mb))
				group_add_vote(d, res.order, res.data,
					       res.len);
		}
		break;
	default:
		snprintf(why, sizeof(why), "unexpected %s frame",
			 vf_type_name(h->type));
		shadow_failed(d, why);
		return;
	}
	check_progress(d);
}

static void shadow_input(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_hdr h;
	size_t off = 0;
	ssize_t n;
	long fl;

	n = read(r->sh.fd, r->sin + r->silen, REP_IN_CAP - r->silen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			shadow_failed(d, strerror(errno));
		return;
	}
	if (n == 0) {
		shadow_failed(d, "it closed its channel");
		return;
	}
	r->silen += n;
	for (;;) {
		fl = vf_frame_peek(r->sin + off, r->silen - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl < 0) {
			shadow_failed(d, vf_strerror(fl));
			return;
		}
		if (fl == 0)
			break;
		r->sin_off = off + fl;
		shadow_frame(d, &h, r->sin + off + VF_HDR_LEN);
		off += fl;
		/* The frame may have ended the round or made the shadow
		 * the replica (its buffer moved with it). */
		if (r->phase == PH_IDLE || r->phase == PH_FINISH)
			return;
	}
	memmove(r->sin, r->sin + off, r->silen - off);
	r->silen -= off;
	r->sin_off = 0;
}

void rcv_reap(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int status;

	if (!r || !r->sh.running || d->be->reap(&r->sh, &status) != 1)
		return;
	shadow_failed(d, WIFSIGNALED(status) ? "killed by a signal" :
			 "it exited");
}

/*----------------------------------------------------------------*/
/* Delivery of the round's group messages */

void rcv_deliver(struct vmfitd *d, uint32_t node, const struct vf_gmsg_hdr *h,
		 struct vf_rd *rd)
{
	struct rcv *r = d->rcv;
	struct vf_rcv_ready rm;
	struct vf_rcv_fetched fm;
	struct vf_rcv_abort am;
	struct vf_rcv_geom geom;
	uint64_t round;
	uint16_t flags;
	int m, e = -VF_E(VF_ERR_TYPE);

	if (!r) {
		vf_dbg("recovery message from node %u ignored: recovery is not configured here",
		       node);
		return;
	}
	if (h->type == VF_G_RECOVER) {
		e = vf_rcv_read_recover(rd, h->count, &round, &flags);
		if (e) {
			r->st.bad_msgs++;
			vf_err("recovery: RECOVER from node %u refused: %s",
			       node, vf_strerror(e));
			return;
		}
		if (r->phase != PH_IDLE) {
			vf_info("recovery: RECOVER %016" PRIx64 " from node %u ignored: round %016" PRIx64 " is running",
				round, node, r->round);
			return;
		}
		start_round(d, node, round, flags & VF_RCV_F_FULL);
		return;
	}
	m = member_idx(r, node);
	if (r->phase == PH_IDLE || m < 0) {
		vf_dbg("recovery: message type %u from node %u outside a round",
		       h->type, node);
		return;
	}
	switch (h->type) {
	case VF_G_RCV_READY:
		e = vf_rcv_read_ready(rd, h->count, r->round, &rm);
		if (e)
			break;
		if (r->mem[m].ready)
			return;
		r->mem[m].ready = true;
		memcpy(r->mem[m].addr, rm.addr, 4);
		r->mem[m].port = rm.port;
		if (++r->nready == r->k)
			capture(d);
		return;
	case VF_G_RCV_DIGESTS:
		if (r->phase == PH_CAPTURE) {
			/* Its capture finished before ours: keep it. */
			keep_early(d, node, rd);
			return;
		}
		if (r->phase != PH_VERIFY) {
			e = vf_rcv_read_digests(rd, h->count, r->round, &geom);
			if (e)
				break;
			vf_err("recovery: RCV_DIGESTS from node %u in phase %s",
			       node, phase_names[r->phase]);
			r->st.bad_msgs++;
			return;
		}
		deliver_digests(d, m, h, rd);
		return;
	case VF_G_RCV_FETCHED:
		e = vf_rcv_read_fetched(rd, h->count, r->round, &fm);
		if (e)
			break;
		r->mem[m].fetched = true;
		check_progress(d);
		return;
	case VF_G_RCV_ABORT:
		e = vf_rcv_read_abort(rd, h->count, r->round, &am);
		if (e)
			break;
		if (r->fetched_sent) {
			vf_warn("recovery: node %u aborted the round (%s), this host has all it needs and goes on",
				node, vf_rcv_reason_name(am.reason));
			r->mem[m].fetched = true;
			check_progress(d);
			return;
		}
		round_abort(d, am.reason, false, "node %u: %.*s", node,
			    am.msg_len, am.msg);
		return;
	}
	r->st.bad_msgs++;
	vf_err("recovery: message type %u from node %u refused: %s", h->type,
	       node, vf_strerror(e));
}

void rcv_left(struct vmfitd *d, uint32_t node)
{
	struct rcv *r = d->rcv;
	int m;

	if (!r || r->phase == PH_IDLE)
		return;
	m = member_idx(r, node);
	if (m < 0)
		return;
	r->mem[m].left = true;
	r->mem[m].fetched = true;
	if (!r->fetched_sent) {
		round_abort(d, VF_RCV_MEMBER_LEFT, false,
			    "node %u left the group", node);
		return;
	}
	check_progress(d);
}

/*----------------------------------------------------------------*/
/* Serving chunks to peers */

static void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->ilen = 0;
	p->closing = false;
	vf_wb_free(&p->out);
}

static void peer_error(struct peer *p, uint64_t round, uint64_t chunk,
		       int code, bool close_after)
{
	vf_peer_error_encode(&p->out, round, chunk, code,
			     vf_strerror(-VF_E(code)));
	p->closing = close_after;
}

static void peer_fetch(struct vmfitd *d, struct peer *p, const uint8_t *q,
		       uint32_t len)
{
	struct rcv *r = d->rcv;
	struct vf_peer_fetch f;
	struct vf_peer_chunk c;
	uint8_t *buf;
	int e;

	e = vf_peer_fetch_decode(q, len, &f);
	if (e) {
		peer_error(p, 0, 0, vf_err_code(e), true);
		return;
	}
	if (!r->frozen || f.round != r->round) {
		peer_error(p, f.round, f.chunk, VF_ERR_ROUND, false);
		return;
	}
	if (f.chunk >= r->geom.nchunks) {
		peer_error(p, f.round, f.chunk, VF_ERR_CHUNK, false);
		return;
	}
	buf = malloc(r->geom.chunk_size);
	if (!buf) {
		p->closing = true;
		return;
	}
	c.round = f.round;
	c.chunk = f.chunk;
	c.data = buf;
	e = r->frozen->ops->read_view(r->frozen, f.chunk, buf, &c.len);
	if (!e)
		e = vf_peer_chunk_encode(&p->out, &c);
	free(buf);
	if (e) {
		vf_err("recovery: serving chunk %" PRIu64 ": %s", f.chunk,
		       vf_strerror(e));
		p->closing = true;
		return;
	}
	if (r->cut) {
		/* The link drops in the middle of the chunk. */
		p->out.len -= (VF_HDR_LEN + 20 + c.len) / 2;
		p->closing = true;
		return;
	}
	r->st.bytes_served += c.len;
}

static void peer_input(struct vmfitd *d, struct peer *p)
{
	struct vf_hdr h;
	ssize_t n;
	long fl;

	n = recv(p->fd, p->in + p->ilen, sizeof(p->in) - p->ilen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		peer_close(p);
		return;
	}
	p->ilen += n;
	while (!p->closing && !p->out.len) {
		fl = vf_frame_peek(p->in, p->ilen, VF_MAGIC_PEER, &h);
		if (fl < 0 || (fl == 0 && p->ilen == sizeof(p->in))) {
			d->rcv->st.bad_msgs++;
			vf_warn("recovery: peer connection: %s; closing it",
				fl < 0 ? vf_strerror(fl) : "frame too big");
			peer_error(p, 0, 0, fl < 0 ? vf_err_code(fl) :
				   VF_ERR_TOO_BIG, true);
			return;
		}
		if (fl == 0)
			return;
		if (h.type != VF_P_FETCH) {
			d->rcv->st.bad_msgs++;
			peer_error(p, 0, 0, VF_ERR_TYPE, true);
			return;
		}
		peer_fetch(d, p, p->in + VF_HDR_LEN, h.len);
		memmove(p->in, p->in + fl, p->ilen - fl);
		p->ilen -= fl;
	}
}

static void peer_output(struct peer *p)
{
	ssize_t n;

	while (p->out.len) {
		n = send(p->fd, p->out.buf, p->out.len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				peer_close(p);
			return;
		}
		vf_wb_consume(&p->out, n);
	}
	if (p->closing)
		peer_close(p);
}

static void peer_accept(struct rcv *r)
{
	unsigned int i;
	int fd;

	for (;;) {
		fd = accept4(r->pl_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < PEER_CONN_MAX; i++)
			if (r->peers[i].fd < 0)
				break;
		if (i == PEER_CONN_MAX) {
			close(fd);
			continue;
		}
		r->peers[i].fd = fd;
		r->peers[i].ilen = 0;
		r->peers[i].closing = false;
		vf_wb_init(&r->peers[i].out, 2 * (VF_HDR_LEN + 20 +
						  VF_RCV_MAX_CHUNK));
	}
}

static int peer_listen(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int one = 1, fd;

	if (!d->conf.has_peer_listen)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&d->conf.peer_listen,
		 sizeof(d->conf.peer_listen)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -errno;
	}
	r->pl_fd = fd;
	return 0;
}

/*----------------------------------------------------------------*/
/* The main loop's interface */

int rcv_init(struct vmfitd *d)
{
	const char *kind = d->conf.volume_kind;
	const char *a = d->conf.state_volume, *b = d->conf.state_volume_b;
	struct rcv *r;
	const char *fault;
	unsigned int i;
	int e;

	if (!b[0])
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	d->rcv = r;
	r->pl_fd = -1;
	r->pc_fd = -1;
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	for (i = 0; i < PEER_CONN_MAX; i++)
		r->peers[i].fd = -1;
	vf_wb_init(&r->msg, VF_GMSG_MAX);
	vf_wb_init(&r->pc_out, 0);
	vf_ranges_init(&r->changed);
	r->sin = malloc(REP_IN_CAP);
	r->pc_in = malloc(PEER_CLI_IN);
	if (!r->sin || !r->pc_in)
		return -ENOMEM;
	if (!strcmp(kind, "vmfit")) {
		a += strlen("/dev/mapper/");
		b += strlen("/dev/mapper/");
		mkdir("/var/lib/vmfit", 0755);
		snprintf(r->store_path, sizeof(r->store_path),
			 "/var/lib/vmfit/%s.digests", d->conf.service);
	} else {
		snprintf(r->store_path, sizeof(r->store_path), "%s.digests",
			 d->conf.state_volume);
	}
	e = vf_svol_open(&r->vol[0], kind, a, d->conf.volume_chunk);
	if (!e)
		e = vf_svol_open(&r->vol[1], kind, b, d->conf.volume_chunk);
	if (e) {
		vf_err("recovery: cannot open the state volumes %s, %s (%s): %s",
		       a, b, kind, strerror(-e));
		return e;
	}
	/*
	 * The replica starts empty (no RESTORE at start-up yet): whatever a
	 * previous run left is not the verified state any more. A snapshot
	 * left by a crash is folded back; the first round is full.
	 */
	for (i = 0; i < 2; i++)
		if (r->vol[i].snap)
			r->vol[i].ops->merge(&r->vol[i]);
	unlink(r->store_path);
	e = peer_listen(d);
	if (e) {
		vf_err("recovery: peer_listen: %s", strerror(-e));
		return e;
	}
	/* Test-only fault switches (tests/cluster/recovery.sh). */
	fault = getenv("VMFITD_TEST_FAULT");
	if (fault && strstr(fault, "lie-digests")) {
		r->lie = true;
		vf_warn("recovery: TEST FAULT lie-digests: this manager sends wrong digests");
	}
	if (fault && strstr(fault, "cut-chunks")) {
		r->cut = true;
		vf_warn("recovery: TEST FAULT cut-chunks: chunks served to peers are cut off halfway");
	}
	if (fault && strstr(fault, "bad-msgs")) {
		r->bad_msgs = true;
		vf_warn("recovery: TEST FAULT bad-msgs: this manager also sends malformed recovery messages");
	}
	if (d->conf.recovery_period_s)
		r->next_period_ms = now_ms() +
				    d->conf.recovery_period_s * 1000ull;
	strcpy(r->st.last_result, "none");
	vf_info("recovery: volumes %s (A) and %s (B), %s, peer port %u, period %u s",
		d->conf.state_volume, d->conf.state_volume_b, kind,
		d->conf.has_peer_listen ? ntohs(d->conf.peer_listen.sin_port) :
					  0, d->conf.recovery_period_s);
	return 0;
}

void rcv_fini(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	unsigned int i;

	if (!r)
		return;
	if (r->phase != PH_IDLE && !r->switched)
		round_abort(d, VF_RCV_OPERATOR, false, "manager shutting down");
	round_clear(d);
	for (i = 0; i < PEER_CONN_MAX; i++)
		peer_close(&r->peers[i]);
	if (r->pl_fd >= 0)
		close(r->pl_fd);
	vf_svol_close(&r->vol[0]);
	vf_svol_close(&r->vol[1]);
	vf_dstore_free(&r->store);
	vf_wb_free(&r->msg);
	vf_wb_free(&r->pc_out);
	free(r->sin);
	free(r->pc_in);
	free(r);
	d->rcv = NULL;
}

/* Poll slots: shadow, shadow exit, peer listener, fetch, peers. */
unsigned int rcv_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	unsigned int i;

	for (i = 0; i < RECOVERY_POLL_FDS; i++) {
		pfd[i].fd = -1;
		pfd[i].events = 0;
		pfd[i].revents = 0;
	}
	if (!r)
		return RECOVERY_POLL_FDS;
	if (r->sh.running) {
		pfd[0].fd = r->sh.fd;
		pfd[0].events = POLLIN | (r->sout.len && r->restore_sent ?
					  POLLOUT : 0);
		pfd[1].fd = r->sh.exit_fd;
		pfd[1].events = POLLIN;
	}
	pfd[2].fd = r->pl_fd;
	pfd[2].events = POLLIN;
	if (r->pc_fd >= 0) {
		pfd[3].fd = r->pc_fd;
		pfd[3].events = POLLIN |
				(r->pc_connecting || r->pc_out.len ? POLLOUT : 0);
	}
	for (i = 0; i < PEER_CONN_MAX; i++) {
		pfd[4 + i].fd = r->peers[i].fd;
		pfd[4 + i].events = r->peers[i].out.len ? POLLOUT : POLLIN;
	}
	return RECOVERY_POLL_FDS;
}

void rcv_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	unsigned int i;

	if (!r)
		return;
	if (pfd[1].fd >= 0 && pfd[1].fd == r->sh.exit_fd && pfd[1].revents)
		rcv_reap(d);
	if (pfd[0].fd >= 0 && pfd[0].fd == r->sh.fd &&
	    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
		shadow_input(d);
	if (pfd[3].fd >= 0 && pfd[3].fd == r->pc_fd && pfd[3].revents)
		pc_io(d, pfd[3].revents);
	for (i = 0; i < PEER_CONN_MAX; i++) {
		if (r->peers[i].fd < 0 || r->peers[i].fd != pfd[4 + i].fd ||
		    !pfd[4 + i].revents)
			continue;
		if (pfd[4 + i].revents & POLLOUT)
			peer_output(&r->peers[i]);
		else
			peer_input(d, &r->peers[i]);
	}
	if (pfd[2].revents & POLLIN)
		peer_accept(r);
}

void rcv_flush(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	ssize_t n;
	unsigned int i;

	if (!r)
		return;
	while (r->sh.running && r->restore_sent && r->sout.len) {
		n = send(r->sh.fd, r->sout.buf, r->sout.len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				shadow_failed(d, strerror(errno));
			break;
		}
		vf_wb_consume(&r->sout, n);
	}
	for (i = 0; i < PEER_CONN_MAX; i++)
		if (r->peers[i].fd >= 0 && r->peers[i].out.len)
			peer_output(&r->peers[i]);
}

void rcv_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;
	uint32_t ids[MEMBERS_MAX];
	uint64_t due, round;
	unsigned int n, i;
	uint32_t lowest;

	if (!r)
		return;
	if (r->phase == PH_IDLE && d->conf.recovery_period_s) {
		if (now >= r->next_period_ms) {
			r->next_period_ms = now +
					    d->conf.recovery_period_s * 1000ull;
			/* One trigger per period: the lowest node id. */
			n = round_members(d, ids);
			for (i = 0, lowest = UINT32_MAX; i < n; i++)
				if (ids[i] < lowest)
					lowest = ids[i];
			if (lowest == d->nodeid && !rcv_trigger(d, false, &round))
				vf_info("recovery: periodic round %016" PRIx64 " triggered",
					round);
		}
		if (r->next_period_ms < *wake)
			*wake = r->next_period_ms;
	}
	if (r->phase == PH_IDLE)
		return;
	if (!d->local && !d->cpg_ok && !r->fetched_sent) {
		round_abort(d, VF_RCV_MEMBER_LEFT, false,
			    "lost the connection to the group");
		return;
	}
	if (r->phase == PH_FETCH && r->pc_fd >= 0) {
		if (now >= r->pc_deadline) {
			fetch_next(d, "timed out");
			return;
		}
		if (r->pc_deadline < *wake)
			*wake = r->pc_deadline;
	}
	if (r->phase == PH_HANDOVER) {
		due = r->switch_ms + SENIOR_DRAIN_MS;
		if (now >= due) {
			vf_warn("recovery: the senior did not answer up to order %" PRIu64 " in %u ms; stopping it",
				r->h, SENIOR_DRAIN_MS);
			swap_replica(d);
		} else if (due < *wake) {
			*wake = due;
		}
	}
	due = r->start_ms + d->conf.recovery_timeout_ms;
	if (now >= due) {
		if (r->phase == PH_FINISH) {
			/* Nobody fetches from this view any more. */
			for (i = 0; i < r->k; i++)
				r->mem[i].fetched = true;
			check_progress(d);
		} else if (!r->switched) {
			round_abort(d, VF_RCV_TIMEOUT, !r->fetched_sent,
				    "not over after %u ms (phase %s)",
				    d->conf.recovery_timeout_ms,
				    phase_names[r->phase]);
		}
		return;
	}
	if (due < *wake)
		*wake = due;
}

void rcv_status(struct vmfitd *d, FILE *fp)
{
	struct rcv *r = d->rcv;

	if (!r) {
		fprintf(fp, "\"rcv_phase\":\"off\",");
		return;
	}
	fprintf(fp, "\"rcv_phase\":\"%s\",\"rcv_round\":\"%016" PRIx64
		"\",\"rcv_rounds\":%" PRIu64 ",\"rcv_done\":%" PRIu64
		",\"rcv_aborted\":%" PRIu64 ",\"rcv_last_round\":\"%016" PRIx64
		"\",\"rcv_last_result\":\"%s\",\"rcv_last_abort\":\"%s\",",
		phase_names[r->phase], r->round, r->st.rounds, r->st.done,
		r->st.aborted, r->st.last_round, r->st.last_result,
		r->st.last_abort);
	fprintf(fp, "\"rcv_full\":%d,\"rcv_chunks\":%" PRIu64
		",\"rcv_hashed\":%" PRIu64 ",\"rcv_verified\":%" PRIu64
		",\"rcv_repaired\":%" PRIu64 ",\"rcv_copied\":%" PRIu64
		",\"rcv_bytes_hashed\":%" PRIu64 ",\"rcv_bytes_copied\":%" PRIu64
		",\"rcv_bytes_fetched\":%" PRIu64 ",\"rcv_bytes_served\":%" PRIu64
		",\"rcv_bad_msgs\":%" PRIu64 ",\"rcv_capture_order\":%" PRIu64
		",\"rcv_capture_ms\":%" PRIu64 ",\"rcv_last_ms\":%" PRIu64
		",\"rcv_volume\":\"%s\",",
		r->full, r->geom.nchunks, r->st.hashed, r->st.verified,
		r->st.repaired, r->st.copied, r->st.bytes_hashed,
		r->st.bytes_copied, r->st.bytes_fetched, r->st.bytes_served,
		r->st.bad_msgs, r->capture_order, r->st.capture_ms,
		r->st.last_ms, r->vol[r->cur].path);
}
