/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_log.h - leveled logging for vmfit daemons: stderr in the foreground,
 * syslog once vf_log_open(..., true) has been called.
 */
#ifndef VF_LOG_H
#define VF_LOG_H

#include <stdbool.h>

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

#endif /* VF_LOG_H */
