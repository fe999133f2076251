// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_volume.c - the two state volumes of a recovery round
 * (Documentation/protocol.rst "Recovery", phases 2, 5 and 6; invariants
 * I1-I3): A, the senior's, is snapshotted at the capture and its frozen
 * view hashed (the changed set only, or all of it in a full round); the
 * verified chunks are copied into B, which the shadow restores from; after
 * the hand-over A is dropped to the captured state and repaired, and
 * becomes the next round's B.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_log.h"

int volume_open(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	const char *kind = d->conf.volume_kind;
	const char *a = d->conf.state_volume, *b = d->conf.state_volume_b;
	unsigned int i;
	int e;

	if (!strcmp(kind, "vmfit")) {
		a += strlen("/dev/mapper/");
		b += strlen("/dev/mapper/");
		mkdir("/var/lib/vmfit", 0755);
		snprintf(r->store_path, sizeof(r->store_path),
			 "/var/lib/vmfit/%s.digests", d->conf.service);
	} else {
		snprintf(r->store_path, sizeof(r->store_path), "%s.digests",
			 d->conf.state_volume);
	}
	e = vf_svol_open(&r->vol[0], kind, a, d->conf.volume_chunk);
	if (!e)
		e = vf_svol_open(&r->vol[1], kind, b, d->conf.volume_chunk);
	if (e) {
		vf_err("recovery: cannot open the state volumes %s, %s (%s): %s",
		       a, b, kind, strerror(-e));
		return e;
	}
	/*
	 * The replica starts empty (no RESTORE at start-up yet): whatever a
	 * previous run left is not the verified state any more. A snapshot
	 * left by a crash is folded back; the first round is full.
	 */
	for (i = 0; i < 2; i++)
		if (r->vol[i].snap)
			r->vol[i].ops->merge(&r->vol[i]);
	unlink(r->store_path);
	return 0;
}

void volume_close(struct rcv *r)
{
	vf_svol_close(&r->vol[0]);
	vf_svol_close(&r->vol[1]);
}

void volume_merge(struct rcv *r)
{
	int e;

	if (!r->frozen)
		return;
	e = r->frozen->ops->merge(r->frozen);
	if (e)
		vf_err("recovery: merge of %s after the abort: %s",
		       r->frozen->path, strerror(-e));
}

/*----------------------------------------------------------------*/
/* Capture: snapshot and hash */

static int view_bytes(struct rcv *r)
{
	uint8_t buf[16];
	uint32_t len = 0;
	int e;

	if (!r->geom.nchunks) {
		r->view_bytes = 0;
		return 0;
	}
	/* The last chunk's real length gives the size. */
	if (r->geom.chunk_size > sizeof(buf)) {
		uint8_t *b = malloc(r->geom.chunk_size);

		if (!b)
			return -ENOMEM;
		e = r->frozen->ops->read_view(r->frozen, r->geom.nchunks - 1,
					      b, &len);
		free(b);
	} else {
		e = -EINVAL;
	}
	if (e)
		return e;
	r->view_bytes = (r->geom.nchunks - 1) * r->geom.chunk_size + len;
	return 0;
}

/*
 * The senior's checkpoint is done, at order @order: snapshot A, hash its
 * frozen view into r->work. 0, or -1 when the round was aborted.
 */
int volume_capture(struct vmfitd *d, uint64_t order)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a = &r->vol[r->cur];
	long n;
	int e;

	/* The senior waits for nothing but us: its EXECs are held until
	 * this returns (checkpoint.c). */
	e = a->ops->snapshot(a);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "snapshot of %s: %s",
			    a->path, strerror(-e));
		return -1;
	}
	r->frozen = a;
	r->st.capture_ms = now_ms() - r->capture_start_ms;
	vf_info("recovery: captured at order %" PRIu64 " in %" PRIu64 " ms",
		order, r->st.capture_ms);
	r->phase = PH_VERIFY;
	e = a->ops->geometry(a, &r->geom);
	if (!e)
		e = view_bytes(r);
	if (!e)
		e = verify_store_init(r);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "geometry of %s: %s",
			    a->path, strerror(-e));
		return -1;
	}
	if (!r->full) {
		e = a->ops->changed(a, &r->changed);
		if (e) {
			round_abort(d, VF_RCV_VOLUME, true,
				    "changed set of %s: %s", a->path,
				    strerror(-e));
			return -1;
		}
	}
	n = a->ops->checksum(a, !r->full, vf_dstore_digest_cb, &r->work);
	if (n < 0) {
		round_abort(d, VF_RCV_VOLUME, true, "checksum of %s: %s",
			    a->path, strerror(-n));
		return -1;
	}
	r->work.complete = true;
	r->st.hashed = n;
	r->st.bytes_hashed = (uint64_t)n * r->geom.chunk_size;
	vf_info("recovery: %ld chunk(s) of %" PRIu64 " hashed (%s)", n,
		r->geom.nchunks, r->full ? "full" : "changed set");
	return 0;
}

/*----------------------------------------------------------------*/
/* Hand-over: B gets the verified state */

static struct repair *find_repair(struct rcv *r, uint64_t c)
{
	size_t i;

	for (i = 0; i < r->nrep; i++)
		if (r->rep[i].chunk == c)
			return &r->rep[i];
	return NULL;
}

