#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifetime of vmfit-view (under slub_debug=FZPU: a use-after-free is a
# slab report or an oops, which fails the test):
# - a view can be created while something holds the live device
#   exclusively (vmtest-io hold: the O_EXCL claim a mounted filesystem
#   holds; a dm-linear table on top is refused meanwhile, as with a mount);
#   it shows the frozen origin, and the live device cannot be removed while
#   it is open;
# - `dmsetup remove --force` of the live device (its table becomes dm-error
#   and the vmfit instance is destroyed) while the view is open and being
#   read: the view fails every read with EIO and reports `gone`, no freed
#   memory is touched (the kernel-log check of vmtest catches an oops), and
#   both devices are removed cleanly.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_fixture 16 8 6
snapshot_ready live
sum0=$(sha_dev "$O")
vmtest-io write "$L" 7 200

note "a view of a live device held exclusively"
vmtest-io hold "$L" >"$TESTDIR/hold" &
h=$!
for i in $(seq 50); do
	grep -q held "$TESTDIR/hold" && break
	sleep 0.1
done
grep -q held "$TESTDIR/hold" || die "vmtest-io hold did not start"
expect_fail "Device or resource busy" \
	dmsetup create "$(dm_name top)" --table "0 8 linear $L 0"
view_create view live
V=$(dm_path view)
assert_eq "$sum0" "$(sha_dev "$V")" "view of an exclusively held live device"
assert_match "^0 [0-9]+ vmfit-view ready $(dm_devno live)\$" \
	"$(dmsetup status "$(dm_name view)")" "view status"
kill $h
wait $h 2>/dev/null || true
expect_fail "Device or resource busy" dmsetup remove "$(dm_name live)"
dm_exists live || die "live device removed while a view used it"

note "remove --force of the live device while the view is read"
(while dd if="$V" of=/dev/null bs=64k iflag=direct 2>/dev/null; do :; done) &
reader=$!
sleep 1
dmsetup remove --force "$(dm_name live)" 2>/dev/null || true
wait $reader || true
expect_fail "Input/output error" dd if="$V" of=/dev/null bs=4k count=1 iflag=direct
assert_match "^0 [0-9]+ vmfit-view gone " "$(dmsetup status "$(dm_name view)")" \
	"view status once the live table is gone"
dm_remove view
dm_remove live
note "ok"
