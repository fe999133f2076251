// SPDX-License-Identifier: GPL-2.0-only
/*
 * crash-replay-test - the crash-state builder (tools/crash/replay.c,
 * lwlog.c) on synthetic dm-log-writes logs, and the oracle
 * (tools/crash/oracle.c) on synthetic workload records, including bad
 * input: truncated logs, bad magic, malformed records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwlog.h"
#include "oracle.h"
#include "replay.h"
#include "vf_check.h"

#define SS 512
#define DEV_SECTORS 16

static char logpath[] = "/tmp/crash-replay-test.XXXXXX";

struct syn {
	uint8_t *buf;
	size_t len, cap;
	uint64_t n;
};

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *grow(struct syn *s, size_t add)
{
	if (s->len + add > s->cap) {
		s->cap = (s->len + add) * 2;
		s->buf = realloc(s->buf, s->cap);
		REQUIRE(s->buf);
	}
	memset(s->buf + s->len, 0, add);
	s->len += add;
	return s->buf + s->len - add;
}

/* An entry; writes fill their sectors with @fill. */
static void entry(struct syn *s, uint64_t sector, uint64_t nr, uint64_t flags,
		  uint8_t fill, const char *mark)
{
	uint8_t *h = grow(s, SS);

	put_le64(h, sector);
	put_le64(h + 8, nr);
	put_le64(h + 16, flags);
	if (mark) {
		put_le64(h + 24, strlen(mark));
		memcpy(h + LW_HDR_BYTES, mark, strlen(mark));
	}
	if (!(flags & (LW_MARK | LW_DISCARD)) && nr)
		memset(grow(s, nr * SS), fill, nr * SS);
	s->n++;
}

static void finish(struct syn *s, uint64_t magic, size_t cut)
{
	FILE *f;

	put_le64(s->buf, magic);
	put_le64(s->buf + 8, LW_VERSION);
	put_le64(s->buf + 16, s->n);
	s->buf[24] = SS & 0xff;
	s->buf[25] = SS >> 8;
	f = fopen(logpath, "wb");
	REQUIRE(f);
	REQUIRE(fwrite(s->buf, 1, s->len - cut, f) == s->len - cut);
	REQUIRE(!fclose(f));
}

/*
 * The log: write A (sector 0), flush, mark m1, write B (sector 1), FUA C
 * (sector 2), write D (sector 3), mark m2, flush.
 */
static void make_log(struct syn *s)
{
	memset(s, 0, sizeof(*s));
	grow(s, SS);
	entry(s, 0, 1, 0, 'A', NULL);		/* 0 */
	entry(s, 0, 0, LW_FLUSH, 0, NULL);	/* 1 */
	entry(s, 0, 0, LW_MARK, 0, "m1");	/* 2 */
	entry(s, 1, 1, 0, 'B', NULL);		/* 3 */
	entry(s, 2, 1, LW_FUA, 'C', NULL);	/* 4 */
	entry(s, 3, 1, 0, 'D', NULL);		/* 5 */
	entry(s, 0, 0, LW_MARK, 0, "m2");	/* 6 */
	entry(s, 0, 0, LW_FLUSH, 0, NULL);	/* 7 */
}

struct seen {
	int n;
	char img[8][DEV_SECTORS];	/* first byte of each sector */
	char mark[8][8];
	enum rp_kind kind[8];
	uint64_t entry[8];
};

static int record(void *ctx, const struct rp_state *st)
{
	struct seen *s = ctx;
	uint8_t img[DEV_SECTORS * SS];
	int i;

	REQUIRE(s->n < 8);
	rp_state_compose(st, img);
	for (i = 0; i < DEV_SECTORS; i++)
		s->img[s->n][i] = img[i * SS] ? (char)img[i * SS] : '.';
	snprintf(s->mark[s->n], sizeof(s->mark[0]), "%s", st->mark);
	s->kind[s->n] = st->kind;
	s->entry[s->n] = st->entry;
	s->n++;
	return 0;
}

static void test_marks(void)
{
	struct rp_opts o = { .size = DEV_SECTORS * SS, .seed = 1 };
	struct rp_result res;
	struct seen seen = { 0 };
	struct syn s;
	char err[600];

	make_log(&s);
	finish(&s, LW_MAGIC, 0);
	CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.marks, 2);
	CHECK_EQ(res.entries, 8);
	CHECK_EQ(seen.n, 2);
	CHECK(!memcmp(seen.img[0], "A...", 4));
	CHECK_STR(seen.mark[0], "m1");
	/* Everything before the mark, flushed or not. */
	CHECK(!memcmp(seen.img[1], "ABCD", 4));
	CHECK_STR(seen.mark[1], "m2");
	CHECK_EQ(seen.kind[1], RP_MARK);
	/* Marks of others (dm-log-writes-end) are ignored with a prefix. */
	memset(&seen, 0, sizeof(seen));
	o.mark_prefix = "m2";
	CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.marks, 1);
	CHECK_EQ(seen.n, 1);
	CHECK_STR(seen.mark[0], "m2");
	free(s.buf);
}

