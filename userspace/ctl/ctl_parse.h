/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_parse - pure parsers for vmfit-ctl's arguments (no I/O). Each returns
 * 0 or -errno and, on error, points *@why at a short lower-case phrase that
 * completes "invalid <thing> '<arg>': <why>".
 */
#ifndef CTL_PARSE_H
#define CTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "uapi/linux/dm-vmfit.h"

#define CTL_CHUNK_MIN 512u		/* bytes */
#define CTL_CHUNK_MAX (VMFIT_CHUNK_SECTORS_MAX * 512u)	/* bytes */
#define CTL_CHUNK_DEFAULT 4096u

/* "4096", "4k", "4K", "1m", "2g": bytes, binary suffixes. */
int ctl_parse_size(const char *s, uint64_t *bytes, const char **why);
/* A size that is a power of two in [512, 1 MiB]; result in sectors. */
int ctl_parse_chunk_size(const char *s, unsigned int *sectors,
			 const char **why);
/*
 * A device-mapper name vmfit-ctl accepts: 1..127 of [A-Za-z0-9._+-], not
 * starting with '-' and not "." or "..".
 */
int ctl_check_name(const char *s, const char **why);
/* Plain decimal in [0, max]. */
int ctl_parse_uint(const char *s, uint64_t max, uint64_t *out,
		   const char **why);

/* @bytes for people: "512 B", "4 KiB", "1.5 MiB". */
void fmt_bytes(char *buf, size_t size, uint64_t bytes);

#endif /* CTL_PARSE_H */
