// SPDX-License-Identifier: GPL-2.0-only
/*
 * replica_main.c - the kv replica: replica channel (Documentation/
 * protocol.rst, magic "VMFR") in front of one storage engine.
 *
 * The replica sends HELLO, then serves the manager's frames one at a time:
 * EXEC (strictly in order: order = last + 1, anything else is a protocol
 * error), CHECKPOINT (write the abstract state, kv_state.c, from an
 * in-memory copy by a writer thread: later EXECs are answered meanwhile)
 * and RESTORE (load it). A clean EOF from the manager ends it with status
 * 0; any protocol violation is answered with an ERROR frame and ends it
 * with status 1. Documentation/kv-service.rst has the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vf_log.h"
#include "vf_proto.h"

#include "kv_rand.h"
#include "kv_replica.h"
#include "kv_state.h"
#include "kv_vchan.h"

_Static_assert(KV_MAX_OP == VF_MAX_OP, "kv ops must fit the wire limit");

/*
 *------------------------------------------------------------------
 * Fault injection (kv-faulty only)
 *------------------------------------------------------------------
 */
#ifdef KV_FAULT_INJECTION

enum kv_fault_mode {
	KV_FAULT_NONE,
	KV_FAULT_WRONG,		/* plausible but wrong reply */
	KV_FAULT_RANDOM,	/* random bytes as the reply */
	KV_FAULT_LATE,		/* replies delayed by --fault-delay ms */
	KV_FAULT_SILENT,	/* no RESULT at all */
	KV_FAULT_CORRUPT_STATE,	/* bytes flipped in checkpoint writes */
	KV_FAULT_CRASH,		/* SIGKILL itself */
	KV_FAULT_SLOW_CHECKPOINT, /* checkpoints take --fault-delay ms more,
				   * from checkpoint --fault-after + 1 on */
	KV_FAULT_CRASH_RESTORE,	/* SIGKILL itself on RESTORE */
};

static const char *const kv_fault_names[] = {
	[KV_FAULT_NONE] = "none",
	[KV_FAULT_WRONG] = "wrong",
	[KV_FAULT_RANDOM] = "random",
	[KV_FAULT_LATE] = "late",
	[KV_FAULT_SILENT] = "silent",
	[KV_FAULT_CORRUPT_STATE] = "corrupt-state",
	[KV_FAULT_CRASH] = "crash",
	[KV_FAULT_SLOW_CHECKPOINT] = "slow-checkpoint",
	[KV_FAULT_CRASH_RESTORE] = "crash-restore",
};

struct kv_fault {
	enum kv_fault_mode mode;
	double prob;		/* per request (per written block) */
	uint64_t after;		/* behave for this many EXECs (slow-checkpoint:
				 * CHECKPOINTs) first */
	uint32_t delay_ms;	/* late, slow-checkpoint */
	uint64_t rng;		/* splitmix64 state */
	uint64_t execs;		/* EXECs seen */
	uint64_t ckpts;		/* CHECKPOINTs taken */
	char probe[VF_LOG_PEER_STR - 1]; /* --probe-isolation report */
};

static uint64_t kv_fault_next(struct kv_fault *f)
{
	return kv_rand(&f->rng);
}

static bool kv_fault_roll(struct kv_fault *f)
{
	return (double)(kv_fault_next(f) >> 11) / (double)(1ull << 53) <
	       f->prob;
}

