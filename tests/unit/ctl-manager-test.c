// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the status file reader (libvmfit vf_jflat, vf_status_read,
 * vf_status_field) and of `vmfit-ctl manager`'s summary: a status file as
 * vmfitd writes it, every truncation of it, and hostile ones.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_manager.h"
#include "vf_check.h"
#include "vf_ctlsock.h"
#include "vf_jflat.h"

/* The shape of userspace/vmfitd/status.c's output (one line). */
static const char good[] =
	"{\"pid\":4242,\"service\":\"kv\",\"node_id\":2,\"ready\":1,"
	"\"synced\":1,\"unreplicated\":0,\"cpg_connected\":1,\"members\":3,"
	"\"f\":1,\"primary\":1,\"managers\":3,\"managers_present\":3,"
	"\"managers_synced\":3,\"membership\":\"synced\",\"views\":4,"
	"\"rejected_msgs\":0,\"orders_delivered\":3012,\"executed\":3012,"
	"\"decided\":3012,\"expired\":0,\"suspects\":0,\"clients\":30,"
	"\"pending\":0,\"avg_batch\":1.25,\"rcv_phase\":\"idle\","
	"\"rcv_round\":\"0000000000000000\",\"rcv_rounds\":2,\"rcv_done\":1,"
	"\"rcv_aborted\":1,\"rcv_last_round\":\"00000000000000ab\","
	"\"rcv_last_result\":\"aborted\",\"rcv_last_abort\":"
	"\"timeout: peer 3 silent\",\"rcv_full\":1,\"rcv_chunks\":1024,"
	"\"rcv_hashed\":1024,\"rcv_verified\":1000,\"rcv_repaired\":2,"
	"\"rcv_copied\":22,\"rcv_bytes_hashed\":4194304,"
	"\"rcv_bytes_copied\":90112,\"rcv_bytes_fetched\":0,"
	"\"rcv_bytes_served\":0,\"rcv_bad_msgs\":0,\"rcv_capture_order\":3000,"
	"\"rcv_capture_ms\":12,\"rcv_last_ms\":345,\"rcv_caught_up\":1,"
	"\"rcv_receivers\":0,\"rcv_volume\":\"/v/b\","
	"\"replica_pid\":4243,\"replica_domid\":-1,\"replica_ok\":1,"
	"\"suspect_nodes\":\"\"}\n";

static int parse(struct vf_jflat *j, const char *s, char *err, size_t n)
{
	return vf_jflat_parse(j, s, strlen(s), err, n);
}

static char *summary(const struct vf_jflat *j, int *r)
{
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	REQUIRE(f);
	*r = ctl_manager_summary(f, j, err, sizeof(err));
	fclose(f);
	if (*r)
		printf("summary refused: %s\n", err);
	return buf;
}

static void test_good(struct vf_jflat *j)
{
	char err[256], *out;
	uint64_t u;
	int64_t i;
	int r;

	REQUIRE(parse(j, good, err, sizeof(err)) == 0);
	CHECK_STR(vf_jflat_str(j, "service"), "kv");
	CHECK_STR(vf_jflat_str(j, "rcv_last_abort"), "timeout: peer 3 silent");
	CHECK(vf_jflat_i64(j, "replica_domid", &i) && i == -1);
	CHECK(!vf_jflat_u64(j, "replica_domid", &u));
	CHECK(vf_jflat_u64(j, "orders_delivered", &u) && u == 3012);
	CHECK(!vf_jflat_i64(j, "avg_batch", &i));	/* not an integer */
	CHECK(!vf_jflat_i64(j, "service", &i));		/* a string */
	CHECK(!vf_jflat_str(j, "pid"));
	CHECK(!vf_jflat_get(j, "nope"));

	out = summary(j, &r);
	CHECK_EQ(r, 0);
	printf("%s", out);
	CHECK(strstr(out, "service    kv on node 2 (vmfitd pid 4242)"));
	CHECK(strstr(out, "sync       in sync:"));
	CHECK(strstr(out, "primary    yes: this view holds 3 of the 3"));
	CHECK(strstr(out, "managers   3 configured, 3 present, 3 in sync"));
	CHECK(strstr(out, "replica    pid 4243, ok"));
	CHECK(strstr(out, "recovery   phase idle; 2 rounds: 1 done, 1 aborted"));
	CHECK(strstr(out, "last round 00000000000000ab aborted (full) "
		      "(checkpoint + snapshot 12 ms at order 3000)"));
	CHECK(!strstr(out, "345 ms"));	/* a previous round's duration */
	CHECK(strstr(out, "1024 hashed, 1000 verified, 2 repaired, 22 copied"));
	CHECK(strstr(out, "4 MiB hashed, 88 KiB copied"));
	CHECK(strstr(out, "last abort timeout: peer 3 silent"));
	CHECK(strstr(out, "catch-up   this manager caught up through 1 rounds"));
	free(out);

	/* vf_status_field (vmfit-ctl recover --wait) reads through it too. */
	{
		char v[64];

		CHECK(vf_status_field(good, "rcv_last_round", v, sizeof(v)));
		CHECK_STR(v, "00000000000000ab");
		CHECK(vf_status_field(good, "pid", v, sizeof(v)));
		CHECK_STR(v, "4242");
		CHECK(!vf_status_field(good, "nope", v, sizeof(v)));
		CHECK(!vf_status_field("{\"pid\":1", "pid", v, sizeof(v)));
	}
}

