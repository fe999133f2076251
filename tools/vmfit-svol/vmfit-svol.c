// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-svol - drive a recovery state volume (vf_svol, libvmfit) by hand,
 * and check the semantics the two kinds share (vf_svol.h) with a
 * self-test that uses nothing but the vf_svol operations and plain writes
 * to the path the replica would open:
 *
 *	vmfit-svol KIND NAME selftest
 *	vmfit-svol KIND NAME geometry|snapshot|drop|merge|clear|changed|
 *			     checksum [--changed]
 *
 * KIND is "file" (NAME: the file, at least 16 chunks long) or "vmfit"
 * (NAME: the dm device name). Exit status 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vf_svol.h"

#define FILE_CHUNK	4096
#define DS		VF_MERKLE_DIGEST_SIZE

static int failed;

#define EXPECT(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "vmfit-svol: selftest: ");	\
			fprintf(stderr, __VA_ARGS__);			\
			fprintf(stderr, " (line %d)\n", __LINE__);	\
			failed++;					\
		}							\
	} while (0)

static int print_digest(uint64_t chunk, const uint8_t *d, unsigned int size,
			void *arg)
{
	unsigned int i;

	printf("%llu ", (unsigned long long)chunk);
	for (i = 0; i < size; i++)
		printf("%02x", d[i]);
	printf("\n");
	return 0;
}

/*----------------------------------------------------------------*/
/* selftest */

struct check {
	struct vf_svol *v;
	uint8_t *buf;
	uint64_t count;
	uint64_t seen[64];
	unsigned int nseen;
	int bad;
};

/* Every digest must be SHA-256 of what read_view returns for the chunk. */
static int check_digest(uint64_t chunk, const uint8_t *d, unsigned int size,
			void *arg)
{
	struct check *c = arg;
	uint8_t want[DS];
	uint32_t len;

	if (size != DS ||
	    c->v->ops->read_view(c->v, chunk, c->buf, &len) ||
	    vf_sha256(c->buf, len, want) || memcmp(want, d, DS))
		c->bad++;
	if (c->nseen < 64)
		c->seen[c->nseen++] = chunk;
	c->count++;
	return 0;
}

static bool seen(const struct check *c, uint64_t chunk)
{
	unsigned int i;

	for (i = 0; i < c->nseen; i++)
		if (c->seen[i] == chunk)
			return true;
	return false;
}

/* What a replica does: write through the live path, make it durable. */
static int live_write(struct vf_svol *v, uint64_t chunk, int byte)
{
	uint8_t *b = malloc(v->chunk_size);
	int fd, r;

	if (!b)
		return -ENOMEM;
	memset(b, byte, v->chunk_size);
	fd = open(v->path, O_WRONLY);
	if (fd < 0) {
		free(b);
		return -errno;
	}
	r = vf_pwrite_all(fd, b, v->chunk_size, chunk * v->chunk_size);
	if (!r && fsync(fd))
		r = -errno;
	close(fd);
	free(b);
	return r;
}

static int live_byte(struct vf_svol *v, uint64_t chunk)
{
	uint8_t b = 0;
	int fd = open(v->path, O_RDONLY);

	if (fd < 0)
		return -errno;
	if (pread(fd, &b, 1, chunk * v->chunk_size) != 1)
		b = 0;
	close(fd);
	return b;
}

static int view_byte(struct vf_svol *v, uint64_t chunk, uint8_t *buf)
{
	uint32_t len;
	int r = v->ops->read_view(v, chunk, buf, &len);

	return r ? r : buf[0];
}

static bool has(const struct vf_ranges *rs, uint64_t c)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (c >= rs->r[i].start && c <= rs->r[i].end)
			return true;
	return false;
}

