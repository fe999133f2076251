// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-crash - workloads on a vmfit device under dm-log-writes, and the
 * check of their crash states (see tests/lib/crash.sh for the set-up and
 * Documentation/crash-testing.rst for the method).
 *
 *   vmfit-crash run WORKLOAD --live NAME --log NAME --oracle FILE
 *		[--seed N] [--steps N]
 *	run WORKLOAD on the vmfit device NAME (/dev/mapper/NAME), whose
 *	origin and cow sit on the log-writes device --log. Single-threaded
 *	and synchronous; every write is a vmtest-block.h block with a new
 *	generation. After every acknowledged fsync and O_DSYNC (FUA) write,
 *	and around every message, it places a mark "vmfit-<n>" in the log
 *	(DM_TARGET_MSG through libdevmapper: no exec) and records all of it
 *	in the oracle (oracle.h). WORKLOAD: normal, snapshot, fua, drop,
 *	reuse, merge, cowfull.
 *   vmfit-crash check --oracle FILE --mark vmfit-<n> --origin DEV
 *		--cow DEV --chunk SECTORS --name NAME
 *	load a crash state (origin and cow rebuilt by vmfit-replay) as the
 *	vmfit device NAME and check it against the oracle at that mark:
 *	it loads; the mode is one the device may be in; every block holds
 *	its durable write or a later one, never another block's data or
 *	data never written; an active snapshot's view equals the frozen
 *	image; the changed set holds every durable normal-mode write since
 *	the last clear; after recovery (merge resumed, drop, or as is) a
 *	new snapshot changes nothing. Removes what it created.
 *
 * Exit status: 0 ok, 1 a check failed (each violation on stdout), 2 usage
 * or set-up error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oracle.h"
#include "vf_dm.h"
#include "vf_status.h"
#include "../vmtest/vmtest-block.h"

#define BLK VMTEST_BLK
#define FILL_BLOCKS 256			/* 1 MiB writes for the initial fill */
#define STATUS_POLL_US 10000
#define WAIT_SECS 120
#define MAX_SHOWN 8			/* violations printed per kind */
#define READ_BLOCKS 256			/* 1 MiB reads in the checks */

static const char *prog = "vmfit-crash";

