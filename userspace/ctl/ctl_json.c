// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_json - minimal JSON writer (strings escaped by vf_json_string()).
 */
#include <math.h>

#include "ctl_json.h"
#include "vf_json.h"

void ctl_json_init(struct ctl_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
}

/* Separator and key before any value. */
static void member(struct ctl_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (key) {
		vf_json_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_(struct ctl_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < CTL_JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct ctl_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth)
		j->depth--;
}

void ctl_json_obj_begin(struct ctl_json *j, const char *key)
{
	open_(j, key, '{');
}

void ctl_json_obj_end(struct ctl_json *j)
{
	close_(j, '}');
}

void ctl_json_arr_begin(struct ctl_json *j, const char *key)
{
	open_(j, key, '[');
}

void ctl_json_arr_end(struct ctl_json *j)
{
	close_(j, ']');
}

void ctl_json_str(struct ctl_json *j, const char *key, const char *val)
{
	member(j, key);
	vf_json_string(j->f, val);
}

void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t val)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void ctl_json_double(struct ctl_json *j, const char *key, double val)
{
	member(j, key);
	/* JSON has no NaN or infinity. */
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void ctl_json_bool(struct ctl_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->f);
}

void ctl_json_null(struct ctl_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void ctl_json_end(struct ctl_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