static int selftest(struct vf_svol *v)
{
	struct vf_rcv_geom g;
	struct vf_ranges rs;
	struct check c = { .v = v };
	uint64_t i;
	int r;

	r = v->ops->geometry(v, &g);
	if (r || g.nchunks < 16) {
		fprintf(stderr, "vmfit-svol: selftest: need 16 chunks (%s)\n",
			r ? strerror(-r) : "volume too small");
		return 1;
	}
	c.buf = malloc(v->chunk_size);
	if (!c.buf)
		return 1;
	/* a known content, then a new changed set with chunks 2 and 5 */
	for (i = 0; i < 8; i++)
		EXPECT(!live_write(v, i, 0x10 + i), "write chunk %llu",
		       (unsigned long long)i);
	EXPECT(!v->ops->clear(v), "clear");
	EXPECT(!live_write(v, 2, 0xa2) && !live_write(v, 5, 0xa5),
	       "write 2, 5");
	vf_ranges_init(&rs);
	EXPECT(!v->ops->changed(v, &rs), "changed");
	EXPECT(rs.n == 2 && has(&rs, 2) && has(&rs, 5),
	       "changed set is not {2, 5} (%zu ranges)", rs.n);
	vf_ranges_free(&rs);
	EXPECT(v->ops->drop(v) == -EINVAL, "drop without a snapshot");
	EXPECT(v->ops->merge(v) == -EINVAL, "merge without a snapshot");

	/* snapshot: the view is frozen, the live volume goes on */
	EXPECT(!v->ops->snapshot(v), "snapshot");
	EXPECT(v->ops->snapshot(v) == -EBUSY, "second snapshot");
	EXPECT(v->ops->clear(v) == -EBUSY, "clear during a snapshot");
	EXPECT(!live_write(v, 3, 0xb3), "live write after the snapshot");
	EXPECT(view_byte(v, 3, c.buf) == 0x13, "view of chunk 3 not frozen");
	EXPECT(view_byte(v, 2, c.buf) == 0xa2, "view of chunk 2");
	EXPECT(live_byte(v, 3) == 0xb3, "live chunk 3");
	/* digests of the changed set: at least 2 and 5; all correct */
	EXPECT(v->ops->checksum(v, true, check_digest, &c) >= 2,
	       "changed-set checksum");
	EXPECT(seen(&c, 2) && seen(&c, 5) && !c.bad,
	       "changed-set digests (%d wrong)", c.bad);
	c.count = 0;
	c.nseen = 0;
	EXPECT(v->ops->checksum(v, false, check_digest, &c) ==
	       (long)g.nchunks && c.count == g.nchunks && !c.bad,
	       "full checksum: %llu digests, %d wrong",
	       (unsigned long long)c.count, c.bad);
	/* merge keeps the write made after the snapshot */
	EXPECT(!v->ops->merge(v), "merge");
	EXPECT(live_byte(v, 3) == 0xb3, "merge lost the live write");
	EXPECT(v->ops->read_view(v, 0, c.buf, &(uint32_t){ 0 }) == -EINVAL,
	       "view after the merge");

	/* drop discards it (a snapshot right after a merge waits for it) */
	EXPECT(!v->ops->snapshot(v), "snapshot after a merge");
	EXPECT(!live_write(v, 4, 0xc4), "live write");
	EXPECT(!v->ops->drop(v), "drop");
	EXPECT(live_byte(v, 4) == 0x14, "drop kept the live write");

	/* chunk writes through the volume (the copy into B) */
	memset(c.buf, 0xd6, v->chunk_size);
	EXPECT(!v->ops->write(v, 6, c.buf, v->chunk_size) && !v->ops->sync(v),
	       "write chunk 6");
	EXPECT(live_byte(v, 6) == 0xd6, "chunk 6 not written");
	EXPECT(v->ops->write(v, g.nchunks + 10, c.buf, v->chunk_size) < 0 ||
	       !strcmp(v->ops->kind, "file"), "write past the end");
	EXPECT(!v->ops->resize(v, g.nchunks * (uint64_t)v->chunk_size),
	       "resize to the same size");
	free(c.buf);
	if (failed)
		return 1;
	printf("vmfit-svol: selftest of %s volume %s passed (%llu chunks of %u bytes)\n",
	       v->ops->kind, v->name, (unsigned long long)g.nchunks,
	       v->chunk_size);
	return 0;
}

