// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_state.c - checkpoint and restore of the kv abstract state.
 * The layout is in kv_state.h and Documentation/kv-service.rst.
 *
 * Crash rule: the slots and the header are only ever rewritten in place
 * while a committed journal holds their new bytes, and the journal is only
 * ever rewritten while the in-place image is complete. So at any point the
 * volume holds either a complete in-place image (journal empty, torn or
 * already applied) or a committed journal that completes it. With an
 * external journal each "durable" is the fdatasync of the device written
 * (kv_state.h): the journal's before the in-place writes, the volume's
 * before the journal is rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_state.h"
#include "vf_crc.h"

/* Restore reads the data area in runs of slots of about this size. */
#define KV_IO_CHUNK	(1u << 20)
/* The largest volume we lay out: 1 TiB. */
#define KV_MAX_VOLUME	(1ull << 40)
/* Journal index entries per index block. */
#define KV_KEYS_PER_BLOCK	(KV_STATE_BLOCK / 4)

static uint64_t kv_round_block(uint64_t n)
{
	return (n + KV_STATE_BLOCK - 1) / KV_STATE_BLOCK * KV_STATE_BLOCK;
}

/*
 *------------------------------------------------------------------
 * Layout
 *------------------------------------------------------------------
 */

int kv_geom_init(struct kv_geom *g, const struct kv_limits *lim)
{
	uint64_t data, slots;
	uint32_t raw, slot;

	if (kv_limits_check(lim))
		return -EINVAL;
	raw = KV_SLOT_HDR_LEN + lim->record_size;
	if (raw <= KV_STATE_BLOCK) {
		slot = 16;
		while (slot < raw)
			slot <<= 1;
	} else {
		slot = kv_round_block(raw);
	}
	slots = (uint64_t)lim->records * slot;
	data = kv_round_block(KV_STATE_HDR_SIZE + slots);
	g->records = lim->records;
	g->record_size = lim->record_size;
	g->slot_size = slot;
	g->data_end = data;
	/* the journal can hold every slot: any checkpoint fits in one */
	g->journal_off = data;
	g->index_off = data + KV_STATE_BLOCK;
	g->entries_off = g->index_off + kv_round_block(4ull * lim->records);
	g->volume_size = g->entries_off + kv_round_block(slots);
	if (g->volume_size > KV_MAX_VOLUME)
		return -EINVAL;
	return 0;
}

void kv_hdr_encode(uint8_t *hdr, const struct kv_geom *g, uint64_t order)
{
	memset(hdr, 0, KV_STATE_HDR_SIZE);
	memcpy(hdr, KV_STATE_MAGIC, 8);
	kv_put_le32(hdr + 8, KV_STATE_VERSION);
	kv_put_le32(hdr + 12, KV_STATE_HDR_SIZE);
	kv_put_le32(hdr + 16, g->records);
	kv_put_le32(hdr + 20, g->record_size);
	kv_put_le32(hdr + 24, g->slot_size);
	kv_put_le32(hdr + 28, 0);
	kv_put_le64(hdr + 32, order);
	kv_put_le64(hdr + 40, g->volume_size);
	kv_put_le64(hdr + 48, g->journal_off);
	kv_put_le32(hdr + KV_HDR_CRC_OFF, vf_crc32c(0, hdr, KV_HDR_CRC_OFF));
}

static bool kv_all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * Validate a header image against the configured geometry.
 * Returns 0 and the order, or -EBADMSG / -EINVAL as kv_restore().
 */
static int kv_hdr_decode(const uint8_t *hdr, const struct kv_geom *g,
			 uint64_t *order)
{
	if (memcmp(hdr, KV_STATE_MAGIC, 8))
		return -EBADMSG;
	if (kv_get_le32(hdr + KV_HDR_CRC_OFF) !=
	    vf_crc32c(0, hdr, KV_HDR_CRC_OFF))
		return -EBADMSG;
	if (kv_get_le32(hdr + 8) != KV_STATE_VERSION ||
	    kv_get_le32(hdr + 12) != KV_STATE_HDR_SIZE ||
	    kv_get_le32(hdr + 28) != 0 ||
	    !kv_all_zero(hdr + 56, KV_HDR_CRC_OFF - 56))
		return -EBADMSG;
	if (kv_get_le32(hdr + 16) != g->records ||
	    kv_get_le32(hdr + 20) != g->record_size)
		return -EINVAL;
	/* derived fields: a mismatch means a forged or broken header */
	if (kv_get_le32(hdr + 24) != g->slot_size ||
	    kv_get_le64(hdr + 40) != g->volume_size ||
	    kv_get_le64(hdr + 48) != g->journal_off)
		return -EBADMSG;
	*order = kv_get_le64(hdr + 32);
	return 0;
}

