#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the kernel's checkpatch.pl (--strict) on the dm-vmfit sources.
#
# checkpatch.pl is not shipped in the headers package: fetch it once from
# Debian's linux-source-6.1 package into ${VMFIT_CACHE:-/var/cache/vmfit}
# and keep only scripts/checkpatch.pl, spelling.txt and
# const_structs.checkpatch.
#
# Usage: tools/checkpatch.sh [file...]   (default: kmod/*.[ch] + uapi header)
# Exit status: 0 when every file is clean, 1 on any warning or error,
# 2 when checkpatch cannot be fetched.
set -euo pipefail

cache=${VMFIT_CACHE:-/var/cache/vmfit}
dir=$cache/checkpatch
root=$(cd "$(dirname "$0")/.." && pwd)

fetch_checkpatch()
{
	local tmp deb

	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/checkpatch.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	deb=$(ls "$cache"/linux-source-6.1_*_all.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q linux-source-6.1 >/dev/null 2>&1) || {
			echo "checkpatch: cannot download linux-source-6.1 (apt-get download)" >&2
			return 2
		}
		deb=$(ls "$cache"/linux-source-6.1_*_all.deb | tail -n 1)
	fi
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
	tar -xJf "$tmp/usr/src/linux-source-6.1.tar.xz" -C "$tmp" \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	mkdir -p "$tmp/out"
	cp "$tmp"/linux-source-6.1/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch} "$tmp/out/"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
}

if [ ! -x "$dir/checkpatch.pl" ] || [ ! -f "$dir/spelling.txt" ] ||
   [ ! -f "$dir/const_structs.checkpatch" ]; then
	fetch_checkpatch || exit 2
	chmod +x "$dir/checkpatch.pl"
fi

cd "$root"
if (($# == 0)); then
	set -- $(ls kmod/*.[ch] 2>/dev/null | grep -v "\.mod\.c$") include/uapi/linux/dm-vmfit.h
fi

rc=0
for f in "$@"; do
	[ -e "$f" ] || continue
	# --terse prints one line per problem plus a "total:" summary line.
	out=$("$dir/checkpatch.pl" --no-tree --strict --terse --show-types \
		--no-summary -f "$f" 2>&1) || rc=1
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		rc=1
	fi
done
exit $rc
