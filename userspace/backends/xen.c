// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen.c - the "xen" backend: the replica is a Xen PV domain.
 *
 * Documentation/xen-backend.rst has the design; in short:
 *
 * - The clean image (tools/xen/mkimage: vmlinux + initramfs) is read once
 *   into sealed memfds and its SHA-256 compared with xen_image_digest;
 *   domains boot from those memfds, so no byte that was not verified can
 *   reach a domain, whatever happens to the files afterwards.
 * - A domain is created paused from a libxl_domain_config built here: PV,
 *   the replica command after "--" on its kernel command line, the state
 *   volume (xvda) and, with state_journal, its kv journal (xvdb, the
 *   command saying "--journal /dev/xvdb") as writable phy: disks
 *   (libxl's vbd hotplug script writes their major:minor for blkback).
 * - The replica channel is a vchan served from dom0 at
 *   /local/domain/<domid>/data/vmfit-vchan (libxl removes the domain's
 *   xenstore home, and with it this path, when the domain is destroyed);
 *   a relay (vf_vchan.c) joins it to a socketpair whose other end is
 *   the manager's replica fd.
 * - libxl's fds and timeouts go through libxl_osevent_register_hooks
 *   into one poll loop per domain, the pump thread, which also runs the
 *   relay and watches libxl's children (hotplug scripts) through pidfds;
 *   death, shutdown and disk-eject events end the domain and make
 *   exit_fd (an eventfd) readable. Nothing polls with sleeps.
 *
 * Threads: once the pump runs, every libxl call for the domain is made on
 * it, the long ones asynchronous (create, destroy); the manager's thread
 * only pokes the pump through a pipe and reads its verdicts. So the
 * osevent registrations have a single user and an "occurred" call can
 * never race a deregistration.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <libxenvchan.h>
#include <openssl/evp.h>
#include <xentoollog.h>

#include "vf_backend.h"
#include "vf_conf.h"
#include "vf_log.h"
#include "vf_vchan.h"

/* Relative to the domain's xenstore home; tools/xen/guest-init uses it. */
#define XEN_VCHAN_NODE		"data/vmfit-vchan"
#define XEN_VDEV		"xvda"	/* the state volume */
#define XEN_JOURNAL_VDEV	"xvdb"	/* its kv journal, if configured */
#define XEN_MAX_DISKS		2
#define XEN_MAX_FDS		64	/* libxl's fds + wake + relay */
/* A start's verdict is the pump's: this is only a backstop for libxl. */
#define XEN_VERDICT_GRACE_MS	60000

/* Pump commands, one byte each on the wake pipe. */
#define XEN_WAKE_POKE		'p'	/* registrations changed */
#define XEN_WAKE_QUIT		'q'
#define XEN_WAKE_DESTROY	'k'

/* Up-pipe messages from the pump to a waiting start(). */
#define XEN_UP_HELLO		'h'
#define XEN_UP_DEAD		'd'

/*
 *------------------------------------------------------------------
 * The verified clean image
 *------------------------------------------------------------------
 */

struct xen_image {
	bool ok;
	char kernel_path[VF_CONF_STR];	/* as configured */
	char ramdisk_path[VF_CONF_STR];
	int kernel_fd;			/* sealed memfds */
	int ramdisk_fd;
	char kernel_ref[40];		/* /proc/self/fd/N for libxl */
	char ramdisk_ref[40];
};

static struct xen_image image = { .kernel_fd = -1, .ramdisk_fd = -1 };
static pthread_mutex_t image_lock = PTHREAD_MUTEX_INITIALIZER;

/* Copy @path into a new sealed memfd, feeding every byte to @md. */
static int image_load(const char *path, EVP_MD_CTX *md, int *out)
{
	static const unsigned int seals = F_SEAL_SEAL | F_SEAL_SHRINK |
					  F_SEAL_GROW | F_SEAL_WRITE;
	char buf[1 << 16];
	ssize_t n;
	int in, mfd, r;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	mfd = memfd_create("vmfit-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		r = -errno;
		goto out_in;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_mfd;
		}
		if (!n)
			break;
		if (EVP_DigestUpdate(md, buf, n) != 1) {
			r = -EIO;
			goto out_mfd;
		}
		if (write(mfd, buf, n) != n) {
			r = errno ? -errno : -EIO;
			goto out_mfd;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, seals) < 0) {
		r = -errno;
		goto out_mfd;
	}
	close(in);
	*out = mfd;
	return 0;

out_mfd:
	close(mfd);
out_in:
	close(in);
	return r;
}

static void image_drop(void)
{
	if (image.kernel_fd >= 0)
		close(image.kernel_fd);
	if (image.ramdisk_fd >= 0)
		close(image.ramdisk_fd);
	image.kernel_fd = -1;
	image.ramdisk_fd = -1;
	image.ok = false;
}

/*
 * Verify the image once per process: SHA-256(kernel || ramdisk) must be
 * xc->digest. -EKEYREJECTED (with a message naming both digests) if not.
 */
