// SPDX-License-Identifier: GPL-2.0-only
/*
 * process-backend-test - the process backend never makes the manager wait:
 * kill() returns at once and leaves the exit to reap() (non-blocking) once
 * exit_fd says so; stop() bounds its waits, escalating to SIGKILL for a
 * replica that ignores SIGTERM; the replica does not inherit NOTIFY_SOCKET;
 * it gets --fd 3, and --state and --journal when the spec has them.
 *
 * The replica is this program again, run with --child (the backend adds
 * --fd 3 ...): it reports whether it sees NOTIFY_SOCKET or arguments other
 * than the expected ones on its channel, then waits, ignoring SIGTERM.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vf_backend.h"
#include "vf_check.h"

#define STATE	"/s/state.img"
#define JOURNAL	"/s/journal"

static int child(int argc, char **argv)
{
	static const char *const full[] = { "--fd", "3", "--state", STATE,
					    "--journal", JOURNAL };
	const char *msg = getenv("NOTIFY_SOCKET") ? "env" : "ok!";
	int i;

	if (argc != 4 && argc != 8)
		msg = "arg";
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], full[i - 2]))
			msg = "arg";

	signal(SIGTERM, SIG_IGN);
	if (write(3, msg, 3) != 3)
		return 1;
	for (;;)
		pause();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start(struct vf_replica *r, const char *self, bool volume)
{
	static char cmd[4096];
	struct vf_replica_spec spec = { .cmd = cmd };
	char buf[4];

	if (volume) {
		spec.state = STATE;
		spec.journal = JOURNAL;
	}

	snprintf(cmd, sizeof(cmd), "%s --child", self);
	memset(r, 0, sizeof(*r));
	r->fd = r->exit_fd = -1;
	REQUIRE(vf_process_backend.start(r, &spec) == 0);
	REQUIRE(r->running && r->fd >= 0 && r->pid > 0);
	/* The child is up (and has set SIGTERM to SIG_IGN) once it wrote. */
	CHECK_EQ(read(r->fd, buf, 3), 3);
	buf[3] = '\0';
	CHECK_STR(buf, "ok!");
}

int main(int argc, char **argv)
{
	struct vf_replica r;
	struct pollfd pfd;
	double t0;
	int st = 0, n;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child(argc, argv);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);

	/* kill(): no wait; the exit is seen through exit_fd, then reaped. */
	start(&r, argv[0], false);
	CHECK_EQ(vf_process_backend.kill(&r), 0);
	CHECK(r.running);		/* not reaped yet: not waited for */
	CHECK_EQ(r.fd, -1);		/* the channel is closed at once */
	if (r.exit_fd >= 0) {
		pfd.fd = r.exit_fd;
		pfd.events = POLLIN;
		CHECK_EQ(poll(&pfd, 1, 10000), 1);
	}
	for (n = 0; n < 1000; n++) {
		if (vf_process_backend.reap(&r, &st) == 1)
			break;
		usleep(10000);
	}
	CHECK(!r.running);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK_EQ(vf_process_backend.reap(&r, &st), 1);	/* idempotent */

	/* reap() on a live replica returns 0 at once. */
	start(&r, argv[0], true);
	t0 = now();
	CHECK_EQ(vf_process_backend.reap(&r, &st), 0);
	CHECK(now() - t0 < 1.0);
	/* stop(): SIGTERM is ignored, SIGKILL after 100 ms, reaped. */
	CHECK_EQ(vf_process_backend.stop(&r, 100), 0);
	CHECK(!r.running);
	return vf_check_done("process-backend-test");
}
