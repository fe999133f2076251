// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-nlfuzz - exercise dm-vmfit's generic netlink family with bad and
 * random requests. Every request asks for an ack, so every one must be
 * answered; an error from the family's own code must carry an extended-ack
 * message (only the genetlink core's own refusals, -EOPNOTSUPP for unknown
 * commands or a dump of a doit-only command, come without one; -EPERM is
 * still accepted without one, from a module before family version 3).
 *
 *   vmfit-nlfuzz cases NAME      fixed bad requests with expected errors
 *                                (takes and drops a snapshot of NAME)
 *   vmfit-nlfuzz unpriv NAME     as nobody: status works, every admin
 *                                command gets -EPERM
 *   vmfit-nlfuzz netadmin NAME   as root with CAP_NET_ADMIN but without
 *                                CAP_SYS_ADMIN: the same (admin commands
 *                                need CAP_SYS_ADMIN, as the dm ioctls do)
 *   vmfit-nlfuzz status NAME [MAJ:MIN]
 *                                the netlink status as key=value lines
 *   vmfit-nlfuzz control NAME snapshot|merge|drop|clear|cancel
 *                                one command through vf_nl
 *   (both print "error <errno> <extack>" and exit 1 on failure)
 *   vmfit-nlfuzz csumhold NAME  start a checksum of NAME (one worker),
 *                                read its first message, print "held",
 *                                wait until stdin is closed, read the dump
 *                                to its end and print "end <errno> <extack>"
 *                                (lifecycle tests: a session held open)
 *   vmfit-nlfuzz random NAME SECONDS [PROCS [SEED]]
 *                                random commands, attributes, dumps that
 *                                are abandoned midway, from PROCS processes
 *                                with their own sockets at once
 *   vmfit-nlfuzz flood NAME SECONDS PROCS
 *                                as nobody, PROCS processes: every command
 *                                (status served, admin ones refused with
 *                                -EPERM, random ones answered) as fast as
 *                                answered; joining the events group
 *                                refused); until SIGTERM or SECONDS
 *   vmfit-nlfuzz hog NAME SECONDS PROCS
 *                                the CPU control of flood: PROCS processes
 *                                as nobody in a syscall loop (NAME unused)
 *
 * Exit status: 0 all answers as expected, 1 otherwise, 2 misuse.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "uapi/linux/dm-vmfit.h"
#include "vf_nl.h"

/* Processes of random, flood and hog. */
#define FZ_PROCS_MAX 16

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct fz {
	struct nl_sock *sk;
	int family;
	const char *dev;
	unsigned long sent;
	unsigned long errors;
	unsigned long ok;
	unsigned long dump_msgs;
	unsigned long abandoned;
	unsigned long bad;	/* answers that broke a rule */
};

struct answer {
	int error;		/* 0 ok, -errno */
	bool answered;
	bool has_msg;
	char msg[256];
	unsigned long data;	/* data messages (replies, dump parts) */
};

