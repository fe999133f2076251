// SPDX-License-Identifier: GPL-2.0-only
/*
 * junk.c - the hostile connections of an overload run (see junk.h).
 *
 * Each one is a non-blocking socket in one of three states: connecting,
 * open (a stalled one has written its 4 bytes), or down (to be reopened
 * at the next tick after a short pause). A poll() with no timeout over
 * all of them every JUNK_TICK_US tells which ones changed; what a manager
 * sends (an ERROR frame before it closes) is read and dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "junk.h"

#define JUNK_TICK_US		100000
#define JUNK_CONNECT_US		5000000	/* connect time-out */
#define JUNK_PAUSE_US		1000000	/* before reopening */
#define JUNK_STALL_BYTES	4	/* of a 16-byte header */

enum jstate { J_DOWN, J_CONNECTING, J_OPEN };

struct jconn {
	int fd;
	enum jstate st;
	bool stalled;
	unsigned int server;
	uint64_t since_us;	/* connect started / went down */
};

static struct jconn *jc;
static struct pollfd *jpfd;
static unsigned int njunk;
static const struct sockaddr_storage *jservers;
static const socklen_t *jalens;
static unsigned int jnservers;
static struct sockaddr_in jfrom;
static bool jbind;
static struct junk_stats jst;
static uint64_t next_tick_us;

static void jc_down(struct jconn *j, uint64_t now)
{
	if (j->st == J_OPEN)
		jst.open--;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	j->st = J_DOWN;
	j->since_us = now;
}

static void jc_connect(struct jconn *j, uint64_t now)
{
	const struct sockaddr_storage *sa = &jservers[j->server];

	j->since_us = now;
	j->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (j->fd < 0) {
		jst.failed++;
		return;
	}
	if (jbind && bind(j->fd, (const struct sockaddr *)&jfrom,
			  sizeof(jfrom)) < 0) {
		jst.failed++;
		jc_down(j, now);
		return;
	}
	if (connect(j->fd, (const struct sockaddr *)sa,
		    jalens[j->server]) < 0 && errno != EINPROGRESS) {
		jst.failed++;
		jc_down(j, now);
		return;
	}
	j->st = J_CONNECTING;
}

static void jc_connected(struct jconn *j, uint64_t now)
{
	static const uint8_t head[JUNK_STALL_BYTES] = { 'V', 'M', 'F', 'C' };
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
	    (j->stalled && write(j->fd, head, sizeof(head)) !=
	     (ssize_t)sizeof(head))) {
		jst.failed++;
		jc_down(j, now);
		return;
	}
	j->st = J_OPEN;
	jst.opened++;
	jst.open++;
}

/* Readable: the manager sent something (dropped) or closed it. */
static void jc_readable(struct jconn *j, uint64_t now)
{
	uint8_t buf[512];
	ssize_t n;

	for (;;) {
		n = read(j->fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		jst.closed++;
		jc_down(j, now);
		return;
	}
}

int junk_start(unsigned int idle, unsigned int stalled,
	       const struct sockaddr_storage *servers, const socklen_t *alens,
	       unsigned int nservers, const char *from)
{
	unsigned int i;

	njunk = idle + stalled;
	if (!njunk)
		return 0;
	if (from) {
		memset(&jfrom, 0, sizeof(jfrom));
		jfrom.sin_family = AF_INET;
		if (inet_pton(AF_INET, from, &jfrom.sin_addr) != 1)
			return -EINVAL;
		jbind = true;
	}
	jc = calloc(njunk, sizeof(*jc));
	jpfd = calloc(njunk, sizeof(*jpfd));
	if (!jc || !jpfd)
		return -ENOMEM;
	jservers = servers;
	jalens = alens;
	jnservers = nservers;
	for (i = 0; i < njunk; i++) {
		jc[i].fd = -1;
		jc[i].stalled = i >= idle;
		jc[i].server = i % nservers;
	}
	return 0;
}

void junk_tick(uint64_t now)
{
	struct jconn *j;
	unsigned int i;

	if (!njunk || now < next_tick_us)
		return;
	next_tick_us = now + JUNK_TICK_US;
	for (i = 0; i < njunk; i++) {
		j = &jc[i];
		if (j->st == J_DOWN && now - j->since_us >= JUNK_PAUSE_US)
			jc_connect(j, now);
		jpfd[i].fd = j->fd;
		jpfd[i].events = j->st == J_CONNECTING ? POLLOUT : POLLIN;
		jpfd[i].revents = 0;
	}
	if (poll(jpfd, njunk, 0) <= 0)
		goto timeouts;
	for (i = 0; i < njunk; i++) {
		j = &jc[i];
		if (!jpfd[i].revents || j->fd < 0)
			continue;
		if (j->st == J_CONNECTING)
			jc_connected(j, now);
		else if (j->st == J_OPEN)
			jc_readable(j, now);
	}
timeouts:
	for (i = 0; i < njunk; i++) {
		j = &jc[i];
		if (j->st == J_CONNECTING &&
		    now - j->since_us > JUNK_CONNECT_US) {
			jst.failed++;
			jc_down(j, now);
		}
	}
}

void junk_get(struct junk_stats *st)
{
	*st = jst;
}

void junk_stop(void)
{
	unsigned int i;

	for (i = 0; jc && i < njunk; i++)
		if (jc[i].fd >= 0)
			close(jc[i].fd);
	free(jc);
	free(jpfd);
	jc = NULL;
	jpfd = NULL;
	njunk = 0;
}
