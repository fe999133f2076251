// SPDX-License-Identifier: GPL-2.0-only
/*
 * recovery_volume.c - the two state volumes of a recovery round
 * (Documentation/protocol.rst "Recovery", phases 3, 4 and 6;
 * invariants I1-I3): A, the senior's, is snapshotted at the capture and
 * its frozen view hashed (the changed set only, or all of it in a full
 * round); the verified chunks are copied into B, which the shadow restores
 * from; after the hand-over A is dropped to the captured state and
 * repaired, and becomes the next round's B. Everything slow runs in the
 * volume worker thread (below), off the event loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recovery.h"
#include "vf_log.h"

/*
 *------------------------------------------------------------------
 * The volume worker
 *------------------------------------------------------------------
 *
 * Why a thread, not slices of work per tick: the slow operations are
 * calls into vf_svol whose length the loop cannot bound. The kernel's
 * checksum dump is one netlink request that hashes a whole (changed) view,
 * the stand-in's changed set compares whole files, merge and drop may wait
 * for the target, sync waits for the disk; only the chunk copy could be
 * cut into slices, and then only by the caller. One worker thread runs
 * them in order, one job at a time; the loop hands a job over, goes on
 * serving, and picks the result up through an eventfd it polls
 * (volume_poll_fds / volume_events). The loop itself does only what is
 * bounded: the snapshot at the capture (the senior is held anyway: the
 * capture's cost is checkpoint + snapshot, O(1) on the target), the
 * geometry, one chunk read per peer request.
 *
 * Ownership, so that no lock guards round data: what a job works on
 * (the digests being filled, the changed set, the repairs) is moved into
 * the job when it is queued and moved back when its result is picked up;
 * the loop does not touch it meanwhile. The svol objects are shared, but
 * the loop only reads the frozen view (pread) while a job runs, and starts
 * a snapshot only with the worker idle. An abort does not wait: it cancels
 * the round's job (checked between chunks and digests; its result is then
 * thrown away) and queues the merge of A's snapshot behind it.
 */

enum vjob_kind {
	VJ_HASH,	/* A's changed set and the digests of its view */
	VJ_COPY,	/* repairs and verified chunks into B; sync, clear B */
	VJ_COMMIT,	/* drop A's snapshot, repairs into A, save the store */
	VJ_MERGE,	/* an aborted round's snapshot of A merged back */
};

static const char *const vjob_names[] = {
	[VJ_HASH] = "hash",
	[VJ_COPY] = "copy",
	[VJ_COMMIT] = "commit",
	[VJ_MERGE] = "merge",
};

struct vjob {
	struct vjob *next;
	enum vjob_kind kind;
	atomic_bool cancel;		/* the round is gone: stop, no result */
	struct vf_svol *a;		/* the frozen volume */
	struct vf_svol *b;		/* COPY: the shadow's volume */
	bool full;
	uint64_t nchunks;
	uint64_t view_bytes;
	uint32_t chunk_size;
	const char *store_path;		/* COMMIT */
	uint64_t round;			/* COMMIT */
	unsigned int delay_ms;		/* HASH: test fault slow-hash */
	/* moved from the round and back */
	struct vf_dstore work;		/* HASH: filled; COMMIT: saved */
	struct vf_ranges changed;	/* HASH: filled; COPY: copied */
	struct repair *rep;		/* COPY, COMMIT */
	size_t nrep;
	/* results */
	int err;			/* -errno of the step that failed */
	int store_err;			/* COMMIT: saving the digest store */
	const char *step;
	long hashed;
	uint64_t copied;
	uint64_t bytes_copied;
	uint64_t ms;			/* the worker's time on it */
};

struct vworker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job queued, or stop */
	pthread_cond_t idle;		/* queue empty, nothing running */
	struct vjob *queue;		/* under lock, FIFO */
	struct vjob *done;		/* under lock, FIFO */
	bool running;			/* under lock */
	bool stop;			/* under lock */
	int efd;			/* a result is waiting */
	int nice;			/* recovery_nice */
};

static void job_free(struct vjob *j)
{
	size_t i;

	vf_dstore_free(&j->work);
	vf_ranges_free(&j->changed);
	for (i = 0; i < j->nrep; i++)
		free(j->rep[i].data);
	free(j->rep);
	free(j);
}

