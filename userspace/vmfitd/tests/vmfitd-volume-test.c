// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd-volume-test - a recovery round's hash in the volume worker
 * (recovery_volume.c over file volumes, the rest of the manager stubbed):
 * when the event loop picks up the hash and starts the verification
 * (verify_start), the digests of every chunk are there and so is their
 * Merkle tree, with the root of those digests. The tree grows with the
 * state: built on demand at the loop's first node query, it held the
 * loop for 58-85 ms at 1 GiB (524546 chunks).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_check.h"
#include "vf_merkle.h"

#define NCHUNKS	300	/* more than one level of the tree */
#define CHUNK	4096

/* Stubs for the parts recovery_volume.c calls. */
static unsigned int n_verify, n_abort;
static bool tree_at_verify;
static uint8_t root_at_verify[VF_MERKLE_DIGEST_SIZE];

uint64_t now_ms(void)
{
	return 1000;
}

void round_phase(struct vmfitd *d, enum phase ph)
{
	d->rcv->phase = ph;
}

void round_abort(struct vmfitd *d, uint32_t reason, bool tell,
		 const char *fmt, ...)
{
	n_abort++;
}

void round_committed(struct vmfitd *d, int err, int store_err,
		     struct vf_dstore *store)
{
}

void shadow_restore(struct vmfitd *d)
{
}

int verify_store_init(struct rcv *r)
{
	vf_dstore_free(&r->work);
	return vf_dstore_init(&r->work, r->geom.nchunks, r->geom.chunk_size);
}

/* What the loop finds when it starts the descent. */
void verify_start(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	n_verify++;
	tree_at_verify = r->work.tree != NULL;
	if (tree_at_verify)
		memcpy(root_at_verify, vf_merkle_root(r->work.tree),
		       VF_MERKLE_DIGEST_SIZE);
}

int main(void)
{
	char dir[] = "/tmp/vmfitd-volume-test.XXXXXX", a[64], b[64];
	uint8_t buf[CHUNK], want[VF_MERKLE_DIGEST_SIZE];
	static struct vmfitd d;
	static struct rcv r;
	struct vf_dstore ref;
	struct pollfd pfd;
	unsigned int i;
	int fd;

	REQUIRE(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE(fd >= 0);
	for (i = 0; i < NCHUNKS; i++) {
		memset(buf, i * 7 + 1, sizeof(buf));
		CHECK_EQ(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	}
	CHECK_EQ(close(fd), 0);

	d.rcv = &r;
	vf_conf_defaults(&d.conf);
	snprintf(d.conf.volume_kind, sizeof(d.conf.volume_kind), "file");
	snprintf(d.conf.state_volume, sizeof(d.conf.state_volume), "%s", a);
	snprintf(d.conf.state_volume_b, sizeof(d.conf.state_volume_b), "%s",
		 b);
	d.conf.volume_chunk = CHUNK;
	d.conf.recovery_nice = 0;
	REQUIRE(!volume_open(&d));
	r.full = true;
	r.round = 1;
	REQUIRE(!volume_capture(&d, 1));
	CHECK_EQ(r.phase, PH_HASH);
	CHECK_EQ(n_abort, 0u);

	/* The worker's result, as the event loop picks it up. */
	for (i = 0; i < 500 && !n_verify; i++) {
		volume_poll_fds(&r, &pfd);
		pfd.revents = 0;
		CHECK(poll(&pfd, 1, 10) >= 0);
		volume_events(&d, &pfd);
	}
	CHECK_EQ(n_verify, 1u);
	CHECK_EQ(n_abort, 0u);
	CHECK_EQ(r.phase, PH_VERIFY);
	CHECK_EQ(r.work.nchunks, (uint64_t)NCHUNKS);
	/* Built by the worker, before the loop's first node query. */
	CHECK(tree_at_verify);

	/* And it is the tree of the chunks' digests. */
	CHECK_EQ(vf_dstore_init(&ref, NCHUNKS, CHUNK), 0);
	memcpy(ref.d, r.work.d, (size_t)NCHUNKS * VF_MERKLE_DIGEST_SIZE);
	CHECK_EQ(vf_dstore_root(&ref, want), 0);
	CHECK(!memcmp(root_at_verify, want, sizeof(want)));
	vf_dstore_free(&ref);

	volume_cancel(&r);
	volume_merge(&r);
	volume_close(&r);
	vf_dstore_free(&r.work);
	vf_ranges_free(&r.changed);
	snprintf((char *)buf, sizeof(buf), "rm -rf %s", dir);
	CHECK_EQ(system((char *)buf), 0);
	return vf_check_done("vmfitd-volume-test");
}