static int image_verify(const struct vf_xen_conf *xc)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	char hex[VF_CONF_DIGEST_HEX + 1];
	struct timespec t0, t1;
	unsigned int dlen = 0, i;
	EVP_MD_CTX *md;
	int r;

	if (image.ok && !strcmp(image.kernel_path, xc->kernel) &&
	    !strcmp(image.ramdisk_path, xc->ramdisk))
		return 0;
	image_drop();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = -EIO;
		goto out;
	}
	r = image_load(xc->kernel, md, &image.kernel_fd);
	if (r) {
		vf_err("xen: kernel %s: %s", xc->kernel, strerror(-r));
		goto out;
	}
	r = image_load(xc->ramdisk, md, &image.ramdisk_fd);
	if (r) {
		vf_err("xen: ramdisk %s: %s", xc->ramdisk, strerror(-r));
		goto out;
	}
	if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen * 2 != sizeof(hex) - 1) {
		r = -EIO;
		goto out;
	}
	for (i = 0; i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (strcmp(hex, xc->digest)) {
		vf_err("xen: image digest mismatch: SHA-256(%s || %s) is %s, xen_image_digest is %s: refusing to boot a replica from it",
		       xc->kernel, xc->ramdisk, hex, xc->digest);
		r = -EKEYREJECTED;
		goto out;
	}
	snprintf(image.kernel_path, sizeof(image.kernel_path), "%s",
		 xc->kernel);
	snprintf(image.ramdisk_path, sizeof(image.ramdisk_path), "%s",
		 xc->ramdisk);
	snprintf(image.kernel_ref, sizeof(image.kernel_ref),
		 "/proc/self/fd/%d", image.kernel_fd);
	snprintf(image.ramdisk_ref, sizeof(image.ramdisk_ref),
		 "/proc/self/fd/%d", image.ramdisk_fd);
	image.ok = true;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vf_info("xen: image verified (sha256 %.16s...) in %ld ms", hex,
		(long)((t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000));
	r = 0;
out:
	EVP_MD_CTX_free(md);
	if (r)
		image_drop();
	return r;
}

/*
 *------------------------------------------------------------------
 * One domain
 *------------------------------------------------------------------
 */

struct xen_fdreg {
	struct xen_fdreg *next;
	int fd;
	short events;
	void *for_libxl;
	bool live;
};

struct xen_toreg {
	struct xen_toreg *next;
	struct timeval abs;
	void *for_libxl;
	bool live;
};

/* A child libxl forked (hotplug scripts), watched through a pidfd. */
struct xen_child {
	struct xen_child *next;
	pid_t pid;
	int pidfd;
};

/* The pump's lifecycle of one domain. */
enum xen_phase {
	XP_CLEANING,		/* destroying stale domains */
	XP_CREATING,		/* libxl_domain_create_new in flight */
	XP_RUNNING,		/* unpaused, relaying */
	XP_DESTROYING,		/* libxl_domain_destroy in flight */
	XP_DONE,		/* released, or never created */
};

struct xen_dom {
	libxl_ctx *ctx;
	xentoollog_logger_stdiostream *lg;
	libxl_domain_config cfg;	/* until the create has completed */
	bool have_cfg;
	const struct vf_xen_conf *xc;
	uint32_t domid;
	char name[64];
	libxl_evgen_domain_death *death_ev;
	libxl_evgen_disk_eject *eject_ev;
	/* Pump thread only (see "Threads" at the top). */
	enum xen_phase phase;
	unsigned int cleaning;		/* stale-domain destroys in flight */
	bool quit;			/* release() is waiting for XP_DONE */
	bool clean_stale;		/* the process's first domain */
	bool abandon;			/* killed, or no HELLO in time, before
					 * the domain existed: end it once
					 * the create completes */
	bool hello;			/* the replica's first bytes came */
	bool failed_start;		/* ended before its HELLO: logged */
	int end_status;			/* reported once XP_DONE */
	char end_why[160];
	struct xen_fdreg *fds;
	struct xen_toreg *tos;
	struct xen_child *children;
	struct libxenvchan *vc;		/* NULL once closed */
	struct vf_vchan_relay rl;
	bool relaying;
	int relay_fd;			/* relay's end of the socketpair */
	int user_fd;			/* manager's end, until start() hands it over */
	long created_ms;		/* creation to unpaused, -1 until then */
	long hello_ms;			/* creation to the first bytes, -1 */
	/* Any thread. */
	int wake[2];			/* to the pump */
	int up[2];			/* from the pump to start() */
	int exit_efd;			/* the replica's exit_fd */
	pthread_t pump;
	bool pumping;
	struct timespec t_create;	/* start() began */
	pthread_mutex_t lock;		/* protects the fields below */
	int up_domid;			/* the domain's id once created, -1 */
	long up_created_ms;		/* created_ms and hello_ms, copied */
	long up_hello_ms;
	bool dead;			/* released: exit_fd is readable */
	int status;			/* wait(2)-style, valid when dead */
	char why[160];
};

static void wake_pump(struct xen_dom *x, char cmd)
{
	ssize_t n;

	do {
		n = write(x->wake[1], &cmd, 1);
	} while (n < 0 && errno == EINTR);
}

static void tell_up(struct xen_dom *x, char what)
{
	ssize_t n;

	do {
		n = write(x->up[1], &what, 1);
	} while (n < 0 && errno == EINTR);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*----------------------------------------------------------------*/
/* libxl OS-event hooks: record, the pump polls */

static int hook_fd_register(void *user, int fd, void **reg_out,
			    short events, void *for_libxl)
{
	struct xen_dom *x = user;
	struct xen_fdreg *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return ERROR_OSEVENT_REG_FAIL;
	reg->fd = fd;
	reg->events = events;
	reg->for_libxl = for_libxl;
	reg->live = true;
	reg->next = x->fds;
	x->fds = reg;
	*reg_out = reg;
	wake_pump(x, XEN_WAKE_POKE);
	return 0;
}

static int hook_fd_modify(void *user, int fd, void **reg_upd, short events)
{
	struct xen_fdreg *reg = *reg_upd;

	reg->events = events;
	wake_pump(user, XEN_WAKE_POKE);
	return 0;
}

static void hook_fd_deregister(void *user, int fd, void *reg_p)
{
	struct xen_fdreg *reg = reg_p;

	/* Freed by the pump's next sweep: a dispatch may still hold it. */
	reg->live = false;
	wake_pump(user, XEN_WAKE_POKE);
}

static int hook_timeout_register(void *user, void **reg_out,
				 struct timeval abs, void *for_libxl)
{
	struct xen_dom *x = user;
	struct xen_toreg *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return ERROR_OSEVENT_REG_FAIL;
	reg->abs = abs;
	reg->for_libxl = for_libxl;
	reg->live = true;
	reg->next = x->tos;
	x->tos = reg;
	*reg_out = reg;
	wake_pump(x, XEN_WAKE_POKE);
	return 0;
}

static int hook_timeout_modify(void *user, void **reg_upd,
			       struct timeval abs)
{
	struct xen_toreg *reg = *reg_upd;

	/* Only ever {0,0}: "now". A timeout already fired is not live. */
	reg->abs = abs;
	wake_pump(user, XEN_WAKE_POKE);
	return 0;
}

static void hook_timeout_deregister(void *user, void *reg_p)
{
	struct xen_toreg *reg = reg_p;

	reg->live = false;
}

static const libxl_osevent_hooks osevent_hooks = {
	.fd_register = hook_fd_register,
	.fd_modify = hook_fd_modify,
	.fd_deregister = hook_fd_deregister,
	.timeout_register = hook_timeout_register,
	.timeout_modify = hook_timeout_modify,
	.timeout_deregister = hook_timeout_deregister,
};

/* Free what libxl deregistered (all of it with @all). */
static void sweep(struct xen_dom *x, bool all)
{
	struct xen_fdreg **fp = &x->fds, *f;
	struct xen_toreg **tp = &x->tos, *t;

	while ((f = *fp)) {
		if (all || !f->live) {
			*fp = f->next;
			free(f);
		} else {
			fp = &f->next;
		}
	}
	while ((t = *tp)) {
		if (all || !t->live) {
			*tp = t->next;
			free(t);
		} else {
			tp = &t->next;
		}
	}
}

/*----------------------------------------------------------------*/
/* libxl's children: hotplug scripts, reaped without SIGCHLD */

/*
 * libxl forks on the pump thread (every libxl call is made there while it
 * runs); a pidfd tells the pump when the child has exited, and
 * libxl_childproc_sigchld_occurred() lets libxl reap it. The manager's
 * own SIGCHLD handling never sees libxl's children as its own.
 */
static pid_t hook_fork(void *user)
{
	struct xen_dom *x = user;
	struct xen_child *c = calloc(1, sizeof(*c));
	pid_t pid;

	if (!c) {
		errno = ENOMEM;
		return -1;
	}
	pid = fork();
	if (pid <= 0) {
		free(c);
		return pid;
	}
	c->pid = pid;
	c->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd < 0)
		vf_warn("xen: pidfd_open(%d): %s", (int)pid, strerror(errno));
	c->next = x->children;
	x->children = c;
	return pid;
}

static const libxl_childproc_hooks childproc_hooks = {
	.chldowner = libxl_sigchld_owner_mainloop,
	.fork_replacement = hook_fork,
};

static void children_exited(struct xen_dom *x, bool all)
{
	struct xen_child **cp = &x->children, *c;
	struct pollfd p;
	bool any = false;

	while ((c = *cp)) {
		p.fd = c->pidfd;
		p.events = POLLIN;
		if (all || c->pidfd < 0 || poll(&p, 1, 0) > 0) {
			*cp = c->next;
			if (c->pidfd >= 0)
				close(c->pidfd);
			free(c);
			any = true;
		} else {
			cp = &c->next;
		}
	}
	if (any && !all)
		libxl_childproc_sigchld_occurred(x->ctx);
}

/*----------------------------------------------------------------*/
/* Lifecycle, on the pump thread */

static const char *shutdown_name(libxl_shutdown_reason r)
{
	switch (r) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return "powered off";
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return "rebooted";
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return "suspended";
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return "crashed";
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return "stopped by its watchdog";
	default:
		return "shut down";
	}
}

