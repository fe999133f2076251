// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv-op-test - the kv op codec (kv_op.[ch]): round trips, exact bytes,
 * and every kind of malformed request and reply.
 */
#include <errno.h>
#include <string.h>

#include "../kv_op.h"
#include "kv_test.h"

static const struct kv_limits lim = { .records = 100, .record_size = 32 };

static void test_req_bytes(void)
{
	static const uint8_t want_put[] = {
		2, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 3, 0, 0, 0, 'a', 'b', 'c'
	};
	static const uint8_t want_get[] = {
		1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0
	};
	uint8_t buf[64];

	CHECK_EQ(kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 0x12345678,
			       "abc", 3), sizeof(want_put));
	CHECK(!memcmp(buf, want_put, sizeof(want_put)));
	CHECK_EQ(kv_req_encode(buf, sizeof(buf), KV_OP_GET, 7, NULL, 0),
		 sizeof(want_get));
	CHECK(!memcmp(buf, want_get, sizeof(want_get)));
}

static void test_req_encode_errors(void)
{
	static uint8_t big[KV_MAX_OP + 16], val[KV_MAX_OP];
	uint8_t buf[16];

	CHECK_EQ(kv_req_encode(buf, sizeof(buf), 3, 1, NULL, 0), -EINVAL);
	CHECK_EQ(kv_req_encode(buf, sizeof(buf), 0, 1, NULL, 0), -EINVAL);
	CHECK_EQ(kv_req_encode(buf, sizeof(buf), KV_OP_GET, 1, "x", 1),
		 -EINVAL);
	CHECK_EQ(kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 1, NULL, 1),
		 -EINVAL);
	CHECK_EQ(kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 1, "12345", 5),
		 -ENOSPC);
	CHECK_EQ(kv_req_encode(buf, 11, KV_OP_GET, 1, NULL, 0), -ENOSPC);
	CHECK_EQ(kv_req_encode(big, sizeof(big), KV_OP_PUT, 1, val,
			       KV_MAX_RECORD_SIZE + 1), -E2BIG);
	CHECK_EQ(kv_req_encode(big, sizeof(big), KV_OP_PUT, 1, val,
			       KV_MAX_RECORD_SIZE), KV_MAX_OP);
}

static void test_req_parse_ok(void)
{
	uint8_t buf[64];
	struct kv_req r;
	int n;

	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 99, "hello", 5);
	REQUIRE(n == 17);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_OK);
	CHECK_EQ(r.opcode, KV_OP_PUT);
	CHECK_EQ(r.key, 99);
	CHECK_EQ(r.val_len, 5);
	CHECK(r.val == buf + 12 && !memcmp(r.val, "hello", 5));

	n = kv_req_encode(buf, sizeof(buf), KV_OP_GET, 0, NULL, 0);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_OK);
	CHECK_EQ(r.opcode, KV_OP_GET);
	CHECK_EQ(r.key, 0);
	CHECK_EQ(r.val_len, 0);

	/* empty value and exactly record_size are both fine */
	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 1, NULL, 0);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_OK);
	memset(buf + 12, 'x', 32);
	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 1, buf + 12, 32);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_OK);
}

