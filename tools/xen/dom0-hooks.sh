# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-hooks.sh - sourced by tools/vmtest/init in Xen mode (vmtest --xen):
# start the Xen toolstack before the tests, and after each test report
# what it left behind (domains, xenstore entries of other domains, vbd
# backends) and userspace crashes in dom0 and in the guests' consoles.

XEN_BIN=/usr/lib/xen-4.17/bin
export PATH=$PATH:$XEN_BIN
# Exported: a failing test prints the guests' consoles (tests/lib/xen.sh).
export XEN_CONSOLE_LOGS=/var/log/xen/console
# A userspace crash, in dom0 or a guest (the eager-fpu hazard, notes).
XEN_CRASH='segfault at|traps:'

hook_setup() {
	local m
	for m in $(cat /vmtest/xenmods/order); do
		insmod "/vmtest/xenmods/$m.ko" || fatal "insmod $m failed"
	done
	mkdir -p /proc/xen /var/run/xen /var/lib/xen /var/log/xen \
		"$XEN_CONSOLE_LOGS" /var/lib/xenstored /run/xen
	mount -t xenfs xenfs /proc/xen || fatal "mount xenfs failed"
	mkdir -p /etc/xen
	: >/etc/xen/xl.conf
	# xenconsoled gives every domain a pty: without devpts libxl waits
	# for the console's tty in vain and the create fails.
	mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts ||
		fatal "mount devpts failed"
	# The hotplug lock loops and glibc need these links (no udev here).
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	xenstored --pid-file=/var/run/xen/xenstored.pid ||
		fatal "xenstored failed"
	xen-init-dom0 >/dev/null || fatal "xen-init-dom0 failed"
	xenconsoled --pid-file=/var/run/xen/xenconsoled.pid --log=guest \
		--log-dir="$XEN_CONSOLE_LOGS" || fatal "xenconsoled failed"
	ip link set lo up
	xl info >/dev/null || fatal "xl info failed: no working toolstack"
	pidof xenconsoled >/dev/null || fatal "xenconsoled is not running"
	export VMFIT_XEN_IMAGE=/vmtest/xen
}

# hook_check N0 - print what the test left behind or crashed; N0 is the
# dmesg line count at its start. Guest console logs are consumed.
hook_check() {
	local n0=$1 doms other vbd crash d
	doms=$(xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0"')
	if [ -n "$doms" ]; then
		echo "domains left: $doms"
		# Not for the next test to trip over.
		for d in $(awk '{ print $2 }' <<<"$doms"); do
			xl destroy "$d" >/dev/null 2>&1
		done
	fi
	other=$(xenstore-list /local/domain 2>/dev/null | grep -vx 0)
	[ -n "$other" ] && echo "xenstore: /local/domain/ still has: $other"
	vbd=$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null)
	[ -n "$vbd" ] && echo "xenstore: vbd backends left for domains: $vbd"
	crash=$(dmesg | tail -n +$((n0 + 1)) | grep -E "$XEN_CRASH")
	[ -n "$crash" ] && echo "dom0 userspace crash: $crash"
	crash=$(cat "$XEN_CONSOLE_LOGS"/* 2>/dev/null | grep -E "$XEN_CRASH")
	[ -n "$crash" ] && echo "guest userspace crash: $crash"
	rm -f "$XEN_CONSOLE_LOGS"/*
	return 0
}
