#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dm-vmfit internals (the target owner's own checks):
# - partial-chunk writes in snapshot mode (8 KiB chunks, 4 KiB writes) copy
#   the origin chunk first: the live device = pre-snapshot content + writes,
#   the view stays frozen, held_ns > 0;
# - a merge of partially written chunks gives the same content on the
#   origin;
# - the tracepoints vmfit_snapshot_begin/end and vmfit_merge_progress fire
#   with the device number and epoch;
# - O_SYNC (FUA/flush) writes in snapshot mode complete;
# - a table reload keeps the snapshot; a suspend/resume during a merge
#   resumes it.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=64
BLOCKS=$((MB * 256))
origin_cow_ref $MB
vmtest-io fill "$O" 7

tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs nodev $tr
[ -d $tr/events/vmfit ] || die "no vmfit trace events in $tr/events"
echo 0 >$tr/tracing_on
echo >$tr/trace
echo 1 >$tr/events/vmfit/enable
echo 1 >$tr/tracing_on

vmfit_create live "$O" "$C" 16
L=$(dm_path live)
devno=$(dm_devno live)

note "snapshot, then 4 KiB writes into 8 KiB chunks"
copy_dev "$O" "$REF" $((MB * 2048))
sum0=$(sha_dev "$O")
snapshot_ready live
view_create view live
V=$(dm_path view)
vmtest-io write "$L" 31 1500 0 $BLOCKS
vmtest-io write "$REF" 31 1500 0 $BLOCKS
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live = pre-snapshot + partial writes"
assert_eq "$sum0" "$(sha_dev "$V")" "view frozen after partial writes"
assert_eq "$sum0" "$(sha_dev "$O")" "origin frozen after partial writes"
vmfit_status live
assert_le 1 "$ST_HELD_NS" "held_ns after partial-chunk writes"
assert_le 1 "$ST_COW_USED" "cow used"
assert_eq ok "$ST_HEALTH" health

note "synchronous writes (FUA/flush) in snapshot mode"
dd if=/dev/urandom of="$TESTDIR/blk" bs=4k count=4 2>/dev/null
dd if="$TESTDIR/blk" of="$L" bs=4k seek=100 oflag=direct,dsync conv=notrunc 2>/dev/null
dd if="$TESTDIR/blk" of="$REF" bs=4k seek=100 oflag=direct,dsync conv=notrunc 2>/dev/null
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after O_DSYNC writes"

note "a table reload in snapshot mode keeps the mapping"
dm_remove view
table=$(dmsetup table "$(dm_name live)")
dmsetup reload "$(dm_name live)" --table "$table"
dmsetup resume "$(dm_name live)"
vmfit_status live
assert_eq "snapshot 1 ready" "$ST_MODE $ST_EPOCH $ST_VIEW" "status after a reload"
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after a reload"
assert_eq "$sum0" "$(sha_dev "$O")" "origin after a reload"

note "merge partially written chunks, suspended and resumed on the way"
dm_msg live merge
dmsetup suspend "$(dm_name live)"
vmfit_status live
# ~1400 chunks in batches of 64: normally still merging here.
assert_match '^(merging|normal)$' "$ST_MODE" "mode while suspended during a merge"
note "suspended in mode $ST_MODE at $ST_MERGED/$ST_TO_MERGE"
dmsetup resume "$(dm_name live)"
wait_status live MODE normal 120
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after the merge"
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$O")" "origin after the merge"
vmfit_status live
assert_eq "0/0" "$ST_MERGED/$ST_TO_MERGE" "merge progress after the merge"

note "tracepoints"
maj=${devno%:*}
min=${devno#*:}
t=$(cat $tr/trace)
grep -q "vmfit_snapshot_begin: dev=$maj:$min epoch=1" <<<"$t" ||
	die "no vmfit_snapshot_begin event: $t"
grep -Eq "vmfit_snapshot_end: dev=$maj:$min epoch=1 held_ns=[0-9]+ drain_ns=[1-9][0-9]*" <<<"$t" ||
	die "no vmfit_snapshot_end event: $t"
grep -Eq "vmfit_merge_progress: dev=$maj:$min merged=([0-9]+) total=\\1" <<<"$t" ||
	die "no final vmfit_merge_progress event: $t"
echo 0 >$tr/events/vmfit/enable
dm_remove live
