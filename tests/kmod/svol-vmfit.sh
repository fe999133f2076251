#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Recovery's state volume over a real dm-vmfit device (libvmfit's vf_svol,
# kind "vmfit": snapshot and view through netlink and libdevmapper, the
# changed set, checksums of the frozen view, merge, drop, clear, chunk
# writes) passes the same self-test as the file stand-in
# (tests/unit/svol-file.sh): vmfit-svol selftest. Then the CLI's single
# operations against what dmsetup reports.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_fixture 8 8 7
# vf_svol names the view <live>-view; the fixture's teardown does not know it.
at_exit "dmsetup remove $N-view 2>/dev/null || true"

vmfit-svol vmfit "$N" selftest || die "vmfit-svol selftest failed"

note "single operations"
vmfit-svol vmfit "$N" snapshot || die "snapshot"
assert_eq snapshot "$(dmsetup status "$N" | cut -d' ' -f4)" "mode after snapshot"
[ -e "/dev/mapper/$N-view" ] || die "no view device after snapshot"
n=$(vmfit-svol vmfit "$N" checksum | wc -l)
assert_eq 2048 "$n" "digests of an 8 MiB volume in 4 KiB chunks"
vmfit-svol vmfit "$N" drop || die "drop"
[ ! -e "/dev/mapper/$N-view" ] || die "view device left after drop"
vmfit-svol vmfit "$N" clear || die "clear"
assert_eq "" "$(vmfit-svol vmfit "$N" changed)" "changed set after clear"
note "svol-vmfit: ok"
