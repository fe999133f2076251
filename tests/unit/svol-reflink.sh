#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The file stand-in of the recovery state volume on a filesystem that
# shares extents (XFS with reflink=1 on a loop device): its snapshot and
# clear are clones, its changed set comes from the extent maps (FIEMAP)
# with the compare as fallback, and it passes the same self-test as on a
# plain directory (tests/unit/svol-file.sh) and on dm-vmfit. Then the
# fallback: on a filesystem without sharing (tmpfs) the copies are plain
# copies with the same results. Skipped (77) where no XFS can be mounted
# (not root, no mkfs.xfs, no loop device).
set -euo pipefail

if [ "$(id -u)" != 0 ] || ! command -v mkfs.xfs >/dev/null; then
	echo "svol-reflink: SKIP: needs root and mkfs.xfs (tools/deps.sh) to mount an XFS image"
	exit 77
fi
# In a mount namespace of its own: whatever happens, its end unmounts
# the filesystems and frees the loop device. (Before the preamble: the
# exec would skip the removal of its temporary directory.)
if [ -z "${SVOL_REFLINK_NS:-}" ]; then
	SVOL_REFLINK_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
. "$(dirname "$0")/../lib/unit.sh"

bin=build/bin/vmfit-svol
need_built "$bin"
# The first failed check ends the test.
fail() { echo "FAIL: svol-reflink: $*" >&2; exit 1; }
mnt=$tmp/mnt
at_exit 'mountpoint -q "$mnt" && umount "$mnt"'
mkdir "$mnt"

# case dir: the self-test, then a clear, one chunk changed, a snapshot:
# the changed set is that chunk, its checksum that of the new data; the
# snapshot and the clear are clones or copies as @want says.
run() { # dir want
	local d=$1 want=$2 v=$1/vol out
	truncate -s 256K "$v"
	"$bin" file "$v" selftest >/dev/null || fail "selftest on $d"
	out=$("$bin" file "$v" clear)
	[ "$out" = "$want" ] || fail "clear on $d: '$out', want '$want'"
	# the same data rewritten is no change; new data in chunk 9 is
	dd if="$v" of="$v" bs=4096 skip=3 seek=3 count=1 conv=notrunc status=none
	head -c 4096 /dev/urandom | dd of="$v" bs=4096 seek=9 conv=notrunc status=none
	out=$("$bin" file "$v" snapshot)
	[ "$out" = "$want" ] || fail "snapshot on $d: '$out', want '$want'"
	# written after the snapshot: not in the view's changed set
	head -c 4096 /dev/urandom | dd of="$v" bs=4096 seek=20 conv=notrunc status=none
	out=$("$bin" file "$v" changed)
	[ "$out" = "9-9" ] || fail "changed on $d: '$out', want 9-9"
	out=$("$bin" file "$v" checksum --changed | cut -d' ' -f2)
	[ "$out" = "$(dd if="$v.view" bs=4096 skip=9 count=1 status=none | sha256sum | cut -d' ' -f1)" ] ||
		fail "checksum of chunk 9 on $d"
	"$bin" file "$v" merge || fail "merge on $d"
	out=$("$bin" file "$v" changed | tr '\n' ' ')
	[ "$out" = "9-9 20-20 " ] || fail "changed of the live file on $d: '$out', want '9-9 20-20 '"
}

truncate -s 300M "$tmp/xfs.img"
mkfs.xfs -q -m reflink=1 "$tmp/xfs.img" >/dev/null 2>&1 ||
	fail "mkfs.xfs -m reflink=1 failed"
if ! mount -o loop "$tmp/xfs.img" "$mnt" 2>"$tmp/err"; then
	echo "svol-reflink: SKIP: cannot mount an XFS image on a loop device: $(cat "$tmp/err")"
	exit 77
fi
run "$mnt" cloned
umount "$mnt"
mount -t tmpfs -o size=16M tmpfs "$mnt" || fail "cannot mount a tmpfs"
run "$mnt" copied
echo "svol-reflink: ok"
