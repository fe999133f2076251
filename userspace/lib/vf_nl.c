// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_nl - dm-vmfit generic netlink client (libnl-genl). See vf_nl.h.
 *
 * libnl reports NLE_* codes; the kernel's answer carries an errno and, with
 * NETLINK_EXT_ACK, a message. Requests go through one transaction helper
 * that installs its own error/ack/finish callbacks, so the caller always
 * gets the kernel's errno and message. A checksum runs on its own socket:
 * abandoning it is closing that socket, which ends the kernel's dump.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "vf_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct vf_nl {
	struct nl_sock *sk;		/* commands */
	struct nl_sock *ev;		/* events, after vf_nl_subscribe() */
	int family;
	char errmsg[256];
	struct vf_nl_event *pending;	/* where the event callback writes */
	bool got_event;
};

static void set_msg(struct vf_nl *nl, const char *fmt, const char *arg)
{
	snprintf(nl->errmsg, sizeof(nl->errmsg), fmt, arg);
}

/* libnl's NLE_* (positive) to -errno. */
static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
		return -ENODATA;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_PROTO_MISMATCH:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_TRUNC:
	case NLE_PARSE_ERR:
		return -EPROTO;
	case NLE_MSG_OVERFLOW:
	case NLE_DUMP_INTR:
		return -ENOBUFS;
	default:
		return -EIO;
	}
}

/*----------------------------------------------------------------*/

const char *vf_nl_event_name(unsigned int cmd)
{
	switch (cmd) {
	case VMFIT_CMD_EVT_SNAPSHOT_BEGIN:
		return "snapshot-begin";
	case VMFIT_CMD_EVT_SNAPSHOT_END:
		return "snapshot-end";
	case VMFIT_CMD_EVT_CSUM_PROGRESS:
		return "checksum-progress";
	case VMFIT_CMD_EVT_CSUM_DONE:
		return "checksum-done";
	case VMFIT_CMD_EVT_MERGE_DONE:
		return "merge-done";
	case VMFIT_CMD_EVT_HEALTH:
		return "health";
	case VMFIT_CMD_EVT_COW_FULL:
		return "cow-full";
	default:
		return NULL;
	}
}

const char *vf_nl_mode_name(uint32_t mode)
{
	static const char *const n[] = { "normal", "snapshot", "merging" };

	return mode < 3 ? n[mode] : "?";
}

const char *vf_nl_view_name(uint32_t view)
{
	static const char *const n[] = { "-", "draining", "ready" };

	return view < 3 ? n[view] : "?";
}

const char *vf_nl_health_name(uint32_t health)
{
	static const char *const n[] = { "ok", "cow_full", "fail" };

	return health < 3 ? n[health] : "?";
}

/*----------------------------------------------------------------*/
/* Encoding */

int vf_nl_put_dev(struct nl_msg *msg, const struct vf_nl_dev *dev)
{
	if (dev->has_devno &&
	    (nla_put_u32(msg, VMFIT_ATTR_DEV_MAJOR, dev->major) ||
	     nla_put_u32(msg, VMFIT_ATTR_DEV_MINOR, dev->minor)))
		return -EMSGSIZE;
	if (dev->name && *dev->name) {
		if (strlen(dev->name) > VMFIT_NAME_MAX)
			return -ENAMETOOLONG;
		if (nla_put_string(msg, VMFIT_ATTR_DEV_NAME, dev->name))
			return -EMSGSIZE;
	}
	return 0;
}

int vf_nl_put_csum_req(struct nl_msg *msg, const struct vf_nl_csum_req *req)
{
	if (req->algo && nla_put_u32(msg, VMFIT_ATTR_CSUM_ALGO, req->algo))
		return -EMSGSIZE;
	if (req->flags && nla_put_u32(msg, VMFIT_ATTR_CSUM_FLAGS, req->flags))
		return -EMSGSIZE;
	if (req->has_first &&
	    nla_put_u64(msg, VMFIT_ATTR_FIRST_CHUNK, req->first))
		return -EMSGSIZE;
	if (req->has_last && nla_put_u64(msg, VMFIT_ATTR_LAST_CHUNK, req->last))
		return -EMSGSIZE;
	if (req->workers &&
	    nla_put_u32(msg, VMFIT_ATTR_CSUM_WORKERS, req->workers))
		return -EMSGSIZE;
	return 0;
}

/*----------------------------------------------------------------*/
/* Decoding */

