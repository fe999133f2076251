// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv-powercut - the guest side of tests/kmod/kv-powercut.sh: the kv
 * state code checkpointing a seeded workload onto a device while the VM's
 * power is cut, and the check after the reboot.
 *
 *   kv-powercut write ENGINE DEV LOGDEV SEED [restart]
 *	Restore DEV (or, if it holds no checkpoint, start empty at order 0
 *	and checkpoint that); with "restart", forget that the volume is
 *	known (the next checkpoint compares it slot by slot, as a replica
 *	that restarted without RESTORE). Then forever: execute batch o+1
 *	of the workload, log "begun" on LOGDEV, checkpoint at order o+1,
 *	log "done". Log records are one sector, O_DIRECT|O_DSYNC.
 *   kv-powercut verify ENGINE DEV LOGDEV SEED REFFILE
 *	Restore DEV with ENGINE: it must hold the last checkpoint logged
 *	done or the one logged begun after it, never anything else; then
 *	DEV's first volume_size bytes must equal a checkpoint of the
 *	workload up to that order, computed afresh into REFFILE with the
 *	other engine. Prints "restored=R done=D begun=B". Exit 0 if so,
 *	1 if not, 2 on usage errors.
 *
 * With KV_POWERCUT_JOURNAL=JDEV in the environment the journal is on JDEV
 * (kv_vol_journal(): two devices, two fdatasyncs per checkpoint), the
 * same in both commands. Both load the volume as a replica back on its own
 * volume does (kv_recover(): a committed journal is replayed).
 *
 * The workload (batch o: 1 + o % 97 puts of seeded keys and lengths) and
 * the layout (RECORDS x RECORD_SIZE) are fixed here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kv_engine.h"
#include "../kv_rand.h"
#include "../kv_state.h"

#define RECORDS		20000
#define RECORD_SIZE	200
#define SECTOR		512
#define NO_ORDER	UINT64_MAX

static const struct kv_limits lim = { RECORDS, RECORD_SIZE };

static const struct kv_engine_ops *engine_of(const char *name)
{
	if (!strcmp(name, "kv-hash"))
		return &kv_hash_ops;
	if (!strcmp(name, "kv-sqlite"))
		return &kv_sqlite_ops;
	return NULL;
}

static const struct kv_engine_ops *other_engine(const struct kv_engine_ops *e)
{
	return e == &kv_hash_ops ? &kv_sqlite_ops : &kv_hash_ops;
}

/* Open @dev, and the journal device if one is set. 0 or -errno. */
static int vol_open(struct kv_vol *v, const char *dev)
{
	const char *j = getenv("KV_POWERCUT_JOURNAL");
	int r = kv_vol_open(v, dev, &lim);

	if (!r && j && *j) {
		r = kv_vol_journal(v, j);
		if (r)
			kv_vol_close(v);
	}
	return r;
}

/* Batch @o of the workload (o >= 1) into @s. */
static int run_batch(struct kv_store *s, uint64_t seed, uint64_t o)
{
	static uint8_t val[RECORD_SIZE];
	uint64_t st = seed * 0x9e3779b97f4a7c15ull ^ o;
	uint32_t i, n = 1 + o % 97, key, len;
	int r;

	for (i = 0; i < n; i++) {
		key = kv_rand(&st) % RECORDS;
		len = kv_rand(&st) % (RECORD_SIZE + 1);
		memset(val, (int)(o + i), len);
		if (len >= 8)
			memcpy(val, &o, 8);
		r = s->ops->put(s->e, key, val, len);
		if (r)
			return r;
	}
	return 0;
}

/* The log: one sector "kvpc begun=B done=D", written synchronously. */
static int log_write(int fd, uint64_t begun, uint64_t done)
{
	static uint8_t *sec;

	if (!sec && posix_memalign((void **)&sec, 4096, 4096))
		return -ENOMEM;
	memset(sec, 0, SECTOR);
	snprintf((char *)sec, SECTOR, "kvpc begun=%" PRIu64 " done=%" PRIu64
		 "\n", begun, done);
	if (pwrite(fd, sec, SECTOR, 0) != SECTOR)
		return -errno;
	return 0;
}

static int log_read(const char *path, uint64_t *begun, uint64_t *done)
{
	char buf[SECTOR + 1] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, SECTOR, 0);
	close(fd);
	if (n != SECTOR)
		return -EIO;
	if (sscanf(buf, "kvpc begun=%" SCNu64 " done=%" SCNu64, begun,
		   done) != 2)
		return -ENOENT;
	return 0;
}