/* Is @domid still the domain called @name? */
static bool still_ours(libxl_ctx *ctx, uint32_t domid, const char *name)
{
	char *n = libxl_domid_to_name(ctx, domid);
	bool same = n && !strcmp(n, name);

	free(n);
	return same;
}

/* The end: exit_fd becomes readable, a waiting start() learns of it. */
static void finish(struct xen_dom *x)
{
	uint64_t one = 1;

	/* A start that fails on its own (not killed by the manager). */
	if (!x->hello && !x->failed_start && !x->quit && !x->abandon)
		vf_err("xen: %s before its HELLO: failed start", x->end_why);
	x->failed_start = true;
	x->phase = XP_DONE;
	pthread_mutex_lock(&x->lock);
	x->dead = true;
	x->status = x->end_status;
	snprintf(x->why, sizeof(x->why), "%s", x->end_why);
	pthread_mutex_unlock(&x->lock);
	if (write(x->exit_efd, &one, sizeof(one)) < 0)
		vf_warn("xen: eventfd: %s", strerror(errno));
	tell_up(x, XEN_UP_DEAD);
}

/*
 * Stop relaying and close the vchan. The manager's end sees EOF only with
 * @close_fd: a domain that ends for another reason reports that reason
 * through exit_fd first, and release() closes the socket afterwards.
 */
static void relay_stop(struct xen_dom *x, bool close_fd)
{
	if (x->relaying) {
		x->relaying = false;
		vf_vchan_relay_free(&x->rl);
	}
	if (x->vc) {
		/* Tells the replica: EOF, it exits, the domain powers off. */
		libxenvchan_close(x->vc);
		x->vc = NULL;
	}
	if (close_fd && x->relay_fd >= 0) {
		close(x->relay_fd);
		x->relay_fd = -1;
	}
}

static void on_destroyed(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_dom *x = arg;

	if (rc)
		vf_err("xen: destroy domain %s (%u) failed (libxl %d)", x->name,
		       x->domid, rc);
	else
		vf_info("xen: domain %s (%u) destroyed (%s)", x->name, x->domid,
			x->end_why);
	finish(x);
}

/*
 * End the domain for @why, reporting @status; the first reason wins. A
 * domain that is gone already (destroyed from outside) ends at once.
 */
