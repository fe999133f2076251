/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_state.h - the kv service's abstract state on its state volume.
 *
 * Layout (Documentation/kv-service.rst, "Abstract state"), little-endian:
 *
 *   [0, 4096)            header
 *   4096 + i * slot_size slot of key i, i = 0 .. records - 1
 *
 * header:  0 u8[8] magic "VFKVSTAT"     8 u32 version (1)
 *         12 u32 header_size (4096)    16 u32 records
 *         20 u32 record_size           24 u32 slot_size
 *         28 u32 flags (0)             32 u64 order (last executed)
 *         40 u64 volume_size           48 .. 4091 zero
 *       4092 u32 crc32c of bytes 0 .. 4091
 * slot:    0 u32 present (0 or 1)       4 u32 len (<= record_size)
 *          8 value[len], then zeros to slot_size; an absent slot is all 0.
 *
 * slot_size = 8 + record_size rounded up to a power of two when that is at
 * most 4096 (so no slot crosses a 4 KiB block boundary), else to a
 * multiple of 4096 (so a slot spans the fewest blocks it can).
 * volume_size = 4096 + records * slot_size rounded up to 4096.
 */
#ifndef KV_STATE_H
#define KV_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_engine.h"

#define KV_STATE_MAGIC		"VFKVSTAT"
#define KV_STATE_VERSION	1u
#define KV_STATE_HDR_SIZE	4096u
#define KV_STATE_BLOCK		4096u
#define KV_SLOT_HDR_LEN		8u
#define KV_HDR_CRC_OFF		4092u

struct kv_geom {
	uint32_t records;
	uint32_t record_size;
	uint32_t slot_size;
	uint64_t volume_size;
};

/* Write observer, for tests: every byte range written to the volume. */
typedef void (*kv_vol_observer)(void *arg, uint64_t off, uint64_t len);

#ifdef KV_FAULT_INJECTION
/* Fault injection only: may alter a slot or header image before writing. */
typedef void (*kv_vol_mangler)(void *arg, uint8_t *buf, uint32_t len);
#endif

struct kv_vol {
	int fd;
	bool is_reg;		/* regular file (else block device) */
	bool synced;		/* volume == engine state minus dirty set */
	struct kv_geom g;
	uint8_t *buf;		/* scratch: header / one slot / I/O chunk */
	uint32_t buf_size;
	uint8_t *old;		/* scratch: a slot as the volume holds it */
	bool full;		/* the checkpoint in progress rewrites all */
	kv_vol_observer observe;
	void *observe_arg;
#ifdef KV_FAULT_INJECTION
	kv_vol_mangler mangle;
	void *mangle_arg;
#endif
};

/* kv_geom_init - the layout for @lim; -EINVAL if it cannot be laid out. */
int kv_geom_init(struct kv_geom *g, const struct kv_limits *lim);

/* kv_crc32c - CRC-32C (Castagnoli), as used by the header. */
uint32_t kv_crc32c(uint32_t crc, const void *p, size_t n);

/* kv_hdr_encode - the header image (KV_STATE_HDR_SIZE bytes). */
void kv_hdr_encode(uint8_t *hdr, const struct kv_geom *g, uint64_t order);

/*
 * kv_vol_open - open (creating a missing regular file) the state volume
 * at @path for the layout of @lim. Nothing is read or written yet.
 */
int kv_vol_open(struct kv_vol *v, const char *path,
		const struct kv_limits *lim);
void kv_vol_close(struct kv_vol *v);

/*
 * kv_checkpoint - write @s's state with @order and fdatasync.
 * When the volume is known to hold the previous checkpoint (or what was
 * restored), only the header and the slots of dirty keys are written, and
 * of those only the ones whose bytes differ from the volume's (a PUT of
 * the value a key already had writes nothing); otherwise the whole volume
 * is (re)written. Clears the dirty set on
 * success. Returns 0 or a negative errno.
 */
int kv_checkpoint(struct kv_vol *v, struct kv_store *s, uint64_t order);

/*
 * kv_restore - validate the volume and load it into @s (emptied first).
 * Returns 0 and the stored order in @order, or:
 *   -ENODATA  volume shorter than its layout (truncated)
 *   -EBADMSG  bad magic, version, header checksum, reserved field or
 *             slot (present not 0/1, len > record_size, nonzero padding)
 *   -EINVAL   a well-formed volume for another configuration (records,
 *             record size) or a regular file of the wrong size
 *   other     I/O or engine errors
 * On failure @s is left empty and the next checkpoint rewrites everything.
 */
int kv_restore(struct kv_vol *v, struct kv_store *s, uint64_t *order);

#endif /* KV_STATE_H */