static void kv_commit_encode(uint8_t *c, const struct kv_geom *g,
			     uint32_t count, uint64_t order, uint64_t data_crc)
{
	memset(c, 0, KV_STATE_BLOCK);
	memcpy(c, KV_JRNL_MAGIC, 8);
	kv_put_le32(c + 8, KV_STATE_VERSION);
	kv_put_le32(c + 12, count);
	kv_put_le64(c + 16, order);
	kv_put_le32(c + 24, g->records);
	kv_put_le32(c + 28, g->record_size);
	kv_put_le64(c + 32, data_crc);
	kv_put_le32(c + KV_HDR_CRC_OFF, vf_crc32c(0, c, KV_HDR_CRC_OFF));
}

/* A commit record of this layout? 0, or -EBADMSG (not committed). */
static int kv_commit_decode(const uint8_t *c, const struct kv_geom *g,
			    uint32_t *count, uint64_t *order,
			    uint64_t *data_crc)
{
	if (memcmp(c, KV_JRNL_MAGIC, 8) ||
	    kv_get_le32(c + KV_HDR_CRC_OFF) !=
	    vf_crc32c(0, c, KV_HDR_CRC_OFF) ||
	    kv_get_le32(c + 8) != KV_STATE_VERSION ||
	    kv_get_le32(c + 12) > g->records ||
	    kv_get_le32(c + 24) != g->records ||
	    kv_get_le32(c + 28) != g->record_size ||
	    !kv_all_zero(c + 40, KV_HDR_CRC_OFF - 40))
		return -EBADMSG;
	*count = kv_get_le32(c + 12);
	*order = kv_get_le64(c + 16);
	*data_crc = kv_get_le64(c + 32);
	return 0;
}

/* A slot image in canonical form? 0 or -EBADMSG. */
static int kv_slot_check(const struct kv_geom *g, const uint8_t *slot)
{
	uint32_t present = kv_get_le32(slot), len = kv_get_le32(slot + 4);

	if (present > 1 || len > g->record_size || (!present && len))
		return -EBADMSG;
	if (!kv_all_zero(slot + KV_SLOT_HDR_LEN + len,
			 g->slot_size - KV_SLOT_HDR_LEN - len))
		return -EBADMSG;
	return 0;
}

static uint64_t kv_slot_off(const struct kv_geom *g, uint32_t key)
{
	return KV_STATE_HDR_SIZE + (uint64_t)key * g->slot_size;
}

/*
 *------------------------------------------------------------------
 * Volume I/O
 *------------------------------------------------------------------
 */

int kv_vol_open(struct kv_vol *v, const char *path,
		const struct kv_limits *lim)
{
	struct stat st;
	uint32_t chunk;
	int r;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->jfd = -1;
	r = kv_geom_init(&v->g, lim);
	if (r)
		return r;
	v->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (v->fd < 0)
		return -errno;
	if (fstat(v->fd, &st)) {
		r = -errno;
		goto bad;
	}
	if (S_ISREG(st.st_mode)) {
		v->is_reg = true;
	} else if (!S_ISBLK(st.st_mode)) {
		r = -ENOTBLK;
		goto bad;
	}
	/* room for the header, and for a whole number of slots >= 1 MiB */
	chunk = v->g.slot_size;
	if (chunk < KV_IO_CHUNK)
		chunk = KV_IO_CHUNK / chunk * chunk;
	v->buf_size = chunk;
	v->ents_size = chunk;
	v->buf = malloc(chunk);
	v->ents = malloc(chunk);
	v->slot = malloc(v->g.slot_size);
	v->old = malloc(v->g.slot_size);
	v->keys = malloc(KV_STATE_BLOCK);
	if (!v->buf || !v->ents || !v->slot || !v->old || !v->keys) {
		r = -ENOMEM;
		goto bad;
	}
	return 0;
bad:
	kv_vol_close(v);
	return r;
}

void kv_vol_close(struct kv_vol *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (v->jext)
		close(v->jfd);
	v->jext = false;
	v->jfd = -1;
	free(v->buf);
	free(v->ents);
	free(v->slot);
	free(v->old);
	free(v->keys);
	free(v->snap.keys);
	free(v->snap.slots);
	memset(&v->snap, 0, sizeof(v->snap));
	v->buf = NULL;
	v->ents = NULL;
	v->slot = NULL;
	v->old = NULL;
	v->keys = NULL;
}

static int kv_fd_size(int fd, bool is_reg, uint64_t *size)
{
	struct stat st;

	if (is_reg) {
		if (fstat(fd, &st))
			return -errno;
		*size = st.st_size;
		return 0;
	}
	if (ioctl(fd, BLKGETSIZE64, size))
		return -errno;
	return 0;
}

static int kv_vol_size(struct kv_vol *v, uint64_t *size)
{
	return kv_fd_size(v->fd, v->is_reg, size);
}

