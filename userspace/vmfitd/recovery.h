/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * recovery.h - the recovery controller's own state and the interfaces
 * between its parts (private to recovery*.c; vmfitd.h has what the rest
 * of vmfitd calls):
 *
 *   recovery.c         the round: phases, group messages, abort rules,
 *                      the main loop's rcv_* entry points
 *   recovery_verify.c  digest exchange, Merkle descent, chunk vote
 *   recovery_peer.c    chunk transfer between managers over TCP: the
 *                      fetching client and the serving side
 *   recovery_shadow.c  the shadow replica: start, channel, RESTORE and
 *                      replay, the swap with the senior
 *   recovery_volume.c  the A/B state volumes: capture, hashing, the copy
 *                      into B, A's repair after the hand-over; the slow
 *                      steps in its worker thread
 *   recovery_catchup.c managers that are not in sync catch up in a round
 *                      (receivers): trigger, the voters' manager state,
 *                      the receiver's side, the hand-over point
 *
 * Each part that owns descriptors has the main loop's shape:
 * <part>_poll_fds() / <part>_events() / <part>_flush() / <part>_tick().
 */
#ifndef VMFITD_RECOVERY_H
#define VMFITD_RECOVERY_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "vf_cvote.h"
#include "vf_dstore.h"
#include "vf_rcv.h"
#include "vf_svol.h"
#include "vmfitd.h"

#define DS			VF_MERKLE_DIGEST_SIZE
#define F			VF_MERKLE_FANOUT
#define PEER_SRV_IN		(VF_HDR_LEN + 64)
#define PEER_CLI_IN		(VF_HDR_LEN + 20 + VF_RCV_MAX_CHUNK)
#define SLOW_HASH_MS		4000	/* test fault slow-hash */

enum phase {
	PH_IDLE,
	PH_STARTING,
	PH_READY,
	PH_CAPTURE,
	PH_HASH,
	PH_VERIFY,
	PH_FETCH,
	PH_COPY,
	PH_RESTORE,
	PH_HANDOVER,
	PH_FINISH,
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

/* A manager that catches up in a round (recovery_catchup.c). */
struct receiver {
	uint32_t node;
	bool done;		/* its RCV_FETCHED or RCV_ABORT, or it left */
};

/* A voter's RCV_MSTATE, on a receiver. */
struct catchup_ms {
	bool got;
	uint64_t order;
	uint64_t len;
	uint32_t npieces;
	uint8_t *dig;		/* npieces digests */
	uint8_t key[DS];	/* over order, len, digests: what must agree */
};

/*
 * The ordered facts that decide who becomes in sync, kept from the last
 * RECOVER delivered whatever the local round does (protocol.rst
 * "Catching up"): the same on every manager.
 */
struct catchup_sync {
	uint64_t round;
	uint32_t voters[MEMBERS_MAX];
	unsigned int nvoters;
	struct receiver recv[MEMBERS_MAX];
	unsigned int nrecv;
	bool voter_aborted;	/* a voter's RCV_ABORT of that round */
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
	uint64_t bytes_msgs;	/* recovery group messages multicast */
	uint64_t last_ms;	/* RECOVER -> hand-over of the last round */
	uint64_t capture_ms;	/* checkpoint + snapshot of the last round */
	uint64_t local_ms;	/* the senior's local checkpoint, last round */
	uint64_t hash_ms;	/* the volume worker's time on each step */
	uint64_t copy_ms;
	uint64_t commit_ms;
	uint64_t loop_max_ms;	/* longest call from the loop, but capture */
	char loop_max_at[32];	/* its entry point and phase */
	uint64_t caught_up;	/* rounds this manager caught up in */
	int64_t shadow_hello_ms;	/* last shadow: start() to HELLO */
	int64_t shadow_created_ms;	/* xen: start() to domain unpaused */
	uint64_t senior_stop_ms;	/* last hand-over: senior stopped in */
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
	/*
	 * B does not hold the verified state of the store (this manager
	 * caught up: its B is the volume its empty replica had): the next
	 * round copies every chunk into B, and hashes only the changed set.
	 */
	bool b_stale;
	unsigned int since_full;	/* rounds since the last full one */
	uint64_t next_period_ms;
	/* test faults (rcv_init(), vmfitd(8) "Test faults") */
	bool lie;			/* wrong digests sent */
	bool bad_msgs;			/* malformed messages too */
	bool cut;			/* chunks served cut short */
	bool stall;			/* chunks served stop halfway */
	bool recv_digests;		/* a receiver that talks */
	bool slow_hash;			/* hash job waits SLOW_HASH_MS */
	struct vf_wbuf msg;		/* group message being built */

