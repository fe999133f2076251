#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: powercut 2 200
#
# Power cut in snapshot mode. Phase 1: take a snapshot, record the origin's
# digest, run a writer on the live device that flushes after every batch
# and logs each flushed batch (O_DIRECT|O_SYNC) on another disk; the host
# kills qemu at a random moment. Phase 2 (next boot): reload the table:
# the snapshot is still active, every flushed write is on the live device,
# the view and the origin still equal the recorded digest. Odd iterations
# use 4 KiB chunks (full-chunk writes), even ones 8 KiB chunks (every write
# is a partial-chunk write that copies from the origin first).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=64
powercut_volumes $MB

if [ "$PHASE" = 1 ]; then
	chunk=$((ITER % 2 ? 8 : 16))
	seed=$((1000 + ITER))
	vmtest-io write "$O" "$seed" 2000
	vmfit_create live "$O" "$C" "$chunk"
	sum0=$(sha_dev "$O")
	snapshot_ready live
	state_save "chunk=$chunk" "sum0=$sum0" "iter=$ITER"
	view_create view live
	assert_eq "$sum0" "$(sha_dev "$(dm_path view)")" "view before the power cut"
	note "iteration $ITER: chunk $chunk sectors; writer running"
	powercut_write "$L" "$LOG" "$seed" 16 $((MB * 256))
fi

assert_eq "$ITER" "$(state_get iter)" "iteration recorded before the power cut"
chunk=$(state_get chunk)
sum0=$(state_get sum0)
vmfit_create live "$O" "$C" "$chunk"
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after the power cut"
assert_eq 1 "$ST_EPOCH" "epoch after the power cut"
assert_eq ok "$ST_HEALTH" "health after the power cut"
note "cow used after the power cut: $ST_COW_USED/$ST_COW_TOTAL"
out=$(vmtest-io pcverify "$L" "$LOG") || die "flushed writes lost: $out"
note "$out"
assert_match '^acked=[1-9]' "$out" "batches flushed before the cut"
assert_eq "$sum0" "$(sha_dev "$O")" "origin after the power cut"
view_create view live
assert_eq "$sum0" "$(sha_dev "$(dm_path view)")" "view after the power cut"
dm_remove view
dm_msg live drop
assert_eq "$sum0" "$(sha_dev "$L")" "live after drop"
