// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vmfit generic netlink family.  The ABI (commands, attributes, events)
 * is include/uapi/linux/dm-vmfit.h; see also
 * Documentation/admin-guide/device-mapper/dm-vmfit-netlink.rst.
 *
 * Operations run in parallel (parallel_ops): a checksum dump may take
 * minutes and must not hold the genetlink mutex.  Instances are reached
 * through dm_vmfit_call(), which holds the target's registry lock, so an
 * instance cannot go away while a command uses it.
 */
#include <linux/dm-ioctl.h>
#include <linux/module.h>
#include <net/genetlink.h>
#include <uapi/linux/dm-vmfit.h>

#include "dm-vmfit.h"
#include "dm-vmfit-csum.h"
#include "dm-vmfit-netlink.h"

static struct genl_family vmfit_genl_family;

/*
 *--------------------------------------------------------------
 * Privilege
 *--------------------------------------------------------------
 */
/* genl_ops.internal_flags: the command needs CAP_SYS_ADMIN. */
#define VMFIT_NL_ADMIN 0x01

/*
 * Commands that change state or reveal content (digests) need
 * CAP_SYS_ADMIN in the initial namespace, as the dm ioctls do (not
 * GENL_ADMIN_PERM's CAP_NET_ADMIN: it does not guard block devices).
 */
static int vmfit_nl_admin(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "This command needs CAP_SYS_ADMIN");
	return -EPERM;
}

static int vmfit_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			     struct genl_info *info)
{
	if (ops->internal_flags & VMFIT_NL_ADMIN)
		return vmfit_nl_admin(skb, info->extack);
	return 0;
}

/*
 *--------------------------------------------------------------
 * Policy
 *--------------------------------------------------------------
 */
/*
 * Per-command policies, validated strictly: an attribute a command does not
 * take is rejected ("Unsupported attribute"), not ignored.
 */
#define VMFIT_DEV_POLICY						\
	[VMFIT_ATTR_DEV_MAJOR] = { .type = NLA_U32 },			\
	[VMFIT_ATTR_DEV_MINOR] = { .type = NLA_U32 },			\
	[VMFIT_ATTR_DEV_NAME] = { .type = NLA_NUL_STRING,		\
				  .len = VMFIT_NAME_MAX }

static const struct nla_policy vmfit_dev_policy[VMFIT_ATTR_DEV_NAME + 1] = {
	VMFIT_DEV_POLICY,
};

static const struct nla_policy vmfit_csum_policy[VMFIT_ATTR_CSUM_WORKERS + 1] = {
	VMFIT_DEV_POLICY,
	[VMFIT_ATTR_CSUM_ALGO] = NLA_POLICY_RANGE(NLA_U32, VMFIT_CSUM_SHA256,
						  VMFIT_CSUM_MAX),
	[VMFIT_ATTR_CSUM_FLAGS] = NLA_POLICY_MASK(NLA_U32, VMFIT_CSUM_F_ALL),
	[VMFIT_ATTR_FIRST_CHUNK] = { .type = NLA_U64 },
	[VMFIT_ATTR_LAST_CHUNK] = { .type = NLA_U64 },
	[VMFIT_ATTR_CSUM_WORKERS] = NLA_POLICY_RANGE(NLA_U32, 1,
						     VMFIT_CSUM_WORKERS_MAX),
};

/*
 *--------------------------------------------------------------
 * Devices
 *--------------------------------------------------------------
 */
struct vmfit_nl_dev {
	dev_t devt;		/* 0: by name only */
	const char *name;	/* NULL: by number only */
};

/* Which device a request names; at least one of number or name. */
static int vmfit_nl_parse_dev(struct nlattr **attrs,
			      struct netlink_ext_ack *extack,
			      struct vmfit_nl_dev *d)
{
	struct nlattr *maj = attrs[VMFIT_ATTR_DEV_MAJOR];
	struct nlattr *min = attrs[VMFIT_ATTR_DEV_MINOR];
	u32 major, minor;