static int err2(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int parse_u64(const char *what, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (!s[0] || s[0] == '-' || errno || *end) {
		err2("%s: '%s' is not a number", what, s);
		return -1;
	}
	return 0;
}

static int open_dev(const char *path, int flags, uint64_t *nblocks)
{
	uint64_t sectors;
	int fd, r;

	fd = open(path, flags | O_DIRECT);
	if (fd < 0) {
		err2("%s: %s", path, strerror(errno));
		return -1;
	}
	r = vf_dm_dev_sectors(path, &sectors);
	if (r) {
		err2("%s: size: %s", path, strerror(-r));
		close(fd);
		return -1;
	}
	if (nblocks)
		*nblocks = sectors / (BLK / 512);
	return fd;
}

static int wait_status(const char *name, enum vf_mode mode, int view_ready,
		       struct vf_status *st)
{
	time_t end = time(NULL) + WAIT_SECS;
	int r;

	for (;;) {
		r = vf_dm_vmfit_status(name, st);
		if (r)
			return err2("status of %s: %s", name, strerror(-r)), -1;
		if (st->mode == mode &&
		    (!view_ready || st->view == VF_VIEW_READY))
			return 0;
		if (time(NULL) > end)
			return err2("%s: no %s%s after %d s (mode %s, view %s)",
				    name, vf_mode_name(mode),
				    view_ready ? " with a ready view" : "",
				    WAIT_SECS, vf_mode_name(st->mode),
				    vf_view_name(st->view)), -1;
		usleep(STATUS_POLL_US);
	}
}

/* ------------------------------------------------------------------ */
/* Workloads */

struct wl {
	const char *live;	/* dm name */
	const char *log;	/* dm name of the log-writes device */
	FILE *orc;
	int fd, fd_sync;
	uint64_t nblocks, seed, rng, gen, mark;
	uint64_t steps;
	uint64_t *buf;
	uint64_t writes_failed;
};

static uint64_t wl_rand(struct wl *w)
{
	w->rng += 0x9e3779b97f4a7c15ULL;
	return vmtest_mix(w->rng);
}

static int wl_mark(struct wl *w)
{
	char msg[64];
	int r;

	snprintf(msg, sizeof(msg), "mark vmfit-%" PRIu64, w->mark);
	r = vf_dm_message(w->log, msg, NULL);
	if (r)
		return err2("%s on %s: %s", msg, w->log, strerror(-r)), -1;
	fprintf(w->orc, "m %" PRIu64 "\n", w->mark++);
	return 0;
}

/* One block, a new generation; FUA (O_DSYNC) writes are marked at once. */
static int wl_write(struct wl *w, uint64_t blk, int fua)
{
	uint64_t gen = ++w->gen;
	ssize_t n;

	vmtest_make_block(w->buf, w->seed, blk, gen);
	n = pwrite(fua ? w->fd_sync : w->fd, w->buf, BLK, (off_t)(blk * BLK));
	fprintf(w->orc, "%c %" PRIu64 " %" PRIu64 " %s\n", fua ? 'W' : 'w',
		blk, gen, n == BLK ? "ok" : "fail");
	if (n != BLK) {
		if (n >= 0 || (errno != ENOSPC && errno != EIO))
			return err2("write block %" PRIu64 ": %s", blk,
				    n < 0 ? strerror(errno) : "short write"), -1;
		w->writes_failed++;
		return 0;
	}
	return fua ? wl_mark(w) : 0;
}

static int wl_fsync(struct wl *w)
{
	int r = fdatasync(w->fd);

	fprintf(w->orc, "f %s\n", r ? "fail" : "ok");

	if (r && errno != EIO && errno != ENOSPC)
		return err2("fdatasync: %s", strerror(errno)), -1;
	return wl_mark(w);
}

/* A message to the live device, between two marks, recorded as @event. */
static int wl_msg(struct wl *w, const char *msg, const char *event)
{
	int r;

	if (wl_mark(w))
		return -1;
	r = vf_dm_message(w->live, msg, NULL);
	if (r)
		return err2("message '%s' to %s: %s", msg, w->live,
			    strerror(-r)), -1;
	fprintf(w->orc, "%s\n", event);
	return wl_mark(w);
}

/* Every block, a new generation, in 1 MiB writes; then an fsync. */
static int wl_fill(struct wl *w)
{
	static uint64_t big[FILL_BLOCKS * VMTEST_BLK_WORDS]
		__attribute__((aligned(BLK)));
	uint64_t b, i, n;
	ssize_t got;

	for (b = 0; b < w->nblocks; b += n) {
		n = w->nblocks - b < FILL_BLOCKS ? w->nblocks - b : FILL_BLOCKS;
		for (i = 0; i < n; i++)
			vmtest_make_block(big + i * VMTEST_BLK_WORDS, w->seed,
					  b + i, w->gen + 1 + i);
		got = pwrite(w->fd, big, n * BLK, (off_t)(b * BLK));
		if (got != (ssize_t)(n * BLK))
			return err2("fill at block %" PRIu64 ": %s", b,
				    got < 0 ? strerror(errno) : "short write"), -1;
		for (i = 0; i < n; i++)
			fprintf(w->orc, "w %" PRIu64 " %" PRIu64 " ok\n", b + i,
				++w->gen);
	}
	return wl_fsync(w);
}

/*
 * @n steps of @k writes to random blocks of [lo, hi), each a FUA write
 * with probability @fua_pct %, then an fsync.
 */
static int wl_steps(struct wl *w, uint64_t n, unsigned int k,
		    unsigned int fua_pct, uint64_t lo, uint64_t hi)
{
	uint64_t s;
	unsigned int i;

	for (s = 0; s < n; s++) {
		for (i = 0; i < k; i++)
			if (wl_write(w, lo + wl_rand(w) % (hi - lo),
				     wl_rand(w) % 100 < fua_pct))
				return -1;
		if (wl_fsync(w))
			return -1;
	}
	return 0;
}

static int wl_snapshot(struct wl *w)
{
	struct vf_status st;

	if (wl_fsync(w) || wl_msg(w, "snapshot", "snap") ||
	    wait_status(w->live, VF_MODE_SNAPSHOT, 1, &st))
		return -1;
	fprintf(w->orc, "ready\n");
	return wl_mark(w);
}

static int wl_drop(struct wl *w)
{
	return wl_msg(w, "drop", "drop");
}

static int wl_merge(struct wl *w)
{
	struct vf_status st;
	uint64_t during = 0;
	int r;

	if (wl_msg(w, "merge", "merge"))
		return -1;
	/* Writes while the merge runs, to merged and unmerged chunks. */
	for (;;) {
		r = vf_dm_vmfit_status(w->live, &st);
		if (r)
			return err2("status: %s", strerror(-r)), -1;
		if (st.mode == VF_MODE_NORMAL)
			break;
		if (during++ > 10000)
			return err2("merge does not end"), -1;
		if (wl_steps(w, 1, 2, 25, 0, w->nblocks))
			return -1;
	}
	printf("%s: %" PRIu64 " steps during the merge\n", prog, during);
	fprintf(w->orc, "merged\n");
	return wl_mark(w);
}

static const char *const workloads[] = {
	"normal", "snapshot", "fua", "drop", "reuse", "merge", "cowfull",
};

static int wl_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(name, workloads[i]))
			return 1;
	return 0;
}

