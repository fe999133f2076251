#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: the live device is reloaded, then removed with --force, while
# a vmfit-view is open; the view is read after each. A reload must be
# refused with the documented error or leave the view readable; after
# remove --force the view reads the frozen image or fails with an I/O
# error, never freed memory.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_snapshot_fixture 32 8 7
view_create view live
V=$(dm_path view)
vmtest-io write "$L" 3 200

note "reload the live device under the open view"
table=$(dmsetup table "$N")
if dmsetup reload "$N" --table "$table" 2>"$TESTDIR/reload.err"; then
	note "reload accepted: resume and read the view"
	timeout 60 dmsetup resume "$N" || die "resume after reload failed or hung"
else
	note "reload refused: $(cat "$TESTDIR/reload.err")"
	kmsg_since_mark | tail -n 3
fi
assert_eq "$SUM0" "$(sha_dev "$V")" "view after a reload of the live device"

note "remove --force the live device under the open view"
timeout 60 dmsetup remove --force "$N" || note "remove --force: rc $?"
out=$(dd if="$V" of=/dev/null bs=1M iflag=direct 2>&1) && rc=0 || rc=$?
note "reading the view after remove --force: rc $rc: $(tail -n 1 <<<"$out")"
if ((rc == 0)); then
	assert_eq "$SUM0" "$(sha_dev "$V")" "view after remove --force of the live device"
fi
dm_remove view
dmsetup remove "$N" 2>/dev/null || true
