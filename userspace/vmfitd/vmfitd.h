/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmfitd.h - replica manager state shared by its source files.
 */
#ifndef VMFITD_H
#define VMFITD_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <poll.h>

#include <corosync/cpg.h>

#include "vf_backend.h"
#include "vf_conf.h"
#include "vf_list.h"
#include "vf_log.h"
#include "vf_proto.h"
#include "vf_rcache.h"
#include "vf_voter.h"
#include "gmsg.h"
#include "membership.h"

/* The release version: -DVMFIT_VERSION from the Makefile (tools/dkms.conf). */
#define VMFITD_VERSION		VMFIT_VERSION
#define CONN_MAX		4096	/* client connections, at most */
#define CONN_FD_RESERVE		64	/* fds kept for the rest */
#define CONN_SCAN_MS		250	/* stalled output: limit checks */
#define CONN_DRAIN_MS		10	/* closing: has the kernel sent all? */
#define CONN_ACCEPT_BURST	256	/* accepts per loop round */
#define CONN_EVENTS_BATCH	256	/* epoll events per set and round */
#define SRC_BUCKETS		1024	/* per-source counts */
#define CONN_IN_CAP		(VF_HDR_LEN + 20 + VF_MAX_OP + \
				 VF_SESSION_KEY_LEN)
#define CONN_OUT_LIMIT		(4 * (VF_HDR_LEN + 24 + VF_MAX_OP))
#define REP_IN_CAP		(VF_HDR_LEN + 8 + 2 * 65536)
#define REP_OUT_LIMIT		(64u << 20)
#define SENDQ_MAX		64	/* CPG messages queued on TRY_AGAIN */
#define BATCH_BYTES		(512u << 10)
#define SUSPECT_SLOTS		8
#define CONN_SNDBUF		(256 << 10)	/* SO_SNDBUF of client sockets */
#define OWN_INFLIGHT_BYTES	(4u << 20)	/* own requests in group */
#define EXEC_QUEUE_HIGH		(16u << 20)	/* queued: pause */
#define CONN_LINGER_MS		2000	/* closing: time to flush the output */
#define CONN_STALL_MS		30000	/* open: output without progress */
#define CKPT_MAX		16	/* checkpoints delivered, not finished */
#define CTL_MAX			8	/* control socket connections */
#define CTL_LINE		128	/* longest control command line */
#define CTL_IDLE_MS		5000	/* control client must send its line */
#define CTL_EVENT_MAX		512	/* longest event line, with newline */
#define LOG_BURST		10	/* rate-limited warnings per episode */
#define LOG_PERIOD_MS		1000	/* then one summary per period */
#define MEMBERS_MAX		16	/* group members tracked by id */

struct conn {
	int fd;
	uint8_t *in;
	size_t ilen;
	struct vf_wbuf out;
	bool closing;		/* flush output, then close */
	bool dead;		/* freed at the end of the loop round */
	bool reset;		/* close with a reset (stuck output) */
	bool waiting;		/* has an unanswered request */
	bool greeted;		/* has sent a complete request */
	uint64_t stall_ms;	/* output blocked since (0: not blocked) */
	uint64_t since_ms;	/* accepted at */
	uint64_t active_ms;	/* last input or reply */
	struct src *src;	/* its source address's count */
	uint64_t cid;
	uint64_t seq;
	uint16_t version;	/* client protocol version it speaks */
	bool in_watched;	/* in the input epoll set */
	bool out_watched;	/* in the output epoll set */
	struct vf_list all;	/* vmfitd.conns */
	struct vf_list tmo;	/* vmfitd.hs_conns or .idle_conns */
	struct vf_list held;	/* vmfitd.held_conns */
	struct vf_list park;	/* vmfitd.stalled_conns or .draining_conns */
	struct vf_list flush;	/* vmfitd.flush_conns */
	struct conn *hnext;		/* waiter hash chain */
};

/* Client connections from one IPv4 source address. */
struct src {
	uint32_t addr;		/* network byte order */
	unsigned int n;
	struct src *next;
};

struct ordmeta {
	uint64_t order;
	uint64_t cid;
	uint64_t seq;
};