/* Sleep @ms milliseconds, whatever signals come. */
static void kv_fault_sleep(uint32_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int kv_fault_parse(struct kv_fault *f, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	char *end;
	size_t i;

	f->prob = 1.0;
	f->mode = KV_FAULT_NONE;
	for (i = 1; i < sizeof(kv_fault_names) / sizeof(kv_fault_names[0]);
	     i++) {
		if (strlen(kv_fault_names[i]) == len &&
		    !strncmp(arg, kv_fault_names[i], len))
			f->mode = i;
	}
	if (f->mode == KV_FAULT_NONE)
		return -EINVAL;
	if (colon) {
		errno = 0;
		f->prob = strtod(colon + 1, &end);
		if (errno || end == colon + 1 || *end || !(f->prob >= 0.0) ||
		    f->prob > 1.0)
			return -EINVAL;
	}
	return 0;
}

/* Flip one byte of a block written to the state volume (corrupt-state). */
static void kv_fault_mangle(void *arg, uint8_t *buf, uint32_t len)
{
	struct kv_fault *f = arg;

	if (!kv_fault_roll(f))
		return;
	buf[kv_fault_next(f) % len] ^= 0xff;
}

/* Make a well-formed reply that differs from the correct one. */
static int kv_fault_wrong(uint8_t *reply, int n)
{
	struct kv_reply r;

	if (kv_reply_decode(reply, n, &r))
		return n;
	switch (r.status) {
	case KV_OK:
		if (r.val_len) {
			reply[n - 1] ^= 0x5a;
			return n;
		}
		return kv_reply_encode(reply, KV_MAX_OP, KV_NOT_FOUND, NULL, 0);
	case KV_NOT_FOUND:
		return kv_reply_encode(reply, KV_MAX_OP, KV_OK, NULL, 0);
	case KV_BAD_REQUEST:
		return kv_reply_encode(reply, KV_MAX_OP, KV_TOO_BIG, NULL, 0);
	default:
		return kv_reply_encode(reply, KV_MAX_OP, KV_BAD_REQUEST, NULL,
				       0);
	}
}

/*
 * Apply the fault to the reply of one EXEC. Returns the (new) reply
 * length, or -1 when no RESULT must be sent.
 */
static int kv_fault_reply(struct kv_fault *f, uint8_t *reply, int n)
{
	int i;

	f->execs++;
	if (f->mode == KV_FAULT_NONE || f->mode == KV_FAULT_CORRUPT_STATE ||
	    f->mode == KV_FAULT_SLOW_CHECKPOINT ||
	    f->execs <= f->after || !kv_fault_roll(f))
		return n;
	switch (f->mode) {
	case KV_FAULT_WRONG:
		return kv_fault_wrong(reply, n);
	case KV_FAULT_RANDOM:
		n = kv_fault_next(f) % 64;
		for (i = 0; i < n; i++)
			reply[i] = kv_fault_next(f);
		return n;
	case KV_FAULT_LATE:
		kv_fault_sleep(f->delay_ms);
		return n;
	case KV_FAULT_SILENT:
		return -1;
	case KV_FAULT_CRASH:
		kill(getpid(), SIGKILL);
		_exit(137);
	default:
		return n;
	}
}

/*
 * --probe-isolation TARGETS: try to reach each target (comma-separated:
 * "@name" an abstract unix socket such as libqb's for corosync CPG,
 * "a.b.c.d:port" TCP) and write "uid=U @name=R a.b.c.d:port=R" into
 * @out, R being "ok" or the errno of the failed connect: a test replica
 * that tells whether it could reach the group. Short, to fit in HELLO.
 */
/* Connect to @sa: 0 or the errno. */
static int kv_probe_connect(const void *sa, socklen_t len)
{
	int fd = socket(((const struct sockaddr *)sa)->sa_family,
			SOCK_STREAM, 0), r;

	if (fd < 0)
		return errno;
	r = connect(fd, sa, len) < 0 ? errno : 0;
	close(fd);
	return r;
}

static void kv_probe(const char *targets, char *out, size_t size)
{
	char buf[256], *t, *save = NULL, *colon;
	struct sockaddr_un un;
	struct sockaddr_in in;
	size_t len, n;
	int r;

	n = snprintf(out, size, "uid=%u", (unsigned int)getuid());
	snprintf(buf, sizeof(buf), "%s", targets);
	for (t = strtok_r(buf, ",", &save); t && n < size;
	     t = strtok_r(NULL, ",", &save)) {
		memset(&un, 0, sizeof(un));
		memset(&in, 0, sizeof(in));
		r = EINVAL;
		len = strlen(t + 1);
		if (t[0] == '@' && len < sizeof(un.sun_path)) {
			un.sun_family = AF_UNIX;
			memcpy(un.sun_path + 1, t + 1, len);
			/* As named, then NUL-padded to the whole sun_path
			 * (libqb binds its names that way). */
			r = kv_probe_connect(&un, offsetof(struct sockaddr_un,
							   sun_path) + 1 + len);
			if (r == ECONNREFUSED)
				r = kv_probe_connect(&un, sizeof(un));
		} else if ((colon = strchr(t, ':'))) {
			*colon = 0;
			in.sin_family = AF_INET;
			in.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, t, &in.sin_addr) == 1)
				r = kv_probe_connect(&in, sizeof(in));
			*colon = ':';
		}
		if (r)
			n += snprintf(out + n, size - n, " %s=%d", t, r);
		else
			n += snprintf(out + n, size - n, " %s=ok", t);
	}
}

