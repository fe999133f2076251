#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: powercut 1 100
#
# Power cut in normal mode: the changed set may over-report but never
# under-report. Phase 1: clear the changed set, run the flushing writer on
# the live device; the host kills qemu at a random moment. Phase 2: reload:
# every flushed write is on the device and every block that holds any
# write of the run (flushed or not) is in the changed set.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
phase=${VMTEST_PHASE:?run this test through tools/vmtest/vmtest}
iter=${VMTEST_ITER:-1}
MB=64
slice origin "$DISK_A" 0 $MB
slice cow "$DISK_B" 0 64
O=$(dm_path origin)
C=$(dm_path cow)
LOG=$DISK_C
L=$(dm_path live)

if [ "$phase" = 1 ]; then
	state_clear
	zero_dev "$C" 0 8
	zero_dev "$LOG" 0 8
	vmfit_create live "$O" "$C" 8
	dm_msg live clear
	state_save "iter=$iter"
	vmtest-io pcwrite "$L" "$LOG" $((2000 + iter)) 8 $((MB * 256)) 1000000 &
	writer=$!
	sleep 0.5
	kill -0 $writer 2>/dev/null || die "the writer failed to start"
	powercut_arm
	wait $writer || die "the writer failed (rc $?)"
	sleep 60
	die "the power cut did not happen"
fi

[ "$phase" = 2 ] || die "unknown phase $phase"
assert_eq "$iter" "$(state_get iter)" "iteration recorded before the power cut"
vmfit_create live "$O" "$C" 8
vmfit_status live
assert_eq normal "$ST_MODE" "mode after the power cut"
out=$(vmtest-io pcverify -v "$L" "$LOG") || die "flushed writes lost: $(tail -n 1 <<<"$out")"
note "$(tail -n 1 <<<"$out")"
assert_match 'acked=[1-9]' "$out" "batches flushed before the cut"
grep '^changed ' <<<"$out" | cut -d' ' -f2 | sort -u >"$TESTDIR/written"
vmfit_changed live | sort -u >"$TESTDIR/changed"
missing=$(comm -23 "$TESTDIR/written" "$TESTDIR/changed" | head -n 10)
[ -z "$missing" ] ||
	die "blocks on disk that the changed set misses (under-report): $missing"
note "$(wc -l <"$TESTDIR/written") blocks written, $(wc -l <"$TESTDIR/changed") chunks in the changed set"
