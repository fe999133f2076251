// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv-replica-test - the kv replicas through the real replica channel.
 *
 * Starts the sanitized replica binaries (build/tests/kv/, or $KV_BIN_DIR)
 * on one end of a socketpair, speaks vf_proto to them and checks:
 *  - HELLO; --connect over unix and tcp (loopback);
 *  - differential: kv-hash and kv-sqlite answer a long seeded random
 *    sequence (valid ops and garbage) byte for byte alike, checkpoint to
 *    byte-identical volumes, and a second checkpoint after K puts changes
 *    only the header block and the blocks of the keys put;
 *  - RESTORE of one implementation's volume into the other, then identical
 *    replies and identical volumes, over several rounds of incremental
 *    checkpoints and hand-overs between the implementations; corrupt
 *    volumes give RESTORE_DONE with the right errno and the replica keeps
 *    serving;
 *  - malformed frames get an ERROR frame with the right code and a clean
 *    exit 1 (a sanitizer report would exit 86/87, a crash by a signal);
 *  - kv-faulty's fault modes do what they say (slow-checkpoint from the
 *    (--fault-after + 1)th checkpoint on, its delay before the write);
 *  - a checkpoint is written in the background: with a slow writer the
 *    EXECs that follow CHECKPOINT are answered before its DONE, and the
 *    volume at DONE holds the state at the checkpoint's order, not later.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vf_crc.h"
#include "vf_proto.h"

#include "../kv_state.h"
#include "kv_test.h"

#define RECORDS		1000
#define RECORD_SIZE	64
#define TIMEOUT_MS	20000

static char tmpdir[] = "/tmp/kv-replica-test.XXXXXX";
static const char *bindir = "build/tests/kv";
static uint8_t payload[VF_MAX_PAYLOAD];

struct replica {
	pid_t pid;
	int fd;
	struct vf_wbuf wb;
};

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

/*------------------------------------------------------------------*/
/* process handling */

static pid_t spawn(const char *bin, const char *state, int child_fd,
		   const char *connect, const char *const *extra)
{
	char path[512], fdarg[16], rec[16], rs[16];
	const char *argv[32];
	int i = 0, j;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", bindir, bin);
	snprintf(fdarg, sizeof(fdarg), "%d", 3);
	snprintf(rec, sizeof(rec), "%d", RECORDS);
	snprintf(rs, sizeof(rs), "%d", RECORD_SIZE);
	argv[i++] = path;
	if (connect) {
		argv[i++] = "--connect";
		argv[i++] = connect;
	} else {
		argv[i++] = "--fd";
		argv[i++] = fdarg;
	}
	argv[i++] = "--state";
	argv[i++] = state;
	argv[i++] = "--records";
	argv[i++] = rec;
	argv[i++] = "--record-size";
	argv[i++] = rs;
	argv[i++] = "--log-level";
	argv[i++] = "warn";
	for (j = 0; extra && extra[j]; j++)
		argv[i++] = extra[j];
	argv[i] = NULL;

	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		if (child_fd >= 0) {
			if (dup2(child_fd, 3) < 0)
				_exit(120);
		}
		setenv("ASAN_OPTIONS", "exitcode=86:detect_leaks=1", 1);
		setenv("UBSAN_OPTIONS", "exitcode=87:print_stacktrace=1", 1);
		execv(path, (char *const *)argv);
		_exit(121);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int st, i;

	for (i = 0; i < TIMEOUT_MS / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			return 1000 + WTERMSIG(st);
		}
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	fprintf(stderr, "replica %d did not exit\n", (int)pid);
	return -1;
}

/* Wait until @fd is readable; false on timeout. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int read_frame(struct replica *r, struct vf_hdr *h)
{
	if (!readable(r->fd, TIMEOUT_MS))
		return -ETIMEDOUT;
	return vf_read_frame(r->fd, VF_MAGIC_REPLICA, h, payload,
			     sizeof(payload));
}

/* The version string of the last HELLO, NUL-terminated. */
static char hello_ver[128];

static void expect_hello(struct replica *r, const char *impl)
{
	struct vf_hello hello;
	struct vf_hdr h;

	REQUIRE(read_frame(r, &h) == 0);
	REQUIRE(h.type == VF_R_HELLO);
	REQUIRE(!vf_hello_decode(payload, h.len, &hello));
	CHECK_EQ(hello.proto_version, VF_PROTO_VERSION);
	CHECK(hello.impl_len == strlen(impl) &&
	      !memcmp(hello.impl, impl, hello.impl_len));
	REQUIRE(hello.ver_len < sizeof(hello_ver));
	memcpy(hello_ver, hello.ver, hello.ver_len);
	hello_ver[hello.ver_len] = '\0';
}

static void start(struct replica *r, const char *bin, const char *state,
		  const char *const *extra)
{
	int sv[2];

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	r->pid = spawn(bin, state, sv[1], NULL, extra);
	close(sv[1]);
	r->fd = sv[0];
	vf_wb_init(&r->wb, 0);
}

/* Close the channel; the replica must exit with @want. */
static void stop(struct replica *r, int want)
{
	int rc;

	close(r->fd);
	rc = wait_exit(r->pid);
	if (rc != want)
		fprintf(stderr, "replica exit %d, want %d\n", rc, want);
	CHECK_EQ(rc, want);
	vf_wb_free(&r->wb);
}

static void send_wb(struct replica *r)
{
	REQUIRE(!r->wb.err);
	REQUIRE(!vf_wb_flush_fd(r->fd, &r->wb));
}

static void send_exec(struct replica *r, uint64_t order, const uint8_t *op,
		      size_t n)
{
	struct vf_exec ex = {
		.order = order, .client_id = 1, .seq = order,
		.op_len = n, .op = op,
	};

	REQUIRE(!vf_exec_encode(&r->wb, &ex));
	send_wb(r);
}

