// SPDX-License-Identifier: GPL-2.0-only
/* vf-proto-test - codec round trips and every kind of malformed frame. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf_proto.h"
#include "vf_session.h"
#include "vf_check.h"

static struct vf_wbuf wb;

static void test_roundtrips(void)
{
	uint8_t op[100];
	struct vf_request rq = { 0x1122334455667788ULL, 42, sizeof(op), op,
				 NULL }, rq2;
	struct vf_reply rp = { 7, 8, VF_ST_OK, 3, (const uint8_t *)"abc", 0 }, rp2;
	struct vf_exec ex = { 9, 10, 11, 5, (const uint8_t *)"hello" }, ex2;
	struct vf_result rs = { 12, 0, NULL }, rs2;
	struct vf_done dn = { 13, 5 }, dn2;
	struct vf_hello he;
	struct vf_error er;
	struct vf_hdr h;
	uint64_t ord;

	memset(op, 0xab, sizeof(op));
	vf_wb_init(&wb, 0);
	CHECK_EQ(vf_request_encode(&wb, &rq), 0);
	CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
			       VF_MAGIC_CLIENT, &h),
		 VF_HDR_LEN + 20 + sizeof(op));
	CHECK_EQ(h.type, VF_C_REQUEST);
	CHECK_EQ(vf_request_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len,
				   h.version, &rq2),
		 0);
	CHECK(rq2.client_id == rq.client_id && rq2.seq == 42);
	CHECK(rq2.op_len == sizeof(op) && !memcmp(rq2.op, op, sizeof(op)));
	/* byte layout: little-endian magic "VMFC", version 2 */
	CHECK(!memcmp(vf_wb_data(&wb), "VMFC\x02\x00\x01\x00", 8));
	CHECK_EQ(vf_wb_data(&wb)[16], 0x88);
	CHECK(!rq2.key);
	/* version 3: the session key follows the op */
	{
		uint8_t key[VF_SESSION_KEY_LEN];

		memset(key, 0x5a, sizeof(key));
		rq.key = key;
		vf_wb_reset(&wb);
		CHECK_EQ(vf_request_encode(&wb, &rq), 0);
		CHECK(!memcmp(vf_wb_data(&wb), "VMFC\x03\x00\x01\x00", 8));
		CHECK_EQ(vf_frame_peek(vf_wb_data(&wb), vf_wb_pending(&wb),
				       VF_MAGIC_CLIENT, &h),
			 VF_HDR_LEN + 20 + sizeof(op) + VF_SESSION_KEY_LEN);
		CHECK_EQ(vf_request_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len,
					   3, &rq2),
			 0);
		CHECK(rq2.key && !memcmp(rq2.key, key, sizeof(key)));
		/* a version 3 frame without its key, a version 2 with one */
		CHECK_EQ(vf_request_decode(vf_wb_data(&wb) + VF_HDR_LEN,
					   h.len - VF_SESSION_KEY_LEN, 3, &rq2),
			 -VF_E(VF_ERR_MALFORMED));
		CHECK_EQ(vf_request_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len,
					   2, &rq2),
			 -VF_E(VF_ERR_MALFORMED));
		rq.key = NULL;
	}
	/* sessions: the client_id is the key's, nobody else's */
	{
		uint8_t key[VF_SESSION_KEY_LEN];
		struct vf_request sr = { 0, 1, 0, NULL, key };
		uint64_t id;

		CHECK_EQ(vf_session_new(key, &sr.client_id), 0);
		CHECK(vf_session_check(&sr));
		CHECK_EQ(vf_session_id(key, &id), 0);
		CHECK(id == sr.client_id);
		key[31] ^= 1;
		CHECK(!vf_session_check(&sr));
		key[31] ^= 1;
		sr.client_id ^= 1;
		CHECK(!vf_session_check(&sr));
		sr.client_id ^= 1;
		sr.key = NULL;
		CHECK(!vf_session_check(&sr));
		/* a fixed key, a fixed id: SHA-256 of 32 zero bytes starts
		 * 66 68 7a ad f8 62 bd 77 */
		memset(key, 0, sizeof(key));
		CHECK_EQ(vf_session_id(key, &id), 0);
		CHECK(id == 0x77bd62f8ad7a6866ULL);
	}

	vf_wb_reset(&wb);
	CHECK_EQ(vf_reply_encode(&wb, &rp), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_CLIENT, &h), 0);
	CHECK_EQ(vf_reply_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &rp2), 0);
	CHECK(rp2.len == 3 && !memcmp(rp2.data, "abc", 3) && rp2.seq == 8);
	CHECK_EQ(h.version, VF_CLIENT_VERSION);

	/* NOT_PRIMARY: as is in version 2, UNAVAILABLE to a version 1 client */
	rp.status = VF_ST_NOT_PRIMARY;
	vf_wb_reset(&wb);
	CHECK_EQ(vf_reply_encode(&wb, &rp), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_CLIENT, &h), 0);
	CHECK_EQ(vf_reply_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &rp2), 0);
	CHECK(h.version == VF_CLIENT_VERSION &&
	      rp2.status == VF_ST_NOT_PRIMARY);
	rp.version = 1;
	vf_wb_reset(&wb);
	CHECK_EQ(vf_reply_encode(&wb, &rp), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_CLIENT, &h), 0);
	CHECK_EQ(vf_reply_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &rp2), 0);
	CHECK(h.version == 1 && rp2.status == VF_ST_UNAVAILABLE);
	rp.version = VF_CLIENT_VERSION + 1;
	CHECK_EQ(vf_reply_encode(&wb, &rp), -EINVAL);
	rp.version = 0;
	rp.status = VF_ST_OK;
	CHECK(!strcmp(vf_status_name(VF_ST_NOT_PRIMARY), "NOT_PRIMARY"));
	CHECK(!strcmp(vf_status_name(VF_ST_OK), "OK"));
	CHECK(!strcmp(vf_status_name(4), "?"));

	vf_wb_reset(&wb);
	CHECK_EQ(vf_error_encode(&wb, VF_MAGIC_CLIENT, VF_ERR_BUSY, "busy"), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_CLIENT, &h), 0);
	CHECK(h.type == VF_C_ERROR && h.version == VF_CLIENT_VERSION_MIN);
	CHECK_EQ(vf_error_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &er), 0);
	CHECK(er.code == VF_ERR_BUSY && er.msg_len == 4 &&
	      !memcmp(er.msg, "busy", 4));

	vf_wb_reset(&wb);
	CHECK_EQ(vf_hello_encode(&wb, "kv-hash", "1.0"), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(vf_hello_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &he), 0);
	CHECK(he.proto_version == 1 && he.impl_len == 7 && he.ver_len == 3);

	vf_wb_reset(&wb);
	CHECK_EQ(vf_exec_encode(&wb, &ex), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(vf_exec_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &ex2), 0);
	CHECK(ex2.order == 9 && ex2.client_id == 10 && ex2.seq == 11 &&
	      ex2.op_len == 5 && !memcmp(ex2.op, "hello", 5));

	vf_wb_reset(&wb);
	CHECK_EQ(vf_result_encode(&wb, &rs), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(vf_result_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &rs2),
		 0);
	CHECK(rs2.order == 12 && rs2.len == 0);

	vf_wb_reset(&wb);
	CHECK_EQ(vf_checkpoint_encode(&wb, 77), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(vf_checkpoint_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len,
				      &ord), 0);
	CHECK_EQ(ord, 77);

	vf_wb_reset(&wb);
	CHECK_EQ(vf_done_encode(&wb, VF_R_RESTORE_DONE, &dn), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(h.type, VF_R_RESTORE_DONE);
	CHECK_EQ(vf_done_decode(vf_wb_data(&wb) + VF_HDR_LEN, h.len, &dn2), 0);
	CHECK(dn2.order == 13 && dn2.status == 5);
	CHECK_EQ(vf_done_encode(&wb, VF_R_EXEC, &dn), -EINVAL);

	vf_wb_reset(&wb);
	CHECK_EQ(vf_restore_encode(&wb), 0);
	CHECK_EQ(vf_hdr_decode(vf_wb_data(&wb), VF_MAGIC_REPLICA, &h), 0);
	CHECK_EQ(h.len, 0);
	CHECK_EQ(vf_empty_decode(vf_wb_data(&wb) + VF_HDR_LEN, 0), 0);
	CHECK_EQ(vf_empty_decode(vf_wb_data(&wb), 1), -VF_E(VF_ERR_MALFORMED));
}

