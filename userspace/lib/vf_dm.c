// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_dm - libdevmapper wrapper for the vmfit and vmfit-view targets.
 *
 * Every libdevmapper call that reports 1/0 goes through one pattern:
 *	if (!dm_task_run(dmt)) { r = task_errno(dmt); goto out; }
 * and task_errno() turns the ioctl's errno into -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <libdevmapper.h>

#include "vf_dm.h"

/*----------------------------------------------------------------*/

static bool log_installed;
static bool log_verbose;
static char last_error[512];

static void vf_dm_log(int level, const char *file, int line, int dm_errno,
		      const char *f, ...)
{
	va_list ap;

	/* libdevmapper's levels: 3 = error, 4 = warn, 5+ = notice/info/debug */
	level &= 0x7;
	if (level > 4 && !log_verbose)
		return;
	va_start(ap, f);
	if (level <= 3)
		vsnprintf(last_error, sizeof(last_error), f, ap);
	else if (log_verbose)
		vfprintf(stderr, f, ap);
	va_end(ap);
	if (level <= 3 && log_verbose)
		fprintf(stderr, "libdevmapper: %s\n", last_error);
	else if (level > 3 && log_verbose)
		fputc('\n', stderr);
}

static void log_init(void)
{
	if (log_installed)
		return;
	dm_log_with_errno_init(vf_dm_log);
	log_installed = true;
}

void vf_dm_set_verbose(bool verbose)
{
	log_verbose = verbose;
	log_init();
}

const char *vf_dm_last_error(void)
{
	return last_error;
}

static struct dm_task *task_new(int type)
{
	log_init();
	last_error[0] = '\0';
	return dm_task_create(type);
}

/* -errno for a failed dm_task_create(): it also fails without a driver. */
static int no_task(void)
{
	return vf_dm_driver_present() ? -ENOMEM : -ENXIO;
}

/* -errno for a failed dm_task_run(). */
static int task_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	if (e > 0)
		return -e;
	/* No ioctl errno: libdevmapper could not talk to the driver. */
	return vf_dm_driver_present() ? -EIO : -ENXIO;
}

/*----------------------------------------------------------------*/

bool vf_dm_driver_present(void)
{
	char v[64];

	log_init();
	return dm_driver_version(v, sizeof(v)) == 1;
}

int vf_dm_target_version(const char *type, unsigned int version[3])
{
	struct dm_task *dmt;
	struct dm_versions *tv;
	struct dm_versions *last;
	int r = -ENOENT;

	dmt = task_new(DM_DEVICE_LIST_VERSIONS);
	if (!dmt)
		return no_task();
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	tv = dm_task_get_versions(dmt);
	do {
		last = tv;
		if (!strcmp(tv->name, type)) {
			version[0] = tv->version[0];
			version[1] = tv->version[1];
			version[2] = tv->version[2];
			r = 0;
			break;
		}
		tv = (struct dm_versions *)((char *)tv + tv->next);
	} while (last != tv);
out:
	dm_task_destroy(dmt);
	return r;
}

int vf_dm_info(const char *name, struct vf_dm_info *info)
{
	struct dm_task *dmt;
	struct dm_info di;
	int r = 0;

	dmt = task_new(DM_DEVICE_INFO);
	if (!dmt)
		return no_task();
	if (!dm_task_set_name(dmt, name)) {
		r = -EINVAL;
		goto out;
	}
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	if (!dm_task_get_info(dmt, &di)) {
		r = -EIO;
		goto out;
	}
	memset(info, 0, sizeof(*info));
	info->exists = di.exists;
	info->suspended = di.suspended;
	info->readonly = di.read_only;
	info->major = di.major;
	info->minor = di.minor;
	info->open_count = di.open_count;
	info->target_count = di.target_count;
out:
	dm_task_destroy(dmt);
	return r;
}

/* -ENODEV unless @name exists. */
static int must_exist(const char *name)
{
	struct vf_dm_info info;
	int r;

	r = vf_dm_info(name, &info);
	if (r)
		return r;
	return info.exists ? 0 : -ENODEV;
}

int vf_dm_dev_sectors(const char *path, uint64_t *sectors)
{
	struct stat st;
	uint64_t bytes;
	int fd;
	int r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes)) {
			r = -errno;
			goto out;
		}
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		r = -ENOTBLK;
		goto out;
	}
	*sectors = bytes >> 9;
out:
	close(fd);
	return r;
}

/*----------------------------------------------------------------*/