/* Read a RESULT for @order into @out; returns its length, or -1. */
static int recv_result(struct replica *r, uint64_t order, uint8_t *out)
{
	struct vf_result res;
	struct vf_hdr h;

	if (read_frame(r, &h) || h.type != VF_R_RESULT ||
	    vf_result_decode(payload, h.len, &res) || res.order != order)
		return -1;
	memcpy(out, res.data, res.len);
	return res.len;
}

/* Send CHECKPOINT/RESTORE and return the DONE status (-1: no answer). */
static int done_frame(struct replica *r, uint16_t type, uint64_t *order)
{
	struct vf_done d;
	struct vf_hdr h;

	if (read_frame(r, &h) || h.type != type ||
	    vf_done_decode(payload, h.len, &d))
		return -1;
	*order = d.order;
	return d.status;
}

static int checkpoint(struct replica *r, uint64_t order)
{
	uint64_t o = ~0ull;
	int st;

	REQUIRE(!vf_checkpoint_encode(&r->wb, order));
	send_wb(r);
	st = done_frame(r, VF_R_CHECKPOINT_DONE, &o);
	if (st == 0)
		CHECK_EQ(o, order);
	return st;
}

static int restore(struct replica *r, uint64_t *order)
{
	REQUIRE(!vf_restore_encode(&r->wb));
	send_wb(r);
	return done_frame(r, VF_R_RESTORE_DONE, order);
}

/* Expect an ERROR frame with @code, then EOF. */
static void expect_error(struct replica *r, uint32_t code)
{
	struct vf_error e;
	struct vf_hdr h;
	int rc;

	rc = read_frame(r, &h);
	if (rc || h.type != VF_R_ERROR) {
		fprintf(stderr, "expected ERROR %u, got rc %d type %u\n",
			code, rc, rc ? 0 : h.type);
		CHECK(0);
		return;
	}
	CHECK(!vf_error_decode(payload, h.len, &e));
	if (e.code != code)
		fprintf(stderr, "ERROR %u (%.*s), want %u\n", e.code,
			(int)e.msg_len, e.msg, code);
	CHECK_EQ(e.code, code);
	CHECK(e.msg_len > 0);
}

/*------------------------------------------------------------------*/
/* files */

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	int fd;

	fd = open(path, O_RDONLY);
	REQUIRE(fd >= 0 && !fstat(fd, &st));
	b = malloc(st.st_size + 1);
	REQUIRE(b && read(fd, b, st.st_size) == st.st_size);
	close(fd);
	*n = st.st_size;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	REQUIRE(fd >= 0 && write(fd, b, n) == (ssize_t)n);
	close(fd);
}

static bool same_file(const char *a, const char *b)
{
	size_t na, nb;
	uint8_t *ba = slurp(a, &na), *bb = slurp(b, &nb);
	bool eq = na == nb && !memcmp(ba, bb, na);

	free(ba);
	free(bb);
	return eq;
}

/*------------------------------------------------------------------*/
/* tests */

static const struct kv_limits lim = { RECORDS, RECORD_SIZE };

/* Run @nops random ops on every replica in @r, comparing the replies. */
static void lockstep(struct replica *r, int nr, uint64_t *order,
		     uint64_t *seed, uint32_t nops)
{
	static uint8_t op[KV_MAX_OP], ref[KV_MAX_OP], got[KV_MAX_OP];
	int i, l0, l;
	uint32_t k;
	size_t n;

	for (k = 0; k < nops; k++) {
		n = kv_test_gen_op(seed, &lim, op, RECORDS + 50);
		++*order;
		for (i = 0; i < nr; i++)
			send_exec(&r[i], *order, op, n);
		l0 = recv_result(&r[0], *order, ref);
		REQUIRE(l0 >= 8);
		for (i = 1; i < nr; i++) {
			l = recv_result(&r[i], *order, got);
			if (l != l0 || memcmp(ref, got, l0)) {
				fprintf(stderr, "order %llu: replica %d "
					"differs\n",
					(unsigned long long)*order, i);
				CHECK(0);
				return;
			}
		}
	}
}

