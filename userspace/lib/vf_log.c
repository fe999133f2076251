// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_log.c - leveled logging to stderr or syslog.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vf_log.h"

static enum vf_log_level log_level = VF_LOG_INFO;
static bool log_syslog;
static const char *log_ident = "vmfit";

static const char *const level_names[] = {
	[VF_LOG_ERR] = "err",
	[VF_LOG_WARN] = "warn",
	[VF_LOG_INFO] = "info",
	[VF_LOG_DEBUG] = "debug",
};

void vf_log_open(const char *ident, bool use_syslog)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void vf_log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

void vf_log_set_level(enum vf_log_level level)
{
	log_level = level;
}

enum vf_log_level vf_log_get_level(void)
{
	return log_level;
}

int vf_log_parse_level(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -EINVAL;
}

const char *vf_log_level_name(enum vf_log_level level)
{
	return level <= VF_LOG_DEBUG ? level_names[level] : "?";
}

void vf_log(enum vf_log_level level, const char *fmt, ...)
{
	static const int prio[] = {
		[VF_LOG_ERR] = LOG_ERR,
		[VF_LOG_WARN] = LOG_WARNING,
		[VF_LOG_INFO] = LOG_INFO,
		[VF_LOG_DEBUG] = LOG_DEBUG,
	};
	int saved = errno;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		/* one line at a time: the kv replica logs from two threads */
		flockfile(stderr);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s: ", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
			level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
	errno = saved;
}

/* Characters that @ch takes in vf_log_peer_str's output. */
static size_t peer_char(unsigned char ch, char out[5])
{
	if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
		out[0] = ch;
		out[1] = '\0';
		return 1;
	}
	snprintf(out, 5, "\\x%02x", ch);
	return 4;
}

const char *vf_log_peer_str(char *out, size_t size, const void *in,
			    size_t len)
{
	const unsigned char *p = in;
	size_t i, o = 0, total = 0, limit;
	char c[5];

	for (i = 0; i < len && total < size; i++)
		total += peer_char(p[i], c);
	/* All of it, or as much as leaves room for "..." and the NUL. */
	limit = total < size ? size - 1 : size - 4;
	for (i = 0; i < len; i++) {
		size_t n = peer_char(p[i], c);

		if (o + n > limit)
			break;
		memcpy(out + o, c, n);
		o += n;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

bool vf_ratelimit(struct vf_ratelimit *rl, uint64_t now_ms)
{
	uint64_t back;

	/*
	 * The budget comes back one message per interval, not all at once
	 * after a quiet interval: a peer that sends its floods in bursts a
	 * little more than an interval apart must not get @burst lines
	 * logged for every burst.
	 */
	if (rl->printed && now_ms > rl->refill_ms) {
		back = (now_ms - rl->refill_ms) / rl->interval_ms;
		if (back >= rl->printed) {
			rl->printed = 0;
		} else {
			rl->printed -= (unsigned int)back;
			rl->refill_ms += back * rl->interval_ms;
		}
	}
	rl->last_ms = now_ms;
	if (rl->printed < rl->burst) {
		if (!rl->printed)
			rl->refill_ms = now_ms;
		rl->printed++;
		return true;
	}
	if (!rl->suppressed)
		rl->period_ms = now_ms;
	rl->suppressed++;
	rl->total_suppressed++;
	return false;
}

uint64_t vf_ratelimit_flush(struct vf_ratelimit *rl, uint64_t now_ms,
			    uint64_t *next_ms)
{
	uint64_t n;

	if (!rl->suppressed)
		return 0;
	if (now_ms - rl->period_ms < rl->interval_ms) {
		if (next_ms && rl->period_ms + rl->interval_ms < *next_ms)
			*next_ms = rl->period_ms + rl->interval_ms;
		return 0;
	}
	n = rl->suppressed;
	rl->suppressed = 0;
	return n;
}
