// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-stall - measure the I/O stall a dm-vmfit snapshot causes.
 *
 * For each snapshot of the watched device (the vmfit_snapshot_begin and
 * vmfit_snapshot_end tracepoints of dm-vmfit), report the longest time
 * between two consecutive bio completions on the device and the latency
 * histogram of those completions, in a window from --before ms before the
 * snapshot begins to --after ms after its view is ready, next to the
 * target's own held_ns and drain_ns. Documentation/vmfit-stall.rst tells
 * how to read it.
 *
 * The kernel half (vmfit-stall.bpf.c) streams events through a ring
 * buffer; the windows are kept by stall.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmfit-stall.h"
#include "vmfit-stall.skel.h"
#include "stall.h"

#define PROG	"vmfit-stall"
#define MSEC	1000000ULL

static const char usage_text[] =
"Usage: vmfit-stall [-j] [-b MS] [-a MS] [-t MS] [-c N] [-d S] [-v] DEVICE\n"
"\n"
"Measure, for each snapshot of a dm-vmfit device, the longest gap between\n"
"bio completions on the device and their latency histogram, in a window\n"
"around the snapshot, next to the target's own held and drain times.\n"
"DEVICE is the live vmfit device: /dev/mapper/NAME, /dev/dm-N or MAJ:MIN.\n"
"\n"
"  -j, --json           one JSON object per snapshot, one a line\n"
"  -b, --before=MS      the window starts MS before the snapshot (1000)\n"
"  -a, --after=MS       ... and ends MS after the view is ready (1000)\n"
"  -t, --timeout=MS     stop waiting for the view after MS (10000)\n"
"  -c, --count=N        exit after N snapshots\n"
"  -d, --duration=S     exit after S seconds\n"
"  -v, --verbose        libbpf debug output and merge progress on stderr\n"
"  -h, --help           this text\n"
"\n"
"EXAMPLES:\n"
"    vmfit-stall /dev/mapper/live          # a table per snapshot, Ctrl-C ends\n"
"    vmfit-stall -j -c 3 /dev/mapper/live  # JSON for the next 3 snapshots\n"
"    vmfit-stall -b 200 -a 200 253:4       # a narrower window\n";

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "before", required_argument, NULL, 'b' },
	{ "after", required_argument, NULL, 'a' },
	{ "timeout", required_argument, NULL, 't' },
	{ "count", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct env {
	const char *device;
	__u32 dev;		/* kernel dev_t */
	bool json;
	bool verbose;
	unsigned long long count;	/* 0: unlimited */
	unsigned long long duration;	/* seconds, 0: unlimited */
	struct stall_config cfg;
};

struct ctx {
	struct env *env;
	struct stall_tracker tracker;
	unsigned long long printed;
	int err;
};

static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	exiting = 1;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 *--------------------------------------------------------------
 * Arguments
 *--------------------------------------------------------------
 */
static int parse_u64(const char *opt, const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	*v = strtoull(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		goto bad;
	return 0;
bad:
	fprintf(stderr, PROG ": invalid %s '%s' (want an integer in %llu..%llu)\n",
		opt, s, min, max);
	return -EINVAL;
}

/* parse_device - DEVICE (a block device path or MAJ:MIN) to a kernel dev_t. */
static int parse_device(const char *arg, __u32 *dev)
{
	unsigned int maj, min;
	char path[64], c;
	struct stat st;

	if (sscanf(arg, "%u:%u%c", &maj, &min, &c) != 2) {
		if (stat(arg, &st)) {
			fprintf(stderr, PROG ": %s: %s\n", arg, strerror(errno));
			return -errno;
		}
		if (!S_ISBLK(st.st_mode)) {
			fprintf(stderr, PROG ": %s: not a block device\n", arg);
			return -ENOTBLK;
		}
		maj = major(st.st_rdev);
		min = minor(st.st_rdev);
	}
	if (maj >= 1U << 12 || min >= 1U << 20) {
		fprintf(stderr, PROG ": %s: device number out of range\n", arg);
		return -ERANGE;
	}
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm", maj, min);
	if (access(path, F_OK)) {
		fprintf(stderr, PROG ": %s (%u:%u): not a device-mapper device\n",
			arg, maj, min);
		return -ENODEV;
	}
	*dev = maj << 20 | min;
	return 0;
}

static int parse_args(int argc, char **argv, struct env *env)
{
	unsigned long long v;
	int opt;

	stall_config_default(&env->cfg);
	while ((opt = getopt_long(argc, argv, "jb:a:t:c:d:vh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			env->json = true;
			break;
		case 'b':
			if (parse_u64("--before", optarg, 0, 60000, &v))
				return -EINVAL;
			env->cfg.pre_ns = v * MSEC;
			break;
		case 'a':
			if (parse_u64("--after", optarg, 0, 60000, &v))
				return -EINVAL;
			env->cfg.post_ns = v * MSEC;
			break;
		case 't':
			if (parse_u64("--timeout", optarg, 1, 3600000, &v))
				return -EINVAL;
			env->cfg.end_timeout_ns = v * MSEC;
			break;
		case 'c':
			if (parse_u64("--count", optarg, 1, ULLONG_MAX,
				      &env->count))
				return -EINVAL;
			break;
		case 'd':
			if (parse_u64("--duration", optarg, 1, 31536000,
				      &env->duration))
				return -EINVAL;
			break;
		case 'v':
			env->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n",
			optind == argc ? "missing DEVICE" : "too many arguments");
		return -EINVAL;
	}
	if (env->cfg.end_timeout_ns < env->cfg.post_ns) {
		fprintf(stderr, PROG ": --timeout must not be shorter than --after\n");
		return -EINVAL;
	}
	env->device = argv[optind];
	return parse_device(env->device, &env->dev);
}

/*
 *--------------------------------------------------------------
 * Events
 *--------------------------------------------------------------
 */
static void emit_record(const struct stall_record *r, void *arg)
{
	struct ctx *ctx = arg;
	int64_t off;

	if (ctx->env->count && ctx->printed >= ctx->env->count)
		return;
	if (ctx->env->json) {
		off = (int64_t)(clock_ns(CLOCK_REALTIME) -
				clock_ns(CLOCK_MONOTONIC));
		stall_print_json(stdout, r, off);
	} else {
		stall_print_text(stdout, r);
	}
	fflush(stdout);
	ctx->printed++;
}

static int handle_event(void *arg, void *data, size_t size)
{
	const struct stall_event *e = data;
	struct ctx *ctx = arg;
	int r = 0;

	if (size < sizeof(*e))
		return 0;
	switch (e->type) {
	case STALL_EV_IO:
		r = stall_io(&ctx->tracker, e->ts,
			     e->a == STALL_LAT_UNKNOWN ? STALL_LAT_NONE : e->a);
		break;
	case STALL_EV_SNAP_BEGIN:
		if (stall_snap_begin(&ctx->tracker, e->dev, e->ts, e->a))
			fprintf(stderr, PROG ": warning: %u snapshots at once, epoch %llu not measured\n",
				STALL_MAX_WINDOWS, (unsigned long long)e->a);
		break;
	case STALL_EV_SNAP_END:
		stall_snap_end(&ctx->tracker, e->dev, e->ts, e->a, e->b, e->c);
		break;
	case STALL_EV_MERGE:
		if (ctx->env->verbose)
			fprintf(stderr, PROG ": merge %llu/%llu\n",
				(unsigned long long)e->a,
				(unsigned long long)e->b);
		break;
	}
	if (r) {
		ctx->err = r;
		return r;
	}
	return 0;
}

/* The sum of the per-CPU loss counters. */
static int read_lost(int fd, __u64 *vals, int ncpus, uint64_t *total)
{
	__u32 zero = 0;
	int i;

	if (bpf_map_lookup_elem(fd, &zero, vals))
		return -errno;
	*total = 0;
	for (i = 0; i < ncpus; i++)
		*total += vals[i];
	return 0;
}

static bool done(const struct ctx *ctx, uint64_t started)
{
	const struct env *env = ctx->env;

	if (env->count && ctx->printed >= env->count)
		return true;
	return env->duration &&
	       clock_ns(CLOCK_MONOTONIC) - started >= env->duration * 1000 * MSEC;
}

int main(int argc, char **argv)
{
	struct env env = { 0 };
	struct ctx ctx = { .env = &env };
	struct vmfit_stall_bpf *obj = NULL;
	struct ring_buffer *rb = NULL;
	__u64 *lost_vals = NULL;
	uint64_t started, now = 0, lost = 0;
	bool tracker = false;
	int err, ncpus;

	if (parse_args(argc, argv, &env))
		return EXIT_FAILURE;
	if (env.verbose)
		libbpf_set_print(libbpf_print_fn);
	else
		libbpf_set_print(NULL);

	err = stall_tracker_init(&ctx.tracker, &env.cfg, emit_record, &ctx);
	if (err) {
		fprintf(stderr, PROG ": %s\n", strerror(-err));
		goto cleanup;
	}
	tracker = true;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		err = ncpus;
		fprintf(stderr, PROG ": cannot count the CPUs: %s\n",
			strerror(-err));
		goto cleanup;
	}
	lost_vals = calloc(ncpus, sizeof(*lost_vals));
	if (!lost_vals) {
		err = -ENOMEM;
		fprintf(stderr, PROG ": %s\n", strerror(-err));
		goto cleanup;
	}

	obj = vmfit_stall_bpf__open();
	if (!obj) {
		err = -errno;
		fprintf(stderr, PROG ": cannot open the BPF object: %s\n",
			strerror(-err));
		goto cleanup;
	}
	obj->rodata->targ_dev = env.dev;

	err = vmfit_stall_bpf__load(obj);
	if (err) {
		fprintf(stderr, PROG ": cannot load the BPF programs: %s (root? a kernel with BPF and BTF? -v tells more)\n",
			strerror(-err));
		goto cleanup;
	}
	err = vmfit_stall_bpf__attach(obj);
	if (err) {
		fprintf(stderr, PROG ": cannot attach to the tracepoints: %s (is dm-vmfit loaded?)\n",
			strerror(-err));
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(obj->maps.events), handle_event,
			      &ctx, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, PROG ": cannot create the ring buffer: %s\n",
			strerror(-err));
		goto cleanup;
	}

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	fprintf(stderr, PROG ": tracing %s (%u:%u)... Hit Ctrl-C to end.\n",
		env.device, env.dev >> 20, env.dev & 0xfffff);
	if (!env.json) {
		stall_print_header(stdout);
		fflush(stdout);
	}

	started = clock_ns(CLOCK_MONOTONIC);
	while (!exiting && !done(&ctx, started)) {
		err = ring_buffer__poll(rb, 100);
		if (err >= 0 || err == -EINTR) {
			/*
			 * A window closes once the clock is past its end
			 * (plus slack): read the clock first, then everything
			 * committed up to then, so that no completion of the
			 * window is still in the ring when it closes, however
			 * long this process was off the CPU since the poll.
			 */
			now = clock_ns(CLOCK_MONOTONIC);
			err = ring_buffer__consume(rb);
		}
		if (ctx.err) {
			err = ctx.err;
			fprintf(stderr, PROG ": %s\n", strerror(-err));
			goto cleanup;
		}
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, PROG ": polling the ring buffer: %s\n",
				strerror(-err));
			goto cleanup;
		}
		err = read_lost(bpf_map__fd(obj->maps.lost), lost_vals, ncpus,
				&lost);
		if (err) {
			fprintf(stderr, PROG ": reading the loss counter: %s\n",
				strerror(-err));
			goto cleanup;
		}
		stall_lost(&ctx.tracker, now, lost);
		stall_tick(&ctx.tracker, now);
	}
	err = 0;
	/* Stopped before --count records: what is open, marked truncated. */
	if (!env.count || ctx.printed < env.count)
		stall_flush(&ctx.tracker, clock_ns(CLOCK_MONOTONIC));
	if (env.verbose && ctx.tracker.orphan_ends)
		fprintf(stderr, PROG ": %llu snapshot ends without a begin (the tool started mid-snapshot)\n",
			(unsigned long long)ctx.tracker.orphan_ends);

cleanup:
	ring_buffer__free(rb);
	vmfit_stall_bpf__destroy(obj);
	free(lost_vals);
	if (tracker)
		stall_tracker_destroy(&ctx.tracker);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
