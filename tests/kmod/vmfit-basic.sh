#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit in normal mode: a fresh cow is formatted, status and table lines
# follow the contract, data written through the live device is intact
# (fio verify), suspend/resume and a reload keep working, the snapshot
# survives a clean remove/create.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
slice origin "$DISK_A" 0 64
slice cow "$DISK_B" 0 64
O=$(dm_path origin)
C=$(dm_path cow)
zero_dev "$C" 0 8

note "create: a zeroed cow is formatted"
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
assert_eq $((64 * 2048)) "$(dev_sectors "$L")" "live device size"
vmfit_status live
assert_eq normal "$ST_MODE" mode
assert_eq 0 "$ST_EPOCH" epoch
assert_eq 0 "$ST_CHANGED" "changed chunks"
assert_eq 0 "$ST_COW_USED" "cow used"
assert_le 1 "$ST_COW_TOTAL" "cow total"
# 64 MiB cow at 4 KiB chunks: metadata takes some, the rest is data.
assert_le "$ST_COW_TOTAL" $((64 * 256 - 1)) "cow total below the device size"
assert_le $((64 * 256 * 9 / 10)) "$ST_COW_TOTAL" "cow total (metadata overhead)"
assert_eq - "$ST_VIEW" view
assert_eq "0 0" "$ST_HELD_NS $ST_DRAIN_NS" "held/drain before any snapshot"
assert_eq "0/0" "$ST_MERGED/$ST_TO_MERGE" "merge progress"
assert_eq ok "$ST_HEALTH" health
assert_eq "0 $((64 * 2048)) vmfit $(devno "$O") $(devno "$C") 8" \
	"$(dmsetup table "$(dm_name live)")" "table line (major:minor)"

note "the cow is no longer all zero (superblock written)"
zero4k=$(head -c 4096 /dev/zero | sha256sum | cut -d' ' -f1)
assert_ne "$zero4k" "$(sha_dev "$C" 0 8)" "cow superblock"

note "fio verify through the live device in normal mode"
fio_verify "$L" normal --size=32M --number_ios=1000
assert_eq "$(sha_dev "$O")" "$(sha_dev "$L")" "live equals origin in normal mode"
vmfit_status live
assert_eq normal "$ST_MODE" mode
assert_le 1 "$ST_CHANGED" "changed chunks after writes"
assert_eq 0 "$ST_COW_USED" "cow used in normal mode"

note "suspend/resume under load keeps data intact"
fio --name=bg --filename="$L" --direct=1 --ioengine=libaio --iodepth=8 \
	--bs=4k --rw=randwrite --size=32M --offset=32M --number_ios=1000 \
	--verify=crc32c --verify_state_save=0 --output="$TESTDIR/bg.out" &
fio_pid=$!
for i in 1 2 3; do
	sleep 0.5
	dmsetup suspend "$(dm_name live)"
	dmsetup resume "$(dm_name live)"
done
wait $fio_pid || die "fio across suspend/resume failed: $(cat "$TESTDIR/bg.out")"

note "a snapshot survives a clean remove/create (cow reloaded, not reformatted)"
snapshot_ready live
vmfit_status live
assert_eq snapshot "$ST_MODE" mode
assert_eq 1 "$ST_EPOCH" epoch
vmtest-io write "$L" 5 200
sum_live=$(sha_dev "$L")
vmfit_status live
used=$ST_COW_USED
assert_le 1 "$used" "cow used after writes in snapshot mode"
dm_remove live
vmfit_create live "$O" "$C" 8
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after reload"
assert_eq 1 "$ST_EPOCH" "epoch after reload"
assert_eq "$used" "$ST_COW_USED" "cow used after reload"
assert_eq "$sum_live" "$(sha_dev "$L")" "live content after reload"

note "drop returns to normal mode with the frozen origin"
sum_origin=$(sha_dev "$O")
dm_msg live drop
vmfit_status live
assert_eq normal "$ST_MODE" "mode after drop"
assert_eq 0 "$ST_COW_USED" "cow used after drop"
assert_eq "$sum_origin" "$(sha_dev "$L")" "live equals the frozen origin after drop"

fio_verify "$L" after-drop --size=32M --number_ios=300
dm_remove live