static int copy_chunk(struct rcv *r, struct vf_svol *a, struct vf_svol *b,
		      uint64_t c, uint8_t *buf)
{
	struct repair *rp = find_repair(r, c);
	uint32_t len;
	int e;

	if (rp)
		return 0;	/* written with the repairs */
	e = a->ops->read_view(a, c, buf, &len);
	if (!e)
		e = b->ops->write(b, c, buf, len);
	if (!e) {
		r->st.copied++;
		r->st.bytes_copied += len;
	}
	return e;
}

void volume_copy(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a = r->frozen, *b = &r->vol[!r->cur];
	uint8_t *buf;
	uint64_t c;
	size_t i;
	int e;

	buf = malloc(r->geom.chunk_size);
	if (!buf) {
		round_abort(d, VF_RCV_VOLUME, false, "out of memory");
		return;
	}
	e = b->ops->resize(b, r->view_bytes);
	for (i = 0; !e && i < r->nrep; i++) {
		e = b->ops->write(b, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
		r->st.copied++;
		r->st.bytes_copied += r->rep[i].len;
	}
	if (r->full) {
		for (c = 0; !e && c < r->geom.nchunks; c++)
			e = copy_chunk(r, a, b, c, buf);
	} else {
		for (i = 0; !e && i < r->changed.n; i++)
			for (c = r->changed.r[i].start;
			     !e && c <= r->changed.r[i].end &&
			     c < r->geom.nchunks; c++)
				e = copy_chunk(r, a, b, c, buf);
	}
	free(buf);
	if (!e)
		e = b->ops->sync(b);
	/* I2: B's changed set starts here, A's is reset only by this. */
	if (!e)
		e = b->ops->clear(b);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, false, "copy into %s: %s",
			    b->path, strerror(-e));
		return;
	}
	vf_info("recovery: %" PRIu64 " chunk(s) copied into %s (%" PRIu64 " repaired); restoring the shadow",
		r->st.copied, b->path, r->st.repaired);
	shadow_restore(d);
}

/*
 * After the hand-over: A is dropped to the captured state and the repairs
 * are written into it; it holds the verified state and becomes the next
 * round's B. 0 or -errno (the next round must then be full).
 */
int volume_commit(struct rcv *r)
{
	struct vf_svol *a = r->frozen;
	size_t i;
	int e;

	r->frozen = NULL;
	e = a->ops->drop(a);
	for (i = 0; !e && i < r->nrep; i++)
		e = a->ops->write(a, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
	if (!e)
		e = a->ops->sync(a);
	if (e)
		vf_err("recovery: %s after the hand-over: %s (the next round will be full)",
		       a->path, strerror(-e));
	return e;
}

/*----------------------------------------------------------------*/
/* A receiver's B (protocol.rst "Catching up") */

/*
 * Hash B as it is (snapshot, every chunk, merge): untrusted digests that
 * only spare fetching what B already holds.
 */
int volume_hash_b(struct rcv *r)
{
	struct vf_svol *b = &r->vol[!r->cur];
	struct vf_rcv_geom g;
	uint8_t *buf = NULL;
	uint32_t len = 0;
	long n;
	int e;

	vf_dstore_free(&r->bstore);
	r->have_bstore = false;
	r->b_bytes = 0;
	e = b->ops->snapshot(b);
	if (e)
		return e;
	e = b->ops->geometry(b, &g);
	if (!e && g.nchunks) {
		buf = malloc(g.chunk_size);
		e = buf ? b->ops->read_view(b, g.nchunks - 1, buf, &len) :
			  -ENOMEM;
		free(buf);
	}
	if (!e)
		e = vf_dstore_init(&r->bstore, g.nchunks, g.chunk_size);
	if (!e) {
		n = b->ops->checksum(b, false, vf_dstore_digest_cb,
				     &r->bstore);
		e = n < 0 ? (int)n : 0;
	}
	b->ops->merge(b);
	if (e) {
		vf_dstore_free(&r->bstore);
		return e;
	}
	r->b_bytes = g.nchunks ? (g.nchunks - 1) * g.chunk_size + len : 0;
	r->have_bstore = true;
	return 0;
}

/* The voted state's size: its last chunk fetched, or B's own. */
static uint64_t received_bytes(struct rcv *r)
{
	uint64_t last = r->geom.nchunks - 1;
	size_t i;

	if (!r->geom.nchunks)
		return 0;
	for (i = 0; i < r->nrep; i++)
		if (r->rep[i].chunk == last)
			return last * r->geom.chunk_size + r->rep[i].len;
	return last * r->geom.chunk_size +
	       vf_svol_chunk_len(r->b_bytes, r->geom.chunk_size, last);
}

int volume_receive(struct rcv *r)
{
	struct vf_svol *b = &r->vol[!r->cur];
	size_t i;
	int e;

	e = b->ops->resize(b, received_bytes(r));
	for (i = 0; !e && i < r->nrep; i++) {
		if (r->rep[i].chunk >= VF_RCV_MSTATE_CHUNK)
			continue;
		e = b->ops->write(b, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
		r->st.copied++;
		r->st.bytes_copied += r->rep[i].len;
	}
	if (!e)
		e = b->ops->sync(b);
	if (!e)
		e = b->ops->clear(b);
	return e;
}
