// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_snapshot - vmfit-ctl commands of a device's snapshot cycle:
 * snapshot, merge, drop, clear, changed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_cmd.h"
#include "ctl_json.h"
#include "ctl_parse.h"
#include "ctl_transport.h"
#include "vf_dm.h"
#include "vf_status.h"

/* Hints for the target's refusals, per verb (see dm-vmfit.rst). */
static const char *verb_hint(enum ctl_verb verb, int err)
{
	switch (verb) {
	case CTL_SNAPSHOT:
		if (err == -EBUSY)
			return "a snapshot is already active or a merge is "
			       "running; see " PROG " status";
		break;
	case CTL_MERGE:
	case CTL_DROP:
		if (err == -EINVAL)
			return "no snapshot is active; see " PROG " status";
		if (err == -EBUSY)
			return "a vmfit-view is open on it; remove the view "
			       "first";
		break;
	case CTL_CLEAR:
		if (err == -EBUSY)
			return "clear works in normal mode only; see " PROG
			       " status";
		break;
	}
	return NULL;
}

static int do_verb(struct ctl *c, const struct command *cmd,
		   const char *name, enum ctl_verb verb)
{
	const char *hint;
	int r;

	r = c->tp->control(name, verb);
	if (!r)
		return 0;
	hint = verb_hint(verb, r);
	if (hint)
		fail(c, cmd, name, r, "%s", hint);
	else
		fail_dev(c, cmd, name, r);
	return EXIT_FAILURE;
}

static int cmd_verb(struct ctl *c, const struct command *cmd, int argc,
		    char **argv, enum ctl_verb verb)
{
	struct vf_status st;
	const char *name;
	char text[200];
	int done;
	int r;

	if (name_opts(cmd, argc, argv, &name, &done))
		return done;
	r = do_verb(c, cmd, name, verb);
	if (r)
		return r;

	r = c->tp->status(name, &st);
	switch (verb) {
	case CTL_SNAPSHOT:
		if (r)
			snprintf(text, sizeof(text), "snapshot taken");
		else
			snprintf(text, sizeof(text),
				 "snapshot taken, epoch %" PRIu64 " (view %s)",
				 st.epoch, vf_view_name(st.view));
		break;
	case CTL_DROP:
		snprintf(text, sizeof(text),
			 "snapshot dropped: writes since it are discarded");
		break;
	case CTL_CLEAR:
		snprintf(text, sizeof(text), "changed set cleared");
		break;
	default:
		snprintf(text, sizeof(text), "%s done", ctl_verb_name(verb));
	}
	return print_action(c, name, cmd->name, text);
}

int cmd_snapshot(struct ctl *c, const struct command *cmd, int argc,
		 char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_SNAPSHOT);
}

int cmd_drop(struct ctl *c, const struct command *cmd, int argc,
	     char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_DROP);
}

int cmd_clear(struct ctl *c, const struct command *cmd, int argc,
	      char **argv)
{
	return cmd_verb(c, cmd, argc, argv, CTL_CLEAR);
}

#define MERGE_POLL_MS 100

