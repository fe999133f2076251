#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-disks: the xen backend's disks, checked before any domain (no Xen
# needed): the state volume and, with state_journal, the kv journal must
# be block devices (blkback, phy:) and not the same one. A journal that
# is a regular file, missing, or the state volume under another name
# stops the replica's start with a message that names the setting and
# says what to do; a journal on a device of its own passes the check (the
# start goes on to the image, which this test makes fail). vmfitd runs in
# a network namespace of its own (its listen port is free there). Needs
# root and loop devices, like kv-blockdev.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bin=${VMFIT_BIN:-build/bin}
need_built "$bin/vmfitd"
need_cmd losetup unshare ip

loops=()
at_exit 'for d in "${loops[@]}"; do losetup -d "$d"; done'
loop() { # NAME - a loop device over a new 1 MiB file; its path in $dev
	truncate -s 1M "$tmp/$1.img"
	dev=$(losetup --find --show "$tmp/$1.img") || exit 1
	loops+=("$dev")
}
loop state
state=$dev
loop journal
jdev=$dev
: >"$tmp/kernel"
: >"$tmp/ramdisk"
: >"$tmp/journal-file"
ln -s "$state" "$tmp/state-link"

# refused JOURNAL TEXT - vmfitd (xen backend) on the loop device with the
# journal JOURNAL must exit 1 (its replica's start failed), saying TEXT
# (a fixed string) and, unless TEXT is about the image, before reading
# the image.
refused() {
	local out rc=0
	cat >"$tmp/vmfitd.conf" <<EOF
service = kv
unreplicated = yes
listen = 127.0.0.1:7400
backend = xen
replica_cmd = kv-hash --records 10 --record-size 64
state_volume = $state
state_journal = $1
xen_kernel = $tmp/kernel
xen_ramdisk = $tmp/ramdisk
xen_image_digest = 5dbf07380002dac7ea45cbd3495072d42660ac02dfd8ac02ada87e04596638df
status_file = $tmp/vmfitd.status
control_socket = $tmp/vmfitd.ctl
EOF
	out=$(timeout "$UNIT_CMD_TIMEOUT" unshare -n sh -c \
		'ip link set lo up && exec "$0" -f -c "$1"' \
		"$bin/vmfitd" "$tmp/vmfitd.conf" 2>&1) || rc=$?
	if ((rc != 1)) || ! grep -qF -- "$2" <<<"$out"; then
		fail "journal $1: rc $rc, want 1 and '$2'; got: $out"
	elif [[ "$2" != *image* ]] && grep -q "image" <<<"$out"; then
		fail "journal $1: the image was read after the disk check failed: $out"
	else
		echo "ok: journal $1 -> $2"
	fi
}

hint="give each volume's journal a block device of its own"
refused "$tmp/journal-file" "xen: kv journal $tmp/journal-file (state_journal or state_journal_b) is not a block device: the xen backend attaches it to the domain as xvdb through blkback (phy:): $hint"
refused "$tmp/missing" "xen: kv journal $tmp/missing (state_journal or state_journal_b): No such file or directory: $hint"
refused "$tmp/state-link" "xen: kv journal $tmp/state-link (state_journal or state_journal_b) is the device of the state volume $state: $hint"
# A journal on a block device of its own passes: the start reads the
# image (and refuses it: the test's image is empty).
refused "$jdev" "xen: image digest mismatch"
unit_done