/*----------------------------------------------------------------*/

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: vmfit-svol KIND NAME COMMAND\n"
"\n"
"Drive a recovery state volume through libvmfit's vf_svol.\n"
"KIND: file (NAME is the file; chunks of 4096 bytes) or vmfit (NAME is the\n"
"dm-vmfit device's name).\n"
"COMMAND: geometry, snapshot, drop, merge, clear, changed,\n"
"checksum [--changed] (SHA-256 of the frozen view's chunks), selftest\n"
"(checks the semantics both kinds share; writes to the volume).\n"
"A file volume's snapshot and clear print how the copy was made: cloned\n"
"(the filesystem shares extents: XFS with reflink, btrfs) or copied.\n"
"Exit status: 0 ok, 1 failure, 2 bad usage.\n");
}

/* After a file volume's snapshot or clear: how its copy was made. */
static void print_copy(const struct vf_svol *v, int r)
{
	if (!r && v->ops == &vf_svol_file_ops)
		printf("%s\n", v->cloned ? "cloned" : "copied");
}

int main(int argc, char **argv)
{
	struct vf_rcv_geom g;
	struct vf_ranges rs;
	struct vf_svol v;
	const char *cmd;
	size_t i;
	long n;
	int r;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc < 4 || argc > 5) {
		usage(stderr);
		return 2;
	}
	cmd = argv[3];
	r = vf_svol_open(&v, argv[1], argv[2], FILE_CHUNK);
	if (r) {
		fprintf(stderr, "vmfit-svol: %s %s: %s%s\n", argv[1], argv[2],
			strerror(-r), r == -EINVAL ?
			" (kind: file or vmfit)" : "");
		return r == -EINVAL ? 2 : 1;
	}
	r = 0;
	if (!strcmp(cmd, "selftest")) {
		r = selftest(&v) ? -EIO : 0;
	} else if (!strcmp(cmd, "geometry")) {
		r = v.ops->geometry(&v, &g);
		if (!r)
			printf("chunks=%llu chunk_size=%u snapshot=%d\n",
			       (unsigned long long)g.nchunks, g.chunk_size,
			       v.snap);
	} else if (!strcmp(cmd, "snapshot")) {
		r = v.ops->snapshot(&v);
		print_copy(&v, r);
	} else if (!strcmp(cmd, "drop")) {
		r = v.ops->drop(&v);
	} else if (!strcmp(cmd, "merge")) {
		r = v.ops->merge(&v);
	} else if (!strcmp(cmd, "clear")) {
		r = v.ops->clear(&v);
		print_copy(&v, r);
	} else if (!strcmp(cmd, "changed")) {
		vf_ranges_init(&rs);
		r = v.ops->changed(&v, &rs);
		for (i = 0; !r && i < rs.n; i++)
			printf("%llu-%llu\n",
			       (unsigned long long)rs.r[i].start,
			       (unsigned long long)rs.r[i].end);
		vf_ranges_free(&rs);
	} else if (!strcmp(cmd, "checksum")) {
		if (argc == 5 && strcmp(argv[4], "--changed")) {
			usage(stderr);
			vf_svol_close(&v);
			return 2;
		}
		n = v.ops->checksum(&v, argc == 5, print_digest, NULL);
		r = n < 0 ? (int)n : 0;
	} else {
		fprintf(stderr, "vmfit-svol: unknown command '%s'\n", cmd);
		vf_svol_close(&v);
		return 2;
	}
	if (r && r != -EIO)
		fprintf(stderr, "vmfit-svol: %s: %s\n", cmd, strerror(-r));
	vf_svol_close(&v);
	return r ? 1 : 0;
}
