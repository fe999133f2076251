// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv-state-test - engines and abstract state, in process:
 *  - the slot geometry;
 *  - both engines behave the same through kv_exec() on a long seeded
 *    random sequence of valid and invalid ops (byte-identical replies);
 *  - checkpoints of equal states are byte-identical files, and a second
 *    checkpoint writes exactly the header and the slots of the keys put in
 *    between (write observer);
 *  - restore into the other engine continues identically;
 *  - every kind of corrupt volume is rejected with the documented errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kv_engine.h"
#include "../kv_state.h"
#include "kv_test.h"
#include "vf_crc.h"

/*
 * In tmpfs when there is one: the crash tests run thousands of
 * checkpoints, and fdatasync on a disk would make that minutes.
 */
static char tmpdir_shm[] = "/dev/shm/kv-state-test.XXXXXX";
static char tmpdir_tmp[] = "/tmp/kv-state-test.XXXXXX";
static char *tmpdir = tmpdir_shm;

static const struct kv_engine_ops *const engines[] = {
	&kv_hash_ops, &kv_sqlite_ops
};

/*------------------------------------------------------------------*/
/* write observer */

#define MAX_WRITES 100000

struct wlog {
	uint32_t n;
	uint64_t off[MAX_WRITES];
	uint64_t len[MAX_WRITES];
};

static int wlog_observe(void *arg, uint64_t off, const uint8_t *p,
			uint64_t len)
{
	struct wlog *w = arg;

	(void)p;
	if (!len)	/* a sync */
		return 0;
	REQUIRE(w->n < MAX_WRITES);
	w->off[w->n] = off;
	w->len[w->n] = len;
	w->n++;
	return 0;
}

/* Is every byte of [off, off+len) covered by exactly one recorded write? */
static bool wlog_has(const struct wlog *w, uint64_t off, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < w->n; i++)
		if (w->off[i] == off && w->len[i] == len)
			return true;
	return false;
}

/*------------------------------------------------------------------*/
/* helpers */

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static int files_equal(const char *a, const char *b)
{
	static uint8_t ba[1 << 16], bb[1 << 16];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	ssize_t ra, rb;
	int eq = 1;

	REQUIRE(fa >= 0 && fb >= 0);
	for (;;) {
		ra = read(fa, ba, sizeof(ba));
		rb = read(fb, bb, sizeof(bb));
		if (ra != rb || (ra > 0 && memcmp(ba, bb, ra))) {
			eq = 0;
			break;
		}
		if (ra <= 0)
			break;
	}
	close(fa);
	close(fb);
	return eq;
}

/* Put-only op on @key, for the write-set test. */
static size_t put_op(uint8_t *op, uint32_t key, uint32_t len, uint8_t fill)
{
	uint8_t val[KV_MAX_OP];
	int n;

	memset(val, fill, len);
	n = kv_req_encode(op, KV_MAX_OP, KV_OP_PUT, key, val, len);
	REQUIRE(n > 0);
	return n;
}

/* The number of distinct values among @n keys. */
static uint32_t distinct(const uint32_t *keys, uint32_t n)
{
	uint32_t i, j, d = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (keys[j] == keys[i])
				break;
		d += j == i;
	}
	return d;
}

/*
 * The bytes an incremental checkpoint writes for @n changed slots (and a
 * new order): each slot three times (journal, in place, journal zeroed),
 * the index twice (written, zeroed), the commit record twice and the
 * header once. Nothing depends on the size of the state.
 */
static uint64_t ckpt_bytes(const struct kv_geom *g, uint32_t n)
{
	uint64_t idx = (4ull * n + 4095) / 4096 * 4096;

	return 3ull * n * g->slot_size + 2 * idx + 3 * 4096;
}

/*------------------------------------------------------------------*/

static void test_geometry(void)
{
	static const struct { uint32_t rs, slot; } t[] = {
		{ 1, 16 }, { 8, 16 }, { 9, 32 }, { 24, 32 }, { 100, 128 },
		{ 120, 128 }, { 121, 256 }, { 4088, 4096 }, { 4089, 8192 },
		{ 8184, 8192 }, { 8185, 12288 }, { KV_MAX_RECORD_SIZE, 65536 },
	};
	struct kv_limits lim;
	struct kv_geom g;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		lim = (struct kv_limits){ 3, t[i].rs };
		REQUIRE(!kv_geom_init(&g, &lim));
		CHECK_EQ(g.slot_size, t[i].slot);
		CHECK_EQ(g.data_end % 4096, 0);
		CHECK(g.data_end >= 4096 + 3ull * t[i].slot);
		CHECK(g.data_end < 4096 + 3ull * t[i].slot + 4096);
		/* the journal: commit, one index block, room for every slot */
		CHECK_EQ(g.journal_off, g.data_end);
		CHECK_EQ(g.index_off, g.journal_off + 4096);
		CHECK_EQ(g.entries_off, g.index_off + 4096);
		CHECK_EQ(g.volume_size, g.entries_off + g.data_end - 4096);
		/* no slot crosses more block boundaries than it must */
		if (t[i].slot <= 4096)
			CHECK_EQ(4096 % t[i].slot, 0);
	}
	lim = (struct kv_limits){ 1000, 100 };
	REQUIRE(!kv_geom_init(&g, &lim));
	CHECK_EQ(g.data_end, 4096 + 32 * 4096);	/* 128000 rounded up */
	CHECK_EQ(g.volume_size, g.data_end + 4096 + 4096 + 32 * 4096);
	lim = (struct kv_limits){ KV_MAX_RECORDS, KV_MAX_RECORD_SIZE };
	CHECK_EQ(kv_geom_init(&g, &lim), -EINVAL);	/* 16 TiB */
	lim = (struct kv_limits){ 0, 100 };
	CHECK_EQ(kv_geom_init(&g, &lim), -EINVAL);
}

