/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lwlog - reader of a dm-log-writes log (the log device, or a copy of it).
 *
 * Format (little-endian), as written by drivers/md/dm-log-writes.c: the
 * first sector holds the super {u64 magic, u64 version, u64 nr_entries,
 * u32 sectorsize}; entries follow from byte sectorsize on, each a header
 * sector {u64 sector, u64 nr_sectors, u64 flags, u64 data_len} and, unless
 * it is a discard or a mark, nr_sectors data sectors. A mark's text
 * (data_len bytes) follows the header inside its sector. Sectors are in
 * the data device's logical block size (sectorsize).
 *
 * Functions return 0 (lw_next: 1 for an entry, 0 at the end) or -1 with a
 * message in lw->err naming the entry and byte offset.
 */
#ifndef LWLOG_H
#define LWLOG_H

#include <stdint.h>
#include <stdio.h>

#define LW_MAGIC 0x6a736677736872ULL
#define LW_VERSION 1

#define LW_FLUSH	1u
#define LW_FUA		2u
#define LW_DISCARD	4u
#define LW_MARK		8u
#define LW_METADATA	16u
#define LW_KNOWN_FLAGS	(LW_FLUSH | LW_FUA | LW_DISCARD | LW_MARK | LW_METADATA)

#define LW_HDR_BYTES 32
#define LW_MARK_MAX 256

struct lw_entry {
	uint64_t index;		/* 0-based position in the log */
	uint64_t sector;	/* in sectorsize units */
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;	/* mark text length */
	const uint8_t *data;	/* nr_sectors * sectorsize bytes, or NULL */
	char mark[LW_MARK_MAX];	/* NUL-terminated text of a mark */
};

struct lw_log {
	FILE *f;
	const char *path;
	uint64_t size;		/* bytes readable */
	uint32_t sectorsize;
	uint64_t nr_entries;
	uint64_t next;		/* index of the next entry */
	uint64_t pos;		/* its byte offset */
	uint8_t *buf;
	uint64_t buf_len;
	int headers_only;	/* lw_next skips the data (e->data NULL) */
	char err[512];
};

/* Open @path (file or block device) and validate its super. */
int lw_open(struct lw_log *lw, const char *path);
/* The next entry (its data stays valid until the next call). */
int lw_next(struct lw_log *lw, struct lw_entry *e);
void lw_close(struct lw_log *lw);

/* Bytes of the data device an entry covers. */
static inline uint64_t lw_entry_bytes(const struct lw_log *lw,
				      const struct lw_entry *e)
{
	return e->nr_sectors * lw->sectorsize;
}

/* "write", "flush", "fua", "flush+fua", "discard", "mark", ... */
const char *lw_flags_name(uint64_t flags, char *buf, size_t len);

#endif /* LWLOG_H */