	d->devt = 0;
	d->name = NULL;
	if (!!maj != !!min) {
		NL_SET_ERR_MSG(extack, "Device major and minor go together");
		NL_REQ_ATTR_CHECK(extack, NULL, attrs, VMFIT_ATTR_DEV_MAJOR);
		NL_REQ_ATTR_CHECK(extack, NULL, attrs, VMFIT_ATTR_DEV_MINOR);
		return -EINVAL;
	}
	if (maj) {
		major = nla_get_u32(maj);
		minor = nla_get_u32(min);
		if (!major || major >= (1U << (32 - MINORBITS)) ||
		    minor > MINORMASK) {
			NL_SET_ERR_MSG_ATTR(extack, maj,
					    "Invalid device number");
			return -EINVAL;
		}
		d->devt = MKDEV(major, minor);
	}
	if (attrs[VMFIT_ATTR_DEV_NAME]) {
		d->name = nla_data(attrs[VMFIT_ATTR_DEV_NAME]);
		if (!*d->name) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[VMFIT_ATTR_DEV_NAME],
					    "Empty device name");
			return -EINVAL;
		}
	}
	if (!d->devt && !d->name) {
		NL_SET_ERR_MSG(extack,
			       "No device: give its name, or its major and minor");
		NL_SET_ERR_ATTR_MISS(extack, NULL, VMFIT_ATTR_DEV_NAME);
		return -EINVAL;
	}
	return 0;
}

static int vmfit_nl_call(const struct vmfit_nl_dev *d,
			 struct netlink_ext_ack *extack,
			 int (*fn)(struct vmfit *vf, void *arg), void *arg)
{
	int r = dm_vmfit_call(d->devt, d->name, fn, arg);

	/* Only the lookup returns these two. */
	if (r == -ENODEV)
		NL_SET_ERR_MSG(extack, "No such vmfit device");
	else if (r == -EXDEV)
		NL_SET_ERR_MSG(extack,
			       "Device name and number name different devices");
	return r;
}

void dm_vmfit_dm_name(struct vmfit *vf, char *name)
{
	if (dm_copy_name_and_uuid(vf->md, name, NULL))
		name[0] = '\0';
}

static int vmfit_nl_put_dev(struct sk_buff *skb, dev_t devt, const char *name)
{
	if (nla_put_u32(skb, VMFIT_ATTR_DEV_MAJOR, MAJOR(devt)) ||
	    nla_put_u32(skb, VMFIT_ATTR_DEV_MINOR, MINOR(devt)) ||
	    nla_put_string(skb, VMFIT_ATTR_DEV_NAME, name))
		return -EMSGSIZE;
	return 0;
}

/*
 *--------------------------------------------------------------
 * Events
 *--------------------------------------------------------------
 */
struct vmfit_nl_u64 {
	int attr;
	u64 val;
};

static void __vmfit_nl_event(dev_t devt, const char *name, u8 cmd,
			     const struct vmfit_nl_u64 *vals, unsigned int n,
			     int attr32, u32 val32)
{
	struct sk_buff *skb;
	unsigned int i;
	void *hdr;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_NOIO);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vmfit_genl_family, 0, cmd);
	if (!hdr)
		goto bad;
	if (vmfit_nl_put_dev(skb, devt, name))
		goto bad;
	for (i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, vals[i].attr, vals[i].val,
				      VMFIT_ATTR_PAD))
			goto bad;
	if (attr32 && nla_put_u32(skb, attr32, val32))
		goto bad;
	genlmsg_end(skb, hdr);
	/* -ESRCH: nobody listens. */
	genlmsg_multicast(&vmfit_genl_family, skb, 0, 0, GFP_NOIO);
	return;
bad:
	nlmsg_free(skb);
}

static void vmfit_nl_event(struct vmfit *vf, u8 cmd,
			   const struct vmfit_nl_u64 *vals, unsigned int n,
			   int attr32, u32 val32)
{
	char name[DM_NAME_LEN];

	dm_vmfit_dm_name(vf, name);
	__vmfit_nl_event(vf->devt, name, cmd, vals, n, attr32, val32);
}