static int fz_connect(struct fz *f)
{
	struct timeval tv = { .tv_sec = 20 };
	int one = 1;

	f->sk = nl_socket_alloc();
	if (!f->sk || genl_connect(f->sk))
		return -1;
	setsockopt(nl_socket_get_fd(f->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(f->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(f->sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	nl_socket_enable_msg_peek(f->sk);
	nl_socket_disable_auto_ack(f->sk);
	f->family = genl_ctrl_resolve(f->sk, VMFIT_GENL_FAMILY_NAME);
	if (f->family < 0) {
		fprintf(stderr, "vmfit-nlfuzz: family %s not found: is "
			"dm-vmfit loaded?\n", VMFIT_GENL_FAMILY_NAME);
		return -1;
	}
	return 0;
}

static void fz_reconnect(struct fz *f)
{
	nl_socket_free(f->sk);
	if (fz_connect(f)) {
		fprintf(stderr, "vmfit-nlfuzz: reconnect failed\n");
		exit(1);
	}
}

static struct nl_msg *fz_msg(struct fz *f, int cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc_size(65536);

	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, f->family, 0,
			       flags | NLM_F_ACK, cmd, VMFIT_GENL_VERSION)) {
		fprintf(stderr, "vmfit-nlfuzz: out of memory\n");
		exit(1);
	}
	return m;
}

/*
 * Send @m (freed) and read the answer. With @abandon_after > 0, stop
 * reading a dump after that many data messages and drop the socket.
 */
static void fz_send(struct fz *f, struct nl_msg *m, struct answer *a,
		    unsigned long abandon_after)
{
	struct sockaddr_nl who;
	unsigned char *buf;
	struct nlmsghdr *h;
	int n;

	memset(a, 0, sizeof(*a));
	n = nl_send_auto(f->sk, m);
	nlmsg_free(m);
	f->sent++;
	if (n < 0) {
		fprintf(stderr, "vmfit-nlfuzz: send: %s\n", nl_geterror(n));
		exit(1);
	}
	while (!a->answered) {
		n = nl_recv(f->sk, &who, &buf, NULL);
		if (n <= 0) {
			fprintf(stderr, "vmfit-nlfuzz: no answer (%d)\n", n);
			f->bad++;
			fz_reconnect(f);
			return;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n);
		     h = nlmsg_next(h, &n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(h);

				a->error = e->error;
				a->answered = true;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				memcpy(&a->error, nlmsg_data(h), sizeof(int));
				/* A dump's ack comes after its DONE when the
				 * request asked for one; DONE ends it. */
				a->answered = true;
			} else {
				a->data++;
				continue;
			}
			vf_nl_parse_extack(h, a->msg, sizeof(a->msg));
			a->has_msg = a->msg[0] != '\0';
			break;
		}
		free(buf);
		if (!a->answered && abandon_after && a->data >= abandon_after) {
			f->abandoned++;
			fz_reconnect(f);
			a->answered = true;
			a->error = 0;
			return;
		}
	}
	f->dump_msgs += a->data;
	if (a->error)
		f->errors++;
	else
		f->ok++;
	/* Drain a trailing ack after DONE so the next request starts clean. */
	if (a->data)
		fz_reconnect(f);
}

/* The family's own errors must explain themselves. */
static bool core_error(int err)
{
	return err == -EPERM || err == -EOPNOTSUPP;
}

static void fz_rule(struct fz *f, const struct answer *a, const char *what)
{
	if (a->error && !a->has_msg && !core_error(a->error)) {
		f->bad++;
		fprintf(stderr, "FAIL: %s: error %d (%s) without an extack "
			"message\n", what, a->error, strerror(-a->error));
	}
}

/*----------------------------------------------------------------*/
/* Fixed cases */

static int failures;

static void expect(struct fz *f, struct nl_msg *m, int want, bool dump,
		   const char *what)
{
	struct answer a;

	fz_send(f, m, &a, 0);
	if (want && a.error != want) {
		failures++;
		printf("FAIL: %-48s error %d (%s), want %d (%s) [%s]\n", what,
		       a.error, strerror(-a.error), want, strerror(-want),
		       a.msg);
		return;
	}
	if (!want && !a.error) {
		failures++;
		printf("FAIL: %-48s succeeded, want an error\n", what);
		return;
	}
	if (!a.has_msg && !core_error(a.error)) {
		failures++;
		printf("FAIL: %-48s error %d without an extack message\n",
		       what, a.error);
		return;
	}
	printf("ok:   %-48s %d %s%s%s\n", what, a.error, a.has_msg ? "\"" : "",
	       a.msg, a.has_msg ? "\"" : "");
}

static struct nl_msg *dev_msg(struct fz *f, int cmd, int flags)
{
	struct nl_msg *m = fz_msg(f, cmd, flags);

	nla_put_string(m, VMFIT_ATTR_DEV_NAME, f->dev);
	return m;
}

static struct nl_msg *csum_msg(struct fz *f)
{
	return dev_msg(f, VMFIT_CMD_CHECKSUM, NLM_F_DUMP);
}

static int wait_mode(struct vf_nl *nl, const char *dev, uint32_t view)
{
	struct vf_nl_dev d = { .name = dev };
	struct vf_nl_status st;
	int i;

	for (i = 0; i < 200; i++) {
		if (vf_nl_status(nl, &d, &st))
			return -1;
		if (st.view == view)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int run_cases(struct fz *f)
{
	char longname[300];
	struct vf_nl_dev d = { .name = f->dev };
	struct vf_nl *nl;
	struct nl_msg *m;
	uint16_t small = 7;

	if (vf_nl_open(&nl)) {
		fprintf(stderr, "vmfit-nlfuzz: %s\n", vf_nl_errmsg(nl));
		return 1;
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	/* Device naming. */
	expect(f, fz_msg(f, VMFIT_CMD_GET_STATUS, 0), -EINVAL, false,
	       "status without a device");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 253);
	expect(f, m, -EINVAL, false, "status with a major only");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 0);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 0);
	expect(f, m, -EINVAL, false, "status of device 0:0");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 1);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 3);
	expect(f, m, -ENODEV, false, "status of /dev/null's number");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_string(m, VMFIT_ATTR_DEV_NAME, "no-such-vmfit-device");
	expect(f, m, -ENODEV, false, "status of an unknown name");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_string(m, VMFIT_ATTR_DEV_NAME, "");
	expect(f, m, -EINVAL, false, "status of an empty name");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put(m, VMFIT_ATTR_DEV_NAME, 4, "abcd");
	expect(f, m, -EINVAL, false, "name without its NUL");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_string(m, VMFIT_ATTR_DEV_NAME, longname);
	expect(f, m, 0, false, "oversized name");
	m = fz_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put(m, VMFIT_ATTR_DEV_MAJOR, 2, &small);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 0);
	expect(f, m, -EINVAL, false, "u16 where a u32 belongs");
	m = dev_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, 200, 1);
	expect(f, m, -EINVAL, false, "unknown attribute type");
	m = dev_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, VMFIT_ATTR_CSUM_ALGO, VMFIT_CSUM_SHA256);
	expect(f, m, -EINVAL, false, "attribute of another command");
	m = dev_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_string(m, VMFIT_ATTR_DEV_NAME, "no-such-vmfit-device");
	expect(f, m, -ENODEV, false, "duplicate name, the last unknown");
	m = dev_msg(f, VMFIT_CMD_GET_STATUS, 0);
	nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, 1);
	nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, 3);
	expect(f, m, -ENODEV, false, "name and a number of nothing");

	/* Commands. */
	expect(f, fz_msg(f, 99, 0), -EOPNOTSUPP, false, "unknown command");
	expect(f, fz_msg(f, VMFIT_CMD_EVT_SNAPSHOT_END, 0), -EOPNOTSUPP,
	       false, "an event sent as a request");
	expect(f, dev_msg(f, VMFIT_CMD_CHECKSUM, 0), -EOPNOTSUPP, false,
	       "checksum without NLM_F_DUMP");
	expect(f, dev_msg(f, VMFIT_CMD_SNAPSHOT, NLM_F_DUMP), -EOPNOTSUPP,
	       false, "snapshot as a dump");
	expect(f, dev_msg(f, VMFIT_CMD_MERGE, 0), -EINVAL, false,
	       "merge without a snapshot");
	expect(f, dev_msg(f, VMFIT_CMD_DROP, 0), -EINVAL, false,
	       "drop without a snapshot");
	expect(f, csum_msg(f), -EINVAL, false, "checksum without a snapshot");
	expect(f, dev_msg(f, VMFIT_CMD_CHECKSUM_CANCEL, 0), -ENOENT, false,
	       "cancel with no checksum running");
	m = fz_msg(f, VMFIT_CMD_CHECKSUM, NLM_F_DUMP);
	expect(f, m, -EINVAL, false, "checksum without a device");

	/* With a snapshot. */
	if (vf_nl_control(nl, &d, VMFIT_CMD_SNAPSHOT) ||
	    wait_mode(nl, f->dev, VMFIT_NL_VIEW_READY)) {
		printf("FAIL: cannot take a snapshot: %s\n", vf_nl_errmsg(nl));
		vf_nl_close(nl);
		return 1;
	}
	expect(f, dev_msg(f, VMFIT_CMD_SNAPSHOT, 0), -EBUSY, false,
	       "snapshot while one is active");
	expect(f, dev_msg(f, VMFIT_CMD_CLEAR, 0), -EBUSY, false,
	       "clear in snapshot mode");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_ALGO, 0);
	expect(f, m, -ERANGE, false, "algorithm 0");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_ALGO, 99);
	expect(f, m, -ERANGE, false, "algorithm 99");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_FLAGS, 0x80);
	expect(f, m, -EINVAL, false, "unknown checksum flag");
	m = csum_msg(f);
	nla_put_u64(m, VMFIT_ATTR_FIRST_CHUNK, 1ULL << 40);
	expect(f, m, -ERANGE, false, "first chunk beyond the device");
	m = csum_msg(f);
	nla_put_u64(m, VMFIT_ATTR_LAST_CHUNK, UINT64_MAX);
	expect(f, m, -ERANGE, false, "last chunk 2^64-1");
	m = csum_msg(f);
	nla_put_u64(m, VMFIT_ATTR_LAST_CHUNK, 1ULL << 40);
	expect(f, m, -ERANGE, false, "last chunk beyond the device");
	m = csum_msg(f);
	nla_put_u64(m, VMFIT_ATTR_FIRST_CHUNK, 10);
	nla_put_u64(m, VMFIT_ATTR_LAST_CHUNK, 5);
	expect(f, m, -EINVAL, false, "inverted chunk range");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_FIRST_CHUNK, 1);
	expect(f, m, -EINVAL, false, "u32 where a u64 belongs");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_WORKERS, 0);
	expect(f, m, -ERANGE, false, "0 checksum workers");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_WORKERS, VMFIT_CSUM_WORKERS_MAX + 1);
	expect(f, m, -ERANGE, false, "65 checksum workers");
	m = csum_msg(f);
	nla_put_u64(m, VMFIT_ATTR_CSUM_WORKERS, 2);
	expect(f, m, -EINVAL, false, "u64 checksum workers");
	m = csum_msg(f);
	nla_put_u32(m, VMFIT_ATTR_CSUM_ENTRIES, 0);
	expect(f, m, -EINVAL, false, "reply-only attribute in a request");

	if (vf_nl_control(nl, &d, VMFIT_CMD_DROP)) {
		printf("FAIL: drop: %s\n", vf_nl_errmsg(nl));
		failures++;
	}
	vf_nl_close(nl);
	printf("%d failure(s) in %lu requests\n", failures, f->sent);
	return failures ? 1 : 0;
}