static void test_differential(void)
{
	static uint8_t op[KV_MAX_OP], res[KV_MAX_OP], val[RECORD_SIZE];
	char st[2][256], copy[256];
	struct replica r[2];
	uint64_t order = 0, seed = 0xd1ff, o;
	uint8_t *a, *b, touched[RECORDS] = { 0 };
	size_t na, nb, blk, nblk, changed, allowed;
	static const char *const bins[] = { "kv-hash", "kv-sqlite" };
	const char *vp[2];
	int impl[2] = { 0, 1 }, round;
	struct kv_geom g;
	uint32_t k, key;
	int i, n;

	REQUIRE(!kv_geom_init(&g, &lim));
	path_of(st[0], sizeof(st[0]), "diff-hash");
	path_of(st[1], sizeof(st[1]), "diff-sqlite");
	path_of(copy, sizeof(copy), "diff-copy");
	start(&r[0], "kv-hash", st[0], NULL);
	start(&r[1], "kv-sqlite", st[1], NULL);
	expect_hello(&r[0], "kv-hash");
	CHECK(!strcmp(hello_ver, "1.0"));
	expect_hello(&r[1], "kv-sqlite");
	CHECK(!strcmp(hello_ver, "1.0"));

	lockstep(r, 2, &order, &seed, 20000);
	for (i = 0; i < 2; i++)
		CHECK_EQ(checkpoint(&r[i], order), 0);
	CHECK(same_file(st[0], st[1]));
	a = slurp(st[0], &na);
	CHECK_EQ(na, g.volume_size);

	/* K more puts on known keys (values that differ from before) */
	for (k = 0; k < 50; k++) {
		key = kv_rand_below(&seed, RECORDS);
		touched[key] = 1;
		memset(val, 0xa0 + k, sizeof(val));
		n = kv_req_encode(op, sizeof(op), KV_OP_PUT, key, val,
				  1 + k % RECORD_SIZE);
		++order;
		for (i = 0; i < 2; i++) {
			send_exec(&r[i], order, op, n);
			CHECK_EQ(recv_result(&r[i], order, res), 8);
			CHECK_EQ(res[0], KV_OK);
		}
	}
	for (i = 0; i < 2; i++)
		CHECK_EQ(checkpoint(&r[i], order), 0);
	CHECK(same_file(st[0], st[1]));
	b = slurp(st[0], &nb);
	REQUIRE(na == nb);
	/* changed blocks are the header and blocks holding touched slots */
	nblk = na / 4096;
	changed = 0;
	allowed = 1;
	for (blk = 0; blk < nblk; blk++) {
		bool ok = blk == 0, diff;

		for (key = (blk ? (blk - 1) * 4096 / g.slot_size : 0);
		     blk && key < RECORDS &&
		     4096 + (uint64_t)key * g.slot_size < (blk + 1) * 4096;
		     key++)
			if (touched[key])
				ok = true;
		diff = memcmp(a + blk * 4096, b + blk * 4096, 4096);
		changed += diff;
		allowed += ok && blk;
		if (diff && !ok) {
			fprintf(stderr, "block %zu changed, no key put\n", blk);
			CHECK(0);
		}
	}
	CHECK(changed >= 2);		/* the header and at least one slot */
	CHECK(changed <= allowed);
	free(a);
	free(b);

	/* CHECKPOINT at an order the replica is not at: ESTALE, no write */
	CHECK_EQ(checkpoint(&r[0], order + 1), ESTALE);
	CHECK(same_file(st[0], st[1]));

	/* RESTORE the hash volume into a new kv-sqlite, run on in lockstep */
	a = slurp(st[0], &na);
	spit(copy, a, na);
	free(a);
	stop(&r[1], 0);
	start(&r[1], "kv-sqlite", copy, NULL);
	expect_hello(&r[1], "kv-sqlite");
	o = 0;
	CHECK_EQ(restore(&r[1], &o), 0);
	CHECK_EQ(o, order);
	lockstep(r, 2, &order, &seed, 5000);
	for (i = 0; i < 2; i++)
		CHECK_EQ(checkpoint(&r[i], order), 0);
	CHECK(same_file(st[0], copy));

	/* and the other way round */
	a = slurp(copy, &na);
	spit(st[1], a, na);
	free(a);
	stop(&r[0], 0);
	start(&r[0], "kv-hash", st[1], NULL);
	expect_hello(&r[0], "kv-hash");
	CHECK_EQ(restore(&r[0], &o), 0);
	CHECK_EQ(o, order);
	lockstep(r, 2, &order, &seed, 5000);

	/*
	 * Rounds: run on, checkpoint incrementally (equal volumes, empty
	 * journals), then replace each replica by the other implementation,
	 * restored from the volume the replaced one wrote.
	 */
	vp[0] = st[1];
	vp[1] = copy;
	for (round = 0; round < 4; round++) {
		lockstep(r, 2, &order, &seed, 1500);
		for (i = 0; i < 2; i++)
			CHECK_EQ(checkpoint(&r[i], order), 0);
		CHECK(same_file(vp[0], vp[1]));
		a = slurp(vp[0], &na);
		CHECK_EQ(na, g.volume_size);
		for (blk = g.journal_off; blk < na && !a[blk]; blk++)
			;
		CHECK_EQ(blk, na);
		free(a);
		for (i = 0; i < 2; i++) {
			stop(&r[i], 0);
			impl[i] = !impl[i];
			start(&r[i], bins[impl[i]], vp[i], NULL);
			expect_hello(&r[i], bins[impl[i]]);
			o = 0;
			CHECK_EQ(restore(&r[i], &o), 0);
			CHECK_EQ(o, order);
		}
	}
	lockstep(r, 2, &order, &seed, 1000);
	for (i = 0; i < 2; i++)
		CHECK_EQ(checkpoint(&r[i], order), 0);
	CHECK(same_file(vp[0], vp[1]));

	stop(&r[0], 0);
	stop(&r[1], 0);
}

/* RESTORE of a corrupt volume: error status, empty state, still serving. */
static void corrupt_restore(const char *what, const uint8_t *img, size_t n,
			    int want)
{
	static uint8_t op[64], res[KV_MAX_OP];
	const char *const bins[] = { "kv-hash", "kv-sqlite" };
	char st[256];
	struct replica r;
	uint64_t o = 99;
	int i, l;

	path_of(st, sizeof(st), "corrupt");
	for (i = 0; i < 2; i++) {
		spit(st, img, n);
		start(&r, bins[i], st, NULL);
		expect_hello(&r, bins[i]);
		l = restore(&r, &o);
		if (l != want)
			fprintf(stderr, "%s (%s): status %d, want %d\n", what,
				bins[i], l, want);
		CHECK_EQ(l, want);
		CHECK_EQ(o, 0);
		/* it goes on from order 0 with an empty store */
		l = kv_req_encode(op, sizeof(op), KV_OP_GET, 1, NULL, 0);
		send_exec(&r, 1, op, l);
		CHECK_EQ(recv_result(&r, 1, res), 8);
		CHECK_EQ(res[0], KV_NOT_FOUND);
		stop(&r, 0);
	}
}

