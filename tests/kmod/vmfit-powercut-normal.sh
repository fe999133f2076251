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
MB=64
powercut_volumes $MB

if [ "$PHASE" = 1 ]; then
	vmfit_create live "$O" "$C" 8
	dm_msg live clear
	state_save "iter=$ITER"
	powercut_write "$L" "$LOG" $((2000 + ITER)) 8 $((MB * 256))
fi

assert_eq "$ITER" "$(state_get iter)" "iteration recorded before the power cut"
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
