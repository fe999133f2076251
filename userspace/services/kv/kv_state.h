/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_state.h - the kv service's abstract state on its state volume.
 *
 * Layout (Documentation/kv-service.rst, "Abstract state"), little-endian,
 * every area starting on a 4 KiB block:
 *
 *   [0, 4096)            header
 *   4096 + i * slot_size slot of key i, i = 0 .. records - 1
 *   journal_off          journal commit record (4096 bytes)
 *   journal_off + 4096   journal index: u32 key per entry
 *   entries_off          journal entries: one slot image per entry
 *   volume_size          end
 *
 * header:  0 u8[8] magic "VFKVSTAT"     8 u32 version (2)
 *         12 u32 header_size (4096)    16 u32 records
 *         20 u32 record_size           24 u32 slot_size
 *         28 u32 flags (0)             32 u64 order (last executed)
 *         40 u64 volume_size           48 u64 journal_off
 *         56 .. 4091 zero              4092 u32 crc32c of bytes 0 .. 4091
 * slot:    0 u32 present (0 or 1)       4 u32 len (<= record_size)
 *          8 value[len], then zeros to slot_size; an absent slot is all 0.
 * commit:  0 u8[8] magic "VFKVJRNL"     8 u32 version (2)
 *         12 u32 count (entries)       16 u64 order (of the checkpoint)
 *         24 u32 records               28 u32 record_size
 *         32 u64 data_crc: CRC-64/XZ of (key, entry) for each entry
 *         40 .. 4091 zero              4092 u32 crc32c of bytes 0 .. 4091
 *
 * A checkpoint writes the changed slots into the journal, then the commit
 * record, makes both durable, then writes the slots and the header in
 * place, makes them durable, and zeroes the journal. A committed journal
 * is replayed (idempotently) before anything else reads the volume, so a
 * crash at any point leaves the previous checkpoint or the new one.
 *
 * External journal (kv_vol_journal()): the commit record, index and
 * entries, same encoding, live in a file or device of their own from its
 * offset 0 (journal_off + x on the volume is x there), and the volume's
 * journal area is never written: it stays zero, so the volume's bytes are
 * those of an in-volume-journal replica at every checkpoint. Ordering
 * across the two devices (the invariant the crash rule needs):
 *   1. entries, index, commit record written, then fdatasync(journal);
 *   2. only then the in-place slots and header, then fdatasync(volume);
 *   3. only then the commit record is zeroed.
 * The external journal is not verified by recovery: kv_restore() (the
 * shadow's RESTORE of a verified volume) never replays it but zeroes it;
 * only kv_recover() (a replica back on its own volume) does.
 *
 * slot_size = 8 + record_size rounded up to a power of two when that is at
 * most 4096 (so no slot crosses a 4 KiB block boundary), else to a
 * multiple of 4096 (so a slot spans the fewest blocks it can).
 */
#ifndef KV_STATE_H
#define KV_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_engine.h"

#define KV_STATE_MAGIC		"VFKVSTAT"
#define KV_JRNL_MAGIC		"VFKVJRNL"
#define KV_STATE_VERSION	2u
#define KV_STATE_HDR_SIZE	4096u
#define KV_STATE_BLOCK		4096u
#define KV_SLOT_HDR_LEN		8u
#define KV_HDR_CRC_OFF		4092u

struct kv_geom {
	uint32_t records;
	uint32_t record_size;
	uint32_t slot_size;
	uint64_t data_end;	/* end of the slots, rounded up to a block */
	uint64_t journal_off;	/* commit record (== data_end) */
	uint64_t index_off;	/* journal index */
	uint64_t entries_off;	/* journal entries */
	uint64_t volume_size;
};

/*
 * Write hook, for tests: called before every write with its range and
 * bytes (@p NULL: zeros), and before every fdatasync with @p NULL and
 * @len 0 (@off: 0 for the volume's, journal_off for the journal's). The
 * journal's writes are reported at their in-volume offsets (journal_off +
 * their offset in the journal) whichever device holds it. A negative
 * return stops the writer there, as a crash would: the write (or sync)
 * does not happen and the checkpoint fails with it. A
 * positive return skips the write alone, as a device may lose a write
 * that was not yet followed by a sync.
 */
typedef int (*kv_vol_hook)(void *arg, uint64_t off, const uint8_t *p,
			   uint64_t len);

#ifdef KV_FAULT_INJECTION
/* Fault injection only: may alter a slot or header image before writing. */
typedef void (*kv_vol_mangler)(void *arg, uint8_t *buf, uint32_t len);
#endif

/* What the last restore or checkpoint found in the journal. */
enum kv_journal_found {
	KV_JOURNAL_EMPTY,	/* nothing: the volume was consistent */
	KV_JOURNAL_REPLAYED,	/* a committed checkpoint, now applied */
	KV_JOURNAL_DISCARDED,	/* an uncommitted (torn) one, now zeroed */
	KV_JOURNAL_UNTRUSTED,	/* RESTORE: an external one, zeroed */
};

/*
 * A checkpoint's in-memory copy: the slot images of the keys dirty at its
 * order, which a writer can put on the volume while the engine goes on.
 */
struct kv_snap {
	uint64_t order;
	uint32_t n, cap;	/* entries, room */
	uint32_t *keys;
	uint8_t *slots;		/* n slot images */
};

struct kv_vol {
	int fd;
	bool is_reg;		/* regular file (else block device) */
	bool jext;		/* the journal is on jfd, not in the volume */
	int jfd;		/* external journal (when jext) */
	bool synced;		/* volume == engine state minus dirty set */
	uint64_t order;		/* the volume's order, when synced */
	struct kv_geom g;
	uint8_t *buf;		/* scratch: whole slots, >= 1 MiB */
	uint32_t buf_size;
	uint8_t *slot;		/* scratch: one slot image */
	uint8_t *old;		/* scratch: a slot as on the volume */
	uint8_t *keys;		/* scratch: one block of journal index */
	uint8_t *ents;		/* scratch: journal entries to write */
	uint32_t ents_size;
	enum kv_journal_found found;
	uint64_t found_order;	/* the order of a replayed journal */
	uint64_t bytes_written;	/* statistics: every byte written */
	/*
	 * Slots the last checkpoint journalled and rewrote (a format: all):
	 * an incremental checkpoint's work, logged by the replica.
	 */
	uint32_t last_slots;
	struct kv_snap snap;	/* kv_checkpoint_begin()'s copy */
	kv_vol_hook hook;
	void *hook_arg;
#ifdef KV_FAULT_INJECTION
	kv_vol_mangler mangle;
	void *mangle_arg;
#endif
};

/* kv_geom_init - the layout for @lim; -EINVAL if it cannot be laid out. */
int kv_geom_init(struct kv_geom *g, const struct kv_limits *lim);

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
 * kv_vol_journal - keep the journal in @path (a regular file, created if
 * missing and sized to the journal, or a block device at least that big)
 * instead of the volume's journal area. Call after kv_vol_open(), before
 * anything else. -EINVAL: @path is the volume itself; -ENOSPC: a block
 * device too small; -ENOTBLK: neither a file nor a block device.
 */
int kv_vol_journal(struct kv_vol *v, const char *path);

/*
 * kv_checkpoint - make @s's state at @order the volume's, crash-safely.
 * When the volume is known to hold the previous checkpoint (or what was
 * restored), only the slots of dirty keys whose bytes differ from the
 * volume's are journalled and rewritten, with the header. Otherwise a
 * committed journal is replayed first; a volume that then holds a valid
 * image of this layout is compared slot by slot (the previous image stays
 * until the new one is committed), anything else is formatted: zeroed
 * (a block device over its whole size), the slots, the header. Clears the
 * dirty set on success. Returns 0 or a negative errno (-ENOSPC: a block
 * device smaller than volume_size).
 */
int kv_checkpoint(struct kv_vol *v, struct kv_store *s, uint64_t order);

/*
 * kv_checkpoint() in two halves, so that the engine may go on between them.
 * kv_checkpoint_begin - when the volume is known to hold the previous
 * checkpoint, copy the slot images of the dirty keys into v->snap, clear
 * the dirty set and return 1: kv_checkpoint_end() must then write them
 * (from any thread; it touches @v alone, and the engine is free as soon as
 * begin returns). Otherwise do the whole checkpoint now (0) or fail
 * (negative errno). While the volume is not synced (end failed or not yet
 * called) the next begin compares the whole engine with the volume.
 * kv_checkpoint_end - 0 or a negative errno, as kv_checkpoint().
 */
int kv_checkpoint_begin(struct kv_vol *v, struct kv_store *s,
			uint64_t order);
int kv_checkpoint_end(struct kv_vol *v);

/*
 * kv_restore - replay a committed journal (or zero an uncommitted one),
 * validate the volume and load it into @s (emptied first).
 * Returns 0 and the stored order in @order, or:
 *   -ENODATA  volume shorter than its layout (truncated)
 *   -EBADMSG  bad magic, version, header checksum, reserved field or
 *             slot (present not 0/1, len > record_size, nonzero padding),
 *             nonzero bytes after the last slot or past volume_size, a
 *             committed journal older than the header (stale: never
 *             replayed)
 *   -EINVAL   a well-formed volume for another configuration (records,
 *             record size) or a regular file of the wrong size
 *   other     I/O or engine errors
 * On failure @s is left empty and the next checkpoint starts over.
 * An external journal is not replayed, whatever it holds: the volume
 * (verified, captured after a finished checkpoint) is the state; its
 * commit record is zeroed, durably (v->found KV_JOURNAL_UNTRUSTED when
 * it held anything).
 */
int kv_restore(struct kv_vol *v, struct kv_store *s, uint64_t *order);

/*
 * kv_recover - kv_restore() of a volume this host's replicas wrote (crash
 * recovery: no verified copy to restore from), which replays a committed
 * external journal too. The same as kv_restore() without one.
 */
int kv_recover(struct kv_vol *v, struct kv_store *s, uint64_t *order);

#endif /* KV_STATE_H */