void dm_vmfit_nl_snapshot_begin(struct vmfit *vf, u64 epoch)
{
	struct vmfit_nl_u64 v[] = { { VMFIT_ATTR_EPOCH, epoch } };

	vmfit_nl_event(vf, VMFIT_CMD_EVT_SNAPSHOT_BEGIN,
		       v, ARRAY_SIZE(v), 0, 0);
}

void dm_vmfit_nl_snapshot_end(struct vmfit *vf, u64 epoch, u64 held_ns,
			      u64 drain_ns)
{
	struct vmfit_nl_u64 v[] = {
		{ VMFIT_ATTR_EPOCH, epoch },
		{ VMFIT_ATTR_HELD_NS, held_ns },
		{ VMFIT_ATTR_DRAIN_NS, drain_ns },
	};

	vmfit_nl_event(vf, VMFIT_CMD_EVT_SNAPSHOT_END,
		       v, ARRAY_SIZE(v), 0, 0);
}

void dm_vmfit_nl_merge_done(struct vmfit *vf, u64 epoch)
{
	struct vmfit_nl_u64 v[] = { { VMFIT_ATTR_EPOCH, epoch } };

	vmfit_nl_event(vf, VMFIT_CMD_EVT_MERGE_DONE,
		       v, ARRAY_SIZE(v), 0, 0);
}

void dm_vmfit_nl_health(struct vmfit *vf)
{
	int health = READ_ONCE(vf->health);
	struct vmfit_nl_u64 v[] = {
		{ VMFIT_ATTR_COW_USED, min_t(u64, atomic64_read(&vf->cow_next),
					     vf->data_chunks) },
		{ VMFIT_ATTR_COW_TOTAL, vf->data_chunks },
	};

	if (health == VMFIT_COW_FULL)
		vmfit_nl_event(vf, VMFIT_CMD_EVT_COW_FULL,
			       v, ARRAY_SIZE(v), 0, 0);
	else if (health == VMFIT_FAIL)
		vmfit_nl_event(vf, VMFIT_CMD_EVT_HEALTH,
			       NULL, 0, VMFIT_ATTR_HEALTH,
			       VMFIT_NL_HEALTH_FAIL);
}

static void vmfit_nl_csum_event(struct vmfit_csum *cs, u8 cmd, int error)
{
	u64 done, total;
	struct vmfit_nl_u64 v[2];

	vmfit_csum_counts(cs, &done, &total);
	v[0].attr = VMFIT_ATTR_CSUM_DONE;
	v[0].val = done;
	v[1].attr = VMFIT_ATTR_CSUM_TOTAL;
	v[1].val = total;
	__vmfit_nl_event(vmfit_csum_devt(cs), vmfit_csum_name(cs), cmd, v,
			 ARRAY_SIZE(v), cmd == VMFIT_CMD_EVT_CSUM_DONE ?
			 VMFIT_ATTR_ERROR : 0, -error);
}

/*
 *--------------------------------------------------------------
 * Status
 *--------------------------------------------------------------
 */
struct vmfit_nl_status {
	struct sk_buff *skb;
	u32 portid;
	u32 seq;
	int flags;
};

