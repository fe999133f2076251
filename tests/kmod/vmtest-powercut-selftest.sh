#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: powercut 1 1
#
# The power-cut machinery itself, on a plain disk (no vmfit): phase 1 runs
# the flushing writer and arms the cut; the host kills qemu; phase 2 finds
# every flushed batch on the disk and the state saved before the cut.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_guest
phase=${VMTEST_PHASE:?run this test through tools/vmtest/vmtest}
if [ "$phase" = 1 ]; then
	state_clear
	zero_dev "$DISK_C" 0 8
	state_save "boot=$(cat /proc/sys/kernel/random/boot_id)"
	powercut_write "$DISK_A" "$DISK_C" 77 8 4096
fi
assert_ne "$(cat /proc/sys/kernel/random/boot_id)" "$(state_get boot)" "boot id after the cut"
out=$(vmtest-io pcverify "$DISK_A" "$DISK_C") || die "flushed writes lost: $out"
note "$out"
assert_match '^acked=[1-9]' "$out" "batches flushed before the cut"
