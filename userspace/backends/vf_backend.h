/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_backend.h - replica domain lifecycle behind an ops vtable.
 *
 * A backend starts one replica and gives the manager a stream fd speaking
 * the replica channel (Documentation/protocol.rst). Implementations:
 * "process" (fork/exec, socketpair) and "xen" (a PV domain through libxl,
 * the channel over a vchan; Documentation/xen-backend.rst).
 */
#ifndef VF_BACKEND_H
#define VF_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#define VF_REPLICA_MAX_ARGS	64

struct vf_xen_conf;

struct vf_replica_spec {
	const char *cmd;	/* command line, split on blanks (no shell) */
	const char *state;	/* state volume path, or NULL */
	const char *journal;	/* its kv journal (--journal), or NULL */
	const struct vf_xen_conf *xen;	/* xen backend settings */
	bool isolate;		/* own namespaces, unprivileged user */
	bool wait_hello;	/* start() returns after the HELLO (below) */
	int nice;		/* process: added to its nice value */
	uid_t uid;		/* run as (if the manager is root) */
	gid_t gid;
};

struct vf_replica {
	const struct vf_backend_ops *ops;
	int fd;			/* manager end of the channel, -1 if none */
	int exit_fd;		/* readable once the replica has exited, -1 */
	pid_t pid;		/* 0 if not running (or not a process) */
	int domid;		/* Xen domain id, -1 if not a domain (yet) */
	long created_ms;	/* xen: start() to the domain unpaused, -1 */
	long hello_ms;		/* xen: start() to the HELLO's first bytes */
	bool running;
	void *priv;		/* backend's own state */
};

struct vf_backend_ops {
	const char *name;
	/*
	 * Start the replica; fills fd, exit_fd, pid or domid. Returns at
	 * once: the replica's HELLO arrives on fd later, in the manager's
	 * event loop. The xen backend boots a domain (seconds): one that has
	 * not sent its first bytes within xen_start_timeout_ms, or ends
	 * before, is destroyed and exit_fd becomes readable (reap() tells
	 * the status, the log tells why): the caller's abort path. With
	 * spec->wait_hello it returns only once those bytes have come, and
	 * fails (everything released) if they do not (vmfitd's own start);
	 * the process backend does not wait. 0 or -errno.
	 */
	int (*start)(struct vf_replica *r, const struct vf_replica_spec *spec);
	/*
	 * Ask it to exit (SIGTERM; xen: EOF on the channel, the domain powers
	 * off), wait up to @timeout_ms, then kill and wait as long again.
	 * Blocks: at shutdown only, never in the event loop.
	 */
	int (*stop)(struct vf_replica *r, int timeout_ms);
	/*
	 * The event loop's stop: ask it to exit as stop() does (and close
	 * the channel) without waiting. It stays running (exit_fd still
	 * watched) until reap() sees it exit; if that takes too long, the
	 * caller kill()s it.
	 */
	int (*shutdown)(struct vf_replica *r);
	/*
	 * Kill it now (SIGKILL; xen: destroy the domain) and close the
	 * channel, without waiting: it stays running (exit_fd still watched)
	 * until reap() sees it exit.
	 */
	int (*kill)(struct vf_replica *r);
	/*
	 * Non-blocking: 1 and the wait status in @status if it has exited
	 * (resources released), 0 if still running, -errno.
	 */
	int (*reap)(struct vf_replica *r, int *status);
	/* stop + start. */
	int (*restart)(struct vf_replica *r, const struct vf_replica_spec *spec);
	/*
	 * Optional, never blocks: fill in what the backend learnt since
	 * start() (xen: domid, created_ms, hello_ms).
	 */
	void (*refresh)(struct vf_replica *r);
};

extern const struct vf_backend_ops vf_process_backend;
extern const struct vf_backend_ops vf_xen_backend;

/*
 * "domain D" or "pid P": which replica @r is, for the log (reap()
 * forgets both: name it before).
 */
const char *vf_replica_name(const struct vf_replica *r, char *buf,
			    size_t len);
#define VF_REPLICA_NAME_LEN	32

/* Backend by name ("process", "xen"), or NULL. */
const struct vf_backend_ops *vf_backend_find(const char *name);

/*
 * Split @cmd on blanks into @argv (at most @max - 1 words, NULL-terminated)
 * using @buf (a copy of cmd). Returns the word count or -E2BIG/-EINVAL.
 */
int vf_split_cmd(const char *cmd, char *buf, size_t buflen, char **argv,
		 int max);

#endif /* VF_BACKEND_H */
