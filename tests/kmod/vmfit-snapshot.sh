#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Snapshot, view and merge:
# - the view is byte-identical to the origin as it was at the snapshot
#   while the live device is rewritten, and after;
# - the live device equals the pre-snapshot content plus the writes since
#   (a reference copy on another disk gets the same writes);
# - fio verify holds across the snapshot, during and after a merge;
# - a full-chunk workload holds no bio (held_ns 0);
# - the view is read-only and pins the snapshot (merge/drop -EBUSY).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=128			# origin size
FIO_MB=32		# fio works on [0, 32 MiB); deterministic writes above
R0=$((FIO_MB * 256))	# first 4 KiB block of the deterministic region
RN=$(((MB - FIO_MB) * 256))
RS=$((FIO_MB * 2048))	# ... in sectors
RL=$(((MB - FIO_MB) * 2048))

origin_cow_ref $MB
zero_dev "$O"
vmtest-io write "$O" 1 1000

vmfit_create live "$O" "$C" 8
L=$(dm_path live)

note "normal mode: fio verify"
fio_verify "$L" normal --size=${FIO_MB}M --number_ios=500

note "snapshot under a running writer"
copy_dev "$O" "$REF" $((MB * 2048))
sum0=$(sha_dev "$O")
snapshot_ready live
vmfit_status live
assert_eq snapshot "$ST_MODE" mode
assert_eq 1 "$ST_EPOCH" epoch
assert_le 1 "$ST_DRAIN_NS" "drain_ns after the snapshot"
expect_fail "Device or resource busy" dm_msg live snapshot
view_create view live
V=$(dm_path view)
assert_eq "ready $(dm_devno live)" "$(dmsetup status "$(dm_name view)" | cut -d' ' -f4-)" "view status"
assert_eq "$sum0" "$(sha_dev "$V")" "view right after the snapshot"

note "rewrite the live device while reading the view"
vmtest-io write "$L" 21 2000 $R0 $RN &
w1=$!
vmtest-io write "$REF" 21 2000 $R0 $RN &
w2=$!
fio_verify "$L" snap --size=${FIO_MB}M --number_ios=500
sum_during=$(sha_dev "$V")
wait $w1 || die "writes to the live device failed"
wait $w2 || die "writes to the reference failed"
assert_eq "$sum0" "$sum_during" "view while the live device is rewritten"
assert_eq "$sum0" "$(sha_dev "$V")" "view after the writes"
assert_eq "$sum0" "$(sha_dev "$O")" "origin frozen while in snapshot mode"
assert_eq "$(sha_dev "$REF" $RS $RL)" "$(sha_dev "$L" $RS $RL)" \
	"live = pre-snapshot content + writes since"
vmfit_status live
assert_eq 0 "$ST_HELD_NS" "held_ns for a full-chunk workload"
assert_le 1 "$ST_COW_USED" "cow used"
assert_eq ready "$ST_VIEW" view
assert_eq ok "$ST_HEALTH" health

note "the view is read-only and pins the snapshot"
expect_fail "Input/output error" dd if=/dev/zero of="$V" bs=4k count=1 oflag=direct conv=notrunc
expect_fail "Device or resource busy" dm_msg live merge
expect_fail "Device or resource busy" dm_msg live drop
expect_fail "Device or resource busy" dmsetup remove "$(dm_name live)"
dm_exists live || die "live device removed while a view used it"
assert_eq "$sum0" "$(sha_dev "$V")" "view after rejected operations"

note "merge under load"
dm_remove view
copy_dev "$L" "$REF" $((MB * 2048))
dm_msg live merge
vmtest-io write "$L" 22 3000 $R0 $RN &
w1=$!
vmtest-io write "$REF" 22 3000 $R0 $RN &
w2=$!
fio_verify "$L" merging --size=${FIO_MB}M --number_ios=800
vmfit_status live
note "status during merge: $ST_MODE $ST_MERGED/$ST_TO_MERGE"
wait $w1 || die "writes to the live device during the merge failed"
wait $w2 || die "writes to the reference failed"
wait_status live MODE normal 120
vmfit_status live
assert_eq 0 "$ST_COW_USED" "cow used after the merge"
assert_eq "0/0" "$ST_MERGED/$ST_TO_MERGE" "merge progress after the merge"
assert_eq - "$ST_VIEW" "view after the merge"
assert_eq "$(sha_dev "$REF" $RS $RL)" "$(sha_dev "$L" $RS $RL)" \
	"live after the merge"
assert_eq "$(sha_dev "$L")" "$(sha_dev "$O")" "origin = live after the merge"

note "normal mode again: fio verify after the merge"
fio_verify "$L" after-merge --size=${FIO_MB}M --number_ios=500
assert_eq "$(sha_dev "$L")" "$(sha_dev "$O")" "origin = live in normal mode"
expect_fail "Invalid argument" dm_msg live merge
expect_fail "Invalid argument" view_create view2 live