int kv_vol_journal(struct kv_vol *v, const char *path)
{
	uint64_t need = v->g.volume_size - v->g.journal_off, size;
	struct stat st, vst;
	int fd, r;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || fstat(v->fd, &vst)) {
		r = -errno;
		goto bad;
	}
	r = -EINVAL;
	if (st.st_mode == vst.st_mode &&
	    (S_ISBLK(st.st_mode) ? st.st_rdev == vst.st_rdev :
	     st.st_dev == vst.st_dev && st.st_ino == vst.st_ino))
		goto bad;
	r = -ENOTBLK;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		goto bad;
	r = kv_fd_size(fd, S_ISREG(st.st_mode), &size);
	if (r)
		goto bad;
	/* a file is the journal's alone: sized to it (zeros when new) */
	if (S_ISREG(st.st_mode) && size != need &&
	    ftruncate(fd, (off_t)need)) {
		r = -errno;
		goto bad;
	}
	r = -ENOSPC;
	if (!S_ISREG(st.st_mode) && size < need)
		goto bad;
	v->jfd = fd;
	v->jext = true;
	return 0;
bad:
	close(fd);
	return r;
}

/*
 * The I/O below takes in-volume offsets; @jrn: the access is to the
 * journal, which an external journal holds at @off - journal_off.
 */
static int kv_io_fd(const struct kv_vol *v, bool jrn, uint64_t *off)
{
	if (!jrn || !v->jext)
		return v->fd;
	*off -= v->g.journal_off;
	return v->jfd;
}

static int kv_io_write(struct kv_vol *v, bool jrn, const uint8_t *p,
		       size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t w;
	int r, fd;

	if (v->hook) {
		r = v->hook(v->hook_arg, off, p, n);
		if (r > 0)
			return 0;
		if (r)
			return r;
	}
	fd = kv_io_fd(v, jrn, &off);
	while (done < n) {
		w = pwrite(fd, p + done, n - done, (off_t)(off + done));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += w;
		v->bytes_written += w;
	}
	return 0;
}

static int kv_pwrite(struct kv_vol *v, const uint8_t *p, size_t n,
		     uint64_t off)
{
	return kv_io_write(v, false, p, n, off);
}

static int kv_jpwrite(struct kv_vol *v, const uint8_t *p, size_t n,
		      uint64_t off)
{
	return kv_io_write(v, true, p, n, off);
}

/* The barrier between what is committed and what relies on it. */
static int kv_io_sync(struct kv_vol *v, bool jrn)
{
	uint64_t off = jrn ? v->g.journal_off : 0;
	int r;

	if (v->hook) {
		r = v->hook(v->hook_arg, off, NULL, 0);
		if (r > 0)
			return 0;
		if (r)
			return r;
	}
	if (fdatasync(kv_io_fd(v, jrn, &off)))
		return -errno;
	return 0;
}

static int kv_sync(struct kv_vol *v)
{
	return kv_io_sync(v, false);
}

static int kv_jsync(struct kv_vol *v)
{
	return kv_io_sync(v, true);
}

/* Read exactly @n bytes; -ENODATA at end of volume. */
static int kv_io_read(struct kv_vol *v, bool jrn, uint8_t *p, size_t n,
		      uint64_t off)
{
	size_t done = 0;
	ssize_t r;
	int fd = kv_io_fd(v, jrn, &off);

	while (done < n) {
		r = pread(fd, p + done, n - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!r)
			return -ENODATA;
		done += r;
	}
	return 0;
}

static int kv_pread(struct kv_vol *v, uint8_t *p, size_t n, uint64_t off)
{
	return kv_io_read(v, false, p, n, off);
}

static int kv_jpread(struct kv_vol *v, uint8_t *p, size_t n, uint64_t off)
{
	return kv_io_read(v, true, p, n, off);
}

