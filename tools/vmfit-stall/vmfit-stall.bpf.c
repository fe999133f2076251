// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-stall.bpf.c - the kernel half of vmfit-stall.
 *
 * Every bio that completes on the watched device (the dm device the
 * workload writes to, not the origin or cow disks below it) and every
 * dm-vmfit tracepoint of that device become one struct stall_event in a
 * ring buffer; userspace does the windowing. A bio's latency is the time
 * from block_bio_queue to block_bio_complete, both of which the block
 * layer fires for bio-based devices such as dm (submit_bio_noacct sets
 * BIO_TRACE_COMPLETION, bio_endio reports it).
 *
 * The block tracepoints are attached as BTF tracepoints (typed
 * arguments, CO-RE reads). dm-vmfit is an out-of-tree module without BTF,
 * so its tracepoints are attached as raw tracepoints: their arguments are
 * plain integers (kmod/dm-vmfit-trace.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmfit-stall.h"

/* The watched device, as a kernel dev_t; set by userspace before load. */
const volatile __u32 targ_dev = 0;

/* struct bio * -> queue time (ns). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STALL_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STALL_RINGBUF_BYTES);
} events SEC(".maps");

/* Events that did not fit into the ring buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void emit(__u32 type, __u32 dev, __u64 ts, __u64 a,
				 __u64 b, __u64 c)
{
	struct stall_event *e;
	__u32 zero = 0;
	__u64 *n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		n = bpf_map_lookup_elem(&lost, &zero);
		if (n)
			(*n)++;
		return;
	}
	e->ts = ts;
	e->a = a;
	e->b = b;
	e->c = c;
	e->type = type;
	e->dev = dev;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline __u32 bio_dev(struct bio *bio)
{
	return BPF_CORE_READ(bio, bi_bdev, bd_dev);
}

SEC("tp_btf/block_bio_queue")
int BPF_PROG(bio_queue, struct bio *bio)
{
	__u64 key = (__u64)bio;
	__u64 ts;

	if (bio_dev(bio) != targ_dev)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &key, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(bio_complete, struct request_queue *q, struct bio *bio)
{
	__u64 key = (__u64)bio;
	__u64 lat = STALL_LAT_UNKNOWN;
	__u64 ts, *tsp;

	if (bio_dev(bio) != targ_dev)
		return 0;
	ts = bpf_ktime_get_ns();
	tsp = bpf_map_lookup_elem(&start, &key);
	if (tsp) {
		if (ts >= *tsp)
			lat = ts - *tsp;
		bpf_map_delete_elem(&start, &key);
	}
	emit(STALL_EV_IO, targ_dev, ts, lat, BPF_CORE_READ(bio, bi_iter.bi_size),
	     BPF_CORE_READ(bio, bi_opf));
	return 0;
}

SEC("raw_tp/vmfit_snapshot_begin")
int BPF_PROG(snap_begin, __u32 dev, __u64 epoch)
{
	if (dev == targ_dev)
		emit(STALL_EV_SNAP_BEGIN, dev, bpf_ktime_get_ns(), epoch, 0, 0);
	return 0;
}

SEC("raw_tp/vmfit_snapshot_end")
int BPF_PROG(snap_end, __u32 dev, __u64 epoch, __u64 held_ns, __u64 drain_ns)
{
	if (dev == targ_dev)
		emit(STALL_EV_SNAP_END, dev, bpf_ktime_get_ns(), epoch,
		     held_ns, drain_ns);
	return 0;
}

SEC("raw_tp/vmfit_merge_progress")
int BPF_PROG(merge_progress, __u32 dev, __u64 merged, __u64 total)
{
	if (dev == targ_dev)
		emit(STALL_EV_MERGE, dev, bpf_ktime_get_ns(), merged, total, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