static void append(struct vjob **list, struct vjob *j)
{
	while (*list)
		list = &(*list)->next;
	j->next = NULL;
	*list = j;
}

/* The digest callback of the hash: stops the dump once cancelled. */
static int hash_cb(uint64_t chunk, const uint8_t *digest, unsigned int size,
		   void *arg)
{
	struct vjob *j = arg;

	if (atomic_load(&j->cancel))
		return -ECANCELED;
	return vf_dstore_digest_cb(chunk, digest, size, &j->work);
}

static void run_hash(struct vjob *j)
{
	struct timespec ts = { 0, 50000000L };
	uint8_t root[VF_MERKLE_DIGEST_SIZE];
	struct vf_svol *a = j->a;
	unsigned int t;

	/* Test fault slow-hash: a slow disk, as long as it is not cancelled. */
	for (t = 0; t < j->delay_ms && !atomic_load(&j->cancel); t += 50)
		nanosleep(&ts, NULL);
	if (!j->full) {
		j->step = "changed set";
		j->err = a->ops->changed(a, &j->changed);
		if (j->err)
			return;
	}
	j->step = "checksum";
	j->hashed = a->ops->checksum(a, !j->full, hash_cb, j);
	if (j->hashed < 0) {
		j->err = j->hashed;
		return;
	}
	/*
	 * The Merkle tree over every chunk's digest, which the digest store
	 * builds on demand: here, not at the loop's first node query
	 * (verify_start), where at 1 GiB (524546 chunks) it held the loop
	 * for 58-85 ms.
	 */
	j->step = "Merkle tree";
	j->err = vf_dstore_root(&j->work, root);
}

static struct repair *find_repair(const struct vjob *j, uint64_t c)
{
	size_t i;

	for (i = 0; i < j->nrep; i++)
		if (j->rep[i].chunk == c)
			return &j->rep[i];
	return NULL;
}

static int copy_chunk(struct vjob *j, uint64_t c, uint8_t *buf)
{
	uint32_t len;
	int e;

	if (atomic_load(&j->cancel))
		return -ECANCELED;
	if (find_repair(j, c))
		return 0;	/* written with the repairs */
	e = j->a->ops->read_view(j->a, c, buf, &len);
	if (!e)
		e = j->b->ops->write(j->b, c, buf, len);
	if (!e) {
		j->copied++;
		j->bytes_copied += len;
	}
	return e;
}

static void run_copy(struct vjob *j)
{
	struct vf_svol *b = j->b;
	uint8_t *buf;
	uint64_t c;
	size_t i;
	int e;

	j->step = "copy";
	buf = malloc(j->chunk_size);
	if (!buf) {
		j->err = -ENOMEM;
		return;
	}
	e = b->ops->resize(b, j->view_bytes);
	for (i = 0; !e && i < j->nrep; i++) {
		e = b->ops->write(b, j->rep[i].chunk, j->rep[i].data,
				  j->rep[i].len);
		j->copied++;
		j->bytes_copied += j->rep[i].len;
	}
	if (j->full) {
		for (c = 0; !e && c < j->nchunks; c++)
			e = copy_chunk(j, c, buf);
	} else {
		for (i = 0; !e && i < j->changed.n; i++)
			for (c = j->changed.r[i].start;
			     !e && c <= j->changed.r[i].end && c < j->nchunks;
			     c++)
				e = copy_chunk(j, c, buf);
	}
	free(buf);
	if (!e)
		e = b->ops->sync(b);
	/* I2: B's changed set starts here, A's is reset only by this; an
	 * aborted round never clears B. */
	if (!e && atomic_load(&j->cancel))
		e = -ECANCELED;
	if (!e)
		e = b->ops->clear(b);
	j->err = e;
}

static void run_commit(struct vjob *j)
{
	struct vf_svol *a = j->a;
	size_t i;
	int e = 0;

	/* A receiver's commit (no frozen A): only its digest store. */
	if (a) {
		j->step = "drop";
		e = a->ops->drop(a);
	}
	for (i = 0; !e && a && i < j->nrep; i++) {
		j->step = "repair";
		e = a->ops->write(a, j->rep[i].chunk, j->rep[i].data,
				  j->rep[i].len);
	}
	if (!e && a) {
		j->step = "sync";
		e = a->ops->sync(a);
	}
	j->err = e;
	if (e)
		return;
	j->work.round = j->round;
	j->store_err = vf_dstore_save(&j->work, j->store_path);
}

