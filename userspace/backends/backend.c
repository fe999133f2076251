// SPDX-License-Identifier: GPL-2.0-only
/*
 * backend.c - the table of replica backends.
 */
#include <string.h>

#include "vf_backend.h"

static const struct vf_backend_ops *const backends[] = {
	&vf_process_backend,
	&vf_xen_backend,
};

const struct vf_backend_ops *vf_backend_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (!strcmp(name, backends[i]->name))
			return backends[i];
	return NULL;
}