static struct nla_policy reply_policy[VMFIT_ATTR_MAX + 1] = {
	[VMFIT_ATTR_DEV_MAJOR] = { .type = NLA_U32 },
	[VMFIT_ATTR_DEV_MINOR] = { .type = NLA_U32 },
	[VMFIT_ATTR_DEV_NAME] = { .type = NLA_STRING,
				  .maxlen = VMFIT_NAME_MAX + 1 },
	[VMFIT_ATTR_MODE] = { .type = NLA_U32 },
	[VMFIT_ATTR_EPOCH] = { .type = NLA_U64 },
	[VMFIT_ATTR_CHUNK_SECTORS] = { .type = NLA_U32 },
	[VMFIT_ATTR_ORIGIN_CHUNKS] = { .type = NLA_U64 },
	[VMFIT_ATTR_CHANGED] = { .type = NLA_U64 },
	[VMFIT_ATTR_COW_USED] = { .type = NLA_U64 },
	[VMFIT_ATTR_COW_TOTAL] = { .type = NLA_U64 },
	[VMFIT_ATTR_VIEW] = { .type = NLA_U32 },
	[VMFIT_ATTR_HELD_NS] = { .type = NLA_U64 },
	[VMFIT_ATTR_DRAIN_NS] = { .type = NLA_U64 },
	[VMFIT_ATTR_MERGED] = { .type = NLA_U64 },
	[VMFIT_ATTR_TO_MERGE] = { .type = NLA_U64 },
	[VMFIT_ATTR_HEALTH] = { .type = NLA_U32 },
	[VMFIT_ATTR_CSUM_ALGO] = { .type = NLA_U32 },
	[VMFIT_ATTR_CSUM_FLAGS] = { .type = NLA_U32 },
	[VMFIT_ATTR_FIRST_CHUNK] = { .type = NLA_U64 },
	[VMFIT_ATTR_LAST_CHUNK] = { .type = NLA_U64 },
	[VMFIT_ATTR_DIGEST_SIZE] = { .type = NLA_U32 },
	[VMFIT_ATTR_CSUM_DONE] = { .type = NLA_U64 },
	[VMFIT_ATTR_CSUM_TOTAL] = { .type = NLA_U64 },
	[VMFIT_ATTR_CSUM_ACTIVE] = { .type = NLA_U32 },
	[VMFIT_ATTR_CSUM_ENTRIES] = { .type = NLA_NESTED },
	[VMFIT_ATTR_CSUM_ENTRY] = { .type = NLA_NESTED },
	[VMFIT_ATTR_ERROR] = { .type = NLA_U32 },
	[VMFIT_ATTR_CSUM_WORKERS] = { .type = NLA_U32 },
};

static struct nla_policy entry_policy[VMFIT_CSUM_A_MAX + 1] = {
	[VMFIT_CSUM_A_CHUNK] = { .type = NLA_U64 },
	[VMFIT_CSUM_A_DIGEST] = { .type = NLA_UNSPEC },
};

static int parse_msg(struct nl_msg *msg, struct nlattr **tb)
{
	int r = genlmsg_parse(nlmsg_hdr(msg), 0, tb, VMFIT_ATTR_MAX,
			      reply_policy);

	return r ? -EPROTO : 0;
}

static uint32_t get_u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static uint64_t get_u64(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u64(tb[a]) : 0;
}

/* Device identity, present in every reply and event. */
static int parse_dev(struct nlattr **tb, uint32_t *major, uint32_t *minor,
		     char *name)
{
	if (!tb[VMFIT_ATTR_DEV_MAJOR] || !tb[VMFIT_ATTR_DEV_MINOR] ||
	    !tb[VMFIT_ATTR_DEV_NAME])
		return -EPROTO;
	*major = nla_get_u32(tb[VMFIT_ATTR_DEV_MAJOR]);
	*minor = nla_get_u32(tb[VMFIT_ATTR_DEV_MINOR]);
	/* NLA_STRING does not promise a NUL: copy with nla_strlcpy. */
	nla_strlcpy(name, tb[VMFIT_ATTR_DEV_NAME], VMFIT_NAME_MAX + 1);
	return 0;
}