/*----------------------------------------------------------------*/
/* Without privileges */

static int drop_privileges(void)
{
	/* nobody:nogroup; setuid clears the capabilities. */
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("vmfit-nlfuzz: drop privileges");
		return -1;
	}
	return 0;
}

/* Root without CAP_SYS_ADMIN (effective, permitted, bounding set). */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned int w = CAP_SYS_ADMIN / 32, bit = 1U << (CAP_SYS_ADMIN % 32);

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) ||
	    syscall(SYS_capget, &h, d)) {
		perror("vmfit-nlfuzz: drop CAP_SYS_ADMIN");
		return -1;
	}
	d[w].effective &= ~bit;
	d[w].permitted &= ~bit;
	d[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d)) {
		perror("vmfit-nlfuzz: drop CAP_SYS_ADMIN");
		return -1;
	}
	return 0;
}

static int run_unpriv(struct fz *f, bool netadmin)
{
	static const int admin[] = {
		VMFIT_CMD_SNAPSHOT, VMFIT_CMD_MERGE, VMFIT_CMD_DROP,
		VMFIT_CMD_CLEAR, VMFIT_CMD_CHECKSUM_CANCEL,
	};
	struct answer a;
	unsigned int i;

	if (netadmin ? drop_sys_admin() : drop_privileges())
		return 1;
	nl_socket_free(f->sk);
	if (fz_connect(f))
		return 1;
	for (i = 0; i < sizeof(admin) / sizeof(admin[0]); i++)
		expect(f, dev_msg(f, admin[i], 0), -EPERM, false,
		       netadmin ? "admin command without CAP_SYS_ADMIN" :
		       "admin command as nobody");
	expect(f, csum_msg(f), -EPERM, false,
	       netadmin ? "checksum without CAP_SYS_ADMIN" :
	       "checksum as nobody");
	fz_send(f, dev_msg(f, VMFIT_CMD_GET_STATUS, 0), &a, 0);
	if (a.error || a.data != 1) {
		failures++;
		printf("FAIL: status without privileges: error %d, %lu replies\n",
		       a.error, a.data);
	} else {
		printf("ok:   status without privileges works\n");
	}
	printf("%d failure(s) in %lu requests\n", failures, f->sent);
	return failures ? 1 : 0;
}

