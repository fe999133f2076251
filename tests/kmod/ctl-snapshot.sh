#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-ctl's snapshot life cycle on a live target: snapshot (and its
# refusals), view (default and given names; the view shows the frozen
# origin), the view blocking merge / drop / remove, drop (the origin is the
# frozen state again), merge --wait (progress, then normal mode with the
# writes folded into the origin) and merge without --wait; --json on each.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/ctl.sh"
need_vmfit

loop_create origin 64
loop_create cow 32
V=$(dm_name vol)
W=$V-view
dev=/dev/mapper/$V
span=512	# sectors compared: the first 64 chunks of 4 KiB

note "create with the default chunk size"
out=$(vmfit-ctl create "$V" "$origin" "$cow")
ctl_track "$V"
assert_eq "$V: created vmfit device over $origin (cow $cow, chunk 4 KiB)" \
	"$out" "create output"
dd if=/dev/urandom of="$dev" bs=4k count=64 oflag=direct conv=notrunc 2>/dev/null
frozen=$(sha_dev "$dev" 0 $span)

note "snapshot"
out=$(vmfit-ctl snapshot "$V")
assert_match "^$V: snapshot taken, epoch [0-9]+ \\(view (ready|draining)\\)$" \
	"$out" "snapshot output"
vmfit_status vol
assert_eq snapshot "$ST_MODE" "mode after snapshot"
epoch1=$ST_EPOCH
assert_match "epoch $epoch1 " "$out" "snapshot reports the status epoch"
ctl_fail 1 "vmfit-ctl: snapshot: $V: Device or resource busy" snapshot "$V"
ctl_fail 1 "hint: a snapshot is already active or a merge is running" snapshot "$V"
ctl_fail 1 "vmfit-ctl: clear: $V: Device or resource busy" clear "$V"
ctl_fail 1 "hint: clear works in normal mode only" clear "$V"

note "view"
out=$(vmfit-ctl view "$V")
ctl_track "$W"
assert_match "^$W: created read-only frozen view of $V \\(view (ready|draining)\\)$" \
	"$out" "view output"
wait_status vol VIEW ready 30
ctl_fail 1 "vmfit-ctl: view: $W: File exists" view "$V"
human=$(vmfit-ctl status "$V")
echo "$human"
row=$(sed -n 2p <<<"$human")
assert_match "^$V +snapshot +$epoch1 +4 KiB .* ready: $W +[0-9.]+ ms +[0-9.]+ ms +- +ok$" \
	"$row" "status row with a view"
json=$(vmfit-ctl --json status "$V")
for kv in '"mode":"snapshot"' '"view":"ready"' "\"view_devices\":[\"$W\"]" \
	  "\"epoch\":$epoch1"; do
	grep -qF -- "$kv" <<<"$json" || die "status --json lacks $kv: $json"
done
[ "$(blockdev --getro "/dev/mapper/$W")" = 1 ] || die "the view is not read-only"
assert_eq "$(dev_sectors "$dev")" "$(dev_sectors "/dev/mapper/$W")" "view size"

note "writes after the snapshot do not reach the view"
dd if=/dev/urandom of="$dev" bs=4k count=1 seek=2 oflag=direct conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$dev" bs=4k count=2 seek=10 oflag=direct conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$dev" bs=512 count=1 seek=$((20 * 8 + 1)) oflag=direct conv=notrunc 2>/dev/null
assert_eq "$frozen" "$(sha_dev "/dev/mapper/$W" 0 $span)" "view content"
assert_ne "$frozen" "$(sha_dev "$dev" 0 $span)" "live content after writes"
live=$(sha_dev "$dev" 0 $span)

note "an open view blocks merge, drop and remove"
ctl_fail 1 "vmfit-ctl: merge: $V: Device or resource busy" merge "$V"
ctl_fail 1 "hint: a vmfit-view is open on it; remove the view first" merge "$V"
ctl_fail 1 "vmfit-ctl: drop: $V: Device or resource busy" drop "$V"
ctl_fail 1 "hint: views use it; remove them first: vmfit-ctl remove $W" remove "$V"
dm_exists vol || die "a refused remove removed $V"
assert_eq "$live" "$(sha_dev "$dev" 0 $span)" "live content after refusals"

