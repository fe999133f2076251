// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-inject - join a manager group as a process that is not a manager
 * and multicast one forged group message (Documentation/protocol.rst
 * "Manager group messages"), built with the managers' own codec (gmsg.h).
 *
 * It is what a compromised process on a corosync node could send: the
 * test (tests/cluster/forged-votes.sh) checks that the managers reject and
 * log it and carry on. It waits until corosync has delivered the message
 * back to it (so the managers have it too), then leaves the group.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "gmsg.h"

#define PROG "vmfit-inject"

static bool delivered;
static uint32_t my_node, my_pid;

static void deliver_cb(cpg_handle_t h, const struct cpg_name *name,
		       uint32_t nodeid, uint32_t pid, void *msg, size_t len)
{
	if (nodeid == my_node && pid == my_pid)
		delivered = true;
}

static void confchg_cb(cpg_handle_t h, const struct cpg_name *name,
		       const struct cpg_address *members, size_t nmembers,
		       const struct cpg_address *left, size_t nleft,
		       const struct cpg_address *joined, size_t njoined)
{
}

static cpg_model_v1_data_t model = {
	.model = CPG_MODEL_V1,
	.cpg_deliver_fn = deliver_cb,
	.cpg_confchg_fn = confchg_cb,
};

static const char usage_text[] =
"Usage: vmfit-inject --group NAME --type votes|requests|checkpoint\n"
"                    [--order N] [--last-order N] [--timeout MS]\n"
"\n"
"Join the corosync CPG group NAME and multicast one manager group message:\n"
"  votes       one VOTES entry for order N (default 2^64-1), 8 bytes\n"
"  requests    one REQUESTS entry (a random client, seq 1, a 4-byte op)\n"
"  checkpoint  one CHECKPOINT\n"
"with header last_order --last-order (default 0). Exits 0 once corosync\n"
"delivered the message back, 1 on failure or after --timeout MS\n"
"(default 10000), 2 on bad usage.\n";

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int build(struct vf_wbuf *wb, const char *type, uint64_t order,
		 uint64_t last_order)
{
	static const uint8_t junk[8] = "forged!";
	struct vf_gvote v = { .order = order, .len = 8, .data = junk };
	struct vf_request rq = {
		.client_id = 0x464f524745440000ull | (uint64_t)getpid(),
		.seq = 1,
		.op_len = 4,
		.op = junk,
	};
	struct vf_gckpt ck = { .id = 0xf0f0f0f0ull };

	if (!strcmp(type, "votes")) {
		vf_gmsg_begin(wb, VF_G_VOTES, last_order);
		vf_gmsg_add_vote(wb, &v);
		return vf_gmsg_end(wb, 1);
	}
	if (!strcmp(type, "requests")) {
		vf_gmsg_begin(wb, VF_G_REQUESTS, last_order);
		vf_gmsg_add_request(wb, &rq);
		return vf_gmsg_end(wb, 1);
	}
	if (!strcmp(type, "checkpoint"))
		return vf_gmsg_checkpoint(wb, last_order, &ck);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "type", required_argument, NULL, 't' },
		{ "order", required_argument, NULL, 'o' },
		{ "last-order", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t order = UINT64_MAX, last_order = 0, timeout = 10000, end;
	const char *group = NULL, *type = NULL;
	struct cpg_name name;
	struct vf_wbuf wb;
	struct iovec iov;
	struct pollfd pfd;
	cpg_handle_t h;
	cs_error_t e;
	int o, fd, rc = 1;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
			group = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'o':
		case 'l':
		case 'T':
			if (parse_u64(optarg, o == 'o' ? &order :
					      o == 'l' ? &last_order : &timeout)) {
				fprintf(stderr, PROG ": '%s' is not a number\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (!group || !type || optind != argc || strlen(group) >= 128) {
		fputs(usage_text, stderr);
		return 2;
	}
	vf_wb_init(&wb, VF_GMSG_MAX);
	if (build(&wb, type, order, last_order)) {
		fprintf(stderr, PROG ": unknown --type '%s'\n", type);
		vf_wb_free(&wb);
		return 2;
	}
	memset(&name, 0, sizeof(name));
	name.length = strlen(group);
	memcpy(name.value, group, name.length);
	e = cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model,
				 NULL);
	if (e != CS_OK) {
		fprintf(stderr, PROG ": cpg_model_initialize: cs error %d (is corosync running?)\n",
			e);
		goto out_wb;
	}
	if (cpg_local_get(h, &my_node) != CS_OK ||
	    cpg_fd_get(h, &fd) != CS_OK) {
		fprintf(stderr, PROG ": cpg_local_get/cpg_fd_get failed\n");
		goto out_fini;
	}
	my_pid = getpid();
	end = now_ms() + timeout;
	while ((e = cpg_join(h, &name)) == CS_ERR_TRY_AGAIN && now_ms() < end)
		usleep(10000);
	if (e != CS_OK) {
		fprintf(stderr, PROG ": cpg_join %s: cs error %d\n", group, e);
		goto out_fini;
	}
	iov.iov_base = vf_wb_data(&wb);
	iov.iov_len = vf_wb_pending(&wb);
	while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) ==
	       CS_ERR_TRY_AGAIN && now_ms() < end)
		usleep(10000);
	if (e != CS_OK) {
		fprintf(stderr, PROG ": cpg_mcast_joined: cs error %d\n", e);
		goto out_leave;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!delivered && now_ms() < end) {
		if (poll(&pfd, 1, 100) > 0 &&
		    cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			break;
	}
	if (!delivered) {
		fprintf(stderr, PROG ": the message was not delivered in %" PRIu64 " ms\n",
			timeout);
		goto out_leave;
	}
	printf("injected %s order=%" PRIu64 " last_order=%" PRIu64
	       " into %s as node %u pid %u\n", type, order, last_order, group,
	       my_node, my_pid);
	rc = 0;
out_leave:
	cpg_leave(h, &name);
out_fini:
	cpg_finalize(h);
out_wb:
	vf_wb_free(&wb);
	return rc;
}