/* An ordered checkpoint: delivered, not yet finished by the replica. */
struct ckpt {
	uint64_t id;		/* from the CHECKPOINT message */
	uint32_t node;		/* the manager that triggered it */
	uint64_t order;		/* last order delivered before it */
	bool sent;		/* CHECKPOINT frame queued to the replica */
	/*
	 * Recovery's local checkpoint of the senior (not ordered): not
	 * counted with the ordered ones, not reported to the control socket.
	 */
	bool local;
	uint64_t start_ms;	/* became the oldest pending checkpoint */
};

/*
 * A control socket connection (one command line, one answer line; or an
 * "events" subscription: event lines until either side closes).
 */
struct ctl {
	int fd;			/* -1: free */
	char in[CTL_LINE];
	size_t ilen;
	uint64_t ckpt_id;	/* checkpoint awaited, 0: none */
	uint64_t deadline_ms;	/* answer "err timeout" and close then */
	bool events;		/* subscribed: gets ctl_event() lines */
};

struct stats {
	uint64_t delivered;	/* orders assigned */
	uint64_t dup_requests;	/* delivered but already executed */
	uint64_t executed;	/* RESULTs from the local replica */
	uint64_t replies;	/* REPLY frames to clients */
	uint64_t cache_replies;	/* answered from the reply cache */
	uint64_t busy;		/* VF_ST_BUSY replies */
	uint64_t unavailable;	/* VF_ST_UNAVAILABLE replies */
	uint64_t not_primary;	/* VF_ST_NOT_PRIMARY replies */
	uint64_t bad_frames;	/* clients cut off for protocol errors */
	uint64_t msgs_sent;	/* CPG messages */
	uint64_t msgs_recv;
	uint64_t reqs_sent;	/* requests in REQUESTS messages sent */
	uint64_t req_msgs_sent;
	uint64_t votes_sent;
	uint64_t try_again;	/* CS_ERR_TRY_AGAIN */
	uint64_t bad_gmsgs;	/* undecodable group messages */
	uint64_t stuck_closed;	/* clients dropped: output did not drain */
	uint64_t conns_refused;	/* at a limit: refused on accept */
	uint64_t conns_evicted;	/* closed for a newcomer at the cap */
	uint64_t conns_timed_out; /* handshake or idle time-out */
	uint64_t client_pauses;	/* back-pressure episodes */
	uint64_t stale_refused;	/* stale or evicted requests refused */
	uint64_t checkpoints;	/* CHECKPOINT messages delivered */
	uint64_t ckpt_done;	/* finished (any status) */
	uint64_t ckpt_failed;	/* finished with a nonzero status */
	uint64_t ckpt_last_order;
	uint32_t ckpt_last_status;	/* 0 ok, else a positive errno */
};

struct suspect {
	uint32_t node;
	uint64_t count;
	uint64_t last_order;
};

struct vmfitd {
	struct vf_conf conf;
	const char *conf_path;
	bool foreground;
	struct timespec started;

	/* client endpoint */
	int lfd;
	int in_epfd;			/* open connections: EPOLLIN */
	int out_epfd;			/* parked ones: EPOLLOUT, edge */
	struct vf_list conns;		/* every connection */
	struct vf_list hs_conns;	/* no request yet, oldest first */
	struct vf_list idle_conns;	/* greeted, least recently active first */
	struct vf_list held_conns;	/* frames left unparsed while paused */
	struct vf_list stalled_conns;	/* open, output blocked */
	struct vf_list draining_conns;	/* closing, not yet closed */
	struct vf_list flush_conns;	/* to flush or free this round */
	unsigned int nconns;
	struct conn **wait_tab;		/* client_id -> waiting conn */
	unsigned int wait_mask;
	unsigned int npending;
	unsigned int conn_max;		/* < RLIMIT_NOFILE, <= CONN_MAX */
	int spare_fd;			/* given up to refuse on EMFILE */
	struct src **src_tab;		/* SRC_BUCKETS chains */
	uint64_t next_stall_scan_ms;
	uint64_t next_drain_scan_ms;
	uint64_t tmo_base_ms;		/* time-outs count from here at least */
	bool paused;			/* back-pressure: no reading */
	uint64_t own_reqs;		/* sent to the group, not back */
	uint64_t own_bytes;		/* ... their bytes */

	/* ordered state */
	struct vf_rcache *rc;
	struct vf_voter *voter;
	struct ordmeta *meta;		/* vote_window entries */
	uint64_t last_order;
	struct membership mb;		/* primary component, in sync */