static void test_corrupt_restore(void)
{
	static uint8_t op[64], res[KV_MAX_OP];
	char st[256];
	struct replica r;
	uint8_t *img, *bad;
	size_t n;
	int l;

	/* a good volume with one record at order 1 */
	path_of(st, sizeof(st), "good");
	start(&r, "kv-hash", st, NULL);
	expect_hello(&r, "kv-hash");
	l = kv_req_encode(op, sizeof(op), KV_OP_PUT, 3, "v", 1);
	send_exec(&r, 1, op, l);
	CHECK_EQ(recv_result(&r, 1, res), 8);
	CHECK_EQ(checkpoint(&r, 1), 0);
	stop(&r, 0);
	img = slurp(st, &n);
	bad = malloc(n);
	REQUIRE(bad);

	memcpy(bad, img, n);
	bad[0] ^= 0xff;
	corrupt_restore("bad magic", bad, n, EBADMSG);
	memcpy(bad, img, n);
	bad[KV_HDR_CRC_OFF + 1] ^= 1;
	corrupt_restore("bad header checksum", bad, n, EBADMSG);
	corrupt_restore("truncated", img, n - 4096, ENODATA);
	corrupt_restore("empty", img, 0, ENODATA);
	memcpy(bad, img, n);
	kv_put_le32(bad + 16, 0x7fffffff);
	kv_put_le32(bad + KV_HDR_CRC_OFF, vf_crc32c(0, bad, KV_HDR_CRC_OFF));
	corrupt_restore("absurd record count", bad, n, EINVAL);
	memcpy(bad, img, n);
	kv_put_le32(bad + 4096 + 3 * 128 + 4, RECORD_SIZE + 1);
	corrupt_restore("slot length > record size", bad, n, EBADMSG);
	free(img);
	free(bad);
}

/* Send raw bytes (after HELLO); expect ERROR @code and exit 1. */
static void bad_bytes(const char *what, const void *p, size_t n,
		      uint32_t code)
{
	char st[256];
	struct replica r;

	fprintf(stderr, "-- %s\n", what);
	path_of(st, sizeof(st), "proto");
	start(&r, "kv-hash", st, NULL);
	expect_hello(&r, "kv-hash");
	REQUIRE(!vf_write_all(r.fd, p, n));
	if (code)
		expect_error(&r, code);
	stop(&r, 1);
}

static void bad_frame(const char *what, uint32_t magic, uint16_t type,
		      const void *p, uint32_t n, uint32_t code)
{
	uint8_t buf[256];

	REQUIRE(n + VF_HDR_LEN <= sizeof(buf));
	vf_hdr_encode(buf, magic, type, n);
	if (n)
		memcpy(buf + VF_HDR_LEN, p, n);
	bad_bytes(what, buf, VF_HDR_LEN + n, code);
}

static void test_protocol_errors(void)
{
	uint8_t hdr[VF_HDR_LEN], pl[128], big[VF_HDR_LEN + 40];
	struct vf_wbuf wb;
	char st[256];
	struct replica r;
	struct vf_exec ex = { .order = 1, .op_len = 0, .op = pl };
	uint64_t seed = 99;
	int i, k, rc;

	memset(pl, 0, sizeof(pl));
	vf_hdr_encode(hdr, VF_MAGIC_CLIENT, VF_C_REQUEST, 0);
	bad_bytes("client magic", hdr, sizeof(hdr), VF_ERR_MAGIC);
	vf_hdr_encode(hdr, VF_MAGIC_REPLICA, VF_R_RESTORE, 0);
	kv_put_le32(hdr + 4, 2 | VF_R_RESTORE << 16);
	bad_bytes("version 2", hdr, sizeof(hdr), VF_ERR_VERSION);
	vf_hdr_encode(hdr, VF_MAGIC_REPLICA, VF_R_RESTORE, 0);
	hdr[12] = 1;
	bad_bytes("reserved != 0", hdr, sizeof(hdr), VF_ERR_MALFORMED);
	vf_hdr_encode(hdr, VF_MAGIC_REPLICA, VF_R_EXEC, 0);
	kv_put_le32(hdr + 8, VF_MAX_PAYLOAD + 1);
	bad_bytes("oversized length", hdr, sizeof(hdr), VF_ERR_TOO_BIG);
	bad_frame("unknown type 99", VF_MAGIC_REPLICA, 99, NULL, 0,
		  VF_ERR_TYPE);
	bad_frame("client type under replica magic", VF_MAGIC_REPLICA,
		  VF_C_REQUEST, NULL, 0, VF_ERR_TYPE);
	bad_frame("HELLO to a replica", VF_MAGIC_REPLICA, VF_R_HELLO, pl, 8,
		  VF_ERR_TYPE);
	bad_frame("RESULT to a replica", VF_MAGIC_REPLICA, VF_R_RESULT, pl,
		  12, VF_ERR_TYPE);
	bad_frame("CHECKPOINT_DONE to a replica", VF_MAGIC_REPLICA,
		  VF_R_CHECKPOINT_DONE, pl, 12, VF_ERR_TYPE);
	bad_frame("short EXEC", VF_MAGIC_REPLICA, VF_R_EXEC, pl, 27,
		  VF_ERR_MALFORMED);
	kv_put_le64(pl, 1);
	kv_put_le32(pl + 24, 5);
	bad_frame("EXEC op_len past the end", VF_MAGIC_REPLICA, VF_R_EXEC,
		  pl, 28 + 4, VF_ERR_MALFORMED);
	bad_frame("EXEC trailing bytes", VF_MAGIC_REPLICA, VF_R_EXEC, pl,
		  28 + 6, VF_ERR_MALFORMED);
	kv_put_le32(pl + 24, VF_MAX_OP + 1);
	bad_frame("EXEC op_len > VF_MAX_OP", VF_MAGIC_REPLICA, VF_R_EXEC, pl,
		  28, VF_ERR_TOO_BIG);
	kv_put_le32(pl + 24, 0);
	kv_put_le64(pl, 2);
	bad_frame("first EXEC with order 2", VF_MAGIC_REPLICA, VF_R_EXEC, pl,
		  28, VF_ERR_MALFORMED);
	kv_put_le64(pl, 0);
	bad_frame("EXEC with order 0", VF_MAGIC_REPLICA, VF_R_EXEC, pl, 28,
		  VF_ERR_MALFORMED);
	bad_frame("short CHECKPOINT", VF_MAGIC_REPLICA, VF_R_CHECKPOINT, pl,
		  7, VF_ERR_MALFORMED);
	bad_frame("long CHECKPOINT", VF_MAGIC_REPLICA, VF_R_CHECKPOINT, pl,
		  9, VF_ERR_MALFORMED);
	bad_frame("RESTORE with payload", VF_MAGIC_REPLICA, VF_R_RESTORE, pl,
		  1, VF_ERR_MALFORMED);
	/* a manager ERROR ends the replica, without an answer */
	vf_wb_init(&wb, 0);
	REQUIRE(!vf_error_encode(&wb, VF_MAGIC_REPLICA, VF_ERR_BUSY, "bye"));
	bad_bytes("ERROR from the manager", vf_wb_data(&wb), vf_wb_pending(&wb),
		  0);
	vf_wb_reset(&wb);
	/* a frame cut short by EOF */
	vf_hdr_encode(big, VF_MAGIC_REPLICA, VF_R_EXEC, 40);
	bad_bytes("truncated frame", big, VF_HDR_LEN + 10, 0);
	bad_bytes("truncated header", big, 7, 0);

	/* duplicate EXEC order */
	path_of(st, sizeof(st), "proto");
	start(&r, "kv-sqlite", st, NULL);
	expect_hello(&r, "kv-sqlite");
	ex.op_len = kv_req_encode(pl, sizeof(pl), KV_OP_GET, 1, NULL, 0);
	send_exec(&r, 1, pl, ex.op_len);
	CHECK_EQ(recv_result(&r, 1, big), 8);
	send_exec(&r, 1, pl, ex.op_len);
	expect_error(&r, VF_ERR_MALFORMED);
	stop(&r, 1);

	/* EOF right after HELLO: clean exit */
	start(&r, "kv-hash", st, NULL);
	expect_hello(&r, "kv-hash");
	stop(&r, 0);

	/* fuzz: random frames, valid headers with random payloads */
	for (i = 0; i < 40; i++) {
		start(&r, i & 1 ? "kv-sqlite" : "kv-hash", st, NULL);
		expect_hello(&r, i & 1 ? "kv-sqlite" : "kv-hash");
		for (k = 0; k < 8; k++) {
			uint32_t n = kv_rand_below(&seed, 40);
			uint16_t type = VF_R_HELLO + kv_rand_below(&seed, 9);
			uint32_t j;

			for (j = 0; j < n; j++)
				pl[j] = kv_rand(&seed);
			if (type == VF_R_EXEC && n >= 8)
				kv_put_le64(pl, k + 1);
			vf_hdr_encode(hdr, VF_MAGIC_REPLICA, type, n);
			if (!(kv_rand(&seed) % 5))
				hdr[kv_rand_below(&seed, VF_HDR_LEN)] ^= 0x10;
			if (vf_write_all(r.fd, hdr, sizeof(hdr)) ||
			    vf_write_all(r.fd, pl, n))
				break;
		}
		close(r.fd);
		rc = wait_exit(r.pid);
		CHECK(rc == 0 || rc == 1);
		vf_wb_free(&r.wb);
	}
	vf_wb_free(&wb);
}

