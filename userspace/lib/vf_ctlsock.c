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

/* Connect to @path and send @cmd and a newline; the fd in *@fdp. */
static int ctl_open(const char *path, const char *cmd, char *ans,
		    size_t anslen, int *fdp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char out[256];
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
		close(fd);
		return r;
	}
	snprintf(ans, anslen, "write");
	r = vf_write_all(fd, out, strlen(out));
	if (r) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/*
 * The next line from the daemon (without its newline) into @line: 0;
 * -ETIMEDOUT when none is complete within @timeout_ms; -EPIPE when the
 * daemon closed (or sent a line longer than the buffer); -EINTR.
 */
static int read_line(struct vf_ctlsub *s, char *line, size_t len,
		     long timeout_ms)
{
	struct timespec t0;
	struct pollfd pfd;
	char *nl;
	ssize_t n;
	long left;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(nl = memchr(s->buf, '\n', s->len))) {
		if (s->len == sizeof(s->buf))
			return -EPIPE;
		left = timeout_ms - elapsed_ms(&t0);
		if (left <= 0)
			return -ETIMEDOUT;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			return -EINTR;
		if (r <= 0)
			continue;
		n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n < 0 && errno == EINTR)
			return -EINTR;
		if (n <= 0)
			return -EPIPE;
		s->len += n;
	}
	*nl = '\0';
	snprintf(line, len, "%s", s->buf);
	s->len -= nl + 1 - s->buf;
	memmove(s->buf, nl + 1, s->len);
	return 0;
}

int vf_ctlsock_request(const char *path, const char *cmd,
		       unsigned int timeout_ms, char *ans, size_t anslen)
{
	struct vf_ctlsub s = { .fd = -1 };
	char line[512];
	int r;

	r = ctl_open(path, cmd, ans, anslen, &s.fd);
	if (r)
		return r;
	r = read_line(&s, line, sizeof(line), timeout_ms);
	close(s.fd);
	if (r == -ETIMEDOUT) {
		snprintf(ans, anslen, "no answer in %u ms", timeout_ms);
		return r;
	}
	if (r) {
		snprintf(ans, anslen, "the daemon closed without a complete answer");
		return -EPIPE;
	}
	if (!strncmp(line, "ok ", 3)) {
		snprintf(ans, anslen, "%s", line + 3);
		return 0;
	}
	snprintf(ans, anslen, "%s", line);
	return -EPROTO;
}

int vf_ctlsub_open(struct vf_ctlsub *s, const char *path,
		   unsigned int timeout_ms, char *ans, size_t anslen)
{
	char line[512];
	int r;

	s->fd = -1;
	s->len = 0;
	r = ctl_open(path, "events", ans, anslen, &s->fd);
	if (r)
		return r;
	r = read_line(s, line, sizeof(line), timeout_ms);
	if (r == -ETIMEDOUT)
		snprintf(ans, anslen, "no answer in %u ms", timeout_ms);
	else if (r)
		snprintf(ans, anslen, "the daemon closed without a complete answer");
	else if (strcmp(line, "ok events")) {
		snprintf(ans, anslen, "%s", line);
		r = -EPROTO;
	}
	if (r)
		vf_ctlsub_close(s);
	return r;
}

int vf_ctlsub_next(struct vf_ctlsub *s, char *line, size_t len,
		   unsigned int timeout_ms)
{
	return read_line(s, line, len, timeout_ms);
}

/*
 * The value of " key=" in an event line into @out (up to the next blank;
 * "text", the last field, to the end of the line): false if absent.
 */
static bool ev_field(const char *line, const char *key, char *out,
		     size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	n = strcmp(key, "text") ? strcspn(p, " ") : strlen(p);
	snprintf(out, len, "%.*s", (int)n, p);
	return true;
}

int vf_ctlsub_follow_round(struct vf_ctlsub *s, const char *round,
			   unsigned int timeout_ms, FILE *out)
{
	static const char *const show[] = {
		"phase", "hashed", "verified", "repaired", "copied",
		"bytes_copied", "bytes_fetched",
	};
	char line[1024], v[64], reason[32], text[512];
	struct timespec t0;
	long left;
	size_t i;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = (long)timeout_ms - elapsed_ms(&t0);
		if (left <= 0)
			return -ETIMEDOUT;
		r = vf_ctlsub_next(s, line, sizeof(line), left);
		if (r == -EINTR)
			continue;
		if (r)
			return r;
		if (!ev_field(line, "round", v, sizeof(v)) || strcmp(v, round))
			continue;
		if (!strncmp(line, "rcv-phase ", 10)) {
			for (i = 0; i < sizeof(show) / sizeof(show[0]); i++)
				fprintf(out, "%s%s=%s", i ? " " : "", show[i],
					ev_field(line, show[i], v, sizeof(v)) ?
					v : "0");
			fputc('\n', out);
			fflush(out);
		} else if (!strncmp(line, "rcv-done ", 9)) {
			fprintf(out, "done\n");
			return 0;
		} else if (!strncmp(line, "rcv-aborted ", 12)) {
			if (!ev_field(line, "reason", reason, sizeof(reason)))
				strcpy(reason, "?");
			if (!ev_field(line, "text", text, sizeof(text)))
				text[0] = '\0';
			fprintf(out, "aborted: %s: %s\n", reason, text);
			return 1;
		}
	}
}

void vf_ctlsub_close(struct vf_ctlsub *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
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