static void test_req_parse_bad(void)
{
	uint8_t buf[64], ok[64];
	struct kv_req r;
	size_t i;
	int n;

	n = kv_req_encode(ok, sizeof(ok), KV_OP_PUT, 5, "abcd", 4);
	REQUIRE(n == 16);

	/* every truncation of a valid request */
	for (i = 0; i < (size_t)n; i++)
		CHECK_EQ(kv_req_parse(ok, i, &lim, &r), KV_BAD_REQUEST);
	/* a trailing byte */
	memcpy(buf, ok, n);
	buf[n] = 0;
	CHECK_EQ(kv_req_parse(buf, n + 1, &lim, &r), KV_BAD_REQUEST);
	/* every opcode but 1 and 2 */
	for (i = 0; i < 256; i++) {
		if (i == KV_OP_GET || i == KV_OP_PUT)
			continue;
		memcpy(buf, ok, n);
		buf[0] = i;
		CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	}
	/* each pad byte */
	for (i = 1; i < 4; i++) {
		memcpy(buf, ok, n);
		buf[i] = 0x80;
		CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	}
	/* val_len that does not match: short, long, huge (no overflow) */
	memcpy(buf, ok, n);
	kv_put_le32(buf + 8, 3);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	kv_put_le32(buf + 8, 5);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	kv_put_le32(buf + 8, 0xffffffffu);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	kv_put_le32(buf + 8, 0xfffffff4u);	/* 12 + len wraps in u32 */
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	/* GET carrying a value */
	memcpy(buf, ok, n);
	buf[0] = KV_OP_GET;
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	/* key out of range, for both opcodes, and the last valid key */
	n = kv_req_encode(buf, sizeof(buf), KV_OP_GET, 100, NULL, 0);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	n = kv_req_encode(buf, sizeof(buf), KV_OP_GET, 0xffffffffu, NULL, 0);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	n = kv_req_encode(buf, sizeof(buf), KV_OP_GET, 99, NULL, 0);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_OK);
	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 100, "x", 1);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	/* value above record_size */
	memset(ok, 'y', sizeof(ok));
	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 1, ok, 33);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_TOO_BIG);
	/* precedence: bad key wins over too big */
	n = kv_req_encode(buf, sizeof(buf), KV_OP_PUT, 100, ok, 33);
	CHECK_EQ(kv_req_parse(buf, n, &lim, &r), KV_BAD_REQUEST);
	/* without limits only the structure is checked */
	CHECK_EQ(kv_req_parse(buf, n, NULL, &r), KV_OK);
	CHECK_EQ(r.key, 100);
	/* empty input */
	CHECK_EQ(kv_req_parse(buf, 0, &lim, &r), KV_BAD_REQUEST);
}

static void test_reply(void)
{
	static const uint8_t want[] = { 0, 0, 0, 0, 2, 0, 0, 0, 'h', 'i' };
	uint8_t buf[64], bad[64];
	struct kv_reply r;
	size_t i;
	int n;

	n = kv_reply_encode(buf, sizeof(buf), KV_OK, "hi", 2);
	CHECK_EQ(n, sizeof(want));
	CHECK(!memcmp(buf, want, sizeof(want)));
	CHECK_EQ(kv_reply_decode(buf, n, &r), 0);
	CHECK_EQ(r.status, KV_OK);
	CHECK_EQ(r.val_len, 2);
	CHECK(!memcmp(r.val, "hi", 2));

	for (i = KV_OK; i <= KV_TOO_BIG; i++) {
		n = kv_reply_encode(buf, sizeof(buf), i, NULL, 0);
		CHECK_EQ(n, 8);
		CHECK_EQ(kv_reply_decode(buf, n, &r), 0);
		CHECK_EQ(r.status, i);
		CHECK_EQ(r.val_len, 0);
	}
	/* encoder errors */
	CHECK_EQ(kv_reply_encode(buf, sizeof(buf), 4, NULL, 0), -EINVAL);
	CHECK_EQ(kv_reply_encode(buf, sizeof(buf), KV_NOT_FOUND, "x", 1),
		 -EINVAL);
	CHECK_EQ(kv_reply_encode(buf, sizeof(buf), KV_OK, NULL, 1), -EINVAL);
	CHECK_EQ(kv_reply_encode(buf, 9, KV_OK, "hi", 2), -ENOSPC);
	CHECK_EQ(kv_reply_encode(buf, sizeof(buf), KV_OK, buf,
				 KV_MAX_OP - 7), -E2BIG);
	/* in-place value (kv_exec writes the value at buf + 8 first) */
	memcpy(buf + 8, "zz", 2);
	CHECK_EQ(kv_reply_encode(buf, sizeof(buf), KV_OK, buf + 8, 2), 10);
	CHECK(!memcmp(buf + 8, "zz", 2));

	/* decoder: truncations, trailing byte, bad status, pad, lengths */
	n = kv_reply_encode(buf, sizeof(buf), KV_OK, "hi", 2);
	for (i = 0; i < (size_t)n; i++)
		CHECK_EQ(kv_reply_decode(buf, i, &r), -EBADMSG);
	memcpy(bad, buf, n);
	bad[n] = 0;
	CHECK_EQ(kv_reply_decode(bad, n + 1, &r), -EBADMSG);
	memcpy(bad, buf, n);
	bad[0] = 4;
	CHECK_EQ(kv_reply_decode(bad, n, &r), -EBADMSG);
	for (i = 1; i < 4; i++) {
		memcpy(bad, buf, n);
		bad[i] = 1;
		CHECK_EQ(kv_reply_decode(bad, n, &r), -EBADMSG);
	}
	memcpy(bad, buf, n);
	kv_put_le32(bad + 4, 0xfffffff8u);
	CHECK_EQ(kv_reply_decode(bad, n, &r), -EBADMSG);
	memcpy(bad, buf, n);
	bad[0] = KV_NOT_FOUND;	/* error status with a value */
	CHECK_EQ(kv_reply_decode(bad, n, &r), -EBADMSG);
}

