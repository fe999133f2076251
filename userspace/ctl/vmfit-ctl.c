// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-ctl - operator CLI for dm-vmfit devices.
 *
 *	vmfit-ctl [global opts] <command> [opts] <args>
 *
 * Commands are rows of cmd_table[]: {name, fn, min_args, max_args, usage,
 * help}; `help` is generated from it. Each command parses its own options
 * with getopt_long (every one takes -h). Misuse exits 2 with one line and
 * before any device access; failures exit 1 with
 * "vmfit-ctl: <cmd>: <what>: <strerror>" and, where one helps, a hint line.
 * See Documentation/vmfit-ctl.8.rst.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_cmd.h"
#include "ctl_json.h"
#include "ctl_parse.h"
#include "ctl_transport.h"
#include "vf_dm.h"
#include "vf_kmod.h"
#include "vf_status.h"

#ifndef VMFIT_VERSION
#define VMFIT_VERSION "0.1.0"
#endif

#define PROG "vmfit-ctl"
/* struct ctl, struct command, EXIT_MISUSE: ctl_cmd.h (shared with cmd_nl.c). */

static const struct command cmd_table[];

/*----------------------------------------------------------------*/

/* One line on stderr and exit status 2. */
int misuse(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	if (cmd)
		fprintf(stderr, "%s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, " (usage: %s %s %s)\n", PROG, cmd->name,
			cmd->usage);
	else
		fputc('\n', stderr);
	return EXIT_MISUSE;
}

static const char *errstr(int err)
{
	switch (err) {
	case -EMEDIUMTYPE:
		return "Not a vmfit device";
	case -EPROTO:
		return "Unexpected reply from the target";
	default:
		return strerror(-err);
	}
}