int vf_nl_parse_status(struct nl_msg *msg, struct vf_nl_status *st)
{
	struct nlattr *tb[VMFIT_ATTR_MAX + 1];
	static const int need[] = {
		VMFIT_ATTR_MODE, VMFIT_ATTR_EPOCH, VMFIT_ATTR_CHUNK_SECTORS,
		VMFIT_ATTR_ORIGIN_CHUNKS, VMFIT_ATTR_VIEW, VMFIT_ATTR_HEALTH,
	};
	unsigned int i;
	int r;

	memset(st, 0, sizeof(*st));
	r = parse_msg(msg, tb);
	if (r)
		return r;
	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != VMFIT_CMD_GET_STATUS)
		return -EPROTO;
	r = parse_dev(tb, &st->major, &st->minor, st->name);
	if (r)
		return r;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!tb[need[i]])
			return -EPROTO;
	st->mode = get_u32(tb, VMFIT_ATTR_MODE);
	st->view = get_u32(tb, VMFIT_ATTR_VIEW);
	st->health = get_u32(tb, VMFIT_ATTR_HEALTH);
	st->chunk_sectors = get_u32(tb, VMFIT_ATTR_CHUNK_SECTORS);
	st->csum_active = get_u32(tb, VMFIT_ATTR_CSUM_ACTIVE);
	st->epoch = get_u64(tb, VMFIT_ATTR_EPOCH);
	st->origin_chunks = get_u64(tb, VMFIT_ATTR_ORIGIN_CHUNKS);
	st->changed = get_u64(tb, VMFIT_ATTR_CHANGED);
	st->cow_used = get_u64(tb, VMFIT_ATTR_COW_USED);
	st->cow_total = get_u64(tb, VMFIT_ATTR_COW_TOTAL);
	st->held_ns = get_u64(tb, VMFIT_ATTR_HELD_NS);
	st->drain_ns = get_u64(tb, VMFIT_ATTR_DRAIN_NS);
	st->merged = get_u64(tb, VMFIT_ATTR_MERGED);
	st->to_merge = get_u64(tb, VMFIT_ATTR_TO_MERGE);
	st->csum_done = get_u64(tb, VMFIT_ATTR_CSUM_DONE);
	st->csum_total = get_u64(tb, VMFIT_ATTR_CSUM_TOTAL);
	return 0;
}

int vf_nl_parse_event(struct nl_msg *msg, struct vf_nl_event *ev)
{
	struct nlattr *tb[VMFIT_ATTR_MAX + 1];
	int r;

	memset(ev, 0, sizeof(*ev));
	r = parse_msg(msg, tb);
	if (r)
		return r;
	ev->cmd = genlmsg_hdr(nlmsg_hdr(msg))->cmd;
	if (!vf_nl_event_name(ev->cmd))
		return -EPROTO;
	r = parse_dev(tb, &ev->major, &ev->minor, ev->name);
	if (r)
		return r;
	if (tb[VMFIT_ATTR_EPOCH]) {
		ev->present |= VF_NL_EV_EPOCH;
		ev->epoch = get_u64(tb, VMFIT_ATTR_EPOCH);
	}
	if (tb[VMFIT_ATTR_HELD_NS]) {
		ev->present |= VF_NL_EV_HELD;
		ev->held_ns = get_u64(tb, VMFIT_ATTR_HELD_NS);
	}
	if (tb[VMFIT_ATTR_DRAIN_NS]) {
		ev->present |= VF_NL_EV_DRAIN;
		ev->drain_ns = get_u64(tb, VMFIT_ATTR_DRAIN_NS);
	}
	if (tb[VMFIT_ATTR_CSUM_DONE] && tb[VMFIT_ATTR_CSUM_TOTAL]) {
		ev->present |= VF_NL_EV_CSUM;
		ev->csum_done = get_u64(tb, VMFIT_ATTR_CSUM_DONE);
		ev->csum_total = get_u64(tb, VMFIT_ATTR_CSUM_TOTAL);
	}
	if (tb[VMFIT_ATTR_COW_USED] && tb[VMFIT_ATTR_COW_TOTAL]) {
		ev->present |= VF_NL_EV_COW;
		ev->cow_used = get_u64(tb, VMFIT_ATTR_COW_USED);
		ev->cow_total = get_u64(tb, VMFIT_ATTR_COW_TOTAL);
	}
	if (tb[VMFIT_ATTR_HEALTH]) {
		ev->present |= VF_NL_EV_HEALTH;
		ev->health = get_u32(tb, VMFIT_ATTR_HEALTH);
	}
	if (tb[VMFIT_ATTR_ERROR]) {
		ev->present |= VF_NL_EV_ERROR;
		ev->error = get_u32(tb, VMFIT_ATTR_ERROR);
	}
	return 0;
}