/*----------------------------------------------------------------*/
/* Random requests */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed. */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(unsigned int n)
{
	return rnd() % n;
}

static void rnd_attr(struct fz *f, struct nl_msg *m)
{
	unsigned char junk[300];
	unsigned int i, len;

	switch (rnd_below(12)) {
	case 0:
	case 1:
		nla_put_string(m, VMFIT_ATTR_DEV_NAME, f->dev);
		break;
	case 2:
		nla_put_string(m, VMFIT_ATTR_DEV_NAME, "vmfit-nlfuzz-nothing");
		break;
	case 3:
		nla_put_u32(m, VMFIT_ATTR_DEV_MAJOR, rnd_below(300));
		nla_put_u32(m, VMFIT_ATTR_DEV_MINOR, rnd_below(300));
		break;
	case 4:
		nla_put_u32(m, VMFIT_ATTR_CSUM_ALGO, rnd_below(7));
		break;
	case 5:
		nla_put_u32(m, VMFIT_ATTR_CSUM_FLAGS, rnd_below(4));
		break;
	case 6:
		nla_put_u64(m, VMFIT_ATTR_FIRST_CHUNK,
			    rnd_below(2) ? rnd_below(4096) : rnd());
		break;
	case 7:
		nla_put_u64(m, VMFIT_ATTR_LAST_CHUNK,
			    rnd_below(2) ? rnd_below(4096) : rnd());
		break;
	case 8:
		nla_put_u32(m, VMFIT_ATTR_CSUM_WORKERS, rnd_below(70));
		break;
	default:
		/* Any type, any length, any bytes. */
		len = rnd_below(sizeof(junk));
		for (i = 0; i < len; i++)
			junk[i] = rnd();
		nla_put(m, rnd_below(40), len, junk);
		break;
	}
}