/*
 * Is the CHECKPOINT just taken slow (not a fault: a big state on a slow
 * disk)? From the (--fault-after + 1)th on: with --fault-after 1 the
 * first one, which formats the volume in the foreground, is quick and
 * the later ones, written by the background writer, are slow.
 */
static bool kv_fault_slow_checkpoint(struct kv_fault *f)
{
	return f->mode == KV_FAULT_SLOW_CHECKPOINT && ++f->ckpts > f->after;
}

#endif /* KV_FAULT_INJECTION */

/*
 *------------------------------------------------------------------
 * Replica state
 *------------------------------------------------------------------
 */

struct kv_replica {
	const char *name;	/* implementation, for HELLO and logs */
	struct kv_store store;
	struct kv_vol vol;
	int fd;			/* replica channel */
	uint64_t last;		/* last executed order number */
	uint8_t *in;		/* one frame payload */
	uint8_t *reply;		/* one op reply */
	struct vf_wbuf wb;
	/*
	 * The checkpoint writer: puts kv_checkpoint_begin()'s copy on the
	 * volume and sends CHECKPOINT_DONE while the main thread goes on
	 * executing. One at a time; @lock serialises whole frames on @fd.
	 */
	pthread_mutex_t lock;
	pthread_t writer;
	bool writing;		/* @writer to be joined */
	struct vf_wbuf wwb;	/* the writer's frames */
#ifdef KV_FAULT_INJECTION
	struct kv_fault fault;
	bool slow;		/* this checkpoint's write is late */
#endif
};

