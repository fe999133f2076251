# SPDX-License-Identifier: GPL-2.0-only
#
# tools/xen/vmtest-xen.sh - the Xen mode of tools/vmtest/vmtest (--xen):
# qemu boots Xen 4.17 (Debian's hypervisor, multiboot) with Debian's
# kernel as a PV dom0, the usual test initramfs plus the Xen toolstack,
# and the vmfit replica image (tools/xen/mkimage). Sourced by vmtest;
# shares its variables ($cache, $krel, $top, $work).
#
# shared/notes/xen-in-qemu.md has the measurements behind the settings:
# smap=0 (a PV dom0 crashes at its first instruction under SMAP) and
# spec-ctrl=eager-fpu (lazy FPU switching leaks register state between
# domains under TCG: random segfaults) are mandatory; one vCPU is far
# more robust than two on a busy host; bootscrub=0 saves TCG time.

XEN_PKGS=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
	  xenstore-utils)
XEN_DIR=xen-4.17
XEN_BINDIR=/usr/lib/xen-4.17/bin
# The toolstack dom0 needs (xenstore-utils' tools are one binary).
XEN_TOOLS=(xl xenstored xenconsoled xen-init-dom0 libxl-save-helper
	   xenconsole)
XEN_STORE_TOOLS=(xenstore-ls xenstore-read xenstore-write xenstore-rm
		 xenstore-list xenstore-exists)
# dom0's backend drivers, in load order.
XEN_DOM0_MODS=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs
	       xen-blkback)
XEN_CMDLINE="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=1 noreboot smap=0 spec-ctrl=eager-fpu bootscrub=0"

# xen_prepare - download Xen (cached), unpack the hypervisor and dom0's
# vmlinux, build the replica image; sets xen_bin, xen_vmlinux.
xen_prepare() {
	local x
	fetch_debs "$XEN_DIR" "${XEN_PKGS[@]}"
	x=$cache/$XEN_DIR
	xen_bin=$x/xen
	if [ ! -f "$xen_bin" ]; then
		gzip -dc "$x/root/boot/xen-4.17-amd64.gz" >"$xen_bin.tmp" ||
			die "cannot unpack the Xen hypervisor"
		mv "$xen_bin.tmp" "$xen_bin"
	fi
	xen_vmlinux=$cache/$krel/vmlinux
	if [ ! -f "$xen_vmlinux" ]; then
		extract_vmlinux "$cache/$krel/root/boot/vmlinuz-$krel" \
			"$xen_vmlinux" || die "cannot extract dom0's vmlinux"
	fi
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$top" --no-print-directory -s xen-image </dev/null ||
		die "cannot build the replica image (make xen-image)"
}

# xen_stage DEST - add the toolstack, dom0's modules, the test hooks and
# the replica image to the per-run archive.
xen_stage() {
	local st=$1 x=$cache/$XEN_DIR/root t bins=() libs m p
	for t in "${XEN_TOOLS[@]}"; do
		bins+=("$x$XEN_BINDIR/$t")
	done
	bins+=("$x/usr/bin/xenstore")
	mkdir -p "$st$XEN_BINDIR"
	cp "${bins[@]}" "$st$XEN_BINDIR/"
	for t in "${XEN_STORE_TOOLS[@]}"; do
		ln -s xenstore "$st$XEN_BINDIR/$t"
	done
	mapfile -t libs < <(lib_closure "${bins[@]}")
	# glibc dlopens libgcc_s for pthread_cancel: xl aborts without it.
	libs+=("$(readlink -f /usr/lib/x86_64-linux-gnu/libgcc_s.so.1)")
	stage_files "$st" "${libs[@]}" || die "staging Xen libraries failed"
	[ -e "$st/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" ] ||
		cp -L /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 \
			"$st/usr/lib/x86_64-linux-gnu/"
	mkdir -p "$st/vmtest/xenmods" "$st/vmtest/xen"
	for m in "${XEN_DOM0_MODS[@]}"; do
		for p in $(modprobe -d "$cache/$krel/root" -S "$krel" \
				--show-depends "$m" | awk '$1 == "insmod" { print $2 }'); do
			[ -e "$st/vmtest/xenmods/$(basename "$p")" ] && continue
			cp "$p" "$st/vmtest/xenmods/"
			basename "$p" .ko >>"$st/vmtest/xenmods/order"
		done
	done
	install -m 644 "$top/tools/xen/dom0-hooks.sh" "$st/vmtest/hooks.sh"
	mkdir -p "$st/etc/xen/scripts"
	install -m 755 "$top/tools/xen/vmfit-block" "$st/etc/xen/scripts/block"
	cp "$top"/build/xen/vmfit-replica.{vmlinux,cpio,sha256} \
	   "$top/build/xen/vmfitd-xen.conf" "$st/vmtest/xen/"
	# The staged paths, as vmfitd in dom0 sees them.
	sed -i "s|= $top/build/xen/|= /vmtest/xen/|" \
		"$st/vmtest/xen/vmfitd-xen.conf"
}

# xen_qemu_args N - append Xen's multiboot boot to the qargs array.
xen_qemu_args() {
	qargs+=(-kernel "$xen_bin" -append "$XEN_CMDLINE"
		-initrd "$xen_vmlinux console=hvc0 earlyprintk=xen quiet panic=-1 log_buf_len=8M oops=panic cryptomgr.notests no_timer_check vmtest.boot=$1,$work/initrd")
}