static void test_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char st[256], addr[300];
	struct replica r;
	int lfd;

	path_of(st, sizeof(st), "conn");
	/* unix */
	path_of(sun.sun_path, sizeof(sun.sun_path), "sock");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(lfd >= 0);
	REQUIRE(!bind(lfd, (struct sockaddr *)&sun, sizeof(sun)));
	REQUIRE(!listen(lfd, 1));
	snprintf(addr, sizeof(addr), "unix:%s", sun.sun_path);
	r.pid = spawn("kv-sqlite", st, -1, addr, NULL);
	REQUIRE(readable(lfd, TIMEOUT_MS));
	r.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(r.fd >= 0);
	vf_wb_init(&r.wb, 0);
	expect_hello(&r, "kv-sqlite");
	stop(&r, 0);
	close(lfd);

	/* tcp on loopback */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(!bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	REQUIRE(!getsockname(lfd, (struct sockaddr *)&sin, &sl));
	REQUIRE(!listen(lfd, 1));
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	r.pid = spawn("kv-hash", st, -1, addr, NULL);
	REQUIRE(readable(lfd, TIMEOUT_MS));
	r.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(r.fd >= 0);
	vf_wb_init(&r.wb, 0);
	expect_hello(&r, "kv-hash");
	stop(&r, 0);

	/* nobody listening any more: the replica fails to start */
	close(lfd);
	r.pid = spawn("kv-hash", st, -1, addr, NULL);
	CHECK_EQ(wait_exit(r.pid), 1);
	r.pid = spawn("kv-hash", st, -1, "bogus:addr", NULL);
	CHECK_EQ(wait_exit(r.pid), 1);
}

static void test_usage(void)
{
	static const char *const cases[][4] = {
		{ "--records", "0" },
		{ "--record-size", "65525" },
		{ "--record-size", "12x" },
		{ "--engine", "kv-sqlite" },	/* only kv-faulty has two */
		{ "--fault", "wrong" },		/* only in kv-faulty */
		{ "--fd", "-1" },
		{ "extra-argument" },
	};
	char st[256];
	size_t i;
	pid_t pid;

	path_of(st, sizeof(st), "usage");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = spawn("kv-hash", st, -1, "unix:/nonexistent", cases[i]);
		CHECK_EQ(wait_exit(pid), 2);
	}
	/* --fd and --connect together */
	{
		const char *both[] = { "--connect", "unix:/x", NULL };
		int sv[2];

		REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		pid = spawn("kv-hash", st, sv[1], NULL, both);
		CHECK_EQ(wait_exit(pid), 2);
		close(sv[0]);
		close(sv[1]);
	}
	/* an unusable state volume */
	pid = spawn("kv-hash", "/dev/null", -1, "unix:/nonexistent", NULL);
	CHECK_EQ(wait_exit(pid), 1);
}

