// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_recover - vmfit-ctl recover: start a proactive recovery round through
 * a running vmfitd's control socket (vmfitd(8) "Proactive recovery") and,
 * with --wait, follow it until it is over: through the socket's events,
 * subscribed before the trigger (every phase, none missed), or in the
 * status file from a vmfitd without events. The socket and status file
 * come from the daemon's configuration file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_parse.h"
#include "vf_conf.h"
#include "vf_ctlsock.h"

int cmd_recover(struct ctl *c, const struct command *cmd, int argc,
		char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "full", no_argument, NULL, 'f' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = VF_CONF_DEFAULT_PATH;
	bool full = false, wait = false;
	uint64_t timeout = 600;
	char err[512], ans[512], round[32];
	struct vf_ctlsub sub = { .fd = -1 };
	struct vf_conf conf;
	int done = 0, opt, r;

	while ((opt = next_opt(cmd, argc, argv, "c:fwt:", opts, &done)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			full = true;
			break;
		case 'w':
			wait = true;
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
	vf_conf_defaults(&conf);
	if (vf_conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s: %s\n", cmd->name, err);
		return EXIT_FAILURE;
	}
	/* Refused (a vmfitd without events): the status file instead. */
	if (wait)
		vf_ctlsub_open(&sub, conf.control_socket, 5000, err,
			       sizeof(err));
	r = vf_ctlsock_request(conf.control_socket,
			       full ? "recover full" : "recover", 5000, ans,
			       sizeof(ans));
	if (r == -EPROTO || r == -ETIMEDOUT || r == -EPIPE) {
		fprintf(stderr, PROG ": %s: vmfitd says: %s\n", cmd->name,
			ans);
		r = EXIT_FAILURE;
		goto out;
	}
	if (r) {
		r = fail(c, cmd, conf.control_socket, r,
			 "is vmfitd running with %s?", path);
		goto out;
	}
	snprintf(round, sizeof(round), "%.16s", ans + strlen("round="));
	if (c->json && !wait)
		printf("{\"round\": \"%s\"}\n", round);
	else
		printf("round %s started\n", round);
	r = EXIT_SUCCESS;
	if (!wait)
		goto out;
	if (sub.fd >= 0) {
		r = vf_ctlsub_follow_round(&sub, round, timeout * 1000,
					   stdout);
	} else if (!conf.status_file[0]) {
		fprintf(stderr, PROG ": %s: --wait needs status_file in %s\n",
			cmd->name, path);
		r = EXIT_FAILURE;
		goto out;
	} else {
		r = vf_ctlsock_follow_round(conf.status_file, round,
					    timeout * 1000, stdout);
	}
	if (r == -EPIPE)
		fprintf(stderr, PROG ": %s: vmfitd closed the event subscription before round %s was over (it stopped?)\n",
			cmd->name, round);
	else if (r < 0)
		fprintf(stderr, PROG ": %s: round %s not over in %llu s\n",
			cmd->name, round, (unsigned long long)timeout);
	r = r ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	vf_ctlsub_close(&sub);
	return r;
}
