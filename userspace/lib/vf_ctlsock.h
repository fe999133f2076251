/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_ctlsock - the client side of vmfitd's control socket (vmfitd(8)
 * "Control socket": one command line, one answer line) and of its status
 * file, shared by `vmfitd --checkpoint/--recover` and `vmfit-ctl
 * recover`. Nothing here exits; printing goes to the FILE given.
 */
#ifndef VF_CTLSOCK_H
#define VF_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Send @cmd (one line, "\n" added) to the socket at @path and wait up to
 * @timeout_ms for the answer. 0 and the text after "ok " in @ans; -EPROTO
 * and the whole answer ("err ...", "fail ...") in @ans; -ETIMEDOUT; -EPIPE
 * (closed without a complete line); -errno of connect/write (@ans then
 * says which step failed).
 */
int vf_ctlsock_request(const char *path, const char *cmd,
		       unsigned int timeout_ms, char *ans, size_t anslen);

/*
 * A subscription to vmfitd's events (control socket command "events";
 * vmfitd(8) "Control socket"): one line per event.
 */
struct vf_ctlsub {
	int fd;
	size_t len;		/* bytes in buf */
	char buf[1024];		/* longer than any event line */
};

/*
 * Connect to the socket at @path and subscribe, waiting up to @timeout_ms
 * for the daemon's "ok events". 0; otherwise as vf_ctlsock_request() (and
 * nothing to close).
 */
int vf_ctlsub_open(struct vf_ctlsub *s, const char *path,
		   unsigned int timeout_ms, char *ans, size_t anslen);

/*
 * The next event line (without its newline, cut to @len - 1) into @line:
 * 0; -ETIMEDOUT when none came within @timeout_ms; -EPIPE when the daemon
 * closed the subscription (it stopped, or dropped a subscriber that did
 * not read); -EINTR (a signal).
 */
int vf_ctlsub_next(struct vf_ctlsub *s, char *line, size_t len,
		   unsigned int timeout_ms);
void vf_ctlsub_close(struct vf_ctlsub *s);

/*
 * Follow recovery round @round (16 hex digits) through the subscription
 * @s (opened before the round was triggered, so that none of its events
 * is missed) until it is over here or @timeout_ms pass: the same lines
 * on @out as vf_ctlsock_follow_round(), one per phase the round entered,
 * then "done" or "aborted: <reason>: <text>". 0 done, 1 aborted,
 * -ETIMEDOUT, -EPIPE (vmfitd closed the subscription).
 */
int vf_ctlsub_follow_round(struct vf_ctlsub *s, const char *round,
			   unsigned int timeout_ms, FILE *out);

struct vf_jflat;

/* Buffer for a whole status file (vmfitd writes ~3 KiB); larger is refused. */
#define VF_STATUS_MAX	16384

/*
 * The value of "key" in a status file's JSON text @s (NUL-terminated),
 * into @out: false if @s is not a valid status document or has no @key.
 */
bool vf_status_field(const char *s, const char *key, char *out, size_t len);

/*
 * Read and validate the status file @path: its text into @text (@size
 * bytes at most, NUL-terminated), its members into @j. 0; -errno of open
 * (-ENOENT: no status file, so no vmfitd writing it); -EINVAL with what is
 * wrong in @err (too big, empty, truncated, not JSON: vf_jflat_parse).
 */
int vf_status_read(const char *path, struct vf_jflat *j, char *text,
		   size_t size, char *err, size_t errlen);

/*
 * Follow recovery round @round (16 hex digits) in the status file @status
 * until it is over or @timeout_ms pass: a line of progress on @out each
 * time it changes, then "done" or "aborted: <reason>". 0 done, 1 aborted,
 * -ETIMEDOUT.
 */
int vf_ctlsock_follow_round(const char *status, const char *round,
			    unsigned int timeout_ms, FILE *out);

#endif /* VF_CTLSOCK_H */
