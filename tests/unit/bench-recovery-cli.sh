#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The recovery benchmark's MODE, VOLFS and RECOVERY_NICE
# (tools/bench/recovery/run) and vmtest's
# --env (which carries the benchmark's parameters into the VM): bad values
# are refused with a clear message before anything runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
fails=0

# expect RC TEXT CMD...: CMD must exit RC and print TEXT.
expect() {
	local want=$1 text=$2 out rc=0
	shift 2
	out=$(timeout 20 "$@" 2>&1) || rc=$?
	if ((rc != want)) || ! grep -qF -- "$text" <<<"$out"; then
		echo "FAIL: $*: rc $rc, want $want and '$text'; got: $out" >&2
		fails=$((fails + 1))
	else
		echo "ok: $* -> $text"
	fi
}

expect 1 "MODE must be host or vm, not 'qemu'" \
	env MODE=qemu tools/bench/recovery/run
expect 1 "MODE must be host or vm, not 'VM'" \
	env MODE=VM tools/bench/recovery/run
expect 1 "VOLFS must be xfs or dir, not 'zfs'" \
	env VOLFS=zfs tools/bench/recovery/run
for n in 20 -1 x; do
	expect 1 "RECOVERY_NICE must be 0..19, not '$n'" \
		env RECOVERY_NICE=$n tools/bench/recovery/run
done
for bad in NOEQUALS 1X=y =y "A-B=c"; do
	expect 2 "--env wants NAME=VALUE, not '$bad'" \
		tools/vmtest/vmtest run --results /nonexistent --env "$bad" x.sh
done
expect 2 "--env wants NAME=VALUE, not ''" \
	tools/vmtest/vmtest run --results /nonexistent --env
((fails == 0)) || exit 1
echo "bench-recovery-cli: ok"
