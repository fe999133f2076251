// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-svol-test - the "file" state volume stand-in against the semantics
 * it shares with dm-vmfit (vf_svol.h): a snapshot freezes the view while
 * the live volume goes on; the changed set since the last clear; digests
 * of all or only the changed chunks (the short last chunk at its real
 * length); drop discards, merge keeps what was written since; and the
 * refusals (-EBUSY, -EINVAL, -ERANGE, -ENOENT). The "vmfit" kind is
 * opened too: without the module it must fail cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vf_dstore.h"
#include "vf_svol.h"
#include "vf_check.h"

#define CS 4096
#define SIZE (10 * CS + 100)	/* 11 chunks, the last one 100 bytes */
#define DS VF_MERKLE_DIGEST_SIZE

static uint8_t img[SIZE];

static void put(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, p, n, off) == (ssize_t)n);
	close(fd);
}

struct seen {
	uint64_t chunk[16];
	uint8_t d[16][DS];
	unsigned int n;
};

static int collect(uint64_t chunk, const uint8_t *digest, unsigned int size,
		   void *arg)
{
	struct seen *s = arg;

	if (size != DS || s->n == 16)
		return -EINVAL;
	s->chunk[s->n] = chunk;
	memcpy(s->d[s->n++], digest, DS);
	return 0;
}

static int stop_at_2(uint64_t chunk, const uint8_t *digest,
		     unsigned int size, void *arg)
{
	return chunk == 2 ? -ECANCELED : 0;
}

static char *ranges(const struct vf_ranges *rs)
{
	static char buf[256];
	size_t i, len = 0;

	buf[0] = 0;
	for (i = 0; i < rs->n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%llu-%llu",
				i ? "," : "",
				(unsigned long long)rs->r[i].start,
				(unsigned long long)rs->r[i].end);
	return buf;
}