static void end_domain(struct xen_dom *x, int status, const char *why)
{
	libxl_asyncop_how how = {
		.callback = on_destroyed,
		.u.for_callback = x,
	};
	int rc;

	if (x->phase == XP_DESTROYING || x->phase == XP_DONE)
		return;
	x->end_status = status;
	if (why != x->end_why)
		snprintf(x->end_why, sizeof(x->end_why), "%s", why);
	relay_stop(x, false);
	if (x->phase != XP_RUNNING ||
	    !still_ours(x->ctx, x->domid, x->name)) {
		finish(x);
		return;
	}
	x->phase = XP_DESTROYING;
	rc = libxl_domain_destroy(x->ctx, x->domid, &how);
	if (rc) {
		vf_err("xen: destroy domain %s (%u) failed (libxl %d)", x->name,
		       x->domid, rc);
		finish(x);
	}
}

/*
 * End the domain for @fmt: at once if it runs; when its creation completes
 * if that is in flight (on_created); instead of creating it if stale
 * domains are still being destroyed (create). The first reason wins.
 */
static void __attribute__((format(printf, 3, 4)))
abandon(struct xen_dom *x, int status, const char *fmt, ...)
{
	va_list ap;

	if (x->abandon || x->phase == XP_DESTROYING || x->phase == XP_DONE)
		return;
	x->abandon = true;
	x->end_status = status;
	va_start(ap, fmt);
	vsnprintf(x->end_why, sizeof(x->end_why), fmt, ap);
	va_end(ap);
	if (x->phase == XP_RUNNING)
		end_domain(x, status, x->end_why);
}

/*
 * The start timeout, on the pump: a domain without HELLO bytes within
 * xen_start_timeout_ms of the start of its creation is a failed start
 * (the abort path of a recovery: exit_fd tells the manager). Returns the
 * poll timeout, shortened to the deadline while it is pending.
 */
static int start_deadline(struct xen_dom *x, int timeout)
{
	long left;

	if (x->hello || x->abandon || x->quit || x->phase == XP_DESTROYING ||
	    x->phase == XP_DONE)
		return timeout;
	left = (long)x->xc->start_timeout_ms - ms_since(&x->t_create);
	if (left > 0)
		return timeout < 0 || left < timeout ? (int)left : timeout;
	vf_err("xen: domain %s: no HELLO within xen_start_timeout_ms (%u ms): failed start, destroying it",
	       x->name, x->xc->start_timeout_ms);
	x->failed_start = true;
	abandon(x, W_EXITCODE(1, 0),
		"domain %s: no HELLO within xen_start_timeout_ms (%u ms)",
		x->name, x->xc->start_timeout_ms);
	return 0;
}

static void on_event(void *user, libxl_event *ev)
{
	struct xen_dom *x = user;
	char why[160];

	switch (ev->type) {
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		snprintf(why, sizeof(why), "domain %s (%u) %s", x->name,
			 x->domid,
			 shutdown_name(ev->u.domain_shutdown.shutdown_reason));
		vf_info("xen: %s", why);
		/*
		 * The guest's /init powers off when the replica exits: that
		 * is an exit; anything else counts as a crash.
		 */
		end_domain(x, ev->u.domain_shutdown.shutdown_reason ==
			      LIBXL_SHUTDOWN_REASON_POWEROFF ?
			      W_EXITCODE(0, 0) : W_EXITCODE(0, SIGSEGV), why);
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		snprintf(why, sizeof(why), "domain %s (%u) destroyed", x->name,
			 x->domid);
		/* Our own destroy logs its end itself. */
		if (x->phase != XP_DESTROYING)
			vf_info("xen: %s", why);
		end_domain(x, W_EXITCODE(0, SIGKILL), why);
		break;
	case LIBXL_EVENT_TYPE_DISK_EJECT:
		/* The state volume left the domain: the replica is useless. */
		snprintf(why, sizeof(why), "domain %s (%u): disk %s ejected",
			 x->name, x->domid, ev->u.disk_eject.vdev);
		end_domain(x, W_EXITCODE(0, SIGBUS), why);
		break;
	default:
		break;
	}
	libxl_event_free(x->ctx, ev);
}