static int wl_run(struct wl *w, const char *name)
{
	uint64_t s = w->steps, i, nb = w->nblocks;

	if (wl_fill(w))
		return -1;
	if (!strcmp(name, "normal")) {
		return wl_steps(w, s / 2, 8, 20, 0, nb) ||
		       wl_msg(w, "clear", "clear") ||
		       wl_steps(w, s - s / 2, 8, 20, 0, nb) ? -1 : 0;
	}
	if (!strcmp(name, "snapshot"))
		return wl_snapshot(w) || wl_steps(w, s, 8, 20, 0, nb) ? -1 : 0;
	if (!strcmp(name, "fua"))
		return wl_snapshot(w) || wl_steps(w, s, 4, 100, 0, nb) ? -1 : 0;
	if (!strcmp(name, "drop")) {
		return wl_snapshot(w) || wl_steps(w, s / 3, 8, 20, 0, nb) ||
		       wl_drop(w) || wl_steps(w, s / 3, 8, 20, 0, nb) ||
		       wl_snapshot(w) || wl_steps(w, s / 3, 8, 20, 0, nb) ||
		       wl_drop(w) ? -1 : 0;
	}
	if (!strcmp(name, "reuse")) {
		/* Snapshots dropped before their mappings were flushed. */
		for (i = 0; i < 3; i++) {
			if (wl_snapshot(w))
				return -1;
			if (wl_steps(w, 0, 0, 0, 0, nb))
				return -1;
			for (s = 0; s < 32; s++)
				if (wl_write(w, wl_rand(w) % nb, 0))
					return -1;
			if (wl_drop(w))
				return -1;
		}
		return wl_snapshot(w) ||
		       wl_steps(w, w->steps, 8, 20, 0, nb) ? -1 : 0;
	}
	if (!strcmp(name, "merge")) {
		/* Every chunk in the cow: a merge long enough to write into. */
		return wl_snapshot(w) || wl_fill(w) ||
		       wl_steps(w, s / 2, 16, 20, 0, nb) ||
		       wl_merge(w) || wl_steps(w, s / 4 + 1, 8, 20, 0, nb) ? -1 : 0;
	}
	if (!strcmp(name, "cowfull")) {
		if (wl_snapshot(w) || wl_steps(w, s, 16, 20, 0, nb))
			return -1;
		if (!w->writes_failed)
			return err2("cowfull: no write failed: the cow is too large for the workload"), -1;
		printf("%s: %" PRIu64 " writes failed (cow full)\n", prog,
		       w->writes_failed);
		return 0;
	}
	return err2("workload '%s' has no body", name), -1;
}

