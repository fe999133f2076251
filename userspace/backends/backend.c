// SPDX-License-Identifier: GPL-2.0-only
/*
 * backend.c - the table of replica backends.
 */
#include <stdio.h>
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

const char *vf_replica_name(const struct vf_replica *r, char *buf,
			    size_t len)
{
	if (r->domid >= 0)
		snprintf(buf, len, "domain %d", r->domid);
	else
		snprintf(buf, len, "pid %d", (int)r->pid);
	return buf;
}