/*------------------------------------------------------------------*/
/* kv-faulty */

static void test_faulty(void)
{
	static uint8_t op[KV_MAX_OP], a[KV_MAX_OP], b[KV_MAX_OP];
	char st[2][256];
	struct replica r[2];
	struct timespec t0, t1;
	uint64_t seed, order;
	int i, n, la, lb, diffs;
	double ms;

	path_of(st[0], sizeof(st[0]), "faulty-ref");
	path_of(st[1], sizeof(st[1]), "faulty");

	/* no --fault: a correct replica, with either engine */
	{
		const char *args[] = { "--engine", "sqlite", NULL };

		start(&r[0], "kv-hash", st[0], NULL);
		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[0], "kv-hash");
		expect_hello(&r[1], "kv-sqlite");
		order = 0;
		seed = 5;
		lockstep(r, 2, &order, &seed, 2000);
		CHECK_EQ(checkpoint(&r[0], order), 0);
		CHECK_EQ(checkpoint(&r[1], order), 0);
		CHECK(same_file(st[0], st[1]));
		stop(&r[1], 0);
	}

	/* corrupt-state: same replies, a different volume */
	{
		const char *args[] = { "--fault", "corrupt-state", NULL };

		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		stop(&r[0], 0);
		start(&r[0], "kv-hash", st[0], NULL);
		expect_hello(&r[0], "kv-hash");
		order = 0;
		seed = 6;
		lockstep(r, 2, &order, &seed, 500);
		CHECK_EQ(checkpoint(&r[0], order), 0);
		CHECK_EQ(checkpoint(&r[1], order), 0);
		CHECK(!same_file(st[0], st[1]));
		stop(&r[1], 0);
	}

	/* wrong and random: well-formed RESULTs, different data */
	for (i = 0; i < 2; i++) {
		const char *args[] = { "--fault", i ? "random" : "wrong:1",
				       "--fault-after", "10", NULL };

		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		stop(&r[0], 0);
		start(&r[0], "kv-hash", st[0], NULL);
		expect_hello(&r[0], "kv-hash");
		seed = 7;
		diffs = 0;
		for (order = 1; order <= 200; order++) {
			n = kv_test_gen_op(&seed, &lim, op, RECORDS);
			send_exec(&r[0], order, op, n);
			send_exec(&r[1], order, op, n);
			la = recv_result(&r[0], order, a);
			lb = recv_result(&r[1], order, b);
			REQUIRE(la >= 8 && lb >= 0);
			if (order <= 10)
				CHECK(la == lb && !memcmp(a, b, la));
			else
				diffs += la != lb || memcmp(a, b, la);
		}
		/* random may hit the right answer by chance, rarely */
		CHECK(diffs >= (i ? 180 : 190));
		stop(&r[1], 0);
	}

	/* late: each reply takes >= the delay */
	{
		const char *args[] = { "--fault", "late", "--fault-delay",
				       "300", NULL };

		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		n = kv_req_encode(op, sizeof(op), KV_OP_GET, 1, NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		send_exec(&r[1], 1, op, n);
		CHECK_EQ(recv_result(&r[1], 1, b), 8);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1e3 +
		     (t1.tv_nsec - t0.tv_nsec) / 1e6;
		CHECK(ms >= 290);
		stop(&r[1], 0);
	}

	/* silent: never a RESULT, but CHECKPOINT still answered */
	{
		const char *args[] = { "--fault", "silent", NULL };

		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		n = kv_req_encode(op, sizeof(op), KV_OP_GET, 1, NULL, 0);
		send_exec(&r[1], 1, op, n);
		send_exec(&r[1], 2, op, n);
		CHECK(!readable(r[1].fd, 300));
		CHECK_EQ(checkpoint(&r[1], 2), 0);
		stop(&r[1], 0);
	}

	/* crash: 3 good replies, then the process dies by SIGKILL */
	{
		const char *args[] = { "--fault", "crash", "--fault-after", "3",
				       NULL };
		struct vf_hdr h;

		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		CHECK(!strcmp(hello_ver, "1.0 fault=crash"));
		n = kv_req_encode(op, sizeof(op), KV_OP_GET, 1, NULL, 0);
		for (order = 1; order <= 3; order++) {
			send_exec(&r[1], order, op, n);
			CHECK_EQ(recv_result(&r[1], order, b), 8);
		}
		send_exec(&r[1], 4, op, n);
		CHECK_EQ(read_frame(&r[1], &h), 1);	/* EOF */
		stop(&r[1], 1000 + SIGKILL);
	}

	/*
	 * slow-checkpoint --fault-after 1: the first checkpoint (written in
	 * the foreground) at full speed, the second one's writer sleeps
	 * before it writes: the EXECs after it are answered while the volume
	 * still holds the first one (0.5 s into the 2 s delay: a write done
	 * first would be on it by then), and its DONE comes after the delay.
	 */
	{
		const char *args[] = { "--fault", "slow-checkpoint",
				       "--fault-delay", "2000",
				       "--fault-after", "1", NULL };
		uint64_t o1, o2, o = ~0ull;
		uint8_t *img;
		size_t len;

		unlink(st[1]);
		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[1], "kv-hash");
		order = 0;
		seed = 9;
		lockstep(&r[1], 1, &order, &seed, 100);
		o1 = order;
		CHECK_EQ(checkpoint(&r[1], o1), 0);
		lockstep(&r[1], 1, &order, &seed, 100);
		o2 = order;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		REQUIRE(!vf_checkpoint_encode(&r[1].wb, o2));
		send_wb(&r[1]);
		lockstep(&r[1], 1, &order, &seed, 20);
		usleep(500000);
		img = slurp(st[1], &len);
		CHECK(len >= KV_STATE_HDR_SIZE && kv_get_le64(img + 32) == o1);
		free(img);
		CHECK_EQ(done_frame(&r[1], VF_R_CHECKPOINT_DONE, &o), 0);
		CHECK_EQ(o, o2);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1e3 +
		     (t1.tv_nsec - t0.tv_nsec) / 1e6;
		CHECK(ms >= 1990);
		img = slurp(st[1], &len);
		CHECK(len >= KV_STATE_HDR_SIZE && kv_get_le64(img + 32) == o2);
		free(img);
		stop(&r[1], 0);
	}

	/* bad --fault values */
	{
		const char *bad[][3] = {
			{ "--fault", "explode" }, { "--fault", "wrong:2" },
			{ "--fault", "wrong:x" }, { "--fault", "late:" },
			{ "--fault-after", "-1" },
		};
		size_t k;
		pid_t pid;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			pid = spawn("kv-faulty", st[1], -1, "unix:/x", bad[k]);
			CHECK_EQ(wait_exit(pid), 2);
		}
	}
	stop(&r[0], 0);
}

