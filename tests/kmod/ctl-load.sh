#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-ctl load: idempotent on a loaded module, a clear error with a hint
# when dm-vmfit is not in the module tree, loading a given .ko together
# with the dependencies named in its modinfo, and the load hint of the
# device commands while the target is missing. Leaves dm-vmfit loaded.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/ctl.sh"
need_vmfit

ko=/vmtest/dm-vmfit.ko
[ -f "$ko" ] || die "no $ko in the guest"
ver=$(dmsetup targets | awk '$1 == "vmfit" { sub(/^v/, "", $2); print $2 }')
assert_match '^[0-9]+\.[0-9]+\.[0-9]+$' "$ver" "vmfit target version"

# Whatever happens, later tests need the module back.
restore_module() {
	grep -q '^dm_vmfit ' /proc/modules || insmod "$ko" ||
		echo "ctl-load: could not reload $ko" >&2
}
at_exit restore_module

note "already loaded"
assert_eq "dm-vmfit: already loaded, target vmfit $ver" "$(vmfit-ctl load)" \
	"load on a loaded module"
assert_eq "dm-vmfit: already loaded, target vmfit $ver" \
	"$(vmfit-ctl load --module "$ko")" "load --module on a loaded module"
assert_eq '{"module":"dm-vmfit","already_loaded":true,"inserted":[],"target_version":"'"$ver"'"}' \
	"$(vmfit-ctl --json load)" "load --json on a loaded module"

note "unload; the device commands hint at load"
rmmod dm_vmfit
dmsetup targets | grep -q '^vmfit ' && die "vmfit still registered after rmmod"
loop_create o 8
loop_create c 8
ctl_fail 1 "hint: is dm-vmfit loaded? try: vmfit-ctl load" create "$(dm_name v)" "$o" "$c"
dm_exists v && die "a failed create left a device"
assert_eq "no vmfit devices (create one: vmfit-ctl create NAME ORIGIN COW)" \
	"$(vmfit-ctl status)" "status without the target"

note "not in the module tree"
ctl_fail 1 "vmfit-ctl: load: dm-vmfit: No such file or directory" load
ctl_fail 1 "hint: not installed for this kernel; try: vmfit-ctl load --module PATH/dm-vmfit.ko" load
ctl_fail 1 "vmfit-ctl: load: /nonexistent/dm-vmfit.ko: No such file or directory" \
	load --module /nonexistent/dm-vmfit.ko
ctl_fail 1 "vmfit-ctl: load: $(modinfo -n loop): Invalid argument" \
	load --module "$(modinfo -n loop)"
ctl_fail 1 "hint: not dm-vmfit" load --module "$(modinfo -n loop)"
grep -q '^dm_vmfit ' /proc/modules && die "a failed load loaded dm_vmfit"

note "load --module with its dependencies"
deps=$(modinfo -F depends "$ko" | tr ',' ' ')
removed=()
for d in $deps; do
	m=${d//-/_}
	# Unload the dependencies nothing else holds, to see them come back.
	if awk -v m="$m" '$1 == m && $3 == 0 { f = 1 } END { exit !f }' /proc/modules &&
	   rmmod "$m" 2>/dev/null; then
		removed+=("$m")
	fi
done
note "depends: ${deps:-none}; unloaded for the test: ${removed[*]:-none}"
out=$(vmfit-ctl load --module "$ko")
assert_match "^dm-vmfit: loaded $ko \\(inserted: (.* )?dm_vmfit\\), target vmfit $ver$" \
	"$out" "load --module output"
for m in "${removed[@]}"; do
	grep -q "^$m " /proc/modules || die "dependency $m was not loaded"
	assert_match "inserted: (.* )?$m " "$out" "$m reported as inserted"
done
grep -q '^dm_vmfit ' /proc/modules || die "dm_vmfit is not loaded"
dmsetup targets | grep -q '^vmfit-view ' || die "vmfit-view not registered"
assert_eq "dm-vmfit: already loaded, target vmfit $ver" "$(vmfit-ctl load)" \
	"load after load --module"

note "json of a real load"
rmmod dm_vmfit
out=$(vmfit-ctl --json load --module "$ko")
assert_eq '{"module":"dm-vmfit","already_loaded":false,"inserted":["dm_vmfit"],"target_version":"'"$ver"'"}' \
	"$out" "load --json"
note "ok"