static int run_random(struct fz *f, unsigned int seconds)
{
	time_t end = time(NULL) + seconds;
	struct answer a;
	struct nl_msg *m;
	char what[64];
	int cmd, flags;
	unsigned int i, n;

	while (time(NULL) < end) {
		/* Mostly real commands, sometimes anything. */
		cmd = rnd_below(10) ? 1 + rnd_below(VMFIT_CMD_CHECKSUM_CANCEL) :
		      rnd_below(256);
		flags = 0;
		if (cmd == VMFIT_CMD_CHECKSUM ? rnd_below(10) : !rnd_below(5))
			flags |= NLM_F_DUMP;
		m = fz_msg(f, cmd, flags);
		if (rnd_below(8))
			nla_put_string(m, VMFIT_ATTR_DEV_NAME, f->dev);
		n = rnd_below(4);
		for (i = 0; i < n; i++)
			rnd_attr(f, m);
		fz_send(f, m, &a, rnd_below(3) ? 0 : 1 + rnd_below(3));
		snprintf(what, sizeof(what), "random cmd %d flags %#x", cmd,
			 flags);
		fz_rule(f, &a, what);
	}
	printf("pid %d: %lu requests: %lu ok, %lu errors, %lu dump messages, "
	       "%lu dumps abandoned, %lu broken answers\n", getpid(), f->sent,
	       f->ok, f->errors, f->dump_msgs, f->abandoned, f->bad);
	return f->bad ? 1 : 0;
}

