/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_json - a minimal streaming JSON writer for vmfit-ctl --json: one
 * compact document per command, newline-terminated. Members take a key
 * inside objects and NULL inside arrays.
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_JSON_MAX_DEPTH 16

struct ctl_json {
	FILE *f;
	unsigned int depth;
	bool need_comma[CTL_JSON_MAX_DEPTH];
};

void ctl_json_init(struct ctl_json *j, FILE *f);
void ctl_json_obj_begin(struct ctl_json *j, const char *key);
void ctl_json_obj_end(struct ctl_json *j);
void ctl_json_arr_begin(struct ctl_json *j, const char *key);
void ctl_json_arr_end(struct ctl_json *j);
void ctl_json_str(struct ctl_json *j, const char *key, const char *val);
void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t val);
void ctl_json_double(struct ctl_json *j, const char *key, double val);
void ctl_json_bool(struct ctl_json *j, const char *key, bool val);
void ctl_json_null(struct ctl_json *j, const char *key);
/* Ends the document with a newline once the outermost value closed. */
void ctl_json_end(struct ctl_json *j);

#endif /* CTL_JSON_H */
