// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-replay - crash states of a data device from its dm-log-writes log.
 *
 *   vmfit-replay info LOG
 *	entries, marks, flushes, FUA writes, bytes written, and log_bytes:
 *	how much of LOG the entries use (to save a copy of the log).
 *   vmfit-replay list LOG
 *	one line per entry: index, kind, sector, sectors, mark text.
 *   vmfit-replay run LOG --size BYTES --image FILE [--seed N]
 *		[--marks N] [--random N] [--only K] [--mark-prefix P]
 *		[--exec CMD]
 *	build the crash states of replay.h one after the other in FILE (the
 *	data device's image, BYTES long) and run CMD (/bin/sh -c) on each
 *	with REPLAY_STATE (number), REPLAY_KIND (mark|random), REPLAY_MARK
 *	(text of the last mark before the crash point), REPLAY_ENTRY (the
 *	crash is right before this log entry) and REPLAY_SEED in the
 *	environment. --marks N: N marks drawn at random (default: every
 *	mark); --random N: N random points with a random subset of the
 *	unflushed writes (default 0); --only K: state K alone (to
 *	reproduce a failure, with the same seed); --mark-prefix P: only
 *	marks whose text starts with P count (dm-log-writes adds its own
 *	"dm-log-writes-end" on removal). The seed (default: from
 *	the clock) is printed first. A failed CMD fails the state; the run
 *	goes on and ends with a summary and the command reproducing each
 *	failed state.
 *
 * Exit status: 0 every state passed, 1 a state failed, 2 usage, a bad log
 * or an I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwlog.h"
#include "replay.h"

#define MAX_REPORTED_FAILURES 20

struct run_ctx {
	const char *log;
	const char *image;
	const char *cmd;
	uint64_t seed;
	int fd;
	uint8_t *img;
	uint64_t failed_states[MAX_REPORTED_FAILURES];
	unsigned int nfailed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmfit-replay info LOG\n"
		"       vmfit-replay list LOG\n"
		"       vmfit-replay run LOG --size BYTES --image FILE [--seed N]\n"
		"                    [--marks N] [--random N] [--only K] [--mark-prefix P]\n"
		"                    [--exec CMD]\n");
}

static int parse_u64(const char *what, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (!s[0] || s[0] == '-' || errno || *end) {
		fprintf(stderr, "vmfit-replay: %s: '%s' is not a number\n",
			what, s);
		return -1;
	}
	return 0;
}

static int cmd_scan(const char *path, int list)
{
	struct lw_log lw;
	struct lw_entry e;
	uint64_t marks = 0, flushes = 0, fua = 0, writes = 0, bytes = 0;
	char name[64];
	int rc;

	if (lw_open(&lw, path)) {
		fprintf(stderr, "vmfit-replay: %s\n", lw.err);
		lw_close(&lw);
		return 2;
	}
	lw.headers_only = !list;
	while ((rc = lw_next(&lw, &e)) > 0) {
		marks += !!(e.flags & LW_MARK);
		flushes += !!(e.flags & LW_FLUSH);
		fua += !!(e.flags & LW_FUA);
		if (!(e.flags & (LW_MARK | LW_DISCARD)) && e.nr_sectors) {
			writes++;
			bytes += lw_entry_bytes(&lw, &e);
		}
		if (list)
			printf("%" PRIu64 " %s %" PRIu64 " %" PRIu64 "%s%s\n",
			       e.index, lw_flags_name(e.flags, name, sizeof(name)),
			       e.sector, e.nr_sectors, e.mark[0] ? " " : "",
			       e.mark);
	}
	if (rc < 0) {
		fprintf(stderr, "vmfit-replay: %s\n", lw.err);
		lw_close(&lw);
		return 2;
	}
	if (!list)
		printf("entries %" PRIu64 " sectorsize %" PRIu32 " marks %" PRIu64
		       " flushes %" PRIu64 " fua %" PRIu64 " writes %" PRIu64
		       " bytes %" PRIu64 " log_bytes %" PRIu64 "\n",
		       lw.nr_entries, lw.sectorsize, marks, flushes, fua,
		       writes, bytes, lw.pos);
	lw_close(&lw);
	return 0;
}