static int cmd_run(int argc, char **argv)
{
	struct wl w = { 0 };
	const char *oracle = NULL, *name = argv[0];
	char path[300];
	int i, rc = 2;

	w.steps = 20;
	w.seed = (uint64_t)time(NULL);
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return err2("%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--live")) {
			w.live = argv[i + 1];
		} else if (!strcmp(argv[i], "--log")) {
			w.log = argv[i + 1];
		} else if (!strcmp(argv[i], "--oracle")) {
			oracle = argv[i + 1];
		} else if (!strcmp(argv[i], "--seed")) {
			if (parse_u64("--seed", argv[i + 1], &w.seed))
				return 2;
		} else if (!strcmp(argv[i], "--steps")) {
			if (parse_u64("--steps", argv[i + 1], &w.steps))
				return 2;
		} else {
			return err2("unknown option '%s'", argv[i]);
		}
	}
	if (!wl_known(name))
		return err2("unknown workload '%s' (normal, snapshot, fua, drop, reuse, merge, cowfull)",
			    name);
	if (!w.live || !w.log || !oracle)
		return err2("run needs --live, --log and --oracle");
	w.rng = w.seed;
	snprintf(path, sizeof(path), "/dev/mapper/%s", w.live);
	w.buf = aligned_alloc(BLK, BLK);
	if (!w.buf)
		return err2("out of memory");
	w.fd = open_dev(path, O_RDWR, &w.nblocks);
	if (w.fd < 0)
		goto out_buf;
	w.fd_sync = open_dev(path, O_RDWR | O_DSYNC, NULL);
	if (w.fd_sync < 0)
		goto out_fd;

	w.orc = fopen(oracle, "w");
	if (!w.orc) {
		err2("%s: %s", oracle, strerror(errno));
		goto out_sync;
	}
	printf("%s: workload %s, seed %" PRIu64 ", %" PRIu64 " blocks, %"
	       PRIu64 " steps\n", prog, name, w.seed, w.nblocks, w.steps);
	fprintf(w.orc, "vmfit-crash-oracle 1\nblocks %" PRIu64 " seed %" PRIu64
		"\n", w.nblocks, w.seed);
	rc = wl_run(&w, name) ? 2 : 0;
	/* The last mark also brings the log's super up to date. */
	if (!rc && wl_mark(&w))
		rc = 2;
	if (fclose(w.orc)) {
		err2("%s: %s", oracle, strerror(errno));
		rc = 2;
	}
	if (!rc)
		printf("%s: %" PRIu64 " writes, %" PRIu64 " marks\n", prog,
		       w.gen, w.mark);
out_sync:
	close(w.fd_sync);
out_fd:
	close(w.fd);
