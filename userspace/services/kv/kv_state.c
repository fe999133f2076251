// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_state.c - checkpoint and restore of the kv abstract state.
 * The layout is in kv_state.h and Documentation/kv-service.rst.
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

/* Restore reads the data area in runs of slots of about this size. */
#define KV_IO_CHUNK	(1u << 20)
/* The largest volume we lay out: 1 TiB. */
#define KV_MAX_VOLUME	(1ull << 40)

/*
 *------------------------------------------------------------------
 * Layout
 *------------------------------------------------------------------
 */

int kv_geom_init(struct kv_geom *g, const struct kv_limits *lim)
{
	uint32_t raw, slot;
	uint64_t size;

	if (kv_limits_check(lim))
		return -EINVAL;
	raw = KV_SLOT_HDR_LEN + lim->record_size;
	if (raw <= KV_STATE_BLOCK) {
		slot = 16;
		while (slot < raw)
			slot <<= 1;
	} else {
		slot = (raw + KV_STATE_BLOCK - 1) / KV_STATE_BLOCK *
		       KV_STATE_BLOCK;
	}
	size = KV_STATE_HDR_SIZE + (uint64_t)lim->records * slot;
	size = (size + KV_STATE_BLOCK - 1) / KV_STATE_BLOCK * KV_STATE_BLOCK;
	if (size > KV_MAX_VOLUME)
		return -EINVAL;
	g->records = lim->records;
	g->record_size = lim->record_size;
	g->slot_size = slot;
	g->volume_size = size;
	return 0;
}

uint32_t kv_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	int k;

	crc = ~crc;
	while (n--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
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
	kv_put_le32(hdr + KV_HDR_CRC_OFF, kv_crc32c(0, hdr, KV_HDR_CRC_OFF));
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
	    kv_crc32c(0, hdr, KV_HDR_CRC_OFF))
		return -EBADMSG;
	if (kv_get_le32(hdr + 8) != KV_STATE_VERSION ||
	    kv_get_le32(hdr + 12) != KV_STATE_HDR_SIZE ||
	    kv_get_le32(hdr + 28) != 0 ||
	    !kv_all_zero(hdr + 48, KV_HDR_CRC_OFF - 48))
		return -EBADMSG;
	if (kv_get_le32(hdr + 16) != g->records ||
	    kv_get_le32(hdr + 20) != g->record_size)
		return -EINVAL;
	/* derived fields: a mismatch means a forged or broken header */
	if (kv_get_le32(hdr + 24) != g->slot_size ||
	    kv_get_le64(hdr + 40) != g->volume_size)
		return -EBADMSG;
	*order = kv_get_le64(hdr + 32);
	return 0;
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
	v->buf = malloc(chunk);
	v->old = malloc(v->g.slot_size);
	if (!v->buf || !v->old) {
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
	free(v->buf);
	free(v->old);
	v->buf = NULL;
	v->old = NULL;
}

static int kv_vol_size(struct kv_vol *v, uint64_t *size)
{
	struct stat st;

	if (v->is_reg) {
		if (fstat(v->fd, &st))
			return -errno;
		*size = st.st_size;
		return 0;
	}
	if (ioctl(v->fd, BLKGETSIZE64, size))
		return -errno;
	return 0;
}

static int kv_pwrite(struct kv_vol *v, const uint8_t *p, size_t n,
		     uint64_t off)
{
	size_t done = 0;
	ssize_t w;

	if (v->observe)
		v->observe(v->observe_arg, off, n);
	while (done < n) {
		w = pwrite(v->fd, p + done, n - done, (off_t)(off + done));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += w;
	}
	return 0;
}

