#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A full-chunk write whose table leaf map() cannot allocate (GFP_NOWAIT,
# forced by the module's test_nomem_every knob) keeps the cow chunk map()
# allocated for it: the worker maps it with GFP_NOIO.  Nothing leaks (cow
# chunks used = chunks written), the data, the view and the mapping after
# a reload from the cow are right, and the merge folds it all back.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
KNOB=/sys/module/dm_vmfit/parameters/test_nomem_every
[ -w "$KNOB" ] || die "$KNOB is missing"
MB=16
N=$((MB * 256))		# 4 KiB blocks = chunks
COUNT=600
origin_cow_ref $MB
zero_dev "$O"
vmtest-io write "$O" 1 300
copy_dev "$O" "$REF" $((MB * 2048))
frozen=$(sha_dev "$O")
vmfit_create live "$O" "$C" 8
L=$(dm_path live)

snapshot_ready live
at_exit "echo 0 >$KNOB"
echo 2 >"$KNOB"
vmtest-io write "$L" 7 $COUNT
echo 0 >"$KNOB"
vmtest-io write "$REF" 7 $COUNT
written=$(vmtest-io list 7 $COUNT 0 $N | sort -un | wc -l)
vmfit_status live
assert_eq "$written" "$ST_COW_USED" "cow chunks used for $written chunks written (none leaked)"
assert_eq "ok" "$ST_HEALTH" "health"
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live device after the writes"
view_create view live
assert_eq "$frozen" "$(sha_dev "$(dm_path view)")" "view: the frozen origin"
dm_remove view

note "reload from the cow: the chunks mapped by the worker were committed"
dm_remove live
vmfit_create live "$O" "$C" 8
vmfit_status live
assert_eq "snapshot" "$ST_MODE" "mode after the reload"
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live device after the reload"

dm_msg live merge
wait_status live MODE normal 120
assert_eq "$(sha_dev "$REF")" "$(sha_dev "$O")" "origin after the merge"
