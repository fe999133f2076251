// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_shadow.c - the shadow replica of a recovery round
 * (Documentation/protocol.rst "Recovery", phases 1, 5 and 6): started
 * through the backend from the clean command on volume B, its HELLO, the
 * RESTORE from B followed by the EXECs logged since the capture, its
 * answers (discarded until the hand-over, voted after it), and the swap
 * that makes it the replica once the senior has answered up to the
 * hand-over point.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_log.h"

/*
 * One call's share of the replay to the shadow: a few socket buffers. A
 * shadow on another CPU empties its socket as fast as the loop fills it,
 * and the replay is the one buffer that holds megabytes by design: without
 * a cap one call could send all of it before the loop sees its clients and
 * the group again.
 */
#define SHADOW_FLUSH_MAX	(1u << 20)

static const char *cmd_of(const struct vmfitd *d, bool alt)
{
	return alt && d->conf.shadow_cmd[0] ? d->conf.shadow_cmd :
					      d->conf.replica_cmd;
}

/*
 * The requests ordered after the capture wait for the shadow, behind its
 * RESTORE, until it has restored and read them (sout): recovery_log_max_mb
 * bounds them, a round that would pass it aborts. After the hand-over the
 * buffer is the replica's output and keeps that bound.
 */
static size_t shadow_log_limit(const struct vmfitd *d)
{
	return (size_t)d->conf.recovery_log_max_mb << 20;
}