/* Read exactly @n bytes; -ENODATA at end of volume. */
static int kv_pread(struct kv_vol *v, uint8_t *p, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(v->fd, p + done, n - done, (off_t)(off + done));
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

/*
 *------------------------------------------------------------------
 * Checkpoint
 *------------------------------------------------------------------
 */

static uint64_t kv_slot_off(const struct kv_geom *g, uint32_t key)
{
	return KV_STATE_HDR_SIZE + (uint64_t)key * g->slot_size;
}

static int kv_write_slot(void *arg, uint32_t key, const uint8_t *val,
			 uint32_t len)
{
	struct kv_vol *v = arg;
	uint8_t *slot = v->buf;

	if (key >= v->g.records || len > v->g.record_size)
		return -EIO;
	memset(slot, 0, v->g.slot_size);
	kv_put_le32(slot, 1);
	kv_put_le32(slot + 4, len);
	memcpy(slot + KV_SLOT_HDR_LEN, val, len);
#ifdef KV_FAULT_INJECTION
	if (v->mangle)
		v->mangle(v->mangle_arg, slot, v->g.slot_size);
#endif
	/*
	 * The target counts written chunks, not changed bytes: leave a slot
	 * that already holds these bytes alone (a read is cheaper than a
	 * chunk to transfer and verify at the next recovery).
	 */
	if (!v->full &&
	    !kv_pread(v, v->old, v->g.slot_size, kv_slot_off(&v->g, key)) &&
	    !memcmp(v->old, slot, v->g.slot_size))
		return 0;
	return kv_pwrite(v, slot, v->g.slot_size, kv_slot_off(&v->g, key));
}

/* Make the data area all zero (= every slot absent), at the exact size. */
static int kv_zero_volume(struct kv_vol *v)
{
	uint64_t size, off, n;
	int r;

	if (v->is_reg) {
		if (v->observe)
			v->observe(v->observe_arg, 0, v->g.volume_size);
		if (ftruncate(v->fd, 0) ||
		    ftruncate(v->fd, (off_t)v->g.volume_size))
			return -errno;
		return 0;
	}
	r = kv_vol_size(v, &size);
	if (r)
		return r;
	if (size < v->g.volume_size)
		return -ENOSPC;
	memset(v->buf, 0, v->buf_size);
	for (off = KV_STATE_HDR_SIZE; off < v->g.volume_size; off += n) {
		n = v->g.volume_size - off;
		if (n > v->buf_size)
			n = v->buf_size;
		r = kv_pwrite(v, v->buf, n, off);
		if (r)
			return r;
	}
	return 0;
}

int kv_checkpoint(struct kv_vol *v, struct kv_store *s, uint64_t order)
{
	bool full = !v->synced;
	int r;

	v->synced = false;
	v->full = full;
	if (full) {
		r = kv_zero_volume(v);
		if (r)
			return r;
	}
	r = s->ops->iterate(s->e, !full, kv_write_slot, v);
	if (r)
		return r;
	kv_hdr_encode(v->buf, &v->g, order);
#ifdef KV_FAULT_INJECTION
	if (v->mangle)
		v->mangle(v->mangle_arg, v->buf, KV_STATE_HDR_SIZE);
#endif
	r = kv_pwrite(v, v->buf, KV_STATE_HDR_SIZE, 0);
	if (r)
		return r;
	if (fdatasync(v->fd))
		return -errno;
	r = s->ops->clean(s->e);
	if (r)
		return r;
	v->synced = true;
	return 0;
}

/*
 *------------------------------------------------------------------
 * Restore
 *------------------------------------------------------------------
 */

/* Check and load the slots in @buf, the first of which is @key. */
static int kv_load_slots(struct kv_vol *v, struct kv_store *s, uint32_t key,
			 uint32_t nslots)
{
	const uint8_t *slot = v->buf;
	uint32_t i, present, len;
	int r;

	for (i = 0; i < nslots; i++, slot += v->g.slot_size) {
		present = kv_get_le32(slot);
		len = kv_get_le32(slot + 4);
		if (present > 1 || len > v->g.record_size ||
		    (!present && len))
			return -EBADMSG;
		if (!kv_all_zero(slot + KV_SLOT_HDR_LEN + len,
				 v->g.slot_size - KV_SLOT_HDR_LEN - len))
			return -EBADMSG;
		if (!present)
			continue;
		r = s->ops->load(s->e, key + i, slot + KV_SLOT_HDR_LEN, len);
		if (r)
			return r;
	}
	return 0;
}

static int kv_restore_slots(struct kv_vol *v, struct kv_store *s)
{
	uint32_t per = v->buf_size / v->g.slot_size;
	uint32_t key, n;
	uint64_t off, tail;
	int r;

	for (key = 0; key < v->g.records; key += n) {
		n = v->g.records - key;
		if (n > per)
			n = per;
		off = kv_slot_off(&v->g, key);
		r = kv_pread(v, v->buf, (size_t)n * v->g.slot_size, off);
		if (r)
			return r;
		r = kv_load_slots(v, s, key, n);
		if (r)
			return r;
	}
	/* the rounding up to a whole block after the last slot: zero too */
	off = kv_slot_off(&v->g, v->g.records);
	tail = v->g.volume_size - off;
	if (tail) {
		r = kv_pread(v, v->buf, tail, off);
		if (r)
			return r;
		if (!kv_all_zero(v->buf, tail))
			return -EBADMSG;
	}
	return 0;
}

int kv_restore(struct kv_vol *v, struct kv_store *s, uint64_t *order)
{
	uint64_t size, ord;
	int r, r2;

	v->synced = false;
	r = s->ops->reset(s->e);
	if (r)
		return r;
	r = kv_vol_size(v, &size);
	if (r)
		return r;
	if (size < KV_STATE_HDR_SIZE)
		return -ENODATA;
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
	r = kv_restore_slots(v, s);
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
	v->synced = true;
	return 0;
}
