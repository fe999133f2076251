// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_ctlsock - client of vmfitd's control socket and status file. See
 * vf_ctlsock.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vf_ctlsock.h"
#include "vf_jflat.h"
#include "vf_proto.h"

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int vf_ctlsock_request(const char *path, const char *cmd,
		       unsigned int timeout_ms, char *ans, size_t anslen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[512], out[256];
	struct timespec t0;
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	long left;
	int fd, r;

	snprintf(ans, anslen, "connect");
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if (snprintf(out, sizeof(out), "%s\n", cmd) >= (int)sizeof(out))
		return -E2BIG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		goto out;
	}
	snprintf(ans, anslen, "write");
	r = vf_write_all(fd, out, strlen(out));
	if (r)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = (long)timeout_ms - elapsed_ms(&t0);
		if (left <= 0) {
			snprintf(ans, anslen, "no answer in %u ms",
				 timeout_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)left);
		if (r <= 0)
			continue;
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (memchr(line, '\n', len) || len == sizeof(line) - 1)
			break;
	}
	line[len] = '\0';
	if (!strchr(line, '\n')) {
		snprintf(ans, anslen, "the daemon closed without a complete answer");
		r = -EPIPE;
		goto out;
	}
	*strchr(line, '\n') = '\0';
	if (!strncmp(line, "ok ", 3)) {
		snprintf(ans, anslen, "%s", line + 3);
		r = 0;
	} else {
		snprintf(ans, anslen, "%s", line);
		r = -EPROTO;
	}
out:
	close(fd);
	return r;
}

bool vf_status_field(const char *s, const char *key, char *out, size_t len)
{
	const struct vf_jflat_field *f;
	char err[160];
	struct vf_jflat *j;
	bool found = false;

	j = malloc(sizeof(*j));
	if (!j)
		return false;
	if (!vf_jflat_parse(j, s, strlen(s), err, sizeof(err))) {
		f = vf_jflat_get(j, key);
		if (f && len) {
			snprintf(out, len, "%s", f->val);
			found = true;
		}
	}
	free(j);
	return found;
}

int vf_status_read(const char *path, struct vf_jflat *j, char *text,
		   size_t size, char *err, size_t errlen)
{
	char why[192];
	size_t n;
	FILE *fp;
	int r;

	fp = fopen(path, "r");
	if (!fp) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	n = fread(text, 1, size - 1, fp);
	r = ferror(fp) ? -EIO : 0;
	if (!r && n == size - 1 && fgetc(fp) != EOF)
		r = -EFBIG;
	fclose(fp);
	if (r) {
		snprintf(err, errlen, "%s: %s", path,
			 r == -EFBIG ? "larger than a status file can be" :
			 strerror(-r));
		return -EINVAL;
	}
	text[n] = '\0';
	if (!n) {
		snprintf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	if (vf_jflat_parse(j, text, n, why, sizeof(why))) {
		snprintf(err, errlen, "%s: not a valid status file: %s", path,
			 why);
		return -EINVAL;
	}
	return 0;
}

int vf_ctlsock_follow_round(const char *status, const char *round,
			    unsigned int timeout_ms, FILE *out)
{
	static const char *const show[] = {
		"rcv_phase", "rcv_hashed", "rcv_verified", "rcv_repaired",
		"rcv_copied", "rcv_bytes_copied", "rcv_bytes_fetched",
	};
	char buf[8192], v[64], line[512], last[512] = "";
	struct timespec t0, ts = { 0, 200000000L };
	size_t i, n, len;
	FILE *fp;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed_ms(&t0) < (long)timeout_ms) {
		nanosleep(&ts, NULL);
		fp = fopen(status, "r");
		if (!fp)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		len = 0;
		line[0] = '\0';
		for (i = 0; i < sizeof(show) / sizeof(show[0]); i++)
			if (vf_status_field(buf, show[i], v, sizeof(v)) &&
			    len < sizeof(line))
				len += snprintf(line + len, sizeof(line) - len,
						"%s%s=%s", i ? " " : "",
						show[i] + 4, v);
		if (strcmp(line, last)) {
			fprintf(out, "%s\n", line);
			fflush(out);
			strcpy(last, line);
		}
		if (!vf_status_field(buf, "rcv_last_round", v, sizeof(v)) ||
		    strcmp(v, round))
			continue;
		vf_status_field(buf, "rcv_last_result", v, sizeof(v));
		if (!strcmp(v, "done")) {
			fprintf(out, "done\n");
			return 0;
		}
		vf_status_field(buf, "rcv_last_abort", line, sizeof(line));
		fprintf(out, "aborted: %s\n", line);
		return 1;
	}
	return -ETIMEDOUT;
}
