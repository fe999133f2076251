/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_conf.h - vmfitd configuration file (Documentation/vmfitd.conf.5.rst).
 *
 * Format: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; the value runs to the end of the
 * line (trailing blanks stripped, no quoting). Unknown keys, duplicate keys
 * and bad values are errors naming the file and the line.
 */
#ifndef VF_CONF_H
#define VF_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <netinet/in.h>

#define VF_CONF_DEFAULT_PATH	"/etc/vmfit/vmfitd.conf"
#define VF_CONF_STR		256
#define VF_CONF_CMD		1024
#define VF_CONF_MAX_F		3
#define VF_CONF_DIGEST_HEX	64	/* SHA-256 in hex */
#define VF_CONF_MAX_MANAGERS	(2 * VF_CONF_MAX_F + 1)

/* The xen backend (Documentation/xen-backend.rst). */
struct vf_xen_conf {
	char kernel[VF_CONF_STR];	/* PV kernel: vmlinux ELF */
	char ramdisk[VF_CONF_STR];	/* initramfs with the replica */
	char digest[VF_CONF_DIGEST_HEX + 1]; /* SHA-256(kernel || ramdisk) */
	unsigned int memory_mb;
	unsigned int vcpus;
	unsigned int start_timeout_ms;	/* create .. first HELLO bytes */
	unsigned int vchan_ring;	/* bytes per direction */
	char domain_prefix[64];		/* domains are PREFIX-N */
	char extra[VF_CONF_STR];	/* guest kernel command line */
};

struct vf_conf {
	char service[64];		/* service name, [A-Za-z0-9_.-]+ */
	unsigned int f;			/* faults tolerated; 2f+1 hosts */
	unsigned int node_id;		/* 0: take it from corosync */
	/* corosync node ids of the 2f+1 managers (the configured members) */
	unsigned int managers[VF_CONF_MAX_MANAGERS];
	unsigned int nmanagers;
	struct sockaddr_in listen;	/* client endpoint */
	bool has_peer_listen;
	struct sockaddr_in peer_listen;	/* state transfer (reserved) */
	char backend[16];		/* "process" or "xen" */
	char replica_cmd[VF_CONF_CMD];	/* argv, split on blanks */
	char state_volume[VF_CONF_STR];	/* replica's state volume path */
	unsigned int max_outstanding;	/* accepted, unanswered requests */
	unsigned int max_clients;	/* reply cache entries */
	char cpg_group[VF_CONF_STR];	/* CPG group name */
	int log_level;			/* enum vf_log_level */
	char status_file[VF_CONF_STR];	/* "" : none */
	unsigned int status_interval_ms;
	bool unreplicated;		/* no corosync, f = 0 */
	unsigned int batch_max;		/* requests per CPG message */
	unsigned int vote_window;	/* orders with votes kept */
	unsigned int replica_lag_max;	/* EXECs a replica may owe */
	char control_socket[VF_CONF_STR]; /* UNIX socket: operator triggers */
	unsigned int checkpoint_timeout_ms; /* replica's CHECKPOINT_DONE */
	unsigned int handshake_timeout_ms; /* connect to first request */
	unsigned int idle_timeout_ms;	/* silent client, 0: never */
	unsigned int max_conns_per_source; /* client connections per IPv4 */
	char replica_user[64];		/* process backend: runs as */
	bool replica_isolation;		/* process backend: namespaces */
	bool legacy_clients;		/* accept client protocol 1, 2 */
	/* proactive recovery (Documentation/protocol.rst "Recovery") */
	char state_volume_b[VF_CONF_STR];	/* the second volume; "": off */
	/*
	 * The kv journals of state_volume, state_volume_b (A, B): ""
	 * keeps it in the volume; they swap with the volumes' roles.
	 */
	char state_journal[2][VF_CONF_STR];
	char volume_kind[8];		/* "file" (stand-in) or "vmfit" */
	unsigned int volume_chunk;	/* file: chunk size in bytes */
	char shadow_cmd[VF_CONF_CMD];	/* the other implementation; "": same */
	unsigned int recovery_period_s;	/* 0: only on demand */
	unsigned int recovery_full_every; /* every N-th round hashes all */
	unsigned int recovery_timeout_ms; /* RECOVER -> hand-over */
	bool test_faults;		/* honour VMFITD_TEST_FAULT (tests) */
	unsigned int recovery_fetch_timeout_ms; /* one chunk from a peer */
	unsigned int recovery_nice;	/* shadow, volume worker: nice(2) */
	bool recovery_local_ckpt;	/* the senior's, before RCV_READY */
	unsigned int recovery_log_max_mb; /* requests kept for the shadow */
	struct vf_xen_conf xen;
};

#define VF_CONF_CONTROL_DIR	"/run/vmfit"	/* default control_socket dir */

void vf_conf_defaults(struct vf_conf *c);

/*
 * Parse @fp (named @name in messages) into @c, which must hold defaults.
 * On error returns -EINVAL (or -errno for I/O) and writes
 * "NAME:LINE: what" into @err.
 */
int vf_conf_parse(struct vf_conf *c, const char *name, FILE *fp, char *err,
		  size_t errlen);
int vf_conf_load(struct vf_conf *c, const char *path, char *err,
		 size_t errlen);
/* Cross-key checks and derived defaults; run after parsing. */
int vf_conf_finish(struct vf_conf *c, const char *name, char *err,
		   size_t errlen);

/* True if @nodeid is one of the configured managers. */
bool vf_conf_is_manager(const struct vf_conf *c, unsigned int nodeid);

/* "a.b.c.d:port" (IPv4; "*" = any) -> @sa; 0 or -EINVAL. */
int vf_parse_hostport(const char *s, struct sockaddr_in *sa);

#endif /* VF_CONF_H */