static void job_run(struct vjob *j)
{
	uint64_t t0 = now_ms();

	switch (j->kind) {
	case VJ_HASH:
		run_hash(j);
		break;
	case VJ_COPY:
		run_copy(j);
		break;
	case VJ_COMMIT:
		run_commit(j);
		break;
	case VJ_MERGE:
		j->step = "merge";
		j->err = j->a->ops->merge(j->a);
		break;
	}
	j->ms = now_ms() - t0;
}

static void *worker_main(void *arg)
{
	struct vworker *w = arg;
	const uint64_t one = 1;
	struct vjob *j;
	ssize_t n;

	/*
	 * Recovery work yields the CPU to the service (vmfitd.conf(5),
	 * recovery_nice). On Linux the nice value is per thread: "0" is this
	 * one. Raising it needs no privilege, so this cannot fail.
	 */
	setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + w->nice);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->queue && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		j = w->queue;
		if (!j)
			break;		/* stopped, and nothing left */
		w->queue = j->next;
		w->running = true;
		pthread_mutex_unlock(&w->lock);
		job_run(j);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		append(&w->done, j);
		/* Cannot fail: the loop reads the counter back to 0. */
		n = write(w->efd, &one, sizeof(one));
		(void)n;
		if (!w->queue)
			pthread_cond_broadcast(&w->idle);
	}
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int worker_start(struct rcv *r, int nice)
{
	struct vworker *w;
	sigset_t all, old;
	int e;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		e = -errno;
		goto out_free;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->idle, NULL);
	w->nice = nice;
	/* Signals are the loop's (ppoll): never the worker's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e)
		goto out_sync;
	r->vw = w;
	return 0;

out_sync:
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
out_free:
	free(w);
	return e;
}

/* Let the queue run dry, then end the thread; results are thrown away. */
static void worker_stop(struct rcv *r)
{
	struct vworker *w = r->vw;
	struct vjob *j;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while ((j = w->done)) {
		w->done = j->next;
		if (j->kind == VJ_MERGE && j->err)
			vf_err("recovery: merge of %s after the abort: %s",
			       j->a->path, strerror(-j->err));
		job_free(j);
	}
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
	free(w);
	r->vw = NULL;
}

