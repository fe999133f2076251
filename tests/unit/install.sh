#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install: `make install` and `make uninstall` (README.md, "Installing").
#
#  - PREFIX=/usr DESTDIR=<tmp> (a Debian package build) installs exactly
#    the expected files, with the expected modes;
#  - every man page renders without a groff/man warning;
#  - every installed program answers --help; the example vmfitd.conf
#    passes the installed vmfitd's --check-config and names the installed
#    replica;
#  - a program built with the installed libvmfit.pc, headers and archive
#    links and runs;
#  - the systemd unit: `systemd-analyze verify` accepts it without a word
#    (and rejects broken copies, so the check is real), and its sandbox
#    keeps `systemd-analyze security` at 5.0 or below;
#  - `make uninstall` leaves nothing behind.
#
# The cluster test tests/cluster/installed-smoke.sh runs the installed
# binaries on three hosts; tests/unit/dkms-build.sh builds the module
# through DKMS.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

ok() {
	echo "ok: $*"
}

need_cmd man systemd-analyze pkg-config rst2man

mk() {
	make --no-print-directory -s "$@"
}

# --- Debian layout: the exact file list -----------------------------------
D=$tmp/dest
mk install DESTDIR="$D" PREFIX=/usr

{
	for f in usr/bin/vmfit-bench usr/lib/vmfit/kv-hash \
		usr/lib/vmfit/kv-sqlite usr/sbin/vmfit-ctl \
		usr/sbin/vmfit-stall usr/sbin/vmfitd; do
		echo "$f 755"
	done
	for f in usr/lib/libvmfit.a usr/lib/pkgconfig/libvmfit.pc \
		usr/lib/systemd/system/vmfitd.service \
		usr/include/vmfit/uapi/linux/dm-vmfit.h \
		usr/share/doc/vmfit/README.md \
		usr/share/doc/vmfit/examples/vmfitd.conf \
		usr/share/man/man5/vmfitd.conf.5 \
		usr/share/man/man8/vmfit-ctl.8 \
		usr/share/man/man8/vmfit-stall.8 \
		usr/share/man/man8/vmfitd.8; do
		echo "$f 644"
	done
	# libvmfit's headers: all of them, whatever they are today.
	for h in userspace/lib/*.h; do
		echo "usr/include/vmfit/$(basename "$h") 644"
	done
} | LC_ALL=C sort >"$tmp/want"
(cd "$D" && find . ! -type d -printf '%P %m\n') | LC_ALL=C sort >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
	ok "make install PREFIX=/usr DESTDIR=...: $(wc -l <"$tmp/got") files, as expected"
else
	fail "installed files differ from the expected list (- expected, + installed):"
	sed 's/^/    /' "$tmp/diff" >&2
fi

# --- man pages --------------------------------------------------------------
for p in "$D"/usr/share/man/man*/*; do
	name=$(basename "$p")
	sec=${name##*.}
	name=${name%.*}
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$p" 2>"$tmp/man.err") ||
		{ fail "man -l $name.$sec: exit status $?"; continue; }
	if [ -s "$tmp/man.err" ]; then
		fail "man -l $name.$sec warns:"
		sed 's/^/    /' "$tmp/man.err" >&2
	elif ! grep -q "^${name^^}($sec)" <<<"$out" ||
		! grep -q '^NAME' <<<"$out"; then
		fail "man -l $name.$sec: no '${name^^}($sec)' header or NAME section"
	else
		ok "$name($sec) renders without warnings ($(wc -l <<<"$out") lines)"
	fi
done

# --- programs ---------------------------------------------------------------
for p in "$D"/usr/sbin/* "$D"/usr/bin/* "$D"/usr/lib/vmfit/*; do
	rc=0
	out=$("$p" --help 2>&1 </dev/null) || rc=$?
	if ((rc != 0)) || ! grep -qi '^usage:' <<<"$out"; then
		fail "${p#"$D"} --help: exit $rc, output: $(head -n 2 <<<"$out")"
	else
		ok "${p#"$D"} --help"
	fi
done

conf=$D/usr/share/doc/vmfit/examples/vmfitd.conf
if out=$("$D/usr/sbin/vmfitd" --check-config -c "$conf" 2>&1); then
	ok "example vmfitd.conf: $out"
else
	fail "example vmfitd.conf rejected: $out"
fi
replica=$(sed -n 's/^replica_cmd *= *\([^ ]*\).*/\1/p' "$conf")
[ "$replica" = /usr/lib/vmfit/kv-hash ] && [ -x "$D$replica" ] &&
	ok "example replica_cmd is the installed $replica" ||
	fail "example replica_cmd '$replica' is not the installed kv-hash"

# --- a local install (no DESTDIR): libvmfit and the systemd unit ------------
P=$tmp/prefix
mk install PREFIX="$P"

# Every installed header, in one program, against the installed archive.
{
	for h in "$P"/include/vmfit/*.h; do
		echo "#include <$(basename "$h")>"
	done
	cat <<'EOF'
#include <string.h>

/*
 * One call into each part that needs another library: libcrypto (SHA-256
 * of "abc" starts with 0xba; vf_csum), libnl, libdevmapper (no
 * device-mapper on this host: only linked and called), libkmod.
 */
int main(void)
{
	uint8_t d[VF_MERKLE_DIGEST_SIZE];

	if (vf_sha256("abc", 3, d) || d[0] != 0xba)
		return 1;
	if (strcmp(vf_csum_algo_name(VMFIT_CSUM_SHA256), "sha256") ||
	    !*vf_type_name(0xffff))
		return 1;
	(void)vf_nl_event_name(0);
	(void)vf_dm_driver_present();
	return vf_kmod_is_loaded() < 0 ? 1 : 0;
}
EOF
} >"$tmp/user.c"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
# shellcheck disable=SC2046
if gcc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags libvmfit) \
	-o "$tmp/user" "$tmp/user.c" $(pkg-config --libs libvmfit) \
	2>"$tmp/cc.err" && "$tmp/user"; then
	ok "a program using libvmfit builds with pkg-config and runs"
else
	fail "building against the installed libvmfit failed:"
	sed 's/^/    /' "$tmp/cc.err" >&2
fi

unit=$P/lib/systemd/system/vmfitd.service
grep -qx "ExecStart=$P/sbin/vmfitd -f" "$unit" &&
	grep -qx 'Type=notify' "$unit" &&
	grep -qx 'Restart=on-failure' "$unit" &&
	ok "unit: Type=notify, Restart=on-failure, ExecStart=$P/sbin/vmfitd -f" ||
	fail "unit lacks Type=notify, Restart=on-failure or the installed ExecStart"

# verify: exit 0 and no message at all (warnings such as an unknown key
# are printed with exit status 0). MANPATH: it checks Documentation=.
verify() { # unit-file
	MANPATH=$P/share/man systemd-analyze verify "$1" >"$tmp/verify.out" 2>&1 &&
		! [ -s "$tmp/verify.out" ]
}
if verify "$unit"; then
	ok "systemd-analyze verify accepts vmfitd.service"
else
	fail "systemd-analyze verify vmfitd.service:"
	sed 's/^/    /' "$tmp/verify.out" >&2
fi
mkdir -p "$tmp/bad"
sed "s|^ExecStart=.*|ExecStart=$P/sbin/no-such-vmfitd -f|" "$unit" \
	>"$tmp/bad/vmfitd.service"
verify "$tmp/bad/vmfitd.service" &&
	fail "systemd-analyze verify accepts an ExecStart that does not exist" ||
	ok "systemd-analyze verify rejects a missing ExecStart"
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$unit" >"$tmp/bad/vmfitd.service"
verify "$tmp/bad/vmfitd.service" &&
	fail "systemd-analyze verify is silent about an unknown key" ||
	ok "systemd-analyze verify reports an unknown key"

# Exposure 0.0 (locked down) .. 10.0 (unprotected); 5.0 is systemd's "OK".
if systemd-analyze security --offline=yes --threshold=50 "$unit" \
	>"$tmp/security.out" 2>&1; then
	ok "unit sandbox: $(grep -o 'Overall exposure level.*' "$tmp/security.out")"
else
	fail "unit sandbox exposure above 5.0:"
	grep -E '^✗|Overall' "$tmp/security.out" | sed 's/^/    /' >&2
fi

# --- uninstall --------------------------------------------------------------
mk uninstall DESTDIR="$D" PREFIX=/usr
mk uninstall PREFIX="$P"
left=$(find "$D" "$P" ! -type d -o -name '*vmfit*' -type d)
[ -z "$left" ] && ok "make uninstall removes every file and vmfit directory" ||
	fail "left after make uninstall: $left"

unit_done
