// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_parse - argument parsers for vmfit-ctl, unit-tested on the host.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_parse.h"
#include "vf_dm.h"	/* VF_DM_NAME_MAX */

static int parse_digits(const char **p, uint64_t *out, const char **why)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9') {
		*why = "expected a decimal number";
		return -EINVAL;
	}
	while (*s >= '0' && *s <= '9') {
		unsigned int d = *s - '0';

		if (v > (UINT64_MAX - d) / 10) {
			*why = "number too large";
			return -ERANGE;
		}
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int ctl_parse_uint(const char *s, uint64_t max, uint64_t *out,
		   const char **why)
{
	uint64_t v;
	int r;

	r = parse_digits(&s, &v, why);
	if (r)
		return r;
	if (*s) {
		*why = "trailing characters after the number";
		return -EINVAL;
	}
	if (v > max) {
		*why = "number too large";
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int ctl_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	unsigned int shift = 0;
	uint64_t v;
	int r;

	r = parse_digits(&s, &v, why);
	if (r)
		return r;
	switch (*s) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		s++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		s++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		s++;
		break;
	default:
		*why = "unknown suffix (use bytes or k, m, g)";
		return -EINVAL;
	}
	if (*s) {
		*why = "trailing characters after the size";
		return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift)) {
		*why = "size too large";
		return -ERANGE;
	}
	*bytes = v << shift;
	return 0;
}

int ctl_parse_chunk_size(const char *s, unsigned int *sectors,
			 const char **why)
{
	uint64_t b;
	int r;

	r = ctl_parse_size(s, &b, why);
	if (r)
		return r;
	if (b < CTL_CHUNK_MIN || b > CTL_CHUNK_MAX) {
		*why = "must be between 512 and 1m";
		return -ERANGE;
	}
	if (b & (b - 1)) {
		*why = "must be a power of two";
		return -EINVAL;
	}
	*sectors = (unsigned int)(b >> 9);
	return 0;
}

int ctl_check_name(const char *s, const char **why)
{
	size_t len = strlen(s);
	size_t i;

	if (!len) {
		*why = "empty name";
		return -EINVAL;
	}
	if (len > VF_DM_NAME_MAX) {
		*why = "longer than 127 characters";
		return -ENAMETOOLONG;
	}
	if (s[0] == '-') {
		*why = "must not start with '-'";
		return -EINVAL;
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		*why = "reserved name";
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '+' || c == '-')
			continue;
		*why = "only letters, digits and . _ + - are allowed";
		return -EINVAL;
	}
	return 0;
}

void fmt_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (uint64_t)v)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}
