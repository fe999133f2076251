// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_nl attribute encoding and decoding, without a kernel: requests are
 * built and checked attribute by attribute; replies, events, checksum
 * batches and extended acks are built the way the kernel builds them and
 * parsed back, including malformed ones. Run under ASan/UBSan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "vf_check.h"
#include "vf_nl.h"

static struct nl_msg *kmsg(int cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	CHECK(m != NULL);
	CHECK(genlmsg_put(m, 0, 0, 0x20, 0, 0, cmd, VMFIT_GENL_VERSION));
	return m;
}

static void put_dev(struct nl_msg *m, const char *name)
{
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 253);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 7);
	nla_put_string(m, VMFIT_ATTR_DEV_NAME, name);
}

static struct nlattr *find(struct nl_msg *m, int type)
{
	struct genlmsghdr *g = genlmsg_hdr(nlmsg_hdr(m));

	return nla_find(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), type);
}

static void test_requests(void)
{
	struct vf_nl_dev d = { .name = "vol0", .has_devno = true,
			       .major = 253, .minor = 4 };
	struct vf_nl_csum_req req = { .algo = VMFIT_CSUM_XXHASH64,
				      .flags = VMFIT_CSUM_F_CHANGED,
				      .has_first = true, .first = 3,
				      .has_last = true, .last = 1ULL << 40 };
	struct vf_nl_csum_req none = { 0 };
	char longname[200];
	struct nl_msg *m;
	struct nlattr *a;

	m = kmsg(VMFIT_CMD_CHECKSUM);
	CHECK_EQ(vf_nl_put_dev(m, &d), 0);
	CHECK_EQ(vf_nl_put_csum_req(m, &req), 0);
	a = find(m, VMFIT_ATTR_DEV_NAME);
	CHECK(a && nla_len(a) == 5 && !strcmp(nla_data(a), "vol0"));
	a = find(m, VMFIT_ATTR_DEV_MAJOR);
	CHECK(a && nla_len(a) == 4 && nla_get_u32(a) == 253);
	a = find(m, VMFIT_ATTR_DEV_MINOR);
	CHECK(a && nla_get_u32(a) == 4);
	a = find(m, VMFIT_ATTR_CSUM_ALGO);
	CHECK(a && nla_get_u32(a) == VMFIT_CSUM_XXHASH64);
	a = find(m, VMFIT_ATTR_CSUM_FLAGS);
	CHECK(a && nla_get_u32(a) == VMFIT_CSUM_F_CHANGED);
	a = find(m, VMFIT_ATTR_FIRST_CHUNK);
	CHECK(a && nla_len(a) == 8 && nla_get_u64(a) == 3);
	a = find(m, VMFIT_ATTR_LAST_CHUNK);
	CHECK(a && nla_get_u64(a) == 1ULL << 40);
	nlmsg_free(m);

	/* Defaults send nothing: the kernel's defaults apply. */
	m = kmsg(VMFIT_CMD_CHECKSUM);
	d.has_devno = false;
	CHECK_EQ(vf_nl_put_dev(m, &d), 0);
	CHECK_EQ(vf_nl_put_csum_req(m, &none), 0);
	CHECK(!find(m, VMFIT_ATTR_DEV_MAJOR));
	CHECK(!find(m, VMFIT_ATTR_CSUM_ALGO));
	CHECK(!find(m, VMFIT_ATTR_CSUM_FLAGS));
	CHECK(!find(m, VMFIT_ATTR_FIRST_CHUNK));
	CHECK(!find(m, VMFIT_ATTR_LAST_CHUNK));
	nlmsg_free(m);

	/* A name dm would refuse is refused before sending. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	d.name = longname;
	m = kmsg(VMFIT_CMD_GET_STATUS);
	CHECK_EQ(vf_nl_put_dev(m, &d), -ENAMETOOLONG);
	nlmsg_free(m);
}

static void test_status(void)
{
	struct vf_nl_status st;
	struct nl_msg *m;

	m = kmsg(VMFIT_CMD_GET_STATUS);
	put_dev(m, "live");
	nla_put_u32(m, VMFIT_ATTR_MODE, VMFIT_NL_MODE_SNAPSHOT);
	nla_put_u64(m, VMFIT_ATTR_EPOCH, 5);
	nla_put_u32(m, VMFIT_ATTR_CHUNK_SECTORS, 8);
	nla_put_u64(m, VMFIT_ATTR_ORIGIN_CHUNKS, 1ULL << 33);
	nla_put_u64(m, VMFIT_ATTR_CHANGED, 12);
	nla_put_u64(m, VMFIT_ATTR_COW_USED, 3);
	nla_put_u64(m, VMFIT_ATTR_COW_TOTAL, 1000);
	nla_put_u32(m, VMFIT_ATTR_VIEW, VMFIT_NL_VIEW_READY);
	nla_put_u64(m, VMFIT_ATTR_HELD_NS, 0);
	nla_put_u64(m, VMFIT_ATTR_DRAIN_NS, 123456);
	nla_put_u32(m, VMFIT_ATTR_HEALTH, VMFIT_NL_HEALTH_COW_FULL);
	nla_put_u32(m, VMFIT_ATTR_CSUM_ACTIVE, 2);
	nla_put_u64(m, VMFIT_ATTR_CSUM_DONE, 10);
	nla_put_u64(m, VMFIT_ATTR_CSUM_TOTAL, 20);
	CHECK_EQ(vf_nl_parse_status(m, &st), 0);
	CHECK_STR(st.name, "live");
	CHECK_EQ(st.major, 253);
	CHECK_EQ(st.minor, 7);
	CHECK_EQ(st.mode, VMFIT_NL_MODE_SNAPSHOT);
	CHECK_EQ(st.epoch, 5);
	CHECK_EQ(st.chunk_sectors, 8);
	CHECK(st.origin_chunks == 1ULL << 33);
	CHECK_EQ(st.changed, 12);
	CHECK_EQ(st.cow_used, 3);
	CHECK_EQ(st.cow_total, 1000);
	CHECK_EQ(st.view, VMFIT_NL_VIEW_READY);
	CHECK_EQ(st.drain_ns, 123456);
	CHECK_EQ(st.health, VMFIT_NL_HEALTH_COW_FULL);
	CHECK_EQ(st.csum_active, 2);
	CHECK_EQ(st.csum_done, 10);
	CHECK_EQ(st.csum_total, 20);
	CHECK_STR(vf_nl_mode_name(st.mode), "snapshot");
	CHECK_STR(vf_nl_view_name(st.view), "ready");
	CHECK_STR(vf_nl_health_name(st.health), "cow_full");
	CHECK_STR(vf_nl_mode_name(9), "?");
	nlmsg_free(m);

	/* Missing mandatory attributes, wrong sizes, wrong command. */
	m = kmsg(VMFIT_CMD_GET_STATUS);
	put_dev(m, "live");
	CHECK_EQ(vf_nl_parse_status(m, &st), -EPROTO);
	nlmsg_free(m);
	m = kmsg(VMFIT_CMD_GET_STATUS);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 253);
	nla_put_u16(m, VMFIT_ATTR_DEV_MINOR, 7);
	CHECK_EQ(vf_nl_parse_status(m, &st), -EPROTO);
	nlmsg_free(m);
	m = kmsg(VMFIT_CMD_SNAPSHOT);
	put_dev(m, "live");
	CHECK_EQ(vf_nl_parse_status(m, &st), -EPROTO);
	nlmsg_free(m);
}

