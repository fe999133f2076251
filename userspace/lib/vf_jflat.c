// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_jflat - strict reader of flat JSON objects. See vf_jflat.h. A
 * recursive-descent parser over a cursor; every error names the byte
 * offset, and running out of input is reported as such (truncation is the
 * likely corruption of a status file read while something went wrong).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vf_jflat.h"

struct cur {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

static int bad(struct cur *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct cur *c, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->pos >= c->len)
		snprintf(c->err, c->errlen,
			 "ends early at byte %zu (truncated?): %s", c->len,
			 what);
	else
		snprintf(c->err, c->errlen, "byte %zu: %s", c->pos, what);
	return -EINVAL;
}

static int peek(const struct cur *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static void skip_ws(struct cur *c)
{
	int ch;

	while ((ch = peek(c)) == ' ' || ch == '\t' || ch == '\n' ||
	       ch == '\r')
		c->pos++;
}

static int hex4(struct cur *c, unsigned int *u)
{
	unsigned int i;
	int ch;

	*u = 0;
	for (i = 0; i < 4; i++) {
		ch = peek(c);
		if (ch >= '0' && ch <= '9')
			*u = *u * 16 + (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*u = *u * 16 + (unsigned int)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			*u = *u * 16 + (unsigned int)(ch - 'A' + 10);
		else
			return bad(c, "expected 4 hex digits after \\u");
		c->pos++;
	}
	return 0;
}

/* A string at the cursor (on its '"'), unescaped into @out. */
static int string(struct cur *c, char *out, size_t size, const char *what)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	unsigned int u;
	size_t n = 0;
	char enc[4];
	int ch, k;

	if (peek(c) != '"')
		return bad(c, "expected a string (%s)", what);
	c->pos++;
	for (;;) {
		ch = peek(c);
		if (ch < 0)
			return bad(c, "unterminated string (%s)", what);
		if (ch == '"') {
			c->pos++;
			break;
		}
		if (ch < 0x20)
			return bad(c, "control byte 0x%02x in a string (%s)",
				   ch, what);
		c->pos++;
		k = 1;
		enc[0] = (char)ch;
		if (ch == '\\') {
			ch = peek(c);
			if (ch > 0 && strchr(esc_in, ch)) {
				enc[0] = esc_out[strchr(esc_in, ch) - esc_in];
				c->pos++;
			} else if (ch == 'u') {
				c->pos++;
				if (hex4(c, &u))
					return -EINVAL;
				if (!u || (u >= 0xd800 && u <= 0xdfff))
					return bad(c, "\\u%04x not accepted (%s)",
						   u, what);
				if (u < 0x80) {
					enc[0] = (char)u;
				} else if (u < 0x800) {
					enc[0] = (char)(0xc0 | u >> 6);
					enc[1] = (char)(0x80 | (u & 0x3f));
					k = 2;
				} else {
					enc[0] = (char)(0xe0 | u >> 12);
					enc[1] = (char)(0x80 | (u >> 6 & 0x3f));
					enc[2] = (char)(0x80 | (u & 0x3f));
					k = 3;
				}
			} else {
				return bad(c, "bad escape in a string (%s)",
					   what);
			}
		}
		if (n + (size_t)k >= size)
			return bad(c, "%s longer than %zu bytes", what,
				   size - 1);
		memcpy(out + n, enc, (size_t)k);
		n += (size_t)k;
	}
	out[n] = '\0';
	return 0;
}

static size_t digits(struct cur *c)
{
	size_t n = 0;

	while (peek(c) >= '0' && peek(c) <= '9') {
		c->pos++;
		n++;
	}
	return n;
}

/* A number, true, false or null: checked, then copied as written. */
static int scalar(struct cur *c, struct vf_jflat_field *f)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t start = c->pos, i, n;
	int ch = peek(c);

	for (i = 0; i < 3; i++) {
		n = strlen(lit[i]);
		if (c->len - c->pos >= n && !memcmp(c->s + c->pos, lit[i], n)) {
			c->pos += n;
			f->type = i < 2 ? VF_JF_BOOL : VF_JF_NULL;
			goto copy;
		}
	}
	if (ch == '{' || ch == '[')
		return bad(c, "nested value for \"%s\" not accepted", f->key);
	f->type = VF_JF_NUM;
	if (peek(c) == '-')
		c->pos++;
	if (peek(c) == '0')
		c->pos++;
	else if (!digits(c))
		return bad(c, "expected a value for \"%s\"", f->key);
	if (peek(c) == '.') {
		c->pos++;
		if (!digits(c))
			return bad(c, "expected digits after '.' (\"%s\")",
				   f->key);
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->pos++;
		if (peek(c) == '+' || peek(c) == '-')
			c->pos++;
		if (!digits(c))
			return bad(c, "expected an exponent (\"%s\")", f->key);
	}
copy:
	n = c->pos - start;
	if (n >= sizeof(f->val))
		return bad(c, "value of \"%s\" too long", f->key);
	memcpy(f->val, c->s + start, n);
	f->val[n] = '\0';
	return 0;
}

