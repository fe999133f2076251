/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_log.h - leveled logging for vmfit daemons: stderr in the foreground,
 * syslog once vf_log_open(..., true) has been called.
 */
#ifndef VF_LOG_H
#define VF_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vf_log_level {
	VF_LOG_ERR,
	VF_LOG_WARN,
	VF_LOG_INFO,
	VF_LOG_DEBUG,
};

void vf_log_open(const char *ident, bool use_syslog);
void vf_log_close(void);
void vf_log_set_level(enum vf_log_level level);
enum vf_log_level vf_log_get_level(void);
/* "err", "warn", "info", "debug" -> level; -EINVAL otherwise. */
int vf_log_parse_level(const char *s);
const char *vf_log_level_name(enum vf_log_level level);

void vf_log(enum vf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define vf_err(...)	vf_log(VF_LOG_ERR, __VA_ARGS__)
#define vf_warn(...)	vf_log(VF_LOG_WARN, __VA_ARGS__)
#define vf_info(...)	vf_log(VF_LOG_INFO, __VA_ARGS__)
#define vf_dbg(...)	vf_log(VF_LOG_DEBUG, __VA_ARGS__)

/*
 * Bytes from an untrusted peer (a replica's HELLO or ERROR text) made fit
 * for a log line: printable ASCII is kept, every other byte and the
 * backslash become \xHH, so the line cannot carry terminal escapes, new
 * lines or bytes syslog would mangle, and a reader can tell what was sent.
 * The result is cut to @size - 1 characters, ending in "..." when the
 * input did not fit. @size >= 4; returns @out.
 */
#define VF_LOG_PEER_STR		81	/* a buffer for 80 characters */
const char *vf_log_peer_str(char *out, size_t size, const void *in,
			    size_t len);

/*
 * Rate limiting for messages that a faulty peer can trigger once per
 * request. An episode starts with up to @burst messages logged one by
 * one; after that they are only counted, and vf_ratelimit_flush() (called
 * from the event loop) hands back the count once per @interval_ms so the
 * caller logs one summary line. The budget of @burst comes back one
 * message per @interval_ms: a full burst again only after @burst
 * intervals without a logged message, so bursts spaced just over an
 * interval apart log one line each, not @burst.
 */
struct vf_ratelimit {
	unsigned int burst;		/* messages logged per episode */
	unsigned int interval_ms;	/* summary period and quiet time */
	unsigned int printed;		/* budget spent, not yet given back */
	uint64_t refill_ms;		/* the budget comes back from here */
	uint64_t last_ms;		/* last message, logged or not */
	uint64_t period_ms;		/* start of the summary period */
	uint64_t suppressed;		/* not logged, not yet summarised */
	uint64_t total_suppressed;
};

#define VF_RATELIMIT_INIT(b, ms)	{ .burst = (b), .interval_ms = (ms) }

/* true: log this message; false: it was counted as suppressed. */
bool vf_ratelimit(struct vf_ratelimit *rl, uint64_t now_ms);
/*
 * The number of messages suppressed in a summary period that is over
 * (then reset), or 0. @next_ms, if not NULL, is lowered to the time the
 * pending summary is due.
 */
uint64_t vf_ratelimit_flush(struct vf_ratelimit *rl, uint64_t now_ms,
			    uint64_t *next_ms);

#endif /* VF_LOG_H */
