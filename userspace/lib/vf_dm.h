/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_dm - device-mapper control for vmfit through libdevmapper.
 *
 * libdevmapper returns 1 for success and 0 for failure; every function here
 * returns 0 or -errno instead (the ioctl's errno when the kernel answered,
 * -ENODEV for a device that does not exist, -ENXIO when the device-mapper
 * driver cannot be reached). Nothing here exits or prints unless
 * vf_dm_set_verbose() asked for libdevmapper's messages; the last error
 * libdevmapper logged is kept for vf_dm_last_error(). Not thread-safe:
 * libdevmapper's log hook is process-wide.
 */
#ifndef VF_DM_H
#define VF_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vf_status.h"

#define VF_DM_TARGET "vmfit"
#define VF_DM_VIEW_TARGET "vmfit-view"
/* DM_NAME_LEN is 128 including the NUL. */
#define VF_DM_NAME_MAX 127

struct vf_dm_info {
	bool exists;
	bool suspended;
	bool readonly;
	unsigned int major;
	unsigned int minor;
	int open_count;
	unsigned int target_count;
};

/* One table or status line: "<start> <length> <type> <params>". */
struct vf_dm_target {
	uint64_t start;		/* sectors */
	uint64_t length;	/* sectors */
	char *type;		/* malloc'ed */
	char *params;		/* malloc'ed */
	unsigned int count;	/* targets in the table; only the first kept */
};

void vf_dm_target_free(struct vf_dm_target *t);

void vf_dm_set_verbose(bool verbose);
/* The last error message libdevmapper logged, or "" (never NULL). */
const char *vf_dm_last_error(void);

/* True when the device-mapper driver answers (dm-mod loaded). */
bool vf_dm_driver_present(void);
/* Version of a registered target; -ENOENT when it is not registered. */
int vf_dm_target_version(const char *type, unsigned int version[3]);

int vf_dm_info(const char *name, struct vf_dm_info *info);
/* Size of a block device (or regular file) in 512-byte sectors. */
int vf_dm_dev_sectors(const char *path, uint64_t *sectors);

/* Create and activate a one-target device. */
int vf_dm_create(const char *name, const char *type, uint64_t sectors,
		 const char *params, bool readonly);
/*
 * vmfit <origin> <cow> <chunk sectors> [<#features> <feature>*]: the device
 * covers the whole origin. @features may be NULL or "" for none, otherwise
 * a space-separated list.
 */
int vf_dm_create_vmfit(const char *name, const char *origin, const char *cow,
		       unsigned int chunk_sectors, const char *features);
/* vmfit-view over live device @live (read-only, same size as @live). */
int vf_dm_create_view(const char *name, const char *live);
int vf_dm_remove(const char *name);

/* Send a target message; *@reply (may be NULL) gets a malloc'ed answer. */
int vf_dm_message(const char *name, const char *msg, char **reply);
int vf_dm_status(const char *name, struct vf_dm_target *t);
int vf_dm_table(const char *name, struct vf_dm_target *t);

/* Names of all dm devices, malloc'ed; free with vf_dm_names_free(). */
int vf_dm_list(char ***names, size_t *n);
void vf_dm_names_free(char **names, size_t n);

/*
 * Convenience over the above for the vmfit target: the parsed status
 * (-EMEDIUMTYPE when @name is not a vmfit device) and the whole changed
 * set, following `changed <start>` pages.
 */
int vf_dm_vmfit_status(const char *name, struct vf_status *st);
int vf_dm_vmfit_changed(const char *name, struct vf_ranges *rs);

#endif /* VF_DM_H */