static void test_engine_basics(const struct kv_engine_ops *ops)
{
	struct kv_limits lim = { 50, 16 };
	struct kv_store s;
	uint8_t buf[16];
	uint32_t len = 99;

	REQUIRE(!kv_store_open(&s, ops, &lim));
	CHECK_EQ(ops->get(s.e, 3, buf, &len), -ENOENT);
	CHECK_EQ(ops->put(s.e, 3, (const uint8_t *)"abc", 3), 0);
	CHECK_EQ(ops->get(s.e, 3, buf, &len), 0);
	CHECK_EQ(len, 3);
	CHECK(!memcmp(buf, "abc", 3));
	CHECK_EQ(ops->put(s.e, 3, (const uint8_t *)"", 0), 0);
	CHECK_EQ(ops->get(s.e, 3, buf, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(ops->put(s.e, 50, (const uint8_t *)"x", 1), -EINVAL);
	CHECK_EQ(ops->put(s.e, 1, buf, 17), -EINVAL);
	CHECK_EQ(ops->load(s.e, 7, (const uint8_t *)"loaded", 6), 0);
	CHECK_EQ(ops->get(s.e, 7, buf, &len), 0);
	CHECK_EQ(len, 6);
	CHECK_EQ(ops->reset(s.e), 0);
	CHECK_EQ(ops->get(s.e, 3, buf, &len), -ENOENT);
	CHECK_EQ(ops->get(s.e, 7, buf, &len), -ENOENT);
	kv_store_close(&s);
}

/* Collect the key set an iteration reports, as a bitmap. */
static int mark_key(void *arg, uint32_t key, const uint8_t *val,
		    uint32_t len)
{
	uint8_t *bm = arg;

	bm[key / 8] |= 1 << (key % 8);
	return 0;
}

static void test_dirty_tracking(const struct kv_engine_ops *ops)
{
	struct kv_limits lim = { 2000, 8 };
	uint8_t bm[250], want[250];
	struct kv_store s;
	uint32_t k;

	REQUIRE(!kv_store_open(&s, ops, &lim));
	memset(want, 0, sizeof(want));
	/* enough keys to make the hash table grow several times */
	for (k = 0; k < 2000; k += 3) {
		CHECK_EQ(ops->put(s.e, k, (const uint8_t *)"v", 1), 0);
		CHECK_EQ(ops->put(s.e, k, (const uint8_t *)"w", 1), 0);
		want[k / 8] |= 1 << (k % 8);
	}
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(ops->iterate(s.e, true, mark_key, bm), 0);
	CHECK(!memcmp(bm, want, sizeof(bm)));
	CHECK_EQ(ops->clean(s.e), 0);
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(ops->iterate(s.e, true, mark_key, bm), 0);
	CHECK_EQ(bm[0] | bm[100] | bm[249], 0);
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(ops->iterate(s.e, false, mark_key, bm), 0);
	CHECK(!memcmp(bm, want, sizeof(bm)));
	/* a load is not dirty, a put after clean is */
	CHECK_EQ(ops->load(s.e, 1, (const uint8_t *)"l", 1), 0);
	CHECK_EQ(ops->put(s.e, 3, (const uint8_t *)"p", 1), 0);
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(ops->iterate(s.e, true, mark_key, bm), 0);
	CHECK_EQ(bm[0], 1 << 3);
	/* the iteration stops on a nonzero return */
	kv_store_close(&s);
}

/*
 * The differential core: run @nops random ops on both engines, compare
 * every reply byte for byte. Returns the number of ops run.
 */
static void run_both(struct kv_store *s, uint64_t *seed, uint32_t nops,
		     uint32_t nkeys)
{
	static uint8_t op[KV_MAX_OP], r0[KV_MAX_OP], r1[KV_MAX_OP];
	static uint32_t counts[4];
	uint32_t i;
	size_t n;
	int l0, l1;

	for (i = 0; i < nops; i++) {
		n = kv_test_gen_op(seed, &s[0].lim, op, nkeys);
		l0 = kv_exec(&s[0], op, n, r0, sizeof(r0));
		l1 = kv_exec(&s[1], op, n, r1, sizeof(r1));
		REQUIRE(l0 >= 8 && l1 >= 8);
		if (l0 != l1 || memcmp(r0, r1, l0)) {
			fprintf(stderr, "replies differ at op %u\n", i);
			CHECK(0);
			return;
		}
		counts[r0[0]]++;
	}
	/* the sequence exercised every status */
	CHECK(counts[KV_OK] && counts[KV_NOT_FOUND] &&
	      counts[KV_BAD_REQUEST] && counts[KV_TOO_BIG]);
}

static void test_differential_checkpoint(void)
{
	struct kv_limits lim = { 3000, 100 };
	static uint8_t op[KV_MAX_OP], reply[KV_MAX_OP];
	static struct wlog wl[2];
	char path[2][256];
	struct kv_store s[2];
	struct kv_vol v[2];
	uint64_t seed = 0x5eed;
	uint32_t keys[64], nk, nd, i, k;
	uint64_t w0;
	int e, l;

	for (e = 0; e < 2; e++) {
		path_of(path[e], sizeof(path[e]),
			e ? "diff-sqlite" : "diff-hash");
		REQUIRE(!kv_store_open(&s[e], engines[e], &lim));
		REQUIRE(!kv_vol_open(&v[e], path[e], &lim));
		v[e].hook = wlog_observe;
		v[e].hook_arg = &wl[e];
	}
	run_both(s, &seed, 20000, 3100);

	/* first checkpoint: full, identical files */
	for (e = 0; e < 2; e++) {
		wl[e].n = 0;
		CHECK_EQ(kv_checkpoint(&v[e], &s[e], 20000), 0);
		CHECK(wlog_has(&wl[e], 0, v[e].g.volume_size));
	}
	CHECK(files_equal(path[0], path[1]));

	/* K puts on a known key set, then GETs and bad ops (not dirty) */
	nk = 0;
	for (i = 0; i < 40; i++) {
		k = kv_rand_below(&seed, lim.records);
		keys[nk++] = k;
		for (e = 0; e < 2; e++) {
			l = kv_exec(&s[e], op, put_op(op, k, 1 + i % 100, i),
				    reply, sizeof(reply));
			CHECK(l == 8 && reply[0] == KV_OK);
		}
	}
	for (i = 0; i < 200; i++) {
		k = kv_rand_below(&seed, lim.records + 10);
		l = kv_req_encode(op, KV_MAX_OP, KV_OP_GET, k, NULL, 0);
		for (e = 0; e < 2; e++)
			kv_exec(&s[e], op, l, reply, sizeof(reply));
		l = put_op(op, k, lim.record_size + 1, 'x');
		for (e = 0; e < 2; e++)
			CHECK_EQ(kv_exec(&s[e], op, l, reply, sizeof(reply)),
				 8);
	}
	nd = distinct(keys, nk);
	for (e = 0; e < 2; e++) {
		wl[e].n = 0;
		w0 = v[e].bytes_written;
		CHECK_EQ(kv_checkpoint(&v[e], &s[e], 20440), 0);
		/* the header ... */
		CHECK(wlog_has(&wl[e], 0, 4096));
		/* ... and each touched slot, in place ... */
		for (i = 0; i < nk; i++)
			CHECK(wlog_has(&wl[e], 4096 + (uint64_t)keys[i] *
				       v[e].g.slot_size, v[e].g.slot_size));
		/* ... nothing else but the journal */
		for (i = 0; i < wl[e].n; i++) {
			if (wl[e].off[i] >= v[e].g.journal_off) {
				CHECK(wl[e].off[i] + wl[e].len[i] <=
				      v[e].g.volume_size);
				continue;
			}
			if (wl[e].off[i] == 0 && wl[e].len[i] == 4096)
				continue;
			for (k = 0; k < nk; k++)
				if (wl[e].off[i] == 4096 + (uint64_t)keys[k] *
				    v[e].g.slot_size)
					break;
			CHECK(k < nk && wl[e].len[i] == v[e].g.slot_size);
		}
		CHECK_EQ(v[e].bytes_written - w0, ckpt_bytes(&v[e].g, nd));
	}
	CHECK(files_equal(path[0], path[1]));

	/* a checkpoint with nothing new and the same order writes nothing */
	for (e = 0; e < 2; e++) {
		wl[e].n = 0;
		CHECK_EQ(kv_checkpoint(&v[e], &s[e], 20440), 0);
		CHECK_EQ(wl[e].n, 0);
	}

	/*
	 * rewriting a key with the value it has is not a change either: a
	 * new order is the header alone (journalled: commit, header, zeros)
	 */
	l = put_op(op, keys[nk - 1], 1 + (nk - 1) % 100, nk - 1);
	for (e = 0; e < 2; e++) {
		CHECK_EQ(kv_exec(&s[e], op, l, reply, sizeof(reply)), 8);
		wl[e].n = 0;
		w0 = v[e].bytes_written;
		CHECK_EQ(kv_checkpoint(&v[e], &s[e], 20441), 0);
		CHECK_EQ(wl[e].n, 3);
		CHECK(wlog_has(&wl[e], 0, 4096));
		CHECK(wlog_has(&wl[e], v[e].g.journal_off, 4096));
		CHECK_EQ(v[e].bytes_written - w0, ckpt_bytes(&v[e].g, 0));
	}
	CHECK(files_equal(path[0], path[1]));

	for (e = 0; e < 2; e++) {
		kv_vol_close(&v[e]);
		kv_store_close(&s[e]);
	}
}

/* Checkpoint from one engine, restore into the other, run on in lockstep. */
static void test_cross_restore(int from)
{
	struct kv_limits lim = { 500, 40 };
	static struct wlog wl;
	char p1[256], p2[256];
	struct kv_store s[2], r;
	struct kv_vol v, rv;
	uint64_t seed = 7 + from, order = 0;
	int to = !from;

	path_of(p1, sizeof(p1), "cross-src");
	path_of(p2, sizeof(p2), "cross-dst");
	unlink(p1);
	REQUIRE(!kv_store_open(&s[0], engines[0], &lim));
	REQUIRE(!kv_store_open(&s[1], engines[1], &lim));
	REQUIRE(!kv_vol_open(&v, p1, &lim));
	run_both(s, &seed, 5000, 520);
	CHECK_EQ(kv_checkpoint(&v, &s[from], 5000), 0);
	kv_vol_close(&v);

	/* the destination engine, fresh, loads the other's volume */
	REQUIRE(!kv_store_open(&r, engines[to], &lim));
	REQUIRE(!kv_vol_open(&rv, p1, &lim));
	rv.hook = wlog_observe;
	rv.hook_arg = &wl;
	CHECK_EQ(kv_restore(&rv, &r, &order), 0);
	CHECK_EQ(order, 5000);
	/* nothing is dirty after a restore: a checkpoint writes nothing */
	wl.n = 0;
	CHECK_EQ(kv_checkpoint(&rv, &r, 5000), 0);
	CHECK_EQ(wl.n, 0);
	kv_vol_close(&rv);

	/* and it now answers exactly like the source */
	kv_store_close(&s[to]);
	s[to] = r;
	run_both(s, &seed, 5000, 520);

	/* both checkpoint the same bytes again (full writes: new vols) */
	REQUIRE(!kv_vol_open(&v, p1, &lim));
	REQUIRE(!kv_vol_open(&rv, p2, &lim));
	CHECK_EQ(kv_checkpoint(&v, &s[0], 10000), 0);
	CHECK_EQ(kv_checkpoint(&rv, &s[1], 10000), 0);
	CHECK(files_equal(p1, p2));
	kv_vol_close(&v);
	kv_store_close(&s[0]);
	kv_store_close(&s[1]);
	kv_vol_close(&rv);
}

/*------------------------------------------------------------------*/
/* corrupt volumes */

struct vol_img {
	struct kv_geom g;
	uint8_t *b;
	size_t n;
};

static void write_img(const char *path, const uint8_t *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, b, n) == (ssize_t)n);
	close(fd);
}