/*
 * The checkpoint writer (replica_main.c): kv-faulty's slow-checkpoint
 * delays each write by 1 s. The EXECs sent right after CHECKPOINT must be
 * answered before CHECKPOINT_DONE, and the volume at DONE must equal the
 * volume of a reference replica checkpointed at the same order with
 * nothing after it. Both engines.
 */
static void test_async_checkpoint(void)
{
	static uint8_t ops[50][KV_MAX_OP], a[KV_MAX_OP], b[KV_MAX_OP];
	size_t opn[50], ref_n, got_n;
	char st[2][256], ref[256];
	struct replica r[2];
	uint64_t seed, order, o1, o;
	uint8_t *ref_img, *got_img;
	int e, i, k, la, lb;

	path_of(st[0], sizeof(st[0]), "async-ref");
	path_of(st[1], sizeof(st[1]), "async");
	path_of(ref, sizeof(ref), "async-ref-at-order");
	for (e = 0; e < 2; e++) {
		const char *args[] = { "--fault", "slow-checkpoint",
				       "--fault-delay", "1000", "--engine",
				       e ? "sqlite" : "hash", NULL };

		unlink(st[0]);
		unlink(st[1]);
		start(&r[0], "kv-hash", st[0], NULL);
		start(&r[1], "kv-faulty", st[1], args);
		expect_hello(&r[0], "kv-hash");
		expect_hello(&r[1], e ? "kv-sqlite" : "kv-hash");
		order = 0;
		seed = 11 + e;
		/* the first checkpoint formats the volume (synchronous) */
		lockstep(r, 2, &order, &seed, 300);
		CHECK_EQ(checkpoint(&r[0], order), 0);
		CHECK_EQ(checkpoint(&r[1], order), 0);
		/* then an incremental one, with requests behind it */
		lockstep(r, 2, &order, &seed, 300);
		o1 = order;
		CHECK_EQ(checkpoint(&r[0], o1), 0);
		ref_img = slurp(st[0], &ref_n);
		spit(ref, ref_img, ref_n);
		REQUIRE(!vf_checkpoint_encode(&r[1].wb, o1));
		send_wb(&r[1]);
		for (k = 0; k < 50; k++) {
			opn[k] = kv_test_gen_op(&seed, &lim, ops[k],
						RECORDS + 50);
			send_exec(&r[1], o1 + 1 + k, ops[k], opn[k]);
		}
		/* all 50 RESULTs first: the writer still sleeps */
		for (k = 0; k < 50; k++) {
			send_exec(&r[0], o1 + 1 + k, ops[k], opn[k]);
			la = recv_result(&r[0], o1 + 1 + k, a);
			lb = recv_result(&r[1], o1 + 1 + k, b);
			if (lb < 0 || la != lb || memcmp(a, b, la)) {
				fprintf(stderr, "engine %d: EXEC %llu after CHECKPOINT: no matching RESULT before DONE\n",
					e, (unsigned long long)(o1 + 1 + k));
				CHECK(0);
				break;
			}
		}
		o = ~0ull;
		CHECK_EQ(done_frame(&r[1], VF_R_CHECKPOINT_DONE, &o), 0);
		CHECK_EQ(o, o1);
		/* the volume is the state at o1, not at o1 + 50 */
		got_img = slurp(st[1], &got_n);
		CHECK(got_n == ref_n && !memcmp(got_img, ref_img, ref_n));
		free(got_img);
		free(ref_img);
		/* two in a row: the second waits for the first */
		order = o1 + 50;
		REQUIRE(!vf_checkpoint_encode(&r[1].wb, order));
		REQUIRE(!vf_checkpoint_encode(&r[1].wb, order));
		send_wb(&r[1]);
		for (i = 0; i < 2; i++) {
			CHECK_EQ(done_frame(&r[1], VF_R_CHECKPOINT_DONE, &o),
				 0);
			CHECK_EQ(o, order);
		}
		CHECK_EQ(checkpoint(&r[0], order), 0);
		CHECK(same_file(st[0], st[1]));
		/* EOF while the writer works: it finishes before the exit */
		lockstep(r, 2, &order, &seed, 20);
		REQUIRE(!vf_checkpoint_encode(&r[1].wb, order));
		send_wb(&r[1]);
		stop(&r[1], 0);
		CHECK_EQ(checkpoint(&r[0], order), 0);
		CHECK(same_file(st[0], st[1]));
		stop(&r[0], 0);
	}
}

