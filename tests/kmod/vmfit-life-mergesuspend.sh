#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: a merge interrupted by suspend/resume cycles under a running
# writer ends (no hang on the wrong generation), and the live device then
# holds exactly the reference's data.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=64
vmfit_fixture $MB 16 5
slice ref "$DISK_C" 0 $MB
REF=$(dm_path ref)
snapshot_ready live
vmtest-io write "$L" 11 6000
copy_dev "$L" "$REF" $((MB * 2048))
dm_msg live merge
vmtest-io write "$L" 12 3000 &
w1=$!
vmtest-io write "$REF" 12 3000 &
w2=$!
for i in 1 2 3 4 5 6; do
	timeout 60 dmsetup suspend "$N" || die "suspend $i during the merge hung or failed"
	timeout 60 dmsetup resume "$N" || die "resume $i during the merge hung or failed"
	vmfit_status live
	note "cycle $i: mode $ST_MODE merged $ST_MERGED/$ST_TO_MERGE"
	sleep 0.2
done
wait $w1 || die "writer on the live device failed"
wait $w2 || die "writer on the reference failed"
wait_status live MODE normal 120
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after the interrupted merge"
