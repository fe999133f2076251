/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_cmd - what a vmfit-ctl command file needs from vmfit-ctl.c: the
 * command table row, the global options, and the shared misuse/failure
 * helpers (exit status 2 for misuse, 1 for failures; see vmfit-ctl.c).
 */
#ifndef CTL_CMD_H
#define CTL_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "ctl_transport.h"

#define EXIT_MISUSE 2

struct ctl {
	bool json;
	bool verbose;
	const struct ctl_transport *tp;
};

struct command {
	const char *name;
	int (*fn)(struct ctl *c, const struct command *cmd, int argc,
		  char **argv);
	int min_args;
	int max_args;		/* -1: any number */
	const char *usage;	/* after "vmfit-ctl <name> " */
	const char *help;	/* one line */
	const char *details;	/* for `help <name>`, may be NULL */
};

/* One line on stderr, exit status 2. */
int misuse(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "vmfit-ctl: <cmd>: <what>: <strerror>" [+ "  hint: ..."], exit 1. */
int fail(const struct ctl *c, const struct command *cmd, const char *what,
	 int err, const char *hint, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * getopt_long over a command's options plus -h; returns the option, -1 at
 * the end, or 'h'/'?' after handling them (*@done: the exit status).
 */
int next_opt(const struct command *cmd, int argc, char **argv,
	     const char *shortopts, const struct option *longopts, int *done);
/* Positional argument count against the table; 0 or a misuse status. */
int check_args(const struct command *cmd, int nargs);

/* Commands of cmd_nl.c (generic netlink). */
int cmd_checksum(struct ctl *c, const struct command *cmd, int argc,
		 char **argv);
int cmd_events(struct ctl *c, const struct command *cmd, int argc,
	       char **argv);

#endif /* CTL_CMD_H */
