#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# A view of a live device with ext4 MOUNTED directly on it (issue 9 §3):
# the filesystem holds the live device exclusively, and the view, which
# references the instance without claiming the device, is still created.
# At 4 KiB and 64 KiB chunks, while a writer creates files and fsyncs each:
# snapshot, open the view, copy it; the copy is a clean ext4 after journal
# replay (mount, umount, `e2fsck -fn` exits 0) and holds every file whose
# fsync returned before the snapshot, with its content. Then merge the
# snapshot under the mounted filesystem, unmount, and check the live
# filesystem too.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
modprobe ext4 || die "modprobe ext4 failed"
M=$TESTDIR/live-mnt
R=$TESTDIR/copy-mnt
mkdir -p "$M" "$R"

# writer DIR LIST: files f<i> of 8 KiB, each fsync'd, then listed in LIST.
writer() {
	local i=0
	while [ ! -e "$TESTDIR/stop" ]; do
		i=$((i + 1))
		head -c 8192 /dev/urandom >"$1/f$i.tmp" || break
		dd if="$1/f$i.tmp" of="$1/f$i" bs=8k conv=fsync status=none || break
		echo "f$i $(sha256sum <"$1/f$i" | cut -d' ' -f1)" >>"$2"
		rm -f "$1/f$i.tmp"
	done
}

for chunk in 8 128; do
	note "chunk $chunk sectors: ext4 mounted on the live device"
	vmfit_fixture 64 $chunk
	slice copy "$DISK_C" 0 64
	P=$(dm_path copy)
	mke2fs -q -t ext4 -F "$L" || die "mke2fs failed"
	mount -t ext4 "$L" "$M" || die "mount of the live device failed"
	list=$TESTDIR/list.$chunk
	: >"$list"
	rm -f "$TESTDIR/stop"
	writer "$M" "$list" &
	w=$!
	sleep 2
	cp "$list" "$list.before"
	dm_msg live snapshot
	sleep 1
	touch "$TESTDIR/stop"
	wait $w || true
	wait_status live VIEW ready 60
	n=$(wc -l <"$list.before")
	assert_le 1 "$n" "files fsync'd before the snapshot"

	view_create view live
	V=$(dm_path view)
	copy_dev "$V" "$P" "$(dev_sectors "$V")"
	dm_remove view

	note "the frozen ext4: clean after journal replay, $n fsync'd files"
	mount -t ext4 "$P" "$R" || die "mount of the copy (journal replay) failed"
	umount "$R"
	e2fsck -fn "$P" >"$TESTDIR/fsck.out" 2>&1 ||
		die "e2fsck of the frozen ext4 after replay: $(cat "$TESTDIR/fsck.out")"
	mount -t ext4 -o ro "$P" "$R" || die "read-only mount of the copy failed"
	while read -r f sum; do
		[ -f "$R/$f" ] || die "fsync'd file $f missing in the view"
		assert_eq "$sum" "$(sha256sum <"$R/$f" | cut -d' ' -f1)" "$f in the view"
	done <"$list.before"
	umount "$R"

	note "merge under the mounted filesystem, then check the live one"
	dm_msg live merge
	wait_status live MODE normal 120
	umount "$M"
	e2fsck -fn "$L" >"$TESTDIR/fsck.out" 2>&1 ||
		die "e2fsck of the live ext4: $(cat "$TESTDIR/fsck.out")"
	dm_remove live
	dm_remove copy
	dm_remove cow
	dm_remove origin
done
note "ok"