int vf_nl_parse_csum(struct nl_msg *msg, vf_nl_digest_fn fn, void *arg,
		     struct vf_nl_csum_info *info)
{
	struct nlattr *tb[VMFIT_ATTR_MAX + 1];
	struct nlattr *et[VMFIT_CSUM_A_MAX + 1];
	struct nlattr *pos;
	unsigned int size;
	uint64_t chunk;
	int n = 0;
	int rem;
	int r;

	r = parse_msg(msg, tb);
	if (r)
		return r;
	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != VMFIT_CMD_CHECKSUM ||
	    !tb[VMFIT_ATTR_DIGEST_SIZE] || !tb[VMFIT_ATTR_CSUM_ENTRIES])
		return -EPROTO;
	size = nla_get_u32(tb[VMFIT_ATTR_DIGEST_SIZE]);
	if (!size || size > VMFIT_DIGEST_MAX)
		return -EPROTO;
	if (info->digest_size && info->digest_size != size)
		return -EPROTO;
	info->digest_size = size;
	if (tb[VMFIT_ATTR_CSUM_TOTAL])
		info->total = nla_get_u64(tb[VMFIT_ATTR_CSUM_TOTAL]);
	if (tb[VMFIT_ATTR_CSUM_WORKERS])
		info->workers = nla_get_u32(tb[VMFIT_ATTR_CSUM_WORKERS]);

	nla_for_each_nested(pos, tb[VMFIT_ATTR_CSUM_ENTRIES], rem) {
		if (nla_type(pos) != VMFIT_ATTR_CSUM_ENTRY)
			return -EPROTO;
		if (nla_parse_nested(et, VMFIT_CSUM_A_MAX, pos, entry_policy))
			return -EPROTO;
		if (!et[VMFIT_CSUM_A_CHUNK] || !et[VMFIT_CSUM_A_DIGEST] ||
		    nla_len(et[VMFIT_CSUM_A_DIGEST]) != (int)size)
			return -EPROTO;
		chunk = nla_get_u64(et[VMFIT_CSUM_A_CHUNK]);
		if (info->have_last && chunk <= info->last_chunk)
			return -EPROTO;
		info->have_last = true;
		info->last_chunk = chunk;
		r = fn(chunk, nla_data(et[VMFIT_CSUM_A_DIGEST]), size, arg);
		if (r)
			return r < 0 ? r : -ECANCELED;
		n++;
	}
	return n;
}

int vf_nl_parse_extack(const void *p, char *buf, size_t size)
{
	const struct nlmsghdr *nlh = p;
	const struct nlattr *a;
	size_t off;
	int len;

	buf[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		off = sizeof(int);
	} else {
		return 0;
	}
	off = NLMSG_ALIGN(off);
	if (NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return -EPROTO;
	len = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	for (a = (const struct nlattr *)((const char *)NLMSG_DATA(nlh) + off);
	     len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			size_t n = a->nla_len - sizeof(*a);

			if (n >= size)
				n = size - 1;
			memcpy(buf, (const char *)a + sizeof(*a), n);
			buf[n] = '\0';
			/* The kernel's string includes the NUL. */
			return 0;
		}
	}
	return 0;
}

/*----------------------------------------------------------------*/
/* Transactions */

struct txn {
	struct vf_nl *nl;
	int (*valid)(struct nl_msg *msg, void *arg);
	void *arg;
	int err;		/* -errno from the kernel or a callback */
	bool done;
};

static int txn_valid(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	int r;

	if (!t->valid || t->err)
		return NL_SKIP;
	r = t->valid(msg, t->arg);
	if (r < 0) {
		t->err = r;
		t->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

static int txn_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct txn *t = arg;
	const struct nlmsghdr *nlh = (const void *)((const char *)e -
						    NLMSG_HDRLEN);

	t->err = e->error ? e->error : -EIO;
	vf_nl_parse_extack(nlh, t->nl->errmsg, sizeof(t->nl->errmsg));
	t->done = true;
	return NL_STOP;
}

static int txn_ack(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;

	t->done = true;
	return NL_STOP;
}

static int txn_finish(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err = 0;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
		memcpy(&err, NLMSG_DATA(nlh), sizeof(int));
	if (err < 0 && !t->err) {
		t->err = err;
		vf_nl_parse_extack(nlh, t->nl->errmsg, sizeof(t->nl->errmsg));
	}
	t->done = true;
	return NL_STOP;
}

/* Send @msg (consumed) on @sk and read until the ack, error or done. */
static int txn_run(struct vf_nl *nl, struct nl_sock *sk, struct nl_msg *msg,
		   int (*valid)(struct nl_msg *msg, void *arg), void *arg)
{
	struct txn t = { .nl = nl, .valid = valid, .arg = arg };
	struct nl_cb *cb;
	int r;

	nl->errmsg[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, txn_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, txn_ack, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, txn_finish, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, txn_error, &t);

	r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		nl_cb_put(cb);
		return nle_to_errno(r);
	}
	while (!t.done) {
		r = nl_recvmsgs(sk, cb);
		if (r < 0 && !t.done) {
			t.err = nle_to_errno(r);
			break;
		}
	}
	nl_cb_put(cb);
	if (t.err && !nl->errmsg[0] && t.err == -EPERM)
		set_msg(nl, "%s", "needs CAP_SYS_ADMIN (run as root)");
	return t.err;
}