static void test_events(void)
{
	struct vf_nl_event ev;
	struct nl_msg *m;
	char name[VMFIT_NAME_MAX + 50];

	m = kmsg(VMFIT_CMD_EVT_SNAPSHOT_END);
	put_dev(m, "live");
	nla_put_u64(m, VMFIT_ATTR_EPOCH, 9);
	nla_put_u64(m, VMFIT_ATTR_HELD_NS, 0);
	nla_put_u64(m, VMFIT_ATTR_DRAIN_NS, 777);
	CHECK_EQ(vf_nl_parse_event(m, &ev), 0);
	CHECK_EQ(ev.cmd, VMFIT_CMD_EVT_SNAPSHOT_END);
	CHECK_EQ(ev.present, VF_NL_EV_EPOCH | VF_NL_EV_HELD | VF_NL_EV_DRAIN);
	CHECK_EQ(ev.epoch, 9);
	CHECK_EQ(ev.drain_ns, 777);
	CHECK_STR(vf_nl_event_name(ev.cmd), "snapshot-end");
	nlmsg_free(m);

	m = kmsg(VMFIT_CMD_EVT_CSUM_DONE);
	put_dev(m, "live");
	nla_put_u64(m, VMFIT_ATTR_CSUM_DONE, 4);
	nla_put_u64(m, VMFIT_ATTR_CSUM_TOTAL, 8);
	nla_put_u32(m, VMFIT_ATTR_ERROR, ECANCELED);
	CHECK_EQ(vf_nl_parse_event(m, &ev), 0);
	CHECK_EQ(ev.present, VF_NL_EV_CSUM | VF_NL_EV_ERROR);
	CHECK_EQ(ev.csum_done, 4);
	CHECK_EQ(ev.csum_total, 8);
	CHECK_EQ(ev.error, ECANCELED);
	nlmsg_free(m);

	/* The longest name fits; a name without its NUL is malformed. */
	memset(name, 'a', sizeof(name));
	name[VMFIT_NAME_MAX] = '\0';
	m = kmsg(VMFIT_CMD_EVT_COW_FULL);
	put_dev(m, name);
	CHECK_EQ(vf_nl_parse_event(m, &ev), 0);
	CHECK_EQ(strlen(ev.name), VMFIT_NAME_MAX);
	nlmsg_free(m);
	m = kmsg(VMFIT_CMD_EVT_COW_FULL);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 253);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 7);
	nla_put(m, VMFIT_ATTR_DEV_NAME, 4, "abcd");
	CHECK_EQ(vf_nl_parse_event(m, &ev), -EPROTO);
	nlmsg_free(m);
	/* One byte too long for a dm name. */
	memset(name, 'a', sizeof(name));
	name[VMFIT_NAME_MAX + 1] = '\0';
	m = kmsg(VMFIT_CMD_EVT_COW_FULL);
	put_dev(m, name);
	CHECK_EQ(vf_nl_parse_event(m, &ev), -EPROTO);
	nlmsg_free(m);

	/* Not an event, or no device. */
	m = kmsg(VMFIT_CMD_SNAPSHOT);
	put_dev(m, "live");
	CHECK_EQ(vf_nl_parse_event(m, &ev), -EPROTO);
	nlmsg_free(m);
	m = kmsg(VMFIT_CMD_EVT_MERGE_DONE);
	CHECK_EQ(vf_nl_parse_event(m, &ev), -EPROTO);
	nlmsg_free(m);
	CHECK(vf_nl_event_name(0) == NULL);
}