static void refresh_crc(uint8_t *hdr)
{
	kv_put_le32(hdr + KV_HDR_CRC_OFF, vf_crc32c(0, hdr, KV_HDR_CRC_OFF));
}

/*
 * Restore @b (@n bytes) into both engines; both must end with @want and,
 * on success, order @order. On failure the store is empty, and the next
 * checkpoint makes the volume a good one again.
 */
static void expect_restore_at(const char *what, const struct kv_limits *lim,
			      const uint8_t *b, size_t n, int want,
			      uint64_t want_order)
{
	struct kv_store s;
	struct kv_vol v;
	char path[256];
	uint64_t order;
	uint8_t buf[KV_MAX_OP];
	uint32_t len;
	int e, r;

	path_of(path, sizeof(path), "corrupt");
	for (e = 0; e < 2; e++) {
		order = 12345;
		write_img(path, b, n);
		REQUIRE(!kv_store_open(&s, engines[e], lim));
		REQUIRE(!kv_vol_open(&v, path, lim));
		CHECK_EQ(s.ops->put(s.e, 1, (const uint8_t *)"old", 3), 0);
		r = kv_restore(&v, &s, &order);
		if (r != want)
			fprintf(stderr, "%s (%s): got %d, want %d\n", what,
				engines[e]->name, r, want);
		CHECK_EQ(r, want);
		if (!want) {
			CHECK_EQ(order, want_order);
		} else {
			CHECK_EQ(order, 12345);
			CHECK_EQ(s.ops->get(s.e, 1, buf, &len), -ENOENT);
			CHECK_EQ(kv_checkpoint(&v, &s, 1), 0);
			kv_vol_close(&v);
			REQUIRE(!kv_vol_open(&v, path, lim));
			CHECK_EQ(kv_restore(&v, &s, &order), 0);
			CHECK_EQ(order, 1);
			CHECK_EQ(s.ops->get(s.e, 1, buf, &len), -ENOENT);
		}
		kv_vol_close(&v);
		kv_store_close(&s);
	}
}

static void expect_restore(const char *what, const struct kv_limits *lim,
			   const uint8_t *b, size_t n, int want)
{
	expect_restore_at(what, lim, b, n, want, 77);
}

static void test_corrupt(void)
{
	struct kv_limits lim = { 100, 20 }, other;
	struct kv_store s;
	struct kv_vol v;
	char path[256];
	uint8_t *img, *bad;
	size_t n, slot, dend;
	int fd;

	/* a good image: a few records, checkpointed at order 77 */
	path_of(path, sizeof(path), "good");
	unlink(path);
	REQUIRE(!kv_store_open(&s, &kv_hash_ops, &lim));
	REQUIRE(!kv_vol_open(&v, path, &lim));
	CHECK_EQ(s.ops->put(s.e, 0, (const uint8_t *)"zero", 4), 0);
	CHECK_EQ(s.ops->put(s.e, 5, (const uint8_t *)"", 0), 0);
	CHECK_EQ(s.ops->put(s.e, 99, (const uint8_t *)"last one", 8), 0);
	CHECK_EQ(kv_checkpoint(&v, &s, 77), 0);
	slot = v.g.slot_size;
	n = v.g.volume_size;
	dend = v.g.data_end;
	kv_vol_close(&v);
	kv_store_close(&s);
	CHECK_EQ(slot, 32);
	CHECK_EQ(v.g.data_end,
		 4096 + 100 * 32 + (4096 - 100 * 32 % 4096) % 4096);

	img = malloc(n + 4096);
	bad = malloc(n + 4096);
	REQUIRE(img && bad);
	fd = open(path, O_RDONLY);
	REQUIRE(fd >= 0 && read(fd, img, n + 1) == (ssize_t)n);
	close(fd);

	expect_restore("good", &lim, img, n, 0);

#define MUTATE(what, want, stmt)					\
	do {								\
		memcpy(bad, img, n);					\
		stmt;							\
		expect_restore(what, &lim, bad, n, want);		\
	} while (0)

	MUTATE("bad magic", -EBADMSG, bad[0] = 'X');
	MUTATE("bad magic, crc fixed", -EBADMSG,
	       (bad[7] = 'X', refresh_crc(bad)));
	MUTATE("bad header checksum", -EBADMSG, bad[KV_HDR_CRC_OFF] ^= 1);
	MUTATE("flipped order byte", -EBADMSG, bad[33] ^= 1);
	MUTATE("version 1 (no journal)", -EBADMSG,
	       (kv_put_le32(bad + 8, 1), refresh_crc(bad)));
	MUTATE("version 3", -EBADMSG,
	       (kv_put_le32(bad + 8, 3), refresh_crc(bad)));
	MUTATE("header size", -EBADMSG,
	       (kv_put_le32(bad + 12, 512), refresh_crc(bad)));
	MUTATE("flags", -EBADMSG, (bad[28] = 1, refresh_crc(bad)));
	MUTATE("reserved byte", -EBADMSG, (bad[2000] = 1, refresh_crc(bad)));
	MUTATE("absurd record count", -EINVAL,
	       (kv_put_le32(bad + 16, 0xffffffffu), refresh_crc(bad)));
	MUTATE("other record count", -EINVAL,
	       (kv_put_le32(bad + 16, 101), refresh_crc(bad)));
	MUTATE("other record size", -EINVAL,
	       (kv_put_le32(bad + 20, 24), refresh_crc(bad)));
	MUTATE("forged slot size", -EBADMSG,
	       (kv_put_le32(bad + 24, 16), refresh_crc(bad)));
	MUTATE("forged volume size", -EBADMSG,
	       (kv_put_le64(bad + 40, 1ull << 50), refresh_crc(bad)));
	MUTATE("slot present = 2", -EBADMSG, bad[4096 + 0] = 2);
	MUTATE("slot len > record size", -EBADMSG,
	       kv_put_le32(bad + 4096 + 4, 21));
	MUTATE("slot len huge", -EBADMSG,
	       kv_put_le32(bad + 4096 + 99 * slot + 4, 0xffffffffu));
	MUTATE("absent slot with len", -EBADMSG,
	       kv_put_le32(bad + 4096 + 1 * slot + 4, 3));
	MUTATE("absent slot with data", -EBADMSG,
	       bad[4096 + 2 * slot + 20] = 1);
	MUTATE("present slot, nonzero padding", -EBADMSG,
	       bad[4096 + 0 * slot + 8 + 4] = 1);
	MUTATE("empty value, nonzero padding", -EBADMSG,
	       bad[4096 + 5 * slot + 31] = 1);
	MUTATE("tail after last slot", -EBADMSG, bad[dend - 1] = 1);
	MUTATE("forged journal offset", -EBADMSG,
	       (kv_put_le64(bad + 48, 4096), refresh_crc(bad)));
	MUTATE("reserved byte after the journal offset", -EBADMSG,
	       (bad[56] = 1, refresh_crc(bad)));
	/* junk in the journal without a commit record: zeroed, not state */
	MUTATE("junk in the journal", 0, memset(bad + dend + 4096, 0xa5, 100));
	MUTATE("torn commit record", 0, memcpy(bad + dend, KV_JRNL_MAGIC, 8));

	expect_restore("empty file", &lim, img, 0, -ENODATA);
	expect_restore("half a header", &lim, img, 2048, -ENODATA);
	expect_restore("header only", &lim, img, 4096, -ENODATA);
	expect_restore("one byte short", &lim, img, n - 1, -ENODATA);
	memcpy(bad, img, n);
	memset(bad + n, 0, 4096);
	expect_restore("longer file", &lim, bad, n + 4096, -EINVAL);
	memset(bad, 0, n);
	expect_restore("all zero", &lim, bad, n, -EBADMSG);

	/* the configuration is checked too: same bytes, other limits */
	other = (struct kv_limits){ 100, 21 };
	expect_restore("configured record size differs", &other, img, n,
		       -EINVAL);
#undef MUTATE
	free(img);
	free(bad);
}