/* Out of sync, minority, Xen replica, suspects, recovery off. */
static void test_variants(struct vf_jflat *j)
{
	char err[256], doc[sizeof(good) + 64], *out, *p;
	int r;

	snprintf(doc, sizeof(doc), "%s", good);
	p = strstr(doc, "\"synced\",");
	memcpy(p, "\"out\",   ", 9);
	p = strstr(doc, "\"primary\":1");
	p[10] = '0';
	p = strstr(doc, "\"replica_domid\":-1");
	memcpy(p + 16, " 7", 2);
	p = strstr(doc, "\"suspects\":0");
	p[11] = '5';
	p = strstr(doc, "\"suspect_nodes\":\"\"");
	memcpy(p, "\"suspect_nodes\":\"3\"", 19);
	p[19] = '}';
	p[20] = '\0';
	p = strstr(doc, "\"rcv_phase\":\"idle\"");
	memcpy(p + 13, "off\" ", 5);
	REQUIRE(parse(j, doc, err, sizeof(err)) == 0);
	out = summary(j, &r);
	CHECK_EQ(r, 0);
	printf("%s", out);
	CHECK(strstr(out, "out of sync: waiting for a state transfer "
		      "(recovery) before voting or answering"));
	CHECK(strstr(out, "primary    no:"));
	CHECK(strstr(out, "replica    Xen domain 7"));
	CHECK(strstr(out, "of node(s) 3"));
	CHECK(strstr(out, "recovery   off:"));
	CHECK(!strstr(out, "last round"));
	free(out);
}

/* The start costs of the last shadow, when the file has them. */
static void test_shadow_times(struct vf_jflat *j)
{
	static const char at[] = "\"rcv_volume\":\"/v/b\",";
	static const char times[] = "\"rcv_shadow_hello_ms\":5200,"
		"\"rcv_shadow_created_ms\":1800,\"rcv_senior_stop_ms\":900,";
	char err[256], doc[sizeof(good) + sizeof(times)], *out, *p;
	size_t off;
	int r;

	/* Without them (an older vmfitd, or a process replica): no line. */
	REQUIRE(parse(j, good, err, sizeof(err)) == 0);
	out = summary(j, &r);
	CHECK_EQ(r, 0);
	CHECK(!strstr(out, "shadow     HELLO"));
	free(out);

	p = strstr(good, at);
	REQUIRE(p);
	off = p - good + strlen(at);
	snprintf(doc, sizeof(doc), "%.*s%s%s", (int)off, good, times,
		 good + off);
	REQUIRE(parse(j, doc, err, sizeof(err)) == 0);
	out = summary(j, &r);
	CHECK_EQ(r, 0);
	printf("%s", out);
	CHECK(strstr(out, "shadow     HELLO 5200 ms after its start (domain "
		      "created and unpaused in 1800 ms)"));
	CHECK(strstr(out, "hand-over  the senior stopped in 900 ms"));
	free(out);

	/* A process shadow: no domain creation time. */
	snprintf(doc, sizeof(doc), "%.*s%s%s", (int)off, good,
		 "\"rcv_shadow_hello_ms\":5200,\"rcv_shadow_created_ms\":-1,",
		 good + off);
	REQUIRE(parse(j, doc, err, sizeof(err)) == 0);
	out = summary(j, &r);
	CHECK_EQ(r, 0);
	CHECK(strstr(out, "shadow     HELLO 5200 ms after its start\n"));
	free(out);
}

/* Every proper prefix of the file is refused, as truncated. */
static void test_truncated(struct vf_jflat *j)
{
	size_t n, body = strlen(good) - 1;	/* up to the '}' */
	unsigned int refused = 0, said = 0;
	char err[256];

	for (n = 0; n < body; n++) {
		if (vf_jflat_parse(j, good, n, err, sizeof(err)) == -EINVAL)
			refused++;
		if (strstr(err, "ends early") || (n == 0 && *err))
			said++;
	}
	CHECK_EQ(refused, body);
	CHECK_EQ(said, body);
	CHECK_EQ(vf_jflat_parse(j, good, body, err, sizeof(err)), 0);
}