static void on_disaster(void *user, libxl_event_type type, const char *msg,
			int errnoval)
{
	struct xen_dom *x = user;

	/* No libxl call allowed here: report; the manager kills us. */
	vf_err("xen: libxl event machinery failed: %s: %s", msg,
	       strerror(errnoval));
	pthread_mutex_lock(&x->lock);
	x->dead = true;
	x->status = W_EXITCODE(0, SIGABRT);
	snprintf(x->why, sizeof(x->why), "libxl event failure");
	pthread_mutex_unlock(&x->lock);
	if (write(x->exit_efd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0)
		vf_warn("xen: eventfd: %s", strerror(errno));
	tell_up(x, XEN_UP_DEAD);
}

static const libxl_event_hooks event_hooks = {
	.event_occurs_mask = LIBXL_EVENTMASK_ALL,
	.event_occurs = on_event,
	.disaster = on_disaster,
};

/* The domain exists, paused: watch it, open the channel, unpause. */
static int after_create(struct xen_dom *x)
{
	char vpath[128];
	int rc, r;

	rc = libxl_evenable_domain_death(x->ctx, x->domid, 0, &x->death_ev);
	if (!rc)
		rc = libxl_evenable_disk_eject(x->ctx, x->domid, XEN_VDEV, 0,
					       &x->eject_ev);
	if (rc) {
		vf_err("xen: domain %s: cannot watch it (libxl %d)", x->name,
		       rc);
		return -EIO;
	}
	/* The channel exists before the replica can look for it. */
	snprintf(vpath, sizeof(vpath), "/local/domain/%u/%s", x->domid,
		 XEN_VCHAN_NODE);
	x->vc = libxenvchan_server_init((xentoollog_logger *)x->lg, x->domid,
					vpath, x->xc->vchan_ring,
					x->xc->vchan_ring);
	if (!x->vc) {
		r = errno ? -errno : -EIO;
		vf_err("xen: domain %s: vchan at %s: %s (is xen-gntalloc loaded?)",
		       x->name, vpath, strerror(-r));
		return r;
	}
	r = vf_vchan_relay_init(&x->rl, x->vc, x->relay_fd);
	if (r)
		return r;
	x->relaying = true;
	rc = libxl_domain_unpause(x->ctx, x->domid, NULL);
	if (rc) {
		vf_err("xen: unpausing domain %s failed (libxl %d)", x->name,
		       rc);
		return -EIO;
	}
	x->created_ms = ms_since(&x->t_create);
	pthread_mutex_lock(&x->lock);
	x->up_domid = (int)x->domid;
	x->up_created_ms = x->created_ms;
	pthread_mutex_unlock(&x->lock);
	vf_info("xen: domain %s (%u) created and unpaused in %ld ms", x->name,
		x->domid, x->created_ms);
	return 0;
}

static void on_created(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_dom *x = arg;
	char why[160];

	libxl_domain_config_dispose(&x->cfg);
	x->have_cfg = false;
	if (rc) {
		/* libxl has destroyed what it had built. */
		snprintf(why, sizeof(why),
			 "creating domain %s failed (libxl %d)", x->name, rc);
		vf_err("xen: %s", why);
		x->end_status = W_EXITCODE(1, 0);
		snprintf(x->end_why, sizeof(x->end_why), "%s", why);
		finish(x);
		return;
	}
	x->phase = XP_RUNNING;
	if (x->quit || x->abandon) {
		/* Killed or timed out while it was being created. */
		end_domain(x, x->end_status, x->end_why);
		return;
	}
	if (after_create(x)) {
		snprintf(why, sizeof(why), "domain %s (%u) could not be set up",
			 x->name, x->domid);
		end_domain(x, W_EXITCODE(1, 0), why);
	}
}

static void create(struct xen_dom *x)
{
	libxl_asyncop_how how = {
		.callback = on_created,
		.u.for_callback = x,
	};
	int rc;

	if (x->quit || x->abandon) {
		/* Ended while stale domains were being destroyed. */
		finish(x);
		return;
	}
	x->phase = XP_CREATING;
	rc = libxl_domain_create_new(x->ctx, &x->cfg, &x->domid, &how, NULL);
	if (rc)
		on_created(x->ctx, rc, x);
}

static void on_stale_destroyed(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_dom *x = arg;

	if (--x->cleaning == 0)
		create(x);
}

/*
 * Domains named PREFIX-<n> belong to this service's manager; one that
 * exists when the manager starts its first replica was left by an
 * earlier vmfitd. Its vchan ended with that process, so it cannot be
 * adopted: destroy it (the state volume is the manager's, not its own).
 */
static void cleanup_stale(struct xen_dom *x)
{
	libxl_asyncop_how how = {
		.callback = on_stale_destroyed,
		.u.for_callback = x,
	};
	size_t plen = strlen(x->xc->domain_prefix);
	libxl_dominfo *info;
	int nb = 0, i, rc;
	char *name;

	x->phase = XP_CLEANING;
	x->cleaning = 1;	/* held until the loop is done */
	info = libxl_list_domain(x->ctx, &nb);
	for (i = 0; info && i < nb; i++) {
		name = libxl_domid_to_name(x->ctx, info[i].domid);
		if (name && !strncmp(name, x->xc->domain_prefix, plen) &&
		    name[plen] == '-') {
			vf_warn("xen: destroying stale domain %s (%u) left by an earlier vmfitd",
				name, info[i].domid);
			x->cleaning++;
			rc = libxl_domain_destroy(x->ctx, info[i].domid, &how);
			if (rc) {
				vf_err("xen: destroy of stale domain %s failed (libxl %d)",
				       name, rc);
				x->cleaning--;
			}
		}
		free(name);
	}
	if (info)
		libxl_dominfo_list_free(info, nb);
	on_stale_destroyed(x->ctx, 0, x);
}

static int tv_cmp(const struct timeval *a, const struct timeval *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_usec != b->tv_usec)
		return a->tv_usec < b->tv_usec ? -1 : 1;
	return 0;
}

/* Fire due libxl timeouts; returns the poll timeout to the next (-1). */
static int run_timeouts(struct xen_dom *x)
{
	struct xen_toreg *t, *due[XEN_MAX_FDS];
	struct timeval now;
	long ms, best = -1;
	int n = 0, i;

	gettimeofday(&now, NULL);
	for (t = x->tos; t; t = t->next) {
		if (!t->live)
			continue;
		if (tv_cmp(&t->abs, &now) <= 0 && n < XEN_MAX_FDS) {
			/* Deregistered on occurrence (libxl_event.h). */
			t->live = false;
			due[n++] = t;
			continue;
		}
		ms = (t->abs.tv_sec - now.tv_sec) * 1000 +
		     (t->abs.tv_usec - now.tv_usec + 999) / 1000;
		if (ms < 0)
			ms = 0;
		if (best < 0 || ms < best)
			best = ms;
	}
	for (i = 0; i < n; i++)
		libxl_osevent_occurred_timeout(x->ctx, due[i]->for_libxl);
	if (n)
		return 0;	/* they may have registered new ones */
	return best > 60000 ? 60000 : (int)best;
}

static void pump_commands(struct xen_dom *x)
{
	char cmd[16];
	ssize_t got;
	int i;

	got = read(x->wake[0], cmd, sizeof(cmd));
	for (i = 0; i < got; i++) {
		switch (cmd[i]) {
		case XEN_WAKE_QUIT:
			x->quit = true;
			/* quitting destroys the domain */
			__attribute__((fallthrough));
		case XEN_WAKE_DESTROY:
			abandon(x, W_EXITCODE(0, SIGKILL),
				"domain %s killed by the manager", x->name);
			break;
		default:
			break;
		}
	}
}

