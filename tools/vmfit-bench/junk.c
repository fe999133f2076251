// SPDX-License-Identifier: GPL-2.0-only
/*
 * junk.c - the hostile connections of an overload run (see junk.h).
 *
 * Each one is a non-blocking socket in one of three states: connecting,
 * open (a stalled one has written its 4 bytes), or down (to be reopened
 * after a pause of about a second, spread over the connections). They
 * live in a thread of their own, out of the emulator's event loop: the
 * load generator must measure the managers, so polling and reopening
 * 2,000 connections must cost the measuring loop nothing. The thread
 * sleeps in a poll() over all of them (at most JUNK_TICK_US) that tells
 * which ones changed; what a manager sends (an ERROR frame before it
 * closes) is read and dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "junk.h"

#define JUNK_TICK_US		100000	/* longest sleep in poll() */
#define JUNK_ROUND_US		10000	/* shortest round: O(n) each */
#define JUNK_CONNECT_US		5000000	/* connect time-out */
#define JUNK_PAUSE_US		1000000	/* before reopening, on average */
#define JUNK_PAUSE_SLOTS	64	/* pauses spread over 0.5..1.5 x that */
#define JUNK_STALL_BYTES	4	/* of a 16-byte header */

enum jstate { J_DOWN, J_CONNECTING, J_OPEN };

struct jconn {
	int fd;
	enum jstate st;
	bool stalled;
	unsigned int server;
	uint64_t pause_us;	/* down this long before reopening */
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
static struct junk_stats jst;		/* under jlock */
static pthread_mutex_t jlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t jthread;
static bool jrunning;
static atomic_bool jstop;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

/* Reopen what is due, poll (at most JUNK_TICK_US), handle what changed. */
static void junk_round(void)
{
	struct jconn *j;
	unsigned int i;
	uint64_t now = mono_us();
	int n;

	pthread_mutex_lock(&jlock);
	for (i = 0; i < njunk; i++) {
		j = &jc[i];
		if (j->st == J_DOWN && now - j->since_us >= j->pause_us)
			jc_connect(j, now);
		jpfd[i].fd = j->fd;
		jpfd[i].events = j->st == J_CONNECTING ? POLLOUT : POLLIN;
		jpfd[i].revents = 0;
	}
	pthread_mutex_unlock(&jlock);
	n = poll(jpfd, njunk, JUNK_TICK_US / 1000);
	now = mono_us();
	pthread_mutex_lock(&jlock);
	for (i = 0; n > 0 && i < njunk; i++) {
		j = &jc[i];
		if (!jpfd[i].revents || j->fd < 0)
			continue;
		if (j->st == J_CONNECTING)
			jc_connected(j, now);
		else if (j->st == J_OPEN)
			jc_readable(j, now);
	}
	for (i = 0; i < njunk; i++) {
		j = &jc[i];
		if (j->st == J_CONNECTING &&
		    now - j->since_us > JUNK_CONNECT_US) {
			jst.failed++;
			jc_down(j, now);
		}
	}
	pthread_mutex_unlock(&jlock);
}

static void *junk_thread(void *arg)
{
	(void)arg;
	uint64_t t;

	while (!jstop) {
		t = mono_us();
		junk_round();
		t = mono_us() - t;
		if (t < JUNK_ROUND_US)
			usleep(JUNK_ROUND_US - t);
	}
	return NULL;
}

int junk_start(unsigned int idle, unsigned int stalled,
	       const struct sockaddr_storage *servers, const socklen_t *alens,
	       unsigned int nservers, const char *from)
{
	sigset_t all, old;
	unsigned int i;
	int r;

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
		/* Refused or closed together, they must not all come back
		 * together: a manager sees them spread over a second. */
		jc[i].pause_us = JUNK_PAUSE_US / 2 + JUNK_PAUSE_US *
				 (i % JUNK_PAUSE_SLOTS) / JUNK_PAUSE_SLOTS;
	}
	/* Signals are the emulator's loop's business (got_signal). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&jthread, NULL, junk_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	jrunning = !r;
	return r;
}

void junk_get(struct junk_stats *st)
{
	pthread_mutex_lock(&jlock);
	*st = jst;
	pthread_mutex_unlock(&jlock);
}

void junk_stop(void)
{
	unsigned int i;

	if (jrunning) {
		jstop = true;
		pthread_join(jthread, NULL);
		jrunning = false;
	}
	for (i = 0; jc && i < njunk; i++)
		if (jc[i].fd >= 0)
			close(jc[i].fd);
	free(jc);
	free(jpfd);
	jc = NULL;
	jpfd = NULL;
	njunk = 0;
}
