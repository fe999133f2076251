// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_dstore - per-chunk digest store with a Merkle tree. See vf_dstore.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vf_dstore.h"
#include "vf_proto.h"
#include "vf_rcv.h"

#define DS VF_MERKLE_DIGEST_SIZE

int vf_dstore_init(struct vf_dstore *s, uint64_t nchunks, uint32_t chunk_size)
{
	struct vf_rcv_geom g = { nchunks, chunk_size };

	memset(s, 0, sizeof(*s));
	if (vf_rcv_geom_check(&g))
		return -EINVAL;
	s->nchunks = nchunks;
	s->chunk_size = chunk_size;
	if (nchunks) {
		s->d = calloc(nchunks, DS);
		if (!s->d)
			return -ENOMEM;
	}
	s->complete = !nchunks;
	return 0;
}

void vf_dstore_free(struct vf_dstore *s)
{
	vf_merkle_free(s->tree);
	free(s->d);
	memset(s, 0, sizeof(*s));
}

int vf_dstore_copy(struct vf_dstore *dst, const struct vf_dstore *src)
{
	int r = vf_dstore_init(dst, src->nchunks, src->chunk_size);

	if (r)
		return r;
	if (src->nchunks)
		memcpy(dst->d, src->d, src->nchunks * DS);
	dst->round = src->round;
	dst->complete = src->complete;
	return 0;
}

int vf_dstore_set(struct vf_dstore *s, uint64_t chunk, const uint8_t *digest,
		  unsigned int size)
{
	if (size != DS)
		return -EINVAL;
	if (chunk >= s->nchunks)
		return -ERANGE;
	memcpy(s->d + chunk * DS, digest, DS);
	vf_merkle_free(s->tree);
	s->tree = NULL;
	return 0;
}

int vf_dstore_digest_cb(uint64_t chunk, const uint8_t *digest,
			unsigned int size, void *arg)
{
	return vf_dstore_set(arg, chunk, digest, size);
}

const uint8_t *vf_dstore_get(const struct vf_dstore *s, uint64_t chunk)
{
	return chunk < s->nchunks ? s->d + chunk * DS : NULL;
}

unsigned int vf_dstore_levels(const struct vf_dstore *s)
{
	return vf_merkle_shape_levels(s->nchunks);
}

static int build(struct vf_dstore *s)
{
	if (s->tree)
		return 0;
	return vf_merkle_build(s->d, s->nchunks, &s->tree);
}

int vf_dstore_root(struct vf_dstore *s, uint8_t out[DS])
{
	int r = build(s);

	if (r)
		return r;
	memcpy(out, vf_merkle_root(s->tree), DS);
	return 0;
}

int vf_dstore_nodes(struct vf_dstore *s, unsigned int level, uint64_t first,
		    unsigned int n, uint8_t *out)
{
	const uint8_t *p;
	unsigned int i;
	int r = build(s);

	if (r)
		return r;
	if (first > SIZE_MAX || n > SIZE_MAX - first)
		return -ERANGE;
	for (i = 0; i < n; i++) {
		p = vf_merkle_node(s->tree, level, first + i);
		if (!p)
			return -ERANGE;
		memcpy(out + (size_t)i * DS, p, DS);
	}
	return 0;
}

/*----------------------------------------------------------------*/
/* File */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static void header(const struct vf_dstore *s, uint8_t h[VF_DSTORE_HDR_LEN])
{
	memcpy(h, VF_DSTORE_MAGIC, 8);
	put32(h + 8, VF_DSTORE_VERSION);
	put32(h + 12, s->chunk_size);
	put64(h + 16, s->nchunks);
	put64(h + 24, s->round);
}

/* SHA-256 over the header and the digests, as two pieces. */
static int file_sum(const uint8_t *h, const uint8_t *d, size_t dlen,
		    uint8_t out[DS])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, h, VF_DSTORE_HDR_LEN) &&
	     (!dlen || EVP_DigestUpdate(ctx, d, dlen)) &&
	     EVP_DigestFinal_ex(ctx, out, &len) && len == DS;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int sync_dir(const char *path)
{
	char buf[PATH_MAX];
	int fd, r = 0;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		r = -errno;
	close(fd);
	return r;
}

int vf_dstore_save(const struct vf_dstore *s, const char *path)
{
	uint8_t h[VF_DSTORE_HDR_LEN], sum[DS];
	char tmp[PATH_MAX];
	size_t dlen = s->nchunks * DS;
	int fd, r;

	if (!s->complete)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	header(s, h);
	r = file_sum(h, s->d, dlen, sum);
	if (r)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = vf_write_all(fd, h, sizeof(h));
	if (!r && dlen)
		r = vf_write_all(fd, s->d, dlen);
	if (!r)
		r = vf_write_all(fd, sum, sizeof(sum));
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	return sync_dir(path);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

int vf_dstore_load(struct vf_dstore *s, const char *path, uint64_t nchunks,
		   uint32_t chunk_size)
{
	uint8_t h[VF_DSTORE_HDR_LEN], sum[DS], want[DS], extra;
	struct stat st;
	uint64_t n;
	int fd, r;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = vf_read_all(fd, h, sizeof(h));
	if (r)
		goto out_short;
	r = -EBADMSG;
	if (memcmp(h, VF_DSTORE_MAGIC, 8) ||
	    get32(h + 8) != VF_DSTORE_VERSION)
		goto out_close;
	n = get64(h + 16);
	r = -EINVAL;
	if (get32(h + 12) != chunk_size || n != nchunks)
		goto out_close;
	/* The geometry is the caller's, so n is bounded before allocating. */
	if (fstat(fd, &st) ||
	    (uint64_t)st.st_size != VF_DSTORE_HDR_LEN + (n + 1) * DS) {
		r = -ENODATA;
		goto out_close;
	}
	r = vf_dstore_init(s, n, chunk_size);
	if (r)
		goto out_close;
	s->round = get64(h + 24);
	r = n ? vf_read_all(fd, s->d, n * DS) : 0;
	if (!r)
		r = vf_read_all(fd, sum, sizeof(sum));
	if (r)
		goto out_short_free;
	if (read(fd, &extra, 1) != 0) {
		r = -ENODATA;
		goto out_free;
	}
	r = file_sum(h, s->d, n * DS, want);
	if (r)
		goto out_free;
	if (memcmp(sum, want, DS)) {
		r = -EBADMSG;
		goto out_free;
	}
	s->complete = true;
	close(fd);
	return 0;

out_short_free:
	if (r == -EPIPE)
		r = -ENODATA;
out_free:
	vf_dstore_free(s);
	goto out_close;
out_short:
	if (r == -EPIPE)
		r = -ENODATA;
out_close:
	close(fd);
	return r;
}
