#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline ima_policy=critical_data
#
# dm conventions of the vmfit target, on origin and cow devices with
# 4 KiB logical blocks (loop devices, -b 4096):
# - STATUSTYPE_TABLE names the devices major:minor, whatever path the
#   table was loaded with, and keeps the feature argument;
# - the IMA measurement of the table load (ima_policy=critical_data) holds
#   the target's identity: devices, chunk size, feature;
# - io_hints: minimum and optimal I/O size at the chunk size, discard
#   granularity at least the chunk size (discards advertised), none with
#   ignore_discard;
# - on 4 KiB-sector devices, with 8 KiB chunks (a 4 KiB write is a partial
#   chunk: the rest is copied by kcopyd): the view is the frozen origin
#   after writes, and merge then gives the live device's bytes.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
loop_create origin 32 4096
loop_create cow 32 4096
assert_eq 4096 "$(blockdev --getss "$origin")" "origin logical block size"
vmtest-io fill "$origin" 5
vmfit_create live "$origin" "$cow" 16
L=$(dm_path live)
N=$(dm_name live)
mm=$(dm_devno live)
chunk=$((16 * 512))

note "table line: major:minor"
assert_eq "0 $(dev_sectors "$origin") vmfit $(devno "$origin") $(devno "$cow") 16" \
	"$(dmsetup table "$N")" "table line"
assert_eq 4096 "$(blockdev --getss "$L")" "live logical block size"

note "io hints"
q=/sys/dev/block/$mm/queue
assert_eq $chunk "$(cat $q/minimum_io_size)" "minimum_io_size"
assert_eq $chunk "$(cat $q/optimal_io_size)" "optimal_io_size"
dg=$(cat $q/discard_granularity)
assert_le $chunk "$dg" "discard_granularity"
assert_ne 0 "$(cat $q/discard_max_bytes)" "discards advertised"

note "IMA measurement of the table load"
sec=/sys/kernel/security
[ -e $sec/ima ] || mount -t securityfs securityfs $sec
log=$sec/ima/ascii_runtime_measurements
[ -r $log ] || die "no IMA measurement log (ima_policy=critical_data)"
want="target_name=vmfit,target_version=1.3.0,origin_name=$(devno "$origin"),cow_name=$(devno "$cow"),chunk_sectors=16,ignore_discard=n;"
# (No process substitution: the guest has no /dev/fd.)
awk '$5 == "dm_table_load" { print $6 }' $log >"$TESTDIR/ima"
found=0
while read -r hex; do
	buf=$(printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")")
	if grep -qF -- "$want" <<<"$buf"; then
		found=1
		break
	fi
done <"$TESTDIR/ima"
((found)) || die "no dm_table_load measurement with '$want' in $(wc -l <"$TESTDIR/ima") table loads"

note "4 KiB sectors: snapshot, partial-chunk writes, view, merge"
sum0=$(sha_dev "$origin")
snapshot_ready live
vmtest-io write "$L" 7 300
view_create view live
V=$(dm_path view)
assert_eq 4096 "$(blockdev --getss "$V")" "view logical block size"
assert_eq "$sum0" "$(sha_dev "$V")" "view = origin frozen at the snapshot"
sum1=$(sha_dev "$L")
assert_ne "$sum0" "$sum1" "writes went to the live device"
vmfit_status live
assert_le 1 "$ST_COW_USED" "cow chunks used"
dm_remove view
dm_msg live merge
wait_status live MODE normal 60
assert_eq "$sum1" "$(sha_dev "$L")" "live after merge"
assert_eq "$sum1" "$(sha_dev "$origin")" "origin after merge"
dm_remove live

note "ignore_discard: no discards advertised"
vmfit_create live "$origin" "$cow" 16 ignore_discard
assert_eq "0 $(dev_sectors "$origin") vmfit $(devno "$origin") $(devno "$cow") 16 1 ignore_discard" \
	"$(dmsetup table "$N")" "table line with the feature"
assert_eq 0 "$(cat /sys/dev/block/$(dm_devno live)/queue/discard_max_bytes)" \
	"discards with ignore_discard"
dm_remove live
note "ok"
