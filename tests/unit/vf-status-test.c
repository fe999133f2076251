// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of vf_status: the vmfit / vmfit-view status lines, the table
 * line and the paged changed-set replies. Every malformed input must be
 * rejected with -EINVAL or -ERANGE and leave the output untouched.
 */
#include <errno.h>
#include <stdint.h>

#include "vf_check.h"
#include "vf_status.h"

static void test_status_ok(void)
{
	struct vf_status st;

	CHECK_EQ(vf_status_parse("normal 0 0 0/1000 - 0 0 0/0 ok", &st), 0);
	CHECK_EQ(st.mode, VF_MODE_NORMAL);
	CHECK_EQ(st.cow_total, 1000);
	CHECK_EQ(st.view, VF_VIEW_NONE);
	CHECK_EQ(st.health, VF_HEALTH_OK);

	CHECK_EQ(vf_status_parse("snapshot 3 17 12/1000 ready 0 1234567 0/0 ok",
				 &st), 0);
	CHECK_EQ(st.mode, VF_MODE_SNAPSHOT);
	CHECK_EQ(st.epoch, 3);
	CHECK_EQ(st.changed, 17);
	CHECK_EQ(st.cow_used, 12);
	CHECK_EQ(st.view, VF_VIEW_READY);
	CHECK_EQ(st.held_ns, 0);
	CHECK_EQ(st.drain_ns, 1234567);

	CHECK_EQ(vf_status_parse("merging 3 17 12/1000 - 5 6 4/12 cow_full\n",
				 &st), 0);
	CHECK_EQ(st.mode, VF_MODE_MERGING);
	CHECK_EQ(st.merged, 4);
	CHECK_EQ(st.to_merge, 12);
	CHECK_EQ(st.health, VF_HEALTH_COW_FULL);

	/* Blank runs are tolerated, and "Fail" (the dm style) is fail. */
	CHECK_EQ(vf_status_parse("  snapshot  1 0\t0/8 draining 0 0 0/0 Fail ",
				 &st), 0);
	CHECK_EQ(st.view, VF_VIEW_DRAINING);
	CHECK_EQ(st.health, VF_HEALTH_FAIL);

	/* Limits. */
	CHECK_EQ(vf_status_parse("normal 18446744073709551615 0 0/0 - 0 0 0/0 ok",
				 &st), 0);
	CHECK(st.epoch == UINT64_MAX);
}

static void test_status_bad(void)
{
	static const char *const bad[] = {
		"",
		"normal",
		"normal 0 0 0/1000 - 0 0 0/0",			/* 8 fields */
		"normal 0 0 0/1000 - 0 0 0/0 ok extra",		/* 10 fields */
		"Normal0 0 0 0/1000 - 0 0 0/0 ok",
		"frozen 0 0 0/1000 - 0 0 0/0 ok",		/* mode */
		"normal x 0 0/1000 - 0 0 0/0 ok",		/* epoch */
		"normal -1 0 0/1000 - 0 0 0/0 ok",
		"normal +1 0 0/1000 - 0 0 0/0 ok",
		"normal 1a 0 0/1000 - 0 0 0/0 ok",
		"normal 0 0 0/1000/3 - 0 0 0/0 ok",		/* cow */
		"normal 0 0 01000 - 0 0 0/0 ok",
		"normal 0 0 /1000 - 0 0 0/0 ok",
		"normal 0 0 5/ - 0 0 0/0 ok",
		"normal 0 0 1001/1000 - 0 0 0/0 ok",		/* used > total */
		"normal 0 0 0/1000 maybe 0 0 0/0 ok",		/* view */
		"normal 0 0 0/1000 - 0 0 0/0 sick",		/* health */
		"normal 0 0 0/1000 - 0 0 5/4 ok",		/* merged > total */
		"normal 0 0 0/1000 - 0 0 0-0 ok",
		"normal 0 0 0/1000 ready 0 0 0/0 ok",		/* view w/o snap */
		"snapshot 1 0 0/1000 - 0 0 0/0 ok",		/* snap w/o view */
		"normal 0 0 0/1000 - 0 0 1/2 ok",		/* progress w/o merge */
		"normal 18446744073709551616 0 0/0 - 0 0 0/0 ok", /* overflow */
		"normal 0 0 0/1000 - 0 0 0/0 ok\x01",
	};
	struct vf_status st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		st.epoch = 4242;
		r = vf_status_parse(bad[i], &st);
		if (r != -EINVAL && r != -ERANGE)
			fprintf(stderr, "accepted bad status '%s' (r=%d)\n",
				bad[i], r);
		CHECK(r == -EINVAL || r == -ERANGE);
		CHECK_EQ(st.epoch, 4242);	/* untouched */
	}
	CHECK_EQ(vf_status_parse(NULL, &st), -EINVAL);
	CHECK_EQ(vf_status_parse("normal 18446744073709551616 0 0/0 - 0 0 0/0 ok",
				 &st), -ERANGE);
}

static void test_names(void)
{
	CHECK_STR(vf_mode_name(VF_MODE_MERGING), "merging");
	CHECK_STR(vf_view_name(VF_VIEW_NONE), "-");
	CHECK_STR(vf_health_name(VF_HEALTH_COW_FULL), "cow_full");
	CHECK_STR(vf_mode_name((enum vf_mode)99), "?");
}

