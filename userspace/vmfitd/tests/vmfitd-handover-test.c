// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfitd-handover-test - the hand-over of a recovery round
 * (recovery_shadow.c with replica.c, the rest of the manager and the
 * backend stubbed):
 *
 * - the shadow's RESULTs that arrive in one read with the frame that
 *   completes the hand-over are all handled at once: each one executed
 *   and voted, none left in a buffer to wait for the replica's next
 *   bytes (which never come when every client waits for one of them);
 * - the senior is asked to exit (the backend's shutdown()), never waited
 *   for: the commit waits (round_progress is told once it is reaped),
 *   and a senior that does not exit within SENIOR_STOP_MS is killed;
 * - a senior that reaches the hand-over point makes the swap at once;
 * - a replica reaped after its end is still named in the log;
 * - the replay to a shadow at REP_OUT_LIMIT: what shadow_flush() has sent
 *   does not count against the limit (rcv_exec() takes a new EXEC), the
 *   shadow gets every byte in order, and the flush moves at most twice
 *   the bytes it sends;
 * - the shadow starts on the volume the senior is not on, with that
 *   volume's journal (the journals swap with the volumes' roles);
 * - the requests kept for a shadow that has not restored are bounded by
 *   recovery_log_max_mb: the EXEC that would pass it aborts the round
 *   ("too many requests logged for the shadow"), the senior serves on.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_check.h"

/* Stubs for the parts recovery_shadow.c and replica.c call. */
static uint64_t now = 1000;
static unsigned int n_votes, n_progress, n_events;
static uint64_t last_vote;
static char last_event[256];

uint64_t now_ms(void)
{
	return now;
}

void group_add_vote(struct vmfitd *d, uint64_t order, const uint8_t *data,
		    uint32_t len)
{
	CHECK_EQ(order, last_vote + 1);
	last_vote = order;
	n_votes++;
}

bool group_congested(const struct vmfitd *d)
{
	return false;
}

bool manager_in_sync(const struct membership *mb)
{
	return true;
}

bool membership_primary(const struct membership *mb)
{
	return true;
}

struct ckpt *ckpt_head(struct vmfitd *d)
{
	return NULL;
}

void ckpt_finish(struct vmfitd *d, uint32_t status)
{
	d->ckpt_len--;
}

void replica_pump(struct vmfitd *d)
{
}

void ctl_event(struct vmfitd *d, const char *fmt, ...)
{
	va_list ap;

	n_events++;
	va_start(ap, fmt);
	vsnprintf(last_event, sizeof(last_event), fmt, ap);
	va_end(ap);
}

void round_phase(struct vmfitd *d, enum phase ph)
{
	d->rcv->phase = ph;
}

/* As recovery.c's: the swap once the senior has answered up to h. */
void round_progress(struct vmfitd *d)
{
	struct rcv *r = d->rcv;

	n_progress++;
	if (r->phase == PH_HANDOVER && d->exec_done >= r->h)
		shadow_swap(d);
}

void round_ready(struct vmfitd *d)
{
}

/* An abort is a failure, except where a test expects one (abort_ok). */
static bool abort_ok;
static unsigned int n_aborts;
static enum vf_rcv_reason abort_reason;
static char abort_why[128];

void round_abort(struct vmfitd *d, enum vf_rcv_reason reason, bool tell,
		 const char *fmt, ...)
{
	va_list ap;

	CHECK(abort_ok);
	n_aborts++;
	abort_reason = reason;
	va_start(ap, fmt);
	vsnprintf(abort_why, sizeof(abort_why), fmt, ap);
	va_end(ap);
}

/* backend.c's table, which this test does not need. */
const struct vf_backend_ops vf_process_backend = { .name = "process" };
const struct vf_backend_ops vf_xen_backend = { .name = "xen" };

/* What vmfitd logs (stderr) between log_capture() and log_text(). */
static FILE *log_file;
static int log_saved = -1;

static void log_capture(void)
{
	fflush(stderr);
	log_file = tmpfile();
	REQUIRE(log_file);
	log_saved = dup(2);
	REQUIRE(log_saved >= 0 && dup2(fileno(log_file), 2) == 2);
}

