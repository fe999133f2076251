#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test harness itself, on dm-linear (no vmfit needed): scratch disks,
# dm naming and teardown, expect_fail against the kernel's error text,
# checksums of device ranges, fio verify, the state area, vmtest-io, and
# at_exit hooks (a failing test keeps its status).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_guest
for d in "$DISK_A" "$DISK_B" "$DISK_C" "$DISK_D"; do
	[ -b "$d" ] || die "scratch disk $d missing"
done
sz=$(dev_sectors "$DISK_A")
assert_le $((1024 * 2048)) "$sz" "scratch disk size"

note "dm-linear over $DISK_A, fio verify through it"
dm_create lin "0 $((64 * 2048)) linear $DISK_A 0"
fio_verify "$(dm_path lin)" lin --size=32M --number_ios=800

note "bad tables are rejected with the kernel's text, nothing created"
before=$(dm_ls)
expect_fail "Invalid argument count" dm_create bad "0 2048 linear $DISK_A"
expect_fail "Invalid device sector" dm_create bad "0 2048 linear $DISK_A x"
assert_eq "$before" "$(dm_ls)" "device list after rejected tables"

note "checksums: the linear device equals its backing range"
vmtest-io write "$(dm_path lin)" 11 500
assert_eq "$(sha_dev "$DISK_A" 0 $((64 * 2048)))" \
	"$(sha_dev "$(dm_path lin)")" "linear vs backing sha256"
a=$(sha_dev "$DISK_A" 2048 2048)
vmtest-io write "$DISK_A" 12 1 256 1
assert_ne "$a" "$(sha_dev "$DISK_A" 2048 2048)" "sha256 after a write"

note "a reference copy receives the same deterministic writes"
copy_dev "$DISK_A" "$DISK_B" $((16 * 2048))
vmtest-io write "$DISK_A" 13 300 0 $((16 * 256))
vmtest-io write "$DISK_B" 13 300 0 $((16 * 256))
assert_eq "$(sha_dev "$DISK_A" 0 $((16 * 2048)))" \
	"$(sha_dev "$DISK_B" 0 $((16 * 2048)))" "reference copy"

note "state area round trip"
state_clear
state_save a=1 b=two
state_save a=3
assert_eq 3 "$(state_get a)" "state a"
assert_eq two "$(state_get b)" "state b"

note "status parser rejects a short line"
out=$( (vmfit_parse_status "0 8 vmfit normal 0") 2>&1) && die "short status accepted"
assert_match "fields" "$out" "status parser error"
vmfit_parse_status "0 8 vmfit snapshot 2 5 3/100 ready 0 1234 0/0 ok"
assert_eq snapshot "$ST_MODE" mode
assert_eq 100 "$ST_COW_TOTAL" "cow total"
assert_eq "0 1 2 3 17 20 21" "$(expand_ranges "0-3,17,20-21" | tr '\n' ' ' | sed 's/ $//')" ranges

note "loop device with 4096-byte logical blocks"
loop_create l 16 4096
assert_eq 4096 "$(blockdev --getss "$l")" "logical block size"

note "at_exit hooks run on failure, last first, and the failure's status stays"
out=$(VMTEST_NAME=atexit bash -c '
	. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
	at_exit "echo first"
	at_exit "echo second"
	false' 2>/dev/null) && die "a failing test with at_exit hooks exited 0"
assert_eq "$(printf 'second\nfirst')" "$out" "at_exit order"
out=$(VMTEST_NAME=atexit bash -c '
	. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
	at_exit "echo hook"') || die "a passing test with an at_exit hook failed"
assert_eq hook "$out" "at_exit on success"
