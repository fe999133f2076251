// SPDX-License-Identifier: GPL-2.0-only
/*
 * replica.c - the channel to the local replica (replica protocol): start it
 * through its backend, send it the ordered requests as EXEC, read its
 * HELLO, RESULTs (which become this manager's votes) and CHECKPOINT_DONEs,
 * and declare it faulty for what it does wrong. See
 * Documentation/protocol.rst (replica protocol).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vf_log.h"
#include "vmfitd.h"

/* @who: the replica, named before a reap() forgot which one it was. */
static void failed_as(struct vmfitd *d, const char *who, const char *why)
{
	if (d->rep_failed)
		return;
	vf_err("replica (%s) is faulty: %s; killing it and serving on with the others' votes (restart needs state transfer)",
	       who, why);
	d->rep_failed = true;
	if (d->rep.running)
		d->be->kill(&d->rep);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
	d->rilen = 0;
	/* Its pending checkpoints will never be taken. */
	while (d->ckpt_len)
		ckpt_finish(d, EIO);
}

void replica_failed(struct vmfitd *d, const char *why)
{
	char who[VF_REPLICA_NAME_LEN];

	failed_as(d, vf_replica_name(&d->rep, who, sizeof(who)), why);
}

const char *replica_journal(const struct vmfitd *d, unsigned int vol)
{
	return d->conf.state_journal[vol][0] ? d->conf.state_journal[vol] :
					       NULL;
}

