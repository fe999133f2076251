// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay - crash states of a data device from its dm-log-writes log; see
 * replay.h for the model.
 */
#include "replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmtest/vmtest-block.h"

uint64_t rp_rand(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return vmtest_mix(*state);
}

struct rp_ctx {
	const struct rp_opts *o;
	rp_emit_fn emit;
	void *emit_ctx;
	struct rp_result *res;
	uint64_t rng;
	uint8_t *durable;
	struct rp_write *pend;
	uint8_t *applied;
	size_t npend, cap;
	char mark[LW_MARK_MAX];
	char *err;
	size_t errlen;
};

static int rp_fail(struct rp_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void apply(uint8_t *img, const struct rp_write *w)
{
	if (w->data)
		memcpy(img + w->off, w->data, w->len);
	else
		memset(img + w->off, 0, w->len);
}

/*
 * The pending writes in the order they reached the disk: every plain
 * write before every FUA write (see replay.h), each kind in log order.
 */
static void apply_pending(uint8_t *img, const struct rp_write *pend,
			  const uint8_t *applied, size_t n)
{
	int fua;
	size_t i;

	for (fua = 0; fua <= 1; fua++)
		for (i = 0; i < n; i++)
			if (pend[i].fua == fua && (!applied || applied[i]))
				apply(img, &pend[i]);
}

void rp_state_compose(const struct rp_state *st, uint8_t *img)
{
	memcpy(img, st->durable, st->size);
	apply_pending(img, st->pending, st->applied, st->npending);
}

/* A flush completed: every pending write is now on the medium. */
static void settle(struct rp_ctx *c)
{
	size_t i;

	apply_pending(c->durable, c->pend, NULL, c->npend);
	for (i = 0; i < c->npend; i++)
		free(c->pend[i].data);
	c->npend = 0;
}

static int emit_state(struct rp_ctx *c, uint64_t entry, enum rp_kind kind)
{
	struct rp_state st;
	size_t i, n = 0;
	int rc;

	/* Draw the subset even when the state is skipped (opts.only). */
	for (i = 0; i < c->npend; i++) {
		if (kind == RP_MARK || c->pend[i].fua)
			c->applied[i] = 1;
		else
			c->applied[i] = rp_rand(&c->rng) & 1;
		n += c->applied[i];
	}
	c->res->states++;
	if (c->o->only && c->o->only != c->res->states)
		return 0;
	memset(&st, 0, sizeof(st));
	st.number = c->res->states;
	st.entry = entry;
	st.kind = kind;
	st.mark = c->mark;
	st.durable = c->durable;
	st.size = c->o->size;
	st.pending = c->pend;
	st.applied = c->applied;
	st.npending = c->npend;
	st.napplied = n;
	rc = c->emit(c->emit_ctx, &st);
	if (rc < 0)
		return rp_fail(c, "state %" PRIu64 ": stopped", st.number);
	if (rc > 0)
		c->res->failed++;
	return 0;
}

static int add_pending(struct rp_ctx *c, const struct lw_log *lw,
		       const struct lw_entry *e)
{
	struct rp_write *w;
	uint64_t off = e->sector * lw->sectorsize, len = lw_entry_bytes(lw, e);

	if (off > c->o->size || len > c->o->size - off)
		return rp_fail(c, "entry %" PRIu64 " writes bytes %" PRIu64
			       "-%" PRIu64 ", beyond the data device (%" PRIu64
			       " bytes): wrong --size?", e->index, off,
			       off + len, c->o->size);
	if (c->npend == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct rp_write *p = realloc(c->pend, cap * sizeof(*p));
		uint8_t *a;

		if (!p)
			return rp_fail(c, "out of memory");
		c->pend = p;
		a = realloc(c->applied, cap);
		if (!a)
			return rp_fail(c, "out of memory");
		c->applied = a;
		c->cap = cap;
	}
	w = &c->pend[c->npend];
	memset(w, 0, sizeof(*w));
	w->entry = e->index;
	w->off = off;
	w->len = len;
	w->fua = !!(e->flags & LW_FUA);
	if (e->data) {
		w->data = malloc(len);
		if (!w->data)
			return rp_fail(c, "out of memory");
		memcpy(w->data, e->data, len);
	}
	c->npend++;
	return 0;
}

static int our_mark(const struct rp_opts *o, const struct lw_entry *e)
{
	return (e->flags & LW_MARK) &&
	       (!o->mark_prefix ||
		!strncmp(e->mark, o->mark_prefix, strlen(o->mark_prefix)));
}

/* Pass 1: entry count and where the marks are. */
static int scan(const char *path, const struct rp_opts *o, uint64_t **marks,
		uint64_t *nmarks, uint64_t *nentries, char *err, size_t errlen)
{
	struct lw_log lw;
	struct lw_entry e;
	uint64_t cap = 0, *m = NULL, *p;
	int rc;

	*nmarks = 0;
	if (lw_open(&lw, path)) {
		snprintf(err, errlen, "%s", lw.err);
		lw_close(&lw);
		return -1;
	}
	lw.headers_only = 1;
	while ((rc = lw_next(&lw, &e)) > 0) {
		if (!our_mark(o, &e))
			continue;
		if (*nmarks == cap) {
			cap = cap ? 2 * cap : 64;
			p = realloc(m, cap * sizeof(*m));
			if (!p) {
				rc = -1;
				snprintf(lw.err, sizeof(lw.err), "out of memory");
				break;
			}
			m = p;
		}
		m[(*nmarks)++] = e.index;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", lw.err);
		free(m);
		lw_close(&lw);
		return -1;
	}
	*nentries = lw.nr_entries;
	*marks = m;
	lw_close(&lw);
	return 0;
}

int rp_replay(const char *path, const struct rp_opts *o, rp_emit_fn emit,
	      void *ctx, struct rp_result *res, char *err, size_t errlen)
{
	struct rp_ctx c;
	struct lw_log lw;
	struct lw_entry e;
	uint64_t *marks = NULL, nmarks, nentries, *pts = NULL, npts = 0;
	uint8_t *mark_sel = NULL;
	uint64_t i, k, mark_no = 0;
	int rc = -1, more;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	memset(&lw, 0, sizeof(lw));
	c.o = o;
	c.emit = emit;
	c.emit_ctx = ctx;
	c.res = res;
	c.rng = o->seed;
	c.err = err;
	c.errlen = errlen;
	if (scan(path, o, &marks, &nmarks, &nentries, err, errlen))
		return -1;
	res->marks = nmarks;
	res->entries = nentries;
	if (!o->size) {
		rp_fail(&c, "the data device size is zero");
		goto out;
	}
	c.durable = calloc(1, o->size);
	mark_sel = calloc(1, nmarks + 1);
	if (!c.durable || !mark_sel) {
		rp_fail(&c, "out of memory for a %" PRIu64 "-byte image", o->size);
		goto out;
	}
	/* Which marks: all, or o->marks of them drawn without replacement. */
	if (!o->marks || o->marks >= nmarks) {
		memset(mark_sel, 1, nmarks);
	} else {
		for (k = 0; k < o->marks;) {
			i = rp_rand(&c.rng) % nmarks;
			if (!mark_sel[i]) {
				mark_sel[i] = 1;
				k++;
			}
		}
	}
	/* Random points after the first mark: before the mark nothing is
	 * promised, so there is nothing to check.
	 */
	if (o->random && nmarks) {
		pts = calloc(o->random, sizeof(*pts));
		if (!pts) {
			rp_fail(&c, "out of memory");
			goto out;
		}
		for (k = 0; k < o->random; k++)
			pts[k] = marks[0] + 1 +
				 rp_rand(&c.rng) % (nentries - marks[0]);
		npts = o->random;
		qsort(pts, npts, sizeof(*pts), cmp_u64);
	}
	if (lw_open(&lw, path)) {
		rp_fail(&c, "%s", lw.err);
		goto out;
	}
	k = 0;
	for (;;) {
		more = lw_next(&lw, &e);
		if (more < 0) {
			rp_fail(&c, "%s", lw.err);
			goto out;
		}
		i = more ? e.index : nentries;
		while (k < npts && pts[k] == i)
			if (k++, emit_state(&c, i, RP_RANDOM))
				goto out;
		if (!more)
			break;
		if (e.flags & LW_MARK) {
			if (!our_mark(o, &e))
				continue;
			snprintf(c.mark, sizeof(c.mark), "%s", e.mark);
			if (mark_sel[mark_no++] && emit_state(&c, i, RP_MARK))
				goto out;
			continue;
		}
		if (e.flags & LW_FLUSH)
			settle(&c);
		if (!e.nr_sectors)
			continue;
		if (add_pending(&c, &lw, &e))
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < c.npend; i++)
		free(c.pend[i].data);
	free(c.pend);
	free(c.applied);
	free(c.durable);
	free(mark_sel);
	free(marks);
	free(pts);
	lw_close(&lw);
	return rc;
}
