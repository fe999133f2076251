// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - vmfitd's control socket (operator and test triggers) and the
 * `vmfitd --checkpoint` client that talks to it.
 *
 * A UNIX stream socket (control_socket, default /run/vmfit/<service>.ctl,
 * mode 0600). One command line per connection, one answer line, then the
 * daemon closes it:
 *
 *	checkpoint\n	-> ok order=<N> status=0 id=<16 hex>\n
 *			   fail order=<N> status=<errno> id=<16 hex> <text>\n
 *			   err <text>\n
 *	recover [full]\n -> ok round=<16 hex>\n (the round was multicast;
 *			   its progress is in the status file, rcv_*)
 *			   err <text>\n
 *	events\n	-> ok events\n, then one line per event (ctl_event())
 *			   until the client closes; the connection stays
 *			   open and holds one of the CTL_MAX slots
 *
 * "checkpoint" multicasts a CHECKPOINT group message; the answer comes
 * when the local replica has finished that checkpoint (or failed to). See
 * Documentation/vmfitd.8.rst "Ordered checkpoints".
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vf_ctlsock.h"
#include "vf_log.h"
#include "vmfitd.h"

static int ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Create the default directory; a configured path's must exist. */
static void ctl_mkdir(const char *path)
{
	if (!strncmp(path, VF_CONF_CONTROL_DIR "/",
		     sizeof(VF_CONF_CONTROL_DIR)) &&
	    !strchr(path + sizeof(VF_CONF_CONTROL_DIR), '/'))
		mkdir(VF_CONF_CONTROL_DIR, 0755);
}

int ctl_init(struct vmfitd *d)
{
	const char *path = d->conf.control_socket;
	struct sockaddr_un sun;
	mode_t mask;
	int fd, r;

	r = ctl_addr(path, &sun);
	if (r)
		goto fail;
	ctl_mkdir(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* A socket left by a dead daemon is replaced; a live one is not. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		vf_err("control socket %s: another vmfitd is listening on it",
		       path);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path);
	/*
	 * Created with its final mode 0600: a chmod() after bind() would
	 * leave a window in which anybody could connect. umask is
	 * process-wide, but nothing else runs meanwhile.
	 */
	mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(mask);
	if (!r && listen(fd, CTL_MAX) < 0)
		r = -errno;
	if (r) {
		close(fd);
		goto fail;
	}
	d->ctl_lfd = fd;
	vf_info("control socket %s", path);
	return 0;
fail:
	vf_err("control socket %s: %s", path, strerror(-r));
	return r;
}

static void ctl_close(struct ctl *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->ilen = 0;
	c->ckpt_id = 0;
	c->events = false;
}

void ctl_fini(struct vmfitd *d)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX; i++)
		ctl_close(&d->ctls[i]);
	if (d->ctl_lfd >= 0) {
		close(d->ctl_lfd);
		unlink(d->conf.control_socket);
		d->ctl_lfd = -1;
	}
}

/*
 * One line of the control protocol in @line: @fmt's text, cut to fit
 * @size, and a newline. Its length with the newline, or -1 when @fmt
 * cannot be formatted.
 */
