#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM runner's host watchdog (tools/vmtest/vmtest): a guest that wedges
# (here: every process stopped, so the guest's own watchdog cannot fire)
# is killed by the host within its deadline, the wedged test fails with
# the console tail in its log; a guest kernel that crashes fails its test
# with the kernel's first report (its stack) at the end of the test's log,
# where tests/run shows it; the test after them passes in a fresh boot,
# and the runner exits non-zero. Boots a VM three times without dm-vmfit
# (about a minute under TCG). Then --budget: a run whose budget is used up
# boots nothing and reports every test as not run.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"
not_grep() { ! grep -q "$@"; }

t0=$SECONDS
VMTEST_HOSTWD_SLACK=15 "$TOP/tools/vmtest/vmtest" run --no-module \
	--results "$tmp" --timeout 10 --boot-timeout 240 \
	"$TOP/tools/vmtest/selftest/wedge.sh" "$TOP/tools/vmtest/selftest/oops.sh" \
	"$TOP/tools/vmtest/selftest/ok.sh" \
	>"$tmp/runner.out" 2>&1
rc=$?
took=$((SECONDS - t0))
sed 's/^/runner: /' "$tmp/runner.out"

check "runner exits non-zero after a wedged guest (rc $rc)" test "$rc" -ne 0
check "wedged test fails with 125" \
	test "$(cat "$tmp/wedge.rc" 2>/dev/null)" = 125
check "wedged test's log explains" \
	grep -q "stopped making progress during this test" "$tmp/wedge.log"
check "wedged test's log has the console tail" \
	grep -q "wedging the guest" "$tmp/wedge.log"
check "runner says what it waited for" \
	grep -q "no progress while waiting for test wedge to end" "$tmp/runner.out"
check "crashed test fails with 125" \
	test "$(cat "$tmp/oops.rc" 2>/dev/null)" = 125
check "crashed test's log ends with the kernel's first report" \
	sh -c "sed -n '/^vmtest: the first kernel report/,\$p' '$tmp/oops.log' | grep -q 'sysrq triggered crash'"
check "that report has the crashing task's stack" \
	sh -c "sed -n '/^vmtest: the first kernel report/,\$p' '$tmp/oops.log' | grep -q 'Call Trace'"
check "the next test passes" test "$(cat "$tmp/ok.rc" 2>/dev/null)" = 0
check "the next test ran in a fresh boot" \
	grep -q "vmtest-selftest-ok boot=3" "$tmp/ok.log"
# Killed at the host deadline (timeout 10 + slack 15), not at --vm-timeout.
check "killed at the host deadline, not the VM timeout (${took}s)" \
	test "$took" -le 240

rm -f "$tmp"/*.rc "$tmp"/*.log
"$TOP/tools/vmtest/vmtest" run --no-module --results "$tmp" --budget 1 \
	"$TOP/tools/vmtest/selftest/ok.sh" >"$tmp/budget.out" 2>&1
rc=$?
sed 's/^/runner: /' "$tmp/budget.out"
check "runner exits non-zero when the budget is used up (rc $rc)" test "$rc" -ne 0
check "the test is recorded as failed" test "$(cat "$tmp/ok.rc" 2>/dev/null)" = 1
check "its log says why" grep -q "not run: the time budget (--budget 1s) was used up" "$tmp/ok.log"
check "no boot happened" not_grep "booting for" "$tmp/budget.out"

# Bad values of the new options are refused before anything boots.
for opt in --budget --boot-timeout; do
	out=$("$TOP/tools/vmtest/vmtest" run --no-module --results "$tmp" "$opt" soon \
		"$TOP/tools/vmtest/selftest/ok.sh" 2>&1)
	rc=$?
	check "$opt soon: exit 2 (got $rc: $out)" test "$rc" = 2
	check "$opt soon: says why" grep -q "'soon' is not a number" <<<"$out"
done

unit_done "wedged guest killed, crashed guest reported, and the remaining test re-run in ${took}s; budget enforced"