/* CREATE and REMOVE wait for udev (or make the nodes without it). */
static int run_with_cookie(struct dm_task *dmt)
{
	uint32_t cookie = 0;
	int r = 0;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return -EIO;
	if (!dm_task_run(dmt))
		r = task_errno(dmt);
	/* The cookie must be waited for (released) even on failure. */
	if (!dm_udev_wait(cookie) && !r)
		r = -EIO;
	return r;
}

/* A task on device @name: CREATE, RELOAD (with one target), RESUME, REMOVE. */
static int name_task(int type, const char *name, const char *ttype,
		     uint64_t sectors, const char *params, bool readonly)
{
	struct dm_task *dmt;
	int r = -EINVAL;

	dmt = task_new(type);
	if (!dmt)
		return no_task();
	if (!dm_task_set_name(dmt, name))
		goto out;
	if (readonly && !dm_task_set_ro(dmt))
		goto out;
	if (ttype && !dm_task_add_target(dmt, 0, sectors, ttype, params))
		goto out;
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(dmt); /* ride out udev's blkid probe */
	/* Only CREATE, RESUME and REMOVE touch /dev nodes (and udev). */
	if (type == DM_DEVICE_RELOAD)
		r = dm_task_run(dmt) ? 0 : task_errno(dmt);
	else
		r = run_with_cookie(dmt);
out:
	dm_task_destroy(dmt);
	return r;
}

/*
 * Three steps rather than libdevmapper's one-shot CREATE with a table:
 * that one rolls back a rejected table in a task of its own and loses
 * the ioctl's errno (the reason the target gave is EINVAL, not EIO).
 */
int vf_dm_create(const char *name, const char *type, uint64_t sectors,
		 const char *params, bool readonly)
{
	struct vf_dm_info info;
	int r;

	if (!sectors)
		return -EINVAL;
	/* The ioctl says EBUSY for an existing name; EEXIST is clearer. */
	r = vf_dm_info(name, &info);
	if (r)
		return r;
	if (info.exists)
		return -EEXIST;

	r = name_task(DM_DEVICE_CREATE, name, NULL, 0, NULL, false);
	if (r)
		return r;
	r = name_task(DM_DEVICE_RELOAD, name, type, sectors, params, readonly);
	if (!r)
		r = name_task(DM_DEVICE_RESUME, name, NULL, 0, NULL, false);
	if (r) {
		/* Keep the first error; the device must not stay behind. */
		name_task(DM_DEVICE_REMOVE, name, NULL, 0, NULL, false);
	}
	return r;
}

int vf_dm_create_vmfit(const char *name, const char *origin, const char *cow,
		       unsigned int chunk_sectors, const char *features)
{
	uint64_t sectors;
	char *params = NULL;
	int r;

	r = vf_dm_dev_sectors(origin, &sectors);
	if (r)
		return r;
	if (features && *features) {
		unsigned int n = 0;
		const char *p = features;

		/* Count words for <#feature args>. */
		while (*p) {
			while (*p == ' ')
				p++;
			if (!*p)
				break;
			n++;
			while (*p && *p != ' ')
				p++;
		}
		r = asprintf(&params, "%s %s %u %u %s", origin, cow,
			     chunk_sectors, n, features);
	} else {
		r = asprintf(&params, "%s %s %u", origin, cow, chunk_sectors);
	}
	if (r < 0)
		return -ENOMEM;
	r = vf_dm_create(name, VF_DM_TARGET, sectors, params, false);
	free(params);
	return r;
}

int vf_dm_create_view(const char *name, const char *live)
{
	struct vf_dm_target t = { 0 };
	struct vf_dm_info info;
	char params[32];
	int r;

	r = vf_dm_info(live, &info);
	if (r)
		return r;
	if (!info.exists)
		return -ENODEV;
	r = vf_dm_table(live, &t);
	if (r)
		return r;
	if (strcmp(t.type, VF_DM_TARGET)) {
		r = -EMEDIUMTYPE;
		goto out;
	}
	/* major:minor needs no /dev/mapper node (none without udev). */
	snprintf(params, sizeof(params), "%u:%u", info.major, info.minor);
	r = vf_dm_create(name, VF_DM_VIEW_TARGET, t.length, params, true);
out:
	vf_dm_target_free(&t);
	return r;
}

int vf_dm_remove(const char *name)
{
	int r;

	r = must_exist(name);
	if (r)
		return r;
	return name_task(DM_DEVICE_REMOVE, name, NULL, 0, NULL, false);
}

/*----------------------------------------------------------------*/