out_buf:
	free(w.buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checks */

struct chk {
	struct oracle o;
	const char *name;	/* live dm name */
	char view[160];
	char view_path[300];
	char live_path[300];
	unsigned int chunk;	/* sectors */
	uint64_t *got;		/* per block: gen read, or UINT64_MAX */
	uint64_t *buf;
	unsigned int violations;
	unsigned int shown[8];
};

enum { V_LOAD, V_MODE, V_DATA, V_VIEW, V_CHANGED, V_RECOVERY, V_HEALTH };

static void violation(struct chk *c, int kind, const char *fmt, ...)
{
	va_list ap;

	c->violations++;
	if (c->shown[kind]++ >= MAX_SHOWN) {
		if (c->shown[kind] == MAX_SHOWN + 1)
			printf("VIOLATION: ... (more of this kind not shown)\n");
		return;
	}
	printf("VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define GEN_NONE UINT64_MAX	/* zeros */
#define GEN_JUNK (UINT64_MAX - 1) /* not a block of ours */

/*
 * Read every block of @path (1 MiB at a time): @gens gets the generation
 * each holds (GEN_NONE, GEN_JUNK), @from the block it claims to be.
 */
static int read_all(struct chk *c, const char *path, uint64_t *gens,
		    uint64_t *from)
{
	uint64_t b, i, n, blk, gen, nb;
	const uint64_t *p;
	ssize_t got;
	int fd;

	fd = open_dev(path, O_RDONLY, &nb);
	if (fd < 0)
		return -1;
	if (nb < c->o.nblocks) {
		close(fd);
		return err2("%s: %" PRIu64 " blocks, the oracle has %" PRIu64,
			    path, nb, c->o.nblocks), -1;
	}
	for (b = 0; b < c->o.nblocks; b += n) {
		n = c->o.nblocks - b < READ_BLOCKS ? c->o.nblocks - b : READ_BLOCKS;
		got = pread(fd, c->buf, n * BLK, (off_t)(b * BLK));
		if (got != (ssize_t)(n * BLK)) {
			err2("read %s at block %" PRIu64 ": %s", path, b,
			     got < 0 ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		for (i = 0; i < n; i++) {
			p = c->buf + i * VMTEST_BLK_WORDS;
			from[b + i] = b + i;
			if (!vmtest_block_decode(p, c->o.seed, &blk, &gen)) {
				gens[b + i] = gen;
				from[b + i] = blk;
			} else {
				gens[b + i] = vmtest_block_is_zero(p) ?
					      GEN_NONE : GEN_JUNK;
			}
		}
	}
	close(fd);
	return 0;
}

static const char *gen_str(uint64_t gen, char *buf, size_t len)
{
	if (gen == GEN_NONE)
		snprintf(buf, len, "zeros");
	else if (gen == GEN_JUNK)
		snprintf(buf, len, "unrecognised data");
	else
		snprintf(buf, len, "gen %" PRIu64, gen);
	return buf;
}

static void check_live(struct chk *c, const char *when)
{
	uint64_t *from = calloc(c->o.nblocks, sizeof(*from));
	uint64_t b, dur;
	char g[40];

	if (!from) {
		violation(c, V_DATA, "out of memory");
		return;
	}
	if (read_all(c, c->live_path, c->got, from)) {
		violation(c, V_DATA, "cannot read the live device %s", when);
		free(from);
		return;
	}
	for (b = 0; b < c->o.nblocks; b++) {
		or_durable(&c->o, b, &dur);
		if (from[b] != b)
			violation(c, V_DATA, "%s: block %" PRIu64 " reads the data of block %"
				  PRIu64 " (gen %" PRIu64 "): data never written to it; expected gen %"
				  PRIu64 " (durable at the mark) or a later write",
				  when, b, from[b], c->got[b], dur);
		else if (c->got[b] >= GEN_JUNK || !or_allowed(&c->o, b, c->got[b]))
			violation(c, V_DATA, "%s: block %" PRIu64 " reads %s; expected gen %"
				  PRIu64 " (durable at the mark) or a later write to it",
				  when, b, gen_str(c->got[b], g, sizeof(g)), dur);
	}
	free(from);
}

/* Compare @path with the frozen images; returns the slot matched or -1. */
static int check_view(struct chk *c, const char *path, const char *when)
{
	uint64_t *g = calloc(c->o.nblocks, sizeof(*g));
	uint64_t *from = calloc(c->o.nblocks, sizeof(*from));
	uint64_t b, bad[2] = { 0, 0 }, first[2] = { 0, 0 };
	int s, match = -1;
	char txt[40];

	if (!g || !from || read_all(c, path, g, from)) {
		violation(c, V_VIEW, "%s: cannot read the view %s", when, path);
		goto out;
	}
	for (s = 0; s < 2; s++) {
		if (!c->o.has_frozen[s])
			continue;
		for (b = 0; b < c->o.nblocks; b++) {
			if (from[b] == b && g[b] == c->o.frozen[s][b])
				continue;
			if (!bad[s]++)
				first[s] = b;
		}
		if (!bad[s] && match < 0)
			match = s;
	}
	if (match >= 0)
		goto out;
	if (!c->o.has_frozen[0] && !c->o.has_frozen[1]) {
		violation(c, V_VIEW, "%s: a view exists but no snapshot could be active",
			  when);
		goto out;
	}
	s = c->o.has_frozen[0] ? 0 : 1;
	b = first[s];
	violation(c, V_VIEW, "%s: the view differs from the frozen image in %" PRIu64
		  " blocks, e.g. block %" PRIu64 " reads %s (from block %" PRIu64
		  "), frozen gen %" PRIu64, when, bad[s], b,
		  gen_str(g[b], txt, sizeof(txt)), from[b],
		  c->o.frozen[s][b]);
out:
	free(g);
	free(from);
	return match;
}

static int view_open(struct chk *c, const char *when)
{
	struct vf_status st;
	int r;

	if (wait_status(c->name, VF_MODE_SNAPSHOT, 1, &st)) {
		violation(c, V_VIEW, "%s: the snapshot's view never became ready", when);
		return -1;
	}
	r = vf_dm_create_view(c->view, c->live_path);
	if (r) {
		violation(c, V_VIEW, "%s: cannot create the view: %s (%s)", when,
			  strerror(-r), vf_dm_last_error());
		return -1;
	}
	return 0;
}

static void view_close(struct chk *c)
{
	int r = vf_dm_remove(c->view);

	if (r)
		violation(c, V_VIEW, "cannot remove the view %s: %s", c->view,
			  strerror(-r));
}

static void check_changed(struct chk *c)
{
	struct vf_ranges rs;
	uint64_t b, chunk, missing = 0, first = 0;
	size_t i;
	int r, in;

	vf_ranges_init(&rs);
	r = vf_dm_vmfit_changed(c->name, &rs);
	if (r) {
		violation(c, V_CHANGED, "changed: %s", strerror(-r));
		return;
	}
	for (b = 0; b < c->o.nblocks; b++) {
		if (!or_must_be_changed(&c->o, b))
			continue;
		chunk = b * (BLK / 512) / c->chunk;
		for (in = 0, i = 0; i < rs.n && !in; i++)
			in = rs.r[i].start <= chunk && chunk <= rs.r[i].end;
		if (!in && !missing++)
			first = b;
	}
	if (missing)
		violation(c, V_CHANGED, "the changed set misses %" PRIu64
			  " blocks with durable writes since the last clear, e.g. block %"
			  PRIu64 " (chunk %" PRIu64 ")", missing, first,
			  first * (BLK / 512) / c->chunk);
	vf_ranges_free(&rs);
}

/* Content after recovery must not change across a new snapshot. */
static void check_recovery(struct chk *c, const uint64_t *before,
			   const char *what)
{
	uint64_t b, diff = 0, first = 0;

	for (b = 0; b < c->o.nblocks; b++)
		if (c->got[b] != before[b] && !diff++)
			first = b;
	if (diff)
		violation(c, V_RECOVERY, "%s changed %" PRIu64
			  " blocks of the live device, e.g. block %" PRIu64
			  ": gen %" PRIu64 " -> %" PRIu64, what, diff, first,
			  before[first], c->got[first]);
}

/* Progress with the time since the check began (where the time goes). */
static void stamp(const char *what)
{
	static struct timespec t0;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!t0.tv_sec && !t0.tv_nsec)
		t0 = t;
	printf("  [%.2fs] %s\n", (double)(t.tv_sec - t0.tv_sec) +
	       (double)(t.tv_nsec - t0.tv_nsec) / 1e9, what);
}

static int do_check(struct chk *c, const char *origin, const char *cow)
{
	struct vf_status st;
	uint64_t *before = calloc(c->o.nblocks, sizeof(*before));
	uint64_t *from = calloc(c->o.nblocks, sizeof(*from));
	char m[64];
	int r, slot;

	if (!before || !from) {
		free(before);
		free(from);
		return err2("out of memory");
	}
	stamp("load");
	r = vf_dm_create_vmfit(c->name, origin, cow, c->chunk, NULL);
	if (r) {
		violation(c, V_LOAD, "the crash state does not load: %s (%s; see the kernel log)",
			  strerror(-r), vf_dm_last_error());
		free(before);
		free(from);
		return 0;
	}
	r = vf_dm_vmfit_status(c->name, &st);
	if (r) {
		violation(c, V_LOAD, "status after load: %s", strerror(-r));
		goto out;
	}
	printf("loaded: mode %s epoch %" PRIu64 " cow %" PRIu64 "/%" PRIu64
	       " health %s; may be %s\n", vf_mode_name(st.mode), st.epoch,
	       st.cow_used, st.cow_total, vf_health_name(st.health),
	       or_modes_name(c->o.modes, m, sizeof(m)));
	if (!(c->o.modes & (1u << st.mode)))
		violation(c, V_MODE, "loads in mode %s; at this point it may only be %s",
			  vf_mode_name(st.mode), m);
	if (st.health == VF_HEALTH_FAIL)
		violation(c, V_HEALTH, "health is fail right after load");
	check_live(c, "after load");
	stamp("live checked");
	memcpy(before, c->got, c->o.nblocks * sizeof(*before));
	check_changed(c);
	slot = -1;
	if (st.mode == VF_MODE_SNAPSHOT && !view_open(c, "after load")) {
		slot = check_view(c, c->view_path, "after load");
		view_close(c);
	}
	stamp("view and changed set checked");
	/* Recovery: end what was running, then a new snapshot. */
	if (st.mode == VF_MODE_MERGING) {
		if (wait_status(c->name, VF_MODE_NORMAL, 0, &st)) {
			violation(c, V_RECOVERY, "the resumed merge does not end");
			goto out;
		}
		check_live(c, "after the resumed merge");
		check_recovery(c, before, "the resumed merge");
	} else if (st.mode == VF_MODE_SNAPSHOT) {
		r = vf_dm_message(c->name, "drop", NULL);
		if (r) {
			violation(c, V_RECOVERY, "drop after load: %s", strerror(-r));
			goto out;
		}
		/* The live device is now the frozen image the view showed. */
		if (slot >= 0) {
			memcpy(before, c->o.frozen[slot],
			       c->o.nblocks * sizeof(*before));
			if (read_all(c, c->live_path, c->got, from))
				violation(c, V_RECOVERY, "cannot read the live device after drop");
			else
				check_recovery(c, before, "drop (against the frozen image)");
		}
		memcpy(before, c->got, c->o.nblocks * sizeof(*before));
	}
	stamp("recovered");
	r = vf_dm_message(c->name, "snapshot", NULL);
	if (r) {
		violation(c, V_RECOVERY, "snapshot after recovery: %s", strerror(-r));
		goto out;
	}
	if (!view_open(c, "after a new snapshot")) {
		if (read_all(c, c->live_path, c->got, from))
			violation(c, V_RECOVERY, "cannot read the live device after a new snapshot");
		else
			check_recovery(c, before, "a new snapshot");
		c->o.has_frozen[0] = 1;
		c->o.has_frozen[1] = 0;
		if (!c->o.frozen[0])
			c->o.frozen[0] = calloc(c->o.nblocks, sizeof(uint64_t));
		if (c->o.frozen[0]) {
			memcpy(c->o.frozen[0], before,
			       c->o.nblocks * sizeof(uint64_t));
			check_view(c, c->view_path, "after a new snapshot");
		}
		view_close(c);
	}
	stamp("new snapshot checked");
out:
	r = vf_dm_remove(c->name);
	if (r)
		violation(c, V_LOAD, "cannot remove %s: %s", c->name, strerror(-r));
	free(before);
	free(from);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct chk c;
	const char *oracle = NULL, *mark = NULL, *origin = NULL, *cow = NULL;
	uint64_t n, chunk = 0;
	char err[300];
	FILE *f;
	int i, rc;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return err2("%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--oracle")) {
			oracle = argv[i + 1];
		} else if (!strcmp(argv[i], "--mark")) {
			mark = argv[i + 1];
		} else if (!strcmp(argv[i], "--origin")) {
			origin = argv[i + 1];
		} else if (!strcmp(argv[i], "--cow")) {
			cow = argv[i + 1];
		} else if (!strcmp(argv[i], "--name")) {
			c.name = argv[i + 1];
		} else if (!strcmp(argv[i], "--chunk")) {
			if (parse_u64("--chunk", argv[i + 1], &chunk))
				return 2;
		} else {
			return err2("unknown option '%s'", argv[i]);
		}
	}
	if (!oracle || !mark || !origin || !cow || !c.name || !chunk)
		return err2("check needs --oracle, --mark, --origin, --cow, --chunk and --name");
	if (strncmp(mark, "vmfit-", 6) || parse_u64("--mark", mark + 6, &n))
		return err2("--mark '%s' is not a mark of vmfit-crash (vmfit-<n>)",
			    mark);
	if (chunk < BLK / 512 || chunk & (chunk - 1))
		return err2("--chunk %" PRIu64 ": the check needs a power of two of at least 8 sectors",
			    chunk);
	c.chunk = (unsigned int)chunk;
	f = fopen(oracle, "r");
	if (!f)
		return err2("%s: %s", oracle, strerror(errno));
	rc = or_load(&c.o, f, n, err, sizeof(err));
	fclose(f);
	if (rc) {
		or_free(&c.o);
		return err2("%s: %s", oracle, err);
	}
	snprintf(c.view, sizeof(c.view), "%s_view", c.name);
	snprintf(c.live_path, sizeof(c.live_path), "/dev/mapper/%s", c.name);
	snprintf(c.view_path, sizeof(c.view_path), "/dev/mapper/%s", c.view);
	c.got = calloc(c.o.nblocks, sizeof(*c.got));
	c.buf = aligned_alloc(BLK, READ_BLOCKS * BLK);
	rc = 2;
	if (!c.got || !c.buf) {
		err2("out of memory");
		goto out;
	}
	if (do_check(&c, origin, cow))
		goto out;
	printf("%s: mark %s: %u violations\n", prog, mark, c.violations);
	rc = c.violations ? 1 : 0;
out:
	free(c.got);
	free(c.buf);
	or_free(&c.o);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmfit-crash run WORKLOAD --live NAME --log NAME --oracle FILE\n"
		"                   [--seed N] [--steps N]\n"
		"       vmfit-crash check --oracle FILE --mark vmfit-<n> --origin DEV\n"
		"                   --cow DEV --chunk SECTORS --name NAME\n"
		"WORKLOAD: normal snapshot fua drop reuse merge cowfull\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	usage(stderr);
	return 2;
}
