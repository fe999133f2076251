#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms-build: `make dkms-install DESTDIR=<tmp>` puts exactly the module's
# sources and tools/dkms.conf into usr/src/dm-vmfit-<version>, and dkms(8)
# builds dm-vmfit.ko from that tree against the kernel headers the module
# is built with (make module's KDIR). Everything stays in a temporary
# directory: dkms runs with its own source and DKMS trees, and with no
# signing tool, so it neither touches /usr/src and /var/lib/dkms nor makes
# a signing key there. (This host cannot load modules; the VM tests load
# the module that `make module` builds.)
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

need_cmd dkms

# make's own view of the version and of the kernel build tree.
mkvar() { # variable
	make --no-print-directory -s --eval "print-var: ; @echo \$($1)" print-var
}
ver=$(mkvar VERSION)
kdir=$(mkvar KDIR)
[ -n "$ver" ] || { echo "FAIL: no VERSION in the Makefile" >&2; exit 1; }
[ -d "$kdir" ] || { echo "FAIL: no kernel build tree (KDIR '$kdir'): run 'make deps'" >&2; exit 1; }
case "$kdir" in
/lib/modules/*/build) krel=${kdir#/lib/modules/}; krel=${krel%/build} ;;
*) krel=${kdir##*/linux-headers-} ;;
esac

make --no-print-directory -s dkms-install DESTDIR="$tmp/root"
src=$tmp/root/usr/src/dm-vmfit-$ver
{
	printf '%s\n' Kbuild dkms.conf include/uapi/linux/dm-vmfit.h kmod/Kbuild
	ls kmod/*.[ch]
} | LC_ALL=C sort >"$tmp/want"
(cd "$tmp/root" && find . ! -type d -printf '%P\n') | sed "s|^usr/src/dm-vmfit-$ver/||" |
	LC_ALL=C sort >"$tmp/got"
diff -u "$tmp/want" "$tmp/got" || { echo "FAIL: make dkms-install installed other files than expected" >&2; exit 1; }
echo "ok: make dkms-install: $(wc -l <"$tmp/got") files in usr/src/dm-vmfit-$ver"

# sign_file: dkms would otherwise create /var/lib/dkms/mok.key to sign
# with (Debian's kernel has CONFIG_MODULE_SIG).
mkdir -p "$tmp/tree"
dk() {
	sign_file=/nonexistent dkms "$@" --sourcetree "$tmp/root/usr/src" \
		--dkmstree "$tmp/tree"
}
dk add "dm-vmfit/$ver" >"$tmp/dkms.log" 2>&1
if ! dk build "dm-vmfit/$ver" -k "$krel" --kernelsourcedir "$kdir" \
	>>"$tmp/dkms.log" 2>&1; then
	cat "$tmp/dkms.log" "$tmp/tree/dm-vmfit/$ver/build/make.log" 2>/dev/null
	echo "FAIL: dkms build dm-vmfit/$ver for $krel" >&2
	exit 1
fi
ko=$tmp/tree/dm-vmfit/$ver/$krel/$(uname -m)/module/dm-vmfit.ko
[ -f "$ko" ] || { cat "$tmp/dkms.log"; echo "FAIL: dkms built no $ko" >&2; exit 1; }
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$krel" ] ||
	{ echo "FAIL: dm-vmfit.ko is for '${vermagic%% *}', not $krel" >&2; exit 1; }
status=$(dk status "dm-vmfit/$ver")
grep -q "dm-vmfit/$ver, $krel, $(uname -m): built" <<<"$status" ||
	{ echo "FAIL: dkms status says '$status'" >&2; exit 1; }
echo "ok: dkms build dm-vmfit/$ver for $krel: $status"
echo "dkms-build: all checks passed"
