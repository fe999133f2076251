// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_status - parsers for the dm-vmfit status line and `changed` replies.
 * See vf_status.h and Documentation/admin-guide/device-mapper/dm-vmfit.rst.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uapi/linux/dm-vmfit.h"
#include "vf_status.h"

/*----------------------------------------------------------------*/

/* Strict unsigned decimal over [s, s + len): digits only, no sign. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = s[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "<a><sep><b>" with both parts strict decimals. */
static int parse_pair(const char *s, size_t len, char sep,
		      uint64_t *a, uint64_t *b)
{
	const char *p = memchr(s, sep, len);
	int r;

	if (!p)
		return -EINVAL;
	r = parse_u64(s, p - s, a);
	if (r)
		return r;
	return parse_u64(p + 1, len - (p - s) - 1, b);
}

struct token {
	const char *s;
	size_t len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Split @line on blanks into exactly @want tokens; -EINVAL for any other
 * count (the line must neither lose nor gain fields silently).
 */
static int tokenize(const char *line, struct token *tok, unsigned int want)
{
	unsigned int n = 0;
	const char *p = line;

	if (!line)
		return -EINVAL;
	for (;;) {
		const char *start;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && !is_blank(*p))
			p++;
		if (n == want)
			return -EINVAL;
		tok[n].s = start;
		tok[n].len = p - start;
		n++;
	}
	return n == want ? 0 : -EINVAL;
}

static bool tok_is(const struct token *t, const char *word)
{
	size_t l = strlen(word);

	return t->len == l && !strncasecmp(t->s, word, l);
}

/*----------------------------------------------------------------*/

static const char *const mode_names[] = {
	[VF_MODE_NORMAL] = "normal",
	[VF_MODE_SNAPSHOT] = "snapshot",
	[VF_MODE_MERGING] = "merging",
};

static const char *const view_names[] = {
	[VF_VIEW_NONE] = "-",
	[VF_VIEW_DRAINING] = "draining",
	[VF_VIEW_READY] = "ready",
};