/* "vmfit-ctl: <cmd>: <what>: <strerror>" [+ "  hint: ..."], exit 1. */
int fail(const struct ctl *c, const struct command *cmd, const char *what,
	 int err, const char *hint, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: %s: %s\n", PROG, cmd->name, what,
		errstr(err));
	if (hint) {
		fputs("  hint: ", stderr);
		va_start(ap, hint);
		vfprintf(stderr, hint, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (c->verbose && *vf_dm_last_error())
		fprintf(stderr, "  libdevmapper: %s\n", vf_dm_last_error());
	return EXIT_FAILURE;
}

/* Device errors shared by every command that names a device. */
static int fail_dev(const struct ctl *c, const struct command *cmd,
		    const char *name, int err)
{
	if (err == -ENODEV)
		return fail(c, cmd, name, err,
			    "no such device %s: see %s status", name, PROG);
	if (err == -ENXIO || err == -ENOENT)
		return fail(c, cmd, name, err,
			    "is dm-vmfit loaded? try: %s load", PROG);
	if (err == -EMEDIUMTYPE)
		return fail(c, cmd, name, err,
			    "%s status lists the vmfit devices", PROG);
	if (err == -EPROTO)
		return fail(c, cmd, name, err,
			    "the status line does not match this %s; "
			    "check the module version", PROG);
	return fail(c, cmd, name, err, NULL);
}

/*----------------------------------------------------------------*/

static void print_cmd_help(const struct command *cmd, FILE *f, bool full)
{
	fprintf(f, "usage: %s %s %s\n", PROG, cmd->name, cmd->usage);
	fprintf(f, "  %s\n", cmd->help);
	if (full && cmd->details)
		fprintf(f, "\n%s", cmd->details);
}

/*
 * getopt_long over a command's options, adding -h/--help. Returns the
 * option, -1 at the end, or 'h'/'?' after handling them: *@done then holds
 * the exit status the command must return.
 */
int next_opt(const struct command *cmd, int argc, char **argv,
	     const char *shortopts, const struct option *longopts, int *done)
{
	static const struct option help_opt[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char so[32];
	int opt;

	snprintf(so, sizeof(so), ":h%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, so, longopts ? longopts : help_opt,
			  NULL);
	switch (opt) {
	case 'h':
		print_cmd_help(cmd, stdout, true);
		*done = EXIT_SUCCESS;
		break;
	case '?':
		if (optopt)
			*done = misuse(cmd, "unknown option '-%c'", optopt);
		else
			*done = misuse(cmd, "unknown option '%s'",
				       argv[optind - 1]);
		break;
	case ':':
		*done = misuse(cmd, "option '%s' needs an argument",
			       argv[optind - 1]);
		opt = '?';
		break;
	}
	return opt;
}

/* Positional argument count against the table; 0 or a misuse status. */
int check_args(const struct command *cmd, int nargs)
{
	if (nargs < cmd->min_args)
		return misuse(cmd, "missing argument");
	if (cmd->max_args >= 0 && nargs > cmd->max_args)
		return misuse(cmd, "too many arguments");
	return 0;
}

static int check_name(const struct command *cmd, const char *name)
{
	const char *why = "";

	if (ctl_check_name(name, &why))
		return misuse(cmd, "invalid device name '%s': %s", name, why);
	return 0;
}

/* Options-free commands: just -h and the positional count. */
static int simple_opts(const struct command *cmd, int argc, char **argv,
		       int *done)
{
	int opt;

	while ((opt = next_opt(cmd, argc, argv, "", NULL, done)) != -1) {
		if (opt == 'h' || opt == '?')
			return -1;
		*done = misuse(cmd, "unknown option '%s'", argv[optind - 1]);
		return -1;
	}
	*done = check_args(cmd, argc - optind);
	return *done ? -1 : 0;
}

/*----------------------------------------------------------------*/

static void fmt_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (uint64_t)v)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void fmt_ms(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%.3f ms", (double)ns / 1e6);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*----------------------------------------------------------------*/

static int cmd_help(struct ctl *c, const struct command *cmd, int argc,
		    char **argv);

static const struct command *find_cmd(const char *name)
{
	const struct command *cmd;

	for (cmd = cmd_table; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

static void print_usage(FILE *f)
{
	const struct command *cmd;

	fprintf(f, "usage: %s [global options] <command> [options] <args>\n\n"
		"global options:\n"
		"  -j, --json       machine-readable output (one JSON document)\n"
		"  -v, --verbose    show libdevmapper's messages\n"
		"  -V, --version    print the version and exit\n"
		"  -h, --help       this text\n\n"
		"commands:\n", PROG);
	for (cmd = cmd_table; cmd->name; cmd++)
		fprintf(f, "  %-9s %s\n", cmd->name, cmd->help);
	fprintf(f, "\n\"%s help <command>\" describes one command.\n", PROG);
}

static int cmd_help(struct ctl *c, const struct command *cmd, int argc,
		    char **argv)
{
	const struct command *which;
	int done;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	if (optind == argc) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	which = find_cmd(argv[optind]);
	if (!which)
		return misuse(NULL, "Command \"%s\" is unknown, try \"%s help\".",
			      argv[optind], PROG);
	print_cmd_help(which, stdout, true);
	return EXIT_SUCCESS;
}

/*----------------------------------------------------------------*/

static int cmd_load(struct ctl *c, const struct command *cmd, int argc,
		    char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vf_kmod_report rep;
	const char *path = NULL;
	unsigned int ver[3];
	bool have_ver;
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "m:", opts, &done)) != -1) {
		switch (opt) {
		case 'm':
			if (!*optarg)
				return misuse(cmd, "empty module path");
			path = optarg;
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;

	r = vf_kmod_load(path, &rep);
	if (r) {
		if (r == -ENOENT && !path)
			return fail(c, cmd, VF_KMOD_NAME, r,
				    "not installed for this kernel; "
				    "try: %s load --module PATH/dm-vmfit.ko",
				    PROG);
		if (r == -EPERM || r == -EACCES)
			return fail(c, cmd, path ? path : VF_KMOD_NAME, r,
				    "loading modules needs root");
		if (r == -EINVAL && path && vf_kmod_is_loaded() == 0)
			return fail(c, cmd, path, r,
				    "not dm-vmfit, or built for another kernel "
				    "(see dmesg)");
		if (r == -ENOEXEC || r == -EINVAL)
			return fail(c, cmd, path ? path : VF_KMOD_NAME, r,
				    "built for another kernel? see dmesg");
		return fail(c, cmd, path ? path : VF_KMOD_NAME, r, NULL);
	}
	have_ver = !vf_dm_target_version(VF_DM_TARGET, ver);

	if (c->json) {
		struct ctl_json j;
		char *s = rep.loaded;
		char *tok;
		char *save = NULL;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "module", VF_KMOD_NAME);
		ctl_json_bool(&j, "already_loaded", rep.already);
		ctl_json_arr_begin(&j, "inserted");
		for (tok = strtok_r(s, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			ctl_json_str(&j, NULL, tok);
		ctl_json_arr_end(&j);
		if (have_ver) {
			char v[40];

			snprintf(v, sizeof(v), "%u.%u.%u", ver[0], ver[1],
				 ver[2]);
			ctl_json_str(&j, "target_version", v);
		} else {
			ctl_json_null(&j, "target_version");
		}
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else if (rep.already) {
		printf("%s: already loaded", VF_KMOD_NAME);
	} else {
		printf("%s: loaded %s (inserted: %s)", VF_KMOD_NAME,
		       path ? path : "from the module tree",
		       rep.loaded[0] ? rep.loaded : "none");
	}
	if (!c->json) {
		if (have_ver)
			printf(", target vmfit %u.%u.%u\n", ver[0], ver[1],
			       ver[2]);
		else
			printf("\n");
	}
	return EXIT_SUCCESS;
}

/*----------------------------------------------------------------*/

/* What a device-creating ioctl failure most likely means. */
static int fail_create(const struct ctl *c, const struct command *cmd,
		       const char *name, int err)
{
	unsigned int ver[3];

	if (err == -EEXIST)
		return fail(c, cmd, name, err,
			    "pick another name or remove it: %s remove %s",
			    PROG, name);
	if (err == -ENXIO || vf_dm_target_version(VF_DM_TARGET, ver))
		return fail(c, cmd, name, err,
			    "is dm-vmfit loaded? try: %s load", PROG);
	if (err == -EINVAL)
		return fail(c, cmd, name, err,
			    "the target rejected the table; its reason is "
			    "in the kernel log (dmesg)");
	return fail(c, cmd, name, err, NULL);
}

static int print_action(const struct ctl *c, const char *name,
			const char *action, const char *text);

static int cmd_create(struct ctl *c, const struct command *cmd, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "ignore-discard", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int chunk = CTL_CHUNK_DEFAULT >> 9;
	const char *features = NULL;
	const char *name, *origin, *cow;
	const char *why = "";
	struct stat so, sc;
	char text[600];
	char cbuf[32];
	int done = 0;
	int opt;
	int r;

	/* Options may follow the positional arguments here. */
	while ((opt = next_opt(cmd, argc, argv, "c:", opts, &done)) != -1) {
		switch (opt) {
		case 'c':
			if (ctl_parse_chunk_size(optarg, &chunk, &why))
				return misuse(cmd, "invalid chunk size '%s': %s",
					      optarg, why);
			break;
		case 'D':
			features = "ignore_discard";
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	name = argv[optind];
	origin = argv[optind + 1];
	cow = argv[optind + 2];
	r = check_name(cmd, name);
	if (r)
		return r;
	if (!*origin || !*cow)
		return misuse(cmd, "empty device path");

	if (stat(origin, &so))
		return fail(c, cmd, origin, -errno, NULL);
	if (stat(cow, &sc))
		return fail(c, cmd, cow, -errno, NULL);
	if (S_ISBLK(so.st_mode) && S_ISBLK(sc.st_mode) &&
	    so.st_rdev == sc.st_rdev)
		return fail(c, cmd, cow, -EINVAL,
			    "the origin and the cow must be different devices");

	r = vf_dm_create_vmfit(name, origin, cow, chunk, features);
	if (r)
		return fail_create(c, cmd, name, r);
	fmt_bytes(cbuf, sizeof(cbuf), (uint64_t)chunk << 9);
	snprintf(text, sizeof(text),
		 "created vmfit device over %s (cow %s, chunk %s%s)", origin,
		 cow, cbuf, features ? ", discards ignored" : "");
	return print_action(c, name, "create", text);
}

static int cmd_view(struct ctl *c, const struct command *cmd, int argc,
		    char **argv)
{
	struct vf_status st;
	char defname[VF_DM_NAME_MAX + 16];
	const char *vname = defname;
	char text[300];
	const char *name;
	int done;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;
	if (optind + 1 < argc) {
		vname = argv[optind + 1];
	} else {
		snprintf(defname, sizeof(defname), "%s-view", name);
		if (strlen(defname) > VF_DM_NAME_MAX)
			return misuse(cmd, "'%s-view' is too long: give "
				      "VIEWNAME", name);
	}
	r = check_name(cmd, vname);
	if (r)
		return r;

	r = c->tp->status(name, &st);
	if (r)
		return fail_dev(c, cmd, name, r);
	if (st.mode != VF_MODE_SNAPSHOT)
		return fail(c, cmd, name, -EINVAL,
			    "%s has no active snapshot (mode %s); take one: "
			    "%s snapshot %s", name, vf_mode_name(st.mode),
			    PROG, name);
	r = vf_dm_create_view(vname, name);
	if (r)
		return fail_create(c, cmd, vname, r);
	/* Report the view's state as it is now. */
	if (!c->tp->status(name, &st))
		snprintf(text, sizeof(text),
			 "created read-only frozen view of %s (view %s)", name,
			 vf_view_name(st.view));
	else
		snprintf(text, sizeof(text),
			 "created read-only frozen view of %s", name);
	return print_action(c, vname, "view", text);
}

/* Names of the vmfit-view devices over @live, space-separated. */
static void views_of(const char *live, char *buf, size_t size);

static int cmd_remove(struct ctl *c, const struct command *cmd, int argc,
		      char **argv)
{
	struct vf_dm_target t;
	const char *name;
	char views[256];
	int done;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;
	/*
	 * Only ours: never some other target's device by a typo. A device
	 * without a table (a create cut short) may go.
	 */
	r = vf_dm_table(name, &t);
	if (r == -ENODATA) {
		r = 0;
	} else if (!r) {
		if (strcmp(t.type, VF_DM_TARGET) &&
		    strcmp(t.type, VF_DM_VIEW_TARGET))
			r = -EMEDIUMTYPE;
		vf_dm_target_free(&t);
	}
	if (!r)
		r = vf_dm_remove(name);
	if (r == -EBUSY) {
		views_of(name, views, sizeof(views));
		if (views[0])
			return fail(c, cmd, name, r,
				    "views use it; remove them first: %s "
				    "remove %s", PROG, views);
		return fail(c, cmd, name, r, "the device is open");
	}
	if (r)
		return fail_dev(c, cmd, name, r);
	return print_action(c, name, "remove", "removed");
}

/*----------------------------------------------------------------*/

static int print_action(const struct ctl *c, const char *name,
			const char *action, const char *text)
{
	struct ctl_json j;
	struct vf_status st;
	bool have_st = false;

	if (!c->json) {
		printf("%s: %s\n", name, text);
		return EXIT_SUCCESS;
	}
	if (strcmp(action, "remove"))
		have_st = !c->tp->status(name, &st);
	ctl_json_init(&j, stdout);
	ctl_json_obj_begin(&j, NULL);
	ctl_json_str(&j, "name", name);
	ctl_json_str(&j, "action", action);
	if (have_st) {
		ctl_json_str(&j, "mode", vf_mode_name(st.mode));
		ctl_json_u64(&j, "epoch", st.epoch);
		ctl_json_str(&j, "view", vf_view_name(st.view));
	}
	ctl_json_obj_end(&j);
	ctl_json_end(&j);
	return EXIT_SUCCESS;
}

/* Hints for the target's refusals, per verb (see dm-vmfit.rst). */
static const char *verb_hint(enum ctl_verb verb, int err)
{
	switch (verb) {
	case CTL_SNAPSHOT:
		if (err == -EBUSY)
			return "a snapshot is already active or a merge is "
			       "running; see " PROG " status";
		break;
	case CTL_MERGE:
	case CTL_DROP:
		if (err == -EINVAL)
			return "no snapshot is active; see " PROG " status";
		if (err == -EBUSY)
			return "a vmfit-view is open on it; remove the view "
			       "first";
		break;
	case CTL_CLEAR:
		if (err == -EBUSY)
			return "clear works in normal mode only; see " PROG
			       " status";
		break;
	}
	return NULL;
}

static int do_verb(struct ctl *c, const struct command *cmd,
		   const char *name, enum ctl_verb verb)
{
	const char *hint;
	int r;

	r = c->tp->control(name, verb);
	if (!r)
		return 0;
	hint = verb_hint(verb, r);
	if (hint)
		fail(c, cmd, name, r, "%s", hint);
	else
		fail_dev(c, cmd, name, r);
	return EXIT_FAILURE;
}

static int cmd_verb(struct ctl *c, const struct command *cmd, int argc,
		    char **argv, enum ctl_verb verb)
{
	struct vf_status st;
	const char *name;
	char text[200];
	int done;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;
	r = do_verb(c, cmd, name, verb);
	if (r)
		return r;

	r = c->tp->status(name, &st);
	switch (verb) {
	case CTL_SNAPSHOT:
		if (r)
			snprintf(text, sizeof(text), "snapshot taken");
		else
			snprintf(text, sizeof(text),
				 "snapshot taken, epoch %" PRIu64 " (view %s)",
				 st.epoch, vf_view_name(st.view));
		break;
	case CTL_DROP:
		snprintf(text, sizeof(text),
			 "snapshot dropped: writes since it are discarded");
		break;
	case CTL_CLEAR:
		snprintf(text, sizeof(text), "changed set cleared");
		break;
	default:
		snprintf(text, sizeof(text), "%s done", ctl_verb_name(verb));
	}
	return print_action(c, name, cmd->name, text);
}

static int cmd_snapshot(struct ctl *c, const struct command *cmd, int argc,
			char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_SNAPSHOT);
}

static int cmd_drop(struct ctl *c, const struct command *cmd, int argc,
		    char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_DROP);
}

static int cmd_clear(struct ctl *c, const struct command *cmd, int argc,
		     char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_CLEAR);
}

#define MERGE_POLL_MS 100

static int cmd_merge(struct ctl *c, const struct command *cmd, int argc,
		     char **argv)
{
	static const struct option opts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool wait = false;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t timeout = 0;
	uint64_t last_merged = UINT64_MAX;
	struct vf_status st;
	const char *why = "";
	const char *name;
	double t0;
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "wt:", opts, &done)) != -1) {
		switch (opt) {
		case 'w':
			wait = true;
			break;
		case 't':
			if (ctl_parse_uint(optarg, 86400 * 365, &timeout,
					   &why))
				return misuse(cmd, "invalid timeout '%s': %s",
					      optarg, why);
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	if (timeout && !wait)
		return misuse(cmd, "--timeout needs --wait");
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;

	t0 = now_s();
	r = do_verb(c, cmd, name, CTL_MERGE);
	if (r)
		return r;
	if (!wait)
		return print_action(c, name, "merge",
				    "merge started; follow it with: "
				    PROG " status");

	for (;;) {
		r = c->tp->status(name, &st);
		if (r)
			return fail_dev(c, cmd, name, r);
		if (st.health == VF_HEALTH_FAIL)
			return fail(c, cmd, name, -EIO,
				    "the target failed during the merge; see "
				    "dmesg");
		if (st.mode != VF_MODE_MERGING)
			break;
		if (!c->json && st.merged != last_merged) {
			printf("%smerge %s: %" PRIu64 "/%" PRIu64
			       " chunks (%.0f%%)%s", tty ? "\r" : "", name,
			       st.merged, st.to_merge,
			       pct(st.merged, st.to_merge), tty ? "" : "\n");
			fflush(stdout);
			last_merged = st.merged;
		}
		if (timeout && now_s() - t0 > (double)timeout) {
			if (tty && !c->json)
				printf("\n");
			return fail(c, cmd, name, -ETIMEDOUT,
				    "the merge goes on in the background; "
				    "see %s status %s", PROG, name);
		}
		sleep_ms(MERGE_POLL_MS);
	}
	if (tty && !c->json && last_merged != UINT64_MAX)
		printf("\n");
	if (st.mode != VF_MODE_NORMAL)
		return fail(c, cmd, name, -EIO,
			    "the merge stopped with the device in %s mode; "
			    "see dmesg", vf_mode_name(st.mode));
	return print_action(c, name, "merge",
			    "merge done, back in normal mode");
}

static int cmd_changed(struct ctl *c, const struct command *cmd, int argc,
		       char **argv)
{
	struct vf_ranges rs;
	struct vf_dm_target t = { 0 };
	struct vf_table tb;
	bool have_tb = false;
	const char *name;
	uint64_t chunks;
	int done;
	size_t i;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;

	vf_ranges_init(&rs);
	r = c->tp->changed(name, &rs);
	if (r) {
		vf_ranges_free(&rs);
		return fail_dev(c, cmd, name, r);
	}
	if (!vf_dm_table(name, &t) && !vf_table_parse(t.params, &tb))
		have_tb = true;
	vf_dm_target_free(&t);
	chunks = vf_ranges_count(&rs);

	if (c->json) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "name", name);
		if (have_tb)
			ctl_json_u64(&j, "chunk_size",
				     (uint64_t)tb.chunk_sectors << 9);
		ctl_json_u64(&j, "chunks", chunks);
		ctl_json_arr_begin(&j, "ranges");
		for (i = 0; i < rs.n; i++) {
			ctl_json_arr_begin(&j, NULL);
			ctl_json_u64(&j, NULL, rs.r[i].start);
			ctl_json_u64(&j, NULL, rs.r[i].end);
			ctl_json_arr_end(&j);
		}
		ctl_json_arr_end(&j);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else {
		char sz[32] = "";

		if (have_tb) {
			char b[24];

			fmt_bytes(b, sizeof(b), chunks * tb.chunk_sectors * 512);
			snprintf(sz, sizeof(sz), " (%s)", b);
		}
		printf("%s: %" PRIu64 " changed chunk%s%s in %zu range%s%s\n",
		       name, chunks, chunks == 1 ? "" : "s", sz, rs.n,
		       rs.n == 1 ? "" : "s", rs.n ? ":" : "");
		for (i = 0; i < rs.n; i++) {
			if (rs.r[i].start == rs.r[i].end)
				printf("%s%" PRIu64, i ? "," : "",
				       rs.r[i].start);
			else
				printf("%s%" PRIu64 "-%" PRIu64, i ? "," : "",
				       rs.r[i].start, rs.r[i].end);
		}
		if (rs.n)
			printf("\n");
	}
	vf_ranges_free(&rs);
	return EXIT_SUCCESS;
}

/*----------------------------------------------------------------*/

struct row {
	char name[VF_DM_NAME_MAX + 1];
	int err;			/* 0 or why the row has no status */
	struct vf_status st;
	struct vf_table tb;
	bool have_tb;
	uint64_t sectors;
	char views[256];		/* vmfit-view devices over it */
};

static void views_of(const char *live, char *buf, size_t size)
{
	struct vf_dm_info li;
	char **names = NULL;
	size_t n = 0;
	size_t i;
	size_t used = 0;

	buf[0] = '\0';
	if (vf_dm_info(live, &li) || !li.exists)
		return;
	if (vf_dm_list(&names, &n))
		return;
	for (i = 0; i < n; i++) {
		struct vf_dm_target t;
		struct vf_view_status vs;

		if (vf_dm_status(names[i], &t))
			continue;
		if (!strcmp(t.type, VF_DM_VIEW_TARGET) &&
		    !vf_view_status_parse(t.params, &vs) &&
		    vs.major == li.major && vs.minor == li.minor &&
		    used + strlen(names[i]) + 2 < size)
			used += snprintf(buf + used, size - used, "%s%s",
					 used ? " " : "", names[i]);
		vf_dm_target_free(&t);
	}
	vf_dm_names_free(names, n);
}

static void fill_row(const struct ctl *c, struct row *row, const char *name)
{
	struct vf_dm_target t;

	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->err = c->tp->status(name, &row->st);
	if (row->err)
		return;
	if (!vf_dm_table(name, &t)) {
		row->sectors = t.length;
		row->have_tb = !vf_table_parse(t.params, &row->tb);
		vf_dm_target_free(&t);
	}
	views_of(name, row->views, sizeof(row->views));
}

static void json_row(struct ctl_json *j, const struct row *row)
{
	const struct vf_status *st = &row->st;
	char *s;
	char *tok;
	char *save = NULL;

	ctl_json_obj_begin(j, NULL);
	ctl_json_str(j, "name", row->name);
	if (row->have_tb) {
		ctl_json_str(j, "origin", row->tb.origin);
		ctl_json_str(j, "cow", row->tb.cow);
		ctl_json_u64(j, "chunk_size",
			     (uint64_t)row->tb.chunk_sectors << 9);
	}
	ctl_json_u64(j, "size_sectors", row->sectors);
	ctl_json_str(j, "mode", vf_mode_name(st->mode));
	ctl_json_u64(j, "epoch", st->epoch);
	ctl_json_u64(j, "changed_chunks", st->changed);
	ctl_json_u64(j, "cow_used", st->cow_used);
	ctl_json_u64(j, "cow_total", st->cow_total);
	ctl_json_double(j, "cow_used_pct", pct(st->cow_used, st->cow_total));
	ctl_json_str(j, "view", vf_view_name(st->view));
	ctl_json_arr_begin(j, "view_devices");
	s = strdup(row->views);
	for (tok = s ? strtok_r(s, " ", &save) : NULL; tok;
	     tok = strtok_r(NULL, " ", &save))
		ctl_json_str(j, NULL, tok);
	free(s);
	ctl_json_arr_end(j);
	ctl_json_u64(j, "held_ns", st->held_ns);
	ctl_json_u64(j, "drain_ns", st->drain_ns);
	ctl_json_u64(j, "merged", st->merged);
	ctl_json_u64(j, "to_merge", st->to_merge);
	ctl_json_str(j, "health", vf_health_name(st->health));
	ctl_json_obj_end(j);
}

#define NCOLS 11

static void text_cells(const struct row *row, char cell[NCOLS][80])
{
	const struct vf_status *st = &row->st;

	snprintf(cell[0], 80, "%s", row->name);
	snprintf(cell[1], 80, "%s", vf_mode_name(st->mode));
	snprintf(cell[2], 80, "%" PRIu64, st->epoch);
	if (row->have_tb)
		fmt_bytes(cell[3], 80, (uint64_t)row->tb.chunk_sectors << 9);
	else
		snprintf(cell[3], 80, "?");
	snprintf(cell[4], 80, "%" PRIu64 " chunk%s", st->changed,
		 st->changed == 1 ? "" : "s");
	snprintf(cell[5], 80, "%" PRIu64 "/%" PRIu64 " (%.1f%%)", st->cow_used,
		 st->cow_total, pct(st->cow_used, st->cow_total));
	if (row->views[0])
		snprintf(cell[6], 80, "%s: %.60s", vf_view_name(st->view),
			 row->views);
	else
		snprintf(cell[6], 80, "%s", vf_view_name(st->view));
	fmt_ms(cell[7], 80, st->held_ns);
	fmt_ms(cell[8], 80, st->drain_ns);
	if (st->mode == VF_MODE_MERGING)
		snprintf(cell[9], 80, "%" PRIu64 "/%" PRIu64 " (%.0f%%)",
			 st->merged, st->to_merge,
			 pct(st->merged, st->to_merge));
	else
		snprintf(cell[9], 80, "-");
	snprintf(cell[10], 80, "%s", vf_health_name(st->health));
}

static void print_table(struct row *rows, size_t n)
{
	static const char *const head[NCOLS] = {
		"NAME", "MODE", "EPOCH", "CHUNK", "CHANGED", "COW USED",
		"VIEW", "HELD", "DRAIN", "MERGED", "HEALTH",
	};
	char (*cells)[NCOLS][80];
	size_t w[NCOLS];
	size_t i;
	size_t k;

	cells = calloc(n ? n : 1, sizeof(*cells));
	if (!cells)
		return;
	for (k = 0; k < NCOLS; k++)
		w[k] = strlen(head[k]);
	for (i = 0; i < n; i++) {
		text_cells(&rows[i], cells[i]);
		for (k = 0; k < NCOLS; k++)
			if (strlen(cells[i][k]) > w[k])
				w[k] = strlen(cells[i][k]);
	}
	for (k = 0; k < NCOLS; k++)
		printf("%-*s%s", k + 1 < NCOLS ? (int)w[k] : 0, head[k],
		       k + 1 < NCOLS ? "  " : "\n");
	for (i = 0; i < n; i++)
		for (k = 0; k < NCOLS; k++)
			printf("%-*s%s", k + 1 < NCOLS ? (int)w[k] : 0,
			       cells[i][k], k + 1 < NCOLS ? "  " : "\n");
	free(cells);
}

static int cmd_status(struct ctl *c, const struct command *cmd, int argc,
		      char **argv)
{
	struct row *rows = NULL;
	char **names = NULL;
	size_t nnames = 0;
	size_t nrows = 0;
	bool all;
	int ret = EXIT_SUCCESS;
	size_t i;
	int done;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	for (i = optind; i < (size_t)argc; i++) {
		r = check_name(cmd, argv[i]);
		if (r)
			return r;
	}
	all = optind == argc;
	if (all) {
		r = vf_dm_list(&names, &nnames);
		if (r == -ENXIO)
			return fail(c, cmd, "device-mapper", r,
				    "is dm-vmfit loaded? try: %s load", PROG);
		if (r)
			return fail(c, cmd, "device-mapper", r, NULL);
	} else {
		nnames = argc - optind;
	}
	rows = calloc(nnames ? nnames : 1, sizeof(*rows));
	if (!rows) {
		vf_dm_names_free(names, all ? nnames : 0);
		return fail(c, cmd, "status", -ENOMEM, NULL);
	}
	for (i = 0; i < nnames; i++) {
		const char *name = all ? names[i] : argv[optind + i];
		struct row *row = &rows[nrows];

		fill_row(c, row, name);
		/*
		 * Listing all: other targets, tableless devices and
		 * devices removed meanwhile are not ours to report.
		 */
		if (all && (row->err == -EMEDIUMTYPE ||
			    row->err == -ENODATA || row->err == -ENODEV))
			continue;
		if (row->err) {
			fail_dev(c, cmd, name, row->err);
			ret = EXIT_FAILURE;
			continue;
		}
		nrows++;
	}

	if (c->json) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_arr_begin(&j, "devices");
		for (i = 0; i < nrows; i++)
			json_row(&j, &rows[i]);
		ctl_json_arr_end(&j);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else if (nrows) {
		print_table(rows, nrows);
	} else if (all) {
		printf("no vmfit devices (create one: %s create NAME ORIGIN "
		       "COW)\n", PROG);
	}
	free(rows);
	vf_dm_names_free(names, all ? nnames : 0);
	return ret;
}

/*----------------------------------------------------------------*/

static const struct command cmd_table[] = {
	{ "help", cmd_help, 0, 1, "[COMMAND]",
	  "list the commands, or describe one", NULL },
	{ "load", cmd_load, 0, 0, "[--module PATH]",
	  "load dm-vmfit (and dm-mod); does nothing if it is loaded",
	  "  -m, --module PATH  insert this dm-vmfit.ko instead of the one\n"
	  "                     installed for the running kernel; its\n"
	  "                     dependencies still come from the module tree\n\n"
	  "Says what it did: which modules it inserted, or that dm-vmfit was\n"
	  "loaded already.\n" },
	{ "create", cmd_create, 3, 3,
	  "NAME ORIGIN COW [--chunk-size SIZE] [--ignore-discard]",
	  "create vmfit device NAME over ORIGIN with cow store COW",
	  "  -c, --chunk-size SIZE  chunk size in bytes, k or m suffix; a\n"
	  "                         power of two from 512 to 1m (default 4k)\n"
	  "  --ignore-discard       drop discards instead of passing them down\n\n"
	  "A COW whose first 4 KiB are zero is formatted; one that holds a\n"
	  "vmfit superblock is loaded with its changed set and snapshot.\n" },
	{ "view", cmd_view, 1, 2, "NAME [VIEWNAME]",
	  "create a read-only frozen view of NAME (default NAME-view)",
	  "NAME must have an active snapshot. The view reads the origin as\n"
	  "it was at the snapshot; merge and drop refuse while it exists.\n" },
	{ "remove", cmd_remove, 1, 1, "NAME",
	  "remove device NAME (a vmfit or a vmfit-view device)", NULL },
	{ "snapshot", cmd_snapshot, 1, 1, "NAME",
	  "freeze the origin of NAME; new writes go to the cow store",
	  "No table reload and no held I/O: the target switches epochs.\n"
	  "The view is ready once the old epoch's writes have drained.\n" },
	{ "merge", cmd_merge, 1, 1, "NAME [--wait [--timeout SECS]]",
	  "fold the cow store of NAME back into its origin",
	  "  -w, --wait          print progress until the merge is done\n"
	  "  -t, --timeout SECS  with --wait: give up waiting after SECS\n"
	  "                      (the merge itself goes on)\n\n"
	  "Refused without a snapshot or while a vmfit-view is open.\n" },
	{ "drop", cmd_drop, 1, 1, "NAME",
	  "end the snapshot of NAME, discarding writes made since it", NULL },
	{ "clear", cmd_clear, 1, 1, "NAME",
	  "start a new changed set on NAME (normal mode only)", NULL },
	{ "changed", cmd_changed, 1, 1, "NAME",
	  "print the chunks of NAME written since the last clear",
	  "Ranges are inclusive chunk numbers: 0-3,17 is chunks 0,1,2,3,17.\n"
	  "With --json: {\"ranges\": [[start, end], ...]}.\n" },
	{ "status", cmd_status, 0, -1, "[NAME...]",
	  "show vmfit devices (all of them when none is named)",
	  "Columns: MODE normal|snapshot|merging; EPOCH snapshots taken over\n"
	  "the cow's life; CHUNK chunk size; CHANGED chunks written since the\n"
	  "last clear; COW USED data chunks allocated/available; VIEW frozen\n"
	  "view ready|draining|- and the vmfit-view devices over it; HELD\n"
	  "time bios were held by the last snapshot; DRAIN snapshot to view\n"
	  "ready; MERGED merge progress; HEALTH ok|cow_full|fail.\n" },
	{ "checksum", cmd_checksum, 1, 1,
	  "NAME|MAJ:MIN [--changed] [--algo A] [--merkle] [--quiet] "
	  "[--first C] [--last C] [--workers N]",
	  "hash the chunks of the frozen view of NAME in the kernel",
	  "  -c, --changed    only the chunks of the changed set\n"
	  "  -a, --algo A     sha256 (default), blake2b-256: collision resistant;\n"
	  "                   xxhash64, crc32c: fast, trusted settings only\n"
	  "  -m, --merkle     also print the Merkle root over the digests\n"
	  "  -q, --quiet      do not print the per-chunk digests\n"
	  "  -f, --first C / -l, --last C  inclusive chunk range\n"
	  "  -w, --workers N  hash at most N chunks at once (1-64; default one\n"
	  "                   per CPU of the kernel)\n"
	  "Live I/O first: while the device is busy the kernel hashes at\n"
	  "/sys/module/dm_vmfit/parameters/csum_speed_min KiB/s.\n"
	  "Prints \"<chunk> <hex digest>\" lines, then \"merkle-root <hex>\".\n"
	  "Needs a snapshot; waits up to 10 s for a draining one.\n" },
	{ "events", cmd_events, 0, 0, "[--count N] [--timeout SECS]",
	  "follow dm-vmfit's events (snapshot, checksum, merge, health)",
	  "  -n, --count N      exit after N events\n"
	  "  -t, --timeout SECS give up after SECS (a failure with --count)\n"
	  "One line (or, with --json, one JSON document) per event.\n" },
	{ NULL, NULL, 0, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .tp = &ctl_transport_dm };
	const struct command *cmd;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jvVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'V':
			printf("%s %s\n", PROG, VMFIT_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			print_usage(stdout);
			return EXIT_SUCCESS;
		default:
			if (optopt)
				return misuse(NULL, "unknown option '-%c', try "
					      "\"%s help\".", optopt, PROG);
			return misuse(NULL, "unknown option '%s', try \"%s "
				      "help\".", argv[optind - 1], PROG);
		}
	}
	if (optind == argc)
		return misuse(NULL, "no command given, try \"%s help\".",
			      PROG);
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return misuse(NULL, "Command \"%s\" is unknown, try \"%s "
			      "help\".", argv[optind], PROG);
	vf_dm_set_verbose(c.verbose);

	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: reinitialise for the command's options */
	return cmd->fn(&c, cmd, argc, argv);
}