static void queue_job(struct rcv *r, struct vjob *j)
{
	struct vworker *w = r->vw;

	pthread_mutex_lock(&w->lock);
	append(&w->queue, j);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

/*
 * Wait until the worker has nothing left: before a snapshot, which must
 * not race an earlier round's merge of the same volume. Only an abort
 * right before a new capture leaves anything (its cancelled job and the
 * merge): short.
 */
static void worker_wait_idle(struct rcv *r)
{
	struct vworker *w = r->vw;
	uint64_t t0 = now_ms();
	bool waited = false;

	pthread_mutex_lock(&w->lock);
	while (w->queue || w->running) {
		waited = true;
		pthread_cond_wait(&w->idle, &w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	if (waited)
		vf_info("recovery: waited %" PRIu64 " ms for the volume worker",
			now_ms() - t0);
}

static struct vjob *job_new(struct rcv *r, enum vjob_kind kind)
{
	struct vjob *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	atomic_init(&j->cancel, false);
	j->a = r->frozen;
	j->b = &r->vol[!r->cur];
	j->full = r->full;
	j->nchunks = r->geom.nchunks;
	j->chunk_size = r->geom.chunk_size;
	j->view_bytes = r->view_bytes;
	j->store_path = r->store_path;
	j->round = r->round;
	vf_ranges_init(&j->changed);
	return j;
}

/*
 *------------------------------------------------------------------
 * The round's volume steps (the loop's side)
 *------------------------------------------------------------------
 */

int volume_open(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	const char *kind = d->conf.volume_kind;
	const char *a = d->conf.state_volume, *b = d->conf.state_volume_b;
	unsigned int i;
	int e;

	if (!strcmp(kind, "vmfit")) {
		a += strlen("/dev/mapper/");
		b += strlen("/dev/mapper/");
		/*
		 * Named after the volume, not the service: managers of one
		 * service on one machine (the VM tests' hosts) must not
		 * share, or at start-up remove, each other's store.
		 */
		mkdir("/var/lib/vmfit", 0755);
		snprintf(r->store_path, sizeof(r->store_path),
			 "/var/lib/vmfit/%s.digests", a);
	} else {
		snprintf(r->store_path, sizeof(r->store_path), "%s.digests",
			 d->conf.state_volume);
	}
	e = vf_svol_open(&r->vol[0], kind, a, d->conf.volume_chunk);
	if (!e)
		e = vf_svol_open(&r->vol[1], kind, b, d->conf.volume_chunk);
	if (e) {
		vf_err("recovery: cannot open the state volumes %s, %s (%s): %s",
		       a, b, kind, strerror(-e));
		return e;
	}
	/*
	 * The replica starts empty (no RESTORE at start-up yet): whatever a
	 * previous run left is not the verified state any more. A snapshot
	 * left by a crash is folded back; the first round is full.
	 */
	for (i = 0; i < 2; i++) {
		if (!r->vol[i].snap)
			continue;
		e = r->vol[i].ops->merge(&r->vol[i]);
		if (e)
			vf_err("recovery: volume %s: cannot fold back the snapshot left by a crash: %s",
			       r->vol[i].name, strerror(-e));
		else
			vf_info("recovery: volume %s: a snapshot left by a crash, folded back",
				r->vol[i].name);
	}
	unlink(r->store_path);
	e = worker_start(r, d->conf.recovery_nice);
	if (e)
		vf_err("recovery: cannot start the volume worker: %s",
		       strerror(-e));
	return e;
}

void volume_close(struct rcv *r)
{
	worker_stop(r);
	vf_svol_close(&r->vol[0]);
	vf_svol_close(&r->vol[1]);
}

/* The round is over: its job, if any, stops and its result is dropped. */
void volume_cancel(struct rcv *r)
{
	if (r->job)
		atomic_store(&r->job->cancel, true);
	r->job = NULL;
}

void volume_merge(struct rcv *r)
{
	struct vjob *j;
	int e;

	if (!r->frozen)
		return;
	j = job_new(r, VJ_MERGE);
	if (!j) {
		/* Out of memory: merge here rather than lose the snapshot. */
		worker_wait_idle(r);
		e = r->frozen->ops->merge(r->frozen);
		if (e)
			vf_err("recovery: merge of %s after the abort: %s",
			       r->frozen->path, strerror(-e));
		return;
	}
	queue_job(r, j);
}

/* Hand @j over to the worker as the round's job; -1: aborted. */
static int start_job(struct vmfitd *d, struct vjob *j)
{
	struct rcv *r = d->rcv;

	if (!j) {
		round_abort(d, VF_RCV_VOLUME, !r->fetched_sent,
			    "out of memory");
		return -1;
	}
	r->job = j;
	queue_job(r, j);
	return 0;
}

/*----------------------------------------------------------------*/
/* Capture: snapshot, then the hash in the worker */

static int view_bytes(struct rcv *r)
{
	uint8_t buf[16];
	uint32_t len = 0;
	int e;

	if (!r->geom.nchunks) {
		r->view_bytes = 0;
		return 0;
	}
	/* The last chunk's real length gives the size. */
	if (r->geom.chunk_size > sizeof(buf)) {
		uint8_t *b = malloc(r->geom.chunk_size);

		if (!b)
			return -ENOMEM;
		e = r->frozen->ops->read_view(r->frozen, r->geom.nchunks - 1,
					      b, &len);
		free(b);
	} else {
		e = -EINVAL;
	}
	if (e)
		return e;
	r->view_bytes = (r->geom.nchunks - 1) * r->geom.chunk_size + len;
	return 0;
}

/*
 * The senior's checkpoint is done, at order @order: snapshot A (the
 * senior is held until this returns, checkpoint.c), then have its frozen
 * view hashed into r->work by the worker. 0, or -1 when the round was
 * aborted.
 */
int volume_capture(struct vmfitd *d, uint64_t order)
{
	struct rcv *r = d->rcv;
	struct vf_svol *a = &r->vol[r->cur];
	struct vjob *j;
	int e;

	worker_wait_idle(r);
	e = a->ops->snapshot(a);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "snapshot of %s: %s",
			    a->path, strerror(-e));
		return -1;
	}
	r->frozen = a;
	r->st.capture_ms = now_ms() - r->capture_start_ms;
	vf_info("recovery: captured at order %" PRIu64 " in %" PRIu64 " ms",
		order, r->st.capture_ms);
	round_phase(d, PH_HASH);
	e = a->ops->geometry(a, &r->geom);
	if (!e)
		e = view_bytes(r);
	if (!e)
		e = verify_store_init(r);
	if (e) {
		round_abort(d, VF_RCV_VOLUME, true, "geometry of %s: %s",
			    a->path, strerror(-e));
		return -1;
	}
	j = job_new(r, VJ_HASH);
	if (j) {
		j->delay_ms = r->slow_hash ? SLOW_HASH_MS : 0;
		j->work = r->work;
		memset(&r->work, 0, sizeof(r->work));
	}
	return start_job(d, j);
}

static void hash_done(struct vmfitd *d, struct vjob *j)
{
	struct rcv *r = d->rcv;

	r->work = j->work;
	memset(&j->work, 0, sizeof(j->work));
	vf_ranges_free(&r->changed);
	r->changed = j->changed;
	vf_ranges_init(&j->changed);
	r->st.hash_ms = j->ms;
	if (j->err) {
		round_abort(d, VF_RCV_VOLUME, true, "%s of %s: %s", j->step,
			    j->a->path, strerror(-j->err));
		return;
	}
	r->work.complete = true;
	r->st.hashed = j->hashed;
	r->st.bytes_hashed = (uint64_t)j->hashed * r->geom.chunk_size;
	vf_info("recovery: %ld chunk(s) of %" PRIu64 " hashed (%s) in %" PRIu64 " ms",
		j->hashed, r->geom.nchunks, r->full ? "full" : "changed set",
		j->ms);
	round_phase(d, PH_VERIFY);
	verify_start(d);
}

/*----------------------------------------------------------------*/
/* Hand-over: B gets the verified state */

/* Every repair is fetched: the worker copies into B. */
void volume_copy(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vjob *j = job_new(r, VJ_COPY);

	round_phase(d, PH_COPY);
	if (j) {
		/* After a catch-up B holds nothing verified: all of it. */
		j->full = r->full || r->b_stale;
		j->changed = r->changed;
		vf_ranges_init(&r->changed);
		j->rep = r->rep;
		j->nrep = r->nrep;
		r->rep = NULL;
		r->nrep = 0;
	}
	start_job(d, j);
}

static void copy_done(struct vmfitd *d, struct vjob *j)
{
	struct rcv *r = d->rcv;

	r->changed = j->changed;
	vf_ranges_init(&j->changed);
	r->rep = j->rep;
	r->nrep = j->nrep;
	j->rep = NULL;
	j->nrep = 0;
	r->st.copied = j->copied;
	r->st.bytes_copied = j->bytes_copied;
	r->st.copy_ms = j->ms;
	if (j->err) {
		round_abort(d, VF_RCV_VOLUME, false, "copy into %s: %s",
			    j->b->path, strerror(-j->err));
		return;
	}
	vf_info("recovery: %" PRIu64 " chunk(s) copied into %s in %" PRIu64 " ms (%" PRIu64 " repaired); restoring the shadow",
		r->st.copied, j->b->path, j->ms, r->st.repaired);
	shadow_restore(d);
}

/*
 * After the hand-over, once nobody fetches from A's view: the worker drops
 * A's snapshot (A shows the captured state again), writes the repairs into
 * A, and saves the round's digests as the store. A then holds the
 * verified state and becomes the next round's B. round_committed() follows.
 */
void volume_commit(struct vmfitd *d)
{
	struct rcv *r = d->rcv;
	struct vjob *j = job_new(r, VJ_COMMIT);

	if (!j) {
		vf_err("recovery: out of memory for the commit (the next round will be full)");
		r->frozen = NULL;
		round_committed(d, -ENOMEM, 0, NULL);
		return;
	}
	r->frozen = NULL;	/* peers are refused from now on */
	j->rep = r->rep;
	j->nrep = r->nrep;
	r->rep = NULL;
	r->nrep = 0;
	j->work = r->work;
	memset(&r->work, 0, sizeof(r->work));
	r->job = j;
	queue_job(r, j);
}

static void commit_done(struct vmfitd *d, struct vjob *j)
{
	struct rcv *r = d->rcv;

	r->st.commit_ms = j->ms;
	if (j->err)
		vf_err("recovery: %s of %s after the hand-over: %s (the next round will be full)",
		       j->step, j->a ? j->a->path : "-", strerror(-j->err));
	round_committed(d, j->err, j->store_err, j->err ? NULL : &j->work);
}

/*----------------------------------------------------------------*/
/* The main loop's interface */

/* Poll slot: the worker's eventfd. */
void volume_poll_fds(struct rcv *r, struct pollfd *pfd)
{
	pfd[0].fd = r->vw ? r->vw->efd : -1;
	pfd[0].events = POLLIN;
}

/* Pick up the worker's results, in the order the jobs were queued. */
void volume_events(struct vmfitd *d, const struct pollfd *pfd)
{
	struct rcv *r = d->rcv;
	struct vworker *w = r->vw;
	struct vjob *j;
	uint64_t n;

	if (!w || pfd[0].fd != w->efd || !(pfd[0].revents & POLLIN))
		return;
	if (read(w->efd, &n, sizeof(n)) < 0)
		return;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		j = w->done;
		if (j)
			w->done = j->next;
		pthread_mutex_unlock(&w->lock);
		if (!j)
			break;
		if (j->kind == VJ_MERGE) {
			if (j->err)
				vf_err("recovery: merge of %s after the abort: %s",
				       j->a->path, strerror(-j->err));
		} else if (atomic_load(&j->cancel) || j != r->job) {
			vf_dbg("recovery: result of a cancelled %s job dropped",
			       vjob_names[j->kind]);
		} else {
			r->job = NULL;
			if (j->kind == VJ_HASH)
				hash_done(d, j);
			else if (j->kind == VJ_COPY)
				copy_done(d, j);
			else
				commit_done(d, j);
		}
		job_free(j);
	}
}