int shadow_start(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_replica_spec spec = {
		.cmd = cmd_of(d, !r->alt),
		.state = r->vol[!r->cur].path,
		.journal = replica_journal(d, !r->cur),
		.xen = &d->conf.xen,
		/* Its RESTORE must not slow the senior (shadow_renice). */
		.nice = (int)d->conf.recovery_nice,
	};
	int e;

	vf_info("recovery: starting the shadow '%s' on %s (%s backend)",
		spec.cmd, spec.state, d->be->name);
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	/*
	 * start() returns at once, the senior serves on: a domain boots for
	 * seconds, and its HELLO comes through the event loop (shadow_frame).
	 * One that does not come up is reaped as a failed start (rcv_reap).
	 */
	r->sh_t0 = now_ms();
	r->st.shadow_hello_ms = -1;
	r->st.shadow_created_ms = -1;
	/*
	 * Its first frame, sent once B holds the verified state
	 * (shadow_restore); the EXECs logged from the capture on follow it
	 * in the same buffer, so nothing is copied when it goes out.
	 */
	vf_wb_init(&r->sout, shadow_log_limit(d));
	if (vf_restore_encode(&r->sout))
		return -ENOMEM;
	/* The shadow is as untrusted as the replica: isolated the same way. */
	e = replica_isolation(d, &spec);
	if (!e)
		e = d->be->start(&r->sh, &spec);
	if (e)
		return e;
	fcntl(r->sh.fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/*
 * The shadow has restored; it replays the requests since the capture and
 * then those the senior executes, so it must run as fast as the senior
 * or it never catches up: the manager's own nice value again. Lowering a
 * nice value needs CAP_SYS_NICE: without it the shadow, then the replica,
 * stays at recovery_nice (said once).
 */
static void shadow_renice(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	static bool warned;
	int prio;

	if (!d->conf.recovery_nice || r->sh.pid <= 0)
		return;
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if ((prio != -1 || !errno) &&
	    !setpriority(PRIO_PROCESS, r->sh.pid, prio))
		return;
	if (!warned)
		vf_warn("recovery: cannot give the shadow (pid %d) its priority back (%s): it stays at nice +%u",
			(int)r->sh.pid, strerror(errno),
			d->conf.recovery_nice);
	warned = true;
}

/* Reap the killed shadow of an aborted round: 1 once it is gone. */
static int gone_reap(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int status;

	if (!r->sh_gone.running)
		return 1;
	if (d->be->reap(&r->sh_gone, &status) != 1)
		return 0;
	vf_dbg("recovery: the killed shadow is gone");
	return 1;
}

void shadow_fini(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (r->sh_gone.running)
		d->be->stop(&r->sh_gone, 0);
	if (r->senior.running)
		d->be->stop(&r->senior, SENIOR_STOP_MS);
}

/*
 * The senior of the hand-over is gone (reaped: 1; still there: 0): A is
 * out of its hands, the commit may drop A's snapshot (round_progress).
 */
static int senior_reap(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	char who[VF_REPLICA_NAME_LEN];
	uint64_t ms, executed;
	int status;

	if (!r->senior.running)
		return 1;
	vf_replica_name(&r->senior, who, sizeof(who));
	if (d->be->reap(&r->senior, &status) != 1)
		return 0;
	ms = now_ms() - r->senior_t0;
	executed = d->st.executed - r->senior_executed;
	r->st.senior_stop_ms = ms;
	vf_info("recovery: senior (%s) %s in %" PRIu64 " ms; the replica executed %" PRIu64 " request(s) meanwhile",
		who, r->senior_killed ? "killed" : "stopped", ms, executed);
	ctl_event(d, "rcv-senior-stopped round=%016" PRIx64 " ms=%" PRIu64 " killed=%d executed=%" PRIu64,
		  r->round, ms, r->senior_killed, executed);
	round_progress(d);
	return 1;
}

void senior_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct rcv *r = d->rcv;
	char who[VF_REPLICA_NAME_LEN];
	uint64_t due;

	if (!r->senior.running || r->senior_killed)
		return;
	due = r->senior_t0 + SENIOR_STOP_MS;
	if (now < due) {
		if (due < *wake)
			*wake = due;
		return;
	}
	vf_warn("recovery: the senior (%s) did not exit within %u ms: killing it",
		vf_replica_name(&r->senior, who, sizeof(who)), SENIOR_STOP_MS);
	r->senior_killed = true;
	d->be->kill(&r->senior);
}

void shadow_release(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (r->sh.running) {
		d->be->kill(&r->sh);
		/*
		 * A domain takes a while to be destroyed: reaped from the
		 * event loop, not waited for. One still going from an earlier
		 * abort (rare: two aborts within its destroy) is waited for.
		 */
		if (!gone_reap(d))
			d->be->stop(&r->sh_gone, 0);
		r->sh_gone = r->sh;
		memset(&r->sh, 0, sizeof(r->sh));
	}
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	vf_wb_free(&r->sout);
	r->silen = 0;
}

void shadow_restore(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	/* RESTORE and the EXECs logged behind it go out from now on. */
	r->restore_sent = true;
	round_phase(d, PH_RESTORE);
}

bool rcv_exec(struct vmfitd *d, const struct vf_exec *ex)
{
	struct rcv *r = d->rcv;

	if (!r || !r->logging)
		return false;
	if (vf_exec_encode(&r->sout, ex)) {
		if (r->switched) {
			replica_failed(d, "the new replica's input buffer is full");
			return true;
		}
		round_abort(d, VF_RCV_SHADOW_RESTORE, !r->fetched_sent,
			    "too many requests logged for the shadow");
		return false;
	}
	r->sh_sent = ex->order;
	/* A receiver's senior started empty: it gets nothing. */
	return r->switched || r->receiver;
}

/* The senior has answered up to h (or is gone): it is replaced. */
void shadow_swap(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	char who[VF_REPLICA_NAME_LEN], sh[VF_REPLICA_NAME_LEN];
	uint8_t *tmp;

	/*
	 * Asked to exit, never waited for here (its domain takes seconds to
	 * power off): the loop serves on with the new replica; the commit,
	 * which drops A's snapshot, waits until the senior is gone
	 * (senior_reap; killed after SENIOR_STOP_MS, senior_tick).
	 */
	if (d->rep.running) {
		vf_replica_name(&d->rep, who, sizeof(who));
		d->be->shutdown(&d->rep);
		r->senior = d->rep;
		r->senior_t0 = now_ms();
		r->senior_executed = d->st.executed;
		r->senior_killed = false;
	} else {
		snprintf(who, sizeof(who), "gone already");
		r->st.senior_stop_ms = 0;
	}
	vf_info("recovery: the shadow (%s) is the replica; stopping the senior (%s)",
		vf_replica_name(&r->sh, sh, sizeof(sh)), who);
	while (d->ckpt_len)
		ckpt_finish(d, EIO);
	vf_wb_free(&d->rout);
	vf_wb_free(&d->rhold);
	d->rep = r->sh;
	d->rout = r->sout;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	/* What the shadow sent after the frame being handled is the
	 * replica's input now. */
	memmove(r->sin, r->sin + r->sin_off, r->silen - r->sin_off);
	tmp = d->rin;
	d->rin = r->sin;
	r->sin = tmp;
	d->rilen = r->silen - r->sin_off;
	r->silen = 0;
	r->sin_off = 0;
	vf_wb_init(&d->rhold, REP_OUT_LIMIT);
	d->exec_sent = r->sh_sent;
	d->exec_done = r->sh_done;
	d->hello = true;
	d->rep_hello_ms = (long)r->st.shadow_hello_ms;
	d->rep_failed = false;
	memset(&r->sh, 0, sizeof(r->sh));
	r->sh.fd = -1;
	r->sh.exit_fd = -1;
	r->cur = !r->cur;
	r->alt = !r->alt;
	/* The replica's own path (replica_exec) takes every EXEC again. */
	r->logging = false;
	round_phase(d, PH_FINISH);
	/*
	 * Whole frames read along with the one that made this swap (RESULTs
	 * of later orders, say) are handled now: left in the buffer, they
	 * would wait for the replica's next bytes, which may never come if
	 * every client waits for one of them.
	 */
	if (d->rilen)
		replica_frames(d);
}

/*
 * The swap happens as soon as the senior has answered up to h, not at the
 * shadow's next frame, which may be long in coming (or at the drain
 * timeout, SENIOR_DRAIN_MS).
 */
void rcv_senior_answered(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	if (r && r->phase == PH_HANDOVER)
		round_progress(d);
}

/*----------------------------------------------------------------*/
/* The shadow's channel */

void shadow_failed(struct vmfitd *d, const char *why)
{
	struct rcv *r = d->rcv;

	if (r->switched) {
		/* It is the replica now in all but name. */
		shadow_swap(d);
		replica_failed(d, why);
		return;
	}
	if (r->receiver && r->adopted) {
		/*
		 * In sync on every manager since its RCV_FETCHED, with no
		 * replica of that state: the old one started empty and
		 * must never execute. As when it cannot take over the
		 * manager state (recovery_catchup.c), a restart makes it
		 * fresh and it catches up again.
		 */
		vf_err("recovery: the shadow died before this manager had caught up (%s); exiting",
		       why);
		exit(EXIT_FAILURE);
	}
	round_abort(d, r->restore_sent ? VF_RCV_SHADOW_RESTORE :
		    VF_RCV_SHADOW_START, !r->fetched_sent, "shadow: %s", why);
}

static void shadow_frame(struct vmfitd *d, const struct vf_hdr *h,
			 const uint8_t *p)
{
	struct rcv *r = d->rcv;
	struct vf_hello hello;
	struct vf_result res;
	struct vf_done done;
	char why[128];

	if (!r->sh_hello) {
		if (h->type != VF_R_HELLO ||
		    vf_hello_decode(p, h->len, &hello) ||
		    hello.proto_version != VF_PROTO_VERSION) {
			shadow_failed(d, "first frame is not a valid HELLO");
			return;
		}
		r->st.shadow_hello_ms = (int64_t)(now_ms() - r->sh_t0);
		if (d->be->refresh)
			d->be->refresh(&r->sh);
		r->st.shadow_created_ms = r->sh.created_ms;
		if (r->sh.domid >= 0)
			vf_info("recovery: shadow HELLO: %.*s version %.*s, %" PRId64 " ms after its start (domain %d created and unpaused in %ld ms)",
				hello.impl_len, hello.impl, hello.ver_len,
				hello.ver, r->st.shadow_hello_ms, r->sh.domid,
				r->sh.created_ms);
		else
			vf_info("recovery: shadow HELLO: %.*s version %.*s, %" PRId64 " ms after its start",
				hello.impl_len, hello.impl, hello.ver_len,
				hello.ver, r->st.shadow_hello_ms);
		r->sh_hello = true;
		round_ready(d);
		return;
	}
	switch (h->type) {
	case VF_R_RESTORE_DONE:
		if (vf_done_decode(p, h->len, &done) || !r->restore_sent ||
		    r->restored) {
			shadow_failed(d, "unexpected RESTORE_DONE");
			return;
		}
		if (done.status || done.order != r->capture_order) {
			snprintf(why, sizeof(why),
				 "RESTORE_DONE order %" PRIu64 " status %u, expected order %" PRIu64 " status 0",
				 done.order, done.status, r->capture_order);
			shadow_failed(d, why);
			return;
		}
		r->restored = true;
		r->sh_done = r->capture_order;
		shadow_renice(d);
		vf_info("recovery: shadow restored order %" PRIu64 "; replaying %" PRIu64 " request(s)",
			done.order, r->sh_sent - r->capture_order);
		break;
	case VF_R_RESULT:
		if (vf_result_decode(p, h->len, &res) || !r->restored ||
		    res.order != r->sh_done + 1 || res.order > r->sh_sent) {
			shadow_failed(d, "unexpected RESULT");
			return;
		}
		r->sh_done = res.order;
		/* Replayed requests: the senior voted. After h: votes. */
		if (r->switched && res.order > r->h) {
			d->st.executed++;
			/* As replica.c: only in sync in a primary view. */
			if (manager_in_sync(&d->mb) &&
			    membership_primary(&d->mb))
				group_add_vote(d, res.order, res.data,
					       res.len);
		}
		break;
	default:
		snprintf(why, sizeof(why), "unexpected %s frame",
			 vf_type_name(h->type));
		shadow_failed(d, why);
		return;
	}
	round_progress(d);
}

static void shadow_input(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vf_hdr h;
	size_t off = 0;
	ssize_t n;
	long fl;

	n = read(r->sh.fd, r->sin + r->silen, REP_IN_CAP - r->silen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			shadow_failed(d, strerror(errno));
		return;
	}
	if (n == 0) {
		shadow_failed(d, "it closed its channel");
		return;
	}
	r->silen += n;
	for (;;) {
		fl = vf_frame_peek(r->sin + off, r->silen - off,
				   VF_MAGIC_REPLICA, &h);
		if (fl < 0) {
			shadow_failed(d, vf_strerror(fl));
			return;
		}
		if (fl == 0)
			break;
		r->sin_off = off + fl;
		shadow_frame(d, &h, r->sin + off + VF_HDR_LEN);
		off += fl;
		/* The frame may have ended the round or made the shadow
		 * the replica (its buffer moved with it). */
		if (r->phase == PH_IDLE || r->phase == PH_FINISH)
			return;
	}
	memmove(r->sin, r->sin + off, r->silen - off);
	r->silen -= off;
	r->sin_off = 0;
}

void rcv_reap(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	int status;

	if (r) {
		gone_reap(d);
		senior_reap(d);
	}
	if (!r || !r->sh.running || d->be->reap(&r->sh, &status) != 1)
		return;
	shadow_failed(d, WIFSIGNALED(status) ? "killed by a signal" :
			 "it exited");
}

/*----------------------------------------------------------------*/
/* The main loop's interface */

/*
 * Poll slots: the shadow's channel, its exit, a killed one's exit, the
 * exit of the senior being stopped.
 */
void shadow_poll_fds(struct rcv *r, struct pollfd *pfd)
{
	if (r->sh_gone.running) {
		pfd[2].fd = r->sh_gone.exit_fd;
		pfd[2].events = POLLIN;
	}
	if (r->senior.running) {
		pfd[3].fd = r->senior.exit_fd;
		pfd[3].events = POLLIN;
	}
	if (!r->sh.running)
		return;
	pfd[0].fd = r->sh.fd;
	pfd[0].events = POLLIN | (vf_wb_pending(&r->sout) && r->restore_sent ?
				  POLLOUT : 0);
	pfd[1].fd = r->sh.exit_fd;
	pfd[1].events = POLLIN;
}

void shadow_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct rcv *r = d->rcv;

	if (pfd[2].fd >= 0 && pfd[2].fd == r->sh_gone.exit_fd &&
	    pfd[2].revents)
		gone_reap(d);
	if (pfd[3].fd >= 0 && pfd[3].fd == r->senior.exit_fd &&
	    pfd[3].revents)
		senior_reap(d);
	if (pfd[1].fd >= 0 && pfd[1].fd == r->sh.exit_fd && pfd[1].revents)
		rcv_reap(d);
	if (pfd[0].fd >= 0 && pfd[0].fd == r->sh.fd &&
	    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
		shadow_input(d);
}

/*
 * The EXECs logged during the capture, copy and restore are one large
 * buffer (10 MB and more for a large state under load), which the shadow
 * takes a socket buffer at a time while it replays them: vf_wb_consume()
 * keeps that linear in the buffer. One call sends at most SHADOW_FLUSH_MAX
 * (poll says when to go on).
 */
void shadow_flush(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	ssize_t n;

	if (!r->sh.running || !r->restore_sent)
		return;
	n = vf_wb_send(r->sh.fd, &r->sout, SHADOW_FLUSH_MAX);
	if (n < 0)
		shadow_failed(d, strerror((int)-n));
}
