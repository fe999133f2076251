#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Bad input: every malformed table line and message is rejected with its
# precise error text (dmsetup output or kernel log), and nothing is created
# or changed: no new device, the cow device's bytes are unchanged.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
slice origin "$DISK_A" 0 64
slice cow "$DISK_B" 0 16

dm_create tiny "0 8 linear $DISK_B $((100 * 2048))"
O=$(dm_path origin)
C=$(dm_path cow)
T=$(dm_path tiny)
SZ=$((64 * 2048))
vmtest-io write "$C" 3 100 0 4096
zero_dev "$C" 0 8
zero_dev "$T"
devs=$(dm_ls)
cow_sum=$(sha_dev "$C")
tiny_sum=$(sha_dev "$T")

# reject TEXT TABLE: the table is refused with TEXT, nothing changes.
reject() {
	expect_fail "$1" dm_create bad "$2"
	assert_eq "$devs" "$(dm_ls)" "devices after '$2'"
	assert_eq "$cow_sum" "$(sha_dev "$C")" "cow bytes after '$2'"
}

note "argument counts"
reject "Invalid argument count" "0 $SZ vmfit"
reject "Invalid argument count" "0 $SZ vmfit $O"
reject "Invalid argument count" "0 $SZ vmfit $O $C"
reject "Invalid argument count" "0 $SZ vmfit $O $C 8 0 extra"
reject "Invalid number of feature arguments" "0 $SZ vmfit $O $C 8 2 ignore_discard ignore_discard"
reject "Invalid number of feature arguments" "0 $SZ vmfit $O $C 8 1"
reject "Unrecognised feature argument" "0 $SZ vmfit $O $C 8 1 bogus"

note "chunk sizes"
reject "Invalid chunk size: not a number" "0 $SZ vmfit $O $C abc"
reject "Invalid chunk size: not a number" "0 $SZ vmfit $O $C 8x"
reject "Invalid chunk size" "0 $SZ vmfit $O $C -8"
reject "Invalid chunk size: zero" "0 $SZ vmfit $O $C 0"
reject "Invalid chunk size: not a power of two" "0 $SZ vmfit $O $C 12"
reject "Invalid chunk size: larger than 2048 sectors" "0 $SZ vmfit $O $C 4096"
loop_create big 64 4096
reject "Invalid chunk size: smaller than a device's logical block size" \
	"0 $SZ vmfit $big $C 4"
reject "Invalid chunk size: smaller than a device's logical block size" \
	"0 $SZ vmfit $O $big 2"

note "devices"
reject "Origin and cow device must differ" "0 $SZ vmfit $C $C 8"
reject "Error opening origin device" "0 $SZ vmfit /dev/nonexistent $C 8"
reject "Error opening cow device" "0 $SZ vmfit $O /dev/nonexistent 8"
expect_fail "Cow device too small for the metadata and one data chunk" \
	dm_create bad "0 $SZ vmfit $O $T 8"
assert_eq "$tiny_sum" "$(sha_dev "$T")" "tiny cow bytes after the rejection"
assert_eq "$devs" "$(dm_ls)" "devices after a too-small cow"

note "a cow that holds foreign data is not formatted"
dd if=/dev/urandom of="$C" bs=4096 count=1 seek=0 oflag=direct conv=notrunc 2>/dev/null
cow_sum=$(sha_dev "$C")
reject "Cow device holds data that is not a vmfit superblock; zero its first 4 KiB to format it" \
	"0 $SZ vmfit $O $C 8"

note "superblock mismatches"
zero_dev "$C" 0 8
vmfit_create live "$O" "$C" 8
dm_remove live
devs=$(dm_ls)
cow_sum=$(sha_dev "$C")
reject "Chunk size differs from the one in the cow superblock" "0 $SZ vmfit $O $C 16"
reject "Origin size differs from the one in the cow superblock" "0 $((SZ / 2)) vmfit $O $C 8"

note "messages"
vmfit_create live "$O" "$C" 8
expect_fail "unsupported message 'frobnicate'" dm_msg live frobnicate
expect_fail "snapshot takes no arguments" dm_msg live snapshot now
expect_fail "changed takes at most one argument" dm_msg live changed 1 2
expect_fail "changed: invalid start chunk 'x'" dm_msg live changed x
expect_fail "merge: The device has no active snapshot" dm_msg live merge
expect_fail "drop: The device has no active snapshot" dm_msg live drop
vmfit_status live
assert_eq "normal 0" "$ST_MODE $ST_EPOCH" "status after rejected messages"

note "views"
expect_fail "The device has no active snapshot" view_create view live
expect_fail "Device is not a vmfit device" \
	dm_create view "0 $SZ vmfit-view $O"
expect_fail "Invalid argument count" dm_create view "0 $SZ vmfit-view"
expect_fail "Invalid argument count" \
	dm_create view "0 $SZ vmfit-view $(dm_path live) extra"
snapshot_ready live
expect_fail "snapshot: A snapshot is already active" dm_msg live snapshot
expect_fail "clear: Only allowed in normal mode" dm_msg live clear
expect_fail "View is larger than the vmfit device" \
	dm_create view "0 $((SZ * 2)) vmfit-view $(dm_path live)"
vmfit_status live
assert_eq "snapshot 1" "$ST_MODE $ST_EPOCH" "status after rejected messages"
dm_msg live drop
assert_eq "$(printf '%s\n' $devs "$(dm_name live)" | sort)" "$(dm_ls)" "devices at the end"
