// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_status - vmfit-ctl status: one row per vmfit device, as a table or
 * as JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_parse.h"
#include "ctl_json.h"
#include "vf_dm.h"
#include "vf_status.h"

struct row {
	char name[VF_DM_NAME_MAX + 1];
	int err;			/* 0 or why the row has no status */
	struct vf_status st;
	struct vf_table tb;
	bool have_tb;
	uint64_t sectors;
	char views[256];		/* vmfit-view devices over it */
};

static void fill_row(const struct ctl *c, struct row *row, const char *name)
{
	struct vf_dm_target t;

	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->err = c->tp->status(name, &row->st);
	if (row->err)
		return;
	if (!vf_dm_table(name, &t)) {
		row->sectors = t.length;
		row->have_tb = !vf_table_parse(t.params, &row->tb);
		vf_dm_target_free(&t);
	}
	views_of(name, row->views, sizeof(row->views));
}

static void json_row(struct ctl_json *j, const struct row *row)
{
	const struct vf_status *st = &row->st;
	char *s;
	char *tok;
	char *save = NULL;

	ctl_json_obj_begin(j, NULL);
	ctl_json_str(j, "name", row->name);
	if (row->have_tb) {
		ctl_json_str(j, "origin", row->tb.origin);
		ctl_json_str(j, "cow", row->tb.cow);
		ctl_json_u64(j, "chunk_size",
			     (uint64_t)row->tb.chunk_sectors << 9);
	}
	ctl_json_u64(j, "size_sectors", row->sectors);
	ctl_json_str(j, "mode", vf_mode_name(st->mode));
	ctl_json_u64(j, "epoch", st->epoch);
	ctl_json_u64(j, "changed_chunks", st->changed);
	ctl_json_u64(j, "cow_used", st->cow_used);
	ctl_json_u64(j, "cow_total", st->cow_total);
	ctl_json_double(j, "cow_used_pct", pct(st->cow_used, st->cow_total));
	ctl_json_str(j, "view", vf_view_name(st->view));
	ctl_json_arr_begin(j, "view_devices");
	s = strdup(row->views);
	for (tok = s ? strtok_r(s, " ", &save) : NULL; tok;
	     tok = strtok_r(NULL, " ", &save))
		ctl_json_str(j, NULL, tok);
	free(s);
	ctl_json_arr_end(j);
	ctl_json_u64(j, "held_ns", st->held_ns);
	ctl_json_u64(j, "drain_ns", st->drain_ns);
	ctl_json_u64(j, "merged", st->merged);
	ctl_json_u64(j, "to_merge", st->to_merge);
	ctl_json_str(j, "health", vf_health_name(st->health));
	ctl_json_obj_end(j);
}

#define NCOLS 11

static void text_cells(const struct row *row, char cell[NCOLS][80])
{
	const struct vf_status *st = &row->st;

	snprintf(cell[0], 80, "%s", row->name);
	snprintf(cell[1], 80, "%s", vf_mode_name(st->mode));
	snprintf(cell[2], 80, "%" PRIu64, st->epoch);
	if (row->have_tb)
		fmt_bytes(cell[3], 80, (uint64_t)row->tb.chunk_sectors << 9);
	else
		snprintf(cell[3], 80, "?");
	snprintf(cell[4], 80, "%" PRIu64 " chunk%s", st->changed,
		 st->changed == 1 ? "" : "s");
	snprintf(cell[5], 80, "%" PRIu64 "/%" PRIu64 " (%.1f%%)", st->cow_used,
		 st->cow_total, pct(st->cow_used, st->cow_total));
	if (row->views[0])
		snprintf(cell[6], 80, "%s: %.60s", vf_view_name(st->view),
			 row->views);
	else
		snprintf(cell[6], 80, "%s", vf_view_name(st->view));
	fmt_ms(cell[7], 80, st->held_ns);
	fmt_ms(cell[8], 80, st->drain_ns);
	if (st->mode == VF_MODE_MERGING)
		snprintf(cell[9], 80, "%" PRIu64 "/%" PRIu64 " (%.0f%%)",
			 st->merged, st->to_merge,
			 pct(st->merged, st->to_merge));
	else
		snprintf(cell[9], 80, "-");
	snprintf(cell[10], 80, "%s", vf_health_name(st->health));
}