int main(void)
{
	char dir[] = "/tmp/vf-svol-XXXXXX", path[64], base[80];
	uint8_t buf[CS], d[DS];
	struct vf_rcv_geom g;
	struct vf_ranges rs;
	struct vf_svol v, v2;
	struct seen s;
	uint32_t len;
	size_t i;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.img", dir);
	snprintf(base, sizeof(base), "%s.base", path);
	for (i = 0; i < SIZE; i++)
		img[i] = i * 31 + 7;

	CHECK_EQ(vf_svol_open(&v, "lvm", path, CS), -EINVAL);
	CHECK_EQ(vf_svol_open(&v, "file", path, 1000), -EINVAL);
	CHECK_EQ(vf_svol_open(&v, "file", "", CS), -EINVAL);
	REQUIRE(vf_svol_open(&v, "file", path, CS) == 0);
	CHECK_STR(v.path, path);
	/* nothing there yet: no chunks, nothing to freeze */
	CHECK_EQ(v.ops->geometry(&v, &g), 0);
	CHECK(g.nchunks == 0 && g.chunk_size == CS);
	CHECK_EQ(v.ops->snapshot(&v), -ENOENT);
	CHECK_EQ(v.ops->drop(&v), -EINVAL);
	CHECK_EQ(v.ops->merge(&v), -EINVAL);
	CHECK_EQ(v.ops->checksum(&v, false, collect, &s), -EINVAL);
	CHECK_EQ(v.ops->read_view(&v, 0, buf, &len), -EINVAL);

	/* the replica writes its state; a fresh volume: all changed */
	put(path, 0, img, SIZE);
	CHECK_EQ(v.ops->geometry(&v, &g), 0);
	CHECK_EQ(g.nchunks, 11);
	vf_ranges_init(&rs);
	CHECK_EQ(v.ops->changed(&v, &rs), 0);
	CHECK_STR(ranges(&rs), "0-10");
	vf_ranges_free(&rs);
	/* clear; touch chunks 3 and 10 (the short one) */
	CHECK_EQ(v.ops->clear(&v), 0);
	vf_ranges_init(&rs);
	CHECK_EQ(v.ops->changed(&v, &rs), 0);
	CHECK_STR(ranges(&rs), "");
	vf_ranges_free(&rs);
	put(path, 3 * CS + 5, "x", 1);
	put(path, 10 * CS + 99, "y", 1);
	img[3 * CS + 5] = 'x';
	img[10 * CS + 99] = 'y';

	/* snapshot; the live file goes on changing, the view does not */
	CHECK_EQ(v.ops->snapshot(&v), 0);
	CHECK_EQ(v.ops->snapshot(&v), -EBUSY);
	CHECK_EQ(v.ops->clear(&v), -EBUSY);
	put(path, 0, "after", 5);
	CHECK_EQ(v.ops->read_view(&v, 0, buf, &len), 0);
	CHECK(len == CS && !memcmp(buf, img, CS));
	CHECK_EQ(v.ops->read_view(&v, 10, buf, &len), 0);
	CHECK(len == 100 && !memcmp(buf, img + 10 * CS, 100));
	CHECK_EQ(v.ops->read_view(&v, 11, buf, &len), -ERANGE);
	/* the changed set of the view: 3 and 10, not the live write */
	vf_ranges_init(&rs);
	CHECK_EQ(v.ops->changed(&v, &rs), 0);
	CHECK_STR(ranges(&rs), "3-3,10-10");
	vf_ranges_free(&rs);
	/* digests of the changed set, then of everything */
	memset(&s, 0, sizeof(s));
	CHECK_EQ(v.ops->checksum(&v, true, collect, &s), 2);
	CHECK(s.n == 2 && s.chunk[0] == 3 && s.chunk[1] == 10);
	REQUIRE(!vf_sha256(img + 10 * CS, 100, d));
	CHECK(!memcmp(s.d[1], d, DS));
	memset(&s, 0, sizeof(s));
	CHECK_EQ(v.ops->checksum(&v, false, collect, &s), 11);
	REQUIRE(!vf_sha256(img + 4 * CS, CS, d));
	CHECK(s.chunk[4] == 4 && !memcmp(s.d[4], d, DS));
	/* a callback that gives up ends the checksum with its error */
	CHECK_EQ(v.ops->checksum(&v, false, stop_at_2, NULL), -ECANCELED);
	/* the digests feed a digest store directly */
	{
		struct vf_dstore ds;

		REQUIRE(!vf_dstore_init(&ds, g.nchunks, CS));
		CHECK_EQ(v.ops->checksum(&v, false, vf_dstore_digest_cb, &ds),
			 11);
		CHECK(!memcmp(vf_dstore_get(&ds, 4), d, DS));
		vf_dstore_free(&ds);
	}

	/* a second handle finds the snapshot active (crash, restart) */
	REQUIRE(vf_svol_open(&v2, "file", path, CS) == 0);
	CHECK(v2.snap);
	vf_svol_close(&v2);

	/* merge keeps the live write */
	CHECK_EQ(v.ops->merge(&v), 0);
	CHECK(access(v.view, F_OK) != 0);
	CHECK_EQ(v.ops->read_view(&v, 0, buf, &len), -EINVAL);
	{
		int fd = open(path, O_RDONLY);

		REQUIRE(fd >= 0);
		CHECK_EQ(pread(fd, buf, 5, 0), 5);
		CHECK(!memcmp(buf, "after", 5));
		close(fd);
	}
	/* drop discards it */
	CHECK_EQ(v.ops->snapshot(&v), 0);
	put(path, 0, "later", 5);
	CHECK_EQ(v.ops->drop(&v), 0);
	{
		int fd = open(path, O_RDONLY);

		REQUIRE(fd >= 0);
		CHECK_EQ(pread(fd, buf, 5, 0), 5);
		CHECK(!memcmp(buf, "after", 5));
		close(fd);
	}
	/* write chunks into the live volume (the copy into B), resize */
	memset(buf, 0xab, CS);
	CHECK_EQ(v.ops->write(&v, 7, buf, CS), 0);
	CHECK_EQ(v.ops->write(&v, 7, buf, CS + 1), -EINVAL);
	CHECK_EQ(v.ops->sync(&v), 0);
	CHECK_EQ(v.ops->resize(&v, 20 * CS), 0);
	CHECK_EQ(v.ops->geometry(&v, &g), 0);
	CHECK_EQ(g.nchunks, 20);
	CHECK_EQ(v.ops->snapshot(&v), 0);
	CHECK_EQ(v.ops->read_view(&v, 7, buf, &len), 0);
	CHECK(buf[0] == 0xab && buf[CS - 1] == 0xab);
	CHECK_EQ(v.ops->read_view(&v, 19, buf, &len), 0);
	CHECK(len == CS && buf[0] == 0);
	/* a change "underneath" (live and base alike) is invisible */
	vf_ranges_init(&rs);
	CHECK_EQ(v.ops->changed(&v, &rs), 0);
	/* zeros past the old end equal the base read as zeros */
	CHECK_STR(ranges(&rs), "0-0,3-3,7-7,10-10");
	vf_ranges_free(&rs);
	CHECK_EQ(v.ops->drop(&v), 0);
	CHECK_EQ(v.ops->clear(&v), 0);
	put(path, 2 * CS, "rot", 3);
	put(base, 2 * CS, "rot", 3);
	vf_ranges_init(&rs);
	CHECK_EQ(v.ops->changed(&v, &rs), 0);
	CHECK_STR(ranges(&rs), "");
	vf_ranges_free(&rs);
	vf_svol_close(&v);

	/* the real target: no module on the host -> a clean error */
	CHECK(vf_svol_open(&v, "vmfit", "vf-svol-test-none", 0) < 0);
	CHECK(v.ops == NULL);

	unlink(path);
	unlink(base);
	rmdir(dir);
	return vf_check_done(__FILE__);
}