static int ctl_vline(char *line, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int ctl_vline(char *line, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(line, size - 1, fmt, ap);

	if (n < 0)
		return -1;
	if ((size_t)n > size - 2)
		n = size - 2;
	line[n++] = '\n';
	return n;
}

/* Answer with one line and close: the answer is short, the socket new. */
static void ctl_answer(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctl_answer(struct ctl *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = ctl_vline(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Unformattable: an empty line, still the answer the client awaits. */
	if (n < 0)
		n = snprintf(line, sizeof(line), "\n");
	if (send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		vf_dbg("control client went away before its answer");
	ctl_close(c);
}

uint64_t random_id(void)
{
	uint64_t id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
			id = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	return id;
}

static void ctl_recover(struct vmfitd *d, struct ctl *c, bool full)
{
	uint64_t round;
	int r = rcv_trigger(d, full, &round);

	switch (r) {
	case 0:
		vf_info("control: recovery round %016" PRIx64 " requested%s",
			round, full ? " (full)" : "");
		ctl_answer(c, "ok round=%016" PRIx64, round);
		return;
	case -ENOTSUP:
		ctl_answer(c, "err recovery is not configured (state_volume_b)");
		return;
	case -EBUSY:
		ctl_answer(c, "err busy: a recovery round is running");
		return;
	case -ENOTCONN:
		ctl_answer(c, "err unavailable: this manager is not in the group or out of sync");
		return;
	}
	ctl_answer(c, "err cannot start a round: %s", strerror(-r));
}

/* Send all of @line or drop the subscriber: the loop never waits. */
static void ctl_send_event(struct ctl *c, const char *line, size_t n)
{
	if (send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
		return;
	vf_warn("control: events subscriber dropped: %s",
		errno == EAGAIN ? "it does not read its events" :
		strerror(errno));
	ctl_close(c);
}

void ctl_event(struct vmfitd *d, const char *fmt, ...)
{
	char line[CTL_EVENT_MAX];
	unsigned int i;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = ctl_vline(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (i = 0; i < CTL_MAX; i++)
		if (d->ctls[i].fd >= 0 && d->ctls[i].events)
			ctl_send_event(&d->ctls[i], line, n);
}

static void ctl_command(struct vmfitd *d, struct ctl *c, const char *cmd)
{
	uint64_t id;
	int r;

	if (!strcmp(cmd, "recover") || !strcmp(cmd, "recover full")) {
		ctl_recover(d, c, cmd[7] != '\0');
		return;
	}
	if (!strcmp(cmd, "events")) {
		c->events = true;
		c->ilen = 0;
		ctl_send_event(c, "ok events\n", 10);
		return;
	}
	if (strcmp(cmd, "checkpoint")) {
		ctl_answer(c, "err unknown command '%.64s' (commands: checkpoint, recover [full], events)",
			   cmd);
		return;
	}
	if (!vmfitd_available(d)) {
		ctl_answer(c, "err unavailable: this manager is not in the group or out of sync");
		return;
	}
	if (d->ckpt_len >= CKPT_MAX / 2) {
		ctl_answer(c, "err busy: %u checkpoints pending", d->ckpt_len);
		return;
	}
	id = random_id();
	/* Set before sending: --unreplicated delivers inside the send. */
	c->ckpt_id = id;
	c->deadline_ms = now_ms() + d->conf.checkpoint_timeout_ms + CTL_IDLE_MS;
	r = group_send_checkpoint(d, id);
	if (r) {
		c->ckpt_id = 0;
		ctl_answer(c, "err cannot multicast the checkpoint: %s",
			   r == -EBUSY ? "group send queue congested" :
			   strerror(-r));
		return;
	}
	vf_info("control: checkpoint %016" PRIx64 " requested", id);
}

static void ctl_input(struct vmfitd *d, struct ctl *c)
{
	char *nl;
	ssize_t n;

	n = recv(c->fd, c->in + c->ilen, sizeof(c->in) - 1 - c->ilen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone: a pending checkpoint still runs, unobserved. */
		ctl_close(c);
		return;
	}
	if (c->ckpt_id || c->events)
		return;		/* one command per connection */
	c->ilen += n;
	c->in[c->ilen] = '\0';
	nl = memchr(c->in, '\n', c->ilen);
	if (!nl) {
		if (c->ilen == sizeof(c->in) - 1)
			ctl_answer(c, "err command line too long");
		return;
	}
	*nl = '\0';
	if (strlen(c->in) != (size_t)(nl - c->in)) {
		ctl_answer(c, "err NUL byte in command line");
		return;
	}
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	ctl_command(d, c, c->in);
}

static void ctl_accept(struct vmfitd *d)
{
	unsigned int i;
	int fd;

	for (;;) {
		fd = accept4(d->ctl_lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < CTL_MAX; i++)
			if (d->ctls[i].fd < 0)
				break;
		if (i == CTL_MAX) {
			send(fd, "err too many control connections\n", 33,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		d->ctls[i].fd = fd;
		d->ctls[i].ilen = 0;
		d->ctls[i].ckpt_id = 0;
		d->ctls[i].events = false;
		d->ctls[i].deadline_ms = now_ms() + CTL_IDLE_MS;
	}
}

unsigned int ctl_poll_fds(struct vmfitd *d, struct pollfd *pfd)
{
	unsigned int i;

	pfd[0].fd = d->ctl_lfd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	for (i = 0; i < CTL_MAX; i++) {
		pfd[i + 1].fd = d->ctls[i].fd;
		pfd[i + 1].events = POLLIN;
		pfd[i + 1].revents = 0;
	}
	return CONTROL_POLL_FDS;
}

void ctl_events(struct vmfitd *d, const struct pollfd *pfd)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX; i++)
		if (d->ctls[i].fd >= 0 && d->ctls[i].fd == pfd[i + 1].fd &&
		    pfd[i + 1].revents)
			ctl_input(d, &d->ctls[i]);
	if (pfd[0].revents & POLLIN)
		ctl_accept(d);
}

void ctl_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	struct ctl *c;
	unsigned int i;

	for (i = 0; i < CTL_MAX; i++) {
		c = &d->ctls[i];
		if (c->fd < 0 || c->events)
			continue;
		if (now >= c->deadline_ms) {
			if (c->ckpt_id)
				ctl_answer(c, "err timeout: checkpoint %016" PRIx64 " not finished here",
					   c->ckpt_id);
			else
				ctl_answer(c, "err timeout: no command line");
			continue;
		}
		if (c->deadline_ms < *wake)
			*wake = c->deadline_ms;
	}
}

void ctl_checkpoint_done(struct vmfitd *d, uint32_t node, uint64_t id,
			 uint64_t order, uint32_t status)
{
	struct ctl *c;
	unsigned int i;

	if (node != d->nodeid)
		return;
	for (i = 0; i < CTL_MAX; i++) {
		c = &d->ctls[i];
		if (c->fd < 0 || c->ckpt_id != id)
			continue;
		if (status)
			ctl_answer(c, "fail order=%" PRIu64 " status=%u id=%016" PRIx64 " %s",
				   order, status, id, strerror(status));
		else
			ctl_answer(c, "ok order=%" PRIu64 " status=0 id=%016" PRIx64,
				   order, id);
	}
}

/*----------------------------------------------------------------*/
/* vmfitd --checkpoint, --recover: libvmfit's vf_ctlsock */

/* 0 and the "ok" text in @ans, or 1 (2: bad path) after printing why. */
static int ctl_client(const struct vf_conf *conf, const char *opt,
		      const char *cmd, unsigned int timeout_ms, char *ans,
		      size_t anslen)
{
	int r = vf_ctlsock_request(conf->control_socket, cmd, timeout_ms, ans,
				   anslen);

	if (!r)
		return 0;
	if (r == -EPROTO || r == -ETIMEDOUT || r == -EPIPE)
		fprintf(stderr, "vmfitd: %s: %s\n", opt, ans);
	else
		fprintf(stderr, "vmfitd: %s: %s: %s: %s (is vmfitd running with this configuration?)\n",
			opt, conf->control_socket, ans, strerror(-r));
	return r == -ENAMETOOLONG ? 2 : 1;
}

int ctl_client_checkpoint(const struct vf_conf *conf, unsigned int timeout_ms)
{
	char ans[512];
	int rc = ctl_client(conf, "--checkpoint", "checkpoint", timeout_ms,
			    ans, sizeof(ans));

	if (!rc)
		printf("%s\n", ans);
	return rc;
}

int ctl_client_recover(const struct vf_conf *conf, bool full, bool wait,
		       unsigned int timeout_ms)
{
	struct vf_ctlsub sub = { .fd = -1 };
	char ans[512], round[32];
	int rc;

	/* Events subscribed before the trigger; else the status file. */
	if (wait)
		vf_ctlsub_open(&sub, conf->control_socket, 5000, ans,
			       sizeof(ans));
	rc = ctl_client(conf, "--recover", full ? "recover full" : "recover",
			5000, ans, sizeof(ans));
	if (rc || !wait) {
		if (!rc)
			printf("%s\n", ans);
		vf_ctlsub_close(&sub);
		return rc;
	}
	printf("%s\n", ans);
	snprintf(round, sizeof(round), "%.16s", ans + strlen("round="));
	if (sub.fd >= 0) {
		rc = vf_ctlsub_follow_round(&sub, round, timeout_ms, stdout);
		vf_ctlsub_close(&sub);
	} else if (!conf->status_file[0]) {
		fprintf(stderr, "vmfitd: --recover --wait: no status_file configured\n");
		return 1;
	} else {
		rc = vf_ctlsock_follow_round(conf->status_file, round,
					     timeout_ms, stdout);
	}
	if (rc < 0) {
		if (rc == -EPIPE)
			fprintf(stderr, "vmfitd: --recover --wait: round %s not over: vmfitd closed the event subscription\n",
				round);
		else
			fprintf(stderr, "vmfitd: --recover --wait: round %s not over in %u ms\n",
				round, timeout_ms);
		return 1;
	}
	return rc;
}
