# SPDX-License-Identifier: GPL-2.0-only
#
# tests/lib/xen.sh - helpers for the Xen tests (tests/xen/*.sh), which run
# as root in the PV dom0 of tools/vmtest/vmtest --xen, with the toolstack
# up (tools/xen/dom0-hooks.sh) and the replica image in $VMFIT_XEN_IMAGE.
# Source it first:  . "${VMFIT_ROOT:-.}/tests/lib/xen.sh"
# It sources aux.sh (set -eu, teardown of devices on exit).

. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

XEN_PORT=7400

need_xen() {
	[ -n "${VMFIT_XEN_IMAGE:-}" ] ||
		die "not in the dom0 of vmtest --xen: run 'make check-xen'"
	need_guest
}

# xen_conf FILE LINE... - a vmfitd.conf for the xen backend, one host,
# f = 0 (unreplicated), the image built by tools/xen/mkimage; the LINEs
# (key = value) come last and may override the image lines (the parser
# refuses duplicates, so those are filtered out first).
xen_conf() {
	local f=$1 l k
	shift
	{
		echo "service = kv"
		echo "unreplicated = yes"
		echo "listen = 127.0.0.1:$XEN_PORT"
		echo "backend = xen"
		echo "status_file = $TESTDIR/vmfitd.status"
		echo "status_interval_ms = 200"
		echo "control_socket = $TESTDIR/vmfitd.ctl"
		echo "log_level = info"
		grep '^xen_' "$VMFIT_XEN_IMAGE/vmfitd-xen.conf" | while read -r l; do
			k=${l%% *}
			printf '%s\n' "$@" | grep -q "^$k " || echo "$l"
		done
		printf '%s\n' "$@"
	} >"$f"
}

# xen_diag - after a failure (teardown's rc), before the domains are
# destroyed: what they and Xen said, the end of each guest's console log
# (tools/xen/dom0-hooks.sh) and of xl dmesg, and the domains running.
xen_diag() {
	local f
	[ "${rc:-0}" != 0 ] || return 0
	echo "== xen_diag: the test failed; the domains, their consoles, Xen's log" >&2
	xl list >&2 2>&1
	for f in "${XEN_CONSOLE_LOGS:-/var/log/xen/console}"/*; do
		[ -f "$f" ] || continue
		echo "== $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
	echo "== xl dmesg (last 30 lines)" >&2
	xl dmesg 2>&1 | tail -n 30 >&2
}

# xen_vmfitd_start CONF LOG - vmfitd in the foreground, in the background;
# sets VMFITD_PID. It is killed (and its domain destroyed by xl) on exit;
# a failed test prints the domains' consoles first (xen_diag).
xen_vmfitd_start() {
	vmfitd -f -c "$1" >>"$2" 2>&1 &
	VMFITD_PID=$!
	at_exit "kill -9 $VMFITD_PID 2>/dev/null; xen_destroy_all"
	at_exit xen_diag
}

xen_stat() { # CONF KEY
	vmfitd --status -c "$1" 2>/dev/null | sed -n "s/^$2=//p" | head -n 1
}

# xen_wait_ready CONF LOG SECS - until vmfitd serves with its replica up.
xen_wait_ready() {
	local deadline=$((SECONDS + $3))
	until [ "$(xen_stat "$1" ready)" = 1 ] &&
		[ "$(xen_stat "$1" replica_ok)" = 1 ]; do
		kill -0 "$VMFITD_PID" 2>/dev/null || {
			cat "$2"
			die "vmfitd died before it was ready"
		}
		((SECONDS < deadline)) || {
			cat "$2"
			die "vmfitd not ready in $3 s"
		}
		sleep 0.2
	done
}

# xen_domains - the names of all domains but dom0.
xen_domains() {
	xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }'
}

# xen_destroy_all - teardown: no domain may keep the test's volumes open.
xen_destroy_all() {
	local d
	for d in $(xen_domains); do
		xl destroy "$d" >/dev/null 2>&1
	done
	true
}

# xen_assert_clean - no domain, no xenstore home of another domain (where
# the vchan lives), no vbd backend left.
xen_assert_clean() {
	local left
	left=$(xen_domains)
	[ -z "$left" ] || die "domains left: $left"
	left=$(xenstore-list /local/domain | grep -vx 0 || true)
	[ -z "$left" ] || die "xenstore /local/domain still has: $left"
	left=$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null || true)
	[ -z "$left" ] || die "vbd backends left: $left"
}

# xen_vbd_dev DOMID VDEV - blkback's physical-device (hex major:minor, as
# `stat -L -c %t:%T` prints it) of domain DOMID's disk VDEV (xvda...);
# nothing if it has no such disk.
xen_vbd_dev() {
	local d p=/local/domain/0/backend/vbd/$1
	for d in $(xenstore-list "$p" 2>/dev/null); do
		[ "$(xenstore-read "$p/$d/dev")" = "$2" ] || continue
		xenstore-read "$p/$d/physical-device"
	done
}

# xen_variant_image NAME INIT - a copy of the replica ramdisk whose /init
# is the shell script INIT (an appended archive overrides /init); prints
# "xen_ramdisk = ..." and the matching "xen_image_digest = ..." lines.
# The image is otherwise the clean one: a deliberately broken replica.
xen_variant_image() {
	local d=$TESTDIR/$1 sum
	mkdir -p "$d/root"
	printf '#!/bin/sh\n%s\n' "$2" >"$d/root/init"
	chmod 755 "$d/root/init"
	cp "$VMFIT_XEN_IMAGE/vmfit-replica.cpio" "$d/ramdisk.cpio"
	(cd "$d/root" && echo init | cpio -o -H newc -R 0:0 2>/dev/null) \
		>>"$d/ramdisk.cpio"
	sum=$(cat "$VMFIT_XEN_IMAGE/vmfit-replica.vmlinux" "$d/ramdisk.cpio" |
		sha256sum | cut -d' ' -f1)
	echo "xen_ramdisk = $d/ramdisk.cpio"
	echo "xen_image_digest = $sum"
}

# xen_expect_failed_start CONF LOG SECS REGEX - vmfitd must give up on its
# replica (exit non-zero) within SECS, saying REGEX, and leave nothing.
xen_expect_failed_start() {
	local rc=0
	timeout -k 5 "$3" vmfitd -f -c "$1" >>"$2" 2>&1 || rc=$?
	cat "$2"
	((rc != 0 && rc != 124 && rc != 137)) ||
		die "vmfitd should have failed its start (rc $rc)"
	grep -Eq "$4" "$2" || die "vmfitd's log does not say /$4/"
	xen_assert_clean
}