/* Send an ERROR frame (best effort: the channel may be gone). */
static void kv_send_error(struct kv_replica *rp, uint32_t code,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kv_send_error(struct kv_replica *rp, uint32_t code,
			  const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf_err("protocol error: %s", msg);
	vf_wb_reset(&rp->wb);
	if (!vf_error_encode(&rp->wb, VF_MAGIC_REPLICA, code, msg)) {
		pthread_mutex_lock(&rp->lock);
		vf_wb_flush_fd(rp->fd, &rp->wb);
		pthread_mutex_unlock(&rp->lock);
	}
}

/* Send the frames in @wb (the main thread's or the writer's). */
static int kv_flush_wb(struct kv_replica *rp, struct vf_wbuf *wb)
{
	int r = wb->err;

	if (!r) {
		pthread_mutex_lock(&rp->lock);
		r = vf_wb_flush_fd(rp->fd, wb);
		pthread_mutex_unlock(&rp->lock);
	}
	vf_wb_reset(wb);
	if (r)
		vf_err("write to manager: %s", vf_strerror(r));
	return r;
}

static int kv_flush(struct kv_replica *rp)
{
	return kv_flush_wb(rp, &rp->wb);
}

/* Returns 0 to go on, 1 to stop with a protocol error, -errno on I/O. */
static int kv_on_exec(struct kv_replica *rp, const uint8_t *p, uint32_t n)
{
	struct vf_result res;
	struct vf_exec ex;
	int r, len;

	r = vf_exec_decode(p, n, &ex);
	if (r) {
		kv_send_error(rp, vf_err_code(r) ? vf_err_code(r) :
			      VF_ERR_MALFORMED, "bad EXEC: %s", vf_strerror(r));
		return 1;
	}
	if (ex.order != rp->last + 1) {
		kv_send_error(rp, VF_ERR_MALFORMED,
			      "EXEC order %llu, expected %llu",
			      (unsigned long long)ex.order,
			      (unsigned long long)rp->last + 1);
		return 1;
	}
	len = kv_exec(&rp->store, ex.op, ex.op_len, rp->reply, KV_MAX_OP);
	if (len < 0) {
		vf_err("engine failed at order %llu: %s",
		       (unsigned long long)ex.order, strerror(-len));
		return len;
	}
	rp->last = ex.order;
#ifdef KV_FAULT_INJECTION
	len = kv_fault_reply(&rp->fault, rp->reply, len);
	if (len < 0)
		return 0;
#endif
	res.order = ex.order;
	res.len = len;
	res.data = rp->reply;
	vf_result_encode(&rp->wb, &res);
	return kv_flush(rp);
}

/* Say what a restore or the first checkpoint found after a crash. */
static void kv_log_journal(const struct kv_vol *v)
{
	if (v->found == KV_JOURNAL_REPLAYED)
		vf_warn("state volume: completed the interrupted checkpoint at order %llu from its journal",
			(unsigned long long)v->found_order);
	else if (v->found == KV_JOURNAL_DISCARDED)
		vf_warn("state volume: discarded an uncommitted checkpoint journal; the previous checkpoint stands");
	else if (v->found == KV_JOURNAL_UNTRUSTED)
		vf_warn("journal: discarded what it held unread: RESTORE loads the verified volume, whose checkpoint was complete");
}

/* Log a checkpoint's outcome and encode its CHECKPOINT_DONE into @wb. */
static void kv_checkpoint_done(struct kv_replica *rp, struct vf_wbuf *wb,
			       uint64_t order, int r)
{
	struct vf_done done = { .order = order, .status = -r };

	if (r)
		vf_err("checkpoint at order %llu: %s",
		       (unsigned long long)order, strerror(-r));
	else
		vf_info("checkpoint at order %llu: %u slots written",
			(unsigned long long)order, rp->vol.last_slots);
	vf_done_encode(wb, VF_R_CHECKPOINT_DONE, &done);
}

/*
 * kv-faulty's slow-checkpoint delay: before the write, in the writer as
 * in the foreground (kv_on_checkpoint). A slow disk's checkpoint becomes
 * the volume's only at its end (the journal commit is its last write): so
 * during the delay the volume holds the previous checkpoint, and a replica
 * killed meanwhile (declared faulty at checkpoint_timeout_ms) leaves that
 * one, as a killed slow writer would. After the write, the volume would
 * hold a checkpoint whose DONE its manager never had.
 */
static void kv_checkpoint_delay(struct kv_replica *rp)
{
#ifdef KV_FAULT_INJECTION
	if (rp->slow)
		kv_fault_sleep(rp->fault.delay_ms);
#else
	(void)rp;
#endif
}

/* Write kv_checkpoint_begin()'s copy to the volume. */
static int kv_checkpoint_write(struct kv_replica *rp)
{
	kv_checkpoint_delay(rp);
	return kv_checkpoint_end(&rp->vol);
}

/*
 * The writer thread. A failed send is the main thread's to notice (the
 * channel is gone for it too); a failed write is in DONE's status.
 */
static void *kv_writer(void *arg)
{
	struct kv_replica *rp = arg;
	int r;

	r = kv_checkpoint_write(rp);
	kv_checkpoint_done(rp, &rp->wwb, rp->vol.snap.order, r);
	kv_flush_wb(rp, &rp->wwb);
	return NULL;
}

/* Wait for the checkpoint in flight, if any: it owns the volume. */
static void kv_writer_join(struct kv_replica *rp)
{
	if (!rp->writing)
		return;
	pthread_join(rp->writer, NULL);
	rp->writing = false;
}

/*
 * CHECKPOINT(order): copy the dirty slots (kv_checkpoint_begin) and leave
 * the volume to the writer thread, which sends CHECKPOINT_DONE when they
 * are durable: the EXECs that follow are executed and answered meanwhile
 * (Documentation/protocol.rst). The volume holds the state at @order
 * whatever the engine executes since: only checkpoints write it. A
 * checkpoint that cannot be copied (a volume of unknown content, the
 * first one) is written here, as is any failure.
 */
static int kv_on_checkpoint(struct kv_replica *rp, const uint8_t *p,
			    uint32_t n)
{
	struct vf_done done = { .status = ESTALE };
	uint64_t order;
	int r;

	r = vf_checkpoint_decode(p, n, &order);
	if (r) {
		kv_send_error(rp, VF_ERR_MALFORMED, "bad CHECKPOINT: %s",
			      vf_strerror(r));
		return 1;
	}
	kv_writer_join(rp);
	if (order != rp->last) {
		vf_err("CHECKPOINT at order %llu, but executed up to %llu",
		       (unsigned long long)order,
		       (unsigned long long)rp->last);
		done.order = rp->last;
		vf_done_encode(&rp->wb, VF_R_CHECKPOINT_DONE, &done);
		return kv_flush(rp);
	}
#ifdef KV_FAULT_INJECTION
	rp->slow = kv_fault_slow_checkpoint(&rp->fault);
#endif
	/* Unless the volume holds the previous checkpoint, begin writes this
	 * one itself (kv_state.h): the delay comes first here too. */
	if (!rp->vol.synced)
		kv_checkpoint_delay(rp);
	r = kv_checkpoint_begin(&rp->vol, &rp->store, order);
	kv_log_journal(&rp->vol);
	if (r == 1) {
		r = -pthread_create(&rp->writer, NULL, kv_writer, rp);
		if (!r) {
			rp->writing = true;
			return 0;
		}
		vf_warn("no checkpoint writer thread (%s): writing it now",
			strerror(-r));
		r = kv_checkpoint_write(rp);
	}
	kv_checkpoint_done(rp, &rp->wb, order, r);
	return kv_flush(rp);
}

static int kv_on_restore(struct kv_replica *rp, const uint8_t *p, uint32_t n)
{
	struct vf_done done = { 0 };
	uint64_t order = 0;
	int r;

	r = vf_empty_decode(p, n);
	if (r) {
		kv_send_error(rp, VF_ERR_MALFORMED, "bad RESTORE: %s",
			      vf_strerror(r));
		return 1;
	}
	kv_writer_join(rp);
#ifdef KV_FAULT_INJECTION
	/* A shadow that dies in the middle of its restore. */
	if (rp->fault.mode == KV_FAULT_CRASH_RESTORE) {
		kill(getpid(), SIGKILL);
		_exit(137);
	}
#endif
	r = kv_restore(&rp->vol, &rp->store, &order);
	kv_log_journal(&rp->vol);
	if (r) {
		vf_err("restore: %s", strerror(-r));
		rp->last = 0;
		done.status = -r;
	} else {
		vf_info("restored state at order %llu",
			(unsigned long long)order);
		rp->last = order;
		done.order = order;
	}
	vf_done_encode(&rp->wb, VF_R_RESTORE_DONE, &done);
	return kv_flush(rp);
}

/* Serve frames until EOF (0) or an error (nonzero). */
static int kv_serve(struct kv_replica *rp)
{
	struct vf_error err;
	struct vf_hdr h;
	char ver[VF_LOG_PEER_STR];
	int r;

	snprintf(ver, sizeof(ver), "%s", KV_VERSION);
#ifdef KV_FAULT_INJECTION
	/* let the manager's log show that this replica lies on purpose */
	snprintf(ver, sizeof(ver), "%s fault=%s", KV_VERSION,
		 kv_fault_names[rp->fault.mode]);
	if (rp->fault.probe[0])
		snprintf(ver, sizeof(ver), "%s", rp->fault.probe);
#endif
	vf_hello_encode(&rp->wb, rp->name, ver);
	r = kv_flush(rp);
	if (r)
		return r;
	for (;;) {
		r = vf_read_frame(rp->fd, VF_MAGIC_REPLICA, &h, rp->in,
				  VF_MAX_PAYLOAD);
		if (r == 1)
			return 0;
		if (r) {
			if (vf_err_code(r))
				kv_send_error(rp, vf_err_code(r),
					      "bad frame header: %s",
					      vf_strerror(r));
			else
				vf_err("read from manager: %s",
				       vf_strerror(r));
			return r;
		}
		switch (h.type) {
		case VF_R_EXEC:
			r = kv_on_exec(rp, rp->in, h.len);
			break;
		case VF_R_CHECKPOINT:
			r = kv_on_checkpoint(rp, rp->in, h.len);
			break;
		case VF_R_RESTORE:
			r = kv_on_restore(rp, rp->in, h.len);
			break;
		case VF_R_ERROR:
			if (!vf_error_decode(rp->in, h.len, &err))
				vf_err("manager sent ERROR %u: %.*s", err.code,
				       (int)err.msg_len, err.msg);
			else
				vf_err("manager sent a malformed ERROR");
			return 1;
		default:
			kv_send_error(rp, VF_ERR_TYPE,
				      "unexpected frame type %u (%s)", h.type,
				      vf_type_name(h.type));
			return 1;
		}
		if (r)
			return r;
	}
}

/*
 *------------------------------------------------------------------
 * Command line
 *------------------------------------------------------------------
 */

static void kv_usage(FILE *fp, const char *prog,
		     const struct kv_engine_ops *const *engines)
{
	int i;

	fprintf(fp,
		"Usage: %s (--fd N | --connect unix:PATH|tcp:HOST:PORT |\n"
		"           --vchan XSPATH)\n"
		"       --state PATH [--journal PATH] --records M\n"
		"       --record-size S\n", prog);
	if (engines[1]) {
		fprintf(fp, "       [--engine");
		for (i = 0; engines[i]; i++)
			fprintf(fp, "%s%s", i ? "|" : " ", engines[i]->name);
		fprintf(fp, "]\n");
	}
#ifdef KV_FAULT_INJECTION
	fprintf(fp,
		"       [--fault MODE[:PROB]] [--fault-after N]\n"
		"       [--fault-delay MS] [--fault-seed S]\n");
#endif
	fprintf(fp,
		"\n"
		"A vmfit key-value replica (Documentation/kv-service.rst).\n"
		"  --fd N            use the inherited stream socket N as the\n"
		"                    replica channel\n"
		"  --connect ADDR    connect to the manager at unix:PATH or\n"
		"                    tcp:HOST:PORT instead\n"
		"  --vchan XSPATH    use the Xen vchan that dom0 serves at\n"
		"                    xenstore path XSPATH (in a Xen domain)\n"
		"  --state PATH      state volume (file, created if missing,\n"
		"                    or block device)\n"
		"  --journal PATH    checkpoint journal (file, created if\n"
		"                    missing, or block device) instead of\n"
		"                    the state volume's journal area; not\n"
		"                    verified: RESTORE zeroes it unread\n"
		"  --records M       number of keys: 0 .. M-1 (1 .. %u)\n"
		"  --record-size S   largest value in bytes (1 .. %u)\n"
		"  --log-level L     err, warn, info (default), debug\n"
		"  -h, --help        this text\n", KV_MAX_RECORDS,
		KV_MAX_RECORD_SIZE);
#ifdef KV_FAULT_INJECTION
	fprintf(fp,
		"Fault injection (this build only):\n"
		"  --fault MODE[:PROB]  wrong, random, late, silent,\n"
		"                    corrupt-state, crash, crash-restore (on\n"
		"                    RESTORE) or slow-checkpoint\n"
		"                    (checkpoints take --fault-delay ms\n"
		"                    more; not a fault), applied with\n"
		"                    probability PROB (default 1) per request\n"
		"                    (corrupt-state: per block written)\n"
		"  --fault-after N   serve N requests correctly first (crash:\n"
		"                    die on request N+1; slow-checkpoint: N\n"
		"                    checkpoints at full speed); default 0\n"
		"  --fault-delay MS  delay for late and slow-checkpoint\n"
		"                    (default 500)\n"
		"  --fault-seed S    random seed (default 1)\n"
		"  --probe-isolation TARGETS  try to connect to each target\n"
		"                    (comma-separated @abstract-unix-name or\n"
		"                    IPv4:port) and report it in HELLO's version\n"
		"                    (\"uid=U target=ok|errno ...\"); without\n"
		"                    --fd/--connect print that and exit\n");
#endif
}

/* Parse a decimal number in [min, max]; the whole string must match. */
static int kv_parse_u64(const char *s, uint64_t min, uint64_t max,
			uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int kv_connect(const char *addr)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char host[256];
	const char *port;
	int fd, r;

	if (!strncmp(addr, "unix:", 5)) {
		if (!addr[5] || strlen(addr + 5) >= sizeof(sun.sun_path))
			return -EINVAL;
		strcpy(sun.sun_path, addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			r = -errno;
			close(fd);
			return r;
		}
		return fd;
	}
	if (strncmp(addr, "tcp:", 4))
		return -EINVAL;
	port = strrchr(addr + 4, ':');
	if (!port || port == addr + 4 || !port[1] ||
	    (size_t)(port - addr - 4) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr + 4, port - addr - 4);
	host[port - addr - 4] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port + 1, &hints, &res);
	if (r)
		return -EHOSTUNREACH;
	r = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			freeaddrinfo(res);
			return fd;
		}
		r = -errno;
		close(fd);
	}
	freeaddrinfo(res);
	return r;
}

