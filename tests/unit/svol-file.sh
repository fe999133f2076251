#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The file stand-in of the recovery state volume passes the self-test of
# the semantics it shares with dm-vmfit (vmfit-svol selftest; the same
# self-test runs on a real dm-vmfit device in tests/kmod/svol-vmfit.sh),
# and vmfit-svol refuses bad usage.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bin=build/bin/vmfit-svol
need_built "$bin"

truncate -s 80K "$tmp/vol"
"$bin" file "$tmp/vol" selftest
# a volume too small for the self-test fails it
truncate -s 8K "$tmp/small"
if "$bin" file "$tmp/small" selftest 2>"$tmp/err"; then
	echo "FAIL: the self-test passed on a 2-chunk volume" >&2
	exit 1
fi
grep -q "need 16 chunks" "$tmp/err"
# bad usage: exit 2
for args in "lvm $tmp/vol geometry" "file $tmp/vol frobnicate" \
	"file $tmp/vol checksum --bogus" "file"; do
	rc=0
	# shellcheck disable=SC2086
	"$bin" $args 2>/dev/null || rc=$?
	[ "$rc" = 2 ] || { echo "FAIL: vmfit-svol $args: rc $rc, want 2" >&2; exit 1; }
done
# the vmfit kind without the module: a clean error, exit 1
rc=0
"$bin" vmfit vf-svol-none geometry 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || { echo "FAIL: vmfit kind without the module: rc $rc" >&2; exit 1; }
echo "svol-file: ok"