static void test_misc(void)
{
	struct kv_limits l;

	CHECK(!strcmp(kv_status_name(KV_OK), "OK"));
	CHECK(!strcmp(kv_status_name(KV_NOT_FOUND), "NOT_FOUND"));
	CHECK(!strcmp(kv_status_name(KV_BAD_REQUEST), "BAD_REQUEST"));
	CHECK(!strcmp(kv_status_name(KV_TOO_BIG), "TOO_BIG"));
	CHECK(!strcmp(kv_status_name(4), "?"));
	CHECK(!strcmp(kv_status_name(~0u), "?"));

	l = (struct kv_limits){ 1, 1 };
	CHECK_EQ(kv_limits_check(&l), 0);
	l = (struct kv_limits){ KV_MAX_RECORDS, KV_MAX_RECORD_SIZE };
	CHECK_EQ(kv_limits_check(&l), 0);
	l = (struct kv_limits){ 0, 1 };
	CHECK_EQ(kv_limits_check(&l), -EINVAL);
	l = (struct kv_limits){ 1, 0 };
	CHECK_EQ(kv_limits_check(&l), -EINVAL);
	l = (struct kv_limits){ KV_MAX_RECORDS + 1, 1 };
	CHECK_EQ(kv_limits_check(&l), -EINVAL);
	l = (struct kv_limits){ 1, KV_MAX_RECORD_SIZE + 1 };
	CHECK_EQ(kv_limits_check(&l), -EINVAL);
}

/*
 * Random garbage never crashes the parser and never yields KV_OK unless
 * it really is a valid request.
 */
static void test_fuzz(void)
{
	uint64_t seed = 42;
	uint8_t buf[64];
	struct kv_req r;
	struct kv_reply rr;
	size_t n, i;
	int it, st;

	for (it = 0; it < 200000; it++) {
		n = kv_rand_below(&seed, sizeof(buf) + 1);
		for (i = 0; i < n; i++)
			buf[i] = kv_rand(&seed);
		/* bias towards plausible headers */
		if (n >= 12 && (it & 1)) {
			buf[0] = 1 + (it & 2 ? 1 : 0);
			buf[1] = buf[2] = buf[3] = 0;
			kv_put_le32(buf + 8, n - 12 + (it & 4 ? 1 : 0));
			kv_put_le32(buf + 4, kv_rand_below(&seed, 200));
		}
		st = kv_req_parse(buf, n, &lim, &r);
		if (st == KV_OK) {
			CHECK(n >= 12 && n == 12 + r.val_len);
			CHECK(r.key < lim.records);
			CHECK(r.val_len <= lim.record_size);
			CHECK(r.opcode == KV_OP_PUT || r.val_len == 0);
		} else {
			CHECK(st == KV_BAD_REQUEST || st == KV_TOO_BIG);
		}
		if (!kv_reply_decode(buf, n, &rr))
			CHECK(n == 8 + rr.val_len && rr.status <= KV_TOO_BIG);
	}
}

int main(void)
{
	test_req_bytes();
	test_req_encode_errors();
	test_req_parse_ok();
	test_req_parse_bad();
	test_reply();
	test_misc();
	test_fuzz();
	return vf_check_done("kv-op-test");
}