	/* the round */
	enum phase phase;
	uint64_t round;
	uint64_t busy_round;		/* a RECOVER refused: still busy */
	bool full;
	uint64_t start_ms;
	uint64_t capture_start_ms;
	struct member mem[MEMBERS_MAX];
	unsigned int k;
	unsigned int self;
	unsigned int nready;
	uint64_t ckpt_id;
	/*
	 * The senior's local checkpoint (protocol.rst "Recovery", step 2):
	 * not ordered, chained by rank so that one senior at a time is busy;
	 * RCV_READY waits for it and for the shadow's HELLO.
	 */
	uint64_t local_id;		/* 0: not started */
	bool local_done;
	uint64_t local_order;
	uint64_t local_t0;
	uint64_t capture_order;
	bool logging;			/* EXECs after the capture are logged */
	struct vf_svol *frozen;		/* volume whose view serves peers */
	bool fetched_sent;

	/* the shadow */
	struct vf_replica sh;
	struct vf_replica sh_gone;	/* killed by an abort, not reaped */
	/*
	 * The senior after the hand-over: asked to exit (shutdown()), not
	 * yet reaped; the commit, which drops A's snapshot, waits for it.
	 */
	struct vf_replica senior;
	uint64_t senior_t0;		/* now_ms() at its shutdown() */
	uint64_t senior_executed;	/* d->st.executed then */
	bool senior_killed;		/* it took longer than SENIOR_STOP_MS */
	uint64_t sh_t0;			/* now_ms() before its start() */
	bool sh_hello;
	bool restore_sent;
	bool restored;
	uint8_t *sin;
	size_t silen;
	size_t sin_off;			/* consumed: up to the frame handled */
	struct vf_wbuf sout;		/* to the shadow: RESTORE, EXECs */
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

	/* catching up (recovery_catchup.c) */
	struct catchup_sync cu;
	struct receiver recv[MEMBERS_MAX];	/* this round's receivers */
	unsigned int nrecv;
	bool receiver;			/* this manager is one of them */
	uint64_t next_catchup_ms;
	struct vf_wbuf mstate;		/* voter: manager state at capture */
	struct vf_dstore bstore;	/* receiver: its own B's digests */
	bool have_bstore;
	uint64_t b_bytes;
	struct vf_wbuf keep;		/* receiver: ordered msgs kept */
	bool keeping;
	bool adopted;
	bool chunks_decided;
	struct catchup_ms ms[MEMBERS_MAX];
	uint64_t ms_len;

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

	/* the volume worker (recovery_volume.c) */
	struct vworker *vw;
	struct vjob *job;		/* the round's job in the worker */