static int vmfit_nl_fill_status(struct vmfit *vf, void *arg)
{
	struct vmfit_nl_status *st = arg;
	struct sk_buff *skb = st->skb;
	char name[DM_NAME_LEN];
	u64 csum_done, csum_total;
	struct vmfit_stats s;
	u32 active;
	void *hdr;

	hdr = genlmsg_put(skb, st->portid, st->seq, &vmfit_genl_family,
			  st->flags, VMFIT_CMD_GET_STATUS);
	if (!hdr)
		return -EMSGSIZE;
	active = vmfit_csum_progress(vf, &csum_done, &csum_total);
	dm_vmfit_dm_name(vf, name);
	vmfit_get_stats(vf, &s);
	if (vmfit_nl_put_dev(skb, vf->devt, name) ||
	    nla_put_u32(skb, VMFIT_ATTR_MODE, s.mode) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_EPOCH, s.epoch, VMFIT_ATTR_PAD) ||
	    nla_put_u32(skb, VMFIT_ATTR_CHUNK_SECTORS, s.chunk_sectors) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_ORIGIN_CHUNKS, s.origin_chunks,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_CHANGED, s.changed,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_COW_USED, s.cow_used,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_COW_TOTAL, s.cow_total,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u32(skb, VMFIT_ATTR_VIEW, s.view) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_HELD_NS, s.held_ns,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_DRAIN_NS, s.drain_ns,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_MERGED, s.merged,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_TO_MERGE, s.to_merge,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u32(skb, VMFIT_ATTR_HEALTH, s.health) ||
	    nla_put_u32(skb, VMFIT_ATTR_CSUM_ACTIVE, active) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_CSUM_DONE, csum_done,
			      VMFIT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_CSUM_TOTAL, csum_total,
			      VMFIT_ATTR_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int vmfit_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct vmfit_nl_status st;
	struct vmfit_nl_dev d;
	struct sk_buff *msg;
	int r;

	r = vmfit_nl_parse_dev(info->attrs, info->extack, &d);
	if (r)
		return r;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	st.skb = msg;
	st.portid = info->snd_portid;
	st.seq = info->snd_seq;
	st.flags = 0;
	r = vmfit_nl_call(&d, info->extack, vmfit_nl_fill_status, &st);
	if (r) {
		nlmsg_free(msg);
		return r;
	}
	return genlmsg_reply(msg, info);
}

/* Dump of every device: cb->args[0] counts the devices already sent. */
struct vmfit_nl_walk {
	struct vmfit_nl_status st;
	long skip;
	long sent;
};

static int vmfit_nl_walk_one(struct vmfit *vf, void *arg)
{
	struct vmfit_nl_walk *w = arg;
	int r;

	if (w->skip) {
		w->skip--;
		return 0;
	}
	r = vmfit_nl_fill_status(vf, &w->st);
	if (!r)
		w->sent++;
	return r;
}

static int vmfit_nl_dump_status(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct vmfit_nl_walk w = {
		.st = {
			.skb = skb,
			.portid = NETLINK_CB(cb->skb).portid,
			.seq = cb->nlh->nlmsg_seq,
			.flags = NLM_F_MULTI,
		},
		.skip = cb->args[0],
	};
	int r;

	r = dm_vmfit_for_each(vmfit_nl_walk_one, &w);
	cb->args[0] += w.sent;
	if (r == -EMSGSIZE && w.sent)
		return skb->len;
	if (r && r != -EMSGSIZE)
		return r;
	return r ? -EMSGSIZE : skb->len;
}

/*
 *--------------------------------------------------------------
 * Control: the target messages
 *--------------------------------------------------------------
 */
struct vmfit_nl_control {
	int (*fn)(struct vmfit *vf, const char **why);
	struct netlink_ext_ack *extack;
};

static int vmfit_nl_control_one(struct vmfit *vf, void *arg)
{
	struct vmfit_nl_control *ctl = arg;
	const char *why = "The target refused the command";
	int r;

	r = ctl->fn(vf, &why);
	if (r)
		dm_vmfit_nl_set_msg(ctl->extack, why);
	return r;
}

static int vmfit_nl_control(struct genl_info *info,
			    int (*fn)(struct vmfit *vf, const char **why))
{
	struct vmfit_nl_control ctl = { .fn = fn, .extack = info->extack };
	struct vmfit_nl_dev d;
	int r;

	r = vmfit_nl_parse_dev(info->attrs, info->extack, &d);
	if (r)
		return r;
	return vmfit_nl_call(&d, info->extack, vmfit_nl_control_one, &ctl);
}

static int vmfit_nl_snapshot(struct sk_buff *skb, struct genl_info *info)
{
	return vmfit_nl_control(info, vmfit_snapshot);
}

static int vmfit_nl_merge(struct sk_buff *skb, struct genl_info *info)
{
	return vmfit_nl_control(info, vmfit_merge);
}

static int vmfit_nl_drop(struct sk_buff *skb, struct genl_info *info)
{
	return vmfit_nl_control(info, vmfit_drop);
}

static int vmfit_nl_clear(struct sk_buff *skb, struct genl_info *info)
{
	return vmfit_nl_control(info, vmfit_clear);
}

