/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_manager - the operator's summary of a running vmfitd, from its
 * status file (vmfitd(8) "Status"), for `vmfit-ctl manager`. Pure: a
 * parsed status in, text out; the command itself is cmd_manager.c.
 */
#ifndef CTL_MANAGER_H
#define CTL_MANAGER_H

#include <stddef.h>
#include <stdio.h>

struct vf_jflat;

/*
 * Print the summary of status @j to @f, one self-explaining line per
 * aspect (service, ready, sync, primary, managers, group, order, clients,
 * replica, suspects, recovery). 0, or -EINVAL with the missing or
 * mistyped member in @err (not a vmfitd status file, or an older one);
 * nothing is printed then. A NULL @f only checks.
 */
int ctl_manager_summary(FILE *f, const struct vf_jflat *j, char *err,
			size_t errlen);

#endif /* CTL_MANAGER_H */
