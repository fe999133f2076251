/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * junk.h - the hostile connections of vmfit-bench's overload runs
 * (--idle, --stalled): connections that hold a slot of a manager without
 * ever completing a request, kept open (reopened when a manager closes
 * them) for the whole run, from their own source address (--junk-from)
 * so that a manager's per-source limit tells them from the real clients.
 */
#ifndef VMFIT_BENCH_JUNK_H
#define VMFIT_BENCH_JUNK_H

#include <stdint.h>
#include <sys/socket.h>

struct junk_stats {
	uint64_t opened;	/* connections established */
	uint64_t failed;	/* connects refused, reset or timed out */
	uint64_t closed;	/* closed or reset by the manager */
	unsigned int open;	/* established right now */
};

/*
 * @idle connections that send nothing and @stalled ones that send the
 * first 4 bytes of a frame header and nothing more, spread over the
 * @nservers addresses, bound to @from (NULL: any), opened and kept open
 * by a thread of their own until junk_stop(). 0 or -errno.
 */
int junk_start(unsigned int idle, unsigned int stalled,
	       const struct sockaddr_storage *servers, const socklen_t *alens,
	       unsigned int nservers, const char *from);
void junk_get(struct junk_stats *st);
void junk_stop(void);

#endif /* VMFIT_BENCH_JUNK_H */