/*
 * --journal: the volume of a replica keeping its journal in a file of its
 * own is byte for byte that of a replica without, and the file is zero
 * after each checkpoint. A committed journal planted in that file before
 * RESTORE (one entry, key 5 = "EVIL", at the next order) is discarded
 * unread: the restored order and records are the volume's (equal to the
 * in-volume replica's, GET for GET) and the file is zero again. A journal
 * that is the state volume is refused (exit 1), an empty path too (2).
 */
static bool all_zero(const char *path, size_t want)
{
	size_t n, i;
	uint8_t *b = slurp(path, &n);
	bool z = n == want;

	for (i = 0; z && i < n; i++)
		z = !b[i];
	free(b);
	return z;
}

static void plant_journal(const char *path, const struct kv_geom *g,
			  uint64_t order)
{
	size_t n = g->volume_size - g->journal_off;
	uint8_t *j = calloc(1, n), *ent;
	uint64_t crc;

	REQUIRE(j);
	ent = j + (g->entries_off - g->journal_off);
	kv_put_le32(ent, 1);
	kv_put_le32(ent + 4, 4);
	memcpy(ent + KV_SLOT_HDR_LEN, "EVIL", 4);
	kv_put_le32(j + KV_STATE_BLOCK, 5);	/* the index: key 5 */
	crc = vf_crc64_xz(0, j + KV_STATE_BLOCK, 4);
	crc = vf_crc64_xz(crc, ent, g->slot_size);
	memcpy(j, KV_JRNL_MAGIC, 8);
	kv_put_le32(j + 8, KV_STATE_VERSION);
	kv_put_le32(j + 12, 1);
	kv_put_le64(j + 16, order);
	kv_put_le32(j + 24, g->records);
	kv_put_le32(j + 28, g->record_size);
	kv_put_le64(j + 32, crc);
	kv_put_le32(j + KV_HDR_CRC_OFF, vf_crc32c(0, j, KV_HDR_CRC_OFF));
	spit(path, j, n);
	free(j);
}

static void test_journal(void)
{
	static uint8_t op[64], a[KV_MAX_OP], b[KV_MAX_OP];
	struct replica r[2];
	char va[256], vb[256], ja[256];
	const char *jx[] = { "--journal", ja, NULL };
	const char *self[] = { "--journal", va, NULL };
	const char *empty[] = { "--journal", "", NULL };
	uint64_t order = 0, seed = 17, o0 = 0, o1 = 0;
	struct kv_geom g;
	int n, la, lb;

	REQUIRE(!kv_geom_init(&g, &lim));
	path_of(va, sizeof(va), "jrnl-a");
	path_of(vb, sizeof(vb), "jrnl-b");
	path_of(ja, sizeof(ja), "jrnl-a.journal");
	start(&r[0], "kv-hash", va, jx);
	start(&r[1], "kv-sqlite", vb, NULL);
	expect_hello(&r[0], "kv-hash");
	expect_hello(&r[1], "kv-sqlite");
	lockstep(r, 2, &order, &seed, 400);
	CHECK_EQ(checkpoint(&r[0], order), 0);
	CHECK_EQ(checkpoint(&r[1], order), 0);
	CHECK(same_file(va, vb));
	CHECK(all_zero(ja, g.volume_size - g.journal_off));
	stop(&r[0], 0);
	stop(&r[1], 0);

	plant_journal(ja, &g, order + 1);
	start(&r[0], "kv-sqlite", va, jx);
	start(&r[1], "kv-hash", vb, NULL);
	expect_hello(&r[0], "kv-sqlite");
	expect_hello(&r[1], "kv-hash");
	CHECK_EQ(restore(&r[0], &o0), 0);
	CHECK_EQ(restore(&r[1], &o1), 0);
	CHECK_EQ(o0, order);
	CHECK_EQ(o1, order);
	{
		/* its commit record zeroed, the entry left unread */
		size_t nj;
		uint8_t *j = slurp(ja, &nj);

		CHECK(nj == g.volume_size - g.journal_off);
		CHECK(nj > KV_STATE_BLOCK && j[0] == 0 &&
		      !memcmp(j, j + 1, KV_STATE_BLOCK - 1));
		free(j);
	}
	CHECK(same_file(va, vb));
	n = kv_req_encode(op, sizeof(op), KV_OP_GET, 5, NULL, 0);
	REQUIRE(n > 0);
	send_exec(&r[0], order + 1, op, n);
	send_exec(&r[1], order + 1, op, n);
	la = recv_result(&r[0], order + 1, a);
	lb = recv_result(&r[1], order + 1, b);
	CHECK(la >= (int)KV_REPLY_HDR_LEN && la == lb && !memcmp(a, b, la));
	CHECK(!(la == (int)KV_REPLY_HDR_LEN + 4 &&
		!memcmp(a + KV_REPLY_HDR_LEN, "EVIL", 4)));
	order++;
	lockstep(r, 2, &order, &seed, 200);
	CHECK_EQ(checkpoint(&r[0], order), 0);
	CHECK_EQ(checkpoint(&r[1], order), 0);
	CHECK(same_file(va, vb));
	stop(&r[0], 0);
	stop(&r[1], 0);

	CHECK_EQ(wait_exit(spawn("kv-hash", va, -1, "unix:/nonexistent",
				 self)), 1);
	CHECK_EQ(wait_exit(spawn("kv-hash", va, -1, "unix:/nonexistent",
				 empty)), 2);
}

int main(void)
{
	char cmd[512];
	int ret;

	if (getenv("KV_BIN_DIR"))
		bindir = getenv("KV_BIN_DIR");
	signal(SIGPIPE, SIG_IGN);
	REQUIRE(mkdtemp(tmpdir));
	test_usage();
	test_connect();
	test_protocol_errors();
	test_corrupt_restore();
	test_differential();
	test_faulty();
	test_async_checkpoint();
	test_journal();
	ret = vf_check_done("kv-replica-test");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return ret;
}