enum {
	OPT_FD = 256,
	OPT_CONNECT,
	OPT_VCHAN,
	OPT_STATE,
	OPT_JOURNAL,
	OPT_RECORDS,
	OPT_RECORD_SIZE,
	OPT_ENGINE,
	OPT_LOG_LEVEL,
	OPT_FAULT,
	OPT_FAULT_AFTER,
	OPT_FAULT_DELAY,
	OPT_FAULT_SEED,
	OPT_PROBE_ISOLATION,
};

static const struct option kv_options[] = {
	{ "fd", required_argument, NULL, OPT_FD },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "vchan", required_argument, NULL, OPT_VCHAN },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "records", required_argument, NULL, OPT_RECORDS },
	{ "record-size", required_argument, NULL, OPT_RECORD_SIZE },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
#ifdef KV_FAULT_INJECTION
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "fault-after", required_argument, NULL, OPT_FAULT_AFTER },
	{ "fault-delay", required_argument, NULL, OPT_FAULT_DELAY },
	{ "fault-seed", required_argument, NULL, OPT_FAULT_SEED },
	{ "probe-isolation", required_argument, NULL, OPT_PROBE_ISOLATION },
#endif
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct kv_args {
	const struct kv_engine_ops *engine;
	int fd;
	const char *connect;
	const char *vchan;
	const char *state;
	const char *journal;	/* NULL: in the state volume */
	struct kv_limits lim;
};

