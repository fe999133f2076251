/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_nl - client of dm-vmfit's generic netlink family through libnl-genl.
 * The ABI is include/uapi/linux/dm-vmfit.h; see
 * Documentation/admin-guide/device-mapper/dm-vmfit-netlink.rst.
 *
 * Every function returns 0 (or a count) on success and -errno on failure:
 * the kernel's errno when it answered, libnl's errors mapped to errno
 * otherwise. The extended-ack message of the last failure (or a hint such
 * as "is dm-vmfit loaded?") is kept for vf_nl_errmsg(). Nothing here exits
 * or prints. A handle is not thread-safe; use one per thread.
 */
#ifndef VF_NL_H
#define VF_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/linux/dm-vmfit.h"

struct nl_msg;
struct nlattr;
struct vf_nl;

/* A device: by name (when non-NULL and non-empty) and/or by number. */
struct vf_nl_dev {
	const char *name;
	bool has_devno;
	uint32_t major;
	uint32_t minor;
};

struct vf_nl_status {
	uint32_t major;
	uint32_t minor;
	char name[VMFIT_NAME_MAX + 1];
	uint32_t mode;			/* enum vmfit_nl_mode */
	uint32_t view;			/* enum vmfit_nl_view */
	uint32_t health;		/* enum vmfit_nl_health */
	uint32_t chunk_sectors;
	uint32_t csum_active;
	uint64_t epoch;
	uint64_t origin_chunks;
	uint64_t changed;
	uint64_t cow_used;
	uint64_t cow_total;
	uint64_t held_ns;
	uint64_t drain_ns;
	uint64_t merged;
	uint64_t to_merge;
	uint64_t csum_done;
	uint64_t csum_total;
};

struct vf_nl_csum_req {
	uint32_t algo;			/* enum vmfit_csum_algo, 0: default */
	uint32_t flags;			/* VMFIT_CSUM_F_* */
	bool has_first;
	bool has_last;
	uint64_t first;			/* inclusive */
	uint64_t last;			/* inclusive */
	uint32_t workers;		/* chunks hashed at once; 0: kernel default */
};

/*
 * Called once per digest, in ascending chunk order. Return 0 to go on, or
 * a negative errno to abandon the checksum (vf_nl_checksum then returns
 * it; the kernel stops hashing when the socket closes).
 */
typedef int (*vf_nl_digest_fn)(uint64_t chunk, const uint8_t *digest,
			       unsigned int size, void *arg);

/* Present-attribute bits of struct vf_nl_event. */
#define VF_NL_EV_EPOCH		(1U << 0)
#define VF_NL_EV_HELD		(1U << 1)
#define VF_NL_EV_DRAIN		(1U << 2)
#define VF_NL_EV_CSUM		(1U << 3)	/* csum_done, csum_total */
#define VF_NL_EV_COW		(1U << 4)	/* cow_used, cow_total */
#define VF_NL_EV_HEALTH		(1U << 5)
#define VF_NL_EV_ERROR		(1U << 6)

struct vf_nl_event {
	uint8_t cmd;			/* VMFIT_CMD_EVT_* */
	uint32_t present;		/* VF_NL_EV_* */
	uint32_t major;
	uint32_t minor;
	char name[VMFIT_NAME_MAX + 1];
	uint64_t epoch;
	uint64_t held_ns;
	uint64_t drain_ns;
	uint64_t csum_done;
	uint64_t csum_total;
	uint64_t cow_used;
	uint64_t cow_total;
	uint32_t health;
	uint32_t error;			/* positive errno, 0 = success */
};

/*
 * Connect and resolve the family. -ENOENT when the family is not
 * registered (vf_nl_errmsg() then says "is dm-vmfit loaded?"). *@out is
 * set even on failure when it could be allocated, so that the message can
 * be read; free it with vf_nl_close() in every case.
 */
int vf_nl_open(struct vf_nl **out);
void vf_nl_close(struct vf_nl *nl);
/* The extended-ack message (or a hint) of the last failure, or "". */
const char *vf_nl_errmsg(const struct vf_nl *nl);

int vf_nl_status(struct vf_nl *nl, const struct vf_nl_dev *dev,
		 struct vf_nl_status *st);
/* Every vmfit device; @fn returns 0 to go on. Returns the device count. */
int vf_nl_status_all(struct vf_nl *nl,
		     int (*fn)(const struct vf_nl_status *st, void *arg),
		     void *arg);
/* VMFIT_CMD_SNAPSHOT, _MERGE, _DROP, _CLEAR or _CHECKSUM_CANCEL. */
int vf_nl_control(struct vf_nl *nl, const struct vf_nl_dev *dev, int cmd);

/*
 * What the kernel said about a checksum, gathered over its dump messages;
 * also the state vf_nl_parse_csum() carries from one message to the next
 * (zero it before the first).
 */
struct vf_nl_csum_info {
	unsigned int digest_size;
	uint32_t workers;		/* in use; 0 from a version 1 module */
	uint64_t total;			/* chunks to hash */
	bool have_last;
	uint64_t last_chunk;		/* the last chunk delivered */
};

/*
 * Checksum the frozen view of @dev; *@info (may be NULL) gets what the
 * kernel reported. Returns the number of digests delivered to @fn.
 */
long vf_nl_checksum(struct vf_nl *nl, const struct vf_nl_dev *dev,
		    const struct vf_nl_csum_req *req, vf_nl_digest_fn fn,
		    void *arg, struct vf_nl_csum_info *info);

/* Join the events group; then poll vf_nl_event_fd() and read events. */
int vf_nl_subscribe(struct vf_nl *nl);
int vf_nl_event_fd(const struct vf_nl *nl);
/*
 * Next event: waits up to @timeout_ms (-1: forever). -ETIMEDOUT when none
 * came, -ENOBUFS when events were lost (the socket overran).
 */
int vf_nl_next_event(struct vf_nl *nl, struct vf_nl_event *ev,
		     int timeout_ms);

/* Names: "snapshot-begin", "checksum-done", ...; NULL when unknown. */
const char *vf_nl_event_name(unsigned int cmd);
/* Checksum algorithms' names and sizes: vf_csum.h. */
const char *vf_nl_mode_name(uint32_t mode);
const char *vf_nl_view_name(uint32_t view);
const char *vf_nl_health_name(uint32_t health);

/*
 * Encoding and decoding, exposed for the unit tests (no socket involved).
 * vf_nl_put_dev/vf_nl_put_csum_req append request attributes to @msg;
 * the parsers take a message as the kernel sends it (genl header first).
 */
int vf_nl_put_dev(struct nl_msg *msg, const struct vf_nl_dev *dev);
int vf_nl_put_csum_req(struct nl_msg *msg, const struct vf_nl_csum_req *req);
int vf_nl_parse_status(struct nl_msg *msg, struct vf_nl_status *st);
int vf_nl_parse_event(struct nl_msg *msg, struct vf_nl_event *ev);
/*
 * One checksum message: calls @fn per entry; returns the entry count.
 * -EPROTO for malformed entries (missing chunk or digest, a digest size
 * that differs from the message's or the earlier messages', chunks not
 * ascending after @info->last_chunk). Updates @info.
 */
int vf_nl_parse_csum(struct nl_msg *msg, vf_nl_digest_fn fn, void *arg,
		     struct vf_nl_csum_info *info);
/* Extended-ack message of an NLMSG_ERROR or NLMSG_DONE message. */
int vf_nl_parse_extack(const void *nlh, char *buf, size_t size);

#endif /* VF_NL_H */
