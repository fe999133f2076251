#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# One instance per live device across table swaps (issue 9 §3), under
# slub_debug=FZPU (a use-after-free is a slab report or an oops):
# - a reload with the identical table line while a vmfit-view is open is
#   accepted and keeps the instance: no metadata load ("loaded:" is not
#   logged, "reload kept the instance" is), the same mode, epoch and cow
#   use, the view still reads the frozen image and the live device its
#   data;
# - a reload with another table line (a feature added) is refused while
#   the view pins the snapshot;
# - a checksum session held open across an identical reload runs to its
#   end (the dump ends without an error);
# - after merge, the origin holds the live data; after `remove --force`
#   of the live device a view fails with EIO and the module cannot be
#   unloaded while the view exists.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_snapshot_fixture 32 8 7
vmtest-io write "$L" 3 300
view_create view live
V=$(dm_path view)
sumL=$(sha_dev "$L")
vmfit_status live
before="$ST_MODE $ST_EPOCH $ST_COW_USED $ST_CHANGED"
table=$(dmsetup table "$N")

note "identical reload under the open view"
kmsg_mark
dmsetup reload "$N" --table "$table" || die "identical reload refused"
timeout 60 dmsetup resume "$N" || die "resume of the identical reload failed"
log=$(kmsg_since_mark)
grep -q "reload kept the instance" <<<"$log" || die "no 'reload kept the instance' in: $log"
! grep -q "loaded: mode" <<<"$log" || die "the reload read the metadata back: $log"
vmfit_status live
assert_eq "$before" "$ST_MODE $ST_EPOCH $ST_COW_USED $ST_CHANGED" \
	"mode epoch cow-used changed after the reload"
assert_eq "$SUM0" "$(sha_dev "$V")" "view after the identical reload"
assert_eq "$sumL" "$(sha_dev "$L")" "live after the identical reload"
vmtest-io write "$L" 4 50
sumL=$(sha_dev "$L")

note "another table line is refused while the view pins the snapshot"
expect_fail "Cannot reload: a vmfit-view or a checksum pins the snapshot" \
	dmsetup reload "$N" --table "$table 1 ignore_discard"
dmsetup clear "$N"
dm_remove view

note "a checksum session across an identical reload"
csum_hold_start "$N"
dmsetup reload "$N" --table "$table" || die "identical reload refused under a checksum"
timeout 60 dmsetup resume "$N" || die "resume failed under a checksum"
csum_hold_end
assert_match "^end 0 " "$CSUM_END" \
	"the checksum after the identical reload"

note "merge after the reloads"
dm_msg live merge
wait_status live MODE normal 120
assert_eq "$sumL" "$(sha_dev "$L")" "live after the merge"
assert_eq "$sumL" "$(sha_dev "$O")" "origin after the merge"

note "remove --force under a view, then module unload"
snapshot_ready live
view_create view live
# The table becomes dm-error; the remove itself fails (the view holds the
# device open).
timeout 60 dmsetup remove --force "$N" 2>/dev/null || [ $? != 124 ] ||
	die "remove --force hung"
expect_fail "Input/output error" dd if="$V" of=/dev/null bs=4k count=1 iflag=direct
assert_match "^0 [0-9]+ vmfit-view gone " "$(dmsetup status "$(dm_name view)")" \
	"view status once the live table is gone"
expect_fail "in use" rmmod dm_vmfit
dm_remove view
dm_remove live
note "ok"