struct got {
	uint64_t chunks[8];
	uint8_t first_byte[8];
	int n;
};

static int collect(uint64_t chunk, const uint8_t *digest, unsigned int size,
		   void *arg)
{
	struct got *g = arg;

	if (g->n < 8) {
		g->chunks[g->n] = chunk;
		g->first_byte[g->n] = digest[0];
	}
	g->n++;
	return 0;
}

static int stop_at_two(uint64_t chunk, const uint8_t *digest,
		       unsigned int size, void *arg)
{
	return ++*(int *)arg == 2 ? -EINTR : 0;
}

/* A checksum message with @n entries; @bad: 1 short digest, 2 no chunk,
 * 3 descending chunks, 4 foreign attribute in the nest. */
static struct nl_msg *csum_msg(int n, unsigned int size, int bad)
{
	struct nl_msg *m = kmsg(VMFIT_CMD_CHECKSUM);
	struct nlattr *entries, *e;
	uint8_t digest[80];
	int i;

	put_dev(m, "live");
	nla_put_u32(m, VMFIT_ATTR_CSUM_ALGO, VMFIT_CSUM_SHA256);
	nla_put_u32(m, VMFIT_ATTR_DIGEST_SIZE, size);
	nla_put_u32(m, VMFIT_ATTR_CSUM_WORKERS, 3);
	nla_put_u64(m, VMFIT_ATTR_CSUM_TOTAL, 100);
	entries = nla_nest_start(m, VMFIT_ATTR_CSUM_ENTRIES);
	for (i = 0; i < n; i++) {
		memset(digest, 0x10 + i, sizeof(digest));
		e = nla_nest_start(m, bad == 4 && i == 1 ?
				   VMFIT_ATTR_DEV_NAME : VMFIT_ATTR_CSUM_ENTRY);
		if (!(bad == 2 && i == 1))
			nla_put_u64(m, VMFIT_CSUM_A_CHUNK,
				    bad == 3 ? 10 - i : 10 + 2 * i);
		nla_put(m, VMFIT_CSUM_A_DIGEST,
			bad == 1 && i == 1 ? size - 1 : size, digest);
		nla_nest_end(m, e);
	}
	nla_nest_end(m, entries);
	nla_put_u64(m, VMFIT_ATTR_CSUM_DONE, n);
	return m;
}

