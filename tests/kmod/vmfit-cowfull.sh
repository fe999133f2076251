#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A full cow store: writes that need a new cow chunk fail with an error,
# health becomes cow_full, writes to already-mapped chunks and all reads
# keep working, nothing written before is lost, the view stays intact.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
slice origin "$DISK_A" 0 64
slice cow "$DISK_B" 0 2
O=$(dm_path origin)
C=$(dm_path cow)
zero_dev "$O"
zero_dev "$C"
vmtest-io write "$O" 1 2000
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
vmfit_status live
total=$ST_COW_TOTAL
assert_le 1 "$total" "cow total of a 2 MiB cow"
assert_le "$total" 511 "cow total of a 2 MiB cow"
note "cow holds $total data chunks"

sum0=$(sha_dev "$O")
snapshot_ready live
view_create view live
V=$(dm_path view)

note "fill the cow exactly: chunks 0..$((total - 1))"
dd if=/dev/urandom of="$TESTDIR/fill" bs=4096 count="$total" 2>/dev/null
dd if="$TESTDIR/fill" of="$L" bs=4096 oflag=direct conv=notrunc,fsync 2>/dev/null
vmfit_status live
assert_eq "$total" "$ST_COW_USED" "cow used when full"
assert_eq ok "$ST_HEALTH" "health with every chunk used but none refused"

note "one more new chunk: the write fails"
kmsg_mark
expect_fail "cow device is full" dd if=/dev/urandom of="$L" bs=4096 count=1 \
	seek=$((total + 10)) oflag=direct conv=notrunc,fsync
vmfit_status live
assert_eq cow_full "$ST_HEALTH" health
assert_eq "$total" "$ST_COW_USED" "cow used after the refused write"

note "writes to mapped chunks and reads still work; nothing is lost"
dd if=/dev/urandom of="$TESTDIR/again" bs=4096 count=3 2>/dev/null
dd if="$TESTDIR/again" of="$L" bs=4096 seek=5 oflag=direct conv=notrunc,fsync 2>/dev/null
dd if="$TESTDIR/again" of="$TESTDIR/fill" bs=4096 seek=5 conv=notrunc 2>/dev/null
assert_eq "$(sha256sum <"$TESTDIR/fill" | cut -d' ' -f1)" \
	"$(sha_dev "$L" 0 $((total * 8)))" "data written before the cow filled"
assert_eq "$(sha_dev "$O" $((total * 8)) $((64 * 2048 - total * 8)))" \
	"$(sha_dev "$L" $((total * 8)) $((64 * 2048 - total * 8)))" \
	"unwritten chunks still read from the origin"
assert_eq "$sum0" "$(sha_dev "$V")" "view with a full cow"
assert_eq "$sum0" "$(sha_dev "$O")" "origin with a full cow"

note "drop recovers: normal mode, health ok, writes work"
dm_remove view
dm_msg live drop
vmfit_status live
assert_eq normal "$ST_MODE" "mode after drop"
assert_eq ok "$ST_HEALTH" "health after drop"
assert_eq "$sum0" "$(sha_dev "$L")" "live after drop"
fio_verify "$L" after-drop --size=16M --number_ios=300
