// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd - the vmfit replica manager.
 *
 * One per host. Clients send REQUESTs (client protocol); the manager
 * batches them into the manager group (corosync CPG, agreed order); every
 * manager delivers the same requests in the same order, numbers each new
 * one (order 1, 2, ...), hands it to its local replica as EXEC and
 * multicasts the replica's RESULT as a vote; the manager that holds the
 * client answers once f+1 votes are identical. See Documentation/vmfitd.8.rst.
 *
 * This file has the options, the signals and the main loop, which only
 * polls and dispatches to the parts: client.c (client connections),
 * group.c (the manager group and its batches), delivery.c (the ordered
 * stream), replica.c (the local replica's channel), checkpoint.c (ordered
 * checkpoints), control.c (the control socket), status.c (status file).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "vf_log.h"
#include "vmfitd.h"

static volatile sig_atomic_t sig_term, sig_hup, sig_chld;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		sig_term = 1;
	else if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGCHLD)
		sig_chld = 1;
}

static void reload_log_level(struct vmfitd *d)
{
	struct vf_conf c;
	char err[512];

	vf_conf_defaults(&c);
	if (vf_conf_load(&c, d->conf_path, err, sizeof(err))) {
		vf_err("SIGHUP: %s; keeping the old settings", err);
		return;
	}
	vf_log_set_level(c.log_level);
	vf_info("SIGHUP: log level %s", vf_log_level_name(c.log_level));
}

#define POLL_FDS	(GROUP_POLL_FDS + REPLICA_POLL_FDS + CONTROL_POLL_FDS + \
			 CLIENT_POLL_FDS + RECOVERY_POLL_FDS)