/* Make @path (created if missing; NULL: none) the isolated replica's. */
static int replica_hand_over(struct vmfitd *d,
			     const struct vf_replica_spec *spec,
			     const char *path, const char *what)
{
	struct stat st;
	int fd, r = 0;

	if (!path)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		r = -EINVAL;
	else if (fchown(fd, spec->uid, spec->gid) < 0)
		r = -errno;
	if (r)
		vf_err("%s %s: cannot hand it to replica_user '%s': %s", what,
		       path, d->conf.replica_user, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * The isolated replica runs as replica_user: resolve it, and hand it its
 * state volume and journal (created if missing; a regular file or a
 * block device, never through a link). 0 or -errno.
 */
int replica_isolation(struct vmfitd *d, struct vf_replica_spec *spec)
{
	struct passwd *pw;
	int r;

	/* A Xen domain is isolated by the hypervisor. */
	spec->isolate = d->conf.replica_isolation &&
			d->be == &vf_process_backend;
	if (!spec->isolate || geteuid() != 0)
		return 0;
	pw = getpwnam(d->conf.replica_user);
	if (!pw || !pw->pw_uid) {
		vf_err("replica_user '%s': %s", d->conf.replica_user,
		       pw ? "is root" : "no such user");
		return -EINVAL;
	}
	spec->uid = pw->pw_uid;
	spec->gid = pw->pw_gid;
	r = replica_hand_over(d, spec, spec->state, "state volume");
	if (!r)
		r = replica_hand_over(d, spec, spec->journal, "journal");
	return r;
}

int replica_start(struct vmfitd *d)
{
	struct vf_replica_spec spec = {
		.cmd = d->conf.replica_cmd,
		.state = d->conf.state_volume[0] ? d->conf.state_volume : NULL,
		.journal = replica_journal(d, 0),
		.xen = &d->conf.xen,
	};
	char who[VF_REPLICA_NAME_LEN];
	int r;

	r = replica_isolation(d, &spec);
	if (r)
		return r;
	d->rep.fd = -1;
	d->rep.exit_fd = -1;
	/* A replica that cannot come up fails vmfitd's start. */
	spec.wait_hello = true;
	d->rep_t0 = now_ms();
	d->rep_hello_ms = -1;
	r = d->be->start(&d->rep, &spec);
	if (r) {
		vf_err("cannot start replica '%s': %s", d->conf.replica_cmd,
		       strerror(-r));
		return r;
	}
	fcntl(d->rep.fd, F_SETFL, O_NONBLOCK);
	vf_wb_init(&d->rout, REP_OUT_LIMIT);
	vf_wb_init(&d->rhold, REP_OUT_LIMIT);
	vf_info("replica started: %s, %s backend%s: %s",
		vf_replica_name(&d->rep, who, sizeof(who)), d->be->name,
		d->rep.domid >= 0 ? "" :
		!spec.isolate ? " (NOT isolated: replica_isolation = no)" :
		geteuid() ? " (own namespaces, user namespace)" :
		" (own namespaces, unprivileged user)",
		d->conf.replica_cmd);
	return 0;
}

void replica_exec(struct vmfitd *d, uint64_t order, uint64_t cid,
		  uint64_t seq, const uint8_t *op, uint32_t op_len)
{
	struct vf_exec ex = {
		.order = order, .client_id = cid, .seq = seq,
		.op_len = op_len, .op = op,
	};

	/* Recovery logs it for the shadow, or (after the hand-over point)
	 * gives it to the shadow alone. */
	if (rcv_exec(d, &ex))
		return;
	if (d->rep_failed)
		return;
	if (order - d->exec_done > d->conf.replica_lag_max) {
		replica_failed(d, "it lags too far behind");
		return;
	}
	/* Behind a checkpoint not yet sent (or behind held ones): held
	 * until its CHECKPOINT frame is (see replica_pump). */
	if (vf_wb_pending(&d->rhold) ||
	    (d->ckpt_len && (!ckpt_head(d)->sent || d->ckpt_len > 1))) {
		if (vf_exec_encode(&d->rhold, &ex))
			replica_failed(d, "too many requests held behind a checkpoint");
		return;
	}
	if (vf_exec_encode(&d->rout, &ex)) {
		replica_failed(d, "its input buffer is full");
		return;
	}
	d->exec_sent = order;
}

static void replica_frame(struct vmfitd *d, const struct vf_hdr *h,
			  const uint8_t *p)
{
	struct vf_result res;
	struct vf_done done;
	struct ckpt *cp;
	struct vf_hello hello;
	struct vf_error er;
	char impl[VF_LOG_PEER_STR], ver[VF_LOG_PEER_STR], msg[VF_LOG_PEER_STR];
	char why[128];
	int r;

	if (!d->hello) {
		if (h->type != VF_R_HELLO ||
		    vf_hello_decode(p, h->len, &hello)) {
			replica_failed(d, "first frame is not a valid HELLO");
			return;
		}
		if (hello.proto_version != VF_PROTO_VERSION) {
			replica_failed(d, "HELLO with an unsupported protocol version");
			return;
		}
		/* The replica is untrusted: its strings are escaped. */
		vf_info("replica HELLO: %s version %s",
			vf_log_peer_str(impl, sizeof(impl), hello.impl,
					hello.impl_len),
			vf_log_peer_str(ver, sizeof(ver), hello.ver,
					hello.ver_len));
		d->hello = true;
		d->rep_hello_ms = (long)(now_ms() - d->rep_t0);
		if (d->be->refresh)
			d->be->refresh(&d->rep);
		vf_info("replica up %ld ms after its start%s", d->rep_hello_ms,
			d->rep.domid >= 0 ? " (the domain's boot included)" :
			"");
		return;
	}
	switch (h->type) {
	case VF_R_RESULT:
		r = vf_result_decode(p, h->len, &res);
		if (r) {
			replica_failed(d, vf_strerror(r));
			return;
		}
		if (res.order != d->exec_done + 1 || res.order > d->exec_sent) {
			snprintf(why, sizeof(why),
				 "RESULT for order %" PRIu64 ", expected %" PRIu64,
				 res.order, d->exec_done + 1);
			replica_failed(d, why);
			return;
		}
		d->exec_done = res.order;
		d->st.executed++;
		/* Progress: the oldest checkpoint's wait starts over. */
		if (d->ckpt_len && !ckpt_head(d)->sent)
			ckpt_head(d)->start_ms = now_ms();
		/* Only a manager in sync in a primary view votes. */
		if (manager_in_sync(&d->mb) && membership_primary(&d->mb))
			group_add_vote(d, res.order, res.data, res.len);
		if (d->ckpt_len)
			replica_pump(d);
		break;
	case VF_R_CHECKPOINT_DONE:
		r = vf_done_decode(p, h->len, &done);
		if (r) {
			replica_failed(d, vf_strerror(r));
			return;
		}
		cp = ckpt_head(d);
		if (!cp || !cp->sent || done.order != cp->order) {
			snprintf(why, sizeof(why),
				 "CHECKPOINT_DONE for order %" PRIu64 " that was not asked for",
				 done.order);
			replica_failed(d, why);
			return;
		}
		ckpt_finish(d, done.status);
		replica_pump(d);
		break;
	case VF_R_ERROR:
		if (vf_error_decode(p, h->len, &er)) {
			replica_failed(d, "malformed ERROR");
			return;
		}
		snprintf(why, sizeof(why), "it sent ERROR %u: %s", er.code,
			 vf_log_peer_str(msg, sizeof(msg), er.msg,
					 er.msg_len));
		replica_failed(d, why);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected %s frame",
			 vf_type_name(h->type));
		replica_failed(d, why);
		break;
	}
}

void replica_frames(struct vmfitd *d)
{
	struct vf_hdr h;
	size_t off = 0;
	long fl;

	while (!d->rep_failed) {
		fl = vf_frame_peek(d->rin + off, d->rilen - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl < 0) {
			replica_failed(d, vf_strerror(fl));
			return;
		}
		if (fl == 0) {
			if (d->rilen - off >= VF_HDR_LEN &&
			    VF_HDR_LEN + h.len > REP_IN_CAP)
				replica_failed(d, "frame too big");
			break;
		}
		replica_frame(d, &h, d->rin + off + VF_HDR_LEN);
		off += fl;
	}
	if (d->rep_failed)
		return;
	memmove(d->rin, d->rin + off, d->rilen - off);
	d->rilen -= off;
}

static void replica_input(struct vmfitd *d)
{
	ssize_t n;

	n = read(d->rep.fd, d->rin + d->rilen, REP_IN_CAP - d->rilen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			replica_failed(d, strerror(errno));
		return;
	}
	if (n == 0) {
		replica_failed(d, "it closed its channel");
		return;
	}
	d->rilen += n;
	replica_frames(d);
	/* Last: it may make the shadow the replica (d->rin included). */
	rcv_senior_answered(d);
}

static void replica_output(struct vmfitd *d)
{
	ssize_t n = vf_wb_send(d->rep.fd, &d->rout, SIZE_MAX);

	if (n < 0)
		replica_failed(d, strerror((int)-n));
}

void replica_reap(struct vmfitd *d)
{
	char who[VF_REPLICA_NAME_LEN];
	int status;

	/* reap() forgets which one it was. */
	vf_replica_name(&d->rep, who, sizeof(who));
	if (!d->rep.running || d->be->reap(&d->rep, &status) != 1)
		return;
	if (d->rep_failed) {
		/* Killed by replica_failed(): that was the news. */
		vf_dbg("replica (%s) reaped", who);
		return;
	}
	if (WIFEXITED(status))
		vf_err("replica (%s) exited with status %d", who,
		       WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		vf_err("replica (%s) killed by signal %d", who,
		       WTERMSIG(status));
	failed_as(d, who, "it exited");
}

int replica_init(struct vmfitd *d)
{
	d->rep.fd = -1;
	d->rep.exit_fd = -1;
	d->rep.domid = -1;
	d->rep.created_ms = -1;
	d->rep.hello_ms = -1;
	d->rep_hello_ms = -1;
	d->rin = malloc(REP_IN_CAP);
	return d->rin ? 0 : -ENOMEM;
}

/* Stop the replica (if it runs) and free its buffers. */
void replica_fini(struct vmfitd *d)
{
	if (d->rep.running)
		d->be->stop(&d->rep, 2000);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
}

void replica_free(struct vmfitd *d)
{
	free(d->rin);
}

unsigned int replica_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	pfd[0].fd = d->rep.running && !d->rep_failed ? d->rep.fd : -1;
	/*
	 * Its RESULTs become votes: while the group send queue is congested,
	 * leave them in the channel (the replica waits, the backlog pauses
	 * the clients) rather than queue votes until one must be dropped.
	 */
	pfd[0].events = (group_congested(d) ? 0 : POLLIN) |
			(vf_wb_pending(&d->rout) ? POLLOUT : 0);
	pfd[1].fd = d->rep.running ? d->rep.exit_fd : -1;
	pfd[1].events = POLLIN;
	return REPLICA_POLL_FDS;
}

void replica_events(struct vmfitd *d, const struct pollfd *pfd)
{
	if (pfd[1].revents)
		replica_reap(d);
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		replica_input(d);
}

/* End of a loop round: push out the EXECs and CHECKPOINTs buffered. */
void replica_flush(struct vmfitd *d)
{
	if (d->rep.running && !d->rep_failed && vf_wb_pending(&d->rout))
		replica_output(d);
}