/*----------------------------------------------------------------*/
/*
 * Flood as nobody (tests/kmod/vmfit-unpriv.sh): everything the family
 * offers an unprivileged user, as fast as it answers, until SIGTERM or
 * the time is up. Each process first asks to join the events group, which
 * must be refused (-EPERM: an event is sent under the commit lock, so many
 * listeners could delay a flush).
 * The CPU control is "hog": the same number of processes, as nobody,
 * burning CPU in a syscall loop without touching the family.
 */

/* Status requests per round of the other commands. */
#define FL_STATUS_EACH 8

static volatile sig_atomic_t fl_stop;
static pid_t fl_kids[FZ_PROCS_MAX];
static unsigned int fl_nkids;

static void fl_on_term(int sig)
{
	unsigned int i;

	(void)sig;
	fl_stop = 1;
	for (i = 0; i < fl_nkids; i++)
		kill(fl_kids[i], SIGTERM);
}

struct fl_counts {
	unsigned long served;	/* status answered with its reply */
	unsigned long refused;	/* admin command refused with -EPERM */
	unsigned long other;	/* random requests, answered */
	unsigned long wrong;	/* any other answer to a known request */
};

static void fl_check(struct fz *f, struct nl_msg *m, int want, bool dump,
		     struct fl_counts *c, const char *what)
{
	struct answer a;

	fz_send(f, m, &a, 0);
	if (a.error != want || (!want && (dump ? !a.data : a.data != 1))) {
		c->wrong++;
		fprintf(stderr, "FAIL: %s as nobody: error %d (%s), %lu "
			"replies [%s]\n", what, a.error, strerror(-a.error),
			a.data, a.msg);
	} else if (want) {
		c->refused++;
	} else {
		c->served++;
	}
}

static int fl_one(struct fz *f, unsigned int seconds)
{
	static const int admin[] = {
		VMFIT_CMD_SNAPSHOT, VMFIT_CMD_MERGE, VMFIT_CMD_DROP,
		VMFIT_CMD_CLEAR, VMFIT_CMD_CHECKSUM_CANCEL,
	};
	time_t end = time(NULL) + seconds;
	struct fl_counts c = { 0 };
	struct vf_nl *listener;
	struct answer a;
	int r;
	struct nl_msg *m;
	unsigned int i;

	if (fz_connect(f))
		return 1;
	if (vf_nl_open(&listener))
		return 1;
	r = vf_nl_subscribe(listener);
	if (r != -EPERM) {
		fprintf(stderr, "FAIL: joining the events group as nobody: "
			"%s (want: refused with EPERM)\n",
			r ? vf_nl_errmsg(listener) : "joined");
		vf_nl_close(listener);
		return 1;
	}
	vf_nl_close(listener);
	while (!fl_stop && time(NULL) < end) {
		/*
		 * Status is the one command that reaches a device (the others
		 * stop at the privilege check): most of the flood.
		 */
		for (i = 0; i < FL_STATUS_EACH; i++)
			fl_check(f, dev_msg(f, VMFIT_CMD_GET_STATUS, 0), 0,
				 false, &c, "status");
		fl_check(f, fz_msg(f, VMFIT_CMD_GET_STATUS, NLM_F_DUMP), 0,
			 true, &c, "status dump");
		for (i = 0; i < sizeof(admin) / sizeof(admin[0]); i++)
			fl_check(f, dev_msg(f, admin[i], 0), -EPERM, false,
				 &c, "admin command");
		fl_check(f, csum_msg(f), -EPERM, true, &c, "checksum");
		/* Anything, with random attributes: it must be answered. */
		m = fz_msg(f, rnd_below(256), rnd_below(4) ? 0 : NLM_F_DUMP);
		for (i = rnd_below(4); i > 0; i--)
			rnd_attr(f, m);
		fz_send(f, m, &a, rnd_below(3) ? 0 : 1);
		fz_rule(f, &a, "random request as nobody");
		c.other++;
	}
	printf("flood pid %d: %lu served %lu refused %lu other %lu wrong "
	       "%lu broken\n", getpid(), c.served, c.refused, c.other,
	       c.wrong, f->bad);
	return c.wrong || f->bad ? 1 : 0;
}