static void test_csum(void)
{
	struct vf_nl_csum_info info = { 0 };
	struct got g = { 0 };
	struct nl_msg *m;
	int bad, stops = 0;

	m = csum_msg(3, 32, 0);
	CHECK_EQ(vf_nl_parse_csum(m, collect, &g, &info), 3);
	CHECK_EQ(info.digest_size, 32);
	CHECK_EQ(info.total, 100);
	CHECK_EQ(info.workers, 3);
	CHECK_EQ(g.n, 3);
	CHECK_EQ(g.chunks[0], 10);
	CHECK_EQ(g.chunks[2], 14);
	CHECK_EQ(g.first_byte[1], 0x11);
	CHECK(info.have_last && info.last_chunk == 14);
	/* The next batch must continue after chunk 14. */
	CHECK_EQ(vf_nl_parse_csum(m, collect, &g, &info), -EPROTO);
	nlmsg_free(m);

	/* The digest size may not change between batches. */
	info.have_last = false;
	m = csum_msg(1, 8, 0);
	CHECK_EQ(vf_nl_parse_csum(m, collect, &g, &info), -EPROTO);
	nlmsg_free(m);

	for (bad = 1; bad <= 4; bad++) {
		memset(&info, 0, sizeof(info));
		m = csum_msg(3, 32, bad);
		CHECK_EQ(vf_nl_parse_csum(m, collect, &g, &info), -EPROTO);
		nlmsg_free(m);
	}
	memset(&info, 0, sizeof(info));
	m = csum_msg(1, 65, 0);
	CHECK_EQ(vf_nl_parse_csum(m, collect, &g, &info), -EPROTO);
	nlmsg_free(m);

	/* The callback can stop the walk with its own error. */
	memset(&info, 0, sizeof(info));
	m = csum_msg(4, 4, 0);
	CHECK_EQ(vf_nl_parse_csum(m, stop_at_two, &stops, &info), -EINTR);
	CHECK_EQ(stops, 2);
	nlmsg_free(m);
}

/* An NLMSG_ERROR as the kernel sends it with NETLINK_EXT_ACK. */
static size_t build_error(void *buf, int err, bool capped, const char *msg)
{
	struct nlmsghdr *h = buf;
	struct nlmsgerr *e;
	struct nlattr *a;
	size_t off, payload = capped ? 0 : 8;

	memset(buf, 0, 512);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) |
			 (msg ? NLM_F_ACK_TLVS : 0);
	e = NLMSG_DATA(h);
	e->error = err;
	e->msg.nlmsg_len = NLMSG_HDRLEN + 8;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*e) + payload);
	if (msg) {
		a = (struct nlattr *)((char *)buf + off);
		a->nla_type = NLMSGERR_ATTR_MSG;
		a->nla_len = sizeof(*a) + strlen(msg) + 1;
		strcpy((char *)(a + 1), msg);
		off += NLA_ALIGN(a->nla_len);
	}
	h->nlmsg_len = off;
	return off;
}

static void test_extack(void)
{
	unsigned char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *a;
	char out[64];
	char small[8];
	int err = -ECANCELED;

	build_error(buf, -ENODEV, true, "No such vmfit device");
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), 0);
	CHECK_STR(out, "No such vmfit device");
	build_error(buf, -ENODEV, false, "uncapped");
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), 0);
	CHECK_STR(out, "uncapped");
	build_error(buf, -EPERM, true, NULL);
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	/* Truncated into a small buffer. */
	build_error(buf, -EINVAL, true, "a long message here");
	CHECK_EQ(vf_nl_parse_extack(buf, small, sizeof(small)), 0);
	CHECK_STR(small, "a long ");
	/* An attribute claiming more than the message holds is ignored. */
	build_error(buf, -EINVAL, true, "x");
	a = (struct nlattr *)(buf + NLMSG_HDRLEN +
			      NLMSG_ALIGN(sizeof(struct nlmsgerr)));
	a->nla_len = 400;
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	/* A header claiming less than the error itself. */
	build_error(buf, -EINVAL, false, "x");
	h->nlmsg_len = NLMSG_HDRLEN + 4;
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), -EPROTO);

	/* NLMSG_DONE of a failed dump: int error, then the TLVs. */
	memset(buf, 0, sizeof(buf));
	h->nlmsg_type = NLMSG_DONE;
	h->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	memcpy(NLMSG_DATA(h), &err, sizeof(err));
	a = (struct nlattr *)(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int)));
	a->nla_type = NLMSGERR_ATTR_MSG;
	a->nla_len = sizeof(*a) + sizeof("The checksum was cancelled");
	strcpy((char *)(a + 1), "The checksum was cancelled");
	h->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int)) +
		       NLA_ALIGN(a->nla_len);
	CHECK_EQ(vf_nl_parse_extack(buf, out, sizeof(out)), 0);
	CHECK_STR(out, "The checksum was cancelled");
}

int main(void)
{
	test_requests();
	test_status();
	test_events();
	test_csum();
	test_extack();
	return vf_check_done("vf-nl-test");
}
