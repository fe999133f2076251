/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_cmd - what a vmfit-ctl command file (cmd_*.c) needs: the command
 * table row, the global options, and the helpers of ctl_util.c (exit
 * status 2 for misuse, 1 for failures; see vmfit-ctl.c).
 */
#ifndef CTL_CMD_H
#define CTL_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ctl_transport.h"

#define PROG "vmfit-ctl"
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
int opt_timeout(const struct command *cmd, const char *arg, uint64_t max,
		bool zero_ok, uint64_t *out);
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

/*
 * The frame both events commands share: events_listen() installs the
 * SIGINT/SIGTERM handlers that end the wait and prints the line tests
 * wait for; events_more() is the loop condition: false on a signal, at
 * --count events, or when --timeout is over (*@rc is then the result: the
 * timeout just ends a wait without --count and fails one with it).
 */
struct events_wait {
	struct timespec t0;
	uint64_t count, timeout, seen;
};
void events_listen(struct events_wait *w, uint64_t count, uint64_t timeout);
bool events_more(const struct ctl *c, const struct command *cmd,
		 struct events_wait *w, int *rc);

/* ctl_cmdtable.c: every command, ended by a row with a NULL name. */
extern const struct command ctl_cmd_table[];

/* ctl_util.c */
/* Device errors shared by every command that names a device. */
int fail_dev(const struct ctl *c, const struct command *cmd,
	     const char *name, int err);
/* "usage: ..." and the one-line help; @full: the details too. */
void print_cmd_help(const struct command *cmd, FILE *f, bool full);
/* A device name argument; 0 or a misuse status. */
int check_name(const struct command *cmd, const char *name);
/* Options-free commands: just -h and the positional count. */
int simple_opts(const struct command *cmd, int argc, char **argv,
		int *done);
/* simple_opts, then the first argument as a checked device name. */
int name_opts(const struct command *cmd, int argc, char **argv,
	      const char **name, int *done);
void fmt_ms(char *buf, size_t size, uint64_t ns);
double pct(uint64_t part, uint64_t whole);
void sleep_ms(unsigned int ms);
double now_s(void);
/* Names of the vmfit-view devices over @live, space-separated. */
void views_of(const char *live, char *buf, size_t size);
/* "<name>: <text>", or with --json the device's state after @action. */
int print_action(const struct ctl *c, const char *name, const char *action,
		 const char *text);

/* The commands, by area. vmfit-ctl.c */
int cmd_help(struct ctl *c, const struct command *cmd, int argc,
	     char **argv);
/* cmd_device.c */
int cmd_load(struct ctl *c, const struct command *cmd, int argc,
	     char **argv);
int cmd_create(struct ctl *c, const struct command *cmd, int argc,
	       char **argv);
int cmd_view(struct ctl *c, const struct command *cmd, int argc,
	     char **argv);
int cmd_remove(struct ctl *c, const struct command *cmd, int argc,
	       char **argv);
/* cmd_snapshot.c */
int cmd_snapshot(struct ctl *c, const struct command *cmd, int argc,
		 char **argv);
int cmd_merge(struct ctl *c, const struct command *cmd, int argc,
	      char **argv);
int cmd_drop(struct ctl *c, const struct command *cmd, int argc,
	     char **argv);
int cmd_clear(struct ctl *c, const struct command *cmd, int argc,
	      char **argv);
int cmd_changed(struct ctl *c, const struct command *cmd, int argc,
		char **argv);
/* cmd_status.c */
int cmd_status(struct ctl *c, const struct command *cmd, int argc,
	       char **argv);
/* cmd_nl.c (generic netlink) */
int cmd_checksum(struct ctl *c, const struct command *cmd, int argc,
		 char **argv);
int cmd_recover(struct ctl *c, const struct command *cmd, int argc,
		char **argv);
int cmd_events(struct ctl *c, const struct command *cmd, int argc,
	       char **argv);
/* cmd_mevents.c: events --manager (vmfitd's control socket) */
int manager_events(struct ctl *c, const struct command *cmd,
		   const char *path, uint64_t count, uint64_t timeout);
/* cmd_manager.c */
int cmd_manager(struct ctl *c, const struct command *cmd, int argc,
		char **argv);

#endif /* CTL_CMD_H */