static int vmfit_nl_cancel_one(struct vmfit *vf, void *arg)
{
	struct netlink_ext_ack *extack = arg;

	if (!vmfit_csum_cancel(vf)) {
		NL_SET_ERR_MSG(extack, "No checksum is running on this device");
		return -ENOENT;
	}
	return 0;
}

static int vmfit_nl_csum_cancel(struct sk_buff *skb, struct genl_info *info)
{
	struct vmfit_nl_dev d;
	int r;

	r = vmfit_nl_parse_dev(info->attrs, info->extack, &d);
	if (r)
		return r;
	return vmfit_nl_call(&d, info->extack, vmfit_nl_cancel_one,
			     info->extack);
}

/*
 *--------------------------------------------------------------
 * Checksum dump
 *
 * .start creates the session (cb->args[0]), each .dumpit call fills one
 * message with as many digests as fit, .done ends the session.  The next
 * batch is hashed while userspace reads this one; nothing more.
 *--------------------------------------------------------------
 */
struct vmfit_nl_csum_start {
	struct vmfit_csum_req req;
	struct vmfit_csum *cs;
	struct netlink_ext_ack *extack;
};

static int vmfit_nl_csum_start_one(struct vmfit *vf, void *arg)
{
	struct vmfit_nl_csum_start *s = arg;

	return vmfit_csum_start(vf, &s->req, &s->cs, s->extack);
}

/*
 * The core gives .start no extack (cb->extack is set for .dumpit only), so
 * a refused start is not an error here: it is kept in cb->args[2] and
 * [3] (an error and a string literal) for the first .dumpit to report.
 */
static int __vmfit_nl_csum_start(struct netlink_callback *cb,
				 struct netlink_ext_ack *extack)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr **attrs = info->attrs;
	struct vmfit_nl_csum_start s = {
		.req = {
			.algo = VMFIT_CSUM_SHA256,
			.last = U64_MAX,
		},
		.extack = extack,
	};
	struct vmfit_nl_dev d;
	int r;

	r = vmfit_nl_admin(cb->skb, extack);
	if (r)
		return r;
	r = vmfit_nl_parse_dev(attrs, extack, &d);
	if (r)
		return r;
	if (attrs[VMFIT_ATTR_CSUM_ALGO])
		s.req.algo = nla_get_u32(attrs[VMFIT_ATTR_CSUM_ALGO]);
	if (attrs[VMFIT_ATTR_CSUM_FLAGS])
		s.req.flags = nla_get_u32(attrs[VMFIT_ATTR_CSUM_FLAGS]);
	if (attrs[VMFIT_ATTR_FIRST_CHUNK])
		s.req.first = nla_get_u64(attrs[VMFIT_ATTR_FIRST_CHUNK]);
	if (attrs[VMFIT_ATTR_CSUM_WORKERS])
		s.req.workers = nla_get_u32(attrs[VMFIT_ATTR_CSUM_WORKERS]);
	if (attrs[VMFIT_ATTR_LAST_CHUNK]) {
		s.req.last = nla_get_u64(attrs[VMFIT_ATTR_LAST_CHUNK]);
		if (s.req.last == U64_MAX) {
			NL_SET_ERR_MSG(extack,
				       "Last chunk is beyond the device");
			return -ERANGE;
		}
	}
	r = vmfit_nl_call(&d, extack, vmfit_nl_csum_start_one, &s);
	if (r)
		return r;
	cb->args[0] = (long)s.cs;
	cb->args[1] = jiffies;
	return 0;
}

static int vmfit_nl_csum_start(struct netlink_callback *cb)
{
	struct netlink_ext_ack extack = {};
	int r;

	r = __vmfit_nl_csum_start(cb, &extack);
	if (r) {
		cb->args[0] = 0;
		cb->args[2] = r;
		cb->args[3] = (long)(extack._msg ? extack._msg :
				     "The checksum could not start");
	}
	return 0;
}

