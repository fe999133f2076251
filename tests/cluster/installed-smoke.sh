#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# installed-smoke: the vmfitd-smoke scenario (3 hosts, verified replies,
# one manager killed) run by the INSTALLED programs: `make install
# PREFIX=/usr DESTDIR=<tmp>`, then tests/cluster/vmfitd-smoke.sh with
# VMFIT_BIN pointing at them. tests/lib/cluster.sh takes every program from
# the one directory VMFIT_BIN, while an install spreads them over sbin,
# bin and lib/vmfit: VMFIT_BIN is a directory of symbolic links to the
# installed files, and holds nothing else, so a program missing from the
# install fails the test instead of being taken from build/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."

T=$(mktemp -d /tmp/vmfit-installed-XXXXXX)
# The replica runs as an unprivileged user (replica_user): it must reach
# the installed kv-hash, and mktemp -d makes the directory 0700.
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
D=$T/dest
make --no-print-directory -s install DESTDIR="$D" PREFIX=/usr

mkdir "$T/bin"
for p in usr/sbin/vmfitd usr/sbin/vmfit-ctl usr/lib/vmfit/kv-hash usr/bin/vmfit-bench; do
	[ -x "$D/$p" ] || { echo "FAIL: make install did not install /$p" >&2; exit 1; }
	ln -s "$D/$p" "$T/bin/"
done

export VMFIT_BIN=$T/bin CL_NAME=installed-smoke
bash tests/cluster/vmfitd-smoke.sh "$@"

# The hosts' configurations name the installed replica (through the link).
conf=build/test-logs/cluster/$CL_NAME/h1/vmfitd.conf
grep -q "^replica_cmd = $T/bin/kv-hash " "$conf" ||
	{ echo "FAIL: $conf does not run $T/bin/kv-hash" >&2; exit 1; }
echo "installed-smoke: PASS with the programs of make install"
