/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_vchan.h - the replica channel over a Xen vchan (--vchan), for a kv
 * replica running in a Xen domain (Documentation/xen-backend.rst).
 */
#ifndef KV_VCHAN_H
#define KV_VCHAN_H

struct kv_vchan;

/*
 * Connect to the vchan that dom0 (the server, domain 0) set up at
 * xenstore @path and start relaying it to a socketpair; returns the
 * replica's end of the socketpair (>= 0) or -errno, and the relay in
 * @out. Closing the returned fd ends the relay; kv_vchan_close() then
 * waits for it and closes the vchan.
 */
int kv_vchan_open(const char *path, struct kv_vchan **out);
void kv_vchan_close(struct kv_vchan *kc);

#endif /* KV_VCHAN_H */