static int vmfit_nl_csum_done(struct netlink_callback *cb)
{
	struct vmfit_csum *cs = (struct vmfit_csum *)cb->args[0];
	u64 done, total;
	int error;

	if (!cs)
		return 0;
	vmfit_csum_counts(cs, &done, &total);
	error = cb->args[2] ? (int)cb->args[2] :
		(done == total ? 0 : -ECANCELED);
	vmfit_nl_csum_event(cs, VMFIT_CMD_EVT_CSUM_DONE, error);
	vmfit_csum_end(cs);
	cb->args[0] = 0;
	return 0;
}

static int vmfit_nl_csum_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vmfit_csum *cs = (struct vmfit_csum *)cb->args[0];
	struct nlattr *entries, *entry;
	unsigned int n = 0, dsize;
	const u8 *digest;
	u64 chunk, done, total;
	void *hdr;
	int r;

	if (!cs) {
		/* The start was refused: see vmfit_nl_csum_start(). */
		if (cb->extack)
			cb->extack->_msg = (const char *)cb->args[3];
		return (int)cb->args[2];
	}
	dsize = vmfit_csum_digest_size(vmfit_csum_algo(cs));
	vmfit_csum_lock(cs);
	r = vmfit_csum_next(cs, &chunk, &digest);
	if (r <= 0)
		goto out_unlock;

	r = -EMSGSIZE;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &vmfit_genl_family, NLM_F_MULTI, VMFIT_CMD_CHECKSUM);
	if (!hdr)
		goto out_unlock;
	vmfit_csum_counts(cs, &done, &total);
	if (vmfit_nl_put_dev(skb, vmfit_csum_devt(cs), vmfit_csum_name(cs)) ||
	    nla_put_u32(skb, VMFIT_ATTR_CSUM_ALGO, vmfit_csum_algo(cs)) ||
	    nla_put_u32(skb, VMFIT_ATTR_DIGEST_SIZE, dsize) ||
	    nla_put_u32(skb, VMFIT_ATTR_CSUM_WORKERS, vmfit_csum_workers(cs)) ||
	    nla_put_u64_64bit(skb, VMFIT_ATTR_CSUM_TOTAL, total,
			      VMFIT_ATTR_PAD))
		goto out_cancel;
	entries = nla_nest_start(skb, VMFIT_ATTR_CSUM_ENTRIES);
	if (!entries)
		goto out_cancel;
	for (;;) {
		entry = nla_nest_start(skb, VMFIT_ATTR_CSUM_ENTRY);
		if (!entry)
			break;
		if (nla_put_u64_64bit(skb, VMFIT_CSUM_A_CHUNK, chunk,
				      VMFIT_CSUM_A_PAD) ||
		    nla_put(skb, VMFIT_CSUM_A_DIGEST, dsize, digest)) {
			nla_nest_cancel(skb, entry);
			break;
		}
		nla_nest_end(skb, entry);
		vmfit_csum_pop(cs);
		n++;
		/* Keep room for the progress attribute. */
		if (skb_tailroom(skb) < 64)
			break;
		r = vmfit_csum_next(cs, &chunk, &digest);
		if (r <= 0)
			break;
	}
	if (!n) {
		r = -EMSGSIZE;
		goto out_cancel;
	}
	/* An error after some digests is reported by the next call. */
	nla_nest_end(skb, entries);
	vmfit_csum_counts(cs, &done, &total);
	if (nla_put_u64_64bit(skb, VMFIT_ATTR_CSUM_DONE, done,
			      VMFIT_ATTR_PAD)) {
		r = -EMSGSIZE;
		goto out_cancel;
	}
	genlmsg_end(skb, hdr);
	vmfit_csum_unlock(cs);

	if (time_after(jiffies, (unsigned long)cb->args[1] + HZ / 4)) {
		cb->args[1] = jiffies;
		vmfit_nl_csum_event(cs, VMFIT_CMD_EVT_CSUM_PROGRESS, 0);
	}
	return skb->len;

out_cancel:
	genlmsg_cancel(skb, hdr);