static void test_hostile(struct vf_jflat *j)
{
	static const char *const bad[] = {
		"", "   ", "[]", "null", "\"pid\"", "{", "{,}", "{\"a\"}",
		"{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
		"{\"a\":1}}", "{\"a\":1} x", "{\"a\":1}{\"b\":2}",
		"{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":1,\"a\":2}",
		"{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}",
		"{\"a\":+1}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":truex}",
		"{\"a\":NaN}", "{\"a\":'x'}", "{a:1}", "{\"a\":\"x\ty\"}",
		"{\"a\":\"x\\q\"}", "{\"a\":\"\\u00\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\uzzzz\"}", "{\"a\":\"x}",
		"{\"a\":\"x\\\"}",
	};
	char err[256], doc[8192];
	size_t i, n;
	int64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(j, bad[i], err, sizeof(err)) != -EINVAL)
			printf("accepted: %s\n", bad[i]);
		CHECK(*err);
	}
	/* A NUL byte inside. */
	CHECK_EQ(vf_jflat_parse(j, "{\"a\":1\0}", 8, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "NUL"));
	/* Too long a key, too long a value, too many members. */
	n = (size_t)snprintf(doc, sizeof(doc), "{\"%0*d\":1}", VF_JFLAT_KEY,
			     0);
	CHECK_EQ(vf_jflat_parse(j, doc, n, err, sizeof(err)), -EINVAL);
	n = (size_t)snprintf(doc, sizeof(doc), "{\"a\":\"%0*d\"}",
			     VF_JFLAT_VAL, 0);
	CHECK_EQ(vf_jflat_parse(j, doc, n, err, sizeof(err)), -EINVAL);
	n = (size_t)snprintf(doc, sizeof(doc), "{\"a\":%0*d}", VF_JFLAT_VAL,
			     1);
	CHECK_EQ(vf_jflat_parse(j, doc, n, err, sizeof(err)), -EINVAL);
	n = 0;
	doc[n++] = '{';
	for (i = 0; i <= VF_JFLAT_FIELDS; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"k%zu\":0",
				      i ? "," : "", i);
	doc[n++] = '}';
	CHECK_EQ(vf_jflat_parse(j, doc, n, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "more than"));
	/* Escapes decode; the maximum fits exactly. */
	REQUIRE(parse(j, "{\"a\":\"q\\\"b\\\\n\\n\\u0041\\u00e9\\u20ac\"}",
		      err, sizeof(err)) == 0);
	CHECK_STR(vf_jflat_str(j, "a"), "q\"b\\n\nA\xc3\xa9\xe2\x82\xac");
	n = (size_t)snprintf(doc, sizeof(doc), "{\"a\":\"%0*d\"}",
			     VF_JFLAT_VAL - 1, 0);
	CHECK_EQ(vf_jflat_parse(j, doc, n, err, sizeof(err)), 0);
	/* Out of range integers are not integers. */
	REQUIRE(parse(j, "{\"a\":99999999999999999999,\"b\":-1e3}", err,
		      sizeof(err)) == 0);
	CHECK(!vf_jflat_i64(j, "a", &v));
	CHECK(!vf_jflat_i64(j, "b", &v));
	/* Valid JSON, wrong shape: the summary refuses, printing nothing. */
	REQUIRE(parse(j, "{\"pid\":1}", err, sizeof(err)) == 0);
	CHECK_EQ(ctl_manager_summary(stdout, j, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "\"node_id\""));
}

static void test_file(struct vf_jflat *j)
{
	char path[] = "/tmp/ctl-manager-test.XXXXXX", err[512], text[4096];
	char big[5000];
	FILE *f;
	int fd;

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	f = fdopen(fd, "w");
	REQUIRE(f);
	fputs(good, f);
	fclose(f);
	CHECK_EQ(vf_status_read(path, j, text, sizeof(text), err,
				sizeof(err)), 0);
	CHECK_STR(vf_jflat_str(j, "membership"), "synced");
	/* Truncated on disk. */
	REQUIRE(truncate(path, 100) == 0);
	CHECK_EQ(vf_status_read(path, j, text, sizeof(text), err,
				sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a valid status file") &&
	      strstr(err, "truncated"));
	/* Empty. */
	REQUIRE(truncate(path, 0) == 0);
	CHECK_EQ(vf_status_read(path, j, text, sizeof(text), err,
				sizeof(err)), -EINVAL);
	CHECK(strstr(err, "empty"));
	/* Bigger than the buffer. */
	memset(big, ' ', sizeof(big));
	f = fopen(path, "w");
	REQUIRE(f);
	fwrite(big, 1, sizeof(big), f);
	fclose(f);
	CHECK_EQ(vf_status_read(path, j, text, sizeof(text), err,
				sizeof(err)), -EINVAL);
	CHECK(strstr(err, "larger"));
	unlink(path);
	CHECK_EQ(vf_status_read(path, j, text, sizeof(text), err,
				sizeof(err)), -ENOENT);
}

int main(void)
{
	struct vf_jflat *j = calloc(1, sizeof(*j));

	REQUIRE(j);
	test_good(j);
	test_variants(j);
	test_shadow_times(j);
	test_truncated(j);
	test_hostile(j);
	test_file(j);
	free(j);
	return vf_check_done("ctl-manager-test");
}
