#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-ctl on a live target: create (chunk size, table line), status (human
# table and --json against dmsetup status), changed / clear, remove, and
# every device-side error with its message and hint: no such device, not a
# vmfit device, name taken, cow holding foreign data, chunk size below the
# logical block size, view without a snapshot.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/ctl.sh"
need_vmfit

loop_create origin 64
loop_create cow 16
V=$(dm_name vol)

note "create"
out=$(vmfit-ctl create "$V" "$origin" "$cow" --chunk-size 8k)
ctl_track "$V"
assert_eq "$V: created vmfit device over $origin (cow $cow, chunk 8 KiB)" \
	"$out" "create output"
read -r start len target params <<<"$(dmsetup table "$V")"
assert_eq "0 $(dev_sectors "$origin") vmfit" "$start $len $target" "table head"
assert_eq "$(devno "$origin") $(devno "$cow") 16" "$params" "table line"

note "status: --json and the table agree with dmsetup status"
vmfit_status vol
assert_eq normal "$ST_MODE" "mode"
assert_eq 0 "$ST_CHANGED" "changed on a fresh cow"
json=$(vmfit-ctl --json status "$V")
for kv in "\"name\":\"$V\"" '"mode":"normal"' "\"epoch\":$ST_EPOCH" \
	  '"changed_chunks":0' "\"cow_used\":$ST_COW_USED" \
	  "\"cow_total\":$ST_COW_TOTAL" '"view":"-"' '"view_devices":[]' \
	  "\"held_ns\":$ST_HELD_NS" "\"drain_ns\":$ST_DRAIN_NS" \
	  '"merged":0' '"to_merge":0' '"health":"ok"' '"chunk_size":8192' \
	  "\"origin\":\"$(devno "$origin")\"" "\"cow\":\"$(devno "$cow")\"" \
	  "\"size_sectors\":$(dev_sectors "$origin")"; do
	grep -qF -- "$kv" <<<"$json" || die "status --json lacks $kv: $json"
done
assert_match '^\{"devices":\[\{.*\}\]\}$' "$json" "status --json shape"

human=$(vmfit-ctl status "$V")
assert_match '^NAME +MODE +EPOCH +CHUNK +CHANGED +COW USED +VIEW +HELD +DRAIN +MERGED +HEALTH$' \
	"$(head -n1 <<<"$human")" "status header"
assert_match "^$V +normal +$ST_EPOCH +8 KiB +0 chunks +$ST_COW_USED/$ST_COW_TOTAL \\([0-9.]+%\\) +- +[0-9.]+ ms +[0-9.]+ ms +- +ok$" \
	"$(sed -n 2p <<<"$human")" "status row"

note "status without names lists vmfit devices only"
dm_create lin "0 2048 zero"
all=$(vmfit-ctl status)
grep -q "^$V " <<<"$all" || die "status does not list $V: $all"
grep -q "^$(dm_name lin) " <<<"$all" && die "status lists a zero device: $all"
all=$(vmfit-ctl --json status)
grep -qF "\"name\":\"$V\"" <<<"$all" || die "--json status misses $V"
grep -qF "\"name\":\"$(dm_name lin)\"" <<<"$all" && die "--json lists zero"

note "changed and clear"
dev=/dev/mapper/$V
dd if=/dev/urandom of="$dev" bs=8k count=4 oflag=direct conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$dev" bs=8k count=1 seek=17 oflag=direct conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$dev" bs=512 count=1 seek=$((40 * 16 + 3)) oflag=direct conv=notrunc 2>/dev/null
out=$(vmfit-ctl changed "$V")
assert_eq "$V: 6 changed chunks (48 KiB) in 3 ranges:
0-3,17,40" "$out" "changed output"
assert_eq '{"name":"'"$V"'","chunk_size":8192,"chunks":6,"ranges":[[0,3],[17,17],[40,40]]}' \
	"$(vmfit-ctl --json changed "$V")" "changed --json"