static void *pump_main(void *arg)
{
	struct xen_dom *x = arg;
	struct xen_fdreg *regs[XEN_MAX_FDS];
	struct pollfd pfd[XEN_MAX_FDS];
	struct xen_fdreg *f;
	struct xen_child *c;
	int n, nrelay, nkids, i, timeout, r;

	if (x->clean_stale)
		cleanup_stale(x);
	else
		create(x);
	while (!(x->quit && x->phase == XP_DONE)) {
		sweep(x, false);
		timeout = start_deadline(x, run_timeouts(x));
		if (x->relaying && x->rl.more)
			timeout = 0;
		n = 0;
		pfd[n].fd = x->wake[0];
		pfd[n].events = POLLIN;
		regs[n++] = NULL;
		nrelay = 0;
		if (x->relaying) {
			vf_vchan_relay_pollfds(&x->rl, &pfd[n]);
			nrelay = n;
			regs[n++] = NULL;
			regs[n++] = NULL;
		}
		nkids = n;
		for (c = x->children; c && n < XEN_MAX_FDS; c = c->next) {
			pfd[n].fd = c->pidfd;
			pfd[n].events = POLLIN;
			regs[n++] = NULL;
		}
		for (f = x->fds; f && n < XEN_MAX_FDS; f = f->next) {
			if (!f->live)
				continue;
			pfd[n].fd = f->fd;
			pfd[n].events = f->events;
			regs[n++] = f;
		}
		if (f)
			vf_warn("xen: more than %d fds to poll", XEN_MAX_FDS);
		r = poll(pfd, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			vf_err("xen: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN)
			pump_commands(x);
		for (i = nkids; i < n; i++)
			if (!regs[i] && pfd[i].revents) {
				children_exited(x, false);
				break;
			}
		for (i = 1; i < n; i++) {
			if (!regs[i] || !pfd[i].revents || !regs[i]->live)
				continue;
			libxl_osevent_occurred_fd(x->ctx, regs[i]->for_libxl,
						  regs[i]->fd, pfd[i].events,
						  pfd[i].revents);
		}
		if (x->relaying) {
			r = vf_vchan_relay_handle(&x->rl, &pfd[nrelay]);
			if (!x->hello && x->rl.from_peer) {
				x->hello = true;
				x->hello_ms = ms_since(&x->t_create);
				pthread_mutex_lock(&x->lock);
				x->up_hello_ms = x->hello_ms;
				pthread_mutex_unlock(&x->lock);
				vf_info("xen: domain %s (%u) up: first HELLO bytes %ld ms after the start (created and unpaused in %ld ms)",
					x->name, x->domid, x->hello_ms,
					x->created_ms);
				tell_up(x, XEN_UP_HELLO);
			}
			if (r) {
				if (r < 0)
					vf_warn("xen: domain %s: replica channel: %s",
						x->name, strerror(-r));
				relay_stop(x, true);
			}
		}
	}
	return NULL;
}

/*----------------------------------------------------------------*/
/* The backend ops */

/*
 * The domain's disks, writable phy: devices through blkback: the state
 * volume, then its kv journal if the spec has one (tools/xen/guest-init
 * waits for each disk the replica command names).
 */
struct xen_disk {
	const char *path;	/* in dom0 */
	const char *vdev;	/* in the domain */
	const char *what;	/* for the log: what it is, */
	const char *keys;	/* the settings it comes from, */
	const char *hint;	/* what to do if it is no device */
};

static int xen_disks(const struct vf_replica_spec *spec,
		     struct xen_disk d[XEN_MAX_DISKS])
{
	int n = 0;

	d[n++] = (struct xen_disk){
		.path = spec->state, .vdev = XEN_VDEV,
		.what = "state volume",
		.keys = "state_volume or state_volume_b",
		.hint = "",
	};
	if (spec->journal)
		d[n++] = (struct xen_disk){
			.path = spec->journal, .vdev = XEN_JOURNAL_VDEV,
			.what = "kv journal",
			.keys = "state_journal or state_journal_b",
			.hint = ": give each volume's journal a block device of its own (a logical volume, a partition, a loop device over a file), or set neither state_journal nor state_journal_b to keep the journal in the state volume",
		};
	return n;
}

/*
 * Every disk must be a block device, and no two the same one. All are
 * checked, each failure logged; returns the first error.
 */
static int disks_check(const struct xen_disk *d, int n)
{
	dev_t rdev[XEN_MAX_DISKS];
	struct stat st;
	int i, j, r = 0, e;

	for (i = 0; i < n; i++) {
		rdev[i] = 0;
		if (stat(d[i].path, &st) < 0) {
			e = -errno;
			vf_err("xen: %s %s (%s): %s%s", d[i].what, d[i].path,
			       d[i].keys, strerror(-e), d[i].hint);
		} else if (!S_ISBLK(st.st_mode)) {
			e = -ENOTBLK;
			vf_err("xen: %s %s (%s) is not a block device: the xen backend attaches it to the domain as %s through blkback (phy:)%s",
			       d[i].what, d[i].path, d[i].keys, d[i].vdev,
			       d[i].hint);
		} else {
			rdev[i] = st.st_rdev;
			for (j = 0; j < i && rdev[j] != rdev[i]; j++)
				;
			if (j == i)
				continue;
			e = -EINVAL;
			vf_err("xen: %s %s (%s) is the device of the %s %s%s",
			       d[i].what, d[i].path, d[i].keys, d[j].what,
			       d[j].path, d[i].hint);
		}
		if (!r)
			r = e;
	}
	return r;
}

/*
 * The replica command after "--": the kernel passes it to /init, which
 * adds the channel and the state volume (tools/xen/guest-init). The
 * journal disk is named here, so a domain without it fails its start
 * instead of journalling elsewhere.
 */
static int build_cmdline(char *buf, size_t len, const struct vf_xen_conf *xc,
			 const char *cmd, bool journal)
{
	char words[4096];
	char *argv[VF_REPLICA_MAX_ARGS + 2];
	size_t off;
	int n, i, w;

	n = vf_split_cmd(cmd, words, sizeof(words), argv, VF_REPLICA_MAX_ARGS);
	if (n < 0)
		return n;
	if (journal) {
		argv[n++] = "--journal";
		argv[n++] = "/dev/" XEN_JOURNAL_VDEV;
	}
	w = snprintf(buf, len, "%s --", xc->extra);
	if (w < 0 || (size_t)w >= len)
		return -E2BIG;
	off = w;
	for (i = 0; i < n; i++) {
		w = snprintf(buf + off, len - off, " %s", argv[i]);
		if (w < 0 || (size_t)w >= len - off)
			return -E2BIG;
		off += w;
	}
	return 0;
}

static int build_config(struct xen_dom *x, const struct vf_replica_spec *spec)
{
	const struct vf_xen_conf *xc = spec->xen;
	libxl_domain_config *cfg = &x->cfg;
	struct xen_disk d[XEN_MAX_DISKS];
	libxl_device_disk *disk;
	char cmdline[2048];
	int r, n, i;

	n = xen_disks(spec, d);
	r = build_cmdline(cmdline, sizeof(cmdline), xc, spec->cmd, n > 1);
	if (r)
		return r;
	libxl_domain_config_init(cfg);
	x->have_cfg = true;
	cfg->c_info.type = LIBXL_DOMAIN_TYPE_PV;
	cfg->c_info.name = strdup(x->name);
	libxl_domain_build_info_init_type(&cfg->b_info, LIBXL_DOMAIN_TYPE_PV);
	cfg->b_info.max_vcpus = xc->vcpus;
	cfg->b_info.max_memkb = (uint64_t)xc->memory_mb * 1024;
	cfg->b_info.target_memkb = cfg->b_info.max_memkb;
	cfg->b_info.kernel = strdup(image.kernel_ref);
	cfg->b_info.ramdisk = strdup(image.ramdisk_ref);
	cfg->b_info.cmdline = strdup(cmdline);
	/* Applied by this backend (libxl itself applies none of them). */
	cfg->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	cfg->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	cfg->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	if (!cfg->c_info.name || !cfg->b_info.kernel || !cfg->b_info.ramdisk ||
	    !cfg->b_info.cmdline)
		return -ENOMEM;
	cfg->disks = calloc(n, sizeof(*cfg->disks));
	if (!cfg->disks)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		disk = &cfg->disks[i];
		libxl_device_disk_init(disk);
		cfg->num_disks++;
		disk->backend_domid = 0;
		disk->pdev_path = strdup(d[i].path);
		disk->vdev = strdup(d[i].vdev);
		disk->backend = LIBXL_DISK_BACKEND_PHY;
		disk->format = LIBXL_DISK_FORMAT_RAW;
		disk->readwrite = 1;
		if (!disk->pdev_path || !disk->vdev)
			return -ENOMEM;
	}
	return 0;
}

/* Stop the pump (it destroys the domain first) and free everything. */
static void dom_free(struct xen_dom *x)
{
	if (x->pumping) {
		wake_pump(x, XEN_WAKE_QUIT);
		pthread_join(x->pump, NULL);
		x->pumping = false;
	}
	relay_stop(x, true);
	if (x->user_fd >= 0)
		close(x->user_fd);
	if (x->have_cfg)
		libxl_domain_config_dispose(&x->cfg);
	if (x->ctx)
		libxl_ctx_free(x->ctx);
	children_exited(x, true);
	sweep(x, true);
	if (x->lg)
		xtl_logger_destroy((xentoollog_logger *)x->lg);
	if (x->relay_fd >= 0)
		close(x->relay_fd);
	if (x->wake[0] >= 0)
		close(x->wake[0]);
	if (x->wake[1] >= 0)
		close(x->wake[1]);
	if (x->up[0] >= 0)
		close(x->up[0]);
	if (x->up[1] >= 0)
		close(x->up[1]);
	if (x->exit_efd >= 0)
		close(x->exit_efd);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/*
 * Wait for the pump's verdict on the start: 0 (HELLO bytes), -EIO (the
 * domain ended: the pump has said why), -ETIMEDOUT (no verdict: the pump
 * enforces the start timeout, so only a libxl call that never completes
 * gets here).
 */
static int wait_up(struct xen_dom *x, unsigned int timeout_ms)
{
	struct pollfd p = { .fd = x->up[0], .events = POLLIN };
	long left;
	char c;
	int r;

	for (;;) {
		left = (long)timeout_ms - ms_since(&x->t_create);
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (read(x->up[0], &c, 1) != 1)
			continue;
		if (c == XEN_UP_HELLO)
			return 0;
		if (c == XEN_UP_DEAD)
			return -EIO;
	}
}

static unsigned int dom_seq;
/*
 * Only before the first domain of this process: every later one (a
 * recovery's shadow) runs beside the senior, whose name has the prefix.
 */
static bool stale_cleaned;

/* What the pump learnt since: the domain id, the start times. */
static void xen_refresh(struct vf_replica *r)
{
	struct xen_dom *x = r->priv;

	if (!r->running || !x)
		return;
	pthread_mutex_lock(&x->lock);
	r->domid = x->up_domid;
	r->created_ms = x->up_created_ms;
	r->hello_ms = x->up_hello_ms;
	pthread_mutex_unlock(&x->lock);
}

static int xen_start(struct vf_replica *r, const struct vf_replica_spec *spec)
{
	const struct vf_xen_conf *xc = spec->xen;
	struct xen_disk d[XEN_MAX_DISKS];
	xentoollog_level lvl;
	struct xen_dom *x;
	int ret, rc, sv[2];

	if (!xc || !spec->state)
		return -EINVAL;
	ret = disks_check(d, xen_disks(spec, d));
	if (ret)
		return ret;
	pthread_mutex_lock(&image_lock);
	ret = image_verify(xc);
	pthread_mutex_unlock(&image_lock);
	if (ret)
		return ret;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->xc = xc;
	x->relay_fd = -1;
	x->user_fd = -1;
	x->wake[0] = -1;
	x->wake[1] = -1;
	x->up[0] = -1;
	x->up[1] = -1;
	x->domid = INVALID_DOMID;
	x->created_ms = -1;
	x->hello_ms = -1;
	x->up_domid = -1;
	x->up_created_ms = -1;
	x->up_hello_ms = -1;
	pthread_mutex_init(&x->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &x->t_create);
	snprintf(x->name, sizeof(x->name), "%.48s-%u", xc->domain_prefix,
		 ++dom_seq);
	x->clean_stale = !stale_cleaned;
	stale_cleaned = true;
	x->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->exit_efd < 0 || pipe2(x->wake, O_CLOEXEC | O_NONBLOCK) ||
	    pipe2(x->up, O_CLOEXEC | O_NONBLOCK)) {
		ret = -errno;
		goto fail;
	}
	/*
	 * The channel's socketpair exists before the domain: the manager
	 * polls its end at once, and the HELLO arrives on it when the
	 * replica has booted (the pump relays the vchan into the other end).
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		goto fail;
	}
	x->user_fd = sv[0];
	x->relay_fd = sv[1];
	/* libxl's own log: errors, everything at vmfitd's debug level */
	lvl = vf_log_get_level() >= VF_LOG_DEBUG ? XTL_DEBUG : XTL_ERROR;
	x->lg = xtl_createlogger_stdiostream(stderr, lvl, 0);
	if (!x->lg) {
		ret = -ENOMEM;
		goto fail;
	}
	rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0,
			     (xentoollog_logger *)x->lg);
	if (rc) {
		vf_err("xen: libxl_ctx_alloc failed (libxl %d): is this dom0 with xenstored running?",
		       rc);
		x->ctx = NULL;
		ret = -ENXIO;
		goto fail;
	}
	libxl_osevent_register_hooks(x->ctx, &osevent_hooks, x);
	libxl_event_register_callbacks(x->ctx, &event_hooks, x);
	libxl_childproc_setmode(x->ctx, &childproc_hooks, x);
	ret = build_config(x, spec);
	if (ret)
		goto fail;
	/* From here on only the pump calls libxl, until it is joined. */
	ret = -pthread_create(&x->pump, NULL, pump_main, x);
	if (ret)
		goto fail;
	x->pumping = true;

	if (spec->wait_hello) {
		ret = wait_up(x, xc->start_timeout_ms + XEN_VERDICT_GRACE_MS);
		if (ret == -ETIMEDOUT)
			vf_err("xen: domain %s: libxl did not finish its creation or destruction within xen_start_timeout_ms + %d ms: failed start",
			       x->name, XEN_VERDICT_GRACE_MS);
		if (ret)
			goto fail;
	}
	r->ops = &vf_xen_backend;
	r->fd = x->user_fd;
	x->user_fd = -1;
	r->exit_fd = x->exit_efd;
	r->pid = 0;
	r->domid = -1;
	r->running = true;
	r->priv = x;
	xen_refresh(r);
	return 0;

fail:
	dom_free(x);
	return ret;
}

