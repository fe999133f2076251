// SPDX-License-Identifier: GPL-2.0-only
/*
 * tlfile.c - vmfit-bench's timeline files. See tlfile.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tlfile.h"

static int finish(FILE *f)
{
	return fflush(f) || ferror(f) ? -EIO : 0;
}

int tl_write_csv(const struct timeline *tl, FILE *f, const char *label)
{
	double w = (double)tl->width_us / 1e6, t;
	size_t i, n = timeline_buckets(tl);
	uint64_t b0;

	fprintf(f, "# vmfit-bench timeline%s%s: bucket start (s), completions, "
		"ops/s, lost connections, first and last completion (s)\n",
		label ? " " : "", label ? label : "");
	fprintf(f, "#bucket_us=%" PRIu64 " end_us=%" PRIu64 "\n",
		tl->width_us, tl->end_us);
	fprintf(f, "#t_s,ops,ops_per_s,lost,first_s,last_s\n");
	for (i = 0; i < n; i++) {
		t = (double)i * w;
		fprintf(f, "%.3f,%u,%.0f,%u,", t, tl->ops[i],
			(double)tl->ops[i] / w, tl->errs[i]);
		b0 = (uint64_t)i * tl->width_us;
		if (tl->ops[i])
			fprintf(f, "%.6f,%.6f\n",
				(double)(b0 + tl->first[i]) / 1e6,
				(double)(b0 + tl->last[i]) / 1e6);
		else
			fputs(",\n", f);
	}
	return finish(f);
}

int tl_write_seconds(const struct timeline *tl, FILE *f, const char *label)
{
	uint64_t w = tl->width_us, ops, lost, s_end, covered;
	size_t i = 0, n = timeline_buckets(tl);
	uint64_t sec;

	fprintf(f, "# vmfit-bench timeline per second%s%s: second, "
		"completions, ops/s, lost connections\n",
		label ? " " : "", label ? label : "");
	fprintf(f, "#bucket_us=1000000 end_us=%" PRIu64 "\n", tl->end_us);
	fprintf(f, "#t_s,ops,ops_per_s,lost\n");
	for (sec = 0; i < n; sec++) {
		ops = 0;
		lost = 0;
		s_end = (sec + 1) * 1000000u;
		/* The buckets that start in this second. */
		for (; i < n && (uint64_t)i * w < s_end; i++) {
			ops += tl->ops[i];
			lost += tl->errs[i];
		}
		covered = (uint64_t)i * w - sec * 1000000u;
		if (covered > 1000000u)
			covered = 1000000u;
		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%.0f,%" PRIu64 "\n", sec,
			ops, (double)ops * 1e6 / (double)covered, lost);
	}
	return finish(f);
}

/* One number of a CSV field ending at ',' or the end; empty: *empty. */
static int field(char **p, double *v, bool *empty)
{
	char *end;

	if (**p == ',' || **p == '\0' || **p == '\n') {
		*empty = true;
		*v = 0;
	} else {
		*empty = false;
		errno = 0;
		*v = strtod(*p, &end);
		if (errno || end == *p || !isfinite(*v) || *v < 0)
			return -EINVAL;
		*p = end;
	}
	if (**p == ',')
		(*p)++;
	else if (**p != '\0' && **p != '\n')
		return -EINVAL;
	return 0;
}

/* us offset of time @t_s into bucket @b, checked. */
static int offset(const struct timeline *tl, size_t b, double t_s,
		  uint32_t *off)
{
	int64_t us = llround(t_s * 1e6) - (int64_t)((uint64_t)b * tl->width_us);

	if (us < 0 || (uint64_t)us >= tl->width_us)
		return -EINVAL;
	*off = (uint32_t)us;
	return 0;
}

int tl_read_csv(struct timeline *tl, FILE *f, unsigned int *line)
{
	char buf[512], *p;
	uint64_t width = 0, end = 0;
	double v[6];
	bool empty[6];
	uint32_t first = 0, last = 0;
	size_t b;
	int i, r;

	memset(tl, 0, sizeof(*tl));
	*line = 0;
	for (unsigned int ln = 1; fgets(buf, sizeof(buf), f); ln++) {
		*line = ln;
		if (!strchr(buf, '\n') && !feof(f))
			goto bad;		/* longer than any valid line */
		if (buf[0] == '#') {
			if (!strncmp(buf, "#bucket_us=", 11)) {
				if (width || sscanf(buf, "#bucket_us=%" SCNu64
						    " end_us=%" SCNu64, &width,
						    &end) != 2 ||
				    timeline_init(tl, width, (size_t)1 << 26))
					goto bad;
				tl->end_us = end;
			}
			continue;
		}
		if (!width) {
			*line = 0;	/* data before the #bucket_us line */
			goto bad;
		}
		p = buf;
		for (i = 0; i < 6; i++)
			if (field(&p, &v[i], &empty[i]))
				goto bad;
		if (*p != '\n' && *p != '\0')
			goto bad;	/* more than six fields */
		if (empty[0] || empty[1] || empty[3] || v[1] > UINT32_MAX ||
		    v[3] > UINT32_MAX || v[1] != floor(v[1]) ||
		    empty[4] != empty[5] || (v[1] > 0) == empty[4])
			goto bad;
		b = (size_t)llround(v[0] * 1e6 / (double)width);
		if (fabs((double)b * (double)width - v[0] * 1e6) > 1000.0)
			goto bad;	/* not a bucket start (ms precision) */
		if (!empty[4] && (offset(tl, b, v[4], &first) ||
				  offset(tl, b, v[5], &last)))
			goto bad;
		r = timeline_set(tl, b, (uint32_t)v[1], (uint32_t)v[3],
				 empty[4] ? 0 : first, empty[4] ? 0 : last);
		if (r == -ENOMEM) {
			timeline_free(tl);
			return r;
		}
		if (r)
			goto bad;
	}
	if (ferror(f)) {
		timeline_free(tl);
		return -EIO;
	}
	if (!width) {
		*line = 0;
		return -EINVAL;
	}
	return 0;
bad:
	timeline_free(tl);
	return -EINVAL;
}