static void test_view_status(void)
{
	struct vf_view_status vs;

	CHECK_EQ(vf_view_status_parse("ready 253:4", &vs), 0);
	CHECK(vs.ready);
	CHECK_EQ(vs.major, 253);
	CHECK_EQ(vs.minor, 4);
	CHECK_EQ(vf_view_status_parse("draining 254:1048575\n", &vs), 0);
	CHECK(!vs.ready);
	CHECK_EQ(vs.minor, 1048575);

	CHECK_EQ(vf_view_status_parse("ready", &vs), -EINVAL);
	CHECK_EQ(vf_view_status_parse("ready 253:4 x", &vs), -EINVAL);
	CHECK_EQ(vf_view_status_parse("done 253:4", &vs), -EINVAL);
	CHECK_EQ(vf_view_status_parse("ready 2534", &vs), -EINVAL);
	CHECK_EQ(vf_view_status_parse("ready 253:", &vs), -EINVAL);
	CHECK_EQ(vf_view_status_parse("ready 4096:0", &vs), -ERANGE);
	CHECK_EQ(vf_view_status_parse("ready 1:1048576", &vs), -ERANGE);
}

static void test_table(void)
{
	struct vf_table t;

	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 8", &t), 0);
	CHECK_STR(t.origin, "/dev/vda");
	CHECK_STR(t.cow, "/dev/vdb");
	CHECK_EQ(t.chunk_sectors, 8);
	CHECK(!t.ignore_discard);
	CHECK_EQ(vf_table_parse("254:0 254:16 2048 0", &t), 0);
	CHECK_EQ(t.chunk_sectors, 2048);
	CHECK_EQ(vf_table_parse("254:0 254:16 1 1 ignore_discard", &t), 0);
	CHECK(t.ignore_discard);

	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 0", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 12", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 4096", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 8 1", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 8 2 ignore_discard", &t),
		 -EINVAL);
	CHECK_EQ(vf_table_parse("/dev/vda /dev/vdb 8 1 bogus", &t), -EINVAL);
	CHECK_EQ(vf_table_parse("a b 8 1 ignore_discard x", &t), -EINVAL);
}

/* Expand for comparison: "s-e,..." */
static void ranges_str(const struct vf_ranges *rs, char *buf, size_t size)
{
	size_t i;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < rs->n && used < size; i++)
		used += snprintf(buf + used, size - used, "%s%llu-%llu",
				 i ? "," : "",
				 (unsigned long long)rs->r[i].start,
				 (unsigned long long)rs->r[i].end);
}

static void test_changed(void)
{
	struct vf_ranges rs;
	char buf[256];
	bool more;

	vf_ranges_init(&rs);
	CHECK_EQ(vf_changed_parse("", &rs, &more), 0);
	CHECK_EQ(rs.n, 0);
	CHECK(!more);
	CHECK_EQ(vf_changed_parse("\n", &rs, &more), 0);
	CHECK_EQ(rs.n, 0);

	CHECK_EQ(vf_changed_parse("0-3,17,20-21", &rs, &more), 0);
	CHECK(!more);
	ranges_str(&rs, buf, sizeof(buf));
	CHECK_STR(buf, "0-3,17-17,20-21");
	CHECK_EQ(vf_ranges_count(&rs), 7);
	vf_ranges_free(&rs);

	/* Two pages; the second continues the first's last range. */
	CHECK_EQ(vf_changed_parse("0-3,17,+", &rs, &more), 0);
	CHECK(more);
	CHECK_EQ(vf_changed_parse("18-19,30\n", &rs, &more), 0);
	CHECK(!more);
	ranges_str(&rs, buf, sizeof(buf));
	CHECK_STR(buf, "0-3,17-19,30-30");
	vf_ranges_free(&rs);

	CHECK_EQ(vf_changed_parse("+", &rs, &more), 0);
	CHECK(more);
	CHECK_EQ(rs.n, 0);

	/* Garbage. */
	CHECK_EQ(vf_changed_parse("0-3,", &rs, &more), -EINVAL);
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse(",1", &rs, &more), -EINVAL);
	CHECK_EQ(vf_changed_parse("3-1", &rs, &more), -EINVAL);
	CHECK_EQ(vf_changed_parse("1-", &rs, &more), -EINVAL);
	CHECK_EQ(vf_changed_parse("-1", &rs, &more), -EINVAL);
	CHECK_EQ(vf_changed_parse("1 2", &rs, &more), -EINVAL);
	CHECK_EQ(vf_changed_parse("a", &rs, &more), -EINVAL);
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse("5,3", &rs, &more), -EINVAL);	/* order */
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse("1-5,5", &rs, &more), -EINVAL); /* overlap */
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse("1,+,2", &rs, &more), -EINVAL);
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse("1,++", &rs, &more), -EINVAL);
	vf_ranges_free(&rs);
	CHECK_EQ(vf_changed_parse("99999999999999999999", &rs, &more), -ERANGE);
	CHECK_EQ(vf_changed_parse(NULL, &rs, &more), -EINVAL);
	vf_ranges_free(&rs);

	/* vf_ranges_add merges adjacency and refuses going backwards. */
	CHECK_EQ(vf_ranges_add(&rs, 10, 12), 0);
	CHECK_EQ(vf_ranges_add(&rs, 13, 13), 0);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(vf_ranges_add(&rs, 9, 20), -EINVAL);
	CHECK_EQ(vf_ranges_add(&rs, 30, 29), -EINVAL);
	CHECK_EQ(vf_ranges_add(&rs, 11, 40), 0);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].end, 40);
	CHECK_EQ(vf_ranges_add(&rs, UINT64_MAX, UINT64_MAX), 0);
	CHECK_EQ(vf_ranges_add(&rs, UINT64_MAX, UINT64_MAX), 0);
	CHECK_EQ(rs.n, 2);
	vf_ranges_free(&rs);
}

int main(void)
{
	test_status_ok();
	test_status_bad();
	test_names();
	test_view_status();
	test_table();
	test_changed();
	return vf_check_done("vf-status-test");
}
