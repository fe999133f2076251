// SPDX-License-Identifier: GPL-2.0-only
/*
 * oracle - what a crash state of a vmfit device must show; see oracle.h.
 */
#include "oracle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OR_MAX_BLOCKS (1ULL << 24)

struct or_parse {
	struct oracle *o;
	uint32_t line;
	unsigned int modes_now;	/* the modes a crash right now may show */
	int snapshot_active;	/* writes go to the cow */
	int done;		/* seen mark + 1 */
	int at_mark;		/* seen mark */
	char *err;
	size_t errlen;
};

static int or_fail(struct or_parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "oracle line %" PRIu32 ": ", p->line);
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int push(struct or_parse *p, uint64_t blk, uint64_t gen, int ok)
{
	struct or_block *b = &p->o->b[blk];
	struct or_value *v;

	if (b->n == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 4;

		v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return or_fail(p, "out of memory");
		b->v = v;
		b->cap = cap;
	}
	v = &b->v[b->n++];
	v->gen = gen;
	v->line = p->line;
	v->ok = !!ok;
	v->changed = ok && !p->snapshot_active;
	return 0;
}

/* Every completed, successful write is durable now. */
static void make_durable(struct or_block *b)
{
	uint32_t i;

	for (i = b->n; i-- > 0;) {
		if (b->v[i].ok) {
			if (!b->has_dur || i > b->dur)
				b->dur = i;
			b->has_dur = 1;
			return;
		}
	}
}

/* The gen a block shows now: the last successful value. */
static int current(const struct or_block *b, uint64_t *gen)
{
	uint32_t i;

	for (i = b->n; i-- > 0;) {
		if (b->v[i].ok) {
			*gen = b->v[i].gen;
			return 0;
		}
	}
	return -1;
}

static int snapshot_frozen(struct or_parse *p, unsigned int slot)
{
	struct oracle *o = p->o;
	uint64_t i;

	if (!o->frozen[slot]) {
		o->frozen[slot] = calloc(o->nblocks, sizeof(uint64_t));
		if (!o->frozen[slot])
			return or_fail(p, "out of memory");
	}
	for (i = 0; i < o->nblocks; i++)
		if (current(&o->b[i], &o->frozen[slot][i]))
			return or_fail(p, "snapshot before block %" PRIu64
				       " was ever written", i);
	return 0;
}

/* The image of the snapshot taken last (the one a drop restores). */
static const uint64_t *last_frozen(const struct or_parse *p)
{
	const struct oracle *o = p->o;

	return o->frozen[p->at_mark && o->has_frozen[1]];
}

/*
 * Durability is frozen at the mark: a crash before mark + 1 may come
 * before any later 'f' or 'W', so only values are appended after it.
 */
static void durable_now(struct or_parse *p, struct or_block *b)
{
	if (!p->at_mark)
		make_durable(b);
}

static int write_event(struct or_parse *p, char kind, uint64_t blk,
		       uint64_t gen, const char *res)
{
	struct oracle *o = p->o;
	int ok = !strcmp(res, "ok");

	if (!ok && strcmp(res, "fail"))
		return or_fail(p, "result '%s' is neither ok nor fail", res);
	if (blk >= o->nblocks)
		return or_fail(p, "block %" PRIu64 " beyond %" PRIu64, blk,
			       o->nblocks);
	if (push(p, blk, gen, ok))
		return -1;
	if (kind == 'W' && ok)
		durable_now(p, &o->b[blk]);
	return 0;
}

static int mark_event(struct or_parse *p, uint64_t n)
{
	struct oracle *o = p->o;
	uint64_t i;

	if (p->at_mark) {
		if (n != o->mark + 1)
			return or_fail(p, "mark %" PRIu64 " after mark %" PRIu64,
				       n, o->mark);
		o->next_line = p->line;
		p->done = 1;
		return 0;
	}
	if (n != o->mark)
		return 0;
	for (i = 0; i < o->nblocks; i++)
		if (!o->b[i].has_dur)
			return or_fail(p, "block %" PRIu64
				       " has no durable value at mark %" PRIu64,
				       i, n);
	p->at_mark = 1;
	o->mark_line = p->line;
	o->modes = p->modes_now;
	o->has_frozen[0] = p->snapshot_active;
	return 0;
}