/*
 * Crash points: a checkpoint from an old image to a new one, stopped at
 * every write (whole, torn in half, or with an earlier write of the same
 * sync interval lost; of a long run of in-place slot writes, the ends and
 * every 61st), then restored by the other engine: the volume and
 * the engine must hold exactly the old image or the new one, and the new
 * one exactly when the commit record and everything it covers were
 * written.
 */

struct crash {
	int fd;			/* the volume, for a torn write */
	int64_t at;		/* stop before write @at (-1: never) */
	int64_t lose;		/* this write is lost (-1: none) */
	bool torn;		/* write the first half of write @at */
	int64_t n;		/* writes seen */
	int64_t commit;		/* number of the commit record's write */
	int64_t sync_before[2];	/* writes before the first two syncs */
	int nsync;
	uint64_t journal_off;
	bool after_commit;	/* stop at the first write after the commit */
	bool jext;		/* the journal is in jfd (from journal_off) */
	int jfd;
};

static int crash_hook(void *arg, uint64_t off, const uint8_t *p,
		      uint64_t len)
{
	struct crash *c = arg;
	int64_t i;

	if (!len) {
		if (c->nsync < 2)
			c->sync_before[c->nsync] = c->n;
		c->nsync++;
		return 0;
	}
	i = c->n++;
	if (off == c->journal_off && p && !memcmp(p, KV_JRNL_MAGIC, 8))
		c->commit = i;
	if (c->after_commit && c->commit >= 0 && i > c->commit)
		return -EIO;
	if (i == c->at) {
		if (c->torn && p && c->jext && off >= c->journal_off)
			REQUIRE(pwrite(c->jfd, p, len / 2,
				       off - c->journal_off) ==
				(ssize_t)(len / 2));
		else if (c->torn && p)
			REQUIRE(pwrite(c->fd, p, len / 2, off) ==
				(ssize_t)(len / 2));
		return -EIO;
	}
	return i == c->lose;
}

struct scenario {
	const char *name;
	const struct kv_engine_ops *from, *to;
	struct kv_limits lim;
	uint32_t changes;	/* keys put between the checkpoints */
	bool restart;		/* the writer did not restore (diff) */
	bool journal;		/* external journal (kv_vol_journal) */
};

/* The external journal of volume @path's tests. */
static void journal_of(char *buf, size_t n, const char *path)
{
	REQUIRE((size_t)snprintf(buf, n, "%s.journal", path) < n);
}

/* Open @path (and, with @journal, its external journal, unless absent). */
static void vol_open(struct kv_vol *v, const char *path,
		     const struct kv_limits *lim, bool journal)
{
	char jp[300];

	REQUIRE(!kv_vol_open(v, path, lim));
	if (!journal)
		return;
	journal_of(jp, sizeof(jp), path);
	REQUIRE(!kv_vol_journal(v, jp));
}

/* Are @n bytes of @path from @off all zero? */
static bool file_zero(const char *path, uint64_t off, size_t n)
{
	uint8_t *b = malloc(n);
	int fd = open(path, O_RDONLY);
	bool z;

	REQUIRE(b && fd >= 0 && pread(fd, b, n, off) == (ssize_t)n);
	close(fd);
	z = true;
	while (n--)
		z = z && !b[n];
	free(b);
	return z;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	REQUIRE(fd >= 0 && !fstat(fd, &st));
	b = malloc(st.st_size + 1);
	REQUIRE(b && read(fd, b, st.st_size) == st.st_size);
	close(fd);
	*n = st.st_size;
	return b;
}

/* The store of the scenario's old state (order 100) on @path. */
static void crash_old(const struct scenario *sc, struct kv_store *s,
		      const char *path)
{
	struct kv_vol v;
	uint64_t seed = 99;
	uint32_t i, k;
	uint8_t val[KV_MAX_OP];

	REQUIRE(!kv_store_open(s, sc->from, &sc->lim));
	for (i = 0; i < sc->lim.records / 2; i++) {
		k = kv_rand_below(&seed, sc->lim.records);
		memset(val, i, sc->lim.record_size);
		REQUIRE(!s->ops->put(s->e, k, val,
				     kv_rand_below(&seed,
						   sc->lim.record_size + 1)));
	}
	unlink(path);
	REQUIRE(!kv_vol_open(&v, path, &sc->lim));
	REQUIRE(!kv_checkpoint(&v, s, 100));
	kv_vol_close(&v);
}

/* Put the scenario's changes: new keys, changed ones, one unchanged. */
static void crash_change(const struct scenario *sc, struct kv_store *s)
{
	uint64_t seed = 1234;
	uint8_t val[KV_MAX_OP];
	uint32_t i, k = 0, len;

	for (i = 0; i < sc->changes; i++) {
		k = kv_rand_below(&seed, sc->lim.records);
		memset(val, 0x80 | i, sc->lim.record_size);
		REQUIRE(!s->ops->put(s->e, k, val,
				     1 + kv_rand_below(&seed,
						       sc->lim.record_size)));
	}
	REQUIRE(!s->ops->get(s->e, k, val, &len));
	REQUIRE(!s->ops->put(s->e, k, val, len));
}