int vf_dm_message(const char *name, const char *msg, char **reply)
{
	struct dm_task *dmt;
	const char *resp;
	int r;

	if (reply)
		*reply = NULL;
	r = must_exist(name);
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return no_task();
	r = -EINVAL;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg))
		goto out;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	r = 0;
	if (reply) {
		resp = dm_task_get_message_response(dmt);
		*reply = strdup(resp ? resp : "");
		if (!*reply)
			r = -ENOMEM;
	}
out:
	dm_task_destroy(dmt);
	return r;
}

void vf_dm_target_free(struct vf_dm_target *t)
{
	free(t->type);
	free(t->params);
	t->type = NULL;
	t->params = NULL;
}

static int get_target(const char *name, int type, struct vf_dm_target *t)
{
	struct dm_task *dmt;
	uint64_t start;
	uint64_t length;
	char *ttype = NULL;
	char *params = NULL;
	void *next = NULL;
	unsigned int count = 0;
	int r;

	memset(t, 0, sizeof(*t));
	r = must_exist(name);
	if (r)
		return r;
	dmt = task_new(type);
	if (!dmt)
		return no_task();
	r = -EINVAL;
	if (!dm_task_set_name(dmt, name))
		goto out;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	r = 0;
	do {
		next = dm_get_next_target(dmt, next, &start, &length, &ttype,
					  &params);
		if (!ttype)
			break;	/* no table loaded */
		if (!count++) {
			t->start = start;
			t->length = length;
			t->type = strdup(ttype);
			t->params = strdup(params ? params : "");
			if (!t->type || !t->params) {
				vf_dm_target_free(t);
				r = -ENOMEM;
				goto out;
			}
		}
	} while (next);
	t->count = count;
	if (!count)
		r = -ENODATA;
out:
	dm_task_destroy(dmt);
	return r;
}

int vf_dm_status(const char *name, struct vf_dm_target *t)
{
	return get_target(name, DM_DEVICE_STATUS, t);
}

int vf_dm_table(const char *name, struct vf_dm_target *t)
{
	return get_target(name, DM_DEVICE_TABLE, t);
}

void vf_dm_names_free(char **names, size_t n)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int vf_dm_list(char ***out, size_t *nout)
{
	struct dm_task *dmt;
	struct dm_names *nm;
	char **names = NULL;
	size_t n = 0;
	unsigned int next = 0;
	int r;

	dmt = task_new(DM_DEVICE_LIST);
	if (!dmt)
		return no_task();
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	r = -ENOMEM;
	nm = dm_task_get_names(dmt);
	if (nm && nm->dev) {
		do {
			char **nn;

			nm = (struct dm_names *)((char *)nm + next);
			nn = reallocarray(names, n + 1, sizeof(*nn));
			if (!nn)
				goto out;
			names = nn;
			names[n] = strdup(nm->name);
			if (!names[n])
				goto out;
			n++;
			next = nm->next;
		} while (next);
	}
	*out = names;
	*nout = n;
	names = NULL;
	n = 0;
	r = 0;
out:
	vf_dm_names_free(names, n);
	dm_task_destroy(dmt);
	return r;
}

/*----------------------------------------------------------------*/

int vf_dm_vmfit_status(const char *name, struct vf_status *st)
{
	struct vf_dm_target t;
	int r;

	r = vf_dm_status(name, &t);
	if (r)
		return r;
	if (strcmp(t.type, VF_DM_TARGET))
		r = -EMEDIUMTYPE;
	else
		r = vf_status_parse(t.params, st) ? -EPROTO : 0;
	vf_dm_target_free(&t);
	return r;
}

int vf_dm_vmfit_changed(const char *name, struct vf_ranges *rs)
{
	uint64_t start = 0;
	char msg[40];
	char *reply;
	bool more;
	int r;

	do {
		if (start)
			snprintf(msg, sizeof(msg), "changed %" PRIu64, start);
		else
			snprintf(msg, sizeof(msg), "changed");
		r = vf_dm_message(name, msg, &reply);
		if (r)
			return r;
		r = vf_changed_parse(reply, rs, &more);
		free(reply);
		if (r)
			return -EPROTO;
		if (!more)
			break;
		/* A truncated page must make progress, or we would loop. */
		if (!rs->n || rs->r[rs->n - 1].end < start ||
		    rs->r[rs->n - 1].end == UINT64_MAX)
			return -EPROTO;
		start = rs->r[rs->n - 1].end + 1;
	} while (more);
	return 0;
}