static void fl_hog(unsigned int seconds)
{
	time_t end = time(NULL) + seconds;
	unsigned long n = 0;

	while (!fl_stop && time(NULL) < end)
		n += getppid() > 0;
	printf("hog pid %d: %lu loops\n", getpid(), n);
}

/* flood (@hog false) or hog: @procs processes as nobody. */
static int run_flood(struct fz *f, bool hog, unsigned int seconds,
		     unsigned int procs)
{
	struct sigaction sa = { .sa_handler = fl_on_term };
	unsigned int i;
	int status, r = 0;
	pid_t pid;

	if (drop_privileges())
		return 1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		return 1;
	for (i = 0; i < procs; i++) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			fl_nkids = 0;
			rnd_state = (uint64_t)getpid() * 2654435761ULL + 1;
			if (hog) {
				fl_hog(seconds);
				_exit(0);
			}
			_exit(fl_one(f, seconds));
		}
		fl_kids[fl_nkids++] = pid;
	}
	while ((pid = wait(&status)) > 0 || errno == EINTR)
		if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
			r = 1;
	return r;
}

/*----------------------------------------------------------------*/

static int tool_fail(struct vf_nl *nl, int r)
{
	printf("error %d %s\n", -r, vf_nl_errmsg(nl));
	vf_nl_close(nl);
	return 1;
}

static int run_status(const char *name, const char *devno)
{
	struct vf_nl_dev d = { .name = name };
	struct vf_nl_status st;
	struct vf_nl *nl;
	int r;

	if (devno) {
		if (sscanf(devno, "%u:%u", &d.major, &d.minor) != 2)
			return 2;
		d.has_devno = true;
	}
	r = vf_nl_open(&nl);
	if (!r)
		r = vf_nl_status(nl, &d, &st);
	if (r)
		return tool_fail(nl, r);
	printf("name=%s\ndev=%u:%u\nmode=%s\nepoch=%llu\nchanged=%llu\n"
	       "cow_used=%llu\ncow_total=%llu\nview=%s\nheld_ns=%llu\n"
	       "drain_ns=%llu\nmerged=%llu\nto_merge=%llu\nhealth=%s\n"
	       "chunk_sectors=%u\norigin_chunks=%llu\ncsum_active=%u\n"
	       "csum_done=%llu\ncsum_total=%llu\n", st.name, st.major,
	       st.minor, vf_nl_mode_name(st.mode),
	       (unsigned long long)st.epoch, (unsigned long long)st.changed,
	       (unsigned long long)st.cow_used,
	       (unsigned long long)st.cow_total, vf_nl_view_name(st.view),
	       (unsigned long long)st.held_ns,
	       (unsigned long long)st.drain_ns,
	       (unsigned long long)st.merged,
	       (unsigned long long)st.to_merge, vf_nl_health_name(st.health),
	       st.chunk_sectors, (unsigned long long)st.origin_chunks,
	       st.csum_active, (unsigned long long)st.csum_done,
	       (unsigned long long)st.csum_total);
	vf_nl_close(nl);
	return 0;
}

static int run_control(const char *name, const char *verb)
{
	static const struct { const char *verb; int cmd; } verbs[] = {
		{ "snapshot", VMFIT_CMD_SNAPSHOT },
		{ "merge", VMFIT_CMD_MERGE },
		{ "drop", VMFIT_CMD_DROP },
		{ "clear", VMFIT_CMD_CLEAR },
		{ "cancel", VMFIT_CMD_CHECKSUM_CANCEL },
	};
	struct vf_nl_dev d = { .name = name };
	struct vf_nl *nl;
	unsigned int i;
	int r;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].verb))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return 2;
	r = vf_nl_open(&nl);
	if (!r)
		r = vf_nl_control(nl, &d, verbs[i].cmd);
	if (r)
		return tool_fail(nl, r);
	vf_nl_close(nl);
	return 0;
}