/*
 * Checkpoint the changed state at order 200 onto @path (holding the old
 * image) under @c. Returns the checkpoint's result.
 */
static int crash_run(const struct scenario *sc, const char *path,
		     const uint8_t *old, size_t nold, struct crash *c)
{
	struct kv_store s;
	struct kv_vol v;
	char src[256];
	uint64_t order;
	int r;

	write_img(path, old, nold);
	/* the old checkpoint's journal: empty */
	journal_of(src, sizeof(src), path);
	unlink(src);
	REQUIRE(!kv_store_open(&s, sc->from, &sc->lim));
	if (sc->restart) {
		/* the state came from elsewhere; this volume is unknown */
		path_of(src, sizeof(src), "crash-src");
		write_img(src, old, nold);
		REQUIRE(!kv_vol_open(&v, src, &sc->lim));
		REQUIRE(!kv_restore(&v, &s, &order));
		kv_vol_close(&v);
		vol_open(&v, path, &sc->lim, sc->journal);
	} else {
		vol_open(&v, path, &sc->lim, sc->journal);
		REQUIRE(!kv_restore(&v, &s, &order));
	}
	CHECK_EQ(order, 100);
	crash_change(sc, &s);
	c->fd = v.fd;
	c->jext = v.jext;
	c->jfd = v.jfd;
	c->journal_off = v.g.journal_off;
	v.hook = crash_hook;
	v.hook_arg = c;
	r = kv_checkpoint(&v, &s, 200);
	kv_vol_close(&v);
	kv_store_close(&s);
	return r;
}

/*
 * Restore @path into the other engine: the volume must become @old or
 * @new byte for byte, and so must a fresh checkpoint of what the engine
 * loaded. Returns 0 for old, 1 for new.
 */
static int crash_outcome(const struct scenario *sc, const char *path,
			 const uint8_t *old, const uint8_t *new, size_t n,
			 struct crash *rc)
{
	struct kv_store s;
	struct kv_vol v;
	char copy[256];
	uint64_t order = 0;
	uint8_t *got;
	size_t ng;
	int which, r;

	REQUIRE(!kv_store_open(&s, sc->to, &sc->lim));
	vol_open(&v, path, &sc->lim, sc->journal);
	/*
	 * An external journal: the volume's journal area was never written,
	 * and this host's own journal is replayed (kv_recover: crash
	 * recovery; RESTORE would discard it, test_untrusted_journal).
	 */
	if (sc->journal)
		CHECK(file_zero(path, v.g.journal_off,
				v.g.volume_size - v.g.journal_off));
	if (rc) {
		/* the restore crashes too: then a second one must finish */
		rc->fd = v.fd;
		rc->jext = v.jext;
		rc->jfd = v.jfd;
		v.hook = crash_hook;
		v.hook_arg = rc;
		r = kv_recover(&v, &s, &order);
		v.hook = NULL;
		if (r)
			r = kv_recover(&v, &s, &order);
	} else {
		r = kv_recover(&v, &s, &order);
	}
	CHECK_EQ(r, 0);
	kv_vol_close(&v);
	got = slurp(path, &ng);
	which = ng == n && !memcmp(got, new, n) ? 1 :
		ng == n && !memcmp(got, old, n) ? 0 : -1;
	free(got);
	CHECK(which >= 0);
	CHECK_EQ(order, which ? 200 : 100);
	path_of(copy, sizeof(copy), "crash-copy");
	unlink(copy);
	REQUIRE(!kv_vol_open(&v, copy, &sc->lim));
	CHECK_EQ(kv_checkpoint(&v, &s, order), 0);
	kv_vol_close(&v);
	got = slurp(copy, &ng);
	CHECK(ng == n && !memcmp(got, which ? new : old, n));
	free(got);
	kv_store_close(&s);
	return which;
}

static void test_crash_points(const struct scenario *sc)
{
	struct crash c = { .at = -1, .lose = -1, .commit = -1 }, rc;
	char path[256];
	uint8_t *old, *new;
	size_t nold, nnew;
	struct kv_store s;
	int64_t total, k, j, commit, sync1, outcomes[2] = { 0, 0 };
	uint64_t seed = 5;
	int want, got, t;

	path_of(path, sizeof(path), "crash");
	crash_old(sc, &s, path);
	kv_store_close(&s);
	old = slurp(path, &nold);
	/* the whole sequence, uninterrupted: the new image */
	CHECK_EQ(crash_run(sc, path, old, nold, &c), 0);
	new = slurp(path, &nnew);
	total = c.n;
	commit = c.commit;
	sync1 = c.sync_before[1];
	REQUIRE(nnew == nold && commit >= 0 && c.nsync >= 2);
	/* syncs: after the commit record, after the in-place writes */
	CHECK_EQ(c.sync_before[0], commit + 1);
	CHECK(c.sync_before[1] > commit + 1);
	CHECK(memcmp(old, new, nold));
	if (sc->journal) {
		/* the volume's bytes are an in-volume-journal replica's */
		struct scenario in = *sc;
		uint8_t *same;
		size_t nsame;

		in.journal = false;
		c = (struct crash){ .at = -1, .lose = -1, .commit = -1 };
		CHECK_EQ(crash_run(&in, path, old, nold, &c), 0);
		same = slurp(path, &nsame);
		CHECK(nsame == nnew && !memcmp(same, new, nnew));
		free(same);
	}

	for (k = 0; k < total; k++) {
		/*
		 * Every point, except that of a long run of in-place slot
		 * writes (all alike) only both ends and a sample are taken.
		 */
		if (k > commit + 16 && k + 16 < sync1 && k % 61)
			continue;
		for (t = 0; t < 3; t++) {
			c = (struct crash){ .at = k, .lose = -1, .commit = -1 };
			if (t == 1)
				c.torn = true;
			if (t == 2) {
				/* lose an earlier write of the same interval */
				j = k <= commit ? 0 :
				    k < sync1 ? commit + 1 : sync1;
				if (j >= k)
					continue;
				c.lose = j + kv_rand_below(&seed, k - j);
			}
			CHECK_EQ(crash_run(sc, path, old, nold, &c), -EIO);
			want = k > commit &&
			       !(c.lose >= 0 && c.lose <= commit);
			got = crash_outcome(sc, path, old, new, nold, NULL);
			if (got != want)
				fprintf(stderr, "%s: crash at write %lld/%lld (%s, lost %lld): %s image, want the %s\n",
					sc->name, (long long)k,
					(long long)total,
					t == 1 ? "torn" : t == 2 ? "lost" :
					"whole", (long long)c.lose,
					got < 0 ? "a mixed" : got ? "the new" :
					"the old",
					want ? "new" : "old");
			CHECK_EQ(got, want);
			outcomes[got > 0]++;
		}
	}
	/* the test can tell the two apart */
	CHECK(outcomes[0] && outcomes[1]);

	/*
	 * A crash in the middle of the in-place writes, then one at every
	 * write of the restore's own replay: the next restore completes it.
	 */
	k = (commit + sync1) / 2;
	for (j = 0;; j += 1 + j / 16) {
		c = (struct crash){ .at = k, .lose = -1, .commit = -1 };
		CHECK_EQ(crash_run(sc, path, old, nold, &c), -EIO);
		rc = (struct crash){ .at = j, .lose = -1, .commit = -1,
				     .journal_off = c.journal_off };
		rc.jext = false;
		CHECK_EQ(crash_outcome(sc, path, old, new, nold, &rc), 1);
		if (rc.n <= j)
			break;	/* the restore got through: all seen */
	}
	CHECK(j > 2);
	free(old);
	free(new);
}