	struct rcv_stats st;
};

/*----------------------------------------------------------------*/
/* recovery.c: the round */

int round_member(const struct rcv *r, uint32_t node);
/* Enter phase @ph (not idle: a round ends done or aborted), an event. */
void round_phase(struct vmfitd *d, enum phase ph);
/* Send the group message built in r->msg with @count entries. */
void round_send(struct vmfitd *d, uint32_t count);
/* Test fault "bad-msgs": malformed messages of @type first. */
void round_send_bad(struct vmfitd *d, uint16_t type);
void round_abort(struct vmfitd *d, uint32_t reason, bool tell,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The shadow said HELLO or the senior's local checkpoint finished: once
 * both did, multicast RCV_READY.
 */
void round_ready(struct vmfitd *d);
/* This manager has every repaired chunk (@status 0) or gives up. */
void round_fetched(struct vmfitd *d, uint32_t status);
/*
 * The commit after the hand-over is done (@err: of the volume, the next
 * round is full; @store_err: saving the digests): @store, the verified
 * digests, becomes the store (moved out of *@store; NULL after @err).
 */
void round_committed(struct vmfitd *d, int err, int store_err,
		     struct vf_dstore *store);
/* Move on where the round can: switch-over, swap, finish. */
void round_progress(struct vmfitd *d);

/*----------------------------------------------------------------*/
/* recovery_verify.c: digest exchange, Merkle descent, chunk vote */

/* r->work from the committed store (or empty: the round becomes full). */
int verify_store_init(struct rcv *r);
/* The local digests are complete: send the root level. */
void verify_start(struct vmfitd *d);
/* Receiver: the first RCV_DIGESTS gives the geometry: the root level. */
int verify_follow(struct rcv *r, const struct vf_rcv_geom *g);
/* RCV_DIGESTS from member @m in phase verify. */
void verify_digests(struct vmfitd *d, int m, const struct vf_gmsg_hdr *h,
		   struct vf_rd *rd);
/* RCV_DIGESTS that arrived before this manager's capture finished. */
void verify_keep_early(struct vmfitd *d, uint32_t node,
		       const struct vf_rd *rd);
/* Free the level's and the early digests. */
void verify_clear(struct rcv *r);

/*----------------------------------------------------------------*/
/* recovery_peer.c: chunk transfer between managers */

#define PEER_POLL_FDS		(2 + PEER_CONN_MAX)
/* Fetch the repairs in r->rep, then round_fetched() and volume_copy(). */
void fetch_start(struct vmfitd *d);
void fetch_close(struct rcv *r);
int peer_listen(struct vmfitd *d);
void peer_close_all(struct rcv *r);
void peer_poll_fds(struct rcv *r, struct pollfd *pfd);
void peer_events(struct vmfitd *d, const struct pollfd *pfd);
void peer_flush(struct rcv *r);
void peer_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);

/*----------------------------------------------------------------*/
/* recovery_shadow.c: the shadow replica */

#define SHADOW_POLL_FDS		4
#define SENIOR_STOP_MS		2000	/* then the senior is killed */
int shadow_start(struct vmfitd *d);
/* Kill the shadow; its end is reaped from the event loop (sh_gone). */
void shadow_release(struct vmfitd *d);
/*
 * At shutdown: wait for a killed shadow and a senior being stopped to be
 * gone (their domains too).
 */
void shadow_fini(struct vmfitd *d);
/* Kill a senior that has not exited within SENIOR_STOP_MS. */
void senior_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
void shadow_failed(struct vmfitd *d, const char *why);
/* B holds the verified state: RESTORE and the logged EXECs. */
void shadow_restore(struct vmfitd *d);
/* The senior is done: the shadow becomes the replica. */
void shadow_swap(struct vmfitd *d);
void shadow_poll_fds(struct rcv *r, struct pollfd *pfd);
void shadow_events(struct vmfitd *d, const struct pollfd *pfd);
void shadow_flush(struct vmfitd *d);

/*----------------------------------------------------------------*/
/* recovery_catchup.c: managers that catch up (receivers) */

/* At RECOVER (every one, even ignored): the ordered sync facts. */
void catchup_recover(struct vmfitd *d, uint64_t round);
/* At the start of a round: its receivers, and whether this is one. */
void catchup_round(struct vmfitd *d);
void catchup_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
/* A message a receiver may not send (logged, counted): true. */
bool catchup_refused(struct vmfitd *d, uint32_t node, uint16_t type);
/* Voter, at the capture: the manager state at this point. */
void catchup_capture_state(struct vmfitd *d);
/* Voter, after its first RCV_DIGESTS: RCV_MSTATE. */
void catchup_send_mstate(struct vmfitd *d);
/* Voter: piece (chunk - VF_RCV_MSTATE_CHUNK) for a peer. */
int catchup_piece(struct rcv *r, uint64_t chunk, struct vf_peer_chunk *c);
/* Receiver: at RECOVER, at the capture. */
void catchup_start(struct vmfitd *d);
void catchup_capture(struct vmfitd *d);
/* Receiver: RCV_MSTATE of voter @m. */
void catchup_mstate(struct vmfitd *d, int m, const struct vf_gmsg_hdr *h,
		    struct vf_rd *rd);
/* Receiver: the chunks are decided (verify): pieces, then fetch. */
void catchup_decide(struct vmfitd *d);
/* Receiver: the length a fetched chunk must have (0: up to a chunk). */
uint32_t catchup_chunk_len(const struct rcv *r, uint64_t chunk);
/* Receiver: everything fetched: write B, check the state, RCV_FETCHED. */
void catchup_fetched(struct vmfitd *d);
/* RCV_FETCHED / RCV_ABORT: the sync rule; true if it was a receiver's. */
bool catchup_deliver(struct vmfitd *d, uint32_t node, uint16_t type,
		     struct vf_rd *rd, uint32_t count);
/* A receiver left: true if it was one. */
bool catchup_left(struct vmfitd *d, uint32_t node);
bool catchup_all_done(const struct rcv *r);
void catchup_clear(struct rcv *r);

/*----------------------------------------------------------------*/
/* recovery_volume.c: the A/B state volumes and their worker thread */

#define VOLUME_POLL_FDS		1
struct vworker;
struct vjob;
int volume_open(struct vmfitd *d);
void volume_close(struct rcv *r);
/*
 * After the checkpoint: snapshot A (in the loop), then hash its view in
 * the worker (phase hash); verify_start() follows. -1: aborted.
 */
int volume_capture(struct vmfitd *d, uint64_t order);
/* Abort: merge A's snapshot back (queued behind the cancelled job). */
void volume_merge(struct rcv *r);
/* The round ends: its job's result will be thrown away. */
void volume_cancel(struct rcv *r);
/* Copy the verified chunks into B (phase copy), then shadow_restore(). */
void volume_copy(struct vmfitd *d);
/* After the hand-over: A dropped and repaired, store saved, then
 * round_committed(). */
void volume_commit(struct vmfitd *d);
void volume_poll_fds(struct rcv *r, struct pollfd *pfd);
void volume_events(struct vmfitd *d, const struct pollfd *pfd);
/* Receiver: hash B into r->bstore (untrusted; spares fetches); in
 * the loop, after the worker is idle (a receiver serves no client). */
int volume_hash_b(struct rcv *r);
/* Receiver: write the fetched chunks into B, size it, sync, clear (in the
 * loop, after the worker is idle). */
int volume_receive(struct rcv *r);

#endif /* VMFITD_RECOVERY_H */
