// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_kmod - load dm-vmfit and its dependencies with libkmod.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "vf_kmod.h"

static void report_add(struct vf_kmod_report *rep, const char *name)
{
	size_t used;

	if (!rep)
		return;
	used = strlen(rep->loaded);
	/* Truncation only loses report text, never a module. */
	snprintf(rep->loaded + used, sizeof(rep->loaded) - used, "%s%s",
		 used ? " " : "", name);
}

/* libkmod calls this just before it inserts each module. */
static struct vf_kmod_report *cur_report;

static void print_action(struct kmod_module *m, bool install,
			 const char *options)
{
	if (!install)
		report_add(cur_report, kmod_module_get_name(m));
}

static bool is_live(struct kmod_module *m)
{
	int st = kmod_module_get_initstate(m);

	return st == KMOD_MODULE_LIVE || st == KMOD_MODULE_BUILTIN ||
	       st == KMOD_MODULE_COMING;
}

/* modprobe @name from the installed tree, with its dependencies. */
static int probe_name(struct kmod_ctx *ctx, const char *name,
		      struct vf_kmod_report *rep)
{
	struct kmod_list *list = NULL;
	struct kmod_list *l;
	int r;

	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	r = 0;
	cur_report = rep;
	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);

		r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL,
						    print_action);
		kmod_module_unref(m);
		if (r < 0)
			break;
		if (r > 0) {
			/* Blacklisted or the like: not loaded. */
			r = -EPERM;
			break;
		}
	}
	cur_report = NULL;
	kmod_module_unref_list(list);
	return r;
}

/* The comma-separated "depends" of a .ko, each probed from the tree. */
static int probe_depends(struct kmod_ctx *ctx, struct kmod_module *mod,
			 struct vf_kmod_report *rep)
{
	struct kmod_list *info = NULL;
	struct kmod_list *l;
	int r;

	r = kmod_module_get_info(mod, &info);
	if (r < 0)
		return r;
	r = 0;
	kmod_list_foreach(l, info) {
		char *deps;
		char *tok;
		char *save = NULL;

		if (strcmp(kmod_module_info_get_key(l), "depends"))
			continue;
		deps = strdup(kmod_module_info_get_value(l) ?: "");
		if (!deps) {
			r = -ENOMEM;
			break;
		}
		for (tok = strtok_r(deps, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			r = probe_name(ctx, tok, rep);
			if (r < 0)
				break;
		}
		free(deps);
		if (r < 0)
			break;
	}
	kmod_module_info_free_list(info);
	return r;
}

static int lookup_live(struct kmod_ctx *ctx, bool *live)
{
	struct kmod_module *m;
	int r;

	/* new_from_name needs no modules.dep: it only names the module. */
	r = kmod_module_new_from_name(ctx, VF_KMOD_NAME, &m);
	if (r < 0)
		return r;
	*live = is_live(m);
	kmod_module_unref(m);
	return 0;
}

int vf_kmod_is_loaded(void)
{
	struct kmod_ctx *ctx;
	bool live = false;
	int r;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	r = lookup_live(ctx, &live);
	kmod_unref(ctx);
	return r < 0 ? r : live;
}

int vf_kmod_load(const char *path, struct vf_kmod_report *rep)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod = NULL;
	bool live = false;
	int r;

	if (rep)
		memset(rep, 0, sizeof(*rep));
	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	/* Silence libkmod: errors come back as -errno. */
	kmod_set_log_priority(ctx, 0);

	r = lookup_live(ctx, &live);
	if (r < 0)
		goto out;
	if (live) {
		if (rep)
			rep->already = true;
		goto out;
	}

	if (!path) {
		r = probe_name(ctx, VF_KMOD_NAME, rep);
		goto out;
	}

	r = kmod_module_new_from_path(ctx, path, &mod);
	if (r < 0)
		goto out;
	/* Never insert some other module under this name. */
	if (strcmp(kmod_module_get_name(mod), "dm_vmfit")) {
		r = -EINVAL;
		goto out;
	}
	r = probe_depends(ctx, mod, rep);
	if (r < 0)
		goto out;
	r = kmod_module_insert_module(mod, 0, NULL);
	if (r == -EEXIST) {
		/* Lost a race with another loader: fine, it is live. */
		if (rep)
			rep->already = true;
		r = 0;
	} else if (r == 0) {
		report_add(rep, kmod_module_get_name(mod));
	}
out:
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return r < 0 ? r : 0;
}
