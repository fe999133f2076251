#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kmod/ must build with W=1 and sparse (C=2) without a single warning.
# A deliberately bad module proves first that sparse runs and reports.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | tail -n 1)}
[ -d "$kdir" ] || { echo "FAIL: no kernel headers (run make deps)" >&2; exit 1; }
need_cmd sparse

# Self-test: a plain int used as a __le32 is a sparse warning.
cat >"$tmp/bad.c" <<'C'
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/module.h>
#include <linux/types.h>

static __le32 vmfit_bad(u32 x)
{
	return x;
}

static int __init bad_init(void)
{
	return vmfit_bad(1) ? 0 : 1;
}
module_init(bad_init);
MODULE_LICENSE("GPL");
C
echo 'obj-m := bad.o' >"$tmp/Kbuild"
out=$(make -s -C "$kdir" M="$tmp" C=2 modules 2>&1 || true)
grep -q "warning: incorrect type" <<<"$out" || {
	echo "FAIL: sparse self-test: no warning for a bad module:" >&2
	printf '%s\n' "$out" >&2
	exit 1
}

out=$(make -s -C "$kdir" M="$PWD" W=1 C=2 modules 2>&1) || {
	printf '%s\n' "$out" >&2
	echo "FAIL: module build failed" >&2
	exit 1
}
if grep -E "warning|error" <<<"$out" | grep -v "Skipping BTF"; then
	echo "FAIL: W=1 / sparse warnings in kmod/" >&2
	exit 1
fi
[ -f kmod/dm-vmfit.ko ] || { echo "FAIL: kmod/dm-vmfit.ko not built" >&2; exit 1; }
echo "sparse: kmod/ is clean at W=1 C=2"