static int run(struct vmfitd *d)
{
	struct pollfd *pfd, *gp, *rp, *cp, *kp, *vp;
	sigset_t empty;
	struct timespec to;
	uint64_t now, wake;
	unsigned int n;
	int ret;

	pfd = calloc(POLL_FDS, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	sigemptyset(&empty);
	while (!sig_term) {
		if (sig_hup) {
			sig_hup = 0;
			reload_log_level(d);
		}
		if (sig_chld) {
			sig_chld = 0;
			replica_reap(d);
			rcv_reap(d);
		}
		wake = UINT64_MAX;
		group_tick(d, &wake);
		now = now_ms();
		if (now + d->conf.status_interval_ms < wake)
			wake = now + d->conf.status_interval_ms;
		ckpt_tick(d, now, &wake);
		ctl_tick(d, now, &wake);
		client_tick(d, now, &wake);
		status_tick(d, now, &wake);
		rcv_tick(d, now, &wake);

		n = 0;
		gp = &pfd[n];
		n += group_poll_fds(d, gp);
		rp = &pfd[n];
		n += replica_poll_fds(d, rp);
		cp = &pfd[n];
		n += ctl_poll_fds(d, cp);
		kp = &pfd[n];
		n += client_poll_fds(d, kp);
		vp = &pfd[n];
		n += rcv_poll_fds(d, vp);

		now = now_ms();
		wake = wake > now ? wake - now : 0;
		to.tv_sec = wake / 1000;
		to.tv_nsec = (wake % 1000) * 1000000;
		ret = ppoll(pfd, n, &to, &empty);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			/* A failed loop is a failed daemon: exit status 1,
			 * so that a supervisor restarts it. */
			ret = -errno;
			vf_err("ppoll: %s; exiting", strerror(-ret));
			free(pfd);
			return ret;
		}
		group_events(d, gp);
		replica_events(d, rp);
		ctl_events(d, cp);
		client_events(d, kp);
		rcv_events(d, vp);
		/* Batch everything gathered in this round into one message
		 * per kind, then push out what is buffered. */
		group_flush(d);
		replica_flush(d);
		rcv_flush(d);
		client_flush(d);
	}
	free(pfd);
	return 0;
}

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: vmfitd [OPTIONS]\n"
"\n"
"The vmfit replica manager: orders client requests with the other managers\n"
"(corosync CPG), executes them on the local replica and answers clients\n"
"with the reply f+1 replicas agree on.\n"
"\n"
"Options:\n"
"  -c, --config PATH    configuration file (default " VF_CONF_DEFAULT_PATH ")\n"
"  -f, --foreground     stay in the foreground, log to stderr\n"
"      --check-config   validate the configuration and exit\n"
"      --status         print the running daemon's status (key=value lines)\n"
"      --checkpoint     ask the running daemon for an ordered checkpoint and\n"
"                       wait for its local replica's result\n"
"      --recover        start a proactive recovery round (see protocol.rst)\n"
"      --full           --recover: hash every chunk, not only the changed set\n"
"      --wait           --recover: follow the round until it is over; exit 1\n"
"                       if it aborted\n"
"      --timeout MS     --checkpoint, --recover --wait: give up after MS ms\n"
"                       (default 60000)\n"
"      --unreplicated   no corosync, no voting: hand requests straight to the\n"
"                       one local replica (benchmark baseline; f = 0)\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n"
"\n"
"Signals: SIGTERM/SIGINT shut down cleanly, SIGHUP re-reads the log level.\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage or configuration.\n"
"See vmfitd(8) and vmfitd.conf(5).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 'S' },
		{ "checkpoint", no_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "recover", no_argument, NULL, 'R' },
		{ "full", no_argument, NULL, 'F' },
		{ "wait", no_argument, NULL, 'W' },
		{ "unreplicated", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool check = false, status = false, unrep = false, ckpt = false;
	bool recover = false, full = false, wait = false;
	unsigned long timeout_ms = 60000;
	char *end;
	struct vmfitd *d;
	struct sigaction sa;
	sigset_t block;
	char err[512];
	unsigned int i;
	int opt, r, rc = 1;

	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->conf_path = VF_CONF_DEFAULT_PATH;
	while ((opt = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'C':
			check = true;
			break;
		case 'S':
			status = true;
			break;
		case 'K':
			ckpt = true;
			break;
		case 'T':
			errno = 0;
			timeout_ms = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' ||
			    !timeout_ms || timeout_ms > 86400000) {
				fprintf(stderr, "vmfitd: --timeout: expected milliseconds (1..86400000), got '%s'\n",
					optarg);
				free(d);
				return 2;
			}
			break;
		case 'U':
			unrep = true;
			break;
		case 'R':
			recover = true;
			break;
		case 'F':
			full = true;
			break;
		case 'W':
			wait = true;
			break;
		case 'h':
			usage(stdout);
			free(d);
			return 0;
		case 'V':
			printf("vmfitd %s\n", VMFITD_VERSION);
			free(d);
			return 0;
		default:
			usage(stderr);
			free(d);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vmfitd: unexpected argument '%s'\n",
			argv[optind]);
		free(d);
		return 2;
	}
	vf_conf_defaults(&d->conf);
	/* Known before the checks: --unreplicated needs no 'managers'. */
	d->conf.unreplicated = unrep;
	if (vf_conf_load(&d->conf, d->conf_path, err, sizeof(err))) {
		fprintf(stderr, "vmfitd: %s\n", err);
		free(d);
		return 2;
	}
	if (status + ckpt + check + recover > 1) {
		fprintf(stderr, "vmfitd: --status, --checkpoint, --recover and --check-config exclude each other\n");
		free(d);
		return 2;
	}
	if ((full || wait) && !recover) {
		fprintf(stderr, "vmfitd: --full and --wait go with --recover\n");
		free(d);
		return 2;
	}
	if (status) {
		rc = status_print(&d->conf);
		free(d);
		return rc;
	}
	if (ckpt) {
		rc = ctl_client_checkpoint(&d->conf, timeout_ms);
		free(d);
		return rc;
	}
	if (recover) {
		rc = ctl_client_recover(&d->conf, full, wait, timeout_ms);
		free(d);
		return rc;
	}
	if (unrep) {
		d->conf.unreplicated = true;
		d->conf.f = 0;
	}
	d->local = d->conf.unreplicated;
	d->be = vf_backend_find(d->conf.backend);
	if (check) {
		printf("%s: OK (service %s, f %u, group %s, managers",
		       d->conf_path, d->conf.service, d->conf.f,
		       d->conf.cpg_group);
		for (i = 0; i < d->conf.nmanagers; i++)
			printf(" %u", d->conf.managers[i]);
		printf("%s)\n", d->local ? " none: unreplicated" : "");
		free(d);
		return 0;
	}

	vf_log_open("vmfitd", !d->foreground);
	vf_log_set_level(d->conf.log_level);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Delivered only inside ppoll(): no race with the flag checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);

	clock_gettime(CLOCK_MONOTONIC, &d->started);
	d->ctl_lfd = -1;
	for (i = 0; i < CTL_MAX; i++)
		d->ctls[i].fd = -1;
	d->suspect_rl = (struct vf_ratelimit)VF_RATELIMIT_INIT(LOG_BURST,
								LOG_PERIOD_MS);
	d->expire_rl = d->suspect_rl;
	d->conn_rl = d->suspect_rl;
	d->refuse_rl = d->suspect_rl;
	d->tmo_rl = d->suspect_rl;
	d->pause_rl = d->suspect_rl;
	/* Each allocates what it can; out_free frees what was allocated. */
	r = client_init(d);
	if (delivery_init(d))
		r = -ENOMEM;
	if (replica_init(d))
		r = -ENOMEM;
	if (r) {
		vf_err("out of memory");
		goto out_free;
	}
	vf_info("vmfitd %s: service %s, f = %u, %s", VMFITD_VERSION,
		d->conf.service, d->conf.f,
		d->local ? "unreplicated (no corosync, no voting)" :
			   d->conf.cpg_group);

	/*
	 * The sockets first, then daemon(): a port or a control socket that
	 * cannot be had is a failed start (exit status 1), not a daemon that
	 * died in the background. The replica is started after the fork, as
	 * the daemon's child.
	 */
	r = client_limits(d);
	if (!r)
		r = client_listen(d);
	if (r)
		goto out_free;
	r = ctl_init(d);
	if (r)
		goto out_listen;
	if (!d->foreground && daemon(0, 0) < 0) {
		vf_err("daemon: %s", strerror(errno));
		goto out_ctl;
	}
	r = replica_start(d);
	if (r)
		goto out_ctl;
	r = rcv_init(d);
	if (r)
		goto out_rcv;
	group_init(d);
	/* systemd (Type=notify): ready once every socket is open. */
	sd_notifyf(0, "READY=1\nMAINPID=%lu", (unsigned long)getpid());
	rc = run(d) ? 1 : 0;
	sd_notify(0, "STOPPING=1");
	vf_info("shutting down");
	group_fini(d);
out_rcv:
	rcv_fini(d);
	status_remove(d);
	replica_fini(d);
out_ctl:
	ctl_fini(d);
out_listen:
	client_fini(d);
out_free:
	replica_free(d);
	delivery_free(d);
	client_free(d);
	vf_log_close();
	free(d);
	return rc;
}
