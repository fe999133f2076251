// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_nl - vmfit-ctl commands that use dm-vmfit's generic netlink family
 * (libvmfit's vf_nl): checksum and events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "vf_conf.h"
#include "ctl_json.h"
#include "ctl_parse.h"
#include "vf_csum.h"
#include "vf_merkle.h"
#include "vf_nl.h"

/* How long `checksum` waits for a draining snapshot to become ready. */
#define CSUM_DRAIN_WAIT_MS 10000

/* NAME or MAJOR:MINOR; 0 or a misuse status. */
static int parse_dev(const struct command *cmd, const char *arg,
		     struct vf_nl_dev *dev)
{
	const char *why = "";
	const char *colon = strchr(arg, ':');
	uint64_t major, minor;
	char buf[24];

	memset(dev, 0, sizeof(*dev));
	if (colon && (size_t)(colon - arg) < sizeof(buf)) {
		memcpy(buf, arg, colon - arg);
		buf[colon - arg] = '\0';
		if (ctl_parse_uint(buf, 4095, &major, &why) ||
		    ctl_parse_uint(colon + 1, 1048575, &minor, &why) ||
		    !major)
			return misuse(cmd, "invalid device number '%s': %s",
				      arg, *why ? why : "major is zero");
		dev->has_devno = true;
		dev->major = major;
		dev->minor = minor;
		return 0;
	}
	if (ctl_check_name(arg, &why))
		return misuse(cmd, "invalid device name '%s': %s", arg, why);
	dev->name = arg;
	return 0;
}

/* A failure with the kernel's extack message (or vf_nl's hint). */
static int nl_fail(const struct ctl *c, const struct command *cmd,
		   const char *what, int err, const struct vf_nl *nl)
{
	const char *msg = vf_nl_errmsg(nl);

	if (err == -EPERM && !*msg)
		msg = "needs CAP_SYS_ADMIN (run as root)";
	if (*msg)
		return fail(c, cmd, what, err, "%s", msg);
	return fail(c, cmd, what, err, NULL);
}

static int nl_open(const struct ctl *c, const struct command *cmd,
		   struct vf_nl **nl)
{
	int r = vf_nl_open(nl);

	if (!r)
		return 0;
	if (r == -ENOENT)
		fail(c, cmd, "dm-vmfit", r, "%s; try: vmfit-ctl load",
		     vf_nl_errmsg(*nl));
	else
		nl_fail(c, cmd, "generic netlink", r, *nl);
	vf_nl_close(*nl);
	*nl = NULL;
	return EXIT_FAILURE;
}

static void hex(char *out, const uint8_t *d, unsigned int n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/*----------------------------------------------------------------*/

struct csum_out {
	const struct ctl *c;
	struct ctl_json *j;
	bool quiet;
	bool merkle;
	uint8_t *leaves;	/* VF_MERKLE_DIGEST_SIZE each, zero-padded */
	size_t nleaves;
	size_t cap;
};

static int csum_digest(uint64_t chunk, const uint8_t *digest,
		       unsigned int size, void *arg)
{
	struct csum_out *o = arg;
	char h[2 * VMFIT_DIGEST_MAX + 1];

	if (o->merkle) {
		if (o->nleaves == o->cap) {
			size_t cap = o->cap ? 2 * o->cap : 4096;
			uint8_t *p = realloc(o->leaves,
					     cap * VF_MERKLE_DIGEST_SIZE);

			if (!p)
				return -ENOMEM;
			o->leaves = p;
			o->cap = cap;
		}
		/* Leaf = digest, zero-padded to 32 bytes (short algorithms). */
		memset(o->leaves + o->nleaves * VF_MERKLE_DIGEST_SIZE, 0,
		       VF_MERKLE_DIGEST_SIZE);
		memcpy(o->leaves + o->nleaves * VF_MERKLE_DIGEST_SIZE, digest,
		       size < VF_MERKLE_DIGEST_SIZE ? size :
		       VF_MERKLE_DIGEST_SIZE);
		o->nleaves++;
	}
	if (o->quiet)
		return 0;
	hex(h, digest, size);
	if (o->j) {
		ctl_json_arr_begin(o->j, NULL);
		ctl_json_u64(o->j, NULL, chunk);
		ctl_json_str(o->j, NULL, h);
		ctl_json_arr_end(o->j);
	} else {
		printf("%" PRIu64 " %s\n", chunk, h);
	}
	return 0;
}

int cmd_checksum(struct ctl *c, const struct command *cmd, int argc,
		 char **argv)
{
	static const struct option opts[] = {
		{ "changed", no_argument, NULL, 'c' },
		{ "algo", required_argument, NULL, 'a' },
		{ "merkle", no_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "first", required_argument, NULL, 'f' },
		{ "last", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vf_nl_csum_req req = { .algo = VMFIT_CSUM_SHA256 };
	struct csum_out o = { .c = c };
	struct vf_merkle *tree = NULL;
	struct vf_nl *nl = NULL;
	struct vf_nl_dev dev;
	struct ctl_json j;
	struct vf_nl_csum_info info = { 0 };
	unsigned int waited = 0;
	const char *why = "";
	char h[2 * VMFIT_DIGEST_MAX + 1];
	long n;
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "ca:mqf:l:w:", opts,
			       &done)) != -1) {
		switch (opt) {
		case 'c':
			req.flags |= VMFIT_CSUM_F_CHANGED;
			break;
		case 'a':
			if (vf_csum_algo_parse(optarg, &req.algo))
				return misuse(cmd, "unknown algorithm '%s' "
					      "(sha256, blake2b-256, xxhash64, "
					      "crc32c)", optarg);
			break;
		case 'm':
			o.merkle = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'f':
		case 'l':
			if (ctl_parse_uint(optarg, UINT32_MAX,
					   opt == 'f' ? &req.first : &req.last,
					   &why))
				return misuse(cmd, "invalid chunk '%s': %s",
					      optarg, why);
			if (opt == 'f')
				req.has_first = true;
			else
				req.has_last = true;
			break;
		case 'w': {
			uint64_t w;

			if (ctl_parse_uint(optarg, VMFIT_CSUM_WORKERS_MAX, &w,
					   &why) || !w)
				return misuse(cmd, "invalid --workers '%s': %s",
					      optarg, *why ? why :
					      "must be 1 or more");
			req.workers = (uint32_t)w;
			break;
		}
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	if (req.has_first && req.has_last && req.first > req.last)
		return misuse(cmd, "--first %" PRIu64 " is after --last %"
			      PRIu64, req.first, req.last);
	r = parse_dev(cmd, argv[optind], &dev);
	if (r)
		return r;
	if (nl_open(c, cmd, &nl))
		return EXIT_FAILURE;

	if (c->json) {
		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "device", argv[optind]);
		ctl_json_str(&j, "algo", vf_csum_algo_name(req.algo));
		ctl_json_bool(&j, "changed_only",
			      req.flags & VMFIT_CSUM_F_CHANGED);
		if (!o.quiet)
			ctl_json_arr_begin(&j, "digests");
		o.j = &j;
	}
	for (;;) {
		n = vf_nl_checksum(nl, &dev, &req, csum_digest, &o, &info);
		/* A fresh snapshot is still draining: wait for its view. */
		if (n != -EAGAIN || waited >= CSUM_DRAIN_WAIT_MS)
			break;
		sleep_ms(100);
		waited += 100;
	}
	if (n < 0) {
		if (c->json) {
			/* Close the document so the output stays JSON. */
			if (!o.quiet)
				ctl_json_arr_end(&j);
			ctl_json_str(&j, "error", vf_nl_errmsg(nl));
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		}
		r = nl_fail(c, cmd, argv[optind], (int)n, nl);
		goto out;
	}
	if (o.merkle) {
		r = vf_merkle_build(o.leaves, o.nleaves, &tree);
		if (r) {
			r = fail(c, cmd, "merkle tree", r, NULL);
			goto out;
		}
		hex(h, vf_merkle_root(tree), VF_MERKLE_DIGEST_SIZE);
	}
	if (c->json) {
		if (!o.quiet)
			ctl_json_arr_end(&j);
		ctl_json_u64(&j, "digest_size", info.digest_size);
		ctl_json_u64(&j, "workers", info.workers);
		ctl_json_u64(&j, "chunks", (uint64_t)n);
		if (o.merkle)
			ctl_json_str(&j, "merkle_root", h);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else if (o.merkle) {
		printf("merkle-root %s\n", h);
	}
	r = EXIT_SUCCESS;
out:
	vf_merkle_free(tree);
	free(o.leaves);
	vf_nl_close(nl);
	return r;
}

/*----------------------------------------------------------------*/


static void print_event(const struct ctl *c, const struct vf_nl_event *ev)
{
	const char *name = vf_nl_event_name(ev->cmd);
	struct ctl_json j;

	if (c->json) {
		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "event", name);
		ctl_json_str(&j, "device", ev->name);
		ctl_json_u64(&j, "major", ev->major);
		ctl_json_u64(&j, "minor", ev->minor);
		if (ev->present & VF_NL_EV_EPOCH)
			ctl_json_u64(&j, "epoch", ev->epoch);
		if (ev->present & VF_NL_EV_HELD)
			ctl_json_u64(&j, "held_ns", ev->held_ns);
		if (ev->present & VF_NL_EV_DRAIN)
			ctl_json_u64(&j, "drain_ns", ev->drain_ns);
		if (ev->present & VF_NL_EV_CSUM) {
			ctl_json_u64(&j, "checksum_done", ev->csum_done);
			ctl_json_u64(&j, "checksum_total", ev->csum_total);
		}
		if (ev->present & VF_NL_EV_COW) {
			ctl_json_u64(&j, "cow_used", ev->cow_used);
			ctl_json_u64(&j, "cow_total", ev->cow_total);
		}
		if (ev->present & VF_NL_EV_HEALTH)
			ctl_json_str(&j, "health",
				     vf_nl_health_name(ev->health));
		if (ev->present & VF_NL_EV_ERROR)
			ctl_json_u64(&j, "error", ev->error);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else {
		printf("%s %s (%u:%u)", name, ev->name, ev->major, ev->minor);
		if (ev->present & VF_NL_EV_EPOCH)
			printf(" epoch=%" PRIu64, ev->epoch);
		if (ev->present & VF_NL_EV_HELD)
			printf(" held_ns=%" PRIu64, ev->held_ns);
		if (ev->present & VF_NL_EV_DRAIN)
			printf(" drain_ns=%" PRIu64, ev->drain_ns);
		if (ev->present & VF_NL_EV_CSUM)
			printf(" done=%" PRIu64 "/%" PRIu64, ev->csum_done,
			       ev->csum_total);
		if (ev->present & VF_NL_EV_COW)
			printf(" cow=%" PRIu64 "/%" PRIu64, ev->cow_used,
			       ev->cow_total);
		if (ev->present & VF_NL_EV_HEALTH)
			printf(" health=%s", vf_nl_health_name(ev->health));
		if (ev->present & VF_NL_EV_ERROR)
			printf(" error=%s", ev->error ? strerror(ev->error) :
			       "none");
		putchar('\n');
	}
	fflush(stdout);
}

int cmd_events(struct ctl *c, const struct command *cmd, int argc,
	       char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "manager", no_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	bool manager = false;
	struct vf_nl_event ev;
	struct vf_nl *nl = NULL;
	uint64_t count = 0, timeout = 0;
	struct events_wait w;
	const char *why = "";
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "n:t:Mc:", opts,
			       &done)) != -1) {
		switch (opt) {
		case 'M':
			manager = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 'n':
			if (ctl_parse_uint(optarg, UINT32_MAX, &count, &why) ||
			    !count)
				return misuse(cmd, "invalid count '%s': %s",
					      optarg, *why ? why : "zero");
			break;
		case 't':
			r = opt_timeout(cmd, optarg, 86400, false, &timeout);
			if (r)
				return r;
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	if (config && !manager)
		return misuse(cmd, "--config needs --manager");
	if (manager)
		return manager_events(c, cmd, config ? config :
				      VF_CONF_DEFAULT_PATH, count, timeout);
	if (nl_open(c, cmd, &nl))
		return EXIT_FAILURE;
	r = vf_nl_subscribe(nl);
	if (r) {
		r = nl_fail(c, cmd, "subscribe", r, nl);
		goto out;
	}
	events_listen(&w, count, timeout);
	r = EXIT_SUCCESS;
	while (events_more(c, cmd, &w, &r)) {
		done = vf_nl_next_event(nl, &ev, 500);
		if (done == -ETIMEDOUT || done == -EINTR)
			continue;
		if (done) {
			r = nl_fail(c, cmd, "events", done, nl);
			break;
		}
		print_event(c, &ev);
		w.seen++;
	}
out:
	vf_nl_close(nl);
	return r;
}
