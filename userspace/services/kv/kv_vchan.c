// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_vchan.c - the replica channel over a Xen vchan.
 *
 * The replica's frame code works on a blocking stream fd. Here that fd is
 * one end of a socketpair; a thread relays the other end to the vchan
 * (vf_vchan.c), so the serving loop is the same for every transport.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libxenvchan.h>

#include "vf_log.h"
#include "vf_vchan.h"

#include "kv_vchan.h"

/* The manager's vchan is served from dom0. */
#define KV_VCHAN_SERVER_DOMID	0

struct kv_vchan {
	struct libxenvchan *vc;
	struct vf_vchan_relay rl;
	int fd;			/* relay's end of the socketpair */
	pthread_t thread;
};

static void *kv_vchan_thread(void *arg)
{
	struct kv_vchan *kc = arg;
	int r = vf_vchan_relay_run(&kc->rl, -1);

	if (r)
		vf_err("vchan relay: %s", strerror(-r));
	/* Tell the serving loop: EOF on its end. */
	shutdown(kc->fd, SHUT_RDWR);
	return NULL;
}

int kv_vchan_open(const char *path, struct kv_vchan **out)
{
	struct kv_vchan *kc;
	int sv[2], r;

	kc = calloc(1, sizeof(*kc));
	if (!kc)
		return -ENOMEM;
	kc->vc = libxenvchan_client_init(NULL, KV_VCHAN_SERVER_DOMID, path);
	if (!kc->vc) {
		r = errno ? -errno : -ENOENT;
		goto out_free;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		goto out_close_vc;
	}
	kc->fd = sv[1];
	r = vf_vchan_relay_init(&kc->rl, kc->vc, kc->fd);
	if (r)
		goto out_close_sv;
	r = -pthread_create(&kc->thread, NULL, kv_vchan_thread, kc);
	if (r)
		goto out_free_relay;
	*out = kc;
	return sv[0];

out_free_relay:
	vf_vchan_relay_free(&kc->rl);
out_close_sv:
	close(sv[0]);
	close(sv[1]);
out_close_vc:
	libxenvchan_close(kc->vc);
out_free:
	free(kc);
	return r;
}

void kv_vchan_close(struct kv_vchan *kc)
{
	if (!kc)
		return;
	pthread_join(kc->thread, NULL);
	vf_vchan_relay_free(&kc->rl);
	close(kc->fd);
	libxenvchan_close(kc->vc);
	free(kc);
}