assert_eq "$(vmfit_changed vol | tr '\n' ' ')" "0 1 2 3 17 40 " "dmsetup changed"
vmfit_status vol
assert_eq 6 "$ST_CHANGED" "status changed count"
out=$(vmfit-ctl clear "$V")
assert_eq "$V: changed set cleared" "$out" "clear output"
assert_eq "$V: 0 changed chunks (0 B) in 0 ranges" "$(vmfit-ctl changed "$V")" \
	"changed after clear"
assert_eq '{"name":"'"$V"'","chunk_size":8192,"chunks":0,"ranges":[]}' \
	"$(vmfit-ctl --json changed "$V")" "changed --json after clear"
out=$(vmfit-ctl --json clear "$V")
assert_match '^\{"name":"'"$V"'","action":"clear","mode":"normal","epoch":[0-9]+,"view":"-"\}$' \
	"$out" "clear --json"

note "device errors"
ctl_fail 1 "vmfit-ctl: snapshot: $(dm_name nope): No such device" snapshot "$(dm_name nope)"
ctl_fail 1 "hint: no such device $(dm_name nope): see vmfit-ctl status" snapshot "$(dm_name nope)"
ctl_fail 1 "vmfit-ctl: status: $(dm_name nope): No such device" status "$V" "$(dm_name nope)"
ctl_fail 1 "vmfit-ctl: changed: $(dm_name nope): No such device" changed "$(dm_name nope)"
ctl_fail 1 "vmfit-ctl: remove: $(dm_name nope): No such device" remove "$(dm_name nope)"
ctl_fail 1 "vmfit-ctl: snapshot: $(dm_name lin): Not a vmfit device" snapshot "$(dm_name lin)"
ctl_fail 1 "vmfit-ctl: status: $(dm_name lin): Not a vmfit device" status "$(dm_name lin)"
ctl_fail 1 "vmfit-ctl: view: $(dm_name lin): Not a vmfit device" view "$(dm_name lin)"
ctl_fail 1 "vmfit-ctl: remove: $(dm_name lin): Not a vmfit device" remove "$(dm_name lin)"
dm_exists lin || die "vmfit-ctl removed a zero device"
ctl_fail 1 "vmfit-ctl: create: $V: File exists" create "$V" "$origin" "$cow"
ctl_fail 1 "hint: pick another name or remove it: vmfit-ctl remove $V" create "$V" "$origin" "$cow"
ctl_fail 1 "vmfit-ctl: view: $V: Invalid argument" view "$V"
ctl_fail 1 "hint: $V has no active snapshot (mode normal); take one: vmfit-ctl snapshot $V" view "$V"
ctl_fail 1 "vmfit-ctl: merge: $V: Invalid argument" merge "$V"
ctl_fail 1 "hint: no snapshot is active" drop "$V"
ctl_fail 1 "vmfit-ctl: create: /dev/nonexistent: No such file or directory" \
	create "$(dm_name x)" /dev/nonexistent "$cow"
ctl_fail 1 "the origin and the cow must be different devices" \
	create "$(dm_name x)" "$origin" "$origin"

# The status line of a mixed run still shows the good device.
out=$(vmfit-ctl status "$V" "$(dm_name nope)" 2>/dev/null) && die "status with a missing device succeeded"
grep -q "^$V " <<<"$out" || die "status of a good and a missing device lost the good one: $out"

note "the target's own refusals: hint to the kernel log"
loop_create junk 16
loop_create small 8
dd if=/dev/urandom of="$junk" bs=4k count=1 oflag=direct conv=notrunc 2>/dev/null
kmsg_mark
ctl_fail 1 "vmfit-ctl: create: $(dm_name junk): Invalid argument" \
	create "$(dm_name junk)" "$small" "$junk"
ctl_fail 1 "hint: the target rejected the table; its reason is in the kernel log" \
	create "$(dm_name junk)" "$small" "$junk"
kmsg_since_mark | grep -q "not a vmfit superblock" ||
	die "no ti->error for a foreign cow in the kernel log: $(kmsg_since_mark)"
dm_exists junk && die "a rejected create left a device behind"