static int event(struct or_parse *p, const char *line)
{
	struct oracle *o = p->o;
	const uint64_t *fz;
	uint64_t blk, gen, n, i;
	char kind, res[8];
	uint32_t j;

	if ((line[0] == 'w' || line[0] == 'W') && line[1] == ' ' &&
	    sscanf(line, "%c %" SCNu64 " %" SCNu64 " %7s", &kind, &blk, &gen,
		   res) == 4)
		return write_event(p, kind, blk, gen, res);
	if (line[0] == 'f' && line[1] == ' ' && sscanf(line, "f %7s", res) == 1) {
		if (!strcmp(res, "ok")) {
			for (i = 0; i < o->nblocks; i++)
				durable_now(p, &o->b[i]);
		} else if (strcmp(res, "fail")) {
			return or_fail(p, "result '%s' is neither ok nor fail", res);
		}
		return 0;
	}
	if (line[0] == 'm' && line[1] == ' ' &&
	    sscanf(line, "m %" SCNu64, &n) == 1)
		return mark_event(p, n);
	if (!strcmp(line, "snap")) {
		if (snapshot_frozen(p, p->at_mark))
			return -1;
		o->has_frozen[p->at_mark] = 1;
		p->snapshot_active = 1;
		p->modes_now = OR_NORMAL | OR_SNAPSHOT;
	} else if (!strcmp(line, "ready")) {
		p->modes_now = OR_SNAPSHOT;
	} else if (!strcmp(line, "drop")) {
		fz = last_frozen(p);
		if (!p->snapshot_active || !fz)
			return or_fail(p, "drop without a snapshot");
		for (i = 0; i < o->nblocks; i++) {
			if (push(p, i, fz[i], 1))
				return -1;
			o->b[i].v[o->b[i].n - 1].changed = 0;
			durable_now(p, &o->b[i]);
		}
		p->snapshot_active = 0;
		p->modes_now = OR_NORMAL;
	} else if (!strcmp(line, "merge")) {
		p->snapshot_active = 0;
		p->modes_now = OR_SNAPSHOT | OR_MERGING | OR_NORMAL;
	} else if (!strcmp(line, "merged")) {
		p->modes_now = OR_MERGING | OR_NORMAL;
	} else if (!strcmp(line, "clear")) {
		for (i = 0; i < o->nblocks; i++)
			for (j = 0; j < o->b[i].n; j++)
				o->b[i].v[j].changed = 0;
	} else {
		return or_fail(p, "unknown event '%s'", line);
	}
	if (p->at_mark)
		o->modes |= p->modes_now;
	return 0;
}

int or_load(struct oracle *o, FILE *f, uint64_t mark, char *err,
	    size_t errlen)
{
	struct or_parse p = { 0 };
	char line[256];
	size_t len;
	int version;

	memset(o, 0, sizeof(*o));
	o->mark = mark;
	p.o = o;
	p.err = err;
	p.errlen = errlen;
	p.modes_now = OR_NORMAL;
	while (!p.done && fgets(line, sizeof(line), f)) {
		p.line++;
		len = strlen(line);
		if (!len || line[len - 1] != '\n')
			return or_fail(&p, "line too long or unterminated");
		line[len - 1] = '\0';
		if (p.line == 1) {
			if (sscanf(line, "vmfit-crash-oracle %d", &version) != 1 ||
			    version != 1)
				return or_fail(&p, "not a vmfit-crash oracle (version 1): '%s'",
					       line);
			continue;
		}
		if (p.line == 2) {
			if (sscanf(line, "blocks %" SCNu64 " seed %" SCNu64,
				   &o->nblocks, &o->seed) != 2 ||
			    !o->nblocks || o->nblocks > OR_MAX_BLOCKS)
				return or_fail(&p, "bad header '%s'", line);
			o->b = calloc(o->nblocks, sizeof(*o->b));
			if (!o->b)
				return or_fail(&p, "out of memory");
			continue;
		}
		if (event(&p, line))
			return -1;
	}
	if (ferror(f))
		return or_fail(&p, "read error: %s", strerror(errno));
	if (p.line < 2)
		return or_fail(&p, "truncated oracle (no header)");
	if (!p.at_mark)
		return or_fail(&p, "no mark %" PRIu64 " in the oracle", mark);
	return 0;
}

void or_free(struct oracle *o)
{
	uint64_t i;

	if (o->b)
		for (i = 0; i < o->nblocks; i++)
			free(o->b[i].v);
	free(o->b);
	free(o->frozen[0]);
	free(o->frozen[1]);
	memset(o, 0, sizeof(*o));
}

/* Values from the one durable at the mark on: later ones may be there. */
int or_allowed(const struct oracle *o, uint64_t blk, uint64_t gen)
{
	const struct or_block *b = &o->b[blk];
	uint32_t i;

	for (i = b->dur; i < b->n; i++)
		if (b->v[i].gen == gen)
			return 1;
	return 0;
}

int or_durable(const struct oracle *o, uint64_t blk, uint64_t *gen)
{
	const struct or_block *b = &o->b[blk];

	if (!b->has_dur)
		return -1;
	*gen = b->v[b->dur].gen;
	return 0;
}

int or_must_be_changed(const struct oracle *o, uint64_t blk)
{
	const struct or_block *b = &o->b[blk];
	uint32_t i;

	for (i = 0; i <= b->dur && i < b->n; i++)
		if (b->v[i].changed)
			return 1;
	return 0;
}

const char *or_modes_name(unsigned int modes, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 modes & OR_NORMAL ? "normal" : "",
		 (modes & OR_NORMAL) && (modes & ~OR_NORMAL) ? "|" : "",
		 modes & OR_SNAPSHOT ? "snapshot" : "",
		 (modes & OR_SNAPSHOT) && (modes & OR_MERGING) ? "|" : "",
		 modes & OR_MERGING ? "merging" : "");
	return buf;
}
