/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit tracepoints.  Arguments are plain integers so that BPF tools
 * can read them without the kernel's structures: dev is the mapped
 * device's kernel dev_t (major << 20 | minor).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmfit

#if !defined(_TRACE_DM_VMFIT_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_DM_VMFIT_H

#include <linux/tracepoint.h>

TRACE_EVENT(vmfit_snapshot_begin,
	    TP_PROTO(u32 dev, u64 epoch),
	    TP_ARGS(dev, epoch),
	    TP_STRUCT__entry(__field(u32, dev)
			     __field(u64, epoch)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->epoch = epoch;),
	    TP_printk("dev=%u:%u epoch=%llu", MAJOR(__entry->dev),
		      MINOR(__entry->dev), __entry->epoch)
);

TRACE_EVENT(vmfit_snapshot_end,
	    TP_PROTO(u32 dev, u64 epoch, u64 held_ns, u64 drain_ns),
	    TP_ARGS(dev, epoch, held_ns, drain_ns),
	    TP_STRUCT__entry(__field(u32, dev)
			     __field(u64, epoch)
			     __field(u64, held_ns)
			     __field(u64, drain_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->epoch = epoch;
			   __entry->held_ns = held_ns;
			   __entry->drain_ns = drain_ns;),
	    TP_printk("dev=%u:%u epoch=%llu held_ns=%llu drain_ns=%llu",
		      MAJOR(__entry->dev), MINOR(__entry->dev), __entry->epoch,
		      __entry->held_ns, __entry->drain_ns)
);

TRACE_EVENT(vmfit_merge_progress,
	    TP_PROTO(u32 dev, u64 merged, u64 total),
	    TP_ARGS(dev, merged, total),
	    TP_STRUCT__entry(__field(u32, dev)
			     __field(u64, merged)
			     __field(u64, total)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->merged = merged;
			   __entry->total = total;),
	    TP_printk("dev=%u:%u merged=%llu total=%llu", MAJOR(__entry->dev),
		      MINOR(__entry->dev), __entry->merged, __entry->total)
);

#endif /* _TRACE_DM_VMFIT_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
/* kmod/Kbuild defines VMFIT_TRACE_FILE as this file's name, dm-vmfit-trace. */
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE VMFIT_TRACE_FILE
#include <trace/define_trace.h>