/*
 * A committed journal that was not applied yet (a crash right after the
 * commit record was durable) is replayed; a commit record or journal that
 * does not check out in any way is an uncommitted checkpoint: discarded,
 * the previous checkpoint stands. A torn in-place header is repaired by a
 * committed journal and refused without one.
 */
static void refresh_data_crc(uint8_t *b, const struct kv_geom *g)
{
	uint32_t count = kv_get_le32(b + g->journal_off + 12), i;
	uint64_t crc = 0;

	for (i = 0; i < count; i++) {
		crc = vf_crc64_xz(crc, b + g->index_off + 4 * i, 4);
		crc = vf_crc64_xz(crc, b + g->entries_off +
			       (size_t)i * g->slot_size, g->slot_size);
	}
	kv_put_le64(b + g->journal_off + 32, crc);
	refresh_crc(b + g->journal_off);
}

/*
 * Checkpoint 78 (key 0 rewritten, key 7 added) over the checkpoint 77 of
 * @v, cut by @c (after_commit: right after the commit was durable).
 */
static void checkpoint_78_cut(struct kv_vol *v, struct kv_store *s,
			      struct crash *c)
{
	CHECK_EQ(s->ops->put(s->e, 0, (const uint8_t *)"ZERO", 4), 0);
	CHECK_EQ(s->ops->put(s->e, 7, (const uint8_t *)"seven", 5), 0);
	c->journal_off = v->g.journal_off;
	v->hook = crash_hook;
	v->hook_arg = c;
	CHECK_EQ(kv_checkpoint(v, s, 78), -EIO);
	CHECK(c->commit >= 0);
}

static void test_corrupt_journal(void)
{
	struct kv_limits lim = { 100, 20 };
	struct crash c = { .at = -1, .lose = -1, .commit = -1,
			   .after_commit = true };
	struct kv_store s;
	struct kv_vol v;
	struct kv_geom g;
	char path[256];
	uint8_t *img, *bad, *cr;
	size_t n;

	path_of(path, sizeof(path), "journal");
	unlink(path);
	REQUIRE(!kv_store_open(&s, &kv_sqlite_ops, &lim));
	REQUIRE(!kv_vol_open(&v, path, &lim));
	CHECK_EQ(s.ops->put(s.e, 0, (const uint8_t *)"zero", 4), 0);
	CHECK_EQ(s.ops->put(s.e, 99, (const uint8_t *)"last one", 8), 0);
	CHECK_EQ(kv_checkpoint(&v, &s, 77), 0);
	checkpoint_78_cut(&v, &s, &c);
	g = v.g;
	kv_vol_close(&v);
	kv_store_close(&s);
	img = slurp(path, &n);
	CHECK_EQ(n, g.volume_size);
	bad = malloc(n);
	REQUIRE(bad);
	cr = bad + g.journal_off;
	CHECK_EQ(kv_get_le32(img + g.journal_off + 12), 2);

	expect_restore_at("committed journal", &lim, img, n, 0, 78);

#define JMUTATE(what, want, order, stmt)				\
	do {								\
		memcpy(bad, img, n);					\
		stmt;							\
		expect_restore_at(what, &lim, bad, n, want, order);	\
	} while (0)
	JMUTATE("commit record checksum", 0, 77, cr[KV_HDR_CRC_OFF] ^= 1);
	JMUTATE("commit record magic", 0, 77, (cr[0] = 'X', refresh_crc(cr)));
	JMUTATE("commit record version", 0, 77,
		(kv_put_le32(cr + 8, 3), refresh_crc(cr)));
	JMUTATE("commit count > records", 0, 77,
		(kv_put_le32(cr + 12, 101), refresh_crc(cr)));
	JMUTATE("commit count huge", 0, 77,
		(kv_put_le32(cr + 12, 0xffffffffu), refresh_crc(cr)));
	JMUTATE("commit count short of the data", 0, 77,
		(kv_put_le32(cr + 12, 1), refresh_crc(cr)));
	JMUTATE("commit of another record size", 0, 77,
		(kv_put_le32(cr + 28, 21), refresh_crc(cr)));
	JMUTATE("commit reserved byte", 0, 77,
		(cr[40] = 1, refresh_crc(cr)));
	JMUTATE("commit data CRC", 0, 77,
		(cr[39] ^= 0x80, refresh_crc(cr)));
	JMUTATE("journal entry byte", 0, 77, bad[g.entries_off + 9] ^= 1);
	JMUTATE("journal index byte", 0, 77, bad[g.index_off] ^= 1);
	JMUTATE("journal key out of range, checksums fixed", 0, 77,
		(kv_put_le32(bad + g.index_off, 100),
		 refresh_data_crc(bad, &g)));
	JMUTATE("journal entry not a slot, checksums fixed", 0, 77,
		(bad[g.entries_off] = 2, refresh_data_crc(bad, &g)));
	JMUTATE("journal entry padding, checksums fixed", 0, 77,
		(bad[g.entries_off + g.slot_size - 1] = 1,
		 refresh_data_crc(bad, &g)));
	JMUTATE("torn header, committed journal", 0, 78,
		memset(bad + 100, 0, 3996));
	JMUTATE("torn header, torn journal", -EBADMSG, 0,
		(memset(bad + 100, 0, 3996), cr[KV_HDR_CRC_OFF] ^= 1));
	/* a committed journal older than the header: stale, refused */
	JMUTATE("stale journal (header at a later order)", -EBADMSG, 0,
		(kv_put_le64(bad + 32, 79), refresh_crc(bad)));
	JMUTATE("journal of the header's order (replayed again)", 0, 78,
		(kv_put_le64(bad + 32, 78), refresh_crc(bad)));
#undef JMUTATE
	free(img);
	free(bad);
}

/*
 * External journal: the volume's bytes equal an in-volume-journal
 * replica's at every checkpoint. A committed journal (a crash right after
 * the commit was durable) is replayed by kv_recover() (crash recovery on
 * the host's own volume) but discarded, and zeroed, by kv_restore() (the
 * shadow's RESTORE of a verified volume): the state is the volume's. A
 * journal that is the volume itself, or a directory, is refused.
 */