static void test_bad_headers(void)
{
	uint8_t b[VF_HDR_LEN];
	struct vf_hdr h;

	vf_hdr_encode(b, VF_MAGIC_CLIENT, VF_C_REQUEST, 20);
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), 0);
	/* wrong magic: other protocol, garbage; early on partial header */
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_REPLICA, &h), -VF_E(VF_ERR_MAGIC));
	CHECK_EQ(vf_frame_peek((const uint8_t *)"GET ", 4, VF_MAGIC_CLIENT, &h),
		 -VF_E(VF_ERR_MAGIC));
	CHECK_EQ(vf_frame_peek(b, 3, VF_MAGIC_CLIENT, &h), 0);
	/* truncated: header only, payload missing */
	CHECK_EQ(vf_frame_peek(b, VF_HDR_LEN, VF_MAGIC_CLIENT, &h), 0);
	/* version: clients 1..3, replicas 1 */
	b[4] = 1;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), 0);
	b[4] = 3;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), 0);
	b[4] = 0;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_VERSION));
	b[4] = 4;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_VERSION));
	b[4] = 2;
	vf_hdr_encode(b, VF_MAGIC_REPLICA, VF_R_EXEC, 20);
	CHECK_EQ(b[4], 1);
	b[4] = 2;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_REPLICA, &h),
		 -VF_E(VF_ERR_VERSION));
	vf_hdr_encode(b, VF_MAGIC_CLIENT, VF_C_REQUEST, 20);
	/* type: unknown, and a replica type on the client protocol */
	b[6] = 4;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_TYPE));
	b[6] = VF_R_EXEC;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_TYPE));
	b[6] = 0;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_TYPE));
	b[6] = VF_C_REQUEST;
	/* oversized */
	vf_hdr_encode(b, VF_MAGIC_CLIENT, VF_C_REQUEST, VF_MAX_PAYLOAD + 1);
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h), -VF_E(VF_ERR_TOO_BIG));
	CHECK_EQ(vf_frame_peek(b, VF_HDR_LEN, VF_MAGIC_CLIENT, &h),
		 -VF_E(VF_ERR_TOO_BIG));
	/* reserved != 0 */
	vf_hdr_encode(b, VF_MAGIC_CLIENT, VF_C_REQUEST, 20);
	b[15] = 1;
	CHECK_EQ(vf_hdr_decode(b, VF_MAGIC_CLIENT, &h),
		 -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_err_code(-VF_E(VF_ERR_MALFORMED)), VF_ERR_MALFORMED);
	CHECK_EQ(vf_err_code(-EPIPE), 0);
	CHECK(strcmp(vf_strerror(-VF_E(VF_ERR_MAGIC)), "wrong magic") == 0);
}