#ifdef KV_FAULT_INJECTION
static bool kv_has_channel(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--fd") || !strcmp(argv[i], "--connect"))
			return true;
	return false;
}
#endif

/* Returns 0, or 2 (usage error, message printed), or -1 (--help done). */
static int kv_parse_args(struct kv_replica *rp, struct kv_args *a, int argc,
			 char **argv,
			 const struct kv_engine_ops *const *engines)
{
	const char *prog = argv[0] ? argv[0] : "kv";
	uint64_t v;
	int c, i, level, idx = 0;

	memset(a, 0, sizeof(*a));
	a->engine = engines[0];
	a->fd = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", kv_options, &idx)) != -1) {
		switch (c) {
		case OPT_FD:
			if (kv_parse_u64(optarg, 0, INT_MAX, &v))
				goto bad_value;
			a->fd = (int)v;
			break;
		case OPT_CONNECT:
			a->connect = optarg;
			break;
		case OPT_VCHAN:
			if (!*optarg)
				goto bad_value;
			a->vchan = optarg;
			break;
		case OPT_STATE:
			a->state = optarg;
			break;
		case OPT_JOURNAL:
			if (!*optarg)
				goto bad_value;
			a->journal = optarg;
			break;
		case OPT_RECORDS:
			if (kv_parse_u64(optarg, 1, KV_MAX_RECORDS, &v))
				goto bad_value;
			a->lim.records = (uint32_t)v;
			break;
		case OPT_RECORD_SIZE:
			if (kv_parse_u64(optarg, 1, KV_MAX_RECORD_SIZE, &v))
				goto bad_value;
			a->lim.record_size = (uint32_t)v;
			break;
		case OPT_ENGINE:
			for (i = 0; engines[i]; i++)
				if (!strcmp(optarg, engines[i]->name) ||
				    !strcmp(optarg, engines[i]->name + 3))
					break;
			if (!engines[i] || !engines[1])
				goto bad_value;
			a->engine = engines[i];
			break;
		case OPT_LOG_LEVEL:
			level = vf_log_parse_level(optarg);
			if (level < 0)
				goto bad_value;
			vf_log_set_level(level);
			break;
#ifdef KV_FAULT_INJECTION
		case OPT_FAULT:
			if (kv_fault_parse(&rp->fault, optarg))
				goto bad_value;
			break;
		case OPT_FAULT_AFTER:
			if (kv_parse_u64(optarg, 0, UINT64_MAX, &v))
				goto bad_value;
			rp->fault.after = v;
			break;
		case OPT_FAULT_DELAY:
			if (kv_parse_u64(optarg, 0, 3600 * 1000, &v))
				goto bad_value;
			rp->fault.delay_ms = (uint32_t)v;
			break;
		case OPT_PROBE_ISOLATION:
			kv_probe(optarg, rp->fault.probe,
				 sizeof(rp->fault.probe));
			/* Alone (no channel): print what it reached. */
			if (!kv_has_channel(argc, argv)) {
				printf("%s\n", rp->fault.probe);
				return -1;
			}
			break;
		case OPT_FAULT_SEED:
			if (kv_parse_u64(optarg, 0, UINT64_MAX, &v))
				goto bad_value;
			rp->fault.rng = v;
			break;
#endif
		case 'h':
			kv_usage(stdout, prog, engines);
			return -1;
		case ':':
			fprintf(stderr, "%s: option '%s' needs a value\n",
				prog, argv[optind - 1]);
			goto usage;
		default:
			fprintf(stderr, "%s: unknown option '%s'\n", prog,
				argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		goto usage;
	}
	if ((a->fd >= 0) + !!a->connect + !!a->vchan != 1) {
		fprintf(stderr,
			"%s: exactly one of --fd, --connect and --vchan needed\n",
			prog);
		goto usage;
	}
	if (!a->state || !a->lim.records || !a->lim.record_size) {
		fprintf(stderr,
			"%s: --state, --records and --record-size are required\n",
			prog);
		goto usage;
	}
	return 0;
bad_value:
	fprintf(stderr, "%s: bad value '%s' for option '--%s'\n", prog,
		optarg, kv_options[idx].name);
usage:
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return 2;
}

int kv_replica_main(int argc, char **argv,
		    const struct kv_engine_ops *const *engines)
{
	struct kv_replica rp = { .fd = -1, .vol = { .fd = -1 } };
	struct kv_vchan *vchan = NULL;
	struct kv_args a;
	int r, ret = 1;

#ifdef KV_FAULT_INJECTION
	rp.fault.delay_ms = 500;
	rp.fault.rng = 1;
#endif
	vf_log_open(engines[0]->name, false);
	r = kv_parse_args(&rp, &a, argc, argv, engines);
	if (r)
		return r < 0 ? 0 : r;
	rp.name = a.engine->name;
	vf_log_open(rp.name, false);
	vf_wb_init(&rp.wb, 0);
	vf_wb_init(&rp.wwb, 0);
	pthread_mutex_init(&rp.lock, NULL);
	signal(SIGPIPE, SIG_IGN);

	rp.in = malloc(VF_MAX_PAYLOAD);
	rp.reply = malloc(KV_MAX_OP);
	if (!rp.in || !rp.reply) {
		vf_err("out of memory");
		goto out;
	}
	r = kv_store_open(&rp.store, a.engine, &a.lim);
	if (r) {
		vf_err("cannot create the %s engine: %s", rp.name,
		       strerror(-r));
		goto out;
	}
	r = kv_vol_open(&rp.vol, a.state, &a.lim);
	if (r) {
		vf_err("state volume %s: %s", a.state, strerror(-r));
		goto out;
	}
	if (a.journal) {
		r = kv_vol_journal(&rp.vol, a.journal);
		if (r) {
			vf_err("journal %s: %s%s", a.journal, strerror(-r),
			       r == -EINVAL ? " (it is the state volume)" : "");
			goto out;
		}
	}
#ifdef KV_FAULT_INJECTION
	if (rp.fault.mode == KV_FAULT_CORRUPT_STATE) {
		rp.vol.mangle = kv_fault_mangle;
		rp.vol.mangle_arg = &rp.fault;
	}
#endif
	if (a.vchan) {
		rp.fd = kv_vchan_open(a.vchan, &vchan);
		if (rp.fd < 0) {
			vf_err("vchan %s: %s", a.vchan, strerror(-rp.fd));
			goto out;
		}
	} else if (a.connect) {
		rp.fd = kv_connect(a.connect);
		if (rp.fd < 0) {
			vf_err("connect %s: %s", a.connect,
			       strerror(-rp.fd));
			goto out;
		}
	} else {
		rp.fd = a.fd;
	}
	ret = kv_serve(&rp) ? 1 : 0;
	/* the checkpoint in flight is finished, as a synchronous one was */
	kv_writer_join(&rp);
out:
	if (rp.fd >= 0)
		close(rp.fd);
	kv_vchan_close(vchan);
	kv_vol_close(&rp.vol);
	kv_store_close(&rp.store);
	vf_wb_free(&rp.wb);
	vf_wb_free(&rp.wwb);
	pthread_mutex_destroy(&rp.lock);
	free(rp.in);
	free(rp.reply);
	vf_log_close();
	return ret;
}
