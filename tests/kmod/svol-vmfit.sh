#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Recovery's state volume over a real dm-vmfit device (libvmfit's vf_svol,
# kind "vmfit": snapshot and view through netlink and libdevmapper, the
# changed set, checksums of the frozen view, merge, drop, clear, chunk
# writes) passes the same self-test as the file stand-in
# (tests/unit/svol-file.sh): vmfit-svol selftest. Then the CLI's single
# operations against what dmsetup reports, and a drop and a snapshot with
# the replica's writes still in the page cache.
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

# A replica writes its volume through the page cache, and the cache
# outlives it while anybody holds the device open (vmfitd does): a drop
# must discard what it left dirty (written back into the cow before the
# drop), and no reader may see the dropped data from the cache after it.
note "drop discards the writes still in the page cache"
dev=/dev/mapper/$N
head -c 4096 /dev/urandom >"$TESTDIR/captured"
head -c 4096 /dev/urandom >"$TESTDIR/dropped"
dd if="$TESTDIR/captured" of="$dev" bs=4096 count=1 oflag=direct \
	conv=notrunc status=none || die "direct write"
vmfit-svol vmfit "$N" snapshot || die "snapshot"
exec 9<"$dev"
dd if="$TESTDIR/dropped" of="$dev" bs=4096 count=1 conv=notrunc \
	status=none || die "buffered write"
vmfit-svol vmfit "$N" drop || die "drop"
sync
dd if="$dev" bs=4096 count=1 iflag=direct status=none |
	cmp -s - "$TESTDIR/captured" ||
	die "after drop and sync the device holds a dropped write (page cache written back onto the origin)"
dd if="$dev" bs=4096 count=1 status=none | cmp -s - "$TESTDIR/captured" ||
	die "after drop a buffered read shows a dropped write (stale page cache)"
exec 9<&-

# The capture: what the replica wrote through the page cache before it was
# held (kv zeroes its journal without a sync) belongs to the snapshot; a
# snapshot below the cache without writing it back first would leave it
# out of the view and write it into the live device after the point in
# time, each host as its writeback timing falls.
note "the snapshot holds the writes still in the page cache"
head -c 4096 /dev/urandom >"$TESTDIR/cached"
exec 9<"$dev"
dd if="$TESTDIR/cached" of="$dev" bs=4096 count=1 seek=1 conv=notrunc \
	status=none || die "buffered write"
vmfit-svol vmfit "$N" snapshot || die "snapshot"
dd if="/dev/mapper/$N-view" bs=4096 count=1 skip=1 iflag=direct \
	status=none | cmp -s - "$TESTDIR/cached" ||
	die "the view lacks a write that was in the page cache at the snapshot"
vmfit-svol vmfit "$N" drop || die "drop"
exec 9<&-
note "svol-vmfit: ok"
