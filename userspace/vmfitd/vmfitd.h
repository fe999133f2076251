/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmfitd.h - replica manager state shared by its source files.
 */
#ifndef VMFITD_H
#define VMFITD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <poll.h>

#include <corosync/cpg.h>

#include "vf_backend.h"
#include "vf_conf.h"
#include "vf_log.h"
#include "vf_proto.h"
#include "vf_rcache.h"
#include "vf_voter.h"

#define VMFITD_VERSION		"1.0.0"
#define CONN_MAX		4096	/* client connections */
#define CONN_IN_CAP		(VF_HDR_LEN + 20 + VF_MAX_OP)
#define CONN_OUT_LIMIT		(4 * (VF_HDR_LEN + 24 + VF_MAX_OP))
#define REP_IN_CAP		(VF_HDR_LEN + 8 + 2 * 65536)
#define REP_OUT_LIMIT		(64u << 20)
#define SENDQ_MAX		64	/* CPG messages queued on TRY_AGAIN */
#define BATCH_BYTES		(512u << 10)
#define SUSPECT_SLOTS		8
#define CONN_SNDBUF		(256 << 10)	/* SO_SNDBUF of client sockets */
#define CONN_LINGER_MS		2000	/* closing: time to flush the output */
#define CONN_STALL_MS		30000	/* open: output without progress */
#define CKPT_MAX		16	/* checkpoints delivered, not finished */
#define CTL_MAX			8	/* control socket connections */
#define CTL_LINE		128	/* longest control command line */
#define CTL_IDLE_MS		5000	/* control client must send its line */
#define LOG_BURST		10	/* rate-limited warnings per episode */
#define LOG_PERIOD_MS		1000	/* then one summary per period */

struct conn {
	int fd;
	uint8_t *in;
	size_t ilen;
	struct vf_wbuf out;
	bool closing;		/* flush output, then close */
	bool dead;		/* freed at the end of the loop round */
	bool reset;		/* close with a reset (stuck output) */
	bool waiting;		/* has an unanswered request */
	uint64_t stall_ms;	/* output blocked since (0: not blocked) */
	uint64_t cid;
	uint64_t seq;
	struct conn *prev, *next;	/* all connections */
	struct conn *hnext;		/* waiter hash chain */
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
	uint64_t start_ms;	/* became the oldest pending checkpoint */
};

/* A control socket connection (one command line, one answer line). */
struct ctl {
	int fd;			/* -1: free */
	char in[CTL_LINE];
	size_t ilen;
	uint64_t ckpt_id;	/* checkpoint awaited, 0: none */
	uint64_t deadline_ms;	/* answer "err timeout" and close then */
};

struct stats {
	uint64_t delivered;	/* orders assigned */
	uint64_t dup_requests;	/* delivered but already executed */
	uint64_t executed;	/* RESULTs from the local replica */
	uint64_t replies;	/* REPLY frames to clients */
	uint64_t cache_replies;	/* answered from the reply cache */
	uint64_t busy;		/* VF_ST_BUSY replies */
	uint64_t unavailable;	/* VF_ST_UNAVAILABLE replies */
	uint64_t bad_frames;	/* clients cut off for protocol errors */
	uint64_t msgs_sent;	/* CPG messages */
	uint64_t msgs_recv;
	uint64_t reqs_sent;	/* requests in REQUESTS messages sent */
	uint64_t req_msgs_sent;
	uint64_t votes_sent;
	uint64_t try_again;	/* CS_ERR_TRY_AGAIN */
	uint64_t bad_gmsgs;	/* undecodable group messages */
	uint64_t stuck_closed;	/* clients dropped: output did not drain */
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
	struct conn conns;		/* list head */
	unsigned int nconns;
	struct conn **wait_tab;		/* client_id -> waiting conn */
	unsigned int wait_mask;
	unsigned int npending;

	/* ordered state */
	struct vf_rcache *rc;
	struct vf_voter *voter;
	struct ordmeta *meta;		/* vote_window entries */
	uint64_t last_order;
	bool synced;

	/* local replica */
	const struct vf_backend_ops *be;
	struct vf_replica rep;
	bool hello;
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

	struct stats st;
	struct suspect suspects[SUSPECT_SLOTS];
	struct vf_ratelimit suspect_rl;	/* "suspected faulty replica" */
	struct vf_ratelimit expire_rl;	/* "left the vote window" */
	struct vf_ratelimit conn_rl;	/* dropped stuck clients */
	uint64_t expired_since;		/* expired orders not yet logged */
	uint64_t next_status_ms;
	uint64_t next_stats_log_ms;
};

uint64_t now_ms(void);

/* group.c */
int group_init(struct vmfitd *d);
void group_fini(struct vmfitd *d);
void group_dispatch(struct vmfitd *d);
void group_tick(struct vmfitd *d);
void group_flush(struct vmfitd *d);
bool group_congested(const struct vmfitd *d);
void deliver(struct vmfitd *d, uint32_t node, const void *msg, size_t len);
/* Multicast a CHECKPOINT message with @id; 0 or -errno. */
int group_send_checkpoint(struct vmfitd *d, uint64_t id);

/* ctl.c: the control socket and the --checkpoint client */
int ctl_init(struct vmfitd *d);
void ctl_fini(struct vmfitd *d);
/* Fill pfd[0 .. CTL_MAX] (listener, then connections). */
void ctl_poll_fds(struct vmfitd *d, struct pollfd *pfd);
void ctl_events(struct vmfitd *d, const struct pollfd *pfd);
/* Expire waiting control clients; lowers @wake to the next deadline. */
void ctl_tick(struct vmfitd *d, uint64_t now, uint64_t *wake);
/* The local replica finished checkpoint @id (triggered by @node). */
void ctl_checkpoint_done(struct vmfitd *d, uint32_t node, uint64_t id,
			 uint64_t order, uint32_t status);
bool vmfitd_available(const struct vmfitd *d);
/* vmfitd --checkpoint: trigger one and wait for the local result. */
int ctl_client_checkpoint(const struct vf_conf *c, unsigned int timeout_ms);

#endif /* VMFITD_H */