static int new_msg(struct vf_nl *nl, int cmd, int flags, struct nl_msg **out)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, VMFIT_GENL_VERSION)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

static int connect_sock(struct vf_nl *nl, struct nl_sock **out)
{
	struct nl_sock *sk;
	int one = 1;
	int r;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = genl_connect(sk);
	if (r) {
		nl_socket_free(sk);
		return nle_to_errno(r);
	}
	/* Best effort: older kernels lack these and still work. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	nl_socket_enable_msg_peek(sk);
	*out = sk;
	return 0;
}

int vf_nl_open(struct vf_nl **out)
{
	struct vf_nl *nl;
	int r;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	*out = nl;
	r = connect_sock(nl, &nl->sk);
	if (r) {
		set_msg(nl, "%s", "cannot open a generic netlink socket");
		return r;
	}
	nl->family = genl_ctrl_resolve(nl->sk, VMFIT_GENL_FAMILY_NAME);
	if (nl->family < 0) {
		r = nle_to_errno(nl->family);
		if (r == -ENOENT)
			set_msg(nl, "generic netlink family '%s' not found: "
				"is dm-vmfit loaded?", VMFIT_GENL_FAMILY_NAME);
		return r;
	}
	return 0;
}

void vf_nl_close(struct vf_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	if (nl->ev)
		nl_socket_free(nl->ev);
	free(nl);
}

const char *vf_nl_errmsg(const struct vf_nl *nl)
{
	return nl ? nl->errmsg : "";
}

/*----------------------------------------------------------------*/
/* Commands */

static int status_one(struct nl_msg *msg, void *arg)
{
	return vf_nl_parse_status(msg, arg);
}

int vf_nl_status(struct vf_nl *nl, const struct vf_nl_dev *dev,
		 struct vf_nl_status *st)
{
	struct nl_msg *msg;
	int r;

	r = new_msg(nl, VMFIT_CMD_GET_STATUS, NLM_F_ACK, &msg);
	if (r)
		return r;
	r = vf_nl_put_dev(msg, dev);
	if (r) {
		nlmsg_free(msg);
		return r;
	}
	memset(st, 0, sizeof(*st));
	return txn_run(nl, nl->sk, msg, status_one, st);
}

struct status_walk {
	int (*fn)(const struct vf_nl_status *st, void *arg);
	void *arg;
	int count;
};

static int status_each(struct nl_msg *msg, void *arg)
{
	struct status_walk *w = arg;
	struct vf_nl_status st;
	int r;

	r = vf_nl_parse_status(msg, &st);
	if (r)
		return r;
	w->count++;
	return w->fn(&st, w->arg);
}

int vf_nl_status_all(struct vf_nl *nl,
		     int (*fn)(const struct vf_nl_status *st, void *arg),
		     void *arg)
{
	struct status_walk w = { .fn = fn, .arg = arg };
	struct nl_msg *msg;
	int r;

	r = new_msg(nl, VMFIT_CMD_GET_STATUS, NLM_F_DUMP, &msg);
	if (r)
		return r;
	r = txn_run(nl, nl->sk, msg, status_each, &w);
	return r ? r : w.count;
}

int vf_nl_control(struct vf_nl *nl, const struct vf_nl_dev *dev, int cmd)
{
	struct nl_msg *msg;
	int r;

	switch (cmd) {
	case VMFIT_CMD_SNAPSHOT:
	case VMFIT_CMD_MERGE:
	case VMFIT_CMD_DROP:
	case VMFIT_CMD_CLEAR:
	case VMFIT_CMD_CHECKSUM_CANCEL:
		break;
	default:
		return -EINVAL;
	}
	r = new_msg(nl, cmd, NLM_F_ACK, &msg);
	if (r)
		return r;
	r = vf_nl_put_dev(msg, dev);
	if (r) {
		nlmsg_free(msg);
		return r;
	}
	return txn_run(nl, nl->sk, msg, NULL, NULL);
}

struct csum_walk {
	vf_nl_digest_fn fn;
	void *arg;
	struct vf_nl_csum_info info;
	long count;
};

static int csum_each(struct nl_msg *msg, void *arg)
{
	struct csum_walk *w = arg;
	int r;

	r = vf_nl_parse_csum(msg, w->fn, w->arg, &w->info);
	if (r < 0)
		return r;
	w->count += r;
	return 0;
}

long vf_nl_checksum(struct vf_nl *nl, const struct vf_nl_dev *dev,
		    const struct vf_nl_csum_req *req, vf_nl_digest_fn fn,
		    void *arg, struct vf_nl_csum_info *info)
{
	struct csum_walk w = { .fn = fn, .arg = arg };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int r;

	r = connect_sock(nl, &sk);
	if (r)
		return r;
	r = new_msg(nl, VMFIT_CMD_CHECKSUM, NLM_F_DUMP, &msg);
	if (r)
		goto out;
	r = vf_nl_put_dev(msg, dev);
	if (!r)
		r = vf_nl_put_csum_req(msg, req);
	if (r) {
		nlmsg_free(msg);
		goto out;
	}
	r = txn_run(nl, sk, msg, csum_each, &w);
	if (!r && w.info.total != (uint64_t)w.count) {
		set_msg(nl, "%s", "the kernel ended the checksum early");
		r = -EPROTO;
	}
out:
	/* Closing the socket ends an abandoned dump in the kernel. */
	nl_socket_free(sk);
	if (info)
		*info = w.info;
	return r ? r : w.count;
}

/*----------------------------------------------------------------*/
/* Events */

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct vf_nl *nl = arg;

	if (!nl->pending || nl->got_event)
		return NL_SKIP;
	if (vf_nl_parse_event(msg, nl->pending))
		return NL_SKIP;	/* not ours to interpret: ignore */
	nl->got_event = true;
	return NL_OK;
}