static void test_random(void)
{
	struct rp_opts o = { .size = DEV_SECTORS * SS, .random = 6, .marks = 1 };
	struct rp_result res;
	struct seen seen;
	struct syn s;
	char err[600];
	int i, seed, subsets = 0, fua_missing = 0, a_missing = 0;

	make_log(&s);
	finish(&s, LW_MAGIC, 0);
	for (seed = 1; seed <= 20; seed++) {
		memset(&seen, 0, sizeof(seen));
		o.seed = (uint64_t)seed;
		CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err,
				   sizeof(err)), 0);
		CHECK_EQ(seen.n, 7);
		for (i = 0; i < seen.n; i++) {
			if (seen.kind[i] != RP_RANDOM)
				continue;
			/* Only after the first mark. */
			CHECK(seen.entry[i] > 2);
			a_missing += seen.img[i][0] != 'A';
			/* The FUA write is there once it is logged. */
			if (seen.entry[i] > 4)
				fua_missing += seen.img[i][2] != 'C';
			subsets += seen.entry[i] > 5 && seen.img[i][1] == '.';
		}
	}
	CHECK_EQ(a_missing, 0);
	CHECK_EQ(fua_missing, 0);
	/* Some state past B dropped it (volatile cache). */
	CHECK(subsets > 0);

	/* The same seed gives the same states; --only picks one of them. */
	memset(&seen, 0, sizeof(seen));
	o.seed = 7;
	CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err, sizeof(err)), 0);
	{
		struct seen one = { 0 };

		o.only = 4;
		CHECK_EQ(rp_replay(logpath, &o, record, &one, &res, err,
				   sizeof(err)), 0);
		CHECK_EQ(one.n, 1);
		CHECK(!memcmp(one.img[0], seen.img[3], DEV_SECTORS));
		CHECK_EQ(one.entry[0], seen.entry[3]);
	}
	free(s.buf);
}

/*
 * A plain write (a chunk copy, 'P') completed before a FUA write into the
 * same sector ('F'), both before one flush: the log has F first, P in the
 * flush's run. The replay puts the plain write first: F wins.
 */
static void test_overlap(void)
{
	struct rp_opts o = { .size = DEV_SECTORS * SS, .seed = 3, .random = 5 };
	struct rp_result res;
	struct seen seen = { 0 };
	struct syn s;
	char err[600];
	int i;

	memset(&s, 0, sizeof(s));
	grow(&s, SS);
	entry(&s, 0, 0, LW_MARK, 0, "m1");	/* 0 */
	entry(&s, 4, 1, LW_FUA, 'F', NULL);	/* 1 */
	entry(&s, 4, 2, 0, 'P', NULL);		/* 2: run of the flush */
	entry(&s, 0, 0, LW_FLUSH, 0, NULL);	/* 3 */
	entry(&s, 0, 0, LW_MARK, 0, "m2");	/* 4 */
	finish(&s, LW_MAGIC, 0);
	CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err, sizeof(err)), 0);
	for (i = 0; i < seen.n; i++) {
		if (seen.entry[i] >= 2)
			CHECK_EQ(seen.img[i][4], 'F');
		if (seen.entry[i] >= 4)
			CHECK_EQ(seen.img[i][5], 'P');
	}
	CHECK_STR(seen.mark[seen.n - 1], "m2");
	free(s.buf);
}

