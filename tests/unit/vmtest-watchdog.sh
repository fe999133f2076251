#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM runner's host watchdog (tools/vmtest/vmtest): a guest that wedges
# (here: every process stopped, so the guest's own watchdog cannot fire)
# is killed by the host within its deadline, the wedged test fails with
# the console tail in its log, the test after it passes in a fresh boot,
# and the runner exits non-zero. Boots a VM twice without dm-vmfit
# (about a minute under TCG). Then --budget: a run whose budget is used up
# boots nothing and reports every test as not run.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
fails=0
not_grep() { ! grep -q "$@"; }
check() { # WHAT COMMAND...
	local what=$1
	shift
	"$@" || { echo "FAIL: $what" >&2; fails=$((fails + 1)); }
}

res=$(mktemp -d /tmp/vmtest-wd.XXXXXX)
trap 'rm -rf "$res"' EXIT

t0=$SECONDS
VMTEST_HOSTWD_SLACK=15 "$top/tools/vmtest/vmtest" run --no-module \
	--results "$res" --timeout 10 --boot-timeout 240 \
	"$top/tools/vmtest/selftest/wedge.sh" "$top/tools/vmtest/selftest/ok.sh" \
	>"$res/runner.out" 2>&1
rc=$?
took=$((SECONDS - t0))
sed 's/^/runner: /' "$res/runner.out"

check "runner exits non-zero after a wedged guest (rc $rc)" test "$rc" -ne 0
check "wedged test fails with 125" \
	test "$(cat "$res/wedge.rc" 2>/dev/null)" = 125
check "wedged test's log explains" \
	grep -q "stopped making progress during this test" "$res/wedge.log"
check "wedged test's log has the console tail" \
	grep -q "wedging the guest" "$res/wedge.log"
check "runner says what it waited for" \
	grep -q "no progress while waiting for test wedge to end" "$res/runner.out"
check "the next test passes" test "$(cat "$res/ok.rc" 2>/dev/null)" = 0
check "the next test ran in a fresh boot" \
	grep -q "vmtest-selftest-ok boot=2" "$res/ok.log"
# Killed at the host deadline (timeout 10 + slack 15), not at --vm-timeout.
check "killed at the host deadline, not the VM timeout (${took}s)" \
	test "$took" -le 240

rm -f "$res"/*.rc "$res"/*.log
"$top/tools/vmtest/vmtest" run --no-module --results "$res" --budget 1 \
	"$top/tools/vmtest/selftest/ok.sh" >"$res/budget.out" 2>&1
rc=$?
sed 's/^/runner: /' "$res/budget.out"
check "runner exits non-zero when the budget is used up (rc $rc)" test "$rc" -ne 0
check "the test is recorded as failed" test "$(cat "$res/ok.rc" 2>/dev/null)" = 1
check "its log says why" grep -q "not run: the time budget (--budget 1s) was used up" "$res/ok.log"
check "no boot happened" not_grep "booting for" "$res/budget.out"

# Bad values of the new options are refused before anything boots.
for opt in --budget --boot-timeout; do
	out=$("$top/tools/vmtest/vmtest" run --no-module --results "$res" "$opt" soon \
		"$top/tools/vmtest/selftest/ok.sh" 2>&1)
	rc=$?
	check "$opt soon: exit 2 (got $rc: $out)" test "$rc" = 2
	check "$opt soon: says why" grep -q "'soon' is not a number" <<<"$out"
done

((fails == 0)) || exit 1
echo "ok: wedged guest killed and the remaining test re-run in ${took}s; budget enforced"