	/* local replica */
	const struct vf_backend_ops *be;
	struct vf_replica rep;
	bool hello;
	uint64_t rep_t0;		/* now_ms() before its start() */
	long rep_hello_ms;		/* start() to its HELLO frame, -1 */
	bool rep_failed;
	uint8_t *rin;
	size_t rilen;
	struct vf_wbuf rout;
	uint64_t exec_sent;		/* highest order in rout as EXEC */
	struct vf_wbuf rhold;		/* EXECs held behind a checkpoint */
	uint64_t exec_done;		/* highest order answered */

	/* group */
	bool local;			/* --unreplicated: no corosync */
	cpg_handle_t cpg;
	bool cpg_ok;
	bool joined_once;
	int cpg_fd;
	uint32_t nodeid;
	unsigned int members;
	uint64_t reconnect_at_ms;
	unsigned int reconnect_ms;
	struct vf_wbuf req_batch;
	uint32_t req_count;
	struct vf_wbuf vote_batch;
	uint32_t vote_count;
	struct vf_wbuf sendq[SENDQ_MAX];
	unsigned int sendq_head, sendq_len;
	uint64_t retry_at_ms;
	unsigned int retry_ms;

	/* ordered checkpoints (FIFO) and the control socket */
	struct ckpt ckpts[CKPT_MAX];
	unsigned int ckpt_head, ckpt_len;
	int ctl_lfd;
	struct ctl ctls[CTL_MAX];
	struct vf_wbuf ctl_msg;		/* CHECKPOINT message being sent */
	struct vf_wbuf state_msg;	/* STATE message being sent */

	struct stats st;
	struct suspect suspects[SUSPECT_SLOTS];
	struct vf_ratelimit suspect_rl;	/* "suspected faulty replica" */
	struct vf_ratelimit expire_rl;	/* "left the vote window" */
	struct vf_ratelimit conn_rl;	/* dropped stuck clients */
	struct vf_ratelimit refuse_rl;	/* refused connections */
	struct vf_ratelimit tmo_rl;	/* timed-out connections */
	struct vf_ratelimit pause_rl;	/* back-pressure episodes */
	uint64_t expired_since;		/* expired orders not yet logged */
	uint64_t next_status_ms;
	uint64_t next_stats_log_ms;

	struct rcv *rcv;		/* recovery*.c; NULL: not configured */
};

/*
 * Each part of the manager has the same shape for the main loop (vmfitd.c):
 * <part>_poll_fds() fills its pollfds and returns how many, <part>_events()
 * handles their revents (same array position), <part>_tick() does what is
 * due and lowers *wake to its next deadline, <part>_flush() pushes out what
 * a loop round buffered.
 */

/* vmfitd.c: the main loop */
uint64_t now_ms(void);

/* client.c: client connections and the clients awaiting a reply */
#define CLIENT_POLL_FDS		3	/* listener, the two epoll sets */
int client_init(struct vmfitd *d);
/* Raise RLIMIT_NOFILE as far as allowed, derive conn_max; 0 or -errno. */
int client_limits(struct vmfitd *d);
int client_listen(struct vmfitd *d);
/* Handshake and idle time-outs; lowers @wake to the next check. */
void client_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
void client_fini(struct vmfitd *d);
void client_free(struct vmfitd *d);
unsigned int client_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void client_events(struct vmfitd *d, const struct pollfd *pfd);
void client_flush(struct vmfitd *d);
#define VMFITD_EVICTED_MSG	"this client_id's reply cache entry was evicted: its requests are not executed again; start over with a new client_id"
/* The group refused (@cid, @seq) without executing it (@why). */
void client_refuse(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   const char *why);
/* Answer the local client waiting for (@cid, @seq), if it is still here. */
void client_answer(struct vmfitd *d, uint64_t cid, uint64_t seq,
		   uint32_t status, const uint8_t *data, uint32_t len);
/* Answer every waiting client @status: this manager stopped serving. */
void client_refuse_all(struct vmfitd *d, uint32_t status);