static int write_image(struct run_ctx *r, const struct rp_state *st)
{
	uint64_t done = 0;
	ssize_t n;

	rp_state_compose(st, r->img);
	while (done < st->size) {
		n = pwrite(r->fd, r->img + done, st->size - done, (off_t)done);
		if (n <= 0) {
			fprintf(stderr, "vmfit-replay: write %s: %s\n", r->image,
				n < 0 ? strerror(errno) : "short write");
			return -1;
		}
		done += (uint64_t)n;
	}
	if (fdatasync(r->fd)) {
		fprintf(stderr, "vmfit-replay: fdatasync %s: %s\n", r->image,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int run_cmd(struct run_ctx *r, const struct rp_state *st)
{
	char buf[32];
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vmfit-replay: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!pid) {
		snprintf(buf, sizeof(buf), "%" PRIu64, st->number);
		setenv("REPLAY_STATE", buf, 1);
		snprintf(buf, sizeof(buf), "%" PRIu64, st->entry);
		setenv("REPLAY_ENTRY", buf, 1);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->seed);
		setenv("REPLAY_SEED", buf, 1);
		setenv("REPLAY_KIND", st->kind == RP_MARK ? "mark" : "random", 1);
		setenv("REPLAY_MARK", st->mark, 1);
		execl("/bin/sh", "sh", "-c", r->cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "vmfit-replay: waitpid: %s\n", strerror(errno));
		return -1;
	}
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

static int emit(void *ctx, const struct rp_state *st)
{
	struct run_ctx *r = ctx;
	int rc = 0;

	printf("state %" PRIu64 ": %s, before entry %" PRIu64
	       ", last mark '%s', %zu/%zu unflushed writes applied\n",
	       st->number, st->kind == RP_MARK ? "mark" : "random", st->entry,
	       st->mark, st->napplied, st->npending);
	if (write_image(r, st))
		return -1;
	if (r->cmd)
		rc = run_cmd(r, st);
	if (rc < 0)
		return -1;
	if (rc) {
		printf("state %" PRIu64 ": FAILED\n", st->number);
		if (r->nfailed < MAX_REPORTED_FAILURES)
			r->failed_states[r->nfailed++] = st->number;
	}
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	struct rp_opts o = { 0 };
	struct rp_result res;
	struct run_ctx r = { 0 };
	char err[600];
	unsigned int i;
	int seeded = 0, rc;

	r.log = argv[0];
	for (i = 1; i < (unsigned int)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned int)argc ?
					      argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "vmfit-replay: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--size")) {
			if (parse_u64(a, v, &o.size))
				return 2;
		} else if (!strcmp(a, "--image")) {
			r.image = v;
		} else if (!strcmp(a, "--exec")) {
			r.cmd = v;
		} else if (!strcmp(a, "--seed")) {
			if (parse_u64(a, v, &o.seed))
				return 2;
			seeded = 1;
		} else if (!strcmp(a, "--marks")) {
			if (parse_u64(a, v, &o.marks))
				return 2;
		} else if (!strcmp(a, "--random")) {
			if (parse_u64(a, v, &o.random))
				return 2;
		} else if (!strcmp(a, "--mark-prefix")) {
			o.mark_prefix = v;
		} else if (!strcmp(a, "--only")) {
			if (parse_u64(a, v, &o.only))
				return 2;
		} else {
			fprintf(stderr, "vmfit-replay: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!o.size || !r.image) {
		fprintf(stderr, "vmfit-replay: run needs --size (non-zero) and --image\n");
		return 2;
	}
	if (!seeded)
		o.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	r.seed = o.seed;
	printf("vmfit-replay: seed %" PRIu64 "\n", o.seed);
	r.fd = open(r.image, O_RDWR | O_CREAT, 0600);
	if (r.fd < 0) {
		fprintf(stderr, "vmfit-replay: %s: %s\n", r.image, strerror(errno));
		return 2;
	}
	r.img = malloc(o.size);
	if (!r.img) {
		fprintf(stderr, "vmfit-replay: out of memory\n");
		close(r.fd);
		return 2;
	}
	rc = rp_replay(r.log, &o, emit, &r, &res, err, sizeof(err));
	free(r.img);
	close(r.fd);
	if (rc) {
		fprintf(stderr, "vmfit-replay: %s\n", err);
		return 2;
	}
	printf("vmfit-replay: %" PRIu64 " entries, %" PRIu64 " marks, %"
	       PRIu64 " states checked, %" PRIu64 " failed (seed %" PRIu64
	       ")\n", res.entries, res.marks, o.only ? !!res.states : res.states,
	       res.failed, o.seed);
	for (i = 0; i < r.nfailed; i++)
		printf("reproduce: vmfit-replay run %s --size %" PRIu64
		       " --image %s --seed %" PRIu64 " --marks %" PRIu64
		       " --random %" PRIu64 " --only %" PRIu64 "%s%s%s%s%s\n",
		       r.log, o.size, r.image, o.seed, o.marks, o.random,
		       r.failed_states[i],
		       o.mark_prefix ? " --mark-prefix " : "",
		       o.mark_prefix ? o.mark_prefix : "",
		       r.cmd ? " --exec '" : "",
		       r.cmd ? r.cmd : "", r.cmd ? "'" : "");
	if (!o.only && !res.states) {
		fprintf(stderr, "vmfit-replay: the log has no crash state to check (no mark)\n");
		return 1;
	}
	return res.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "info") && argc == 3)
		return cmd_scan(argv[2], 0);
	if (!strcmp(argv[1], "list") && argc == 3)
		return cmd_scan(argv[2], 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	fprintf(stderr, "vmfit-replay: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
