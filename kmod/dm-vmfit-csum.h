/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit checksums: hash the chunks of the frozen view (all of them, or
 * the changed set) with the kernel crypto API, on an unbound workqueue,
 * with a bounded window of chunks in flight.  A session produces the
 * digests in ascending chunk order; its consumer (the netlink dump) takes
 * them one by one and thereby refills the window, so a session never holds
 * more than its window in memory whatever the device size.
 *
 * A session pins the snapshot like an open vmfit-view (vf->views), so merge
 * and drop fail with -EBUSY while it runs, and the live device only ever
 * sees reads of its frozen origin.
 */
#ifndef DM_VMFIT_CSUM_H
#define DM_VMFIT_CSUM_H

#include <linux/netlink.h>
#include <linux/types.h>

struct vmfit;
struct vmfit_csum;

/* Bytes of chunk buffers one session may have in flight. */
#define VMFIT_CSUM_WINDOW_BYTES (4U << 20)
#define VMFIT_CSUM_MIN_SLOTS 4U
#define VMFIT_CSUM_MAX_SLOTS 64U
/* Throttle: live device idle after this; rate window; sleep step. */
#define VMFIT_CSUM_IDLE_MS 100
#define VMFIT_CSUM_MARK_JIFFIES HZ
#define VMFIT_CSUM_THROTTLE_MS 10
/* Sessions allowed at once (all devices): bounds kernel memory. */
#define VMFIT_CSUM_MAX_SESSIONS 16

struct vmfit_csum_req {
	u32 algo;		/* enum vmfit_csum_algo */
	u32 flags;		/* VMFIT_CSUM_F_* */
	u64 first;		/* first chunk, inclusive */
	u64 last;		/* last chunk, inclusive; U64_MAX: the end */
	u32 workers;		/* chunks hashed at once (policy: 1..64); 0: one per CPU */
};

/* Digest size of a valid algorithm. */
unsigned int vmfit_csum_digest_size(u32 algo);

/*
 * vmfit_csum_start - check @vf (snapshot, view ready), pin it and start
 * hashing.  Called through dm_vmfit_call(), under the registry lock.
 * Errors carry an extack message.
 */
int vmfit_csum_start(struct vmfit *vf, const struct vmfit_csum_req *req,
		     struct vmfit_csum **out, struct netlink_ext_ack *extack);

/*
 * vmfit_csum_next - wait for the next digest in chunk order.  Returns 1
 * with *@chunk and *@digest set (valid until vmfit_csum_pop()), 0 when
 * every chunk was returned, or -errno: -ECANCELED (cancelled), -ENODEV
 * (the device went away), -EINTR (fatal signal), -EIO (read error).
 * Caller holds the session lock (vmfit_csum_lock()).
 */
int vmfit_csum_next(struct vmfit_csum *cs, u64 *chunk, const u8 **digest);
/* Consume the digest vmfit_csum_next() returned and refill the window. */
void vmfit_csum_pop(struct vmfit_csum *cs);

void vmfit_csum_lock(struct vmfit_csum *cs);
void vmfit_csum_unlock(struct vmfit_csum *cs);

/* Progress: chunks returned so far and chunks to hash in total. */
void vmfit_csum_counts(struct vmfit_csum *cs, u64 *done, u64 *total);
u32 vmfit_csum_algo(struct vmfit_csum *cs);
/* Chunks hashed at once: the request's, or the default it resolved to. */
u32 vmfit_csum_workers(struct vmfit_csum *cs);
/* Identity of the device hashed, for replies and events. */
dev_t vmfit_csum_devt(struct vmfit_csum *cs);
const char *vmfit_csum_name(struct vmfit_csum *cs);

/* vmfit_csum_end - stop, unpin and free a session. */
void vmfit_csum_end(struct vmfit_csum *cs);

/* Cancel every session of @vf; returns how many there were. */
int vmfit_csum_cancel(struct vmfit *vf);
/* Sessions of @vf, and the sum of their progress. */
u32 vmfit_csum_progress(struct vmfit *vf, u64 *done, u64 *total);

/*
 * dm_vmfit_csum_detach - @vf is being destroyed: wait for the sessions'
 * reads in flight and cut them off (they then fail with -ENODEV).  Called
 * by the destructor after the instance left the registry.
 */
void dm_vmfit_csum_detach(struct vmfit *vf);

#endif /* DM_VMFIT_CSUM_H */