loop_create big_o 8 4096
loop_create big_c 8 4096
ctl_fail 1 "Invalid argument" create "$(dm_name small)" "$big_o" "$big_c" --chunk-size 512
dm_exists small && die "a rejected create left a device behind"

note "--ignore-discard sets the feature"
loop_create dorigin 8
loop_create dcow 8
D=$(dm_name disc)
out=$(vmfit-ctl create "$D" "$dorigin" "$dcow" --ignore-discard -c 1m)
ctl_track "$D"
assert_eq "$D: created vmfit device over $dorigin (cow $dcow, chunk 1 MiB, discards ignored)" \
	"$out" "create --ignore-discard output"
assert_eq "$(devno "$dorigin") $(devno "$dcow") 2048 1 ignore_discard" \
	"$(dmsetup table "$D" | cut -d' ' -f4-)" "table with ignore_discard"
vmfit-ctl remove "$D" >/dev/null

note "remove"
assert_eq "$V: removed" "$(vmfit-ctl remove "$V")" "remove output"
dm_exists vol && die "$V still exists after remove"
out=$(vmfit-ctl --json status)
grep -qF "\"name\":\"$V\"" <<<"$out" && die "status still lists $V"

note "reload: the cow keeps the changed set across remove + create"
vmfit-ctl create "$V" "$origin" "$cow" --chunk-size 8k >/dev/null
ctl_track "$V"
dd if=/dev/urandom of="$dev" bs=8k count=1 seek=9 oflag=direct conv=notrunc 2>/dev/null
vmfit-ctl remove "$V" >/dev/null
vmfit-ctl create "$V" "$origin" "$cow" --chunk-size 8k >/dev/null
assert_eq "$V: 1 changed chunk (8 KiB) in 1 range:
9" "$(vmfit-ctl changed "$V")" "changed set after reload"

vmfit-ctl remove "$V" >/dev/null

note "a changed set larger than one message reply is paged"
# 512-byte chunks over 8 MiB: every other chunk written is 8192 ranges,
# ~45 KB of text, beyond libdevmapper's message buffer (16 KiB, doubled
# when the kernel flags it full). In snapshot mode full-chunk writes go to
# the cow without metadata I/O, which keeps this quick.
loop_create porigin 8
loop_create pcow 8
P=$(dm_name paged)
vmfit-ctl create "$P" "$porigin" "$pcow" --chunk-size 512 >/dev/null
ctl_track "$P"
vmfit-ctl snapshot "$P" >/dev/null
fio --name=holes --filename="/dev/mapper/$P" --rw=write:512 --bs=512 \
	--direct=1 --ioengine=libaio --iodepth=16 --size=8m \
	--output-format=terse >/dev/null
nchunks=$(($(dev_sectors "$porigin")))
assert_eq 16384 "$nchunks" "chunks in the origin"
out=$(vmfit-ctl changed "$P")
assert_eq "$P: 8192 changed chunks (4 MiB) in 8192 ranges:" \
	"$(head -n1 <<<"$out")" "changed summary of a paged set"
# (compared by digest: a 45 KB mismatch would drown the log)
assert_eq "$(seq 0 2 $((nchunks - 1)) | paste -sd, | sha256sum)" \
	"$(tail -n +2 <<<"$out" | sha256sum)" "paged changed set"
first=$(dmsetup message "$P" 0 changed)
[[ "$first" == *",+" ]] ||
	die "the reply fit in one message (${#first} bytes): nothing was paged"
note "first page: ${#first} bytes"
json=$(vmfit-ctl --json changed "$P")
head='{"name":"'"$P"'","chunk_size":512,"chunks":8192,"ranges":[[0,0],[2,2],[4,4],'
assert_eq "$head" "${json:0:${#head}}" "paged changed --json, head"
assert_eq ',[16380,16380],[16382,16382]]}' "${json: -30}" \
	"paged changed --json, tail"
assert_eq 8192 "$(grep -o '\],\[' <<<"$json" | wc -l | awk '{ print $1 + 1 }')" \
	"paged changed --json, ranges"
vmfit-ctl drop "$P" >/dev/null
vmfit-ctl remove "$P" >/dev/null
note "ok"