static void test_untrusted_journal(void)
{
	struct kv_limits lim = { 100, 20 };
	struct crash c = { .at = -1, .lose = -1, .commit = -1,
			   .after_commit = true };
	struct kv_store s, r;
	struct kv_vol v, w;
	char path[256], in[256], jp[300], copy[256], jcopy[300];
	uint8_t buf[KV_MAX_OP], *b;
	uint64_t order, jsize;
	uint32_t len;
	size_t n;

	path_of(path, sizeof(path), "untrusted");
	path_of(in, sizeof(in), "untrusted-in");
	journal_of(jp, sizeof(jp), path);
	unlink(path);
	unlink(in);
	unlink(jp);
	REQUIRE(!kv_store_open(&s, &kv_hash_ops, &lim));
	vol_open(&v, path, &lim, true);
	vol_open(&w, in, &lim, false);
	CHECK_EQ(s.ops->put(s.e, 0, (const uint8_t *)"zero", 4), 0);
	CHECK_EQ(s.ops->put(s.e, 99, (const uint8_t *)"last one", 8), 0);
	CHECK_EQ(kv_checkpoint(&v, &s, 77), 0);
	s.ops->put(s.e, 0, (const uint8_t *)"zero", 4);
	s.ops->put(s.e, 99, (const uint8_t *)"last one", 8);
	CHECK_EQ(kv_checkpoint(&w, &s, 77), 0);
	CHECK(files_equal(path, in));
	jsize = v.g.volume_size - v.g.journal_off;
	kv_vol_close(&w);
	checkpoint_78_cut(&v, &s, &c);
	kv_vol_close(&v);
	kv_store_close(&s);
	/* the commit is in the journal file, the volume still at 77 */
	CHECK(files_equal(path, in));
	b = slurp(jp, &n);
	CHECK(n == jsize && !memcmp(b, KV_JRNL_MAGIC, 8));
	path_of(copy, sizeof(copy), "untrusted-copy");
	journal_of(jcopy, sizeof(jcopy), copy);
	write_img(jcopy, b, n);
	free(b);
	b = slurp(path, &n);
	write_img(copy, b, n);
	free(b);

	REQUIRE(!kv_store_open(&r, &kv_sqlite_ops, &lim));
	vol_open(&v, path, &lim, true);
	CHECK_EQ(kv_restore(&v, &r, &order), 0);
	CHECK_EQ(order, 77);
	CHECK_EQ(v.found, KV_JOURNAL_UNTRUSTED);
	CHECK(r.ops->get(r.e, 0, buf, &len) == 0 && len == 4 &&
	      !memcmp(buf, "zero", 4));
	CHECK_EQ(r.ops->get(r.e, 7, buf, &len), -ENOENT);
	kv_vol_close(&v);
	CHECK(file_zero(jp, 0, KV_STATE_BLOCK));	/* the commit record */
	CHECK(files_equal(path, in));
	/*
	 * Nothing left to replay: a crash recovery now finds 77 too, and
	 * the entries left without their commit record are an uncommitted
	 * journal, zeroed.
	 */
	vol_open(&v, path, &lim, true);
	CHECK_EQ(kv_recover(&v, &r, &order), 0);
	CHECK_EQ(order, 77);
	CHECK_EQ(v.found, KV_JOURNAL_DISCARDED);
	kv_vol_close(&v);
	CHECK(file_zero(jp, 0, jsize));

	/* the host's own volume after the crash: replayed */
	vol_open(&v, copy, &lim, true);
	CHECK_EQ(kv_recover(&v, &r, &order), 0);
	CHECK_EQ(order, 78);
	CHECK_EQ(v.found, KV_JOURNAL_REPLAYED);
	CHECK(r.ops->get(r.e, 7, buf, &len) == 0 && len == 5);
	kv_vol_close(&v);
	CHECK(file_zero(copy, v.g.journal_off, jsize));
	kv_store_close(&r);

	/* bad journals */
	REQUIRE(!kv_vol_open(&v, path, &lim));
	CHECK_EQ(kv_vol_journal(&v, path), -EINVAL);
	CHECK_EQ(kv_vol_journal(&v, tmpdir), -EISDIR);
	CHECK(!v.jext);
	kv_vol_close(&v);
}

/*
 * A crash at any write of a format (a volume without an image to keep):
 * RESTORE refuses the volume until the header, the last write, is whole;
 * never a partial state.
 */
static void test_format_crash(void)
{
	struct kv_limits lim = { 200, 40 };
	struct crash c;
	struct kv_store s, r;
	struct kv_vol v;
	char path[256];
	uint8_t *junk;
	uint64_t order;
	int64_t k, total = 0;
	uint32_t key;
	int t, want;

	path_of(path, sizeof(path), "format");
	REQUIRE(!kv_store_open(&s, &kv_hash_ops, &lim));
	REQUIRE(!kv_store_open(&r, &kv_sqlite_ops, &lim));
	for (key = 0; key < 200; key += 3)
		REQUIRE(!s.ops->put(s.e, key, (const uint8_t *)"format", 6));
	junk = malloc(1 << 20);
	REQUIRE(junk);
	memset(junk, 0xa5, 1 << 20);
	/* k = -1: no crash, which counts the writes */
	for (k = -1; k < 0 || k < total; k++) {
		for (t = 0; t < 2; t++) {
			write_img(path, junk, 1 << 20);
			c = (struct crash){ .at = k, .lose = -1, .commit = -1,
					    .torn = t };
			REQUIRE(!kv_vol_open(&v, path, &lim));
			c.fd = v.fd;
			c.journal_off = v.g.journal_off;
			v.hook = crash_hook;
			v.hook_arg = &c;
			CHECK_EQ(kv_checkpoint(&v, &s, 9), k < 0 ? 0 : -EIO);
			kv_vol_close(&v);
			if (k < 0)
				total = c.n;
			REQUIRE(!kv_vol_open(&v, path, &lim));
			want = k < 0 ? 0 : -EBADMSG;
			CHECK_EQ(kv_restore(&v, &r, &order), want);
			if (!want)
				CHECK_EQ(order, 9);
			kv_vol_close(&v);
			if (k < 0)
				break;
		}
	}
	CHECK(total > 10);
	free(junk);
	kv_store_close(&s);
	kv_store_close(&r);
}

/*
 * Incremental: a 256 MiB state (65536 records in 4 KiB slots, every one
 * present) and an empty state of the same layout take the same 10 puts;
 * both next checkpoints write exactly ckpt_bytes(10), counted by the write
 * path and by the kernel (/proc/self/io wchar: bytes passed to write
 * calls). A replica that restarts without restoring, with the state the
 * volume holds, writes nothing at all.
 */
