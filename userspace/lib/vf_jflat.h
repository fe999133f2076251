/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_jflat.h - a strict reader of flat JSON objects (RFC 8259): one
 * object whose values are strings, numbers, true, false or null, nothing
 * nested. That is the shape of vmfitd's status file; its readers (vmfit-ctl
 * manager, vf_status_field) use this instead of scanning for keys, so a
 * truncated or corrupt file is an error, never a wrong value.
 */
#ifndef VF_JFLAT_H
#define VF_JFLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VF_JFLAT_FIELDS		192	/* the status file has ~90 */
#define VF_JFLAT_KEY		48
#define VF_JFLAT_VAL		256

enum vf_jflat_type { VF_JF_STR, VF_JF_NUM, VF_JF_BOOL, VF_JF_NULL };

struct vf_jflat_field {
	enum vf_jflat_type type;
	char key[VF_JFLAT_KEY];
	char val[VF_JFLAT_VAL];	/* strings unescaped; others as written */
};

struct vf_jflat {
	unsigned int n;
	struct vf_jflat_field f[VF_JFLAT_FIELDS];
};

/*
 * Parse the @len bytes at @s into @j: 0, or -EINVAL with the first problem
 * and its byte offset in @err ("ends early at byte 812 (truncated?)",
 * "byte 40: expected ':' after key \"pid\"", ...). Refused besides bad
 * syntax: nested values, duplicate keys, NUL bytes, \u0000 and surrogate
 * escapes, keys or values longer than VF_JFLAT_KEY/VAL - 1, more than
 * VF_JFLAT_FIELDS members, anything but white space after the object.
 */
int vf_jflat_parse(struct vf_jflat *j, const char *s, size_t len, char *err,
		   size_t errlen);

/* The member @key, or NULL. */
const struct vf_jflat_field *vf_jflat_get(const struct vf_jflat *j,
					  const char *key);
/* The string member @key, or NULL (absent or not a string). */
const char *vf_jflat_str(const struct vf_jflat *j, const char *key);
/* The number member @key as an integer: false unless it is one in range. */
bool vf_jflat_i64(const struct vf_jflat *j, const char *key, int64_t *v);
bool vf_jflat_u64(const struct vf_jflat *j, const char *key, uint64_t *v);

#endif /* VF_JFLAT_H */
