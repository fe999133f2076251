#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle with a checksum session held open (vmfit-nlfuzz csumhold: the
# dump is started, its first message read, then left waiting), under
# slub_debug=FZPU (a use-after-free is a slab report or an oops):
# - the session pins the snapshot like a view: merge and drop are refused
#   with the core API's reason, a reload of the live device with another
#   table line is refused by the new table's constructor (an identical one
#   keeps the instance: vmfit-life-swap.sh);
# - the module cannot be unloaded (the live table, then the dump, hold it);
# - `dmsetup remove --force` of the live device: the held dump ends with
#   ENODEV ("The device went away during the checksum"), the module still
#   cannot be unloaded while the dump is open, and once it is closed no
#   session is left and the module's reference count is back.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
sessions() {
	cat /sys/module/dm_vmfit/parameters/csum_sessions
}
refcnt() {
	cat /sys/module/dm_vmfit/refcnt
}

ref0=$(refcnt)
vmfit_fixture 32 8 9
snapshot_ready live

note "a checksum session held open"
csum_hold_start "$N"
assert_eq 1 "$(sessions)" "checksum sessions"

expect_fail "merge: A vmfit-view or a checksum uses the snapshot" dm_msg live merge
expect_fail "drop: A vmfit-view or a checksum uses the snapshot" dm_msg live drop
expect_fail "Cannot reload: a vmfit-view or a checksum pins the snapshot" \
	dmsetup reload "$N" --table "$(dmsetup table "$N") 1 ignore_discard"
dmsetup clear "$N"
expect_fail "in use" rmmod dm_vmfit

note "remove --force of the live device under the held session"
timeout 60 dmsetup remove --force "$N" || die "remove --force failed or hung"
expect_fail "in use" rmmod dm_vmfit
csum_hold_end
end=$CSUM_END
assert_eq "end 19 The device went away during the checksum" "$end" \
	"the held dump after remove --force"
assert_eq 0 "$(sessions)" "checksum sessions after the dump ended"
# Nothing held the device open: remove --force removed it too.
! dm_exists live || die "the live device is still there after remove --force"
assert_eq "$ref0" "$(refcnt)" "module reference count at the end"
note "ok"
