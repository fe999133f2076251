/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_transport - how vmfit-ctl talks to a live vmfit device.
 *
 * Creating and removing devices is device-mapper's job and always goes
 * through vf_dm. The target's own operations go through a transport so the
 * command surface stays the same when the generic netlink family arrives:
 * today there is one transport, target messages and status lines through
 * libdevmapper (what `dmsetup message/status` use).
 */
#ifndef CTL_TRANSPORT_H
#define CTL_TRANSPORT_H

#include "vf_status.h"

enum ctl_verb {
	CTL_SNAPSHOT,
	CTL_MERGE,
	CTL_DROP,
	CTL_CLEAR,
};

struct ctl_transport {
	const char *name;
	/* 0 or -errno; -ENODEV no such device, -EMEDIUMTYPE not vmfit. */
	int (*control)(const char *dev, enum ctl_verb verb);
	int (*status)(const char *dev, struct vf_status *st);
	/* Appends the whole changed set to @rs (empty on entry). */
	int (*changed)(const char *dev, struct vf_ranges *rs);
};

extern const struct ctl_transport ctl_transport_dm;

const char *ctl_verb_name(enum ctl_verb verb);

#endif /* CTL_TRANSPORT_H */