int vf_nl_subscribe(struct vf_nl *nl)
{
	int grp;
	int r;

	if (nl->ev)
		return 0;
	r = connect_sock(nl, &nl->ev);
	if (r)
		return r;
	nl_socket_disable_seq_check(nl->ev);
	nl_socket_modify_cb(nl->ev, NL_CB_VALID, NL_CB_CUSTOM, event_cb, nl);
	grp = genl_ctrl_resolve_grp(nl->sk, VMFIT_GENL_FAMILY_NAME,
				    VMFIT_GENL_MCAST_GROUP_NAME);
	if (grp < 0) {
		set_msg(nl, "multicast group '%s' not found: is dm-vmfit "
			"loaded?", VMFIT_GENL_MCAST_GROUP_NAME);
		r = nle_to_errno(grp);
		goto bad;
	}
	r = nle_to_errno(nl_socket_add_membership(nl->ev, grp));
	if (r == -EPERM)
		set_msg(nl, "%s", "joining the events group needs "
			"CAP_SYS_ADMIN (run as root)");
	if (r)
		goto bad;
	r = nle_to_errno(nl_socket_set_nonblocking(nl->ev));
	if (r)
		goto bad;
	return 0;
bad:
	nl_socket_free(nl->ev);
	nl->ev = NULL;
	return r;
}

int vf_nl_event_fd(const struct vf_nl *nl)
{
	return nl->ev ? nl_socket_get_fd(nl->ev) : -1;
}

int vf_nl_next_event(struct vf_nl *nl, struct vf_nl_event *ev,
		     int timeout_ms)
{
	struct pollfd pfd;
	int r;

	if (!nl->ev)
		return -EINVAL;
	nl->pending = ev;
	nl->got_event = false;
	while (!nl->got_event) {
		r = nl_recvmsgs_default(nl->ev);
		if (nl->got_event)
			break;
		if (r < 0 && r != -NLE_AGAIN) {
			r = nle_to_errno(r);
			nl->pending = NULL;
			return r;
		}
		if (r == -NLE_AGAIN) {
			pfd.fd = nl_socket_get_fd(nl->ev);
			pfd.events = POLLIN;
			r = poll(&pfd, 1, timeout_ms);
			if (r < 0 && errno == EINTR) {
				nl->pending = NULL;
				return -EINTR;
			}
			if (r == 0) {
				nl->pending = NULL;
				return -ETIMEDOUT;
			}
		}
	}
	nl->pending = NULL;
	return 0;
}
