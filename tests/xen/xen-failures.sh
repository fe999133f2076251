#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-failures: the xen backend refuses an image whose digest differs from
# xen_image_digest (no domain is created), and a replica domain that
# crashes at boot, or never says HELLO within xen_start_timeout_ms, is a
# failed start: vmfitd gives up and its domain, vbd and vchan are gone.
. "${VMFIT_ROOT:-.}/tests/lib/xen.sh"
need_xen
need_vmfit

vmfit_fixture 16 8
conf=$TESTDIR/vmfitd.conf
log=$TESTDIR/vmfitd.log
cmd="replica_cmd = kv-hash --records 100 --record-size 64"

note "tampered image: one byte of the ramdisk changed"
cp "$VMFIT_XEN_IMAGE/vmfit-replica.cpio" "$TESTDIR/tampered.cpio"
printf 'X' | dd of="$TESTDIR/tampered.cpio" bs=1 seek=100000 conv=notrunc 2>/dev/null
xen_conf "$conf" "$cmd" "state_volume = $L" \
	"xen_ramdisk = $TESTDIR/tampered.cpio"
xen_expect_failed_start "$conf" "$log" 120 \
	'image digest mismatch: SHA-256\(.*tampered.cpio\) is [0-9a-f]{64}, xen_image_digest is'
grep -q "created and unpaused" "$log" && die "a domain was created from it"

note "a replica domain that crashes at boot"
: >"$log"
xen_conf "$conf" "$cmd" "state_volume = $L" "xen_start_timeout_ms = 300000" \
	"$(xen_variant_image crash 'mount -t proc proc /proc; echo c >/proc/sysrq-trigger')"
xen_expect_failed_start "$conf" "$log" 330 \
	'domain vmfit-kv-1 \([0-9]+\) crashed before its HELLO: failed start'

note "a replica domain that never says HELLO"
: >"$log"
xen_conf "$conf" "$cmd" "state_volume = $L" "xen_start_timeout_ms = 20000" \
	"$(xen_variant_image mute 'exec sleep 3600')"
xen_expect_failed_start "$conf" "$log" 200 \
	'no HELLO within xen_start_timeout_ms \(20000 ms\): failed start'
note "PASS"
