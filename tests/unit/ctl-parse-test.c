// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of vmfit-ctl's pure helpers: sizes, chunk sizes, device names,
 * plain numbers and the JSON writer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ctl_json.h"
#include "ctl_parse.h"
#include "vf_check.h"

static void test_size(void)
{
	const char *why = NULL;
	uint64_t b;

	CHECK_EQ(ctl_parse_size("0", &b, &why), 0);
	CHECK_EQ(b, 0);
	CHECK_EQ(ctl_parse_size("4096", &b, &why), 0);
	CHECK_EQ(b, 4096);
	CHECK_EQ(ctl_parse_size("4k", &b, &why), 0);
	CHECK_EQ(b, 4096);
	CHECK_EQ(ctl_parse_size("4K", &b, &why), 0);
	CHECK_EQ(b, 4096);
	CHECK_EQ(ctl_parse_size("1m", &b, &why), 0);
	CHECK_EQ(b, 1 << 20);
	CHECK_EQ(ctl_parse_size("2G", &b, &why), 0);
	CHECK(b == 2ULL << 30);
	CHECK_EQ(ctl_parse_size("18446744073709551615", &b, &why), 0);
	CHECK(b == UINT64_MAX);

	CHECK_EQ(ctl_parse_size("", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("-4k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("+4k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size(" 4k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("4 k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("4kb", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("4t", &b, &why), -EINVAL);
	CHECK_STR(why, "unknown suffix (use bytes or k, m, g)");
	CHECK_EQ(ctl_parse_size("0x10", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("1.5k", &b, &why), -EINVAL);
	CHECK_EQ(ctl_parse_size("18446744073709551616", &b, &why), -ERANGE);
	CHECK_EQ(ctl_parse_size("17179869184g", &b, &why), -ERANGE);
}

static void test_chunk(void)
{
	const char *why = NULL;
	unsigned int s = 99;

	CHECK_EQ(ctl_parse_chunk_size("4k", &s, &why), 0);
	CHECK_EQ(s, 8);
	CHECK_EQ(ctl_parse_chunk_size("512", &s, &why), 0);
	CHECK_EQ(s, 1);
	CHECK_EQ(ctl_parse_chunk_size("1m", &s, &why), 0);
	CHECK_EQ(s, 2048);
	CHECK_EQ(ctl_parse_chunk_size("64K", &s, &why), 0);
	CHECK_EQ(s, 128);

	s = 99;
	CHECK_EQ(ctl_parse_chunk_size("256", &s, &why), -ERANGE);
	CHECK_STR(why, "must be between 512 and 1m");
	CHECK_EQ(ctl_parse_chunk_size("2m", &s, &why), -ERANGE);
	CHECK_EQ(ctl_parse_chunk_size("0", &s, &why), -ERANGE);
	CHECK_EQ(ctl_parse_chunk_size("3k", &s, &why), -EINVAL);
	CHECK_STR(why, "must be a power of two");
	CHECK_EQ(ctl_parse_chunk_size("1000", &s, &why), -EINVAL);
	CHECK_EQ(ctl_parse_chunk_size("4x", &s, &why), -EINVAL);
	CHECK_EQ(s, 99);	/* untouched on error */
}

static void test_name(void)
{
	const char *why = NULL;
	char longname[200];

	CHECK_EQ(ctl_check_name("vol0", &why), 0);
	CHECK_EQ(ctl_check_name("a.b_c+d-e", &why), 0);
	CHECK_EQ(ctl_check_name("X", &why), 0);

	CHECK_EQ(ctl_check_name("", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("-vol", &why), -EINVAL);
	CHECK_EQ(ctl_check_name(".", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("..", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("a/b", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("a b", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("a\nb", &why), -EINVAL);
	CHECK_EQ(ctl_check_name("caf\xc3\xa9", &why), -EINVAL);
	memset(longname, 'a', 127);
	longname[127] = '\0';
	CHECK_EQ(ctl_check_name(longname, &why), 0);
	longname[127] = 'a';
	longname[128] = '\0';
	CHECK_EQ(ctl_check_name(longname, &why), -ENAMETOOLONG);
}

static void test_uint(void)
{
	const char *why = NULL;
	uint64_t v;

	CHECK_EQ(ctl_parse_uint("0", 10, &v, &why), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(ctl_parse_uint("10", 10, &v, &why), 0);
	CHECK_EQ(ctl_parse_uint("11", 10, &v, &why), -ERANGE);
	CHECK_EQ(ctl_parse_uint("1s", 10, &v, &why), -EINVAL);
	CHECK_EQ(ctl_parse_uint("", 10, &v, &why), -EINVAL);
	CHECK_EQ(ctl_parse_uint("-1", 10, &v, &why), -EINVAL);
}

static void test_json(void)
{
	struct ctl_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_json_init(&j, f);
	ctl_json_obj_begin(&j, NULL);
	ctl_json_str(&j, "name", "a\"b\\c\n\x01");
	ctl_json_u64(&j, "n", UINT64_MAX);
	ctl_json_bool(&j, "t", true);
	ctl_json_null(&j, "z");
	ctl_json_str(&j, "s", NULL);
	ctl_json_double(&j, "pct", 12.5);
	ctl_json_double(&j, "nan", 0.0 / 0.0);
	ctl_json_arr_begin(&j, "ranges");
	ctl_json_arr_begin(&j, NULL);
	ctl_json_u64(&j, NULL, 0);
	ctl_json_u64(&j, NULL, 3);
	ctl_json_arr_end(&j);
	ctl_json_arr_begin(&j, NULL);
	ctl_json_u64(&j, NULL, 17);
	ctl_json_u64(&j, NULL, 17);
	ctl_json_arr_end(&j);
	ctl_json_arr_end(&j);
	ctl_json_arr_begin(&j, "empty");
	ctl_json_arr_end(&j);
	ctl_json_obj_begin(&j, "o");
	ctl_json_obj_end(&j);
	ctl_json_obj_end(&j);
	ctl_json_end(&j);
	fclose(f);
	CHECK_STR(buf, "{\"name\":\"a\\\"b\\\\c\\n\\u0001\","
		       "\"n\":18446744073709551615,\"t\":true,\"z\":null,"
		       "\"s\":null,\"pct\":12.5,\"nan\":null,"
		       "\"ranges\":[[0,3],[17,17]],\"empty\":[],\"o\":{}}\n");
	free(buf);
}

int main(void)
{
	test_size();
	test_chunk();
	test_name();
	test_uint();
	test_json();
	return vf_check_done("ctl-parse-test");
}