note "remove the view, drop the snapshot"
assert_eq "$W: removed" "$(vmfit-ctl remove "$W")" "remove view output"
out=$(vmfit-ctl drop "$V")
assert_eq "$V: snapshot dropped: writes since it are discarded" "$out" "drop output"
vmfit_status vol
assert_eq normal "$ST_MODE" "mode after drop"
assert_eq - "$ST_VIEW" "view after drop"
assert_eq "$frozen" "$(sha_dev "$dev" 0 $span)" "content after drop"

note "snapshot --json, a named view, merge --wait"
out=$(vmfit-ctl --json snapshot "$V")
assert_match '^\{"name":"'"$V"'","action":"snapshot","mode":"snapshot","epoch":[0-9]+,"view":"(ready|draining)"\}$' \
	"$out" "snapshot --json"
vmfit_status vol
((ST_EPOCH > epoch1)) || die "epoch did not grow: $epoch1 -> $ST_EPOCH"
F=$(dm_name frozen)
out=$(vmfit-ctl --json view "$V" "$F")
ctl_track "$F"
assert_match '^\{"name":"'"$F"'","action":"view"' "$out" "view --json"
wait_status vol VIEW ready 30
assert_eq "$frozen" "$(sha_dev "/dev/mapper/$F" 0 $span)" "named view content"
vmfit-ctl remove "$F" >/dev/null
dd if=/dev/urandom of="$dev" bs=4k count=8 seek=5 oflag=direct conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$dev" bs=512 count=3 seek=$((30 * 8 + 2)) oflag=direct conv=notrunc 2>/dev/null
after=$(sha_dev "$dev" 0 $span)
assert_ne "$frozen" "$after" "content after the second round of writes"
out=$(vmfit-ctl merge --wait "$V")
echo "$out"
assert_eq "$V: merge done, back in normal mode" "$(tail -n1 <<<"$out")" \
	"merge --wait last line"
n=$(grep -c "^merge $V: [0-9]*/[0-9]* chunks ([0-9]*%)$" <<<"$out" || true)
assert_eq "$(($(wc -l <<<"$out") - 1))" "$n" "merge --wait progress lines: $out"
vmfit_status vol
assert_eq normal "$ST_MODE" "mode after merge"
assert_eq 0 "$ST_COW_USED" "cow used after merge"
assert_eq "$after" "$(sha_dev "$dev" 0 $span)" "live content after merge"
assert_eq "$after" "$(sha_dev "$origin" 0 $span)" "origin content after merge"
ctl_fail 1 "vmfit-ctl: merge: $V: Invalid argument" merge "$V"
ctl_fail 1 "hint: no snapshot is active" merge "$V"

note "merge without --wait, then --json merge --wait on nothing to merge"
vmfit-ctl snapshot "$V" >/dev/null
dd if=/dev/urandom of="$dev" bs=4k count=1 seek=40 oflag=direct conv=notrunc 2>/dev/null
after=$(sha_dev "$dev" 0 $span)
out=$(vmfit-ctl merge "$V")
assert_eq "$V: merge started; follow it with: vmfit-ctl status" "$out" "merge output"
wait_status vol MODE normal 60
assert_eq "$after" "$(sha_dev "$origin" 0 $span)" "origin after background merge"
vmfit-ctl snapshot "$V" >/dev/null
out=$(vmfit-ctl --json merge --wait "$V")
assert_match '^\{"name":"'"$V"'","action":"merge","mode":"normal","epoch":[0-9]+,"view":"-"\}$' \
	"$out" "merge --json --wait"

assert_eq "$V: removed" "$(vmfit-ctl remove "$V")" "remove output"
note "ok"
