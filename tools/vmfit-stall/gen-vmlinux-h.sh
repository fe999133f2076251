#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# gen-vmlinux-h.sh OUT - write the vmlinux.h that vmfit-stall.bpf.c is
# compiled against: the BTF of the kernel the tests boot (Debian's
# linux-image-<release>, the release of /usr/src/linux-headers-*-amd64),
# dumped as C by bpftool.
#
# The BTF lives in the vmlinux ELF, which the bzImage carries compressed:
# find the first compression magic that decompresses to an ELF file (the
# way the kernel's scripts/extract-vmlinux does). The kernel package is
# the one tools/vmtest/vmtest caches under ${VMFIT_CACHE:-/var/cache/vmfit};
# if it is not there yet, `vmtest image` fetches it. As a last resort the
# running kernel's /sys/kernel/btf/vmlinux is used, with a warning: the
# program is CO-RE, so any BTF-enabled kernel gives a usable header.
set -euo pipefail

prog=gen-vmlinux-h
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VMFIT_CACHE:-/var/cache/vmfit}

die() {
	echo "$prog: $*" >&2
	exit 1
}

(($# == 1)) || die "usage: $prog OUT"
out=$1
command -v bpftool >/dev/null || die "bpftool not found: run 'make deps'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

release() {
	local d rel=()
	if [ -n "${VMTEST_KREL:-}" ]; then
		echo "$VMTEST_KREL"
		return
	fi
	for d in /usr/src/linux-headers-*-amd64; do
		[ -d "$d" ] && rel+=("${d#/usr/src/linux-headers-}")
	done
	((${#rel[@]} == 1)) || return 1
	echo "${rel[0]}"
}

# extract IMAGE ELF - decompress the vmlinux ELF out of a bzImage: try
# each compression magic at each offset where it occurs.
extract() {
	local img=$1 elf=$2 m magic tool off
	for m in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip' \
		 '\x02\x21\x4c\x18:lz4'; do
		magic=${m%:*}
		tool=${m##*:}
		command -v "$tool" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
			tail -c +$((off + 1)) "$img" | "$tool" -dc 2>/dev/null >"$elf" || true
			if [ "$(head -c 4 "$elf" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ]; then
				return 0
			fi
		done
	done
	return 1
}

btf=
if rel=$(release); then
	img=$cache/$rel/root/boot/vmlinuz-$rel
	if [ ! -f "$img" ] && [ -x "$top/tools/vmtest/vmtest" ]; then
		echo "$prog: fetching linux-image-$rel through tools/vmtest/vmtest image" >&2
		"$top/tools/vmtest/vmtest" image >/dev/null || true
	fi
	if [ -f "$img" ]; then
		extract "$img" "$tmp/vmlinux" ||
			die "no compressed vmlinux found in $img"
		btf=$tmp/vmlinux
	fi
fi
if [ -z "$btf" ]; then
	[ -r /sys/kernel/btf/vmlinux ] ||
		die "no guest kernel image in $cache and no /sys/kernel/btf/vmlinux"
	echo "$prog: warning: using the running kernel's BTF, not the guest kernel's" >&2
	btf=/sys/kernel/btf/vmlinux
fi
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$tmp/vmlinux.h" ||
	die "bpftool btf dump file $btf failed"
grep -q 'struct bio {' "$tmp/vmlinux.h" || die "$btf has no struct bio in its BTF"
mv "$tmp/vmlinux.h" "$out"
