// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_device - vmfit-ctl commands that load the module and create and
 * remove devices: load, create, view, remove.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_cmd.h"
#include "ctl_json.h"
#include "ctl_parse.h"
#include "vf_dm.h"
#include "vf_kmod.h"
#include "vf_status.h"

int cmd_load(struct ctl *c, const struct command *cmd, int argc,
	     char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vf_kmod_report rep;
	const char *path = NULL;
	unsigned int ver[3];
	bool have_ver;
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "m:", opts, &done)) != -1) {
		switch (opt) {
		case 'm':
			if (!*optarg)
				return misuse(cmd, "empty module path");
			path = optarg;
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;

	r = vf_kmod_load(path, &rep);
	if (r) {
		if (r == -ENOENT && !path)
			return fail(c, cmd, VF_KMOD_NAME, r,
				    "not installed for this kernel; "
				    "try: %s load --module PATH/dm-vmfit.ko",
				    PROG);
		if (r == -EPERM || r == -EACCES)
			return fail(c, cmd, path ? path : VF_KMOD_NAME, r,
				    "loading modules needs root");
		if (r == -EINVAL && path && vf_kmod_is_loaded() == 0)
			return fail(c, cmd, path, r,
				    "not dm-vmfit, or built for another kernel "
				    "(see dmesg)");
		if (r == -ENOEXEC || r == -EINVAL)
			return fail(c, cmd, path ? path : VF_KMOD_NAME, r,
				    "built for another kernel? see dmesg");
		return fail(c, cmd, path ? path : VF_KMOD_NAME, r, NULL);
	}
	have_ver = !vf_dm_target_version(VF_DM_TARGET, ver);

	if (c->json) {
		struct ctl_json j;
		char *s = rep.loaded;
		char *tok;
		char *save = NULL;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "module", VF_KMOD_NAME);
		ctl_json_bool(&j, "already_loaded", rep.already);
		ctl_json_arr_begin(&j, "inserted");
		for (tok = strtok_r(s, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			ctl_json_str(&j, NULL, tok);
		ctl_json_arr_end(&j);
		if (have_ver) {
			char v[40];

			snprintf(v, sizeof(v), "%u.%u.%u", ver[0], ver[1],
				 ver[2]);
			ctl_json_str(&j, "target_version", v);
		} else {
			ctl_json_null(&j, "target_version");
		}
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else if (rep.already) {
		printf("%s: already loaded", VF_KMOD_NAME);
	} else {
		printf("%s: loaded %s (inserted: %s)", VF_KMOD_NAME,
		       path ? path : "from the module tree",
		       rep.loaded[0] ? rep.loaded : "none");
	}
	if (!c->json) {
		if (have_ver)
			printf(", target vmfit %u.%u.%u\n", ver[0], ver[1],
			       ver[2]);
		else
			printf("\n");
	}
	return EXIT_SUCCESS;
}

/*----------------------------------------------------------------*/

/* What a device-creating ioctl failure most likely means. */
static int fail_create(const struct ctl *c, const struct command *cmd,
		       const char *name, int err)
{
	unsigned int ver[3];

	if (err == -EEXIST)
		return fail(c, cmd, name, err,
			    "pick another name or remove it: %s remove %s",
			    PROG, name);
	if (err == -ENXIO || vf_dm_target_version(VF_DM_TARGET, ver))
		return fail(c, cmd, name, err,
			    "is dm-vmfit loaded? try: %s load", PROG);
	if (err == -EINVAL)
		return fail(c, cmd, name, err,
			    "the target rejected the table; its reason is "
			    "in the kernel log (dmesg)");
	return fail(c, cmd, name, err, NULL);
}

int cmd_create(struct ctl *c, const struct command *cmd, int argc,
	       char **argv)
{
	static const struct option opts[] = {
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "ignore-discard", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int chunk = CTL_CHUNK_DEFAULT >> 9;
	const char *features = NULL;
	const char *name, *origin, *cow;
	const char *why = "";
	struct stat so, sc;
	char text[600];
	char cbuf[32];
	int done = 0;
	int opt;
	int r;

	/* Options may follow the positional arguments here. */
	while ((opt = next_opt(cmd, argc, argv, "c:", opts, &done)) != -1) {
		switch (opt) {
		case 'c':
			if (ctl_parse_chunk_size(optarg, &chunk, &why))
				return misuse(cmd, "invalid chunk size '%s': %s",
					      optarg, why);
			break;
		case 'D':
			features = "ignore_discard";
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	name = argv[optind];
	origin = argv[optind + 1];
	cow = argv[optind + 2];
	r = check_name(cmd, name);
	if (r)
		return r;
	if (!*origin || !*cow)
		return misuse(cmd, "empty device path");

	if (stat(origin, &so))
		return fail(c, cmd, origin, -errno, NULL);
	if (stat(cow, &sc))
		return fail(c, cmd, cow, -errno, NULL);
	if (S_ISBLK(so.st_mode) && S_ISBLK(sc.st_mode) &&
	    so.st_rdev == sc.st_rdev)
		return fail(c, cmd, cow, -EINVAL,
			    "the origin and the cow must be different devices");

	r = vf_dm_create_vmfit(name, origin, cow, chunk, features);
	if (r)
		return fail_create(c, cmd, name, r);
	fmt_bytes(cbuf, sizeof(cbuf), (uint64_t)chunk << 9);
	snprintf(text, sizeof(text),
		 "created vmfit device over %s (cow %s, chunk %s%s)", origin,
		 cow, cbuf, features ? ", discards ignored" : "");
	return print_action(c, name, "create", text);
}

int cmd_view(struct ctl *c, const struct command *cmd, int argc,
	     char **argv)
{
	struct vf_status st;
	char defname[VF_DM_NAME_MAX + 16];
	const char *vname = defname;
	char text[300];
	const char *name;
	int done;
	int r;

	if (name_opts(cmd, argc, argv, &name, &done))
		return done;
	if (optind + 1 < argc) {
		vname = argv[optind + 1];
	} else {
		snprintf(defname, sizeof(defname), "%s-view", name);
		if (strlen(defname) > VF_DM_NAME_MAX)
			return misuse(cmd, "'%s-view' is too long: give "
				      "VIEWNAME", name);
	}
	r = check_name(cmd, vname);
	if (r)
		return r;

	r = c->tp->status(name, &st);
	if (r)
		return fail_dev(c, cmd, name, r);
	if (st.mode != VF_MODE_SNAPSHOT)
		return fail(c, cmd, name, -EINVAL,
			    "%s has no active snapshot (mode %s); take one: "
			    "%s snapshot %s", name, vf_mode_name(st.mode),
			    PROG, name);
	r = vf_dm_create_view(vname, name);
	if (r)
		return fail_create(c, cmd, vname, r);
	/* Report the view's state as it is now. */
	if (!c->tp->status(name, &st))
		snprintf(text, sizeof(text),
			 "created read-only frozen view of %s (view %s)", name,
			 vf_view_name(st.view));
	else
		snprintf(text, sizeof(text),
			 "created read-only frozen view of %s", name);
	return print_action(c, vname, "view", text);
}

int cmd_remove(struct ctl *c, const struct command *cmd, int argc,
	       char **argv)
{
	struct vf_dm_target t;
	const char *name;
	char views[256];
	int done;
	int r;

	if (name_opts(cmd, argc, argv, &name, &done))
		return done;
	/*
	 * Only ours: never some other target's device by a typo. A device
	 * without a table (a create cut short) may go.
	 */
	r = vf_dm_table(name, &t);
	if (r == -ENODATA) {
		r = 0;
	} else if (!r) {
		if (strcmp(t.type, VF_DM_TARGET) &&
		    strcmp(t.type, VF_DM_VIEW_TARGET))
			r = -EMEDIUMTYPE;
		vf_dm_target_free(&t);
	}
	if (!r)
		r = vf_dm_remove(name);
	if (r == -EBUSY) {
		views_of(name, views, sizeof(views));
		if (views[0])
			return fail(c, cmd, name, r,
				    "views use it; remove them first: %s "
				    "remove %s", PROG, views);
		return fail(c, cmd, name, r, "the device is open");
	}
	if (r)
		return fail_dev(c, cmd, name, r);
	return print_action(c, name, "remove", "removed");
}