static const char *const health_names[] = {
	[VF_HEALTH_OK] = "ok",
	[VF_HEALTH_COW_FULL] = "cow_full",
	[VF_HEALTH_FAIL] = "fail",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const struct token *t, const char *const *names,
		  size_t n, int *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tok_is(t, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *vf_mode_name(enum vf_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

const char *vf_view_name(enum vf_view v)
{
	return (unsigned int)v < ARRAY_SIZE(view_names) ? view_names[v] : "?";
}

const char *vf_health_name(enum vf_health h)
{
	return (unsigned int)h < ARRAY_SIZE(health_names) ?
	       health_names[h] : "?";
}

/*----------------------------------------------------------------*/

int vf_status_parse(const char *line, struct vf_status *st)
{
	struct token t[VF_STATUS_FIELDS];
	struct vf_status s;
	int v;
	int r;

	r = tokenize(line, t, VF_STATUS_FIELDS);
	if (r)
		return r;

	memset(&s, 0, sizeof(s));
	r = lookup(&t[0], mode_names, ARRAY_SIZE(mode_names), &v);
	if (r)
		return r;
	s.mode = v;
	r = parse_u64(t[1].s, t[1].len, &s.epoch);
	if (r)
		return r;
	r = parse_u64(t[2].s, t[2].len, &s.changed);
	if (r)
		return r;
	r = parse_pair(t[3].s, t[3].len, '/', &s.cow_used, &s.cow_total);
	if (r)
		return r;
	if (s.cow_used > s.cow_total)
		return -EINVAL;
	r = lookup(&t[4], view_names, ARRAY_SIZE(view_names), &v);
	if (r)
		return r;
	s.view = v;
	r = parse_u64(t[5].s, t[5].len, &s.held_ns);
	if (r)
		return r;
	r = parse_u64(t[6].s, t[6].len, &s.drain_ns);
	if (r)
		return r;
	r = parse_pair(t[7].s, t[7].len, '/', &s.merged, &s.to_merge);
	if (r)
		return r;
	if (s.merged > s.to_merge)
		return -EINVAL;
	r = lookup(&t[8], health_names, ARRAY_SIZE(health_names), &v);
	if (r)
		return r;
	s.health = v;

	/* Cross-field rules the target guarantees. */
	if (s.mode == VF_MODE_NORMAL && s.view != VF_VIEW_NONE)
		return -EINVAL;
	if (s.mode == VF_MODE_SNAPSHOT && s.view == VF_VIEW_NONE)
		return -EINVAL;
	if (s.mode != VF_MODE_MERGING && (s.merged || s.to_merge))
		return -EINVAL;

	*st = s;
	return 0;
}

int vf_view_status_parse(const char *line, struct vf_view_status *vs)
{
	struct token t[VF_VIEW_STATUS_FIELDS];
	uint64_t maj;
	uint64_t min;
	bool ready;
	int r;

	r = tokenize(line, t, VF_VIEW_STATUS_FIELDS);
	if (r)
		return r;
	if (tok_is(&t[0], "ready"))
		ready = true;
	else if (tok_is(&t[0], "draining"))
		ready = false;
	else
		return -EINVAL;
	r = parse_pair(t[1].s, t[1].len, ':', &maj, &min);
	if (r)
		return r;
	/* Linux dev_t: 12-bit major, 20-bit minor. */
	if (maj > 0xfff || min > 0xfffff)
		return -ERANGE;
	vs->ready = ready;
	vs->major = (unsigned int)maj;
	vs->minor = (unsigned int)min;
	return 0;
}

/* At most: origin cow chunk #features plus one feature arg. */
#define VF_TABLE_MAX_FIELDS 5

static int copy_tok(const struct token *t, char *dst, size_t size)
{
	if (t->len >= size)
		return -ENAMETOOLONG;
	memcpy(dst, t->s, t->len);
	dst[t->len] = '\0';
	return 0;
}

int vf_table_parse(const char *line, struct vf_table *t)
{
	struct token tok[VF_TABLE_MAX_FIELDS];
	struct vf_table v;
	uint64_t chunk;
	uint64_t nfeat = 0;
	unsigned int n;
	unsigned int i;
	int r = -EINVAL;

	/* The count is not known up front: try each legal one. */
	for (n = 3; n <= VF_TABLE_MAX_FIELDS; n++) {
		r = tokenize(line, tok, n);
		if (!r)
			break;
	}
	if (r)
		return r;

	memset(&v, 0, sizeof(v));
	r = copy_tok(&tok[0], v.origin, sizeof(v.origin));
	if (r)
		return r;
	r = copy_tok(&tok[1], v.cow, sizeof(v.cow));
	if (r)
		return r;
	r = parse_u64(tok[2].s, tok[2].len, &chunk);
	if (r)
		return r;
	if (!chunk || chunk > VMFIT_CHUNK_SECTORS_MAX || (chunk & (chunk - 1)))
		return -EINVAL;
	v.chunk_sectors = (unsigned int)chunk;
	if (n > 3) {
		r = parse_u64(tok[3].s, tok[3].len, &nfeat);
		if (r)
			return r;
	}
	if (nfeat != (n > 3 ? n - 4 : 0))
		return -EINVAL;
	for (i = 4; i < n; i++) {
		if (tok_is(&tok[i], "ignore_discard"))
			v.ignore_discard = true;
		else
			return -EINVAL;
	}
	*t = v;
	return 0;
}

/*----------------------------------------------------------------*/

void vf_ranges_init(struct vf_ranges *rs)
{
	rs->r = NULL;
	rs->n = 0;
	rs->cap = 0;
}

void vf_ranges_free(struct vf_ranges *rs)
{
	free(rs->r);
	vf_ranges_init(rs);
}

int vf_ranges_add(struct vf_ranges *rs, uint64_t start, uint64_t end)
{
	struct vf_range *last;

	if (start > end)
		return -EINVAL;
	if (rs->n) {
		last = &rs->r[rs->n - 1];
		if (start < last->start)
			return -EINVAL;
		/* Overlapping or adjacent: extend the last range. */
		if (last->end == UINT64_MAX || start <= last->end + 1) {
			if (end > last->end)
				last->end = end;
			return 0;
		}
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct vf_range *nr;

		nr = reallocarray(rs->r, cap, sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n].start = start;
	rs->r[rs->n].end = end;
	rs->n++;
	return 0;
}

uint64_t vf_ranges_count(const struct vf_ranges *rs)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < rs->n; i++)
		total += rs->r[i].end - rs->r[i].start + 1;
	return total;
}

int vf_changed_parse(const char *page, struct vf_ranges *rs, bool *more)
{
	const char *p = page;
	size_t len;
	bool first = true;
	uint64_t prev_end = 0;

	if (!page)
		return -EINVAL;
	*more = false;
	len = strlen(page);
	/* Tolerate one trailing newline (dmsetup message prints one). */
	if (len && page[len - 1] == '\n')
		len--;
	if (!len)
		return 0;

	while (p < page + len) {
		const char *end = memchr(p, ',', page + len - p);
		uint64_t a;
		uint64_t b;
		size_t tl;
		int r;

		if (!end)
			end = page + len;
		tl = end - p;
		if (tl == 1 && *p == '+') {
			/* The truncation marker ends the page. */
			if (end != page + len)
				return -EINVAL;
			*more = true;
			return 0;
		}
		if (memchr(p, '-', tl))
			r = parse_pair(p, tl, '-', &a, &b);
		else
			r = parse_u64(p, tl, &a), b = a;
		if (r)
			return r;
		if (a > b)
			return -EINVAL;
		/* Within a page ranges are ascending and disjoint. */
		if (!first && a <= prev_end)
			return -EINVAL;
		r = vf_ranges_add(rs, a, b);
		if (r)
			return r;
		first = false;
		prev_end = b;
		p = end;
		if (p < page + len) {
			p++;	/* skip ',' */
			if (p == page + len)
				return -EINVAL;	/* trailing comma */
		}
	}
	return 0;
}