static uint64_t proc_wchar(void)
{
	unsigned long long n = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	REQUIRE(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void test_incremental_large(void)
{
	static const struct kv_limits lim = { 65536, 4088 };
	static uint8_t val[4088];
	uint64_t bytes[2], wchar, w0, c0;
	struct kv_store s;
	struct kv_vol v;
	char path[256];
	uint32_t k;
	int full;

	path_of(path, sizeof(path), "large");
	for (full = 0; full < 2; full++) {
		REQUIRE(!kv_store_open(&s, &kv_hash_ops, &lim));
		for (k = 0; full && k < lim.records; k++) {
			memset(val, k, sizeof(val));
			kv_put_le32(val, k);
			REQUIRE(!s.ops->put(s.e, k, val, sizeof(val)));
		}
		unlink(path);
		REQUIRE(!kv_vol_open(&v, path, &lim));
		CHECK_EQ(v.g.data_end, 4096 + (256ull << 20));
		CHECK_EQ(kv_checkpoint(&v, &s, 1), 0);
		if (full)
			CHECK(v.bytes_written >= 256ull << 20);
		for (k = 0; k < 10; k++) {
			memset(val, 0xee, 100);
			REQUIRE(!s.ops->put(s.e, k * 6553, val, 100 + k));
		}
		w0 = v.bytes_written;
		c0 = proc_wchar();
		CHECK_EQ(kv_checkpoint(&v, &s, 2), 0);
		wchar = proc_wchar() - c0;
		bytes[full] = v.bytes_written - w0;
		CHECK_EQ(bytes[full], ckpt_bytes(&v.g, 10));
		CHECK_EQ(wchar, bytes[full]);
		kv_vol_close(&v);

		REQUIRE(!kv_vol_open(&v, path, &lim));
		CHECK_EQ(kv_checkpoint(&v, &s, 2), 0);
		CHECK_EQ(v.bytes_written, 0);
		kv_vol_close(&v);
		kv_store_close(&s);
		unlink(path);
	}
	CHECK_EQ(bytes[0], bytes[1]);
	fprintf(stderr, "kv-state-test: 10 changed records: %llu bytes written for an empty state and for a 256 MiB one\n",
		(unsigned long long)bytes[1]);
}

static void test_vol_open_errors(void)
{
	struct kv_limits lim = { 10, 10 };
	struct kv_vol v;

	CHECK_EQ(kv_vol_open(&v, "/nonexistent-dir/x", &lim), -ENOENT);
	CHECK_EQ(kv_vol_open(&v, "/dev/null", &lim), -ENOTBLK);
	CHECK_EQ(kv_vol_open(&v, tmpdir, &lim), -EISDIR);
	lim.records = 0;
	CHECK_EQ(kv_vol_open(&v, "/tmp/unused", &lim), -EINVAL);
}

/*
 * The same on a block device (a loop device set up by kv-blockdev.sh):
 * stale content is zeroed by the first checkpoint, the image equals the
 * file image, restore works, later checkpoints write the dirty slots
 * only, and a device too small for the layout is refused.
 */
static void test_blockdev(const char *dev)
{
	struct kv_limits lim = { 1000, 100 }, huge = { 100000, 100 };
	static uint8_t junk[1 << 16], buf[KV_MAX_OP];
	static struct wlog wl;
	struct kv_store s[2];
	struct kv_vol v, f;
	char path[256];
	uint64_t seed = 11, order = 0, off;
	uint8_t *a, *b;
	uint32_t len;
	int fd, e;

	/* stale junk all over the device */
	memset(junk, 0xaa, sizeof(junk));
	fd = open(dev, O_WRONLY);
	REQUIRE(fd >= 0);
	for (off = 0; off < (1 << 20); off += sizeof(junk))
		REQUIRE(pwrite(fd, junk, sizeof(junk), off) ==
			(ssize_t)sizeof(junk));
	close(fd);

	for (e = 0; e < 2; e++)
		REQUIRE(!kv_store_open(&s[e], engines[e], &lim));
	run_both(s, &seed, 3000, 1000);
	REQUIRE(!kv_vol_open(&v, dev, &lim));
	CHECK(!v.is_reg);
	CHECK_EQ(kv_checkpoint(&v, &s[0], 3000), 0);
	path_of(path, sizeof(path), "blk-ref");
	REQUIRE(!kv_vol_open(&f, path, &lim));
	CHECK_EQ(kv_checkpoint(&f, &s[1], 3000), 0);
	kv_vol_close(&f);

	/*
	 * The device's first volume_size bytes are the file's bytes, and the
	 * rest of the device (junk before) is zero: defined bytes past the
	 * state, so equal states hash alike over whole devices.
	 */
	a = malloc(1 << 20);
	b = malloc(v.g.volume_size);
	REQUIRE(a && b);
	fd = open(dev, O_RDONLY);
	REQUIRE(fd >= 0 && pread(fd, a, 1 << 20, 0) == 1 << 20);
	close(fd);
	fd = open(path, O_RDONLY);
	REQUIRE(fd >= 0 && read(fd, b, v.g.volume_size) ==
		(ssize_t)v.g.volume_size);
	close(fd);
	CHECK(!memcmp(a, b, v.g.volume_size));
	for (off = v.g.volume_size; off < (1 << 20) && !a[off]; off++)
		;
	CHECK_EQ(off, 1 << 20);
	free(a);
	free(b);

	/* a stray byte past the state: restore refuses, a checkpoint heals */
	kv_vol_close(&v);
	fd = open(dev, O_WRONLY);
	REQUIRE(fd >= 0 && pwrite(fd, junk, 1, (1 << 20) - 1) == 1);
	close(fd);
	REQUIRE(!kv_vol_open(&v, dev, &lim));
	CHECK_EQ(kv_restore(&v, &s[1], &order), -EBADMSG);
	kv_vol_close(&v);
	REQUIRE(!kv_vol_open(&v, dev, &lim));
	CHECK_EQ(kv_checkpoint(&v, &s[0], 3000), 0);
	/* the image was good: a comparison, not a format (one byte fixed) */
	CHECK_EQ(v.bytes_written, 4096);

	/* restore from the device into the other engine, then dirty only */
	kv_vol_close(&v);
	REQUIRE(!kv_vol_open(&v, dev, &lim));
	CHECK_EQ(kv_restore(&v, &s[1], &order), 0);
	CHECK_EQ(order, 3000);
	run_both(s, &seed, 1, 1000);
	CHECK_EQ(s[1].ops->put(s[1].e, 17, (const uint8_t *)"blk", 3), 0);
	v.hook = wlog_observe;
	v.hook_arg = &wl;
	wl.n = 0;
	CHECK_EQ(kv_checkpoint(&v, &s[1], 3002), 0);
	CHECK(wlog_has(&wl, 4096 + 17 * v.g.slot_size, v.g.slot_size));
	CHECK(wlog_has(&wl, 0, 4096));
	/* journal (3), slots (2 at most: a random op ran too), header, zeros */
	CHECK(wl.n <= 9);
	CHECK(v.bytes_written <= ckpt_bytes(&v.g, 2));
	kv_vol_close(&v);
	REQUIRE(!kv_vol_open(&v, dev, &lim));
	CHECK_EQ(kv_restore(&v, &s[0], &order), 0);
	CHECK_EQ(order, 3002);
	CHECK_EQ(s[0].ops->get(s[0].e, 17, buf, &len), 0);
	CHECK(len == 3 && !memcmp(buf, "blk", 3));
	kv_vol_close(&v);

	/* a layout larger than the device */
	kv_store_close(&s[0]);
	REQUIRE(!kv_store_open(&s[0], &kv_hash_ops, &huge));
	REQUIRE(!kv_vol_open(&v, dev, &huge));
	CHECK_EQ(kv_checkpoint(&v, &s[0], 1), -ENOSPC);
	CHECK_EQ(kv_restore(&v, &s[0], &order), -EINVAL);
	kv_vol_close(&v);
	for (e = 0; e < 2; e++)
		kv_store_close(&s[e]);
}

static const struct scenario scenarios[] = {
	/* more than one journal index block */
	{ "hash to sqlite", &kv_hash_ops, &kv_sqlite_ops, { 2000, 24 }, 1800,
	  false, false },
	/* the first checkpoint of a replica that did not restore */
	{ "sqlite to hash, restarted", &kv_sqlite_ops, &kv_hash_ops,
	  { 300, 200 }, 40, true, false },
	/* slots of several blocks */
	{ "hash to hash, 8 KiB slots", &kv_hash_ops, &kv_hash_ops,
	  { 64, 5000 }, 10, false, false },
	/* the journal in a file of its own: the same outcomes */
	{ "hash to sqlite, external journal", &kv_hash_ops, &kv_sqlite_ops,
	  { 2000, 24 }, 1800, false, true },
	{ "sqlite to hash, restarted, external journal", &kv_sqlite_ops,
	  &kv_hash_ops, { 300, 200 }, 40, true, true },
};

int main(int argc, char **argv)
{
	char cmd[512];
	int e, ret;

	if (!mkdtemp(tmpdir)) {
		tmpdir = tmpdir_tmp;
		REQUIRE(mkdtemp(tmpdir));
	}
	if (argc == 3 && !strcmp(argv[1], "--blockdev")) {
		test_blockdev(argv[2]);
		goto out;
	}
	test_geometry();
	for (e = 0; e < 2; e++) {
		test_engine_basics(engines[e]);
		test_dirty_tracking(engines[e]);
	}
	test_differential_checkpoint();
	test_cross_restore(0);
	test_cross_restore(1);
	test_corrupt();
	for (e = 0; e < (int)(sizeof(scenarios) / sizeof(scenarios[0])); e++)
		test_crash_points(&scenarios[e]);
	test_corrupt_journal();
	test_untrusted_journal();
	test_format_crash();
	test_incremental_large();
	test_vol_open_errors();
out:
	ret = vf_check_done("kv-state-test");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return ret;
}