/* replica.c: the local replica's channel */
#define REPLICA_POLL_FDS	2	/* channel, exit notification */
int replica_init(struct vmfitd *d);
int replica_start(struct vmfitd *d);
/*
 * Fill @spec's isolation (replica_isolation, replica_user) and hand its
 * state volume and its journal to that user; for every replica the
 * backend starts (the recovery shadow too). 0 or -errno (logged).
 */
int replica_isolation(struct vmfitd *d, struct vf_replica_spec *spec);
/*
 * The kv journal of state volume @vol (0: state_volume, 1: state_volume_b),
 * or NULL (in the volume). It pairs with the volume, not the role: the
 * replica on a volume always gets that volume's journal.
 */
const char *replica_journal(const struct vmfitd *d, unsigned int vol);
void replica_fini(struct vmfitd *d);
void replica_free(struct vmfitd *d);
unsigned int replica_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void replica_events(struct vmfitd *d, const struct pollfd *pfd);
void replica_flush(struct vmfitd *d);
/* Reap the replica if it has exited (SIGCHLD or its exit fd). */
void replica_reap(struct vmfitd *d);
void replica_exec(struct vmfitd *d, uint64_t order, uint64_t cid,
		  uint64_t seq, const uint8_t *op, uint32_t op_len);
/* Kill it for @why; it serves no more (restart needs state transfer). */
void replica_failed(struct vmfitd *d, const char *why);
/*
 * Handle the complete frames in d->rin (a partial one stays): after a
 * read, and for what the shadow sent along with the frame that made it
 * the replica (shadow_swap).
 */
void replica_frames(struct vmfitd *d);

/* checkpoint.c: ordered checkpoints */
struct ckpt *ckpt_head(struct vmfitd *d);
/* The oldest pending checkpoint is over with @status (0 or errno). */
void ckpt_finish(struct vmfitd *d, uint32_t status);
/* Advance the checkpoint FIFO as far as the replica's answers allow. */
void replica_pump(struct vmfitd *d);
void deliver_checkpoint(struct vmfitd *d, uint32_t node,
			const struct vf_gmsg_hdr *h, struct vf_rd *rd);
/* Take checkpoint @id (triggered by @node) after the last delivered order. */
void ckpt_push(struct vmfitd *d, uint32_t node, uint64_t id);
/* The same, not ordered: recovery's local checkpoint @id of the senior. */
void ckpt_push_local(struct vmfitd *d, uint64_t id);
/* A replica that does not finish a checkpoint in time is faulty. */
void ckpt_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);

/* delivery.c: the ordered stream, the voter, the reply cache */
int delivery_init(struct vmfitd *d);
void delivery_free(struct vmfitd *d);
/* A message delivered by the group (in the same order everywhere). */
void deliver(struct vmfitd *d, uint32_t node, uint32_t pid, const void *msg,
	     size_t len);
/*
 * A manager that catches up (recovery): deliver a REQUESTS, VOTES or
 * CHECKPOINT message kept while it was not in sync (its sender was
 * admitted then), and take over the manager state of a round (vf_mstate
 * bytes: last order, reply cache, vote window). delivery_adopt() returns
 * 0, or -errno / -VF_E() with nothing changed.
 */
void deliver_kept(struct vmfitd *d, uint32_t node, uint32_t pid,
		  const void *msg, size_t len);
int delivery_adopt(struct vmfitd *d, const void *p, size_t n);
/* @count of this manager's requests (@len message bytes) came back. */
void own_delivered(struct vmfitd *d, uint32_t count, size_t len);
/* In sync, in a primary view that can decide, connected: may answer. */
bool vmfitd_available(const struct vmfitd *d);
/* The REPLY status for a client while not available. */
uint32_t vmfitd_refusal(const struct vmfitd *d);
/* React to what membership reported (MB_* flags). */
void delivery_membership(struct vmfitd *d, int flags);

/* group.c: the manager group (corosync CPG) and the batching */
#define GROUP_POLL_FDS		1
int group_init(struct vmfitd *d);
void group_fini(struct vmfitd *d);
unsigned int group_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void group_events(struct vmfitd *d, const struct pollfd *pfd);
void group_tick(struct vmfitd *d, uint64_t *wake);
/* Send this round's batches. */
void group_flush(struct vmfitd *d);
bool group_congested(const struct vmfitd *d);
void group_add_request(struct vmfitd *d, const struct vf_request *m);
void group_add_vote(struct vmfitd *d, uint64_t order, const uint8_t *data,
		    uint32_t len);
