# SPDX-License-Identifier: GPL-2.0-only
#
# tools/vmtest/lib.sh - image helpers shared by the qemu test runners
# (tools/vmtest/vmtest, tools/xen/xentest) and the Xen replica image
# builder (tools/xen/mkimage). Sourced; the caller defines msg, die and
# $cache (the download cache, default /var/cache/vmfit).

# The kernel release comes from the installed headers, which the module is
# built against: /usr/src/linux-headers-<abi>-amd64.
kernel_release() {
	local d rel=()
	if [ -n "${VMTEST_KREL:-}" ]; then
		echo "$VMTEST_KREL"
		return
	fi
	for d in /usr/src/linux-headers-*-amd64; do
		[ -d "$d" ] && rel+=("${d#/usr/src/linux-headers-}")
	done
	((${#rel[@]} == 1)) ||
		die "expected exactly one /usr/src/linux-headers-*-amd64 (found ${#rel[@]}): run 'make deps' or set VMTEST_KREL"
	echo "${rel[0]}"
}

# Download and extract linux-image-<krel> into $cache/<krel> (never
# installed on the host); run depmod on the extracted tree.
fetch_kernel() {
	local krel=$1 dir=$cache/$krel tmp deb
	if [ -f "$dir/.done" ]; then
		return 0
	fi
	msg "fetching linux-image-$krel (cached in $dir)"
	mkdir -p "$cache" || die "cannot create $cache (set VMFIT_CACHE)"
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || die "mktemp in $cache"
	chmod 755 "$tmp"
	# Bounded: a stalled mirror must not stall the test run.
	(cd "$tmp" && timeout 600 apt-get download -q "linux-image-$krel" >/dev/null 2>&1) ||
		(cd "$tmp" && timeout 600 apt-get update -q >/dev/null 2>&1 &&
		 timeout 600 apt-get download -q "linux-image-$krel" >/dev/null 2>&1) || {
		rm -rf "$tmp"
		die "apt-get download linux-image-$krel failed (or took over 600 s): check the Debian mirror in /etc/apt/sources.list"
	}
	deb=$(ls "$tmp"/linux-image-*.deb)
	rm -rf "$dir"
	mkdir -p "$dir/root"
	dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x $deb failed"
	depmod -b "$dir/root" "$krel" || die "depmod on the extracted tree failed"
	[ -f "$dir/root/boot/vmlinuz-$krel" ] || die "no vmlinuz in $deb"
	mv "$deb" "$dir/"
	rm -rf "$tmp"
	touch "$dir/.done"
}

# lib_closure FILE... - print every shared object the files need,
# including the dynamic loader.
lib_closure() {
	ldd "$@" 2>/dev/null | awk '
		/=> \// { print $3; next }
		/^[ \t]*\/[^ \t]*ld-linux/ { print $1 }' | sort -u
}

# stage_files DEST FILE... - copy files (dereferenced) to the same paths
# under DEST. DEST has usrmerge symlinks (/bin -> usr/bin, ...).
stage_files() {
	local dest=$1 f
	shift
	for f in "$@"; do
		[ -e "$dest$f" ] && continue
		mkdir -p "$dest$(dirname "$f")"
		cp -L "$f" "$dest$f" || return 1
	done
}

stage_skeleton() {
	local d=$1
	mkdir -p "$d"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,tmp,run,repo,results,ctl,etc,vmtest}
	ln -s usr/bin "$d/bin"
	ln -s usr/sbin "$d/sbin"
	ln -s usr/lib "$d/lib"
	ln -s usr/lib64 "$d/lib64"
}

# make_cpio DIR OUT - newc archive of DIR, padded to a 4-byte multiple so
# that a second archive can be appended.
make_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --quiet --reproducible -R 0:0) >"$2" || return 1
	local sz
	sz=$(stat -c %s "$2")
	if ((sz % 4)); then
		head -c $((4 - sz % 4)) /dev/zero >>"$2"
	fi
}


# fetch_debs NAME PKG... - download Debian packages into $cache/NAME and
# extract them all into $cache/NAME/root (never installed on the host).
fetch_debs() {
	local name=$1 dir=$cache/$1 tmp d
	shift
	[ -f "$dir/.done" ] && return 0
	msg "fetching $* (cached in $dir)"
	mkdir -p "$cache" || die "cannot create $cache (set VMFIT_CACHE)"
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || die "mktemp in $cache"
	chmod 755 "$tmp"
	(cd "$tmp" && timeout 600 apt-get download -q "$@" >/dev/null 2>&1) ||
		(cd "$tmp" && timeout 600 apt-get update -q >/dev/null 2>&1 &&
		 timeout 600 apt-get download -q "$@" >/dev/null 2>&1) || {
		rm -rf "$tmp"
		die "apt-get download $* failed (or took over 600 s): check the Debian mirror in /etc/apt/sources.list"
	}
	rm -rf "$dir"
	mkdir -p "$dir/root"
	for d in "$tmp"/*.deb; do
		dpkg-deb -x "$d" "$dir/root" || die "dpkg-deb -x $d failed"
	done
	mv "$tmp"/*.deb "$dir/"
	rm -rf "$tmp"
	touch "$dir/.done"
}

# extract_vmlinux BZIMAGE OUT - the uncompressed vmlinux ELF inside an
# x86 bzImage, found through the boot protocol's payload_offset and
# payload_length (no magic scanning). Xen and libxenguest load it
# without decompressing (seconds under TCG, and less dom0 memory).
extract_vmlinux() {
	local bz=$1 out=$2 setup off len magic
	setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz") || return 1
	read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$bz")
	off=$(((setup + 1) * 512 + off))
	magic=$(od -An -tx1 -j "$off" -N2 "$bz" | tr -d ' ')
	case "$magic" in
	fd37) tail -c +$((off + 1)) "$bz" | head -c "$len" | xz -dc -q ;;
	28b5) tail -c +$((off + 1)) "$bz" | head -c "$len" | zstd -dcq ;;
	1f8b) tail -c +$((off + 1)) "$bz" | head -c "$len" | gzip -dc ;;
	*) echo "extract_vmlinux: $bz: unknown payload format $magic" >&2
	   return 1 ;;
	esac >"$out.tmp" 2>/dev/null
	# xz stops at the end of its stream; trailing padding is harmless.
	[ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || {
		echo "extract_vmlinux: $bz: payload is not an ELF" >&2
		rm -f "$out.tmp"
		return 1
	}
	mv "$out.tmp" "$out"
}
