#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Commit protocol, rule 3, on crash images (see vmfit-commit-order.sh):
# every write followed by an acknowledged flush survives a crash in the
# middle of a merge.
#   C: a partial-chunk write whose copy from the origin is held across the
#      switch from snapshot to merging mode is retried in merging mode;
#      once acknowledged (O_DSYNC), a crash image taken while the merge is
#      still far from its chunk must, after the merge resumed on the image,
#      hold it.
#   A: a REQ_FUA write (libaio, O_DSYNC: no flush after it) to a chunk the
#      merge has already copied back, while commits are held: if it is
#      acknowledged, the merge resumed on a crash image must not undo it.
#   D: a merge re-run after suspend/resume (three times, under writes)
#      waits for the right generation: it ends, and suspend and remove do
#      not hang.
# The origin is slowed down (dm-delay, writes) so that the merge is still
# running while the test looks.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=64
SZ=$((MB * 2048))
CHUNK=16	# 8 KiB: a 4 KiB write is a partial-chunk write
NFULL=3000	# full chunks written in the snapshot, from chunk 0
TARGET=3500	# chunk of the retried partial write
slice origin "$DISK_A" 0 $MB
slice oimg "$DISK_C" 0 $MB
slice cimg "$DISK_D" 0 $MB
O=$(dm_path origin)
OI=$(dm_path oimg)
CI=$(dm_path cimg)
vmtest-io fill "$O" 3
vmfit_split_cow cow "$DISK_B" $SZ "$O" $CHUNK
C=$(dm_path cow)
vmfit_create live "$O" "$C" $CHUNK
L=$(dm_path live)
head -c 4096 /dev/urandom >"$TESTDIR/p1"
P1=$(sha256sum <"$TESTDIR/p1" | cut -d' ' -f1)
BLK=$((TARGET * CHUNK / 8))

note "C: snapshot, $NFULL full chunks written"
snapshot_ready live
dd if=/dev/urandom of="$L" bs=$((CHUNK * 512)) count=$NFULL oflag=direct conv=fsync 2>/dev/null
full=$(sha_dev "$L" 0 $((NFULL * CHUNK)))

note "C: a partial write whose copy is held, then merge"
dm_hold origin
put_block "$L" $BLK "$TESTDIR/p1" dsync &
w=$!
sleep 1
dm_msg live merge
vmfit_status live
assert_eq merging "$ST_MODE" "mode after merge"
# Slow origin writes from now on; the held copy read goes on at once.
dmsetup reload "$PREFIX"origin --table "0 $SZ delay $DISK_A 0 0 $DISK_A 0 400"
dm_release origin
wait $w || die "the partial write failed"
assert_eq "$P1" "$(sha_block "$L" $BLK)" "live block $BLK"
vmfit_status live
assert_eq merging "$ST_MODE" "mode when the image is taken"
note "merged $ST_MERGED/$ST_TO_MERGE when the image is taken"
((ST_MERGED < NFULL)) || die "the merge got too far to test (merged $ST_MERGED)"

note "C: crash image"
dm_hold origin
dm_hold cow
copy_dev "$DISK_A" "$OI" $SZ
copy_dev "$DISK_B" "$CI" $SZ
dm_release cow
dm_release origin
# The superblock, not the status after the load: the resumed merge may be
# over before a status is read (as vmfit-merge-release).
assert_eq 2 "$(vmfit_sb_u32 "$CI" 32)" "crash image's superblock mode (2: merging)"
vmfit_create img "$OI" "$CI" $CHUNK
wait_status img MODE normal 300
assert_eq "$P1" "$(sha_block "$(dm_path img)" $BLK)" \
	"image block $BLK: the acknowledged retried write was lost"
assert_eq "$P1" "$(sha_block "$OI" $BLK)" "image origin block $BLK"
assert_eq "$full" "$(sha_dev "$(dm_path img)" 0 $((NFULL * CHUNK)))" \
	"image: the flushed full-chunk writes"
dm_remove img

note "A: a FUA write to a merged chunk while commits are held"
vmfit_status live
merged=$ST_MERGED
((merged >= 64 && merged < NFULL)) || die "merge progress $merged: cannot test"
ablk=$(((merged - 1) * CHUNK / 8))
dm_hold cowmd
fio --name=fua --filename="$L" --ioengine=libaio --direct=1 --sync=1 \
	--rw=write --bs=4k --size=4k --offset=$((ablk * 4096)) \
	--output="$TESTDIR/fio.out" &
f=$!
sleep 3
acked=0
kill -0 $f 2>/dev/null || acked=1
dm_hold origin
copy_dev "$DISK_A" "$OI" $SZ
copy_dev "$DISK_B" "$CI" $SZ
dm_release origin
dm_release cowmd
wait $f || die "the FUA write failed: $(cat "$TESTDIR/fio.out")"
want=$(sha_block "$L" $ablk)
vmfit_create img "$OI" "$CI" $CHUNK
wait_status img MODE normal 300
if ((acked)); then
	assert_eq "$want" "$(sha_block "$(dm_path img)" $ablk)" \
		"image block $ablk: an acknowledged FUA write was undone by the merge"
else
	note "the FUA write waited for the held commit"
fi
dm_remove img

note "D: suspend/resume during the merge, under writes"
vmtest-io write "$L" 9 200 0 $((NFULL * CHUNK / 8)) &
wr=$!
for i in 1 2 3; do
	sleep 1
	dmsetup suspend "$PREFIX"live
	dmsetup resume "$PREFIX"live
	vmfit_status live
	note "cycle $i: $ST_MODE $ST_MERGED/$ST_TO_MERGE"
done
wait $wr || die "the writer failed"
dmsetup reload "$PREFIX"origin --table "0 $SZ linear $DISK_A 0"
dmsetup resume "$PREFIX"origin
wait_status live MODE normal 300
assert_eq "$P1" "$(sha_block "$L" $BLK)" "live block $BLK after the merge"
assert_eq ok "$ST_HEALTH" "health after the merge"
dmsetup suspend "$PREFIX"live
dmsetup resume "$PREFIX"live
dm_remove live
note "ok"