static void print_table(struct row *rows, size_t n)
{
	static const char *const head[NCOLS] = {
		"NAME", "MODE", "EPOCH", "CHUNK", "CHANGED", "COW USED",
		"VIEW", "HELD", "DRAIN", "MERGED", "HEALTH",
	};
	char (*cells)[NCOLS][80];
	size_t w[NCOLS];
	size_t i;
	size_t k;

	cells = calloc(n ? n : 1, sizeof(*cells));
	if (!cells)
		return;
	for (k = 0; k < NCOLS; k++)
		w[k] = strlen(head[k]);
	for (i = 0; i < n; i++) {
		text_cells(&rows[i], cells[i]);
		for (k = 0; k < NCOLS; k++)
			if (strlen(cells[i][k]) > w[k])
				w[k] = strlen(cells[i][k]);
	}
	for (k = 0; k < NCOLS; k++)
		printf("%-*s%s", k + 1 < NCOLS ? (int)w[k] : 0, head[k],
		       k + 1 < NCOLS ? "  " : "\n");
	for (i = 0; i < n; i++)
		for (k = 0; k < NCOLS; k++)
			printf("%-*s%s", k + 1 < NCOLS ? (int)w[k] : 0,
			       cells[i][k], k + 1 < NCOLS ? "  " : "\n");
	free(cells);
}

int cmd_status(struct ctl *c, const struct command *cmd, int argc,
	       char **argv)
{
	struct row *rows = NULL;
	char **names = NULL;
	size_t nnames = 0;
	size_t nrows = 0;
	bool all;
	int ret = EXIT_SUCCESS;
	size_t i;
	int done;
	int r;

	if (simple_opts(cmd, argc, argv, &done))
		return done;
	for (i = optind; i < (size_t)argc; i++) {
		r = check_name(cmd, argv[i]);
		if (r)
			return r;
	}
	all = optind == argc;
	if (all) {
		r = vf_dm_list(&names, &nnames);
		if (r == -ENXIO)
			return fail(c, cmd, "device-mapper", r,
				    "is dm-vmfit loaded? try: %s load", PROG);
		if (r)
			return fail(c, cmd, "device-mapper", r, NULL);
	} else {
		nnames = argc - optind;
	}
	rows = calloc(nnames ? nnames : 1, sizeof(*rows));
	if (!rows) {
		vf_dm_names_free(names, all ? nnames : 0);
		return fail(c, cmd, "status", -ENOMEM, NULL);
	}
	for (i = 0; i < nnames; i++) {
		const char *name = all ? names[i] : argv[optind + i];
		struct row *row = &rows[nrows];

		fill_row(c, row, name);
		/*
		 * Listing all: other targets, tableless devices and
		 * devices removed meanwhile are not ours to report.
		 */
		if (all && (row->err == -EMEDIUMTYPE ||
			    row->err == -ENODATA || row->err == -ENODEV))
			continue;
		if (row->err) {
			fail_dev(c, cmd, name, row->err);
			ret = EXIT_FAILURE;
			continue;
		}
		nrows++;
	}

	if (c->json) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_arr_begin(&j, "devices");
		for (i = 0; i < nrows; i++)
			json_row(&j, &rows[i]);
		ctl_json_arr_end(&j);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else if (nrows) {
		print_table(rows, nrows);
	} else if (all) {
		printf("no vmfit devices (create one: %s create NAME ORIGIN "
		       "COW)\n", PROG);
	}
	free(rows);
	vf_dm_names_free(names, all ? nnames : 0);
	return ret;
}

