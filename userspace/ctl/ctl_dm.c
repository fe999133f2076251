// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_dm - vmfit-ctl's device-mapper transport: target messages and INFO
 * status through libdevmapper.
 */
#include <errno.h>

#include "ctl_transport.h"
#include "vf_dm.h"

static const char *const verbs[] = {
	[CTL_SNAPSHOT] = "snapshot",
	[CTL_MERGE] = "merge",
	[CTL_DROP] = "drop",
	[CTL_CLEAR] = "clear",
};

const char *ctl_verb_name(enum ctl_verb verb)
{
	return (unsigned int)verb < sizeof(verbs) / sizeof(verbs[0]) ?
	       verbs[verb] : "?";
}

static int dm_control(const char *dev, enum ctl_verb verb)
{
	struct vf_status st;
	int r;

	/* Refuse to send vmfit verbs to some other target. */
	r = vf_dm_vmfit_status(dev, &st);
	if (r)
		return r;
	return vf_dm_message(dev, ctl_verb_name(verb), NULL);
}

static int dm_changed(const char *dev, struct vf_ranges *rs)
{
	struct vf_status st;
	int r;

	r = vf_dm_vmfit_status(dev, &st);
	if (r)
		return r;
	return vf_dm_vmfit_changed(dev, rs);
}

const struct ctl_transport ctl_transport_dm = {
	.name = "dm",
	.control = dm_control,
	.status = vf_dm_vmfit_status,
	.changed = dm_changed,
};
