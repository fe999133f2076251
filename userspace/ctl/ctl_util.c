// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_util - what the vmfit-ctl command files share: misuse and failure
 * messages (exit status 2 and 1), option parsing with -h, name checks,
 * number formats, and the one-line (or JSON) report of an action.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "ctl_cmd.h"
#include "ctl_json.h"
#include "ctl_parse.h"
#include "vf_dm.h"
#include "vf_status.h"

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

/*
 * The --timeout option of a command: seconds, up to @max, 0 only if
 * @zero_ok. Returns 0, or the misuse() exit status.
 */
int opt_timeout(const struct command *cmd, const char *arg, uint64_t max,
		bool zero_ok, uint64_t *out)
{
	const char *why = "";

	if (ctl_parse_uint(arg, max, out, &why))
		return misuse(cmd, "invalid timeout '%s': %s", arg, why);
	if (!*out && !zero_ok)
		return misuse(cmd, "invalid timeout '%s': zero", arg);
	return 0;
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
int fail_dev(const struct ctl *c, const struct command *cmd,
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

void print_cmd_help(const struct command *cmd, FILE *f, bool full)
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

int check_name(const struct command *cmd, const char *name)
{
	const char *why = "";

	if (ctl_check_name(name, &why))
		return misuse(cmd, "invalid device name '%s': %s", name, why);
	return 0;
}

/* Options-free commands: just -h and the positional count. */
int simple_opts(const struct command *cmd, int argc, char **argv,
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

/*
 * Options-free commands whose first argument is a device NAME: *@name is
 * set once it is checked.
 */
int name_opts(const struct command *cmd, int argc, char **argv,
	      const char **name, int *done)
{
	if (simple_opts(cmd, argc, argv, done))
		return -1;
	*name = argv[optind];
	*done = check_name(cmd, *name);
	return *done ? -1 : 0;
}

/*----------------------------------------------------------------*/

void fmt_ms(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%.3f ms", (double)ns / 1e6);
}

double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*----------------------------------------------------------------*/

/* Names of the vmfit-view devices over @live, space-separated. */
void views_of(const char *live, char *buf, size_t size)
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

int print_action(const struct ctl *c, const char *name,
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

static volatile sig_atomic_t events_stop;

static void events_signal(int sig)
{
	events_stop = 1;
}

void events_listen(struct events_wait *w, uint64_t count, uint64_t timeout)
{
	struct sigaction sa = { .sa_handler = events_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Tests wait for this line before they cause events. */
	fprintf(stderr, PROG ": events: listening\n");
	w->count = count;
	w->timeout = timeout;
	w->seen = 0;
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
}

bool events_more(const struct ctl *c, const struct command *cmd,
		 struct events_wait *w, int *rc)
{
	struct timespec now;

	if (events_stop || (w->count && w->seen >= w->count))
		return false;
	if (!w->timeout)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((uint64_t)(now.tv_sec - w->t0.tv_sec) < w->timeout)
		return true;
	if (w->count)
		*rc = fail(c, cmd, "events", -ETIMEDOUT,
			   "%" PRIu64 " of %" PRIu64 " events in %" PRIu64
			   " s", w->seen, w->count, w->timeout);
	return false;
}
