/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-vmfit generic netlink interface: the one header shared by the kernel
 * module (kmod/) and userspace (libvmfit's vf_nl).
 *
 * Family VMFIT_GENL_FAMILY_NAME, version VMFIT_GENL_VERSION, one multicast
 * group VMFIT_GENL_MCAST_GROUP_NAME for events. Every enum here is
 * append-only: never renumber, never reuse a value.
 *
 * A device is named by VMFIT_ATTR_DEV_MAJOR + VMFIT_ATTR_DEV_MINOR (the dm
 * device number), or by VMFIT_ATTR_DEV_NAME (the dm name); when both are
 * given they must name the same device. Requests are validated strictly:
 * unknown or wrongly typed attributes are rejected, and every error carries
 * an extended-ack message. Commands that change state or read data need
 * CAP_SYS_ADMIN, as the dm ioctls do (version 3; CAP_NET_ADMIN before);
 * VMFIT_CMD_GET_STATUS does not.
 *
 * Commands (-> request attributes; <- reply attributes):
 *
 * VMFIT_CMD_GET_STATUS: status of one device (doit).
 *	-> device
 *	<- device, VMFIT_ATTR_MODE, VMFIT_ATTR_EPOCH, VMFIT_ATTR_CHUNK_SECTORS,
 *	   VMFIT_ATTR_ORIGIN_CHUNKS, VMFIT_ATTR_CHANGED, VMFIT_ATTR_COW_USED,
 *	   VMFIT_ATTR_COW_TOTAL, VMFIT_ATTR_VIEW, VMFIT_ATTR_HELD_NS,
 *	   VMFIT_ATTR_DRAIN_NS, VMFIT_ATTR_MERGED, VMFIT_ATTR_TO_MERGE,
 *	   VMFIT_ATTR_HEALTH, VMFIT_ATTR_CSUM_ACTIVE, VMFIT_ATTR_CSUM_DONE,
 *	   VMFIT_ATTR_CSUM_TOTAL
 *	   As a dump (NLM_F_DUMP, no attributes): one such message per device.
 * VMFIT_CMD_SNAPSHOT, VMFIT_CMD_MERGE, VMFIT_CMD_DROP, VMFIT_CMD_CLEAR:
 *	the target messages of the same names (admin).
 *	-> device
 *	<- nothing (an ack; the error and an extack message on failure)
 * VMFIT_CMD_CHECKSUM: hash the frozen view (admin, dump only). The device
 *	must have a snapshot whose view is ready (-EAGAIN while draining).
 *	-> device, [VMFIT_ATTR_CSUM_ALGO] (default VMFIT_CSUM_SHA256),
 *	   [VMFIT_ATTR_CSUM_FLAGS], [VMFIT_ATTR_FIRST_CHUNK],
 *	   [VMFIT_ATTR_LAST_CHUNK] (inclusive; default the whole device),
 *	   [VMFIT_ATTR_CSUM_WORKERS] (chunks hashed at once, 1..64; default
 *	   one per online CPU; version 2: a version 1 module refuses it)
 *	<- per message: device, VMFIT_ATTR_CSUM_ALGO, VMFIT_ATTR_DIGEST_SIZE,
 *	   VMFIT_ATTR_CSUM_WORKERS (the count in use; version 2),
 *	   VMFIT_ATTR_CSUM_DONE, VMFIT_ATTR_CSUM_TOTAL,
 *	   VMFIT_ATTR_CSUM_ENTRIES: nest of VMFIT_ATTR_CSUM_ENTRY nests, each
 *	   [VMFIT_CSUM_A_CHUNK u64][VMFIT_CSUM_A_DIGEST binary], ascending
 *	   chunk order. The kernel hashes the next batch only when the
 *	   requester reads (back-pressure): memory is bounded whatever the
 *	   device size. Closing the socket, or VMFIT_CMD_CHECKSUM_CANCEL from
 *	   anywhere, ends the dump (the dump then fails with -ECANCELED).
 *	   While a checksum runs, merge and drop fail with -EBUSY.
 * VMFIT_CMD_CHECKSUM_CANCEL: cancel every checksum of a device (admin).
 *	-> device
 *	<- nothing
 *
 * Events (multicast, cmd = the event, no request):
 * VMFIT_CMD_EVT_SNAPSHOT_BEGIN	device, VMFIT_ATTR_EPOCH
 * VMFIT_CMD_EVT_SNAPSHOT_END	device, VMFIT_ATTR_EPOCH, VMFIT_ATTR_HELD_NS,
 *				VMFIT_ATTR_DRAIN_NS
 * VMFIT_CMD_EVT_CSUM_PROGRESS	device, VMFIT_ATTR_CSUM_DONE,
 *				VMFIT_ATTR_CSUM_TOTAL (at most 4 per second)
 * VMFIT_CMD_EVT_CSUM_DONE	device, VMFIT_ATTR_CSUM_DONE,
 *				VMFIT_ATTR_CSUM_TOTAL, VMFIT_ATTR_ERROR
 * VMFIT_CMD_EVT_MERGE_DONE	device, VMFIT_ATTR_EPOCH
 * VMFIT_CMD_EVT_HEALTH		device, VMFIT_ATTR_HEALTH (fail or an error)
 * VMFIT_CMD_EVT_COW_FULL	device, VMFIT_ATTR_COW_USED, VMFIT_ATTR_COW_TOTAL
 *
 * "device" in replies and events is VMFIT_ATTR_DEV_MAJOR,
 * VMFIT_ATTR_DEV_MINOR and VMFIT_ATTR_DEV_NAME.
 *
 * Digests: VMFIT_CSUM_A_DIGEST is the algorithm's output over the chunk's
 * bytes as read from the frozen view (the last chunk of a device whose size
 * is not a chunk multiple is hashed at its real length). Byte order is the
 * kernel crypto API's: SHA-256 and BLAKE2b-256 as in their standards,
 * xxhash64 (seed 0) and crc32c (Castagnoli, initial ~0, final xor ~0) as
 * little-endian integers. See
 * Documentation/admin-guide/device-mapper/dm-vmfit-netlink.rst, also for
 * the Merkle root computed over the digests.
 */
#ifndef _UAPI_LINUX_DM_VMFIT_H
#define _UAPI_LINUX_DM_VMFIT_H

#include <linux/types.h>

#define VMFIT_GENL_FAMILY_NAME		"dm-vmfit"
/*
 * 3: CAP_SYS_ADMIN (admin commands); 4: status = the status line's fields;
 * 5: joining the events group needs CAP_SYS_ADMIN
 */
#define VMFIT_GENL_VERSION		0x5
#define VMFIT_GENL_MCAST_GROUP_NAME	"events"

/* Longest dm device name, without the NUL (DM_NAME_LEN - 1). */
#define VMFIT_NAME_MAX			127
/* Largest digest any algorithm returns. */
#define VMFIT_DIGEST_MAX		64
/*
 * Largest chunk size in 512-byte sectors (1 MiB): the constructor's
 * <chunk size> and VMFIT_ATTR_CHUNK_SECTORS are powers of two up to this.
 */
#define VMFIT_CHUNK_SECTORS_MAX		2048
/* VMFIT_ATTR_CSUM_WORKERS: 1..VMFIT_CSUM_WORKERS_MAX. */
#define VMFIT_CSUM_WORKERS_MAX		64

enum vmfit_cmd {
	VMFIT_CMD_UNSPEC,
	VMFIT_CMD_GET_STATUS,
	VMFIT_CMD_SNAPSHOT,
	VMFIT_CMD_MERGE,
	VMFIT_CMD_DROP,
	VMFIT_CMD_CLEAR,
	VMFIT_CMD_CHECKSUM,
	VMFIT_CMD_CHECKSUM_CANCEL,
	VMFIT_CMD_EVT_SNAPSHOT_BEGIN,
	VMFIT_CMD_EVT_SNAPSHOT_END,
	VMFIT_CMD_EVT_CSUM_PROGRESS,
	VMFIT_CMD_EVT_CSUM_DONE,
	VMFIT_CMD_EVT_MERGE_DONE,
	VMFIT_CMD_EVT_HEALTH,
	VMFIT_CMD_EVT_COW_FULL,

	__VMFIT_CMD_MAX,
};

#define VMFIT_CMD_MAX (__VMFIT_CMD_MAX - 1)

enum vmfit_attr {
	VMFIT_ATTR_UNSPEC,
	VMFIT_ATTR_PAD,			/* alignment padding for u64 */
	VMFIT_ATTR_DEV_MAJOR,		/* NLA_U32 */
	VMFIT_ATTR_DEV_MINOR,		/* NLA_U32 */
	VMFIT_ATTR_DEV_NAME,		/* NLA_NUL_STRING, <= VMFIT_NAME_MAX */
	VMFIT_ATTR_MODE,		/* NLA_U32, enum vmfit_nl_mode */
	VMFIT_ATTR_EPOCH,		/* NLA_U64, snapshots taken */
	VMFIT_ATTR_CHUNK_SECTORS,	/* NLA_U32, chunk size (512 B sectors) */
	VMFIT_ATTR_ORIGIN_CHUNKS,	/* NLA_U64, chunks of the device */
	VMFIT_ATTR_CHANGED,		/* NLA_U64, size of the changed set */
	VMFIT_ATTR_COW_USED,		/* NLA_U64, cow data chunks in use */
	VMFIT_ATTR_COW_TOTAL,		/* NLA_U64, cow data chunks */
	VMFIT_ATTR_VIEW,		/* NLA_U32, enum vmfit_nl_view */
	VMFIT_ATTR_HELD_NS,		/* NLA_U64, last snapshot: bios held */
	VMFIT_ATTR_DRAIN_NS,		/* NLA_U64, last snapshot: drain time */
	VMFIT_ATTR_MERGED,		/* NLA_U64, merge progress */
	VMFIT_ATTR_TO_MERGE,		/* NLA_U64, merge total */
	VMFIT_ATTR_HEALTH,		/* NLA_U32, enum vmfit_nl_health */
	VMFIT_ATTR_CSUM_ALGO,		/* NLA_U32, enum vmfit_csum_algo */
	VMFIT_ATTR_CSUM_FLAGS,		/* NLA_U32, VMFIT_CSUM_F_* */
	VMFIT_ATTR_FIRST_CHUNK,		/* NLA_U64, first chunk (inclusive) */
	VMFIT_ATTR_LAST_CHUNK,		/* NLA_U64, last chunk (inclusive) */
	VMFIT_ATTR_DIGEST_SIZE,		/* NLA_U32, bytes per digest */
	VMFIT_ATTR_CSUM_DONE,		/* NLA_U64, chunks hashed so far */
	VMFIT_ATTR_CSUM_TOTAL,		/* NLA_U64, chunks to hash */
	VMFIT_ATTR_CSUM_ACTIVE,		/* NLA_U32, checksums running */
	VMFIT_ATTR_CSUM_ENTRIES,	/* NLA_NESTED, VMFIT_ATTR_CSUM_ENTRY* */
	VMFIT_ATTR_CSUM_ENTRY,		/* NLA_NESTED, VMFIT_CSUM_A_* */
	VMFIT_ATTR_ERROR,		/* NLA_U32, positive errno, 0 = ok */
	VMFIT_ATTR_CSUM_WORKERS,	/* NLA_U32, 1..64 chunks hashed at once */

	__VMFIT_ATTR_MAX,
};

#define VMFIT_ATTR_MAX (__VMFIT_ATTR_MAX - 1)

/* Inside VMFIT_ATTR_CSUM_ENTRY. */
enum vmfit_csum_attr {
	VMFIT_CSUM_A_UNSPEC,
	VMFIT_CSUM_A_PAD,
	VMFIT_CSUM_A_CHUNK,		/* NLA_U64 */
	VMFIT_CSUM_A_DIGEST,		/* NLA_BINARY, VMFIT_ATTR_DIGEST_SIZE */

	__VMFIT_CSUM_A_MAX,
};

#define VMFIT_CSUM_A_MAX (__VMFIT_CSUM_A_MAX - 1)

/*
 * Checksum algorithms (kernel crypto API names in brackets).
 * SHA256 and BLAKE2B_256 are collision resistant: use them whenever a
 * replica may be malicious (a faulty replica can craft chunks that collide
 * under XXHASH64 or CRC32C at will). XXHASH64 and CRC32C only detect
 * accidental corruption; they are for trusted settings.
 */
enum vmfit_csum_algo {
	VMFIT_CSUM_UNSPEC,
	VMFIT_CSUM_SHA256,		/* "sha256", 32 bytes, default */
	VMFIT_CSUM_BLAKE2B_256,		/* "blake2b-256", 32 bytes */
	VMFIT_CSUM_XXHASH64,		/* "xxhash64", 8 bytes */
	VMFIT_CSUM_CRC32C,		/* "crc32c", 4 bytes */

	__VMFIT_CSUM_MAX,
};

#define VMFIT_CSUM_MAX (__VMFIT_CSUM_MAX - 1)

/* VMFIT_ATTR_CSUM_FLAGS */
#define VMFIT_CSUM_F_CHANGED	(1U << 0)	/* only the changed set */
#define VMFIT_CSUM_F_ALL	VMFIT_CSUM_F_CHANGED

enum vmfit_nl_mode {
	VMFIT_NL_MODE_NORMAL,
	VMFIT_NL_MODE_SNAPSHOT,
	VMFIT_NL_MODE_MERGING,
};

enum vmfit_nl_view {
	VMFIT_NL_VIEW_NONE,		/* no snapshot */
	VMFIT_NL_VIEW_DRAINING,
	VMFIT_NL_VIEW_READY,
};

enum vmfit_nl_health {
	VMFIT_NL_HEALTH_OK,
	VMFIT_NL_HEALTH_COW_FULL,
	VMFIT_NL_HEALTH_FAIL,
};

#endif /* _UAPI_LINUX_DM_VMFIT_H */