static void test_bad_payloads(void)
{
	uint8_t p[64] = { 0 };
	struct vf_request rq;
	struct vf_result rs;
	struct vf_hello he;
	struct vf_exec ex;
	struct vf_error er;
	size_t n;

	/* internal length larger than the payload (truncated) */
	p[16] = 10;			/* op_len = 10, only 5 bytes follow */
	CHECK_EQ(vf_request_decode(p, 25, 2, &rq), -VF_E(VF_ERR_MALFORMED));
	/* internal length smaller than the payload (trailing bytes) */
	CHECK_EQ(vf_request_decode(p, 31, 2, &rq), -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_request_decode(p, 30, 2, &rq), 0);
	/* shorter than the fixed fields */
	for (n = 0; n < 20; n++)
		CHECK_EQ(vf_request_decode(p, n, 2, &rq),
			 -VF_E(VF_ERR_MALFORMED));
	/* op above VF_MAX_OP */
	memset(p, 0, sizeof(p));
	p[18] = 0x01;			/* op_len = 0x10000 + ... */
	p[17] = 0x00;
	p[16] = 0x01;
	CHECK_EQ(vf_request_decode(p, 20, 2, &rq), -VF_E(VF_ERR_TOO_BIG));
	memset(p, 0, sizeof(p));
	p[10] = 0x02;			/* result len = 0x20000 */
	CHECK_EQ(vf_result_decode(p, 12, &rs), -VF_E(VF_ERR_TOO_BIG));
	memset(p, 0, sizeof(p));
	p[24] = 0xff;
	p[25] = 0xff;
	p[26] = 0xff;
	p[27] = 0xff;
	CHECK_EQ(vf_exec_decode(p, 28, &ex), -VF_E(VF_ERR_TOO_BIG));
	/* hello: string lengths must add up */
	memset(p, 0, sizeof(p));
	p[0] = 1;
	p[4] = 3;
	CHECK_EQ(vf_hello_decode(p, 4 + 2 + 3 + 2, &he), 0);
	CHECK_EQ(vf_hello_decode(p, 4 + 2 + 3 + 1, &he),
		 -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_hello_decode(p, 4 + 2 + 3 + 3, &he),
		 -VF_E(VF_ERR_MALFORMED));
	/* error: msg_len past the end */
	memset(p, 0, sizeof(p));
	p[4] = 9;
	CHECK_EQ(vf_error_decode(p, 6 + 8, &er), -VF_E(VF_ERR_MALFORMED));
	CHECK_EQ(vf_error_decode(p, 6 + 9, &er), 0);
}