static void expect_error(const char *what, const char *want, size_t size)
{
	struct rp_opts o = { .size = size, .seed = 1 };
	struct rp_result res;
	struct seen seen = { 0 };
	char err[600] = "";

	CHECK_EQ(rp_replay(logpath, &o, record, &seen, &res, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fprintf(stderr, "%s: error '%s' lacks '%s'\n", what, err, want);
	CHECK(strstr(err, want) != NULL);
}

static void test_bad_logs(void)
{
	struct syn s;
	FILE *f;

	make_log(&s);
	finish(&s, 0x1234, 0);
	expect_error("bad magic", "bad magic", DEV_SECTORS * SS);
	finish(&s, LW_MAGIC, SS + 100);	/* D's data and the last entries */
	expect_error("truncated", "truncated log", DEV_SECTORS * SS);
	/* The super alone, cut short. */
	f = fopen(logpath, "wb");
	REQUIRE(f);
	fwrite("xy", 1, 2, f);
	fclose(f);
	expect_error("tiny", "truncated log", DEV_SECTORS * SS);
	/* Writes beyond the data device. */
	finish(&s, LW_MAGIC, 0);
	expect_error("size", "beyond the data device", 2 * SS);
	/* An unknown flag. */
	put_le64(s.buf + SS + 16, 1u << 9);
	finish(&s, LW_MAGIC, 0);
	expect_error("flags", "unknown flags", DEV_SECTORS * SS);
	free(s.buf);
	/* No such file. */
	unlink(logpath);
	expect_error("missing", "cannot open", DEV_SECTORS * SS);
}

static int load(struct oracle *o, const char *text, uint64_t mark, char *err,
		size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	REQUIRE(f);
	r = or_load(o, f, mark, err, len);
	fclose(f);
	return r;
}

static void test_oracle(void)
{
	static const char rec[] =
		"vmfit-crash-oracle 1\n"
		"blocks 3 seed 9\n"
		"w 0 1 ok\nw 1 2 ok\nw 2 3 ok\nf ok\nm 0\n"	/* 1 2 3 durable */
		"w 0 4 ok\n"					/* not flushed */
		"m 1\nsnap\nm 2\nready\nm 3\n"
		"W 1 5 ok\nm 4\n"				/* FUA: durable */
		"w 2 6 fail\nw 2 7 ok\nf ok\nm 5\n"
		"m 6\ndrop\nm 7\n"
		"m 8\nclear\nm 9\nw 0 8 ok\nf ok\nm 10\n";
	struct oracle o;
	char err[300], m[40];
	uint64_t g;

	CHECK_EQ(load(&o, rec, 1, err, sizeof(err)), 0);
	CHECK(or_allowed(&o, 0, 1));
	CHECK(or_allowed(&o, 0, 4));
	CHECK(!or_allowed(&o, 0, 2));
	CHECK_EQ(or_durable(&o, 0, &g), 0);
	CHECK_EQ(g, 1);
	/* Between mark 1 and 2 the snapshot message was sent. */
	CHECK_EQ(o.modes, OR_NORMAL | OR_SNAPSHOT);
	CHECK(!o.has_frozen[0]);
	CHECK(o.has_frozen[1]);
	CHECK_EQ(o.frozen[1][0], 4);
	CHECK(or_must_be_changed(&o, 0));
	or_free(&o);

	CHECK_EQ(load(&o, rec, 4, err, sizeof(err)), 0);
	CHECK_EQ(o.modes, OR_SNAPSHOT);
	CHECK(o.has_frozen[0]);
	CHECK(!or_allowed(&o, 1, 2));	/* FUA write 5 is durable */
	CHECK(or_allowed(&o, 1, 5));
	CHECK(or_allowed(&o, 2, 6));	/* a failed write may be there */
	CHECK(or_allowed(&o, 2, 3));
	or_free(&o);

	/* Around the drop: the snapshot's writes or the frozen image. */
	CHECK_EQ(load(&o, rec, 6, err, sizeof(err)), 0);
	CHECK_EQ(o.modes, OR_SNAPSHOT | OR_NORMAL);
	CHECK(or_allowed(&o, 1, 5));
	CHECK(or_allowed(&o, 1, 2));
	or_free(&o);
	CHECK_EQ(load(&o, rec, 7, err, sizeof(err)), 0);
	CHECK_EQ(o.modes, OR_NORMAL);
	CHECK(!or_allowed(&o, 1, 5));
	CHECK(or_allowed(&o, 1, 2));
	CHECK(!o.has_frozen[0]);
	/* Normal-mode writes before the snapshot still count. */
	CHECK(or_must_be_changed(&o, 1));
	CHECK(or_must_be_changed(&o, 0));
	or_free(&o);
	CHECK_EQ(load(&o, rec, 9, err, sizeof(err)), 0);
	CHECK(!or_must_be_changed(&o, 0));	/* cleared */
	or_free(&o);
	CHECK_EQ(load(&o, rec, 10, err, sizeof(err)), 0);
	CHECK(or_must_be_changed(&o, 0));
	CHECK_STR(or_modes_name(OR_NORMAL | OR_MERGING, m, sizeof(m)),
		  "normal|merging");
	or_free(&o);

	/* Bad records. */
	CHECK_EQ(load(&o, rec, 99, err, sizeof(err)), -1);
	CHECK(strstr(err, "no mark 99") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "hello\n", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a vmfit-crash oracle") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 0 seed 1\n", 0, err,
		      sizeof(err)), -1);
	CHECK(strstr(err, "bad header") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 2 seed 1\nw 5 1 ok\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "line 3: block 5 beyond 2") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 2 seed 1\nw 1 1 maybe\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "neither ok nor fail") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 2 seed 1\nbogus\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "unknown event 'bogus'") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 2 seed 1\nw 0 1 ok\nm 0\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "block 0 has no durable value") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 2 seed 1\ndrop\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "drop without a snapshot") != NULL);
	or_free(&o);
	CHECK_EQ(load(&o, "vmfit-crash-oracle 1\nblocks 1 seed 1\nw 0 1 ok\nf ok\nm 0\nm 5\n",
		      0, err, sizeof(err)), -1);
	CHECK(strstr(err, "mark 5 after mark 0") != NULL);
	or_free(&o);
}

int main(void)
{
	int fd = mkstemp(logpath);

	REQUIRE(fd >= 0);
	close(fd);
	test_marks();
	test_random();
	test_overlap();
	test_bad_logs();
	test_oracle();
	unlink(logpath);
	return vf_check_done("crash-replay-test");
}
