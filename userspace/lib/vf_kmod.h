/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_kmod - load dm-vmfit through libkmod.
 *
 * Returns 0 or -errno (libkmod's own convention). Never prints. Not
 * thread-safe (libkmod's progress callback has no user data pointer).
 */
#ifndef VF_KMOD_H
#define VF_KMOD_H

#include <stdbool.h>
#include <stddef.h>

#define VF_KMOD_NAME "dm-vmfit"

struct vf_kmod_report {
	bool already;		/* dm-vmfit was live before the call */
	char loaded[256];	/* modules inserted, space-separated, in order */
};

/*
 * Load dm-vmfit and what it depends on (dm-mod ...). With @path == NULL the
 * module comes from the installed tree (/lib/modules/$(uname -r), through
 * modules.dep); otherwise from the .ko at @path, whose "depends" are loaded
 * from the installed tree first. Idempotent: an already live dm-vmfit is
 * not an error (@rep->already). -EINVAL when the .ko at @path is not
 * dm_vmfit. @rep may be NULL.
 */
int vf_kmod_load(const char *path, struct vf_kmod_report *rep);

/* 1 when dm-vmfit is live, 0 when not, -errno when that cannot be told. */
int vf_kmod_is_loaded(void);

#endif /* VF_KMOD_H */
