/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vmfit generic netlink family: commands, checksum dumps and events.
 * The ABI is include/uapi/linux/dm-vmfit.h, documented in
 * Documentation/admin-guide/device-mapper/dm-vmfit-netlink.rst.
 *
 * Every function here may sleep: call them from process context, without
 * vf->md_lock held unless noted.
 */
#ifndef DM_VMFIT_NETLINK_H
#define DM_VMFIT_NETLINK_H

#include <linux/netlink.h>
#include <linux/types.h>

struct vmfit;

/* Module init/exit: register the family and the checksum workqueue. */
int dm_vmfit_netlink_init(void);
void dm_vmfit_netlink_exit(void);

/*
 * An extack message from a variable (NL_SET_ERR_MSG() wants a literal):
 * @msg must be a string literal too, as the core API's *why are.
 */
static inline void dm_vmfit_nl_set_msg(struct netlink_ext_ack *extack,
				       const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

/*
 * Events to the multicast group.  Allocations are GFP_NOIO: these run on
 * the target's reclaim-safe workers.  May be called with md_lock held.
 */
void dm_vmfit_nl_snapshot_begin(struct vmfit *vf, u64 epoch);
void dm_vmfit_nl_snapshot_end(struct vmfit *vf, u64 epoch, u64 held_ns,
			      u64 drain_ns);
void dm_vmfit_nl_merge_done(struct vmfit *vf, u64 epoch);
/* Health left "ok": cow full or fail.  Called from the event worker. */
void dm_vmfit_nl_health(struct vmfit *vf);

/*
 * Provided by dm-vmfit-target.c: run @fn on the live instance named by
 * @devt (when non-zero) or by @name (when non-NULL), under the registry
 * lock, so the instance cannot be destroyed meanwhile.  Returns -ENODEV
 * when there is none, -EXDEV when @devt and @name name different devices,
 * otherwise what @fn returns.
 */
int dm_vmfit_call(dev_t devt, const char *name,
		  int (*fn)(struct vmfit *vf, void *arg), void *arg);
/* Run @fn on every instance (under the registry lock); stops on non-zero. */
int dm_vmfit_for_each(int (*fn)(struct vmfit *vf, void *arg), void *arg);
/*
 * The device's dm name (what dmsetup shows; vmfit_name() is the kernel's
 * "dm-N") into @name (DM_NAME_LEN bytes), or "" while it is being removed.
 */
void dm_vmfit_dm_name(struct vmfit *vf, char *name);

#endif /* DM_VMFIT_NETLINK_H */
