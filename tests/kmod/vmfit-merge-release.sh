#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Commit protocol, rule 3: a merge batch releases a chunk to the origin
# only once the removal of its entry is in the to-persist table, so the
# commit of the next flush writes it. Else a write to the released chunk,
# acknowledged by a flush, is undone by the merge resumed on a crash image
# (the old entry is still on disk and the cow's old data is copied over
# it). The module's test_merge_release_ms knob pauses the batch right
# after it released its first chunk; meanwhile the test writes a block of
# that chunk, fsyncs, and takes the crash image.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
KNOB=/sys/module/dm_vmfit/parameters/test_merge_release_ms
[ -w "$KNOB" ] || die "$KNOB is missing"
MB=8
CMB=12
CHUNK=16	# 8 KiB
slice origin "$DISK_A" 0 $MB
slice cow "$DISK_B" 0 $CMB
slice oimg "$DISK_C" 0 $MB
slice cimg "$DISK_D" 0 $CMB
O=$(dm_path origin)
OI=$(dm_path oimg)
CI=$(dm_path cimg)
zero_dev "$(dm_path cow)" 0 8
vmtest-io fill "$O" 3
vmfit_create live "$O" "$(dm_path cow)" $CHUNK
L=$(dm_path live)
head -c 4096 /dev/urandom >"$TESTDIR/p1"
P1=$(sha256sum <"$TESTDIR/p1" | cut -d' ' -f1)

note "snapshot, every chunk rewritten"
snapshot_ready live
dd if=/dev/urandom of="$L" bs=1M count=$MB oflag=direct conv=fsync 2>/dev/null

note "merge, paused after the first chunk is released"
at_exit "echo 0 >$KNOB"
echo 10000 >"$KNOB"
n0=$(dmesg | wc -l)
dm_msg live merge
chunk=
for _ in $(seq 100); do
	chunk=$(dmesg | tail -n +$((n0 + 1)) |
		sed -n "s/.*: test: merge paused .* after releasing chunk \([0-9]*\)$/\1/p" |
		head -n 1)
	[ -n "$chunk" ] && break
	sleep 0.1
done
[ -n "$chunk" ] || die "the merge did not pause (no 'merge paused' in the kernel log)"
blk=$((chunk * CHUNK / 8))
note "chunk $chunk released: write block $blk, fsync, crash image"
dd if="$TESTDIR/p1" of="$L" bs=4k seek=$blk count=1 conv=notrunc,fsync \
	oflag=direct 2>/dev/null
dm_hold origin
dm_hold cow
# From the disks under the held (suspended) slices.
copy_dev "$DISK_A" "$OI" $((MB * 2048))
copy_dev "$DISK_B" "$CI" $((CMB * 2048))
dm_release cow
dm_release origin
echo 0 >"$KNOB"

note "the merge resumed on the crash image keeps the acknowledged write"
# The image's superblock, not its status after the load: the resumed merge
# may be over before a status is read (CI 2026-12-05 read 'normal').
assert_eq 2 "$(vmfit_sb_u32 "$CI" 32)" "crash image's superblock mode (2: merging)"
vmfit_create img "$OI" "$CI" $CHUNK
wait_status img MODE normal 120
assert_eq "$P1" "$(sha_block "$(dm_path img)" $blk)" \
	"image block $blk (chunk $chunk): the write acknowledged by fsync was undone by the resumed merge"
# Every write was flushed before the image: once both merges are over the
# image holds the live device's data (a load that did not resume the merge
# would show the origin's old fill in the chunks still in the cow).
img_sha=$(sha_dev "$(dm_path img)")
dm_remove img
wait_status live MODE normal 120
assert_eq "$P1" "$(sha_block "$L" $blk)" "live block $blk after the merge"
assert_eq "$(sha_dev "$L")" "$img_sha" "the crash image after its resumed merge vs the live device"
note "ok"