/* See the header: a checksum session held open on purpose. */
static int run_csumhold(struct fz *f)
{
	struct nl_msg *m = csum_msg(f);
	struct sockaddr_nl who;
	bool held = false, done = false;
	unsigned char *buf;
	struct nlmsghdr *h;
	char msg[256] = "";
	int n, err = 0;
	char c;

	nla_put_u32(m, VMFIT_ATTR_CSUM_WORKERS, 1);
	n = nl_send_auto(f->sk, m);
	nlmsg_free(m);
	if (n < 0) {
		fprintf(stderr, "vmfit-nlfuzz: send: %s\n", nl_geterror(n));
		return 1;
	}
	while (!done) {
		n = nl_recv(f->sk, &who, &buf, NULL);
		if (n <= 0) {
			fprintf(stderr, "vmfit-nlfuzz: no answer (%d)\n", n);
			return 1;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n);
		     h = nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR &&
			    h->nlmsg_type != NLMSG_DONE)
				continue;
			/* Both start with the (negative) error. */
			memcpy(&err, nlmsg_data(h), sizeof(err));
			vf_nl_parse_extack(h, msg, sizeof(msg));
			done = true;
			break;
		}
		free(buf);
		if (!held && !done) {
			held = true;
			printf("held\n");
			while (read(STDIN_FILENO, &c, 1) > 0)
				;
		}
	}
	printf("end %d %s\n", -err, msg);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vmfit-nlfuzz cases NAME | unpriv NAME | "
		"netadmin NAME | random NAME SECONDS [PROCS [SEED]] | status NAME [MAJ:MIN] | "
		"control NAME VERB | csumhold NAME | "
		"flood|hog NAME SECONDS PROCS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct fz f = { 0 };
	unsigned int seconds, procs = 1, i;
	int status, r = 0;
	uint64_t seed;
	pid_t pid;

	if (argc < 3)
		return usage();
	f.dev = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "status") && (argc == 3 || argc == 4))
		return run_status(f.dev, argc == 4 ? argv[3] : NULL);
	if (!strcmp(argv[1], "control") && argc == 4) {
		r = run_control(f.dev, argv[3]);
		return r == 2 ? usage() : r;
	}
	if (!strcmp(argv[1], "cases") && argc == 3) {
		if (fz_connect(&f))
			return 1;
		r = run_cases(&f);
	} else if ((!strcmp(argv[1], "unpriv") ||
		    !strcmp(argv[1], "netadmin")) && argc == 3) {
		if (fz_connect(&f))
			return 1;
		r = run_unpriv(&f, !strcmp(argv[1], "netadmin"));
	} else if (!strcmp(argv[1], "csumhold") && argc == 3) {
		if (fz_connect(&f))
			return 1;
		r = run_csumhold(&f);
	} else if ((!strcmp(argv[1], "flood") || !strcmp(argv[1], "hog")) &&
		   argc == 5) {
		seconds = strtoul(argv[3], NULL, 10);
		procs = strtoul(argv[4], NULL, 10);
		if (!seconds || !procs || procs > FZ_PROCS_MAX)
			return usage();
		r = run_flood(&f, !strcmp(argv[1], "hog"), seconds, procs);
	} else if (!strcmp(argv[1], "random") && argc >= 4 && argc <= 6) {
		seconds = strtoul(argv[3], NULL, 10);
		if (argc >= 5)
			procs = strtoul(argv[4], NULL, 10);
		seed = argc >= 6 ? strtoull(argv[5], NULL, 10) :
		       (uint64_t)time(NULL);
		if (!seconds || !procs || procs > FZ_PROCS_MAX)
			return usage();
		printf("seed %llu, %u process(es), %u s\n",
		       (unsigned long long)seed, procs, seconds);
		for (i = 0; i < procs; i++) {
			pid = fork();
			if (pid < 0)
				return 1;
			if (!pid) {
				rnd_state = seed * 2654435761ULL + i + 1;
				if (fz_connect(&f))
					_exit(1);
				_exit(run_random(&f, seconds));
			}
		}
		while (wait(&status) > 0)
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				r = 1;
	} else {
		return usage();
	}
	if (f.sk)
		nl_socket_free(f.sk);
	return r;
}
