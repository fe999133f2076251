// SPDX-License-Identifier: GPL-2.0-only
/*
 * lwlog - reader of a dm-log-writes log; see lwlog.h for the format.
 */
#include "lwlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* Entries larger than this are refused as corrupt (a bio is far smaller). */
#define LW_MAX_ENTRY_BYTES (64ULL << 20)

static int lw_fail(struct lw_log *lw, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(lw->err, sizeof(lw->err), "%s: ", lw->path);
	va_start(ap, fmt);
	vsnprintf(lw->err + n, sizeof(lw->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int read_at(struct lw_log *lw, void *buf, uint64_t len, uint64_t off)
{
	if (off > lw->size || len > lw->size - off)
		return -1;
	if (fseeko(lw->f, (off_t)off, SEEK_SET) ||
	    fread(buf, 1, len, lw->f) != len)
		return -1;
	return 0;
}

int lw_open(struct lw_log *lw, const char *path)
{
	uint8_t super[LW_HDR_BYTES];
	struct stat st;
	uint64_t bytes, version, magic;
	int fd;

	memset(lw, 0, sizeof(*lw));
	lw->path = path;
	lw->f = fopen(path, "rb");
	if (!lw->f)
		return lw_fail(lw, "cannot open: %s", strerror(errno));
	fd = fileno(lw->f);
	if (fstat(fd, &st))
		return lw_fail(lw, "stat: %s", strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes))
			return lw_fail(lw, "BLKGETSIZE64: %s", strerror(errno));
		lw->size = bytes;
	} else {
		lw->size = (uint64_t)st.st_size;
	}
	if (read_at(lw, super, sizeof(super), 0))
		return lw_fail(lw, "truncated log: %" PRIu64
			       " bytes, the super needs %d", lw->size,
			       LW_HDR_BYTES);
	magic = get_le64(super);
	version = get_le64(super + 8);
	lw->nr_entries = get_le64(super + 16);
	lw->sectorsize = get_le32(super + 24);
	if (magic != LW_MAGIC)
		return lw_fail(lw, "bad magic %#" PRIx64 " (want %#llx): not a dm-log-writes log (was its first sector zeroed before the run?)",
			       magic, LW_MAGIC);
	if (version != LW_VERSION)
		return lw_fail(lw, "unsupported log version %" PRIu64
			       " (want %d)", version, LW_VERSION);
	if (lw->sectorsize < 512 || lw->sectorsize > 65536 ||
	    (lw->sectorsize & (lw->sectorsize - 1)))
		return lw_fail(lw, "bad sector size %" PRIu32, lw->sectorsize);
	lw->pos = lw->sectorsize;
	return 0;
}

void lw_close(struct lw_log *lw)
{
	if (lw->f)
		fclose(lw->f);
	free(lw->buf);
	lw->f = NULL;
	lw->buf = NULL;
}

int lw_next(struct lw_log *lw, struct lw_entry *e)
{
	uint64_t ss = lw->sectorsize, need, len;
	uint8_t *hdr;

	if (lw->next >= lw->nr_entries)
		return 0;
	if (lw->buf_len < ss) {
		free(lw->buf);
		lw->buf = malloc(ss);
		if (!lw->buf)
			return lw_fail(lw, "out of memory");
		lw->buf_len = ss;
	}
	hdr = lw->buf;
	if (read_at(lw, hdr, ss, lw->pos))
		return lw_fail(lw, "truncated log: entry %" PRIu64 " of %" PRIu64
			       " at byte %" PRIu64 " is past the end (%" PRIu64
			       " bytes)", lw->next, lw->nr_entries, lw->pos,
			       lw->size);
	memset(e, 0, sizeof(*e));
	e->index = lw->next;
	e->sector = get_le64(hdr);
	e->nr_sectors = get_le64(hdr + 8);
	e->flags = get_le64(hdr + 16);
	e->data_len = get_le64(hdr + 24);
	if (e->flags & ~(uint64_t)LW_KNOWN_FLAGS)
		return lw_fail(lw, "entry %" PRIu64 " at byte %" PRIu64
			       ": unknown flags %#" PRIx64, e->index, lw->pos,
			       e->flags);
	if (e->flags & LW_MARK) {
		if (e->data_len > ss - LW_HDR_BYTES ||
		    e->data_len >= LW_MARK_MAX)
			return lw_fail(lw, "entry %" PRIu64 " at byte %" PRIu64
				       ": mark text of %" PRIu64
				       " bytes does not fit its sector",
				       e->index, lw->pos, e->data_len);
		memcpy(e->mark, hdr + LW_HDR_BYTES, e->data_len);
		e->mark[e->data_len] = '\0';
	}
	need = ss;
	if (!(e->flags & (LW_MARK | LW_DISCARD)) && e->nr_sectors) {
		if (e->nr_sectors > LW_MAX_ENTRY_BYTES / ss)
			return lw_fail(lw, "entry %" PRIu64 " at byte %" PRIu64
				       ": %" PRIu64 " sectors is not a plausible write",
				       e->index, lw->pos, e->nr_sectors);
		len = e->nr_sectors * ss;
		if (lw->headers_only) {
			if (lw->pos + ss + len > lw->size)
				return lw_fail(lw, "truncated log: the data of entry %"
					       PRIu64 " (%" PRIu64 " bytes at byte %"
					       PRIu64 ") is past the end (%" PRIu64
					       " bytes)", e->index, len,
					       lw->pos + ss, lw->size);
			lw->pos += ss + len;
			lw->next++;
			return 1;
		}
		if (lw->buf_len < len) {
			free(lw->buf);
			lw->buf = malloc(len);
			if (!lw->buf) {
				lw->buf_len = 0;
				return lw_fail(lw, "out of memory");
			}
			lw->buf_len = len;
		}
		if (read_at(lw, lw->buf, len, lw->pos + ss))
			return lw_fail(lw, "truncated log: the data of entry %"
				       PRIu64 " (%" PRIu64 " bytes at byte %"
				       PRIu64 ") is past the end (%" PRIu64
				       " bytes)", e->index, len, lw->pos + ss,
				       lw->size);
		e->data = lw->buf;
		need += len;
	}
	lw->pos += need;
	lw->next++;
	return 1;
}

const char *lw_flags_name(uint64_t flags, char *buf, size_t len)
{
	static const char *const names[] = {
		"flush", "fua", "discard", "mark", "metadata"
	};
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
					      "%s%s", n ? "+" : "", names[i]);
	if (!n)
		snprintf(buf, len, "write");
	return buf;
}
