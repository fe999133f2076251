// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmtest-io - deterministic block I/O for the kernel tests.
 *
 * Every 4 KiB block written by this tool is self-describing: it holds a
 * header (magic, seed, block number, generation) and a body derived from
 * them, so a reader can tell which write, if any, a block holds.
 *
 *   vmtest-io write DEV SEED COUNT [FIRST NBLOCKS]
 *	COUNT blocks at pseudo-random block numbers in [FIRST, FIRST+NBLOCKS)
 *	(default: the whole device), O_DIRECT, then fdatasync. The same
 *	arguments always write the same bytes to the same places, so a
 *	reference copy can be kept on another device.
 *   vmtest-io list SEED COUNT FIRST NBLOCKS
 *	print the block numbers `write` with these arguments writes.
 *   vmtest-io fill DEV SEED
 *	every block of DEV, generation 0.
 *   vmtest-io pcwrite DEV LOGDEV SEED BATCH NBLOCKS MAXBATCHES
 *	the power-cut writer: batch b writes BATCH blocks (generation b + 1)
 *	in [0, NBLOCKS), fdatasync(DEV), then appends the record "batch b is
 *	durable" to LOGDEV with O_DIRECT|O_SYNC; stops after MAXBATCHES.
 *   vmtest-io pcverify DEV LOGDEV
 *	checks that every block of every logged batch holds that batch's
 *	write or a later one (only the batch after the last logged one may
 *	be partly there). Prints "acked=N" and the block numbers that hold
 *	any write of the run ("changed" lines) with -v.
 *
 *   vmtest-io hold DEV
 *	open DEV exclusively (O_EXCL, the claim a mounted filesystem holds),
 *	print "held" and wait until killed.
 *
 * Exit status: 0 ok, 1 verification failure, 2 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmtest-block.h"

#define BLK VMTEST_BLK
#define WORDS VMTEST_BLK_WORDS
#define LOG_MAGIC 0x766d746573746c31ULL /* "vmtestl1" */

struct block_hdr {
	uint64_t magic;
	uint64_t seed;
	uint64_t blkno;
	uint64_t gen;
};

struct log_rec {
	uint64_t magic;
	uint64_t nonce;
	uint64_t index;	/* 0: header; b + 1: batch b is durable */
	uint64_t seed;
	uint64_t batch;
	uint64_t nblocks;
	uint64_t sum;
};

/* Returns the generation held by block @blkno for @seed, or -1. */
static int64_t block_gen(const uint64_t *b, uint64_t seed, uint64_t blkno)
{
	uint64_t got, gen;

	if (vmtest_block_decode(b, seed, &got, &gen) || got != blkno)
		return -1;
	return (int64_t)gen;
}

static uint64_t log_sum(const struct log_rec *r)
{
	return vmtest_mix(r->magic ^ vmtest_mix(r->nonce ^ vmtest_mix(r->index ^ vmtest_mix(r->seed ^
		   vmtest_mix(r->batch ^ vmtest_mix(r->nblocks))))));
}

static int open_dev(const char *path, int flags, uint64_t *nblocks)
{
	struct stat st;
	uint64_t bytes;
	int fd;

	fd = open(path, flags | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "vmtest-io: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (nblocks) {
		if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
			*nblocks = (uint64_t)st.st_size / BLK;
			return fd;
		}
		if (ioctl(fd, BLKGETSIZE64, &bytes)) {
			fprintf(stderr, "vmtest-io: %s: BLKGETSIZE64: %s\n",
				path, strerror(errno));
			close(fd);
			return -1;
		}
		*nblocks = bytes / BLK;
	}
	return fd;
}