int vf_jflat_parse(struct vf_jflat *j, const char *s, size_t len, char *err,
		   size_t errlen)
{
	struct cur c = { s, len, 0, err, errlen };
	struct vf_jflat_field *f;

	j->n = 0;
	if (memchr(s, '\0', len)) {
		c.pos = (size_t)((const char *)memchr(s, '\0', len) - s);
		return bad(&c, "NUL byte");
	}
	skip_ws(&c);
	if (peek(&c) != '{')
		return bad(&c, "expected '{'");
	c.pos++;
	skip_ws(&c);
	if (peek(&c) == '}') {
		c.pos++;
		goto end;
	}
	for (;;) {
		skip_ws(&c);
		if (j->n == VF_JFLAT_FIELDS)
			return bad(&c, "more than %d members", VF_JFLAT_FIELDS);
		f = &j->f[j->n];
		if (string(&c, f->key, sizeof(f->key), "key"))
			return -EINVAL;
		if (vf_jflat_get(j, f->key))
			return bad(&c, "duplicate key \"%s\"", f->key);
		skip_ws(&c);
		if (peek(&c) != ':')
			return bad(&c, "expected ':' after \"%s\"", f->key);
		c.pos++;
		skip_ws(&c);
		if (peek(&c) == '"') {
			f->type = VF_JF_STR;
			if (string(&c, f->val, sizeof(f->val), f->key))
				return -EINVAL;
		} else if (scalar(&c, f)) {
			return -EINVAL;
		}
		j->n++;
		skip_ws(&c);
		if (peek(&c) == '}') {
			c.pos++;
			break;
		}
		if (peek(&c) != ',')
			return bad(&c, "expected ',' or '}' after \"%s\"",
				   f->key);
		c.pos++;
	}
end:
	skip_ws(&c);
	if (c.pos != c.len)
		return bad(&c, "data after the object");
	return 0;
}

const struct vf_jflat_field *vf_jflat_get(const struct vf_jflat *j,
					  const char *key)
{
	unsigned int i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->f[i].key, key))
			return &j->f[i];
	return NULL;
}

const char *vf_jflat_str(const struct vf_jflat *j, const char *key)
{
	const struct vf_jflat_field *f = vf_jflat_get(j, key);

	return f && f->type == VF_JF_STR ? f->val : NULL;
}

bool vf_jflat_i64(const struct vf_jflat *j, const char *key, int64_t *v)
{
	const struct vf_jflat_field *f = vf_jflat_get(j, key);
	char *end;

	if (!f || f->type != VF_JF_NUM)
		return false;
	errno = 0;
	*v = strtoll(f->val, &end, 10);
	return !errno && !*end;
}

bool vf_jflat_u64(const struct vf_jflat *j, const char *key, uint64_t *v)
{
	const struct vf_jflat_field *f = vf_jflat_get(j, key);
	char *end;

	if (!f || f->type != VF_JF_NUM || f->val[0] == '-')
		return false;
	errno = 0;
	*v = strtoull(f->val, &end, 10);
	return !errno && !*end;
}