int cmd_merge(struct ctl *c, const struct command *cmd, int argc,
	      char **argv)
{
	static const struct option opts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool wait = false;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t timeout = 0;
	uint64_t last_merged = UINT64_MAX;
	struct vf_status st;
	const char *name;
	double t0;
	int done = 0;
	int opt;
	int r;

	while ((opt = next_opt(cmd, argc, argv, "wt:", opts, &done)) != -1) {
		switch (opt) {
		case 'w':
			wait = true;
			break;
		case 't':
			r = opt_timeout(cmd, optarg, 86400 * 365, true,
					&timeout);
			if (r)
				return r;
			break;
		default:
			return done;
		}
	}
	r = check_args(cmd, argc - optind);
	if (r)
		return r;
	if (timeout && !wait)
		return misuse(cmd, "--timeout needs --wait");
	name = argv[optind];
	r = check_name(cmd, name);
	if (r)
		return r;

	t0 = now_s();
	r = do_verb(c, cmd, name, CTL_MERGE);
	if (r)
		return r;
	if (!wait)
		return print_action(c, name, "merge",
				    "merge started; follow it with: "
				    PROG " status");

	for (;;) {
		r = c->tp->status(name, &st);
		if (r)
			return fail_dev(c, cmd, name, r);
		if (st.health == VF_HEALTH_FAIL)
			return fail(c, cmd, name, -EIO,
				    "the target failed during the merge; see "
				    "dmesg");
		if (st.mode != VF_MODE_MERGING)
			break;
		if (!c->json && st.merged != last_merged) {
			printf("%smerge %s: %" PRIu64 "/%" PRIu64
			       " chunks (%.0f%%)%s", tty ? "\r" : "", name,
			       st.merged, st.to_merge,
			       pct(st.merged, st.to_merge), tty ? "" : "\n");
			fflush(stdout);
			last_merged = st.merged;
		}
		if (timeout && now_s() - t0 > (double)timeout) {
			if (tty && !c->json)
				printf("\n");
			return fail(c, cmd, name, -ETIMEDOUT,
				    "the merge goes on in the background; "
				    "see %s status %s", PROG, name);
		}
		sleep_ms(MERGE_POLL_MS);
	}
	if (tty && !c->json && last_merged != UINT64_MAX)
		printf("\n");
	if (st.mode != VF_MODE_NORMAL)
		return fail(c, cmd, name, -EIO,
			    "the merge stopped with the device in %s mode; "
			    "see dmesg", vf_mode_name(st.mode));
	return print_action(c, name, "merge",
			    "merge done, back in normal mode");
}

int cmd_changed(struct ctl *c, const struct command *cmd, int argc,
		char **argv)
{
	struct vf_ranges rs;
	struct vf_dm_target t = { 0 };
	struct vf_table tb;
	bool have_tb = false;
	const char *name;
	uint64_t chunks;
	int done;
	size_t i;
	int r;

	if (name_opts(cmd, argc, argv, &name, &done))
		return done;

	vf_ranges_init(&rs);
	r = c->tp->changed(name, &rs);
	if (r) {
		vf_ranges_free(&rs);
		return fail_dev(c, cmd, name, r);
	}
	if (!vf_dm_table(name, &t) && !vf_table_parse(t.params, &tb))
		have_tb = true;
	vf_dm_target_free(&t);
	chunks = vf_ranges_count(&rs);

	if (c->json) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_str(&j, "name", name);
		if (have_tb)
			ctl_json_u64(&j, "chunk_size",
				     (uint64_t)tb.chunk_sectors << 9);
		ctl_json_u64(&j, "chunks", chunks);
		ctl_json_arr_begin(&j, "ranges");
		for (i = 0; i < rs.n; i++) {
			ctl_json_arr_begin(&j, NULL);
			ctl_json_u64(&j, NULL, rs.r[i].start);
			ctl_json_u64(&j, NULL, rs.r[i].end);
			ctl_json_arr_end(&j);
		}
		ctl_json_arr_end(&j);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else {
		char sz[32] = "";

		if (have_tb) {
			char b[24];

			fmt_bytes(b, sizeof(b), chunks * tb.chunk_sectors * 512);
			snprintf(sz, sizeof(sz), " (%s)", b);
		}
		printf("%s: %" PRIu64 " changed chunk%s%s in %zu range%s%s\n",
		       name, chunks, chunks == 1 ? "" : "s", sz, rs.n,
		       rs.n == 1 ? "" : "s", rs.n ? ":" : "");
		for (i = 0; i < rs.n; i++) {
			if (rs.r[i].start == rs.r[i].end)
				printf("%s%" PRIu64, i ? "," : "",
				       rs.r[i].start);
			else
				printf("%s%" PRIu64 "-%" PRIu64, i ? "," : "",
				       rs.r[i].start, rs.r[i].end);
		}
		if (rs.n)
			printf("\n");
	}
	vf_ranges_free(&rs);
	return EXIT_SUCCESS;
}

