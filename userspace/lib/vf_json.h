/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_json.h - JSON string escaping (RFC 8259) shared by the tools that
 * write JSON: vmfit-ctl --json, freeze-bench, vmfit-bench.
 */
#ifndef VF_JSON_H
#define VF_JSON_H

#include <stdio.h>

/*
 * Write @s to @f as a quoted JSON string: double quote and backslash
 * escaped with a backslash, newline, tab and carriage return by name, other
 * control characters and DEL as \u00XX, all other bytes (UTF-8 included)
 * as they are. A NULL @s is written as null.
 */
void vf_json_string(FILE *f, const char *s);

#endif /* VF_JSON_H */