static void release(struct vf_replica *r)
{
	if (r->fd >= 0)
		close(r->fd);
	/* exit_fd is the domain's eventfd: dom_free closes it. */
	dom_free(r->priv);
	r->fd = -1;
	r->exit_fd = -1;
	r->domid = -1;
	r->running = false;
	r->priv = NULL;
}

static int xen_reap(struct vf_replica *r, int *status)
{
	struct xen_dom *x = r->priv;
	bool dead;

	if (!r->running)
		return 1;
	pthread_mutex_lock(&x->lock);
	dead = x->dead;
	*status = x->status;
	if (dead)
		vf_warn("xen: %s", x->why);
	pthread_mutex_unlock(&x->lock);
	if (!dead)
		return 0;
	release(r);
	return 1;
}

static int xen_kill(struct vf_replica *r)
{
	struct xen_dom *x = r->priv;

	if (!r->running)
		return 0;
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	/* Still running until reap() sees exit_fd. */
	wake_pump(x, XEN_WAKE_DESTROY);
	return 0;
}

/*
 * EOF on the channel: the relay closes the vchan, the replica exits and
 * the domain powers off; the pump destroys it and exit_fd becomes
 * readable. Returns at once (the event loop's stop).
 */
static int xen_shutdown(struct vf_replica *r)
{
	if (r->running && r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	return 0;
}

static int xen_stop(struct vf_replica *r, int timeout_ms)
{
	struct xen_dom *x = r->priv;
	struct pollfd p;
	int ret;

	if (!r->running)
		return 0;
	xen_shutdown(r);
	p.fd = x->exit_efd;
	p.events = POLLIN;
	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret <= 0)
		vf_warn("xen: domain %s (%u) did not power off within %d ms: destroying it",
			x->name, x->domid, timeout_ms);
	release(r);
	return 0;
}

static int xen_restart(struct vf_replica *r, const struct vf_replica_spec *spec)
{
	int ret = xen_stop(r, 10000);

	if (ret)
		return ret;
	return xen_start(r, spec);
}

const struct vf_backend_ops vf_xen_backend = {
	.name = "xen",
	.start = xen_start,
	.stop = xen_stop,
	.shutdown = xen_shutdown,
	.kill = xen_kill,
	.reap = xen_reap,
	.restart = xen_restart,
	.refresh = xen_refresh,
};