static int pwrite_block(int fd, const void *buf, uint64_t blkno,
			const char *what)
{
	ssize_t n = pwrite(fd, buf, BLK, (off_t)(blkno * BLK));

	if (n != BLK) {
		fprintf(stderr, "vmtest-io: write %s block %" PRIu64 ": %s\n",
			what, blkno, n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

static int pread_block(int fd, void *buf, uint64_t blkno, const char *what)
{
	ssize_t n = pread(fd, buf, BLK, (off_t)(blkno * BLK));

	if (n != BLK) {
		fprintf(stderr, "vmtest-io: read %s block %" PRIu64 ": %s\n",
			what, blkno, n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "vmtest-io: '%s' is not a number\n", s);
		return -1;
	}
	return 0;
}

static uint64_t batch_blkno(uint64_t seed, uint64_t b, uint64_t j,
			    uint64_t nblocks)
{
	return vmtest_mix(seed ^ vmtest_mix(b * 65537 + j)) % nblocks;
}

static int cmd_write(int argc, char **argv)
{
	static uint64_t buf[WORDS] __attribute__((aligned(BLK)));
	uint64_t seed, count, first = 0, n, size, i, blkno;
	int fd;

	if (argc != 3 && argc != 5)
		return -2;
	if (parse_u64(argv[1], &seed) || parse_u64(argv[2], &count))
		return -1;
	fd = open_dev(argv[0], O_RDWR, &size);
	if (fd < 0)
		return -1;
	n = size;
	if (argc == 5 && (parse_u64(argv[3], &first) ||
			  parse_u64(argv[4], &n)))
		goto fail;
	if (!n || first + n > size) {
		fprintf(stderr, "vmtest-io: range beyond the device\n");
		goto fail;
	}
	for (i = 0; i < count; i++) {
		blkno = first + vmtest_mix(seed ^ vmtest_mix(i)) % n;
		vmtest_make_block(buf, seed, blkno, i + 1);
		if (pwrite_block(fd, buf, blkno, argv[0]))
			goto fail;
	}
	if (fdatasync(fd)) {
		perror("vmtest-io: fdatasync");
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int cmd_list(int argc, char **argv)
{
	uint64_t seed, count, first, n, i;

	if (argc != 4)
		return -2;
	if (parse_u64(argv[0], &seed) || parse_u64(argv[1], &count) ||
	    parse_u64(argv[2], &first) || parse_u64(argv[3], &n))
		return -1;
	if (!n) {
		fprintf(stderr, "vmtest-io: NBLOCKS must not be 0\n");
		return -1;
	}
	for (i = 0; i < count; i++)
		printf("%" PRIu64 "\n", first + vmtest_mix(seed ^ vmtest_mix(i)) % n);
	return 0;
}

static int cmd_fill(int argc, char **argv)
{
	static uint64_t buf[WORDS] __attribute__((aligned(BLK)));
	uint64_t seed, size, i;
	int fd;

	if (argc != 2)
		return -2;
	if (parse_u64(argv[1], &seed))
		return -1;
	fd = open_dev(argv[0], O_RDWR, &size);
	if (fd < 0)
		return -1;
	for (i = 0; i < size; i++) {
		vmtest_make_block(buf, seed, i, 0);
		if (pwrite_block(fd, buf, i, argv[0])) {
			close(fd);
			return -1;
		}
	}
	if (fdatasync(fd)) {
		perror("vmtest-io: fdatasync");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int cmd_pcwrite(int argc, char **argv)
{
	static uint64_t buf[WORDS] __attribute__((aligned(BLK)));
	static struct log_rec rec __attribute__((aligned(BLK)));
	static char recbuf[BLK] __attribute__((aligned(BLK)));
	uint64_t seed, batch, nblocks, maxb, size, b, j, blkno;
	int fd, lfd = -1;

	if (argc != 6)
		return -2;
	if (parse_u64(argv[2], &seed) || parse_u64(argv[3], &batch) ||
	    parse_u64(argv[4], &nblocks) || parse_u64(argv[5], &maxb))
		return -1;
	fd = open_dev(argv[0], O_RDWR, &size);
	if (fd < 0)
		return -1;
	if (!nblocks || nblocks > size || !batch) {
		fprintf(stderr, "vmtest-io: bad NBLOCKS or BATCH\n");
		goto fail;
	}
	lfd = open_dev(argv[1], O_RDWR | O_SYNC, NULL);
	if (lfd < 0)
		goto fail;
	memset(&rec, 0, sizeof(rec));
	rec.magic = LOG_MAGIC;
	rec.nonce = vmtest_mix(seed ^ (uint64_t)getpid() ^ (uint64_t)time(NULL));
	rec.seed = seed;
	rec.batch = batch;
	rec.nblocks = nblocks;
	for (b = 0; b <= maxb; b++) {
		if (b) {
			for (j = 0; j < batch; j++) {
				blkno = batch_blkno(seed, b - 1, j, nblocks);
				vmtest_make_block(buf, seed, blkno, b);
				if (pwrite_block(fd, buf, blkno, argv[0]))
					goto fail;
			}
			if (fdatasync(fd)) {
				perror("vmtest-io: fdatasync");
				goto fail;
			}
		}
		/* Record b: batches 0..b-1 are durable (b == 0: header). */
		rec.index = b;
		rec.sum = log_sum(&rec);
		memset(recbuf, 0, BLK);
		memcpy(recbuf, &rec, sizeof(rec));
		if (pwrite_block(lfd, recbuf, b, argv[1]))
			goto fail;
		/* The next record slot must not hold a stale record. */
		memset(recbuf, 0, BLK);
		if (pwrite_block(lfd, recbuf, b + 1, argv[1]))
			goto fail;
	}
	close(lfd);
	close(fd);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	close(fd);
	return -1;
}

static int cmd_pcverify(int argc, char **argv, int verbose)
{
	static uint64_t buf[WORDS] __attribute__((aligned(BLK)));
	static char recbuf[BLK] __attribute__((aligned(BLK)));
	struct log_rec hdr, rec;
	uint64_t size, acked, b, j, blkno, *want = NULL;
	uint8_t *inflight = NULL;
	int64_t gen;
	int fd, lfd = -1, bad = 0, r = -1;

	if (argc != 2)
		return -2;
	fd = open_dev(argv[0], O_RDONLY, &size);
	if (fd < 0)
		return -1;
	lfd = open_dev(argv[1], O_RDONLY, NULL);
	if (lfd < 0)
		goto out;
	if (pread_block(lfd, recbuf, 0, argv[1]))
		goto out;
	memcpy(&hdr, recbuf, sizeof(hdr));
	if (hdr.magic != LOG_MAGIC || hdr.index || hdr.sum != log_sum(&hdr) ||
	    !hdr.nblocks || hdr.nblocks > size) {
		fprintf(stderr, "vmtest-io: %s holds no power-cut log\n",
			argv[1]);
		goto out;
	}
	for (acked = 0;; acked++) {
		if (pread_block(lfd, recbuf, acked + 1, argv[1]))
			goto out;
		memcpy(&rec, recbuf, sizeof(rec));
		if (rec.magic != LOG_MAGIC || rec.nonce != hdr.nonce ||
		    rec.index != acked + 1 || rec.sum != log_sum(&rec))
			break;
	}
	want = calloc(hdr.nblocks, sizeof(*want));
	inflight = calloc(hdr.nblocks, 1);
	if (!want || !inflight) {
		fprintf(stderr, "vmtest-io: out of memory\n");
		goto out;
	}
	for (b = 0; b <= acked; b++) {
		for (j = 0; j < hdr.batch; j++) {
			blkno = batch_blkno(hdr.seed, b, j, hdr.nblocks);
			if (b < acked)
				want[blkno] = b + 1;
			else
				inflight[blkno] = 1;
		}
	}
	for (blkno = 0; blkno < hdr.nblocks; blkno++) {
		if (pread_block(fd, buf, blkno, argv[0]))
			goto out;
		gen = block_gen(buf, hdr.seed, blkno);
		if (gen > 0 && verbose)
			printf("changed %" PRIu64 "\n", blkno);
		if (!want[blkno])
			continue;
		if (gen == (int64_t)want[blkno])
			continue;
		if (inflight[blkno] && gen == (int64_t)acked + 1)
			continue;
		if (bad++ < 10)
			fprintf(stderr,
				"vmtest-io: block %" PRIu64 ": want generation %" PRIu64 " (flushed), found %" PRId64 "\n",
				blkno, want[blkno], gen);
	}
	printf("acked=%" PRIu64 " batch=%" PRIu64 " bad=%d\n", acked,
	       hdr.batch, bad);
	r = bad ? 1 : 0;
out:
	free(want);
	free(inflight);
	if (lfd >= 0)
		close(lfd);
	close(fd);
	return r;
}

static int cmd_hold(int argc, char **argv)
{
	int fd;

	if (argc != 1)
		return -2;
	fd = open(argv[0], O_RDONLY | O_EXCL);
	if (fd < 0) {
		fprintf(stderr, "vmtest-io: %s: %s\n", argv[0], strerror(errno));
		return -1;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmtest-io write DEV SEED COUNT [FIRST NBLOCKS]\n"
		"       vmtest-io list SEED COUNT FIRST NBLOCKS\n"
		"       vmtest-io fill DEV SEED\n"
		"       vmtest-io pcwrite DEV LOGDEV SEED BATCH NBLOCKS MAXBATCHES\n"
		"       vmtest-io pcverify [-v] DEV LOGDEV\n"
		"       vmtest-io hold DEV\n"
		"Blocks are 4096 bytes; all I/O uses O_DIRECT.\n");
}

int main(int argc, char **argv)
{
	int verbose = 0;
	int r;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "write")) {
		r = cmd_write(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "list")) {
		r = cmd_list(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "fill")) {
		r = cmd_fill(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "pcwrite")) {
		r = cmd_pcwrite(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "hold")) {
		r = cmd_hold(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "pcverify")) {
		if (argc > 2 && !strcmp(argv[2], "-v"))
			verbose = 1;
		r = cmd_pcverify(argc - 2 - verbose, argv + 2 + verbose,
				 verbose);
	} else {
		fprintf(stderr, "vmtest-io: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (r == -2) {
		fprintf(stderr, "vmtest-io: %s: wrong number of arguments\n",
			argv[1]);
		usage(stderr);
		return 2;
	}
	return r < 0 ? 2 : r;
}