/* Multicast a CHECKPOINT message with @id; 0 or -errno. */
int group_send_checkpoint(struct vmfitd *d, uint64_t id);
/* Multicast the complete message in @wb (left empty); 0 or -ENOTCONN. */
int group_send(struct vmfitd *d, struct vf_wbuf *wb);

/* control.c: the control socket and the --checkpoint client */
#define CONTROL_POLL_FDS	(1 + CTL_MAX)	/* listener, connections */
int ctl_init(struct vmfitd *d);
void ctl_fini(struct vmfitd *d);
/* Fill pfd[0 .. CTL_MAX] (listener, then connections). */
unsigned int ctl_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void ctl_events(struct vmfitd *d, const struct pollfd *pfd);
/* Expire waiting control clients; lowers @wake to the next deadline. */
void ctl_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
/* The local replica finished checkpoint @id (triggered by @node). */
void ctl_checkpoint_done(struct vmfitd *d, uint32_t node, uint64_t id,
			 uint64_t order, uint32_t status);
/*
 * One event line (no newline in @fmt) to every "events" subscriber; a
 * subscriber that does not read (its socket buffer full) is dropped, the
 * loop never waits for it. Documentation/vmfitd.8.rst "Control socket".
 */
void ctl_event(struct vmfitd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A random nonzero 64-bit id (checkpoints, recovery rounds). */
uint64_t random_id(void);
/* vmfitd --checkpoint: trigger one and wait for the local result. */
int ctl_client_checkpoint(const struct vf_conf *c, unsigned int timeout_ms);
/* vmfitd --recover [--full] [--wait]: start a round (and follow it). */
int ctl_client_recover(const struct vf_conf *c, bool full, bool wait,
		       unsigned int timeout_ms);

/* status.c: the status file, --status, periodic log lines */
void status_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
void status_remove(struct vmfitd *d);
/* vmfitd --status: the status file as key=value lines. */
int status_print(const struct vf_conf *c);

/*
 * recovery*.c: proactive recovery with verified state transfer
 * (Documentation/protocol.rst "Recovery"): the shadow replica, the
 * capture, the digest exchange and vote, chunk transfer between managers,
 * the A/B hand-over.
 */
#define RECOVERY_POLL_FDS	(7 + PEER_CONN_MAX)
#define PEER_CONN_MAX		8	/* peer connections served at once */
int rcv_init(struct vmfitd *d);
void rcv_fini(struct vmfitd *d);
unsigned int rcv_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void rcv_events(struct vmfitd *d, const struct pollfd *pfd);
void rcv_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
void rcv_flush(struct vmfitd *d);
/* Reap the shadow if it has exited (SIGCHLD). */
void rcv_reap(struct vmfitd *d);
/* A recovery group message (types VF_G_RECOVER..VF_G_LAST). */
void rcv_deliver(struct vmfitd *d, uint32_t node, const struct vf_gmsg_hdr *h,
		 struct vf_rd *rd);
/*
 * An ordered message of a manager in sync, delivered while this one is
 * not: kept if a catch-up round has captured (replayed with
 * deliver_kept() when this manager takes over the round's state).
 */
void rcv_keep(struct vmfitd *d, uint32_t node, uint32_t pid, const void *msg,
	      size_t len);
/* Manager @node left the group. */
void rcv_left(struct vmfitd *d, uint32_t node);
/* An EXEC for the local replica: true when the shadow took it alone. */
bool rcv_exec(struct vmfitd *d, const struct vf_exec *ex);
/*
 * The replica's answers were handled (replica.c): during a hand-over,
 * the senior may have reached the hand-over point.
 */
void rcv_senior_answered(struct vmfitd *d);
/* Checkpoint @id of the senior finished (checkpoint.c). */
void rcv_checkpoint_done(struct vmfitd *d, uint64_t id, uint64_t order,
			 uint32_t status);
/* Multicast RECOVER; 0 and *@round, or -errno (-ENOTSUP: not set up). */
int rcv_trigger(struct vmfitd *d, bool full, uint64_t *round);
/* The rcv_* fields of the status file (JSON members, each ending ","). */
void rcv_status(struct vmfitd *d, FILE *fp);

#endif /* VMFITD_H */
