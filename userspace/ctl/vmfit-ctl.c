// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-ctl - operator CLI for dm-vmfit devices.
 *
 *	vmfit-ctl [global opts] <command> [opts] <args>
 *
 * Commands are rows of ctl_cmd_table[] (ctl_cmdtable.c): {name, fn,
 * min_args, max_args, usage, help, details}; `help` is generated from it.
 * The commands live in cmd_*.c by area, their shared helpers in
 * ctl_util.c; this file has the global options, the dispatch and `help`.
 * Each command parses its own options with getopt_long (every one takes
 * -h). Misuse exits 2 with one line and
 * before any device access; failures exit 1 with
 * "vmfit-ctl: <cmd>: <what>: <strerror>" and, where one helps, a hint line.
 * See Documentation/vmfit-ctl.8.rst.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_transport.h"
#include "vf_dm.h"

/* VMFIT_VERSION, the release version, comes from the Makefile. */

static const struct command *find_cmd(const char *name)
{
	const struct command *cmd;

	for (cmd = ctl_cmd_table; cmd->name; cmd++)
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
	for (cmd = ctl_cmd_table; cmd->name; cmd++)
		fprintf(f, "  %-9s %s\n", cmd->name, cmd->help);
	fprintf(f, "\n\"%s help <command>\" describes one command.\n", PROG);
}

int cmd_help(struct ctl *c, const struct command *cmd, int argc,
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

