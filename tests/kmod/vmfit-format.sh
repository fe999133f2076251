#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Commit protocol, rule 5: bitmap blocks and mapping sectors carry
# checksums (cow format 3) and a bad one is handled by the documented rule:
# - a changed-set block that fails its checksum counts all its chunks as
#   changed (over-reporting is safe), with a kernel warning, and is
#   rewritten;
# - a mapping sector that fails its checksum (corrupt, or written to the
#   wrong place) refuses the table with a clear message; an all-zero
#   sector is empty; the sectors a load reads past the chunks in use
#   (up to the superblock's allocation mark) are never an earlier
#   format's;
# - a format 1 or format 2 cow device is refused with a message that says
#   what to do.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=16
CHUNKS=$((MB * 256))
slice origin "$DISK_A" 0 $MB
slice cow "$DISK_B" 0 $MB
O=$(dm_path origin)
C=$(dm_path cow)
vmtest-io fill "$O" 4
zero_dev "$C" 0 8
TABLE="0 $(dev_sectors "$O") vmfit $O $C 8"
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
MAP=$(vmfit_sb_u64 "$C" 56)
ver=$(vmfit_sb_u32 "$C" 8)
assert_eq 3 "$ver" "superblock version"

# flip_byte DEV BYTE - invert one byte (read-modify-write of its sector).
flip_byte() {
	local s=$(($2 / 512)) o=$(($2 % 512)) b
	dd if="$1" of="$TESTDIR/sec" bs=512 skip=$s count=1 iflag=direct 2>/dev/null
	b=$(od -An -t u1 -j $o -N 1 "$TESTDIR/sec" | tr -d ' ')
	printf "\\x$(printf %02x $((255 - b)))" |
		dd of="$TESTDIR/sec" bs=1 seek=$o conv=notrunc 2>/dev/null
	dd if="$TESTDIR/sec" of="$1" bs=512 seek=$s count=1 oflag=direct conv=notrunc 2>/dev/null
}

note "a bad changed-set block: every chunk of it counts as changed"
vmtest-io write "$L" 1 1 3 1
dm_remove live
dm_create live "$TABLE"
assert_eq 3 "$(vmfit_changed live | tr '\n' ' ' | sed 's/ $//')" \
	"changed set after a clean reload"
dm_remove live
flip_byte "$C" $((4096 + 100))
kmsg_mark
dm_create live "$TABLE"
kmsg_since_mark | grep -q "changed-set block 0 fails its checksum" ||
	die "no warning for a bad changed-set block: $(kmsg_since_mark)"
vmfit_status live
assert_eq $CHUNKS "$ST_CHANGED" "changed chunks after a bad changed-set block"
dm_remove live
kmsg_mark
dm_create live "$TABLE"
kmsg_since_mark | grep -q "fails its checksum" && die "the bad block was not rewritten"
dm_msg live clear
vmfit_status live
assert_eq 0 "$ST_CHANGED" "changed chunks after clear"

note "a bad mapping sector refuses the table"
snapshot_ready live
head -c 4096 /dev/urandom >"$TESTDIR/blk"
put_block "$L" 5 "$TESTDIR/blk" dsync
want=$(sha_block "$L" 5)
dm_remove live
dd if="$C" of="$TESTDIR/map0" bs=512 skip="$MAP" count=1 iflag=direct 2>/dev/null
flip_byte "$C" $((MAP * 512 + 40))
expect_fail "Cow mapping fails its checksum: the cow device is corrupt" \
	dmsetup create "$(dm_name live)" --table "$TABLE"
dm_exists live && die "a table with a bad mapping sector was created"
note "a mapping sector written to the wrong place refuses the table"
dd if="$TESTDIR/map0" of="$C" bs=512 seek=$((MAP + 1)) count=1 oflag=direct conv=notrunc 2>/dev/null
zero_dev "$C" "$MAP" 1
expect_fail "Cow mapping fails its checksum" \
	dmsetup create "$(dm_name live)" --table "$TABLE"
note "restored, it loads again"
zero_dev "$C" $((MAP + 1)) 1
dd if="$TESTDIR/map0" of="$C" bs=512 seek="$MAP" count=1 oflag=direct conv=notrunc 2>/dev/null
dm_create live "$TABLE"
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after the restore"
assert_eq "$want" "$(sha_block "$L" 5)" "block 5 after the restore"
dm_msg live drop
dm_remove live

note "a cow formatted again over an earlier mapping loads in snapshot mode"
# A load reads the mapping up to the superblock's allocation mark, which
# lies ahead of the chunks in use: the blocks up to it must not be read as
# they were left by the earlier format (its nonce: checksum failure).
zero_dev "$C" 0 8
dm_create live "$TABLE"
snapshot_ready live
vmtest-io write "$L" 11 2000
dm_msg live drop
dm_remove live
zero_dev "$C" 0 8
dm_create live "$TABLE"
snapshot_ready live
vmtest-io write "$L" 12 10
want=$(sha_dev "$L")
dm_remove live
dm_create live "$TABLE" ||
	die "a cow formatted again did not load: $(dmesg | tail -n 3)"
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after the reload"
assert_eq "$want" "$(sha_dev "$L")" "live device after the reload"
dm_msg live drop
dm_remove live

note "a format 1 cow device is refused"
zero_dev "$C" 0 8
printf '\x15\x53\x40\x89\x54\x46\x4d\x56\x01\x00\x00\x00' >"$TESTDIR/sb1"
head -c 500 /dev/zero >>"$TESTDIR/sb1"
dd if="$TESTDIR/sb1" of="$C" bs=512 count=1 oflag=direct conv=notrunc 2>/dev/null
expect_fail "Cow device has format 1, this module needs format 3" \
	dmsetup create "$(dm_name live)" --table "$TABLE"
note "a format 2 cow device is refused"
zero_dev "$C" 0 8
printf '\xf0\x68\x2e\xeb\x54\x46\x4d\x56\x02\x00\x00\x00' >"$TESTDIR/sb2"
head -c 500 /dev/zero >>"$TESTDIR/sb2"
dd if="$TESTDIR/sb2" of="$C" bs=512 count=1 oflag=direct conv=notrunc 2>/dev/null
expect_fail "Cow device has format 2, this module needs format 3" \
	dmsetup create "$(dm_name live)" --table "$TABLE"
note "ok"
