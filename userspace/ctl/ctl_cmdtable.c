// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl_cmdtable - vmfit-ctl's commands: name, implementation, argument
 * counts, usage, one-line help and details. `vmfit-ctl help` and every
 * command's -h are generated from these rows; the implementations are in
 * the cmd_*.c files, grouped by area. See Documentation/vmfit-ctl.8.rst.
 */
#include <stddef.h>

#include "ctl_cmd.h"
#include "vf_conf.h"

const struct command ctl_cmd_table[] = {
	{ "help", cmd_help, 0, 1, "[COMMAND]",
	  "list the commands, or describe one", NULL },
	{ "load", cmd_load, 0, 0, "[--module PATH]",
	  "load dm-vmfit (and dm-mod); does nothing if it is loaded",
	  "  -m, --module PATH  insert this dm-vmfit.ko instead of the one\n"
	  "                     installed for the running kernel; its\n"
	  "                     dependencies still come from the module tree\n\n"
	  "Says what it did: which modules it inserted, or that dm-vmfit was\n"
	  "loaded already.\n" },
	{ "create", cmd_create, 3, 3,
	  "NAME ORIGIN COW [--chunk-size SIZE] [--ignore-discard]",
	  "create vmfit device NAME over ORIGIN with cow store COW",
	  "  -c, --chunk-size SIZE  chunk size in bytes, k or m suffix; a\n"
	  "                         power of two from 512 to 1m (default 4k)\n"
	  "  --ignore-discard       drop discards instead of passing them down\n\n"
	  "A COW whose first 4 KiB are zero is formatted; one that holds a\n"
	  "vmfit superblock is loaded with its changed set and snapshot.\n" },
	{ "view", cmd_view, 1, 2, "NAME [VIEWNAME]",
	  "create a read-only frozen view of NAME (default NAME-view)",
	  "NAME must have an active snapshot. The view reads the origin as\n"
	  "it was at the snapshot; merge and drop refuse while it exists.\n" },
	{ "remove", cmd_remove, 1, 1, "NAME",
	  "remove device NAME (a vmfit or a vmfit-view device)", NULL },
	{ "snapshot", cmd_snapshot, 1, 1, "NAME",
	  "freeze the origin of NAME; new writes go to the cow store",
	  "No table reload and no held I/O: the target switches epochs.\n"
	  "The view is ready once the old epoch's writes have drained.\n" },
	{ "merge", cmd_merge, 1, 1, "NAME [--wait [--timeout SECS]]",
	  "fold the cow store of NAME back into its origin",
	  "  -w, --wait          print progress until the merge is done\n"
	  "  -t, --timeout SECS  with --wait: give up waiting after SECS\n"
	  "                      (the merge itself goes on)\n\n"
	  "Refused without a snapshot or while a vmfit-view is open.\n" },
	{ "drop", cmd_drop, 1, 1, "NAME",
	  "end the snapshot of NAME, discarding writes made since it", NULL },
	{ "clear", cmd_clear, 1, 1, "NAME",
	  "start a new changed set on NAME (normal mode only)", NULL },
	{ "changed", cmd_changed, 1, 1, "NAME",
	  "print the chunks of NAME written since the last clear",
	  "Ranges are inclusive chunk numbers: 0-3,17 is chunks 0,1,2,3,17.\n"
	  "With --json: {\"ranges\": [[start, end], ...]}.\n" },
	{ "status", cmd_status, 0, -1, "[NAME...]",
	  "show vmfit devices (all of them when none is named)",
	  "Columns: MODE normal|snapshot|merging; EPOCH snapshots taken over\n"
	  "the cow's life; CHUNK chunk size; CHANGED chunks written since the\n"
	  "last clear; COW USED data chunks allocated/available; VIEW frozen\n"
	  "view ready|draining|- and the vmfit-view devices over it; HELD\n"
	  "time bios were held by the last snapshot; DRAIN snapshot to view\n"
	  "ready; MERGED merge progress; HEALTH ok|cow_full|fail.\n" },
	{ "checksum", cmd_checksum, 1, 1,
	  "NAME|MAJ:MIN [--changed] [--algo A] [--merkle] [--quiet] "
	  "[--first C] [--last C] [--workers N]",
	  "hash the chunks of the frozen view of NAME in the kernel",
	  "  -c, --changed    only the chunks of the changed set\n"
	  "  -a, --algo A     sha256 (default), blake2b-256: collision resistant;\n"
	  "                   xxhash64, crc32c: fast, trusted settings only\n"
	  "  -m, --merkle     also print the Merkle root over the digests\n"
	  "  -q, --quiet      do not print the per-chunk digests\n"
	  "  -f, --first C / -l, --last C  inclusive chunk range\n"
	  "  -w, --workers N  hash at most N chunks at once (1-64; default one\n"
	  "                   per CPU of the kernel)\n"
	  "Live I/O first: while the device is busy the kernel hashes at\n"
	  "/sys/module/dm_vmfit/parameters/csum_speed_min KiB/s.\n"
	  "Prints \"<chunk> <hex digest>\" lines, then \"merkle-root <hex>\".\n"
	  "Needs a snapshot; waits up to 10 s for a draining one.\n" },
	{ "events", cmd_events, 0, 0,
	  "[--manager [--config FILE]] [--count N] [--timeout SECS]",
	  "follow dm-vmfit's events, or with --manager vmfitd's",
	  "  -M, --manager      vmfitd's events (recovery rounds) from its\n"
	  "                     control socket instead of the kernel's\n"
	  "  -c, --config FILE  with --manager: vmfitd's configuration\n"
	  "                     (control_socket); default\n"
	  "                     " VF_CONF_DEFAULT_PATH "\n"
	  "  -n, --count N      exit after N events\n"
	  "  -t, --timeout SECS give up after SECS (a failure with --count)\n"
	  "One line (or, with --json, one JSON document) per event.\n"
	  "Kernel: snapshot, checksum, merge, health. vmfitd: rcv-phase,\n"
	  "rcv-done, rcv-aborted, rcv-caught-up, rcv-senior-stopped\n"
	  "(vmfitd(8) \"Control socket\").\n" },
	{ "recover", cmd_recover, 0, 0,
	  "[--config FILE] [--full] [--wait [--timeout SECS]]",
	  "start a proactive recovery round of a running vmfitd",
	  "  -c, --config FILE   vmfitd's configuration (control_socket,\n"
	  "                      status_file); default " VF_CONF_DEFAULT_PATH "\n"
	  "  -f, --full          hash every chunk, not only the changed set\n"
	  "  -w, --wait          print every phase until the round is over\n"
	  "                      (vmfitd's events); exit status 1 if it\n"
	  "                      aborted\n"
	  "  -t, --timeout SECS  with --wait: give up after SECS (default 600)\n"
	  "See vmfitd(8) \"Proactive recovery\".\n" },
	{ "manager", cmd_manager, 0, 0,
	  "[--config FILE | --status-file FILE]",
	  "show what a running vmfitd says about itself",
	  "  -c, --config FILE       vmfitd's configuration (status_file);\n"
	  "                          default " VF_CONF_DEFAULT_PATH "\n"
	  "  -s, --status-file FILE  read this status file instead\n\n"
	  "One line each: service, ready, sync, primary, managers present and\n"
	  "in sync, group, order, clients, replica (pid or Xen domain),\n"
	  "suspects, recovery (last round: chunks, bytes, durations, abort).\n"
	  "With --json: vmfitd's status document, validated. Exit status 1\n"
	  "without a status file, for a stale one (vmfitd gone) or a corrupt\n"
	  "one. See vmfitd(8) \"Status\".\n" },
	{ NULL, NULL, 0, 0, NULL, NULL, NULL },
};