static void test_writer_bounds(void)
{
	static uint8_t big[VF_MAX_OP + 1];
	struct vf_request rq = { 1, 1, sizeof(big), big, NULL };
	struct vf_wbuf small;

	vf_wb_reset(&wb);
	CHECK_EQ(vf_request_encode(&wb, &rq), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_init(&small, 40);
	rq.op_len = 100;
	CHECK_EQ(vf_request_encode(&small, &rq), -VF_E(VF_ERR_TOO_BIG));
	vf_wb_free(&small);
}

static void test_fd_helpers(void)
{
	uint8_t buf[64];
	struct vf_hdr h;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(vf_write_frame(sv[0], VF_MAGIC_REPLICA, VF_R_CHECKPOINT,
				"\x05\0\0\0\0\0\0\0", 8), 0);
	CHECK_EQ(vf_read_frame(sv[1], VF_MAGIC_REPLICA, &h, buf, sizeof(buf)),
		 0);
	CHECK(h.type == VF_R_CHECKPOINT && h.len == 8 && buf[0] == 5);
	/* payload larger than the caller's buffer */
	CHECK_EQ(vf_write_frame(sv[0], VF_MAGIC_REPLICA, VF_R_RESTORE, buf, 64),
		 0);
	CHECK_EQ(vf_read_frame(sv[1], VF_MAGIC_REPLICA, &h, buf, 8),
		 -VF_E(VF_ERR_TOO_BIG));
	CHECK_EQ(vf_read_all(sv[1], buf, 64), 0);
	/* EOF inside a frame, then clean EOF */
	CHECK_EQ(vf_write_all(sv[0], "VMFR", 4), 0);
	shutdown(sv[0], SHUT_WR);
	CHECK_EQ(vf_read_frame(sv[1], VF_MAGIC_REPLICA, &h, buf, 64), -EPIPE);
	CHECK_EQ(vf_read_frame(sv[1], VF_MAGIC_REPLICA, &h, buf, 64), 1);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_roundtrips();
	test_bad_headers();
	test_bad_payloads();
	test_writer_bounds();
	test_fd_helpers();
	vf_wb_free(&wb);
	return vf_check_done("vf-proto-test");
}
