#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Commit protocol, rules 1 and 2 (admin guide, "Commit protocol"), checked
# on crash images: the disks below the target are copied while some of its
# I/O is held in flight (dm_hold: suspend --noflush of a piece of the cow
# or of the origin), as a power cut at that moment would leave them, and
# the copy is loaded by a second vmfit device.
#
# Rule 1, a mapping entry is never durable before its data: an earlier,
# dropped snapshot left data in cow chunk 0; in a new snapshot a REQ_FUA
# write to another chunk gets cow chunk 0 and its data write is held. The
# image must not map that chunk (it would read the dropped snapshot's
# data).
#
# Rule 2, the superblock of a new epoch is durable before any entry of it:
# the superblock write of a `snapshot` is held (and an old-generation
# origin write, so the snapshot cannot drain either) while a REQ_FUA write
# is sent. The image, snapshotted once more (which reaches the same epoch
# number) and reloaded, must show the origin everywhere: no entry of the
# interrupted epoch comes back. Meanwhile status (dm and netlink, the
# latter unprivileged) answers: it never waits for a commit.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=32
SZ=$((MB * 2048))
slice origin "$DISK_A" 0 $MB
O=$(dm_path origin)
vmtest-io fill "$O" 5
vmfit_split_cow cow "$DISK_B" $SZ "$O" 8
C=$(dm_path cow)
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
slice oimg "$DISK_C" 0 $MB
slice cimg "$DISK_D" 0 $MB
OI=$(dm_path oimg)
CI=$(dm_path cimg)
for p in 1 2 3; do
	head -c 4096 /dev/urandom >"$TESTDIR/p$p"
	sha256sum <"$TESTDIR/p$p" | cut -d' ' -f1 >"$TESTDIR/p$p.sha"
done
P1=$(cat "$TESTDIR/p1.sha")
P2=$(cat "$TESTDIR/p2.sha")
P3=$(cat "$TESTDIR/p3.sha")
X=5
Y=9

# crash_image - copy what the disks below hold now; load it as "img".
crash_image() {
	copy_dev "$DISK_A" "$OI" $SZ
	copy_dev "$DISK_B" "$CI" $SZ
	vmfit_create img "$OI" "$CI" 8
}

note "rule 1: a dropped snapshot leaves data in cow chunk 0"
snapshot_ready live
put_block "$L" $X "$TESTDIR/p1" dsync
assert_eq "$P1" "$(sha_block "$L" $X)" "block $X in snapshot 1"
dm_msg live drop
snapshot_ready live
vmfit_status live
assert_eq 2 "$ST_EPOCH" "epoch of the second snapshot"

note "rule 1: a REQ_FUA write whose data write is held"
dm_hold cowdata
put_block "$L" $Y "$TESTDIR/p2" dsync &
fua=$!
sleep 2
kill -0 $fua 2>/dev/null || die "the FUA write completed while its data was held"
crash_image
vmfit_status img
assert_eq snapshot "$ST_MODE" "image mode"
assert_eq 2 "$ST_EPOCH" "image epoch"
got=$(sha_block "$(dm_path img)" $Y)
assert_ne "$P1" "$got" "image block $Y reads the dropped snapshot's data (entry before data)"
assert_eq "$(sha_block "$OI" $Y)" "$got" "image block $Y (not acknowledged: the origin's)"
dm_remove img
dm_release cowdata
wait $fua || die "the FUA write failed"
assert_eq "$P2" "$(sha_block "$L" $Y)" "live block $Y after the FUA write"

note "rule 1: the acknowledged FUA write survives"
crash_image
assert_eq "$P2" "$(sha_block "$(dm_path img)" $Y)" "image block $Y after the acknowledgement"
dm_remove img

note "rule 2: the superblock of a new snapshot is held"
dm_msg live drop
vmfit_status live
assert_eq 2 "$ST_EPOCH" "epoch after the drop"
dm_hold origin
# An old-generation write: the new snapshot cannot drain while it is held.
put_block "$L" 100 "$TESTDIR/p3" &
old=$!
sleep 1
dm_hold cowsb
dm_msg live snapshot &
msg=$!
# Soon: before a periodic commit (every second) could hold the lock.
sleep 0.2
put_block "$L" $Y "$TESTDIR/p3" dsync &
fua=$!
sleep 2
# Status never waits for a commit (the snapshot's is held now), also as an
# unprivileged user through netlink.
timeout 30 dmsetup status "$PREFIX"live >/dev/null ||
	die "dmsetup status waited for a held commit"
timeout 30 vmfit-nlfuzz unpriv "$(dm_name live)" >"$TESTDIR/unpriv" ||
	die "unprivileged netlink status failed or waited: $(cat "$TESTDIR/unpriv")"
crash_image
vmfit_status img
assert_eq normal "$ST_MODE" "image mode (the snapshot's superblock was held)"
assert_eq 2 "$ST_EPOCH" "image epoch"
snapshot_ready img
# Entries come back (or not) when the mapping is loaded: reload.
dm_remove img
vmfit_create img "$OI" "$CI" 8
vmfit_status img
assert_eq snapshot "$ST_MODE" "image mode after a snapshot and a reload"
assert_eq 3 "$ST_EPOCH" "image epoch after a snapshot"
assert_eq "$(sha_dev "$OI")" "$(sha_dev "$(dm_path img)")" \
	"image after a snapshot: an entry of the interrupted epoch came back"
dm_remove img
dm_release cowsb
dm_release origin
wait $msg || die "the snapshot message failed"
wait $old || die "the old-generation write failed"
wait $fua || die "the FUA write failed"
wait_status live VIEW ready 30
vmfit_status live
assert_eq 3 "$ST_EPOCH" "live epoch"
assert_eq "$P3" "$(sha_block "$L" $Y)" "live block $Y"
assert_eq ok "$ST_HEALTH" "live health"
dm_msg live drop
note "ok"
