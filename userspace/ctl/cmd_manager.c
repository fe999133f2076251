// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_manager - vmfit-ctl manager: what a running vmfitd says about itself
 * in its status file (vmfitd(8) "Status"), as a summary or, with --json,
 * the status document itself once validated. The file is found like
 * `vmfit-ctl recover` finds the control socket: through the daemon's
 * configuration file, unless --status-file names it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_manager.h"
#include "vf_conf.h"
#include "vf_ctlsock.h"
#include "vf_jflat.h"

int cmd_manager(struct ctl *c, const struct command *cmd, int argc,
		char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "status-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *status = NULL;
	char err[512], *text = NULL;
	struct vf_jflat *j = NULL;
	int done = 0, opt, r, ret = EXIT_FAILURE;
	struct vf_conf conf;
	int64_t pid;

	while ((opt = next_opt(cmd, argc, argv, "c:s:", opts, &done)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 's':
			status = optarg;
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	if (conf_path && status)
		return misuse(cmd, "--config and --status-file exclude each other");
	if (!status) {
		if (!conf_path)
			conf_path = VF_CONF_DEFAULT_PATH;
		vf_conf_defaults(&conf);
		if (vf_conf_load(&conf, conf_path, err, sizeof(err))) {
			fprintf(stderr, PROG ": %s: %s\n", cmd->name, err);
			return EXIT_FAILURE;
		}
		if (!conf.status_file[0]) {
			fprintf(stderr, PROG ": %s: %s sets no status_file: "
				"vmfitd writes none\n", cmd->name, conf_path);
			return EXIT_FAILURE;
		}
		status = conf.status_file;
	}
	j = malloc(sizeof(*j));
	text = malloc(VF_STATUS_MAX);
	if (!j || !text) {
		fprintf(stderr, PROG ": %s: out of memory\n", cmd->name);
		goto out;
	}
	r = vf_status_read(status, j, text, VF_STATUS_MAX, err, sizeof(err));
	if (r == -ENOENT) {
		fail(c, cmd, status, r, "is vmfitd running? (vmfitd writes %s "
		     "every status_interval_ms)", status);
		goto out;
	}
	if (r) {
		fprintf(stderr, PROG ": %s: %s\n", cmd->name, err);
		goto out;
	}
	/* A vmfitd killed outright leaves its last status behind. */
	if (!vf_jflat_i64(j, "pid", &pid) || pid <= 0 || pid > INT32_MAX) {
		fprintf(stderr, PROG ": %s: %s: not a vmfitd status file (no "
			"valid \"pid\")\n", cmd->name, status);
		goto out;
	}
	if (kill((pid_t)pid, 0) && errno == ESRCH) {
		fprintf(stderr, PROG ": %s: %s is stale: vmfitd (pid %lld) is "
			"not running; see its log, restart it\n", cmd->name,
			status, (long long)pid);
		goto out;
	}
	if (ctl_manager_summary(c->json ? NULL : stdout, j, err,
				sizeof(err))) {
		fprintf(stderr, PROG ": %s: %s: %s\n", cmd->name, status, err);
		goto out;
	}
	if (c->json) {
		/* Valid JSON of the right shape: passed through as it is. */
		r = (int)strlen(text);
		while (r && strchr(" \t\r\n", text[r - 1]))
			text[--r] = '\0';
		printf("%s\n", text);
	}
	ret = EXIT_SUCCESS;
out:
	free(text);
	free(j);
	return ret;
}