/*----------------------------------------------------------------*/
/* A receiver's B (protocol.rst "Catching up") */

/*
 * Hash B as it is (snapshot, every chunk, merge): untrusted digests that
 * only spare fetching what B already holds.
 */
int volume_hash_b(struct rcv *r)
{
	struct vf_svol *b = &r->vol[!r->cur];
	struct vf_rcv_geom g;
	uint8_t *buf = NULL;
	uint32_t len = 0;
	long n;
	int e;

	/* B may still be written by an aborted round's cancelled copy. */
	worker_wait_idle(r);
	vf_dstore_free(&r->bstore);
	r->have_bstore = false;
	r->b_bytes = 0;
	e = b->ops->snapshot(b);
	if (e)
		return e;
	e = b->ops->geometry(b, &g);
	if (!e && g.nchunks) {
		buf = malloc(g.chunk_size);
		e = buf ? b->ops->read_view(b, g.nchunks - 1, buf, &len) :
			  -ENOMEM;
		free(buf);
	}
	if (!e)
		e = vf_dstore_init(&r->bstore, g.nchunks, g.chunk_size);
	if (!e) {
		n = b->ops->checksum(b, false, vf_dstore_digest_cb,
				     &r->bstore);
		e = n < 0 ? (int)n : 0;
	}
	b->ops->merge(b);
	if (e) {
		vf_dstore_free(&r->bstore);
		return e;
	}
	r->b_bytes = g.nchunks ? (g.nchunks - 1) * g.chunk_size + len : 0;
	r->have_bstore = true;
	return 0;
}

/* The voted state's size: its last chunk fetched, or B's own. */
static uint64_t received_bytes(struct rcv *r)
{
	uint64_t last = r->geom.nchunks - 1;
	size_t i;

	if (!r->geom.nchunks)
		return 0;
	for (i = 0; i < r->nrep; i++)
		if (r->rep[i].chunk == last)
			return last * r->geom.chunk_size + r->rep[i].len;
	return last * r->geom.chunk_size +
	       vf_svol_chunk_len(r->b_bytes, r->geom.chunk_size, last);
}

int volume_receive(struct rcv *r)
{
	struct vf_svol *b = &r->vol[!r->cur];
	size_t i;
	int e;

	worker_wait_idle(r);
	e = b->ops->resize(b, received_bytes(r));
	for (i = 0; !e && i < r->nrep; i++) {
		if (r->rep[i].chunk >= VF_RCV_MSTATE_CHUNK)
			continue;
		e = b->ops->write(b, r->rep[i].chunk, r->rep[i].data,
				  r->rep[i].len);
		r->st.copied++;
		r->st.bytes_copied += r->rep[i].len;
	}
	if (!e)
		e = b->ops->sync(b);
	if (!e)
		e = b->ops->clear(b);
	return e;
}