static const char *log_text(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	dup2(log_saved, 2);
	close(log_saved);
	rewind(log_file);
	n = fread(buf, 1, sizeof(buf) - 1, log_file);
	buf[n] = 0;
	fclose(log_file);
	fputs(buf, stderr);
	return buf;
}

/* A backend whose replicas exit when told to (reaped: @gone). */
static unsigned int n_shutdown, n_kill;
static bool gone;

static void be_close(struct vf_replica *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static int be_shutdown(struct vf_replica *r)
{
	n_shutdown++;
	be_close(r);
	return 0;
}

static int be_kill(struct vf_replica *r)
{
	n_kill++;
	be_close(r);
	return 0;
}

static int be_reap(struct vf_replica *r, int *status)
{
	if (!gone)
		return 0;
	*status = 0;
	r->running = false;
	r->domid = -1;
	r->pid = 0;
	return 1;
}

static int be_stop(struct vf_replica *r, int timeout_ms)
{
	r->running = false;
	return 0;
}

/* What the last start was given. */
static char started_state[PATH_MAX], started_journal[PATH_MAX];

/* A shadow that started (its end of a socketpair) and reads nothing. */
static int be_start(struct vf_replica *r, const struct vf_replica_spec *spec)
{
	int sv[2];

	snprintf(started_state, sizeof(started_state), "%s", spec->state);
	snprintf(started_journal, sizeof(started_journal), "%s",
		 spec->journal ? spec->journal : "(none)");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -errno;
	r->fd = sv[0];
	r->exit_fd = sv[1];
	r->running = true;
	return 0;
}

static const struct vf_backend_ops be = {
	.name = "test",
	.start = be_start,
	.shutdown = be_shutdown,
	.kill = be_kill,
	.reap = be_reap,
	.stop = be_stop,
};

/* Append a RESULT frame for @order to @wb. */
static void result(struct vf_wbuf *wb, uint64_t order)
{
	uint8_t data[8] = { 0 };
	struct vf_result res = { .order = order, .len = sizeof(data),
				 .data = data };

	REQUIRE(!vf_result_encode(wb, &res));
}

/* EXEC @order with an op of @len bytes of (order & 0xff) to @a and @b. */
static void exec2(struct vf_wbuf *a, struct vf_wbuf *b, uint64_t order,
		  uint32_t len)
{
	static uint8_t op[VF_MAX_OP];
	struct vf_exec ex = { order, 7, order, len, op };

	memset(op, (int)(order & 0xff), len);
	REQUIRE(!vf_exec_encode(a, &ex));
	REQUIRE(!vf_exec_encode(b, &ex));
}

static void test_log_limit(void)
{
	static struct vmfitd vd;
	static struct rcv rc;
	static uint8_t op[VF_MAX_OP];
	const size_t limit = 1u << 20, fr = VF_HDR_LEN + 28 + VF_MAX_OP;
	struct vmfitd *d = &vd;
	struct rcv *r = &rc;
	struct vf_exec ex = { .op = op, .op_len = VF_MAX_OP };
	uint64_t order = 1;

	d->be = &be;
	d->rcv = r;
	d->conf.recovery_log_max_mb = 1;
	snprintf(d->conf.replica_cmd, sizeof(d->conf.replica_cmd), "kv");
	snprintf(d->conf.state_journal[0], sizeof(d->conf.state_journal[0]),
		 "/j/a");
	snprintf(d->conf.state_journal[1], sizeof(d->conf.state_journal[1]),
		 "/j/b");
	snprintf(r->vol[0].path, sizeof(r->vol[0].path), "/v/a");
	snprintf(r->vol[1].path, sizeof(r->vol[1].path), "/v/b");
	/* The senior on B (cur 1): the shadow gets A and A's journal. */
	r->cur = 1;
	REQUIRE(!shadow_start(d));
	CHECK(!strcmp(started_state, "/v/a"));
	CHECK(!strcmp(started_journal, "/j/a"));
	close(r->sh.fd);
	close(r->sh.exit_fd);
	vf_wb_free(&r->sout);
	/* The senior on A: B and B's journal. */
	r->cur = 0;
	REQUIRE(!shadow_start(d));
	CHECK(!strcmp(started_state, "/v/b"));
	CHECK(!strcmp(started_journal, "/j/b"));
	r->logging = true;	/* captured; the shadow has not restored */
	abort_ok = true;
	n_aborts = 0;
	while (!n_aborts && order < 2 * limit / fr) {
		ex.order = order++;
		rcv_exec(d, &ex);
	}
	abort_ok = false;
	CHECK_EQ(n_aborts, 1);
	CHECK_EQ(abort_reason, VF_RCV_SHADOW_RESTORE);
	CHECK(strstr(abort_why, "too many requests logged for the shadow"));
	/* every EXEC before the one that did not fit was kept */
	CHECK(vf_wb_pending(&r->sout) <= limit);
	CHECK(vf_wb_pending(&r->sout) > limit - fr);
	CHECK_EQ(r->sh_sent, order - 2);
	close(r->sh.fd);
	close(r->sh.exit_fd);
	vf_wb_free(&r->sout);
}

/*
 * Nothing reaches the shadow before shadow_restore(); then RESTORE first,
 * and the EXECs logged from the capture on, in order.
 */
static void test_restore_first(void)
{
	static struct vmfitd vd;
	static struct rcv rc;
	static uint8_t in[4096];
	struct vmfitd *d = &vd;
	struct rcv *r = &rc;
	uint8_t op[3] = { 1, 2, 3 };
	struct vf_exec ex = { .op = op, .op_len = sizeof(op) };
	struct vf_wbuf want;
	ssize_t n;

	d->be = &be;
	d->rcv = r;
	d->conf.recovery_log_max_mb = 1;
	snprintf(d->conf.replica_cmd, sizeof(d->conf.replica_cmd), "kv");
	REQUIRE(!shadow_start(d));
	r->sh.running = true;
	r->logging = true;
	vf_wb_init(&want, 0);
	REQUIRE(!vf_restore_encode(&want));
	for (ex.order = 5; ex.order <= 7; ex.order++) {
		CHECK(!rcv_exec(d, &ex));
		REQUIRE(!vf_exec_encode(&want, &ex));
	}
	shadow_flush(d);
	CHECK_EQ(recv(r->sh.exit_fd, in, sizeof(in), MSG_DONTWAIT), -1);
	shadow_restore(d);
	CHECK(r->restore_sent);
	shadow_flush(d);
	n = recv(r->sh.exit_fd, in, sizeof(in), MSG_DONTWAIT);
	CHECK_EQ(n, (ssize_t)vf_wb_pending(&want));
	CHECK(n > 0 && !memcmp(in, vf_wb_data(&want), (size_t)n));
	vf_wb_free(&want);
	close(r->sh.fd);
	close(r->sh.exit_fd);
	vf_wb_free(&r->sout);
}

static void test_replay_at_limit(void)
{
	const size_t fr = VF_HDR_LEN + 28 + VF_MAX_OP;
	static struct vmfitd vd;
	static struct rcv rc;
	struct vmfitd *d = &vd;
	struct rcv *r = &rc;
	static uint8_t in[256 << 10];
	struct vf_wbuf want;
	struct vf_exec ex = { 0 };
	size_t sent, got = 0, rest;
	uint64_t order = 100;
	int sv[2], bad = 0;
	ssize_t n;

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	d->rcv = r;
	r->sh.running = true;
	r->sh.fd = sv[0];
	r->restore_sent = true;
	r->logging = true;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	vf_wb_init(&want, 0);
	/* Exactly full. */
	while (vf_wb_pending(&r->sout) + fr <= REP_OUT_LIMIT)
		exec2(&r->sout, &want, order++, VF_MAX_OP);
	rest = REP_OUT_LIMIT - vf_wb_pending(&r->sout);
	REQUIRE(rest >= VF_HDR_LEN + 28);
	exec2(&r->sout, &want, order++, rest - VF_HDR_LEN - 28);
	CHECK_EQ(vf_wb_pending(&r->sout), REP_OUT_LIMIT);

	/* A socket buffer's worth goes; an EXEC that size fits again. */
	shadow_flush(d);
	sent = REP_OUT_LIMIT - vf_wb_pending(&r->sout);
	REQUIRE(sent > VF_HDR_LEN + 28);
	ex.order = order++;
	ex.op_len = sent - VF_HDR_LEN - 28 < 100 ?
		    sent - VF_HDR_LEN - 28 : 100;
	ex.op = in;
	memset(in, (int)(ex.order & 0xff), ex.op_len);
	CHECK(!rcv_exec(d, &ex));	/* logged for the shadow, no abort */
	CHECK_EQ(r->sh_sent, ex.order);
	CHECK(!r->sout.err);
	REQUIRE(!vf_exec_encode(&want, &ex));
	CHECK_EQ(vf_wb_pending(&r->sout) + sent, vf_wb_pending(&want));

	/* The shadow reads all of it, in order. */
	for (;;) {
		n = recv(sv[1], in, sizeof(in), MSG_DONTWAIT);
		if (n > 0) {
			if (memcmp(in, vf_wb_data(&want), n))
				bad++;
			vf_wb_consume(&want, n);
			got += n;
			continue;
		}
		if (!vf_wb_pending(&r->sout))
			break;
		shadow_flush(d);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(vf_wb_pending(&want), 0);
	CHECK_EQ(got, REP_OUT_LIMIT + VF_HDR_LEN + 28 + ex.op_len);
	CHECK(r->sout.moved <= 2 * got);
	vf_wb_free(&r->sout);
	vf_wb_free(&want);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	static struct vmfitd vd;
	static struct rcv rc;
	struct vmfitd *d = &vd;
	struct rcv *r = &rc;
	struct pollfd pfd[SHADOW_POLL_FDS];
	struct vf_wbuf wb;
	uint64_t wake = UINT64_MAX;
	int sv[2], sv2[2], senior_fd[2], i;

	d->be = &be;
	d->rcv = r;
	REQUIRE(!replica_init(d));
	r->sin = malloc(REP_IN_CAP);
	REQUIRE(r->sin);
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, senior_fd));

	/* The senior (domain 3) has answered up to order 10. */
	d->rep.ops = &be;
	d->rep.running = true;
	d->rep.fd = senior_fd[0];
	d->rep.exit_fd = senior_fd[1];
	d->rep.domid = 3;
	d->hello = true;
	d->exec_sent = 10;
	d->exec_done = 10;
	/* The shadow (domain 4) has caught up: switched at h = 8. */
	r->sh.ops = &be;
	r->sh.running = true;
	r->sh.fd = sv[0];
	r->sh.exit_fd = -1;
	r->sh.domid = 4;
	r->sh_hello = true;
	r->restore_sent = true;
	r->restored = true;
	r->switched = true;
	r->logging = true;
	r->phase = PH_HANDOVER;
	r->h = 8;
	r->sh_done = 8;
	r->sh_sent = 13;
	last_vote = 8;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	vf_wb_init(&d->rout, REP_OUT_LIMIT);
	vf_wb_init(&d->rhold, REP_OUT_LIMIT);

	/* Five RESULTs (9..13) come in one read, and half of the next. */
	vf_wb_init(&wb, 4096);
	for (i = 9; i <= 14; i++)
		result(&wb, i);
	REQUIRE(write(sv[1], vf_wb_data(&wb), vf_wb_pending(&wb) - 10) ==
		(ssize_t)vf_wb_pending(&wb) - 10);
	memset(pfd, 0, sizeof(pfd));
	shadow_poll_fds(r, pfd);
	CHECK_EQ(pfd[0].fd, sv[0]);
	pfd[0].revents = POLLIN;
	shadow_events(d, pfd);

	/* The first one made the swap; every one was handled. */
	CHECK_EQ(r->phase, PH_FINISH);
	CHECK_EQ(d->rep.fd, sv[0]);
	CHECK_EQ(d->rep.domid, 4);
	CHECK_EQ(d->exec_done, 13);
	CHECK_EQ(n_votes, 5);
	CHECK_EQ(last_vote, 13);
	CHECK(!d->rep_failed);
	/* The partial frame waits for the rest. */
	CHECK(d->rilen > 0 && d->rilen < vf_wb_pending(&wb) / 6);

	/* The senior was asked to exit, and is not waited for. */
	CHECK_EQ(n_shutdown, 1);
	CHECK(r->senior.running);
	CHECK_EQ(r->senior.domid, 3);
	CHECK_EQ(r->senior.fd, -1);

	/* Within SENIOR_STOP_MS: not killed; the wake-up is its deadline. */
	now += SENIOR_STOP_MS - 1;
	senior_tick(d, now, &wake);
	CHECK_EQ(n_kill, 0);
	CHECK_EQ(wake, 1000 + SENIOR_STOP_MS);
	/* Then it is. */
	now++;
	senior_tick(d, now, &wake);
	CHECK_EQ(n_kill, 1);
	CHECK(r->senior.running);
	senior_tick(d, now + 1, &wake);
	CHECK_EQ(n_kill, 1);

	/* Its exit fd: reaped, round_progress told, an event. */
	memset(pfd, 0, sizeof(pfd));
	for (i = 0; i < SHADOW_POLL_FDS; i++)
		pfd[i].fd = -1;
	shadow_poll_fds(r, pfd);
	CHECK_EQ(pfd[3].fd, senior_fd[1]);
	pfd[3].revents = POLLIN;
	n_progress = 0;
	gone = true;
	shadow_events(d, pfd);
	CHECK(!r->senior.running);
	CHECK_EQ(n_progress, 1);
	CHECK_EQ(n_events, 1);
	CHECK(strstr(last_event, "rcv-senior-stopped ") == last_event);
	CHECK(strstr(last_event, " killed=1 "));
	CHECK_EQ(r->st.senior_stop_ms, SENIOR_STOP_MS);

	/* The rest of frame 14: the replica's own path handles it. */
	REQUIRE(write(sv[1], vf_wb_data(&wb) + vf_wb_pending(&wb) - 10, 10) ==
		10);
	d->exec_sent = 14;
	memset(pfd, 0, sizeof(pfd));
	replica_poll_fds(d, pfd);
	CHECK_EQ(pfd[0].fd, sv[0]);
	pfd[0].revents = POLLIN;
	replica_events(d, pfd);
	CHECK_EQ(d->exec_done, 14);
	CHECK_EQ(n_votes, 6);

	/*
	 * Next round: domain 4 is the senior, a new shadow (domain 5) has
	 * caught up at h = 15 (switched), the senior has not answered 15
	 * yet. Its answer makes the swap, without a frame of the shadow.
	 */
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv2));
	r->sh.ops = &be;
	r->sh.running = true;
	r->sh.fd = sv2[0];
	r->sh.exit_fd = -1;
	r->sh.domid = 5;
	r->sh_done = 15;
	r->sh_sent = 15;
	r->h = 15;
	r->switched = true;
	r->logging = true;
	r->phase = PH_HANDOVER;
	vf_wb_init(&r->sout, REP_OUT_LIMIT);
	d->exec_sent = 15;
	vf_wb_reset(&wb);
	result(&wb, 15);
	REQUIRE(write(sv[1], vf_wb_data(&wb), vf_wb_pending(&wb)) ==
		(ssize_t)vf_wb_pending(&wb));
	gone = false;
	memset(pfd, 0, sizeof(pfd));
	replica_poll_fds(d, pfd);
	pfd[0].revents = POLLIN;
	replica_events(d, pfd);
	CHECK_EQ(r->phase, PH_FINISH);
	CHECK_EQ(d->rep.domid, 5);
	CHECK_EQ(d->rep.fd, sv2[0]);
	CHECK_EQ(d->exec_done, 15);
	CHECK_EQ(n_shutdown, 2);
	CHECK(r->senior.running);
	CHECK_EQ(r->senior.domid, 4);
	gone = true;
	shadow_fini(d);
	CHECK(!r->senior.running);

	/* The replica's end, reaped: the log still says which one it was. */
	memset(pfd, 0, sizeof(pfd));
	replica_poll_fds(d, pfd);
	pfd[1].revents = POLLIN;
	log_capture();
	replica_events(d, pfd);
	CHECK(strstr(log_text(), "replica (domain 5) is faulty: it exited"));
	CHECK(d->rep_failed);
	CHECK(!d->rep.running);

	test_replay_at_limit();
	test_log_limit();
	test_restore_first();

	vf_wb_free(&wb);
	vf_wb_free(&r->sout);
	replica_fini(d);
	replica_free(d);
	free(r->sin);
	close(sv[1]);
	close(sv2[1]);
	close(senior_fd[1]);
	return vf_check_done("vmfitd-handover-test");
}
