/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_status - parsers for what the dm-vmfit targets report.
 *
 * Pure functions (no I/O, no allocation except vf_ranges_*): they turn the
 * text of a STATUSTYPE_INFO line or a `changed` message reply into structs,
 * and reject anything that does not match the documented format exactly.
 * Every function returns 0 or -errno (-EINVAL for malformed input, -ERANGE
 * for numbers that do not fit, -ENOMEM from the range list).
 */
#ifndef VF_STATUS_H
#define VF_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vf_mode {
	VF_MODE_NORMAL,
	VF_MODE_SNAPSHOT,
	VF_MODE_MERGING,
};

enum vf_view {
	VF_VIEW_NONE,		/* "-": no snapshot */
	VF_VIEW_DRAINING,	/* old epoch still draining */
	VF_VIEW_READY,		/* frozen view readable */
};

enum vf_health {
	VF_HEALTH_OK,
	VF_HEALTH_COW_FULL,
	VF_HEALTH_FAIL,
};

/*
 * The vmfit target's INFO status, field for field:
 * <mode> <epoch> <#changed chunks> <cow used>/<cow total> <view>
 * <held_ns> <drain_ns> <merged>/<to merge> <health>
 */
struct vf_status {
	enum vf_mode mode;
	uint64_t epoch;		/* snapshots taken over the cow's life */
	uint64_t changed;	/* chunks in the changed set */
	uint64_t cow_used;	/* data chunks allocated in the cow */
	uint64_t cow_total;	/* data chunks available in the cow */
	enum vf_view view;
	uint64_t held_ns;	/* ns bios were held by the last snapshot */
	uint64_t drain_ns;	/* snapshot message -> view ready, last one */
	uint64_t merged;	/* merge progress: chunks merged */
	uint64_t to_merge;	/* merge progress: chunks to merge */
	enum vf_health health;
};

/* The vmfit-view target's INFO status: <ready|draining> <major:minor> */
struct vf_view_status {
	bool ready;
	unsigned int major;	/* the live vmfit device */
	unsigned int minor;
};

/*
 * The vmfit target's TABLE line (the constructor line):
 * <origin dev> <cow dev> <chunk size> [<#feature args> [<feature arg>]*]
 */
#define VF_TABLE_DEV_MAX 256
struct vf_table {
	char origin[VF_TABLE_DEV_MAX];	/* major:minor (as dm prints devices) */
	char cow[VF_TABLE_DEV_MAX];
	unsigned int chunk_sectors;	/* 512-byte sectors, a power of two */
	bool ignore_discard;		/* feature "ignore_discard" */
};

int vf_table_parse(const char *line, struct vf_table *t);

/* Number of whitespace-separated fields in each status line. */
#define VF_STATUS_FIELDS 9
#define VF_VIEW_STATUS_FIELDS 2

int vf_status_parse(const char *line, struct vf_status *st);
int vf_view_status_parse(const char *line, struct vf_view_status *vs);

const char *vf_mode_name(enum vf_mode m);
const char *vf_view_name(enum vf_view v);
const char *vf_health_name(enum vf_health h);

/*
 * Chunk ranges, inclusive at both ends, sorted, disjoint and not adjacent
 * once normalised by vf_ranges_add().
 */
struct vf_range {
	uint64_t start;
	uint64_t end;
};

struct vf_ranges {
	struct vf_range *r;
	size_t n;
	size_t cap;
};

void vf_ranges_init(struct vf_ranges *rs);
void vf_ranges_free(struct vf_ranges *rs);
/* Append [start, end]; start must be past the last range (or touch it). */
int vf_ranges_add(struct vf_ranges *rs, uint64_t start, uint64_t end);
/* Total number of chunks covered. */
uint64_t vf_ranges_count(const struct vf_ranges *rs);

/*
 * Parse one page of the `changed` message reply and append it to @rs:
 *   ""                          empty set
 *   "0-3,17,20-21"              complete
 *   "0-3,17,+"                  truncated: more follows; ask again with
 *                               `changed <last end + 1>`
 * Ranges must be ascending; a page may start inside or right after the
 * last range already in @rs (it is merged). *@more is set when the page
 * ends with ",+" (or is just "+").
 */
int vf_changed_parse(const char *page, struct vf_ranges *rs, bool *more);

#endif /* VF_STATUS_H */
