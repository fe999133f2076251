/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmfit-stall: what the BPF side (vmfit-stall.bpf.c) hands to userspace
 * (vmfit-stall.c) through the ring buffer. Plain __u32/__u64 only: the
 * BPF side gets them from vmlinux.h, userspace from <linux/types.h>.
 */
#ifndef __VMFIT_STALL_H
#define __VMFIT_STALL_H

/* Bios in flight whose queue time is remembered (latency). */
#define STALL_MAX_INFLIGHT	16384
/* Ring buffer size in bytes (a power of two, a multiple of the page). */
#define STALL_RINGBUF_BYTES	(4 << 20)

enum stall_event_type {
	STALL_EV_IO = 1,	/* a bio on the device completed */
	STALL_EV_SNAP_BEGIN,	/* vmfit_snapshot_begin */
	STALL_EV_SNAP_END,	/* vmfit_snapshot_end */
	STALL_EV_MERGE,		/* vmfit_merge_progress */
};

/* The latency of a bio whose queueing the tool did not see. */
#define STALL_LAT_UNKNOWN	(~0ULL)

/*
 * One event. ts is bpf_ktime_get_ns() (CLOCK_MONOTONIC) when the kernel
 * hit the tracepoint. The meaning of a, b and c depends on type:
 *
 *   STALL_EV_IO          a = latency in ns (queue to completion) or
 *                        STALL_LAT_UNKNOWN, b = bytes, c = bi_opf
 *   STALL_EV_SNAP_BEGIN  a = epoch
 *   STALL_EV_SNAP_END    a = epoch, b = held_ns, c = drain_ns
 *   STALL_EV_MERGE       a = chunks merged, b = chunks to merge
 */
struct stall_event {
	__u64 ts;
	__u64 a;
	__u64 b;
	__u64 c;
	__u32 type;
	__u32 dev;	/* kernel dev_t: major << 20 | minor */
};

#endif /* __VMFIT_STALL_H */
