// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-csum-ref - userspace reference for `vmfit-ctl checksum`: read a
 * device (O_DIRECT) chunk by chunk and print "<chunk> <hex digest>" lines,
 * then "merkle-root <hex>" with --merkle, exactly as vmfit-ctl does, so
 * the two outputs can be compared with cmp.
 *
 *   vmfit-csum-ref [--algo A] [--changed RANGES] [--merkle] [--quiet]
 *                  CHUNK_SECTORS DEV
 *
 * RANGES is the `changed` message's format ("0-3,17"; "" is empty).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "uapi/linux/dm-vmfit.h"
#include "vf_csum.h"
#include "vf_merkle.h"
#include "vf_status.h"

static int usage(const char *why)
{
	fprintf(stderr, "vmfit-csum-ref: %s\nusage: vmfit-csum-ref [--algo A] "
		"[--changed RANGES] [--merkle] [--quiet] CHUNK_SECTORS DEV\n",
		why);
	return 2;
}

static int dev_size(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) ? -errno : 0;
	*bytes = st.st_size;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "algo", required_argument, NULL, 'a' },
		{ "changed", required_argument, NULL, 'c' },
		{ "merkle", no_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t algo = VMFIT_CSUM_SHA256;
	const char *changed = NULL;
	bool merkle = false, quiet = false, more = false;
	struct vf_ranges rs;
	struct vf_merkle *tree;
	uint8_t *leaves = NULL, *buf;
	uint8_t d[VMFIT_DIGEST_MAX];
	uint64_t size, nchunks, c, chunk_bytes, len;
	size_t nleaves = 0, ri = 0;
	unsigned long sectors;
	char *end;
	int fd, opt, n, i;

	while ((opt = getopt_long(argc, argv, "a:c:mq", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (vf_csum_algo_parse(optarg, &algo))
				return usage("unknown algorithm");
			break;
		case 'c':
			changed = optarg;
			break;
		case 'm':
			merkle = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return usage("bad option");
		}
	}
	if (argc - optind != 2)
		return usage("needs CHUNK_SECTORS and DEV");
	sectors = strtoul(argv[optind], &end, 10);
	if (*end || !sectors || sectors > 2048 || (sectors & (sectors - 1)))
		return usage("bad chunk size");
	chunk_bytes = sectors * 512;
	vf_ranges_init(&rs);
	if (changed && vf_changed_parse(changed, &rs, &more))
		return usage("bad ranges");
	if (more)
		return usage("truncated ranges");

	fd = open(argv[optind + 1], O_RDONLY | O_DIRECT);
	if (fd < 0 || dev_size(fd, &size)) {
		perror(argv[optind + 1]);
		return 1;
	}
	nchunks = (size + chunk_bytes - 1) / chunk_bytes;
	if (posix_memalign((void **)&buf, 4096, chunk_bytes))
		return 1;
	if (merkle) {
		leaves = calloc(nchunks ? nchunks : 1, VF_MERKLE_DIGEST_SIZE);
		if (!leaves)
			return 1;
	}
	for (c = 0; c < nchunks; c++) {
		if (changed) {
			while (ri < rs.n && rs.r[ri].end < c)
				ri++;
			if (ri == rs.n || rs.r[ri].start > c)
				continue;
		}
		len = size - c * chunk_bytes;
		if (len > chunk_bytes)
			len = chunk_bytes;
		if (pread(fd, buf, chunk_bytes > len ? (len + 511) / 512 * 512 :
			  len, c * chunk_bytes) < (ssize_t)len) {
			perror("pread");
			return 1;
		}
		n = vf_csum_digest(algo, buf, len, d);
		if (n < 0)
			return 1;
		if (merkle)
			memcpy(leaves + nleaves++ * VF_MERKLE_DIGEST_SIZE, d,
			       n < VF_MERKLE_DIGEST_SIZE ? n :
			       VF_MERKLE_DIGEST_SIZE);
		if (!quiet) {
			printf("%" PRIu64 " ", c);
			for (i = 0; i < n; i++)
				printf("%02x", d[i]);
			putchar('\n');
		}
	}
	if (merkle) {
		if (vf_merkle_build(leaves, nleaves, &tree))
			return 1;
		printf("merkle-root ");
		for (i = 0; i < VF_MERKLE_DIGEST_SIZE; i++)
			printf("%02x", vf_merkle_root(tree)[i]);
		putchar('\n');
		vf_merkle_free(tree);
	}
	free(leaves);
	free(buf);
	vf_ranges_free(&rs);
	close(fd);
	return 0;
}
