// SPDX-License-Identifier: GPL-2.0-only
/*
 * process.c - the "process" backend: the replica is a child process.
 *
 * The replica command is split on blanks (no shell) and run with
 *
 *	<replica_cmd...> --fd 3 [--state <state volume>]
 *
 * appended: fd 3 is the replica's end of an AF_UNIX SOCK_STREAM socketpair
 * (the only fd besides 0-2 it inherits), the manager keeps the other end.
 * Exit is observed through a pidfd (pidfd_open; SIGCHLD where that is
 * missing, e.g. under valgrind), reaped with waitpid(WNOHANG) from the
 * manager's event loop, which never blocks on the replica.
 *
 * The replica is untrusted (spec->isolate): it runs in its own network,
 * IPC, mount and UTS namespaces (no host network, no route to anything,
 * not even loopback; libqb's abstract unix sockets, corosync's IPC, are
 * per network namespace, so the group is out of reach), with private
 * empty /dev/shm and /run, as an unprivileged user (spec->uid/gid, all
 * supplementary groups dropped, no new privileges). What it keeps: its
 * channel (fd 3), stdin/out/err, and the files that user may open, its
 * state volume among them (replica.c hands that one to the user). A
 * manager that is not root cannot change users: it asks for a user
 * namespace as well. If isolation cannot be had, the replica does not
 * start (exit status 126, the reason on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vf_backend.h"

#define CHILD_FD	3

int vf_split_cmd(const char *cmd, char *buf, size_t buflen, char **argv,
		 int max)
{
	char *save = NULL, *w;
	int n = 0;

	if (strlen(cmd) >= buflen)
		return -E2BIG;
	strcpy(buf, cmd);
	for (w = strtok_r(buf, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n >= max - 1)
			return -E2BIG;
		argv[n++] = w;
	}
	argv[n] = NULL;
	return n ? n : -EINVAL;
}

static void __attribute__((noreturn)) isolate_fail(const char *what)
{
	fprintf(stderr, "vmfitd: replica isolation: %s: %s; not starting the replica\n",
		what, strerror(errno));
	_exit(126);
}

/* In the child, before exec; see the comment at the top. */
static void isolate(const struct vf_replica_spec *spec)
{
	int ns = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWUTS;
	bool root = geteuid() == 0;

	if (unshare(ns | (root ? 0 : CLONE_NEWUSER)) < 0)
		isolate_fail("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		isolate_fail("making the mounts private");
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=1777,size=1m") < 0)
		isolate_fail("an empty /dev/shm");
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=755,size=1m") < 0 && errno != ENOENT)
		isolate_fail("an empty /run");
	if (root) {
		if (setgroups(0, NULL) < 0)
			isolate_fail("setgroups");
		if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
			isolate_fail("setresgid");
		if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
			isolate_fail("setresuid");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		isolate_fail("no new privileges");
}

static void child_exec(int fd, const struct vf_replica_spec *spec)
{
	char buf[4096];
	char *argv[VF_REPLICA_MAX_ARGS + 5];
	sigset_t none;
	int n;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (fd != CHILD_FD) {
		if (dup2(fd, CHILD_FD) < 0)
			_exit(127);
	} else if (fcntl(fd, F_SETFD, 0) < 0) {
		_exit(127);
	}
	syscall(SYS_close_range, CHILD_FD + 1, ~0u, 0);
	/* Before the user changes: a shadow (recovery_nice). */
	errno = 0;
	if (spec->nice && nice(spec->nice) == -1 && errno)
		fprintf(stderr, "vmfitd: nice %d: %s\n", spec->nice,
			strerror(errno));
	if (spec->isolate)
		isolate(spec);
	n = vf_split_cmd(spec->cmd, buf, sizeof(buf), argv,
			 VF_REPLICA_MAX_ARGS);
	if (n < 0)
		_exit(127);
	argv[n++] = "--fd";
	argv[n++] = "3";
	if (spec->state) {
		argv[n++] = "--state";
		argv[n++] = (char *)spec->state;
	}
	if (spec->journal) {
		argv[n++] = "--journal";
		argv[n++] = (char *)spec->journal;
	}
	argv[n] = NULL;
	/* The replica is not the service, and not trusted to speak for it. */
	unsetenv("NOTIFY_SOCKET");
	execvp(argv[0], argv);
	fprintf(stderr, "vmfitd: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int process_start(struct vf_replica *r,
			 const struct vf_replica_spec *spec)
{
	char buf[4096];
	char *argv[VF_REPLICA_MAX_ARGS];
	int sv[2];
	pid_t pid;
	int pidfd;
	int ret;

	ret = vf_split_cmd(spec->cmd, buf, sizeof(buf), argv,
			   VF_REPLICA_MAX_ARGS);
	if (ret < 0)
		return ret;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out_close;
	}
	if (pid == 0)
		child_exec(sv[1], spec);
	close(sv[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno == ENOSYS) {
		/* Old kernel or valgrind: SIGCHLD alone tells of the exit. */
		pidfd = -1;
	} else if (pidfd < 0) {
		ret = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return ret;
	}
	if (pidfd >= 0)
		fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	r->ops = &vf_process_backend;
	r->fd = sv[0];
	r->exit_fd = pidfd;
	r->pid = pid;
	r->domid = -1;
	r->created_ms = -1;
	r->hello_ms = -1;
	r->running = true;
	return 0;

out_close:
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static void release(struct vf_replica *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->exit_fd >= 0)
		close(r->exit_fd);
	r->fd = -1;
	r->exit_fd = -1;
	r->pid = 0;
	r->running = false;
}

static int process_reap(struct vf_replica *r, int *status)
{
	pid_t p;

	if (!r->running)
		return 1;
	p = waitpid(r->pid, status, WNOHANG);
	if (p < 0)
		return -errno;
	if (p == 0)
		return 0;
	release(r);
	return 1;
}

/*
 * SIGKILL and return: the exit is reaped later through reap(), from the
 * event loop (exit_fd or SIGCHLD). Never waits: a replica stuck in the
 * kernel (on its state volume, say) must not stop the manager.
 */
static int process_kill(struct vf_replica *r)
{
	if (!r->running)
		return 0;
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	if (kill(r->pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

/* Wait up to @timeout_ms for the replica to exit; 1 reaped, 0 not. */
static int wait_exit(struct vf_replica *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->exit_fd, .events = POLLIN };
	int st, t, ret;

	if (r->exit_fd < 0) {
		/* No pidfd: poll the wait status every 10 ms. */
		for (t = 0; t < timeout_ms; t += 10) {
			if (process_reap(r, &st) == 1)
				return 1;
			usleep(10000);
		}
	} else {
		do {
			ret = poll(&pfd, 1, timeout_ms);
		} while (ret < 0 && errno == EINTR);
	}
	return process_reap(r, &st) == 1;
}

/*
 * Closing the channel is the polite request to exit, SIGTERM the firm
 * one. Returns at once: the event loop reaps it, or kills it after a
 * while.
 */
static int process_shutdown(struct vf_replica *r)
{
	if (!r->running)
		return 0;
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	if (kill(r->pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

/* At shutdown or restart, not from the event loop: bounded waits. */
static int process_stop(struct vf_replica *r, int timeout_ms)
{
	if (!r->running)
		return 0;
	process_shutdown(r);
	if (wait_exit(r, timeout_ms))
		return 0;
	process_kill(r);
	if (wait_exit(r, timeout_ms))
		return 0;
	/* Stuck even after SIGKILL: give up on it (init reaps it once the
	 * manager has exited). */
	release(r);
	return -ETIMEDOUT;
}

static int process_restart(struct vf_replica *r,
			   const struct vf_replica_spec *spec)
{
	int ret = process_stop(r, 1000);

	if (ret)
		return ret;
	return process_start(r, spec);
}

const struct vf_backend_ops vf_process_backend = {
	.name = "process",
	.start = process_start,
	.stop = process_stop,
	.shutdown = process_shutdown,
	.kill = process_kill,
	.reap = process_reap,
	.restart = process_restart,
};