static int cmd_write(const struct kv_engine_ops *ops, const char *dev,
		     const char *logdev, uint64_t seed, bool restart)
{
	struct kv_store s;
	struct kv_vol v;
	uint64_t o = 0;
	int lfd, r;

	lfd = open(logdev, O_WRONLY | O_DIRECT | O_DSYNC);
	if (lfd < 0) {
		perror(logdev);
		return 1;
	}
	if (kv_store_open(&s, ops, &lim) || vol_open(&v, dev)) {
		fprintf(stderr, "kv-powercut: cannot open %s\n", dev);
		return 1;
	}
	r = kv_recover(&v, &s, &o);
	if (r) {
		fprintf(stderr, "kv-powercut: %s holds no checkpoint (%s): starting empty\n",
			dev, strerror(-r));
		o = 0;
		r = log_write(lfd, 0, NO_ORDER);
		if (!r)
			r = kv_checkpoint(&v, &s, 0);
	} else if (restart) {
		kv_vol_close(&v);
		r = vol_open(&v, dev);
	}
	if (!r)
		r = log_write(lfd, o, o);
	fprintf(stderr, "kv-powercut: %s from order %" PRIu64 "%s\n",
		ops->name, o, restart ? " (restarted)" : "");
	while (!r) {
		r = run_batch(&s, seed, o + 1);
		if (!r)
			r = log_write(lfd, o + 1, o);
		if (!r)
			r = kv_checkpoint(&v, &s, o + 1);
		if (!r)
			r = log_write(lfd, o + 1, o + 1);
		o++;
	}
	fprintf(stderr, "kv-powercut: order %" PRIu64 ": %s\n", o,
		strerror(-r));
	return 1;
}

static int cmp_prefix(const char *a, const char *b, uint64_t n)
{
	static uint8_t ba[1 << 16], bb[1 << 16];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY), ret = -1;
	uint64_t off;
	size_t k;

	if (fa < 0 || fb < 0)
		goto out;
	for (off = 0; off < n; off += k) {
		k = n - off < sizeof(ba) ? n - off : sizeof(ba);
		if (pread(fa, ba, k, off) != (ssize_t)k ||
		    pread(fb, bb, k, off) != (ssize_t)k)
			goto out;
		if (memcmp(ba, bb, k)) {
			fprintf(stderr, "kv-powercut: %s and %s differ in [%" PRIu64 ", +%zu)\n",
				a, b, off, k);
			goto out;
		}
	}
	ret = 0;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

static int cmd_verify(const struct kv_engine_ops *ops, const char *dev,
		      const char *logdev, uint64_t seed, const char *ref)
{
	uint64_t begun, done, o = 0, i;
	struct kv_store s, rs;
	struct kv_vol v, rv;
	int r;

	r = log_read(logdev, &begun, &done);
	if (r) {
		fprintf(stderr, "kv-powercut: no log on %s\n", logdev);
		return 1;
	}
	if (kv_store_open(&s, ops, &lim) || vol_open(&v, dev))
		return 1;
	r = kv_recover(&v, &s, &o);
	if (v.found == KV_JOURNAL_REPLAYED)
		printf("replayed the journal of order %" PRIu64 "\n",
		       v.found_order);
	else if (v.found == KV_JOURNAL_DISCARDED)
		printf("discarded an uncommitted journal\n");
	if (r) {
		printf("restore failed: %s, done=%s begun=%" PRIu64 "\n",
		       strerror(-r), done == NO_ORDER ? "none" : "some",
		       begun);
		/* only before the very first checkpoint completed */
		return done == NO_ORDER ? 0 : 1;
	}
	printf("restored=%" PRIu64 " done=%" PRIu64 " begun=%" PRIu64 "\n",
	       o, done, begun);
	if (o != begun && o != done) {
		printf("restored an order that was neither done nor begun\n");
		return 1;
	}
	kv_vol_close(&v);
	kv_store_close(&s);

	/* the reference, with the other engine */
	unlink(ref);
	if (kv_store_open(&rs, other_engine(ops), &lim) ||
	    kv_vol_open(&rv, ref, &lim))
		return 1;
	for (i = 1; i <= o; i++)
		if (run_batch(&rs, seed, i))
			return 1;
	r = kv_checkpoint(&rv, &rs, o);
	if (r) {
		fprintf(stderr, "kv-powercut: reference: %s\n", strerror(-r));
		return 1;
	}
	if (cmp_prefix(dev, ref, rv.g.volume_size)) {
		printf("the restored volume is not the checkpoint of order %" PRIu64 "\n",
		       o);
		return 1;
	}
	printf("the volume is exactly the checkpoint of order %" PRIu64 "\n",
	       o);
	kv_vol_close(&rv);
	kv_store_close(&rs);
	return 0;
}

int main(int argc, char **argv)
{
	const struct kv_engine_ops *ops = argc > 2 ? engine_of(argv[2]) : NULL;
	uint64_t seed;

	if (argc < 6 || !ops || sscanf(argv[5], "%" SCNu64, &seed) != 1)
		goto usage;
	if (!strcmp(argv[1], "write") && argc <= 7)
		return cmd_write(ops, argv[3], argv[4], seed,
				 argc == 7 && !strcmp(argv[6], "restart"));
	if (!strcmp(argv[1], "verify") && argc == 7)
		return cmd_verify(ops, argv[3], argv[4], seed, argv[6]);
usage:
	fprintf(stderr, "usage: kv-powercut write kv-hash|kv-sqlite DEV LOGDEV SEED [restart]\n"
		"       kv-powercut verify kv-hash|kv-sqlite DEV LOGDEV SEED REFFILE\n");
	return 2;
}