/* Write zeros over [@off, @off + @len) (@jrn: of the journal). */
static int kv_zero(struct kv_vol *v, bool jrn, uint64_t off, uint64_t len)
{
	uint64_t n;
	int r;

	memset(v->buf, 0, v->buf_size);
	for (; len; off += n, len -= n) {
		n = len < v->buf_size ? len : v->buf_size;
		r = kv_io_write(v, jrn, v->buf, n, off);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Make [@off, @off + @len) zero, writing only the blocks that are not (so
 * a clean area adds nothing to the target's changed set). Sets *@any when
 * something was written. Uses v->buf.
 */
static int kv_zero_nonzero(struct kv_vol *v, bool jrn, uint64_t off,
			   uint64_t len, bool *any)
{
	uint64_t n, i, b;
	int r;

	for (; len; off += n, len -= n) {
		n = len < v->buf_size ? len : v->buf_size;
		r = kv_io_read(v, jrn, v->buf, n, off);
		if (r)
			return r;
		for (i = 0; i < n; i += b) {
			b = n - i < KV_STATE_BLOCK ? n - i : KV_STATE_BLOCK;
			if (kv_all_zero(v->buf + i, b))
				continue;
			*any = true;
			memset(v->buf + i, 0, b);
			r = kv_io_write(v, jrn, v->buf + i, b, off + i);
			if (r)
				return r;
		}
	}
	return 0;
}

/* Are [@off, @off + @len) all zero? 0, -EBADMSG or an I/O error. */
static int kv_check_zero(struct kv_vol *v, uint64_t off, uint64_t len)
{
	uint64_t n;
	int r;

	for (; len; off += n, len -= n) {
		n = len < v->buf_size ? len : v->buf_size;
		r = kv_pread(v, v->buf, n, off);
		if (r)
			return r;
		if (!kv_all_zero(v->buf, n))
			return -EBADMSG;
	}
	return 0;
}

/*
 *------------------------------------------------------------------
 * Journal
 *------------------------------------------------------------------
 */

/*
 * Walk the @count entries of the journal in batches. Without @apply:
 * check the keys and slot images and fold them into *@crc (the data CRC
 * of the commit record). With @apply: write each entry over its slot.
 * Uses v->keys and v->buf.
 */
static int kv_journal_walk(struct kv_vol *v, uint32_t count, bool apply,
			   uint64_t *crc)
{
	const struct kv_geom *g = &v->g;
	uint32_t per = v->buf_size / g->slot_size, i, j, n, key;
	const uint8_t *ent;
	uint64_t eoff;
	int r;

	if (per > KV_KEYS_PER_BLOCK)
		per = KV_KEYS_PER_BLOCK;
	for (i = 0; i < count; i += n) {
		n = count - i < per ? count - i : per;
		eoff = g->entries_off + (uint64_t)i * g->slot_size;
		r = kv_jpread(v, v->keys, 4 * n, g->index_off + 4ull * i);
		if (!r)
			r = kv_jpread(v, v->buf, (size_t)n * g->slot_size,
				      eoff);
		if (r)
			return r;
		for (j = 0; j < n; j++) {
			key = kv_get_le32(v->keys + 4 * j);
			ent = v->buf + (size_t)j * g->slot_size;
			if (apply) {
				r = kv_pwrite(v, ent, g->slot_size,
					      kv_slot_off(g, key));
				if (r)
					return r;
				continue;
			}
			if (key >= g->records || kv_slot_check(g, ent))
				return -EBADMSG;
			*crc = vf_crc64_xz(*crc, v->keys + 4 * j, 4);
			*crc = vf_crc64_xz(*crc, ent, g->slot_size);
		}
	}
	return 0;
}

/*
 * Apply a committed journal: its entries and the header of @order in
 * place, durably; then zero the journal, which makes it empty again (a
 * crash before the zeros are durable leaves a journal that replays to the
 * same image, or a torn one next to a complete image).
 */
static int kv_journal_apply(struct kv_vol *v, uint32_t count, uint64_t order,
			    bool mangle)
{
	const struct kv_geom *g = &v->g;
	int r;

	r = kv_journal_walk(v, count, true, NULL);
	if (r)
		return r;
	kv_hdr_encode(v->buf, g, order);
#ifdef KV_FAULT_INJECTION
	if (mangle && v->mangle)
		v->mangle(v->mangle_arg, v->buf, KV_STATE_HDR_SIZE);
#else
	(void)mangle;
#endif
	r = kv_pwrite(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (!r)
		r = kv_sync(v);
	if (!r)
		r = kv_zero(v, true, g->journal_off, KV_STATE_BLOCK);
	if (!r)
		r = kv_zero(v, true, g->index_off,
			    kv_round_block(4ull * count));
	if (!r)
		r = kv_zero(v, true, g->entries_off,
			    (uint64_t)count * g->slot_size);
	if (r)
		return r;
	v->order = order;
	return 0;
}

/*
 * Bring a volume of at least volume_size bytes to a complete in-place
 * image: replay a committed journal, or zero an uncommitted one. A
 * journal area is only written when its commit record or the header
 * belongs to this layout: a volume of another configuration is left
 * alone. Records what it did in v->found. @restoring: a committed journal
 * older than the header is refused (-EBADMSG). Returns 0 or an error.
 */
static int kv_journal_recover(struct kv_vol *v, bool restoring)
{
	const struct kv_geom *g = &v->g;
	uint64_t order, want, hdr_order, crc = 0;
	uint32_t count;
	bool any = false;
	int r;

	v->found = KV_JOURNAL_EMPTY;
	r = kv_jpread(v, v->buf, KV_STATE_BLOCK, g->journal_off);
	if (r)
		return r;
	if (!kv_commit_decode(v->buf, g, &count, &order, &want)) {
		r = kv_journal_walk(v, count, false, &crc);
		if (r && r != -EBADMSG)
			return r;
		if (!r && crc == want && restoring) {
			/*
			 * A journal older than the in-place header is not
			 * the last checkpoint's: replayed it would move the
			 * slots back, discarded it might leave a half
			 * applied image. A restored volume holds the
			 * verified state, whose journal is empty: refuse.
			 */
			r = kv_pread(v, v->buf, KV_STATE_HDR_SIZE, 0);
			if (r)
				return r;
			if (!kv_hdr_decode(v->buf, g, &hdr_order) &&
			    order < hdr_order)
				return -EBADMSG;
		}
		if (!r && crc == want) {
			r = kv_journal_apply(v, count, order, false);
			if (r)
				return r;
			v->found = KV_JOURNAL_REPLAYED;
			v->found_order = order;
			return 0;
		}
	}
	/* not committed: zero it, if the in-place image is of this layout */
	r = kv_pread(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (r)
		return r;
	if (kv_hdr_decode(v->buf, g, &order))
		return 0;
	r = kv_zero_nonzero(v, true, g->journal_off,
			    g->volume_size - g->journal_off, &any);
	if (r)
		return r;
	if (any)
		v->found = KV_JOURNAL_DISCARDED;
	return 0;
}

/* The journal being written by a checkpoint. */
struct kv_jw {
	struct kv_vol *v;
	uint32_t n;		/* entries so far */
	uint32_t nbuf;		/* of which buffered in v->ents */
	uint64_t crc;		/* data CRC so far */
};

/* Write the buffered entries and the current (partial) index block. */
static int kv_jw_flush(struct kv_jw *w)
{
	struct kv_vol *v = w->v;
	const struct kv_geom *g = &v->g;
	uint32_t first = w->n - w->nbuf;
	int r;

	if (!w->nbuf)
		return 0;
	r = kv_jpwrite(v, v->ents, (size_t)w->nbuf * g->slot_size,
		       g->entries_off + (uint64_t)first * g->slot_size);
	if (r)
		return r;
	w->nbuf = 0;
	return 0;
}

static int kv_jw_flush_keys(struct kv_jw *w)
{
	struct kv_vol *v = w->v;
	uint32_t blk = (w->n - 1) / KV_KEYS_PER_BLOCK;
	int r;

	r = kv_jpwrite(v, v->keys, KV_STATE_BLOCK,
		       v->g.index_off + (uint64_t)blk * KV_STATE_BLOCK);
	memset(v->keys, 0, KV_STATE_BLOCK);
	return r;
}

/* Journal the slot image @slot of @key. */
static int kv_jw_add(struct kv_jw *w, uint32_t key, const uint8_t *slot)
{
	struct kv_vol *v = w->v;
	uint32_t ss = v->g.slot_size;
	uint8_t *k = v->keys + 4 * (w->n % KV_KEYS_PER_BLOCK);
	int r;

	kv_put_le32(k, key);
	w->crc = vf_crc64_xz(w->crc, k, 4);
	w->crc = vf_crc64_xz(w->crc, slot, ss);
	memcpy(v->ents + (size_t)w->nbuf * ss, slot, ss);
	w->n++;
	w->nbuf++;
	if (w->n % KV_KEYS_PER_BLOCK == 0) {
		r = kv_jw_flush_keys(w);
		if (r)
			return r;
	}
	if ((w->nbuf + 1) * (uint64_t)ss > v->ents_size)
		return kv_jw_flush(w);
	return 0;
}

/* Write the rest of the journal, then the commit record, durably. */
static int kv_jw_commit(struct kv_jw *w, uint64_t order)
{
	struct kv_vol *v = w->v;
	int r;

	r = kv_jw_flush(w);
	if (!r && w->n % KV_KEYS_PER_BLOCK)
		r = kv_jw_flush_keys(w);
	if (r)
		return r;
	/*
	 * One barrier covers the data and the commit record: the data CRC
	 * in the record tells a record that reached the medium without
	 * all of its data from a committed one.
	 */
	kv_commit_encode(v->buf, &v->g, w->n, order, w->crc);
	r = kv_jpwrite(v, v->buf, KV_STATE_BLOCK, v->g.journal_off);
	if (!r)
		r = kv_jsync(v);
	return r;
}

/*
 *------------------------------------------------------------------
 * Checkpoint
 *------------------------------------------------------------------
 */

/* The slot image of a record (or of an absent one: @val NULL) in v->slot. */
static void kv_slot_encode(struct kv_vol *v, const uint8_t *val,
			   uint32_t len)
{
	uint8_t *slot = v->slot;

	memset(slot, 0, v->g.slot_size);
	if (val) {
		kv_put_le32(slot, 1);
		kv_put_le32(slot + 4, len);
		memcpy(slot + KV_SLOT_HDR_LEN, val, len);
	}
#ifdef KV_FAULT_INJECTION
	if (v->mangle && val)
		v->mangle(v->mangle_arg, slot, v->g.slot_size);
#endif
}

/*
 * A dirty record: copy its slot image into the checkpoint's in-memory copy
 * (v->snap), growing it as needed.
 */
static int kv_snap_add(void *arg, uint32_t key, const uint8_t *val,
		       uint32_t len)
{
	struct kv_vol *v = arg;
	struct kv_snap *sn = &v->snap;
	uint32_t ss = v->g.slot_size, cap;
	uint32_t *keys;
	uint8_t *slots;

	if (key >= v->g.records || len > v->g.record_size)
		return -EIO;
	if (sn->n == sn->cap) {
		cap = sn->cap ? sn->cap * 2 : 256;
		if (cap > v->g.records)
			cap = v->g.records;
		keys = realloc(sn->keys, (size_t)cap * sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		sn->keys = keys;
		slots = realloc(sn->slots, (size_t)cap * ss);
		if (!slots)
			return -ENOMEM;
		sn->slots = slots;
		sn->cap = cap;
	}
	kv_slot_encode(v, val, len);
	sn->keys[sn->n] = key;
	memcpy(sn->slots + (size_t)sn->n * ss, v->slot, ss);
	sn->n++;
	return 0;
}

/*
 * Journal each copied slot unless the volume already holds these bytes.
 * The target counts written chunks, not changed bytes: a read is cheaper
 * than a chunk to transfer and verify at the next recovery.
 */
static int kv_snap_journal(struct kv_jw *w)
{
	struct kv_vol *v = w->v;
	uint32_t ss = v->g.slot_size, i;
	const uint8_t *slot;
	int r;

	for (i = 0; i < v->snap.n; i++) {
		slot = v->snap.slots + (size_t)i * ss;
		r = kv_pread(v, v->old, ss,
			     kv_slot_off(&v->g, v->snap.keys[i]));
		if (r)
			return r;
		if (!memcmp(v->old, slot, ss))
			continue;
		r = kv_jw_add(w, v->snap.keys[i], slot);
		if (r)
			return r;
	}
	return 0;
}

/*
 * The volume holds a valid image of unknown content (a replica that did
 * not restore, or after a failed checkpoint): journal every slot that
 * differs from the engine's record.
 */
static int kv_ckpt_diff(struct kv_jw *w, struct kv_store *s)
{
	struct kv_vol *v = w->v;
	const struct kv_geom *g = &v->g;
	uint32_t per = v->buf_size / g->slot_size, key, n, i, len;
	int r;

	for (key = 0; key < g->records; key += n) {
		n = g->records - key < per ? g->records - key : per;
		r = kv_pread(v, v->buf, (size_t)n * g->slot_size,
			     kv_slot_off(g, key));
		if (r)
			return r;
		for (i = 0; i < n; i++) {
			r = s->ops->get(s->e, key + i, v->old, &len);
			if (r && r != -ENOENT)
				return r;
			if (!r && len > g->record_size)
				return -EIO;
			kv_slot_encode(v, r ? NULL : v->old, len);
			if (!memcmp(v->buf + (size_t)i * g->slot_size, v->slot,
				    g->slot_size))
				continue;
			r = kv_jw_add(w, key + i, v->slot);
			if (r)
				return r;
		}
	}
	return 0;
}

/* Format: write a present record's slot straight in place. */
static int kv_format_slot(void *arg, uint32_t key, const uint8_t *val,
			  uint32_t len)
{
	struct kv_vol *v = arg;

	if (key >= v->g.records || len > v->g.record_size)
		return -EIO;
	kv_slot_encode(v, val, len);
	return kv_pwrite(v, v->slot, v->g.slot_size, kv_slot_off(&v->g, key));
}

/*
 * Format a volume that holds no image of this layout (nothing to keep):
 * all zero (a block device over its whole size, so the bytes past the
 * state are defined), the slots, durably, then the header, durably. A
 * crash leaves no valid header, which restore refuses.
 */
static int kv_format(struct kv_vol *v, struct kv_store *s, uint64_t size,
		     uint64_t order)
{
	int r;

	/*
	 * An external journal may hold a committed journal of an older
	 * volume: void it durably first, or a crash before the header is
	 * whole would replay it over the new image.
	 */
	if (v->jext) {
		r = kv_zero(v, true, v->g.journal_off, KV_STATE_BLOCK);
		if (!r)
			r = kv_jsync(v);
		if (r)
			return r;
	}
	if (v->is_reg) {
		if (v->hook) {
			r = v->hook(v->hook_arg, 0, NULL, v->g.volume_size);
			if (r < 0)
				return r;
		}
		if (ftruncate(v->fd, 0) ||
		    ftruncate(v->fd, (off_t)v->g.volume_size))
			return -errno;
	} else {
		r = kv_zero(v, false, 0, size);
		if (r)
			return r;
	}
	r = s->ops->iterate(s->e, false, kv_format_slot, v);
	if (!r)
		r = kv_sync(v);
	if (r)
		return r;
	kv_hdr_encode(v->buf, &v->g, order);
#ifdef KV_FAULT_INJECTION
	if (v->mangle)
		v->mangle(v->mangle_arg, v->buf, KV_STATE_HDR_SIZE);
#endif
	r = kv_pwrite(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (!r)
		r = kv_sync(v);
	if (!r)
		v->order = order;
	return r;
}

/*
 * Before the first checkpoint onto a volume of unknown content: complete
 * it (journal recovery), and tell whether it holds a valid image of this
 * layout (*@valid, with its order in v->order), whose stray bytes outside
 * the slots are then zeroed. -ENOSPC: a block device too small.
 */
static int kv_ckpt_prepare(struct kv_vol *v, uint64_t *size, bool *valid)
{
	const struct kv_geom *g = &v->g;
	uint64_t order, end;
	bool any = false;
	int r;

	*valid = false;
	r = kv_vol_size(v, size);
	if (r)
		return r;
	if (!v->is_reg && *size < g->volume_size)
		return -ENOSPC;
	if (*size < g->volume_size ||
	    (v->is_reg && *size != g->volume_size))
		return 0;
	r = kv_journal_recover(v, false);
	if (r)
		return r;
	r = kv_pread(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (r)
		return r;
	if (kv_hdr_decode(v->buf, g, &order))
		return 0;
	end = kv_slot_off(g, g->records);
	r = kv_zero_nonzero(v, false, end, g->data_end - end, &any);
	/*
	 * With an external journal the volume's journal area must be zero
	 * (restore checks it): left over only from a replica that ran with
	 * the in-volume journal (switch after a clean stop, kv-service.rst).
	 */
	if (!r && v->jext)
		r = kv_zero_nonzero(v, false, g->journal_off,
				    g->volume_size - g->journal_off, &any);
	if (!r && !v->is_reg)
		r = kv_zero_nonzero(v, false, g->volume_size,
				    *size - g->volume_size, &any);
	if (r)
		return r;
	v->order = order;
	*valid = true;
	return 0;
}

/*
 * Commit the journal @w gathered for a checkpoint at @order and apply it
 * in place; nothing when nothing changed, not even the order (the volume
 * is the state already).
 */
static int kv_jw_finish(struct kv_jw *w, uint64_t order)
{
	struct kv_vol *v = w->v;
	int r;

	if (!w->n && order == v->order)
		return 0;
	v->last_slots = w->n;
	r = kv_jw_commit(w, order);
	return r ? r : kv_journal_apply(v, w->n, order, true);
}

int kv_checkpoint_begin(struct kv_vol *v, struct kv_store *s,
			uint64_t order)
{
	struct kv_jw w = { .v = v };
	bool valid = true;
	uint64_t size;
	int r;

	v->found = KV_JOURNAL_EMPTY;
	v->last_slots = 0;
	v->snap.n = 0;
	v->snap.order = order;
	if (v->synced) {
		/* whatever happens now, the volume is unknown until
		 * kv_checkpoint_end() succeeds */
		v->synced = false;
		r = s->ops->iterate(s->e, true, kv_snap_add, v);
		if (!r)
			r = s->ops->clean(s->e);
		return r ? r : 1;
	}
	r = kv_ckpt_prepare(v, &size, &valid);
	if (r)
		return r;
	if (!valid) {
		v->last_slots = v->g.records;
		r = kv_format(v, s, size, order);
		if (r)
			return r;
		goto done;
	}
	memset(v->keys, 0, KV_STATE_BLOCK);
	r = kv_ckpt_diff(&w, s);
	if (!r)
		r = kv_jw_finish(&w, order);
	if (r)
		return r;
done:
	r = s->ops->clean(s->e);
	if (r)
		return r;
	v->synced = true;
	return 0;
}

int kv_checkpoint_end(struct kv_vol *v)
{
	struct kv_jw w = { .v = v };
	uint64_t order = v->snap.order;
	int r;

	memset(v->keys, 0, KV_STATE_BLOCK);
	r = kv_snap_journal(&w);
	if (!r)
		r = kv_jw_finish(&w, order);
	if (r)
		return r;
	v->synced = true;
	return 0;
}

int kv_checkpoint(struct kv_vol *v, struct kv_store *s, uint64_t order)
{
	int r = kv_checkpoint_begin(v, s, order);

	return r == 1 ? kv_checkpoint_end(v) : r;
}

/*
 *------------------------------------------------------------------
 * Restore
 *------------------------------------------------------------------
 */

/* Check and load the slots in v->buf, the first of which is @key. */
static int kv_load_slots(struct kv_vol *v, struct kv_store *s, uint32_t key,
			 uint32_t nslots)
{
	const uint8_t *slot = v->buf;
	uint32_t i;
	int r;

	for (i = 0; i < nslots; i++, slot += v->g.slot_size) {
		if (kv_slot_check(&v->g, slot))
			return -EBADMSG;
		if (!kv_get_le32(slot))
			continue;
		r = s->ops->load(s->e, key + i, slot + KV_SLOT_HDR_LEN,
				 kv_get_le32(slot + 4));
		if (r)
			return r;
	}
	return 0;
}

static int kv_restore_slots(struct kv_vol *v, struct kv_store *s,
			    uint64_t size)
{
	const struct kv_geom *g = &v->g;
	uint32_t per = v->buf_size / g->slot_size;
	uint32_t key, n;
	uint64_t off;
	int r;

	for (key = 0; key < g->records; key += n) {
		n = g->records - key;
		if (n > per)
			n = per;
		r = kv_pread(v, v->buf, (size_t)n * g->slot_size,
			     kv_slot_off(g, key));
		if (r)
			return r;
		r = kv_load_slots(v, s, key, n);
		if (r)
			return r;
	}
	/*
	 * Zero: the rounding up to a whole block after the last slot, the
	 * journal (empty after recovery) and, on a block device, everything
	 * past volume_size (zeroed by the format).
	 */
	off = kv_slot_off(g, g->records);
	r = kv_check_zero(v, off, g->data_end - off);
	if (!r)
		r = kv_check_zero(v, g->journal_off,
				  g->volume_size - g->journal_off);
	if (!r && !v->is_reg)
		r = kv_check_zero(v, g->volume_size, size - g->volume_size);
	return r;
}

/*
 * The volume's checkpoint into @s. @trusted: the journal is this host's
 * own (crash recovery), replayed when committed; else an external one is
 * discarded unread (kv_restore()).
 */
static int kv_load(struct kv_vol *v, struct kv_store *s, uint64_t *order,
		   bool trusted)
{
	const struct kv_geom *g = &v->g;
	uint64_t size, ord;
	bool any = false;
	int r, r2;

	v->synced = false;
	v->found = KV_JOURNAL_EMPTY;
	r = s->ops->reset(s->e);
	if (r)
		return r;
	/*
	 * The manager wrote the state after this replica opened the volume.
	 * In a Xen domain the volume's page cache is the guest's own, not
	 * the one dom0 wrote through: drop whatever clean pages it holds so
	 * that every read below reaches the device.
	 */
	if (!v->is_reg)
		posix_fadvise(v->fd, 0, 0, POSIX_FADV_DONTNEED);
	r = kv_vol_size(v, &size);
	if (r)
		return r;
	if (size < KV_STATE_HDR_SIZE)
		return -ENODATA;
	if (v->jext && !trusted) {
		/*
		 * Its commit record is what could make it replayable: entries
		 * past a commit's count are never read, and the next
		 * checkpoint rewrites the ones it commits (the journal's
		 * size is the state's: not read whole on every RESTORE).
		 */
		r = kv_zero_nonzero(v, true, g->journal_off, KV_STATE_BLOCK,
				    &any);
		/* durably: a crash must not bring it back to kv_recover() */
		if (!r && any)
			r = kv_jsync(v);
		if (r)
			return r;
		if (any)
			v->found = KV_JOURNAL_UNTRUSTED;
	} else if (size >= g->volume_size) {
		r = kv_journal_recover(v, true);
		if (r)
			return r;
	}
	r = kv_pread(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (r)
		return r;
	r = kv_hdr_decode(v->buf, &v->g, &ord);
	if (r)
		return r;
	if (size < v->g.volume_size)
		return -ENODATA;
	if (v->is_reg && size != v->g.volume_size)
		return -EINVAL;

	if (s->ops->batch) {
		r = s->ops->batch(s->e, true);
		if (r)
			return r;
	}
	r = kv_restore_slots(v, s, size);
	if (s->ops->batch) {
		r2 = s->ops->batch(s->e, false);
		if (!r)
			r = r2;
	}
	if (r) {
		s->ops->reset(s->e);
		return r;
	}
	*order = ord;
	v->order = ord;
	v->synced = true;
	return 0;
}

int kv_restore(struct kv_vol *v, struct kv_store *s, uint64_t *order)
{
	return kv_load(v, s, order, false);
}

int kv_recover(struct kv_vol *v, struct kv_store *s, uint64_t *order)
{
	return kv_load(v, s, order, true);
}