out_unlock:
	vmfit_csum_unlock(cs);
	if (r < 0) {
		cb->args[2] = r;
		switch (r) {
		case -ECANCELED:
			NL_SET_ERR_MSG(cb->extack, "The checksum was cancelled");
			break;
		case -ENODEV:
			NL_SET_ERR_MSG(cb->extack,
				       "The device went away during the checksum");
			break;
		case -EIO:
			NL_SET_ERR_MSG(cb->extack,
				       "Reading the frozen view failed");
			break;
		}
	}
	return r;
}

/*
 *--------------------------------------------------------------
 * Family
 *--------------------------------------------------------------
 */
static const struct genl_ops vmfit_genl_ops[] = {
	{
		.cmd = VMFIT_CMD_GET_STATUS,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.doit = vmfit_nl_get_status,
		.dumpit = vmfit_nl_dump_status,
	},
	{
		.cmd = VMFIT_CMD_SNAPSHOT,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.internal_flags = VMFIT_NL_ADMIN,
		.doit = vmfit_nl_snapshot,
	},
	{
		.cmd = VMFIT_CMD_MERGE,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.internal_flags = VMFIT_NL_ADMIN,
		.doit = vmfit_nl_merge,
	},
	{
		.cmd = VMFIT_CMD_DROP,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.internal_flags = VMFIT_NL_ADMIN,
		.doit = vmfit_nl_drop,
	},
	{
		.cmd = VMFIT_CMD_CLEAR,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.internal_flags = VMFIT_NL_ADMIN,
		.doit = vmfit_nl_clear,
	},
	{
		.cmd = VMFIT_CMD_CHECKSUM,
		.internal_flags = VMFIT_NL_ADMIN,
		.policy = vmfit_csum_policy,
		.maxattr = ARRAY_SIZE(vmfit_csum_policy) - 1,
		.start = vmfit_nl_csum_start,
		.dumpit = vmfit_nl_csum_dump,
		.done = vmfit_nl_csum_done,
	},
	{
		.cmd = VMFIT_CMD_CHECKSUM_CANCEL,
		.policy = vmfit_dev_policy,
		.maxattr = ARRAY_SIZE(vmfit_dev_policy) - 1,
		.internal_flags = VMFIT_NL_ADMIN,
		.doit = vmfit_nl_csum_cancel,
	},
};

/*
 * Joining the events group needs CAP_SYS_ADMIN: an event is sent under the
 * commit lock (a snapshot's begin and end stay in order) and its cost grows
 * with the number of listeners, so an unprivileged user holding many
 * sockets in the group could delay a flush.  Kernels without the flag
 * (before 6.6 and its stable backports) leave the group open.
 */
static const struct genl_multicast_group vmfit_genl_mcgrps[] = {
	{
		.name = VMFIT_GENL_MCAST_GROUP_NAME,
#ifdef GENL_MCAST_CAP_SYS_ADMIN
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
#endif
	},
};

static struct genl_family vmfit_genl_family __ro_after_init = {
	.name = VMFIT_GENL_FAMILY_NAME,
	.version = VMFIT_GENL_VERSION,
	/*
	 * A manager may run in a network namespace of its own (one per host
	 * of tests/kmod/recovery-cluster.sh). Safe: the commands that change
	 * state or reveal content check CAP_SYS_ADMIN in the initial user
	 * namespace, and status is open to everyone anyway. Events stay in
	 * the initial network namespace (genlmsg_multicast).
	 */
	.netnsok = true,
	.parallel_ops = true,
	.pre_doit = vmfit_nl_pre_doit,
	.module = THIS_MODULE,
	.ops = vmfit_genl_ops,
	.n_ops = ARRAY_SIZE(vmfit_genl_ops),
	.resv_start_op = 0,
	.mcgrps = vmfit_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vmfit_genl_mcgrps),
};

int dm_vmfit_netlink_init(void)
{
	/* Names in requests and replies are dm names. */
	BUILD_BUG_ON(sizeof(((struct dm_ioctl *)0)->name) != VMFIT_NAME_MAX + 1);
	return genl_register_family(&vmfit_genl_family);
}

void dm_vmfit_netlink_exit(void)
{
	genl_unregister_family(&vmfit_genl_family);
}
